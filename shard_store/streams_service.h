// StreamsService: the tributary.v1.Streams gRPC adapter over a ShardStore.
//
// Unary RPCs use the synchronous API: validate → call the library → map the
// status (the library validates every field; see shard_store.h for each
// method's contract and error codes). SubscribeToShard uses the callback API:
//   - a put to the shard wakes the subscription at once (ShardStore::WatchShard;
//     no polling interval);
//   - flow control: each subscriber has at most one write outstanding and
//     reads the next batch only after the previous write completed, so a slow
//     reader never makes the server buffer more than one event (≤ 10000 records,
//     ≤ kMaxEventBytes) per subscriber;
//   - every event carries continuation_sequence_number (resume with
//     AFTER_SEQUENCE_NUMBER from it) and millis_behind_latest; the first event
//     is sent at once (possibly empty) so a client knows it is subscribed;
//   - at SHARD_END the last event carries child_shards and the call ends OK;
//   - a deleted stream or trimmed-away shard ends the call with NOT_FOUND.
// Reading and writing for subscriptions happens on a small pool of dispatch
// threads owned by the service, never in the writer's thread.
//
// Thread-safe. `store` must outlive the service; the gRPC server using it must
// be shut down before the service is destroyed.
#ifndef TRIBUTARY_SHARD_STORE_STREAMS_SERVICE_H_
#define TRIBUTARY_SHARD_STORE_STREAMS_SERVICE_H_

#include <deque>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "proto/streams.grpc.pb.h"
#include "shard_store/shard_store.h"

namespace tributary::shard_store {

class Subscription;

class StreamsService final
    : public v1::Streams::WithCallbackMethod_SubscribeToShard<v1::Streams::Service> {
 public:
  // The largest event SubscribeToShard sends, in bytes of records.
  static constexpr int64_t kMaxEventBytes = 4 << 20;

  explicit StreamsService(ShardStore& store, int dispatch_threads = 2);
  ~StreamsService() override;

  grpc::Status CreateStream(grpc::ServerContext* context, const v1::CreateStreamRequest* request,
                            v1::CreateStreamResponse* response) override;
  grpc::Status DeleteStream(grpc::ServerContext* context, const v1::DeleteStreamRequest* request,
                            v1::DeleteStreamResponse* response) override;
  grpc::Status DescribeStreamSummary(grpc::ServerContext* context,
                                     const v1::DescribeStreamSummaryRequest* request,
                                     v1::DescribeStreamSummaryResponse* response) override;
  grpc::Status ListStreams(grpc::ServerContext* context, const v1::ListStreamsRequest* request,
                           v1::ListStreamsResponse* response) override;
  grpc::Status ListShards(grpc::ServerContext* context, const v1::ListShardsRequest* request,
                          v1::ListShardsResponse* response) override;
  grpc::Status PutRecord(grpc::ServerContext* context, const v1::PutRecordRequest* request,
                         v1::PutRecordResponse* response) override;
  grpc::Status PutRecords(grpc::ServerContext* context, const v1::PutRecordsRequest* request,
                          v1::PutRecordsResponse* response) override;
  grpc::Status GetShardIterator(grpc::ServerContext* context,
                                const v1::GetShardIteratorRequest* request,
                                v1::GetShardIteratorResponse* response) override;
  grpc::Status GetRecords(grpc::ServerContext* context, const v1::GetRecordsRequest* request,
                          v1::GetRecordsResponse* response) override;
  grpc::Status SplitShard(grpc::ServerContext* context, const v1::SplitShardRequest* request,
                          v1::SplitShardResponse* response) override;
  grpc::Status MergeShards(grpc::ServerContext* context, const v1::MergeShardsRequest* request,
                           v1::MergeShardsResponse* response) override;
  grpc::Status UpdateShardCount(grpc::ServerContext* context,
                                const v1::UpdateShardCountRequest* request,
                                v1::UpdateShardCountResponse* response) override;
  grpc::Status IncreaseStreamRetentionPeriod(
      grpc::ServerContext* context, const v1::IncreaseStreamRetentionPeriodRequest* request,
      v1::IncreaseStreamRetentionPeriodResponse* response) override;
  grpc::Status DecreaseStreamRetentionPeriod(
      grpc::ServerContext* context, const v1::DecreaseStreamRetentionPeriodRequest* request,
      v1::DecreaseStreamRetentionPeriodResponse* response) override;

  grpc::ServerWriteReactor<v1::SubscribeToShardEvent>* SubscribeToShard(
      grpc::CallbackServerContext* context, const v1::SubscribeToShardRequest* request) override;

 private:
  friend class Subscription;
  // Queues `subscription` for a dispatch thread.
  void Dispatch(Subscription* subscription);
  void DispatchLoop();

  ShardStore& store_;
  absl::Mutex mu_;
  std::deque<Subscription*> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_STREAMS_SERVICE_H_
