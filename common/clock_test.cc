#include "common/clock.h"

#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

TEST(FakeClockTest, TimeMovesOnlyWhenAdvanced) {
  FakeClock clock(kStart);
  EXPECT_EQ(clock.Now(), kStart);
  EXPECT_EQ(clock.Now(), kStart);
  clock.Advance(absl::Milliseconds(1500));
  EXPECT_EQ(clock.Now(), kStart + absl::Milliseconds(1500));
  clock.SetTime(kStart + absl::Seconds(10));
  EXPECT_EQ(clock.Now(), kStart + absl::Seconds(10));
}

TEST(FakeClockTest, AwaitReturnsAtOnceWhenConditionHolds) {
  FakeClock clock(kStart);
  absl::Mutex mu;
  bool ready = true;
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(clock.AwaitWithDeadline(&mu, absl::Condition(&ready), kStart + absl::Hours(1)));
  EXPECT_EQ(clock.NumWaiters(), 0);
}

TEST(FakeClockTest, AwaitReturnsFalseAtOnceWhenDeadlinePassed) {
  FakeClock clock(kStart);
  absl::Mutex mu;
  bool ready = false;
  absl::MutexLock lock(&mu);
  EXPECT_FALSE(clock.AwaitWithDeadline(&mu, absl::Condition(&ready), kStart));
}

TEST(FakeClockTest, WaiterWakesWhenTimeReachesDeadlineAndNotBefore) {
  FakeClock clock(kStart);
  absl::Mutex mu;
  bool ready = false;
  bool result = true;
  absl::Notification woke;
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    result = clock.AwaitWithDeadline(&mu, absl::Condition(&ready), kStart + absl::Seconds(5));
    woke.Notify();
  });
  ASSERT_TRUE(clock.WaitForWaiters(1)) << "the waiter never started waiting";
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
    result = clock.AwaitWithDeadline(&mu, absl::Condition(&ready), kStart + absl::Hours(1));
  });
  ASSERT_TRUE(clock.WaitForWaiters(1));
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
  ASSERT_TRUE(clock.WaitForWaiters(1));
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
      clock.SleepUntil(kStart + absl::Seconds(i));
      absl::MutexLock lock(&mu);
      ++woken;
    });
  }
  ASSERT_TRUE(clock.WaitForWaiters(kWaiters));
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
  EXPECT_FALSE(clock.WaitForWaiters(1, absl::Milliseconds(10)));
}

TEST(RealClockTest, AwaitWithPastDeadlineReturnsConditionValue) {
  Clock& clock = RealClock::Get();
  absl::Mutex mu;
  bool ready = false;
  absl::MutexLock lock(&mu);
  EXPECT_FALSE(clock.AwaitWithDeadline(&mu, absl::Condition(&ready), absl::InfinitePast()));
  ready = true;
  EXPECT_TRUE(clock.AwaitWithDeadline(&mu, absl::Condition(&ready), absl::InfinitePast()));
}

}  // namespace
}  // namespace tributary
