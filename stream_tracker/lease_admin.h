// LeaseAdmin: the part of the Leasing service the stream tracker drives (see proto/leasing.proto
// for the semantics: one lease per (mapping, shard), parents before children, checkpoints kept
// while a mapping is disabled).
//
// A narrow seam with two implementations: RemoteLeaseAdmin (the Leasing gRPC service through
// LeasingClient) and testing::FakeLeaseAdmin (in memory, for unit tests).
#ifndef TRIBUTARY_STREAM_TRACKER_LEASE_ADMIN_H_
#define TRIBUTARY_STREAM_TRACKER_LEASE_ADMIN_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/leasing.pb.h"

namespace tributary::stream_tracker {

// Implementations are thread-safe. Every method but UpdateShardCheckpoint is idempotent (safe to
// retry).
class LeaseAdmin {
 public:
  virtual ~LeaseAdmin() = default;

  // Creates the leases that do not exist yet; an existing lease is left as it is (missing
  // parent links are added). Returns how many were created. Errors: INVALID_ARGUMENT for a
  // malformed lease; UNAVAILABLE / DEADLINE_EXCEEDED.
  virtual absl::StatusOr<int> CreateLeases(const std::vector<v1::NewLease>& leases) = 0;

  // Deletes the given leases; missing ones are ignored. Errors: UNAVAILABLE / DEADLINE_EXCEEDED.
  virtual absl::Status DeleteLeases(const std::vector<v1::LeaseKey>& keys) = 0;

  // Deletes every lease of mapping `uuid`. Errors: UNAVAILABLE / DEADLINE_EXCEEDED.
  virtual absl::Status DeleteMappingLeases(const std::string& uuid) = 0;

  // Enables or disables every lease of mapping `uuid` (checkpoints are kept). Errors:
  // UNAVAILABLE / DEADLINE_EXCEEDED.
  virtual absl::Status SetMappingEnabled(const std::string& uuid, bool enabled) = 0;

  // Every lease of mapping `uuid` (all pages). Errors: UNAVAILABLE / DEADLINE_EXCEEDED.
  virtual absl::StatusOr<std::vector<v1::Lease>> ListLeases(const std::string& uuid) = 0;

  // What the pollers last reported on the leases of each mapping of `uuids` (the newest
  // processing result and the newest error: proto/leasing.proto, MappingLeaseSummary), one per
  // uuid in that order. Cheap: leasing reads memory, nothing is listed. Errors: UNAVAILABLE /
  // DEADLINE_EXCEEDED; UNIMPLEMENTED from a leasing server older than the call.
  virtual absl::StatusOr<std::vector<v1::MappingLeaseSummary>> SummarizeLeases(
      const std::vector<std::string>& uuids) = 0;

  // An operator's look at and move of a shard's checkpoint (Leasing.GetLease and
  // Leasing.UpdateShardCheckpoint, proto/leasing.proto), answered as leasing answers. Not
  // retried: a move increments the lease counter. The defaults answer UNIMPLEMENTED (fakes that
  // do not need them).
  virtual absl::StatusOr<v1::Lease> GetLease(const v1::GetLeaseRequest&) {
    return absl::UnimplementedError("GetLease");
  }
  virtual absl::StatusOr<v1::UpdateShardCheckpointResponse> UpdateShardCheckpoint(
      const v1::UpdateShardCheckpointRequest&) {
    return absl::UnimplementedError("UpdateShardCheckpoint");
  }
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_LEASE_ADMIN_H_
