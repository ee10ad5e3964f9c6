// In-memory fakes of the services the poller talks to: the lease table (fencing by lease
// counter, parents before children), the shard store's records, and the mapping configs.
// Thread-safe.
#ifndef TRIBUTARY_POLLER_TESTING_FAKE_SERVICES_H_
#define TRIBUTARY_POLLER_TESTING_FAKE_SERVICES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "poller/interfaces.h"

namespace tributary::poller::testing {

class FakeLeaseService : public LeaseService {
 public:
  static constexpr int64_t kLeaseDurationMs = 9000;
  static constexpr int64_t kHeartbeatIntervalMs = 3000;

  // Adds an unowned, enabled lease.
  void AddLease(const std::string& uuid, const std::string& shard_id,
                const std::string& stream_name, std::vector<std::string> parents = {},
                v1::CheckpointType initial = v1::TRIM_HORIZON_CHECKPOINT);
  // Gives the lease to `new_owner` (counter + 1), as an expiry and re-acquire would.
  void Steal(const std::string& uuid, const std::string& shard_id, const std::string& new_owner);
  // Lists the lease in its owner's next heartbeat replies under leases_to_release.
  void AskToRelease(const std::string& uuid, const std::string& shard_id);
  // The next `n` Checkpoint calls fail with UNAVAILABLE (recorded as not accepted).
  void FailNextCheckpoints(int n);
  // Makes every later Heartbeat fail with UNAVAILABLE (or succeed again).
  void FailHeartbeats(bool fail);
  v1::Lease GetLease(const std::string& uuid, const std::string& shard_id);

  struct CheckpointCall {
    std::string poller_id;
    std::string shard_id;
    int64_t lease_counter;
    v1::Checkpoint checkpoint;
    bool accepted;
  };
  std::vector<CheckpointCall> checkpoint_calls();
  int release_calls();

  absl::StatusOr<v1::RegisterPollerResponse> RegisterPoller(
      const v1::RegisterPollerRequest& request) override;
  absl::StatusOr<v1::DeregisterPollerResponse> DeregisterPoller(
      const v1::DeregisterPollerRequest& request) override;
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request) override;
  absl::StatusOr<v1::AcquireLeasesResponse> AcquireLeases(
      const v1::AcquireLeasesRequest& request) override;
  absl::StatusOr<v1::ReleaseLeaseResponse> ReleaseLease(
      const v1::ReleaseLeaseRequest& request) override;
  absl::StatusOr<v1::CheckpointResponse> Checkpoint(const v1::CheckpointRequest& request) override;
  // Invocation slots as leasing keeps them (limit across every poller), without liveness.
  absl::StatusOr<v1::AcquireInvocationSlotsResponse> AcquireInvocationSlots(
      const v1::AcquireInvocationSlotsRequest& request) override;
  absl::StatusOr<v1::ReleaseInvocationSlotsResponse> ReleaseInvocationSlots(
      const v1::ReleaseInvocationSlotsRequest& request) override;
  // Slots of `function_name` held now; how many AcquireInvocationSlots calls granted nothing.
  int slots_in_use(const std::string& function_name);
  int slot_refusals();
  // The next `n` AcquireInvocationSlots calls grant nothing (every slot busy elsewhere).
  void RefuseNextSlotAcquires(int n);

 private:
  using Key = std::pair<std::string, std::string>;
  bool Assignable(const v1::Lease& lease) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckOwner(const v1::LeaseKey& key, const std::string& poller, int64_t counter)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<Key, v1::Lease> leases_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> capacity_ ABSL_GUARDED_BY(mu_);
  std::set<Key> to_release_ ABSL_GUARDED_BY(mu_);
  bool fail_heartbeats_ ABSL_GUARDED_BY(mu_) = false;
  int fail_next_checkpoints_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<CheckpointCall> checkpoint_calls_ ABSL_GUARDED_BY(mu_);
  int release_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> slots_ ABSL_GUARDED_BY(mu_);  // function → held
  int slot_refusals_ ABSL_GUARDED_BY(mu_) = 0;
  int refuse_next_slot_acquires_ ABSL_GUARDED_BY(mu_) = 0;
};

// Shards of records in memory. Sequence numbers are 1, 2, 3, ... per shard.
class InMemoryShards : public ShardReader {
 public:
  // With `blocking`, Next() waits (in real time, woken by Append/Close/Cancel) for records, and
  // NextAsync answers from the Append/Close/FailNextReads/Cancel that makes it ready.
  explicit InMemoryShards(bool blocking = false) : blocking_(blocking) {}

  void AddShard(const std::string& stream, const std::string& shard_id);
  // Appends a record; returns its sequence number.
  uint64_t Append(const std::string& stream, const std::string& shard_id, const std::string& key,
                  const std::string& data, absl::Time arrival);
  void Close(const std::string& stream, const std::string& shard_id);
  // A store bug: the record appended as `seq` is read with the sequence number `replacement`.
  void CorruptSequenceNumber(const std::string& stream, const std::string& shard_id, uint64_t seq,
                             const std::string& replacement);
  // The next `n` reads of any stream fail with UNAVAILABLE (the stream then resumes).
  void FailNextReads(int n);
  // Each read returns at most `n` records (default 10,000). A read that leaves records unread
  // reports millis_behind_latest 1, one that reaches the end 0, as the store does.
  void SetMaxRecordsPerRead(size_t n);
  int opens();

