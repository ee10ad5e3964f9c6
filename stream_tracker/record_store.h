// RecordStore<Record, Store>: what the tracker's record stores share (MappingStore, FunctionStore):
// a durable set of protobuf records of one kind, keyed by a string, under "<noun>/<key>", in key
// order (bytewise). A key never holds '/', so the prefix scan is exact.
//
// Where the bytes live is a RecordBackend (record_backend.h): the tracker's RocksDB database
// (tracker_db.h; Open, Create(db, options)), or etcd in cluster mode (Create(backend),
// etcd_record_backend.h), where several tracker replicas share the records.
//
// Each change is one write, acknowledged only after the backend accepted it: on RocksDB with the
// WAL on, so a record survives kill -9 of the process (with `sync_writes` it also survives power
// loss); on etcd once the cluster committed it.
//
// Thread-safe. Reads go straight to the backend; Insert/Modify/Remove are serialized by an
// internal mutex. Modify is an atomic read-modify-write against every other change, also another
// process's on a shared backend: its write is conditional on the record being unchanged since it
// was read, and when another writer got there first it reads again and calls `mutate` again on
// the newer record (so `mutate` must compute its change from the record it is given).
//
// Each store derives from it, names itself (so that Open and Create make one) and says what its
// records are (RecordStore::Kind):
//   class MappingStore final : public RecordStore<MappingRecord, MappingStore> {
//    private:
//     friend class RecordStore<MappingRecord, MappingStore>;
//     MappingStore(std::shared_ptr<RecordBackend> backend)
//         : RecordStore(std::move(backend), {"mapping", "uuid", "event source mapping", &UuidOf})
//         {}
//   };
#ifndef TRIBUTARY_STREAM_TRACKER_RECORD_STORE_H_
#define TRIBUTARY_STREAM_TRACKER_RECORD_STORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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
#include "stream_tracker/record_backend.h"
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
    // Optional: a uniqueness key the record holds ("" for none), a store key outside "<noun>/";
    // no two records hold the same one, also across processes on a shared backend (the claim
    // changes hands in the record's own write: RecordBackend::PutClaiming). Insert and Modify
    // refuse a record whose claim another record holds with ALREADY_EXISTS, saying
    // claim_taken(record, key of the holder).
    std::string (*claim_of)(const Record&) = nullptr;
    std::string (*claim_taken)(const Record&, absl::string_view holder_key) = nullptr;
  };

  // Opens (or creates) the tracker's database in directory `path` (OpenTrackerDb) and a store
  // over it. Errors: INTERNAL/DATA_LOSS/UNAVAILABLE from RocksDB (e.g. another process holds the
  // directory), naming the path.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     const Options& options = {});
  // A store over a database already open (OpenTrackerDb), shared with the other stores;
  // `options.env` is not used (the database was opened with its own).
  static std::unique_ptr<Store> Create(std::shared_ptr<RocksDb> db, const Options& options) {
    return Create(std::make_shared<RocksDbRecordBackend>(std::move(db), options.sync_writes));
  }
  // A store over `backend` (e.g. etcd), which other stores may share (their key prefixes differ).
  static std::unique_ptr<Store> Create(std::shared_ptr<RecordBackend> backend) {
    return std::unique_ptr<Store>(new Store(std::move(backend)));
  }

  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  // Adds a new record keyed by kind.key_of(record). Errors: INVALID_ARGUMENT for an empty key;
  // ALREADY_EXISTS when the key is taken ("<entity> <key> already exists"); the backend's.
  absl::Status Insert(const Record& record);

  // The record `key`. Errors: NOT_FOUND ("<entity> <key> not found"); DATA_LOSS when the stored
  // record does not parse; the backend's.
  absl::StatusOr<Record> Get(const std::string& key) const;

  // Up to `limit` records (0 = no limit) with a key > `after`, in key order. Errors: DATA_LOSS for
  // a record that does not parse; the backend's.
  absl::StatusOr<std::vector<Record>> List(const std::string& after = "", size_t limit = 0) const;

  // Atomically reads record `key`, lets `mutate` change it, and writes the result. When `mutate`
  // returns an error nothing is written and that error is returned. `mutate` must not change the
  // key (INTERNAL if it does) and must not call back into this store; it may be called again on
  // a newer record when another writer changed it meanwhile (see above). Returns the record as
  // written. Errors: NOT_FOUND; `mutate`'s error; ABORTED when other writers changed the record
  // kMaxModifyAttempts times in a row; the backend's.
  absl::StatusOr<Record> Modify(const std::string& key,
                                const std::function<absl::Status(Record*)>& mutate);

  // Removes record `key`. Idempotent: removing a missing record is OK.
  absl::Status Remove(const std::string& key);

  // Writes accepted since the store was made (Insert, Modify, Remove): lets tests check that a
  // pass which changes nothing writes nothing.
  int64_t writes() const { return writes_.load(); }

  static constexpr int kMaxModifyAttempts = 100;

 protected:
  RecordStore(std::shared_ptr<RecordBackend> backend, const Kind& kind)
      : backend_(std::move(backend)), kind_(kind), prefix_(absl::StrCat(kind.noun, "/")) {}
  ~RecordStore() = default;

 private:
  std::string Key(absl::string_view key) const { return absl::StrCat(prefix_, key); }
  absl::StatusOr<Record> Parse(absl::string_view db_key, const std::string& value) const;
  absl::StatusOr<std::string> Serialize(const Record& record) const;
  std::string ClaimOf(const Record& record) const {
    return kind_.claim_of == nullptr ? "" : kind_.claim_of(record);
  }
  // Writes `record` (`value`) at `key` if still at `expected_revision`, moving the claim from
  // `old_claim` to the record's. Returns whether written (false: the record changed); errors:
  // ALREADY_EXISTS when the claim is held by another record; the backend's.
  absl::StatusOr<bool> PutWithClaim(const std::string& key, const Record& record,
                                    const std::string& value, int64_t expected_revision,
                                    const std::string& old_claim);
  // The record `key` and its revision.
  absl::StatusOr<std::pair<Record, int64_t>> GetVersioned(const std::string& key) const;

  const std::shared_ptr<RecordBackend> backend_;
  const Kind kind_;
  const std::string prefix_;  // "<noun>/"
  // Serializes this store's changes (held across one small write, never across an RPC to the
  // shard store or leasing); readers do not take it.
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
absl::StatusOr<std::string> RecordStore<Record, Store>::Serialize(const Record& record) const {
  std::string value;
  if (!record.SerializeToString(&value)) {
    return absl::InternalError(absl::StrCat("serializing ", kind_.noun, " ", kind_.key_of(record)));
  }
  return value;
}

