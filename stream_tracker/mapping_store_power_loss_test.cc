// The mapping store with sync_writes under power loss (issue 14, item 6). RocksDB runs on
// common/testing/power_loss_fs.h (data not fsynced is dropped). After every acknowledged change
// (insert, modify, remove) a power loss is simulated on a copy of the data directory, and a
// store reopened on that copy must hold exactly the mappings the live one holds.
#include <string>

#include "gtest/gtest.h"
#include "stream_tracker/mapping_store.h"
#include "stream_tracker/testing/record_store_fixtures.h"

namespace tributary::stream_tracker {
namespace {

MappingRecord Record(const std::string& uuid) {
  MappingRecord record;
  record.mutable_config()->set_uuid(uuid);
  record.mutable_config()->set_stream_name("orders");
  record.mutable_config()->set_config_version(1);
  return record;
}

class MappingStorePowerLossTest : public testing::StorePowerLossTest<MappingStore> {
 protected:
  MappingStorePowerLossTest() : StorePowerLossTest("mapping") {}
};

TEST_F(MappingStorePowerLossTest, EveryAcknowledgedMappingChangeSurvivesPowerLossRightAfterIt) {
  ExpectEachStepSurvivesPowerLoss({
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
  });
}

}  // namespace
}  // namespace tributary::stream_tracker
