#include "poller/processing/batch_processor.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/proto_util.h"
#include "common/testing/log_capture.h"
#include "common/testing/test_util.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "poller/testing/fakes.h"

namespace tributary::poller {
namespace {

using testing::MakeRecord;
using testing::ScriptedFunction;

class BatchProcessorTest : public ::testing::Test {
 protected:
  BatchProcessorTest() {
    std::cout << "seed " << seed_ << "\n";
    config_.set_function_endpoint("127.0.0.1:7000");
    config_.set_maximum_retry_attempts(-1);
    config_.set_maximum_record_age_in_seconds(-1);
    config_.set_function_timeout_seconds(12);
  }

  // Records 0..n-1 with data "r<i>", arrived at t0.
  std::vector<v1::Record> Records(int n) {
    std::vector<v1::Record> out;
    for (int i = 0; i < n; ++i) out.push_back(MakeRecord(i, "k", absl::StrCat("r", i), t0_));
    return out;
  }

  absl::Status Process(std::vector<v1::Record> records) {
    return processor_.Process(shard_, current_config_, std::move(records), stop_,
                              [this](const std::vector<v1::Record>& done) {
                                for (const auto& r : done) done_.push_back(r.sequence_number());
                              });
  }

  void SetDestination() {
    config_.mutable_destination_config()->mutable_on_failure()->set_destination("dlq");
  }

  google::protobuf::Struct OnlyDestinationRecord() {
    auto puts = destination_.puts();
    EXPECT_EQ(puts.size(), 1u);
    google::protobuf::Struct s;
    if (puts.empty()) return s;
    EXPECT_EQ(puts[0].stream_name, "dlq");
    EXPECT_EQ(puts[0].partition_key, shard_.shard_id);
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(puts[0].data, &s).ok());
    return s;
  }

  v1::ShardMetrics Metrics() {
    auto snapshot = metrics_.Snapshot();
    EXPECT_EQ(snapshot.shards_size(), 1);
    return snapshot.shards_size() > 0 ? snapshot.shards(0) : v1::ShardMetrics();
  }

