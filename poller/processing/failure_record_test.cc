#include "poller/processing/failure_record.h"

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
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
  info.function_endpoint = "127.0.0.1:5000";
  info.condition = kRetryAttemptsExhausted;
  info.approximate_invoke_count = 3;
  info.status_code = 0;
  info.function_error = "bad \"quote\" \\ and\nnewline\x01";
  info.timestamp = t0 + absl::Seconds(10);
  info.shard_id = "shardId-000000000001";
  info.stream_name = "orders";
  const std::vector<v1::Record> records = {testing::MakeRecord(7, "k", "a", t0),
                                           testing::MakeRecord(9, "k", "b", t0 + absl::Seconds(1))};
  const auto s = Parse(FailureRecordJson(info, records));
  const auto& rc = s.fields().at("requestContext").struct_value().fields();
  EXPECT_EQ(rc.at("requestId").string_value(), "req-1");
  EXPECT_EQ(rc.at("functionEndpoint").string_value(), "127.0.0.1:5000");
  EXPECT_EQ(rc.at("condition").string_value(), "RetryAttemptsExhausted");
  EXPECT_EQ(rc.at("approximateInvokeCount").number_value(), 3);
  const auto& resp = s.fields().at("responseContext").struct_value().fields();
  EXPECT_EQ(resp.at("statusCode").number_value(), 0);
  EXPECT_EQ(resp.at("functionError").string_value(), info.function_error);
  EXPECT_EQ(s.fields().at("version").string_value(), "1.0");
  EXPECT_EQ(s.fields().at("timestamp").string_value(), "2023-11-14T22:13:30.123Z");
  const auto& kb = s.fields().at("KinesisBatchInfo").struct_value().fields();
  EXPECT_EQ(kb.at("shardId").string_value(), "shardId-000000000001");
  EXPECT_EQ(kb.at("startSequenceNumber").string_value(), "7");
  EXPECT_EQ(kb.at("endSequenceNumber").string_value(), "9");
  EXPECT_EQ(kb.at("approximateArrivalOfFirstRecord").string_value(), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(kb.at("approximateArrivalOfLastRecord").string_value(), "2023-11-14T22:13:21.123Z");
  EXPECT_EQ(kb.at("batchSize").number_value(), 2);
  EXPECT_EQ(kb.at("streamName").string_value(), "orders");
  EXPECT_EQ(s.fields().size(), 5u);
}

TEST(FailureRecordTest, JsonQuoteEscapesControlCharacters) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\t\x1f"), "\"a\\\"b\\\\c\\n\\t\\u001f\"");
}

}  // namespace
}  // namespace tributary::poller
