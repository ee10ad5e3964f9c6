// LeaseSync: keeps every mapping's leases in step with its stream's shards, and finishes the
// work of the mapping state machine (mapping_state.h).
//
// One pass (RunOnce) visits every mapping (a full look lists each stream's shards at most once
// per pass; steady passes only probe, see below):
//   DELETING   → disable every lease of the mapping (leasing tells their holders to give them
//                back after the invocation in flight); once no lease is held by a live poller,
//                delete every lease, then remove the mapping. Until then it stays DELETING.
//   otherwise  → list the stream's shards (all pages) and the mapping's leases, then
//     - delete the leases of shards that are gone (trimmed by retention);
//     - create the missing leases, each with its parent shard ids (leasing runs children only
//       after their parents reach SHARD_END) and an initial checkpoint:
//         first pass of a mapping (its starting position):
//           TRIM_HORIZON → every retained shard at TRIM_HORIZON, parents listed before children;
//           LATEST       → every shard open at or after the mapping's creation time (open now,
//                          or closed since: ListShardIdsOpenFrom) at AT_TIMESTAMP_CHECKPOINT =
//                          the creation time; shards closed before it (ancestors) get no lease
//                          (leasing treats a missing parent lease as done, so their children are
//                          assignable at once). A split between Create and the first pass thus
//                          loses nothing: the closed parent was open at creation and is leased;
//           AT_TIMESTAMP → likewise with the timestamp: every shard open at or after it, at
//                          AT_TIMESTAMP_CHECKPOINT = the timestamp; shards closed before it are
//                          skipped (they hold nothing to read);
//         later passes: a shard not seen before (a child of a split or merge) at TRIM_HORIZON,
//         whatever the starting position: a child is read from its start;
//       leases are created enabled iff the mapping is enabled;
//     - in a transitional state, SetMappingEnabled(mapping.enabled), then the stable state
//       (ENABLED / DISABLED), unless the mapping changed meanwhile (config_version moved on: the
//       next pass finishes the newer change). DISABLED is reached only once no lease of the
//       mapping is held by a live poller (listed after the disable), so that DISABLED means no
//       poller will invoke for it any more; until then the mapping stays DISABLING (or UPDATING,
//       CREATING);
//     - work ended: see kWorkEndedStreamClosed / kWorkEndedStreamDeleted.
// After visiting the mappings, every pass (steady or not) asks leasing once for what the pollers
// reported on the leases of every mapping (LeaseAdmin::SummarizeLeases: leasing reads memory,
// nothing is listed) and sets, where it differs:
//     - last_processing_result: the newest result reported on the mapping's leases (by its
//       observed time; on a tie a PROBLEM beats "OK");
//     - last_error_kind / _message / _time / _shard_id: the newest error reported on them.
//   An empty summary never overwrites (leasing keeps reports in memory only). This is what
//   pollers saw, not a configuration change, so it is written without bumping config_version
//   or last_modified (pollers refetch a mapping whose config_version moved, and Lambda's
//   LastModified is about configuration and state): one write per changed mapping. The texts
//   thus lag the pollers by a pass plus a heartbeat. A gone stream keeps kStreamNotFoundResult:
//   that path deletes the leases, so nothing is reported on them any more. A failed summary
//   changes no text; the pass's other work is done and the failure is its result.
//
// Steady passes are cheap: a full look at a mapping (list every shard and every lease) happens
// on its first pass after a start, after any change to the mapping (config_version), when the
// stream's shard set changed, while every shard is closed and the work has not ended (leases
// reaching SHARD_END are what ends it), and at least every `full_sync_interval` (retention trims,
// which the probe cannot see: a trimmed shard's lease is deleted within that interval).
// Otherwise a pass costs two small calls per stream (StreamCatalog::ProbeShardSet: creation
// time, open shard count, any shard newer than the newest one seen), not a listing of 10,000
// shards and leases per mapping every second.
//
// A stream deleted and created again under the same name between two passes (it has a new
// creation time) is handled as "gone, then found again": the old stream's leases are deleted
// and the mapping starts over on the new stream from its starting position.
//
// Why LATEST is not stored as LATEST_CHECKPOINT: a lease at plain LATEST that a poller acquires,
// reads, and loses before its first checkpoint would be re-read by the next owner from a newer
// tip, skipping the records written in between (breaking at-least-once). The mapping's creation
// time is a fixed position: every owner starts at the same record. (It compares the tracker's
// clock with the shard store's arrival timestamps; in one process they are the same clock, across
// hosts their skew is the error.)
//
// Threading: RunOnce must not run concurrently with itself: call it from one thread (the loop
// started by Start(), or a test that did not call Start()). RequestSync, Start, Stop and
// WaitForRunsCompleted are thread-safe. The loop runs a pass, then waits on the clock for
// `interval` or a RequestSync(), whichever comes first. No lock is held across an RPC.
// `store`, `streams`, `leases` and `clock` must outlive this object.
#ifndef TRIBUTARY_STREAM_TRACKER_LEASE_SYNC_H_
#define TRIBUTARY_STREAM_TRACKER_LEASE_SYNC_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "stream_tracker/lease_admin.h"
#include "stream_tracker/mapping_store.h"
#include "stream_tracker/stream_catalog.h"

