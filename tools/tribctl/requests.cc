#include "tools/tribctl/requests.h"

#include <sstream>
#include <utility>

#include "absl/numeric/int128.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tributary::tribctl {
namespace {

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t nanos = absl::ToUnixNanos(t);
  int64_t seconds = nanos / 1'000'000'000;
  int64_t rem = nanos % 1'000'000'000;
  if (rem < 0) {
    rem += 1'000'000'000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rem));
}

int32_t Int32(const FlagValues& flags, absl::string_view name) {
  return static_cast<int32_t>(flags.Int(name).value_or(0));
}

v1::ShardIteratorType IteratorType(const std::string& name) {
  v1::ShardIteratorType type = v1::TRIM_HORIZON;
  v1::ShardIteratorType_Parse(name, &type);  // the parser only admits valid names
  return type;
}

// The StartingPosition / iterator fields shared by GetShardIterator and
// SubscribeToShard.
struct Position {
  v1::ShardIteratorType type;
  std::string sequence_number;
  std::optional<absl::Time> timestamp;
};

absl::StatusOr<Position> BuildPosition(const FlagValues& flags) {
  Position p;
  p.type = IteratorType(flags.StringOr("iterator-type", "TRIM_HORIZON"));
  p.sequence_number = flags.StringOr("starting-sequence-number", "");
  p.timestamp = flags.Time("timestamp");
  const bool by_sequence = p.type == v1::AT_SEQUENCE_NUMBER || p.type == v1::AFTER_SEQUENCE_NUMBER;
  if (by_sequence && p.sequence_number.empty()) {
    return UsageError(absl::StrCat("--iterator-type=", v1::ShardIteratorType_Name(p.type),
                                   " needs --starting-sequence-number"));
  }
  if (!by_sequence && !p.sequence_number.empty()) {
    return UsageError(
        "--starting-sequence-number needs --iterator-type=AT_SEQUENCE_NUMBER or "
        "AFTER_SEQUENCE_NUMBER");
  }
  if (p.type == v1::AT_TIMESTAMP && !p.timestamp) {
    return UsageError("--iterator-type=AT_TIMESTAMP needs --timestamp");
  }
  if (p.type != v1::AT_TIMESTAMP && p.timestamp) {
    return UsageError("--timestamp needs --iterator-type=AT_TIMESTAMP");
  }
  return p;
}

// Sets the configuration fields that create and update share, each only when
// its flag was given.
template <typename Request>
void SetMappingConfig(const FlagValues& flags, Request* r) {
  if (auto v = flags.Bool("enabled")) r->set_enabled(*v);
  if (auto v = flags.Int("batch-size")) r->set_batch_size(static_cast<int32_t>(*v));
  if (auto v = flags.Int("maximum-batching-window-in-seconds")) {
    r->set_maximum_batching_window_in_seconds(static_cast<int32_t>(*v));
  }
  if (auto v = flags.Int("parallelization-factor")) {
    r->set_parallelization_factor(static_cast<int32_t>(*v));
  }
  if (auto v = flags.String("destination")) {
    r->mutable_destination_config()->mutable_on_failure()->set_destination(*v);
  }
  if (auto v = flags.Int("maximum-record-age-in-seconds")) {
    r->set_maximum_record_age_in_seconds(static_cast<int32_t>(*v));
  }
  if (auto v = flags.Bool("bisect-batch-on-function-error")) {
    r->set_bisect_batch_on_function_error(*v);
  }
  if (auto v = flags.Int("maximum-retry-attempts")) {
    r->set_maximum_retry_attempts(static_cast<int32_t>(*v));
  }
  for (const std::string& type : flags.List("function-response-types")) {
    // The only choice the parser admits is ReportBatchItemFailures.
    if (type == "ReportBatchItemFailures") {
      r->add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
    }
  }
  if (auto v = flags.Int("function-timeout-seconds")) {
    r->set_function_timeout_seconds(static_cast<int32_t>(*v));
  }
  if (auto v = flags.Int("tumbling-window-in-seconds")) {
    r->set_tumbling_window_in_seconds(static_cast<int32_t>(*v));
  }
  for (const std::string& pattern : flags.List("filter-pattern")) {
    r->mutable_filter_criteria()->add_filters()->set_pattern(pattern);
  }
}

}  // namespace

