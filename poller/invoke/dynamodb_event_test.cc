#include "poller/invoke/dynamodb_event.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/proto_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tables/attribute_value.h"
#include "tables/attribute_value_proto.h"
#include "tables/change_record.h"

namespace tributary::poller {
namespace {

using tables::AttributeMap;
using tables::AttributeValue;
using tables::ChangeRecord;
using tables::StreamViewType;

// The shape of AWS Lambda Developer Guide's DynamoDB example event (a MODIFY of item Id 101 of a
// NEW_AND_OLD_IMAGES stream), with this Tributary's ids: table 42, shard 3, store sequence
// number 7, account 123456789012.
constexpr char kExpectedModify[] = R"({
  "Records": [
    {
      "eventID": "0000002a000000030000000000000007",
      "eventName": "MODIFY",
      "eventVersion": "1.1",
      "eventSource": "aws:dynamodb",
      "awsRegion": "us-west-2",
      "dynamodb": {
        "ApproximateCreationDateTime": 1479499740,
        "Keys": {"Id": {"N": "101"}},
        "NewImage": {"Id": {"N": "101"}, "Message": {"S": "This item has changed"}},
        "OldImage": {"Id": {"N": "101"}, "Message": {"S": "New item!"}},
        "SequenceNumber": "100000000000000000007",
        "SizeBytes": 59,
        "StreamViewType": "NEW_AND_OLD_IMAGES"
      },
      "eventSourceARN": "arn:aws:dynamodb:us-west-2:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899"
    }
  ]
})";

std::string Canonical(absl::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  EXPECT_FALSE(doc.HasParseError()) << json;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  return buffer.GetString();
}

LambdaAccount Account() { return {"us-west-2", "123456789012"}; }
TableStreamSource Source() { return {"ExampleTableWithStream", "2015-06-27T00:48:05.899", 42}; }

AttributeMap Message(const std::string& text) {
  return {{"Id", AttributeValue::N("101")}, {"Message", AttributeValue::S(text)}};
}

v1::InvokeRequest Request(const std::vector<ChangeRecord>& changes) {
  v1::InvokeRequest request;
  request.set_stream_name("_tables.42.20150627004805899");
  request.set_shard_id("shardId-000000000003");
  int seq = 7;
  for (const ChangeRecord& change : changes) {
    v1::Record* r = request.add_records();
    r->set_sequence_number(std::to_string(seq++));
    r->set_partition_key("k313031");
    r->set_data(tables::EncodeChangeRecord(change));
  }
  return request;
}

ChangeRecord Change(StreamViewType view, std::optional<AttributeMap> old_item,
                    std::optional<AttributeMap> new_item) {
  std::optional<ChangeRecord> change =
      tables::MakeChangeRecord(view, {{"Id", AttributeValue::N("101")}}, old_item, new_item,
                               absl::FromUnixSeconds(1479499740) + absl::Milliseconds(250));
  EXPECT_TRUE(change.has_value());
  return *change;
}

TEST(DynamoDbEventTest, AModifyIsLambdasDocumentedEventWithOurIds) {
  auto event = EncodeLambdaDynamoDbEvent(
      Account(), Source(),
      Request({Change(StreamViewType::kNewAndOldImages, Message("New item!"),
                      Message("This item has changed"))}));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(Canonical(*event), Canonical(kExpectedModify));
}

TEST(DynamoDbEventTest, ImagesFollowTheViewTypeAndTheEvent) {
  const AttributeMap item = Message("x");
  auto images = [&](StreamViewType view, std::optional<AttributeMap> o,
                    std::optional<AttributeMap> n) {
    auto event = EncodeLambdaDynamoDbEvent(Account(), Source(), Request({Change(view, o, n)}));
    EXPECT_TRUE(event.ok()) << event.status();
    rapidjson::Document doc;
    doc.Parse(event->c_str());
    const rapidjson::Value& db = doc["Records"][0]["dynamodb"];
    return std::string(doc["Records"][0]["eventName"].GetString()) +
           (db.HasMember("OldImage") ? " old" : "") + (db.HasMember("NewImage") ? " new" : "");
  };
  EXPECT_EQ(images(StreamViewType::kNewAndOldImages, std::nullopt, item), "INSERT new");
  EXPECT_EQ(images(StreamViewType::kNewAndOldImages, item, std::nullopt), "REMOVE old");
  EXPECT_EQ(images(StreamViewType::kKeysOnly, item, Message("y")), "MODIFY");
  EXPECT_EQ(images(StreamViewType::kNewImage, item, Message("y")), "MODIFY new");
  EXPECT_EQ(images(StreamViewType::kOldImage, item, Message("y")), "MODIFY old");
}

