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
absl::Status FinishPutItem(const FlagValues& flags, v1::PutItemRequest* r);
absl::Status FinishGetItem(const FlagValues& flags, v1::GetItemRequest* r);
absl::Status FinishDeleteItem(const FlagValues& flags, v1::DeleteItemRequest* r);

std::string TableDescriptionTable(const v1::TableDescription& table);
std::string TableNamesTable(const v1::ListTablesResponse& tables);
std::string TableStreamsTable(const v1::ListTableStreamsResponse& streams);

}  // namespace tributary::tribctl

#endif  // TRIBUTARY_TOOLS_TRIBCTL_TABLES_H_
