// Kinesis's tag and registered-consumer operations over ShardStore (kinesis_internal.h has what
// they share with kinesis_handler.cc): AddTagsToStream, RemoveTagsFromStream, ListTagsForStream,
// TagResource, UntagResource, ListTagsForResource, RegisterStreamConsumer,
// DeregisterStreamConsumer, DescribeStreamConsumer, ListStreamConsumers. Each reads its input
// with the model's checks, builds the tributary.v1 request, calls the store and builds AWS's
// output; the status table rows are kinesis_handler.cc's.
//
// ARNs. A consumer's ARN is "<stream ARN>/consumer/<name>:<creation, epoch seconds>", as
// Kinesis makes it; the store's own form ("arn:tributary:stream/<stream>/consumer/...") never
// reaches the wire: requests are translated into it (so the store checks that an ARN names the
// current registration of a name) and replies are built from the consumer's name and creation
// time. TagResource and friends accept a stream's ARN; a consumer's ARN there is
// InvalidArgumentException (consumers carry no tags here).
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "aws/aws_error.h"
#include "aws/input_reader.h"
#include "aws/kinesis_internal.h"
#include "aws/value.h"
#include "common/status_macros.h"
#include "proto/streams.pb.h"
#include "shard_store/shard_store.h"

namespace tributary::aws::kinesis_internal {
namespace {

// The model's shapes.
constexpr absl::string_view kResourceArnPattern = "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+";
constexpr absl::string_view kConsumerArnPattern =
    "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/"
    "[a-zA-Z0-9_.-]+:[0-9]+";
constexpr size_t kMaxTagMapEntries = 200;  // TagMap: the store then allows 50
constexpr size_t kMaxTagKeyList = 50;      // TagKeyList
constexpr int64_t kMaxListTagsLimit = 50;  // ListTagsForStreamInputLimit
constexpr int64_t kMaxListConsumersResults = 10000;

bool IsName(absl::string_view s) { return !s.empty() && s.size() <= 128 && MatchesName(s); }

// A consumer ARN's parts: the stream ARN's, the consumer name and the creation second.
struct ConsumerArnParts {
  StreamArnParts stream;
  std::string consumer;
  int64_t creation_seconds = 0;
};

// "arn:aws…:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<seconds>".
std::optional<ConsumerArnParts> SplitConsumerArn(absl::string_view arn) {
  std::optional<StreamArnParts> stream = SplitStreamArn(arn);
  if (!stream) return std::nullopt;
  absl::string_view resource = stream->name;
  const size_t slash = resource.find("/consumer/");
  if (slash == absl::string_view::npos) return std::nullopt;
  ConsumerArnParts parts;
  absl::string_view stream_name = resource.substr(0, slash);
  absl::string_view rest = resource.substr(slash + std::strlen("/consumer/"));
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) return std::nullopt;
  absl::string_view consumer = rest.substr(0, colon);
  absl::string_view seconds = rest.substr(colon + 1);
  if (!IsName(stream_name) || !IsName(consumer) || seconds.empty() || seconds.size() > 18) {
    return std::nullopt;
  }
  for (char c : seconds) {
    if (!absl::ascii_isdigit(c)) return std::nullopt;
  }
  if (!absl::SimpleAtoi(seconds, &parts.creation_seconds)) return std::nullopt;
  parts.stream = std::move(*stream);
  parts.stream.name = std::string(stream_name);
  parts.consumer = std::string(consumer);
  return parts;
}

bool MatchesConsumerArn(absl::string_view arn) { return SplitConsumerArn(arn).has_value(); }

// ResourceARN: the model allows anything up to "stream/" after the account.
bool MatchesResourceArn(absl::string_view arn) {
  std::vector<absl::string_view> parts = absl::StrSplit(arn, absl::MaxSplits(':', 5));
  if (parts.size() != 6 || parts[0] != "arn" || !absl::StartsWith(parts[1], "aws") ||
      parts[2] != "kinesis" || parts[4].size() != 12) {
    return false;
  }
  for (char c : parts[4]) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  const size_t at = parts[5].find("stream/");
  if (at == absl::string_view::npos) return false;
  absl::string_view rest = parts[5].substr(at + std::strlen("stream/"));
  if (rest.empty()) return false;
  for (char c : rest) {
    if (absl::ascii_isspace(c)) return false;
  }
  return true;
}

// The stream a ResourceARN names. Errors: NOT_FOUND (another region or account),
// INVALID_ARGUMENT (a consumer's ARN, or anything but a stream's).
absl::StatusOr<std::string> ResolveResource(const Context& c, const std::string& arn) {
  if (SplitConsumerArn(arn)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ResourceARN ", arn, " names a registered consumer; Tributary tags only streams"));
  }
  std::optional<StreamArnParts> stream = SplitStreamArn(arn);
  if (!stream || !IsName(stream->name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ResourceARN ", arn, " is not the ARN of a stream"));
  }
  RETURN_IF_ERROR(CheckHere(c, *stream));
  return stream->name;
}

Value TagList(const google::protobuf::RepeatedPtrField<v1::Tag>& tags) {
  Value list = Value::List();
  list.Reserve(tags.size());
  for (const v1::Tag& t : tags) {
    Value& tag = list.Append(Value::Map());
    tag.Add("Key", Value::String(t.key()));
    tag.Add("Value", Value::String(t.value()));
  }
  return list;
}

// The Tags member of AddTagsToStream, TagResource: a TagMap.
std::optional<InputReader::StringPairs> ReadTagMap(InputReader& r) {
  std::optional<InputReader::StringPairs> tags = r.StringMap("Tags");
  r.Required("Tags", tags.has_value());
  r.MapLength("Tags", tags, 1, kMaxTagMapEntries);
  r.MapEntryLengths("Tags", tags, 1, shard_store::kMaxTagKeyChars, 0,
                    shard_store::kMaxTagValueChars);
  return tags;
}

// The TagKeys member of RemoveTagsFromStream, UntagResource: a TagKeyList.
std::optional<std::vector<std::string>> ReadTagKeys(InputReader& r) {
  std::optional<std::vector<std::string>> keys = r.StringList("TagKeys");
  r.Required("TagKeys", keys.has_value());
  r.ListLength("TagKeys", keys, 1, kMaxTagKeyList);
  r.ElementLengths("TagKeys", keys, 1, shard_store::kMaxTagKeyChars);
  return keys;
}

absl::Status AddTags(const Context& c, const std::string& stream,
                     const InputReader::StringPairs& tags) {
  v1::AddTagsToStreamRequest request;
  request.set_stream_name(stream);
  for (const auto& [key, value] : tags) (*request.mutable_tags())[key] = value;
  return c.store.AddTagsToStream(request);
}

absl::Status RemoveTags(const Context& c, const std::string& stream,
                        const std::vector<std::string>& keys) {
  v1::RemoveTagsFromStreamRequest request;
  request.set_stream_name(stream);
  for (const std::string& key : keys) request.add_tag_keys(key);
  return c.store.RemoveTagsFromStream(request);
}

// --- Tags ---------------------------------------------------------------------------------

absl::StatusOr<Value> AddTagsToStream(const Context& c, Input& in) {
  StreamRef ref = ReadStreamRef(in.reader);
  std::optional<InputReader::StringPairs> tags = ReadTagMap(in.reader);
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  RETURN_IF_ERROR(AddTags(c, name, *tags));
  return Value::Map();
}

absl::StatusOr<Value> RemoveTagsFromStream(const Context& c, Input& in) {
  StreamRef ref = ReadStreamRef(in.reader);
  std::optional<std::vector<std::string>> keys = ReadTagKeys(in.reader);
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  RETURN_IF_ERROR(RemoveTags(c, name, *keys));
  return Value::Map();
}

absl::StatusOr<Value> ListTagsForStream(const Context& c, Input& in) {
  InputReader& r = in.reader;
  StreamRef ref = ReadStreamRef(r);
  std::optional<std::string> start = r.String("ExclusiveStartTagKey");
  r.Length("ExclusiveStartTagKey", start, 1, shard_store::kMaxTagKeyChars);
  std::optional<int64_t> limit = r.Integer("Limit");
  r.Range("Limit", limit, 1, kMaxListTagsLimit);
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  v1::ListTagsForStreamRequest request;
  request.set_stream_name(name);
  if (start) request.set_exclusive_start_tag_key(*start);
  request.set_limit(static_cast<int32_t>(limit.value_or(0)));
  ASSIGN_OR_RETURN(v1::ListTagsForStreamResponse response, c.store.ListTagsForStream(request));
  Value out = Value::Map();
  out.Add("Tags", TagList(response.tags()));
  out.Add("HasMoreTags", Value::Bool(response.has_more_tags()));
  return out;
}

std::optional<std::string> ReadResourceArn(InputReader& r) {
  std::optional<std::string> arn = r.String("ResourceARN");
  r.Required("ResourceARN", arn.has_value());
  r.Length("ResourceARN", arn, 1, 2048);
  r.Pattern("ResourceARN", arn, kResourceArnPattern, MatchesResourceArn);
  return arn;
}

absl::StatusOr<Value> TagResource(const Context& c, Input& in) {
  std::optional<std::string> arn = ReadResourceArn(in.reader);
  std::optional<InputReader::StringPairs> tags = ReadTagMap(in.reader);
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, ResolveResource(c, *arn));
  RETURN_IF_ERROR(AddTags(c, name, *tags));
  return Value::Map();
}

absl::StatusOr<Value> UntagResource(const Context& c, Input& in) {
  std::optional<std::string> arn = ReadResourceArn(in.reader);
  std::optional<std::vector<std::string>> keys = ReadTagKeys(in.reader);
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, ResolveResource(c, *arn));
  RETURN_IF_ERROR(RemoveTags(c, name, *keys));
  return Value::Map();
}

