// ExampleFunction called directly: poison handling in both reporting modes,
// the deliveries file, simulated failures and latency on a fake clock.
#include "examples/cpp/example_function.h"

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::examples {
namespace {

using ::testing::HasSubstr;

v1::InvokeRequest Batch(const std::vector<std::string>& data, int first_sequence = 10) {
  v1::InvokeRequest request;
  request.set_event_source_mapping_uuid("m-1");
  request.set_stream_name("orders");
  request.set_shard_id("shardId-000000000001");
  for (size_t i = 0; i < data.size(); ++i) {
    v1::Record* r = request.add_records();
    r->set_sequence_number(std::to_string(first_sequence + static_cast<int>(i)));
    r->set_partition_key("key" + std::to_string(i));
    r->set_data(data[i]);
  }
  return request;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ExampleFunctionTest : public ::testing::Test {
 protected:
  std::unique_ptr<ExampleFunction> Make(const ExampleFunctionOptions& options) {
    auto function = ExampleFunction::Create(options, clock_);
    EXPECT_TRUE(function.ok()) << function.status();
    return function.ok() ? std::move(*function) : nullptr;
  }

  FakeClock clock_;
};

TEST_F(ExampleFunctionTest, ACleanBatchSucceedsWithAnEmptyResponse) {
  auto f = Make({});
  auto response = f->Invoke(Batch({"a", "b", "not poison"}));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->function_error(), "");
  EXPECT_EQ(response->batch_item_failures_size(), 0);
  EXPECT_EQ(f->invocations(), 1);
}

TEST_F(ExampleFunctionTest, PoisonFailsTheWholeBatchWithAFunctionErrorNamingTheRecord) {
  auto f = Make({});
  auto response = f->Invoke(Batch({"a", "poison pill", "poisonous"}));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->function_error(), "poison record at sequence number 11");
  EXPECT_EQ(response->batch_item_failures_size(), 0);
}

TEST_F(ExampleFunctionTest, WithReportingEveryPoisonRecordIsABatchItemFailure) {
  ExampleFunctionOptions options;
  options.report_batch_item_failures = true;
  auto f = Make(options);
  auto response = f->Invoke(Batch({"a", "poison", "b", "poison again"}));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->function_error(), "");
  ASSERT_EQ(response->batch_item_failures_size(), 2);
  EXPECT_EQ(response->batch_item_failures(0).item_identifier(), "11");
  EXPECT_EQ(response->batch_item_failures(1).item_identifier(), "13");
}

TEST_F(ExampleFunctionTest, EveryReceivedRecordIsAppendedToTheDeliveriesFile) {
  const std::string path = testing::NewTempDir() + "/deliveries.txt";
  ExampleFunctionOptions options;
  options.deliveries_file = path;
  {
    auto f = Make(options);
    ASSERT_TRUE(f->Invoke(Batch({"a", "b"})).ok());
    ASSERT_TRUE(f->Invoke(Batch({"poison"}, 12)).ok());  // a failed batch was still delivered
    // Flushed per batch: readable before the function is destroyed.
    EXPECT_EQ(ReadFile(path),
              "shardId-000000000001 10 key0\n"
              "shardId-000000000001 11 key1\n"
              "shardId-000000000001 12 key0\n");
  }
  auto again = Make(options);  // a restarted function appends
  ASSERT_TRUE(again->Invoke(Batch({"c"}, 13)).ok());
  EXPECT_THAT(ReadFile(path), ::testing::EndsWith("shardId-000000000001 12 key0\n"
                                                  "shardId-000000000001 13 key0\n"));
}

TEST_F(ExampleFunctionTest, FailRateOneFailsEveryBatchAndZeroNone) {
  ExampleFunctionOptions options;
  options.fail_rate = 1;
  auto always = Make(options);
  for (int i = 0; i < 5; ++i) {
    auto response = always->Invoke(Batch({"a"}));
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->function_error(), "simulated failure (--fail_rate)");
  }
  auto never = Make({});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(never->Invoke(Batch({"a"}))->function_error(), "");
}

TEST_F(ExampleFunctionTest, SimulatedFailuresCanBeANonOkStatus) {
  ExampleFunctionOptions options;
  options.fail_rate = 1;
  options.fail_with_status = true;
  auto f = Make(options);
  auto response = f->Invoke(Batch({"a"}));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("simulated failure"));
}

