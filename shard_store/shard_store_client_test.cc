// ShardStoreClient's opt-in client-side throttling of PutRecord(s), against a
// fake Streams service on 127.0.0.1 that refuses puts while told to.
#include "shard_store/shard_store_client.h"

#include <atomic>
#include <memory>

#include "absl/time/time.h"
#include "common/adaptive_throttle.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/streams.grpc.pb.h"

namespace tributary::shard_store {
namespace {

using ::testing::HasSubstr;

// Answers PutRecord(s): RESOURCE_EXHAUSTED while `refuse`, else OK; counts calls.
class FakeStreams : public v1::Streams::Service {
 public:
  grpc::Status PutRecords(grpc::ServerContext*, const v1::PutRecordsRequest*,
                          v1::PutRecordsResponse*) override {
    return Answer();
  }
  grpc::Status PutRecord(grpc::ServerContext*, const v1::PutRecordRequest*,
                         v1::PutRecordResponse*) override {
    return Answer();
  }

  std::atomic<bool> refuse{false};
  std::atomic<int> calls{0};

 private:
  grpc::Status Answer() {
    ++calls;
    return refuse ? grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full")
                  : grpc::Status::OK;
  }
};

class ShardStoreClientThrottleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = GrpcServer::Start("127.0.0.1:0", {&service_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  std::unique_ptr<ShardStoreClient> Client(std::shared_ptr<AdaptiveThrottle> throttle) {
    return std::make_unique<ShardStoreClient>(MakeChannel(server_->address()), absl::Seconds(10),
                                              std::move(throttle));
  }
  // A throttle whose draw is always 0: it refuses whenever its probability is above 0.
  std::shared_ptr<AdaptiveThrottle> Throttle() {
    AdaptiveThrottleOptions options;
    options.uniform = [] { return 0.0; };
    return std::make_shared<AdaptiveThrottle>(clock_, options);
  }

  FakeClock clock_;
  FakeStreams service_;
  std::unique_ptr<GrpcServer> server_;
};

TEST_F(ShardStoreClientThrottleTest, AfterServerRefusalsPutsFailLocallyWithoutBeingSent) {
  std::unique_ptr<ShardStoreClient> client = Client(Throttle());
  service_.refuse = true;
  const absl::StatusOr<v1::PutRecordsResponse> refused = client->PutRecords({});
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("queue full"));
  EXPECT_EQ(service_.calls, 1);

  const absl::StatusOr<v1::PutRecordsResponse> throttled = client->PutRecords({});
  EXPECT_EQ(throttled.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(throttled.status().message(), HasSubstr("throttled client-side"));
  EXPECT_EQ(client->PutRecord({}).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(service_.calls, 1);  // neither reached the server
}

TEST_F(ShardStoreClientThrottleTest, PutsGoThroughAgainOnceTheRefusalsLeaveTheWindow) {
  std::shared_ptr<AdaptiveThrottle> throttle = Throttle();
  std::unique_ptr<ShardStoreClient> client = Client(throttle);
  service_.refuse = true;
  ASSERT_FALSE(client->PutRecords({}).ok());
  service_.refuse = false;
  EXPECT_FALSE(client->PutRecords({}).ok());  // still throttled
  clock_.Advance(AdaptiveThrottleOptions().window);
  EXPECT_TRUE(client->PutRecords({}).ok());
  EXPECT_TRUE(client->PutRecord({}).ok());
  EXPECT_EQ(service_.calls, 3);
}

TEST_F(ShardStoreClientThrottleTest, WithoutAThrottleEveryPutIsSent) {
  std::unique_ptr<ShardStoreClient> client = Client(nullptr);
  service_.refuse = true;
  for (int i = 0; i < 5; ++i) {
    const absl::StatusOr<v1::PutRecordsResponse> r = client->PutRecords({});
    EXPECT_THAT(r.status().message(), HasSubstr("queue full"));
  }
  EXPECT_EQ(service_.calls, 5);
}

}  // namespace
}  // namespace tributary::shard_store
