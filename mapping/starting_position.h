// A mapping's starting position by name, as AWS Lambda, the AWS front door (aws/) and tribctl
// spell it: "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP" ↔ v1::EventSourcePosition.
//
// Pure functions, thread-safe.
#ifndef TRIBUTARY_MAPPING_STARTING_POSITION_H_
#define TRIBUTARY_MAPPING_STARTING_POSITION_H_

#include "absl/strings/string_view.h"
#include "proto/event_source_mappings.pb.h"

namespace tributary::mapping {

// The name of `position` ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"), or "" for UNSPECIFIED
// (and any value the enum does not name).
absl::string_view StartingPositionName(v1::EventSourcePosition position);

// The position that `name` spells exactly (case-sensitive, as Lambda's API is), or
// UNSPECIFIED for anything else ("trim_horizon", "").
v1::EventSourcePosition StartingPositionOf(absl::string_view name);

}  // namespace tributary::mapping

#endif  // TRIBUTARY_MAPPING_STARTING_POSITION_H_
