// Test scaffolding shared by the tests of the tracker's record stores, MappingStore and
// FunctionStore: both are opened on a directory (`Open(path[, Options{sync_writes, env}])`), keep
// one protobuf record per key (`Insert`, `List`), and promise the same durability. Each store's
// tests say what is particular to it; what they share is here:
//   - ReopenableStoreTest<Store>: a store on a fresh location of the binary's backend
//     (test_record_backend.h: RocksDB or etcd) and Reopen();
//   - StorePowerLossTest<Store>: a store with sync_writes on a PowerLossEnv, and
//     ExpectEachStepSurvivesPowerLoss(steps);
//   - ExpectAcknowledgedInsertsSurviveKillMinusNine<Store>: inserts in a forked child killed with
//     SIGKILL, then reopens.
//
// Example (mapping_store_test.cc):
//   class MappingStoreTest : public testing::ReopenableStoreTest<MappingStore> {
//    protected:
//     MappingStoreTest() : ReopenableStoreTest("mapping_store") {}
//   };
#ifndef TRIBUTARY_STREAM_TRACKER_TESTING_RECORD_STORE_FIXTURES_H_
#define TRIBUTARY_STREAM_TRACKER_TESTING_RECORD_STORE_FIXTURES_H_

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/testing/power_loss_fs.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "stream_tracker/testing/test_record_backend.h"

namespace tributary::stream_tracker::testing {

// A `Store` on a fresh location of the binary's test backend (test_record_backend.h: a
// directory, or an etcd prefix; named after `prefix`); Reopen() closes it and opens the same
// location again.
template <typename Store>
class ReopenableStoreTest : public ::testing::Test {
 protected:
  explicit ReopenableStoreTest(const std::string& prefix)
      : location_(NewTestRecordLocation(prefix)) {}

  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    store_ = OpenAnother();
  }
  // Another store on the same location, beside store_ (a second replica on etcd); null with a
  // test failure when the backend refuses.
  std::unique_ptr<Store> OpenAnother() {
    auto backend = OpenTestRecordBackend(location_);
    EXPECT_TRUE(backend.ok()) << TestRecordBackendName() << ": " << backend.status();
    if (!backend.ok()) return nullptr;
    return Store::Create(*std::move(backend));
  }

  const std::string location_;
  std::unique_ptr<Store> store_;
};

// Every record of `store` in its List order, one ShortDebugString a line (or the List error).
template <typename Store>
std::string ListAsText(const Store& store) {
  auto records = store.List();
  if (!records.ok()) return records.status().ToString();
  std::string out;
  for (const auto& r : *records) absl::StrAppend(&out, r.ShortDebugString(), "\n");
  return out;
}

// A `Store` with sync_writes on RocksDB over common/testing/power_loss_fs.h (data not fsynced
// is dropped by a simulated power loss).
template <typename Store>
class StorePowerLossTest : public ::testing::Test {
 protected:
  using Step = std::pair<std::string, std::function<void()>>;  // (what it does, doing it)

  explicit StorePowerLossTest(const std::string& prefix)
      : prefix_(prefix), dir_(tributary::testing::NewTempDir(prefix + "_power") + "/db") {}

  void SetUp() override {
    typename Store::Options options;
    options.sync_writes = true;
    options.env = power_.env();
    auto store = Store::Open(dir_, options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // What a store opened on the state a power loss now would leave holds (ListAsText).
  std::string ObserveAfterPowerLoss() {
    const std::string copy = tributary::testing::NewTempDir(prefix_ + "_after_power_loss");
    absl::Status copied = power_.CopyDurableState(dir_, copy);
    if (!copied.ok()) return copied.ToString();
    auto store = Store::Open(copy);
    if (!store.ok()) return store.status().ToString();
    return ListAsText(**store);
  }

  // Runs the steps in order (each asserts its own change was acknowledged); after each, a
  // store opened on what a power loss right then would leave holds what the live store holds.
  void ExpectEachStepSurvivesPowerLoss(const std::vector<Step>& steps) {
    for (const auto& [name, step] : steps) {
      SCOPED_TRACE(name);
      step();
      ASSERT_FALSE(HasFatalFailure());
      const std::string live = ListAsText(*store_);
      EXPECT_EQ(ObserveAfterPowerLoss(), live) << "after a power loss right after: " << name;
    }
  }

  tributary::testing::PowerLossEnv power_;
  const std::string prefix_;
  const std::string dir_;
  std::unique_ptr<Store> store_;
};

// Forks a child that opens a `Store` on a fresh directory, inserts record(0), ..., record(n - 1)
// and acknowledges each accepted insert through a pipe, then waits with the store open; kills it
// with SIGKILL (no clean close) once it acknowledged all `n` or stopped. Then every acknowledged
// insert must be in the store reopened on the directory, and all `n` must have been acknowledged.
template <typename Store, typename Record>
void ExpectAcknowledgedInsertsSurviveKillMinusNine(const std::string& dir_prefix, int n,
                                                   const std::function<Record(int)>& record) {
  const std::string dir = tributary::testing::NewTempDir(dir_prefix);
  int ack[2];
  ASSERT_EQ(pipe(ack), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ack[0]);
    auto store = Store::Open(dir);
    if (!store.ok()) _exit(1);
    for (int i = 0; i < n; ++i) {
      if (!(*store)->Insert(record(i)).ok()) _exit(2);
      const char byte = 1;
      if (write(ack[1], &byte, 1) != 1) _exit(3);
    }
    pause();  // wait for SIGKILL with the store open: no clean close
    _exit(0);
  }
  close(ack[1]);
  int acknowledged = 0;
  char byte;
  while (acknowledged < n && read(ack[0], &byte, 1) == 1) ++acknowledged;
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(wait_status)) << "child exited early with " << wait_status;
  close(ack[0]);

  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  auto all = (*store)->List();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(static_cast<int>(all->size()), acknowledged);
  EXPECT_EQ(acknowledged, n);
}

}  // namespace tributary::stream_tracker::testing

#endif  // TRIBUTARY_STREAM_TRACKER_TESTING_RECORD_STORE_FIXTURES_H_
