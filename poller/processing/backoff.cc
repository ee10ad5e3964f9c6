#include "poller/processing/backoff.h"

namespace tributary::poller {

Backoff::Backoff(BackoffOptions options, uint64_t seed) : options_(options), rng_(seed) {}

absl::Duration Backoff::Ceiling(int64_t retry) const {
  absl::Duration ceiling = options_.base_delay;
  for (int64_t i = 0; i < retry && ceiling < options_.max_delay; ++i) ceiling *= 2;
  return ceiling < options_.max_delay ? ceiling : options_.max_delay;
}

absl::Duration Backoff::Delay(int64_t retry) {
  const int64_t ceiling_ms = absl::ToInt64Milliseconds(Ceiling(retry));
  if (ceiling_ms <= 0) return absl::ZeroDuration();
  std::uniform_int_distribution<int64_t> dist(0, ceiling_ms);
  return absl::Milliseconds(dist(rng_));
}

}  // namespace tributary::poller
