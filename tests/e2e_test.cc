// End-to-end: real binaries on loopback, one fault at a time during load.
//
// Each scenario: start shard_store, leasing, stream_tracker and two pollers as processes; create
// a 4-shard stream and a mapping to a recording function in this process; produce numbered
// records over many keys; inject the fault mid-load; then check that every acknowledged record
// was delivered at least once, that first deliveries keep per-key and per-shard order, and that
// parents ran before children. Failover times are printed. Bounded: a few thousand records and
// at most a minute of waiting per scenario.
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/testing/assertions.h"
#include "gtest/gtest.h"
#include "leasing/leasing_client.h"
#include "mapping/lanes.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tests/cluster.h"

namespace tributary::e2e {
namespace {

constexpr char kStream[] = "e2e";
constexpr int kShards = 4;
constexpr int kKeys = 64;
constexpr int64_t kRecords = 6000;
constexpr int kRecordsPerCall = 50;
// 6000 records at 2000/s: three seconds of load, the fault one second in.
constexpr int kRecordsPerSecond = 2000;

enum class Fault { kNone, kStore, kLeasing, kTracker, kPoller, kSplit };

std::string FaultName(const ::testing::TestParamInfo<Fault>& info) {
  switch (info.param) {
    case Fault::kNone:
      return "NoFault";
    case Fault::kStore:
      return "KillStore";
    case Fault::kLeasing:
      return "KillLeasing";
    case Fault::kTracker:
      return "KillTracker";
    case Fault::kPoller:
      return "KillOneOfTwoPollers";
    case Fault::kSplit:
      return "SplitDuringLoad";
  }
  return "Unknown";
}

class EndToEndTest : public ::testing::TestWithParam<Fault> {
 protected:
  // The mapping's tumbling window (0: none) and parallelization factor.
  virtual int TumblingWindowSeconds() const { return 0; }
  virtual int ParallelizationFactor() const { return 1; }

  void SetUp() override {
    ClusterOptions options;
    options.pollers = 2;
    options.lease_duration_ms = 2000;
    cluster_ = std::make_unique<Cluster>(options);
    absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << "cluster did not start: " << started;

    v1::CreateStreamRequest create;
    create.set_stream_name(kStream);
    create.set_shard_count(kShards);
    auto stream = cluster_->streams().CreateStream(create);
    ASSERT_TRUE(stream.ok()) << stream.status();

    stream_tracker::StreamTrackerClient tracker(MakeChannel(cluster_->stream_tracker_address()));
    v1::CreateEventSourceMappingRequest mapping;
    mapping.set_stream_name(kStream);
    mapping.set_function_endpoint(cluster_->function_address());
    mapping.set_starting_position(v1::TRIM_HORIZON_POSITION);
    mapping.set_batch_size(100);
    mapping.set_tumbling_window_in_seconds(TumblingWindowSeconds());
    mapping.set_parallelization_factor(ParallelizationFactor());
    auto created = tracker.CreateEventSourceMapping(mapping);
    ASSERT_TRUE(created.ok()) << created.status();
    mapping_uuid_ = created->uuid();
  }

  // Waits (real time, bounded) until every acknowledged record has been delivered. A failure
  // says what was missing at the end.
  [[nodiscard]] ::testing::AssertionResult WaitForAllDelivered(const std::vector<Acked>& acked,
                                                               absl::Duration timeout) {
    absl::Status last;
    return tributary::testing::IsOk(PollFor(
        timeout, absl::Milliseconds(100),
        absl::StrCat("all ", acked.size(), " acknowledged records delivered"),
        [&] {
          last = CheckEveryAckedDelivered(acked, cluster_->function().Deliveries());
          return last.ok();
        },
        [&] { return last.ToString(); }));
  }

