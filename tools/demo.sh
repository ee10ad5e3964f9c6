#!/usr/bin/env bash
# The README's first command: installs what is missing (apt), builds, and runs the demo on the
# embedded default (every service in one process over a temporary RocksDB directory, a demo
# producer and an example function). Everything it starts, it stops.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
disk_cache="${HOME}/.cache/tributary/bazel-disk"
mkdir -p "$disk_cache"
bazel build --disk_cache="$disk_cache" //:tributary //:tribctl //tools/demo:demo_scenario \
  //examples/cpp:example_function

exec bazel-bin/tools/demo/demo_scenario \
  --tributary_binary=bazel-bin/tools/tributary/tributary \
  --function_binary=bazel-bin/examples/cpp/example_function "$@"
