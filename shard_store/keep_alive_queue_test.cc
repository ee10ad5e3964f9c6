#include "shard_store/keep_alive_queue.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/testing/assertions.h"
#include "gtest/gtest.h"

namespace tributary::shard_store {
namespace {

constexpr absl::Duration kInterval = absl::Seconds(5);
const absl::Duration kSlack = kInterval / 50;
// Only a failure guard: a correct loop never comes near it.
constexpr absl::Duration kGuard = absl::Seconds(30);

// A member that records when it was asked and answers like a subscription that sends nothing
// but keep-alives: due again one interval after it was asked, or never (`ending`).
class FakeMember : public KeepAliveQueue::Member {
 public:
  MonotonicTime KeepAlive(MonotonicTime now, MonotonicTime horizon,
                          absl::Duration interval) override {
    absl::MutexLock lock(&mu_);
    asked_at_.push_back(now);
    last_horizon_ = horizon;
    if (ending_) return MonotonicTime::InfiniteFuture();
    return now + interval + extra_;
  }

  int times_asked() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(asked_at_.size());
  }
  std::vector<MonotonicTime> asked_at() {
    absl::MutexLock lock(&mu_);
    return asked_at_;
  }
  MonotonicTime last_horizon() {
    absl::MutexLock lock(&mu_);
    return last_horizon_;
  }
  void set_ending() {
    absl::MutexLock lock(&mu_);
    ending_ = true;
  }
  // Answers `extra` later than an interval.
  void set_extra(absl::Duration extra) {
    absl::MutexLock lock(&mu_);
    extra_ = extra;
  }
  // Waits (real time, a failure guard) until it has been asked `n` times.
  [[nodiscard]] ::testing::AssertionResult WaitUntilAsked(int n) {
    return tributary::testing::IsOk(AwaitFor(
        mu_, kGuard, absl::StrCat("the member asked ", n, " time(s)"),
        [&]()
            ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return static_cast<int>(asked_at_.size()) >= n; },
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return absl::StrCat("asked ", asked_at_.size(), " time(s)");
        }));
  }

 private:
  absl::Mutex mu_;
  std::vector<MonotonicTime> asked_at_ ABSL_GUARDED_BY(mu_);
  MonotonicTime last_horizon_ ABSL_GUARDED_BY(mu_);
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration extra_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

// Without Start(): the test runs the rounds (RunOnce) after moving the clock.
class KeepAliveQueueTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  KeepAliveQueue queue_{clock_, kInterval};
  FakeMember a_, b_;
};

TEST_F(KeepAliveQueueTest, AMemberIsNotAskedBeforeAnIntervalHasPassed) {
  queue_.Add(&a_);
  clock_.Advance(kInterval - kSlack - absl::Milliseconds(1));
  queue_.RunOnce();
  EXPECT_EQ(a_.times_asked(), 0);
}

TEST_F(KeepAliveQueueTest, AMemberIsAskedOneIntervalAfterItWasAdded) {
  queue_.Add(&a_);
  clock_.Advance(kInterval);
  queue_.RunOnce();
  ASSERT_EQ(a_.asked_at(), std::vector<MonotonicTime>{clock_.MonotonicNow()});
  EXPECT_EQ(a_.last_horizon(), clock_.MonotonicNow() + kSlack);
}

TEST_F(KeepAliveQueueTest, AMemberIsAskedAgainAtTheTimeItReturned) {
  a_.set_extra(absl::Seconds(1));  // due again interval + 1 s after it was asked
  queue_.Add(&a_);
  clock_.Advance(kInterval);
  queue_.RunOnce();
  clock_.Advance(kInterval);
  queue_.RunOnce();
  EXPECT_EQ(a_.times_asked(), 1);
  clock_.Advance(absl::Seconds(1));
  queue_.RunOnce();
  EXPECT_EQ(a_.times_asked(), 2);
}

TEST_F(KeepAliveQueueTest, MembersDueWithinAFiftiethOfAnIntervalAreAskedTogether) {
  queue_.Add(&a_);
  clock_.Advance(kSlack / 2);
  queue_.Add(&b_);
  clock_.Advance(kInterval - kSlack / 2);  // a is due; b is due kSlack / 2 from now
  queue_.RunOnce();
  EXPECT_EQ(a_.times_asked(), 1);
  EXPECT_EQ(b_.times_asked(), 1);
}

