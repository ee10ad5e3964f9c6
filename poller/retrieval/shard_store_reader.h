// The poller's gRPC reader of shards (the ShardReader seam of poller/interfaces.h): records pushed
// by the shard store's SubscribeToShard, with a GetShardIterator + GetRecords read as the fallback
// when a subscription breaks. Thread-safe; the client passed in must outlive it.
#ifndef TRIBUTARY_POLLER_RETRIEVAL_SHARD_STORE_READER_H_
#define TRIBUTARY_POLLER_RETRIEVAL_SHARD_STORE_READER_H_

#include <memory>
#include <string>

#include "poller/interfaces.h"
#include "shard_store/shard_store_client.h"

namespace tributary::poller {

// Reads shards with SubscribeToShard (records pushed as they are written). When a subscription
// breaks, Next() returns its error; the next Next() reads once with GetShardIterator +
// GetRecords from after the last record returned, and the one after that subscribes again from
// there. An event with child shards is the shard's end; a subscription that ends cleanly without
// one is followed by a GetRecords read too (an empty next iterator is the shard's end).
class ShardStoreReader : public ShardReader {
 public:
  explicit ShardStoreReader(shard_store::ShardStoreClient& client) : client_(client) {}
  std::unique_ptr<ShardRecordStream> Open(const std::string& stream_name,
                                          const std::string& shard_id,
                                          const v1::Checkpoint& checkpoint) override;

 private:
  shard_store::ShardStoreClient& client_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_RETRIEVAL_SHARD_STORE_READER_H_
