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
// Last error: the last error seen on the shard (ErrorKind, a message cut to 256 bytes, the clock
// time), reported the same way; it stays after later successes (the result says whether the
// shard fails now).
//
// Logging (glog; the poller's one place for what happens to a shard): one line per change of
// outcome per shard, never one per event, so a function failing for an hour is one line:
//   - invocations: the first failure of each kind after a success (or after another kind), and
//     "invocations succeed again" at the next success;
//   - records skipped after reporting (RetryAttemptsExhausted, RecordAgeExceeded): the first
//     skip of each condition since the last success;
//   - the on-failure destination: its first failed put, and its next successful one;
//   - filter criteria that do not compile, and criteria that compile again;
//   - reads of the shard that fail (each different error once) and the next successful one;
//   - checkpoints leasing did not take for a transient reason (retried), and the next one it did.
// A shard's state starts afresh when it is removed (its lease went away).
//
// Thread-safe. The clock must outlive this object.
#ifndef TRIBUTARY_POLLER_RUNTIME_METRICS_H_
#define TRIBUTARY_POLLER_RUNTIME_METRICS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "poller/runtime/shard_context.h"
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

// What went wrong, as the last error's kind (its name is what leasing, the mapping, the metrics
// and tribctl show). From BatchProcessor's invocations:
//   - kFunctionError "FunctionError": a reply with function_error (message: that text);
//   - kTimeout "Timeout": the call failed with DEADLINE_EXCEEDED (the function timeout passed);
//   - kConnectionError "ConnectionError": the call failed with UNAVAILABLE;
//   - kCallFailed "CallFailed": the call failed with any other status;
//     (for the three failed calls the message is "<CODE>: <status message>")
//   - kInvalidBatchItemFailures "InvalidBatchItemFailures": an item identifier that is empty or
//     not in the batch (the whole attempt failed);
//   - kBatchItemFailures "BatchItemFailures": a valid partial batch response (message: how many
//     records were reported and the first one's sequence number);
//   - kMissingWindowState "MissingWindowState": tumbling windows, a reply without state;
// from reporting: kDestinationError "DestinationError", a put to the on-failure destination
// failed (it is retried: the lane waits); from the configuration: kInvalidFilterCriteria
// "InvalidFilterCriteria", the filter criteria do not compile (the shard is held).
enum class ErrorKind : uint8_t {
  kNone,
  kFunctionError,
  kTimeout,
  kConnectionError,
  kCallFailed,
  kInvalidBatchItemFailures,
  kBatchItemFailures,
  kMissingWindowState,
  kDestinationError,
  kInvalidFilterCriteria,
};
// "" for kNone, else the name above.
const char* ErrorKindName(ErrorKind kind);

// The longest error message kept (bytes); leasing refuses longer ones.
inline constexpr size_t kMaxErrorMessageBytes = 256;
// `text` cut to at most `max_bytes` bytes without splitting a UTF-8 sequence; bytes that are not
// part of a valid UTF-8 sequence become '?' (the message travels in proto3 strings).
std::string TruncateUtf8(absl::string_view text, size_t max_bytes);

// The last error seen on a shard.
struct LastError {
  ErrorKind kind = ErrorKind::kNone;       // kNone: none yet
  std::string message;                     // at most kMaxErrorMessageBytes
  absl::Time time = absl::InfinitePast();  // when it was seen (clock time)
};

