#include "stream_tracker/mapping_store.h"

#include <string>
#include <thread>
#include <vector>

#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "stream_tracker/testing/record_store_fixtures.h"

namespace tributary::stream_tracker {
namespace {

MappingRecord Record(const std::string& uuid, const std::string& stream = "orders") {
  MappingRecord record;
  record.mutable_config()->set_uuid(uuid);
  record.mutable_config()->set_stream_name(stream);
  record.mutable_config()->set_config_version(1);
  return record;
}

class MappingStoreTest : public testing::ReopenableStoreTest<MappingStore> {
 protected:
  MappingStoreTest() : ReopenableStoreTest("mapping_store") {}
};

TEST_F(MappingStoreTest, InsertedMappingIsReadBack) {
  ASSERT_TRUE(store_->Insert(Record("a")).ok());
  absl::StatusOr<MappingRecord> record = store_->Get("a");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->config().stream_name(), "orders");
}

TEST_F(MappingStoreTest, MissingMappingIsNotFound) {
  EXPECT_EQ(store_->Get("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Modify("nope", [](MappingRecord*) { return absl::OkStatus(); }).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(MappingStoreTest, SecondInsertOfAUuidIsAlreadyExists) {
  ASSERT_TRUE(store_->Insert(Record("a")).ok());
  EXPECT_EQ(store_->Insert(Record("a", "other")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Get("a")->config().stream_name(), "orders");
}

TEST_F(MappingStoreTest, InsertWithoutUuidIsInvalid) {
  EXPECT_EQ(store_->Insert(Record("")).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(MappingStoreTest, WritesCountsOnlyAcceptedChanges) {
  ASSERT_EQ(store_->writes(), 0);
  ASSERT_TRUE(store_->Insert(Record("a")).ok());
  EXPECT_FALSE(store_->Insert(Record("a")).ok());
  ASSERT_TRUE(store_->Modify("a", [](MappingRecord*) { return absl::OkStatus(); }).ok());
  EXPECT_FALSE(store_->Modify("a", [](MappingRecord*) { return absl::AbortedError("no"); }).ok());
  EXPECT_TRUE(store_->Get("a").ok());
  EXPECT_TRUE(store_->List().ok());
  ASSERT_TRUE(store_->Remove("a").ok());
  EXPECT_EQ(store_->writes(), 3) << "insert, modify, remove; failures and reads do not count";
}

TEST_F(MappingStoreTest, ListIsInUuidOrderAfterTheGivenUuid) {
  for (const char* uuid : {"c", "a", "b", "d"}) ASSERT_TRUE(store_->Insert(Record(uuid)).ok());
  auto all = store_->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].config().uuid(), "a");
  EXPECT_EQ((*all)[3].config().uuid(), "d");
  auto page = store_->List("a", 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].config().uuid(), "b");
  EXPECT_EQ((*page)[1].config().uuid(), "c");
}

TEST_F(MappingStoreTest, ModifyWritesTheChange) {
  ASSERT_TRUE(store_->Insert(Record("a")).ok());
  auto written = store_->Modify("a", [](MappingRecord* r) {
    r->mutable_config()->set_batch_size(42);
    return absl::OkStatus();
  });
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written->config().batch_size(), 42);
  EXPECT_EQ(store_->Get("a")->config().batch_size(), 42);
}

TEST_F(MappingStoreTest, FailedModifyWritesNothing) {
  ASSERT_TRUE(store_->Insert(Record("a")).ok());
  auto result = store_->Modify("a", [](MappingRecord* r) {
    r->mutable_config()->set_batch_size(42);
    return absl::FailedPreconditionError("no");
  });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Get("a")->config().batch_size(), 0);
}

TEST_F(MappingStoreTest, ModifyMayNotChangeTheUuid) {
  ASSERT_TRUE(store_->Insert(Record("a")).ok());
  auto result = store_->Modify("a", [](MappingRecord* r) {
    r->mutable_config()->set_uuid("b");
    return absl::OkStatus();
  });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(store_->Get("b").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MappingStoreTest, RemoveIsIdempotent) {
  ASSERT_TRUE(store_->Insert(Record("a")).ok());
  EXPECT_TRUE(store_->Remove("a").ok());
  EXPECT_TRUE(store_->Remove("a").ok());
  EXPECT_EQ(store_->Get("a").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MappingStoreTest, MappingsSurviveReopen) {
  ASSERT_TRUE(store_->Insert(Record("a")).ok());
  ASSERT_TRUE(store_->Insert(Record("b")).ok());
  ASSERT_TRUE(store_->Remove("b").ok());
  Reopen();
  EXPECT_TRUE(store_->Get("a").ok());
  EXPECT_EQ(store_->Get("b").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MappingStoreTest, BothDestinationsAreReadBackAfterReopen) {
  MappingRecord record = Record("a");
  v1::DestinationConfig* destinations = record.mutable_config()->mutable_destination_config();
  destinations->mutable_on_failure()->set_destination("failures");
  destinations->mutable_on_success()->set_destination("deliveries");
  ASSERT_TRUE(store_->Insert(record).ok());
  Reopen();
  absl::StatusOr<MappingRecord> read = store_->Get("a");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->config().destination_config().on_failure().destination(), "failures");
  EXPECT_EQ(read->config().destination_config().on_success().destination(), "deliveries");
}

// RocksDB: one process holds the database. etcd: every tracker replica shares the mappings, and
// a change on one is what the next read on another returns.
TEST_F(MappingStoreTest, ASecondOpenIsRefusedOrSharesTheMappings) {
  ASSERT_TRUE(store_->Insert(Record("a")).ok());
  auto backend = testing::OpenTestRecordBackend(location_);
  if (!testing::TestRecordBackendIsShared()) {
    EXPECT_FALSE(backend.ok()) << "a second open of the directory must fail";
    return;
  }
  ASSERT_TRUE(backend.ok()) << backend.status();
  std::unique_ptr<MappingStore> other = MappingStore::Create(*std::move(backend));
  EXPECT_EQ(other->Get("a")->config().stream_name(), "orders");
  ASSERT_TRUE(other->Modify("a", [](MappingRecord* r) {
                      r->mutable_config()->set_batch_size(7);
                      return absl::OkStatus();
                    }).ok());
  EXPECT_EQ(store_->Get("a")->config().batch_size(), 7) << "no replica keeps a stale copy";
  ASSERT_TRUE(other->Remove("a").ok());
  EXPECT_EQ(store_->Get("a").status().code(), absl::StatusCode::kNotFound);
}

// Two replicas changing one mapping at once: each Modify applies to the record as the other left
// it (a conditional write, read again on conflict), so no change is lost.
TEST_F(MappingStoreTest, ConcurrentModifiesFromTwoStoresLoseNoChange) {
  ASSERT_TRUE(store_->Insert(Record("a")).ok());
  std::unique_ptr<MappingStore> second;
  if (testing::TestRecordBackendIsShared()) {
    second = OpenAnother();
    ASSERT_NE(second, nullptr);
  }
  MappingStore* stores[2] = {store_.get(), second != nullptr ? second.get() : store_.get()};
  constexpr int kEach = 40;
  std::vector<std::thread> threads;
  for (MappingStore* store : stores) {
    threads.emplace_back([store] {
      for (int i = 0; i < kEach; ++i) {
        auto written = store->Modify("a", [](MappingRecord* r) {
          r->mutable_config()->set_config_version(r->config().config_version() + 1);
          return absl::OkStatus();
        });
        EXPECT_TRUE(written.ok()) << written.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(store_->Get("a")->config().config_version(), 1 + 2 * kEach);
}

// A child process writes mappings, reports them acknowledged through a pipe, and is killed with
// SIGKILL while still holding the store open: every acknowledged write must be there on reopen.
TEST(MappingStoreCrashTest, AcknowledgedMappingsSurviveKillMinusNine) {
  testing::ExpectAcknowledgedInsertsSurviveKillMinusNine<MappingStore, MappingRecord>(
      "mapping_store_crash", 50, [](int i) { return Record("m" + std::to_string(1000 + i)); });
}

}  // namespace
}  // namespace tributary::stream_tracker
