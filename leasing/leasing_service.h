// tributary.v1.Leasing over a LeaseTable: validates each request, converts proto ↔ domain, calls
// the table, maps the status. The semantics are the table's (leasing/lease_table.h) and the
// proto's comments (proto/leasing.proto).
//
// Validation (INVALID_ARGUMENT, the message names the field): empty mapping uuids, shard ids,
// parent shard ids and poller ids; capacity < 1; a sequence number that is not a decimal
// unsigned 64-bit integer; a checkpoint type other than SEQUENCE_NUMBER or SHARD_END in
// Checkpoint; an unknown checkpoint type, or AT_TIMESTAMP_CHECKPOINT without a timestamp, as an
// initial checkpoint (CHECKPOINT_TYPE_UNSPECIFIED there means TRIM_HORIZON); max_results outside
// 0..10000 (0 means 1000); a page token that ListLeases did not return; a heartbeat's
// held_leases[i].last_processing_result longer than kMaxProcessingResultLength, last_error_kind
// longer than kMaxErrorKindLength or last_error_message longer than kMaxErrorMessageLength; a
// SummarizeLeases call naming an empty uuid or more than kMaxSummarizedMappings. Unknown leases
// and pollers are NOT_FOUND; fencing failures FAILED_PRECONDITION.
//
// Thread-safe (gRPC calls handlers concurrently; the table serializes). `table` must outlive the
// service.
#ifndef TRIBUTARY_LEASING_LEASING_SERVICE_H_
#define TRIBUTARY_LEASING_LEASING_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/metrics/registry.h"
#include "leasing/invocation_slots.h"
#include "leasing/lease_table.h"
#include "leasing/leasing_metrics.h"
#include "proto/leasing.grpc.pb.h"

namespace tributary::leasing {

// The longest processing result a heartbeat may report (bytes): leasing keeps one per lease in
// memory, and Lambda's texts are a few dozen characters.
inline constexpr size_t kMaxProcessingResultLength = 256;
// The longest error kind and error message a heartbeat may report (bytes): one per lease in
// memory. Pollers cut messages to this length on a UTF-8 boundary.
inline constexpr size_t kMaxErrorKindLength = 64;
inline constexpr size_t kMaxErrorMessageLength = 256;
// The most mappings one SummarizeLeases call may name.
inline constexpr int kMaxSummarizedMappings = 10000;

class LeasingService final : public v1::Leasing::Service {
 public:
  // The invocation slots (reserved concurrency) live here, in memory, and expire with the
  // pollers' liveness in `table`.
  explicit LeasingService(LeaseTable& table)
      : table_(table),
        slots_([&table](const std::string& poller_id) { return table.IsPollerLive(poller_id); }) {}

  // Counts heartbeats and checkpoints on `metrics` (nullptr: stop counting), which must outlive
  // the service. Thread-safe.
  void SetMetrics(LeasingMetrics* metrics) { metrics_.store(metrics); }

  grpc::Status CreateLeases(grpc::ServerContext* context, const v1::CreateLeasesRequest* request,
                            v1::CreateLeasesResponse* response) override;
  grpc::Status DeleteLeases(grpc::ServerContext* context, const v1::DeleteLeasesRequest* request,
                            v1::DeleteLeasesResponse* response) override;
  grpc::Status SetMappingEnabled(grpc::ServerContext* context,
                                 const v1::SetMappingEnabledRequest* request,
                                 v1::SetMappingEnabledResponse* response) override;
  grpc::Status RegisterPoller(grpc::ServerContext* context,
                              const v1::RegisterPollerRequest* request,
                              v1::RegisterPollerResponse* response) override;
  grpc::Status DeregisterPoller(grpc::ServerContext* context,
                                const v1::DeregisterPollerRequest* request,
                                v1::DeregisterPollerResponse* response) override;
  grpc::Status Heartbeat(grpc::ServerContext* context, const v1::HeartbeatRequest* request,
                         v1::HeartbeatResponse* response) override;
  grpc::Status AcquireLeases(grpc::ServerContext* context, const v1::AcquireLeasesRequest* request,
                             v1::AcquireLeasesResponse* response) override;
  grpc::Status ReleaseLease(grpc::ServerContext* context, const v1::ReleaseLeaseRequest* request,
                            v1::ReleaseLeaseResponse* response) override;
  grpc::Status Checkpoint(grpc::ServerContext* context, const v1::CheckpointRequest* request,
                          v1::CheckpointResponse* response) override;
  // Logs every move that happened as one line starting with "AUDIT " (who, what, old, new).
  grpc::Status UpdateShardCheckpoint(grpc::ServerContext* context,
                                     const v1::UpdateShardCheckpointRequest* request,
                                     v1::UpdateShardCheckpointResponse* response) override;
  grpc::Status ListLeases(grpc::ServerContext* context, const v1::ListLeasesRequest* request,
                          v1::ListLeasesResponse* response) override;
  grpc::Status GetLease(grpc::ServerContext* context, const v1::GetLeaseRequest* request,
                        v1::Lease* response) override;
  grpc::Status ListPollers(grpc::ServerContext* context, const v1::ListPollersRequest* request,
                           v1::ListPollersResponse* response) override;
  grpc::Status SummarizeLeases(grpc::ServerContext* context,
                               const v1::SummarizeLeasesRequest* request,
                               v1::SummarizeLeasesResponse* response) override;
  grpc::Status AcquireInvocationSlots(grpc::ServerContext* context,
                                      const v1::AcquireInvocationSlotsRequest* request,
                                      v1::AcquireInvocationSlotsResponse* response) override;
  grpc::Status ReleaseInvocationSlots(grpc::ServerContext* context,
                                      const v1::ReleaseInvocationSlotsRequest* request,
                                      v1::ReleaseInvocationSlotsResponse* response) override;

  InvocationSlots& slots() { return slots_; }

 private:
  LeaseTable& table_;
  InvocationSlots slots_;
  std::atomic<LeasingMetrics*> metrics_{nullptr};
};

// Everything the Leasing service needs over one data directory: the RocksDB store, the table and
// the service. The leasing_server binary and the all-in-one binary build one each (the latter on
// DIR/leasing) and register service() on their gRPC server. Not copyable; `clock` must outlive
// it.
class LeasingStack {
 public:
  // Opens (or creates) the lease store in `data_dir`. Errors: those of RocksDbLeaseStore::Open
  // and LeaseTable::Create.
  static absl::StatusOr<std::unique_ptr<LeasingStack>> Create(Clock& clock,
                                                              const std::string& data_dir,
                                                              const LeaseTableOptions& options);
  // Over a store of the caller's (cluster mode: an EtcdLeaseStore), which the stack owns.
  // Errors: those of LeaseTable::Create.
  static absl::StatusOr<std::unique_ptr<LeasingStack>> Create(Clock& clock,
                                                              std::unique_ptr<LeaseStore> store,
                                                              const LeaseTableOptions& options);

  LeaseTable& table() { return *table_; }
  LeasingService& service() { return *service_; }

  // Exports leasing's families (leasing_metrics.h) on `registry`, which must outlive this stack.
  // Call once (a second call is a programmer error: the registry CHECK-fails on the names).
  void EnableMetrics(metrics::Registry& registry);

 private:
  LeasingStack() = default;

  std::unique_ptr<LeaseStore> store_;
  std::unique_ptr<LeaseTable> table_;
  std::unique_ptr<LeasingService> service_;
  std::unique_ptr<LeasingMetrics> metrics_;
};

}  // namespace tributary::leasing

#endif  // TRIBUTARY_LEASING_LEASING_SERVICE_H_
