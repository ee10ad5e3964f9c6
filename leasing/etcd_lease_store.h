// A LeaseStore in etcd: the lease table's rows in cluster mode (issue 19), behind the same seam
// as RocksDbLeaseStore, so the lease table and its tests are the same over both.
//
// Layout, under `prefix` (default "/tributary/leasing/"); ids are percent-escaped ('%', '/' and
// bytes outside printable ASCII become %XX) so that keys stay readable with etcdctl:
//   <prefix>leases/<mapping uuid>/<shard id>   leasing.storage.StoredLease (lease_codec.h)
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
// Thread-safe. Writes are serialized, holding the store's lock across the etcd call (the lease
// table already holds its own lock across Write; the revisions a Txn compares must be those of
// the write before it).
#ifndef TRIBUTARY_LEASING_ETCD_LEASE_STORE_H_
#define TRIBUTARY_LEASING_ETCD_LEASE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
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

  // Whether writes are refused until the next Load.
  bool stale();

  // The etcd keys of a lease and a poller row (tests).
  std::string LeaseKeyOf(const LeaseKey& key) const;
  std::string PollerKeyOf(const std::string& poller_id) const;

 private:
  EtcdLeaseStore(etcd::EtcdClient& client, EtcdLeaseStoreOptions options);
  // Refuses writes from now on with `why` (ABORTED) and tells on_stale; returns the error.
  absl::Status MarkStale(absl::Status why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  etcd::EtcdClient& client_;
  const EtcdLeaseStoreOptions options_;
  const std::string marker_key_;

  absl::Mutex mu_;
  // The mod_revision of every row as this store last saw it (absent: no such row).
  absl::flat_hash_map<std::string, int64_t> revisions_ ABSL_GUARDED_BY(mu_);
  absl::Status stale_ ABSL_GUARDED_BY(mu_);  // not OK while stale
};

}  // namespace tributary::leasing

#endif  // TRIBUTARY_LEASING_ETCD_LEASE_STORE_H_
