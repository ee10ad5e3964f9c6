// DynamoDB's expression language: document paths, ExpressionAttributeNames / Values, and the
// parsers of the five kinds of expression a request carries — ConditionExpression and
// FilterExpression (one grammar), UpdateExpression, ProjectionExpression and
// KeyConditionExpression — into the trees below. Evaluating them is elsewhere (condition.h,
// update_expression.h, projection.h; a key condition is a range read in the table store).
//
// The grammar, as DynamoDB documents it (keywords AND OR NOT BETWEEN IN SET REMOVE ADD DELETE in
// any letter case; function names case-sensitive):
//   condition ::= operand comparator operand | operand BETWEEN operand AND operand
//               | operand IN ( operand {, operand} )          (at most 100 operands)
//               | function | condition AND condition | condition OR condition | NOT condition
//               | ( condition )
//     precedence, loosest first: OR, AND, NOT, then comparisons / BETWEEN / IN / functions
//   comparator ::= = | <> | < | <= | > | >=
//   function ::= attribute_exists(path) | attribute_not_exists(path) | attribute_type(path, :t)
//              | begins_with(path, operand) | contains(path, operand)
//   operand ::= path | :value | size(path)
//   update ::= section {section}, each of SET / REMOVE / ADD / DELETE at most once, any order
//     SET path = value {, path = value}     value ::= term | term + term | term - term
//       term ::= operand | if_not_exists(path, term) | list_append(term, term)
//     REMOVE path {, path}    ADD path :value {, ...}    DELETE path :value {, ...}
//   projection ::= path {, path}
//   path ::= name {. name | [digits]}      name ::= identifier | #placeholder
// Example: "SET #s = :s, counts.views = counts.views + :one REMOVE tags[0]" with
// {"#s": "status"} and {":s": {"S": "shipped"}, ":one": {"N": "1"}}.
//
// Errors are DynamoDB's ValidationException messages (INVALID_ARGUMENT), prefixed with
// "Invalid <parameter>: " ("Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near:
// \"SET a\""): syntax errors; "Attribute name is a reserved keyword; reserved keyword: status"
// (a plain name that is a reserved word, reserved_words.h); undefined #names / :values;
// "Invalid function name; function: f"; wrong operand counts and types of functions; a function
// used where it cannot be ("The function is not allowed to be used this way in an expression;
// function: attribute_exists"); "The expression has redundant parentheses;"; overlapping or
// conflicting paths of one update or projection ("Two document paths overlap with each other;
// must remove or rewrite one of these paths; path one: [a], path two: [a, b]"); an expression
// over 4 KB.
//
// Plain data and pure functions (an ExpressionAttributes is not thread-safe: one request's).
#ifndef TRIBUTARY_TABLES_EXPRESSION_H_
#define TRIBUTARY_TABLES_EXPRESSION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tables/attribute_value.h"
#include "tables/key_schema.h"

