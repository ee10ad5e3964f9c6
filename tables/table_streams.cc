// The streams of tables: UpdateTable (a stream turned on or off, billing changes), the record of
// every stream a table had ("s" + stream name in the "tables" family), ListStreams and
// DescribeStream, and the upkeep of DISABLED streams (ExpireStreams, TableStreamJanitor).
// The invariants are table_store.cc's (top); in particular a table's description changes only
// here, under mu_, while the table is `updating` and has no write in flight.
//
// Turning a stream off is written first (the table metadata and the stream's record, one
// batch) and its shards are closed after: a crash or a failed close in between leaves a DISABLED
// stream with open shards that nothing writes to (writes follow the table's description), and
// ExpireStreams closes it on its next pass.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "rocksdb/write_batch.h"
#include "tables/metadata.pb.h"
#include "tables/table_store.h"
#include "tables/table_store_internal.h"

namespace tributary::tables {

namespace {

constexpr char kStreamFormatVersion = 1;

using internal::StreamKey;

internal::TableStreamMetadata ToMetadata(const TableStreamDescription& s) {
  internal::TableStreamMetadata m;
  m.set_stream_name(s.stream_name);
  m.set_table_name(s.table_name);
  m.set_table_id(s.table_id);
  m.set_label(s.label);
  m.set_view_type(static_cast<int>(s.view_type));
  m.mutable_partition_key()->set_name(s.key_schema.partition_key.name);
  m.mutable_partition_key()->set_type(static_cast<int>(s.key_schema.partition_key.type));
  if (s.key_schema.sort_key.has_value()) {
    m.mutable_sort_key()->set_name(s.key_schema.sort_key->name);
    m.mutable_sort_key()->set_type(static_cast<int>(s.key_schema.sort_key->type));
  }
  m.set_creation_ms(absl::ToUnixMillis(s.creation_time));
  m.set_disabled_ms(s.enabled ? 0 : std::max<int64_t>(1, absl::ToUnixMillis(s.disabled_time)));
  return m;
}

TableStreamDescription FromMetadata(const internal::TableStreamMetadata& m) {
  TableStreamDescription s;
  s.stream_name = m.stream_name();
  s.table_name = m.table_name();
  s.table_id = m.table_id();
  s.label = m.label();
  s.view_type = static_cast<StreamViewType>(m.view_type());
  s.key_schema.partition_key = {m.partition_key().name(),
                                static_cast<AttributeValue::Type>(m.partition_key().type())};
  if (m.has_sort_key()) {
    s.key_schema.sort_key =
        KeyAttribute{m.sort_key().name(), static_cast<AttributeValue::Type>(m.sort_key().type())};
  }
  s.creation_time = absl::FromUnixMillis(m.creation_ms());
  s.enabled = m.disabled_ms() == 0;
  if (!s.enabled) s.disabled_time = absl::FromUnixMillis(m.disabled_ms());
  return s;
}

absl::Status StreamNotFound(absl::string_view what) {
  return absl::NotFoundError(
      absl::StrCat("Requested resource not found: Stream: ", what, " not found"));
}

absl::Status TableNotFound(absl::string_view name) {
  return absl::NotFoundError(
      absl::StrCat("Requested resource not found: Table: ", name, " not found"));
}

absl::Status Invalid(absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("One or more parameter values were invalid: ", message));
}

}  // namespace

TableStreamDescription TableStore::StreamOf(const TableDescription& d) {
  TableStreamDescription s;
  s.stream_name = d.stream_name;
  s.table_name = d.spec.name;
  s.table_id = d.table_id;
  s.label = d.stream_label;
  s.view_type = d.spec.stream.view_type;
  s.key_schema = d.spec.key_schema;
  absl::Time t;
  std::string error;
  if (absl::ParseTime("%Y-%m-%dT%H:%M:%E3S", d.stream_label, absl::UTCTimeZone(), &t, &error)) {
    s.creation_time = t;
  } else {
    s.creation_time = d.creation_time;
  }
  return s;
}

void TableStore::LabelNewStream(TableDescription* d) {
  absl::Time t = absl::FromUnixMillis(absl::ToUnixMillis(clock_.Now()));
  // Labels of one table name are ISO 8601 times of one length: their byte order is time order.
  auto it = streams_.lower_bound({d->spec.name, ""});
  for (; it != streams_.end() && it->first.first == d->spec.name; ++it) {
    if (t <= it->second.creation_time) t = it->second.creation_time + absl::Milliseconds(1);
  }
  d->stream_label = StreamLabel(t);
  d->stream_name = StreamNameFor(d->table_id, d->stream_label);
}

