#!/ usr / bin / env bash
#The driver runs in-- quick mode, writes its JSON, and reports non - zero figures.
set - euo pipefail bench = "$1" shift out =
    "${TEST_TMPDIR}/bench.json"
    "$bench" --quick-- require_nonzero-- json_out = "$out" --work_dir =
        "${TEST_TMPDIR}/work"
        "$@" grep -
        q '"rows": \[{' "$out" echo "smoke OK: $(cat " $out ")"
