#!/bin/bash
# Runs the Node.js runtime's tests (node:test: a failing case makes the exit status non-zero).
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec node examples/lambda_node/runtime_test.js
