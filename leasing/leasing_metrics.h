// Leasing's Prometheus families (issue 24), registered on a metrics::Registry:
//   tributary_leasing_leases{state}             leases by state (LeaseStateName), at scrape time
//   tributary_leasing_pollers{state}            registered pollers: live / silent, at scrape time
//   tributary_leasing_lease_expirations_total   leases acquired from an owner that had stopped
//                                               heartbeating (LeaseTable::expired_leases_acquired)
//   tributary_leasing_heartbeats_total          heartbeats accepted (Heartbeat RPCs answered OK)
//   tributary_leasing_checkpoints_total         checkpoints accepted
//   tributary_leasing_fenced_checkpoints_total  checkpoints refused FAILED_PRECONDITION: the
//                                               caller is not the owner or its counter is stale
// The state gauges are computed from the table at each scrape (ListLeases pages, O(leases)), not
// kept in step with it. Every state label is present, 0 when no lease is in it.
//
// Thread-safe: the update methods are atomics. `registry` and `table` must outlive this object's
// last Render.
#ifndef TRIBUTARY_LEASING_LEASING_METRICS_H_
#define TRIBUTARY_LEASING_LEASING_METRICS_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "common/metrics/registry.h"
#include "leasing/lease_table.h"

namespace tributary::leasing {

// The state a lease is counted in, the first that applies:
//   "finished"  its checkpoint is SHARD_END;
//   "disabled"  its mapping is disabled (a holder is being asked to give it back);
//   "expired"   owned, and the owner stopped heartbeating (another poller may take it);
//   "owned"     owned by a live poller;
//   "unowned"   assignable and waiting for a poller (the alert "leases unowned" watches this);
//   "waiting"   not assignable yet: a parent shard's lease is not at SHARD_END.
const char* LeaseStateName(const Lease& lease);
// Every name LeaseStateName returns, in the order above.
const std::vector<std::string>& LeaseStateNames();

// The count of every state (all present) over the table's leases. Errors: ListLeases'.
absl::StatusOr<std::map<std::string, int64_t>> CountLeaseStates(LeaseTable& table);

class LeasingMetrics {
 public:
  LeasingMetrics(metrics::Registry& registry, LeaseTable& table);

  // A Heartbeat call finished with `status`.
  void Heartbeat(const absl::Status& status);
  // A Checkpoint call finished with `status` (FAILED_PRECONDITION counts as fenced).
  void Checkpoint(const absl::Status& status);

 private:
  metrics::Counter& heartbeats_;
  metrics::Counter& checkpoints_;
  metrics::Counter& fenced_checkpoints_;
};

}  // namespace tributary::leasing

#endif  // TRIBUTARY_LEASING_LEASING_METRICS_H_
