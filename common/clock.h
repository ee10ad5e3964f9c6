// Time for every Tributary component. Nothing outside common/ and *_main.cc
// reads the real clock or sleeps: components take a Clock& and tests hand them
// a FakeClock, whose time moves only when the test advances it.
#ifndef TRIBUTARY_COMMON_CLOCK_H_
#define TRIBUTARY_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tributary {

// A source of time and of timed waits. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;

  // The current time.
  virtual absl::Time Now() = 0;

  // Waits until `cond` holds or this clock reaches `deadline`, whichever is
  // first. Precondition: the caller holds `mu` exclusively; it is held again on
  // return (it is released while waiting, as absl::Mutex::AwaitWithDeadline
  // does). `cond` must depend only on state guarded by `mu`. Returns whether
  // `cond` holds.
  virtual bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                                 absl::Time deadline) = 0;

  // Blocks the calling thread until this clock reaches `deadline`. Holds no
  // lock of the caller's.
  void SleepUntil(absl::Time deadline);
  void SleepFor(absl::Duration d) { SleepUntil(Now() + d); }
};

// The machine's wall clock. A process-wide instance is at RealClock::Get().
class RealClock : public Clock {
 public:
  static RealClock& Get();

  absl::Time Now() override;
  bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                         absl::Time deadline) override;
};

// A clock for tests. Time starts at `start` and moves only through
// Advance/SetTime; waits whose deadline is reached wake on that advance.
// Thread-safe.
//
// Example: a background loop waits with AwaitWithDeadline(mu, cond, now + 1s);
// the test calls WaitForWaiters(1) so that it knows the loop is parked, then
// Advance(1s), and the loop wakes.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000));

  absl::Time Now() override;
  bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                         absl::Time deadline) override;

  // Moves time forward by `d` (>= 0) and wakes every waiter whose deadline has
  // passed.
  void Advance(absl::Duration d);
  // Sets the time; it may not move backwards (CHECKed: a test bug).
  void SetTime(absl::Time t);

  // How many threads are waiting in AwaitWithDeadline right now.
  int NumWaiters();
  // Blocks (in real time, at most `real_timeout`) until at least `n` threads
  // wait on this clock. Returns false on timeout: a failure guard for tests,
  // never a way to pass time.
  bool WaitForWaiters(int n, absl::Duration real_timeout = absl::Seconds(10));

 private:
  void WakeWaiters();

  std::atomic<int64_t> now_ns_;  // nanoseconds since the Unix epoch
  absl::Mutex mu_;
  // The mutexes that waiters wait on; one entry per waiting thread.
  std::vector<absl::Mutex*> waiting_on_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_CLOCK_H_