absl::StatusOr<Value> ListTagsForResource(const Context& c, Input& in) {
  std::optional<std::string> arn = ReadResourceArn(in.reader);
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, ResolveResource(c, *arn));
  v1::ListTagsForStreamRequest request;  // a stream has at most 50 tags: one page holds them
  request.set_stream_name(name);
  request.set_limit(shard_store::kMaxTagsPerStream);
  ASSIGN_OR_RETURN(v1::ListTagsForStreamResponse response, c.store.ListTagsForStream(request));
  Value out = Value::Map();
  out.Add("Tags", TagList(response.tags()));
  return out;
}

// --- Registered consumers -------------------------------------------------------------------

// The consumer's members every output shape shares, in AWS's order.
template <typename C>
void AddConsumerMembers(const Context& c, absl::string_view stream, const C& consumer, Value* out) {
  out->Add("ConsumerName", Value::String(consumer.consumer_name()));
  out->Add("ConsumerARN", Value::String(absl::StrCat(
                              c.api.StreamArn(stream), "/consumer/", consumer.consumer_name(), ":",
                              consumer.consumer_creation_timestamp().seconds())));
  out->Add("ConsumerStatus", Value::String(StatusName(consumer.consumer_status())));
  out->Add("ConsumerCreationTimestamp", Time(consumer.consumer_creation_timestamp()));
}

