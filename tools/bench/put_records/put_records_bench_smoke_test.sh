#!/usr/bin/env bash
# The benchmark runs in --quick mode, writes its JSON, and every figure is non-zero.
set -euo pipefail
bench="tools/bench/put_records/put_records_bench"
out="${TEST_TMPDIR}/bench.json"
"$bench" --quick --require_nonzero --json_out="$out" --work_dir="${TEST_TMPDIR}/work"
grep -q '"grpc_records_per_second"' "$out"
grep -q '"raw_records_per_second"' "$out"
echo "smoke OK: $(cat "$out")"
