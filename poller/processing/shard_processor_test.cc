#include "poller/processing/shard_processor.h"

#include <initializer_list>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/testing/log_capture.h"
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
    return std::make_unique<ShardProcessor>(shard_, config_,
                                            LaneDeps{clock_, waiter_, function_, destination_,
                                                     metrics_, BackoffOptions(), seed_, grace_});
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
  absl::Duration grace_ = absl::Seconds(1);  // tumbling windows' close grace
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
  EXPECT_EQ(p->NextDeadline(), clock_.MonotonicNow() + absl::Seconds(2));
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

// Regression (issue 14, item 4): criteria that did not compile filtered nothing, so the function
// got every record the user meant to exclude, and nobody was told.
TEST_F(ShardProcessorTest, CriteriaThatDoNotCompileHoldTheShardUntilAnUpdateFixesThem) {
  tributary::testing::LogCapture log;
  SetFilters(&config_, {R"({"partitionKey":"not an array"})"});
  auto p = NewProcessor();
  ASSERT_TRUE(
      p->Offer({MakeRecord(1, "a", "", clock_.Now()), MakeRecord(2, "b", "", clock_.Now())}).ok());
  ASSERT_TRUE(p->Offer({MakeRecord(3, "a", "", clock_.Now())}).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(p->RunReadyBatches(stop_).ok());
  EXPECT_EQ(function_.call_count(), 0) << "nothing delivered unfiltered";
  EXPECT_EQ(p->Watermark(), std::nullopt) << "nothing done: the checkpoint stays before them";
  EXPECT_EQ(p->Outstanding(), 3);
  EXPECT_FALSE(p->Drained());
  const LastError error = metrics_.LastErrorOf(shard_);
  EXPECT_EQ(error.kind, ErrorKind::kInvalidFilterCriteria);
  EXPECT_NE(error.message.find("filter_criteria.filters[0].pattern"), std::string::npos)
      << error.message;
  EXPECT_EQ(log.Count({"mapping m shard shardId-000000000000", "filter criteria do not compile",
                       "the shard is held"}),
            1);

  p->UpdateConfig(config_);  // a newer configuration, still broken: still held, not logged again
  EXPECT_EQ(log.Count({"filter criteria do not compile"}), 1);
  SetFilters(&config_, {R"({"partitionKey":["a"]})"});
  p->UpdateConfig(config_);
  RunUntilDrained(*p);
  ASSERT_EQ(function_.batches().size(), 1u);
  EXPECT_EQ(function_.batches()[0], (std::vector<std::string>{"1", "3"})) << "in order, filtered";
  EXPECT_EQ(p->Watermark(), 3u);
  EXPECT_EQ(FilteredCount(metrics_), 1);
  EXPECT_EQ(log.Count({"mapping m shard shardId-000000000000", "filter criteria compile again"}),
            1);
}

// Tumbling windows. The fake clock starts at 1,700,000,000 s, a multiple of the 100 s windows
// used here, so a record at +t s is in window floor(t / 100).

using testing::ScriptedFunction;

class WindowTest : public ShardProcessorTest {
 protected:
  WindowTest() {
    config_.set_tumbling_window_in_seconds(100);
    config_.set_batch_size(100);
    function_.SetScript(ScriptedFunction::CountInWindowState());
  }

  // Record `seq` of key `key` arrived at t0 + `at_s` seconds.
  v1::Record Rec(uint64_t seq, double at_s, const std::string& key = "k") {
    return MakeRecord(seq, key, absl::StrCat("d", seq), t0_ + absl::Seconds(at_s));
  }

  // Every call in order: a batch as its sequence numbers and the state count it was given
  // ("1,2{0}"), a final invocation as "F<window start offset in s>{count}" ("F100{2}"), an early
  // one as "E...".
  std::vector<std::string> Calls() {
    std::vector<std::string> out;
    for (const auto& call : function_.calls()) {
      const v1::InvokeRequest& r = call.request;
      const int64_t count = ScriptedFunction::CountOf(r.state());
      if (r.is_final_invoke_for_window()) {
        out.push_back(absl::StrCat(r.is_window_terminated_early() ? "E" : "F",
                                   r.window().start().seconds() - absl::ToUnixSeconds(t0_), "{",
                                   count, "}"));
        continue;
      }
      std::vector<std::string> seqs;
      for (const auto& rec : r.records()) seqs.push_back(rec.sequence_number());
      out.push_back(absl::StrCat(absl::StrJoin(seqs, ","), "{", count, "}"));
    }
    return out;
  }

  // Runs rounds of due batches until none is due.
  void RunDue(ShardProcessor& p) {
    for (int i = 0; i < 1000; ++i) {
      absl::StatusOr<int> ran = p.RunReadyBatches(stop_);
      ASSERT_TRUE(ran.ok());
      if (*ran == 0) return;
    }
    FAIL() << "batches kept coming";
  }

  const absl::Time t0_ = clock_.Now();
  const MonotonicTime m0_ = clock_.MonotonicNow();
};

using Strings = std::vector<std::string>;

TEST_F(WindowTest, ABatchNeverMixesWindowsAndALaterRecordClosesTheWindow) {
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 0), Rec(2, 30), Rec(3, 110), Rec(4, 150)}).ok());
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1,2{0}", "F0{2}", "3,4{0}"}));
  const auto calls = function_.calls();
  EXPECT_EQ(calls[0].request.window().end().seconds() - absl::ToUnixSeconds(t0_), 100);
  EXPECT_EQ(calls[2].request.window().start().seconds() - absl::ToUnixSeconds(t0_), 100);
  EXPECT_EQ(p->Watermark(), 2u) << "the closed window's records are done";
  EXPECT_EQ(p->Held(), 2) << "the open window's are held";
  EXPECT_EQ(p->Outstanding(), 0);
  EXPECT_FALSE(p->Drained());
}

