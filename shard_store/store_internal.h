// The facade's shared internals (internal to shard_store/), for the .cc files
// that implement ShardStore: the in-memory state of a stream (ShardStore::Stream,
// with Publish, which builds its Routing), the RAII holder of a stream's
// UPDATING state (ShardStore::UpdatingGuard), small conversions (ToMs, View, AppendDecimal,
// SetTimestamp, TimestampMs), a stream's tags and consumers (StreamAttributes),
// and the metadata records of a stream and a shard (StreamMeta, ShardMeta).
//
// Thread-safety: as annotated on Stream's members; UpdatingGuard and Batch are
// owned by one call on one thread.
#ifndef TRIBUTARY_SHARD_STORE_STORE_INTERNAL_H_
#define TRIBUTARY_SHARD_STORE_STORE_INTERNAL_H_

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/key_coding.h"
#include "google/protobuf/timestamp.pb.h"
#include "proto/streams.pb.h"
#include "rocksdb/slice.h"
#include "rocksdb/status.h"
#include "rocksdb/write_batch.h"
#include "shard_store/metadata.pb.h"
#include "shard_store/routing.h"
#include "shard_store/shard_state.h"
#include "shard_store/store_batch.h"
#include "shard_store/store_metadata.h"
#include "shard_store/shard_store.h"

namespace tributary::shard_store {

namespace internal_meta = ::tributary::shard_store::internal;

inline int64_t ToMs(absl::Time t) { return absl::ToUnixMillis(t); }

inline absl::string_view View(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

inline void AppendDecimal(uint64_t v, std::string* out) {
  char buf[32];
  char* end = absl::numbers_internal::FastIntToBuffer(v, buf);
  out->append(buf, end - buf);
}

inline void SetTimestamp(int64_t ms, google::protobuf::Timestamp* ts) {
  ts->set_seconds(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  ts->set_nanos(static_cast<int32_t>((ms - ts->seconds() * 1000) * 1000000));
}

inline int64_t TimestampMs(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000 + ts.nanos() / 1000000;
}

// What a stream's record holds besides its shard set: tags (key → value) and registered
// consumers (by name).
struct StreamAttributes {
  std::map<std::string, std::string, std::less<>> tags;
  std::map<std::string, internal_meta::ConsumerMetadata, std::less<>> consumers;
  // The stream's own mode (CreateStream, UpdateStreamMode); unspecified: the server's limits.
  v1::StreamMode mode = v1::STREAM_MODE_UNSPECIFIED;
};

inline internal_meta::StreamMetadata::Mode ToMetaMode(v1::StreamMode mode) {
  switch (mode) {
    case v1::PROVISIONED:
      return internal_meta::StreamMetadata::PROVISIONED;
    case v1::ON_DEMAND:
      return internal_meta::StreamMetadata::ON_DEMAND;
    default:
      return internal_meta::StreamMetadata::MODE_UNSET;
  }
}

inline v1::StreamMode FromMetaMode(internal_meta::StreamMetadata::Mode mode) {
  switch (mode) {
    case internal_meta::StreamMetadata::PROVISIONED:
      return v1::PROVISIONED;
    case internal_meta::StreamMetadata::ON_DEMAND:
      return v1::ON_DEMAND;
    default:
      return v1::STREAM_MODE_UNSPECIFIED;
  }
}

struct ShardStore::Stream {
  uint64_t id = 0;
  std::string name;
  int64_t creation_ms = 0;

  absl::Mutex mu ABSL_ACQUIRED_AFTER(ShardStore::mu_);
  // The put path's per-shard bookkeeping of every shard of the stream (see
  // Shard::mu). Taken after Shard::mu.
  absl::Mutex put_mu;
  int retention_hours ABSL_GUARDED_BY(mu) = kDefaultRetentionHours;
  uint32_t next_shard_index ABSL_GUARDED_BY(mu) = 0;
  bool updating ABSL_GUARDED_BY(mu) = false;
  bool creating ABSL_GUARDED_BY(mu) = false;  // the creating metadata write is in flight
  bool deleting ABSL_GUARDED_BY(mu) = false;  // the deleting write is in flight
  bool deleted ABSL_GUARDED_BY(mu) = false;
  // A tags or consumers change holds this across its metadata write (ChangeAttributes in
  // stream_metadata.cc); it and UPDATING exclude each other, so every write of the stream's
  // record is built from the state its writer holds. Not visible in Status().
  bool changing_metadata ABSL_GUARDED_BY(mu) = false;
  StreamAttributes attributes ABSL_GUARDED_BY(mu);
  uint64_t routing_version ABSL_GUARDED_BY(mu) = 0;
  // Cluster mode: the etcd revision of the stream's record this state is at (the compare of
  // the next metadata write; later revisions of other front-ends are applied, earlier skipped).
  int64_t revision ABSL_GUARDED_BY(mu) = 0;
  std::shared_ptr<const Routing> routing ABSL_GUARDED_BY(mu);
  std::map<uint32_t, std::shared_ptr<Shard>> shards ABSL_GUARDED_BY(mu);  // kept shards

  // What DescribeStreamSummary and ListStreams report.
  v1::StreamStatus Status() const ABSL_SHARED_LOCKS_REQUIRED(mu) {
    if (creating) return v1::CREATING;
    if (deleting) return v1::DELETING;
    if (updating) return v1::UPDATING;
    return v1::ACTIVE;
  }

  void Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto r = std::make_shared<Routing>();
    for (auto& [index, shard] : shards) {
      absl::MutexLock lock(&shard->mu);
      if (shard->closed) continue;
      r->starts.push_back(shard->starting_hash_key);
      r->shards.push_back(shard);
    }
    std::vector<size_t> order(r->starts.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return r->starts[a] < r->starts[b]; });
    auto sorted = std::make_shared<Routing>();
    for (size_t i : order) {
      sorted->starts.push_back(r->starts[i]);
      sorted->shards.push_back(r->shards[i]);
    }
    sorted->BuildBuckets();
    routing = std::move(sorted);
    ++routing_version;
  }
};

// Holds a stream's UPDATING state (Stream::updating) for a reshard, a delete, a retention
// change or the trimmer's removal of shards, from BeginUpdate until End/EndLocked or, on any
// other return path, the destructor. Movable (ApplyReshard takes it over from its caller).
class ShardStore::UpdatingGuard {
 public:
  explicit UpdatingGuard(Stream* stream) : stream_(stream) {}
  UpdatingGuard(UpdatingGuard&& other) : stream_(std::exchange(other.stream_, nullptr)) {}
  UpdatingGuard& operator=(UpdatingGuard&&) = delete;
  ~UpdatingGuard() { End(); }

