// Lambda's REST API over the stream tracker's services. Each operation is one function: read the
// input (path parameters, body and query as one tree, read with the model's checks), build the
// tributary.v1 request, call the tracker, write Lambda's shape. Errors travel as absl::Status:
// the adapter's own as ToStatus(AwsError), the tracker's with their codes, and LambdaErrorOf is
// the one place the tracker's codes become Lambda's.
#include "aws/lambda_handler.h"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "aws/input_reader.h"
#include "aws/json_codec.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "tables/stream_ids.h"

namespace tributary::aws {
namespace {

constexpr char kJsonContentType[] = "application/json";
constexpr absl::string_view kDestinationPattern =
    "^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)";
constexpr absl::string_view kQualifierPattern = "(|[a-zA-Z0-9$_-]+)";

absl::Status Fail(const char* type, std::string message, int http_status = 400) {
  return ToStatus(MakeError(type, std::move(message), http_status));
}

struct Context {
  stream_tracker::StreamTrackerClient& tracker;
  const LambdaApiOptions& options;
};

// One call's input: the route's path parameters (under their model names, "UUID",
// "FunctionName"), the body's members and the query's parameters as one map, and a reader of it.
struct Call {
  explicit Call(Value tree) : input(std::move(tree)), in(input, &errors) {}

  // The SerializationException / ValidationException found so far, as a status; a member of
  // the wrong type is Lambda's InvalidRequestContentException.
  absl::Status Check() const {
    std::optional<AwsError> e = errors.Error();
    if (!e) return absl::OkStatus();
    if (e->type == kSerialization) e->type = kInvalidRequestContent;
    return ToStatus(*e);
  }

