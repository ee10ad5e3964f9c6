// tribctl's tables and items (tributary.v1.Tables, proto/tables.proto): the rules of their
// requests beyond single flags, items as DynamoDB JSON both ways, and the tables printed.
//
// Items are given and shown as DynamoDB's JSON, as `aws dynamodb put-item --item` takes it:
//   {"id": {"S": "a"}, "n": {"N": "1.5"}, "b": {"B": "AP8="}, "ok": {"BOOL": true},
//    "z": {"NULL": true}, "m": {"M": {...}}, "l": {"L": [...]}, "ss": {"SS": ["x"]},
//    "ns": {"NS": ["1"]}, "bs": {"BS": ["AP8="]}}
// (B and BS in base64).
#ifndef TRIBUTARY_TOOLS_TRIBCTL_TABLES_H_
#define TRIBUTARY_TOOLS_TRIBCTL_TABLES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/map.h"
#include "proto/tables.pb.h"
#include "tools/tribctl/command_line.h"

namespace tributary::tribctl {

using AttributeMapProto = google::protobuf::Map<std::string, v1::AttributeValue>;

// Parses DynamoDB JSON (an object of AttributeValues) into `out`. Errors: a usage error naming
// `flag` and what is wrong (not JSON, not an object, a value that is not one AttributeValue,
// a B that is not base64).
absl::Status ParseDynamoDbJson(absl::string_view flag, absl::string_view json,
                               AttributeMapProto* out);
// An item as DynamoDB JSON, one line, attributes by name.
std::string DynamoDbJson(const AttributeMapProto& item);

// --partition-key / --sort-key NAME:TYPE, the stream view type, the billing mode, the capacity.
absl::Status FinishCreateTable(const FlagValues& flags, v1::CreateTableRequest* r);
// --stream-view-type turns the stream on, --no-stream off; billing and capacity as create.
absl::Status FinishUpdateTable(const FlagValues& flags, v1::UpdateTableRequest* r);
// Item writes also take --condition-expression (bound to the field), and every item command
// its expressions' --names '{"#s": "status"}' and --values '{":s": {"S": "x"}}' (DynamoDB's
// ExpressionAttributeNames / Values as JSON).
absl::Status FinishPutItem(const FlagValues& flags, v1::PutItemRequest* r);
absl::Status FinishGetItem(const FlagValues& flags, v1::GetItemRequest* r);
absl::Status FinishDeleteItem(const FlagValues& flags, v1::DeleteItemRequest* r);
// items update: --key, --update-expression, --return-values NONE|ALL_OLD|UPDATED_OLD|ALL_NEW|
// UPDATED_NEW (default NONE).
absl::Status FinishUpdateItem(const FlagValues& flags, v1::UpdateItemRequest* r);
// items query / scan: --descending (ScanIndexForward false), --count (Select COUNT),
// --starting-token (a token an earlier page printed: the exclusive start key). Paging
// (--limit, --max-items) is the command's loop.
absl::Status FinishQuery(const FlagValues& flags, v1::QueryRequest* r);
absl::Status FinishScan(const FlagValues& flags, v1::ScanRequest* r);

// items batch-write --request-items, batch-get --request-items, transact-write
// --transact-items: the JSON `aws dynamodb batch-write-item | batch-get-item |
// transact-write-items` takes (inline or "file://PATH"), e.g.
//   batch-write: {"orders": [{"PutRequest": {"Item": {...}}}, {"DeleteRequest": {"Key": {...}}}]}
//   batch-get:   {"orders": {"Keys": [{...}], "ProjectionExpression": "...",
//                            "ExpressionAttributeNames": {...}, "ConsistentRead": true}}
//   transact:    [{"Put": {"TableName": "orders", "Item": {...}, "ConditionExpression": "...",
//                 "ExpressionAttributeNames": {...}, "ExpressionAttributeValues": {...},
//                 "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
//                 {"Update": {..., "Key": {...}, "UpdateExpression": "..."}},
//                 {"Delete": {..., "Key": {...}}}, {"ConditionCheck": {..., "Key": {...}}}]
// and --return-consumed-capacity NONE|TOTAL|INDEXES. A member these do not know, or a value of
// the wrong shape, is a usage error naming the flag and the member's path ("orders[1].PutRequest:
// unknown member Itme"); the server checks the rest (limits, expressions).
absl::Status FinishBatchWriteItem(const FlagValues& flags, v1::BatchWriteItemRequest* r);
absl::Status FinishBatchGetItem(const FlagValues& flags, v1::BatchGetItemRequest* r);
absl::Status FinishTransactWriteItems(const FlagValues& flags, v1::TransactWriteItemsRequest* r);
// items batch-get's output: "TABLE ITEM_JSON" per item (tables in name order), then
// "UnprocessedKeys N" when some were not read, then ConsumedCapacityLines.
std::string BatchGetItemTable(const v1::BatchGetItemResponse& response);
// "ConsumedCapacity TABLE UNITS [read R] [write W]" per entry.
std::string ConsumedCapacityLines(
    const google::protobuf::RepeatedPtrField<v1::ConsumedCapacity>& consumed);

// The token `items query|scan` prints when --max-items stopped it before the end: the key to
// start after, as URL-safe base64 of its protobuf form. ParseItemsToken: a usage error naming
// --starting-token for anything else.
std::string ItemsToken(const AttributeMapProto& last_evaluated_key);
absl::Status ParseItemsToken(absl::string_view token, AttributeMapProto* key);
// The items of a query or scan, one DynamoDB JSON line each, then "Count N  ScannedCount M"
// and, when more follow, "NextToken T".
std::string ItemsTable(const google::protobuf::RepeatedPtrField<v1::AttributeMap>& items,
                       int64_t count, int64_t scanned_count, const std::string& next_token);

std::string TableDescriptionTable(const v1::TableDescription& table);
std::string TableNamesTable(const v1::ListTablesResponse& tables);
std::string TableStreamsTable(const v1::ListTableStreamsResponse& streams);

}  // namespace tributary::tribctl

#endif  // TRIBUTARY_TOOLS_TRIBCTL_TABLES_H_
