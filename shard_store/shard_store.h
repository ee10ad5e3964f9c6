// ShardStore: the durable sharded log behind tributary.v1.Streams (Kinesis Data
// Streams semantics) on RocksDB.
//
// The library speaks the API's request/response messages (proto/streams.proto:
// plain data, no gRPC) so that the gRPC adapter (streams_service.h) is a thin
// validate → call → map layer and the PutRecords hot path makes no extra copies.
//
// Storage layout (column families, keys, the record chunk format):
// shard_store/storage_format.h.
//
// Sequence numbers. Per shard, strictly increasing uint64 starting at 1, never
// reused. On open, a shard's next sequence number is 1 + the largest of: its
// last record in the log, its trimmed-through mark ("t" key, written in the same
// WriteBatch as the range delete that trims, so it survives a trim of every
// record), and its ending sequence number when closed. Recovery reads the log,
// not a counter that could lag it.
//
// Visibility (the contract; the protocol behind it, the "visible tip", and the
// lock order are in shard_store/shard_state.h). Concurrent PutRecords calls may
// write the same shard at once. A reader sees a shard's records only up to its
// visible tip, below which everything is final: it never sees a gap that later
// fills in. A failed write is never acknowledged and none of its records is
// readable; readers are never stuck behind it. Records a reader could see
// survive kill -9, and sequence numbers after a restart exceed every one a
// reader could have seen.
//
// Resharding, deletion and the removal of a fully trimmed closed shard are
// serialized per stream by its UPDATING state (a second such call gets
// FAILED_PRECONDITION). A put that routed to a shard being closed waits until
// the new shard set is published and routes again; no lock is held across any
// RocksDB write.
//
// Thread-safety: every method is thread-safe.
#ifndef TRIBUTARY_SHARD_STORE_SHARD_STORE_H_
#define TRIBUTARY_SHARD_STORE_SHARD_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/metrics/registry.h"
#include "common/proto_util.h"
#include "common/rocksdb_util.h"
#include "proto/streams.pb.h"
#include "rocksdb/status.h"
#include "rocksdb/write_batch.h"
#include "shard_store/hash_key.h"
#include "shard_store/shard_log.h"
#include "shard_store/shard_watch.h"
#include "shard_store/store_metrics.h"

