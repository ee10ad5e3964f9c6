// Cluster mode (issues 19/20): the store's metadata in etcd and several stateless front-ends
// over it. CommitMetadata (the one place a metadata change is written, in either home),
// RetryOnConflict, applying other front-ends' changes (RefreshStream, ApplyStored, ApplyDeleted,
// WatchLoop), the reshard order across front-ends (ApplyClusterReshard) and the tip of a shard
// other front-ends append to (RefreshTip). Design: NOTES.md, "Several front-ends over etcd".
//
// Thread-safety: thread-safe like every ShardStore method. Lock order as in shard_store.cc; no
// lock is held across an etcd or log call.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/key_coding.h"
#include "common/rocksdb_util.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "shard_store/etcd_store_metadata.h"
#include "shard_store/rocksdb_store_metadata.h"
#include "shard_store/shard_state.h"
#include "shard_store/shard_store.h"
#include "shard_store/store_internal.h"
#include "shard_store/store_metadata.h"

namespace tributary::shard_store {
namespace {

// Lost compares in a row before a call gives up with ABORTED (each re-reads the stream).
constexpr int kMaxConflictRetries = 8;
// How long the watch thread waits for events before it looks at its stop flag.
constexpr absl::Duration kWatchPoll = absl::Milliseconds(250);
// The pause before watching again after etcd failed.
constexpr absl::Duration kWatchRetry = absl::Seconds(1);
// Attempts of the log's close of a reshard's parents (idempotent) once etcd has the lineage.
constexpr int kCloseAttempts = 5;

// Whether no local change of `stream` is in flight (then another front-end's may be applied).
bool Idle(const ShardStore::Stream& stream) ABSL_SHARED_LOCKS_REQUIRED(stream.mu) {
  return stream.deleted || (!stream.updating && !stream.changing_metadata && !stream.creating &&
                            !stream.deleting);
}

// The record's fields besides the shard set, into `stream`.
void ApplyRecord(const internal_meta::StreamMetadata& m, ShardStore::Stream& stream)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream.mu) {
  stream.retention_hours = m.retention_period_hours();
  stream.next_shard_index = std::max(stream.next_shard_index, m.next_shard_index());
  stream.attributes.tags.clear();
  for (const auto& [key, value] : m.tags()) stream.attributes.tags[key] = value;
  stream.attributes.consumers.clear();
  for (const internal_meta::ConsumerMetadata& c : m.consumers()) {
    stream.attributes.consumers[c.name()] = c;
  }
}

// A shard another front-end made: its tip starts at what its metadata says is stored (the
// ending number when closed); reads raise it from the log (RefreshTip).
void InitTip(ShardStore::Shard& shard) {
  absl::MutexLock lock(&shard.mu);
  absl::MutexLock plock(shard.put_mu);
  uint64_t last = shard.starting_sequence_number > 0 ? shard.starting_sequence_number - 1 : 0;
  if (shard.closed) last = std::max(last, shard.ending_seq);
  shard.next_seq = last + 1;
  shard.tip.store(last, std::memory_order_release);
}

// Adds each shard of `stream` to its parents' child lists (once).
void LinkChildren(ShardStore::Stream& stream) ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream.mu) {
  for (auto& [index, shard] : stream.shards) {
    for (int64_t p : {shard->parent_index, shard->adjacent_parent_index}) {
      if (p < 0) continue;
      auto it = stream.shards.find(static_cast<uint32_t>(p));
      if (it == stream.shards.end()) continue;
      absl::MutexLock lock(&it->second->mu);
      std::vector<uint32_t>& children = it->second->children;
      if (std::find(children.begin(), children.end(), index) == children.end()) {
        children.push_back(index);
      }
    }
  }
}

}  // namespace

