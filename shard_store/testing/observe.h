// ObserveStore: everything a client can observe of a ShardStore, as text, for tests that compare
// two stores (a live one and one reopened after a crash, a power loss or a failed write).
#ifndef TRIBUTARY_SHARD_STORE_TESTING_OBSERVE_H_
#define TRIBUTARY_SHARD_STORE_TESTING_OBSERVE_H_

#include <string>

#include "shard_store/shard_store.h"

namespace tributary::shard_store::testing {

// Every stream (name, status, retention, open shard count, consumer count, tags, registered
// consumers), every listed shard (the ListShards
// entry: lineage, hash keys, sequence range) and every record readable from TRIM_HORIZON (with
// the child shards at SHARD_END). A failed call shows as its status. Thread-safe as the store.
std::string ObserveStore(ShardStore& store);

}  // namespace tributary::shard_store::testing

#endif  // TRIBUTARY_SHARD_STORE_TESTING_OBSERVE_H_
