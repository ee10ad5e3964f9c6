#include "poller/runtime/metrics.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/proto_util.h"
#include "glog/logging.h"

namespace tributary::poller {
namespace {

const std::vector<double>& BatchSizeBounds() {
  static const auto* bounds =
      new std::vector<double>{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};
  return *bounds;
}

const std::vector<double>& LatencyBounds() {
  static const auto* bounds = new std::vector<double>{
      1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000};
  return *bounds;
}

// Dwell: from milliseconds (a caught-up shard) to a day (a record stuck for a day).
const std::vector<double>& DwellBounds() {
  static const auto* bounds = new std::vector<double>{
      10,     50,     100,    250,     500,     1000,     2500,     5000,    10000,
      30000,  60000,  300000, 900000,  3600000, 21600000, 86400000};
  return *bounds;
}

// A label value escaped as the exposition format asks: \\, \" and \n.
std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatDouble(double v) {
  if (v == std::numeric_limits<double>::infinity()) return "+Inf";
  return absl::StrFormat("%.15g", v);
}

// The length of the valid UTF-8 sequence starting at text[i], or 0 when it is not one.
size_t Utf8SequenceLength(absl::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // no overlong forms
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;  // at most U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// How a shard is named in the log.
std::string ShardName(const ShardContext& shard) {
  return absl::StrCat("mapping ", shard.mapping_uuid, " shard ", shard.shard_id);
}

}  // namespace

std::string TruncateUtf8(absl::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8SequenceLength(text, i);
    const size_t taken = length == 0 ? 1 : length;
    if (out.size() + taken > max_bytes) break;
    if (length == 0) {
      out.push_back('?');
    } else {
      out.append(text.data() + i, length);
    }
    i += taken;
  }
  return out;
}

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNone:
      return "";
    case ErrorKind::kFunctionError:
      return "FunctionError";
    case ErrorKind::kTimeout:
      return "Timeout";
    case ErrorKind::kConnectionError:
      return "ConnectionError";
    case ErrorKind::kCallFailed:
      return "CallFailed";
    case ErrorKind::kInvalidBatchItemFailures:
      return "InvalidBatchItemFailures";
    case ErrorKind::kBatchItemFailures:
      return "BatchItemFailures";
    case ErrorKind::kMissingWindowState:
      return "MissingWindowState";
    case ErrorKind::kDestinationError:
      return "DestinationError";
    case ErrorKind::kInvalidFilterCriteria:
      return "InvalidFilterCriteria";
  }
  return "";
}

const char* ProcessingResultText(ProcessingResult result) {
  switch (result) {
    case ProcessingResult::kNone:
      return "";
    case ProcessingResult::kOk:
      return "OK";
    case ProcessingResult::kFunctionCallFailed:
      return "PROBLEM: Function call failed";
    case ProcessingResult::kFunctionTimedOut:
      return "PROBLEM: Function timed out";
    case ProcessingResult::kConnectionError:
      return "PROBLEM: Connection error";
    case ProcessingResult::kBatchItemFailures:
      return "PROBLEM: Function reported batch item failures";
  }
  return "";
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  bounds_.push_back(std::numeric_limits<double>::infinity());
  counts_.assign(bounds_.size(), 0);
}

void Histogram::Observe(double value) {
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  ++counts_[std::min(i, counts_.size() - 1)];
  sum_ += value;
  ++count_;
}

void Histogram::ToProto(v1::Histogram* out) const {
  out->Clear();
  int64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out->add_bounds(bounds_[i]);
    out->add_counts(cumulative);
  }
  out->set_sum(sum_);
  out->set_count(count_);
}

PollerMetrics::Entry::Entry()
    : batch_size(BatchSizeBounds()), latency_ms(LatencyBounds()), dwell_ms(DwellBounds()) {}

PollerMetrics::PollerMetrics(std::string poller_id, Clock& clock)
    : poller_id_(std::move(poller_id)), clock_(clock) {}

