// The store's on-disk format: see storage_format.h.
#include "shard_store/storage_format.h"

#include <memory>

#include "rocksdb/slice.h"
#include "rocksdb/slice_transform.h"
#include "shard_store/shard_store.h"

namespace tributary::shard_store {

std::string RecordKey(uint64_t stream_id, uint32_t shard, uint64_t seq) {
  std::string key(kRecordKeySize, '\0');
  EncodeRecordKey(key.data(), stream_id, shard, seq);
  return key;
}

std::string StreamMetaKey(absl::string_view name) { return absl::StrCat("s", name); }

std::string ShardMetaKey(char tag, uint64_t stream_id, uint32_t shard) {
  std::string key(1, tag);
  AppendBigEndian64(&key, stream_id);
  AppendBigEndian32(&key, shard);
  return key;
}

std::string Versioned(const google::protobuf::MessageLite& message) {
  std::string out(1, kFormatVersion);
  message.AppendToString(&out);
  return out;
}

namespace {

// The (stream id, shard) prefix of a record key, for the memtable insert hint.
// Only full record keys are in the domain: the trimmer's range-delete begin
// keys are one byte longer so that RocksDB 7.8 does not apply a hint of the
// point-key skiplist to its range-tombstone skiplist (a bug fixed upstream
// later: "Hints are for point key table only").
class RecordShardPrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "tributary.RecordShardPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), kRecordKeySize - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() == kRecordKeySize; }
};

}  // namespace

RocksDbOptions StoreRocksDbOptions(RocksDbOptions options) {
  // Records keys are (stream id, shard) + a growing sequence number: every put
  // appends to its shard's range, so a hint per shard turns each chunk's
  // memtable insert into a few compares next to the shard's previous chunk
  // (without it, a call spread over thousands of shards paid a full skiplist
  // search per shard touched: the top cost at 10,000 shards).
  options.memtable_insert_hints[kRecordsFamily] = std::make_shared<RecordShardPrefix>();
  return options;
}

}  // namespace tributary::shard_store
