// The poller end to end against in-memory leasing, store and mappings, with a FakeClock and a
// scripted function; consumers run inline (single-threaded) so every step is deterministic.
#include "poller/poller.h"

#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/await.h"
#include "common/metrics/promtool.h"
#include "common/proto_util.h"
#include "common/testing/assertions.h"
#include "common/testing/log_capture.h"
#include "common/testing/test_util.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "leasing/owned_digest.h"
#include "poller/testing/fake_services.h"
#include "poller/testing/fakes.h"

namespace tributary::poller {
namespace {

using testing::FakeLeaseService;

constexpr char kMapping[] = "mapping-1";
constexpr char kStream[] = "orders";
constexpr char kShard0[] = "shardId-000000000000";
constexpr char kShard1[] = "shardId-000000000001";

class PollerTest : public ::testing::Test {
 protected:
  PollerTest() {
    std::cout << "seed " << seed_ << "\n";
    config_.set_uuid(kMapping);
    config_.set_stream_name(kStream);
    config_.set_function_endpoint("127.0.0.1:9000");
    config_.set_batch_size(10);
    config_.set_parallelization_factor(1);
    config_.set_maximum_retry_attempts(-1);
    config_.set_maximum_record_age_in_seconds(-1);
    config_.set_function_timeout_seconds(30);
    config_.set_enabled(true);
    config_.set_state(v1::ENABLED);
    config_.set_config_version(1);
    mappings_.Set(config_);
  }

  std::unique_ptr<Poller> NewPoller(const std::string& id, int capacity = 10,
                                    absl::Duration checkpoint_interval = absl::ZeroDuration()) {
    PollerOptions options;
    options.poller_id = id;
    options.capacity = capacity;
    options.checkpoint_interval = checkpoint_interval;
    options.seed = seed_;
    options.run_consumers_inline = true;
    metrics_.push_back(std::make_unique<PollerMetrics>(id, clock_));
    return std::make_unique<Poller>(options, clock_, waiter_, leases_, mappings_, shards_,
                                    function_, destination_, *metrics_.back());
  }

  // Poller "p1" whose lease calls go through `leases` (e.g. an ObservedLeaseService over
  // leases_); its metrics are metrics_.back().
  std::unique_ptr<Poller> NewPollerVia(LeaseService& leases, int full_progress_every = 20) {
    PollerOptions options;
    options.poller_id = "p1";
    options.checkpoint_interval = absl::ZeroDuration();
    options.seed = seed_;
    options.run_consumers_inline = true;
    options.full_progress_every = full_progress_every;
    metrics_.push_back(std::make_unique<PollerMetrics>("p1", clock_));
    return std::make_unique<Poller>(options, clock_, waiter_, leases, mappings_, shards_, function_,
                                    destination_, *metrics_.back());
  }

  void AddShard(const std::string& shard, std::vector<std::string> parents = {}) {
    shards_.AddShard(kStream, shard);
    leases_.AddLease(kMapping, shard, kStream, std::move(parents));
  }

  void Append(const std::string& shard, int n, const std::string& key = "k") {
    for (int i = 0; i < n; ++i) {
      shards_.Append(kStream, shard, key, absl::StrCat(shard, "#", i), clock_.Now());
    }
  }

  void RunTimes(Poller& p, int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(p.RunOnce().ok());
  }

  // Moves time to the next heartbeat.
  void NextHeartbeat() {
    clock_.Advance(absl::Milliseconds(FakeLeaseService::kHeartbeatIntervalMs));
  }

  void UpdateConfig() {
    config_.set_config_version(config_.config_version() + 1);
    mappings_.Set(config_);
  }

  std::vector<std::string> DeliveredShards() {
    std::vector<std::string> out;
    for (const auto& call : function_.calls()) out.push_back(call.request.shard_id());
    return out;
  }

  const uint64_t seed_ = tributary::testing::TestSeed();
  FakeClock clock_;
  testing::AdvancingWaiter waiter_{clock_};
  testing::ScriptedFunction function_;
  testing::RecordingDestination destination_;
  FakeLeaseService leases_;
  testing::InMemoryShards shards_;
  testing::FakeMappingSource mappings_;
  std::vector<std::unique_ptr<PollerMetrics>> metrics_;
  v1::EventSourceMappingConfiguration config_;
};

TEST_F(PollerTest, AcquiresLeasesReadsFromTheCheckpointAndCheckpointsAfterBatches) {
  AddShard(kShard0);
  Append(kShard0, 25);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.batches().size(), 3u);  // 10 + 10 + 5
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).lease_owner(), "p1");
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().sequence_number(), "25");
  Append(kShard0, 3);
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.batches().back(), (std::vector<std::string>{"26", "27", "28"}));
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().sequence_number(), "28");
}

TEST_F(PollerTest, CheckpointsAreCoalescedWithinTheInterval) {
  AddShard(kShard0);
  auto poller = NewPoller("p1", 10, absl::Milliseconds(200));
  for (int i = 0; i < 5; ++i) {
    Append(kShard0, 10);
    RunTimes(*poller, 1);
    clock_.Advance(absl::Milliseconds(50));
  }
  EXPECT_EQ(function_.call_count(), 5);
  const auto calls = leases_.checkpoint_calls();
  EXPECT_LT(calls.size(), 5u);
  EXPECT_GE(calls.size(), 1u);
  clock_.Advance(absl::Milliseconds(200));
  RunTimes(*poller, 1);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().sequence_number(), "50");
}

TEST_F(PollerTest, TransientCheckpointFailureIsRetriedAfterAPauseWithoutReinvoking) {
  tributary::testing::LogCapture log;
  AddShard(kShard0);
  Append(kShard0, 5);
  leases_.FailNextCheckpoints(1);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  ASSERT_EQ(leases_.checkpoint_calls().size(), 1u);
  EXPECT_FALSE(leases_.checkpoint_calls()[0].accepted);
  RunTimes(*poller, 1);
  EXPECT_EQ(leases_.checkpoint_calls().size(), 1u) << "no retry before the pause";
  clock_.Advance(absl::Milliseconds(200));
  RunTimes(*poller, 1);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().sequence_number(), "5");
  EXPECT_EQ(function_.call_count(), 1);
  const std::string shard = absl::StrCat("mapping mapping-1 shard ", kShard0);
  EXPECT_EQ(log.Count({shard, "a checkpoint failed: UNAVAILABLE"}), 1);
  EXPECT_EQ(log.Count({shard, "checkpoints succeed again"}), 1);
}

TEST_F(PollerTest, FailedShardEndCheckpointIsRetried) {
  AddShard(kShard0);
  Append(kShard0, 2);
  shards_.Close(kStream, kShard0);
  leases_.FailNextCheckpoints(1);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  EXPECT_NE(leases_.GetLease(kMapping, kShard0).checkpoint().type(), v1::SHARD_END);
  clock_.Advance(absl::Milliseconds(200));
  RunTimes(*poller, 1);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().type(), v1::SHARD_END);
  EXPECT_EQ(function_.call_count(), 1);
}

