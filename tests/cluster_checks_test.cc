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

}  // namespace
}  // namespace tributary::e2e
