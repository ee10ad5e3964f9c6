#include "shard_store/shard_store_node.h"

#include <random>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "etcd/etcd_client.h"
#include "nats/nats_client.h"
#include "shard_store/etcd_store_metadata.h"
#include "shard_store/jetstream/jetstream_shard_log.h"

namespace tributary::shard_store {

absl::StatusOr<std::vector<std::string>> ParseNatsLogAddress(const std::string& log) {
  constexpr absl::string_view kScheme = "nats://";
  if (!absl::StartsWith(log, kScheme)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--log: must be nats://HOST:PORT[,HOST:PORT...], not \"", log, "\""));
  }
  std::vector<std::string> servers;
  for (absl::string_view server : absl::StrSplit(log.substr(kScheme.size()), ',')) {
    if (absl::StartsWith(server, kScheme)) server.remove_prefix(kScheme.size());
    const size_t colon = server.rfind(':');
    uint32_t port = 0;
    if (colon == absl::string_view::npos || colon == 0 ||
        !absl::SimpleAtoi(server.substr(colon + 1), &port) || port == 0 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("--log: \"", server, "\" is not HOST:PORT (in \"", log, "\")"));
    }
    servers.push_back(absl::StrCat(kScheme, server));
  }
  return servers;
}

ShardStoreNode::~ShardStoreNode() = default;

absl::StatusOr<std::unique_ptr<ShardStoreNode>> ShardStoreNode::Create(
    const ShardStoreNodeOptions& options, Clock& clock) {
  std::unique_ptr<ShardStoreNode> node(new ShardStoreNode());
  node->memory_budget_ = std::make_unique<MemoryBudget>(options.memory_budget_bytes);
  ShardStoreOptions store_options = options.store;
  if (!options.etcd_endpoints.empty() && options.log.empty()) {
    return absl::InvalidArgumentError(
        "--coordination (the stream metadata in etcd) needs --log=nats://...: with the records "
        "in this process's RocksDB data directory they would be on one front-end's disk");
  }
  if (!options.log.empty()) {
    nats::NatsClientOptions nats_options;
    ASSIGN_OR_RETURN(nats_options.servers, ParseNatsLogAddress(options.log));
    nats_options.name = "tributary-shard-store";
    ASSIGN_OR_RETURN(node->nats_, nats::NatsClient::Connect(nats_options));
    jetstream::JetStreamShardLogOptions log_options;
    // Unique per process start (message ids of a retried append must not meet another
    // start's): 64 random bits.
    std::random_device random;
    log_options.front_end_id = absl::StrFormat("%08x%08x", random(), random());
    log_options.replicas = options.log_replicas;
    log_options.ordered_reads = options.log_ordered_reads;
    log_options.name_prefix = options.log_name_prefix;
    ASSIGN_OR_RETURN(std::unique_ptr<jetstream::JetStreamShardLog> log,
                     jetstream::JetStreamShardLog::Create(*node->nats_, clock, log_options));
    store_options.log = std::move(log);
  }
  if (!options.etcd_endpoints.empty()) {
    etcd::EtcdClientOptions etcd_options;
    etcd_options.endpoints = options.etcd_endpoints;
    ASSIGN_OR_RETURN(node->etcd_, etcd::EtcdClient::Create(clock, etcd_options));
    EtcdStoreMetadataOptions metadata_options;
    metadata_options.prefix = options.etcd_prefix;
    ASSIGN_OR_RETURN(std::unique_ptr<EtcdStoreMetadata> metadata,
                     EtcdStoreMetadata::Create(*node->etcd_, metadata_options));
    store_options.cluster_metadata = std::move(metadata);
  }
  ASSIGN_OR_RETURN(node->store_, ShardStore::Create(store_options, clock));
  StreamsServiceOptions service_options;
  service_options.dispatch_threads = options.dispatch_threads;
  service_options.max_event_bytes = options.max_event_bytes;
  service_options.keep_alive_interval = options.keep_alive_interval;
  service_options.put_threads = options.EffectivePutThreads();
  service_options.max_pending_puts = options.max_pending_puts;
  service_options.max_pending_put_bytes = options.max_pending_put_bytes;
  service_options.max_client_put_share = options.max_client_put_share;
  service_options.max_put_queue_delay = options.max_put_queue_delay;
  service_options.max_subscriptions = options.max_subscriptions;
  service_options.memory_budget = node->memory_budget_.get();
  node->service_ = std::make_unique<StreamsService>(*node->store_, clock, service_options);
  if (options.trim_period > absl::ZeroDuration()) {
    node->trimmer_ = std::make_unique<RetentionTrimmer>(*node->store_, clock, options.trim_period);
    node->trimmer_->Start();
  }
  return node;
}

}  // namespace tributary::shard_store
