// Lambda's DynamoDB Streams event and its reply, as JSON text: what an http(s) function endpoint
// receives for a mapping on a table's change stream (issue 18), as AWS Lambda sends it; and the
// same fields typed, in the InvokeRequest a gRPC function receives (DynamoDbInvokeRequest,
// proto/function.proto's DynamoDbStreamRecord). Both are made from DecodeDynamoDbEventRecord,
// the one place a change record becomes an event record. The
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
// The gRPC form: the InvokeRequest with `dynamodb_records` (eventID, eventName, eventVersion,
// eventSource, awsRegion, eventSourceARN, dynamodb {ApproximateCreationDateTime, Keys, NewImage,
// OldImage, SequenceNumber, SizeBytes, StreamViewType}: the JSON event's values, typed) instead
// of `records`, and the DynamoDB shard id as `shard_id`. Its reply names records by DynamoDB
// SequenceNumber too (ToStoreItemIdentifiers).
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
#include "tables/change_record.h"

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

// `tables`' answer for `stream_name`, its error reworded for an invocation's status (the code
// kept: NOT_FOUND "the table stream ... is gone", others "looking up the table of ..."); a null
// `tables` is FAILED_PRECONDITION (this poller has no Tables service to ask).
absl::StatusOr<TableStreamSource> FindTableStreamSource(TableStreamSources* tables,
                                                        const std::string& stream_name);

// "arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL".
std::string DynamoDbStreamArn(const LambdaAccount& account, const TableStreamSource& source);

// One record of a table stream as an event record: the decoded change and the ids the edges
// show for it (tables/stream_ids.h). The rest of an event record is the same for every record
// of a stream (eventVersion "1.1", eventSource "aws:dynamodb", the region and the stream ARN).
struct DynamoDbEventRecord {
  std::string event_id;         // 32 hex digits: table id, shard index, sequence number
  std::string sequence_number;  // DynamoDB's form: "1" + 20 digits
  tables::ChangeRecord change;
};

// `record` of shard `shard_id` (the store's id) of `source`'s stream. Errors: DATA_LOSS when its
// data is not a change record (the message names the record and `stream_name`).
absl::StatusOr<DynamoDbEventRecord> DecodeDynamoDbEventRecord(const TableStreamSource& source,
                                                              const std::string& stream_name,
                                                              const std::string& shard_id,
                                                              const v1::Record& record);

// The JSON text of the event for `request` (described above), whose records are the change
// records of `source`'s stream. Errors: DATA_LOSS when a record's data is not a change record.
absl::StatusOr<std::string> EncodeLambdaDynamoDbEvent(const LambdaAccount& account,
                                                      const TableStreamSource& source,
                                                      const v1::InvokeRequest& request);

// `request` as a gRPC function on a table stream gets it (described above): every field kept
// but `records` (empty) and `shard_id` (DynamoDB's), and `dynamodb_records` holding the records.
// Errors: DATA_LOSS when a record's data is not a change record.
absl::StatusOr<v1::InvokeRequest> DynamoDbInvokeRequest(const LambdaAccount& account,
                                                        const TableStreamSource& source,
                                                        const v1::InvokeRequest& request);

// Turns the item identifiers of `response` from DynamoDB sequence numbers into the store's; an
// identifier that is not a DynamoDB sequence number stays as it is (BatchProcessor judges it:
// the store's own sequence number is accepted as for Kinesis, anything else is refused).
void ToStoreItemIdentifiers(v1::InvokeResponse* response);

// The reply `body` (DecodeLambdaResponse) with ToStoreItemIdentifiers applied; never fails.
v1::InvokeResponse DecodeLambdaDynamoDbResponse(absl::string_view body);

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_INVOKE_DYNAMODB_EVENT_H_
