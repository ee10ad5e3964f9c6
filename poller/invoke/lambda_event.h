// Lambda's Kinesis event and its reply, as JSON text: what an http(s) function endpoint receives
// and answers (issue 17). The encoder turns the poller's InvokeRequest into the event AWS Lambda
// sends a function for a Kinesis batch; the decoder turns the function's reply body into an
// InvokeResponse that BatchProcessor judges exactly as a gRPC function's.
//
// The event (AWS Lambda Developer Guide, "Using Lambda with Kinesis"; keys in that order):
//   {"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"1",
//                           "sequenceNumber":"4959...","data":"SGVsbG8=",
//                           "approximateArrivalTimestamp":1545084650.987},
//                "eventSource":"aws:kinesis","eventVersion":"1.0",
//                "eventID":"shardId-000000000006:4959...","eventName":"aws:kinesis:record",
//                "invokeIdentityArn":"arn:aws:iam::ACCOUNT:role/tributary",
//                "awsRegion":"REGION",
//                "eventSourceARN":"arn:aws:kinesis:REGION:ACCOUNT:stream/NAME"}, ...]}
//   data is base64 (standard alphabet, padded); approximateArrivalTimestamp is a number of
//   seconds with three decimals (milliseconds; always a fraction, so every JSON reader sees a
//   float). A plain event carries only "Records".
// With a tumbling window (the request has a window) it is Lambda's KinesisTimeWindowEvent:
//   {"Records":[...],"window":{"start":"2020-12-09T07:04:00Z","end":"2020-12-09T07:06:00Z"},
//    "state":{...},"shardId":"shardId-000000000006","eventSourceARN":"...",
//    "isFinalInvokeForWindow":false,"isWindowTerminatedEarly":false}
//   ("Records":[] in the final invocation). `state` is a JSON object whose values keep their
//   JSON types from one invocation to the next: the poller keeps each value as its JSON text in
//   TumblingWindowState (so {"1": 282} comes back as 282, a number). A value that is not JSON
//   text (a gRPC function's state, should the endpoint change mid-window) is sent as a string.
//
// The reply body (Lambda's StreamsEventResponse / TimeWindowEventResponse):
//   {"batchItemFailures":[{"itemIdentifier":"<sequence number>"}, ...], "state":{...}}
//   - an empty body, JSON null, or an object without (or with a null) batchItemFailures: no
//     failures — a complete success unless windows need a state;
//   - "state" an object: the window's new state (each value kept as its compact JSON text);
//     anything else, or no "state": no state (with windows, BatchProcessor's function error);
//   - anything Lambda would take as a complete failure under ReportBatchItemFailures — a reply
//     that is not JSON or not an object, a batchItemFailures that is not an array, an entry that
//     is not an object or whose itemIdentifier is missing, null or not a string — is decoded as
//     one failure whose identifier explains it ("<itemIdentifier is not a string>"): it is never
//     a sequence number, so BatchProcessor makes the attempt a function error when the mapping
//     reports batch item failures, and ignores it otherwise (as Lambda ignores the reply).
//     An empty string identifier stays "" (invalid for BatchProcessor too).
//
// Pure functions; thread-safe.
#ifndef TRIBUTARY_POLLER_INVOKE_LAMBDA_EVENT_H_
#define TRIBUTARY_POLLER_INVOKE_LAMBDA_EVENT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/aws_arn.h"
#include "proto/function.pb.h"

namespace tributary::poller {

// The AWS account the events speak for: the region and account of the AWS front door's ARNs
// (--aws_region, --aws_account_id). Checked by ValidateAwsAccount; its stream ARNs are
// common/aws_arn.h's KinesisStreamArn.
using LambdaAccount = ::tributary::AwsAccount;

// The IAM role ARN every record's invokeIdentityArn carries: "arn:aws:iam::ACCOUNT:role/tributary"
// (Lambda puts the function's execution role there; Tributary's functions have none, and the
// pollers invoke them under one identity).
std::string InvokeIdentityArn(const LambdaAccount& account);

// The JSON text of the event for `request` (described above).
std::string EncodeLambdaKinesisEvent(const LambdaAccount& account,
                                     const v1::InvokeRequest& request);

// Pieces the DynamoDB event (dynamodb_event.h) shares with this one:
// Appends `text` as a JSON string literal (escaped; bytes that are not UTF-8 become U+FFFD).
void AppendJsonString(absl::string_view text, std::string* out);
// Appends what a tumbling-window event adds after "Records":[...] — ,"window":{...},
// "state":{...},"shardId":<shard_id>,"eventSourceARN":<source_arn_json>,
// "isFinalInvokeForWindow":...,"isWindowTerminatedEarly":... — or nothing when `request` has
// no window. `source_arn_json` is already a JSON string literal.
void AppendWindowMembers(const v1::InvokeRequest& request, absl::string_view shard_id,
                         absl::string_view source_arn_json, std::string* out);

// The reply `body` as an InvokeResponse (described above); never fails. function_error is
// left empty: a function error is told by the HTTP exchange (poller/invoke/http_invoker.h).
v1::InvokeResponse DecodeLambdaResponse(absl::string_view body);

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_INVOKE_LAMBDA_EVENT_H_
