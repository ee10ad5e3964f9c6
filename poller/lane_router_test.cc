#include "poller/lane_router.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tributary::poller {
namespace {

TEST(LaneRouterTest, SameKeySameLaneAndEveryLaneUsed) {
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

TEST(LaneRouterTest, HashIsStableAcrossProcesses) {
  // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c; mod 10 = 6 (fixed: a salted hash would vary).
  EXPECT_EQ(LaneForPartitionKey("a", 10), static_cast<int>(0xaf63dc4c8601ec8cull % 10));
}

TEST(WatermarkTrackerTest, WatermarkIsTheLowestContiguousDonePrefix) {
  WatermarkTracker t;
  for (uint64_t s : {10, 11, 12, 13}) ASSERT_TRUE(t.Received(s).ok());
  EXPECT_FALSE(t.watermark().has_value());
  ASSERT_TRUE(t.Done(12).ok());
  EXPECT_FALSE(t.watermark().has_value());
  ASSERT_TRUE(t.Done(10).ok());
  EXPECT_EQ(t.watermark(), 10u);
  ASSERT_TRUE(t.Done(11).ok());
  EXPECT_EQ(t.watermark(), 12u);
  EXPECT_EQ(t.outstanding(), 1);
  ASSERT_TRUE(t.Done(13).ok());
  EXPECT_EQ(t.watermark(), 13u);
  EXPECT_EQ(t.outstanding(), 0);
}

TEST(WatermarkTrackerTest, DoneIsIdempotentAndNeverMovesBack) {
  WatermarkTracker t;
  ASSERT_TRUE(t.Received(5).ok());
  ASSERT_TRUE(t.Done(5).ok());
  ASSERT_TRUE(t.Done(5).ok());
  EXPECT_EQ(t.watermark(), 5u);
}

TEST(WatermarkTrackerTest, OutOfOrderReceiveIsInvalidArgument) {
  WatermarkTracker t;
  ASSERT_TRUE(t.Received(5).ok());
  EXPECT_EQ(t.Received(5).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.Received(4).code(), absl::StatusCode::kInvalidArgument);
}

TEST(WatermarkTrackerTest, DoneOfUnknownRecordIsNotFound) {
  WatermarkTracker t;
  ASSERT_TRUE(t.Received(5).ok());
  EXPECT_EQ(t.Done(6).code(), absl::StatusCode::kNotFound);
}

TEST(WatermarkTrackerTest, PredecessorIsTheReceivedRecordJustBelowAPendingOne) {
  WatermarkTracker t;
  for (uint64_t seq : {3, 7, 9, 20}) ASSERT_TRUE(t.Received(seq).ok());
  EXPECT_EQ(*t.Predecessor(3), std::nullopt) << "nothing was received before 3";
  EXPECT_EQ(*t.Predecessor(9), std::optional<uint64_t>(7));
  ASSERT_TRUE(t.Done(3).ok());
  ASSERT_TRUE(t.Done(7).ok());  // the watermark is 7 and forgets 3 and 7
  EXPECT_EQ(*t.Predecessor(9), std::optional<uint64_t>(7));
  ASSERT_TRUE(t.Done(20).ok());  // done but above the watermark: still pending
  EXPECT_EQ(*t.Predecessor(20), std::optional<uint64_t>(9));
  EXPECT_EQ(t.Predecessor(7).status().code(), absl::StatusCode::kNotFound) << "forgotten";
  EXPECT_EQ(t.Predecessor(8).status().code(), absl::StatusCode::kNotFound) << "never received";
}

}  // namespace
}  // namespace tributary::poller