// StreamARN required (as the model has it for RegisterStreamConsumer and ListStreamConsumers).
std::optional<std::string> ReadRequiredStreamArn(InputReader& r) {
  std::optional<std::string> arn = ReadStreamArn(r);
  r.Required("StreamARN", arn.has_value());
  return arn;
}

absl::StatusOr<Value> RegisterStreamConsumer(const Context& c, Input& in) {
  InputReader& r = in.reader;
  StreamRef ref;
  ref.arn = ReadRequiredStreamArn(r);
  std::optional<std::string> consumer = r.String("ConsumerName");
  r.Required("ConsumerName", consumer.has_value());
  CheckName(r, "ConsumerName", consumer);
  std::optional<InputReader::StringPairs> tags = r.StringMap("Tags");
  r.MapLength("Tags", tags, 1, kMaxTagMapEntries);
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  if (tags) {
    return absl::InvalidArgumentError(
        "Tags on RegisterStreamConsumer: Tributary does not tag consumers (tag the stream)");
  }
  v1::RegisterStreamConsumerRequest request;
  request.set_stream_name(name);
  request.set_consumer_name(*consumer);
  ASSIGN_OR_RETURN(v1::RegisterStreamConsumerResponse response,
                   c.store.RegisterStreamConsumer(request));
  Value out = Value::Map();
  AddConsumerMembers(c, name, response.consumer(), &out.Add("Consumer", Value::Map()));
  return out;
}

