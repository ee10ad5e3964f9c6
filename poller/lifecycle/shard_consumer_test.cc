// ShardConsumer on a Scheduler (a shared pool with fewer threads than lanes, and the timer),
// against in-memory leasing and a blocking in-memory shard, with a FakeClock; and its lifecycle's
// transitions, run inline (RunOnce).
#include "poller/lifecycle/shard_consumer.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "common/await.h"
#include "common/proto_util.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "poller/testing/fake_services.h"
#include "poller/testing/fakes.h"

namespace tributary::poller {
namespace {

constexpr char kMapping[] = "m";
constexpr char kStream[] = "s";
constexpr char kShard[] = "shardId-000000000000";

// Registers poller p1 with `capacity` and acquires its leases, expecting `capacity` of them.
v1::AcquireLeasesResponse RegisterAndAcquireAll(testing::FakeLeaseService& leases, int capacity) {
  v1::RegisterPollerRequest reg;
  reg.set_poller_id("p1");
  reg.set_capacity(capacity);
  EXPECT_TRUE(leases.RegisterPoller(reg).ok());
  v1::AcquireLeasesRequest acquire;
  acquire.set_poller_id("p1");
  auto granted = leases.AcquireLeases(acquire);
  EXPECT_TRUE(granted.ok() && granted->leases_size() == capacity);
  return granted.ok() ? *granted : v1::AcquireLeasesResponse();
}

// Waits for the consumer to leave kRunning; a failure guard of 30 s real time.
[[nodiscard]] ::testing::AssertionResult AwaitFinished(ShardConsumer& consumer) {
  constexpr absl::Duration kTimeout = absl::Seconds(30);
  absl::Notification finished;
  std::thread waiter([&] {
    consumer.AwaitFinished(MonotonicTime::InfiniteFuture());
    finished.Notify();
  });
  const bool ok = finished.WaitForNotificationWithTimeout(kTimeout);
  const bool running = consumer.state() == ShardConsumer::State::kRunning;
  if (!ok) consumer.Lose();  // unblocks the waiter
  waiter.join();
  if (ok) return ::testing::AssertionSuccess();
  return tributary::testing::IsOk(WaitTimedOut(
      kTimeout, absl::StrCat("the consumer of ", consumer.shard().shard_id, " to finish"),
      running ? "still running" : "finished as the wait ended"));
}

class ShardConsumerThreadsTest : public ::testing::Test {
 protected:
  ShardConsumerThreadsTest() {
    std::cout << "seed " << seed_ << "\n";
    config_.set_uuid(kMapping);
    config_.set_stream_name(kStream);
    config_.set_function_endpoint("f:1");
    config_.set_batch_size(5);
    config_.set_parallelization_factor(10);
    config_.set_maximum_retry_attempts(-1);
    config_.set_maximum_record_age_in_seconds(-1);
    shards_.AddShard(kStream, kShard);
    leases_.AddLease(kMapping, kShard, kStream);
    lease_ = RegisterAndAcquireAll(leases_, 1).leases(0);
  }

  std::unique_ptr<ShardConsumer> NewConsumer() {
    ShardConsumerOptions options;
    options.poller_id = "p1";
    options.checkpoint_interval = absl::ZeroDuration();
    return std::make_unique<ShardConsumer>(
        lease_, config_, options, shards_, observed_,
        LaneDeps{clock_, waiter_, function_, destination_, metrics_, BackoffOptions(), seed_});
  }

  const uint64_t seed_ = tributary::testing::TestSeed();
  FakeClock clock_;
  ClockWaiter waiter_{clock_};
  // Waits (a failure guard) until the started `consumer` reached SHARD_END, then stops it.
  void StopAtShardEnd(ShardConsumer& consumer) {
    ASSERT_TRUE(AwaitFinished(consumer)) << "the consumer did not reach SHARD_END";
    consumer.Stop();
    EXPECT_EQ(consumer.state(), ShardConsumer::State::kShardEnded);
  }

  // Each key's sequence numbers, in the order the function first got them, increase.
  static void ExpectPerKeyOrder(const std::map<std::string, std::vector<uint64_t>>& per_key) {
    for (const auto& [key, seqs] : per_key) {
      for (size_t i = 1; i < seqs.size(); ++i) EXPECT_LT(seqs[i - 1], seqs[i]) << key;
    }
  }

  // Every checkpoint was accepted and sequence-number checkpoints only moved forward.
  void ExpectCheckpointsMoveForward() {
    uint64_t last = 0;
    for (const auto& c : observed_.checkpoint_calls()) {
      EXPECT_TRUE(c.accepted);
      if (c.checkpoint.type() != v1::SEQUENCE_NUMBER) continue;
      const uint64_t seq = std::stoull(c.checkpoint.sequence_number());
      EXPECT_GT(seq, last);
      last = seq;
    }
  }

