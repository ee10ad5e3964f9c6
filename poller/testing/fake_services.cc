#include "poller/testing/fake_services.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/await.h"
#include "common/testing/assertions.h"
#include "leasing/owned_digest.h"

namespace tributary::poller::testing {

void FakeLeaseService::AddLease(const std::string& uuid, const std::string& shard_id,
                                const std::string& stream_name, std::vector<std::string> parents,
                                v1::CheckpointType initial) {
  absl::MutexLock lock(&mu_);
  v1::Lease lease;
  lease.set_event_source_mapping_uuid(uuid);
  lease.set_shard_id(shard_id);
  lease.set_stream_name(stream_name);
  lease.mutable_checkpoint()->set_type(initial);
  for (const auto& p : parents) {
    lease.add_parent_shard_ids(p);
    auto it = leases_.find(Key(uuid, p));
    if (it != leases_.end()) it->second.add_child_shard_ids(shard_id);
  }
  lease.set_enabled(true);
  leases_[Key(uuid, shard_id)] = lease;
}

void FakeLeaseService::Steal(const std::string& uuid, const std::string& shard_id,
                             const std::string& new_owner) {
  absl::MutexLock lock(&mu_);
  v1::Lease& lease = leases_.at(Key(uuid, shard_id));
  lease.set_lease_owner(new_owner);
  lease.set_lease_counter(lease.lease_counter() + 1);
}

void FakeLeaseService::AskToRelease(const std::string& uuid, const std::string& shard_id) {
  absl::MutexLock lock(&mu_);
  to_release_.insert(Key(uuid, shard_id));
}

void FakeLeaseService::FailNextCheckpoints(int n) {
  absl::MutexLock lock(&mu_);
  fail_next_checkpoints_ = n;
}

void FakeLeaseService::FailHeartbeats(bool fail) {
  absl::MutexLock lock(&mu_);
  fail_heartbeats_ = fail;
}

v1::Lease FakeLeaseService::GetLease(const std::string& uuid, const std::string& shard_id) {
  absl::MutexLock lock(&mu_);
  return leases_.at(Key(uuid, shard_id));
}

std::vector<FakeLeaseService::CheckpointCall> FakeLeaseService::checkpoint_calls() {
  absl::MutexLock lock(&mu_);
  return checkpoint_calls_;
}

int FakeLeaseService::release_calls() {
  absl::MutexLock lock(&mu_);
  return release_calls_;
}

absl::StatusOr<v1::RegisterPollerResponse> FakeLeaseService::RegisterPoller(
    const v1::RegisterPollerRequest& request) {
  absl::MutexLock lock(&mu_);
  capacity_[request.poller_id()] = request.capacity();
  v1::RegisterPollerResponse response;
  response.set_lease_duration_ms(kLeaseDurationMs);
  response.set_heartbeat_interval_ms(kHeartbeatIntervalMs);
  return response;
}

absl::StatusOr<v1::DeregisterPollerResponse> FakeLeaseService::DeregisterPoller(
    const v1::DeregisterPollerRequest& request) {
  absl::MutexLock lock(&mu_);
  v1::DeregisterPollerResponse response;
  for (auto& [key, lease] : leases_) {
    if (lease.lease_owner() == request.poller_id()) {
      lease.clear_lease_owner();
      response.set_released_count(response.released_count() + 1);
    }
  }
  capacity_.erase(request.poller_id());
  return response;
}

absl::StatusOr<v1::HeartbeatResponse> FakeLeaseService::Heartbeat(
    const v1::HeartbeatRequest& request) {
  absl::MutexLock lock(&mu_);
  if (fail_heartbeats_) return absl::UnavailableError("injected heartbeat failure");
  if (!capacity_.count(request.poller_id())) return absl::NotFoundError("poller not registered");
  v1::HeartbeatResponse response;
  // As leasing does: an owned_digest matching what the poller owns means "unchanged".
  leasing::OwnedDigest digest;
  for (auto& [key, lease] : leases_) {
    if (lease.lease_owner() == request.poller_id()) {
      digest.Add(key.first, key.second, lease.lease_counter());
    }
  }
  const bool unchanged = request.has_owned_digest() && request.owned_digest() == digest.value();
  response.set_owned_unchanged(unchanged);
  for (auto& [key, lease] : leases_) {
    if (lease.lease_owner() != request.poller_id()) continue;
    if (to_release_.count(key) || !lease.enabled()) {
      v1::LeaseKey* k = response.add_leases_to_release();
      k->set_event_source_mapping_uuid(key.first);
      k->set_shard_id(key.second);
    }
    if (unchanged) continue;
    v1::HeldLease* held = response.add_owned_leases();
    held->mutable_lease_key()->set_event_source_mapping_uuid(key.first);
    held->mutable_lease_key()->set_shard_id(key.second);
    held->set_lease_counter(lease.lease_counter());
  }
  return response;
}

bool FakeLeaseService::Assignable(const v1::Lease& lease) {
  if (!lease.enabled() || lease.checkpoint().type() == v1::SHARD_END) return false;
  for (const auto& parent : lease.parent_shard_ids()) {
    auto it = leases_.find(Key(lease.event_source_mapping_uuid(), parent));
    if (it != leases_.end() && it->second.checkpoint().type() != v1::SHARD_END) return false;
  }
  return true;
}

absl::StatusOr<v1::AcquireLeasesResponse> FakeLeaseService::AcquireLeases(
    const v1::AcquireLeasesRequest& request) {
  absl::MutexLock lock(&mu_);
  auto cap = capacity_.find(request.poller_id());
  if (cap == capacity_.end()) return absl::NotFoundError("poller not registered");
  int held = 0;
  for (const auto& [key, lease] : leases_) held += lease.lease_owner() == request.poller_id();
  v1::AcquireLeasesResponse response;
  for (auto& [key, lease] : leases_) {
    if (held >= cap->second) break;
    if (!lease.lease_owner().empty() || !Assignable(lease)) continue;
    lease.set_lease_owner(request.poller_id());
    lease.set_lease_counter(lease.lease_counter() + 1);
    to_release_.erase(key);
    *response.add_leases() = lease;
    ++held;
  }
  return response;
}

absl::Status FakeLeaseService::CheckOwner(const v1::LeaseKey& key, const std::string& poller,
                                          int64_t counter) {
  auto it = leases_.find(Key(key.event_source_mapping_uuid(), key.shard_id()));
  if (it == leases_.end()) return absl::NotFoundError("no such lease");
  if (it->second.lease_owner() != poller || it->second.lease_counter() != counter) {
    return absl::FailedPreconditionError(absl::StrCat("lease held by \"", it->second.lease_owner(),
                                                      "\" at counter ",
                                                      it->second.lease_counter()));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ReleaseLeaseResponse> FakeLeaseService::ReleaseLease(
    const v1::ReleaseLeaseRequest& request) {
  absl::MutexLock lock(&mu_);
  ++release_calls_;
  absl::Status s = CheckOwner(request.lease_key(), request.poller_id(), request.lease_counter());
  if (!s.ok()) return s;
  const Key key(request.lease_key().event_source_mapping_uuid(), request.lease_key().shard_id());
  leases_[key].clear_lease_owner();
  to_release_.erase(key);
  return v1::ReleaseLeaseResponse();
}

absl::StatusOr<v1::AcquireInvocationSlotsResponse> FakeLeaseService::AcquireInvocationSlots(
    const v1::AcquireInvocationSlotsRequest& request) {
  absl::MutexLock lock(&mu_);
  int& held = slots_[request.function_name()];
  int granted = std::max(0, std::min(request.count(), request.limit() - held));
  if (refuse_next_slot_acquires_ > 0) {
    --refuse_next_slot_acquires_;
    granted = 0;
  }
  held += granted;
  if (granted == 0) ++slot_refusals_;
  v1::AcquireInvocationSlotsResponse response;
  response.set_granted_count(granted);
  response.set_in_use_count(held);
  return response;
}

absl::StatusOr<v1::ReleaseInvocationSlotsResponse> FakeLeaseService::ReleaseInvocationSlots(
    const v1::ReleaseInvocationSlotsRequest& request) {
  absl::MutexLock lock(&mu_);
  int& held = slots_[request.function_name()];
  const int released = std::min(held, request.count());
  held -= released;
  v1::ReleaseInvocationSlotsResponse response;
  response.set_released_count(released);
  return response;
}

int FakeLeaseService::slots_in_use(const std::string& function_name) {
  absl::MutexLock lock(&mu_);
  return slots_[function_name];
}

void FakeLeaseService::RefuseNextSlotAcquires(int n) {
  absl::MutexLock lock(&mu_);
  refuse_next_slot_acquires_ = n;
}

int FakeLeaseService::slot_refusals() {
  absl::MutexLock lock(&mu_);
  return slot_refusals_;
}

absl::StatusOr<v1::CheckpointResponse> FakeLeaseService::Checkpoint(
    const v1::CheckpointRequest& request) {
  absl::MutexLock lock(&mu_);
  absl::Status s = CheckOwner(request.lease_key(), request.poller_id(), request.lease_counter());
  if (s.ok() && fail_next_checkpoints_ > 0) {
    --fail_next_checkpoints_;
    s = absl::UnavailableError("injected checkpoint failure");
  }
  checkpoint_calls_.push_back(CheckpointCall{request.poller_id(), request.lease_key().shard_id(),
                                             request.lease_counter(), request.checkpoint(),
                                             s.ok()});
  if (!s.ok()) return s;
  v1::Lease& lease =
      leases_[Key(request.lease_key().event_source_mapping_uuid(), request.lease_key().shard_id())];
  // Forward only: an older sequence number is accepted and ignored.
  const v1::Checkpoint& cp = request.checkpoint();
  bool forward = true;
  if (cp.type() == v1::SEQUENCE_NUMBER && lease.checkpoint().type() == v1::SEQUENCE_NUMBER) {
    uint64_t a = 0, b = 0;
    forward = absl::SimpleAtoi(cp.sequence_number(), &a) &&
              absl::SimpleAtoi(lease.checkpoint().sequence_number(), &b) && a > b;
  }
  if (lease.checkpoint().type() == v1::SHARD_END) forward = false;
  if (forward) *lease.mutable_checkpoint() = cp;
  v1::CheckpointResponse response;
  *response.mutable_lease() = lease;
  return response;
}

class InMemoryShards::Stream : public ShardRecordStream {
 public:
  Stream(InMemoryShards* owner, std::pair<std::string, std::string> key, size_t next)
      : owner_(owner), key_(std::move(key)), next_(next) {}

  ~Stream() override {
    absl::MutexLock lock(&owner_->mu_);
    owner_->waiting_.erase(this);
  }

  absl::StatusOr<ReadResult> Next() override {
    absl::MutexLock lock(&owner_->mu_);
    if (owner_->blocking_) {
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(owner_->mu_) { return Ready(); };
      owner_->mu_.Await(absl::Condition(&ready));
    }
    return Take();
  }

  // Blocking: answers at once when Next() would not wait, else when Append, Close,
  // FailNextReads or Cancel makes it ready (on that caller's thread).
  void NextAsync(ReadCallback done) override {
    absl::StatusOr<ReadResult> result;
    {
      absl::MutexLock lock(&owner_->mu_);
      if (owner_->blocking_ && !Ready()) {
        pending_ = std::move(done);
        owner_->waiting_.insert(this);
        return;
      }
      result = Take();
    }
    done(std::move(result));
  }

  void Cancel() override {
    ReadCallback pending;
    {
      absl::MutexLock lock(&owner_->mu_);
      cancelled_ = true;
      if (owner_->waiting_.erase(this) > 0) pending = std::move(pending_);
    }
    if (pending) pending(absl::CancelledError("stream cancelled"));
  }

  bool Ready() ABSL_EXCLUSIVE_LOCKS_REQUIRED(owner_->mu_) {
    const Shard& shard = owner_->shards_[key_];
    return cancelled_ || shard.closed || next_ < shard.records.size() ||
           owner_->fail_next_reads_ > 0;
  }

  // What a read returns now.
  absl::StatusOr<ReadResult> Take() ABSL_EXCLUSIVE_LOCKS_REQUIRED(owner_->mu_) {
    if (cancelled_) return absl::CancelledError("stream cancelled");
    if (owner_->fail_next_reads_ > 0) {
      --owner_->fail_next_reads_;
      return absl::UnavailableError("injected read failure");
    }
    const Shard& shard = owner_->shards_[key_];
    ReadResult result;
    while (next_ < shard.records.size() && result.records.size() < owner_->max_records_per_read_) {
      result.records.push_back(shard.records[next_++]);
    }
    result.shard_end = shard.closed && next_ == shard.records.size();
    result.millis_behind_latest = next_ < shard.records.size() ? 1 : 0;
    return result;
  }

  // For the owner's own loop over its streams (this stream's owner_ is that owner): says that
  // owner_->mu_ is the lock it holds.
  void AssertOwnerLocked() const ABSL_ASSERT_EXCLUSIVE_LOCK(owner_->mu_) {
    owner_->mu_.AssertHeld();
  }

  ReadCallback pending_ ABSL_GUARDED_BY(owner_->mu_);  // set while in owner_->waiting_

 private:
  InMemoryShards* const owner_;
  const std::pair<std::string, std::string> key_;
  size_t next_ ABSL_GUARDED_BY(owner_->mu_);  // index of the next record to return
  bool cancelled_ ABSL_GUARDED_BY(owner_->mu_) = false;
};

void InMemoryShards::AnswerWaiting() {
  std::vector<std::pair<ShardRecordStream::ReadCallback, absl::StatusOr<ReadResult>>> answers;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    Stream* stream = *it;
    stream->AssertOwnerLocked();
    if (!stream->Ready()) {
      ++it;
      continue;
    }
    answers.emplace_back(std::move(stream->pending_), stream->Take());
    it = waiting_.erase(it);
  }
  mu_.Unlock();
  for (auto& [done, result] : answers) done(std::move(result));
  mu_.Lock();
}

void InMemoryShards::AddShard(const std::string& stream, const std::string& shard_id) {
  absl::MutexLock lock(&mu_);
  shards_[{stream, shard_id}];
}

uint64_t InMemoryShards::Append(const std::string& stream, const std::string& shard_id,
                                const std::string& key, const std::string& data,
                                absl::Time arrival) {
  absl::MutexLock lock(&mu_);
  Shard& shard = shards_[{stream, shard_id}];
  const uint64_t seq = shard.records.size() + 1;
  v1::Record r;
  r.set_sequence_number(absl::StrCat(seq));
  r.set_partition_key(key);
  r.set_data(data);
  const int64_t ns = absl::ToUnixNanos(arrival);
  r.mutable_approximate_arrival_timestamp()->set_seconds(ns / 1000000000);
  r.mutable_approximate_arrival_timestamp()->set_nanos(static_cast<int32_t>(ns % 1000000000));
  shard.records.push_back(std::move(r));
  ++version_;
  AnswerWaiting();
  return seq;
}

void InMemoryShards::CorruptSequenceNumber(const std::string& stream, const std::string& shard_id,
                                           uint64_t seq, const std::string& replacement) {
  absl::MutexLock lock(&mu_);
  shards_[{stream, shard_id}].records.at(seq - 1).set_sequence_number(replacement);
}

void InMemoryShards::Close(const std::string& stream, const std::string& shard_id) {
  absl::MutexLock lock(&mu_);
  shards_[{stream, shard_id}].closed = true;
  ++version_;
  AnswerWaiting();
}

void InMemoryShards::FailNextReads(int n) {
  absl::MutexLock lock(&mu_);
  fail_next_reads_ = n;
  AnswerWaiting();
}

void InMemoryShards::SetMaxRecordsPerRead(size_t n) {
  absl::MutexLock lock(&mu_);
  max_records_per_read_ = n;
}

int InMemoryShards::opens() {
  absl::MutexLock lock(&mu_);
  return opens_;
}

std::unique_ptr<ShardRecordStream> InMemoryShards::Open(const std::string& stream_name,
                                                        const std::string& shard_id,
                                                        const v1::Checkpoint& checkpoint) {
  absl::MutexLock lock(&mu_);
  ++opens_;
  const Shard& shard = shards_[{stream_name, shard_id}];
  size_t next = 0;
  if (checkpoint.type() == v1::SEQUENCE_NUMBER) {
    uint64_t seq = 0;
    if (absl::SimpleAtoi(checkpoint.sequence_number(), &seq)) next = seq;  // seq n is index n-1
  } else if (checkpoint.type() == v1::LATEST_CHECKPOINT) {
    next = shard.records.size();
  }
  return std::make_unique<Stream>(this, std::make_pair(stream_name, shard_id), next);
}

std::vector<ObservedLeaseService::CheckpointCall> ObservedLeaseService::checkpoint_calls() {
  absl::MutexLock lock(&mu_);
  return calls_;
}

std::vector<v1::HeartbeatRequest> ObservedLeaseService::heartbeats() {
  absl::MutexLock lock(&mu_);
  return heartbeats_;
}

std::vector<v1::HeartbeatResponse> ObservedLeaseService::heartbeat_replies() {
  absl::MutexLock lock(&mu_);
  return heartbeat_replies_;
}

absl::StatusOr<v1::HeartbeatResponse> ObservedLeaseService::Heartbeat(
    const v1::HeartbeatRequest& request) {
  {
    absl::MutexLock lock(&mu_);
    heartbeats_.push_back(request);
  }
  absl::StatusOr<v1::HeartbeatResponse> response = inner_.Heartbeat(request);
  if (response.ok()) {
    absl::MutexLock lock(&mu_);
    heartbeat_replies_.push_back(*response);
  }
  return response;
}

::testing::AssertionResult ObservedLeaseService::AwaitHeartbeatReplies(
    size_t n, absl::Duration real_timeout) {
  return tributary::testing::IsOk(AwaitFor(
      mu_, real_timeout, absl::StrCat("more than ", n, " successful heartbeat replies"),
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return heartbeat_replies_.size() > n; },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return absl::StrCat(heartbeat_replies_.size(), " replies to ", heartbeats_.size(),
                            " heartbeats");
      }));
}

