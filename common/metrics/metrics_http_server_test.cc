#include "common/metrics/metrics_http_server.h"

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/testing/http_get.h"
#include "gtest/gtest.h"

namespace tributary::metrics {
namespace {

// Sends `request` to 127.0.0.1:port and returns everything the server answers before closing.
std::string Exchange(int port, const std::string& request) {
  // A failure guard only: the server answers at once.
  absl::StatusOr<std::string> response = testing::HttpExchange(port, request, absl::Seconds(10));
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() ? *response : "";
}

class MetricsHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = MetricsHttpServer::Start("127.0.0.1:0", [] { return std::string("m 1\n"); });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  std::unique_ptr<MetricsHttpServer> server_;
};

TEST_F(MetricsHttpServerTest, GetMetricsReturnsTheRenderedText) {
  const std::string r =
      Exchange(server_->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(r.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_EQ(r.substr(r.size() - 4), "m 1\n");
}

TEST_F(MetricsHttpServerTest, ServesOneRequestAfterAnother) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(
        Exchange(server_->port(), "GET /metrics?x=1 HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200", 0),
        0u);
  }
}

TEST_F(MetricsHttpServerTest, HealthyAnswersOk) {
  const std::string r = Exchange(server_->port(), "GET /-/healthy HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_EQ(r.substr(r.size() - 3), "OK\n");
}

TEST_F(MetricsHttpServerTest, ReadyWithoutAProbeAnswersOk) {
  EXPECT_EQ(Exchange(server_->port(), "GET /-/ready HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200", 0),
            0u);
}

TEST(MetricsHttpServerReadyTest, ReadyFollowsTheProbe) {
  std::atomic<bool> ready{false};
  auto server = MetricsHttpServer::Start(
      "127.0.0.1:0", [] { return std::string(); }, [&ready] { return ready.load(); });
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(Exchange((*server)->port(), "GET /-/ready HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 503", 0),
            0u);
  EXPECT_EQ(
      Exchange((*server)->port(), "GET /-/healthy HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200", 0),
      0u);
  ready = true;
  EXPECT_EQ(Exchange((*server)->port(), "GET /-/ready HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200", 0),
            0u);
}

TEST_F(MetricsHttpServerTest, OtherPathIsNotFound) {
  EXPECT_EQ(Exchange(server_->port(), "GET / HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
}

TEST_F(MetricsHttpServerTest, OtherMethodIsNotAllowed) {
  EXPECT_EQ(Exchange(server_->port(), "POST /metrics HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 405", 0),
            0u);
}

TEST_F(MetricsHttpServerTest, MalformedOrHugeRequestIsBadRequest) {
  EXPECT_EQ(Exchange(server_->port(), "nonsense\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(Exchange(server_->port(), "GET /" + std::string(20000, 'a')).rfind("HTTP/1.1 400", 0),
            0u);
}

// With an `other_paths` handler (the console), every path but the three goes there, whatever
// the method; the three keep their answers.
TEST(MetricsHttpServerOtherPathsTest, OtherPathsGoToTheirHandlerAndMetricsStayOurs) {
  auto server = MetricsHttpServer::Start(
      "127.0.0.1:0", [] { return std::string("m 1\n"); }, nullptr, absl::Seconds(5),
      [](const aws::HttpRequest& request) {
        aws::HttpResponse response;
        response.status = 299;
        response.body = request.method + " " + request.target;
        return response;
      });
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  const std::string root = Exchange(port, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(root.rfind("HTTP/1.1 299", 0), 0u) << root;
  EXPECT_EQ(root.substr(root.size() - 5), "GET /");
  const std::string post = Exchange(port, "POST /api/x HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(post.substr(post.size() - 11), "POST /api/x") << post;
  const std::string metrics = Exchange(port, "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(metrics.substr(metrics.size() - 4), "m 1\n");
  EXPECT_EQ(Exchange(port, "POST /metrics HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
}

TEST(MetricsHttpServerStartTest, MalformedAddressIsInvalidArgument) {
  // The same rules as every address flag (common/host_port.h): no sign, space or empty host.
  for (const std::string bad :
       {"nohostport", "127.0.0.1:99999", "not-an-ip:80", "127.0.0.1:+80", "127.0.0.1: 80", ":0"}) {
    EXPECT_EQ(MetricsHttpServer::Start(bad, [] { return std::string(); }).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(MetricsHttpServerStartTest, PortInUseIsUnavailable) {
  auto first = MetricsHttpServer::Start("127.0.0.1:0", [] { return std::string(); });
  ASSERT_TRUE(first.ok());
  auto second = MetricsHttpServer::Start(absl::StrCat("127.0.0.1:", (*first)->port()),
                                         [] { return std::string(); });
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tributary::metrics
