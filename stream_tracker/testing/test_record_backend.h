// The storage the record stores' tests run on. Each test binary links one implementation
// (`:rocksdb_test_record_backend` or `:etcd_test_record_backend`), so that one suite runs
// unchanged over both backends (mapping_store_test / mapping_store_etcd_test, function_store_test
// / function_store_etcd_test).
#ifndef TRIBUTARY_STREAM_TRACKER_TESTING_TEST_RECORD_BACKEND_H_
#define TRIBUTARY_STREAM_TRACKER_TESTING_TEST_RECORD_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "stream_tracker/record_backend.h"

namespace tributary::stream_tracker::testing {

// "RocksDB" or "etcd" (for messages).
const char* TestRecordBackendName();

// Whether a second backend may be open on one location at once: false for RocksDB (the
// database's lock keeps a second process out), true for etcd (every replica shares the records).
bool TestRecordBackendIsShared();

// A new, empty place for one test's records (named after `name`): a directory, or an etcd key
// prefix on the member this binary shares.
std::string NewTestRecordLocation(const std::string& name);

// Opens a backend on `location`; opening it again after releasing the last one is a restart.
// Errors: the backend's (RocksDB: the directory is held).
absl::StatusOr<std::shared_ptr<RecordBackend>> OpenTestRecordBackend(const std::string& location);

}  // namespace tributary::stream_tracker::testing

#endif  // TRIBUTARY_STREAM_TRACKER_TESTING_TEST_RECORD_BACKEND_H_
