#include "tools/tribctl/requests.h"

#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "mapping/starting_position.h"

namespace tributary::tribctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

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

// The field `flag` names in messages of type `type`, with the message types its path goes
// through; INTERNAL when the path or the field's type does not fit the flag.
absl::StatusOr<std::vector<const FieldDescriptor*>> ResolveField(const Descriptor* type,
                                                                 const FlagSpec& flag) {
  auto refuse = [&](absl::string_view why) {
    return absl::InternalError(absl::StrCat("flag --", flag.name, ": request field '", flag.field,
                                            "' of ", type->full_name(), " ", why));
  };
  std::vector<const FieldDescriptor*> path;
  const Descriptor* message = type;
  for (absl::string_view part : absl::StrSplit(flag.field, '.')) {
    if (message == nullptr) return refuse("goes through a field that is not a message");
    const FieldDescriptor* field = message->FindFieldByName(std::string(part));
    if (field == nullptr) return refuse("does not exist");
    if (!path.empty() && path.back()->is_repeated()) {
      return refuse("goes through a repeated field");
    }
    path.push_back(field);
    message =
        field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ? field->message_type() : nullptr;
  }
  const FieldDescriptor* field = path.back();
  bool fits = false;
  switch (flag.type) {
    case FlagType::kString:
      fits = field->cpp_type() == FieldDescriptor::CPPTYPE_STRING && !field->is_repeated();
      break;
    case FlagType::kInt:
      fits = (field->cpp_type() == FieldDescriptor::CPPTYPE_INT32 ||
              field->cpp_type() == FieldDescriptor::CPPTYPE_INT64) &&
             !field->is_repeated();
      break;
    case FlagType::kBool:
      fits = field->cpp_type() == FieldDescriptor::CPPTYPE_BOOL && !field->is_repeated();
      break;
    case FlagType::kEnum:
      fits = field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM && !field->is_repeated();
      for (const std::string& choice : flag.choices) {
        if (fits && field->enum_type()->FindValueByName(choice) == nullptr) {
          return refuse(absl::StrCat("has no value ", choice));
        }
      }
      break;
    case FlagType::kTimestamp:
      fits = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !field->is_repeated() &&
             field->message_type()->full_name() == "google.protobuf.Timestamp";
      break;
    case FlagType::kList:
    case FlagType::kRepeated:
      fits = field->cpp_type() == FieldDescriptor::CPPTYPE_STRING && field->is_repeated();
      break;
    case FlagType::kDuration:
      fits = false;
      break;
  }
  if (!fits) return refuse(absl::StrCat("is of a type the flag cannot set"));
  return path;
}

// Sets the field `path` leads to in `request` from the value of `flag`.
void SetField(const FlagSpec& flag, const FlagValues& flags,
              const std::vector<const FieldDescriptor*>& path, Message* request) {
  Message* message = request;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    message = message->GetReflection()->MutableMessage(message, path[i]);
  }
  const FieldDescriptor* field = path.back();
  const Reflection* r = message->GetReflection();
  switch (flag.type) {
    case FlagType::kString:
      r->SetString(message, field, flags.StringOr(flag.name, ""));
      break;
    case FlagType::kInt:
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_INT32) {
        r->SetInt32(message, field, static_cast<int32_t>(flags.Int(flag.name).value_or(0)));
      } else {
        r->SetInt64(message, field, flags.Int(flag.name).value_or(0));
      }
      break;
    case FlagType::kBool:
      r->SetBool(message, field, flags.Bool(flag.name).value_or(false));
      break;
    case FlagType::kEnum:
      // ResolveField checked that every choice, all the parser admits, is a value.
      r->SetEnum(message, field,
                 field->enum_type()->FindValueByName(flags.StringOr(flag.name, "")));
      break;
    case FlagType::kTimestamp: {
      google::protobuf::Timestamp timestamp;
      SetTimestamp(flags.Time(flag.name).value_or(absl::UnixEpoch()), &timestamp);
      r->MutableMessage(message, field)->CopyFrom(timestamp);
      break;
    }
    case FlagType::kList:
    case FlagType::kRepeated:
      for (const std::string& item : flags.List(flag.name)) r->AddString(message, field, item);
      break;
    case FlagType::kDuration:
      break;
  }
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

// The mapping configuration that create and update share beyond the flags' own fields.
template <typename Request>
void SetMappingConfig(const FlagValues& flags, Request* r) {
  for (const std::string& type : flags.List("function-response-types")) {
    // The only choice the parser admits is ReportBatchItemFailures.
    if (type == "ReportBatchItemFailures") {
      r->add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
    }
  }
  for (const std::string& pattern : flags.List("filter-pattern")) {
    r->mutable_filter_criteria()->add_filters()->set_pattern(pattern);
  }
}

// The consumer is named by ARN, or by stream and name.
absl::Status CheckConsumerNamed(const FlagValues& flags) {
  if (flags.Has("consumer-arn") || (flags.Has("stream") && flags.Has("consumer-name"))) {
    return absl::OkStatus();
  }
  return UsageError("name the consumer by --consumer-arn, or by --stream-name and --consumer-name");
}

}  // namespace

