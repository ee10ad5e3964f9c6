#include "poller/processing/failure_record.h"

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "poller/interfaces.h"
#include "poller/processing/records.h"
#include "tables/stream_ids.h"

namespace tributary::poller {

std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

InvokeResponseContext ResponseContextOfFailedCall(const absl::Status& status) {
  if (const auto http = status.GetPayload(kHttpStatusPayload); http.has_value()) {
    int code = 0;
    if (absl::SimpleAtoi(std::string(*http), &code)) return {code, ""};
  }
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
      return {502, ""};
    case absl::StatusCode::kResourceExhausted:
      return {429, ""};
    default:  // the function timed out (DEADLINE_EXCEEDED), or a gRPC function's handler failed
      return {200, "Unhandled"};
  }
}

InvokeResponseContext ResponseContextOfFunctionError(absl::string_view function_error) {
  const bool handled = function_error == "Handled" || absl::StartsWith(function_error, "Handled:");
  return {200, handled ? "Handled" : "Unhandled"};
}

namespace {

// Everything of the record but the closing brace: what every part shares.
std::string FailureRecordBody(const FailureInfo& info, const v1::Record& first,
                              const v1::Record& last, int64_t batch_size);

// One entry of "records"; `with_data` false writes "dataOmitted":true instead of "data".
std::string RecordEntryJson(const v1::Record& r, bool with_data) {
  const absl::Time arrival = ArrivalTime(r);
  const int64_t millis = absl::ToUnixMillis(arrival);
  std::string out = absl::StrCat("{\"partitionKey\":", JsonQuote(r.partition_key()));
  if (with_data) {
    absl::StrAppend(&out, ",\"data\":\"", absl::Base64Escape(r.data()), "\"");
  } else {
    absl::StrAppend(&out, ",\"dataOmitted\":true");
  }
  absl::StrAppend(&out, ",\"sequenceNumber\":", JsonQuote(r.sequence_number()),
                  ",\"approximateArrivalTimestamp\":",
                  absl::StrFormat("%d.%03d", millis / 1000, millis % 1000), "}");
  return out;
}

// ,"part":{"index":I,"count":N}} with the widest numbers a batch can have: the room reserved.
constexpr int64_t kPartTrailerBytes = 64;

}  // namespace

std::string FailureRecordJson(const FailureInfo& info, const std::vector<v1::Record>& records) {
  return FailureRecordJson(info, records.front(), records.back(),
                           static_cast<int64_t>(records.size()));
}

std::vector<std::string> FailureRecordParts(const FailureInfo& info,
                                            const std::vector<v1::Record>& records,
                                            bool include_records, int64_t max_bytes) {
  if (!include_records) return {FailureRecordJson(info, records)};
  const std::string body = FailureRecordBody(info, records.front(), records.back(),
                                             static_cast<int64_t>(records.size()));
  // ,"records":[ ... ] around the entries.
  const int64_t fixed = static_cast<int64_t>(body.size()) + 13 + kPartTrailerBytes;
  std::vector<std::string> entries;  // of the part being filled
  std::vector<std::vector<std::string>> parts;
  int64_t used = fixed;
  for (const v1::Record& r : records) {
    std::string entry = RecordEntryJson(r, /*with_data=*/true);
    if (fixed + static_cast<int64_t>(entry.size()) > max_bytes) {
      entry = RecordEntryJson(r, /*with_data=*/false);
    }
    const int64_t size = static_cast<int64_t>(entry.size()) + (entries.empty() ? 0 : 1);
    if (!entries.empty() && used + size > max_bytes) {
      parts.push_back(std::move(entries));
      entries.clear();
      used = fixed;
    }
    used += static_cast<int64_t>(entry.size()) + (entries.empty() ? 0 : 1);
    entries.push_back(std::move(entry));
  }
  parts.push_back(std::move(entries));

  std::vector<std::string> out;
  out.reserve(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string json = body;
    absl::StrAppend(&json, ",\"records\":[", absl::StrJoin(parts[i], ","), "],\"part\":{\"index\":", i,
                    ",\"count\":", parts.size(), "}}");
    out.push_back(std::move(json));
  }
  return out;
}

std::string FailureRecordJson(const FailureInfo& info, const v1::Record& first,
                              const v1::Record& last, int64_t batch_size) {
  return absl::StrCat(FailureRecordBody(info, first, last, batch_size), "}");
}

