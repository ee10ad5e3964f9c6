// The record-store suites over RocksDB: a directory per test.
#include "common/testing/test_util.h"
#include "stream_tracker/testing/test_record_backend.h"
#include "stream_tracker/tracker_db.h"

namespace tributary::stream_tracker::testing {

const char* TestRecordBackendName() { return "RocksDB"; }
bool TestRecordBackendIsShared() { return false; }

std::string NewTestRecordLocation(const std::string& name) {
  return tributary::testing::NewTempDir(name);
}

absl::StatusOr<std::shared_ptr<RecordBackend>> OpenTestRecordBackend(const std::string& location) {
  absl::StatusOr<std::shared_ptr<RocksDb>> db = OpenTrackerDb(location);
  if (!db.ok()) return db.status();
  return std::shared_ptr<RecordBackend>(
      std::make_shared<RocksDbRecordBackend>(*std::move(db), /*sync_writes=*/false));
}

}  // namespace tributary::stream_tracker::testing
