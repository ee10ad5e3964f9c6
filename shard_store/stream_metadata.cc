// Tags and registered consumers: AddTagsToStream, RemoveTagsFromStream,
// ListTagsForStream, Register/Deregister/Describe/ListStreamConsumers, and
// ChangeAttributes, through which every change of them goes. See shard_store.h
// for the contract.
//
// Both live in the stream's metadata record ("s" + name), which reshards and
// retention changes write too. A change is staged on a copy of the stream's
// StreamAttributes, written with the rest of the record, and applied only once
// written, so a failed write changes nothing. Invariant: at most one writer of
// a stream's record at a time. Reshards, retention changes and delete hold
// UPDATING (BeginUpdate waits for a change in flight here); a change here waits
// until neither UPDATING nor another change is in flight and holds
// `changing_metadata` across its write. Waits are bounded by one metadata write
// and release the stream's lock while waiting; no lock is held across the write.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "common/rocksdb_util.h"
#include "common/status_macros.h"
#include "common/stream_name.h"
#include "proto/streams.pb.h"
#include "shard_store/metadata.pb.h"
#include "shard_store/rocksdb_store_metadata.h"
#include "shard_store/shard_store.h"
#include "shard_store/storage_format.h"
#include "shard_store/store_internal.h"
#include "shard_store/store_metadata.h"
#include "shard_store/tokens.h"

namespace tributary::shard_store {

namespace {

constexpr char kStreamArnPrefix[] = "arn:tributary:stream/";
constexpr int kMaxListTagsLimit = kMaxTagsPerStream;
constexpr int kMaxListConsumersResults = 10000;

// Characters (code points) of UTF-8 text.
int CodePoints(absl::string_view s) {
  int n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Decodes one UTF-8 sequence at the front of `s` into `*cp` and drops it; false when `s` does
// not start with a well-formed sequence (overlong forms, surrogates and values past U+10FFFF
// included).
bool NextCodePoint(absl::string_view* s, uint32_t* cp) {
  const auto* p = reinterpret_cast<const unsigned char*>(s->data());
  const size_t n = s->size();
  if (n == 0) return false;
  size_t len;
  uint32_t v;
  uint32_t min;
  if (p[0] < 0x80) {
    *cp = p[0];
    s->remove_prefix(1);
    return true;
  } else if ((p[0] & 0xE0) == 0xC0) {
    len = 2, v = p[0] & 0x1F, min = 0x80;
  } else if ((p[0] & 0xF0) == 0xE0) {
    len = 3, v = p[0] & 0x0F, min = 0x800;
  } else if ((p[0] & 0xF8) == 0xF0) {
    len = 4, v = p[0] & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (n < len) return false;
  for (size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) return false;
    v = (v << 6) | (p[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
  *cp = v;
  s->remove_prefix(len);
  return true;
}

// Kinesis's tag alphabet: Unicode letters, digits, white space and _ . / = + - % @ (and ':',
// which AWS's own keys use). Outside ASCII every character but the C1 controls counts as a
// letter: the store carries no Unicode tables (NOTES.md).
bool IsTagCharacter(uint32_t cp) {
  if (cp >= 0x80) return cp > 0x9F;
  const char c = static_cast<char>(cp);
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '_':
    case '.':
    case '/':
    case '=':
    case '+':
    case '-':
    case '%':
    case '@':
    case ':':
      return true;
    default:
      return false;
  }
}

// A tag key or value: `min`-`max` characters of the tag alphabet. `field` names it in messages;
// a text quoted in a message has passed the length check, so messages stay short.
absl::Status ValidateTagText(absl::string_view field, absl::string_view text, int min, int max) {
  const int chars = CodePoints(text);
  if (chars < min || chars > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be ", min, "-", max, " characters, got ", chars));
  }
  bool alphabet = true;
  absl::string_view rest = text;
  while (!rest.empty()) {
    uint32_t cp;
    if (!NextCodePoint(&rest, &cp)) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": not valid UTF-8"));
    }
    alphabet = alphabet && IsTagCharacter(cp);
  }
  if (!alphabet) {  // quoted only once known to be UTF-8
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": may only hold Unicode letters, digits, white space and _ . / = + - % @ :, got \"",
        text, "\""));
  }
  return absl::OkStatus();
}