template <typename Record, typename Store>
absl::Status RecordStore<Record, Store>::Insert(const Record& record) {
  const std::string& key = kind_.key_of(record);
  if (key.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ", kind_.noun, " record needs a ", kind_.key_noun));
  }
  ASSIGN_OR_RETURN(std::string value, Serialize(record));
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<bool> written = PutWithClaim(key, record, value, /*expected_revision=*/0, "");
  RETURN_IF_ERROR(written.status());
  if (!*written) {
    return absl::AlreadyExistsError(absl::StrCat(kind_.entity, " ", key, " already exists"));
  }
  writes_.fetch_add(1);
  return absl::OkStatus();
}

template <typename Record, typename Store>
absl::StatusOr<std::pair<Record, int64_t>> RecordStore<Record, Store>::GetVersioned(
    const std::string& key) const {
  const std::string db_key = Key(key);
  absl::StatusOr<std::optional<StoredValue>> stored = backend_->Read(db_key);
  RETURN_IF_ERROR(WithContext(stored.status(), "reading ", kind_.noun, " ", key));
  if (!stored->has_value()) {
    return absl::NotFoundError(absl::StrCat(kind_.entity, " ", key, " not found"));
  }
  ASSIGN_OR_RETURN(Record record, Parse(db_key, (*stored)->value));
  return std::make_pair(std::move(record), (*stored)->revision);
}

