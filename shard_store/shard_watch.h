// ShardWatch: what ShardStore::WatchShard returns (shard_store.h). Included by shard_store.h:
// part of the library's public API.
#ifndef TRIBUTARY_SHARD_STORE_SHARD_WATCH_H_
#define TRIBUTARY_SHARD_STORE_SHARD_WATCH_H_

namespace tributary::shard_store {

// A registration made by WatchShard. Destroying it unregisters; after the
// destructor returns the callback is not running and will not run again.
class ShardWatch {
 public:
  virtual ~ShardWatch() = default;
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_SHARD_WATCH_H_
