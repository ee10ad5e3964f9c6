#include "common/adaptive_throttle.h"

#include <algorithm>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"

namespace tributary {
namespace {

std::function<double()> SeededUniform() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

AdaptiveThrottle::AdaptiveThrottle(Clock& clock, AdaptiveThrottleOptions options)
    : clock_(clock),
      k_(std::max(1.0, options.k)),
      max_p_(std::clamp(options.max_rejection_probability, 0.0, 1.0)),
      slice_(std::max(absl::Nanoseconds(1),
                      options.window / std::max(1, options.buckets))),
      uniform_(options.uniform ? std::move(options.uniform) : SeededUniform()),
      buckets_(std::max(1, options.buckets)) {}

AdaptiveThrottle::Bucket& AdaptiveThrottle::Current() {
  absl::Duration remainder;
  const int64_t slice =
      absl::IDivDuration(clock_.MonotonicNow().SinceOrigin(), slice_, &remainder);
  Bucket& bucket = buckets_[static_cast<size_t>(slice) % buckets_.size()];
  if (bucket.slice != slice) bucket = Bucket{slice, 0, 0};
  return bucket;
}

double AdaptiveThrottle::ProbabilityLocked() {
  const int64_t now = Current().slice;
  const int64_t oldest = now - static_cast<int64_t>(buckets_.size()) + 1;
  double requests = 0, accepts = 0;
  for (const Bucket& b : buckets_) {
    if (b.slice >= oldest && b.slice <= now) {
      requests += b.requests;
      accepts += b.accepts;
    }
  }
  return std::clamp((requests - k_ * accepts) / (requests + 1), 0.0, max_p_);
}

absl::Status AdaptiveThrottle::Admit() {
  absl::MutexLock lock(&mu_);
  const double p = ProbabilityLocked();
  ++Current().requests;
  if (p <= 0 || uniform_() >= p) return absl::OkStatus();
  ++local_rejections_;
  return absl::ResourceExhaustedError(
      absl::StrCat("throttled client-side (adaptive throttling: the server refused many recent "
                   "calls; this call was not sent, rejection probability ",
                   static_cast<int>(p * 100), "%); retry after a backoff with jitter"));
}

void AdaptiveThrottle::Done(bool server_refused) {
  if (server_refused) return;
  absl::MutexLock lock(&mu_);
  ++Current().accepts;
}

double AdaptiveThrottle::RejectionProbability() {
  absl::MutexLock lock(&mu_);
  return ProbabilityLocked();
}

int64_t AdaptiveThrottle::local_rejections() {
  absl::MutexLock lock(&mu_);
  return local_rejections_;
}

}  // namespace tributary
