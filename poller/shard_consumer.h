// ShardConsumer: the work of one held lease. It reads the shard from the lease's checkpoint,
// feeds a ShardProcessor, and checkpoints the low watermark through leasing with the lease
// counter; at the end of a closed shard it checkpoints SHARD_END and releases the lease so that
// the children can start.
//
// Lifecycle (state()):
//   kRunning  → kShardEnded  every record done, SHARD_END checkpointed, lease released
//             → kReleased    after RequestRelease: the in-flight invocation finished, the
//                            watermark checkpointed, the lease released
//             → kLost        Lose() or a checkpoint answered FAILED_PRECONDITION: stopped at
//                            once, no further invocation or checkpoint from this consumer
// Checkpoints are coalesced: the watermark is written when it moved and `checkpoint_interval`
// has passed since the last write (and always before a release or SHARD_END).
// RequestRelease finishes the invocation in flight but abandons its retries and backoff: the
// next owner re-reads every record after the checkpoint (at least once).
//
// Two ways to run it:
//   - RunOnce() on the caller's thread: one read (the stream's Next()), then rounds of the due
//     batches (one per lane per round) each followed by checkpointing and state changes, until
//     no batch is due. Tests use it with fakes whose Next() returns
//     at once.
//   - Start(): a reader thread, a dispatcher thread, and one long-lived worker thread per lane
//     index, started the first time that lane has a batch and fed through a queue under the
//     consumer's mutex (a lane has at most one batch in flight, so its queue holds at most one).
//     Stop() (or the destructor) cancels and joins them all.
//
// Thread-safe. Everything passed to the constructor must outlive this object.
#ifndef TRIBUTARY_POLLER_SHARD_CONSUMER_H_
#define TRIBUTARY_POLLER_SHARD_CONSUMER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "poller/interfaces.h"
#include "poller/shard_processor.h"
#include "proto/leasing.pb.h"

namespace tributary::poller {

struct ShardConsumerOptions {
  std::string poller_id;
  absl::Duration checkpoint_interval = absl::Milliseconds(200);
  // The reader pauses while this many records are offered but not done.
  int64_t max_outstanding_records = 20000;
};

class ShardConsumer {
 public:
  enum class State { kRunning, kShardEnded, kReleased, kLost };

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
  // Starts the threads. Call at most once, and then not RunOnce.
  void Start();
  // Cancels reading and waits for the threads (an invocation in flight finishes first). The
  // state is kept (kRunning stays kRunning: the lease is neither checkpointed nor released).
  void Stop();

  // Whether Stop() would return without waiting: the threads were never started, or both
  // loops have returned (after the state left kRunning, or Stop).
  bool Quiescent();

  // Waits on the clock until the state is no longer kRunning or `deadline` passes. Returns
  // whether it finished.
  bool AwaitFinished(absl::Time deadline);

  // Applies `config` from the next batch.
  void UpdateConfig(const v1::EventSourceMappingConfiguration& config);
  // The lease was lost: stop at once. Idempotent.
  void Lose();
  // Leasing asked for the lease back (or the mapping was disabled). Idempotent.
  void RequestRelease();

  // The last checkpoint written ("SHARD_END", a sequence number, or "" before the first).
  std::string last_checkpoint();

 private:
  void ReadOnce();
  // Checkpoints and moves the state when due; `force` ignores the coalescing interval.
  void Tend(bool force);
  absl::Status WriteCheckpoint(const v1::Checkpoint& checkpoint);
  void ReleaseLease();
  void ReaderLoop();
  void DispatcherLoop();
  // The body of lane `lane`'s worker thread: runs the batches queued for that lane, in order,
  // until workers_exit_.
  void LaneWorkerLoop(int lane);
  bool Finished() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return state_ != State::kRunning; }
  void Wake() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { ++generation_; }
  // When the next checkpoint may be written (coalescing interval, pause after a failure).
  absl::Time NextCheckpointTime() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const v1::LeaseKey key_;
  const int64_t lease_counter_;
  const v1::Checkpoint start_;
  ShardConsumerOptions options_;
  ShardReader& reader_;
  LeaseService& leases_;
  LaneDeps deps_;
  ShardProcessor processor_;
  StopSignal stop_;  // fired on Lose, RequestRelease and Stop: no new invoke or backoff
  std::unique_ptr<ShardRecordStream> stream_;

  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kRunning;
  bool release_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool shard_end_read_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<uint64_t> checkpointed_ ABSL_GUARDED_BY(mu_);
  absl::Time last_checkpoint_time_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string last_checkpoint_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Time> retry_checkpoint_at_ ABSL_GUARDED_BY(mu_);  // after a failed write
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped on every event the dispatcher awaits
  // Indexed by lane: the batches handed to the lane's worker and not yet taken by it, and the
  // worker (not joinable until the lane first had a batch).
  std::vector<std::deque<ShardProcessor::LaneBatch>> lane_queues_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> lane_workers_ ABSL_GUARDED_BY(mu_);
  bool workers_exit_ ABSL_GUARDED_BY(mu_) = false;  // set by the dispatcher when it returns
  int running_batches_ ABSL_GUARDED_BY(mu_) = 0;    // queued or running
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  int loops_running_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread reader_thread_;
  std::thread dispatcher_thread_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_SHARD_CONSUMER_H_
