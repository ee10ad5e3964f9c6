#include "poller/pollers_service.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "common/proto_util.h"
#include "gtest/gtest.h"
#include "poller/runtime/metrics.h"

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

TEST(PollersServiceTest, GetMetricsAndPrometheusShowTheLastResultAndError) {
  FakeClock clock;
  PollerMetrics metrics("poller-7", clock);
  const ShardContext shard{"m1", "s", "shardId-000000000000"};
  metrics.Processed(shard, ProcessingResult::kFunctionTimedOut);
  metrics.InvocationFailed(shard, ErrorKind::kTimeout, "DEADLINE_EXCEEDED: late");
  const absl::Time failed_at = clock.Now();
  clock.Advance(absl::Seconds(3));
  metrics.Processed(shard, ProcessingResult::kOk);
  PollersService service(metrics);
  auto server = GrpcServer::Start("127.0.0.1:0", {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::Pollers::NewStub((*server)->InProcessChannel());
  auto response = CallUnary(stub.get(), &v1::Pollers::Stub::GetMetrics, v1::GetMetricsRequest(),
                            absl::Seconds(10));
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->shards_size(), 1);
  const v1::ShardMetrics& m = response->shards(0);
  EXPECT_EQ(m.last_processing_result(), "OK");
  EXPECT_EQ(FromProtoTimestamp(m.last_processing_result_time()), clock.Now());
  EXPECT_EQ(m.last_error_kind(), "Timeout");
  EXPECT_EQ(m.last_error_message(), "DEADLINE_EXCEEDED: late");
  EXPECT_EQ(FromProtoTimestamp(m.last_error_time()), failed_at);
  EXPECT_NE(RenderPrometheusText(*response).find(absl::StrCat(
                "tributary_poller_last_error_timestamp_seconds{poller=\"poller-7\",mapping=\"m1\","
                "stream=\"s\",shard=\"shardId-000000000000\",kind=\"Timeout\"} ",
                absl::ToUnixSeconds(failed_at), ".000\n")),
            std::string::npos)
      << RenderPrometheusText(*response);
}

}  // namespace
}  // namespace tributary::poller