namespace tributary::stream_tracker {

// state_transition_reason once every shard of the stream is closed and every lease of the
// mapping is at SHARD_END (the state stays ENABLED or DISABLED; last_processing_result is kept).
inline constexpr char kWorkEndedStreamClosed[] =
    "Work ended: every shard of the stream is closed and processed to SHARD_END";
// state_transition_reason and last_processing_result once the stream is gone (deleted): its
// records are gone, so the mapping's leases are deleted as trimmed, and the work ends. Should a
// stream of that name appear again, the mapping starts over on it from its starting position
// (state_transition_reason becomes kStreamFoundAgain).
inline constexpr char kWorkEndedStreamDeleted[] = "Work ended: the stream was deleted";
inline constexpr char kStreamNotFoundResult[] = "PROBLEM: Stream not found";
inline constexpr char kStreamFoundAgain[] = "Stream found again: processing resumed";

class LeaseSync {
 public:
  struct Options {
    // How long the loop waits between passes when nobody calls RequestSync().
    absl::Duration interval = absl::Seconds(1);
    // The longest a mapping goes without a full look (see above).
    absl::Duration full_sync_interval = absl::Minutes(1);
  };

  LeaseSync(MappingStore* store, StreamCatalog* streams, LeaseAdmin* leases, Clock& clock,
            const Options& options);
  LeaseSync(MappingStore* store, StreamCatalog* streams, LeaseAdmin* leases, Clock& clock)
      : LeaseSync(store, streams, leases, clock, Options()) {}
  // Stops the loop (Stop()).
  ~LeaseSync();

  // One pass over every mapping (see above). A mapping whose pass fails is left as it was for
  // the next pass (every step is idempotent) and the other mappings are still visited. Returns
  // OK, or the first failure with the mapping's uuid in the message (UNAVAILABLE /
  // DEADLINE_EXCEEDED from the shard store or leasing, storage errors).
  absl::Status RunOnce();

  // Called at the end of every RunOnce with its result and duration (the clock's monotonic
  // reading), e.g. for metrics. Call before Start() (not synchronized with a running pass).
  using PassObserver = std::function<void(const absl::Status& status, absl::Duration duration)>;
  void SetPassObserver(PassObserver observer) { pass_observer_ = std::move(observer); }

  // Starts the background loop; may follow a Stop() (cluster mode: leadership came back), and
  // then begins with full looks. Precondition: not started.
  void Start();
  // Stops the loop and joins it; a pass in progress finishes first. Idempotent.
  void Stop();
  // Asks the loop for a pass now (or, if a pass is running, another one right after it). Cheap,
  // non-blocking; meant for the shard store's change listener and the mappings API.
  void RequestSync();

  // Passes the loop has completed since Start().
  int64_t runs_completed();
  // Blocks until the loop has completed more than `runs` passes, or `real_timeout` passed (a
  // failure guard for tests, never a way to pass time). Returns OK, or DEADLINE_EXCEEDED saying
  // how many passes had completed.
  [[nodiscard]] absl::Status WaitForRunsCompleted(int64_t runs,
                                                  absl::Duration real_timeout = absl::Seconds(10));

 private:
  // Each stream's shards, listed at most once per pass (several mappings often share a stream).
  using ShardCache = std::map<std::string, absl::StatusOr<std::vector<v1::Shard>>>;
  // Probes, at most once per pass per (stream, newest shard id seen).
  using ProbeCache = std::map<std::pair<std::string, std::string>, absl::StatusOr<ShardSetProbe>>;
  // What the last full look at a mapping saw.
  struct SyncedShape {
    int64_t config_version = 0;
    absl::Time stream_created;
    int open_shard_count = 0;
    std::string newest_shard_id;
    MonotonicTime synced_at;  // for full_sync_interval
  };

  absl::Status RunPass();
  absl::Status SyncMapping(const MappingRecord& snapshot, ShardCache* shard_cache,
                           ProbeCache* probe_cache);
  absl::Status SyncDeleting(const MappingRecord& snapshot);
  absl::Status SyncStreamGone(const MappingRecord& snapshot);
  // After the mappings: one SummarizeLeases call for every mapping of `records` (DELETING ones
  // aside), then a write per mapping whose result or error changed.
  absl::Status SyncProgress(const std::vector<MappingRecord>& records);
  void Loop();

  MappingStore* store_;
  StreamCatalog* streams_;
  LeaseAdmin* leases_;
  Clock& clock_;
  const Options options_;
  // By mapping uuid. Only RunOnce touches it (one thread at a time, see above).
  std::map<std::string, SyncedShape> synced_;
  PassObserver pass_observer_;

  absl::Mutex mu_;
  bool sync_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t runs_completed_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;  // joinable while started
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_LEASE_SYNC_H_
