// The production implementations of the tracker's seams: StreamCatalog over the Streams service
// and LeaseAdmin over the Leasing service, each through its typed gRPC client.
#ifndef TRIBUTARY_STREAM_TRACKER_REMOTE_BACKENDS_H_
#define TRIBUTARY_STREAM_TRACKER_REMOTE_BACKENDS_H_

#include <string>
#include <vector>

#include "leasing/leasing_client.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/lease_admin.h"
#include "stream_tracker/stream_catalog.h"

namespace tributary::stream_tracker {

// StreamCatalog over a ShardStoreClient. Thread-safe; `client` must outlive this object.
class RemoteStreamCatalog : public StreamCatalog {
 public:
  explicit RemoteStreamCatalog(shard_store::ShardStoreClient* client) : client_(client) {}

  absl::Status CheckStreamExists(const std::string& stream_name) override;
  absl::StatusOr<std::vector<v1::Shard>> ListShards(const std::string& stream_name) override;
  absl::StatusOr<std::vector<std::string>> ListShardIdsOpenFrom(const std::string& stream_name,
                                                                absl::Time time) override;
  absl::StatusOr<ShardSetProbe> ProbeShardSet(const std::string& stream_name,
                                              const std::string& after_shard_id) override;

 private:
  shard_store::ShardStoreClient* client_;
};

// LeaseAdmin over a LeasingClient. ListLeases reads pages of `list_page_size` leases (1–10000).
// Thread-safe; `client` must outlive this object.
class RemoteLeaseAdmin : public LeaseAdmin {
 public:
  explicit RemoteLeaseAdmin(leasing::LeasingClient* client, int list_page_size = 1000)
      : client_(client), list_page_size_(list_page_size) {}

  absl::StatusOr<int> CreateLeases(const std::vector<v1::NewLease>& leases) override;
  absl::Status DeleteLeases(const std::vector<v1::LeaseKey>& keys) override;
  absl::Status DeleteMappingLeases(const std::string& uuid) override;
  absl::Status SetMappingEnabled(const std::string& uuid, bool enabled) override;
  absl::StatusOr<std::vector<v1::Lease>> ListLeases(const std::string& uuid) override;
  absl::StatusOr<std::vector<v1::MappingLeaseSummary>> SummarizeLeases(
      const std::vector<std::string>& uuids) override;
  absl::StatusOr<v1::Lease> GetLease(const v1::GetLeaseRequest& request) override {
    return client_->GetLease(request);
  }
  absl::StatusOr<v1::UpdateShardCheckpointResponse> UpdateShardCheckpoint(
      const v1::UpdateShardCheckpointRequest& request) override {
    return client_->UpdateShardCheckpoint(request);
  }

 private:
  leasing::LeasingClient* client_;
  const int list_page_size_;
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_REMOTE_BACKENDS_H_
