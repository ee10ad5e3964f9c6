// ShardStore implementation: the facade (see NOTES.md, "The library's files",
// for the other files). Storage layout: storage_format.h; the visible-tip
// protocol and the lock order: shard_state.h. Lock order: ShardStore::mu_ →
// Stream::mu → Shard::mu → Stream::put_mu → Shard::watch_mu. No lock is held
// across a RocksDB write.
#include "shard_store/shard_store.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <filesystem>
#include <list>
#include <optional>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/key_coding.h"
#include "common/status_macros.h"
#include "common/stream_name.h"
#include "glog/logging.h"
#include "rocksdb/slice.h"
#include "rocksdb/write_batch.h"
#include "shard_store/hash_key.h"
#include "shard_store/metadata.pb.h"
#include "shard_store/read_limits.h"
#include "shard_store/rocksdb_shard_log.h"
#include "shard_store/etcd_store_metadata.h"
#include "shard_store/rocksdb_store_metadata.h"
#include "shard_store/store_metadata.h"
#include "shard_store/routing.h"
#include "shard_store/shard_state.h"
#include "shard_store/storage_format.h"
#include "shard_store/store_internal.h"
#include "shard_store/tokens.h"

namespace tributary::shard_store {

namespace {

absl::Status ValidateStreamName(absl::string_view name) {
  return tributary::ValidateStreamName("stream_name", name);
}

std::string FormatSeq(uint64_t v) {
  std::string s;
  AppendDecimal(v, &s);
  return s;
}

}  // namespace

// --- Shard ids (ShardIdFromIndex: hash_key.cc) ---------------------------------

namespace {

bool ShardIndexFromId(absl::string_view id, uint32_t* index) {
  if (id.size() != 20 || id.substr(0, 8) != "shardId-") return false;
  uint64_t v = 0;
  for (char c : id.substr(8)) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v > UINT32_MAX) return false;
  *index = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

// --- In-memory state (shard_state.h, store_internal.h) ----------------------

// --- Construction --------------------------------------------------------------

namespace {

// Whether `dir` holds a RocksDB write-ahead log with anything in it.
bool HasNonEmptyWal(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".log" && entry.is_regular_file(ec) &&
        entry.file_size(ec) > 0) {
      return true;
    }
  }
  return false;
}

// A per-shard rate of a PROVISIONED stream: the server's where it sets one, else Kinesis's.
double OrKinesis(double server_rate, double kinesis_rate) {
  return server_rate > 0 ? server_rate : kinesis_rate;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ShardStore>> ShardStore::Create(const ShardStoreOptions& options,
                                                               Clock& clock) {
  if (options.cluster_metadata != nullptr) {
    // Cluster mode: nothing local (NOTES.md, "Several front-ends over etcd").
    if (options.log == nullptr || options.log->StoreNumbers()) {
      return absl::InvalidArgumentError(
          "stream metadata in etcd (--coordination) needs the records in a shared log "
          "(--log=nats://...): with the records in this process's RocksDB they would be on one "
          "front-end's disk, which the other front-ends cannot read");
    }
    if (!options.extra_column_families.empty() && options.data_dir.empty()) {
      return absl::InvalidArgumentError(
          "data_dir: must be set for extra_column_families (the only use of a RocksDB database "
          "by a store with its metadata in etcd)");
    }
  } else if (options.data_dir.empty()) {
    return absl::InvalidArgumentError("data_dir: must be set");
  }
  if (options.shard_write_records_per_second < 0 || options.shard_write_bytes_per_second < 0) {
    return absl::InvalidArgumentError("shard write limits: must be >= 0 (0 = unlimited)");
  }
  if (options.shard_read_calls_per_second < 0 || options.shard_read_bytes_per_second < 0) {
    return absl::InvalidArgumentError("shard read limits: must be >= 0 (0 = unlimited)");
  }
  if (options.cluster_metadata != nullptr && options.extra_column_families.empty()) {
    std::unique_ptr<ShardStore> store(new ShardStore(options, clock, nullptr));
    RETURN_IF_ERROR(store->Load());
    return store;
  }
  std::vector<std::string> families = {kMetaFamily, kRecordsFamily};
  families.insert(families.end(), options.extra_column_families.begin(),
                  options.extra_column_families.end());
  if (HasNonEmptyWal(options.data_dir)) {
    // A WAL written by a build without the insert hints may hold range
    // deletes that RocksDB 7.8 would replay through a hint (see
    // RecordShardPrefix). Replay it without hints first: recovery flushes
    // what it replays into SST files, so the reopen below replays nothing old.
    ASSIGN_OR_RETURN(std::unique_ptr<RocksDb> plain,
                     RocksDb::Open(options.data_dir, families, options.rocksdb));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<RocksDb> db,
                   RocksDb::Open(options.data_dir, families, StoreRocksDbOptions(options.rocksdb)));
  std::unique_ptr<ShardStore> store(new ShardStore(options, clock, std::move(db)));
  RETURN_IF_ERROR(store->Load());
  return store;
}

ShardStore::ShardStore(const ShardStoreOptions& options, Clock& clock, std::unique_ptr<RocksDb> db)
    : options_(options),
      clock_(clock),
      db_(std::move(db)),
      meta_(db_ != nullptr ? db_->Handle(kMetaFamily) : nullptr),
      metadata_(db_ != nullptr && options.cluster_metadata == nullptr
                    ? std::make_unique<RocksDbStoreMetadata>(db_->db(), meta_)
                    : nullptr),
      etcd_(options.cluster_metadata.get()),
      records_(db_ != nullptr ? db_->Handle(kRecordsFamily) : nullptr),
      log_(options.log != nullptr ? options.log
                                  : std::make_shared<RocksDbShardLog>(db_->db(), records_)),
      read_limits_(std::make_unique<ReadLimits>(options.shard_read_calls_per_second,
                                                options.shard_read_bytes_per_second)),
      provisioned_read_limits_(std::make_unique<ReadLimits>(
          OrKinesis(options.shard_read_calls_per_second, kKinesisShardReadCallsPerSecond),
          OrKinesis(options.shard_read_bytes_per_second, kKinesisShardReadBytesPerSecond))) {}

// --- Per-stream limits (NOTES.md "Kinesis limits per stream") -----------------------

std::pair<double, double> ShardStore::WriteRatesFor(v1::StreamMode mode) const {
  switch (mode) {
    case v1::PROVISIONED:
      return {OrKinesis(options_.shard_write_records_per_second,
                        kKinesisShardWriteRecordsPerSecond),
              OrKinesis(options_.shard_write_bytes_per_second, kKinesisShardWriteBytesPerSecond)};
    case v1::ON_DEMAND:
      return {0, 0};
    default:
      return {options_.shard_write_records_per_second, options_.shard_write_bytes_per_second};
  }
}

ReadLimits* ShardStore::ReadLimitsFor(v1::StreamMode mode) const {
  switch (mode) {
    case v1::PROVISIONED:
      return provisioned_read_limits_.get();
    case v1::ON_DEMAND:
      return nullptr;
    default:
      return read_limits_->enabled() ? read_limits_.get() : nullptr;
  }
}

v1::StreamMode ShardStore::ModeInForce(v1::StreamMode mode) const {
  if (mode == v1::PROVISIONED || mode == v1::ON_DEMAND) return mode;
  const bool server_limits =
      options_.shard_write_records_per_second > 0 || options_.shard_write_bytes_per_second > 0 ||
      options_.shard_read_calls_per_second > 0 || options_.shard_read_bytes_per_second > 0;
  return server_limits ? v1::PROVISIONED : v1::ON_DEMAND;
}

ReadLimits* ShardStore::ReadLimitsOf(uint64_t stream_id) {
  std::shared_ptr<Stream> stream = FindStreamById(stream_id);
  if (stream == nullptr) return nullptr;
  absl::ReaderMutexLock lock(&stream->mu);
  return ReadLimitsFor(stream->attributes.mode);
}

ShardStore::~ShardStore() {
  append_watch_.reset();  // its handler looks streams up
  {
    absl::MutexLock lock(&watch_mu_);
    stop_watch_ = true;
  }
  if (watch_thread_.joinable()) watch_thread_.join();
}

ShardStore::Batch ShardStore::NewBatch(size_t reserve) const {
  return Batch(reserve, options_.max_write_batch_bytes);
}

rocksdb::Status ShardStore::Write(WriteKind kind, Batch* batch) {
  if (!batch->status().ok()) return batch->status();  // never written in part
  if (db_ == nullptr) return rocksdb::Status::NotSupported("cluster mode: no RocksDB to write");
  if (options_.write_interceptor) {
    rocksdb::Status injected = options_.write_interceptor(kind);
    if (!injected.ok()) return injected;
  }
  // One rule for every kind: whatever the store acknowledges (records, streams, reshards,
  // retention, trims) is fsynced first under sync_writes.
  rocksdb::WriteOptions options;
  options.sync = options_.sync_writes;
  return db_->db()->Write(options, batch->batch());
}

// --- Lookups -------------------------------------------------------------------

std::shared_ptr<ShardStore::Stream> ShardStore::FindStream(absl::string_view name) {
  absl::ReaderMutexLock lock(&mu_);
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : it->second;
}

std::shared_ptr<ShardStore::Stream> ShardStore::FindStreamById(uint64_t id) {
  absl::ReaderMutexLock lock(&mu_);
  auto it = streams_by_id_.find(id);
  return it == streams_by_id_.end() ? nullptr : it->second;
}

absl::StatusOr<std::shared_ptr<ShardStore::Stream>> ShardStore::GetStream(absl::string_view name) {
  RETURN_IF_ERROR(ValidateStreamName(name));
  std::shared_ptr<Stream> stream = FindStream(name);
  if (stream == nullptr && etcd_ != nullptr) {
    // Created on another front-end and not yet seen by the watch: ask etcd once.
    RETURN_IF_ERROR(RefreshStream(name));
    stream = FindStream(name);
  }
  if (stream == nullptr) return absl::NotFoundError(absl::StrCat("stream ", name, " not found"));
  return stream;
}

absl::StatusOr<std::shared_ptr<ShardStore::Shard>> ShardStore::GetShard(
    const std::shared_ptr<Stream>& stream, absl::string_view shard_id) {
  uint32_t index;
  if (!ShardIndexFromId(shard_id, &index)) {
    return absl::InvalidArgumentError("shard_id: must be shardId- followed by 12 decimal digits");
  }
  absl::ReaderMutexLock lock(&stream->mu);
  auto it = stream->shards.find(index);
  if (stream->deleted || it == stream->shards.end()) {
    return absl::NotFoundError(
        absl::StrCat("shard ", shard_id, " not found in stream ", stream->name));
  }
  return it->second;
}

absl::StatusOr<std::pair<std::shared_ptr<ShardStore::Stream>, std::shared_ptr<ShardStore::Shard>>>
ShardStore::CursorShard(const ShardCursor& cursor) {
  std::shared_ptr<Stream> stream = FindStreamById(cursor.stream_id);
  if (stream == nullptr) return absl::NotFoundError("the stream was deleted");
  absl::ReaderMutexLock lock(&stream->mu);
  auto it = stream->shards.find(cursor.shard_index);
  if (stream->deleted || it == stream->shards.end()) {
    return absl::NotFoundError(absl::StrCat("shard ", ShardIdFromIndex(cursor.shard_index),
                                            " no longer exists (trimmed away or deleted)"));
  }
  return std::make_pair(stream, it->second);
}

void ShardStore::SetChangeListener(std::function<void(const std::string&)> listener) {
  absl::MutexLock lock(&listener_mu_);
  listener_ = std::move(listener);
}

void ShardStore::NotifyChange(const std::string& stream_name) {
  std::function<void(const std::string&)> listener;
  {
    absl::MutexLock lock(&listener_mu_);
    listener = listener_;
  }
  if (listener) listener(stream_name);
}

// --- Streams ---------------------------------------------------------------------

absl::Status ShardStore::CreateStream(const v1::CreateStreamRequest& request) {
  RETURN_IF_ERROR(ValidateStreamName(request.stream_name()));
  if (request.shard_count() < 1 || request.shard_count() > kMaxShardCount) {
    return absl::InvalidArgumentError("shard_count: must be 1-10000");
  }
  const v1::StreamMode mode = request.stream_mode_details().stream_mode();
  if (!v1::StreamMode_IsValid(mode)) {
    return absl::InvalidArgumentError(
        "stream_mode_details.stream_mode: must be PROVISIONED or ON_DEMAND (or unset)");
  }
  int retention = kDefaultRetentionHours;
  if (request.has_retention_period_hours()) {
    retention = request.retention_period_hours();
    if (retention < kMinRetentionHours || retention > kMaxRetentionHours) {
      return absl::InvalidArgumentError("retention_period_hours: must be 24-8760");
    }
  }
  const int n = request.shard_count();
  auto already_exists = [&] {
    return absl::AlreadyExistsError(
        absl::StrCat("stream ", request.stream_name(), " already exists"));
  };
  if (FindStream(request.stream_name()) != nullptr) return already_exists();
  // The id is durable before anything is written under it, so no id is handed out twice, even
  // after a create whose metadata write failed and a restart (issue 14, item 5).
  ASSIGN_OR_RETURN(const uint64_t id, AllocateStreamId());
  const int64_t now = ToMs(clock_.Now());
  auto stream = std::make_shared<Stream>();
  stream->name = request.stream_name();
  stream->creation_ms = now;
  Batch batch = NewBatch();
  StreamChange change;
  change.name = stream->name;
  change.stream_id = id;
  {
    absl::MutexLock lock(&mu_);
    if (streams_.count(request.stream_name())) return already_exists();
    stream->id = id;
    absl::MutexLock slock(&stream->mu);
    stream->retention_hours = retention;
    stream->next_shard_index = n;
    stream->attributes.mode = mode;
    const absl::uint128 width = kMaxHashKey / n;
    for (int i = 0; i < n; ++i) {
      absl::uint128 start = width * i;
      absl::uint128 end = (i == n - 1) ? kMaxHashKey : width * (i + 1) - 1;
      auto shard = std::make_shared<Shard>(i, start, end, &stream->put_mu);
      shard->created_ms = now;
      absl::MutexLock shlock(&shard->mu);
      change.put_shards.push_back(ShardMeta(*shard));
      stream->shards[i] = std::move(shard);
    }
    change.record = StreamMeta(*stream, retention, n);
    stream->Publish();
    // Reserve the name while writing (no lock held across the write).
    stream->updating = true;
    stream->creating = true;
    streams_[stream->name] = stream;
    streams_by_id_[stream->id] = stream;
  }
  // The log makes room for the records first (a log kept elsewhere); if that fails nothing
  // is written, and a leftover of it is never used again (ids are never reused).
  std::vector<uint32_t> indexes(n);
  for (int i = 0; i < n; ++i) indexes[i] = static_cast<uint32_t>(i);
  absl::Status status =
      WithContext(log_->CreateStream(id, indexes, absl::Hours(retention)), "creating stream's log");
  if (status.ok()) {
    status = CommitMetadata(WriteKind::kCreateStream, *stream, change, &batch,
                            "creating stream (nothing was changed)");
  }
  if (!status.ok()) {
    {
      absl::MutexLock lock(&mu_);
      streams_.erase(stream->name);
      streams_by_id_.erase(stream->id);
    }
    // Puts waiting for the create (see PutInternal) wake and find the stream gone.
    absl::MutexLock slock(&stream->mu);
    stream->deleted = true;
    stream->updating = false;
    stream->creating = false;
    return status;
  }
  {
    absl::MutexLock slock(&stream->mu);
    stream->updating = false;
    stream->creating = false;
  }
  NotifyChange(stream->name);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ShardStore::AllocateStreamId() {
  // id_mu_ is held across this one small write (only CreateStream takes it): allocations reach
  // the log in the order they are handed out, so the stored allocator never moves back.
  if (etcd_ != nullptr) return etcd_->AllocateStreamId();
  absl::MutexLock lock(&id_mu_);
  const uint64_t id = next_stream_id_;
  Batch batch = NewBatch();
  metadata_->StageNextStreamId(&batch, id + 1);
  RETURN_IF_ERROR(FromRocksDbStatus(Write(WriteKind::kStreamId, &batch),
                                    "allocating a stream id (nothing was created)"));
  next_stream_id_ = id + 1;
  return id;
}

absl::StatusOr<ShardStore::UpdatingGuard> ShardStore::BeginUpdate(Stream& stream) {
  absl::MutexLock lock(&stream.mu);
  // A tags or consumers change in flight writes the same record: wait for it (one write).
  auto idle = [&stream]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(stream.mu) { return !stream.changing_metadata; };
  stream.mu.Await(absl::Condition(&idle));
  if (stream.deleted)
    return absl::NotFoundError(absl::StrCat("stream ", stream.name, " not found"));
  if (stream.updating) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stream ", stream.name, " is UPDATING (another reshard or delete is in progress)"));
  }
  stream.updating = true;
  return UpdatingGuard(&stream);
}

absl::Status ShardStore::DeleteStream(const v1::DeleteStreamRequest& request) {
  return RetryOnConflict(request.stream_name(), [&] { return DeleteStreamOnce(request); });
}

absl::Status ShardStore::DeleteStreamOnce(const v1::DeleteStreamRequest& request) {
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(request.stream_name()));
  ASSIGN_OR_RETURN(UpdatingGuard update, BeginUpdate(*stream));
  Batch batch = NewBatch();
  std::vector<std::shared_ptr<Shard>> shards;
  StreamChange change;
  change.name = stream->name;
  change.stream_id = stream->id;
  change.delete_stream = true;
  {
    absl::MutexLock lock(&stream->mu);
    // The consumers are in the stream's record, so they go with it; only when asked to.
    if (!stream->attributes.consumers.empty() && !request.enforce_consumer_deletion()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "stream ", stream->name, " has ", stream->attributes.consumers.size(),
          " registered consumers: deregister them first, or set enforce_consumer_deletion"));
    }
    stream->deleting = true;
    for (auto& [index, shard] : stream->shards) {
      change.removed_shards.push_back(index);
      shards.push_back(shard);
    }
  }
  log_->StageDeleteStream(&batch, stream->id);
  absl::Status status = CommitMetadata(WriteKind::kDeleteStream, *stream, change, &batch,
                                       "deleting stream (nothing was changed)");
  if (!status.ok()) {
    {
      absl::MutexLock lock(&stream->mu);
      stream->deleting = false;
    }
    return status;
  }
  {
    absl::MutexLock lock(&mu_);
    streams_.erase(stream->name);
    streams_by_id_.erase(stream->id);
  }
  {
    absl::MutexLock lock(&stream->mu);
    stream->deleted = true;
    stream->routing = std::make_shared<Routing>();
    ++stream->routing_version;
    update.EndLocked(*stream);
  }
  for (auto& shard : shards) {
    {
      absl::MutexLock lock(&shard->mu);
      absl::MutexLock plock(shard->put_mu);
      shard->removed = true;
    }
    shard->Notify();
  }
  // The records kept elsewhere go after the metadata (the stream is gone for the store either
  // way; its id is never reused, so a leftover is never read).
  if (absl::Status dropped = log_->DeleteStream(stream->id); !dropped.ok()) {
    LOG(WARNING) << "stream " << stream->name << " deleted, but its records were not: " << dropped;
  }
  NotifyChange(stream->name);
  return absl::OkStatus();
}

