#include "leasing/lease_store.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/key_coding.h"
#include "common/status_macros.h"
#include "leasing/lease_storage.pb.h"
#include "rocksdb/write_batch.h"

namespace tributary::leasing {
namespace {

constexpr char kLeasesFamily[] = "leases";
constexpr char kPollersFamily[] = "pollers";

std::string LeaseRowKey(const LeaseKey& key) {
  std::string out;
  AppendBigEndian32(&out, static_cast<uint32_t>(key.mapping_uuid.size()));
  out += key.mapping_uuid;
  out += key.shard_id;
  return out;
}

int64_t ToMicros(absl::Time t) {
  if (t == absl::InfinitePast()) return INT64_MIN;
  return absl::ToUnixMicros(t);
}

absl::Time FromMicros(int64_t us) {
  if (us == INT64_MIN) return absl::InfinitePast();
  return absl::FromUnixMicros(us);
}

std::string EncodeLease(const LeaseRecord& r) {
  storage::StoredLease s;
  s.set_event_source_mapping_uuid(r.key.mapping_uuid);
  s.set_shard_id(r.key.shard_id);
  s.set_stream_name(r.stream_name);
  s.set_lease_owner(r.owner);
  s.set_lease_counter(r.lease_counter);
  s.set_checkpoint_type(static_cast<int>(r.checkpoint.type));
  s.set_checkpoint_sequence_number(r.checkpoint.sequence_number);
  s.set_checkpoint_timestamp_us(ToMicros(r.checkpoint.timestamp));
  for (const std::string& p : r.parent_shard_ids) s.add_parent_shard_ids(p);
  for (const std::string& c : r.child_shard_ids) s.add_child_shard_ids(c);
  s.set_owner_switches_since_checkpoint(r.owner_switches_since_checkpoint);
  s.set_enabled(r.enabled);
  s.set_moved_at_us(ToMicros(r.moved_at));
  return s.SerializeAsString();
}

absl::StatusOr<LeaseRecord> DecodeLease(const rocksdb::Slice& key, const rocksdb::Slice& value) {
  storage::StoredLease s;
  if (!s.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
      s.checkpoint_type() < static_cast<int>(CheckpointType::kSequenceNumber) ||
      s.checkpoint_type() > static_cast<int>(CheckpointType::kShardEnd)) {
    return absl::DataLossError(
        absl::StrCat("lease row ", absl::CEscape(key.ToString()), " does not decode"));
  }
  LeaseRecord r;
  r.key = {s.event_source_mapping_uuid(), s.shard_id()};
  r.stream_name = s.stream_name();
  r.owner = s.lease_owner();
  r.lease_counter = s.lease_counter();
  r.checkpoint.type = static_cast<CheckpointType>(s.checkpoint_type());
  r.checkpoint.sequence_number = s.checkpoint_sequence_number();
  r.checkpoint.timestamp = FromMicros(s.checkpoint_timestamp_us());
  r.parent_shard_ids.assign(s.parent_shard_ids().begin(), s.parent_shard_ids().end());
  r.child_shard_ids.assign(s.child_shard_ids().begin(), s.child_shard_ids().end());
  r.owner_switches_since_checkpoint = s.owner_switches_since_checkpoint();
  r.enabled = s.enabled();
  r.moved_at = FromMicros(s.moved_at_us());
  if (LeaseRowKey(r.key) != key.ToString()) {
    return absl::DataLossError(
        absl::StrCat("lease row ", absl::CEscape(key.ToString()), " holds another lease"));
  }
  return r;
}

std::string EncodePoller(const PollerRecord& r) {
  storage::StoredPoller s;
  s.set_poller_id(r.poller_id);
  s.set_capacity(r.capacity);
  s.set_last_heartbeat_us(ToMicros(r.last_heartbeat));
  return s.SerializeAsString();
}

absl::StatusOr<PollerRecord> DecodePoller(const rocksdb::Slice& key, const rocksdb::Slice& value) {
  storage::StoredPoller s;
  if (!s.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
      s.poller_id() != key.ToString()) {
    return absl::DataLossError(
        absl::StrCat("poller row ", absl::CEscape(key.ToString()), " does not decode"));
  }
  return PollerRecord{s.poller_id(), s.capacity(), FromMicros(s.last_heartbeat_us())};
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDbLeaseStore>> RocksDbLeaseStore::Open(const std::string& path,
                                                                           rocksdb::Env* env) {
  RocksDbOptions options;
  options.env = env;
  // Lease rows are small and few (10,000 is ~2 MB): a small cache and memtable do.
  options.block_cache_bytes = 8 << 20;
  options.write_buffer_bytes = 8 << 20;
  ASSIGN_OR_RETURN(std::unique_ptr<RocksDb> db,
                   RocksDb::Open(path, {kLeasesFamily, kPollersFamily}, options));
  return std::unique_ptr<RocksDbLeaseStore>(new RocksDbLeaseStore(std::move(db)));
}

absl::Status RocksDbLeaseStore::Write(const LeaseStoreWrite& write) {
  rocksdb::WriteBatch batch;
  rocksdb::ColumnFamilyHandle* leases = db_->Handle(kLeasesFamily);
  rocksdb::ColumnFamilyHandle* pollers = db_->Handle(kPollersFamily);
  for (const LeaseKey& key : write.delete_leases) {
    RETURN_IF_ERROR(FromRocksDbStatus(batch.Delete(leases, LeaseRowKey(key)), "batching"));
  }
  for (const LeaseRecord& r : write.put_leases) {
    RETURN_IF_ERROR(
        FromRocksDbStatus(batch.Put(leases, LeaseRowKey(r.key), EncodeLease(r)), "batching"));
  }
  for (const std::string& id : write.delete_pollers) {
    RETURN_IF_ERROR(FromRocksDbStatus(batch.Delete(pollers, id), "batching"));
  }
  for (const PollerRecord& r : write.put_pollers) {
    RETURN_IF_ERROR(
        FromRocksDbStatus(batch.Put(pollers, r.poller_id, EncodePoller(r)), "batching"));
  }
  rocksdb::WriteOptions options;
  options.sync = write.sync;
  return FromRocksDbStatus(db_->db()->Write(options, &batch), "writing leases");
}

absl::StatusOr<LeaseStoreContents> RocksDbLeaseStore::Load() {
  LeaseStoreContents contents;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db()->NewIterator(rocksdb::ReadOptions(), db_->Handle(kLeasesFamily)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ASSIGN_OR_RETURN(LeaseRecord r, DecodeLease(it->key(), it->value()));
      contents.leases.push_back(std::move(r));
    }
    RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "reading leases"));
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db()->NewIterator(rocksdb::ReadOptions(), db_->Handle(kPollersFamily)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ASSIGN_OR_RETURN(PollerRecord r, DecodePoller(it->key(), it->value()));
      contents.pollers.push_back(std::move(r));
    }
    RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "reading pollers"));
  }
  return contents;
}

}  // namespace tributary::leasing