TEST_F(KeepAliveQueueTest, MembersFartherApartAreAskedEachInItsTurn) {
  queue_.Add(&a_);
  clock_.Advance(2 * kSlack);
  queue_.Add(&b_);
  clock_.Advance(kInterval - 2 * kSlack);
  queue_.RunOnce();
  EXPECT_EQ(a_.times_asked(), 1);
  EXPECT_EQ(b_.times_asked(), 0);
  clock_.Advance(2 * kSlack);
  queue_.RunOnce();
  EXPECT_EQ(b_.times_asked(), 1);
}

TEST_F(KeepAliveQueueTest, AMemberThatAnswersInfiniteFutureLeavesTheQueue) {
  a_.set_ending();
  queue_.Add(&a_);
  clock_.Advance(kInterval);
  queue_.RunOnce();
  clock_.Advance(10 * kInterval);
  queue_.RunOnce();
  EXPECT_EQ(a_.times_asked(), 1);
  queue_.Remove(&a_);  // still allowed: Remove is idempotent
}

TEST_F(KeepAliveQueueTest, ARemovedMemberIsNotAsked) {
  queue_.Add(&a_);
  queue_.Add(&b_);
  queue_.Remove(&a_);
  queue_.Remove(&a_);
  clock_.Advance(kInterval);
  queue_.RunOnce();
  EXPECT_EQ(a_.times_asked(), 0);
  EXPECT_EQ(b_.times_asked(), 1);
}

TEST(KeepAliveQueueOffTest, AZeroIntervalTurnsKeepAlivesOff) {
  FakeClock clock;
  KeepAliveQueue queue(clock, absl::ZeroDuration());
  FakeMember member;
  queue.Start();
  queue.Add(&member);
  clock.Advance(absl::Hours(1));
  queue.RunOnce();
  EXPECT_EQ(member.times_asked(), 0);
  queue.Remove(&member);
}

// With Start(): the loop waits on the clock for the earliest entry.
TEST_F(KeepAliveQueueTest, TheLoopAsksAMemberWhenTheClockReachesItsTime) {
  queue_.Start();
  queue_.Add(&a_);
  ASSERT_OK(clock_.WaitForWaiters(1)) << "the loop did not wait on the clock for the member";
  clock_.Advance(kInterval);
  ASSERT_TRUE(a_.WaitUntilAsked(1)) << "the loop did not ask the member once it was due";
  queue_.Stop();
  EXPECT_EQ(a_.asked_at(), std::vector<MonotonicTime>{FakeClock::kMonotonicStart + kInterval});
}

// An entry earlier than the one the loop waits for wakes it, so the new one is not kept waiting.
TEST_F(KeepAliveQueueTest, TheLoopLooksAgainWhenAnEarlierMemberArrives) {
  a_.set_extra(absl::Hours(1));  // after its first keep-alive, a is next due in an hour
  queue_.Start();
  queue_.Add(&a_);
  ASSERT_OK(clock_.WaitForWaiters(1)) << "the loop did not wait on the clock for a";
  clock_.Advance(kInterval);
  ASSERT_TRUE(a_.WaitUntilAsked(1)) << "the loop did not ask a once it was due";
  queue_.Add(&b_);  // due one interval from now, long before a
  ASSERT_OK(clock_.WaitForWaiters(1)) << "the loop did not wait on the clock again";
  clock_.Advance(kInterval);
  ASSERT_TRUE(b_.WaitUntilAsked(1)) << "the loop kept waiting for a instead of asking b";
  queue_.Stop();
}

TEST_F(KeepAliveQueueTest, StopWithMembersLeftReturns) {
  queue_.Start();
  queue_.Add(&a_);
  ASSERT_OK(clock_.WaitForWaiters(1)) << "the loop did not wait on the clock for the member";
  queue_.Stop();
  queue_.Stop();
  EXPECT_EQ(a_.times_asked(), 0);
}

}  // namespace
}  // namespace tributary::shard_store
