// Authorization and audit on a real GrpcServer over loopback with bearer tokens for two
// principals: a sync method (CreateStream, DeleteStream) and a callback one (PutRecords), as
// StreamsService has both kinds.
#include "common/grpc_authz_gate.h"

#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/synchronization/mutex.h"
#include "common/auth_tokens.h"
#include "common/grpc_server.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/streams.grpc.pb.h"

namespace tributary {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Counts the calls that reached it: a denied call must not.
class CountingStreams final
    : public v1::Streams::WithCallbackMethod_PutRecords<
          v1::Streams::WithCallbackMethod_SubscribeToShard<v1::Streams::Service>> {
 public:
  grpc::ServerWriteReactor<v1::SubscribeToShardEvent>* SubscribeToShard(
      grpc::CallbackServerContext*, const v1::SubscribeToShardRequest*) override {
    Count();
    class Done final : public grpc::ServerWriteReactor<v1::SubscribeToShardEvent> {
     public:
      Done() { Finish(grpc::Status::OK); }
      void OnDone() override { delete this; }
    };
    return new Done();
  }
  grpc::Status CreateStream(grpc::ServerContext*, const v1::CreateStreamRequest*,
                            v1::CreateStreamResponse*) override {
    Count();
    return grpc::Status::OK;
  }
  grpc::Status DeleteStream(grpc::ServerContext*, const v1::DeleteStreamRequest*,
                            v1::DeleteStreamResponse*) override {
    Count();
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such stream");
  }
  grpc::ServerUnaryReactor* PutRecords(grpc::CallbackServerContext* context,
                                       const v1::PutRecordsRequest*,
                                       v1::PutRecordsResponse*) override {
    Count();
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  void Count() {
    absl::MutexLock lock(&mu_);
    ++calls_;
  }
  mutable absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

constexpr char kPolicy[] = R"({"Statement": [
  {"Effect": "Allow", "Principal": "alice", "Action": "kinesis:PutRecords",
   "Resource": "arn:aws:kinesis:*:*:stream/orders"},
  {"Effect": "Allow", "Principal": "admin", "Action": "kinesis:*", "Resource": "*"}]})";

class GrpcAuthzGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::NewTempDir("authz");
    std::ofstream(dir_ + "/tokens") << Sha256Hex("alice-token") << " alice\n"
                                    << Sha256Hex("admin-token") << " admin\n";
    std::ofstream(dir_ + "/policy.json") << kPolicy;
    GrpcServerSecurity security;
    security.auth_tokens_file = dir_ + "/tokens";
    security.policy_file = dir_ + "/policy.json";
    security.audit_log = dir_ + "/audit.log";
    auto server = GrpcServer::Start("127.0.0.1:0", {&streams_}, security);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<v1::Streams::Stub> StubFor(const std::string& token) {
    GrpcClientSecurity client;
    client.token = token;
    return v1::Streams::NewStub(MakeChannel(server_->address(), client));
  }
  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }
  grpc::Status PutRecords(const std::string& token, const std::string& stream) {
    v1::PutRecordsRequest request;
    request.set_stream_name(stream);
    v1::PutRecordsResponse response;
    return StubFor(token)->PutRecords(Context().get(), request, &response);
  }
  grpc::Status CreateStream(const std::string& token, const std::string& stream) {
    v1::CreateStreamRequest request;
    request.set_stream_name(stream);
    v1::CreateStreamResponse response;
    return StubFor(token)->CreateStream(Context().get(), request, &response);
  }
  std::string AuditText() {
    std::ifstream in(dir_ + "/audit.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string dir_;
  CountingStreams streams_;
  std::unique_ptr<GrpcServer> server_;
};

TEST_F(GrpcAuthzGateTest, AllowedCallsOnTheirStreamSucceed) {
  grpc::Status status = PutRecords("alice-token", "orders");
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(streams_.calls(), 1);
}

TEST_F(GrpcAuthzGateTest, CallbackMethodOnAnotherStreamIsDeniedBeforeTheService) {
  grpc::Status status = PutRecords("alice-token", "other");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("kinesis:PutRecords"));
  EXPECT_THAT(status.error_message(), HasSubstr("stream/other"));
  EXPECT_THAT(status.error_message(), Not(HasSubstr("stream/orders")));
  EXPECT_EQ(streams_.calls(), 0);
}

TEST_F(GrpcAuthzGateTest, SyncMethodNotAllowedIsDeniedBeforeTheService) {
  grpc::Status status = CreateStream("alice-token", "orders");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("kinesis:CreateStream"));
  EXPECT_EQ(streams_.calls(), 0);
  EXPECT_TRUE(CreateStream("admin-token", "orders").ok());
  EXPECT_EQ(streams_.calls(), 1);
}