namespace tributary::shard_store {

// Limits (Kinesis values).
inline constexpr int kMaxShardCount = 10000;
inline constexpr int kMaxPartitionKeyChars = 256;
inline constexpr int64_t kMaxRecordBytes = 1 << 20;  // partition key + data
inline constexpr int kMaxPutRecordsCount = 500;
inline constexpr int64_t kMaxPutRecordsBytes = 5 << 20;  // whole request
inline constexpr int kMaxGetRecordsLimit = 10000;
inline constexpr int64_t kMaxGetRecordsBytes = 10 << 20;
inline constexpr int kDefaultRetentionHours = 24;
inline constexpr int kMinRetentionHours = 24;
inline constexpr int kMaxRetentionHours = 8760;
inline constexpr absl::Duration kIteratorLifetime = absl::Minutes(5);
// Tags and registered consumers (Kinesis values; see AddTagsToStream and
// RegisterStreamConsumer).
inline constexpr int kMaxTagsPerStream = 50;
inline constexpr int kMaxTagKeyChars = 128;
inline constexpr int kMaxTagValueChars = 256;
inline constexpr int kMaxConsumersPerStream = 20;
inline constexpr int kDefaultListConsumersResults = 100;  // also the most a page holds
inline constexpr char kThroughputExceeded[] = "ProvisionedThroughputExceededException";
inline constexpr char kInternalFailure[] = "InternalFailure";

// Hash keys (ParseHashKey, FormatHashKey, PartitionKeyHash) and shard ids
// (ShardIdFromIndex): shard_store/hash_key.h.
// Sequence numbers: ParseSequenceNumber in common/proto_util.h (1–20 digits, ≤ 2^64−1).

// What a RocksDB write of the store is for (see WriteInterceptor).
enum class WriteKind {
  kStreamId,  // CreateStream's allocation of a stream id, before its metadata write
  kCreateStream,
  kDeleteStream,
  kRecords,         // PutRecord / PutRecords: one write per call
  kReshard,         // SplitShard / MergeShards / UpdateShardCount / SealStream / RollOverShards
  kStreamMetadata,  // retention changes, tags, registered consumers
  kTrim,            // the retention trimmer (range deletes, removing shards)
};

// Fault-injection seam for tests (see shard_store/testing/write_faults.h):
// called before each RocksDB write of the store, on the writing thread, with
// no lock of the store held. A non-OK return fails that write with it, the
// batch unapplied, exactly as if RocksDB had rejected it; OK lets the write
// through. It may block to hold a write in flight. Unset in production.
using WriteInterceptor = std::function<rocksdb::Status(WriteKind kind)>;

// Adds writes of another library to the batch of a put (PutRecordStaged), so that they and the
// record are one atomic RocksDB write. Called once, with no lock of the store held, after the
// record's sequence number is reserved. A non-OK return fails the put: nothing is written.
using BatchStage = std::function<absl::Status(rocksdb::WriteBatch* batch)>;

class EtcdStoreMetadata;  // etcd_store_metadata.h
struct StoredStream;      // store_metadata.h
struct StreamChange;      // store_metadata.h

struct ShardStoreOptions {
  // Directory of the RocksDB database (created when missing).
  std::string data_dir;
  // Acknowledge writes only after fsync of the WAL: every write of the store
  // (records, create/delete, reshards, retention changes, the trimmer's), so
  // whatever a call acknowledged survives power loss. Concurrent writers are
  // grouped by RocksDB into one WAL write and one fsync (group commit).
  bool sync_writes = false;
  // Optional per-shard write limits; 0 = unlimited (the default). Excess
  // records fail with ProvisionedThroughputExceededException. The bucket holds
  // one second's worth.
  double shard_write_records_per_second = 0;
  double shard_write_bytes_per_second = 0;
  // Optional per-shard read limits (GetRecords); 0 = unlimited (the default). A call past
  // either is RESOURCE_EXHAUSTED ("ProvisionedThroughputExceededException: ..."), as Kinesis
  // throttles it. The calls bucket holds one second's worth; the bytes bucket holds one
  // second's worth and a reply may overdraw it (Kinesis: a 10 MiB GetRecords is allowed, and
  // the shard's next calls are throttled until the 2 MiB/s rate has paid it back).
  double shard_read_calls_per_second = 0;
  double shard_read_bytes_per_second = 0;
  RocksDbOptions rocksdb;
  // Tests only: see WriteInterceptor. Empty = no interception.
  WriteInterceptor write_interceptor;
  // Tests only: the largest WriteBatch the store builds, in bytes (RocksDB's
  // WriteBatch max_bytes); 0 = no limit. A call whose batch would exceed it
  // fails with RESOURCE_EXHAUSTED and writes nothing: a seam for the "a batch
  // that cannot be built is never written in part" tests.
  size_t max_write_batch_bytes = 0;
  // Column families of other libraries kept in the store's database (db()), so that their
  // writes can share a batch with a record (PutRecordStaged): tables/ keeps its items here.
  std::vector<std::string> extra_column_families;
  // Where the records are kept (shard_log.h). Null: in the store's RocksDB database (the
  // "records" column family). A log that numbers records itself (JetStream, cluster mode) keeps
  // no records in RocksDB; then PutRecordStaged / PutRecordsStaged are FAILED_PRECONDITION (a
  // staged write and a record in another system cannot be one write).
  std::shared_ptr<ShardLog> log;
  // Cluster mode (issues 19/20): the stream metadata and lineage in etcd (etcd_store_metadata.h)
  // instead of the store's RocksDB, so that several stores ("front-ends") over one etcd prefix
  // and one log serve the same streams. Requires a log that numbers records (JetStream): with
  // the records in a local RocksDB they would be on one front-end's disk (INVALID_ARGUMENT at
  // Create). The store then keeps no local state: every start loads the metadata from etcd. It
  // opens a RocksDB database in data_dir only for extra_column_families (db(), other libraries'
  // data); without them data_dir is unused and db() must not be called. Every metadata change is a
  // compare on the stream's etcd revision; a change that loses the compare (another front-end
  // changed the stream) re-reads the stream and is decided again; every front-end watches the
  // prefix and applies the others' changes (NOTES.md, "Several front-ends over etcd").
  std::shared_ptr<EtcdStoreMetadata> cluster_metadata;
  // Tests only (cluster mode): called in a reshard after its lineage write (step 1) and after
  // the log closed the parents (step 2). A non-OK return ends the reshard there with that
  // status, as a front-end that died at that point would leave it: nothing more is written and
  // this front-end does not finish it (another does, once this one's session is gone; NOTES.md
  // "Interrupted reshards"). Empty: no fault.
  std::function<absl::Status(int step)> reshard_fault;
  // How long, at most, a put waits for the new shard set when its records route to a shard that
  // a reshard is closing (on the store's clock, from the call's first such wait). Normally the
  // reshard publishes it within one metadata write; when the reshard's front-end died, only
  // another front-end finishes it (after the dead one's etcd session expires, ~30 s), and each
  // waiting call holds a put thread meanwhile. Past it, those records fail retryably: per record
  // InternalFailure ("... being resharded; retry") in PutRecords, UNAVAILABLE for PutRecord and
  // PutRecordsStaged; nothing of them is stored. NOTES.md, "Interrupted reshards".
  absl::Duration reshard_put_wait = absl::Seconds(5);
};

// Kinesis's per-shard limits (provisioned mode): writes 1 MiB/s and 1,000 records/s, reads
// 2 MiB/s and 5 GetRecords calls/s. `--kinesis_shard_limits` sets them.
inline constexpr double kKinesisShardWriteRecordsPerSecond = 1000;
inline constexpr double kKinesisShardWriteBytesPerSecond = 1 << 20;
inline constexpr double kKinesisShardReadCallsPerSecond = 5;
inline constexpr double kKinesisShardReadBytesPerSecond = 2 << 20;
inline void SetKinesisShardLimits(ShardStoreOptions& options) {
  options.shard_write_records_per_second = kKinesisShardWriteRecordsPerSecond;
  options.shard_write_bytes_per_second = kKinesisShardWriteBytesPerSecond;
  options.shard_read_calls_per_second = kKinesisShardReadCallsPerSecond;
  options.shard_read_bytes_per_second = kKinesisShardReadBytesPerSecond;
}

// Where a reader stands in one shard: the next sequence number it wants.
// Produced by ResolveStartingPosition or by decoding a shard iterator.
struct ShardCursor {
  uint64_t stream_id = 0;
  uint32_t shard_index = 0;
  uint64_t next_sequence_number = 0;  // read records with sequence ≥ this
  int64_t min_arrival_ms = 0;         // AT_TIMESTAMP: skip records that arrived earlier
};

// What a read found besides the records.
struct ReadOutcome {
  int64_t millis_behind_latest = 0;
  // The shard is closed and the cursor has passed its end: no more records ever.
  bool shard_end = false;
  std::vector<v1::ChildShard> child_shards;  // set when shard_end
  // Records at or below the visible tip were left unread (cluster mode: the log's replica that
  // answered is a moment behind the acknowledgement); reading again soon finds them.
  bool short_of_tip = false;
};

// The RocksDB options the store opens its database with: `options` plus a
// memtable insert hint per shard for the "records" column family (see
// RocksDbOptions::memtable_insert_hint_prefix_bytes). Exposed so that a raw
// RocksDB comparison (tools/bench/put_records) can open its database alike.
RocksDbOptions StoreRocksDbOptions(RocksDbOptions options);

// The ARNs the store reports (tributary.v1 names streams; ARNs are for display
// and for naming a consumer): "arn:tributary:stream/<stream name>" and
// "arn:tributary:stream/<stream name>/consumer/<consumer name>:<creation time,
// epoch seconds>".
std::string StreamArn(absl::string_view stream_name);
std::string ConsumerArn(absl::string_view stream_name, absl::string_view consumer_name,
                        int64_t creation_seconds);

struct ShardState;
struct StreamAttributes;
class StoreBatch;
class ReadLimits;
class RocksDbStoreMetadata;

class ShardStore {
 public:
  // Opens (or creates) the store in options.data_dir. `clock` must outlive the
  // store. Errors: INVALID_ARGUMENT for bad options; INTERNAL/DATA_LOSS from
  // RocksDB or undecodable metadata.
  static absl::StatusOr<std::unique_ptr<ShardStore>> Create(const ShardStoreOptions& options,
                                                            Clock& clock);
  // Closes the database without flushing memtables (the WAL recovers them).
  ~ShardStore();