TEST_F(ExampleFunctionTest, TheSameSeedGivesTheSameFailuresAndAHalfRateGivesBoth) {
  ExampleFunctionOptions options;
  options.fail_rate = 0.5;
  options.seed = testing::TestSeed();
  std::cout << "seed " << options.seed << "\n";
  auto first = Make(options);
  auto second = Make(options);
  int failures = 0;
  for (int i = 0; i < 200; ++i) {
    const bool a = !first->Invoke(Batch({"x"}))->function_error().empty();
    const bool b = !second->Invoke(Batch({"x"}))->function_error().empty();
    EXPECT_EQ(a, b) << "call " << i;
    failures += a ? 1 : 0;
  }
  // With p = 0.5 over 200 calls, fewer than 40 or more than 160 failures has
  // probability below 1e-17: a broken rate, not bad luck.
  EXPECT_GT(failures, 40);
  EXPECT_LT(failures, 160);
}

TEST_F(ExampleFunctionTest, LatencyIsWaitedOnTheClock) {
  ExampleFunctionOptions options;
  options.latency = absl::Milliseconds(250);
  auto f = Make(options);
  absl::StatusOr<v1::InvokeResponse> response;
  std::thread caller([&] { response = f->Invoke(Batch({"a"})); });
  ASSERT_OK(clock_.WaitForWaiters(1)) << "Invoke never waited on the clock";
  EXPECT_EQ(f->invocations(), 0);  // still waiting: time has not moved
  clock_.Advance(absl::Milliseconds(250));
  caller.join();
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(f->invocations(), 1);
}

