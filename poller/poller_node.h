// PollerNode: everything a process needs to run a poller — clients of the shard store, leasing
// and the stream tracker, the gRPC-backed seams, the Poller with its metrics, the
// tributary.v1.Pollers service, and (optionally) the Prometheus HTTP endpoint — built in one
// call so that poller_server and the all-in-one binary wire it alike:
//
//   ASSIGN_OR_RETURN(auto node, PollerNode::Create(options, RealClock::Get()));
//   services.push_back(node->service());   // register on a GrpcServer
//   node->Start();                          // ... later node->Shutdown();
//
// Thread-safe. `clock` must outlive the node.
#ifndef TRIBUTARY_POLLER_POLLER_NODE_H_
#define TRIBUTARY_POLLER_POLLER_NODE_H_

#include <memory>
#include <string>

#include "common/host_allow_list.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_security.h"
#include "common/metrics/metrics_http_server.h"
#include "common/metrics/registry.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "leasing/leasing_client.h"
#include "common/http_client.h"
#include "poller/grpc_adapters.h"
#include "poller/invoke/http_invoker.h"
#include "poller/invoke/table_stream_arns.h"
#include "poller/invoke/table_stream_grpc_invoker.h"
#include "poller/invoke/table_stream_sources.h"
#include "poller/poller.h"
#include "poller/pollers_service.h"
#include "poller/retrieval/shard_store_reader.h"
#include "poller/runtime/metrics.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/stream_tracker_client.h"

namespace tributary::poller {

struct PollerNodeOptions {
  std::string poller_id;  // required
  int capacity = 10;      // >= 1
  std::string shard_store_address = "127.0.0.1:4561";
  std::string leasing_address = "127.0.0.1:4562";
  std::string stream_tracker_address = "127.0.0.1:4563";
  // How the poller reaches those three: TLS, a client certificate, a bearer token
  // (common/grpc_security.h). Default: plaintext, no credentials.
  GrpcClientSecurity client_security;
  // "host:port" for GET /metrics (the poller's families, process_* and tributary_build_info),
  // /-/healthy and /-/ready; empty = no HTTP endpoint (a process serving several services, like
  // `tributary serve`, serves one endpoint itself with AddMetricsTo).
  std::string metrics_listen;
  // The metrics endpoint's TLS (common/metrics/metrics_endpoint.h's MetricsTls); default: none.
  aws::HttpTlsOptions metrics_tls;
  uint64_t seed = 0;           // 0 = derived from the poller id
  // The shared pool the poller's consumers run on: at most this many batches (blocking
  // invocations and backoff waits) run at once across all its shards. >= 1.
  int invoke_threads = 64;
  // Tumbling windows: how long after a window's end the clock closes a window with nothing
  // buffered or in flight (PollerOptions::window_close_grace). >= 0.
  absl::Duration window_close_grace = absl::Seconds(1);
  // The bytes of records the poller's shards may buffer together (`--memory_budget_mb`;
  // ReadBudget, beside each shard's own 64 MiB bound): past it readers wait. 0: no poller-wide
  // bound; else >= 16 MiB (one read reserves 10 MiB).
  int64_t memory_budget_bytes = 0;
  // Functions reached over HTTP get Lambda's Kinesis event (poller/invoke/): the region and
  // account its ARNs name (the AWS front door's --aws_region and --aws_account_id).
  LambdaAccount aws_account;
  // https:// and grpcs:// function endpoints: a PEM file of the certificate authorities to
  // trust (empty = the system's), and the client certificate and key presented to functions
  // that ask for one (both or neither).
  std::string function_ca_file;
  std::string function_client_cert;
  std::string function_client_key;
  // The hosts function endpoints may name (--function_endpoint_allow); others are refused
  // without a call (EndpointFunctionInvoker). Default: any host.
  HostAllowList function_endpoint_allow;
};

class PollerNode {
 public:
  // Builds the node and binds the metrics endpoint. Errors: INVALID_ARGUMENT for an empty
  // poller id, capacity < 1, invoke_threads < 1, a negative window_close_grace, a malformed
  // aws_account (ValidateAwsAccount) or a function_ca_file that cannot be read; those of
  // MetricsHttpServer::Start.
  static absl::StatusOr<std::unique_ptr<PollerNode>> Create(const PollerNodeOptions& options,
                                                            Clock& clock);
  ~PollerNode();

  grpc::Service* service() { return service_.get(); }
  PollerMetrics& metrics() { return *metrics_; }
  // Adds the poller's families (tributary_poller_*) to `registry` as a collector; the node must
  // outlive the registry's last Render.
  void AddMetricsTo(metrics::Registry& registry);
  Poller& poller() { return *poller_; }
  // The budget its consumers share (limit 0 when --memory_budget_mb is not set).
  ReadBudget& read_budget() { return *read_budget_; }
  // The bound metrics port, or 0 without an endpoint.
  int metrics_port() const { return http_ == nullptr ? 0 : http_->port(); }

  // Starts the poller's loop.
  void Start();
  // Releases every lease and deregisters; the HTTP endpoint stops with the node. Idempotent.
  void Shutdown();

 private:
  PollerNode() = default;

  std::unique_ptr<shard_store::ShardStoreClient> store_client_;
  std::unique_ptr<leasing::LeasingClient> leasing_client_;
  std::unique_ptr<stream_tracker::StreamTrackerClient> tracker_client_;
  std::unique_ptr<GrpcFunctionInvoker> grpc_invoker_;
  std::unique_ptr<HttpClient> http_client_;
  std::unique_ptr<tables::TablesClient> tables_client_;
  std::unique_ptr<RemoteTableStreamSources> table_sources_;
  std::unique_ptr<TableStreamGrpcInvoker> table_grpc_invoker_;  // in front of grpc_invoker_
  std::unique_ptr<HttpFunctionInvoker> http_invoker_;
  std::unique_ptr<EndpointFunctionInvoker> invoker_;
  std::unique_ptr<ShardStoreFailureDestination> destination_;
  std::unique_ptr<ShardStoreReader> reader_;
  std::unique_ptr<LeasingClientLeaseService> leases_;
  std::unique_ptr<StreamTrackerMappingSource> tracker_mappings_;
  std::unique_ptr<TableStreamArnMappingSource> mappings_;
  std::unique_ptr<ClockWaiter> waiter_;
  std::unique_ptr<PollerMetrics> metrics_;
  std::unique_ptr<ReadBudget> read_budget_;  // the consumers' shared buffer budget
  std::unique_ptr<Poller> poller_;
  std::unique_ptr<PollersService> service_;
  std::unique_ptr<metrics::Registry> registry_;  // with an HTTP endpoint of its own
  std::unique_ptr<metrics::MetricsHttpServer> http_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_POLLER_NODE_H_
