// ShardProcessor: the lanes of one shard (parallelization factor N) and its checkpoint low
// watermark.
//
// Records offered in shard order are routed to lane LaneForPartitionKey(key, N); each lane has
// its own Batcher and BatchProcessor and at most one batch in flight, so records of one
// partition key are processed in order. The watermark is the highest sequence number S such that
// every offered record <= S is done (WatermarkTracker), which is what may be checkpointed.
//
// Filtering (the configuration's filter_criteria, see mapping/record_filter.h): Offer drops a record that
// matches no filter before it reaches a lane. A dropped record is done at once for the watermark
// (it is checkpointed past like a delivered one, never invoked, retried or sent to the on-failure
// destination) and counted in the metrics' records_filtered. Example, factor 2: records 10 (kept,
// lane 0), 11 (filtered), 12 (kept, lane 1) offered; 12 done → watermark unchanged (10 is not
// done); 10 done → 12. A shard whose records all fail the filters is drained as soon as they are
// offered. Criteria that do not compile (the tracker validates them, so only a bug or a version
// skew between tracker and poller gets here) hold the shard: records offered meanwhile are
// neither delivered nor dropped nor done (the checkpoint stays before them; they count as
// outstanding, so the reader pauses at its limit), the shard's last error says
// InvalidFilterCriteria (PollerMetrics, logged once), and an UpdateConfig whose criteria compile
// filters and routes them in order. Delivering them unfiltered would invoke the function with
// records the user excluded; dropping them would lose records.
//
// Configuration changes (UpdateConfig) apply from the next batch: batch size and window to the
// batches formed next, the processing rules from the next attempt of every batch (one in flight
// too: a failing batch picks up a new retry limit or destination), new filters to the
// records offered next (records already offered keep the decision made when they were offered). A
// new parallelization factor re-routes keys, so it waits for a quiet moment: while it is pending,
// offered records are held back; once every lane is idle and empty, the lanes are rebuilt and the
// held records routed, so per-key order holds across the change.
//
// Tumbling windows (tumbling_window_in_seconds W > 0; poller/NOTES.md has the decisions):
//   - Each lane has its own windows. A record belongs to [floor(t/W)*W, +W) of its arrival time t
//     (Unix seconds), or to the lane's latest window when that one is later (windows never go
//     back within a lane). A batch holds records of one window only; a record of a later window
//     makes the batch before it due at once.
//   - A lane opens a window when it takes the window's first batch; each batch of it runs with the
//     window's state (BatchProcessor rules W1, W2). Records of the open window that become done
//     (delivered, or skipped after reporting) are *held* back from the checkpoint until the
//     window's final invocation ended (or an early termination's did) and no lane still has an
//     earlier or the same window open or buffered (lanes close the same window at different
//     times). So the checkpoint never passes a record of a window any lane has open, and a new
//     owner re-reads every lane's window from its start (never the tail of a closed one).
//   - The window closes (the lane hands out a batch with final_invoke and no records) when the
//     lane is idle, holds no buffered record of the window, and one of: a record of a later
//     window (or of no window) is buffered; the shard ended (MarkShardEnd); a new parallelization
//     factor is pending; the configuration's W differs from the window's length (a new W, or
//     windows turned off); the clock reached the window's end plus deps.window_close_grace while
//     the reader is at the shard's tip (SetReaderBehind).
//     Example, W = 60, lane 0: records at 0 s, 30 s, 70 s → batch [0 s, 30 s] in window [0, 60)
//     with state {}; the function returns S1; final invocation of [0, 60) with S1; the
//     watermark moves past the first two records; batch [70 s] in window [60, 120) with state {}.
//   - A new W applies to the records offered after UpdateConfig; records already buffered keep
//     the window they were given.
//   - With windows, a batch's records use at most 6 MiB − 1 KiB − kWindowStateReserveBytes, so
//     that the state fits in the same InvokeRequest.
//
// Per-key isolation (isolate_failing_keys; BatchProcessor rules P1-P3; poller/NOTES.md
// "Per-key isolation"): when a lane's batch parks a failing partition key K, K's failing records
// and every later record of K (in the batch, buffered in the lane, offered afterwards) are kept
// out of the lane, by sequence number, not done; the lane goes on with its other keys. When K's
// retry is due and its lane is idle, TakeReadyBatches hands the failing records out as the lane's
// batch (`parked_key`), before other batches; RunBatch makes one attempt (RetryParked). When
// every failing record is done (delivered, or reported when the policy gave up), K's waiting
// records are routed to the lane again, in order, and K flows. Parked records are not done, so
// the watermark (the checkpoint) never passes the oldest of them, and they count as
// Outstanding. At most EffectiveMaxParkedKeys keys are parked per shard; beyond, a failing key's
// retries block its lane as without isolation, and ParkedKeys() says so (`limit_reached`).
// Example, factor 1, bisect, key p failing at sequence 11 in batch [10 a, 11 p, 12 b, 13 p]:
// 10 done; 11 parked; 12 done; 13 waits behind 11; watermark 10 until 11 is done.
//
// Threading: thread-safe (Offer matches filters outside the lock, against the filter current when
// it began; should UpdateConfig replace the filter meanwhile, Offer matches again under the lock
// against the new one, so no record escapes criteria that were broken or fixed in between).
// TakeReadyBatches and RunBatch may be called from different threads, one RunBatch per lane at a
// time (TakeReadyBatches never hands out a busy lane). Everything in `deps` must outlive this
// object.
#ifndef TRIBUTARY_POLLER_PROCESSING_SHARD_PROCESSOR_H_
#define TRIBUTARY_POLLER_PROCESSING_SHARD_PROCESSOR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "mapping/lanes.h"
#include "mapping/record_filter.h"
#include "poller/checkpoint/watermark.h"
#include "poller/interfaces.h"
#include "poller/processing/backoff.h"
#include "poller/processing/batch_processor.h"
#include "poller/processing/batcher.h"
#include "poller/processing/invocation_slots.h"
#include "poller/processing/records.h"
#include "poller/runtime/shard_context.h"
#include "poller/runtime/metrics.h"

