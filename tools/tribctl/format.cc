#include "tools/tribctl/format.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "mapping/starting_position.h"
#include "poller/runtime/metrics.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace tributary::tribctl {
namespace {

std::string Or(const std::string& value, const std::string& fallback = "-") {
  return value.empty() ? fallback : value;
}

std::string Bool(bool b) { return b ? "true" : "false"; }

std::string ShardState(const v1::Shard& shard) {
  return shard.sequence_number_range().ending_sequence_number().empty() ? "OPEN" : "CLOSED";
}

std::string DestinationOf(const v1::EventSourceMappingConfiguration& m) {
  return m.destination_config().on_failure().destination();
}

std::string ResponseTypes(const v1::EventSourceMappingConfiguration& m) {
  std::vector<std::string> names;
  for (int t : m.function_response_types()) {
    names.push_back(t == v1::REPORT_BATCH_ITEM_FAILURES ? "ReportBatchItemFailures"
                                                        : absl::StrCat(t));
  }
  return Or(absl::StrJoin(names, ","));
}

// "<kind>: <message>" for a table cell ("-" without an error): control characters become spaces
// so that a multi-line function error keeps the table's rows; with `max_bytes`, cut there (on a
// character boundary) with "..." at the end.
std::string ErrorText(const std::string& kind, const std::string& message, size_t max_bytes = 0) {
  if (kind.empty()) return "-";
  std::string text = absl::StrCat(kind, ": ", message);
  for (char& ch : text) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = ' ';
  }
  if (max_bytes > 3 && text.size() > max_bytes) {
    text = poller::TruncateUtf8(text, max_bytes - 3) + "...";
  }
  return text;
}

// The widest error a table row shows (JSON and `mappings get` show it whole).
constexpr size_t kErrorCellBytes = 80;

int64_t DroppedTotal(const v1::ShardMetrics& s) {
  int64_t total = 0;
  for (const auto& [condition, count] : s.dropped_records()) total += count;
  return total;
}

}  // namespace

std::string Table::Render() const {
  std::vector<size_t> widths(headers_.size(), 0);
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = headers_[i].size();
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  auto render_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < cells.size() ? cells[i] : "";
      if (i + 1 < widths.size()) {
        absl::StrAppend(&line, cell, std::string(widths[i] - cell.size() + 2, ' '));
      } else {
        absl::StrAppend(&line, cell);
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  };
  render_row(headers_);
  for (const auto& row : rows_) render_row(row);
  return out;
}

std::string KeyValueTable(const std::vector<std::pair<std::string, std::string>>& fields) {
  Table table({"FIELD", "VALUE"});
  for (const auto& [name, value] : fields) table.AddRow({name, value});
  return table.Render();
}