namespace {

std::string FailureRecordBody(const FailureInfo& info, const v1::Record& first,
                              const v1::Record& last, int64_t batch_size) {
  std::string out = absl::StrCat("{\"requestContext\":{\"requestId\":", JsonQuote(info.request_id));
  if (!info.function_arn.empty()) {
    absl::StrAppend(&out, ",\"functionArn\":", JsonQuote(info.function_arn));
  }
  absl::StrAppend(&out, ",\"condition\":", JsonQuote(info.condition),
                  ",\"approximateInvokeCount\":", info.approximate_invoke_count,
                  ",\"functionEndpoint\":", JsonQuote(info.function_endpoint));
  if (!info.mapping_uuid.empty()) {
    absl::StrAppend(&out, ",\"eventSourceMappingUuid\":", JsonQuote(info.mapping_uuid));
  }
  absl::StrAppend(&out, "}");
  if (info.response.has_value()) {
    absl::StrAppend(&out, ",\"responseContext\":{\"statusCode\":", info.response->status_code,
                    ",\"executedVersion\":\"$LATEST\"");
    if (!info.response->function_error.empty()) {
      absl::StrAppend(&out, ",\"functionError\":", JsonQuote(info.response->function_error));
    }
    if (info.invoke_duration.has_value()) {
      absl::StrAppend(&out, ",\"invokeDurationMs\":",
                      absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(*info.invoke_duration)));
    }
    absl::StrAppend(&out, "}");
  }
  absl::StrAppend(&out, ",\"version\":\"1.0\",\"timestamp\":",
                  JsonQuote(FormatIso8601Millis(info.timestamp)));
  const std::optional<uint64_t> table_id = tables::TableIdOfStreamName(info.stream_name);
  if (table_id.has_value()) {
    // A table's change stream: DynamoDB's record, with the ids the DynamoDB Streams API and the
    // function's event show (tables/stream_ids.h).
    const uint32_t shard_index = tables::IndexOfStoreShardId(info.shard_id).value_or(0);
    absl::StrAppend(
        &out, ",\"DDBStreamBatchInfo\":{\"shardId\":",
        JsonQuote(tables::EdgeShardId(shard_index, *table_id)),
        ",\"startSequenceNumber\":", JsonQuote(tables::EdgeSequenceNumber(first.sequence_number())),
        ",\"endSequenceNumber\":", JsonQuote(tables::EdgeSequenceNumber(last.sequence_number())),
        ",\"approximateArrivalOfFirstRecord\":", JsonQuote(FormatIso8601Millis(ArrivalTime(first))),
        ",\"approximateArrivalOfLastRecord\":", JsonQuote(FormatIso8601Millis(ArrivalTime(last))),
        ",\"batchSize\":", batch_size);
    if (absl::StartsWith(info.stream_arn, "arn:aws:dynamodb:")) {
      absl::StrAppend(&out, ",\"streamArn\":", JsonQuote(info.stream_arn));
    }
  } else {
    absl::StrAppend(
        &out, ",\"KinesisBatchInfo\":{\"shardId\":", JsonQuote(info.shard_id),
        ",\"startSequenceNumber\":", JsonQuote(first.sequence_number()),
        ",\"endSequenceNumber\":", JsonQuote(last.sequence_number()),
        ",\"approximateArrivalOfFirstRecord\":", JsonQuote(FormatIso8601Millis(ArrivalTime(first))),
        ",\"approximateArrivalOfLastRecord\":", JsonQuote(FormatIso8601Millis(ArrivalTime(last))),
        ",\"batchSize\":", batch_size);
    if (!info.stream_arn.empty()) {
      absl::StrAppend(&out, ",\"streamArn\":", JsonQuote(info.stream_arn));
    }
    absl::StrAppend(&out, ",\"streamName\":", JsonQuote(info.stream_name));
  }
  if (info.window.has_value()) {
    absl::StrAppend(
        &out, ",\"tumblingWindow\":{\"start\":", JsonQuote(FormatIso8601Millis(info.window->first)),
        ",\"end\":", JsonQuote(FormatIso8601Millis(info.window->second)), "}");
  }
  absl::StrAppend(&out, "}");
  return out;
}

}  // namespace

}  // namespace tributary::poller