namespace tributary::poller {

using mapping::LaneForPartitionKey;
using mapping::RecordFilter;

// What lanes need from the outside world.
struct LaneDeps {
  Clock& clock;
  Waiter& waiter;
  FunctionInvoker& invoker;
  FailureDestination& destination;
  PollerMetrics& metrics;
  BackoffOptions backoff;
  uint64_t seed = 1;  // lane i's RNG seed is derived from this and i
  // Tumbling windows: how long after a window's end the clock closes a window that has nothing
  // buffered or in flight (records of the window may still be arriving until then).
  absl::Duration window_close_grace = absl::Seconds(1);
  // Reserved concurrency: where batches take a slot before invoking a limited function; null:
  // no limit is enforced.
  InvocationSlotClient* slots = nullptr;
};

// Payload bytes a batch leaves free for the window state when tumbling windows are on.
inline constexpr int64_t kWindowStateReserveBytes = 2 << 20;

class ShardProcessor {
 public:
  // A batch handed out to run: lane `lane`'s records, formed under configuration `config` (the
  // one current when it was taken; RunBatch's attempts read the configuration current at each
  // attempt). With tumbling windows, `window_start` is the start of the window of the records, and a
  // batch with `final_invoke` (and no records) is that window's final invocation.
  struct LaneBatch {
    int lane = 0;
    std::vector<v1::Record> records;
    std::shared_ptr<const v1::EventSourceMappingConfiguration> config;
    std::optional<absl::Time> window_start;
    bool final_invoke = false;
    // A parked key's retry: `records` are its failing records (see the header comment).
    std::optional<std::string> parked_key;
  };