template <typename Record, typename Store>
absl::StatusOr<Record> RecordStore<Record, Store>::Get(const std::string& key) const {
  ASSIGN_OR_RETURN(auto versioned, GetVersioned(key));
  return std::move(versioned.first);
}

template <typename Record, typename Store>
absl::StatusOr<std::vector<Record>> RecordStore<Record, Store>::List(const std::string& after,
                                                                     size_t limit) const {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> rows =
      backend_->Scan(prefix_, after.empty() ? "" : Key(after), limit);
  RETURN_IF_ERROR(WithContext(rows.status(), "listing ", kind_.noun, "s"));
  std::vector<Record> records;
  records.reserve(rows->size());
  for (const auto& [db_key, value] : *rows) {
    ASSIGN_OR_RETURN(Record record, Parse(db_key, value));
    records.push_back(std::move(record));
  }
  return records;
}

template <typename Record, typename Store>
absl::StatusOr<Record> RecordStore<Record, Store>::Modify(
    const std::string& key, const std::function<absl::Status(Record*)>& mutate) {
  absl::MutexLock lock(&write_mu_);
  for (int attempt = 0; attempt < kMaxModifyAttempts; ++attempt) {
    ASSIGN_OR_RETURN(auto versioned, GetVersioned(key));
    Record& record = versioned.first;
    const std::string old_claim = ClaimOf(record);
    RETURN_IF_ERROR(mutate(&record));
    if (kind_.key_of(record) != key) {
      return absl::InternalError(
          absl::StrCat("a change to ", kind_.noun, " ", key, " altered its ", kind_.key_noun));
    }
    ASSIGN_OR_RETURN(std::string value, Serialize(record));
    absl::StatusOr<bool> written = PutWithClaim(key, record, value, versioned.second, old_claim);
    RETURN_IF_ERROR(written.status());
    if (*written) {
      writes_.fetch_add(1);
      return std::move(record);
    }
    // Another writer changed (or removed) the record since it was read: read it again.
  }
  return absl::AbortedError(absl::StrCat(kind_.noun, " ", key, " changed by other writers ",
                                         kMaxModifyAttempts, " times in a row"));
}

template <typename Record, typename Store>
absl::StatusOr<bool> RecordStore<Record, Store>::PutWithClaim(const std::string& key,
                                                              const Record& record,
                                                              const std::string& value,
                                                              int64_t expected_revision,
                                                              const std::string& old_claim) {
  const std::string new_claim = ClaimOf(record);
  if (new_claim == old_claim) {
    absl::StatusOr<bool> written = backend_->Put(Key(key), value, expected_revision);
    RETURN_IF_ERROR(WithContext(written.status(), "writing ", kind_.noun, " ", key));
    return *written;
  }
  RecordBackend::Claim claim{new_claim, old_claim, Key(key)};
  std::string holder;
  absl::StatusOr<RecordBackend::ClaimedPut> put =
      backend_->PutClaiming(Key(key), value, expected_revision, claim, &holder);
  RETURN_IF_ERROR(WithContext(put.status(), "writing ", kind_.noun, " ", key));
  switch (*put) {
    case RecordBackend::ClaimedPut::kWritten:
      return true;
    case RecordBackend::ClaimedPut::kRecordChanged:
      return false;
    case RecordBackend::ClaimedPut::kTaken:
      break;
  }
  return absl::AlreadyExistsError(kind_.claim_taken != nullptr
                                      ? kind_.claim_taken(record, holder)
                                      : absl::StrCat(new_claim, " is held by ", holder));
}

template <typename Record, typename Store>
absl::Status RecordStore<Record, Store>::Remove(const std::string& key) {
  absl::MutexLock lock(&write_mu_);
  RETURN_IF_ERROR(WithContext(backend_->Delete(Key(key)), "removing ", kind_.noun, " ", key));
  writes_.fetch_add(1);
  return absl::OkStatus();
}

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_RECORD_STORE_H_
