#include "leasing/leasing_client.h"

#include <utility>

#include "common/grpc_client.h"

namespace tributary::leasing {

LeasingClient::LeasingClient(std::shared_ptr<grpc::Channel> channel, absl::Duration default_timeout)
    : stub_(v1::Leasing::NewStub(std::move(channel))), timeout_(default_timeout) {}

#define TRIBUTARY_LEASING_UNARY(Method, Response)                                          \
  absl::StatusOr<v1::Response> LeasingClient::Method(const v1::Method##Request& request) { \
    return CallUnary(stub_.get(), &v1::Leasing::Stub::Method, request, timeout_);          \
  }

TRIBUTARY_LEASING_UNARY(CreateLeases, CreateLeasesResponse)
TRIBUTARY_LEASING_UNARY(DeleteLeases, DeleteLeasesResponse)
TRIBUTARY_LEASING_UNARY(SetMappingEnabled, SetMappingEnabledResponse)
TRIBUTARY_LEASING_UNARY(RegisterPoller, RegisterPollerResponse)
TRIBUTARY_LEASING_UNARY(DeregisterPoller, DeregisterPollerResponse)
TRIBUTARY_LEASING_UNARY(Heartbeat, HeartbeatResponse)
TRIBUTARY_LEASING_UNARY(AcquireLeases, AcquireLeasesResponse)
TRIBUTARY_LEASING_UNARY(ReleaseLease, ReleaseLeaseResponse)
TRIBUTARY_LEASING_UNARY(Checkpoint, CheckpointResponse)
TRIBUTARY_LEASING_UNARY(UpdateShardCheckpoint, UpdateShardCheckpointResponse)
TRIBUTARY_LEASING_UNARY(ListLeases, ListLeasesResponse)
TRIBUTARY_LEASING_UNARY(GetLease, Lease)
TRIBUTARY_LEASING_UNARY(ListPollers, ListPollersResponse)
TRIBUTARY_LEASING_UNARY(SummarizeLeases, SummarizeLeasesResponse)
TRIBUTARY_LEASING_UNARY(AcquireInvocationSlots, AcquireInvocationSlotsResponse)
TRIBUTARY_LEASING_UNARY(ReleaseInvocationSlots, ReleaseInvocationSlotsResponse)

#undef TRIBUTARY_LEASING_UNARY

}  // namespace tributary::leasing