  // --- Streams -----------------------------------------------------------
  // Creates a stream of `shard_count` shards dividing [0, 2^128−1] evenly
  // (shard i gets [i·⌊2^128/n⌋, (i+1)·⌊2^128/n⌋ − 1], the last one up to
  // 2^128−1). It is ACTIVE once the call returns (CREATING only while its
  // metadata write is in flight: reads see it empty, puts wait for the write
  // and are acknowledged only once the stream exists durably). Its stream id
  // is written before the metadata, so no id is ever handed out twice, even
  // after a failed create and a restart. Errors: INVALID_ARGUMENT
  // (stream_name: 1–128 of [a-zA-Z0-9_.-]; shard_count 1–10000;
  // retention_period_hours 24–8760; stream_mode_details.stream_mode a StreamMode); ALREADY_EXISTS;
  // INTERNAL/UNAVAILABLE/RESOURCE_EXHAUSTED when a write fails (nothing was
  // created). stream_mode_details: PROVISIONED = Kinesis's per-shard limits on this stream,
  // ON_DEMAND = none, unset = the server's (ShardStoreOptions' limits; NOTES.md "Kinesis limits
  // per stream"); kept in the stream's metadata.
  absl::Status CreateStream(const v1::CreateStreamRequest& request);
  // Deletes the stream with its shards, records, tags and registered consumers
  // (range delete). Subscribers and waiters wake; later calls get NOT_FOUND.
  // Errors: INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION while the stream is
  // UPDATING, and when it has registered consumers and enforce_consumer_deletion
  // is not set (as Kinesis; nothing is deleted).
  absl::Status DeleteStream(const v1::DeleteStreamRequest& request);
  // stream_status is the stream's real state: CREATING while CreateStream's
  // metadata write is in flight; DELETING while DeleteStream's write is in
  // flight; UPDATING while a reshard (split, merge, UpdateShardCount), a
  // retention change or the trimmer's removal of expired closed shards is in
  // progress (from the start of the call until its metadata write has been
  // applied and the new shard set published); ACTIVE otherwise. A reshard is
  // one atomic metadata write, so UPDATING lasts only for that call, and a
  // second reshard meanwhile gets FAILED_PRECONDITION. consumer_count is the
  // number of registered consumers. stream_mode_details is the mode in force: the stream's own,
  // or for one created without a mode PROVISIONED when the server's options set any per-shard
  // limit and ON_DEMAND otherwise. Errors: INVALID_ARGUMENT, NOT_FOUND.
  absl::StatusOr<v1::DescribeStreamSummaryResponse> DescribeStreamSummary(
      const v1::DescribeStreamSummaryRequest& request);
  // Stream names in byte order. limit 1–10000 (0 = 100). next_token continues
  // a previous listing (it carries the last name). stream_summaries carry each
  // stream's status as DescribeStreamSummary reports it. Errors:
  // INVALID_ARGUMENT.
  absl::StatusOr<v1::ListStreamsResponse> ListStreams(const v1::ListStreamsRequest& request);
  // Shards (open and closed, not yet trimmed away) in shard-id order, paged by
  // max_results (1–10000, 0 = 1000). A request with next_token must not name
  // the stream, exclusive_start_shard_id or a filter (the token carries them);
  // tokens expire after 5 minutes. Filters: AFTER_SHARD_ID (ids after
  // shard_id), AT_TRIM_HORIZON (shards open at now − retention),
  // FROM_TRIM_HORIZON (all kept shards), AT_LATEST (open shards),
  // AT_TIMESTAMP_FILTER (open at `timestamp`), FROM_TIMESTAMP (open at or after
  // `timestamp`). A closed shard stays listed (with its ending sequence
  // number) and readable until the retention period after it closed has
  // passed, even with no records: GetRecords then returns no records and, at
  // SHARD_END, its child shards. Errors: INVALID_ARGUMENT (including a forged
  // or malformed token), FAILED_PRECONDITION (expired token), NOT_FOUND.
  absl::StatusOr<v1::ListShardsResponse> ListShards(const v1::ListShardsRequest& request);

