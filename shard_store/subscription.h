// Subscription (internal to StreamsService): the reactor of one SubscribeToShard call. See
// streams_service.h for what a subscriber gets (events, flow control, keep-alives, SHARD_END).
//
// State machine (all under mu_):
//   busy_   a dispatch is queued or running, or a write is outstanding; at most
//           one of these at a time, so there is at most one buffered event.
//   wake_   something may have changed since the last read (set by puts).
// Wake() starts a dispatch when not busy; a dispatch reads once and either
// starts a write (busy stays set until OnWriteDone, which dispatches again)
// or, with nothing to send, clears busy unless a wake arrived meanwhile.
// Pacing (issue 22): when per-shard read limits apply to the stream
// (ShardStore::SubscriptionBytesPerSecond), a dispatch reads only while the
// subscription's own bucket (one second's worth, refilled on the service's
// monotonic clock) holds bytes, and at most that many (at least one record);
// an empty bucket queues the subscription again for when it will hold some
// (StreamsService::DispatchAt), busy_ staying set, so the subscriber gets the
// records late rather than an error.
// Cluster mode: a read at the tip that found nothing reads again after a while
// (other front-ends' appends are announced at most once), busy_ staying set;
// poll_at_ is that read's time, and a wake-up meanwhile (Wake, KeepAlive)
// moves the read to now (StreamsService::Expedite). Paced reads are not moved.
// Only the first read, a poll's and a keep-alive's ask the log for the shard's
// last record; the others read up to the tip this front-end knows (its appends
// and the announcements raise it, and wake us). A read that found nothing below
// that tip (the log's replica is behind) polls again after 5 ms, doubling.
// Finish is called once, never with mu_ held and never with a write
// outstanding. OnDone unregisters the watch (after which no callback runs) and
// deletes the reactor once no dispatch refers to it.
// Stats (SubscriptionStats) are kept under mu_: set before StartWrite, moved
// to "sent" in OnWriteDone. Lock order: StreamsService::registry_mu_ (or the
// keep-alive queue's lock) → Subscription::mu_ → StreamsService::mu_.
//
// Transport-neutral: the events go out through SendEvent/SendFinish, and the transport reports
// back with WriteDone/Cancel/Done. GrpcSubscription (below) is the gRPC call's reactor;
// SinkSubscription hands the events to a SubscriptionSink (the AWS front door's event stream,
// streams_service.h's StreamsService::Subscribe), so both transports share this logic.
//
// Owns itself: created by StreamsService, deleted once the transport is done with it (Done)
// and no dispatch refers to it. `service` must outlive it.
#ifndef TRIBUTARY_SHARD_STORE_SUBSCRIPTION_H_
#define TRIBUTARY_SHARD_STORE_SUBSCRIPTION_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "grpcpp/grpcpp.h"
#include "proto/streams.pb.h"
#include "shard_store/keep_alive_queue.h"
#include "shard_store/shard_store.h"
#include "shard_store/streams_service.h"

namespace tributary::shard_store {

class Subscription : public KeepAliveQueue::Member, public SubscriptionControl {
 public:
  Subscription(StreamsService* service, ShardCursor cursor, std::string stream_name,
               std::string shard_id, bool keep_alive);
  virtual ~Subscription() = default;

  // From the keep-alive queue (its lock held): when a keep-alive is due by
  // `horizon`, asks for an event even if there is nothing to send (a write in
  // flight counts as one: its completion dispatches again). Returns when the
  // next keep-alive is due (InfiniteFuture once ending).
  MonotonicTime KeepAlive(MonotonicTime now, MonotonicTime horizon,
                          absl::Duration interval) override;

  SubscriptionStats Stats();

  bool wants_keep_alive() const { return wants_keep_alive_; }

  // Registers with the service, watches the shard and sends the first event.
  void Start();

  // From a writer's thread (via the watch) or Start: never blocks.
  void Wake();

  // On a dispatch thread.
  void Run();

  // From the transport (SubscriptionControl): the event handed to SendEvent is written (or
  // not: the subscriber is gone); the subscriber went away; the transport is done with it.
  void WriteDone(bool ok) override;
  void Cancel() override;
  void Done() override;

 protected:
  // Sends one event; the transport calls WriteDone when it is written. Never two at once.
  virtual void SendEvent(const v1::SubscribeToShardEvent& event) = 0;
  // Ends the call (once), never with a write outstanding; the transport calls Done after it.
  virtual void SendFinish(const absl::Status& status) = 0;

 private:
  // Finishes (once) from a dispatch or WriteDone with no write outstanding.
  void FinishWith(const absl::Status& status);
  // A wake-up while busy_: when a poll of other front-ends' appends is waiting (poll_at_), its
  // read is dispatched now instead.
  void Expedite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  StreamsService* const service_;
  ShardStore& store_;
  const bool wants_keep_alive_;
  ShardCursor cursor_;               // only the dispatch in progress touches it
  v1::SubscribeToShardEvent event_;  // the one event in flight
  bool sent_first_ = false;          // dispatch-only
  int lag_polls_ = 0;                // dispatch-only: re-reads in a row short of the tip
  bool shard_end_ = false;           // dispatch / OnWriteDone (serialized by busy_)
  // The pacing bucket (dispatch-only): bytes it holds (may be overdrawn by one record) and when
  // it was last refilled (InfinitePast: the first refill fills it).
  double pace_bytes_ = 0;
  MonotonicTime pace_at_ = MonotonicTime::InfinitePast();
  absl::Mutex mu_;
  std::unique_ptr<ShardWatch> watch_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  SubscriptionStats stats_ ABSL_GUARDED_BY(mu_);
  bool keep_alive_ ABSL_GUARDED_BY(mu_) = false;        // send an event even if empty
  MonotonicTime last_event_time_ ABSL_GUARDED_BY(mu_);  // by the service's monotonic clock
  // When the waiting poll of other front-ends' appends reads (InfiniteFuture: none waits).
  MonotonicTime poll_at_ ABSL_GUARDED_BY(mu_) = MonotonicTime::InfiniteFuture();
};

// The gRPC transport: the SubscribeToShard call's reactor.
class GrpcSubscription final : public Subscription,
                               public grpc::ServerWriteReactor<v1::SubscribeToShardEvent> {
 public:
  using Subscription::Subscription;

  void OnWriteDone(bool ok) override { WriteDone(ok); }
  void OnCancel() override { Cancel(); }
  void OnDone() override { Done(); }

 private:
  void SendEvent(const v1::SubscribeToShardEvent& event) override { StartWrite(&event); }
  void SendFinish(const absl::Status& status) override { Finish(ToGrpcStatus(status)); }
};

// Any other transport, through a SubscriptionSink (StreamsService::Subscribe).
class SinkSubscription final : public Subscription {
 public:
  SinkSubscription(StreamsService* service, ShardCursor cursor, std::string stream_name,
                   std::string shard_id, bool keep_alive, SubscriptionSink* sink)
      : Subscription(service, cursor, std::move(stream_name), std::move(shard_id), keep_alive),
        sink_(sink) {}

 private:
  void SendEvent(const v1::SubscribeToShardEvent& event) override { sink_->SendEvent(event); }
  void SendFinish(const absl::Status& status) override { sink_->SendFinish(status); }

  SubscriptionSink* const sink_;
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_SUBSCRIPTION_H_
