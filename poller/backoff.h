// Exponential backoff with full jitter: the wait before retry number n (0-based) is drawn
// uniformly from [0, min(max_delay, base_delay * 2^n)]. Deterministic for a given seed.
// Not thread-safe (each lane owns one).
#ifndef TRIBUTARY_POLLER_BACKOFF_H_
#define TRIBUTARY_POLLER_BACKOFF_H_

#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace tributary::poller {

struct BackoffOptions {
  absl::Duration base_delay = absl::Milliseconds(100);
  absl::Duration max_delay = absl::Seconds(30);
};

class Backoff {
 public:
  Backoff(BackoffOptions options, uint64_t seed);

  // The upper bound of the wait before retry `retry` (0-based): min(max, base * 2^retry).
  absl::Duration Ceiling(int64_t retry) const;
  // A wait drawn uniformly from [0, Ceiling(retry)], at millisecond granularity.
  absl::Duration Delay(int64_t retry);

 private:
  BackoffOptions options_;
  std::mt19937_64 rng_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_BACKOFF_H_
