#include "poller/shard_processor.h"

#include <initializer_list>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "poller/testing/fakes.h"

namespace tributary::poller {
namespace {

using testing::MakeRecord;

class ShardProcessorTest : public ::testing::Test {
 protected:
  ShardProcessorTest() {
    std::cout << "seed " << seed_ << "\n";
    config_.set_function_endpoint("f:1");
    config_.set_batch_size(7);
    config_.set_maximum_retry_attempts(-1);
    config_.set_maximum_record_age_in_seconds(-1);
  }

  std::unique_ptr<ShardProcessor> NewProcessor() {
    return std::make_unique<ShardProcessor>(
        shard_, config_,
        LaneDeps{clock_, waiter_, function_, destination_, metrics_, BackoffOptions(), seed_});
  }

  // `n` records with keys key-0..key-(keys-1) drawn from the seeded RNG.
  std::vector<v1::Record> RandomKeyRecords(int n, int keys, uint64_t first_seq = 1) {
    std::mt19937_64 rng(seed_);
    std::vector<v1::Record> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(MakeRecord(first_seq + i, absl::StrCat("key-", rng() % keys),
                               absl::StrCat("d", i), clock_.Now()));
    }
    return out;
  }

  void RunUntilDrained(ShardProcessor& p) {
    for (int i = 0; i < 10000 && !p.Drained(); ++i) ASSERT_TRUE(p.RunReadyBatches(stop_).ok());
    ASSERT_TRUE(p.Drained());
  }

