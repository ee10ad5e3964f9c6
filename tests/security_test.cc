// Locks on the doors (issue 21), against the real binaries: every server speaking TLS with mutual
// TLS and bearer tokens, each service calling the others with its own client certificate.
//
//   - A matrix over a representative RPC of each service (Streams, Leasing, EventSourceMappings,
//     Functions, Pollers) and the ways a caller can come: plaintext, TLS without credentials, a
//     wrong token, a valid token, a trusted client certificate, a certificate of another CA.
//   - An end-to-end delivery run over that cluster: every acknowledged record reaches the function.
//   - The metrics endpoints of that cluster: HTTPS with a client certificate required.
//   - The AWS front door of `tributary serve` with TLS: HTTPS, HTTP/2 by ALPN.
//   - `tributary serve`: plaintext stays the default on 127.0.0.1; another address without TLS is
//     refused unless --allow_insecure, which logs a warning; SIGHUP re-reads the token file and
//     does not end the server; its web console (on the metrics port) is served only behind the
//     same authentication as its gRPC port.
// Certificates come from tools/dev_certs.sh in TEST_TMPDIR. Every wait is bounded.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aws/testing/tls_client.h"
#include "common/auth_tokens.h"
#include "common/await.h"
#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "common/testing/assertions.h"
#include "common/testing/dev_certs.h"
#include "common/testing/http_get.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leasing/leasing_client.h"
#include "proto/poller.grpc.pb.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tests/cluster.h"

namespace tributary::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kValidToken[] = "alice-token-9c1f";
constexpr char kWrongToken[] = "alice-token-0000";

// Certificates and tokens shared by the tests: services present client-<component>.pem, the
// operator "alice" has a certificate and a token; "mallory" has a certificate of another CA.
struct Credentials {
  testing::DevCerts trusted;
  testing::DevCerts untrusted;
  std::string tokens_file;
};

absl::StatusOr<Credentials> MakeCredentials() {
  const std::string dir = testing::NewTempDir("security");
  Credentials c;
  auto trusted = testing::MakeDevCerts(
      dir + "/trusted", {"shard_store", "leasing", "stream_tracker", "poller0", "alice"});
  if (!trusted.ok()) return trusted.status();
  c.trusted = *trusted;
  auto untrusted = testing::MakeDevCerts(dir + "/untrusted", {"mallory"});
  if (!untrusted.ok()) return untrusted.status();
  c.untrusted = *untrusted;
  c.tokens_file = dir + "/tokens";
  std::ofstream(c.tokens_file) << "# test principals\n" << Sha256Hex(kValidToken) << " alice\n";
  return c;
}

// Every server: TLS with the server certificate, mutual TLS, tokens; and as a client of the
// others: TLS verifying them, presenting its own certificate.
// A poller also verifies grpcs:// and https:// functions against the CA and presents its
// certificate to them.
std::vector<std::string> SecureFlags(const Credentials& c, const std::string& component) {
  std::vector<std::string> flags = {"--tls_cert=" + c.trusted.server_cert,
                                    "--tls_key=" + c.trusted.server_key,
                                    "--tls_client_ca=" + c.trusted.ca,
                                    "--auth_tokens_file=" + c.tokens_file,
                                    "--tls_ca=" + c.trusted.ca,
                                    "--tls_client_cert=" + c.trusted.ClientCert(component),
                                    "--tls_client_key=" + c.trusted.ClientKey(component)};
  if (absl::StartsWith(component, "poller")) {
    flags.push_back("--function_ca_file=" + c.trusted.ca);
    flags.push_back("--function_client_cert=" + c.trusted.ClientCert(component));
    flags.push_back("--function_client_key=" + c.trusted.ClientKey(component));
  }
  return flags;
}

enum class Caller {
  kPlaintext,
  kTlsWithoutCredentials,
  kWrongToken,
  kValidToken,
  kTrustedCertificate,
  kUntrustedCertificate,
};

enum class Service { kStreams, kLeasing, kEventSourceMappings, kFunctions, kPollers };

struct MatrixCase {
  Service service;
  Caller caller;
};

std::string CaseName(const ::testing::TestParamInfo<MatrixCase>& info) {
  std::string name;
  switch (info.param.service) {
    case Service::kStreams:
      name = "ListStreams";
      break;
    case Service::kLeasing:
      name = "ListLeases";
      break;
    case Service::kEventSourceMappings:
      name = "ListEventSourceMappings";
      break;
    case Service::kFunctions:
      name = "ListFunctions";
      break;
    case Service::kPollers:
      name = "GetPollerMetrics";
      break;
  }
  switch (info.param.caller) {
    case Caller::kPlaintext:
      return name + "_Plaintext";
    case Caller::kTlsWithoutCredentials:
      return name + "_TlsWithoutCredentials";
    case Caller::kWrongToken:
      return name + "_WrongToken";
    case Caller::kValidToken:
      return name + "_ValidToken";
    case Caller::kTrustedCertificate:
      return name + "_TrustedCertificate";
    case Caller::kUntrustedCertificate:
      return name + "_UntrustedCertificate";
  }
  return name;
}