  // Clears UPDATING now (idempotent).
  void End() {
    if (stream_ == nullptr) return;
    absl::MutexLock lock(&stream_->mu);
    EndLocked(*stream_);
  }
  // As End, for a caller that holds the mu of `stream`, the guarded stream (to clear UPDATING
  // in the same critical section as the state it changed).
  void EndLocked(Stream& stream) ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream.mu) {
    if (stream_ == nullptr) return;
    assert(stream_ == &stream);
    stream.updating = false;
    stream_ = nullptr;
  }

 private:
  Stream* stream_;
};

// The metadata records of a stream and a shard (see storage_format.h).
inline std::string HashKeyBytes(absl::uint128 v) {
  std::string s;
  AppendBigEndian128(&s, v);
  return s;
}

// The stream's record with `retention`, `next_index` and `attributes`.
inline internal_meta::StreamMetadata StreamMeta(const ShardStore::Stream& s, int retention,
                                                uint32_t next_index,
                                                const StreamAttributes& attributes) {
  internal_meta::StreamMetadata m;
  m.set_stream_id(s.id);
  m.set_name(s.name);
  m.set_retention_period_hours(retention);
  m.set_creation_ms(s.creation_ms);
  m.set_next_shard_index(next_index);
  for (const auto& [key, value] : attributes.tags) (*m.mutable_tags())[key] = value;
  for (const auto& [name, consumer] : attributes.consumers) *m.add_consumers() = consumer;
  m.set_mode(ToMetaMode(attributes.mode));
  return m;
}

// The stream's record as it is in memory, with `retention` and `next_index`.
inline internal_meta::StreamMetadata StreamMeta(const ShardStore::Stream& s, int retention,
                                                uint32_t next_index)
    ABSL_SHARED_LOCKS_REQUIRED(s.mu) {
  return StreamMeta(s, retention, next_index, s.attributes);
}

// Cluster mode: whether `shard` is a child of a reshard whose parents are closed in etcd but
// have no ending number yet (the log has not closed them): it is not routed to until they do.
bool WaitsForClosingParent(const StoredStream& stored, const internal_meta::ShardMetadata& shard);

// A shard's in-memory state from its metadata (recovery.cc), `put_mu` its stream's. Cluster
// mode: closed without an ending number becomes `closing`.
std::shared_ptr<ShardState> NewShardFromMetadata(const internal_meta::ShardMetadata& sm,
                                                 absl::Mutex* put_mu);

inline internal_meta::ShardMetadata ShardMeta(ShardStore::Shard& s)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
  internal_meta::ShardMetadata m;
  m.set_index(s.index);
  m.set_parent_index(s.parent_index);
  m.set_adjacent_parent_index(s.adjacent_parent_index);
  m.set_starting_hash_key(HashKeyBytes(s.starting_hash_key));
  m.set_ending_hash_key(HashKeyBytes(s.ending_hash_key));
  m.set_starting_sequence_number(s.starting_sequence_number);
  m.set_closed(s.closed || s.closing);
  m.set_ending_sequence_number(s.ending_seq);
  m.set_created_ms(s.created_ms);
  m.set_closed_ms(s.closed_ms);
  return m;
}
}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_STORE_INTERNAL_H_