  testing::ScriptedFunction function_;
  testing::RecordingDestination destination_;
  PollerMetrics metrics_{"p1", clock_};
  testing::FakeLeaseService leases_;
  testing::ObservedLeaseService observed_{leases_};
  testing::InMemoryShards shards_{/*blocking=*/true};
  Scheduler scheduler_{clock_, 4};  // fewer threads than the 10 lanes
  v1::EventSourceMappingConfiguration config_;
  v1::Lease lease_;
};

TEST_F(ShardConsumerThreadsTest, ConcurrentLanesKeepPerKeyOrderAndReachShardEnd) {
  std::mt19937_64 rng(seed_);
  for (int i = 0; i < 500; ++i) {
    shards_.Append(kStream, kShard, absl::StrCat("key-", rng() % 37), "d", clock_.Now());
  }
  shards_.Close(kStream, kShard);
  auto consumer = NewConsumer();
  consumer->Start(scheduler_);
  ASSERT_NO_FATAL_FAILURE(StopAtShardEnd(*consumer));
  EXPECT_EQ(leases_.GetLease(kMapping, kShard).checkpoint().type(), v1::SHARD_END);
  EXPECT_EQ(leases_.GetLease(kMapping, kShard).lease_owner(), "");

  std::map<std::string, std::vector<uint64_t>> per_key;
  size_t total = 0;
  for (const auto& call : function_.calls()) {
    EXPECT_LE(call.request.records_size(), 5);
    std::set<int> lanes;
    for (const auto& r : call.request.records()) {
      per_key[r.partition_key()].push_back(std::stoull(r.sequence_number()));
      lanes.insert(LaneForPartitionKey(r.partition_key(), 10));
      ++total;
    }
    EXPECT_EQ(lanes.size(), 1u);
  }
  EXPECT_EQ(total, 500u);
  ExpectPerKeyOrder(per_key);
  ExpectCheckpointsMoveForward();
}

TEST_F(ShardConsumerThreadsTest, ParallelizationChangeWhileRunningKeepsPerKeyOrderAndEveryRecord) {
  // The lanes are rebuilt (10 → 3) while the lane workers run; a lane index's worker then runs
  // the batches of the new lane with that index.
  std::mt19937_64 rng(seed_);
  for (int i = 0; i < 300; ++i) {
    shards_.Append(kStream, kShard, absl::StrCat("key-", rng() % 37), "d", clock_.Now());
  }
  auto consumer = NewConsumer();
  consumer->Start(scheduler_);
  v1::EventSourceMappingConfiguration fewer = config_;
  fewer.set_parallelization_factor(3);
  consumer->UpdateConfig(fewer);
  for (int i = 0; i < 300; ++i) {
    shards_.Append(kStream, kShard, absl::StrCat("key-", rng() % 37), "d", clock_.Now());
  }
  shards_.Close(kStream, kShard);
  ASSERT_NO_FATAL_FAILURE(StopAtShardEnd(*consumer));

  std::map<std::string, std::vector<uint64_t>> per_key;
  size_t total = 0;
  for (const auto& call : function_.calls()) {
    std::set<int> lanes_of_10, lanes_of_3;
    for (const auto& r : call.request.records()) {
      per_key[r.partition_key()].push_back(std::stoull(r.sequence_number()));
      lanes_of_10.insert(LaneForPartitionKey(r.partition_key(), 10));
      lanes_of_3.insert(LaneForPartitionKey(r.partition_key(), 3));
      ++total;
    }
    EXPECT_TRUE(lanes_of_10.size() == 1u || lanes_of_3.size() == 1u);
  }
  EXPECT_EQ(total, 600u);
  ExpectPerKeyOrder(per_key);
}

TEST_F(ShardConsumerThreadsTest, LeaseLostDuringAnInvocationMeansNoCheckpointAndNoMoreInvokes) {
  for (int i = 0; i < 50; ++i) shards_.Append(kStream, kShard, "one-key", "d", clock_.Now());
  absl::Notification invoked, go_on;
  function_.SetScript([&](const v1::InvokeRequest&, int call) {
    if (call == 0) {
      invoked.Notify();
      go_on.WaitForNotificationWithTimeout(absl::Seconds(30));
    }
    return absl::StatusOr<v1::InvokeResponse>(v1::InvokeResponse());
  });
  auto consumer = NewConsumer();
  consumer->Start(scheduler_);
  ASSERT_TRUE(invoked.WaitForNotificationWithTimeout(absl::Seconds(30)));
  consumer->Lose();
  go_on.Notify();
  consumer->Stop();
  EXPECT_EQ(consumer->state(), ShardConsumer::State::kLost);
  EXPECT_EQ(function_.call_count(), 1);
  EXPECT_TRUE(observed_.checkpoint_calls().empty());
}

TEST_F(ShardConsumerThreadsTest, ReleaseFinishesTheInvocationThenCheckpointsAndReleases) {
  for (int i = 0; i < 50; ++i) shards_.Append(kStream, kShard, "one-key", "d", clock_.Now());
  absl::Notification invoked, go_on;
  function_.SetScript([&](const v1::InvokeRequest&, int call) {
    if (call == 2) {
      invoked.Notify();
      go_on.WaitForNotificationWithTimeout(absl::Seconds(30));
    }
    return absl::StatusOr<v1::InvokeResponse>(v1::InvokeResponse());
  });
  auto consumer = NewConsumer();
  consumer->Start(scheduler_);
  ASSERT_TRUE(invoked.WaitForNotificationWithTimeout(absl::Seconds(30)));
  consumer->RequestRelease();
  go_on.Notify();
  ASSERT_TRUE(AwaitFinished(*consumer));
  consumer->Stop();
  EXPECT_EQ(consumer->state(), ShardConsumer::State::kReleased);
  EXPECT_EQ(function_.call_count(), 3);
  const v1::Lease lease = leases_.GetLease(kMapping, kShard);
  EXPECT_EQ(lease.checkpoint().sequence_number(), "15");  // three batches of 5, all done
  EXPECT_EQ(lease.lease_owner(), "");
}

}  // namespace
}  // namespace tributary::poller

namespace tributary::poller {
namespace {

// Blocks the scheduler's thread(s) until released: the tests use it to hold tasks in the queue.
class Blocker {
 public:
  void SubmitTo(Scheduler& scheduler) {
    scheduler.Submit([this] {
      started_.Notify();
      release_.WaitForNotificationWithTimeout(absl::Seconds(30));
    });
  }
  [[nodiscard]] ::testing::AssertionResult AwaitStarted() {
    if (started_.WaitForNotificationWithTimeout(absl::Seconds(30))) {
      return ::testing::AssertionSuccess();
    }
    return tributary::testing::IsOk(WaitTimedOut(
        absl::Seconds(30), "the blocker's task to start on the scheduler", "not started"));
  }
  void Release() { release_.Notify(); }

