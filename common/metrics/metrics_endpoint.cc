#include "common/metrics/metrics_endpoint.h"

#include <utility>

#include "common/metrics/process_metrics.h"
#include "common/server_main.h"

namespace tributary::metrics {

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> ServeRegistry(const std::string& listen,
                                                                 const std::string& port_file,
                                                                 const Registry& registry,
                                                                 std::function<bool()> ready,
                                                                 const aws::HttpTlsOptions& tls) {
  if (listen.empty()) return std::unique_ptr<MetricsHttpServer>();
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http = MetricsHttpServer::Start(
      listen, [&registry] { return registry.Render(); }, std::move(ready), absl::Seconds(5), tls);
  if (!http.ok()) return http.status();
  if (!port_file.empty()) {
    if (absl::Status s = WritePortFile(port_file, (*http)->port()); !s.ok()) return s;
  }
  return http;
}

aws::HttpTlsOptions MetricsTls(const GrpcServerSecurity& security) {
  aws::HttpTlsOptions tls;
  tls.cert_file = security.cert_file;
  tls.key_file = security.key_file;
  tls.client_ca_file = security.client_ca_file;
  tls.require_client_certificate = !security.client_ca_file.empty();
  return tls;
}

absl::StatusOr<std::unique_ptr<ServerMetrics>> ServerMetrics::Start(
    const std::string& listen, const std::string& port_file, const GrpcServerSecurity& security,
    const std::function<void(Registry&)>& add_families) {
  std::unique_ptr<ServerMetrics> metrics(new ServerMetrics());
  RegisterProcessMetrics(metrics->registry_);
  add_families(metrics->registry_);
  std::atomic<bool>* serving = &metrics->serving_;
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http = ServeRegistry(
      listen, port_file, metrics->registry_, [serving] { return serving->load(); },
      MetricsTls(security));
  if (!http.ok()) return http.status();
  metrics->http_ = *std::move(http);
  return metrics;
}

int ServerMetrics::port() const { return http_ == nullptr ? 0 : http_->port(); }

}  // namespace tributary::metrics
