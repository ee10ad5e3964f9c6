#include "mapping/lanes.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tributary::mapping {
namespace {

TEST(LanesTest, SameKeySameLaneAndEveryLaneUsed) {
  for (int n = 1; n <= 10; ++n) {
    std::set<int> used;
    for (int k = 0; k < 1000; ++k) {
      const std::string key = absl::StrCat("key-", k);
      const int lane = LaneForPartitionKey(key, n);
      ASSERT_GE(lane, 0);
      ASSERT_LT(lane, n);
      EXPECT_EQ(lane, LaneForPartitionKey(key, n));
      used.insert(lane);
    }
    EXPECT_EQ(used.size(), static_cast<size_t>(n));
  }
}

TEST(LanesTest, HashIsStableAcrossProcesses) {
  // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c; mod 10 = 6 (fixed: a salted hash would vary).
  EXPECT_EQ(LaneForPartitionKey("a", 10), static_cast<int>(0xaf63dc4c8601ec8cull % 10));
}

}  // namespace
}  // namespace tributary::mapping
