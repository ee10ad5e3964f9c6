#!/bin/bash
# Runs the Python example function's test with Debian's interpreter (python3-grpcio).
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec /usr/bin/python3 examples/python/example_function_py_test.py
