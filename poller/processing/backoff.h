// Exponential backoff with full jitter: the wait before retry number n (0-based) is drawn
// uniformly from [0, min(max_delay, base_delay * 2^n)]. Deterministic for a given seed.
// Not thread-safe (each lane owns one).
#ifndef TRIBUTARY_POLLER_PROCESSING_BACKOFF_H_
#define TRIBUTARY_POLLER_PROCESSING_BACKOFF_H_

#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace tributary::poller {

// SplitMix64: a 64-bit generator with 8 bytes of state (a lane owns two; std::mt19937_64 is
// 2.5 KB each, which at 10,000 shards × 10 lanes was 500 MB). A UniformRandomBitGenerator.
class SplitMix64 {
 public:
  using result_type = uint64_t;
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

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
  SplitMix64 rng_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_PROCESSING_BACKOFF_H_
