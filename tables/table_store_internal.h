// What the table store's .cc files share (table_store.cc: tables; table_store_writes.cc and
// table_store_reads.cc: items). Not part of the store's contract; only :table_store includes it.
#ifndef TRIBUTARY_TABLES_TABLE_STORE_INTERNAL_H_
#define TRIBUTARY_TABLES_TABLE_STORE_INTERNAL_H_

#include <cstdint>
#include <string>

#include "common/key_coding.h"
#include "tables/table_store.h"

namespace tributary::tables {

struct TableStore::Table {
  TableDescription description;
  // Guarded by TableStore::mu_ (a struct field cannot name it).
  int writers = 0;
  bool deleting = false;
};

// The first bytes of every item key of a table (tables/NOTES.md, "Storage layout").
inline std::string ItemPrefix(uint64_t table_id) {
  std::string out;
  AppendBigEndian64(&out, table_id);
  return out;
}

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_TABLE_STORE_INTERNAL_H_
