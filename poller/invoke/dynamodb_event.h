// Lambda's DynamoDB Streams event and its reply, as JSON text: what an http(s) function endpoint
// receives for a mapping on a table's change stream (issue 18), as AWS Lambda sends it. The
// records of such a stream are change records (tables/change_record.h) in a shard_store stream
// "_tables.<table id>.<label digits>" (tables/stream_ids.h); the event shows them with the ids
// the DynamoDB Streams API shows for the same records.
//
// The event (AWS Lambda Developer Guide, "Using Lambda with DynamoDB"; keys in that order):
//   {"Records":[{"eventID":"0000002a00000003000000000000002a","eventName":"INSERT",
//                "eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"REGION",
//                "dynamodb":{"ApproximateCreationDateTime":1700000000,
//                            "Keys":{"id":{"S":"a"}},"NewImage":{...},"OldImage":{...},
//                            "SequenceNumber":"100000000000000000042","SizeBytes":26,
//                            "StreamViewType":"NEW_AND_OLD_IMAGES"},
//                "eventSourceARN":"arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL"},
//               ...]}
//   eventName INSERT / MODIFY / REMOVE; NewImage and OldImage as the stream's view type keeps
//   them (none with KEYS_ONLY; no OldImage on INSERT, no NewImage on REMOVE); AttributeValues as
//   DynamoDB's JSON ({"S": ...}, {"N": "1.5"}, {"B": base64}, {"BOOL": true}, {"NULL": true},
//   {"M": {...}}, {"L": [...]}, {"SS": [...]}, {"NS": [...]}, {"BS": [base64, ...]});
//   ApproximateCreationDateTime in whole epoch seconds (as Lambda's DynamoDB events carry it);
//   SequenceNumber, eventID and (with windows) shardId in the DynamoDB Streams API's forms.
// With a tumbling window it is Lambda's DynamoDBTimeWindowEvent: the window members of the
// Kinesis one (lambda_event.h) after "Records", with the DynamoDB shard id and stream ARN.
//
// The reply is Lambda's StreamsEventResponse as for Kinesis (DecodeLambdaResponse), whose
// batchItemFailures name records by their DynamoDB SequenceNumber; they are translated back to
// the store's sequence numbers (an identifier that is not one of ours stays as it is, and
// BatchProcessor refuses it as for Kinesis).
//
// Pure functions; thread-safe.
#ifndef TRIBUTARY_POLLER_INVOKE_DYNAMODB_EVENT_H_
#define TRIBUTARY_POLLER_INVOKE_DYNAMODB_EVENT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "poller/invoke/lambda_event.h"
#include "proto/function.pb.h"

namespace tributary::poller {

// The table stream a shard_store stream holds: what its ARN needs besides the account.
struct TableStreamSource {
  std::string table_name;
  std::string label;  // "2023-11-14T22:13:20.123"
  uint64_t table_id = 0;
};

// Where the poller learns a table stream's table and label (it knows only the store stream's
// name): the Tables service of the store (table_stream_sources.h) or a fake. Thread-safe.
class TableStreamSources {
 public:
  virtual ~TableStreamSources() = default;
  // Errors: NOT_FOUND (no such table stream, or it expired); UNAVAILABLE / DEADLINE_EXCEEDED /
  // UNIMPLEMENTED from the service.
  virtual absl::StatusOr<TableStreamSource> Find(const std::string& stream_name) = 0;
};

// "arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL".
std::string DynamoDbStreamArn(const LambdaAccount& account, const TableStreamSource& source);

// The JSON text of the event for `request` (described above), whose records are the change
// records of `source`'s stream. Errors: DATA_LOSS when a record's data is not a change record.
absl::StatusOr<std::string> EncodeLambdaDynamoDbEvent(const LambdaAccount& account,
                                                      const TableStreamSource& source,
                                                      const v1::InvokeRequest& request);

// The reply `body` (DecodeLambdaResponse) with its item identifiers turned from DynamoDB
// sequence numbers into the store's (described above); never fails.
v1::InvokeResponse DecodeLambdaDynamoDbResponse(absl::string_view body);

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_INVOKE_DYNAMODB_EVENT_H_
