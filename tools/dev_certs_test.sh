#!/usr/bin/env bash
# tools/dev_certs.sh as its header promises: a CA, a server certificate for 127.0.0.1 and
# localhost, a client certificate per principal (subject CN=NAME), keys 0600, the CA reused on a
# second run, a bad principal refused.
set -euo pipefail
script="$TEST_SRCDIR/$TEST_WORKSPACE/tools/dev_certs.sh"
dir="$TEST_TMPDIR/certs"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$script" "$dir" alice poller-1
for f in ca server client-alice client-poller-1; do
  [[ -s "$dir/$f.pem" && -s "$dir/$f.key" ]] || fail "$f.pem / $f.key missing"
  [[ "$(stat -c %a "$dir/$f.key")" == 600 ]] || fail "$f.key is not 0600"
done
openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" "$dir/client-alice.pem" \
  "$dir/client-poller-1.pem" >/dev/null || fail "a certificate does not verify against the CA"
san=$(openssl x509 -in "$dir/server.pem" -noout -ext subjectAltName)
[[ "$san" == *"DNS:localhost"* && "$san" == *"IP Address:127.0.0.1"* ]] || fail "server SAN: $san"
subject=$(openssl x509 -in "$dir/client-alice.pem" -noout -subject -nameopt RFC2253)
[[ "$subject" == "subject=CN=alice" ]] || fail "client subject: $subject"
openssl x509 -in "$dir/client-alice.pem" -noout -ext extendedKeyUsage | grep -q "TLS Web Client" ||
  fail "client certificate is not for client authentication"

# A second run keeps the CA: the first run's client certificate still verifies.
ca_before=$(sha256sum <"$dir/ca.pem")
TRIBUTARY_CERT_HOSTS="tributary.example,10.1.2.3" "$script" "$dir" bob
[[ "$(sha256sum <"$dir/ca.pem")" == "$ca_before" ]] || fail "the CA was remade"
openssl verify -CAfile "$dir/ca.pem" "$dir/client-alice.pem" "$dir/client-bob.pem" >/dev/null ||
  fail "certificates of two runs do not share the CA"
san=$(openssl x509 -in "$dir/server.pem" -noout -ext subjectAltName)
[[ "$san" == *"DNS:tributary.example"* && "$san" == *"IP Address:10.1.2.3"* ]] ||
  fail "TRIBUTARY_CERT_HOSTS not in the SAN: $san"

# Another directory is another CA: its certificates do not verify against the first.
"$script" "$TEST_TMPDIR/other" mallory
if openssl verify -CAfile "$dir/ca.pem" "$TEST_TMPDIR/other/client-mallory.pem" >/dev/null 2>&1; then
  fail "a certificate of another CA verified"
fi

# A principal that could not be a file name or a plain CN is refused.
status=0
"$script" "$dir" "a/b" 2>/dev/null || status=$?
[[ $status == 2 ]] || fail "principal a/b: exit $status, want 2"
echo PASS
