// TableStore. Invariants:
//  - by_name_ holds exactly the tables whose metadata is in the "tables" family (a table being
//    created is in creating_ until its write is done; one being deleted stays in by_name_,
//    `deleting`, until its delete is written).
//  - An item key in claimed_ has exactly one write in flight; no other write of that key
//    starts until it is released, so read-check-write is atomic per item.
//  - A table's `writers` counts the item writes in flight on it; DeleteTable waits for zero
//    before its range delete, so no write lands after the delete under the dead table id.
//  - No lock is held across a RocksDB read or write; waits are on mu_, through the injected
//    clock (so tests see who waits: FakeClock::WaitForWaiters).
//  - A table's description changes only in UpdateTable, under mu_, while the table is
//    `updating` and no write is in flight on it (new writes wait in BeginWrites), and only its
//    stream and billing fields: a write reads the description it began with, unlocked.
//  - A write waits for a table's UpdateTable only in BeginWrites, holding no table (its tables
//    are counted all at once, after the wait); an UpdateTable waits only for its own table's
//    writers, and those wait for nothing but item keys, whose holders wait for nothing. So no
//    wait closes a cycle.
//  - streams_ holds exactly the stream records of the "tables" family ("s" keys); an enabled
//    table's stream_name is an ENABLED stream of streams_ (table_streams.cc).
// The item API is in table_store_writes.cc and table_store_reads.cc.
#include "tables/table_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/key_coding.h"
#include "common/status_macros.h"
#include "rocksdb/write_batch.h"
#include "tables/metadata.pb.h"
#include "tables/stream_ids.h"
#include "tables/table_store_internal.h"

