// The manual clock's service: it moves the one clock every service reads, forward only, and
// wakes what waits on it; and the loopback rule `tributary serve --clock=manual` enforces.
#include "tools/tributary/manual_clock_service.h"

#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/proto_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

using ::testing::HasSubstr;

class ManualClockServiceTest : public ::testing::Test {
 protected:
  grpc::Status Advance(int64_t seconds, v1::ClockReading* reading) {
    v1::AdvanceClockRequest request;
    request.mutable_by()->set_seconds(seconds);
    return service_.AdvanceClock(nullptr, &request, reading);
  }

  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  ManualClockService service_{clock_};
};

TEST_F(ManualClockServiceTest, AdvanceWakesWhatWaitsOnTheClockAndReturnsTheNewTime) {
  absl::Mutex mu;
  bool woke = false;
  std::thread waiter([&] {
    absl::MutexLock lock(&mu);
    const bool never = false;
    clock_.AwaitWithDeadline(&mu, absl::Condition(&never),
                             clock_.MonotonicNow() + absl::Seconds(90));
    woke = true;
  });
  ASSERT_TRUE(clock_.WaitForWaiters(1).ok());
  v1::ClockReading reading;
  ASSERT_TRUE(Advance(90, &reading).ok());
  waiter.join();
  EXPECT_TRUE(woke);
  EXPECT_EQ(FromProtoTimestamp(reading.now()), absl::FromUnixSeconds(1'800'000'090));
  EXPECT_EQ(clock_.Now(), absl::FromUnixSeconds(1'800'000'090));
}

TEST_F(ManualClockServiceTest, TimeNeverMovesBackwards) {
  v1::ClockReading reading;
  EXPECT_EQ(Advance(-1, &reading).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::SetClockRequest set;
  *set.mutable_to() = ToProtoTimestamp(absl::FromUnixSeconds(1'799'999'999));
  grpc::Status back = service_.SetClock(nullptr, &set, &reading);
  EXPECT_EQ(back.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(back.error_message(), HasSubstr("only moves forward"));
  const v1::SetClockRequest empty;
  EXPECT_EQ(service_.SetClock(nullptr, &empty, &reading).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(clock_.Now(), absl::FromUnixSeconds(1'800'000'000));

  *set.mutable_to() = ToProtoTimestamp(absl::FromUnixSeconds(1'800'003'600));
  ASSERT_TRUE(service_.SetClock(nullptr, &set, &reading).ok());
  EXPECT_EQ(clock_.Now(), absl::FromUnixSeconds(1'800'003'600));
  ASSERT_TRUE(service_.GetClock(nullptr, nullptr, &reading).ok());
  EXPECT_EQ(FromProtoTimestamp(reading.now()), absl::FromUnixSeconds(1'800'003'600));
}

TEST(CheckLoopbackListenersTest, EveryListenerMustBeOnLoopback) {
  EXPECT_TRUE(CheckLoopbackListeners({{"listen", "127.0.0.1:0"},
                                      {"metrics_listen", "[::1]:9090"},
                                      {"aws_listen", "localhost:4566"},
                                      {"console", ""}})
                  .ok());
  EXPECT_TRUE(CheckLoopbackListeners({{"listen", "127.1.2.3:4560"}}).ok());
  absl::Status open =
      CheckLoopbackListeners({{"listen", "127.0.0.1:0"}, {"metrics_listen", "0.0.0.0:9090"}});
  EXPECT_EQ(open.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(open.message()), HasSubstr("--metrics_listen=0.0.0.0:9090"));
  EXPECT_FALSE(CheckLoopbackListeners({{"listen", "127.example.com:1"}}).ok());
  EXPECT_FALSE(CheckLoopbackListeners({{"listen", "10.0.0.1:4560"}}).ok());
}

}  // namespace
}  // namespace tributary
