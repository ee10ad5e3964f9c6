// The Streams adapter: the unary handlers, PutRecords on the put threads, and
// SubscribeToShard's entry (its reactor is Subscription, subscription.h) with the
// dispatch pool the subscriptions read and write on.
#include "shard_store/streams_service.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc_security.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "google/protobuf/arena.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "shard_store/subscription.h"

namespace tributary::shard_store {
namespace {

// Replies with `status`; logs it once here when it means a bug or corruption (STYLE.md §3).
grpc::Status Reply(const char* method, const absl::Status& status) {
  if (!status.ok() && (status.code() == absl::StatusCode::kInternal ||
                       status.code() == absl::StatusCode::kDataLoss ||
                       status.code() == absl::StatusCode::kUnknown)) {
    LOG(WARNING) << method << ": " << status;
  }
  return ToGrpcStatus(status);
}

// Replies with `result`: its value becomes `*response`, or its error the call's status.
template <typename Response>
grpc::Status Reply(const char* method, absl::StatusOr<Response> result, Response* response) {
  if (!result.ok()) return Reply(method, result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

class ErrorReactor : public grpc::ServerWriteReactor<v1::SubscribeToShardEvent> {
 public:
  explicit ErrorReactor(const absl::Status& status) { Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

StreamsService::StreamsService(ShardStore& store, Clock& clock,
                               const StreamsServiceOptions& options)
    : store_(store),
      clock_(clock),
      options_(options),
      keep_alive_queue_(clock, options.keep_alive_interval),
      put_executor_(clock, PutExecutorOptions{options.put_threads, options.max_pending_puts,
                                              options.max_pending_put_bytes,
                                              options.memory_budget,
                                              options.max_client_put_share,
                                              options.max_put_queue_delay}) {
  for (int i = 0; i < std::max(1, options_.dispatch_threads); ++i) {
    threads_.emplace_back([this] { DispatchLoop(); });
  }
  keep_alive_queue_.Start();
}

StreamsService::~StreamsService() {
  keep_alive_queue_.Stop();
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  for (std::thread& t : threads_) t.join();
  // put_executor_, destroyed next, runs the PutRecords calls queued before it stops.
}

void StreamsService::Register(Subscription* subscription) {
  {
    absl::MutexLock lock(&registry_mu_);
    subscriptions_.insert(subscription);
  }
  if (subscription->wants_keep_alive()) keep_alive_queue_.Add(subscription);
}

void StreamsService::Unregister(Subscription* subscription) {
  {
    absl::MutexLock lock(&registry_mu_);
    subscriptions_.erase(subscription);
  }
  keep_alive_queue_.Remove(subscription);  // after this, no keep-alive refers to it
}

std::vector<SubscriptionStats> StreamsService::GetSubscriptionStats() {
  absl::MutexLock lock(&registry_mu_);
  std::vector<SubscriptionStats> out;
  out.reserve(subscriptions_.size());
  for (Subscription* s : subscriptions_) out.push_back(s->Stats());
  return out;
}

void StreamsService::Dispatch(Subscription* subscription) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(subscription);
}

void StreamsService::DispatchAt(Subscription* subscription, MonotonicTime at) {
  absl::MutexLock lock(&mu_);
  paced_.emplace(at, subscription);
  ++paced_version_;  // a waiting thread recomputes its deadline
}

bool StreamsService::Expedite(Subscription* subscription, MonotonicTime at) {
  absl::MutexLock lock(&mu_);
  auto [first, end] = paced_.equal_range(at);
  for (auto it = first; it != end; ++it) {
    if (it->second != subscription) continue;
    paced_.erase(it);
    queue_.push_back(subscription);
    return true;
  }
  return false;
}

void StreamsService::DispatchLoop() {
  while (true) {
    Subscription* next;
    {
      absl::MutexLock lock(&mu_);
      while (true) {
        // Paced subscriptions whose time has come (all of them when stopping) join the queue.
        const MonotonicTime now = clock_.MonotonicNow();
        while (!paced_.empty() && (stop_ || paced_.begin()->first <= now)) {
          queue_.push_back(paced_.begin()->second);
          paced_.erase(paced_.begin());
        }
        if (!queue_.empty()) break;
        if (stop_) return;
        const int64_t seen = paced_version_;
        auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stop_ || !queue_.empty() || paced_version_ != seen;
        };
        if (paced_.empty()) {
          mu_.Await(absl::Condition(&changed));
        } else {
          clock_.AwaitWithDeadline(&mu_, absl::Condition(&changed), paced_.begin()->first);
        }
      }
      next = queue_.front();
      queue_.pop_front();
    }
    next->Run();
  }
}

absl::StatusOr<ShardCursor> StreamsService::ResolveSubscription(
    const v1::SubscribeToShardRequest& request) {
  if (request.stream_name().empty()) {
    return absl::InvalidArgumentError(
        "stream_name: must be set (Tributary names the stream instead of a consumer ARN)");
  }
  if (request.shard_id().empty()) return absl::InvalidArgumentError("shard_id: must be set");
  absl::StatusOr<ShardCursor> cursor = store_.ResolveStartingPosition(
      request.stream_name(), request.shard_id(), request.starting_position());
  if (!cursor.ok() && cursor.status().code() == absl::StatusCode::kInvalidArgument) {
    return absl::InvalidArgumentError(
        absl::StrCat("starting_position: ", cursor.status().message()));
  }
  return cursor;
}

absl::Status StreamsService::AdmitSubscription() {
  absl::MutexLock lock(&registry_mu_);
  if (static_cast<int>(subscriptions_.size()) < options_.max_subscriptions) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "the store serves at most ", options_.max_subscriptions,
      " SubscribeToShard calls at once; refused by Tributary's admission control, retry after "
      "1000 ms with backoff"));
}

grpc::ServerWriteReactor<v1::SubscribeToShardEvent>* StreamsService::SubscribeToShard(
    grpc::CallbackServerContext* context, const v1::SubscribeToShardRequest* request) {
  if (absl::Status admitted = AdmitSubscription(); !admitted.ok()) {
    return new ErrorReactor(admitted);
  }
  absl::StatusOr<ShardCursor> cursor = ResolveSubscription(*request);
  if (!cursor.ok()) return new ErrorReactor(cursor.status());
  // A subscriber may decline keep-alive events (kKeepAliveMetadataKey: "off").
  bool keep_alive = true;
  const auto& metadata = context->client_metadata();
  auto it = metadata.find(kKeepAliveMetadataKey);
  if (it != metadata.end() && it->second == "off") keep_alive = false;
  auto* subscription =
      new GrpcSubscription(this, *cursor, request->stream_name(), request->shard_id(), keep_alive);
  subscription->Start();
  return subscription;
}

absl::StatusOr<SubscriptionControl*> StreamsService::Subscribe(
    const v1::SubscribeToShardRequest& request, bool keep_alive, SubscriptionSink* sink) {
  RETURN_IF_ERROR(AdmitSubscription());
  absl::StatusOr<ShardCursor> cursor = ResolveSubscription(request);
  if (!cursor.ok()) return cursor.status();
  auto* subscription = new SinkSubscription(this, *cursor, request.stream_name(),
                                            request.shard_id(), keep_alive, sink);
  subscription->Start();
  return subscription;
}

// The unary handlers: validate (the library does) → call the library → map the status → reply.

grpc::Status StreamsService::CreateStream(grpc::ServerContext*,
                                          const v1::CreateStreamRequest* request,
                                          v1::CreateStreamResponse*) {
  return Reply("CreateStream", store_.CreateStream(*request));
}

grpc::Status StreamsService::DeleteStream(grpc::ServerContext*,
                                          const v1::DeleteStreamRequest* request,
                                          v1::DeleteStreamResponse*) {
  return Reply("DeleteStream", store_.DeleteStream(*request));
}

grpc::Status StreamsService::DescribeStreamSummary(grpc::ServerContext*,
                                                   const v1::DescribeStreamSummaryRequest* request,
                                                   v1::DescribeStreamSummaryResponse* response) {
  return Reply("DescribeStreamSummary", store_.DescribeStreamSummary(*request), response);
}

grpc::Status StreamsService::ListStreams(grpc::ServerContext*,
                                         const v1::ListStreamsRequest* request,
                                         v1::ListStreamsResponse* response) {
  return Reply("ListStreams", store_.ListStreams(*request), response);
}

grpc::Status StreamsService::ListShards(grpc::ServerContext*, const v1::ListShardsRequest* request,
                                        v1::ListShardsResponse* response) {
  return Reply("ListShards", store_.ListShards(*request), response);
}

grpc::Status StreamsService::PutRecord(grpc::ServerContext*, const v1::PutRecordRequest* request,
                                       v1::PutRecordResponse* response) {
  // A sync call: gRPC's own threads bound how many run; the memory budget bounds their bytes.
  MemoryBudget::Reservation held(options_.memory_budget,
                                 static_cast<int64_t>(request->ByteSizeLong()));
  if (!held.ok()) return Reply("PutRecord", MemoryBudgetExhausted("PutRecord"));
  return Reply("PutRecord", store_.PutRecord(*request), response);
}

absl::Status StreamsService::MemoryBudgetExhausted(absl::string_view what) const {
  return absl::ResourceExhaustedError(absl::StrCat(
      what, ": the server's memory budget (--memory_budget_mb, ",
      options_.memory_budget->limit() >> 20,
      " MiB) is spent by requests in flight; refused by Tributary's admission control, retry "
      "after 100 ms with backoff"));
}

std::string StreamsService::PutClient(const grpc::ServerContextBase& context) {
  std::string principal = CallPrincipal(context);
  if (!principal.empty()) return absl::StrCat("principal ", principal);
  return absl::StrCat("peer ", context.peer());
}

int64_t StreamsService::PutRecordsHeldBytes(int64_t wire_bytes) {
  // The arena takes the records' bytes plus each entry's message and string objects: twice the
  // wire size covers calls of records from ~100 bytes up; at least its first block.
  return wire_bytes + std::max(kPutArenaFirstBlock, 2 * wire_bytes);
}

grpc::ServerUnaryReactor* StreamsService::PutRecords(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Admission first, on the request's length alone: a refused call is never parsed.
  const int64_t bytes = PutRecordsHeldBytes(static_cast<int64_t>(request->Length()));
  // The client's deadline on the injected clock: gRPC gives it as a wall-clock time point.
  const MonotonicTime deadline =
      clock_.MonotonicNow() + (absl::FromChrono(context->deadline()) - clock_.Now());
  // Not here: a reaction never blocks (STYLE.md). The request and response buffers stay alive
  // until Finish. The reply is sent once the call's slot is given back (`then`), so that a
  // client's next call finds it free.
  auto reply = std::make_shared<grpc::Status>();
  absl::Status admitted = put_executor_.Submit(
      PutClient(*context), bytes, deadline,
      [this, context, request, response, reply] {
        if (context->IsCancelled()) {  // the client went away (or its deadline passed) meanwhile
          *reply = grpc::Status(grpc::StatusCode::CANCELLED,
                                "PutRecords: cancelled while queued; nothing was written");
          return;
        }
        *reply = RunPutRecords(*request, response);
      },
      [reply] {
        *reply = grpc::Status(
            grpc::StatusCode::DEADLINE_EXCEEDED,
            "PutRecords: the client's deadline passed while the call waited in the store's put "
            "queue; dropped unrun, nothing was written (Tributary's admission control)");
      },
      [reactor, reply] { reactor->Finish(*reply); });
  if (!admitted.ok()) reactor->Finish(Reply("PutRecords", admitted));
  return reactor;
}

grpc::Status StreamsService::RunPutRecords(const grpc::ByteBuffer& request_bytes,
                                           grpc::ByteBuffer* response_bytes) {
  google::protobuf::ArenaOptions options;
  options.start_block_size = kPutArenaFirstBlock;
  options.max_block_size = 1 << 20;
  google::protobuf::Arena arena(options);
  auto* request = google::protobuf::Arena::CreateMessage<v1::PutRecordsRequest>(&arena);
  auto* response = google::protobuf::Arena::CreateMessage<v1::PutRecordsResponse>(&arena);
  grpc::ByteBuffer copy(request_bytes);  // shares the slices; the reader needs a mutable one
  grpc::ProtoBufferReader reader(&copy);
  if (!request->ParseFromZeroCopyStream(&reader)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "PutRecords: the request is not a valid PutRecordsRequest");
  }
  grpc::Status status = Reply("PutRecords", store_.PutRecords(*request, response));
  if (!status.ok()) return status;
  bool own_buffer = false;
  return grpc::SerializationTraits<v1::PutRecordsResponse>::Serialize(*response, response_bytes,
                                                                      &own_buffer);
}

grpc::Status StreamsService::GetShardIterator(grpc::ServerContext*,
                                              const v1::GetShardIteratorRequest* request,
                                              v1::GetShardIteratorResponse* response) {
  return Reply("GetShardIterator", store_.GetShardIterator(*request), response);
}

grpc::Status StreamsService::GetRecords(grpc::ServerContext*, const v1::GetRecordsRequest* request,
                                        v1::GetRecordsResponse* response) {
  // The reply is built within what the memory budget grants (at least one largest record, else
  // the call is refused); the reservation ends with the handler, when gRPC takes the reply.
  MemoryBudget::Reservation held = MemoryBudget::Reservation::UpTo(
      options_.memory_budget, kMaxRecordBytes + (64 << 10), kMaxGetRecordsBytes + (64 << 10));
  if (!held.ok()) return Reply("GetRecords", MemoryBudgetExhausted("GetRecords"));
  // The store fills `response` itself (records straight into the reply, no copy).
  return Reply("GetRecords", store_.GetRecords(*request, response, held.bytes() - (64 << 10)));
}

grpc::Status StreamsService::SplitShard(grpc::ServerContext*, const v1::SplitShardRequest* request,
                                        v1::SplitShardResponse*) {
  return Reply("SplitShard", store_.SplitShard(*request));
}

grpc::Status StreamsService::MergeShards(grpc::ServerContext*,
                                         const v1::MergeShardsRequest* request,
                                         v1::MergeShardsResponse*) {
  return Reply("MergeShards", store_.MergeShards(*request));
}

grpc::Status StreamsService::UpdateShardCount(grpc::ServerContext*,
                                              const v1::UpdateShardCountRequest* request,
                                              v1::UpdateShardCountResponse* response) {
  return Reply("UpdateShardCount", store_.UpdateShardCount(*request), response);
}

grpc::Status StreamsService::IncreaseStreamRetentionPeriod(
    grpc::ServerContext*, const v1::IncreaseStreamRetentionPeriodRequest* request,
    v1::IncreaseStreamRetentionPeriodResponse*) {
  return Reply("IncreaseStreamRetentionPeriod", store_.IncreaseStreamRetentionPeriod(*request));
}

grpc::Status StreamsService::DecreaseStreamRetentionPeriod(
    grpc::ServerContext*, const v1::DecreaseStreamRetentionPeriodRequest* request,
    v1::DecreaseStreamRetentionPeriodResponse*) {
  return Reply("DecreaseStreamRetentionPeriod", store_.DecreaseStreamRetentionPeriod(*request));
}

grpc::Status StreamsService::UpdateStreamMode(grpc::ServerContext*,
                                              const v1::UpdateStreamModeRequest* request,
                                              v1::UpdateStreamModeResponse*) {
  return Reply("UpdateStreamMode", store_.UpdateStreamMode(*request));
}

grpc::Status StreamsService::AddTagsToStream(grpc::ServerContext*,
                                             const v1::AddTagsToStreamRequest* request,
                                             v1::AddTagsToStreamResponse*) {
  return Reply("AddTagsToStream", store_.AddTagsToStream(*request));
}

grpc::Status StreamsService::RemoveTagsFromStream(grpc::ServerContext*,
                                                  const v1::RemoveTagsFromStreamRequest* request,
                                                  v1::RemoveTagsFromStreamResponse*) {
  return Reply("RemoveTagsFromStream", store_.RemoveTagsFromStream(*request));
}

grpc::Status StreamsService::ListTagsForStream(grpc::ServerContext*,
                                               const v1::ListTagsForStreamRequest* request,
                                               v1::ListTagsForStreamResponse* response) {
  return Reply("ListTagsForStream", store_.ListTagsForStream(*request), response);
}

grpc::Status StreamsService::RegisterStreamConsumer(
    grpc::ServerContext*, const v1::RegisterStreamConsumerRequest* request,
    v1::RegisterStreamConsumerResponse* response) {
  return Reply("RegisterStreamConsumer", store_.RegisterStreamConsumer(*request), response);
}

grpc::Status StreamsService::DeregisterStreamConsumer(
    grpc::ServerContext*, const v1::DeregisterStreamConsumerRequest* request,
    v1::DeregisterStreamConsumerResponse*) {
  return Reply("DeregisterStreamConsumer", store_.DeregisterStreamConsumer(*request));
}

grpc::Status StreamsService::DescribeStreamConsumer(
    grpc::ServerContext*, const v1::DescribeStreamConsumerRequest* request,
    v1::DescribeStreamConsumerResponse* response) {
  return Reply("DescribeStreamConsumer", store_.DescribeStreamConsumer(*request), response);
}

grpc::Status StreamsService::ListStreamConsumers(grpc::ServerContext*,
                                                 const v1::ListStreamConsumersRequest* request,
                                                 v1::ListStreamConsumersResponse* response) {
  return Reply("ListStreamConsumers", store_.ListStreamConsumers(*request), response);
}

}  // namespace tributary::shard_store
