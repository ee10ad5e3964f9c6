#include "mapping/lanes.h"

#include <cstdint>

namespace tributary::mapping {

int LaneForPartitionKey(const std::string& partition_key, int lane_count) {
  if (lane_count <= 1) return 0;
  // FNV-1a, 64-bit: stable across processes (absl::Hash is salted per process).
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : partition_key) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return static_cast<int>(hash % static_cast<uint64_t>(lane_count));
}

}  // namespace tributary::mapping
