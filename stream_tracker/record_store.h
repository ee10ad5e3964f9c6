// RecordStore<Record, Store>: what the tracker's record stores share (MappingStore, FunctionStore): a
// durable set of protobuf records of one kind, one RocksDB record each, keyed by a string, under
// "<noun>/<key>" in the tracker's database (tracker_db.h), in key order (bytewise). A key never
// holds '/', so the prefix scan is exact.
//
// Each change is one RocksDB write with the WAL on, acknowledged only after RocksDB accepted it,
// so a record survives kill -9 of the process (with `sync_writes` it also survives power loss).
//
// Thread-safe. Reads go straight to RocksDB; Insert/Modify/Remove are serialized by an internal
// mutex so that Modify is an atomic read-modify-write against every other change.
//
// Each store derives from it, names itself (so that Open and Create make one) and says what its
// records are (RecordStore::Kind):
//   class MappingStore final : public RecordStore<MappingRecord, MappingStore> {
//    private:
//     friend class RecordStore<MappingRecord, MappingStore>;
//     MappingStore(std::shared_ptr<RocksDb> db, const Options& options)
//         : RecordStore(std::move(db), options,
//                       {"mapping", "uuid", "event source mapping", &UuidOf}) {}
//   };
#ifndef TRIBUTARY_STREAM_TRACKER_RECORD_STORE_H_
#define TRIBUTARY_STREAM_TRACKER_RECORD_STORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/rocksdb_util.h"
#include "common/status_macros.h"
#include "rocksdb/env.h"
#include "rocksdb/iterator.h"
#include "stream_tracker/tracker_db.h"

namespace tributary::stream_tracker {

struct RecordStoreOptions {
  // fsync every write (power-loss durability); off, a write survives a process crash only.
  bool sync_writes = false;
  // The file system RocksDB goes through when Open opens the database (tests, e.g.
  // common/testing/power_loss_fs.h; null = the default). Not owned: it must outlive the store.
  rocksdb::Env* env = nullptr;
};

template <typename Record, typename Store>
class RecordStore {
 public:
  using Options = RecordStoreOptions;

  // What the records are, for their keys and the messages of errors.
  struct Kind {
    // "mapping": the records' keys are "mapping/<key>"; "writing mapping <key>",
    // "listing mappings".
    absl::string_view noun;
    // "uuid": what the key is ("a mapping record needs a uuid").
    absl::string_view key_noun;
    // "event source mapping": what a client calls the record ("... <key> not found").
    absl::string_view entity;
    // The key of a record (its uuid, its name).
    const std::string& (*key_of)(const Record&);
  };

  // Opens (or creates) the tracker's database in directory `path` (OpenTrackerDb) and a store
  // over it. Errors: INTERNAL/DATA_LOSS/UNAVAILABLE from RocksDB (e.g. another process holds the
  // directory), naming the path.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     const Options& options = {});
  // A store over a database already open (OpenTrackerDb), shared with the other stores;
  // `options.env` is not used (the database was opened with its own).
  static std::unique_ptr<Store> Create(std::shared_ptr<RocksDb> db, const Options& options) {
    return std::unique_ptr<Store>(new Store(std::move(db), options));
  }

  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  // Adds a new record keyed by kind.key_of(record). Errors: INVALID_ARGUMENT for an empty key;
  // ALREADY_EXISTS when the key is taken ("<entity> <key> already exists"); RocksDB errors.
  absl::Status Insert(const Record& record);

  // The record `key`. Errors: NOT_FOUND ("<entity> <key> not found"); DATA_LOSS when the stored
  // record does not parse; RocksDB errors.
  absl::StatusOr<Record> Get(const std::string& key) const;

  // Up to `limit` records (0 = no limit) with a key > `after`, in key order. Errors: DATA_LOSS for
  // a record that does not parse; RocksDB errors.
  absl::StatusOr<std::vector<Record>> List(const std::string& after = "", size_t limit = 0) const;

  // Atomically reads record `key`, lets `mutate` change it, and writes the result. When `mutate`
  // returns an error nothing is written and that error is returned. `mutate` must not change the
  // key (INTERNAL if it does) and must not call back into this store. Returns the record as
  // written. Errors: NOT_FOUND; `mutate`'s error; RocksDB errors.
  absl::StatusOr<Record> Modify(const std::string& key,
                                const std::function<absl::Status(Record*)>& mutate);

  // Removes record `key`. Idempotent: removing a missing record is OK.
  absl::Status Remove(const std::string& key);

  // Writes accepted since the store was made (Insert, Modify, Remove): lets tests check that a
  // pass which changes nothing writes nothing.
  int64_t writes() const { return writes_.load(); }

 protected:
  // `db` is the tracker's database (OpenTrackerDb), possibly shared with other stores.
  RecordStore(std::shared_ptr<RocksDb> db, const Options& options, const Kind& kind)
      : db_(std::move(db)),
        sync_writes_(options.sync_writes),
        kind_(kind),
        prefix_(absl::StrCat(kind.noun, "/")) {}
  ~RecordStore() = default;

