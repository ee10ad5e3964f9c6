#include "leasing/owned_digest.h"

namespace tributary::leasing {
namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t Fnv1a(uint64_t h, absl::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

// `v`'s eight bytes, little end first.
uint64_t FnvU64(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= kFnvPrime;
  }
  return h;
}

// SplitMix64's finalizer: spreads FNV's weak high bits before the sum.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

void OwnedDigest::Add(absl::string_view mapping_uuid, absl::string_view shard_id,
                      int64_t lease_counter) {
  // Lengths first, so that ("ab", "c") and ("a", "bc") differ.
  uint64_t h = FnvU64(kFnvOffset, mapping_uuid.size());
  h = FnvU64(h, shard_id.size());
  h = Fnv1a(h, mapping_uuid);
  h = Fnv1a(h, shard_id);
  h = FnvU64(h, static_cast<uint64_t>(lease_counter));
  sum_ += Mix(h);
}

}  // namespace tributary::leasing
