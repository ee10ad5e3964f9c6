// Time for every Tributary component. Nothing outside common/ and *_main.cc
// reads the real clock or sleeps: components take a Clock& and tests hand them
// a FakeClock, whose time moves only when the test advances it.
//
// Two readings, two types, so that the compiler refuses to mix them (as
// Envoy's envoy/common/time.h does with MonotonicTime and SystemTime):
//   - MonotonicTime (Clock::MonotonicNow) for every duration: leases and their
//     liveness, deadlines, timers, backoff, pauses, batching windows, intervals,
//     latencies. It never jumps: an NTP step of the wall clock neither expires
//     nor extends anything measured with it. Its origin is arbitrary (boot for
//     the real clock), so a MonotonicTime means nothing outside the process:
//     never persist it or send it anywhere.
//   - absl::Time (Clock::Now) for timestamps only: when a record arrived, when
//     a row was written, what an operator or another process reads. It may jump
//     forwards or backwards at any moment.
// A wall-clock boundary that a timer must wait for (a tumbling window's end)
// is turned into a monotonic deadline from what remains of it by the wall
// clock now: MonotonicNow() + (boundary - Now()); the code that fires
// re-checks the wall clock and re-arms if the wall clock stepped back.
#ifndef TRIBUTARY_COMMON_CLOCK_H_
#define TRIBUTARY_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <ostream>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tributary {

// A reading of a monotonic clock: a duration since an arbitrary origin, which
// only differences and comparisons between readings of the same clock give a
// meaning to. A value type; there is deliberately no conversion from or to
// absl::Time. Infinite values behave like absl::Time's (InfiniteFuture() plus
// any finite duration is still InfiniteFuture()).
class MonotonicTime {
 public:
  // The origin.
  constexpr MonotonicTime() = default;

  static constexpr MonotonicTime InfiniteFuture() {
    return MonotonicTime(absl::InfiniteDuration());
  }
  static constexpr MonotonicTime InfinitePast() { return MonotonicTime(-absl::InfiniteDuration()); }
  // The reading `d` after the origin. For Clock implementations (and tests that
  // need a fixed reading); components get readings from Clock::MonotonicNow().
  static constexpr MonotonicTime FromOrigin(absl::Duration d) { return MonotonicTime(d); }
  // How long after the origin this reading is.
  constexpr absl::Duration SinceOrigin() const { return since_origin_; }

  MonotonicTime& operator+=(absl::Duration d) {
    since_origin_ += d;
    return *this;
  }
  MonotonicTime& operator-=(absl::Duration d) {
    since_origin_ -= d;
    return *this;
  }
  friend MonotonicTime operator+(MonotonicTime t, absl::Duration d) { return t += d; }
  friend MonotonicTime operator+(absl::Duration d, MonotonicTime t) { return t += d; }
  friend MonotonicTime operator-(MonotonicTime t, absl::Duration d) { return t -= d; }
  friend absl::Duration operator-(MonotonicTime a, MonotonicTime b) {
    return a.since_origin_ - b.since_origin_;
  }
  friend bool operator==(MonotonicTime a, MonotonicTime b) {
    return a.since_origin_ == b.since_origin_;
  }
  friend bool operator!=(MonotonicTime a, MonotonicTime b) { return !(a == b); }
  friend bool operator<(MonotonicTime a, MonotonicTime b) {
    return a.since_origin_ < b.since_origin_;
  }
  friend bool operator>(MonotonicTime a, MonotonicTime b) { return b < a; }
  friend bool operator<=(MonotonicTime a, MonotonicTime b) { return !(b < a); }
  friend bool operator>=(MonotonicTime a, MonotonicTime b) { return !(a < b); }
  // "monotonic+1.5s" (test failure messages, logs).
  friend std::ostream& operator<<(std::ostream& os, MonotonicTime t) {
    return os << "monotonic+" << absl::FormatDuration(t.since_origin_);
  }

 private:
  explicit constexpr MonotonicTime(absl::Duration d) : since_origin_(d) {}

  absl::Duration since_origin_;
};

