#include "common/http_client.h"

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/testing/dev_certs.h"
#include "common/testing/http_test_server.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

constexpr absl::Duration kGuard = absl::Seconds(30);  // a failure guard, never reached when green

class HttpClientTest : public ::testing::Test {
 protected:
  void StartServer(HttpTestServer::Handler handler) {
    auto server = HttpTestServer::Start(std::move(handler));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    peer_ = HttpPeer{false, "127.0.0.1", server_->port()};
  }
  void SetUp() override {
    auto client = HttpClient::Create({});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }
  absl::StatusOr<HttpReply> Post(std::string body, absl::Duration timeout = kGuard) {
    return client_->Post(peer_, "/invoke?x=1", std::move(body),
                         {{"Content-Type", "application/json"}}, timeout);
  }

  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<HttpTestServer> server_;
  HttpPeer peer_;
};

TEST_F(HttpClientTest, PostsTheBodyAndReturnsStatusHeadersAndBody) {
  TestHttpRequest seen;
  StartServer([&](const TestHttpRequest& r) {
    seen = r;
    return TestHttpReply{202, {{"X-Amz-Function-Error", "Unhandled"}}, "{\"ok\":1}"};
  });
  absl::StatusOr<HttpReply> reply = Post("{\"Records\":[]}");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->status, 202);
  ASSERT_NE(reply->Header("x-amz-function-error"), nullptr);
  EXPECT_EQ(*reply->Header("x-amz-function-error"), "Unhandled");
  EXPECT_EQ(reply->Header("X-Missing"), nullptr);
  EXPECT_EQ(reply->body, "{\"ok\":1}");
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/invoke?x=1");
  EXPECT_EQ(seen.body, "{\"Records\":[]}");
  EXPECT_EQ(seen.Header("Content-Type"), "application/json");
  EXPECT_EQ(seen.Header("Host"), server_->address());
}

TEST_F(HttpClientTest, ConnectionsAreKeptAliveAndReused) {
  StartServer([](const TestHttpRequest&) { return TestHttpReply{200, {}, "{}"}; });
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Post("{}").ok());
  EXPECT_EQ(server_->connections(), 1);
  EXPECT_EQ(client_->IdleConnections(peer_), 1);
}

TEST_F(HttpClientTest, ARequestOnAConnectionTheServerClosedGoesOutOnANewOne) {
  int requests = 0;
  StartServer([&](const TestHttpRequest&) {
    ++requests;
    return TestHttpReply{200, {}, "{}"};
  });
  ASSERT_TRUE(Post("{}").ok());
  server_->CloseIdleConnections();
  absl::StatusOr<HttpReply> reply = Post("{}");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(requests, 2);
  EXPECT_EQ(server_->connections(), 2);
}

TEST_F(HttpClientTest, AReplyThatNeverComesIsDeadlineExceededAndTheConnectionIsDropped) {
  absl::Notification release;
  StartServer([&](const TestHttpRequest&) {
    release.WaitForNotificationWithTimeout(kGuard);
    return TestHttpReply{200, {}, "{}"};
  });
  absl::StatusOr<HttpReply> reply = Post("{}", absl::Milliseconds(200));
  release.Notify();
  server_.reset();  // joins the handler before `release` goes away
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded) << reply.status();
  EXPECT_EQ(client_->IdleConnections(peer_), 0);
}

TEST_F(HttpClientTest, ARefusedConnectionIsUnavailable) {
  StartServer([](const TestHttpRequest&) { return TestHttpReply{}; });
  const int port = server_->port();
  server_.reset();  // nothing listens on the port any more
  peer_.port = port;
  absl::StatusOr<HttpReply> reply = Post("{}");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
  EXPECT_NE(reply.status().message().find("connecting"), absl::string_view::npos);
}

TEST_F(HttpClientTest, AServerThatClosesWithoutReplyingIsUnavailable) {
  StartServer([](const TestHttpRequest&) {
    TestHttpReply reply;
    reply.close_without_reply = true;
    return reply;
  });
  absl::StatusOr<HttpReply> reply = Post("{}");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
}

TEST_F(HttpClientTest, AnOversizedReplyIsResourceExhausted) {
  StartServer([](const TestHttpRequest&) {
    return TestHttpReply{200, {}, std::string(2048, 'x')};
  });
  HttpClientOptions options;
  options.max_response_body_bytes = 1024;
  auto small = HttpClient::Create(options);
  ASSERT_TRUE(small.ok());
  client_ = *std::move(small);
  absl::StatusOr<HttpReply> reply = Post("{}");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kResourceExhausted) << reply.status();
}

TEST_F(HttpClientTest, AnUnresolvableHostIsUnavailable) {
  peer_ = HttpPeer{false, "no-such-host.invalid", 80};
  absl::StatusOr<HttpReply> reply = Post("{}");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
}

