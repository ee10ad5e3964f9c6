// Tables, JSON and Prometheus text as an operator or a script sees them.
#include "tools/tribctl/format.h"

#include <algorithm>
#include <string>

#include "common/clock.h"
#include "common/proto_util.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "poller/runtime/metrics.h"

namespace tributary::tribctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

template <typename T>
T Proto(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

TEST(FormatTest, TableColumnsAreAlignedWithoutTrailingSpaces) {
  Table table({"SHARD_ID", "STATE", "N"});
  table.AddRow({"shardId-000000000000", "OPEN", "1"});
  table.AddRow({"s1", "CLOSED"});  // a short row gets empty cells
  EXPECT_EQ(table.Render(),
            "SHARD_ID              STATE   N\n"
            "shardId-000000000000  OPEN    1\n"
            "s1                    CLOSED\n");
}

TEST(FormatTest, KeyValueTableHasFieldAndValueColumns) {
  EXPECT_EQ(KeyValueTable({{"ShardId", "shardId-000000000001"}, {"SequenceNumber", "7"}}),
            "FIELD           VALUE\n"
            "ShardId         shardId-000000000001\n"
            "SequenceNumber  7\n");
}

TEST(FormatTest, JsonIsShapedAsTheAwsClisAndReadsBack) {
  auto summary = Proto<v1::DescribeStreamSummaryResponse>(
      "stream_description_summary { stream_name: 'orders' stream_status: ACTIVE "
      "open_shard_count: 4 }");
  absl::StatusOr<std::string> json = ToJson(summary);
  ASSERT_TRUE(json.ok()) << json.status();
  // Two-space indent; numbers printed even when 0 (an answer); empty strings and unset
  // messages omitted.
  EXPECT_EQ(*json,
            "{\n"
            "  \"streamDescriptionSummary\": {\n"
            "    \"streamName\": \"orders\",\n"
            "    \"streamStatus\": \"ACTIVE\",\n"
            "    \"retentionPeriodHours\": 0,\n"
            "    \"openShardCount\": 4,\n"
            "    \"consumerCount\": 0\n"
            "  }\n"
            "}\n");
  // A script reading it back gets the same message.
  v1::DescribeStreamSummaryResponse parsed;
  ASSERT_TRUE(FromJson(*json, &parsed).ok());
  EXPECT_EQ(parsed.SerializeAsString(), summary.SerializeAsString());
}

TEST(FormatTest, JsonNamesEnumsAsTheFlagsAndPrints64BitIntegersAsNumbersWhenExact) {
  auto mapping = Proto<v1::EventSourceMappingConfiguration>(
      "uuid: 'm-1' state: CREATING_MAPPING starting_position: TRIM_HORIZON_POSITION "
      "batch_size: 100 function_response_types: REPORT_BATCH_ITEM_FAILURES");
  absl::StatusOr<std::string> json = ToJson(mapping, /*pretty=*/false);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr("\"state\":\"CREATING\""));
  EXPECT_THAT(*json, HasSubstr("\"startingPosition\":\"TRIM_HORIZON\""));
  EXPECT_THAT(*json, HasSubstr("\"functionResponseTypes\":[\"REPORT_BATCH_ITEM_FAILURES\"]"));
  EXPECT_THAT(*json, ::testing::Not(HasSubstr("_POSITION")));
  EXPECT_THAT(*json, ::testing::Not(HasSubstr("functionArn")));  // unset: omitted
  v1::EventSourceMappingConfiguration parsed;
  ASSERT_TRUE(FromJson(*json, &parsed).ok()) << *json;
  EXPECT_EQ(parsed.SerializeAsString(), mapping.SerializeAsString());

  auto metrics = Proto<v1::ShardMetrics>("invocations: 9007199254740991 retries: -5");
  json = ToJson(metrics, /*pretty=*/false);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr("\"invocations\":9007199254740991"));  // 2^53 - 1: a number
  EXPECT_THAT(*json, HasSubstr("\"retries\":-5"));
  metrics.set_invocations(int64_t{1} << 53);  // not exact in a double: a string, as protobuf's
  json = ToJson(metrics, /*pretty=*/false);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr("\"invocations\":\"9007199254740992\""));
  v1::ShardMetrics back;
  ASSERT_TRUE(FromJson(*json, &back).ok()) << *json;
  EXPECT_EQ(back.invocations(), int64_t{1} << 53);
  EXPECT_EQ(back.retries(), -5);
}

