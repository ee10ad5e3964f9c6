#include "common/await.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"

namespace tributary {

absl::Status WaitTimedOut(absl::Duration waited, absl::string_view awaited,
                          absl::string_view seen) {
  return absl::DeadlineExceededError(absl::StrCat("waited ", absl::FormatDuration(waited), " for ",
                                                  awaited, "; last seen: ", seen));
}

absl::Status AwaitFor(absl::Mutex& mu, absl::Duration real_timeout, absl::string_view awaited,
                      const std::function<bool()>& done,
                      const std::function<std::string()>& last_seen) {
  absl::MutexLock lock(&mu);
  if (mu.AwaitWithTimeout(absl::Condition(&done), real_timeout)) return absl::OkStatus();
  return WaitTimedOut(real_timeout, awaited, last_seen());
}

absl::Status PollFor(absl::Duration real_timeout, absl::Duration poll_interval,
                     absl::string_view awaited, const std::function<bool()>& done,
                     const std::function<std::string()>& last_seen) {
  // std::chrono::steady_clock rather than RealClock: common/clock uses AwaitFor.
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(real_timeout);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return WaitTimedOut(real_timeout, awaited, last_seen());
    }
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(poll_interval));
  }
  return absl::OkStatus();
}

}  // namespace tributary
