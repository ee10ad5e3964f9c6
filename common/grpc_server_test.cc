// Starts a real gRPC server on 127.0.0.1 with a free port, calls it over the
// network and in-process, and checks the answers, the status mapping,
// reflection and health.
#include "common/grpc_server.h"

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

#include "common/grpc_status.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/function.grpc.pb.h"

namespace tributary {
namespace {

// A function that fails batches whose first record's data is "poison" and
// echoes the rest.
class EchoFunction final : public v1::Function::Service {
 public:
  grpc::Status Invoke(grpc::ServerContext*, const v1::InvokeRequest* request,
                      v1::InvokeResponse* response) override {
    if (request->records().empty()) {
      return ToGrpcStatus(absl::InvalidArgumentError("records: at least one is required"));
    }
    if (request->records(0).data() == "poison") {
      response->set_function_error("poisoned");
      response->add_batch_item_failures()->set_item_identifier(
          request->records(0).sequence_number());
    }
    return grpc::Status::OK;
  }
};

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = GrpcServer::Start("127.0.0.1:0", {&function_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  static grpc::Status Call(const std::shared_ptr<grpc::Channel>& channel,
                           const v1::InvokeRequest& request, v1::InvokeResponse* response) {
    auto stub = v1::Function::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub->Invoke(&context, request, response);
  }

  EchoFunction function_;
  std::unique_ptr<GrpcServer> server_;
};

TEST_F(GrpcServerTest, BindsAFreePortOnLoopback) {
  EXPECT_GT(server_->port(), 0);
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(server_->port()));
}

TEST_F(GrpcServerTest, AnswersOverTheNetwork) {
  v1::InvokeRequest request;
  request.set_shard_id("shardId-000000000000");
  auto* record = request.add_records();
  record->set_sequence_number("49");
  record->set_data("poison");
  v1::InvokeResponse response;
  grpc::Status status = Call(MakeChannel(server_->address()), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.function_error(), "poisoned");
  ASSERT_EQ(response.batch_item_failures_size(), 1);
  EXPECT_EQ(response.batch_item_failures(0).item_identifier(), "49");
}

TEST_F(GrpcServerTest, AnswersInProcessWithMappedStatus) {
  v1::InvokeRequest empty;
  v1::InvokeResponse response;
  grpc::Status status = Call(server_->InProcessChannel(), empty, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "records: at least one is required");
}

TEST_F(GrpcServerTest, CarriesMessagesLargerThanGrpcsDefaultLimit) {
  v1::InvokeRequest request;
  request.add_records()->set_data(std::string(6 << 20, 'x'));  // 6 MiB, over the 4 MiB default
  v1::InvokeResponse response;
  grpc::Status status = Call(MakeChannel(server_->address()), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(GrpcServerTest, ServesHealth) {
  auto* health = server_->server()->GetHealthCheckService();
  ASSERT_NE(health, nullptr) << "the standard health service is not registered";
}

// A function whose calls wait in the handler until released: occupies gRPC's sync threads.
class BlockingFunction final : public v1::Function::Service {
 public:
  grpc::Status Invoke(grpc::ServerContext*, const v1::InvokeRequest*,
                      v1::InvokeResponse*) override {
    absl::MutexLock lock(&mu_);
    ++in_handler_;
    mu_.AwaitWithTimeout(absl::Condition(&released_), absl::Seconds(30));  // a failure guard
    --in_handler_;
    return grpc::Status::OK;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }
  absl::Mutex mu_;
  int in_handler_ ABSL_GUARDED_BY(mu_) = 0;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

// Issue 22: gRPC's own queue is bounded. With every sync thread busy, a further call is refused
// at once with RESOURCE_EXHAUSTED instead of waiting for a thread; once they free, calls pass.
TEST(GrpcServerLimitsTest, CallsPastTheThreadBoundAreRefusedAtOnce) {
  BlockingFunction function;
  GrpcServerLimits limits;
  limits.max_threads = 4;
  auto server = GrpcServer::Start("127.0.0.1:0", {&function}, GrpcServerSecurity(), limits);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = MakeChannel((*server)->address());
  v1::InvokeRequest request;
  request.add_records()->set_data("x");
  // The client's counts share the function's lock, so one condition sees both sides.
  int refused = 0, finished = 0;
  std::vector<std::thread> calls;
  for (int i = 0; i < 16; ++i) {
    calls.emplace_back([&] {
      auto stub = v1::Function::NewStub(channel);
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      v1::InvokeResponse response;
      grpc::Status status = stub->Invoke(&context, request, &response);
      absl::MutexLock lock(&function.mu_);
      ++finished;
      if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++refused;
    });
    // Each call is either held in a handler or answered before the next one starts.
    const int n = i + 1;
    auto settled = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(function.mu_) {
      return function.in_handler_ + finished == n;
    };
    absl::MutexLock lock(&function.mu_);
    EXPECT_TRUE(  // a failure guard
        function.mu_.AwaitWithTimeout(absl::Condition(&settled), absl::Seconds(30)));
    if (refused > 0) break;
  }
  {
    absl::MutexLock lock(&function.mu_);
    EXPECT_GT(refused, 0) << "16 calls held in handlers with 4 threads allowed: none refused";
    EXPECT_EQ(finished, refused) << "a call other than a refused one finished while held";
    EXPECT_LE(function.in_handler_, 4);
  }
  function.Release();
  for (auto& t : calls) t.join();
  auto stub = v1::Function::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::InvokeResponse response;
  grpc::Status after = stub->Invoke(&context, request, &response);
  EXPECT_TRUE(after.ok()) << after.error_message();
}

TEST(GrpcServerLimitsTest, OutOfRangeLimitsAreInvalidArgument) {
  EchoFunction function;
  GrpcServerLimits limits;
  limits.max_threads = 1;
  EXPECT_EQ(GrpcServer::Start("127.0.0.1:0", {&function}, GrpcServerSecurity(), limits)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GrpcServerStartTest, PortInUseIsUnavailable) {
  EchoFunction function;
  auto first = GrpcServer::Start("127.0.0.1:0", {&function});
  ASSERT_TRUE(first.ok());
  EchoFunction other;
  auto second = GrpcServer::Start((*first)->address(), {&other});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

// gRPC takes port 99999 modulo 65536 (it served on 34463): refused before gRPC sees it.
TEST(GrpcServerStartTest, MalformedAddressIsInvalidArgument) {
  EchoFunction function;
  for (const std::string address : {"127.0.0.1:99999", "127.0.0.1:8x", ":0", "127.0.0.1"}) {
    auto server = GrpcServer::Start(address, {&function});
    ASSERT_FALSE(server.ok()) << address << " served on port " << (*server)->port();
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << server.status();
    EXPECT_NE(server.status().message().find("listen address \"" + address + "\""),
              std::string::npos)
        << server.status();
  }
}

TEST(PickListenAddressTest, ResolvesPortZeroToAPortAServerCanBind) {
  absl::StatusOr<std::string> address = PickListenAddress("127.0.0.1:0");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_NE(*address, "127.0.0.1:0");
  EchoFunction function;
  auto server = GrpcServer::Start(*address, {&function});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->address(), *address);
}

TEST(PickListenAddressTest, KeepsAFixedPortAndRejectsAMissingOne) {
  EXPECT_EQ(PickListenAddress("127.0.0.1:4560").value(), "127.0.0.1:4560");
  EXPECT_EQ(PickListenAddress("localhost").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PickListenAddress("127.0.0.1:99999").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tributary