// What each caller must get: a refused handshake is UNAVAILABLE (the transport's), missing or
// wrong credentials UNAUTHENTICATED, valid ones an answer.
absl::StatusCode Expected(Caller caller) {
  switch (caller) {
    case Caller::kPlaintext:
    case Caller::kUntrustedCertificate:
      return absl::StatusCode::kUnavailable;
    case Caller::kTlsWithoutCredentials:
    case Caller::kWrongToken:
      return absl::StatusCode::kUnauthenticated;
    case Caller::kValidToken:
    case Caller::kTrustedCertificate:
      return absl::StatusCode::kOk;
  }
  return absl::StatusCode::kUnknown;
}

class SecureClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto credentials = MakeCredentials();
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    credentials_ = new Credentials(*std::move(credentials));
    ClusterOptions options;
    options.pollers = 1;
    options.metrics = true;
    options.extra_flags = [](const std::string& component) {
      return SecureFlags(*credentials_, component);
    };
    options.client_security = As(Caller::kTrustedCertificate);
    cluster_ = new Cluster(options);
    absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << "the secured cluster did not start: " << started;
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
    delete credentials_;
    credentials_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(cluster_, nullptr); }

  static GrpcClientSecurity As(Caller caller) {
    GrpcClientSecurity security;
    if (caller == Caller::kPlaintext) return security;
    security.ca_file = credentials_->trusted.ca;
    switch (caller) {
      case Caller::kWrongToken:
        security.token = kWrongToken;
        break;
      case Caller::kValidToken:
        security.token = kValidToken;
        break;
      case Caller::kTrustedCertificate:
        security.cert_file = credentials_->trusted.ClientCert("alice");
        security.key_file = credentials_->trusted.ClientKey("alice");
        break;
      case Caller::kUntrustedCertificate:
        security.cert_file = credentials_->untrusted.ClientCert("mallory");
        security.key_file = credentials_->untrusted.ClientKey("mallory");
        break;
      default:
        break;
    }
    return security;
  }

  static absl::Status CallService(Service service, const GrpcClientSecurity& security) {
    const absl::Duration timeout = absl::Seconds(10);
    switch (service) {
      case Service::kStreams: {
        shard_store::ShardStoreClient client(MakeChannel(cluster_->shard_store_address(), security),
                                             timeout);
        return client.ListStreams(v1::ListStreamsRequest()).status();
      }
      case Service::kLeasing: {
        leasing::LeasingClient client(MakeChannel(cluster_->leasing_address(), security), timeout);
        return client.ListLeases(v1::ListLeasesRequest()).status();
      }
      case Service::kEventSourceMappings: {
        stream_tracker::StreamTrackerClient client(
            MakeChannel(cluster_->stream_tracker_address(), security), timeout);
        return client.ListEventSourceMappings(v1::ListEventSourceMappingsRequest()).status();
      }
      case Service::kFunctions: {
        stream_tracker::StreamTrackerClient client(
            MakeChannel(cluster_->stream_tracker_address(), security), timeout);
        return client.ListFunctions(v1::ListFunctionsRequest()).status();
      }
      case Service::kPollers: {
        auto stub = v1::Pollers::NewStub(MakeChannel(cluster_->poller_address(), security));
        return CallUnary(stub.get(), &v1::Pollers::Stub::GetMetrics, v1::GetMetricsRequest(),
                         timeout)
            .status();
      }
    }
    return absl::InternalError("unknown service");
  }

  static Credentials* credentials_;
  static Cluster* cluster_;
};

Credentials* SecureClusterTest::credentials_ = nullptr;
Cluster* SecureClusterTest::cluster_ = nullptr;

class SecurityMatrixTest : public SecureClusterTest,
                           public ::testing::WithParamInterface<MatrixCase> {};

TEST_P(SecurityMatrixTest, EachCallerGetsTheDocumentedAnswer) {
  const MatrixCase& c = GetParam();
  absl::Status status = CallService(c.service, As(c.caller));
  EXPECT_EQ(status.code(), Expected(c.caller)) << status;
  if (c.caller == Caller::kWrongToken) {
    EXPECT_THAT(std::string(status.message()), HasSubstr("unknown bearer token"));
    EXPECT_THAT(std::string(status.message()), ::testing::Not(HasSubstr(kWrongToken)));
  }
}

