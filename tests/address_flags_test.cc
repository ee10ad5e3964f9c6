// Every server binary refuses a bad address flag at start: it exits with status 2 and a message
// naming the flag, before it opens its data directory or writes its port file. Until issue 14,
// --listen=127.0.0.1:99999 served on port 34463 (gRPC wraps the port modulo 65536), and a bad
// client address (--shard_store=...) was dialled anyway. One case a binary and flag kind; each
// starts the real binary.
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

using ::testing::HasSubstr;

struct Case {
  std::string name;
  std::string binary;  // workspace-relative
  std::vector<std::string> args;
  std::string expected;  // a part of the message
  bool has_data_dir = true;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// A refusal takes milliseconds; the guard only bounds a binary that starts serving instead.
constexpr absl::Duration kExitGuard = absl::Seconds(20);

class AddressFlagsTest : public ::testing::TestWithParam<Case> {};

TEST_P(AddressFlagsTest, ExitsWithAMessageNamingTheFlagBeforeServing) {
  const Case& c = GetParam();
  const std::string dir = testing::NewTempDir("address-flags");
  const std::string data_dir = dir + "/data";
  const std::string port_file = dir + "/port";
  std::vector<std::string> args = c.args;
  args.push_back("--port_file=" + port_file);
  if (c.has_data_dir) args.push_back("--data_dir=" + data_dir);
  const std::string log = dir + "/log.txt";
  auto process = testing::Subprocess::Start(testing::RunfilePath(c.binary), args, log);
  ASSERT_TRUE(process.ok()) << process.status();

  absl::StatusOr<int> status = process->Wait(kExitGuard);
  if (!status.ok()) process->Kill(SIGKILL);
  std::stringstream text;
  text << std::ifstream(log).rdbuf();
  ASSERT_TRUE(status.ok()) << c.binary << " did not exit; its log:\n" << text.str();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2)
      << "wait status " << *status << "; log:\n"
      << text.str();
  EXPECT_THAT(text.str(), HasSubstr(c.expected));
  EXPECT_FALSE(std::filesystem::exists(port_file)) << "it bound a port";
  EXPECT_FALSE(std::filesystem::exists(data_dir)) << "it opened its data directory first";
}

const char kOutOfRange[] = "=\"127.0.0.1:99999\": port 99999 is out of range 0-65535";

INSTANTIATE_TEST_SUITE_P(
    Binaries, AddressFlagsTest,
    ::testing::Values(Case{"ShardStoreListen",
                           "shard_store/shard_store_server",
                           {"--listen=127.0.0.1:99999"},
                           absl::StrCat("--listen", kOutOfRange)},
                      Case{"LeasingListen",
                           "leasing/leasing_server",
                           {"--listen=127.0.0.1:99999"},
                           absl::StrCat("--listen", kOutOfRange)},
                      Case{"StreamTrackerListen",
                           "stream_tracker/stream_tracker_server",
                           {"--listen=127.0.0.1:99999"},
                           absl::StrCat("--listen", kOutOfRange)},
                      Case{"StreamTrackerShardStore",
                           "stream_tracker/stream_tracker_server",
                           {"--listen=127.0.0.1:0", "--shard_store=127.0.0.1:99999"},
                           "--shard_store=\"127.0.0.1:99999\": port 99999 is out of range 1-65535"},
                      Case{"StreamTrackerLeasing",
                           "stream_tracker/stream_tracker_server",
                           {"--listen=127.0.0.1:0", "--leasing=127.0.0.1:45x"},
                           "--leasing=\"127.0.0.1:45x\": port \"45x\" is not a decimal number"},
                      Case{"PollerListen",
                           "poller/poller_server",
                           {"--listen=127.0.0.1:99999", "--metrics_listen="},
                           absl::StrCat("--listen", kOutOfRange),
                           false},
                      Case{"PollerStreamTracker",
                           "poller/poller_server",
                           {"--listen=127.0.0.1:0",
                            "--metrics_listen=", "--stream_tracker=127.0.0.1"},
                           "--stream_tracker=\"127.0.0.1\": no port",
                           false},
                      Case{"PollerMetricsListen",
                           "poller/poller_server",
                           {"--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:99999"},
                           absl::StrCat("--metrics_listen", kOutOfRange),
                           false},
                      Case{"TributaryServeListen",
                           "tools/tributary/tributary",
                           {"serve", "--listen=127.0.0.1:99999"},
                           absl::StrCat("--listen", kOutOfRange)},
                      Case{"TributaryServeMetricsListen",
                           "tools/tributary/tributary",
                           {"serve", "--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:99999"},
                           absl::StrCat("--metrics_listen", kOutOfRange)},
                      Case{"ShardStoreAwsListen",
                           "shard_store/shard_store_server",
                           {"--listen=127.0.0.1:0", "--aws_listen=127.0.0.1:99999"},
                           absl::StrCat("--aws_listen", kOutOfRange)},
                      Case{"TributaryServeAwsListen",
                           "tools/tributary/tributary",
                           {"serve", "--listen=127.0.0.1:0", "--aws_listen=127.0.0.1:99999"},
                           absl::StrCat("--aws_listen", kOutOfRange)},
                      Case{"ExampleFunctionListen",
                           "examples/cpp/example_function",
                           {"--listen=127.0.0.1:99999"},
                           absl::StrCat("--listen", kOutOfRange),
                           false}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace tributary
