// A typed client for the stream tracker's services, tributary.v1.EventSourceMappings and
// tributary.v1.Functions (one channel). Thread-safe; cheap to share. Every method returns the
// response or the call's status; each call has the client's deadline; no retries (Get, List,
// UpdateFunction and the concurrency calls are safe to retry).
#ifndef TRIBUTARY_STREAM_TRACKER_STREAM_TRACKER_CLIENT_H_
#define TRIBUTARY_STREAM_TRACKER_STREAM_TRACKER_CLIENT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "proto/event_source_mappings.grpc.pb.h"
#include "proto/functions.grpc.pb.h"

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

  absl::StatusOr<v1::FunctionConfiguration> CreateFunction(
      const v1::CreateFunctionRequest& request);
  absl::StatusOr<v1::FunctionConfiguration> UpdateFunction(
      const v1::UpdateFunctionRequest& request);
  absl::StatusOr<v1::FunctionConfiguration> GetFunction(const v1::GetFunctionRequest& request);
  absl::StatusOr<v1::ListFunctionsResponse> ListFunctions(const v1::ListFunctionsRequest& request);
  absl::StatusOr<v1::DeleteFunctionResponse> DeleteFunction(
      const v1::DeleteFunctionRequest& request);
  absl::StatusOr<v1::FunctionConcurrency> PutFunctionConcurrency(
      const v1::PutFunctionConcurrencyRequest& request);
  absl::StatusOr<v1::DeleteFunctionConcurrencyResponse> DeleteFunctionConcurrency(
      const v1::DeleteFunctionConcurrencyRequest& request);
  absl::StatusOr<v1::FunctionConcurrency> GetFunctionConcurrency(
      const v1::GetFunctionConcurrencyRequest& request);

  v1::EventSourceMappings::Stub* stub() { return stub_.get(); }
  v1::Functions::Stub* functions_stub() { return functions_stub_.get(); }

 private:
  std::unique_ptr<v1::EventSourceMappings::Stub> stub_;
  std::unique_ptr<v1::Functions::Stub> functions_stub_;
  absl::Duration timeout_;
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_STREAM_TRACKER_CLIENT_H_
