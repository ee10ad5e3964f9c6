// The poller_server binary: flags and wiring. It serves tributary.v1.Pollers and GET /metrics
// even while the services it depends on are unreachable, and exits cleanly on SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "common/metrics/promtool.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "proto/poller.grpc.pb.h"

namespace tributary::poller {
namespace {

std::string HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{30, 0};  // a failure guard only
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "";
  }
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\n\r\n");
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) response.append(buf, n);
  ::close(fd);
  return response;
}

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

  const std::string http = HttpGet(*metrics_port, "/metrics");
  EXPECT_EQ(http.rfind("HTTP/1.1 200 OK", 0), 0u) << http;
  EXPECT_NE(http.find("# TYPE tributary_poller_iterator_age_seconds gauge"), std::string::npos);
  EXPECT_NE(http.find("\nprocess_resident_memory_bytes "), std::string::npos) << http;
  EXPECT_NE(http.find("\ntributary_build_info{version=\""), std::string::npos) << http;
  EXPECT_TRUE(metrics::PromtoolCheckMetrics(http.substr(http.find("\r\n\r\n") + 4)));
  EXPECT_EQ(HttpGet(*metrics_port, "/-/healthy").rfind("HTTP/1.1 200 OK", 0), 0u);

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
