#include "stream_tracker/testing/fake_lease_admin.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/proto_util.h"
#include "glog/logging.h"

namespace tributary::stream_tracker::testing {
namespace {

void AddUnique(google::protobuf::RepeatedPtrField<std::string>* ids, const std::string& id) {
  if (std::find(ids->begin(), ids->end(), id) == ids->end()) *ids->Add() = id;
}

}  // namespace

absl::Status FakeLeaseAdmin::TakeFailure() {
  if (failures_left_ == 0) return absl::OkStatus();
  --failures_left_;
  return failure_;
}

absl::StatusOr<int> FakeLeaseAdmin::CreateLeases(const std::vector<v1::NewLease>& leases) {
  absl::MutexLock lock(&mu_);
  if (absl::Status failure = TakeFailure(); !failure.ok()) return failure;
  for (const v1::NewLease& lease : leases) {
    if (lease.event_source_mapping_uuid().empty() || lease.shard_id().empty()) {
      return absl::InvalidArgumentError("a lease needs a mapping uuid and a shard id");
    }
    if (lease.initial_checkpoint().type() == v1::CHECKPOINT_TYPE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("lease ", lease.shard_id(), " needs an initial checkpoint"));
    }
  }
  int created = 0;
  for (const v1::NewLease& lease : leases) {
    const std::string& uuid = lease.event_source_mapping_uuid();
    auto key = std::make_pair(uuid, lease.shard_id());
    auto it = leases_.find(key);
    if (it == leases_.end()) {
      v1::Lease& stored = leases_[key];
      stored.set_event_source_mapping_uuid(uuid);
      stored.set_shard_id(lease.shard_id());
      stored.set_stream_name(lease.stream_name());
      *stored.mutable_checkpoint() = lease.initial_checkpoint();
      stored.set_enabled(lease.enabled());
      ++created;
      it = leases_.find(key);
    }
    for (const std::string& parent : lease.parent_shard_ids()) {
      AddUnique(it->second.mutable_parent_shard_ids(), parent);
      auto parent_it = leases_.find(std::make_pair(uuid, parent));
      if (parent_it != leases_.end()) {
        AddUnique(parent_it->second.mutable_child_shard_ids(), lease.shard_id());
      }
    }
  }
  return created;
}

absl::Status FakeLeaseAdmin::DeleteLeases(const std::vector<v1::LeaseKey>& keys) {
  absl::MutexLock lock(&mu_);
  if (absl::Status failure = TakeFailure(); !failure.ok()) return failure;
  for (const v1::LeaseKey& key : keys) {
    leases_.erase(std::make_pair(key.event_source_mapping_uuid(), key.shard_id()));
  }
  return absl::OkStatus();
}

absl::Status FakeLeaseAdmin::DeleteMappingLeases(const std::string& uuid) {
  absl::MutexLock lock(&mu_);
  if (absl::Status failure = TakeFailure(); !failure.ok()) return failure;
  for (auto it = leases_.begin(); it != leases_.end();) {
    it = it->first.first == uuid ? leases_.erase(it) : std::next(it);
  }
  return absl::OkStatus();
}

void FakeLeaseAdmin::SetOwner(const std::string& uuid, const std::string& shard_id,
                              const std::string& owner, bool expired) {
  absl::MutexLock lock(&mu_);
  auto it = leases_.find(std::make_pair(uuid, shard_id));
  CHECK(it != leases_.end()) << "no lease " << uuid << " " << shard_id;
  if (it->second.lease_owner() != owner) {
    it->second.set_lease_counter(it->second.lease_counter() + 1);
  }
  it->second.set_lease_owner(owner);
  it->second.set_expired(!owner.empty() && expired);
}

