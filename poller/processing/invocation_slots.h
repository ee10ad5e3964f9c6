// InvocationSlotClient: a poller's side of reserved concurrency (issue 17). Before each
// invocation of a function with reserved concurrency, the batch takes one of the function's
// slots from leasing (AcquireInvocationSlots, limit = the reserved concurrency its mapping's
// configuration carries) and gives it back after (ReleaseInvocationSlots). Leasing grants at
// most `limit` slots held by live pollers, cluster-wide (leasing/invocation_slots.h).
//
// A release that fails (leasing unreachable) is kept and sent again before this client's next
// call, so a slot is not held past the next invocation for want of one message; a poller that
// dies holds its slots until leasing sees it is no longer live.
//
// Thread-safe. `leases` must outlive this object.
#ifndef TRIBUTARY_POLLER_PROCESSING_INVOCATION_SLOTS_H_
#define TRIBUTARY_POLLER_PROCESSING_INVOCATION_SLOTS_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "poller/interfaces.h"
#include "proto/event_source_mappings.pb.h"

namespace tributary::poller {

// Whether invocations under `config` need a slot: the mapping follows a function with reserved
// concurrency. Unlimited functions cost nothing (no leasing call).
bool NeedsInvocationSlot(const v1::EventSourceMappingConfiguration& config);

class InvocationSlotClient {
 public:
  InvocationSlotClient(LeaseService& leases, std::string poller_id);

  // Takes one slot of `function_name` under `limit`. Returns true when taken, false when
  // throttled (every slot is in use). Errors: leasing's (FAILED_PRECONDITION when this poller
  // is not live, UNAVAILABLE, ...): the caller treats them as a throttle and backs off.
  absl::StatusOr<bool> TryAcquire(const std::string& function_name, int limit);

  // Gives one slot of `function_name` back. A failure is kept and retried by the next call.
  void Release(const std::string& function_name);

  // Releases waiting to be sent again, over every function (for tests).
  int PendingReleases();

 private:
  // Sends the releases kept from failed calls; keeps those that fail again.
  void FlushPending();

  LeaseService& leases_;
  const std::string poller_id_;
  absl::Mutex mu_;
  std::map<std::string, int> pending_releases_ ABSL_GUARDED_BY(mu_);  // function → slots
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_PROCESSING_INVOCATION_SLOTS_H_