absl::Status ShardStore::CommitMetadata(WriteKind kind, Stream& stream, const StreamChange& change,
                                        Batch* batch, absl::string_view what) {
  if (etcd_ == nullptr) {
    metadata_->Stage(change, batch);
    return FromRocksDbStatus(Write(kind, batch), what);
  }
  int64_t expected;
  internal_meta::StreamMetadata record;
  {
    absl::ReaderMutexLock lock(&stream.mu);
    expected = stream.revision;
    record = change.record.has_value()
                 ? *change.record
                 : StreamMeta(stream, stream.retention_hours, stream.next_shard_index);
  }
  absl::StatusOr<int64_t> revision;
  if (kind == WriteKind::kCreateStream) {
    revision = etcd_->CreateStream(record, change.put_shards);
  } else if (change.delete_stream) {
    absl::Status deleted = etcd_->DeleteStream(change.name, change.stream_id, expected);
    if (deleted.ok()) {
      revision = expected;
    } else {
      revision = deleted;
    }
  } else {
    revision = etcd_->UpdateStream(record, change.put_shards, change.removed_shards, expected);
  }
  if (!revision.ok()) {
    const absl::Status& s = revision.status();
    if (kind != WriteKind::kCreateStream && (absl::IsFailedPrecondition(s) || absl::IsNotFound(s))) {
      // Decided on a view another front-end has changed since: re-read and decide again.
      return absl::AbortedError(absl::StrCat(what, ": ", s.message()));
    }
    return WithContext(s, what);
  }
  absl::MutexLock lock(&stream.mu);
  stream.revision = std::max(stream.revision, *revision);
  return absl::OkStatus();
}

absl::Status ShardStore::RetryOnConflict(absl::string_view name,
                                         const std::function<absl::Status()>& op) {
  absl::Status status = op();
  for (int i = 0; etcd_ != nullptr && absl::IsAborted(status) && i < kMaxConflictRetries; ++i) {
    RETURN_IF_ERROR(RefreshStream(name));
    status = op();
  }
  return status;
}

absl::Status ShardStore::RefreshStream(absl::string_view name) {
  ASSIGN_OR_RETURN(std::optional<StoredStream> stored, etcd_->ReadStream(std::string(name)));
  if (stored.has_value()) {
    ApplyStored(*stored);
  } else {
    ApplyDeleted(name, 0);
  }
  return absl::OkStatus();
}

void ShardStore::ApplyDeleted(absl::string_view name, int64_t revision) {
  std::shared_ptr<Stream> stream = FindStream(name);
  if (stream == nullptr) return;
  std::vector<std::shared_ptr<Shard>> shards;
  {
    absl::MutexLock lock(&stream->mu);
    auto idle = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream->mu) { return Idle(*stream); };
    stream->mu.Await(absl::Condition(&idle));
    if (stream->deleted) return;
    if (revision > 0 && stream->revision >= revision) return;  // a later stream of that name
    stream->deleted = true;
    stream->routing = std::make_shared<Routing>();
    ++stream->routing_version;
    for (auto& [index, shard] : stream->shards) shards.push_back(shard);
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(name);
    if (it != streams_.end() && it->second == stream) streams_.erase(it);
    auto by_id = streams_by_id_.find(stream->id);
    if (by_id != streams_by_id_.end() && by_id->second == stream) streams_by_id_.erase(by_id);
  }
  for (auto& shard : shards) {
    {
      absl::MutexLock lock(&shard->mu);
      absl::MutexLock plock(shard->put_mu);
      shard->removed = true;
    }
    shard->Notify();
  }
  NotifyChange(stream->name);
}

