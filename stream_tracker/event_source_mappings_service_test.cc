// The gRPC face of the mappings API: every call goes through a real channel, and each status the
// manager promises arrives at the client with its code and message.
#include "stream_tracker/event_source_mappings_service.h"

#include <memory>

#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "stream_tracker/stream_tracker_client.h"
#include "stream_tracker/testing/fake_stream_catalog.h"

namespace tributary::stream_tracker {
namespace {

class EventSourceMappingsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    streams_.CreateStream("orders", 1);
    auto store = MappingStore::Open(tributary::testing::NewTempDir("mappings_service"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    manager_ = std::make_unique<MappingManager>(store_.get(), &streams_, clock_);
    service_ = std::make_unique<EventSourceMappingsService>(manager_.get());
    auto server = GrpcServer::Start("127.0.0.1:0", {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<StreamTrackerClient>(MakeChannel(server_->address()));
  }

  static v1::CreateEventSourceMappingRequest Request() {
    v1::CreateEventSourceMappingRequest request;
    request.set_stream_name("orders");
    request.set_function_endpoint("127.0.0.1:9999");
    request.set_starting_position(v1::TRIM_HORIZON_POSITION);
    return request;
  }

  FakeClock clock_;
  testing::FakeStreamCatalog streams_{clock_};
  std::unique_ptr<MappingStore> store_;
  std::unique_ptr<MappingManager> manager_;
  std::unique_ptr<EventSourceMappingsService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<StreamTrackerClient> client_;
};

TEST_F(EventSourceMappingsServiceTest, CreateGetListUpdateDeleteRoundTrip) {
  auto created = client_->CreateEventSourceMapping(Request());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->state(), v1::CREATING_MAPPING);
  EXPECT_EQ(created->batch_size(), 100);

  v1::GetEventSourceMappingRequest get;
  get.set_uuid(created->uuid());
  auto got = client_->GetEventSourceMapping(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), created->SerializeAsString());

  v1::ListEventSourceMappingsRequest list;
  list.set_stream_name("orders");
  auto listed = client_->ListEventSourceMappings(list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->event_source_mappings_size(), 1);
  EXPECT_EQ(listed->event_source_mappings(0).uuid(), created->uuid());

  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(created->uuid());
  update.set_parallelization_factor(3);
  auto updated = client_->UpdateEventSourceMapping(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->parallelization_factor(), 3);
  EXPECT_EQ(updated->config_version(), 2);

  v1::DeleteEventSourceMappingRequest del;
  del.set_uuid(created->uuid());
  auto deleted = client_->DeleteEventSourceMapping(del);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->state(), v1::DELETING_MAPPING);
}

TEST_F(EventSourceMappingsServiceTest, OutOfRangeValueIsInvalidArgumentNamingTheField) {
  v1::CreateEventSourceMappingRequest request = Request();
  request.set_parallelization_factor(11);
  auto created = client_->CreateEventSourceMapping(request);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(created.status().message().find("parallelization_factor must be between 1 and 10"),
            absl::string_view::npos)
      << created.status();
}

TEST_F(EventSourceMappingsServiceTest, BadFilterPatternIsInvalidArgumentNamingTheFilter) {
  v1::CreateEventSourceMappingRequest request = Request();
  request.mutable_filter_criteria()->add_filters()->set_pattern(R"({"partitionKey":"k"})");
  auto created = client_->CreateEventSourceMapping(request);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(created.status().message(),
            "filter_criteria.filters[0].pattern: expected an object or a non-empty array of "
            "values or rules, got a string (at partitionKey)");
}

TEST_F(EventSourceMappingsServiceTest, UnknownStreamIsNotFound) {
  v1::CreateEventSourceMappingRequest request = Request();
  request.set_stream_name("missing");
  EXPECT_EQ(client_->CreateEventSourceMapping(request).status().code(),
            absl::StatusCode::kNotFound);
  v1::GetEventSourceMappingRequest get;
  get.set_uuid("no-such-uuid");
  EXPECT_EQ(client_->GetEventSourceMapping(get).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EventSourceMappingsServiceTest, UpdateOfDeletingMappingIsFailedPrecondition) {
  auto created = client_->CreateEventSourceMapping(Request());
  ASSERT_TRUE(created.ok());
  v1::DeleteEventSourceMappingRequest del;
  del.set_uuid(created->uuid());
  ASSERT_TRUE(client_->DeleteEventSourceMapping(del).ok());
  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(created->uuid());
  update.set_batch_size(2);
  EXPECT_EQ(client_->UpdateEventSourceMapping(update).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(EventSourceMappingsServiceTest, ShardStoreOutageIsUnavailable) {
  streams_.FailNextCalls(absl::UnavailableError("shard store down"));
  EXPECT_EQ(client_->CreateEventSourceMapping(Request()).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tributary::stream_tracker
