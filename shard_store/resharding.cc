// Resharding and stream updates: SplitShard, MergeShards, UpdateShardCount, SealStream
// (all through ApplyReshard: close the parents, one metadata write, publish the
// new shard set) and the retention-period changes. Each holds the stream's
// UPDATING state (UpdatingGuard) for the whole call. See shard_store.h for the
// contract and "Concurrency and visibility" in shard_state.h for how closing a shard
// reserves its ending sequence number.
//
// Thread-safety: thread-safe like every ShardStore method; no lock is held
// across the RocksDB write.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/rocksdb_util.h"
#include "common/status_macros.h"
#include "proto/streams.pb.h"
#include "shard_store/hash_key.h"
#include "shard_store/rocksdb_store_metadata.h"
#include "shard_store/routing.h"
#include "shard_store/shard_state.h"
#include "shard_store/shard_store.h"
#include "shard_store/storage_format.h"
#include "shard_store/store_internal.h"
#include "shard_store/store_metadata.h"

namespace tributary::shard_store {

absl::Status ShardStore::ApplyReshard(UpdatingGuard update, const std::shared_ptr<Stream>& stream,
                                      const std::vector<std::shared_ptr<Shard>>& parents,
                                      std::vector<std::shared_ptr<Shard>> children) {
  // Called holding the stream's UPDATING state (`update`). Close the parents (puts
  // routed to them now wait), write the metadata, then publish the new set.
  if (etcd_ != nullptr) {
    return ApplyClusterReshard(std::move(update), stream, parents, std::move(children));
  }
  const int64_t now = ToMs(clock_.Now());
  Batch batch = NewBatch();
  StreamChange change;
  change.name = stream->name;
  change.stream_id = stream->id;
  std::vector<InFlight*> close_tickets;
  if (!log_->StoreNumbers()) {
    // A log that numbers records closes the parents itself and names their ending number:
    // mark them closing (puts wait, and puts the log refuses route again), close them in the
    // log, then write the metadata below.
    std::vector<uint32_t> parent_indexes, child_indexes;
    for (const auto& parent : parents) {
      parent_indexes.push_back(parent->index);
      absl::MutexLock lock(&parent->mu);
      absl::MutexLock plock(parent->put_mu);  // the stream's
      parent->closing = true;
      parent->closed_ms = now;
    }
    for (const auto& child : children) child_indexes.push_back(child->index);
    absl::StatusOr<uint64_t> ending =
        log_->CloseShards(stream->id, parent_indexes, child_indexes);
    for (const auto& parent : parents) {
      absl::MutexLock lock(&parent->mu);
      absl::MutexLock plock(parent->put_mu);  // the stream's
      if (ending.ok()) {
        parent->ending_seq = *ending;
      } else {
        parent->closing = false;
        parent->closed_ms = 0;
      }
    }
    if (!ending.ok()) {
      {
        absl::MutexLock lock(&stream->mu);
        stream->Publish();  // wakes the puts that waited for the closing parents
      }
      return WithContext(ending.status(), "closing shards in the log (retry the reshard)");
    }
  }
  for (const auto& parent : parents) {
    absl::MutexLock lock(&parent->mu);
    absl::MutexLock plock(parent->put_mu);  // the stream's
    if (log_->StoreNumbers()) close_tickets.push_back(parent->BeginClose(now));
    change.put_shards.push_back(ShardMeta(*parent));
  }
  uint32_t next_index;
  int retention;
  {
    absl::ReaderMutexLock lock(&stream->mu);
    next_index = stream->next_shard_index;
    retention = stream->retention_hours;
  }
  for (auto& child : children) {
    child->created_ms = now;
    absl::MutexLock lock(&child->mu);
    change.put_shards.push_back(ShardMeta(*child));
    next_index = std::max(next_index, child->index + 1);
  }
  {
    absl::ReaderMutexLock lock(&stream->mu);
    change.record = StreamMeta(*stream, retention, next_index);
  }
  absl::Status status = CommitMetadata(WriteKind::kReshard, *stream, change, &batch,
                                       "resharding (nothing was changed)");
  {
    absl::MutexLock lock(&stream->mu);
    if (status.ok()) {
      // Children first: a reader takes a parent's closed flag and child list in one look under
      // the parent's lock, so a parent must never be seen closed before its children are
      // listed (that reader would reach SHARD_END with no child shards).
      stream->next_shard_index = next_index;
      for (auto& child : children) {
        for (int64_t p : {child->parent_index, child->adjacent_parent_index}) {
          if (p < 0) continue;
          auto it = stream->shards.find(static_cast<uint32_t>(p));
          if (it == stream->shards.end()) continue;
          absl::MutexLock shlock(&it->second->mu);
          it->second->children.push_back(child->index);
        }
        stream->shards[child->index] = child;
      }
      for (size_t i = 0; i < parents.size(); ++i) {
        absl::MutexLock shlock(&parents[i]->mu);
        absl::MutexLock plock(parents[i]->put_mu);  // the stream's
        if (log_->StoreNumbers()) {
          parents[i]->CommitClose(close_tickets[i]);
        } else {
          // Everything below the log's ending number is stored: the tip may go there.
          parents[i]->closing = false;
          parents[i]->closed = true;
          if (parents[i]->ending_seq > parents[i]->tip.load(std::memory_order_relaxed)) {
            parents[i]->tip.store(parents[i]->ending_seq, std::memory_order_release);
          }
        }
      }
    } else {
      // Nothing was written: the parents stay open (readers never saw them
      // closing); their reserved ending numbers are given back.
      for (size_t i = 0; i < parents.size(); ++i) {
        absl::MutexLock shlock(&parents[i]->mu);
        absl::MutexLock plock(parents[i]->put_mu);  // the stream's
        if (log_->StoreNumbers()) {
          parents[i]->AbortClose(close_tickets[i]);
        } else {
          // The log has closed them already: puts to them fail (InternalFailure) until the
          // reshard is retried (NOTES.md, "The ShardLog seam").
          parents[i]->closing = false;
          parents[i]->closed_ms = 0;
          parents[i]->ending_seq = 0;
        }
      }
    }
    stream->Publish();
  }
  // Wake the parents' readers while the stream is still UPDATING: they see the
  // new shard set (published above) and reach SHARD_END.
  for (const auto& parent : parents) parent->Notify();
  update.End();
  if (status.ok()) NotifyChange(stream->name);
  return status;
}

absl::Status ShardStore::SplitShard(const v1::SplitShardRequest& request) {
  return RetryOnConflict(request.stream_name(), [&] { return SplitShardOnce(request); });
}

absl::Status ShardStore::SplitShardOnce(const v1::SplitShardRequest& request) {
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(request.stream_name()));
  if (request.shard_to_split().empty())
    return absl::InvalidArgumentError("shard_to_split: must be set");
  ASSIGN_OR_RETURN(absl::uint128 key,
                   ParseHashKey(request.new_starting_hash_key(), "new_starting_hash_key"));
  ASSIGN_OR_RETURN(std::shared_ptr<Shard> parent, GetShard(stream, request.shard_to_split()));
  if (key <= parent->starting_hash_key || key > parent->ending_hash_key) {
    return absl::InvalidArgumentError(
        absl::StrCat("new_starting_hash_key: must be inside the shard's range: greater than ",
                     FormatHashKey(parent->starting_hash_key), " and at most ",
                     FormatHashKey(parent->ending_hash_key)));
  }
  ASSIGN_OR_RETURN(UpdatingGuard update, BeginUpdate(*stream));
  uint32_t base;
  {
    absl::MutexLock lock(&stream->mu);
    if (stream->routing->shards.size() + 1 > static_cast<size_t>(kMaxShardCount)) {
      return absl::InvalidArgumentError("the stream would exceed 10000 open shards");
    }
    base = stream->next_shard_index;
  }
  bool closed;
  {
    absl::MutexLock lock(&parent->mu);
    closed = parent->closed;
  }
  if (closed) {
    return absl::FailedPreconditionError(
        absl::StrCat("shard ", parent->id, " is closed (already split or merged)"));
  }
  auto a = std::make_shared<Shard>(base, parent->starting_hash_key, key - 1, &stream->put_mu);
  auto b = std::make_shared<Shard>(base + 1, key, parent->ending_hash_key, &stream->put_mu);
  a->parent_index = b->parent_index = parent->index;
  return ApplyReshard(std::move(update), stream, {parent}, {a, b});
}