absl::Status ValidateTagKey(absl::string_view field, absl::string_view key) {
  RETURN_IF_ERROR(ValidateTagText(field, key, 1, kMaxTagKeyChars));
  if (absl::StartsWithIgnoreCase(key, "aws:")) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": the prefix \"aws:\" is reserved for AWS, got \"", key, "\""));
  }
  return absl::OkStatus();
}

absl::Status ValidateConsumerName(absl::string_view name) {
  // The rule of stream names: 1-128 of [a-zA-Z0-9_.-].
  return tributary::ValidateStreamName("consumer_name", name);
}

// The parts of a consumer ARN (ConsumerArn's format).
struct ConsumerArnParts {
  std::string stream_name;
  std::string consumer_name;
  int64_t creation_seconds = 0;
};

absl::StatusOr<ConsumerArnParts> ParseConsumerArn(absl::string_view arn) {
  auto malformed = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "consumer_arn: must be arn:tributary:stream/<stream name>/consumer/<consumer name>:"
        "<creation, epoch seconds>, got \"",
        arn, "\""));
  };
  absl::string_view rest = arn;
  if (!absl::ConsumePrefix(&rest, kStreamArnPrefix)) return malformed();
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos) return malformed();
  ConsumerArnParts parts;
  parts.stream_name = std::string(rest.substr(0, slash));
  rest.remove_prefix(slash);
  if (!absl::ConsumePrefix(&rest, "/consumer/")) return malformed();
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) return malformed();
  parts.consumer_name = std::string(rest.substr(0, colon));
  absl::string_view seconds = rest.substr(colon + 1);
  if (seconds.empty() || seconds.size() > 18 ||
      !absl::SimpleAtoi(seconds, &parts.creation_seconds) || seconds[0] == '-' ||
      seconds[0] == '+') {
    return malformed();
  }
  if (!IsValidStreamName(parts.stream_name) || !IsValidStreamName(parts.consumer_name)) {
    return malformed();
  }
  return parts;
}

// A consumer named by stream_name + consumer_name and/or consumer_arn (Deregister/Describe).
struct ConsumerRef {
  std::string stream_name;
  std::string consumer_name;
  std::optional<int64_t> creation_seconds;  // when named by ARN
};

template <typename Request>
absl::StatusOr<ConsumerRef> ResolveConsumer(const Request& request) {
  ConsumerRef ref;
  ref.stream_name = request.stream_name();
  ref.consumer_name = request.consumer_name();
  if (!request.consumer_arn().empty()) {
    ASSIGN_OR_RETURN(ConsumerArnParts arn, ParseConsumerArn(request.consumer_arn()));
    if (!ref.stream_name.empty() && ref.stream_name != arn.stream_name) {
      return absl::InvalidArgumentError(absl::StrCat("stream_name ", ref.stream_name,
                                                     " and consumer_arn ", request.consumer_arn(),
                                                     " name different streams"));
    }
    if (!ref.consumer_name.empty() && ref.consumer_name != arn.consumer_name) {
      return absl::InvalidArgumentError(absl::StrCat("consumer_name ", ref.consumer_name,
                                                     " and consumer_arn ", request.consumer_arn(),
                                                     " name different consumers"));
    }
    ref.stream_name = std::move(arn.stream_name);
    ref.consumer_name = std::move(arn.consumer_name);
    ref.creation_seconds = arn.creation_seconds;
    return ref;
  }
  if (ref.stream_name.empty() || ref.consumer_name.empty()) {
    return absl::InvalidArgumentError(
        "consumer_arn, or stream_name and consumer_name, must be set");
  }
  RETURN_IF_ERROR(ValidateConsumerName(ref.consumer_name));
  return ref;
}

int64_t CreationSeconds(const internal_meta::ConsumerMetadata& c) {
  const int64_t ms = c.creation_ms();
  return ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
}

