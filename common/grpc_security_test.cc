// gRPC servers and channels secured as grpc_security.h says, over real sockets on 127.0.0.1 with
// certificates from tools/dev_certs.sh: TLS, mutual TLS, bearer tokens, the principal a service
// sees, what is refused and how, and certificates replaced under a running server.
#include "common/grpc_security.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/auth_tokens.h"
#include "common/await.h"
#include "common/grpc_server.h"
#include "common/replica_channel.h"
#include "common/testing/assertions.h"
#include "common/testing/dev_certs.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/function.grpc.pb.h"

namespace tributary {
namespace {

using ::testing::HasSubstr;

// Answers every call and remembers the principal it was made as.
class PrincipalRecordingFunction final : public v1::Function::Service {
 public:
  grpc::Status Invoke(grpc::ServerContext* context, const v1::InvokeRequest*,
                      v1::InvokeResponse*) override {
    absl::MutexLock lock(&mu_);
    last_principal_ = CallPrincipal(*context);
    std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
    principal_labels_ = auth == nullptr ? 0 : auth->FindPropertyValues("tributary_principal").size();
    saw_authorization_ = context->client_metadata().count("authorization") > 0;
    return grpc::Status::OK;
  }
  std::string last_principal() const {
    absl::MutexLock lock(&mu_);
    return last_principal_;
  }
  // How many principal properties the last call's AuthContext held (one per connection).
  size_t principal_labels() const {
    absl::MutexLock lock(&mu_);
    return principal_labels_;
  }
  bool saw_authorization() const {
    absl::MutexLock lock(&mu_);
    return saw_authorization_;
  }

 private:
  mutable absl::Mutex mu_;
  std::string last_principal_ ABSL_GUARDED_BY(mu_);
  bool saw_authorization_ ABSL_GUARDED_BY(mu_) = false;
  size_t principal_labels_ ABSL_GUARDED_BY(mu_) = 0;
};

class GrpcSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = testing::NewTempDir("certs");
    auto certs = testing::MakeDevCerts(dir + "/trusted", {"alice", "poller-1"});
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = new testing::DevCerts(*certs);
    auto untrusted = testing::MakeDevCerts(dir + "/untrusted", {"mallory"});
    ASSERT_TRUE(untrusted.ok()) << untrusted.status();
    untrusted_ = new testing::DevCerts(*untrusted);
    tokens_file_ = new std::string(dir + "/tokens");
    std::ofstream(*tokens_file_) << Sha256Hex("alice-token") << " alice\n"
                                 << Sha256Hex("poller-token") << " poller-1\n";
  }
  static void TearDownTestSuite() {
    delete certs_;
    delete untrusted_;
    delete tokens_file_;
  }

  void Serve(const GrpcServerSecurity& security, const std::string& listen = "127.0.0.1:0") {
    auto server = GrpcServer::Start(listen, {&function_}, security);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  GrpcServerSecurity Tls() const {
    GrpcServerSecurity security;
    security.cert_file = certs_->server_cert;
    security.key_file = certs_->server_key;
    return security;
  }
  GrpcServerSecurity MutualTls() const {
    GrpcServerSecurity security = Tls();
    security.client_ca_file = certs_->ca;
    return security;
  }
  GrpcClientSecurity TrustingClient() const {
    GrpcClientSecurity client;
    client.ca_file = certs_->ca;
    return client;
  }
  GrpcClientSecurity ClientWithCertificate(const testing::DevCerts& certs,
                                           const std::string& name) const {
    GrpcClientSecurity client = TrustingClient();
    client.cert_file = certs.ClientCert(name);
    client.key_file = certs.ClientKey(name);
    return client;
  }

  // One Invoke on a new channel; each channel its own connection (a local subchannel pool).
  grpc::Status Call(const GrpcClientSecurity& client, std::string* server_pem = nullptr) {
    return CallOn(NewChannel(client), server_pem);
  }
  std::shared_ptr<grpc::Channel> NewChannel(const GrpcClientSecurity& client) {
    EXPECT_OK(ValidateClientSecurity(client));
    if (client.token.empty()) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      if (!client.server_name.empty()) args.SetSslTargetNameOverride(client.server_name);
      return grpc::CreateCustomChannel(server_->address(), MakeChannelCredentials(client), args);
    }
    return MakeChannel(server_->address(), client);
  }
  static grpc::Status CallOn(const std::shared_ptr<grpc::Channel>& channel,
                             std::string* server_pem = nullptr) {
    auto stub = v1::Function::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::InvokeRequest request;
    v1::InvokeResponse response;
    grpc::Status status = stub->Invoke(&context, request, &response);
    if (server_pem != nullptr && context.auth_context() != nullptr) {
      auto pem = context.auth_context()->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
      *server_pem = pem.empty() ? "" : std::string(pem.front().data(), pem.front().size());
    }
    return status;
  }