namespace tributary::tables {

namespace {

constexpr char kTablesFamily[] = "tables";
constexpr char kItemsFamily[] = "items";
constexpr char kFormatVersion = 1;
constexpr char kNextIdKey[] = "n";

using internal::TableKey;

absl::Status ValidateTableName(absl::string_view name) {
  bool ok = name.size() >= kMinTableNameChars && name.size() <= kMaxTableNameChars;
  for (char c : name) {
    ok = ok && (absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TableName: '", name, "' must be 3-255 characters of [a-zA-Z0-9_.-]"));
  }
  return absl::OkStatus();
}

absl::Status NotFound(absl::string_view name) {
  return absl::NotFoundError(
      absl::StrCat("Requested resource not found: Table: ", name, " not found"));
}

internal::TableMetadata ToMetadata(const TableDescription& d) {
  internal::TableMetadata m;
  m.set_table_id(d.table_id);
  m.set_name(d.spec.name);
  m.mutable_partition_key()->set_name(d.spec.key_schema.partition_key.name);
  m.mutable_partition_key()->set_type(static_cast<int>(d.spec.key_schema.partition_key.type));
  if (d.spec.key_schema.sort_key.has_value()) {
    m.mutable_sort_key()->set_name(d.spec.key_schema.sort_key->name);
    m.mutable_sort_key()->set_type(static_cast<int>(d.spec.key_schema.sort_key->type));
  }
  m.set_billing_mode(static_cast<int>(d.spec.billing_mode));
  m.set_read_capacity_units(d.spec.read_capacity_units);
  m.set_write_capacity_units(d.spec.write_capacity_units);
  m.set_creation_ms(absl::ToUnixMillis(d.creation_time));
  m.set_stream_enabled(d.spec.stream.enabled);
  m.set_stream_view_type(static_cast<int>(d.spec.stream.view_type));
  m.set_stream_label(d.stream_label);
  m.set_stream_name(d.stream_name);
  for (size_t i = 0; i < d.spec.indexes.size(); ++i) {
    const IndexSpec& index = d.spec.indexes[i];
    internal::IndexMetadata* im = m.add_indexes();
    im->set_index_id(d.index_ids[i]);
    im->set_name(index.name);
    im->set_kind(static_cast<int>(index.kind));
    im->mutable_partition_key()->set_name(index.key_schema.partition_key.name);
    im->mutable_partition_key()->set_type(static_cast<int>(index.key_schema.partition_key.type));
    if (index.key_schema.sort_key.has_value()) {
      im->mutable_sort_key()->set_name(index.key_schema.sort_key->name);
      im->mutable_sort_key()->set_type(static_cast<int>(index.key_schema.sort_key->type));
    }
    im->set_projection(static_cast<int>(index.projection));
    for (const std::string& a : index.non_key_attributes) im->add_non_key_attributes(a);
    im->set_read_capacity_units(index.read_capacity_units);
    im->set_write_capacity_units(index.write_capacity_units);
  }
  return m;
}

TableDescription FromMetadata(const internal::TableMetadata& m) {
  TableDescription d;
  d.table_id = m.table_id();
  d.spec.name = m.name();
  d.spec.key_schema.partition_key = {m.partition_key().name(),
                                     static_cast<AttributeValue::Type>(m.partition_key().type())};
  if (m.has_sort_key()) {
    d.spec.key_schema.sort_key =
        KeyAttribute{m.sort_key().name(), static_cast<AttributeValue::Type>(m.sort_key().type())};
  }
  d.spec.billing_mode = static_cast<BillingMode>(m.billing_mode());
  d.spec.read_capacity_units = m.read_capacity_units();
  d.spec.write_capacity_units = m.write_capacity_units();
  d.creation_time = absl::FromUnixMillis(m.creation_ms());
  d.spec.stream.enabled = m.stream_enabled();
  d.spec.stream.view_type = static_cast<StreamViewType>(m.stream_view_type());
  d.stream_label = m.stream_label();
  d.stream_name = m.stream_name();
  for (const internal::IndexMetadata& im : m.indexes()) {
    IndexSpec index;
    index.name = im.name();
    index.kind = static_cast<IndexKind>(im.kind());
    index.key_schema.partition_key = {
        im.partition_key().name(), static_cast<AttributeValue::Type>(im.partition_key().type())};
    if (im.has_sort_key()) {
      index.key_schema.sort_key = KeyAttribute{
          im.sort_key().name(), static_cast<AttributeValue::Type>(im.sort_key().type())};
    }
    index.projection = static_cast<ProjectionType>(im.projection());
    index.non_key_attributes.assign(im.non_key_attributes().begin(),
                                    im.non_key_attributes().end());
    index.read_capacity_units = im.read_capacity_units();
    index.write_capacity_units = im.write_capacity_units();
    d.spec.indexes.push_back(std::move(index));
    d.index_ids.push_back(im.index_id());
  }
  return d;
}

}  // namespace

std::string internal::EncodeTableMetadata(const TableDescription& description) {
  std::string value(1, kFormatVersion);
  ToMetadata(description).AppendToString(&value);
  return value;
}

std::string StreamLabel(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3S", t, absl::UTCTimeZone());
}

std::string StreamNameFor(uint64_t table_id, absl::string_view label) {
  return TableStreamName(table_id, label);
}

const std::vector<std::string>& TableStore::ColumnFamilies() {
  static const std::vector<std::string> families = {kTablesFamily, kItemsFamily};
  return families;
}

TableStore::TableStore(RocksDb& db, Clock& clock, TableStoreOptions options)
    : db_(db),
      clock_(clock),
      options_(options),
      tables_(db.Handle(kTablesFamily)),
      items_(db.Handle(kItemsFamily)) {}

absl::StatusOr<std::unique_ptr<TableStore>> TableStore::Create(RocksDb& db, Clock& clock,
                                                               TableStoreOptions options) {
  std::unique_ptr<TableStore> store(new TableStore(db, clock, options));
  RETURN_IF_ERROR(store->Load());
  return store;
}

absl::Status TableStore::Load() {
  absl::MutexLock lock(&mu_);
  const absl::Time wall_now = clock_.Now();
  const MonotonicTime monotonic_now = clock_.MonotonicNow();
  std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(rocksdb::ReadOptions(), tables_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    const absl::string_view value(it->value().data(), it->value().size());
    if (key == kNextIdKey) {
      if (value.size() != 8) return absl::DataLossError("undecodable next table id");
      next_table_id_ = std::max(next_table_id_, ReadBigEndian64(value));
      continue;
    }
    if (key.starts_with(internal::kStreamKeyPrefix)) {
      RETURN_IF_ERROR(LoadStreamRecord(absl::string_view(key.data(), key.size()), value));
      continue;
    }
    if (key.starts_with(internal::kTokenKeyPrefix)) {
      // A TransactWriteItems token: kept while its window lasts (keys in expiry order, so a
      // token written again later ends with its latest window).
      if (key.size() < 9 || value.size() != 33 || value[0] != internal::kTokenFormatVersion) {
        return absl::DataLossError(absl::StrCat("undecodable transaction token at ",
                                                absl::CEscape(key.ToString())));
      }
      const absl::Time expiry = absl::FromUnixMillis(
          static_cast<int64_t>(ReadBigEndian64(absl::string_view(key.data() + 1, 8))));
      if (expiry <= wall_now) continue;  // ExpireTransactionTokens deletes it
      const std::string token(key.data() + 9, key.size() - 9);
      TokenState& state = tokens_[token];
      state.request = std::string(value.substr(1));
      state.written = true;
      state.expires = monotonic_now + (expiry - wall_now);
      token_expiry_.emplace_back(state.expires, token);
      continue;
    }
    internal::TableMetadata m;
    if (value.empty() || value[0] != kFormatVersion ||
        !m.ParseFromArray(value.data() + 1, static_cast<int>(value.size() - 1))) {
      return absl::DataLossError(absl::StrCat("undecodable table metadata at ", key.ToString()));
    }
    auto table = std::make_shared<Table>();
    table->description = FromMetadata(m);
    next_table_id_ = std::max(next_table_id_, m.table_id() + 1);
    for (const internal::IndexMetadata& index : m.indexes()) {
      next_table_id_ = std::max(next_table_id_, index.index_id() + 1);
    }
    by_name_[m.name()] = std::move(table);
  }
  RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "loading tables"));
  // A table whose stream has no record (written before streams had records) gets one in memory;
  // the next UpdateTable or DeleteTable of the table writes it.
  for (const auto& [name, table] : by_name_) {
    const TableDescription& d = table->description;
    if (d.stream_name.empty() || stream_keys_.count(d.stream_name) > 0) continue;
    TableStreamDescription stream = StreamOf(d);
    stream.creation_time = d.creation_time;
    stream.enabled = d.spec.stream.enabled;
    if (!stream.enabled) stream.disabled_time = clock_.Now();
    stream_keys_[stream.stream_name] = {stream.table_name, stream.label};
    streams_[{stream.table_name, stream.label}] = stream;
  }
  return absl::OkStatus();
}

