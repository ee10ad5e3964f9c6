// The tributary.v1.EventSourceMappings gRPC service: a thin adapter over MappingManager
// (validation, defaults and the state machine live there; see mapping_manager.h for every
// status a call can return). Errors a client cannot fix are logged once here.
//
// Thread-safe. `manager` must outlive this object.
#ifndef TRIBUTARY_STREAM_TRACKER_EVENT_SOURCE_MAPPINGS_SERVICE_H_
#define TRIBUTARY_STREAM_TRACKER_EVENT_SOURCE_MAPPINGS_SERVICE_H_

#include "proto/event_source_mappings.grpc.pb.h"
#include "stream_tracker/mapping_manager.h"

namespace tributary::stream_tracker {

class EventSourceMappingsService final : public v1::EventSourceMappings::Service {
 public:
  explicit EventSourceMappingsService(MappingManager* manager) : manager_(manager) {}

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
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_EVENT_SOURCE_MAPPINGS_SERVICE_H_
