#include "poller/processing/invocation_slots.h"

#include <utility>

namespace tributary::poller {

bool NeedsInvocationSlot(const v1::EventSourceMappingConfiguration& config) {
  return !config.function_name().empty() && config.has_function_reserved_concurrent_executions();
}

InvocationSlotClient::InvocationSlotClient(LeaseService& leases, std::string poller_id)
    : leases_(leases), poller_id_(std::move(poller_id)) {}

void InvocationSlotClient::FlushPending() {
  std::map<std::string, int> pending;
  {
    absl::MutexLock lock(&mu_);
    if (pending_releases_.empty()) return;
    pending.swap(pending_releases_);
  }
  std::map<std::string, int> failed;
  for (const auto& [function, count] : pending) {
    v1::ReleaseInvocationSlotsRequest request;
    request.set_function_name(function);
    request.set_poller_id(poller_id_);
    request.set_count(count);
    if (!leases_.ReleaseInvocationSlots(request).ok()) failed[function] += count;
  }
  absl::MutexLock lock(&mu_);
  for (const auto& [function, count] : failed) pending_releases_[function] += count;
}

absl::StatusOr<bool> InvocationSlotClient::TryAcquire(const std::string& function_name,
                                                      int limit) {
  FlushPending();
  v1::AcquireInvocationSlotsRequest request;
  request.set_function_name(function_name);
  request.set_poller_id(poller_id_);
  request.set_count(1);
  request.set_limit(limit);
  absl::StatusOr<v1::AcquireInvocationSlotsResponse> reply =
      leases_.AcquireInvocationSlots(request);
  if (!reply.ok()) return reply.status();
  return reply->granted_count() > 0;
}

void InvocationSlotClient::Release(const std::string& function_name) {
  {
    absl::MutexLock lock(&mu_);
    ++pending_releases_[function_name];
  }
  FlushPending();
}

int InvocationSlotClient::PendingReleases() {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& [function, count] : pending_releases_) n += count;
  return n;
}

}  // namespace tributary::poller