  // Waits (real time, bounded) until the mapping's last_processing_result is `result`; returns
  // the last one seen.
  std::string WaitForProcessingResult(const std::string& result, absl::Duration timeout) {
    stream_tracker::StreamTrackerClient tracker(MakeChannel(cluster_->stream_tracker_address()));
    v1::GetEventSourceMappingRequest get;
    get.set_uuid(mapping_uuid_);
    const MonotonicTime deadline = RealClock::Get().MonotonicNow() + timeout;
    std::string seen;
    while (RealClock::Get().MonotonicNow() < deadline) {
      auto mapping = tracker.GetEventSourceMapping(get);
      if (mapping.ok()) seen = mapping->last_processing_result();
      if (seen == result) break;
      RealClock::Get().SleepFor(absl::Milliseconds(100));
    }
    return seen;
  }

  // Shard lineage as the store reports it: child → parents.
  std::map<std::string, std::vector<std::string>> Lineage() {
    std::map<std::string, std::vector<std::string>> parents;
    auto shards = cluster_->streams().ListAllShards(kStream);
    if (!shards.ok()) return parents;
    for (const v1::Shard& shard : *shards) {
      if (!shard.parent_shard_id().empty()) {
        parents[shard.shard_id()].push_back(shard.parent_shard_id());
      }
      if (!shard.adjacent_parent_shard_id().empty()) {
        parents[shard.shard_id()].push_back(shard.adjacent_parent_shard_id());
      }
    }
    return parents;
  }

  // The shards poller0 holds now.
  std::set<std::string> ShardsOwnedBy(const std::string& poller) {
    leasing::LeasingClient leasing(MakeChannel(cluster_->leasing_address()));
    v1::ListLeasesRequest request;
    request.set_lease_owner(poller);
    std::set<std::string> shards;
    auto leases = leasing.ListLeases(request);
    if (leases.ok()) {
      for (const v1::Lease& lease : leases->leases()) shards.insert(lease.shard_id());
    }
    return shards;
  }

  // Real time from `since` to the first delivery after it on each of `shards`; the largest.
  absl::Duration FailoverTime(const std::set<std::string>& shards, MonotonicTime since) {
    std::map<std::string, MonotonicTime> first_after;
    for (const Delivery& d : cluster_->function().Deliveries()) {
      if (d.at > since && shards.count(d.shard_id) > 0) first_after.emplace(d.shard_id, d.at);
    }
    absl::Duration worst = absl::ZeroDuration();
    for (const std::string& shard : shards) {
      auto it = first_after.find(shard);
      if (it == first_after.end()) return absl::InfiniteDuration();
      worst = std::max(worst, it->second - since);
    }
    return worst;
  }