 private:
  absl::Notification started_, release_;
};

TEST_F(ShardConsumerThreadsTest, AConsumerLostWhileItsBatchWaitsInThePoolNeverInvokes) {
  Scheduler one_thread(clock_, 1);
  auto consumer = NewConsumer();
  consumer->Start(one_thread);
  // FIFO on one thread: once `first` runs, the consumer's first step has run and its read
  // waits for records.
  Blocker first, second;
  first.SubmitTo(one_thread);
  ASSERT_TRUE(first.AwaitStarted());
  for (int i = 0; i < 5; ++i) shards_.Append(kStream, kShard, "k", "d", clock_.Now());
  // The records arrived (on this thread): a step is queued behind `first`, then `second`.
  second.SubmitTo(one_thread);
  first.Release();
  // The step ran and handed its batch to the pool, behind `second`.
  ASSERT_TRUE(second.AwaitStarted());
  consumer->Lose();
  // The batch's task runs after `second`, and before `third` starts.
  Blocker third;
  third.SubmitTo(one_thread);
  second.Release();
  ASSERT_TRUE(third.AwaitStarted());
  EXPECT_EQ(function_.call_count(), 0);
  third.Release();
  consumer->Stop();
  EXPECT_EQ(consumer->state(), ShardConsumer::State::kLost);
  EXPECT_EQ(function_.call_count(), 0);
  EXPECT_TRUE(observed_.checkpoint_calls().empty());
  EXPECT_TRUE(consumer->Quiescent());
}

TEST_F(ShardConsumerThreadsTest, TheBatchingWindowEndsOnTheClockThroughTheSharedTimer) {
  config_.set_batch_size(100);
  config_.set_maximum_batching_window_in_seconds(5);
  absl::Notification invoked;
  function_.SetScript([&](const v1::InvokeRequest&, int) {
    invoked.Notify();
    return absl::StatusOr<v1::InvokeResponse>(v1::InvokeResponse());
  });
  auto consumer = NewConsumer();
  consumer->Start(scheduler_);
  for (int i = 0; i < 3; ++i) shards_.Append(kStream, kShard, "k", "d", clock_.Now());
  // The only clock waiter is the scheduler's timer thread, armed at the end of the window (no
  // consumer thread waits: there is none).
  ASSERT_OK(clock_.WaitForWaiters(1));
  EXPECT_EQ(scheduler_.timers_armed(), 1);
  clock_.Advance(absl::Seconds(4));
  EXPECT_EQ(function_.call_count(), 0);  // the window has not ended: nothing may invoke
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(invoked.WaitForNotificationWithTimeout(absl::Seconds(30)));
  consumer->Stop();
  ASSERT_EQ(function_.call_count(), 1);
  EXPECT_EQ(function_.calls()[0].request.records_size(), 3);
}

// Tumbling windows on the scheduler. The fake clock starts at a multiple of 100 s.

TEST_F(ShardConsumerThreadsTest, ATumblingWindowClosesOnTheClockThroughTheSharedTimer) {
  config_.set_parallelization_factor(1);
  config_.set_tumbling_window_in_seconds(100);
  absl::Notification batch_done, final_invoked;
  size_t checkpoints_at_final = 99;
  function_.SetScript([&](const v1::InvokeRequest& request, int call) {
    auto reply = testing::ScriptedFunction::CountInWindowState()(request, call);
    if (request.is_final_invoke_for_window()) {
      checkpoints_at_final = observed_.checkpoint_calls().size();
      final_invoked.Notify();
    } else if (!batch_done.HasBeenNotified()) {
      batch_done.Notify();
    }
    return reply;
  });
  const absl::Time t0 = clock_.Now();
  for (int i = 0; i < 3; ++i) shards_.Append(kStream, kShard, "k", "d", t0);
  auto consumer = NewConsumer();
  consumer->Start(scheduler_);
  ASSERT_TRUE(batch_done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  // The timer thread parks at the window's end plus the grace (1 s).
  ASSERT_OK(clock_.WaitForWaiters(1));
  clock_.SetTime(t0 + absl::Seconds(100));
  EXPECT_FALSE(final_invoked.HasBeenNotified()) << "the grace has not passed";
  clock_.SetTime(t0 + absl::Seconds(101));
  ASSERT_TRUE(final_invoked.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(checkpoints_at_final, 0u) << "nothing checkpointed while the window was open";
  shards_.Close(kStream, kShard);
  ASSERT_TRUE(AwaitFinished(*consumer));
  consumer->Stop();
  const auto calls = function_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(testing::ScriptedFunction::CountOf(calls[1].request.state()), 3);
  const auto checkpoints = observed_.checkpoint_calls();
  ASSERT_FALSE(checkpoints.empty());
  for (const auto& c : checkpoints) {
    if (c.checkpoint.type() == v1::SEQUENCE_NUMBER) {
      EXPECT_EQ(c.checkpoint.sequence_number(), "3");
    }
  }
  EXPECT_EQ(checkpoints.back().checkpoint.type(), v1::SHARD_END);
}

TEST_F(ShardConsumerThreadsTest, ConcurrentLanesWithTumblingWindowsCountEveryRecordOnceInOrder) {
  config_.set_tumbling_window_in_seconds(100);
  function_.SetScript(testing::ScriptedFunction::CountInWindowState());
  const absl::Time t0 = clock_.Now();
  std::mt19937_64 rng(seed_);
  std::map<std::string, std::string> key_of;
  for (int i = 1; i <= 500; ++i) {
    const std::string key = absl::StrCat("key-", rng() % 37);
    key_of[absl::StrCat(i)] = key;
    // Two records a second: windows [0, 100), [100, 200) and [200, 300).
    shards_.Append(kStream, kShard, key, "d", t0 + absl::Milliseconds(500 * (i - 1)));
  }
  shards_.Close(kStream, kShard);
  auto consumer = NewConsumer();
  consumer->Start(scheduler_);
  ASSERT_NO_FATAL_FAILURE(StopAtShardEnd(*consumer));

  std::map<std::string, std::vector<uint64_t>> per_key;
  int64_t counted = 0;
  std::set<std::pair<int, int64_t>> closed;  // (lane, window start)
  for (const auto& call : function_.calls()) {
    const v1::InvokeRequest& r = call.request;
    if (!r.is_final_invoke_for_window()) {
      for (const auto& rec : r.records()) {
        per_key[rec.partition_key()].push_back(std::stoull(rec.sequence_number()));
      }
      continue;
    }
    counted += testing::ScriptedFunction::CountOf(r.state());
    std::set<int> lanes;
    for (absl::string_view seq : absl::StrSplit(r.state().values().at("seqs"), ',')) {
      lanes.insert(LaneForPartitionKey(key_of[std::string(seq)], 10));
    }
    EXPECT_EQ(lanes.size(), 1u) << "a window's state holds one lane's records";
    EXPECT_TRUE(closed.insert({*lanes.begin(), r.window().start().seconds()}).second);
  }
  EXPECT_EQ(counted, 500);
  ExpectPerKeyOrder(per_key);
  ExpectCheckpointsMoveForward();
}

TEST_F(ShardConsumerThreadsTest,
       AReleaseMidWindowCheckpointsBeforeTheWindowWithoutAFinalInvocation) {
  config_.set_parallelization_factor(1);
  config_.set_tumbling_window_in_seconds(100);
  const absl::Time t0 = clock_.Now();
  for (int i = 0; i < 5; ++i) shards_.Append(kStream, kShard, "k", "d", t0);  // window [0, 100)
  for (int i = 0; i < 5; ++i) {
    shards_.Append(kStream, kShard, "k", "d", t0 + absl::Seconds(150));  // window [100, 200)
  }
  absl::Notification second_window;
  function_.SetScript([&](const v1::InvokeRequest& request, int call) {
    if (!request.is_final_invoke_for_window() &&
        request.window().start().seconds() == absl::ToUnixSeconds(t0) + 100 &&
        !second_window.HasBeenNotified()) {
      second_window.Notify();
    }
    return testing::ScriptedFunction::CountInWindowState()(request, call);
  });
  auto consumer = NewConsumer();
  consumer->Start(scheduler_);
  ASSERT_TRUE(second_window.WaitForNotificationWithTimeout(absl::Seconds(30)));
  // Past the second window's end + grace: its final invocation is due but for the release.
  consumer->RequestRelease();
  clock_.SetTime(t0 + absl::Seconds(300));
  ASSERT_TRUE(AwaitFinished(*consumer));
  consumer->Stop();
  EXPECT_EQ(consumer->state(), ShardConsumer::State::kReleased);
  const v1::Lease lease = leases_.GetLease(kMapping, kShard);
  EXPECT_EQ(lease.lease_owner(), "");
  EXPECT_EQ(lease.checkpoint().sequence_number(), "5") << "the first window closed, not the second";
  int finals = 0;
  for (const auto& call : function_.calls()) finals += call.request.is_final_invoke_for_window();
  EXPECT_EQ(finals, 1);
}

// Many consumers on a pool with far fewer threads than consumers (and lanes): every record of
// every shard is invoked once, per-key order holds, and the pool never grows past its size.
class ManyConsumersTest : public ::testing::Test {
 protected:
  static constexpr int kShards = 12;

  ManyConsumersTest() {
    config_.set_uuid(kMapping);
    config_.set_stream_name(kStream);
    config_.set_function_endpoint("f:1");
    config_.set_batch_size(4);
    config_.set_parallelization_factor(3);
    config_.set_maximum_retry_attempts(-1);
    config_.set_maximum_record_age_in_seconds(-1);
    for (int s = 0; s < kShards; ++s) {
      const std::string shard = absl::StrCat("shardId-", s);
      shards_.AddShard(kStream, shard);
      leases_.AddLease(kMapping, shard, kStream);
    }
    leases_granted_ = RegisterAndAcquireAll(leases_, kShards);
  }

  const uint64_t seed_ = tributary::testing::TestSeed();
  FakeClock clock_;
  ClockWaiter waiter_{clock_};
  testing::ScriptedFunction function_;
  testing::RecordingDestination destination_;
  PollerMetrics metrics_{"p1", clock_};
  testing::FakeLeaseService leases_;
  testing::InMemoryShards shards_{/*blocking=*/true};
  Scheduler scheduler_{clock_, 3};
  v1::EventSourceMappingConfiguration config_;
  v1::AcquireLeasesResponse leases_granted_;
};

TEST_F(ManyConsumersTest, ShareAFewThreadsAndKeepPerKeyOrder) {
  std::mt19937_64 rng(seed_);
  std::vector<std::unique_ptr<ShardConsumer>> consumers;
  for (const v1::Lease& lease : leases_granted_.leases()) {
    ShardConsumerOptions options;
    options.poller_id = "p1";
    options.checkpoint_interval = absl::ZeroDuration();
    consumers.push_back(
        std::make_unique<ShardConsumer>(lease, config_, options, shards_, leases_,
                                        LaneDeps{clock_, waiter_, function_, destination_, metrics_,
                                                 BackoffOptions(), seed_ + consumers.size()}));
    consumers.back()->Start(scheduler_);
  }
  for (int i = 0; i < 600; ++i) {
    const std::string shard = absl::StrCat("shardId-", rng() % kShards);
    shards_.Append(kStream, shard, absl::StrCat("key-", rng() % 11), "d", clock_.Now());
  }
  for (int s = 0; s < kShards; ++s) shards_.Close(kStream, absl::StrCat("shardId-", s));
  for (auto& c : consumers) {
    ASSERT_TRUE(AwaitFinished(*c)) << c->shard().shard_id << " did not reach SHARD_END";
  }
  for (auto& c : consumers) {
    c->Stop();
    EXPECT_EQ(c->state(), ShardConsumer::State::kShardEnded);
  }
  EXPECT_LE(scheduler_.threads_started(), 3);

  // (shard, key) → sequence numbers in invocation order.
  std::map<std::pair<std::string, std::string>, std::vector<uint64_t>> per_key;
  size_t total = 0;
  for (const auto& call : function_.calls()) {
    for (const auto& r : call.request.records()) {
      per_key[{call.request.shard_id(), r.partition_key()}].push_back(
          std::stoull(r.sequence_number()));
      ++total;
    }
  }
  EXPECT_EQ(total, 600u);
  for (const auto& [key, seqs] : per_key) {
    for (size_t i = 1; i < seqs.size(); ++i) {
      EXPECT_LT(seqs[i - 1], seqs[i]) << key.first << " " << key.second;
    }
  }
}

// Lanes sleeping in a retry backoff (a function that keeps failing on more shards than the pool
// has threads, retried forever) leave their pool slots to the other lanes: the healthy shards
// are delivered to SHARD_END meanwhile, and the pool grows only by the sleeping lanes.
TEST_F(ManyConsumersTest, LanesBackingOffFromAFailingFunctionDoNotStarveTheOthers) {
  constexpr int kFailing = 4;                    // more than the scheduler's 3 threads
  auto failing = [](const std::string& shard) {  // shardId-0 .. shardId-3
    return std::stoi(shard.substr(std::string("shardId-").size())) < kFailing;
  };
  function_.SetScript(
      [&](const v1::InvokeRequest& request, int) -> absl::StatusOr<v1::InvokeResponse> {
        v1::InvokeResponse reply;
        if (failing(request.shard_id())) reply.set_function_error("Unhandled");
        return reply;
      });
  CompensatedWaiter compensated(waiter_, scheduler_);
  std::vector<std::unique_ptr<ShardConsumer>> consumers;
  for (const v1::Lease& lease : leases_granted_.leases()) {
    ShardConsumerOptions options;
    options.poller_id = "p1";
    options.checkpoint_interval = absl::ZeroDuration();
    consumers.push_back(std::make_unique<ShardConsumer>(
        lease, config_, options, shards_, leases_,
        LaneDeps{clock_, compensated, function_, destination_, metrics_, BackoffOptions(),
                 seed_ + consumers.size()}));
    consumers.back()->Start(scheduler_);
  }
  // First the failing shards, until as many of their lanes as the pool has threads sleep in a
  // backoff (on the fake clock, which the test never advances): without compensation every
  // thread of the pool would now be asleep.
  for (int s = 0; s < kFailing; ++s) {
    shards_.Append(kStream, absl::StrCat("shardId-", s), "k", "d", clock_.Now());
  }
  ASSERT_OK(clock_.WaitForWaiters(3, absl::Seconds(30)));
  // Then the healthy ones: they still get the pool.
  for (int s = kFailing; s < kShards; ++s) {
    const std::string shard = absl::StrCat("shardId-", s);
    for (int i = 0; i < 5; ++i)
      shards_.Append(kStream, shard, absl::StrCat("k", i), "d", clock_.Now());
    shards_.Close(kStream, shard);
  }
  for (auto& c : consumers) {
    if (failing(c->shard().shard_id)) continue;
    ASSERT_TRUE(AwaitFinished(*c))
        << c->shard().shard_id << " starved behind the backing-off lanes";
    EXPECT_EQ(c->state(), ShardConsumer::State::kShardEnded);
  }
  for (auto& c : consumers) c->Stop();  // ends the backoff waits
  int healthy_records = 0, failing_calls = 0;
  for (const auto& call : function_.calls()) {
    if (failing(call.request.shard_id())) {
      ++failing_calls;
    } else {
      healthy_records += call.request.records_size();
    }
  }
  EXPECT_EQ(healthy_records, (kShards - kFailing) * 5);
  EXPECT_GE(failing_calls, kFailing);
  EXPECT_LE(scheduler_.threads_started(), 3 + kFailing);
}

}  // namespace
}  // namespace tributary::poller

namespace tributary::poller {
namespace {

// Reads that are throttled (issue 22). A shard whose reads follow a script, one letter a read:
// 'T' throttled (RESOURCE_EXHAUSTED, as the store's read limits answer), 'U' UNAVAILABLE, 'R'
// one record (arrived at `arrival`, the read still behind the tip); past the script a read waits
// until cancelled. It notes the clock's monotonic reading at every read.
class ScriptedShard : public ShardReader {
 public:
  ScriptedShard(Clock& clock, std::string script, absl::Time arrival)
      : clock_(clock), script_(std::move(script)), arrival_(arrival) {}

