#include "mapping/starting_position.h"

namespace tributary::mapping {

absl::string_view StartingPositionName(v1::EventSourcePosition position) {
  switch (position) {
    case v1::TRIM_HORIZON_POSITION:
      return "TRIM_HORIZON";
    case v1::LATEST_POSITION:
      return "LATEST";
    case v1::AT_TIMESTAMP_POSITION:
      return "AT_TIMESTAMP";
    default:
      return "";
  }
}

v1::EventSourcePosition StartingPositionOf(absl::string_view name) {
  if (name == "TRIM_HORIZON") return v1::TRIM_HORIZON_POSITION;
  if (name == "LATEST") return v1::LATEST_POSITION;
  if (name == "AT_TIMESTAMP") return v1::AT_TIMESTAMP_POSITION;
  return v1::EVENT_SOURCE_POSITION_UNSPECIFIED;
}

}  // namespace tributary::mapping
