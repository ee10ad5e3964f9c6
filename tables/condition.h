// ConditionExpression (of a write) and FilterExpression (of a Query or Scan): parsing with the
// grammar of expression.h and evaluating against an item, as DynamoDB does.
//
// Evaluation (an operand whose path is missing from the item has no value):
//   a = b      both have values, of one type, equal (sets as sets, maps by member)
//   a <> b     not (a = b); true when either is missing
//   < <= > >=  both N (numerically), both S (UTF-8 bytes) or both B (unsigned bytes)
//   BETWEEN    low <= a <= high, as above;   IN   a equals one of the list
//   attribute_exists(p) / attribute_not_exists(p);  attribute_type(p, :t) the type's name
//   begins_with(p, :s)  S prefix of S, or B prefix of B
//   contains(p, :v)     S substring of S; element of SS/NS/BS (same scalar type); element of L
//   size(p)  S: characters (UTF-8 code points), B: bytes, sets/L/M: elements; absent otherwise
// Anything else (a type mismatch, a missing attribute) is false, never an error.
// Example: "attribute_exists(id) AND #s IN (:a, :b) AND size(tags) > :zero".
//
// Plain data and pure functions; thread-safe.
#ifndef TRIBUTARY_TABLES_CONDITION_H_
#define TRIBUTARY_TABLES_CONDITION_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tables/attribute_value.h"
#include "tables/expression.h"

namespace tributary::tables {

struct Condition {
  ConditionNode root;
};

// Parses a ConditionExpression (or, with `parameter` "FilterExpression", a filter) against one
// request's `attributes` (marking what it uses). Errors: INVALID_ARGUMENT as expression.h.
absl::StatusOr<Condition> ParseCondition(absl::string_view expression,
                                         ExpressionAttributes& attributes,
                                         absl::string_view parameter = "ConditionExpression");

// A request with this one expression and ExpressionAttributeNames only: parses it and checks
// that every name was used ("Value provided in ExpressionAttributeNames unused in expressions").
absl::StatusOr<Condition> ParseCondition(absl::string_view expression,
                                         const std::map<std::string, std::string>& names);

// Whether `condition` holds for `item` (nullptr: no item exists).
bool ConditionHolds(const Condition& condition, const AttributeMap* item);

// Evaluates one operand against `item` (nullptr: no item): the value, or nullopt when its path
// is missing (or size() of a type without a size). Shared with update expressions (kPath,
// kValue and kSize only; other kinds give nullopt).
std::optional<AttributeValue> EvaluateOperand(const Operand& operand, const AttributeMap* item);

// DynamoDB's order of two values of one scalar type (N numerically, S and B bytewise): <0, 0, >0;
// nullopt when they are not both N, both S or both B.
std::optional<int> CompareScalars(const AttributeValue& a, const AttributeValue& b);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_CONDITION_H_
