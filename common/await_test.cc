#include "common/await.h"

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

using ::testing::HasSubstr;

TEST(AwaitTest, AwaitForIsOkAtOnceWhenTheConditionAlreadyHolds) {
  absl::Mutex mu;
  EXPECT_TRUE(AwaitFor(
                  mu, absl::ZeroDuration(), "nothing", [] { return true; },
                  [] { return std::string("unused"); })
                  .ok());
}

TEST(AwaitTest, AwaitForWakesWhenAnotherThreadMakesTheConditionHold) {
  absl::Mutex mu;
  int calls = 0;  // guarded by mu
  std::thread caller([&] {
    absl::MutexLock lock(&mu);
    calls = 3;
  });
  // 60 s is only a failure guard: the wait ends as soon as the other thread's unlock runs.
  const absl::Status status = AwaitFor(
      mu, absl::Seconds(60), "3 calls", [&] { return calls >= 3; },
      [&] { return absl::StrCat(calls, " calls"); });
  caller.join();
  EXPECT_TRUE(status.ok()) << status;
}

TEST(AwaitTest, ATimedOutWaitSaysWhatWasAwaitedWhatWasSeenAndHowLong) {
  absl::Mutex mu;
  int calls = 1;  // guarded by mu
  const absl::Status status = AwaitFor(
      mu, absl::Milliseconds(10), "3 calls", [&] { return calls >= 3; },
      [&] { return absl::StrCat(calls, " calls"); });
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(status.message(), "waited 10ms for 3 calls; last seen: 1 calls");
}

TEST(AwaitTest, PollForIsOkOnceTheConditionHolds) {
  int polls = 0;
  EXPECT_TRUE(PollFor(
                  absl::Seconds(60), absl::Milliseconds(1), "the third poll",
                  [&] { return ++polls >= 3; }, [&] { return absl::StrCat(polls, " polls"); })
                  .ok());
  EXPECT_EQ(polls, 3);
}

TEST(AwaitTest, PollForTimesOutWithWhatItLastSaw) {
  const absl::Status status = PollFor(
      absl::Milliseconds(10), absl::Milliseconds(1), "a file", [] { return false; },
      [] { return std::string("no such file"); });
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("waited 10ms for a file; last seen: no such file"));
}

}  // namespace
}  // namespace tributary
