// HTTP requests and responses as the front door's handlers see them: plain data, no socket and
// no HTTP library types, so that the router and the API adapters are tested without a network
// (http_server.h moves them on and off the wire).
#ifndef TRIBUTARY_AWS_HTTP_MESSAGE_H_
#define TRIBUTARY_AWS_HTTP_MESSAGE_H_

#include <cstdint>
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

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added on write
  std::string body;
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
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_HTTP_MESSAGE_H_