void ShardStore::ApplyStored(const StoredStream& stored) {
  const std::string& name = stored.stream.name();
  for (;;) {
    std::shared_ptr<Stream> stream = FindStream(name);
    if (stream == nullptr) {
      std::shared_ptr<Stream> fresh = StreamFromStored(stored);
      {
        absl::MutexLock lock(&fresh->mu);
        for (auto& [index, shard] : fresh->shards) InitTip(*shard);
        LinkChildren(*fresh);
        fresh->Publish();
      }
      {
        absl::MutexLock lock(&mu_);
        if (streams_.count(name) > 0) continue;  // another thread was first: apply to it
        streams_[name] = fresh;
        streams_by_id_[fresh->id] = fresh;
      }
      NotifyChange(name);
      return;
    }
    std::vector<std::shared_ptr<Shard>> closed, removed;
    bool shards_changed = false;
    {
      absl::MutexLock lock(&stream->mu);
      auto idle = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream->mu) { return Idle(*stream); };
      stream->mu.Await(absl::Condition(&idle));
      if (stored.revision <= stream->revision) return;  // this or a later state is here
      if (stream->deleted || stream->id != stored.stream.stream_id()) {
        // Gone (or an older stream of the name, deleted since): `stored` replaces it.
        if (!stream->deleted) {
          stream->deleted = true;
          stream->routing = std::make_shared<Routing>();
          ++stream->routing_version;
          for (auto& [index, shard] : stream->shards) removed.push_back(shard);
        }
      } else {
        ApplyRecord(stored.stream, *stream);
        stream->revision = stored.revision;
        // New shards first, linked to their parents, and only then the parents closed: a reader
        // that sees a parent closed must find its children (see ApplyReshard).
        for (const auto& [index, sm] : stored.shards) {
          if (stream->shards.count(index) > 0 || WaitsForClosingParent(stored, sm)) continue;
          std::shared_ptr<Shard> shard = NewShardFromMetadata(sm, &stream->put_mu);
          InitTip(*shard);
          stream->shards[index] = std::move(shard);
          shards_changed = true;
        }
        LinkChildren(*stream);
        for (const auto& [index, sm] : stored.shards) {
          auto it = stream->shards.find(index);
          if (it == stream->shards.end() || !sm.closed()) continue;
          Shard& shard = *it->second;
          absl::MutexLock shlock(&shard.mu);
          absl::MutexLock plock(shard.put_mu);
          if (shard.closed) continue;
          shard.closed_ms = sm.closed_ms();
          shards_changed = true;
          if (sm.ending_sequence_number() == 0) {
            shard.closing = true;  // the log has not closed it yet: puts wait
            continue;
          }
          shard.closing = false;
          shard.closed = true;
          shard.ending_seq = sm.ending_sequence_number();
          // Everything below the log's ending number is stored.
          if (shard.ending_seq > shard.tip.load(std::memory_order_relaxed)) {
            shard.tip.store(shard.ending_seq, std::memory_order_release);
          }
          closed.push_back(it->second);
        }
        for (auto it = stream->shards.begin(); it != stream->shards.end();) {
          if (stored.shards.count(it->first) == 0) {
            removed.push_back(it->second);
            it = stream->shards.erase(it);
            shards_changed = true;
          } else {
            ++it;
          }
        }
        if (shards_changed) stream->Publish();
      }
    }
    for (auto& shard : removed) {
      {
        absl::MutexLock lock(&shard->mu);
        absl::MutexLock plock(shard->put_mu);
        shard->removed = true;
      }
      shard->Notify();
    }
    std::atomic_thread_fence(std::memory_order_seq_cst);  // see WakeTipWaitersAfterFence
    for (auto& shard : closed) {
      shard->WakeTipWaitersAfterFence();
      shard->Notify();
    }
    bool replaced;
    {
      absl::ReaderMutexLock lock(&stream->mu);
      replaced = stream->deleted;
    }
    if (replaced) {
      absl::MutexLock lock(&mu_);
      auto it = streams_.find(name);
      if (it != streams_.end() && it->second == stream) streams_.erase(it);
      auto by_id = streams_by_id_.find(stream->id);
      if (by_id != streams_by_id_.end() && by_id->second == stream) streams_by_id_.erase(by_id);
      continue;  // now add `stored` as a new stream
    }
    if (shards_changed) NotifyChange(name);
    return;
  }
}

