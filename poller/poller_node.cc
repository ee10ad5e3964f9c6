#include "poller/poller_node.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "common/aws_arn.h"
#include "common/grpc_server.h"
#include "common/metrics/process_metrics.h"
#include "common/replica_channel.h"

namespace tributary::poller {

absl::StatusOr<std::unique_ptr<PollerNode>> PollerNode::Create(const PollerNodeOptions& options,
                                                               Clock& clock) {
  if (options.poller_id.empty()) return absl::InvalidArgumentError("poller_id must be set");
  if (options.capacity < 1) return absl::InvalidArgumentError("capacity must be >= 1");
  if (options.memory_budget_bytes < 0 ||
      (options.memory_budget_bytes > 0 && options.memory_budget_bytes < (int64_t{16} << 20))) {
    return absl::InvalidArgumentError(
        "memory_budget_bytes must be 0 (no poller-wide budget) or at least 16 MiB (one read "
        "reserves 10 MiB)");
  }
  if (options.invoke_threads < 1) {
    return absl::InvalidArgumentError("invoke_threads must be >= 1");
  }
  if (options.window_close_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("window_close_grace must be >= 0");
  }
  if (absl::Status s = ValidateAwsAccount(options.aws_account); !s.ok()) return s;
  std::unique_ptr<PollerNode> node(new PollerNode());
  const GrpcClientSecurity& security = options.client_security;
  // Several store front-ends (cluster mode): one channel over all, failing over between them.
  node->store_client_ = std::make_unique<shard_store::ShardStoreClient>(
      MakeReplicaChannel(options.shard_store_address, security));
  node->leasing_client_ = std::make_unique<leasing::LeasingClient>(
      MakeReplicaChannel(options.leasing_address, security));
  node->tracker_client_ = std::make_unique<stream_tracker::StreamTrackerClient>(
      MakeReplicaChannel(options.stream_tracker_address, security));
  HttpClientOptions http_options;
  http_options.ca_file = options.function_ca_file;
  http_options.cert_file = options.function_client_cert;
  http_options.key_file = options.function_client_key;
  absl::StatusOr<std::unique_ptr<HttpClient>> http_client = HttpClient::Create(http_options);
  if (!http_client.ok()) return http_client.status();
  node->http_client_ = *std::move(http_client);
  GrpcClientSecurity function_tls;
  function_tls.ca_file = options.function_ca_file;
  function_tls.cert_file = options.function_client_cert;
  function_tls.key_file = options.function_client_key;
  node->grpc_invoker_ = std::make_unique<GrpcFunctionInvoker>(function_tls);
  // Tables live with the shard store: its Tables service names the table of a table stream.
  node->tables_client_ = std::make_unique<tables::TablesClient>(
      MakeReplicaChannel(options.shard_store_address, security));
  node->table_sources_ = std::make_unique<RemoteTableStreamSources>(*node->tables_client_);
  node->http_invoker_ = std::make_unique<HttpFunctionInvoker>(
      *node->http_client_, clock, options.aws_account, node->table_sources_.get());
  // gRPC functions on table streams get DynamoDB Streams records (dynamodb_records).
  node->table_grpc_invoker_ = std::make_unique<TableStreamGrpcInvoker>(
      *node->grpc_invoker_, options.aws_account, node->table_sources_.get());
  node->invoker_ =
      std::make_unique<EndpointFunctionInvoker>(*node->table_grpc_invoker_, *node->http_invoker_,
                                                options.function_endpoint_allow);
  node->destination_ = std::make_unique<ShardStoreFailureDestination>(*node->store_client_);
  node->reader_ = std::make_unique<ShardStoreReader>(*node->store_client_);
  node->leases_ = std::make_unique<LeasingClientLeaseService>(*node->leasing_client_);
  node->tracker_mappings_ = std::make_unique<StreamTrackerMappingSource>(*node->tracker_client_);
  // Table-stream mappings get their table stream's ARN (for on-failure records).
  node->mappings_ = std::make_unique<TableStreamArnMappingSource>(
      *node->tracker_mappings_, *node->table_sources_, options.aws_account);
  node->waiter_ = std::make_unique<ClockWaiter>(clock);
  node->metrics_ = std::make_unique<PollerMetrics>(options.poller_id, clock);
  PollerOptions poller_options;
  poller_options.poller_id = options.poller_id;
  poller_options.capacity = options.capacity;
  poller_options.invoke_threads = options.invoke_threads;
  poller_options.window_close_grace = options.window_close_grace;
  node->read_budget_ = std::make_unique<ReadBudget>(options.memory_budget_bytes);
  poller_options.read_budget = node->read_budget_.get();
  poller_options.seed =
      options.seed != 0 ? options.seed : std::hash<std::string>()(options.poller_id) | 1;
  node->poller_ = std::make_unique<Poller>(poller_options, clock, *node->waiter_, *node->leases_,
                                           *node->mappings_, *node->reader_, *node->invoker_,
                                           *node->destination_, *node->metrics_);
  node->service_ = std::make_unique<PollersService>(*node->metrics_);
  if (!options.metrics_listen.empty()) {
    node->registry_ = std::make_unique<metrics::Registry>();
    metrics::RegisterProcessMetrics(*node->registry_);
    node->AddMetricsTo(*node->registry_);
    metrics::Registry* registry = node->registry_.get();
    absl::StatusOr<std::unique_ptr<metrics::MetricsHttpServer>> http =
        metrics::MetricsHttpServer::Start(
            options.metrics_listen, [registry] { return registry->Render(); }, nullptr,
            absl::Seconds(5), options.metrics_tls);
    if (!http.ok()) return http.status();
    node->http_ = std::move(*http);
  }
  return node;
}

PollerNode::~PollerNode() {
  http_.reset();  // stop scrapes before the metrics go away
  poller_.reset();
}

void PollerNode::AddMetricsTo(metrics::Registry& registry) {
  PollerMetrics* metrics = metrics_.get();
  registry.AddCollector([metrics](std::string* out) { out->append(metrics->RenderPrometheus()); });
  ReadBudget* budget = read_budget_.get();  // one poller a process: no label
  registry.AddCollector([budget](std::string* out) {
    absl::StrAppend(out,
                    "# HELP tributary_poller_buffered_bytes Bytes of records the poller's shards "
                    "hold (read, not done) with their read reserves, against "
                    "--memory_budget_mb.\n# TYPE tributary_poller_buffered_bytes gauge\n",
                    "tributary_poller_buffered_bytes ", budget->used(),
                    "\n# HELP tributary_poller_buffered_bytes_limit --memory_budget_mb in bytes "
                    "(0: no poller-wide budget).\n# TYPE tributary_poller_buffered_bytes_limit "
                    "gauge\ntributary_poller_buffered_bytes_limit ", budget->limit(), "\n");
  });
}

void PollerNode::Start() { poller_->Start(); }

void PollerNode::Shutdown() { poller_->Shutdown(); }

}  // namespace tributary::poller
