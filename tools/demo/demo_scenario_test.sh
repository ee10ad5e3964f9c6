#!/usr/bin/env bash
# Runs the demo scenario (smaller) and checks its own verdict and summary lines.
set -euo pipefail
root="${TEST_SRCDIR}/${TEST_WORKSPACE:-tributary}"
out="${TEST_TMPDIR}/demo.out"
"${root}/tools/demo/demo_scenario" \
  --tributary_binary="${root}/tools/tributary/tributary" \
  --function_binary="${root}/examples/cpp/example_function" \
  --records=2000 --poison_every=700 --work_dir="${TEST_TMPDIR}/work" | tee "${out}"
grep -q "in order per shard" "${out}"
grep -q "3 failure record(s) in demo-orders-failures for 3 poison record(s)" "${out}"
grep -q "iterator age 0 ms on every shard" "${out}"
grep -q "demo: OK" "${out}"