absl::Status TableStore::StageStream(const TableStreamDescription& stream,
                                     rocksdb::WriteBatch* batch) {
  std::string value(1, kStreamFormatVersion);
  ToMetadata(stream).AppendToString(&value);
  return FromRocksDbStatus(batch->Put(tables_, StreamKey(stream.stream_name), value),
                           "adding the stream's record to the write batch");
}

absl::Status TableStore::LoadStreamRecord(absl::string_view key, absl::string_view value) {
  internal::TableStreamMetadata m;
  if (value.empty() || value[0] != kStreamFormatVersion ||
      !m.ParseFromArray(value.data() + 1, static_cast<int>(value.size() - 1))) {
    return absl::DataLossError(absl::StrCat("undecodable table stream record at ", key));
  }
  TableStreamDescription stream = FromMetadata(m);
  stream_keys_[stream.stream_name] = {stream.table_name, stream.label};
  streams_[{stream.table_name, stream.label}] = std::move(stream);
  return absl::OkStatus();
}

void TableStore::CloseStream(const std::string& stream_name) {
  absl::Status sealed =
      options_.streams == nullptr ? absl::OkStatus() : options_.streams->SealStream(stream_name);
  // A failure is not the caller's: the stream is DISABLED already, nothing writes to it, and
  // ExpireStreams closes every DISABLED stream not in sealed_.
  if (!sealed.ok() && !absl::IsNotFound(sealed)) return;
  absl::MutexLock lock(&mu_);
  sealed_.insert(stream_name);
}

