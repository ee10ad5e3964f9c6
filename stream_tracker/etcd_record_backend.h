// EtcdRecordBackend: the tracker's records (mappings, functions) in etcd, for cluster mode (issue
// 19): every tracker replica over the same prefix sees the same records, so any replica answers
// any request. Behind the RecordBackend seam (record_backend.h): the stores, their rules and
// their tests are the same over RocksDB and etcd.
//
// Layout, under `prefix` (default "/tributary/tracker/"):
//   <prefix>mapping/<uuid>          MappingRecord bytes (as in RocksDB)
//   <prefix>function/<name>         FunctionRecord bytes
//   <prefix>writers/<session hex>   the marker of this backend's last write, attached to its
//                                   session lease
// The keys grow with mappings and functions, and with live replicas (a marker vanishes with its
// replica's session lease), never with time or writes.
//
// Writes. A Put is one Txn: "the key's mod_revision is still the one read (0: absent)" → put.
// Every Txn carries this backend's marker (etcd_client.h, Commit): a retry after a lost answer
// (DEADLINE_EXCEEDED, a member dying) whose compare fails because the first attempt was applied
// recognises its own write and reports success, instead of "someone else wrote it", which would
// make Modify apply its change a second time. The marker key is per session, so no other writer
// ever uses it; it lives on a lease (`session_ttl`, kept alive by a LeaseKeeper) so that markers
// of replicas that died go away. Should the session lease be lost (etcd unreachable for a whole
// TTL), a write that failed its compare cannot tell whose write it saw and says UNAVAILABLE
// ("outcome unknown") instead, and the next write starts a new session.
//
// Claims (PutClaiming, issue 19: one mapping per function and stream across replicas). The
// claim key (<prefix><claim.take>, value: the owning record's key) is created in the same Txn as
// the record, on the compare "create_revision == 0": of two replicas creating mappings of one
// function on one stream at once, exactly one Txn applies; the other's fails by compare and its
// failure branch reads the holder. Released in the Txn that changes the record away from it.
//
// Every etcd call has the client's deadlines (attempt and operation timeouts). Reads are
// linearizable, and no replica keeps a copy: what one replica wrote, the next read on any
// replica sees.
//
// Thread-safe.
#ifndef TRIBUTARY_STREAM_TRACKER_ETCD_RECORD_BACKEND_H_
#define TRIBUTARY_STREAM_TRACKER_ETCD_RECORD_BACKEND_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcd/etcd_client.h"
#include "etcd/marked_session.h"
#include "stream_tracker/record_backend.h"

namespace tributary::stream_tracker {

struct EtcdRecordBackendOptions {
  // Every key starts with this; it ends with '/'. One tracker cluster per prefix.
  std::string prefix = "/tributary/tracker/";
  // The TTL of the session lease the marker lives on. Longer than the client's operation
  // timeout, so that a session cannot end within one write's retries unless renewals had
  // already failed for a long time.
  absl::Duration session_ttl = absl::Seconds(30);
};

class EtcdRecordBackend final : public RecordBackend {
 public:
  // A backend over `client`, which must outlive it; starts a session (grants its lease, puts its
  // marker, renews it on a thread). Errors: INVALID_ARGUMENT for a prefix that does not end with
  // '/'; the client's (etcd unreachable).
  static absl::StatusOr<std::unique_ptr<EtcdRecordBackend>> Create(
      etcd::EtcdClient& client, EtcdRecordBackendOptions options = {});
  ~EtcdRecordBackend() override = default;  // the session is revoked (its marker goes)

  absl::StatusOr<std::optional<StoredValue>> Read(const std::string& key) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(const std::string& prefix,
                                                                        const std::string& after,
                                                                        size_t limit) override;
  absl::StatusOr<bool> Put(const std::string& key, const std::string& value,
                           int64_t expected_revision) override;
  absl::Status Delete(const std::string& key) override;
  // One Txn: the record's compare, "create_revision(take) == 0", and the puts and delete.
  absl::StatusOr<ClaimedPut> PutClaiming(const std::string& key, const std::string& value,
                                         int64_t expected_revision, const Claim& claim,
                                         std::string* holder) override;

  // The etcd key of a store key (tests, etcdctl).
  std::string EtcdKey(const std::string& key) const { return options_.prefix + key; }
  // The current session's marker key (tests).
  std::string marker_key();

 private:
  EtcdRecordBackend(etcd::EtcdClient& client, EtcdRecordBackendOptions options)
      : client_(client),
        options_(std::move(options)),
        session_(client, options_.prefix, options_.session_ttl, "a tracker session") {}

  etcd::EtcdClient& client_;
  const EtcdRecordBackendOptions options_;

  // Serializes writes (held across the etcd call: RecordStore already serializes its own).
  absl::Mutex mu_;
  etcd::MarkedSession session_ ABSL_GUARDED_BY(mu_);  // its marker: <prefix>writers/<lease>
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_ETCD_RECORD_BACKEND_H_
