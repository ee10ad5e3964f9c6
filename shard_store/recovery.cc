// Recovery: ShardStore::Load, run once by Create before the store is used —
// the iterator MAC secret (created once, kept forever), the stream id
// allocator, the streams (with their tags and registered consumers), shards
// and trimmed-through marks from the meta column family, and each shard's next
// sequence number and visible tip from the log: 1 + the largest of its last
// record, its trimmed-through mark, and its ending sequence number when closed
// (see shard_store.h).
//
// Thread-safety: runs before the store is shared; takes the locks anyway (the
// annotations require them).
#include <openssl/rand.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/key_coding.h"
#include "common/rocksdb_util.h"
#include "common/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "shard_store/metadata.pb.h"
#include "shard_store/shard_state.h"
#include "shard_store/shard_store.h"
#include "shard_store/storage_format.h"
#include "shard_store/store_internal.h"
#include "shard_store/tokens.h"

namespace tributary::shard_store {

absl::Status ShardStore::Load() {
  rocksdb::DB* db = db_->db();
  // The iterator MAC secret: created once, kept forever.
  std::string secret;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), meta_, "k", &secret);
  if (s.IsNotFound()) {
    secret.resize(kMacSize);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), kMacSize) != 1) {
      return absl::InternalError("generating the iterator secret: RAND_bytes failed");
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    RETURN_IF_ERROR(FromRocksDbStatus(db->Put(wo, meta_, "k", secret), "writing the secret"));
  } else if (!s.ok()) {
    return FromRocksDbStatus(s, "reading the secret");
  }
  if (secret.size() != kMacSize) return absl::DataLossError("iterator secret has a bad size");
  secret_ = std::move(secret);

  absl::MutexLock id_lock(&id_mu_);
  absl::MutexLock lock(&mu_);
  std::string next_id;
  s = db->Get(rocksdb::ReadOptions(), meta_, "n", &next_id);
  if (s.ok() && next_id.size() == 8) {
    next_stream_id_ = ReadBigEndian64(next_id);
  } else if (!s.IsNotFound()) {
    return FromRocksDbStatus(s.ok() ? rocksdb::Status::Corruption("bad next id") : s,
                             "reading the next stream id");
  }

  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), meta_));
  // Streams.
  for (it->Seek("s"); it->Valid() && it->key().starts_with("s"); it->Next()) {
    internal_meta::StreamMetadata m;
    RETURN_IF_ERROR(ParseVersioned(View(it->value()), &m, "stream"));
    auto stream = std::make_shared<Stream>();
    stream->id = m.stream_id();
    stream->name = m.name();
    stream->creation_ms = m.creation_ms();
    absl::MutexLock slock(&stream->mu);
    stream->retention_hours = m.retention_period_hours();
    stream->next_shard_index = m.next_shard_index();
    for (const auto& [key, value] : m.tags()) stream->attributes.tags[key] = value;
    for (const internal_meta::ConsumerMetadata& c : m.consumers()) {
      stream->attributes.consumers[c.name()] = c;
    }
    streams_[stream->name] = stream;
    streams_by_id_[stream->id] = stream;
    // The allocator is written before any stream it hands out; this only guards against a
    // store written by an older build, which wrote both in one batch.
    next_stream_id_ = std::max(next_stream_id_, stream->id + 1);
  }
  RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "reading stream metadata"));
  // Shards.
  for (it->Seek("h"); it->Valid() && it->key().starts_with("h"); it->Next()) {
    if (it->key().size() != 13) return absl::DataLossError("bad shard metadata key");
    uint64_t stream_id = ReadBigEndian64(View(it->key()).substr(1));
    auto sit = streams_by_id_.find(stream_id);
    if (sit == streams_by_id_.end()) continue;  // left by an interrupted delete
    internal_meta::ShardMetadata m;
    RETURN_IF_ERROR(ParseVersioned(View(it->value()), &m, "shard"));
    if (m.starting_hash_key().size() != 16 || m.ending_hash_key().size() != 16) {
      return absl::DataLossError("shard metadata: bad hash key");
    }
    Stream& stream = *sit->second;
    auto shard = std::make_shared<Shard>(m.index(), ReadBigEndian128(m.starting_hash_key()),
                                         ReadBigEndian128(m.ending_hash_key()), &stream.put_mu);
    shard->parent_index = m.parent_index();
    shard->adjacent_parent_index = m.adjacent_parent_index();
    shard->starting_sequence_number = m.starting_sequence_number();
    shard->created_ms = m.created_ms();
    absl::MutexLock slock(&stream.mu);
    absl::MutexLock shlock(&shard->mu);
    absl::MutexLock plock(&stream.put_mu);
    shard->closed = m.closed();
    shard->ending_seq = m.ending_sequence_number();
    shard->closed_ms = m.closed_ms();
    stream.shards[shard->index] = shard;
  }
  RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "reading shard metadata"));
  // Trimmed-through marks.
  for (it->Seek("t"); it->Valid() && it->key().starts_with("t"); it->Next()) {
    if (it->key().size() != 13 || it->value().size() != 8) {
      return absl::DataLossError("bad trim metadata");
    }
    uint64_t stream_id = ReadBigEndian64(View(it->key()).substr(1));
    uint32_t index = ReadBigEndian32(View(it->key()).substr(9));
    auto sit = streams_by_id_.find(stream_id);
    if (sit == streams_by_id_.end()) continue;
    absl::MutexLock slock(&sit->second->mu);
    auto shit = sit->second->shards.find(index);
    if (shit == sit->second->shards.end()) continue;
    absl::MutexLock shlock(&shit->second->mu);
    shit->second->trimmed_through = ReadBigEndian64(View(it->value()));
  }
  RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "reading trim metadata"));
  it.reset();

  // Sequence numbers: recovered from the log (see shard_store.h).
  for (auto& [id, stream] : streams_by_id_) {
    absl::MutexLock slock(&stream->mu);
    for (auto& [index, shard] : stream->shards) {
      ASSIGN_OR_RETURN(LogLast found, log_->Last(id, index));
      uint64_t last = found.sequence_number;
      if (last > 0) {
        absl::MutexLock plock(shard->put_mu);  // the stream's
        shard->last_arrival_ms = found.arrival_ms;
      }
      absl::MutexLock shlock(&shard->mu);
      absl::MutexLock plock(shard->put_mu);  // the stream's
      last = std::max({last, shard->trimmed_through, shard->starting_sequence_number - 1});
      if (shard->closed) last = std::max(last, shard->ending_seq);
      shard->next_seq = last + 1;
      shard->tip.store(last);
    }
    // Children lists.
    for (auto& [index, shard] : stream->shards) {
      for (int64_t parent : {shard->parent_index, shard->adjacent_parent_index}) {
        if (parent < 0) continue;
        auto pit = stream->shards.find(static_cast<uint32_t>(parent));
        if (pit == stream->shards.end()) continue;
        absl::MutexLock shlock(&pit->second->mu);
        pit->second->children.push_back(index);
      }
    }
    stream->Publish();
  }
  return absl::OkStatus();
}

}  // namespace tributary::shard_store
