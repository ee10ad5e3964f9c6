#include "poller/checkpoint/checkpointer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/proto_util.h"

namespace tributary::poller {

Checkpointer::Checkpointer(const v1::LeaseKey& key, int64_t lease_counter, std::string poller_id,
                           const v1::Checkpoint& start, absl::Duration interval,
                           LeaseService& leases, Clock& clock)
    : key_(key),
      lease_counter_(lease_counter),
      poller_id_(std::move(poller_id)),
      interval_(interval),
      leases_(leases),
      clock_(clock) {
  if (start.type() == v1::SEQUENCE_NUMBER) {
    absl::StatusOr<uint64_t> seq =
        ParseSequenceNumber(start.sequence_number(), "checkpoint.sequence_number");
    absl::MutexLock lock(&mu_);
    if (seq.ok()) checkpointed_ = *seq;
    last_ = start.sequence_number();
  }
}

absl::Status Checkpointer::WriteSequenceNumber(uint64_t sequence_number) {
  v1::Checkpoint checkpoint;
  checkpoint.set_type(v1::SEQUENCE_NUMBER);
  checkpoint.set_sequence_number(absl::StrCat(sequence_number));
  return Write(checkpoint, sequence_number);
}

absl::Status Checkpointer::WriteShardEnd() {
  v1::Checkpoint checkpoint;
  checkpoint.set_type(v1::SHARD_END);
  return Write(checkpoint, std::nullopt);
}

absl::Status Checkpointer::Write(const v1::Checkpoint& checkpoint,
                                 std::optional<uint64_t> sequence_number) {
  v1::CheckpointRequest request;
  *request.mutable_lease_key() = key_;
  request.set_poller_id(poller_id_);
  request.set_lease_counter(lease_counter_);
  *request.mutable_checkpoint() = checkpoint;
  absl::StatusOr<v1::CheckpointResponse> response = leases_.Checkpoint(request);
  absl::MutexLock lock(&mu_);
  if (!response.ok()) {
    if (!absl::IsFailedPrecondition(response.status())) {
      retry_at_ = clock_.MonotonicNow() + kRetryPause;
    }
    return response.status();
  }
  last_ = checkpoint.type() == v1::SHARD_END ? "SHARD_END" : checkpoint.sequence_number();
  if (sequence_number.has_value()) checkpointed_ = sequence_number;
  last_time_ = clock_.MonotonicNow();
  retry_at_.reset();
  return absl::OkStatus();
}

bool Checkpointer::Moved(std::optional<uint64_t> watermark) {
  absl::MutexLock lock(&mu_);
  return watermark.has_value() && (!checkpointed_.has_value() || *watermark > *checkpointed_);
}

MonotonicTime Checkpointer::NextTime() {
  absl::MutexLock lock(&mu_);
  const MonotonicTime next = last_time_ + interval_;
  return retry_at_.has_value() ? std::max(next, *retry_at_) : next;
}

bool Checkpointer::Paused(MonotonicTime now) {
  absl::MutexLock lock(&mu_);
  return retry_at_.has_value() && now < *retry_at_;
}

bool Checkpointer::RetryPending() {
  absl::MutexLock lock(&mu_);
  return retry_at_.has_value();
}

std::optional<uint64_t> Checkpointer::checkpointed() {
  absl::MutexLock lock(&mu_);
  return checkpointed_;
}

std::string Checkpointer::last() {
  absl::MutexLock lock(&mu_);
  return last_;
}

}  // namespace tributary::poller