TEST_F(WindowTest, TheStateIsCarriedAcrossTheBatchesOfAWindowAndTheShardEndClosesIt) {
  config_.set_batch_size(2);
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 1), Rec(2, 2), Rec(3, 3), Rec(4, 4), Rec(5, 5)}).ok());
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1,2{0}", "3,4{2}", "5{4}"}));
  EXPECT_EQ(p->Watermark(), std::nullopt);
  p->MarkShardEnd();
  RunDue(*p);
  EXPECT_EQ(Calls().back(), "F0{5}");
  EXPECT_EQ(function_.calls().back().request.state().values().at("seqs"), "1,2,3,4,5");
  EXPECT_TRUE(p->Drained());
  EXPECT_EQ(p->Watermark(), 5u);
  EXPECT_EQ(metrics_.Snapshot().shards(0).windows_closed(), 1);
}

TEST_F(WindowTest, TheWatermarkWaitsForTheFinalInvocationToSucceed) {
  auto p = NewProcessor();
  std::vector<std::optional<uint64_t>> seen;  // the watermark during each final invocation
  function_.SetScript(
      [&](const v1::InvokeRequest& request, int call) -> absl::StatusOr<v1::InvokeResponse> {
        if (!request.is_final_invoke_for_window()) {
          return ScriptedFunction::CountInWindowState()(request, call);
        }
        seen.push_back(p->Watermark());
        if (seen.size() < 3) return absl::UnavailableError("down");
        return v1::InvokeResponse();
      });
  ASSERT_TRUE(p->Offer({Rec(1, 0), Rec(2, 1), Rec(3, 2)}).ok());
  RunDue(*p);
  EXPECT_EQ(p->Watermark(), std::nullopt);
  p->MarkShardEnd();
  RunDue(*p);
  EXPECT_EQ(seen, (std::vector<std::optional<uint64_t>>{std::nullopt, std::nullopt, std::nullopt}));
  EXPECT_EQ(p->Watermark(), 3u);
}