namespace {

// Suffixes some enum values carry only because proto3 enum values share their package's scope
// (TRIM_HORIZON is a ShardIteratorType): the flags and AWS's APIs name them without.
constexpr absl::string_view kEnumScopeSuffixes[] = {"_POSITION", "_MAPPING", "_CHECKPOINT"};

// 2^53: the integers every JSON reader (a double) holds exactly.
constexpr uint64_t kMaxExactJsonInteger = uint64_t{1} << 53;

bool Is64BitInteger(const google::protobuf::FieldDescriptor& field) {
  switch (field.cpp_type()) {
    case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
    case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
      return true;
    default:
      return false;
  }
}

// The field printed as `name` (its JSON name, or its proto name as protobuf's parser also
// takes); nullptr if none.
const google::protobuf::FieldDescriptor* FieldByJsonName(const google::protobuf::Descriptor& type,
                                                         absl::string_view name) {
  for (int i = 0; i < type.field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = type.field(i);
    if (field->json_name() == name || field->name() == name) return field;
  }
  return nullptr;
}

bool IsWellKnownType(const google::protobuf::Descriptor& type) {
  return absl::StartsWith(type.full_name(), "google.protobuf.");
}

// A value of `field` (one element when repeated) as printed by protobuf, reshaped in place.
void ReshapeValue(const google::protobuf::FieldDescriptor& field, rapidjson::Value& value,
                  rapidjson::Document::AllocatorType& allocator);

// Reshapes protobuf's JSON of a `type` message (printed with every field) as tribctl prints it:
// see ToJson in format.h.
void ReshapeMessage(const google::protobuf::Descriptor& type, rapidjson::Value& object,
                    rapidjson::Document::AllocatorType& allocator) {
  if (!object.IsObject() || IsWellKnownType(type)) return;
  for (auto it = object.MemberBegin(); it != object.MemberEnd();) {
    const google::protobuf::FieldDescriptor* field =
        FieldByJsonName(type, absl::string_view(it->name.GetString(), it->name.GetStringLength()));
    rapidjson::Value& value = it->value;
    if (field != nullptr) {
      if (field->is_map()) {
        const google::protobuf::FieldDescriptor& map_value = *field->message_type()->map_value();
        for (auto& entry : value.GetObject()) ReshapeValue(map_value, entry.value, allocator);
      } else if (field->is_repeated() && value.IsArray()) {
        for (rapidjson::Value& element : value.GetArray()) ReshapeValue(*field, element, allocator);
      } else {
        ReshapeValue(*field, value, allocator);
      }
    }
    const bool empty =
        (value.IsString() && value.GetStringLength() == 0) || (value.IsArray() && value.Empty()) ||
        (value.IsObject() && value.ObjectEmpty() && field != nullptr && field->is_map()) ||
        value.IsNull();
    it = empty ? object.EraseMember(it) : it + 1;
  }
}

void ReshapeValue(const google::protobuf::FieldDescriptor& field, rapidjson::Value& value,
                  rapidjson::Document::AllocatorType& allocator) {
  if (field.cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
    ReshapeMessage(*field.message_type(), value, allocator);
  } else if (field.cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_ENUM &&
             value.IsString()) {
    absl::string_view name(value.GetString(), value.GetStringLength());
    const google::protobuf::EnumValueDescriptor* number =
        field.enum_type()->FindValueByName(std::string(name));
    if (number != nullptr && number->number() == 0) {
      value.SetString("", allocator);  // ..._UNSPECIFIED: unset, omitted
      return;
    }
    for (absl::string_view suffix : kEnumScopeSuffixes) {
      if (absl::ConsumeSuffix(&name, suffix)) break;
    }
    value.SetString(name.data(), static_cast<rapidjson::SizeType>(name.size()), allocator);
  } else if (Is64BitInteger(field) && value.IsString()) {
    const absl::string_view text(value.GetString(), value.GetStringLength());
    int64_t signed_value = 0;
    uint64_t unsigned_value = 0;
    if (absl::SimpleAtoi(text, &signed_value) &&
        static_cast<uint64_t>(signed_value < 0 ? -(signed_value + 1) : signed_value) <
            kMaxExactJsonInteger) {
      value.SetInt64(signed_value);
    } else if (absl::SimpleAtoi(text, &unsigned_value) && unsigned_value < kMaxExactJsonInteger) {
      value.SetUint64(unsigned_value);
    }
  }
}

// The inverse of ReshapeValue's enum renaming: a short name (TRIM_HORIZON) back to the
// proto's (TRIM_HORIZON_POSITION) where the short one is not a value of the enum itself.
void RestoreEnumNames(const google::protobuf::Descriptor& type, rapidjson::Value& object,
                      rapidjson::Document::AllocatorType& allocator) {
  if (!object.IsObject() || IsWellKnownType(type)) return;
  for (auto& member : object.GetObject()) {
    const google::protobuf::FieldDescriptor* field = FieldByJsonName(
        type, absl::string_view(member.name.GetString(), member.name.GetStringLength()));
    if (field == nullptr) continue;
    auto restore = [&](const google::protobuf::FieldDescriptor& f, rapidjson::Value& v) {
      if (f.cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
        RestoreEnumNames(*f.message_type(), v, allocator);
        return;
      }
      if (f.cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_ENUM || !v.IsString()) return;
      const std::string name(v.GetString(), v.GetStringLength());
      if (f.enum_type()->FindValueByName(name) != nullptr) return;
      for (absl::string_view suffix : kEnumScopeSuffixes) {
        const std::string scoped = absl::StrCat(name, suffix);
        if (f.enum_type()->FindValueByName(scoped) != nullptr) {
          v.SetString(scoped, allocator);
          return;
        }
      }
    };
    if (field->is_map()) {
      if (!member.value.IsObject()) continue;
      for (auto& entry : member.value.GetObject()) {
        restore(*field->message_type()->map_value(), entry.value);
      }
    } else if (field->is_repeated() && member.value.IsArray()) {
      for (rapidjson::Value& element : member.value.GetArray()) restore(*field, element);
    } else {
      restore(*field, member.value);
    }
  }
}

}  // namespace

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string printed;
  auto status = google::protobuf::util::MessageToJsonString(message, &printed, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("formatting JSON: ", status.ToString()));
  }
  rapidjson::Document doc;
  if (doc.Parse(printed.data(), printed.size()).HasParseError()) {
    return absl::InternalError("formatting JSON: protobuf's JSON did not parse");
  }
  ReshapeMessage(*message.GetDescriptor(), doc, doc.GetAllocator());
  rapidjson::StringBuffer buffer;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    writer.SetIndent(' ', 2);
    writer.SetFormatOptions(rapidjson::kFormatDefault);
    doc.Accept(writer);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    doc.Accept(writer);
  }
  std::string json(buffer.GetString(), buffer.GetSize());
  json.push_back('\n');
  return json;
}

