#include "poller/processing/records.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tributary::poller {

absl::Time ArrivalTime(const v1::Record& record) {
  return FromProtoTimestamp(record.approximate_arrival_timestamp());
}

std::string FormatIso8601Millis(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace tributary::poller
