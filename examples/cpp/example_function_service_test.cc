// The example function behind a real gRPC server on 127.0.0.1:0: what a poller
// sees for clean, poison and failing batches.
#include "examples/cpp/example_function_service.h"

#include <memory>

#include "common/clock.h"
#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "gtest/gtest.h"

namespace tributary::examples {
namespace {

v1::InvokeRequest Batch(const std::string& second_data) {
  v1::InvokeRequest request;
  request.set_shard_id("shardId-000000000000");
  for (const std::string& data : {std::string("ok"), second_data}) {
    v1::Record* r = request.add_records();
    r->set_sequence_number(std::to_string(request.records_size()));
    r->set_partition_key("k");
    r->set_data(data);
  }
  return request;
}

class ExampleFunctionServiceTest : public ::testing::Test {
 protected:
  void Start(const ExampleFunctionOptions& options) {
    auto function = ExampleFunction::Create(options, clock_);
    ASSERT_TRUE(function.ok()) << function.status();
    function_ = std::move(*function);
    service_ = std::make_unique<ExampleFunctionService>(function_.get());
    auto server = GrpcServer::Start("127.0.0.1:0", {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::Function::NewStub(MakeChannel(server_->address()));
  }
  absl::StatusOr<v1::InvokeResponse> Invoke(const v1::InvokeRequest& request) {
    return CallUnary(stub_.get(), &v1::Function::Stub::Invoke, request, absl::Seconds(10));
  }

  FakeClock clock_;
  std::unique_ptr<ExampleFunction> function_;
  std::unique_ptr<ExampleFunctionService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::Function::Stub> stub_;
};

TEST_F(ExampleFunctionServiceTest, ACleanBatchSucceeds) {
  Start({});
  auto response = Invoke(Batch("fine"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->function_error(), "");
  EXPECT_EQ(response->batch_item_failures_size(), 0);
}

TEST_F(ExampleFunctionServiceTest, APoisonBatchIsAFunctionError) {
  Start({});
  auto response = Invoke(Batch("poison"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->function_error(), "poison record at sequence number 2");
}

TEST_F(ExampleFunctionServiceTest, APoisonRecordIsABatchItemFailureWhenReporting) {
  ExampleFunctionOptions options;
  options.report_batch_item_failures = true;
  Start(options);
  auto response = Invoke(Batch("poison"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->function_error(), "");
  ASSERT_EQ(response->batch_item_failures_size(), 1);
  EXPECT_EQ(response->batch_item_failures(0).item_identifier(), "2");
}

TEST_F(ExampleFunctionServiceTest, ASimulatedFailureWithStatusIsANonOkStatus) {
  ExampleFunctionOptions options;
  options.fail_rate = 1;
  options.fail_with_status = true;
  Start(options);
  auto response = Invoke(Batch("fine"));
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace tributary::examples