TEST_F(PollerTest, BatchingWindowIsMeasuredOnTheClock) {
  config_.set_batch_size(100);
  config_.set_maximum_batching_window_in_seconds(5);
  mappings_.Set(config_);
  AddShard(kShard0);
  auto poller = NewPoller("p1");
  Append(kShard0, 3);
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.call_count(), 0);
  clock_.Advance(absl::Milliseconds(4999));
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.call_count(), 0);
  clock_.Advance(absl::Milliseconds(1));
  RunTimes(*poller, 1);
  ASSERT_EQ(function_.call_count(), 1);
  EXPECT_EQ(function_.batches()[0].size(), 3u);
}

// ---- Wall-clock steps (issue 14, item 10): every duration runs on the monotonic clock ----

TEST_F(PollerTest, BatchingWindowIsNotCutShortByAWallStepForward) {
  config_.set_batch_size(100);
  config_.set_maximum_batching_window_in_seconds(5);
  mappings_.Set(config_);
  AddShard(kShard0);
  auto poller = NewPoller("p1");
  Append(kShard0, 3);
  RunTimes(*poller, 1);
  clock_.StepWallClock(absl::Hours(1));
  clock_.Advance(absl::Milliseconds(4999));
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.call_count(), 0) << "the window ended early";
  clock_.Advance(absl::Milliseconds(1));
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.call_count(), 1);
}

TEST_F(PollerTest, CheckpointRetryPauseIsNotStretchedByAWallStepBack) {
  AddShard(kShard0);
  Append(kShard0, 5);
  leases_.FailNextCheckpoints(1);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  ASSERT_EQ(leases_.checkpoint_calls().size(), 1u);
  clock_.StepWallClock(-absl::Hours(1));
  clock_.Advance(absl::Milliseconds(200));
  RunTimes(*poller, 1);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().sequence_number(), "5")
      << "the checkpoint was not retried after its pause";
}

TEST_F(PollerTest, AWallStepBackDoesNotDelayTheHeartbeats) {
  AddShard(kShard0);
  testing::ObservedLeaseService observed(leases_);
  auto poller = NewPollerVia(observed);
  RunTimes(*poller, 1);
  const size_t heartbeats = observed.heartbeats().size();
  clock_.StepWallClock(-absl::Hours(1));
  NextHeartbeat();
  RunTimes(*poller, 1);
  EXPECT_EQ(observed.heartbeats().size(), heartbeats + 1) << "no heartbeat for an hour";
}

TEST_F(PollerTest, AWallStepForwardPastTheLeaseDurationDoesNotStopTheShards) {
  AddShard(kShard0);
  Append(kShard0, 3);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  leases_.FailHeartbeats(true);  // one heartbeat fails: not for the lease duration
  clock_.StepWallClock(absl::Hours(1));
  NextHeartbeat();
  EXPECT_EQ(poller->RunOnce().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(poller->shards().size(), 1u) << "the shard was stopped as if its lease had expired";
  leases_.FailHeartbeats(false);
  Append(kShard0, 2);
  NextHeartbeat();
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.call_count(), 2);
}

TEST_F(PollerTest, LeaseLostMidBatchOldOwnerNeverCheckpointsOrInvokesAgain) {
  AddShard(kShard0);
  Append(kShard0, 5);
  auto old_owner = NewPoller("p1");
  // While the first invocation runs, the lease expires and p2 takes it.
  function_.SetScript([this](const v1::InvokeRequest&, int call) {
    if (call == 0) leases_.Steal(kMapping, kShard0, "p2");
    return absl::StatusOr<v1::InvokeResponse>(v1::InvokeResponse());
  });
  RunTimes(*old_owner, 1);
  ASSERT_EQ(function_.call_count(), 1);
  // Its one checkpoint attempt was fenced off, and it stopped.
  const auto calls = leases_.checkpoint_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_FALSE(calls[0].accepted);
  EXPECT_EQ(old_owner->consumer(kMapping, kShard0), nullptr);

  Append(kShard0, 5);
  for (int i = 0; i < 5; ++i) {
    NextHeartbeat();
    RunTimes(*old_owner, 1);
  }
  EXPECT_EQ(function_.call_count(), 1);
  EXPECT_EQ(leases_.checkpoint_calls().size(), 1u);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().type(), v1::TRIM_HORIZON_CHECKPOINT);
}

TEST_F(PollerTest, LeaseMissingFromHeartbeatStopsTheShardBeforeItsCheckpoint) {
  AddShard(kShard0);
  Append(kShard0, 5);
  // A long coalescing interval: the batch's checkpoint is still pending when the loss shows.
  auto old_owner = NewPoller("p1", 10, absl::Seconds(60));
  function_.SetScript([this](const v1::InvokeRequest&, int call) {
    if (call == 0) leases_.Steal(kMapping, kShard0, "p2");
    return absl::StatusOr<v1::InvokeResponse>(v1::InvokeResponse());
  });
  RunTimes(*old_owner, 1);
  // The first checkpoint is due at once (none written yet); later ones wait 60 s.
  const size_t attempts_before = leases_.checkpoint_calls().size();
  Append(kShard0, 5);
  NextHeartbeat();
  RunTimes(*old_owner, 1);  // the heartbeat reply no longer lists the lease
  Append(kShard0, 5);
  for (int i = 0; i < 30; ++i) {
    clock_.Advance(absl::Seconds(5));
    RunTimes(*old_owner, 1);
  }
  EXPECT_EQ(function_.call_count(), 1);
  for (size_t i = 0; i < leases_.checkpoint_calls().size(); ++i) {
    EXPECT_FALSE(leases_.checkpoint_calls()[i].accepted);
  }
  EXPECT_EQ(leases_.checkpoint_calls().size(), attempts_before);
}

TEST_F(PollerTest, NewOwnerResumesFromTheCheckpointAfterTheOldOneIsFenced) {
  AddShard(kShard0);
  Append(kShard0, 10);
  auto p1 = NewPoller("p1");
  RunTimes(*p1, 1);
  ASSERT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().sequence_number(), "10");
  leases_.Steal(kMapping, kShard0, "");  // expired: unowned, counter moved on
  Append(kShard0, 4);
  auto p2 = NewPoller("p2");
  RunTimes(*p2, 1);
  EXPECT_EQ(function_.batches().back(), (std::vector<std::string>{"11", "12", "13", "14"}));
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).lease_owner(), "p2");
  NextHeartbeat();
  RunTimes(*p1, 1);  // p1 learns it lost the lease and does nothing
  EXPECT_EQ(function_.call_count(), 2);
}

TEST_F(PollerTest, ShardEndIsCheckpointedThenTheChildRuns) {
  AddShard(kShard0);
  AddShard(kShard1, {kShard0});
  Append(kShard0, 12);
  Append(kShard1, 4);
  shards_.Close(kStream, kShard0);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard1).lease_owner(), "") << "child waits for parent";
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().type(), v1::SHARD_END);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).lease_owner(), "") << "released at SHARD_END";
  RunTimes(*poller, 2);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard1).lease_owner(), "p1");
  EXPECT_EQ(DeliveredShards(), (std::vector<std::string>{kShard0, kShard0, kShard1}));
  EXPECT_EQ(leases_.GetLease(kMapping, kShard1).checkpoint().sequence_number(), "4");
}