absl::StatusOr<v1::DescribeStreamSummaryResponse> ShardStore::DescribeStreamSummary(
    const v1::DescribeStreamSummaryRequest& request) {
  ASSIGN_OR_RETURN(std::shared_ptr<Stream> stream, GetStream(request.stream_name()));
  v1::DescribeStreamSummaryResponse response;
  v1::StreamDescriptionSummary* s = response.mutable_stream_description_summary();
  s->set_stream_name(stream->name);
  s->set_stream_arn(StreamArn(stream->name));
  SetTimestamp(stream->creation_ms, s->mutable_stream_creation_timestamp());
  absl::ReaderMutexLock lock(&stream->mu);
  s->set_stream_status(stream->Status());
  s->set_retention_period_hours(stream->retention_hours);
  s->set_open_shard_count(static_cast<int32_t>(stream->routing->shards.size()));
  s->set_consumer_count(static_cast<int32_t>(stream->attributes.consumers.size()));
  s->mutable_stream_mode_details()->set_stream_mode(ModeInForce(stream->attributes.mode));
  return response;
}

absl::StatusOr<v1::ListStreamsResponse> ShardStore::ListStreams(
    const v1::ListStreamsRequest& request) {
  if (request.limit() < 0 || request.limit() > 10000) {
    return absl::InvalidArgumentError("limit: must be 1-10000 (0 = 100)");
  }
  const int limit = request.limit() == 0 ? 100 : request.limit();
  std::string start = request.exclusive_start_stream_name();
  if (!request.next_token().empty()) {
    if (!start.empty()) {
      return absl::InvalidArgumentError(
          "next_token: cannot be combined with exclusive_start_stream_name");
    }
    ASSIGN_OR_RETURN(start, DecodeListStreamsToken(request.next_token()));
  }
  v1::ListStreamsResponse response;
  absl::ReaderMutexLock lock(&mu_);
  auto it = start.empty() ? streams_.begin() : streams_.upper_bound(start);
  for (; it != streams_.end() && response.stream_names_size() < limit; ++it) {
    response.add_stream_names(it->first);
    v1::StreamSummary* s = response.add_stream_summaries();
    s->set_stream_name(it->first);
    s->set_stream_arn(StreamArn(it->first));
    {
      absl::ReaderMutexLock slock(&it->second->mu);
      s->set_stream_status(it->second->Status());
      s->mutable_stream_mode_details()->set_stream_mode(
          ModeInForce(it->second->attributes.mode));
    }
    SetTimestamp(it->second->creation_ms, s->mutable_stream_creation_timestamp());
  }
  if (it != streams_.end()) {
    response.set_has_more_streams(true);
    response.set_next_token(EncodeListStreamsToken(*response.stream_names().rbegin()));
  }
  return response;
}

