#include "common/metrics/metrics_endpoint.h"

#include <utility>

#include "common/server_main.h"

namespace tributary::metrics {

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> ServeRegistry(const std::string& listen,
                                                                 const std::string& port_file,
                                                                 const Registry& registry,
                                                                 std::function<bool()> ready) {
  if (listen.empty()) return std::unique_ptr<MetricsHttpServer>();
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http = MetricsHttpServer::Start(
      listen, [&registry] { return registry.Render(); }, std::move(ready));
  if (!http.ok()) return http.status();
  if (!port_file.empty()) {
    if (absl::Status s = WritePortFile(port_file, (*http)->port()); !s.ok()) return s;
  }
  return http;
}

}  // namespace tributary::metrics
