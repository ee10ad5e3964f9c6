// The lease table. Every public method takes mu_, stages its changes in a Mutation (copies of
// the rows it changes), commits the Mutation as one store write, and only then applies it to
// memory: a failed write leaves memory as it was.
//
// Invariants (under mu_), restored by Commit:
// - by_owner_[o] maps exactly the keys of leases whose owner is o (o non-empty) to their entries
//   in leases_ (std::map nodes do not move, and Commit re-indexes an entry whenever it changes).
// - children_by_parent_[(m, p)] holds exactly the shard ids of mapping m's leases naming p as a
//   parent.
// - entry.assignable == ComputeAssignable(entry.record) for every lease;
//   assignable_count_ counts them; unowned_assignable_ holds those without an owner.
#include "leasing/lease_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/await.h"
#include "common/key_coding.h"
#include "common/status_macros.h"

namespace tributary::leasing {
namespace {

std::string Describe(const LeaseKey& key) {
  return absl::StrCat("lease (", key.mapping_uuid, ", ", key.shard_id, ")");
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string EncodePageToken(const LeaseKey& key) {
  std::string raw;
  AppendBigEndian32(&raw, static_cast<uint32_t>(key.mapping_uuid.size()));
  raw += key.mapping_uuid;
  raw += key.shard_id;
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<LeaseKey> DecodePageToken(const std::string& token) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < 4 ||
      ReadBigEndian32(raw) > raw.size() - 4) {
    return absl::InvalidArgumentError("next_token: not a token returned by ListLeases");
  }
  const uint32_t n = ReadBigEndian32(raw);
  return LeaseKey{raw.substr(4, n), raw.substr(4 + n)};
}

}  // namespace

absl::StatusOr<std::unique_ptr<LeaseTable>> LeaseTable::Create(Clock& clock, LeaseStore& store,
                                                               LeaseTableOptions options) {
  if (options.lease_duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("lease_duration: must be positive");
  }
  if (options.min_hold < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("min_hold: must not be negative");
  }
  if (options.forget_poller_after < options.lease_duration) {
    return absl::InvalidArgumentError("forget_poller_after: must be at least lease_duration");
  }
  absl::StatusOr<LeaseStoreContents> loaded = store.Load();
  if (!loaded.ok()) return WithContext(loaded.status(), "loading lease table");
  LeaseStoreContents contents = std::move(loaded).value();
  std::unique_ptr<LeaseTable> table(new LeaseTable(clock, store, options));
  absl::MutexLock lock(&table->mu_);
  const std::set<std::string> live(contents.live_pollers.begin(), contents.live_pollers.end());
  for (PollerRecord& p : contents.pollers) {
    std::string id = p.poller_id;
    MonotonicTime live_until = table->opened_at_ + options.lease_duration;  // the restart grace
    if (table->store_keeps_liveness_) {
      live_until = live.count(id) > 0 ? MonotonicTime::InfiniteFuture() : table->opened_at_;
    }
    table->ApplyPoller(id, std::move(p), live_until);
  }
  // Every row first, then the indexes: assignability reads the parents' rows.
  for (LeaseRecord& r : contents.leases) {
    LeaseKey key = r.key;
    LeaseEntry& entry = table->leases_[key];
    entry.record = std::move(r);
    entry.moved_at = table->opened_at_;  // min_hold counts again from the open
  }
  for (auto& [key, entry] : table->leases_) {
    entry.assignable = table->ComputeAssignable(entry.record);
    table->Index(entry);
  }
  return table;
}

LeaseTable::LeaseTable(Clock& clock, LeaseStore& store, LeaseTableOptions options)
    : clock_(clock),
      store_(store),
      options_(options),
      store_keeps_liveness_(store.KeepsLiveness()),
      opened_at_(clock.MonotonicNow()) {}

// ---- Index maintenance ----

bool LeaseTable::ComputeAssignable(const LeaseRecord& r) const {
  if (!r.enabled || r.checkpoint.type == CheckpointType::kShardEnd) return false;
  for (const std::string& parent : r.parent_shard_ids) {
    auto it = leases_.find(LeaseKey{r.key.mapping_uuid, parent});
    if (it != leases_.end() && it->second.record.checkpoint.type != CheckpointType::kShardEnd) {
      return false;
    }
  }
  return true;
}

void LeaseTable::Index(const LeaseEntry& e) {
  const LeaseKey& key = e.record.key;
  if (!e.record.owner.empty()) by_owner_[e.record.owner][key] = &e;
  for (const std::string& parent : e.record.parent_shard_ids) {
    children_by_parent_[LeaseKey{key.mapping_uuid, parent}].insert(key.shard_id);
  }
  if (e.assignable) {
    ++assignable_count_;
    if (e.record.owner.empty()) unowned_assignable_.insert(key);
  }
}

void LeaseTable::Unindex(const LeaseEntry& e) {
  const LeaseKey& key = e.record.key;
  if (!e.record.owner.empty()) {
    auto it = by_owner_.find(e.record.owner);
    it->second.erase(key);
    if (it->second.empty()) by_owner_.erase(it);
  }
  for (const std::string& parent : e.record.parent_shard_ids) {
    auto it = children_by_parent_.find(LeaseKey{key.mapping_uuid, parent});
    it->second.erase(key.shard_id);
    if (it->second.empty()) children_by_parent_.erase(it);
  }
  if (e.assignable) {
    --assignable_count_;
    unowned_assignable_.erase(key);
  }
}

void LeaseTable::ApplyPoller(const std::string& id, std::optional<PollerRecord> record,
                             MonotonicTime live_until) {
  if (!record.has_value()) {
    pollers_.erase(id);
    return;
  }
  // Monotonic: the stored (wall) heartbeat time is never compared with the clock.
  pollers_[id] = PollerEntry{std::move(*record), live_until};
}

absl::Status LeaseTable::Commit(Mutation m) {
  LeaseStoreWrite write;
  write.sync = m.sync;
  for (const auto& [key, record] : m.leases) {
    if (record.has_value()) {
      write.put_leases.push_back(*record);
    } else {
      write.delete_leases.push_back(key);
    }
  }
  for (const auto& [id, record] : m.pollers) {
    if (record.has_value()) {
      write.put_pollers.push_back(*record);
    } else {
      write.delete_pollers.push_back(id);
    }
  }
  for (const auto& [id, record] : m.renew_pollers) write.renew_pollers.push_back(record);
  if (write.empty()) return absl::OkStatus();
  write.check_pollers.assign(m.check_pollers.begin(), m.check_pollers.end());
  RETURN_IF_ERROR(store_.Write(write));
  // The write is durable: apply it.
  Apply(std::move(m), clock_.MonotonicNow(), /*external=*/false);
  return absl::OkStatus();
}

void LeaseTable::CatchUp() {
  LeaseStoreWrite changes = store_.TakeExternalChanges();
  if (changes.empty()) return;
  Mutation m;
  for (LeaseRecord& r : changes.put_leases) {
    LeaseKey key = r.key;
    m.leases[key] = std::move(r);
  }
  for (LeaseKey& key : changes.delete_leases) m.leases[std::move(key)] = std::nullopt;
  for (PollerRecord& r : changes.put_pollers) {
    std::string id = r.poller_id;
    m.pollers[id] = std::move(r);
  }
  for (std::string& id : changes.delete_pollers) m.pollers[std::move(id)] = std::nullopt;
  // A poller row another replica wrote is a heartbeat heard now (unless the store keeps
  // liveness); a lease it granted was granted now (min_hold), like one granted here.
  const MonotonicTime now = clock_.MonotonicNow();
  Apply(std::move(m), now, /*external=*/true);
  // The store's word on liveness, after the rows (a registration brings both).
  for (const std::string& id : changes.live_pollers) {
    auto it = pollers_.find(id);
    if (it != pollers_.end()) it->second.live_until = MonotonicTime::InfiniteFuture();
  }
  for (const std::string& id : changes.dead_pollers) {
    auto it = pollers_.find(id);
    // Dead from now, or from when it was already dead (silence counts from the first).
    if (it != pollers_.end()) it->second.live_until = std::min(it->second.live_until, now);
  }
}

void LeaseTable::Apply(Mutation m, MonotonicTime now, bool external) {
  // First drop the old rows from the indexes, then put every
  // new row (assignability reads other rows, so all of them must be in place), then index.
  // A row whose indexed fields (owner, parents) stay as they were, as in a checkpoint, keeps its
  // index entries unless its assignability changes (issue 19's profile: re-indexing a
  // checkpointed lease was an erase and an insert in its owner's map, a few µs per checkpoint).
  struct Applied {
    LeaseEntry* entry = nullptr;  // after the second pass; null when deleted
    bool indexed = false;         // its index entries were kept
  };
  std::vector<Applied> applied(m.leases.size());
  size_t i = 0;
  for (const auto& [key, record] : m.leases) {
    auto it = leases_.find(key);
    if (it != leases_.end()) {
      const LeaseRecord& old = it->second.record;
      applied[i].indexed = record.has_value() && record->owner == old.owner &&
                           record->parent_shard_ids == old.parent_shard_ids;
      if (!applied[i].indexed) Unindex(it->second);
    }
    ++i;
  }
  i = 0;
  for (auto& [key, record] : m.leases) {
    if (!record.has_value()) {
      leases_.erase(key);
      ++i;
      continue;
    }
    LeaseEntry& entry = leases_[key];
    // A new owner's age starts at 0; the processing result stays until the new owner reports.
    if (entry.record.owner != record->owner) {
      entry.iterator_age_ms = 0;
      entry.moved_at = now;
    }
    entry.record = std::move(*record);
    applied[i++].entry = &entry;
  }
  for (const Applied& a : applied) {
    if (a.entry == nullptr) continue;
    const bool assignable = ComputeAssignable(a.entry->record);
    if (a.indexed) {
      if (assignable == a.entry->assignable) continue;
      Unindex(*a.entry);  // its indexed fields are as before: the entries it has
    }
    a.entry->assignable = assignable;
    Index(*a.entry);
  }
  // A changed or deleted lease may change its children's assignability (SHARD_END, trimmed).
  for (const auto& [key, record] : m.leases) {
    auto children = children_by_parent_.find(key);
    if (children == children_by_parent_.end()) continue;
    const std::set<std::string> child_ids = children->second;  // Index/Unindex touch the set
    for (const std::string& child_id : child_ids) {
      LeaseKey child_key{key.mapping_uuid, child_id};
      if (m.leases.count(child_key) > 0) continue;  // done above
      auto it = leases_.find(child_key);
      if (it == leases_.end()) continue;
      const bool assignable = ComputeAssignable(it->second.record);
      if (assignable == it->second.assignable) continue;
      Unindex(it->second);
      it->second.assignable = assignable;
      Index(it->second);
    }
  }
  for (auto& [id, record] : m.renew_pollers) m.pollers[id] = std::move(record);
  for (auto& [id, record] : m.pollers) {
    MonotonicTime live_until = now + options_.lease_duration;
    if (store_keeps_liveness_ && !external) {
      live_until = MonotonicTime::InfiniteFuture();  // the store made its liveness key live
    } else if (store_keeps_liveness_) {
      auto it = pollers_.find(id);
      live_until = it != pollers_.end() ? it->second.live_until : now;  // the store says later
    }
    ApplyPoller(id, std::move(record), live_until);
  }
}

const LeaseRecord* LeaseTable::Staged(const Mutation& m, const LeaseKey& key) const {
  auto staged = m.leases.find(key);
  if (staged != m.leases.end()) return staged->second ? &*staged->second : nullptr;
  auto it = leases_.find(key);
  return it == leases_.end() ? nullptr : &it->second.record;
}

LeaseRecord* LeaseTable::MutableStaged(Mutation* m, const LeaseKey& key) const {
  auto staged = m->leases.find(key);
  if (staged != m->leases.end()) return staged->second ? &*staged->second : nullptr;
  auto it = leases_.find(key);
  if (it == leases_.end()) return nullptr;
  return &*(m->leases[key] = it->second.record);
}

bool LeaseTable::IsLive(const std::string& poller_id, MonotonicTime now) const {
  auto it = pollers_.find(poller_id);
  return it != pollers_.end() && now < it->second.live_until;
}

absl::flat_hash_map<std::string, int> LeaseTable::Targets(MonotonicTime now) const {
  std::vector<std::pair<int, const std::string*>> live;
  for (const auto& [id, poller] : pollers_) {
    if (now < poller.live_until) live.emplace_back(poller.record.capacity, &id);
  }
  std::sort(live.begin(), live.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  // Water-filling: the smallest level L with sum(min(capacity, L)) >= assignable leases.
  int64_t remaining = assignable_count_;
  int64_t level = INT64_MAX;
  for (size_t i = 0; i < live.size(); ++i) {
    const int64_t rest = static_cast<int64_t>(live.size() - i);
    if (static_cast<int64_t>(live[i].first) * rest >= remaining) {
      level = (remaining + rest - 1) / rest;
      break;
    }
    remaining -= live[i].first;
  }
  absl::flat_hash_map<std::string, int> targets;
  for (const auto& [capacity, id] : live) {
    targets[*id] = static_cast<int>(std::min<int64_t>(capacity, level));
  }
  return targets;
}

PollerRecord LeaseTable::Renewed(const std::string& poller_id, absl::Time wall_now) const {
  PollerRecord r = pollers_.at(poller_id).record;
  r.last_heartbeat = wall_now;  // for display only: after a wall step back it goes back too
  return r;
}

Lease LeaseTable::ToLease(const LeaseEntry& entry, MonotonicTime now) const {
  Lease lease;
  lease.record = entry.record;
  lease.last_processing_result = entry.last_processing_result;
  lease.last_processing_result_time = entry.last_processing_result_time;
  lease.last_error = entry.last_error;
  lease.assignable = entry.assignable;
  if (!entry.record.owner.empty()) {
    auto poller = pollers_.find(entry.record.owner);
    if (poller != pollers_.end()) lease.last_renewal_time = poller->second.record.last_heartbeat;
    lease.expired = !IsLive(entry.record.owner, now);
    // Nobody works on an expired lease's shard: its last age says nothing about now.
    if (!lease.expired) lease.iterator_age_ms = entry.iterator_age_ms;
  }
  return lease;
}

absl::StatusOr<const LeaseTable::LeaseEntry*> LeaseTable::FindFenced(const LeaseKey& key,
                                                                     const std::string& poller_id,
                                                                     int64_t lease_counter) const {
  auto it = leases_.find(key);
  if (it == leases_.end()) return absl::NotFoundError(absl::StrCat(Describe(key), " not found"));
  const LeaseRecord& r = it->second.record;
  if (r.owner != poller_id) {
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(key), " is ", r.owner.empty() ? "not owned" : "owned by " + r.owner,
                     ", not by ", poller_id, ": acquire it again"));
  }
  if (r.lease_counter != lease_counter) {
    return absl::FailedPreconditionError(absl::StrCat(Describe(key), ": lease_counter ",
                                                      lease_counter, " is stale (now ",
                                                      r.lease_counter, "): acquire it again"));
  }
  return &it->second;
}

