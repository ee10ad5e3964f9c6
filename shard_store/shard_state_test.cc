// ShardState on its own (no RocksDB, no store): the visible-tip protocol, the close protocol,
// the WaitForRecords wake-up and the watchers, as shard_state.h promises them. Runs are reserved
// as the put path reserves them (put_path.cc): a contiguous run of numbers per call, registered
// in flight under the stream's put lock.
#include "shard_store/shard_state.h"

#include <atomic>
#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "shard_store/hash_key.h"

namespace tributary::shard_store {
namespace {

// Only a failure guard: a correct implementation never comes near it.
constexpr absl::Duration kGuard = absl::Seconds(10);

class ShardStateTest : public ::testing::Test {
 protected:
  // Reserves a run of `n` sequence numbers, as a put does.
  InFlight* Reserve(int n) {
    absl::MutexLock lock(shard_.put_mu);
    shard_.next_seq += n;
    shard_.in_flight.push_back({shard_.next_seq - 1});
    return &shard_.in_flight.back();
  }
  // The run's write committed (`ok`) or failed.
  void Finish(InFlight* run, bool ok) {
    absl::MutexLock lock(shard_.put_mu);
    shard_.Finish(run, ok);
  }
  uint64_t tip() { return shard_.tip.load(); }
  // The number the next run starts at.
  uint64_t next() {
    absl::MutexLock lock(shard_.put_mu);
    return shard_.next_seq;
  }
  InFlight* BeginClose(int64_t now_ms) {
    absl::MutexLock lock(&shard_.mu);
    absl::MutexLock put_lock(shard_.put_mu);
    return shard_.BeginClose(now_ms);
  }
  void CommitClose(InFlight* ticket) {
    absl::MutexLock lock(&shard_.mu);
    absl::MutexLock put_lock(shard_.put_mu);
    shard_.CommitClose(ticket);
  }
  void AbortClose(InFlight* ticket) {
    absl::MutexLock lock(&shard_.mu);
    absl::MutexLock put_lock(shard_.put_mu);
    shard_.AbortClose(ticket);
  }

