// The poller against the real shard store and leasing services, each in this process on a
// loopback gRPC server, all on one FakeClock. The mapping configuration comes from a fake (the
// stream tracker is not needed for these rules). The control loop (Poller::RunOnce) runs on the
// test thread; consumers run on their own threads, reading through real SubscribeToShard
// streams.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/proto_util.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "leasing/testing/in_process_leasing.h"
#include "poller/grpc_adapters.h"
#include "poller/integration_test_fixture.h"
#include "poller/poller.h"
#include "poller/retrieval/shard_store_reader.h"
#include "poller/testing/fake_services.h"
#include "poller/testing/fakes.h"
#include "shard_store/shard_store_client.h"
#include "shard_store/shard_store_node.h"

namespace tributary::poller {
namespace {

using testing::kMapping;
using testing::kStream;
using testing::PollerUnderTest;

class PollerIntegrationTest : public testing::PollerIntegrationFixture {};

TEST_F(PollerIntegrationTest, LeaseLostMidBatchOldOwnerNeverCheckpointsOrInvokesAgain) {
  CreateLeases();
  const std::string shard = Shards().at(0).shard_id();
  Put(5, "a");
  PollerUnderTest& p1 = NewPoller("p1");
  absl::Notification invoked, go_on;
  p1.function.SetScript([&](const v1::InvokeRequest&, int call) {
    if (call == 0) {
      invoked.Notify();
      go_on.WaitForNotificationWithTimeout(absl::Seconds(30));
    }
    return absl::StatusOr<v1::InvokeResponse>(v1::InvokeResponse());
  });
  ASSERT_TRUE(p1.poller->RunOnce().ok());
  ASSERT_TRUE(invoked.WaitForNotificationWithTimeout(absl::Seconds(30)));

  // p1 is silent past the lease duration; p2 takes the lease (counter moves on).
  clock_.Advance(absl::Seconds(11));
  PollerUnderTest& p2 = NewPoller("p2");
  ASSERT_TRUE(p2.poller->RunOnce().ok());
  EXPECT_EQ(GetLease(shard).lease_owner(), "p2");
  ASSERT_TRUE(
      p2.function.Await("5 records", [](const auto& calls) { return RecordCount(calls) >= 5; }));

  // p1's invocation returns: its checkpoint is fenced off and it stops.
  go_on.Notify();
  ASSERT_TRUE(p1.observed.AwaitCheckpoints("p1's fenced checkpoint",
                                           [](const auto& calls) { return !calls.empty(); }));
  EXPECT_FALSE(p1.observed.checkpoint_calls()[0].accepted);

  const std::string last = Put(5, "b");
  const auto checkpointed_last = [&](const auto& calls) {
    return !calls.empty() && calls.back().accepted &&
           calls.back().checkpoint.sequence_number() == last;
  };
  ASSERT_TRUE(p2.observed.AwaitCheckpoints("p2 checkpointing the last record", checkpointed_last))
      << "p2 never checkpointed " << last;
  ASSERT_TRUE(p1.poller->RunOnce().ok());  // heartbeats: p1 holds nothing, acquires nothing
  EXPECT_TRUE(p1.poller->shards().empty());
  EXPECT_EQ(p1.function.call_count(), 1);
  EXPECT_EQ(p1.observed.checkpoint_calls().size(), 1u);
  EXPECT_EQ(GetLease(shard).lease_owner(), "p2");
  EXPECT_EQ(GetLease(shard).checkpoint().sequence_number(), last);
  EXPECT_EQ(RecordCount(p2.function.calls()), 10);
}

TEST_F(PollerIntegrationTest, ShardEndIsCheckpointedThenTheChildrenRun) {
  Put(6, "parent");
  const std::string parent = Shards().at(0).shard_id();
  v1::SplitShardRequest split;
  split.set_stream_name(kStream);
  split.set_shard_to_split(parent);
  split.set_new_starting_hash_key("170141183460469231731687303715884105728");  // 2^127
  ASSERT_TRUE(store_client_->SplitShard(split).ok());
  ASSERT_EQ(Shards().size(), 3u);
  Put(8, "child");
  CreateLeases();

  PollerUnderTest& p1 = NewPoller("p1");
  ASSERT_TRUE(p1.poller->RunOnce().ok());
  EXPECT_EQ(p1.poller->shards().size(), 1u) << "only the parent is assignable";
  ASSERT_TRUE(p1.observed.AwaitCheckpoints("SHARD_END", [](const auto& calls) {
    return !calls.empty() && calls.back().checkpoint.type() == v1::SHARD_END;
  })) << "the parent never reached SHARD_END";
  EXPECT_EQ(GetLease(parent).checkpoint().type(), v1::SHARD_END);

  // The next pass picks up both children.
  for (int i = 0; i < 10 && p1.poller->shards().size() < 2; ++i) {
    ASSERT_TRUE(p1.poller->RunOnce().ok());
  }
  ASSERT_TRUE(
      p1.function.Await("14 records", [](const auto& calls) { return RecordCount(calls) >= 14; }));
  const auto calls = p1.function.calls();
  bool child_seen = false;
  for (const auto& call : calls) {
    const bool is_parent = call.request.shard_id() == parent;
    if (!is_parent) child_seen = true;
    EXPECT_FALSE(is_parent && child_seen) << "a parent batch ran after a child batch";
  }
  EXPECT_EQ(RecordCount(calls), 14);
}

// Shard rollover (a table stream's shards: ShardStore::RollOverShards, a split into one child of
// the same range) over three generations: the mapping delivers every record once, the
// generations in order — each parent to SHARD_END before its child's first batch.
TEST_F(PollerIntegrationTest, ShardRolloversAreReadGenerationAfterGenerationInOrder) {
  const auto all_due = [](const shard_store::ShardStore::OpenShardInfo&) { return true; };
  std::vector<std::string> lineage = {Shards().at(0).shard_id()};
  for (int generation = 0; generation < 3; ++generation) {
    Put(3, absl::StrCat("g", generation, "-"));
    auto rolled = store_node_->store().RollOverShards(kStream, all_due);
    ASSERT_TRUE(rolled.ok()) << rolled.status();
    ASSERT_EQ(rolled->size(), 1u);
    lineage.push_back(Shards().back().shard_id());
  }
  Put(3, "g3-");
  ASSERT_EQ(Shards().size(), 4u);
  CreateLeases();
  PollerUnderTest& p1 = NewPoller("p1");
  // Each generation: the pass that takes its lease, then its SHARD_END (the last one has none).
  for (int generation = 0; generation < 3; ++generation) {
    const auto ended = [&](const auto& calls) {
      int n = 0;
      for (const auto& c : calls) n += c.accepted && c.checkpoint.type() == v1::SHARD_END;
      return n > generation;
    };
    for (int pass = 0; pass < 10 && !ended(p1.observed.checkpoint_calls()); ++pass) {
      ASSERT_TRUE(p1.poller->RunOnce().ok());
      static_cast<void>(p1.observed.AwaitCheckpoints("a SHARD_END", ended, absl::Seconds(5)));
    }
    ASSERT_TRUE(ended(p1.observed.checkpoint_calls())) << "generation " << generation;
  }
  for (int pass = 0; pass < 10 && RecordCount(p1.function.calls()) < 12; ++pass) {
    ASSERT_TRUE(p1.poller->RunOnce().ok());
    static_cast<void>(p1.function.Await(
        "12 records", [](const auto& calls) { return RecordCount(calls) >= 12; },
        absl::Seconds(5)));
  }
  std::vector<std::string> data;
  std::vector<std::string> shards;
  for (const auto& call : p1.function.calls()) {
    if (shards.empty() || shards.back() != call.request.shard_id()) {
      shards.push_back(call.request.shard_id());
    }
    for (const auto& record : call.request.records()) data.push_back(record.data());
  }
  EXPECT_EQ(shards, lineage) << "each generation's batches after its parent's";
  std::vector<std::string> expected;
  for (int g = 0; g < 4; ++g) {
    for (int i = 0; i < 3; ++i) expected.push_back(absl::StrCat("g", g, "-", i));
  }
  EXPECT_EQ(data, expected);
}

TEST_F(PollerIntegrationTest, LeaseShowsTheLastProcessingResultAndErrorTheHeartbeatReported) {
  config_.set_maximum_retry_attempts(0);  // a failing batch is skipped: no backoff on the clock
  mappings_.Set(config_);
  CreateLeases();
  const std::string shard = Shards().at(0).shard_id();
  PollerUnderTest& p1 = NewPoller("p1");
  // Waits until p1 checkpointed `sequence_number`: its batch, and the result, are recorded.
  auto await_checkpoint = [&](const std::string& sequence_number) {
    return p1.observed.AwaitCheckpoints(
        absl::StrCat("an accepted checkpoint at ", sequence_number), [&](const auto& calls) {
          return !calls.empty() && calls.back().accepted &&
                 calls.back().checkpoint.sequence_number() == sequence_number;
        });
  };
  const absl::Duration heartbeat_interval = absl::Milliseconds(3334);  // a third of 10 s

  std::string last = Put(3, "a");
  ASSERT_TRUE(p1.poller->RunOnce().ok());  // registers, acquires, delivers
  ASSERT_TRUE(await_checkpoint(last)) << "p1 never checkpointed " << last;
  const absl::Time ok_at = clock_.Now();
  EXPECT_EQ(GetLease(shard).last_processing_result(), "") << "not reported yet";
  clock_.Advance(heartbeat_interval);
  ASSERT_TRUE(p1.poller->RunOnce().ok());  // heartbeats
  EXPECT_EQ(GetLease(shard).last_processing_result(), "OK");
  EXPECT_EQ(FromProtoTimestamp(GetLease(shard).last_processing_result_time()), ok_at);

  p1.function.SetScript([](const v1::InvokeRequest&, int) -> absl::StatusOr<v1::InvokeResponse> {
    v1::InvokeResponse reply;
    reply.set_function_error("Unhandled");
    return reply;
  });
  last = Put(2, "b");
  ASSERT_TRUE(await_checkpoint(last)) << "p1 never skipped past " << last;
  clock_.Advance(heartbeat_interval);
  ASSERT_TRUE(p1.poller->RunOnce().ok());
  EXPECT_EQ(GetLease(shard).last_processing_result(), "PROBLEM: Function call failed");
  EXPECT_EQ(GetLease(shard).last_error_kind(), "FunctionError");
  EXPECT_EQ(GetLease(shard).last_error_message(), "Unhandled");
  EXPECT_TRUE(GetLease(shard).has_last_error_time());
}

}  // namespace
}  // namespace tributary::poller