absl::Status ShardStore::ApplyClusterReshard(UpdatingGuard update,
                                             const std::shared_ptr<Stream>& stream,
                                             const std::vector<std::shared_ptr<Shard>>& parents,
                                             std::vector<std::shared_ptr<Shard>> children) {
  const int64_t now = ToMs(clock_.Now());
  StreamChange change;
  change.name = stream->name;
  change.stream_id = stream->id;
  std::vector<uint32_t> parent_indexes, child_indexes;
  bool closing = false;
  for (const auto& parent : parents) {
    absl::MutexLock lock(&parent->mu);
    if (parent->closed) {
      return absl::FailedPreconditionError(
          absl::StrCat("shard ", parent->id, " is closed (already split or merged)"));
    }
    closing = closing || parent->closing;
  }
  if (closing) {
    // Another reshard of a parent is between its lineage and its ending numbers. If its
    // front-end is gone, or it is this one's failed earlier attempt (we hold the stream's
    // UPDATING, so none of ours is in flight), finish it, then decide again on the new view.
    ASSIGN_OR_RETURN(std::optional<StoredStream> stored, etcd_->ReadStream(stream->name));
    if (!stored.has_value()) {
      return absl::AbortedError(absl::StrCat("stream ", stream->name, " was deleted"));
    }
    int finished = 0;
    ASSIGN_OR_RETURN(std::optional<StoredStream> after,
                     FinishReshards(*std::move(stored), /*mine_too=*/true, &finished));
    if (after.has_value()) {
      for (const auto& parent : parents) {
        auto it = after->shards.find(parent->index);
        if (it != after->shards.end() && it->second.closed() &&
            it->second.ending_sequence_number() == 0) {
          return absl::FailedPreconditionError(
              absl::StrCat("shard ", parent->id,
                           " is being closed by another front-end's reshard (still under way)"));
        }
      }
    }
    // RetryOnConflict re-reads the stream and the call is decided again (a retried split then
    // finds its parent closed; a retried UpdateShardCount its target reached).
    return absl::AbortedError("resharding: an interrupted reshard of the stream was finished");
  }
  const std::string owner = etcd_->WriterKey();
  // 1. Lineage first: the parents closed without an ending number ("closing": every
  //    front-end's puts to them wait) and the children, in one compare-on-revision write.
  for (const auto& parent : parents) {
    absl::MutexLock lock(&parent->mu);
    absl::MutexLock plock(parent->put_mu);  // the stream's
    parent->closing = true;
    parent->closed_ms = now;
    parent->ending_seq = 0;
    change.put_shards.push_back(ShardMeta(*parent));
    change.put_shards.back().set_closing_owner(owner);  // who finishes it (FinishReshards)
    parent_indexes.push_back(parent->index);
  }
  uint32_t next_index;
  {
    absl::ReaderMutexLock lock(&stream->mu);
    next_index = stream->next_shard_index;
  }
  for (auto& child : children) {
    child->created_ms = now;
    absl::MutexLock lock(&child->mu);
    change.put_shards.push_back(ShardMeta(*child));
    next_index = std::max(next_index, child->index + 1);
    child_indexes.push_back(child->index);
  }
  {
    absl::ReaderMutexLock lock(&stream->mu);
    change.record = StreamMeta(*stream, stream->retention_hours, next_index);
  }
  absl::Status status = CommitMetadata(WriteKind::kReshard, *stream, change, nullptr,
                                       "resharding (nothing was changed)");
  if (!status.ok()) {
    for (const auto& parent : parents) {
      absl::MutexLock lock(&parent->mu);
      absl::MutexLock plock(parent->put_mu);  // the stream's
      parent->closing = false;
      parent->closed_ms = 0;
    }
    absl::MutexLock lock(&stream->mu);
    stream->Publish();  // wakes the puts that waited for the closing parents
    return status;      // ABORTED: RetryOnConflict re-reads and decides again
  }
  {
    absl::MutexLock lock(&stream->mu);
    stream->next_shard_index = next_index;
  }
  if (options_.reshard_fault) RETURN_IF_ERROR(options_.reshard_fault(1));
  // 2. The log: subjects swapped, close marker (its number is the ending number). Idempotent.
  absl::StatusOr<uint64_t> ending;
  for (int attempt = 0; attempt < kCloseAttempts; ++attempt) {
    ending = log_->CloseShards(stream->id, parent_indexes, child_indexes);
    if (ending.ok()) break;
  }
  if (!ending.ok()) {
    ScheduleFinish(stream->name, /*mine_too=*/true);
    return WithContext(ending.status(),
                       "the reshard is recorded in etcd but the log did not close the parent "
                       "shards: puts to them wait until it is finished (this front-end retries "
                       "every second; a retried reshard call finishes it too)");
  }
  if (options_.reshard_fault) RETURN_IF_ERROR(options_.reshard_fault(2));
  // 3. The ending numbers, compared on the revision of step 1 (another front-end may have
  //    changed the record since, e.g. its tags: then on the record as it is now).
  std::vector<internal_meta::ShardMetadata> closed_parents;
  for (const auto& parent : parents) {
    absl::MutexLock lock(&parent->mu);
    absl::MutexLock plock(parent->put_mu);  // the stream's
    parent->ending_seq = *ending;
    closed_parents.push_back(ShardMeta(*parent));
  }
  internal_meta::StreamMetadata record = *change.record;
  std::optional<internal_meta::StreamMetadata> newer;
  int64_t revision;
  {
    absl::ReaderMutexLock lock(&stream->mu);
    revision = stream->revision;
  }
  absl::Status written = absl::AbortedError("resharding: the record kept changing");
  for (int attempt = 0; attempt < kMaxConflictRetries; ++attempt) {
    absl::StatusOr<int64_t> r = etcd_->UpdateStream(record, closed_parents, {}, revision);
    if (r.ok()) {
      revision = *r;
      written = absl::OkStatus();
      break;
    }
    if (!absl::IsFailedPrecondition(r.status())) {
      written = r.status();
      break;
    }
    absl::StatusOr<std::optional<StoredStream>> fresh = etcd_->ReadStream(stream->name);
    if (!fresh.ok()) {
      written = fresh.status();
      break;
    }
    if (!fresh->has_value()) {
      written = absl::NotFoundError(absl::StrCat("stream ", stream->name, " was deleted"));
      break;
    }
    record = (*fresh)->stream;
    revision = (*fresh)->revision;
    newer = record;
    // Another front-end may have finished this reshard (FinishReshards, believing this one
    // gone): keep its ending number, which readers may have seen.
    bool finished = true;
    for (const auto& parent : parents) {
      auto it = (*fresh)->shards.find(parent->index);
      if (it == (*fresh)->shards.end() || it->second.ending_sequence_number() == 0) {
        finished = false;
      }
    }
    if (finished) {
      for (const auto& parent : parents) {
        absl::MutexLock lock(&parent->mu);
        absl::MutexLock plock(parent->put_mu);  // the stream's
        parent->ending_seq = (*fresh)->shards.at(parent->index).ending_sequence_number();
      }
      written = absl::OkStatus();
      break;
    }
  }
  if (!written.ok()) {
    ScheduleFinish(stream->name, /*mine_too=*/true);
    return WithContext(written,
                       "the reshard's parents are closed in the log but their ending number is "
                       "not in etcd: puts to them wait until a front-end finishes it");
  }
  // 4. Here as in ApplyReshard: children listed before the parents are seen closed.
  {
    absl::MutexLock lock(&stream->mu);
    if (newer.has_value()) ApplyRecord(*newer, *stream);
    stream->revision = std::max(stream->revision, revision);
    for (auto& child : children) stream->shards[child->index] = child;
    LinkChildren(*stream);
    for (const auto& parent : parents) {
      absl::MutexLock shlock(&parent->mu);
      absl::MutexLock plock(parent->put_mu);  // the stream's
      parent->closing = false;
      parent->closed = true;
      if (parent->ending_seq > parent->tip.load(std::memory_order_relaxed)) {
        parent->tip.store(parent->ending_seq, std::memory_order_release);
      }
    }
    stream->Publish();
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);  // see WakeTipWaitersAfterFence
  for (const auto& parent : parents) {
    parent->WakeTipWaitersAfterFence();
    parent->Notify();
  }
  update.End();
  NotifyChange(stream->name);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<StoredStream>> ShardStore::FinishReshards(StoredStream stored,
                                                                      bool mine_too,
                                                                      int* finished) {
  *finished = 0;
  const std::string mine = etcd_->WriterKey();
  const std::string name = stored.stream.name();
  // Reshards of live front-ends (owner, closing time): left to them.
  std::set<std::pair<std::string, int64_t>> live;
  for (int attempt = 0; attempt < kMaxConflictRetries; ++attempt) {
    // The parents of one reshard share its front-end and its closing time.
    std::map<std::pair<std::string, int64_t>, std::vector<uint32_t>> reshards;
    for (const auto& [index, sm] : stored.shards) {
      if (sm.closed() && sm.ending_sequence_number() == 0) {
        reshards[{sm.closing_owner(), sm.closed_ms()}].push_back(index);
      }
    }
    bool wrote = false;
    for (const auto& [key, parents] : reshards) {
      if (live.count(key) > 0) continue;
      const std::string& owner = key.first;
      // No owner: closed by a front-end before owners were recorded (may be finished).
      bool may = owner.empty() || (mine_too && owner == mine);
      if (!may) {
        ASSIGN_OR_RETURN(bool alive, etcd_->WriterAlive(owner));
        may = !alive;
      }
      if (!may) {
        live.insert(key);
        continue;
      }
      std::vector<uint32_t> children;
      for (const auto& [index, sm] : stored.shards) {
        for (int64_t p : {sm.parent_index(), sm.adjacent_parent_index()}) {
          if (p >= 0 && std::find(parents.begin(), parents.end(), static_cast<uint32_t>(p)) !=
                            parents.end()) {
            children.push_back(index);
            break;
          }
        }
      }
      const uint64_t id = stored.stream.stream_id();
      ASSIGN_OR_RETURN(uint64_t ending, log_->CloseShards(id, parents, children));
      std::vector<internal_meta::ShardMetadata> closed;
      for (uint32_t p : parents) {
        internal_meta::ShardMetadata m = stored.shards.at(p);
        m.set_ending_sequence_number(ending);
        m.clear_closing_owner();
        closed.push_back(std::move(m));
      }
      // Compared on the revision read: of two front-ends finishing it at once (or the owner,
      // late), the first write stands and the others re-read it.
      absl::StatusOr<int64_t> written = etcd_->UpdateStream(stored.stream, closed, {},
                                                            stored.revision);
      if (written.ok()) {
        ++*finished;
        LOG(INFO) << "stream " << name << ": finished an interrupted reshard of "
                  << (owner.empty() ? std::string("an unknown front-end") : owner)
                  << " (parents' ending number " << ending << ")";
      } else if (!absl::IsFailedPrecondition(written.status()) &&
                 !absl::IsNotFound(written.status())) {
        return written.status();
      }
      wrote = true;
      break;  // the stream changed (by us or another front-end): read it again
    }
    if (!wrote) return stored;
    ASSIGN_OR_RETURN(std::optional<StoredStream> fresh, etcd_->ReadStream(name));
    if (!fresh.has_value()) return std::nullopt;
    stored = *std::move(fresh);
  }
  return absl::AbortedError(absl::StrCat("finishing a reshard of stream ", name,
                                         ": the stream kept changing"));
}

absl::Status ShardStore::FinishReshardsOf(const std::string& name, bool mine_too) {
  ASSIGN_OR_RETURN(std::optional<StoredStream> stored, etcd_->ReadStream(name));
  std::optional<StoredStream> after;
  if (stored.has_value()) {
    int finished = 0;
    ASSIGN_OR_RETURN(after, FinishReshards(*std::move(stored), mine_too, &finished));
  }
  if (after.has_value()) {
    ApplyStored(*after);
  } else {
    ApplyDeleted(name, 0);
  }
  return absl::OkStatus();
}

void ShardStore::ScheduleFinish(const std::string& name, bool mine_too) {
  if (etcd_ == nullptr) return;
  absl::MutexLock lock(&watch_mu_);
  bool& m = to_finish_[name];
  m = m || mine_too;
}

void ShardStore::RunScheduledFinishes() {
  Clock& clock = etcd_->client().clock();
  std::map<std::string, bool> due;
  {
    absl::MutexLock lock(&watch_mu_);
    if (to_finish_.empty() || clock.MonotonicNow() < next_finish_) return;
    due.swap(to_finish_);
  }
  std::map<std::string, bool> failed;
  for (const auto& [name, mine_too] : due) {
    if (WatchStopped()) return;
    absl::Status s = FinishReshardsOf(name, mine_too);
    if (!s.ok()) {
      LOG(WARNING) << "stream " << name << ": finishing an interrupted reshard: " << s
                   << " (puts to its closing shards wait; trying again)";
      failed[name] = mine_too;
    }
  }
  if (failed.empty()) return;
  absl::MutexLock lock(&watch_mu_);
  for (const auto& [name, mine_too] : failed) {
    bool& m = to_finish_[name];
    m = m || mine_too;
  }
  next_finish_ = clock.MonotonicNow() + kWatchRetry;
}

std::vector<std::string> ShardStore::StreamsWithClosingShards() {
  std::vector<std::shared_ptr<Stream>> streams;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [name, stream] : streams_) streams.push_back(stream);
  }
  std::vector<std::string> names;
  for (const auto& stream : streams) {
    absl::ReaderMutexLock lock(&stream->mu);
    for (const auto& [index, shard] : stream->shards) {
      absl::MutexLock shlock(&shard->mu);
      if (shard->closing) {
        names.push_back(stream->name);
        break;
      }
    }
  }
  return names;
}

