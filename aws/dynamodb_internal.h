// What the DynamoDB adapter's .cc files share (dynamodb_handler.cc: tables, the AttributeValue
// JSON; dynamodb_items.cc: the item operations). Not part of the adapter's contract.
#ifndef TRIBUTARY_AWS_DYNAMODB_INTERNAL_H_
#define TRIBUTARY_AWS_DYNAMODB_INTERNAL_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aws/aws_error.h"
#include "aws/router.h"
#include "aws/value.h"
#include "tables/attribute_value.h"
#include "tables/table_store.h"

namespace tributary::aws::dynamodb_internal {

inline constexpr char kErrorPrefix[] = "com.amazonaws.dynamodb.v20120810#";

// Every DynamoDB error carries the service's namespace in __type.
AwsError DynamoError(absl::string_view code, std::string message, int http_status = 400);
// A TableStore status as DynamoDB's error (INVALID_ARGUMENT → ValidationException, NOT_FOUND →
// ResourceNotFoundException, FAILED_PRECONDITION → ConditionalCheckFailedException, ...).
AwsError FromTablesStatus(const absl::Status& status);
absl::Status Validation(std::string message);
// A map's member, or nullptr (also when `map` is no map).
const Value* Member(const Value& map, absl::string_view name);

// DynamoDB JSON ({"S": "x"}, {"N": "1.50"}, {"M": {...}}, ...) → AttributeValue / a map of them
// (numbers made canonical, maps sorted). Errors: INVALID_ARGUMENT, DynamoDB's messages.
absl::StatusOr<tables::AttributeValue> ParseAttributeValue(const Value& v, int depth);
absl::StatusOr<tables::AttributeMap> ParseAttributeMap(const Value& v, int depth);

// Runs `call` when it is an item operation (PutItem, GetItem, DeleteItem, UpdateItem, Query,
// Scan, BatchGetItem, BatchWriteItem, TransactWriteItems, TransactGetItems); nullopt otherwise.
std::optional<AwsOutcome> CallItemOperation(tables::TableStore& tables, const AwsCall& call);

}  // namespace tributary::aws::dynamodb_internal

#endif  // TRIBUTARY_AWS_DYNAMODB_INTERNAL_H_