  // The parked keys of the shard now (per-key isolation).
  struct ParkedStatus {
    int64_t keys = 0;
    int64_t records = 0;  // failing and waiting records of every parked key
    // The arrival time of the oldest parked record; nullopt when nothing is parked.
    std::optional<absl::Time> oldest_arrival;
    // A failing key was refused parking (max_parked_keys reached) and blocks its lane.
    bool limit_reached = false;
  };
  ParkedStatus ParkedKeys();

  ShardProcessor(ShardContext shard, const v1::EventSourceMappingConfiguration& config,
                 LaneDeps deps);
  ~ShardProcessor();

  const ShardContext& shard() const { return shard_; }

  // Adds records read from the shard, in order, after every record offered before (calls do not
  // overlap: the shard's one reader offers); those that match no filter are done at once instead
  // (see the header comment). Errors:
  // INVALID_ARGUMENT when a sequence number is not decimal or not above the previous one (the
  // records from that one on are not added).
  absl::Status Offer(std::vector<v1::Record> records);

  // Replaces the configuration from the next batch (see the header comment); a batch in flight
  // (failing, or waiting out a backoff) takes the processing rules from its next attempt
  // (batch_processor.h).
  void UpdateConfig(const v1::EventSourceMappingConfiguration& config);
  // The configuration now (never null).
  std::shared_ptr<const v1::EventSourceMappingConfiguration> CurrentConfig();

  // Says no more records will be offered (the shard ended): buffered records no longer wait
  // for their batching window, and open tumbling windows close once their records are done.
  void MarkShardEnd();

  // Says how far the shard's reader is behind the tip after its last read (the store's
  // millis_behind_latest; 0: it has read everything written so far). A tumbling window closes
  // on the clock only while the reader is at the tip: a reader catching up on a backlog would
  // otherwise close each past window whenever its lane ran empty between two reads and reopen
  // it with the next (fragmented aggregates). Until the first call the reader counts as at the
  // tip.
  void SetReaderBehind(int64_t millis_behind_latest);

  // Every batch that is due now, one per idle lane; those lanes become busy until RunBatch.
  // None once a RunBatch returned CANCELLED (the stop signal is for good: a window's final
  // invocation would otherwise be handed out again and again).
  std::vector<LaneBatch> TakeReadyBatches();

  // Processes `batch` (blocking: invokes, backoff waits) and frees its lane. Records that become
  // done move the watermark (those of an open tumbling window once it is closed). Returns what
  // BatchProcessor::Process returned (CANCELLED when `stop` fired).
  absl::Status RunBatch(LaneBatch batch, StopSignal& stop);

  // TakeReadyBatches, then RunBatch for each in turn on this thread. Returns how many batches
  // ran, or the first error.
  absl::StatusOr<int> RunReadyBatches(StopSignal& stop);

  // The checkpoint low watermark; nullopt until the first record is done.
  std::optional<uint64_t> Watermark();
  // No batch is in flight.
  bool Idle();
  // Every offered record is done (nothing buffered, held or in flight; every tumbling window
  // that had records is closed).
  bool Drained();
  // Records offered but not done, apart from those held for an open tumbling window (they are
  // no longer in memory: the reader's pause counts these).
  int64_t Outstanding();
  // The memory those records hold (RecordMemoryBytes each), for the reader's byte bound.
  int64_t OutstandingBytes();
  // What a buffered record is accounted: its object, data, partition key and sequence number.
  static int64_t RecordMemoryBytes(const v1::Record& record);
  // Records held for open tumbling windows (processed, not done until the window closes).
  int64_t Held();
  // The next time, by the clock's monotonic reading, a batch becomes due without new records (a
  // batching window ends, or a tumbling window's end plus the grace passes: a wall time, turned
  // into a monotonic deadline from what remains of it now; after a wall step back the batch is
  // not due then after all, and the next call gives the new deadline).
  std::optional<MonotonicTime> NextDeadline();

