#include "common/clock.h"

#include <algorithm>

#include "absl/base/macros.h"
#include "glog/logging.h"

namespace tributary {

void Clock::SleepUntil(absl::Time deadline) {
  absl::Mutex mu;
  absl::MutexLock lock(&mu);
  static constexpr bool kNever = false;
  AwaitWithDeadline(&mu, absl::Condition(&kNever), deadline);
}

RealClock& RealClock::Get() {
  static RealClock* clock = new RealClock();
  return *clock;
}

absl::Time RealClock::Now() { return absl::Now(); }

bool RealClock::AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                                  absl::Time deadline) {
  return mu->AwaitWithDeadline(cond, deadline);
}

FakeClock::FakeClock(absl::Time start) : now_ns_(absl::ToUnixNanos(start)) {}

absl::Time FakeClock::Now() { return absl::FromUnixNanos(now_ns_.load()); }

bool FakeClock::AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                                  absl::Time deadline) {
  if (cond.Eval()) return true;
  const int64_t deadline_ns = absl::ToUnixNanos(deadline);
  {
    absl::MutexLock lock(&mu_);  // lock order: caller's mu, then mu_
    waiting_on_.push_back(mu);
  }
  auto done = [&]() { return cond.Eval() || now_ns_.load() >= deadline_ns; };
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
  now_ns_.fetch_add(absl::ToInt64Nanoseconds(d));
  WakeWaiters();
}

void FakeClock::SetTime(absl::Time t) {
  const int64_t ns = absl::ToUnixNanos(t);
  CHECK_GE(ns, now_ns_.load()) << "FakeClock::SetTime may not move time backwards";
  now_ns_.store(ns);
  WakeWaiters();
}

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

bool FakeClock::WaitForWaiters(int n, absl::Duration real_timeout) {
  absl::MutexLock lock(&mu_);
  auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<int>(waiting_on_.size()) >= n;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), real_timeout);
}

}  // namespace tributary
