// EtcdStoreMetadata: the shard store's metadata in etcd, for cluster mode (issues 19 and 20) —
// stream records (retention, tags, consumers, the next shard index), every kept shard's record
// (hash range, lineage, closed and ending number), the stream-id allocator and the iterator MAC
// secret — so that store front-ends keep no local state and several serve one set of streams.
// Records stay in the shard log (JetStream); this class holds nothing a put touches.
//
// Layout, under `prefix` (default "/tributary/store/"):
//   <prefix>secret                      the iterator MAC secret (32 bytes), created once
//   <prefix>next_stream_id              the allocator: decimal, the next id to hand out
//   <prefix>streams/<name>              internal::StreamMetadata bytes
//   <prefix>shards/<id %020>/<ix %010>  internal::ShardMetadata bytes, keyed by the stream's id
//                                       (a re-created name never meets its old shards)
//   <prefix>writers/<session hex>       this front-end's write marker, on its session lease
// The keys grow with streams, kept shards and live front-ends, never with writes or time.
//
// Concurrency between front-ends. Every change of a stream is one Txn that compares the
// stream record's mod_revision with the one the writer read (`revision` of StoredStream) and
// writes the record again together with the shards it changes, so two front-ends changing one
// stream cannot lose a change: the second gets FAILED_PRECONDITION, re-reads and decides again.
// A split is therefore lineage and parent close in one write. Stream ids come from a
// compare-and-set on the allocator and are never handed out twice, across front-ends, restarts
// and deletes. Every Txn carries the front-end's marker (etcd_client.h, Commit): a retry after a
// lost answer recognises its own write instead of reporting a conflict with itself.
//
// Learning other front-ends' changes: Load() returns every stream at one revision and
// Watch(revision + 1) every later change (see NOTES.md, "Store metadata in etcd").
//
// Thread-safe. Every call has the client's deadlines.
#ifndef TRIBUTARY_SHARD_STORE_ETCD_STORE_METADATA_H_
#define TRIBUTARY_SHARD_STORE_ETCD_STORE_METADATA_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "etcd/etcd_client.h"
#include "etcd/marked_session.h"
#include "shard_store/metadata.pb.h"
#include "shard_store/store_metadata.h"

namespace tributary::shard_store {

// One change seen by a StoreMetadataWatch. A write of several keys (a split: the stream record,
// the parent, the children) arrives as several events with the same revision.
struct StoreMetadataEvent {
  enum class Kind { kStreamPut, kStreamDeleted, kShardPut, kShardDeleted, kWriterDeleted };
  Kind kind = Kind::kStreamPut;
  int64_t revision = 0;
  std::string stream_name;                 // kStream*
  internal::StreamMetadata stream;         // kStreamPut
  uint64_t stream_id = 0;                  // kShard*
  uint32_t shard_index = 0;                // kShard*
  internal::ShardMetadata shard;           // kShardPut
  std::string writer_key;                  // kWriterDeleted: the marker key (a session ended)
};

class StoreMetadataWatch {
 public:
  // Waits until changes are there or `deadline` (the client's clock); returns them in revision
  // order, maybe none at the deadline. Errors: OUT_OF_RANGE when etcd compacted past the watch
  // (Load again); UNAVAILABLE when the watch broke (watch again from last_revision() + 1);
  // DATA_LOSS for a record that does not decode.
  absl::StatusOr<std::vector<StoreMetadataEvent>> Next(MonotonicTime deadline);
  int64_t last_revision() { return watch_->last_revision(); }

 private:
  friend class EtcdStoreMetadata;
  StoreMetadataWatch(std::string prefix, std::unique_ptr<etcd::EtcdWatch> watch)
      : prefix_(std::move(prefix)), watch_(std::move(watch)) {}
  const std::string prefix_;
  std::unique_ptr<etcd::EtcdWatch> watch_;
};

struct EtcdStoreMetadataOptions {
  // Every key starts with this; it ends with '/'. One store cluster per prefix.
  std::string prefix = "/tributary/store/";
  // The TTL of the session lease the write marker lives on (longer than the client's
  // operation timeout).
  absl::Duration session_ttl = absl::Seconds(30);
};

class EtcdStoreMetadata {
 public:
  // Over `client`, which must outlive this object; starts a session (lease, marker, renewals).
  // Errors: INVALID_ARGUMENT for a prefix without a trailing '/'; the client's.
  static absl::StatusOr<std::unique_ptr<EtcdStoreMetadata>> Create(
      etcd::EtcdClient& client, EtcdStoreMetadataOptions options = {});
  ~EtcdStoreMetadata() = default;  // the session is revoked (its marker goes)
  EtcdStoreMetadata(const EtcdStoreMetadata&) = delete;
  EtcdStoreMetadata& operator=(const EtcdStoreMetadata&) = delete;

