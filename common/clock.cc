#include "common/clock.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/macros.h"
#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "glog/logging.h"

namespace tributary {

void Clock::SleepUntil(MonotonicTime deadline) {
  absl::Mutex mu;
  absl::MutexLock lock(&mu);
  static constexpr bool kNever = false;
  AwaitWithDeadline(&mu, absl::Condition(&kNever), deadline);
}

// ---- RealClock ----

namespace {

MonotonicTime SteadyNow() {
  return MonotonicTime::FromOrigin(
      absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch()));
}

}  // namespace

// Wakes waiters at their monotonic deadlines. One thread waits on a condition variable against
// steady_clock (libstdc++ uses pthread_cond_clockwait with CLOCK_MONOTONIC: a wall step does not
// move it, whereas absl::Mutex's timed waits are CLOCK_REALTIME) for the earliest deadline, then
// cycles the mutex of every waiter whose deadline has passed, so that Abseil re-evaluates its
// condition ("cond || MonotonicNow() >= deadline"). Cycling uses TryLock, which never blocks: a
// waiter's mutex is taken before m_ (Add, Remove), m_ before a TryLock here, and no order is
// inverted by a blocking call. When TryLock fails, the holder's own Unlock re-evaluates the waiting
// conditions after the deadline. An entry is removed once cycled (so the thread does not spin) or
// by its waiter (Remove); a waiter removes its entry under m_ before it returns, so a mutex cycled
// here is alive.
class RealClock::Waker {
 public:
  using Ticket = std::pair<MonotonicTime, uint64_t>;

  Waker() : thread_([this] { Loop(); }) {}
  ~Waker() {
    {
      absl::MutexLock lock(&m_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  Ticket Add(MonotonicTime deadline, absl::Mutex* mu) {
    absl::MutexLock lock(&m_);
    const Ticket ticket(deadline, next_id_++);
    const bool earliest = waiters_.empty() || ticket < waiters_.begin()->first;
    waiters_.emplace(ticket, mu);
    if (earliest) cv_.notify_one();
    return ticket;
  }

  void Remove(const Ticket& ticket) {
    absl::MutexLock lock(&m_);
    waiters_.erase(ticket);  // gone already when it was cycled
  }

 private:
  // condition_variable_any's view of m_: Abseil 20220623's Mutex spells lock() Lock().
  struct LockableMu {
    absl::Mutex& mu;
    void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) { mu.Lock(); }
    void unlock() ABSL_UNLOCK_FUNCTION(mu) { mu.Unlock(); }
  };

  void Loop() {
    absl::MutexLock lock(&m_);
    LockableMu lockable{m_};  // the waits release m_ and hold it again when they return
    while (!stop_) {
      if (waiters_.empty()) {
        cv_.wait(lockable);
        continue;
      }
      const MonotonicTime first = waiters_.begin()->first.first;
      const MonotonicTime now = SteadyNow();
      if (now < first) {
        cv_.wait_until(lockable,
                       std::chrono::steady_clock::time_point(
                           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               absl::ToChronoNanoseconds(first.SinceOrigin()))));
        continue;
      }
      while (!waiters_.empty() && waiters_.begin()->first.first <= now) {
        absl::Mutex* mu = waiters_.begin()->second;
        if (mu->TryLock()) mu->Unlock();
        waiters_.erase(waiters_.begin());
      }
    }
  }

  absl::Mutex m_;
  std::condition_variable_any cv_;
  bool stop_ ABSL_GUARDED_BY(m_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(m_) = 0;
  std::map<Ticket, absl::Mutex*> waiters_ ABSL_GUARDED_BY(m_);  // by deadline
  std::thread thread_;  // last: started once the fields above exist
};

RealClock& RealClock::Get() {
  static RealClock* clock = new RealClock();
  return *clock;
}

RealClock::RealClock() = default;

RealClock::~RealClock() { delete waker_.load(); }

RealClock::Waker* RealClock::waker() {
  Waker* w = waker_.load(std::memory_order_acquire);
  if (w != nullptr) return w;
  absl::MutexLock lock(&waker_mu_);
  w = waker_.load(std::memory_order_relaxed);
  if (w == nullptr) {
    w = new Waker();
    waker_.store(w, std::memory_order_release);
  }
  return w;
}

absl::Time RealClock::Now() { return absl::Now(); }

MonotonicTime RealClock::MonotonicNow() { return SteadyNow(); }

bool RealClock::AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                                  MonotonicTime deadline) {
  if (cond.Eval()) return true;
  if (deadline == MonotonicTime::InfiniteFuture()) {
    mu->Await(cond);
    return true;
  }
  auto done = [&]() { return cond.Eval() || MonotonicNow() >= deadline; };
  if (MonotonicNow() >= deadline) return false;
  // Abseil's timed wait ends on time while the wall clock runs evenly (it measures the timeout on
  // the wall clock); a wall step forward only ends it early, and the loop waits again. A step
  // back would make it late by the step: the waker's wake-up at the monotonic deadline ends it
  // then.
  const Waker::Ticket ticket = waker()->Add(deadline, mu);
  while (!mu->AwaitWithTimeout(absl::Condition(&done), deadline - MonotonicNow())) {
  }
  waker()->Remove(ticket);
  return cond.Eval();
}

// ---- FakeClock ----

FakeClock::FakeClock(absl::Time start)
    : wall_ns_(absl::ToUnixNanos(start)),
      monotonic_ns_(absl::ToInt64Nanoseconds(kMonotonicStart.SinceOrigin())) {}

absl::Time FakeClock::Now() { return absl::FromUnixNanos(wall_ns_.load()); }

MonotonicTime FakeClock::MonotonicNow() {
  return MonotonicTime::FromOrigin(absl::Nanoseconds(monotonic_ns_.load()));
}

bool FakeClock::AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                                  MonotonicTime deadline) {
  if (cond.Eval()) return true;
  {
    absl::MutexLock lock(&mu_);  // lock order: caller's mu, then mu_
    waiting_on_.push_back(mu);
  }
  auto done = [&]() { return cond.Eval() || MonotonicNow() >= deadline; };
  // Advance() wakes us by cycling `mu` so that absl re-evaluates the condition.
  // The real-time timeout is only a guard against a missed wake-up; it never
  // decides the outcome.
  while (!mu->AwaitWithTimeout(absl::Condition(&done), absl::Milliseconds(100))) {
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = std::find(waiting_on_.begin(), waiting_on_.end(), mu);
    waiting_on_.erase(it);
  }
  return cond.Eval();
}

