// A typed client for tributary.v1.Streams. Thread-safe; cheap to share.
//
// Every unary method takes the request proto and returns the response or the
// call's status: the server's (INVALID_ARGUMENT, NOT_FOUND, ...) or the
// transport's (UNAVAILABLE, DEADLINE_EXCEEDED). Each call has a deadline of
// `timeout` (default: the client's). The client does not retry: PutRecords is
// not idempotent (a retry after DEADLINE_EXCEEDED may write a record twice,
// which at-least-once delivery allows but the caller must choose), and callers
// own their retry loops and clocks.
//
// Client-side adaptive throttling (opt-in, issue 22; shard_store/NOTES.md): with
// an AdaptiveThrottle, PutRecord and PutRecords first ask it, and a call it
// refuses fails RESOURCE_EXHAUSTED "throttled client-side ..." without being
// sent; every sent call's outcome is reported to it (the server's
// RESOURCE_EXHAUSTED counts as a refusal; a PutRecords whose records were
// throttled one by one, --kinesis_shard_limits' per-record
// ProvisionedThroughputExceededException, was answered and counts as accepted).
// Other methods are not throttled.
#ifndef TRIBUTARY_SHARD_STORE_SHARD_STORE_CLIENT_H_
#define TRIBUTARY_SHARD_STORE_SHARD_STORE_CLIENT_H_

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/adaptive_throttle.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "proto/streams.grpc.pb.h"

namespace tributary::shard_store {

// One SubscribeToShard call: events arrive in order until the shard ends, the
// call fails, or Cancel() is called. Next() is for one reader thread; Cancel()
// may be called from any thread.
class ShardSubscription {
 public:
  ShardSubscription(std::unique_ptr<grpc::ClientContext> context,
                    std::unique_ptr<grpc::ClientReader<v1::SubscribeToShardEvent>> reader);
  ~ShardSubscription();

  // Blocks for the next event. Returns std::nullopt when the server ended the
  // stream cleanly (after the event carrying child_shards at SHARD_END), or the
  // call's error status (CANCELLED after Cancel(), UNAVAILABLE when the server
  // went away, ...).
  absl::StatusOr<std::optional<v1::SubscribeToShardEvent>> Next();
  // Ends the subscription; a blocked Next() returns CANCELLED. Idempotent.
  void Cancel();

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeToShardEvent>> reader_;
  bool finished_ = false;
};

class ShardStoreClient {
 public:
  explicit ShardStoreClient(std::shared_ptr<grpc::Channel> channel,
                            absl::Duration default_timeout = absl::Seconds(10));
  // With `put_throttle` (not null) PutRecord and PutRecords are throttled
  // client-side; several clients may share one throttle (one per producer
  // process and server, as the SRE book keeps one per backend).
  ShardStoreClient(std::shared_ptr<grpc::Channel> channel, absl::Duration default_timeout,
                   std::shared_ptr<AdaptiveThrottle> put_throttle);

  absl::StatusOr<v1::CreateStreamResponse> CreateStream(const v1::CreateStreamRequest& request);
  absl::StatusOr<v1::DeleteStreamResponse> DeleteStream(const v1::DeleteStreamRequest& request);
  absl::StatusOr<v1::DescribeStreamSummaryResponse> DescribeStreamSummary(
      const v1::DescribeStreamSummaryRequest& request);
  absl::StatusOr<v1::ListStreamsResponse> ListStreams(const v1::ListStreamsRequest& request);
  absl::StatusOr<v1::ListShardsResponse> ListShards(const v1::ListShardsRequest& request);
  absl::StatusOr<v1::PutRecordResponse> PutRecord(const v1::PutRecordRequest& request);
  absl::StatusOr<v1::PutRecordsResponse> PutRecords(const v1::PutRecordsRequest& request);
  absl::StatusOr<v1::GetShardIteratorResponse> GetShardIterator(
      const v1::GetShardIteratorRequest& request);
  absl::StatusOr<v1::GetRecordsResponse> GetRecords(const v1::GetRecordsRequest& request);
  absl::StatusOr<v1::SplitShardResponse> SplitShard(const v1::SplitShardRequest& request);
  absl::StatusOr<v1::MergeShardsResponse> MergeShards(const v1::MergeShardsRequest& request);
  absl::StatusOr<v1::UpdateShardCountResponse> UpdateShardCount(
      const v1::UpdateShardCountRequest& request);
  absl::StatusOr<v1::IncreaseStreamRetentionPeriodResponse> IncreaseStreamRetentionPeriod(
      const v1::IncreaseStreamRetentionPeriodRequest& request);
  absl::StatusOr<v1::DecreaseStreamRetentionPeriodResponse> DecreaseStreamRetentionPeriod(
      const v1::DecreaseStreamRetentionPeriodRequest& request);
  absl::StatusOr<v1::UpdateStreamModeResponse> UpdateStreamMode(
      const v1::UpdateStreamModeRequest& request);
  absl::StatusOr<v1::AddTagsToStreamResponse> AddTagsToStream(
      const v1::AddTagsToStreamRequest& request);
  absl::StatusOr<v1::RemoveTagsFromStreamResponse> RemoveTagsFromStream(
      const v1::RemoveTagsFromStreamRequest& request);
  absl::StatusOr<v1::ListTagsForStreamResponse> ListTagsForStream(
      const v1::ListTagsForStreamRequest& request);
  absl::StatusOr<v1::RegisterStreamConsumerResponse> RegisterStreamConsumer(
      const v1::RegisterStreamConsumerRequest& request);
  absl::StatusOr<v1::DeregisterStreamConsumerResponse> DeregisterStreamConsumer(
      const v1::DeregisterStreamConsumerRequest& request);
  absl::StatusOr<v1::DescribeStreamConsumerResponse> DescribeStreamConsumer(
      const v1::DescribeStreamConsumerRequest& request);
  absl::StatusOr<v1::ListStreamConsumersResponse> ListStreamConsumers(
      const v1::ListStreamConsumersRequest& request);

  // Lists every shard of a stream, following next_token pages. `filter` may be
  // null.
  absl::StatusOr<std::vector<v1::Shard>> ListAllShards(const std::string& stream_name,
                                                       const v1::ShardFilter* filter = nullptr);

  // Starts a SubscribeToShard stream (no deadline: it lives until the shard
  // ends or Cancel()).
  std::unique_ptr<ShardSubscription> SubscribeToShard(const v1::SubscribeToShardRequest& request);

  v1::Streams::Stub* stub() { return stub_.get(); }

 private:
  std::unique_ptr<v1::Streams::Stub> stub_;
  absl::Duration timeout_;
  std::shared_ptr<AdaptiveThrottle> put_throttle_;  // may be null
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_SHARD_STORE_CLIENT_H_
