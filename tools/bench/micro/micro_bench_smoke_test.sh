#!/usr/bin/env bash
# Every micro-benchmark runs briefly and reports a non-zero items_per_second (no timing
# assertions); a benchmark that skipped with an error fails the test.
set -euo pipefail
out="${TEST_TMPDIR}/micro.json"
"$1" --benchmark_min_time=0.01 --benchmark_format=json --benchmark_out="$out" >/dev/null
runs=$(grep -c '"run_type": "iteration"' "$out")
rates=$(grep -Ec '"items_per_second": [1-9]' "$out")
errors=$(grep -c '"error_occurred": true' "$out" || true)
echo "benchmarks run: $runs, with a non-zero rate: $rates, errors: $errors"
[[ "$runs" -ge 10 && "$rates" -eq "$runs" && "$errors" -eq 0 ]]
