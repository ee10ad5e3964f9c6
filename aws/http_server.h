// HttpServer: the listener of the AWS front door: HTTP/1.1 on Boost.Beast over Boost.Asio, and
// HTTP/2 (cleartext h2c, on nghttp2: http2_session.h) on the same port; with HttpTlsOptions,
// both over TLS (HTTPS; HTTP/2 chosen by ALPN "h2").
//
// Which protocol: a connection whose first bytes are HTTP/2's client preface ("PRI *
// HTTP/2.0...", prior knowledge, as the Java SDK's Netty client and `curl --http2-prior-knowledge`
// send it) speaks HTTP/2 from then on; any other connection is HTTP/1.1, and an HTTP/1.1 request
// with "Upgrade: h2c" and an HTTP2-Settings header is answered "101 Switching Protocols" and
// then over HTTP/2, as stream 1 of the upgraded connection (RFC 7540 §3.2). Both protocols
// hand every request to the same HttpHandler, apply the same body limit, header limit and
// admission control, and stream ResponseStreams (HTTP/2: as DATA frames, under HTTP/2's flow
// control; http2_session.h has the per-stream rules).
//
// What it does with an HTTP/1.1 connection:
//   - reads one request at a time (keep-alive and pipelining as HTTP/1.1 says; "Connection:
//     close" and HTTP/1.0 end the connection after the response);
//   - hands each complete request to the HttpHandler on a worker thread (the handler may block
//     on a store write or an fsync; the io threads never do), then writes the response;
//   - answers "Expect: 100-continue" with 100 Continue before reading the body;
//   - a body larger than max_body_bytes (by Content-Length, or while reading a chunked body)
//     gets the handler's BodyTooLarge response, and the connection is then closed gracefully:
//     the server stops sending, reads and drops what the client still sends (up to
//     max_discard_bytes), then closes, so a client that writes its whole body before reading
//     (botocore does) sees the reply instead of a connection reset;
//   - a malformed request or an oversized header gets 400 and the same graceful close;
//   - a connection idle for idle_timeout, or stalled for io_timeout while a request or a
//     response is being transferred, is closed (Asio's steady timers: transport deadlines like
//     gRPC's keep-alives, not domain time, so they are not on the injected Clock).
//
// Threads: io_threads run the Asio event loop (accept, read, write; each connection on its own
// strand); worker_threads run the handler. The handler's BodyTooLarge runs on an io thread and
// must be quick.
//
// Thread-safe. Destruction shuts the server down.
#ifndef TRIBUTARY_AWS_HTTP_SERVER_H_
#define TRIBUTARY_AWS_HTTP_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/memory_budget.h"
#include "aws/http_message.h"

namespace tributary::aws {

// TLS on an HTTP listener. Both protocols are served over it: ALPN selects "h2" when the client
// offers it (else "http/1.1"), and the connection is then read as a cleartext one would be (a
// client preface means HTTP/2). The files are checked for a change at every new connection and
// re-read when they changed (a renewed certificate serves new connections; open ones keep
// theirs; a pair that does not match yet, half replaced, is not taken).
struct HttpTlsOptions {
  std::string cert_file;       // PEM certificate chain: TLS when set
  std::string key_file;        // its PEM private key
  std::string client_ca_file;  // PEM CAs: client certificates are requested and verified
  // With client_ca_file: a client without a certificate is refused at the handshake (else it is
  // served; one presenting a certificate of another CA is always refused).
  bool require_client_certificate = false;

  bool enabled() const { return !cert_file.empty(); }
};

struct HttpServerOptions {
  // host:port as common/host_port.h spells it; port 0 picks a free port (see port()).
  std::string listen_address = "127.0.0.1:0";
  int io_threads = 2;
  int worker_threads = 8;
  // The largest request body read; larger ones get HttpHandler::BodyTooLarge.
  uint64_t max_body_bytes = 12 << 20;
  // The largest request line + header fields; larger ones get 400.
  uint32_t max_header_bytes = 64 << 10;
  absl::Duration idle_timeout = absl::Minutes(5);
  absl::Duration io_timeout = absl::Seconds(60);
  // After a too-large or malformed request: how much more of it is read and dropped before the
  // connection is closed.
  uint64_t max_discard_bytes = 64 << 20;
  // Admission control: at most this many requests, with bodies adding up to at most this many
  // bytes (by Content-Length; a chunked body counts as max_body_bytes), between their header
  // being read and their response written. A request past either bound is answered at once with
  // HttpHandler::Overloaded, before its body is read, so the memory requests pin stays bounded
  // however many clients push. The body is then read and dropped by its Content-Length and the
  // connection kept for the client's retry (a new connection costs more than the skipped bytes);
  // without a Content-Length (chunked), with "Expect: 100-continue" (the body is not coming) or
  // when the client asked to close, the connection is closed as after a too-large body.
  int max_pending_requests = 256;
  uint64_t max_pending_bytes = 512 << 20;
  // The process's memory budget, which admitted bodies are also reserved in (null: none). Must
  // outlive the server.
  MemoryBudget* memory_budget = nullptr;
  // HTTP/2: streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS;
  // more are refused with REFUSED_STREAM, which clients retry).
  uint32_t http2_max_concurrent_streams = 100;
  // HTTPS (off by default).
  HttpTlsOptions tls;
};

class HttpServer {
 public:
  // Binds options.listen_address and starts serving with `handler`, which must outlive the
  // server. Errors: INVALID_ARGUMENT for a malformed address, thread counts below 1, or TLS files
  // that cannot be used (naming the file); UNAVAILABLE when the host does not resolve or the
  // address cannot be bound (in use).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           HttpHandler& handler);
  ~HttpServer();

  // The port bound.
  int port() const { return port_; }

  // Stops accepting, closes every connection (a request in the handler finishes, its response
  // is dropped), waits for running handler calls to return and joins every thread. After it
  // returns the handler is not called again. Idempotent.
  void Shutdown();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int port_;
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_HTTP_SERVER_H_
