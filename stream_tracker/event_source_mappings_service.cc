#include "stream_tracker/event_source_mappings_service.h"

#include <utility>

#include "common/grpc_status.h"
#include "stream_tracker/function_config.h"
#include "glog/logging.h"

namespace tributary::stream_tracker {
namespace {

// Copies a result into the reply, or maps its error; errors that are not the client's to fix
// are logged (once, here at the RPC boundary).
template <typename T>
grpc::Status Reply(const char* method, absl::StatusOr<T> result, T* response) {
  if (result.ok()) {
    *response = *std::move(result);
    return grpc::Status::OK;
  }
  switch (result.status().code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      break;
    default:
      LOG(WARNING) << method << ": " << result.status();
  }
  return ToGrpcStatus(result.status());
}

}  // namespace

grpc::Status EventSourceMappingsService::CreateEventSourceMapping(
    grpc::ServerContext*, const v1::CreateEventSourceMappingRequest* request,
    v1::EventSourceMappingConfiguration* response) {
  if (allow_ != nullptr) {
    if (absl::Status s =
            CheckEndpointAllowed("function_endpoint", request->function_endpoint(), *allow_);
        !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  return Reply("CreateEventSourceMapping", manager_->Create(*request), response);
}

grpc::Status EventSourceMappingsService::UpdateEventSourceMapping(
    grpc::ServerContext*, const v1::UpdateEventSourceMappingRequest* request,
    v1::EventSourceMappingConfiguration* response) {
  if (allow_ != nullptr) {
    if (absl::Status s =
            CheckEndpointAllowed("function_endpoint", request->function_endpoint(), *allow_);
        !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  return Reply("UpdateEventSourceMapping", manager_->Update(*request), response);
}

grpc::Status EventSourceMappingsService::DeleteEventSourceMapping(
    grpc::ServerContext*, const v1::DeleteEventSourceMappingRequest* request,
    v1::EventSourceMappingConfiguration* response) {
  return Reply("DeleteEventSourceMapping", manager_->Delete(request->uuid()), response);
}

grpc::Status EventSourceMappingsService::GetEventSourceMapping(
    grpc::ServerContext*, const v1::GetEventSourceMappingRequest* request,
    v1::EventSourceMappingConfiguration* response) {
  return Reply("GetEventSourceMapping", manager_->Get(request->uuid()), response);
}

grpc::Status EventSourceMappingsService::ListEventSourceMappings(
    grpc::ServerContext*, const v1::ListEventSourceMappingsRequest* request,
    v1::ListEventSourceMappingsResponse* response) {
  return Reply("ListEventSourceMappings", manager_->List(*request), response);
}

}  // namespace tributary::stream_tracker