absl::Status ShardStore::MergeShards(const v1::MergeShardsRequest& request) {
  return RetryOnConflict(request.stream_name(), [&] { return MergeShardsOnce(request); });
}

absl::Status ShardStore::MergeShardsOnce(const v1::MergeShardsRequest& request) {
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(request.stream_name()));
  if (request.shard_to_merge().empty())
    return absl::InvalidArgumentError("shard_to_merge: must be set");
  if (request.adjacent_shard_to_merge().empty()) {
    return absl::InvalidArgumentError("adjacent_shard_to_merge: must be set");
  }
  if (request.shard_to_merge() == request.adjacent_shard_to_merge()) {
    return absl::InvalidArgumentError("adjacent_shard_to_merge: must differ from shard_to_merge");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Shard> a, GetShard(stream, request.shard_to_merge()));
  ASSIGN_OR_RETURN(std::shared_ptr<Shard> b, GetShard(stream, request.adjacent_shard_to_merge()));
  const bool a_first =
      a->ending_hash_key != kMaxHashKey && a->ending_hash_key + 1 == b->starting_hash_key;
  const bool b_first =
      b->ending_hash_key != kMaxHashKey && b->ending_hash_key + 1 == a->starting_hash_key;
  if (!a_first && !b_first) {
    return absl::InvalidArgumentError(
        "adjacent_shard_to_merge: the two shards' hash-key ranges must be adjacent");
  }
  ASSIGN_OR_RETURN(UpdatingGuard update, BeginUpdate(*stream));
  for (Shard* s : {a.get(), b.get()}) {
    bool closed;
    {
      absl::MutexLock lock(&s->mu);
      closed = s->closed;
    }
    if (closed) {
      return absl::FailedPreconditionError(absl::StrCat("shard ", s->id, " is closed"));
    }
  }
  uint32_t base;
  {
    absl::ReaderMutexLock lock(&stream->mu);
    base = stream->next_shard_index;
  }
  auto child =
      std::make_shared<Shard>(base, a_first ? a->starting_hash_key : b->starting_hash_key,
                              a_first ? b->ending_hash_key : a->ending_hash_key, &stream->put_mu);
  child->parent_index = a->index;
  child->adjacent_parent_index = b->index;
  return ApplyReshard(std::move(update), stream, {a, b}, {child});
}

