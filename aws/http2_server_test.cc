// HttpServer's HTTP/2 over real sockets on 127.0.0.1 (a port picked by the kernel): the same
// port serves both protocols, admission control counts both, and shutdown ends HTTP/2 streams.
// The HTTP/2 client is nghttp2's own client session (aws/testing/http2_client.h) over a blocking
// socket; http2_session_test has the protocol's cases.
#include <poll.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "aws/http_server.h"
#include "aws/testing/http2_client.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gtest/gtest.h"

namespace tributary::aws {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using testing::Client;

// A failure guard only: polls of 100 ms before a wait is given up.
constexpr int kGuardPolls = 300;

// A stream left open until the connection ends.
class OpenStream : public ResponseStream {
 public:
  void Start(std::shared_ptr<StreamWriter> writer) override { writer->Write("open"); }
  void OnDrained() override {}
  void OnFinished() override {}
  void OnClosed() override {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  bool closed() {
    absl::MutexLock lock(&mu_);
    return closed_;
  }

 private:
  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// "/block" waits until released; "/stream" answers with `stream`; anything else echoes.
class Handler : public HttpHandler {
 public:
  std::shared_ptr<OpenStream> stream = std::make_shared<OpenStream>();

  HttpResponse Handle(HttpRequest request) override {
    HttpResponse response;
    if (request.target == "/stream") {
      response.stream = stream;
      return response;
    }
    if (request.target == "/block") {
      absl::MutexLock lock(&mu_);
      ++blocked_;
      mu_.Await(absl::Condition(&released_));
    }
    response.body = absl::StrCat("echo ", request.body);
    return response;
  }
  HttpResponse BodyTooLarge(const HttpRequest&, uint64_t) override { return Status(413); }
  HttpResponse Overloaded(const HttpRequest&, int, uint64_t) override { return Status(429); }

  void AwaitBlocked() {
    absl::MutexLock lock(&mu_);
    auto blocked = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return blocked_ > 0; };
    mu_.Await(absl::Condition(&blocked));
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }

 private:
  static HttpResponse Status(int status) {
    HttpResponse r;
    r.status = status;
    return r;
  }
  absl::Mutex mu_;
  int blocked_ ABSL_GUARDED_BY(mu_) = 0;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

// nghttp2's client session over a blocking socket.
class Http2Socket {
 public:
  explicit Http2Socket(int port) : socket_(io_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }
  Client& client() { return client_; }

  // Moves bytes until `done` holds; false if the server closed first or the guard ran out.
  bool PumpUntil(const std::function<bool()>& done) {
    char buffer[64 << 10];
    for (int polls = 0; polls < kGuardPolls;) {
      const std::string out = client_.TakeOutput();
      if (!out.empty()) net::write(socket_, net::buffer(out));
      if (done()) return true;
      pollfd fd{socket_.native_handle(), POLLIN, 0};
      if (poll(&fd, 1, 100) == 0) {
        ++polls;
        continue;
      }
      const ssize_t n = read(socket_.native_handle(), buffer, sizeof(buffer));
      if (n <= 0) return done();
      client_.Receive(std::string(buffer, n));
    }
    return false;
  }

 private:
  net::io_context io_;
  tcp::socket socket_;
  Client client_;
};

class Http2ServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    auto server = HttpServer::Start(options, handler_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override {
    handler_.Release();
    if (server_ != nullptr) server_->Shutdown();
  }
  // One HTTP/1.1 request on a connection of its own; returns the response's status and body.
  std::pair<int, std::string> Http1(const std::string& target, const std::string& body) {
    net::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    http::request<http::string_body> request(http::verb::post, target, 11);
    request.set(http::field::host, "localhost");
    request.body() = body;
    request.prepare_payload();
    http::write(socket, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return {response.result_int(), response.body()};
  }

  Handler handler_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(Http2ServerTest, OnePortServesHttp1AndHttp2) {
  Start();
  EXPECT_EQ(Http1("/", "one").second, "echo one");
  Http2Socket h2(server_->port());
  const int32_t id = h2.client().Request("two");
  ASSERT_TRUE(h2.PumpUntil([&] { return h2.client().response(id).ended; }));
  EXPECT_EQ(h2.client().response(id).status, 200);
  EXPECT_EQ(h2.client().response(id).body, "echo two");
  EXPECT_EQ(Http1("/", "three").second, "echo three") << "HTTP/1.1 is unchanged";
}

TEST_F(Http2ServerTest, AdmissionControlCountsRequestsOfBothProtocols) {
  HttpServerOptions options;
  options.max_pending_requests = 1;
  Start(options);
  // An HTTP/1.1 request in the handler holds the only slot...
  std::thread blocked([&] { EXPECT_EQ(Http1("/block", "").first, 200); });
  handler_.AwaitBlocked();
  // ...so an HTTP/2 request is refused at once.
  Http2Socket h2(server_->port());
  const int32_t refused = h2.client().Request("x", {{"content-length", "1"}});
  ASSERT_TRUE(h2.PumpUntil([&] { return h2.client().response(refused).ended; }));
  EXPECT_EQ(h2.client().response(refused).status, 429);
  handler_.Release();
  blocked.join();
  // The slot is back: the same connection is served.
  const int32_t served = h2.client().Request("y", {{"content-length", "1"}});
  ASSERT_TRUE(h2.PumpUntil([&] { return h2.client().response(served).ended; }));
  EXPECT_EQ(h2.client().response(served).body, "echo y");
}

TEST_F(Http2ServerTest, ShutdownClosesAnOpenHttp2Stream) {
  Start();
  Http2Socket h2(server_->port());
  const int32_t stream = h2.client().Request("subscribe", {}, true, "POST", "/stream");
  ASSERT_TRUE(h2.PumpUntil([&] { return h2.client().response(stream).body == "open"; }));
  server_->Shutdown();
  EXPECT_TRUE(handler_.stream->closed());
  EXPECT_FALSE(h2.PumpUntil([&] { return false; })) << "the connection is closed";
}

}  // namespace
}  // namespace tributary::aws
