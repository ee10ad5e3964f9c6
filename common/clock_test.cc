#include "common/clock.h"

#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/testing/assertions.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
const MonotonicTime kMono = FakeClock::kMonotonicStart;

TEST(MonotonicTimeTest, ArithmeticAndComparisons) {
  const MonotonicTime t = MonotonicTime::FromOrigin(absl::Seconds(10));
  EXPECT_EQ(t + absl::Seconds(5), MonotonicTime::FromOrigin(absl::Seconds(15)));
  EXPECT_EQ(absl::Seconds(5) + t, t + absl::Seconds(5));
  EXPECT_EQ(t - absl::Seconds(15), MonotonicTime::FromOrigin(absl::Seconds(-5)));
  EXPECT_EQ((t + absl::Milliseconds(1500)) - t, absl::Milliseconds(1500));
  EXPECT_EQ(t - (t + absl::Seconds(2)), absl::Seconds(-2));
  EXPECT_LT(t, t + absl::Nanoseconds(1));
  EXPECT_LE(t, t);
  EXPECT_GT(t + absl::Nanoseconds(1), t);
  EXPECT_GE(t, t);
  EXPECT_NE(t, t + absl::Nanoseconds(1));
  MonotonicTime u = t;
  u += absl::Seconds(1);
  u -= absl::Seconds(3);
  EXPECT_EQ(u, t - absl::Seconds(2));
  EXPECT_EQ(MonotonicTime().SinceOrigin(), absl::ZeroDuration());
}

TEST(MonotonicTimeTest, InfinitiesStayInfinite) {
  const MonotonicTime t = MonotonicTime::FromOrigin(absl::Hours(1));
  EXPECT_LT(MonotonicTime::InfinitePast(), t);
  EXPECT_LT(t, MonotonicTime::InfiniteFuture());
  EXPECT_EQ(MonotonicTime::InfiniteFuture() + absl::Hours(1), MonotonicTime::InfiniteFuture());
  EXPECT_EQ(MonotonicTime::InfiniteFuture() - absl::Hours(1), MonotonicTime::InfiniteFuture());
  EXPECT_EQ(MonotonicTime::InfinitePast() + absl::Hours(1), MonotonicTime::InfinitePast());
  EXPECT_EQ(MonotonicTime::InfiniteFuture() - t, absl::InfiniteDuration());
}

TEST(FakeClockTest, TimeMovesOnlyWhenAdvanced) {
  FakeClock clock(kStart);
  EXPECT_EQ(clock.Now(), kStart);
  EXPECT_EQ(clock.MonotonicNow(), kMono);
  EXPECT_EQ(clock.Now(), kStart);
  clock.Advance(absl::Milliseconds(1500));
  EXPECT_EQ(clock.Now(), kStart + absl::Milliseconds(1500));
  EXPECT_EQ(clock.MonotonicNow(), kMono + absl::Milliseconds(1500));
  clock.SetTime(kStart + absl::Seconds(10));
  EXPECT_EQ(clock.Now(), kStart + absl::Seconds(10));
  EXPECT_EQ(clock.MonotonicNow(), kMono + absl::Seconds(10));
}

TEST(FakeClockTest, WallStepMovesOnlyTheWallClockEitherWay) {
  FakeClock clock(kStart);
  clock.StepWallClock(absl::Hours(1));
  EXPECT_EQ(clock.Now(), kStart + absl::Hours(1));
  EXPECT_EQ(clock.MonotonicNow(), kMono);
  clock.StepWallClock(-absl::Hours(3));
  EXPECT_EQ(clock.Now(), kStart - absl::Hours(2));
  EXPECT_EQ(clock.MonotonicNow(), kMono);
  // Time passing after a step moves both readings from where they are.
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(clock.Now(), kStart - absl::Hours(2) + absl::Seconds(1));
  EXPECT_EQ(clock.MonotonicNow(), kMono + absl::Seconds(1));
  clock.SetTime(kStart);
  EXPECT_EQ(clock.Now(), kStart);
  EXPECT_EQ(clock.MonotonicNow(), kMono + absl::Hours(2));
}

