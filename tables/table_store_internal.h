// What the table store's .cc files share (table_store.cc: tables; table_streams.cc: UpdateTable
// and the streams of tables; table_store_writes.cc and table_store_reads.cc: items). Not part of
// the store's contract; only :table_store includes it.
#ifndef TRIBUTARY_TABLES_TABLE_STORE_INTERNAL_H_
#define TRIBUTARY_TABLES_TABLE_STORE_INTERNAL_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/key_coding.h"
#include "tables/table_store.h"

namespace tributary::tables {

struct TableStore::Table {
  // Changed only as table_store.cc's invariants say (UpdateTable, under mu_, no write in flight).
  TableDescription description;
  // Guarded by TableStore::mu_ (a struct field cannot name it).
  int writers = 0;
  bool deleting = false;
  bool updating = false;  // an UpdateTable is in progress: writes wait to begin
};

// The first bytes of every item key of a table (tables/NOTES.md, "Storage layout").
inline std::string ItemPrefix(uint64_t table_id) {
  std::string out;
  AppendBigEndian64(&out, table_id);
  return out;
}

namespace internal {

// Keys of the "tables" family: "t" + table name → TableMetadata, "s" + shard_store stream name →
// TableStreamMetadata, "n" → the next table id, "x" + … → a transaction token (below).
inline std::string TableKey(absl::string_view name) { return absl::StrCat("t", name); }
inline constexpr char kStreamKeyPrefix[] = "s";
inline std::string StreamKey(absl::string_view stream_name) {
  return absl::StrCat(kStreamKeyPrefix, stream_name);
}
// "x" + be64(expiry, unix ms) + ClientRequestToken → a version byte and the SHA-256 of the
// transaction's request: a TransactWriteItems token, written in its transaction's batch, so it
// is durable exactly when the transaction is; expired ones are one range
// ("x" + be64(0) .. "x" + be64(now)) for ExpireTransactionTokens.
inline constexpr char kTokenKeyPrefix[] = "x";
inline constexpr char kTokenFormatVersion = 1;
inline std::string TokenKey(int64_t expiry_ms, absl::string_view token) {
  std::string out = kTokenKeyPrefix;
  AppendBigEndian64(&out, static_cast<uint64_t>(std::max<int64_t>(0, expiry_ms)));
  out.append(token.data(), token.size());
  return out;
}
// The "tables" family's value of a table: a version byte and its TableMetadata.
std::string EncodeTableMetadata(const TableDescription& description);

// --- Secondary indexes (table_indexes.cc; tables/NOTES.md, "Secondary indexes") ------------
// An index entry's key in the items family: ItemPrefix(index id) + EncodePartitionKey(index
// partition key) [+ EscapedSortKey(index sort key, terminated)] + EncodeItemKey(table schema,
// item) — the table key last makes entries of equal index keys distinct; the index sort key is
// escaped (0x00 → 0x00 0xFF, then 0x00 0x01) so that no encoding is a prefix of another and the
// table key that follows cannot change the order.
//
// Checks a table's indexes against its key schema and DynamoDB's limits. Errors:
// INVALID_ARGUMENT, DynamoDB's messages.
absl::Status ValidateIndexes(const TableSpec& spec);
// Checks `item`'s index key attributes: each one present must be of the index's type and a
// valid key value (non-empty S/B, key size limits). Errors: INVALID_ARGUMENT.
absl::Status CheckIndexKeys(const TableSpec& spec, const AttributeMap& item);
// The escaped order-preserving bytes of an index sort key value; `terminated` adds 0x00 0x01
// (without it: the prefix every value beginning with `value` starts with).
std::string EscapedSortKey(const AttributeValue& value, bool terminated);
// The key of index `i`'s entry for an item that holds the table's key and every key attribute
// of the index (an item, or an ExclusiveStartKey).
std::string IndexEntryKey(const TableDescription& d, size_t i, const AttributeMap& item);
// Whether `item` has every key attribute of index `i` (else it is not in the sparse index).
bool InIndex(const IndexSpec& index, const AttributeMap& item);
// What index `i` stores of `item`: the table's and index's keys and what it projects.
AttributeMap ProjectToIndex(const TableSpec& spec, size_t i, const AttributeMap& item);
// The key attributes of an index entry: the table's and the index's (an index read's
// LastEvaluatedKey).
AttributeMap IndexKeyOf(const TableSpec& spec, size_t i, const AttributeMap& item);
// Index `name` of a table, or nullopt.
std::optional<size_t> FindIndex(const TableSpec& spec, absl::string_view name);

}  // namespace internal
}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_TABLE_STORE_INTERNAL_H_
