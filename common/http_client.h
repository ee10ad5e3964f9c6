// HttpClient: HTTP/1.1 requests with a deadline over pooled keep-alive connections (Boost.Beast
// over Boost.Asio; HTTPS with OpenSSL through Asio). What the poller calls functions with when
// their endpoint is a URL (poller/invoke/), as common/grpc_client.h is for gRPC ones.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> client, HttpClient::Create({}));
//   ASSIGN_OR_RETURN(HttpReply reply,
//                    client->Post({false, "127.0.0.1", 9000}, "/invoke", body,
//                                 {{"Content-Type", "application/json"}}, absl::Seconds(3)));
//
// Connections: one pool per peer (scheme, host, port). A request takes the most recently used
// idle connection of its peer, or opens one (resolve, connect, TLS handshake with certificate
// and host name verification); after a complete response that allows keep-alive the connection
// goes back to the pool (at most max_idle_per_peer are kept), otherwise it is closed. A
// connection that failed or timed out is never reused.
//
// A reused connection may have been closed by the server while it sat in the pool: when the
// request cannot be written on it, or it ends before a single byte of the response arrives, the
// request is sent once more on a new connection (as curl and Go's client do). So a request can
// reach the server twice when the server read it and then closed without answering; callers
// whose requests must not repeat cannot use this client (the poller's invocations are at least
// once anyway).
//
// Time: the deadline is real time (steady clock) inside Asio, like a gRPC deadline: it is a
// transport deadline, not domain time, and is not on the injected Clock.
//
// Thread-safe: any number of threads may call Post at once; each call uses its connection alone.
#ifndef TRIBUTARY_COMMON_HTTP_CLIENT_H_
#define TRIBUTARY_COMMON_HTTP_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace tributary {

struct HttpClientOptions {
  // Idle connections kept per peer; more are closed after their response.
  int max_idle_per_peer = 64;
  // A longer response body is an error (RESOURCE_EXHAUSTED).
  uint64_t max_response_body_bytes = 16 << 20;
  // HTTPS: a PEM file of the certificate authorities to trust; empty = the system's.
  std::string ca_file;
  // HTTPS: a PEM client certificate (chain) and its private key, presented to servers that ask
  // for one (mutual TLS); both or neither.
  std::string cert_file;
  std::string key_file;
};

// Who a request goes to. `host` is a DNS name or an IP address (IPv6 without brackets).
struct HttpPeer {
  bool tls = false;
  std::string host;
  int port = 0;
};

struct HttpReply {
  int status = 0;  // 200, 404, ...
  // Header fields as received (names as the server spelled them), in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The value of the first header named `name` (any case); nullptr when there is none.
  const std::string* Header(absl::string_view name) const;
};

class HttpClient {
 public:
  // Errors: INVALID_ARGUMENT when options.ca_file cannot be read as PEM certificates or
  // max_idle_per_peer < 0.
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(const HttpClientOptions& options);
  ~HttpClient();

  // POSTs `body` to `target` (a path with an optional query, "/x?y=1") of `peer` with `headers`
  // (Host, Content-Length and User-Agent are set here) and waits at most `timeout` for the whole
  // exchange (connecting included). Returns the reply whatever its status code. Errors:
  // DEADLINE_EXCEEDED when `timeout` passed first; UNAVAILABLE when the host does not resolve, the
  // connection is refused, the TLS handshake or certificate check fails, or the connection breaks
  // before the reply is complete; RESOURCE_EXHAUSTED when the reply's body exceeds
  // max_response_body_bytes; UNKNOWN when the reply is not HTTP/1.x. Each message names the peer.
  absl::StatusOr<HttpReply> Post(const HttpPeer& peer, absl::string_view target, std::string body,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 absl::Duration timeout);

  // Idle connections in the pool of `peer` (for tests of reuse).
  int IdleConnections(const HttpPeer& peer) const;

  class Impl;

 private:
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_HTTP_CLIENT_H_
