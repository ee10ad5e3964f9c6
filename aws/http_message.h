// HTTP requests and responses as the front door's handlers see them: plain data, no socket and
// no HTTP library types, so that the router and the API adapters are tested without a network
// (http_server.h moves them on and off the wire).
#ifndef TRIBUTARY_AWS_HTTP_MESSAGE_H_
#define TRIBUTARY_AWS_HTTP_MESSAGE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace tributary::aws {

struct HttpRequest {
  std::string method;  // "POST"
  std::string target;  // the request target: path and query, e.g. "/" or "/2015-03-31/functions"
  // Header names lower-cased, values as sent, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The subject of the client certificate the connection's TLS handshake verified, in RFC 2253
  // form as gRPC reports it for a call ("CN=alice,O=ops"); empty over plaintext and when the
  // client presented none. Set by the server, never from anything the client sent in a header.
  std::string peer_subject;

  // The value of the first header named `name` (any case), or "" when there is none.
  absl::string_view Header(absl::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (absl::EqualsIgnoreCase(key, name)) return value;
    }
    return {};
  }
  bool HasHeader(absl::string_view name) const {
    for (const auto& h : headers) {
      if (absl::EqualsIgnoreCase(h.first, name)) return true;
    }
    return false;
  }
};

// Sends the chunks of a streamed response (HttpResponse::stream). Thread-safe; never blocks.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Queues `chunk` (not empty) to be sent after those queued before. Returns false, and sends
  // nothing, once the connection is closed or the stream finished.
  virtual bool Write(std::string chunk) = 0;
  // Ends the response after the queued chunks (the last chunk). Later calls do nothing.
  virtual void Finish() = 0;
};

// A response body produced over time (an AWS event stream, server-sent events), sent with
// Transfer-Encoding: chunked. The server calls these on its io threads, one at a time; none may
// block.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Once, after the status line and headers are on the wire. `writer` stays usable from any
  // thread (it returns false once the connection is gone).
  virtual void Start(std::shared_ptr<StreamWriter> writer) = 0;
  // Everything written so far has been sent: flow control for producers that write one chunk
  // at a time. Not called after Finish.
  virtual void OnDrained() = 0;
  // Exactly one of these two ends every stream that was handed to the server, and nothing comes
  // after it: OnFinished once the last chunk is on the wire after Finish; OnClosed when the
  // connection closed first (the client went away, a write failed, the server shut down, or the
  // connection was gone before the head could be sent). Writes from then on return false.
  virtual void OnFinished() = 0;
  virtual void OnClosed() = 0;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added on write
  std::string body;
  // When set, `body` is ignored and the body is this stream's chunks.
  std::shared_ptr<ResponseStream> stream;
};

// What serves the requests of an HttpServer. Implementations must be thread-safe: the server
// calls them from several worker threads at once. A call may block (a store write, an fsync).
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // The response to a complete request.
  virtual HttpResponse Handle(HttpRequest request) = 0;
  // The response to a request whose body exceeds the server's limit of `limit` bytes; `request`
  // has the method, target and headers, and no body. The server closes the connection after it.
  virtual HttpResponse BodyTooLarge(const HttpRequest& request, uint64_t limit) = 0;
  // The response to a request refused by admission control (HttpServerOptions'
  // max_pending_requests / max_pending_bytes); `request` has no body. `pending_requests` and
  // `pending_bytes` are what was admitted when it came. Must be cheap: it runs on an io thread.
  virtual HttpResponse Overloaded(const HttpRequest& request, int pending_requests,
                                  uint64_t pending_bytes) = 0;
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_HTTP_MESSAGE_H_
