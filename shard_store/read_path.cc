// The read path: resolving a starting position (ResolveStartingPosition,
// GetShardIterator; FindFirstAtOrAfter for AT_TIMESTAMP and the trimmer),
// reading chunks up to the visible tip (ReadRecords, GetRecords), and waiting
// for records (WaitForRecords, WatchShard). Readers never read above a shard's
// visible tip; see "Concurrency and visibility" in shard_state.h.
//
// Thread-safety: thread-safe like every ShardStore method.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "proto/streams.pb.h"
#include "shard_store/read_limits.h"
#include "shard_store/shard_state.h"
#include "shard_store/shard_store.h"
#include "shard_store/store_internal.h"
#include "shard_store/tokens.h"

namespace tributary::shard_store {

absl::StatusOr<ShardCursor> ShardStore::ResolveStartingPosition(
    absl::string_view stream_name, absl::string_view shard_id,
    const v1::StartingPosition& position) {
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(stream_name));
  if (shard_id.empty()) return absl::InvalidArgumentError("shard_id: must be set");
  ASSIGN_OR_RETURN(std::shared_ptr<Shard> shard, GetShard(stream, shard_id));
  const bool has_seq = !position.sequence_number().empty();
  const bool has_ts = position.has_timestamp();
  ShardCursor c;
  c.stream_id = stream->id;
  c.shard_index = shard->index;
  if (etcd_ != nullptr && (position.type() == v1::LATEST || position.type() == v1::AT_TIMESTAMP)) {
    // Other front-ends' appends move no tip here: ask the log (an error leaves the tip lower,
    // which costs a LATEST reader some older records, never a skip).
    if (absl::Status s = RefreshTip(stream->id, *shard); !s.ok()) {
      LOG(WARNING) << "shard tip from the log: " << s;
    }
  }
  uint64_t tip = shard->tip.load(std::memory_order_acquire);
  uint64_t trimmed;
  {
    absl::MutexLock lock(&shard->mu);
    trimmed = shard->trimmed_through;
  }
  switch (position.type()) {
    case v1::AT_SEQUENCE_NUMBER:
    case v1::AFTER_SEQUENCE_NUMBER: {
      if (!has_seq) {
        return absl::InvalidArgumentError(
            "starting_sequence_number: required for AT_SEQUENCE_NUMBER / AFTER_SEQUENCE_NUMBER");
      }
      if (has_ts) {
        return absl::InvalidArgumentError("timestamp: only for AT_TIMESTAMP");
      }
      ASSIGN_OR_RETURN(uint64_t seq,
                       ParseSequenceNumber(position.sequence_number(), "starting_sequence_number"));
      if (position.type() == v1::AFTER_SEQUENCE_NUMBER && seq == UINT64_MAX) {
        return absl::InvalidArgumentError(
            "starting_sequence_number: no sequence number follows it");
      }
      c.next_sequence_number = position.type() == v1::AT_SEQUENCE_NUMBER ? seq : seq + 1;
      break;
    }
    case v1::TRIM_HORIZON:
    case v1::LATEST:
      if (has_seq || has_ts) {
        return absl::InvalidArgumentError(
            "starting_sequence_number/timestamp: not allowed for TRIM_HORIZON / LATEST");
      }
      c.next_sequence_number = position.type() == v1::TRIM_HORIZON ? trimmed + 1 : tip + 1;
      break;
    case v1::AT_TIMESTAMP: {
      if (!has_ts) return absl::InvalidArgumentError("timestamp: required for AT_TIMESTAMP");
      if (has_seq) {
        return absl::InvalidArgumentError("starting_sequence_number: not allowed for AT_TIMESTAMP");
      }
      c.min_arrival_ms = TimestampMs(position.timestamp());
      ASSIGN_OR_RETURN(
          c.next_sequence_number,
          log_->FindFirstAtOrAfter(stream->id, shard->index, trimmed + 1, tip, c.min_arrival_ms));
      break;
    }
    default:
      return absl::InvalidArgumentError(
          "shard_iterator_type: must be AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, "
          "TRIM_HORIZON, LATEST or AT_TIMESTAMP");
  }
  return c;
}

