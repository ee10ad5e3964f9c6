// Routing: which open shard of a stream a hash key goes to (internal to
// shard_store/). A Routing is built by Stream::Publish each time the shard set
// changes and is immutable once published, so the put path reads it with no
// lock (it holds a shared_ptr to the version it routed with). Find runs once
// per record; it is inline here.
//
// Thread-safety: immutable after construction; safe to read from any thread.
#ifndef TRIBUTARY_SHARD_STORE_ROUTING_H_
#define TRIBUTARY_SHARD_STORE_ROUTING_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/numeric/int128.h"
#include "shard_store/shard_store.h"

namespace tributary::shard_store {

// The open shards of a stream sorted by starting hash key: routing is a binary
// search. Immutable once published.
struct Routing {
  static constexpr int kBucketBits = 12;
  std::vector<absl::uint128> starts;
  std::vector<std::shared_ptr<ShardStore::Shard>> shards;
  // buckets[b] = the slot of the shard holding hash key b·2^(128−kBucketBits)
  // (b = 0..2^kBucketBits − 1): a key of bucket b lies in slots
  // [buckets[b], buckets[b + 1]] (the last bucket: up to the last slot), so
  // the binary search runs over a few slots instead of all 10,000 (their
  // starts no longer fit in cache: the search was a visible cost a record).
  std::vector<uint32_t> buckets;

  int FindIn(absl::uint128 hash_key, size_t lo, size_t hi) const {
    auto it = std::upper_bound(starts.begin() + lo + 1, starts.begin() + hi + 1, hash_key);
    return static_cast<int>(it - starts.begin()) - 1;
  }
  // Precondition: shards is not empty (the open shards tile [0, 2^128−1]).
  int Find(absl::uint128 hash_key) const {
    const size_t b = static_cast<size_t>(hash_key >> (128 - kBucketBits));
    const size_t hi = b + 1 < buckets.size() ? buckets[b + 1] : starts.size() - 1;
    return FindIn(hash_key, buckets[b], hi);
  }
  void BuildBuckets() {
    buckets.clear();
    if (starts.empty()) return;
    buckets.reserve(size_t{1} << kBucketBits);
    for (size_t b = 0; b < (size_t{1} << kBucketBits); ++b) {
      buckets.push_back(static_cast<uint32_t>(
          FindIn(absl::uint128(b) << (128 - kBucketBits), 0, starts.size() - 1)));
    }
  }
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_ROUTING_H_
