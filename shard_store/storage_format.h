// The store's on-disk format (internal to shard_store/, not part of the public
// API): the RocksDB column families, the key layout, the record chunk codec,
// the versioned metadata encoding and the memtable prefix extractor.
//
// Storage (one RocksDB database, two column families):
//   meta:    "s" + stream name            → StreamMetadata   (1 version byte + proto)
//            "h" + be64(stream id) + be32(shard index) → ShardMetadata
//            "t" + be64(stream id) + be32(shard index) → be64 trimmed-through sequence
//            "n"                          → be64 next stream id
//            "k"                          → 32-byte iterator MAC secret
//   records: be64(stream id) + be32(shard index) + be64(first sequence number)
//            → one chunk: the records one PutRecords call wrote to that shard
//            (consecutive sequence numbers, one arrival time): 1 version byte,
//            be64 arrival ms, be32 count, then per record be16 key length,
//            be32 data length, partition key, data. One entry per (call, shard)
//            instead of one per record keeps the memtable off the hot path.
//            The memtable keeps an insert hint per (stream id, shard) prefix
//            (StoreRocksDbOptions), so appending a chunk costs a few compares.
//   A shard is one ordered key range; a stream is one prefix.
//
// The per-record codec (EncodeRecordKey, ParseChunk, NextEntry) is inline here:
// it runs once per record on the put and read paths.
//
// Thread-safety: stateless functions and constants; safe from any thread.
#ifndef TRIBUTARY_SHARD_STORE_STORAGE_FORMAT_H_
#define TRIBUTARY_SHARD_STORE_STORAGE_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/key_coding.h"
#include "google/protobuf/message_lite.h"

namespace tributary::shard_store {

inline constexpr char kMetaFamily[] = "meta";
inline constexpr char kRecordsFamily[] = "records";
inline constexpr char kFormatVersion = 1;
inline constexpr size_t kRecordKeySize = 20;
// A chunk: the records one call wrote to one shard (consecutive sequence
// numbers), stored as one RocksDB entry keyed by its first sequence number.
// Value: version, be64 arrival ms, be32 count, then per record be16 key length,
// be32 data length, key, data.
inline constexpr size_t kChunkHeaderSize = 1 + 8 + 4;
inline constexpr size_t kEntryHeaderSize = 2 + 4;

inline void EncodeRecordKey(char* out, uint64_t stream_id, uint32_t shard, uint64_t seq) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(stream_id >> (56 - 8 * i));
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<char>(shard >> (24 - 8 * i));
  for (int i = 0; i < 8; ++i) out[12 + i] = static_cast<char>(seq >> (56 - 8 * i));
}

struct Chunk {
  uint64_t first = 0;
  int64_t arrival_ms = 0;
  uint32_t count = 0;
  absl::string_view entries;  // the per-record part
};

inline bool ParseChunk(absl::string_view key, absl::string_view value, Chunk* chunk) {
  if (key.size() != kRecordKeySize || value.size() < kChunkHeaderSize ||
      value[0] != kFormatVersion) {
    return false;
  }
  chunk->first = ReadBigEndian64(key.substr(12));
  chunk->arrival_ms = static_cast<int64_t>(ReadBigEndian64(value.substr(1)));
  chunk->count = ReadBigEndian32(value.substr(9));
  chunk->entries = value.substr(kChunkHeaderSize);
  return chunk->count > 0;
}

// Reads the next record of a chunk's entries; false when malformed.
inline bool NextEntry(absl::string_view* entries, absl::string_view* pk, absl::string_view* data) {
  if (entries->size() < kEntryHeaderSize) return false;
  const unsigned char* h = reinterpret_cast<const unsigned char*>(entries->data());
  const size_t pk_len = (size_t{h[0]} << 8) | h[1];
  const size_t data_len = (size_t{h[2]} << 24) | (size_t{h[3]} << 16) | (size_t{h[4]} << 8) | h[5];
  if (entries->size() < kEntryHeaderSize + pk_len + data_len) return false;
  *pk = entries->substr(kEntryHeaderSize, pk_len);
  *data = entries->substr(kEntryHeaderSize + pk_len, data_len);
  entries->remove_prefix(kEntryHeaderSize + pk_len + data_len);
  return true;
}

std::string RecordKey(uint64_t stream_id, uint32_t shard, uint64_t seq);

// Meta keys: "s" + name; tag ('h' shard, 't' trimmed-through) + be64(stream id) + be32(shard).
std::string StreamMetaKey(absl::string_view name);
std::string ShardMetaKey(char tag, uint64_t stream_id, uint32_t shard);

// Metadata values: kFormatVersion, then the message. ParseVersioned: DATA_LOSS naming `what`.
std::string Versioned(const google::protobuf::MessageLite& message);

template <typename M>
absl::Status ParseVersioned(absl::string_view value, M* message, absl::string_view what) {
  if (value.empty() || value[0] != kFormatVersion ||
      !message->ParseFromArray(value.data() + 1, static_cast<int>(value.size() - 1))) {
    return absl::DataLossError(absl::StrCat("undecodable ", what, " metadata"));
  }
  return absl::OkStatus();
}

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_STORAGE_FORMAT_H_