TEST_F(WindowTest, TheClockClosesAnIdleWindowAfterItsEndPlusTheGrace) {
  grace_ = absl::Seconds(3);
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 10), Rec(2, 20)}).ok());
  RunDue(*p);
  EXPECT_EQ(p->NextDeadline(), m0_ + absl::Seconds(103));
  clock_.SetTime(t0_ + absl::Seconds(103) - absl::Milliseconds(1));
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1,2{0}"})) << "not before the grace";
  clock_.SetTime(t0_ + absl::Seconds(103));
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1,2{0}", "F0{2}"}));
  EXPECT_TRUE(p->Drained());
  EXPECT_EQ(p->NextDeadline(), std::nullopt);
}

// A window's end is a wall time (windows are intervals of arrival time), waited for on the
// monotonic clock: the deadline is what remains of it by the wall clock, so it follows a wall
// step either way (issue 14, item 10).
TEST_F(WindowTest, TheWindowEndIsAWallTimeWaitedForOnTheMonotonicClock) {
  grace_ = absl::Seconds(3);
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 10), Rec(2, 20)}).ok());
  RunDue(*p);
  EXPECT_EQ(p->NextDeadline(), m0_ + absl::Seconds(103));
  clock_.StepWallClock(-absl::Seconds(50));  // the end is 50 s further away now
  EXPECT_EQ(p->NextDeadline(), m0_ + absl::Seconds(153));
  clock_.Advance(absl::Seconds(103));  // the first deadline, had it been armed
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1,2{0}"})) << "the wall clock has not reached the end yet";
  EXPECT_EQ(p->NextDeadline(), m0_ + absl::Seconds(153));
  clock_.StepWallClock(absl::Seconds(60));  // past the end and the grace
  EXPECT_LE(*p->NextDeadline(), clock_.MonotonicNow());
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1,2{0}", "F0{2}"}));
}

// A reader catching up on a backlog: the window's end is long past, but more of its records may
// still be unread, so an empty lane must not close it on the clock (it would be reopened by the
// next read and its aggregate split in two).
TEST_F(WindowTest, TheClockClosesAWindowOnlyWhileTheReaderIsAtTheTip) {
  auto p = NewProcessor();
  clock_.Advance(absl::Seconds(1000));  // everything below arrived long ago
  ASSERT_TRUE(p->Offer({Rec(1, 1), Rec(2, 2)}).ok());
  p->SetReaderBehind(998000);
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1,2{0}"})) << "no final invocation while the reader is behind";
  EXPECT_EQ(p->NextDeadline(), std::nullopt);
  ASSERT_TRUE(p->Offer({Rec(3, 3)}).ok());  // the next read: the same window
  p->SetReaderBehind(0);                    // and now at the tip
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1,2{0}", "3{2}", "F0{3}"})) << "one window, one final invocation";
  EXPECT_EQ(p->Watermark(), 3u);
}

TEST_F(WindowTest, TheClockDoesNotCloseAWindowWithRecordsStillBuffered) {
  config_.set_maximum_batching_window_in_seconds(300);
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 10)}).ok());
  clock_.SetTime(t0_ + absl::Seconds(200));
  RunDue(*p);
  EXPECT_TRUE(Calls().empty()) << "record 1 waits for its batching window (until +310 s)";
  clock_.SetTime(t0_ + absl::Seconds(310));
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1{0}", "F0{1}"})) << "its batch first, then the final invocation";
}

TEST_F(WindowTest, DroppedAndFilteredRecordsDoNotLetTheWatermarkPassTheOpenWindow) {
  config_.set_maximum_retry_attempts(0);
  config_.set_batch_size(1);
  SetFilters(&config_, {R"({"data":{"keep":[true]}})"});
  function_.SetScript(ScriptedFunction::CountInWindowState({R"({"keep":true,"bad":1})"}));
  auto p = NewProcessor();
  auto rec = [&](uint64_t seq, const std::string& data) {
    return MakeRecord(seq, "k", data, t0_ + absl::Seconds(seq));
  };
  ASSERT_TRUE(p->Offer({rec(1, R"({"keep":true})"), rec(2, R"({"keep":false})"),
                        rec(3, R"({"keep":true,"bad":1})"), rec(4, R"({"keep":false})")})
                  .ok());
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1{0}", "3{1}"}));
  EXPECT_EQ(metrics_.Snapshot().shards(0).dropped_records().at("RetryAttemptsExhausted"), 1);
  EXPECT_EQ(p->Watermark(), std::nullopt) << "record 1 is held: 2, 3, 4 cannot move it";
  EXPECT_EQ(p->Held(), 2) << "the delivered record 1 and the dropped record 3";
  p->MarkShardEnd();
  RunDue(*p);
  EXPECT_EQ(Calls().back(), "F0{1}");
  EXPECT_EQ(p->Watermark(), 4u);
}

