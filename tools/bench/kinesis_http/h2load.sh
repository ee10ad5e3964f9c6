#!/usr/bin/env bash
# PutRecords on the AWS front door over HTTP/1.1 and over HTTP/2 (h2c, prior knowledge), side by
# side, measured in one run by one load generator nobody here wrote: h2load (Debian's
# nghttp2-client, installed by tools/setup.sh), which speaks both.
#   tools/bench/kinesis_http/h2load.sh [seconds per cell, default 10] [connections, default 8]
# Starts `tributary serve` (built -c opt) with the front door on a free 127.0.0.1 port, creates a
# stream of 4 shards, and for 100 B and 1 KiB records sends one pre-built, well-formed PutRecords
# call of 500 records (JSON, base64 data, random partition keys, a SigV4 Authorization the
# server accepts unverified) over and over: HTTP/1.1 with one request in flight a connection, then
# HTTP/2 with one and with 8 streams in flight a connection. Records/s = 2xx calls/s × 500.
set -euo pipefail
cd "$(dirname "$0")/../../.."
seconds="${1:-10}"
connections="${2:-8}"
command -v h2load >/dev/null || { echo "h2load.sh: h2load is missing (tools/setup.sh)" >&2; exit 1; }
bazel build -c opt --disk_cache="${HOME}/.cache/tributary/bazel-disk" //tools/tributary >&2
bin="$(bazel info -c opt bazel-bin 2>/dev/null)/tools/tributary/tributary"

work="$(mktemp -d)"
"$bin" serve --data_dir="$work/data" --listen=127.0.0.1:0 --aws_listen=127.0.0.1:0 \
  --aws_port_file="$work/port" 2>"$work/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do  # up to 10 s
  [[ -s "$work/port" ]] && break
  kill -0 "$pid" 2>/dev/null || { echo "h2load.sh: the server did not start" >&2; exit 1; }
  sleep 0.1
done
url="http://127.0.0.1:$(cat "$work/port")/"
headers=(
  -H "Authorization: AWS4-HMAC-SHA256 Credential=AKIDBENCH/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=$(printf '0%.0s' $(seq 64))"
  -H "X-Amz-Date: 20240101T000000Z"
  -H "Content-Type: application/x-amz-json-1.1"
)
curl -sf "${headers[@]}" -H "X-Amz-Target: Kinesis_20131202.CreateStream" \
  -d '{"StreamName":"bench","ShardCount":4}' "$url" >/dev/null

/usr/bin/python3 - "$work" <<'EOF'
import base64, json, os, random, sys
random.seed(1)
for size in (100, 1024):
    records = [{"Data": base64.b64encode(os.urandom(size)).decode(),
                "PartitionKey": "%016x" % random.getrandbits(64)} for _ in range(500)]
    with open(os.path.join(sys.argv[1], "body-%d.json" % size), "w") as f:
        json.dump({"StreamName": "bench", "Records": records}, f)
EOF

printf '%-8s %-22s %12s %14s %10s\n' size protocol calls/s records/s non-2xx
for size in 100 1024; do
  for mode in "HTTP/1.1:--h1 -m 1" "HTTP/2 (1 stream):-m 1" "HTTP/2 (8 streams):-m 8"; do
    name="${mode%%:*}"
    # shellcheck disable=SC2086
    h2load ${mode#*:} -c "$connections" -D "$seconds" --warm-up-time=1 \
      -d "$work/body-$size.json" "${headers[@]}" -H "X-Amz-Target: Kinesis_20131202.PutRecords" \
      "$url" >"$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
    rate="$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$work/out")"
    bad="$(sed -n 's/^status codes: [0-9]* 2xx, \([0-9]*\) 3xx, \([0-9]*\) 4xx, \([0-9]*\) 5xx.*/\1 \2 \3/p' "$work/out" |
      awk '{print $1 + $2 + $3}')"
    errored="$(sed -n 's/^requests: .* \([0-9]*\) errored.*/\1/p' "$work/out")"
    printf '%-8s %-22s %12.0f %14.0f %10s\n' "$size" "$name" "$rate" \
      "$(awk -v r="$rate" 'BEGIN {print r * 500}')" "$((bad + errored))"
  done
done
