// RocksDbShardLog: the record chunks of storage_format.h in the store's "records" column family
// (moved here from the put, read, recovery and retention paths unchanged, issue 20).
#include "shard_store/rocksdb_shard_log.h"

#include <algorithm>
#include <memory>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "common/key_coding.h"
#include "common/rocksdb_util.h"
#include "common/status_macros.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "shard_store/hash_key.h"
#include "shard_store/storage_format.h"
#include "shard_store/store_batch.h"

namespace tributary::shard_store {
namespace {

absl::string_view View(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

void RocksDbShardLog::StageDeleteStream(StoreBatch* batch, uint64_t stream_id) {
  std::string lo, hi;
  AppendBigEndian64(&lo, stream_id);
  AppendBigEndian64(&hi, stream_id + 1);
  batch->DeleteRange(records_, lo, hi);
}

void RocksDbShardLog::StageAppend(StoreBatch* batch, uint64_t stream_id, uint32_t shard,
                                  uint64_t first, int64_t arrival_ms,
                                  absl::Span<const LogEntry> records) {
  // One chunk, written from the request's bytes (SliceParts: no copy before the batch's own).
  char key[kRecordKeySize];
  EncodeRecordKey(key, stream_id, shard, first);
  char header[kChunkHeaderSize];
  header[0] = kFormatVersion;
  const uint64_t at = static_cast<uint64_t>(arrival_ms);
  for (int b = 0; b < 8; ++b) header[1 + b] = static_cast<char>(at >> (56 - 8 * b));
  const uint32_t count = static_cast<uint32_t>(records.size());
  for (int b = 0; b < 4; ++b) header[9 + b] = static_cast<char>(count >> (24 - 8 * b));
  absl::InlinedVector<char, 64 * kEntryHeaderSize> entry_headers(records.size() *
                                                                 kEntryHeaderSize);
  absl::InlinedVector<rocksdb::Slice, 3 * 64 + 1> parts;
  parts.reserve(3 * records.size() + 1);
  parts.emplace_back(header, kChunkHeaderSize);
  for (size_t m = 0; m < records.size(); ++m) {
    const LogEntry& r = records[m];
    char* h = &entry_headers[m * kEntryHeaderSize];
    const size_t pk_len = r.partition_key.size();
    const size_t data_len = r.data.size();
    h[0] = static_cast<char>(pk_len >> 8);
    h[1] = static_cast<char>(pk_len);
    for (int b = 0; b < 4; ++b) h[2 + b] = static_cast<char>(data_len >> (24 - 8 * b));
    parts.emplace_back(h, kEntryHeaderSize);
    parts.emplace_back(r.partition_key.data(), pk_len);
    parts.emplace_back(r.data.data(), data_len);
  }
  rocksdb::Slice key_slice(key, kRecordKeySize);
  batch->Put(records_, rocksdb::SliceParts(&key_slice, 1),
             rocksdb::SliceParts(parts.data(), static_cast<int>(parts.size())));
}

absl::StatusOr<std::vector<uint64_t>> RocksDbShardLog::Append(uint64_t, uint32_t, uint64_t,
                                                              absl::Span<const LogEntry>) {
  return absl::FailedPreconditionError(
      "the RocksDB shard log takes store-numbered records only (StageAppend)");
}

absl::StatusOr<LogReadResult> RocksDbShardLog::Read(const LogReadRequest& request,
                                                    LogRecordVisitor visit) {
  LogReadResult out;
  out.next = request.from;
  std::string upper_key = RecordKey(request.stream_id, request.shard, request.upper + 1);
  rocksdb::Slice upper_slice(upper_key);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, records_));
  bool exhausted = true;
  // The chunk holding `from` starts at or before it.
  const std::string start = RecordKey(request.stream_id, request.shard, request.from);
  it->SeekForPrev(start);
  if (!it->Valid() || !it->key().starts_with(rocksdb::Slice(start.data(), 12))) it->Seek(start);
  for (; it->Valid() && exhausted; it->Next()) {
    Chunk chunk;
    if (!it->key().starts_with(rocksdb::Slice(start.data(), 12)) ||
        !ParseChunk(View(it->key()), View(it->value()), &chunk)) {
      return absl::DataLossError(
          absl::StrCat("undecodable record chunk in ", ShardIdFromIndex(request.shard)));
    }
    if (chunk.first + chunk.count <= out.next) continue;  // all read
    if (chunk.arrival_ms < request.min_arrival_ms) {
      out.next = chunk.first + chunk.count;
      continue;
    }
    absl::string_view entries = chunk.entries;
    for (uint32_t e = 0; e < chunk.count; ++e) {
      absl::string_view pk, data;
      if (!NextEntry(&entries, &pk, &data)) {
        return absl::DataLossError(
            absl::StrCat("undecodable record in ", ShardIdFromIndex(request.shard)));
      }
      const uint64_t seq = chunk.first + e;
      if (seq < out.next) continue;
      const int64_t size = static_cast<int64_t>(pk.size() + data.size());
      if (out.count == request.limit || (out.count > 0 && out.bytes + size > request.max_bytes)) {
        exhausted = false;
        break;
      }
      visit(seq, chunk.arrival_ms, pk, data);
      ++out.count;
      out.bytes += size;
      out.last_arrival_ms = chunk.arrival_ms;
      out.next = seq + 1;
    }
  }
  RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "reading records"));
  // Everything ≤ upper is final: skip holes up to it.
  if (exhausted) out.next = request.upper + 1;
  return out;
}