rocksdb::WriteOptions TableStore::WriteOptions() const {
  rocksdb::WriteOptions w;
  w.sync = options_.sync_writes;
  return w;
}

absl::StatusOr<TableDescription> TableStore::CreateTable(const TableSpec& spec) {
  RETURN_IF_ERROR(ValidateTableName(spec.name));
  RETURN_IF_ERROR(ValidateKeySchema(spec.key_schema));
  RETURN_IF_ERROR(internal::ValidateIndexes(spec));
  if (spec.billing_mode == BillingMode::kProvisioned &&
      (spec.read_capacity_units < 1 || spec.write_capacity_units < 1)) {
    return absl::InvalidArgumentError(
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
        "must both be at least 1 for a PROVISIONED table");
  }
  if (spec.billing_mode == BillingMode::kPayPerRequest &&
      (spec.read_capacity_units != 0 || spec.write_capacity_units != 0)) {
    return absl::InvalidArgumentError(
        "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
        "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
  }
  TableDescription description;
  description.spec = spec;
  description.creation_time = clock_.Now();
  uint64_t next_id_value = 0;
  {
    absl::MutexLock lock(&mu_);
    if (by_name_.count(spec.name) > 0 || creating_.count(spec.name) > 0) {
      return absl::AlreadyExistsError(absl::StrCat("Table already exists: ", spec.name));
    }
    creating_.insert(spec.name);
    description.table_id = next_table_id_++;
    for (size_t i = 0; i < spec.indexes.size(); ++i) {
      description.index_ids.push_back(next_table_id_++);
    }
    next_id_value = next_table_id_;
    if (spec.stream.enabled) LabelNewStream(&description);
  }
  if (spec.stream.enabled) {
    absl::Status created = CreateStreamOf(description);
    if (!created.ok()) {
      absl::MutexLock lock(&mu_);
      creating_.erase(spec.name);
      return created;
    }
  }
  rocksdb::WriteBatch batch;
  std::string next_id;
  AppendBigEndian64(&next_id, next_id_value);
  const std::string value = internal::EncodeTableMetadata(description);
  rocksdb::Status s = batch.Put(tables_, kNextIdKey, next_id);
  if (s.ok()) s = batch.Put(tables_, TableKey(spec.name), value);
  const TableStreamDescription stream = StreamOf(description);
  if (s.ok() && spec.stream.enabled) {
    absl::Status staged = StageStream(stream, &batch);
    if (!staged.ok()) s = rocksdb::Status::Aborted(std::string(staged.message()));
  }
  if (s.ok()) s = db_.db()->Write(WriteOptions(), &batch);
  if (!s.ok() && spec.stream.enabled) {
    // The stream was made for this table only; a failure to delete it leaves an empty stream
    // no table names (its name holds the table id, never reused).
    v1::DeleteStreamRequest drop;
    drop.set_stream_name(description.stream_name);
    options_.streams->DeleteStream(drop).IgnoreError();
  }
  absl::MutexLock lock(&mu_);
  creating_.erase(spec.name);
  // A failed write leaves next_table_id_ advanced: ids are never reused, gaps are harmless.
  RETURN_IF_ERROR(FromRocksDbStatus(s, "creating the table (nothing was created)"));
  auto table = std::make_shared<Table>();
  table->description = description;
  by_name_[spec.name] = table;
  if (spec.stream.enabled) {
    stream_keys_[stream.stream_name] = {stream.table_name, stream.label};
    streams_[{stream.table_name, stream.label}] = stream;
  }
  return description;
}

absl::Status TableStore::CreateStreamOf(const TableDescription& description) {
  if (options_.streams == nullptr) {
    return absl::FailedPreconditionError(
        "StreamSpecification: this server keeps no change streams (no shard store)");
  }
  v1::CreateStreamRequest request;
  request.set_stream_name(description.stream_name);
  request.set_shard_count(options_.table_stream_shards);
  return options_.streams->CreateStream(request);
}

absl::Status TableStore::StageBackfill(const TableDescription& description, size_t i,
                                       rocksdb::WriteBatch* batch) {
  std::string next_id;
  {
    absl::MutexLock lock(&mu_);
    AppendBigEndian64(&next_id, next_table_id_);  // past the new index's id
  }
  RETURN_IF_ERROR(FromRocksDbStatus(batch->Put(tables_, kNextIdKey, next_id), "staging"));
  // The new index alone, to check an item's keys against it only.
  TableSpec only;
  only.key_schema = description.spec.key_schema;
  only.indexes = {description.spec.indexes[i]};
  const std::string begin = ItemPrefix(description.table_id);
  const std::string end = ItemPrefix(description.table_id + 1);
  rocksdb::ReadOptions read;
  const rocksdb::Slice upper(end);
  read.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(read, items_));
  for (it->Seek(begin); it->Valid(); it->Next()) {
    ASSIGN_OR_RETURN(AttributeMap item,
                     DecodeItem(absl::string_view(it->value().data(), it->value().size())));
    if (!internal::InIndex(description.spec.indexes[i], item)) continue;  // sparse
    if (!internal::CheckIndexKeys(only, item).ok()) continue;  // an index key violation
    RETURN_IF_ERROR(FromRocksDbStatus(
        batch->Put(items_, internal::IndexEntryKey(description, i, item),
                   EncodeItem(internal::ProjectToIndex(description.spec, i, item))),
        "adding an index entry to the write batch"));
  }
  return FromRocksDbStatus(it->status(), "reading the table's items for the new index");
}

