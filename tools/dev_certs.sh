#!/usr/bin/env bash
# Development certificates for Tributary's TLS (README "Securing Tributary"; the tests run it in
# $TEST_TMPDIR). Never use them in production: the CA key sits next to the certificates.
#
#   tools/dev_certs.sh DIR [PRINCIPAL...]
#
# makes, in DIR (created if missing):
#   ca.pem, ca.key                 a self-signed CA (kept and reused when DIR already has one, so
#                                  a second run adds principals under the same CA)
#   server.pem, server.key         a server certificate for localhost, 127.0.0.1 and ::1 (plus the
#                                  names and addresses in $TRIBUTARY_CERT_HOSTS, comma-separated),
#                                  signed by the CA; remade on every run
#   client-NAME.pem, client-NAME.key   one client certificate per PRINCIPAL, subject CN=NAME
#                                  (the principal the servers see: "CN=NAME"), signed by the CA
# Keys are P-256 (EC) and written 0600; certificates are valid for $TRIBUTARY_CERT_DAYS days
# (default 365). A principal is letters, digits, '.', '_' and '-'. Prints nothing on success.
set -euo pipefail

usage() { echo "usage: $0 DIR [PRINCIPAL...]" >&2; exit 2; }
(($# >= 1)) || usage
dir=$1
shift
days=${TRIBUTARY_CERT_DAYS:-365}
[[ "$days" =~ ^[0-9]+$ ]] || { echo "TRIBUTARY_CERT_DAYS must be a number of days" >&2; exit 2; }
for name in "$@"; do
  [[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || {
    echo "principal \"$name\": use letters, digits, '.', '_' and '-'" >&2
    exit 2
  }
done
command -v openssl >/dev/null || { echo "openssl not found (apt-get install openssl)" >&2; exit 1; }

mkdir -p "$dir"
umask 077
tmp=$(mktemp -d "$dir/.dev_certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# sign NAME SUBJECT EXTENSIONS: DIR/NAME.key and DIR/NAME.pem signed by the CA.
sign() {
  local name=$1 subject=$2 extensions=$3
  new_key "$tmp/$name.key"
  openssl req -new -key "$tmp/$name.key" -subj "$subject" -out "$tmp/$name.csr" 2>/dev/null
  printf '%s\n' "$extensions" >"$tmp/$name.ext"
  openssl x509 -req -in "$tmp/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -CAserial "$tmp/ca.srl" -days "$days" -sha256 \
    -extfile "$tmp/$name.ext" -out "$tmp/$name.pem" 2>/dev/null
  chmod 644 "$tmp/$name.pem"
  # Certificate first, key second, each by rename: a server watching the pair never reads a
  # half-written file.
  mv -f "$tmp/$name.pem" "$dir/$name.pem"
  mv -f "$tmp/$name.key" "$dir/$name.key"
}

if [[ ! -f "$dir/ca.pem" || ! -f "$dir/ca.key" ]]; then
  new_key "$tmp/ca.key"
  openssl req -x509 -new -key "$tmp/ca.key" -subj "/O=Tributary/CN=Tributary development CA" \
    -days "$days" -sha256 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$tmp/ca.pem" 2>/dev/null
  chmod 644 "$tmp/ca.pem"
  mv -f "$tmp/ca.key" "$dir/ca.key"
  mv -f "$tmp/ca.pem" "$dir/ca.pem"
fi

san="DNS:localhost,IP:127.0.0.1,IP:::1"
IFS=',' read -r -a extra <<<"${TRIBUTARY_CERT_HOSTS:-}"
for host in "${extra[@]}"; do
  [[ -z "$host" ]] && continue
  if [[ "$host" =~ ^[0-9.]+$ || "$host" == *:* ]]; then san+=",IP:$host"; else san+=",DNS:$host"; fi
done
sign server "/O=Tributary/CN=localhost" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san"

for name in "$@"; do
  sign "client-$name" "/CN=$name" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
done
