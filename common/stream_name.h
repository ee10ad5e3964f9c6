// Stream names, as Kinesis spells its rule: 1–128 characters of [a-zA-Z0-9_.-]. The one check
// every service applies (the shard store for its streams, the tracker for a mapping's stream and
// its on-failure destination). Pure; thread-safe.
#ifndef TRIBUTARY_COMMON_STREAM_NAME_H_
#define TRIBUTARY_COMMON_STREAM_NAME_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tributary {

inline constexpr size_t kMaxStreamNameLength = 128;

// Whether `name` is a valid stream name.
bool IsValidStreamName(absl::string_view name);

// OK for a valid name; otherwise INVALID_ARGUMENT naming `field` and the rule broken:
//   "<field> is required", "<field> must be 1 to 128 characters, got 129",
//   "<field> may only hold [a-zA-Z0-9_.-], got \"bad name\"".
absl::Status ValidateStreamName(absl::string_view field, absl::string_view name);

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_STREAM_NAME_H_
