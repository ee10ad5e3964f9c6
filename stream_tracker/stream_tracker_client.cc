#include "stream_tracker/stream_tracker_client.h"

#include <utility>

#include "common/grpc_client.h"

namespace tributary::stream_tracker {

StreamTrackerClient::StreamTrackerClient(std::shared_ptr<grpc::Channel> channel,
                                         absl::Duration default_timeout)
    : stub_(v1::EventSourceMappings::NewStub(channel)),
      functions_stub_(v1::Functions::NewStub(channel)),
      timeout_(default_timeout) {}

#define TRIBUTARY_MAPPINGS_UNARY(Method, Response)                                               \
  absl::StatusOr<v1::Response> StreamTrackerClient::Method(const v1::Method##Request& request) { \
    return CallUnary(stub_.get(), &v1::EventSourceMappings::Stub::Method, request, timeout_);    \
  }

TRIBUTARY_MAPPINGS_UNARY(CreateEventSourceMapping, EventSourceMappingConfiguration)
TRIBUTARY_MAPPINGS_UNARY(UpdateEventSourceMapping, EventSourceMappingConfiguration)
TRIBUTARY_MAPPINGS_UNARY(DeleteEventSourceMapping, EventSourceMappingConfiguration)
TRIBUTARY_MAPPINGS_UNARY(GetEventSourceMapping, EventSourceMappingConfiguration)
TRIBUTARY_MAPPINGS_UNARY(ListEventSourceMappings, ListEventSourceMappingsResponse)

#undef TRIBUTARY_MAPPINGS_UNARY

#define TRIBUTARY_FUNCTIONS_UNARY(Method, Response)                                              \
  absl::StatusOr<v1::Response> StreamTrackerClient::Method(const v1::Method##Request& request) { \
    return CallUnary(functions_stub_.get(), &v1::Functions::Stub::Method, request, timeout_);    \
  }

TRIBUTARY_FUNCTIONS_UNARY(CreateFunction, FunctionConfiguration)
TRIBUTARY_FUNCTIONS_UNARY(UpdateFunction, FunctionConfiguration)
TRIBUTARY_FUNCTIONS_UNARY(GetFunction, FunctionConfiguration)
TRIBUTARY_FUNCTIONS_UNARY(ListFunctions, ListFunctionsResponse)
TRIBUTARY_FUNCTIONS_UNARY(DeleteFunction, DeleteFunctionResponse)
TRIBUTARY_FUNCTIONS_UNARY(PutFunctionConcurrency, FunctionConcurrency)
TRIBUTARY_FUNCTIONS_UNARY(DeleteFunctionConcurrency, DeleteFunctionConcurrencyResponse)
TRIBUTARY_FUNCTIONS_UNARY(GetFunctionConcurrency, FunctionConcurrency)

#undef TRIBUTARY_FUNCTIONS_UNARY

}  // namespace tributary::stream_tracker
