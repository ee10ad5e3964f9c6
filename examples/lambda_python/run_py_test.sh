#!/bin/bash
# Runs a Python test of this folder with Debian's interpreter (python3-grpcio for the end-to-end
# test).
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec /usr/bin/python3 "examples/lambda_python/$1"
