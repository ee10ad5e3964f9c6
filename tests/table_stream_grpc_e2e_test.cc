// End-to-end: a gRPC function on a table's change stream (issue 18) gets DynamoDB Streams records
// in its InvokeRequest (`dynamodb_records`), on real binaries (shard_store_server serving Tables,
// leasing, stream_tracker, one poller as processes) with the function in this process.
//
// Items of a NEW_AND_OLD_IMAGES table are inserted, modified and removed through
// tributary.v1.Tables; a mapping made over gRPC on the table's store stream delivers them. The
// function sees every field of Lambda's DynamoDB record, typed (eventID, eventName,
// eventVersion, eventSource, awsRegion, eventSourceARN = the table's LatestStreamArn, Keys,
// images, SequenceNumber in DynamoDB's form, SizeBytes, StreamViewType), each item's changes in
// write order, no store records; and a partial batch response naming a record by its DynamoDB
// SequenceNumber is retried from that record. Bounded: every wait is a failure guard of at most
// a minute.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/testing/assertions.h"
#include "gtest/gtest.h"
#include "proto/function.grpc.pb.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tables/tables_client.h"
#include "tests/cluster.h"

namespace tributary::e2e {
namespace {

constexpr char kTable[] = "orders";
constexpr char kRegion[] = "eu-west-1";

// Records every InvokeRequest; reports the first record whose item is "o-fail" as failed, once.
class DynamoDbFunction final : public v1::Function::Service {
 public:
  grpc::Status Invoke(grpc::ServerContext*, const v1::InvokeRequest* request,
                      v1::InvokeResponse* response) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(*request);
    for (const v1::DynamoDbStreamRecord& r : request->dynamodb_records()) {
      if (!failed_once_ && r.dynamodb().keys().at("id").s() == "o-fail") {
        failed_once_ = true;
        failed_sequence_number_ = r.dynamodb().sequence_number();
        failed_shard_id_ = request->shard_id();
        response->add_batch_item_failures()->set_item_identifier(failed_sequence_number_);
        break;
      }
    }
    return grpc::Status::OK;
  }

  std::vector<v1::InvokeRequest> Requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::string FailedSequenceNumber() const {
    absl::MutexLock lock(&mu_);
    return failed_sequence_number_;
  }
  // Sequence numbers are per shard: the reported record is this shard's.
  std::string FailedShardId() const {
    absl::MutexLock lock(&mu_);
    return failed_shard_id_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<v1::InvokeRequest> requests_ ABSL_GUARDED_BY(mu_);
  bool failed_once_ ABSL_GUARDED_BY(mu_) = false;
  std::string failed_sequence_number_ ABSL_GUARDED_BY(mu_);
  std::string failed_shard_id_ ABSL_GUARDED_BY(mu_);
};

v1::AttributeValue S(const std::string& s) {
  v1::AttributeValue v;
  v.set_s(s);
  return v;
}

v1::AttributeValue N(const std::string& n) {
  v1::AttributeValue v;
  v.set_n(n);
  return v;
}

v1::AttributeValue B(const std::string& b) {
  v1::AttributeValue v;
  v.set_b(b);
  return v;
}

class TableStreamGrpcEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.pollers = 1;
    options.extra_flags = [](const std::string& name) {
      std::vector<std::string> flags;
      if (absl::StartsWith(name, "poller") || absl::StartsWith(name, "shard_store")) {
        flags.push_back(absl::StrCat("--aws_region=", kRegion));
      }
      return flags;
    };
    cluster_ = std::make_unique<Cluster>(options);
    absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << "cluster did not start: " << started;
    auto server = GrpcServer::Start("127.0.0.1:0", {&function_});
    ASSERT_TRUE(server.ok()) << server.status();
    function_server_ = *std::move(server);
    tracker_ = std::make_unique<stream_tracker::StreamTrackerClient>(
        MakeChannel(cluster_->stream_tracker_address()));
    tables_ = std::make_unique<tables::TablesClient>(MakeChannel(cluster_->shard_store_address()));

