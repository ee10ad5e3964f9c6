#include "shard_store/read_limits.h"

#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::shard_store {
namespace {

using ::testing::HasSubstr;

class ReadLimitsTest : public ::testing::Test {
 protected:
  absl::Status Get(ReadLimits& limits, uint32_t shard = 0) {
    return limits.AdmitCall(1, shard, "shardId-000000000000", clock_.MonotonicNow());
  }
  FakeClock clock_;
};

TEST_F(ReadLimitsTest, TheSixthCallInOneSecondIsThrottledAndTheNextSecondHasFiveMore) {
  ReadLimits limits(5, 0);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Get(limits).ok()) << i;
  absl::Status sixth = Get(limits);
  EXPECT_EQ(sixth.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(sixth.message()), HasSubstr("ProvisionedThroughputExceededException"));
  EXPECT_THAT(std::string(sixth.message()), HasSubstr("retry after 200 ms"));
  EXPECT_TRUE(Get(limits, /*shard=*/1).ok()) << "another shard has its own bucket";
  clock_.Advance(absl::Seconds(1));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Get(limits).ok()) << i;
}

TEST_F(ReadLimitsTest, ALargeReplyThrottlesTheShardUntilTheRateHasPaidItBack) {
  ReadLimits limits(5, 2 << 20);
  ASSERT_TRUE(Get(limits).ok());
  limits.Charge(1, 0, 10 << 20);  // a 10 MiB reply: 8 MiB overdrawn, 4 s at 2 MiB/s
  clock_.Advance(absl::Seconds(3));
  EXPECT_EQ(Get(limits).code(), absl::StatusCode::kResourceExhausted);
  clock_.Advance(absl::Seconds(1) + absl::Milliseconds(1));
  EXPECT_TRUE(Get(limits).ok());
}

TEST_F(ReadLimitsTest, ZeroRatesAdmitEverything) {
  ReadLimits limits(0, 0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(Get(limits).ok());
}

TEST_F(ReadLimitsTest, AWallStepBackDoesNotDrainTheBucket) {
  ReadLimits limits(5, 0);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Get(limits).ok());
  clock_.StepWallClock(-absl::Hours(1));
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(Get(limits).ok());
}

}  // namespace
}  // namespace tributary::shard_store