absl::Status FromJson(absl::string_view json, google::protobuf::Message* message) {
  rapidjson::Document doc;
  if (doc.Parse(json.data(), json.size()).HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON: ", rapidjson::GetParseError_En(doc.GetParseError()), " at offset ",
                     doc.GetErrorOffset()));
  }
  RestoreEnumNames(*message->GetDescriptor(), doc, doc.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  auto status = google::protobuf::util::JsonStringToMessage(
      std::string(buffer.GetString(), buffer.GetSize()), message);
  if (!status.ok()) return absl::InvalidArgumentError(absl::StrCat("JSON: ", status.ToString()));
  return absl::OkStatus();
}

std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "";
  const absl::Time t =
      absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string DisplayData(absl::string_view data, size_t max_chars) {
  bool printable = true;
  for (unsigned char ch : data) {
    if (ch < 0x20 || ch > 0x7e) {
      printable = false;
      break;
    }
  }
  std::string text = printable ? std::string(data) : "base64:" + absl::Base64Escape(data);
  if (text.size() > max_chars) {
    text.resize(max_chars > 3 ? max_chars - 3 : 0);
    text += "...";
  }
  return text;
}

std::string CheckpointText(const v1::Checkpoint& checkpoint) {
  switch (checkpoint.type()) {
    case v1::SEQUENCE_NUMBER:
      return checkpoint.sequence_number();
    case v1::TRIM_HORIZON_CHECKPOINT:
      return "TRIM_HORIZON";
    case v1::LATEST_CHECKPOINT:
      return "LATEST";
    case v1::AT_TIMESTAMP_CHECKPOINT:
      return absl::StrCat("AT_TIMESTAMP(", FormatTimestamp(checkpoint.timestamp()), ")");
    case v1::SHARD_END:
      return "SHARD_END";
    default:
      return "-";
  }
}

std::string StreamStatusName(v1::StreamStatus status) {
  if (status == v1::STREAM_STATUS_UNSPECIFIED) return "-";
  return v1::StreamStatus_Name(status);
}

std::string MappingStateName(v1::EventSourceMappingState state) {
  switch (state) {
    case v1::CREATING_MAPPING:
      return "CREATING";
    case v1::UPDATING_MAPPING:
      return "UPDATING";
    case v1::DELETING_MAPPING:
      return "DELETING";
    case v1::EVENT_SOURCE_MAPPING_STATE_UNSPECIFIED:
      return "-";
    default:
      return v1::EventSourceMappingState_Name(state);
  }
}

std::string PositionName(v1::EventSourcePosition position) {
  const absl::string_view name = mapping::StartingPositionName(position);
  return name.empty() ? "-" : std::string(name);
}

