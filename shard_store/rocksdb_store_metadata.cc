#include "shard_store/rocksdb_store_metadata.h"

#include <openssl/rand.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "common/key_coding.h"
#include "common/rocksdb_util.h"
#include "common/status_macros.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "shard_store/storage_format.h"
#include "shard_store/tokens.h"

namespace tributary::shard_store {
namespace {

absl::string_view View(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::StatusOr<std::string> RocksDbStoreMetadata::LoadOrCreateSecret() {
  // The iterator MAC secret: created once, kept forever.
  std::string secret;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, "k", &secret);
  if (s.IsNotFound()) {
    secret.resize(kMacSize);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), kMacSize) != 1) {
      return absl::InternalError("generating the iterator secret: RAND_bytes failed");
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    RETURN_IF_ERROR(FromRocksDbStatus(db_->Put(wo, meta_, "k", secret), "writing the secret"));
  } else if (!s.ok()) {
    return FromRocksDbStatus(s, "reading the secret");
  }
  if (secret.size() != kMacSize) return absl::DataLossError("iterator secret has a bad size");
  return secret;
}

absl::StatusOr<StoreMetadataSnapshot> RocksDbStoreMetadata::Load() {
  StoreMetadataSnapshot snapshot;
  std::string next_id;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, "n", &next_id);
  if (s.ok() && next_id.size() == 8) {
    snapshot.next_stream_id = ReadBigEndian64(next_id);
  } else if (!s.IsNotFound()) {
    return FromRocksDbStatus(s.ok() ? rocksdb::Status::Corruption("bad next id") : s,
                             "reading the next stream id");
  }

  std::map<uint64_t, StoredStream*> by_id;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  // Streams.
  for (it->Seek("s"); it->Valid() && it->key().starts_with("s"); it->Next()) {
    internal::StreamMetadata m;
    RETURN_IF_ERROR(ParseVersioned(View(it->value()), &m, "stream"));
    std::string name = m.name();
    StoredStream& stored = snapshot.streams[name];
    stored.stream = std::move(m);
    by_id[stored.stream.stream_id()] = &stored;
    // The allocator is written before any stream it hands out; this only guards against a
    // store written by an older build, which wrote both in one batch.
    snapshot.next_stream_id = std::max(snapshot.next_stream_id, stored.stream.stream_id() + 1);
  }
  RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "reading stream metadata"));
  // Shards.
  for (it->Seek("h"); it->Valid() && it->key().starts_with("h"); it->Next()) {
    if (it->key().size() != 13) return absl::DataLossError("bad shard metadata key");
    uint64_t stream_id = ReadBigEndian64(View(it->key()).substr(1));
    auto sit = by_id.find(stream_id);
    if (sit == by_id.end()) continue;  // left by an interrupted delete
    internal::ShardMetadata m;
    RETURN_IF_ERROR(ParseVersioned(View(it->value()), &m, "shard"));
    if (m.starting_hash_key().size() != 16 || m.ending_hash_key().size() != 16) {
      return absl::DataLossError("shard metadata: bad hash key");
    }
    const uint32_t index = m.index();
    sit->second->shards[index] = std::move(m);
  }
  RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "reading shard metadata"));
  // Trimmed-through marks.
  for (it->Seek("t"); it->Valid() && it->key().starts_with("t"); it->Next()) {
    if (it->key().size() != 13 || it->value().size() != 8) {
      return absl::DataLossError("bad trim metadata");
    }
    uint64_t stream_id = ReadBigEndian64(View(it->key()).substr(1));
    uint32_t index = ReadBigEndian32(View(it->key()).substr(9));
    auto sit = by_id.find(stream_id);
    if (sit == by_id.end() || sit->second->shards.count(index) == 0) continue;
    sit->second->trimmed_through[index] = ReadBigEndian64(View(it->value()));
  }
  RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "reading trim metadata"));
  return snapshot;
}

void RocksDbStoreMetadata::StageNextStreamId(StoreBatch* batch, uint64_t next) {
  std::string value;
  AppendBigEndian64(&value, next);
  batch->Put(meta_, "n", value);
}

void RocksDbStoreMetadata::Stage(const StreamChange& change, StoreBatch* batch) {
  for (const internal::ShardMetadata& shard : change.put_shards) {
    batch->Put(meta_, ShardMetaKey('h', change.stream_id, shard.index()), Versioned(shard));
  }
  if (change.record.has_value()) {
    batch->Put(meta_, StreamMetaKey(change.name), Versioned(*change.record));
  }
  for (const auto& [index, mark] : change.trimmed_through) {
    std::string value;
    AppendBigEndian64(&value, mark);
    batch->Put(meta_, ShardMetaKey('t', change.stream_id, index), value);
  }
  for (uint32_t index : change.removed_shards) {
    batch->Delete(meta_, ShardMetaKey('h', change.stream_id, index));
    batch->Delete(meta_, ShardMetaKey('t', change.stream_id, index));
  }
  if (change.delete_stream) batch->Delete(meta_, StreamMetaKey(change.name));
}

}  // namespace tributary::shard_store
