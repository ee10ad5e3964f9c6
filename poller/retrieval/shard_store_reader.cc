#include "poller/retrieval/shard_store_reader.h"

#include <optional>
#include <utility>

#include "absl/synchronization/notification.h"
#include "common/grpc_client.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"

namespace tributary::poller {
namespace {

// How long one fallback GetShardIterator / GetRecords call may take.
constexpr absl::Duration kFallbackTimeout = absl::Seconds(10);

using SubscribeEvent = absl::StatusOr<std::optional<v1::SubscribeToShardEvent>>;

// One SubscribeToShard call on the callback API: no thread waits for it. Reads only when asked
// (Read), so the store has at most one event in flight for us (its flow control) and an idle
// subscription costs no thread. A hold keeps the call open (no OnDone) until a read fails or the
// owner cancels with no read pending, so Read never starts on a finished call. The object lives
// until OnDone and until its owner lets go of it.
class SubscribeCall : public grpc::ClientReadReactor<v1::SubscribeToShardEvent> {
 public:
  using Handler = absl::AnyInvocable<void(SubscribeEvent)>;

  static std::shared_ptr<SubscribeCall> Start(v1::Streams::Stub* stub,
                                              v1::SubscribeToShardRequest request) {
    std::shared_ptr<SubscribeCall> call(new SubscribeCall(std::move(request)));
    call->self_ = call;
    // No keep-alive events (shard_store/streams_service.h): nothing here times the stream out,
    // and each would cost a wake-up per idle shard every few seconds.
    call->context_.AddMetadata("tributary-keep-alive", "off");
    stub->async()->SubscribeToShard(&call->context_, &call->request_, call.get());
    call->AddHold();
    call->StartCall();
    return call;
  }

  // Reads the next event; `handler` gets it, std::nullopt when the server ended the call
  // cleanly, or the call's error (CANCELLED after Cancel). At most one Read at a time; not
  // after the handler got an end or an error. Never call it holding a lock `handler` takes.
  void Read(Handler handler) {
    {
      absl::MutexLock lock(&mu_);
      if (!cancelled_) {
        reading_ = true;
        pending_ = std::move(handler);
        handler = nullptr;
      }
    }
    if (handler) {
      handler(absl::CancelledError("shard reader cancelled"));
      return;
    }
    StartRead(&event_);  // the hold is still on: reading_ keeps Cancel from removing it
  }

  void Cancel() {
    bool release;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      release = !reading_ && TakeHold();
    }
    context_.TryCancel();
    if (release) RemoveHold();
  }

  void OnReadDone(bool ok) override {
    Handler handler;
    bool release;
    {
      absl::MutexLock lock(&mu_);
      reading_ = false;
      // A failed read: the call is ending and OnDone hands the handler its status.
      if (ok) handler = std::move(pending_);
      release = (!ok || cancelled_) && TakeHold();
    }
    if (handler) handler(std::optional<v1::SubscribeToShardEvent>(std::move(event_)));
    if (release) RemoveHold();
  }

  void OnDone(const grpc::Status& status) override {
    Handler handler;
    {
      absl::MutexLock lock(&mu_);
      handler = std::move(pending_);
    }
    if (handler) {
      if (status.ok()) {
        handler(std::optional<v1::SubscribeToShardEvent>());
      } else {
        handler(FromGrpcStatus(status));
      }
    }
    std::shared_ptr<SubscribeCall> self = std::move(self_);  // may delete this on return
  }

 private:
  explicit SubscribeCall(v1::SubscribeToShardRequest request) : request_(std::move(request)) {}

  // Whether the hold is still to be removed (then the caller removes it, outside mu_).
  bool TakeHold() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const bool held = held_;
    held_ = false;
    return held;
  }

