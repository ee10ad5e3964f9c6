// A typed client for tributary.v1.EventSourceMappings. Thread-safe; cheap to
// share. Every method returns the mapping configuration (or list) or the call's
// status; each call has the client's deadline; no retries (Get and List are
// safe to retry).
#ifndef TRIBUTARY_STREAM_TRACKER_STREAM_TRACKER_CLIENT_H_
#define TRIBUTARY_STREAM_TRACKER_STREAM_TRACKER_CLIENT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "proto/event_source_mappings.grpc.pb.h"

namespace tributary::stream_tracker {

class StreamTrackerClient {
 public:
  explicit StreamTrackerClient(std::shared_ptr<grpc::Channel> channel,
                               absl::Duration default_timeout = absl::Seconds(10));

  absl::StatusOr<v1::EventSourceMappingConfiguration> CreateEventSourceMapping(
      const v1::CreateEventSourceMappingRequest& request);
  absl::StatusOr<v1::EventSourceMappingConfiguration> UpdateEventSourceMapping(
      const v1::UpdateEventSourceMappingRequest& request);
  absl::StatusOr<v1::EventSourceMappingConfiguration> DeleteEventSourceMapping(
      const v1::DeleteEventSourceMappingRequest& request);
  absl::StatusOr<v1::EventSourceMappingConfiguration> GetEventSourceMapping(
      const v1::GetEventSourceMappingRequest& request);
  absl::StatusOr<v1::ListEventSourceMappingsResponse> ListEventSourceMappings(
      const v1::ListEventSourceMappingsRequest& request);

  v1::EventSourceMappings::Stub* stub() { return stub_.get(); }

 private:
  std::unique_ptr<v1::EventSourceMappings::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_STREAM_TRACKER_CLIENT_H_
