// FunctionStore: the durable registry of functions, one RocksDB record per function, keyed by
// name, in the tracker's database beside the mappings (tracker_db.h: "function/<name>").
//
// Each change is one RocksDB write with the WAL on, acknowledged only after RocksDB accepted it,
// so a function survives kill -9 of the process (with `sync_writes` it also survives power
// loss). Records are kept in name order (bytewise; names are ASCII).
//
// Thread-safe. Reads go straight to RocksDB; Insert/Modify/Remove are serialized by an internal
// mutex so that Modify is an atomic read-modify-write against every other change.
#ifndef TRIBUTARY_STREAM_TRACKER_FUNCTION_STORE_H_
#define TRIBUTARY_STREAM_TRACKER_FUNCTION_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/rocksdb_util.h"
#include "stream_tracker/function_record.pb.h"

namespace tributary::stream_tracker {

class FunctionStore {
 public:
  struct Options {
    // fsync every write (power-loss durability); off, a write survives a process crash only.
    bool sync_writes = false;
    // The file system RocksDB goes through when Open opens the database (tests, e.g.
    // common/testing/power_loss_fs.h; null = the default). Not owned: it must outlive the store.
    rocksdb::Env* env = nullptr;
  };

  // Opens (or creates) the tracker's database in directory `path` and a store over it. Errors:
  // INTERNAL/DATA_LOSS/UNAVAILABLE from RocksDB (e.g. another process holds the directory),
  // naming the path.
  static absl::StatusOr<std::unique_ptr<FunctionStore>> Open(const std::string& path,
                                                             const Options& options);
  static absl::StatusOr<std::unique_ptr<FunctionStore>> Open(const std::string& path) {
    return Open(path, Options());
  }
  // A store over a database already open (OpenTrackerDb), shared with the mapping store;
  // `options.env` is not used.
  static std::unique_ptr<FunctionStore> Create(std::shared_ptr<RocksDb> db, const Options& options);

  // Adds a new function keyed by record.config().function_name(). Errors: INVALID_ARGUMENT for
  // an empty name; ALREADY_EXISTS when the name is taken; RocksDB errors.
  absl::Status Insert(const FunctionRecord& record);

  // The function `name`. Errors: NOT_FOUND; DATA_LOSS when the stored record does not parse.
  absl::StatusOr<FunctionRecord> Get(const std::string& name) const;

  // Up to `limit` functions (0 = no limit) with name > `after_name`, in name order. Errors:
  // DATA_LOSS for a record that does not parse; RocksDB errors.
  absl::StatusOr<std::vector<FunctionRecord>> List(const std::string& after_name = "",
                                                   size_t limit = 0) const;

  // Atomically reads function `name`, lets `mutate` change it, and writes the result. When
  // `mutate` returns an error nothing is written and that error is returned. `mutate` must not
  // change the name (INTERNAL if it does) and must not call back into this store. Returns the
  // record as written. Errors: NOT_FOUND; `mutate`'s error; RocksDB errors.
  absl::StatusOr<FunctionRecord> Modify(const std::string& name,
                                        const std::function<absl::Status(FunctionRecord*)>& mutate);

  // Removes function `name`. Idempotent: removing a missing function is OK.
  absl::Status Remove(const std::string& name);

  // Writes accepted since Open (Insert, Modify, Remove).
  int64_t writes() const { return writes_.load(); }

 private:
  FunctionStore(std::shared_ptr<RocksDb> db, const Options& options)
      : db_(std::move(db)), options_(options) {}

  absl::Status Write(const FunctionRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const std::shared_ptr<RocksDb> db_;
  const Options options_;
  // Serializes changes (held across one small RocksDB write, never across an RPC); readers do
  // not take it.
  absl::Mutex write_mu_;
  std::atomic<int64_t> writes_{0};
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_FUNCTION_STORE_H_
