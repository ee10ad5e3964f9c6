// ReadBudget: one byte budget shared by every shard consumer of a poller process (issue 22,
// `--memory_budget_mb`: the poller-wide bound on the records it buffers, beside each shard's
// ShardConsumerOptions::max_outstanding_bytes).
//
// The count is a MemoryBudget (common/memory_budget.h). A consumer reserves a read's worth
// (ShardConsumerOptions::read_reserve_bytes) before each read; once the read's records are handed
// to its processor it holds exactly what they hold (ShardProcessor::RecordMemoryBytes: it gives
// back the rest of the reserve, or Charges what a read returned beyond it) and gives bytes back
// as records are done. So, reads never passing their reserve, the bytes buffered never pass the
// limit.
//
// When the reserve does not fit, the reader stops (nothing dropped, nothing failed) and waits in
// order: Acquire queues it, and as bytes come back (Release) the waiters are served first come,
// first served, each granted its reserve (its `on_grant` runs) before anyone who asks later. So a
// shard that holds nothing is not starved by the backlogs of others: it waits at most until the
// waiters before it were served, and bytes come back as records are done.
//
// Thread-safe. `on_grant` runs under this object's lock: it must not call back into it (a
// consumer takes its own lock there and wakes a step). Never call Release, Charge or Cancel
// while holding a lock that an `on_grant` takes.
#ifndef TRIBUTARY_POLLER_LIFECYCLE_READ_BUDGET_H_
#define TRIBUTARY_POLLER_LIFECYCLE_READ_BUDGET_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "common/memory_budget.h"

namespace tributary::poller {

class ReadBudget {
 public:
  // `limit_bytes` ≤ 0: no limit (everything granted at once, still counted).
  explicit ReadBudget(int64_t limit_bytes) : budget_(limit_bytes) {}
  ReadBudget(const ReadBudget&) = delete;
  ReadBudget& operator=(const ReadBudget&) = delete;

  // Reserves `bytes` for `owner` and returns true when they fit and nobody waits before it. Else
  // returns false and queues `owner` (once: while queued, further calls return false): `on_grant`
  // runs once its bytes are reserved for it.
  // A reserve larger than the limit is cut to the limit (else it would never fit).
  bool Acquire(const void* owner, int64_t bytes, std::function<void()> on_grant) {
    if (budget_.limit() > 0) bytes = std::min(bytes, budget_.limit());
    absl::MutexLock lock(&mu_);
    for (const Waiter& w : waiters_) {
      if (w.owner == owner) return false;
    }
    if (waiters_.empty() && budget_.TryReserve(bytes)) return true;
    waiters_.push_back(Waiter{owner, bytes, std::move(on_grant)});
    return false;
  }
  // Gives back `bytes` reserved (or charged) before, and serves the waiters that now fit.
  void Release(int64_t bytes) {
    absl::MutexLock lock(&mu_);
    // What was charged past the limit goes back first: the rest is the MemoryBudget's.
    const int64_t over = std::min(charged_over_, bytes);
    charged_over_ -= over;
    budget_.Release(bytes - over);
    ServeLocked();
  }
  // Counts `bytes` held beyond a reserve (a read larger than its reserve), even past the limit.
  void Charge(int64_t bytes) {
    absl::MutexLock lock(&mu_);
    // Already held: what does not fit under the limit is counted beside it.
    if (!budget_.TryReserve(bytes)) charged_over_ += bytes;
  }
  // Takes `owner` out of the queue: its `on_grant` does not run after this returns.
  void Cancel(const void* owner) {
    absl::MutexLock lock(&mu_);
    waiters_.erase(std::remove_if(waiters_.begin(), waiters_.end(),
                                  [owner](const Waiter& w) { return w.owner == owner; }),
                   waiters_.end());
    ServeLocked();  // the next ones may fit now that this one does not wait first
  }

  // The limit (0: none), the bytes held now and the most ever held at once.
  int64_t limit() const { return budget_.limit(); }
  int64_t used() {
    absl::MutexLock lock(&mu_);
    return budget_.used() + charged_over_;
  }
  // (The peak counts what the MemoryBudget held: it leaves out bytes charged past the limit.)
  int64_t peak() const { return budget_.peak(); }
  int64_t waiting() {
    absl::MutexLock lock(&mu_);
    return static_cast<int64_t>(waiters_.size());
  }

 private:
  struct Waiter {
    const void* owner;
    int64_t bytes;
    std::function<void()> on_grant;
  };

  void ServeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (!waiters_.empty() && budget_.TryReserve(waiters_.front().bytes)) {
      Waiter w = std::move(waiters_.front());
      waiters_.pop_front();
      w.on_grant();
    }
  }

  absl::Mutex mu_;
  MemoryBudget budget_;
  int64_t charged_over_ ABSL_GUARDED_BY(mu_) = 0;  // charged beyond the limit
  std::deque<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_LIFECYCLE_READ_BUDGET_H_
