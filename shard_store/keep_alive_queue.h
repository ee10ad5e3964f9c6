// KeepAliveQueue: SubscribeToShard's keep-alives (see streams_service.h). It holds the
// subscriptions that want keep-alives in order of when their next one may be due and asks each
// in turn, when its time comes, to send one if it has been idle for an interval.
//
// Cost: a member is asked about once an interval (O(log n) each time), whatever it sent in
// between; members due within interval/50 of the earliest are asked together, so the loop wakes a
// bounded number of times an interval however many members there are (a keep-alive may come up to
// interval/50 early). The loop waits on the clock only while the queue holds a member: an empty
// queue costs nothing, and a FakeClock does not count the loop as a waiter.
//
// Threading: Add, Remove, RunOnce, Start and Stop are thread-safe. Members are asked on the loop
// (or RunOnce's) thread with the queue's lock held, so Remove waits for a call in progress. Lock
// order: the queue's lock, then whatever Member::KeepAlive takes (which must not call the queue).
// `clock` must outlive the queue; members must stay alive until Remove(member) returns.
#ifndef TRIBUTARY_SHARD_STORE_KEEP_ALIVE_QUEUE_H_
#define TRIBUTARY_SHARD_STORE_KEEP_ALIVE_QUEUE_H_

#include <cstdint>
#include <set>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace tributary::shard_store {

class KeepAliveQueue {
 public:
  // What the queue keeps alive (a subscription).
  class Member {
   public:
    virtual ~Member() = default;

    // Asked when this member's entry comes up, at `now`; `horizon` (now + interval/50) is how far
    // ahead keep-alives are sent together. When a keep-alive is due by `horizon` (nothing sent
    // for `interval`), sends one; returns when the next one may be due, at the earliest.
    // MonotonicTime::InfiniteFuture() takes the member out of the queue (it is ending).
    virtual MonotonicTime KeepAlive(MonotonicTime now, MonotonicTime horizon,
                                    absl::Duration interval) = 0;

   private:
    friend class KeepAliveQueue;
    // Where the member sits in the queue (InfiniteFuture: not in it). Guarded by the queue's mu_.
    MonotonicTime key_ = MonotonicTime::InfiniteFuture();
  };

  // A queue that sends keep-alives every `interval`. A non-positive interval turns keep-alives
  // off: Add does nothing and Start starts no thread.
  KeepAliveQueue(Clock& clock, absl::Duration interval);
  // Stops the loop (Stop()).
  ~KeepAliveQueue();
  KeepAliveQueue(const KeepAliveQueue&) = delete;
  KeepAliveQueue& operator=(const KeepAliveQueue&) = delete;

  // Adds `member`, first due one interval from now (its first event is sent at once).
  // Precondition: not in the queue.
  void Add(Member* member);
  // Takes `member` out of the queue if it is in it. Once this returns, the queue is not asking it
  // and will not ask it again. Idempotent.
  void Remove(Member* member);

  // One round: asks every member whose entry is due by now + interval/50 and queues it again
  // under the time it returns. The loop calls this when the earliest entry is due; tests that
  // did not call Start() call it after advancing a FakeClock.
  void RunOnce();

  // Starts the loop (no thread when keep-alives are off). Precondition: not started.
  void Start();
  // Stops the loop and joins it; a round in progress finishes first. Idempotent.
  void Stop();

 private:
  void RunLocked(MonotonicTime now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();

  Clock& clock_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  // By when each member's next keep-alive may be due (a lower bound: events sent since are not
  // reflected until the entry comes up).
  std::set<std::pair<MonotonicTime, Member*>> queue_ ABSL_GUARDED_BY(mu_);
  // Bumped when the loop must look again (an earlier entry, or stopping).
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // joinable while started
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_KEEP_ALIVE_QUEUE_H_
