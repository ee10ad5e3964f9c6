// The lease table on etcd (cluster mode, issue 19), as leasing_server --coordination and
// tributary serve --coordination open it: one etcd client, an EtcdLeaseStore shared by every
// replica on the prefix, poller liveness as etcd leases, and a LeasingStack over it.
#ifndef TRIBUTARY_LEASING_ETCD_LEASING_H_
#define TRIBUTARY_LEASING_ETCD_LEASING_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "etcd/etcd_client.h"
#include "leasing/lease_table.h"
#include "leasing/leasing_service.h"

namespace tributary::leasing {

struct EtcdLeasingOptions {
  std::vector<std::string> endpoints;  // etcd's client addresses, host:port
  // The lease table's key prefix (ends with '/').
  std::string prefix = "/tributary/leasing/";
  // This replica's name: unique among the replicas on `prefix` and the same across its restarts
  // (its marker key is named after it). Not empty.
  std::string replica_name;
  // Called once when the store turns stale (a write that timed out turned out applied): the
  // table must be reloaded. The servers exit and let their supervisor restart them.
  std::function<void(const absl::Status&)> on_stale;
};

// The etcd client and the stack over it; the client is declared first, so it outlives the stack.
struct EtcdLeasing {
  std::unique_ptr<etcd::EtcdClient> etcd;
  std::unique_ptr<LeasingStack> stack;
};

// Opens the lease table under options.prefix on `clock`, poller liveness as etcd leases of TTL =
// table_options.lease_duration (at least a second; etcd raises it to its minimum). Errors:
// INVALID_ARGUMENT for a prefix without its trailing '/' or an empty replica name; the etcd
// client's (UNAVAILABLE when etcd does not answer); LeaseTable::Create's.
absl::StatusOr<EtcdLeasing> OpenEtcdLeasing(Clock& clock, const EtcdLeasingOptions& options,
                                            const LeaseTableOptions& table_options);

}  // namespace tributary::leasing

#endif  // TRIBUTARY_LEASING_ETCD_LEASING_H_
