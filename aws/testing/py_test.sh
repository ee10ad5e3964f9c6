#!/bin/bash
# Runs one Python test of aws/testing with Debian's interpreter (python3-boto3, awscli, cbor2).
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec /usr/bin/python3 "aws/testing/$1"
