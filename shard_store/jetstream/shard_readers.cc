#include "shard_store/jetstream/shard_readers.h"

#include <utility>
#include <vector>

namespace tributary::shard_store::jetstream {
namespace {

// Idle readers are looked for at most this often (a scan of the cache).
constexpr absl::Duration kSweepPeriod = absl::Seconds(1);

}  // namespace

ShardReaders::ShardReaders(Clock& clock, ShardReadersOptions options)
    : clock_(clock), options_(options) {}

ShardReaders::~ShardReaders() = default;

std::unique_ptr<ShardReaders::Reader> ShardReaders::Take(uint64_t stream_id, uint32_t shard,
                                                         uint64_t position) {
  absl::MutexLock lock(&mu_);
  auto [begin, end] = readers_.equal_range(Key(stream_id, shard, position));
  if (begin == end) return nullptr;
  auto best = begin;
  for (auto it = begin; it != end; ++it) {
    if (it->second->consumer != nullptr) {
      best = it;
      break;
    }
  }
  std::unique_ptr<Reader> reader = std::move(best->second);
  readers_.erase(best);
  return reader;
}

void ShardReaders::Put(uint64_t stream_id, uint32_t shard, uint64_t position,
                       std::unique_ptr<Reader> reader) {
  // Consumers are deleted (an unsubscribe) outside the lock.
  std::vector<std::unique_ptr<Reader>> dropped;
  {
    absl::MutexLock lock(&mu_);
    const MonotonicTime now = clock_.MonotonicNow();
    reader->used = now;
    const Key key(stream_id, shard, position);
    if (reader->consumer == nullptr && readers_.count(key) > 0) {
      dropped.push_back(std::move(reader));  // a hint where a reader waits already
    } else {
      readers_.emplace(key, std::move(reader));
    }
    if (now >= next_sweep_) {
      next_sweep_ = now + kSweepPeriod;
      for (auto it = readers_.begin(); it != readers_.end();) {
        if (now - it->second->used > options_.idle) {
          if (it->second->consumer != nullptr) ++stats_.consumers_dropped;
          dropped.push_back(std::move(it->second));
          it = readers_.erase(it);
        } else {
          ++it;
        }
      }
    }
    while (static_cast<int>(readers_.size()) > options_.max_readers) {
      auto oldest = readers_.begin();
      for (auto it = readers_.begin(); it != readers_.end(); ++it) {
        if (it->second->used < oldest->second->used) oldest = it;
      }
      if (oldest->second->consumer != nullptr) ++stats_.consumers_dropped;
      dropped.push_back(std::move(oldest->second));
      readers_.erase(oldest);
    }
  }
}

bool ShardReaders::MayCreate() {
  absl::MutexLock lock(&mu_);
  return clock_.MonotonicNow() >= create_after_;
}

void ShardReaders::Created(bool ok) {
  absl::MutexLock lock(&mu_);
  if (ok) {
    ++stats_.consumers_created;
  } else {
    ++stats_.consumer_create_failures;
    create_after_ = clock_.MonotonicNow() + options_.create_backoff;
  }
}

void ShardReaders::Dropped() {
  absl::MutexLock lock(&mu_);
  ++stats_.consumers_dropped;
}

void ShardReaders::Count(int64_t consumer_messages, int64_t direct_gets) {
  absl::MutexLock lock(&mu_);
  stats_.consumer_messages += consumer_messages;
  stats_.direct_gets += direct_gets;
}

ShardReadStats ShardReaders::stats() {
  absl::MutexLock lock(&mu_);
  return stats_;
}

int ShardReaders::size() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(readers_.size());
}

}  // namespace tributary::shard_store::jetstream
