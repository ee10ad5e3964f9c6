// Batcher: forms the batches of one lane from the records routed to it.
//
// A batch goes out (TakeReady returns it) when any of these holds:
//   - it holds `batch_size` records;
//   - one more record would take the invoke payload over the cap (6 MiB by default);
//   - `window` has passed since the first buffered record was added (the batching window);
//   - `window` is zero and any record is buffered (a batch goes as soon as records are there,
//     taking what is buffered, up to the size and the cap);
//   - the caller asks for a flush (the shard has ended: nothing more can arrive).
// A record whose size alone is over the cap still goes, alone.
//
// Groups (tumbling windows): every record is added with a group number, and a batch never mixes
// groups: it ends before the first record of another group, and a batch followed by a record of
// another group is full (due at once), since nothing more of its group can follow.
//
// Payload sizes are counted conservatively with InvokePayloadBytes (the record's serialized
// size plus a fixed per-record overhead), against a cap that reserves room for the request's
// own fields, so a batch that fits here always fits in a 6 MiB InvokeRequest.
//
// Not thread-safe: the owner (a lane of the ShardProcessor) serializes calls.
#ifndef TRIBUTARY_POLLER_PROCESSING_BATCHER_H_
#define TRIBUTARY_POLLER_PROCESSING_BATCHER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "proto/streams.pb.h"

namespace tributary::poller {

// The largest InvokeRequest a batch may make, in bytes (AWS Lambda's 6 MiB invoke payload).
inline constexpr int64_t kMaxInvokePayloadBytes = 6 << 20;
// Bytes kept free for the request's own fields (mapping uuid, stream name, shard id).
inline constexpr int64_t kInvokeRequestOverheadBytes = 1024;
// Bytes added to every record for its field tag and length prefix in the request.
inline constexpr int64_t kPerRecordOverheadBytes = 16;

// How many bytes `record` adds to an InvokeRequest, rounded up: its serialized size (data,
// partition key, sequence number, timestamp) plus kPerRecordOverheadBytes.
int64_t InvokePayloadBytes(const v1::Record& record);

class Batcher {
 public:
  // `batch_size` >= 1; `window` >= 0; `max_payload_bytes` is the cap a batch's records may use
  // (default: 6 MiB minus the request overhead).
  Batcher(int batch_size, absl::Duration window,
          int64_t max_payload_bytes = kMaxInvokePayloadBytes - kInvokeRequestOverheadBytes);

  // Changes the size and window for batches formed from now on. Buffered records stay.
  void Reconfigure(int batch_size, absl::Duration window);
  // The same, also changing the payload cap.
  void Reconfigure(int batch_size, absl::Duration window, int64_t max_payload_bytes);

  // Buffers `record`, added at `now` (monotonic: the window is a duration), in `group`. Records
  // must be added in shard order.
  void Add(v1::Record record, MonotonicTime now, int64_t group = 0);

  // The group of the first buffered record, or nullopt when nothing is buffered.
  std::optional<int64_t> FrontGroup() const;

  // Removes and returns the next batch when one is due at `now` (see the header comment), or
  // nullopt. With `flush`, any buffered records are due regardless of the window. The returned
  // batch is never empty and keeps the order of Add.
  std::optional<std::vector<v1::Record>> TakeReady(MonotonicTime now, bool flush = false);

  // When the window of the current first record ends (the next time TakeReady may return a
  // batch without more records arriving), or nullopt when nothing is buffered.
  std::optional<MonotonicTime> WindowDeadline() const;

  // Removes the buffered records `pred` holds for and returns them in order (per-key isolation
  // takes a parked key's records out of the lane).
  std::vector<v1::Record> Extract(const std::function<bool(const v1::Record&)>& pred);

  bool empty() const { return buffered_.empty(); }
  size_t size() const { return buffered_.size(); }

 private:
  struct Buffered {
    v1::Record record;
    int64_t bytes;
    MonotonicTime added;
    int64_t group;
  };

  // How many records from the front make the next batch, ignoring the window.
  size_t NextBatchCount() const;

  int batch_size_;
  absl::Duration window_;
  int64_t max_payload_bytes_;
  std::deque<Buffered> buffered_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_PROCESSING_BATCHER_H_
