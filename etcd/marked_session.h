// A writer's session for Txns that must recognise their own earlier attempt (EtcdClient::Commit
// with a marker key): an etcd lease kept alive by a LeaseKeeper, and the marker key
// `<prefix>writers/<lease id, 16 hex digits>` put on it when the session starts, so that the
// marker's absence means the session ended. Whoever wrote with the marker then cannot tell its
// own earlier (lost-answer) write from another writer's: CheckCompareFailure says so.
//
//   MarkedSession session(client, "/tributary/tracker/", absl::Seconds(30), "a tracker session");
//   ASSIGN_OR_RETURN(etcd::TxnResult result, session.Commit(txn));
//   if (!result.succeeded) {
//     RETURN_IF_ERROR(session.CheckCompareFailure("writing k", "read it again"));
//   }
//
// Used by the tracker's EtcdRecordBackend and the store's EtcdStoreMetadata. Not thread-safe: its
// owner serializes calls (both hold their write lock across them). Revokes its lease (and so
// deletes the marker) on destruction.
#ifndef TRIBUTARY_ETCD_MARKED_SESSION_H_
#define TRIBUTARY_ETCD_MARKED_SESSION_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "etcd/etcd_client.h"
#include "etcd/lease_keeper.h"

namespace tributary::etcd {

class MarkedSession {
 public:
  // Starts nothing yet: the first Commit (or Start) does. `what` names the session in errors
  // ("a tracker session").
  MarkedSession(EtcdClient& client, std::string prefix, absl::Duration ttl, std::string what)
      : client_(client), prefix_(std::move(prefix)), ttl_(ttl), what_(std::move(what)) {}
  ~MarkedSession();
  MarkedSession(const MarkedSession&) = delete;
  MarkedSession& operator=(const MarkedSession&) = delete;

  // Ends the current session (if any) and starts a new one: a lease, its marker, renewing.
  // Errors: the lease's or the marker put's, naming the marker key.
  absl::Status Start();

  // Commits `txn` with the marker, starting a session first when there is none or it was lost;
  // when etcd refuses the session's lease (NOT_FOUND: nothing was applied) once more on a new
  // session. Errors: Start's and EtcdClient::Commit's.
  absl::StatusOr<TxnResult> Commit(const Txn& txn);

  // After a Commit whose compares failed: OK when the marker still exists (so an earlier attempt
  // of ours would have been recognised: the failure is another writer's change). Otherwise the
  // outcome is unknown: UNAVAILABLE "<operation>: outcome unknown (the session lease of marker
  // K expired); <advice>", and a new session is started for the next write.
  absl::Status CheckCompareFailure(absl::string_view operation, absl::string_view advice);

  // The current session's marker key; empty before the first session.
  const std::string& marker_key() const { return marker_key_; }

 private:
  EtcdClient& client_;
  const std::string prefix_;
  const absl::Duration ttl_;
  const std::string what_;
  std::unique_ptr<LeaseKeeper> session_;
  std::string marker_key_;
};

}  // namespace tributary::etcd

#endif  // TRIBUTARY_ETCD_MARKED_SESSION_H_
