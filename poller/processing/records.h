// Small helpers over tributary.v1.Record shared by the poller's libraries: sequence numbers as
// integers, arrival times as absl::Time, and the ISO-8601 form the on-failure record uses.
#ifndef TRIBUTARY_POLLER_PROCESSING_RECORDS_H_
#define TRIBUTARY_POLLER_PROCESSING_RECORDS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/proto_util.h"
#include "proto/streams.pb.h"

namespace tributary::poller {

// The record's approximate arrival time (the Unix epoch when unset).
absl::Time ArrivalTime(const v1::Record& record);

// "2026-11-27T05:35:00.123Z": UTC, milliseconds, as AWS writes timestamps in on-failure records.
std::string FormatIso8601Millis(absl::Time t);

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_PROCESSING_RECORDS_H_