  const uint64_t seed_ = tributary::testing::TestSeed();
  FakeClock clock_;
  testing::AdvancingWaiter waiter_{clock_};
  testing::ScriptedFunction function_;
  testing::RecordingDestination destination_;
  PollerMetrics metrics_{"p", clock_};
  ShardContext shard_{"m", "s", "shardId-000000000000"};
  v1::EventSourceMappingConfiguration config_;
  StopSignal stop_;
};

TEST_F(ShardProcessorTest, OneLaneDeliversTheShardInOrder) {
  auto p = NewProcessor();
  const auto records = RandomKeyRecords(300, 13);
  ASSERT_TRUE(p->Offer(records).ok());
  RunUntilDrained(*p);
  std::vector<std::string> delivered;
  for (const auto& batch : function_.batches()) {
    EXPECT_LE(batch.size(), 7u);
    delivered.insert(delivered.end(), batch.begin(), batch.end());
  }
  ASSERT_EQ(delivered.size(), 300u);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(delivered[i], absl::StrCat(i + 1));
  EXPECT_EQ(p->Watermark(), 300u);
}

class LanesTest : public ShardProcessorTest, public ::testing::WithParamInterface<int> {};

TEST_P(LanesTest, PerKeyOrderHoldsWithRetriesAndTheWatermarkReachesTheEnd) {
  const int n = GetParam();
  config_.set_parallelization_factor(n);
  auto p = NewProcessor();
  // Every 5th invocation fails, so batches are retried while other lanes move on.
  function_.SetScript([](const v1::InvokeRequest&, int call) -> absl::StatusOr<v1::InvokeResponse> {
    v1::InvokeResponse r;
    if (call % 5 == 4) r.set_function_error("Unhandled");
    return r;
  });
  const auto records = RandomKeyRecords(400, 23);
  std::map<std::string, std::string> key_of;
  for (const auto& r : records) key_of[r.sequence_number()] = r.partition_key();
  ASSERT_TRUE(p->Offer(records).ok());
  RunUntilDrained(*p);

  std::map<std::string, std::vector<uint64_t>> per_key;  // successful deliveries, in order
  const auto calls = function_.calls();
  for (size_t c = 0; c < calls.size(); ++c) {
    std::set<int> lanes;
    for (const auto& r : calls[c].request.records()) {
      lanes.insert(LaneForPartitionKey(r.partition_key(), n));
    }
    EXPECT_EQ(lanes.size(), 1u) << "a batch holds the records of one lane";
    if (c % 5 == 4) continue;  // failed: retried later
    for (const auto& r : calls[c].request.records()) {
      per_key[r.partition_key()].push_back(std::stoull(r.sequence_number()));
    }
  }
  size_t total = 0;
  for (const auto& [key, seqs] : per_key) {
    total += seqs.size();
    for (size_t i = 1; i < seqs.size(); ++i) EXPECT_LT(seqs[i - 1], seqs[i]) << key;
  }
  EXPECT_EQ(total, 400u);  // every record delivered exactly once successfully
  EXPECT_EQ(p->Watermark(), 400u);
}

INSTANTIATE_TEST_SUITE_P(ParallelizationFactor, LanesTest, ::testing::Range(1, 11),
                         [](const auto& info) { return absl::StrCat("N", info.param); });

TEST_F(ShardProcessorTest, WatermarkIsTheLowWatermarkAcrossLanes) {
  config_.set_parallelization_factor(2);
  config_.set_batch_size(100);
  auto p = NewProcessor();
  // Find two keys in different lanes.
  const std::string a = "a";
  std::string b = "b";
  for (int i = 0; LaneForPartitionKey(b, 2) == LaneForPartitionKey(a, 2); ++i) {
    b = absl::StrCat("b", i);
  }
  ASSERT_TRUE(p->Offer({MakeRecord(1, b, "", clock_.Now()), MakeRecord(2, a, "", clock_.Now()),
                        MakeRecord(3, b, "", clock_.Now()), MakeRecord(4, a, "", clock_.Now())})
                  .ok());
  auto batches = p->TakeReadyBatches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_TRUE(p->TakeReadyBatches().empty()) << "one batch in flight per lane";
  const int lane_a = LaneForPartitionKey(a, 2);
  auto& batch_b = batches[0].lane == lane_a ? batches[1] : batches[0];
  auto& batch_a = batches[0].lane == lane_a ? batches[0] : batches[1];
  ASSERT_TRUE(p->RunBatch(std::move(batch_b), stop_).ok());
  EXPECT_EQ(p->Watermark(), 1u) << "record 2 (lane a) is not done yet";
  EXPECT_FALSE(p->Idle());
  ASSERT_TRUE(p->RunBatch(std::move(batch_a), stop_).ok());
  EXPECT_EQ(p->Watermark(), 4u);
  EXPECT_TRUE(p->Drained());
}

TEST_F(ShardProcessorTest, IteratorAgeIsZeroOnceCaughtUpAndKeptWhileRecordsWait) {
  config_.set_batch_size(2);
  auto p = NewProcessor();
  const absl::Time arrival = clock_.Now();
  ASSERT_TRUE(p->Offer({MakeRecord(1, "k", "", arrival), MakeRecord(2, "k", "", arrival),
                        MakeRecord(3, "k", "", arrival)})
                  .ok());
  clock_.Advance(absl::Seconds(5));
  ASSERT_EQ(p->RunReadyBatches(stop_).value(), 1);  // records 1 and 2; record 3 waits
  EXPECT_EQ(metrics_.IteratorAgeMs(shard_), 5000) << "record 3 is not delivered yet";
  RunUntilDrained(*p);
  EXPECT_EQ(metrics_.IteratorAgeMs(shard_), 0) << "every record is done: caught up";
}

TEST_F(ShardProcessorTest, OutOfOrderOfferIsInvalidArgument) {
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({MakeRecord(5, "k", "", clock_.Now())}).ok());
  EXPECT_EQ(p->Offer({MakeRecord(4, "k", "", clock_.Now())}).code(),
            absl::StatusCode::kInvalidArgument);
  v1::Record bad = MakeRecord(6, "k", "", clock_.Now());
  bad.set_sequence_number("x6");
  EXPECT_EQ(p->Offer({bad}).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ShardProcessorTest, WindowHoldsThePartialBatchUntilItEnds) {
  config_.set_batch_size(100);
  config_.set_maximum_batching_window_in_seconds(2);
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer(RandomKeyRecords(3, 2)).ok());
  EXPECT_EQ(p->NextDeadline(), clock_.Now() + absl::Seconds(2));
  EXPECT_TRUE(p->TakeReadyBatches().empty());
  clock_.Advance(absl::Seconds(2));
  ASSERT_EQ(*p->RunReadyBatches(stop_), 1);
  EXPECT_EQ(function_.batches()[0].size(), 3u);
}

TEST_F(ShardProcessorTest, ShardEndFlushesWithoutWaitingForTheWindow) {
  config_.set_batch_size(100);
  config_.set_maximum_batching_window_in_seconds(300);
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer(RandomKeyRecords(3, 2)).ok());
  EXPECT_TRUE(p->TakeReadyBatches().empty());
  p->MarkShardEnd();
  EXPECT_EQ(*p->RunReadyBatches(stop_), 1);
}

