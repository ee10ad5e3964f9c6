#include "shard_store/shard_store_client.h"

#include <string>
#include <utility>
#include <vector>

#include "common/grpc_client.h"
#include "common/grpc_status.h"

namespace tributary::shard_store {

ShardSubscription::ShardSubscription(
    std::unique_ptr<grpc::ClientContext> context,
    std::unique_ptr<grpc::ClientReader<v1::SubscribeToShardEvent>> reader)
    : context_(std::move(context)), reader_(std::move(reader)) {}

ShardSubscription::~ShardSubscription() {
  if (!finished_) {
    context_->TryCancel();
    v1::SubscribeToShardEvent drain;
    while (reader_->Read(&drain)) {
    }
    reader_->Finish().ok();  // the outcome of a cancelled call is of no interest here
  }
}

absl::StatusOr<std::optional<v1::SubscribeToShardEvent>> ShardSubscription::Next() {
  if (finished_) return std::optional<v1::SubscribeToShardEvent>();
  v1::SubscribeToShardEvent event;
  if (reader_->Read(&event)) return std::optional<v1::SubscribeToShardEvent>(std::move(event));
  finished_ = true;
  grpc::Status status = reader_->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  return std::optional<v1::SubscribeToShardEvent>();
}

void ShardSubscription::Cancel() { context_->TryCancel(); }

ShardStoreClient::ShardStoreClient(std::shared_ptr<grpc::Channel> channel,
                                   absl::Duration default_timeout)
    : stub_(v1::Streams::NewStub(std::move(channel))), timeout_(default_timeout) {}

ShardStoreClient::ShardStoreClient(std::shared_ptr<grpc::Channel> channel,
                                   absl::Duration default_timeout,
                                   std::shared_ptr<AdaptiveThrottle> put_throttle)
    : stub_(v1::Streams::NewStub(std::move(channel))),
      timeout_(default_timeout),
      put_throttle_(std::move(put_throttle)) {}

namespace {

// Calls `method` through `throttle` (null: directly).
template <typename Request, typename Response>
absl::StatusOr<Response> ThrottledCall(
    AdaptiveThrottle* throttle, v1::Streams::Stub* stub,
    grpc::Status (v1::Streams::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    const Request& request, absl::Duration timeout) {
  if (throttle == nullptr) return CallUnary(stub, method, request, timeout);
  if (absl::Status admitted = throttle->Admit(); !admitted.ok()) return admitted;
  absl::StatusOr<Response> response = CallUnary(stub, method, request, timeout);
  throttle->Done(response.status());
  return response;
}

}  // namespace

absl::StatusOr<v1::PutRecordResponse> ShardStoreClient::PutRecord(
    const v1::PutRecordRequest& request) {
  return ThrottledCall(put_throttle_.get(), stub_.get(), &v1::Streams::Stub::PutRecord, request,
                       timeout_);
}

absl::StatusOr<v1::PutRecordsResponse> ShardStoreClient::PutRecords(
    const v1::PutRecordsRequest& request) {
  return ThrottledCall(put_throttle_.get(), stub_.get(), &v1::Streams::Stub::PutRecords, request,
                       timeout_);
}

#define TRIBUTARY_STREAMS_UNARY(Method)                                           \
  absl::StatusOr<v1::Method##Response> ShardStoreClient::Method(                  \
      const v1::Method##Request& request) {                                       \
    return CallUnary(stub_.get(), &v1::Streams::Stub::Method, request, timeout_); \
  }

TRIBUTARY_STREAMS_UNARY(CreateStream)
TRIBUTARY_STREAMS_UNARY(DeleteStream)
TRIBUTARY_STREAMS_UNARY(DescribeStreamSummary)
TRIBUTARY_STREAMS_UNARY(ListStreams)
TRIBUTARY_STREAMS_UNARY(ListShards)
TRIBUTARY_STREAMS_UNARY(GetShardIterator)
TRIBUTARY_STREAMS_UNARY(GetRecords)
TRIBUTARY_STREAMS_UNARY(SplitShard)
TRIBUTARY_STREAMS_UNARY(MergeShards)
TRIBUTARY_STREAMS_UNARY(UpdateShardCount)
TRIBUTARY_STREAMS_UNARY(IncreaseStreamRetentionPeriod)
TRIBUTARY_STREAMS_UNARY(DecreaseStreamRetentionPeriod)
TRIBUTARY_STREAMS_UNARY(UpdateStreamMode)
TRIBUTARY_STREAMS_UNARY(AddTagsToStream)
TRIBUTARY_STREAMS_UNARY(RemoveTagsFromStream)
TRIBUTARY_STREAMS_UNARY(ListTagsForStream)
TRIBUTARY_STREAMS_UNARY(RegisterStreamConsumer)
TRIBUTARY_STREAMS_UNARY(DeregisterStreamConsumer)
TRIBUTARY_STREAMS_UNARY(DescribeStreamConsumer)
TRIBUTARY_STREAMS_UNARY(ListStreamConsumers)

#undef TRIBUTARY_STREAMS_UNARY

absl::StatusOr<std::vector<v1::Shard>> ShardStoreClient::ListAllShards(
    const std::string& stream_name, const v1::ShardFilter* filter) {
  std::vector<v1::Shard> shards;
  v1::ListShardsRequest request;
  request.set_stream_name(stream_name);
  request.set_max_results(10000);
  if (filter != nullptr) *request.mutable_shard_filter() = *filter;
  while (true) {
    absl::StatusOr<v1::ListShardsResponse> page = ListShards(request);
    if (!page.ok()) return page.status();
    for (v1::Shard& shard : *page->mutable_shards()) shards.push_back(std::move(shard));
    if (page->next_token().empty()) return shards;
    // Kinesis: a request with next_token carries no stream name or filter.
    request.Clear();
    request.set_next_token(page->next_token());
    request.set_max_results(10000);
  }
}

std::unique_ptr<ShardSubscription> ShardStoreClient::SubscribeToShard(
    const v1::SubscribeToShardRequest& request) {
  auto context = std::make_unique<grpc::ClientContext>();
  auto reader = stub_->SubscribeToShard(context.get(), request);
  return std::make_unique<ShardSubscription>(std::move(context), std::move(reader));
}

}  // namespace tributary::shard_store
