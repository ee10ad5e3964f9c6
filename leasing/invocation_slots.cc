#include "leasing/invocation_slots.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tributary::leasing {
namespace {

absl::Status CheckNames(const std::string& function_name, const std::string& poller_id,
                        int count) {
  if (function_name.empty()) return absl::InvalidArgumentError("function_name must not be empty");
  if (poller_id.empty()) return absl::InvalidArgumentError("poller_id must not be empty");
  if (count < 1) return absl::InvalidArgumentError(absl::StrCat("count must be >= 1, got ", count));
  return absl::OkStatus();
}

}  // namespace

InvocationSlots::InvocationSlots(std::function<bool(const std::string&)> is_live)
    : is_live_(std::move(is_live)) {}

int InvocationSlots::PruneAndCount(const std::string& function_name) {
  auto it = held_.find(function_name);
  if (it == held_.end()) return 0;
  int in_use = 0;
  for (auto holder = it->second.begin(); holder != it->second.end();) {
    if (is_live_(holder->first)) {
      in_use += holder->second;
      ++holder;
    } else {
      holder = it->second.erase(holder);
    }
  }
  if (it->second.empty()) held_.erase(it);
  return in_use;
}

absl::StatusOr<SlotGrant> InvocationSlots::Acquire(const std::string& function_name,
                                                   const std::string& poller_id, int count,
                                                   int limit) {
  if (absl::Status s = CheckNames(function_name, poller_id, count); !s.ok()) return s;
  if (limit < 0) return absl::InvalidArgumentError(absl::StrCat("limit must be >= 0, got ", limit));
  absl::MutexLock lock(&mu_);
  if (!is_live_(poller_id)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "poller ", poller_id, " is not live (not registered, or silent past the lease duration)"));
  }
  SlotGrant grant;
  grant.in_use = PruneAndCount(function_name);
  grant.granted = std::clamp(limit - grant.in_use, 0, count);
  if (grant.granted > 0) {
    held_[function_name][poller_id] += grant.granted;
    grant.in_use += grant.granted;
  }
  return grant;
}

absl::StatusOr<int> InvocationSlots::Release(const std::string& function_name,
                                             const std::string& poller_id, int count) {
  if (absl::Status s = CheckNames(function_name, poller_id, count); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  auto function = held_.find(function_name);
  if (function == held_.end()) return 0;
  auto holder = function->second.find(poller_id);
  if (holder == function->second.end()) return 0;
  const int released = std::min(count, holder->second);
  holder->second -= released;
  if (holder->second == 0) function->second.erase(holder);
  if (function->second.empty()) held_.erase(function);
  return released;
}

int InvocationSlots::InUse(const std::string& function_name) {
  absl::MutexLock lock(&mu_);
  return PruneAndCount(function_name);
}

}  // namespace tributary::leasing
