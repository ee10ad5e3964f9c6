// What the table store's .cc files share (table_store.cc: tables; table_streams.cc: UpdateTable
// and the streams of tables; table_store_writes.cc and table_store_reads.cc: items). Not part of
// the store's contract; only :table_store includes it.
#ifndef TRIBUTARY_TABLES_TABLE_STORE_INTERNAL_H_
#define TRIBUTARY_TABLES_TABLE_STORE_INTERNAL_H_

#include <cstdint>
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
// TableStreamMetadata, "n" → the next table id.
inline std::string TableKey(absl::string_view name) { return absl::StrCat("t", name); }
inline constexpr char kStreamKeyPrefix[] = "s";
inline std::string StreamKey(absl::string_view stream_name) {
  return absl::StrCat(kStreamKeyPrefix, stream_name);
}
// The "tables" family's value of a table: a version byte and its TableMetadata.
std::string EncodeTableMetadata(const TableDescription& description);

}  // namespace internal
}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_TABLE_STORE_INTERNAL_H_
