#include "leasing/etcd_leasing.h"

#include <algorithm>
#include <utility>

#include "leasing/etcd_lease_store.h"

namespace tributary::leasing {

absl::StatusOr<EtcdLeasing> OpenEtcdLeasing(Clock& clock, const EtcdLeasingOptions& options,
                                            const LeaseTableOptions& table_options) {
  if (options.replica_name.empty()) {
    return absl::InvalidArgumentError("a leasing replica on etcd needs a name");
  }
  EtcdLeasing out;
  etcd::EtcdClientOptions etcd_options;
  etcd_options.endpoints = options.endpoints;
  absl::StatusOr<std::unique_ptr<etcd::EtcdClient>> client =
      etcd::EtcdClient::Create(clock, etcd_options);
  if (!client.ok()) return client.status();
  out.etcd = *std::move(client);
  EtcdLeaseStoreOptions store_options;
  store_options.prefix = options.prefix;
  store_options.writer = options.replica_name;
  store_options.on_stale = options.on_stale;
  // Several replicas may serve the same table at once (NOTES.md, "Several replicas").
  store_options.shared = true;
  // Poller liveness as etcd leases of TTL = the lease duration (NOTES.md, "Poller liveness as
  // etcd leases"); etcd raises a TTL under its minimum (~2 s) and rounds up to whole seconds.
  store_options.poller_liveness_ttl = std::max(absl::Seconds(1), table_options.lease_duration);
  absl::StatusOr<std::unique_ptr<EtcdLeaseStore>> store =
      EtcdLeaseStore::Create(*out.etcd, store_options);
  if (!store.ok()) return store.status();
  absl::StatusOr<std::unique_ptr<LeasingStack>> stack = LeasingStack::Create(
      clock, std::unique_ptr<LeaseStore>(*std::move(store)), table_options);
  if (!stack.ok()) return stack.status();
  out.stack = *std::move(stack);
  return out;
}

}  // namespace tributary::leasing
