// Hash keys: the 128-bit keys that route a record to a shard (Kinesis
// semantics). A record's hash key is its explicit_hash_key or the MD5 of its
// partition key; each open shard owns a contiguous range of [0, 2^128−1].
// Also shard ids, the other name of a shard.
// Included by shard_store.h: part of the library's public API.
//
// Thread-safety: stateless functions; safe from any thread.
#ifndef TRIBUTARY_SHARD_STORE_HASH_KEY_H_
#define TRIBUTARY_SHARD_STORE_HASH_KEY_H_

#include <cstdint>
#include <string>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tributary::shard_store {

// The largest hash key, 2^128−1.
inline constexpr absl::uint128 kMaxHashKey = absl::Uint128Max();

// Hash keys: unsigned 128-bit decimal strings. Parse accepts only 1–39 ASCII
// digits whose value is ≤ 2^128−1 (no sign, no spaces; leading zeros allowed).
// Errors: INVALID_ARGUMENT naming `field` and the rule.
absl::StatusOr<absl::uint128> ParseHashKey(absl::string_view text, absl::string_view field);
std::string FormatHashKey(absl::uint128 value);
// MD5 of `partition_key` read as a 128-bit big-endian unsigned integer.
absl::uint128 PartitionKeyHash(absl::string_view partition_key);

// "shardId-" + index as 12 decimal digits.
std::string ShardIdFromIndex(uint32_t index);

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_HASH_KEY_H_