PollerMetrics::Entry& PollerMetrics::EntryFor(const ShardContext& shard) {
  Entry& e = entries_[Key(shard.mapping_uuid, shard.shard_id)];
  e.stream_name = shard.stream_name;
  return e;
}

int64_t PollerMetrics::AgeMs(const Entry& e, absl::Time now) const {
  int64_t age = e.in_batch
                    ? std::max<int64_t>(0, absl::ToInt64Milliseconds(now - e.last_arrival))
                    : e.frozen_age_ms;
  if (e.throttled_position.has_value()) {
    age = std::max<int64_t>(age, absl::ToInt64Milliseconds(now - *e.throttled_position));
  }
  return age;
}

void PollerMetrics::BatchStarted(const ShardContext& shard, absl::Time last_record_arrival) {
  absl::MutexLock lock(&mu_);
  Entry& e = EntryFor(shard);
  e.last_arrival = last_record_arrival;
  e.in_batch = true;
}

void PollerMetrics::BatchFinished(const ShardContext& shard) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  Entry& e = EntryFor(shard);
  e.frozen_age_ms = AgeMs(e, now);
  e.in_batch = false;
}

void PollerMetrics::CaughtUp(const ShardContext& shard) {
  absl::MutexLock lock(&mu_);
  Entry& e = EntryFor(shard);
  if (!e.in_batch) e.frozen_age_ms = 0;
}

void PollerMetrics::ParkedKeys(const ShardContext& shard, int64_t keys, int64_t records,
                               std::optional<absl::Time> oldest_arrival, bool limit_reached) {
  absl::MutexLock lock(&mu_);
  Entry& e = EntryFor(shard);
  if (keys > 0 && e.parked_keys == 0) {
    LOG(WARNING) << ShardName(shard)
                 << ": a failing partition key is parked; the shard's other keys go on";
  } else if (keys == 0 && e.parked_keys > 0) {
    LOG(INFO) << ShardName(shard) << ": no partition key is parked";
  }
  if (limit_reached && !e.parked_limit_reached) {
    LOG(WARNING) << ShardName(shard)
                 << ": max_parked_keys reached; a failing key blocks its lane";
  }
  e.parked_keys = keys;
  e.parked_records = records;
  e.oldest_parked_arrival = oldest_arrival;
  e.parked_limit_reached = limit_reached;
}

void PollerMetrics::Invoked(const ShardContext& shard, int batch_size, absl::Duration latency) {
  absl::MutexLock lock(&mu_);
  Entry& e = EntryFor(shard);
  ++e.invocations;
  e.batch_size.Observe(batch_size);
  e.latency_ms.Observe(absl::ToDoubleMilliseconds(latency));
}

void PollerMetrics::FinalInvoked(const ShardContext& shard, absl::Duration latency) {
  absl::MutexLock lock(&mu_);
  Entry& e = EntryFor(shard);
  ++e.invocations;
  e.latency_ms.Observe(absl::ToDoubleMilliseconds(latency));
}

void PollerMetrics::WindowClosed(const ShardContext& shard) {
  absl::MutexLock lock(&mu_);
  ++EntryFor(shard).windows_closed;
}

void PollerMetrics::WindowFailed(const ShardContext& shard) {
  absl::MutexLock lock(&mu_);
  ++EntryFor(shard).windows_failed;
}

void PollerMetrics::FunctionError(const ShardContext& shard) {
  absl::MutexLock lock(&mu_);
  ++EntryFor(shard).function_errors;
}

void PollerMetrics::SetError(Entry& e, ErrorKind kind, absl::string_view message, absl::Time now) {
  e.error.kind = kind;
  e.error.message = TruncateUtf8(message, kMaxErrorMessageBytes);
  e.error.time = now;
}

