// A digest of a set of held leases ((mapping uuid, shard id, lease counter) triples), the same in
// every process: a poller sends the digest of the leases it works on with its heartbeat, and
// leasing, when its own digest of what the poller owns matches, answers "unchanged" instead of
// listing every owned lease (10,000 entries at 10,000 leases, every few seconds).
//
// Order-independent (a sum of per-lease 64-bit hashes), so neither side sorts. Two different sets
// collide with probability about 2^-64; the empty set's digest is 0.
#ifndef TRIBUTARY_LEASING_OWNED_DIGEST_H_
#define TRIBUTARY_LEASING_OWNED_DIGEST_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace tributary::leasing {

class OwnedDigest {
 public:
  void Add(absl::string_view mapping_uuid, absl::string_view shard_id, int64_t lease_counter);
  uint64_t value() const { return sum_; }

 private:
  uint64_t sum_ = 0;
};

}  // namespace tributary::leasing

#endif  // TRIBUTARY_LEASING_OWNED_DIGEST_H_
