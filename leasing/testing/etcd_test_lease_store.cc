// The lease-table suite over EtcdLeaseStore: one etcd member per test binary (started at first
// use, etcd/testing), a key prefix per test. A restart is a new client and store over the same
// prefix.
#include <utility>

#include "common/status_macros.h"
#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "leasing/etcd_lease_store.h"
#include "leasing/testing/test_lease_store.h"

namespace tributary::leasing::testing {
namespace {

// The store and the client it borrows, as one LeaseStore.
class OwningEtcdLeaseStore : public LeaseStore {
 public:
  OwningEtcdLeaseStore(std::unique_ptr<etcd::EtcdClient> client,
                       std::unique_ptr<EtcdLeaseStore> store)
      : client_(std::move(client)), store_(std::move(store)) {}
  absl::Status Write(const LeaseStoreWrite& write) override { return store_->Write(write); }
  absl::StatusOr<LeaseStoreContents> Load() override { return store_->Load(); }
  LeaseStoreWrite TakeExternalChanges() override { return store_->TakeExternalChanges(); }
  absl::StatusOr<bool> Barrier() override { return store_->Barrier(); }

 private:
  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<EtcdLeaseStore> store_;
};

}  // namespace

const char* TestLeaseStoreName() { return "etcd"; }

std::string NewTestLeaseStoreLocation() {
  return etcd::testing::EtcdCluster::Shared(1).NewPrefix();
}

absl::StatusOr<std::unique_ptr<LeaseStore>> OpenTestLeaseStore(const std::string& location) {
  std::unique_ptr<etcd::EtcdClient> client = etcd::testing::EtcdCluster::Shared(1).NewClient();
  EtcdLeaseStoreOptions options;
  options.prefix = location;
  ASSIGN_OR_RETURN(std::unique_ptr<EtcdLeaseStore> store,
                   EtcdLeaseStore::Create(*client, std::move(options)));
  return std::unique_ptr<LeaseStore>(
      new OwningEtcdLeaseStore(std::move(client), std::move(store)));
}

}  // namespace tributary::leasing::testing
