#include "shard_store/shard_store_node.h"

#include <utility>

#include "common/status_macros.h"

namespace tributary::shard_store {

absl::StatusOr<std::unique_ptr<ShardStoreNode>> ShardStoreNode::Create(
    const ShardStoreNodeOptions& options, Clock& clock) {
  std::unique_ptr<ShardStoreNode> node(new ShardStoreNode());
  node->memory_budget_ = std::make_unique<MemoryBudget>(options.memory_budget_bytes);
  ASSIGN_OR_RETURN(node->store_, ShardStore::Create(options.store, clock));
  StreamsServiceOptions service_options;
  service_options.dispatch_threads = options.dispatch_threads;
  service_options.max_event_bytes = options.max_event_bytes;
  service_options.keep_alive_interval = options.keep_alive_interval;
  service_options.put_threads = options.put_threads;
  service_options.max_pending_puts = options.max_pending_puts;
  service_options.max_pending_put_bytes = options.max_pending_put_bytes;
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
