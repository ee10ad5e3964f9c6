// The function store with sync_writes under power loss, as mapping_store_power_loss_test. RocksDB
// runs on common/testing/power_loss_fs.h (data not fsynced is dropped). After every acknowledged
// change (create, update, concurrency, delete) a power loss is simulated on a copy of the data
// directory, and a store reopened on that copy must hold exactly the functions the live one
// holds.
#include <functional>
#include <string>

#include "gtest/gtest.h"
#include "stream_tracker/function_store.h"
#include "stream_tracker/testing/record_store_fixtures.h"

namespace tributary::stream_tracker {
namespace {

FunctionRecord Record(const std::string& name) {
  FunctionRecord record;
  record.mutable_config()->set_function_name(name);
  record.mutable_config()->set_endpoint("fn:1");
  record.mutable_config()->set_timeout_seconds(3);
  return record;
}

class FunctionStorePowerLossTest : public testing::StorePowerLossTest<FunctionStore> {
 protected:
  FunctionStorePowerLossTest() : StorePowerLossTest("function") {}
};

TEST_F(FunctionStorePowerLossTest, EveryAcknowledgedFunctionChangeSurvivesPowerLossRightAfterIt) {
  auto modify = [&](const std::string& name, std::function<void(FunctionRecord*)> change) {
    ASSERT_TRUE(store_
                    ->Modify(name,
                             [&](FunctionRecord* r) {
                               change(r);
                               return absl::OkStatus();
                             })
                    .ok());
  };
  ExpectEachStepSurvivesPowerLoss({
      {"create a function", [&] { ASSERT_TRUE(store_->Insert(Record("f")).ok()); }},
      {"create another", [&] { ASSERT_TRUE(store_->Insert(Record("g")).ok()); }},
      {"update a function's endpoint",
       [&] { modify("f", [](FunctionRecord* r) { r->mutable_config()->set_endpoint("new:2"); }); }},
      {"reserve concurrency",
       [&] {
         modify("f", [](FunctionRecord* r) {
           r->mutable_config()->set_reserved_concurrent_executions(0);
         });
       }},
      {"delete a function", [&] { ASSERT_TRUE(store_->Remove("g").ok()); }},
  });
}

}  // namespace
}  // namespace tributary::stream_tracker
