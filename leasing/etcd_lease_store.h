// A LeaseStore in etcd: the lease table's rows in cluster mode (issue 19), behind the same seam
// as RocksDbLeaseStore, so the lease table and its tests are the same over both.
//
// Layout, under `prefix` (default "/tributary/leasing/"); ids are percent-escaped ('%', '/' and
// bytes outside printable ASCII become %XX) so that keys stay readable with etcdctl:
//   <prefix>leases/<mapping uuid>/<shard id>   leasing.storage.StoredLease without the uuid and
//                                              shard id (the key has them; rows written before
//                                              issue 19's compact encoding have them, and load)
//   <prefix>pollers/<poller id>                leasing.storage.StoredPoller
//   <prefix>writers/<writer>                   the marker of this writer's last Txn
// The keys grow with leases and pollers, never with time (etcd's auto-compaction drops old
// revisions: NOTES.md).
//
// Writes. Each LeaseStoreWrite is one etcd Txn, so it is atomic like a RocksDB WriteBatch. It is
// fenced by compare: every row it puts or deletes must still be at the mod_revision this store
// last saw for it (read by Load, or written by this store; 0 for a row that does not exist). So a
// replica whose rows another writer changed since it read them cannot overwrite them: its write
// fails by compare, never by luck. Example: replica A loads lease L at revision 7; replica B
// loads, grants L (revision 9); A's checkpoint of L compares "mod_revision(L) == 7", fails, and A
// turns stale. A checkpoint of many leases (the table's group commit) is one Txn with one compare
// per lease. A Txn that timed out or whose member died is retried; a retry whose compares fail
// because the earlier attempt was applied recognises its own write (the writer's marker key,
// etcd_client.h) and succeeds.
//
// Stale. Once a write failed by compare, or a write whose outcome was unknown after every retry
// turned out applied, the lease table's memory no longer matches etcd: every later Write fails
// with ABORTED (nothing written) until Load() reads everything again, and `on_stale` is called
// once (the leasing server exits so that a restart reloads).
//
// Shared (options.shared; cluster mode with several leasing replicas over one prefix, issue 19).
// Then a failed compare is a conflict, not staleness: the write passes a Barrier (the watch,
// below, has brought every change up to then), fails with LeaseStoreConflictError
// (nothing written), and those rows come out of the next TakeExternalChanges, after which a
// write computed from them passes. (Until issue 19's profile the failure branch read the
// compared rows back: a Get per row in every Txn, and only the compared rows.)
// A watch on the prefix (a thread, from Load's revision + 1, watched again after a break, the
// whole prefix read again when etcd compacted past it) brings every other writer's changes the
// same way, so each replica's table follows the others' heartbeats, grants and checkpoints
// within the watch's delay. A change is handed out once, and only when newer (mod_revision) than
// what this store already has for the row: its own writes, earlier events.
//
// Thread-safe. Writes are serialized, holding the store's lock across the etcd call (the lease
// table already holds its own lock across Write; the revisions a Txn compares must be those of
// the write before it).
#ifndef TRIBUTARY_LEASING_ETCD_LEASE_STORE_H_
#define TRIBUTARY_LEASING_ETCD_LEASE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "etcd/etcd_client.h"
#include "leasing/lease_store.h"