absl::StatusOr<std::shared_ptr<TableStore::Table>> TableStore::FindTable(absl::string_view name) {
  RETURN_IF_ERROR(ValidateTableName(name));
  absl::MutexLock lock(&mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end() || it->second->deleting) return NotFound(name);
  return it->second;
}

absl::StatusOr<TableDescription> TableStore::DescribeTable(absl::string_view name) {
  ASSIGN_OR_RETURN(std::shared_ptr<Table> table, FindTable(name));
  absl::MutexLock lock(&mu_);  // UpdateTable changes it under mu_
  return table->description;
}

absl::StatusOr<TableList> TableStore::ListTables(absl::string_view exclusive_start_name,
                                                 int limit) {
  if (limit < 1 || limit > kMaxListTablesLimit) {
    return absl::InvalidArgumentError("Limit: must be 1-100");
  }
  TableList list;
  absl::MutexLock lock(&mu_);
  auto it = exclusive_start_name.empty() ? by_name_.begin()
                                         : by_name_.upper_bound(exclusive_start_name);
  for (; it != by_name_.end(); ++it) {
    if (it->second->deleting) continue;
    if (static_cast<int>(list.names.size()) == limit) {
      list.last_evaluated_name = list.names.back();
      break;
    }
    list.names.push_back(it->first);
  }
  return list;
}