TEST_F(GrpcAuthzGateTest, ServerStreamingMethodOnAnotherStreamIsDeniedBeforeTheService) {
  v1::SubscribeToShardRequest request;
  request.set_stream_name("other");
  auto context = Context();
  auto reader = StubFor("alice-token")->SubscribeToShard(context.get(), request);
  v1::SubscribeToShardEvent event;
  EXPECT_FALSE(reader->Read(&event));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("kinesis:SubscribeToShard"));
  EXPECT_EQ(streams_.calls(), 0);
}

TEST_F(GrpcAuthzGateTest, DenialsAndControlPlaneCallsAreAuditedOthersAreNot) {
  ASSERT_TRUE(PutRecords("alice-token", "orders").ok());
  ASSERT_EQ(PutRecords("alice-token", "other").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_EQ(CreateStream("alice-token", "x").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(CreateStream("admin-token", "orders").ok());
  v1::DeleteStreamRequest del;
  del.set_stream_name("gone");
  v1::DeleteStreamResponse deleted;
  ASSERT_EQ(StubFor("admin-token")->DeleteStream(Context().get(), del, &deleted).error_code(),
            grpc::StatusCode::NOT_FOUND);
  const std::string audit = AuditText();
  EXPECT_THAT(audit, HasSubstr(R"("principal":"alice","action":"kinesis:PutRecords",)"
                               R"("resource":"arn:aws:kinesis:us-east-1:000000000000:stream/other",)"
                               R"("outcome":"PERMISSION_DENIED"})"));
  EXPECT_THAT(audit, HasSubstr(R"("principal":"alice","action":"kinesis:CreateStream",)"
                               R"("resource":"arn:aws:kinesis:us-east-1:000000000000:stream/x",)"
                               R"("outcome":"PERMISSION_DENIED"})"));
  EXPECT_THAT(audit, HasSubstr(R"("principal":"admin","action":"kinesis:CreateStream",)"
                               R"("resource":"arn:aws:kinesis:us-east-1:000000000000:stream/orders",)"
                               R"("outcome":"OK"})"));
  EXPECT_THAT(audit, HasSubstr(R"("action":"kinesis:DeleteStream",)"
                               R"("resource":"arn:aws:kinesis:us-east-1:000000000000:stream/gone",)"
                               R"("outcome":"NOT_FOUND"})"));
  EXPECT_THAT(audit, Not(HasSubstr(R"("action":"kinesis:PutRecords",)"
                                   R"("resource":"arn:aws:kinesis:us-east-1:000000000000:stream/orders")")))
      << "an allowed PutRecords is data plane and not audited";
  EXPECT_EQ(std::count(audit.begin(), audit.end(), '\n'), 4);
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/audit.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST_F(GrpcAuthzGateTest, TheProcessesOwnInProcessCallsAreNotDenied) {
  auto stub = v1::Streams::NewStub(server_->InProcessChannel());
  v1::CreateStreamRequest request;
  request.set_stream_name("internal");
  v1::CreateStreamResponse response;
  grpc::Status status = stub->CreateStream(Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// The console acts through the in-process channel (never denied) on an operator's behalf: it
// asks the gate first, as that operator, and the denial and the done action are audited in
// their name. An empty principal is nobody here (only Principal "*"), not the process.
TEST_F(GrpcAuthzGateTest, ActionsOnBehalfOfAPrincipalFollowThePolicyAndAreAudited) {
  GrpcAuthzGate* gate = server_->authz_gate();
  ASSERT_NE(gate, nullptr);
  v1::CreateStreamRequest request;
  request.set_stream_name("orders");
  const std::string method = "/tributary.v1.Streams/CreateStream";
  absl::Status denied = gate->AuthorizeOnBehalf("alice", method, request);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.message(), HasSubstr("alice"));
  EXPECT_THAT(denied.message(), HasSubstr("kinesis:CreateStream"));
  EXPECT_EQ(gate->AuthorizeOnBehalf("", method, request).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(gate->AuthorizeOnBehalf("admin", method, request).ok());
  gate->AuditOnBehalf("admin", method, request, absl::StatusCode::kOk);
  v1::PutRecordsRequest put;
  put.set_stream_name("orders");
  gate->AuditOnBehalf("alice", "/tributary.v1.Streams/PutRecords", put, absl::StatusCode::kOk);

  const std::string audit = AuditText();
  EXPECT_THAT(audit, HasSubstr(R"("principal":"alice","action":"kinesis:CreateStream",)"
                               R"("resource":"arn:aws:kinesis:us-east-1:000000000000:stream/orders",)"
                               R"("outcome":"PERMISSION_DENIED")"));
  EXPECT_THAT(audit, HasSubstr(R"("principal":"admin","action":"kinesis:CreateStream",)"
                               R"("resource":"arn:aws:kinesis:us-east-1:000000000000:stream/orders",)"
                               R"("outcome":"OK")"));
  EXPECT_EQ(std::count(audit.begin(), audit.end(), '\n'), 3)
      << "two denials and one control-plane action; a data-plane call is not audited: " << audit;
  EXPECT_EQ(streams_.calls(), 0) << "asking the gate runs nothing";
}

TEST_F(GrpcAuthzGateTest, ABadPolicyFileFailsTheStart) {
  std::ofstream(dir_ + "/bad.json") << "{";
  GrpcServerSecurity security;
  security.auth_tokens_file = dir_ + "/tokens";
  security.policy_file = dir_ + "/bad.json";
  CountingStreams other;
  auto server = GrpcServer::Start("127.0.0.1:0", {&other}, security);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

// A raw callback method (StreamsService's PutRecords gets its request's bytes, to refuse before
// parsing): the gate reads the stream's name from them for its decision (skipping the records,
// not parsing them), and the handler still gets the bytes.
class RawPutRecordsStreams final
    : public v1::Streams::WithRawCallbackMethod_PutRecords<v1::Streams::Service> {
 public:
  grpc::ServerUnaryReactor* PutRecords(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override {
    {
      absl::MutexLock lock(&mu_);
      ++calls_;
      last_request_bytes_ = request->Length();
    }
    bool own = false;
    grpc::Status status =
        grpc::SerializationTraits<v1::PutRecordsResponse>::Serialize(v1::PutRecordsResponse(),
                                                                     response, &own);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  size_t last_request_bytes() const {
    absl::MutexLock lock(&mu_);
    return last_request_bytes_;
  }

 private:
  mutable absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  size_t last_request_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_F(GrpcAuthzGateTest, ARawMethodIsDecidedOnItsParsedRequest) {
  GrpcServerSecurity security;
  security.auth_tokens_file = dir_ + "/tokens";
  security.policy_file = dir_ + "/policy.json";
  RawPutRecordsStreams raw;
  auto server = GrpcServer::Start("127.0.0.1:0", {&raw}, security);
  ASSERT_TRUE(server.ok()) << server.status();
  auto put = [&](const std::string& token, const std::string& stream) {
    GrpcClientSecurity client;
    client.token = token;
    v1::PutRecordsRequest request;
    request.set_stream_name(stream);
    request.add_records()->set_data("payload");
    v1::PutRecordsResponse response;
    return v1::Streams::NewStub(MakeChannel((*server)->address(), client))
        ->PutRecords(Context().get(), request, &response);
  };
  grpc::Status allowed = put("alice-token", "orders");
  EXPECT_TRUE(allowed.ok()) << allowed.error_message();
  EXPECT_EQ(raw.calls(), 1);
  EXPECT_GT(raw.last_request_bytes(), 0u) << "the handler did not get the request's bytes";
  grpc::Status denied = put("alice-token", "other");
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED) << denied.error_message();
  EXPECT_THAT(denied.error_message(), HasSubstr("stream/other"));
  EXPECT_EQ(raw.calls(), 1) << "a denied call reached the raw handler";
  // The gate reads the stream from the bytes without parsing the records: a second stream_name
  // after them (the last wins in a parse, so the service would act on it) decides.
  v1::PutRecordsRequest smuggled;
  smuggled.set_stream_name("orders");
  for (int i = 0; i < 50; ++i) smuggled.add_records()->set_data("payload");
  smuggled.GetReflection()->MutableUnknownFields(&smuggled)->AddLengthDelimited(1, "other");
  v1::PutRecordsRequest as_served;
  ASSERT_TRUE(as_served.ParseFromString(smuggled.SerializeAsString()));
  ASSERT_EQ(as_served.stream_name(), "other");
  GrpcClientSecurity alice;
  alice.token = "alice-token";
  v1::PutRecordsResponse response;
  grpc::Status last_wins = v1::Streams::NewStub(MakeChannel((*server)->address(), alice))
                               ->PutRecords(Context().get(), smuggled, &response);
  EXPECT_EQ(last_wins.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << last_wins.error_message();
  EXPECT_THAT(last_wins.error_message(), HasSubstr("stream/other"));
  EXPECT_EQ(raw.calls(), 1) << "a call naming another stream last reached the raw handler";
}

}  // namespace
}  // namespace tributary