// A reply whose state holds more than 1 MiB.
absl::StatusOr<v1::InvokeResponse> OversizedState() {
  v1::InvokeResponse r;
  (*r.mutable_state()->mutable_values())["big"] = std::string(kMaxWindowStateBytes, 'x');
  (*r.mutable_state()->mutable_values())["count"] = "2";
  return r;
}

TEST_F(WindowTest, AStateOverOneMiBEndsTheWindowEarlyReleasingItsRecords) {
  config_.set_batch_size(2);
  function_.SetScript(
      [](const v1::InvokeRequest& request, int call) -> absl::StatusOr<v1::InvokeResponse> {
        if (call == 0) return OversizedState();
        return ScriptedFunction::CountInWindowState()(request, call);
      });
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 1), Rec(2, 2)}).ok());
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1,2{0}", "E0{2}"}));
  EXPECT_GT(WindowStateBytes(function_.calls()[1].request.state()), kMaxWindowStateBytes);
  EXPECT_EQ(p->Watermark(), 2u) << "the early final invocation covers records 1 and 2";
  ASSERT_TRUE(p->Offer({Rec(3, 3), Rec(4, 4)}).ok());
  RunDue(*p);
  EXPECT_EQ(Calls().back(), "3,4{0}") << "the same window goes on with an empty state";
  EXPECT_EQ(function_.calls().back().request.window().start().seconds(), absl::ToUnixSeconds(t0_));
  EXPECT_EQ(p->Watermark(), 2u);
  p->MarkShardEnd();
  RunDue(*p);
  EXPECT_EQ(Calls().back(), "F0{2}");
  EXPECT_EQ(p->Watermark(), 4u);
  EXPECT_EQ(metrics_.Snapshot().shards(0).windows_closed(), 2);
}

TEST_F(WindowTest, ANewLengthClosesTheOpenWindowAndAppliesToRecordsOfferedAfter) {
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 0), Rec(2, 10)}).ok());
  RunDue(*p);
  config_.set_tumbling_window_in_seconds(50);
  p->UpdateConfig(config_);
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1,2{0}", "F0{2}"})) << "closed at once, without the grace";
  ASSERT_TRUE(p->Offer({Rec(3, 20), Rec(4, 60)}).ok());
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1,2{0}", "F0{2}", "3{0}", "F0{1}", "4{0}"}));
  const auto calls = function_.calls();
  EXPECT_EQ(calls[2].request.window().end().seconds() - absl::ToUnixSeconds(t0_), 50);
  EXPECT_EQ(calls[4].request.window().start().seconds() - absl::ToUnixSeconds(t0_), 50);
  EXPECT_EQ(p->Watermark(), 3u);
}

TEST_F(WindowTest, TurningWindowsOffClosesTheWindowAndLaterBatchesCarryNoWindow) {
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 0)}).ok());
  RunDue(*p);
  config_.set_tumbling_window_in_seconds(0);
  p->UpdateConfig(config_);
  ASSERT_TRUE(p->Offer({Rec(2, 1)}).ok());
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1{0}", "F0{1}", "2{0}"}));
  const auto last = function_.calls().back().request;
  EXPECT_FALSE(last.has_window());
  EXPECT_FALSE(last.has_state());
  EXPECT_TRUE(p->Drained());
  EXPECT_EQ(p->Watermark(), 2u);
}