TEST_F(PollerTest, ShardEndWaitsForAFailingBatchOfTheParent) {
  config_.set_maximum_retry_attempts(2);
  mappings_.Set(config_);
  AddShard(kShard0);
  AddShard(kShard1, {kShard0});
  Append(kShard0, 3);
  Append(kShard1, 1);
  shards_.Close(kStream, kShard0);
  function_.SetScript([](const v1::InvokeRequest& r, int) {
    v1::InvokeResponse response;
    if (r.shard_id() == kShard0) response.set_function_error("Unhandled");
    return absl::StatusOr<v1::InvokeResponse>(response);
  });
  auto poller = NewPoller("p1");
  RunTimes(*poller, 3);
  // The parent's batch was tried 3 times, then skipped; only then SHARD_END and the child.
  EXPECT_EQ(DeliveredShards(), (std::vector<std::string>{kShard0, kShard0, kShard0, kShard1}));
}

TEST_F(PollerTest, GracefulReleaseFinishesTheInFlightBatchCheckpointsAndReleases) {
  AddShard(kShard0);
  Append(kShard0, 10);
  auto poller = NewPoller("p1", 10, absl::Seconds(60));
  RunTimes(*poller, 1);  // first batch, first checkpoint
  Append(kShard0, 10);
  // Leasing asks for the lease back while the second batch is being invoked.
  function_.SetScript([this](const v1::InvokeRequest&, int call) {
    if (call == 1) {
      leases_.AskToRelease(kMapping, kShard0);
      NextHeartbeat();
    }
    return absl::StatusOr<v1::InvokeResponse>(v1::InvokeResponse());
  });
  RunTimes(*poller, 1);  // invokes batch 2 (checkpoint coalesced: not yet written)
  ASSERT_EQ(function_.call_count(), 2);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().sequence_number(), "10");
  Append(kShard0, 10);
  RunTimes(*poller, 1);  // heartbeat says release: checkpoint 20, release, no more invokes
  EXPECT_EQ(function_.call_count(), 2);
  const v1::Lease lease = leases_.GetLease(kMapping, kShard0);
  EXPECT_EQ(lease.checkpoint().sequence_number(), "20");
  EXPECT_EQ(lease.lease_owner(), "");
  EXPECT_TRUE(poller->shards().empty());
}

TEST_F(PollerTest, ReleaseDuringRetriesAbandonsTheBackoffAndKeepsTheCheckpoint) {
  AddShard(kShard0);
  Append(kShard0, 3);
  function_.SetScript([this](const v1::InvokeRequest&, int call) {
    if (call == 0) leases_.AskToRelease(kMapping, kShard0);
    v1::InvokeResponse r;
    r.set_function_error("Unhandled");
    return absl::StatusOr<v1::InvokeResponse>(r);
  });
  auto poller = NewPoller("p1");
  // Each backoff wait moves the fake clock; the heartbeat then delivers the release request.
  for (int i = 0; i < 20 && !poller->shards().empty(); ++i) {
    NextHeartbeat();
    RunTimes(*poller, 1);
  }
  EXPECT_TRUE(poller->shards().empty());
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).lease_owner(), "");
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().type(), v1::TRIM_HORIZON_CHECKPOINT);
}

TEST_F(PollerTest, ConfigUpdateMidStreamAppliesFromTheNextBatch) {
  config_.set_batch_size(2);
  mappings_.Set(config_);
  AddShard(kShard0);
  Append(kShard0, 4);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.batches().size(), 2u);
  config_.set_batch_size(5);
  config_.set_function_endpoint("127.0.0.1:9001");
  UpdateConfig();
  NextHeartbeat();
  RunTimes(*poller, 1);  // heartbeat: new version fetched
  Append(kShard0, 10);
  RunTimes(*poller, 1);
  const auto calls = function_.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[2].request.records_size(), 5);
  EXPECT_EQ(calls[3].request.records_size(), 5);
  EXPECT_EQ(calls[1].endpoint, "127.0.0.1:9000");
  EXPECT_EQ(calls[2].endpoint, "127.0.0.1:9001");
}

TEST_F(PollerTest, DisabledMappingReleasesItsLeases) {
  AddShard(kShard0);
  Append(kShard0, 3);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  ASSERT_EQ(function_.call_count(), 1);
  config_.set_enabled(false);
  config_.set_state(v1::DISABLED);
  UpdateConfig();
  NextHeartbeat();
  RunTimes(*poller, 2);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).lease_owner(), "");
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().sequence_number(), "3");
  Append(kShard0, 3);
  RunTimes(*poller, 2);  // the lease is assignable in the fake, but the mapping is disabled
  EXPECT_EQ(function_.call_count(), 1);
}

// Issue 14, item 2: the poller kept the disabled configuration of a mapping it no longer worked
// on, so after a re-enable it acquired and released the lease again and again.
TEST_F(PollerTest, ReEnabledMappingResumesFromItsCheckpoint) {
  AddShard(kShard0);
  Append(kShard0, 3);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  ASSERT_EQ(function_.call_count(), 1);
  config_.set_enabled(false);
  config_.set_state(v1::DISABLED);
  UpdateConfig();
  NextHeartbeat();
  RunTimes(*poller, 2);
  ASSERT_EQ(leases_.GetLease(kMapping, kShard0).lease_owner(), "");
  Append(kShard0, 3);
  config_.set_enabled(true);
  config_.set_state(v1::ENABLED);
  UpdateConfig();
  const int releases_before = leases_.release_calls();
  NextHeartbeat();
  RunTimes(*poller, 2);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).lease_owner(), "p1");
  EXPECT_EQ(leases_.release_calls(), releases_before);
  ASSERT_EQ(function_.call_count(), 2);
  EXPECT_EQ(function_.batches().back(), (std::vector<std::string>{"4", "5", "6"}));
}

// Issue 14, item 7: records the processor refused (a store bug: a sequence number out of order
// or not a number) used to be dropped while the reader moved past them, so the watermark carried
// over the gap once later records were done. The consumer now gives the lease up instead: the
// checkpoint never passes the refused record, and nothing after it is delivered.
TEST_F(PollerTest, RecordsTheProcessorRefusesGiveTheLeaseUpInsteadOfBeingSkipped) {
  AddShard(kShard0);
  Append(kShard0, 5);
  shards_.CorruptSequenceNumber(kStream, kShard0, 3, "not-a-number");
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  Append(kShard0, 2);  // 6, 7: past the refused records
  for (int i = 0; i < 3; ++i) {
    NextHeartbeat();
    RunTimes(*poller, 1);
  }
  for (const auto& call : leases_.checkpoint_calls()) {
    if (call.checkpoint.type() != v1::SEQUENCE_NUMBER) continue;
    EXPECT_LE(std::stoull(call.checkpoint.sequence_number()), 2u) << "checkpointed past the gap";
  }
  for (const auto& batch : function_.batches()) {
    for (const std::string& seq : batch)
      EXPECT_LE(std::stoull(seq), 2u) << "delivered past the gap";
  }
  EXPECT_GE(leases_.release_calls(), 1) << "the lease was not given back";
}

