#include "poller/processing/batch_processor.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "mapping/mapping_config.h"

namespace tributary::poller {
namespace {

// Each record's dwell: its arrival to `now`, when its successful invocation ended.
void ObserveDwell(PollerMetrics& metrics, const ShardContext& shard, absl::Time now,
                  const std::vector<v1::Record>& records) {
  for (const v1::Record& r : records) metrics.Dwelled(shard, now - ArrivalTime(r));
}

// A failed call's processing result (metrics.h has the whole mapping).
ProcessingResult ResultOfFailedCall(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kDeadlineExceeded:
      return ProcessingResult::kFunctionTimedOut;
    case absl::StatusCode::kUnavailable:
      return ProcessingResult::kConnectionError;
    default:
      return ProcessingResult::kFunctionCallFailed;
  }
}

// A failed call's error kind (metrics.h).
ErrorKind ErrorOfFailedCall(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kDeadlineExceeded:
      return ErrorKind::kTimeout;
    case absl::StatusCode::kUnavailable:
      return ErrorKind::kConnectionError;
    default:
      return ErrorKind::kCallFailed;
  }
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t ns = absl::ToUnixNanos(t);
  int64_t seconds = ns / 1000000000;
  int64_t nanos = ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(nanos));
}

void SetWindow(const WindowContext& window, v1::InvokeRequest* request) {
  SetTimestamp(window.start, request->mutable_window()->mutable_start());
  SetTimestamp(window.end, request->mutable_window()->mutable_end());
}

// All of `records` (non-empty) have one partition key.
bool OneKey(const std::vector<v1::Record>& records) {
  for (const v1::Record& r : records) {
    if (r.partition_key() != records.front().partition_key()) return false;
  }
  return !records.empty();
}

}  // namespace

int64_t WindowStateBytes(const v1::TumblingWindowState& state) {
  int64_t bytes = 0;
  for (const auto& [key, value] : state.values()) {
    bytes += static_cast<int64_t>(key.size() + value.size());
  }
  return bytes;
}

struct BatchProcessor::Call {
  const ShardContext& shard;
  const ConfigSource& config;
  StopSignal& stop;
  const DoneCallback& on_done;
  WindowContext* window;  // null without tumbling windows
  KeyParking* parking;    // null: no per-key isolation
};

// The outcome of one invoke.
struct BatchProcessor::Attempt {
  enum Kind { kSuccess, kPartial, kError } kind = kError;
  size_t first_failed = 0;  // with kPartial: index of the lowest reported record
  InvokeResponseContext response;  // Lambda's responseContext of the call (failure_record.h)
  std::string function_error;      // what went wrong, for the metrics
  absl::Duration duration;         // of the invoke (the clock's monotonic time)
};

BatchProcessor::BatchProcessor(Clock& clock, Waiter& waiter, FunctionInvoker& invoker,
                               FailureDestination& destination, PollerMetrics& metrics,
                               BackoffOptions backoff, uint64_t seed, InvocationSlotClient* slots)
    : clock_(clock),
      waiter_(waiter),
      invoker_(invoker),
      destination_(destination),
      metrics_(metrics),
      slots_(slots),
      backoff_(backoff, seed),
      rng_(seed ^ 0x9e3779b97f4a7c15ull) {}

absl::Status BatchProcessor::Process(const ShardContext& shard, const ConfigSource& config,
                                     std::vector<v1::Record> records, StopSignal& stop,
                                     const DoneCallback& on_done, WindowContext* window,
                                     KeyParking* parking) {
  if (records.empty()) return absl::OkStatus();
  metrics_.BatchStarted(shard, ArrivalTime(records.back()));
  const Call call{shard, config, stop, on_done, window, window == nullptr ? parking : nullptr};
  absl::Status status = ProcessSegment(call, std::move(records));
  metrics_.BatchFinished(shard);
  return status;
}

