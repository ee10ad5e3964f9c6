#include "shard_store/shard_store_node.h"

#include <utility>

#include "common/status_macros.h"

namespace tributary::shard_store {

absl::StatusOr<std::unique_ptr<ShardStoreNode>> ShardStoreNode::Create(
    const ShardStoreNodeOptions& options, Clock& clock) {
  std::unique_ptr<ShardStoreNode> node(new ShardStoreNode());
  ASSIGN_OR_RETURN(node->store_, ShardStore::Create(options.store, clock));
  node->service_ = std::make_unique<StreamsService>(*node->store_, options.dispatch_threads);
  if (options.trim_period > absl::ZeroDuration()) {
    node->trimmer_ = std::make_unique<RetentionTrimmer>(*node->store_, clock, options.trim_period);
    node->trimmer_->Start();
  }
  return node;
}

}  // namespace tributary::shard_store
