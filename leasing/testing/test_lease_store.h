// The LeaseStore the lease table's tests run on. Each test binary links one implementation
// (`:rocksdb_test_lease_store` or `:etcd_test_lease_store`), so that one suite
// (lease_table_test.cc) runs unchanged over both backends: lease_table_test and
// lease_table_etcd_test.
#ifndef TRIBUTARY_LEASING_TESTING_TEST_LEASE_STORE_H_
#define TRIBUTARY_LEASING_TESTING_TEST_LEASE_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "leasing/lease_store.h"

namespace tributary::leasing::testing {

// "RocksDB" or "etcd" (for messages).
const char* TestLeaseStoreName();

// A new, empty place for one test's rows: a directory, or an etcd key prefix on the member
// this binary shares.
std::string NewTestLeaseStoreLocation();

// Opens the store at `location`; opening it again after closing it is a restart. Errors: the
// store's.
absl::StatusOr<std::unique_ptr<LeaseStore>> OpenTestLeaseStore(const std::string& location);

// The same, for a lease table on `clock` with `lease_duration`. Over etcd the store keeps poller
// liveness (etcd leases, shared mode) and their expiry follows `clock`: a poller whose liveness
// was not renewed through this store (register, heartbeat, acquire; Load renews every live
// one) for `lease_duration` on `clock` has its etcd lease revoked at the table's next call,
// before the table takes in the changes (the revocation's deletion comes through the watch, as
// an expiry would). The etcd TTL itself is 600 s, so that real time never expires anything.
// `clock` must outlive the store. RocksDB ignores both.
absl::StatusOr<std::unique_ptr<LeaseStore>> OpenTestLeaseStore(const std::string& location,
                                                               Clock& clock,
                                                               absl::Duration lease_duration);

}  // namespace tributary::leasing::testing

#endif  // TRIBUTARY_LEASING_TESTING_TEST_LEASE_STORE_H_
