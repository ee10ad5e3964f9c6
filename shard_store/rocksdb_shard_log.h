// RocksDbShardLog (internal to shard_store/): the ShardLog of the store's own RocksDB database,
// the "records" column family (layout and chunk codec: storage_format.h). Store-numbered: the
// store reserves sequence numbers and the records go into its write batch with its metadata.
// The default log, and the only one before issue 20.
//
// Thread-safety: thread-safe (RocksDB's reads and the stateless Stage* calls).
#ifndef TRIBUTARY_SHARD_STORE_ROCKSDB_SHARD_LOG_H_
#define TRIBUTARY_SHARD_STORE_ROCKSDB_SHARD_LOG_H_

#include <cstdint>
#include <vector>

#include "rocksdb/db.h"
#include "shard_store/shard_log.h"

namespace tributary::shard_store {

class RocksDbShardLog : public ShardLog {
 public:
  // `db` and `records` (its records column family) must outlive the log.
  RocksDbShardLog(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* records)
      : db_(db), records_(records) {}

  bool StoreNumbers() const override { return true; }
  absl::Status CreateStream(uint64_t, absl::Span<const uint32_t>, absl::Duration) override {
    return absl::OkStatus();
  }
  absl::Status SetRetention(uint64_t, absl::Duration) override { return absl::OkStatus(); }
  void StageDeleteStream(StoreBatch* batch, uint64_t stream_id) override;
  absl::Status DeleteStream(uint64_t) override { return absl::OkStatus(); }
  absl::StatusOr<uint64_t> CloseShards(uint64_t, absl::Span<const uint32_t>,
                                       absl::Span<const uint32_t>) override {
    return 0;
  }
  void StageAppend(StoreBatch* batch, uint64_t stream_id, uint32_t shard, uint64_t first,
                   int64_t arrival_ms, absl::Span<const LogEntry> records) override;
  // Not supported: RocksDB is store-numbered (FAILED_PRECONDITION).
  absl::StatusOr<std::vector<uint64_t>> Append(uint64_t stream_id, uint32_t shard, uint64_t call,
                                               absl::Span<const LogEntry> records) override;
  absl::StatusOr<LogReadResult> Read(const LogReadRequest& request,
                                     LogRecordVisitor visit) override;
  absl::StatusOr<uint64_t> FindFirstAtOrAfter(uint64_t stream_id, uint32_t shard, uint64_t from,
                                              uint64_t to, int64_t min_arrival_ms) override;
  absl::StatusOr<LogLast> Last(uint64_t stream_id, uint32_t shard) override;
  void StageTrim(StoreBatch* batch, uint64_t stream_id, uint32_t shard, uint64_t through,
                 uint64_t keep_from) override;

 private:
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const records_;
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_ROCKSDB_SHARD_LOG_H_
