// HttpTestServer: a small blocking HTTP/1.1 server on 127.0.0.1:0 whose answers a test scripts
// (or a benchmark's no-op function gives): one thread accepts, one thread a connection reads a
// request, calls the handler and writes its reply, keeping the connection alive as HTTP/1.1 says.
// Boost.Beast; HTTPS with a given certificate. Not for production: the AWS front door's server
// (aws/http_server.h) is.
//
//   auto server = HttpTestServer::Start([](const TestHttpRequest& r) {
//     return TestHttpReply{200, {{"Content-Type", "application/json"}}, "{}"};
//   });
//
// Thread-safe. The handler runs on connection threads, several at once; it must return (a
// handler that waits must be released before the server is destroyed).
#ifndef TRIBUTARY_COMMON_TESTING_HTTP_TEST_SERVER_H_
#define TRIBUTARY_COMMON_TESTING_HTTP_TEST_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace tributary {

struct TestHttpRequest {
  std::string method;  // "POST"
  std::string target;  // "/2015-03-31/functions/function/invocations"
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent
  std::string body;

  // The value of the first header named `name` (any case), or "" when there is none.
  std::string Header(absl::string_view name) const;
};

struct TestHttpReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Close the connection instead of answering (a function that crashed mid-call).
  bool close_without_reply = false;
};

// HTTPS: the server's certificate chain and private key, PEM files.
struct TestTlsFiles {
  std::string certificate_file;
  std::string private_key_file;
  // Mutual TLS: when set, a client must present a certificate these CAs (PEM) issued, else
  // the handshake fails.
  std::string client_ca_file;
};

class HttpTestServer {
 public:
  using Handler = std::function<TestHttpReply(const TestHttpRequest&)>;

  // Listens on 127.0.0.1:0; with `tls`, speaks HTTPS (a failed handshake closes the
  // connection). Errors: UNAVAILABLE when it cannot listen; INVALID_ARGUMENT when the TLS files
  // cannot be read.
  static absl::StatusOr<std::unique_ptr<HttpTestServer>> Start(
      Handler handler, const TestTlsFiles* tls = nullptr);
  // Stops accepting, closes every connection and joins every thread.
  ~HttpTestServer();

  int port() const { return port_; }
  std::string address() const;  // "127.0.0.1:PORT"
  // Connections accepted so far.
  int64_t connections() const { return connections_.load(); }
  // Closes every connection that is waiting for its next request (as a server does with idle
  // keep-alive connections), without answering anything. Waits first (at most 5 s of real
  // time) for connections that have written a reply to turn idle, so a client that has read
  // its reply finds the connection closed.
  void CloseIdleConnections();

  struct Connection;

 private:
  HttpTestServer() = default;
  void Accept();
  void Serve(std::shared_ptr<Connection> c);
  template <typename Stream>
  void ServeOn(Connection& c, Stream& stream);

  Handler handler_;
  int port_ = 0;
  struct Acceptor;
  std::unique_ptr<Acceptor> acceptor_;
  struct Tls;
  std::unique_ptr<Tls> tls_;  // null: plain HTTP
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> connections_{0};
  std::thread accept_thread_;
  absl::Mutex mu_;
  std::vector<std::shared_ptr<Connection>> open_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_TESTING_HTTP_TEST_SERVER_H_
