// The example_function binary as the demo and the end-to-end harness start it:
// --listen on port 0 with --port_file, a poison batch and a clean one, the
// deliveries file, and a clean exit on SIGTERM.
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>

#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "common/process.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "proto/function.grpc.pb.h"

namespace tributary::examples {
namespace {

TEST(ExampleFunctionMainTest, ServesOnAFreePortRecordsDeliveriesAndStopsOnSigterm) {
  const std::string dir = testing::NewTempDir();
  const std::string port_file = dir + "/port";
  const std::string deliveries = dir + "/deliveries.txt";
  auto process = Subprocess::Start(
      testing::RunfilePath("examples/cpp/example_function"),
      {"--listen=127.0.0.1:0", "--port_file=" + port_file, "--deliveries_file=" + deliveries},
      dir + "/log.txt");
  ASSERT_TRUE(process.ok()) << process.status();
  auto port = WaitForPortFile(port_file);
  ASSERT_TRUE(port.ok()) << port.status();
  auto stub = v1::Function::NewStub(MakeChannel("127.0.0.1:" + std::to_string(*port)));

  v1::InvokeRequest request;
  request.set_shard_id("shardId-000000000003");
  v1::Record* record = request.add_records();
  record->set_sequence_number("7");
  record->set_partition_key("user-1");
  record->set_data("poison");
  auto poisoned = CallUnary(stub.get(), &v1::Function::Stub::Invoke, request, absl::Seconds(10));
  ASSERT_TRUE(poisoned.ok()) << poisoned.status();
  EXPECT_EQ(poisoned->function_error(), "poison record at sequence number 7");

  record->set_data("clean");
  record->set_sequence_number("8");
  auto clean = CallUnary(stub.get(), &v1::Function::Stub::Invoke, request, absl::Seconds(10));
  ASSERT_TRUE(clean.ok()) << clean.status();
  EXPECT_EQ(clean->function_error(), "");

  std::ifstream in(deliveries);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "shardId-000000000003 7 user-1\nshardId-000000000003 8 user-1\n");

  ASSERT_EQ(::kill(process->pid(), SIGTERM), 0);
  auto status = process->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "wait status " << *status;
}

}  // namespace
}  // namespace tributary::examples