// ---- Public methods ----

absl::StatusOr<int> LeaseTable::CreateLeases(const std::vector<NewLease>& leases) {
  for (const NewLease& nl : leases) {
    if (nl.key.mapping_uuid.empty()) {
      return absl::InvalidArgumentError("event_source_mapping_uuid: must not be empty");
    }
    if (nl.key.shard_id.empty()) return absl::InvalidArgumentError("shard_id: must not be empty");
    for (const std::string& p : nl.parent_shard_ids) {
      if (p.empty()) return absl::InvalidArgumentError("parent_shard_ids: must not be empty");
      if (p == nl.key.shard_id) {
        return absl::InvalidArgumentError(
            absl::StrCat("parent_shard_ids: ", Describe(nl.key), " names itself as a parent"));
      }
    }
  }
  return RetryConflicts([&]() -> absl::StatusOr<int> {
    absl::MutexLock lock(&mu_);
    CatchUp();
    Mutation m;
    m.sync = options_.sync_writes;
    int created = 0;
    for (const NewLease& nl : leases) {
      LeaseRecord* r = MutableStaged(&m, nl.key);
      if (r == nullptr) {
        LeaseRecord fresh;
        fresh.key = nl.key;
        fresh.stream_name = nl.stream_name;
        fresh.checkpoint = nl.initial_checkpoint;
        fresh.enabled = nl.enabled;
        // Children created before their parent (in memory) link to it now; children staged in
        // this call are linked in the pass below.
        auto children = children_by_parent_.find(nl.key);
        if (children != children_by_parent_.end()) {
          fresh.child_shard_ids.assign(children->second.begin(), children->second.end());
        }
        r = &*(m.leases[nl.key] = std::move(fresh));
        ++created;
      }
      for (const std::string& p : nl.parent_shard_ids) {
        if (!Contains(r->parent_shard_ids, p)) r->parent_shard_ids.push_back(p);
      }
    }
    // Parents learn their children, whether either is new.
    std::vector<std::pair<LeaseKey, std::string>> links;
    for (const auto& [key, record] : m.leases) {
      for (const std::string& p : record->parent_shard_ids) {
        links.emplace_back(LeaseKey{key.mapping_uuid, p}, key.shard_id);
      }
    }
    for (const auto& [parent_key, child_id] : links) {
      const LeaseRecord* parent = Staged(m, parent_key);
      if (parent == nullptr || Contains(parent->child_shard_ids, child_id)) continue;
      MutableStaged(&m, parent_key)->child_shard_ids.push_back(child_id);
    }
    // Rows staged only to be compared (an existing lease unchanged) are not rewritten.
    for (auto it = m.leases.begin(); it != m.leases.end();) {
      auto current = leases_.find(it->first);
      const bool unchanged =
          current != leases_.end() &&
          current->second.record.parent_shard_ids == it->second->parent_shard_ids &&
          current->second.record.child_shard_ids == it->second->child_shard_ids;
      it = unchanged ? m.leases.erase(it) : std::next(it);
    }
    RETURN_IF_ERROR(Commit(std::move(m)));
    return created;
  });
}