TEST(DynamoDbEventTest, EveryAttributeTypeIsDynamoDbJson) {
  AttributeMap item = {
      {"Id", AttributeValue::N("101")},
      {"b", AttributeValue::B(std::string("\0\xff", 2))},
      {"bs", AttributeValue::BS({"a", "b"})},
      {"l", AttributeValue::L({AttributeValue::Bool(false), AttributeValue::Null()})},
      {"m", AttributeValue::M({{"q\"uote", AttributeValue::S("line\nbreak")}})},
      {"ns", AttributeValue::NS({"1", "2.5"})},
      {"ss", AttributeValue::SS({"x"})},
      {"t", AttributeValue::Bool(true)},
  };
  auto event = EncodeLambdaDynamoDbEvent(
      Account(), Source(), Request({Change(StreamViewType::kNewImage, std::nullopt, item)}));
  ASSERT_TRUE(event.ok()) << event.status();
  rapidjson::Document doc;
  doc.Parse(event->c_str());
  ASSERT_FALSE(doc.HasParseError());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc["Records"][0]["dynamodb"]["NewImage"].Accept(writer);
  EXPECT_EQ(std::string(buffer.GetString()),
            Canonical(R"({"Id":{"N":"101"},"b":{"B":"AP8="},"bs":{"BS":["YQ==","Yg=="]},
                          "l":{"L":[{"BOOL":false},{"NULL":true}]},
                          "m":{"M":{"q\"uote":{"S":"line\nbreak"}}},"ns":{"NS":["1","2.5"]},
                          "ss":{"SS":["x"]},"t":{"BOOL":true}})"));
}

TEST(DynamoDbEventTest, ATumblingWindowEventCarriesTheDynamoDbShardIdAndArn) {
  v1::InvokeRequest request =
      Request({Change(StreamViewType::kKeysOnly, std::nullopt, Message("x"))});
  request.mutable_window()->mutable_start()->set_seconds(1607497440);
  request.mutable_window()->mutable_end()->set_seconds(1607497560);
  (*request.mutable_state()->mutable_values())["1"] = "282";
  request.set_is_final_invoke_for_window(true);
  auto event = EncodeLambdaDynamoDbEvent(Account(), Source(), request);
  ASSERT_TRUE(event.ok()) << event.status();
  rapidjson::Document doc;
  doc.Parse(event->c_str());
  ASSERT_FALSE(doc.HasParseError()) << *event;
  EXPECT_STREQ(doc["shardId"].GetString(), "shardId-00000000000000000003-0000002a");
  EXPECT_STREQ(doc["eventSourceARN"].GetString(), DynamoDbStreamArn(Account(), Source()).c_str());
  EXPECT_STREQ(doc["window"]["start"].GetString(), "2020-12-09T07:04:00Z");
  EXPECT_EQ(doc["state"]["1"].GetInt(), 282);
  EXPECT_TRUE(doc["isFinalInvokeForWindow"].GetBool());
}

TEST(DynamoDbEventTest, ARecordThatIsNotAChangeRecordIsDataLoss) {
  v1::InvokeRequest request = Request({});
  request.add_records()->set_data("not a change record");
  EXPECT_EQ(EncodeLambdaDynamoDbEvent(Account(), Source(), request).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(DynamoDbEventTest, ReportedSequenceNumbersBecomeTheStoresAndOthersStayAsTheyAre) {
  v1::InvokeResponse response = DecodeLambdaDynamoDbResponse(
      R"({"batchItemFailures":[{"itemIdentifier":"100000000000000000007"},
                               {"itemIdentifier":"bogus"}]})");
  ASSERT_EQ(response.batch_item_failures_size(), 2);
  EXPECT_EQ(response.batch_item_failures(0).item_identifier(), "7");
  EXPECT_EQ(response.batch_item_failures(1).item_identifier(), "bogus");
  EXPECT_EQ(DecodeLambdaDynamoDbResponse("").batch_item_failures_size(), 0);
}

// The gRPC form (DynamoDbInvokeRequest): the same fields as the JSON event, typed.

std::string Images(const v1::DynamoDbStreamRecord& r) {
  return r.event_name() + (r.dynamodb().old_image().empty() ? "" : " old") +
         (r.dynamodb().new_image().empty() ? "" : " new");
}

v1::DynamoDbStreamRecord GrpcRecord(const ChangeRecord& change) {
  auto request = DynamoDbInvokeRequest(Account(), Source(), Request({change}));
  EXPECT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->records_size(), 0) << "the store's records are not sent";
  EXPECT_EQ(request->dynamodb_records_size(), 1);
  return request->dynamodb_records_size() == 1 ? request->dynamodb_records(0)
                                               : v1::DynamoDbStreamRecord();
}