TEST_F(WindowTest, TurningWindowsOnAppliesFromTheNextRecordOffered) {
  config_.set_tumbling_window_in_seconds(0);
  config_.set_maximum_batching_window_in_seconds(60);
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 0)}).ok());  // buffered for the batching window
  config_.set_tumbling_window_in_seconds(100);
  p->UpdateConfig(config_);
  ASSERT_TRUE(p->Offer({Rec(2, 1)}).ok());
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1{0}"})) << "record 1 goes alone: it is in no window";
  EXPECT_FALSE(function_.calls()[0].request.has_window());
  p->MarkShardEnd();
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1{0}", "2{0}", "F0{1}"}));
  EXPECT_TRUE(function_.calls()[1].request.has_window());
}

TEST_F(WindowTest, AFinalInvocationGivenUpIsReportedAndTheWatermarkMovesOn) {
  config_.set_maximum_retry_attempts(1);
  config_.mutable_destination_config()->mutable_on_failure()->set_destination("dlq");
  function_.SetScript(
      [](const v1::InvokeRequest& request, int call) -> absl::StatusOr<v1::InvokeResponse> {
        if (request.is_final_invoke_for_window()) return absl::InternalError("boom");
        return ScriptedFunction::CountInWindowState()(request, call);
      });
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 0), Rec(2, 5), Rec(3, 120)}).ok());
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1,2{0}", "F0{2}", "F0{2}", "3{0}"}));
  ASSERT_EQ(destination_.puts().size(), 1u);
  EXPECT_NE(
      destination_.puts()[0].data.find(R"("startSequenceNumber":"1","endSequenceNumber":"2")"),
      std::string::npos)
      << destination_.puts()[0].data;
  EXPECT_NE(destination_.puts()[0].data.find(R"("batchSize":2)"), std::string::npos);
  EXPECT_EQ(p->Watermark(), 2u);
  EXPECT_EQ(metrics_.Snapshot().shards(0).windows_failed(), 1);
}

TEST_F(WindowTest, ARecordArrivingOutOfOrderJoinsTheLanesLaterWindow) {
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 150), Rec(2, 90), Rec(3, 160)}).ok());
  p->MarkShardEnd();
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1,2,3{0}", "F100{3}"}));
}

TEST_F(WindowTest, ARecordReadAfterTheClockClosedItsWindowOpensItAgainWithAnEmptyState) {
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 10)}).ok());
  RunDue(*p);
  clock_.SetTime(t0_ + absl::Seconds(101));
  RunDue(*p);
  ASSERT_TRUE(p->Offer({Rec(2, 20)}).ok());  // a reader behind: arrived long ago
  p->MarkShardEnd();
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"1{0}", "F0{1}", "2{0}", "F0{1}"}));
}

TEST_F(WindowTest, WithWindowsABatchLeavesRoomForTheState) {
  const std::string mib(1 << 20, 'x');
  for (int windows : {0, 100}) {
    config_.set_tumbling_window_in_seconds(windows);
    testing::ScriptedFunction function;
    function.SetScript(ScriptedFunction::CountInWindowState());
    ShardProcessor p(
        shard_, config_,
        LaneDeps{clock_, waiter_, function, destination_, metrics_, BackoffOptions(), seed_});
    std::vector<v1::Record> records;
    for (int i = 1; i <= 6; ++i) records.push_back(MakeRecord(i, "k", mib, t0_));
    ASSERT_TRUE(p.Offer(records).ok());
    ASSERT_TRUE(p.RunReadyBatches(stop_).ok());
    ASSERT_GE(function.call_count(), 1);
    EXPECT_EQ(function.calls()[0].request.records_size(), windows > 0 ? 3 : 5) << windows;
  }
}

class WindowLanesTest : public WindowTest, public ::testing::WithParamInterface<int> {};

