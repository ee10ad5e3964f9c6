#include "stream_tracker/mapping_store.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "rocksdb/iterator.h"
#include "stream_tracker/tracker_db.h"

namespace tributary::stream_tracker {
namespace {

// Keys: "mapping/<uuid>". Other record kinds of the database have their own prefixes
// (tracker_db.h).
constexpr absl::string_view kMappingPrefix = "mapping/";

std::string MappingKey(absl::string_view uuid) { return absl::StrCat(kMappingPrefix, uuid); }

absl::StatusOr<MappingRecord> Parse(absl::string_view key, const std::string& value) {
  MappingRecord record;
  if (!record.ParseFromString(value)) {
    return absl::DataLossError(absl::StrCat("mapping record ", key, " does not parse"));
  }
  return record;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MappingStore>> MappingStore::Open(const std::string& path,
                                                                 const Options& options) {
  ASSIGN_OR_RETURN(std::shared_ptr<RocksDb> db, OpenTrackerDb(path, options.env));
  return Create(std::move(db), options);
}

std::unique_ptr<MappingStore> MappingStore::Create(std::shared_ptr<RocksDb> db,
                                                   const Options& options) {
  return std::unique_ptr<MappingStore>(new MappingStore(std::move(db), options));
}

absl::Status MappingStore::Write(const MappingRecord& record) {
  std::string value;
  if (!record.SerializeToString(&value)) {
    return absl::InternalError(absl::StrCat("serializing mapping ", record.config().uuid()));
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync_writes;
  RETURN_IF_ERROR(
      FromRocksDbStatus(db_->db()->Put(write_options, MappingKey(record.config().uuid()), value),
                        absl::StrCat("writing mapping ", record.config().uuid())));
  writes_.fetch_add(1);
  return absl::OkStatus();
}

absl::Status MappingStore::Insert(const MappingRecord& record) {
  if (record.config().uuid().empty()) {
    return absl::InvalidArgumentError("a mapping record needs a uuid");
  }
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<MappingRecord> existing = Get(record.config().uuid());
  if (existing.ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat("mapping ", record.config().uuid(), " already exists"));
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  return Write(record);
}

absl::StatusOr<MappingRecord> MappingStore::Get(const std::string& uuid) const {
  std::string value;
  const std::string key = MappingKey(uuid);
  rocksdb::Status s = db_->db()->Get(rocksdb::ReadOptions(), key, &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("event source mapping ", uuid, " not found"));
  }
  RETURN_IF_ERROR(FromRocksDbStatus(s, absl::StrCat("reading mapping ", uuid)));
  return Parse(key, value);
}

absl::StatusOr<std::vector<MappingRecord>> MappingStore::List(const std::string& after_uuid,
                                                              size_t limit) const {
  std::vector<MappingRecord> records;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions()));
  const std::string start = MappingKey(after_uuid);
  for (it->Seek(start); it->Valid(); it->Next()) {
    absl::string_view key(it->key().data(), it->key().size());
    if (!absl::StartsWith(key, kMappingPrefix)) break;
    if (key == start) continue;  // exclusive
    ASSIGN_OR_RETURN(MappingRecord record, Parse(key, it->value().ToString()));
    records.push_back(std::move(record));
    if (limit != 0 && records.size() >= limit) break;
  }
  RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "listing mappings"));
  return records;
}

absl::StatusOr<MappingRecord> MappingStore::Modify(
    const std::string& uuid, const std::function<absl::Status(MappingRecord*)>& mutate) {
  absl::MutexLock lock(&write_mu_);
  ASSIGN_OR_RETURN(MappingRecord record, Get(uuid));
  RETURN_IF_ERROR(mutate(&record));
  if (record.config().uuid() != uuid) {
    return absl::InternalError(absl::StrCat("a change to mapping ", uuid, " altered its uuid"));
  }
  RETURN_IF_ERROR(Write(record));
  return record;
}

absl::Status MappingStore::Remove(const std::string& uuid) {
  absl::MutexLock lock(&write_mu_);
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync_writes;
  RETURN_IF_ERROR(FromRocksDbStatus(db_->db()->Delete(write_options, MappingKey(uuid)),
                                    absl::StrCat("removing mapping ", uuid)));
  writes_.fetch_add(1);
  return absl::OkStatus();
}

}  // namespace tributary::stream_tracker
