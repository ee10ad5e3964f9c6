// ReadLimits (internal to the store): per-shard token buckets for GetRecords, as Kinesis limits
// reads (ShardStoreOptions::shard_read_calls_per_second / shard_read_bytes_per_second; both 0:
// off and free). A call is admitted when the shard's calls bucket holds a token and its bytes
// bucket is not overdrawn; the reply's bytes are charged after the read and may overdraw it, so
// that one large reply throttles the shard's next calls until the rate has paid it back
// (Kinesis: "a GetRecords of 10 MiB ... subsequent calls within the next 5 seconds throw").
//
// Pure logic on monotonic readings the caller passes (the store's clock). Thread-safe (one
// lock; a call takes it twice, never across a read).
#ifndef TRIBUTARY_SHARD_STORE_READ_LIMITS_H_
#define TRIBUTARY_SHARD_STORE_READ_LIMITS_H_

#include <cstdint>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace tributary::shard_store {

class ReadLimits {
 public:
  ReadLimits(double calls_per_second, double bytes_per_second)
      : calls_rate_(calls_per_second), bytes_rate_(bytes_per_second) {}

  bool enabled() const { return calls_rate_ > 0 || bytes_rate_ > 0; }
  // Bytes per second a shard may be read at (0: unlimited).
  double bytes_per_second() const { return bytes_rate_; }

  // Takes a call token of shard (stream_id, shard_index) at `now`. Errors: RESOURCE_EXHAUSTED
  // "ProvisionedThroughputExceededException: ..." naming `shard_id` and the limit, with how long
  // until a call would be admitted ("retry after N ms").
  absl::Status AdmitCall(uint64_t stream_id, uint32_t shard_index, absl::string_view shard_id,
                         MonotonicTime now);
  // Charges `bytes` read by an admitted call.
  void Charge(uint64_t stream_id, uint32_t shard_index, int64_t bytes);

 private:
  struct Bucket {
    double calls = 0;
    double bytes = 0;
    MonotonicTime at = MonotonicTime::InfinitePast();  // the first refill fills it
  };
  void RefillLocked(Bucket& b, MonotonicTime now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration DelayLocked(const Bucket& b) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const double calls_rate_;  // calls per second, 0: unlimited
  const double bytes_rate_;  // bytes per second, 0: unlimited
  absl::Mutex mu_;
  absl::flat_hash_map<std::pair<uint64_t, uint32_t>, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_READ_LIMITS_H_