absl::Status BatchProcessor::ProcessSegment(const Call& call, std::vector<v1::Record> records) {
  int64_t retries = 0;       // retries of this segment so far
  int64_t invoke_count = 0;  // invokes of this segment so far
  int64_t throttles = 0;     // throttled attempts in a row (for the backoff only)
  Attempt last;
  while (true) {
    if (call.stop.stopped()) return absl::CancelledError("lane stopped");
    // Read again for every attempt: an update reaches a failing batch (see the header).
    const std::shared_ptr<const v1::EventSourceMappingConfiguration> current = call.config();
    const v1::EventSourceMappingConfiguration& config = *current;
    if (call.parking != nullptr) {
      // P1: a key parked meanwhile (by an earlier segment) goes no further in this batch.
      call.parking->Divert(records);
      if (records.empty()) return absl::OkStatus();
    }
    if (config.maximum_record_age_in_seconds() > 0) {
      const absl::Time oldest_allowed =
          clock_.Now() - absl::Seconds(config.maximum_record_age_in_seconds());
      std::vector<v1::Record> expired, fresh;
      for (v1::Record& r : records) {
        (ArrivalTime(r) < oldest_allowed ? expired : fresh).push_back(std::move(r));
      }
      records = std::move(fresh);
      if (!expired.empty()) {
        RETURN_IF_ERROR(Report(call, config, expired, kRecordAgeExceeded, invoke_count, last));
        call.on_done(expired);
      }
      if (records.empty()) return absl::OkStatus();
    }

    const bool limited = slots_ != nullptr && NeedsInvocationSlot(config);
    if (limited) {
      absl::StatusOr<bool> taken = slots_->TryAcquire(
          config.function_name(), config.function_reserved_concurrent_executions());
      if (!taken.ok() || !*taken) {
        // Not a retry: no retry is counted, and the attempt starts over after the wait.
        metrics_.FunctionThrottled(config.function_name());
        const absl::Duration delay = backoff_.Delay(throttles++);
        if (!waiter_.WaitUntil(clock_.MonotonicNow() + delay, call.stop)) {
          return absl::CancelledError("lane stopped while throttled");
        }
        continue;
      }
      throttles = 0;
      metrics_.FunctionInvocationStarted(config.function_name());
    }
    last = Invoke(call, config, records);
    if (limited) {
      metrics_.FunctionInvocationFinished(config.function_name());
      slots_->Release(config.function_name());
    }
    ++invoke_count;
    if (last.kind == Attempt::kSuccess) {
      RETURN_IF_ERROR(ReportSuccess(call, config, records, invoke_count, last));
      metrics_.Delivered(call.shard, records.size());
      ObserveDwell(metrics_, call.shard, clock_.Now(), records);
      call.on_done(records);
      return TerminateWindowIfTooLarge(call);
    }
    if (last.kind == Attempt::kPartial && last.first_failed == 0) {
      // Nothing succeeded (handled as a full failure below), but the reply's state was adopted.
      RETURN_IF_ERROR(TerminateWindowIfTooLarge(call));
    }
    if (last.kind == Attempt::kPartial && last.first_failed > 0) {
      std::vector<v1::Record> succeeded(
          std::make_move_iterator(records.begin()),
          std::make_move_iterator(records.begin() + last.first_failed));
      records.erase(records.begin(), records.begin() + last.first_failed);
      RETURN_IF_ERROR(ReportSuccess(call, config, succeeded, invoke_count, last));
      metrics_.Delivered(call.shard, succeeded.size());
      ObserveDwell(metrics_, call.shard, clock_.Now(), succeeded);
      call.on_done(succeeded);
      RETURN_IF_ERROR(TerminateWindowIfTooLarge(call));
      if (config.bisect_batch_on_function_error()) {
        // Split at the reported record: the remainder starts over as its own batch.
        metrics_.Bisected(call.shard);
        retries = 0;
        invoke_count = 0;
        continue;
      }
    } else if (config.bisect_batch_on_function_error() && records.size() > 1) {
      metrics_.Bisected(call.shard);
      const size_t half = records.size() / 2;
      std::vector<v1::Record> second(std::make_move_iterator(records.begin() + half),
                                     std::make_move_iterator(records.end()));
      records.resize(half);
      RETURN_IF_ERROR(ProcessSegment(call, std::move(records)));
      return ProcessSegment(call, std::move(second));
    }
    if (config.maximum_retry_attempts() >= 0 && retries >= config.maximum_retry_attempts()) {
      RETURN_IF_ERROR(Report(call, config, records, kRetryAttemptsExhausted, invoke_count, last));
      call.on_done(records);
      return absl::OkStatus();
    }
    const absl::Duration delay = backoff_.Delay(retries);
    ++retries;
    metrics_.Retried(call.shard);
    if (call.parking != nullptr && config.isolate_failing_keys() && OneKey(records)) {
      // P2: the retry waits parked, out of the lane.
      ParkedAttempts attempts;
      attempts.retries = retries;
      attempts.invoke_count = invoke_count;
      attempts.last_response = last.response;
      if (call.parking->Park(records, attempts, delay)) return absl::OkStatus();
    }
    if (!waiter_.WaitUntil(clock_.MonotonicNow() + delay, call.stop)) {
      return absl::CancelledError("lane stopped during backoff");
    }
  }
}

