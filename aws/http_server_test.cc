// The HTTP server over real sockets on 127.0.0.1 with a port picked by the kernel, driven by a
// plain blocking client (raw request bytes out, Beast's parser for the replies).
#include "aws/http_server.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "common/await.h"
#include "common/memory_budget.h"
#include "common/testing/assertions.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::aws {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;

// A failure guard only: how long a test waits for something that should happen at once.
constexpr absl::Duration kGuard = absl::Seconds(30);

// A streamed body: "one" and "two" at Start, "three" and the end once those are drained (when
// `finish`), else nothing more until the test writes.
class TestStream : public ResponseStream {
 public:
  explicit TestStream(bool finish) : finish_(finish) {}
  void Start(std::shared_ptr<StreamWriter> writer) override {
    absl::MutexLock lock(&mu_);
    writer_ = writer;
    writer_->Write("one");
    writer_->Write("two");
  }
  void OnDrained() override {
    absl::MutexLock lock(&mu_);
    ++drained_;
    if (finish_ && drained_ == 1) {
      writer_->Write("three");
      writer_->Finish();
    }
  }
  void OnClosed() override {
    absl::MutexLock lock(&mu_);
    ++closed_;
  }
  void OnFinished() override {
    absl::MutexLock lock(&mu_);
    ++finished_;
  }
  int finished() {
    absl::MutexLock lock(&mu_);
    return finished_;
  }
  // The client can read the last chunk before the server's write of it completes.
  [[nodiscard]] ::testing::AssertionResult AwaitFinished() {
    return tributary::testing::IsOk(AwaitFor(
        mu_, kGuard, "OnFinished", [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return finished_ > 0; },
        [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return Seen(); }));
  }

  std::shared_ptr<StreamWriter> writer() {
    absl::MutexLock lock(&mu_);
    return writer_;
  }
  // Waits until OnDrained has been called more than `drained` times or OnClosed was called.
  [[nodiscard]] ::testing::AssertionResult AwaitDrainedPastOrClosed(int drained) {
    return tributary::testing::IsOk(AwaitFor(
        mu_, kGuard, absl::StrCat("OnDrained more than ", drained, " time(s), or OnClosed"),
        [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return drained_ > drained || closed_ > 0; },
        [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return Seen(); }));
  }
  [[nodiscard]] ::testing::AssertionResult AwaitStarted() {
    return tributary::testing::IsOk(AwaitFor(
        mu_, kGuard, "the stream to start (a writer)",
        [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return writer_ != nullptr; },
        [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return Seen(); }));
  }
  int drained() {
    absl::MutexLock lock(&mu_);
    return drained_;
  }
  int closed() {
    absl::MutexLock lock(&mu_);
    return closed_;
  }

 private:
  std::string Seen() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return absl::StrCat(writer_ != nullptr ? "started" : "not started", ", drained ", drained_,
                        ", closed ", closed_, ", finished ", finished_);
  }

  const bool finish_;
  absl::Mutex mu_;
  std::shared_ptr<StreamWriter> writer_ ABSL_GUARDED_BY(mu_);
  int drained_ ABSL_GUARDED_BY(mu_) = 0;
  int closed_ ABSL_GUARDED_BY(mu_) = 0;
  int finished_ ABSL_GUARDED_BY(mu_) = 0;
};

// Answers "<method> <target> <body size>"; requests to /block wait until released; /stream and
// /stream-open answer with `stream` (a finishing or an open TestStream).
class TestHandler : public HttpHandler {
 public:
  std::shared_ptr<TestStream> stream;

