// The wired stream tracker (StreamTracker: store + service + sync over gRPC clients) against
// gRPC faces of the fakes, in process: the path the all-in-one binary takes, with a FakeClock.
#include "stream_tracker/stream_tracker.h"

#include <memory>

#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "stream_tracker/stream_tracker_client.h"
#include "stream_tracker/testing/fake_services.h"

namespace tributary::stream_tracker {
namespace {

using ::testing::ElementsAre;

class StreamTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backends = GrpcServer::Start("127.0.0.1:0", {&streams_service_, &leasing_service_});
    ASSERT_TRUE(backends.ok()) << backends.status();
    backends_ = *std::move(backends);
    Open();
  }

  void Open(const FunctionAccount& account = {"ap-south-1", "111122223333"}) {
    server_.reset();
    tracker_.reset();
    StreamTracker::Options options;
    options.data_dir = data_dir_;
    options.function_account = account;
    auto tracker = StreamTracker::Create(options, backends_->InProcessChannel(),
                                         backends_->InProcessChannel(), clock_);
    ASSERT_TRUE(tracker.ok()) << tracker.status();
    tracker_ = *std::move(tracker);
    auto server =
        GrpcServer::Start("127.0.0.1:0", {tracker_->service(), tracker_->functions_service()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<StreamTrackerClient>(server_->InProcessChannel());
  }

  void Sync() {
    absl::Status status = tracker_->lease_sync()->RunOnce();
    ASSERT_TRUE(status.ok()) << status;
  }

  v1::EventSourceMappingConfiguration Get(const std::string& uuid) {
    v1::GetEventSourceMappingRequest get;
    get.set_uuid(uuid);
    auto config = client_->GetEventSourceMapping(get);
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() ? *config : v1::EventSourceMappingConfiguration();
  }

  const std::string data_dir_ = tributary::testing::NewTempDir("stream_tracker");
  FakeClock clock_;
  testing::FakeStreamCatalog catalog_{clock_};
  testing::FakeLeaseAdmin leases_;
  testing::FakeStreamsService streams_service_{&catalog_};
  testing::FakeLeasingService leasing_service_{&leases_};
  std::unique_ptr<GrpcServer> backends_;
  std::unique_ptr<StreamTracker> tracker_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<StreamTrackerClient> client_;
};

TEST_F(StreamTrackerTest, MappingGetsLeasesThroughTheRemoteBackendsAndFollowsASplit) {
  catalog_.CreateStream("orders", 2);
  v1::CreateEventSourceMappingRequest request;
  request.set_stream_name("orders");
  request.set_function_endpoint("127.0.0.1:9999");
  request.set_starting_position(v1::TRIM_HORIZON_POSITION);
  auto created = client_->CreateEventSourceMapping(request);
  ASSERT_TRUE(created.ok()) << created.status();
  Sync();
  EXPECT_EQ(Get(created->uuid()).state(), v1::ENABLED);
  EXPECT_EQ(leases_.total_leases(), 2);

  auto children = catalog_.SplitShard("orders", "shardId-000000000001");
  Sync();
  ASSERT_TRUE(leases_.Get(created->uuid(), children[1]).has_value());
  EXPECT_THAT(leases_.Get(created->uuid(), children[1])->parent_shard_ids(),
              ElementsAre("shardId-000000000001"));
}

TEST_F(StreamTrackerTest, MappingsSurviveARestartOverTheSameDirectory) {
  catalog_.CreateStream("orders", 1);
  v1::CreateEventSourceMappingRequest request;
  request.set_stream_name("orders");
  request.set_function_endpoint("127.0.0.1:9999");
  request.set_starting_position(v1::LATEST_POSITION);
  auto created = client_->CreateEventSourceMapping(request);
  ASSERT_TRUE(created.ok()) << created.status();
  Open();
  EXPECT_EQ(Get(created->uuid()).SerializeAsString(), created->SerializeAsString());
}

TEST_F(StreamTrackerTest, ServesFunctionsWithItsAccountsArnsAndKeepsThemAcrossARestart) {
  catalog_.CreateStream("orders", 1);
  v1::CreateFunctionRequest function;
  function.set_function_name("arn:aws:lambda:ap-south-1:111122223333:function:f");
  function.set_endpoint("127.0.0.1:9999");
  auto created_function = client_->CreateFunction(function);
  ASSERT_TRUE(created_function.ok()) << created_function.status();
  EXPECT_EQ(created_function->function_arn(), "arn:aws:lambda:ap-south-1:111122223333:function:f");
  v1::CreateEventSourceMappingRequest request;
  request.set_stream_name("orders");
  request.set_function_name("f");
  request.set_starting_position(v1::TRIM_HORIZON_POSITION);
  auto created = client_->CreateEventSourceMapping(request);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->function_endpoint(), "127.0.0.1:9999");
  EXPECT_EQ(created->function_arn(), "arn:aws:lambda:ap-south-1:111122223333:function:f");

  Open();
  v1::GetFunctionRequest get;
  get.set_function_name("f");
  auto got = client_->GetFunction(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), created_function->SerializeAsString());
  EXPECT_EQ(Get(created->uuid()).function_name(), "f");
  EXPECT_EQ(Get(created->uuid()).function_arn(),
            "arn:aws:lambda:ap-south-1:111122223333:function:f");
}

