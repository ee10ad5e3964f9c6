#!/usr/bin/env bash
# Runs every benchmark driver one after another (built -c opt), each writing its JSON and its
# log to OUT_DIR (default /tmp/tributary-bench-<time>), with the load average before each.
# This is the command behind the tables in BENCHMARKS.md:
#   tools/bench/run_all.sh [OUT_DIR]
# Takes about 10 minutes on 2 cores. Each driver is bounded by its own deadlines.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-/tmp/tributary-bench-$(date -u +%Y%m%dT%H%M%S)}"
mkdir -p "$out"
bazel=(bazel)
disk_cache="--disk_cache=${HOME}/.cache/tributary/bazel-disk"
targets=(
  //tools/bench/put_records:put_records_bench
  //tools/bench/latency:latency_bench
  //tools/bench/tables:tables_bench
  //tools/bench/delivery:delivery_bench
  //tools/bench/failover:failover_bench
  //tools/bench/scale:scale_bench
  //tools/bench/read:read_bench
  //tools/bench/leasing:lease_bench
  //tools/bench/micro:micro_bench
  //stream_tracker:lease_sync_bench
  //poller:poller_server
)
"${bazel[@]}" build -c opt "$disk_cache" "${targets[@]}"
bin="$("${bazel[@]}" info -c opt bazel-bin 2>/dev/null)"

run() {  # name, binary, args...
  local name="$1" binary="$2"
  shift 2
  echo "== $name: $(uptime)" | tee -a "$out/load.txt"
  # Drivers that start subprocesses find them through their runfiles directory.
  (cd "$bin/$binary.runfiles/tributary" && "$bin/$binary" "$@") >"$out/$name.out" 2>"$out/$name.log" ||
    echo "!! $name exited $?" | tee -a "$out/load.txt"
  tail -n 30 "$out/$name.out"
}

run put_records tools/bench/put_records/put_records_bench --json_out="$out/put_records.json"
run latency tools/bench/latency/latency_bench --json_out="$out/latency.json"
run tables tools/bench/tables/tables_bench --json_out="$out/tables.json"
run delivery tools/bench/delivery/delivery_bench --records=400000 --json_out="$out/delivery.json"
run failover tools/bench/failover/failover_bench --json_out="$out/failover.json"
run scale tools/bench/scale/scale_bench --shard_counts=1,100,1000,10000 --json_out="$out/scale.json"
run read tools/bench/read/read_bench --json_out="$out/read.json"
run lease tools/bench/leasing/lease_bench
run micro tools/bench/micro/micro_bench --benchmark_out="$out/micro.json" \
  --benchmark_out_format=json
rm -rf "$out/lease_sync"
run lease_sync stream_tracker/lease_sync_bench --mappings=1 --shards=9999 --dir="$out/lease_sync"
rm -rf "$out/lease_sync"
echo "== kinesis_http: $(uptime)" | tee -a "$out/load.txt"
tools/bench/kinesis_http/run.sh --json_out="$out/kinesis_http.json" >"$out/kinesis_http.out" \
  2>"$out/kinesis_http.log" || echo "!! kinesis_http exited $?" | tee -a "$out/load.txt"
tail -n 30 "$out/kinesis_http.out"
echo "results in $out"