absl::StatusOr<TableDescription> TableStore::DeleteTable(absl::string_view name) {
  ASSIGN_OR_RETURN(std::shared_ptr<Table> table, FindTable(name));
  std::optional<TableStreamDescription> stream;  // the enabled stream, DISABLED by the delete
  {
    absl::MutexLock lock(&mu_);
    if (table->deleting) return NotFound(name);
    if (table->updating) {
      return absl::AbortedError(absl::StrCat(
          "Attempt to change a resource which is still in use: Table is being updated: ", name));
    }
    table->deleting = true;
    auto idle = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return table->writers == 0; };
    clock_.AwaitWithDeadline(&mu_, absl::Condition(&idle), MonotonicTime::InfiniteFuture());
    const TableDescription& d = table->description;
    if (d.spec.stream.enabled) {
      auto it = streams_.find({d.spec.name, d.stream_label});
      stream = it != streams_.end() ? it->second : StreamOf(d);
      stream->enabled = false;
      stream->disabled_time = clock_.Now();
    }
  }
  const uint64_t id = table->description.table_id;
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Delete(tables_, TableKey(name));
  const std::string begin = ItemPrefix(id), end = ItemPrefix(id + 1);
  if (s.ok()) s = batch.DeleteRange(items_, begin, end);
  for (uint64_t index_id : table->description.index_ids) {
    if (s.ok()) s = batch.DeleteRange(items_, ItemPrefix(index_id), ItemPrefix(index_id + 1));
  }
  if (s.ok() && stream.has_value()) {
    absl::Status staged = StageStream(*stream, &batch);
    if (!staged.ok()) s = rocksdb::Status::Aborted(std::string(staged.message()));
  }
  if (s.ok()) s = db_.db()->Write(WriteOptions(), &batch);
  TableDescription description;
  {
    absl::MutexLock lock(&mu_);
    if (!s.ok()) {
      table->deleting = false;
      return FromRocksDbStatus(s, "deleting the table (nothing was deleted)");
    }
    by_name_.erase(std::string(name));
    if (stream.has_value()) streams_[{stream->table_name, stream->label}] = *stream;
    description = table->description;
  }
  if (stream.has_value()) CloseStream(stream->stream_name);
  description.status = TableStatus::kDeleting;
  return description;
}

absl::StatusOr<std::vector<std::shared_ptr<TableStore::Table>>> TableStore::BeginWrites(
    const std::vector<absl::string_view>& names) {
  for (absl::string_view name : names) RETURN_IF_ERROR(ValidateTableName(name));
  absl::MutexLock lock(&mu_);
  // Nothing is held while waiting: the tables are looked up again once none is being updated
  // (one may have been deleted meanwhile: DeleteTable refuses a table being updated, but an
  // UpdateTable that ended lets a DeleteTable in before this write).
  auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    bool updating = false;
    for (absl::string_view name : names) {
      auto it = by_name_.find(name);
      if (it == by_name_.end() || it->second->deleting) return true;  // NOT_FOUND at once
      updating = updating || it->second->updating;
    }
    return !updating;
  };
  clock_.AwaitWithDeadline(&mu_, absl::Condition(&ready), MonotonicTime::InfiniteFuture());
  std::vector<std::shared_ptr<Table>> tables;
  tables.reserve(names.size());
  for (absl::string_view name : names) {
    auto it = by_name_.find(name);
    if (it == by_name_.end() || it->second->deleting) return NotFound(name);
    tables.push_back(it->second);
  }
  for (const std::shared_ptr<Table>& table : tables) ++table->writers;
  return tables;
}

}  // namespace tributary::tables