TEST_F(ShardProcessorTest, NewParallelizationFactorAppliesOnceLanesDrainKeepingKeyOrder) {
  config_.set_parallelization_factor(1);
  config_.set_batch_size(4);
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer(RandomKeyRecords(10, 5, 1)).ok());
  ASSERT_EQ(*p->RunReadyBatches(stop_), 1);  // 1..4 out; 5..10 buffered in the single lane
  config_.set_parallelization_factor(4);
  p->UpdateConfig(config_);
  // Records offered now are held until the old lane has drained.
  ASSERT_TRUE(p->Offer(RandomKeyRecords(10, 5, 11)).ok());
  RunUntilDrained(*p);
  std::map<std::string, std::vector<uint64_t>> per_key;
  for (const auto& call : function_.calls()) {
    for (const auto& r : call.request.records()) {
      per_key[r.partition_key()].push_back(std::stoull(r.sequence_number()));
    }
  }
  for (const auto& [key, seqs] : per_key) {
    for (size_t i = 1; i < seqs.size(); ++i) EXPECT_LT(seqs[i - 1], seqs[i]) << key;
  }
  EXPECT_EQ(p->Watermark(), 20u);
}

// Filtering (filter_criteria): records matching no filter never reach a lane and are done at
// once for the watermark.

void SetFilters(v1::EventSourceMappingConfiguration* config,
                std::initializer_list<std::string> patterns) {
  config->clear_filter_criteria();
  for (const std::string& p : patterns)
    config->mutable_filter_criteria()->add_filters()->set_pattern(p);
}

int64_t FilteredCount(PollerMetrics& metrics) {
  const v1::GetMetricsResponse snapshot = metrics.Snapshot();
  return snapshot.shards_size() == 1 ? snapshot.shards(0).records_filtered() : -1;
}

TEST_F(ShardProcessorTest, OnlyMatchingRecordsAreBatchedAndFilteredOnesAreDone) {
  SetFilters(&config_, {R"({"data":{"type":["order"]}})"});
  auto p = NewProcessor();
  std::vector<v1::Record> records;
  for (int i = 1; i <= 10; ++i) {
    records.push_back(MakeRecord(
        i, "k", i % 2 == 1 ? R"({"type":"order"})" : R"({"type":"refund"})", clock_.Now()));
  }
  ASSERT_TRUE(p->Offer(records).ok());
  EXPECT_EQ(p->Outstanding(), 5) << "the 5 refunds are done as soon as they are offered";
  RunUntilDrained(*p);
  std::vector<std::string> delivered;
  for (const auto& batch : function_.batches())
    delivered.insert(delivered.end(), batch.begin(), batch.end());
  EXPECT_EQ(delivered, (std::vector<std::string>{"1", "3", "5", "7", "9"}));
  EXPECT_EQ(p->Watermark(), 10u) << "the last record was filtered: checkpointed past anyway";
  EXPECT_EQ(FilteredCount(metrics_), 5);
  EXPECT_TRUE(destination_.puts().empty());
}

TEST_F(ShardProcessorTest, AFilteredRecordDoesNotMoveTheWatermarkPastAnEarlierRecordInFlight) {
  config_.set_parallelization_factor(2);
  SetFilters(&config_, {R"({"data":{"keep":[true]}})"});
  auto p = NewProcessor();
  std::string b = "b";
  for (int i = 0; LaneForPartitionKey(b, 2) == LaneForPartitionKey("a", 2); ++i) {
    b = absl::StrCat("b", i);
  }
  ASSERT_TRUE(p->Offer({MakeRecord(10, "a", R"({"keep":true})", clock_.Now()),
                        MakeRecord(11, "a", R"({"keep":false})", clock_.Now()),
                        MakeRecord(12, b, R"({"keep":true})", clock_.Now())})
                  .ok());
  auto batches = p->TakeReadyBatches();
  ASSERT_EQ(batches.size(), 2u);
  const int lane_a = LaneForPartitionKey("a", 2);
  auto& batch_a = batches[0].lane == lane_a ? batches[0] : batches[1];
  auto& batch_b = batches[0].lane == lane_a ? batches[1] : batches[0];
  ASSERT_EQ(batch_a.records.size(), 1u) << "record 11 was filtered";
  ASSERT_TRUE(p->RunBatch(std::move(batch_b), stop_).ok());
  EXPECT_EQ(p->Watermark(), std::nullopt) << "11 and 12 are done, 10 is not";
  ASSERT_TRUE(p->RunBatch(std::move(batch_a), stop_).ok());
  EXPECT_EQ(p->Watermark(), 12u);
}

TEST_F(ShardProcessorTest, RecordsThatAllFailTheFiltersDrainWithoutAnInvocation) {
  SetFilters(&config_, {R"({"partitionKey":["nobody"]})"});
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer(RandomKeyRecords(50, 5)).ok());
  EXPECT_TRUE(p->Drained());
  EXPECT_EQ(p->Watermark(), 50u);
  EXPECT_TRUE(p->TakeReadyBatches().empty());
  EXPECT_EQ(function_.call_count(), 0);
  EXPECT_EQ(FilteredCount(metrics_), 50);
}

