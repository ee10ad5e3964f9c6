// Internal to HttpServer (//aws:http_server): one HTTP/2 connection on Asio — the socket, its
// strand and timers around an Http2Session (http2_session.h), which does the protocol.
//
//   read → Http2Session::Receive → write what TakeOutput gives, one write at a time →
//   OutputWritten → write again, until the session has nothing; output that comes later
//   (responses from workers, streamed chunks) wakes the writer through output_ready.
//
// A connection that fails (a socket error, a protocol error after its GOAWAY is written, a write
// stalled for io_timeout, no open stream for idle_timeout) is closed, and its session closes
// every stream. Everything runs on the connection's strand; Close may be called from any thread.
// `Stream` is the connection's byte stream: a TCP socket (h2c) or a TLS stream over one (h2 after
// ALPN); both are instantiated in http2_connection.cc.
#ifndef TRIBUTARY_AWS_HTTP2_CONNECTION_H_
#define TRIBUTARY_AWS_HTTP2_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/http2_session.h"
#include "aws/http_message.h"
#include "aws/http_server.h"
#include "aws/request_admission.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/thread_pool.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/ssl/ssl_stream.hpp"

namespace tributary::aws {

// A connection the server can close at shutdown, whatever its protocol.
class ServerConnection {
 public:
  virtual ~ServerConnection() = default;
  // From any thread: closes the connection (its requests' responses are dropped).
  virtual void Close() = 0;
};

// The TLS byte stream of an HTTPS connection.
using TlsTcpStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// The upgrade of an HTTP/1.1 request ("Upgrade: h2c"), whatever the stream.
struct Http2Upgrade {
  HttpRequest request;
  std::string http2_settings;  // its HTTP2-Settings header
  uint64_t admitted_cost = 0;  // its admission slot, which the connection now owns
};

template <class Stream>
class Http2Connection : public ServerConnection,
                        public std::enable_shared_from_this<Http2Connection<Stream>> {
 public:
  // An HTTP/1.1 request that asked for "Upgrade: h2c" and was answered 101.
  using Upgrade = Http2Upgrade;

  // `socket` must be bound to a strand. `options`, `handler`, `admission` and `workers` must
  // outlive the connection's last callback (the server joins its threads before they go).
  Http2Connection(Stream socket, const HttpServerOptions& options,
                  HttpHandler& handler, RequestAdmission& admission,
                  boost::asio::thread_pool& workers);

  // Starts serving; `received` are bytes already read from the socket (the client preface, or
  // whatever followed an upgraded request). Once.
  void Start(std::string received, std::optional<Upgrade> upgrade);

  void Close() override;

 private:
  void Begin(std::string received, std::optional<Upgrade> upgrade);
  void Read();
  // Feeds bytes to the session; false when nothing more is to be read.
  bool Feed(const char* data, size_t size);
  void Flush();
  void ArmTimer();
  void CloseNow();

  Stream socket_;
  const HttpServerOptions& options_;
  HttpHandler& handler_;
  RequestAdmission& admission_;
  boost::asio::thread_pool& workers_;
  boost::asio::steady_timer timer_;
  uint64_t timer_generation_ = 0;  // a timer callback of an older arming does nothing
  std::shared_ptr<Http2Session> session_;
  std::vector<char> read_buffer_;
  std::string output_;  // being written
  bool writing_ = false;
  bool closed_ = false;
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_HTTP2_CONNECTION_H_