    v1::CreateTableRequest create;
    create.set_table_name(kTable);
    create.mutable_partition_key()->set_attribute_name("id");
    create.mutable_partition_key()->set_attribute_type("S");
    create.set_billing_mode(v1::BILLING_PAY_PER_REQUEST);
    create.mutable_stream_specification()->set_stream_enabled(true);
    create.mutable_stream_specification()->set_stream_view_type(v1::VIEW_NEW_AND_OLD_IMAGES);
    auto table = tables_->CreateTable(create);
    ASSERT_TRUE(table.ok()) << table.status();
    table_ = *table;
  }

  void Put(std::map<std::string, v1::AttributeValue> item) {
    v1::PutItemRequest put;
    put.set_table_name(kTable);
    put.mutable_item()->insert(item.begin(), item.end());
    auto done = tables_->PutItem(put);
    ASSERT_TRUE(done.ok()) << done.status();
  }

  void Delete(const std::string& id) {
    v1::DeleteItemRequest del;
    del.set_table_name(kTable);
    (*del.mutable_key())["id"] = S(id);
    auto done = tables_->DeleteItem(del);
    ASSERT_TRUE(done.ok()) << done.status();
  }

  // Every record the function got, in arrival order.
  std::vector<v1::DynamoDbStreamRecord> Delivered() const {
    std::vector<v1::DynamoDbStreamRecord> out;
    for (const v1::InvokeRequest& request : function_.Requests()) {
      for (const auto& r : request.dynamodb_records()) out.push_back(r);
    }
    return out;
  }

  std::unique_ptr<Cluster> cluster_;
  DynamoDbFunction function_;
  std::unique_ptr<GrpcServer> function_server_;
  std::unique_ptr<stream_tracker::StreamTrackerClient> tracker_;
  std::unique_ptr<tables::TablesClient> tables_;
  v1::TableDescription table_;
};