// What the heartbeat reports about one shard.
struct ShardProgress {
  int64_t iterator_age_ms = 0;                        // as IteratorAgeMs
  ProcessingResult result = ProcessingResult::kNone;  // of the last invocation
  absl::Time result_time = absl::InfinitePast();      // when it was observed (clock time)
  LastError error;                                    // the last error
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
// Series per shard only for what needs the shard (the iterator age, the last error's time);
// counters and histograms per mapping (snapshot.mappings()), as cardinality asks.
std::string RenderPrometheusText(const v1::GetMetricsResponse& snapshot);

// Adds a shard's (or a mapping's) counters and histograms to `totals` (histograms of different
// bounds are not added: the first one's bounds win; PollerMetrics never makes such).
void AddToMappingTotals(const v1::ShardMetrics& shard, v1::MappingMetrics* totals);

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
  // An invocation that just returned went wrong (`kind` is one of the invocation kinds): the
  // last error, now; logged once per change (see the file comment). `message` is cut to
  // kMaxErrorMessageBytes.
  void InvocationFailed(const ShardContext& shard, ErrorKind kind, absl::string_view message);
  // A put of a failure record to the on-failure destination `destination` failed (the last
  // error, kDestinationError) / succeeded; logged once per change.
  void DestinationPutFailed(const ShardContext& shard, const std::string& destination,
                            const absl::Status& status);
  void DestinationPutSucceeded(const ShardContext& shard, const std::string& destination);
  // The configuration's filter criteria do not compile (the last error, kInvalidFilterCriteria)
  // / compile (or are none); logged once per change.
  void FilterCriteriaInvalid(const ShardContext& shard, const absl::Status& status);
  void FilterCriteriaValid(const ShardContext& shard);
  // A read of the shard failed (the reader pauses and reads again) / succeeded; logged once per
  // change. Not a last error: it is not about processing.
  void ReadFailed(const ShardContext& shard, const absl::Status& status);
  void ReadSucceeded(const ShardContext& shard);
  // Reads of the shard are throttled (the reader backs off) and the reader is known to be past
  // the records that arrived by `known_position` (InfinitePast: not known): until the next
  // ReadSucceeded the iterator age is at least now minus that time, so it grows while the shard
  // cannot be read (issue 22). Call with ReadFailed.
  void ReadThrottled(const ShardContext& shard, absl::Time known_position);
  // A checkpoint write failed for a transient reason (retried after a pause); logged once per
  // change, and Checkpointed logs the recovery.
  void CheckpointFailed(const ShardContext& shard, const absl::Status& status);
  void Retried(const ShardContext& shard);
  void Bisected(const ShardContext& shard);
  // Records skipped after being reported under `condition`, to the on-failure destination
  // `destination` ("" without one: only counted); logged once per change (see above).
  void Dropped(const ShardContext& shard, const std::string& condition, int64_t records,
               const std::string& destination = "");
  void Delivered(const ShardContext& shard, int64_t records);
  // One record delivered successfully `dwell` after its arrival (dwell_ms; Prometheus
  // tributary_poller_dwell_seconds, per mapping).
  void Dwelled(const ShardContext& shard, absl::Duration dwell);
  // Records that matched none of the mapping's filters (skipped without an invocation).
  void Filtered(const ShardContext& shard, int64_t records);
  void Checkpointed(const ShardContext& shard, const std::string& checkpoint);
  // Per-key isolation: the shard's parked keys and records now, the arrival of the oldest parked
  // record (its age is measured at each snapshot), and whether the limit refused a key.
  void ParkedKeys(const ShardContext& shard, int64_t keys, int64_t records,
                  std::optional<absl::Time> oldest_arrival, bool limit_reached);
  // Forgets a shard (its lease went away).
  void Remove(const ShardContext& shard);
  // Reserved concurrency, per function: an invocation of a limited function started / finished
  // (tributary_poller_function_concurrent_executions, this poller's), and an attempt throttled
  // for want of a slot (tributary_poller_function_throttles_total).
  void FunctionInvocationStarted(const std::string& function_name);
  void FunctionInvocationFinished(const std::string& function_name);
  void FunctionThrottled(const std::string& function_name);
  int64_t FunctionConcurrentExecutions(const std::string& function_name);
  int64_t FunctionThrottles(const std::string& function_name);

  // The current iterator age of a shard in ms: while a batch runs, now minus the arrival of its
  // last record; after it, the age it ended with; 0 once caught up, and 0 when unknown; and
  // while reads are throttled, at least now minus the known position (ReadThrottled).
  int64_t IteratorAgeMs(const ShardContext& shard);
  // The last processing result of a shard (kNone when unknown).
  ProcessingResult LastProcessingResult(const ShardContext& shard);
  // The last error of a shard (kind kNone when none or unknown).
  LastError LastErrorOf(const ShardContext& shard);
  // IteratorAgeMs and the last processing result of each shard, in order, under one lock (the
  // heartbeat asks for every lease).
  std::vector<ShardProgress> Progress(const std::vector<const ShardContext*>& shards);

  // Every shard's metrics (only `mapping_uuid`'s when non-empty), sorted by mapping and shard;
  // each mapping's totals (MappingMetrics: shards held now and before, so they never go down);
  // and every function's with reserved concurrency (all of them, whatever the filter), by name.
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
    LastError error;
    // What was logged last (the file comment): the failing invocation kind (kNone: succeeding),
    // the skip condition since the last success ("": none), whether the destination's puts and
    // the filter criteria were failing.
    ErrorKind logged_invocation = ErrorKind::kNone;
    std::string logged_drop;
    bool logged_destination_failing = false;
    bool logged_filter_invalid = false;
    absl::Status logged_read_error;        // OK: reads succeed
    // Set while reads are throttled: the arrival time the reader is known to be past.
    std::optional<absl::Time> throttled_position;
    absl::Status logged_checkpoint_error;  // OK: checkpoints succeed
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
    Histogram dwell_ms;
    std::string checkpoint;
    int64_t parked_keys = 0;
    int64_t parked_records = 0;
    std::optional<absl::Time> oldest_parked_arrival;
    bool parked_limit_reached = false;
  };
  using Key = std::tuple<std::string, std::string>;  // mapping uuid, shard id

  Entry& EntryFor(const ShardContext& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `e` (the entry of `key`) as a ShardMetrics at `now`.
  void FillShardMetrics(const Key& key, const Entry& e, absl::Time now, v1::ShardMetrics* m) const;
  // Sets `e`'s last error to (kind, message cut to size) at `now`.
  static void SetError(Entry& e, ErrorKind kind, absl::string_view message, absl::Time now);
  int64_t AgeMs(const Entry& e, absl::Time now) const;

  const std::string poller_id_;
  Clock& clock_;
  absl::Mutex mu_;
  std::map<Key, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // The totals of shards removed (their leases went away), per (mapping uuid, stream): kept so
  // that a mapping's totals never go down (Prometheus would read that as a counter reset).
  std::map<Key, v1::MappingMetrics> retired_ ABSL_GUARDED_BY(mu_);
  struct FunctionEntry {
    int64_t concurrent_executions = 0;
    int64_t throttles = 0;
  };
  std::map<std::string, FunctionEntry> functions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_RUNTIME_METRICS_H_