  std::unique_ptr<ShardRecordStream> Open(const std::string&, const std::string&,
                                          const v1::Checkpoint&) override {
    return std::make_unique<Stream>(this);
  }

  std::vector<MonotonicTime> reads() {
    absl::MutexLock lock(&mu_);
    return reads_;
  }
  // Waits (a real-time failure guard of 30 s) until `n` reads were made.
  [[nodiscard]] bool AwaitReads(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return reads_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }

 private:
  class Stream : public ShardRecordStream {
   public:
    explicit Stream(ScriptedShard* owner) : owner_(owner) {}
    absl::StatusOr<ReadResult> Next() override {
      return absl::UnimplementedError("NextAsync only");
    }
    void NextAsync(ReadCallback done) override {
      absl::StatusOr<ReadResult> result;
      {
        absl::MutexLock lock(&owner_->mu_);
        const size_t i = owner_->reads_.size();
        owner_->reads_.push_back(owner_->clock_.MonotonicNow());
        if (cancelled_ || i >= owner_->script_.size()) {
          if (!cancelled_) {
            pending_ = std::move(done);
            return;
          }
          result = absl::CancelledError("cancelled");
        } else if (owner_->script_[i] == 'T') {
          result = absl::ResourceExhaustedError(
              "ProvisionedThroughputExceededException: rate exceeded for shard");
        } else if (owner_->script_[i] == 'U') {
          result = absl::UnavailableError("injected");
        } else {
          ReadResult read;
          v1::Record& r = read.records.emplace_back();
          r.set_sequence_number(absl::StrCat(++next_sequence_));
          r.set_partition_key("k");
          r.set_data("d");
          *r.mutable_approximate_arrival_timestamp() = ToProtoTimestamp(owner_->arrival_);
          read.millis_behind_latest = 1000;
          result = std::move(read);
        }
      }
      done(std::move(result));
    }
    void Cancel() override {
      ReadCallback pending;
      {
        absl::MutexLock lock(&owner_->mu_);
        cancelled_ = true;
        pending = std::move(pending_);
      }
      if (pending) pending(absl::CancelledError("cancelled"));
    }

