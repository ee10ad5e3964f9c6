// The gRPC-backed implementations of the poller's seams (poller/interfaces.h), over the typed
// clients of the other services and a Function stub per endpoint; the reader of shards is
// poller/retrieval/shard_store_reader.h. Each is thread-safe; the clients passed in must outlive
// them.
#ifndef TRIBUTARY_POLLER_GRPC_ADAPTERS_H_
#define TRIBUTARY_POLLER_GRPC_ADAPTERS_H_

#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_security.h"
#include "leasing/leasing_client.h"
#include "poller/interfaces.h"
#include "proto/function.grpc.pb.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/stream_tracker_client.h"

namespace tributary::poller {

// Invokes tributary.v1.Function/Invoke at any endpoint; one channel per endpoint, kept.
// `endpoint` is "host:port" (plaintext) or "grpcs://host:port" (TLS): the server's certificate
// must chain to `tls.ca_file` (empty: Debian's system bundle, kSystemCaBundle) and name the host
// dialed; `tls.cert_file`/`key_file`, when set, are presented as the client certificate (mutual
// TLS). `tls.token` is ignored (functions are not Tributary services).
class GrpcFunctionInvoker : public FunctionInvoker {
 public:
  static constexpr char kSystemCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

  explicit GrpcFunctionInvoker(GrpcClientSecurity tls = GrpcClientSecurity());

  absl::StatusOr<v1::InvokeResponse> Invoke(const std::string& endpoint,
                                            const v1::InvokeRequest& request,
                                            absl::Duration timeout) override;

 private:
  GrpcClientSecurity tls_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<v1::Function::Stub>> stubs_ ABSL_GUARDED_BY(mu_);
};

// PutRecord into a stream of the shard store.
class ShardStoreFailureDestination : public FailureDestination {
 public:
  explicit ShardStoreFailureDestination(shard_store::ShardStoreClient& client) : client_(client) {}
  absl::Status Put(const std::string& stream_name, const std::string& partition_key,
                   const std::string& data) override;

 private:
  shard_store::ShardStoreClient& client_;
};

class LeasingClientLeaseService : public LeaseService {
 public:
  explicit LeasingClientLeaseService(leasing::LeasingClient& client) : client_(client) {}
  absl::StatusOr<v1::RegisterPollerResponse> RegisterPoller(
      const v1::RegisterPollerRequest& request) override {
    return client_.RegisterPoller(request);
  }
  absl::StatusOr<v1::DeregisterPollerResponse> DeregisterPoller(
      const v1::DeregisterPollerRequest& request) override {
    return client_.DeregisterPoller(request);
  }
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request) override {
    return client_.Heartbeat(request);
  }
  absl::StatusOr<v1::AcquireLeasesResponse> AcquireLeases(
      const v1::AcquireLeasesRequest& request) override {
    return client_.AcquireLeases(request);
  }
  absl::StatusOr<v1::ReleaseLeaseResponse> ReleaseLease(
      const v1::ReleaseLeaseRequest& request) override {
    return client_.ReleaseLease(request);
  }
  absl::StatusOr<v1::CheckpointResponse> Checkpoint(const v1::CheckpointRequest& request) override {
    return client_.Checkpoint(request);
  }
  absl::StatusOr<v1::AcquireInvocationSlotsResponse> AcquireInvocationSlots(
      const v1::AcquireInvocationSlotsRequest& request) override {
    return client_.AcquireInvocationSlots(request);
  }
  absl::StatusOr<v1::ReleaseInvocationSlotsResponse> ReleaseInvocationSlots(
      const v1::ReleaseInvocationSlotsRequest& request) override {
    return client_.ReleaseInvocationSlots(request);
  }

 private:
  leasing::LeasingClient& client_;
};

class StreamTrackerMappingSource : public MappingSource {
 public:
  explicit StreamTrackerMappingSource(stream_tracker::StreamTrackerClient& client)
      : client_(client) {}
  absl::StatusOr<v1::EventSourceMappingConfiguration> GetMapping(const std::string& uuid) override {
    v1::GetEventSourceMappingRequest request;
    request.set_uuid(uuid);
    return client_.GetEventSourceMapping(request);
  }

 private:
  stream_tracker::StreamTrackerClient& client_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_GRPC_ADAPTERS_H_
