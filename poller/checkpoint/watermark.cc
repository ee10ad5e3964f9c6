#include "poller/checkpoint/watermark.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace tributary::poller {

absl::Status WatermarkTracker::Received(uint64_t sequence_number, int64_t bytes) {
  if (last_received_.has_value() && sequence_number <= *last_received_) {
    return absl::InvalidArgumentError(
        absl::StrCat("sequence number ", sequence_number, " received after ", *last_received_));
  }
  last_received_ = sequence_number;
  pending_.push_back(Entry{sequence_number, false, bytes});
  ++outstanding_;
  outstanding_bytes_ += bytes;
  return absl::OkStatus();
}

absl::Status WatermarkTracker::Done(uint64_t sequence_number) {
  if (watermark_.has_value() && sequence_number <= *watermark_) return absl::OkStatus();
  auto it = std::lower_bound(
      pending_.begin(), pending_.end(), sequence_number,
      [](const Entry& entry, uint64_t seq) { return entry.sequence_number < seq; });
  if (it == pending_.end() || it->sequence_number != sequence_number) {
    return absl::NotFoundError(absl::StrCat("sequence number ", sequence_number, " not received"));
  }
  if (!it->done) {
    it->done = true;
    --outstanding_;
    outstanding_bytes_ -= it->bytes;
  }
  while (!pending_.empty() && pending_.front().done) {
    watermark_ = pending_.front().sequence_number;
    pending_.pop_front();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<uint64_t>> WatermarkTracker::Predecessor(
    uint64_t sequence_number) const {
  auto it = std::lower_bound(
      pending_.begin(), pending_.end(), sequence_number,
      [](const Entry& entry, uint64_t seq) { return entry.sequence_number < seq; });
  if (it == pending_.end() || it->sequence_number != sequence_number) {
    return absl::NotFoundError(
        absl::StrCat("sequence number ", sequence_number, " is not pending"));
  }
  if (it == pending_.begin()) return watermark_;
  return std::optional<uint64_t>(std::prev(it)->sequence_number);
}

}  // namespace tributary::poller