TEST(FormatTest, FromJsonSaysWhatDidNotParse) {
  v1::ShardMetrics m;
  EXPECT_EQ(FromJson("{\"invocations\": ", &m).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FromJson("{\"noSuchField\": 1}", &m).code(), absl::StatusCode::kInvalidArgument);
}

TEST(FormatTest, CompactJsonIsOneLine) {
  auto record = Proto<v1::Record>("sequence_number: '5' partition_key: 'k' data: 'hi'");
  absl::StatusOr<std::string> json = ToJson(record, /*pretty=*/false);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(std::count(json->begin(), json->end(), '\n'), 1);
  EXPECT_THAT(*json, HasSubstr("\"data\":\"aGk=\""));  // bytes are base64, as in Kinesis
}

TEST(FormatTest, RecordTablesSummarizeFailureRecords) {
  const std::string failure =
      R"({"requestContext":{"requestId":"r","functionArn":"arn:aws:lambda:us-east-1:000000000000:)"
      R"(function:f","condition":"RetryAttemptsExhausted","approximateInvokeCount":3},)"
      R"("responseContext":{"statusCode":200,"executedVersion":"$LATEST",)"
      R"("functionError":"Unhandled"},"version":"1.0","timestamp":"2026-11-27T05:35:00.123Z",)"
      R"("KinesisBatchInfo":{"shardId":"shardId-000000000000","startSequenceNumber":"1",)"
      R"("endSequenceNumber":"9","batchSize":9,"streamName":"s"}})";
  v1::Record record;
  record.set_sequence_number("5");
  record.set_partition_key("shardId-000000000000");
  record.set_data(failure);
  const std::string summary =
      "failure RetryAttemptsExhausted: shardId-000000000000 1..9 (9 records), 3 invoke(s), "
      "Unhandled, arn:aws:lambda:us-east-1:000000000000:function:f";
  EXPECT_EQ(FailureRecordSummary(failure), summary);
  EXPECT_THAT(RecordsTable({record}), HasSubstr("  " + summary + "\n"));
  EXPECT_EQ(FollowLine("x", record), "x  5  shardId-000000000000  -  " + summary + "\n");
  // Records too old to invoke: no responseContext.
  EXPECT_EQ(FailureRecordSummary(
                R"({"requestContext":{"condition":"RecordAgeExceeded"},"DDBStreamBatchInfo":)"
                R"({"shardId":"a","startSequenceNumber":"1","endSequenceNumber":"2"}})"),
            "failure RecordAgeExceeded: a 1..2 (? records)");
  // Anything else is shown as data.
  EXPECT_EQ(FailureRecordSummary(R"({"requestContext":{}})"), std::nullopt);
  EXPECT_EQ(FailureRecordSummary("{not json"), std::nullopt);
  EXPECT_EQ(FailureRecordSummary("hello"), std::nullopt);
}

TEST(FormatTest, TimestampsAreUtcWithMilliseconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(1700000000);
  t.set_nanos(250'000'000);
  EXPECT_EQ(FormatTimestamp(t), "2023-11-14T22:13:20.250Z");
  EXPECT_EQ(FormatTimestamp(google::protobuf::Timestamp()), "");
}

TEST(FormatTest, DataIsShownAsTextOrBase64AndCut) {
  EXPECT_EQ(DisplayData("hello world"), "hello world");
  EXPECT_EQ(DisplayData(std::string("\x00\xff", 2)), "base64:AP8=");
  EXPECT_EQ(DisplayData("line\nbreak"), "base64:bGluZQpicmVhaw==");
  EXPECT_EQ(DisplayData(std::string(100, 'a'), 10), "aaaaaaa...");
}