void PollerMetrics::Processed(const ShardContext& shard, ProcessingResult result) {
  const absl::Time now = clock_.Now();
  bool recovered = false;
  {
    absl::MutexLock lock(&mu_);
    Entry& e = EntryFor(shard);
    e.result = result;
    e.result_time = now;
    if (result == ProcessingResult::kOk) {
      recovered = e.logged_invocation != ErrorKind::kNone;
      e.logged_invocation = ErrorKind::kNone;
      e.logged_drop.clear();
    }
  }
  // Logged outside the lock (glog takes its own).
  if (recovered) LOG(INFO) << ShardName(shard) << ": invocations succeed again";
}

void PollerMetrics::InvocationFailed(const ShardContext& shard, ErrorKind kind,
                                     absl::string_view message) {
  const absl::Time now = clock_.Now();
  bool log;
  {
    absl::MutexLock lock(&mu_);
    Entry& e = EntryFor(shard);
    SetError(e, kind, message, now);
    log = e.logged_invocation != kind;
    e.logged_invocation = kind;
  }
  if (log) {
    LOG(WARNING) << ShardName(shard) << ": invocation failed (" << ErrorKindName(kind)
                 << "): " << TruncateUtf8(message, kMaxErrorMessageBytes)
                 << " (logged again only when the outcome changes)";
  }
}

void PollerMetrics::DestinationPutFailed(const ShardContext& shard, const std::string& destination,
                                         const absl::Status& status) {
  const absl::Time now = clock_.Now();
  bool log;
  {
    absl::MutexLock lock(&mu_);
    Entry& e = EntryFor(shard);
    SetError(e, ErrorKind::kDestinationError,
             absl::StrCat("put to ", destination, ": ", status.ToString()), now);
    log = !e.logged_destination_failing;
    e.logged_destination_failing = true;
  }
  if (log) {
    LOG(WARNING) << ShardName(shard) << ": a record could not be put to the destination "
                 << destination << " (on-failure or on-success)" << ": " << status
                 << "; the lane retries the put and waits (logged again when a put succeeds)";
  }
}

void PollerMetrics::DestinationPutSucceeded(const ShardContext& shard,
                                            const std::string& destination) {
  bool log;
  {
    absl::MutexLock lock(&mu_);
    Entry& e = EntryFor(shard);
    log = e.logged_destination_failing;
    e.logged_destination_failing = false;
  }
  if (log) {
    LOG(INFO) << ShardName(shard) << ": puts to the destination " << destination
              << " succeed again";
  }
}

void PollerMetrics::FilterCriteriaInvalid(const ShardContext& shard, const absl::Status& status) {
  const absl::Time now = clock_.Now();
  bool log;
  {
    absl::MutexLock lock(&mu_);
    Entry& e = EntryFor(shard);
    SetError(e, ErrorKind::kInvalidFilterCriteria, status.message(), now);
    log = !e.logged_filter_invalid;
    e.logged_filter_invalid = true;
  }
  if (log) {
    LOG(ERROR) << ShardName(shard) << ": the mapping's filter criteria do not compile: " << status
               << "; the shard is held (nothing is delivered) until the mapping is updated";
  }
}

void PollerMetrics::FilterCriteriaValid(const ShardContext& shard) {
  bool log;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(Key(shard.mapping_uuid, shard.shard_id));
    if (it == entries_.end()) return;  // nothing to undo (and no entry for a healthy shard)
    log = it->second.logged_filter_invalid;
    it->second.logged_filter_invalid = false;
  }
  if (log) LOG(INFO) << ShardName(shard) << ": the filter criteria compile again";
}

void PollerMetrics::Retried(const ShardContext& shard) {
  absl::MutexLock lock(&mu_);
  ++EntryFor(shard).retries;
}

void PollerMetrics::Bisected(const ShardContext& shard) {
  absl::MutexLock lock(&mu_);
  ++EntryFor(shard).bisections;
}

