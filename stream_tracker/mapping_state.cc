#include "stream_tracker/mapping_state.h"

namespace tributary::stream_tracker {

bool IsTransitional(v1::EventSourceMappingState state) {
  switch (state) {
    case v1::CREATING_MAPPING:
    case v1::UPDATING_MAPPING:
    case v1::ENABLING:
    case v1::DISABLING:
    case v1::DELETING_MAPPING:
      return true;
    default:
      return false;
  }
}

v1::EventSourceMappingState StateAfterUpdate(v1::EventSourceMappingState current, bool old_enabled,
                                             bool new_enabled) {
  if (current == v1::CREATING_MAPPING) return v1::CREATING_MAPPING;
  if (old_enabled != new_enabled) return new_enabled ? v1::ENABLING : v1::DISABLING;
  if (current == v1::ENABLING || current == v1::DISABLING) return current;
  return v1::UPDATING_MAPPING;
}

v1::EventSourceMappingState StableState(bool enabled) {
  return enabled ? v1::ENABLED : v1::DISABLED;
}

}  // namespace tributary::stream_tracker
