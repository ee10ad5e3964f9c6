// The gRPC face of the Functions API: every call goes through a real channel (the stream
// tracker client's stub), and each status the registry promises arrives at the client with its
// code and message.
#include "stream_tracker/functions_service.h"

#include <memory>

#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "stream_tracker/event_source_mappings_service.h"
#include "stream_tracker/mapping_manager.h"
#include "stream_tracker/stream_tracker_client.h"
#include "common/host_allow_list.h"
#include "stream_tracker/testing/fake_stream_catalog.h"
#include "stream_tracker/tracker_db.h"

namespace tributary::stream_tracker {
namespace {

class FunctionsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    streams_.CreateStream("orders", 1);
    auto db = OpenTrackerDb(tributary::testing::NewTempDir("functions_service"));
    ASSERT_TRUE(db.ok()) << db.status();
    functions_ = FunctionStore::Create(*db, {});
    mappings_ = MappingStore::Create(*db, {});
    auto registry =
        FunctionRegistry::Create(functions_.get(), mappings_.get(), clock_, FunctionAccount());
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
    manager_ = std::make_unique<MappingManager>(mappings_.get(), &streams_, clock_, nullptr,
                                                registry_.get());
    service_ = std::make_unique<FunctionsService>(registry_.get(), &allow_);
    mappings_service_ = std::make_unique<EventSourceMappingsService>(manager_.get(), &allow_);
    auto server = GrpcServer::Start("127.0.0.1:0", {service_.get(), mappings_service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<StreamTrackerClient>(MakeChannel(server_->address()));
  }

  absl::StatusOr<v1::FunctionConfiguration> Create(const std::string& name,
                                                   const std::string& endpoint = "fn:1") {
    v1::CreateFunctionRequest request;
    request.set_function_name(name);
    request.set_endpoint(endpoint);
    return client_->CreateFunction(request);
  }

  // --function_endpoint_allow: the hosts these tests' endpoints name, and loopback.
  const HostAllowList allow_ = *HostAllowList::Parse("fn,a,b,loopback");
  FakeClock clock_;
  testing::FakeStreamCatalog streams_{clock_};
  std::unique_ptr<FunctionStore> functions_;
  std::unique_ptr<MappingStore> mappings_;
  std::unique_ptr<FunctionRegistry> registry_;
  std::unique_ptr<MappingManager> manager_;
  std::unique_ptr<FunctionsService> service_;
  std::unique_ptr<EventSourceMappingsService> mappings_service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<StreamTrackerClient> client_;
};

TEST_F(FunctionsServiceTest, EveryCallRoundTrips) {
  auto created = Create("f", "a:1");
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->function_arn(), "arn:aws:lambda:us-east-1:000000000000:function:f");
  EXPECT_EQ(created->timeout_seconds(), 3);

  v1::GetFunctionRequest get;
  get.set_function_name(created->function_arn());
  auto got = client_->GetFunction(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), created->SerializeAsString());

  v1::UpdateFunctionRequest update;
  update.set_function_name("f");
  update.set_endpoint("b:1");
  update.set_timeout_seconds(60);
  auto updated = client_->UpdateFunction(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->endpoint(), "b:1");
  EXPECT_EQ(updated->timeout_seconds(), 60);

  auto listed = client_->ListFunctions({});
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->functions_size(), 1);
  EXPECT_EQ(listed->functions(0).endpoint(), "b:1");

  v1::PutFunctionConcurrencyRequest put;
  put.set_function_name("f");
  put.set_reserved_concurrent_executions(4);
  auto set = client_->PutFunctionConcurrency(put);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->reserved_concurrent_executions(), 4);
  v1::GetFunctionConcurrencyRequest get_concurrency;
  get_concurrency.set_function_name("f");
  EXPECT_EQ(client_->GetFunctionConcurrency(get_concurrency)->reserved_concurrent_executions(), 4);
  v1::DeleteFunctionConcurrencyRequest delete_concurrency;
  delete_concurrency.set_function_name("f");
  ASSERT_TRUE(client_->DeleteFunctionConcurrency(delete_concurrency).ok());
  EXPECT_FALSE(
      client_->GetFunctionConcurrency(get_concurrency)->has_reserved_concurrent_executions());

  v1::DeleteFunctionRequest del;
  del.set_function_name("f");
  ASSERT_TRUE(client_->DeleteFunction(del).ok());
  EXPECT_EQ(client_->GetFunction(get).status().code(), absl::StatusCode::kNotFound);
}

// Server-side request forgery: whoever may create mappings or functions cannot point the
// pollers at a host the operator did not list.
TEST_F(FunctionsServiceTest, EndpointsOnHostsNotAllowedAreRefused) {
  for (const char* endpoint : {"169.254.169.254:80", "http://metadata.internal/latest",
                               "https://evil.example:443/x"}) {
    auto refused = Create("f", endpoint);
    ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << endpoint;
    EXPECT_NE(refused.status().message().find("--function_endpoint_allow"),
              absl::string_view::npos)
        << refused.status();
  }
  ASSERT_TRUE(Create("f", "http://127.0.0.1:9000/").ok());
  v1::UpdateFunctionRequest update;
  update.set_function_name("f");
  update.set_endpoint("evil.example:1");
  EXPECT_EQ(client_->UpdateFunction(update).status().code(), absl::StatusCode::kInvalidArgument);
  update.set_endpoint("a:1");
  EXPECT_TRUE(client_->UpdateFunction(update).ok());
  update.clear_endpoint();
  update.set_timeout_seconds(9);
  EXPECT_TRUE(client_->UpdateFunction(update).ok());

  v1::CreateEventSourceMappingRequest mapping;
  mapping.set_stream_name("orders");
  mapping.set_function_endpoint("evil.example:1");
  mapping.set_starting_position(v1::LATEST_POSITION);
  EXPECT_EQ(client_->CreateEventSourceMapping(mapping).status().code(),
            absl::StatusCode::kInvalidArgument);
  mapping.set_function_endpoint("fn:2");
  auto created = client_->CreateEventSourceMapping(mapping);
  ASSERT_TRUE(created.ok()) << created.status();
  v1::UpdateEventSourceMappingRequest repoint;
  repoint.set_uuid(created->uuid());
  repoint.set_function_endpoint("http://evil.example/");
  EXPECT_EQ(client_->UpdateEventSourceMapping(repoint).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(FunctionsServiceTest, ErrorsReachTheClientWithCodeAndMessage) {
  auto invalid = Create("a b");
  ASSERT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(invalid.status().message().find("function_name must be"), absl::string_view::npos);

  ASSERT_TRUE(Create("f").ok());
  auto exists = Create("f");
  EXPECT_EQ(exists.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(exists.status().message().find("f"), absl::string_view::npos);

  v1::GetFunctionRequest get;
  get.set_function_name("missing");
  auto missing = client_->GetFunction(get);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing"), absl::string_view::npos);

  v1::CreateEventSourceMappingRequest mapping;
  mapping.set_stream_name("orders");
  mapping.set_function_name("f");
  mapping.set_starting_position(v1::LATEST_POSITION);
  auto created = client_->CreateEventSourceMapping(mapping);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->function_endpoint(), "fn:1");
  v1::DeleteFunctionRequest del;
  del.set_function_name("f");
  auto refused = client_->DeleteFunction(del);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(created->uuid()), absl::string_view::npos);

  mapping.set_function_name("missing");
  EXPECT_EQ(client_->CreateEventSourceMapping(mapping).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tributary::stream_tracker
