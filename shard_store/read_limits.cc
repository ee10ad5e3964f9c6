#include "shard_store/read_limits.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace tributary::shard_store {

void ReadLimits::RefillLocked(Bucket& b, MonotonicTime now) {
  const double elapsed =
      b.at == MonotonicTime::InfinitePast() ? 1e9 : absl::ToDoubleSeconds(now - b.at);
  if (elapsed <= 0) return;
  b.at = now;
  if (calls_rate_ > 0) b.calls = std::min(calls_rate_, b.calls + elapsed * calls_rate_);
  if (bytes_rate_ > 0) b.bytes = std::min(bytes_rate_, b.bytes + elapsed * bytes_rate_);
}

absl::Duration ReadLimits::DelayLocked(const Bucket& b) const {
  double seconds = 0;
  if (calls_rate_ > 0 && b.calls < 1) seconds = std::max(seconds, (1 - b.calls) / calls_rate_);
  if (bytes_rate_ > 0 && b.bytes <= 0) seconds = std::max(seconds, (1 - b.bytes) / bytes_rate_);
  return absl::Milliseconds(std::ceil(seconds * 1000));
}

absl::Status ReadLimits::AdmitCall(uint64_t stream_id, uint32_t shard_index,
                                   absl::string_view shard_id, MonotonicTime now) {
  if (!enabled()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  Bucket& b = buckets_[{stream_id, shard_index}];
  RefillLocked(b, now);
  const bool over_calls = calls_rate_ > 0 && b.calls < 1;
  const bool over_bytes = bytes_rate_ > 0 && b.bytes <= 0;
  if (over_calls || over_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "ProvisionedThroughputExceededException: rate exceeded for shard ", shard_id, " (",
        over_calls ? absl::StrCat(calls_rate_, " GetRecords calls per second")
                   : absl::StrCat(bytes_rate_ / (1 << 20), " MiB read per second"),
        " per shard); retry after ", absl::ToInt64Milliseconds(DelayLocked(b)), " ms"));
  }
  if (calls_rate_ > 0) b.calls -= 1;
  return absl::OkStatus();
}

void ReadLimits::Charge(uint64_t stream_id, uint32_t shard_index, int64_t bytes) {
  if (bytes_rate_ <= 0) return;
  absl::MutexLock lock(&mu_);
  buckets_[{stream_id, shard_index}].bytes -= static_cast<double>(bytes);
}

}  // namespace tributary::shard_store
