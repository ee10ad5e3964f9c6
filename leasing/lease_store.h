// The lease table's persistent rows and where they are kept.
//
// LeaseStore is the seam between the lease table's logic and its storage: RocksDbLeaseStore is the
// real one; tests wrap it (leasing/testing/failing_lease_store.h) to make writes fail. A store
// applies each LeaseStoreWrite atomically (all of it or none of it), which is what lets the lease
// table make every state change one atomic write.
#ifndef TRIBUTARY_LEASING_LEASE_STORE_H_
#define TRIBUTARY_LEASING_LEASE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/rocksdb_util.h"
#include "leasing/lease_key.h"

namespace tributary::leasing {

// The values match tributary.v1.CheckpointType.
enum class CheckpointType {
  kSequenceNumber = 1,  // `sequence_number` and every record before it are processed
  kTrimHorizon = 2,     // initial: start at the oldest retained record
  kLatest = 3,          // initial: start at the tip
  kAtTimestamp = 4,     // initial: start at `timestamp`
  kShardEnd = 5,        // the shard is closed and every record is processed; final
};

struct Checkpoint {
  CheckpointType type = CheckpointType::kTrimHorizon;
  uint64_t sequence_number = 0;              // with kSequenceNumber
  absl::Time timestamp = absl::UnixEpoch();  // with kAtTimestamp

  friend bool operator==(const Checkpoint& a, const Checkpoint& b) {
    return a.type == b.type && a.sequence_number == b.sequence_number && a.timestamp == b.timestamp;
  }
};

// The persisted part of a lease.
struct LeaseRecord {
  LeaseKey key;
  std::string stream_name;
  std::string owner;  // poller id; empty when unowned
  int64_t lease_counter = 0;
  Checkpoint checkpoint;
  std::vector<std::string> parent_shard_ids;
  std::vector<std::string> child_shard_ids;
  int64_t owner_switches_since_checkpoint = 0;
  bool enabled = true;
  // When the lease was last granted to a poller (the minimum hold time counts from here).
  absl::Time moved_at = absl::InfinitePast();
};

// The persisted part of a poller.
struct PollerRecord {
  std::string poller_id;
  int capacity = 1;
  absl::Time last_heartbeat = absl::InfinitePast();
};

// One atomic change: every put and delete happens, or none.
struct LeaseStoreWrite {
  std::vector<LeaseRecord> put_leases;
  std::vector<LeaseKey> delete_leases;
  std::vector<PollerRecord> put_pollers;
  std::vector<std::string> delete_pollers;
  // Heartbeats: pollers whose liveness the write renews. A store that keeps liveness itself
  // (KeepsLiveness: etcd leases) renews it without writing the row (the row's last_heartbeat is
  // then not stored); others write these rows like put_pollers.
  std::vector<PollerRecord> renew_pollers;
  // Poller rows the write must find as the store last saw them, though it does not write them
  // (a shared store compares them, e.g. the previous owner of an expired lease taken over: a
  // heartbeat through another replica makes the takeover conflict). Others ignore it.
  std::vector<std::string> check_pollers;
  // fsync the write-ahead log before returning (survives power loss; without it a write survives
  // a process crash, kill -9 included, but maybe not a machine crash).
  bool sync = false;
  // Only in TakeExternalChanges of a store that KeepsLiveness: pollers whose liveness appeared
  // (live) or ended (dead: expired, revoked or deregistered) since the last call, each at its
  // latest state (a poller is in at most one of them).
  std::vector<std::string> live_pollers;
  std::vector<std::string> dead_pollers;

