// The vocabulary of the store's metadata, shared by its two homes: RocksDB's meta column family
// (RocksDbStoreMetadata, embedded mode) and etcd (EtcdStoreMetadata, cluster mode). The metadata
// is the stream records (retention, tags, consumers, the next shard index), every kept shard's
// record (hash range, lineage, closed and ending number), the trimmed-through marks (RocksDB
// only) and the stream-id allocator.
#ifndef TRIBUTARY_SHARD_STORE_STORE_METADATA_H_
#define TRIBUTARY_SHARD_STORE_STORE_METADATA_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "shard_store/metadata.pb.h"

namespace tributary::shard_store {

// A stream's metadata as stored: its record, its kept shards, and the CAS token.
struct StoredStream {
  internal::StreamMetadata stream;
  std::map<uint32_t, internal::ShardMetadata> shards;  // by index: every kept shard
  std::map<uint32_t, uint64_t> trimmed_through;         // by index (RocksDB only)
  // The version of the stream's record (etcd: its mod_revision; RocksDB: 0). A change is
  // written only while the stored stream is still at this version.
  int64_t revision = 0;
};

// Every stream at one moment.
struct StoreMetadataSnapshot {
  std::map<std::string, StoredStream> streams;  // by name
  uint64_t next_stream_id = 1;  // RocksDB: the allocator (etcd allocates per call)
  int64_t revision = 0;         // etcd: watch from revision + 1 to see every later change
};

// One change of one stream's metadata, written at once (all or nothing).
struct StreamChange {
  std::string name;
  uint64_t stream_id = 0;
  std::optional<internal::StreamMetadata> record;  // the stream's record to write
  std::vector<internal::ShardMetadata> put_shards;
  std::vector<std::pair<uint32_t, uint64_t>> trimmed_through;  // (index, mark)
  std::vector<uint32_t> removed_shards;  // their records and marks go (after the above)
  bool delete_stream = false;            // the stream's record goes (after the above)
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_STORE_METADATA_H_
