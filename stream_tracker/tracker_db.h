// The stream tracker's one RocksDB database (<data_dir>/mappings), shared by the stores of its
// kinds of record, each under its own key prefix: "mapping/<uuid>" (MappingStore) and
// "function/<name>" (FunctionStore). One database keeps a mapping and the function it names in
// one place: one directory to back up, one WAL, one lock against a second process.
#ifndef TRIBUTARY_STREAM_TRACKER_TRACKER_DB_H_
#define TRIBUTARY_STREAM_TRACKER_TRACKER_DB_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/rocksdb_util.h"

namespace tributary::stream_tracker {

// Opens (or creates) the database in directory `path`, sized for a few small records. `env` is
// the file system RocksDB goes through (tests: common/testing/power_loss_fs.h; null = the
// default; not owned, it must outlive the database). Errors: INTERNAL/DATA_LOSS/UNAVAILABLE from
// RocksDB (e.g. another process holds the directory), naming the path.
absl::StatusOr<std::shared_ptr<RocksDb>> OpenTrackerDb(const std::string& path,
                                                       rocksdb::Env* env = nullptr);

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_TRACKER_DB_H_
