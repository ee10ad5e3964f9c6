// Scheduler: the threads every ShardConsumer of a poller shares, so that an idle lease costs no
// thread.
//   - a pool of worker threads, started lazily (threads then stay until the scheduler is
//     destroyed), running at most `max_threads` tasks at once that are not inside a
//     BlockingScope. It runs the consumers' steps (dispatch due batches, checkpoint, tend) and
//     their batches (invokes: blocking, so `max_threads` bounds how many invocations run at once
//     across every shard of the poller). A task that only sleeps — a retry backoff — does so in
//     a BlockingScope (CompensatedWaiter): it leaves its slot to the next task, and a thread is
//     started for that when none is idle (at most kMaxCompensationThreads more than
//     `max_threads`). So lanes backing off from a failing function do not starve the other
//     lanes of the poller (up to kMaxCompensationThreads lanes asleep at once);
//   - one timer thread waiting on the injected Clock for the earliest armed timer (batching
//     windows, checkpoint intervals, read pauses), which only wakes a Timer's owner (it runs the
//     owner's callback, which must not block: typically it submits a task).
// Idle (no task, no armed timer), the workers wait on a mutex and the timer thread waits without
// a deadline (not on the clock, so a FakeClock does not count it as a waiter).
//
// Thread-safe. `clock` must outlive this object. The destructor runs every queued task, then
// joins the threads; nothing may submit or arm after it started.
#ifndef TRIBUTARY_POLLER_RUNTIME_SCHEDULER_H_
#define TRIBUTARY_POLLER_RUNTIME_SCHEDULER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "poller/interfaces.h"

namespace tributary::poller {

class Scheduler {
 public:
  // A timer owned by one object: at most one deadline armed at a time. Its callback runs on the
  // timer thread and must not block. Disarm() (or destruction) guarantees the callback neither
  // runs nor is running when it returns; so do not call it from the callback itself or while
  // holding a lock the callback takes.
  class Timer {
   public:
    Timer(Scheduler& scheduler, std::function<void()> callback);
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    // Fires the callback once at `deadline` (by the scheduler's clock, its monotonic reading; at
    // once when it has passed), replacing any deadline armed before. InfiniteFuture disarms.
    void ArmAt(MonotonicTime deadline);
    void Disarm() { ArmAt(MonotonicTime::InfiniteFuture()); }
    // The armed deadline (InfiniteFuture when none).
    MonotonicTime armed();

   private:
    friend class Scheduler;
    Scheduler& scheduler_;
    const std::function<void()> callback_;
    const uint64_t id_;
  };

  // Threads the pool may start beyond `max_threads` for tasks waiting in a BlockingScope.
  static constexpr int kMaxCompensationThreads = 1024;

  // Marks the calling task as blocked (sleeping, not working) for its lifetime: it does not
  // count against `max_threads` meanwhile, so a queued task may run in its place. Only from a
  // task running on this scheduler; scopes do not nest.
  class BlockingScope {
   public:
    explicit BlockingScope(Scheduler& scheduler);
    ~BlockingScope();
    BlockingScope(const BlockingScope&) = delete;
    BlockingScope& operator=(const BlockingScope&) = delete;

   private:
    Scheduler& scheduler_;
  };

  // `max_threads` >= 1 (smaller values are taken as 1).
  Scheduler(Clock& clock, int max_threads);
  ~Scheduler();

  // Runs `task` on a worker thread, FIFO among tasks. Never blocks.
  void Submit(absl::AnyInvocable<void()> task);

  Clock& clock() { return clock_; }
  int max_threads() const { return max_threads_; }
  // Worker threads started so far (at most max_threads + kMaxCompensationThreads).
  int threads_started();
  // Timers armed now.
  int timers_armed();

 private:
  void WorkerLoop();
  void TimerLoop();
  // Starts a worker when a queued task could run now and no idle worker will take it.
  void MaybeStartWorker() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Arm(Timer* timer, MonotonicTime deadline);

  Clock& clock_;
  const int max_threads_;

  absl::Mutex mu_;  // the task queue and the workers
  std::deque<absl::AnyInvocable<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  int idle_workers_ ABSL_GUARDED_BY(mu_) = 0;
  int running_ ABSL_GUARDED_BY(mu_) = 0;  // tasks taken and not finished
  int blocked_ ABSL_GUARDED_BY(mu_) = 0;  // of those, inside a BlockingScope
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(mu_);

  absl::Mutex timer_mu_;  // the timers; never held while taking mu_ or running a callback
  uint64_t next_timer_id_ ABSL_GUARDED_BY(timer_mu_) = 1;
  std::map<std::pair<MonotonicTime, uint64_t>, Timer*> by_deadline_ ABSL_GUARDED_BY(timer_mu_);
  std::map<uint64_t, MonotonicTime> armed_ ABSL_GUARDED_BY(timer_mu_);
  uint64_t firing_ ABSL_GUARDED_BY(timer_mu_) = 0;         // the timer whose callback runs, or 0
  uint64_t timer_version_ ABSL_GUARDED_BY(timer_mu_) = 0;  // bumped when the earliest may move
  bool timer_stop_ ABSL_GUARDED_BY(timer_mu_) = false;
  std::thread timer_thread_;
};

// A Waiter whose waits run in a Scheduler::BlockingScope: a lane sleeping in a retry backoff
// (or in the backoff of an on-failure destination's put) does not hold one of the scheduler's
// `max_threads` slots. Waits made off the scheduler's threads (RunOnce tests) must not use it.
// `inner` and `scheduler` must outlive it.
class CompensatedWaiter : public Waiter {
 public:
  CompensatedWaiter(Waiter& inner, Scheduler& scheduler) : inner_(inner), scheduler_(scheduler) {}
  bool WaitUntil(MonotonicTime deadline, StopSignal& stop) override {
    Scheduler::BlockingScope scope(scheduler_);
    return inner_.WaitUntil(deadline, stop);
  }

 private:
  Waiter& inner_;
  Scheduler& scheduler_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_RUNTIME_SCHEDULER_H_
