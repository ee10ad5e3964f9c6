#include "stream_tracker/etcd_record_backend.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tributary::stream_tracker {

absl::StatusOr<std::unique_ptr<EtcdRecordBackend>> EtcdRecordBackend::Create(
    etcd::EtcdClient& client, EtcdRecordBackendOptions options) {
  if (options.prefix.empty() || options.prefix.back() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("tracker prefix \"", options.prefix, "\" must end with '/'"));
  }
  std::unique_ptr<EtcdRecordBackend> backend(new EtcdRecordBackend(client, std::move(options)));
  absl::MutexLock lock(&backend->mu_);
  RETURN_IF_ERROR(backend->session_.Start());
  return backend;
}

std::string EtcdRecordBackend::marker_key() {
  absl::MutexLock lock(&mu_);
  return session_.marker_key();
}

absl::StatusOr<std::optional<StoredValue>> EtcdRecordBackend::Read(const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<etcd::KeyValue> kv, client_.Get(EtcdKey(key)));
  if (!kv.has_value()) return std::nullopt;
  return StoredValue{std::move(kv->value), kv->mod_revision};
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> EtcdRecordBackend::Scan(
    const std::string& prefix, const std::string& after, size_t limit) {
  // The stores hold hundreds of records: one read of the prefix (paged by the client), filtered.
  ASSIGN_OR_RETURN(etcd::RangeResult range, client_.GetPrefix(EtcdKey(prefix)));
  std::vector<std::pair<std::string, std::string>> out;
  for (etcd::KeyValue& kv : range.kvs) {
    std::string key = kv.key.substr(options_.prefix.size());
    if (!after.empty() && key <= after) continue;
    out.emplace_back(std::move(key), std::move(kv.value));
    if (limit != 0 && out.size() >= limit) break;
  }
  return out;
}

absl::StatusOr<bool> EtcdRecordBackend::Put(const std::string& key, const std::string& value,
                                            int64_t expected_revision) {
  absl::MutexLock lock(&mu_);
  const std::string etcd_key = EtcdKey(key);
  etcd::Txn txn;
  // mod_revision 0 = absent; once the put applied, the compare no longer holds (Commit's rule for
  // recognising an earlier attempt's write).
  txn.compares.push_back(
      etcd::Compare::ModRevision(etcd_key, etcd::Compare::kEqual, expected_revision));
  txn.success.push_back(etcd::Op::Put(etcd_key, value));
  ASSIGN_OR_RETURN(etcd::TxnResult result, session_.Commit(txn));
  if (result.succeeded) return true;
  // The compare failed: another writer's change, unless our session (and with it the marker that
  // would have shown an earlier attempt of ours) is gone.
  RETURN_IF_ERROR(session_.CheckCompareFailure(absl::StrCat("writing ", etcd_key),
                                                "read the record again"));
  return false;
}

absl::StatusOr<RecordBackend::ClaimedPut> EtcdRecordBackend::PutClaiming(const std::string& key,
                                                                         const std::string& value,
                                                                         int64_t expected_revision,
                                                                         const Claim& claim,
                                                                         std::string* holder) {
  absl::MutexLock lock(&mu_);
  const std::string etcd_key = EtcdKey(key);
  const std::string take_key = EtcdKey(claim.take.empty() ? claim.release : claim.take);
  etcd::Txn txn;
  // The record's compare stops holding once the Txn applied (Commit's rule for a retry).
  txn.compares.push_back(
      etcd::Compare::ModRevision(etcd_key, etcd::Compare::kEqual, expected_revision));
  txn.success.push_back(etcd::Op::Put(etcd_key, value));
  if (!claim.take.empty()) {
    txn.compares.push_back(etcd::Compare::CreateRevision(take_key, etcd::Compare::kEqual, 0));
    txn.success.push_back(etcd::Op::Put(take_key, claim.owner));
  }
  if (!claim.release.empty() && claim.release != claim.take) {
    txn.success.push_back(etcd::Op::Delete(EtcdKey(claim.release)));
  }
  txn.failure.push_back(etcd::Op::Get(etcd_key));
  txn.failure.push_back(etcd::Op::Get(take_key));
  ASSIGN_OR_RETURN(etcd::TxnResult result, session_.Commit(txn));
  if (result.succeeded) return ClaimedPut::kWritten;
  if (result.recovered || result.responses.size() < 2) return ClaimedPut::kWritten;
  RETURN_IF_ERROR(session_.CheckCompareFailure(absl::StrCat("writing ", etcd_key),
                                                "read the record again"));
  const std::vector<etcd::KeyValue>& record = result.responses[0].kvs;
  const int64_t record_revision = record.empty() ? 0 : record.front().mod_revision;
  if (record_revision != expected_revision) return ClaimedPut::kRecordChanged;
  const std::vector<etcd::KeyValue>& taken = result.responses[1].kvs;
  if (holder != nullptr) *holder = taken.empty() ? "" : taken.front().value;
  return ClaimedPut::kTaken;
}

absl::Status EtcdRecordBackend::Delete(const std::string& key) {
  return client_.Delete(EtcdKey(key)).status();
}

}  // namespace tributary::stream_tracker