  // --- Writes ------------------------------------------------------------
  // Writes up to 500 records (≤ 5 MiB) as one WriteBatch and fills `response`
  // (cleared first) with one entry per record in request order: shard_id and
  // sequence_number, or error_code/error_message
  // (ProvisionedThroughputExceededException when a shard's write limit is
  // exceeded), plus failed_record_count. Records of one call that land in one
  // shard get increasing sequence numbers in call order. Returns OK once the
  // batch is durable (WAL; fsync with sync_writes). Not idempotent. A put to a
  // stream that is CREATING waits until CreateStream's write is done, then
  // proceeds or, when the create failed, returns NOT_FOUND. A record whose shard a reshard is
  // closing waits for the new shard set, at most options.reshard_put_wait; then it fails with
  // InternalFailure ("... being resharded ...; retry": not stored) and the call's other records
  // are written as usual. (PutRecord and PutRecordsStaged: UNAVAILABLE, nothing written.)
  // Errors (for the whole call, nothing written): INVALID_ARGUMENT naming
  // records[i].field and the rule (partition key 1–256 characters, key + data ≤
  // 1 MiB, explicit_hash_key a decimal ≤ 2^128−1, 1–500 records, ≤ 5 MiB);
  // NOT_FOUND (also when the stream's creation failed while the put waited);
  // INTERNAL/UNAVAILABLE/RESOURCE_EXHAUSTED when RocksDB rejects the
  // write ("writing records (none of this call's records were stored): ..."):
  // nothing of the call is acknowledged or readable, and later calls continue
  // with increasing sequence numbers (see "Visibility" above).
  absl::Status PutRecords(const v1::PutRecordsRequest& request, v1::PutRecordsResponse* response);
  // One record; as PutRecords. A throttled record is RESOURCE_EXHAUSTED.
  // sequence_number_for_ordering: Kinesis uses it to order the puts of one
  // partition key from one producer. Here every shard is strictly ordered:
  // a put that is acknowledged before the next one starts always gets a larger
  // sequence number in its shard (after a reshard the key's records go to a
  // child shard, which readers consume after the parent's SHARD_END), so the
  // field adds nothing and is otherwise ignored. When set it must be a decimal sequence number
  // (1–20 digits, ≤ 2^64−1), else INVALID_ARGUMENT naming sequence_number_for_ordering.
  absl::StatusOr<v1::PutRecordResponse> PutRecord(const v1::PutRecordRequest& request);
  // PutRecord whose one WriteBatch also holds what `stage` adds (the change record of a table's
  // item and the item itself, tables/NOTES.md): both are written or neither. A failing stage
  // or write fails the call with its status and leaves no trace in the log (the sequence number
  // is never reused nor readable). Errors: as PutRecord, and those of `stage`.
  absl::StatusOr<v1::PutRecordResponse> PutRecordStaged(const v1::PutRecordRequest& request,
                                                        const BatchStage& stage);
  // Records of several streams (one request a stream, streams distinct) and what `stage` adds,
  // in one RocksDB write: everything is written or nothing (a transaction of tables/ writes its
  // items and their change records in several tables' streams this way). Unlike PutRecords the
  // call fails as a whole when any record cannot be written — RESOURCE_EXHAUSTED when a shard's
  // write limit throttles it, INTERNAL when its stream was deleted meanwhile — and a request
  // may exceed 5 MiB (the caller bounds the total). Streams are reserved in name order, so two
  // concurrent calls never wait on each other in opposite orders. Errors (nothing written): as
  // PutRecords, messages naming requests[i].records[j] or the stream; those of `stage`.
  absl::Status PutRecordsStaged(const std::vector<v1::PutRecordsRequest>& requests,
                                const BatchStage& stage);

  // The store's database, holding options.extra_column_families (for other libraries' reads
  // and stand-alone writes of those families). Valid for the store's lifetime.
  // In cluster mode (ShardStoreOptions::cluster_metadata) only with extra_column_families.
  RocksDb& db() { return *db_; }

  // --- Reads -------------------------------------------------------------
  // Returns an iterator: base64url of (stream id, shard, position, issue time)
  // and an HMAC-SHA256 over them keyed by a per-store secret kept in metadata.
  // Types: TRIM_HORIZON (oldest kept record), LATEST (after the visible tip),
  // AT_/AFTER_SEQUENCE_NUMBER (starting_sequence_number required),
  // AT_TIMESTAMP (first record that arrived at or after `timestamp`).
  // Errors: INVALID_ARGUMENT (a missing/extra/bad field), NOT_FOUND (stream or
  // shard).
  absl::StatusOr<v1::GetShardIteratorResponse> GetShardIterator(
      const v1::GetShardIteratorRequest& request);
  // Reads up to `limit` (1–10000, 0 = 10000) records, ≤ 10 MiB, from the
  // iterator's position up to the visible tip, and fills `response` (cleared
  // first). next_shard_iterator is empty once a closed shard has been read to
  // its end; child_shards are then set. Errors: INVALID_ARGUMENT
  // ("shard_iterator: malformed ..." / "shard_iterator: forged or corrupted
  // ..."), FAILED_PRECONDITION ("shard_iterator: expired ..."), NOT_FOUND (the
  // stream was deleted or the shard trimmed away). `max_bytes` (≤ 10 MiB) lowers the byte
  // bound (a server short of memory budget); at least one record is returned whatever its size.
  absl::Status GetRecords(const v1::GetRecordsRequest& request, v1::GetRecordsResponse* response,
                          int64_t max_bytes = kMaxGetRecordsBytes);
  // The name of the stream `shard_iterator` reads, for a front door that authorizes GetRecords
  // by stream (aws/aws_authz.h): the iterator's MAC is checked, so a forged one names nothing.
  // Errors: GetRecords's for the iterator (INVALID_ARGUMENT malformed / forged,
  // FAILED_PRECONDITION expired), NOT_FOUND when its stream was deleted.
  absl::StatusOr<std::string> StreamOfIterator(absl::string_view shard_iterator);

  // In-process readers (SubscribeToShard). Resolves a starting position of a
  // shard to a cursor; errors as GetShardIterator.
  absl::StatusOr<ShardCursor> ResolveStartingPosition(absl::string_view stream_name,
                                                      absl::string_view shard_id,
                                                      const v1::StartingPosition& position);
  // Reads up to `limit` records (≤ `max_bytes`) at the cursor into `records`
  // (appended) and advances the cursor past what was read. Errors: NOT_FOUND
  // (stream deleted, shard trimmed away); RocksDB errors.
  // Cluster mode: a cursor past this front-end's tip first asks the log for the shard's last
  // record (other front-ends' appends), unless `ask_log_at_tip` is false: a reader that the
  // tip's announcements wake and that asks the log itself now and then (SubscribeToShard).
  absl::StatusOr<ReadOutcome> ReadRecords(ShardCursor* cursor, int limit, int64_t max_bytes,
                                          google::protobuf::RepeatedPtrField<v1::Record>* records,
                                          bool ask_log_at_tip = true);
  // The rate a SubscribeToShard subscription to the cursor's shard is paced at, in bytes of
  // records per second: the stream's per-shard read limit when one applies (its mode, else the
  // server's shard_read_bytes_per_second; Kinesis's enhanced fan-out limit is 2 MiB/s of a
  // shard per consumer, so each subscription is paced on its own); 0: unpaced (also when the
  // stream is gone).
  double SubscriptionBytesPerSecond(const ShardCursor& cursor);
  // Waiting for new records without polling, two ways:
  // (a) WaitForRecords blocks until the shard has a visible record at or after
  //     the cursor, the shard is closed (so the cursor may be at SHARD_END), the
  //     shard or stream is gone, or `deadline` by the store's clock (its
  //     monotonic reading) passes. Returns true unless the deadline passed
  //     first. Errors: NOT_FOUND.
  absl::StatusOr<bool> WaitForRecords(const ShardCursor& cursor, MonotonicTime deadline);
  // (b) WatchShard calls `on_change` (from the writer's thread, right after a
  //     put to the shard becomes visible; also when the shard closes or goes
  //     away) until the returned handle is destroyed. `on_change` must be quick
  //     and non-blocking and must not call back into this store or destroy its
  //     own handle: hand the work to another thread. Errors: NOT_FOUND.
  absl::StatusOr<std::unique_ptr<ShardWatch>> WatchShard(const ShardCursor& cursor,
                                                         std::function<void()> on_change);