std::vector<MatrixCase> AllCases() {
  std::vector<MatrixCase> cases;
  for (Service s : {Service::kStreams, Service::kLeasing, Service::kEventSourceMappings,
                    Service::kFunctions, Service::kPollers}) {
    for (Caller c :
         {Caller::kPlaintext, Caller::kTlsWithoutCredentials, Caller::kWrongToken,
          Caller::kValidToken, Caller::kTrustedCertificate, Caller::kUntrustedCertificate}) {
      cases.push_back({s, c});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Services, SecurityMatrixTest, ::testing::ValuesIn(AllCases()), CaseName);

// The services reach each other over mutual TLS (the poller as CN=poller0, the tracker as
// CN=stream_tracker): records written by a token-holding producer are all delivered.
TEST_F(SecureClusterTest, EveryAcknowledgedRecordIsDeliveredOverMutualTls) {
  constexpr char kStream[] = "secured";
  v1::CreateStreamRequest create;
  create.set_stream_name(kStream);
  create.set_shard_count(2);
  ASSERT_OK(cluster_->streams().CreateStream(create).status());
  stream_tracker::StreamTrackerClient tracker(
      MakeChannel(cluster_->stream_tracker_address(), As(Caller::kValidToken)));
  v1::CreateEventSourceMappingRequest mapping;
  mapping.set_stream_name(kStream);
  mapping.set_function_endpoint(cluster_->function_address());
  mapping.set_starting_position(v1::TRIM_HORIZON_POSITION);
  mapping.set_batch_size(100);
  ASSERT_OK(tracker.CreateEventSourceMapping(mapping).status());

  Producer producer(kStream, cluster_->shard_store_address(), /*keys=*/16,
                    /*records_per_call=*/50, /*records_per_second=*/2000, As(Caller::kValidToken));
  producer.Start(1000);
  ASSERT_TRUE(producer.WaitForAcked(1000, absl::Seconds(60)));
  producer.Stop();
  const std::vector<Acked> acked = producer.AckedRecords();
  absl::Status last;
  ASSERT_OK(PollFor(
      absl::Seconds(60), absl::Milliseconds(100), "every acknowledged record delivered",
      [&] {
        last = CheckEveryAckedDelivered(acked, cluster_->function().Deliveries());
        return last.ok();
      },
      [&] { return last.ToString(); }));
  EXPECT_OK(CheckFirstDeliveriesInKeyOrder(acked, cluster_->function().Deliveries()));
}

// A function behind mutual TLS, reached as grpcs://: the poller verifies the function's
// certificate (--function_ca_file) and presents its own (--function_client_cert), which the
// function's server requires; every acknowledged record arrives.
TEST_F(SecureClusterTest, AGrpcsFunctionBehindMutualTlsGetsEveryRecord) {
  constexpr char kStream[] = "to_tls_function";
  RecordingFunction function;
  GrpcServerSecurity function_security;
  function_security.cert_file = credentials_->trusted.server_cert;
  function_security.key_file = credentials_->trusted.server_key;
  function_security.client_ca_file = credentials_->trusted.ca;
  absl::StatusOr<std::unique_ptr<GrpcServer>> function_server =
      GrpcServer::Start("127.0.0.1:0", {&function}, function_security);
  ASSERT_OK(function_server.status());
  v1::CreateStreamRequest create;
  create.set_stream_name(kStream);
  create.set_shard_count(1);
  ASSERT_OK(cluster_->streams().CreateStream(create).status());
  stream_tracker::StreamTrackerClient tracker(
      MakeChannel(cluster_->stream_tracker_address(), As(Caller::kValidToken)));
  v1::CreateEventSourceMappingRequest mapping;
  mapping.set_stream_name(kStream);
  mapping.set_function_endpoint(absl::StrCat("grpcs://127.0.0.1:", (*function_server)->port()));
  mapping.set_starting_position(v1::TRIM_HORIZON_POSITION);
  mapping.set_batch_size(50);
  ASSERT_OK(tracker.CreateEventSourceMapping(mapping).status());

  Producer producer(kStream, cluster_->shard_store_address(), /*keys=*/4,
                    /*records_per_call=*/20, /*records_per_second=*/1000, As(Caller::kValidToken));
  producer.Start(200);
  ASSERT_TRUE(producer.WaitForAcked(200, absl::Seconds(60)));
  producer.Stop();
  const std::vector<Acked> acked = producer.AckedRecords();
  absl::Status last;
  ASSERT_OK(PollFor(
      absl::Seconds(60), absl::Milliseconds(100), "every acknowledged record at the TLS function",
      [&] {
        last = CheckEveryAckedDelivered(acked, function.Deliveries());
        return last.ok();
      },
      [&] { return last.ToString(); }));
  EXPECT_OK(CheckFirstDeliveriesInKeyOrder(acked, function.Deliveries()));
}

// Every server's metrics endpoint is HTTPS with its certificate, and wants a client certificate.
TEST_F(SecureClusterTest, MetricsEndpointsServeOnlyClientsWithATrustedCertificate) {
  using aws::testing::TlsConnection;
  for (Component c : {Component::kShardStore, Component::kLeasing, Component::kStreamTracker,
                      Component::kPoller0}) {
    SCOPED_TRACE(ComponentName(c));
    absl::StatusOr<int> port = cluster_->MetricsPort(c);
    ASSERT_TRUE(port.ok()) << port.status();
    TlsConnection::Options with_certificate;
    with_certificate.ca_file = credentials_->trusted.ca;
    with_certificate.cert_file = credentials_->trusted.ClientCert("alice");
    with_certificate.key_file = credentials_->trusted.ClientKey("alice");
    TlsConnection scraper(*port, with_certificate);
    ASSERT_FALSE(scraper.Handshake());
    auto metrics = scraper.Get("/metrics");
    ASSERT_OK(metrics.status());
    EXPECT_EQ(metrics->result_int(), 200);
    EXPECT_THAT(metrics->body(), HasSubstr("tributary_build_info"));

    TlsConnection::Options without_certificate;
    without_certificate.ca_file = credentials_->trusted.ca;
    TlsConnection anonymous(*port, without_certificate);
    const bool handshake_failed = static_cast<bool>(anonymous.Handshake());
    EXPECT_TRUE(handshake_failed || !anonymous.Get("/metrics").ok())
        << "served metrics to a client without a certificate";
  }
}

// `tributary serve` as a process: its log, whether it wrote its port file, how it exited.
class TributaryServe {
 public:
  explicit TributaryServe(std::vector<std::string> args) {
    dir_ = testing::NewTempDir("serve");
    args.insert(args.begin(), "serve");
    args.push_back("--data_dir=" + dir_ + "/data");
    args.push_back("--port_file=" + dir_ + "/port");
    auto child =
        Subprocess::Start(testing::RunfilePath("tools/tributary/tributary"), args, dir_ + "/log");
    EXPECT_TRUE(child.ok()) << child.status();
    if (child.ok()) child_ = *std::move(child);
  }
  std::string Log() const {
    std::stringstream text;
    text << std::ifstream(dir_ + "/log").rdbuf();
    return text.str();
  }
  bool WrotePortFile() const { return std::filesystem::exists(dir_ + "/port"); }
  absl::StatusOr<int> Port() { return WaitForPortFile(dir_ + "/port", absl::Seconds(60)); }
  // Waits (bounded) for it to exit; returns its exit code (-1 when it did not exit normally).
  absl::StatusOr<int> ExitCode() {
    absl::StatusOr<int> status = child_.Wait(absl::Seconds(20));
    if (!status.ok()) return status.status();
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }
  Subprocess& child() { return child_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  Subprocess child_;
};

absl::Status ListStreams(int port, const GrpcClientSecurity& security = GrpcClientSecurity()) {
  shard_store::ShardStoreClient client(MakeChannel(absl::StrCat("127.0.0.1:", port), security),
                                       absl::Seconds(10));
  return client.ListStreams(v1::ListStreamsRequest()).status();
}

TEST(TributaryServeTest, ServesPlaintextOnLoopbackByDefault) {
  TributaryServe serve({"--listen=127.0.0.1:0"});
  absl::StatusOr<int> port = serve.Port();
  ASSERT_TRUE(port.ok()) << port.status() << "\n" << serve.Log();
  EXPECT_OK(ListStreams(*port));
  EXPECT_THAT(serve.Log(), HasSubstr("(plaintext, unauthenticated)"));
  EXPECT_THAT(serve.Log(), ::testing::Not(HasSubstr("PLAINTEXT")));
}

TEST(TributaryServeTest, RefusesPlaintextOffLoopbackWithoutAllowInsecure) {
  TributaryServe serve({"--listen=0.0.0.0:0"});
  absl::StatusOr<int> code = serve.ExitCode();
  ASSERT_TRUE(code.ok()) << code.status() << "\n" << serve.Log();
  EXPECT_EQ(*code, 2) << serve.Log();
  EXPECT_THAT(serve.Log(), HasSubstr("--listen=0.0.0.0:0 is not a loopback address and TLS is "
                                     "off: set --tls_cert and --tls_key, or --allow_insecure"));
  EXPECT_FALSE(serve.WrotePortFile());
}

TEST(TributaryServeTest, AllowInsecureServesPlaintextOffLoopbackWithAWarning) {
  TributaryServe serve({"--listen=0.0.0.0:0", "--allow_insecure"});
  absl::StatusOr<int> port = serve.Port();
  ASSERT_TRUE(port.ok()) << port.status() << "\n" << serve.Log();
  EXPECT_OK(ListStreams(*port));
  EXPECT_THAT(serve.Log(), HasSubstr("--listen=0.0.0.0:0: serving PLAINTEXT on a non-loopback "
                                     "address (--allow_insecure)"));
}

TEST(TributaryServeTest, TlsOffLoopbackNeedsNoAllowInsecureAndItsOwnClientsVerifyIt) {
  auto credentials = MakeCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  std::vector<std::string> flags = SecureFlags(*credentials, "alice");
  flags.push_back("--listen=0.0.0.0:0");
  TributaryServe serve(flags);
  absl::StatusOr<int> port = serve.Port();
  ASSERT_TRUE(port.ok()) << port.status() << "\n" << serve.Log();
  GrpcClientSecurity token;
  token.ca_file = credentials->trusted.ca;
  token.token = kValidToken;
  EXPECT_OK(ListStreams(*port, token));
  EXPECT_EQ(ListStreams(*port).code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(serve.Log(), HasSubstr("(mutual TLS, bearer tokens)"));
}

TEST(TributaryServeTest, TheAwsFrontDoorSpeaksTlsAndHttp2ByAlpn) {
  auto credentials = MakeCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  const std::string aws_port_file = testing::NewTempDir("aws") + "/port";
  std::vector<std::string> flags = SecureFlags(*credentials, "alice");
  flags.push_back("--listen=127.0.0.1:0");
  flags.push_back("--aws_listen=127.0.0.1:0");
  flags.push_back("--aws_port_file=" + aws_port_file);
  TributaryServe serve(flags);
  ASSERT_TRUE(serve.Port().ok()) << serve.Log();
  absl::StatusOr<int> aws_port = WaitForPortFile(aws_port_file, absl::Seconds(30));
  ASSERT_TRUE(aws_port.ok()) << aws_port.status();

  using aws::testing::TlsConnection;
  TlsConnection::Options options;
  options.ca_file = credentials->trusted.ca;
  options.alpn = {"h2", "http/1.1"};
  TlsConnection h2(*aws_port, options);
  ASSERT_FALSE(h2.Handshake());
  EXPECT_EQ(h2.Alpn(), "h2");
  // An unsigned request: the front door's own answer (an AWS error), over HTTP/2.
  auto answer = h2.Http2Get("/");
  ASSERT_OK(answer.status());
  EXPECT_GE(answer->status, 400);
  EXPECT_LT(answer->status, 500);

  options.alpn = {};
  TlsConnection http1(*aws_port, options);
  ASSERT_FALSE(http1.Handshake());
  auto http1_answer = http1.Get("/");
  ASSERT_OK(http1_answer.status());
  EXPECT_GE(http1_answer->result_int(), 400);
  EXPECT_THAT(serve.Log(), HasSubstr("(HTTPS, "));
}

TEST(TributaryServeTest, TlsWithoutACaForItsOwnClientsIsRefused) {
  auto credentials = MakeCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  TributaryServe serve({"--listen=127.0.0.1:0", "--tls_cert=" + credentials->trusted.server_cert,
                        "--tls_key=" + credentials->trusted.server_key});
  absl::StatusOr<int> code = serve.ExitCode();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 2);
  EXPECT_THAT(serve.Log(), HasSubstr("--tls_cert is set but --tls_ca is not"));
}

TEST(TributaryServeTest, SighupRereadsTheTokenFileAndTheServerStaysUp) {
  const std::string dir = testing::NewTempDir("tokens");
  const std::string tokens = dir + "/tokens";
  const std::string own_token = dir + "/own";
  std::ofstream(tokens) << Sha256Hex("serve-itself") << " tributary\n"
                        << Sha256Hex("old") << " alice\n";
  std::ofstream(own_token) << "serve-itself\n";
  TributaryServe serve(
      {"--listen=127.0.0.1:0", "--auth_tokens_file=" + tokens, "--auth_token_file=" + own_token});
  absl::StatusOr<int> port = serve.Port();
  ASSERT_TRUE(port.ok()) << port.status() << "\n" << serve.Log();
  GrpcClientSecurity old_token, new_token;
  old_token.token = "old";
  new_token.token = "new";
  EXPECT_OK(ListStreams(*port, old_token));
  EXPECT_EQ(ListStreams(*port, new_token).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ListStreams(*port).code(), absl::StatusCode::kUnauthenticated);

  std::ofstream(tokens, std::ios::trunc) << Sha256Hex("serve-itself") << " tributary\n"
                                         << Sha256Hex("new") << " alice\n";
  ASSERT_EQ(kill(serve.child().pid(), SIGHUP), 0);
  absl::Status last;
  ASSERT_OK(PollFor(
      absl::Seconds(20), absl::Milliseconds(50), "the new token accepted after SIGHUP",
      [&] {
        last = ListStreams(*port, new_token);
        return last.ok();
      },
      [&] { return last.ToString(); }));
  EXPECT_EQ(ListStreams(*port, old_token).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(serve.Log(), HasSubstr("SIGHUP"));
}

// Authorization end to end (issue 21): `tributary serve` with tokens, a policy and an audit log;
// tribctl and a client call as two principals. The process's own tracker and poller call its
// port as "tributary" (its --auth_token_file), which the policy must allow like any principal.
struct TribctlRun {
  int exit_code = -1;
  std::string output;
};

TribctlRun Tribctl(int port, const std::string& token, std::vector<std::string> args) {
  const std::string log = testing::NewTempDir("tribctl") + "/out";
  args.push_back(absl::StrCat("--endpoint=127.0.0.1:", port));
  args.push_back("--token=" + token);
  TribctlRun run;
  auto child = Subprocess::Start(testing::RunfilePath("tools/tribctl/tribctl"), args, log);
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return run;
  absl::StatusOr<int> status = child->Wait(absl::Seconds(30));
  EXPECT_TRUE(status.ok()) << status.status();
  if (status.ok() && WIFEXITED(*status)) run.exit_code = WEXITSTATUS(*status);
  std::stringstream text;
  text << std::ifstream(log).rdbuf();
  run.output = text.str();
  return run;
}

TEST(TributaryServeTest, APolicyDecidesWhoMayDoWhatAndDenialsAreAudited) {
  const std::string dir = testing::NewTempDir("authz");
  std::ofstream(dir + "/tokens") << Sha256Hex("serve-itself") << " tributary\n"
                                 << Sha256Hex("alice-token") << " alice\n"
                                 << Sha256Hex("admin-token") << " admin\n";
  std::ofstream(dir + "/own") << "serve-itself\n";
  std::ofstream(dir + "/policy.json") << R"({"Statement": [
    {"Effect": "Allow", "Principal": "tributary", "Action": "*", "Resource": "*"},
    {"Effect": "Allow", "Principal": "admin", "Action": ["kinesis:*", "lambda:*"],
     "Resource": "*"},
    {"Effect": "Allow", "Principal": "alice", "Action": "kinesis:PutRecords",
     "Resource": "arn:aws:kinesis:*:*:stream/orders"}]})";
  TributaryServe serve({"--listen=127.0.0.1:0", "--auth_tokens_file=" + dir + "/tokens",
                        "--auth_token_file=" + dir + "/own",
                        "--policy_file=" + dir + "/policy.json",
                        "--audit_log=" + dir + "/audit.log"});
  absl::StatusOr<int> port = serve.Port();
  ASSERT_TRUE(port.ok()) << port.status() << "\n" << serve.Log();

  TribctlRun created =
      Tribctl(*port, "admin-token", {"streams", "create", "--stream=orders", "--shard-count=1"});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  TribctlRun refused =
      Tribctl(*port, "alice-token", {"streams", "create", "--stream=other", "--shard-count=1"});
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("kinesis:CreateStream"));
  EXPECT_THAT(refused.output, Not(HasSubstr("stream/orders")));

  GrpcClientSecurity alice;
  alice.token = "alice-token";
  shard_store::ShardStoreClient client(MakeChannel(absl::StrCat("127.0.0.1:", *port), alice),
                                       absl::Seconds(10));
  v1::PutRecordsRequest put;
  put.set_stream_name("orders");
  v1::PutRecordsRequestEntry* entry = put.add_records();
  entry->set_data("hello");
  entry->set_partition_key("k");
  EXPECT_OK(client.PutRecords(put).status());
  put.set_stream_name("other");
  EXPECT_EQ(client.PutRecords(put).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ListStreams(*port, alice).code(), absl::StatusCode::kPermissionDenied);

  std::stringstream audit;
  audit << std::ifstream(dir + "/audit.log").rdbuf();
  EXPECT_THAT(audit.str(), HasSubstr(R"("principal":"admin","action":"kinesis:CreateStream",)"
                                     R"("resource":"arn:aws:kinesis:us-east-1:000000000000:)"
                                     R"(stream/orders","outcome":"OK"})"));
  EXPECT_THAT(audit.str(), HasSubstr(R"("principal":"alice","action":"kinesis:CreateStream",)"
                                     R"("resource":"arn:aws:kinesis:us-east-1:000000000000:)"
                                     R"(stream/other","outcome":"PERMISSION_DENIED"})"));
  EXPECT_THAT(audit.str(), HasSubstr(R"("principal":"alice","action":"kinesis:ListStreams",)"
                                     R"("resource":"*","outcome":"PERMISSION_DENIED"})"));
  EXPECT_THAT(serve.Log(), Not(HasSubstr("PERMISSION_DENIED"))) << "the process's own calls";
}