absl::StatusOr<v1::UpdateShardCountResponse> ShardStore::UpdateShardCount(
    const v1::UpdateShardCountRequest& request) {
  v1::UpdateShardCountResponse response;
  RETURN_IF_ERROR(RetryOnConflict(request.stream_name(), [&]() -> absl::Status {
    ASSIGN_OR_RETURN(response, UpdateShardCountOnce(request));
    return absl::OkStatus();
  }));
  return response;
}

absl::StatusOr<v1::UpdateShardCountResponse> ShardStore::UpdateShardCountOnce(
    const v1::UpdateShardCountRequest& request) {
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(request.stream_name()));
  if (request.scaling_type() != v1::UNIFORM_SCALING) {
    return absl::InvalidArgumentError("scaling_type: must be UNIFORM_SCALING");
  }
  const int target = request.target_shard_count();
  if (target < 1 || target > kMaxShardCount) {
    return absl::InvalidArgumentError("target_shard_count: must be 1-10000");
  }
  ASSIGN_OR_RETURN(UpdatingGuard update, BeginUpdate(*stream));
  std::shared_ptr<const Routing> routing;
  uint32_t base;
  {
    absl::ReaderMutexLock lock(&stream->mu);
    routing = stream->routing;
    base = stream->next_shard_index;
  }
  const int current = static_cast<int>(routing->shards.size());
  if (target > 2 * current || 2 * target < current) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target_shard_count: must be at least half and at most double the open shard count (",
        current, ")"));
  }
  v1::UpdateShardCountResponse response;
  response.set_stream_name(stream->name);
  response.set_current_shard_count(current);
  response.set_target_shard_count(target);
  if (target == current) {
    return response;
  }
  std::vector<std::shared_ptr<Shard>> parents, children;
  const auto& open = routing->shards;  // sorted by starting hash key
  if (target > current) {
    // Split the widest shards in half (ties: lowest hash keys first).
    std::vector<int> order(current);
    for (int i = 0; i < current; ++i) order[i] = i;
    auto width = [&](int i) { return open[i]->ending_hash_key - open[i]->starting_hash_key; };
    std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return width(x) > width(y); });
    order.resize(target - current);
    std::sort(order.begin(), order.end());
    for (int i : order) {
      const Shard& p = *open[i];
      if (p.ending_hash_key == p.starting_hash_key) {
        return absl::InvalidArgumentError("target_shard_count: a shard is too narrow to split");
      }
      absl::uint128 mid = p.starting_hash_key + (p.ending_hash_key - p.starting_hash_key) / 2 + 1;
      auto a = std::make_shared<Shard>(base++, p.starting_hash_key, mid - 1, &stream->put_mu);
      auto b = std::make_shared<Shard>(base++, mid, p.ending_hash_key, &stream->put_mu);
      a->parent_index = b->parent_index = p.index;
      parents.push_back(open[i]);
      children.push_back(a);
      children.push_back(b);
    }
  } else {
    // Merge adjacent pairs from the lowest hash keys. Open shards always tile
    // the key space, so neighbours in `open` are adjacent.
    for (int k = 0; k < current - target; ++k) {
      const auto& x = open[2 * k];
      const auto& y = open[2 * k + 1];
      auto c = std::make_shared<Shard>(base++, x->starting_hash_key, y->ending_hash_key,
                                       &stream->put_mu);
      c->parent_index = x->index;
      c->adjacent_parent_index = y->index;
      parents.push_back(x);
      parents.push_back(y);
      children.push_back(c);
    }
  }
  RETURN_IF_ERROR(ApplyReshard(std::move(update), stream, parents, std::move(children)));
  return response;
}