TEST_F(StreamTrackerTest, MappingsNameTheirStreamByItsKinesisArnInTheTrackersAccount) {
  catalog_.CreateStream("orders", 1);
  v1::CreateEventSourceMappingRequest request;
  request.set_stream_name("orders");
  request.set_function_endpoint("127.0.0.1:9999");
  request.set_starting_position(v1::LATEST_POSITION);
  auto created = client_->CreateEventSourceMapping(request);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string arn = "arn:aws:kinesis:ap-south-1:111122223333:stream/orders";
  EXPECT_EQ(created->event_source_arn(), arn);
  EXPECT_EQ(Get(created->uuid()).event_source_arn(), arn);
  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(created->uuid());
  update.set_batch_size(7);
  auto updated = client_->UpdateEventSourceMapping(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->event_source_arn(), arn);
  auto listed = client_->ListEventSourceMappings(v1::ListEventSourceMappingsRequest());
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->event_source_mappings_size(), 1);
  EXPECT_EQ(listed->event_source_mappings(0).event_source_arn(), arn);
  EXPECT_EQ(listed->event_source_mappings(0).function_arn(), "") << "it follows no function";

  // Made when served: a tracker restarted with another account names the stream in it.
  Open({"eu-west-1", "123456789012"});
  EXPECT_EQ(Get(created->uuid()).event_source_arn(),
            "arn:aws:kinesis:eu-west-1:123456789012:stream/orders");
  v1::DeleteEventSourceMappingRequest del;
  del.set_uuid(created->uuid());
  auto deleted = client_->DeleteEventSourceMapping(del);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->event_source_arn(), "arn:aws:kinesis:eu-west-1:123456789012:stream/orders");
}

TEST_F(StreamTrackerTest, LeasingOutageFailsThePassAndTheNextPassRecovers) {
  catalog_.CreateStream("orders", 1);
  v1::CreateEventSourceMappingRequest request;
  request.set_stream_name("orders");
  request.set_function_endpoint("127.0.0.1:9999");
  request.set_starting_position(v1::TRIM_HORIZON_POSITION);
  auto created = client_->CreateEventSourceMapping(request);
  ASSERT_TRUE(created.ok()) << created.status();
  leases_.FailNextCalls(absl::UnavailableError("leasing down"));
  EXPECT_EQ(tracker_->lease_sync()->RunOnce().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Get(created->uuid()).state(), v1::CREATING_MAPPING);
  Sync();
  EXPECT_EQ(Get(created->uuid()).state(), v1::ENABLED);
}

TEST(StreamTrackerCreateTest, RejectsMissingDataDirAndBadInterval) {
  FakeClock clock;
  StreamTracker::Options options;
  EXPECT_EQ(
      StreamTracker::Create(options, MakeChannel("127.0.0.1:1"), MakeChannel("127.0.0.1:1"), clock)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  options.data_dir = tributary::testing::NewTempDir("stream_tracker_create");
  options.sync_interval = absl::ZeroDuration();
  EXPECT_EQ(
      StreamTracker::Create(options, MakeChannel("127.0.0.1:1"), MakeChannel("127.0.0.1:1"), clock)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(StreamTrackerCreateTest, RejectsAMalformedFunctionAccount) {
  FakeClock clock;
  StreamTracker::Options options;
  options.data_dir = tributary::testing::NewTempDir("stream_tracker_account");
  options.function_account.account_id = "not-digits";
  absl::Status status =
      StreamTracker::Create(options, MakeChannel("127.0.0.1:1"), MakeChannel("127.0.0.1:1"), clock)
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("aws_account_id"), absl::string_view::npos) << status;
}

}  // namespace
}  // namespace tributary::stream_tracker