TEST_F(PollerTest, DeletedMappingStopsItsWork) {
  AddShard(kShard0);
  Append(kShard0, 3);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  mappings_.Delete(kMapping);
  Append(kShard0, 3);
  NextHeartbeat();
  RunTimes(*poller, 3);
  EXPECT_EQ(function_.call_count(), 1);
  EXPECT_TRUE(poller->shards().empty());
}

TEST_F(PollerTest, HeartbeatsFailingForTheLeaseDurationStopEveryShard) {
  AddShard(kShard0);
  Append(kShard0, 3);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  leases_.FailHeartbeats(true);
  Append(kShard0, 3);
  clock_.Advance(absl::Milliseconds(FakeLeaseService::kLeaseDurationMs));
  EXPECT_EQ(poller->RunOnce().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(function_.call_count(), 1);
  EXPECT_TRUE(poller->shards().empty());
}

// Issue 14, item 8: the heartbeat used to share its thread with the configuration refresh, so
// a stream tracker that did not answer (for its 10 s deadline, the default lease duration)
// stopped the heartbeats and expired every lease the poller held.
TEST_F(PollerTest, HeartbeatsGoOnWhileTheStreamTrackerDoesNotAnswer) {
  AddShard(kShard0);
  testing::ObservedLeaseService observed(leases_);
  auto poller = NewPollerVia(observed);
  ASSERT_TRUE(poller->RunOnce().ok());  // registered, the lease acquired
  ASSERT_EQ(poller->shards().size(), 1u);
  mappings_.Hang(true);
  poller->Start();
  ASSERT_OK(clock_.WaitForWaiters(1)) << "the poller never parked";
  NextHeartbeat();  // the heartbeat makes a configuration refresh due, which hangs
  ASSERT_TRUE(mappings_.AwaitHungCalls(1)) << "the configuration refresh never asked the tracker";
  for (int i = 0; i < 4; ++i) {  // 12 s: past the 9 s lease duration
    const size_t replies = observed.heartbeat_replies().size();
    ASSERT_OK(clock_.WaitForWaiters(1)) << "no heartbeat loop waits for its next heartbeat";
    NextHeartbeat();
    ASSERT_TRUE(observed.AwaitHeartbeatReplies(replies)) << "heartbeat " << i << " never came";
  }
  EXPECT_EQ(poller->shards().size(), 1u) << "the lease was given up while the tracker hung";
  mappings_.Hang(false);
  poller->Shutdown();
}

// Leasing restarts keep a live poller's leases (restart grace), but the poller has already
// stopped its shards after heartbeating failed for the lease duration. A lease still listed as
// its own with no consumer here must not stay owned and idle: the poller gives it back and takes
// it again with a new counter, and the shard resumes from its checkpoint.
TEST_F(PollerTest, LeaseStillOwnedAfterHeartbeatsRecoverIsTakenAgainAndResumes) {
  AddShard(kShard0);
  Append(kShard0, 3);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  ASSERT_EQ(function_.call_count(), 1);
  leases_.FailHeartbeats(true);
  clock_.Advance(absl::Milliseconds(FakeLeaseService::kLeaseDurationMs));
  EXPECT_EQ(poller->RunOnce().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(poller->shards().empty());

  leases_.FailHeartbeats(false);
  Append(kShard0, 2);
  NextHeartbeat();
  RunTimes(*poller, 3);
  ASSERT_EQ(function_.call_count(), 2) << "the shard never resumed after leasing came back";
  const v1::InvokeRequest resumed = function_.calls().back().request;
  ASSERT_EQ(resumed.records_size(), 2) << "resumed from the wrong checkpoint";
  EXPECT_EQ(resumed.records(0).data(), absl::StrCat(kShard0, "#0"));
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).lease_counter(), 2)
      << "the lease was not taken again under a new counter";
}

TEST_F(PollerTest, CapacityBoundsTheLeasesHeld) {
  AddShard(kShard0);
  AddShard(kShard1);
  auto poller = NewPoller("p1", 1);
  RunTimes(*poller, 3);
  EXPECT_EQ(poller->shards().size(), 1u);
}

TEST_F(PollerTest, ReadErrorsAreRetriedWithoutLosingRecordsAndLoggedOnce) {
  tributary::testing::LogCapture log;
  AddShard(kShard0);
  Append(kShard0, 5);
  shards_.FailNextReads(2);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 3);
  ASSERT_EQ(function_.call_count(), 1);
  EXPECT_EQ(function_.batches()[0].size(), 5u);
  const std::string shard = absl::StrCat("mapping mapping-1 shard ", kShard0);
  EXPECT_EQ(log.Count({shard, "reading the shard failed"}), 1) << "two failures, one line";
  EXPECT_EQ(log.Count({shard, "reads succeed again"}), 1);
}

