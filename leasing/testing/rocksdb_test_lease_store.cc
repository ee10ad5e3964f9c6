// The lease-table suite over RocksDbLeaseStore, a directory per test.
#include "common/testing/test_util.h"
#include "common/status_macros.h"
#include "leasing/testing/test_lease_store.h"

namespace tributary::leasing::testing {

const char* TestLeaseStoreName() { return "RocksDB"; }

std::string NewTestLeaseStoreLocation() {
  return tributary::testing::NewTempDir("lease_table_test");
}

absl::StatusOr<std::unique_ptr<LeaseStore>> OpenTestLeaseStore(const std::string& location) {
  ASSIGN_OR_RETURN(std::unique_ptr<RocksDbLeaseStore> store, RocksDbLeaseStore::Open(location));
  return std::unique_ptr<LeaseStore>(std::move(store));
}

absl::StatusOr<std::unique_ptr<LeaseStore>> OpenTestLeaseStore(const std::string& location,
                                                               Clock& /*clock*/,
                                                               absl::Duration /*lease_duration*/) {
  return OpenTestLeaseStore(location);
}

}  // namespace tributary::leasing::testing