  // The iterator MAC secret shared by every front-end: the first call anywhere creates it (32
  // random bytes), every later call on any front-end returns the same. Idempotent. Errors:
  // DATA_LOSS for a stored secret of another size; INTERNAL when no randomness; the client's.
  absl::StatusOr<std::string> LoadOrCreateSecret();

  // Hands out a stream id no front-end ever got before (>= 1, increasing per allocator).
  // The id is durable before it is returned. Errors: UNAVAILABLE after many conflicts in a row
  // with other front-ends, or when the outcome of the last write is unknown (nothing was handed
  // out: the id is skipped, never reused); DATA_LOSS for an undecodable allocator; the client's.
  absl::StatusOr<uint64_t> AllocateStreamId();

  // Every stream and its shards, at one revision (`next_stream_id` is not read: ids are
  // allocated per call). Errors: DATA_LOSS for a record or key that
  // does not decode; the client's (OUT_OF_RANGE: compacted between pages, call again).
  absl::StatusOr<StoreMetadataSnapshot> Load();

  // One stream (read-through, linearizable): nullopt when there is none by that name.
  // Errors: as Load.
  absl::StatusOr<std::optional<StoredStream>> ReadStream(const std::string& name);

  // Writes a new stream's record and its shards in one Txn, only if no stream has that name.
  // Returns the record's revision. Errors: ALREADY_EXISTS when the name is taken (also by a
  // create of another front-end that won); INVALID_ARGUMENT from etcd when the Txn has more
  // operations than its --max-txn-ops (shards + 2); the client's.
  absl::StatusOr<int64_t> CreateStream(const internal::StreamMetadata& stream,
                                       const std::vector<internal::ShardMetadata>& shards);

  // Writes `stream` (same name and id as stored), puts `put_shards` and deletes the shards
  // `removed_shards`, in one Txn, only if the stream's record is still at `expected_revision`.
  // Returns the new revision. Errors: FAILED_PRECONDITION when the record changed since (another
  // front-end's change: ReadStream and decide again); NOT_FOUND when the stream is gone; the
  // client's (DEADLINE_EXCEEDED/UNAVAILABLE: outcome unknown, ReadStream to learn it).
  absl::StatusOr<int64_t> UpdateStream(const internal::StreamMetadata& stream,
                                       const std::vector<internal::ShardMetadata>& put_shards,
                                       const std::vector<uint32_t>& removed_shards,
                                       int64_t expected_revision);

  // Deletes the stream `name` (of id `stream_id`) and all its shards in one Txn, only if its
  // record is at `expected_revision`. Errors: as UpdateStream.
  absl::Status DeleteStream(const std::string& name, uint64_t stream_id,
                            int64_t expected_revision);

  // Watches every stream and shard change at revisions >= `start_revision` (Load's revision + 1).
  // Errors: OUT_OF_RANGE when that revision was compacted (Load again); the client's.
  absl::StatusOr<std::unique_ptr<StoreMetadataWatch>> Watch(int64_t start_revision);

  // This front-end's writer marker key (`<prefix>writers/<lease hex>`): what a reshard records
  // as its parents' closing_owner. It changes when the session had to be started again.
  std::string WriterKey();
  // Whether the writer marker `key` exists (its front-end's session is alive). An empty key is
  // no writer: false. Errors: the client's.
  absl::StatusOr<bool> WriterAlive(const std::string& key);

  // The client (its clock times the watch's waits).
  etcd::EtcdClient& client() { return client_; }

  // Keys (tests, etcdctl).
  std::string StreamKey(const std::string& name) const;
  std::string ShardKey(uint64_t stream_id, uint32_t index) const;
  std::string ShardsOf(uint64_t stream_id) const;

 private:
  EtcdStoreMetadata(etcd::EtcdClient& client, EtcdStoreMetadataOptions options)
      : client_(client),
        options_(std::move(options)),
        session_(client, options_.prefix, options_.session_ttl, "a store metadata session") {}
  // Commits `txn` with this front-end's marker. A failed compare is reported as
  // succeeded=false, unless the session (and with it the proof of an earlier attempt of ours)
  // is gone: then UNAVAILABLE "outcome unknown".
  absl::StatusOr<etcd::TxnResult> Commit(const etcd::Txn& txn, absl::string_view what);
  // The compare of UpdateStream/DeleteStream failed: NOT_FOUND or FAILED_PRECONDITION.
  absl::Status Conflict(const std::string& name, int64_t expected_revision);

  etcd::EtcdClient& client_;
  const EtcdStoreMetadataOptions options_;
  // Serializes writes (held across the etcd call; one marker per front-end).
  absl::Mutex mu_;
  etcd::MarkedSession session_ ABSL_GUARDED_BY(mu_);  // its marker: <prefix>writers/<lease>
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_ETCD_STORE_METADATA_H_
