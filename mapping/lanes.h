// Lanes of a mapping's parallelization factor: which lane a record's partition key goes to.
//
// LaneForPartitionKey sends every record of a partition key to the same lane (a stable FNV-1a
// hash, the same in every process and run), so that with one batch in flight per lane the
// records of a key are processed in order. It is part of a mapping's contract (tumbling windows
// are per lane), so whole-system tests may compute it too. Pure; thread-safe.
#ifndef TRIBUTARY_MAPPING_LANES_H_
#define TRIBUTARY_MAPPING_LANES_H_

#include <string>

namespace tributary::mapping {

// The lane in [0, lane_count) for `partition_key`: FNV-1a-64 of its bytes modulo `lane_count`
// (0 when `lane_count` <= 1).
int LaneForPartitionKey(const std::string& partition_key, int lane_count);

}  // namespace tributary::mapping

#endif  // TRIBUTARY_MAPPING_LANES_H_