// The web console on `tributary serve`'s metrics port reads every service through in-process
// channels, past the gRPC port's authentication. It is served only where the metrics port checks
// callers as the gRPC port does: nobody is checked, or a client certificate is (--tls_client_ca).
// Bearer tokens alone cannot guard it (a browser has none to send): its paths answer 403 there,
// while /metrics is served as before.
std::vector<std::string> WithMetrics(std::vector<std::string> flags, const std::string& port_file) {
  flags.push_back("--listen=127.0.0.1:0");
  flags.push_back("--metrics_listen=127.0.0.1:0");
  flags.push_back("--metrics_port_file=" + port_file);
  return flags;
}

struct ServeWithMetrics {
  explicit ServeWithMetrics(std::vector<std::string> flags)
      : metrics_port_file(testing::NewTempDir("console") + "/port"),
        serve(WithMetrics(std::move(flags), metrics_port_file)) {}
  std::string metrics_port_file;  // before `serve`: initialized first
  TributaryServe serve;
};

std::vector<std::string> TokenOnlyFlags() {
  const std::string dir = testing::NewTempDir("console-tokens");
  std::ofstream(dir + "/tokens") << Sha256Hex("serve-itself") << " tributary\n";
  std::ofstream(dir + "/own") << "serve-itself\n";
  return {"--auth_tokens_file=" + dir + "/tokens", "--auth_token_file=" + dir + "/own"};
}

