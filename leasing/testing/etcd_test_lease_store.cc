// The lease-table suite over EtcdLeaseStore: one etcd member per test binary (started at first
// use, etcd/testing), a key prefix per test. A restart is a new client and store over the same
// prefix. With a clock (test_lease_store.h) poller liveness is etcd leases, expired on the
// test's clock by revoking them.
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "leasing/etcd_lease_store.h"
#include "leasing/testing/test_lease_store.h"

namespace tributary::leasing::testing {
namespace {

// The store and the client it borrows, as one LeaseStore; with a clock, the etcd TTL of poller
// liveness run on that clock (see test_lease_store.h).
class OwningEtcdLeaseStore : public LeaseStore {
 public:
  OwningEtcdLeaseStore(std::unique_ptr<etcd::EtcdClient> client,
                       std::unique_ptr<EtcdLeaseStore> store, Clock* clock,
                       absl::Duration lease_duration)
      : client_(std::move(client)),
        store_(std::move(store)),
        clock_(clock),
        lease_duration_(lease_duration) {}

  absl::Status Write(const LeaseStoreWrite& write) override {
    RETURN_IF_ERROR(store_->Write(write));
    if (clock_ == nullptr) return absl::OkStatus();
    absl::MutexLock lock(&mu_);
    for (const PollerRecord& r : write.put_pollers) renewed_[r.poller_id] = clock_->MonotonicNow();
    for (const PollerRecord& r : write.renew_pollers) {
      renewed_[r.poller_id] = clock_->MonotonicNow();
    }
    for (const std::string& id : write.delete_pollers) renewed_.erase(id);
    return absl::OkStatus();
  }
  absl::StatusOr<LeaseStoreContents> Load() override {
    ASSIGN_OR_RETURN(LeaseStoreContents contents, store_->Load());
    if (clock_ != nullptr) {
      absl::MutexLock lock(&mu_);
      renewed_.clear();
      // Load renewed every live poller (the restart grace).
      for (const std::string& id : contents.live_pollers) renewed_[id] = clock_->MonotonicNow();
    }
    return contents;
  }
  LeaseStoreWrite TakeExternalChanges() override {
    if (clock_ != nullptr) ExpireOnTheClock();
    return store_->TakeExternalChanges();
  }
  absl::StatusOr<bool> Barrier() override { return store_->Barrier(); }
  bool KeepsLiveness() const override { return store_->KeepsLiveness(); }

 private:
  // Revokes the etcd lease of every poller not renewed for a lease duration on the clock, and
  // waits until the watch has brought the deletions.
  void ExpireOnTheClock() {
    bool revoked = false;
    {
      absl::MutexLock lock(&mu_);
      const MonotonicTime now = clock_->MonotonicNow();
      for (auto it = renewed_.begin(); it != renewed_.end();) {
        if (now < it->second + lease_duration_) {
          ++it;
          continue;
        }
        absl::StatusOr<int64_t> lease = store_->LivenessLeaseOf(it->first);
        if (lease.ok()) {
          // Failed: tried again at the next call (the poller stays live meanwhile, which the
          // test sees).
          if (!client_->RevokeLease(*lease).ok()) {
            ++it;
            continue;
          }
          revoked = true;
        }
        renewed_.erase(it++);
      }
    }
    // A barrier that fails leaves the deletions for a later call (the test sees the delay).
    if (revoked) (void)store_->Barrier();
  }

  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<EtcdLeaseStore> store_;
  Clock* const clock_;  // null: no liveness
  const absl::Duration lease_duration_;
  absl::Mutex mu_;
  // Poller → when its liveness was last renewed through this store, on clock_.
  absl::flat_hash_map<std::string, MonotonicTime> renewed_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<LeaseStore>> Open(const std::string& location, Clock* clock,
                                                 absl::Duration lease_duration) {
  std::unique_ptr<etcd::EtcdClient> client = etcd::testing::EtcdCluster::Shared(1).NewClient();
  EtcdLeaseStoreOptions options;
  options.prefix = location;
  if (clock != nullptr) {
    options.shared = true;
    options.poller_liveness_ttl = absl::Seconds(600);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<EtcdLeaseStore> store,
                   EtcdLeaseStore::Create(*client, std::move(options)));
  return std::unique_ptr<LeaseStore>(
      new OwningEtcdLeaseStore(std::move(client), std::move(store), clock, lease_duration));
}

}  // namespace

const char* TestLeaseStoreName() { return "etcd"; }

std::string NewTestLeaseStoreLocation() {
  return etcd::testing::EtcdCluster::Shared(1).NewPrefix();
}

absl::StatusOr<std::unique_ptr<LeaseStore>> OpenTestLeaseStore(const std::string& location) {
  return Open(location, nullptr, absl::ZeroDuration());
}

absl::StatusOr<std::unique_ptr<LeaseStore>> OpenTestLeaseStore(const std::string& location,
                                                               Clock& clock,
                                                               absl::Duration lease_duration) {
  return Open(location, &clock, lease_duration);
}

}  // namespace tributary::leasing::testing
