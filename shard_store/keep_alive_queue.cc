#include "shard_store/keep_alive_queue.h"

namespace tributary::shard_store {

KeepAliveQueue::KeepAliveQueue(Clock& clock, absl::Duration interval)
    : clock_(clock), interval_(interval) {}

KeepAliveQueue::~KeepAliveQueue() { Stop(); }

void KeepAliveQueue::Add(Member* member) {
  if (interval_ <= absl::ZeroDuration()) return;
  absl::MutexLock lock(&mu_);
  // The loop is woken only when this entry is earlier than what it waits for.
  const MonotonicTime due = clock_.MonotonicNow() + interval_;
  const bool earliest = queue_.empty() || due < queue_.begin()->first;
  queue_.emplace(due, member);
  member->key_ = due;
  if (earliest) ++version_;
}

void KeepAliveQueue::Remove(Member* member) {
  absl::MutexLock lock(&mu_);
  if (member->key_ == MonotonicTime::InfiniteFuture()) return;
  queue_.erase({member->key_, member});
  member->key_ = MonotonicTime::InfiniteFuture();
}

void KeepAliveQueue::RunOnce() {
  absl::MutexLock lock(&mu_);
  RunLocked(clock_.MonotonicNow());
}

void KeepAliveQueue::RunLocked(MonotonicTime now) {
  // Every entry due by the horizon: its key may be stale (the member sent events since), so
  // KeepAlive says when it is really due, and it is queued again under that time.
  const MonotonicTime horizon = now + interval_ / 50;
  while (!queue_.empty() && queue_.begin()->first <= horizon) {
    Member* member = queue_.begin()->second;
    queue_.erase(queue_.begin());
    const MonotonicTime next = member->KeepAlive(now, horizon, interval_);
    member->key_ = next;
    if (next != MonotonicTime::InfiniteFuture()) queue_.emplace(next, member);
  }
}

void KeepAliveQueue::Start() {
  if (interval_ <= absl::ZeroDuration()) return;
  thread_ = std::thread([this] { Loop(); });
}

void KeepAliveQueue::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    ++version_;
  }
  if (thread_.joinable()) thread_.join();
}

void KeepAliveQueue::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    const uint64_t seen = version_;
    auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stop_ || version_ != seen;
    };
    if (queue_.empty()) {
      // Not on the clock: with no member there is nothing to time, and a FakeClock should not
      // count this thread as a waiter.
      mu_.Await(absl::Condition(&changed));
      continue;
    }
    const MonotonicTime now = clock_.MonotonicNow();
    const MonotonicTime first = queue_.begin()->first;
    if (first > now) {
      clock_.AwaitWithDeadline(&mu_, absl::Condition(&changed), first);
      continue;
    }
    RunLocked(now);
  }
}

}  // namespace tributary::shard_store
