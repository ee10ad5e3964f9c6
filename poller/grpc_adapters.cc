#include "poller/grpc_adapters.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "common/status_macros.h"

namespace tributary::poller {

absl::StatusOr<v1::InvokeResponse> GrpcFunctionInvoker::Invoke(const std::string& endpoint,
                                                               const v1::InvokeRequest& request,
                                                               absl::Duration timeout) {
  std::shared_ptr<v1::Function::Stub> stub;
  {
    absl::MutexLock lock(&mu_);
    auto& slot = stubs_[endpoint];
    if (slot == nullptr) slot = v1::Function::NewStub(MakeChannel(endpoint));
    stub = slot;
  }
  return CallUnary(stub.get(), &v1::Function::Stub::Invoke, request, timeout);
}

absl::Status ShardStoreFailureDestination::Put(const std::string& stream_name,
                                               const std::string& partition_key,
                                               const std::string& data) {
  v1::PutRecordRequest request;
  request.set_stream_name(stream_name);
  request.set_partition_key(partition_key);
  request.set_data(data);
  return client_.PutRecord(request).status();
}

namespace {

class SubscriptionStream : public ShardRecordStream {
 public:
  SubscriptionStream(shard_store::ShardStoreClient& client, std::string stream_name,
                     std::string shard_id, const v1::Checkpoint& checkpoint)
      : client_(client),
        stream_name_(std::move(stream_name)),
        shard_id_(std::move(shard_id)),
        start_(checkpoint) {
    if (checkpoint.type() == v1::SEQUENCE_NUMBER)
      last_sequence_number_ = checkpoint.sequence_number();
  }

  absl::StatusOr<ReadResult> Next() override {
    std::shared_ptr<shard_store::ShardSubscription> subscription;
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) return absl::CancelledError("shard reader cancelled");
      if (ended_) {
        ReadResult end;
        end.shard_end = true;
        return end;
      }
      if (fallback_read_) {
        fallback_read_ = false;
      } else {
        if (subscription_ == nullptr) {
          subscription_ = client_.SubscribeToShard(SubscribeRequest());
        }
        subscription = subscription_;
      }
    }
    if (subscription == nullptr) return ReadOnceWithGetRecords();

    absl::StatusOr<std::optional<v1::SubscribeToShardEvent>> event = subscription->Next();
    absl::MutexLock lock(&mu_);
    if (cancelled_) return absl::CancelledError("shard reader cancelled");
    if (!event.ok()) {
      // Read once with GetRecords next time, then subscribe again.
      subscription_.reset();
      fallback_read_ = true;
      return WithContext(event.status(), "SubscribeToShard ", shard_id_);
    }
    ReadResult result;
    if (!event->has_value()) {
      // Ended without child shards (the store ends a subscription cleanly only after the event
      // that carries them, but a subscription may have a lifetime): GetRecords tells for sure
      // whether the shard ended.
      subscription_.reset();
      fallback_read_ = true;
      return result;
    }
    for (v1::Record& r : *(*event)->mutable_records()) result.records.push_back(std::move(r));
    if (!result.records.empty()) last_sequence_number_ = result.records.back().sequence_number();
    if ((*event)->child_shards_size() > 0) {
      ended_ = true;
      result.shard_end = true;
      for (const auto& c : (*event)->child_shards()) result.child_shard_ids.push_back(c.shard_id());
    }
    return result;
  }

  void Cancel() override {
    std::shared_ptr<shard_store::ShardSubscription> subscription;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      subscription = subscription_;
    }
    if (subscription != nullptr) subscription->Cancel();
  }

 private:
  v1::SubscribeToShardRequest SubscribeRequest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::SubscribeToShardRequest request;
    request.set_stream_name(stream_name_);
    request.set_shard_id(shard_id_);
    *request.mutable_starting_position() = Position();
    return request;
  }

  // Where reading resumes: after the last record returned, else the lease's starting point.
  v1::StartingPosition Position() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::StartingPosition p;
    if (!last_sequence_number_.empty()) {
      p.set_type(v1::AFTER_SEQUENCE_NUMBER);
      p.set_sequence_number(last_sequence_number_);
      return p;
    }
    switch (start_.type()) {
      case v1::LATEST_CHECKPOINT:
        p.set_type(v1::LATEST);
        break;
      case v1::AT_TIMESTAMP_CHECKPOINT:
        p.set_type(v1::AT_TIMESTAMP);
        *p.mutable_timestamp() = start_.timestamp();
        break;
      default:
        p.set_type(v1::TRIM_HORIZON);
    }
    return p;
  }

  absl::StatusOr<ReadResult> ReadOnceWithGetRecords() {
    v1::GetShardIteratorRequest iterator_request;
    {
      absl::MutexLock lock(&mu_);
      const v1::StartingPosition p = Position();
      iterator_request.set_stream_name(stream_name_);
      iterator_request.set_shard_id(shard_id_);
      iterator_request.set_shard_iterator_type(p.type());
      iterator_request.set_starting_sequence_number(p.sequence_number());
      *iterator_request.mutable_timestamp() = p.timestamp();
    }
    ASSIGN_OR_RETURN(v1::GetShardIteratorResponse iterator,
                     client_.GetShardIterator(iterator_request));
    v1::GetRecordsRequest records_request;
    records_request.set_shard_iterator(iterator.shard_iterator());
    ASSIGN_OR_RETURN(v1::GetRecordsResponse records, client_.GetRecords(records_request));
    ReadResult result;
    for (v1::Record& r : *records.mutable_records()) result.records.push_back(std::move(r));
    absl::MutexLock lock(&mu_);
    if (!result.records.empty()) last_sequence_number_ = result.records.back().sequence_number();
    if (records.next_shard_iterator().empty()) {
      ended_ = true;
      result.shard_end = true;
      for (const auto& c : records.child_shards()) result.child_shard_ids.push_back(c.shard_id());
    }
    return result;
  }

  shard_store::ShardStoreClient& client_;
  const std::string stream_name_;
  const std::string shard_id_;
  const v1::Checkpoint start_;
  absl::Mutex mu_;
  std::string last_sequence_number_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<shard_store::ShardSubscription> subscription_ ABSL_GUARDED_BY(mu_);
  bool fallback_read_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

std::unique_ptr<ShardRecordStream> ShardStoreReader::Open(const std::string& stream_name,
                                                          const std::string& shard_id,
                                                          const v1::Checkpoint& checkpoint) {
  return std::make_unique<SubscriptionStream>(client_, stream_name, shard_id, checkpoint);
}

}  // namespace tributary::poller
