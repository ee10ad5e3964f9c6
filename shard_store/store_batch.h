// StoreBatch (internal to shard_store/): the store's RocksDB WriteBatch that keeps its first
// failure (ShardStore::Batch in the store's code; ShardLog's Stage* calls add to it).
//
// WriteBatch::Put and friends can fail (a batch past its max_bytes, a key or value over 4 GiB):
// the first failure is kept, and ShardStore::Write refuses the batch, so a change is written
// whole or not at all, through the same failure path as a rejected write.
//
// Thread-safety: owned by one call on one thread.
#ifndef TRIBUTARY_SHARD_STORE_STORE_BATCH_H_
#define TRIBUTARY_SHARD_STORE_STORE_BATCH_H_

#include <cstddef>
#include <utility>

#include "rocksdb/slice.h"
#include "rocksdb/status.h"
#include "rocksdb/write_batch.h"

namespace tributary::shard_store {

class StoreBatch {
 public:
  StoreBatch(size_t reserve, size_t max_bytes) : batch_(reserve, max_bytes) {}

  void Put(rocksdb::ColumnFamilyHandle* family, const rocksdb::Slice& key,
           const rocksdb::Slice& value) {
    Keep(batch_.Put(family, key, value));
  }
  void Put(rocksdb::ColumnFamilyHandle* family, const rocksdb::SliceParts& key,
           const rocksdb::SliceParts& value) {
    Keep(batch_.Put(family, key, value));
  }
  void Delete(rocksdb::ColumnFamilyHandle* family, const rocksdb::Slice& key) {
    Keep(batch_.Delete(family, key));
  }
  void DeleteRange(rocksdb::ColumnFamilyHandle* family, const rocksdb::Slice& begin,
                   const rocksdb::Slice& end) {
    Keep(batch_.DeleteRange(family, begin, end));
  }
  // OK, or the first failure while building.
  const rocksdb::Status& status() const { return status_; }
  rocksdb::WriteBatch* batch() { return &batch_; }

 private:
  void Keep(rocksdb::Status s) {
    if (status_.ok() && !s.ok()) status_ = std::move(s);
  }

  rocksdb::WriteBatch batch_;
  rocksdb::Status status_;
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_STORE_BATCH_H_
