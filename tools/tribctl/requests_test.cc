// Flags → the exact request proto, for every request tribctl builds, and the
// cross-flag rules that are usage errors.
#include "tools/tribctl/requests.h"

#include "tools/tribctl/tables.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace tributary::tribctl {
namespace {

using ::testing::HasSubstr;

FlagValues Flags(const std::vector<std::string>& args) {
  absl::StatusOr<CommandLine> line = ParseCommandLine(args);
  EXPECT_TRUE(line.ok()) << line.status();
  return line.ok() ? line->flags : FlagValues();
}

// The request the command line `args` builds: its command's request filled from its flags.
template <typename Request>
absl::StatusOr<Request> Build(const std::vector<std::string>& args) {
  absl::StatusOr<CommandLine> line = ParseCommandLine(args);
  if (!line.ok()) return line.status();
  return BuildRequest<Request>(*line);
}

// The same for a request whose building cannot fail (a test failure if it does).
template <typename Request>
Request Built(const std::vector<std::string>& args) {
  absl::StatusOr<Request> request = Build<Request>(args);
  EXPECT_TRUE(request.ok()) << request.status();
  return request.ok() ? *request : Request();
}

template <typename T>
T Proto(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

MATCHER_P(EqualsProto, expected, "") {
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  if (differencer.Compare(expected, arg)) return true;
  *result_listener << "differs: " << diff << "actual: " << arg.ShortDebugString();
  return false;
}

template <typename T>
void ExpectUsageError(const absl::StatusOr<T>& result, const std::string& fragment) {
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(IsUsageError(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(fragment));
}

TEST(RequestsTest, CreateStreamDefaultsToOneShardAndLeavesRetentionUnset) {
  EXPECT_THAT(Built<v1::CreateStreamRequest>({"streams", "create", "--stream=orders"}),
              EqualsProto(Proto<v1::CreateStreamRequest>("stream_name: 'orders' shard_count: 1")));
  v1::CreateStreamRequest full = Built<v1::CreateStreamRequest>(
      {"streams", "create", "--stream=orders", "--shard-count=4", "--retention-period-hours=48"});
  EXPECT_THAT(full, EqualsProto(Proto<v1::CreateStreamRequest>(
                        "stream_name: 'orders' shard_count: 4 retention_period_hours: 48")));
  EXPECT_TRUE(full.has_retention_period_hours());
}

TEST(RequestsTest, SimpleStreamRequests) {
  EXPECT_THAT(Built<v1::DeleteStreamRequest>(
                  {"streams", "delete", "--stream=s", "--enforce-consumer-deletion"}),
              EqualsProto(Proto<v1::DeleteStreamRequest>(
                  "stream_name: 's' enforce_consumer_deletion: true")));
  EXPECT_THAT(Built<v1::DescribeStreamSummaryRequest>({"streams", "describe", "--stream=s"}),
              EqualsProto(Proto<v1::DescribeStreamSummaryRequest>("stream_name: 's'")));
  EXPECT_THAT(
      Built<v1::ListStreamsRequest>(
          {"streams", "list", "--limit=5", "--exclusive-start-stream-name=b"}),
      EqualsProto(Proto<v1::ListStreamsRequest>("limit: 5 exclusive_start_stream_name: 'b'")));
  EXPECT_THAT(Built<v1::MergeShardsRequest>({"streams", "merge", "--stream=s",
                                             "--shard-to-merge=shardId-000000000000",
                                             "--adjacent-shard-to-merge=shardId-000000000001"}),
              EqualsProto(Proto<v1::MergeShardsRequest>(
                  "stream_name: 's' shard_to_merge: 'shardId-000000000000' "
                  "adjacent_shard_to_merge: 'shardId-000000000001'")));
  EXPECT_THAT(Built<v1::UpdateShardCountRequest>(
                  {"streams", "update-shard-count", "--stream=s", "--target-shard-count=8"}),
              EqualsProto(Proto<v1::UpdateShardCountRequest>(
                  "stream_name: 's' target_shard_count: 8 scaling_type: UNIFORM_SCALING")));
  EXPECT_THAT(
      Built<v1::IncreaseStreamRetentionPeriodRequest>(
          {"streams", "increase-retention-period", "--stream=s", "--retention-period-hours=72"}),
      EqualsProto(Proto<v1::IncreaseStreamRetentionPeriodRequest>(
          "stream_name: 's' retention_period_hours: 72")));
  EXPECT_THAT(
      Built<v1::DecreaseStreamRetentionPeriodRequest>(
          {"streams", "decrease-retention-period", "--stream=s", "--retention-period-hours=24"}),
      EqualsProto(Proto<v1::DecreaseStreamRetentionPeriodRequest>(
          "stream_name: 's' retention_period_hours: 24")));
}

TEST(RequestsTest, SplitCarriesTheGivenHashKeyOrNone) {
  EXPECT_THAT(Built<v1::SplitShardRequest>({"streams", "split", "--stream=s",
                                            "--shard-to-split=shardId-000000000000",
                                            "--new-starting-hash-key=100"}),
              EqualsProto(Proto<v1::SplitShardRequest>(
                  "stream_name: 's' shard_to_split: 'shardId-000000000000' "
                  "new_starting_hash_key: '100'")));
  EXPECT_EQ(Built<v1::SplitShardRequest>(
                {"streams", "split", "--stream=s", "--shard-to-split=shardId-000000000000"})
                .new_starting_hash_key(),
            "");
}

TEST(RequestsTest, MiddleHashKeySplitsTheRangeInHalves) {
  v1::HashKeyRange whole;
  whole.set_starting_hash_key("0");
  whole.set_ending_hash_key("340282366920938463463374607431768211455");         // 2^128 - 1
  EXPECT_EQ(*MiddleHashKey(whole), "170141183460469231731687303715884105728");  // 2^127
  v1::HashKeyRange small;
  small.set_starting_hash_key("10");
  small.set_ending_hash_key("13");  // [10, 11] and [12, 13]
  EXPECT_EQ(*MiddleHashKey(small), "12");
  small.set_ending_hash_key("11");  // [10] and [11]
  EXPECT_EQ(*MiddleHashKey(small), "11");
  small.set_ending_hash_key("10");  // one key: cannot split
  EXPECT_EQ(MiddleHashKey(small).status().code(), absl::StatusCode::kInvalidArgument);
  small.set_ending_hash_key("x");
  EXPECT_EQ(MiddleHashKey(small).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RequestsTest, ListShardsWithAndWithoutFilters) {
  EXPECT_THAT(
      *Build<v1::ListShardsRequest>({"streams", "list-shards", "--stream=s", "--max-results=10",
                                     "--exclusive-start-shard-id=shardId-000000000001"}),
      EqualsProto(
          Proto<v1::ListShardsRequest>("stream_name: 's' max_results: 10 "
                                       "exclusive_start_shard_id: 'shardId-000000000001'")));
  EXPECT_THAT(*Build<v1::ListShardsRequest>({"streams", "list-shards", "--stream=s",
                                             "--shard-filter-type=AFTER_SHARD_ID",
                                             "--shard-filter-shard-id=shardId-000000000003"}),
              EqualsProto(Proto<v1::ListShardsRequest>(
                  "stream_name: 's' shard_filter { type: AFTER_SHARD_ID "
                  "shard_id: 'shardId-000000000003' }")));
  EXPECT_THAT(*Build<v1::ListShardsRequest>({"streams", "list-shards", "--stream=s",
                                             "--shard-filter-type=AT_TIMESTAMP",
                                             "--shard-filter-timestamp=1700000000"}),
              EqualsProto(Proto<v1::ListShardsRequest>(
                  "stream_name: 's' shard_filter { type: AT_TIMESTAMP_FILTER "
                  "timestamp { seconds: 1700000000 } }")));
}

TEST(RequestsTest, ListShardsFilterRulesAreUsageErrors) {
  ExpectUsageError(Build<v1::ListShardsRequest>({"streams", "list-shards", "--stream=s",
                                                 "--shard-filter-type=AFTER_SHARD_ID"}),
                   "--shard-filter-shard-id");
  ExpectUsageError(Build<v1::ListShardsRequest>({"streams", "list-shards", "--stream=s",
                                                 "--shard-filter-type=FROM_TIMESTAMP"}),
                   "--shard-filter-timestamp");
  ExpectUsageError(Build<v1::ListShardsRequest>(
                       {"streams", "list-shards", "--stream=s", "--shard-filter-shard-id=x"}),
                   "needs --shard-filter-type");
}

TEST(RequestsTest, PutRecordNeedsAPartitionKey) {
  EXPECT_THAT(*Build<v1::PutRecordRequest>({"records", "put", "--stream=s", "--partition-key=k",
                                            "--data=hello", "--explicit-hash-key=5",
                                            "--sequence-number-for-ordering=9"}),
              EqualsProto(Proto<v1::PutRecordRequest>(
                  "stream_name: 's' partition_key: 'k' data: 'hello' explicit_hash_key: '5' "
                  "sequence_number_for_ordering: '9'")));
  ExpectUsageError(Build<v1::PutRecordRequest>({"records", "put", "--stream=s", "--data=x"}),
                   "--data needs --partition-key");
}

TEST(RequestsTest, StdinKeyTabDataLinesBecomeOneBatch) {
  std::istringstream in("k1\thello\r\n\nk2\tworld\twith tab\n");
  StdinRecordReader reader(Flags({"records", "put", "--stream=s"}), &in);
  auto batch = reader.NextBatch();
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_TRUE(batch->has_value());
  EXPECT_THAT(**batch, EqualsProto(Proto<v1::PutRecordsRequest>(
                           "stream_name: 's' "
                           "records { partition_key: 'k1' data: 'hello' } "
                           "records { partition_key: 'k2' data: 'world\\twith tab' }")));
  auto end = reader.NextBatch();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
  EXPECT_EQ(reader.lines_read(), 3);
}

TEST(RequestsTest, StdinWithAPartitionKeyTakesWholeLinesAsData) {
  std::istringstream in("a\tb\nc\n");
  StdinRecordReader reader(
      Flags({"records", "put", "--stream=s", "--partition-key=p", "--explicit-hash-key=7"}), &in);
  auto batch = reader.NextBatch();
  ASSERT_TRUE(batch.ok() && batch->has_value());
  EXPECT_THAT(**batch, EqualsProto(Proto<v1::PutRecordsRequest>(
                           "stream_name: 's' "
                           "records { partition_key: 'p' data: 'a\\tb' explicit_hash_key: '7' } "
                           "records { partition_key: 'p' data: 'c' explicit_hash_key: '7' }")));
}

TEST(RequestsTest, StdinIsCutIntoBatchesOf500) {
  std::string text;
  for (int i = 0; i < 1001; ++i) text += "k\t" + std::to_string(i) + "\n";
  std::istringstream in(text);
  StdinRecordReader reader(Flags({"records", "put", "--stream=s"}), &in);
  std::vector<int> sizes;
  std::vector<std::string> data;
  while (true) {
    auto batch = reader.NextBatch();
    ASSERT_TRUE(batch.ok()) << batch.status();
    if (!batch->has_value()) break;
    sizes.push_back((*batch)->records_size());
    for (const auto& r : (*batch)->records()) data.push_back(r.data());
  }
  EXPECT_EQ(sizes, (std::vector<int>{500, 500, 1}));
  ASSERT_EQ(data.size(), 1001u);
  for (int i = 0; i < 1001; ++i) EXPECT_EQ(data[i], std::to_string(i));  // order kept
}

TEST(RequestsTest, StdinBatchesStayUnderFiveMebibytes) {
  const std::string mib(1 << 20, 'x');
  std::string text;
  for (int i = 0; i < 6; ++i) text += "k\t" + mib + "\n";
  std::istringstream in(text);
  StdinRecordReader reader(Flags({"records", "put", "--stream=s"}), &in);
  auto first = reader.NextBatch();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->records_size(), 4);  // a fifth would pass 5 MiB with the keys
  auto second = reader.NextBatch();
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->records_size(), 2);
}

TEST(RequestsTest, StdinLineWithoutTabOrKeyNamesTheLine) {
  std::istringstream no_tab("k\tfine\nno tab here\n");
  StdinRecordReader reader(Flags({"records", "put", "--stream=s"}), &no_tab);
  ExpectUsageError(reader.NextBatch(), "stdin line 2: expected \"key<TAB>data\"");
  std::istringstream empty_key("\tdata\n");
  StdinRecordReader reader2(Flags({"records", "put", "--stream=s"}), &empty_key);
  ExpectUsageError(reader2.NextBatch(), "stdin line 1: empty partition key");
}

TEST(RequestsTest, GetShardIteratorPositions) {
  EXPECT_THAT(*BuildGetShardIteratorRequest(
                  Flags({"records", "get", "--stream=s", "--shard-id=shardId-000000000000"})),
              EqualsProto(Proto<v1::GetShardIteratorRequest>(
                  "stream_name: 's' shard_id: 'shardId-000000000000' "
                  "shard_iterator_type: TRIM_HORIZON")));
  EXPECT_THAT(*BuildGetShardIteratorRequest(Flags({"records", "get", "--stream=s", "--shard-id=x",
                                                   "--iterator-type=AFTER_SEQUENCE_NUMBER",
                                                   "--starting-sequence-number=42"})),
              EqualsProto(Proto<v1::GetShardIteratorRequest>(
                  "stream_name: 's' shard_id: 'x' shard_iterator_type: AFTER_SEQUENCE_NUMBER "
                  "starting_sequence_number: '42'")));
  EXPECT_THAT(*BuildGetShardIteratorRequest(
                  Flags({"records", "get", "--stream=s", "--shard-id=x",
                         "--iterator-type=AT_TIMESTAMP", "--timestamp=2023-11-14T22:13:20.25Z"})),
              EqualsProto(Proto<v1::GetShardIteratorRequest>(
                  "stream_name: 's' shard_id: 'x' shard_iterator_type: AT_TIMESTAMP "
                  "timestamp { seconds: 1700000000 nanos: 250000000 }")));
}

TEST(RequestsTest, PositionRulesAreUsageErrors) {
  ExpectUsageError(
      BuildGetShardIteratorRequest(Flags(
          {"records", "get", "--stream=s", "--shard-id=x", "--iterator-type=AT_SEQUENCE_NUMBER"})),
      "needs --starting-sequence-number");
  ExpectUsageError(
      BuildGetShardIteratorRequest(
          Flags({"records", "get", "--stream=s", "--shard-id=x", "--starting-sequence-number=5"})),
      "--starting-sequence-number needs");
  ExpectUsageError(
      BuildSubscribeToShardRequest(
          Flags({"records", "get", "--stream=s", "--shard-id=x", "--iterator-type=AT_TIMESTAMP"})),
      "needs --timestamp");
  ExpectUsageError(BuildSubscribeToShardRequest(
                       Flags({"records", "get", "--stream=s", "--shard-id=x", "--timestamp=5"})),
                   "--timestamp needs --iterator-type=AT_TIMESTAMP");
}

TEST(RequestsTest, SubscribeToShardCarriesTheStartingPosition) {
  EXPECT_THAT(*BuildSubscribeToShardRequest(Flags({"records", "get", "--stream=s", "--shard-id=x",
                                                   "--iterator-type=LATEST", "--follow"})),
              EqualsProto(Proto<v1::SubscribeToShardRequest>(
                  "consumer_arn: 'tribctl' stream_name: 's' shard_id: 'x' "
                  "starting_position { type: LATEST }")));
}

TEST(RequestsTest, CreateMappingWithEveryFlag) {
  auto request = Build<v1::CreateEventSourceMappingRequest>(
      {"mappings", "create", "--stream=orders", "--function-endpoint=127.0.0.1:4570",
       "--starting-position=AT_TIMESTAMP", "--starting-position-timestamp=1700000000",
       "--no-enabled", "--batch-size=500", "--maximum-batching-window-in-seconds=5",
       "--parallelization-factor=3", "--destination=orders-failures",
       "--maximum-record-age-in-seconds=3600", "--bisect-batch-on-function-error",
       "--maximum-retry-attempts=2", "--function-response-types=ReportBatchItemFailures",
       "--function-timeout-seconds=60", "--tumbling-window-in-seconds=120"});
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(*request, EqualsProto(Proto<v1::CreateEventSourceMappingRequest>(R"pb(
    stream_name: "orders"
    function_endpoint: "127.0.0.1:4570"
    enabled: false
    batch_size: 500
    maximum_batching_window_in_seconds: 5
    parallelization_factor: 3
    starting_position: AT_TIMESTAMP_POSITION
    starting_position_timestamp { seconds: 1700000000 }
    destination_config { on_failure { destination: "orders-failures" } }
    maximum_record_age_in_seconds: 3600
    bisect_batch_on_function_error: true
    maximum_retry_attempts: 2
    function_response_types: REPORT_BATCH_ITEM_FAILURES
    function_timeout_seconds: 60
    tumbling_window_in_seconds: 120
  )pb")));
}

TEST(RequestsTest, CreateMappingLeavesUnsetOptionalsUnset) {
  auto request = Build<v1::CreateEventSourceMappingRequest>({"mappings", "create", "--stream=s",
                                                             "--function-endpoint=f:1",
                                                             "--starting-position=LATEST"});
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_FALSE(request->has_enabled());
  EXPECT_FALSE(request->has_batch_size());
  EXPECT_FALSE(request->has_maximum_retry_attempts());
  EXPECT_FALSE(request->has_destination_config());
  EXPECT_FALSE(request->has_tumbling_window_in_seconds());
  EXPECT_EQ(request->starting_position(), v1::LATEST_POSITION);
}

TEST(RequestsTest, CreateMappingTimestampRules) {
  ExpectUsageError(Build<v1::CreateEventSourceMappingRequest>({"mappings", "create", "--stream=s",
                                                               "--function-endpoint=f:1",
                                                               "--starting-position=AT_TIMESTAMP"}),
                   "needs --starting-position-timestamp");
  ExpectUsageError(Build<v1::CreateEventSourceMappingRequest>(
                       {"mappings", "create", "--stream=s", "--function-endpoint=f:1",
                        "--starting-position=LATEST", "--starting-position-timestamp=5"}),
                   "needs --starting-position=AT_TIMESTAMP");
}

TEST(RequestsTest, CreateMappingByFunctionName) {
  auto request = Build<v1::CreateEventSourceMappingRequest>({"mappings", "create", "--stream=s",
                                                             "--function-name=orders-fn",
                                                             "--starting-position=TRIM_HORIZON"});
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_THAT(*request, EqualsProto(Proto<v1::CreateEventSourceMappingRequest>(
                            "stream_name: 's' function_name: 'orders-fn' "
                            "starting_position: TRIM_HORIZON_POSITION")));
}

TEST(RequestsTest, CreateMappingNeedsExactlyOneOfEndpointAndFunctionName) {
  ExpectUsageError(Build<v1::CreateEventSourceMappingRequest>(
                       {"mappings", "create", "--stream=s", "--starting-position=LATEST"}),
                   "missing --function-endpoint or --function-name");
  ExpectUsageError(Build<v1::CreateEventSourceMappingRequest>(
                       {"mappings", "create", "--stream=s", "--function-endpoint=f:1",
                        "--function-name=f", "--starting-position=LATEST"}),
                   "either --function-endpoint or --function-name, not both");
}

TEST(RequestsTest, UpdateMappingToAFunctionName) {
  EXPECT_THAT(Built<v1::UpdateEventSourceMappingRequest>(
                  {"mappings", "update", "--uuid=u-1", "--function-name=orders-fn"}),
              EqualsProto(Proto<v1::UpdateEventSourceMappingRequest>(
                  "uuid: 'u-1' function_name: 'orders-fn'")));
}

TEST(RequestsTest, FunctionRequestsCarryTheGivenFlagsOnly) {
  EXPECT_THAT(Built<v1::CreateFunctionRequest>(
                  {"functions", "create", "--function-name=f", "--function-endpoint=h:1"}),
              EqualsProto(Proto<v1::CreateFunctionRequest>("function_name: 'f' endpoint: 'h:1'")));
  v1::CreateFunctionRequest full = Built<v1::CreateFunctionRequest>(
      {"functions", "create", "--function-name=f", "--function-endpoint=h:1",
       "--function-timeout-seconds=60", "--reserved-concurrent-executions=0"});
  EXPECT_THAT(full, EqualsProto(Proto<v1::CreateFunctionRequest>(
                        "function_name: 'f' endpoint: 'h:1' timeout_seconds: 60 "
                        "reserved_concurrent_executions: 0")));
  EXPECT_TRUE(full.has_reserved_concurrent_executions()) << "0 is a setting";

  v1::UpdateFunctionRequest timeout_only = Built<v1::UpdateFunctionRequest>(
      {"functions", "update", "--function-name=f", "--function-timeout-seconds=9"});
  EXPECT_THAT(
      timeout_only,
      EqualsProto(Proto<v1::UpdateFunctionRequest>("function_name: 'f' timeout_seconds: 9")));
  EXPECT_FALSE(timeout_only.has_endpoint());
  EXPECT_THAT(Built<v1::UpdateFunctionRequest>(
                  {"functions", "update", "--function-name=f", "--function-endpoint=h:2"}),
              EqualsProto(Proto<v1::UpdateFunctionRequest>("function_name: 'f' endpoint: 'h:2'")));

  EXPECT_THAT(Built<v1::GetFunctionRequest>({"functions", "get", "--function-name=f"}),
              EqualsProto(Proto<v1::GetFunctionRequest>("function_name: 'f'")));
  EXPECT_THAT(Built<v1::ListFunctionsRequest>({"functions", "list", "--max-items=5"}),
              EqualsProto(Proto<v1::ListFunctionsRequest>("max_items: 5")));
  EXPECT_THAT(Built<v1::DeleteFunctionRequest>({"functions", "delete", "--function-name=f"}),
              EqualsProto(Proto<v1::DeleteFunctionRequest>("function_name: 'f'")));
  EXPECT_THAT(Built<v1::PutFunctionConcurrencyRequest>({"functions", "put-function-concurrency",
                                                        "--function-name=f",
                                                        "--reserved-concurrent-executions=0"}),
              EqualsProto(Proto<v1::PutFunctionConcurrencyRequest>(
                  "function_name: 'f' reserved_concurrent_executions: 0")));
  EXPECT_THAT(Built<v1::GetFunctionConcurrencyRequest>(
                  {"functions", "get-function-concurrency", "--function-name=f"}),
              EqualsProto(Proto<v1::GetFunctionConcurrencyRequest>("function_name: 'f'")));
  EXPECT_THAT(Built<v1::DeleteFunctionConcurrencyRequest>(
                  {"functions", "delete-function-concurrency", "--function-name=f"}),
              EqualsProto(Proto<v1::DeleteFunctionConcurrencyRequest>("function_name: 'f'")));
}

TEST(RequestsTest, UpdateMappingSetsOnlyTheGivenFields) {
  EXPECT_THAT(Built<v1::UpdateEventSourceMappingRequest>(
                  {"mappings", "update", "--uuid=u-1", "--batch-size=10", "--enabled"}),
              EqualsProto(Proto<v1::UpdateEventSourceMappingRequest>(
                  "uuid: 'u-1' batch_size: 10 enabled: true")));
}

TEST(RequestsTest, UpdateMappingWithEveryFlag) {
  EXPECT_THAT(
      Built<v1::UpdateEventSourceMappingRequest>(
          {"mappings", "update", "--uuid=u-1", "--function-endpoint=h:2", "--no-enabled",
           "--batch-size=1", "--maximum-batching-window-in-seconds=0",
           "--parallelization-factor=10", "--destination=dlq", "--maximum-record-age-in-seconds=-1",
           "--no-bisect-batch-on-function-error", "--maximum-retry-attempts=0",
           "--function-response-types=ReportBatchItemFailures", "--function-timeout-seconds=900",
           "--tumbling-window-in-seconds=0"}),
      EqualsProto(Proto<v1::UpdateEventSourceMappingRequest>(R"pb(
        uuid: "u-1"
        function_endpoint: "h:2"
        enabled: false
        batch_size: 1
        maximum_batching_window_in_seconds: 0
        parallelization_factor: 10
        destination_config { on_failure { destination: "dlq" } }
        maximum_record_age_in_seconds: -1
        bisect_batch_on_function_error: false
        maximum_retry_attempts: 0
        function_response_types: REPORT_BATCH_ITEM_FAILURES
        update_function_response_types: true
        function_timeout_seconds: 900
        tumbling_window_in_seconds: 0
      )pb")));
}

TEST(RequestsTest, UpdateMappingCanClearDestinationAndResponseTypes) {
  v1::UpdateEventSourceMappingRequest request = Built<v1::UpdateEventSourceMappingRequest>(
      {"mappings", "update", "--uuid=u-1", "--destination=", "--function-response-types="});
  EXPECT_TRUE(request.has_destination_config());
  EXPECT_EQ(request.destination_config().on_failure().destination(), "");
  EXPECT_TRUE(request.update_function_response_types());
  EXPECT_EQ(request.function_response_types_size(), 0);
}

// Issue 23: the on-success destination is its own part of destination_config, so updating one
// destination keeps the other (the tracker replaces only the parts present).
TEST(RequestsTest, OnSuccessDestinationSetsOnlyItsPart) {
  auto create = Build<v1::CreateEventSourceMappingRequest>(
      {"mappings", "create", "--stream=s", "--function-endpoint=f:1", "--starting-position=LATEST",
       "--destination=dlq", "--on-success-destination=delivered"});
  ASSERT_TRUE(create.ok()) << create.status();
  EXPECT_EQ(create->destination_config().on_failure().destination(), "dlq");
  EXPECT_EQ(create->destination_config().on_success().destination(), "delivered");

  v1::UpdateEventSourceMappingRequest update = Built<v1::UpdateEventSourceMappingRequest>(
      {"mappings", "update", "--uuid=u-1", "--on-success-destination=audit"});
  EXPECT_EQ(update.destination_config().on_success().destination(), "audit");
  EXPECT_FALSE(update.destination_config().has_on_failure()) << "--destination is kept";
  update = Built<v1::UpdateEventSourceMappingRequest>(
      {"mappings", "update", "--uuid=u-1", "--destination=dlq"});
  EXPECT_FALSE(update.destination_config().has_on_success());
}

TEST(RequestsTest, FilterPatternsBecomeFilterCriteria) {
  auto create = Build<v1::CreateEventSourceMappingRequest>(
      {"mappings", "create", "--stream=s", "--function-endpoint=f:1", "--starting-position=LATEST",
       R"(--filter-pattern={"data":{"t":["a","b"]}})",
       R"(--filter-pattern={"partitionKey":["k"]})"});
  ASSERT_TRUE(create.ok()) << create.status();
  ASSERT_EQ(create->filter_criteria().filters_size(), 2);
  EXPECT_EQ(create->filter_criteria().filters(0).pattern(), R"({"data":{"t":["a","b"]}})");
  EXPECT_EQ(create->filter_criteria().filters(1).pattern(), R"({"partitionKey":["k"]})");

  v1::UpdateEventSourceMappingRequest replace = Built<v1::UpdateEventSourceMappingRequest>(
      {"mappings", "update", "--uuid=u-1", R"(--filter-pattern={"partitionKey":["k"]})"});
  EXPECT_TRUE(replace.update_filter_criteria());
  ASSERT_EQ(replace.filter_criteria().filters_size(), 1);

  v1::UpdateEventSourceMappingRequest remove = Built<v1::UpdateEventSourceMappingRequest>(
      {"mappings", "update", "--uuid=u-1", "--filter-pattern="});
  EXPECT_TRUE(remove.update_filter_criteria());
  EXPECT_EQ(remove.filter_criteria().filters_size(), 0);

  v1::UpdateEventSourceMappingRequest untouched = Built<v1::UpdateEventSourceMappingRequest>(
      {"mappings", "update", "--uuid=u-1", "--batch-size=3"});
  EXPECT_FALSE(untouched.update_filter_criteria());
  EXPECT_FALSE(untouched.has_filter_criteria());
}

TEST(RequestsTest, MappingLeaseAndMetricsLookups) {
  EXPECT_THAT(Built<v1::DeleteEventSourceMappingRequest>({"mappings", "delete", "--uuid=u"}),
              EqualsProto(Proto<v1::DeleteEventSourceMappingRequest>("uuid: 'u'")));
  EXPECT_THAT(Built<v1::GetEventSourceMappingRequest>({"mappings", "get", "--uuid=u"}),
              EqualsProto(Proto<v1::GetEventSourceMappingRequest>("uuid: 'u'")));
  EXPECT_THAT(Built<v1::ListEventSourceMappingsRequest>(
                  {"mappings", "list", "--stream=s", "--function-endpoint=f:1", "--max-items=3"}),
              EqualsProto(Proto<v1::ListEventSourceMappingsRequest>(
                  "stream_name: 's' function_endpoint: 'f:1' max_items: 3")));
  EXPECT_THAT(Built<v1::ListEventSourceMappingsRequest>({"mappings", "list", "--function-name=f"}),
              EqualsProto(Proto<v1::ListEventSourceMappingsRequest>("function_name: 'f'")));
  EXPECT_THAT(Built<v1::ListLeasesRequest>({"leases", "list", "--mapping=u", "--owner=p1",
                                            "--shard-id=x", "--max-results=9"}),
              EqualsProto(Proto<v1::ListLeasesRequest>(
                  "event_source_mapping_uuid: 'u' lease_owner: 'p1' shard_id: 'x' "
                  "max_results: 9")));
  EXPECT_THAT(Built<v1::GetMetricsRequest>({"metrics", "--mapping=u"}),
              EqualsProto(Proto<v1::GetMetricsRequest>("event_source_mapping_uuid: 'u'")));
}

TEST(RequestsTest, TagsAreKeyValuePairs) {
  EXPECT_THAT(Built<v1::AddTagsToStreamRequest>({"streams", "tag", "--stream-name=s",
                                                 "--tags=team=data,empty=", "--tags=eq=a=b"}),
              EqualsProto(Proto<v1::AddTagsToStreamRequest>(
                  "stream_name: 's' tags { key: 'team' value: 'data' } "
                  "tags { key: 'empty' value: '' } tags { key: 'eq' value: 'a=b' }")));
  EXPECT_THAT(Built<v1::RemoveTagsFromStreamRequest>(
                  {"streams", "untag", "--stream-name=s", "--tag-keys=team,eq"}),
              EqualsProto(Proto<v1::RemoveTagsFromStreamRequest>(
                  "stream_name: 's' tag_keys: 'team' tag_keys: 'eq'")));
  EXPECT_THAT(Built<v1::ListTagsForStreamRequest>({"streams", "list-tags", "--stream=s",
                                                   "--limit=2", "--exclusive-start-tag-key=a"}),
              EqualsProto(Proto<v1::ListTagsForStreamRequest>(
                  "stream_name: 's' limit: 2 exclusive_start_tag_key: 'a'")));
}

TEST(RequestsTest, BadTagsAreUsageErrors) {
  ExpectUsageError(
      Build<v1::AddTagsToStreamRequest>({"streams", "tag", "--stream-name=s", "--tags=team"}),
      "--tags: 'team' is not key=value");
  ExpectUsageError(
      Build<v1::AddTagsToStreamRequest>({"streams", "tag", "--stream-name=s", "--tags==data"}),
      "--tags: '=data' has an empty key");
  ExpectUsageError(
      Build<v1::AddTagsToStreamRequest>({"streams", "tag", "--stream-name=s", "--tags=a=1,a=2"}),
      "--tags: key 'a' given twice");
  ExpectUsageError(
      Build<v1::AddTagsToStreamRequest>({"streams", "tag", "--stream-name=s", "--tags="}),
      "--tags: give at least one key=value");
}

TEST(RequestsTest, ConsumerRequests) {
  EXPECT_THAT(
      Built<v1::RegisterStreamConsumerRequest>(
          {"consumers", "register", "--stream-name=s", "--consumer-name=c"}),
      EqualsProto(Proto<v1::RegisterStreamConsumerRequest>("stream_name: 's' consumer_name: 'c'")));
  EXPECT_THAT(
      Built<v1::DescribeStreamConsumerRequest>(
          {"consumers", "describe", "--stream-name=s", "--consumer-name=c"}),
      EqualsProto(Proto<v1::DescribeStreamConsumerRequest>("stream_name: 's' consumer_name: 'c'")));
  EXPECT_THAT(Built<v1::DeregisterStreamConsumerRequest>(
                  {"consumers", "deregister", "--consumer-arn=arn:c"}),
              EqualsProto(Proto<v1::DeregisterStreamConsumerRequest>("consumer_arn: 'arn:c'")));
  EXPECT_THAT(
      Built<v1::ListStreamConsumersRequest>(
          {"consumers", "list", "--stream-name=s", "--max-results=7"}),
      EqualsProto(Proto<v1::ListStreamConsumersRequest>("stream_name: 's' max_results: 7")));
}

TEST(RequestsTest, AConsumerIsNamedByArnOrByStreamAndName) {
  for (const char* verb : {"describe", "deregister"}) {
    SCOPED_TRACE(verb);
    auto line = ParseCommandLine({"consumers", verb, "--consumer-name=c"});
    ASSERT_TRUE(line.ok()) << line.status();
    google::protobuf::Message* request = nullptr;
    v1::DescribeStreamConsumerRequest describe;
    v1::DeregisterStreamConsumerRequest deregister;
    request = std::string(verb) == "describe" ? static_cast<google::protobuf::Message*>(&describe)
                                              : &deregister;
    absl::Status status = FillRequest(*line->command, line->flags, request);
    EXPECT_TRUE(IsUsageError(status)) << status;
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("name the consumer by --consumer-arn, or by --stream-name and "
                          "--consumer-name"));
    line = ParseCommandLine({"consumers", verb, "--stream-name=s"});
    ASSERT_TRUE(line.ok()) << line.status();
    EXPECT_TRUE(IsUsageError(FillRequest(*line->command, line->flags, request)));
  }
}

// --- tables and items (tools/tribctl/tables.h) ------------------------------------------------

TEST(RequestsTest, TablesCreateReadsKeysStreamAndBilling) {
  EXPECT_THAT(Built<v1::CreateTableRequest>(
                  {"tables", "create", "--table-name=orders", "--partition-key=id:S",
                   "--sort-key=at:N", "--stream-view-type=new-image"}),
              EqualsProto(Proto<v1::CreateTableRequest>(R"pb(
                table_name: "orders"
                partition_key { attribute_name: "id" attribute_type: "S" }
                sort_key { attribute_name: "at" attribute_type: "N" }
                billing_mode: BILLING_PAY_PER_REQUEST
                stream_specification { stream_enabled: true stream_view_type: VIEW_NEW_IMAGE }
              )pb")));
  EXPECT_THAT(Built<v1::CreateTableRequest>({"tables", "create", "--table-name=t",
                                             "--partition-key=k:B", "--billing-mode=PROVISIONED",
                                             "--read-capacity-units=5",
                                             "--write-capacity-units=6"}),
              EqualsProto(Proto<v1::CreateTableRequest>(R"pb(
                table_name: "t"
                partition_key { attribute_name: "k" attribute_type: "B" }
                billing_mode: BILLING_PROVISIONED
                read_capacity_units: 5
                write_capacity_units: 6
              )pb")));
  ExpectUsageError(Build<v1::CreateTableRequest>(
                       {"tables", "create", "--table-name=t", "--partition-key=id"}),
                   "--partition-key");
  ExpectUsageError(Build<v1::CreateTableRequest>(
                       {"tables", "create", "--table-name=t", "--partition-key=id:X"}),
                   "--partition-key");
}

TEST(RequestsTest, TablesUpdateTurnsTheStreamOnOrOff) {
  EXPECT_THAT(Built<v1::UpdateTableRequest>({"tables", "update", "--table-name=t", "--no-stream"}),
              EqualsProto(Proto<v1::UpdateTableRequest>(
                  R"pb(table_name: "t" stream_specification { stream_enabled: false })pb")));
  EXPECT_THAT(Built<v1::UpdateTableRequest>(
                  {"tables", "update", "--table-name=t", "--stream-view-type=KEYS_ONLY"}),
              EqualsProto(Proto<v1::UpdateTableRequest>(R"pb(
                table_name: "t"
                stream_specification { stream_enabled: true stream_view_type: VIEW_KEYS_ONLY }
              )pb")));
  ExpectUsageError(Build<v1::UpdateTableRequest>({"tables", "update", "--table-name=t",
                                                  "--no-stream", "--stream-view-type=KEYS_ONLY"}),
                   "not both");
}

TEST(RequestsTest, ItemsAreDynamoDbJsonOfEveryType) {
  v1::PutItemRequest put = Built<v1::PutItemRequest>(
      {"items", "put", "--table-name=t", "--return-old",
       R"(--item={"id": {"S": "a"}, "n": {"N": "1.5"}, "b": {"B": "AP8="}, "t": {"BOOL": true},
                  "z": {"NULL": true}, "m": {"M": {"x": {"S": "y"}}}, "l": {"L": [{"N": "2"}]},
                  "ss": {"SS": ["s"]}, "ns": {"NS": ["3"]}, "bs": {"BS": ["AP8="]}})"});
  EXPECT_EQ(put.return_values(), v1::RETURN_ALL_OLD);
  EXPECT_EQ(put.item().at("b").b(), std::string("\0\xff", 2));
  EXPECT_EQ(put.item().at("m").m().attributes().at("x").s(), "y");
  EXPECT_EQ(put.item().at("bs").bs().values(0), std::string("\0\xff", 2));
  EXPECT_EQ(DynamoDbJson(put.item()),
            R"({"b": {"B": "AP8="}, "bs": {"BS": ["AP8="]}, "id": {"S": "a"}, )"
            R"("l": {"L": [{"N": "2"}]}, "m": {"M": {"x": {"S": "y"}}}, "n": {"N": "1.5"}, )"
            R"("ns": {"NS": ["3"]}, "ss": {"SS": ["s"]}, "t": {"BOOL": true}, "z": {"NULL": true}})");
  EXPECT_EQ(Built<v1::GetItemRequest>({"items", "get", "--table-name=t",
                                       R"(--key={"id": {"N": "7"}})"})
                .key()
                .at("id")
                .n(),
            "7");
  ExpectUsageError(Build<v1::PutItemRequest>({"items", "put", "--table-name=t", "--item=[1]"}),
                   "--item");
  ExpectUsageError(Build<v1::PutItemRequest>(
                       {"items", "put", "--table-name=t", R"(--item={"id": {"S": "a", "N": "1"}})"}),
                   "--item: id");
  ExpectUsageError(Build<v1::DeleteItemRequest>(
                       {"items", "delete", "--table-name=t", R"(--key={"id": {"B": "!!"}})"}),
                   "base64");
}

TEST(RequestsTest, ItemsUpdateQueryAndScanReadExpressionsNamesValuesAndTheToken) {
  EXPECT_THAT(Built<v1::UpdateItemRequest>(
                  {"items", "update", "--table-name=t", R"(--key={"id": {"S": "a"}})",
                   "--update-expression=SET #s = :s", "--condition-expression=attribute_exists(id)",
                   R"(--names={"#s": "status"})", R"(--values={":s": {"S": "x"}})",
                   "--return-values=UPDATED_NEW"}),
              EqualsProto(Proto<v1::UpdateItemRequest>(R"pb(
                table_name: "t"
                key { key: "id" value { s: "a" } }
                update_expression: "SET #s = :s"
                condition_expression: "attribute_exists(id)"
                expression_attribute_names { key: "#s" value: "status" }
                expression_attribute_values { key: ":s" value { s: "x" } }
                return_values: RETURN_UPDATED_NEW
              )pb")));
  v1::AttributeMap start;
  (*start.mutable_attributes())["pk"].set_s("a");
  (*start.mutable_attributes())["sk"].set_n("2");
  const std::string token = ItemsToken(start.attributes());
  EXPECT_THAT(Built<v1::QueryRequest>({"items", "query", "--table-name=t",
                                       "--key-condition=pk = :p", R"(--values={":p": {"S": "a"}})",
                                       "--descending", "--count", "--filter=f = :p",
                                       "--starting-token=" + token}),
              EqualsProto(Proto<v1::QueryRequest>(R"pb(
                table_name: "t"
                key_condition_expression: "pk = :p"
                filter_expression: "f = :p"
                expression_attribute_values { key: ":p" value { s: "a" } }
                scan_index_forward: false
                select: SELECT_COUNT
                exclusive_start_key { key: "pk" value { s: "a" } }
                exclusive_start_key { key: "sk" value { n: "2" } }
              )pb")));
  EXPECT_THAT(Built<v1::ScanRequest>({"items", "scan", "--table-name=t", "--segment=0",
                                      "--total-segments=2", "--projection=#a",
                                      R"(--names={"#a": "a"})"}),
              EqualsProto(Proto<v1::ScanRequest>(R"pb(
                table_name: "t"
                segment: 0
                total_segments: 2
                projection_expression: "#a"
                expression_attribute_names { key: "#a" value: "a" }
              )pb")));
  ExpectUsageError(Build<v1::ScanRequest>({"items", "scan", "--table-name=t",
                                           "--starting-token=not-a-token"}),
                   "--starting-token");
  ExpectUsageError(Build<v1::UpdateItemRequest>({"items", "update", "--table-name=t",
                                                 R"(--key={"id": {"S": "a"}})",
                                                 "--update-expression=SET a = :a",
                                                 R"(--names={"#a": 1})"}),
                   "--names");
}


TEST(RequestsTest, BatchWriteAndBatchGetTakeTheAwsClisRequestItems) {
  EXPECT_THAT(Built<v1::BatchWriteItemRequest>(
                  {"items", "batch-write", "--return-consumed-capacity=TOTAL",
                   R"(--request-items={"orders": [{"PutRequest": {"Item": {"id": {"S": "a"}}}},
                                                  {"DeleteRequest": {"Key": {"id": {"S": "b"}}}}]})"}),
              EqualsProto(Proto<v1::BatchWriteItemRequest>(R"pb(
                request_items {
                  key: "orders"
                  value {
                    requests { put_request { item { key: "id" value { s: "a" } } } }
                    requests { delete_request { key { key: "id" value { s: "b" } } } }
                  }
                }
                return_consumed_capacity: RETURN_CONSUMED_CAPACITY_TOTAL
              )pb")));
  EXPECT_THAT(Built<v1::BatchGetItemRequest>(
                  {"items", "batch-get",
                   R"(--request-items={"orders": {"Keys": [{"id": {"S": "a"}}],
                       "ProjectionExpression": "#s", "ExpressionAttributeNames": {"#s": "status"},
                       "ConsistentRead": true}})"}),
              EqualsProto(Proto<v1::BatchGetItemRequest>(R"pb(
                request_items {
                  key: "orders"
                  value {
                    keys { attributes { key: "id" value { s: "a" } } }
                    projection_expression: "#s"
                    expression_attribute_names { key: "#s" value: "status" }
                    consistent_read: true
                  }
                }
              )pb")));
  ExpectUsageError(Build<v1::BatchWriteItemRequest>(
                       {"items", "batch-write",
                        R"(--request-items={"orders": [{"PutRequest": {"Itme": {}}}]})"}),
                   "--request-items: orders[0].PutRequest: unknown member Itme");
  ExpectUsageError(Build<v1::BatchWriteItemRequest>(
                       {"items", "batch-write",
                        R"(--request-items={"orders": [{"PutRequest": {"Item": {}},
                                                        "DeleteRequest": {"Key": {}}}]})"}),
                   "exactly one of PutRequest and DeleteRequest");
  ExpectUsageError(Build<v1::BatchGetItemRequest>(
                       {"items", "batch-get", R"(--request-items={"orders": {"Keys": {}}})"}),
                   "orders.Keys: a list of keys");
  ExpectUsageError(Build<v1::BatchGetItemRequest>({"items", "batch-get", "--request-items=[1"}),
                   "--request-items: not JSON");
}

TEST(RequestsTest, TransactWriteTakesEveryKindOfWriteAndReadsAFile) {
  const std::string path = ::testing::TempDir() + "/transact.json";
  {
    std::ofstream file(path);
    file << R"json([{"Put": {"TableName": "orders", "Item": {"id": {"S": "a"}},
                         "ConditionExpression": "attribute_not_exists(id)",
                         "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
                {"Update": {"TableName": "orders", "Key": {"id": {"S": "b"}},
                            "UpdateExpression": "SET #s = :s",
                            "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": {":s": {"S": "x"}}}},
                {"Delete": {"TableName": "orders", "Key": {"id": {"S": "c"}}}},
                {"ConditionCheck": {"TableName": "stock", "Key": {"sku": {"N": "1"}},
                                    "ConditionExpression": "attribute_exists(sku)"}}])json";
  }
  EXPECT_THAT(Built<v1::TransactWriteItemsRequest>({"items", "transact-write",
                                                    "--transact-items=file://" + path,
                                                    "--client-request-token=t-1"}),
              EqualsProto(Proto<v1::TransactWriteItemsRequest>(R"pb(
                transact_items {
                  put {
                    table_name: "orders"
                    item { key: "id" value { s: "a" } }
                    condition_expression: "attribute_not_exists(id)"
                    return_item_on_condition_check_failure: true
                  }
                }
                transact_items {
                  update {
                    table_name: "orders"
                    key { key: "id" value { s: "b" } }
                    update_expression: "SET #s = :s"
                    expression_attribute_names { key: "#s" value: "status" }
                    expression_attribute_values { key: ":s" value { s: "x" } }
                  }
                }
                transact_items {
                  delete {
                    table_name: "orders"
                    key { key: "id" value { s: "c" } }
                  }
                }
                transact_items {
                  condition_check {
                    table_name: "stock"
                    key { key: "sku" value { n: "1" } }
                    condition_expression: "attribute_exists(sku)"
                  }
                }
                client_request_token: "t-1"
              )pb")));
  ExpectUsageError(Build<v1::TransactWriteItemsRequest>(
                       {"items", "transact-write",
                        R"(--transact-items=[{"Put": {"Item": {"id": {"S": "a"}}}}])"}),
                   "[0].Put.TableName: required");
  ExpectUsageError(Build<v1::TransactWriteItemsRequest>(
                       {"items", "transact-write", R"(--transact-items=[{"Get": {}}])"}),
                   "unknown member Get");
  ExpectUsageError(Build<v1::TransactWriteItemsRequest>(
                       {"items", "transact-write", "--transact-items=file:///no/such/file"}),
                   "cannot read /no/such/file");
}

}  // namespace
}  // namespace tributary::tribctl