   private:
    ScriptedShard* const owner_;
    bool cancelled_ = false;
    ReadCallback pending_;
    uint64_t next_sequence_ = 0;
  };

  Clock& clock_;
  const std::string script_;
  const absl::Time arrival_;
  absl::Mutex mu_;
  std::vector<MonotonicTime> reads_ ABSL_GUARDED_BY(mu_);
};

class ShardConsumerThrottleTest : public ShardConsumerThreadsTest {
 protected:
  std::unique_ptr<ShardConsumer> NewConsumer(ShardReader& reader) {
    ShardConsumerOptions options;
    options.poller_id = "p1";
    options.checkpoint_interval = absl::ZeroDuration();
    options.read_throttle_backoff = {absl::Milliseconds(100), absl::Seconds(10)};
    return std::make_unique<ShardConsumer>(
        lease_, config_, options, reader, observed_,
        LaneDeps{clock_, waiter_, function_, destination_, metrics_, BackoffOptions(), seed_});
  }

  // After read `n` (1-based) was made: waits until the consumer has armed its timer for the
  // next read, and returns the pause the consumer took (its read_paused_until minus the read).
  absl::Duration PauseAfterRead(ScriptedShard& shard, ShardConsumer& consumer, size_t n) {
    EXPECT_TRUE(shard.AwaitReads(n)) << "read " << n << " never came";
    EXPECT_OK(clock_.WaitForWaiters(1));  // the timer armed at the pause's end
    return consumer.read_paused_until() - shard.reads()[n - 1];
  }
  // Moves the clock to `pause` after read `n` and waits for read n + 1 (it may come no earlier).
  void AdvanceToNextRead(ScriptedShard& shard, size_t n, absl::Duration pause) {
    clock_.Advance(pause - absl::Milliseconds(1));
    EXPECT_EQ(shard.reads().size(), n) << "read " << n + 1 << " came before its pause ended";
    clock_.Advance(absl::Milliseconds(1));
    ASSERT_TRUE(shard.AwaitReads(n + 1)) << "read " << n + 1 << " never came";
    EXPECT_EQ(shard.reads()[n] - shard.reads()[n - 1], pause);
  }
};

// A throttled shard is read again after pauses that grow (each within [c/2, c], c doubling from
// 100 ms), a successful read resets them, and another error still pauses 200 ms.
// Before: every failed read paused 200 ms, a throttle as any other error.
TEST_F(ShardConsumerThrottleTest, AThrottledShardBacksOffGrowingAndRecoversOnSuccess) {
  ScriptedShard shard(clock_, "TTTTTTTRTU", clock_.Now());
  auto consumer = NewConsumer(shard);
  consumer->Start(scheduler_);
  std::vector<absl::Duration> pauses;
  for (size_t n = 1; n <= 7; ++n) {  // the seven throttles
    const absl::Duration pause = PauseAfterRead(shard, *consumer, n);
    const absl::Duration ceiling = absl::Milliseconds(100) * (int64_t{1} << (n - 1));
    EXPECT_GE(pause, ceiling / 2) << "throttle " << n;
    EXPECT_LE(pause, ceiling) << "throttle " << n;
    if (!pauses.empty()) {
      EXPECT_GE(pause, pauses.back()) << "throttle " << n;
    }
    pauses.push_back(pause);
    ASSERT_NO_FATAL_FAILURE(AdvanceToNextRead(shard, n, pause));
  }
  EXPECT_GT(pauses.back(), pauses.front() * 8) << "the pauses did not grow";
  // Read 8 succeeded (a record); read 9 is a throttle again, from the start of the backoff.
  ASSERT_TRUE(shard.AwaitReads(9));
  const absl::Duration after_success = PauseAfterRead(shard, *consumer, 9);
  EXPECT_LE(after_success, absl::Milliseconds(100)) << "a successful read did not reset it";
  ASSERT_NO_FATAL_FAILURE(AdvanceToNextRead(shard, 9, after_success));
  // Read 10 is UNAVAILABLE: the fixed pause, as before.
  EXPECT_EQ(PauseAfterRead(shard, *consumer, 10), absl::Milliseconds(200));
  EXPECT_TRUE(function_.Await("the record's batch",
                              [](const auto& calls) { return calls.size() == 1; }));
  consumer->Stop();
}

// While reads are throttled, the iterator age keeps growing from the last record read (the
// reader's known position), and a successful read ends that. Before: it stayed at the age the
// last batch ended with (0 here) however long the shard could not be read.
TEST_F(ShardConsumerThrottleTest, TheIteratorAgeGrowsWhileReadsAreThrottled) {
  const absl::Time arrival = clock_.Now();
  ScriptedShard shard(clock_, "RTTTT", arrival);
  auto consumer = NewConsumer(shard);
  consumer->Start(scheduler_);
  ASSERT_TRUE(function_.Await("the first record's batch",
                              [](const auto& calls) { return calls.size() == 1; }));
  int64_t last_age = -1;
  for (size_t n = 2; n <= 5; ++n) {  // the throttles
    const absl::Duration pause = PauseAfterRead(shard, *consumer, n);
    const int64_t age = metrics_.IteratorAgeMs(consumer->shard());
    EXPECT_EQ(age, absl::ToInt64Milliseconds(clock_.Now() - arrival)) << "throttle " << n;
    EXPECT_GT(age, last_age) << "throttle " << n;
    last_age = age;
    if (n < 5) {
      ASSERT_NO_FATAL_FAILURE(AdvanceToNextRead(shard, n, pause));
    }
  }
  clock_.Advance(absl::Seconds(30));
  EXPECT_EQ(metrics_.IteratorAgeMs(consumer->shard()),
            absl::ToInt64Milliseconds(clock_.Now() - arrival));
  EXPECT_GE(metrics_.IteratorAgeMs(consumer->shard()), 30000);
  consumer->Stop();
}

// The lifecycle's transitions (the diagram in shard_consumer.h), one consumer run inline with
// RunOnce against non-blocking in-memory shards.

TEST(ShardConsumerTransitionsTest, OnlyRunningHasAWayOutAndOnlyToAFinalState) {
  using S = ShardConsumer::State;
  const S all[] = {S::kRunning, S::kShardEnded, S::kReleased, S::kLost};
  const std::set<std::pair<S, S>> valid = {
      {S::kRunning, S::kShardEnded}, {S::kRunning, S::kReleased}, {S::kRunning, S::kLost}};
  for (S from : all) {
    for (S to : all) {
      EXPECT_EQ(ShardConsumer::IsValidTransition(from, to), valid.count({from, to}) > 0)
          << static_cast<int>(from) << " -> " << static_cast<int>(to);
    }
  }
}

// Forwards to `inner`, and loses `consumer` while its ReleaseLease call is in progress (after the
// consumer decided to end released, before it says so).
class LosingOnRelease : public LeaseService {
 public:
  explicit LosingOnRelease(LeaseService& inner) : inner_(inner) {}
  ShardConsumer* consumer = nullptr;

