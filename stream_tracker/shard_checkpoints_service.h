// The tributary.v1.ShardCheckpoints gRPC service (proto/shard_checkpoints.proto): the operator's
// look at and move of a shard's checkpoint, forwarded to leasing through the tracker's LeaseAdmin
// so that tribctl needs only the tracker's endpoint. Answers what leasing answered (codes and
// messages); the fencing and the audit line are leasing's (leasing_service.h). The caller's
// address is appended to `requested_by` so that leasing's audit line names who asked, not only
// the tracker.
//
// Thread-safe. `leases` must outlive this object.
#ifndef TRIBUTARY_STREAM_TRACKER_SHARD_CHECKPOINTS_SERVICE_H_
#define TRIBUTARY_STREAM_TRACKER_SHARD_CHECKPOINTS_SERVICE_H_

#include "proto/shard_checkpoints.grpc.pb.h"
#include "stream_tracker/lease_admin.h"

namespace tributary::stream_tracker {

class ShardCheckpointsService final : public v1::ShardCheckpoints::Service {
 public:
  explicit ShardCheckpointsService(LeaseAdmin* leases) : leases_(leases) {}

  grpc::Status GetShardCheckpoint(grpc::ServerContext* context, const v1::GetLeaseRequest* request,
                                  v1::Lease* response) override;
  grpc::Status UpdateShardCheckpoint(grpc::ServerContext* context,
                                     const v1::UpdateShardCheckpointRequest* request,
                                     v1::UpdateShardCheckpointResponse* response) override;

 private:
  LeaseAdmin* leases_;
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_SHARD_CHECKPOINTS_SERVICE_H_
