// The tributary.v1.EventSourceMappings gRPC service: a thin adapter over MappingManager
// (validation, defaults and the state machine live there; see mapping_manager.h for every
// status a call can return). Errors a client cannot fix are logged once here.
//
// Thread-safe. `manager` must outlive this object.
#ifndef TRIBUTARY_STREAM_TRACKER_EVENT_SOURCE_MAPPINGS_SERVICE_H_
#define TRIBUTARY_STREAM_TRACKER_EVENT_SOURCE_MAPPINGS_SERVICE_H_

#include "proto/event_source_mappings.grpc.pb.h"
#include "common/host_allow_list.h"
#include "stream_tracker/mapping_manager.h"

namespace tributary::stream_tracker {

class EventSourceMappingsService final : public v1::EventSourceMappings::Service {
 public:
  // `allow` (--function_endpoint_allow) limits the hosts a function_endpoint may name
  // (function_config.h's CheckEndpointAllowed: INVALID_ARGUMENT otherwise); null: any host.
  // It must outlive this object.
  explicit EventSourceMappingsService(MappingManager* manager,
                                      const HostAllowList* allow = nullptr)
      : manager_(manager), allow_(allow) {}

  grpc::Status CreateEventSourceMapping(grpc::ServerContext* context,
                                        const v1::CreateEventSourceMappingRequest* request,
                                        v1::EventSourceMappingConfiguration* response) override;
  grpc::Status UpdateEventSourceMapping(grpc::ServerContext* context,
                                        const v1::UpdateEventSourceMappingRequest* request,
                                        v1::EventSourceMappingConfiguration* response) override;
  grpc::Status DeleteEventSourceMapping(grpc::ServerContext* context,
                                        const v1::DeleteEventSourceMappingRequest* request,
                                        v1::EventSourceMappingConfiguration* response) override;
  grpc::Status GetEventSourceMapping(grpc::ServerContext* context,
                                     const v1::GetEventSourceMappingRequest* request,
                                     v1::EventSourceMappingConfiguration* response) override;
  grpc::Status ListEventSourceMappings(grpc::ServerContext* context,
                                       const v1::ListEventSourceMappingsRequest* request,
                                       v1::ListEventSourceMappingsResponse* response) override;

 private:
  MappingManager* manager_;
  const HostAllowList* const allow_;
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_EVENT_SOURCE_MAPPINGS_SERVICE_H_
