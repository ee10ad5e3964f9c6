#include "common/testing/test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_server.h"
#include "grpcpp/grpcpp.h"

namespace tributary::testing {

std::string NewTempDir(const std::string& prefix) {
  const char* root = getenv("TEST_TMPDIR");
  std::string pattern = absl::StrCat(root != nullptr ? root : "/tmp", "/", prefix, "-XXXXXX");
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  char* dir = mkdtemp(buf.data());
  if (dir == nullptr) {
    fprintf(stderr, "mkdtemp %s: %s\n", pattern.c_str(), strerror(errno));
    abort();
  }
  return dir;
}

std::string RunfilePath(const std::string& workspace_relative_path) {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* workspace = getenv("TEST_WORKSPACE");
  if (srcdir == nullptr) return workspace_relative_path;
  return absl::StrCat(srcdir, "/", workspace != nullptr ? workspace : "tributary", "/",
                      workspace_relative_path);
}

uint64_t TestSeed() {
  const char* env = getenv("TRIBUTARY_TEST_SEED");
  uint64_t seed = 0;
  if (env != nullptr && absl::SimpleAtoi(env, &seed)) return seed;
  return 20261127;
}

}  // namespace tributary::testing