  std::unique_ptr<ShardRecordStream> Open(const std::string& stream_name,
                                          const std::string& shard_id,
                                          const v1::Checkpoint& checkpoint) override;

 private:
  class Stream;
  struct Shard {
    std::vector<v1::Record> records;
    bool closed = false;
  };
  const bool blocking_;
  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, Shard> shards_ ABSL_GUARDED_BY(mu_);
  int fail_next_reads_ ABSL_GUARDED_BY(mu_) = 0;
  size_t max_records_per_read_ ABSL_GUARDED_BY(mu_) = 10000;
  int opens_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t version_ ABSL_GUARDED_BY(mu_) = 0;        // bumped on every change, for blocking readers
  std::set<Stream*> waiting_ ABSL_GUARDED_BY(mu_);  // blocking NextAsync calls not answered
  // Answers every waiting NextAsync that is ready; runs the callbacks with mu_ released.
  void AnswerWaiting() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
};

// Forwards to another LeaseService and records every Checkpoint call with its outcome, so that
// tests with threads (or real services) can wait for checkpoints.
class ObservedLeaseService : public LeaseService {
 public:
  explicit ObservedLeaseService(LeaseService& inner) : inner_(inner) {}
  using CheckpointCall = FakeLeaseService::CheckpointCall;

  std::vector<CheckpointCall> checkpoint_calls();
  // Every Heartbeat request, in order; and every successful reply.
  std::vector<v1::HeartbeatRequest> heartbeats();
  std::vector<v1::HeartbeatResponse> heartbeat_replies();
  // Waits (in real time, at most `real_timeout`: a failure guard) until more than `n` heartbeats
  // were answered successfully. A failure says how many were.
  [[nodiscard]] ::testing::AssertionResult AwaitHeartbeatReplies(
      size_t n, absl::Duration real_timeout = absl::Seconds(10));
  // Waits (in real time, at most `real_timeout`: a failure guard) until `done(calls)` holds. A
  // failure names `awaited` and the checkpoint calls seen (count, the last one).
  [[nodiscard]] ::testing::AssertionResult AwaitCheckpoints(
      absl::string_view awaited,
      const std::function<bool(const std::vector<CheckpointCall>&)>& done,
      absl::Duration real_timeout = absl::Seconds(30));

  absl::StatusOr<v1::RegisterPollerResponse> RegisterPoller(
      const v1::RegisterPollerRequest& request) override {
    return inner_.RegisterPoller(request);
  }
  absl::StatusOr<v1::DeregisterPollerResponse> DeregisterPoller(
      const v1::DeregisterPollerRequest& request) override {
    return inner_.DeregisterPoller(request);
  }
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request) override;
  absl::StatusOr<v1::AcquireLeasesResponse> AcquireLeases(
      const v1::AcquireLeasesRequest& request) override {
    return inner_.AcquireLeases(request);
  }
  absl::StatusOr<v1::ReleaseLeaseResponse> ReleaseLease(
      const v1::ReleaseLeaseRequest& request) override {
    return inner_.ReleaseLease(request);
  }
  absl::StatusOr<v1::CheckpointResponse> Checkpoint(const v1::CheckpointRequest& request) override;

 private:
  LeaseService& inner_;
  absl::Mutex mu_;
  std::vector<CheckpointCall> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::HeartbeatRequest> heartbeats_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::HeartbeatResponse> heartbeat_replies_ ABSL_GUARDED_BY(mu_);
};

class FakeMappingSource : public MappingSource {
 public:
  void Set(const v1::EventSourceMappingConfiguration& config);
  void Delete(const std::string& uuid);
  // While hung, GetMapping blocks (in real time) until Hang(false): a stream tracker that does
  // not answer.
  void Hang(bool hang);
  // Waits (in real time, at most `real_timeout`: a failure guard) until `n` GetMapping calls
  // are blocked in a hang. A failure says how many were.
  [[nodiscard]] ::testing::AssertionResult AwaitHungCalls(
      int n, absl::Duration real_timeout = absl::Seconds(10));
  // Makes every later GetMapping fail with UNAVAILABLE (or succeed again).
  void FailGets(bool fail);
  absl::StatusOr<v1::EventSourceMappingConfiguration> GetMapping(const std::string& uuid) override;

 private:
  absl::Mutex mu_;
  std::map<std::string, v1::EventSourceMappingConfiguration> configs_ ABSL_GUARDED_BY(mu_);
  bool hang_ ABSL_GUARDED_BY(mu_) = false;
  int hung_calls_ ABSL_GUARDED_BY(mu_) = 0;
  bool fail_gets_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tributary::poller::testing

#endif  // TRIBUTARY_POLLER_TESTING_FAKE_SERVICES_H_
