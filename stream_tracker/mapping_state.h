// The event-source mapping state machine (pure functions; thread-safe).
//
//   Create ─▶ CREATING ──(initial leases created)──▶ ENABLED, or DISABLED when enabled=false
//   Update ─▶ UPDATING ──(next sync)───────────────▶ ENABLED / DISABLED
//   Update enabled=false ─▶ DISABLING ──(leases disabled in leasing, none held any more)──▶ DISABLED
//   Update enabled=true  ─▶ ENABLING  ──(leases enabled in leasing)───▶ ENABLED
//   Delete ─▶ DELETING ──(leases disabled, none held any more, then deleted)──▶ gone
// "None held": no lease of the mapping has an owner whose heartbeats go on, so DISABLED and gone
// mean that no poller will invoke for the mapping any more.
//
// The user's change is recorded at once (the transitional state, a new config_version); the lease
// sync does the work and moves the mapping to its stable state, but only if no newer change
// arrived in between (see LeaseSync).
#ifndef TRIBUTARY_STREAM_TRACKER_MAPPING_STATE_H_
#define TRIBUTARY_STREAM_TRACKER_MAPPING_STATE_H_

#include "proto/event_source_mappings.pb.h"

namespace tributary::stream_tracker {

// The state_transition_reason of a change made through the API.
inline constexpr char kUserActionReason[] = "User action";
// The initial last_processing_result (Lambda's text).
inline constexpr char kNoRecordsProcessed[] = "No records processed";

// Whether the lease sync still has work to finish for `state` (CREATING, UPDATING, ENABLING,
// DISABLING, DELETING).
bool IsTransitional(v1::EventSourceMappingState state);

// The state a mapping enters when an Update is accepted. `current` is its state before the
// update (not DELETING: an update of a deleting mapping is refused by the caller);
// `old_enabled`/`new_enabled` the `enabled` flag before and after. Rules, first match wins:
//   CREATING stays CREATING (its initial leases take the newest `enabled`);
//   a change of `enabled` gives ENABLING or DISABLING;
//   ENABLING and DISABLING stay (their work is still pending);
//   anything else gives UPDATING.
v1::EventSourceMappingState StateAfterUpdate(v1::EventSourceMappingState current, bool old_enabled,
                                             bool new_enabled);

// The stable state a transitional (non-DELETING) mapping reaches once the sync has done its work:
// ENABLED when `enabled`, else DISABLED.
v1::EventSourceMappingState StableState(bool enabled);

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_MAPPING_STATE_H_