TEST(FakeClockTest, WallStepForwardDoesNotWakeAMonotonicDeadline) {
  FakeClock clock(kStart);
  absl::Mutex mu;
  bool ready = false;
  bool result = true;
  absl::Notification woke;
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    result = clock.AwaitWithDeadline(&mu, absl::Condition(&ready), kMono + absl::Seconds(5));
    woke.Notify();
  });
  ASSERT_OK(clock.WaitForWaiters(1)) << "the waiter never started waiting";
  clock.StepWallClock(absl::Hours(1));
  // Cycle the waiter's mutex as an Advance would: it re-evaluates and stays parked.
  { absl::MutexLock lock(&mu); }
  EXPECT_EQ(clock.NumWaiters(), 1);
  EXPECT_FALSE(woke.HasBeenNotified());
  clock.Advance(absl::Seconds(5));
  ASSERT_TRUE(woke.WaitForNotificationWithTimeout(absl::Seconds(10)))
      << "the waiter did not wake when its monotonic deadline was reached";
  waiter.join();
  EXPECT_FALSE(result);
}

TEST(FakeClockTest, WallStepBackDoesNotDelayAMonotonicDeadline) {
  FakeClock clock(kStart);
  absl::Notification done;
  std::thread sleeper([&] {
    clock.SleepFor(absl::Seconds(5));
    done.Notify();
  });
  ASSERT_OK(clock.WaitForWaiters(1));
  clock.StepWallClock(-absl::Hours(1));
  clock.Advance(absl::Seconds(5));
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)))
      << "a wall step back delayed a monotonic sleep";
  sleeper.join();
  EXPECT_EQ(clock.Now(), kStart - absl::Hours(1) + absl::Seconds(5));
}

TEST(FakeClockTest, AwaitReturnsAtOnceWhenConditionHolds) {
  FakeClock clock(kStart);
  absl::Mutex mu;
  bool ready = true;
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(clock.AwaitWithDeadline(&mu, absl::Condition(&ready), kMono + absl::Hours(1)));
  EXPECT_EQ(clock.NumWaiters(), 0);
}

TEST(FakeClockTest, AwaitReturnsFalseAtOnceWhenDeadlinePassed) {
  FakeClock clock(kStart);
  absl::Mutex mu;
  bool ready = false;
  absl::MutexLock lock(&mu);
  EXPECT_FALSE(clock.AwaitWithDeadline(&mu, absl::Condition(&ready), kMono));
}

TEST(FakeClockTest, WaiterWakesWhenTimeReachesDeadlineAndNotBefore) {
  FakeClock clock(kStart);
  absl::Mutex mu;
  bool ready = false;
  bool result = true;
  absl::Notification woke;
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    result = clock.AwaitWithDeadline(&mu, absl::Condition(&ready), kMono + absl::Seconds(5));
    woke.Notify();
  });
  ASSERT_OK(clock.WaitForWaiters(1)) << "the waiter never started waiting";
  clock.Advance(absl::Seconds(4));
  // Still parked: the deadline is a second away.
  EXPECT_EQ(clock.NumWaiters(), 1);
  EXPECT_FALSE(woke.HasBeenNotified());
  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(woke.WaitForNotificationWithTimeout(absl::Seconds(10)))
      << "the waiter did not wake when its deadline was reached";
  waiter.join();
  EXPECT_FALSE(result);
  EXPECT_EQ(clock.NumWaiters(), 0);
}

TEST(FakeClockTest, WaiterWakesWhenConditionBecomesTrue) {
  FakeClock clock(kStart);
  absl::Mutex mu;
  bool ready = false;
  bool result = false;
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    result = clock.AwaitWithDeadline(&mu, absl::Condition(&ready), kMono + absl::Hours(1));
  });
  ASSERT_OK(clock.WaitForWaiters(1));
  {
    absl::MutexLock lock(&mu);
    ready = true;
  }
  waiter.join();
  EXPECT_TRUE(result);
  EXPECT_EQ(clock.Now(), kStart);
}

TEST(FakeClockTest, SleepUntilReturnsWhenTimeIsAdvanced) {
  FakeClock clock(kStart);
  absl::Notification done;
  std::thread sleeper([&] {
    clock.SleepFor(absl::Minutes(2));
    done.Notify();
  });
  ASSERT_OK(clock.WaitForWaiters(1));
  clock.Advance(absl::Minutes(1));
  EXPECT_FALSE(done.HasBeenNotified());
  clock.Advance(absl::Minutes(1));
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  sleeper.join();
}

