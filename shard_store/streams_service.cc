// The Streams adapter. Subscription state machine (all under Subscription::mu_):
//   busy_   a dispatch is queued or running, or a write is outstanding; at most
//           one of these at a time, so there is at most one buffered event.
//   wake_   something may have changed since the last read (set by puts).
// Wake() starts a dispatch when not busy; a dispatch reads once and either
// starts a write (busy stays set until OnWriteDone, which dispatches again)
// or, with nothing to send, clears busy unless a wake arrived meanwhile.
// Finish is called once, never with mu_ held and never with a write
// outstanding. OnDone unregisters the watch (after which no callback runs) and
// deletes the reactor once no dispatch refers to it.
// Stats (SubscriptionStats) are kept under mu_: set before StartWrite, moved
// to "sent" in OnWriteDone. Lock order: registry_mu_ (or the keep-alive
// queue's lock) → Subscription::mu_ → StreamsService::mu_.
#include "shard_store/streams_service.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "glog/logging.h"
#include "google/protobuf/arena.h"

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

class Subscription : public grpc::ServerWriteReactor<v1::SubscribeToShardEvent>,
                     public KeepAliveQueue::Member {
 public:
  Subscription(StreamsService* service, ShardCursor cursor, std::string stream_name,
               std::string shard_id, bool keep_alive)
      : service_(service), store_(service->store_), wants_keep_alive_(keep_alive), cursor_(cursor) {
    last_event_time_ = service->clock_.MonotonicNow();
    stats_.stream_name = std::move(stream_name);
    stats_.shard_id = std::move(shard_id);
    stats_.next_sequence_number = cursor.next_sequence_number;
  }

  // From the keep-alive queue (its lock held): when a keep-alive is due by
  // `horizon`, asks for an event even if there is nothing to send (a write in
  // flight counts as one: its completion dispatches again). Returns when the
  // next keep-alive is due (InfiniteFuture once ending).
  MonotonicTime KeepAlive(MonotonicTime now, MonotonicTime horizon,
                          absl::Duration interval) override {
    absl::MutexLock lock(&mu_);
    if (finish_called_) return MonotonicTime::InfiniteFuture();  // ending: OnDone unregisters it
    const MonotonicTime due = last_event_time_ + interval;
    if (due > horizon) return due;
    keep_alive_ = true;
    if (!busy_) {
      busy_ = true;
      service_->Dispatch(this);
    }
    return now + interval;
  }

  SubscriptionStats Stats() {
    absl::MutexLock lock(&mu_);
    return stats_;
  }

  bool wants_keep_alive() const { return wants_keep_alive_; }

  void Start() {
    service_->Register(this);
    absl::StatusOr<std::unique_ptr<ShardWatch>> watch =
        store_.WatchShard(cursor_, [this] { Wake(); });
    if (!watch.ok()) {
      {
        absl::MutexLock lock(&mu_);
        finish_called_ = true;
      }
      Finish(ToGrpcStatus(watch.status()));
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      watch_ = std::move(*watch);
    }
    Wake();
  }

  // From a writer's thread (via the watch) or Start: never blocks.
  void Wake() {
    absl::MutexLock lock(&mu_);
    wake_ = true;
    if (busy_ || finish_called_) return;
    busy_ = true;
    service_->Dispatch(this);
  }

  // On a dispatch thread.
  void Run() {
    bool del = false, cancel = false, stop = false, keep_alive = false;
    {
      absl::MutexLock lock(&mu_);
      if (done_) {
        del = true;
      } else if (cancelled_ || finish_called_) {
        busy_ = false;
        cancel = !finish_called_;
        finish_called_ = true;
        stop = true;
      } else {
        wake_ = false;
        keep_alive = keep_alive_;
      }
    }
    if (del) {
      delete this;
      return;
    }
    if (cancel) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "subscription cancelled"));
    if (stop) return;
    event_.Clear();
    absl::StatusOr<ReadOutcome> outcome =
        store_.ReadRecords(&cursor_, kMaxGetRecordsLimit, service_->options_.max_event_bytes,
                           event_.mutable_records());
    if (!outcome.ok()) {
      FinishWith(ToGrpcStatus(outcome.status()));
      return;
    }
    if (event_.records().empty() && !outcome->shard_end && sent_first_ && !keep_alive) {
      {
        absl::MutexLock lock(&mu_);
        if ((wake_ || keep_alive_) && !cancelled_) {
          service_->Dispatch(this);  // a put or keep-alive came during the read
          return;
        }
        busy_ = false;
        if (cancelled_ && !finish_called_) {
          finish_called_ = true;
          cancel = true;
        }
      }
      if (cancel) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "subscription cancelled"));
      return;
    }
    sent_first_ = true;
    event_.set_millis_behind_latest(outcome->millis_behind_latest);
    if (outcome->shard_end) {
      shard_end_ = true;
      for (v1::ChildShard& c : outcome->child_shards) *event_.add_child_shards() = std::move(c);
    } else if (!event_.records().empty()) {
      event_.set_continuation_sequence_number(event_.records().rbegin()->sequence_number());
    } else if (cursor_.next_sequence_number > 0) {
      event_.set_continuation_sequence_number(std::to_string(cursor_.next_sequence_number - 1));
    }
    int64_t bytes = 0;
    for (const v1::Record& r : event_.records())
      bytes += r.partition_key().size() + r.data().size();
    {
      absl::MutexLock lock(&mu_);
      stats_.events_in_flight = 1;
      stats_.records_in_flight = event_.records_size();
      stats_.bytes_in_flight = bytes;
      stats_.max_events_in_flight = std::max(stats_.max_events_in_flight, 1);
      stats_.max_bytes_in_flight = std::max(stats_.max_bytes_in_flight, bytes);
      stats_.next_sequence_number = cursor_.next_sequence_number;
      keep_alive_ = false;  // any event keeps the subscription alive
      last_event_time_ = service_->clock_.MonotonicNow();
    }
    StartWrite(&event_);
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      if (ok) {
        ++stats_.events_sent;
        stats_.records_sent += stats_.records_in_flight;
      }
      stats_.events_in_flight = 0;
      stats_.records_in_flight = 0;
      stats_.bytes_in_flight = 0;
    }
    if (!ok) {
      FinishWith(grpc::Status(grpc::StatusCode::CANCELLED, "the subscriber went away"));
      return;
    }
    if (shard_end_) {
      FinishWith(grpc::Status::OK);
      return;
    }
    bool cancel = false;
    {
      absl::MutexLock lock(&mu_);
      if (!cancelled_ && !finish_called_) {
        service_->Dispatch(this);  // more may wait beyond the last event; stays busy
        return;
      }
      busy_ = false;
      cancel = !finish_called_;
      finish_called_ = true;
    }
    if (cancel) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "subscription cancelled"));
  }

  void OnCancel() override {
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      if (!busy_ && !finish_called_) {
        finish_called_ = true;
        finish = true;
      }
    }
    if (finish) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "subscription cancelled"));
  }

  void OnDone() override {
    service_->Unregister(this);
    std::unique_ptr<ShardWatch> watch;
    {
      absl::MutexLock lock(&mu_);
      watch = std::move(watch_);
    }
    watch.reset();  // no callback runs after this
    bool del;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      del = !busy_;
    }
    if (del) delete this;
  }

 private:
  // Finishes (once) from a dispatch or OnWriteDone with no write outstanding.
  void FinishWith(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      busy_ = false;
      if (finish_called_) return;
      finish_called_ = true;
    }
    Finish(status);
  }
  StreamsService* const service_;
  ShardStore& store_;
  const bool wants_keep_alive_;
  ShardCursor cursor_;               // only the dispatch in progress touches it
  v1::SubscribeToShardEvent event_;  // the one event in flight
  bool sent_first_ = false;          // dispatch-only
  bool shard_end_ = false;           // dispatch / OnWriteDone (serialized by busy_)
  absl::Mutex mu_;
  std::unique_ptr<ShardWatch> watch_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  SubscriptionStats stats_ ABSL_GUARDED_BY(mu_);
  bool keep_alive_ ABSL_GUARDED_BY(mu_) = false;     // send an event even if empty
  MonotonicTime last_event_time_ ABSL_GUARDED_BY(mu_);  // by the service's monotonic clock
};