  bool empty() const {
    return put_leases.empty() && delete_leases.empty() && put_pollers.empty() &&
           delete_pollers.empty() && renew_pollers.empty() && live_pollers.empty() &&
           dead_pollers.empty();
  }
};

// Everything a store holds, as read at open.
struct LeaseStoreContents {
  std::vector<LeaseRecord> leases;
  std::vector<PollerRecord> pollers;
  // A store that KeepsLiveness: the pollers live at the read (the others are dead).
  std::vector<std::string> live_pollers;
};

// Where lease rows live. Implementations are thread-safe.
//
// Shared stores (cluster mode, issue 19: several leasing replicas over one etcd). Other writers
// may change rows too. Such a store refuses a write computed from rows another writer changed
// (a conflict, IsLeaseStoreConflict: nothing written) and hands the rows others changed to the
// table through TakeExternalChanges, which the table calls, holding its lock, before each call
// and after a conflict (then it computes the call again). A store of one writer (RocksDB) never
// conflicts and has no external changes.
class LeaseStore {
 public:
  virtual ~LeaseStore() = default;

  // Applies `write` atomically. On error nothing was applied. Errors: those of the storage
  // (INTERNAL, RESOURCE_EXHAUSTED when the disk is full, UNAVAILABLE); for a shared store,
  // ABORTED with IsLeaseStoreConflict when a row it writes was changed by another writer since
  // this store last handed it out (by Load or TakeExternalChanges).
  virtual absl::Status Write(const LeaseStoreWrite& write) = 0;

  // Reads every lease and poller. Errors: DATA_LOSS for a row that does not decode, and those
  // of the storage.
  virtual absl::StatusOr<LeaseStoreContents> Load() = 0;

  // The rows other writers changed since this store last handed them out (Load, an earlier
  // call, or its own writes), each at its latest known state: a put row whole, a deleted one by
  // key (`sync` unused). From then on this store's writes compare against those rows. The
  // caller applies them to what it holds before it computes its next write. Default: none.
  virtual LeaseStoreWrite TakeExternalChanges() { return {}; }

  // Shared: waits until every change other writers made before this call is available to
  // TakeExternalChanges, and returns true. What a table calls before it refuses a call from
  // what it holds (a lease it does not know, an owner or counter that does not match), which
  // may be another replica's newer change not yet seen here. Not shared: returns false at once.
  // Errors: the storage's (the refusal then stands).
  virtual absl::StatusOr<bool> Barrier() { return false; }

  // Whether the store decides which pollers are live (etcd: a poller is live while its liveness
  // key, attached to an etcd lease of TTL = the lease duration, exists; every replica sees its
  // expiry at once). Then a poller is live exactly while the store says so: Load's
  // live_pollers, then TakeExternalChanges' live_pollers / dead_pollers, and after a successful
  // Write every poller it puts or renews is live. Otherwise (RocksDB, the default) the table
  // measures liveness from heartbeats on its own clock.
  virtual bool KeepsLiveness() const { return false; }
};

// The error of a shared store's write that lost to another writer (see LeaseStore): ABORTED
// with a payload that IsLeaseStoreConflict recognises.
absl::Status LeaseStoreConflictError(absl::string_view message);
bool IsLeaseStoreConflict(const absl::Status& status);

// A LeaseStore in a RocksDB database of its own (column families "leases" and "pollers"). A
// lease's key is its mapping uuid (length-prefixed) then its shard id, so a mapping's leases are
// one key range; a value is a leasing.storage.StoredLease / StoredPoller protobuf. Thread-safe.
class RocksDbLeaseStore : public LeaseStore {
 public:
  // Opens or creates the database in directory `path`. `env`: the file system RocksDB goes
  // through (tests, e.g. common/testing/power_loss_fs.h; null = the default); it must outlive
  // the store. Errors: those of RocksDb::Open.
  static absl::StatusOr<std::unique_ptr<RocksDbLeaseStore>> Open(const std::string& path,
                                                                 rocksdb::Env* env = nullptr);

  absl::Status Write(const LeaseStoreWrite& write) override;
  absl::StatusOr<LeaseStoreContents> Load() override;

 private:
  explicit RocksDbLeaseStore(std::unique_ptr<RocksDb> db) : db_(std::move(db)) {}

  std::unique_ptr<RocksDb> db_;
};

}  // namespace tributary::leasing

#endif  // TRIBUTARY_LEASING_LEASE_STORE_H_
