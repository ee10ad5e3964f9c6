#include "stream_tracker/shard_checkpoints_service.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "glog/logging.h"

namespace tributary::stream_tracker {
namespace {

// Leasing's own refusals are the operator's to read; anything else is logged once here.
grpc::Status Reply(const absl::Status& status, const char* method) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
      break;
    default:
      LOG(WARNING) << "ShardCheckpoints." << method << ": " << status;
  }
  return ToGrpcStatus(status);
}

}  // namespace

grpc::Status ShardCheckpointsService::GetShardCheckpoint(grpc::ServerContext*,
                                                         const v1::GetLeaseRequest* request,
                                                         v1::Lease* response) {
  absl::StatusOr<v1::Lease> lease = leases_->GetLease(*request);
  if (lease.ok()) *response = *std::move(lease);
  return Reply(lease.status(), "GetShardCheckpoint");
}

grpc::Status ShardCheckpointsService::UpdateShardCheckpoint(
    grpc::ServerContext* context, const v1::UpdateShardCheckpointRequest* request,
    v1::UpdateShardCheckpointResponse* response) {
  v1::UpdateShardCheckpointRequest forwarded = *request;
  forwarded.set_requested_by(absl::StrCat(
      request->requested_by().empty() ? "(unnamed)" : request->requested_by(),
      " via stream tracker from ", context != nullptr ? context->peer() : std::string("?")));
  absl::StatusOr<v1::UpdateShardCheckpointResponse> moved =
      leases_->UpdateShardCheckpoint(forwarded);
  if (moved.ok()) *response = *std::move(moved);
  return Reply(moved.status(), "UpdateShardCheckpoint");
}

}  // namespace tributary::stream_tracker