std::string StreamSummaryTable(const v1::StreamDescriptionSummary& s) {
  return KeyValueTable({
      {"StreamName", s.stream_name()},
      {"StreamARN", Or(s.stream_arn())},
      {"StreamStatus", StreamStatusName(s.stream_status())},
      {"RetentionPeriodHours", absl::StrCat(s.retention_period_hours())},
      {"StreamCreationTimestamp", Or(FormatTimestamp(s.stream_creation_timestamp()))},
      {"OpenShardCount", absl::StrCat(s.open_shard_count())},
      {"ConsumerCount", absl::StrCat(s.consumer_count())},
  });
}

std::string StreamsTable(const v1::ListStreamsResponse& streams) {
  Table table({"STREAM_NAME", "STATUS", "CREATED", "ARN"});
  if (streams.stream_summaries_size() > 0) {
    for (const v1::StreamSummary& s : streams.stream_summaries()) {
      table.AddRow({s.stream_name(), StreamStatusName(s.stream_status()),
                    Or(FormatTimestamp(s.stream_creation_timestamp())), Or(s.stream_arn())});
    }
  } else {
    for (const std::string& name : streams.stream_names()) table.AddRow({name, "-", "-", "-"});
  }
  return table.Render();
}

std::string ShardsTable(const std::vector<v1::Shard>& shards) {
  Table table({"SHARD_ID", "STATE", "PARENT", "ADJACENT_PARENT", "STARTING_HASH_KEY",
               "ENDING_HASH_KEY", "STARTING_SEQUENCE_NUMBER", "ENDING_SEQUENCE_NUMBER"});
  for (const v1::Shard& s : shards) {
    table.AddRow({s.shard_id(), ShardState(s), Or(s.parent_shard_id()),
                  Or(s.adjacent_parent_shard_id()), s.hash_key_range().starting_hash_key(),
                  s.hash_key_range().ending_hash_key(),
                  Or(s.sequence_number_range().starting_sequence_number()),
                  Or(s.sequence_number_range().ending_sequence_number())});
  }
  return table.Render();
}

std::optional<std::string> FailureRecordSummary(absl::string_view data) {
  if (data.empty() || data.front() != '{') return std::nullopt;
  rapidjson::Document doc;
  if (doc.Parse(data.data(), data.size()).HasParseError() || !doc.IsObject()) return std::nullopt;
  auto member = [](const rapidjson::Value& object, const char* name) -> const rapidjson::Value* {
    if (!object.IsObject()) return nullptr;
    auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
  };
  auto text = [&](const rapidjson::Value* object, const char* name) -> std::string {
    const rapidjson::Value* v = object == nullptr ? nullptr : member(*object, name);
    if (v == nullptr) return "";
    if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
    if (v->IsInt64()) return absl::StrCat(v->GetInt64());
    return "";
  };
  const rapidjson::Value* context = member(doc, "requestContext");
  const rapidjson::Value* batch = member(doc, "KinesisBatchInfo");
  if (batch == nullptr) batch = member(doc, "DDBStreamBatchInfo");
  if (context == nullptr || batch == nullptr) return std::nullopt;
  const std::string condition = text(context, "condition");
  if (condition.empty()) return std::nullopt;
  std::string summary = absl::StrCat("failure ", condition, ": ", Or(text(batch, "shardId")), " ",
                                     Or(text(batch, "startSequenceNumber")), "..",
                                     Or(text(batch, "endSequenceNumber")), " (",
                                     Or(text(batch, "batchSize"), "?"), " records)");
  const std::string invokes = text(context, "approximateInvokeCount");
  if (!invokes.empty()) absl::StrAppend(&summary, ", ", invokes, " invoke(s)");
  const rapidjson::Value* response = member(doc, "responseContext");
  const std::string error = text(response, "functionError");
  const std::string status = text(response, "statusCode");
  if (!error.empty()) {
    absl::StrAppend(&summary, ", ", error);
  } else if (!status.empty() && status != "200") {
    absl::StrAppend(&summary, ", status ", status);
  }
  const std::string function = text(context, "functionArn");
  if (!function.empty()) absl::StrAppend(&summary, ", ", function);
  return summary;
}