v1::CreateStreamRequest BuildCreateStreamRequest(const FlagValues& flags) {
  v1::CreateStreamRequest r;
  r.set_stream_name(flags.StringOr("stream", ""));
  r.set_shard_count(static_cast<int32_t>(flags.Int("shard-count").value_or(1)));
  if (auto hours = flags.Int("retention-period-hours")) {
    r.set_retention_period_hours(static_cast<int32_t>(*hours));
  }
  return r;
}

v1::DeleteStreamRequest BuildDeleteStreamRequest(const FlagValues& flags) {
  v1::DeleteStreamRequest r;
  r.set_stream_name(flags.StringOr("stream", ""));
  r.set_enforce_consumer_deletion(flags.Bool("enforce-consumer-deletion").value_or(false));
  return r;
}

v1::DescribeStreamSummaryRequest BuildDescribeStreamSummaryRequest(const FlagValues& flags) {
  v1::DescribeStreamSummaryRequest r;
  r.set_stream_name(flags.StringOr("stream", ""));
  return r;
}

v1::ListStreamsRequest BuildListStreamsRequest(const FlagValues& flags) {
  v1::ListStreamsRequest r;
  r.set_limit(Int32(flags, "limit"));
  r.set_exclusive_start_stream_name(flags.StringOr("exclusive-start-stream-name", ""));
  return r;
}

absl::StatusOr<v1::ListShardsRequest> BuildListShardsRequest(const FlagValues& flags) {
  v1::ListShardsRequest r;
  r.set_stream_name(flags.StringOr("stream", ""));
  r.set_exclusive_start_shard_id(flags.StringOr("exclusive-start-shard-id", ""));
  r.set_max_results(Int32(flags, "max-results"));
  std::optional<std::string> type = flags.String("shard-filter-type");
  std::optional<std::string> shard_id = flags.String("shard-filter-shard-id");
  std::optional<absl::Time> timestamp = flags.Time("shard-filter-timestamp");
  if (!type) {
    if (shard_id) return UsageError("--shard-filter-shard-id needs --shard-filter-type");
    if (timestamp) return UsageError("--shard-filter-timestamp needs --shard-filter-type");
    return r;
  }
  v1::ShardFilter* filter = r.mutable_shard_filter();
  if (*type == "AT_TIMESTAMP") {
    filter->set_type(v1::AT_TIMESTAMP_FILTER);  // the proto's name for Kinesis' AT_TIMESTAMP
  } else {
    v1::ShardFilterType t = v1::SHARD_FILTER_TYPE_UNSPECIFIED;
    v1::ShardFilterType_Parse(*type, &t);
    filter->set_type(t);
  }
  if (filter->type() == v1::AFTER_SHARD_ID && !shard_id) {
    return UsageError("--shard-filter-type=AFTER_SHARD_ID needs --shard-filter-shard-id");
  }
  const bool by_time =
      filter->type() == v1::AT_TIMESTAMP_FILTER || filter->type() == v1::FROM_TIMESTAMP;
  if (by_time && !timestamp) {
    return UsageError(
        absl::StrCat("--shard-filter-type=", *type, " needs --shard-filter-timestamp"));
  }
  if (shard_id) filter->set_shard_id(*shard_id);
  if (timestamp) SetTimestamp(*timestamp, filter->mutable_timestamp());
  return r;
}

v1::SplitShardRequest BuildSplitShardRequest(const FlagValues& flags) {
  v1::SplitShardRequest r;
  r.set_stream_name(flags.StringOr("stream", ""));
  r.set_shard_to_split(flags.StringOr("shard-to-split", ""));
  r.set_new_starting_hash_key(flags.StringOr("new-starting-hash-key", ""));
  return r;
}

absl::StatusOr<std::string> MiddleHashKey(const v1::HashKeyRange& range) {
  absl::uint128 start = 0;
  absl::uint128 end = 0;
  if (!absl::SimpleAtoi(range.starting_hash_key(), &start) ||
      !absl::SimpleAtoi(range.ending_hash_key(), &end) || start >= end) {
    return absl::InvalidArgumentError(absl::StrCat("cannot split the hash-key range [",
                                                   range.starting_hash_key(), ", ",
                                                   range.ending_hash_key(), "]"));
  }
  // (end - start + 1) / 2 computed without overflow at the top of the space.
  const absl::uint128 half = (end - start) / 2 + ((end - start) % 2 == 1 ? 1 : 0);
  std::ostringstream out;
  out << start + half;
  return out.str();
}

