// The Prometheus scrape endpoint every service serves on --metrics_listen:
//   GET /metrics    200 with the text that `render` returns (Content-Type: text/plain;
//                   version=0.0.4);
//   GET /-/healthy  200 "OK" while the process serves at all (a liveness probe);
//   GET /-/ready    200 "OK" when `ready` returns true (or no `ready` was given), else 503
//                   "not ready" (a readiness probe: e.g. until the gRPC server is up);
// (Prometheus' own paths, so probes written for it fit); any other method on them is 405. Any other
// path goes to `other_paths` when one is given (the web console of `tributary serve`,
// tools/console/), else is 404; a malformed or oversized request is 400. Served by the same HTTP server as the AWS front door
// (aws/http_server.h: Boost.Beast, HTTP/1.1 with keep-alive, connections served concurrently,
// a client that sends nothing for `io_timeout` dropped), with one io thread and one worker.
//
// Threading: `render`, `ready` and `other_paths` are called on the server's worker threads (two
// with `other_paths`, so that a slow console page does not hold up a scrape; else one) and must be
// thread-safe with respect to the rest of the program, and outlive this object. The destructor stops the server and joins its threads.
#ifndef TRIBUTARY_COMMON_METRICS_METRICS_HTTP_SERVER_H_
#define TRIBUTARY_COMMON_METRICS_METRICS_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aws/http_server.h"

namespace tributary::metrics {

class MetricsHttpServer {
 public:
  // Binds `listen_address` ("host:port" as common/host_port.h spells it, with an IPv4 host,
  // "localhost" or "[::]" (every interface); port 0 picks a free port) and starts serving.
  // Errors: INVALID_ARGUMENT for a malformed address; UNAVAILABLE when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& listen_address, std::function<std::string()> render,
      std::function<bool()> ready = nullptr, absl::Duration io_timeout = absl::Seconds(5),
      std::function<aws::HttpResponse(const aws::HttpRequest&)> other_paths = nullptr);
  ~MetricsHttpServer();

  int port() const { return server_->port(); }

 private:
  class Handler;
  MetricsHttpServer(std::unique_ptr<Handler> handler, std::unique_ptr<aws::HttpServer> server);

  std::unique_ptr<Handler> handler_;
  std::unique_ptr<aws::HttpServer> server_;  // last: stopped first, while the handler exists
};

}  // namespace tributary::metrics

#endif  // TRIBUTARY_COMMON_METRICS_METRICS_HTTP_SERVER_H_