// The registered consumer `ref` names in `consumers`. Errors: NOT_FOUND.
absl::StatusOr<const internal_meta::ConsumerMetadata*> FindConsumer(
    const std::map<std::string, internal_meta::ConsumerMetadata, std::less<>>& consumers,
    const ConsumerRef& ref) {
  auto it = consumers.find(ref.consumer_name);
  if (it == consumers.end()) {
    return absl::NotFoundError(absl::StrCat("consumer ", ref.consumer_name,
                                            " is not registered with stream ", ref.stream_name));
  }
  if (ref.creation_seconds && *ref.creation_seconds != CreationSeconds(it->second)) {
    return absl::NotFoundError(absl::StrCat(
        "consumer ", ref.consumer_name, " of stream ", ref.stream_name, " registered at ",
        *ref.creation_seconds, " is not registered (the name was registered again at ",
        CreationSeconds(it->second), ")"));
  }
  return &it->second;
}

v1::StreamStatus ConsumerStatus(const internal_meta::ConsumerMetadata& c) {
  switch (c.status()) {
    case internal_meta::ConsumerMetadata::CREATING:
      return v1::CREATING;
    case internal_meta::ConsumerMetadata::DELETING:
      return v1::DELETING;
    default:
      return v1::ACTIVE;
  }
}

template <typename Out>
void FillConsumer(absl::string_view stream_name, const internal_meta::ConsumerMetadata& c,
                  Out* out) {
  out->set_consumer_name(c.name());
  out->set_consumer_arn(ConsumerArn(stream_name, c.name(), CreationSeconds(c)));
  out->set_consumer_status(ConsumerStatus(c));
  SetTimestamp(c.creation_ms(), out->mutable_consumer_creation_timestamp());
}

}  // namespace

std::string StreamArn(absl::string_view stream_name) {
  return absl::StrCat(kStreamArnPrefix, stream_name);
}

std::string ConsumerArn(absl::string_view stream_name, absl::string_view consumer_name,
                        int64_t creation_seconds) {
  return absl::StrCat(kStreamArnPrefix, stream_name, "/consumer/", consumer_name, ":",
                      creation_seconds);
}

absl::Status ShardStore::ChangeAttributes(
    absl::string_view stream_name, const std::function<absl::Status(StreamAttributes&)>& edit) {
  return RetryOnConflict(stream_name, [&] { return ChangeAttributesOnce(stream_name, edit); });
}

absl::Status ShardStore::ChangeAttributesOnce(
    absl::string_view stream_name, const std::function<absl::Status(StreamAttributes&)>& edit) {
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(stream_name));
  Batch batch = NewBatch();
  StreamAttributes staged;
  StreamChange change;
  {
    absl::MutexLock lock(&stream->mu);
    auto free = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream->mu) {
      return stream->deleted || (!stream->updating && !stream->changing_metadata);
    };
    stream->mu.Await(absl::Condition(&free));
    if (stream->deleted) {
      return absl::NotFoundError(absl::StrCat("stream ", stream->name, " not found"));
    }
    staged = stream->attributes;
    RETURN_IF_ERROR(edit(staged));
    change.name = stream->name;
    change.stream_id = stream->id;
    change.record = StreamMeta(*stream, stream->retention_hours, stream->next_shard_index, staged);
    stream->changing_metadata = true;
  }
  const absl::Status status = CommitMetadata(WriteKind::kStreamMetadata, *stream, change, &batch,
                                             "writing stream metadata (nothing was changed)");
  absl::MutexLock lock(&stream->mu);
  if (status.ok()) stream->attributes = std::move(staged);
  stream->changing_metadata = false;
  return status;
}

// --- Mode ------------------------------------------------------------------------

absl::Status ShardStore::UpdateStreamMode(const v1::UpdateStreamModeRequest& request) {
  RETURN_IF_ERROR(tributary::ValidateStreamName("stream_name", request.stream_name()));
  const v1::StreamMode mode = request.stream_mode_details().stream_mode();
  if (mode != v1::PROVISIONED && mode != v1::ON_DEMAND) {
    return absl::InvalidArgumentError(
        "stream_mode_details.stream_mode: must be PROVISIONED or ON_DEMAND");
  }
  return ChangeAttributes(request.stream_name(), [&](StreamAttributes& a) {
    a.mode = mode;
    return absl::OkStatus();
  });
}

// --- Tags ------------------------------------------------------------------------

