// RequestAdmission: the front door's admission control (HttpServerOptions::max_pending_*), shared
// by every connection whatever its protocol (HTTP/1.1 or HTTP/2): at most `max_requests`
// requests, whose bodies add up to at most `max_bytes`, are in progress at once.
//
// A request takes a slot when its head has been read (before its body) and gives it back when
// its response has been written (or its head, for a streamed response), or when its connection
// or stream goes away first.
//
// The bodies' bytes are also reserved in the process's MemoryBudget (common/memory_budget.h)
// when one is given (`--memory_budget_mb`, shared with the gRPC services): a request is refused
// when the budget is spent by requests anywhere in the process.
//
// Thread-safe. `budget`, when given, must outlive this object.
#ifndef TRIBUTARY_AWS_REQUEST_ADMISSION_H_
#define TRIBUTARY_AWS_REQUEST_ADMISSION_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/memory_budget.h"

namespace tributary::aws {

class RequestAdmission {
 public:
  RequestAdmission(int max_requests, uint64_t max_bytes, MemoryBudget* budget = nullptr)
      : max_requests_(max_requests), max_bytes_(max_bytes), budget_(budget) {}

  // Takes a slot for a request whose body counts `cost` bytes and returns true; or, when either
  // bound would be passed, takes nothing and returns false. Either way *requests and *bytes are
  // what was admitted before the call (for the refusal's message).
  bool Admit(uint64_t cost, int* requests, uint64_t* bytes) {
    absl::MutexLock lock(&mu_);
    *requests = requests_;
    *bytes = bytes_;
    if (requests_ + 1 > max_requests_ || bytes_ + cost > max_bytes_) return false;
    if (budget_ != nullptr && !budget_->TryReserve(static_cast<int64_t>(cost))) return false;
    ++requests_;
    bytes_ += cost;
    return true;
  }

  // Gives back a slot Admit took for `cost` bytes. Precondition: exactly one Release a slot.
  void Release(uint64_t cost) {
    if (budget_ != nullptr) budget_->Release(static_cast<int64_t>(cost));
    absl::MutexLock lock(&mu_);
    --requests_;
    bytes_ -= cost;
  }

  // What is admitted now (for tests).
  int pending_requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  const int max_requests_;
  const uint64_t max_bytes_;
  MemoryBudget* const budget_;  // may be null
  absl::Mutex mu_;
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_REQUEST_ADMISSION_H_
