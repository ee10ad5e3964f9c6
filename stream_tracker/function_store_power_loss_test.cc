// The function store with sync_writes under power loss, as mapping_store_power_loss_test. RocksDB
// runs on common/testing/power_loss_fs.h (data not fsynced is dropped). After every acknowledged
// change (create, update, concurrency, delete) a power loss is simulated on a copy of the data
// directory, and a store reopened on that copy must hold exactly the functions the live one
// holds.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/power_loss_fs.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "stream_tracker/function_store.h"

namespace tributary::stream_tracker {
namespace {

FunctionRecord Record(const std::string& name) {
  FunctionRecord record;
  record.mutable_config()->set_function_name(name);
  record.mutable_config()->set_endpoint("fn:1");
  record.mutable_config()->set_timeout_seconds(3);
  return record;
}

// Every function, as text.
std::string Observe(const FunctionStore& store) {
  absl::StatusOr<std::vector<FunctionRecord>> records = store.List();
  if (!records.ok()) return records.status().ToString();
  std::string out;
  for (const FunctionRecord& r : *records) absl::StrAppend(&out, r.ShortDebugString(), "\n");
  return out;
}

class FunctionStorePowerLossTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FunctionStore::Options options;
    options.sync_writes = true;
    options.env = power_.env();
    absl::StatusOr<std::unique_ptr<FunctionStore>> store = FunctionStore::Open(dir_, options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // What a store opened on the state a power loss now would leave holds.
  std::string ObserveAfterPowerLoss() {
    const std::string copy = testing::NewTempDir("function_after_power_loss");
    absl::Status copied = power_.CopyDurableState(dir_, copy);
    if (!copied.ok()) return copied.ToString();
    absl::StatusOr<std::unique_ptr<FunctionStore>> store = FunctionStore::Open(copy);
    if (!store.ok()) return store.status().ToString();
    return Observe(**store);
  }

  testing::PowerLossEnv power_;
  const std::string dir_ = testing::NewTempDir("function_power") + "/db";
  std::unique_ptr<FunctionStore> store_;
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
  const std::vector<std::pair<std::string, std::function<void()>>> steps = {
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
