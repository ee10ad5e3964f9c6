// The record-store suites over EtcdRecordBackend: one etcd member per test binary (started at
// first use, etcd/testing), a key prefix per test. A restart is a new client and backend over the
// same prefix.
#include <utility>

#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "stream_tracker/etcd_record_backend.h"
#include "stream_tracker/testing/test_record_backend.h"

namespace tributary::stream_tracker::testing {
namespace {

// The backend and the client it borrows.
struct Owning {
  std::unique_ptr<etcd::EtcdClient> client;
  std::unique_ptr<EtcdRecordBackend> backend;
  ~Owning() { backend.reset(); }  // before the client
};

}  // namespace

const char* TestRecordBackendName() { return "etcd"; }
bool TestRecordBackendIsShared() { return true; }

std::string NewTestRecordLocation(const std::string& /*name*/) {
  return etcd::testing::EtcdCluster::Shared(1).NewPrefix();
}

absl::StatusOr<std::shared_ptr<RecordBackend>> OpenTestRecordBackend(const std::string& location) {
  auto owning = std::make_shared<Owning>();
  owning->client = etcd::testing::EtcdCluster::Shared(1).NewClient();
  EtcdRecordBackendOptions options;
  options.prefix = location;
  auto backend_or = EtcdRecordBackend::Create(*owning->client, options);
  if (!backend_or.ok()) return backend_or.status();
  owning->backend = *std::move(backend_or);
  RecordBackend* backend = owning->backend.get();
  return std::shared_ptr<RecordBackend>(std::move(owning), backend);  // aliasing: owns both
}

}  // namespace tributary::stream_tracker::testing
