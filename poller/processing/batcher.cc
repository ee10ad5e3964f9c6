#include "poller/processing/batcher.h"

#include <utility>

namespace tributary::poller {

int64_t InvokePayloadBytes(const v1::Record& record) {
  return static_cast<int64_t>(record.ByteSizeLong()) + kPerRecordOverheadBytes;
}

Batcher::Batcher(int batch_size, absl::Duration window, int64_t max_payload_bytes)
    : batch_size_(batch_size < 1 ? 1 : batch_size),
      window_(window),
      max_payload_bytes_(max_payload_bytes) {}

void Batcher::Reconfigure(int batch_size, absl::Duration window) {
  batch_size_ = batch_size < 1 ? 1 : batch_size;
  window_ = window;
}

void Batcher::Reconfigure(int batch_size, absl::Duration window, int64_t max_payload_bytes) {
  Reconfigure(batch_size, window);
  max_payload_bytes_ = max_payload_bytes;
}

void Batcher::Add(v1::Record record, MonotonicTime now, int64_t group) {
  const int64_t bytes = InvokePayloadBytes(record);
  buffered_.push_back(Buffered{std::move(record), bytes, now, group});
}

std::optional<int64_t> Batcher::FrontGroup() const {
  if (buffered_.empty()) return std::nullopt;
  return buffered_.front().group;
}

size_t Batcher::NextBatchCount() const {
  size_t count = 0;
  int64_t bytes = 0;
  for (const Buffered& b : buffered_) {
    if (count == static_cast<size_t>(batch_size_)) break;
    if (b.group != buffered_.front().group) break;
    // The first record always goes, even when it alone is over the cap.
    if (count > 0 && bytes + b.bytes > max_payload_bytes_) break;
    bytes += b.bytes;
    ++count;
  }
  return count;
}

std::optional<std::vector<v1::Record>> Batcher::TakeReady(MonotonicTime now, bool flush) {
  if (buffered_.empty()) return std::nullopt;
  const size_t count = NextBatchCount();
  // The batch is full (by count or by bytes) when it stopped before the end of the buffer, or
  // when it reached the batch size exactly.
  const bool full = count < buffered_.size() || count == static_cast<size_t>(batch_size_);
  const bool window_over = now >= buffered_.front().added + window_;
  if (!full && !window_over && !flush) return std::nullopt;
  std::vector<v1::Record> batch;
  batch.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    batch.push_back(std::move(buffered_.front().record));
    buffered_.pop_front();
  }
  return batch;
}

std::vector<v1::Record> Batcher::Extract(const std::function<bool(const v1::Record&)>& pred) {
  std::vector<v1::Record> out;
  std::deque<Buffered> kept;
  for (Buffered& b : buffered_) {
    if (pred(b.record)) {
      out.push_back(std::move(b.record));
    } else {
      kept.push_back(std::move(b));
    }
  }
  buffered_ = std::move(kept);
  return out;
}

std::optional<MonotonicTime> Batcher::WindowDeadline() const {
  if (buffered_.empty()) return std::nullopt;
  return buffered_.front().added + window_;
}

}  // namespace tributary::poller
