// MappingStore: the durable set of event-source mappings, one RocksDB record per mapping.
//
// Each change is one RocksDB write with the WAL on, acknowledged only after RocksDB accepted it,
// so a mapping survives kill -9 of the process (with `sync_writes` it also survives power loss).
// Records are kept in uuid order, under "mapping/" in the tracker's database (tracker_db.h), which
// the function store shares.
//
// Thread-safe. Reads go straight to RocksDB; Insert/Modify/Remove are serialized by an internal
// mutex so that Modify is an atomic read-modify-write against every other change.
#ifndef TRIBUTARY_STREAM_TRACKER_MAPPING_STORE_H_
#define TRIBUTARY_STREAM_TRACKER_MAPPING_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/rocksdb_util.h"
#include "stream_tracker/mapping_record.pb.h"

namespace tributary::stream_tracker {

class MappingStore {
 public:
  struct Options {
    // fsync every write (power-loss durability); off, a write survives a process crash only.
    bool sync_writes = false;
    // The file system RocksDB goes through (tests, e.g. common/testing/power_loss_fs.h; null =
    // the default). Not owned: it must outlive the store.
    rocksdb::Env* env = nullptr;
  };

  // Opens (or creates) the store in directory `path`. Errors: INTERNAL/DATA_LOSS/UNAVAILABLE from
  // RocksDB (e.g. another process holds the directory), naming the path.
  static absl::StatusOr<std::unique_ptr<MappingStore>> Open(const std::string& path,
                                                            const Options& options);
  static absl::StatusOr<std::unique_ptr<MappingStore>> Open(const std::string& path) {
    return Open(path, Options());
  }
  // A store over a database already open (OpenTrackerDb), shared with other stores;
  // `options.env` is not used (the database was opened with its own).
  static std::unique_ptr<MappingStore> Create(std::shared_ptr<RocksDb> db, const Options& options);

  // Adds a new mapping keyed by record.config().uuid(). Errors: INVALID_ARGUMENT for an empty
  // uuid; ALREADY_EXISTS when the uuid is taken; RocksDB errors.
  absl::Status Insert(const MappingRecord& record);

  // The mapping `uuid`. Errors: NOT_FOUND; DATA_LOSS when the stored record does not parse.
  absl::StatusOr<MappingRecord> Get(const std::string& uuid) const;

  // Up to `limit` mappings (0 = no limit) with uuid > `after_uuid`, in uuid order. Errors:
  // DATA_LOSS for a record that does not parse; RocksDB errors.
  absl::StatusOr<std::vector<MappingRecord>> List(const std::string& after_uuid = "",
                                                  size_t limit = 0) const;

  // Atomically reads mapping `uuid`, lets `mutate` change it, and writes the result. When
  // `mutate` returns an error nothing is written and that error is returned. `mutate` must not
  // change the uuid (INTERNAL if it does) and must not call back into this store. Returns the
  // record as written. Errors: NOT_FOUND; `mutate`'s error; RocksDB errors.
  absl::StatusOr<MappingRecord> Modify(const std::string& uuid,
                                       const std::function<absl::Status(MappingRecord*)>& mutate);

  // Removes mapping `uuid`. Idempotent: removing a missing mapping is OK.
  absl::Status Remove(const std::string& uuid);

  // Writes accepted since Open (Insert, Modify, Remove): lets tests check that a pass which
  // changes nothing writes nothing.
  int64_t writes() const { return writes_.load(); }

 private:
  MappingStore(std::shared_ptr<RocksDb> db, const Options& options)
      : db_(std::move(db)), options_(options) {}

  absl::Status Write(const MappingRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const std::shared_ptr<RocksDb> db_;
  const Options options_;
  // Serializes changes (held across one small RocksDB write, never across an RPC); readers do
  // not take it.
  absl::Mutex write_mu_;
  std::atomic<int64_t> writes_{0};
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_MAPPING_STORE_H_