TEST(FormatTest, CheckpointsReadAsTheirMeaning) {
  EXPECT_EQ(CheckpointText(Proto<v1::Checkpoint>("type: SEQUENCE_NUMBER sequence_number: '42'")),
            "42");
  EXPECT_EQ(CheckpointText(Proto<v1::Checkpoint>("type: TRIM_HORIZON_CHECKPOINT")), "TRIM_HORIZON");
  EXPECT_EQ(CheckpointText(Proto<v1::Checkpoint>("type: LATEST_CHECKPOINT")), "LATEST");
  EXPECT_EQ(CheckpointText(Proto<v1::Checkpoint>("type: SHARD_END")), "SHARD_END");
  EXPECT_EQ(CheckpointText(Proto<v1::Checkpoint>(
                "type: AT_TIMESTAMP_CHECKPOINT timestamp { seconds: 1700000000 }")),
            "AT_TIMESTAMP(2023-11-14T22:13:20.000Z)");
  EXPECT_EQ(CheckpointText(v1::Checkpoint()), "-");
}

TEST(FormatTest, LeasesTableShowsOwnerCounterCheckpointIteratorAgeLastResultAndError) {
  std::vector<v1::Lease> leases = {
      Proto<v1::Lease>("event_source_mapping_uuid: 'm1' shard_id: 'shardId-000000000002' "
                       "lease_owner: 'poller-a' lease_counter: 3 "
                       "checkpoint { type: SEQUENCE_NUMBER sequence_number: '99' } "
                       "iterator_age_ms: 1500 enabled: true "
                       "parent_shard_ids: 'shardId-000000000000' "
                       "last_processing_result: 'PROBLEM: Function call failed' "
                       "last_error_kind: 'FunctionError' last_error_message: 'Unhandled:\\nboom' "
                       "last_error_time { seconds: 1700000000 }"),
      Proto<v1::Lease>("event_source_mapping_uuid: 'm1' shard_id: 'shardId-000000000000' "
                       "checkpoint { type: SHARD_END } lease_counter: 7 expired: true"),
  };
  EXPECT_EQ(LeasesTable(leases),
            "MAPPING  SHARD_ID              OWNER     COUNTER  CHECKPOINT  ITERATOR_AGE_MS  "
            "ENABLED  EXPIRED  PARENTS               LAST_PROCESSING_RESULT         "
            "LAST_ERROR_TIME           LAST_ERROR\n"
            "m1       shardId-000000000002  poller-a  3        99          1500             "
            "true     false    shardId-000000000000  PROBLEM: Function call failed  "
            "2023-11-14T22:13:20.000Z  FunctionError: Unhandled: boom\n"
            "m1       shardId-000000000000  -         7        SHARD_END   -                "
            "false    true     -                     -                              -"
            "                         -\n");
}