::testing::AssertionResult ObservedLeaseService::AwaitCheckpoints(
    absl::string_view awaited, const std::function<bool(const std::vector<CheckpointCall>&)>& done,
    absl::Duration real_timeout) {
  return tributary::testing::IsOk(AwaitFor(
      mu_, real_timeout, absl::StrCat("checkpoints: ", awaited),
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done(calls_); },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        std::string seen = absl::StrCat(calls_.size(), " checkpoint call(s)");
        if (!calls_.empty()) {
          const CheckpointCall& last = calls_.back();
          absl::StrAppend(&seen, "; the last: ", last.poller_id, " on ", last.shard_id,
                          " at counter ", last.lease_counter, " to {",
                          last.checkpoint.ShortDebugString(), "}, ",
                          last.accepted ? "accepted" : "refused");
        }
        return seen;
      }));
}

absl::StatusOr<v1::CheckpointResponse> ObservedLeaseService::Checkpoint(
    const v1::CheckpointRequest& request) {
  absl::StatusOr<v1::CheckpointResponse> response = inner_.Checkpoint(request);
  absl::MutexLock lock(&mu_);
  calls_.push_back(CheckpointCall{request.poller_id(), request.lease_key().shard_id(),
                                  request.lease_counter(), request.checkpoint(), response.ok()});
  return response;
}