absl::Status FillRequest(const CommandSpec& command, const FlagValues& flags, Message* request) {
  for (const FlagSpec& flag : command.flags) {
    if (flag.field.empty() || !flags.Has(flag.name)) continue;
    absl::StatusOr<std::vector<const FieldDescriptor*>> path =
        ResolveField(request->GetDescriptor(), flag);
    if (!path.ok()) return path.status();
    SetField(flag, flags, *path, request);
  }
  if (command.finish) return command.finish(flags, request);
  return absl::OkStatus();
}

absl::Status CheckFields(const CommandSpec& command) {
  for (const FlagSpec& flag : command.flags) {
    if (flag.field.empty()) continue;
    if (command.request == nullptr) {
      return absl::InternalError(absl::StrCat("'", command.Name(), "': flag --", flag.name,
                                              " sets a field but the command has no request"));
    }
    absl::StatusOr<std::vector<const FieldDescriptor*>> path = ResolveField(command.request, flag);
    if (!path.ok()) {
      return absl::InternalError(absl::StrCat("'", command.Name(), "': ", path.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::Status FinishCreateStream(const FlagValues& flags, v1::CreateStreamRequest* r) {
  if (!flags.Has("shard-count")) r->set_shard_count(1);
  return absl::OkStatus();
}

absl::Status FinishListShards(const FlagValues& flags, v1::ListShardsRequest* r) {
  std::optional<std::string> type = flags.String("shard-filter-type");
  std::optional<std::string> shard_id = flags.String("shard-filter-shard-id");
  std::optional<absl::Time> timestamp = flags.Time("shard-filter-timestamp");
  if (!type) {
    if (shard_id) return UsageError("--shard-filter-shard-id needs --shard-filter-type");
    if (timestamp) return UsageError("--shard-filter-timestamp needs --shard-filter-type");
    return absl::OkStatus();
  }
  v1::ShardFilter* filter = r->mutable_shard_filter();
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
  return absl::OkStatus();
}

absl::Status FinishUpdateShardCount(const FlagValues&, v1::UpdateShardCountRequest* r) {
  r->set_scaling_type(v1::UNIFORM_SCALING);  // the only choice the parser admits
  return absl::OkStatus();
}

absl::Status FinishAddTags(const FlagValues& flags, v1::AddTagsToStreamRequest* r) {
  std::set<std::string> seen;
  for (const std::string& item : flags.List("tags")) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      return UsageError(absl::StrCat("--tags: '", item, "' is not key=value"));
    }
    const std::string key = item.substr(0, eq);
    if (key.empty()) return UsageError(absl::StrCat("--tags: '", item, "' has an empty key"));
    if (!seen.insert(key).second) {
      return UsageError(absl::StrCat("--tags: key '", key, "' given twice"));
    }
    (*r->mutable_tags())[key] = item.substr(eq + 1);
  }
  if (seen.empty()) return UsageError("--tags: give at least one key=value");
  return absl::OkStatus();
}

absl::Status FinishDeregisterConsumer(const FlagValues& flags,
                                      v1::DeregisterStreamConsumerRequest*) {
  return CheckConsumerNamed(flags);
}

absl::Status FinishDescribeConsumer(const FlagValues& flags, v1::DescribeStreamConsumerRequest*) {
  return CheckConsumerNamed(flags);
}

absl::Status FinishPutRecord(const FlagValues& flags, v1::PutRecordRequest*) {
  if (!flags.Has("partition-key")) return UsageError("--data needs --partition-key");
  return absl::OkStatus();
}

absl::Status FinishCreateMapping(const FlagValues& flags, v1::CreateEventSourceMappingRequest* r) {
  const bool by_endpoint = flags.Has("function-endpoint");
  const bool by_name = flags.Has("function-name");
  if (by_endpoint == by_name) {
    return UsageError(by_name ? "give either --function-endpoint or --function-name, not both"
                              : "missing --function-endpoint or --function-name");
  }
  const std::string position = flags.StringOr("starting-position", "");
  std::optional<absl::Time> timestamp = flags.Time("starting-position-timestamp");
  if (const v1::EventSourcePosition p = mapping::StartingPositionOf(position);
      p != v1::EVENT_SOURCE_POSITION_UNSPECIFIED) {
    r->set_starting_position(p);
  }
  if (r->starting_position() == v1::AT_TIMESTAMP_POSITION && !timestamp) {
    return UsageError("--starting-position=AT_TIMESTAMP needs --starting-position-timestamp");
  }
  if (r->starting_position() != v1::AT_TIMESTAMP_POSITION && timestamp) {
    return UsageError("--starting-position-timestamp needs --starting-position=AT_TIMESTAMP");
  }
  SetMappingConfig(flags, r);
  return absl::OkStatus();
}

absl::Status FinishUpdateMapping(const FlagValues& flags, v1::UpdateEventSourceMappingRequest* r) {
  SetMappingConfig(flags, r);
  r->set_update_function_response_types(flags.Has("function-response-types"));
  r->set_update_filter_criteria(flags.Has("filter-pattern"));
  return absl::OkStatus();
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

}  // namespace tributary::tribctl