  absl::StatusOr<v1::RegisterPollerResponse> RegisterPoller(
      const v1::RegisterPollerRequest& request) override {
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
    if (consumer != nullptr) consumer->Lose("lost while releasing");
    return inner_.ReleaseLease(request);
  }
  absl::StatusOr<v1::CheckpointResponse> Checkpoint(const v1::CheckpointRequest& request) override {
    return inner_.Checkpoint(request);
  }

 private:
  LeaseService& inner_;
};

class ShardConsumerStatesTest : public ::testing::Test {
 protected:
  ShardConsumerStatesTest() {
    config_.set_uuid(kMapping);
    config_.set_stream_name(kStream);
    config_.set_function_endpoint("f:1");
    shards_.AddShard(kStream, kShard);
    leases_.AddLease(kMapping, kShard, kStream);
    lease_ = RegisterAndAcquireAll(leases_, 1).leases(0);
  }

  std::unique_ptr<ShardConsumer> NewConsumer(LeaseService& leases) {
    ShardConsumerOptions options;
    options.poller_id = "p1";
    options.checkpoint_interval = absl::ZeroDuration();
    options.finished_counter = &finished_;
    options.max_outstanding_bytes = max_outstanding_bytes_;
    return std::make_unique<ShardConsumer>(
        lease_, config_, options, shards_, leases,
        LaneDeps{clock_, waiter_, function_, destination_, metrics_, BackoffOptions(), 1});
  }

