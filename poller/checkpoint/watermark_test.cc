#include "poller/checkpoint/watermark.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace tributary::poller {
namespace {

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
