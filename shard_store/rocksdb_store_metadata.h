// RocksDbStoreMetadata: the store's metadata in the "meta" column family of the store's own
// RocksDB (embedded mode; storage_format.h has the keys): the iterator MAC secret ("k"), the
// stream-id allocator ("n"), stream records ("s" + name), shard records ('h') and
// trimmed-through marks ('t'). Internal to :shard_store.
//
// Changes are staged into the store's batch, which the store writes (with its write faults and
// metrics, and with the records of the same call: a delete's range deletes, the trimmer's trims),
// so a metadata change and its records are one RocksDB write.
//
// Thread-safe (stateless over `db`); `db` and `meta` must outlive it.
#ifndef TRIBUTARY_SHARD_STORE_ROCKSDB_STORE_METADATA_H_
#define TRIBUTARY_SHARD_STORE_ROCKSDB_STORE_METADATA_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "shard_store/store_batch.h"
#include "shard_store/store_metadata.h"

namespace tributary::shard_store {

class RocksDbStoreMetadata {
 public:
  RocksDbStoreMetadata(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta) : db_(db), meta_(meta) {}

  // The iterator MAC secret: created (random, synced) on the first call of a new store, read
  // after. Errors: DATA_LOSS for a stored secret of a bad size; INTERNAL without randomness;
  // RocksDB's.
  absl::StatusOr<std::string> LoadOrCreateSecret();

  // Every stream with its shards and marks, and the allocator. Shards and marks of a stream
  // that is gone (an interrupted delete of an older build) are skipped. Errors: DATA_LOSS for
  // undecodable metadata; RocksDB's.
  absl::StatusOr<StoreMetadataSnapshot> Load();

  // Stages the allocator's next id into `batch`.
  void StageNextStreamId(StoreBatch* batch, uint64_t next);

  // Stages `change` into `batch` (see StreamChange for the order).
  void Stage(const StreamChange& change, StoreBatch* batch);

 private:
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const meta_;
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_ROCKSDB_STORE_METADATA_H_