// A source of time and of timed waits. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;

  // The wall clock: for timestamps only (see the file comment). It may step
  // forwards or backwards; never measure a duration or a deadline with it.
  virtual absl::Time Now() = 0;

  // The monotonic clock: for every duration and deadline. Never goes back and
  // does not move when the wall clock is stepped.
  virtual MonotonicTime MonotonicNow() = 0;

  // Waits until `cond` holds or MonotonicNow() reaches `deadline`, whichever is
  // first; a step of the wall clock neither shortens nor lengthens the wait.
  // Precondition: the caller holds `mu` exclusively; it is held again on return
  // (it is released while waiting, as absl::Mutex::AwaitWithDeadline does).
  // `cond` must depend only on state guarded by `mu`. Returns whether `cond`
  // holds.
  virtual bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                                 MonotonicTime deadline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;

  // Blocks the calling thread until MonotonicNow() reaches `deadline` / for
  // `d`. Holds no lock of the caller's.
  void SleepUntil(MonotonicTime deadline);
  void SleepFor(absl::Duration d) { SleepUntil(MonotonicNow() + d); }
};

// The machine's clocks: Now() is the system (wall) clock, MonotonicNow() is
// std::chrono::steady_clock (CLOCK_MONOTONIC). A process-wide instance is at
// RealClock::Get().
//
// AwaitWithDeadline does not rely on Abseil's timed waits alone: Debian's
// Abseil (20220623) turns every timeout into an absolute CLOCK_REALTIME
// deadline (FUTEX_CLOCK_REALTIME), so a wall step back by an hour would make a
// wait for one second last an hour and one second, whatever chunks it were cut
// into. A waker thread (started by the first timed wait) waits on a
// steady_clock condition variable for the earliest deadline and then makes
// Abseil re-evaluate the waiter's condition (which includes "MonotonicNow() >=
// deadline") by cycling its mutex, as FakeClock does. A wall step forward only
// ends Abseil's own wait early; the waiter then waits again.
class RealClock : public Clock {
 public:
  static RealClock& Get();

  RealClock();
  // Joins the waker thread. No wait may be in progress.
  ~RealClock() override;
  RealClock(const RealClock&) = delete;
  RealClock& operator=(const RealClock&) = delete;

  absl::Time Now() override;
  MonotonicTime MonotonicNow() override;
  bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond, MonotonicTime deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) override;

 private:
  class Waker;
  Waker* waker();

  std::atomic<Waker*> waker_{nullptr};
  absl::Mutex waker_mu_;  // serializes starting the waker
};

// A clock for tests. It keeps a wall reading, starting at `start`, and a
// monotonic reading; both move only when the test says so:
//   - Advance(d) and SetTime(t) move both readings by the same amount (time
//     passes) and wake every waiter whose deadline has been reached;
//   - StepWallClock(d) moves only the wall reading, forwards or backwards, as an
//     NTP step does; it wakes nobody (every deadline is monotonic).
// Thread-safe.
//
// Example: a background loop waits with AwaitWithDeadline(mu, cond,
// MonotonicNow() + 1s); the test calls WaitForWaiters(1) so that it knows the
// loop is parked, then Advance(1s), and the loop wakes. StepWallClock(-1h)
// instead would leave it parked, and Now() an hour back.
class FakeClock : public Clock {
 public:
  // The monotonic reading at construction: arbitrary, unrelated to `start` (so
  // that a test cannot confuse the two readings by accident).
  static constexpr MonotonicTime kMonotonicStart = MonotonicTime::FromOrigin(absl::Hours(1000));

  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000));

  absl::Time Now() override;
  MonotonicTime MonotonicNow() override;
  bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond, MonotonicTime deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) override;

  // Time passes: both readings move forward by `d` (>= 0, CHECKed: a test bug),
  // and every waiter whose deadline has passed wakes.
  void Advance(absl::Duration d);
  // Advance(t - Now()): the wall reading becomes `t`; it may not move backwards
  // (CHECKed: a test bug; use StepWallClock for that).
  void SetTime(absl::Time t);
  // Steps the wall clock by `d` (any sign), as NTP or an operator may: Now()
  // moves, MonotonicNow() does not, and no waiter wakes.
  void StepWallClock(absl::Duration d);

  // How many threads are waiting in AwaitWithDeadline right now.
  int NumWaiters();
  // Blocks (in real time, at most `real_timeout`) until at least `n` threads
  // wait on this clock. Returns OK, or DEADLINE_EXCEEDED saying how many waited
  // at the end: a failure guard for tests, never a way to pass time.
  [[nodiscard]] absl::Status WaitForWaiters(int n, absl::Duration real_timeout = absl::Seconds(10));

 private:
  void WakeWaiters();

  std::atomic<int64_t> wall_ns_;       // nanoseconds since the Unix epoch
  std::atomic<int64_t> monotonic_ns_;  // nanoseconds since MonotonicTime's origin
  absl::Mutex mu_;
  // The mutexes that waiters wait on; one entry per waiting thread.
  std::vector<absl::Mutex*> waiting_on_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_CLOCK_H_
