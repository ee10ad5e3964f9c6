// The DynamoDB Streams adapter: input → (tables for the stream's table, shard_store for shards
// and records) → output, with the edge's id translation (tables/stream_ids.h). Change records are decoded
// from the store's record data (tables/change_record.h) and rendered here.
#include "aws/dynamodb_streams_handler.h"

#include <cstdio>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "aws/input_reader.h"
#include "tables/change_record.h"
#include "tables/stream_ids.h"

namespace tributary::aws {
namespace {

using tables::AttributeMap;
using tables::AttributeValue;
using Type = tables::AttributeValue::Type;

constexpr char kErrorPrefix[] = "com.amazonaws.dynamodb.v20120810#";

AwsError FromStoreStatus(const absl::Status& status) {
  static const StatusMapping kMapping = [] {
    StatusMapping m;
    m.invalid_argument = kValidation;
    m.not_found = kResourceNotFound;
    m.failed_precondition = kExpiredIterator;
    m.resource_exhausted = kLimitExceeded;
    return m;
  }();
  AwsError error = FromStatus(status, kMapping);
  error.type = absl::StrCat(kErrorPrefix, error.type);
  return error;
}

}  // namespace

class StreamsHandler {
 public:
  StreamsHandler(DynamoDbStreamsApi& api, const AwsCall& call)
      : api_(api), call_(call), errors_(call.protocol), in_(call.input, &errors_) {}

  AwsOutcome Run() {
    const absl::string_view op = call_.operation;
    absl::StatusOr<Value> out = op == "ListStreams"        ? ListStreams()
                                : op == "DescribeStream"   ? DescribeStream()
                                : op == "GetShardIterator" ? GetShardIterator()
                                : op == "GetRecords"       ? GetRecords()
                                                           : Unknown();
    if (reply_error_.has_value()) return *reply_error_;
    if (!out.ok()) return FromStoreStatus(out.status());
    return *std::move(out);
  }

 private:
  absl::StatusOr<Value> Unknown() {
    reply_error_ =
        MakeError(kUnknownOperation, absl::StrCat("DynamoDB Streams operation '", call_.operation,
                                                  "' is not supported by Tributary yet"));
    return Value();
  }

  bool InputOk() {
    if (std::optional<AwsError> e = errors_.Error()) {
      reply_error_ = AwsError{absl::StrCat(kErrorPrefix, e->type), e->message, e->http_status};
      return false;
    }
    return true;
  }

  // The stream an ARN names: ENABLED, or DISABLED and not yet expired (its table may be gone).
  absl::StatusOr<tables::TableStreamDescription> TableOf(const std::string& arn) {
    std::optional<std::pair<std::string, std::string>> parts = api_.ParseStreamArn(arn);
    if (!parts) {
      return absl::InvalidArgumentError(
          absl::StrCat("StreamArn: not a stream ARN of this endpoint: ", arn));
    }
    absl::StatusOr<tables::TableStreamDescription> stream =
        api_.tables_.DescribeStream(parts->first, parts->second);
    if (!stream.ok()) {
      return absl::NotFoundError(
          absl::StrCat("Requested resource not found: Stream: ", arn, " not found"));
    }
    return stream;
  }

  std::string ArnOf(const tables::TableStreamDescription& s) {
    return api_.arns_.StreamArn(s.table_name, s.label);
  }

