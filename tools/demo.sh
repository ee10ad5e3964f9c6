#!/usr/bin/env bash
# The README's first command: installs what is missing (apt), builds, and runs the demo on the
# embedded default (every service in one process over a temporary RocksDB directory, a demo
# producer and an example function). Everything it starts, it stops.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
disk_cache="${HOME}/.cache/tributary/bazel-disk"
mkdir -p "$disk_cache"
bazel build --disk_cache="$disk_cache" //...

if [[ -x bazel-bin/tools/demo_scenario ]]; then
  exec bazel-bin/tools/demo_scenario "$@"
fi
echo "demo: built every target. The all-in-one binary and the demo scenario are not built yet;"
echo "demo: see 'issues' (the all-in-one/demo issue). Run the tests with tools/test.sh."