absl::StatusOr<int> LeaseTable::DeleteLeases(const std::vector<LeaseKey>& keys,
                                             const std::string& mapping_uuid) {
  return RetryConflicts([&]() -> absl::StatusOr<int> {
    absl::MutexLock lock(&mu_);
    CatchUp();
    Mutation m;
    m.sync = options_.sync_writes;
    for (const LeaseKey& key : keys) {
      if (leases_.count(key) > 0) m.leases[key] = std::nullopt;
    }
    if (!mapping_uuid.empty()) {
      for (auto it = leases_.lower_bound(LeaseKey{mapping_uuid, ""});
           it != leases_.end() && it->first.mapping_uuid == mapping_uuid; ++it) {
        m.leases[it->first] = std::nullopt;
      }
    }
    const int deleted = static_cast<int>(m.leases.size());
    RETURN_IF_ERROR(Commit(std::move(m)));
    return deleted;
  });
}

absl::StatusOr<int> LeaseTable::SetMappingEnabled(const std::string& mapping_uuid, bool enabled) {
  return RetryConflicts([&]() -> absl::StatusOr<int> {
    absl::MutexLock lock(&mu_);
    CatchUp();
    Mutation m;
    m.sync = options_.sync_writes;
    int count = 0;
    for (auto it = leases_.lower_bound(LeaseKey{mapping_uuid, ""});
         it != leases_.end() && it->first.mapping_uuid == mapping_uuid; ++it) {
      ++count;
      if (it->second.record.enabled == enabled) continue;
      LeaseRecord r = it->second.record;
      r.enabled = enabled;
      m.leases[it->first] = std::move(r);
    }
    RETURN_IF_ERROR(Commit(std::move(m)));
    return count;
  });
}

