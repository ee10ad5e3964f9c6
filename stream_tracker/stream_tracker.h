// StreamTracker: the stream tracker's objects wired together — the mapping store under
// `data_dir`, the EventSourceMappings service, and the lease sync loop — talking to the shard
// store and leasing over the given channels. Used by stream_tracker_server and by the
// all-in-one binary (which passes in-process channels and calls lease_sync()->RequestSync() from
// the shard store's change listener).
//
// Thread-safe. `clock` must outlive this object. The sync loop runs from Start() until
// destruction; the owner must shut down the gRPC server serving service() before destroying
// this object.
#ifndef TRIBUTARY_STREAM_TRACKER_STREAM_TRACKER_H_
#define TRIBUTARY_STREAM_TRACKER_STREAM_TRACKER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "grpcpp/channel.h"
#include "leasing/leasing_client.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/event_source_mappings_service.h"
#include "stream_tracker/lease_sync.h"
#include "stream_tracker/mapping_manager.h"
#include "stream_tracker/mapping_store.h"
#include "stream_tracker/remote_backends.h"

namespace tributary::stream_tracker {

class StreamTracker {
 public:
  struct Options {
    // The directory of the tracker's data (the mapping store lives in <data_dir>/mappings).
    std::string data_dir;
    // Time between sync passes when not nudged.
    absl::Duration sync_interval = absl::Seconds(1);
    // The longest a mapping goes without a full look at its shards and leases (lease_sync.h).
    absl::Duration full_sync_interval = absl::Minutes(1);
    // fsync every mapping change.
    bool sync_writes = false;
    // Deadline of each call to the shard store and leasing.
    absl::Duration rpc_timeout = absl::Seconds(10);
  };

  // Opens the mapping store and builds the service and the sync (not started). Errors: from
  // MappingStore::Open (e.g. the directory is held by another process); INVALID_ARGUMENT for an
  // empty data_dir or a non-positive sync_interval or full_sync_interval.
  static absl::StatusOr<std::unique_ptr<StreamTracker>> Create(
      const Options& options, std::shared_ptr<grpc::Channel> shard_store_channel,
      std::shared_ptr<grpc::Channel> leasing_channel, Clock& clock);

  // Stops the sync loop.
  ~StreamTracker();

  // Starts the sync loop. Precondition: not started.
  void Start() { lease_sync_->Start(); }

  grpc::Service* service() { return service_.get(); }
  MappingManager* manager() { return manager_.get(); }
  LeaseSync* lease_sync() { return lease_sync_.get(); }

 private:
  StreamTracker() = default;

  std::unique_ptr<shard_store::ShardStoreClient> shard_store_client_;
  std::unique_ptr<leasing::LeasingClient> leasing_client_;
  std::unique_ptr<RemoteStreamCatalog> streams_;
  std::unique_ptr<RemoteLeaseAdmin> leases_;
  std::unique_ptr<MappingStore> store_;
  std::unique_ptr<LeaseSync> lease_sync_;
  std::unique_ptr<MappingManager> manager_;
  std::unique_ptr<EventSourceMappingsService> service_;
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_STREAM_TRACKER_H_
