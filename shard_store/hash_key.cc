// Hash keys: see hash_key.h.
#define OPENSSL_SUPPRESS_DEPRECATED  // MD5(): the one-shot call is the fastest
#include "shard_store/hash_key.h"

#include <openssl/md5.h>

#include "absl/strings/str_cat.h"
#include "common/key_coding.h"

namespace tributary::shard_store {

absl::StatusOr<absl::uint128> ParseHashKey(absl::string_view text, absl::string_view field) {
  if (text.empty() || text.size() > 39) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be a decimal integer of 1-39 digits in [0, 2^128-1]"));
  }
  absl::uint128 v = 0;
  const absl::uint128 limit_div10 = kMaxHashKey / 10;
  const int limit_mod10 = static_cast<int>(kMaxHashKey % 10);
  for (char c : text) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": must contain only decimal digits (no sign, no spaces)"));
    }
    int d = c - '0';
    if (v > limit_div10 || (v == limit_div10 && d > limit_mod10)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": exceeds the maximum hash key 2^128-1"));
    }
    v = v * 10 + d;
  }
  return v;
}

std::string FormatHashKey(absl::uint128 value) {
  if (value == 0) return "0";
  char buf[40];
  int pos = 40;
  while (value != 0) {
    buf[--pos] = static_cast<char>('0' + static_cast<int>(value % 10));
    value /= 10;
  }
  return std::string(buf + pos, 40 - pos);
}

absl::uint128 PartitionKeyHash(absl::string_view partition_key) {
  unsigned char digest[MD5_DIGEST_LENGTH];
  MD5(reinterpret_cast<const unsigned char*>(partition_key.data()), partition_key.size(), digest);
  return ReadBigEndian128(absl::string_view(reinterpret_cast<const char*>(digest), 16));
}

std::string ShardIdFromIndex(uint32_t index) {
  std::string id = "shardId-000000000000";
  for (int pos = 19; index != 0 && pos >= 8; --pos, index /= 10) id[pos] = '0' + index % 10;
  return id;
}

}  // namespace tributary::shard_store
