#include "stream_tracker/function_store.h"

#include <string>

#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "stream_tracker/mapping_store.h"
#include "stream_tracker/testing/record_store_fixtures.h"
#include "stream_tracker/tracker_db.h"

namespace tributary::stream_tracker {
namespace {

FunctionRecord Record(const std::string& name, const std::string& endpoint = "fn:1") {
  FunctionRecord record;
  record.mutable_config()->set_function_name(name);
  record.mutable_config()->set_endpoint(endpoint);
  record.mutable_config()->set_timeout_seconds(3);
  return record;
}

class FunctionStoreTest : public testing::ReopenableStoreTest<FunctionStore> {
 protected:
  FunctionStoreTest() : ReopenableStoreTest("function_store") {}
};

TEST_F(FunctionStoreTest, InsertedFunctionIsReadBack) {
  ASSERT_TRUE(store_->Insert(Record("f", "host:9")).ok());
  absl::StatusOr<FunctionRecord> record = store_->Get("f");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->config().endpoint(), "host:9");
}

TEST_F(FunctionStoreTest, MissingFunctionIsNotFound) {
  EXPECT_EQ(store_->Get("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(
      store_->Modify("nope", [](FunctionRecord*) { return absl::OkStatus(); }).status().code(),
      absl::StatusCode::kNotFound);
}

TEST_F(FunctionStoreTest, SecondInsertOfANameIsAlreadyExists) {
  ASSERT_TRUE(store_->Insert(Record("f", "a:1")).ok());
  EXPECT_EQ(store_->Insert(Record("f", "b:1")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Get("f")->config().endpoint(), "a:1");
}

TEST_F(FunctionStoreTest, InsertWithoutNameIsInvalid) {
  EXPECT_EQ(store_->Insert(Record("")).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FunctionStoreTest, WritesCountsOnlyAcceptedChanges) {
  ASSERT_TRUE(store_->Insert(Record("f")).ok());
  EXPECT_FALSE(store_->Insert(Record("f")).ok());
  ASSERT_TRUE(store_->Modify("f", [](FunctionRecord*) { return absl::OkStatus(); }).ok());
  EXPECT_FALSE(store_->Modify("f", [](FunctionRecord*) { return absl::AbortedError("no"); }).ok());
  EXPECT_TRUE(store_->Get("f").ok());
  EXPECT_TRUE(store_->List().ok());
  ASSERT_TRUE(store_->Remove("f").ok());
  EXPECT_EQ(store_->writes(), 3) << "insert, modify, remove; failures and reads do not count";
}

TEST_F(FunctionStoreTest, ListIsInNameOrderAfterTheGivenName) {
  for (const char* name : {"c", "a", "B", "b", "d"}) ASSERT_TRUE(store_->Insert(Record(name)).ok());
  auto all = store_->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0].config().function_name(), "B") << "bytewise: upper case first";
  EXPECT_EQ((*all)[4].config().function_name(), "d");
  auto page = store_->List("a", 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].config().function_name(), "b");
  EXPECT_EQ((*page)[1].config().function_name(), "c");
}

TEST_F(FunctionStoreTest, ModifyWritesTheChange) {
  ASSERT_TRUE(store_->Insert(Record("f")).ok());
  auto written = store_->Modify("f", [](FunctionRecord* r) {
    r->mutable_config()->set_reserved_concurrent_executions(5);
    return absl::OkStatus();
  });
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written->config().reserved_concurrent_executions(), 5);
  EXPECT_EQ(store_->Get("f")->config().reserved_concurrent_executions(), 5);
}

TEST_F(FunctionStoreTest, FailedModifyWritesNothing) {
  ASSERT_TRUE(store_->Insert(Record("f", "a:1")).ok());
  auto result = store_->Modify("f", [](FunctionRecord* r) {
    r->mutable_config()->set_endpoint("b:1");
    return absl::FailedPreconditionError("no");
  });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Get("f")->config().endpoint(), "a:1");
}