  grpc::ClientContext context_;
  const v1::SubscribeToShardRequest request_;
  v1::SubscribeToShardEvent event_;      // written by gRPC between StartRead and OnReadDone
  std::shared_ptr<SubscribeCall> self_;  // until OnDone
  absl::Mutex mu_;
  Handler pending_ ABSL_GUARDED_BY(mu_);
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool held_ ABSL_GUARDED_BY(mu_) = true;
};

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

  ~SubscriptionStream() override {
    std::shared_ptr<SubscribeCall> call;
    {
      absl::MutexLock lock(&mu_);
      call = std::move(subscription_);
    }
    if (call != nullptr) call->Cancel();  // it deletes itself after OnDone
  }

  absl::StatusOr<ReadResult> Next() override {
    absl::Notification done;
    absl::StatusOr<ReadResult> out;
    NextAsync([&](absl::StatusOr<ReadResult> result) {
      out = std::move(result);
      done.Notify();
    });
    done.WaitForNotification();
    return out;
  }

  void NextAsync(ReadCallback done) override {
    std::shared_ptr<SubscribeCall> call;
    std::optional<absl::StatusOr<ReadResult>> now;  // an answer without reading
    bool fallback = false;
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) {
        now = absl::CancelledError("shard reader cancelled");
      } else if (ended_) {
        ReadResult end;
        end.shard_end = true;
        now = std::move(end);
      } else if (fallback_read_) {
        fallback_read_ = false;
        fallback = true;
      } else {
        if (subscription_ == nullptr) {
          subscription_ = SubscribeCall::Start(client_.stub(), SubscribeRequest());
        }
        call = subscription_;
      }
    }
    if (now.has_value()) {
      done(std::move(*now));
    } else if (fallback) {
      ReadOnceWithGetRecords(std::move(done));
    } else {
      call->Read([this, call, done = std::move(done)](SubscribeEvent event) mutable {
        done(OnEvent(call, std::move(event)));
      });
    }
  }

  void Cancel() override {
    std::shared_ptr<SubscribeCall> subscription;
    std::shared_ptr<Fallback> fallback;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      subscription = subscription_;
      fallback = fallback_.lock();
    }
    if (subscription != nullptr) subscription->Cancel();
    if (fallback != nullptr) {
      // GetRecords is not started after this (cancelled_ is checked first).
      fallback->iterator_context.TryCancel();
      fallback->records_context.TryCancel();
    }
  }

 private:
  // What an event of `call` means for the reader.
  absl::StatusOr<ReadResult> OnEvent(const std::shared_ptr<SubscribeCall>& call,
                                     SubscribeEvent event) {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return absl::CancelledError("shard reader cancelled");
    if (!event.ok()) {
      // Read once with GetRecords next time, then subscribe again.
      if (subscription_ == call) subscription_.reset();
      fallback_read_ = true;
      return WithContext(event.status(), "SubscribeToShard ", shard_id_);
    }
    ReadResult result;
    if (!event->has_value()) {
      // Ended without child shards (the store ends a subscription cleanly only after the event
      // that carries them, but a subscription may have a lifetime): GetRecords tells for sure
      // whether the shard ended.
      if (subscription_ == call) subscription_.reset();
      fallback_read_ = true;
      return result;
    }
    result.records.reserve((*event)->records_size());
    for (v1::Record& r : *(*event)->mutable_records()) result.records.push_back(std::move(r));
    result.millis_behind_latest = (*event)->millis_behind_latest();
    if (!result.records.empty()) last_sequence_number_ = result.records.back().sequence_number();
    if ((*event)->child_shards_size() > 0) {
      ended_ = true;
      result.shard_end = true;
      for (const auto& c : (*event)->child_shards()) result.child_shard_ids.push_back(c.shard_id());
    }
    return result;
  }

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

  // One fallback read in progress.
  struct Fallback {
    grpc::ClientContext iterator_context;
    v1::GetShardIteratorRequest iterator_request;
    v1::GetShardIteratorResponse iterator;
    grpc::ClientContext records_context;
    v1::GetRecordsRequest records_request;
    v1::GetRecordsResponse records;
    ReadCallback done;
  };

  // GetShardIterator + GetRecords on the callback API; `done` gets the records.
  void ReadOnceWithGetRecords(ReadCallback done) {
    auto f = std::make_shared<Fallback>();
    f->done = std::move(done);
    {
      absl::MutexLock lock(&mu_);
      fallback_ = f;
      const v1::StartingPosition p = Position();
      f->iterator_request.set_stream_name(stream_name_);
      f->iterator_request.set_shard_id(shard_id_);
      f->iterator_request.set_shard_iterator_type(p.type());
      f->iterator_request.set_starting_sequence_number(p.sequence_number());
      *f->iterator_request.mutable_timestamp() = p.timestamp();
    }
    SetDeadline(&f->iterator_context, kFallbackTimeout);
    v1::Streams::Stub* stub = client_.stub();
    stub->async()->GetShardIterator(
        &f->iterator_context, &f->iterator_request, &f->iterator,
        [this, f, stub](grpc::Status status) {
          if (!status.ok()) {
            f->done(FromGrpcStatus(status));
            return;
          }
          f->records_request.set_shard_iterator(f->iterator.shard_iterator());
          SetDeadline(&f->records_context, kFallbackTimeout);
          bool cancelled;
          {
            absl::MutexLock lock(&mu_);
            cancelled = cancelled_;
          }
          if (cancelled) {  // (a Cancel just after this waits for the call's deadline at most)
            f->done(absl::CancelledError("shard reader cancelled"));
            return;
          }
          stub->async()->GetRecords(&f->records_context, &f->records_request, &f->records,
                                    [this, f](grpc::Status status) {
                                      if (!status.ok()) {
                                        f->done(FromGrpcStatus(status));
                                        return;
                                      }
                                      f->done(OnRecords(f->records));
                                    });
        });
  }

  absl::StatusOr<ReadResult> OnRecords(v1::GetRecordsResponse& records) {
    ReadResult result;
    for (v1::Record& r : *records.mutable_records()) result.records.push_back(std::move(r));
    result.millis_behind_latest = records.millis_behind_latest();
    absl::MutexLock lock(&mu_);
    if (cancelled_) return absl::CancelledError("shard reader cancelled");
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
  std::shared_ptr<SubscribeCall> subscription_ ABSL_GUARDED_BY(mu_);
  std::weak_ptr<Fallback> fallback_ ABSL_GUARDED_BY(mu_);  // the fallback read in progress
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
