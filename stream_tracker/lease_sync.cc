// The lease sync pass. Every step is idempotent, so a pass cut short by an error (or a crash) is
// simply repeated: CreateLeases leaves existing leases alone, DeleteLeases ignores missing ones,
// and the mapping record is committed last. The record's `known_shard_ids` tells shards decided
// in an earlier pass (leased, or skipped as closed ancestors under LATEST) from new ones.
#include "stream_tracker/lease_sync.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/await.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "stream_tracker/mapping_state.h"

namespace tributary::stream_tracker {
namespace {

bool IsClosed(const v1::Shard& shard) {
  return !shard.sequence_number_range().ending_sequence_number().empty();
}

std::vector<std::string> ParentIds(const v1::Shard& shard) {
  std::vector<std::string> parents;
  if (!shard.parent_shard_id().empty()) parents.push_back(shard.parent_shard_id());
  if (!shard.adjacent_parent_shard_id().empty())
    parents.push_back(shard.adjacent_parent_shard_id());
  return parents;
}

// `shards` reordered so that every parent present in the list comes before its children.
std::vector<const v1::Shard*> ParentsFirst(const std::vector<v1::Shard>& shards) {
  std::map<std::string, const v1::Shard*> by_id;
  for (const v1::Shard& shard : shards) by_id[shard.shard_id()] = &shard;
  std::vector<const v1::Shard*> order;
  std::set<std::string> visited;
  // Iterative depth-first walk: a shard is emitted after its parents. Lineage is acyclic (a
  // child is always newer than its parents); `visited` also guards against a malformed listing.
  std::function<void(const v1::Shard*)> visit = [&](const v1::Shard* shard) {
    if (!visited.insert(shard->shard_id()).second) return;
    for (const std::string& parent : ParentIds(*shard)) {
      auto it = by_id.find(parent);
      if (it != by_id.end()) visit(it->second);
    }
    order.push_back(shard);
  };
  for (const v1::Shard& shard : shards) visit(&shard);
  return order;
}

struct LeasePlan {
  std::vector<v1::NewLease> to_create;
  std::vector<v1::LeaseKey> to_delete;
  // Every current shard: after this pass, each one is decided.
  std::vector<std::string> known_shard_ids;
  bool work_ended = false;
};

// `open_from`: on the first pass of a LATEST or AT_TIMESTAMP mapping, the shards open at or after
// its start time (closed shards outside it hold nothing to read); otherwise unused.
LeasePlan PlanLeases(const MappingRecord& record, const std::vector<v1::Shard>& shards,
                     const std::vector<v1::Lease>& leases, const std::set<std::string>& open_from) {
  const v1::EventSourceMappingConfiguration& config = record.config();
  LeasePlan plan;
  std::set<std::string> shard_ids;
  for (const v1::Shard& shard : shards) shard_ids.insert(shard.shard_id());
  std::map<std::string, const v1::Lease*> lease_by_shard;
  for (const v1::Lease& lease : leases) {
    if (shard_ids.count(lease.shard_id()) == 0) {
      v1::LeaseKey key;
      key.set_event_source_mapping_uuid(config.uuid());
      key.set_shard_id(lease.shard_id());
      plan.to_delete.push_back(std::move(key));
    } else {
      lease_by_shard[lease.shard_id()] = &lease;
    }
  }
  const std::set<std::string> known(record.known_shard_ids().begin(),
                                    record.known_shard_ids().end());

  bool all_closed = true;
  bool all_leases_at_end = true;
  for (const v1::Shard* shard : ParentsFirst(shards)) {
    const std::string& id = shard->shard_id();
    plan.known_shard_ids.push_back(id);
    if (!IsClosed(*shard)) all_closed = false;
    auto existing = lease_by_shard.find(id);
    if (existing != lease_by_shard.end()) {
      if (existing->second->checkpoint().type() != v1::SHARD_END) all_leases_at_end = false;
      continue;
    }
    if (record.initial_leases_created() && known.count(id) > 0) continue;  // decided before

    v1::Checkpoint checkpoint;
    if (record.initial_leases_created()) {
      checkpoint.set_type(v1::TRIM_HORIZON_CHECKPOINT);  // a new child: from its start
    } else {
      switch (config.starting_position()) {
        case v1::LATEST_POSITION:
          // A shard closed before the mapping was created: a skipped ancestor.
          if (IsClosed(*shard) && open_from.count(id) == 0) continue;
          checkpoint.set_type(v1::AT_TIMESTAMP_CHECKPOINT);
          *checkpoint.mutable_timestamp() =
              ToProtoTimestamp(absl::FromUnixMillis(record.created_unix_ms()));
          break;
        case v1::AT_TIMESTAMP_POSITION:
          // A shard closed before the timestamp has nothing to read.
          if (IsClosed(*shard) && open_from.count(id) == 0) continue;
          checkpoint.set_type(v1::AT_TIMESTAMP_CHECKPOINT);
          *checkpoint.mutable_timestamp() = config.starting_position_timestamp();
          break;
        default:
          checkpoint.set_type(v1::TRIM_HORIZON_CHECKPOINT);
          break;
      }
    }
    v1::NewLease lease;
    lease.set_event_source_mapping_uuid(config.uuid());
    lease.set_shard_id(id);
    lease.set_stream_name(config.stream_name());
    for (const std::string& parent : ParentIds(*shard)) lease.add_parent_shard_ids(parent);
    *lease.mutable_initial_checkpoint() = std::move(checkpoint);
    lease.set_enabled(config.enabled());
    plan.to_create.push_back(std::move(lease));
  }
  plan.work_ended = !shards.empty() && all_closed && all_leases_at_end && plan.to_create.empty();
  return plan;
}

// Inside a Modify: moves `c` from its transitional state to the stable one, if the pass saw it
// at `version` (a newer change is left for the next pass). Returns whether it changed `c`.
bool Settle(v1::EventSourceMappingConfiguration* c, int64_t version) {
  if (c->config_version() != version || !IsTransitional(c->state()) ||
      c->state() == v1::DELETING_MAPPING) {
    return false;
  }
  c->set_state(StableState(c->enabled()));
  return true;
}

// Records a change the sync made to `c` at `now`.
void Touch(v1::EventSourceMappingConfiguration* c, absl::Time now) {
  *c->mutable_last_modified() = ToProtoTimestamp(now);
  c->set_config_version(c->config_version() + 1);
}

// Whether the pollers' summary says something `config` does not show yet. An empty summary
// field never counts (leasing keeps reports in memory only: after its restart the mapping keeps
// its texts until the pollers report again).
bool ProgressChanged(const v1::EventSourceMappingConfiguration& config,
                     const v1::MappingLeaseSummary& summary) {
  const bool result_changed = !summary.last_processing_result().empty() &&
                              summary.last_processing_result() != config.last_processing_result();
  const bool error_changed = !summary.last_error_kind().empty() &&
                             (summary.last_error_kind() != config.last_error_kind() ||
                              summary.last_error_message() != config.last_error_message() ||
                              summary.last_error_shard_id() != config.last_error_shard_id() ||
                              FromProtoTimestamp(summary.last_error_time()) !=
                                  FromProtoTimestamp(config.last_error_time()));
  return result_changed || error_changed;
}

// Copies the summary's non-empty parts into `c`.
void ApplyProgress(const v1::MappingLeaseSummary& summary, v1::EventSourceMappingConfiguration* c) {
  if (!summary.last_processing_result().empty()) {
    c->set_last_processing_result(summary.last_processing_result());
  }
  if (!summary.last_error_kind().empty()) {
    c->set_last_error_kind(summary.last_error_kind());
    c->set_last_error_message(summary.last_error_message());
    *c->mutable_last_error_time() = summary.last_error_time();
    c->set_last_error_shard_id(summary.last_error_shard_id());
  }
}

// Whether a poller may still invoke for one of `leases`: a lease with an owner whose heartbeats
// have not stopped. (An expired owner stops its own consumers after a lease duration without a
// heartbeat, which is before leasing calls it expired.)
bool AnyHeld(const std::vector<v1::Lease>& leases) {
  for (const v1::Lease& lease : leases) {
    if (!lease.lease_owner().empty() && !lease.expired()) return true;
  }
  return false;
}

bool SameKnownShards(const MappingRecord& record, const std::vector<std::string>& ids) {
  return std::set<std::string>(record.known_shard_ids().begin(), record.known_shard_ids().end()) ==
         std::set<std::string>(ids.begin(), ids.end());
}

}  // namespace

LeaseSync::LeaseSync(MappingStore* store, StreamCatalog* streams, LeaseAdmin* leases, Clock& clock,
                     const Options& options)
    : store_(store), streams_(streams), leases_(leases), clock_(clock), options_(options) {}

LeaseSync::~LeaseSync() { Stop(); }

absl::Status LeaseSync::RunOnce() {
  const MonotonicTime start = clock_.MonotonicNow();
  absl::Status status = RunPass();
  if (pass_observer_) pass_observer_(status, clock_.MonotonicNow() - start);
  return status;
}

absl::Status LeaseSync::RunPass() {
  ASSIGN_OR_RETURN(std::vector<MappingRecord> records, store_->List());
  absl::Status first_error;
  ShardCache shard_cache;
  ProbeCache probe_cache;
  std::set<std::string> present;
  for (const MappingRecord& record : records) {
    present.insert(record.config().uuid());
    absl::Status status = SyncMapping(record, &shard_cache, &probe_cache);
    if (!status.ok() && first_error.ok()) {
      first_error = WithContext(status, "syncing mapping ", record.config().uuid());
    }
  }
  for (auto it = synced_.begin(); it != synced_.end();) {
    it = present.count(it->first) > 0 ? std::next(it) : synced_.erase(it);
  }
  absl::Status progress = SyncProgress(records);
  if (first_error.ok()) first_error = progress;
  return first_error;
}

absl::Status LeaseSync::SyncProgress(const std::vector<MappingRecord>& records) {
  std::vector<std::string> uuids;
  for (const MappingRecord& record : records) {
    if (record.config().state() != v1::DELETING_MAPPING) uuids.push_back(record.config().uuid());
  }
  if (uuids.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<v1::MappingLeaseSummary>> summaries = leases_->SummarizeLeases(uuids);
  if (!summaries.ok()) return WithContext(summaries.status(), "summarizing the leases' reports");
  if (summaries->size() != uuids.size()) {
    return absl::InternalError(absl::StrCat("SummarizeLeases answered ", summaries->size(),
                                            " summaries for ", uuids.size(), " mappings"));
  }
  absl::Status first_error;
  size_t i = 0;
  for (const MappingRecord& record : records) {
    if (record.config().state() == v1::DELETING_MAPPING) continue;
    const v1::MappingLeaseSummary& summary = (*summaries)[i++];
    // The pass may have written the mapping since `records` was read, but these fields only on
    // the stream-gone path, which deleted the leases first (their summary is empty).
    if (!ProgressChanged(record.config(), summary)) continue;
    absl::StatusOr<MappingRecord> written =
        store_->Modify(record.config().uuid(), [&](MappingRecord* r) {
          // Not a configuration or state change: config_version and last_modified stay (see the
          // header).
          ApplyProgress(summary, r->mutable_config());
          return absl::OkStatus();
        });
    if (absl::IsNotFound(written.status())) continue;  // removed meanwhile (deleted)
    if (!written.ok() && first_error.ok()) {
      first_error = WithContext(written.status(), "recording the reports of mapping ",
                                record.config().uuid());
    }
  }
  return first_error;
}

absl::Status LeaseSync::SyncMapping(const MappingRecord& snapshot, ShardCache* shard_cache,
                                    ProbeCache* probe_cache) {
  const v1::EventSourceMappingConfiguration& config = snapshot.config();
  const std::string& uuid = config.uuid();
  if (config.state() == v1::DELETING_MAPPING) {
    synced_.erase(uuid);
    return SyncDeleting(snapshot);
  }
  const bool transitional = IsTransitional(config.state());
  const absl::Time now = clock_.Now();  // for last_modified
  const MonotonicTime mono_now = clock_.MonotonicNow();  // for full_sync_interval

  // The probe: is a full look needed?
  auto synced = synced_.find(uuid);
  const std::string after_id = synced == synced_.end() ? "" : synced->second.newest_shard_id;
  auto probed = probe_cache->find({config.stream_name(), after_id});
  if (probed == probe_cache->end()) {
    probed = probe_cache
                 ->emplace(std::make_pair(config.stream_name(), after_id),
                           streams_->ProbeShardSet(config.stream_name(), after_id))
                 .first;
  }
  const absl::StatusOr<ShardSetProbe>& probe = probed->second;
  if (absl::IsNotFound(probe.status())) {
    synced_.erase(uuid);
    return SyncStreamGone(snapshot);
  }
  RETURN_IF_ERROR(probe.status());
  const int64_t stream_created_ms = absl::ToUnixMillis(probe->created);
  if (snapshot.stream_created_unix_ms() != 0 &&
      snapshot.stream_created_unix_ms() != stream_created_ms) {
    // Deleted and created again since the last pass: the leases and known shards are the old
    // stream's. Record it as gone; the next pass (asked for now) starts over on the new one.
    synced_.erase(uuid);
    RETURN_IF_ERROR(SyncStreamGone(snapshot));
    RequestSync();
    return absl::OkStatus();
  }
  if (synced != synced_.end() && !transitional && snapshot.initial_leases_created() &&
      synced->second.config_version == config.config_version() &&
      mono_now < synced->second.synced_at + options_.full_sync_interval &&
      synced->second.stream_created == probe->created && !probe->has_shard_after &&
      synced->second.open_shard_count == probe->open_shard_count &&
      (probe->open_shard_count > 0 || snapshot.work_ended())) {
    return absl::OkStatus();  // nothing changed that a full look would act on
  }
  // A full look; remembered only once it succeeded.
  if (synced != synced_.end()) synced_.erase(synced);
  SyncedShape shape;
  shape.stream_created = probe->created;
  shape.open_shard_count = probe->open_shard_count;
  shape.synced_at = mono_now;

  auto cached = shard_cache->find(config.stream_name());
  if (cached == shard_cache->end()) {
    cached = shard_cache->emplace(config.stream_name(), streams_->ListShards(config.stream_name()))
                 .first;
  }
  const absl::StatusOr<std::vector<v1::Shard>>& shards = cached->second;
  if (absl::IsNotFound(shards.status())) return SyncStreamGone(snapshot);
  RETURN_IF_ERROR(shards.status());
  ASSIGN_OR_RETURN(std::vector<v1::Lease> leases, leases_->ListLeases(uuid));
  std::set<std::string> open_from;
  if (!snapshot.initial_leases_created() &&
      (config.starting_position() == v1::LATEST_POSITION ||
       config.starting_position() == v1::AT_TIMESTAMP_POSITION)) {
    const absl::Time start = config.starting_position() == v1::LATEST_POSITION
                                 ? absl::FromUnixMillis(snapshot.created_unix_ms())
                                 : FromProtoTimestamp(config.starting_position_timestamp());
    ASSIGN_OR_RETURN(std::vector<std::string> ids,
                     streams_->ListShardIdsOpenFrom(config.stream_name(), start));
    open_from.insert(ids.begin(), ids.end());
  }

  LeasePlan plan = PlanLeases(snapshot, *shards, leases, open_from);
  if (!plan.to_delete.empty()) RETURN_IF_ERROR(leases_->DeleteLeases(plan.to_delete));
  if (!plan.to_create.empty()) RETURN_IF_ERROR(leases_->CreateLeases(plan.to_create).status());
  if (transitional) RETURN_IF_ERROR(leases_->SetMappingEnabled(uuid, config.enabled()));
  // DISABLED means that no poller invokes for the mapping any more: every lease given back (its
  // holder finished its invocation in flight and checkpointed) or its owner's heartbeats
  // stopped. Until then the mapping stays in its transitional state (DISABLING). Listed after
  // the disable, so that a lease acquired just before it is seen.
  bool settle = transitional;
  if (transitional && !config.enabled()) {
    ASSIGN_OR_RETURN(std::vector<v1::Lease> after_disable, leases_->ListLeases(uuid));
    settle = !AnyHeld(after_disable);
  }
  for (const v1::Shard& shard : *shards) {
    shape.newest_shard_id = std::max(shape.newest_shard_id, shard.shard_id());
  }

  if (!settle && snapshot.initial_leases_created() &&
      plan.work_ended == snapshot.work_ended() && SameKnownShards(snapshot, plan.known_shard_ids) &&
      snapshot.stream_created_unix_ms() == stream_created_ms) {
    shape.config_version = config.config_version();
    synced_[uuid] = std::move(shape);
    return absl::OkStatus();  // nothing to record
  }
  const int64_t version = config.config_version();
  absl::StatusOr<MappingRecord> written = store_->Modify(uuid, [&](MappingRecord* r) {
    r->set_initial_leases_created(true);
    r->set_stream_created_unix_ms(stream_created_ms);
    r->clear_known_shard_ids();
    for (const std::string& id : plan.known_shard_ids) r->add_known_shard_ids(id);
    v1::EventSourceMappingConfiguration* c = r->mutable_config();
    bool changed = settle && Settle(c, version);
    if (plan.work_ended != r->work_ended()) {
      r->set_work_ended(plan.work_ended);
      c->set_state_transition_reason(plan.work_ended ? kWorkEndedStreamClosed : kStreamFoundAgain);
      changed = true;
    }
    if (changed) Touch(c, now);
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(written.status());
  shape.config_version = written->config().config_version();
  synced_[uuid] = std::move(shape);
  return absl::OkStatus();
}

absl::Status LeaseSync::SyncDeleting(const MappingRecord& snapshot) {
  const std::string& uuid = snapshot.config().uuid();
  // Updates of a DELETING mapping are refused, so nothing can revive it meanwhile. Gone means
  // that no poller invokes for it any more: its leases are disabled (their holders are told to
  // give them back after the invocation in flight), and deleted with the mapping once none is
  // held; until then it stays DELETING.
  RETURN_IF_ERROR(leases_->SetMappingEnabled(uuid, false));
  ASSIGN_OR_RETURN(std::vector<v1::Lease> leases, leases_->ListLeases(uuid));
  if (AnyHeld(leases)) return absl::OkStatus();  // the next pass looks again
  RETURN_IF_ERROR(leases_->DeleteMappingLeases(uuid));
  return store_->Remove(uuid);
}

absl::Status LeaseSync::SyncStreamGone(const MappingRecord& snapshot) {
  const v1::EventSourceMappingConfiguration& config = snapshot.config();
  const std::string& uuid = config.uuid();
  // The stream's records are gone with it: its leases are leases of trimmed shards.
  ASSIGN_OR_RETURN(std::vector<v1::Lease> leases, leases_->ListLeases(uuid));
  if (!leases.empty()) RETURN_IF_ERROR(leases_->DeleteMappingLeases(uuid));
  const bool transitional = IsTransitional(config.state());
  if (!transitional && snapshot.work_ended() && !snapshot.initial_leases_created() &&
      snapshot.known_shard_ids_size() == 0 && snapshot.stream_created_unix_ms() == 0) {
    return absl::OkStatus();  // already recorded
  }
  const int64_t version = config.config_version();
  const absl::Time now = clock_.Now();
  return store_
      ->Modify(uuid,
               [&](MappingRecord* r) {
                 // Start over from the starting position should the stream be created again.
                 r->set_initial_leases_created(false);
                 r->clear_known_shard_ids();
                 r->set_stream_created_unix_ms(0);
                 v1::EventSourceMappingConfiguration* c = r->mutable_config();
                 bool changed = Settle(c, version);
                 if (!r->work_ended()) {
                   r->set_work_ended(true);
                   c->set_state_transition_reason(kWorkEndedStreamDeleted);
                   c->set_last_processing_result(kStreamNotFoundResult);
                   changed = true;
                 }
                 if (changed) Touch(c, now);
                 return absl::OkStatus();
               })
      .status();
}

void LeaseSync::Start() {
  absl::MutexLock lock(&mu_);
  CHECK(!thread_.joinable()) << "LeaseSync::Start called twice";
  stopping_ = false;
  // A (re)start begins with full looks: while stopped, another tracker replica may have run the
  // sync (cluster mode), so what this one saw before is no guide.
  synced_.clear();
  thread_ = std::thread([this] { Loop(); });
}

void LeaseSync::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  thread_.join();
  thread_ = std::thread();
}

void LeaseSync::RequestSync() {
  absl::MutexLock lock(&mu_);
  sync_requested_ = true;
}

int64_t LeaseSync::runs_completed() {
  absl::MutexLock lock(&mu_);
  return runs_completed_;
}

absl::Status LeaseSync::WaitForRunsCompleted(int64_t runs, absl::Duration real_timeout) {
  return AwaitFor(
      mu_, real_timeout, absl::StrCat("more than ", runs, " lease sync passes"),
      [this, runs]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return runs_completed_ > runs; },
      [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return absl::StrCat(runs_completed_, " passes completed");
      });
}

void LeaseSync::Loop() {
  auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || sync_requested_; };
  absl::Status last_status;
  mu_.Lock();
  while (!stopping_) {
    sync_requested_ = false;
    mu_.Unlock();
    absl::Status status = RunOnce();
    // The loop has no caller to return errors to: this is its boundary, so it logs, once per
    // change of outcome (a peer that is down for an hour is one line, not 3600). Every step is
    // retried by the next pass.
    if (status != last_status) {
      if (status.ok()) {
        LOG(INFO) << "lease sync: passes succeed again";
      } else {
        LOG(WARNING) << "lease sync: " << status;
      }
      last_status = status;
    }
    mu_.Lock();
    ++runs_completed_;
    clock_.AwaitWithDeadline(&mu_, absl::Condition(&wake),
                             clock_.MonotonicNow() + options_.interval);
  }
  mu_.Unlock();
}

}  // namespace tributary::stream_tracker