namespace {

std::string RecordData(const v1::Record& r) {
  std::optional<std::string> failure = FailureRecordSummary(r.data());
  return failure ? *failure : DisplayData(r.data());
}

}  // namespace

std::string RecordsTable(const std::vector<v1::Record>& records) {
  Table table({"SEQUENCE_NUMBER", "PARTITION_KEY", "ARRIVAL", "DATA"});
  for (const v1::Record& r : records) {
    table.AddRow({r.sequence_number(), r.partition_key(),
                  Or(FormatTimestamp(r.approximate_arrival_timestamp())), RecordData(r)});
  }
  return table.Render();
}

std::string FollowLine(const std::string& shard_id, const v1::Record& r) {
  return absl::StrCat(shard_id, "  ", r.sequence_number(), "  ", r.partition_key(), "  ",
                      Or(FormatTimestamp(r.approximate_arrival_timestamp())), "  ", RecordData(r),
                      "\n");
}

std::string MappingTable(const v1::EventSourceMappingConfiguration& m) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"UUID", m.uuid()},
      {"StreamName", m.stream_name()},
      {"EventSourceArn", Or(m.event_source_arn())},
      {"FunctionName", Or(m.function_name())},
      {"FunctionEndpoint", m.function_endpoint()},
      {"State", MappingStateName(m.state())},
      {"StateTransitionReason", Or(m.state_transition_reason())},
      {"Enabled", Bool(m.enabled())},
      {"BatchSize", absl::StrCat(m.batch_size())},
      {"MaximumBatchingWindowInSeconds", absl::StrCat(m.maximum_batching_window_in_seconds())},
      {"ParallelizationFactor", absl::StrCat(m.parallelization_factor())},
      {"StartingPosition", PositionName(m.starting_position())},
      {"StartingPositionTimestamp", Or(FormatTimestamp(m.starting_position_timestamp()))},
      {"DestinationOnFailure", Or(DestinationOf(m))},
      {"DestinationOnSuccess", Or(m.destination_config().on_success().destination())},
      {"MaximumRecordAgeInSeconds", absl::StrCat(m.maximum_record_age_in_seconds())},
      {"BisectBatchOnFunctionError", Bool(m.bisect_batch_on_function_error())},
      {"MaximumRetryAttempts", absl::StrCat(m.maximum_retry_attempts())},
      {"FunctionResponseTypes", ResponseTypes(m)},
      {"FunctionTimeoutSeconds", absl::StrCat(m.function_timeout_seconds())},
      {"TumblingWindowInSeconds", absl::StrCat(m.tumbling_window_in_seconds())},
      {"IsolateFailingKeys", Bool(m.isolate_failing_keys())},
      {"MaxParkedKeys", absl::StrCat(m.max_parked_keys() > 0 ? m.max_parked_keys() : 100)},
      {"LastModified", Or(FormatTimestamp(m.last_modified()))},
      {"LastProcessingResult", Or(m.last_processing_result())},
      {"LastError", ErrorText(m.last_error_kind(), m.last_error_message())},
      {"LastErrorTime", Or(FormatTimestamp(m.last_error_time()))},
      {"LastErrorShardId", Or(m.last_error_shard_id())},
      {"ConfigVersion", absl::StrCat(m.config_version())},
  };
  // One row per filter pattern, after FunctionTimeoutSeconds's neighbours.
  if (m.filter_criteria().filters_size() == 0) {
    fields.emplace_back("FilterCriteria", "-");
  }
  for (int i = 0; i < m.filter_criteria().filters_size(); ++i) {
    fields.emplace_back(absl::StrCat("FilterCriteria[", i, "]"),
                        m.filter_criteria().filters(i).pattern());
  }
  return KeyValueTable(fields);
}

std::string MappingsTable(const std::vector<v1::EventSourceMappingConfiguration>& mappings) {
  Table table({"UUID", "STREAM", "FUNCTION_NAME", "FUNCTION_ENDPOINT", "STATE", "BATCH_SIZE",
               "PARALLELIZATION", "LAST_PROCESSING_RESULT"});
  for (const auto& m : mappings) {
    table.AddRow({m.uuid(), m.stream_name(), Or(m.function_name()), m.function_endpoint(),
                  MappingStateName(m.state()), absl::StrCat(m.batch_size()),
                  absl::StrCat(m.parallelization_factor()), Or(m.last_processing_result())});
  }
  return table.Render();
}

