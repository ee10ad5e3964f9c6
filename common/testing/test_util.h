// Test helpers shared by every folder's tests: hermetic temporary directories,
// runfiles paths, seeded randomness, and child processes for kill -9 tests.
#ifndef TRIBUTARY_COMMON_TESTING_TEST_UTIL_H_
#define TRIBUTARY_COMMON_TESTING_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/process.h"

namespace tributary::testing {

// A new empty directory under $TEST_TMPDIR (or /tmp), unique per call.
std::string NewTempDir(const std::string& prefix = "tributary");

// The path of a file built by Bazel in this workspace, for a test that lists it
// in `data`, e.g. RunfilePath("shard_store/shard_store_server").
std::string RunfilePath(const std::string& workspace_relative_path);

// A seed for test randomness: $TRIBUTARY_TEST_SEED when set, else a fixed
// default. Tests print the seed they use (so a failure can be replayed).
uint64_t TestSeed();

// A TCP port on 127.0.0.1 that was free a moment ago, for servers whose ports must be known
// before they start (etcd and NATS clusters: every member's peer address is in every member's
// flags). Another process may take it in between: callers retry their start with new ports.
// Errors: UNAVAILABLE when no port could be bound.
absl::StatusOr<int> PickFreePort();

// The last `bytes` bytes of the file at `path` (all of it when shorter; "" when unreadable): a
// server's log for a failure message.
std::string FileTail(const std::string& path, size_t bytes);

// Process control lives in common/process.h (the demo uses it too); these names keep tests short.
using ::tributary::Subprocess;
using ::tributary::WaitForPortFile;
using ::tributary::WaitForServing;

}  // namespace tributary::testing

#endif  // TRIBUTARY_COMMON_TESTING_TEST_UTIL_H_
