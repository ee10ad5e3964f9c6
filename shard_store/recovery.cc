// Recovery: ShardStore::Load, run once by Create before the store is used —
// the iterator MAC secret (created once, kept forever), the stream id
// allocator, the streams (with their tags and registered consumers), shards
// and trimmed-through marks from the metadata (rocksdb_store_metadata.h), and each shard's next
// sequence number and visible tip from the log: 1 + the largest of its last
// record, its trimmed-through mark, and its ending sequence number when closed
// (see shard_store.h).
//
// Thread-safety: runs before the store is shared; takes the locks anyway (the
// annotations require them).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "glog/logging.h"
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
#include "shard_store/etcd_store_metadata.h"
#include "shard_store/rocksdb_store_metadata.h"
#include "shard_store/storage_format.h"
#include "shard_store/store_metadata.h"
#include "shard_store/store_internal.h"
#include "shard_store/tokens.h"

namespace tributary::shard_store {

bool WaitsForClosingParent(const StoredStream& stored, const internal_meta::ShardMetadata& shard) {
  for (int64_t parent : {shard.parent_index(), shard.adjacent_parent_index()}) {
    if (parent < 0) continue;
    auto it = stored.shards.find(static_cast<uint32_t>(parent));
    if (it != stored.shards.end() && it->second.closed() &&
        it->second.ending_sequence_number() == 0) {
      return true;
    }
  }
  return false;
}

std::shared_ptr<ShardState> NewShardFromMetadata(const internal_meta::ShardMetadata& sm,
                                                 absl::Mutex* put_mu) {
  auto shard = std::make_shared<ShardState>(sm.index(), ReadBigEndian128(sm.starting_hash_key()),
                                            ReadBigEndian128(sm.ending_hash_key()), put_mu);
  shard->parent_index = sm.parent_index();
  shard->adjacent_parent_index = sm.adjacent_parent_index();
  shard->starting_sequence_number = sm.starting_sequence_number();
  shard->created_ms = sm.created_ms();
  absl::MutexLock shlock(&shard->mu);
  absl::MutexLock plock(put_mu);
  shard->closed = sm.closed();
  shard->ending_seq = sm.ending_sequence_number();
  shard->closed_ms = sm.closed_ms();
  if (shard->closed && shard->ending_seq == 0) {
    // Cluster mode: closed in etcd before the log named its ending number (a reshard of
    // another front-end under way): puts wait, readers do not reach SHARD_END yet.
    shard->closed = false;
    shard->closing = true;
  }
  return shard;
}

std::shared_ptr<ShardStore::Stream> ShardStore::StreamFromStored(const StoredStream& stored) {
  const internal_meta::StreamMetadata& m = stored.stream;
  auto stream = std::make_shared<Stream>();
  stream->id = m.stream_id();
  stream->name = m.name();
  stream->creation_ms = m.creation_ms();
  absl::MutexLock slock(&stream->mu);
  stream->revision = stored.revision;
  stream->retention_hours = m.retention_period_hours();
  stream->next_shard_index = m.next_shard_index();
  for (const auto& [key, value] : m.tags()) stream->attributes.tags[key] = value;
  stream->attributes.mode = FromMetaMode(m.mode());
  for (const internal_meta::ConsumerMetadata& c : m.consumers()) {
    stream->attributes.consumers[c.name()] = c;
  }
  for (const auto& [index, sm] : stored.shards) {
    if (WaitsForClosingParent(stored, sm)) continue;  // added once its parents are closed
    std::shared_ptr<Shard> shard = NewShardFromMetadata(sm, &stream->put_mu);
    auto mark = stored.trimmed_through.find(index);
    if (mark != stored.trimmed_through.end()) {
      absl::MutexLock shlock(&shard->mu);
      shard->trimmed_through = mark->second;
    }
    stream->shards[shard->index] = shard;
  }
  return stream;
}

absl::Status ShardStore::Load() {
  StoreMetadataSnapshot snapshot;
  if (etcd_ != nullptr) {
    ASSIGN_OR_RETURN(secret_, etcd_->LoadOrCreateSecret());
    ASSIGN_OR_RETURN(snapshot, etcd_->Load());
  } else {
    ASSIGN_OR_RETURN(secret_, metadata_->LoadOrCreateSecret());
    ASSIGN_OR_RETURN(snapshot, metadata_->Load());
  }

  if (etcd_ != nullptr) {
    // Reshards left half done by front-ends that are gone (NOTES.md "Interrupted reshards");
    // those of live front-ends are theirs to finish, and the watch (from the snapshot on) sees
    // their sessions end.
    for (auto& [name, stored] : snapshot.streams) {
      int finished = 0;
      absl::StatusOr<std::optional<StoredStream>> after =
          FinishReshards(stored, /*mine_too=*/false, &finished);
      if (!after.ok()) {
        LOG(WARNING) << "stream " << name << ": finishing an interrupted reshard: "
                     << after.status() << " (puts to its closing shards wait; trying again)";
        ScheduleFinish(name, /*mine_too=*/false);
      } else if (after->has_value()) {
        stored = **std::move(after);
      }  // else deleted meanwhile: the watch applies it
    }
  }

  absl::MutexLock id_lock(&id_mu_);
  absl::MutexLock lock(&mu_);
  next_stream_id_ = snapshot.next_stream_id;
  for (auto& [name, stored] : snapshot.streams) {
    std::shared_ptr<Stream> stream = StreamFromStored(stored);
    streams_[stream->name] = stream;
    streams_by_id_[stream->id] = stream;
  }

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
  if (etcd_ != nullptr) {
    // Other front-ends' appends (wake-ups; NOTES.md "Cross-front-end wake-ups").
    ASSIGN_OR_RETURN(append_watch_,
                     log_->WatchAppends([this](uint64_t stream_id, uint32_t shard, uint64_t last) {
                       OnAnnouncedAppend(stream_id, shard, last);
                     }));
    // Other front-ends' changes from the snapshot on.
    watch_thread_ = std::thread([this, from = snapshot.revision + 1] { WatchLoop(from); });
  }
  return absl::OkStatus();
}

}  // namespace tributary::shard_store
