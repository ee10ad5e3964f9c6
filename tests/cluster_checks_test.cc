// The end-to-end checks must be able to fail: each is shown a history that breaks its rule.
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cluster.h"

namespace tributary::e2e {
namespace {

Delivery D(const std::string& shard, uint64_t seq, const std::string& key = "k") {
  Delivery d;
  d.shard_id = shard;
  d.sequence_number = seq;
  d.partition_key = key;
  return d;
}

Acked A(const std::string& key, int64_t n, const std::string& shard, uint64_t seq) {
  return Acked{key, n, shard, seq};
}

TEST(ClusterChecksTest, EveryAckedDeliveredPassesWithDuplicatesAndFailsOnALoss) {
  std::vector<Acked> acked = {A("k", 0, "s0", 1), A("k", 1, "s0", 2)};
  EXPECT_TRUE(CheckEveryAckedDelivered(acked, {D("s0", 1), D("s0", 1), D("s0", 2)}).ok());
  absl::Status lost = CheckEveryAckedDelivered(acked, {D("s0", 1)});
  EXPECT_EQ(lost.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(lost.message().find("k|1"), absl::string_view::npos) << lost;
}

TEST(ClusterChecksTest, AckedSequenceNumbersMustIncreasePerShard) {
  EXPECT_TRUE(CheckAckedSequenceNumbersIncrease(
                  {A("k", 0, "s0", 1), A("j", 0, "s1", 1), A("k", 1, "s0", 5)})
                  .ok());
  // A number given twice (reused) or going back within a shard: broken.
  EXPECT_FALSE(CheckAckedSequenceNumbersIncrease({A("k", 0, "s0", 5), A("j", 0, "s0", 5)}).ok());
  EXPECT_FALSE(CheckAckedSequenceNumbersIncrease({A("k", 0, "s0", 5), A("k", 1, "s0", 4)}).ok());
}

TEST(ClusterChecksTest, KeyOrderIgnoresRedeliveriesButCatchesReordering) {
  std::vector<Acked> acked = {A("k", 0, "s0", 1), A("k", 1, "s0", 2), A("k", 2, "s1", 1)};
  // A replay of 0 and 1 after 2 (at-least-once after a crash) is fine: first deliveries ordered.
  EXPECT_TRUE(CheckFirstDeliveriesInKeyOrder(
                  acked, {D("s0", 1), D("s0", 2), D("s1", 1), D("s0", 1), D("s0", 2)})
                  .ok());
  // The child shard's record of the key first delivered before the parent's: broken.
  EXPECT_FALSE(CheckFirstDeliveriesInKeyOrder(acked, {D("s0", 1), D("s1", 1), D("s0", 2)}).ok());
}

TEST(ClusterChecksTest, ShardOrderCatchesAGoingBackwards) {
  EXPECT_TRUE(CheckFirstDeliveriesInShardOrder({D("s0", 1), D("s1", 9), D("s0", 5)}).ok());
  EXPECT_TRUE(CheckFirstDeliveriesInShardOrder({D("s0", 1), D("s0", 5), D("s0", 1)}).ok());
  EXPECT_FALSE(CheckFirstDeliveriesInShardOrder({D("s0", 5), D("s0", 1)}).ok());
}

TEST(ClusterChecksTest, ParentsBeforeChildrenCatchesAnEarlyChild) {
  std::map<std::string, std::vector<std::string>> parents = {{"s2", {"s0", "s1"}}};
  EXPECT_TRUE(
      CheckParentsBeforeChildren(parents, {D("s0", 1), D("s1", 1), D("s2", 1), D("s0", 1)}).ok());
  absl::Status early = CheckParentsBeforeChildren(parents, {D("s0", 1), D("s2", 1), D("s1", 1)});
  EXPECT_FALSE(early.ok());
  EXPECT_NE(early.message().find("s1"), absl::string_view::npos) << early;
}

Delivery At(const std::string& shard, uint64_t seq, int64_t arrival_ms,
            const std::string& key = "k") {
  Delivery d = D(shard, seq, key);
  d.arrival_ms = arrival_ms;
  return d;
}

TEST(ClusterChecksTest, WindowsMustBeClosedWithExactlyTheirRecordsCounted) {
  // Windows of 1 s: s0 has records 1, 2 in [0, 1000) (2 delivered twice) and 3 in [1000, 2000).
  const std::vector<Delivery> deliveries = {At("s0", 1, 10), At("s0", 2, 999), At("s0", 2, 999),
                                            At("s0", 3, 1000)};
  const WindowClose first{"s0", 0, 1000, 2, false, "k"};
  const WindowClose second{"s0", 1000, 2000, 1, false, "k"};
  EXPECT_TRUE(CheckWindowsCountedExactly(1000, deliveries, {first, second}).ok());
  // A window re-run after a failover that counted the same records again is fine.
  EXPECT_TRUE(CheckWindowsCountedExactly(1000, deliveries, {first, first, second}).ok());

  absl::Status never_closed = CheckWindowsCountedExactly(1000, deliveries, {first});
  EXPECT_FALSE(never_closed.ok());
  EXPECT_NE(never_closed.message().find("never closed"), absl::string_view::npos) << never_closed;
  // A new owner that resumed mid-window (state lost, records before the checkpoint skipped).
  absl::Status undercounted = CheckWindowsCountedExactly(
      1000, deliveries, {WindowClose{"s0", 0, 1000, 1, false, "k"}, second});
  EXPECT_FALSE(undercounted.ok());
  EXPECT_NE(undercounted.message().find("counted 1 records, 2 were delivered"),
            absl::string_view::npos)
      << undercounted;
  // Counting a redelivery twice, a misaligned window, a window ended early.
  EXPECT_FALSE(CheckWindowsCountedExactly(1000, deliveries,
                                          {WindowClose{"s0", 0, 1000, 3, false, "k"}, second})
                   .ok());
  EXPECT_FALSE(CheckWindowsCountedExactly(
                   1000, deliveries, {first, second, WindowClose{"s0", 500, 1500, 0, false, "k"}})
                   .ok());
  EXPECT_FALSE(CheckWindowsCountedExactly(1000, deliveries,
                                          {first, second, WindowClose{"s0", 0, 1000, 2, true, "k"}})
                   .ok());
}

TEST(ClusterChecksTest, WithLanesEachLanesWindowIsCountedOnItsOwn) {
  // Keys "a" (lane 0) and "b" (lane 1) share the shard and the window [0, 1000).
  const auto lane_of = [](const std::string& key) { return key == "a" ? 0 : 1; };
  const std::vector<Delivery> deliveries = {At("s0", 1, 10, "a"), At("s0", 2, 20, "b"),
                                            At("s0", 3, 30, "a")};
  const WindowClose lane_a{"s0", 0, 1000, 2, false, "a"};
  const WindowClose lane_b{"s0", 0, 1000, 1, false, "b"};
  EXPECT_TRUE(CheckWindowsCountedExactly(1000, deliveries, {lane_a, lane_b}, lane_of).ok());
  // Lane a re-run from record 3 only (resumed inside its window): a partial aggregate.
  absl::Status partial = CheckWindowsCountedExactly(
      1000, deliveries, {lane_a, lane_b, WindowClose{"s0", 0, 1000, 1, false, "a"}}, lane_of);
  EXPECT_FALSE(partial.ok());
  EXPECT_NE(partial.message().find("lane 0 window 0 counted 1 records, 2"), absl::string_view::npos)
      << partial;
  EXPECT_FALSE(CheckWindowsCountedExactly(1000, deliveries, {lane_a}, lane_of).ok())
      << "lane b's window was never closed";
  // Without lanes the two closes are one shard's window counted twice, wrongly.
  EXPECT_FALSE(CheckWindowsCountedExactly(1000, deliveries, {lane_a, lane_b}).ok());
}

}  // namespace
}  // namespace tributary::e2e
