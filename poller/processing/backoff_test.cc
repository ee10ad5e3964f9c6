#include "poller/processing/backoff.h"

#include <set>

#include "common/testing/test_util.h"
#include "gtest/gtest.h"

namespace tributary::poller {
namespace {

TEST(BackoffTest, CeilingDoublesUpToTheMaximum) {
  Backoff b({absl::Milliseconds(100), absl::Seconds(1)}, 1);
  EXPECT_EQ(b.Ceiling(0), absl::Milliseconds(100));
  EXPECT_EQ(b.Ceiling(1), absl::Milliseconds(200));
  EXPECT_EQ(b.Ceiling(3), absl::Milliseconds(800));
  EXPECT_EQ(b.Ceiling(4), absl::Seconds(1));
  EXPECT_EQ(b.Ceiling(1000), absl::Seconds(1));
}

TEST(BackoffTest, DelaysAreFullJitterWithinBoundsAndSpread) {
  const uint64_t seed = tributary::testing::TestSeed();
  std::cout << "seed " << seed << "\n";
  Backoff b({absl::Milliseconds(100), absl::Seconds(30)}, seed);
  std::set<int64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const absl::Duration d = b.Delay(3);
    ASSERT_GE(d, absl::ZeroDuration());
    ASSERT_LE(d, absl::Milliseconds(800));
    seen.insert(absl::ToInt64Milliseconds(d));
  }
  // Full jitter: values across the whole range, including the low end.
  EXPECT_GT(seen.size(), 300u);
  EXPECT_LT(*seen.begin(), 50);
  EXPECT_GT(*seen.rbegin(), 750);
}

TEST(BackoffTest, SameSeedSameDelays) {
  Backoff a({}, 42), b({}, 42);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.Delay(i), b.Delay(i));
}

}  // namespace
}  // namespace tributary::poller