  static testing::DevCerts* certs_;
  static testing::DevCerts* untrusted_;
  static std::string* tokens_file_;
  PrincipalRecordingFunction function_;
  std::unique_ptr<GrpcServer> server_;
};

testing::DevCerts* GrpcSecurityTest::certs_ = nullptr;
testing::DevCerts* GrpcSecurityTest::untrusted_ = nullptr;
std::string* GrpcSecurityTest::tokens_file_ = nullptr;

TEST_F(GrpcSecurityTest, WithoutSecurityCallsArePlaintextAndHaveNoPrincipal) {
  Serve(GrpcServerSecurity());
  grpc::Status status = Call(GrpcClientSecurity());
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(function_.last_principal(), "");
}

TEST_F(GrpcSecurityTest, TlsServesAClientThatTrustsItsCa) {
  Serve(Tls());
  std::string pem;
  grpc::Status status = Call(TrustingClient(), &pem);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(pem, HasSubstr("BEGIN CERTIFICATE"));
}

// A list of replicas over TLS (common/replica_channel.h): the certificates are checked against
// the first address's host, and the channel fails over past a replica that is down.
TEST_F(GrpcSecurityTest, AReplicaListOverTlsVerifiesAndFailsOver) {
  Serve(Tls());
  const std::string port = server_->address().substr(server_->address().rfind(':') + 1);
  grpc::Status status =
      CallOn(MakeReplicaChannel("127.0.0.1:1,127.0.0.1:" + port, TrustingClient()));
  ASSERT_TRUE(status.ok()) << status.error_message();
  // A certificate for another name is still refused.
  GrpcClientSecurity other = TrustingClient();
  other.server_name = "elsewhere.example";
  EXPECT_FALSE(CallOn(MakeReplicaChannel("127.0.0.1:1,127.0.0.1:" + port, other)).ok());
}

