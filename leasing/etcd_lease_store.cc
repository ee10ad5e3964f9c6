#include "leasing/etcd_lease_store.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "leasing/lease_codec.h"

namespace tributary::leasing {
namespace {

constexpr char kLeases[] = "leases/";
constexpr char kPollers[] = "pollers/";
constexpr char kWriters[] = "writers/";
constexpr char kBarriers[] = "barriers/";
constexpr char kLive[] = "live/";

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

// The inverse of Escape; false for text Escape cannot have produced.
bool Unescape(absl::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '/') return false;
    if (in[i] != '%') {
      *out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int value = 0;
    for (int k = 1; k <= 2; ++k) {
      const char c = in[i + k];
      value *= 16;
      if (c >= '0' && c <= '9') {
        value += c - '0';
      } else if (c >= 'A' && c <= 'F') {
        value += c - 'A' + 10;
      } else {
        return false;
      }
    }
    *out += static_cast<char>(value);
    i += 2;
  }
  return true;
}

// A heartbeat within ttl / this of the last keepalive sent for the same lease sends none.
// Pollers heartbeat every ttl/3 (leasing's heartbeat_interval_ms): those are never skipped, only
// calls that come closer together (an acquire right after a heartbeat, a burst of them); after a
// skipped one the lease still has at least 5/6 ttl, so the next regular heartbeat (≤ ttl/3 + the
// skip window away) leaves half a TTL for lateness, where ttl/3 would leave a third only.
constexpr int kKeepAliveSkipDivisor = 6;

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
  if (options.poller_liveness_ttl < absl::ZeroDuration() ||
      (options.poller_liveness_ttl > absl::ZeroDuration() &&
       (!options.shared || options.poller_liveness_ttl < absl::Seconds(1)))) {
    return absl::InvalidArgumentError(
        "lease store poller_liveness_ttl: must be 0, or at least 1s with shared set");
  }
  return std::unique_ptr<EtcdLeaseStore>(new EtcdLeaseStore(client, std::move(options)));
}

EtcdLeaseStore::EtcdLeaseStore(etcd::EtcdClient& client, EtcdLeaseStoreOptions options)
    : client_(client),
      options_(std::move(options)),
      marker_key_(absl::StrCat(options_.prefix, kWriters, Escape(options_.writer))),
      barrier_key_(absl::StrCat(options_.prefix, kBarriers, Escape(options_.writer))) {}

std::string EtcdLeaseStore::LeaseKeyOf(const LeaseKey& key) const {
  return absl::StrCat(options_.prefix, kLeases, Escape(key.mapping_uuid), "/",
                      Escape(key.shard_id));
}

std::string EtcdLeaseStore::PollerKeyOf(const std::string& poller_id) const {
  return absl::StrCat(options_.prefix, kPollers, Escape(poller_id));
}

std::string EtcdLeaseStore::LivenessKeyOf(const std::string& poller_id) const {
  return absl::StrCat(options_.prefix, kLive, Escape(poller_id));
}

absl::StatusOr<int64_t> EtcdLeaseStore::LivenessLeaseOf(const std::string& poller_id) {
  absl::MutexLock lock(&mu_);
  auto it = liveness_leases_.find(poller_id);
  if (it == liveness_leases_.end()) {
    return absl::NotFoundError(absl::StrCat("no liveness lease known for poller ", poller_id));
  }
  return it->second;
}

bool EtcdLeaseStore::ParseLivenessKey(absl::string_view key, std::string* out) const {
  const std::string live = options_.prefix + kLive;
  if (!absl::StartsWith(key, live)) return false;
  key.remove_prefix(live.size());
  return Unescape(key, out);
}

EtcdLeaseStore::~EtcdLeaseStore() { StopFollowing(); }

bool EtcdLeaseStore::ParseLeaseKey(absl::string_view key, LeaseKey* out) const {
  const std::string leases = options_.prefix + kLeases;
  if (!absl::StartsWith(key, leases)) return false;
  key.remove_prefix(leases.size());
  const size_t slash = key.find('/');
  if (slash == absl::string_view::npos) return false;
  return Unescape(key.substr(0, slash), &out->mapping_uuid) &&
         Unescape(key.substr(slash + 1), &out->shard_id);
}

