#include "poller/invoke/lambda_event.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace tributary::poller {
namespace {

// AWS Lambda Developer Guide, "Using Lambda with Kinesis": the example Kinesis record event,
// with invokeIdentityArn naming Tributary's role (the guide's is the function's own role).
constexpr char kDocumentedEvent[] = R"({
    "Records": [
        {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": "1",
                "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
                "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
                "approximateArrivalTimestamp": 1545084650.987
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": "arn:aws:iam::123456789012:role/tributary",
            "awsRegion": "us-east-2",
            "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
        },
        {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": "1",
                "sequenceNumber": "49590338271490256608559692540925702759324208523137515618",
                "data": "VGhpcyBpcyBvbmx5IGEgdGVzdC4=",
                "approximateArrivalTimestamp": 1545084711.166
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": "shardId-000000000006:49590338271490256608559692540925702759324208523137515618",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": "arn:aws:iam::123456789012:role/tributary",
            "awsRegion": "us-east-2",
            "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
        }
    ]
})";

// The same guide, "Time windows": the example KinesisTimeWindowEvent (same substitution).
constexpr char kDocumentedWindowEvent[] = R"({
    "Records": [
        {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": "1",
                "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
                "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
                "approximateArrivalTimestamp": 1607497475.000
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": "arn:aws:iam::123456789012:role/tributary",
            "awsRegion": "us-east-1",
            "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream"
        }
    ],
    "window": {
        "start": "2020-12-09T07:04:00Z",
        "end": "2020-12-09T07:06:00Z"
    },
    "state": {
        "1": 282,
        "2": 715
    },
    "shardId": "shardId-000000000006",
    "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream",
    "isFinalInvokeForWindow": false,
    "isWindowTerminatedEarly": false
})";

void SetTime(int64_t seconds, int32_t nanos, google::protobuf::Timestamp* t) {
  t->set_seconds(seconds);
  t->set_nanos(nanos);
}

void AddRecord(v1::InvokeRequest* request, const std::string& key, const std::string& sequence,
               const std::string& data, int64_t seconds, int32_t nanos) {
  v1::Record* r = request->add_records();
  r->set_partition_key(key);
  r->set_sequence_number(sequence);
  r->set_data(data);
  SetTime(seconds, nanos, r->mutable_approximate_arrival_timestamp());
}

rapidjson::Document Parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

std::string Compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return buffer.GetString();
}

// Keys of `v` in order.
std::vector<std::string> Keys(const rapidjson::Value& v) {
  std::vector<std::string> keys;
  for (const auto& m : v.GetObject()) keys.push_back(m.name.GetString());
  return keys;
}

TEST(LambdaEventTest, EncodesTheDocumentedKinesisEventExactly) {
  v1::InvokeRequest request;
  request.set_stream_name("lambda-stream");
  request.set_shard_id("shardId-000000000006");
  AddRecord(&request, "1", "49590338271490256608559692538361571095921575989136588898",
            "Hello, this is a test.", 1545084650, 987000000);
  AddRecord(&request, "1", "49590338271490256608559692540925702759324208523137515618",
            "This is only a test.", 1545084711, 166400000);
  const LambdaAccount account{"us-east-2", "123456789012"};
  const std::string text = EncodeLambdaKinesisEvent(account, request);

  rapidjson::Document expected = Parse(kDocumentedEvent);
  rapidjson::Document actual = Parse(text);
  EXPECT_TRUE(actual == expected) << Compact(actual) << "\nexpected\n" << Compact(expected);
  // Keys in the guide's order, and only those: a plain event carries only Records.
  EXPECT_EQ(Keys(actual), std::vector<std::string>{"Records"});
  EXPECT_EQ(Keys(actual["Records"][0]), Keys(expected["Records"][0]));
  EXPECT_EQ(Keys(actual["Records"][0]["kinesis"]), Keys(expected["Records"][0]["kinesis"]));
  // The arrival time is always a number with a fraction (a float in every reader).
  EXPECT_NE(text.find("\"approximateArrivalTimestamp\":1545084650.987}"), std::string::npos);
  EXPECT_NE(text.find("\"approximateArrivalTimestamp\":1545084711.166}"), std::string::npos);
}