  // --- Resharding --------------------------------------------------------
  // Splits an open shard at new_starting_hash_key K, start < K ≤ end: the parent
  // closes; child A gets [start, K−1], child B gets [K, end] (so K itself goes to
  // B). Example: splitting [0, 99] at 50 gives [0, 49] and [50, 99]. Later
  // writes go to the children; the parent stays readable to SHARD_END.
  // Errors: INVALID_ARGUMENT (bad key, K outside (start, end]); NOT_FOUND;
  // FAILED_PRECONDITION (shard closed, stream UPDATING); INVALID_ARGUMENT when
  // the stream would exceed 10000 open shards; INTERNAL/UNAVAILABLE when the
  // metadata write fails ("resharding (nothing was changed): ..."): the stream
  // is left as it was (parent open, no children), for this and the two below.
  absl::Status SplitShard(const v1::SplitShardRequest& request);
  // Merges two open shards with adjacent ranges into one child whose
  // parent_shard_id is shard_to_merge and adjacent_parent_shard_id
  // adjacent_shard_to_merge. Errors: INVALID_ARGUMENT (same shard, not
  // adjacent); NOT_FOUND; FAILED_PRECONDITION (a shard closed, UPDATING).
  absl::Status MergeShards(const v1::MergeShardsRequest& request);
  // UNIFORM_SCALING to target_shard_count (at least half, at most double the
  // open count, 1–10000): scaling up splits the widest open shards in half;
  // scaling down merges adjacent pairs from the lowest hash keys. One atomic
  // metadata write; lineage as for split/merge. Errors: INVALID_ARGUMENT,
  // NOT_FOUND, FAILED_PRECONDITION (UPDATING).
  absl::StatusOr<v1::UpdateShardCountResponse> UpdateShardCount(
      const v1::UpdateShardCountRequest& request);
  // Closes every open shard of the stream without children (tables/ ends a table's change
  // stream so: DynamoDB closes a disabled stream's shards). Each shard stays readable to its end
  // and SHARD_END (no child shards) until retention removes it; ListShards shows its ending
  // sequence number. Later puts fail as for a deleted stream (the stream has no open shard), and
  // split, merge and UpdateShardCount have nothing to work on. Idempotent: a stream without
  // open shards is left as it is (OK). Errors: INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION
  // (UPDATING); INTERNAL/UNAVAILABLE when the metadata write fails ("resharding (nothing was
  // changed): ..."): every shard stays open.
  absl::Status SealStream(absl::string_view stream_name);
  // Shard rollover (tables/ rolls a table stream's shards over as DynamoDB Streams does): every
  // open shard of the stream for which `due` is true closes and one child with the same hash-key
  // range takes its later writes (a split into one child: the child's parent_shard_id is the
  // shard; the parent reads to SHARD_END and names the child). `due` is called with no lock of
  // the store held, once per open shard, with the shard's id, its starting hash key, when it was
  // created (by the store's clock, kept across restarts) and whether it has a parent; it must not
  // call back into this store. All due shards close in one metadata write. Returns the ids of the
  // shards rolled over (empty: none was due, nothing written).
  // Example: a 1-shard stream rolled over twice: shardId-000000000000 → shardId-000000000001
  // (parent ...000) → shardId-000000000002 (parent ...001), each with the full hash-key range.
  // Errors: INVALID_ARGUMENT (stream name); NOT_FOUND; FAILED_PRECONDITION (UPDATING: another
  // reshard in progress); INTERNAL/UNAVAILABLE when the metadata write fails ("resharding
  // (nothing was changed): ...": every shard stays open).
  struct OpenShardInfo {
    std::string shard_id;
    absl::uint128 starting_hash_key;
    absl::Time created;
    bool has_parent;
  };
  absl::StatusOr<std::vector<std::string>> RollOverShards(
      absl::string_view stream_name, const std::function<bool(const OpenShardInfo&)>& due);
  // retention_period_hours 24–8760, ≥ (increase) or ≤ (decrease) the current
  // value. Errors: INVALID_ARGUMENT, NOT_FOUND.
  absl::Status IncreaseStreamRetentionPeriod(
      const v1::IncreaseStreamRetentionPeriodRequest& request);
  absl::Status DecreaseStreamRetentionPeriod(
      const v1::DecreaseStreamRetentionPeriodRequest& request);
  // Switches the stream to stream_mode_details.stream_mode: PROVISIONED puts its shards under
  // Kinesis's per-shard limits, ON_DEMAND takes them off (NOTES.md "Kinesis limits per stream"),
  // from the next call on; the shards' token buckets carry over. One metadata write, as a tags
  // change (see below): the stream does not become UPDATING. Idempotent. Errors:
  // INVALID_ARGUMENT (stream_name; stream_mode_details.stream_mode unset), NOT_FOUND, the write's
  // ("writing stream metadata (nothing was changed): ...").
  absl::Status UpdateStreamMode(const v1::UpdateStreamModeRequest& request);

  // --- Tags and registered consumers (stream_metadata.cc) ----------------
  // Both live in the stream's metadata record, so they survive restarts and
  // go when the stream is deleted. A change writes the whole record (one
  // write, fsynced under sync_writes) and is applied only once written: a failed
  // write changes nothing (INTERNAL / UNAVAILABLE / RESOURCE_EXHAUSTED, "writing
  // stream metadata (nothing was changed): ..."). Changes of one stream are
  // serialized with each other and with reshards, retention changes and
  // delete: a change that meets another in flight waits for it (one metadata
  // write), so none fails for being concurrent, and none makes the stream
  // UPDATING. A change to a stream that is being deleted gets NOT_FOUND.