TEST(DynamoDbGrpcRecordTest, AModifyHasEveryFieldOfLambdasEvent) {
  const v1::DynamoDbStreamRecord r = GrpcRecord(Change(
      StreamViewType::kNewAndOldImages, Message("New item!"), Message("This item has changed")));
  EXPECT_EQ(r.event_id(), "0000002a000000030000000000000007");
  EXPECT_EQ(r.event_name(), "MODIFY");
  EXPECT_EQ(r.event_version(), "1.1");
  EXPECT_EQ(r.event_source(), "aws:dynamodb");
  EXPECT_EQ(r.aws_region(), "us-west-2");
  EXPECT_EQ(r.event_source_arn(),
            "arn:aws:dynamodb:us-west-2:123456789012:table/ExampleTableWithStream/stream/"
            "2015-06-27T00:48:05.899");
  const v1::StreamRecord& db = r.dynamodb();
  EXPECT_EQ(db.approximate_creation_date_time().seconds(), 1479499740);
  EXPECT_EQ(db.approximate_creation_date_time().nanos(), 0) << "whole seconds, as the JSON";
  ASSERT_EQ(db.keys().size(), 1u);
  EXPECT_EQ(db.keys().at("Id").n(), "101");
  EXPECT_EQ(db.new_image().at("Message").s(), "This item has changed");
  EXPECT_EQ(db.old_image().at("Message").s(), "New item!");
  EXPECT_EQ(db.sequence_number(), "100000000000000000007");
  EXPECT_EQ(db.size_bytes(), 59);
  EXPECT_EQ(db.stream_view_type(), v1::VIEW_NEW_AND_OLD_IMAGES);
}

TEST(DynamoDbGrpcRecordTest, ImagesFollowTheViewTypeAndTheEvent) {
  const AttributeMap item = Message("x");
  const auto images = [&](StreamViewType view, std::optional<AttributeMap> o,
                          std::optional<AttributeMap> n) { return Images(GrpcRecord(Change(view, o, n))); };
  EXPECT_EQ(images(StreamViewType::kNewAndOldImages, std::nullopt, item), "INSERT new");
  EXPECT_EQ(images(StreamViewType::kNewAndOldImages, item, Message("y")), "MODIFY old new");
  EXPECT_EQ(images(StreamViewType::kNewAndOldImages, item, std::nullopt), "REMOVE old");
  EXPECT_EQ(images(StreamViewType::kKeysOnly, std::nullopt, item), "INSERT");
  EXPECT_EQ(images(StreamViewType::kKeysOnly, item, Message("y")), "MODIFY");
  EXPECT_EQ(images(StreamViewType::kKeysOnly, item, std::nullopt), "REMOVE");
  EXPECT_EQ(images(StreamViewType::kNewImage, std::nullopt, item), "INSERT new");
  EXPECT_EQ(images(StreamViewType::kNewImage, item, Message("y")), "MODIFY new");
  EXPECT_EQ(images(StreamViewType::kNewImage, item, std::nullopt), "REMOVE");
  EXPECT_EQ(images(StreamViewType::kOldImage, std::nullopt, item), "INSERT");
  EXPECT_EQ(images(StreamViewType::kOldImage, item, Message("y")), "MODIFY old");
  EXPECT_EQ(images(StreamViewType::kOldImage, item, std::nullopt), "REMOVE old");
  EXPECT_EQ(GrpcRecord(Change(StreamViewType::kKeysOnly, item, std::nullopt))
                .dynamodb()
                .stream_view_type(),
            v1::VIEW_KEYS_ONLY);
  EXPECT_EQ(GrpcRecord(Change(StreamViewType::kOldImage, item, std::nullopt))
                .dynamodb()
                .stream_view_type(),
            v1::VIEW_OLD_IMAGE);
}

TEST(DynamoDbGrpcRecordTest, ARemoveCarriesTheKeysAndTheOldImage) {
  const v1::DynamoDbStreamRecord r =
      GrpcRecord(Change(StreamViewType::kNewAndOldImages, Message("gone"), std::nullopt));
  EXPECT_EQ(r.event_name(), "REMOVE");
  EXPECT_EQ(r.dynamodb().keys().at("Id").n(), "101");
  EXPECT_TRUE(r.dynamodb().new_image().empty());
  EXPECT_EQ(r.dynamodb().old_image().at("Message").s(), "gone");
}