 private:
  struct Lane;
  class LaneParking;
  // A parked partition key (see the header comment).
  struct ParkedKey {
    std::vector<v1::Record> failing;  // retried; empty while its retry runs
    std::map<uint64_t, v1::Record> waiting;  // later records of the key, by sequence number
    ParkedAttempts attempts;
    MonotonicTime due;  // the next retry
    bool running = false;
  };
  // Moves records of parked keys from `records` into their waiting lists.
  void DivertParked(std::vector<v1::Record>& records) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Parks `records`' key (see KeyParking::Park); the lane `lane` is the one running the batch.
  bool ParkKey(int lane, std::vector<v1::Record>& records, const ParkedAttempts& attempts,
               absl::Duration delay);
  ParkedStatus ParkedStatusLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // RunBatch of a parked key's retry.
  absl::Status RunParked(LaneBatch batch, StopSignal& stop);
  void ReportParked();
  // Records of a tumbling window that are processed (done for the WatermarkTracker) but may not
  // be checkpointed yet: while `count` > 0 the checkpoint stays at or below `cap`, the record just
  // before the window's first one in the shard (nullopt: nothing before it). O(1) per window, not
  // per record.
  struct WindowHold {
    int64_t count = 0;
    bool cap_set = false;
    std::optional<uint64_t> cap;
  };

  void RebuildLanesIfDue() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Installs a compiled filter, or the reason it did not compile.
  void SetFilter(absl::StatusOr<std::shared_ptr<const RecordFilter>> filter)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells the metrics whether the criteria compile (outside the lock).
  void ReportFilter(const absl::Status& status);
  // Received records (in order): those with keep[i] false are done at once, the others routed
  // (or held for a pending re-route). Says how many were filtered out, and the watermark's error
  // (the records from that one on are dropped; it cannot happen for received records).
  struct Received {
    uint64_t sequence_number = 0;
    v1::Record record;
  };
  struct Admitted {
    int64_t filtered = 0;
    absl::Status status;
  };
  Admitted Admit(std::vector<Received> records, const std::vector<bool>& keep)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Route(std::vector<v1::Record> records) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int LaneCount() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // An early termination: releases the records held for `lane`'s window to the checkpoint; what
  // the lane processes next in the window is held below the last record released.
  void ReleaseHeld(Lane& lane) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `lane`'s window had its final invocation: its held records wait in closed_held_ until no
  // lane has an earlier-or-overlapping window open or buffered (ReleaseClosedWindows).
  void CloseWindow(Lane& lane) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseClosedWindows() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ShardContext shard_;
  LaneDeps deps_;
  absl::Mutex mu_;
  // Replaced, never changed in place: batches in flight hold the one they read.
  std::shared_ptr<const v1::EventSourceMappingConfiguration> config_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const RecordFilter> filter_ ABSL_GUARDED_BY(mu_);  // config_'s; null: none
  absl::Status filter_status_ ABSL_GUARDED_BY(mu_);     // config_'s criteria did not compile: why
  int64_t filter_generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by every SetFilter
  // Records offered while filter_status_ is not OK (see the header comment), in order.
  std::vector<Received> unfiltered_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Lane>> lanes_ ABSL_GUARDED_BY(mu_);
  bool reroute_pending_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<v1::Record> held_ ABSL_GUARDED_BY(mu_);
  WatermarkTracker watermark_ ABSL_GUARDED_BY(mu_);
  bool shard_end_ ABSL_GUARDED_BY(mu_) = false;
  bool reader_at_tip_ ABSL_GUARDED_BY(mu_) = true;
  int64_t lane_generation_ ABSL_GUARDED_BY(mu_) = 0;
  // Records held for tumbling windows, all lanes (open windows' and closed_held_'s).
  int64_t window_held_ ABSL_GUARDED_BY(mu_) = 0;
  // Held records of windows their lane has closed, by window end (Unix seconds), waiting for
  // every lane to be past that window.
  std::map<int64_t, WindowHold> closed_held_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;  // a RunBatch returned CANCELLED
  std::map<std::string, ParkedKey> parked_ ABSL_GUARDED_BY(mu_);
  bool park_refused_ ABSL_GUARDED_BY(mu_) = false;  // since parked_ was last below the limit
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_PROCESSING_SHARD_PROCESSOR_H_