  // Adds tags, overwriting the value of a key the stream already has.
  // Idempotent. Errors: INVALID_ARGUMENT (stream_name; tags: 1-50 a call; a
  // key of 1-128 characters not starting with "aws:", a value of 0-256, both
  // of Unicode letters, digits, white space and _ . / = + - % @ : (see
  // NOTES.md for "letters"); the stream would have more than 50 tags: nothing
  // is added); NOT_FOUND.
  absl::Status AddTagsToStream(const v1::AddTagsToStreamRequest& request);
  // Removes the tags with these keys; keys the stream does not have are
  // ignored. Idempotent. Errors: INVALID_ARGUMENT (tag_keys: 1-50 keys of
  // 1-128 characters); NOT_FOUND.
  absl::Status RemoveTagsFromStream(const v1::RemoveTagsFromStreamRequest& request);
  // The stream's tags in key order (byte order), after exclusive_start_tag_key
  // when set, at most `limit` (1-50, 0 = 50); has_more_tags when more follow
  // (continue from the last key). Errors: INVALID_ARGUMENT (limit,
  // exclusive_start_tag_key over 128 characters); NOT_FOUND.
  absl::StatusOr<v1::ListTagsForStreamResponse> ListTagsForStream(
      const v1::ListTagsForStreamRequest& request);

  // Registers a consumer: ACTIVE at once (Kinesis: CREATING for a few seconds),
  // created now (wall clock), its ARN made from that time in seconds. Not
  // idempotent. Errors: INVALID_ARGUMENT (consumer_name: 1-128 of
  // [a-zA-Z0-9_.-]); NOT_FOUND; ALREADY_EXISTS (the stream has a consumer of
  // that name); RESOURCE_EXHAUSTED (the stream has 20 consumers, the limit:
  // the message says so).
  absl::StatusOr<v1::RegisterStreamConsumerResponse> RegisterStreamConsumer(
      const v1::RegisterStreamConsumerRequest& request);
  // Deregisters a consumer, named by consumer_arn, or by stream_name and
  // consumer_name, or by all three when they agree. It is gone when the call
  // returns (Kinesis: DELETING for a while). Errors: INVALID_ARGUMENT (neither
  // form given, a malformed consumer_arn, an ARN naming another stream or
  // consumer than the names given); NOT_FOUND (the stream, the consumer, or
  // an ARN of an earlier registration of that name).
  absl::Status DeregisterStreamConsumer(const v1::DeregisterStreamConsumerRequest& request);
  // Describes a consumer named as for DeregisterStreamConsumer; errors as
  // there.
  absl::StatusOr<v1::DescribeStreamConsumerResponse> DescribeStreamConsumer(
      const v1::DescribeStreamConsumerRequest& request);
  // The stream's consumers in name order, at most max_results (1-10000,
  // 0 = 100) and never more than 100 a page; next_token is set when more
  // follow. A request with next_token names the same stream (stream_name is
  // required either way). Tokens expire after 5 minutes. Errors:
  // INVALID_ARGUMENT (max_results; a malformed or forged token, or one of
  // another stream); FAILED_PRECONDITION (an expired token); NOT_FOUND.
  absl::StatusOr<v1::ListStreamConsumersResponse> ListStreamConsumers(
      const v1::ListStreamConsumersRequest& request);

  // --- Retention ---------------------------------------------------------
  // One pass of the retention trimmer: in every shard, range-deletes the
  // records that arrived before now − retention (recording the trimmed-through
  // sequence number in the same batch); a closed shard whose records are all
  // gone and that closed more than the retention period ago leaves the shard
  // set (and ListShards; reads of it are then NOT_FOUND). Example, retention
  // 24 h: a shard split at 10:00 with no records is listed until 10:00 the
  // next day and gone at the first pass after. One write per stream: a
  // stream's trim is applied whole or not at all. Returns the number of
  // records' sequence-number span trimmed (for tests and logs). Errors: when
  // the write of one or more streams fails, the pass still trims every other
  // stream and then returns the first failure's code (INTERNAL / UNAVAILABLE /
  // RESOURCE_EXHAUSTED) with a message naming every failed stream; those are
  // retried by the next pass.
  absl::StatusOr<int64_t> TrimExpiredRecords();

  // Called (with no lock held, on the changing thread) after any change of a
  // stream's shard set: create, delete, split, merge, update-shard-count, and a
  // shard trimmed away. Set once before use; the stream tracker uses it to
  // re-sync leases at once. Pass nullptr to clear.
  void SetChangeListener(std::function<void(const std::string& stream_name)> listener);

  // Exports the store's metrics (store_metrics.h: records and bytes in and out, put latency,
  // throttles, refusals, RocksDB stalls) on `registry`, which must outlive this store. Call once,
  // before serving; a second call is a programmer error (CHECK).
  void EnableMetrics(metrics::Registry& registry);

  // Cluster mode: other front-ends append to the shards too, and nothing in this process hears
  // of it; a reader at a shard's tip finds their records only by reading again (RefreshTip).
  bool others_append() const { return etcd_ != nullptr; }

  struct Stream;
  // A shard's in-memory state (shard_state.h).
  using Shard = ShardState;

 private:
  ShardStore(const ShardStoreOptions& options, Clock& clock, std::unique_ptr<RocksDb> db);
  absl::Status Load();
  // A WriteBatch that keeps the first failed status of its Put/Delete/DeleteRange
  // (store_batch.h): a batch that could not be built whole is never written.
  using Batch = StoreBatch;
  // A batch bounded by options_.max_write_batch_bytes.
  Batch NewBatch(size_t reserve = 0) const;
  // Every write of the store goes through here (the WriteInterceptor seam), synced when
  // options_.sync_writes. A batch holding a failed Put/Delete is not written: its failure is
  // returned.
  rocksdb::Status Write(WriteKind kind, Batch* batch);