absl::StatusOr<TableDescription> TableStore::UpdateTable(absl::string_view name,
                                                         const TableUpdate& update) {
  const bool index_change = update.create_index.has_value() || update.delete_index.has_value();
  const bool other_change = update.stream || update.billing_mode ||
                            update.read_capacity_units || update.write_capacity_units;
  if (!index_change && !other_change) {
    return absl::InvalidArgumentError(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
        "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
  }
  if (update.create_index.has_value() && update.delete_index.has_value()) {
    return absl::ResourceExhaustedError(kOneIndexChange);
  }
  if (index_change && other_change) {
    return Invalid(
        "an index can be created or deleted only by an UpdateTable call that changes nothing "
        "else");
  }
  if (update.create_index.has_value() && update.create_index->kind != IndexKind::kGlobal) {
    return Invalid("only global secondary indexes can be created by UpdateTable");
  }
  if (update.read_capacity_units.has_value() != update.write_capacity_units.has_value()) {
    return Invalid("ProvisionedThroughput needs both ReadCapacityUnits and WriteCapacityUnits");
  }
  const bool units = update.read_capacity_units.has_value();
  if (units && (*update.read_capacity_units < 1 || *update.write_capacity_units < 1)) {
    return Invalid("ReadCapacityUnits and WriteCapacityUnits must both be at least 1");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Table> table, FindTable(name));
  TableDescription next;
  std::optional<TableStreamDescription> created, disabled;
  std::optional<size_t> created_index;       // in next.spec.indexes
  std::optional<uint64_t> deleted_index_id;
  {
    absl::MutexLock lock(&mu_);
    if (table->deleting) return TableNotFound(name);
    if (table->updating) {
      return absl::AbortedError(absl::StrCat(
          "Attempt to change a resource which is still in use: Table is being updated: ", name));
    }
    const TableDescription& current = table->description;
    next = current;
    if (update.stream.has_value()) {
      if (update.stream->enabled && current.spec.stream.enabled) {
        return absl::InvalidArgumentError(
            absl::StrCat("Table already has an enabled stream: TableName: ", name));
      }
      if (!update.stream->enabled && !current.spec.stream.enabled) {
        return absl::InvalidArgumentError(
            absl::StrCat("Table has no enabled stream to disable: TableName: ", name));
      }
      if (update.stream->enabled && options_.streams == nullptr) {
        return absl::FailedPreconditionError(
            "StreamSpecification: this server keeps no change streams (no shard store)");
      }
      next.spec.stream = *update.stream;
      if (update.stream->enabled) {
        LabelNewStream(&next);
        created = StreamOf(next);
      } else {
        next.spec.stream.view_type = current.spec.stream.view_type;
        auto it = streams_.find({current.spec.name, current.stream_label});
        disabled = it != streams_.end() ? it->second : StreamOf(current);
        disabled->enabled = false;
        disabled->disabled_time = clock_.Now();
      }
    }
    if (update.create_index.has_value()) {
      // A key attribute the table or another index names keeps its type.
      std::map<std::string, AttributeValue::Type> types;
      auto add = [&](const KeySchema& k) {
        types.emplace(k.partition_key.name, k.partition_key.type);
        if (k.sort_key.has_value()) types.emplace(k.sort_key->name, k.sort_key->type);
      };
      add(current.spec.key_schema);
      for (const IndexSpec& index : current.spec.indexes) add(index.key_schema);
      const KeySchema& k = update.create_index->key_schema;
      for (const KeyAttribute* a : {&k.partition_key, k.sort_key ? &*k.sort_key : nullptr}) {
        if (a == nullptr) continue;
        auto it = types.find(a->name);
        if (it != types.end() && it->second != a->type) {
          return Invalid(absl::StrCat("Cannot change the type of key attribute ", a->name,
                                      " (", TypeName(it->second), ") to ", TypeName(a->type)));
        }
      }
      next.spec.indexes.push_back(*update.create_index);
      RETURN_IF_ERROR(internal::ValidateIndexes(next.spec));
      next.index_ids.push_back(next_table_id_++);
      created_index = next.spec.indexes.size() - 1;
    }
    if (update.delete_index.has_value()) {
      std::optional<size_t> i = internal::FindIndex(current.spec, *update.delete_index);
      if (!i.has_value()) {
        return absl::NotFoundError(absl::StrCat("Requested resource not found: Index: ",
                                                *update.delete_index, " not found in table ",
                                                name));
      }
      if (current.spec.indexes[*i].kind != IndexKind::kGlobal) {
        return Invalid(absl::StrCat("a local secondary index cannot be deleted: ",
                                    *update.delete_index));
      }
      deleted_index_id = current.index_ids[*i];
      next.spec.indexes.erase(next.spec.indexes.begin() + *i);
      next.index_ids.erase(next.index_ids.begin() + *i);
    }
    const BillingMode mode = update.billing_mode.value_or(current.spec.billing_mode);
    next.spec.billing_mode = mode;
    if (mode == BillingMode::kPayPerRequest) {
      if (units) {
        return Invalid(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode "
            "is PAY_PER_REQUEST");
      }
      next.spec.read_capacity_units = next.spec.write_capacity_units = 0;
    } else if (current.spec.billing_mode == BillingMode::kPayPerRequest && !units) {
      return absl::InvalidArgumentError(
          "One or more parameter values were invalid: ProvisionedThroughput must be specified "
          "when BillingMode is PROVISIONED");
    } else if (units) {
      if (current.spec.billing_mode == BillingMode::kProvisioned &&
          *update.read_capacity_units == current.spec.read_capacity_units &&
          *update.write_capacity_units == current.spec.write_capacity_units) {
        return absl::InvalidArgumentError(absl::StrCat(
            "The provisioned throughput for the table will not change. The requested value "
            "equals the current value. Current ReadCapacityUnits provisioned for the table: ",
            current.spec.read_capacity_units, ". Requested ReadCapacityUnits: ",
            *update.read_capacity_units, ". Current WriteCapacityUnits provisioned for the table: ",
            current.spec.write_capacity_units,
            ". Requested WriteCapacityUnits: ", *update.write_capacity_units, "."));
      }
      next.spec.read_capacity_units = *update.read_capacity_units;
      next.spec.write_capacity_units = *update.write_capacity_units;
    }
    table->updating = true;
    auto idle = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return table->writers == 0; };
    clock_.AwaitWithDeadline(&mu_, absl::Condition(&idle), MonotonicTime::InfiniteFuture());
  }
  auto end_update = [&] {
    absl::MutexLock lock(&mu_);
    table->updating = false;
  };
  if (created.has_value()) {
    absl::Status s = CreateStreamOf(next);
    if (!s.ok()) {
      end_update();
      return s;
    }
  }
  rocksdb::WriteBatch batch;
  absl::Status staged = FromRocksDbStatus(
      batch.Put(tables_, internal::TableKey(name), internal::EncodeTableMetadata(next)),
      "staging the table");
  if (staged.ok() && created.has_value()) staged = StageStream(*created, &batch);
  if (staged.ok() && disabled.has_value()) staged = StageStream(*disabled, &batch);
  if (staged.ok() && created_index.has_value()) {
    staged = StageBackfill(next, *created_index, &batch);  // no write of the table in flight
  }
  if (staged.ok() && deleted_index_id.has_value()) {
    staged = FromRocksDbStatus(batch.DeleteRange(items_, ItemPrefix(*deleted_index_id),
                                                 ItemPrefix(*deleted_index_id + 1)),
                               "staging the index's entries' delete");
  }
  if (staged.ok()) {
    staged = FromRocksDbStatus(db_.db()->Write(WriteOptions(), &batch),
                               "updating the table (nothing was changed)");
  }
  if (!staged.ok()) {
    if (created.has_value()) {
      // Made for this update only; a failed delete leaves an empty stream no table names.
      v1::DeleteStreamRequest drop;
      drop.set_stream_name(created->stream_name);
      options_.streams->DeleteStream(drop).IgnoreError();
    }
    end_update();
    return staged;
  }
  {
    absl::MutexLock lock(&mu_);
    TableDescription& d = table->description;
    d.spec.stream = next.spec.stream;
    d.spec.billing_mode = next.spec.billing_mode;
    d.spec.read_capacity_units = next.spec.read_capacity_units;
    d.spec.write_capacity_units = next.spec.write_capacity_units;
    d.stream_label = next.stream_label;
    d.stream_name = next.stream_name;
    d.spec.indexes = next.spec.indexes;
    d.index_ids = next.index_ids;
    for (const auto* s : {created ? &*created : nullptr, disabled ? &*disabled : nullptr}) {
      if (s == nullptr) continue;
      stream_keys_[s->stream_name] = {s->table_name, s->label};
      streams_[{s->table_name, s->label}] = *s;
    }
    table->updating = false;
  }
  if (disabled.has_value()) CloseStream(disabled->stream_name);
  return next;
}