  const uint64_t seed_ = tributary::testing::TestSeed();
  FakeClock clock_;
  const absl::Time t0_ = clock_.Now();
  testing::AdvancingWaiter waiter_{clock_};
  ScriptedFunction function_;
  testing::RecordingDestination destination_;
  PollerMetrics metrics_{"poller-1", clock_};
  const BackoffOptions backoff_{absl::Milliseconds(100), absl::Seconds(30)};
  BatchProcessor processor_{clock_, waiter_, function_, destination_, metrics_, backoff_, seed_};
  ShardContext shard_{"mapping-1", "orders", "shardId-000000000003"};
  v1::EventSourceMappingConfiguration config_;
  // What the batch reads at each attempt: config_ as it is then (tests may change it mid-batch).
  const ConfigSource current_config_ = [this] {
    return std::make_shared<const v1::EventSourceMappingConfiguration>(config_);
  };
  StopSignal stop_;
  std::vector<std::string> done_;
};

absl::StatusOr<v1::InvokeResponse> FunctionErrorReply() {
  v1::InvokeResponse r;
  r.set_function_error("Unhandled");
  return r;
}

TEST_F(BatchProcessorTest, SuccessDeliversEveryRecordOnceWithTheMappingTimeout) {
  ASSERT_TRUE(Process(Records(5)).ok());
  ASSERT_EQ(function_.call_count(), 1);
  const auto call = function_.calls()[0];
  EXPECT_EQ(call.endpoint, "127.0.0.1:7000");
  EXPECT_EQ(call.timeout, absl::Seconds(12));
  EXPECT_EQ(call.request.event_source_mapping_uuid(), "mapping-1");
  EXPECT_EQ(call.request.stream_name(), "orders");
  EXPECT_EQ(call.request.shard_id(), "shardId-000000000003");
  EXPECT_EQ(done_, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  EXPECT_EQ(Metrics().records_delivered(), 5);
}

TEST_F(BatchProcessorTest, TimeoutDefaultsToThirtySeconds) {
  config_.clear_function_timeout_seconds();
  ASSERT_TRUE(Process(Records(1)).ok());
  EXPECT_EQ(function_.calls()[0].timeout, absl::Seconds(30));
}

TEST_F(BatchProcessorTest, EachKindOfFunctionErrorIsRetriedUntilSuccess) {
  // A non-OK status, a missed deadline, and function_error are all function errors.
  function_.SetScript([](const v1::InvokeRequest&, int call) -> absl::StatusOr<v1::InvokeResponse> {
    if (call == 0) return absl::InternalError("boom");
    if (call == 1) return absl::DeadlineExceededError("deadline");
    if (call == 2) return FunctionErrorReply();
    return v1::InvokeResponse();
  });
  ASSERT_TRUE(Process(Records(3)).ok());
  EXPECT_EQ(function_.call_count(), 4);
  EXPECT_EQ(done_.size(), 3u);
  EXPECT_EQ(Metrics().function_errors(), 3);
  EXPECT_EQ(Metrics().retries(), 3);
  EXPECT_TRUE(destination_.puts().empty());
}

TEST_F(BatchProcessorTest, EveryRetrySendsTheWholeBatchUnchanged) {
  // The records travel into each request and back; a retry must carry them intact.
  function_.SetScript([](const v1::InvokeRequest&, int call) -> absl::StatusOr<v1::InvokeResponse> {
    if (call < 2) return FunctionErrorReply();
    return v1::InvokeResponse();
  });
  const std::vector<v1::Record> records = Records(4);
  ASSERT_TRUE(Process(records).ok());
  ASSERT_EQ(function_.call_count(), 3);
  for (const auto& call : function_.calls()) {
    ASSERT_EQ(call.request.records_size(), 4);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(call.request.records(i).SerializeAsString(), records[i].SerializeAsString()) << i;
    }
  }
  EXPECT_EQ(done_, (std::vector<std::string>{"0", "1", "2", "3"}));
}

TEST_F(BatchProcessorTest, RetriesWaitFullJitterExponentialBackoff) {
  config_.set_maximum_retry_attempts(8);
  std::vector<absl::Time> call_times;
  function_.SetScript([&](const v1::InvokeRequest&, int) {
    call_times.push_back(clock_.Now());
    return FunctionErrorReply();
  });
  ASSERT_TRUE(Process(Records(2)).ok());
  ASSERT_EQ(function_.call_count(), 9);  // 1 + 8 retries
  const auto waits = waiter_.waits();
  ASSERT_EQ(waits.size(), 8u);
  Backoff reference(backoff_, seed_);
  for (size_t k = 0; k < waits.size(); ++k) {
    EXPECT_GE(waits[k], absl::ZeroDuration()) << k;
    EXPECT_LE(waits[k], reference.Ceiling(k)) << k;  // 100 ms * 2^k
    EXPECT_EQ(call_times[k + 1] - call_times[k], waits[k]) << "the retry waited its backoff";
  }
}

// Lambda's record for a Kinesis on-failure destination, key for key, then Tributary's two.
TEST_F(BatchProcessorTest, RetriesExhaustedSendsTheExactDestinationRecordAndSkips) {
  config_.set_maximum_retry_attempts(2);
  config_.set_function_arn("arn:aws:lambda:us-east-1:000000000000:function:f");
  config_.set_event_source_arn("arn:aws:kinesis:us-east-1:000000000000:stream/orders");
  SetDestination();
  function_.SetScript([](const v1::InvokeRequest&, int) { return FunctionErrorReply(); });
  std::vector<v1::Record> records;
  for (int i = 0; i < 3; ++i) {
    records.push_back(MakeRecord(100 + i, "k", "x", t0_ + absl::Milliseconds(250 * i)));
  }
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(Process(records).ok());
  EXPECT_EQ(function_.call_count(), 3);
  EXPECT_EQ(done_, (std::vector<std::string>{"100", "101", "102"}));

  const auto s = OnlyDestinationRecord();
  EXPECT_EQ(s.fields().size(), 5u);
  const auto& rc = s.fields().at("requestContext").struct_value().fields();
  EXPECT_EQ(rc.size(), 5u);
  EXPECT_EQ(rc.at("requestId").string_value().size(), 36u);
  EXPECT_EQ(rc.at("functionArn").string_value(),
            "arn:aws:lambda:us-east-1:000000000000:function:f");
  EXPECT_EQ(rc.at("condition").string_value(), "RetryAttemptsExhausted");
  EXPECT_EQ(rc.at("approximateInvokeCount").number_value(), 3);
  EXPECT_EQ(rc.at("functionEndpoint").string_value(), "127.0.0.1:7000");
  const auto& resp = s.fields().at("responseContext").struct_value().fields();
  EXPECT_EQ(resp.size(), 3u);
  EXPECT_EQ(resp.at("statusCode").number_value(), 200);
  EXPECT_EQ(resp.at("executedVersion").string_value(), "$LATEST");
  EXPECT_EQ(resp.at("functionError").string_value(), "Unhandled");
  EXPECT_EQ(s.fields().at("version").string_value(), "1.0");
  EXPECT_EQ(s.fields().at("timestamp").string_value(), FormatIso8601Millis(clock_.Now()));
  const auto& kb = s.fields().at("KinesisBatchInfo").struct_value().fields();
  EXPECT_EQ(kb.at("shardId").string_value(), "shardId-000000000003");
  EXPECT_EQ(kb.at("startSequenceNumber").string_value(), "100");
  EXPECT_EQ(kb.at("endSequenceNumber").string_value(), "102");
  EXPECT_EQ(kb.at("approximateArrivalOfFirstRecord").string_value(), FormatIso8601Millis(t0_));
  EXPECT_EQ(kb.at("approximateArrivalOfLastRecord").string_value(),
            FormatIso8601Millis(t0_ + absl::Milliseconds(500)));
  EXPECT_EQ(kb.at("batchSize").number_value(), 3);
  EXPECT_EQ(kb.at("streamArn").string_value(),
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders");
  EXPECT_EQ(kb.at("streamName").string_value(), "orders");
  EXPECT_EQ(kb.size(), 8u);
  EXPECT_EQ(Metrics().dropped_records().at("RetryAttemptsExhausted"), 3);
}

// Issue 14, item 3: a batch failing under the default policy (retry forever) kept that policy
// after `mappings update --maximum-retry-attempts 1 --destination X` until a restart. The update
// now applies from the batch's next attempt: its retries so far count against the new limit.
TEST_F(BatchProcessorTest, AnUpdateReachesAFailingBatchAtItsNextAttempt) {
  config_.set_maximum_retry_attempts(-1);
  const std::string old_endpoint = config_.function_endpoint();
  function_.SetScript([this](const v1::InvokeRequest&, int call) -> absl::StatusOr<v1::InvokeResponse> {
    if (call == 4) {  // the operator updates the mapping while the batch keeps failing
      config_.set_maximum_retry_attempts(1);
      SetDestination();
      config_.set_function_endpoint("127.0.0.1:9001");
      config_.set_function_timeout_seconds(7);
    }
    if (call >= 20) return v1::InvokeResponse();  // ends the test should the update be ignored
    return FunctionErrorReply();
  });
  ASSERT_TRUE(Process(Records(2)).ok());
  const auto calls = function_.calls();
  ASSERT_EQ(calls.size(), 6u) << "the new retry limit did not end the retries";
  EXPECT_EQ(calls[4].endpoint, old_endpoint);
  EXPECT_EQ(calls[5].endpoint, "127.0.0.1:9001") << "the new endpoint was not used";
  EXPECT_EQ(calls[5].timeout, absl::Seconds(7)) << "the new timeout was not used";
  ASSERT_EQ(destination_.puts().size(), 1u) << "nothing reached the new destination";
  EXPECT_EQ(destination_.puts()[0].stream_name, "dlq");
  EXPECT_EQ(done_, (std::vector<std::string>{"0", "1"}));
}

// The on-failure put is retried with the destination current at each put: an operator can fix
// a destination that does not exist while the lane waits on it.
TEST_F(BatchProcessorTest, AFailingDestinationPutUsesTheDestinationCurrentAtEachPut) {
  config_.set_maximum_retry_attempts(0);
  config_.mutable_destination_config()->mutable_on_failure()->set_destination("missing");
  function_.SetScript([](const v1::InvokeRequest&, int) { return FunctionErrorReply(); });
  destination_.SetPutHook([this](const std::string& stream) {
    if (stream == "missing") {
      SetDestination();  // the operator points the mapping at a stream that exists
      return absl::NotFoundError("stream missing");
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(Process(Records(1)).ok());
  ASSERT_EQ(destination_.puts().size(), 1u);
  EXPECT_EQ(destination_.puts()[0].stream_name, "dlq");
}

TEST_F(BatchProcessorTest, AFunctionNotReachedIsReportedAsABadGatewayWithoutAFunctionError) {
  config_.set_maximum_retry_attempts(0);
  SetDestination();
  function_.SetScript([](const v1::InvokeRequest&, int) -> absl::StatusOr<v1::InvokeResponse> {
    return absl::UnavailableError("connection refused");
  });
  ASSERT_TRUE(Process(Records(1)).ok());
  const auto s = OnlyDestinationRecord();
  const auto& resp = s.fields().at("responseContext").struct_value().fields();
  EXPECT_EQ(resp.at("statusCode").number_value(), 502);
  EXPECT_EQ(resp.at("executedVersion").string_value(), "$LATEST");
  EXPECT_EQ(resp.count("functionError"), 0u) << "not a function error";
  EXPECT_EQ(s.fields().at("requestContext").struct_value().fields().count("functionArn"), 0u)
      << "the mapping follows no registered function";
  EXPECT_EQ(s.fields().at("KinesisBatchInfo").struct_value().fields().count("streamArn"), 0u)
      << "the configuration carries no stream ARN";
}

TEST_F(BatchProcessorTest, AnHttpFunctionsStatusIsTheRecordsStatusCode) {
  config_.set_maximum_retry_attempts(0);
  SetDestination();
  function_.SetScript([](const v1::InvokeRequest&, int) -> absl::StatusOr<v1::InvokeResponse> {
    absl::Status status = absl::UnknownError("HTTP 404 from http://f/: no such path");
    status.SetPayload(kHttpStatusPayload, absl::Cord("404"));
    return status;
  });
  ASSERT_TRUE(Process(Records(1)).ok());
  const auto s = OnlyDestinationRecord();
  const auto& resp = s.fields().at("responseContext").struct_value().fields();
  EXPECT_EQ(resp.at("statusCode").number_value(), 404);
  EXPECT_EQ(resp.count("functionError"), 0u);
}

TEST_F(BatchProcessorTest, ATimedOutFunctionIsAnUnhandledFunctionError) {
  config_.set_maximum_retry_attempts(0);
  SetDestination();
  function_.SetScript([](const v1::InvokeRequest&, int) -> absl::StatusOr<v1::InvokeResponse> {
    return absl::DeadlineExceededError("Function timed out");
  });
  ASSERT_TRUE(Process(Records(1)).ok());
  const auto s = OnlyDestinationRecord();
  const auto& resp = s.fields().at("responseContext").struct_value().fields();
  EXPECT_EQ(resp.at("statusCode").number_value(), 200);
  EXPECT_EQ(resp.at("functionError").string_value(), "Unhandled");
}

TEST_F(BatchProcessorTest, ZeroRetryAttemptsInvokesOnce) {
  config_.set_maximum_retry_attempts(0);
  function_.SetScript([](const v1::InvokeRequest&, int) { return FunctionErrorReply(); });
  ASSERT_TRUE(Process(Records(4)).ok());
  EXPECT_EQ(function_.call_count(), 1);
  EXPECT_EQ(done_.size(), 4u);  // skipped: done without a destination
  EXPECT_EQ(Metrics().dropped_records().at("RetryAttemptsExhausted"), 4);
  EXPECT_TRUE(waiter_.waits().empty());
}

TEST_F(BatchProcessorTest, BisectIsolatesOneBadRecordAmongOneHundred) {
  config_.set_bisect_batch_on_function_error(true);
  config_.set_maximum_retry_attempts(2);
  SetDestination();
  function_.SetScript(ScriptedFunction::FailRecordsWithData({"r37"}));
  ASSERT_TRUE(Process(Records(100)).ok());
  // Halves (first = floor(n/2)): [0,100) F, [0,50) F, [0,25) ok, [25,50) F, [25,37) ok,
  // [37,50) F, [37,43) F, [37,40) F, [37] F + 2 retries F, [38,40) ok, [40,43) ok, [43,50) ok,
  // [50,100) ok.
  EXPECT_EQ(function_.call_count(), 15);
  const auto batches = function_.batches();
  EXPECT_EQ(batches[8], std::vector<std::string>{"37"});
  EXPECT_EQ(batches[10], std::vector<std::string>{"37"});
  EXPECT_EQ(batches[14].front(), "50");
  const auto m = Metrics();
  EXPECT_EQ(m.bisections(), 6);
  EXPECT_EQ(m.retries(), 2);  // only the single record's; bisections are not retries
  EXPECT_EQ(m.function_errors(), 9);
  EXPECT_EQ(m.records_delivered(), 99);
  EXPECT_EQ(m.dropped_records().at("RetryAttemptsExhausted"), 1);
  const auto s = OnlyDestinationRecord();
  const auto& kb = s.fields().at("KinesisBatchInfo").struct_value().fields();
  EXPECT_EQ(kb.at("startSequenceNumber").string_value(), "37");
  EXPECT_EQ(kb.at("endSequenceNumber").string_value(), "37");
  EXPECT_EQ(kb.at("batchSize").number_value(), 1);
  EXPECT_EQ(s.fields()
                .at("requestContext")
                .struct_value()
                .fields()
                .at("approximateInvokeCount")
                .number_value(),
            3);
  EXPECT_EQ(done_.size(), 100u);
}

TEST_F(BatchProcessorTest, BisectHalvesStartWithAFreshRetryBudget) {
  // R = 1 and both records bad: the pair fails once (bisected, not retried), then each half
  // gets its own 1 + 1 invokes.
  config_.set_bisect_batch_on_function_error(true);
  config_.set_maximum_retry_attempts(1);
  function_.SetScript(ScriptedFunction::FailRecordsWithData({"r0", "r1"}));
  ASSERT_TRUE(Process(Records(2)).ok());
  EXPECT_EQ(function_.batches(),
            (std::vector<std::vector<std::string>>{{"0", "1"}, {"0"}, {"0"}, {"1"}, {"1"}}));
  EXPECT_EQ(Metrics().dropped_records().at("RetryAttemptsExhausted"), 2);
}

TEST_F(BatchProcessorTest, MaximumRecordAgeSkipsOldRecordsWithoutInvokingThem) {
  config_.set_maximum_record_age_in_seconds(60);
  SetDestination();
  std::vector<v1::Record> records = {MakeRecord(1, "k", "old", t0_),
                                     MakeRecord(2, "k", "old", t0_ + absl::Seconds(5)),
                                     MakeRecord(3, "k", "new", t0_ + absl::Seconds(50))};
  clock_.Advance(absl::Seconds(61));  // records 1 (61 s) and 2 (56 s)? only 1 is over 60 s
  ASSERT_TRUE(Process(records).ok());
  EXPECT_EQ(function_.batches(), (std::vector<std::vector<std::string>>{{"2", "3"}}));
  const auto s = OnlyDestinationRecord();
  EXPECT_EQ(s.fields().at("requestContext").struct_value().fields().at("condition").string_value(),
            "RecordAgeExceeded");
  EXPECT_EQ(s.fields()
                .at("requestContext")
                .struct_value()
                .fields()
                .at("approximateInvokeCount")
                .number_value(),
            0);
  EXPECT_EQ(s.fields().count("responseContext"), 0u) << "nothing was invoked";
  const auto& kb = s.fields().at("KinesisBatchInfo").struct_value().fields();
  EXPECT_EQ(kb.at("startSequenceNumber").string_value(), "1");
  EXPECT_EQ(kb.at("batchSize").number_value(), 1);
  EXPECT_EQ(done_, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(Metrics().dropped_records().at("RecordAgeExceeded"), 1);
}

TEST_F(BatchProcessorTest, InfiniteRetriesEndWhenTheRecordsExpire) {
  config_.set_maximum_record_age_in_seconds(60);
  function_.SetScript([](const v1::InvokeRequest&, int) { return FunctionErrorReply(); });
  ASSERT_TRUE(Process(Records(2)).ok());
  EXPECT_GT(function_.call_count(), 1);
  EXPECT_GE(clock_.Now() - t0_, absl::Seconds(60));
  EXPECT_EQ(Metrics().dropped_records().at("RecordAgeExceeded"), 2);
  EXPECT_EQ(Metrics().dropped_records().count("RetryAttemptsExhausted"), 0u);
}

TEST_F(BatchProcessorTest, WithoutLimitsAFailingBatchRetriesUntilStoppedAndItsAgeGrows) {
  std::vector<int64_t> ages;
  function_.SetScript([&](const v1::InvokeRequest&, int call) {
    ages.push_back(metrics_.IteratorAgeMs(shard_));
    if (call == 49) stop_.Stop();
    return FunctionErrorReply();
  });
  EXPECT_EQ(Process(Records(3)).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(function_.call_count(), 50);
  // The iterator age shows the blocked batch: it grows with every backoff.
  for (size_t i = 1; i < ages.size(); ++i) EXPECT_GE(ages[i], ages[i - 1]);
  EXPECT_EQ(ages.back(), absl::ToInt64Milliseconds(clock_.Now() - t0_));
  EXPECT_GT(ages.back(), 60'000);
  EXPECT_TRUE(done_.empty());
  EXPECT_TRUE(destination_.puts().empty());
}

TEST_F(BatchProcessorTest, StoppedBeforeStartInvokesNothing) {
  stop_.Stop();
  EXPECT_EQ(Process(Records(3)).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(function_.call_count(), 0);
}

absl::StatusOr<v1::InvokeResponse> ItemFailures(std::vector<std::string> ids) {
  v1::InvokeResponse r;
  for (const auto& id : ids) r.add_batch_item_failures()->set_item_identifier(id);
  return r;
}

TEST_F(BatchProcessorTest, PartialBatchResponseRetriesFromTheLowestReportedRecord) {
  config_.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  function_.SetScript([](const v1::InvokeRequest&, int call) {
    return call == 0 ? ItemFailures({"4", "2"}) : ItemFailures({});
  });
  ASSERT_TRUE(Process(Records(5)).ok());
  EXPECT_EQ(function_.batches(),
            (std::vector<std::vector<std::string>>{{"0", "1", "2", "3", "4"}, {"2", "3", "4"}}));
  EXPECT_EQ(done_, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  EXPECT_EQ(Metrics().retries(), 1);
  EXPECT_EQ(waiter_.waits().size(), 1u);
}

TEST_F(BatchProcessorTest, PartialFailureOfTheRemainderCountsTowardRetries) {
  config_.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  config_.set_maximum_retry_attempts(1);
  function_.SetScript([](const v1::InvokeRequest&, int) { return ItemFailures({"3"}); });
  ASSERT_TRUE(Process(Records(5)).ok());
  EXPECT_EQ(function_.batches(),
            (std::vector<std::vector<std::string>>{{"0", "1", "2", "3", "4"}, {"3", "4"}}));
  EXPECT_EQ(Metrics().records_delivered(), 3);
  EXPECT_EQ(Metrics().dropped_records().at("RetryAttemptsExhausted"), 2);
}

TEST_F(BatchProcessorTest, PartialBatchResponseWithBisectSplitsAtTheReportedRecord) {
  config_.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  config_.set_bisect_batch_on_function_error(true);
  function_.SetScript([](const v1::InvokeRequest&, int call) {
    return call == 0 ? ItemFailures({"3"}) : ItemFailures({});
  });
  ASSERT_TRUE(Process(Records(5)).ok());
  EXPECT_EQ(function_.batches(),
            (std::vector<std::vector<std::string>>{{"0", "1", "2", "3", "4"}, {"3", "4"}}));
  EXPECT_EQ(Metrics().bisections(), 1);
  EXPECT_EQ(Metrics().retries(), 0);
  EXPECT_TRUE(waiter_.waits().empty());
}

TEST_F(BatchProcessorTest, EmptyFailureListIsSuccess) {
  config_.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  function_.SetScript([](const v1::InvokeRequest&, int) { return ItemFailures({}); });
  ASSERT_TRUE(Process(Records(3)).ok());
  EXPECT_EQ(function_.call_count(), 1);
  EXPECT_EQ(done_.size(), 3u);
}

TEST_F(BatchProcessorTest, EmptyOrUnknownIdentifierFailsTheWholeBatch) {
  for (const std::string bad : {"", "99", "abc"}) {
    SCOPED_TRACE(bad);
    ScriptedFunction function;
    BatchProcessor processor(clock_, waiter_, function, destination_, metrics_, backoff_, seed_);
    config_.clear_function_response_types();
    config_.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
    function.SetScript([&](const v1::InvokeRequest&, int call) {
      return call == 0 ? ItemFailures({"1", bad}) : ItemFailures({});
    });
    ASSERT_TRUE(processor.Process(shard_, current_config_, Records(3), stop_, [](const auto&) {}).ok());
    // The whole batch was retried, not just from "1".
    EXPECT_EQ(function.batches(),
              (std::vector<std::vector<std::string>>{{"0", "1", "2"}, {"0", "1", "2"}}));
  }
}

TEST_F(BatchProcessorTest, ItemFailuresAreIgnoredWithoutReportBatchItemFailures) {
  function_.SetScript([](const v1::InvokeRequest&, int) { return ItemFailures({"1"}); });
  ASSERT_TRUE(Process(Records(3)).ok());
  EXPECT_EQ(function_.call_count(), 1);
  EXPECT_EQ(done_.size(), 3u);
}

TEST_F(BatchProcessorTest, FailedDestinationPutIsRetriedSoNothingIsSkippedUnreported) {
  config_.set_maximum_retry_attempts(0);
  SetDestination();
  destination_.FailNext(3);
  function_.SetScript([](const v1::InvokeRequest&, int) { return FunctionErrorReply(); });
  ASSERT_TRUE(Process(Records(2)).ok());
  EXPECT_EQ(destination_.puts().size(), 1u);
  EXPECT_EQ(waiter_.waits().size(), 3u);
}

// include_records (issue 23): the failure record carries the failed records' keys and data;
// records larger than one destination record are split into parts, put in order.
TEST_F(BatchProcessorTest, IncludeRecordsPutsTheFailedRecordsDataInOrderedParts) {
  config_.set_maximum_retry_attempts(0);
  SetDestination();
  config_.mutable_destination_config()->mutable_on_failure()->set_include_records(true);
  function_.SetScript([](const v1::InvokeRequest&, int) { return FunctionErrorReply(); });
  std::vector<v1::Record> records;
  const std::string big(400 * 1024, 'x');  // three fit in no 1 MiB record with base64
  for (int i = 0; i < 3; ++i) records.push_back(MakeRecord(i, absl::StrCat("k", i), big, t0_));
  ASSERT_TRUE(Process(records).ok());
  const auto puts = destination_.puts();
  ASSERT_GE(puts.size(), 2u);
  int seen = 0;
  for (size_t i = 0; i < puts.size(); ++i) {
    EXPECT_LE(puts[i].data.size(), static_cast<size_t>(kMaxFailureRecordBytes));
    google::protobuf::Struct s;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(puts[i].data, &s).ok());
    const auto& part = s.fields().at("part").struct_value().fields();
    EXPECT_EQ(part.at("index").number_value(), static_cast<double>(i));
    EXPECT_EQ(part.at("count").number_value(), static_cast<double>(puts.size()));
    for (const auto& r : s.fields().at("records").list_value().values()) {
      const auto& f = r.struct_value().fields();
      EXPECT_EQ(f.at("partitionKey").string_value(), absl::StrCat("k", seen));
      EXPECT_EQ(f.at("sequenceNumber").string_value(), std::to_string(seen));
      std::string data;
      ASSERT_TRUE(absl::Base64Unescape(f.at("data").string_value(), &data));
      EXPECT_EQ(data, big);
      ++seen;
    }
  }
  EXPECT_EQ(seen, 3);
}

TEST_F(BatchProcessorTest, WithoutIncludeRecordsTheFailureRecordHasNoData) {
  config_.set_maximum_retry_attempts(0);
  SetDestination();
  function_.SetScript([](const v1::InvokeRequest&, int) { return FunctionErrorReply(); });
  ASSERT_TRUE(Process(Records(2)).ok());
  const auto s = OnlyDestinationRecord();
  EXPECT_EQ(s.fields().count("records"), 0u);
  EXPECT_EQ(s.fields().count("part"), 0u);
}

// On-success destination (issue 23): a record per invoke the function accepted, for the
// records it delivered, put before they are done.
class OnSuccessTest : public BatchProcessorTest {
 protected:
  OnSuccessTest() {
    config_.mutable_destination_config()->mutable_on_success()->set_destination("delivered");
  }

  // The success records put, parsed, in order; each must go to "delivered" keyed by the shard.
  std::vector<google::protobuf::Struct> SuccessRecords() {
    std::vector<google::protobuf::Struct> out;
    for (const auto& put : destination_.puts()) {
      if (put.stream_name != "delivered") continue;
      EXPECT_EQ(put.partition_key, shard_.shard_id);
      google::protobuf::Struct s;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(put.data, &s).ok()) << put.data;
      out.push_back(s);
    }
    return out;
  }

  // "first-last/size" of a success record's KinesisBatchInfo.
  static std::string Range(const google::protobuf::Struct& s) {
    const auto& info = s.fields().at("KinesisBatchInfo").struct_value().fields();
    return absl::StrCat(info.at("startSequenceNumber").string_value(), "-",
                        info.at("endSequenceNumber").string_value(), "/",
                        info.at("batchSize").number_value());
  }

  std::vector<std::string> Ranges() {
    std::vector<std::string> out;
    for (const auto& s : SuccessRecords()) out.push_back(Range(s));
    return out;
  }
};

TEST_F(OnSuccessTest, ASuccessfulBatchPutsOneRecordWithItsRangeDurationAndMapping) {
  function_.SetScript([this](const v1::InvokeRequest&, int) {
    clock_.Advance(absl::Microseconds(12500));
    return v1::InvokeResponse();
  });
  ASSERT_TRUE(Process(Records(5)).ok());
  const auto records = SuccessRecords();
  ASSERT_EQ(records.size(), 1u);
  const auto& f = records[0].fields();
  const auto& request = f.at("requestContext").struct_value().fields();
  EXPECT_EQ(request.at("condition").string_value(), "Success");
  EXPECT_EQ(request.at("approximateInvokeCount").number_value(), 1);
  EXPECT_EQ(request.at("eventSourceMappingUuid").string_value(), "mapping-1");
  EXPECT_EQ(request.at("functionEndpoint").string_value(), "127.0.0.1:7000");
  const auto& response = f.at("responseContext").struct_value().fields();
  EXPECT_EQ(response.at("statusCode").number_value(), 200);
  EXPECT_EQ(response.count("functionError"), 0u);
  EXPECT_EQ(response.at("invokeDurationMs").number_value(), 12.5);
  EXPECT_EQ(f.at("timestamp").string_value(), FormatIso8601Millis(clock_.Now()));
  EXPECT_EQ(Range(records[0]), "0-4/5");
  EXPECT_EQ(f.at("KinesisBatchInfo").struct_value().fields().at("shardId").string_value(),
            "shardId-000000000003");
  EXPECT_EQ(done_.size(), 5u);
}

TEST_F(OnSuccessTest, WithoutAnOnSuccessDestinationNothingIsPut) {
  config_.clear_destination_config();
  ASSERT_TRUE(Process(Records(3)).ok());
  EXPECT_TRUE(destination_.puts().empty());
  EXPECT_EQ(done_.size(), 3u);
}

TEST_F(OnSuccessTest, ARetriedBatchPutsOneRecordCountingItsInvokes) {
  function_.SetScript([](const v1::InvokeRequest&, int call) -> absl::StatusOr<v1::InvokeResponse> {
    if (call < 2) return FunctionErrorReply();
    return v1::InvokeResponse();
  });
  ASSERT_TRUE(Process(Records(3)).ok());
  const auto records = SuccessRecords();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(Range(records[0]), "0-2/3");
  EXPECT_EQ(records[0].fields().at("requestContext").struct_value().fields()
                .at("approximateInvokeCount").number_value(),
            3);
}

TEST_F(OnSuccessTest, APartialResponsePutsARecordForTheDeliveredPrefixThenForTheRetriedRest) {
  config_.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  function_.SetScript([](const v1::InvokeRequest&, int call) {
    return call == 0 ? ItemFailures({"4", "2"}) : ItemFailures({});
  });
  ASSERT_TRUE(Process(Records(5)).ok());
  EXPECT_EQ(Ranges(), (std::vector<std::string>{"0-1/2", "2-4/3"}));
}

TEST_F(OnSuccessTest, BisectedHalvesEachPutTheirOwnRecordAndSkippedRecordsNone) {
  config_.set_bisect_batch_on_function_error(true);
  config_.set_maximum_retry_attempts(0);
  SetDestination();  // the poison record goes to "dlq", not "delivered"
  function_.SetScript([](const v1::InvokeRequest& request, int) -> absl::StatusOr<v1::InvokeResponse> {
    for (const auto& r : request.records()) {
      if (r.sequence_number() == "2") return FunctionErrorReply();
    }
    return v1::InvokeResponse();
  });
  ASSERT_TRUE(Process(Records(4)).ok());
  // [0,1] ok; [2,3] fails → [2] fails (reported), [3] ok.
  EXPECT_EQ(Ranges(), (std::vector<std::string>{"0-1/2", "3-3/1"}));
  int failures = 0;
  for (const auto& put : destination_.puts()) failures += put.stream_name == "dlq";
  EXPECT_EQ(failures, 1);
}

TEST_F(OnSuccessTest, RecordsAreDoneOnlyAfterTheirSuccessRecordIsPut) {
  std::vector<size_t> done_at_put;
  destination_.SetPutHook([&](const std::string&) {
    done_at_put.push_back(done_.size());
    return absl::OkStatus();
  });
  config_.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  function_.SetScript([](const v1::InvokeRequest&, int call) {
    return call == 0 ? ItemFailures({"3"}) : ItemFailures({});
  });
  ASSERT_TRUE(Process(Records(5)).ok());
  EXPECT_EQ(done_at_put, (std::vector<size_t>{0, 3})) << "each put precedes its records' done";
}

TEST_F(OnSuccessTest, AFailingPutIsRetriedAndTheLaneWaitsSoNoDeliveryGoesUnrecorded) {
  destination_.FailNext(2);
  ASSERT_TRUE(Process(Records(2)).ok());
  EXPECT_EQ(Ranges(), (std::vector<std::string>{"0-1/2"}));
  EXPECT_EQ(waiter_.waits().size(), 2u);
  EXPECT_EQ(function_.call_count(), 1) << "the put is retried, not the invoke";
  EXPECT_EQ(Metrics().last_error_kind(), "DestinationError");
}

TEST_F(OnSuccessTest, StoppedWhileThePutFailsLeavesTheRecordsNotDone) {
  destination_.SetPutHook([this](const std::string&) {
    stop_.Stop();
    return absl::UnavailableError("store down");
  });
  EXPECT_EQ(Process(Records(3)).code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(done_.empty()) << "the next owner invokes them again (at least once)";
}

TEST_F(OnSuccessTest, TheDestinationIsReadAgainAtEachPut) {
  destination_.SetPutHook([this](const std::string& stream) -> absl::Status {
    if (stream == "delivered") {
      config_.mutable_destination_config()->mutable_on_success()->set_destination("audit");
      return absl::NotFoundError("stream delivered not found");
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(Process(Records(1)).ok());
  const auto puts = destination_.puts();
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].stream_name, "audit");
}

TEST_F(BatchProcessorTest, InvokeLatencyAndIteratorAgeComeFromTheClock) {
  function_.SetScript([this](const v1::InvokeRequest&, int) {
    clock_.Advance(absl::Milliseconds(40));
    return v1::InvokeResponse();
  });
  clock_.Advance(absl::Milliseconds(1000));
  ASSERT_TRUE(Process(Records(2)).ok());
  const auto m = Metrics();
  EXPECT_EQ(m.invoke_latency_ms().sum(), 40);
  EXPECT_EQ(m.iterator_age_ms(), 1040);
  EXPECT_EQ(m.batch_size().sum(), 2);
}

// Dwell (issue 23): each delivered record's arrival → the end of its successful invocation;
// records that failed (retried here) count once, when delivered, from their arrival.
TEST_F(BatchProcessorTest, DwellIsFromEachRecordsArrivalToItsSuccessfulInvocation) {
  config_.set_maximum_retry_attempts(-1);
  std::vector<v1::Record> records = {MakeRecord(0, "k", "a", t0_),
                                     MakeRecord(1, "k", "b", t0_ + absl::Milliseconds(500))};
  clock_.Advance(absl::Seconds(2));
  function_.SetScript([this](const v1::InvokeRequest&, int call) {
    clock_.Advance(absl::Milliseconds(100));
    return call == 0 ? FunctionErrorReply() : v1::InvokeResponse();
  });
  ASSERT_TRUE(Process(records).ok());
  const auto m = Metrics();
  ASSERT_EQ(m.dwell_ms().count(), 2);
  // Delivered at t0 + 2 s + 100 ms (failed) + the backoff + 100 ms.
  const double delivered_ms =
      2200 + absl::ToDoubleMilliseconds(waiter_.waits().at(0));
  EXPECT_DOUBLE_EQ(m.dwell_ms().sum(), delivered_ms + (delivered_ms - 500));
  // Prometheus, in seconds, per mapping (no shard label).
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE tributary_poller_dwell_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("tributary_poller_dwell_seconds_count{poller=\"poller-1\",mapping=\"mapping-1\","
                      "stream=\"orders\"} 2\n"),
            std::string::npos)
      << text;
}

// ---- Last processing result (metrics.h has the mapping) ----

struct ResultCase {
  std::string name;
  std::function<absl::StatusOr<v1::InvokeResponse>()> answer;
  ProcessingResult expected;
  ErrorKind error = ErrorKind::kNone;  // the last error it leaves
  std::string message;                 // that error's message
};

class ProcessingResultTest : public BatchProcessorTest,
                             public ::testing::WithParamInterface<ResultCase> {};

TEST_P(ProcessingResultTest, OneInvocationSetsTheShardsResultWithItsTime) {
  config_.set_maximum_retry_attempts(0);  // one invocation, then reported and skipped
  config_.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  function_.SetScript([&](const v1::InvokeRequest&, int) {
    clock_.Advance(absl::Milliseconds(40));  // the invocation takes a while
    return GetParam().answer();
  });
  EXPECT_EQ(metrics_.LastProcessingResult(shard_), ProcessingResult::kNone);
  ASSERT_TRUE(Process(Records(3)).ok());
  EXPECT_EQ(metrics_.LastProcessingResult(shard_), GetParam().expected);
  const std::vector<ShardProgress> progress = metrics_.Progress({&shard_});
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0].result, GetParam().expected);
  EXPECT_EQ(progress[0].result_time, t0_ + absl::Milliseconds(40)) << "when the call returned";
  const LastError error = metrics_.LastErrorOf(shard_);
  EXPECT_EQ(error.kind, GetParam().error);
  EXPECT_EQ(error.message, GetParam().message);
  EXPECT_EQ(progress[0].error.kind, GetParam().error);
  if (GetParam().error != ErrorKind::kNone) {
    EXPECT_EQ(error.time, t0_ + absl::Milliseconds(40));
    const v1::ShardMetrics m = Metrics();
    EXPECT_EQ(m.last_error_kind(), ErrorKindName(GetParam().error));
    EXPECT_EQ(m.last_error_message(), GetParam().message);
    EXPECT_EQ(FromProtoTimestamp(m.last_error_time()), t0_ + absl::Milliseconds(40));
  }
  EXPECT_EQ(Metrics().last_processing_result(), ProcessingResultText(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Answers, ProcessingResultTest,
    ::testing::Values(
        ResultCase{"Success", [] { return v1::InvokeResponse(); }, ProcessingResult::kOk,
                   ErrorKind::kNone, ""},
        ResultCase{"FunctionErrorReply", [] { return FunctionErrorReply(); },
                   ProcessingResult::kFunctionCallFailed, ErrorKind::kFunctionError, "Unhandled"},
        ResultCase{
            "InternalStatus",
            []() -> absl::StatusOr<v1::InvokeResponse> { return absl::InternalError("boom"); },
            ProcessingResult::kFunctionCallFailed, ErrorKind::kCallFailed, "INTERNAL: boom"},
        ResultCase{"DeadlineExceeded",
                   []() -> absl::StatusOr<v1::InvokeResponse> {
                     return absl::DeadlineExceededError("function timeout");
                   },
                   ProcessingResult::kFunctionTimedOut, ErrorKind::kTimeout,
                   "DEADLINE_EXCEEDED: function timeout"},
        ResultCase{"Unavailable",
                   []() -> absl::StatusOr<v1::InvokeResponse> {
                     return absl::UnavailableError("connection refused");
                   },
                   ProcessingResult::kConnectionError, ErrorKind::kConnectionError,
                   "UNAVAILABLE: connection refused"},
        ResultCase{"PartialBatchResponse", [] { return ItemFailures({"1"}); },
                   ProcessingResult::kBatchItemFailures, ErrorKind::kBatchItemFailures,
                   "1 of 3 records reported as failed, the first at sequence "
                   "number 1"},
        ResultCase{"UnknownItemIdentifier", [] { return ItemFailures({"nope"}); },
                   ProcessingResult::kFunctionCallFailed, ErrorKind::kInvalidBatchItemFailures,
                   "invalid batch item failure identifier \"nope\""}),
    [](const ::testing::TestParamInfo<ResultCase>& info) { return info.param.name; });

TEST_F(BatchProcessorTest, ResultIsOkOnceARetrySucceeds) {
  function_.SetScript([](const v1::InvokeRequest&, int call) -> absl::StatusOr<v1::InvokeResponse> {
    if (call == 0) return absl::UnavailableError("connection refused");
    return v1::InvokeResponse();
  });
  ASSERT_TRUE(Process(Records(2)).ok());
  EXPECT_EQ(function_.call_count(), 2);
  EXPECT_EQ(metrics_.LastProcessingResult(shard_), ProcessingResult::kOk);
}

// ---- Last error and the log (metrics.h) ----

TEST_F(BatchProcessorTest, LastErrorStaysAfterASuccessWhichTheResultShows) {
  function_.SetScript([](const v1::InvokeRequest&, int call) -> absl::StatusOr<v1::InvokeResponse> {
    if (call == 0) return FunctionErrorReply();
    return v1::InvokeResponse();
  });
  ASSERT_TRUE(Process(Records(2)).ok());
  EXPECT_EQ(metrics_.LastProcessingResult(shard_), ProcessingResult::kOk);
  EXPECT_EQ(metrics_.LastErrorOf(shard_).kind, ErrorKind::kFunctionError);
  EXPECT_EQ(metrics_.LastErrorOf(shard_).time, t0_);
}

TEST_F(BatchProcessorTest, ALongFunctionErrorIsCutTo256BytesOnACharacterBoundary) {
  // 255 ASCII bytes, then a 2-byte character that would end at byte 257.
  const std::string text = std::string(255, 'x') + "\xc3\xa9" + "tail";
  function_.SetScript([&](const v1::InvokeRequest&, int) {
    v1::InvokeResponse r;
    r.set_function_error(text);
    return r;
  });
  config_.set_maximum_retry_attempts(0);
  ASSERT_TRUE(Process(Records(1)).ok());
  EXPECT_EQ(metrics_.LastErrorOf(shard_).message, std::string(255, 'x'));
}

// Regression (issue 14, item 4): a failing function was logged nowhere.
TEST_F(BatchProcessorTest, FunctionErrorsAreLoggedOncePerChangeOfOutcome) {
  tributary::testing::LogCapture log;
  function_.SetScript([](const v1::InvokeRequest&, int call) -> absl::StatusOr<v1::InvokeResponse> {
    if (call < 5) return FunctionErrorReply();                 // five failures in a row
    if (call < 7) return absl::DeadlineExceededError("late");  // then two timeouts
    return v1::InvokeResponse();
  });
  ASSERT_TRUE(Process(Records(2)).ok());
  EXPECT_EQ(function_.call_count(), 8);
  const std::string shard = "mapping mapping-1 shard shardId-000000000003";
  EXPECT_EQ(log.Count({shard, "invocation failed (FunctionError): Unhandled"}), 1);
  EXPECT_EQ(log.Count({shard, "invocation failed (Timeout): DEADLINE_EXCEEDED: late"}), 1);
  EXPECT_EQ(log.Count({shard, "invocations succeed again"}), 1);
  EXPECT_EQ(log.Count({shard}), 3) << "one line per change, nothing per retry";
}

// Regression (issue 14, item 4): the lane blocked on a failing destination with no reason.
TEST_F(BatchProcessorTest, AFailingDestinationIsTheLastErrorAndLoggedOnceUntilAPutSucceeds) {
  tributary::testing::LogCapture log;
  SetDestination();
  config_.set_maximum_retry_attempts(0);
  destination_.FailNext(4);
  function_.SetScript([](const v1::InvokeRequest&, int) { return FunctionErrorReply(); });
  ASSERT_TRUE(Process(Records(1)).ok());
  EXPECT_EQ(destination_.puts().size(), 1u) << "retried until it succeeded";
  EXPECT_EQ(metrics_.LastErrorOf(shard_).kind, ErrorKind::kDestinationError);
  EXPECT_NE(metrics_.LastErrorOf(shard_).message.find("put to dlq: "), std::string::npos)
      << metrics_.LastErrorOf(shard_).message;
  const std::string shard = "mapping mapping-1 shard shardId-000000000003";
  EXPECT_EQ(log.Count({shard, "could not be put to the destination dlq"}), 1);
  EXPECT_EQ(log.Count({shard, "puts to the destination dlq succeed again"}), 1);
  EXPECT_EQ(log.Count({shard, "skipped 1 record(s) after RetryAttemptsExhausted, reported to dlq"}),
            1);
}

TEST_F(BatchProcessorTest, SkippedRecordsAreLoggedOncePerConditionUntilASuccess) {
  tributary::testing::LogCapture log;
  config_.set_maximum_retry_attempts(0);
  function_.SetScript([](const v1::InvokeRequest&, int) { return FunctionErrorReply(); });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Process(Records(1)).ok());
  const std::string shard = "mapping mapping-1 shard shardId-000000000003";
  EXPECT_EQ(log.Count({shard, "after RetryAttemptsExhausted, no on-failure destination"}), 1);
  EXPECT_EQ(Metrics().dropped_records().at("RetryAttemptsExhausted"), 3);
  function_.SetScript([](const v1::InvokeRequest&, int call) -> absl::StatusOr<v1::InvokeResponse> {
    if (call == 3) return v1::InvokeResponse();
    return FunctionErrorReply();
  });
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(Process(Records(1)).ok());  // a success, then a skip
  EXPECT_EQ(log.Count({shard, "after RetryAttemptsExhausted"}), 2);
}

TEST(TruncateUtf8, CutsOnCharacterBoundariesAndReplacesInvalidBytes) {
  EXPECT_EQ(TruncateUtf8("hello", 10), "hello");
  EXPECT_EQ(TruncateUtf8("hello", 3), "hel");
  EXPECT_EQ(TruncateUtf8("a\xc3\xa9", 2), "a") << "a 2-byte character is not split";
  EXPECT_EQ(TruncateUtf8("a\xc3\xa9", 3), "a\xc3\xa9");
  EXPECT_EQ(TruncateUtf8("\xe2\x82\xac\xf0\x9f\x98\x80", 6), "\xe2\x82\xac") << "3 + 4 bytes";
  EXPECT_EQ(TruncateUtf8("a\xff"
                         "b",
                         10),
            "a?b")
      << "an invalid byte";
  EXPECT_EQ(TruncateUtf8("\xc3", 10), "?") << "a sequence cut short";
  EXPECT_EQ(TruncateUtf8("\xed\xa0\x80", 10), "???") << "a surrogate is not UTF-8";
  EXPECT_EQ(TruncateUtf8("", 10), "");
}

TEST(ErrorKindName, NamesEachKind) {
  EXPECT_STREQ(ErrorKindName(ErrorKind::kNone), "");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kFunctionError), "FunctionError");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kTimeout), "Timeout");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kConnectionError), "ConnectionError");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kCallFailed), "CallFailed");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kInvalidBatchItemFailures), "InvalidBatchItemFailures");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kBatchItemFailures), "BatchItemFailures");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kMissingWindowState), "MissingWindowState");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kDestinationError), "DestinationError");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kInvalidFilterCriteria), "InvalidFilterCriteria");
}