TEST_F(ExampleFunctionTest, BadOptionsAreRejected) {
  ExampleFunctionOptions rate;
  rate.fail_rate = 1.5;
  EXPECT_EQ(ExampleFunction::Create(rate, clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  ExampleFunctionOptions latency;
  latency.latency = absl::Milliseconds(-1);
  EXPECT_EQ(ExampleFunction::Create(latency, clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  ExampleFunctionOptions file;
  file.deliveries_file = testing::NewTempDir() + "/no/such/dir/deliveries.txt";
  auto status = ExampleFunction::Create(file, clock_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("no/such/dir/deliveries.txt"));
}

// A batch of a tumbling window [60 s, 120 s) whose records have keys "key0", "key1", ...
v1::InvokeRequest WindowBatch(const std::vector<std::string>& data) {
  v1::InvokeRequest request = Batch(data);
  request.mutable_window()->mutable_start()->set_seconds(60);
  request.mutable_window()->mutable_end()->set_seconds(120);
  return request;
}

TEST_F(ExampleFunctionTest, WithoutAWindowNoStateIsReturned) {
  auto f = Make({});
  auto response = f->Invoke(Batch({"a"}));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_FALSE(response->has_state());
}

TEST_F(ExampleFunctionTest, WindowStateCountsRecordsPerKeyAcrossInvocations) {
  auto f = Make({});
  v1::InvokeRequest first = WindowBatch({"a", "b"});
  auto response = f->Invoke(first);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_TRUE(response->has_state());
  EXPECT_THAT(
      response->state().values(),
      ::testing::UnorderedElementsAre(::testing::Pair("key0", "1"), ::testing::Pair("key1", "1")));

  v1::InvokeRequest second = WindowBatch({"c"});
  *second.mutable_state() = response->state();
  response = f->Invoke(second);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_THAT(
      response->state().values(),
      ::testing::UnorderedElementsAre(::testing::Pair("key0", "2"), ::testing::Pair("key1", "1")));
}

TEST_F(ExampleFunctionTest, WindowStateCountsOnlyRecordsBeforeTheFirstFailure) {
  ExampleFunctionOptions reporting;
  reporting.report_batch_item_failures = true;
  auto f = Make(reporting);
  v1::InvokeRequest request = WindowBatch({"a", "poison", "c"});
  (*request.mutable_state()->mutable_values())["key9"] = "4";
  auto response = f->Invoke(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->batch_item_failures_size(), 1);
  // key1 failed and key2 comes after it: both are retried, so only key0 counts.
  EXPECT_THAT(
      response->state().values(),
      ::testing::UnorderedElementsAre(::testing::Pair("key0", "1"), ::testing::Pair("key9", "4")));

  ExampleFunctionOptions failing;
  failing.fail_rate = 1;
  auto failed = Make(failing);
  response = failed->Invoke(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_NE(response->function_error(), "");
  EXPECT_THAT(response->state().values(),
              ::testing::UnorderedElementsAre(::testing::Pair("key9", "4")));
}

TEST_F(ExampleFunctionTest, TheFinalInvocationWritesTheWindowsCountsAndEmptiesTheState) {
  const std::string path = testing::NewTempDir() + "/windows";
  ExampleFunctionOptions options;
  options.windows_file = path;
  auto f = Make(options);
  v1::InvokeRequest final_invoke = WindowBatch({});
  final_invoke.set_is_final_invoke_for_window(true);
  (*final_invoke.mutable_state()->mutable_values())["b"] = "2";
  (*final_invoke.mutable_state()->mutable_values())["a"] = "5";
  auto response = f->Invoke(final_invoke);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_TRUE(response->has_state());
  EXPECT_TRUE(response->state().values().empty());

  v1::InvokeRequest early = WindowBatch({});
  early.set_is_final_invoke_for_window(true);
  early.set_is_window_terminated_early(true);
  ASSERT_TRUE(f->Invoke(early).ok());
  EXPECT_EQ(ReadFile(path),
            "shardId-000000000001 60000 120000 a=5,b=2\n"
            "shardId-000000000001 60000 120000 - early\n");
}

TEST_F(ExampleFunctionTest, AnUnopenableWindowsFileIsRejected) {
  ExampleFunctionOptions options;
  options.windows_file = "/nonexistent-dir/windows";
  auto f = ExampleFunction::Create(options, clock_);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(f.status().message(), HasSubstr("/nonexistent-dir/windows"));
}

// A table stream's batch: changes of items whose NewImage may hold "poison".
v1::InvokeRequest TableChanges(const std::vector<std::string>& ids,
                               const std::vector<bool>& poison) {
  v1::InvokeRequest request;
  request.set_stream_name("_tables.7.20231114221320123");
  request.set_shard_id("shardId-00000000000000000001-00000007");
  for (size_t i = 0; i < ids.size(); ++i) {
    v1::DynamoDbStreamRecord* r = request.add_dynamodb_records();
    r->set_event_name("INSERT");
    r->mutable_dynamodb()->set_sequence_number(absl::StrCat("10000000000000000000", i));
    (*r->mutable_dynamodb()->mutable_keys())["id"].set_s(ids[i]);
    auto& image = *r->mutable_dynamodb()->mutable_new_image();
    image["id"].set_s(ids[i]);
    if (poison[i]) image["poison"].set_bool_(true);
  }
  return request;
}

TEST_F(ExampleFunctionTest, ATableChangeWithAPoisonAttributeIsReportedByItsSequenceNumber) {
  const std::string path = testing::NewTempDir() + "/table_deliveries.txt";
  ExampleFunctionOptions options;
  options.report_batch_item_failures = true;
  options.deliveries_file = path;
  auto f = Make(options);
  auto response = f->Invoke(TableChanges({"o-1", "o-2", "o-3"}, {false, true, false}));
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->batch_item_failures_size(), 1);
  EXPECT_EQ(response->batch_item_failures(0).item_identifier(), "100000000000000000001");
  EXPECT_EQ(ReadFile(path),
            "shardId-00000000000000000001-00000007 100000000000000000000 o-1\n"
            "shardId-00000000000000000001-00000007 100000000000000000001 o-2\n"
            "shardId-00000000000000000001-00000007 100000000000000000002 o-3\n");
  EXPECT_THAT(ExampleFunction::DescribeBatch(TableChanges({"o-1"}, {false})),
              HasSubstr("records=1 first=100000000000000000000"));
}

TEST_F(ExampleFunctionTest, DescribeBatchNamesShardCountAndSequenceRange) {
  EXPECT_EQ(ExampleFunction::DescribeBatch(Batch({"a", "b", "c"})),
            "mapping=m-1 stream=orders shard=shardId-000000000001 records=3 first=10 last=12");
  EXPECT_EQ(ExampleFunction::DescribeBatch(v1::InvokeRequest()),
            "mapping= stream= shard= records=0 first=- last=-");
}

}  // namespace
}  // namespace tributary::examples
