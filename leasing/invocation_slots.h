// Invocation slots: reserved concurrency of functions, enforced across every poller (issue 17,
// Lambda's PutFunctionConcurrency). A function with a limit of N has N slots; a poller takes one
// before each invocation of the function and gives it back after, so at most N invocations of
// the function run at once in the whole cluster, whatever the number of pollers and mappings.
//
// Liveness. A slot belongs to the poller that took it and lives as long as that poller does, by
// the lease table's notion (LeaseTable::IsPollerLive: heard from within the lease duration). A
// poller killed with -9 holds its slots until it stops being live; the next Acquire for the
// function then drops them. No heartbeat of its own: the poller's lease heartbeats keep its slots.
//
// Soft state. Slots are kept in memory only: after a leasing restart the table is empty and is
// rebuilt by what pollers acquire from then on. Invocations in flight at the restart are not
// counted until they end (at most one function timeout), and their releases are ignored (a
// release never goes below 0). See NOTES.md for why this is preferred to a write per invocation.
//
// The limit travels with each Acquire (the poller has it from its mapping's configuration): the
// last word wins. Lowering it below what is held takes nothing back; no slot is granted until
// the slots in use fall below the new limit. Example: limit 3, pollers A and B hold 2 and 1;
// an Acquire with limit 1 grants nothing; B releases (1 in use, still not below 1); A releases
// one (1 in use); A releases its last; then an Acquire with limit 1 gets one.
//
// Thread-safe (one mutex). Calls `is_live` while holding it: `is_live` must not call back into
// this object (the lease table never does). Costs: Acquire O(holders of the function), each a
// liveness look-up; Release O(1); memory a map entry per (function, holding poller).
#ifndef TRIBUTARY_LEASING_INVOCATION_SLOTS_H_
#define TRIBUTARY_LEASING_INVOCATION_SLOTS_H_

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace tributary::leasing {

struct SlotGrant {
  int granted = 0;  // slots given to the caller by this call, 0..count
  int in_use = 0;   // slots held by live pollers after this call, the caller's included
};

class InvocationSlots {
 public:
  // `is_live(poller_id)`: whether the poller is registered and live now.
  explicit InvocationSlots(std::function<bool(const std::string&)> is_live);

  InvocationSlots(const InvocationSlots&) = delete;
  InvocationSlots& operator=(const InvocationSlots&) = delete;

  // Grants `poller_id` up to `count` slots of `function_name` without going past `limit` slots
  // held by live pollers (slots of pollers that are not live are dropped first). Granting fewer
  // than `count`, or none, is not an error: `granted` says how many. Not idempotent (each call
  // may grant more). Errors: INVALID_ARGUMENT for an empty function name or poller id, count < 1
  // or limit < 0 (the message names the field); FAILED_PRECONDITION when the poller is not live
  // (not registered, or silent past the lease duration: its slots would not count).
  absl::StatusOr<SlotGrant> Acquire(const std::string& function_name,
                                    const std::string& poller_id, int count, int limit);

  // Gives back up to `count` of the slots `poller_id` holds of `function_name`; returns how many
  // it gave back (fewer when it held fewer, e.g. after a leasing restart: never an error).
  // Errors: INVALID_ARGUMENT as for Acquire.
  absl::StatusOr<int> Release(const std::string& function_name, const std::string& poller_id,
                              int count);

  // Slots of `function_name` held by live pollers now.
  int InUse(const std::string& function_name);

 private:
  // Drops the holders of `function_name` that are not live; returns what the others hold.
  int PruneAndCount(const std::string& function_name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::function<bool(const std::string&)> is_live_;
  absl::Mutex mu_;
  // function name → poller id → slots held (> 0; entries at 0 are erased).
  std::map<std::string, std::map<std::string, int>> held_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::leasing

#endif  // TRIBUTARY_LEASING_INVOCATION_SLOTS_H_
