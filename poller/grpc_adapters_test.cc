// The gRPC-backed seams against small scripted gRPC services on loopback.
#include "poller/grpc_adapters.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/grpc_server.h"
#include "common/testing/dev_certs.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "proto/function.grpc.pb.h"
#include "proto/streams.grpc.pb.h"

namespace tributary::poller {
namespace {

v1::Record Rec(int seq) {
  v1::Record r;
  r.set_sequence_number(absl::StrCat(seq));
  r.set_partition_key("k");
  return r;
}

// A Streams service that records every PutRecord.
class ScriptedStreams final : public v1::Streams::Service {
 public:
  grpc::Status PutRecord(grpc::ServerContext*, const v1::PutRecordRequest* request,
                         v1::PutRecordResponse* response) override {
    absl::MutexLock lock(&mu_);
    puts.push_back(*request);
    response->set_sequence_number("1");
    return grpc::Status::OK;
  }

  absl::Mutex mu_;
  std::vector<v1::PutRecordRequest> puts;
};

TEST(ShardStoreFailureDestinationTest, PutsOneRecordWithTheShardIdAsKey) {
  ScriptedStreams streams;
  auto server = GrpcServer::Start("127.0.0.1:0", {&streams});
  ASSERT_TRUE(server.ok());
  shard_store::ShardStoreClient client(MakeChannel((*server)->address()));
  ShardStoreFailureDestination destination(client);
  ASSERT_TRUE(destination.Put("dlq", "shardId-000000000003", "{}").ok());
  absl::MutexLock lock(&streams.mu_);
  ASSERT_EQ(streams.puts.size(), 1u);
  EXPECT_EQ(streams.puts[0].stream_name(), "dlq");
  EXPECT_EQ(streams.puts[0].partition_key(), "shardId-000000000003");
  EXPECT_EQ(streams.puts[0].data(), "{}");
}

// A function that answers at once, or (for records with data "slow") only when released.
class ScriptedFunctionService final : public v1::Function::Service {
 public:
  grpc::Status Invoke(grpc::ServerContext*, const v1::InvokeRequest* request,
                      v1::InvokeResponse* response) override {
    if (request->records_size() > 0 && request->records(0).data() == "slow") {
      release.WaitForNotificationWithTimeout(absl::Seconds(30));
      return grpc::Status::OK;
    }
    if (request->has_window()) {
      // Tumbling windows: a final invocation answers an empty (present) state; others echo the
      // state with what they saw added.
      if (request->is_final_invoke_for_window()) {
        response->mutable_state();
        return grpc::Status::OK;
      }
      *response->mutable_state() = request->state();
      (*response->mutable_state()->mutable_values())["saw"] = absl::StrCat(
          request->window().start().seconds(), "-", request->window().end().seconds(), " ",
          request->records_size(), " early=", request->is_window_terminated_early());
      return grpc::Status::OK;
    }
    response->set_function_error(absl::StrCat("saw ", request->records_size()));
    return grpc::Status::OK;
  }
  absl::Notification release;
};

TEST(GrpcFunctionInvokerTest, ReturnsTheReply) {
  ScriptedFunctionService function;
  auto server = GrpcServer::Start("127.0.0.1:0", {&function});
  ASSERT_TRUE(server.ok());
  GrpcFunctionInvoker invoker;
  v1::InvokeRequest request;
  *request.add_records() = Rec(1);
  auto reply = invoker.Invoke((*server)->address(), request, absl::Seconds(30));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->function_error(), "saw 1");
}

TEST(GrpcFunctionInvokerTest, MissedDeadlineIsDeadlineExceeded) {
  ScriptedFunctionService function;
  auto server = GrpcServer::Start("127.0.0.1:0", {&function});
  ASSERT_TRUE(server.ok());
  GrpcFunctionInvoker invoker;
  v1::InvokeRequest request;
  v1::Record slow = Rec(1);
  slow.set_data("slow");
  *request.add_records() = slow;
  auto reply = invoker.Invoke((*server)->address(), request, absl::Milliseconds(200));
  function.release.Notify();
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
}

// grpcs:// (issue 21, function clients over TLS): the server's certificate is verified against
// the configured CAs and the client certificate is presented, so a function server with mutual
// TLS takes the call from this poller only.
TEST(GrpcFunctionInvokerTest, GrpcsVerifiesTheServerAndPresentsTheClientCertificate) {
  const std::string dir = testing::NewTempDir("grpcs");
  absl::StatusOr<testing::DevCerts> certs = testing::MakeDevCerts(dir + "/ours", {"poller"});
  ASSERT_TRUE(certs.ok()) << certs.status();
  absl::StatusOr<testing::DevCerts> strangers =
      testing::MakeDevCerts(dir + "/theirs", {"stranger"});
  ASSERT_TRUE(strangers.ok()) << strangers.status();
  ScriptedFunctionService function;
  GrpcServerSecurity server_security;
  server_security.cert_file = certs->server_cert;
  server_security.key_file = certs->server_key;
  server_security.client_ca_file = certs->ca;
  auto server = GrpcServer::Start("127.0.0.1:0", {&function}, server_security);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string grpcs = absl::StrCat("grpcs://127.0.0.1:", (*server)->port());
  v1::InvokeRequest request;
  *request.add_records() = Rec(1);

  GrpcClientSecurity ours;
  ours.ca_file = certs->ca;
  ours.cert_file = certs->ClientCert("poller");
  ours.key_file = certs->ClientKey("poller");
  GrpcFunctionInvoker invoker(ours);
  auto reply = invoker.Invoke(grpcs, request, absl::Seconds(30));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->function_error(), "saw 1");