TEST_F(PollerTest, ShutdownReleasesEveryLeaseAndDeregisters) {
  AddShard(kShard0);
  AddShard(kShard1);
  Append(kShard0, 2);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  const int releases_before = leases_.release_calls();
  poller->Shutdown();
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).lease_owner(), "");
  EXPECT_EQ(leases_.GetLease(kMapping, kShard1).lease_owner(), "");
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().sequence_number(), "2");
  // One DeregisterPoller gives every lease back: no ReleaseLease per lease.
  EXPECT_EQ(leases_.release_calls(), releases_before);
  EXPECT_EQ(poller->RunOnce().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(PollerTest, HeartbeatsReportOnlyIteratorAgesThatChangedWithAFullReportEveryN) {
  AddShard(kShard0);
  AddShard(kShard1);
  Append(kShard0, 1);
  testing::ObservedLeaseService observed(leases_);
  std::unique_ptr<Poller> owned = NewPollerVia(observed, /*full_progress_every=*/3);
  Poller& poller = *owned;
  PollerMetrics& metrics = *metrics_.back();
  RunTimes(poller, 1);  // registers, acquires both, delivers shard 0's record
  // A shard's age as its lanes report it: a batch whose last record arrived `age` ago.
  auto set_age = [&](const std::string& shard, absl::Duration age) {
    const ShardContext context{kMapping, kStream, shard};
    metrics.BatchStarted(context, clock_.Now() - age);
    metrics.BatchFinished(context);
  };
  set_age(kShard0, absl::Seconds(2));
  // The reported ages, per heartbeat: shard id → iterator_age_ms.
  auto reported = [&](int i) {
    std::map<std::string, int64_t> out;
    const std::vector<v1::HeartbeatRequest> heartbeats = observed.heartbeats();
    if (i >= static_cast<int>(heartbeats.size())) return out;
    for (const auto& h : heartbeats[i].held_leases()) {
      out[h.lease_key().shard_id()] = h.iterator_age_ms();
    }
    return out;
  };
  NextHeartbeat();
  RunTimes(poller, 1);  // #0: a full report
  EXPECT_EQ(reported(0), (std::map<std::string, int64_t>{{kShard0, 2000}, {kShard1, 0}}));
  NextHeartbeat();
  RunTimes(poller, 1);  // #1: idle, nothing changed
  EXPECT_TRUE(reported(1).empty());
  set_age(kShard1, absl::Seconds(1));
  NextHeartbeat();
  RunTimes(poller, 1);  // #2: only shard 1 changed
  EXPECT_EQ(reported(2), (std::map<std::string, int64_t>{{kShard1, 1000}}));
  NextHeartbeat();
  RunTimes(poller, 1);  // #3: the third after the last full one is full again
  EXPECT_EQ(reported(3), (std::map<std::string, int64_t>{{kShard0, 2000}, {kShard1, 1000}}));
  ASSERT_EQ(observed.heartbeats().size(), 4u);
}

TEST_F(PollerTest, HeartbeatsReportTheLastProcessingResultWhenItChangesAndOnTheFullReport) {
  config_.set_maximum_retry_attempts(0);  // a failed batch is skipped after one invocation
  mappings_.Set(config_);
  AddShard(kShard0);
  Append(kShard0, 1);
  testing::ObservedLeaseService observed(leases_);
  std::unique_ptr<Poller> owned = NewPollerVia(observed, /*full_progress_every=*/3);
  Poller& poller = *owned;
  RunTimes(poller, 1);  // registers, acquires, delivers the record: OK
  const absl::Time ok_at = clock_.Now();
  // Per heartbeat: shard id → (result, its time) for the leases that carried a result.
  auto results = [&](int i) {
    std::map<std::string, std::pair<std::string, absl::Time>> out;
    const std::vector<v1::HeartbeatRequest> heartbeats = observed.heartbeats();
    EXPECT_LT(i, static_cast<int>(heartbeats.size()));
    if (i >= static_cast<int>(heartbeats.size())) return out;
    for (const auto& h : heartbeats[i].held_leases()) {
      if (h.last_processing_result().empty()) continue;
      out[h.lease_key().shard_id()] = {h.last_processing_result(),
                                       FromProtoTimestamp(h.last_processing_result_time())};
    }
    return out;
  };
  using Results = std::map<std::string, std::pair<std::string, absl::Time>>;
  NextHeartbeat();
  RunTimes(poller, 1);  // #0 (full)
  EXPECT_EQ(results(0), (Results{{kShard0, {"OK", ok_at}}}));

  clock_.Advance(absl::Milliseconds(100));
  Append(kShard0, 1);
  RunTimes(poller, 1);  // delivered again: OK, observed later
  EXPECT_EQ(function_.call_count(), 2);
  NextHeartbeat();
  RunTimes(poller, 1);  // #1
  EXPECT_TRUE(results(1).empty()) << "an unchanged result is not sent again";

  function_.SetScript([](const v1::InvokeRequest&, int) -> absl::StatusOr<v1::InvokeResponse> {
    v1::InvokeResponse reply;
    reply.set_function_error("Unhandled");
    return reply;
  });
  Append(kShard0, 1);
  RunTimes(poller, 1);  // the function fails
  const absl::Time failed_at = clock_.Now();
  NextHeartbeat();
  RunTimes(poller, 1);  // #2
  EXPECT_EQ(results(2), (Results{{kShard0, {"PROBLEM: Function call failed", failed_at}}}));

  NextHeartbeat();
  RunTimes(poller, 1);  // #3: full again, the unchanged result included
  EXPECT_EQ(results(3), (Results{{kShard0, {"PROBLEM: Function call failed", failed_at}}}));
  NextHeartbeat();
  RunTimes(poller, 1);  // #4
  EXPECT_TRUE(results(4).empty());
  ASSERT_EQ(observed.heartbeats().size(), 5u);
}

TEST_F(PollerTest, HeartbeatsReportTheLastErrorWithANewResultOrWhenItChanges) {
  config_.set_maximum_retry_attempts(0);  // a failed batch is skipped after one invocation
  mappings_.Set(config_);
  AddShard(kShard0);
  testing::ObservedLeaseService observed(leases_);
  std::unique_ptr<Poller> owned = NewPollerVia(observed, /*full_progress_every=*/4);
  Poller& poller = *owned;
  std::string error_text = "Unhandled: boom";
  function_.SetScript([&](const v1::InvokeRequest&, int) -> absl::StatusOr<v1::InvokeResponse> {
    v1::InvokeResponse reply;
    reply.set_function_error(error_text);
    return reply;
  });
  // Per heartbeat: the error carried for shard 0 as "kind: message @ time", or "" for none.
  auto error = [&](int i) -> std::string {
    const std::vector<v1::HeartbeatRequest> heartbeats = observed.heartbeats();
    EXPECT_LT(i, static_cast<int>(heartbeats.size()));
    if (i >= static_cast<int>(heartbeats.size())) return "?";
    for (const auto& h : heartbeats[i].held_leases()) {
      if (h.lease_key().shard_id() != kShard0 || h.last_error_kind().empty()) continue;
      return absl::StrCat(h.last_error_kind(), ": ", h.last_error_message(), " @ ",
                          absl::FormatTime(FromProtoTimestamp(h.last_error_time())));
    }
    return "";
  };
  RunTimes(poller, 1);  // registers, acquires
  NextHeartbeat();
  RunTimes(poller, 1);  // #0 (full): nothing failed yet
  EXPECT_EQ(error(0), "");

  Append(kShard0, 1);
  RunTimes(poller, 1);
  const absl::Time first_at = clock_.Now();
  NextHeartbeat();
  RunTimes(poller, 1);  // #1: a new result, with its error
  EXPECT_EQ(error(1),
            absl::StrCat("FunctionError: Unhandled: boom @ ", absl::FormatTime(first_at)));

  Append(kShard0, 1);
  RunTimes(poller, 1);  // the same failure again
  NextHeartbeat();
  RunTimes(poller, 1);  // #2
  EXPECT_EQ(error(2), "") << "the same error again waits for the full report";

  error_text = "Unhandled: another";
  Append(kShard0, 1);
  RunTimes(poller, 1);
  const absl::Time other_at = clock_.Now();
  NextHeartbeat();
  RunTimes(poller, 1);  // #3
  EXPECT_EQ(error(3),
            absl::StrCat("FunctionError: Unhandled: another @ ", absl::FormatTime(other_at)));
  NextHeartbeat();
  RunTimes(poller, 1);  // #4: full
  EXPECT_EQ(error(4),
            absl::StrCat("FunctionError: Unhandled: another @ ", absl::FormatTime(other_at)));
}

// ---- What the poller logs (poller.h, metrics.h) ----

// Leasing behind a wrong address: RegisterPoller fails with UNAVAILABLE while down.
class UnreachableLeasing : public LeaseService {
 public:
  explicit UnreachableLeasing(LeaseService& inner) : inner_(inner) {}
  void SetDown(bool down) {
    absl::MutexLock lock(&mu_);
    down_ = down;
  }
  // Waits (real time, a failure guard) until RegisterPoller was called `n` times.
  [[nodiscard]] ::testing::AssertionResult AwaitRegisterCalls(int n) {
    return tributary::testing::IsOk(AwaitFor(
        mu_, absl::Seconds(30), absl::StrCat(n, " RegisterPoller calls"),
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return register_calls_ >= n; },
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return absl::StrCat(register_calls_); }));
  }
  int register_calls() {
    absl::MutexLock lock(&mu_);
    return register_calls_;
  }
  absl::StatusOr<v1::RegisterPollerResponse> RegisterPoller(
      const v1::RegisterPollerRequest& request) override {
    {
      absl::MutexLock lock(&mu_);
      ++register_calls_;
      if (down_) return absl::UnavailableError("failed to connect to all addresses");
    }
    return inner_.RegisterPoller(request);
  }
  absl::StatusOr<v1::DeregisterPollerResponse> DeregisterPoller(
      const v1::DeregisterPollerRequest& request) override {
    return inner_.DeregisterPoller(request);
  }
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request) override {
    return inner_.Heartbeat(request);
  }
  absl::StatusOr<v1::AcquireLeasesResponse> AcquireLeases(
      const v1::AcquireLeasesRequest& request) override {
    return inner_.AcquireLeases(request);
  }
  absl::StatusOr<v1::ReleaseLeaseResponse> ReleaseLease(
      const v1::ReleaseLeaseRequest& request) override {
    return inner_.ReleaseLease(request);
  }
  absl::StatusOr<v1::CheckpointResponse> Checkpoint(const v1::CheckpointRequest& request) override {
    return inner_.Checkpoint(request);
  }

 private:
  LeaseService& inner_;
  absl::Mutex mu_;
  bool down_ ABSL_GUARDED_BY(mu_) = true;
  int register_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// Regression (issue 14, item 4): the loop dropped RunOnce's error, so a poller pointed at a wrong
