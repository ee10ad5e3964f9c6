#include "stream_tracker/stream_tracker_client.h"

#include <utility>

#include "common/grpc_client.h"

namespace tributary::stream_tracker {

StreamTrackerClient::StreamTrackerClient(std::shared_ptr<grpc::Channel> channel,
                                         absl::Duration default_timeout)
    : stub_(v1::EventSourceMappings::NewStub(std::move(channel))), timeout_(default_timeout) {}

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

}  // namespace tributary::stream_tracker