bool EtcdLeaseStore::ParsePollerKey(absl::string_view key, std::string* out) const {
  const std::string pollers = options_.prefix + kPollers;
  if (!absl::StartsWith(key, pollers)) return false;
  key.remove_prefix(pollers.size());
  return Unescape(key, out);
}

bool EtcdLeaseStore::stale() {
  absl::MutexLock lock(&mu_);
  return !stale_.ok();
}

absl::Status EtcdLeaseStore::MarkStale(absl::Status why) {
  const bool first = stale_.ok();
  stale_ = absl::AbortedError(
      absl::StrCat("lease store under ", options_.prefix, " is stale: ", why.message(),
                   "; this leasing replica must reload the lease table (restart it)"));
  if (first && options_.on_stale) options_.on_stale(stale_);
  return stale_;
}

absl::Status EtcdLeaseStore::StageLiveness(const LeaseStoreWrite& write, etcd::Txn* txn,
                                           std::vector<std::pair<std::string, int64_t>>* granted) {
  std::vector<const PollerRecord*> renewed;
  for (const PollerRecord& r : write.put_pollers) renewed.push_back(&r);
  for (const PollerRecord& r : write.renew_pollers) renewed.push_back(&r);
  for (const PollerRecord* r : renewed) {
    const std::string key = LivenessKeyOf(r->poller_id);
    auto known = liveness_leases_.find(r->poller_id);
    auto row = rows_.find(key);
    if (known != liveness_leases_.end() && row != rows_.end() && row->second.exists) {
      // A heartbeat: a keepalive, no Txn; none at all when this store sent one on the same
      // lease less than a sixth of the TTL ago (kKeepAliveSkipFraction).
      const MonotonicTime now = client_.clock().MonotonicNow();
      auto sent = last_keepalive_.find(r->poller_id);
      if (sent != last_keepalive_.end() && sent->second.first == known->second &&
          now - sent->second.second < options_.poller_liveness_ttl / kKeepAliveSkipDivisor) {
        continue;
      }
      absl::StatusOr<absl::Duration> left = client_.KeepAliveOnce(known->second);
      if (left.ok()) {
        last_keepalive_[r->poller_id] = {known->second, now};
        continue;
      }
      if (left.status().code() != absl::StatusCode::kNotFound) {
        return WithContext(left.status(), absl::StrCat("renewing poller ", r->poller_id));
      }
      // Expired: its key is gone (the watch brings the delete); live again below.
    }
    ASSIGN_OR_RETURN(const int64_t lease, client_.GrantLease(options_.poller_liveness_ttl));
    granted->emplace_back(r->poller_id, lease);
    // Fenced on what this store knows of the key (absent after the expiry it saw, or the
    // revision it last saw: an expiry not seen yet makes it a conflict, and the retry knows).
    const bool exists = row != rows_.end() && row->second.exists;
    txn->compares.push_back(
        etcd::Compare::ModRevision(key, etcd::Compare::kEqual, exists ? row->second.revision : 0));
    txn->success.push_back(etcd::Op::Put(key, r->poller_id, lease));
  }
  for (const std::string& id : write.delete_pollers) {
    txn->success.push_back(etcd::Op::Delete(LivenessKeyOf(id)));
  }
  for (const std::string& id : write.check_pollers) {
    // The previous owner of a lease taken over: its liveness key must be gone.
    const std::string key = LivenessKeyOf(id);
    txn->compares.push_back(etcd::Compare::Version(key, etcd::Compare::kEqual, 0));
  }
  return absl::OkStatus();
}