TEST_F(GrpcSecurityTest, APlaintextClientOfATlsServerIsRefused) {
  Serve(Tls());
  grpc::Status status = Call(GrpcClientSecurity());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(GrpcSecurityTest, AClientRefusesAServerItsCaDidNotSign) {
  Serve(Tls());
  GrpcClientSecurity client;
  client.ca_file = untrusted_->ca;
  grpc::Status status = Call(client);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(GrpcSecurityTest, AClientRefusesACertificateForAnotherName) {
  Serve(Tls());
  GrpcClientSecurity client = TrustingClient();
  client.server_name = "tributary.example";  // not in server.pem's names
  grpc::Status status = Call(client);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  client.server_name = "localhost";  // in them
  status = Call(client);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(GrpcSecurityTest, TokensOverTlsDecideWhoCalls) {
  GrpcServerSecurity security = Tls();
  security.auth_tokens_file = *tokens_file_;
  Serve(security);

  grpc::Status none = Call(TrustingClient());
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(none.error_message(), HasSubstr("bearer token"));

  GrpcClientSecurity wrong = TrustingClient();
  wrong.token = "not-a-token";
  grpc::Status refused = Call(wrong);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(refused.error_message(), "unknown bearer token");

  GrpcClientSecurity valid = TrustingClient();
  valid.token = "alice-token";
  grpc::Status ok = Call(valid);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(function_.last_principal(), "alice");
  EXPECT_FALSE(function_.saw_authorization()) << "the token reached the handler";
}

// gRPC gives the calls of one connection one AuthContext: the principal is added to it once,
// not per call (it grew by a property a call, and every CallPrincipal searched them all).
TEST_F(GrpcSecurityTest, AConnectionIsLabelledWithItsPrincipalOnce) {
  GrpcServerSecurity security = MutualTls();
  security.auth_tokens_file = *tokens_file_;
  Serve(security);
  GrpcClientSecurity client = TrustingClient();
  client.token = "alice-token";
  std::shared_ptr<grpc::Channel> channel = NewChannel(client);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(CallOn(channel).ok()) << i;
  EXPECT_EQ(function_.last_principal(), "alice");
  EXPECT_EQ(function_.principal_labels(), 1u);

  std::shared_ptr<grpc::Channel> certified = NewChannel(ClientWithCertificate(*certs_, "alice"));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(CallOn(certified).ok()) << i;
  EXPECT_EQ(function_.last_principal(), "CN=alice");
  EXPECT_EQ(function_.principal_labels(), 1u);
}

// A call whose credentials name another principal than the one its connection was labelled with
// is refused, never served as the first one.
TEST_F(GrpcSecurityTest, AConnectionCarriesOnePrincipal) {
  GrpcServerSecurity security = MutualTls();
  security.auth_tokens_file = *tokens_file_;
  Serve(security);
  std::shared_ptr<grpc::Channel> channel = NewChannel(ClientWithCertificate(*certs_, "alice"));
  auto stub = v1::Function::NewStub(channel);
  auto invoke = [&](const std::string& token) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    v1::InvokeRequest request;
    v1::InvokeResponse response;
    return stub->Invoke(&context, request, &response);
  };
  ASSERT_TRUE(invoke("").ok());
  EXPECT_EQ(function_.last_principal(), "CN=alice");
  grpc::Status other = invoke("poller-token");
  EXPECT_EQ(other.error_code(), grpc::StatusCode::UNAUTHENTICATED) << other.error_message();
  EXPECT_THAT(other.error_message(), HasSubstr("another principal"));
  EXPECT_EQ(function_.last_principal(), "CN=alice");
  EXPECT_EQ(invoke("not-a-token").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(invoke("").ok());
}

TEST_F(GrpcSecurityTest, MutualTlsNamesTheCallerByItsCertificateSubject) {
  Serve(MutualTls());
  grpc::Status status = Call(ClientWithCertificate(*certs_, "alice"));
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(function_.last_principal(), "CN=alice");
}

TEST_F(GrpcSecurityTest, MutualTlsRefusesACertificateOfAnotherCa) {
  Serve(MutualTls());
  grpc::Status status = Call(ClientWithCertificate(*untrusted_, "mallory"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(function_.last_principal(), "");
}

TEST_F(GrpcSecurityTest, MutualTlsWithoutACertificateIsUnauthenticated) {
  Serve(MutualTls());
  grpc::Status status = Call(TrustingClient());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("client certificate"));
}

TEST_F(GrpcSecurityTest, UnderMutualTlsATokenMayStandInForACertificate) {
  GrpcServerSecurity security = MutualTls();
  security.auth_tokens_file = *tokens_file_;
  Serve(security);
  GrpcClientSecurity client = TrustingClient();
  client.token = "poller-token";
  grpc::Status status = Call(client);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(function_.last_principal(), "poller-1");
  // A wrong token is refused even with a good certificate: bad credentials are never ignored.
  GrpcClientSecurity both = ClientWithCertificate(*certs_, "alice");
  both.token = "not-a-token";
  EXPECT_EQ(Call(both).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GrpcSecurityTest, TokensWorkOverPlaintextOnLoopback) {
  GrpcServerSecurity security;
  security.auth_tokens_file = *tokens_file_;
  Serve(security);
  EXPECT_EQ(Call(GrpcClientSecurity()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  GrpcClientSecurity wrong;
  wrong.token = "alice-token-2";
  EXPECT_EQ(Call(wrong).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  GrpcClientSecurity valid;
  valid.token = "alice-token";
  grpc::Status status = Call(valid);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(function_.last_principal(), "alice");
}

TEST_F(GrpcSecurityTest, TokensOverPlaintextOffLoopbackAreRefusedAtStart) {
  GrpcServerSecurity security;
  security.auth_tokens_file = *tokens_file_;
  auto server = GrpcServer::Start("0.0.0.0:0", {&function_}, security);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), HasSubstr("loopback"));
}

TEST_F(GrpcSecurityTest, HealthChecksNeedNoCredentials) {
  GrpcServerSecurity security = MutualTls();
  security.auth_tokens_file = *tokens_file_;
  Serve(security);
  // grpc.health.v1.Health/Check of the empty service name, as bytes (Debian ships no C++ code
  // of health.proto): the request is empty, the answer {status: SERVING} is 08 01.
  grpc::GenericStub stub(NewChannel(TrustingClient()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1), response;
  grpc::Status status;
  auto call = stub.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

TEST_F(GrpcSecurityTest, ReloadedTokensReplaceTheOldOnes) {
  const std::string path = testing::NewTempDir("tokens") + "/tokens";
  std::ofstream(path) << Sha256Hex("first") << " alice\n";
  GrpcServerSecurity security;
  security.auth_tokens_file = path;
  Serve(security);
  GrpcClientSecurity first, second;
  first.token = "first";
  second.token = "second";
  EXPECT_TRUE(Call(first).ok());
  EXPECT_EQ(Call(second).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  std::ofstream(path, std::ios::trunc) << Sha256Hex("second") << " bob\n";
  ASSERT_OK(server_->ReloadAuthTokens());
  EXPECT_EQ(Call(first).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(Call(second).ok());
  EXPECT_EQ(function_.last_principal(), "bob");

  // A broken file is refused and the tokens in use stay.
  std::ofstream(path, std::ios::trunc) << "garbage\n";
  EXPECT_EQ(server_->ReloadAuthTokens().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Call(second).ok());
}

TEST_F(GrpcSecurityTest, ARenewedCertificateServesNewConnectionsAndKeepsOpenOnes) {
  // The server reads its certificate from `live`, where it is replaced (key and certificate,
  // each by rename) with one made later by the same CA.
  const std::string live = testing::NewTempDir("live");
  auto copy = [](const std::string& from, const std::string& to) {
    std::ifstream in(from, std::ios::binary);
    std::ofstream(to + ".tmp", std::ios::binary | std::ios::trunc) << in.rdbuf();
    ASSERT_EQ(std::rename((to + ".tmp").c_str(), to.c_str()), 0) << to;
  };
  copy(certs_->server_cert, live + "/server.pem");
  copy(certs_->server_key, live + "/server.key");
  GrpcServerSecurity security;
  security.cert_file = live + "/server.pem";
  security.key_file = live + "/server.key";
  security.refresh_interval = absl::Seconds(1);
  Serve(security);

  std::shared_ptr<grpc::Channel> open = NewChannel(TrustingClient());
  std::string first_pem;
  ASSERT_TRUE(CallOn(open, &first_pem).ok());

  // A renewed certificate from the same CA (dev_certs.sh remakes server.pem, keeps ca.pem).
  ASSERT_TRUE(testing::MakeDevCerts(certs_->dir, {}).ok());
  copy(certs_->server_key, live + "/server.key.new");
  copy(certs_->server_cert, live + "/server.pem.new");
  std::string renewed_pem;
  {
    std::ifstream in(live + "/server.pem.new");
    renewed_pem.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_NE(renewed_pem, first_pem);
  ASSERT_EQ(std::rename((live + "/server.pem.new").c_str(), (live + "/server.pem").c_str()), 0);
  ASSERT_EQ(std::rename((live + "/server.key.new").c_str(), (live + "/server.key").c_str()), 0);

  std::string seen;
  ASSERT_OK(PollFor(
      absl::Seconds(20), absl::Milliseconds(100), "a new connection served the renewed certificate",
      [&] { return Call(TrustingClient(), &seen).ok() && seen == renewed_pem; },
      [&] { return seen == first_pem ? "the old certificate" : "something else"; }));
  // The connection opened before the renewal is still up, on the old certificate.
  std::string still;
  ASSERT_TRUE(CallOn(open, &still).ok());
  EXPECT_EQ(still, first_pem);
}

TEST(GrpcSecurityValidationTest, ATokenGoesInClearToLoopbackOnly) {
  GrpcClientSecurity token;
  token.token = "t";
  EXPECT_OK(CheckTokenStaysPrivate(token, "127.0.0.1:4560"));
  EXPECT_OK(CheckTokenStaysPrivate(token, "localhost:4560"));
  absl::Status remote = CheckTokenStaysPrivate(token, "10.0.0.7:4560");
  EXPECT_EQ(remote.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(remote.message(), HasSubstr("in clear"));
  // A list of replicas: every address is checked.
  EXPECT_OK(CheckTokenStaysPrivate(token, "127.0.0.1:4560,localhost:4561"));
  remote = CheckTokenStaysPrivate(token, "127.0.0.1:4560,10.0.0.8:4561");
  EXPECT_EQ(remote.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(remote.message(), HasSubstr("10.0.0.8:4561 in clear"));
  token.ca_file = "ca.pem";
  EXPECT_OK(CheckTokenStaysPrivate(token, "10.0.0.7:4560"));
  EXPECT_OK(CheckTokenStaysPrivate(GrpcClientSecurity(), "10.0.0.7:4560"));
}

TEST(GrpcSecurityValidationTest, NamesWhatIsWrong) {
  auto certs = testing::MakeDevCerts(testing::NewTempDir("certs"), {"alice"});
  ASSERT_TRUE(certs.ok()) << certs.status();
  struct Case {
    GrpcServerSecurity security;
    std::string says;
  };
  GrpcServerSecurity cert_only;
  cert_only.cert_file = certs->server_cert;
  GrpcServerSecurity mismatched;
  mismatched.cert_file = certs->server_cert;
  mismatched.key_file = certs->ClientKey("alice");
  GrpcServerSecurity ca_without_tls;
  ca_without_tls.client_ca_file = certs->ca;
  GrpcServerSecurity not_pem;
  not_pem.cert_file = certs->server_key;
  not_pem.key_file = certs->server_key;
  GrpcServerSecurity missing_tokens;
  missing_tokens.auth_tokens_file = certs->dir + "/none";
  for (const Case& c : std::vector<Case>{
           {cert_only, "tls_cert and tls_key go together"},
           {mismatched, "is not the key of the certificate"},
           {ca_without_tls, "tls_client_ca (mutual TLS) needs TLS"},
           {not_pem, "holds no PEM certificate"},
           {missing_tokens, "auth_tokens_file: cannot read"},
       }) {
    absl::Status s = ValidateServerSecurity(c.security);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.says;
    EXPECT_THAT(s.message(), HasSubstr(c.says));
    EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("PRIVATE KEY")));
  }
  GrpcClientSecurity cert_without_ca;
  cert_without_ca.cert_file = certs->ClientCert("alice");
  cert_without_ca.key_file = certs->ClientKey("alice");
  EXPECT_THAT(ValidateClientSecurity(cert_without_ca).message(), HasSubstr("needs TLS"));
  GrpcClientSecurity spaced;
  spaced.token = "two words";
  EXPECT_EQ(ValidateClientSecurity(spaced).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tributary
