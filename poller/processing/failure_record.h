// The on-failure destination record: what the poller writes to the mapping's on-failure stream
// when it skips records (retries exhausted, records too old). AWS Lambda's Kinesis on-failure
// invocation record (Lambda Developer Guide, "Retain discarded batch records for a Kinesis
// Data Streams event source"), with Lambda's keys in Lambda's order and two of Tributary's after
// them (functionEndpoint, streamName: what names the function and the stream without an ARN):
//
// {"requestContext":{"requestId":"…",
//   "functionArn":"arn:aws:lambda:us-east-1:000000000000:function:f",
//   "condition":"RetryAttemptsExhausted","approximateInvokeCount":3,
//   "functionEndpoint":"http://127.0.0.1:9000/2015-03-31/functions/function/invocations"},
//  "responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},
//  "version":"1.0","timestamp":"2026-11-27T05:35:00.123Z",
//  "KinesisBatchInfo":{"shardId":"shardId-000000000000","startSequenceNumber":"1",
//   "endSequenceNumber":"9","approximateArrivalOfFirstRecord":"…",
//   "approximateArrivalOfLastRecord":"…","batchSize":9,
//   "streamArn":"arn:aws:kinesis:us-east-1:000000000000:stream/s","streamName":"s"}}
//
// functionArn is written when the mapping follows a registered function, streamArn when the
// configuration carries the stream's ARN (the tracker serves both); responseContext only when
// the records were invoked at least once (not for records too old to invoke at all), and its
// functionError only when the last invoke was a function error. What the last invoke's outcome
// becomes there (InvokeResponseContext), the same for gRPC and HTTP functions:
//   a reply with function_error     200, "Handled" when the error says so ("Handled" or
//                                   "Handled: …", an HTTP function's X-Amz-Function-Error),
//                                   else "Unhandled" (Lambda's record gives the kind only; the
//                                   error's text is in the metrics and the mapping's LastError)
//   the function timed out          200, "Unhandled" (as Lambda reports a timed-out function)
//   an HTTP status other than 2xx   that status (kHttpStatusPayload), no functionError
//   not reached (UNAVAILABLE)       502, no functionError (refused, reset: a bad gateway)
//   throttled (RESOURCE_EXHAUSTED)  429, no functionError
//   a gRPC function's error status  200, "Unhandled" (its handler failed)
//   batch item failures, or a reply 200, no functionError (the function returned; the reply
//   that breaks a rule (no window   named records or broke a rule)
//   state, a bad identifier)
// The record's partition key is the shard id.
//
// For a table's change stream (a "_tables.*" store stream, tables/stream_ids.h) it is Lambda's
// DynamoDB record instead: "DDBStreamBatchInfo" in place of "KinesisBatchInfo", with shardId,
// start/endSequenceNumber in the forms the DynamoDB Streams API and the function's event show
// (shardId-00000000000000000003-0000002a, 100000000000000000042), approximateArrivalOf
// First/LastRecord, batchSize and streamArn (the table stream's ARN, written only when
// `stream_arn` is one: arn:aws:dynamodb:…/stream/LABEL); no streamName (the store's internal
// name means nothing to a DynamoDB reader).
//
// With destination_config.on_failure.include_records the record also carries the failed records
// (FailureRecordParts), after the batch info and in shard order:
//   ...,"KinesisBatchInfo":{...},
//   "records":[{"partitionKey":"k","data":"<base64>","sequenceNumber":"7",
//               "approximateArrivalTimestamp":1700000000.123}, ...],
//   "part":{"index":0,"count":2}}
// "sequenceNumber" is the store's (the source stream's, as tribctl and the Kinesis API show
// it), "approximateArrivalTimestamp" epoch seconds with milliseconds, as in Lambda's Kinesis
// event. A record holds as many as fit in `max_bytes` (the destination's limit for one record,
// kMaxFailureRecordBytes: the store's 1 MiB for partition key + data, smaller than Lambda's
// 6 MiB invoke payload the issue names, so that every part can be put); the rest go to further
// parts, each a whole failure record with the same requestId and batch info (the whole failed
// batch), "part" telling its place. "part" is written whenever records are included (count 1
// when one record holds them all), so a reader needs no second rule. A failed record too large
// to fit in a part even alone (its base64 data is 4/3 of its size) is written without "data"
// and with "dataOmitted":true (its sequence number still points at it in the source stream).
//
// The on-success destination record (destination_config.on_success, issue 23; not Lambda's for
// stream sources): one per invocation the function accepted, for the records it covered (the
// whole batch, or the records before a partial response's lowest failure), put before they count
// as done. The same JSON with condition "Success", the mapping's UUID, statusCode 200 and the
// invoke's duration (milliseconds, three decimals), as Lambda's on-success record for an
// asynchronous invocation has requestContext and responseContext, and the batch info above
// (KinesisBatchInfo, or DDBStreamBatchInfo for a table's change stream):
//
// {"requestContext":{"requestId":"…","condition":"Success","approximateInvokeCount":1,
//   "functionEndpoint":"127.0.0.1:7000","eventSourceMappingUuid":"…"},
//  "responseContext":{"statusCode":200,"executedVersion":"$LATEST","invokeDurationMs":12.500},
//  "version":"1.0","timestamp":"…","KinesisBatchInfo":{"shardId":"…","startSequenceNumber":"1",
//   "endSequenceNumber":"9",…,"batchSize":9,"streamName":"s"}}
//
// approximateInvokeCount counts the invokes of the records' segment (1 unless it was retried).
#ifndef TRIBUTARY_POLLER_PROCESSING_FAILURE_RECORD_H_
#define TRIBUTARY_POLLER_PROCESSING_FAILURE_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/streams.pb.h"