absl::Status LeaseTable::RegisterPoller(const std::string& poller_id, int capacity) {
  if (poller_id.empty()) return absl::InvalidArgumentError("poller_id: must not be empty");
  if (capacity < 1) {
    return absl::InvalidArgumentError(absl::StrCat("capacity: must be >= 1, got ", capacity));
  }
  return RetryConflicts([&]() -> absl::Status {
    absl::MutexLock lock(&mu_);
    CatchUp();
    PollerRecord r;
    auto it = pollers_.find(poller_id);
    if (it != pollers_.end()) r = it->second.record;
    r.poller_id = poller_id;
    r.capacity = capacity;
    r.last_heartbeat = clock_.Now();  // for display: Commit makes it live by the monotonic clock
    Mutation m;
    m.sync = options_.sync_writes;
    m.pollers[poller_id] = std::move(r);
    return Commit(std::move(m));
  });
}

int LeaseTable::StageDeregister(const std::string& poller_id, Mutation* m) const {
  m->pollers[poller_id] = std::nullopt;
  int released = 0;
  auto owned = by_owner_.find(poller_id);
  if (owned != by_owner_.end()) {
    for (const auto& [key, entry] : owned->second) {
      LeaseRecord r = entry->record;
      r.owner.clear();
      ++r.lease_counter;
      m->leases[key] = std::move(r);
      ++released;
    }
  }
  return released;
}