absl::Status FakeLeaseAdmin::SetMappingEnabled(const std::string& uuid, bool enabled) {
  std::function<void()> hook;
  {
    absl::MutexLock lock(&mu_);
    hook = set_enabled_hook_;
  }
  if (hook) hook();
  absl::MutexLock lock(&mu_);
  if (absl::Status failure = TakeFailure(); !failure.ok()) return failure;
  set_enabled_calls_.emplace_back(uuid, enabled);
  for (auto& [key, lease] : leases_) {
    if (key.first == uuid) lease.set_enabled(enabled);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Lease>> FakeLeaseAdmin::ListLeases(const std::string& uuid) {
  absl::MutexLock lock(&mu_);
  if (absl::Status failure = TakeFailure(); !failure.ok()) return failure;
  std::vector<v1::Lease> result;
  for (const auto& [key, lease] : leases_) {
    if (key.first == uuid) result.push_back(lease);
  }
  return result;
}

std::optional<v1::Lease> FakeLeaseAdmin::Get(const std::string& uuid, const std::string& shard_id) {
  absl::MutexLock lock(&mu_);
  auto it = leases_.find(std::make_pair(uuid, shard_id));
  if (it == leases_.end()) return std::nullopt;
  return it->second;
}

void FakeLeaseAdmin::SetCheckpoint(const std::string& uuid, const std::string& shard_id,
                                   const v1::Checkpoint& checkpoint) {
  absl::MutexLock lock(&mu_);
  auto it = leases_.find(std::make_pair(uuid, shard_id));
  CHECK(it != leases_.end()) << "no lease " << uuid << "/" << shard_id;
  *it->second.mutable_checkpoint() = checkpoint;
}

void FakeLeaseAdmin::SetProcessingResult(const std::string& uuid, const std::string& shard_id,
                                         const std::string& result, absl::Time observed) {
  absl::MutexLock lock(&mu_);
  auto it = leases_.find(std::make_pair(uuid, shard_id));
  CHECK(it != leases_.end()) << "no lease " << uuid << "/" << shard_id;
  it->second.set_last_processing_result(result);
  *it->second.mutable_last_processing_result_time() = ToProtoTimestamp(observed);
}

void FakeLeaseAdmin::SetLastError(const std::string& uuid, const std::string& shard_id,
                                  const std::string& kind, const std::string& message,
                                  absl::Time seen) {
  absl::MutexLock lock(&mu_);
  auto it = leases_.find(std::make_pair(uuid, shard_id));
  CHECK(it != leases_.end()) << "no lease " << uuid << "/" << shard_id;
  it->second.set_last_error_kind(kind);
  it->second.set_last_error_message(message);
  *it->second.mutable_last_error_time() = ToProtoTimestamp(seen);
}

absl::StatusOr<std::vector<v1::MappingLeaseSummary>> FakeLeaseAdmin::SummarizeLeases(
    const std::vector<std::string>& uuids) {
  absl::MutexLock lock(&mu_);
  if (absl::Status failure = TakeFailure(); !failure.ok()) return failure;
  ++summarize_calls_;
  std::vector<v1::MappingLeaseSummary> summaries;
  for (const std::string& uuid : uuids) {
    v1::MappingLeaseSummary summary;
    summary.set_event_source_mapping_uuid(uuid);
    absl::Time result_at = absl::InfinitePast();
    absl::Time error_at = absl::InfinitePast();
    for (auto it = leases_.lower_bound(std::make_pair(uuid, std::string()));
         it != leases_.end() && it->first.first == uuid; ++it) {
      const v1::Lease& lease = it->second;
      if (!lease.last_processing_result().empty()) {
        const absl::Time at = FromProtoTimestamp(lease.last_processing_result_time());
        if (summary.last_processing_result().empty() || at > result_at ||
            (at == result_at && summary.last_processing_result() == "OK" &&
             lease.last_processing_result() != "OK")) {
          summary.set_last_processing_result(lease.last_processing_result());
          *summary.mutable_last_processing_result_time() = lease.last_processing_result_time();
          result_at = at;
        }
      }
      if (!lease.last_error_kind().empty()) {
        const absl::Time at = FromProtoTimestamp(lease.last_error_time());
        if (summary.last_error_kind().empty() || at > error_at) {
          summary.set_last_error_kind(lease.last_error_kind());
          summary.set_last_error_message(lease.last_error_message());
          *summary.mutable_last_error_time() = lease.last_error_time();
          summary.set_last_error_shard_id(lease.shard_id());
          error_at = at;
        }
      }
    }
    summaries.push_back(std::move(summary));
  }
  return summaries;
}

int FakeLeaseAdmin::summarize_calls() {
  absl::MutexLock lock(&mu_);
  return summarize_calls_;
}

int FakeLeaseAdmin::total_leases() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(leases_.size());
}

void FakeLeaseAdmin::FailNextCalls(absl::Status status, int count) {
  absl::MutexLock lock(&mu_);
  failure_ = std::move(status);
  failures_left_ = count;
}

void FakeLeaseAdmin::OnSetMappingEnabled(std::function<void()> hook) {
  absl::MutexLock lock(&mu_);
  set_enabled_hook_ = std::move(hook);
}

std::vector<std::pair<std::string, bool>> FakeLeaseAdmin::set_enabled_calls() {
  absl::MutexLock lock(&mu_);
  return set_enabled_calls_;
}

}  // namespace tributary::stream_tracker::testing
