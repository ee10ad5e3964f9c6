#include "common/metrics/metrics_http_server.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/host_port.h"

namespace tributary::metrics {
namespace {

// Only IPv4 hosts, "localhost" and "[::]" are taken (as before the move onto the HTTP server),
// so that a typo in the flag is refused instead of being looked up.
absl::StatusOr<std::string> CheckAddress(const std::string& listen_address) {
  absl::StatusOr<HostPort> parsed = ParseHostPort(listen_address, AddressUse::kListen);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics listen address ", parsed.status().message()));
  }
  std::string host = parsed->host;
  if (host == "localhost") host = "127.0.0.1";
  if (host == "::") host = "0.0.0.0";
  int parts = 0;
  for (absl::string_view part : absl::StrSplit(host, '.')) {
    int value;
    if (part.empty() || part.size() > 3 || !absl::SimpleAtoi(part, &value) || value > 255) {
      parts = -1;
      break;
    }
    ++parts;
  }
  if (parts != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics listen host must be an IPv4 address, got \"", host, "\""));
  }
  return HostPort{host, parsed->port}.ToString();
}

aws::HttpResponse Text(int status, std::string body) {
  aws::HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "text/plain");
  response.body = std::move(body);
  return response;
}

}  // namespace

class MetricsHttpServer::Handler : public aws::HttpHandler {
 public:
  Handler(std::function<std::string()> render, std::function<bool()> ready,
          std::function<aws::HttpResponse(const aws::HttpRequest&)> other_paths)
      : render_(std::move(render)),
        ready_(std::move(ready)),
        other_paths_(std::move(other_paths)) {}

  aws::HttpResponse Handle(aws::HttpRequest request) override {
    absl::string_view path = request.target;
    path = path.substr(0, path.find('?'));
    const bool ours = path == "/metrics" || path == "/-/healthy" || path == "/-/ready";
    if (!ours && other_paths_ != nullptr) return other_paths_(request);
    if (request.method != "GET") {
      aws::HttpResponse response = Text(405, "only GET\n");
      response.headers.emplace_back("Allow", "GET");
      return response;
    }
    if (path == "/-/healthy") return Text(200, "OK\n");
    if (path == "/-/ready") {
      return ready_ == nullptr || ready_() ? Text(200, "OK\n") : Text(503, "not ready\n");
    }
    if (path != "/metrics") return Text(404, "try /metrics, /-/healthy or /-/ready\n");
    aws::HttpResponse response;
    response.headers.emplace_back("Content-Type", "text/plain; version=0.0.4");
    response.body = render_();
    return response;
  }
  aws::HttpResponse BodyTooLarge(const aws::HttpRequest&, uint64_t) override {
    return Text(400, "request too large\n");
  }
  aws::HttpResponse Overloaded(const aws::HttpRequest&, int, uint64_t) override {
    return Text(503, "busy\n");
  }

 private:
  const std::function<std::string()> render_;
  const std::function<bool()> ready_;  // null: always ready
  const std::function<aws::HttpResponse(const aws::HttpRequest&)> other_paths_;  // null: 404
};

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& listen_address, std::function<std::string()> render,
    std::function<bool()> ready, absl::Duration io_timeout,
    std::function<aws::HttpResponse(const aws::HttpRequest&)> other_paths) {
  absl::StatusOr<std::string> address = CheckAddress(listen_address);
  if (!address.ok()) return address.status();
  const int workers = other_paths != nullptr ? 2 : 1;
  auto handler =
      std::make_unique<Handler>(std::move(render), std::move(ready), std::move(other_paths));
  aws::HttpServerOptions options;
  options.listen_address = *address;
  options.io_threads = 1;
  options.worker_threads = workers;
  options.max_body_bytes = 8192;
  options.max_header_bytes = 8192;
  options.idle_timeout = io_timeout;
  options.io_timeout = io_timeout;
  options.max_discard_bytes = 64 << 10;
  options.max_pending_requests = 16;
  absl::StatusOr<std::unique_ptr<aws::HttpServer>> server =
      aws::HttpServer::Start(options, *handler);
  if (!server.ok()) {
    return absl::Status(server.status().code(),
                        absl::StrCat("metrics server: ", server.status().message()));
  }
  return std::unique_ptr<MetricsHttpServer>(
      new MetricsHttpServer(std::move(handler), *std::move(server)));
}

MetricsHttpServer::MetricsHttpServer(std::unique_ptr<Handler> handler,
                                     std::unique_ptr<aws::HttpServer> server)
    : handler_(std::move(handler)), server_(std::move(server)) {}

MetricsHttpServer::~MetricsHttpServer() { server_->Shutdown(); }

}  // namespace tributary::metrics
