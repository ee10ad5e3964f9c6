// WriteFaults: deterministic, named RocksDB write faults for ShardStore tests,
// injected through ShardStoreOptions::write_interceptor (no #ifdefs in the
// store). One fault is armed at a time:
//
//   WriteFaults faults;
//   options.write_interceptor = faults.Interceptor();
//   ... create the store ...
//   faults.FailNth(WriteKind::kRecords, 1);  // the next records write fails
//
// HoldNth parks the n-th write of a kind inside the interceptor until
// Release(), so a test can act while that write is in flight (another put, a
// DescribeStreamSummary during a reshard) and then let it fail or succeed.
//
// Thread-safe. Must outlive every store using its interceptor.
#ifndef TRIBUTARY_SHARD_STORE_TESTING_WRITE_FAULTS_H_
#define TRIBUTARY_SHARD_STORE_TESTING_WRITE_FAULTS_H_

#include <map>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "rocksdb/status.h"
#include "shard_store/shard_store.h"

namespace tributary::shard_store::testing {

class WriteFaults {
 public:
  // The function to put in ShardStoreOptions::write_interceptor.
  WriteInterceptor Interceptor();

  // The n-th (1-based) write of `kind` from now fails with `status` (the batch
  // is not applied). Replaces any armed fault.
  void FailNth(WriteKind kind, int n,
               rocksdb::Status status = rocksdb::Status::IOError("injected write fault"));
  // The n-th write of `kind` from now waits in the interceptor until Release(),
  // then fails with `then` (or goes through when `then` is OK). Replaces any
  // armed fault.
  void HoldNth(WriteKind kind, int n, rocksdb::Status then);
  // Blocks until the held write has arrived (real time, at most `timeout`): a
  // failure guard for tests, whose failure names the armed fault and the writes
  // seen.
  [[nodiscard]] ::testing::AssertionResult WaitUntilHeld(
      absl::Duration timeout = absl::Seconds(10));
  // Lets the held write continue.
  void Release();
  // Writes of `kind` seen so far (including failed ones).
  int writes(WriteKind kind);

 private:
  struct Fault {
    WriteKind kind;
    int remaining;  // writes of `kind` until the faulty one
    bool hold;
    rocksdb::Status status;
  };
  rocksdb::Status OnWrite(WriteKind kind);

  absl::Mutex mu_;
  std::optional<Fault> fault_ ABSL_GUARDED_BY(mu_);
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  std::map<WriteKind, int> writes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::shard_store::testing

#endif  // TRIBUTARY_SHARD_STORE_TESTING_WRITE_FAULTS_H_