  // Every stream of this endpoint, ENABLED and DISABLED (for 24 h after it was turned off or its
  // table deleted), by table name and label, paged with ExclusiveStartStreamArn /
  // LastEvaluatedStreamArn.
  absl::StatusOr<Value> ListStreams() {
    std::optional<std::string> table = in_.String("TableName");
    std::optional<int64_t> limit = in_.Integer("Limit");
    std::optional<std::string> start = in_.String("ExclusiveStartStreamArn");
    in_.Range("Limit", limit, 1, 100);
    in_.Length("ExclusiveStartStreamArn", start, 37, 1024);
    if (!InputOk()) return Value();
    std::pair<std::string, std::string> after;
    if (start) {
      std::optional<std::pair<std::string, std::string>> parts = api_.ParseStreamArn(*start);
      if (!parts) {
        return absl::InvalidArgumentError(
            absl::StrCat("ExclusiveStartStreamArn: not a stream ARN of this endpoint: ", *start));
      }
      after = *parts;
    }
    absl::StatusOr<tables::TableStreamList> list = api_.tables_.ListStreams(
        table.value_or(""), after.first, after.second, static_cast<int>(limit.value_or(100)));
    if (!list.ok()) return list.status();
    if (table && list->streams.empty() && !start) {
      // No stream of that name, now or in the last 24 h: a table that does not exist is an
      // error, one without streams an empty list.
      absl::StatusOr<tables::TableDescription> d = api_.tables_.DescribeTable(*table);
      if (!d.ok()) return d.status();
    }
    Value out = Value::Map();
    Value& streams = out.Add("Streams", Value::List());
    for (const tables::TableStreamDescription& d : list->streams) {
      Value& s = streams.Append(Value::Map());
      s.Add("StreamArn", Value::String(ArnOf(d)));
      s.Add("TableName", Value::String(d.table_name));
      s.Add("StreamLabel", Value::String(d.label));
    }
    if (list->more && !list->streams.empty()) {
      out.Add("LastEvaluatedStreamArn", Value::String(ArnOf(list->streams.back())));
    }
    return out;
  }

  absl::StatusOr<Value> DescribeStream() {
    std::optional<std::string> arn = in_.String("StreamArn");
    in_.Required("StreamArn", arn.has_value());
    std::optional<int64_t> limit = in_.Integer("Limit");
    in_.Range("Limit", limit, 1, 100);
    std::optional<std::string> start = in_.String("ExclusiveStartShardId");
    if (!InputOk()) return Value();
    absl::StatusOr<tables::TableStreamDescription> d = TableOf(*arn);
    if (!d.ok()) return d.status();
    v1::ListShardsRequest request;
    request.set_stream_name(d->stream_name);
    request.set_max_results(static_cast<int>(limit.value_or(100)));
    if (start) {
      std::optional<uint32_t> index = tables::StoreShardIndex(*start);
      if (!index) return absl::InvalidArgumentError("ExclusiveStartShardId: not a shard id");
      request.set_exclusive_start_shard_id(shard_store::ShardIdFromIndex(*index));
    }
    absl::StatusOr<v1::ListShardsResponse> shards = api_.store_.ListShards(request);
    if (!shards.ok()) return shards.status();
    Value out = Value::Map();
    Value& desc = out.Add("StreamDescription", Value::Map());
    desc.Add("StreamArn", Value::String(*arn));
    desc.Add("StreamLabel", Value::String(d->label));
    desc.Add("StreamStatus", Value::String(d->enabled ? "ENABLED" : "DISABLED"));
    desc.Add("StreamViewType", Value::String(tables::StreamViewTypeName(d->view_type)));
    desc.Add("CreationRequestDateTime", Value::Timestamp(d->creation_time));
    desc.Add("TableName", Value::String(d->table_name));
    Value schema = Value::List();
    auto add_key = [&](const tables::KeyAttribute& k, const char* type) {
      Value& e = schema.Append(Value::Map());
      e.Add("AttributeName", Value::String(k.name));
      e.Add("KeyType", Value::String(type));
    };
    add_key(d->key_schema.partition_key, "HASH");
    if (d->key_schema.sort_key) add_key(*d->key_schema.sort_key, "RANGE");
    desc.Add("KeySchema", std::move(schema));
    Value list = Value::List();
    std::string last;
    for (const v1::Shard& shard : shards->shards()) {
      Value& s = list.Append(Value::Map());
      last = EdgeShard(shard.shard_id(), d->table_id);
      s.Add("ShardId", Value::String(last));
      Value& range = s.Add("SequenceNumberRange", Value::Map());
      range.Add("StartingSequenceNumber",
                Value::String(tables::EdgeSequenceNumber(
                    shard.sequence_number_range().starting_sequence_number())));
      if (!shard.sequence_number_range().ending_sequence_number().empty()) {
        range.Add("EndingSequenceNumber",
                  Value::String(tables::EdgeSequenceNumber(
                      shard.sequence_number_range().ending_sequence_number())));
      }
      if (!shard.parent_shard_id().empty()) {
        s.Add("ParentShardId", Value::String(EdgeShard(shard.parent_shard_id(), d->table_id)));
      }
    }
    desc.Add("Shards", std::move(list));
    if (!shards->next_token().empty() && !last.empty()) {
      desc.Add("LastEvaluatedShardId", Value::String(last));
    }
    return out;
  }