 private:
  std::string Key(absl::string_view key) const { return absl::StrCat(prefix_, key); }
  absl::StatusOr<Record> Parse(absl::string_view db_key, const std::string& value) const;
  absl::Status Write(const Record& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const std::shared_ptr<RocksDb> db_;
  const bool sync_writes_;
  const Kind kind_;
  const std::string prefix_;  // "<noun>/"
  // Serializes changes (held across one small RocksDB write, never across an RPC); readers do
  // not take it.
  absl::Mutex write_mu_;
  std::atomic<int64_t> writes_{0};
};

// Implementation.

template <typename Record, typename Store>
absl::StatusOr<std::unique_ptr<Store>> RecordStore<Record, Store>::Open(const std::string& path,
                                                                        const Options& options) {
  ASSIGN_OR_RETURN(std::shared_ptr<RocksDb> db, OpenTrackerDb(path, options.env));
  return Create(std::move(db), options);
}

template <typename Record, typename Store>
absl::StatusOr<Record> RecordStore<Record, Store>::Parse(absl::string_view db_key,
                                                         const std::string& value) const {
  Record record;
  if (!record.ParseFromString(value)) {
    return absl::DataLossError(absl::StrCat(kind_.noun, " record ", db_key, " does not parse"));
  }
  return record;
}

template <typename Record, typename Store>
absl::Status RecordStore<Record, Store>::Write(const Record& record) {
  const std::string& key = kind_.key_of(record);
  std::string value;
  if (!record.SerializeToString(&value)) {
    return absl::InternalError(absl::StrCat("serializing ", kind_.noun, " ", key));
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = sync_writes_;
  RETURN_IF_ERROR(FromRocksDbStatus(db_->db()->Put(write_options, Key(key), value),
                                    absl::StrCat("writing ", kind_.noun, " ", key)));
  writes_.fetch_add(1);
  return absl::OkStatus();
}

template <typename Record, typename Store>
absl::Status RecordStore<Record, Store>::Insert(const Record& record) {
  const std::string& key = kind_.key_of(record);
  if (key.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ", kind_.noun, " record needs a ", kind_.key_noun));
  }
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<Record> existing = Get(key);
  if (existing.ok()) {
    return absl::AlreadyExistsError(absl::StrCat(kind_.entity, " ", key, " already exists"));
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  return Write(record);
}

template <typename Record, typename Store>
absl::StatusOr<Record> RecordStore<Record, Store>::Get(const std::string& key) const {
  std::string value;
  const std::string db_key = Key(key);
  rocksdb::Status s = db_->db()->Get(rocksdb::ReadOptions(), db_key, &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat(kind_.entity, " ", key, " not found"));
  }
  RETURN_IF_ERROR(FromRocksDbStatus(s, absl::StrCat("reading ", kind_.noun, " ", key)));
  return Parse(db_key, value);
}

template <typename Record, typename Store>
absl::StatusOr<std::vector<Record>> RecordStore<Record, Store>::List(const std::string& after,
                                                                     size_t limit) const {
  std::vector<Record> records;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions()));
  const std::string start = Key(after);
  for (it->Seek(start); it->Valid(); it->Next()) {
    absl::string_view db_key(it->key().data(), it->key().size());
    if (!absl::StartsWith(db_key, prefix_)) break;
    if (db_key == start) continue;  // exclusive
    ASSIGN_OR_RETURN(Record record, Parse(db_key, it->value().ToString()));
    records.push_back(std::move(record));
    if (limit != 0 && records.size() >= limit) break;
  }
  RETURN_IF_ERROR(FromRocksDbStatus(it->status(), absl::StrCat("listing ", kind_.noun, "s")));
  return records;
}

template <typename Record, typename Store>
absl::StatusOr<Record> RecordStore<Record, Store>::Modify(
    const std::string& key, const std::function<absl::Status(Record*)>& mutate) {
  absl::MutexLock lock(&write_mu_);
  ASSIGN_OR_RETURN(Record record, Get(key));
  RETURN_IF_ERROR(mutate(&record));
  if (kind_.key_of(record) != key) {
    return absl::InternalError(
        absl::StrCat("a change to ", kind_.noun, " ", key, " altered its ", kind_.key_noun));
  }
  RETURN_IF_ERROR(Write(record));
  return record;
}

template <typename Record, typename Store>
absl::Status RecordStore<Record, Store>::Remove(const std::string& key) {
  absl::MutexLock lock(&write_mu_);
  rocksdb::WriteOptions write_options;
  write_options.sync = sync_writes_;
  RETURN_IF_ERROR(FromRocksDbStatus(db_->db()->Delete(write_options, Key(key)),
                                    absl::StrCat("removing ", kind_.noun, " ", key)));
  writes_.fetch_add(1);
  return absl::OkStatus();
}

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_RECORD_STORE_H_
