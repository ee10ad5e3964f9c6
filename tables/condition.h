// ConditionExpression of a write, checked against the item the write replaces.
//
// Supported so far (issue 18 asks for the full grammar later): one function call
//   attribute_exists(path)  |  attribute_not_exists(path)
// where path is a top-level attribute name or a #placeholder from ExpressionAttributeNames;
// white space is allowed around the tokens. Example: "attribute_not_exists(#pk)" with
// {"#pk": "id"} makes a put that creates only.
//
// Plain data and pure functions; thread-safe.
#ifndef TRIBUTARY_TABLES_CONDITION_H_
#define TRIBUTARY_TABLES_CONDITION_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tables/attribute_value.h"

namespace tributary::tables {

struct Condition {
  enum class Kind { kAttributeExists, kAttributeNotExists };
  Kind kind = Kind::kAttributeExists;
  std::string attribute;  // placeholders resolved
};

// Parses `expression` with `names` (ExpressionAttributeNames: "#x" → name). Errors:
// INVALID_ARGUMENT "Invalid ConditionExpression: ..." for a syntax error, an unsupported
// expression (the message says what is supported) or an undefined placeholder; "Value provided
// in ExpressionAttributeNames unused in expressions" when a given name is not used.
absl::StatusOr<Condition> ParseCondition(absl::string_view expression,
                                         const std::map<std::string, std::string>& names);

// Whether `condition` holds for `item` (nullptr: no item exists).
bool ConditionHolds(const Condition& condition, const AttributeMap* item);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_CONDITION_H_