TEST_F(TableStreamGrpcEndToEndTest, TheFunctionGetsDynamoDbRecordsAndReportsFailuresBySequenceNumber) {
  Put({{"id", S("o-1")}, {"total", N("12.50")}, {"blob", B(std::string("\0\xff", 2))}});
  Put({{"id", S("o-1")}, {"total", N("13")}, {"blob", B(std::string("\0\xff", 2))}});
  Delete("o-1");
  Put({{"id", S("o-fail")}, {"n", N("1")}});
  Put({{"id", S("o-fail")}, {"n", N("2")}});

  v1::CreateEventSourceMappingRequest mapping;
  mapping.set_stream_name(table_.latest_stream_name());
  mapping.set_function_endpoint(function_server_->address());
  mapping.set_starting_position(v1::TRIM_HORIZON_POSITION);
  mapping.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  auto created = tracker_->CreateEventSourceMapping(mapping);
  ASSERT_TRUE(created.ok()) << created.status();

  // o-1's three changes once each; o-fail's first change twice (reported, then retried from it).
  const auto done = [&] {
    int o1 = 0, fail_inserts = 0, fail_modifies = 0;
    for (const auto& r : Delivered()) {
      const std::string id = r.dynamodb().keys().at("id").s();
      o1 += id == "o-1";
      fail_inserts += id == "o-fail" && r.event_name() == "INSERT";
      fail_modifies += id == "o-fail" && r.event_name() == "MODIFY";
    }
    return o1 >= 3 && fail_inserts >= 2 && fail_modifies >= 1;
  };
  ASSERT_TRUE(testing::IsOk(PollFor(absl::Seconds(60), absl::Milliseconds(50),
                                    "every change delivered", done, [&] {
                                      return absl::StrCat(Delivered().size(),
                                                          " records delivered");
                                    })));

  for (const v1::InvokeRequest& request : function_.Requests()) {
    EXPECT_EQ(request.records_size(), 0) << "no store records for a table stream";
    EXPECT_EQ(request.stream_name(), table_.latest_stream_name());
    EXPECT_TRUE(absl::StartsWith(request.shard_id(), "shardId-")) << request.shard_id();
    EXPECT_EQ(request.shard_id().size(), 37u) << "DynamoDB's shard id: " << request.shard_id();
  }
  std::vector<v1::DynamoDbStreamRecord> o1;
  for (const auto& r : Delivered()) {
    EXPECT_EQ(r.event_version(), "1.1");
    EXPECT_EQ(r.event_source(), "aws:dynamodb");
    EXPECT_EQ(r.aws_region(), kRegion);
    EXPECT_EQ(r.event_source_arn(), table_.latest_stream_arn());
    EXPECT_EQ(r.event_id().size(), 32u) << r.event_id();
    EXPECT_EQ(r.dynamodb().sequence_number().size(), 21u) << r.dynamodb().sequence_number();
    EXPECT_EQ(r.dynamodb().stream_view_type(), v1::VIEW_NEW_AND_OLD_IMAGES);
    EXPECT_GT(r.dynamodb().size_bytes(), 0);
    EXPECT_GT(r.dynamodb().approximate_creation_date_time().seconds(), 1600000000);
    if (r.dynamodb().keys().at("id").s() == "o-1") o1.push_back(r);
  }
  ASSERT_EQ(o1.size(), 3u);
  EXPECT_EQ(o1[0].event_name(), "INSERT");
  EXPECT_TRUE(o1[0].dynamodb().old_image().empty());
  EXPECT_EQ(o1[0].dynamodb().new_image().at("total").n(), "12.5") << "canonical";
  EXPECT_EQ(o1[0].dynamodb().new_image().at("blob").b(), std::string("\0\xff", 2));
  EXPECT_EQ(o1[1].event_name(), "MODIFY");
  EXPECT_EQ(o1[1].dynamodb().old_image().at("total").n(), "12.5");
  EXPECT_EQ(o1[1].dynamodb().new_image().at("total").n(), "13");
  EXPECT_EQ(o1[2].event_name(), "REMOVE");
  EXPECT_TRUE(o1[2].dynamodb().new_image().empty());
  EXPECT_EQ(o1[2].dynamodb().old_image().at("total").n(), "13");
  EXPECT_LT(o1[0].dynamodb().sequence_number(), o1[1].dynamodb().sequence_number());
  EXPECT_LT(o1[1].dynamodb().sequence_number(), o1[2].dynamodb().sequence_number());

  // The reported record came again, and the invocation after the report began with it.
  const std::string failed = function_.FailedSequenceNumber();
  const std::string failed_shard = function_.FailedShardId();
  ASSERT_FALSE(failed.empty());
  const std::vector<v1::InvokeRequest> requests = function_.Requests();
  size_t reported_in = requests.size();
  for (size_t i = 0; i < requests.size() && reported_in == requests.size(); ++i) {
    // Another shard's records may carry the same numbers (the table's stream has two shards).
    if (requests[i].shard_id() != failed_shard) continue;
    for (const auto& r : requests[i].dynamodb_records()) {
      if (r.dynamodb().sequence_number() == failed) reported_in = i;
    }
  }
  ASSERT_LT(reported_in + 1, requests.size()) << "no invocation after the report";
  bool retried = false;
  for (size_t i = reported_in + 1; i < requests.size(); ++i) {
    if (requests[i].shard_id() != requests[reported_in].shard_id()) continue;
    ASSERT_GT(requests[i].dynamodb_records_size(), 0);
    EXPECT_EQ(requests[i].dynamodb_records(0).dynamodb().sequence_number(), failed)
        << "the retry starts at the reported record";
    retried = true;
    break;
  }
  EXPECT_TRUE(retried);
}

}  // namespace
}  // namespace tributary::e2e
