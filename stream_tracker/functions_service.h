// The tributary.v1.Functions gRPC service: a thin adapter over FunctionRegistry (validation, the
// link to mappings and every status a call can return are described in function_registry.h).
// Errors a client cannot fix are logged once here.
//
// Thread-safe. `registry` must outlive this object.
#ifndef TRIBUTARY_STREAM_TRACKER_FUNCTIONS_SERVICE_H_
#define TRIBUTARY_STREAM_TRACKER_FUNCTIONS_SERVICE_H_

#include "proto/functions.grpc.pb.h"
#include "common/host_allow_list.h"
#include "stream_tracker/function_registry.h"

namespace tributary::stream_tracker {

class FunctionsService final : public v1::Functions::Service {
 public:
  // `allow` (--function_endpoint_allow) limits the hosts an endpoint may name
  // (function_config.h's CheckEndpointAllowed: INVALID_ARGUMENT otherwise); null: any host.
  // It must outlive this object.
  explicit FunctionsService(FunctionRegistry* registry, const HostAllowList* allow = nullptr)
      : registry_(registry), allow_(allow) {}

  grpc::Status CreateFunction(grpc::ServerContext* context,
                              const v1::CreateFunctionRequest* request,
                              v1::FunctionConfiguration* response) override;
  grpc::Status UpdateFunction(grpc::ServerContext* context,
                              const v1::UpdateFunctionRequest* request,
                              v1::FunctionConfiguration* response) override;
  grpc::Status GetFunction(grpc::ServerContext* context, const v1::GetFunctionRequest* request,
                           v1::FunctionConfiguration* response) override;
  grpc::Status ListFunctions(grpc::ServerContext* context, const v1::ListFunctionsRequest* request,
                             v1::ListFunctionsResponse* response) override;
  grpc::Status DeleteFunction(grpc::ServerContext* context,
                              const v1::DeleteFunctionRequest* request,
                              v1::DeleteFunctionResponse* response) override;
  grpc::Status PutFunctionConcurrency(grpc::ServerContext* context,
                                      const v1::PutFunctionConcurrencyRequest* request,
                                      v1::FunctionConcurrency* response) override;
  grpc::Status DeleteFunctionConcurrency(grpc::ServerContext* context,
                                         const v1::DeleteFunctionConcurrencyRequest* request,
                                         v1::DeleteFunctionConcurrencyResponse* response) override;
  grpc::Status GetFunctionConcurrency(grpc::ServerContext* context,
                                      const v1::GetFunctionConcurrencyRequest* request,
                                      v1::FunctionConcurrency* response) override;

 private:
  FunctionRegistry* registry_;
  const HostAllowList* const allow_;
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_FUNCTIONS_SERVICE_H_