  absl::Mutex put_mu_;  // the stream's put lock
  std::shared_ptr<ShardState> shard_ptr_ = std::make_shared<ShardState>(7, 100, 200, &put_mu_);
  ShardState& shard_ = *shard_ptr_;
};

TEST_F(ShardStateTest, ANewShardHasItsIdAndRangeAndNothingVisible) {
  EXPECT_EQ(shard_.id, "shardId-000000000007");
  EXPECT_EQ(shard_.Range().starting_hash_key(), "100");
  EXPECT_EQ(shard_.Range().ending_hash_key(), "200");
  EXPECT_EQ(tip(), 0u);
  EXPECT_EQ(next(), 1u);
}

TEST_F(ShardStateTest, ACommittedRunIsVisibleThroughItsLastNumber) {
  Finish(Reserve(3), true);
  EXPECT_EQ(tip(), 3u);
  EXPECT_EQ(next(), 4u);
}

// The tip moves only over a prefix of finished runs: a reader never sees a gap that fills later.
TEST_F(ShardStateTest, ALaterRunCommittedFirstStaysInvisibleUntilTheEarlierOneFinishes) {
  InFlight* first = Reserve(2);   // 1-2
  InFlight* second = Reserve(3);  // 3-5
  Finish(second, true);
  EXPECT_EQ(tip(), 0u);
  Finish(first, true);
  EXPECT_EQ(tip(), 5u);
}

TEST_F(ShardStateTest, AFailedRunWithNothingInFlightAfterItIsGivenBack) {
  Finish(Reserve(2), true);   // 1-2
  Finish(Reserve(3), false);  // 3-5: nobody saw them
  EXPECT_EQ(tip(), 2u);
  EXPECT_EQ(next(), 3u);  // the next write reuses them: no hole
}

TEST_F(ShardStateTest, AFailedRunFollowedByACommittedOneIsAHoleTheTipPasses) {
  InFlight* failed = Reserve(2);     // 1-2
  InFlight* committed = Reserve(1);  // 3
  Finish(failed, false);
  EXPECT_EQ(tip(), 0u);  // 3 is still in flight
  Finish(committed, true);
  EXPECT_EQ(tip(), 3u);   // readers are not stuck behind the failed run
  EXPECT_EQ(next(), 4u);  // 1-2 stay a hole for good
}

// The tip rests only on the end of a committed run (so it never exceeds the log after a kill).
TEST_F(ShardStateTest, TheTipNeverRestsOnAFailedRun) {
  InFlight* committed = Reserve(1);  // 1
  InFlight* failed = Reserve(2);     // 2-3
  Finish(failed, false);
  Finish(committed, true);
  EXPECT_EQ(tip(), 1u);
  EXPECT_EQ(next(), 2u);
}

TEST_F(ShardStateTest, ClosingReservesTheEndingNumberAndKeepsTheShardOpenForReaders) {
  Finish(Reserve(2), true);  // 1-2
  InFlight* close = BeginClose(/*now_ms=*/1000);
  EXPECT_TRUE(shard_.closing);
  EXPECT_FALSE(shard_.closed);
  EXPECT_EQ(shard_.ending_seq, 3u);
  EXPECT_EQ(shard_.closed_ms, 1000);
  EXPECT_EQ(tip(), 2u);  // no record carries the ending number; readers see nothing new
  EXPECT_EQ(next(), 4u);
  CommitClose(close);
  EXPECT_FALSE(shard_.closing);
  EXPECT_TRUE(shard_.closed);
  EXPECT_EQ(tip(), 3u);  // SHARD_END is reached once the tip reaches the ending number
}

TEST_F(ShardStateTest, AnAbortedCloseLeavesTheShardOpenAndGivesTheEndingNumberBack) {
  Finish(Reserve(2), true);  // 1-2
  AbortClose(BeginClose(/*now_ms=*/1000));
  EXPECT_FALSE(shard_.closing);
  EXPECT_FALSE(shard_.closed);
  EXPECT_EQ(shard_.ending_seq, 0u);
  EXPECT_EQ(shard_.closed_ms, 0);
  EXPECT_EQ(tip(), 2u);
  EXPECT_EQ(next(), 3u);
}

TEST_F(ShardStateTest, TheEndingNumberBecomesVisibleOnlyAfterTheRunsBeforeIt) {
  InFlight* run = Reserve(2);  // 1-2, still being written when the reshard closes the shard
  InFlight* close = BeginClose(/*now_ms=*/1000);
  CommitClose(close);
  EXPECT_TRUE(shard_.closed);
  EXPECT_EQ(tip(), 0u);
  Finish(run, true);
  EXPECT_EQ(tip(), 3u);
}

// A reader in WaitForRecords waits on `mu` for the tip; a put finishes its run under put_mu only,
// so it must wake the reader (read_path.cc and put_path.cc follow this protocol).
TEST_F(ShardStateTest, AnAdvancingTipWakesAThreadWaitingForIt) {
  InFlight* run = Reserve(1);
  bool looked = false;  // guarded by shard_.mu: the waiter has read the tip at least once
  absl::Notification woken;
  std::thread waiter([&] {
    absl::MutexLock lock(&shard_.mu);
    shard_.tip_waiters.fetch_add(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard_.mu) {
      looked = true;
      return shard_.tip.load(std::memory_order_seq_cst) >= 1;
    };
    shard_.mu.Await(absl::Condition(&ready));
    shard_.tip_waiters.fetch_sub(1, std::memory_order_seq_cst);
    woken.Notify();
  });
  {
    // Acquired once the waiter has seen the old tip and is asleep on mu.
    absl::MutexLock lock(&shard_.mu, absl::Condition(&looked));
  }
  Finish(run, true);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  shard_.WakeTipWaitersAfterFence();
  const bool woke = woken.WaitForNotificationWithTimeout(kGuard);
  if (!woke) {
    absl::MutexLock heal(&shard_.mu);  // lets the waiter see the tip, so that it can be joined
  }
  waiter.join();
  EXPECT_TRUE(woke) << "the waiter was not woken when the tip reached what it waited for";
}

TEST_F(ShardStateTest, WakingWithNobodyWaitingDoesNotTakeTheShardLock) {
  absl::Notification returned;
  shard_.mu.Lock();  // a reader or a reshard holds it
  std::thread writer([&] {
    shard_.WakeTipWaitersAfterFence();
    returned.Notify();
  });
  const bool did_return = returned.WaitForNotificationWithTimeout(kGuard);
  shard_.mu.Unlock();  // heals a failure, so that the writer can be joined
  writer.join();
  EXPECT_TRUE(did_return) << "a put with no waiter blocked on the shard's lock";
}

TEST_F(ShardStateTest, NotifyCallsEveryWatcher) {
  int a = 0, b = 0;
  ShardWatcherRegistration watch_a(shard_ptr_, [&] { ++a; });
  ShardWatcherRegistration watch_b(shard_ptr_, [&] { ++b; });
  shard_.Notify();
  shard_.Notify();
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 2);
}

TEST_F(ShardStateTest, AWatcherIsNotCalledOnceItsRegistrationIsDestroyed) {
  int gone = 0, kept = 0;
  ShardWatcherRegistration watch_kept(shard_ptr_, [&] { ++kept; });
  {
    ShardWatcherRegistration watch_gone(shard_ptr_, [&] { ++gone; });
    shard_.Notify();
  }
  shard_.Notify();
  EXPECT_EQ(gone, 1);
  EXPECT_EQ(kept, 2);
  EXPECT_EQ(shard_.watcher_count.load(), 1);
}

// The store may drop a shard (trimmed away, stream deleted) while a subscriber still watches it.
TEST(ShardWatcherRegistrationTest, KeepsItsShardAliveUntilDestroyed) {
  absl::Mutex put_mu;
  auto shard = std::make_shared<ShardState>(0, 0, kMaxHashKey, &put_mu);
  std::weak_ptr<ShardState> observed = shard;
  auto watch = std::make_unique<ShardWatcherRegistration>(shard, [] {});
  shard.reset();
  EXPECT_FALSE(observed.expired());
  watch.reset();
  EXPECT_TRUE(observed.expired());
}

}  // namespace
}  // namespace tributary::shard_store
