// The item model (attribute_value.h) and its proto form (proto/tables.proto's AttributeValue),
// both ways: what tributary.v1.Tables takes and returns, and what a gRPC function's Invoke
// carries for a table stream's change records (proto/function.proto, DynamoDbStreamRecord).
//
// Pure functions; thread-safe. No gRPC.
#ifndef TRIBUTARY_TABLES_ATTRIBUTE_VALUE_PROTO_H_
#define TRIBUTARY_TABLES_ATTRIBUTE_VALUE_PROTO_H_

#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/map.h"
#include "proto/tables.pb.h"
#include "tables/attribute_value.h"

namespace tributary::tables {

// FromProto: INVALID_ARGUMENT for a value with no member set, a number that is not one
// (ParseNumber), NULL other than true; the store checks the rest (sets, nesting, size). Numbers
// come back canonical ("1.50" → "1.5").
absl::StatusOr<AttributeValue> FromProto(const v1::AttributeValue& value);
absl::StatusOr<AttributeMap> FromProto(
    const google::protobuf::Map<std::string, v1::AttributeValue>& map);
// ToProto never fails: every AttributeValue has a proto form (B and BS as bytes, N as the
// decimal string).
v1::AttributeValue ToProto(const AttributeValue& value);
void ToProto(const AttributeMap& map, google::protobuf::Map<std::string, v1::AttributeValue>* out);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_ATTRIBUTE_VALUE_PROTO_H_
