#include "mapping/function_endpoint.h"

#include "gtest/gtest.h"

namespace tributary::mapping {
namespace {

using Protocol = FunctionEndpoint::Protocol;

FunctionEndpoint Parsed(absl::string_view endpoint) {
  absl::StatusOr<FunctionEndpoint> parsed = ParseFunctionEndpoint(endpoint);
  EXPECT_TRUE(parsed.ok()) << endpoint << ": " << parsed.status();
  return parsed.ok() ? *parsed : FunctionEndpoint{};
}

TEST(FunctionEndpointTest, ABareHostPortIsGrpc) {
  const FunctionEndpoint e = Parsed("127.0.0.1:4570");
  EXPECT_EQ(e.protocol, Protocol::kGrpc);
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 4570);
  EXPECT_EQ(e.path, "");
  EXPECT_EQ(e.HostPort(), "127.0.0.1:4570");
}

TEST(FunctionEndpointTest, TheGrpcSchemeSaysTheSame) {
  const FunctionEndpoint e = Parsed("grpc://fn.internal:4570");
  EXPECT_EQ(e.protocol, Protocol::kGrpc);
  EXPECT_EQ(e.HostPort(), "fn.internal:4570");
}

TEST(FunctionEndpointTest, TheGrpcsSchemeIsGrpcOverTls) {
  const FunctionEndpoint e = Parsed("grpcs://fn.internal:8443");
  EXPECT_EQ(e.protocol, Protocol::kGrpcs);
  EXPECT_EQ(e.HostPort(), "fn.internal:8443");
  EXPECT_EQ(e.path, "");
  for (const char* bad : {"grpcs://fn.internal", "grpcs://fn.internal:0", "GRPCS://h:1"}) {
    EXPECT_FALSE(ParseFunctionEndpoint(bad).ok()) << bad;
  }
}

TEST(FunctionEndpointTest, HttpTakesTheEmulatorsPath) {
  const FunctionEndpoint e =
      Parsed("http://127.0.0.1:9000/2015-03-31/functions/function/invocations");
  EXPECT_EQ(e.protocol, Protocol::kHttp);
  EXPECT_EQ(e.HostPort(), "127.0.0.1:9000");
  EXPECT_EQ(e.path, "/2015-03-31/functions/function/invocations");
}

TEST(FunctionEndpointTest, DefaultPortsAndPathFollowTheUrl) {
  const FunctionEndpoint http = Parsed("http://fn.example.com");
  EXPECT_EQ(http.port, 80);
  EXPECT_EQ(http.path, "/");
  const FunctionEndpoint https = Parsed("https://fn.example.com/invoke");
  EXPECT_EQ(https.protocol, Protocol::kHttps);
  EXPECT_EQ(https.port, 443);
  EXPECT_EQ(https.path, "/invoke");
  EXPECT_EQ(Parsed("http://h:81?x=1").path, "/?x=1");
}

TEST(FunctionEndpointTest, IPv6HostsKeepTheirBrackets) {
  const FunctionEndpoint with_port = Parsed("http://[::1]:9000/x?y=1");
  EXPECT_EQ(with_port.host, "::1");
  EXPECT_EQ(with_port.port, 9000);
  EXPECT_EQ(with_port.path, "/x?y=1");
  EXPECT_EQ(with_port.HostPort(), "[::1]:9000");
  EXPECT_EQ(Parsed("http://[::1]/").port, 80);
}

TEST(FunctionEndpointTest, MalformedEndpointsAreRefusedWithTheReason) {
  struct Case {
    const char* endpoint;
    const char* reason;
  };
  for (const Case& c : {
           Case{"", "empty"},
           Case{"ftp://h:1", "scheme \"ftp\""},
           Case{"HTTP://h:1/", "scheme \"HTTP\""},
           Case{"http://h:0/", "port 0"},
           Case{"http://h:99999/", "99999"},
           Case{"http://user@h/", "user info"},
           Case{"http://h/#f", "fragment"},
           Case{"http:///x", "no host"},
           Case{"http://h/a b", "space"},
           Case{"grpc://h:1/x", "h:1/x"},
           Case{"h", "h"},
           Case{"127.0.0.1:0", "port 0"},
       }) {
    absl::StatusOr<FunctionEndpoint> parsed = ParseFunctionEndpoint(c.endpoint);
    ASSERT_FALSE(parsed.ok()) << c.endpoint;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(c.reason), absl::string_view::npos)
        << c.endpoint << ": " << parsed.status();
  }
}

}  // namespace
}  // namespace tributary::mapping
