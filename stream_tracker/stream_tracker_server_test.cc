// The stream_tracker_server binary as an operator runs it: flags, port file, health, and its
// mappings surviving kill -9. The shard store and leasing are gRPC faces of the fakes, served by
// this test.
#include <signal.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/process.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "stream_tracker/stream_tracker_client.h"
#include "stream_tracker/testing/fake_services.h"

namespace tributary::stream_tracker {
namespace {

class StreamTrackerServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_.CreateStream("orders", 2);
    auto backends = GrpcServer::Start("127.0.0.1:0", {&streams_service_, &leasing_service_});
    ASSERT_TRUE(backends.ok()) << backends.status();
    backends_ = *std::move(backends);
  }

  // Starts the server on a free port over data_dir_ and connects a client to it.
  void StartServer(const std::vector<std::string>& extra_flags = {}) {
    const std::string port_file = absl::StrCat(root_, "/port");
    std::remove(port_file.c_str());
    std::vector<std::string> flags = {"--listen=127.0.0.1:0",
                                      "--port_file=" + port_file,
                                      "--data_dir=" + root_ + "/data",
                                      "--shard_store=" + backends_->address(),
                                      "--leasing=" + backends_->address(),
                                      "--sync_interval_ms=50"};
    flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
    auto child =
        Subprocess::Start(tributary::testing::RunfilePath("stream_tracker/stream_tracker_server"),
                          flags, root_ + "/server.log");
    ASSERT_TRUE(child.ok()) << child.status();
    server_ = std::move(*child);
    auto port = WaitForPortFile(port_file);
    ASSERT_TRUE(port.ok()) << port.status() << "\n" << Log();
    const std::string address = absl::StrCat("127.0.0.1:", *port);
    ASSERT_TRUE(WaitForServing(address).ok()) << Log();
    client_ = std::make_unique<StreamTrackerClient>(MakeChannel(address));
  }

  std::string Log() {
    std::ifstream in(root_ + "/server.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  const std::string root_ = tributary::testing::NewTempDir("stream_tracker_server");
  FakeClock clock_;  // the fakes' shard open/close times
  testing::FakeStreamCatalog catalog_{clock_};
  testing::FakeLeaseAdmin leases_;
  testing::FakeStreamsService streams_service_{&catalog_};
  testing::FakeLeasingService leasing_service_{&leases_};
  std::unique_ptr<GrpcServer> backends_;
  Subprocess server_;
  std::unique_ptr<StreamTrackerClient> client_;
};

TEST_F(StreamTrackerServerTest, MappingAndItsLeasesSurviveKillMinusNine) {
  StartServer();
  v1::CreateEventSourceMappingRequest request;
  request.set_stream_name("orders");
  request.set_function_endpoint("127.0.0.1:9999");
  request.set_starting_position(v1::TRIM_HORIZON_POSITION);
  auto created = client_->CreateEventSourceMapping(request);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(leasing_service_.WaitForCreatedLeases(2)) << "no leases created\n" << Log();

  server_.Kill(SIGKILL);
  StartServer();
  v1::GetEventSourceMappingRequest get;
  get.set_uuid(created->uuid());
  auto got = client_->GetEventSourceMapping(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->stream_name(), "orders");

  // The restarted server keeps following the stream.
  auto children = catalog_.SplitShard("orders", "shardId-000000000000");
  ASSERT_TRUE(leasing_service_.WaitForCreatedLeases(4)) << "no child leases\n" << Log();
  EXPECT_TRUE(leases_.Get(created->uuid(), children[0]).has_value());
  EXPECT_EQ(leases_.total_leases(), 4);
}

TEST_F(StreamTrackerServerTest, ServesFunctionsThatSurviveKillMinusNineWithItsAccountsArns) {
  const std::vector<std::string> account = {"--aws_region=eu-central-1",
                                            "--aws_account_id=123456789012"};
  StartServer(account);
  v1::CreateFunctionRequest function;
  function.set_function_name("f");
  function.set_endpoint("127.0.0.1:9999");
  function.set_reserved_concurrent_executions(3);
  auto created = client_->CreateFunction(function);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->function_arn(), "arn:aws:lambda:eu-central-1:123456789012:function:f");

  server_.Kill(SIGKILL);
  StartServer(account);
  v1::GetFunctionRequest get;
  get.set_function_name("arn:aws:lambda:eu-central-1:123456789012:function:f");
  auto got = client_->GetFunction(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), created->SerializeAsString());
}

TEST_F(StreamTrackerServerTest, MalformedAccountIsAStartupErrorNamingTheFlag) {
  auto child = Subprocess::Start(
      tributary::testing::RunfilePath("stream_tracker/stream_tracker_server"),
      {"--listen=127.0.0.1:0", "--data_dir=" + root_ + "/data", "--aws_account_id=12"},
      root_ + "/server.log");
  ASSERT_TRUE(child.ok());
  auto status = child->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << Log();
  EXPECT_NE(Log().find("--aws_account_id"), std::string::npos) << Log();
}

TEST_F(StreamTrackerServerTest, MissingDataDirIsAStartupError) {
  auto child =
      Subprocess::Start(tributary::testing::RunfilePath("stream_tracker/stream_tracker_server"),
                        {"--listen=127.0.0.1:0"}, root_ + "/server.log");
  ASSERT_TRUE(child.ok());
  auto status = child->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0) << Log();
}

TEST_F(StreamTrackerServerTest, NonPositiveSyncIntervalIsAStartupError) {
  auto child = Subprocess::Start(
      tributary::testing::RunfilePath("stream_tracker/stream_tracker_server"),
      {"--listen=127.0.0.1:0", "--data_dir=" + root_ + "/data", "--sync_interval_ms=0"},
      root_ + "/server.log");
  ASSERT_TRUE(child.ok());
  auto status = child->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0) << Log();
  EXPECT_NE(Log().find("sync_interval must be positive"), std::string::npos) << Log();
}

}  // namespace
}  // namespace tributary::stream_tracker