// A consumer named as Deregister/DescribeStreamConsumer name it: ConsumerARN, or StreamARN and
// ConsumerName, or all three when they agree.
struct ConsumerInput {
  StreamRef stream;
  std::optional<std::string> name;
  std::optional<std::string> arn;
};

ConsumerInput ReadConsumerInput(InputReader& r) {
  ConsumerInput in;
  in.stream.arn = ReadStreamArn(r);
  in.name = r.String("ConsumerName");
  CheckName(r, "ConsumerName", in.name);
  in.arn = r.String("ConsumerARN");
  r.Length("ConsumerARN", in.arn, 1, 2048);
  r.Pattern("ConsumerARN", in.arn, kConsumerArnPattern, MatchesConsumerArn);
  return in;
}

// Fills a Deregister/DescribeStreamConsumerRequest. Errors: INVALID_ARGUMENT (not enough
// given), NOT_FOUND (an ARN of another region or account).
template <typename Request>
absl::Status ToConsumerRequest(const Context& c, const ConsumerInput& in, Request* request) {
  std::string stream;
  if (in.stream.arn) {
    ASSIGN_OR_RETURN(stream, Resolve(c, in.stream));
  }
  if (in.arn) {
    std::optional<ConsumerArnParts> arn = SplitConsumerArn(*in.arn);
    if (!arn) return absl::InvalidArgumentError(absl::StrCat("malformed ConsumerARN ", *in.arn));
    RETURN_IF_ERROR(CheckHere(c, arn->stream));
    // The store checks that the three agree and that the ARN names the current registration.
    request->set_consumer_arn(
        shard_store::ConsumerArn(arn->stream.name, arn->consumer, arn->creation_seconds));
    if (stream.empty()) stream = arn->stream.name;
  } else if (stream.empty() || !in.name) {
    return absl::InvalidArgumentError(
        "ConsumerARN, or StreamARN and ConsumerName, must be provided");
  }
  request->set_stream_name(stream);
  if (in.name) request->set_consumer_name(*in.name);
  return absl::OkStatus();
}

absl::StatusOr<Value> DeregisterStreamConsumer(const Context& c, Input& in) {
  ConsumerInput consumer = ReadConsumerInput(in.reader);
  RETURN_IF_ERROR(in.Check());
  v1::DeregisterStreamConsumerRequest request;
  RETURN_IF_ERROR(ToConsumerRequest(c, consumer, &request));
  RETURN_IF_ERROR(c.store.DeregisterStreamConsumer(request));
  return Value::Map();
}