  std::unique_ptr<Cluster> cluster_;
  std::string mapping_uuid_;
};

TEST_P(EndToEndTest, EveryAcknowledgedRecordIsDeliveredInOrder) {
  const Fault fault = GetParam();
  Producer producer(kStream, cluster_->shard_store_address(), kKeys, kRecordsPerCall,
                    kRecordsPerSecond);
  producer.Start(kRecords);
  ASSERT_TRUE(producer.WaitForAcked(kRecords / 3, absl::Seconds(60)))
      << "the producer stalled before the fault";
  ASSERT_LT(producer.acked_count(), kRecords) << "the load ended before the fault";

  std::set<std::string> moved_shards;
  MonotonicTime fault_at = RealClock::Get().MonotonicNow();
  switch (fault) {
    case Fault::kNone:
      break;
    case Fault::kStore:
      fault_at = *cluster_->KillAndRestart(Component::kShardStore);
      break;
    case Fault::kLeasing:
      fault_at = *cluster_->KillAndRestart(Component::kLeasing);
      break;
    case Fault::kTracker:
      fault_at = *cluster_->KillAndRestart(Component::kStreamTracker);
      break;
    case Fault::kPoller: {
      moved_shards = ShardsOwnedBy("poller0");
      auto killed = cluster_->Kill(Component::kPoller0);
      ASSERT_TRUE(killed.ok());
      fault_at = *killed;
      break;
    }
    case Fault::kSplit: {
      v1::SplitShardRequest split;
      split.set_stream_name(kStream);
      split.set_shard_to_split("shardId-000000000000");
      // The middle of shard 0's range [0, 2^128/4): 2^128/8.
      split.set_new_starting_hash_key("42535295865117307932921825928971026432");
      auto done = cluster_->streams().SplitShard(split);
      ASSERT_TRUE(done.ok()) << done.status();
      break;
    }
  }

  ASSERT_TRUE(producer.WaitForAcked(kRecords, absl::Seconds(90)))
      << "the producer did not finish after the fault; acknowledged " << producer.acked_count();
  producer.Stop();
  const std::vector<Acked> acked = producer.AckedRecords();
  const ::testing::AssertionResult all = WaitForAllDelivered(acked, absl::Seconds(90));
  const std::vector<Delivery> deliveries = cluster_->function().Deliveries();

  EXPECT_TRUE(all);
  EXPECT_TRUE(CheckFirstDeliveriesInKeyOrder(acked, deliveries).ok())
      << CheckFirstDeliveriesInKeyOrder(acked, deliveries);
  EXPECT_TRUE(CheckFirstDeliveriesInShardOrder(deliveries).ok())
      << CheckFirstDeliveriesInShardOrder(deliveries);
  EXPECT_TRUE(CheckParentsBeforeChildren(Lineage(), deliveries).ok())
      << CheckParentsBeforeChildren(Lineage(), deliveries);

  // Recovery is measured on the shards still open at the end: a split closes its parent, which
  // then has nothing left to deliver after the fault.
  std::set<std::string> all_shards;
  for (const Acked& a : acked) all_shards.insert(a.shard_id);
  for (const auto& [child, parent_ids] : Lineage()) {
    for (const std::string& parent : parent_ids) all_shards.erase(parent);
  }
  const absl::Duration recovery =
      FailoverTime(fault == Fault::kPoller ? moved_shards : all_shards, fault_at);
  std::cout << "[e2e] " << FaultName({fault, 0}) << ": acknowledged " << acked.size()
            << ", deliveries " << deliveries.size() << " (duplicates "
            << static_cast<int64_t>(deliveries.size()) - static_cast<int64_t>(acked.size())
            << "), producer retries " << producer.failed_calls() << ", failover "
            << absl::FormatDuration(recovery) << std::endl;
  if (fault == Fault::kSplit) {
    EXPECT_FALSE(Lineage().empty()) << "the split left no child shards";
  }
  if (fault == Fault::kStore) {
    EXPECT_GT(producer.failed_calls(), 0) << "the store restart was not seen by the producer";
  }
  if (fault == Fault::kPoller) {
    EXPECT_FALSE(moved_shards.empty()) << "the killed poller held no lease";
  }
  // Every scenario's records keep flowing after the fault (the figure is printed above).
  EXPECT_LT(recovery, absl::Seconds(60)) << "deliveries did not resume after the fault";
  // The function succeeded throughout: the mapping says so, as Lambda's LastProcessingResult
  // does (poller heartbeat → leasing → the tracker's next full look).
  EXPECT_EQ(WaitForProcessingResult("OK", absl::Seconds(30)), "OK");
}

// The same cluster with a mapping of 1-second tumbling windows: every window a delivered record
// belongs to is closed, and its final invocation counted exactly its records, also when the
// poller holding a shard is killed mid-window (the next owner re-reads the window from its
// start: the checkpoint never moves inside an open window).
class TumblingWindowsEndToEndTest : public EndToEndTest {
 protected:
  int TumblingWindowSeconds() const override { return 1; }