absl::StatusOr<int> LeaseTable::DeregisterPoller(const std::string& poller_id) {
  return RetryConflicts([&]() -> absl::StatusOr<int> {
    absl::MutexLock lock(&mu_);
    CatchUp();
    if (pollers_.count(poller_id) == 0) {
      return absl::NotFoundError(absl::StrCat("poller ", poller_id, " is not registered"));
    }
    Mutation m;
    m.sync = options_.sync_writes;
    const int released = StageDeregister(poller_id, &m);
    RETURN_IF_ERROR(Commit(std::move(m)));
    return released;
  });
}

absl::Status LeaseTable::ForgetSilentPollers(MonotonicTime now, const std::string& spare) {
  if (now < next_forget_sweep_) return absl::OkStatus();
  Mutation m;
  m.sync = options_.sync_writes;
  for (const auto& [id, poller] : pollers_) {
    if (id == spare) continue;
    // live_until is (last heartbeat, or the open time for a poller loaded then) + lease_duration.
    const MonotonicTime silent_since = poller.live_until - options_.lease_duration;
    if (now >= silent_since + options_.forget_poller_after) StageDeregister(id, &m);
  }
  if (!m.pollers.empty()) RETURN_IF_ERROR(Commit(std::move(m)));
  next_forget_sweep_ = now + options_.lease_duration;
  return absl::OkStatus();
}

absl::StatusOr<HeartbeatResult> LeaseTable::Heartbeat(const std::string& poller_id,
                                                      const std::vector<LeaseProgress>& progress) {
  return RetryConflicts([&]() -> absl::StatusOr<HeartbeatResult> {
    absl::MutexLock lock(&mu_);
    CatchUp();
    if (pollers_.count(poller_id) == 0) {
      return absl::NotFoundError(
          absl::StrCat("poller ", poller_id, " is not registered: register again"));
    }
    const MonotonicTime now = clock_.MonotonicNow();
    const absl::Time wall_now = clock_.Now();
    Mutation m;
    m.sync = false;  // see the file comment in the header: a lost heartbeat only shortens a life
    m.renew_pollers[poller_id] = Renewed(poller_id, wall_now);
    RETURN_IF_ERROR(Commit(std::move(m)));

    for (const LeaseProgress& p : progress) {
      auto it = leases_.find(p.key);
      if (it == leases_.end() || it->second.record.owner != poller_id) continue;
      it->second.iterator_age_ms = p.iterator_age_ms;
      if (!p.last_processing_result.empty()) {
        it->second.last_processing_result = p.last_processing_result;
        // Without a time, the report is as new as this heartbeat.
        it->second.last_processing_result_time =
            p.last_processing_result_time == absl::InfinitePast() ? wall_now
                                                                  : p.last_processing_result_time;
      }
      if (!p.last_error.kind.empty()) {
        it->second.last_error = p.last_error;
        if (p.last_error.time == absl::InfinitePast()) it->second.last_error.time = wall_now;
      }
    }
    HeartbeatResult result;
    // Live until the next lease duration (a store that keeps liveness: the TTL just renewed).
    result.lease_expiration =
        wall_now + std::min(pollers_.at(poller_id).live_until - now, options_.lease_duration);
    auto owned = by_owner_.find(poller_id);
    if (owned == by_owner_.end()) return result;
    int held_assignable = 0;
    result.owned.reserve(owned->second.size());
    for (const auto& [key, entry] : owned->second) {
      result.owned.push_back(HeldLease{key, entry->record.lease_counter});
      if (entry->assignable) {
        ++held_assignable;
      } else {
        result.to_release.push_back(key);  // disabled, finished, or its parents came back
      }
    }
    // Fast path: every target is at least min(capacity, ceil(assignable / registered pollers)),
    // because the water level is at least assignable / live pollers. A poller within that bound is
    // not over its target, and the O(p log p) computation is skipped.
    const int64_t registered = static_cast<int64_t>(pollers_.size());
    const int64_t floor_target = std::min<int64_t>(
        pollers_.at(poller_id).record.capacity, (assignable_count_ + registered - 1) / registered);
    if (held_assignable <= floor_target) return result;
    int excess = held_assignable - Targets(now)[poller_id];
    for (auto it = owned->second.begin(); excess > 0 && it != owned->second.end(); ++it) {
      const LeaseEntry& entry = *it->second;
      if (!entry.assignable || now < entry.moved_at + options_.min_hold) continue;
      result.to_release.push_back(it->first);
      --excess;
    }
    return result;
  });
}