absl::StatusOr<TableStreamList> TableStore::ListStreams(absl::string_view table_name,
                                                        absl::string_view exclusive_start_table,
                                                        absl::string_view exclusive_start_label,
                                                        int limit) {
  if (limit < 1 || limit > 100) return absl::InvalidArgumentError("Limit: must be 1-100");
  TableStreamList list;
  absl::MutexLock lock(&mu_);
  auto it = streams_.begin();
  if (!table_name.empty()) it = streams_.lower_bound({std::string(table_name), ""});
  if (!exclusive_start_table.empty()) {
    auto after = streams_.upper_bound(
        {std::string(exclusive_start_table), std::string(exclusive_start_label)});
    if (it == streams_.end() || (after != streams_.end() && it->first < after->first)) it = after;
    if (after == streams_.end()) it = after;
  }
  for (; it != streams_.end(); ++it) {
    if (!table_name.empty() && it->first.first != table_name) break;
    if (static_cast<int>(list.streams.size()) == limit) {
      list.more = true;
      break;
    }
    list.streams.push_back(it->second);
  }
  return list;
}

absl::StatusOr<TableStreamDescription> TableStore::DescribeStream(absl::string_view table_name,
                                                                  absl::string_view label) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find({std::string(table_name), std::string(label)});
  if (it == streams_.end()) {
    return StreamNotFound(absl::StrCat("table/", table_name, "/stream/", label));
  }
  return it->second;
}

absl::StatusOr<TableStreamDescription> TableStore::DescribeStreamByName(
    absl::string_view stream_name) {
  absl::MutexLock lock(&mu_);
  auto key = stream_keys_.find(stream_name);
  if (key == stream_keys_.end()) return StreamNotFound(stream_name);
  return streams_.at(key->second);
}