  FakeClock clock_;
  ClockWaiter waiter_{clock_};
  testing::ScriptedFunction function_;
  testing::RecordingDestination destination_;
  PollerMetrics metrics_{"p1", clock_};
  testing::FakeLeaseService leases_;
  testing::InMemoryShards shards_;  // not blocking: RunOnce reads what is there
  v1::EventSourceMappingConfiguration config_;
  v1::Lease lease_;
  std::atomic<int64_t> finished_{0};
  int64_t max_outstanding_bytes_ = ShardConsumerOptions().max_outstanding_bytes;
};

// The reader's byte bound (issue 22: a slow function must not make the poller buffer without
// bound). While the records read are not done (here a batching window holds them), the consumer
// reads until they reach max_outstanding_bytes and then stops; once they are done it reads again.
TEST_F(ShardConsumerStatesTest, TheReaderStopsAtTheByteBoundAndResumesOnceRecordsAreDone) {
  config_.set_batch_size(10000);
  config_.set_maximum_batching_window_in_seconds(60);
  shards_.SetMaxRecordsPerRead(2);
  const std::string data(1024, 'd');
  for (int i = 0; i < 10; ++i) {
    shards_.Append(kStream, kShard, absl::StrCat("k", i), data, clock_.Now());
  }
  max_outstanding_bytes_ = 3 << 10;  // two records fit under it, four do not
  auto consumer = NewConsumer(leases_);
  consumer->RunOnce();
  EXPECT_EQ(consumer->outstanding_records(), 2);
  consumer->RunOnce();
  EXPECT_EQ(consumer->outstanding_records(), 4);
  EXPECT_GE(consumer->outstanding_bytes(), 4 * 1024);
  for (int i = 0; i < 3; ++i) consumer->RunOnce();
  EXPECT_EQ(consumer->outstanding_records(), 4) << "the reader read past its byte bound";
  EXPECT_EQ(function_.call_count(), 0);
  clock_.Advance(absl::Seconds(61));  // the window ends: the 4 records are invoked and done
  consumer->RunOnce();
  EXPECT_EQ(function_.call_count(), 1);
  EXPECT_EQ(consumer->outstanding_records(), 0);
  EXPECT_EQ(consumer->outstanding_bytes(), 0);
  consumer->RunOnce();
  EXPECT_EQ(consumer->outstanding_records(), 2) << "the reader did not resume";
}

TEST_F(ShardConsumerStatesTest, AReleaseThatEndsAfterTheLeaseWasLostLeavesItLost) {
  LosingOnRelease leases(leases_);
  auto consumer = NewConsumer(leases);
  leases.consumer = consumer.get();
  consumer->RequestRelease(/*release_lease=*/true, "asked back");
  consumer->RunOnce();  // Tend: ReleaseLease, during which the lease is lost; then kReleased
  EXPECT_EQ(consumer->state(), ShardConsumer::State::kLost) << "the first end reached wins";
  EXPECT_EQ(consumer->end_reason(), "lost while releasing");
  EXPECT_EQ(finished_.load(), 1) << "the state left kRunning once";
  consumer->RunOnce();
  EXPECT_EQ(consumer->state(), ShardConsumer::State::kLost);
  EXPECT_EQ(finished_.load(), 1);
}

TEST_F(ShardConsumerStatesTest, ALossAfterShardEndChangesNothing) {
  shards_.Append(kStream, kShard, "k", "d", clock_.Now());
  shards_.Close(kStream, kShard);
  auto consumer = NewConsumer(leases_);
  for (int i = 0; i < 10 && consumer->state() == ShardConsumer::State::kRunning; ++i) {
    consumer->RunOnce();
  }
  ASSERT_EQ(consumer->state(), ShardConsumer::State::kShardEnded);
  EXPECT_EQ(consumer->last_checkpoint(), "SHARD_END");
  consumer->Lose("too late");
  consumer->RequestRelease(/*release_lease=*/true, "also too late");
  consumer->RunOnce();
  EXPECT_EQ(consumer->state(), ShardConsumer::State::kShardEnded);
  EXPECT_EQ(consumer->end_reason(), "");
  EXPECT_EQ(finished_.load(), 1);
  EXPECT_EQ(leases_.release_calls(), 1) << "released once, at SHARD_END";
}

// Two shards of one poller sharing its read budget (issue 22, `--memory_budget_mb`). Records are
// held by a 60 s batching window, so they stay outstanding until the clock passes it.
class ShardConsumerReadBudgetTest : public ::testing::Test {
 protected:
  static constexpr char kShard2[] = "shardId-000000000001";

  ShardConsumerReadBudgetTest() {
    config_.set_uuid(kMapping);
    config_.set_stream_name(kStream);
    config_.set_function_endpoint("f:1");
    config_.set_batch_size(10000);
    config_.set_maximum_batching_window_in_seconds(60);
    shards_.SetMaxRecordsPerRead(2);
    const std::string data(1024, 'd');
    for (const char* shard : {kShard, kShard2}) {
      shards_.AddShard(kStream, shard);
      leases_.AddLease(kMapping, shard, kStream);
      for (int i = 0; i < 10; ++i) {
        shards_.Append(kStream, shard, absl::StrCat("k", i), data, clock_.Now());
      }
    }
    const v1::AcquireLeasesResponse granted = RegisterAndAcquireAll(leases_, 2);
    for (const v1::Lease& lease : granted.leases()) leases_by_shard_[lease.shard_id()] = lease;
  }

  std::unique_ptr<ShardConsumer> NewConsumer(const std::string& shard, ReadBudget* budget) {
    ShardConsumerOptions options;
    options.poller_id = "p1";
    options.checkpoint_interval = absl::ZeroDuration();
    options.max_outstanding_bytes = max_outstanding_bytes_;
    options.read_budget = budget;
    options.read_reserve_bytes = kReserve;  // two records of 1 KiB (~1.2 KiB each) fit
    return std::make_unique<ShardConsumer>(
        leases_by_shard_[shard], config_, options, shards_, leases_,
        LaneDeps{clock_, waiter_, function_, destination_, metrics_, BackoffOptions(), 1});
  }