// leasing address logged nothing at all.
TEST_F(PollerTest, TheLoopLogsAFailingPassOnceAndItsRecoveryOnce) {
  tributary::testing::LogCapture log;
  UnreachableLeasing leasing(leases_);
  std::unique_ptr<Poller> poller = NewPollerVia(leasing);
  poller->Start();
  for (int passes = 1; passes <= 4; ++passes) {
    ASSERT_TRUE(leasing.AwaitRegisterCalls(passes)) << "pass " << passes;
    ASSERT_OK(clock_.WaitForWaiters(2));  // both loops wait for their next pass
    clock_.Advance(absl::Seconds(1));
  }
  ASSERT_TRUE(leasing.AwaitRegisterCalls(5));
  EXPECT_EQ(leasing.register_calls(), 5) << "a failed registration is retried at once";
  EXPECT_EQ(log.Count({"poller p1: heartbeat: UNAVAILABLE: registering poller: failed to connect"}),
            1)
      << "once, not once per pass";
  leasing.SetDown(false);
  ASSERT_OK(clock_.WaitForWaiters(2));
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(log.WaitFor({"poller p1: heartbeat: succeeds again"}));
  poller->Shutdown();
  EXPECT_EQ(log.Count({"poller p1: heartbeat: "}), 2);
}

TEST_F(PollerTest, EveryLeaseGainedAndGivenUpIsLoggedOnceWithWhy) {
  tributary::testing::LogCapture log;
  AddShard(kShard0);
  AddShard(kShard1);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  const std::string lease0 = absl::StrCat("lease of mapping mapping-1 shard ", kShard0);
  const std::string lease1 = absl::StrCat("lease of mapping mapping-1 shard ", kShard1);
  EXPECT_EQ(log.Count({"poller p1: acquired the " + lease0 +
                       " (counter 1) from checkpoint "
                       "TRIM_HORIZON_CHECKPOINT"}),
            1);
  EXPECT_EQ(log.Count({"poller p1: acquired the " + lease1}), 1);

  leases_.Steal(kMapping, kShard0, "p2");
  leases_.AskToRelease(kMapping, kShard1);
  for (int i = 0; i < 3; ++i) {
    NextHeartbeat();
    RunTimes(*poller, 1);
  }
  EXPECT_EQ(log.Count({"poller p1: lost the " + lease0 +
                       " (counter 1): the heartbeat reply does "
                       "not list it as ours"}),
            1);
  EXPECT_EQ(log.Count({"poller p1: gave back the " + lease1 +
                       " (counter 1): leasing asked for it "
                       "back"}),
            1);
  EXPECT_EQ(log.Count({"poller p1: lost the "}) + log.Count({"poller p1: gave back the "}), 2)
      << "one line per lease given up";
}

TEST_F(PollerTest, AMappingWhoseConfigurationCannotBeFetchedIsLoggedOncePerChange) {
  tributary::testing::LogCapture log;
  AddShard(kShard0);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  mappings_.FailGets(true);
  for (int i = 0; i < 3; ++i) {
    NextHeartbeat();
    RunTimes(*poller, 1);
  }
  const std::string subject = "poller p1: fetching the configuration of mapping mapping-1: ";
  EXPECT_EQ(log.Count({subject + "UNAVAILABLE"}), 1);
  Append(kShard0, 2);
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.call_count(), 1) << "the cached configuration is used meanwhile";
  mappings_.FailGets(false);
  NextHeartbeat();
  RunTimes(*poller, 1);
  EXPECT_EQ(log.Count({subject + "succeeds again"}), 1);
}

TEST_F(PollerTest, SteadyHeartbeatsCarryADigestAndGetNoLeaseListWhileALossStillShows) {
  AddShard(kShard0);
  AddShard(kShard1);
  testing::ObservedLeaseService observed(leases_);
  std::unique_ptr<Poller> owned = NewPollerVia(observed);
  Poller& poller = *owned;
  RunTimes(poller, 1);  // registers and acquires both
  NextHeartbeat();
  RunTimes(poller, 1);
  ASSERT_EQ(observed.heartbeats().size(), 1u);
  leasing::OwnedDigest expected;
  for (const char* shard : {kShard0, kShard1}) {
    expected.Add(kMapping, shard, leases_.GetLease(kMapping, shard).lease_counter());
  }
  EXPECT_EQ(observed.heartbeats()[0].owned_digest(), expected.value());
  EXPECT_TRUE(observed.heartbeat_replies()[0].owned_unchanged());
  EXPECT_EQ(observed.heartbeat_replies()[0].owned_leases_size(), 0);
  Append(kShard0, 3);
  Append(kShard1, 3);
  RunTimes(poller, 2);
  EXPECT_EQ(function_.call_count(), 2) << "both shards still worked on";

  leases_.Steal(kMapping, kShard0, "p2");
  NextHeartbeat();
  RunTimes(poller, 1);
  EXPECT_FALSE(observed.heartbeat_replies()[1].owned_unchanged());
  Append(kShard0, 3);
  Append(kShard1, 3);
  RunTimes(poller, 2);
  EXPECT_EQ(function_.call_count(), 3) << "the stolen shard stopped, the other one goes on";
}