namespace tributary::poller {

inline constexpr char kRetryAttemptsExhausted[] = "RetryAttemptsExhausted";
inline constexpr char kRecordAgeExceeded[] = "RecordAgeExceeded";
// The condition of an on-success record (see "The on-success destination record" below).
inline constexpr char kSuccess[] = "Success";

// Lambda's responseContext: what the Invoke API answered for the last invoke.
struct InvokeResponseContext {
  int status_code = 200;       // the HTTP status of the call, as Lambda's Invoke API has it
  std::string function_error;  // "Unhandled", "Handled", or "" (no function error: omitted)
};

// The responseContext of an invoke whose call failed with `status` (FunctionInvoker's), and of
// one whose reply carried `function_error` (non-empty); see the table above.
InvokeResponseContext ResponseContextOfFailedCall(const absl::Status& status);
InvokeResponseContext ResponseContextOfFunctionError(absl::string_view function_error);

struct FailureInfo {
  std::string request_id;
  std::string function_arn;  // empty: not written (the mapping follows no registered function)
  std::string function_endpoint;
  std::string condition;  // kRetryAttemptsExhausted, kRecordAgeExceeded
  int64_t approximate_invoke_count = 0;
  // The last invoke's; none when nothing was invoked (responseContext is then not written).
  std::optional<InvokeResponseContext> response;
  absl::Time timestamp;
  std::string shard_id;
  std::string stream_arn;  // empty: not written
  std::string stream_name;
  // Set for a tumbling window whose final invocation was given up: the window [start, end),
  // written as "tumblingWindow":{"start":"…","end":"…"} inside KinesisBatchInfo.
  std::optional<std::pair<absl::Time, absl::Time>> window;
  // Written only when set (the on-success record sets them; failure records leave them):
  // requestContext.eventSourceMappingUuid and responseContext.invokeDurationMs.
  std::string mapping_uuid;
  std::optional<absl::Duration> invoke_duration;
};

// The JSON text of the record for the skipped `records` (non-empty, in shard order).
// With info.condition kSuccess it is the on-success record (below), made the same way.
std::string FailureRecordJson(const FailureInfo& info, const std::vector<v1::Record>& records);
// The same for records from `first` to `last` that are not at hand: `batch_size` of them.
std::string FailureRecordJson(const FailureInfo& info, const v1::Record& first,
                              const v1::Record& last, int64_t batch_size);

// The destination's limit for one failure record: the store's limit for partition key + data.
inline constexpr int64_t kMaxFailureRecordBytes = 1 << 20;

// The failure records for the skipped `records` (non-empty, in shard order): one, as
// FailureRecordJson, when `include_records` is false; else the parts described above, each at
// most `max_bytes` long when it holds at least one record's data (a part of one record whose
// data is omitted may exceed only when the batch info alone does, which a shard id and names
// of Tributary's limits cannot make happen at 1 MiB).
std::vector<std::string> FailureRecordParts(const FailureInfo& info,
                                            const std::vector<v1::Record>& records,
                                            bool include_records,
                                            int64_t max_bytes = kMaxFailureRecordBytes);

// `text` as a JSON string literal, quotes included: ", \ and control characters escaped; bytes
// >= 0x80 are copied (UTF-8 passes through).
std::string JsonQuote(const std::string& text);

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_PROCESSING_FAILURE_RECORD_H_