// --- ListShards --------------------------------------------------------------------

absl::StatusOr<v1::ListShardsResponse> ShardStore::ListShards(
    const v1::ListShardsRequest& request) {
  if (request.max_results() < 0 || request.max_results() > 10000) {
    return absl::InvalidArgumentError("max_results: must be 1-10000 (0 = 1000)");
  }
  const int max_results = request.max_results() == 0 ? 1000 : request.max_results();
  const int64_t now = ToMs(clock_.Now());
  std::shared_ptr<Stream> stream;
  v1::ShardFilterType filter = v1::SHARD_FILTER_TYPE_UNSPECIFIED;
  int64_t after_index = -1;  // list shards with index > after_index
  int64_t filter_ms = 0;
  if (!request.next_token().empty()) {
    if (!request.stream_name().empty() || !request.exclusive_start_shard_id().empty() ||
        request.has_shard_filter()) {
      return absl::InvalidArgumentError(
          "next_token: cannot be combined with stream_name, exclusive_start_shard_id or "
          "shard_filter (the token carries them)");
    }
    ASSIGN_OR_RETURN(const ListShardsToken token,
                     DecodeListShardsToken(secret_, request.next_token(), now));
    after_index = token.after_index;
    filter = token.filter;
    filter_ms = token.filter_ms;
    stream = FindStreamById(token.stream_id);
    if (stream == nullptr) return absl::NotFoundError("the stream was deleted");
  } else {
    ASSIGN_OR_RETURN(stream, GetStream(request.stream_name()));
    if (!request.exclusive_start_shard_id().empty()) {
      uint32_t index;
      if (!ShardIndexFromId(request.exclusive_start_shard_id(), &index)) {
        return absl::InvalidArgumentError(
            "exclusive_start_shard_id: must be shardId- followed by 12 decimal digits");
      }
      after_index = index;
    }
    if (request.has_shard_filter()) {
      const v1::ShardFilter& f = request.shard_filter();
      filter = f.type();
      switch (f.type()) {
        case v1::AFTER_SHARD_ID: {
          uint32_t index;
          if (!ShardIndexFromId(f.shard_id(), &index)) {
            return absl::InvalidArgumentError(
                "shard_filter.shard_id: required for AFTER_SHARD_ID, shardId- and 12 digits");
          }
          after_index = std::max<int64_t>(after_index, index);
          break;
        }
        case v1::AT_TRIM_HORIZON:
        case v1::FROM_TRIM_HORIZON:
        case v1::AT_LATEST:
          if (!f.shard_id().empty() || f.has_timestamp()) {
            return absl::InvalidArgumentError(
                "shard_filter: shard_id and timestamp are only for AFTER_SHARD_ID / timestamps");
          }
          break;
        case v1::AT_TIMESTAMP_FILTER:
        case v1::FROM_TIMESTAMP:
          if (!f.has_timestamp()) {
            return absl::InvalidArgumentError(
                "shard_filter.timestamp: required for AT_TIMESTAMP / FROM_TIMESTAMP");
          }
          filter_ms = TimestampMs(f.timestamp());
          break;
        default:
          return absl::InvalidArgumentError("shard_filter.type: must be a ShardFilterType");
      }
    }
  }
  v1::ListShardsResponse response;
  absl::ReaderMutexLock lock(&stream->mu);
  if (stream->deleted) return absl::NotFoundError("the stream was deleted");
  const int64_t horizon_ms = now - int64_t{stream->retention_hours} * 3600 * 1000;
  auto it = after_index < 0 ? stream->shards.begin()
                            : stream->shards.upper_bound(static_cast<uint32_t>(after_index));
  int64_t last_index = -1;
  for (; it != stream->shards.end(); ++it) {
    Shard& shard = *it->second;
    absl::MutexLock shlock(&shard.mu);
    // Open during [created, closed) (closed = ∞ when open).
    auto open_at = [&](int64_t t) {
      t = std::max(t, stream->creation_ms);
      return shard.created_ms <= t && (!shard.closed || shard.closed_ms > t);
    };
    bool keep = true;
    switch (filter) {
      case v1::AT_TRIM_HORIZON:
        keep = open_at(horizon_ms);
        break;
      case v1::AT_LATEST:
        keep = !shard.closed;
        break;
      case v1::AT_TIMESTAMP_FILTER:
        keep = open_at(filter_ms);
        break;
      case v1::FROM_TIMESTAMP:
        keep = !shard.closed || shard.closed_ms >= filter_ms;
        break;
      default:
        break;
    }
    if (!keep) continue;
    if (response.shards_size() == max_results) break;
    v1::Shard* out = response.add_shards();
    out->set_shard_id(shard.id);
    if (shard.parent_index >= 0) out->set_parent_shard_id(ShardIdFromIndex(shard.parent_index));
    if (shard.adjacent_parent_index >= 0) {
      out->set_adjacent_parent_shard_id(ShardIdFromIndex(shard.adjacent_parent_index));
    }
    *out->mutable_hash_key_range() = shard.Range();
    out->mutable_sequence_number_range()->set_starting_sequence_number(
        FormatSeq(shard.starting_sequence_number));
    if (shard.closed) {
      out->mutable_sequence_number_range()->set_ending_sequence_number(FormatSeq(shard.ending_seq));
    }
    last_index = shard.index;
  }
  if (it != stream->shards.end() && last_index >= 0) {
    response.set_next_token(
        EncodeListShardsToken(secret_, {stream->id, last_index, filter, filter_ms}, now));
  }
  return response;
}

}  // namespace tributary::shard_store
