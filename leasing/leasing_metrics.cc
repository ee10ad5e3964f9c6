#include "leasing/leasing_metrics.h"

#include <utility>

#include "common/status_macros.h"

namespace tributary::leasing {

const char* LeaseStateName(const Lease& lease) {
  if (lease.record.checkpoint.type == CheckpointType::kShardEnd) return "finished";
  if (!lease.record.enabled) return "disabled";
  if (!lease.record.owner.empty()) return lease.expired ? "expired" : "owned";
  return lease.assignable ? "unowned" : "waiting";
}

const std::vector<std::string>& LeaseStateNames() {
  static const auto* names = new std::vector<std::string>{"finished", "disabled", "expired",
                                                          "owned",    "unowned",  "waiting"};
  return *names;
}

absl::StatusOr<std::map<std::string, int64_t>> CountLeaseStates(LeaseTable& table) {
  std::map<std::string, int64_t> counts;
  for (const std::string& name : LeaseStateNames()) counts[name] = 0;
  std::string token;
  do {
    // Pages, so that the table's lock is not held for a whole large table at once.
    ASSIGN_OR_RETURN(LeasePage page, table.ListLeases(LeaseFilter{}, 1000, token));
    for (const Lease& lease : page.leases) ++counts[LeaseStateName(lease)];
    token = std::move(page.next_token);
  } while (!token.empty());
  return counts;
}

LeasingMetrics::LeasingMetrics(metrics::Registry& registry, LeaseTable& table)
    : heartbeats_(registry
                      .AddCounter("tributary_leasing_heartbeats_total",
                                  "Poller heartbeats accepted by leasing.")
                      .With({})),
      checkpoints_(registry
                       .AddCounter("tributary_leasing_checkpoints_total",
                                   "Checkpoints accepted by leasing.")
                       .With({})),
      fenced_checkpoints_(registry
                              .AddCounter("tributary_leasing_fenced_checkpoints_total",
                                          "Checkpoints refused because the caller is not the "
                                          "lease's owner or its lease counter is stale.")
                              .With({})) {
  registry.AddCollector([&table](std::string* out) {
    absl::StatusOr<std::map<std::string, int64_t>> counts = CountLeaseStates(table);
    if (counts.ok()) {
      metrics::WriteHeader(out, "tributary_leasing_leases", "gauge",
                           "Leases by state: owned, expired (owner silent), unowned (waiting "
                           "for a poller), waiting (for a parent), disabled, finished.");
      for (const auto& [state, n] : *counts) {
        metrics::WriteSample(out, "tributary_leasing_leases", {{"state", state}},
                             static_cast<double>(n));
      }
    }
    int64_t live = 0;
    int64_t silent = 0;
    for (const PollerInfo& poller : table.ListPollers()) ++(poller.live ? live : silent);
    metrics::WriteHeader(out, "tributary_leasing_pollers", "gauge",
                         "Registered pollers: live (heartbeating) or silent (their leases are "
                         "expired).");
    metrics::WriteSample(out, "tributary_leasing_pollers", {{"state", "live"}},
                         static_cast<double>(live));
    metrics::WriteSample(out, "tributary_leasing_pollers", {{"state", "silent"}},
                         static_cast<double>(silent));
    metrics::WriteHeader(out, "tributary_leasing_lease_expirations_total", "counter",
                         "Leases acquired from an owner that had stopped heartbeating.");
    metrics::WriteSample(out, "tributary_leasing_lease_expirations_total", {},
                         static_cast<double>(table.expired_leases_acquired()));
  });
}

void LeasingMetrics::Heartbeat(const absl::Status& status) {
  if (status.ok()) heartbeats_.Increment();
}

void LeasingMetrics::Checkpoint(const absl::Status& status) {
  if (status.ok()) {
    checkpoints_.Increment();
  } else if (status.code() == absl::StatusCode::kFailedPrecondition) {
    fenced_checkpoints_.Increment();
  }
}

}  // namespace tributary::leasing