v1::MergeShardsRequest BuildMergeShardsRequest(const FlagValues& flags) {
  v1::MergeShardsRequest r;
  r.set_stream_name(flags.StringOr("stream", ""));
  r.set_shard_to_merge(flags.StringOr("shard-to-merge", ""));
  r.set_adjacent_shard_to_merge(flags.StringOr("adjacent-shard-to-merge", ""));
  return r;
}

v1::UpdateShardCountRequest BuildUpdateShardCountRequest(const FlagValues& flags) {
  v1::UpdateShardCountRequest r;
  r.set_stream_name(flags.StringOr("stream", ""));
  r.set_target_shard_count(Int32(flags, "target-shard-count"));
  r.set_scaling_type(v1::UNIFORM_SCALING);  // the only choice the parser admits
  return r;
}

v1::IncreaseStreamRetentionPeriodRequest BuildIncreaseRetentionRequest(const FlagValues& flags) {
  v1::IncreaseStreamRetentionPeriodRequest r;
  r.set_stream_name(flags.StringOr("stream", ""));
  r.set_retention_period_hours(Int32(flags, "retention-period-hours"));
  return r;
}

v1::DecreaseStreamRetentionPeriodRequest BuildDecreaseRetentionRequest(const FlagValues& flags) {
  v1::DecreaseStreamRetentionPeriodRequest r;
  r.set_stream_name(flags.StringOr("stream", ""));
  r.set_retention_period_hours(Int32(flags, "retention-period-hours"));
  return r;
}

absl::StatusOr<v1::PutRecordRequest> BuildPutRecordRequest(const FlagValues& flags) {
  if (!flags.Has("partition-key")) return UsageError("--data needs --partition-key");
  v1::PutRecordRequest r;
  r.set_stream_name(flags.StringOr("stream", ""));
  r.set_partition_key(flags.StringOr("partition-key", ""));
  r.set_data(flags.StringOr("data", ""));
  r.set_explicit_hash_key(flags.StringOr("explicit-hash-key", ""));
  r.set_sequence_number_for_ordering(flags.StringOr("sequence-number-for-ordering", ""));
  return r;
}

StdinRecordReader::StdinRecordReader(const FlagValues& flags, std::istream* in)
    : stream_(flags.StringOr("stream", "")),
      partition_key_(flags.String("partition-key")),
      explicit_hash_key_(flags.StringOr("explicit-hash-key", "")),
      in_(in) {}

absl::StatusOr<std::optional<v1::PutRecordsRequest>> StdinRecordReader::NextBatch() {
  v1::PutRecordsRequest batch;
  batch.set_stream_name(stream_);
  int64_t bytes = 0;
  auto add = [&](v1::PutRecordsRequestEntry entry) -> bool {
    const int64_t size = static_cast<int64_t>(entry.data().size() + entry.partition_key().size());
    if (batch.records_size() > 0 &&
        (batch.records_size() >= kMaxPutRecordsEntries || bytes + size > kMaxPutRecordsBytes)) {
      carried_ = std::move(entry);
      return false;
    }
    bytes += size;
    *batch.add_records() = std::move(entry);
    return true;
  };
  if (carried_) {
    v1::PutRecordsRequestEntry entry = std::move(*carried_);
    carried_.reset();
    add(std::move(entry));
  }
  std::string line;
  while (!carried_ && std::getline(*in_, line)) {
    ++line_number_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    v1::PutRecordsRequestEntry entry;
    entry.set_explicit_hash_key(explicit_hash_key_);
    if (partition_key_) {
      entry.set_partition_key(*partition_key_);
      entry.set_data(line);
    } else {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos) {
        return UsageError(absl::StrCat("stdin line ", line_number_,
                                       ": expected \"key<TAB>data\" (or give --partition-key)"));
      }
      if (tab == 0) {
        return UsageError(absl::StrCat("stdin line ", line_number_, ": empty partition key"));
      }
      entry.set_partition_key(line.substr(0, tab));
      entry.set_data(line.substr(tab + 1));
    }
    add(std::move(entry));
  }
  if (batch.records_size() == 0) return std::optional<v1::PutRecordsRequest>();
  return std::optional<v1::PutRecordsRequest>(std::move(batch));
}