TEST(TributaryServeConsoleTest, WithTokensOnlyTheConsoleIsForbiddenAndMetricsStayServed) {
  ServeWithMetrics s(TokenOnlyFlags());
  ASSERT_TRUE(s.serve.Port().ok()) << s.serve.Log();
  absl::StatusOr<int> port = WaitForPortFile(s.metrics_port_file, absl::Seconds(30));
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_THAT(testing::HttpGet(*port, "/metrics"), HasSubstr("tributary_build_info"));
  for (const char* path : {"/", "/api/overview", "/console.js"}) {
    EXPECT_THAT(testing::HttpGet(*port, path), ::testing::StartsWith("HTTP/1.1 403")) << path;
  }
  absl::StatusOr<std::string> action = testing::HttpExchange(
      *port,
      "POST /api/mappings/00000000-0000-0000-0000-000000000000/disable HTTP/1.0\r\n"
      "X-Tributary-Console: 1\r\nContent-Length: 0\r\n\r\n");
  ASSERT_OK(action.status());
  EXPECT_THAT(*action, ::testing::StartsWith("HTTP/1.1 403")) << *action;
  EXPECT_THAT(s.serve.Log(), HasSubstr("the web console on --metrics_listen is off (403)"));
}

TEST(TributaryServeConsoleTest, WithTokensOnlyConsoleActionsAreRefusedAtStart) {
  std::vector<std::string> flags = TokenOnlyFlags();
  flags.push_back("--console_actions");
  ServeWithMetrics s(flags);
  absl::StatusOr<int> code = s.serve.ExitCode();
  ASSERT_TRUE(code.ok()) << code.status() << "\n" << s.serve.Log();
  EXPECT_EQ(*code, 2) << s.serve.Log();
  EXPECT_THAT(s.serve.Log(), HasSubstr("--console_actions: the gRPC port accepts bearer tokens"));
  EXPECT_FALSE(s.serve.WrotePortFile());
}