absl::Status ShardStore::RefreshTip(uint64_t stream_id, Shard& shard) {
  ASSIGN_OR_RETURN(LogLast last, log_->Last(stream_id, shard.index));
  RaiseTip(shard, last.sequence_number);
  return absl::OkStatus();
}

void ShardStore::RaiseTip(Shard& shard, uint64_t last) {
  bool raised = false;
  {
    absl::MutexLock lock(shard.put_mu);
    if (last > shard.tip.load(std::memory_order_relaxed)) {
      shard.tip.store(last, std::memory_order_release);
      raised = true;
    }
  }
  if (raised) {
    std::atomic_thread_fence(std::memory_order_seq_cst);  // see WakeTipWaitersAfterFence
    shard.WakeTipWaitersAfterFence();
    shard.Notify();
  }
}

void ShardStore::OnAnnouncedAppend(uint64_t stream_id, uint32_t shard_index, uint64_t last) {
  ShardCursor cursor;
  cursor.stream_id = stream_id;
  cursor.shard_index = shard_index;
  absl::StatusOr<std::pair<std::shared_ptr<Stream>, std::shared_ptr<Shard>>> found =
      CursorShard(cursor);
  // A stream or shard this front-end does not know (yet): its readers ask the log at the tip.
  if (!found.ok()) return;
  RaiseTip(*found->second, last);
}

