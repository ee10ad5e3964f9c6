// Scheduler: the pool starts threads only as concurrent work needs them, never more than its
// size (plus one per task sleeping in a BlockingScope); timers fire on the (fake) clock, in
// deadline order, once; a disarmed timer never fires.
#include "poller/runtime/scheduler.h"

#include <atomic>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/testing/assertions.h"
#include "gtest/gtest.h"

namespace tributary::poller {
namespace {

// Counts calls; lets a test wait (real time, as a failure guard only) for a count.
class Counter {
 public:
  void Add() {
    absl::MutexLock lock(&mu_);
    ++n_;
  }
  int value() {
    absl::MutexLock lock(&mu_);
    return n_;
  }
  [[nodiscard]] ::testing::AssertionResult AwaitAtLeast(int n) {
    return tributary::testing::IsOk(AwaitFor(
        mu_, absl::Seconds(30), absl::StrCat("a count of ", n),
        [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return n_ >= n; },
        [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return absl::StrCat(n_); }));
  }

 private:
  absl::Mutex mu_;
  int n_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(SchedulerTest, StartsNoThreadUntilWorkArrivesAndNeverMoreThanItsSize) {
  FakeClock clock;
  Scheduler scheduler(clock, 3);
  EXPECT_EQ(scheduler.threads_started(), 0);

  // Ten tasks that all block until released: at most three run at once.
  absl::Notification release;
  std::atomic<int> running{0}, most{0};
  Counter started, finished;
  for (int i = 0; i < 10; ++i) {
    scheduler.Submit([&] {
      const int now = ++running;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      started.Add();
      release.WaitForNotificationWithTimeout(absl::Seconds(30));
      --running;
      finished.Add();
    });
  }
  ASSERT_TRUE(started.AwaitAtLeast(3));
  EXPECT_EQ(scheduler.threads_started(), 3);
  EXPECT_EQ(started.value(), 3);  // the other seven wait for a thread
  release.Notify();
  ASSERT_TRUE(finished.AwaitAtLeast(10));
  EXPECT_EQ(most.load(), 3);
  EXPECT_EQ(scheduler.threads_started(), 3);
}

TEST(SchedulerTest, TimersFireOnTheClockInDeadlineOrderOnce) {
  FakeClock clock;
  Scheduler scheduler(clock, 1);
  absl::Mutex mu;
  std::vector<int> fired;
  Counter count;
  auto record = [&](int id) {
    return [&, id] {
      {
        absl::MutexLock lock(&mu);
        fired.push_back(id);
      }
      count.Add();
    };
  };
  Scheduler::Timer a(scheduler, record(1)), b(scheduler, record(2)), c(scheduler, record(3));
  const MonotonicTime t0 = clock.MonotonicNow();
  a.ArmAt(t0 + absl::Seconds(3));
  b.ArmAt(t0 + absl::Seconds(1));
  c.ArmAt(t0 + absl::Seconds(2));
  EXPECT_EQ(scheduler.timers_armed(), 3);
  ASSERT_OK(clock.WaitForWaiters(1));  // the timer thread waits for the earliest
  clock.Advance(absl::Milliseconds(999));
  clock.Advance(absl::Milliseconds(1));  // t0 + 1 s: b only
  ASSERT_TRUE(count.AwaitAtLeast(1));
  clock.Advance(absl::Seconds(5));  // both others
  ASSERT_TRUE(count.AwaitAtLeast(3));
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(fired, (std::vector<int>{2, 3, 1}));
  }
  EXPECT_EQ(scheduler.timers_armed(), 0);
  EXPECT_EQ(a.armed(), MonotonicTime::InfiniteFuture());
  // Fired timers stay quiet: nothing is armed, so the timer thread is off the clock.
  EXPECT_EQ(clock.NumWaiters(), 0);
  EXPECT_EQ(count.value(), 3);
}

TEST(SchedulerTest, ReArmingReplacesTheDeadlineAndDisarmedTimersNeverFire) {
  FakeClock clock;
  Scheduler scheduler(clock, 1);
  Counter early, late;
  Scheduler::Timer moved(scheduler, [&] { early.Add(); });
  Scheduler::Timer disarmed(scheduler, [&] { late.Add(); });
  const MonotonicTime t0 = clock.MonotonicNow();
  moved.ArmAt(t0 + absl::Seconds(10));
  moved.ArmAt(t0 + absl::Seconds(1));  // replaces the 10 s deadline
  disarmed.ArmAt(t0 + absl::Seconds(1));
  disarmed.Disarm();
  EXPECT_EQ(scheduler.timers_armed(), 1);
  ASSERT_OK(clock.WaitForWaiters(1));
  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(early.AwaitAtLeast(1));
  // The replaced 10 s deadline and the disarmed one are gone: nothing is left to fire, and the
  // timer thread no longer waits on the clock.
  EXPECT_EQ(scheduler.timers_armed(), 0);
  EXPECT_EQ(clock.NumWaiters(), 0);
  EXPECT_EQ(late.value(), 0);
}

TEST(SchedulerTest, ADeadlineAlreadyPassedFiresAtOnce) {
  FakeClock clock;
  Scheduler scheduler(clock, 1);
  Counter fired;
  Scheduler::Timer timer(scheduler, [&] { fired.Add(); });
  timer.ArmAt(clock.MonotonicNow() - absl::Seconds(1));
  EXPECT_TRUE(fired.AwaitAtLeast(1));
}

// Timers are monotonic deadlines (issue 14, item 10): a wall step back does not delay them (on
// the wall clock this one fired an hour late).
TEST(SchedulerTest, AWallStepBackDoesNotDelayATimer) {
  FakeClock clock;
  Scheduler scheduler(clock, 1);
  Counter fired;
  Scheduler::Timer timer(scheduler, [&] { fired.Add(); });
  timer.ArmAt(clock.MonotonicNow() + absl::Seconds(1));
  ASSERT_OK(clock.WaitForWaiters(1));
  clock.StepWallClock(-absl::Hours(1));
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(fired.AwaitAtLeast(1)) << "the timer did not fire a second after it was armed";
}

// A task sleeping in a BlockingScope does not count against the limit: with one thread, a
// second task runs while the first waits; the pool grows by one thread for it.
TEST(SchedulerTest, ATaskInABlockingScopeLeavesItsSlotToTheNextTask) {
  FakeClock clock;
  Scheduler scheduler(clock, 1);
  absl::Notification blocked, release, second_ran;
  scheduler.Submit([&] {
    Scheduler::BlockingScope scope(scheduler);
    blocked.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(30));
  });
  ASSERT_TRUE(blocked.WaitForNotificationWithTimeout(absl::Seconds(30)));
  scheduler.Submit([&] { second_ran.Notify(); });
  EXPECT_TRUE(second_ran.WaitForNotificationWithTimeout(absl::Seconds(30)))
      << "the second task waited for the blocked one";
  EXPECT_EQ(scheduler.threads_started(), 2);
  release.Notify();
}

// Once out of its scope a task counts again: with one slot, a task that was compensated for and
// came back working, plus the task that took its slot, keep a third task queued until both
// finished.
TEST(SchedulerTest, LeavingTheBlockingScopeCountsTheTaskAgainstTheLimitAgain) {
  FakeClock clock;
  Scheduler scheduler(clock, 1);
  absl::Notification a_blocked, a_working, b_running, b_working, finish_a, finish_b;
  std::atomic<int> working{0}, most_working{0};
  auto work = [&](absl::Notification& started, absl::Notification& until) {
    const int now = ++working;
    int seen = most_working.load();
    while (now > seen && !most_working.compare_exchange_weak(seen, now)) {
    }
    started.Notify();
    until.WaitForNotificationWithTimeout(absl::Seconds(30));
    --working;
  };
  scheduler.Submit([&] {
    {
      Scheduler::BlockingScope scope(scheduler);
      a_blocked.Notify();
      b_running.WaitForNotificationWithTimeout(absl::Seconds(30));
    }
    work(a_working, finish_a);
  });
  ASSERT_TRUE(a_blocked.WaitForNotificationWithTimeout(absl::Seconds(30)));
  scheduler.Submit([&] {
    b_running.Notify();
    work(b_working, finish_b);
  });
  ASSERT_TRUE(a_working.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(b_working.WaitForNotificationWithTimeout(absl::Seconds(30)));
  // A and B both work now (over the limit by the one that came back); C must wait for both.
  std::atomic<bool> c_ran_early{false};
  Counter c_done;
  scheduler.Submit([&] {
    if (!finish_a.HasBeenNotified() || !finish_b.HasBeenNotified()) c_ran_early = true;
    c_done.Add();
  });
  finish_a.Notify();
  finish_b.Notify();
  ASSERT_TRUE(c_done.AwaitAtLeast(1));
  EXPECT_FALSE(c_ran_early) << "a third task ran while two were working with one slot";
  EXPECT_EQ(most_working.load(), 2);
}

}  // namespace
}  // namespace tributary::poller
