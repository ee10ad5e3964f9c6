// RecordBackend: where the tracker's record stores (record_store.h) keep their bytes — the seam
// between the stores' rules (keys, ALREADY_EXISTS, atomic Modify) and the storage: RocksDB in the
// tracker's database (RocksDbRecordBackend, here: the embedded default), or etcd in cluster mode
// (etcd_record_backend.h, issue 19). Keys are the stores' full keys ("mapping/<uuid>"); values
// are opaque bytes.
//
// Conditional writes. Every value read carries a revision; Put writes only if the key is still at
// the revision the caller read (0: the key must be absent), so that a read-modify-write is
// atomic against every other writer, also in another process (etcd). RocksDB has one writer (its
// process holds the database's lock, and RecordStore serializes its writes), so its revision is
// simply 1 for every present key.
//
// Thread-safe.
#ifndef TRIBUTARY_STREAM_TRACKER_RECORD_BACKEND_H_
#define TRIBUTARY_STREAM_TRACKER_RECORD_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/rocksdb_util.h"

namespace tributary::stream_tracker {

struct StoredValue {
  std::string value;
  int64_t revision = 0;  // > 0; what Put compares
};

class RecordBackend {
 public:
  virtual ~RecordBackend() = default;

  // The value at `key`, nullopt when absent. Errors: the storage's (no context added).
  virtual absl::StatusOr<std::optional<StoredValue>> Read(const std::string& key) = 0;

  // Up to `limit` (0 = no limit) (key, value) pairs whose key starts with `prefix` and is
  // greater than `after` (a full key; empty: from the start), in bytewise key order.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(
      const std::string& prefix, const std::string& after, size_t limit) = 0;

  // Writes `value` at `key` if the key is still at `expected_revision` (0: absent). Returns
  // false, writing nothing, when it is not (another writer got there first). Errors: the
  // storage's; for etcd also UNAVAILABLE / DEADLINE_EXCEEDED when the outcome stayed unknown.
  virtual absl::StatusOr<bool> Put(const std::string& key, const std::string& value,
                                   int64_t expected_revision) = 0;

  // Deletes `key`; a missing key is OK.
  virtual absl::Status Delete(const std::string& key) = 0;

  // A uniqueness key that changes hands with a record (e.g. "one mapping per function and
  // stream", issue 19): `take` (empty: none) must be free and becomes `owner`'s; `release`
  // (empty: none) is given up. Keys are store keys like the records' ("mapping-unique/...").
  struct Claim {
    std::string take;
    std::string release;
    std::string owner;  // what `take` holds: the record's key
  };
  enum class ClaimedPut { kWritten, kRecordChanged, kTaken };
  // Put, plus `claim` in the same atomic write: writes only if the record is at
  // `expected_revision` AND `claim.take` is free (then it holds `claim.owner`, and
  // `claim.release` is deleted). kRecordChanged: the record was not at `expected_revision`
  // (read again); kTaken: `claim.take` is held, by `*holder`. Default (one process, whose
  // callers serialize their checks, as RocksDB's): Put, ignoring the claim.
  virtual absl::StatusOr<ClaimedPut> PutClaiming(const std::string& key, const std::string& value,
                                                 int64_t expected_revision, const Claim& /*claim*/,
                                                 std::string* /*holder*/) {
    absl::StatusOr<bool> written = Put(key, value, expected_revision);
    if (!written.ok()) return written.status();
    return *written ? ClaimedPut::kWritten : ClaimedPut::kRecordChanged;
  }
};

// Over the tracker's RocksDB database (tracker_db.h), shared with other backends of the same
// database. `sync_writes`: fsync every write (power-loss durability). Put's revision check
// assumes RecordStore serializes this backend's writes (it does, under its write lock).
class RocksDbRecordBackend final : public RecordBackend {
 public:
  RocksDbRecordBackend(std::shared_ptr<RocksDb> db, bool sync_writes)
      : db_(std::move(db)), sync_writes_(sync_writes) {}

  absl::StatusOr<std::optional<StoredValue>> Read(const std::string& key) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(const std::string& prefix,
                                                                        const std::string& after,
                                                                        size_t limit) override;
  absl::StatusOr<bool> Put(const std::string& key, const std::string& value,
                           int64_t expected_revision) override;
  absl::Status Delete(const std::string& key) override;

 private:
  const std::shared_ptr<RocksDb> db_;
  const bool sync_writes_;
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_RECORD_BACKEND_H_
