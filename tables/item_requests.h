// What the item API's two edges share beyond TableStore: the DynamoDB JSON API on the AWS port
// (aws/dynamodb_items.cc) and tributary.v1.Tables (tables_service.cc) read a request's
// expressions, plan a Query or Scan (index, Select) and pick UpdateItem's ReturnValues alike, so
// that both give the same answers and the same ValidationException messages.
//
// Pure functions over plain data; thread-safe.
#ifndef TRIBUTARY_TABLES_ITEM_REQUESTS_H_
#define TRIBUTARY_TABLES_ITEM_REQUESTS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tables/attribute_value.h"
#include "tables/condition.h"
#include "tables/expression.h"
#include "tables/table_store.h"

namespace tributary::tables {

// BatchGetItem answers at most this much of items (DynamoDB: 16 MB); the rest is
// UnprocessedKeys.
inline constexpr int64_t kMaxBatchGetBytes = 16 << 20;

// The expression parameters of one request (or of one item of a batch or transaction); unset:
// the request does not have it.
struct ExpressionTexts {
  std::optional<std::string> condition;      // ConditionExpression
  std::optional<std::string> filter;         // FilterExpression
  std::optional<std::string> projection;     // ProjectionExpression
  std::optional<std::string> update;         // UpdateExpression
  std::optional<std::string> key_condition;  // KeyConditionExpression
  std::optional<std::vector<std::string>> attributes_to_get;  // AttributesToGet (legacy)
  // ExpressionAttributeNames / Values (values already parsed; each is checked here).
  std::optional<std::map<std::string, std::string>> names;
  std::optional<std::map<std::string, AttributeValue>> values;
};

struct RequestExpressions {
  ExpressionAttributes attributes;
  std::optional<Condition> condition;
  std::optional<Condition> filter;
  std::optional<Projection> projection;  // ProjectionExpression or AttributesToGet
  std::optional<UpdateExpression> update;
  std::optional<KeyCondition> key_condition;
};

// Parses every expression of `texts` against its names and values, in DynamoDB's order, with
// its messages: a value that is not valid ("ExpressionAttributeValues contains invalid value:
// ... for key :v"), empty names or values maps, names or values without any expression,
// ProjectionExpression with AttributesToGet, each expression's errors (expression.h), and names
// or values no expression used. `key_schema` (required with key_condition): the schema the
// KeyConditionExpression is checked against (the table's or the index's).
// Errors: INVALID_ARGUMENT.
absl::StatusOr<RequestExpressions> ParseRequestExpressions(ExpressionTexts texts,
                                                           const KeySchema* key_schema);

// The index `index_name` of `table` that a Query or Scan reads (nullptr for none). Errors:
// INVALID_ARGUMENT ("The table does not have the specified index: X"; a consistent read of a
// global index).
absl::StatusOr<const IndexSpec*> FindReadIndex(const TableSpec& table,
                                               const std::optional<std::string>& index_name,
                                               bool consistent_read);

// DynamoDB's Select (unset: ALL_ATTRIBUTES, of an index ALL_PROJECTED_ATTRIBUTES, with a
// projection SPECIFIC_ATTRIBUTES).
enum class SelectMode { kAllAttributes, kAllProjectedAttributes, kSpecificAttributes, kCount };

// How a Query (`query`) or Scan reads: `request` gets index and fetch_table_items (what the
// index does not project: a local index fetches it from the table, a global one refuses
// ALL_ATTRIBUTES); returns the Select in effect. Errors: INVALID_ARGUMENT as DynamoDB
// (ALL_PROJECTED_ATTRIBUTES without an index, SPECIFIC_ATTRIBUTES without a projection, a
// projection with another Select, ALL_ATTRIBUTES on a global index not projecting ALL).
absl::StatusOr<SelectMode> PlanRead(const TableSpec& table, const IndexSpec* index,
                                    std::optional<SelectMode> select,
                                    const std::optional<Projection>& projection, bool query,
                                    ReadRequest* request);

// ReturnValues.
enum class ReturnValues { kNone, kAllOld, kUpdatedOld, kAllNew, kUpdatedNew };

// What an UpdateItem returns as Attributes for `return_values` (nullopt: nothing). UPDATED_*
// project the paths the update's actions name.
std::optional<AttributeMap> UpdateReturnValues(ReturnValues return_values,
                                               const WriteOutcome& outcome,
                                               const UpdateExpression& update);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_ITEM_REQUESTS_H_