TEST_P(WindowLanesTest, EachLaneHasItsOwnWindowsAndStateAndKeysStayInOrder) {
  const int n = GetParam();
  config_.set_parallelization_factor(n);
  config_.set_batch_size(7);
  // Every 5th invocation fails (final ones too) and is retried.
  function_.SetScript(
      [](const v1::InvokeRequest& request, int call) -> absl::StatusOr<v1::InvokeResponse> {
        if (call % 5 == 4) {
          v1::InvokeResponse r;
          r.set_function_error("Unhandled");
          return r;
        }
        return ScriptedFunction::CountInWindowState()(request, call);
      });
  auto p = NewProcessor();
  std::mt19937_64 rng(seed_);
  std::vector<v1::Record> records;
  std::map<std::string, std::string> key_of;
  std::set<std::pair<int, int64_t>> lane_windows;  // (lane, window) pairs with records
  for (int i = 1; i <= 300; ++i) {
    const std::string key = absl::StrCat("key-", rng() % 23);
    records.push_back(Rec(i, i - 1, key));  // one a second: windows 0, 100, 200
    key_of[absl::StrCat(i)] = key;
    lane_windows.insert({LaneForPartitionKey(key, n), (i - 1) / 100});
  }
  ASSERT_TRUE(p->Offer(records).ok());
  p->MarkShardEnd();
  RunUntilDrained(*p);

  std::map<std::string, std::vector<uint64_t>> per_key;
  int64_t counted = 0;
  std::set<std::pair<int, int64_t>> closed;
  const auto calls = function_.calls();
  for (size_t c = 0; c < calls.size(); ++c) {
    const v1::InvokeRequest& r = calls[c].request;
    const int64_t window = (r.window().start().seconds() - absl::ToUnixSeconds(t0_)) / 100;
    if (c % 5 == 4) continue;  // failed: retried later
    if (r.is_final_invoke_for_window()) {
      counted += ScriptedFunction::CountOf(r.state());
      // The state holds one lane's records of this window only.
      std::set<int> lanes;
      for (absl::string_view seq : absl::StrSplit(r.state().values().at("seqs"), ',')) {
        const uint64_t s = std::stoull(std::string(seq));
        lanes.insert(LaneForPartitionKey(key_of[std::string(seq)], n));
        EXPECT_EQ(static_cast<int64_t>((s - 1) / 100), window) << seq;
      }
      EXPECT_EQ(lanes.size(), 1u);
      EXPECT_TRUE(closed.insert({*lanes.begin(), window}).second) << "closed twice";
      continue;
    }
    for (const auto& rec : r.records()) {
      EXPECT_EQ(ArrivalTime(rec) >= t0_ + absl::Seconds(window * 100) &&
                    ArrivalTime(rec) < t0_ + absl::Seconds(window * 100 + 100),
                true)
          << "record " << rec.sequence_number() << " in the request's window";
      per_key[rec.partition_key()].push_back(std::stoull(rec.sequence_number()));
    }
  }
  for (const auto& [key, seqs] : per_key) {
    for (size_t i = 1; i < seqs.size(); ++i) EXPECT_LT(seqs[i - 1], seqs[i]) << key;
  }
  EXPECT_EQ(counted, 300) << "every record counted once in its window's final state";
  EXPECT_EQ(closed, lane_windows) << "one final invocation per lane and window";
  EXPECT_EQ(p->Watermark(), 300u);
}

INSTANTIATE_TEST_SUITE_P(ParallelizationFactor, WindowLanesTest, ::testing::Values(1, 2, 5, 10),
                         [](const auto& info) { return absl::StrCat("N", info.param); });

