#!/usr/bin/env bash
# PutRecords over HTTP: Tributary's AWS front door next to our gRPC API and kinesalite (the
# Kinesis emulator, npm `kinesalite`), all measured by one load generator in one run:
#   tools/bench/kinesis_http/run.sh [kinesis_http_bench flags...]
# Installs kinesalite 3.3.3 with npm into ~/.cache/tributary/kinesalite when it is missing (Node.js
# and npm come from tools/setup.sh's packages), starts it in memory on a free 127.0.0.1 port, runs
# kinesis_http_bench (built -c opt) against it, and stops it.
set -euo pipefail
cd "$(dirname "$0")/../../.."
kinesalite_dir="${HOME}/.cache/tributary/kinesalite"
if [[ ! -f "$kinesalite_dir/node_modules/kinesalite/index.js" ]]; then
  command -v npm >/dev/null || { echo "run.sh: npm is missing (apt-get install nodejs npm)" >&2; exit 1; }
  mkdir -p "$kinesalite_dir"
  (cd "$kinesalite_dir" && npm install --no-audit --no-fund kinesalite@3.3.3 >&2)
fi
bazel build -c opt --disk_cache="${HOME}/.cache/tributary/bazel-disk" \
  //tools/bench/kinesis_http:kinesis_http_bench >&2
bin="$(bazel info -c opt bazel-bin 2>/dev/null)"

port_file="$(mktemp)"
# kinesalite's own CLI listens on every interface and cannot take port 0: start its server
# ourselves on loopback, in memory, with streams ACTIVE at once.
node -e "
  require('$kinesalite_dir/node_modules/kinesalite')({createStreamMs: 0})
    .listen(0, '127.0.0.1', function () {
      require('fs').writeFileSync('$port_file', String(this.address().port));
    });" &
kinesalite_pid=$!
trap 'kill $kinesalite_pid 2>/dev/null || true; rm -f "$port_file"' EXIT
for _ in $(seq 1 100); do  # up to 10 s
  [[ -s "$port_file" ]] && break
  kill -0 "$kinesalite_pid" 2>/dev/null || { echo "run.sh: kinesalite did not start" >&2; exit 1; }
  sleep 0.1
done
[[ -s "$port_file" ]] || { echo "run.sh: kinesalite wrote no port" >&2; exit 1; }
"$bin/tools/bench/kinesis_http/kinesis_http_bench" \
  --kinesalite_endpoint="127.0.0.1:$(cat "$port_file")" "$@"