TEST(DynamoDbGrpcRecordTest, EveryAttributeTypeKeepsItsTypeAndValue) {
  AttributeMap item = {
      {"Id", AttributeValue::N("101")},
      {"b", AttributeValue::B(std::string("\0\xff", 2))},
      {"bs", AttributeValue::BS({std::string("\0", 1), "b"})},
      {"l", AttributeValue::L({AttributeValue::Bool(false), AttributeValue::Null()})},
      {"m", AttributeValue::M({{"q\"uote", AttributeValue::S("line\nbreak")}})},
      {"n", AttributeValue::N("-12345678901234567890.123456789012345678")},
      {"ns", AttributeValue::NS({"1", "2.5"})},
      {"ss", AttributeValue::SS({"x"})},
      {"t", AttributeValue::Bool(true)},
  };
  const auto image =
      GrpcRecord(Change(StreamViewType::kNewImage, std::nullopt, item)).dynamodb().new_image();
  ASSERT_EQ(image.size(), item.size());
  EXPECT_EQ(image.at("b").b(), std::string("\0\xff", 2)) << "bytes, not base64";
  ASSERT_EQ(image.at("bs").bs().values_size(), 2);
  EXPECT_EQ(image.at("bs").bs().values(0), std::string("\0", 1));
  EXPECT_EQ(image.at("n").n(), "-12345678901234567890.123456789012345678");
  EXPECT_EQ(image.at("Id").n(), "101");
  ASSERT_EQ(image.at("ns").ns().values_size(), 2);
  EXPECT_EQ(image.at("ns").ns().values(1), "2.5");
  EXPECT_FALSE(image.at("l").l().values(0).bool_());
  EXPECT_TRUE(image.at("l").l().values(1).null());
  EXPECT_EQ(image.at("m").m().attributes().at("q\"uote").s(), "line\nbreak");
  EXPECT_EQ(image.at("ss").ss().values(0), "x");
  EXPECT_TRUE(image.at("t").bool_());
  // Every value back in the item model is the item written.
  auto back = tables::FromProto(image);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(tables::ItemsEqual(*back, item));
}

TEST(DynamoDbGrpcRecordTest, TheRequestKeepsItsWindowAndNamesTheDynamoDbShard) {
  v1::InvokeRequest request =
      Request({Change(StreamViewType::kKeysOnly, std::nullopt, Message("x")),
               Change(StreamViewType::kKeysOnly, Message("x"), Message("y"))});
  request.set_event_source_mapping_uuid("m-1");
  request.mutable_window()->mutable_start()->set_seconds(1607497440);
  request.mutable_window()->mutable_end()->set_seconds(1607497560);
  (*request.mutable_state()->mutable_values())["1"] = "282";
  request.set_is_window_terminated_early(true);
  auto grpc = DynamoDbInvokeRequest(Account(), Source(), request);
  ASSERT_TRUE(grpc.ok()) << grpc.status();
  EXPECT_EQ(grpc->event_source_mapping_uuid(), "m-1");
  EXPECT_EQ(grpc->stream_name(), "_tables.42.20150627004805899");
  EXPECT_EQ(grpc->shard_id(), "shardId-00000000000000000003-0000002a");
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(grpc->window(), request.window()));
  EXPECT_EQ(grpc->state().values().at("1"), "282");
  EXPECT_TRUE(grpc->is_window_terminated_early());
  EXPECT_FALSE(grpc->is_final_invoke_for_window());
  EXPECT_EQ(grpc->records_size(), 0);
  ASSERT_EQ(grpc->dynamodb_records_size(), 2);
  EXPECT_EQ(grpc->dynamodb_records(0).dynamodb().sequence_number(), "100000000000000000007");
  EXPECT_EQ(grpc->dynamodb_records(1).dynamodb().sequence_number(), "100000000000000000008");
  EXPECT_EQ(grpc->dynamodb_records(1).event_name(), "MODIFY");
}

TEST(DynamoDbGrpcRecordTest, ARecordThatIsNotAChangeRecordIsDataLoss) {
  v1::InvokeRequest request = Request({});
  request.add_records()->set_data("not a change record");
  EXPECT_EQ(DynamoDbInvokeRequest(Account(), Source(), request).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(DynamoDbGrpcRecordTest, ReportedSequenceNumbersBecomeTheStores) {
  v1::InvokeResponse response;
  response.add_batch_item_failures()->set_item_identifier("100000000000000000008");
  response.add_batch_item_failures()->set_item_identifier("8");
  ToStoreItemIdentifiers(&response);
  EXPECT_EQ(response.batch_item_failures(0).item_identifier(), "8");
  EXPECT_EQ(response.batch_item_failures(1).item_identifier(), "8") << "the store's stays";
}

}  // namespace
}  // namespace tributary::poller