TEST(TributaryServeConsoleTest, WithMutualTlsTheConsoleServesOnlyTrustedCertificates) {
  auto credentials = MakeCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  std::vector<std::string> flags = SecureFlags(*credentials, "alice");
  flags.push_back("--console_actions");
  ServeWithMetrics s(flags);
  ASSERT_TRUE(s.serve.Port().ok()) << s.serve.Log();
  absl::StatusOr<int> port = WaitForPortFile(s.metrics_port_file, absl::Seconds(30));
  ASSERT_TRUE(port.ok()) << port.status();
  using aws::testing::TlsConnection;
  TlsConnection::Options with_certificate;
  with_certificate.ca_file = credentials->trusted.ca;
  with_certificate.cert_file = credentials->trusted.ClientCert("alice");
  with_certificate.key_file = credentials->trusted.ClientKey("alice");
  TlsConnection browser(*port, with_certificate);
  ASSERT_FALSE(browser.Handshake());
  auto overview = browser.Get("/api/overview");
  ASSERT_OK(overview.status());
  EXPECT_EQ(overview->result_int(), 200) << overview->body();
  EXPECT_THAT(overview->body(), HasSubstr("\"streams\""));

  TlsConnection::Options without_certificate;
  without_certificate.ca_file = credentials->trusted.ca;
  TlsConnection anonymous(*port, without_certificate);
  const bool handshake_failed = static_cast<bool>(anonymous.Handshake());
  EXPECT_TRUE(handshake_failed || !anonymous.Get("/api/overview").ok())
      << "served the console to a client without a certificate";
}