TEST(FakeClockTest, ManyWaitersWakeInDeadlineOrder) {
  FakeClock clock(kStart);
  constexpr int kWaiters = 8;
  absl::Mutex mu;
  int woken = 0;
  std::vector<std::thread> threads;
  for (int i = 1; i <= kWaiters; ++i) {
    threads.emplace_back([&, i] {
      clock.SleepUntil(kMono + absl::Seconds(i));
      absl::MutexLock lock(&mu);
      ++woken;
    });
  }
  ASSERT_OK(clock.WaitForWaiters(kWaiters));
  for (int i = 1; i <= kWaiters; ++i) {
    clock.Advance(absl::Seconds(1));
    absl::MutexLock lock(&mu);
    auto reached = [&]() { return woken >= i; };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(10)))
        << "waiter " << i << " did not wake";
    EXPECT_EQ(woken, i);
  }
  for (auto& t : threads) t.join();
}

TEST(FakeClockTest, WaitForWaitersTimesOutWhenNobodyWaits) {
  FakeClock clock(kStart);
  const absl::Status status = clock.WaitForWaiters(1, absl::Milliseconds(10));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(status.message(),
            "waited 10ms for 1 thread(s) waiting on the FakeClock; last seen: 0 waiting");
}

TEST(RealClockTest, AwaitWithPastDeadlineReturnsConditionValue) {
  Clock& clock = RealClock::Get();
  absl::Mutex mu;
  bool ready = false;
  absl::MutexLock lock(&mu);
  EXPECT_FALSE(
      clock.AwaitWithDeadline(&mu, absl::Condition(&ready), MonotonicTime::InfinitePast()));
  EXPECT_FALSE(clock.AwaitWithDeadline(&mu, absl::Condition(&ready), clock.MonotonicNow()));
  ready = true;
  EXPECT_TRUE(clock.AwaitWithDeadline(&mu, absl::Condition(&ready), MonotonicTime::InfinitePast()));
}

TEST(RealClockTest, MonotonicReadingNeverGoesBack) {
  Clock& clock = RealClock::Get();
  MonotonicTime last = clock.MonotonicNow();
  for (int i = 0; i < 1000; ++i) {
    const MonotonicTime now = clock.MonotonicNow();
    ASSERT_GE(now, last);
    last = now;
  }
}

// Real time passes in the two tests below (milliseconds): they check that a wait never ends
// before its monotonic deadline and does end after it, whichever wake-up (Abseil's or the
// waker's) comes first. That a wall step back does not delay the wake-up cannot be tested
// without stepping the machine's clock; FakeClock's tests cover the contract.
TEST(RealClockTest, TimedWaitEndsAtItsMonotonicDeadlineAndNotBefore) {
  RealClock clock;  // its own waker, joined at the end of the test
  absl::Mutex mu;
  bool ready = false;
  absl::MutexLock lock(&mu);
  const MonotonicTime deadline = clock.MonotonicNow() + absl::Milliseconds(20);
  EXPECT_FALSE(clock.AwaitWithDeadline(&mu, absl::Condition(&ready), deadline));
  EXPECT_GE(clock.MonotonicNow(), deadline);
}

TEST(RealClockTest, ManyWaitersWithStaggeredDeadlinesAllWakeOnTime) {
  RealClock clock;
  constexpr int kWaiters = 8;
  std::vector<std::thread> threads;
  std::vector<int> early(kWaiters, 0);
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      const MonotonicTime deadline = clock.MonotonicNow() + absl::Milliseconds(2 * (i + 1));
      clock.SleepUntil(deadline);
      early[i] = clock.MonotonicNow() < deadline;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kWaiters; ++i) EXPECT_EQ(early[i], 0) << "waiter " << i << " woke early";
}

TEST(RealClockTest, WaitEndsWhenConditionBecomesTrue) {
  RealClock clock;
  absl::Mutex mu;
  bool ready = false;
  bool result = false;
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    result = clock.AwaitWithDeadline(&mu, absl::Condition(&ready),
                                     clock.MonotonicNow() + absl::Hours(1));
  });
  {
    absl::MutexLock lock(&mu);
    ready = true;
  }
  waiter.join();
  EXPECT_TRUE(result);
}

}  // namespace
}  // namespace tributary