void PollerMetrics::Dropped(const ShardContext& shard, const std::string& condition,
                            int64_t records, const std::string& destination) {
  bool log;
  {
    absl::MutexLock lock(&mu_);
    Entry& e = EntryFor(shard);
    e.dropped[condition] += records;
    log = e.logged_drop != condition;
    e.logged_drop = condition;
  }
  if (log) {
    LOG(WARNING) << ShardName(shard) << ": skipped " << records << " record(s) after " << condition
                 << ", "
                 << (destination.empty() ? std::string("no on-failure destination to report to")
                                         : absl::StrCat("reported to ", destination))
                 << " (logged again after a success or another condition)";
  }
}

void PollerMetrics::Delivered(const ShardContext& shard, int64_t records) {
  absl::MutexLock lock(&mu_);
  EntryFor(shard).delivered += records;
}

void PollerMetrics::Dwelled(const ShardContext& shard, absl::Duration dwell) {
  absl::MutexLock lock(&mu_);
  EntryFor(shard).dwell_ms.Observe(absl::ToDoubleMilliseconds(dwell));
}

void PollerMetrics::Filtered(const ShardContext& shard, int64_t records) {
  absl::MutexLock lock(&mu_);
  EntryFor(shard).filtered += records;
}

void PollerMetrics::Checkpointed(const ShardContext& shard, const std::string& checkpoint) {
  bool recovered;
  {
    absl::MutexLock lock(&mu_);
    Entry& e = EntryFor(shard);
    e.checkpoint = checkpoint;
    recovered = !e.logged_checkpoint_error.ok();
    e.logged_checkpoint_error = absl::OkStatus();
  }
  if (recovered) LOG(INFO) << ShardName(shard) << ": checkpoints succeed again";
}

void PollerMetrics::CheckpointFailed(const ShardContext& shard, const absl::Status& status) {
  bool log;
  {
    absl::MutexLock lock(&mu_);
    Entry& e = EntryFor(shard);
    log = e.logged_checkpoint_error != status;
    e.logged_checkpoint_error = status;
  }
  if (log) {
    LOG(WARNING) << ShardName(shard) << ": a checkpoint failed: " << status
                 << "; retried after a pause (logged again only when the outcome changes)";
  }
}

void PollerMetrics::ReadFailed(const ShardContext& shard, const absl::Status& status) {
  bool log;
  {
    absl::MutexLock lock(&mu_);
    Entry& e = EntryFor(shard);
    log = e.logged_read_error != status;
    e.logged_read_error = status;
  }
  if (log) {
    LOG(WARNING) << ShardName(shard) << ": reading the shard failed: " << status
                 << "; reading again after a pause (logged again only when the outcome changes)";
  }
}

void PollerMetrics::ReadSucceeded(const ShardContext& shard) {
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(Key(shard.mapping_uuid, shard.shard_id));
    if (it == entries_.end()) return;
    it->second.throttled_position.reset();
    if (it->second.logged_read_error.ok()) return;
    it->second.logged_read_error = absl::OkStatus();
  }
  LOG(INFO) << ShardName(shard) << ": reads succeed again";
}

void PollerMetrics::ReadThrottled(const ShardContext& shard, absl::Time known_position) {
  if (known_position == absl::InfinitePast()) return;  // nothing read yet: the age is unknown
  absl::MutexLock lock(&mu_);
  EntryFor(shard).throttled_position = known_position;
}

void PollerMetrics::Remove(const ShardContext& shard) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(Key(shard.mapping_uuid, shard.shard_id));
  if (it == entries_.end()) return;
  v1::ShardMetrics m;
  FillShardMetrics(it->first, it->second, now, &m);
  AddToMappingTotals(m, &retired_[Key(shard.mapping_uuid, it->second.stream_name)]);
  entries_.erase(it);
}

int64_t PollerMetrics::IteratorAgeMs(const ShardContext& shard) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(Key(shard.mapping_uuid, shard.shard_id));
  return it == entries_.end() ? 0 : AgeMs(it->second, now);
}

ProcessingResult PollerMetrics::LastProcessingResult(const ShardContext& shard) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(Key(shard.mapping_uuid, shard.shard_id));
  return it == entries_.end() ? ProcessingResult::kNone : it->second.result;
}

