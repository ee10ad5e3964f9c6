// Client-side adaptive throttling (the Google SRE book, "Handling Overload"): a
// client that sees its server refuse calls starts refusing some of its own calls
// locally, so that the excess never reaches the server's call machinery (a gRPC
// call costs the server its HTTP/2 frames, metadata and trailers even when our
// handler refuses it at once: 17-25% of an accepted 100-record PutRecords).
//
// Over a sliding window of the last `window` (on the injected monotonic clock)
// the throttle counts
//   requests: calls the application attempted, including those refused locally;
//   accepts:  calls the server did not refuse for overload.
// A new call is refused locally with probability
//   min(max_rejection_probability, max(0, (requests - K * accepts) / (requests + 1))).
// While the server accepts everything, requests <= K * accepts for any K >= 1,
// so nothing is refused locally. When the server accepts only a share a of what
// it is sent, the client lets through about K * accepts calls: the server still
// sees (and refuses) some excess — which keeps the estimate honest — but only
// (K - 1) * accepts of it instead of all of it. K = 2 is the book's default;
// lower K refuses more aggressively (less wasted server work, slower to notice
// the server has room again). AWS SDKs' "adaptive" retry mode is the same idea
// with a token bucket.
//
// Example (K = 2): in the window 100 calls were attempted and the server
// accepted 30. The next call is refused locally with probability
// (100 - 60) / 101 = 0.40. After the server accepts again, accepts grow and the
// probability falls to 0 once accepts >= requests / 2; old counts leave the
// window after `window`.
//
// Thread-safe. The clock must outlive the throttle.
#ifndef TRIBUTARY_COMMON_ADAPTIVE_THROTTLE_H_
#define TRIBUTARY_COMMON_ADAPTIVE_THROTTLE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace tributary {

struct AdaptiveThrottleOptions {
  // The multiplier K (>= 1): how many calls per accepted one the client keeps
  // sending when the server refuses. Values below 1 are taken as 1.
  double k = 2.0;
  // How far back requests and accepts are counted (> 0), in `buckets` slices
  // (>= 1): a count leaves the window whole slices at a time. Once the server
  // has room again, local rejections fade over one to a few windows (calls
  // refused locally count as requests, so the probability p of one window
  // becomes about 1 - K * (1 - p) in the next: 1 - p grows K-fold a window),
  // so the window sets the recovery time. The SRE book uses two minutes for
  // long-lived backends. With 1 s the overload bench saw the last local
  // rejection 0.4-4.9 s after a 4x overload ended (3.8-4.9 s with 2 s;
  // BENCHMARKS.md Run 33), and a busy producer still has hundreds of calls in
  // a window.
  absl::Duration window = absl::Seconds(1);
  int buckets = 10;
  // The rejection probability's ceiling (Envoy's admission control filter has
  // one too, 0.8): at least 1 - this share of calls still reaches a server
  // that refused everything, so that its recovery is noticed within about two
  // windows rather than after the local rejections (which count as requests)
  // have aged out.
  double max_rejection_probability = 0.9;
  // Uniform random numbers in [0, 1), for the rejection draw. Empty: a
  // generator seeded from std::random_device. Called with the throttle's lock
  // held; it need not be thread-safe.
  std::function<double()> uniform;
};

class AdaptiveThrottle {
 public:
  AdaptiveThrottle(Clock& clock, AdaptiveThrottleOptions options = {});
  AdaptiveThrottle(const AdaptiveThrottle&) = delete;
  AdaptiveThrottle& operator=(const AdaptiveThrottle&) = delete;

  // Called before a call is sent; counts it as a request. Returns OK when the
  // call may go to the server (the caller then must report its outcome with
  // Done()), or RESOURCE_EXHAUSTED "throttled client-side ..." when it is
  // refused locally (nothing else to report).
  absl::Status Admit();

  // Reports the outcome of a call Admit() let through: `server_refused` when
  // the server refused it for overload (RESOURCE_EXHAUSTED); any other outcome,
  // success or not, counts as accepted (the server did the work).
  void Done(bool server_refused);
  // The same, classifying a call's status: only RESOURCE_EXHAUSTED counts as a
  // refusal.
  void Done(const absl::Status& status) {
    Done(status.code() == absl::StatusCode::kResourceExhausted);
  }

  // The probability the next Admit() refuses, from the counts in the window now.
  double RejectionProbability();
  // Calls refused locally since construction.
  int64_t local_rejections();

 private:
  struct Bucket {
    int64_t slice = -1;  // which slice of time (MonotonicNow / slice length) it counts
    int64_t requests = 0;
    int64_t accepts = 0;
  };
  // The bucket of the current slice, cleared if it held an older one.
  Bucket& Current() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  double ProbabilityLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock& clock_;
  const double k_;
  const double max_p_;
  const absl::Duration slice_;
  absl::Mutex mu_;
  std::function<double()> uniform_ ABSL_GUARDED_BY(mu_);
  std::vector<Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  int64_t local_rejections_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_ADAPTIVE_THROTTLE_H_
