#!/bin/bash
# Runs packaging_test.py with Debian's interpreter (systemd-analyze, ldd and dpkg are Debian's).
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec /usr/bin/python3 tools/packaging/packaging_test.py
