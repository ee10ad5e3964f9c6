// The checkpoint low watermark of a shard whose records finish out of order (across lanes; the
// lane of a key is mapping/lanes.h).
//
// WatermarkTracker computes the checkpoint of a shard whose records finish out of order across
// lanes: the highest sequence number S such that every record of the shard with a sequence
// number <= S is done. Example: records 10, 11, 12, 13 received; 10 and 12 done → watermark 10;
// then 11 done → 12; then 13 done → 13.
#ifndef TRIBUTARY_POLLER_CHECKPOINT_WATERMARK_H_
#define TRIBUTARY_POLLER_CHECKPOINT_WATERMARK_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tributary::poller {

// Not thread-safe: the ShardProcessor guards it.
class WatermarkTracker {
 public:
  // Records that `sequence_number` was received and is not done yet, holding `bytes` of memory
  // until it is done. Records must be received in increasing sequence order. Errors:
  // INVALID_ARGUMENT when `sequence_number` is not above every sequence number received before.
  absl::Status Received(uint64_t sequence_number, int64_t bytes = 0);

  // Marks a received record done. Idempotent. Errors: NOT_FOUND when it was never received (or
  // is already below the watermark and forgotten, which is not an error: returns OK).
  absl::Status Done(uint64_t sequence_number);

  // The highest S with every received record <= S done; nullopt while no record is done below
  // the first outstanding one.
  std::optional<uint64_t> watermark() const { return watermark_; }

  // The received sequence number just below `sequence_number`, which must be a received record
  // above the watermark (not yet forgotten); nullopt when nothing was received before it.
  // Errors: NOT_FOUND when `sequence_number` is not a received record above the watermark.
  absl::StatusOr<std::optional<uint64_t>> Predecessor(uint64_t sequence_number) const;

  // How many received records are not done yet.
  int64_t outstanding() const { return outstanding_; }
  // The bytes those records hold (as given to Received).
  int64_t outstanding_bytes() const { return outstanding_bytes_; }
  // The highest sequence number received, if any.
  std::optional<uint64_t> last_received() const { return last_received_; }

 private:
  struct Entry {
    uint64_t sequence_number;
    bool done;
    int64_t bytes;
  };
  // Received records above the watermark, in sequence order, with whether each is done.
  std::deque<Entry> pending_;
  std::optional<uint64_t> watermark_;
  std::optional<uint64_t> last_received_;
  int64_t outstanding_ = 0;
  int64_t outstanding_bytes_ = 0;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_CHECKPOINT_WATERMARK_H_
