#include "leasing/etcd_lease_store.h"

#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "leasing/lease_codec.h"

namespace tributary::leasing {
namespace {

constexpr char kLeases[] = "leases/";
constexpr char kPollers[] = "pollers/";
constexpr char kWriters[] = "writers/";

// '%', '/' and anything outside printable ASCII as %XX: one path segment, readable.
std::string Escape(absl::string_view id) {
  std::string out;
  for (const char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '%' || c == '/' || u <= 0x20 || u >= 0x7f) {
      absl::StrAppendFormat(&out, "%%%02X", u);
    } else {
      out += c;
    }
  }
  return out;
}

bool MayHaveBeenApplied(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdLeaseStore>> EtcdLeaseStore::Create(
    etcd::EtcdClient& client, EtcdLeaseStoreOptions options) {
  if (options.prefix.empty() || options.prefix.back() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("lease store prefix \"", options.prefix, "\" must end with '/'"));
  }
  if (options.writer.empty()) {
    return absl::InvalidArgumentError("lease store writer name must not be empty");
  }
  return std::unique_ptr<EtcdLeaseStore>(new EtcdLeaseStore(client, std::move(options)));
}

EtcdLeaseStore::EtcdLeaseStore(etcd::EtcdClient& client, EtcdLeaseStoreOptions options)
    : client_(client),
      options_(std::move(options)),
      marker_key_(absl::StrCat(options_.prefix, kWriters, Escape(options_.writer))) {}

std::string EtcdLeaseStore::LeaseKeyOf(const LeaseKey& key) const {
  return absl::StrCat(options_.prefix, kLeases, Escape(key.mapping_uuid), "/",
                      Escape(key.shard_id));
}

std::string EtcdLeaseStore::PollerKeyOf(const std::string& poller_id) const {
  return absl::StrCat(options_.prefix, kPollers, Escape(poller_id));
}

bool EtcdLeaseStore::stale() {
  absl::MutexLock lock(&mu_);
  return !stale_.ok();
}

absl::Status EtcdLeaseStore::MarkStale(absl::Status why) {
  const bool first = stale_.ok();
  stale_ = absl::AbortedError(absl::StrCat(
      "lease store under ", options_.prefix, " is stale: ", why.message(),
      "; this leasing replica must reload the lease table (restart it)"));
  if (first && options_.on_stale) options_.on_stale(stale_);
  return stale_;
}

absl::Status EtcdLeaseStore::Write(const LeaseStoreWrite& write) {
  absl::MutexLock lock(&mu_);
  if (!stale_.ok()) return stale_;
  etcd::Txn txn;
  // Every row's key, and whether the write leaves it in place (put) or not (delete).
  std::vector<std::pair<std::string, bool>> rows;
  auto fence = [&](const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = revisions_.find(key);
    txn.compares.push_back(etcd::Compare::ModRevision(key, etcd::Compare::kEqual,
                                                      it == revisions_.end() ? 0 : it->second));
  };
  for (const LeaseKey& key : write.delete_leases) {
    rows.emplace_back(LeaseKeyOf(key), false);
  }
  for (const LeaseRecord& r : write.put_leases) {
    rows.emplace_back(LeaseKeyOf(r.key), true);
    txn.success.push_back(etcd::Op::Put(rows.back().first, EncodeLease(r)));
  }
  for (const std::string& id : write.delete_pollers) {
    rows.emplace_back(PollerKeyOf(id), false);
  }
  for (const PollerRecord& r : write.put_pollers) {
    rows.emplace_back(PollerKeyOf(r.poller_id), true);
    txn.success.push_back(etcd::Op::Put(rows.back().first, EncodePoller(r)));
  }
  for (const auto& [key, put] : rows) {
    fence(key);
    if (!put) txn.success.push_back(etcd::Op::Delete(key));
  }
  if (rows.empty()) return absl::OkStatus();

  std::string write_id;
  absl::StatusOr<etcd::TxnResult> result = client_.Commit(txn, marker_key_, &write_id);
  if (!result.ok()) {
    if (!MayHaveBeenApplied(result.status().code())) return result.status();
    // Every retry ran out without an answer: learn from the marker whether an attempt applied.
    absl::StatusOr<std::optional<etcd::KeyValue>> marker = client_.Get(marker_key_);
    if (!marker.ok()) {
      return MarkStale(absl::UnknownError(absl::StrCat(
          "a write's outcome is unknown (", result.status().message(), "; then ",
          marker.status().message(), ")")));
    }
    if (marker->has_value() && (*marker)->value == write_id) {
      return MarkStale(absl::UnknownError(absl::StrCat(
          "a write reported as failed (", result.status().message(), ") was applied")));
    }
    return result.status();
  }
  if (!result->succeeded) {
    return MarkStale(absl::AbortedError(
        "a row it writes changed in etcd since this store read it (another leasing replica "
        "writes under the same prefix); nothing was written"));
  }
  for (const auto& [key, put] : rows) {
    if (put) {
      revisions_[key] = result->revision;
    } else {
      revisions_.erase(key);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<LeaseStoreContents> EtcdLeaseStore::Load() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(etcd::RangeResult range, client_.GetPrefix(options_.prefix));
  const std::string leases = options_.prefix + kLeases;
  const std::string pollers = options_.prefix + kPollers;
  LeaseStoreContents contents;
  absl::flat_hash_map<std::string, int64_t> revisions;
  for (const etcd::KeyValue& kv : range.kvs) {
    if (absl::StartsWith(kv.key, leases)) {
      ASSIGN_OR_RETURN(LeaseRecord r, DecodeLease(kv.key, kv.value));
      if (LeaseKeyOf(r.key) != kv.key) {
        return absl::DataLossError(
            absl::StrCat("lease row ", absl::CEscape(kv.key), " holds another lease"));
      }
      contents.leases.push_back(std::move(r));
    } else if (absl::StartsWith(kv.key, pollers)) {
      ASSIGN_OR_RETURN(PollerRecord r, DecodePoller(kv.key, kv.value));
      if (PollerKeyOf(r.poller_id) != kv.key) {
        return absl::DataLossError(
            absl::StrCat("poller row ", absl::CEscape(kv.key), " holds another poller"));
      }
      contents.pollers.push_back(std::move(r));
    } else {
      continue;  // the writers' markers
    }
    revisions[kv.key] = kv.mod_revision;
  }
  revisions_ = std::move(revisions);
  stale_ = absl::OkStatus();
  return contents;
}

}  // namespace tributary::leasing
