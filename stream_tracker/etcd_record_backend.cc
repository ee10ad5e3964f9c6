#include "stream_tracker/etcd_record_backend.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace tributary::stream_tracker {
namespace {

constexpr char kWriters[] = "writers/";

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdRecordBackend>> EtcdRecordBackend::Create(
    etcd::EtcdClient& client, EtcdRecordBackendOptions options) {
  if (options.prefix.empty() || options.prefix.back() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("tracker prefix \"", options.prefix, "\" must end with '/'"));
  }
  std::unique_ptr<EtcdRecordBackend> backend(new EtcdRecordBackend(client, std::move(options)));
  absl::MutexLock lock(&backend->mu_);
  RETURN_IF_ERROR(backend->NewSession());
  return backend;
}

EtcdRecordBackend::~EtcdRecordBackend() {
  absl::MutexLock lock(&mu_);
  if (session_ != nullptr) session_->Revoke().IgnoreError();  // its marker goes with it
}

absl::Status EtcdRecordBackend::NewSession() {
  if (session_ != nullptr) session_->Revoke().IgnoreError();
  session_.reset();
  ASSIGN_OR_RETURN(std::unique_ptr<etcd::LeaseKeeper> session,
                   etcd::LeaseKeeper::Create(client_, options_.session_ttl));
  const std::string marker =
      absl::StrCat(options_.prefix, kWriters, absl::StrFormat("%016x", session->id()));
  // The marker exists from the start of the session, so that its absence means the session ended.
  RETURN_IF_ERROR(WithContext(client_.Put(marker, "", session->id()).status(),
                              "starting a tracker session at ", marker));
  session->StartRenewing();
  session_ = std::move(session);
  marker_key_ = marker;
  return absl::OkStatus();
}

std::string EtcdRecordBackend::marker_key() {
  absl::MutexLock lock(&mu_);
  return marker_key_;
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
  if (session_ == nullptr || session_->lost()) RETURN_IF_ERROR(NewSession());
  const std::string etcd_key = EtcdKey(key);
  etcd::Txn txn;
  // mod_revision 0 = absent; once the put applied, the compare no longer holds (Commit's rule for
  // recognising an earlier attempt's write).
  txn.compares.push_back(
      etcd::Compare::ModRevision(etcd_key, etcd::Compare::kEqual, expected_revision));
  txn.success.push_back(etcd::Op::Put(etcd_key, value));
  absl::StatusOr<etcd::TxnResult> result =
      client_.Commit(txn, marker_key_, /*write_id=*/nullptr, session_->id());
  if (absl::IsNotFound(result.status())) {
    // The session lease is gone (etcd refuses a put on it): nothing was applied. New session,
    // once.
    RETURN_IF_ERROR(NewSession());
    result = client_.Commit(txn, marker_key_, /*write_id=*/nullptr, session_->id());
  }
  RETURN_IF_ERROR(result.status());
  if (result->succeeded) return true;
  // The compare failed: another writer's change, unless our session (and with it the marker that
  // would have shown an earlier attempt of ours) is gone.
  ASSIGN_OR_RETURN(std::optional<etcd::KeyValue> marker, client_.Get(marker_key_));
  if (!marker.has_value()) {
    absl::Status lost = absl::UnavailableError(
        absl::StrCat("writing ", etcd_key, ": outcome unknown (the session lease of marker ",
                     marker_key_, " expired); read the record again"));
    NewSession().IgnoreError();  // the next write tries again if this failed
    return lost;
  }
  return false;
}

absl::StatusOr<RecordBackend::ClaimedPut> EtcdRecordBackend::PutClaiming(const std::string& key,
                                                                         const std::string& value,
                                                                         int64_t expected_revision,
                                                                         const Claim& claim,
                                                                         std::string* holder) {
  absl::MutexLock lock(&mu_);
  if (session_ == nullptr || session_->lost()) RETURN_IF_ERROR(NewSession());
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
  absl::StatusOr<etcd::TxnResult> result =
      client_.Commit(txn, marker_key_, /*write_id=*/nullptr, session_->id());
  if (absl::IsNotFound(result.status())) {
    RETURN_IF_ERROR(NewSession());
    result = client_.Commit(txn, marker_key_, /*write_id=*/nullptr, session_->id());
  }
  RETURN_IF_ERROR(result.status());
  if (result->succeeded) return ClaimedPut::kWritten;
  if (result->recovered || result->responses.size() < 2) return ClaimedPut::kWritten;
  ASSIGN_OR_RETURN(std::optional<etcd::KeyValue> marker, client_.Get(marker_key_));
  if (!marker.has_value()) {
    absl::Status lost = absl::UnavailableError(
        absl::StrCat("writing ", etcd_key, ": outcome unknown (the session lease of marker ",
                     marker_key_, " expired); read the record again"));
    NewSession().IgnoreError();
    return lost;
  }
  const std::vector<etcd::KeyValue>& record = result->responses[0].kvs;
  const int64_t record_revision = record.empty() ? 0 : record.front().mod_revision;
  if (record_revision != expected_revision) return ClaimedPut::kRecordChanged;
  const std::vector<etcd::KeyValue>& taken = result->responses[1].kvs;
  if (holder != nullptr) *holder = taken.empty() ? "" : taken.front().value;
  return ClaimedPut::kTaken;
}

absl::Status EtcdRecordBackend::Delete(const std::string& key) {
  return client_.Delete(EtcdKey(key)).status();
}

}  // namespace tributary::stream_tracker
