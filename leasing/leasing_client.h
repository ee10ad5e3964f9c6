// A typed client for tributary.v1.Leasing (see proto/leasing.proto for the
// semantics: fencing by lease_counter, heartbeats, parents before children).
// Thread-safe; cheap to share.
//
// Every method takes the request proto and returns the response or the call's
// status: the server's (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION for a
// stale counter or non-owner) or the transport's (UNAVAILABLE,
// DEADLINE_EXCEEDED). Each call has the client's deadline. No retries here:
// callers own their retry loops and clocks. Heartbeat, CreateLeases,
// DeleteLeases, SetMappingEnabled, Checkpoint (same counter, forward-only) and
// the reads are safe to retry. An AcquireLeases whose reply was lost may have
// granted leases: the poller's next Heartbeat reply lists every lease it owns,
// so it learns of them there. AcquireInvocationSlots is not idempotent (a lost reply may have
// granted slots, held until the poller stops being live); ReleaseInvocationSlots is safe to
// retry only when over-releasing is harmless to the caller (it never goes below 0).
#ifndef TRIBUTARY_LEASING_LEASING_CLIENT_H_
#define TRIBUTARY_LEASING_LEASING_CLIENT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "proto/leasing.grpc.pb.h"

namespace tributary::leasing {

class LeasingClient {
 public:
  explicit LeasingClient(std::shared_ptr<grpc::Channel> channel,
                         absl::Duration default_timeout = absl::Seconds(10));

  absl::StatusOr<v1::CreateLeasesResponse> CreateLeases(const v1::CreateLeasesRequest& request);
  absl::StatusOr<v1::DeleteLeasesResponse> DeleteLeases(const v1::DeleteLeasesRequest& request);
  absl::StatusOr<v1::SetMappingEnabledResponse> SetMappingEnabled(
      const v1::SetMappingEnabledRequest& request);
  absl::StatusOr<v1::RegisterPollerResponse> RegisterPoller(
      const v1::RegisterPollerRequest& request);
  absl::StatusOr<v1::DeregisterPollerResponse> DeregisterPoller(
      const v1::DeregisterPollerRequest& request);
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request);
  absl::StatusOr<v1::AcquireLeasesResponse> AcquireLeases(const v1::AcquireLeasesRequest& request);
  absl::StatusOr<v1::ReleaseLeaseResponse> ReleaseLease(const v1::ReleaseLeaseRequest& request);
  absl::StatusOr<v1::CheckpointResponse> Checkpoint(const v1::CheckpointRequest& request);
  // Not retried here: each call increments the counter (the checkpoint it sets is the same).
  absl::StatusOr<v1::UpdateShardCheckpointResponse> UpdateShardCheckpoint(
      const v1::UpdateShardCheckpointRequest& request);
  absl::StatusOr<v1::ListLeasesResponse> ListLeases(const v1::ListLeasesRequest& request);
  absl::StatusOr<v1::Lease> GetLease(const v1::GetLeaseRequest& request);
  absl::StatusOr<v1::ListPollersResponse> ListPollers(const v1::ListPollersRequest& request);
  absl::StatusOr<v1::SummarizeLeasesResponse> SummarizeLeases(
      const v1::SummarizeLeasesRequest& request);
  absl::StatusOr<v1::AcquireInvocationSlotsResponse> AcquireInvocationSlots(
      const v1::AcquireInvocationSlotsRequest& request);
  absl::StatusOr<v1::ReleaseInvocationSlotsResponse> ReleaseInvocationSlots(
      const v1::ReleaseInvocationSlotsRequest& request);

  v1::Leasing::Stub* stub() { return stub_.get(); }

 private:
  std::unique_ptr<v1::Leasing::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace tributary::leasing

#endif  // TRIBUTARY_LEASING_LEASING_CLIENT_H_