absl::StatusOr<int> TableStore::ExpireStreams() {
  const absl::Time now = clock_.Now();
  std::vector<std::string> to_seal, to_delete;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, stream] : streams_) {
      if (stream.enabled) continue;
      if (now - stream.disabled_time >= options_.disabled_stream_retention) {
        to_delete.push_back(stream.stream_name);
      } else if (sealed_.count(stream.stream_name) == 0) {
        to_seal.push_back(stream.stream_name);
      }
    }
  }
  absl::Status first_error;
  auto keep = [&first_error](absl::Status s) {
    if (first_error.ok() && !s.ok()) first_error = std::move(s);
  };
  for (const std::string& name : to_seal) {
    absl::Status s =
        options_.streams == nullptr ? absl::OkStatus() : options_.streams->SealStream(name);
    if (s.ok() || absl::IsNotFound(s)) {
      absl::MutexLock lock(&mu_);
      sealed_.insert(name);
    } else {
      keep(absl::Status(s.code(), absl::StrCat("closing the shards of ", name, ": ", s.message())));
    }
  }
  int deleted = 0;
  for (const std::string& name : to_delete) {
    if (options_.streams != nullptr) {
      v1::DeleteStreamRequest drop;
      drop.set_stream_name(name);
      drop.set_enforce_consumer_deletion(true);
      absl::Status s = options_.streams->DeleteStream(drop);
      if (!s.ok() && !absl::IsNotFound(s)) {
        keep(absl::Status(s.code(), absl::StrCat("deleting ", name, ": ", s.message())));
        continue;
      }
    }
    rocksdb::WriteBatch batch;
    absl::Status s = FromRocksDbStatus(batch.Delete(tables_, StreamKey(name)), "staging");
    if (s.ok()) {
      s = FromRocksDbStatus(db_.db()->Write(WriteOptions(), &batch),
                            absl::StrCat("deleting the record of ", name));
    }
    if (!s.ok()) {
      keep(s);
      continue;
    }
    absl::MutexLock lock(&mu_);
    auto key = stream_keys_.find(name);
    if (key != stream_keys_.end()) {
      streams_.erase(key->second);
      stream_keys_.erase(key);
    }
    sealed_.erase(name);
    ++deleted;
  }
  if (!first_error.ok()) return first_error;
  return deleted;
}

absl::StatusOr<int> TableStore::RollOverStreamShards() {
  const absl::Duration period = options_.stream_shard_rollover;
  if (options_.streams == nullptr || period <= absl::ZeroDuration()) return 0;
  std::vector<std::string> enabled;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, stream] : streams_) {
      if (stream.enabled) enabled.push_back(stream.stream_name);
    }
  }
  const absl::Time now = clock_.Now();
  auto due = [&](const shard_store::ShardStore::OpenShardInfo& shard) {
    if (shard.has_parent) return now - shard.created >= period;
    // The stream's first shards: the one starting at K after P × (1 − K / 2^128).
    const double start = static_cast<double>(absl::Uint128High64(shard.starting_hash_key)) /
                         18446744073709551616.0;  // 2^64
    return now - shard.created >= period * (1.0 - start);
  };
  absl::Status first_error;
  int rolled = 0;
  for (const std::string& name : enabled) {
    absl::StatusOr<std::vector<std::string>> shards = options_.streams->RollOverShards(name, due);
    if (shards.ok()) {
      rolled += static_cast<int>(shards->size());
    } else if (!absl::IsNotFound(shards.status()) &&
               !absl::IsFailedPrecondition(shards.status()) && first_error.ok()) {
      first_error = absl::Status(shards.status().code(),
                                 absl::StrCat("rolling over the shards of ", name, ": ",
                                              shards.status().message()));
    }
  }
  if (!first_error.ok()) return first_error;
  return rolled;
}

absl::Status TableStreamJanitor::RunOnce() {
  absl::Status rolled = store_.RollOverStreamShards().status();
  absl::Status expired = store_.ExpireStreams().status();
  absl::Status tokens = store_.ExpireTransactionTokens();
  return !rolled.ok() ? rolled : !expired.ok() ? expired : tokens;
}

TableStreamJanitor::TableStreamJanitor(TableStore& store, Clock& clock, absl::Duration period)
    : store_(store), clock_(clock), period_(period) {}

TableStreamJanitor::~TableStreamJanitor() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void TableStreamJanitor::Start() {
  thread_ = std::thread([this] {
    absl::MutexLock lock(&mu_);
    while (!stop_) {
      mu_.Unlock();
      absl::Status result = RunOnce();
      if (!result.ok()) LOG(WARNING) << "table stream upkeep: " << result;
      mu_.Lock();
      clock_.AwaitWithDeadline(&mu_, absl::Condition(&stop_), clock_.MonotonicNow() + period_);
    }
  });
}

}  // namespace tributary::tables
