// Each operation: read and check the input (Input), resolve the stream, build the v1 request,
// call the store, build the output. A failed status leaves through the operation's StatusMapping
// in the table at the end of this file — the only place where store codes become Kinesis codes.
// Errors the adapter decides itself (AWS's model constraints, the account's limits) are
// AwsErrors carried by ToStatus.
#include "aws/kinesis_handler.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "aws/aws_error.h"
#include "aws/input_reader.h"
#include "aws/kinesis_event_stream.h"
#include "aws/kinesis_internal.h"
#include "aws/kinesis_shapes.h"
#include "common/aws_arn.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "proto/streams.pb.h"
#include "tables/stream_ids.h"

namespace tributary::aws {
namespace kinesis_internal {
namespace {

bool IsDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

bool HasSpace(absl::string_view s) {
  for (char c : s) {
    if (absl::ascii_isspace(c)) return true;
  }
  return false;
}

}  // namespace

std::optional<StreamArnParts> SplitStreamArn(absl::string_view arn) {
  std::vector<absl::string_view> parts = absl::StrSplit(arn, absl::MaxSplits(':', 5));
  if (parts.size() != 6 || parts[0] != "arn" || !absl::StartsWith(parts[1], "aws") ||
      parts[2] != "kinesis" || parts[4].size() != 12 || !IsDigits(parts[4])) {
    return std::nullopt;
  }
  absl::string_view resource = parts[5];
  if (!absl::ConsumePrefix(&resource, "stream/") || resource.empty() || HasSpace(resource)) {
    return std::nullopt;
  }
  return StreamArnParts{std::string(parts[3]), std::string(parts[4]), std::string(resource)};
}

bool MatchesStreamArn(absl::string_view arn) { return SplitStreamArn(arn).has_value(); }

void CheckName(InputReader& in, absl::string_view member, const std::optional<std::string>& v) {
  in.Length(member, v, 1, 128);
  in.Pattern(member, v, kNamePattern, MatchesName);
}

std::optional<std::string> ReadStreamArn(InputReader& in, absl::string_view member) {
  std::optional<std::string> arn = in.String(member);
  in.Length(member, arn, 1, 2048);
  in.Pattern(member, arn, kStreamArnPattern, MatchesStreamArn);
  return arn;
}

StreamRef ReadStreamRef(InputReader& in) {
  StreamRef ref;
  ref.name = in.String("StreamName");
  CheckName(in, "StreamName", ref.name);
  ref.arn = ReadStreamArn(in);
  return ref;
}

absl::Status NotATableStream(absl::string_view name) {
  // The store's own words for a stream that is not there: a table's change stream is not a
  // Kinesis stream (tables/stream_ids.h, tables/NOTES.md).
  if (tables::IsTableStreamName(name)) {
    return absl::NotFoundError(absl::StrCat("stream ", name, " not found"));
  }
  return absl::OkStatus();
}

absl::Status CheckHere(const Context& c, const StreamArnParts& arn) {
  RETURN_IF_ERROR(NotATableStream(arn.name));
  if (arn.region != c.options.region || arn.account != c.options.account_id) {
    return absl::NotFoundError(absl::StrCat("Stream ", arn.name, " under account ", arn.account,
                                            " in ", arn.region,
                                            " not found (this endpoint serves account ",
                                            c.options.account_id, " in ", c.options.region, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Resolve(const Context& c, const StreamRef& ref, bool required) {
  if (ref.arn) {
    std::optional<StreamArnParts> arn = SplitStreamArn(*ref.arn);
    if (!arn) return absl::InvalidArgumentError(absl::StrCat("malformed StreamARN ", *ref.arn));
    RETURN_IF_ERROR(CheckHere(c, *arn));
    if (ref.name && *ref.name != arn->name) {
      return absl::InvalidArgumentError(absl::StrCat("StreamName ", *ref.name, " and StreamARN ",
                                                     *ref.arn, " name different streams"));
    }
    return arn->name;
  }
  if (ref.name) {
    RETURN_IF_ERROR(NotATableStream(*ref.name));
    return *ref.name;
  }
  if (!required) return std::string();
  return absl::InvalidArgumentError("StreamName or StreamARN must be provided");
}

Value Time(const google::protobuf::Timestamp& t) { return Value::Timestamp(FromProtoTimestamp(t)); }

const char* StatusName(v1::StreamStatus status) {
  switch (status) {
    case v1::CREATING:
      return "CREATING";
    case v1::DELETING:
      return "DELETING";
    case v1::UPDATING:
      return "UPDATING";
    default:
      return "ACTIVE";
  }
}

}  // namespace kinesis_internal

namespace {

using kinesis_internal::CheckConsumerArn;
using kinesis_internal::CheckName;
using kinesis_internal::Context;
using kinesis_internal::ControlPlane;
using kinesis_internal::Input;
using kinesis_internal::Listings;
using kinesis_internal::Operation;
using kinesis_internal::ReadStreamArn;
using kinesis_internal::ReadStreamRef;
using kinesis_internal::RegisteredConsumerStream;
using kinesis_internal::Resolve;
using kinesis_internal::StatusName;
using kinesis_internal::StreamRef;
using kinesis_internal::Time;
using shard_store::ShardStore;

constexpr absl::string_view kHashKeyPattern = "0|([1-9]\\d{0,38})";
constexpr absl::string_view kSequenceNumberPattern = "0|([1-9]\\d{0,128})";
constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();
// Kinesis's limits as the model states them.
constexpr size_t kMaxDataBytes = 1 << 20;
constexpr int kDefaultDescribeStreamLimit = 100;
// An ON_DEMAND stream starts with 4 shards in Kinesis; here it is a provisioned stream of 4.
constexpr int kOnDemandInitialShards = 4;

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

// "shardId-000000000001", "shardId-1" and "1" name shard 1; nullopt for anything else.
std::optional<std::string> NormalizeShardId(absl::string_view id) {
  absl::ConsumePrefix(&id, "shardId-");
  uint64_t index = 0;
  if (id.size() > 12 || !AllDigits(id) || !absl::SimpleAtoi(id, &index) ||
      index > std::numeric_limits<uint32_t>::max()) {
    return std::nullopt;
  }
  return shard_store::ShardIdFromIndex(static_cast<uint32_t>(index));
}

absl::Status ShardNotFound(absl::string_view shard_id, absl::string_view stream) {
  return absl::NotFoundError(
      absl::StrCat("Shard ", shard_id, " in stream ", stream, " does not exist"));
}

int32_t SaturateInt32(int64_t v) {
  if (v > kMaxInt32) return std::numeric_limits<int32_t>::max();
  if (v < std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(v);
}

// --- Output shapes -------------------------------------------------------------------------

// The mode the store reports (the stream's own, or the server's default in force).
Value StreamModeDetails(const v1::StreamModeDetails& mode) {
  Value details = Value::Map();
  details.Add("StreamMode",
              Value::String(mode.stream_mode() == v1::ON_DEMAND ? "ON_DEMAND" : "PROVISIONED"));
  return details;
}

// StreamModeDetails.StreamMode of a request (required inside the structure); nullopt when the
// structure is absent.
std::optional<std::string> ReadStreamMode(InputReader& r) {
  std::optional<std::string> mode;
  if (std::optional<InputReader> details = r.Structure("StreamModeDetails")) {
    mode = details->String("StreamMode");
    details->Required("StreamMode", mode.has_value());
    details->Enum("StreamMode", mode, {"PROVISIONED", "ON_DEMAND"});
  }
  return mode;
}

v1::StreamMode ToStreamMode(const std::string& mode) {
  return mode == "ON_DEMAND" ? v1::ON_DEMAND : v1::PROVISIONED;
}

Value EnhancedMonitoring() {
  Value list = Value::List();
  list.Append(Value::Map()).Add("ShardLevelMetrics", Value::List());
  return list;
}


Value ShardValue(const v1::Shard& s) {
  Value out = Value::Map();
  out.Add("ShardId", Value::String(s.shard_id()));
  if (!s.parent_shard_id().empty()) out.Add("ParentShardId", Value::String(s.parent_shard_id()));
  if (!s.adjacent_parent_shard_id().empty()) {
    out.Add("AdjacentParentShardId", Value::String(s.adjacent_parent_shard_id()));
  }
  out.Add("HashKeyRange", HashKeyRangeShape(s.hash_key_range()));
  Value& range = out.Add("SequenceNumberRange", Value::Map());
  range.Add("StartingSequenceNumber",
            Value::String(s.sequence_number_range().starting_sequence_number()));
  if (!s.sequence_number_range().ending_sequence_number().empty()) {
    range.Add("EndingSequenceNumber",
              Value::String(s.sequence_number_range().ending_sequence_number()));
  }
  return out;
}


// --- Operations ----------------------------------------------------------------------------

absl::StatusOr<Value> CreateStream(const Context& c, Input& in) {
  InputReader& r = in.reader;
  std::optional<std::string> name = r.String("StreamName");
  r.Required("StreamName", name.has_value());
  CheckName(r, "StreamName", name);
  std::optional<int64_t> shard_count = r.Integer("ShardCount");
  r.Range("ShardCount", shard_count, 1, kMaxInt32);
  std::optional<std::string> mode = ReadStreamMode(r);
  RETURN_IF_ERROR(in.Check());
  if (!shard_count) {
    if (mode != "ON_DEMAND") {
      return absl::InvalidArgumentError("ShardCount is required for a PROVISIONED stream");
    }
    shard_count = kOnDemandInitialShards;
  }
  if (*shard_count > shard_store::kMaxShardCount) {
    return ToStatus(MakeError(kLimitExceeded,
                              absl::StrCat("ShardCount ", *shard_count, " exceeds the limit of ",
                                           shard_store::kMaxShardCount, " shards per stream")));
  }
  if (tables::IsTableStreamName(*name)) {
    return absl::InvalidArgumentError(absl::StrCat("StreamName ", *name, ": the prefix ",
                                                   tables::kTableStreamPrefix,
                                                   " is reserved for DynamoDB table streams"));
  }
  v1::CreateStreamRequest request;
  request.set_stream_name(*name);
  request.set_shard_count(static_cast<int32_t>(*shard_count));
  // Without StreamModeDetails the stream follows the server (--kinesis_shard_limits), where
  // Kinesis would make it PROVISIONED: limits stay off unless asked for (shard_store/NOTES.md).
  if (mode) request.mutable_stream_mode_details()->set_stream_mode(ToStreamMode(*mode));
  RETURN_IF_ERROR(c.store.CreateStream(request));
  return Value::Map();
}

absl::StatusOr<Value> DeleteStream(const Context& c, Input& in) {
  StreamRef ref = ReadStreamRef(in.reader);
  std::optional<bool> enforce = in.reader.Boolean("EnforceConsumerDeletion");
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  v1::DeleteStreamRequest request;
  request.set_stream_name(name);
  request.set_enforce_consumer_deletion(enforce.value_or(false));
  RETURN_IF_ERROR(c.store.DeleteStream(request));
  return Value::Map();
}

// The members DescribeStream and DescribeStreamSummary share, in AWS's order.
void AddStreamHead(const Context& c, const v1::StreamDescriptionSummary& s, Value* out) {
  out->Add("StreamName", Value::String(s.stream_name()));
  out->Add("StreamARN", Value::String(c.api.StreamArn(s.stream_name())));
  out->Add("StreamStatus", Value::String(StatusName(s.stream_status())));
  out->Add("StreamModeDetails", StreamModeDetails(s.stream_mode_details()));
}

absl::StatusOr<Value> DescribeStreamSummary(const Context& c, Input& in) {
  StreamRef ref = ReadStreamRef(in.reader);
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  v1::DescribeStreamSummaryRequest request;
  request.set_stream_name(name);
  ASSIGN_OR_RETURN(v1::DescribeStreamSummaryResponse response,
                   c.store.DescribeStreamSummary(request));
  const v1::StreamDescriptionSummary& s = response.stream_description_summary();
  Value out = Value::Map();
  Value& summary = out.Add("StreamDescriptionSummary", Value::Map());
  AddStreamHead(c, s, &summary);
  summary.Add("RetentionPeriodHours", Value::Integer(s.retention_period_hours()));
  summary.Add("StreamCreationTimestamp", Time(s.stream_creation_timestamp()));
  summary.Add("EnhancedMonitoring", EnhancedMonitoring());
  summary.Add("EncryptionType", Value::String("NONE"));
  summary.Add("OpenShardCount", Value::Integer(s.open_shard_count()));
  summary.Add("ConsumerCount", Value::Integer(s.consumer_count()));
  return out;
}

absl::StatusOr<Value> DescribeStream(const Context& c, Input& in) {
  InputReader& r = in.reader;
  StreamRef ref = ReadStreamRef(r);
  std::optional<int64_t> limit = r.Integer("Limit");
  r.Range("Limit", limit, 1, 10000);
  std::optional<std::string> start = r.String("ExclusiveStartShardId");
  CheckName(r, "ExclusiveStartShardId", start);
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  v1::DescribeStreamSummaryRequest summary_request;
  summary_request.set_stream_name(name);
  ASSIGN_OR_RETURN(v1::DescribeStreamSummaryResponse summary,
                   c.store.DescribeStreamSummary(summary_request));
  v1::ListShardsRequest shards_request;
  shards_request.set_stream_name(name);
  shards_request.set_max_results(static_cast<int32_t>(limit.value_or(kDefaultDescribeStreamLimit)));
  if (start) {
    shards_request.set_exclusive_start_shard_id(NormalizeShardId(*start).value_or(*start));
  }
  ASSIGN_OR_RETURN(v1::ListShardsResponse shards, c.store.ListShards(shards_request));

  const v1::StreamDescriptionSummary& s = summary.stream_description_summary();
  Value out = Value::Map();
  Value& description = out.Add("StreamDescription", Value::Map());
  AddStreamHead(c, s, &description);
  Value& list = description.Add("Shards", Value::List());
  list.Reserve(shards.shards_size());
  for (const v1::Shard& shard : shards.shards()) list.Append(ShardValue(shard));
  description.Add("HasMoreShards", Value::Bool(!shards.next_token().empty()));
  description.Add("RetentionPeriodHours", Value::Integer(s.retention_period_hours()));
  description.Add("StreamCreationTimestamp", Time(s.stream_creation_timestamp()));
  description.Add("EnhancedMonitoring", EnhancedMonitoring());
  description.Add("EncryptionType", Value::String("NONE"));
  return out;
}

absl::StatusOr<Value> ListStreams(const Context& c, Input& in) {
  InputReader& r = in.reader;
  std::optional<int64_t> limit = r.Integer("Limit");
  r.Range("Limit", limit, 1, 10000);
  std::optional<std::string> start = r.String("ExclusiveStartStreamName");
  CheckName(r, "ExclusiveStartStreamName", start);
  std::optional<std::string> token = r.String("NextToken");
  r.Length("NextToken", token, 1, 1048576);
  RETURN_IF_ERROR(in.Check());
  v1::ListStreamsRequest request;
  request.set_limit(static_cast<int32_t>(limit.value_or(0)));
  if (start) request.set_exclusive_start_stream_name(*start);
  if (token) request.set_next_token(*token);
  ASSIGN_OR_RETURN(v1::ListStreamsResponse response, c.store.ListStreams(request));
  Value out = Value::Map();
  Value& names = out.Add("StreamNames", Value::List());
  for (const std::string& name : response.stream_names()) {
    if (!tables::IsTableStreamName(name)) names.Append(Value::String(name));
  }
  out.Add("HasMoreStreams", Value::Bool(response.has_more_streams()));
  if (!response.next_token().empty()) out.Add("NextToken", Value::String(response.next_token()));
  Value& summaries = out.Add("StreamSummaries", Value::List());
  for (const v1::StreamSummary& s : response.stream_summaries()) {
    if (tables::IsTableStreamName(s.stream_name())) continue;
    Value& summary = summaries.Append(Value::Map());
    summary.Add("StreamName", Value::String(s.stream_name()));
    summary.Add("StreamARN", Value::String(c.api.StreamArn(s.stream_name())));
    summary.Add("StreamStatus", Value::String(StatusName(s.stream_status())));
    summary.Add("StreamModeDetails", StreamModeDetails(s.stream_mode_details()));
    summary.Add("StreamCreationTimestamp", Time(s.stream_creation_timestamp()));
  }
  return out;
}

absl::StatusOr<Value> ListShards(const Context& c, Input& in) {
  InputReader& r = in.reader;
  StreamRef ref = ReadStreamRef(r);
  std::optional<std::string> token = r.String("NextToken");
  r.Length("NextToken", token, 1, 1048576);
  std::optional<std::string> start = r.String("ExclusiveStartShardId");
  CheckName(r, "ExclusiveStartShardId", start);
  std::optional<int64_t> max_results = r.Integer("MaxResults");
  r.Range("MaxResults", max_results, 1, 10000);
  r.Timestamp("StreamCreationTimestamp");  // names the stream's incarnation; one exists here
  std::optional<std::string> filter_type, filter_shard;
  std::optional<absl::Time> filter_time;
  std::optional<InputReader> filter = r.Structure("ShardFilter");
  if (filter) {
    filter_type = filter->String("Type");
    filter->Required("Type", filter_type.has_value());
    filter->Enum("Type", filter_type,
                 {"AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST",
                  "AT_TIMESTAMP", "FROM_TIMESTAMP"});
    filter_shard = filter->String("ShardId");
    CheckName(*filter, "ShardId", filter_shard);
    filter_time = filter->Timestamp("Timestamp");
  }
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref, /*required=*/!token.has_value()));
  v1::ListShardsRequest request;
  request.set_stream_name(name);
  if (token) request.set_next_token(*token);
  if (start) request.set_exclusive_start_shard_id(NormalizeShardId(*start).value_or(*start));
  request.set_max_results(static_cast<int32_t>(max_results.value_or(0)));
  if (filter) {
    v1::ShardFilter* f = request.mutable_shard_filter();
    static const std::pair<absl::string_view, v1::ShardFilterType> kTypes[] = {
        {"AFTER_SHARD_ID", v1::AFTER_SHARD_ID},       {"AT_TRIM_HORIZON", v1::AT_TRIM_HORIZON},
        {"FROM_TRIM_HORIZON", v1::FROM_TRIM_HORIZON}, {"AT_LATEST", v1::AT_LATEST},
        {"AT_TIMESTAMP", v1::AT_TIMESTAMP_FILTER},    {"FROM_TIMESTAMP", v1::FROM_TIMESTAMP}};
    for (const auto& [text, type] : kTypes) {
      if (*filter_type == text) f->set_type(type);
    }
    if (filter_shard) f->set_shard_id(NormalizeShardId(*filter_shard).value_or(*filter_shard));
    if (filter_time) *f->mutable_timestamp() = ToProtoTimestamp(*filter_time);
  }
  ASSIGN_OR_RETURN(v1::ListShardsResponse response, c.store.ListShards(request));
  Value out = Value::Map();
  Value& shards = out.Add("Shards", Value::List());
  shards.Reserve(response.shards_size());
  for (const v1::Shard& shard : response.shards()) shards.Append(ShardValue(shard));
  if (!response.next_token().empty()) out.Add("NextToken", Value::String(response.next_token()));
  return out;
}

// Reads one record's members (PutRecord's input, or an element of PutRecords' Records).
void ReadRecordMembers(InputReader& r, std::string* data, std::string* partition_key,
                       std::string* explicit_hash_key) {
  std::optional<std::string> d = r.Blob("Data");
  r.Required("Data", d.has_value());
  r.BlobLength("Data", d, 0, kMaxDataBytes);
  std::optional<std::string> pk = r.String("PartitionKey");
  r.Required("PartitionKey", pk.has_value());
  r.Length("PartitionKey", pk, 1, 256);
  std::optional<std::string> ehk = r.String("ExplicitHashKey");
  r.Pattern("ExplicitHashKey", ehk, kHashKeyPattern, MatchesHashKey);
  if (d) *data = std::move(*d);
  if (pk) *partition_key = std::move(*pk);
  if (ehk) *explicit_hash_key = std::move(*ehk);
}

absl::StatusOr<Value> PutRecord(const Context& c, Input& in) {
  InputReader& r = in.reader;
  StreamRef ref = ReadStreamRef(r);
  v1::PutRecordRequest request;
  ReadRecordMembers(r, request.mutable_data(), request.mutable_partition_key(),
                    request.mutable_explicit_hash_key());
  std::optional<std::string> ordering = r.String("SequenceNumberForOrdering");
  r.Pattern("SequenceNumberForOrdering", ordering, kSequenceNumberPattern, MatchesSequenceNumber);
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  request.set_stream_name(name);
  if (ordering) request.set_sequence_number_for_ordering(*ordering);
  ASSIGN_OR_RETURN(v1::PutRecordResponse response, c.store.PutRecord(request));
  Value out = Value::Map();
  out.Add("ShardId", Value::String(response.shard_id()));
  out.Add("SequenceNumber", Value::String(response.sequence_number()));
  out.Add("EncryptionType", Value::String("NONE"));
  return out;
}

absl::StatusOr<Value> PutRecords(const Context& c, Input& in) {
  InputReader& r = in.reader;
  StreamRef ref = ReadStreamRef(r);
  const std::vector<Value>* records = r.List("Records");
  r.Required("Records", records != nullptr);
  r.ListLength("Records", records, 1, 500);
  v1::PutRecordsRequest request;
  if (records != nullptr && records->size() <= 500) {
    request.mutable_records()->Reserve(static_cast<int>(records->size()));
    for (size_t i = 0; i < records->size(); ++i) {
      InputReader element = r.Element("Records", i, (*records)[i]);
      v1::PutRecordsRequestEntry* entry = request.add_records();
      ReadRecordMembers(element, entry->mutable_data(), entry->mutable_partition_key(),
                        entry->mutable_explicit_hash_key());
    }
  }
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  request.set_stream_name(name);
  v1::PutRecordsResponse response;
  RETURN_IF_ERROR(c.store.PutRecords(request, &response));
  Value out = Value::Map();
  out.Add("FailedRecordCount", Value::Integer(response.failed_record_count()));
  Value& results = out.Add("Records", Value::List());
  results.Reserve(response.records_size());
  for (const v1::PutRecordsResultEntry& e : response.records()) {
    Value& result = results.Append(Value::Map());
    if (!e.error_code().empty()) {
      result.Add("ErrorCode", Value::String(e.error_code()));
      result.Add("ErrorMessage", Value::String(e.error_message()));
    } else {
      result.Add("SequenceNumber", Value::String(e.sequence_number()));
      result.Add("ShardId", Value::String(e.shard_id()));
    }
  }
  out.Add("EncryptionType", Value::String("NONE"));
  return out;
}

absl::StatusOr<Value> GetShardIterator(const Context& c, Input& in) {
  InputReader& r = in.reader;
  StreamRef ref = ReadStreamRef(r);
  std::optional<std::string> shard = r.String("ShardId");
  r.Required("ShardId", shard.has_value());
  CheckName(r, "ShardId", shard);
  std::optional<std::string> type = r.String("ShardIteratorType");
  r.Required("ShardIteratorType", type.has_value());
  r.Enum("ShardIteratorType", type,
         {"AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"});
  std::optional<std::string> sequence = r.String("StartingSequenceNumber");
  r.Pattern("StartingSequenceNumber", sequence, kSequenceNumberPattern, MatchesSequenceNumber);
  std::optional<absl::Time> timestamp = r.Timestamp("Timestamp");
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  std::optional<std::string> shard_id = NormalizeShardId(*shard);
  if (!shard_id) return ShardNotFound(*shard, name);
  v1::GetShardIteratorRequest request;
  request.set_stream_name(name);
  request.set_shard_id(*shard_id);
  v1::ShardIteratorType parsed = v1::SHARD_ITERATOR_TYPE_UNSPECIFIED;
  v1::ShardIteratorType_Parse(*type, &parsed);  // the names are Kinesis's
  request.set_shard_iterator_type(parsed);
  if (sequence) request.set_starting_sequence_number(*sequence);
  if (timestamp) *request.mutable_timestamp() = ToProtoTimestamp(*timestamp);
  ASSIGN_OR_RETURN(v1::GetShardIteratorResponse response, c.store.GetShardIterator(request));
  Value out = Value::Map();
  out.Add("ShardIterator", Value::String(response.shard_iterator()));
  return out;
}

absl::StatusOr<Value> GetRecords(const Context& c, Input& in) {
  InputReader& r = in.reader;
  std::optional<std::string> iterator = r.String("ShardIterator");
  r.Required("ShardIterator", iterator.has_value());
  r.Length("ShardIterator", iterator, 1, 512);
  std::optional<int64_t> limit = r.Integer("Limit");
  r.Range("Limit", limit, 1, 10000);
  StreamRef ref;  // GetRecords names the stream by ARN only, for authorization
  ref.arn = ReadStreamArn(r);
  RETURN_IF_ERROR(in.Check());
  RETURN_IF_ERROR(Resolve(c, ref, /*required=*/false).status());
  v1::GetRecordsRequest request;
  request.set_shard_iterator(*iterator);
  request.set_limit(static_cast<int32_t>(limit.value_or(0)));
  v1::GetRecordsResponse response;
  RETURN_IF_ERROR(c.store.GetRecords(request, &response));
  Value out = Value::Map();
  out.Add("Records", RecordsShape(response.mutable_records()));
  if (!response.next_shard_iterator().empty()) {
    out.Add("NextShardIterator", Value::String(response.next_shard_iterator()));
  }
  out.Add("MillisBehindLatest", Value::Integer(response.millis_behind_latest()));
  if (response.child_shards_size() > 0) {
    out.Add("ChildShards", ChildShardsShape(response.child_shards()));
  }
  return out;
}

absl::StatusOr<Value> SplitShard(const Context& c, Input& in) {
  InputReader& r = in.reader;
  StreamRef ref = ReadStreamRef(r);
  std::optional<std::string> shard = r.String("ShardToSplit");
  r.Required("ShardToSplit", shard.has_value());
  CheckName(r, "ShardToSplit", shard);
  std::optional<std::string> key = r.String("NewStartingHashKey");
  r.Required("NewStartingHashKey", key.has_value());
  r.Pattern("NewStartingHashKey", key, kHashKeyPattern, MatchesHashKey);
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  std::optional<std::string> shard_id = NormalizeShardId(*shard);
  if (!shard_id) return ShardNotFound(*shard, name);
  v1::SplitShardRequest request;
  request.set_stream_name(name);
  request.set_shard_to_split(*shard_id);
  request.set_new_starting_hash_key(*key);
  RETURN_IF_ERROR(c.store.SplitShard(request));
  return Value::Map();
}

absl::StatusOr<Value> MergeShards(const Context& c, Input& in) {
  InputReader& r = in.reader;
  StreamRef ref = ReadStreamRef(r);
  std::optional<std::string> shard = r.String("ShardToMerge");
  r.Required("ShardToMerge", shard.has_value());
  CheckName(r, "ShardToMerge", shard);
  std::optional<std::string> adjacent = r.String("AdjacentShardToMerge");
  r.Required("AdjacentShardToMerge", adjacent.has_value());
  CheckName(r, "AdjacentShardToMerge", adjacent);
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  std::optional<std::string> shard_id = NormalizeShardId(*shard);
  if (!shard_id) return ShardNotFound(*shard, name);
  std::optional<std::string> adjacent_id = NormalizeShardId(*adjacent);
  if (!adjacent_id) return ShardNotFound(*adjacent, name);
  v1::MergeShardsRequest request;
  request.set_stream_name(name);
  request.set_shard_to_merge(*shard_id);
  request.set_adjacent_shard_to_merge(*adjacent_id);
  RETURN_IF_ERROR(c.store.MergeShards(request));
  return Value::Map();
}

absl::StatusOr<Value> UpdateShardCount(const Context& c, Input& in) {
  InputReader& r = in.reader;
  StreamRef ref = ReadStreamRef(r);
  std::optional<int64_t> target = r.Integer("TargetShardCount");
  r.Required("TargetShardCount", target.has_value());
  r.Range("TargetShardCount", target, 1, kMaxInt32);
  std::optional<std::string> scaling = r.String("ScalingType");
  r.Required("ScalingType", scaling.has_value());
  r.Enum("ScalingType", scaling, {"UNIFORM_SCALING"});
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  if (*target > shard_store::kMaxShardCount) {
    return ToStatus(MakeError(kLimitExceeded,
                              absl::StrCat("TargetShardCount ", *target, " exceeds the limit of ",
                                           shard_store::kMaxShardCount, " shards per stream")));
  }
  v1::UpdateShardCountRequest request;
  request.set_stream_name(name);
  request.set_target_shard_count(static_cast<int32_t>(*target));
  request.set_scaling_type(v1::UNIFORM_SCALING);
  ASSIGN_OR_RETURN(v1::UpdateShardCountResponse response, c.store.UpdateShardCount(request));
  Value out = Value::Map();
  out.Add("StreamName", Value::String(name));
  out.Add("CurrentShardCount", Value::Integer(response.current_shard_count()));
  out.Add("TargetShardCount", Value::Integer(response.target_shard_count()));
  out.Add("StreamARN", Value::String(c.api.StreamArn(name)));
  return out;
}

// Increase- and DecreaseStreamRetentionPeriod.
template <typename Request, absl::Status (ShardStore::*Method)(const Request&)>
absl::StatusOr<Value> ChangeRetention(const Context& c, Input& in) {
  InputReader& r = in.reader;
  StreamRef ref = ReadStreamRef(r);
  std::optional<int64_t> hours = r.Integer("RetentionPeriodHours");
  r.Required("RetentionPeriodHours", hours.has_value());
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  Request request;
  request.set_stream_name(name);
  request.set_retention_period_hours(SaturateInt32(*hours));  // out of range either way
  RETURN_IF_ERROR((c.store.*Method)(request));
  return Value::Map();
}

absl::StatusOr<Value> UpdateStreamMode(const Context& c, Input& in) {
  InputReader& r = in.reader;
  StreamRef ref = ReadStreamRef(r);
  std::optional<std::string> mode = ReadStreamMode(r);
  r.Required("StreamModeDetails", mode.has_value());
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  v1::UpdateStreamModeRequest request;
  request.set_stream_name(name);
  request.mutable_stream_mode_details()->set_stream_mode(ToStreamMode(*mode));
  RETURN_IF_ERROR(c.store.UpdateStreamMode(request));
  return Value::Map();
}

absl::StatusOr<Value> DescribeLimits(const Context& c, Input& in) {
  RETURN_IF_ERROR(in.Check());
  // Open shards over every stream (the store's limit is per stream; there is no account limit).
  int64_t open_shards = 0;
  v1::ListStreamsRequest list;
  list.set_limit(10000);
  while (true) {
    ASSIGN_OR_RETURN(v1::ListStreamsResponse page, c.store.ListStreams(list));
    for (const std::string& name : page.stream_names()) {
      if (tables::IsTableStreamName(name)) continue;
      v1::DescribeStreamSummaryRequest request;
      request.set_stream_name(name);
      absl::StatusOr<v1::DescribeStreamSummaryResponse> summary =
          c.store.DescribeStreamSummary(request);
      if (summary.ok()) open_shards += summary->stream_description_summary().open_shard_count();
    }
    if (page.next_token().empty()) break;
    list.set_next_token(page.next_token());
  }
  Value out = Value::Map();
  out.Add("ShardLimit", Value::Integer(shard_store::kMaxShardCount));
  out.Add("OpenShardCount", Value::Integer(open_shards));
  out.Add("OnDemandStreamCount", Value::Integer(0));
  out.Add("OnDemandStreamCountLimit", Value::Integer(0));
  return out;
}

// SubscribeToShard: the ConsumerARN (of a registered consumer) names the stream; the events come
// from the same subscription as the gRPC call's (StreamsService::Subscribe), framed by
// KinesisEventStream.
absl::StatusOr<std::shared_ptr<KinesisEventStream>> SubscribeToShard(
    const Context& c, Input& in, shard_store::StreamsService& streams, Clock& clock,
    Protocol protocol) {
  InputReader& r = in.reader;
  std::optional<std::string> consumer = r.String("ConsumerARN");
  r.Required("ConsumerARN", consumer.has_value());
  CheckConsumerArn(r, consumer);
  std::optional<std::string> shard = r.String("ShardId");
  r.Required("ShardId", shard.has_value());
  CheckName(r, "ShardId", shard);
  std::optional<InputReader> position = r.Structure("StartingPosition");
  r.Required("StartingPosition", position.has_value());
  std::optional<std::string> type, sequence;
  std::optional<absl::Time> timestamp;
  if (position) {
    type = position->String("Type");
    position->Required("Type", type.has_value());
    position->Enum(
        "Type", type,
        {"AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"});
    sequence = position->String("SequenceNumber");
    position->Pattern("SequenceNumber", sequence, kSequenceNumberPattern, MatchesSequenceNumber);
    timestamp = position->Timestamp("Timestamp");
  }
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, RegisteredConsumerStream(c, *consumer));
  std::optional<std::string> shard_id = NormalizeShardId(*shard);
  if (!shard_id) return ShardNotFound(*shard, name);
  v1::SubscribeToShardRequest request;
  request.set_consumer_arn(*consumer);
  request.set_stream_name(name);
  request.set_shard_id(*shard_id);
  v1::ShardIteratorType parsed = v1::SHARD_ITERATOR_TYPE_UNSPECIFIED;
  v1::ShardIteratorType_Parse(*type, &parsed);  // the names are Kinesis's
  request.mutable_starting_position()->set_type(parsed);
  if (sequence) request.mutable_starting_position()->set_sequence_number(*sequence);
  if (timestamp) {
    *request.mutable_starting_position()->mutable_timestamp() = ToProtoTimestamp(*timestamp);
  }
  auto stream = std::make_shared<KinesisEventStream>(protocol, clock);
  ASSIGN_OR_RETURN(shard_store::SubscriptionControl * control,
                   streams.Subscribe(request, /*keep_alive=*/true, stream.get()));
  stream->Attach(control);
  return stream;
}

// --- The operation table -------------------------------------------------------------------

// Records: a throttled write or read is ProvisionedThroughputExceededException.
StatusMapping DataPlane() {
  StatusMapping m;
  m.resource_exhausted = kProvisionedThroughputExceeded;
  return m;
}
// GetRecords: the store's only FAILED_PRECONDITION is an expired iterator.
StatusMapping Reads() {
  StatusMapping m = DataPlane();
  m.failed_precondition = kExpiredIterator;
  return m;
}

const std::vector<Operation>& Operations() {
  static const auto* operations = new std::vector<Operation>{
      {"CreateStream", CreateStream, ControlPlane()},
      {"DeleteStream", DeleteStream, ControlPlane()},
      {"DescribeStream", DescribeStream, ControlPlane()},
      {"DescribeStreamSummary", DescribeStreamSummary, ControlPlane()},
      {"ListStreams", ListStreams, Listings()},
      {"ListShards", ListShards, Listings()},
      {"PutRecord", PutRecord, DataPlane()},
      {"PutRecords", PutRecords, DataPlane()},
      {"GetShardIterator", GetShardIterator, DataPlane()},
      {"GetRecords", GetRecords, Reads()},
      {"SplitShard", SplitShard, ControlPlane()},
      {"MergeShards", MergeShards, ControlPlane()},
      {"UpdateShardCount", UpdateShardCount, ControlPlane()},
      {"IncreaseStreamRetentionPeriod",
       ChangeRetention<v1::IncreaseStreamRetentionPeriodRequest,
                       &ShardStore::IncreaseStreamRetentionPeriod>,
       ControlPlane()},
      {"DecreaseStreamRetentionPeriod",
       ChangeRetention<v1::DecreaseStreamRetentionPeriodRequest,
                       &ShardStore::DecreaseStreamRetentionPeriod>,
       ControlPlane()},
      {"UpdateStreamMode", UpdateStreamMode, ControlPlane()},
      {"DescribeLimits", DescribeLimits, ControlPlane()},
  };
  return *operations;
}

// Kinesis operations not served yet (aws/NOTES.md).
constexpr absl::string_view kNotYetSupported[] = {
    "EnableEnhancedMonitoring",   "DisableEnhancedMonitoring", "StartStreamEncryption",
    "StopStreamEncryption",       "GetResourcePolicy",         "PutResourcePolicy",
    "DeleteResourcePolicy",       "UpdateMaxRecordSize",       "UpdateStreamWarmThroughput",
    "UpdateAccountSettings",      "DescribeAccountSettings",
};

}  // namespace

namespace kinesis_internal {

// The rows of the status table (aws_error.h has the defaults: INVALID_ARGUMENT →
// InvalidArgumentException, NOT_FOUND → ResourceNotFoundException, ALREADY_EXISTS /
// FAILED_PRECONDITION / ABORTED → ResourceInUseException, RESOURCE_EXHAUSTED →
// LimitExceededException). Tags and consumers use these too: a duplicate consumer
// (ALREADY_EXISTS) and DeleteStream of a stream with consumers (FAILED_PRECONDITION) are
// ResourceInUseException, the 21st consumer (RESOURCE_EXHAUSTED) LimitExceededException, as
// Kinesis documents them.
StatusMapping ControlPlane() { return StatusMapping(); }

// ListShards / ListStreams / ListStreamConsumers: the only FAILED_PRECONDITION is an expired
// NextToken.
StatusMapping Listings() {
  StatusMapping m;
  m.failed_precondition = kExpiredNextToken;
  return m;
}

}  // namespace kinesis_internal

KinesisApi::KinesisApi(ShardStore& store, Clock& clock, KinesisApiOptions options,
                       shard_store::StreamsService* streams)
    : store_(store), clock_(clock), options_(std::move(options)), streams_(streams) {}

std::string KinesisApi::StreamArn(absl::string_view stream_name) const {
  return ::tributary::KinesisStreamArn({options_.region, options_.account_id}, stream_name);
}

AwsOutcome KinesisApi::Call(const AwsCall& call) {
  if (call.operation == "SubscribeToShard") {
    if (streams_ == nullptr) {
      return MakeError(kUnknownOperation, "SubscribeToShard is not served by this process");
    }
    Input in(call);
    const Context context{store_, options_, *this};
    absl::StatusOr<std::shared_ptr<KinesisEventStream>> stream =
        SubscribeToShard(context, in, *streams_, clock_, call.protocol);
    if (!stream.ok()) return FromStatus(stream.status(), DataPlane());
    return AwsOutcome::EventStream(*std::move(stream));
  }
  for (const std::vector<Operation>* table :
       {&Operations(), &kinesis_internal::MetadataOperations()}) {
    for (const Operation& op : *table) {
      if (op.name != call.operation) continue;
      Input in(call);
      const Context context{store_, options_, *this};
      absl::StatusOr<Value> out = op.fn(context, in);
      if (!out.ok()) return FromStatus(out.status(), op.errors);
      return std::move(*out);
    }
  }
  for (absl::string_view name : kNotYetSupported) {
    if (name == call.operation) {
      return MakeError(kUnknownOperation, absl::StrCat("Kinesis operation ", name,
                                                       " is not supported by Tributary yet"));
    }
  }
  return MakeError(kUnknownOperation,
                   absl::StrCat("unknown Kinesis operation '", call.operation, "'"));
}

const char* KinesisApi::ThrottlingError(absl::string_view operation) const {
  for (absl::string_view data_call :
       {"PutRecord", "PutRecords", "GetRecords", "GetShardIterator", "SubscribeToShard"}) {
    if (operation == data_call) return kProvisionedThroughputExceeded;
  }
  return kLimitExceeded;
}

}  // namespace tributary::aws
