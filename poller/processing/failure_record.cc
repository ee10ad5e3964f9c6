#include "poller/processing/failure_record.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

std::string FailureRecordJson(const FailureInfo& info, const std::vector<v1::Record>& records) {
  return FailureRecordJson(info, records.front(), records.back(),
                           static_cast<int64_t>(records.size()));
}

std::string FailureRecordJson(const FailureInfo& info, const v1::Record& first,
                              const v1::Record& last, int64_t batch_size) {
  std::string window;
  if (info.window.has_value()) {
    window = absl::StrCat(
        ",\"tumblingWindow\":{\"start\":", JsonQuote(FormatIso8601Millis(info.window->first)),
        ",\"end\":", JsonQuote(FormatIso8601Millis(info.window->second)), "}");
  }
  return absl::StrCat(
      "{\"requestContext\":{\"requestId\":", JsonQuote(info.request_id),
      ",\"functionEndpoint\":", JsonQuote(info.function_endpoint),
      ",\"condition\":", JsonQuote(info.condition),
      ",\"approximateInvokeCount\":", info.approximate_invoke_count,
      "},\"responseContext\":{\"statusCode\":", info.status_code,
      ",\"functionError\":", JsonQuote(info.function_error),
      "},\"version\":\"1.0\",\"timestamp\":", JsonQuote(FormatIso8601Millis(info.timestamp)),
      ",\"KinesisBatchInfo\":{\"shardId\":", JsonQuote(info.shard_id),
      ",\"startSequenceNumber\":", JsonQuote(first.sequence_number()),
      ",\"endSequenceNumber\":", JsonQuote(last.sequence_number()),
      ",\"approximateArrivalOfFirstRecord\":", JsonQuote(FormatIso8601Millis(ArrivalTime(first))),
      ",\"approximateArrivalOfLastRecord\":", JsonQuote(FormatIso8601Millis(ArrivalTime(last))),
      ",\"batchSize\":", batch_size, ",\"streamName\":", JsonQuote(info.stream_name), window, "}}");
}

}  // namespace tributary::poller