LastError PollerMetrics::LastErrorOf(const ShardContext& shard) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(Key(shard.mapping_uuid, shard.shard_id));
  return it == entries_.end() ? LastError() : it->second.error;
}

std::vector<ShardProgress> PollerMetrics::Progress(const std::vector<const ShardContext*>& shards) {
  const absl::Time now = clock_.Now();
  std::vector<ShardProgress> out(shards.size());
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < shards.size(); ++i) {
    auto it = entries_.find(Key(shards[i]->mapping_uuid, shards[i]->shard_id));
    if (it == entries_.end()) continue;
    out[i].iterator_age_ms = AgeMs(it->second, now);
    out[i].result = it->second.result;
    out[i].result_time = it->second.result_time;
    out[i].error = it->second.error;
  }
  return out;
}

void PollerMetrics::FillShardMetrics(const Key& key, const Entry& e, absl::Time now,
                                     v1::ShardMetrics* m) const {
  m->set_event_source_mapping_uuid(std::get<0>(key));
  m->set_stream_name(e.stream_name);
  m->set_shard_id(std::get<1>(key));
  m->set_iterator_age_ms(AgeMs(e, now));
  m->set_invocations(e.invocations);
  m->set_function_errors(e.function_errors);
  m->set_retries(e.retries);
  m->set_bisections(e.bisections);
  for (const auto& [condition, n] : e.dropped) (*m->mutable_dropped_records())[condition] = n;
  m->set_records_delivered(e.delivered);
  m->set_records_filtered(e.filtered);
  m->set_windows_closed(e.windows_closed);
  m->set_windows_failed(e.windows_failed);
  e.batch_size.ToProto(m->mutable_batch_size());
  e.latency_ms.ToProto(m->mutable_invoke_latency_ms());
  e.dwell_ms.ToProto(m->mutable_dwell_ms());
  m->set_checkpoint(e.checkpoint);
  m->set_parked_keys(e.parked_keys);
  m->set_parked_records(e.parked_records);
  if (e.oldest_parked_arrival.has_value()) {
    m->set_oldest_parked_age_ms(
        std::max<int64_t>(0, absl::ToInt64Milliseconds(now - *e.oldest_parked_arrival)));
  }
  m->set_parked_keys_limit_reached(e.parked_limit_reached);
  m->set_last_processing_result(ProcessingResultText(e.result));
  if (e.result != ProcessingResult::kNone) {
    *m->mutable_last_processing_result_time() = ToProtoTimestamp(e.result_time);
  }
  if (e.error.kind != ErrorKind::kNone) {
    m->set_last_error_kind(ErrorKindName(e.error.kind));
    m->set_last_error_message(e.error.message);
    *m->mutable_last_error_time() = ToProtoTimestamp(e.error.time);
  }
}

v1::GetMetricsResponse PollerMetrics::Snapshot(const std::string& mapping_uuid) {
  const absl::Time now = clock_.Now();
  v1::GetMetricsResponse response;
  response.set_poller_id(poller_id_);
  absl::MutexLock lock(&mu_);
  std::map<Key, v1::MappingMetrics> totals;
  for (const auto& [key, retired] : retired_) {
    if (mapping_uuid.empty() || std::get<0>(key) == mapping_uuid) totals[key] = retired;
  }
  for (const auto& [key, e] : entries_) {
    if (!mapping_uuid.empty() && std::get<0>(key) != mapping_uuid) continue;
    v1::ShardMetrics* m = response.add_shards();
    FillShardMetrics(key, e, now, m);
    AddToMappingTotals(*m, &totals[Key(m->event_source_mapping_uuid(), m->stream_name())]);
  }
  for (auto& [key, t] : totals) *response.add_mappings() = std::move(t);
  for (const auto& [name, f] : functions_) {
    v1::FunctionMetrics* m = response.add_functions();
    m->set_function_name(name);
    m->set_concurrent_executions(f.concurrent_executions);
    m->set_throttles(f.throttles);
  }
  return response;
}

