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

// Reserved concurrency is per function, not per shard: GetMetrics carries each function's figures
// (whatever the mapping filter), and the Prometheus text rendered from the reply — what `tribctl
// metrics --prometheus` prints — has the same series as the poller's /metrics.
TEST(PollersServiceTest, GetMetricsCarriesEachFunctionsConcurrencyAndThrottles) {
  FakeClock clock;
  PollerMetrics metrics("poller-7", clock);
  metrics.Delivered({"m1", "s", "shardId-000000000000"}, 5);
  metrics.FunctionInvocationStarted("orders-fn");
  metrics.FunctionInvocationStarted("orders-fn");
  metrics.FunctionInvocationFinished("orders-fn");
  metrics.FunctionThrottled("orders-fn");
  metrics.FunctionThrottled("orders-fn");
  metrics.FunctionThrottled("audit-fn");
  PollersService service(metrics);
  auto server = GrpcServer::Start("127.0.0.1:0", {&service});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::Pollers::NewStub((*server)->InProcessChannel());

  v1::GetMetricsRequest other_mapping;
  other_mapping.set_event_source_mapping_uuid("m2");
  auto response =
      CallUnary(stub.get(), &v1::Pollers::Stub::GetMetrics, other_mapping, absl::Seconds(10));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->shards_size(), 0);
  ASSERT_EQ(response->functions_size(), 2);
  EXPECT_EQ(response->functions(0).function_name(), "audit-fn");
  EXPECT_EQ(response->functions(0).concurrent_executions(), 0);
  EXPECT_EQ(response->functions(0).throttles(), 1);
  EXPECT_EQ(response->functions(1).function_name(), "orders-fn");
  EXPECT_EQ(response->functions(1).concurrent_executions(), 1);
  EXPECT_EQ(response->functions(1).throttles(), 2);

  const std::string text = RenderPrometheusText(*response);
  EXPECT_NE(text.find("tributary_poller_function_concurrent_executions{poller=\"poller-7\","
                      "function_name=\"orders-fn\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tributary_poller_function_throttles_total{poller=\"poller-7\","
                      "function_name=\"orders-fn\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(metrics.RenderPrometheus(), RenderPrometheusText(metrics.Snapshot()));
}

// A mapping's totals (what the Prometheus counters show) add up its shards and never go down:
// a shard whose lease moved away leaves its counts behind, else Prometheus would see a reset.
TEST(PollersServiceTest, MappingTotalsAddUpShardsAndKeepThoseOfRemovedShards) {
  FakeClock clock;
  PollerMetrics metrics("poller-7", clock);
  const ShardContext a{"m1", "s", "shardId-000000000000"};
  const ShardContext b{"m1", "s", "shardId-000000000001"};
  metrics.Invoked(a, 3, absl::Milliseconds(5));
  metrics.Delivered(a, 3);
  metrics.Invoked(b, 4, absl::Milliseconds(7));
  metrics.Delivered(b, 4);
  metrics.Dropped(b, "RecordAgeExceeded", 2);
  metrics.Delivered({"m2", "t", "shardId-000000000000"}, 9);

  v1::GetMetricsResponse before = metrics.Snapshot("m1");
  ASSERT_EQ(before.mappings_size(), 1);
  EXPECT_EQ(before.mappings(0).event_source_mapping_uuid(), "m1");
  EXPECT_EQ(before.mappings(0).stream_name(), "s");
  EXPECT_EQ(before.mappings(0).invocations(), 2);
  EXPECT_EQ(before.mappings(0).records_delivered(), 7);
  EXPECT_EQ(before.mappings(0).dropped_records().at("RecordAgeExceeded"), 2);
  EXPECT_EQ(before.mappings(0).batch_size().count(), 2);
  EXPECT_DOUBLE_EQ(before.mappings(0).batch_size().sum(), 7);

  metrics.Remove(b);  // its lease went to another poller
  metrics.Invoked(a, 1, absl::Milliseconds(5));
  v1::GetMetricsResponse after = metrics.Snapshot();
  ASSERT_EQ(after.shards_size(), 2);  // m1's shard a and m2's shard
  ASSERT_EQ(after.mappings_size(), 2);
  const v1::MappingMetrics& m1 = after.mappings(0);
  EXPECT_EQ(m1.event_source_mapping_uuid(), "m1");
  EXPECT_EQ(m1.invocations(), 3);
  EXPECT_EQ(m1.records_delivered(), 7);
  EXPECT_EQ(m1.dropped_records().at("RecordAgeExceeded"), 2);
  EXPECT_EQ(m1.batch_size().count(), 3);
  EXPECT_EQ(after.mappings(1).event_source_mapping_uuid(), "m2");
  EXPECT_EQ(after.mappings(1).records_delivered(), 9);
  EXPECT_NE(metrics.RenderPrometheus().find(
                "tributary_poller_records_delivered_total{poller=\"poller-7\",mapping=\"m1\","
                "stream=\"s\"} 7\n"),
            std::string::npos)
      << metrics.RenderPrometheus();
}

}  // namespace
}  // namespace tributary::poller