absl::StatusOr<v1::GetShardIteratorRequest> BuildGetShardIteratorRequest(const FlagValues& flags) {
  absl::StatusOr<Position> p = BuildPosition(flags);
  if (!p.ok()) return p.status();
  v1::GetShardIteratorRequest r;
  r.set_stream_name(flags.StringOr("stream", ""));
  r.set_shard_id(flags.StringOr("shard-id", ""));
  r.set_shard_iterator_type(p->type);
  r.set_starting_sequence_number(p->sequence_number);
  if (p->timestamp) SetTimestamp(*p->timestamp, r.mutable_timestamp());
  return r;
}

absl::StatusOr<v1::SubscribeToShardRequest> BuildSubscribeToShardRequest(const FlagValues& flags) {
  absl::StatusOr<Position> p = BuildPosition(flags);
  if (!p.ok()) return p.status();
  v1::SubscribeToShardRequest r;
  r.set_consumer_arn("tribctl");
  r.set_stream_name(flags.StringOr("stream", ""));
  r.set_shard_id(flags.StringOr("shard-id", ""));
  v1::StartingPosition* position = r.mutable_starting_position();
  position->set_type(p->type);
  position->set_sequence_number(p->sequence_number);
  if (p->timestamp) SetTimestamp(*p->timestamp, position->mutable_timestamp());
  return r;
}

absl::StatusOr<v1::CreateEventSourceMappingRequest> BuildCreateMappingRequest(
    const FlagValues& flags) {
  const bool by_endpoint = flags.Has("function-endpoint");
  const bool by_name = flags.Has("function-name");
  if (by_endpoint == by_name) {
    return UsageError(by_name ? "give either --function-endpoint or --function-name, not both"
                              : "missing --function-endpoint or --function-name");
  }
  v1::CreateEventSourceMappingRequest r;
  r.set_stream_name(flags.StringOr("stream", ""));
  r.set_function_endpoint(flags.StringOr("function-endpoint", ""));
  r.set_function_name(flags.StringOr("function-name", ""));
  const std::string position = flags.StringOr("starting-position", "");
  std::optional<absl::Time> timestamp = flags.Time("starting-position-timestamp");
  if (position == "TRIM_HORIZON") {
    r.set_starting_position(v1::TRIM_HORIZON_POSITION);
  } else if (position == "LATEST") {
    r.set_starting_position(v1::LATEST_POSITION);
  } else if (position == "AT_TIMESTAMP") {
    r.set_starting_position(v1::AT_TIMESTAMP_POSITION);
  }
  if (r.starting_position() == v1::AT_TIMESTAMP_POSITION && !timestamp) {
    return UsageError("--starting-position=AT_TIMESTAMP needs --starting-position-timestamp");
  }
  if (r.starting_position() != v1::AT_TIMESTAMP_POSITION && timestamp) {
    return UsageError("--starting-position-timestamp needs --starting-position=AT_TIMESTAMP");
  }
  if (timestamp) SetTimestamp(*timestamp, r.mutable_starting_position_timestamp());
  SetMappingConfig(flags, &r);
  return r;
}

v1::UpdateEventSourceMappingRequest BuildUpdateMappingRequest(const FlagValues& flags) {
  v1::UpdateEventSourceMappingRequest r;
  r.set_uuid(flags.StringOr("uuid", ""));
  if (auto endpoint = flags.String("function-endpoint")) r.set_function_endpoint(*endpoint);
  if (auto name = flags.String("function-name")) r.set_function_name(*name);
  SetMappingConfig(flags, &r);
  r.set_update_function_response_types(flags.Has("function-response-types"));
  r.set_update_filter_criteria(flags.Has("filter-pattern"));
  return r;
}

