#include "stream_tracker/tracker_db.h"

#include <utility>

#include "common/status_macros.h"

namespace tributary::stream_tracker {

absl::StatusOr<std::shared_ptr<RocksDb>> OpenTrackerDb(const std::string& path, rocksdb::Env* env) {
  RocksDbOptions db_options;
  // Mappings and functions are few and small.
  db_options.block_cache_bytes = 8 << 20;
  db_options.write_buffer_bytes = 4 << 20;
  db_options.env = env;
  ASSIGN_OR_RETURN(std::unique_ptr<RocksDb> db, RocksDb::Open(path, {}, db_options));
  return std::shared_ptr<RocksDb>(std::move(db));
}

}  // namespace tributary::stream_tracker