absl::StatusOr<v1::GetShardIteratorResponse> ShardStore::GetShardIterator(
    const v1::GetShardIteratorRequest& request) {
  v1::StartingPosition position;
  position.set_type(request.shard_iterator_type());
  position.set_sequence_number(request.starting_sequence_number());
  if (request.has_timestamp()) *position.mutable_timestamp() = request.timestamp();
  ASSIGN_OR_RETURN(ShardCursor cursor,
                   ResolveStartingPosition(request.stream_name(), request.shard_id(), position));
  v1::GetShardIteratorResponse response;
  response.set_shard_iterator(EncodeIterator(secret_, cursor, ToMs(clock_.Now())));
  return response;
}

absl::StatusOr<ReadOutcome> ShardStore::ReadRecords(
    ShardCursor* cursor, int limit, int64_t max_bytes,
    google::protobuf::RepeatedPtrField<v1::Record>* records, bool ask_log_at_tip) {
  ASSIGN_OR_RETURN(auto found, CursorShard(*cursor));
  std::shared_ptr<Stream>& stream = found.first;
  std::shared_ptr<Shard>& shard = found.second;
  ReadOutcome outcome;
  if (etcd_ != nullptr && ask_log_at_tip &&
      cursor->next_sequence_number > shard->tip.load(std::memory_order_acquire)) {
    // At the tip: other front-ends may have appended since (their appends move no tip here).
    bool ended;
    {
      absl::MutexLock lock(&shard->mu);
      ended = shard->closed && shard->tip.load(std::memory_order_acquire) >= shard->ending_seq;
    }
    if (!ended) {
      if (absl::Status s = RefreshTip(cursor->stream_id, *shard); !s.ok()) {
        LOG(WARNING) << "shard tip from the log: " << s;  // read up to the old tip
      }
    }
  }
  // Read the tip before the closed flag: if the shard is closed and the tip has
  // reached the ending number, nothing below it can still appear.
  const uint64_t tip = shard->tip.load(std::memory_order_acquire);
  bool closed;
  uint64_t ending;
  std::vector<uint32_t> children;
  {
    absl::MutexLock lock(&shard->mu);
    closed = shard->closed;
    ending = shard->ending_seq;
    children = shard->children;
  }
  const uint64_t upper = closed ? std::min(tip, ending) : tip;
  const int64_t now_ms = ToMs(clock_.Now());
  int64_t last_arrival = -1;
  if (cursor->next_sequence_number <= upper) {
    LogReadRequest request;
    request.stream_id = cursor->stream_id;
    request.shard = cursor->shard_index;
    request.from = cursor->next_sequence_number;
    request.upper = upper;
    request.limit = limit;
    request.max_bytes = max_bytes;
    request.min_arrival_ms = cursor->min_arrival_ms;
    request.closed = closed;
    ASSIGN_OR_RETURN(LogReadResult read,
                     log_->Read(request, [&](uint64_t seq, int64_t arrival_ms, absl::string_view pk,
                                             absl::string_view data) {
                       v1::Record* r = records->Add();
                       AppendDecimal(seq, r->mutable_sequence_number());
                       SetTimestamp(arrival_ms, r->mutable_approximate_arrival_timestamp());
                       r->set_partition_key(pk.data(), pk.size());
                       r->set_data(data.data(), data.size());
                     }));
    // Records out, for GetRecords and SubscribeToShard alike (both read here).
    if (StoreMetrics* m = metrics_.load(std::memory_order_acquire);
        m != nullptr && read.count > 0) {
      m->Read(stream->name, read.count, read.bytes);
    }
    last_arrival = read.last_arrival_ms;
    cursor->next_sequence_number = read.next;
    outcome.short_of_tip = read.count == 0 && read.next <= upper;
  }
  if (cursor->next_sequence_number > tip || last_arrival < 0) {
    outcome.millis_behind_latest = 0;
  } else {
    outcome.millis_behind_latest = std::max<int64_t>(0, now_ms - last_arrival);
  }
  if (closed && tip >= ending && cursor->next_sequence_number > ending) {
    outcome.shard_end = true;
    outcome.millis_behind_latest = 0;
    absl::ReaderMutexLock lock(&stream->mu);
    for (uint32_t child : children) {
      auto it = stream->shards.find(child);
      if (it == stream->shards.end()) continue;
      v1::ChildShard c;
      c.set_shard_id(it->second->id);
      if (it->second->parent_index >= 0) {
        c.add_parent_shards(ShardIdFromIndex(it->second->parent_index));
      }
      if (it->second->adjacent_parent_index >= 0) {
        c.add_parent_shards(ShardIdFromIndex(it->second->adjacent_parent_index));
      }
      *c.mutable_hash_key_range() = it->second->Range();
      outcome.child_shards.push_back(std::move(c));
    }
  }
  return outcome;
}

