#!/usr/bin/env bash
# Installs what Tributary needs to build and test on Debian 12, using apt only.
# Idempotent: when every package is present it only checks and returns in about a second.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap
  build-essential
  clang
  libgrpc++-dev
  libgrpc-dev
  protobuf-compiler-grpc
  protobuf-compiler
  libprotobuf-dev
  librocksdb-dev
  libabsl-dev
  libgoogle-glog-dev
  libgflags-dev
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  libssl-dev
  python3-grpcio
  python3-grpc-tools
  python3-protobuf
  rapidjson-dev
  libboost-dev
  libcbor-dev
  libnghttp2-dev
  zlib1g-dev
  python3-boto3
  python3-cbor2
  awscli
  python3-h2
  nghttp2-client
  curl
  # Cluster mode (issue 19): the etcd server and etcdctl for tests, and etcd's .proto files
  # (golang-etcd-server-dev; it pulls in the gogo and googleapis protos they import) for the
  # C++ stubs in etcd/.
  etcd-server
  etcd-client
  golang-etcd-server-dev
  nodejs
  # Cluster mode (issue 20): the shard log on NATS JetStream — nats-server for tests, the C client.
  nats-server
  libnats-dev
  # Metrics (issue 24): `promtool check metrics` over every service's /metrics in the tests.
  # Debian ships promtool only inside the prometheus package; its daemon is not started (below).
  prometheus
  # The web console (issue 24): its test loads the page in headless Chromium and reads the DOM.
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  # Setup installs tools, it starts no services: a policy-rc.d that answers 101 ("action
  # forbidden") keeps maintainer scripts (prometheus's, etcd's, nats-server's) from starting their daemons.
  # Only when no policy is in place already, and removed afterwards.
  policy_added=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    policy_added=1
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [[ -n "$policy_added" ]]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
fi