absl::StatusOr<Value> DescribeStreamConsumer(const Context& c, Input& in) {
  ConsumerInput consumer = ReadConsumerInput(in.reader);
  RETURN_IF_ERROR(in.Check());
  v1::DescribeStreamConsumerRequest request;
  RETURN_IF_ERROR(ToConsumerRequest(c, consumer, &request));
  ASSIGN_OR_RETURN(v1::DescribeStreamConsumerResponse response,
                   c.store.DescribeStreamConsumer(request));
  const v1::ConsumerDescription& d = response.consumer_description();
  const std::string& stream = request.stream_name();
  Value out = Value::Map();
  Value& description = out.Add("ConsumerDescription", Value::Map());
  AddConsumerMembers(c, stream, d, &description);
  description.Add("StreamARN", Value::String(c.api.StreamArn(stream)));
  return out;
}

absl::StatusOr<Value> ListStreamConsumers(const Context& c, Input& in) {
  InputReader& r = in.reader;
  StreamRef ref;
  ref.arn = ReadRequiredStreamArn(r);
  std::optional<std::string> token = r.String("NextToken");
  r.Length("NextToken", token, 1, 1048576);
  std::optional<int64_t> max_results = r.Integer("MaxResults");
  r.Range("MaxResults", max_results, 1, kMaxListConsumersResults);
  r.Timestamp("StreamCreationTimestamp");  // names the stream's incarnation; one exists here
  RETURN_IF_ERROR(in.Check());
  ASSIGN_OR_RETURN(std::string name, Resolve(c, ref));
  v1::ListStreamConsumersRequest request;
  request.set_stream_name(name);
  if (token) request.set_next_token(*token);
  request.set_max_results(static_cast<int32_t>(max_results.value_or(0)));
  ASSIGN_OR_RETURN(v1::ListStreamConsumersResponse response, c.store.ListStreamConsumers(request));
  Value out = Value::Map();
  Value& consumers = out.Add("Consumers", Value::List());
  for (const v1::Consumer& consumer : response.consumers()) {
    AddConsumerMembers(c, name, consumer, &consumers.Append(Value::Map()));
  }
  if (!response.next_token().empty()) out.Add("NextToken", Value::String(response.next_token()));
  return out;
}

}  // namespace

const std::vector<Operation>& MetadataOperations() {
  static const auto* operations = new std::vector<Operation>{
      {"AddTagsToStream", AddTagsToStream, ControlPlane()},
      {"RemoveTagsFromStream", RemoveTagsFromStream, ControlPlane()},
      {"ListTagsForStream", ListTagsForStream, ControlPlane()},
      {"TagResource", TagResource, ControlPlane()},
      {"UntagResource", UntagResource, ControlPlane()},
      {"ListTagsForResource", ListTagsForResource, ControlPlane()},
      {"RegisterStreamConsumer", RegisterStreamConsumer, ControlPlane()},
      {"DeregisterStreamConsumer", DeregisterStreamConsumer, ControlPlane()},
      {"DescribeStreamConsumer", DescribeStreamConsumer, ControlPlane()},
      {"ListStreamConsumers", ListStreamConsumers, Listings()},
  };
  return *operations;
}

void CheckConsumerArn(InputReader& r, const std::optional<std::string>& consumer_arn) {
  r.Length("ConsumerARN", consumer_arn, 1, 2048);
  r.Pattern("ConsumerARN", consumer_arn, kConsumerArnPattern, MatchesConsumerArn);
}

absl::StatusOr<std::string> RegisteredConsumerStream(const Context& c,
                                                     const std::string& consumer_arn) {
  std::optional<ConsumerArnParts> arn = SplitConsumerArn(consumer_arn);
  if (!arn) return absl::InvalidArgumentError(absl::StrCat("malformed ConsumerARN ", consumer_arn));
  RETURN_IF_ERROR(CheckHere(c, arn->stream));
  v1::DescribeStreamConsumerRequest request;
  request.set_stream_name(arn->stream.name);
  request.set_consumer_arn(
      shard_store::ConsumerArn(arn->stream.name, arn->consumer, arn->creation_seconds));
  RETURN_IF_ERROR(c.store.DescribeStreamConsumer(request).status());
  return arn->stream.name;
}

}  // namespace tributary::aws::kinesis_internal