  const Value input;
  InputErrors errors{Protocol::kJson};
  InputReader in;
};

// A successful reply: the status Lambda's model gives the operation and the body (null: none).
struct Reply {
  int status;
  Value body;
};

using OperationFn = absl::StatusOr<Reply> (*)(const Context&, Call&);

struct Route {
  absl::string_view method;
  // The path's segments; "{Name}" matches any segment and is put in the input as Name.
  std::vector<absl::string_view> pattern;
  absl::string_view operation;
  OperationFn fn;
};

// --- Reading input ----------------------------------------------------------------------------

std::optional<std::string> ReadFunctionName(InputReader& r, bool required,
                                            bool namespaced = false) {
  std::optional<std::string> name = r.String("FunctionName");
  if (required) r.Required("FunctionName", name.has_value());
  r.Length("FunctionName", name, 1, namespaced ? 170 : 140);
  r.Pattern("FunctionName", name,
            namespaced ? kNamespacedFunctionNamePattern : kFunctionNamePattern,
            [namespaced](absl::string_view s) { return MatchesFunctionName(s, namespaced); });
  return name;
}

std::optional<int64_t> ReadMaxItems(InputReader& r) {
  std::optional<int64_t> max_items = r.Integer("MaxItems");
  r.Range("MaxItems", max_items, 1, 10000);
  return max_items;
}

// The members CreateEventSourceMapping and UpdateEventSourceMapping share, as read.
struct MappingFields {
  std::optional<bool> enabled;
  std::optional<int64_t> batch_size;
  std::optional<int64_t> batching_window;
  std::optional<int64_t> parallelization_factor;
  std::optional<int64_t> record_age;
  std::optional<bool> bisect;
  std::optional<int64_t> retry_attempts;
  std::optional<int64_t> tumbling_window;
  std::optional<std::vector<std::string>> response_types;
  bool has_destination = false;  // DestinationConfig was given
  std::string destination;       // its OnFailure.Destination ("" = none)
  std::string on_success;        // its OnSuccess.Destination ("" = none; a Tributary extension)
  bool has_filter_criteria = false;
  std::vector<std::string> filter_patterns;
};

MappingFields ReadMappingFields(InputReader& r) {
  MappingFields f;
  f.enabled = r.Boolean("Enabled");
  f.batch_size = r.Integer("BatchSize");
  r.Range("BatchSize", f.batch_size, 1, 10000);
  f.batching_window = r.Integer("MaximumBatchingWindowInSeconds");
  r.Range("MaximumBatchingWindowInSeconds", f.batching_window, 0, 300);
  f.parallelization_factor = r.Integer("ParallelizationFactor");
  r.Range("ParallelizationFactor", f.parallelization_factor, 1, 10);
  f.record_age = r.Integer("MaximumRecordAgeInSeconds");
  r.Range("MaximumRecordAgeInSeconds", f.record_age, -1, 604800);
  f.bisect = r.Boolean("BisectBatchOnFunctionError");
  f.retry_attempts = r.Integer("MaximumRetryAttempts");
  r.Range("MaximumRetryAttempts", f.retry_attempts, -1, 10000);
  f.tumbling_window = r.Integer("TumblingWindowInSeconds");
  r.Range("TumblingWindowInSeconds", f.tumbling_window, 0, 900);

  f.response_types = r.StringList("FunctionResponseTypes");
  r.ListLength("FunctionResponseTypes", f.response_types, 0, 1);
  if (f.response_types) {
    for (const std::string& type : *f.response_types) {
      if (type != "ReportBatchItemFailures") {
        r.errors()->Violation(absl::StrCat(
            "Value '[", absl::StrJoin(*f.response_types, ", "),
            "]' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy "
            "constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]"));
        break;
      }
    }
  }

  auto read_destination = [](InputReader& config, absl::string_view member) {
    std::optional<std::string> destination;
    if (std::optional<InputReader> target = config.Structure(member)) {
      destination = target->String("Destination");
      target->Length("Destination", destination, 0, 350);
      target->Pattern("Destination", destination, kDestinationPattern,
                      [](absl::string_view s) { return s.empty() || MatchesArn(s); });
    }
    return destination;
  };
  if (std::optional<InputReader> config = r.Structure("DestinationConfig")) {
    f.has_destination = true;
    f.destination = read_destination(*config, "OnFailure").value_or("");
    f.on_success = read_destination(*config, "OnSuccess").value_or("");
  }

  if (std::optional<InputReader> criteria = r.Structure("FilterCriteria")) {
    f.has_filter_criteria = true;
    if (const std::vector<Value>* filters = criteria->List("Filters")) {
      for (size_t i = 0; i < filters->size(); ++i) {
        InputReader filter = criteria->Element("Filters", i, (*filters)[i]);
        std::optional<std::string> pattern = filter.String("Pattern");
        filter.Length("Pattern", pattern, 0, 4096);
        f.filter_patterns.push_back(pattern.value_or(""));
      }
    }
  }
  return f;
}

// InvalidParameterValueException for the first of `members` the input has: what Lambda offers
// for other kinds of event sources, or what Tributary does not have.
absl::Status RefuseUnsupported(const Value& input, std::initializer_list<const char*> members) {
  for (const char* member : members) {
    if (const Value* v = input.Find(member); v != nullptr && !v->is_null()) {
      return Fail(kInvalidParameterValue,
                  absl::StrCat(member,
                               " is not supported by Tributary: its event sources are Kinesis "
                               "streams of this endpoint"));
    }
  }
  return absl::OkStatus();
}

// The stream an ARN member names; both of StreamOfArn's errors are the request's
// (InvalidParameterValueException): there is no such stream here.
absl::StatusOr<std::string> StreamOf(const Context& c, absl::string_view member,
                                     absl::string_view arn) {
  if (member == "EventSourceArn" && c.options.table_streams != nullptr) {
    // A DynamoDB table's stream (issue 18): the store stream holding it.
    if (std::optional<absl::StatusOr<std::string>> table_stream =
            c.options.table_streams->StreamOfArn(arn)) {
      if (!table_stream->ok()) {
        return Fail(kInvalidParameterValue, std::string(table_stream->status().message()));
      }
      return **table_stream;
    }
  }
  absl::StatusOr<std::string> stream = StreamOfArn(c.options, member, arn);
  if (!stream.ok()) return Fail(kInvalidParameterValue, std::string(stream.status().message()));
  return stream;
}

// Sets the shared members on a Create or Update request (their field names are the same).
template <typename Request>
absl::Status ApplyMappingFields(const Context& c, const MappingFields& f, Request* request) {
  if (f.enabled) request->set_enabled(*f.enabled);
  if (f.batch_size) request->set_batch_size(static_cast<int32_t>(*f.batch_size));
  if (f.batching_window) {
    request->set_maximum_batching_window_in_seconds(static_cast<int32_t>(*f.batching_window));
  }
  if (f.parallelization_factor) {
    request->set_parallelization_factor(static_cast<int32_t>(*f.parallelization_factor));
  }
  if (f.record_age) {
    request->set_maximum_record_age_in_seconds(static_cast<int32_t>(*f.record_age));
  }
  if (f.bisect) request->set_bisect_batch_on_function_error(*f.bisect);
  if (f.retry_attempts) {
    request->set_maximum_retry_attempts(static_cast<int32_t>(*f.retry_attempts));
  }
  if (f.tumbling_window) {
    request->set_tumbling_window_in_seconds(static_cast<int32_t>(*f.tumbling_window));
  }
  if (f.response_types && !f.response_types->empty()) {  // checked: ReportBatchItemFailures
    request->add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  }
  if (f.has_destination) {
    // Both parts present: Lambda's update replaces the whole DestinationConfig.
    v1::DestinationConfig* config = request->mutable_destination_config();
    config->mutable_on_failure();
    config->mutable_on_success();
    if (!f.destination.empty()) {
      ASSIGN_OR_RETURN(std::string stream,
                       StreamOf(c, "DestinationConfig.OnFailure.Destination", f.destination));
      config->mutable_on_failure()->set_destination(stream);
    }
    // Lambda refuses OnSuccess for stream sources; Tributary takes it (aws/NOTES.md).
    if (!f.on_success.empty()) {
      ASSIGN_OR_RETURN(std::string stream,
                       StreamOf(c, "DestinationConfig.OnSuccess.Destination", f.on_success));
      config->mutable_on_success()->set_destination(stream);
    }
  }
  for (const std::string& pattern : f.filter_patterns) {
    request->mutable_filter_criteria()->add_filters()->set_pattern(pattern);
  }
  return absl::OkStatus();
}

// --- Event-source mappings --------------------------------------------------------------------

absl::StatusOr<Reply> CreateEventSourceMapping(const Context& c, Call& call) {
  InputReader& r = call.in;
  std::optional<std::string> function_name = ReadFunctionName(r, /*required=*/true);
  std::optional<std::string> arn = r.String("EventSourceArn");
  r.Pattern("EventSourceArn", arn, kArnPattern, MatchesArn);
  std::optional<std::string> position = r.String("StartingPosition");
  r.Enum("StartingPosition", position, {"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"});
  std::optional<absl::Time> position_time = r.Timestamp("StartingPositionTimestamp");
  const MappingFields fields = ReadMappingFields(r);
  RETURN_IF_ERROR(call.Check());
  RETURN_IF_ERROR(RefuseUnsupported(
      call.input, {"Topics", "Queues", "SourceAccessConfigurations", "SelfManagedEventSource",
                   "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig",
                   "ScalingConfig", "DocumentDBEventSourceConfig", "KMSKeyArn", "MetricsConfig",
                   "ProvisionedPollerConfig", "Tags"}));
  if (!arn) {
    return Fail(kInvalidParameterValue,
                absl::StrCat("EventSourceArn is required: the ARN of a Kinesis stream, arn:aws:"
                             "kinesis:",
                             c.options.region, ":", c.options.account_id, ":stream/NAME"));
  }
  v1::CreateEventSourceMappingRequest request;
  ASSIGN_OR_RETURN(std::string stream, StreamOf(c, "EventSourceArn", *arn));
  if (tables::IsTableStreamName(stream) && position == "AT_TIMESTAMP") {
    return Fail(kInvalidParameterValue,
                "StartingPosition AT_TIMESTAMP is not supported for DynamoDB stream sources: "
                "TRIM_HORIZON or LATEST");
  }
  // FilterCriteria on a table stream are matched as DynamoDB records by the pollers
  // (mapping/record_filter.h).
  request.set_stream_name(stream);
  request.set_function_name(*function_name);
  if (position) request.set_starting_position(StartingPositionOf(*position));
  if (position_time)
    *request.mutable_starting_position_timestamp() = ToProtoTimestamp(*position_time);
  RETURN_IF_ERROR(ApplyMappingFields(c, fields, &request));
  ASSIGN_OR_RETURN(v1::EventSourceMappingConfiguration created,
                   c.tracker.CreateEventSourceMapping(request));
  return Reply{202, EventSourceMappingShape(created, c.options)};
}

absl::StatusOr<Reply> UpdateEventSourceMapping(const Context& c, Call& call) {
  InputReader& r = call.in;
  std::optional<std::string> uuid = r.String("UUID");
  std::optional<std::string> function_name = ReadFunctionName(r, /*required=*/false);
  const MappingFields fields = ReadMappingFields(r);
  RETURN_IF_ERROR(call.Check());
  RETURN_IF_ERROR(RefuseUnsupported(
      call.input, {"SourceAccessConfigurations", "ScalingConfig", "DocumentDBEventSourceConfig",
                   "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig",
                   "KMSKeyArn", "MetricsConfig", "ProvisionedPollerConfig"}));
  v1::UpdateEventSourceMappingRequest request;
  request.set_uuid(uuid.value_or(""));
  if (function_name) request.set_function_name(*function_name);
  RETURN_IF_ERROR(ApplyMappingFields(c, fields, &request));
  request.set_update_function_response_types(fields.response_types.has_value());
  request.set_update_filter_criteria(fields.has_filter_criteria);
  ASSIGN_OR_RETURN(v1::EventSourceMappingConfiguration updated,
                   c.tracker.UpdateEventSourceMapping(request));
  return Reply{202, EventSourceMappingShape(updated, c.options)};
}

absl::StatusOr<Reply> GetEventSourceMapping(const Context& c, Call& call) {
  v1::GetEventSourceMappingRequest request;
  request.set_uuid(call.in.String("UUID").value_or(""));
  RETURN_IF_ERROR(call.Check());
  ASSIGN_OR_RETURN(v1::EventSourceMappingConfiguration mapping,
                   c.tracker.GetEventSourceMapping(request));
  return Reply{200, EventSourceMappingShape(mapping, c.options)};
}

absl::StatusOr<Reply> DeleteEventSourceMapping(const Context& c, Call& call) {
  v1::DeleteEventSourceMappingRequest request;
  request.set_uuid(call.in.String("UUID").value_or(""));
  RETURN_IF_ERROR(call.Check());
  ASSIGN_OR_RETURN(v1::EventSourceMappingConfiguration deleted,
                   c.tracker.DeleteEventSourceMapping(request));
  return Reply{202, EventSourceMappingShape(deleted, c.options)};
}

absl::StatusOr<Reply> ListEventSourceMappings(const Context& c, Call& call) {
  InputReader& r = call.in;
  std::optional<std::string> function_name = ReadFunctionName(r, /*required=*/false);
  std::optional<std::string> arn = r.String("EventSourceArn");
  r.Pattern("EventSourceArn", arn, kArnPattern, MatchesArn);
  std::optional<std::string> marker = r.String("Marker");
  std::optional<int64_t> max_items = ReadMaxItems(r);
  RETURN_IF_ERROR(call.Check());
  v1::ListEventSourceMappingsRequest request;
  std::optional<absl::StatusOr<std::string>> table_stream =
      arn && c.options.table_streams != nullptr ? c.options.table_streams->StreamOfArn(*arn)
                                                : std::nullopt;
  if (table_stream) {
    if (!table_stream->ok()) {  // no such table stream: no mapping on it
      Value empty = Value::Map();
      empty.Add("EventSourceMappings", Value::List());
      return Reply{200, std::move(empty)};
    }
    request.set_stream_name(**table_stream);
  } else if (arn) {
    absl::StatusOr<std::string> stream = StreamOfArn(c.options, "EventSourceArn", *arn);
    if (absl::IsNotFound(stream.status())) {  // a stream of another region or account
      Value empty = Value::Map();
      empty.Add("EventSourceMappings", Value::List());
      return Reply{200, std::move(empty)};
    }
    if (!stream.ok()) return Fail(kInvalidParameterValue, std::string(stream.status().message()));
    request.set_stream_name(*stream);
  }
  if (function_name) request.set_function_name(*function_name);
  if (marker) request.set_marker(*marker);
  if (max_items) request.set_max_items(static_cast<int32_t>(*max_items));
  ASSIGN_OR_RETURN(v1::ListEventSourceMappingsResponse listed,
                   c.tracker.ListEventSourceMappings(request));
  Value out = Value::Map();
  Value& mappings = out.Add("EventSourceMappings", Value::List());
  mappings.Reserve(listed.event_source_mappings_size());
  for (const v1::EventSourceMappingConfiguration& m : listed.event_source_mappings()) {
    mappings.Append(EventSourceMappingShape(m, c.options));
  }
  if (!listed.next_marker().empty()) out.Add("NextMarker", Value::String(listed.next_marker()));
  return Reply{200, std::move(out)};
}

// --- Functions and their concurrency ------------------------------------------------------------

absl::StatusOr<Reply> ListFunctions(const Context& c, Call& call) {
  InputReader& r = call.in;
  std::optional<std::string> master_region = r.String("MasterRegion");
  std::optional<std::string> version = r.String("FunctionVersion");
  r.Enum("FunctionVersion", version, {"ALL"});
  std::optional<std::string> marker = r.String("Marker");
  std::optional<int64_t> max_items = ReadMaxItems(r);
  RETURN_IF_ERROR(call.Check());
  if (master_region) {
    return Fail(kInvalidParameterValue,
                "MasterRegion is not supported: there are no Lambda@Edge replicas here");
  }
  v1::ListFunctionsRequest request;
  if (marker) request.set_marker(*marker);
  if (max_items) request.set_max_items(static_cast<int32_t>(*max_items));
  ASSIGN_OR_RETURN(v1::ListFunctionsResponse listed, c.tracker.ListFunctions(request));
  Value out = Value::Map();
  Value& functions = out.Add("Functions", Value::List());
  functions.Reserve(listed.functions_size());
  for (const v1::FunctionConfiguration& f : listed.functions()) {
    functions.Append(FunctionConfigurationShape(f));
  }
  if (!listed.next_marker().empty()) out.Add("NextMarker", Value::String(listed.next_marker()));
  return Reply{200, std::move(out)};
}

absl::StatusOr<Reply> GetFunction(const Context& c, Call& call) {
  InputReader& r = call.in;
  std::optional<std::string> name = ReadFunctionName(r, /*required=*/true, /*namespaced=*/true);
  std::optional<std::string> qualifier = r.String("Qualifier");
  r.Length("Qualifier", qualifier, 1, 128);
  r.Pattern("Qualifier", qualifier, kQualifierPattern, [](absl::string_view s) {
    for (char ch : s) {
      if (!absl::ascii_isalnum(ch) && ch != '$' && ch != '_' && ch != '-') return false;
    }
    return true;
  });
  RETURN_IF_ERROR(call.Check());
  v1::GetFunctionRequest request;
  request.set_function_name(*name);
  ASSIGN_OR_RETURN(v1::FunctionConfiguration function, c.tracker.GetFunction(request));
  if (qualifier && *qualifier != "$LATEST") {
    return Fail(kResourceNotFound,
                absl::StrCat("Function not found: ", function.function_arn(), ":", *qualifier,
                             " (versions and aliases do not exist here: only $LATEST)"),
                404);
  }
  Value out = Value::Map();
  out.Add("Configuration", FunctionConfigurationShape(function));
  if (function.has_reserved_concurrent_executions()) {
    out.Add("Concurrency", Value::Map())
        .Add("ReservedConcurrentExecutions",
             Value::Integer(function.reserved_concurrent_executions()));
  }
  return Reply{200, std::move(out)};
}

absl::StatusOr<Reply> PutFunctionConcurrency(const Context& c, Call& call) {
  InputReader& r = call.in;
  std::optional<std::string> name = ReadFunctionName(r, /*required=*/true);
  std::optional<int64_t> reserved = r.Integer("ReservedConcurrentExecutions");
  r.Required("ReservedConcurrentExecutions", reserved.has_value());
  r.Range("ReservedConcurrentExecutions", reserved, 0, std::numeric_limits<int64_t>::max());
  RETURN_IF_ERROR(call.Check());
  if (*reserved > std::numeric_limits<int32_t>::max()) {
    return Fail(kInvalidParameterValue,
                absl::StrCat("ReservedConcurrentExecutions must be at most ",
                             std::numeric_limits<int32_t>::max(), ", got ", *reserved));
  }
  v1::PutFunctionConcurrencyRequest request;
  request.set_function_name(*name);
  request.set_reserved_concurrent_executions(static_cast<int32_t>(*reserved));
  ASSIGN_OR_RETURN(v1::FunctionConcurrency concurrency, c.tracker.PutFunctionConcurrency(request));
  return Reply{200, ConcurrencyShape(concurrency)};
}

absl::StatusOr<Reply> DeleteFunctionConcurrency(const Context& c, Call& call) {
  std::optional<std::string> name = ReadFunctionName(call.in, /*required=*/true);
  RETURN_IF_ERROR(call.Check());
  v1::DeleteFunctionConcurrencyRequest request;
  request.set_function_name(*name);
  RETURN_IF_ERROR(c.tracker.DeleteFunctionConcurrency(request).status());
  return Reply{204, Value()};
}

absl::StatusOr<Reply> GetFunctionConcurrency(const Context& c, Call& call) {
  std::optional<std::string> name = ReadFunctionName(call.in, /*required=*/true);
  RETURN_IF_ERROR(call.Check());
  v1::GetFunctionConcurrencyRequest request;
  request.set_function_name(*name);
  ASSIGN_OR_RETURN(v1::FunctionConcurrency concurrency, c.tracker.GetFunctionConcurrency(request));
  return Reply{200, ConcurrencyShape(concurrency)};
}

// --- Routing
// --------------------------------------------------------------------------------------

const std::vector<Route>& Routes() {
  static const auto* routes = new std::vector<Route>{
      {"POST",
       {"2015-03-31", "event-source-mappings"},
       "CreateEventSourceMapping",
       CreateEventSourceMapping},
      {"GET",
       {"2015-03-31", "event-source-mappings"},
       "ListEventSourceMappings",
       ListEventSourceMappings},
      {"GET",
       {"2015-03-31", "event-source-mappings", "{UUID}"},
       "GetEventSourceMapping",
       GetEventSourceMapping},
      {"PUT",
       {"2015-03-31", "event-source-mappings", "{UUID}"},
       "UpdateEventSourceMapping",
       UpdateEventSourceMapping},
      {"DELETE",
       {"2015-03-31", "event-source-mappings", "{UUID}"},
       "DeleteEventSourceMapping",
       DeleteEventSourceMapping},
      {"GET", {"2015-03-31", "functions"}, "ListFunctions", ListFunctions},
      {"GET", {"2015-03-31", "functions", "{FunctionName}"}, "GetFunction", GetFunction},
      {"PUT",
       {"2017-10-31", "functions", "{FunctionName}", "concurrency"},
       "PutFunctionConcurrency",
       PutFunctionConcurrency},
      {"DELETE",
       {"2017-10-31", "functions", "{FunctionName}", "concurrency"},
       "DeleteFunctionConcurrency",
       DeleteFunctionConcurrency},
      {"GET",
       {"2019-09-30", "functions", "{FunctionName}", "concurrency"},
       "GetFunctionConcurrency",
       GetFunctionConcurrency},
  };
  return *routes;
}

// Lambda's operations on functions as code, which have no meaning here.
struct CodeOperation {
  absl::string_view method;
  size_t segments;         // 2015-03-31/functions[/{FunctionName}[/configuration]]
  absl::string_view last;  // the last segment ("" = any)
  absl::string_view operation;
};
constexpr CodeOperation kCodeOperations[] = {
    {"POST", 2, "functions", "CreateFunction"},
    {"PUT", 4, "configuration", "UpdateFunctionConfiguration"},
    {"PUT", 4, "code", "UpdateFunctionCode"},
    {"DELETE", 3, "", "DeleteFunction"},
};

bool Matches(const Route& route, const std::vector<std::string>& segments) {
  if (route.pattern.size() != segments.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (!absl::StartsWith(route.pattern[i], "{") && route.pattern[i] != segments[i]) return false;
  }
  return true;
}

AwsError UnknownRoute(absl::string_view method, absl::string_view path,
                      const std::vector<std::string>& segments) {
  if (segments.size() >= 2 && segments[0] == "2015-03-31" && segments[1] == "functions") {
    for (const CodeOperation& op : kCodeOperations) {
      if (method == op.method && segments.size() == op.segments &&
          (op.last.empty() || segments.back() == op.last)) {
        return MakeError(
            kUnknownOperation,
            absl::StrCat(op.operation,
                         " is not served by Tributary's Lambda API: a function here is an "
                         "endpoint, not code; manage functions with `tribctl functions "
                         "create|update|delete` (tributary.v1.Functions)"),
            404);
      }
    }
  }
  return MakeError(kUnknownOperation,
                   absl::StrCat("no Lambda operation is served by ", method, " ", path,
                                " (Tributary serves the event-source-mapping operations, "
                                "ListFunctions, GetFunction and the concurrency calls)"),
                   404);
}

// The error shapes whose message member is "Message" in Lambda's model (the others have
// "message").
bool CapitalizedMessage(absl::string_view type) {
  return type == kResourceNotFound || type == kResourceInUse || type == kServiceException;
}

}  // namespace

AwsError LambdaErrorOf(const absl::Status& status) {
  CHECK(!status.ok());
  // A missing stream is the request's fault in Lambda (the mapping's EventSourceArn or
  // destination), not a missing resource of the API: the tracker's message names the field.
  if (absl::IsNotFound(status) && (absl::StartsWith(status.message(), "stream_name:") ||
                                   absl::StartsWith(status.message(), "destination_config"))) {
    return MakeError(kInvalidParameterValue, std::string(status.message()));
  }
  StatusMapping mapping;
  mapping.invalid_argument = kInvalidParameterValue;
  mapping.not_found = kResourceNotFound;
  mapping.already_exists = kResourceConflict;
  mapping.failed_precondition = kResourceInUse;  // e.g. an update of a mapping being deleted
  mapping.aborted = kResourceInUse;
  mapping.resource_exhausted = kTooManyRequests;
  AwsError error = FromStatus(status, mapping);  // a ToStatus error comes back as it was made
  if (error.type == kResourceNotFound) error.http_status = 404;
  if (error.type == kResourceConflict) error.http_status = 409;
  if (error.type == kTooManyRequests) error.http_status = 429;
  // FromStatus's 503 ServiceUnavailable (the tracker unreachable) and 500 InternalFailure keep
  // their HTTP status under Lambda's code for a failure of the service.
  if (error.type == kServiceUnavailable || error.type == kInternalFailure) {
    error.type = kServiceException;
  }
  return error;
}

LambdaApi::LambdaApi(stream_tracker::StreamTrackerClient* tracker, LambdaApiOptions options)
    : tracker_(tracker), options_(std::move(options)) {}

std::vector<std::string> LambdaApi::path_prefixes() const {
  return {"/2015-03-31/", "/2017-10-31/", "/2019-09-30/"};
}

HttpResponse LambdaApi::ErrorResponse(const AwsError& error) const {
  Value body = Value::Map();
  body.Add("Type", Value::String(error.http_status >= 500 ? "Service" : "User"));
  body.Add(CapitalizedMessage(error.type) ? "Message" : "message", Value::String(error.message));
  HttpResponse response;
  response.status = error.http_status;
  response.headers.emplace_back("Content-Type", kJsonContentType);
  response.headers.emplace_back("x-amzn-ErrorType", error.type);
  response.body = WriteJson(body);
  return response;
}

AwsError LambdaApi::Throttled(std::string message) const {
  return MakeError(kTooManyRequests, std::move(message), 429);
}

AwsError LambdaApi::BodyTooLarge(std::string message) const {
  return MakeError(kRequestTooLarge, std::move(message), 413);
}

namespace {

struct Routed {
  const Route* route;
  Value input;
};

// The route `request` takes and its input tree: path parameters first (they win over a body
// member of the same name), then the body's members, then the query's parameters. Errors: the
// AwsError (ToStatus) of a target that does not parse, no such route, a body that is not a JSON
// object.
absl::StatusOr<Routed> RouteOf(const HttpRequest& request) {
  absl::StatusOr<RestTarget> target = ParseRestTarget(request.target);
  if (!target.ok()) {
    return ToStatus(MakeError(kInvalidParameterValue, std::string(target.status().message())));
  }
  const Route* route = nullptr;
  for (const Route& r : Routes()) {
    if (r.method == request.method && Matches(r, target->segments)) {
      route = &r;
      break;
    }
  }
  if (route == nullptr) {
    return ToStatus(UnknownRoute(request.method, TargetPath(request.target), target->segments));
  }
  Value input = Value::Map();
  for (size_t i = 0; i < route->pattern.size(); ++i) {
    const absl::string_view p = route->pattern[i];
    if (absl::StartsWith(p, "{")) {
      input.Add(std::string(p.substr(1, p.size() - 2)), Value::String(target->segments[i]));
    }
  }
  if (!request.body.empty()) {
    absl::StatusOr<Value> body = ParseJson(request.body);
    if (!body.ok()) {
      return ToStatus(MakeError(
          kInvalidRequestContent,
          absl::StrCat("Could not parse request body into json: ", body.status().message())));
    }
    if (body->type() != Value::Type::kMap) {
      return ToStatus(MakeError(kInvalidRequestContent, "the request body must be a JSON object"));
    }
    for (const Value::Member& member : body->members()) input.Add(member.first, member.second);
  }
  for (const auto& [name, value] : target->query) {
    int64_t number;
    // Integer members come as text in a query (MaxItems); the rest are strings.
    input.Add(name, name == "MaxItems" && absl::SimpleAtoi(value, &number) ? Value::Integer(number)
                                                                           : Value::String(value));
  }
  return Routed{route, std::move(input)};
}

}  // namespace

std::optional<RestOperation> LambdaApi::OperationOf(const HttpRequest& request) const {
  absl::StatusOr<Routed> routed = RouteOf(request);
  if (!routed.ok()) return std::nullopt;
  return RestOperation{std::string(routed->route->operation), std::move(routed->input)};
}

HttpResponse LambdaApi::Handle(const HttpRequest& request, absl::string_view /*principal*/) {
  absl::StatusOr<Routed> routed = RouteOf(request);
  if (!routed.ok()) return ErrorResponse(FromStatus(routed.status(), StatusMapping()));
  const Route* route = routed->route;
  Value& input = routed->input;
  if (tracker_ == nullptr) {
    return ErrorResponse(MakeError(
        kUnknownOperation,
        absl::StrCat(route->operation,
                     ": Lambda's API is not served by this process: it has no stream tracker to "
                     "reach (start shard_store_server with --stream_tracker=HOST:PORT, or use "
                     "`tributary serve`)"),
        501));
  }

  Call call(std::move(input));
  const Context context{*tracker_, options_};
  absl::StatusOr<Reply> reply = route->fn(context, call);
  if (!reply.ok()) {
    AwsError error = LambdaErrorOf(reply.status());
    if (error.http_status >= 500) {
      LOG(WARNING) << "Lambda " << route->operation << ": " << error.type << " ("
                   << error.http_status << "): " << error.message;
    }
    return ErrorResponse(error);
  }
  HttpResponse response;
  response.status = reply->status;
  if (!reply->body.is_null()) {
    response.headers.emplace_back("Content-Type", kJsonContentType);
    response.body = WriteJson(reply->body);
  }
  return response;
}

}  // namespace tributary::aws