v1::DeleteEventSourceMappingRequest BuildDeleteMappingRequest(const FlagValues& flags) {
  v1::DeleteEventSourceMappingRequest r;
  r.set_uuid(flags.StringOr("uuid", ""));
  return r;
}

v1::GetEventSourceMappingRequest BuildGetMappingRequest(const FlagValues& flags) {
  v1::GetEventSourceMappingRequest r;
  r.set_uuid(flags.StringOr("uuid", ""));
  return r;
}

v1::ListEventSourceMappingsRequest BuildListMappingsRequest(const FlagValues& flags) {
  v1::ListEventSourceMappingsRequest r;
  r.set_stream_name(flags.StringOr("stream", ""));
  r.set_function_endpoint(flags.StringOr("function-endpoint", ""));
  r.set_function_name(flags.StringOr("function-name", ""));
  r.set_max_items(Int32(flags, "max-items"));
  return r;
}

v1::CreateFunctionRequest BuildCreateFunctionRequest(const FlagValues& flags) {
  v1::CreateFunctionRequest r;
  r.set_function_name(flags.StringOr("function-name", ""));
  r.set_endpoint(flags.StringOr("function-endpoint", ""));
  if (auto v = flags.Int("function-timeout-seconds")) {
    r.set_timeout_seconds(static_cast<int32_t>(*v));
  }
  if (auto v = flags.Int("reserved-concurrent-executions")) {
    r.set_reserved_concurrent_executions(static_cast<int32_t>(*v));
  }
  return r;
}

v1::UpdateFunctionRequest BuildUpdateFunctionRequest(const FlagValues& flags) {
  v1::UpdateFunctionRequest r;
  r.set_function_name(flags.StringOr("function-name", ""));
  if (auto endpoint = flags.String("function-endpoint")) r.set_endpoint(*endpoint);
  if (auto v = flags.Int("function-timeout-seconds")) {
    r.set_timeout_seconds(static_cast<int32_t>(*v));
  }
  return r;
}

v1::GetFunctionRequest BuildGetFunctionRequest(const FlagValues& flags) {
  v1::GetFunctionRequest r;
  r.set_function_name(flags.StringOr("function-name", ""));
  return r;
}

v1::ListFunctionsRequest BuildListFunctionsRequest(const FlagValues& flags) {
  v1::ListFunctionsRequest r;
  r.set_max_items(Int32(flags, "max-items"));
  return r;
}

v1::DeleteFunctionRequest BuildDeleteFunctionRequest(const FlagValues& flags) {
  v1::DeleteFunctionRequest r;
  r.set_function_name(flags.StringOr("function-name", ""));
  return r;
}

v1::PutFunctionConcurrencyRequest BuildPutFunctionConcurrencyRequest(const FlagValues& flags) {
  v1::PutFunctionConcurrencyRequest r;
  r.set_function_name(flags.StringOr("function-name", ""));
  if (auto v = flags.Int("reserved-concurrent-executions")) {
    r.set_reserved_concurrent_executions(static_cast<int32_t>(*v));
  }
  return r;
}

v1::GetFunctionConcurrencyRequest BuildGetFunctionConcurrencyRequest(const FlagValues& flags) {
  v1::GetFunctionConcurrencyRequest r;
  r.set_function_name(flags.StringOr("function-name", ""));
  return r;
}

v1::DeleteFunctionConcurrencyRequest BuildDeleteFunctionConcurrencyRequest(
    const FlagValues& flags) {
  v1::DeleteFunctionConcurrencyRequest r;
  r.set_function_name(flags.StringOr("function-name", ""));
  return r;
}

v1::ListLeasesRequest BuildListLeasesRequest(const FlagValues& flags) {
  v1::ListLeasesRequest r;
  r.set_event_source_mapping_uuid(flags.StringOr("mapping", ""));
  r.set_lease_owner(flags.StringOr("owner", ""));
  r.set_shard_id(flags.StringOr("shard-id", ""));
  r.set_max_results(Int32(flags, "max-results"));
  return r;
}

v1::GetMetricsRequest BuildGetMetricsRequest(const FlagValues& flags) {
  v1::GetMetricsRequest r;
  r.set_event_source_mapping_uuid(flags.StringOr("mapping", ""));
  return r;
}

}  // namespace tributary::tribctl
