// The mapping store with sync_writes under power loss (issue 14, item 6). RocksDB runs on
// common/testing/power_loss_fs.h (data not fsynced is dropped). After every acknowledged change
// (insert, modify, remove) a power loss is simulated on a copy of the data directory, and a
// store reopened on that copy must hold exactly the mappings the live one holds.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/power_loss_fs.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "stream_tracker/mapping_store.h"

namespace tributary::stream_tracker {
namespace {

MappingRecord Record(const std::string& uuid) {
  MappingRecord record;
  record.mutable_config()->set_uuid(uuid);
  record.mutable_config()->set_stream_name("orders");
  record.mutable_config()->set_config_version(1);
  return record;
}

// Every mapping, as text.
std::string Observe(const MappingStore& store) {
  absl::StatusOr<std::vector<MappingRecord>> records = store.List();
  if (!records.ok()) return records.status().ToString();
  std::string out;
  for (const MappingRecord& r : *records) absl::StrAppend(&out, r.ShortDebugString(), "\n");
  return out;
}

class MappingStorePowerLossTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MappingStore::Options options;
    options.sync_writes = true;
    options.env = power_.env();
    absl::StatusOr<std::unique_ptr<MappingStore>> store = MappingStore::Open(dir_, options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // What a store opened on the state a power loss now would leave holds.
  std::string ObserveAfterPowerLoss() {
    const std::string copy = testing::NewTempDir("mapping_after_power_loss");
    absl::Status copied = power_.CopyDurableState(dir_, copy);
    if (!copied.ok()) return copied.ToString();
    absl::StatusOr<std::unique_ptr<MappingStore>> store = MappingStore::Open(copy);
    if (!store.ok()) return store.status().ToString();
    return Observe(**store);
  }

  testing::PowerLossEnv power_;
  const std::string dir_ = testing::NewTempDir("mapping_power") + "/db";
  std::unique_ptr<MappingStore> store_;
};

TEST_F(MappingStorePowerLossTest, EveryAcknowledgedMappingChangeSurvivesPowerLossRightAfterIt) {
  const std::vector<std::pair<std::string, std::function<void()>>> steps = {
      {"create a mapping", [&] { ASSERT_TRUE(store_->Insert(Record("a")).ok()); }},
      {"create another", [&] { ASSERT_TRUE(store_->Insert(Record("b")).ok()); }},
      {"update a mapping",
       [&] {
         ASSERT_TRUE(store_
                         ->Modify("a",
                                  [](MappingRecord* r) {
                                    r->mutable_config()->set_batch_size(7);
                                    r->set_initial_leases_created(true);
                                    r->add_known_shard_ids("shardId-000000000000");
                                    return absl::OkStatus();
                                  })
                         .ok());
       }},
      {"delete a mapping", [&] { ASSERT_TRUE(store_->Remove("b").ok()); }},
  };
  for (const auto& [name, step] : steps) {
    SCOPED_TRACE(name);
    step();
    ASSERT_FALSE(HasFatalFailure());
    const std::string live = Observe(*store_);
    EXPECT_EQ(ObserveAfterPowerLoss(), live) << "after a power loss right after: " << name;
  }
}

}  // namespace
}  // namespace tributary::stream_tracker
