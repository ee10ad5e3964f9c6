// HttpServer with TLS (HttpTlsOptions) over real sockets on 127.0.0.1, with certificates from
// tools/dev_certs.sh: HTTP/1.1 over TLS, HTTP/2 chosen by ALPN, client certificates required or
// optional, plaintext refused, and a renewed certificate taken for new connections while an open
// one keeps working. Blocking Beast / nghttp2 clients; every read has a timeout as a guard.
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aws/http_server.h"
#include "aws/testing/http2_client.h"
#include "aws/testing/tls_client.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "common/await.h"
#include "common/testing/assertions.h"
#include "common/testing/dev_certs.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::aws {
namespace {

using testing::TlsConnection;

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;

class EchoHandler : public HttpHandler {
 public:
  HttpResponse Handle(HttpRequest request) override {
    HttpResponse response;
    response.body = absl::StrCat("echo ", request.method, " ", request.target);
    if (!request.peer_subject.empty()) absl::StrAppend(&response.body, " as ", request.peer_subject);
    return response;
  }
  HttpResponse BodyTooLarge(const HttpRequest&, uint64_t) override { return Status(413); }
  HttpResponse Overloaded(const HttpRequest&, int, uint64_t) override { return Status(429); }

 private:
  static HttpResponse Status(int status) {
    HttpResponse r;
    r.status = status;
    return r;
  }
};

std::string ReadFile(const std::string& path) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  return text.str();
}

class HttpsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = tributary::testing::NewTempDir("https");
    auto certs = tributary::testing::MakeDevCerts(dir + "/trusted", {"scraper"});
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = new tributary::testing::DevCerts(*certs);
    auto untrusted = tributary::testing::MakeDevCerts(dir + "/untrusted", {"mallory"});
    ASSERT_TRUE(untrusted.ok()) << untrusted.status();
    untrusted_ = new tributary::testing::DevCerts(*untrusted);
  }
  static void TearDownTestSuite() {
    delete certs_;
    delete untrusted_;
  }

  void Serve(HttpTlsOptions tls) {
    HttpServerOptions options;
    options.tls = std::move(tls);
    auto server = HttpServer::Start(options, handler_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  static HttpTlsOptions Tls() {
    HttpTlsOptions tls;
    tls.cert_file = certs_->server_cert;
    tls.key_file = certs_->server_key;
    return tls;
  }
  static TlsConnection::Options Trusting() {
    TlsConnection::Options o;
    o.ca_file = certs_->ca;
    return o;
  }
  static TlsConnection::Options WithCertificate(const tributary::testing::DevCerts& certs,
                                                const std::string& name) {
    TlsConnection::Options o = Trusting();
    o.cert_file = certs.ClientCert(name);
    o.key_file = certs.ClientKey(name);
    return o;
  }
  // A handshake and a GET: OK with the body, or the first error.
  absl::StatusOr<std::string> Fetch(const TlsConnection::Options& options) {
    TlsConnection connection(server_->port(), options);
    if (beast::error_code ec = connection.Handshake()) {
      return absl::UnavailableError(absl::StrCat("handshake: ", ec.message()));
    }
    absl::StatusOr<http::response<http::string_body>> response = connection.Get("/metrics");
    if (!response.ok()) return response.status();
    return response->body();
  }

  static tributary::testing::DevCerts* certs_;
  static tributary::testing::DevCerts* untrusted_;
  EchoHandler handler_;
  std::unique_ptr<HttpServer> server_;
};

tributary::testing::DevCerts* HttpsServerTest::certs_ = nullptr;
tributary::testing::DevCerts* HttpsServerTest::untrusted_ = nullptr;

TEST_F(HttpsServerTest, ServesHttp1OverTls) {
  Serve(Tls());
  absl::StatusOr<std::string> body = Fetch(Trusting());
  ASSERT_OK(body.status());
  EXPECT_EQ(*body, "echo GET /metrics");
}

TEST_F(HttpsServerTest, AlpnChoosesHttp2AndItIsServed) {
  Serve(Tls());
  TlsConnection::Options options = Trusting();
  options.alpn = {"h2", "http/1.1"};
  TlsConnection connection(server_->port(), options);
  ASSERT_FALSE(connection.Handshake());
  EXPECT_EQ(connection.Alpn(), "h2");
  absl::StatusOr<testing::ClientResponse> response = connection.Http2Get("/over-h2");
  ASSERT_OK(response.status());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "echo GET /over-h2");
}

TEST_F(HttpsServerTest, AlpnForHttp1OnlyStaysHttp1) {
  Serve(Tls());
  TlsConnection::Options options = Trusting();
  options.alpn = {"http/1.1"};
  TlsConnection connection(server_->port(), options);
  ASSERT_FALSE(connection.Handshake());
  EXPECT_EQ(connection.Alpn(), "http/1.1");
  auto response = connection.Get("/x");
  ASSERT_OK(response.status());
  EXPECT_EQ(response->body(), "echo GET /x");
}

