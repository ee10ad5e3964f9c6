#include "poller/checkpoint/watermark.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace tributary::poller {

absl::Status WatermarkTracker::Received(uint64_t sequence_number) {
  if (last_received_.has_value() && sequence_number <= *last_received_) {
    return absl::InvalidArgumentError(
        absl::StrCat("sequence number ", sequence_number, " received after ", *last_received_));
  }
  last_received_ = sequence_number;
  pending_.emplace_back(sequence_number, false);
  ++outstanding_;
  return absl::OkStatus();
}

absl::Status WatermarkTracker::Done(uint64_t sequence_number) {
  if (watermark_.has_value() && sequence_number <= *watermark_) return absl::OkStatus();
  auto it = std::lower_bound(
      pending_.begin(), pending_.end(), sequence_number,
      [](const std::pair<uint64_t, bool>& entry, uint64_t seq) { return entry.first < seq; });
  if (it == pending_.end() || it->first != sequence_number) {
    return absl::NotFoundError(absl::StrCat("sequence number ", sequence_number, " not received"));
  }
  if (!it->second) {
    it->second = true;
    --outstanding_;
  }
  while (!pending_.empty() && pending_.front().second) {
    watermark_ = pending_.front().first;
    pending_.pop_front();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<uint64_t>> WatermarkTracker::Predecessor(
    uint64_t sequence_number) const {
  auto it = std::lower_bound(
      pending_.begin(), pending_.end(), sequence_number,
      [](const std::pair<uint64_t, bool>& entry, uint64_t seq) { return entry.first < seq; });
  if (it == pending_.end() || it->first != sequence_number) {
    return absl::NotFoundError(
        absl::StrCat("sequence number ", sequence_number, " is not pending"));
  }
  if (it == pending_.begin()) return watermark_;
  return std::optional<uint64_t>(std::prev(it)->first);
}

}  // namespace tributary::poller
