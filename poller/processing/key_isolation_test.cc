// Per-key isolation (isolate_failing_keys, issue 23): ShardProcessor with BatchProcessor's rules
// P1-P3, on a FakeClock (the AdvancingWaiter moves it through backoffs; parked retries are due at
// NextDeadline, to which the tests move the clock).
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "poller/processing/shard_processor.h"
#include "poller/testing/fakes.h"

namespace tributary::poller {
namespace {

using testing::MakeRecord;

class KeyIsolationTest : public ::testing::Test {
 protected:
  KeyIsolationTest() {
    config_.set_function_endpoint("f:1");
    config_.set_batch_size(10);
    config_.set_maximum_retry_attempts(-1);
    config_.set_maximum_record_age_in_seconds(-1);
    config_.set_bisect_batch_on_function_error(true);
    config_.set_isolate_failing_keys(true);
    config_.mutable_destination_config()->mutable_on_failure()->set_destination("dlq");
  }

  std::unique_ptr<ShardProcessor> NewProcessor() {
    return std::make_unique<ShardProcessor>(
        shard_, config_,
        LaneDeps{clock_, waiter_, function_, destination_, metrics_, BackoffOptions(), seed_});
  }

  // `n` records, record i (sequence first + i) of key "k<i % keys>", except those at `poison_at`
  // (sequence numbers), of key "poison".
  std::vector<v1::Record> Records(int n, int keys, std::set<uint64_t> poison_at,
                                  uint64_t first = 1) {
    std::vector<v1::Record> out;
    for (int i = 0; i < n; ++i) {
      const uint64_t seq = first + i;
      const std::string key = poison_at.count(seq) > 0 ? "poison" : absl::StrCat("k", i % keys);
      out.push_back(MakeRecord(seq, key, absl::StrCat("d", seq), clock_.Now()));
    }
    return out;
  }

  // Runs every ready batch until none is ready now (the clock does not move to parked retries).
  void RunReady(ShardProcessor& p) {
    for (int i = 0; i < 10000; ++i) {
      absl::StatusOr<int> ran = p.RunReadyBatches(stop_);
      ASSERT_TRUE(ran.ok()) << ran.status();
      if (*ran == 0) return;
    }
    FAIL() << "batches never stopped coming";
  }

