// Blocking Asio calls on sockets of an io_context that is never run (synchronous operations do
// not need it to run). A blocked accept or read is woken by shutdown(2) of its socket, which on
// Linux makes it return at once; sockets are closed only when the server is destroyed.
#include "common/testing/http_test_server.h"

#include <sys/socket.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace tributary {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpTestServer::Acceptor {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
};

struct HttpTestServer::Tls {
  asio::ssl::context context{asio::ssl::context::tls_server};
};

struct HttpTestServer::Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  std::atomic<bool> idle{true};   // waiting for the next request
  std::atomic<bool> done{false};  // served its last request (or failed)
  void Shutdown() { ::shutdown(socket.native_handle(), SHUT_RDWR); }
};

std::string TestHttpRequest::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

absl::StatusOr<std::unique_ptr<HttpTestServer>> HttpTestServer::Start(Handler handler,
                                                                      const TestTlsFiles* tls) {
  std::unique_ptr<HttpTestServer> server(new HttpTestServer());
  server->handler_ = std::move(handler);
  if (tls != nullptr) {
    server->tls_ = std::make_unique<Tls>();
    beast::error_code ec;
    server->tls_->context.use_certificate_chain_file(tls->certificate_file, ec);
    if (!ec) {
      server->tls_->context.use_private_key_file(tls->private_key_file, asio::ssl::context::pem,
                                                 ec);
    }
    if (!ec && !tls->client_ca_file.empty()) {
      server->tls_->context.load_verify_file(tls->client_ca_file, ec);
      if (!ec) {
        server->tls_->context.set_verify_mode(
            asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert, ec);
      }
    }
    if (ec) return absl::InvalidArgumentError(absl::StrCat("HttpTestServer: TLS: ", ec.message()));
  }
  server->acceptor_ = std::make_unique<Acceptor>();
  tcp::acceptor& acceptor = server->acceptor_->acceptor;
  beast::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("HttpTestServer: listen: ", ec.message()));
  server->port_ = acceptor.local_endpoint().port();
  server->accept_thread_ = std::thread([s = server.get()] { s->Accept(); });
  return server;
}

HttpTestServer::~HttpTestServer() {
  stopping_ = true;
  ::shutdown(acceptor_->acceptor.native_handle(), SHUT_RDWR);
  accept_thread_.join();
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& c : open_) c->Shutdown();
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
}

std::string HttpTestServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

void HttpTestServer::CloseIdleConnections() {
  // A connection that has just written its reply turns idle a moment later, on its own thread:
  // wait for that (bounded: a handler may legitimately still be running) so that a client that
  // has read the reply sees its connection closed.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline) {
    bool settled = true;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& c : open_) settled = settled && (c->idle || c->done);
    }
    if (settled) break;
    absl::SleepFor(absl::Milliseconds(1));
  }
  absl::MutexLock lock(&mu_);
  for (const auto& c : open_) {
    if (c->idle) c->Shutdown();
  }
}

void HttpTestServer::Accept() {
  while (!stopping_) {
    beast::error_code ec;
    tcp::socket socket = acceptor_->acceptor.accept(ec);
    if (ec) {
      if (stopping_) return;
      continue;
    }
    connections_.fetch_add(1);
    auto c = std::make_shared<Connection>(std::move(socket));
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    open_.push_back(c);
    threads_.emplace_back([this, c] { Serve(c); });
  }
}

void HttpTestServer::Serve(std::shared_ptr<Connection> c) {
  if (tls_ == nullptr) {
    ServeOn(*c, c->socket);
  } else {
    asio::ssl::stream<tcp::socket&> stream(c->socket, tls_->context);
    beast::error_code ec;
    stream.handshake(asio::ssl::stream_base::server, ec);
    if (!ec) ServeOn(*c, stream);
  }
  c->idle = false;
  c->done = true;
  // Closed when the server is destroyed (open_ holds it): closing here could race with a
  // Shutdown() of the same descriptor from another thread.
  c->Shutdown();
}

template <typename Stream>
void HttpTestServer::ServeOn(Connection& c, Stream& stream) {
  beast::flat_buffer buffer;
  // Beast reads at most the buffer's free capacity at a time (and at least 512 bytes): without
  // room, a 3 MB body takes thousands of reads (BENCHMARKS.md, run 9).
  buffer.reserve(1 << 20);
  while (!stopping_) {
    c.idle = true;
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    c.idle = false;
    if (ec) return;
    http::request<http::string_body> request = parser.release();
    TestHttpRequest in;
    in.method = std::string(request.method_string());
    in.target = std::string(request.target());
    for (const auto& field : request) {
      in.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    in.body = std::move(request.body());
    TestHttpReply out = handler_(in);
    if (out.close_without_reply) return;
    http::response<http::string_body> response{static_cast<http::status>(out.status),
                                               request.version()};
    for (const auto& [name, value] : out.headers) response.set(name, value);
    response.body() = std::move(out.body);
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    http::write(stream, response, ec);
    if (ec || !response.keep_alive()) return;
  }
}

}  // namespace tributary
