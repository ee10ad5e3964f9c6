// FakeLeaseAdmin: an in-memory LeaseAdmin for unit tests, with the verbs a test needs to play a
// poller (move a checkpoint) and fault injection.
//
// Follows proto/leasing.proto where the tracker can observe it: CreateLeases is idempotent (an
// existing lease keeps its checkpoint; missing parent links are added) and records child links
// on the parents; SetMappingEnabled keeps checkpoints. Thread-safe.
#ifndef TRIBUTARY_STREAM_TRACKER_TESTING_FAKE_LEASE_ADMIN_H_
#define TRIBUTARY_STREAM_TRACKER_TESTING_FAKE_LEASE_ADMIN_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "stream_tracker/lease_admin.h"

namespace tributary::stream_tracker::testing {

class FakeLeaseAdmin : public LeaseAdmin {
 public:
  absl::StatusOr<int> CreateLeases(const std::vector<v1::NewLease>& leases) override;
  absl::Status DeleteLeases(const std::vector<v1::LeaseKey>& keys) override;
  absl::Status DeleteMappingLeases(const std::string& uuid) override;
  absl::Status SetMappingEnabled(const std::string& uuid, bool enabled) override;
  absl::StatusOr<std::vector<v1::Lease>> ListLeases(const std::string& uuid) override;
  // Computed from the stored leases by leasing's rule (proto/leasing.proto).
  absl::StatusOr<std::vector<v1::MappingLeaseSummary>> SummarizeLeases(
      const std::vector<std::string>& uuids) override;

  // The lease of (uuid, shard_id), if any.
  std::optional<v1::Lease> Get(const std::string& uuid, const std::string& shard_id);
  // Sets a lease's checkpoint, as its owner would. CHECKs that the lease exists.
  void SetCheckpoint(const std::string& uuid, const std::string& shard_id,
                     const v1::Checkpoint& checkpoint);
  // Gives a lease to poller `owner` ("" = nobody), as an acquire or a release would; `expired`:
  // the owner stopped heartbeating. CHECKs that the lease exists.
  void SetOwner(const std::string& uuid, const std::string& shard_id, const std::string& owner,
                bool expired = false);
  // Sets a lease's last processing result and its time, as leasing does when the owner's
  // heartbeat reports one. CHECKs that the lease exists.
  void SetProcessingResult(const std::string& uuid, const std::string& shard_id,
                           const std::string& result, absl::Time observed);
  // Sets a lease's last error, as leasing does when the owner's heartbeat reports one. CHECKs
  // that the lease exists.
  void SetLastError(const std::string& uuid, const std::string& shard_id, const std::string& kind,
                    const std::string& message, absl::Time seen);
  // Calls of SummarizeLeases so far.
  int summarize_calls();
  // Every lease of every mapping.
  int total_leases();

  // The next `count` calls (of any LeaseAdmin method) fail with `status`.
  void FailNextCalls(absl::Status status, int count = 1);
  // Runs `hook` (without the fake's lock) at the start of every SetMappingEnabled call, e.g. to
  // change a mapping while a sync pass is in flight.
  void OnSetMappingEnabled(std::function<void()> hook);
  // Calls so far of SetMappingEnabled, with their arguments in order.
  std::vector<std::pair<std::string, bool>> set_enabled_calls();

 private:
  absl::Status TakeFailure() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  // (uuid, shard id) → lease.
  std::map<std::pair<std::string, std::string>, v1::Lease> leases_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  int failures_left_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::pair<std::string, bool>> set_enabled_calls_ ABSL_GUARDED_BY(mu_);
  int summarize_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> set_enabled_hook_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::stream_tracker::testing

#endif  // TRIBUTARY_STREAM_TRACKER_TESTING_FAKE_LEASE_ADMIN_H_
