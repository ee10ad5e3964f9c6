// ShardConsumer: the work of one held lease. It reads the shard from the lease's checkpoint,
// feeds a ShardProcessor, and checkpoints the low watermark through leasing with the lease
// counter; at the end of a closed shard it checkpoints SHARD_END and releases the lease so that
// the children can start.
//
// Lifecycle (state()): the states and the only transitions (IsValidTransition).
//
//                 every record done (a closed shard read to its end),
//              ┌─ SHARD_END checkpointed, lease released ─────────────────▶ kShardEnded
//              │
//   kRunning ──┼─ RequestRelease: the in-flight invocation finished, ─────▶ kReleased
//   (initial)  │  the watermark checkpointed, the lease released
//              │  (not with release_lease = false: DeregisterPoller does)
//              │
//              └─ Lose(), a checkpoint answered FAILED_PRECONDITION, ─────▶ kLost
//                 or records the processor refused (then ReleaseLease):
//                 stopped at once, no further invocation or checkpoint
//
// Only kRunning has a way out; kShardEnded, kReleased and kLost are final, and the first end
// reached wins: a Lose after SHARD_END changes nothing, a release that finishes after the lease
// was lost leaves it kLost (TransitionTo refuses anything else). Stop() is not a state: it halts
// the work and keeps the state (kRunning stays kRunning, the lease neither checkpointed nor
// released).
// Checkpoints are coalesced: the watermark is written when it moved and `checkpoint_interval`
// has passed since the last write (and always before a release or SHARD_END); the writes, their
// fencing and the pause after a failed one are the Checkpointer's (poller/checkpoint/).
// RequestRelease finishes the invocation in flight but abandons its retries and backoff: the
// next owner re-reads every record after the checkpoint (at least once).
//
// Two ways to run it:
//   - RunOnce() on the caller's thread: one read (the stream's Next()), then rounds of the due
//     batches (one per lane per round) each followed by checkpointing and state changes, until
//     no batch is due. Tests use it with fakes whose Next() returns at once.
//   - Start(scheduler): no thread of its own. The consumer's work runs as tasks on the
//     Scheduler's shared pool, and only when something happened:
//       * a step (at most one queued or running per consumer): starts a read when none is
//         outstanding (ShardRecordStream::NextAsync; not while max_outstanding_records or
//         max_outstanding_bytes are outstanding, nor during the pause after a failed read),
//         hands each due batch to the pool as its own task (one per lane at a time:
//         ShardProcessor never hands out a busy lane), checkpoints / moves the state (Tend), and arms the consumer's one timer at the
//         next time something becomes due by the clock (a batching window ends, a coalesced
//         checkpoint may be written, a read pause ends);
//       * a step is queued by: records or an error arriving from the read, a batch finishing,
//         the timer, UpdateConfig, Lose, RequestRelease, Stop.
//     So an idle consumer (a subscription with nothing to read, nothing buffered) has no task,
//     no armed timer and no thread: it costs memory only. Batches run blocking on the pool
//     (invoke, backoff waits), so the pool size bounds concurrent invocations across consumers.
//     Stop() (or the destructor) cancels reading and waits until no task of this consumer is
//     queued or running and no read is outstanding.
//
// Thread-safe. Everything passed to the constructor must outlive this object.
#ifndef TRIBUTARY_POLLER_LIFECYCLE_SHARD_CONSUMER_H_
#define TRIBUTARY_POLLER_LIFECYCLE_SHARD_CONSUMER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "poller/checkpoint/checkpointer.h"
#include "poller/interfaces.h"
#include "poller/lifecycle/read_budget.h"
#include "poller/processing/backoff.h"
#include "poller/processing/shard_processor.h"
#include "poller/runtime/scheduler.h"
#include "proto/leasing.pb.h"

