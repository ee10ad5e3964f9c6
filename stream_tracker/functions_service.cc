#include "stream_tracker/functions_service.h"

#include <utility>

#include "common/grpc_status.h"
#include "glog/logging.h"

namespace tributary::stream_tracker {
namespace {

// Maps an error; errors that are not the client's to fix are logged (once, here at the RPC
// boundary).
grpc::Status ReplyError(const char* method, const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      break;
    default:
      LOG(WARNING) << method << ": " << status;
  }
  return ToGrpcStatus(status);
}

// Copies a result into the reply, or maps its error.
template <typename T>
grpc::Status Reply(const char* method, absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ReplyError(method, result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status FunctionsService::CreateFunction(grpc::ServerContext*,
                                              const v1::CreateFunctionRequest* request,
                                              v1::FunctionConfiguration* response) {
  if (allow_ != nullptr) {
    if (absl::Status s = CheckEndpointAllowed("endpoint", request->endpoint(), *allow_); !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  return Reply("CreateFunction", registry_->CreateFunction(*request), response);
}

grpc::Status FunctionsService::UpdateFunction(grpc::ServerContext*,
                                              const v1::UpdateFunctionRequest* request,
                                              v1::FunctionConfiguration* response) {
  if (allow_ != nullptr && request->has_endpoint()) {
    if (absl::Status s = CheckEndpointAllowed("endpoint", request->endpoint(), *allow_); !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  return Reply("UpdateFunction", registry_->UpdateFunction(*request), response);
}

grpc::Status FunctionsService::GetFunction(grpc::ServerContext*,
                                           const v1::GetFunctionRequest* request,
                                           v1::FunctionConfiguration* response) {
  return Reply("GetFunction", registry_->GetFunction(request->function_name()), response);
}

grpc::Status FunctionsService::ListFunctions(grpc::ServerContext*,
                                             const v1::ListFunctionsRequest* request,
                                             v1::ListFunctionsResponse* response) {
  return Reply("ListFunctions", registry_->ListFunctions(*request), response);
}

grpc::Status FunctionsService::DeleteFunction(grpc::ServerContext*,
                                              const v1::DeleteFunctionRequest* request,
                                              v1::DeleteFunctionResponse*) {
  return ReplyError("DeleteFunction", registry_->DeleteFunction(request->function_name()));
}

grpc::Status FunctionsService::PutFunctionConcurrency(
    grpc::ServerContext*, const v1::PutFunctionConcurrencyRequest* request,
    v1::FunctionConcurrency* response) {
  return Reply("PutFunctionConcurrency", registry_->PutFunctionConcurrency(*request), response);
}

grpc::Status FunctionsService::DeleteFunctionConcurrency(
    grpc::ServerContext*, const v1::DeleteFunctionConcurrencyRequest* request,
    v1::DeleteFunctionConcurrencyResponse*) {
  return ReplyError("DeleteFunctionConcurrency",
                    registry_->DeleteFunctionConcurrency(request->function_name()));
}

grpc::Status FunctionsService::GetFunctionConcurrency(
    grpc::ServerContext*, const v1::GetFunctionConcurrencyRequest* request,
    v1::FunctionConcurrency* response) {
  return Reply("GetFunctionConcurrency",
               registry_->GetFunctionConcurrency(request->function_name()), response);
}

}  // namespace tributary::stream_tracker
