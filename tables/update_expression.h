// Applying an UpdateExpression (expression.h) to an item, as DynamoDB's UpdateItem does.
//
// Every SET value is computed from the item as it was before the update, then the actions apply
// in order, REMOVEs last (so "REMOVE a[0], a[2]" removes the elements that were at 0 and 2):
//   SET p = v     p's parent must exist (a map for a member, a list for an element); an element
//                 index past the list's end appends. v: a value, a path (which must exist),
//                 if_not_exists(q, v) (q's value if q exists, else v), list_append(l1, l2)
//                 (both L), a + b / a - b (both N, exact to 38 digits).
//   REMOVE p      removes it (nothing when missing; its parent must exist if nested)
//   ADD p v       N: adds (a missing p counts as 0); a set: the union (a missing p: v)
//   DELETE p v    removes v's elements from the set at p; an emptied set is removed
// Example: on {id: "a", n: 1, tags: {SS: [x]}}, "SET n = n + :one ADD tags :y REMOVE gone"
// with {":one": 1, ":y": {SS: [y]}} gives {id: "a", n: 2, tags: {SS: [x, y]}}.
//
// Pure functions; thread-safe.
#ifndef TRIBUTARY_TABLES_UPDATE_EXPRESSION_H_
#define TRIBUTARY_TABLES_UPDATE_EXPRESSION_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tables/attribute_value.h"
#include "tables/expression.h"
#include "tables/key_schema.h"

namespace tributary::tables {

// Checks what does not depend on the item: no action touches a key attribute. Errors:
// INVALID_ARGUMENT "Cannot update attribute id. This attribute is part of the key".
absl::Status CheckUpdateOfKey(const UpdateExpression& update, const KeySchema& schema);

// The item after `update`: `old_item` updated, or, when there is none, an item of `key` (the key
// attributes) updated — UpdateItem creates missing items. Errors (INVALID_ARGUMENT, DynamoDB's
// messages): CheckUpdateOfKey's; "The provided expression refers to an attribute that does not
// exist in the item"; "An operand in the update expression has an incorrect data type";
// "The document path provided in the update expression is invalid for update"; number rules of
// a sum (ParseNumber's); "Item size to update has exceeded the maximum allowed size"; nesting
// deeper than 32 levels.
absl::StatusOr<AttributeMap> ApplyUpdate(const UpdateExpression& update, const KeySchema& schema,
                                         const AttributeMap& key,
                                         const std::optional<AttributeMap>& old_item);

// The paths `update` writes (ReturnValues UPDATED_OLD / UPDATED_NEW project them).
Projection UpdatedPaths(const UpdateExpression& update);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_UPDATE_EXPRESSION_H_