namespace {

std::string ReservedText(bool has, int32_t value) { return has ? absl::StrCat(value) : "-"; }

}  // namespace

std::string FunctionTable(const v1::FunctionConfiguration& f) {
  return KeyValueTable({
      {"FunctionName", f.function_name()},
      {"FunctionArn", Or(f.function_arn())},
      {"Endpoint", f.endpoint()},
      {"TimeoutSeconds", absl::StrCat(f.timeout_seconds())},
      {"ReservedConcurrentExecutions",
       ReservedText(f.has_reserved_concurrent_executions(), f.reserved_concurrent_executions())},
      {"LastModified", Or(FormatTimestamp(f.last_modified()))},
  });
}

std::string FunctionsTable(const std::vector<v1::FunctionConfiguration>& functions) {
  Table table(
      {"FUNCTION_NAME", "ENDPOINT", "TIMEOUT_SECONDS", "RESERVED_CONCURRENCY", "LAST_MODIFIED"});
  for (const v1::FunctionConfiguration& f : functions) {
    table.AddRow(
        {f.function_name(), f.endpoint(), absl::StrCat(f.timeout_seconds()),
         ReservedText(f.has_reserved_concurrent_executions(), f.reserved_concurrent_executions()),
         Or(FormatTimestamp(f.last_modified()))});
  }
  return table.Render();
}

std::string ConcurrencyTable(const std::string& function_name,
                             const v1::FunctionConcurrency& concurrency) {
  return KeyValueTable({
      {"FunctionName", function_name},
      {"ReservedConcurrentExecutions",
       ReservedText(concurrency.has_reserved_concurrent_executions(),
                    concurrency.reserved_concurrent_executions())},
  });
}

std::string TagsTable(const std::vector<v1::Tag>& tags) {
  Table table({"KEY", "VALUE"});
  for (const v1::Tag& tag : tags) table.AddRow({tag.key(), Or(tag.value())});
  return table.Render();
}

std::string ConsumerTable(const v1::Consumer& c) {
  return KeyValueTable({
      {"ConsumerName", c.consumer_name()},
      {"ConsumerARN", c.consumer_arn()},
      {"ConsumerStatus", StreamStatusName(c.consumer_status())},
      {"ConsumerCreationTimestamp", Or(FormatTimestamp(c.consumer_creation_timestamp()))},
  });
}

std::string ConsumerDescriptionTable(const v1::ConsumerDescription& c) {
  return KeyValueTable({
      {"ConsumerName", c.consumer_name()},
      {"ConsumerARN", c.consumer_arn()},
      {"ConsumerStatus", StreamStatusName(c.consumer_status())},
      {"ConsumerCreationTimestamp", Or(FormatTimestamp(c.consumer_creation_timestamp()))},
      {"StreamARN", Or(c.stream_arn())},
  });
}

std::string ConsumersTable(const std::vector<v1::Consumer>& consumers) {
  Table table({"CONSUMER_NAME", "STATUS", "CREATED", "CONSUMER_ARN"});
  for (const v1::Consumer& c : consumers) {
    table.AddRow({c.consumer_name(), StreamStatusName(c.consumer_status()),
                  Or(FormatTimestamp(c.consumer_creation_timestamp())), c.consumer_arn()});
  }
  return table.Render();
}

