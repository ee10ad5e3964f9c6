#include "stream_tracker/stream_tracker.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "stream_tracker/etcd_record_backend.h"
#include "stream_tracker/tracker_db.h"

namespace tributary::stream_tracker {

absl::StatusOr<std::unique_ptr<StreamTracker>> StreamTracker::Create(
    const Options& options, std::shared_ptr<grpc::Channel> shard_store_channel,
    std::shared_ptr<grpc::Channel> leasing_channel, Clock& clock) {
  const bool cluster = !options.etcd_endpoints.empty();
  if (options.data_dir.empty() == !cluster) {
    return absl::InvalidArgumentError(
        cluster ? "data_dir and etcd endpoints exclude each other: the mappings live in RocksDB "
                  "or in etcd"
                : "data_dir is required");
  }
  if (options.sync_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("sync_interval must be positive");
  }
  if (options.full_sync_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("full_sync_interval must be positive");
  }
  std::unique_ptr<StreamTracker> tracker(new StreamTracker());
  tracker->shard_store_client_ = std::make_unique<shard_store::ShardStoreClient>(
      std::move(shard_store_channel), options.rpc_timeout);
  tracker->leasing_client_ =
      std::make_unique<leasing::LeasingClient>(std::move(leasing_channel), options.rpc_timeout);
  tracker->streams_ = std::make_unique<RemoteStreamCatalog>(tracker->shard_store_client_.get());
  tracker->leases_ = std::make_unique<RemoteLeaseAdmin>(tracker->leasing_client_.get());
  if (cluster) {
    etcd::EtcdClientOptions etcd_options;
    etcd_options.endpoints = options.etcd_endpoints;
    ASSIGN_OR_RETURN(tracker->etcd_, etcd::EtcdClient::Create(clock, etcd_options));
    EtcdRecordBackendOptions backend_options;
    backend_options.prefix = options.etcd_prefix;
    ASSIGN_OR_RETURN(std::unique_ptr<EtcdRecordBackend> backend,
                     EtcdRecordBackend::Create(*tracker->etcd_, backend_options));
    std::shared_ptr<RecordBackend> shared(std::move(backend));
    tracker->store_ = MappingStore::Create(shared);
    tracker->function_store_ = FunctionStore::Create(shared);
  } else {
    ASSIGN_OR_RETURN(std::shared_ptr<RocksDb> db, OpenTrackerDb(options.data_dir + "/mappings"));
    MappingStore::Options store_options;
    store_options.sync_writes = options.sync_writes;
    tracker->store_ = MappingStore::Create(db, store_options);
    FunctionStore::Options function_store_options;
    function_store_options.sync_writes = options.sync_writes;
    tracker->function_store_ = FunctionStore::Create(db, function_store_options);
  }
  ASSIGN_OR_RETURN(tracker->functions_,
                   FunctionRegistry::Create(tracker->function_store_.get(), tracker->store_.get(),
                                            clock, options.function_account));
  RETURN_IF_ERROR(WithContext(tracker->functions_->RepairMappings(),
                              "bringing mappings in line with their functions"));
  LeaseSync::Options sync_options;
  sync_options.interval = options.sync_interval;
  sync_options.full_sync_interval = options.full_sync_interval;
  tracker->lease_sync_ = std::make_unique<LeaseSync>(tracker->store_.get(), tracker->streams_.get(),
                                                     tracker->leases_.get(), clock, sync_options);
  LeaseSync* sync = tracker->lease_sync_.get();
  tracker->manager_ = std::make_unique<MappingManager>(
      tracker->store_.get(), tracker->streams_.get(), clock, [sync] { sync->RequestSync(); },
      tracker->functions_.get());
  tracker->function_endpoint_allow_ = options.function_endpoint_allow;
  tracker->service_ = std::make_unique<EventSourceMappingsService>(
      tracker->manager_.get(), &tracker->function_endpoint_allow_);
  tracker->functions_service_ = std::make_unique<FunctionsService>(
      tracker->functions_.get(), &tracker->function_endpoint_allow_);
  if (cluster) {
    etcd::ElectionOptions election_options;
    election_options.key = absl::StrCat(options.etcd_prefix, "election/sync");
    election_options.value = options.replica_name;
    election_options.ttl = options.election_ttl;
    // Runs the loop only while this replica holds the key; stops it (joining the pass in
    // progress) as soon as it does not.
    ASSIGN_OR_RETURN(
        tracker->election_,
        etcd::Election::Create(*tracker->etcd_, election_options, [sync](bool leading) {
          if (leading) {
            LOG(INFO) << "lease sync: this replica leads";
            sync->Start();
          } else {
            LOG(INFO) << "lease sync: this replica stopped "
                         "leading";
            sync->Stop();
          }
        }));
  }
  tracker->checkpoints_service_ = std::make_unique<ShardCheckpointsService>(tracker->leases_.get());
  return tracker;
}

StreamTracker::~StreamTracker() {
  election_.reset();  // resigns: stops the loop first, then hands over
  if (lease_sync_ != nullptr) lease_sync_->Stop();
}

void StreamTracker::Start() {
  if (election_ != nullptr) {
    election_->Start();
  } else {
    lease_sync_->Start();
  }
}

void StreamTracker::AddMetricsTo(metrics::Registry& registry) {
  metrics_ = std::make_unique<TrackerMetrics>(registry, *store_);
  lease_sync_->SetPassObserver(
      [m = metrics_.get()](const absl::Status& status, absl::Duration duration) {
        m->Pass(status, duration);
      });
}

}  // namespace tributary::stream_tracker