TEST_F(PollerTest, MetricValuesAfterAScriptedRun) {
  config_.set_batch_size(4);
  config_.set_maximum_retry_attempts(1);
  config_.mutable_destination_config()->mutable_on_failure()->set_destination("dlq");
  mappings_.Set(config_);
  AddShard(kShard0);
  Append(kShard0, 8);  // two batches of 4
  clock_.Advance(absl::Milliseconds(500));
  // Batch 1: fails twice (1 retry) and is dropped. Batch 2: succeeds after 30 ms.
  function_.SetScript([this](const v1::InvokeRequest&, int call) {
    v1::InvokeResponse r;
    if (call < 2) {
      r.set_function_error("Unhandled");
    } else {
      clock_.Advance(absl::Milliseconds(30));
    }
    return absl::StatusOr<v1::InvokeResponse>(r);
  });
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  const auto snapshot = metrics_.back()->Snapshot();
  ASSERT_EQ(snapshot.shards_size(), 1);
  const v1::ShardMetrics& m = snapshot.shards(0);
  EXPECT_EQ(snapshot.poller_id(), "p1");
  EXPECT_EQ(m.event_source_mapping_uuid(), kMapping);
  EXPECT_EQ(m.stream_name(), kStream);
  EXPECT_EQ(m.shard_id(), kShard0);
  EXPECT_EQ(m.invocations(), 3);
  EXPECT_EQ(m.function_errors(), 2);
  EXPECT_EQ(m.retries(), 1);
  EXPECT_EQ(m.bisections(), 0);
  EXPECT_EQ(m.records_delivered(), 4);
  EXPECT_EQ(m.dropped_records().at("RetryAttemptsExhausted"), 4);
  EXPECT_EQ(m.batch_size().count(), 3);
  EXPECT_EQ(m.batch_size().sum(), 12);
  EXPECT_EQ(m.invoke_latency_ms().count(), 3);
  EXPECT_EQ(m.invoke_latency_ms().sum(), 30);
  EXPECT_EQ(m.checkpoint(), "8");
  // Every record is done (delivered or dropped): the shard is caught up, so its iterator age is
  // 0 rather than the age its last batch ended with (the clock-derived age of a batch is checked
  // in batch_processor_test, and the age kept while records wait in shard_processor_test).
  EXPECT_EQ(m.iterator_age_ms(), 0);
  EXPECT_EQ(destination_.puts().size(), 1u);

  const std::string text = metrics_.back()->RenderPrometheus();
  // Counters and histograms per mapping (cardinality: not per shard).
  const std::string labels =
      absl::StrCat("poller=\"p1\",mapping=\"", kMapping, "\",stream=\"orders\"");
  EXPECT_NE(text.find(absl::StrCat("tributary_poller_iterator_age_seconds{", labels, ",shard=\"",
                                   kShard0, "\"} ")),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(absl::StrCat("tributary_poller_invocations_total{", labels, "} 3\n")),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(absl::StrCat("tributary_poller_dropped_records_total{", labels,
                                   ",condition=\"RetryAttemptsExhausted\"} 4\n")),
            std::string::npos);
  EXPECT_NE(
      text.find(absl::StrCat("tributary_poller_batch_size_bucket{", labels, ",le=\"2\"} 0\n")),
      std::string::npos);
  EXPECT_NE(
      text.find(absl::StrCat("tributary_poller_batch_size_bucket{", labels, ",le=\"5\"} 3\n")),
      std::string::npos);
  EXPECT_NE(
      text.find(absl::StrCat("tributary_poller_batch_size_bucket{", labels, ",le=\"+Inf\"} 3\n")),
      std::string::npos);
  EXPECT_NE(text.find("# TYPE tributary_poller_invoke_latency_seconds histogram\n"),
            std::string::npos);
  EXPECT_NE(
      text.find(absl::StrCat("tributary_poller_invoke_latency_seconds_sum{", labels, "} 0.03\n")),
      std::string::npos)
      << text;
  EXPECT_TRUE(metrics::PromtoolCheckMetrics(text));
}

// Filtering (filter_criteria) end to end: records matching no filter are never invoked and are
// checkpointed past like delivered ones.

void SetFilters(v1::EventSourceMappingConfiguration* config,
                std::initializer_list<std::string> patterns) {
  config->clear_filter_criteria();
  for (const std::string& p : patterns) {
    config->mutable_filter_criteria()->add_filters()->set_pattern(p);
  }
}

TEST_F(PollerTest, OnlyMatchingRecordsAreInvokedAndTheCheckpointPassesTheOthers) {
  SetFilters(&config_, {R"({"data":{"type":["order"]}})"});
  mappings_.Set(config_);
  AddShard(kShard0);
  for (int i = 1; i <= 9; ++i) {
    shards_.Append(kStream, kShard0, "k",
                   i % 3 == 0 ? R"({"type":"order"})" : R"({"type":"refund"})", clock_.Now());
  }
  shards_.Append(kStream, kShard0, "k", "not json", clock_.Now());
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.batches(), (std::vector<std::vector<std::string>>{{"3", "6", "9"}}));
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().sequence_number(), "10")
      << "the filtered records 7, 8 and 10 after the last delivered one are checkpointed too";
  const auto snapshot = metrics_.back()->Snapshot();
  ASSERT_EQ(snapshot.shards_size(), 1);
  EXPECT_EQ(snapshot.shards(0).records_filtered(), 7);
  EXPECT_EQ(snapshot.shards(0).records_delivered(), 3);
  EXPECT_NE(metrics_.back()->RenderPrometheus().find("tributary_poller_records_filtered_total{"),
            std::string::npos);
  EXPECT_TRUE(destination_.puts().empty());
}

TEST_F(PollerTest, AShardOfOnlyFilteredRecordsReachesShardEndWithoutAnInvocation) {
  SetFilters(&config_, {R"({"partitionKey":["vip"]})"});
  mappings_.Set(config_);
  AddShard(kShard0);
  AddShard(kShard1, {kShard0});
  Append(kShard0, 25, "regular");
  shards_.Close(kStream, kShard0);
  Append(kShard1, 2, "vip");
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.call_count(), 0);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().type(), v1::SHARD_END);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).lease_owner(), "") << "released at SHARD_END";
  RunTimes(*poller, 2);
  EXPECT_EQ(DeliveredShards(), (std::vector<std::string>{kShard1})) << "then the child runs";
  EXPECT_EQ(leases_.GetLease(kMapping, kShard1).checkpoint().sequence_number(), "2");
}

TEST_F(PollerTest, FilterUpdateMidStreamAppliesToLaterBatches) {
  SetFilters(&config_, {R"({"partitionKey":["a"]})"});
  mappings_.Set(config_);
  AddShard(kShard0);
  Append(kShard0, 2, "a");
  Append(kShard0, 2, "b");
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.batches(), (std::vector<std::vector<std::string>>{{"1", "2"}}));

  SetFilters(&config_, {R"({"partitionKey":["b"]})"});
  UpdateConfig();
  NextHeartbeat();
  RunTimes(*poller, 1);  // heartbeat: new version fetched
  Append(kShard0, 2, "a");
  Append(kShard0, 2, "b");
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.batches().back(), (std::vector<std::string>{"7", "8"}));

  SetFilters(&config_, {});  // filtering removed
  UpdateConfig();
  NextHeartbeat();
  RunTimes(*poller, 1);
  Append(kShard0, 1, "a");
  Append(kShard0, 1, "b");
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.batches().back(), (std::vector<std::string>{"9", "10"}));
  EXPECT_EQ(function_.call_count(), 3);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).checkpoint().sequence_number(), "10");
}

// Tumbling windows: a function that counts records per window in its state. The fake clock
// starts at 1,700,000,000 s, a multiple of 100, so 100 s windows start at t0.