TEST_F(FunctionStoreTest, ModifyMayNotChangeTheName) {
  ASSERT_TRUE(store_->Insert(Record("f")).ok());
  auto result = store_->Modify("f", [](FunctionRecord* r) {
    r->mutable_config()->set_function_name("g");
    return absl::OkStatus();
  });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(store_->Get("g").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(FunctionStoreTest, RemoveIsIdempotent) {
  ASSERT_TRUE(store_->Insert(Record("f")).ok());
  EXPECT_TRUE(store_->Remove("f").ok());
  EXPECT_TRUE(store_->Remove("f").ok());
  EXPECT_EQ(store_->Get("f").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(FunctionStoreTest, FunctionsSurviveReopen) {
  ASSERT_TRUE(store_->Insert(Record("f", "a:1")).ok());
  ASSERT_TRUE(store_->Insert(Record("g")).ok());
  ASSERT_TRUE(store_->Remove("g").ok());
  Reopen();
  EXPECT_EQ(store_->Get("f")->config().endpoint(), "a:1");
  EXPECT_EQ(store_->Get("g").status().code(), absl::StatusCode::kNotFound);
}

// RocksDB: one process holds the database. etcd: every tracker replica shares the functions.
TEST_F(FunctionStoreTest, ASecondOpenIsRefusedOrSharesTheFunctions) {
  ASSERT_TRUE(store_->Insert(Record("f", "a:1")).ok());
  auto backend = testing::OpenTestRecordBackend(location_);
  if (!testing::TestRecordBackendIsShared()) {
    EXPECT_FALSE(backend.ok()) << "a second open of the directory must fail";
    return;
  }
  ASSERT_TRUE(backend.ok()) << backend.status();
  std::unique_ptr<FunctionStore> other = FunctionStore::Create(*std::move(backend));
  EXPECT_EQ(other->Get("f")->config().endpoint(), "a:1");
  ASSERT_TRUE(other->Insert(Record("g", "b:1")).ok());
  EXPECT_EQ(store_->Get("g")->config().endpoint(), "b:1") << "no replica keeps a stale copy";
  EXPECT_EQ(store_->Insert(Record("g")).code(), absl::StatusCode::kAlreadyExists);
}

// Functions and mappings live in one database (or etcd prefix), each kind under its own prefix:
// neither store lists the other's records, and both survive a reopen of the shared backend.
TEST(SharedTrackerDbTest, FunctionsAndMappingsShareOneDatabaseWithoutSeeingEachOther) {
  const std::string location = testing::NewTestRecordLocation("tracker_db");
  for (int round = 0; round < 2; ++round) {
    auto backend = testing::OpenTestRecordBackend(location);
    ASSERT_TRUE(backend.ok()) << backend.status();
    auto functions = FunctionStore::Create(*backend);
    auto mappings = MappingStore::Create(*backend);
    if (round == 0) {
      ASSERT_TRUE(functions->Insert(Record("zzz")).ok());
      ASSERT_TRUE(functions->Insert(Record("a")).ok());
      MappingRecord mapping;
      mapping.mutable_config()->set_uuid("0000");
      ASSERT_TRUE(mappings->Insert(mapping).ok());
    }
    SCOPED_TRACE(round == 0 ? "as written" : "after reopening");
    auto listed_functions = functions->List();
    ASSERT_TRUE(listed_functions.ok()) << listed_functions.status();
    EXPECT_EQ(listed_functions->size(), 2u);
    auto listed_mappings = mappings->List();
    ASSERT_TRUE(listed_mappings.ok()) << listed_mappings.status();
    ASSERT_EQ(listed_mappings->size(), 1u);
    EXPECT_EQ((*listed_mappings)[0].config().uuid(), "0000");
  }
}

// A child process writes functions, reports them acknowledged through a pipe, and is killed
// with SIGKILL while still holding the store open: every acknowledged write must be there on
// reopen.
TEST(FunctionStoreCrashTest, AcknowledgedFunctionsSurviveKillMinusNine) {
  testing::ExpectAcknowledgedInsertsSurviveKillMinusNine<FunctionStore, FunctionRecord>(
      "function_store_crash", 50, [](int i) { return Record("f" + std::to_string(1000 + i)); });
}

}  // namespace
}  // namespace tributary::stream_tracker
