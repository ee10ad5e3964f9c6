// The metrics every Tributary process exports besides its own:
//   process_cpu_seconds_total        counter  user + system CPU time
//   process_resident_memory_bytes    gauge    resident set size
//   process_virtual_memory_bytes     gauge    virtual memory size
//   process_open_fds                 gauge    open file descriptors
//   process_max_fds                  gauge    the soft limit on open file descriptors
//   process_start_time_seconds       gauge    start time, Unix seconds
//   tributary_build_info{version}    gauge    1, with the version (common/version.h) as a label
// The process_* names and meanings are those of the Prometheus client libraries, so dashboards
// built for them work. Read from /proc (Linux) at each scrape; a value that cannot be read is left
// out rather than reported as 0.
#ifndef TRIBUTARY_COMMON_METRICS_PROCESS_METRICS_H_
#define TRIBUTARY_COMMON_METRICS_PROCESS_METRICS_H_

#include "common/metrics/registry.h"

namespace tributary::metrics {

// Adds a collector for the families above to `registry`.
void RegisterProcessMetrics(Registry& registry);

}  // namespace tributary::metrics

#endif  // TRIBUTARY_COMMON_METRICS_PROCESS_METRICS_H_