TEST(ProcessingResultText, NamesEachResultInLambdasWords) {
  EXPECT_STREQ(ProcessingResultText(ProcessingResult::kNone), "");
  EXPECT_STREQ(ProcessingResultText(ProcessingResult::kOk), "OK");
  EXPECT_STREQ(ProcessingResultText(ProcessingResult::kFunctionCallFailed),
               "PROBLEM: Function call failed");
  EXPECT_STREQ(ProcessingResultText(ProcessingResult::kFunctionTimedOut),
               "PROBLEM: Function timed out");
  EXPECT_STREQ(ProcessingResultText(ProcessingResult::kConnectionError),
               "PROBLEM: Connection error");
  EXPECT_STREQ(ProcessingResultText(ProcessingResult::kBatchItemFailures),
               "PROBLEM: Function reported batch item failures");
}

// Tumbling windows (rules W1-W3).

class WindowBatchTest : public BatchProcessorTest {
 protected:
  WindowBatchTest() {
    window_.start = absl::FromUnixSeconds(1'700'000'000);
    window_.end = window_.start + absl::Seconds(100);
    function_.SetScript(ScriptedFunction::CountInWindowState());
  }

  absl::Status ProcessInWindow(std::vector<v1::Record> records) {
    return processor_.Process(
        shard_, current_config_, std::move(records), stop_,
        [this](const std::vector<v1::Record>& done) {
          for (const auto& r : done) done_.push_back(r.sequence_number());
        },
        &window_);
  }

  static std::string Seqs(const v1::TumblingWindowState& state) {
    auto it = state.values().find("seqs");
    return it == state.values().end() ? "" : it->second;
  }

  WindowContext window_;
};

TEST_F(WindowBatchTest, EveryInvocationCarriesTheWindowAndTheStateOfTheLastOne) {
  ASSERT_TRUE(ProcessInWindow(Records(3)).ok());
  ASSERT_TRUE(ProcessInWindow({MakeRecord(3, "k", "r3", t0_)}).ok());
  const auto calls = function_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].request.window().start().seconds(), 1'700'000'000);
  EXPECT_EQ(calls[0].request.window().end().seconds(), 1'700'000'100);
  EXPECT_TRUE(calls[0].request.has_state());
  EXPECT_TRUE(calls[0].request.state().values().empty()) << "the window's first invocation";
  EXPECT_FALSE(calls[0].request.is_final_invoke_for_window());
  EXPECT_EQ(calls[1].request.state().values().at("count"), "3");
  EXPECT_EQ(Seqs(calls[1].request.state()), "0,1,2");
  EXPECT_EQ(window_.state.values().at("count"), "4") << "the last reply's state is kept";
  EXPECT_EQ(done_.size(), 4u);
}

TEST_F(BatchProcessorTest, WithoutAWindowNoWindowFieldIsSent) {
  ASSERT_TRUE(Process(Records(2)).ok());
  const auto request = function_.calls()[0].request;
  EXPECT_FALSE(request.has_window());
  EXPECT_FALSE(request.has_state());
  EXPECT_FALSE(request.is_final_invoke_for_window());
}

TEST_F(WindowBatchTest, AReplyWithoutStateIsAFunctionErrorAndIsRetried) {
  function_.SetScript(
      [](const v1::InvokeRequest& request, int call) -> absl::StatusOr<v1::InvokeResponse> {
        if (call == 0) return v1::InvokeResponse();  // no state
        return ScriptedFunction::CountInWindowState()(request, call);
      });
  ASSERT_TRUE(ProcessInWindow(Records(2)).ok());
  ASSERT_EQ(function_.call_count(), 2);
  EXPECT_EQ(function_.batches()[1], (std::vector<std::string>{"0", "1"}));
  EXPECT_TRUE(function_.calls()[1].request.state().values().empty());
  EXPECT_EQ(window_.state.values().at("count"), "2");
  EXPECT_EQ(Metrics().function_errors(), 1);
  EXPECT_EQ(Metrics().retries(), 1);
}

TEST_F(WindowBatchTest, AReplyWithoutStateExhaustsRetriesLikeAnyFunctionError) {
  config_.set_maximum_retry_attempts(1);
  SetDestination();
  function_.SetScript([](const v1::InvokeRequest&, int) { return v1::InvokeResponse(); });
  ASSERT_TRUE(ProcessInWindow(Records(2)).ok());
  EXPECT_EQ(function_.call_count(), 2);
  const auto s = OnlyDestinationRecord();
  const auto& resp = s.fields().at("responseContext").struct_value().fields();
  EXPECT_EQ(resp.at("statusCode").number_value(), 200);
  EXPECT_EQ(resp.count("functionError"), 0u) << "the function returned; its reply broke a rule";
  EXPECT_TRUE(window_.state.values().empty()) << "skipped records leave the state as it was";
}

TEST_F(WindowBatchTest, AFunctionErrorsStateIsIgnored) {
  function_.SetScript(
      [](const v1::InvokeRequest& request, int call) -> absl::StatusOr<v1::InvokeResponse> {
        if (call == 0) {
          v1::InvokeResponse r;
          r.set_function_error("Unhandled");
          (*r.mutable_state()->mutable_values())["count"] = "999";
          return r;
        }
        return ScriptedFunction::CountInWindowState()(request, call);
      });
  ASSERT_TRUE(ProcessInWindow(Records(2)).ok());
  EXPECT_TRUE(function_.calls()[1].request.state().values().empty());
  EXPECT_EQ(window_.state.values().at("count"), "2");
}

TEST_F(WindowBatchTest, StateFlowsThroughBisectedHalvesInOrder) {
  config_.set_bisect_batch_on_function_error(true);
  config_.set_maximum_retry_attempts(0);
  function_.SetScript(ScriptedFunction::CountInWindowState({"r1"}));
  ASSERT_TRUE(ProcessInWindow(Records(4)).ok());
  // [0..3] F, [0,1] F, [0] ok, [1] F (dropped), [2,3] ok.
  const auto calls = function_.calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(Seqs(calls[3].request.state()), "0") << "[1] starts with [0]'s state";
  EXPECT_EQ(Seqs(calls[4].request.state()), "0") << "the dropped record changed nothing";
  EXPECT_EQ(Seqs(window_.state), "0,2,3");
  EXPECT_EQ(window_.state.values().at("count"), "3");
}

TEST_F(WindowBatchTest, APartialFailuresStateIsAdoptedAndTheRemainderRetriedWithIt) {
  config_.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  function_.SetScript(
      [](const v1::InvokeRequest& request, int call) -> absl::StatusOr<v1::InvokeResponse> {
        v1::InvokeResponse r;
        if (call == 0) {
          // Records 0 and 1 processed, 2 failed.
          r.add_batch_item_failures()->set_item_identifier("2");
          (*r.mutable_state()->mutable_values())["seqs"] = "0,1";
          return r;
        }
        return ScriptedFunction::CountInWindowState()(request, call);
      });
  ASSERT_TRUE(ProcessInWindow(Records(4)).ok());
  const auto calls = function_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(function_.batches()[1], (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(Seqs(calls[1].request.state()), "0,1");
  EXPECT_EQ(Seqs(window_.state), "0,1,2,3");
}

TEST_F(WindowBatchTest, AFailureReportedAtTheFirstRecordStillHandsOverItsState) {
  config_.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  function_.SetScript(
      [](const v1::InvokeRequest& request, int call) -> absl::StatusOr<v1::InvokeResponse> {
        if (call == 0) {
          v1::InvokeResponse r;
          r.add_batch_item_failures()->set_item_identifier("0");
          (*r.mutable_state()->mutable_values())["seqs"] = "seen";
          return r;
        }
        return ScriptedFunction::CountInWindowState()(request, call);
      });
  ASSERT_TRUE(ProcessInWindow(Records(2)).ok());
  const auto calls = function_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(function_.batches()[1], (std::vector<std::string>{"0", "1"})) << "all retried";
  EXPECT_EQ(Seqs(calls[1].request.state()), "seen");
}

TEST_F(WindowBatchTest, APartialFailureWithoutStateIsAFunctionError) {
  config_.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  config_.set_maximum_retry_attempts(0);
  function_.SetScript([](const v1::InvokeRequest&, int) { return ItemFailures({"2"}); });
  ASSERT_TRUE(ProcessInWindow(Records(4)).ok());
  EXPECT_EQ(function_.call_count(), 1);
  EXPECT_EQ(Metrics().records_delivered(), 0) << "not even records 0 and 1";
  EXPECT_EQ(Metrics().dropped_records().at("RetryAttemptsExhausted"), 4);
}

// A reply whose state holds `bytes` key+value bytes.
absl::StatusOr<v1::InvokeResponse> StateOfSize(int64_t bytes) {
  v1::InvokeResponse r;
  (*r.mutable_state()->mutable_values())["k"] = std::string(bytes - 1, 'x');
  return r;
}

TEST_F(WindowBatchTest, AStateOverOneMiBEndsTheWindowEarlyAndItGoesOnEmpty) {
  int early_ends = 0;
  std::vector<std::string> done_at_early_end;
  window_.on_terminated_early = [&] {
    ++early_ends;
    done_at_early_end = done_;
  };
  function_.SetScript(
      [](const v1::InvokeRequest& request, int call) -> absl::StatusOr<v1::InvokeResponse> {
        if (call == 0) return StateOfSize(kMaxWindowStateBytes);  // exactly 1 MiB: kept
        if (call == 1) return StateOfSize(kMaxWindowStateBytes + 1);
        return ScriptedFunction::CountInWindowState()(request, call);
      });
  ASSERT_TRUE(ProcessInWindow(Records(2)).ok());
  EXPECT_EQ(early_ends, 0);
  ASSERT_TRUE(ProcessInWindow({MakeRecord(2, "k", "r2", t0_)}).ok());
  ASSERT_TRUE(ProcessInWindow({MakeRecord(3, "k", "r3", t0_)}).ok());
  const auto calls = function_.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(WindowStateBytes(calls[1].request.state()), kMaxWindowStateBytes);
  const auto& final_call = calls[2].request;
  EXPECT_TRUE(final_call.is_final_invoke_for_window());
  EXPECT_TRUE(final_call.is_window_terminated_early());
  EXPECT_EQ(final_call.records_size(), 0);
  EXPECT_EQ(WindowStateBytes(final_call.state()), kMaxWindowStateBytes + 1);
  EXPECT_EQ(final_call.window().start().seconds(), 1'700'000'000) << "the same window";
  EXPECT_EQ(early_ends, 1);
  EXPECT_EQ(done_at_early_end, (std::vector<std::string>{"0", "1", "2"}))
      << "the early end covers the record whose reply outgrew the limit";
  EXPECT_TRUE(calls[3].request.state().values().empty()) << "the window goes on empty";
  EXPECT_FALSE(calls[3].request.is_final_invoke_for_window());
  EXPECT_EQ(calls[3].request.window().start().seconds(), 1'700'000'000);
  EXPECT_EQ(Metrics().windows_closed(), 1);
}

TEST_F(WindowBatchTest, TheFinalInvocationHasNoRecordsTheWindowAndTheLastState) {
  ASSERT_TRUE(ProcessInWindow(Records(2)).ok());
  ASSERT_TRUE(processor_.FinishWindow(shard_, current_config_, window_, false, stop_).ok());
  const auto calls = function_.calls();
  ASSERT_EQ(calls.size(), 2u);
  const auto& request = calls[1].request;
  EXPECT_EQ(request.event_source_mapping_uuid(), "mapping-1");
  EXPECT_EQ(request.shard_id(), "shardId-000000000003");
  EXPECT_EQ(request.records_size(), 0);
  EXPECT_TRUE(request.is_final_invoke_for_window());
  EXPECT_FALSE(request.is_window_terminated_early());
  EXPECT_EQ(request.window().start().seconds(), 1'700'000'000);
  EXPECT_EQ(request.window().end().seconds(), 1'700'000'100);
  EXPECT_EQ(request.state().values().at("count"), "2");
  EXPECT_EQ(calls[1].timeout, absl::Seconds(12));
  const auto m = Metrics();
  EXPECT_EQ(m.windows_closed(), 1);
  EXPECT_EQ(m.invocations(), 2);
  EXPECT_EQ(m.batch_size().count(), 1) << "a final invocation has no batch size";
}

TEST_F(WindowBatchTest, TheFinalInvocationIsRetriedWithBackoffAndItsReplyNeedsNoState) {
  function_.SetScript([](const v1::InvokeRequest&, int call) -> absl::StatusOr<v1::InvokeResponse> {
    if (call < 2) return absl::UnavailableError("down");
    return v1::InvokeResponse();  // no state: fine for a final invocation
  });
  ASSERT_TRUE(processor_.FinishWindow(shard_, current_config_, window_, false, stop_).ok());
  EXPECT_EQ(function_.call_count(), 3);
  EXPECT_EQ(waiter_.waits().size(), 2u);
  EXPECT_EQ(Metrics().windows_closed(), 1);
  EXPECT_EQ(Metrics().retries(), 2);
}

TEST_F(WindowBatchTest, TheIteratorAgeGrowsWhileAFinalInvocationIsRetried) {
  window_.last_record = MakeRecord(19, "k", "", t0_);
  std::vector<int64_t> ages;  // seen by each attempt
  function_.SetScript(
      [&](const v1::InvokeRequest&, int call) -> absl::StatusOr<v1::InvokeResponse> {
        ages.push_back(Metrics().iterator_age_ms());
        if (call < 2) return absl::UnavailableError("down");
        return v1::InvokeResponse();
      });
  clock_.Advance(absl::Seconds(3));
  ASSERT_TRUE(processor_.FinishWindow(shard_, current_config_, window_, false, stop_).ok());
  ASSERT_EQ(ages.size(), 3u);
  EXPECT_EQ(ages[0], 3000) << "now minus the window's last record";
  EXPECT_GT(ages[1], ages[0]) << "backoff waits move the clock";
  EXPECT_GT(ages[2], ages[1]);
}

TEST_F(WindowBatchTest, AFinalInvocationOutOfRetriesReportsTheWindowAndMovesOn) {
  config_.set_maximum_retry_attempts(2);
  SetDestination();
  function_.SetScript([](const v1::InvokeRequest&, int) { return FunctionErrorReply(); });
  window_.first_record = MakeRecord(10, "k", "", t0_);
  window_.last_record = MakeRecord(19, "k", "", t0_ + absl::Seconds(5));
  window_.record_count = 7;
  ASSERT_TRUE(processor_.FinishWindow(shard_, current_config_, window_, false, stop_).ok());
  EXPECT_EQ(function_.call_count(), 3);
  const auto s = OnlyDestinationRecord();
  const auto& rc = s.fields().at("requestContext").struct_value().fields();
  EXPECT_EQ(rc.at("condition").string_value(), "RetryAttemptsExhausted");
  EXPECT_EQ(rc.at("approximateInvokeCount").number_value(), 3);
  const auto& kb = s.fields().at("KinesisBatchInfo").struct_value().fields();
  EXPECT_EQ(kb.at("startSequenceNumber").string_value(), "10");
  EXPECT_EQ(kb.at("endSequenceNumber").string_value(), "19");
  EXPECT_EQ(kb.at("batchSize").number_value(), 7);
  const auto& w = kb.at("tumblingWindow").struct_value().fields();
  EXPECT_EQ(w.at("start").string_value(), FormatIso8601Millis(window_.start));
  EXPECT_EQ(w.at("end").string_value(), FormatIso8601Millis(window_.end));
  EXPECT_EQ(Metrics().windows_failed(), 1);
  EXPECT_EQ(Metrics().windows_closed(), 0);
  EXPECT_TRUE(Metrics().dropped_records().empty()) << "no record is dropped by it";
}

TEST_F(WindowBatchTest, AFinalInvocationIsTriedOnceAndGivenUpWhenTheWindowIsTooOld) {
  config_.set_maximum_record_age_in_seconds(60);
  function_.SetScript([](const v1::InvokeRequest&, int) { return FunctionErrorReply(); });
  window_.first_record = MakeRecord(1, "k", "", t0_);
  window_.last_record = MakeRecord(2, "k", "", t0_);
  clock_.Advance(absl::Seconds(61));  // already too old: the first attempt is still made
  ASSERT_TRUE(processor_.FinishWindow(shard_, current_config_, window_, false, stop_).ok());
  EXPECT_EQ(function_.call_count(), 1);
  EXPECT_EQ(Metrics().windows_failed(), 1);
}

TEST_F(WindowBatchTest, AFinalInvocationStoppedDuringBackoffIsCancelled) {
  function_.SetScript([this](const v1::InvokeRequest&, int) {
    stop_.Stop();
    return FunctionErrorReply();
  });
  EXPECT_EQ(processor_.FinishWindow(shard_, current_config_, window_, false, stop_).code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(Metrics().windows_closed(), 0);
  EXPECT_EQ(Metrics().windows_failed(), 0);
}

}  // namespace
}  // namespace tributary::poller