namespace tributary::leasing {

struct EtcdLeaseStoreOptions {
  // Every key of the lease table starts with this; it ends with '/'. One lease table per prefix.
  std::string prefix = "/tributary/leasing/";
  // This writer's name: its marker key is <prefix>writers/<writer>. Not empty.
  std::string writer = "leasing";
  // Called once, from the writing thread, when the store turns stale (see the file comment),
  // with the reason. May be empty.
  std::function<void(const absl::Status&)> on_stale;
  // Several writers (leasing replicas) under this prefix: conflicts and a watch instead of
  // staleness (see the file comment). Each writer then needs a `writer` of its own.
  bool shared = false;
  // > 0: poller liveness as etcd leases (KeepsLiveness; issue 19). Each registered poller has an
  // etcd lease of this TTL (the table's lease duration; whole seconds, etcd's minimum ~2 s) with
  // its liveness key <prefix>live/<id> attached. A write that puts or renews a poller (a
  // register, a heartbeat) sends a keepalive, no Txn; when the lease is gone (expired) it grants
  // a new one and puts the key in a Txn that compares the poller's row (still registered). A
  // deregistration deletes the key in its Txn and revokes the lease. A takeover of a lease whose
  // owner is in check_pollers compares that owner's liveness key absent (version 0). Every
  // replica learns of a key's deletion (expiry) from the watch: that poller is dead at once. Load
  // renews every live poller's lease once (the restart grace: a full TTL from the open). A
  // heartbeat within ttl/6 of this store's last keepalive of the same lease sends none.
  // Requires `shared` (the watch). 0: liveness from heartbeats that write poller rows.
  absl::Duration poller_liveness_ttl = absl::ZeroDuration();
};

class EtcdLeaseStore : public LeaseStore {
 public:
  // A store over `client`, which must outlive it. Sends nothing. Errors: INVALID_ARGUMENT for a
  // prefix that does not end with '/' or an empty writer.
  static absl::StatusOr<std::unique_ptr<EtcdLeaseStore>> Create(etcd::EtcdClient& client,
                                                                EtcdLeaseStoreOptions options);

  // Applies `write` as one Txn (`sync` is ignored: etcd fsyncs every write). Errors: ABORTED
  // when a row changed since this store read it (nothing written; the store is stale from now
  // on) or the store is stale; UNAVAILABLE / DEADLINE_EXCEEDED when etcd did not answer within
  // the client's operation timeout and the write was not applied (had it been, the store turns
  // stale and the error says so); INVALID_ARGUMENT when etcd refuses the Txn (more operations
  // than its --max-txn-ops, a request over --max-request-bytes); RESOURCE_EXHAUSTED when etcd is
  // over its space quota.
  absl::Status Write(const LeaseStoreWrite& write) override;

  // Reads every row at one revision and remembers each row's mod_revision; clears staleness.
  // What a table being (re)built calls: a live table whose store reloads beneath it would write
  // rows computed from what it held before, past the compares. Errors: DATA_LOSS for a row that
  // does not decode or holds another lease or poller than its key says; the client's.
  absl::StatusOr<LeaseStoreContents> Load() override;

  // Shared: the rows other writers changed, from the watch and from conflicts (lease_store.h).
  // Not shared: none.
  LeaseStoreWrite TakeExternalChanges() override;
  // Shared: puts this writer's barrier key (<prefix>barriers/<writer>) and waits, up to the
  // client's operation timeout, until the watch has brought that put (so every change before
  // it). Errors: the client's; DEADLINE_EXCEEDED when the watch did not get there in time.
  absl::StatusOr<bool> Barrier() override;

  // Stops the watch (shared).
  ~EtcdLeaseStore() override;

  // Whether writes are refused until the next Load.
  bool stale();

  bool KeepsLiveness() const override {
    return options_.poller_liveness_ttl > absl::ZeroDuration();
  }

  // The etcd lease the poller's liveness key is attached to, as this store last saw it (tests,
  // benchmarks: revoking it is the poller's expiry). Errors: NOT_FOUND when none is known.
  absl::StatusOr<int64_t> LivenessLeaseOf(const std::string& poller_id);

  // The etcd keys of a lease and a poller row (tests).
  std::string LeaseKeyOf(const LeaseKey& key) const;
  std::string PollerKeyOf(const std::string& poller_id) const;
  std::string LivenessKeyOf(const std::string& poller_id) const;

