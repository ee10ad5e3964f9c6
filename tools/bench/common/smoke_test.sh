#!/usr/bin/env bash
# The driver (first argument) runs in --quick mode, writes its JSON, and reports non-zero figures
# (--require_nonzero makes it exit 1 otherwise). No timing assertions.
set -euo pipefail
bench="$1"
shift
out="${TEST_TMPDIR}/bench.json"
"$bench" --quick --require_nonzero --json_out="$out" --work_dir="${TEST_TMPDIR}/work" "$@"
grep -q '"rows": \[{' "$out"
echo "smoke OK: $(cat "$out")"
