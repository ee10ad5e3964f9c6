#include "common/metrics/metrics_endpoint.h"

#include <string>

#include "absl/strings/match.h"
#include "common/grpc_security.h"
#include "common/metrics/registry.h"
#include "common/testing/http_get.h"
#include "gtest/gtest.h"

namespace tributary::metrics {
namespace {

TEST(ServerMetricsTest, ServesProcessAndServiceFamiliesAndIsReadyOnlyOnceServing) {
  bool added = false;
  auto metrics =
      ServerMetrics::Start("127.0.0.1:0", "", GrpcServerSecurity(), [&](Registry& registry) {
        added = true;
        registry.AddCollector([](std::string* out) {
          out->append(
              "# TYPE tributary_test_up gauge\n"
              "tributary_test_up 1\n");
        });
      });
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_TRUE(added);
  const int port = (*metrics)->port();
  ASSERT_GT(port, 0);
  const std::string text = testing::HttpGet(port, "/metrics");
  EXPECT_TRUE(absl::StrContains(text, "tributary_test_up 1\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "tributary_build_info")) << text;
  EXPECT_TRUE(absl::StrContains(text, "process_")) << text;
  EXPECT_EQ(testing::HttpGet(port, "/-/ready"), "HTTP/1.1 503 Service Unavailable");
  (*metrics)->SetServing();
  EXPECT_EQ(testing::HttpGet(port, "/-/ready"), "OK\n");
  (*metrics)->Stop();
  EXPECT_EQ((*metrics)->port(), 0);
  EXPECT_TRUE(absl::StartsWith(testing::HttpGet(port, "/-/ready"), "UNAVAILABLE"));
}

TEST(ServerMetricsTest, AnEmptyListenAddressServesNothing) {
  auto metrics = ServerMetrics::Start("", "", GrpcServerSecurity(), [](Registry&) {});
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ((*metrics)->port(), 0);
}

TEST(ServerMetricsTest, ABadListenAddressIsAnError) {
  auto metrics =
      ServerMetrics::Start("127.0.0.1:notaport", "", GrpcServerSecurity(), [](Registry&) {});
  EXPECT_FALSE(metrics.ok());
}

}  // namespace
}  // namespace tributary::metrics
