// A table's key schema — a partition (HASH) key and an optional sort (RANGE) key, each of type
// S, N or B — with the checks DynamoDB makes of items and keys against it, and the RocksDB key
// of an item.
//
// Item key bytes (the store prefixes be64(table id)): be16(length) + partition key bytes, then
// the sort key's order-preserving bytes. Partition key bytes: S and B raw, N its canonical
// decimal. Sort key bytes, so that byte order is DynamoDB's order within a partition:
//   S: UTF-8 bytes; B: the bytes (unsigned order);
//   N: 0x01 for zero; positive: 0x02, be16(E + 0x8000), the significant digits; negative:
//      0x00, be16(0x7FFF − E), each digit as '9' − d, then 0xFF — where the value is
//      ±0.d1d2… × 10^E. Examples: −10 < −2 < −0.5 < 0 < 0.5 < 2 < 10.
//
// Plain data and pure functions; thread-safe.
#ifndef TRIBUTARY_TABLES_KEY_SCHEMA_H_
#define TRIBUTARY_TABLES_KEY_SCHEMA_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tables/attribute_value.h"

namespace tributary::tables {

inline constexpr size_t kMaxPartitionKeyBytes = 2048;
inline constexpr size_t kMaxSortKeyBytes = 1024;
inline constexpr size_t kMaxKeyAttributeNameBytes = 255;

struct KeyAttribute {
  std::string name;
  AttributeValue::Type type = AttributeValue::Type::kS;  // kS, kN or kB
};

struct KeySchema {
  KeyAttribute partition_key;
  std::optional<KeyAttribute> sort_key;
};

// Checks a schema (names 1–255 bytes, types S/N/B, the two names different). Errors:
// INVALID_ARGUMENT.
absl::Status ValidateKeySchema(const KeySchema& schema);

// Checks that `item` (sorted) has the key attributes with their types and valid key values
// (S and B non-empty; partition key ≤ 2048 bytes, sort key ≤ 1024). Errors: INVALID_ARGUMENT,
// worded as DynamoDB ("One or more parameter values were invalid: Missing the key id in the
// item", "... Type mismatch for key id expected: S actual: N").
absl::Status CheckItemKey(const KeySchema& schema, const AttributeMap& item);

// Checks that `key` (sorted) holds exactly the key attributes (a GetItem/DeleteItem Key), with
// valid values. Errors: INVALID_ARGUMENT ("The provided key element does not match the schema").
absl::Status CheckKey(const KeySchema& schema, const AttributeMap& key);

// The key attributes of an item that passed CheckItemKey (in name order).
AttributeMap KeyOf(const KeySchema& schema, const AttributeMap& item);

// The item key bytes (see the top) of an item or key that passed CheckItemKey / CheckKey.
std::string EncodeItemKey(const KeySchema& schema, const AttributeMap& item);

// The order-preserving bytes of a canonical number (see the top), for sort keys.
std::string OrderedNumberBytes(absl::string_view canonical);

// The two parts of the item key bytes: a partition key value's (be16(length) + bytes) and a sort
// key value's (order-preserving). EncodeItemKey is the one followed by the other; a Query reads
// the range of keys starting with EncodePartitionKey. Precondition: valid key values.
std::string EncodePartitionKey(const AttributeValue& value);
std::string EncodeSortKey(const AttributeValue& value);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_KEY_SCHEMA_H_
