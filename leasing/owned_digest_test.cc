#include "leasing/owned_digest.h"

#include "gtest/gtest.h"

namespace tributary::leasing {
namespace {

uint64_t Digest(std::initializer_list<std::tuple<const char*, const char*, int64_t>> leases) {
  OwnedDigest digest;
  for (const auto& [uuid, shard, counter] : leases) digest.Add(uuid, shard, counter);
  return digest.value();
}

TEST(OwnedDigestTest, TheEmptySetIsZero) { EXPECT_EQ(OwnedDigest().value(), 0u); }

TEST(OwnedDigestTest, OrderDoesNotMatter) {
  EXPECT_EQ(Digest({{"m", "shardId-1", 3}, {"m", "shardId-2", 5}}),
            Digest({{"m", "shardId-2", 5}, {"m", "shardId-1", 3}}));
}

TEST(OwnedDigestTest, ACounterAKeyOrALeaseMoreOrLessChangesIt) {
  const uint64_t base = Digest({{"m", "shardId-1", 3}, {"m", "shardId-2", 5}});
  EXPECT_NE(Digest({{"m", "shardId-1", 4}, {"m", "shardId-2", 5}}), base);  // re-acquired
  EXPECT_NE(Digest({{"n", "shardId-1", 3}, {"m", "shardId-2", 5}}), base);  // other mapping
  EXPECT_NE(Digest({{"m", "shardId-1", 3}}), base);                         // one lost
  EXPECT_NE(Digest({{"m", "shardId-1", 3}, {"m", "shardId-2", 5}, {"m", "shardId-3", 1}}), base);
}

TEST(OwnedDigestTest, TheBoundaryBetweenUuidAndShardIdCounts) {
  EXPECT_NE(Digest({{"ab", "c", 1}}), Digest({{"a", "bc", 1}}));
}

TEST(OwnedDigestTest, KnownValueIsPinned) {
  // Pollers and leasing may run different builds: the digest must not depend on the process (no
  // seeded hash) nor change between versions. This pins the function; the value was computed
  // independently from the definition in owned_digest.cc (FNV-1a 64 over the two lengths, the
  // bytes and the counter, little-endian, then SplitMix64's finalizer), in Python.
  EXPECT_EQ(Digest({{"m", "s", 1}}), 2079401940015971711ull);
}

}  // namespace
}  // namespace tributary::leasing