absl::StatusOr<std::string> ShardStore::StreamOfIterator(absl::string_view shard_iterator) {
  ASSIGN_OR_RETURN(ShardCursor cursor,
                   DecodeIterator(secret_, shard_iterator, ToMs(clock_.Now())));
  std::shared_ptr<Stream> stream = FindStreamById(cursor.stream_id);
  if (stream == nullptr) return absl::NotFoundError("the stream was deleted");
  return stream->name;  // immutable after creation
}

absl::Status ShardStore::GetRecords(const v1::GetRecordsRequest& request,
                                    v1::GetRecordsResponse* response, int64_t max_bytes) {
  response->Clear();
  if (request.limit() < 0 || request.limit() > kMaxGetRecordsLimit) {
    return absl::InvalidArgumentError("limit: must be 1-10000 (0 = 10000)");
  }
  const int limit = request.limit() == 0 ? kMaxGetRecordsLimit : request.limit();
  ASSIGN_OR_RETURN(ShardCursor cursor,
                   DecodeIterator(secret_, request.shard_iterator(), ToMs(clock_.Now())));
  // Per-shard read limits (the stream's mode, else the server's; off unless configured): a
  // throttled call reads nothing.
  ReadLimits* const read_limits = ReadLimitsOf(cursor.stream_id);
  if (read_limits != nullptr) {
    RETURN_IF_ERROR(read_limits->AdmitCall(cursor.stream_id, cursor.shard_index,
                                           ShardIdFromIndex(cursor.shard_index),
                                           clock_.MonotonicNow()));
  }
  ASSIGN_OR_RETURN(ReadOutcome outcome,
                   ReadRecords(&cursor, limit, std::min(max_bytes, kMaxGetRecordsBytes),
                               response->mutable_records()));
  if (read_limits != nullptr) {
    int64_t bytes = 0;
    for (const v1::Record& r : response->records()) {
      bytes += static_cast<int64_t>(r.partition_key().size() + r.data().size());
    }
    read_limits->Charge(cursor.stream_id, cursor.shard_index, bytes);
  }
  response->set_millis_behind_latest(outcome.millis_behind_latest);
  if (outcome.shard_end) {
    for (v1::ChildShard& c : outcome.child_shards) *response->add_child_shards() = std::move(c);
  } else {
    // A position found by the timestamp filter stays meaningful; once a record
    // has been returned the filter has nothing left to skip.
    if (response->records_size() > 0) cursor.min_arrival_ms = 0;
    response->set_next_shard_iterator(EncodeIterator(secret_, cursor, ToMs(clock_.Now())));
  }
  return absl::OkStatus();
}

double ShardStore::SubscriptionBytesPerSecond(const ShardCursor& cursor) {
  ReadLimits* const read_limits = ReadLimitsOf(cursor.stream_id);
  return read_limits == nullptr ? 0 : read_limits->bytes_per_second();
}

absl::StatusOr<bool> ShardStore::WaitForRecords(const ShardCursor& cursor, MonotonicTime deadline) {
  ASSIGN_OR_RETURN(auto found, CursorShard(cursor));
  Shard& shard = *found.second;
  absl::MutexLock lock(&shard.mu);
  // Registered before the first evaluation of `ready` (see WakeTipWaitersAfterFence).
  shard.tip_waiters.fetch_add(1, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu) {
    return shard.tip.load(std::memory_order_seq_cst) >= cursor.next_sequence_number ||
           shard.closed || shard.removed;
  };
  const bool woken = clock_.AwaitWithDeadline(&shard.mu, absl::Condition(&ready), deadline);
  shard.tip_waiters.fetch_sub(1, std::memory_order_seq_cst);
  return woken;
}

absl::StatusOr<std::unique_ptr<ShardWatch>> ShardStore::WatchShard(
    const ShardCursor& cursor, std::function<void()> on_change) {
  ASSIGN_OR_RETURN(auto found, CursorShard(cursor));
  return std::unique_ptr<ShardWatch>(
      new ShardWatcherRegistration(found.second, std::move(on_change)));
}

}  // namespace tributary::shard_store