class StreamsService::ArenaAllocator
    : public grpc::MessageAllocator<v1::PutRecordsRequest, v1::PutRecordsResponse> {
 public:
  grpc::MessageHolder<v1::PutRecordsRequest, v1::PutRecordsResponse>* AllocateMessages() override {
    return new Holder();
  }

 private:
  class Holder : public grpc::MessageHolder<v1::PutRecordsRequest, v1::PutRecordsResponse> {
   public:
    Holder() : arena_(Options()) {
      set_request(google::protobuf::Arena::CreateMessage<v1::PutRecordsRequest>(&arena_));
      set_response(google::protobuf::Arena::CreateMessage<v1::PutRecordsResponse>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options() {
      google::protobuf::ArenaOptions options;
      options.start_block_size = 64 << 10;
      options.max_block_size = 1 << 20;
      return options;
    }
    google::protobuf::Arena arena_;
  };
};

StreamsService::StreamsService(ShardStore& store, Clock& clock,
                               const StreamsServiceOptions& options)
    : put_allocator_(std::make_unique<ArenaAllocator>()),
      store_(store),
      clock_(clock),
      options_(options),
      keep_alive_queue_(clock, options.keep_alive_interval),
      put_executor_(options.put_threads) {
  SetMessageAllocatorFor_PutRecords(put_allocator_.get());
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

void StreamsService::DispatchLoop() {
  while (true) {
    Subscription* next;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;
      next = queue_.front();
      queue_.pop_front();
    }
    next->Run();
  }
}

grpc::ServerWriteReactor<v1::SubscribeToShardEvent>* StreamsService::SubscribeToShard(
    grpc::CallbackServerContext* context, const v1::SubscribeToShardRequest* request) {
  if (request->stream_name().empty()) {
    return new ErrorReactor(absl::InvalidArgumentError(
        "stream_name: must be set (Tributary names the stream instead of a consumer ARN)"));
  }
  if (request->shard_id().empty()) {
    return new ErrorReactor(absl::InvalidArgumentError("shard_id: must be set"));
  }
  absl::StatusOr<ShardCursor> cursor = store_.ResolveStartingPosition(
      request->stream_name(), request->shard_id(), request->starting_position());
  if (!cursor.ok()) {
    absl::Status s = cursor.status();
    if (s.code() == absl::StatusCode::kInvalidArgument) {
      s = absl::InvalidArgumentError(absl::StrCat("starting_position: ", s.message()));
    }
    return new ErrorReactor(s);
  }
  // A subscriber may decline keep-alive events (kKeepAliveMetadataKey: "off").
  bool keep_alive = true;
  const auto& metadata = context->client_metadata();
  auto it = metadata.find(kKeepAliveMetadataKey);
  if (it != metadata.end() && it->second == "off") keep_alive = false;
  auto* subscription =
      new Subscription(this, *cursor, request->stream_name(), request->shard_id(), keep_alive);
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
  return Reply("PutRecord", store_.PutRecord(*request), response);
}

grpc::ServerUnaryReactor* StreamsService::PutRecords(grpc::CallbackServerContext* context,
                                                     const v1::PutRecordsRequest* request,
                                                     v1::PutRecordsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Not here: a reaction never blocks (STYLE.md). The request and response stay alive (on
  // their arena) until Finish.
  put_executor_.Submit([this, request, response, reactor] {
    reactor->Finish(Reply("PutRecords", store_.PutRecords(*request, response)));
  });
  return reactor;
}

grpc::Status StreamsService::GetShardIterator(grpc::ServerContext*,
                                              const v1::GetShardIteratorRequest* request,
                                              v1::GetShardIteratorResponse* response) {
  return Reply("GetShardIterator", store_.GetShardIterator(*request), response);
}

grpc::Status StreamsService::GetRecords(grpc::ServerContext*, const v1::GetRecordsRequest* request,
                                        v1::GetRecordsResponse* response) {
  // The store fills `response` itself (records straight into the reply, no copy).
  return Reply("GetRecords", store_.GetRecords(*request, response));
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

}  // namespace tributary::shard_store