namespace {

void AddHistogram(const v1::Histogram& from, v1::Histogram* to) {
  if (from.count() == 0 && from.bounds_size() == 0) return;
  if (to->bounds_size() == 0) {
    *to = from;
    return;
  }
  if (from.bounds_size() != to->bounds_size() || from.counts_size() != to->counts_size()) return;
  for (int i = 0; i < from.bounds_size(); ++i) {
    if (from.bounds(i) != to->bounds(i)) return;
  }
  for (int i = 0; i < from.counts_size(); ++i) to->set_counts(i, to->counts(i) + from.counts(i));
  to->set_sum(to->sum() + from.sum());
  to->set_count(to->count() + from.count());
}

}  // namespace

void AddToMappingTotals(const v1::ShardMetrics& shard, v1::MappingMetrics* totals) {
  totals->set_event_source_mapping_uuid(shard.event_source_mapping_uuid());
  totals->set_stream_name(shard.stream_name());
  totals->set_invocations(totals->invocations() + shard.invocations());
  totals->set_function_errors(totals->function_errors() + shard.function_errors());
  totals->set_retries(totals->retries() + shard.retries());
  totals->set_bisections(totals->bisections() + shard.bisections());
  for (const auto& [condition, n] : shard.dropped_records()) {
    (*totals->mutable_dropped_records())[condition] += n;
  }
  totals->set_records_delivered(totals->records_delivered() + shard.records_delivered());
  totals->set_records_filtered(totals->records_filtered() + shard.records_filtered());
  totals->set_windows_closed(totals->windows_closed() + shard.windows_closed());
  totals->set_windows_failed(totals->windows_failed() + shard.windows_failed());
  AddHistogram(shard.batch_size(), totals->mutable_batch_size());
  AddHistogram(shard.invoke_latency_ms(), totals->mutable_invoke_latency_ms());
  AddHistogram(shard.dwell_ms(), totals->mutable_dwell_ms());
}

