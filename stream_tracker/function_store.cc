#include "stream_tracker/function_store.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "rocksdb/iterator.h"
#include "stream_tracker/tracker_db.h"

namespace tributary::stream_tracker {
namespace {

// Keys: "function/<name>" (tracker_db.h). A name never holds '/', so the prefix scan is exact.
constexpr absl::string_view kFunctionPrefix = "function/";

std::string FunctionKey(absl::string_view name) { return absl::StrCat(kFunctionPrefix, name); }

absl::StatusOr<FunctionRecord> Parse(absl::string_view key, const std::string& value) {
  FunctionRecord record;
  if (!record.ParseFromString(value)) {
    return absl::DataLossError(absl::StrCat("function record ", key, " does not parse"));
  }
  return record;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FunctionStore>> FunctionStore::Open(const std::string& path,
                                                                   const Options& options) {
  ASSIGN_OR_RETURN(std::shared_ptr<RocksDb> db, OpenTrackerDb(path, options.env));
  return Create(std::move(db), options);
}

std::unique_ptr<FunctionStore> FunctionStore::Create(std::shared_ptr<RocksDb> db,
                                                     const Options& options) {
  return std::unique_ptr<FunctionStore>(new FunctionStore(std::move(db), options));
}

absl::Status FunctionStore::Write(const FunctionRecord& record) {
  const std::string& name = record.config().function_name();
  std::string value;
  if (!record.SerializeToString(&value)) {
    return absl::InternalError(absl::StrCat("serializing function ", name));
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync_writes;
  RETURN_IF_ERROR(FromRocksDbStatus(db_->db()->Put(write_options, FunctionKey(name), value),
                                    absl::StrCat("writing function ", name)));
  writes_.fetch_add(1);
  return absl::OkStatus();
}

absl::Status FunctionStore::Insert(const FunctionRecord& record) {
  const std::string& name = record.config().function_name();
  if (name.empty()) return absl::InvalidArgumentError("a function record needs a name");
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<FunctionRecord> existing = Get(name);
  if (existing.ok()) return absl::AlreadyExistsError(absl::StrCat("function ", name, " exists"));
  if (!absl::IsNotFound(existing.status())) return existing.status();
  return Write(record);
}

absl::StatusOr<FunctionRecord> FunctionStore::Get(const std::string& name) const {
  std::string value;
  const std::string key = FunctionKey(name);
  rocksdb::Status s = db_->db()->Get(rocksdb::ReadOptions(), key, &value);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("function ", name, " not found"));
  RETURN_IF_ERROR(FromRocksDbStatus(s, absl::StrCat("reading function ", name)));
  return Parse(key, value);
}

absl::StatusOr<std::vector<FunctionRecord>> FunctionStore::List(const std::string& after_name,
                                                                size_t limit) const {
  std::vector<FunctionRecord> records;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions()));
  const std::string start = FunctionKey(after_name);
  for (it->Seek(start); it->Valid(); it->Next()) {
    absl::string_view key(it->key().data(), it->key().size());
    if (!absl::StartsWith(key, kFunctionPrefix)) break;
    if (key == start) continue;  // exclusive
    ASSIGN_OR_RETURN(FunctionRecord record, Parse(key, it->value().ToString()));
    records.push_back(std::move(record));
    if (limit != 0 && records.size() >= limit) break;
  }
  RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "listing functions"));
  return records;
}

absl::StatusOr<FunctionRecord> FunctionStore::Modify(
    const std::string& name, const std::function<absl::Status(FunctionRecord*)>& mutate) {
  absl::MutexLock lock(&write_mu_);
  ASSIGN_OR_RETURN(FunctionRecord record, Get(name));
  RETURN_IF_ERROR(mutate(&record));
  if (record.config().function_name() != name) {
    return absl::InternalError(absl::StrCat("a change to function ", name, " altered its name"));
  }
  RETURN_IF_ERROR(Write(record));
  return record;
}

absl::Status FunctionStore::Remove(const std::string& name) {
  absl::MutexLock lock(&write_mu_);
  rocksdb::WriteOptions write_options;
  write_options.sync = options_.sync_writes;
  RETURN_IF_ERROR(FromRocksDbStatus(db_->db()->Delete(write_options, FunctionKey(name)),
                                    absl::StrCat("removing function ", name)));
  writes_.fetch_add(1);
  return absl::OkStatus();
}

}  // namespace tributary::stream_tracker