// HTTPS against a server whose self-signed certificate (common/testing/testdata) names
// localhost and 127.0.0.1.
class HttpsClientTest : public ::testing::Test {
 protected:
  static std::string TestData(const std::string& file) {
    return absl::StrCat(getenv("TEST_SRCDIR"), "/", getenv("TEST_WORKSPACE"),
                        "/common/testing/testdata/", file);
  }
  void StartServer(const std::string& name) {
    const TestTlsFiles tls{TestData(name + "_cert.pem"), TestData(name + "_key.pem"), ""};
    auto server = HttpTestServer::Start(
        [](const TestHttpRequest& r) {
          return TestHttpReply{200, {}, "tls:" + r.body};
        },
        &tls);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  std::unique_ptr<HttpClient> Client(const std::string& ca_file) {
    HttpClientOptions options;
    options.ca_file = ca_file;
    auto client = HttpClient::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }
  absl::StatusOr<HttpReply> Post(HttpClient& client, const std::string& host) {
    return client.Post(HttpPeer{true, host, server_->port()}, "/", "x", {}, kGuard);
  }

  std::unique_ptr<HttpTestServer> server_;
};

TEST_F(HttpsClientTest, ATrustedCertificateNamingTheHostIsAccepted) {
  StartServer("localhost");
  std::unique_ptr<HttpClient> client = Client(TestData("localhost_cert.pem"));
  ASSERT_NE(client, nullptr);
  for (const char* host : {"127.0.0.1", "localhost"}) {
    absl::StatusOr<HttpReply> reply = Post(*client, host);
    ASSERT_TRUE(reply.ok()) << host << ": " << reply.status();
    EXPECT_EQ(reply->body, "tls:x");
  }
  absl::StatusOr<HttpReply> again = Post(*client, "127.0.0.1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(server_->connections(), 2) << "one kept-alive connection per host";
}

TEST_F(HttpsClientTest, AnUntrustedCertificateIsUnavailable) {
  StartServer("localhost");
  std::unique_ptr<HttpClient> client = Client("");  // the system's authorities only
  ASSERT_NE(client, nullptr);
  absl::StatusOr<HttpReply> reply = Post(*client, "127.0.0.1");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
  EXPECT_NE(reply.status().message().find("TLS handshake"), absl::string_view::npos);
}

TEST_F(HttpsClientTest, ACertificateForAnotherHostIsUnavailable) {
  StartServer("other");
  std::unique_ptr<HttpClient> client = Client(TestData("other_cert.pem"));
  ASSERT_NE(client, nullptr);
  absl::StatusOr<HttpReply> reply = Post(*client, "127.0.0.1");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
}

// Mutual TLS (issue 21: function clients "can present a client certificate"): a server that
// wants one gets the configured certificate; a client without one is refused in the handshake.
TEST(HttpsClientCertificateTest, TheClientCertificateIsPresentedToAServerThatAsks) {
  const std::string dir = testing::NewTempDir("https_client_cert");
  absl::StatusOr<testing::DevCerts> certs = testing::MakeDevCerts(dir, {"poller"});
  ASSERT_TRUE(certs.ok()) << certs.status();
  const TestTlsFiles tls{certs->server_cert, certs->server_key, certs->ca};
  auto server = HttpTestServer::Start(
      [](const TestHttpRequest& r) {
        return TestHttpReply{200, {}, "mtls:" + r.body};
      },
      &tls);
  ASSERT_TRUE(server.ok()) << server.status();
  const HttpPeer peer{true, "127.0.0.1", (*server)->port()};

  HttpClientOptions with_certificate;
  with_certificate.ca_file = certs->ca;
  with_certificate.cert_file = certs->ClientCert("poller");
  with_certificate.key_file = certs->ClientKey("poller");
  auto client = HttpClient::Create(with_certificate);
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<HttpReply> reply = (*client)->Post(peer, "/", "x", {}, kGuard);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->body, "mtls:x");

  HttpClientOptions without;
  without.ca_file = certs->ca;
  auto anonymous = HttpClient::Create(without);
  ASSERT_TRUE(anonymous.ok()) << anonymous.status();
  absl::StatusOr<HttpReply> refused = (*anonymous)->Post(peer, "/", "x", {}, kGuard);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
}

TEST(HttpClientCreateTest, AClientCertificateNeedsItsKeyAndReadableFiles) {
  HttpClientOptions half;
  half.cert_file = "/nonexistent/cert.pem";
  EXPECT_EQ(HttpClient::Create(half).status().code(), absl::StatusCode::kInvalidArgument);
  HttpClientOptions unreadable = half;
  unreadable.key_file = "/nonexistent/key.pem";
  absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(unreadable);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(client.status().message().find("/nonexistent/cert.pem"), absl::string_view::npos);
}

TEST(HttpClientCreateTest, AnUnreadableCaFileIsInvalidArgument) {
  HttpClientOptions options;
  options.ca_file = "/nonexistent/ca.pem";
  auto client = HttpClient::Create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tributary
