#!/bin/bash
# Runs console_browser_test.py with Debian's interpreter; Chromium is Debian's (tools/setup.sh).
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec /usr/bin/python3 tools/console/console_browser_test.py