absl::StatusOr<std::vector<Lease>> LeaseTable::AcquireLeases(const std::string& poller_id) {
  return RetryConflicts([&]() -> absl::StatusOr<std::vector<Lease>> {
    absl::MutexLock lock(&mu_);
    CatchUp();
    auto poller = pollers_.find(poller_id);
    if (poller == pollers_.end()) {
      return absl::NotFoundError(
          absl::StrCat("poller ", poller_id, " is not registered: register again"));
    }
    const MonotonicTime now = clock_.MonotonicNow();
    const absl::Time wall_now = clock_.Now();
    // The caller is spared (this very call renews it), so `poller` stays valid: erasing other map
    // entries does not invalidate it.
    RETURN_IF_ERROR(ForgetSilentPollers(now, poller_id));
    const int capacity = poller->second.record.capacity;
    Mutation m;
    m.renew_pollers[poller_id] = Renewed(poller_id, wall_now);

    // The caller is live (this call is a heartbeat) even if its stored life had run out.
    const bool was_live = IsLive(poller_id, now);
    const MonotonicTime live_until_before = poller->second.live_until;
    if (!was_live) poller->second.live_until = now + options_.lease_duration;
    const int target = Targets(now)[poller_id];
    int held = 0;
    int held_assignable = 0;
    auto owned = by_owner_.find(poller_id);
    if (owned != by_owner_.end()) {
      for (const auto& [key, entry] : owned->second) {
        ++held;
        if (entry->assignable) ++held_assignable;
      }
    }
    int want = std::min(target - held_assignable, capacity - held);

    std::vector<LeaseKey> granted;
    auto grant = [&](const LeaseRecord& current) {
      LeaseRecord r = current;
      r.owner = poller_id;
      ++r.lease_counter;
      ++r.owner_switches_since_checkpoint;
      r.moved_at = wall_now;  // for display; min_hold counts from LeaseEntry::moved_at
      granted.push_back(r.key);
      m.leases[r.key] = std::move(r);
      --want;
    };
    for (auto it = unowned_assignable_.begin(); want > 0 && it != unowned_assignable_.end(); ++it) {
      grant(leases_.at(*it).record);
    }
    int expired_grants = 0;
    if (want > 0) {
      for (const auto& [owner, entries] : by_owner_) {
        if (want <= 0) break;
        if (owner == poller_id || IsLive(owner, now)) continue;
        for (auto it = entries.begin(); want > 0 && it != entries.end(); ++it) {
          if (it->second->assignable) {
            grant(it->second->record);
            ++expired_grants;
            m.check_pollers.insert(owner);  // another replica may have heard from it since
          }
        }
      }
    }
    if (!granted.empty()) {
      m.sync = options_.sync_writes;
      // A grant writes the poller's row (not only renews it): a deregistration or forget sweep
      // through another replica that has not seen the grant compares that row and conflicts,
      // instead of releasing nothing. (Without KeepsLiveness the renewal writes it anyway.)
      m.pollers[poller_id] = std::move(m.renew_pollers[poller_id]);
      m.renew_pollers.erase(poller_id);
    }
    absl::Status status = Commit(std::move(m));
    if (!status.ok()) {
      poller->second.live_until = live_until_before;  // undo the provisional life
      return status;
    }
    expired_leases_acquired_.fetch_add(expired_grants);
    std::vector<Lease> result;
    result.reserve(granted.size());
    for (const LeaseKey& key : granted) result.push_back(ToLease(leases_.at(key), now));
    return result;
  });
}

absl::Status LeaseTable::ReleaseLease(const LeaseKey& key, const std::string& poller_id,
                                      int64_t lease_counter) {
  return RetryConflicts([&]() -> absl::Status {
    absl::MutexLock lock(&mu_);
    CatchUp();
    ASSIGN_OR_RETURN(const LeaseEntry* entry, FindFenced(key, poller_id, lease_counter));
    LeaseRecord r = entry->record;
    r.owner.clear();
    ++r.lease_counter;
    Mutation m;
    m.sync = options_.sync_writes;
    m.leases[key] = std::move(r);
    return Commit(std::move(m));
  });
}

absl::StatusOr<Lease> LeaseTable::Checkpoint(const LeaseKey& key, const std::string& poller_id,
                                             int64_t lease_counter,
                                             const leasing::Checkpoint& checkpoint) {
  if (checkpoint.type != CheckpointType::kSequenceNumber &&
      checkpoint.type != CheckpointType::kShardEnd) {
    return absl::InvalidArgumentError("checkpoint.type: must be SEQUENCE_NUMBER or SHARD_END");
  }
  // Group commit (LevelDB's writer queue): the call queues itself; while another call writes a
  // group, it waits. When no group is being written, the first call to notice takes every
  // queued checkpoint, its own included, and writes them in one store write; the others find
  // their answers without taking the table's lock.
  return RetryConflicts([&]() -> absl::StatusOr<Lease> {
    PendingCheckpoint me{&key, &poller_id, lease_counter, &checkpoint};
    std::vector<PendingCheckpoint*> group;
    {
      absl::MutexLock queue_lock(&queue_mu_);
      queued_checkpoints_.push_back(&me);
      // Each call waits on a CondVar of its own, woken by its group's writer or, first in the
      // queue, by the writer before (a Condition per waiter was evaluated for every waiter at
      // every unlock of queue_mu_: ~8% of the process in issue 19's profile, 190 callers).
      while (!me.done && committing_checkpoints_) me.wake.Wait(&queue_mu_);
      if (me.done) return std::move(me.result);
      committing_checkpoints_ = true;
      group.swap(queued_checkpoints_);
    }
    {
      absl::MutexLock lock(&mu_);
      CatchUp();
      CommitCheckpoints(group);
    }
    absl::MutexLock queue_lock(&queue_mu_);
    for (PendingCheckpoint* p : group) {
      p->done = true;
      p->wake.Signal();  // it returns once we release queue_mu_: not touched after this
    }
    committing_checkpoints_ = false;
    if (!queued_checkpoints_.empty()) queued_checkpoints_.front()->wake.Signal();  // next writer
    return std::move(me.result);
  });
}