  struct RecordView;
  struct PutResult;
  // PutInternal's last step, given the batch holding the call's records: writes it and returns
  // the write's status. nullptr: ShardStore::Write. A staged put adds its writes first; a chained
  // put (PutRecordsStaged) adds the next stream's records and writes the batch there.
  using BatchWriter = std::function<absl::Status(Batch* batch)>;
  // `into`: build into this batch (a chained put) instead of a new one. `whole`: fail the call,
  // writing nothing, when any record cannot be written (throttled, stream deleted) instead of
  // reporting it in `results`, and skip the 5 MiB limit of a PutRecords request.
  absl::Status PutInternal(absl::string_view stream_name, const RecordView* records, int count,
                           bool single, PutResult* results, const BatchWriter* writer = nullptr,
                           Batch* into = nullptr, bool whole = false);
  // PutRecordsStaged from requests[i] on, building into `into` (nullptr for the first).
  absl::Status PutChain(const std::vector<const v1::PutRecordsRequest*>& requests, size_t i,
                        Batch* into, const BatchStage& stage);
  std::shared_ptr<Stream> FindStream(absl::string_view name);
  std::shared_ptr<Stream> FindStreamById(uint64_t id);
  // Increase/DecreaseStreamRetentionPeriod: `increase` says which direction is allowed.
  absl::Status ChangeRetention(absl::string_view stream_name, int hours, bool increase);
  absl::Status ChangeRetentionOnce(absl::string_view stream_name, int hours, bool increase);
  absl::StatusOr<std::shared_ptr<Stream>> GetStream(absl::string_view name);
  absl::StatusOr<std::shared_ptr<Shard>> GetShard(const std::shared_ptr<Stream>& stream,
                                                  absl::string_view shard_id);
  absl::StatusOr<std::pair<std::shared_ptr<Stream>, std::shared_ptr<Shard>>> CursorShard(
      const ShardCursor& cursor);
  // Holds a stream's UPDATING state until it is ended or destroyed (defined in the .cc).
  class UpdatingGuard;
  // Sets the stream UPDATING. Errors: NOT_FOUND (deleted), FAILED_PRECONDITION (already UPDATING).
  absl::StatusOr<UpdatingGuard> BeginUpdate(Stream& stream);
  absl::Status PersistStream(const Stream& stream, int retention_hours);
  // A tags or consumers change (stream_metadata.cc): waits until no other change
  // of the stream's record is in flight (UPDATING or another such change),
  // calls `edit` on a copy of the stream's attributes under its lock (an error
  // from `edit` changes nothing), writes the record holding the copy, and
  // applies the copy once written. Errors: those of GetStream and `edit`;
  // NOT_FOUND when the stream is deleted meanwhile; the write's.
  absl::Status ChangeAttributes(absl::string_view stream_name,
                                const std::function<absl::Status(StreamAttributes&)>& edit);
  absl::Status ChangeAttributesOnce(absl::string_view stream_name,
                                    const std::function<absl::Status(StreamAttributes&)>& edit);
  // TrimExpiredRecords for one stream (one write); returns the span trimmed.
  absl::StatusOr<int64_t> TrimStream(const std::shared_ptr<Stream>& stream, int64_t now_ms);
  // Hands out the next stream id once it is durable ("n" written first).
  absl::StatusOr<uint64_t> AllocateStreamId();
  // Ends `update` once the new shard set is published (before NotifyChange).
  absl::Status ApplyReshard(UpdatingGuard update, const std::shared_ptr<Stream>& stream,
                            const std::vector<std::shared_ptr<Shard>>& parents_to_close,
                            std::vector<std::shared_ptr<Shard>> children);
  void NotifyChange(const std::string& stream_name);

  // --- Metadata writes and cluster mode (cluster.cc) -------------------------------------
  // Writes `change` of `stream`: RocksDB stages it into `batch` (with what the caller staged)
  // and writes it as one write of `kind`; etcd (cluster mode) writes it alone, compared on the
  // stream's revision (CreateStream: on the name being free), and records the new revision in
  // `stream`. The caller holds the stream's UPDATING, creating or changing_metadata state, so
  // no other front-end's change is applied between building `change` and this write. A missing
  // `change.record` is built from `stream` (etcd needs it). Errors: ABORTED when another
  // front-end changed or deleted the stream since (RetryOnConflict re-reads it and runs the
  // call again); ALREADY_EXISTS (a create lost to another front-end's); the write's (`what`).
  absl::Status CommitMetadata(WriteKind kind, Stream& stream, const StreamChange& change, Batch* batch,
                              absl::string_view what);
  // Runs `op`; in cluster mode, while it fails with ABORTED (a lost compare), re-reads the
  // stream `name` from etcd, applies it, and runs `op` again (at most a few times; then the
  // last ABORTED). Without etcd, `op` once.
  absl::Status RetryOnConflict(absl::string_view name, const std::function<absl::Status()>& op);
  // Cluster mode: reads the stream `name` from etcd and applies what it says (ApplyStored or
  // ApplyDeleted). Errors: etcd's.
  absl::Status RefreshStream(absl::string_view name);
  // Cluster mode: makes the in-memory stream `stored.stream.name()` what `stored` says, unless
  // it is already at that revision or later. Waits until no local change of the stream is in
  // flight. Publishes the new shard set; closes, opens and removes shards; wakes their readers.
  void ApplyStored(const StoredStream& stored);
  // Cluster mode: the stream `name` was deleted at `revision` (0: at an unknown revision).
  void ApplyDeleted(absl::string_view name, int64_t revision);
  // A new in-memory stream from its metadata (recovery and cluster mode), not yet published.
  std::shared_ptr<Stream> StreamFromStored(const StoredStream& stored);
  // Cluster mode: ApplyReshard's order for several front-ends (lineage first, then the log,
  // then the ending numbers).
  absl::Status ApplyClusterReshard(UpdatingGuard update, const std::shared_ptr<Stream>& stream,
                                   const std::vector<std::shared_ptr<Shard>>& parents,
                                   std::vector<std::shared_ptr<Shard>> children);
  // Cluster mode: raises `shard`'s visible tip to the log's last record of it (appends of
  // other front-ends move no tip here). Errors: the log's.
  absl::Status RefreshTip(uint64_t stream_id, Shard& shard);
  // Raises `shard`'s tip to `last` if below it and wakes its waiters and watchers (a number the
  // log acknowledged: every record up to it is final).
  void RaiseTip(Shard& shard, uint64_t last);
  // Cluster mode: another front-end (or this one) announced an append (ShardLog::WatchAppends).
  void OnAnnouncedAppend(uint64_t stream_id, uint32_t shard_index, uint64_t last);
  // Cluster mode: finishes the reshards of `stored` left between their lineage write and their
  // ending numbers (parents closed with ending number 0) whose front-end is gone (its writer
  // marker, the parents' closing_owner, no longer exists) or, with `mine_too`, is this one
  // (its own earlier attempt that failed; the caller knows none of its reshards of the stream
  // is in flight). Per reshard: closes its parents in the log again (idempotent: the same close
  // marker, ShardLog::CloseShards) and writes the ending numbers, compared on the stream's
  // revision (a lost compare re-reads: another front-end may have finished it, and its number
  // stays). Reshards of a live front-end are left to it. Returns the stream as etcd has it
  // afterwards (nullopt: deleted meanwhile) and, in `finished`, how many it finished (0 when
  // another front-end was first). Errors: the log's and etcd's (the parents stay closing).
  absl::StatusOr<std::optional<StoredStream>> FinishReshards(StoredStream stored, bool mine_too,
                                                             int* finished);
  // Cluster mode: FinishReshards of stream `name` as etcd has it now, then applies the result.
  absl::Status FinishReshardsOf(const std::string& name, bool mine_too);
  // Cluster mode: asks the watch thread to finish the reshards of stream `name`
  // (FinishReshardsOf), retrying every second until it succeeds.
  void ScheduleFinish(const std::string& name, bool mine_too);
  // Cluster mode, on the watch thread: runs the scheduled finishes that are due.
  void RunScheduledFinishes();
  // The names of the streams with a shard closing (a reshard between lineage and ending).
  std::vector<std::string> StreamsWithClosingShards();
  // Cluster mode: the thread applying other front-ends' changes, from `revision` on.
  void WatchLoop(int64_t revision);
  bool WatchStopped() {
    absl::MutexLock lock(&watch_mu_);
    return stop_watch_;
  }
  absl::Status SplitShardOnce(const v1::SplitShardRequest& request);
  absl::Status MergeShardsOnce(const v1::MergeShardsRequest& request);
  absl::StatusOr<v1::UpdateShardCountResponse> UpdateShardCountOnce(
      const v1::UpdateShardCountRequest& request);
  absl::Status SealStreamOnce(absl::string_view stream_name);
  absl::Status DeleteStreamOnce(const v1::DeleteStreamRequest& request);

