#include "poller/records.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tributary::poller {

absl::StatusOr<uint64_t> ParseSequenceNumber(const std::string& text) {
  uint64_t value = 0;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
      !absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sequence number must be an unsigned 64-bit decimal, got \"", text, "\""));
  }
  return value;
}

absl::Time ArrivalTime(const v1::Record& record) {
  const auto& ts = record.approximate_arrival_timestamp();
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

std::string FormatIso8601Millis(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace tributary::poller