absl::Status ShardStore::AddTagsToStream(const v1::AddTagsToStreamRequest& request) {
  RETURN_IF_ERROR(tributary::ValidateStreamName("stream_name", request.stream_name()));
  if (request.tags().empty() || request.tags().size() > kMaxTagsPerStream) {
    return absl::InvalidArgumentError(absl::StrCat("tags: must hold 1-", kMaxTagsPerStream,
                                                   " tags, got ", request.tags().size()));
  }
  for (const auto& [key, value] : request.tags()) {
    RETURN_IF_ERROR(ValidateTagKey("tags: key", key));
    RETURN_IF_ERROR(
        ValidateTagText(absl::StrCat("tags[", key, "]: value"), value, 0, kMaxTagValueChars));
  }
  return ChangeAttributes(request.stream_name(), [&](StreamAttributes& a) {
    for (const auto& [key, value] : request.tags()) a.tags[key] = value;
    if (a.tags.size() > static_cast<size_t>(kMaxTagsPerStream)) {
      return absl::InvalidArgumentError(
          absl::StrCat("tags: stream ", request.stream_name(), " would have ", a.tags.size(),
                       " tags; a stream has at most ", kMaxTagsPerStream, " (none were added)"));
    }
    return absl::OkStatus();
  });
}

absl::Status ShardStore::RemoveTagsFromStream(const v1::RemoveTagsFromStreamRequest& request) {
  RETURN_IF_ERROR(tributary::ValidateStreamName("stream_name", request.stream_name()));
  if (request.tag_keys().empty() || request.tag_keys_size() > kMaxTagsPerStream) {
    return absl::InvalidArgumentError(absl::StrCat("tag_keys: must hold 1-", kMaxTagsPerStream,
                                                   " keys, got ", request.tag_keys_size()));
  }
  for (int i = 0; i < request.tag_keys_size(); ++i) {
    // Only the length: a key the stream cannot have is simply not there.
    const int chars = CodePoints(request.tag_keys(i));
    if (chars < 1 || chars > kMaxTagKeyChars) {
      return absl::InvalidArgumentError(
          absl::StrCat("tag_keys[", i, "]: must be 1-", kMaxTagKeyChars, " characters"));
    }
  }
  return ChangeAttributes(request.stream_name(), [&](StreamAttributes& a) {
    for (const std::string& key : request.tag_keys()) a.tags.erase(key);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::ListTagsForStreamResponse> ShardStore::ListTagsForStream(
    const v1::ListTagsForStreamRequest& request) {
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(request.stream_name()));
  if (request.limit() < 0 || request.limit() > kMaxListTagsLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit: must be 1-", kMaxListTagsLimit, " (0 = ", kMaxListTagsLimit, ")"));
  }
  if (CodePoints(request.exclusive_start_tag_key()) > kMaxTagKeyChars) {
    return absl::InvalidArgumentError(
        absl::StrCat("exclusive_start_tag_key: must be at most ", kMaxTagKeyChars, " characters"));
  }
  const size_t limit = request.limit() == 0 ? kMaxListTagsLimit : request.limit();
  v1::ListTagsForStreamResponse response;
  absl::ReaderMutexLock lock(&stream->mu);
  if (stream->deleted)
    return absl::NotFoundError(absl::StrCat("stream ", stream->name, " not found"));
  const auto& tags = stream->attributes.tags;
  auto it = request.exclusive_start_tag_key().empty()
                ? tags.begin()
                : tags.upper_bound(request.exclusive_start_tag_key());
  for (; it != tags.end() && static_cast<size_t>(response.tags_size()) < limit; ++it) {
    v1::Tag* tag = response.add_tags();
    tag->set_key(it->first);
    tag->set_value(it->second);
  }
  response.set_has_more_tags(it != tags.end());
  return response;
}

// --- Registered consumers ---------------------------------------------------------

absl::StatusOr<v1::RegisterStreamConsumerResponse> ShardStore::RegisterStreamConsumer(
    const v1::RegisterStreamConsumerRequest& request) {
  RETURN_IF_ERROR(tributary::ValidateStreamName("stream_name", request.stream_name()));
  RETURN_IF_ERROR(ValidateConsumerName(request.consumer_name()));
  internal_meta::ConsumerMetadata consumer;
  consumer.set_name(request.consumer_name());
  consumer.set_creation_ms(ToMs(clock_.Now()));
  consumer.set_status(internal_meta::ConsumerMetadata::ACTIVE);
  RETURN_IF_ERROR(ChangeAttributes(request.stream_name(), [&](StreamAttributes& a) {
    if (a.consumers.count(request.consumer_name())) {
      return absl::AlreadyExistsError(absl::StrCat("consumer ", request.consumer_name(),
                                                   " is already registered with stream ",
                                                   request.stream_name()));
    }
    if (a.consumers.size() >= static_cast<size_t>(kMaxConsumersPerStream)) {
      return absl::ResourceExhaustedError(
          absl::StrCat("stream ", request.stream_name(), " already has ", a.consumers.size(),
                       " registered consumers, the store's limit of ", kMaxConsumersPerStream,
                       " per stream (deregister one first)"));
    }
    a.consumers[request.consumer_name()] = consumer;
    return absl::OkStatus();
  }));
  v1::RegisterStreamConsumerResponse response;
  FillConsumer(request.stream_name(), consumer, response.mutable_consumer());
  return response;
}

absl::Status ShardStore::DeregisterStreamConsumer(
    const v1::DeregisterStreamConsumerRequest& request) {
  ASSIGN_OR_RETURN(const ConsumerRef ref, ResolveConsumer(request));
  return ChangeAttributes(ref.stream_name, [&](StreamAttributes& a) {
    ASSIGN_OR_RETURN(const internal_meta::ConsumerMetadata* found, FindConsumer(a.consumers, ref));
    a.consumers.erase(found->name());
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::DescribeStreamConsumerResponse> ShardStore::DescribeStreamConsumer(
    const v1::DescribeStreamConsumerRequest& request) {
  ASSIGN_OR_RETURN(const ConsumerRef ref, ResolveConsumer(request));
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(ref.stream_name));
  v1::DescribeStreamConsumerResponse response;
  v1::ConsumerDescription* d = response.mutable_consumer_description();
  absl::ReaderMutexLock lock(&stream->mu);
  if (stream->deleted)
    return absl::NotFoundError(absl::StrCat("stream ", stream->name, " not found"));
  ASSIGN_OR_RETURN(const internal_meta::ConsumerMetadata* found,
                   FindConsumer(stream->attributes.consumers, ref));
  FillConsumer(stream->name, *found, d);
  d->set_stream_arn(StreamArn(stream->name));
  return response;
}

absl::StatusOr<v1::ListStreamConsumersResponse> ShardStore::ListStreamConsumers(
    const v1::ListStreamConsumersRequest& request) {
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(request.stream_name()));
  if (request.max_results() < 0 || request.max_results() > kMaxListConsumersResults) {
    return absl::InvalidArgumentError(absl::StrCat("max_results: must be 1-",
                                                   kMaxListConsumersResults,
                                                   " (0 = ", kDefaultListConsumersResults, ")"));
  }
  const int64_t now = ToMs(clock_.Now());
  std::string after;
  if (!request.next_token().empty()) {
    ASSIGN_OR_RETURN(ListConsumersToken token,
                     DecodeListConsumersToken(secret_, request.next_token(), now));
    if (token.stream_id != stream->id) {
      return absl::InvalidArgumentError(
          absl::StrCat("next_token: continues a listing of another stream than ", stream->name,
                       " (or of an earlier stream of that name)"));
    }
    after = std::move(token.after_name);
  }
  const int page = request.max_results() == 0
                       ? kDefaultListConsumersResults
                       : std::min(request.max_results(), kDefaultListConsumersResults);
  v1::ListStreamConsumersResponse response;
  absl::ReaderMutexLock lock(&stream->mu);
  if (stream->deleted)
    return absl::NotFoundError(absl::StrCat("stream ", stream->name, " not found"));
  const auto& consumers = stream->attributes.consumers;
  auto it = after.empty() ? consumers.begin() : consumers.upper_bound(after);
  for (; it != consumers.end() && response.consumers_size() < page; ++it) {
    FillConsumer(stream->name, it->second, response.add_consumers());
  }
  if (it != consumers.end()) {
    response.set_next_token(EncodeListConsumersToken(
        secret_, {stream->id, response.consumers().rbegin()->consumer_name()}, now));
  }
  return response;
}

}  // namespace tributary::shard_store