  // Load with the fault of GetParam(), then the checks.
  void RunWindowsScenario() {
    constexpr int64_t kWindowRecords = 3000;  // 1.5 s of load: at least two windows per shard
    if (GetParam() == Fault::kPoller) {
      // The load is short: let the two pollers share the leases first, so that the kill moves some.
      const MonotonicTime deadline = RealClock::Get().MonotonicNow() + absl::Seconds(30);
      while (ShardsOwnedBy("poller0").empty() && RealClock::Get().MonotonicNow() < deadline) {
        RealClock::Get().SleepFor(absl::Milliseconds(50));
      }
    }
    Producer producer(kStream, cluster_->shard_store_address(), kKeys, kRecordsPerCall,
                      kRecordsPerSecond);
    producer.Start(kWindowRecords);
    ASSERT_TRUE(producer.WaitForAcked(kWindowRecords / 3, absl::Seconds(60)))
        << "the producer stalled before the fault";
    std::set<std::string> moved_shards;
    if (GetParam() == Fault::kPoller) {
      moved_shards = ShardsOwnedBy("poller0");
      ASSERT_TRUE(cluster_->Kill(Component::kPoller0).ok());
      EXPECT_FALSE(moved_shards.empty()) << "the killed poller held no lease";
    }
    ASSERT_TRUE(producer.WaitForAcked(kWindowRecords, absl::Seconds(90)))
        << "the producer did not finish; acknowledged " << producer.acked_count();
    producer.Stop();
    const std::vector<Acked> acked = producer.AckedRecords();
    EXPECT_TRUE(WaitForAllDelivered(acked, absl::Seconds(90)));

    // The last windows close by the clock, a grace after their end: wait (bounded) for them.
    const MonotonicTime deadline = RealClock::Get().MonotonicNow() + absl::Seconds(60);
    absl::Status windows;
    do {
      windows = CheckWindowsCountedExactly(
          1000, cluster_->function().Deliveries(), cluster_->function().WindowCloses(),
          [this](const std::string& key) {
            return mapping::LaneForPartitionKey(key, ParallelizationFactor());
          });
      if (windows.ok()) break;
      RealClock::Get().SleepFor(absl::Milliseconds(100));
    } while (RealClock::Get().MonotonicNow() < deadline);
    EXPECT_TRUE(windows.ok()) << windows;
    const std::vector<Delivery> deliveries = cluster_->function().Deliveries();
    EXPECT_TRUE(CheckFirstDeliveriesInKeyOrder(acked, deliveries).ok())
        << CheckFirstDeliveriesInKeyOrder(acked, deliveries);
    std::cout << "[e2e] windows " << FaultName({GetParam(), 0}) << ": acknowledged " << acked.size()
              << ", deliveries " << deliveries.size() << ", window closes "
              << cluster_->function().WindowCloses().size() << std::endl;
  }
};

TEST_P(TumblingWindowsEndToEndTest, EveryWindowIsClosedWithExactlyItsRecordsCounted) {
  RunWindowsScenario();
}

INSTANTIATE_TEST_SUITE_P(Faults, TumblingWindowsEndToEndTest,
                         ::testing::Values(Fault::kNone, Fault::kPoller), FaultName);

// The same with three lanes a shard: each lane has its own windows, and a window one lane closed
// is not checkpointed past while another lane still has it open, so the failover re-runs whole
// windows in every lane (never the tail of one).
class TumblingWindowLanesEndToEndTest : public TumblingWindowsEndToEndTest {
 protected:
  int ParallelizationFactor() const override { return 3; }
};

TEST_P(TumblingWindowLanesEndToEndTest, EveryLanesWindowIsClosedWithExactlyItsRecordsCounted) {
  RunWindowsScenario();
}

INSTANTIATE_TEST_SUITE_P(Faults, TumblingWindowLanesEndToEndTest, ::testing::Values(Fault::kPoller),
                         FaultName);

INSTANTIATE_TEST_SUITE_P(Faults, EndToEndTest,
                         ::testing::Values(Fault::kNone, Fault::kStore, Fault::kLeasing,
                                           Fault::kTracker, Fault::kPoller, Fault::kSplit),
                         FaultName);

}  // namespace
}  // namespace tributary::e2e