namespace tributary::poller {

struct ShardConsumerOptions {
  std::string poller_id;
  absl::Duration checkpoint_interval = absl::Milliseconds(200);
  // The reader pauses while this many records, or this many bytes of them
  // (ShardProcessor::RecordMemoryBytes), are offered but not done (issue 22: a slow function
  // must not make the poller buffer without bound). A read may pass the byte bound by one read
  // (at most a 10 MiB GetRecords reply or a 4 MiB event), so a shard buffers at most about
  // max_outstanding_bytes + 10 MiB. 64 MiB lets ten lanes each fill a 6 MB batch.
  int64_t max_outstanding_records = 20000;
  int64_t max_outstanding_bytes = int64_t{64} << 20;
  // When set, the poller-wide byte budget this consumer's buffered records count against
  // (read_budget.h, `--memory_budget_mb`), beside max_outstanding_bytes: before each read the
  // consumer reserves read_reserve_bytes of it (waiting in order, without reading, while they do
  // not fit), and then holds what its outstanding records hold. Must outlive the consumer.
  // read_reserve_bytes is the most one read returns (a 10 MiB GetRecords reply; an event is
  // ≤ 4 MiB); a larger read is still taken and counted.
  ReadBudget* read_budget = nullptr;
  int64_t read_reserve_bytes = int64_t{10} << 20;
  // When set, incremented each time the state leaves kRunning (lock-free), so that an owner of
  // many consumers scans their states only when one has finished. Must outlive the consumer.
  std::atomic<int64_t>* finished_counter = nullptr;
  // The pause after a throttled read (RESOURCE_EXHAUSTED: the store's per-shard read limits, a
  // refused subscription, gRPC's full queue): the n-th throttle in a row (0-based) pauses a time
  // drawn uniformly from [c/2, c], c = min(max_delay, base_delay * 2^n) ("equal jitter": spread,
  // and never shorter than the pause before), on the clock; a successful read resets it. Any
  // other failed read pauses 200 ms, as before.
  BackoffOptions read_throttle_backoff{absl::Milliseconds(200), absl::Seconds(10)};
};

class ShardConsumer {
 public:
  enum class State { kRunning, kShardEnded, kReleased, kLost };

  // Whether a consumer may move from `from` to `to`: only from kRunning, and only to one of the
  // final states (the diagram above).
  static constexpr bool IsValidTransition(State from, State to) {
    return from == State::kRunning && to != State::kRunning;
  }

  // `lease` is the lease as granted (key, counter, checkpoint, stream name).
  ShardConsumer(const v1::Lease& lease, const v1::EventSourceMappingConfiguration& config,
                ShardConsumerOptions options, ShardReader& reader, LeaseService& leases,
                LaneDeps deps);
  ~ShardConsumer();

  const ShardContext& shard() const { return processor_.shard(); }
  int64_t lease_counter() const { return lease_counter_; }
  State state();

  // One step on the caller's thread (see the header comment). No-op once not kRunning.
  void RunOnce();
  // Runs the consumer on `scheduler` (see the header comment); it must outlive this object. Call
  // at most once, and then not RunOnce.
  void Start(Scheduler& scheduler);
  // Cancels reading and waits until none of this consumer's tasks is queued or running and no
  // read is outstanding (an invocation in flight finishes first). The state is kept (kRunning
  // stays kRunning: the lease is neither checkpointed nor released). Idempotent. Not from a task
  // of the scheduler.
  void Stop();

  // Whether Stop() would return without waiting: never started, or (after the state left
  // kRunning, or Stop) no task queued or running and no read outstanding.
  bool Quiescent();
  // Records offered and not done, and the bytes they hold (the reader's bounds above).
  int64_t outstanding_records() { return processor_.Outstanding(); }
  int64_t outstanding_bytes() { return processor_.OutstandingBytes(); }

  // Waits on the clock until the state is no longer kRunning or `deadline` passes. Returns
  // whether it finished.
  bool AwaitFinished(MonotonicTime deadline);

  // Applies `config` from the next batch.
  void UpdateConfig(const v1::EventSourceMappingConfiguration& config);
  // The lease was lost: stop at once. Idempotent. `reason` says why, for end_reason().
  void Lose(const std::string& reason = "");
  // Leasing asked for the lease back (or the mapping was disabled). Idempotent. With
  // `release_lease` false the consumer ends in kReleased after its checkpoint without calling
  // ReleaseLease: for a caller that gives every lease back at once (DeregisterPoller). `reason`
  // says why, for end_reason().
  void RequestRelease(bool release_lease = true, const std::string& reason = "");

  // Why the consumer left kRunning (or is leaving it): the first reason given to Lose or
  // RequestRelease, or the checkpoint refusal that lost the lease; "" while running normally.
  std::string end_reason();

  // The last checkpoint written ("SHARD_END", a sequence number, or "" before the first).
  std::string last_checkpoint();

  // When the reader reads again after a failed read (InfinitePast: no pause).
  MonotonicTime read_paused_until();