namespace tributary::tables {

inline constexpr size_t kMaxExpressionBytes = 4096;
inline constexpr int kMaxInOperands = 100;

// One step of a document path: a map member (or, first, a top-level attribute) or a list element.
struct PathElement {
  std::string name;     // placeholders resolved; empty for a list element
  int64_t index = -1;   // ≥ 0 for a list element
  bool is_index() const { return index >= 0; }
  bool operator==(const PathElement& o) const { return name == o.name && index == o.index; }
};

// "a.b[2].c" is {a, b, [2], c}; the first element is always a name.
struct DocumentPath {
  std::vector<PathElement> elements;
  // DynamoDB's rendering in messages: "[a, b, [2], c]".
  std::string ToString() const;
  bool operator==(const DocumentPath& o) const { return elements == o.elements; }
};

// The value at `path` in `item`, or nullptr when any step is missing or of the wrong type.
const AttributeValue* FindPath(const AttributeMap& item, const DocumentPath& path);

// An operand of a condition or of a SET action's value.
struct Operand {
  enum class Kind {
    kPath,         // path
    kValue,        // value (an ExpressionAttributeValue, resolved)
    kSize,         // size(path)
    kIfNotExists,  // if_not_exists(path, args[0])
    kListAppend,   // list_append(args[0], args[1])
    kPlus,         // args[0] + args[1]
    kMinus,        // args[0] - args[1]
  };
  Kind kind = Kind::kValue;
  DocumentPath path;
  AttributeValue value;
  std::vector<Operand> args;
};

enum class Comparator { kEq, kNe, kLt, kLe, kGt, kGe };
// "=", "<>", "<", "<=", ">", ">=".
const char* ComparatorText(Comparator c);

struct ConditionNode {
  enum class Kind {
    kCompare,             // operands[0] comparator operands[1]
    kBetween,             // operands[0] BETWEEN operands[1] AND operands[2]
    kIn,                  // operands[0] IN (operands[1..])
    kAnd,                 // children[0] AND children[1]
    kOr,                  // children[0] OR children[1]
    kNot,                 // NOT children[0]
    kAttributeExists,     // operands[0] is a path
    kAttributeNotExists,  // operands[0] is a path
    kAttributeType,       // operands[0] path, operands[1] an S value naming a type
    kBeginsWith,          // begins_with(operands[0], operands[1])
    kContains,            // contains(operands[0], operands[1])
  };
  Kind kind = Kind::kCompare;
  Comparator comparator = Comparator::kEq;
  std::vector<Operand> operands;
  std::vector<ConditionNode> children;
};

struct UpdateAction {
  enum class Kind { kSet, kRemove, kAdd, kDelete };
  Kind kind = Kind::kSet;
  DocumentPath path;
  Operand value;  // SET: the value; ADD / DELETE: a kValue; REMOVE: unused
};

struct UpdateExpression {
  std::vector<UpdateAction> actions;  // in the order written
};

struct Projection {
  std::vector<DocumentPath> paths;  // no two overlap
};

// A KeyConditionExpression checked against a table's key schema: the partition key's value and
// an optional condition on the sort key.
struct KeyCondition {
  enum class SortOp { kNone, kEq, kLt, kLe, kGt, kGe, kBetween, kBeginsWith };
  AttributeValue partition_value;
  SortOp sort_op = SortOp::kNone;
  AttributeValue sort_value;   // the (lower) bound or prefix
  AttributeValue sort_value2;  // BETWEEN's upper bound
};

// One request's ExpressionAttributeNames ("#n" → name) and ExpressionAttributeValues (":v" →
// value), recording which ones its expressions use (DynamoDB rejects unused ones).
class ExpressionAttributes {
 public:
  ExpressionAttributes() = default;
  // `values` must hold valid values (ValidateAttributeValue); the names and keys are checked by
  // Validate.
  ExpressionAttributes(std::map<std::string, std::string> names,
                       std::map<std::string, AttributeValue> values);

  // Checks the maps themselves: keys "#" / ":" followed by one or more of [A-Za-z0-9_]
  // ("ExpressionAttributeNames contains invalid key: Syntax error; key: \"x\""), names non-empty.
  absl::Status Validate() const;
  // The name or value a placeholder stands for (and marks it used), or nullptr.
  const std::string* Name(absl::string_view placeholder);
  const AttributeValue* Value(absl::string_view placeholder);
  bool empty() const { return names_.empty() && values_.empty(); }
  bool has_names() const { return !names_.empty(); }
  bool has_values() const { return !values_.empty(); }
  // After parsing every expression of the request: INVALID_ARGUMENT "Value provided in
  // ExpressionAttributeNames unused in expressions: keys: {#a, #b}" (names are checked first,
  // then values).
  absl::Status CheckAllUsed() const;

 private:
  std::map<std::string, std::string> names_;
  std::map<std::string, AttributeValue> values_;
  std::set<std::string> used_names_;
  std::set<std::string> used_values_;
};

// ConditionExpression / FilterExpression (`parameter` names it in messages).
absl::StatusOr<ConditionNode> ParseConditionExpression(absl::string_view text,
                                                       absl::string_view parameter,
                                                       ExpressionAttributes& attributes);
absl::StatusOr<UpdateExpression> ParseUpdateExpression(absl::string_view text,
                                                       ExpressionAttributes& attributes);
absl::StatusOr<Projection> ParseProjectionExpression(absl::string_view text,
                                                     ExpressionAttributes& attributes);
// A KeyConditionExpression against `schema`: "pk = :v" alone or AND one sort-key condition
// (=, <, <=, >, >=, BETWEEN, begins_with). Errors, beyond the grammar's: "Query condition missed
// key schema element: pk", "Query key condition not supported" (the partition key compared
// other than with =, a condition on another attribute), "KeyConditionExpressions must only
// contain one condition per key", "Invalid operator used in KeyConditionExpression: OR",
// "One or more parameter values were invalid: Condition parameter type does not match schema
// type", begins_with on a number.
absl::StatusOr<KeyCondition> ParseKeyConditionExpression(absl::string_view text,
                                                         ExpressionAttributes& attributes,
                                                         const KeySchema& schema);

// DynamoDB's rendering of a value in messages: "{N:5}", "{S:abc}".
std::string ValueText(const AttributeValue& value);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_EXPRESSION_H_
