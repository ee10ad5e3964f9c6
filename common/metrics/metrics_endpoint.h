// What a server main does with --metrics_listen and --metrics_port_file: serve a registry on
// the metrics endpoint (metrics_http_server.h) and tell a test or supervisor the bound port.
//
//   metrics::Registry registry;
//   metrics::RegisterProcessMetrics(registry);
//   ... register the service's families ...
//   std::atomic<bool> serving{false};
//   auto http = metrics::ServeRegistry(FLAGS_metrics_listen, FLAGS_metrics_port_file, registry,
//                                      [&serving] { return serving.load(); });
//   if (!http.ok()) { LOG(ERROR) << ...; return 1; }
//   ... start the gRPC server ...; serving = true;
#ifndef TRIBUTARY_COMMON_METRICS_METRICS_ENDPOINT_H_
#define TRIBUTARY_COMMON_METRICS_METRICS_ENDPOINT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/grpc_security.h"
#include "common/metrics/metrics_http_server.h"
#include "common/metrics/registry.h"

namespace tributary::metrics {

// Serves `registry` on `listen` ("host:port"; empty: nothing is served and the result is
// nullptr) with `ready` as the /-/ready answer, then, when `port_file` is not empty, writes the
// bound port there (common/server_main.h's WritePortFile: atomically). `registry` and `ready`
// must outlive the returned server; over TLS as `tls` says. Errors: MetricsHttpServer::Start's;
// the port file's write.
absl::StatusOr<std::unique_ptr<MetricsHttpServer>> ServeRegistry(
    const std::string& listen, const std::string& port_file, const Registry& registry,
    std::function<bool()> ready, const aws::HttpTlsOptions& tls = aws::HttpTlsOptions());

// The metrics endpoint's TLS under a server's security flags (common/security_flags.h): the
// same certificate and key as its gRPC port; with --tls_client_ca a client certificate is
// required (the endpoint has no other authentication).
aws::HttpTlsOptions MetricsTls(const GrpcServerSecurity& security);

// A standalone server's metrics endpoint, as every server main sets it up: a registry with
// process_* and build info plus the service's own families (`add_families` registers them),
// served by ServeRegistry over MetricsTls(security), /-/ready false until SetServing().
//
//   auto metrics = metrics::ServerMetrics::Start(
//       FLAGS_metrics_listen, FLAGS_metrics_port_file, security,
//       [&](metrics::Registry& r) { (*stack)->EnableMetrics(r); });
//   if (!metrics.ok()) { LOG(ERROR) << "--metrics_listen: " << metrics.status(); return 1; }
//   ... start the gRPC server ...; (*metrics)->SetServing();
//   ... at a termination signal: (*metrics)->Stop();  // no scrape reads a closing service
//
// Errors: ServeRegistry's. Thread-safe: SetServing may race with scrapes.
class ServerMetrics {
 public:
  static absl::StatusOr<std::unique_ptr<ServerMetrics>> Start(
      const std::string& listen, const std::string& port_file, const GrpcServerSecurity& security,
      const std::function<void(Registry&)>& add_families);
  // /-/ready answers ready from now on (call once the gRPC server serves).
  void SetServing() { serving_ = true; }
  // Stops serving (idempotent); the registry stays.
  void Stop() { http_.reset(); }
  // The bound port; 0 when --metrics_listen was empty (nothing served) or after Stop.
  int port() const;

 private:
  ServerMetrics() = default;
  Registry registry_;
  std::atomic<bool> serving_{false};
  std::unique_ptr<MetricsHttpServer> http_;
};

}  // namespace tributary::metrics

#endif  // TRIBUTARY_COMMON_METRICS_METRICS_ENDPOINT_H_