 private:
  EtcdLeaseStore(etcd::EtcdClient& client, EtcdLeaseStoreOptions options);
  // What this store knows of a row: the revision of its last change it saw, and whether that
  // left it in place (a put) or not (a delete). Absent: nothing known (revision 0).
  struct RowState {
    int64_t revision = 0;
    bool exists = false;
  };
  // Starts the watch from `revision` (shared), stopping an earlier one.
  void Follow(int64_t revision) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StopFollowing() ABSL_LOCKS_EXCLUDED(follow_mu_);
  void FollowLoop(int64_t revision);
  // Parses a row key back: a lease key or a poller id. False for other keys (markers).
  bool ParseLeaseKey(absl::string_view key, LeaseKey* out) const;
  bool ParsePollerKey(absl::string_view key, std::string* out) const;
  bool ParseLivenessKey(absl::string_view key, std::string* out) const;
  // Liveness: renews (keepalive) the liveness of every poller `write` puts or renews; adds to
  // `txn` what those whose lease is gone need (a new lease each, in `granted`), the deletion of
  // deregistered pollers' keys, and the absence compares of check_pollers. Errors: the
  // client's (nothing written; leases granted so far are in `granted`).
  absl::Status StageLiveness(const LeaseStoreWrite& write, etcd::Txn* txn,
                             std::vector<std::pair<std::string, int64_t>>* granted)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Refuses writes from now on with `why` (ABORTED) and tells on_stale; returns the error.
  absl::Status MarkStale(absl::Status why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  etcd::EtcdClient& client_;
  const EtcdLeaseStoreOptions options_;
  const std::string marker_key_;
  const std::string barrier_key_;

  absl::Mutex mu_;
  // Every row as this store last saw it (Load, its writes, changes it handed out). Rows
  // deleted stay as tombstones (so that an older put seen later is not taken for news) until
  // the next Load: they grow with the leases and pollers deleted while this replica runs.
  absl::flat_hash_map<std::string, RowState> rows_ ABSL_GUARDED_BY(mu_);
  absl::Status stale_ ABSL_GUARDED_BY(mu_);  // not OK while stale
  // Liveness: poller id → the etcd lease of its liveness key, as last seen (Load, own writes,
  // changes handed out). Absent: no key known.
  absl::flat_hash_map<std::string, int64_t> liveness_leases_ ABSL_GUARDED_BY(mu_);
  // Liveness: poller id → the etcd lease of its last keepalive through this store and when it
  // was sent. A heartbeat within ttl/6 of it on the same lease sends none (issue 19: keepalives
  // were one round trip per heartbeat under the table's lock).
  absl::flat_hash_map<std::string, std::pair<int64_t, MonotonicTime>> last_keepalive_
      ABSL_GUARDED_BY(mu_);

  // The watch's side (shared). Lock order: mu_, then follow_mu_.
  absl::Mutex follow_mu_ ABSL_ACQUIRED_AFTER(mu_);
  // Changes seen and not yet handed out, in arrival order (events, and rows read again after a
  // compaction).
  std::vector<etcd::WatchEvent> pending_ ABSL_GUARDED_BY(follow_mu_);
  // After a compaction: the keys present in the prefix at `resync_revision_`; a row known
  // before and absent there was deleted.
  std::optional<std::vector<std::string>> resync_keys_ ABSL_GUARDED_BY(follow_mu_);
  int64_t resync_revision_ ABSL_GUARDED_BY(follow_mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(follow_mu_) = false;
  // The revision up to which every change is in pending_ (or was handed out).
  int64_t seen_revision_ ABSL_GUARDED_BY(follow_mu_) = 0;
  etcd::EtcdWatch* watch_ ABSL_GUARDED_BY(follow_mu_) = nullptr;  // while the loop waits on it
  std::thread follower_;  // started and joined holding mu_ (Load, destructor)
};

}  // namespace tributary::leasing

#endif  // TRIBUTARY_LEASING_ETCD_LEASE_STORE_H_
