#include "poller/runtime/scheduler.h"

#include <algorithm>

namespace tributary::poller {

Scheduler::Timer::Timer(Scheduler& scheduler, std::function<void()> callback)
    : scheduler_(scheduler), callback_(std::move(callback)), id_([&scheduler] {
        absl::MutexLock lock(&scheduler.timer_mu_);
        return scheduler.next_timer_id_++;
      }()) {}

Scheduler::Timer::~Timer() { Disarm(); }

void Scheduler::Timer::ArmAt(MonotonicTime deadline) { scheduler_.Arm(this, deadline); }

MonotonicTime Scheduler::Timer::armed() {
  absl::MutexLock lock(&scheduler_.timer_mu_);
  auto it = scheduler_.armed_.find(id_);
  return it == scheduler_.armed_.end() ? MonotonicTime::InfiniteFuture() : it->second;
}

Scheduler::Scheduler(Clock& clock, int max_threads)
    : clock_(clock), max_threads_(std::max(1, max_threads)) {
  timer_thread_ = std::thread([this] { TimerLoop(); });
}

Scheduler::~Scheduler() {
  {
    absl::MutexLock lock(&timer_mu_);
    timer_stop_ = true;
  }
  timer_thread_.join();
  std::vector<std::thread> workers;
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    workers.swap(workers_);
  }
  for (std::thread& t : workers) t.join();
}

Scheduler::BlockingScope::BlockingScope(Scheduler& scheduler) : scheduler_(scheduler) {
  absl::MutexLock lock(&scheduler_.mu_);
  ++scheduler_.blocked_;
  scheduler_.MaybeStartWorker();
}

Scheduler::BlockingScope::~BlockingScope() {
  absl::MutexLock lock(&scheduler_.mu_);
  --scheduler_.blocked_;
}

void Scheduler::MaybeStartWorker() {
  // Tasks queued beyond the idle workers count (each idle worker takes one); the workers not
  // held in a BlockingScope stay within max_threads.
  const int workers = static_cast<int>(workers_.size());
  if (static_cast<int>(tasks_.size()) > idle_workers_ && workers - blocked_ < max_threads_ &&
      workers < max_threads_ + kMaxCompensationThreads) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

void Scheduler::Submit(absl::AnyInvocable<void()> task) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(task));
  MaybeStartWorker();
}

int Scheduler::threads_started() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(workers_.size());
}

int Scheduler::timers_armed() {
  absl::MutexLock lock(&timer_mu_);
  return static_cast<int>(armed_.size());
}

void Scheduler::WorkerLoop() {
  // A task is taken only while fewer than max_threads tasks work; when stopping, every queued
  // task runs regardless.
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || (!tasks_.empty() && running_ - blocked_ < max_threads_);
  };
  absl::MutexLock lock(&mu_);
  while (true) {
    ++idle_workers_;
    mu_.Await(absl::Condition(&ready));
    --idle_workers_;
    if (tasks_.empty()) return;  // stopping, and every queued task ran
    absl::AnyInvocable<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    ++running_;
    mu_.Unlock();
    task();
    task = nullptr;  // destroyed outside the lock, like the task's own work
    mu_.Lock();
    --running_;
  }
}

void Scheduler::Arm(Timer* timer, MonotonicTime deadline) {
  absl::MutexLock lock(&timer_mu_);
  auto it = armed_.find(timer->id_);
  if (it != armed_.end()) {
    if (it->second == deadline) return;
    by_deadline_.erase({it->second, timer->id_});
    armed_.erase(it);
  }
  if (deadline != MonotonicTime::InfiniteFuture()) {
    const bool earliest = by_deadline_.empty() || deadline < by_deadline_.begin()->first.first;
    by_deadline_[{deadline, timer->id_}] = timer;
    armed_[timer->id_] = deadline;
    if (earliest) ++timer_version_;
  } else {
    // Disarming: the callback must not be running when this returns (unless this is that
    // callback's own thread, which the header forbids for Disarm).
    auto not_firing = [this, id = timer->id_]()
                          ABSL_EXCLUSIVE_LOCKS_REQUIRED(timer_mu_) { return firing_ != id; };
    if (std::this_thread::get_id() != timer_thread_.get_id()) {
      timer_mu_.Await(absl::Condition(&not_firing));
    }
  }
}

void Scheduler::TimerLoop() {
  absl::MutexLock lock(&timer_mu_);
  while (!timer_stop_) {
    if (by_deadline_.empty()) {
      // Not on the clock: nothing to time (a FakeClock does not count this thread).
      const uint64_t seen = timer_version_;
      auto wanted = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(timer_mu_) {
        return timer_stop_ || timer_version_ != seen;
      };
      timer_mu_.Await(absl::Condition(&wanted));
      continue;
    }
    const MonotonicTime now = clock_.MonotonicNow();
    auto first = by_deadline_.begin();
    if (first->first.first <= now) {
      Timer* timer = first->second;
      armed_.erase(first->first.second);
      by_deadline_.erase(first);
      firing_ = timer->id_;
      timer_mu_.Unlock();
      timer->callback_();
      timer_mu_.Lock();
      firing_ = 0;
      continue;
    }
    const uint64_t seen = timer_version_;
    auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(timer_mu_) {
      return timer_stop_ || timer_version_ != seen;
    };
    clock_.AwaitWithDeadline(&timer_mu_, absl::Condition(&changed), first->first.first);
  }
}

}  // namespace tributary::poller
