// The key of a lease, shared by the lease table (leasing/lease_store.h) and the pollers, which
// keep their consumers by it; header only, so a poller need not depend on the lease store.
#ifndef TRIBUTARY_LEASING_LEASE_KEY_H_
#define TRIBUTARY_LEASING_LEASE_KEY_H_

#include <string>
#include <tuple>
#include <utility>

namespace tributary::leasing {

// Identifies a lease: one per (event-source mapping, shard).
struct LeaseKey {
  std::string mapping_uuid;
  std::string shard_id;

  friend bool operator<(const LeaseKey& a, const LeaseKey& b) {
    return std::tie(a.mapping_uuid, a.shard_id) < std::tie(b.mapping_uuid, b.shard_id);
  }
  friend bool operator==(const LeaseKey& a, const LeaseKey& b) {
    return a.mapping_uuid == b.mapping_uuid && a.shard_id == b.shard_id;
  }
  friend bool operator!=(const LeaseKey& a, const LeaseKey& b) { return !(a == b); }
  template <typename H>
  friend H AbslHashValue(H h, const LeaseKey& k) {
    return H::combine(std::move(h), k.mapping_uuid, k.shard_id);
  }
};

}  // namespace tributary::leasing

#endif  // TRIBUTARY_LEASING_LEASE_KEY_H_
