#include "leasing/lease_store.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/key_coding.h"
#include "common/status_macros.h"
#include "leasing/lease_codec.h"
#include "rocksdb/write_batch.h"

namespace tributary::leasing {

namespace {
constexpr char kConflictPayload[] = "tributary.leasing/lease-store-conflict";
}  // namespace

absl::Status LeaseStoreConflictError(absl::string_view message) {
  absl::Status status = absl::AbortedError(message);
  status.SetPayload(kConflictPayload, absl::Cord("1"));
  return status;
}

bool IsLeaseStoreConflict(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAborted &&
         status.GetPayload(kConflictPayload).has_value();
}

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

// The RocksDB key must be the one the row's own fields give (LeaseRowKey / the poller id).
absl::StatusOr<LeaseRecord> DecodeLeaseRow(const rocksdb::Slice& key, const rocksdb::Slice& value) {
  ASSIGN_OR_RETURN(LeaseRecord r, DecodeLease(absl::string_view(key.data(), key.size()),
                                              absl::string_view(value.data(), value.size())));
  if (LeaseRowKey(r.key) != key.ToString()) {
    return absl::DataLossError(
        absl::StrCat("lease row ", absl::CEscape(key.ToString()), " holds another lease"));
  }
  return r;
}

absl::StatusOr<PollerRecord> DecodePollerRow(const rocksdb::Slice& key,
                                             const rocksdb::Slice& value) {
  absl::StatusOr<PollerRecord> r = DecodePoller(absl::string_view(key.data(), key.size()),
                                                absl::string_view(value.data(), value.size()));
  if (r.ok() && r->poller_id != key.ToString()) {
    return absl::DataLossError(
        absl::StrCat("poller row ", absl::CEscape(key.ToString()), " does not decode"));
  }
  return r;
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
  // A heartbeat (renew_pollers) is its poller's row written, as any other put.
  for (const std::vector<PollerRecord>* rows : {&write.put_pollers, &write.renew_pollers}) {
    for (const PollerRecord& r : *rows) {
      RETURN_IF_ERROR(
          FromRocksDbStatus(batch.Put(pollers, r.poller_id, EncodePoller(r)), "batching"));
    }
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
      ASSIGN_OR_RETURN(LeaseRecord r, DecodeLeaseRow(it->key(), it->value()));
      contents.leases.push_back(std::move(r));
    }
    RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "reading leases"));
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db()->NewIterator(rocksdb::ReadOptions(), db_->Handle(kPollersFamily)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ASSIGN_OR_RETURN(PollerRecord r, DecodePollerRow(it->key(), it->value()));
      contents.pollers.push_back(std::move(r));
    }
    RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "reading pollers"));
  }
  return contents;
}

}  // namespace tributary::leasing
