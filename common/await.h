// Bounded waits in real time for tests and harnesses: "wait until this holds, and if it never
// does, say what was awaited, what was last seen and for how long". The timeout is a failure
// guard, never a way to pass time (components wait on their injected Clock; STYLE.md §7, §10).
//
// Example (a fake that counts calls under `mu_`):
//   return AwaitFor(
//       mu_, absl::Seconds(10), absl::StrCat(n, " calls"),
//       [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return calls_ >= n; },
//       [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return absl::StrCat(calls_, " calls"); });
// fails after 10 s with DEADLINE_EXCEEDED "waited 10s for 3 calls; last seen: 1 calls".
#ifndef TRIBUTARY_COMMON_AWAIT_H_
#define TRIBUTARY_COMMON_AWAIT_H_

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tributary {

// Locks `mu` and waits until `done()` holds or `real_timeout` of real time passes. `done` and
// `last_seen` run with `mu` held (they may read what it guards). Returns OK once `done()` holds
// (at once when it already does); else DEADLINE_EXCEEDED "waited <real_timeout> for <awaited>;
// last seen: <last_seen()>", with `last_seen` evaluated at the end of the wait.
[[nodiscard]] absl::Status AwaitFor(absl::Mutex& mu, absl::Duration real_timeout,
                                    absl::string_view awaited, const std::function<bool()>& done,
                                    const std::function<std::string()>& last_seen)
    ABSL_LOCKS_EXCLUDED(mu);

// The same for a condition nobody signals through a mutex: `done()` is called at once and then
// every `poll_interval` of real time (the monotonic clock) until it holds or `real_timeout` passed.
// For what another process or a remote service does: a file it writes, an RPC's answer.
[[nodiscard]] absl::Status PollFor(absl::Duration real_timeout, absl::Duration poll_interval,
                                   absl::string_view awaited, const std::function<bool()>& done,
                                   const std::function<std::string()>& last_seen);

// The message of a wait that timed out: "waited <waited> for <awaited>; last seen: <seen>".
absl::Status WaitTimedOut(absl::Duration waited, absl::string_view awaited, absl::string_view seen);

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_AWAIT_H_
