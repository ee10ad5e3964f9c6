#include "common/metrics/promtool.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace tributary::metrics {

::testing::AssertionResult PromtoolCheckMetrics(const std::string& text) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  static int n = 0;
  const std::string path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/promtool_input_", ++n);
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  const std::string command = absl::StrCat("promtool check metrics < '", path, "' 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return ::testing::AssertionFailure() << "cannot run promtool";
  std::string output;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, got);
  const int status = pclose(pipe);
  if (status != 0 || !output.empty()) {
    return ::testing::AssertionFailure() << "promtool check metrics (exit status " << status
                                         << "):\n" << output << "\n--- over ---\n" << text;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace tributary::metrics
