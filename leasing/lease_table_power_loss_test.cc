// The lease table with sync_writes under power loss (issue 14, item 6). The RocksDB lease store
// runs on common/testing/power_loss_fs.h (data not fsynced is dropped). After every acknowledged
// change a power loss is simulated on a copy of the data directory, and a table reopened on that
// copy must hold exactly the leases and pollers the live one holds. Heartbeats are never synced
// (lease_table.h): a poller's last heartbeat time is left out of the comparison.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/testing/power_loss_fs.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "leasing/lease_store.h"
#include "leasing/lease_table.h"

namespace tributary::leasing {
namespace {

constexpr char kMapping[] = "mapping-1";

LeaseKey Key(const std::string& shard) { return LeaseKey{kMapping, shard}; }

// Every persisted field of every lease and poller, as text (heartbeat times left out).
std::string Observe(LeaseTable& table) {
  std::string out;
  absl::StatusOr<LeasePage> page = table.ListLeases(LeaseFilter(), 10000, "");
  if (!page.ok()) return page.status().ToString();
  for (const Lease& lease : page->leases) {
    const LeaseRecord& r = lease.record;
    absl::StrAppend(
        &out, "lease ", r.key.mapping_uuid, "/", r.key.shard_id, " stream ", r.stream_name,
        " owner '", r.owner, "' counter ", r.lease_counter, " checkpoint ",
        static_cast<int>(r.checkpoint.type), ":", r.checkpoint.sequence_number, " parents [",
        absl::StrJoin(r.parent_shard_ids, ","), "] children [",
        absl::StrJoin(r.child_shard_ids, ","), "] switches ", r.owner_switches_since_checkpoint,
        " enabled ", r.enabled, " moved ", absl::FormatTime(r.moved_at), "\n");
  }
  for (const PollerInfo& p : table.ListPollers()) {
    absl::StrAppend(&out, "poller ", p.poller_id, " capacity ", p.capacity, " leases ",
                    p.lease_count, "\n");
  }
  return out;
}

class LeaseTablePowerLossTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::tributary::testing::NewTempDir("lease_power") + "/db";
    options_.sync_writes = true;
    absl::StatusOr<std::unique_ptr<RocksDbLeaseStore>> store =
        RocksDbLeaseStore::Open(dir_, power_.env());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    absl::StatusOr<std::unique_ptr<LeaseTable>> table =
        LeaseTable::Create(clock_, *store_, options_);
    ASSERT_TRUE(table.ok()) << table.status();
    table_ = std::move(*table);
  }

  // What a table opened on the state a power loss now would leave holds.
  std::string ObserveAfterPowerLoss() {
    const std::string copy = ::tributary::testing::NewTempDir("lease_after_power_loss");
    absl::Status copied = power_.CopyDurableState(dir_, copy);
    if (!copied.ok()) return copied.ToString();
    absl::StatusOr<std::unique_ptr<RocksDbLeaseStore>> store = RocksDbLeaseStore::Open(copy);
    if (!store.ok()) return store.status().ToString();
    absl::StatusOr<std::unique_ptr<LeaseTable>> table =
        LeaseTable::Create(clock_, **store, options_);
    if (!table.ok()) return table.status().ToString();
    return Observe(**table);
  }

  void CreateLease(const std::string& shard, std::vector<std::string> parents = {}) {
    NewLease lease;
    lease.key = Key(shard);
    lease.stream_name = "orders";
    lease.parent_shard_ids = std::move(parents);
    absl::StatusOr<int> created = table_->CreateLeases({lease});
    ASSERT_TRUE(created.ok()) << created.status();
  }
  int64_t Counter(const std::string& shard) {
    absl::StatusOr<Lease> lease = table_->GetLease(Key(shard));
    EXPECT_TRUE(lease.ok()) << lease.status();
    return lease.ok() ? lease->record.lease_counter : -1;
  }
  void CheckpointAt(const std::string& poller, const std::string& shard, Checkpoint checkpoint) {
    absl::StatusOr<Lease> lease =
        table_->Checkpoint(Key(shard), poller, Counter(shard), checkpoint);
    ASSERT_TRUE(lease.ok()) << lease.status();
  }

  FakeClock clock_;
  ::tributary::testing::PowerLossEnv power_;
  LeaseTableOptions options_;
  std::string dir_;
  std::unique_ptr<RocksDbLeaseStore> store_;
  std::unique_ptr<LeaseTable> table_;
};

TEST_F(LeaseTablePowerLossTest, EveryAcknowledgedLeaseChangeSurvivesPowerLossRightAfterIt) {
  const std::vector<std::pair<std::string, std::function<void()>>> steps = {
      {"register pollers",
       [&] {
         ASSERT_TRUE(table_->RegisterPoller("p1", 10).ok());
         ASSERT_TRUE(table_->RegisterPoller("p2", 10).ok());
       }},
      {"create leases",
       [&] {
         CreateLease("shard-0");
         CreateLease("shard-1");
         CreateLease("shard-2", {"shard-0", "shard-1"});
       }},
      {"acquire",
       [&] {
         // Two assignable leases, two live pollers: one each, in key order.
         for (const std::string poller : {"p1", "p2"}) {
           absl::StatusOr<std::vector<Lease>> granted = table_->AcquireLeases(poller);
           ASSERT_TRUE(granted.ok()) << granted.status();
           ASSERT_EQ(granted->size(), 1u) << poller;
         }
       }},
      {"checkpoint a sequence number",
       [&] {
         CheckpointAt("p1", "shard-0", Checkpoint{CheckpointType::kSequenceNumber, 42});
       }},
      {"checkpoint SHARD_END",
       [&] { CheckpointAt("p2", "shard-1", Checkpoint{CheckpointType::kShardEnd}); }},
      {"release",
       [&] { ASSERT_TRUE(table_->ReleaseLease(Key("shard-0"), "p1", Counter("shard-0")).ok()); }},
      {"heartbeat (never synced)",
       [&] {
         clock_.Advance(absl::Seconds(1));
         ASSERT_TRUE(table_->Heartbeat("p1").ok());
       }},
      {"disable the mapping",
       [&] { ASSERT_TRUE(table_->SetMappingEnabled(kMapping, false).ok()); }},
      {"enable the mapping", [&] { ASSERT_TRUE(table_->SetMappingEnabled(kMapping, true).ok()); }},
      {"delete a lease", [&] { ASSERT_TRUE(table_->DeleteLeases({Key("shard-1")}, "").ok()); }},
      {"deregister a poller", [&] { ASSERT_TRUE(table_->DeregisterPoller("p2").ok()); }},
  };
  for (const auto& [name, step] : steps) {
    SCOPED_TRACE(name);
    step();
    ASSERT_FALSE(HasFatalFailure());
    const std::string live = Observe(*table_);
    EXPECT_EQ(ObserveAfterPowerLoss(), live) << "after a power loss right after: " << name;
  }
}

}  // namespace
}  // namespace tributary::leasing