  static std::string EdgeShard(const std::string& store_id, uint64_t table_id) {
    // The store's ids are "shardId-" + 12 digits; anything else is passed on unchanged.
    std::optional<uint32_t> index = tables::IndexOfStoreShardId(store_id);
    return index ? tables::EdgeShardId(*index, table_id) : store_id;
  }

  absl::StatusOr<Value> GetShardIterator() {
    std::optional<std::string> arn = in_.String("StreamArn");
    std::optional<std::string> shard_id = in_.String("ShardId");
    std::optional<std::string> type = in_.String("ShardIteratorType");
    std::optional<std::string> seq = in_.String("SequenceNumber");
    in_.Required("StreamArn", arn.has_value());
    in_.Required("ShardId", shard_id.has_value());
    in_.Required("ShardIteratorType", type.has_value());
    in_.Enum("ShardIteratorType", type,
             {"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"});
    if (!InputOk()) return Value();
    absl::StatusOr<tables::TableStreamDescription> d = TableOf(*arn);
    if (!d.ok()) return d.status();
    std::optional<uint32_t> index = tables::StoreShardIndex(*shard_id);
    if (!index) return absl::InvalidArgumentError("ShardId: not a shard id of this stream");
    v1::GetShardIteratorRequest request;
    request.set_stream_name(d->stream_name);
    request.set_shard_id(shard_store::ShardIdFromIndex(*index));
    v1::ShardIteratorType t = *type == "TRIM_HORIZON"         ? v1::TRIM_HORIZON
                              : *type == "LATEST"             ? v1::LATEST
                              : *type == "AT_SEQUENCE_NUMBER" ? v1::AT_SEQUENCE_NUMBER
                                                              : v1::AFTER_SEQUENCE_NUMBER;
    request.set_shard_iterator_type(t);
    if (t == v1::AT_SEQUENCE_NUMBER || t == v1::AFTER_SEQUENCE_NUMBER) {
      std::optional<std::string> store_seq =
          seq ? tables::StoreSequenceNumber(*seq) : std::nullopt;
      if (!store_seq) {
        return absl::InvalidArgumentError(
            "SequenceNumber: required for AT_/AFTER_SEQUENCE_NUMBER, 21 digits of this stream");
      }
      request.set_starting_sequence_number(*store_seq);
    }
    absl::StatusOr<v1::GetShardIteratorResponse> it = api_.store_.GetShardIterator(request);
    if (!it.ok()) return it.status();
    Value out = Value::Map();
    // The table id and shard index ride along for eventID and the shard's edge id.
    out.Add("ShardIterator",
            Value::String(absl::StrCat(d->table_id, ":", *index, ":", it->shard_iterator())));
    return out;
  }