void LeaseTable::CommitCheckpoints(const std::vector<PendingCheckpoint*>& group) {
  const MonotonicTime now = clock_.MonotonicNow();
  Mutation m;
  m.sync = options_.sync_writes;
  // Each checkpoint is checked on its own, in queue order, against the lease as the earlier ones
  // of the group leave it: a fenced or backward one fails or is ignored alone. Checkpoints do not
  // change owners or counters, so fencing reads memory.
  enum class Outcome { kRefused, kIgnored, kWritten };
  std::vector<Outcome> outcomes(group.size(), Outcome::kIgnored);
  // Each lease's entry, found once: checkpoints neither add nor erase entries, so they stay put
  // through Commit (fewer lookups in the lease map, issue 19's profile).
  std::vector<const LeaseEntry*> entries(group.size(), nullptr);
  for (size_t i = 0; i < group.size(); ++i) {
    PendingCheckpoint& p = *group[i];
    absl::StatusOr<const LeaseEntry*> entry = FindFenced(*p.key, *p.poller_id, p.lease_counter);
    if (!entry.ok()) {
      p.result = entry.status();
      outcomes[i] = Outcome::kRefused;
      continue;
    }
    entries[i] = *entry;
    auto earlier = m.leases.find(*p.key);  // an earlier checkpoint of the group, if any
    const LeaseRecord& staged = earlier != m.leases.end() ? *earlier->second : (*entry)->record;
    const leasing::Checkpoint& current = staged.checkpoint;
    const bool backwards = current.type == CheckpointType::kShardEnd ||
                           (p.checkpoint->type == CheckpointType::kSequenceNumber &&
                            current.type == CheckpointType::kSequenceNumber &&
                            p.checkpoint->sequence_number <= current.sequence_number);
    if (backwards) continue;  // accepted and ignored: never backwards
    LeaseRecord r = staged;
    r.checkpoint = *p.checkpoint;
    r.checkpoint.timestamp = absl::UnixEpoch();
    if (p.checkpoint->type == CheckpointType::kShardEnd) r.checkpoint.sequence_number = 0;
    r.owner_switches_since_checkpoint = 0;
    m.leases[*p.key] = std::move(r);
    outcomes[i] = Outcome::kWritten;
  }
  const absl::Status committed = Commit(std::move(m));
  for (size_t i = 0; i < group.size(); ++i) {
    PendingCheckpoint& p = *group[i];
    if (outcomes[i] == Outcome::kRefused) continue;
    if (outcomes[i] == Outcome::kWritten && !committed.ok()) {
      p.result = committed;  // the group's write failed: nothing changed
    } else {
      p.result = ToLease(*entries[i], now);
    }
  }
}

absl::StatusOr<LeaseTable::MovedCheckpoint> LeaseTable::MoveCheckpoint(
    const LeaseKey& key, const leasing::Checkpoint& checkpoint) {
  if (checkpoint.type == CheckpointType::kShardEnd) {
    return absl::InvalidArgumentError(
        "checkpoint.type: SHARD_END cannot be set by hand (a shard ends when it is read to its "
        "end)");
  }
  return RetryConflicts([&]() -> absl::StatusOr<MovedCheckpoint> {
    absl::MutexLock lock(&mu_);
    CatchUp();
    const MonotonicTime now = clock_.MonotonicNow();
    auto it = leases_.find(key);
    if (it == leases_.end()) return absl::NotFoundError(absl::StrCat(Describe(key), " not found"));
    MovedCheckpoint moved;
    moved.before = ToLease(it->second, now);
    LeaseRecord r = it->second.record;
    r.checkpoint = checkpoint;
    if (checkpoint.type != CheckpointType::kSequenceNumber) r.checkpoint.sequence_number = 0;
    if (checkpoint.type != CheckpointType::kAtTimestamp) r.checkpoint.timestamp = absl::UnixEpoch();
    // Fencing: a new counter and no owner, as a release. The checkpoint queue checks owner and
    // counter against memory under mu_, after this write is applied, so a checkpoint of the old
    // owner queued now is refused.
    r.owner.clear();
    ++r.lease_counter;
    r.owner_switches_since_checkpoint = 0;
    Mutation m;
    m.sync = options_.sync_writes;
    m.leases[key] = std::move(r);
    RETURN_IF_ERROR(Commit(std::move(m)));
    moved.after = ToLease(leases_.at(key), now);
    return moved;
  });
}

