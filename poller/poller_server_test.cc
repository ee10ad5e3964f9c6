// The poller_server binary: flags and wiring. It serves tributary.v1.Pollers and GET /metrics
// even while the services it depends on are unreachable, and exits cleanly on SIGTERM.
#include <signal.h>
#include <sys/wait.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "common/metrics/promtool.h"
#include "common/testing/http_get.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "proto/poller.grpc.pb.h"

namespace tributary::poller {
namespace {

TEST(PollerServerTest, ServesMetricsOverGrpcAndHttpAndStopsOnSigterm) {
  const std::string dir = testing::NewTempDir("poller_server");
  const std::string port_file = dir + "/port";
  const std::string metrics_port_file = dir + "/metrics_port";
  // Nothing listens on port 1: the poller keeps retrying registration in the background.
  auto server = testing::Subprocess::Start(
      testing::RunfilePath("poller/poller_server"),
      {"--listen=127.0.0.1:0", "--port_file=" + port_file, "--metrics_listen=127.0.0.1:0",
       "--metrics_port_file=" + metrics_port_file, "--poller_id=test-poller", "--capacity=3",
       "--shard_store=127.0.0.1:1", "--leasing=127.0.0.1:1", "--stream_tracker=127.0.0.1:1"},
      dir + "/log");
  ASSERT_TRUE(server.ok()) << server.status();
  auto port = testing::WaitForPortFile(port_file);
  ASSERT_TRUE(port.ok()) << port.status();
  auto metrics_port = testing::WaitForPortFile(metrics_port_file);
  ASSERT_TRUE(metrics_port.ok()) << metrics_port.status();

  auto stub = v1::Pollers::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", *port)));
  auto metrics = CallUnary(stub.get(), &v1::Pollers::Stub::GetMetrics, v1::GetMetricsRequest(),
                           absl::Seconds(30));
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(metrics->poller_id(), "test-poller");
  EXPECT_EQ(metrics->shards_size(), 0);

  // The body of a 200 response; anything else is its status line (common/testing/http_get.h).
  const std::string text = testing::HttpGet(*metrics_port, "/metrics");
  EXPECT_NE(text.find("# TYPE tributary_poller_iterator_age_seconds gauge"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\nprocess_resident_memory_bytes "), std::string::npos) << text;
  EXPECT_NE(text.find("\ntributary_build_info{version=\""), std::string::npos) << text;
  EXPECT_TRUE(metrics::PromtoolCheckMetrics(text));
  EXPECT_EQ(testing::HttpGet(*metrics_port, "/-/healthy"), "OK\n");

  ASSERT_EQ(::kill(server->pid(), SIGTERM), 0);
  auto status = server->Wait(absl::Seconds(60));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
}

// Without --poller_id the poller runs under the host's name: its id in leasing and the `poller`
// label of its metrics are the same after a restart (no PID in them).
TEST(PollerServerTest, DefaultPollerIdIsTheHostNameAndSurvivesARestart) {
  char host[256] = {0};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  const std::string dir = testing::NewTempDir("poller_server_id");
  for (int run = 0; run < 2; ++run) {
    SCOPED_TRACE(absl::StrCat("run ", run));
    const std::string port_file = absl::StrCat(dir, "/port", run);
    auto server = testing::Subprocess::Start(
        testing::RunfilePath("poller/poller_server"),
        {"--listen=127.0.0.1:0", "--port_file=" + port_file, "--metrics_listen=",
         "--shard_store=127.0.0.1:1", "--leasing=127.0.0.1:1", "--stream_tracker=127.0.0.1:1"},
        absl::StrCat(dir, "/log", run));
    ASSERT_TRUE(server.ok()) << server.status();
    auto port = testing::WaitForPortFile(port_file);
    ASSERT_TRUE(port.ok()) << port.status();
    auto stub = v1::Pollers::NewStub(MakeChannel(absl::StrCat("127.0.0.1:", *port)));
    auto metrics = CallUnary(stub.get(), &v1::Pollers::Stub::GetMetrics,
                             v1::GetMetricsRequest(), absl::Seconds(30));
    ASSERT_TRUE(metrics.ok()) << metrics.status();
    EXPECT_EQ(metrics->poller_id(), host);
    server->Kill(SIGKILL);  // a crash: the next run is a restart on the same host
  }
}

}  // namespace
}  // namespace tributary::poller