  absl::StatusOr<Value> GetRecords() {
    std::optional<std::string> iterator = in_.String("ShardIterator");
    std::optional<int64_t> limit = in_.Integer("Limit");
    in_.Required("ShardIterator", iterator.has_value());
    in_.Range("Limit", limit, 1, 1000);
    if (!InputOk()) return Value();
    std::vector<std::string> parts = absl::StrSplit(*iterator, absl::MaxSplits(':', 2));
    uint64_t table_id = 0;
    uint32_t index = 0;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &table_id) ||
        !absl::SimpleAtoi(parts[1], &index)) {
      return absl::InvalidArgumentError("ShardIterator: malformed");
    }
    v1::GetRecordsRequest request;
    request.set_shard_iterator(parts[2]);
    request.set_limit(static_cast<int>(limit.value_or(1000)));
    v1::GetRecordsResponse response;
    absl::Status s = api_.store_.GetRecords(request, &response);
    if (!s.ok()) return s;
    Value out = Value::Map();
    Value& records = out.Add("Records", Value::List());
    for (const v1::Record& r : response.records()) {
      absl::StatusOr<tables::ChangeRecord> change = tables::DecodeChangeRecord(r.data());
      if (!change.ok()) return change.status();
      const std::string seq = tables::EdgeSequenceNumber(r.sequence_number());
      Value& e = records.Append(Value::Map());
      e.Add("eventID", Value::String(tables::EventId(table_id, index, r.sequence_number())));
      e.Add("eventName", Value::String(tables::ChangeEventName(change->event)));
      e.Add("eventVersion", Value::String("1.1"));
      e.Add("eventSource", Value::String("aws:dynamodb"));
      e.Add("awsRegion", Value::String(api_.options_.region));
      Value& db = e.Add("dynamodb", Value::Map());
      db.Add("ApproximateCreationDateTime", Value::Timestamp(change->approximate_creation_time));
      db.Add("Keys", ToDynamoDbJson(change->keys));
      if (change->new_image) db.Add("NewImage", ToDynamoDbJson(*change->new_image));
      if (change->old_image) db.Add("OldImage", ToDynamoDbJson(*change->old_image));
      db.Add("SequenceNumber", Value::String(seq));
      db.Add("SizeBytes", Value::Integer(change->size_bytes));
      db.Add("StreamViewType", Value::String(tables::StreamViewTypeName(change->view_type)));
    }
    if (!response.next_shard_iterator().empty()) {
      out.Add("NextShardIterator", Value::String(absl::StrCat(table_id, ":", index, ":",
                                                              response.next_shard_iterator())));
    }
    return out;
  }

  DynamoDbStreamsApi& api_;
  const AwsCall& call_;
  InputErrors errors_;
  InputReader in_;
  std::optional<AwsError> reply_error_;
};

DynamoDbStreamsApi::DynamoDbStreamsApi(tables::TableStore& tables, shard_store::ShardStore& store,
                                       DynamoDbApiOptions options)
    : tables_(tables), store_(store), options_(options), arns_(tables, options) {}

const char* DynamoDbStreamsApi::ThrottlingError(absl::string_view) const {
  return "com.amazonaws.dynamodb.v20120810#LimitExceededException";
}

std::optional<std::pair<std::string, std::string>> DynamoDbStreamsApi::ParseStreamArn(
    absl::string_view arn) const {
  return tables::ParseTableStreamArn(options_.region, options_.account_id, arn);
}

std::optional<absl::StatusOr<std::string>> DynamoDbStreamsApi::StreamOfArn(
    absl::string_view arn) {
  std::optional<std::pair<std::string, std::string>> parts = ParseStreamArn(arn);
  if (!parts) return std::nullopt;
  absl::StatusOr<tables::TableStreamDescription> stream =
      tables_.DescribeStream(parts->first, parts->second);
  if (!stream.ok()) {
    return absl::StatusOr<std::string>(absl::NotFoundError(
        absl::StrCat("EventSourceArn ", arn, ": no such DynamoDB stream here")));
  }
  return absl::StatusOr<std::string>(stream->stream_name);
}

std::optional<std::string> DynamoDbStreamsApi::ArnOfStream(absl::string_view stream_name) {
  if (!tables::IsTableStreamName(stream_name)) return std::nullopt;
  absl::StatusOr<tables::TableStreamDescription> stream =
      tables_.DescribeStreamByName(stream_name);
  if (!stream.ok()) return std::nullopt;
  return arns_.StreamArn(stream->table_name, stream->label);
}

AwsOutcome DynamoDbStreamsApi::Call(const AwsCall& call) {
  return StreamsHandler(*this, call).Run();
}

}  // namespace tributary::aws
