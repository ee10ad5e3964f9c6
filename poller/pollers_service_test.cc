#include "poller/pollers_service.h"

#include <memory>

#include "common/clock.h"
#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "gtest/gtest.h"
#include "poller/metrics.h"

namespace tributary::poller {
namespace {

TEST(PollersServiceTest, GetMetricsServesTheSnapshotFilteredByMapping) {
  FakeClock clock;
  PollerMetrics metrics("poller-7", clock);
  metrics.Delivered({"m1", "s", "shardId-000000000000"}, 5);
  metrics.Delivered({"m2", "s", "shardId-000000000001"}, 7);
  PollersService service(metrics);
  auto server = GrpcServer::Start("127.0.0.1:0", {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::Pollers::NewStub((*server)->InProcessChannel());

  v1::GetMetricsRequest all;
  auto response = CallUnary(stub.get(), &v1::Pollers::Stub::GetMetrics, all, absl::Seconds(10));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->poller_id(), "poller-7");
  ASSERT_EQ(response->shards_size(), 2);

  v1::GetMetricsRequest one;
  one.set_event_source_mapping_uuid("m2");
  response = CallUnary(stub.get(), &v1::Pollers::Stub::GetMetrics, one, absl::Seconds(10));
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->shards_size(), 1);
  EXPECT_EQ(response->shards(0).records_delivered(), 7);
  EXPECT_EQ(response->shards(0).shard_id(), "shardId-000000000001");

  one.set_event_source_mapping_uuid("unknown");
  response = CallUnary(stub.get(), &v1::Pollers::Stub::GetMetrics, one, absl::Seconds(10));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->shards_size(), 0);
}

}  // namespace
}  // namespace tributary::poller
