#include "stream_tracker/tracker_metrics.h"

#include <vector>

#include "common/status_macros.h"

namespace tributary::stream_tracker {
namespace {

constexpr v1::EventSourceMappingState kStates[] = {
    v1::CREATING_MAPPING, v1::ENABLED,          v1::UPDATING_MAPPING, v1::DISABLING,
    v1::DISABLED,         v1::DELETING_MAPPING, v1::ENABLING,
};

}  // namespace

const char* MappingStateLabel(v1::EventSourceMappingState state) {
  switch (state) {
    case v1::CREATING_MAPPING:
      return "creating";
    case v1::ENABLED:
      return "enabled";
    case v1::UPDATING_MAPPING:
      return "updating";
    case v1::DISABLING:
      return "disabling";
    case v1::DISABLED:
      return "disabled";
    case v1::DELETING_MAPPING:
      return "deleting";
    case v1::ENABLING:
      return "enabling";
    default:
      return "unknown";
  }
}

absl::StatusOr<std::map<std::string, int64_t>> CountMappingStates(const MappingStore& store) {
  std::map<std::string, int64_t> counts;
  for (v1::EventSourceMappingState state : kStates) counts[MappingStateLabel(state)] = 0;
  std::string after;
  while (true) {
    // Pages, so that a scrape does not hold every mapping at once.
    ASSIGN_OR_RETURN(std::vector<MappingRecord> page, store.List(after, 1000));
    for (const MappingRecord& record : page) ++counts[MappingStateLabel(record.config().state())];
    if (page.size() < 1000) break;
    after = page.back().config().uuid();
  }
  return counts;
}

TrackerMetrics::TrackerMetrics(metrics::Registry& registry, const MappingStore& store)
    : passes_(registry.AddCounter("tributary_tracker_sync_passes_total",
                                  "Lease sync passes over every mapping, by result (ok, error).",
                                  {"result"})),
      passes_ok_(passes_.With({"ok"})),
      passes_error_(passes_.With({"error"})),
      pass_duration_(registry
                         .AddHistogram("tributary_tracker_sync_pass_duration_seconds",
                                       "Duration of lease sync passes.", {},
                                       metrics::LatencySecondsBounds())
                         .With({})) {
  registry.AddCollector([&store](std::string* out) {
    absl::StatusOr<std::map<std::string, int64_t>> counts = CountMappingStates(store);
    if (!counts.ok()) return;  // the family is absent from this scrape: not a made-up 0
    metrics::WriteHeader(out, "tributary_tracker_mappings", "gauge",
                         "Event-source mappings by state.");
    for (const auto& [state, n] : *counts) {
      metrics::WriteSample(out, "tributary_tracker_mappings", {{"state", state}},
                           static_cast<double>(n));
    }
  });
}

void TrackerMetrics::Pass(const absl::Status& status, absl::Duration duration) {
  (status.ok() ? passes_ok_ : passes_error_).Increment();
  pass_duration_.Observe(absl::ToDoubleSeconds(duration));
}

}  // namespace tributary::stream_tracker