absl::StatusOr<std::optional<absl::Duration>> BatchProcessor::RetryParked(
    const ShardContext& shard, const ConfigSource& config_source, std::vector<v1::Record>& records,
    ParkedAttempts& attempts, StopSignal& stop, const DoneCallback& on_done) {
  const Call call{shard, config_source, stop, on_done, nullptr, nullptr};
  if (stop.stopped()) return absl::CancelledError("lane stopped");
  const std::shared_ptr<const v1::EventSourceMappingConfiguration> current = config_source();
  const v1::EventSourceMappingConfiguration& config = *current;
  Attempt last;
  last.response = attempts.last_response;
  if (config.maximum_record_age_in_seconds() > 0) {
    const absl::Time oldest_allowed =
        clock_.Now() - absl::Seconds(config.maximum_record_age_in_seconds());
    std::vector<v1::Record> expired, fresh;
    for (v1::Record& r : records) {
      (ArrivalTime(r) < oldest_allowed ? expired : fresh).push_back(std::move(r));
    }
    records = std::move(fresh);
    if (!expired.empty()) {
      absl::Status reported =
          Report(call, config, expired, kRecordAgeExceeded, attempts.invoke_count, last);
      if (!reported.ok()) {
        // Not done: back in front of the others, in order.
        expired.insert(expired.end(), std::make_move_iterator(records.begin()),
                       std::make_move_iterator(records.end()));
        records = std::move(expired);
        return reported;
      }
      on_done(expired);
    }
    if (records.empty()) return std::optional<absl::Duration>();
  }
  const bool limited = slots_ != nullptr && NeedsInvocationSlot(config);
  if (limited) {
    absl::StatusOr<bool> taken = slots_->TryAcquire(
        config.function_name(), config.function_reserved_concurrent_executions());
    if (!taken.ok() || !*taken) {
      metrics_.FunctionThrottled(config.function_name());  // not a retry: try again later
      return std::optional<absl::Duration>(backoff_.Delay(0));
    }
    metrics_.FunctionInvocationStarted(config.function_name());
  }
  metrics_.BatchStarted(shard, ArrivalTime(records.back()));
  last = Invoke(call, config, records);
  metrics_.BatchFinished(shard);
  if (limited) {
    metrics_.FunctionInvocationFinished(config.function_name());
    slots_->Release(config.function_name());
  }
  ++attempts.invoke_count;
  attempts.last_response = last.response;
  if (last.kind == Attempt::kSuccess) {
    RETURN_IF_ERROR(ReportSuccess(call, config, records, attempts.invoke_count, last));
    metrics_.Delivered(shard, records.size());
    on_done(records);
    records.clear();
    return std::optional<absl::Duration>();
  }
  if (last.kind == Attempt::kPartial && last.first_failed > 0) {
    const std::vector<v1::Record> succeeded(records.begin(),
                                            records.begin() + last.first_failed);
    // Not done until reported: on an error they stay in `records`.
    RETURN_IF_ERROR(ReportSuccess(call, config, succeeded, attempts.invoke_count, last));
    records.erase(records.begin(), records.begin() + last.first_failed);
    metrics_.Delivered(shard, succeeded.size());
    on_done(succeeded);
  }
  if (config.maximum_retry_attempts() >= 0 &&
      attempts.retries >= config.maximum_retry_attempts()) {
    RETURN_IF_ERROR(
        Report(call, config, records, kRetryAttemptsExhausted, attempts.invoke_count, last));
    on_done(records);
    records.clear();
    return std::optional<absl::Duration>();
  }
  const absl::Duration delay = backoff_.Delay(attempts.retries);
  ++attempts.retries;
  metrics_.Retried(shard);
  return std::optional<absl::Duration>(delay);
}

