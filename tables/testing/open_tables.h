// The table tests' store, opened as `tributary serve` opens it: a ShardStore in `dir` holding the
// tables' column families (with `write_interceptor` for injected faults) and a TableStore over
// its database with `table_stream_shards` shards per table stream. Test-only.
#ifndef TRIBUTARY_TABLES_TESTING_OPEN_TABLES_H_
#define TRIBUTARY_TABLES_TESTING_OPEN_TABLES_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "shard_store/shard_store.h"
#include "tables/table_store.h"

namespace tributary::tables::testing {

struct OpenedTables {
  std::unique_ptr<shard_store::ShardStore> streams;
  std::unique_ptr<TableStore> store;  // over streams' database: destroy it first
};

inline absl::StatusOr<OpenedTables> OpenTables(const std::string& dir, Clock& clock,
                                               int table_stream_shards,
                                               shard_store::WriteInterceptor write_interceptor) {
  shard_store::ShardStoreOptions options;
  options.data_dir = dir;
  options.extra_column_families = TableStore::ColumnFamilies();
  options.write_interceptor = std::move(write_interceptor);
  OpenedTables opened;
  ASSIGN_OR_RETURN(opened.streams, shard_store::ShardStore::Create(options, clock));
  TableStoreOptions table_options;
  table_options.streams = opened.streams.get();
  table_options.table_stream_shards = table_stream_shards;
  ASSIGN_OR_RETURN(opened.store, TableStore::Create(opened.streams->db(), clock, table_options));
  return opened;
}

}  // namespace tributary::tables::testing

#endif  // TRIBUTARY_TABLES_TESTING_OPEN_TABLES_H_
