// The ShardLog seam (issue 20): where a store keeps the records of its shards. Two
// implementations: the store's own RocksDB database (RocksDbShardLog, rocksdb_shard_log.h, the
// default) and NATS JetStream (JetStreamShardLog, jetstream/jetstream_shard_log.h, cluster
// mode). Everything else stays in the store, above the seam: validation, routing by hash key,
// write limits, stream and shard metadata and lineage, iterators, the visible tip, waits and
// watches (design and reasons: NOTES.md, "The ShardLog seam").
//
// Numbering. A log either takes records the store has numbered (StoreNumbers() true: RocksDB;
// the store reserves runs under its put lock and stages the records into the same write batch
// as its metadata, see shard_state.h) or numbers them itself (false: JetStream; Append returns
// the numbers, the store advances the visible tip to them). Either way sequence numbers are
// strictly increasing per shard and never reused; log-numbered ones are not contiguous.
//
// Staging. The Stage* calls add to a StoreBatch that the store writes with its own metadata
// (one atomic RocksDB write); a log that keeps nothing in RocksDB adds nothing. The lifecycle
// calls (CreateStream, SetRetention, CloseShards, DeleteStream) are what a log kept elsewhere
// must do itself; for RocksDB they are no-ops (the metadata batch says everything).
//
// Arrival times are in Unix milliseconds: the store's clock for RocksDB (kept non-decreasing per
// shard by the store), the log's own for JetStream (its stream leader's).
//
// Thread-safety: implementations are thread-safe.
#ifndef TRIBUTARY_SHARD_STORE_SHARD_LOG_H_
#define TRIBUTARY_SHARD_STORE_SHARD_LOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace tributary::shard_store {

class StoreBatch;  // store_batch.h

// A record to append: views into the caller's request.
struct LogEntry {
  absl::string_view partition_key;
  absl::string_view data;
};

// A read of one shard: records with sequence numbers in [from, upper], at most `limit` of them
// and no more than `max_bytes` of keys and data (the first is always returned), skipping those
// that arrived before `min_arrival_ms` (AT_TIMESTAMP).
struct LogReadRequest {
  uint64_t stream_id = 0;
  uint32_t shard = 0;
  uint64_t from = 0;
  uint64_t upper = 0;  // the shard's visible tip (or its ending number when closed)
  int limit = 1;
  int64_t max_bytes = 0;
  int64_t min_arrival_ms = 0;
  // The shard is closed: `upper` is its ending number, which no record carries.
  bool closed = false;
};

struct LogReadResult {
  // Where the next read starts: after the last record returned, upper + 1 when the log holds
  // nothing more up to `upper`, or (a log whose replica may lag) no further than it could tell.
  uint64_t next = 0;
  int count = 0;
  int64_t bytes = 0;
  int64_t last_arrival_ms = -1;  // of the last record returned; -1 when none
};

// Called per record read, in order; the views live until the call returns.
using LogRecordVisitor = absl::FunctionRef<void(uint64_t sequence_number, int64_t arrival_ms,
                                                absl::string_view partition_key,
                                                absl::string_view data)>;

// One shard's records of a call (AppendCall).
struct ShardAppend {
  uint32_t shard = 0;
  absl::Span<const LogEntry> records;
};

struct LogLast {
  uint64_t sequence_number = 0;  // 0: the shard holds no record
  int64_t arrival_ms = 0;
};

// A registration made by ShardLog::WatchAppends; destroying it unregisters (after the destructor
// returns the handler is not running and will not run again).
class AppendWatch {
 public:
  virtual ~AppendWatch() = default;
};

// A shard's last record after an append (ShardLog::AnnounceAppends).
struct ShardTip {
  uint32_t shard = 0;
  uint64_t last = 0;
};

// Called with (stream id, shard, sequence number of the shard's last record appended).
using AppendHandler = std::function<void(uint64_t stream_id, uint32_t shard, uint64_t last)>;

class ShardLog {
 public:
  virtual ~ShardLog() = default;

  // True when the store numbers records and stages them (StageAppend); false when Append
  // numbers them.
  virtual bool StoreNumbers() const = 0;

  // --- Streams and shards -----------------------------------------------------------------
  // Before the stream's metadata is written: makes room for a stream with `shards` open.
  // Idempotent. Errors: the log's (UNAVAILABLE, DEADLINE_EXCEEDED, ...).
  virtual absl::Status CreateStream(uint64_t stream_id, absl::Span<const uint32_t> shards,
                                    absl::Duration retention) = 0;
  // Before a retention change is written. Errors as CreateStream, NOT_FOUND.
  virtual absl::Status SetRetention(uint64_t stream_id, absl::Duration retention) = 0;
  // Adds the removal of every record of the stream to `batch` (the stream's delete).
  virtual void StageDeleteStream(StoreBatch* batch, uint64_t stream_id) = 0;
  // After the stream's delete was written: drops what the log keeps elsewhere. Errors are the
  // log's; the stream is gone for the store either way (ids are never reused).
  virtual absl::Status DeleteStream(uint64_t stream_id) = 0;
  // Log-numbered logs: closes `parents` and opens `children` in the log, returning the parents'
  // ending sequence number (above every record they hold; appends to them then fail with
  // FAILED_PRECONDITION). Store-numbered logs return 0 and do nothing (the store reserves the
  // ending number). Idempotent for the same parents (in any order, from any front-end, also
  // long after the first call: a reshard finished for a front-end that died, NOTES.md
  // "Interrupted reshards").
  virtual absl::StatusOr<uint64_t> CloseShards(uint64_t stream_id,
                                               absl::Span<const uint32_t> parents,
                                               absl::Span<const uint32_t> children) = 0;