std::string RenderPrometheusText(const v1::GetMetricsResponse& snapshot) {
  std::string out;
  auto shard_labels = [&](const v1::ShardMetrics& m) {
    return absl::StrCat("poller=\"", LabelValue(snapshot.poller_id()), "\",mapping=\"",
                        LabelValue(m.event_source_mapping_uuid()), "\",stream=\"",
                        LabelValue(m.stream_name()), "\",shard=\"", LabelValue(m.shard_id()), "\"");
  };
  auto labels = [&](const v1::MappingMetrics& m) {
    return absl::StrCat("poller=\"", LabelValue(snapshot.poller_id()), "\",mapping=\"",
                        LabelValue(m.event_source_mapping_uuid()), "\",stream=\"",
                        LabelValue(m.stream_name()), "\"");
  };
  auto scalar = [&](const std::string& name, const std::string& type, const std::string& help,
                    int64_t (v1::MappingMetrics::*field)() const) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
    for (const v1::MappingMetrics& m : snapshot.mappings()) {
      absl::StrAppend(&out, name, "{", labels(m), "} ", (m.*field)(), "\n");
    }
  };
  // `scale` multiplies bounds and the sum (ms → s).
  auto histogram = [&](const std::string& name, const std::string& help,
                       const v1::Histogram& (v1::MappingMetrics::*field)() const, double scale) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " histogram\n");
    for (const v1::MappingMetrics& m : snapshot.mappings()) {
      const v1::Histogram& h = (m.*field)();
      const int buckets = std::min(h.bounds_size(), h.counts_size());  // tolerate a bad reply
      for (int i = 0; i < buckets; ++i) {
        absl::StrAppend(&out, name, "_bucket{", labels(m), ",le=\"",
                        FormatDouble(h.bounds(i) * scale), "\"} ", h.counts(i), "\n");
      }
      absl::StrAppend(&out, name, "_sum{", labels(m), "} ", FormatDouble(h.sum() * scale), "\n");
      absl::StrAppend(&out, name, "_count{", labels(m), "} ", h.count(), "\n");
    }
  };
  // Base units (promtool's lint): the proto's milliseconds are exported as seconds.
  absl::StrAppend(&out,
                  "# HELP tributary_poller_iterator_age_seconds While a batch runs, now minus the "
                  "arrival of its last record; 0 once caught up.\n# TYPE "
                  "tributary_poller_iterator_age_seconds gauge\n");
  for (const v1::ShardMetrics& m : snapshot.shards()) {
    absl::StrAppend(&out, "tributary_poller_iterator_age_seconds{", shard_labels(m), "} ",
                    FormatDouble(m.iterator_age_ms() / 1000.0), "\n");
  }
  absl::StrAppend(&out,
                  "# HELP tributary_poller_parked_keys Partition keys parked by "
                  "isolate_failing_keys.\n# TYPE tributary_poller_parked_keys gauge\n");
  for (const v1::ShardMetrics& m : snapshot.shards()) {
    if (m.parked_keys() == 0 && !m.parked_keys_limit_reached()) continue;
    absl::StrAppend(&out, "tributary_poller_parked_keys{", shard_labels(m), "} ", m.parked_keys(),
                    "\n");
  }
  absl::StrAppend(&out,
                  "# HELP tributary_poller_oldest_parked_age_seconds Now minus the arrival of the "
                  "oldest parked record.\n# TYPE tributary_poller_oldest_parked_age_seconds "
                  "gauge\n");
  for (const v1::ShardMetrics& m : snapshot.shards()) {
    if (m.parked_keys() == 0) continue;
    absl::StrAppend(&out, "tributary_poller_oldest_parked_age_seconds{", shard_labels(m), "} ",
                    FormatDouble(m.oldest_parked_age_ms() / 1000.0), "\n");
  }
  absl::StrAppend(&out,
                  "# HELP tributary_poller_parked_keys_limit_reached 1 when max_parked_keys "
                  "refused a failing key (it blocks its lane).\n# TYPE "
                  "tributary_poller_parked_keys_limit_reached gauge\n");
  for (const v1::ShardMetrics& m : snapshot.shards()) {
    if (!m.parked_keys_limit_reached()) continue;
    absl::StrAppend(&out, "tributary_poller_parked_keys_limit_reached{", shard_labels(m), "} 1\n");
  }
  scalar("tributary_poller_invocations_total", "counter", "Function invocations.",
         &v1::MappingMetrics::invocations);
  scalar("tributary_poller_function_errors_total", "counter", "Invocations that failed.",
         &v1::MappingMetrics::function_errors);
  scalar("tributary_poller_retries_total", "counter", "Batch retries after backoff.",
         &v1::MappingMetrics::retries);
  scalar("tributary_poller_bisections_total", "counter", "Failing batches split in two.",
         &v1::MappingMetrics::bisections);
  scalar("tributary_poller_records_delivered_total", "counter",
         "Records the function processed successfully.", &v1::MappingMetrics::records_delivered);
  scalar("tributary_poller_records_filtered_total", "counter",
         "Records that matched none of the mapping's filters (never invoked).",
         &v1::MappingMetrics::records_filtered);
  scalar("tributary_poller_windows_closed_total", "counter",
         "Tumbling windows whose final invocation the function accepted (early ends included).",
         &v1::MappingMetrics::windows_closed);
  scalar("tributary_poller_windows_failed_total", "counter",
         "Tumbling windows whose final invocation was given up and reported.",
         &v1::MappingMetrics::windows_failed);
  absl::StrAppend(&out,
                  "# HELP tributary_poller_dropped_records_total Records skipped after being "
                  "reported, by condition.\n# TYPE tributary_poller_dropped_records_total "
                  "counter\n");
  for (const v1::MappingMetrics& m : snapshot.mappings()) {
    std::map<std::string, int64_t> sorted(m.dropped_records().begin(), m.dropped_records().end());
    for (const auto& [condition, n] : sorted) {
      absl::StrAppend(&out, "tributary_poller_dropped_records_total{", labels(m), ",condition=\"",
                      LabelValue(condition), "\"} ", n, "\n");
    }
  }
  absl::StrAppend(&out,
                  "# HELP tributary_poller_last_error_timestamp_seconds When the shard's last "
                  "error was seen (Unix seconds), by kind; absent before the first.\n# TYPE "
                  "tributary_poller_last_error_timestamp_seconds gauge\n");
  for (const v1::ShardMetrics& m : snapshot.shards()) {
    if (m.last_error_kind().empty()) continue;
    const double seconds =
        static_cast<double>(m.last_error_time().seconds()) + m.last_error_time().nanos() / 1e9;
    absl::StrAppend(&out, "tributary_poller_last_error_timestamp_seconds{", shard_labels(m),
                    ",kind=\"", LabelValue(m.last_error_kind()), "\"} ",
                    absl::StrFormat("%.3f", seconds), "\n");
  }
  histogram("tributary_poller_batch_size", "Records per invocation.",
            &v1::MappingMetrics::batch_size, 1);
  histogram("tributary_poller_invoke_latency_seconds", "Invocation latency.",
            &v1::MappingMetrics::invoke_latency_ms, 0.001);
  histogram("tributary_poller_dwell_seconds",
            "From a record's arrival to the end of the invocation that delivered it.",
            &v1::MappingMetrics::dwell_ms, 0.001);
  if (snapshot.functions().empty()) return out;
  absl::StrAppend(&out,
                  "# HELP tributary_poller_function_concurrent_executions Invocations of a "
                  "function with reserved concurrency running on this poller now.\n# TYPE "
                  "tributary_poller_function_concurrent_executions gauge\n");
  for (const v1::FunctionMetrics& f : snapshot.functions()) {
    absl::StrAppend(&out, "tributary_poller_function_concurrent_executions{poller=\"",
                    LabelValue(snapshot.poller_id()), "\",function_name=\"",
                    LabelValue(f.function_name()), "\"} ", f.concurrent_executions(), "\n");
  }
  absl::StrAppend(&out,
                  "# HELP tributary_poller_function_throttles_total Attempts that waited for a "
                  "slot of a function's reserved concurrency.\n# TYPE "
                  "tributary_poller_function_throttles_total counter\n");
  for (const v1::FunctionMetrics& f : snapshot.functions()) {
    absl::StrAppend(&out, "tributary_poller_function_throttles_total{poller=\"",
                    LabelValue(snapshot.poller_id()), "\",function_name=\"",
                    LabelValue(f.function_name()), "\"} ", f.throttles(), "\n");
  }
  return out;
}

void PollerMetrics::FunctionInvocationStarted(const std::string& function_name) {
  absl::MutexLock lock(&mu_);
  ++functions_[function_name].concurrent_executions;
}

void PollerMetrics::FunctionInvocationFinished(const std::string& function_name) {
  absl::MutexLock lock(&mu_);
  --functions_[function_name].concurrent_executions;
}

void PollerMetrics::FunctionThrottled(const std::string& function_name) {
  absl::MutexLock lock(&mu_);
  ++functions_[function_name].throttles;
}

int64_t PollerMetrics::FunctionConcurrentExecutions(const std::string& function_name) {
  absl::MutexLock lock(&mu_);
  auto it = functions_.find(function_name);
  return it == functions_.end() ? 0 : it->second.concurrent_executions;
}

int64_t PollerMetrics::FunctionThrottles(const std::string& function_name) {
  absl::MutexLock lock(&mu_);
  auto it = functions_.find(function_name);
  return it == functions_.end() ? 0 : it->second.throttles;
}

std::string PollerMetrics::RenderPrometheus() { return RenderPrometheusText(Snapshot()); }

}  // namespace tributary::poller
