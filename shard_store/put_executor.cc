#include "shard_store/put_executor.h"

#include <algorithm>
#include <cmath>
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
  const int64_t waves = 1 + static_cast<int64_t>(waiting_) / threads;
  return std::max(absl::Milliseconds(10), mean_run_ * waves);
}

absl::Duration PutExecutor::ExpectedWaitLocked() {
  const int threads = std::max(1, options_.threads);
  return mean_run_ * (static_cast<double>(waiting_) / threads);
}

const char* PutExecutor::OverLocked(absl::string_view client, int64_t bytes) {
  const int max_requests = std::max(1, options_.max_requests);
  const int64_t max_bytes = std::max<int64_t>(1, options_.max_bytes);
  const double share = std::min(1.0, std::max(0.0, options_.max_client_share));
  const int client_max_requests =
      std::max(1, static_cast<int>(std::ceil(max_requests * share)));
  const int64_t client_max_bytes =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(static_cast<double>(max_bytes) * share)));
  auto found = clients_.find(client);
  const int client_requests = found == clients_.end() ? 0 : found->second.held_requests;
  const int64_t client_bytes = found == clients_.end() ? 0 : found->second.held_bytes;
  if (held_requests_ + 1 > max_requests) return "calls";
  if (held_requests_ > 0 && held_bytes_ + bytes > max_bytes) return "bytes";
  if (client_requests + 1 > client_max_requests) return "this client's share of the calls";
  if (client_requests > 0 && client_bytes + bytes > client_max_bytes) {
    return "this client's share of the bytes";
  }
  if (options_.max_queue_delay > absl::ZeroDuration() && waiting_ > 0 &&
      ExpectedWaitLocked() > options_.max_queue_delay) {
    return "queue delay (--max_put_queue_delay_ms)";
  }
  return nullptr;
}

void PutExecutor::TakeExpiredLocked(MonotonicTime now, std::vector<Task>* dead) {
  if (now < earliest_deadline_) return;
  MonotonicTime earliest = MonotonicTime::InfiniteFuture();
  std::deque<std::string> turns;
  for (std::string& client : turns_) {
    Client& entry = clients_.find(client)->second;
    std::deque<Task> live;
    for (Task& task : entry.waiting) {
      if (task.deadline <= now) {
        --entry.held_requests;
        entry.held_bytes -= task.bytes;
        --held_requests_;
        held_bytes_ -= task.bytes;
        --waiting_;
        ++expired_;
        dead->push_back(std::move(task));
      } else {
        earliest = std::min(earliest, task.deadline);
        live.push_back(std::move(task));
      }
    }
    entry.waiting = std::move(live);
    if (!entry.waiting.empty()) {
      turns.push_back(std::move(client));
    } else if (entry.held_requests == 0) {
      clients_.erase(client);
    }
  }
  turns_ = std::move(turns);
  earliest_deadline_ = earliest;
}

absl::Status PutExecutor::Submit(absl::string_view client, int64_t bytes, MonotonicTime deadline,
                                 std::function<void()> run, std::function<void()> expired,
                                 std::function<void()> then) {
  std::vector<Task> dead;
  absl::Status result;
  {
    absl::MutexLock lock(&mu_);
    const char* over = OverLocked(client, bytes);
    if (over != nullptr) {
      // Dead calls must not take the room of live ones.
      TakeExpiredLocked(clock_.MonotonicNow(), &dead);
      if (!dead.empty()) over = OverLocked(client, bytes);
    }
    if (options_.budget != nullptr) {
      int64_t dead_bytes = 0;
      for (const Task& task : dead) dead_bytes += task.bytes;
      if (dead_bytes > 0) options_.budget->Release(dead_bytes);
      if (over == nullptr && !options_.budget->TryReserve(bytes)) {
        over = "memory budget (--memory_budget_mb)";
      }
    }
    if (over != nullptr) {
      ++refused_;
      auto found = clients_.find(client);
      result = absl::ResourceExhaustedError(absl::StrCat(
          "the store's put queue is full (", held_requests_, " calls, ", held_bytes_,
          " bytes held; this client ",
          found == clients_.end() ? 0 : found->second.held_requests, " calls; bound: ", over,
          "); refused by Tributary's admission control, retry after ",
          absl::ToInt64Milliseconds(RetryAfterLocked()), " ms with backoff"));
    } else {
      ++held_requests_;
      held_bytes_ += bytes;
      Client& entry = clients_[client];
      ++entry.held_requests;
      entry.held_bytes += bytes;
      if (entry.waiting.empty()) turns_.emplace_back(client);
      entry.waiting.push_back(Task{std::string(client), bytes, deadline, std::move(run),
                                   std::move(expired), std::move(then)});
      ++waiting_;
      earliest_deadline_ = std::min(earliest_deadline_, deadline);
    }
  }
  for (Task& task : dead) {
    task.expired();
    if (task.then) task.then();
  }
  return result;
}

int PutExecutor::held_requests(absl::string_view client) {
  absl::MutexLock lock(&mu_);
  auto found = clients_.find(client);
  return found == clients_.end() ? 0 : found->second.held_requests;
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
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || waiting_ > 0; };
  while (true) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&ready));
      if (waiting_ == 0) return;  // stopping, and nothing left
      // Round-robin: the client whose turn it is gives its oldest call, and goes to the back of
      // the turns when it has more waiting.
      std::string client = std::move(turns_.front());
      turns_.pop_front();
      Client& entry = clients_.find(client)->second;
      task = std::move(entry.waiting.front());
      entry.waiting.pop_front();
      --waiting_;
      if (!entry.waiting.empty()) turns_.push_back(std::move(client));
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
      auto entry = clients_.find(task.client);
      --entry->second.held_requests;
      entry->second.held_bytes -= task.bytes;
      if (entry->second.held_requests == 0) clients_.erase(entry);
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