void FakeClock::Advance(absl::Duration d) {
  CHECK(d >= absl::ZeroDuration()) << "FakeClock::Advance takes a non-negative duration";
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  // The wall reading first: a thread that sees the monotonic deadline reached and then reads the
  // wall clock sees it moved too.
  wall_ns_.fetch_add(ns);
  monotonic_ns_.fetch_add(ns);
  WakeWaiters();
}

void FakeClock::SetTime(absl::Time t) {
  const int64_t ns = absl::ToUnixNanos(t);
  const int64_t now = wall_ns_.load();
  CHECK_GE(ns, now) << "FakeClock::SetTime may not move time backwards (StepWallClock may)";
  Advance(absl::Nanoseconds(ns - now));
}

void FakeClock::StepWallClock(absl::Duration d) { wall_ns_.fetch_add(absl::ToInt64Nanoseconds(d)); }

void FakeClock::WakeWaiters() {
  // Holding mu_ keeps every listed mutex alive: a waiter removes its entry
  // (taking mu_) before it returns to code that could destroy the mutex.
  // TryLock never blocks, so the reverse lock order here cannot deadlock; when
  // it fails, the holder's own Unlock re-evaluates conditions.
  absl::MutexLock lock(&mu_);
  for (absl::Mutex* mu : waiting_on_) {
    if (mu->TryLock()) mu->Unlock();
  }
}

int FakeClock::NumWaiters() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(waiting_on_.size());
}

absl::Status FakeClock::WaitForWaiters(int n, absl::Duration real_timeout) {
  return AwaitFor(
      mu_, real_timeout, absl::StrCat(n, " thread(s) waiting on the FakeClock"),
      [&]()
          ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return static_cast<int>(waiting_on_.size()) >= n; },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return absl::StrCat(waiting_on_.size(), " waiting");
      });
}

}  // namespace tributary
