// The stream tracker's Prometheus families (issue 24), registered on a metrics::Registry:
//   tributary_tracker_mappings{state}                 event-source mappings by state, read from
//                                                     the mapping store at scrape time
//   tributary_tracker_sync_passes_total{result}       lease sync passes: "ok" or "error"
//   tributary_tracker_sync_pass_duration_seconds      their duration (the sync's clock)
// States are Lambda's, lower case (MappingStateLabel); every state is present, 0 when empty.
//
// Thread-safe. `registry` and `store` must outlive this object's last Render.
#ifndef TRIBUTARY_STREAM_TRACKER_TRACKER_METRICS_H_
#define TRIBUTARY_STREAM_TRACKER_TRACKER_METRICS_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/metrics/registry.h"
#include "proto/event_source_mappings.pb.h"
#include "stream_tracker/mapping_store.h"

namespace tributary::stream_tracker {

// "creating", "enabled", "updating", "disabling", "disabled", "deleting", "enabling"; "unknown"
// for anything else.
const char* MappingStateLabel(v1::EventSourceMappingState state);

// The count of every state (all seven present) over the store's mappings. Errors: List's.
absl::StatusOr<std::map<std::string, int64_t>> CountMappingStates(const MappingStore& store);

class TrackerMetrics {
 public:
  TrackerMetrics(metrics::Registry& registry, const MappingStore& store);

  // A lease sync pass finished with `status` after `duration` (LeaseSync::PassObserver).
  void Pass(const absl::Status& status, absl::Duration duration);

 private:
  metrics::Family<metrics::Counter>& passes_;
  metrics::Counter& passes_ok_;
  metrics::Counter& passes_error_;
  metrics::Histogram& pass_duration_;
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_TRACKER_METRICS_H_