  // Records a put call's outcome on metrics_ (when enabled).
  void RecordPut(absl::string_view stream_name, const absl::Status& status,
                 const RecordView* records, int count, const PutResult* results, absl::Time start);

  const ShardStoreOptions options_;
  Clock& clock_;
  std::unique_ptr<RocksDb> db_;
  std::unique_ptr<StoreMetrics> metrics_owner_;
  std::atomic<StoreMetrics*> metrics_{nullptr};  // read lock-free on every put and read
  rocksdb::ColumnFamilyHandle* meta_;
  // The metadata (rocksdb_store_metadata.h), in meta_; null in cluster mode.
  std::unique_ptr<RocksDbStoreMetadata> metadata_;
  // Cluster mode: options_.cluster_metadata (else null), and the thread that applies the
  // changes of other front-ends (WatchLoop) until stop_watch_.
  EtcdStoreMetadata* const etcd_;
  absl::Mutex watch_mu_;
  bool stop_watch_ ABSL_GUARDED_BY(watch_mu_) = false;
  std::thread watch_thread_;
  // Streams whose interrupted reshards the watch thread is to finish (ScheduleFinish): name →
  // mine_too; and when it tries them next (after a failure: a second later).
  std::map<std::string, bool> to_finish_ ABSL_GUARDED_BY(watch_mu_);
  MonotonicTime next_finish_ ABSL_GUARDED_BY(watch_mu_);
  // Cluster mode: the log's announcements of appends by every front-end (OnAnnouncedAppend), so
  // that waiters here wake for records put through another front-end. Ended first on
  // destruction.
  std::unique_ptr<AppendWatch> append_watch_;
  rocksdb::ColumnFamilyHandle* records_;
  // The records (shard_log.h): options_.log, or a RocksDbShardLog over records_.
  std::shared_ptr<ShardLog> log_;
  // Log-numbered logs: the id of the next put call (part of its message ids).
  std::atomic<uint64_t> next_call_{1};
  std::string secret_;  // the token MAC key (tokens.h)
  // GetRecords' per-shard limits (read_limits.h): the server's (options_.shard_read_*), for
  // streams created without a mode, and those of PROVISIONED streams (the server's numbers where
  // it sets them, Kinesis's elsewhere).
  std::unique_ptr<ReadLimits> read_limits_;
  std::unique_ptr<ReadLimits> provisioned_read_limits_;
  // The per-shard write limits (records/s, bytes/s; 0 = unlimited) of a stream whose mode is
  // `mode`, the read limits it is under (nullptr: none), and the mode DescribeStreamSummary
  // reports for it (NOTES.md "Kinesis limits per stream").
  std::pair<double, double> WriteRatesFor(v1::StreamMode mode) const;
  ReadLimits* ReadLimitsFor(v1::StreamMode mode) const;
  v1::StreamMode ModeInForce(v1::StreamMode mode) const;
  // ReadLimitsFor the mode of the stream `stream_id` (nullptr also when it is gone).
  ReadLimits* ReadLimitsOf(uint64_t stream_id);

  // The stream id allocator. Taken before mu_ and only by CreateStream (and Load).
  absl::Mutex id_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  uint64_t next_stream_id_ ABSL_GUARDED_BY(id_mu_) = 1;

  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Stream>, std::less<>> streams_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<Stream>> streams_by_id_ ABSL_GUARDED_BY(mu_);

  absl::Mutex listener_mu_;
  std::function<void(const std::string&)> listener_ ABSL_GUARDED_BY(listener_mu_);
};

// Runs ShardStore::TrimExpiredRecords every `period` on its own thread until
// destroyed. Tests call RunOnce() instead of Start(). `store` and `clock` must
// outlive it. Thread-safe.
class RetentionTrimmer {
 public:
  RetentionTrimmer(ShardStore& store, Clock& clock, absl::Duration period = absl::Minutes(1));
  ~RetentionTrimmer();
  absl::StatusOr<int64_t> RunOnce() { return store_.TrimExpiredRecords(); }
  void Start();

 private:
  ShardStore& store_;
  Clock& clock_;
  const absl::Duration period_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_SHARD_STORE_H_