void ShardStore::WatchLoop(int64_t revision) {
  Clock& clock = etcd_->client().clock();
  std::unique_ptr<StoreMetadataWatch> watch;
  auto pause = [&] {
    absl::MutexLock lock(&watch_mu_);
    clock.AwaitWithDeadline(&watch_mu_, absl::Condition(&stop_watch_),
                            clock.MonotonicNow() + kWatchRetry);
  };
  // Everything again (the watch's start was compacted away).
  auto reload = [&] {
    absl::StatusOr<StoreMetadataSnapshot> snapshot = etcd_->Load();
    if (!snapshot.ok()) {
      LOG(WARNING) << "store metadata: reloading from etcd: " << snapshot.status();
      pause();
      return;
    }
    for (const auto& [name, stored] : snapshot->streams) ApplyStored(stored);
    std::vector<std::string> gone;
    {
      absl::ReaderMutexLock lock(&mu_);
      for (const auto& [name, stream] : streams_) {
        if (snapshot->streams.count(name) == 0) gone.push_back(name);
      }
    }
    for (const std::string& name : gone) ApplyDeleted(name, snapshot->revision);
    revision = snapshot->revision + 1;
  };
  while (!WatchStopped()) {
    RunScheduledFinishes();
    if (watch == nullptr) {
      absl::StatusOr<std::unique_ptr<StoreMetadataWatch>> started = etcd_->Watch(revision);
      if (started.ok()) {
        watch = *std::move(started);
      } else if (absl::IsOutOfRange(started.status())) {
        reload();
        continue;
      } else {
        LOG(WARNING) << "store metadata: watching etcd: " << started.status();
        pause();
        continue;
      }
    }
    absl::StatusOr<std::vector<StoreMetadataEvent>> events =
        watch->Next(clock.MonotonicNow() + kWatchPoll);
    if (!events.ok()) {
      revision = std::max(revision, watch->last_revision() + 1);
      watch.reset();
      if (absl::IsOutOfRange(events.status())) {
        reload();
      } else {
        LOG(WARNING) << "store metadata: the etcd watch ended: " << events.status();
        pause();
      }
      continue;
    }
    // Every change writes or deletes the stream's record, so its events say which streams
    // changed; the shards are read with the record (ReadStream: one revision).
    std::map<std::string, std::pair<bool, int64_t>> changed;  // name → (deleted, revision)
    int64_t seen = revision;
    bool writer_gone = false;
    for (const StoreMetadataEvent& e : *events) {
      seen = std::max(seen, e.revision + 1);
      if (e.kind == StoreMetadataEvent::Kind::kStreamPut) {
        changed[e.stream_name] = {false, e.revision};
      } else if (e.kind == StoreMetadataEvent::Kind::kStreamDeleted) {
        changed[e.stream_name] = {true, e.revision};
      } else if (e.kind == StoreMetadataEvent::Kind::kWriterDeleted) {
        writer_gone = true;
      }
    }
    bool failed = false;
    for (const auto& [name, change] : changed) {
      if (change.first) {
        ApplyDeleted(name, change.second);
      } else if (absl::Status s = RefreshStream(name); !s.ok()) {
        LOG(WARNING) << "store metadata: reading stream " << name << ": " << s;
        failed = true;
      }
    }
    if (failed) {
      watch.reset();  // watch again from these events (the applied ones are skipped then)
      pause();
      continue;
    }
    // A front-end's session ended (it stopped, or died and its lease expired): the reshards it
    // left half done are finished here (and by every other front-end: one write wins). Its
    // step-1 writes came at earlier revisions, so they are applied by now.
    if (writer_gone) {
      for (const std::string& name : StreamsWithClosingShards()) {
        ScheduleFinish(name, /*mine_too=*/false);
      }
    }
    revision = seen;
  }
}

}  // namespace tributary::shard_store