absl::StatusOr<uint64_t> RocksDbShardLog::FindFirstAtOrAfter(uint64_t stream_id, uint32_t shard,
                                                             uint64_t from, uint64_t to,
                                                             int64_t min_arrival_ms) {
  // Returns the first sequence number in [from, to + 1] past every chunk that
  // arrived before min_arrival_ms. P(x) = "the first chunk starting at ≥ x
  // (and ≤ to) is absent or arrived at or after min_arrival_ms" is monotone
  // (arrival times never decrease along a shard): binary search for the
  // smallest x with P(x), one Seek a probe. If x > from, the chunk starting at
  // x − 1 is the last expired one; the answer is just past its last record.
  std::string upper = RecordKey(stream_id, shard, to == UINT64_MAX ? to : to + 1);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, records_));
  auto ok = [&](uint64_t x) {
    it->Seek(RecordKey(stream_id, shard, x));
    Chunk chunk;
    if (!it->Valid() || !ParseChunk(View(it->key()), View(it->value()), &chunk)) return true;
    return chunk.arrival_ms >= min_arrival_ms;
  };
  uint64_t lo = from, hi = to + 1;  // ok(hi) holds by definition
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (ok(mid)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  if (lo > from) {
    it->Seek(RecordKey(stream_id, shard, lo - 1));
    Chunk chunk;
    if (it->Valid() && ParseChunk(View(it->key()), View(it->value()), &chunk) &&
        chunk.first == lo - 1) {
      return chunk.first + chunk.count;
    }
  }
  return lo;
}

absl::StatusOr<LogLast> RocksDbShardLog::Last(uint64_t stream_id, uint32_t shard) {
  std::string upper = RecordKey(stream_id, shard, UINT64_MAX);
  std::string lower = RecordKey(stream_id, shard, 0);
  rocksdb::ReadOptions ro;
  rocksdb::Slice lower_slice(lower);
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> rit(db_->NewIterator(ro, records_));
  rit->SeekForPrev(upper);
  LogLast last;
  if (rit->Valid() && rit->key().starts_with(rocksdb::Slice(lower.data(), 12))) {
    Chunk chunk;
    if (!ParseChunk(View(rit->key()), View(rit->value()), &chunk)) {
      return absl::DataLossError(absl::StrCat("undecodable record chunk in shard ", shard));
    }
    last.sequence_number = chunk.first + chunk.count - 1;
    last.arrival_ms = chunk.arrival_ms;
  }
  RETURN_IF_ERROR(FromRocksDbStatus(rit->status(), "recovering sequence numbers"));
  return last;
}

void RocksDbShardLog::StageTrim(StoreBatch* batch, uint64_t stream_id, uint32_t shard,
                                uint64_t through, uint64_t keep_from) {
  // Begin: the successor of `through`'s key, i.e. every record key from
  // through + 1 on, one byte longer than a record key (outside the
  // memtable insert hint's domain, see RecordShardPrefix).
  std::string begin = RecordKey(stream_id, shard, through);
  begin.push_back('\0');
  batch->DeleteRange(records_, begin, RecordKey(stream_id, shard, keep_from));
}

}  // namespace tributary::shard_store
