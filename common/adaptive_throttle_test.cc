#include "common/adaptive_throttle.h"

#include <cstdint>
#include <memory>
#include <random>

#include "absl/time/time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kSeed = 22;

class AdaptiveThrottleTest : public ::testing::Test {
 protected:
  // A throttle with K = 2, a 1 s window of 10 slices, and a draw of `draw` for
  // every call (0: every call with a probability above 0 is refused).
  AdaptiveThrottle& Make(double draw) {
    AdaptiveThrottleOptions options;
    options.k = 2;
    options.window = absl::Seconds(1);
    options.buckets = 10;
    options.uniform = [draw] { return draw; };
    throttle_ = std::make_unique<AdaptiveThrottle>(clock_, options);
    return *throttle_;
  }
  // The same with uniform draws from a generator seeded with kSeed.
  AdaptiveThrottle& MakeSeeded() {
    AdaptiveThrottleOptions options;
    options.k = 2;
    options.window = absl::Seconds(1);
    options.buckets = 10;
    options.uniform = [this] { return std::uniform_real_distribution<double>(0, 1)(engine_); };
    throttle_ = std::make_unique<AdaptiveThrottle>(clock_, options);
    return *throttle_;
  }
  // One call: whether it reached the server; the server refuses it when `refuse`.
  bool Call(bool refuse) {
    if (!throttle_->Admit().ok()) return false;
    throttle_->Done(refuse);
    return true;
  }

  FakeClock clock_;
  std::mt19937_64 engine_{kSeed};
  std::unique_ptr<AdaptiveThrottle> throttle_;
};

TEST_F(AdaptiveThrottleTest, NothingIsRejectedWhileTheServerAcceptsEverything) {
  Make(/*draw=*/0);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(Call(/*refuse=*/false)) << "call " << i;
    clock_.Advance(absl::Milliseconds(3));
  }
  EXPECT_EQ(throttle_->local_rejections(), 0);
  EXPECT_EQ(throttle_->RejectionProbability(), 0);
}

TEST_F(AdaptiveThrottleTest, NothingIsRejectedWhileTheServerAcceptsAtLeastOneCallInK) {
  // The server refuses every other call: accepts are exactly requests / K, and
  // the worst possible draw still lets every call through.
  Make(/*draw=*/0);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(Call(/*refuse=*/i % 2 == 1)) << "call " << i;
    clock_.Advance(absl::Milliseconds(1));
  }
  EXPECT_EQ(throttle_->local_rejections(), 0);
}

TEST_F(AdaptiveThrottleTest, RejectionProbabilityRisesAsTheServerRefusesUpToItsCeiling) {
  Make(/*draw=*/0.95);  // only a probability above 0.95 would refuse: none does
  double previous = 0;
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(Call(/*refuse=*/true));
    const double p = throttle_->RejectionProbability();
    EXPECT_GT(p, previous) << "after call " << i;
    previous = p;
  }
  EXPECT_NEAR(previous, 9.0 / 10, 1e-9);  // 9 requests, no accepts: 9 / (9 + 1)
  for (int i = 0; i < 100; ++i) Call(/*refuse=*/true);
  EXPECT_EQ(throttle_->RejectionProbability(), 0.9);  // the default ceiling
  EXPECT_EQ(throttle_->local_rejections(), 0);
}

TEST_F(AdaptiveThrottleTest, CallsAreRefusedLocallyWhenTheDrawFallsUnderTheProbability) {
  Make(/*draw=*/0.5);
  int sent = 0;
  for (int i = 0; i < 100; ++i) sent += Call(/*refuse=*/true);
  // 0/1, 1/2 let through (p <= 0.5); from 2/3 on every call stays local.
  EXPECT_EQ(sent, 2);
  EXPECT_EQ(throttle_->local_rejections(), 98);
}

TEST_F(AdaptiveThrottleTest, ALocalRejectionIsResourceExhaustedSayingItWasClientSide) {
  Make(/*draw=*/0);
  Call(/*refuse=*/true);
  const absl::Status status = throttle_->Admit();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("throttled client-side"));
}

TEST_F(AdaptiveThrottleTest, OnlyResourceExhaustedCountsAsARefusal) {
  Make(/*draw=*/0.99);  // never refuses locally (the ceiling is 0.9)
  for (const absl::Status& status :
       {absl::InvalidArgumentError("bad"), absl::DeadlineExceededError("slow"),
        absl::NotFoundError("gone"), absl::OkStatus()}) {
    ASSERT_TRUE(throttle_->Admit().ok());
    throttle_->Done(status);
  }
  // Four requests, four accepts.
  EXPECT_EQ(throttle_->RejectionProbability(), 0);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(throttle_->Admit().ok());
    throttle_->Done(absl::ResourceExhaustedError("queue full"));
  }
  // 14 requests, 4 accepts: (14 - 2 * 4) / 15.
  EXPECT_NEAR(throttle_->RejectionProbability(), 6.0 / 15, 1e-9);
}

TEST_F(AdaptiveThrottleTest, TheServerSeesAboutKTimesWhatItAccepts) {
  // 1,000 attempts a second against a server that accepts 250 a second and
  // refuses the rest: with K = 2 about 500 a second reach it, 500 stay local.
  AdaptiveThrottle& throttle = MakeSeeded();
  int64_t sent_in_last_seconds = 0, accepted_in_last_seconds = 0;
  for (int second = 0; second < 10; ++second) {
    int accepted_this_second = 0;
    for (int i = 0; i < 1000; ++i) {
      if (throttle.Admit().ok()) {
        const bool refuse = accepted_this_second >= 250;
        if (!refuse) ++accepted_this_second;
        throttle.Done(refuse);
        if (second >= 5) ++sent_in_last_seconds;
      }
      clock_.Advance(absl::Milliseconds(1));
    }
    if (second >= 5) accepted_in_last_seconds += accepted_this_second;
  }
  SCOPED_TRACE(testing::Message() << "seed " << kSeed);
  EXPECT_EQ(accepted_in_last_seconds, 5 * 250);  // the server stays busy
  EXPECT_GT(sent_in_last_seconds, 5 * 400);
  EXPECT_LT(sent_in_last_seconds, 5 * 650);
}

TEST_F(AdaptiveThrottleTest, RejectionsEndWithinTwoWindowsOnceTheServerAcceptsAgain) {
  AdaptiveThrottle& throttle = MakeSeeded();
  SCOPED_TRACE(testing::Message() << "seed " << kSeed);
  // The server refuses everything for a while.
  for (int i = 0; i < 200; ++i) {
    if (throttle.Admit().ok()) throttle.Done(/*server_refused=*/true);
  }
  ASSERT_EQ(throttle.RejectionProbability(), 0.9);
  // Then accepts whatever reaches it; 200 attempts a second.
  for (int slice = 0; slice < 20; ++slice) {
    clock_.Advance(absl::Milliseconds(100));
    for (int i = 0; i < 20; ++i) {
      if (throttle.Admit().ok()) throttle.Done(/*server_refused=*/false);
    }
  }
  EXPECT_EQ(throttle.RejectionProbability(), 0);
  const int64_t rejected = throttle.local_rejections();
  EXPECT_GT(rejected, 0);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(throttle.Admit().ok()) << "call " << i;
    throttle.Done(/*server_refused=*/false);
  }
  EXPECT_EQ(throttle.local_rejections(), rejected);
}

}  // namespace
}  // namespace tributary