  // Runs batches, moving the clock to each deadline, until drained.
  void RunUntilDrained(ShardProcessor& p) {
    for (int i = 0; i < 10000 && !p.Drained(); ++i) {
      RunReady(p);
      std::optional<MonotonicTime> next = p.NextDeadline();
      if (next.has_value() && *next > clock_.MonotonicNow()) {
        clock_.Advance(*next - clock_.MonotonicNow());
      }
    }
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
  std::set<std::string> poison_;
  std::map<std::string, std::vector<uint64_t>> delivered_;
};

// Records successful deliveries per key into `delivered` (the script's answer decides success).
testing::ScriptedFunction::Script Recording(
    std::set<std::string>* poison, std::map<std::string, std::vector<uint64_t>>* delivered) {
  return [poison, delivered](const v1::InvokeRequest& request,
                             int) -> absl::StatusOr<v1::InvokeResponse> {
    v1::InvokeResponse r;
    for (const v1::Record& rec : request.records()) {
      if (poison->count(rec.partition_key()) > 0) r.set_function_error("Unhandled");
    }
    if (r.function_error().empty()) {
      for (const v1::Record& rec : request.records()) {
        (*delivered)[rec.partition_key()].push_back(std::stoull(rec.sequence_number()));
      }
    }
    return r;
  };
}

void ExpectPerKeyOrder(const std::map<std::string, std::vector<uint64_t>>& delivered) {
  for (const auto& [key, seqs] : delivered) {
    for (size_t i = 1; i < seqs.size(); ++i) {
      EXPECT_LT(seqs[i - 1], seqs[i]) << "key " << key << " delivered out of order";
    }
  }
}

TEST_F(KeyIsolationTest, APoisonKeyIsParkedWhileTheOtherKeysFlowAndTheCheckpointStaysBeforeIt) {
  poison_ = {"poison"};
  function_.SetScript(Recording(&poison_, &delivered_));
  auto p = NewProcessor();
  // 100 records of 9 keys; "poison" at 15, 40 and 77.
  ASSERT_TRUE(p->Offer(Records(100, 9, {15, 40, 77})).ok());
  RunReady(*p);

  size_t others = 0;
  for (const auto& [key, seqs] : delivered_) {
    EXPECT_NE(key, "poison");
    others += seqs.size();
  }
  EXPECT_EQ(others, 97u) << "every other key's records are delivered while poison is parked";
  EXPECT_EQ(p->Watermark(), 14u) << "the checkpoint never passes the oldest parked record";
  const ShardProcessor::ParkedStatus parked = p->ParkedKeys();
  EXPECT_EQ(parked.keys, 1);
  EXPECT_EQ(parked.records, 3);
  EXPECT_FALSE(parked.limit_reached);
  EXPECT_EQ(p->Outstanding(), 3);
  const v1::GetMetricsResponse snapshot = metrics_.Snapshot();
  ASSERT_EQ(snapshot.shards_size(), 1);
  EXPECT_EQ(snapshot.shards(0).parked_keys(), 1);
  EXPECT_EQ(snapshot.shards(0).parked_records(), 3);

  // Retried with the backoff, parked: still failing, still parked.
  const int64_t calls_before = function_.call_count();
  ASSERT_TRUE(p->NextDeadline().has_value());
  clock_.Advance(*p->NextDeadline() - clock_.MonotonicNow());
  RunReady(*p);
  EXPECT_EQ(function_.call_count(), calls_before + 1) << "one retry of the parked record";
  EXPECT_EQ(function_.calls().back().request.records_size(), 1);
  EXPECT_EQ(function_.calls().back().request.records(0).sequence_number(), "15");
  EXPECT_EQ(p->ParkedKeys().keys, 1);
  EXPECT_EQ(p->Watermark(), 14u);

  // The function heals: the key flows again, its records in order, and the shard drains.
  poison_.clear();
  RunUntilDrained(*p);
  EXPECT_EQ(delivered_["poison"], (std::vector<uint64_t>{15, 40, 77}));
  ExpectPerKeyOrder(delivered_);
  EXPECT_EQ(p->Watermark(), 100u);
  EXPECT_EQ(p->ParkedKeys().keys, 0);
  EXPECT_EQ(metrics_.Snapshot().shards(0).parked_keys(), 0);
  EXPECT_TRUE(destination_.puts().empty());
}

TEST_F(KeyIsolationTest, WithoutIsolationThePoisonKeyBlocksItsLane) {
  config_.set_isolate_failing_keys(false);
  config_.set_maximum_retry_attempts(3);  // so that RunReady returns
  poison_ = {"poison"};
  std::vector<size_t> delivered_when_retried;
  auto p = NewProcessor();
  function_.SetScript([&](const v1::InvokeRequest& request,
                          int) -> absl::StatusOr<v1::InvokeResponse> {
    v1::InvokeResponse r;
    if (request.records_size() == 1 && request.records(0).partition_key() == "poison") {
      size_t n = 0;
      for (const auto& [key, seqs] : delivered_) n += seqs.size();
      delivered_when_retried.push_back(n);
    }
    return Recording(&poison_, &delivered_)(request, 0);
  });
  ASSERT_TRUE(p->Offer(Records(100, 9, {15})).ok());
  RunReady(*p);
  ASSERT_EQ(delivered_when_retried.size(), 4u);  // 1 + 3 retries, in the lane
  EXPECT_EQ(delivered_when_retried.back(), 14u) << "nothing after the poison record meanwhile";
  EXPECT_EQ(p->ParkedKeys().keys, 0);
}

TEST_F(KeyIsolationTest, WhenThePolicyGivesUpTheRecordIsReportedAndTheKeyFlowsAgain) {
  config_.set_maximum_retry_attempts(2);
  auto p = NewProcessor();
  // Only record 15 fails (the poison key's later records succeed).
  int alone = 0;  // calls with record 15 alone (after the bisections that isolated it)
  function_.SetScript([&](const v1::InvokeRequest& request,
                          int) -> absl::StatusOr<v1::InvokeResponse> {
    v1::InvokeResponse r;
    if (request.records_size() == 1 && request.records(0).sequence_number() == "15") ++alone;
    for (const v1::Record& rec : request.records()) {
      if (rec.sequence_number() == "15") r.set_function_error("Unhandled");
    }
    if (r.function_error().empty()) {
      for (const v1::Record& rec : request.records()) {
        delivered_[rec.partition_key()].push_back(std::stoull(rec.sequence_number()));
      }
    }
    return r;
  });
  ASSERT_TRUE(p->Offer(Records(100, 9, {15, 40, 77})).ok());
  RunReady(*p);
  EXPECT_TRUE(delivered_["poison"].empty()) << "40 and 77 wait behind 15";
  EXPECT_EQ(p->ParkedKeys().keys, 1);
  RunUntilDrained(*p);
  EXPECT_EQ(alone, 1 + 2) << "1 + maximum_retry_attempts invokes, the retries parked";
  ASSERT_EQ(destination_.puts().size(), 1u);
  EXPECT_NE(destination_.puts()[0].data.find("\"startSequenceNumber\":\"15\""), std::string::npos)
      << destination_.puts()[0].data;
  EXPECT_NE(destination_.puts()[0].data.find("RetryAttemptsExhausted"), std::string::npos);
  EXPECT_EQ(delivered_["poison"], (std::vector<uint64_t>{40, 77}));
  ExpectPerKeyOrder(delivered_);
  EXPECT_EQ(p->Watermark(), 100u);
  EXPECT_EQ(p->ParkedKeys().keys, 0);
}

TEST_F(KeyIsolationTest, BeyondMaxParkedKeysTheLaneBlocksVisibly) {
  config_.set_max_parked_keys(1);
  config_.set_maximum_retry_attempts(2);
  poison_ = {"p1", "p2"};
  auto p = NewProcessor();
  std::vector<bool> limit_seen, metric_seen;
  function_.SetScript([&](const v1::InvokeRequest& request,
                          int) -> absl::StatusOr<v1::InvokeResponse> {
    if (request.records_size() == 1 && request.records(0).partition_key() == "p2") {
      limit_seen.push_back(p->ParkedKeys().limit_reached);
      metric_seen.push_back(metrics_.Snapshot().shards(0).parked_keys_limit_reached());
    }
    return Recording(&poison_, &delivered_)(request, 0);
  });
  std::vector<v1::Record> records = Records(60, 5, {});
  records[9].set_partition_key("p1");   // sequence 10
  records[29].set_partition_key("p2");  // sequence 30
  ASSERT_TRUE(p->Offer(records).ok());
  RunReady(*p);
  // p1 parked; p2 refused: retried in the lane (1 + 2 invokes), blocking it meanwhile.
  ASSERT_EQ(limit_seen.size(), 3u);
  EXPECT_FALSE(limit_seen[0]);
  EXPECT_TRUE(limit_seen[1]) << "the refusal shows while p2 blocks the lane";
  EXPECT_TRUE(limit_seen[2]);
  EXPECT_TRUE(metric_seen[1]) << "and in the metrics";
  EXPECT_EQ(p->ParkedKeys().keys, 1);
  bool p2_reported = false;
  for (const auto& put : destination_.puts()) {
    p2_reported |= put.data.find("\"startSequenceNumber\":\"30\"") != std::string::npos;
  }
  EXPECT_TRUE(p2_reported) << "p2 was retried in its lane until the policy gave up";
  poison_.clear();
  RunUntilDrained(*p);
  ExpectPerKeyOrder(delivered_);
  EXPECT_EQ(p->Watermark(), 60u);
  EXPECT_FALSE(p->ParkedKeys().limit_reached);
}

TEST_F(KeyIsolationTest, OnePoisonKeyAmongAThousandAcrossLanesKeepsPerKeyOrder) {
  config_.set_parallelization_factor(4);
  config_.set_batch_size(50);
  poison_ = {"poison"};
  function_.SetScript(Recording(&poison_, &delivered_));
  auto p = NewProcessor();
  std::set<uint64_t> poison_at;
  for (uint64_t s = 500; s <= 5000; s += 450) poison_at.insert(s);
  ASSERT_TRUE(p->Offer(Records(5000, 1000, poison_at)).ok());
  RunReady(*p);
  size_t others = 0;
  for (const auto& [key, seqs] : delivered_) others += seqs.size();
  EXPECT_EQ(others, 5000 - poison_at.size());
  EXPECT_EQ(p->Watermark(), 499u);
  poison_.clear();
  RunUntilDrained(*p);
  EXPECT_EQ(delivered_["poison"], std::vector<uint64_t>(poison_at.begin(), poison_at.end()));
  ExpectPerKeyOrder(delivered_);
  EXPECT_EQ(p->Watermark(), 5000u);
}

TEST_F(KeyIsolationTest, AFailoverWhileAKeyIsParkedLosesNothing) {
  poison_ = {"poison"};
  function_.SetScript(Recording(&poison_, &delivered_));
  const std::vector<v1::Record> shard = Records(200, 20, {30, 31, 120});
  uint64_t checkpoint;
  {
    auto first = NewProcessor();
    ASSERT_TRUE(first->Offer(shard).ok());
    RunReady(*first);
    ASSERT_EQ(first->ParkedKeys().keys, 1);
    ASSERT_TRUE(first->Watermark().has_value());
    checkpoint = *first->Watermark();
    EXPECT_EQ(checkpoint, 29u);
    // The lease moves: this owner stops; its parked records were never done.
  }
  std::map<std::string, std::vector<uint64_t>> before = delivered_;
  delivered_.clear();
  poison_.clear();
  auto second = NewProcessor();
  std::vector<v1::Record> reread(shard.begin() + checkpoint, shard.end());
  ASSERT_TRUE(second->Offer(reread).ok());
  RunUntilDrained(*second);
  ExpectPerKeyOrder(delivered_);  // the new owner's deliveries, per key in order
  std::set<uint64_t> all;
  for (const auto& m : {before, delivered_}) {
    for (const auto& [key, seqs] : m) all.insert(seqs.begin(), seqs.end());
  }
  EXPECT_EQ(all.size(), 200u) << "every record delivered at least once";
  EXPECT_EQ(delivered_["poison"], (std::vector<uint64_t>{30, 31, 120}));
  EXPECT_EQ(second->Watermark(), 200u);
}

}  // namespace
}  // namespace tributary::poller
