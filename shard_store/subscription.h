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
// Finish is called once, never with mu_ held and never with a write
// outstanding. OnDone unregisters the watch (after which no callback runs) and
// deletes the reactor once no dispatch refers to it.
// Stats (SubscriptionStats) are kept under mu_: set before StartWrite, moved
// to "sent" in OnWriteDone. Lock order: StreamsService::registry_mu_ (or the
// keep-alive queue's lock) → Subscription::mu_ → StreamsService::mu_.
//
// Owns itself: created by StreamsService::SubscribeToShard, deleted once gRPC is done with it
// (OnDone) and no dispatch refers to it. `service` must outlive it.
#ifndef TRIBUTARY_SHARD_STORE_SUBSCRIPTION_H_
#define TRIBUTARY_SHARD_STORE_SUBSCRIPTION_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "grpcpp/grpcpp.h"
#include "proto/streams.pb.h"
#include "shard_store/keep_alive_queue.h"
#include "shard_store/shard_store.h"
#include "shard_store/streams_service.h"

namespace tributary::shard_store {

class Subscription : public grpc::ServerWriteReactor<v1::SubscribeToShardEvent>,
                     public KeepAliveQueue::Member {
 public:
  Subscription(StreamsService* service, ShardCursor cursor, std::string stream_name,
               std::string shard_id, bool keep_alive);

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

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Finishes (once) from a dispatch or OnWriteDone with no write outstanding.
  void FinishWith(const grpc::Status& status);

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

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_SUBSCRIPTION_H_
