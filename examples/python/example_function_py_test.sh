#!/bin/bash
# Runs a Python test of this folder (default: the example function's) with Debian's interpreter
# (python3-grpcio).
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec /usr/bin/python3 "examples/python/${1:-example_function_py_test.py}"
