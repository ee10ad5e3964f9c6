// ProjectionExpression: the part of an item a read returns.
//
// Each path's value is copied with the maps and lists around it: projecting "a.b, c[1], c[3]"
// from {a: {b: 1, x: 2}, c: [p, q, r, s], d: 3} gives {a: {b: 1}, c: [q, s]} (list elements
// keep their order and close up, as DynamoDB returns them). Paths missing from the item are
// left out; an empty projection result is an empty item.
//
// Pure function; thread-safe.
#ifndef TRIBUTARY_TABLES_PROJECTION_H_
#define TRIBUTARY_TABLES_PROJECTION_H_

#include "tables/attribute_value.h"
#include "tables/expression.h"

namespace tributary::tables {

// Precondition: no two paths of `projection` overlap (ParseProjectionExpression checks it).
AttributeMap Project(const AttributeMap& item, const Projection& projection);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_PROJECTION_H_
