// The event is written by hand (appends of fixed fragments, the escaped partition key and the
// base64 data): it is on the delivery path of every record, and RapidJSON's writer would scan
// the base64 text for escapes again. The state and the reply go through RapidJSON.
#include "poller/invoke/lambda_event.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace tributary::poller {
namespace {

// Length of the valid UTF-8 sequence at s[i] (1-4), or 0 when it is not one.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t n = 0;
  uint32_t min = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2, min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

// Quotes, backslashes and control characters escaped, UTF-8 copied, each byte that is not valid
// UTF-8 written as U+FFFD (so the event is always valid JSON for the function's parser).
void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(text, i);
      if (n == 0) {
        out->append("\\ufffd");
        ++i;
      } else {
        out->append(text.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

namespace {

// Seconds since the epoch with three decimals: 1545084650.987.
void AppendArrivalSeconds(const google::protobuf::Timestamp& t, std::string* out) {
  int64_t millis = t.seconds() * 1000 + t.nanos() / 1000000;
  if (millis < 0) millis = 0;
  absl::StrAppendFormat(out, "%d.%03d", millis / 1000, millis % 1000);
}

std::string WindowTime(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

bool IsJsonText(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  return !doc.HasParseError();
}

void AppendState(const v1::TumblingWindowState& state, std::string* out) {
  std::vector<const std::string*> keys;
  for (const auto& [key, value] : state.values()) keys.push_back(&key);
  std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) {
    return *a < *b;
  });
  out->push_back('{');
  bool first = true;
  for (const std::string* key : keys) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(*key, out);
    out->push_back(':');
    const std::string& value = state.values().at(*key);
    if (IsJsonText(value)) {
      out->append(value);
    } else {
      AppendJsonString(value, out);
    }
  }
  out->push_back('}');
}

std::string CompactJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

v1::InvokeResponse Malformed(const char* why) {
  v1::InvokeResponse response;
  response.add_batch_item_failures()->set_item_identifier(absl::StrCat("<", why, ">"));
  return response;
}

}  // namespace

std::string InvokeIdentityArn(const LambdaAccount& account) {
  return absl::StrCat("arn:aws:iam::", account.account_id, ":role/tributary");
}

std::string EncodeLambdaKinesisEvent(const LambdaAccount& account,
                                     const v1::InvokeRequest& request) {
  std::string source_arn;
  AppendJsonString(KinesisStreamArn(account, request.stream_name()), &source_arn);
  std::string tail = ",\"eventName\":\"aws:kinesis:record\",\"invokeIdentityArn\":";
  AppendJsonString(InvokeIdentityArn(account), &tail);
  tail.append(",\"awsRegion\":");
  AppendJsonString(account.region, &tail);
  absl::StrAppend(&tail, ",\"eventSourceARN\":", source_arn, "}");
  std::string event_id_prefix;
  AppendJsonString(absl::StrCat(request.shard_id(), ":"), &event_id_prefix);
  event_id_prefix.pop_back();  // the closing quote: the sequence number follows

  std::string out;
  size_t estimate = 64;
  for (const v1::Record& r : request.records()) {
    estimate += 320 + tail.size() + r.partition_key().size() + r.data().size() * 4 / 3 +
                2 * r.sequence_number().size();
  }
  out.reserve(estimate);
  out.append("{\"Records\":[");
  std::string base64;
  bool first = true;
  for (const v1::Record& r : request.records()) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":");
    AppendJsonString(r.partition_key(), &out);
    out.append(",\"sequenceNumber\":");
    AppendJsonString(r.sequence_number(), &out);
    absl::Base64Escape(r.data(), &base64);
    out.append(",\"data\":\"");
    out.append(base64);
    out.append("\",\"approximateArrivalTimestamp\":");
    AppendArrivalSeconds(r.approximate_arrival_timestamp(), &out);
    out.append("},\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":");
    out.append(event_id_prefix);
    // The sequence number again, inside the eventID string (without its own quotes).
    const size_t at = out.size();
    AppendJsonString(r.sequence_number(), &out);
    out.erase(at, 1);
    out.append(tail);
  }
  out.push_back(']');
  AppendWindowMembers(request, request.shard_id(), source_arn, &out);
  out.push_back('}');
  return out;
}

void AppendWindowMembers(const v1::InvokeRequest& request, absl::string_view shard_id,
                         absl::string_view source_arn_json, std::string* out) {
  if (!request.has_window()) return;
  absl::StrAppend(out, ",\"window\":{\"start\":\"", WindowTime(request.window().start()),
                  "\",\"end\":\"", WindowTime(request.window().end()), "\"},\"state\":");
  AppendState(request.state(), out);
  out->append(",\"shardId\":");
  AppendJsonString(shard_id, out);
  absl::StrAppend(out, ",\"eventSourceARN\":", source_arn_json, ",\"isFinalInvokeForWindow\":",
                  request.is_final_invoke_for_window() ? "true" : "false",
                  ",\"isWindowTerminatedEarly\":",
                  request.is_window_terminated_early() ? "true" : "false");
}

v1::InvokeResponse DecodeLambdaResponse(absl::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == absl::string_view::npos) return {};
  rapidjson::Document doc;
  // Full precision: a state's numbers go back to the function as the reply wrote them (the
  // default parse may land a decimal one unit off, and the state would drift per invocation).
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(body.data(), body.size());
  if (doc.HasParseError()) return Malformed("the reply is not JSON");
  if (doc.IsNull()) return {};
  if (!doc.IsObject()) return Malformed("the reply is not a JSON object");
  v1::InvokeResponse response;
  auto failures = doc.FindMember("batchItemFailures");
  if (failures != doc.MemberEnd() && !failures->value.IsNull()) {
    if (!failures->value.IsArray()) return Malformed("batchItemFailures is not an array");
    for (const rapidjson::Value& entry : failures->value.GetArray()) {
      if (!entry.IsObject()) return Malformed("a batchItemFailures entry is not an object");
      auto id = entry.FindMember("itemIdentifier");
      if (id == entry.MemberEnd() || !id->value.IsString()) {
        return Malformed("itemIdentifier is not a string");
      }
      response.add_batch_item_failures()->set_item_identifier(
          std::string(id->value.GetString(), id->value.GetStringLength()));
    }
  }
  auto state = doc.FindMember("state");
  if (state != doc.MemberEnd() && state->value.IsObject()) {
    auto& values = *response.mutable_state()->mutable_values();
    for (const auto& member : state->value.GetObject()) {
      values[std::string(member.name.GetString(), member.name.GetStringLength())] =
          CompactJson(member.value);
    }
  }
  return response;
}

}  // namespace tributary::poller
