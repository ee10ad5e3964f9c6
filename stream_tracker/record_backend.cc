#include "stream_tracker/record_backend.h"

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "rocksdb/iterator.h"

namespace tributary::stream_tracker {
namespace {

// "rocksdb: <what RocksDB said>" with FromRocksDbStatus's code; RecordStore adds the context.
absl::Status Rocks(const rocksdb::Status& status) {
  absl::Status s = FromRocksDbStatus(status, "");
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StripPrefix(s.message(), ": "));
}

}  // namespace

absl::StatusOr<std::optional<StoredValue>> RocksDbRecordBackend::Read(const std::string& key) {
  std::string value;
  rocksdb::Status s = db_->db()->Get(rocksdb::ReadOptions(), key, &value);
  if (s.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(Rocks(s));
  return StoredValue{std::move(value), 1};
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> RocksDbRecordBackend::Scan(
    const std::string& prefix, const std::string& after, size_t limit) {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions()));
  const std::string& start = after.empty() ? prefix : after;
  for (it->Seek(start); it->Valid(); it->Next()) {
    absl::string_view key(it->key().data(), it->key().size());
    if (!absl::StartsWith(key, prefix)) break;
    if (!after.empty() && key == after) continue;  // exclusive
    out.emplace_back(std::string(key), it->value().ToString());
    if (limit != 0 && out.size() >= limit) break;
  }
  RETURN_IF_ERROR(Rocks(it->status()));
  return out;
}

absl::StatusOr<bool> RocksDbRecordBackend::Put(const std::string& key, const std::string& value,
                                               int64_t expected_revision) {
  ASSIGN_OR_RETURN(std::optional<StoredValue> current, Read(key));
  if (current.has_value() != (expected_revision != 0)) return false;
  rocksdb::WriteOptions write_options;
  write_options.sync = sync_writes_;
  RETURN_IF_ERROR(Rocks(db_->db()->Put(write_options, key, value)));
  return true;
}

absl::Status RocksDbRecordBackend::Delete(const std::string& key) {
  rocksdb::WriteOptions write_options;
  write_options.sync = sync_writes_;
  return Rocks(db_->db()->Delete(write_options, key));
}

}  // namespace tributary::stream_tracker
