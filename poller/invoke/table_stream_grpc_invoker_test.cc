#include "poller/invoke/table_stream_grpc_invoker.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tables/attribute_value.h"
#include "tables/change_record.h"

namespace tributary::poller {
namespace {

using tables::AttributeValue;

// Records what it was called with; answers `reply`.
class RecordingInvoker : public FunctionInvoker {
 public:
  absl::StatusOr<v1::InvokeResponse> Invoke(const std::string& endpoint,
                                            const v1::InvokeRequest& request,
                                            absl::Duration) override {
    endpoints.push_back(endpoint);
    requests.push_back(request);
    return reply;
  }
  absl::StatusOr<v1::InvokeResponse> reply = v1::InvokeResponse();
  std::vector<std::string> endpoints;
  std::vector<v1::InvokeRequest> requests;
};

class OneTableStream : public TableStreamSources {
 public:
  absl::StatusOr<TableStreamSource> Find(const std::string& stream_name) override {
    if (stream_name != "_tables.42.20231114221320123") return absl::NotFoundError("no stream");
    return TableStreamSource{"orders", "2023-11-14T22:13:20.123", 42};
  }
};

v1::InvokeRequest TableStreamRequest(const std::string& stream_name) {
  v1::InvokeRequest request;
  request.set_stream_name(stream_name);
  request.set_shard_id("shardId-000000000001");
  std::optional<tables::ChangeRecord> change = tables::MakeChangeRecord(
      tables::StreamViewType::kNewImage, {{"id", AttributeValue::S("o-1")}}, std::nullopt,
      tables::AttributeMap{{"id", AttributeValue::S("o-1")}}, absl::FromUnixSeconds(1700000000));
  v1::Record* r = request.add_records();
  r->set_sequence_number("5");
  r->set_data(tables::EncodeChangeRecord(*change));
  return request;
}

class TableStreamGrpcInvokerTest : public ::testing::Test {
 protected:
  RecordingInvoker grpc_;
  OneTableStream tables_;
  TableStreamGrpcInvoker invoker_{grpc_, LambdaAccount{"eu-west-1", "123456789012"}, &tables_};
};

TEST_F(TableStreamGrpcInvokerTest, ATableStreamsRecordsReachTheFunctionAsDynamoDbRecords) {
  ASSERT_TRUE(invoker_
                  .Invoke("127.0.0.1:9000", TableStreamRequest("_tables.42.20231114221320123"),
                          absl::Seconds(3))
                  .ok());
  ASSERT_EQ(grpc_.requests.size(), 1u);
  const v1::InvokeRequest& sent = grpc_.requests[0];
  EXPECT_EQ(grpc_.endpoints[0], "127.0.0.1:9000");
  EXPECT_EQ(sent.records_size(), 0);
  EXPECT_EQ(sent.shard_id(), "shardId-00000000000000000001-0000002a");
  ASSERT_EQ(sent.dynamodb_records_size(), 1);
  EXPECT_EQ(sent.dynamodb_records(0).event_name(), "INSERT");
  EXPECT_EQ(sent.dynamodb_records(0).event_source_arn(),
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2023-11-14T22:13:20.123");
  EXPECT_EQ(sent.dynamodb_records(0).dynamodb().new_image().at("id").s(), "o-1");
}

TEST_F(TableStreamGrpcInvokerTest, TheReplysDynamoDbSequenceNumbersBecomeTheStores) {
  v1::InvokeResponse reply;
  reply.add_batch_item_failures()->set_item_identifier("100000000000000000005");
  grpc_.reply = reply;
  auto response = invoker_.Invoke(
      "f:1", TableStreamRequest("_tables.42.20231114221320123"), absl::Seconds(3));
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->batch_item_failures_size(), 1);
  EXPECT_EQ(response->batch_item_failures(0).item_identifier(), "5");
}

TEST_F(TableStreamGrpcInvokerTest, OtherStreamsPassUnchanged) {
  v1::InvokeRequest request;
  request.set_stream_name("orders");
  request.set_shard_id("shardId-000000000001");
  request.add_records()->set_data("raw");
  v1::InvokeResponse reply;
  reply.add_batch_item_failures()->set_item_identifier("100000000000000000005");
  grpc_.reply = reply;
  auto response = invoker_.Invoke("f:1", request, absl::Seconds(3));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->batch_item_failures(0).item_identifier(), "100000000000000000005");
  ASSERT_EQ(grpc_.requests.size(), 1u);
  EXPECT_EQ(grpc_.requests[0].records(0).data(), "raw");
  EXPECT_EQ(grpc_.requests[0].dynamodb_records_size(), 0);
}

TEST_F(TableStreamGrpcInvokerTest, AGoneTableStreamIsTheCallsStatusAndNothingIsInvoked) {
  auto response =
      invoker_.Invoke("f:1", TableStreamRequest("_tables.9.20231114221320123"), absl::Seconds(3));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(response.status().message().find("is gone"), std::string::npos);
  EXPECT_TRUE(grpc_.requests.empty());
}

TEST_F(TableStreamGrpcInvokerTest, WithoutTablesATableStreamIsFailedPrecondition) {
  TableStreamGrpcInvoker blind(grpc_, LambdaAccount{}, nullptr);
  auto response =
      blind.Invoke("f:1", TableStreamRequest("_tables.42.20231114221320123"), absl::Seconds(3));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(grpc_.requests.empty());
}

TEST_F(TableStreamGrpcInvokerTest, AFunctionErrorStatusIsPassedOn) {
  grpc_.reply = absl::UnavailableError("down");
  auto response = invoker_.Invoke(
      "f:1", TableStreamRequest("_tables.42.20231114221320123"), absl::Seconds(3));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tributary::poller