TEST(FormatTest, LongErrorsAreCutInTablesAndWholeInTheMapping) {
  const std::string message(200, 'x');
  v1::Lease lease;
  lease.set_last_error_kind("Timeout");
  lease.set_last_error_message(message);
  const std::string cut = "Timeout: " + std::string(80 - 3 - 9, 'x') + "...";
  EXPECT_THAT(LeasesTable({lease}), HasSubstr("  " + cut + "\n"));
  v1::EventSourceMappingConfiguration mapping;
  mapping.set_last_error_kind("Timeout");
  mapping.set_last_error_message(message);
  mapping.set_last_error_shard_id("shardId-000000000004");
  *mapping.mutable_last_error_time() = ToProtoTimestamp(absl::FromUnixSeconds(1'700'000'000));
  const std::string table = MappingTable(mapping);
  EXPECT_THAT(table, HasSubstr("LastError                       Timeout: " + message + "\n"));
  EXPECT_THAT(table, HasSubstr("LastErrorTime                   2023-11-14T22:13:20.000Z\n"));
  EXPECT_THAT(table, HasSubstr("LastErrorShardId                shardId-000000000004\n"));
  EXPECT_THAT(MappingTable(v1::EventSourceMappingConfiguration()),
              HasSubstr("LastError                       -\n"));
}

TEST(FormatTest, ShardsTableDerivesOpenAndClosed) {
  std::vector<v1::Shard> shards = {
      Proto<v1::Shard>("shard_id: 'shardId-000000000000' hash_key_range { starting_hash_key: "
                       "'0' ending_hash_key: '9' } sequence_number_range { "
                       "starting_sequence_number: '1' ending_sequence_number: '5' }"),
      Proto<v1::Shard>("shard_id: 'shardId-000000000001' parent_shard_id: "
                       "'shardId-000000000000' hash_key_range { starting_hash_key: '0' "
                       "ending_hash_key: '4' } sequence_number_range { "
                       "starting_sequence_number: '6' }"),
  };
  const std::string table = ShardsTable(shards);
  EXPECT_THAT(table, HasSubstr("shardId-000000000000  CLOSED  -"));
  EXPECT_THAT(table, HasSubstr("shardId-000000000001  OPEN    shardId-000000000000"));
}

TEST(FormatTest, MappingTableNamesEveryConfigurationField) {
  auto mapping = Proto<v1::EventSourceMappingConfiguration>(R"pb(
    uuid: "u-1"
    stream_name: "orders"
    function_endpoint: "127.0.0.1:4570"
    batch_size: 100
    parallelization_factor: 2
    starting_position: TRIM_HORIZON_POSITION
    destination_config {
      on_failure { destination: "dlq" }
      on_success { destination: "delivered" }
    }
    maximum_record_age_in_seconds: -1
    bisect_batch_on_function_error: true
    maximum_retry_attempts: 3
    function_response_types: REPORT_BATCH_ITEM_FAILURES
    function_timeout_seconds: 30
    tumbling_window_in_seconds: 300
    isolate_failing_keys: true
    state: ENABLED
    enabled: true)pb");
  const std::string table = MappingTable(mapping);
  for (const char* line :
       {"UUID                            u-1", "State                           ENABLED",
        "StartingPosition                TRIM_HORIZON", "DestinationOnFailure            dlq",
        "DestinationOnSuccess            delivered",
        "BisectBatchOnFunctionError      true", "MaximumRetryAttempts            3",
        "FunctionResponseTypes           ReportBatchItemFailures",
        "MaximumRecordAgeInSeconds       -1", "ParallelizationFactor           2",
        "MaximumBatchingWindowInSeconds  0", "FunctionTimeoutSeconds          30",
        "TumblingWindowInSeconds         300", "IsolateFailingKeys              true",
        "MaxParkedKeys                   100"}) {
    EXPECT_THAT(table, HasSubstr(line));
  }
}

TEST(FormatTest, MappingTableShowsTheFunctionNameOrADash) {
  auto following = Proto<v1::EventSourceMappingConfiguration>(
      "uuid: 'u-1' function_name: 'orders-fn' function_endpoint: 'h:1' state: ENABLED "
      "batch_size: 100 parallelization_factor: 1");
  EXPECT_THAT(MappingTable(following), HasSubstr("FunctionName                    orders-fn\n"));
  EXPECT_THAT(MappingTable(v1::EventSourceMappingConfiguration()),
              HasSubstr("FunctionName                    -\n"));
  EXPECT_EQ(MappingsTable({following}),
            "UUID  STREAM  FUNCTION_NAME  FUNCTION_ENDPOINT  STATE    BATCH_SIZE  "
            "PARALLELIZATION  LAST_PROCESSING_RESULT\n"
            "u-1           orders-fn      h:1                ENABLED  100         1"
            "                -\n");
}

TEST(FormatTest, FunctionTablesShowEveryFieldAndADashForNoReservedConcurrency) {
  auto f = Proto<v1::FunctionConfiguration>(R"pb(
    function_name: "orders-fn"
    function_arn: "arn:aws:lambda:us-east-1:000000000000:function:orders-fn"
    endpoint: "127.0.0.1:4570"
    timeout_seconds: 3
    last_modified { seconds: 1767322800 })pb");
  EXPECT_EQ(
      FunctionTable(f),
      "FIELD                         VALUE\n"
      "FunctionName                  orders-fn\n"
      "FunctionArn                   arn:aws:lambda:us-east-1:000000000000:function:orders-fn\n"
      "Endpoint                      127.0.0.1:4570\n"
      "TimeoutSeconds                3\n"
      "ReservedConcurrentExecutions  -\n"
      "LastModified                  2026-01-02T03:00:00.000Z\n");
  auto reserved = f;
  reserved.set_function_name("g");
  reserved.set_reserved_concurrent_executions(0);
  EXPECT_EQ(FunctionsTable({f, reserved}),
            "FUNCTION_NAME  ENDPOINT        TIMEOUT_SECONDS  RESERVED_CONCURRENCY  LAST_MODIFIED\n"
            "orders-fn      127.0.0.1:4570  3                -                     "
            "2026-01-02T03:00:00.000Z\n"
            "g              127.0.0.1:4570  3                0                     "
            "2026-01-02T03:00:00.000Z\n");
  EXPECT_EQ(
      ConcurrencyTable("g", Proto<v1::FunctionConcurrency>("reserved_concurrent_executions: 5")),
      "FIELD                         VALUE\n"
      "FunctionName                  g\n"
      "ReservedConcurrentExecutions  5\n");
  EXPECT_THAT(ConcurrencyTable("g", v1::FunctionConcurrency()),
              HasSubstr("ReservedConcurrentExecutions  -\n"));
}

TEST(FormatTest, MappingTableShowsEachFilterPattern) {
  auto mapping = Proto<v1::EventSourceMappingConfiguration>(R"pb(
    uuid: "u-1"
    filter_criteria {
      filters { pattern: "{\"partitionKey\":[\"k\"]}" }
      filters { pattern: "{\"data\":{\"t\":[\"x\"]}}" }
    })pb");
  const std::string table = MappingTable(mapping);
  EXPECT_THAT(table, HasSubstr("FilterCriteria[0]               {\"partitionKey\":[\"k\"]}"));
  EXPECT_THAT(table, HasSubstr("FilterCriteria[1]               {\"data\":{\"t\":[\"x\"]}}"));
  EXPECT_THAT(MappingTable(v1::EventSourceMappingConfiguration()),
              HasSubstr("FilterCriteria                  -"));
}

TEST(FormatTest, MappingStatesDropTheProtoSuffix) {
  EXPECT_EQ(MappingStateName(v1::CREATING_MAPPING), "CREATING");
  EXPECT_EQ(MappingStateName(v1::DISABLED), "DISABLED");
  EXPECT_EQ(PositionName(v1::LATEST_POSITION), "LATEST");
  EXPECT_EQ(StreamStatusName(v1::UPDATING), "UPDATING");
}

TEST(FormatTest, PrometheusTextHasCountersGaugesAndCumulativeHistograms) {
  auto metrics = Proto<v1::GetMetricsResponse>(R"pb(
    poller_id: "p1"
    shards {
      event_source_mapping_uuid: "m\"1"
      stream_name: "orders"
      shard_id: "shardId-000000000000"
      iterator_age_ms: 1200
    }
    mappings {
      event_source_mapping_uuid: "m\"1"
      stream_name: "orders"
      invocations: 10
      function_errors: 2
      dropped_records { key: "RetryAttemptsExhausted" value: 3 }
      batch_size {
        bounds: [ 1, 10, inf ]
        counts: [ 1, 4, 10 ]
        sum: 55.5
        count: 10
      }
    })pb");
  const std::string text = PrometheusText(metrics);
  // Per shard only the iterator age (and the last error's time); counters and histograms per
  // mapping.
  const std::string labels = "poller=\"p1\",mapping=\"m\\\"1\",stream=\"orders\"";
  EXPECT_THAT(text, HasSubstr("# TYPE tributary_poller_iterator_age_seconds gauge\n"
                              "tributary_poller_iterator_age_seconds{" +
                              labels + ",shard=\"shardId-000000000000\"} 1.2\n"));
  EXPECT_THAT(text, HasSubstr("tributary_poller_invocations_total{" + labels + "} 10\n"));
  EXPECT_THAT(text, HasSubstr("tributary_poller_function_errors_total{" + labels + "} 2\n"));
  EXPECT_THAT(text, HasSubstr("tributary_poller_dropped_records_total{" + labels +
                              ",condition=\"RetryAttemptsExhausted\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE tributary_poller_batch_size histogram\n"
                              "tributary_poller_batch_size_bucket{" +
                              labels +
                              ",le=\"1\"} 1\n"
                              "tributary_poller_batch_size_bucket{" +
                              labels +
                              ",le=\"10\"} 4\n"
                              "tributary_poller_batch_size_bucket{" +
                              labels +
                              ",le=\"+Inf\"} 10\n"
                              "tributary_poller_batch_size_sum{" +
                              labels +
                              "} 55.5\n"
                              "tributary_poller_batch_size_count{" +
                              labels + "} 10\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("tributary_poller_invocations_total{poller=\"p1\","
                                             "mapping=\"m\\\"1\",stream=\"orders\",shard=")));
}

TEST(FormatTest, MetricsTableSumsDroppedRecords) {
  auto metrics = Proto<v1::GetMetricsResponse>(R"pb(
    poller_id: "p1"
    shards {
      event_source_mapping_uuid: "m1"
      stream_name: "s"
      shard_id: "x"
      records_delivered: 7
      dropped_records { key: "RetryAttemptsExhausted" value: 3 }
      dropped_records { key: "RecordAgeExceeded" value: 4 }
      records_filtered: 5
      windows_closed: 9
      windows_failed: 1
      checkpoint: "42"
      last_processing_result: "OK"
      last_error_kind: "Timeout"
      last_error_message: "DEADLINE_EXCEEDED: late"
      last_error_time { seconds: 1700000000 }
    })pb");
  EXPECT_EQ(MetricsTable(metrics),
            "poller: p1\n"
            "MAPPING  STREAM  SHARD_ID  ITERATOR_AGE_MS  INVOCATIONS  ERRORS  RETRIES  "
            "BISECTIONS  DROPPED  FILTERED  DELIVERED  WINDOWS_CLOSED  CHECKPOINT  "
            "LAST_PROCESSING_RESULT  LAST_ERROR_TIME           LAST_ERROR\n"
            "m1       s       x         0                0            0       0        "
            "0           7        5         7          9 (1 failed)    42          "
            "OK                      2023-11-14T22:13:20.000Z  Timeout: DEADLINE_EXCEEDED: late\n");
}

TEST(FormatTest, MetricsTableListsShardsWithParkedKeys) {
  auto metrics = Proto<v1::GetMetricsResponse>(R"pb(
    poller_id: "p1"
    shards { event_source_mapping_uuid: "m1" stream_name: "s" shard_id: "x" }
    shards {
      event_source_mapping_uuid: "m1"
      stream_name: "s"
      shard_id: "y"
      parked_keys: 2
      parked_records: 5
      oldest_parked_age_ms: 61000
      parked_keys_limit_reached: true
    })pb");
  const std::string table = MetricsTable(metrics);
  EXPECT_THAT(table, HasSubstr("MAPPING  SHARD_ID  PARKED_KEYS  PARKED_RECORDS  "
                               "OLDEST_PARKED_AGE_MS  LIMIT_REACHED\n"
                               "m1       y         2            5               61000"
                               "                 true\n"));
  EXPECT_THAT(table, Not(HasSubstr("m1       x         0"))) << "only shards with parked keys";
}

TEST(FormatTest, MetricsTableListsFunctionsWithReservedConcurrency) {
  auto metrics = Proto<v1::GetMetricsResponse>(R"pb(
    poller_id: "p1"
    functions { function_name: "audit-fn" throttles: 12 }
    functions { function_name: "orders-fn" concurrent_executions: 3 throttles: 0 }
  )pb");
  EXPECT_EQ(MetricsTable(metrics),
            "poller: p1\n"
            "MAPPING  STREAM  SHARD_ID  ITERATOR_AGE_MS  INVOCATIONS  ERRORS  RETRIES  "
            "BISECTIONS  DROPPED  FILTERED  DELIVERED  WINDOWS_CLOSED  CHECKPOINT  "
            "LAST_PROCESSING_RESULT  LAST_ERROR_TIME  LAST_ERROR\n"
            "\n"
            "FUNCTION   CONCURRENT_EXECUTIONS  THROTTLES\n"
            "audit-fn   0                      12\n"
            "orders-fn  3                      0\n");
}

TEST(FormatTest, PrometheusTextIsWhatThePollerServes) {
  // `tribctl metrics --prometheus` must print what the poller's --metrics_listen serves, so
  // that dashboards work with either.
  FakeClock clock;
  poller::PollerMetrics metrics("poller-1", clock);
  const poller::ShardContext shard{"m-1", "orders", "shardId-000000000000"};
  metrics.BatchStarted(shard, clock.Now() - absl::Seconds(2));
  metrics.Invoked(shard, 7, absl::Milliseconds(12));
  metrics.FunctionError(shard);
  metrics.Retried(shard);
  metrics.Bisected(shard);
  metrics.Dropped(shard, "RetryAttemptsExhausted", 1);
  metrics.Delivered(shard, 6);
  metrics.Checkpointed(shard, "42");
  metrics.BatchFinished(shard);
  metrics.Invoked({"m-2", "other", "shardId-000000000001"}, 1500, absl::Seconds(3));
  const std::string served = metrics.RenderPrometheus();
  EXPECT_THAT(served, HasSubstr("tributary_poller_invocations_total"));
  EXPECT_EQ(PrometheusText(metrics.Snapshot()), served);
}

TEST(FormatTest, TagAndConsumerTablesShowEveryFieldAndADashForWhatIsEmpty) {
  EXPECT_EQ(TagsTable({Proto<v1::Tag>("key: 'team' value: 'data'"), Proto<v1::Tag>("key: 'x'")}),
            "KEY   VALUE\n"
            "team  data\n"
            "x     -\n");
  const auto consumer = Proto<v1::Consumer>(
      "consumer_name: 'app' consumer_arn: 'arn:tributary:stream/s/consumer/app:1700000000' "
      "consumer_status: ACTIVE consumer_creation_timestamp { seconds: 1700000000 }");
  EXPECT_EQ(ConsumerTable(consumer),
            "FIELD                      VALUE\n"
            "ConsumerName               app\n"
            "ConsumerARN                arn:tributary:stream/s/consumer/app:1700000000\n"
            "ConsumerStatus             ACTIVE\n"
            "ConsumerCreationTimestamp  2023-11-14T22:13:20.000Z\n");
  EXPECT_EQ(ConsumerDescriptionTable(Proto<v1::ConsumerDescription>(
                "consumer_name: 'app' consumer_arn: 'arn:a' consumer_status: ACTIVE")),
            "FIELD                      VALUE\n"
            "ConsumerName               app\n"
            "ConsumerARN                arn:a\n"
            "ConsumerStatus             ACTIVE\n"
            "ConsumerCreationTimestamp  -\n"
            "StreamARN                  -\n");
  EXPECT_EQ(ConsumersTable({consumer}),
            "CONSUMER_NAME  STATUS  CREATED                   CONSUMER_ARN\n"
            "app            ACTIVE  2023-11-14T22:13:20.000Z  "
            "arn:tributary:stream/s/consumer/app:1700000000\n");
}

}  // namespace
}  // namespace tributary::tribctl