  // --- Records ----------------------------------------------------------------------------
  // Store-numbered logs: adds `records`, numbered first, first + 1, ..., arrived at
  // `arrival_ms`, to `batch`. Failures are kept in the batch (StoreBatch::status).
  virtual void StageAppend(StoreBatch* batch, uint64_t stream_id, uint32_t shard, uint64_t first,
                           int64_t arrival_ms, absl::Span<const LogEntry> records) = 0;
  // Log-numbered logs: appends call `call`'s records of one shard (1-500), in order, and returns
  // their sequence numbers. `call` is unique per store process. Errors: FAILED_PRECONDITION when
  // the shard is closed (route the records again); NOT_FOUND for a stream the log does not
  // have; UNAVAILABLE / DEADLINE_EXCEEDED when not every record was acknowledged (some may have
  // been stored; the log stores them before the shard's next append).
  virtual absl::StatusOr<std::vector<uint64_t>> Append(uint64_t stream_id, uint32_t shard,
                                                       uint64_t call,
                                                       absl::Span<const LogEntry> records) = 0;
  // Log-numbered logs: appends call `call`'s records of several shards (each shard at most
  // once) and returns, per element of `shards` and in its order, what Append would return for
  // it: each shard succeeds or fails on its own. A log may append the shards concurrently (the
  // JetStream log does); this default appends them one after another.
  virtual std::vector<absl::StatusOr<std::vector<uint64_t>>> AppendCall(
      uint64_t stream_id, uint64_t call, absl::Span<const ShardAppend> shards) {
    std::vector<absl::StatusOr<std::vector<uint64_t>>> results;
    results.reserve(shards.size());
    for (const ShardAppend& s : shards) {
      results.push_back(Append(stream_id, s.shard, call, s.records));
    }
    return results;
  }

  // Reads per LogReadRequest, calling `visit` per record. Errors: DATA_LOSS for a record that
  // does not decode; the log's.
  virtual absl::StatusOr<LogReadResult> Read(const LogReadRequest& request,
                                             LogRecordVisitor visit) = 0;
  // The first position in [from, to + 1] at or after which every record of the shard arrived
  // at or after `min_arrival_ms` (arrival times never decrease along a shard).
  virtual absl::StatusOr<uint64_t> FindFirstAtOrAfter(uint64_t stream_id, uint32_t shard,
                                                      uint64_t from, uint64_t to,
                                                      int64_t min_arrival_ms) = 0;
  // The shard's last record (recovery).
  virtual absl::StatusOr<LogLast> Last(uint64_t stream_id, uint32_t shard) = 0;
  // Adds the removal of the shard's records in (through, keep_from) to `batch` (retention).
  // A log that expires records itself adds nothing.
  virtual void StageTrim(StoreBatch* batch, uint64_t stream_id, uint32_t shard,
                         uint64_t through, uint64_t keep_from) = 0;

  // --- Wake-ups across front-ends (cluster mode) -------------------------------------------
  // After an append was acknowledged: tells every front-end watching this log (WatchAppends,
  // this one included) that `shard` now holds records up to `last`. Best effort (a lost
  // announcement is caught up by the next read at the tip) and never blocks. Default: nothing
  // (a log only this process writes).
  virtual void AnnounceAppend(uint64_t /*stream_id*/, uint32_t /*shard*/, uint64_t /*last*/) {}
  // AnnounceAppend for every shard a call appended to (each at most once), as one announcement
  // where the log can (the JetStream log: one message a call, not one a shard). Watchers get
  // one handler call per tip, as from AnnounceAppend. Default: AnnounceAppend per tip.
  virtual void AnnounceAppends(uint64_t stream_id, absl::Span<const ShardTip> tips) {
    for (const ShardTip& t : tips) AnnounceAppend(stream_id, t.shard, t.last);
  }
  // Calls `handler` for the announcements of every front-end from now on, on a thread of the
  // log's, one at a time. Returns nullptr when the log has no announcements (the default).
  virtual absl::StatusOr<std::unique_ptr<AppendWatch>> WatchAppends(AppendHandler /*handler*/) {
    return std::unique_ptr<AppendWatch>();
  }
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_SHARD_LOG_H_
