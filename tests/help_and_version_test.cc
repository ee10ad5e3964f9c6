// Every binary an operator runs answers --version with the one version constant
// (common/version.h) and --help with a short usage of Tributary's own flags, both with exit 0:
// `tributary`, tribctl, each server, and the example functions (C++ and Python). And the glog
// flags that --help mentions work: --log_dir puts the logs in files there.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/testing/test_util.h"
#include "common/version.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

struct Binary {
  std::string name;        // what --version prints first
  std::string path;        // runfiles path; for Python, the script run by /usr/bin/python3
  bool python;
  std::string own_flag;    // a flag of its own that --help lists
};

std::ostream& operator<<(std::ostream& os, const Binary& b) { return os << b.name; }

struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs the binary with `arg`; its output goes to a file, read after it exits.
Outcome RunWith(const Binary& b, const std::string& arg) {
  static int n = 0;
  const std::string log = absl::StrCat(testing::NewTempDir("help_version"), "/out", ++n);
  auto process = b.python ? testing::Subprocess::Start(
                                "/usr/bin/python3", {testing::RunfilePath(b.path), arg}, log)
                          : testing::Subprocess::Start(testing::RunfilePath(b.path), {arg}, log);
  Outcome run;
  if (!process.ok()) {
    run.output = process.status().ToString();
    return run;
  }
  auto status = process->Wait(absl::Seconds(60));
  if (!status.ok()) {
    run.output = status.status().ToString();
    return run;
  }
  if (WIFEXITED(*status)) run.exit_code = WEXITSTATUS(*status);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  run.output = text.str();
  return run;
}

class HelpAndVersionTest : public ::testing::TestWithParam<Binary> {};

TEST_P(HelpAndVersionTest, VersionPrintsTheVersionConstantAndExitsZero) {
  const Outcome run = RunWith(GetParam(), "--version");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, absl::StrCat(GetParam().name, " ", kVersion, "\n"));
}

TEST_P(HelpAndVersionTest, HelpIsShortListsOwnFlagsOnlyAndExitsZero) {
  const Outcome run = RunWith(GetParam(), "--help");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "usage:")) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "--" + GetParam().own_flag)) << run.output;
  // Not the flags of the libraries linked in: glog's, gflags', RocksDB's tools'.
  for (const char* foreign : {"alsologtoemail", "logbufsecs", "tryfromenv", "Flags from",
                              "block_cache_trace", "analyze_get"}) {
    EXPECT_FALSE(absl::StrContains(run.output, foreign)) << foreign << "\n" << run.output;
  }
  const size_t lines = std::vector<std::string>(absl::StrSplit(run.output, '\n')).size();
  EXPECT_LT(lines, 120u) << run.output;
}

INSTANTIATE_TEST_SUITE_P(
    EveryBinary, HelpAndVersionTest,
    ::testing::Values(
        Binary{"tributary", "tools/tributary/tributary", false, "data_dir"},
        Binary{"tribctl", "tools/tribctl/tribctl", false, "endpoint"},
        Binary{"shard_store_server", "shard_store/shard_store_server", false, "data_dir"},
        Binary{"leasing_server", "leasing/leasing_server", false, "coordination"},
        Binary{"stream_tracker_server", "stream_tracker/stream_tracker_server", false,
               "shard_store"},
        Binary{"poller_server", "poller/poller_server", false, "poller_id"},
        Binary{"example_function", "examples/cpp/example_function", false, "fail_rate"},
        Binary{"example_function.py", "examples/python/example_function.py", true,
               "fail_rate"}),
    [](const ::testing::TestParamInfo<Binary>& info) {
      std::string name = info.param.name;
      for (char& c : name) {
        if (c == '.') c = '_';
      }
      return name;
    });

// --log_dir is honoured: the server logs into glog's files there instead of stderr.
TEST(ServerLoggingTest, LogDirWritesGlogFilesThere) {
  const std::string dir = testing::NewTempDir("log_dir");
  const std::string logs = dir + "/logs";
  ASSERT_EQ(mkdir(logs.c_str(), 0755), 0);
  auto server = testing::Subprocess::Start(
      testing::RunfilePath("examples/cpp/example_function"),
      {"--listen=127.0.0.1:0", "--port_file=" + dir + "/port", "--log_dir=" + logs},
      dir + "/stderr");
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(testing::WaitForPortFile(dir + "/port").ok());
  ASSERT_EQ(::kill(server->pid(), SIGTERM), 0);
  ASSERT_TRUE(server->Wait(absl::Seconds(60)).ok());
  std::ifstream info(logs + "/example_function.INFO");  // glog's link to the newest file
  std::stringstream text;
  text << info.rdbuf();
  EXPECT_TRUE(absl::StrContains(text.str(), "example_function serving on")) << text.str();
  std::ifstream err(dir + "/stderr");
  std::stringstream stderr_text;
  stderr_text << err.rdbuf();
  EXPECT_FALSE(absl::StrContains(stderr_text.str(), "serving on")) << stderr_text.str();
}

}  // namespace
}  // namespace tributary
