#include "shard_store/put_executor.h"

#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace tributary::shard_store {
namespace {

// Only a failure guard: a correct executor never comes near it.
constexpr absl::Duration kGuard = absl::Seconds(30);

TEST(PutExecutorTest, DestructionRunsEveryTaskSubmittedBeforeIt) {
  absl::Mutex mu;
  int ran = 0;
  {
    PutExecutor executor(2);
    for (int i = 0; i < 100; ++i) {
      executor.Submit([&] {
        absl::MutexLock lock(&mu);
        ++ran;
      });
    }
  }
  absl::MutexLock lock(&mu);
  EXPECT_EQ(ran, 100);
}

TEST(PutExecutorTest, TasksRunOnItsThreadsNotTheSubmitters) {
  std::thread::id ran_on;
  {
    PutExecutor executor(1);
    executor.Submit([&] { ran_on = std::this_thread::get_id(); });
  }
  EXPECT_NE(ran_on, std::thread::id());
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

// Two calls in progress at once: with two threads the first task waits for the second, which
// only a second thread can run (so concurrent puts can share one fsync).
TEST(PutExecutorTest, TasksRunConcurrentlyOnSeveralThreads) {
  absl::Notification second_ran;
  bool first_saw_second = false;
  {
    PutExecutor executor(2);
    executor.Submit(
        [&] { first_saw_second = second_ran.WaitForNotificationWithTimeout(kGuard); });
    executor.Submit([&] { second_ran.Notify(); });
  }
  EXPECT_TRUE(first_saw_second) << "the second task did not run while the first was running";
}

TEST(PutExecutorTest, ZeroThreadsMeansOne) {
  bool ran = false;
  {
    PutExecutor executor(0);
    executor.Submit([&] { ran = true; });
  }
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace tributary::shard_store
