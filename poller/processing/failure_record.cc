#include "poller/processing/failure_record.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "poller/interfaces.h"
#include "poller/processing/records.h"

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

std::string FailureRecordJson(const FailureInfo& info, const std::vector<v1::Record>& records) {
  return FailureRecordJson(info, records.front(), records.back(),
                           static_cast<int64_t>(records.size()));
}

std::string FailureRecordJson(const FailureInfo& info, const v1::Record& first,
                              const v1::Record& last, int64_t batch_size) {
  std::string out = absl::StrCat("{\"requestContext\":{\"requestId\":", JsonQuote(info.request_id));
  if (!info.function_arn.empty()) {
    absl::StrAppend(&out, ",\"functionArn\":", JsonQuote(info.function_arn));
  }
  absl::StrAppend(&out, ",\"condition\":", JsonQuote(info.condition),
                  ",\"approximateInvokeCount\":", info.approximate_invoke_count,
                  ",\"functionEndpoint\":", JsonQuote(info.function_endpoint), "}");
  if (info.response.has_value()) {
    absl::StrAppend(&out, ",\"responseContext\":{\"statusCode\":", info.response->status_code,
                    ",\"executedVersion\":\"$LATEST\"");
    if (!info.response->function_error.empty()) {
      absl::StrAppend(&out, ",\"functionError\":", JsonQuote(info.response->function_error));
    }
    absl::StrAppend(&out, "}");
  }
  absl::StrAppend(
      &out, ",\"version\":\"1.0\",\"timestamp\":", JsonQuote(FormatIso8601Millis(info.timestamp)),
      ",\"KinesisBatchInfo\":{\"shardId\":", JsonQuote(info.shard_id),
      ",\"startSequenceNumber\":", JsonQuote(first.sequence_number()),
      ",\"endSequenceNumber\":", JsonQuote(last.sequence_number()),
      ",\"approximateArrivalOfFirstRecord\":", JsonQuote(FormatIso8601Millis(ArrivalTime(first))),
      ",\"approximateArrivalOfLastRecord\":", JsonQuote(FormatIso8601Millis(ArrivalTime(last))),
      ",\"batchSize\":", batch_size);
  if (!info.stream_arn.empty()) {
    absl::StrAppend(&out, ",\"streamArn\":", JsonQuote(info.stream_arn));
  }
  absl::StrAppend(&out, ",\"streamName\":", JsonQuote(info.stream_name));
  if (info.window.has_value()) {
    absl::StrAppend(
        &out, ",\"tumblingWindow\":{\"start\":", JsonQuote(FormatIso8601Millis(info.window->first)),
        ",\"end\":", JsonQuote(FormatIso8601Millis(info.window->second)), "}");
  }
  absl::StrAppend(&out, "}}");
  return out;
}

}  // namespace tributary::poller