 private:
  void ReadOnce();
  // Whether the records offered and not done reach max_outstanding_records or _bytes.
  bool BufferFull();
  // Whether this consumer holds its read reserve of options_.read_budget (always true without
  // one): held already, or reserved now; else it is queued and a grant wakes a step. Not under
  // mu_ (the budget's grants take mu_).
  bool HoldReadReserve();
  // Brings charged_ to what the consumer should hold of the read budget now (its outstanding
  // records' bytes, plus the reserve while held) and returns the change, for ApplyBudget outside
  // mu_. 0 without a budget or once closed.
  int64_t SettleLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Charges (> 0) or releases (< 0) `delta` bytes of the read budget. Not under mu_.
  void ApplyBudget(int64_t delta);
  // options_.read_reserve_bytes, at most the budget's limit (as ReadBudget::Acquire cuts it).
  int64_t ReadReserve() const {
    const int64_t limit = options_.read_budget->limit();
    return limit > 0 ? std::min(options_.read_reserve_bytes, limit) : options_.read_reserve_bytes;
  }
  void Settle();
  // Checkpoints and moves the state when due; `force` ignores the coalescing interval.
  void Tend(bool force);
  // Writes the checkpoint `sequence_number`, or SHARD_END when nullopt, through checkpointer_:
  // a refusal loses the lease, another error wakes a step (the checkpointer pauses first).
  absl::Status WriteCheckpoint(std::optional<uint64_t> sequence_number);
  void ReleaseLease();
  // One step on the scheduler (see the header comment); repeats while events arrive during it.
  void Step();
  // What a read started by Step returned (on whichever thread the stream calls back on).
  void OnRead(absl::StatusOr<ReadResult> result);
  // Gives a successful read to the processor: its records, how far behind the tip it was, and
  // the shard's end.
  // Gives the reader's result to the processor. An error (records the processor refused: out of
  // order or not a sequence number, which only a store bug produces) means records were read
  // but not taken: the caller must GiveUp, since reading on would let the watermark pass them.
  absl::Status HandOver(ReadResult& result);
  // Stops at once and gives the lease back, so that the next owner re-reads from the checkpoint.
  void GiveUp(const absl::Status& why);
  // Bookkeeping after a read (either way of running), before its records are handed over: on
  // success the throttle backoff resets
  // and the known position moves (PollerMetrics::ReadThrottled); on failure read_paused_until_
  // is set (for a throttle always, for another error only when `pause_on_errors`).
  void AfterRead(const absl::StatusOr<ReadResult>& result, bool pause_on_errors)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs one batch (a scheduler task).
  void RunBatchTask(ShardProcessor::LaneBatch batch);
  bool Finished() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return state_ != State::kRunning; }
  // Moves to `to` when IsValidTransition(state_, to) and returns whether it moved; otherwise
  // the state stays (a consumer that ended keeps its first end). The only writer of state_.
  bool TransitionTo(State to) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Something happened: with a scheduler, makes sure a step will run after this.
  void Wake() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const v1::LeaseKey key_;
  const int64_t lease_counter_;
  const v1::Checkpoint start_;
  ShardConsumerOptions options_;
  ShardReader& reader_;
  LeaseService& leases_;
  LaneDeps deps_;
  ShardProcessor processor_;
  Checkpointer checkpointer_;  // the lease's checkpoints: written, due, paused after a failure
  StopSignal stop_;  // fired on Lose, RequestRelease and Stop: no new invoke or backoff
  std::unique_ptr<ShardRecordStream> stream_;

  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kRunning;
  std::atomic<State> published_state_{State::kRunning};  // state_, for state() without mu_
  bool release_requested_ ABSL_GUARDED_BY(mu_) = false;
  std::string end_reason_ ABSL_GUARDED_BY(mu_);
  bool release_lease_ ABSL_GUARDED_BY(mu_) = true;  // false: RequestRelease(false) only
  bool shard_end_read_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped on every event a step awaits

  // With a scheduler (Start):
  Scheduler* scheduler_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::unique_ptr<Scheduler::Timer> timer_;        // set by Start, before any task
  bool step_queued_ ABSL_GUARDED_BY(mu_) = false;  // a step is queued or running
  bool read_outstanding_ ABSL_GUARDED_BY(mu_) = false;
  MonotonicTime read_paused_until_ ABSL_GUARDED_BY(mu_) = MonotonicTime::InfinitePast();
  Backoff read_throttle_backoff_ ABSL_GUARDED_BY(mu_);
  int64_t read_throttles_ ABSL_GUARDED_BY(mu_) = 0;  // throttled reads in a row
  // The arrival time the reader is known to be past: the last record read, or the read's own
  // time when it reported the shard's tip. InfinitePast before the first successful read.
  absl::Time known_position_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int running_batches_ ABSL_GUARDED_BY(mu_) = 0;  // handed to the pool, not finished
  int tasks_ ABSL_GUARDED_BY(mu_) = 0;        // steps queued or running + running_batches_ + reads
  bool closed_ ABSL_GUARDED_BY(mu_) = false;  // Stop returned: no task may start any more
  // With a read budget: the bytes held of it, and whether they include the read reserve (granted
  // and not used yet, or the read outstanding).
  int64_t charged_ ABSL_GUARDED_BY(mu_) = 0;
  bool reserve_held_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_LIFECYCLE_SHARD_CONSUMER_H_