absl::Status ShardStore::SealStream(absl::string_view stream_name) {
  return RetryOnConflict(stream_name, [&] { return SealStreamOnce(stream_name); });
}

absl::Status ShardStore::SealStreamOnce(absl::string_view stream_name) {
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(stream_name));
  {
    absl::ReaderMutexLock lock(&stream->mu);
    if (stream->routing->shards.empty()) return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(UpdatingGuard update, BeginUpdate(*stream));
  std::shared_ptr<const Routing> routing;
  {
    absl::ReaderMutexLock lock(&stream->mu);
    routing = stream->routing;  // read again: no reshard runs while this one is UPDATING
  }
  return ApplyReshard(std::move(update), stream, routing->shards, {});
}

absl::StatusOr<std::vector<std::string>> ShardStore::RollOverShards(
    absl::string_view stream_name, const std::function<bool(const OpenShardInfo&)>& due) {
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(stream_name));
  std::shared_ptr<const Routing> routing;
  {
    absl::ReaderMutexLock lock(&stream->mu);
    routing = stream->routing;
  }
  // Ask first, without UPDATING: a pass that finds nothing due leaves the stream alone.
  std::vector<std::shared_ptr<Shard>> due_shards;
  for (const auto& shard : routing->shards) {
    const OpenShardInfo info{shard->id, shard->starting_hash_key,
                             absl::FromUnixMillis(shard->created_ms),
                             shard->parent_index >= 0 || shard->adjacent_parent_index >= 0};
    if (due(info)) due_shards.push_back(shard);
  }
  if (due_shards.empty()) return std::vector<std::string>{};
  ASSIGN_OR_RETURN(UpdatingGuard update, BeginUpdate(*stream));
  uint32_t base;
  {
    absl::ReaderMutexLock lock(&stream->mu);
    routing = stream->routing;  // read again: no reshard runs while this one is UPDATING
    base = stream->next_shard_index;
  }
  // Those still open (a reshard may have closed some between the two looks).
  std::vector<std::shared_ptr<Shard>> parents;
  for (const auto& shard : due_shards) {
    if (std::find(routing->shards.begin(), routing->shards.end(), shard) != routing->shards.end())
      parents.push_back(shard);
  }
  std::vector<std::shared_ptr<Shard>> children;
  std::vector<std::string> ids;
  for (const auto& parent : parents) {
    auto child = std::make_shared<Shard>(base++, parent->starting_hash_key,
                                         parent->ending_hash_key, &stream->put_mu);
    child->parent_index = parent->index;
    children.push_back(std::move(child));
    ids.push_back(parent->id);
  }
  if (parents.empty()) return ids;
  RETURN_IF_ERROR(ApplyReshard(std::move(update), stream, parents, std::move(children)));
  return ids;
}

