// Leasing's families: leases by state and pollers by liveness from the table at scrape time,
// expirations counted when an expired lease is taken over, heartbeats and checkpoints (accepted
// and fenced) counted at the service. The service's handlers are called directly (no channel).
#include "leasing/leasing_metrics.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "common/clock.h"
#include "common/metrics/promtool.h"
#include "common/metrics/registry.h"
#include "gtest/gtest.h"
#include "leasing/lease_table.h"
#include "leasing/leasing_service.h"
#include "leasing/testing/test_lease_store.h"

namespace tributary::leasing {
namespace {

NewLease MakeLease(const std::string& shard, std::vector<std::string> parents = {}) {
  NewLease lease;
  lease.key = LeaseKey{"esm-1", shard};
  lease.stream_name = "orders";
  lease.parent_shard_ids = std::move(parents);
  return lease;
}

class LeasingMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = testing::OpenTestLeaseStore(testing::NewTestLeaseStoreLocation());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    LeaseTableOptions options;
    options.lease_duration = absl::Seconds(10);
    auto table = LeaseTable::Create(clock_, *store_, options);
    ASSERT_TRUE(table.ok()) << table.status();
    table_ = *std::move(table);
    service_ = std::make_unique<LeasingService>(*table_);
    metrics_ = std::make_unique<LeasingMetrics>(registry_, *table_);
    service_->SetMetrics(metrics_.get());
  }

  bool Has(const std::string& line) {
    const std::string text = registry_.Render();
    const bool found = absl::StrContains(text, line);
    EXPECT_TRUE(found) << line << "\n" << text;
    return found;
  }

  grpc::Status Checkpoint(const std::string& poller, const std::string& shard, int64_t counter,
                          const std::string& sequence_number) {
    v1::CheckpointRequest request;
    request.mutable_lease_key()->set_event_source_mapping_uuid("esm-1");
    request.mutable_lease_key()->set_shard_id(shard);
    request.set_poller_id(poller);
    request.set_lease_counter(counter);
    request.mutable_checkpoint()->set_type(v1::SEQUENCE_NUMBER);
    request.mutable_checkpoint()->set_sequence_number(sequence_number);
    v1::CheckpointResponse response;
    return service_->Checkpoint(nullptr, &request, &response);
  }

  FakeClock clock_;
  std::unique_ptr<LeaseStore> store_;
  std::unique_ptr<LeaseTable> table_;
  std::unique_ptr<LeasingService> service_;
  metrics::Registry registry_;
  std::unique_ptr<LeasingMetrics> metrics_;
};

TEST_F(LeasingMetricsTest, LeaseStateNameFollowsThePrecedence) {
  Lease lease;
  lease.assignable = true;
  EXPECT_STREQ(LeaseStateName(lease), "unowned");
  lease.assignable = false;
  EXPECT_STREQ(LeaseStateName(lease), "waiting");
  lease.record.owner = "p1";
  EXPECT_STREQ(LeaseStateName(lease), "owned");
  lease.expired = true;
  EXPECT_STREQ(LeaseStateName(lease), "expired");
  lease.record.enabled = false;
  EXPECT_STREQ(LeaseStateName(lease), "disabled");
  lease.record.checkpoint.type = CheckpointType::kShardEnd;
  EXPECT_STREQ(LeaseStateName(lease), "finished");
}

TEST_F(LeasingMetricsTest, EveryStateIsExportedAtZeroOnAnEmptyTable) {
  for (const std::string& state : LeaseStateNames()) {
    Has("tributary_leasing_leases{state=\"" + state + "\"} 0\n");
  }
  Has("tributary_leasing_pollers{state=\"live\"} 0\n");
  Has("tributary_leasing_lease_expirations_total 0\n");
  EXPECT_TRUE(metrics::PromtoolCheckMetrics(registry_.Render()));
}

TEST_F(LeasingMetricsTest, StatesExpirationsHeartbeatsAndFencedCheckpointsFollowARun) {
  // shard-1 with its child shard-2 (waiting for its parent), and shard-3.
  ASSERT_TRUE(
      table_->CreateLeases({MakeLease("shard-1"), MakeLease("shard-2", {"shard-1"}),
                            MakeLease("shard-3")})
          .ok());
  Has("tributary_leasing_leases{state=\"unowned\"} 2\n");
  Has("tributary_leasing_leases{state=\"waiting\"} 1\n");

  ASSERT_TRUE(table_->RegisterPoller("p1", 1).ok());
  auto granted = table_->AcquireLeases("p1");
  ASSERT_TRUE(granted.ok()) << granted.status();
  ASSERT_EQ(granted->size(), 1u);
  const std::string shard = (*granted)[0].record.key.shard_id;
  const int64_t p1_counter = (*granted)[0].record.lease_counter;
  Has("tributary_leasing_leases{state=\"owned\"} 1\n");
  Has("tributary_leasing_pollers{state=\"live\"} 1\n");

  v1::HeartbeatRequest heartbeat;
  heartbeat.set_poller_id("p1");
  v1::HeartbeatResponse heartbeat_response;
  ASSERT_TRUE(service_->Heartbeat(nullptr, &heartbeat, &heartbeat_response).ok());
  heartbeat.set_poller_id("nobody");  // NOT_FOUND: not counted
  EXPECT_FALSE(service_->Heartbeat(nullptr, &heartbeat, &heartbeat_response).ok());
  Has("tributary_leasing_heartbeats_total 1\n");

  ASSERT_TRUE(Checkpoint("p1", shard, p1_counter, "5").ok());
  Has("tributary_leasing_checkpoints_total 1\n");

  // p1 falls silent: its lease expires; p2 takes it over (one expiration), and p1's late
  // checkpoint is fenced.
  clock_.Advance(absl::Seconds(11));
  Has("tributary_leasing_leases{state=\"expired\"} 1\n");
  Has("tributary_leasing_pollers{state=\"silent\"} 1\n");
  ASSERT_TRUE(table_->RegisterPoller("p2", 10).ok());
  auto taken = table_->AcquireLeases("p2");
  ASSERT_TRUE(taken.ok()) << taken.status();
  ASSERT_EQ(taken->size(), 2u);  // the other unowned lease and p1's expired one
  Has("tributary_leasing_lease_expirations_total 1\n");
  Has("tributary_leasing_leases{state=\"owned\"} 2\n");
  Has("tributary_leasing_leases{state=\"expired\"} 0\n");

  const grpc::Status fenced = Checkpoint("p1", shard, p1_counter, "9");
  EXPECT_EQ(fenced.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  Has("tributary_leasing_fenced_checkpoints_total 1\n");
  Has("tributary_leasing_checkpoints_total 1\n");
  EXPECT_TRUE(metrics::PromtoolCheckMetrics(registry_.Render()));
}

}  // namespace
}  // namespace tributary::leasing
