// A minimal HTTP/1.0 server for Prometheus scrapes: GET /metrics answers 200 with the text that
// `render` returns (Content-Type: text/plain; version=0.0.4); any other path is 404, any other
// method 405, a malformed or oversized request 400. One connection at a time, each closed after
// its response; a client that sends nothing for `io_timeout` is dropped, so a stuck scraper
// cannot block the next.
//
// Threading: one accept thread, started by Start and joined by the destructor. `render` is
// called on that thread and must be thread-safe with respect to the rest of the program.
#ifndef TRIBUTARY_POLLER_RUNTIME_METRICS_HTTP_SERVER_H_
#define TRIBUTARY_POLLER_RUNTIME_METRICS_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tributary::poller {

class MetricsHttpServer {
 public:
  // Binds `listen_address` ("host:port" as common/host_port.h spells it, with an IPv4 host,
  // "localhost" or "[::]" (every interface); port 0 picks a free port) and starts serving.
  // Errors: INVALID_ARGUMENT for a malformed address; UNAVAILABLE when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& listen_address, std::function<std::string()> render,
      absl::Duration io_timeout = absl::Seconds(5));
  ~MetricsHttpServer();

  int port() const { return port_; }

 private:
  MetricsHttpServer(int listen_fd, int wake_read_fd, int wake_write_fd, int port,
                    std::function<std::string()> render, absl::Duration io_timeout);
  void Serve();
  void HandleConnection(int fd);

  const int listen_fd_;
  const int wake_read_fd_;  // the accept loop polls it; written once to stop the loop
  const int wake_write_fd_;
  const int port_;
  std::function<std::string()> render_;
  const absl::Duration io_timeout_;
  std::thread thread_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_RUNTIME_METRICS_HTTP_SERVER_H_
