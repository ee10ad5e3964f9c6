// Checkpointer: writes one held lease's checkpoints to leasing, fenced by the lease counter, and
// keeps what its consumer needs to decide when to write the next one (the KCL's record processor
// checkpointer; the consumer, poller/lifecycle/shard_consumer.h, decides what to write and when).
//
//   - WriteSequenceNumber(s) / WriteShardEnd(): leasing's Checkpoint with the lease's key, the
//     poller id and the counter. OK: written (last(), checkpointed(), and the coalescing
//     interval starts again). FAILED_PRECONDITION: the lease is not ours any more (another
//     counter or owner); nothing is recorded, and the caller stops at once. Any other error is
//     transient: the next write is not due before kRetryPause has passed (NextTime, Paused).
//   - Coalescing: a checkpoint is due (NextTime) `interval` after the last successful write, and
//     not before the pause after a failed one. The caller may write earlier (a release, SHARD_END).
//   - Moved(watermark): whether a low watermark is past what is checkpointed, i.e. worth writing.
//
// Times are monotonic (common/clock.h). Thread-safe; a caller may hold its own lock while
// calling it (it takes only its own, and never while calling leasing). `leases` and `clock` must
// outlive it.
#ifndef TRIBUTARY_POLLER_CHECKPOINT_CHECKPOINTER_H_
#define TRIBUTARY_POLLER_CHECKPOINT_CHECKPOINTER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "poller/interfaces.h"
#include "proto/leasing.pb.h"

namespace tributary::poller {

class Checkpointer {
 public:
  // How long after a failed write (not a refusal) the next one waits.
  static constexpr absl::Duration kRetryPause = absl::Milliseconds(200);

  // For the lease `key` held by `poller_id` under `lease_counter`, which starts at `start` (its
  // checkpoint as granted: a sequence number is what is checkpointed so far).
  Checkpointer(const v1::LeaseKey& key, int64_t lease_counter, std::string poller_id,
               const v1::Checkpoint& start, absl::Duration interval, LeaseService& leases,
               Clock& clock);

  // Checkpoints `sequence_number`: it and every record before it are processed.
  absl::Status WriteSequenceNumber(uint64_t sequence_number);
  // Checkpoints SHARD_END: the closed shard's every record is processed (final).
  absl::Status WriteShardEnd();

  // Whether `watermark` is past the last sequence number checkpointed (or the start).
  bool Moved(std::optional<uint64_t> watermark);
  // When the next checkpoint is due: `interval` after the last successful write (InfinitePast
  // before the first), and not before the pause after a failed write.
  MonotonicTime NextTime();
  // Whether a failed write waits for its pause at `now`.
  bool Paused(MonotonicTime now);
  // Whether the last write failed (not a refusal): it is to be tried again at NextTime().
  bool RetryPending();
  // The last sequence number checkpointed (or the start's), if any.
  std::optional<uint64_t> checkpointed();
  // The last checkpoint written ("SHARD_END", a sequence number), the start's sequence number
  // before the first write, or "".
  std::string last();

 private:
  absl::Status Write(const v1::Checkpoint& checkpoint, std::optional<uint64_t> sequence_number);

  const v1::LeaseKey key_;
  const int64_t lease_counter_;
  const std::string poller_id_;
  const absl::Duration interval_;
  LeaseService& leases_;
  Clock& clock_;

  absl::Mutex mu_;
  std::optional<uint64_t> checkpointed_ ABSL_GUARDED_BY(mu_);
  std::string last_ ABSL_GUARDED_BY(mu_);
  MonotonicTime last_time_ ABSL_GUARDED_BY(mu_) = MonotonicTime::InfinitePast();
  std::optional<MonotonicTime> retry_at_ ABSL_GUARDED_BY(mu_);  // after a failed write
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_CHECKPOINT_CHECKPOINTER_H_