  HttpResponse Handle(HttpRequest request) override {
    if (request.target == "/stream" || request.target == "/stream-open") {
      HttpResponse response;
      response.headers.emplace_back("Content-Type", "application/vnd.amazon.eventstream");
      response.stream = stream;
      return response;
    }
    {
      absl::MutexLock lock(&mu_);
      ++in_handler_;
      ++calls_;
    }
    if (request.target == "/block") {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&released_), kGuard);
    }
    if (request.target == "/pair") {
      // Returns only once two /pair requests are in the handler at the same time.
      absl::MutexLock lock(&mu_);
      ++pairs_;
      auto both = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return pairs_ >= 2; };
      saw_pair_ = mu_.AwaitWithTimeout(absl::Condition(&both), kGuard) || saw_pair_;
    }
    HttpResponse response;
    response.headers.emplace_back("X-Echo-Header", std::string(request.Header("x-test")));
    response.body = absl::StrCat(request.method, " ", request.target, " ", request.body.size());
    absl::MutexLock lock(&mu_);
    --in_handler_;
    return response;
  }
  HttpResponse Overloaded(const HttpRequest& request, int pending_requests,
                          uint64_t pending_bytes) override {
    HttpResponse response;
    response.status = 429;
    response.body = absl::StrCat("busy for ", request.target, ": ", pending_requests, " requests, ",
                                 pending_bytes, " bytes");
    return response;
  }
  HttpResponse BodyTooLarge(const HttpRequest& request, uint64_t limit) override {
    HttpResponse response;
    response.status = 413;
    response.body = absl::StrCat("too large for ", request.target, ": limit ", limit);
    return response;
  }

  [[nodiscard]] ::testing::AssertionResult WaitUntilInHandler(int n) {
    return tributary::testing::IsOk(AwaitFor(
        mu_, kGuard, absl::StrCat(n, " request(s) in the handler"),
        [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return in_handler_ >= n; },
        [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
          return absl::StrCat(in_handler_, " in the handler, ", calls_, " call(s)");
        }));
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  bool saw_pair() {
    absl::MutexLock lock(&mu_);
    return saw_pair_;
  }

 private:
  absl::Mutex mu_;
  int in_handler_ ABSL_GUARDED_BY(mu_) = 0;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int pairs_ ABSL_GUARDED_BY(mu_) = 0;
  bool saw_pair_ ABSL_GUARDED_BY(mu_) = false;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

// A blocking client connection.
class Client {
 public:
  explicit Client(int port) : socket_(ioc_) {
    boost::system::error_code ec;
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  void Send(const std::string& bytes) {
    boost::system::error_code ec;
    net::write(socket_, net::buffer(bytes), ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  // Reads one response; status 0 when the connection ended instead.
  http::response<http::string_body> Read() {
    http::response<http::string_body> response;
    beast::error_code ec;
    http::read(socket_, buffer_, response, ec);
    if (ec) response.result(0u);
    return response;
  }
  // Whether the server closed the connection (a read sees the end, not data).
  bool ServerClosed() {
    char byte;
    boost::system::error_code ec;
    if (buffer_.size() > 0) return false;
    socket_.read_some(net::buffer(&byte, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::string Post(const std::string& target, const std::string& body,
                 const std::string& extra_headers = "") {
  return absl::StrCat("POST ", target, " HTTP/1.1\r\nHost: x\r\nContent-Length: ", body.size(),
                      "\r\n", extra_headers, "\r\n", body);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = HttpServerOptions()) {
    options.listen_address = "127.0.0.1:0";
    absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(options, handler_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  TestHandler handler_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, AStreamedResponseIsChunkedAndEndsItsConnection) {
  handler_.stream = std::make_shared<TestStream>(/*finish=*/true);
  Start();
  Client client(server_->port());
  client.Send(Post("/stream", ""));
  http::response<http::string_body> r = client.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_TRUE(r.chunked());
  EXPECT_EQ(r[http::field::content_type], "application/vnd.amazon.eventstream");
  EXPECT_EQ(r.body(), "onetwothree");
  ASSERT_TRUE(handler_.stream->AwaitFinished());
  EXPECT_EQ(handler_.stream->finished(), 1);
  EXPECT_EQ(handler_.stream->closed(), 0);
  EXPECT_FALSE(r.keep_alive());
  EXPECT_FALSE(handler_.stream->writer()->Write("late")) << "the stream has finished";
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(HttpServerTest, AStreamWhoseClientLeftIsClosedAndItsWritesFail) {
  handler_.stream = std::make_shared<TestStream>(/*finish=*/false);
  Start();
  {
    Client client(server_->port());
    client.Send(Post("/stream-open", ""));
    ASSERT_TRUE(handler_.stream->AwaitStarted());
    ASSERT_TRUE(handler_.stream->AwaitDrainedPastOrClosed(0));
  }  // the client goes away without reading
  // The server learns it when a write fails: keep writing (as keep-alives would) until it does.
  std::shared_ptr<StreamWriter> writer = handler_.stream->writer();
  for (int i = 0; i < 1000 && handler_.stream->closed() == 0; ++i) {
    const int drained = handler_.stream->drained();
    if (!writer->Write(std::string(64 << 10, 'k'))) break;
    ASSERT_TRUE(handler_.stream->AwaitDrainedPastOrClosed(drained));
  }
  EXPECT_EQ(handler_.stream->closed(), 1);
  EXPECT_EQ(handler_.stream->finished(), 0);
  EXPECT_FALSE(writer->Write("more"));
}

TEST_F(HttpServerTest, ShutdownClosesAnOpenStream) {
  handler_.stream = std::make_shared<TestStream>(/*finish=*/false);
  Start();
  Client client(server_->port());
  client.Send(Post("/stream-open", ""));
  ASSERT_TRUE(handler_.stream->AwaitStarted());
  server_->Shutdown();
  EXPECT_EQ(handler_.stream->closed(), 1);
  EXPECT_FALSE(handler_.stream->writer()->Write("after shutdown"));
}

TEST_F(HttpServerTest, PastThePendingRequestBoundARequestIsRefusedAtOnceUntilOneCompletes) {
  HttpServerOptions options;
  options.max_pending_requests = 2;
  Start(options);
  Client first(server_->port()), second(server_->port()), third(server_->port());
  first.Send(Post("/block", "1"));
  second.Send(Post("/block", "22"));
  ASSERT_TRUE(handler_.WaitUntilInHandler(2));
  third.Send(Post("/refused", "333"));
  http::response<http::string_body> refused = third.Read();
  EXPECT_EQ(refused.result_int(), 429);
  EXPECT_EQ(refused.body(), "busy for /refused: 2 requests, 3 bytes");
  EXPECT_TRUE(refused.keep_alive()) << "its body was skipped: the connection goes on";
  EXPECT_EQ(handler_.calls(), 2) << "the refused request never reached the handler";
  handler_.Release();
  EXPECT_EQ(first.Read().body(), "POST /block 1");
  EXPECT_EQ(second.Read().body(), "POST /block 2");
  // Both slots are free again once their responses are written.
  Client fourth(server_->port());
  fourth.Send(Post("/again", "55555"));
  EXPECT_EQ(fourth.Read().body(), "POST /again 5");
}

// The refused request's body is skipped by its Content-Length, however it arrives: a request
// pipelined right behind it (in the same write) is read from its first byte.
TEST_F(HttpServerTest, ARefusedBodyIsSkippedByItsLengthAndThePipelinedRequestReadWhole) {
  HttpServerOptions options;
  options.max_pending_requests = 1;
  Start(options);
  Client blocked(server_->port()), client(server_->port());
  blocked.Send(Post("/block", "b"));
  ASSERT_TRUE(handler_.WaitUntilInHandler(1));
  const std::string large(200 << 10, 'r');  // more than one read of the server's
  client.Send(Post("/refused", large) + Post("/refused-too", "333"));
  EXPECT_EQ(client.Read().body(), "busy for /refused: 1 requests, 1 bytes");
  EXPECT_EQ(client.Read().body(), "busy for /refused-too: 1 requests, 1 bytes");
  handler_.Release();
  EXPECT_EQ(blocked.Read().body(), "POST /block 1");
  // The slot comes back once /block's response is written (the client may read it a moment
  // before): the same connection is served at the latest a few retries later.
  http::response<http::string_body> served;
  served.result(0u);
  for (int i = 0; i < 1000 && served.result_int() != 200; ++i) {
    client.Send(Post("/next", "4444"));
    served = client.Read();
  }
  EXPECT_EQ(served.body(), "POST /next 4");
  EXPECT_EQ(handler_.calls(), 2);
}

// Where the body is not coming (the client waits for 100 Continue) or the client asked to
// close, a refusal still ends the connection.
TEST_F(HttpServerTest, ARefusalClosesTheConnectionWhenTheBodyIsNotSentOrTheClientClosesAnyway) {
  HttpServerOptions options;
  options.max_pending_requests = 1;
  Start(options);
  Client blocked(server_->port());
  blocked.Send(Post("/block", "b"));
  ASSERT_TRUE(handler_.WaitUntilInHandler(1));
  Client expecting(server_->port());
  expecting.Send(
      "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  http::response<http::string_body> refused = expecting.Read();
  EXPECT_EQ(refused.result_int(), 429);
  EXPECT_FALSE(refused.keep_alive());
  EXPECT_TRUE(expecting.ServerClosed());
  Client closing(server_->port());
  closing.Send(Post("/c", "1234", "Connection: close\r\n"));
  refused = closing.Read();
  EXPECT_EQ(refused.result_int(), 429);
  EXPECT_TRUE(closing.ServerClosed());
  handler_.Release();
  EXPECT_EQ(blocked.Read().body(), "POST /block 1");
}

TEST_F(HttpServerTest, PastThePendingByteBoundALargeRequestIsRefusedAndASmallOneServed) {
  HttpServerOptions options;
  options.max_pending_bytes = 1000;
  Start(options);
  Client blocked(server_->port()), large(server_->port()), small(server_->port());
  blocked.Send(Post("/block", std::string(600, 'b')));
  ASSERT_TRUE(handler_.WaitUntilInHandler(1));
  large.Send(Post("/large", std::string(500, 'l')));
  http::response<http::string_body> refused = large.Read();
  EXPECT_EQ(refused.result_int(), 429);
  EXPECT_EQ(refused.body(), "busy for /large: 1 requests, 600 bytes");
  small.Send(Post("/small", std::string(400, 's')));
  EXPECT_EQ(small.Read().body(), "POST /small 400");
  handler_.Release();
  EXPECT_EQ(blocked.Read().body(), "POST /block 600");
}

// The process's memory budget (--memory_budget_mb) is shared with the gRPC services: bytes
// that other requests of the process hold count against the front door's bodies.
TEST_F(HttpServerTest, ABodyPastTheProcessMemoryBudgetIsRefusedAndItsBytesGivenBack) {
  MemoryBudget budget(1000);
  ASSERT_TRUE(budget.TryReserve(700));  // held by a gRPC put elsewhere in the process
  HttpServerOptions options;
  options.memory_budget = &budget;
  Start(options);
  Client large(server_->port());
  large.Send(Post("/large", std::string(400, 'l')));
  http::response<http::string_body> refused = large.Read();
  EXPECT_EQ(refused.result_int(), 429);
  EXPECT_EQ(handler_.calls(), 0) << "the refused request reached the handler";
  Client small(server_->port());
  small.Send(Post("/small", std::string(200, 's')));
  EXPECT_EQ(small.Read().body(), "POST /small 200");
  budget.Release(700);
  EXPECT_LE(budget.peak(), 1000);
}

TEST_F(HttpServerTest, ServesSeveralRequestsOnOneKeepAliveConnection) {
  Start();
  ASSERT_GT(server_->port(), 0);
  Client client(server_->port());
  client.Send(Post("/a", "hello", "X-Test: one\r\n"));
  http::response<http::string_body> first = client.Read();
  EXPECT_EQ(first.result_int(), 200u);
  EXPECT_EQ(first.body(), "POST /a 5");
  EXPECT_EQ(first["X-Echo-Header"], "one");
  EXPECT_TRUE(first.keep_alive());
  client.Send(Post("/b", ""));
  EXPECT_EQ(client.Read().body(), "POST /b 0");
  EXPECT_EQ(handler_.calls(), 2);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Start();
  Client client(server_->port());
  client.Send(Post("/1", "x") + Post("/2", "yy") + Post("/3", "zzz"));
  EXPECT_EQ(client.Read().body(), "POST /1 1");
  EXPECT_EQ(client.Read().body(), "POST /2 2");
  EXPECT_EQ(client.Read().body(), "POST /3 3");
}

TEST_F(HttpServerTest, ConnectionCloseEndsTheConnectionAfterTheResponse) {
  Start();
  Client client(server_->port());
  client.Send(Post("/a", "", "Connection: close\r\n"));
  http::response<http::string_body> response = client.Read();
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(HttpServerTest, ChunkedBodiesAreRead) {
  Start();
  Client client(server_->port());
  client.Send(
      "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  EXPECT_EQ(client.Read().body(), "POST /c 5");
}

TEST_F(HttpServerTest, ABodyOverTheLimitGetsTheHandlersReplyNotADroppedConnection) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  Start(options);
  Client client(server_->port());
  // The client writes its whole 300 KB body before reading, as botocore does: the server must
  // read past it to let the reply through.
  client.Send(Post("/big", std::string(300000, 'x')));
  http::response<http::string_body> response = client.Read();
  EXPECT_EQ(response.result_int(), 413u);
  EXPECT_EQ(response.body(), "too large for /big: limit 1000");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(handler_.calls(), 0);
  // A body at the limit is fine, on a new connection.
  Client again(server_->port());
  again.Send(Post("/ok", std::string(1000, 'x')));
  EXPECT_EQ(again.Read().body(), "POST /ok 1000");
}

TEST_F(HttpServerTest, AChunkedBodyGrowingOverTheLimitGetsTheHandlersReply) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  Start(options);
  Client client(server_->port());
  std::string chunks;
  for (int i = 0; i < 50; ++i) chunks += absl::StrCat("64\r\n", std::string(100, 'y'), "\r\n");
  client.Send("POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks +
              "0\r\n\r\n");
  http::response<http::string_body> response = client.Read();
  EXPECT_EQ(response.result_int(), 413u);
  EXPECT_EQ(handler_.calls(), 0);
}

TEST_F(HttpServerTest, ExpectContinueGetsOneHundredContinueThenTheResponse) {
  Start();
  Client client(server_->port());
  client.Send("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 100u);
  client.Send("body");
  EXPECT_EQ(client.Read().body(), "POST /e 4");
}

TEST_F(HttpServerTest, ExpectContinueOverTheLimitIsRefusedBeforeTheBodyIsSent) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  Start(options);
  Client client(server_->port());
  client.Send(
      "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 413u);
}

TEST_F(HttpServerTest, AMalformedRequestGetsBadRequest) {
  Start();
  Client client(server_->port());
  client.Send("GARBAGE\r\n\r\n");
  http::response<http::string_body> response = client.Read();
  EXPECT_EQ(response.result_int(), 400u);
  EXPECT_THAT(response.body(), HasSubstr("malformed HTTP request"));
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(HttpServerTest, AnOversizedHeaderGetsBadRequest) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  Start(options);
  Client client(server_->port());
  client.Send(Post("/h", "", absl::StrCat("X-Big: ", std::string(4096, 'h'), "\r\n")));
  EXPECT_EQ(client.Read().result_int(), 400u);
}

TEST_F(HttpServerTest, HandlersRunConcurrentlyOnWorkerThreads) {
  Start();
  Client a(server_->port());
  Client b(server_->port());
  a.Send(Post("/pair", ""));
  b.Send(Post("/pair", ""));
  EXPECT_EQ(a.Read().body(), "POST /pair 0");
  EXPECT_EQ(b.Read().body(), "POST /pair 0");
  EXPECT_TRUE(handler_.saw_pair()) << "the two requests never were in the handler at once";
}

TEST_F(HttpServerTest, ShutdownClosesConnectionsAndWaitsForRunningHandlers) {
  Start();
  Client idle(server_->port());
  idle.Send(Post("/warm", ""));
  ASSERT_EQ(idle.Read().result_int(), 200u);  // now an idle keep-alive connection
  Client busy(server_->port());
  busy.Send(Post("/block", ""));
  ASSERT_TRUE(handler_.WaitUntilInHandler(1));
  absl::Notification shut_down;
  std::thread shutdown([&] {
    server_->Shutdown();
    shut_down.Notify();
  });
  // Shutdown waits for the handler call in progress...
  EXPECT_FALSE(shut_down.WaitForNotificationWithTimeout(absl::Milliseconds(200)));
  handler_.Release();
  EXPECT_TRUE(shut_down.WaitForNotificationWithTimeout(kGuard));
  shutdown.join();
  // ...and every connection is gone; the blocked request's response was dropped.
  EXPECT_TRUE(idle.ServerClosed());
  EXPECT_EQ(busy.Read().result_int(), 0u);
  server_->Shutdown();  // idempotent
}

TEST_F(HttpServerTest, BadAddressesAreRefused) {
  HttpServerOptions options;
  options.listen_address = "127.0.0.1:99999";
  EXPECT_EQ(HttpServer::Start(options, handler_).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.listen_address = "127.0.0.1:0";
  options.worker_threads = 0;
  EXPECT_EQ(HttpServer::Start(options, handler_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(HttpServerTest, AnAddressInUseIsUnavailable) {
  Start();
  HttpServerOptions options;
  options.listen_address = absl::StrCat("127.0.0.1:", server_->port());
  absl::StatusOr<std::unique_ptr<HttpServer>> second = HttpServer::Start(options, handler_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

}  // namespace
}  // namespace tributary::aws
