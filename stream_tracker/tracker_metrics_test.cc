// The tracker's families: mappings by state from the store at scrape time, and every lease sync
// pass counted by result and timed on the sync's clock (the fakes, a FakeClock, RunOnce()).
#include "stream_tracker/tracker_metrics.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "common/clock.h"
#include "common/metrics/promtool.h"
#include "common/metrics/registry.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "stream_tracker/lease_sync.h"
#include "stream_tracker/mapping_manager.h"
#include "stream_tracker/mapping_store.h"
#include "stream_tracker/testing/fake_lease_admin.h"
#include "stream_tracker/testing/fake_stream_catalog.h"

namespace tributary::stream_tracker {
namespace {

class TrackerMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = MappingStore::Open(tributary::testing::NewTempDir("tracker_metrics"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    sync_ = std::make_unique<LeaseSync>(store_.get(), &streams_, &leases_, clock_);
    manager_ = std::make_unique<MappingManager>(store_.get(), &streams_, clock_, [] {});
    metrics_ = std::make_unique<TrackerMetrics>(registry_, *store_);
    sync_->SetPassObserver([this](const absl::Status& status, absl::Duration duration) {
      metrics_->Pass(status, duration);
    });
  }

  void CreateMapping(bool enabled) {
    v1::CreateEventSourceMappingRequest request;
    request.set_stream_name("orders");
    request.set_function_endpoint("fn:1");
    request.set_starting_position(v1::TRIM_HORIZON_POSITION);
    request.set_enabled(enabled);
    auto config = manager_->Create(request);
    ASSERT_TRUE(config.ok()) << config.status();
  }

  void ExpectHas(const std::string& line) {
    const std::string text = registry_.Render();
    EXPECT_TRUE(absl::StrContains(text, line)) << line << "\n" << text;
  }

  FakeClock clock_;
  testing::FakeStreamCatalog streams_{clock_};
  testing::FakeLeaseAdmin leases_;
  std::unique_ptr<MappingStore> store_;
  std::unique_ptr<LeaseSync> sync_;
  std::unique_ptr<MappingManager> manager_;
  metrics::Registry registry_;
  std::unique_ptr<TrackerMetrics> metrics_;
};

TEST(MappingStateLabelTest, LambdasStatesInLowerCase) {
  EXPECT_STREQ(MappingStateLabel(v1::CREATING_MAPPING), "creating");
  EXPECT_STREQ(MappingStateLabel(v1::ENABLED), "enabled");
  EXPECT_STREQ(MappingStateLabel(v1::UPDATING_MAPPING), "updating");
  EXPECT_STREQ(MappingStateLabel(v1::DISABLING), "disabling");
  EXPECT_STREQ(MappingStateLabel(v1::DISABLED), "disabled");
  EXPECT_STREQ(MappingStateLabel(v1::DELETING_MAPPING), "deleting");
  EXPECT_STREQ(MappingStateLabel(v1::ENABLING), "enabling");
  EXPECT_STREQ(MappingStateLabel(v1::EVENT_SOURCE_MAPPING_STATE_UNSPECIFIED), "unknown");
}

TEST_F(TrackerMetricsTest, MappingsByStateAndPassesFollowTheSync) {
  ExpectHas("tributary_tracker_mappings{state=\"enabled\"} 0\n");
  streams_.CreateStream("orders", 1);
  CreateMapping(/*enabled=*/true);
  CreateMapping(/*enabled=*/false);
  ExpectHas("tributary_tracker_mappings{state=\"creating\"} 2\n");

  // The pass takes 250 ms on the sync's clock (leasing answers slowly).
  leases_.OnSetMappingEnabled([this] { clock_.Advance(absl::Milliseconds(125)); });
  ASSERT_TRUE(sync_->RunOnce().ok());
  ExpectHas("tributary_tracker_mappings{state=\"creating\"} 0\n");
  ExpectHas("tributary_tracker_mappings{state=\"enabled\"} 1\n");
  ExpectHas("tributary_tracker_mappings{state=\"disabled\"} 1\n");
  ExpectHas("tributary_tracker_sync_passes_total{result=\"ok\"} 1\n");
  ExpectHas("tributary_tracker_sync_passes_total{result=\"error\"} 0\n");
  ExpectHas("tributary_tracker_sync_pass_duration_seconds_sum 0.25\n");
  ExpectHas("tributary_tracker_sync_pass_duration_seconds_count 1\n");

  leases_.FailNextCalls(absl::UnavailableError("leasing down"), 100);
  EXPECT_FALSE(sync_->RunOnce().ok());
  ExpectHas("tributary_tracker_sync_passes_total{result=\"error\"} 1\n");
  ExpectHas("tributary_tracker_sync_pass_duration_seconds_count 2\n");
  EXPECT_TRUE(metrics::PromtoolCheckMetrics(registry_.Render()));
}

}  // namespace
}  // namespace tributary::stream_tracker
