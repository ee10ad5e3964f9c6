// tribctl against a server that speaks TLS and wants a bearer token or a client certificate:
// --tls-ca, --tls-cert, --tls-key, --token, and $TRIBUTARY_TOKEN (read by the real binary).
#include <stdlib.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth_tokens.h"
#include "common/grpc_server.h"
#include "common/testing/dev_certs.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/tribctl/testing/fake_services.h"
#include "tools/tribctl/tribctl.h"

namespace tributary::tribctl {
namespace {

using ::testing::HasSubstr;

class TribctlTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = tributary::testing::NewTempDir("tribctl-tls");
    auto certs = tributary::testing::MakeDevCerts(dir + "/certs", {"operator"});
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *certs;
    const std::string tokens = dir + "/tokens";
    std::ofstream(tokens) << Sha256Hex("op-token") << " operator\n";
    GrpcServerSecurity security;
    security.cert_file = certs_.server_cert;
    security.key_file = certs_.server_key;
    security.client_ca_file = certs_.ca;
    security.auth_tokens_file = tokens;
    auto server = GrpcServer::Start("127.0.0.1:0", {&streams_}, security);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  struct Result {
    int code;
    std::string out;
    std::string err;
  };
  Result Run(std::vector<std::string> args) {
    args.insert(args.begin(), "--endpoint=" + server_->address());
    std::istringstream in;
    std::ostringstream out, err;
    const int code = RunTribctl(args, Io{&in, &out, &err, nullptr});
    return {code, out.str(), err.str()};
  }

  tributary::testing::DevCerts certs_;
  testing::FakeStreams streams_;
  std::unique_ptr<GrpcServer> server_;
};

TEST_F(TribctlTlsTest, ATokenOverTlsIsAccepted) {
  Result r = Run({"streams", "list", "--tls-ca=" + certs_.ca, "--token=op-token"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
}

TEST_F(TribctlTlsTest, AClientCertificateIsAccepted) {
  Result r = Run({"streams", "list", "--tls-ca=" + certs_.ca,
                  "--tls-cert=" + certs_.ClientCert("operator"),
                  "--tls-key=" + certs_.ClientKey("operator")});
  EXPECT_EQ(r.code, kExitOk) << r.err;
}

TEST_F(TribctlTlsTest, NoCredentialsAreUnauthenticated) {
  Result r = Run({"streams", "list", "--tls-ca=" + certs_.ca});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_THAT(r.err, HasSubstr("error: UNAUTHENTICATED: no credentials"));
}

TEST_F(TribctlTlsTest, AWrongTokenIsUnauthenticated) {
  Result r = Run({"streams", "list", "--tls-ca=" + certs_.ca, "--token=guess"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_THAT(r.err, HasSubstr("error: UNAUTHENTICATED: unknown bearer token"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("guess")));
}

TEST_F(TribctlTlsTest, PlaintextAgainstTlsIsUnavailable) {
  Result r = Run({"streams", "list", "--token=op-token"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_THAT(r.err, HasSubstr("error: UNAVAILABLE"));
}

TEST_F(TribctlTlsTest, UnreadableOrMismatchedFilesAreUsageErrors) {
  Result missing = Run({"streams", "list", "--tls-ca=/nonexistent/ca.pem"});
  EXPECT_EQ(missing.code, kExitUsage);
  EXPECT_THAT(missing.err, HasSubstr("cannot read /nonexistent/ca.pem"));
  Result mismatched = Run({"streams", "list", "--tls-ca=" + certs_.ca,
                           "--tls-cert=" + certs_.ClientCert("operator"),
                           "--tls-key=" + certs_.server_key});
  EXPECT_EQ(mismatched.code, kExitUsage);
  EXPECT_THAT(mismatched.err, HasSubstr("is not the key of the certificate"));
  Result key_only = Run({"streams", "list", "--tls-ca=" + certs_.ca,
                         "--tls-key=" + certs_.ClientKey("operator")});
  EXPECT_EQ(key_only.code, kExitUsage);
}

TEST_F(TribctlTlsTest, ATokenIsNeverSentInClearOffLoopback) {
  std::istringstream in;
  std::ostringstream out, err;
  const int code = RunTribctl({"streams", "list", "--endpoint=10.0.0.7:4560", "--token=op-token"},
                              Io{&in, &out, &err, nullptr});
  EXPECT_EQ(code, kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("in clear"));
  EXPECT_THAT(err.str(), ::testing::Not(HasSubstr("op-token")));
}

TEST_F(TribctlTlsTest, TheBinaryTakesTheTokenFromTheEnvironment) {
  const std::string log = tributary::testing::NewTempDir("tribctl-env") + "/log";
  auto run = [&](const char* token) -> int {
    if (token == nullptr) {
      unsetenv("TRIBUTARY_TOKEN");
    } else {
      setenv("TRIBUTARY_TOKEN", token, 1);
    }
    auto child = Subprocess::Start(
        tributary::testing::RunfilePath("tools/tribctl/tribctl"),
        {"streams", "list", "--endpoint=" + server_->address(), "--tls-ca=" + certs_.ca}, log);
    unsetenv("TRIBUTARY_TOKEN");
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) return -1;
    absl::StatusOr<int> status = child->Wait(absl::Seconds(30));
    EXPECT_TRUE(status.ok()) << status.status();
    return status.ok() && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  };
  EXPECT_EQ(run("op-token"), kExitOk);
  EXPECT_EQ(run(nullptr), kExitError);
  EXPECT_EQ(run("guess"), kExitError);
}

}  // namespace
}  // namespace tributary::tribctl
