// The LeaseStore the lease table's tests run on. Each test binary links one implementation
// (`:rocksdb_test_lease_store` or `:etcd_test_lease_store`), so that one suite
// (lease_table_test.cc) runs unchanged over both backends: lease_table_test and
// lease_table_etcd_test.
#ifndef TRIBUTARY_LEASING_TESTING_TEST_LEASE_STORE_H_
#define TRIBUTARY_LEASING_TESTING_TEST_LEASE_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
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

}  // namespace tributary::leasing::testing

#endif  // TRIBUTARY_LEASING_TESTING_TEST_LEASE_STORE_H_