absl::Status LeaseTable::WaitForQueuedCheckpoints(int n, absl::Duration real_timeout) {
  return AwaitFor(
      queue_mu_, real_timeout, absl::StrCat(n, " queued checkpoints"),
      [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
        return static_cast<int>(queued_checkpoints_.size()) >= n;
      },
      [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
        return absl::StrCat(queued_checkpoints_.size(), " queued checkpoints");
      });
}

absl::StatusOr<Lease> LeaseTable::GetLease(const LeaseKey& key) {
  absl::MutexLock lock(&mu_);
  CatchUp();
  auto it = leases_.find(key);
  if (it == leases_.end()) return absl::NotFoundError(absl::StrCat(Describe(key), " not found"));
  return ToLease(it->second, clock_.MonotonicNow());
}

absl::StatusOr<LeasePage> LeaseTable::ListLeases(const LeaseFilter& filter, int max_results,
                                                 const std::string& page_token) {
  if (max_results < 1) {
    return absl::InvalidArgumentError(absl::StrCat("max_results: must be >= 1, got ", max_results));
  }
  std::optional<LeaseKey> after;
  if (!page_token.empty()) {
    ASSIGN_OR_RETURN(after, DecodePageToken(page_token));
  }
  absl::MutexLock lock(&mu_);
  CatchUp();
  const MonotonicTime now = clock_.MonotonicNow();
  LeasePage page;
  // Visits candidate keys in order after `after`; returns false to stop.
  auto visit = [&](const LeaseKey& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!filter.mapping_uuid.empty() && key.mapping_uuid != filter.mapping_uuid) return true;
    if (!filter.shard_id.empty() && key.shard_id != filter.shard_id) return true;
    const LeaseEntry& entry = leases_.at(key);
    if (!filter.owner.empty() && entry.record.owner != filter.owner) return true;
    if (static_cast<int>(page.leases.size()) == max_results) {
      page.next_token = EncodePageToken(page.leases.back().record.key);
      return false;
    }
    page.leases.push_back(ToLease(entry, now));
    return true;
  };
  if (!filter.owner.empty()) {
    auto owned = by_owner_.find(filter.owner);
    if (owned == by_owner_.end()) return page;
    auto it = after ? owned->second.upper_bound(*after) : owned->second.begin();
    for (; it != owned->second.end() && visit(it->first); ++it) {
    }
    return page;
  }
  auto it = after ? leases_.upper_bound(*after) : leases_.lower_bound({filter.mapping_uuid, ""});
  for (; it != leases_.end(); ++it) {
    if (!filter.mapping_uuid.empty() && it->first.mapping_uuid != filter.mapping_uuid) break;
    if (!visit(it->first)) break;
  }
  return page;
}

bool LeaseTable::IsPollerLive(const std::string& poller_id) {
  absl::MutexLock lock(&mu_);
  CatchUp();
  return IsLive(poller_id, clock_.MonotonicNow());
}

std::vector<PollerInfo> LeaseTable::ListPollers() {
  absl::MutexLock lock(&mu_);
  CatchUp();
  const MonotonicTime now = clock_.MonotonicNow();
  std::vector<PollerInfo> result;
  for (const auto& [id, poller] : pollers_) {
    PollerInfo info;
    info.poller_id = id;
    info.capacity = poller.record.capacity;
    info.last_heartbeat = poller.record.last_heartbeat;
    info.live = now < poller.live_until;
    auto owned = by_owner_.find(id);
    info.lease_count = owned == by_owner_.end() ? 0 : static_cast<int>(owned->second.size());
    result.push_back(std::move(info));
  }
  return result;
}

std::vector<MappingSummary> LeaseTable::SummarizeLeases(
    const std::vector<std::string>& mapping_uuids) {
  absl::MutexLock lock(&mu_);
  CatchUp();
  std::vector<MappingSummary> result;
  result.reserve(mapping_uuids.size());
  for (const std::string& uuid : mapping_uuids) {
    MappingSummary summary;
    summary.mapping_uuid = uuid;
    bool has_result = false;
    for (auto it = leases_.lower_bound(LeaseKey{uuid, ""});
         it != leases_.end() && it->first.mapping_uuid == uuid; ++it) {
      const LeaseEntry& e = it->second;
      if (!e.last_processing_result.empty()) {
        const absl::Time at = e.last_processing_result_time;
        // A failure is not hidden by a success seen at the same instant.
        if (!has_result || at > summary.last_processing_result_time ||
            (at == summary.last_processing_result_time &&
             summary.last_processing_result == kOkProcessingResult &&
             e.last_processing_result != kOkProcessingResult)) {
          summary.last_processing_result = e.last_processing_result;
          summary.last_processing_result_time = at;
          has_result = true;
        }
      }
      if (!e.last_error.kind.empty() &&
          (summary.last_error.kind.empty() || e.last_error.time > summary.last_error.time)) {
        summary.last_error = e.last_error;
        summary.last_error_shard_id = it->first.shard_id;
      }
    }
    result.push_back(std::move(summary));
  }
  return result;
}

}  // namespace tributary::leasing