  EXPECT_EQ(
      invoker.Invoke(absl::StrCat("127.0.0.1:", (*server)->port()), request, absl::Seconds(30))
          .status()
          .code(),
      absl::StatusCode::kUnavailable)
      << "a plaintext call to a TLS function";
  GrpcClientSecurity no_certificate;
  no_certificate.ca_file = certs->ca;
  EXPECT_EQ(
      GrpcFunctionInvoker(no_certificate).Invoke(grpcs, request, absl::Seconds(30)).status().code(),
      absl::StatusCode::kUnauthenticated)
      << "the server authenticates by client certificate";
  GrpcClientSecurity wrong_ca = ours;
  wrong_ca.ca_file = strangers->ca;
  EXPECT_EQ(GrpcFunctionInvoker(wrong_ca).Invoke(grpcs, request, absl::Seconds(30)).status().code(),
            absl::StatusCode::kUnavailable)
      << "a server certificate from a CA this poller does not trust";
}

TEST(GrpcFunctionInvokerTest, UnreachableEndpointIsUnavailable) {
  GrpcFunctionInvoker invoker;
  auto reply = invoker.Invoke("127.0.0.1:1", v1::InvokeRequest(), absl::Seconds(30));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
}

TEST(GrpcFunctionInvokerTest, TumblingWindowFieldsCrossTheWireAndAnEmptyStateIsPresent) {
  ScriptedFunctionService function;
  auto server = GrpcServer::Start("127.0.0.1:0", {&function});
  ASSERT_TRUE(server.ok());
  GrpcFunctionInvoker invoker;
  v1::InvokeRequest request;
  *request.add_records() = Rec(1);
  request.mutable_window()->mutable_start()->set_seconds(100);
  request.mutable_window()->mutable_end()->set_seconds(160);
  (*request.mutable_state()->mutable_values())["count"] = "7";
  auto reply = invoker.Invoke((*server)->address(), request, absl::Seconds(30));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->state().values().at("count"), "7");
  EXPECT_EQ(reply->state().values().at("saw"), "100-160 1 early=0");

  request.clear_records();
  request.set_is_final_invoke_for_window(true);
  reply = invoker.Invoke((*server)->address(), request, absl::Seconds(30));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(reply->has_state()) << "an empty state message is still present";
  EXPECT_TRUE(reply->state().values().empty());
}

}  // namespace
}  // namespace tributary::poller