  static constexpr int64_t kReserve = 4 << 10;
  FakeClock clock_;
  ClockWaiter waiter_{clock_};
  testing::ScriptedFunction function_;
  testing::RecordingDestination destination_;
  PollerMetrics metrics_{"p1", clock_};
  testing::FakeLeaseService leases_;
  testing::InMemoryShards shards_;
  v1::EventSourceMappingConfiguration config_;
  std::map<std::string, v1::Lease> leases_by_shard_;
  int64_t max_outstanding_bytes_ = ShardConsumerOptions().max_outstanding_bytes;
};

// Together the shards stop at the budget (each far below its own bound), and read again as
// records are done.
TEST_F(ShardConsumerReadBudgetTest, ShardsStopTogetherAtTheBudgetAndResumeAsRecordsAreDone) {
  ReadBudget budget(10 << 10);  // two reads' reserves fit beside two records, not three
  auto a = NewConsumer(kShard, &budget);
  auto b = NewConsumer(kShard2, &budget);
  a->RunOnce();  // a's window starts at 0 s, b's at 30 s
  clock_.Advance(absl::Seconds(30));
  for (int i = 0; i < 5; ++i) {
    b->RunOnce();
    a->RunOnce();
    EXPECT_LE(budget.used(), budget.limit());
  }
  // 2 + 2 + 2 records; then neither's reserve fits.
  EXPECT_EQ(a->outstanding_records(), 4);
  EXPECT_EQ(b->outstanding_records(), 2);
  EXPECT_EQ(budget.used(), a->outstanding_bytes() + b->outstanding_bytes())
      << "the budget holds what the buffers hold (no reserve outstanding)";
  EXPECT_EQ(budget.waiting(), 2);
  EXPECT_EQ(function_.call_count(), 0);

  clock_.Advance(absl::Seconds(31));  // a's window ends: its 4 records are invoked and done
  a->RunOnce();
  EXPECT_EQ(a->outstanding_records(), 0);
  EXPECT_EQ(function_.call_count(), 1);
  // b waited first: its reserve was granted as a's bytes came back; it reads now.
  b->RunOnce();
  EXPECT_EQ(b->outstanding_records(), 4) << "b did not resume once bytes came back";
  a->RunOnce();
  EXPECT_EQ(a->outstanding_records(), 2) << "a did not resume";
  EXPECT_LE(budget.used(), budget.limit());
  EXPECT_LE(budget.peak(), budget.limit());
}

// A shard that holds nothing is served in order: another shard that keeps finishing its records
// and asking again does not take every byte that comes back.
TEST_F(ShardConsumerReadBudgetTest, AShardWithAnEmptyBufferIsNotStarvedByAnothersBacklog) {
  ReadBudget budget(6 << 10);  // one read's reserve fits beside two records, not two reserves
  auto a = NewConsumer(kShard, &budget);
  auto b = NewConsumer(kShard2, &budget);
  a->RunOnce();
  ASSERT_EQ(a->outstanding_records(), 2);
  b->RunOnce();
  EXPECT_EQ(b->outstanding_records(), 0) << "b's reserve does not fit beside a's records";
  for (int round = 0; round < 3 && b->outstanding_records() == 0; ++round) {
    clock_.Advance(absl::Seconds(61));
    a->RunOnce();  // a's records are done; it asks again, after b
    a->RunOnce();
    EXPECT_LE(a->outstanding_records(), 2);
    EXPECT_LE(budget.used(), budget.limit());
    b->RunOnce();
  }
  EXPECT_EQ(b->outstanding_records(), 2) << "b was starved by a";
  EXPECT_EQ(a->outstanding_records(), 0) << "a read before b, who waited first";
}

// The per-shard bound still applies under a budget with room to spare.
TEST_F(ShardConsumerReadBudgetTest, ThePerShardBoundStillApplies) {
  ReadBudget budget(1 << 20);
  max_outstanding_bytes_ = 3 << 10;  // two records fit under it, four do not
  auto a = NewConsumer(kShard, &budget);
  for (int i = 0; i < 5; ++i) a->RunOnce();
  EXPECT_EQ(a->outstanding_records(), 4);
  EXPECT_EQ(budget.used(), a->outstanding_bytes());
  a.reset();  // a consumer gone gives back what it held
  EXPECT_EQ(budget.used(), 0);
}

// With the scheduler: while the function blocks, two shards on the pool stop reading at the
// budget; once it answers, the waiting readers are woken (not polled) as bytes come back, and
// every record is delivered without the budget being passed.
TEST_F(ShardConsumerReadBudgetTest, OnTheSchedulerWaitingReadersAreWokenAsBytesComeBack) {
  config_.set_batch_size(2);
  config_.set_maximum_batching_window_in_seconds(0);
  absl::Notification answer;
  std::atomic<int64_t> invoked{0};
  function_.SetScript([&](const v1::InvokeRequest& request, int) {
    answer.WaitForNotificationWithTimeout(absl::Seconds(30));  // a failure guard
    invoked += request.records_size();
    return absl::StatusOr<v1::InvokeResponse>(v1::InvokeResponse());
  });
  ReadBudget budget(10 << 10);
  Scheduler scheduler(clock_, 4);
  auto a = NewConsumer(kShard, &budget);
  auto b = NewConsumer(kShard2, &budget);
  a->Start(scheduler);
  b->Start(scheduler);
  ASSERT_OK(PollFor(
      absl::Seconds(30), absl::Milliseconds(1), "both readers to wait for the budget",
      [&] { return budget.waiting() == 2; },
      [&] { return absl::StrCat(budget.waiting(), " waiting, ", budget.used(), " bytes"); }));
  EXPECT_LT(a->outstanding_records() + b->outstanding_records(), 20);
  EXPECT_LE(budget.used(), budget.limit());
  answer.Notify();
  ASSERT_OK(PollFor(
      absl::Seconds(30), absl::Milliseconds(1), "every record to be delivered",
      [&] { return invoked.load() == 20; },
      [&] {
        return absl::StrCat(invoked.load(), " records invoked, ", budget.waiting(), " waiting");
      }));
  EXPECT_LE(budget.peak(), budget.limit());
  a->Stop();
  b->Stop();
  EXPECT_EQ(budget.used(), 0);
}

}  // namespace
}  // namespace tributary::poller