// With lanes, the checkpoint must not pass a window that any lane still has open: otherwise a
// new owner would resume inside a window another lane already closed and re-run only its tail
// (a partial aggregate). Lane a closes [0, 100) first (record 5 of the next window follows);
// lane b's [0, 100) stays open until the clock closes it.
TEST_F(WindowTest, ALaneClosingAWindowFirstDoesNotReleaseItWhileAnotherLaneHasItOpen) {
  config_.set_parallelization_factor(2);
  const std::string a = "a";
  std::string b = "b";
  for (int i = 0; LaneForPartitionKey(b, 2) == LaneForPartitionKey(a, 2); ++i) {
    b = absl::StrCat("b", i);
  }
  auto p = NewProcessor();
  ASSERT_TRUE(
      p->Offer({Rec(1, 0, a), Rec(2, 1, b), Rec(3, 2, a), Rec(4, 3, b), Rec(5, 110, a)}).ok());
  RunDue(*p);
  int a_final = 0;
  for (const std::string& call : Calls()) a_final += call == "F0{2}";
  ASSERT_EQ(a_final, 1) << "lane a closed [0, 100)";
  EXPECT_EQ(p->Watermark(), std::nullopt)
      << "record 1 is in a window lane b has open: resuming after it would re-run lane a's "
         "window from record 3 only";
  EXPECT_EQ(p->Held(), 5);

  clock_.Advance(t0_ + absl::Seconds(101) - clock_.Now());  // lane b's window end + 1 s grace
  RunDue(*p);
  int finals = 0;
  for (const std::string& call : Calls()) finals += call == "F0{2}";
  EXPECT_EQ(finals, 2) << "both lanes closed [0, 100)";
  EXPECT_EQ(p->Watermark(), 4u) << "every lane is past [0, 100); record 5's window is open";
  EXPECT_EQ(p->Held(), 1);
}

TEST_F(WindowTest, ANewParallelizationFactorClosesEveryWindowBeforeTheLanesAreRebuilt) {
  config_.set_batch_size(2);
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 0, "a"), Rec(2, 1, "b"), Rec(3, 2, "c")}).ok());
  ASSERT_EQ(*p->RunReadyBatches(stop_), 1);  // 1, 2; record 3 buffered
  config_.set_parallelization_factor(3);
  p->UpdateConfig(config_);
  ASSERT_TRUE(p->Offer({Rec(4, 3, "a"), Rec(5, 4, "b")}).ok());
  p->MarkShardEnd();
  RunUntilDrained(*p);
  const Strings calls = Calls();
  ASSERT_GE(calls.size(), 4u);
  EXPECT_EQ((Strings{calls[0], calls[1], calls[2]}), (Strings{"1,2{0}", "3{2}", "F0{3}"}));
  int finals = 0;
  for (size_t i = 3; i < calls.size(); ++i) finals += calls[i][0] == 'F';
  EXPECT_EQ(finals, static_cast<int>(calls.size()) - 3 - finals)
      << "each new batch's window closes";
  EXPECT_EQ(p->Watermark(), 5u);
}

TEST_F(WindowTest, AfterAStoppedFinalInvocationNothingMoreIsHandedOut) {
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 0)}).ok());
  RunDue(*p);
  stop_.Stop();  // the lease is being released
  p->MarkShardEnd();
  auto batches = p->TakeReadyBatches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_TRUE(batches[0].final_invoke);
  EXPECT_EQ(p->RunBatch(std::move(batches[0]), stop_).code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(p->TakeReadyBatches().empty()) << "the final invocation is not handed out again";
  EXPECT_EQ(p->NextDeadline(), std::nullopt);
  EXPECT_EQ(Calls(), (Strings{"1{0}"}));
  EXPECT_EQ(p->Watermark(), std::nullopt) << "the window was not closed";
}

TEST_F(WindowTest, ARecordDroppedForItsAgeIsHeldWithTheOpenWindow) {
  config_.set_maximum_record_age_in_seconds(60);
  auto p = NewProcessor();
  ASSERT_TRUE(p->Offer({Rec(1, 0), Rec(2, 10)}).ok());
  clock_.SetTime(t0_ + absl::Seconds(65));  // record 1 is 65 s old, record 2 55 s
  RunDue(*p);
  EXPECT_EQ(Calls(), (Strings{"2{0}"}));
  EXPECT_EQ(metrics_.Snapshot().shards(0).dropped_records().at("RecordAgeExceeded"), 1);
  EXPECT_EQ(p->Watermark(), std::nullopt) << "without windows it would be 1";
  EXPECT_EQ(p->Held(), 2);
  p->MarkShardEnd();
  RunDue(*p);
  EXPECT_EQ(Calls().back(), "F0{1}");
  EXPECT_EQ(p->Watermark(), 2u);
}

}  // namespace
}  // namespace tributary::poller
