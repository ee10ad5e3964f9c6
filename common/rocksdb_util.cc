#include "common/rocksdb_util.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "rocksdb/table.h"

namespace tributary {

absl::Status FromRocksDbStatus(const rocksdb::Status& status, absl::string_view context) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(context, ": rocksdb: ", status.ToString());
  if (status.IsNotFound()) return absl::NotFoundError(message);
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsNoSpace() || status.IsMemoryLimit()) {
    return absl::ResourceExhaustedError(message);
  }
  if (status.IsBusy() || status.IsTryAgain() || status.IsShutdownInProgress() ||
      status.IsTimedOut()) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

absl::StatusOr<std::unique_ptr<RocksDb>> RocksDb::Open(
    const std::string& path, const std::vector<std::string>& column_families,
    const RocksDbOptions& options) {
  if (options.create_if_missing) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("creating data directory ", path, ": ", ec.message()));
    }
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = options.background_jobs;
  if (options.env != nullptr) db_options.env = options.env;
  // Concurrent writers share one WAL write (and one fsync when syncing): group
  // commit.
  db_options.enable_pipelined_write = true;
  if (!options.memtable_insert_hints.empty()) {
    db_options.allow_concurrent_memtable_write = false;
  }

  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.write_buffer_size = options.write_buffer_bytes;
  cf_options.compression = options.compression ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));

  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName};
  for (const std::string& name : column_families) {
    if (name != rocksdb::kDefaultColumnFamilyName) names.push_back(name);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, cf_options);
    auto hint = options.memtable_insert_hints.find(name);
    if (hint != options.memtable_insert_hints.end()) {
      descriptors.back().options.memtable_insert_with_hint_prefix_extractor = hint->second;
    }
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
  if (!status.ok()) return FromRocksDbStatus(status, absl::StrCat("opening ", path));
  return std::unique_ptr<RocksDb>(
      new RocksDb(path, std::unique_ptr<rocksdb::DB>(raw), std::move(names), std::move(handles)));
}

RocksDb::RocksDb(std::string path, std::unique_ptr<rocksdb::DB> db, std::vector<std::string> names,
                 std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : path_(std::move(path)),
      db_(std::move(db)),
      names_(std::move(names)),
      handles_(std::move(handles)) {}

RocksDb::~RocksDb() {
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    rocksdb::Status status = db_->DestroyColumnFamilyHandle(handle);
    if (!status.ok()) LOG(WARNING) << "closing column family: " << status.ToString();
  }
  rocksdb::Status status = db_->Close();
  if (!status.ok()) LOG(WARNING) << "closing " << path_ << ": " << status.ToString();
}

rocksdb::ColumnFamilyHandle* RocksDb::Handle(absl::string_view name) const {
  auto it = std::find(names_.begin(), names_.end(), name);
  CHECK(it != names_.end()) << "column family " << name << " was not opened";
  return handles_[it - names_.begin()];
}

}  // namespace tributary
