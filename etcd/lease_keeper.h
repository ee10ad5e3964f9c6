// Keeps an etcd lease alive: the liveness primitive of cluster mode (issue 19). Keys put with the
// lease's id live while the keeper renews it, and vanish (watchers see a delete) once nobody
// renewed it for its TTL, e.g. when the process holding it died. Renewals are lease keepalive
// requests, which cost etcd no raft write (../shared/SCALEOUT.md).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<LeaseKeeper> keeper, LeaseKeeper::Create(client, 2s));
//   keeper->StartRenewing();          // every ttl/3 on a thread of its own
//   client.Put("pollers/p1", "...", keeper->id());
//
// Thread-safe. The renewing thread waits on the client's clock (tests call RunOnce instead).
#ifndef TRIBUTARY_ETCD_LEASE_KEEPER_H_
#define TRIBUTARY_ETCD_LEASE_KEEPER_H_

#include <cstdint>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "etcd/etcd_client.h"

namespace tributary::etcd {

class LeaseKeeper {
 public:
  // Grants a lease of `ttl` (whole seconds; etcd's minimum is about 2 s). `client` must outlive
  // the keeper. Errors: INVALID_ARGUMENT for ttl < 1 s; those of EtcdClient::GrantLease.
  static absl::StatusOr<std::unique_ptr<LeaseKeeper>> Create(EtcdClient& client,
                                                             absl::Duration ttl);
  // Stops renewing (joins the thread). Does not revoke: the lease expires after its TTL unless
  // Revoke() was called.
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  int64_t id() const { return id_; }
  absl::Duration ttl() const { return ttl_; }

  // Renews the lease once. Errors: NOT_FOUND once the lease has expired or was revoked (its keys
  // are gone; lost() is true from then on); those of EtcdClient::KeepAliveOnce.
  absl::Status RunOnce();

  // Renews every ttl/3 on a thread until destroyed or the lease is lost; after a failed renewal,
  // tries again after ttl/10. Call at most once.
  void StartRenewing();

  // Whether etcd said the lease is gone.
  bool lost();

  // Revokes the lease now (its keys are deleted at once) and stops renewing. Idempotent.
  absl::Status Revoke();

 private:
  LeaseKeeper(EtcdClient& client, int64_t id, absl::Duration ttl)
      : client_(client), id_(id), ttl_(ttl) {}
  void RenewLoop();

  EtcdClient& client_;
  const int64_t id_;
  const absl::Duration ttl_;
  std::thread renewer_;

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool lost_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tributary::etcd

#endif  // TRIBUTARY_ETCD_LEASE_KEEPER_H_
