#include "shard_store/put_executor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/await.h"

namespace tributary::shard_store {

PutExecutor::PutExecutor(Clock& clock, const PutExecutorOptions& options)
    : clock_(clock), options_(options) {
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { Loop(); });
  }
}

PutExecutor::~PutExecutor() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  for (std::thread& t : threads_) t.join();  // after running what was queued
}

absl::Duration PutExecutor::RetryAfterLocked() {
  const int threads = std::max(1, options_.threads);
  const int64_t waves = 1 + static_cast<int64_t>(queue_.size()) / threads;
  return std::max(absl::Milliseconds(10), mean_run_ * waves);
}

absl::Status PutExecutor::Submit(int64_t bytes, MonotonicTime deadline, std::function<void()> run,
                                 std::function<void()> expired, std::function<void()> then) {
  absl::MutexLock lock(&mu_);
  const char* over = nullptr;
  if (held_requests_ + 1 > std::max(1, options_.max_requests)) {
    over = "calls";
  } else if (held_requests_ > 0 && held_bytes_ + bytes > std::max<int64_t>(1, options_.max_bytes)) {
    over = "bytes";
  } else if (options_.budget != nullptr && !options_.budget->TryReserve(bytes)) {
    over = "memory budget (--memory_budget_mb)";
  }
  if (over != nullptr) {
    ++refused_;
    return absl::ResourceExhaustedError(absl::StrCat(
        "the store's put queue is full (", held_requests_, " calls, ", held_bytes_,
        " bytes held; bound: ", over, "); refused by Tributary's admission control, retry after ",
        absl::ToInt64Milliseconds(RetryAfterLocked()), " ms with backoff"));
  }
  ++held_requests_;
  held_bytes_ += bytes;
  queue_.push_back(Task{bytes, deadline, std::move(run), std::move(expired), std::move(then)});
  return absl::OkStatus();
}

int PutExecutor::held_requests() {
  absl::MutexLock lock(&mu_);
  return held_requests_;
}

int64_t PutExecutor::held_bytes() {
  absl::MutexLock lock(&mu_);
  return held_bytes_;
}

int64_t PutExecutor::expired_count() {
  absl::MutexLock lock(&mu_);
  return expired_;
}

int64_t PutExecutor::refused_count() {
  absl::MutexLock lock(&mu_);
  return refused_;
}

absl::Status PutExecutor::AwaitHeldRequests(int n, absl::Duration real_timeout) {
  return AwaitFor(
      mu_, real_timeout, absl::StrCat(n, " PutRecords calls held by the put threads"),
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return held_requests_ == n; },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return absl::StrCat(held_requests_); });
}

void PutExecutor::Loop() {
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !queue_.empty(); };
  while (true) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and nothing left
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    const MonotonicTime start = clock_.MonotonicNow();
    const bool dead = start >= task.deadline;
    if (dead) {
      task.expired();
    } else {
      task.run();
    }
    const absl::Duration took = clock_.MonotonicNow() - start;
    if (options_.budget != nullptr) options_.budget->Release(task.bytes);
    {
      absl::MutexLock lock(&mu_);
      --held_requests_;
      held_bytes_ -= task.bytes;
      if (dead) {
        ++expired_;
      } else {
        mean_run_ = (mean_run_ * 7 + took) / 8;
      }
    }
    if (task.then) task.then();
  }
}

}  // namespace tributary::shard_store