void FakeMappingSource::Set(const v1::EventSourceMappingConfiguration& config) {
  absl::MutexLock lock(&mu_);
  configs_[config.uuid()] = config;
}

void FakeMappingSource::Delete(const std::string& uuid) {
  absl::MutexLock lock(&mu_);
  configs_.erase(uuid);
}

void FakeMappingSource::Hang(bool hang) {
  absl::MutexLock lock(&mu_);
  hang_ = hang;
}

::testing::AssertionResult FakeMappingSource::AwaitHungCalls(int n, absl::Duration real_timeout) {
  return tributary::testing::IsOk(AwaitFor(
      mu_, real_timeout, absl::StrCat(n, " GetMapping call(s) blocked in a hang"),
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return hung_calls_ >= n; },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return absl::StrCat(hung_calls_, " blocked, hang ", hang_ ? "on" : "off");
      }));
}

void FakeMappingSource::FailGets(bool fail) {
  absl::MutexLock lock(&mu_);
  fail_gets_ = fail;
}

absl::StatusOr<v1::EventSourceMappingConfiguration> FakeMappingSource::GetMapping(
    const std::string& uuid) {
  absl::MutexLock lock(&mu_);
  if (hang_) {
    ++hung_calls_;
    auto released = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !hang_; };
    mu_.Await(absl::Condition(&released));
    --hung_calls_;
  }
  if (fail_gets_) return absl::UnavailableError("injected: the stream tracker is unreachable");
  auto it = configs_.find(uuid);
  if (it == configs_.end()) return absl::NotFoundError(absl::StrCat("mapping ", uuid));
  return it->second;
}

}  // namespace tributary::poller::testing
