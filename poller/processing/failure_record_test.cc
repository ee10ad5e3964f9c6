#include "poller/processing/failure_record.h"

#include "absl/strings/cord.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "poller/interfaces.h"
#include "poller/testing/fakes.h"

namespace tributary::poller {
namespace {

google::protobuf::Struct Parse(const std::string& json) {
  google::protobuf::Struct s;
  auto status = google::protobuf::util::JsonStringToMessage(json, &s);
  EXPECT_TRUE(status.ok()) << status.ToString() << " in " << json;
  return s;
}

TEST(FailureRecordTest, EveryFieldIsWrittenAndParsesBack) {
  const absl::Time t0 = absl::FromUnixMillis(1'700'000'000'123);
  FailureInfo info;
  info.request_id = "req-1";
  info.function_arn = "arn:aws:lambda:us-east-1:000000000000:function:f";
  info.function_endpoint = "127.0.0.1:5000";
  info.condition = kRetryAttemptsExhausted;
  info.approximate_invoke_count = 3;
  info.response = InvokeResponseContext{200, "Unhandled"};
  info.timestamp = t0 + absl::Seconds(10);
  info.shard_id = "shardId-000000000001";
  info.stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
  info.stream_name = "orders";
  const std::vector<v1::Record> records = {testing::MakeRecord(7, "k", "a", t0),
                                           testing::MakeRecord(9, "k", "b", t0 + absl::Seconds(1))};
  const std::string json = FailureRecordJson(info, records);
  const auto s = Parse(json);
  const auto& rc = s.fields().at("requestContext").struct_value().fields();
  EXPECT_EQ(rc.at("requestId").string_value(), "req-1");
  EXPECT_EQ(rc.at("functionArn").string_value(), info.function_arn);
  EXPECT_EQ(rc.at("condition").string_value(), "RetryAttemptsExhausted");
  EXPECT_EQ(rc.at("approximateInvokeCount").number_value(), 3);
  EXPECT_EQ(rc.at("functionEndpoint").string_value(), "127.0.0.1:5000");
  const auto& resp = s.fields().at("responseContext").struct_value().fields();
  EXPECT_EQ(resp.at("statusCode").number_value(), 200);
  EXPECT_EQ(resp.at("executedVersion").string_value(), "$LATEST");
  EXPECT_EQ(resp.at("functionError").string_value(), "Unhandled");
  EXPECT_EQ(s.fields().at("version").string_value(), "1.0");
  EXPECT_EQ(s.fields().at("timestamp").string_value(), "2023-11-14T22:13:30.123Z");
  const auto& kb = s.fields().at("KinesisBatchInfo").struct_value().fields();
  EXPECT_EQ(kb.at("shardId").string_value(), "shardId-000000000001");
  EXPECT_EQ(kb.at("startSequenceNumber").string_value(), "7");
  EXPECT_EQ(kb.at("endSequenceNumber").string_value(), "9");
  EXPECT_EQ(kb.at("approximateArrivalOfFirstRecord").string_value(), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(kb.at("approximateArrivalOfLastRecord").string_value(), "2023-11-14T22:13:21.123Z");
  EXPECT_EQ(kb.at("batchSize").number_value(), 2);
  EXPECT_EQ(kb.at("streamArn").string_value(), info.stream_arn);
  EXPECT_EQ(kb.at("streamName").string_value(), "orders");
  EXPECT_EQ(s.fields().size(), 5u);
  // Lambda's keys in Lambda's order, Tributary's after them.
  EXPECT_EQ(
      json,
      "{\"requestContext\":{\"requestId\":\"req-1\",\"functionArn\":\"arn:aws:lambda:us-east-1:"
      "000000000000:function:f\",\"condition\":\"RetryAttemptsExhausted\","
      "\"approximateInvokeCount\":3,\"functionEndpoint\":\"127.0.0.1:5000\"},"
      "\"responseContext\":{\"statusCode\":200,\"executedVersion\":\"$LATEST\","
      "\"functionError\":\"Unhandled\"},\"version\":\"1.0\","
      "\"timestamp\":\"2023-11-14T22:13:30.123Z\",\"KinesisBatchInfo\":{\"shardId\":"
      "\"shardId-000000000001\",\"startSequenceNumber\":\"7\",\"endSequenceNumber\":\"9\","
      "\"approximateArrivalOfFirstRecord\":\"2023-11-14T22:13:20.123Z\","
      "\"approximateArrivalOfLastRecord\":\"2023-11-14T22:13:21.123Z\",\"batchSize\":2,"
      "\"streamArn\":\"arn:aws:kinesis:us-east-1:000000000000:stream/orders\","
      "\"streamName\":\"orders\"}}");
}

TEST(FailureRecordTest, WhatIsNotKnownIsNotWritten) {
  FailureInfo info;
  info.condition = kRecordAgeExceeded;
  info.stream_name = "orders";
  const auto s = Parse(FailureRecordJson(
      info, {testing::MakeRecord(1, "k", "a", absl::FromUnixSeconds(1700000000))}));
  EXPECT_EQ(s.fields().count("responseContext"), 0u) << "nothing was invoked";
  EXPECT_EQ(s.fields().at("requestContext").struct_value().fields().count("functionArn"), 0u);
  EXPECT_EQ(s.fields().at("KinesisBatchInfo").struct_value().fields().count("streamArn"), 0u);
  info.response = InvokeResponseContext{502, ""};
  const auto with_response = Parse(FailureRecordJson(
      info, {testing::MakeRecord(1, "k", "a", absl::FromUnixSeconds(1700000000))}));
  EXPECT_EQ(
      with_response.fields().at("responseContext").struct_value().fields().count("functionError"),
      0u);
}

// The last invoke's outcome as Lambda's Invoke API would have answered it, alike for gRPC and
// HTTP functions.
TEST(FailureRecordTest, ACallsOutcomeIsLambdasResponseContext) {
  struct Case {
    absl::Status status;
    int status_code;
    const char* function_error;
  };
  absl::Status http_404 = absl::UnknownError("HTTP 404 from http://f/: not here");
  http_404.SetPayload(kHttpStatusPayload, absl::Cord("404"));
  absl::Status http_503 = absl::UnavailableError("HTTP 503 from http://f/: busy");
  http_503.SetPayload(kHttpStatusPayload, absl::Cord("503"));
  for (const Case& c : {
           Case{absl::DeadlineExceededError("Function timed out"), 200, "Unhandled"},
           Case{absl::UnavailableError("Connection error"), 502, ""},
           Case{absl::ResourceExhaustedError("throttled"), 429, ""},
           Case{absl::UnknownError("Exception calling application"), 200, "Unhandled"},
           Case{absl::InternalError("handler failed"), 200, "Unhandled"},
           Case{http_404, 404, ""},
           Case{http_503, 503, ""},
       }) {
    const InvokeResponseContext response = ResponseContextOfFailedCall(c.status);
    EXPECT_EQ(response.status_code, c.status_code) << c.status;
    EXPECT_EQ(response.function_error, c.function_error) << c.status;
  }
  EXPECT_EQ(ResponseContextOfFunctionError("Unhandled: ValueError: bad").function_error,
            "Unhandled");
  EXPECT_EQ(ResponseContextOfFunctionError("poison record at sequence number 7").function_error,
            "Unhandled")
      << "a gRPC function's error text";
  EXPECT_EQ(ResponseContextOfFunctionError("Handled").function_error, "Handled");
  EXPECT_EQ(ResponseContextOfFunctionError("Handled: MyError: no").function_error, "Handled");
  EXPECT_EQ(ResponseContextOfFunctionError("Handledness").function_error, "Unhandled");
  EXPECT_EQ(ResponseContextOfFunctionError("Unhandled").status_code, 200);
}

FailureInfo SomeInfo() {
  FailureInfo info;
  info.request_id = "req-1";
  info.function_endpoint = "127.0.0.1:5000";
  info.condition = kRetryAttemptsExhausted;
  info.approximate_invoke_count = 1;
  info.timestamp = absl::FromUnixMillis(1'700'000'000'000);
  info.shard_id = "shardId-000000000001";
  info.stream_name = "orders";
  return info;
}

TEST(FailureRecordTest, IncludedRecordsCarryKeyDataSequenceAndArrival) {
  const absl::Time t0 = absl::FromUnixMillis(1'700'000'000'123);
  const std::vector<v1::Record> records = {testing::MakeRecord(7, "k\"1", "a\x01\xff", t0),
                                           testing::MakeRecord(9, "k2", "", t0)};
  const std::vector<std::string> parts = FailureRecordParts(SomeInfo(), records, true);
  ASSERT_EQ(parts.size(), 1u);
  const auto s = Parse(parts[0]);
  EXPECT_EQ(s.fields().at("KinesisBatchInfo").struct_value().fields().at("batchSize").number_value(),
            2);
  const auto& list = s.fields().at("records").list_value().values();
  ASSERT_EQ(list.size(), 2);
  const auto& r0 = list[0].struct_value().fields();
  EXPECT_EQ(r0.at("partitionKey").string_value(), "k\"1");
  EXPECT_EQ(r0.at("data").string_value(), "YQH/");  // base64 of the bytes
  EXPECT_EQ(r0.at("sequenceNumber").string_value(), "7");
  EXPECT_EQ(r0.at("approximateArrivalTimestamp").number_value(), 1700000000.123);
  EXPECT_EQ(list[1].struct_value().fields().at("data").string_value(), "");
  const auto& part = s.fields().at("part").struct_value().fields();
  EXPECT_EQ(part.at("index").number_value(), 0);
  EXPECT_EQ(part.at("count").number_value(), 1);
}

TEST(FailureRecordTest, RecordsThatDoNotFitAreSplitIntoPartsUnderTheLimit) {
  std::vector<v1::Record> records;
  for (int i = 0; i < 10; ++i) {
    records.push_back(testing::MakeRecord(i, "k", std::string(100, 'a' + i), absl::UnixEpoch()));
  }
  const int64_t limit = 1000;
  const std::vector<std::string> parts = FailureRecordParts(SomeInfo(), records, true, limit);
  ASSERT_GT(parts.size(), 2u);
  int next = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_LE(static_cast<int64_t>(parts[i].size()), limit) << parts[i];
    const auto s = Parse(parts[i]);
    // Every part describes the whole failed batch, under one request id.
    EXPECT_EQ(s.fields().at("requestContext").struct_value().fields().at("requestId").string_value(),
              "req-1");
    const auto& batch = s.fields().at("KinesisBatchInfo").struct_value().fields();
    EXPECT_EQ(batch.at("batchSize").number_value(), 10);
    EXPECT_EQ(batch.at("endSequenceNumber").string_value(), "9");
    EXPECT_EQ(s.fields().at("part").struct_value().fields().at("index").number_value(),
              static_cast<double>(i));
    EXPECT_EQ(s.fields().at("part").struct_value().fields().at("count").number_value(),
              static_cast<double>(parts.size()));
    for (const auto& r : s.fields().at("records").list_value().values()) {
      EXPECT_EQ(r.struct_value().fields().at("sequenceNumber").string_value(),
                std::to_string(next++));
    }
  }
  EXPECT_EQ(next, 10);
}

TEST(FailureRecordTest, ARecordTooLargeForAnyPartIsWrittenWithoutItsData) {
  const std::vector<v1::Record> records = {
      testing::MakeRecord(1, "k", "small", absl::UnixEpoch()),
      testing::MakeRecord(2, "k", std::string(2000, 'x'), absl::UnixEpoch()),
      testing::MakeRecord(3, "k", "small", absl::UnixEpoch())};
  const std::vector<std::string> parts = FailureRecordParts(SomeInfo(), records, true, 1000);
  std::vector<std::string> seen;
  for (const std::string& p : parts) {
    EXPECT_LE(p.size(), 1000u);
    const google::protobuf::Struct parsed = Parse(p);
    for (const auto& r : parsed.fields().at("records").list_value().values()) {
      const auto& f = r.struct_value().fields();
      seen.push_back(f.at("sequenceNumber").string_value());
      if (f.at("sequenceNumber").string_value() == "2") {
        EXPECT_EQ(f.count("data"), 0u);
        EXPECT_TRUE(f.at("dataOmitted").bool_value());
      } else {
        EXPECT_EQ(f.at("data").string_value(), "c21hbGw=");
      }
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2", "3"}));
}

TEST(FailureRecordTest, WithoutIncludeRecordsThereIsOneRecordAsBefore) {
  const std::vector<v1::Record> records = {testing::MakeRecord(1, "k", "a", absl::UnixEpoch())};
  EXPECT_EQ(FailureRecordParts(SomeInfo(), records, false),
            std::vector<std::string>{FailureRecordJson(SomeInfo(), records)});
}

// A mapping on a table's change stream gets Lambda's DynamoDB on-failure record: its batch info
// is DDBStreamBatchInfo with the ids the DynamoDB Streams API shows (issue 18).
TEST(FailureRecordTest, ATableStreamsRecordIsDynamoDbsShape) {
  const absl::Time t0 = absl::FromUnixMillis(1'700'000'000'123);
  FailureInfo info = SomeInfo();
  info.stream_name = "_tables.42.20231114221320123";
  info.shard_id = "shardId-000000000003";
  info.stream_arn =
      "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2023-11-14T22:13:20.123";
  const std::vector<v1::Record> records = {testing::MakeRecord(7, "k", "a", t0),
                                           testing::MakeRecord(9, "k", "b", t0 + absl::Seconds(1))};
  const std::string json = FailureRecordJson(info, records);
  const auto s = Parse(json);
  EXPECT_EQ(s.fields().count("KinesisBatchInfo"), 0u);
  const auto& b = s.fields().at("DDBStreamBatchInfo").struct_value().fields();
  EXPECT_EQ(b.at("shardId").string_value(), "shardId-00000000000000000003-0000002a");
  EXPECT_EQ(b.at("startSequenceNumber").string_value(), "100000000000000000007");
  EXPECT_EQ(b.at("endSequenceNumber").string_value(), "100000000000000000009");
  EXPECT_EQ(b.at("approximateArrivalOfFirstRecord").string_value(), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(b.at("approximateArrivalOfLastRecord").string_value(), "2023-11-14T22:13:21.123Z");
  EXPECT_EQ(b.at("batchSize").number_value(), 2);
  EXPECT_EQ(b.at("streamArn").string_value(), info.stream_arn);
  EXPECT_EQ(b.size(), 7u);  // Lambda's seven keys, no streamName
  EXPECT_NE(json.find("\"DDBStreamBatchInfo\":{\"shardId\":\"shardId-00000000000000000003-0000002a\","
                      "\"startSequenceNumber\""),
            std::string::npos)
      << json;
  // A Kinesis-form ARN (what the tracker serves when the table stream was not found) is not
  // written.
  info.stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/_tables.42.20231114221320123";
  EXPECT_EQ(Parse(FailureRecordJson(info, records))
                .fields()
                .at("DDBStreamBatchInfo")
                .struct_value()
                .fields()
                .count("streamArn"),
            0u);
}

// The on-success record (issue 23): the same JSON with condition Success, the mapping's UUID and
// the invoke's duration; a table stream's is DynamoDB's shape as for failures.
TEST(FailureRecordTest, ASuccessRecordCarriesTheMappingAndTheInvokeDuration) {
  const absl::Time t0 = absl::FromUnixMillis(1'700'000'000'123);
  FailureInfo info = SomeInfo();
  info.condition = kSuccess;
  info.approximate_invoke_count = 1;
  info.response = InvokeResponseContext{200, ""};
  info.mapping_uuid = "8f0c1d2e-0000-4000-8000-000000000001";
  info.invoke_duration = absl::Microseconds(12345);
  const std::vector<v1::Record> records = {testing::MakeRecord(7, "k", "a", t0),
                                           testing::MakeRecord(9, "k", "b", t0)};
  const std::string json = FailureRecordJson(info, records);
  EXPECT_NE(json.find("\"condition\":\"Success\",\"approximateInvokeCount\":1,"
                      "\"functionEndpoint\":"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(",\"eventSourceMappingUuid\":\"8f0c1d2e-0000-4000-8000-000000000001\"}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"responseContext\":{\"statusCode\":200,\"executedVersion\":\"$LATEST\","
                      "\"invokeDurationMs\":12.345}"),
            std::string::npos)
      << json;
  info.stream_name = "_tables.42.20231114221320123";
  info.shard_id = "shardId-000000000003";
  const auto s = Parse(FailureRecordJson(info, records));
  const auto& b = s.fields().at("DDBStreamBatchInfo").struct_value().fields();
  EXPECT_EQ(b.at("startSequenceNumber").string_value(), "100000000000000000007");
  EXPECT_EQ(b.at("endSequenceNumber").string_value(), "100000000000000000009");
  EXPECT_EQ(b.at("batchSize").number_value(), 2);
}

TEST(FailureRecordTest, JsonQuoteEscapesControlCharacters) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\t\x1f"), "\"a\\\"b\\\\c\\n\\t\\u001f\"");
}

}  // namespace
}  // namespace tributary::poller
