// Conversions every service shares between the API's wire forms and our types: sequence numbers
// travel as decimal strings (as in Kinesis) and times as google.protobuf.Timestamp.
#ifndef TRIBUTARY_COMMON_PROTO_UTIL_H_
#define TRIBUTARY_COMMON_PROTO_UTIL_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace tributary {

// Parses a sequence number: 1 to 20 decimal digits, no sign or spaces, at most 2^64-1.
// Errors: INVALID_ARGUMENT naming `field` and quoting (the start of) `text`.
absl::StatusOr<uint64_t> ParseSequenceNumber(absl::string_view text, absl::string_view field);

// Exact to the nanosecond in both directions, also before 1970 (nanos are always 0..999999999).
google::protobuf::Timestamp ToProtoTimestamp(absl::Time t);
absl::Time FromProtoTimestamp(const google::protobuf::Timestamp& ts);

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_PROTO_UTIL_H_