class TumblingWindowPollerTest : public PollerTest {
 protected:
  TumblingWindowPollerTest() {
    config_.set_tumbling_window_in_seconds(100);
    mappings_.Set(config_);
    function_.SetScript(testing::ScriptedFunction::CountInWindowState());
  }

  std::string Checkpoint(const std::string& shard = kShard0) {
    const v1::Lease lease = leases_.GetLease(kMapping, shard);
    return lease.checkpoint().type() == v1::SEQUENCE_NUMBER ? lease.checkpoint().sequence_number()
           : lease.checkpoint().type() == v1::SHARD_END     ? "SHARD_END"
                                                            : "none";
  }

  // The count each final invocation carried, in order.
  std::vector<int64_t> FinalCounts() {
    std::vector<int64_t> out;
    for (const auto& call : function_.calls()) {
      if (call.request.is_final_invoke_for_window()) {
        out.push_back(testing::ScriptedFunction::CountOf(call.request.state()));
      }
    }
    return out;
  }

  // Moves the clock to `t` a heartbeat interval at a time, running `poller` at each step (as its
  // loop would: a jump longer than the lease duration would stop its shards).
  void RunUntil(Poller& poller, absl::Time t) {
    while (clock_.Now() < t) {
      clock_.SetTime(
          std::min(t, clock_.Now() + absl::Milliseconds(FakeLeaseService::kHeartbeatIntervalMs)));
      RunTimes(poller, 1);
    }
  }

  const absl::Time t0_ = clock_.Now();
};

// Catching up on a backlog whose windows ended long ago, two records a read: the lane runs empty
// between reads, but the reader is behind the tip, so the window is not closed on the clock (and
// reopened by the next read): one final invocation with every record of the window.
TEST_F(TumblingWindowPollerTest, ABacklogWindowIsClosedOnceWithAllItsRecords) {
  AddShard(kShard0);
  Append(kShard0, 6);  // window [t0, t0 + 100 s)
  clock_.SetTime(t0_ + absl::Seconds(1000));
  shards_.SetMaxRecordsPerRead(2);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 6);
  EXPECT_EQ(FinalCounts(), (std::vector<int64_t>{6}));
  EXPECT_EQ(Checkpoint(), "6");
}

TEST_F(TumblingWindowPollerTest, CountsAggregatePerWindowAndTheCheckpointMovesOnlyAtWindowClose) {
  AddShard(kShard0);
  auto poller = NewPoller("p1");
  Append(kShard0, 5);
  RunTimes(*poller, 1);
  EXPECT_EQ(function_.call_count(), 1);
  EXPECT_EQ(Checkpoint(), "none") << "records 1-5 are in the open window";

  RunUntil(*poller, t0_ + absl::Seconds(50));
  Append(kShard0, 3);
  RunTimes(*poller, 1);
  EXPECT_EQ(testing::ScriptedFunction::CountOf(function_.calls().back().request.state()), 5);
  EXPECT_EQ(Checkpoint(), "none");

  RunUntil(*poller, t0_ + absl::Seconds(100));
  Append(kShard0, 2);  // the next window: closes the first
  RunTimes(*poller, 1);
  EXPECT_EQ(FinalCounts(), (std::vector<int64_t>{8}));
  EXPECT_EQ(Checkpoint(), "8");
  EXPECT_TRUE(function_.calls().back().request.state().values().empty()) << "a fresh window";

  RunUntil(*poller, t0_ + absl::Seconds(200) + absl::Milliseconds(999));
  EXPECT_EQ(FinalCounts(), (std::vector<int64_t>{8})) << "the grace (1 s) has not passed";
  EXPECT_EQ(Checkpoint(), "8");
  RunUntil(*poller, t0_ + absl::Seconds(201));
  EXPECT_EQ(FinalCounts(), (std::vector<int64_t>{8, 2}));
  EXPECT_EQ(Checkpoint(), "10");
  const auto snapshot = metrics_.back()->Snapshot();
  ASSERT_EQ(snapshot.shards_size(), 1);
  EXPECT_EQ(snapshot.shards(0).windows_closed(), 2);
  EXPECT_NE(metrics_.back()->RenderPrometheus().find("tributary_poller_windows_closed_total{"),
            std::string::npos);
}

TEST_F(TumblingWindowPollerTest, ANewOwnerReReadsAnOpenWindowFromItsStartWithAnEmptyState) {
  AddShard(kShard0);
  Append(kShard0, 4);
  auto p1 = NewPoller("p1");
  RunTimes(*p1, 1);
  ASSERT_EQ(function_.call_count(), 1);
  EXPECT_EQ(Checkpoint(), "none");
  leases_.Steal(kMapping, kShard0, "");  // p1's lease expired mid-window
  Append(kShard0, 2);
  auto p2 = NewPoller("p2");
  RunTimes(*p2, 1);
  const auto calls = function_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(function_.batches()[1], (std::vector<std::string>{"1", "2", "3", "4", "5", "6"}));
  EXPECT_TRUE(calls[1].request.state().values().empty()) << "p1's state died with it";
  RunUntil(*p2, t0_ + absl::Seconds(101));
  EXPECT_EQ(FinalCounts(), (std::vector<int64_t>{6}));
  EXPECT_EQ(Checkpoint(), "6");
}

TEST_F(TumblingWindowPollerTest, AReleaseMidWindowCheckpointsOnlyUpToTheWindow) {
  AddShard(kShard0);
  Append(kShard0, 3);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 1);
  RunUntil(*poller, t0_ + absl::Seconds(150));
  Append(kShard0, 2);  // window [100, 200): closes [0, 100)
  RunTimes(*poller, 1);
  ASSERT_EQ(Checkpoint(), "3");
  leases_.AskToRelease(kMapping, kShard0);
  NextHeartbeat();
  RunTimes(*poller, 1);  // release requested: checkpoint, release
  EXPECT_EQ(leases_.GetLease(kMapping, kShard0).lease_owner(), "");
  EXPECT_EQ(Checkpoint(), "3") << "records 4 and 5 are in the window still open";
  EXPECT_EQ(FinalCounts(), (std::vector<int64_t>{3})) << "no final invocation on release";
}

TEST_F(TumblingWindowPollerTest, TheShardEndClosesTheWindowBeforeSHARD_ENDAndTheChildStartsFresh) {
  AddShard(kShard0);
  AddShard(kShard1, {kShard0});
  Append(kShard0, 3);
  Append(kShard1, 2);
  shards_.Close(kStream, kShard0);
  auto poller = NewPoller("p1");
  RunTimes(*poller, 3);
  EXPECT_EQ(Checkpoint(kShard0), "SHARD_END");
  const auto calls = function_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[1].request.shard_id(), kShard0);
  EXPECT_TRUE(calls[1].request.is_final_invoke_for_window());
  EXPECT_EQ(testing::ScriptedFunction::CountOf(calls[1].request.state()), 3);
  EXPECT_EQ(calls[2].request.shard_id(), kShard1);
  EXPECT_EQ(calls[2].request.window().start().seconds(), absl::ToUnixSeconds(t0_))
      << "the same time window";
  EXPECT_TRUE(calls[2].request.state().values().empty()) << "but a fresh window in the child";
}

}  // namespace
}  // namespace tributary::poller