BatchProcessor::Attempt BatchProcessor::Invoke(const Call& call,
                                               const v1::EventSourceMappingConfiguration& config,
                                               std::vector<v1::Record>& records) {
  v1::InvokeRequest request;
  request.set_event_source_mapping_uuid(call.shard.mapping_uuid);
  request.set_stream_name(call.shard.stream_name);
  request.set_shard_id(call.shard.shard_id);
  // The records are moved into the request (a swap per record, no copy) and back after the call.
  request.mutable_records()->Reserve(static_cast<int>(records.size()));
  for (v1::Record& r : records) *request.add_records() = std::move(r);
  if (call.window != nullptr) {
    SetWindow(*call.window, &request);
    request.mutable_state()->Swap(&call.window->state);  // and back after the call
  }
  const int timeout_s = mapping::EffectiveFunctionTimeoutSeconds(config);

  const MonotonicTime start = clock_.MonotonicNow();
  absl::StatusOr<v1::InvokeResponse> reply =
      invoker_.Invoke(config.function_endpoint(), request, absl::Seconds(timeout_s));
  const absl::Duration duration = clock_.MonotonicNow() - start;
  metrics_.Invoked(call.shard, records.size(), duration);
  for (size_t i = 0; i < records.size(); ++i) {
    records[i] = std::move(*request.mutable_records(static_cast<int>(i)));
  }
  if (call.window != nullptr) request.mutable_state()->Swap(&call.window->state);

  Attempt attempt;
  attempt.duration = duration;
  if (!reply.ok()) {
    attempt.response = ResponseContextOfFailedCall(reply.status());
    attempt.function_error = absl::StrCat(absl::StatusCodeToString(reply.status().code()), ": ",
                                          reply.status().message());
    metrics_.FunctionError(call.shard);
    metrics_.Processed(call.shard, ResultOfFailedCall(reply.status()));
    metrics_.InvocationFailed(call.shard, ErrorOfFailedCall(reply.status()),
                              attempt.function_error);
    return attempt;
  }
  if (!reply->function_error().empty()) {
    attempt.response = ResponseContextOfFunctionError(reply->function_error());
    attempt.function_error = reply->function_error();
    metrics_.FunctionError(call.shard);
    metrics_.Processed(call.shard, ProcessingResult::kFunctionCallFailed);
    metrics_.InvocationFailed(call.shard, ErrorKind::kFunctionError, attempt.function_error);
    return attempt;
  }
  if (call.window != nullptr && !reply->has_state()) {
    attempt.function_error = "the function returned no tumbling window state";
    metrics_.FunctionError(call.shard);
    metrics_.Processed(call.shard, ProcessingResult::kFunctionCallFailed);
    metrics_.InvocationFailed(call.shard, ErrorKind::kMissingWindowState, attempt.function_error);
    return attempt;
  }
  const bool report_failures =
      std::find(config.function_response_types().begin(), config.function_response_types().end(),
                v1::REPORT_BATCH_ITEM_FAILURES) != config.function_response_types().end();
  if (!report_failures || reply->batch_item_failures().empty()) {
    if (call.window != nullptr) call.window->state = std::move(*reply->mutable_state());
    attempt.kind = Attempt::kSuccess;
    metrics_.Processed(call.shard, ProcessingResult::kOk);
    return attempt;
  }
  absl::flat_hash_map<std::string, size_t> index;
  for (size_t i = 0; i < records.size(); ++i) index[records[i].sequence_number()] = i;
  size_t lowest = records.size();
  for (const v1::BatchItemFailure& f : reply->batch_item_failures()) {
    auto it = index.find(f.item_identifier());
    if (f.item_identifier().empty() || it == index.end()) {
      attempt.function_error =
          absl::StrCat("invalid batch item failure identifier \"", f.item_identifier(), "\"");
      metrics_.FunctionError(call.shard);
      metrics_.Processed(call.shard, ProcessingResult::kFunctionCallFailed);
      metrics_.InvocationFailed(call.shard, ErrorKind::kInvalidBatchItemFailures,
                                attempt.function_error);
      return attempt;
    }
    lowest = std::min(lowest, it->second);
  }
  if (call.window != nullptr) call.window->state = std::move(*reply->mutable_state());
  attempt.kind = Attempt::kPartial;
  metrics_.Processed(call.shard, ProcessingResult::kBatchItemFailures);
  metrics_.InvocationFailed(
      call.shard, ErrorKind::kBatchItemFailures,
      absl::StrCat(reply->batch_item_failures_size(), " of ", records.size(),
                   " records reported as failed, the first at sequence number ",
                   records[lowest].sequence_number()));
  attempt.first_failed = lowest;
  return attempt;
}