// With --policy_file the console's actions are the operator's, not the process's: authorized as
// the client certificate's subject under the policy, and audited in that name (the process's
// own in-process call is allowed as always).
TEST(TributaryServeConsoleTest, WithAPolicyConsoleActionsAreAuthorizedAsTheCertificatesSubject) {
  const std::string dir = testing::NewTempDir("console-policy");
  auto certs = testing::MakeDevCerts(dir + "/certs", {"serve", "operator", "intern"});
  ASSERT_TRUE(certs.ok()) << certs.status();
  std::ofstream(dir + "/policy.json") << R"({"Statement": [
    {"Effect": "Allow", "Principal": "CN=serve", "Action": "*", "Resource": "*"},
    {"Effect": "Allow", "Principal": "CN=operator", "Action": "lambda:UpdateEventSourceMapping",
     "Resource": "*"}]})";
  ServeWithMetrics s({"--tls_cert=" + certs->server_cert, "--tls_key=" + certs->server_key,
                      "--tls_client_ca=" + certs->ca, "--tls_ca=" + certs->ca,
                      "--tls_client_cert=" + certs->ClientCert("serve"),
                      "--tls_client_key=" + certs->ClientKey("serve"),
                      "--policy_file=" + dir + "/policy.json", "--audit_log=" + dir + "/audit.log",
                      "--console_actions"});
  ASSERT_TRUE(s.serve.Port().ok()) << s.serve.Log();
  absl::StatusOr<int> port = WaitForPortFile(s.metrics_port_file, absl::Seconds(30));
  ASSERT_TRUE(port.ok()) << port.status();
  const std::string target = "/api/mappings/00000000-0000-0000-0000-0000000000aa/disable";
  auto act_as = [&](const std::string& name) -> std::string {
    using aws::testing::TlsConnection;
    TlsConnection::Options options;
    options.ca_file = certs->ca;
    options.cert_file = certs->ClientCert(name);
    options.key_file = certs->ClientKey(name);
    TlsConnection browser(*port, options);
    if (browser.Handshake()) return "handshake failed";
    auto response =
        browser.Send(boost::beast::http::verb::post, target, {{"X-Tributary-Console", "1"}});
    if (!response.ok()) return std::string(response.status().message());
    return absl::StrCat(response->result_int(), " ", response->body());
  };
  const std::string denied = act_as("intern");
  EXPECT_THAT(denied, ::testing::StartsWith("403 "));
  EXPECT_THAT(denied, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(denied, HasSubstr("CN=intern"));
  // Allowed: the action reaches the tracker, which knows no such mapping.
  EXPECT_THAT(act_as("operator"), ::testing::StartsWith("404 "));

  std::stringstream audit;
  audit << std::ifstream(dir + "/audit.log").rdbuf();
  EXPECT_THAT(audit.str(),
              HasSubstr(R"("principal":"CN=intern","action":"lambda:UpdateEventSourceMapping",)"));
  EXPECT_THAT(
      audit.str(),
      HasSubstr(R"("principal":"CN=operator","action":"lambda:UpdateEventSourceMapping",)"));
  EXPECT_THAT(audit.str(), HasSubstr(R"("outcome":"NOT_FOUND")"));
}

// A service with a token for the others refuses at start to send it to a remote one in clear.
TEST(ServerFlagsTest, APollerRefusesToSendItsTokenInClearOffLoopback) {
  const std::string dir = testing::NewTempDir("poller-token");
  std::ofstream(dir + "/token") << "poller-secret\n";
  auto poller = Subprocess::Start(
      testing::RunfilePath("poller/poller_server"),
      {"--listen=127.0.0.1:0", "--port_file=" + dir + "/port",
       "--metrics_listen=", "--auth_token_file=" + dir + "/token", "--shard_store=10.0.0.7:4561"},
      dir + "/log");
  ASSERT_TRUE(poller.ok()) << poller.status();
  absl::StatusOr<int> status = poller->Wait(absl::Seconds(20));
  ASSERT_TRUE(status.ok()) << status.status();
  std::stringstream log;
  log << std::ifstream(dir + "/log").rdbuf();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << log.str();
  EXPECT_THAT(log.str(), HasSubstr("--auth_token_file with --shard_store: a bearer token would go "
                                   "to 10.0.0.7:4561 in clear"));
  EXPECT_THAT(log.str(), ::testing::Not(HasSubstr("poller-secret")));
}

}  // namespace
}  // namespace tributary::e2e