absl::Status ShardStore::PersistStream(const Stream& stream, int retention_hours) {
  Batch batch = NewBatch();
  StreamChange change;
  change.name = stream.name;
  change.stream_id = stream.id;
  {
    absl::ReaderMutexLock lock(&const_cast<Stream&>(stream).mu);
    change.record = StreamMeta(stream, retention_hours, stream.next_shard_index);
  }
  return CommitMetadata(WriteKind::kStreamMetadata, const_cast<Stream&>(stream), change, &batch,
                        "writing stream metadata");
}

absl::Status ShardStore::ChangeRetention(absl::string_view stream_name, int hours,
                                         bool increase) {
  return RetryOnConflict(stream_name, [&] { return ChangeRetentionOnce(stream_name, hours, increase); });
}

absl::Status ShardStore::ChangeRetentionOnce(absl::string_view stream_name, int hours,
                                             bool increase) {
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(stream_name));
  if (hours < kMinRetentionHours || hours > kMaxRetentionHours) {
    return absl::InvalidArgumentError("retention_period_hours: must be 24-8760");
  }
  ASSIGN_OR_RETURN(UpdatingGuard update, BeginUpdate(*stream));
  {
    absl::MutexLock lock(&stream->mu);
    if (increase ? hours < stream->retention_hours : hours > stream->retention_hours) {
      return absl::InvalidArgumentError(
          absl::StrCat("retention_period_hours: must not be ", increase ? "below" : "above",
                       " the current ", stream->retention_hours));
    }
  }
  // The log's retention first (a log that expires records itself); a failed metadata write
  // after it leaves the log keeping records longer or shorter until the next change.
  absl::Status s = WithContext(log_->SetRetention(stream->id, absl::Hours(hours)),
                               "changing the log's retention (nothing was changed)");
  if (s.ok()) s = PersistStream(*stream, hours);
  absl::MutexLock lock(&stream->mu);
  if (s.ok()) stream->retention_hours = hours;
  update.EndLocked(*stream);
  return s;
}

absl::Status ShardStore::IncreaseStreamRetentionPeriod(
    const v1::IncreaseStreamRetentionPeriodRequest& request) {
  return ChangeRetention(request.stream_name(), request.retention_period_hours(),
                         /*increase=*/true);
}

absl::Status ShardStore::DecreaseStreamRetentionPeriod(
    const v1::DecreaseStreamRetentionPeriodRequest& request) {
  return ChangeRetention(request.stream_name(), request.retention_period_hours(),
                         /*increase=*/false);
}

}  // namespace tributary::shard_store