FailureInfo BatchProcessor::NewFailureInfo(const v1::EventSourceMappingConfiguration& config,
                                           const ShardContext& shard, const std::string& condition,
                                           int64_t invoke_count, const Attempt& last) {
  FailureInfo info;
  info.request_id = NewRequestId();
  info.function_arn = config.function_arn();
  info.function_endpoint = config.function_endpoint();
  info.condition = condition;
  info.approximate_invoke_count = invoke_count;
  if (invoke_count > 0) info.response = last.response;
  info.timestamp = clock_.Now();
  info.shard_id = shard.shard_id;
  info.stream_arn = config.event_source_arn();
  info.stream_name = shard.stream_name;
  return info;
}

absl::Status BatchProcessor::PutDestinationRecord(const ConfigSource& config,
                                                  const ShardContext& shard, StopSignal& stop,
                                                  const std::string& data, DestinationKind kind) {
  for (int64_t attempt = 0;; ++attempt) {
    if (stop.stopped()) return absl::CancelledError("lane stopped");
    // Read again for every put: an operator may fix a wrong destination meanwhile.
    const std::shared_ptr<const v1::EventSourceMappingConfiguration> current = config();
    const std::string destination =
        kind == DestinationKind::kOnFailure
            ? current->destination_config().on_failure().destination()
            : current->destination_config().on_success().destination();
    if (destination.empty()) return absl::OkStatus();  // removed meanwhile: only counted
    const absl::Status put = destination_.Put(destination, shard.shard_id, data);
    if (put.ok()) {
      metrics_.DestinationPutSucceeded(shard, destination);
      return absl::OkStatus();
    }
    // The lane waits here until the put succeeds: the metrics say why (and log it once).
    metrics_.DestinationPutFailed(shard, destination, put);
    if (!waiter_.WaitUntil(clock_.MonotonicNow() + backoff_.Delay(attempt), stop)) {
      return absl::CancelledError("lane stopped while reporting to the destination");
    }
  }
}

absl::Status BatchProcessor::Report(const Call& call,
                                    const v1::EventSourceMappingConfiguration& config,
                                    const std::vector<v1::Record>& records,
                                    const std::string& condition, int64_t invoke_count,
                                    const Attempt& last) {
  if (!config.destination_config().on_failure().destination().empty()) {
    const FailureInfo info = NewFailureInfo(config, call.shard, condition, invoke_count, last);
    // With include_records, possibly several parts (failure_record.h), put in order.
    for (const std::string& part : FailureRecordParts(
             info, records, config.destination_config().on_failure().include_records())) {
      RETURN_IF_ERROR(PutDestinationRecord(call.config, call.shard, call.stop, part,
                                           DestinationKind::kOnFailure));
    }
  }
  metrics_.Dropped(call.shard, condition, records.size(),
                   config.destination_config().on_failure().destination());
  return absl::OkStatus();
}

absl::Status BatchProcessor::ReportSuccess(const Call& call,
                                           const v1::EventSourceMappingConfiguration& config,
                                           const std::vector<v1::Record>& records,
                                           int64_t invoke_count, const Attempt& last) {
  if (config.destination_config().on_success().destination().empty() || records.empty()) {
    return absl::OkStatus();
  }
  FailureInfo info = NewFailureInfo(config, call.shard, kSuccess, invoke_count, last);
  info.response = InvokeResponseContext{200, ""};
  info.mapping_uuid = call.shard.mapping_uuid;
  info.invoke_duration = last.duration;
  return PutDestinationRecord(call.config, call.shard, call.stop,
                              FailureRecordJson(info, records), DestinationKind::kOnSuccess);
}