class FilteredLanesTest : public ShardProcessorTest, public ::testing::WithParamInterface<int> {};

TEST_P(FilteredLanesTest, PerKeyOrderHoldsAndOnlyMatchingRecordsAreDeliveredOnce) {
  config_.set_parallelization_factor(GetParam());
  SetFilters(&config_, {R"({"data":{"keep":[true]}})", R"({"partitionKey":["key-0"]})"});
  auto p = NewProcessor();
  // Every 4th invocation fails, so lanes retry while others move on.
  function_.SetScript([](const v1::InvokeRequest&, int call) -> absl::StatusOr<v1::InvokeResponse> {
    v1::InvokeResponse r;
    if (call % 4 == 3) r.set_function_error("Unhandled");
    return r;
  });
  std::mt19937_64 rng(seed_);
  std::vector<v1::Record> records;
  std::set<std::string> expected;  // sequence numbers that match a filter
  for (int i = 1; i <= 400; ++i) {
    const std::string key = absl::StrCat("key-", rng() % 17);
    const bool keep = rng() % 3 == 0;
    records.push_back(
        MakeRecord(i, key, keep ? R"({"keep":true})" : R"({"keep":false})", clock_.Now()));
    if (keep || key == "key-0") expected.insert(absl::StrCat(i));
  }
  ASSERT_TRUE(p->Offer(records).ok());
  RunUntilDrained(*p);

  std::map<std::string, std::vector<uint64_t>> per_key;  // successful deliveries, in order
  std::set<std::string> delivered;
  const auto calls = function_.calls();
  for (size_t c = 0; c < calls.size(); ++c) {
    if (c % 4 == 3) continue;  // failed: retried later
    for (const auto& r : calls[c].request.records()) {
      per_key[r.partition_key()].push_back(std::stoull(r.sequence_number()));
      EXPECT_TRUE(delivered.insert(r.sequence_number()).second) << "delivered twice";
    }
  }
  for (const auto& [key, seqs] : per_key) {
    for (size_t i = 1; i < seqs.size(); ++i) EXPECT_LT(seqs[i - 1], seqs[i]) << key;
  }
  EXPECT_EQ(delivered, expected);
  EXPECT_EQ(p->Watermark(), 400u);
  EXPECT_EQ(FilteredCount(metrics_), 400 - static_cast<int64_t>(expected.size()));
}

INSTANTIATE_TEST_SUITE_P(ParallelizationFactor, FilteredLanesTest, ::testing::Values(1, 3, 10),
                         [](const auto& info) { return absl::StrCat("N", info.param); });

TEST_F(ShardProcessorTest, NewFiltersApplyToRecordsOfferedAfterTheUpdate) {
  SetFilters(&config_, {R"({"partitionKey":["a"]})"});
  auto p = NewProcessor();
  ASSERT_TRUE(
      p->Offer({MakeRecord(1, "a", "", clock_.Now()), MakeRecord(2, "b", "", clock_.Now())}).ok());
  RunUntilDrained(*p);
  SetFilters(&config_, {R"({"partitionKey":["b"]})"});
  p->UpdateConfig(config_);
  ASSERT_TRUE(
      p->Offer({MakeRecord(3, "a", "", clock_.Now()), MakeRecord(4, "b", "", clock_.Now())}).ok());
  RunUntilDrained(*p);
  SetFilters(&config_, {});  // no filters: everything is delivered
  p->UpdateConfig(config_);
  ASSERT_TRUE(
      p->Offer({MakeRecord(5, "a", "", clock_.Now()), MakeRecord(6, "b", "", clock_.Now())}).ok());
  RunUntilDrained(*p);
  const auto batches = function_.batches();
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0], (std::vector<std::string>{"1"}));
  EXPECT_EQ(batches[1], (std::vector<std::string>{"4"}));
  EXPECT_EQ(batches[2], (std::vector<std::string>{"5", "6"}));
  EXPECT_EQ(p->Watermark(), 6u);
}

TEST_F(ShardProcessorTest, CriteriaThatDoNotCompileFilterNothing) {
  SetFilters(&config_, {R"({"partitionKey":"not an array"})"});
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({MakeRecord(1, "a", "", clock_.Now())}).ok());
  RunUntilDrained(*p);
  EXPECT_EQ(function_.call_count(), 1) << "delivered rather than dropped";
}

}  // namespace
}  // namespace tributary::poller
