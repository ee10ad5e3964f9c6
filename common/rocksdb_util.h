// RocksDB helpers: the one conversion of rocksdb::Status to absl::Status, and
// opening a database with named column families and Tributary's options.
#ifndef TRIBUTARY_COMMON_ROCKSDB_UTIL_H_
#define TRIBUTARY_COMMON_ROCKSDB_UTIL_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"

namespace tributary {

// Maps a RocksDB status: NotFound → NOT_FOUND, Corruption → DATA_LOSS, out of
// space → RESOURCE_EXHAUSTED, Busy/TryAgain/ShutdownInProgress → UNAVAILABLE,
// anything else → INTERNAL. `context` is prepended to the message ("writing
// records: ...").
absl::Status FromRocksDbStatus(const rocksdb::Status& status, absl::string_view context);

struct RocksDbOptions {
  // Create the directory and database when missing.
  bool create_if_missing = true;
  // Block cache shared by every column family, in bytes.
  size_t block_cache_bytes = 64 << 20;
  // Memtable size per column family, in bytes.
  size_t write_buffer_bytes = 64 << 20;
  // LZ4 where available; off for incompressible payloads.
  bool compression = false;
  // Background compaction/flush threads.
  int background_jobs = 2;
  // Column family name → the key prefix under which its memtable keeps an
  // insert hint (RocksDB's memtable_insert_with_hint_prefix_extractor): a key
  // that follows the last one written under its prefix is inserted next to it
  // instead of by a search from the top of the skiplist. For families whose
  // keys grow within each prefix (a log per prefix). RocksDB ignores hints
  // with concurrent memtable writes, so a non-empty map turns them off for the
  // whole database (the write group's leader inserts). Caution (RocksDB 7.8):
  // the hint is also applied to DeleteRange tombstones whose begin key is in
  // the transform's domain, which corrupts the memtable; keep range-delete
  // begin keys out of the domain.
  std::map<std::string, std::shared_ptr<const rocksdb::SliceTransform>> memtable_insert_hints;
  // The Env (file system) the database goes through; null = RocksDB's default. Not owned: it
  // must outlive the database. For tests (common/testing/power_loss_fs.h simulates power loss).
  rocksdb::Env* env = nullptr;
};

// An open RocksDB database with its column families. Thread-safe as rocksdb::DB
// is. Closing (destruction) does not flush memtables: recovery relies on the
// WAL, as after a crash.
class RocksDb {
 public:
  // Opens (or creates) the database at `path` with `column_families` (the
  // default column family is always opened and need not be listed). Column
  // families missing on disk are created. Errors:
  // INTERNAL/DATA_LOSS/UNAVAILABLE from RocksDB, with the path in the message.
  static absl::StatusOr<std::unique_ptr<RocksDb>> Open(
      const std::string& path, const std::vector<std::string>& column_families,
      const RocksDbOptions& options = RocksDbOptions());

  ~RocksDb();
  RocksDb(const RocksDb&) = delete;
  RocksDb& operator=(const RocksDb&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  // The handle of a column family given to Open, or the default one for
  // "default". Precondition (CHECKed): the name was given to Open.
  rocksdb::ColumnFamilyHandle* Handle(absl::string_view name) const;
  const std::string& path() const { return path_; }

 private:
  RocksDb(std::string path, std::unique_ptr<rocksdb::DB> db, std::vector<std::string> names,
          std::vector<rocksdb::ColumnFamilyHandle*> handles);

  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<std::string> names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_ROCKSDB_UTIL_H_