std::string LeasesTable(const std::vector<v1::Lease>& leases) {
  Table table({"MAPPING", "SHARD_ID", "OWNER", "COUNTER", "CHECKPOINT", "ITERATOR_AGE_MS",
               "ENABLED", "EXPIRED", "PARENTS", "LAST_PROCESSING_RESULT", "LAST_ERROR_TIME",
               "LAST_ERROR"});
  for (const v1::Lease& l : leases) {
    // No age while nobody works on the shard (unowned, or its owner expired): unknown, not 0.
    table.AddRow({l.event_source_mapping_uuid(), l.shard_id(), Or(l.lease_owner()),
                  absl::StrCat(l.lease_counter()), CheckpointText(l.checkpoint()),
                  l.has_iterator_age_ms() ? absl::StrCat(l.iterator_age_ms()) : "-",
                  Bool(l.enabled()), Bool(l.expired()),
                  Or(absl::StrJoin(l.parent_shard_ids(), ",")), Or(l.last_processing_result()),
                  Or(FormatTimestamp(l.last_error_time())),
                  ErrorText(l.last_error_kind(), l.last_error_message(), kErrorCellBytes)});
  }
  return table.Render();
}

std::string PollersTable(const std::vector<v1::Poller>& pollers) {
  Table table({"POLLER_ID", "LIVE", "CAPACITY", "LEASES", "LAST_HEARTBEAT"});
  for (const v1::Poller& p : pollers) {
    table.AddRow({p.poller_id(), Bool(p.live()), absl::StrCat(p.capacity()),
                  absl::StrCat(p.lease_count()), Or(FormatTimestamp(p.last_heartbeat()))});
  }
  return table.Render();
}

std::string MetricsTable(const v1::GetMetricsResponse& metrics) {
  Table table({"MAPPING", "STREAM", "SHARD_ID", "ITERATOR_AGE_MS", "INVOCATIONS", "ERRORS",
               "RETRIES", "BISECTIONS", "DROPPED", "FILTERED", "DELIVERED", "WINDOWS_CLOSED",
               "CHECKPOINT", "LAST_PROCESSING_RESULT", "LAST_ERROR_TIME", "LAST_ERROR"});
  for (const v1::ShardMetrics& s : metrics.shards()) {
    table.AddRow({s.event_source_mapping_uuid(), s.stream_name(), s.shard_id(),
                  absl::StrCat(s.iterator_age_ms()), absl::StrCat(s.invocations()),
                  absl::StrCat(s.function_errors()), absl::StrCat(s.retries()),
                  absl::StrCat(s.bisections()), absl::StrCat(DroppedTotal(s)),
                  absl::StrCat(s.records_filtered()), absl::StrCat(s.records_delivered()),
                  s.windows_failed() > 0
                      ? absl::StrCat(s.windows_closed(), " (", s.windows_failed(), " failed)")
                      : absl::StrCat(s.windows_closed()),
                  Or(s.checkpoint()), Or(s.last_processing_result()),
                  Or(FormatTimestamp(s.last_error_time())),
                  ErrorText(s.last_error_kind(), s.last_error_message(), kErrorCellBytes)});
  }
  std::string out = absl::StrCat("poller: ", Or(metrics.poller_id()), "\n", table.Render());
  // Per-key isolation (issue 23): only shards with parked keys (or refused one), below.
  Table parked({"MAPPING", "SHARD_ID", "PARKED_KEYS", "PARKED_RECORDS", "OLDEST_PARKED_AGE_MS",
                "LIMIT_REACHED"});
  bool any_parked = false;
  for (const v1::ShardMetrics& s : metrics.shards()) {
    if (s.parked_keys() == 0 && !s.parked_keys_limit_reached()) continue;
    any_parked = true;
    parked.AddRow({s.event_source_mapping_uuid(), s.shard_id(), absl::StrCat(s.parked_keys()),
                   absl::StrCat(s.parked_records()), absl::StrCat(s.oldest_parked_age_ms()),
                   Bool(s.parked_keys_limit_reached())});
  }
  if (any_parked) absl::StrAppend(&out, "\n", parked.Render());
  if (metrics.functions().empty()) return out;
  Table functions({"FUNCTION", "CONCURRENT_EXECUTIONS", "THROTTLES"});
  for (const v1::FunctionMetrics& f : metrics.functions()) {
    functions.AddRow(
        {f.function_name(), absl::StrCat(f.concurrent_executions()), absl::StrCat(f.throttles())});
  }
  return absl::StrCat(out, "\n", functions.Render());
}

std::string PrometheusText(const v1::GetMetricsResponse& metrics) {
  return poller::RenderPrometheusText(metrics);
}

}  // namespace tributary::tribctl