TEST(LambdaEventTest, EncodesTheDocumentedTimeWindowEventExactly) {
  v1::InvokeRequest request;
  request.set_stream_name("lambda-stream");
  request.set_shard_id("shardId-000000000006");
  AddRecord(&request, "1", "49590338271490256608559692538361571095921575989136588898",
            "Hello, this is a test.", 1607497475, 0);
  SetTime(1607497440, 0, request.mutable_window()->mutable_start());
  SetTime(1607497560, 0, request.mutable_window()->mutable_end());
  (*request.mutable_state()->mutable_values())["2"] = "715";
  (*request.mutable_state()->mutable_values())["1"] = "282";
  const std::string text =
      EncodeLambdaKinesisEvent(LambdaAccount{"us-east-1", "123456789012"}, request);

  rapidjson::Document expected = Parse(kDocumentedWindowEvent);
  rapidjson::Document actual = Parse(text);
  EXPECT_TRUE(actual == expected) << Compact(actual) << "\nexpected\n" << Compact(expected);
  EXPECT_EQ(Keys(actual), Keys(expected));
  EXPECT_TRUE(actual["state"]["1"].IsInt()) << "state values keep their JSON type";
  EXPECT_NE(text.find("\"approximateArrivalTimestamp\":1607497475.000}"), std::string::npos);
}

TEST(LambdaEventTest, TheFinalInvocationOfAWindowHasNoRecordsAndSaysSo) {
  v1::InvokeRequest request;
  request.set_stream_name("s");
  request.set_shard_id("shardId-000000000001");
  SetTime(60, 0, request.mutable_window()->mutable_start());
  SetTime(120, 0, request.mutable_window()->mutable_end());
  request.set_is_final_invoke_for_window(true);
  request.set_is_window_terminated_early(true);
  rapidjson::Document event = Parse(EncodeLambdaKinesisEvent({}, request));
  ASSERT_TRUE(event["Records"].IsArray());
  EXPECT_EQ(event["Records"].Size(), 0u);
  EXPECT_STREQ(event["window"]["start"].GetString(), "1970-01-01T00:01:00Z");
  EXPECT_STREQ(event["window"]["end"].GetString(), "1970-01-01T00:02:00Z");
  EXPECT_TRUE(event["state"].IsObject());
  EXPECT_EQ(event["state"].MemberCount(), 0u) << "a window starts with an empty state";
  EXPECT_TRUE(event["isFinalInvokeForWindow"].GetBool());
  EXPECT_TRUE(event["isWindowTerminatedEarly"].GetBool());
  EXPECT_STREQ(event["eventSourceARN"].GetString(),
               "arn:aws:kinesis:us-east-1:000000000000:stream/s");
}

TEST(LambdaEventTest, PartitionKeysAndDataOfAnyBytesStayValidJson) {
  v1::InvokeRequest request;
  request.set_stream_name("s");
  request.set_shard_id("shardId-000000000000");
  AddRecord(&request, "quote\" back\\ nl\n tab\t ctl\x01 \xc3\xa9t\xc3\xa9 bad\xff", "7",
            std::string("\x00\xff\x10", 3), 1, 5000000);
  rapidjson::Document event = Parse(EncodeLambdaKinesisEvent({}, request));
  const rapidjson::Value& kinesis = event["Records"][0]["kinesis"];
  EXPECT_EQ(std::string(kinesis["partitionKey"].GetString()),
            "quote\" back\\ nl\n tab\t ctl\x01 \xc3\xa9t\xc3\xa9 bad\xef\xbf\xbd");
  EXPECT_STREQ(kinesis["data"].GetString(), "AP8Q");
  EXPECT_DOUBLE_EQ(kinesis["approximateArrivalTimestamp"].GetDouble(), 1.005);
}

TEST(LambdaEventTest, StateValuesThatAreNotJsonAreSentAsStrings) {
  v1::InvokeRequest request;
  request.set_shard_id("shardId-000000000000");
  SetTime(0, 0, request.mutable_window()->mutable_start());
  SetTime(60, 0, request.mutable_window()->mutable_end());
  (*request.mutable_state()->mutable_values())["grpc"] = "not json";
  rapidjson::Document event = Parse(EncodeLambdaKinesisEvent({}, request));
  EXPECT_STREQ(event["state"]["grpc"].GetString(), "not json");
}

TEST(LambdaEventTest, DecodesTheDocumentedTimeWindowResponse) {
  const v1::InvokeResponse r = DecodeLambdaResponse(R"({
    "state": {"1": 282, "2": 715},
    "batchItemFailures": []
  })");
  EXPECT_TRUE(r.has_state());
  EXPECT_EQ(r.state().values().at("1"), "282");
  EXPECT_EQ(r.state().values().at("2"), "715");
  EXPECT_EQ(r.batch_item_failures_size(), 0);
  EXPECT_EQ(r.function_error(), "");
}

