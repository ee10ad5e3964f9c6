// StreamTracker: the stream tracker's objects wired together — the mapping and function stores
// in one database under `data_dir`, the EventSourceMappings and Functions services, and the
// lease sync loop — talking to the shard store and leasing over the given channels. Used by
// stream_tracker_server and by the all-in-one binary (which passes in-process channels and calls
// lease_sync()->RequestSync() from the shard store's change listener).
//
// Cluster mode (issue 19, `etcd_endpoints` set): the stores live in etcd under `etcd_prefix`
// instead (etcd_record_backend.h), so several replicas over one prefix serve the same mappings and
// functions, any of them any request; the lease sync loop runs only on the replica that holds
// the election key <etcd_prefix>election/sync (etcd/election.h): Start() campaigns, the loop
// starts when this replica wins and stops as soon as it loses (a pass in progress finishes).
//
// Thread-safe. `clock` must outlive this object. The sync loop runs from Start() until
// destruction; the owner must shut down the gRPC server serving service() and
// functions_service() before destroying this object.
#ifndef TRIBUTARY_STREAM_TRACKER_STREAM_TRACKER_H_
#define TRIBUTARY_STREAM_TRACKER_STREAM_TRACKER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/metrics/registry.h"
#include "etcd/election.h"
#include "etcd/etcd_client.h"
#include "grpcpp/channel.h"
#include "leasing/leasing_client.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/event_source_mappings_service.h"
#include "stream_tracker/function_config.h"
#include "stream_tracker/function_registry.h"
#include "stream_tracker/function_store.h"
#include "stream_tracker/functions_service.h"
#include "stream_tracker/lease_sync.h"
#include "stream_tracker/mapping_manager.h"
#include "stream_tracker/mapping_store.h"
#include "stream_tracker/remote_backends.h"
#include "stream_tracker/shard_checkpoints_service.h"
#include "stream_tracker/tracker_metrics.h"

namespace tributary::stream_tracker {

class StreamTracker {
 public:
  struct Options {
    // The directory of the tracker's data (mappings and functions live in the database
    // <data_dir>/mappings).
    std::string data_dir;
    // Time between sync passes when not nudged.
    absl::Duration sync_interval = absl::Seconds(1);
    // The longest a mapping goes without a full look at its shards and leases (lease_sync.h).
    absl::Duration full_sync_interval = absl::Minutes(1);
    // fsync every mapping change.
    bool sync_writes = false;
    // Deadline of each call to the shard store and leasing.
    absl::Duration rpc_timeout = absl::Seconds(10);
    // The region and account of function ARNs ("arn:aws:lambda:REGION:ACCOUNT:function:NAME").
    FunctionAccount function_account;
    // The hosts function endpoints may name (--function_endpoint_allow; function_config.h's
    // CheckEndpointAllowed). Default: any host.
    HostAllowList function_endpoint_allow;

    // Cluster mode: the etcd members' client addresses (host:port). Empty: RocksDB in data_dir.
    // Exactly one of data_dir and etcd_endpoints is set.
    std::vector<std::string> etcd_endpoints;
    // Every key of this tracker cluster starts with it; ends with '/'.
    std::string etcd_prefix = "/tributary/tracker/";
    // The election lease's TTL: how long after a sync holder died another replica takes over
    // (plus a quarter of it). Whole seconds, >= 2 s.
    absl::Duration election_ttl = absl::Seconds(5);
    // This replica's name as the election key shows it (e.g. "host pid 123 listen :4563").
    std::string replica_name = "stream tracker";
  };

  // Opens the database (or connects to etcd), brings mappings that name a function in line with
  // it (FunctionRegistry::RepairMappings: a crash may have come between an UpdateFunction's
  // writes), and builds the services and the sync (not started). Errors: from OpenTrackerDb
  // (e.g. the directory is held by another process), etcd (unreachable within the client's
  // operation timeout) and RepairMappings (storage errors); INVALID_ARGUMENT for neither or both
  // of data_dir and etcd_endpoints, a non-positive sync_interval or full_sync_interval, a
  // malformed function_account, etcd_prefix or election_ttl.
  static absl::StatusOr<std::unique_ptr<StreamTracker>> Create(
      const Options& options, std::shared_ptr<grpc::Channel> shard_store_channel,
      std::shared_ptr<grpc::Channel> leasing_channel, Clock& clock);

  // Stops the sync loop.
  ~StreamTracker();

  // Starts the sync loop (cluster mode: campaigns for it). Precondition: not started.
  void Start();

  // Exports the tracker's families (tracker_metrics.h) on `registry`, which must outlive this
  // object. Call once, before Start().
  void AddMetricsTo(metrics::Registry& registry);

  // tributary.v1.EventSourceMappings.
  grpc::Service* service() { return service_.get(); }
  // tributary.v1.Functions.
  grpc::Service* functions_service() { return functions_service_.get(); }
  // tributary.v1.ShardCheckpoints (forwarded to leasing; issue 23).
  grpc::Service* checkpoints_service() { return checkpoints_service_.get(); }
  MappingManager* manager() { return manager_.get(); }
  FunctionRegistry* functions() { return functions_.get(); }
  LeaseSync* lease_sync() { return lease_sync_.get(); }
  // Cluster mode: the election for the sync loop; null otherwise.
  etcd::Election* election() { return election_.get(); }

 private:
  StreamTracker() = default;
  HostAllowList function_endpoint_allow_;

  // Cluster mode; declared first: destroyed after everything that uses it.
  std::unique_ptr<etcd::EtcdClient> etcd_;
  std::unique_ptr<shard_store::ShardStoreClient> shard_store_client_;
  std::unique_ptr<leasing::LeasingClient> leasing_client_;
  std::unique_ptr<RemoteStreamCatalog> streams_;
  std::unique_ptr<RemoteLeaseAdmin> leases_;
  std::unique_ptr<MappingStore> store_;
  std::unique_ptr<FunctionStore> function_store_;
  std::unique_ptr<FunctionRegistry> functions_;
  std::unique_ptr<LeaseSync> lease_sync_;
  std::unique_ptr<MappingManager> manager_;
  std::unique_ptr<EventSourceMappingsService> service_;
  std::unique_ptr<FunctionsService> functions_service_;
  std::unique_ptr<ShardCheckpointsService> checkpoints_service_;
  std::unique_ptr<TrackerMetrics> metrics_;
  std::unique_ptr<etcd::Election> election_;
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_STREAM_TRACKER_H_
