// ShardContext: which mapping, stream and shard a piece of the poller's work belongs to. The
// metrics are kept per ShardContext; the processing, lifecycle and coordinator code name their
// shard by it. A leaf of the poller's packages (it depends on nothing), so that runtime/metrics
// does not depend on processing/ (poller/NOTES.md, Layout).
#ifndef TRIBUTARY_POLLER_RUNTIME_SHARD_CONTEXT_H_
#define TRIBUTARY_POLLER_RUNTIME_SHARD_CONTEXT_H_

#include <string>

namespace tributary::poller {

// Which mapping, stream and shard a piece of work belongs to.
struct ShardContext {
  std::string mapping_uuid;
  std::string stream_name;
  std::string shard_id;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_RUNTIME_SHARD_CONTEXT_H_
