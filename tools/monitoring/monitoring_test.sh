#!/bin/bash
# Runs monitoring_test.py with Debian's interpreter; promtool comes from Debian's prometheus
# package (tools/setup.sh).
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec /usr/bin/python3 tools/monitoring/monitoring_test.py
