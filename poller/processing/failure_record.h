// The on-failure destination record: what the poller writes to the mapping's on-failure stream
// when it skips records (retries exhausted, records too old). Shaped like AWS Lambda's Kinesis
// on-failure invocation record:
//
// {"requestContext":{"requestId":"…","functionEndpoint":"host:port",
//   "condition":"RetryAttemptsExhausted","approximateInvokeCount":3},
//  "responseContext":{"statusCode":0,"functionError":"…"},
//  "version":"1.0","timestamp":"2026-11-27T05:35:00.123Z",
//  "KinesisBatchInfo":{"shardId":"shardId-000000000000","startSequenceNumber":"1",
//   "endSequenceNumber":"9","approximateArrivalOfFirstRecord":"…",
//   "approximateArrivalOfLastRecord":"…","batchSize":9,"streamName":"s"}}
//
// Tributary's responseContext: `statusCode` is the numeric gRPC status code of the last invoke
// (0 when the call returned a reply, as a function error or partial failure does; -1 when no
// invoke happened, as for records too old to invoke); `functionError` is the reply's
// function_error, "BatchItemFailures" for a partial failure, or "<CODE>: <message>" for a failed
// call, empty when there was none. The record's partition key is the shard id.
#ifndef TRIBUTARY_POLLER_PROCESSING_FAILURE_RECORD_H_
#define TRIBUTARY_POLLER_PROCESSING_FAILURE_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "proto/streams.pb.h"

namespace tributary::poller {

inline constexpr char kRetryAttemptsExhausted[] = "RetryAttemptsExhausted";
inline constexpr char kRecordAgeExceeded[] = "RecordAgeExceeded";

struct FailureInfo {
  std::string request_id;
  std::string function_endpoint;
  std::string condition;  // kRetryAttemptsExhausted, kRecordAgeExceeded
  int64_t approximate_invoke_count = 0;
  int status_code = -1;
  std::string function_error;
  absl::Time timestamp;
  std::string shard_id;
  std::string stream_name;
  // Set for a tumbling window whose final invocation was given up: the window [start, end),
  // written as "tumblingWindow":{"start":"…","end":"…"} inside KinesisBatchInfo.
  std::optional<std::pair<absl::Time, absl::Time>> window;
};

// The JSON text of the record for the skipped `records` (non-empty, in shard order).
std::string FailureRecordJson(const FailureInfo& info, const std::vector<v1::Record>& records);
// The same for records from `first` to `last` that are not at hand: `batch_size` of them.
std::string FailureRecordJson(const FailureInfo& info, const v1::Record& first,
                              const v1::Record& last, int64_t batch_size);

// `text` as a JSON string literal, quotes included: ", \ and control characters escaped; bytes
// >= 0x80 are copied (UTF-8 passes through).
std::string JsonQuote(const std::string& text);

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_PROCESSING_FAILURE_RECORD_H_