TEST_F(HttpsServerTest, APlaintextRequestGetsNoHttpAnswer) {
  Serve(Tls());
  net::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
  timeval guard{10, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
  net::write(socket, net::buffer(std::string("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")));
  char buffer[1024];
  beast::error_code ec;
  const size_t n = socket.read_some(net::buffer(buffer), ec);
  EXPECT_THAT(std::string(buffer, ec ? 0 : n), ::testing::Not(HasSubstr("echo")));
  EXPECT_THAT(std::string(buffer, ec ? 0 : n), ::testing::Not(HasSubstr("HTTP/1.1 200")));
}

TEST_F(HttpsServerTest, RequiredClientCertificatesAdmitOnlyTheTrustedCa) {
  HttpTlsOptions tls = Tls();
  tls.client_ca_file = certs_->ca;
  tls.require_client_certificate = true;
  Serve(tls);
  EXPECT_OK(Fetch(WithCertificate(*certs_, "scraper")).status());
  EXPECT_FALSE(Fetch(Trusting()).ok()) << "served a client without a certificate";
  EXPECT_FALSE(Fetch(WithCertificate(*untrusted_, "mallory")).ok())
      << "served a certificate of another CA";
}

TEST_F(HttpsServerTest, OptionalClientCertificatesStillRefuseAnUntrustedOne) {
  HttpTlsOptions tls = Tls();
  tls.client_ca_file = certs_->ca;
  Serve(tls);
  EXPECT_OK(Fetch(Trusting()).status());
  EXPECT_OK(Fetch(WithCertificate(*certs_, "scraper")).status());
  EXPECT_FALSE(Fetch(WithCertificate(*untrusted_, "mallory")).ok());
}

// The console authorizes its actions as the certificate's subject (HttpRequest::peer_subject),
// over HTTP/1.1 and over HTTP/2 alike, and as nobody when no certificate was presented.
TEST_F(HttpsServerTest, TheVerifiedClientCertificatesSubjectReachesTheHandler) {
  HttpTlsOptions tls = Tls();
  tls.client_ca_file = certs_->ca;
  Serve(tls);
  absl::StatusOr<std::string> body = Fetch(WithCertificate(*certs_, "scraper"));
  ASSERT_OK(body.status());
  EXPECT_EQ(*body, "echo GET /metrics as CN=scraper");
  body = Fetch(Trusting());
  ASSERT_OK(body.status());
  EXPECT_EQ(*body, "echo GET /metrics");

  TlsConnection::Options options = WithCertificate(*certs_, "scraper");
  options.alpn = {"h2"};
  TlsConnection connection(server_->port(), options);
  ASSERT_FALSE(connection.Handshake());
  ASSERT_EQ(connection.Alpn(), "h2");
  absl::StatusOr<testing::ClientResponse> response = connection.Http2Get("/over-h2");
  ASSERT_OK(response.status());
  EXPECT_EQ(response->body, "echo GET /over-h2 as CN=scraper");
}

TEST_F(HttpsServerTest, UnusableFilesAreRefusedAtStart) {
  HttpServerOptions options;
  options.tls.cert_file = certs_->server_cert;
  options.tls.key_file = certs_->ClientKey("scraper");
  auto mismatched = HttpServer::Start(options, handler_);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_EQ(mismatched.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(mismatched.status().message(), HasSubstr("tls_key: cannot use"));
  options.tls.key_file = certs_->dir + "/none.key";
  auto missing = HttpServer::Start(options, handler_);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("none.key"));
}

TEST_F(HttpsServerTest, ARenewedCertificateServesNewConnectionsAndKeepsOpenOnes) {
  const std::string live = tributary::testing::NewTempDir("live");
  auto install = [&](const std::string& from_dir) {
    for (const char* name : {"server.pem", "server.key"}) {
      std::ofstream(live + "/" + name + ".tmp", std::ios::trunc)
          << ReadFile(from_dir + "/" + name);
      ASSERT_EQ(std::rename((live + "/" + name + ".tmp").c_str(), (live + "/" + name).c_str()), 0);
    }
  };
  const std::string first_dir = tributary::testing::NewTempDir("first");
  auto first = tributary::testing::MakeDevCerts(first_dir, {});
  ASSERT_TRUE(first.ok()) << first.status();
  install(first_dir);
  HttpTlsOptions tls;
  tls.cert_file = live + "/server.pem";
  tls.key_file = live + "/server.key";
  Serve(tls);

  TlsConnection::Options trusting_first;
  trusting_first.ca_file = first->ca;
  TlsConnection open(server_->port(), trusting_first);
  ASSERT_FALSE(open.Handshake());
  ASSERT_OK(open.Get("/before").status());
  const std::string first_pem = open.PeerCertificatePem();
  ASSERT_EQ(first_pem, ReadFile(first->server_cert));

  // A renewal under the same CA (dev_certs.sh keeps the directory's CA).
  ASSERT_TRUE(tributary::testing::MakeDevCerts(first_dir, {}).ok());
  install(first_dir);
  TlsConnection renewed(server_->port(), trusting_first);
  ASSERT_FALSE(renewed.Handshake());
  EXPECT_EQ(renewed.PeerCertificatePem(), ReadFile(first_dir + "/server.pem"));
  EXPECT_NE(renewed.PeerCertificatePem(), first_pem);

  // The connection opened before still answers, on the same TLS session.
  auto again = open.Get("/after");
  ASSERT_OK(again.status());
  EXPECT_EQ(again->body(), "echo GET /after");
  EXPECT_EQ(open.PeerCertificatePem(), first_pem);
}

}  // namespace
}  // namespace tributary::aws