absl::Status EtcdLeaseStore::Write(const LeaseStoreWrite& write) {
  absl::MutexLock lock(&mu_);
  if (!stale_.ok()) return stale_;
  const bool liveness = KeepsLiveness();
  etcd::Txn txn;
  // Every row's key, and whether the write leaves it in place (put) or not (delete).
  std::vector<std::pair<std::string, bool>> rows;
  auto fence = [&](const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = rows_.find(key);
    const bool exists = it != rows_.end() && it->second.exists;
    txn.compares.push_back(
        etcd::Compare::ModRevision(key, etcd::Compare::kEqual, exists ? it->second.revision : 0));
  };
  for (const LeaseKey& key : write.delete_leases) {
    rows.emplace_back(LeaseKeyOf(key), false);
  }
  for (const LeaseRecord& r : write.put_leases) {
    rows.emplace_back(LeaseKeyOf(r.key), true);
    txn.success.push_back(etcd::Op::Put(rows.back().first, EncodeLeaseWithoutKey(r)));
  }
  for (const std::string& id : write.delete_pollers) {
    rows.emplace_back(PollerKeyOf(id), false);
  }
  for (const PollerRecord& r : write.put_pollers) {
    rows.emplace_back(PollerKeyOf(r.poller_id), true);
    txn.success.push_back(etcd::Op::Put(rows.back().first, EncodePoller(r)));
  }
  // Without liveness a heartbeat is its poller's row written.
  if (!liveness) {
    for (const PollerRecord& r : write.renew_pollers) {
      rows.emplace_back(PollerKeyOf(r.poller_id), true);
      txn.success.push_back(etcd::Op::Put(rows.back().first, EncodePoller(r)));
    }
  }
  for (const auto& [key, put] : rows) {
    fence(key);
    if (!put) txn.success.push_back(etcd::Op::Delete(key));
  }
  std::vector<std::string> checked = write.check_pollers;
  // Liveness: new leases granted for pollers whose lease was gone (revoked if the Txn fails).
  std::vector<std::pair<std::string, int64_t>> granted;
  auto revoke_granted = [&]() {
    // Best effort: an unused lease also expires after its TTL, with no key attached.
    for (const auto& [id, lease] : granted) (void)client_.RevokeLease(lease);
  };
  if (liveness) {
    // A poller made live again must still be registered: its row is compared.
    absl::Status staged = StageLiveness(write, &txn, &granted);
    if (!staged.ok()) {
      revoke_granted();
      return staged;
    }
    for (const auto& [id, lease] : granted) checked.push_back(id);
  }
  if (txn.success.empty() && txn.compares.empty()) return absl::OkStatus();
  // The row fences of checked pollers (not written, compared).
  std::vector<std::string> check_rows;
  for (const std::string& id : checked) {
    const std::string key = PollerKeyOf(id);
    bool fenced = false;
    for (const auto& row : rows) fenced = fenced || row.first == key;
    for (const std::string& k : check_rows) fenced = fenced || k == key;
    if (!fenced) check_rows.push_back(key);
  }
  for (const std::string& key : check_rows) fence(key);

  std::string write_id;
  absl::StatusOr<etcd::TxnResult> result = client_.Commit(txn, marker_key_, &write_id);
  // Not applied for sure: the new leases are unused. (Outcome unknown: left to expire.)
  if (result.ok() ? !result->succeeded : !MayHaveBeenApplied(result.status().code())) {
    revoke_granted();
  }
  if (!result.ok()) {
    if (!MayHaveBeenApplied(result.status().code())) return result.status();
    // Every retry ran out without an answer: learn from the marker whether an attempt applied.
    absl::StatusOr<std::optional<etcd::KeyValue>> marker = client_.Get(marker_key_);
    if (!marker.ok()) {
      return MarkStale(absl::UnknownError(absl::StrCat("a write's outcome is unknown (",
                                                       result.status().message(), "; then ",
                                                       marker.status().message(), ")")));
    }
    if (marker->has_value() && (*marker)->value == write_id) {
      return MarkStale(absl::UnknownError(absl::StrCat(
          "a write reported as failed (", result.status().message(), ") was applied")));
    }
    return result.status();
  }
  if (!result->succeeded && options_.shared) {
    // Every change up to the failed Txn (what made a compare fail, and whatever else other
    // replicas changed before it) comes from the watch: pass a barrier (a put of this writer's
    // barrier key, then wait until the watch has brought it), so the next TakeExternalChanges
    // hands them out. Not a read-back of the compared rows in the failure branch: that put a
    // Get per row into every Txn (a third of a checkpoint Txn's operations, issue 19), and it
    // brought only the compared rows while the retry may need others (a deregistration through
    // a replica behind on a grant: the lease rows too). A failed barrier leaves the conflict
    // standing all the same (the table computes the call again, or the caller retries).
    (void)Barrier();
    return LeaseStoreConflictError(
        absl::StrCat("a row this write changes was changed by another leasing replica under ",
                     options_.prefix, " since this one read it; nothing was written (try again)"));
  }
  if (!result->succeeded) {
    return MarkStale(absl::AbortedError(
        "a row it writes changed in etcd since this store read it (another leasing replica "
        "writes under the same prefix); nothing was written"));
  }
  for (const auto& [key, put] : rows) {
    if (options_.shared || put) {
      rows_[key] = RowState{result->revision, put};
    } else {
      rows_.erase(key);
    }
  }
  if (liveness) {
    for (const auto& [id, lease] : granted) {
      rows_[LivenessKeyOf(id)] = RowState{result->revision, true};
      liveness_leases_[id] = lease;
      last_keepalive_.erase(id);  // granted, not kept alive: the next heartbeat sends one
    }
    for (const std::string& id : write.delete_pollers) {
      rows_[LivenessKeyOf(id)] = RowState{result->revision, false};
      last_keepalive_.erase(id);
      auto it = liveness_leases_.find(id);
      if (it == liveness_leases_.end()) continue;
      // Its key is deleted already; the lease itself would expire unused.
      (void)client_.RevokeLease(it->second);
      liveness_leases_.erase(it);
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
  absl::flat_hash_map<std::string, RowState> revisions;
  absl::flat_hash_map<std::string, int64_t> live;
  for (const etcd::KeyValue& kv : range.kvs) {
    if (absl::StartsWith(kv.key, leases)) {
      LeaseKey key;
      if (!ParseLeaseKey(kv.key, &key)) {
        return absl::DataLossError(
            absl::StrCat("lease row ", absl::CEscape(kv.key), " has a key that does not parse"));
      }
      ASSIGN_OR_RETURN(LeaseRecord r, DecodeLeaseOf(key, kv.key, kv.value));
      contents.leases.push_back(std::move(r));
    } else if (absl::StartsWith(kv.key, pollers)) {
      ASSIGN_OR_RETURN(PollerRecord r, DecodePoller(kv.key, kv.value));
      if (PollerKeyOf(r.poller_id) != kv.key) {
        return absl::DataLossError(
            absl::StrCat("poller row ", absl::CEscape(kv.key), " holds another poller"));
      }
      contents.pollers.push_back(std::move(r));
    } else if (std::string id; KeepsLiveness() && ParseLivenessKey(kv.key, &id)) {
      contents.live_pollers.push_back(id);
      live[id] = kv.lease;
    } else {
      continue;  // the writers' markers
    }
    revisions[kv.key] = RowState{kv.mod_revision, true};
  }
  // The restart grace: every live poller's lease renewed once, a full TTL from now. A lease
  // that expired meanwhile is gone (its deletion comes through the watch).
  for (const auto& [id, lease] : live) {
    absl::StatusOr<absl::Duration> left = client_.KeepAliveOnce(lease);
    if (!left.ok() && left.status().code() != absl::StatusCode::kNotFound) {
      return WithContext(left.status(), absl::StrCat("renewing poller ", id, " at load"));
    }
  }
  liveness_leases_ = std::move(live);
  last_keepalive_.clear();
  rows_ = std::move(revisions);
  stale_ = absl::OkStatus();
  if (options_.shared) Follow(range.revision + 1);
  return contents;
}

void EtcdLeaseStore::Follow(int64_t revision) {
  StopFollowing();
  {
    absl::MutexLock follow_lock(&follow_mu_);
    pending_.clear();
    resync_keys_.reset();
    stopping_ = false;
    seen_revision_ = revision - 1;
  }
  follower_ = std::thread([this, revision] { FollowLoop(revision); });
}

void EtcdLeaseStore::StopFollowing() {
  {
    absl::MutexLock follow_lock(&follow_mu_);
    stopping_ = true;
    if (watch_ != nullptr) watch_->Cancel();
  }
  if (follower_.joinable()) follower_.join();
}

void EtcdLeaseStore::FollowLoop(int64_t revision) {
  Clock& clock = client_.clock();
  auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(follow_mu_) { return stopping_; };
  while (true) {
    absl::StatusOr<std::unique_ptr<etcd::EtcdWatch>> watch =
        client_.Watch(options_.prefix, /*prefix=*/true, revision);
    absl::Status ended = watch.status();
    if (watch.ok()) {
      {
        absl::MutexLock follow_lock(&follow_mu_);
        if (stopping_) return;
        watch_ = watch->get();
      }
      while (true) {
        absl::StatusOr<std::vector<etcd::WatchEvent>> events =
            (*watch)->Next(MonotonicTime::InfiniteFuture());
        if (!events.ok()) {
          ended = events.status();
          break;
        }
        absl::MutexLock follow_lock(&follow_mu_);
        pending_.insert(pending_.end(), events->begin(), events->end());
        if (!events->empty()) {
          seen_revision_ = std::max(seen_revision_, events->back().kv.mod_revision);
        }
      }
      revision = (*watch)->last_revision() + 1;
      absl::MutexLock follow_lock(&follow_mu_);
      watch_ = nullptr;
    }
    if (ended.code() == absl::StatusCode::kOutOfRange) {
      // Compacted past what we have seen: read the whole prefix again.
      absl::StatusOr<etcd::RangeResult> range = client_.GetPrefix(options_.prefix);
      if (range.ok()) {
        absl::MutexLock follow_lock(&follow_mu_);
        std::vector<std::string> keys;
        for (const etcd::KeyValue& kv : range->kvs) {
          keys.push_back(kv.key);
          pending_.push_back(etcd::WatchEvent{etcd::WatchEvent::Type::kPut, kv});
        }
        resync_keys_ = std::move(keys);
        resync_revision_ = range->revision;
        seen_revision_ = std::max(seen_revision_, range->revision);
        revision = range->revision + 1;
        continue;
      }
      ended = range.status();
    }
    absl::MutexLock follow_lock(&follow_mu_);
    if (stopping_) return;
    LOG(WARNING) << "lease store under " << options_.prefix << ": watching again from revision "
                 << revision << " after: " << ended;
    // A pause before watching again (on the injected clock; a stop wakes it).
    clock.AwaitWithDeadline(&follow_mu_, absl::Condition(&stopping),
                            clock.MonotonicNow() + absl::Milliseconds(500));
    if (stopping_) return;
  }
}

absl::StatusOr<bool> EtcdLeaseStore::Barrier() {
  if (!options_.shared) return false;
  ASSIGN_OR_RETURN(const int64_t revision, client_.Put(barrier_key_, ""));
  Clock& clock = client_.clock();
  absl::MutexLock follow_lock(&follow_mu_);
  auto caught_up = [this, revision]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(follow_mu_) {
    return seen_revision_ >= revision || stopping_;
  };
  if (!clock.AwaitWithDeadline(&follow_mu_, absl::Condition(&caught_up),
                               clock.MonotonicNow() + client_.options().operation_timeout) ||
      seen_revision_ < revision) {
    return absl::DeadlineExceededError(
        absl::StrCat("the lease store's watch under ", options_.prefix, " did not reach revision ",
                     revision, " in time (it is at ", seen_revision_, ")"));
  }
  return true;
}

LeaseStoreWrite EtcdLeaseStore::TakeExternalChanges() {
  if (!options_.shared) return {};
  absl::MutexLock lock(&mu_);
  std::vector<etcd::WatchEvent> events;
  std::optional<std::vector<std::string>> resync_keys;
  int64_t resync_revision = 0;
  {
    absl::MutexLock follow_lock(&follow_mu_);
    events.swap(pending_);
    resync_keys.swap(resync_keys_);
    resync_revision = resync_revision_;
  }
  if (resync_keys.has_value()) {
    // Rows known to exist and absent from the re-read prefix were deleted meanwhile.
    absl::flat_hash_map<std::string, bool> present;
    for (const std::string& key : *resync_keys) present[key] = true;
    for (const auto& [key, state] : rows_) {
      if (!state.exists || present.contains(key)) continue;
      etcd::WatchEvent event;
      event.type = etcd::WatchEvent::Type::kDelete;
      event.kv.key = key;
      event.kv.mod_revision = resync_revision;
      events.push_back(std::move(event));
    }
  }
  // The latest news of each row: its value, or nullopt when deleted.
  std::map<std::string, std::optional<std::string>> news;
  // Liveness keys: poller id → its lease when put, nullopt when deleted.
  std::map<std::string, std::optional<int64_t>> liveness;
  const std::string leases = options_.prefix + kLeases;
  const std::string pollers = options_.prefix + kPollers;
  const std::string live = options_.prefix + kLive;
  for (etcd::WatchEvent& event : events) {
    const bool is_live = KeepsLiveness() && absl::StartsWith(event.kv.key, live);
    if (!absl::StartsWith(event.kv.key, leases) && !absl::StartsWith(event.kv.key, pollers) &&
        !is_live) {
      continue;  // the writers' markers
    }
    RowState& state = rows_[event.kv.key];
    if (event.kv.mod_revision <= state.revision) continue;  // not newer than what we have
    const bool exists = event.type == etcd::WatchEvent::Type::kPut;
    state = RowState{event.kv.mod_revision, exists};
    if (is_live) {
      std::string id;
      if (!ParseLivenessKey(event.kv.key, &id)) continue;
      liveness[id] = exists ? std::optional<int64_t>(event.kv.lease) : std::nullopt;
    } else if (exists) {
      news[event.kv.key] = std::move(event.kv.value);
    } else {
      news[event.kv.key] = std::nullopt;
    }
  }
  LeaseStoreWrite changes;
  for (const auto& [id, lease] : liveness) {
    if (lease.has_value()) {
      liveness_leases_[id] = *lease;
      changes.live_pollers.push_back(id);
    } else {
      liveness_leases_.erase(id);
      changes.dead_pollers.push_back(id);
    }
  }
  for (auto& [key, value] : news) {
    LeaseKey lease_key;
    std::string poller_id;
    if (ParseLeaseKey(key, &lease_key)) {
      if (!value.has_value()) {
        changes.delete_leases.push_back(std::move(lease_key));
        continue;
      }
      absl::StatusOr<LeaseRecord> r = DecodeLeaseOf(lease_key, key, *value);
      if (r.ok()) {
        changes.put_leases.push_back(*std::move(r));
      } else {
        LOG(ERROR) << "lease row " << absl::CEscape(key) << " written by another replica does "
                   << "not decode; ignored: " << r.status();
      }
    } else if (ParsePollerKey(key, &poller_id)) {
      if (!value.has_value()) {
        changes.delete_pollers.push_back(std::move(poller_id));
        continue;
      }
      absl::StatusOr<PollerRecord> r = DecodePoller(key, *value);
      if (r.ok() && r->poller_id == poller_id) {
        changes.put_pollers.push_back(*std::move(r));
      } else {
        LOG(ERROR) << "poller row " << absl::CEscape(key) << " written by another replica does "
                   << "not decode; ignored: "
                   << (r.ok() ? "another poller" : r.status().ToString());
      }
    }
  }
  return changes;
}

}  // namespace tributary::leasing