TEST(LambdaEventTest, DecodesBatchItemFailures) {
  const v1::InvokeResponse r = DecodeLambdaResponse(
      R"({"batchItemFailures":[{"itemIdentifier":"12"},{"itemIdentifier":"9"}]})");
  ASSERT_EQ(r.batch_item_failures_size(), 2);
  EXPECT_EQ(r.batch_item_failures(0).item_identifier(), "12");
  EXPECT_EQ(r.batch_item_failures(1).item_identifier(), "9");
  EXPECT_FALSE(r.has_state());
}

TEST(LambdaEventTest, StateValuesKeepTheirJsonTypesThroughARoundTrip) {
  const char kState[] =
      R"({"n":1,"f":1.5,"s":"x","b":true,"nul":null,"o":{"a":[1,"2",{"c":false}]},"big":12345678901234})";
  const v1::InvokeResponse reply =
      DecodeLambdaResponse(absl::StrCat(R"({"state":)", kState, "}"));
  v1::InvokeRequest next;
  next.set_shard_id("shardId-000000000000");
  SetTime(0, 0, next.mutable_window()->mutable_start());
  SetTime(60, 0, next.mutable_window()->mutable_end());
  *next.mutable_state() = reply.state();
  rapidjson::Document event = Parse(EncodeLambdaKinesisEvent({}, next));
  EXPECT_TRUE(event["state"] == Parse(kState)) << Compact(event["state"]);
}

TEST(LambdaEventTest, StateNumbersComeBackDigitForDigit) {
  const v1::InvokeResponse r = DecodeLambdaResponse(
      R"({"state":{"a":0.1,"b":123456789.12345679,"c":1e-07,"d":2.2250738585072014e-308,)"
      R"("e":-9223372036854775808,"f":18446744073709551615}})");
  EXPECT_EQ(r.state().values().at("a"), "0.1");
  EXPECT_EQ(r.state().values().at("b"), "123456789.12345679");
  EXPECT_EQ(r.state().values().at("c"), "1e-7");
  EXPECT_EQ(r.state().values().at("d"), "2.2250738585072014e-308");
  EXPECT_EQ(r.state().values().at("e"), "-9223372036854775808");
  EXPECT_EQ(r.state().values().at("f"), "18446744073709551615");
}

TEST(LambdaEventTest, RepliesWithoutFailuresAreCompleteSuccesses) {
  for (const char* body : {"", "  \n", "null", "{}", R"({"batchItemFailures":null})",
                           R"({"batchItemFailures":[]})", R"({"other":1})"}) {
    const v1::InvokeResponse r = DecodeLambdaResponse(body);
    EXPECT_EQ(r.batch_item_failures_size(), 0) << body;
    EXPECT_FALSE(r.has_state()) << body;
  }
}

TEST(LambdaEventTest, RepliesLambdaTakesAsCompleteFailuresNameNoRecord) {
  struct Case {
    const char* body;
    const char* identifier;
  };
  for (const Case& c : {
           Case{"not json", "<the reply is not JSON>"},
           Case{"\"done\"", "<the reply is not a JSON object>"},
           Case{"[1]", "<the reply is not a JSON object>"},
           Case{R"({"batchItemFailures":"12"})", "<batchItemFailures is not an array>"},
           Case{R"({"batchItemFailures":["12"]})", "<a batchItemFailures entry is not an object>"},
           Case{R"({"batchItemFailures":[{"itemIdentifier":null}]})",
                "<itemIdentifier is not a string>"},
           Case{R"({"batchItemFailures":[{"itemIdentifier":12}]})",
                "<itemIdentifier is not a string>"},
           Case{R"({"batchItemFailures":[{"itemIdentifer":"12"}]})",
                "<itemIdentifier is not a string>"},
           Case{R"({"batchItemFailures":[{"itemIdentifier":""}]})", ""},
       }) {
    const v1::InvokeResponse r = DecodeLambdaResponse(c.body);
    ASSERT_EQ(r.batch_item_failures_size(), 1) << c.body;
    EXPECT_EQ(r.batch_item_failures(0).item_identifier(), c.identifier) << c.body;
  }
}

TEST(LambdaEventTest, AStateThatIsNotAnObjectIsNoState) {
  for (const char* body : {R"({"state":null})", R"({"state":"x"})", R"({"state":[1]})"}) {
    EXPECT_FALSE(DecodeLambdaResponse(body).has_state()) << body;
  }
  EXPECT_TRUE(DecodeLambdaResponse(R"({"state":{}})").has_state());
}

}  // namespace
}  // namespace tributary::poller
