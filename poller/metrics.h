// PollerMetrics: the poller's per-(mapping, shard) metrics, rendered as the GetMetricsResponse
// proto and as Prometheus text exposition (format 0.0.4).
//
// Iterator age (ms): while a batch is being processed (invoked, retried, waiting for backoff) it
// is now minus the arrival time of the batch's last record, so that a blocked shard shows a
// growing age; once the batch is done it is frozen at (completion time − that arrival time).
// 0 before the first batch.
//
// Last processing result: the outcome of the shard's last invocation (ProcessingResult, in
// Lambda's words: ProcessingResultText) and when it was observed. The poller reports it to leasing
// in its heartbeats, from where the stream tracker sets the mapping's LastProcessingResult.
//
// Thread-safe. The clock must outlive this object.
#ifndef TRIBUTARY_POLLER_METRICS_H_
#define TRIBUTARY_POLLER_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "poller/records.h"
#include "proto/poller.pb.h"

namespace tributary::poller {

// The outcome of one invocation, as EventSourceMappingConfiguration.last_processing_result
// words it (ProcessingResultText). From BatchProcessor's attempt:
//   - the function returned success (no function_error, no batch item failures): kOk;
//   - the call failed with DEADLINE_EXCEEDED (the function timeout passed): kFunctionTimedOut;
//   - the call failed with UNAVAILABLE (not reachable, connection refused or reset):
//     kConnectionError;
//   - any other failed call, a reply with function_error, or invalid batch item failure
//     identifiers: kFunctionCallFailed;
//   - a valid partial batch response (REPORT_BATCH_ITEM_FAILURES): kBatchItemFailures.
// A failing record that is retried and then succeeds ends at kOk: the last invocation counts.
enum class ProcessingResult : uint8_t {
  kNone,  // no invocation yet
  kOk,
  kFunctionCallFailed,
  kFunctionTimedOut,
  kConnectionError,
  kBatchItemFailures,
};
// "" for kNone; "OK"; "PROBLEM: Function call failed"; "PROBLEM: Function timed out";
// "PROBLEM: Connection error"; "PROBLEM: Function reported batch item failures".
const char* ProcessingResultText(ProcessingResult result);

// What the heartbeat reports about one shard.
struct ShardProgress {
  int64_t iterator_age_ms = 0;                        // as IteratorAgeMs
  ProcessingResult result = ProcessingResult::kNone;  // of the last invocation
  absl::Time result_time = absl::InfinitePast();      // when it was observed (clock time)
};

// A Prometheus-style histogram: counts per upper bound, the last bound +Inf.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);  // finite, increasing; +Inf is added
  void Observe(double value);
  void ToProto(v1::Histogram* out) const;  // cumulative counts

 private:
  std::vector<double> bounds_;   // includes +Inf last
  std::vector<int64_t> counts_;  // per bucket, not cumulative
  double sum_ = 0;
  int64_t count_ = 0;
};

// Prometheus text exposition (format 0.0.4) of a metrics snapshot: what GET /metrics serves, and
// what `tribctl metrics --prometheus` prints for a GetMetricsResponse it received.
std::string RenderPrometheusText(const v1::GetMetricsResponse& snapshot);

class PollerMetrics {
 public:
  PollerMetrics(std::string poller_id, Clock& clock);

  // Effects of one shard's events; each creates the shard's entry on first use.
  void BatchStarted(const ShardContext& shard, absl::Time last_record_arrival);
  void BatchFinished(const ShardContext& shard);
  // The poller holds no undelivered record of the shard: its iterator age is 0 until the next
  // batch starts (a caught-up shard must not show the age its last batch had).
  void CaughtUp(const ShardContext& shard);
  void Invoked(const ShardContext& shard, int batch_size, absl::Duration latency);
  // A tumbling window's final invocation (no records): an invocation and its latency, no batch
  // size observed.
  void FinalInvoked(const ShardContext& shard, absl::Duration latency);
  // A window's final invocation was accepted (windows_closed) / given up (windows_failed).
  void WindowClosed(const ShardContext& shard);
  void WindowFailed(const ShardContext& shard);
  void FunctionError(const ShardContext& shard);
  // The outcome of an invocation that just returned (now, by the clock).
  void Processed(const ShardContext& shard, ProcessingResult result);
  void Retried(const ShardContext& shard);
  void Bisected(const ShardContext& shard);
  void Dropped(const ShardContext& shard, const std::string& condition, int64_t records);
  void Delivered(const ShardContext& shard, int64_t records);
  // Records that matched none of the mapping's filters (skipped without an invocation).
  void Filtered(const ShardContext& shard, int64_t records);
  void Checkpointed(const ShardContext& shard, const std::string& checkpoint);
  // Forgets a shard (its lease went away).
  void Remove(const ShardContext& shard);

  // The current iterator age of a shard in ms: while a batch runs, now minus the arrival of its
  // last record; after it, the age it ended with; 0 once caught up, and 0 when unknown.
  int64_t IteratorAgeMs(const ShardContext& shard);
  // The last processing result of a shard (kNone when unknown).
  ProcessingResult LastProcessingResult(const ShardContext& shard);
  // IteratorAgeMs and the last processing result of each shard, in order, under one lock (the
  // heartbeat asks for every lease).
  std::vector<ShardProgress> Progress(const std::vector<const ShardContext*>& shards);

  // Every shard's metrics (only `mapping_uuid`'s when non-empty), sorted by mapping and shard.
  v1::GetMetricsResponse Snapshot(const std::string& mapping_uuid = "");
  // The same as Prometheus text exposition.
  std::string RenderPrometheus();

 private:
  struct Entry {
    Entry();
    std::string stream_name;
    absl::Time last_arrival = absl::InfinitePast();
    bool in_batch = false;
    int64_t frozen_age_ms = 0;
    ProcessingResult result = ProcessingResult::kNone;
    absl::Time result_time = absl::InfinitePast();
    int64_t invocations = 0;
    int64_t function_errors = 0;
    int64_t retries = 0;
    int64_t bisections = 0;
    std::map<std::string, int64_t> dropped;
    int64_t delivered = 0;
    int64_t filtered = 0;
    int64_t windows_closed = 0;
    int64_t windows_failed = 0;
    Histogram batch_size;
    Histogram latency_ms;
    std::string checkpoint;
  };
  using Key = std::tuple<std::string, std::string>;  // mapping uuid, shard id

  Entry& EntryFor(const ShardContext& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t AgeMs(const Entry& e, absl::Time now) const;

  const std::string poller_id_;
  Clock& clock_;
  absl::Mutex mu_;
  std::map<Key, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_METRICS_H_