absl::Status BatchProcessor::TerminateWindowIfTooLarge(const Call& call) {
  if (call.window == nullptr || WindowStateBytes(call.window->state) <= kMaxWindowStateBytes) {
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(FinishWindow(call.shard, call.config, *call.window,
                               /*terminated_early=*/true, call.stop));
  if (call.window->on_terminated_early) call.window->on_terminated_early();
  call.window->state.Clear();
  return absl::OkStatus();
}

absl::Status BatchProcessor::FinishWindow(const ShardContext& shard, const ConfigSource& source,
                                          const WindowContext& window, bool terminated_early,
                                          StopSignal& stop) {
  v1::InvokeRequest request;
  request.set_event_source_mapping_uuid(shard.mapping_uuid);
  request.set_stream_name(shard.stream_name);
  request.set_shard_id(shard.shard_id);
  SetWindow(window, &request);
  *request.mutable_state() = window.state;
  request.set_is_final_invoke_for_window(true);
  request.set_is_window_terminated_early(terminated_early);

  // The iterator age grows while a final invocation is retried, as while a batch is: the lane
  // goes no further until it ends.
  metrics_.BatchStarted(shard, ArrivalTime(window.last_record));
  struct FinishOnReturn {
    PollerMetrics& metrics;
    const ShardContext& shard;
    ~FinishOnReturn() { metrics.BatchFinished(shard); }
  } finish{metrics_, shard};
  int64_t invoke_count = 0;
  Attempt last;
  for (int64_t retries = 0;; ++retries) {
    if (stop.stopped()) return absl::CancelledError("lane stopped");
    // Read again for every attempt, as ProcessSegment does.
    const std::shared_ptr<const v1::EventSourceMappingConfiguration> current = source();
    const v1::EventSourceMappingConfiguration& config = *current;
    const int timeout_s = mapping::EffectiveFunctionTimeoutSeconds(config);
    const MonotonicTime start = clock_.MonotonicNow();
    absl::StatusOr<v1::InvokeResponse> reply =
        invoker_.Invoke(config.function_endpoint(), request, absl::Seconds(timeout_s));
    metrics_.FinalInvoked(shard, clock_.MonotonicNow() - start);
    ++invoke_count;
    if (reply.ok() && reply->function_error().empty()) {
      metrics_.Processed(shard, ProcessingResult::kOk);
      metrics_.WindowClosed(shard);
      return absl::OkStatus();
    }
    metrics_.FunctionError(shard);
    if (reply.ok()) {
      last.response = ResponseContextOfFunctionError(reply->function_error());
      last.function_error = reply->function_error();
      metrics_.Processed(shard, ProcessingResult::kFunctionCallFailed);
      metrics_.InvocationFailed(shard, ErrorKind::kFunctionError, last.function_error);
    } else {
      last.response = ResponseContextOfFailedCall(reply.status());
      last.function_error = absl::StrCat(absl::StatusCodeToString(reply.status().code()), ": ",
                                         reply.status().message());
      metrics_.Processed(shard, ResultOfFailedCall(reply.status()));
      metrics_.InvocationFailed(shard, ErrorOfFailedCall(reply.status()), last.function_error);
    }

    // Give up when the retries are spent or the window's last record is too old to retry for.
    const char* give_up = nullptr;
    if (config.maximum_retry_attempts() >= 0 && retries >= config.maximum_retry_attempts()) {
      give_up = kRetryAttemptsExhausted;
    } else if (config.maximum_record_age_in_seconds() > 0 &&
               ArrivalTime(window.last_record) <
                   clock_.Now() - absl::Seconds(config.maximum_record_age_in_seconds())) {
      give_up = kRecordAgeExceeded;
    }
    if (give_up != nullptr) {
      if (!config.destination_config().on_failure().destination().empty()) {
        FailureInfo info = NewFailureInfo(config, shard, give_up, invoke_count, last);
        info.window = std::make_pair(window.start, window.end);
        RETURN_IF_ERROR(PutDestinationRecord(
            source, shard, stop,
            FailureRecordJson(info, window.first_record, window.last_record, window.record_count),
            DestinationKind::kOnFailure));
      }
      metrics_.WindowFailed(shard);
      return absl::OkStatus();
    }
    metrics_.Retried(shard);
    if (!waiter_.WaitUntil(clock_.MonotonicNow() + backoff_.Delay(retries), stop)) {
      return absl::CancelledError("lane stopped during backoff");
    }
  }
}

std::string BatchProcessor::NewRequestId() {
  const uint64_t a = rng_(), b = rng_();
  return absl::StrFormat("%08x-%04x-4%03x-%04x-%012x", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                         (b >> 48 & 0x3fff) | 0x8000, b & 0xffffffffffffull);
}

}  // namespace tributary::poller
