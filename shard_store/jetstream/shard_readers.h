// The ordered consumers JetStreamShardLog keeps for sequential reads of shards (issue 20: "ordered
// consumers filtered to the shard for GetRecords and SubscribeToShard; direct get for seeks,
// AT_TIMESTAMP and closed shards"). Why and how: ../NOTES.md, "Sequential reads by ordered
// consumer".
//
// A reader is cached under the position where the read that used it stopped: (stream id, shard,
// next sequence number). A read that starts exactly there takes it (Take) and puts it back
// under its own stopping position (Put); a read anywhere else (a seek) finds none. The first
// read at a position leaves a *hint* (a reader without a consumer): a second read continuing
// where the first stopped is sequential reading, and creates the consumer. Readers unused for
// `idle` are dropped, and the least recently used past `max_readers`.
//
// This class is the bookkeeping only (what is cached, creation backoff, counters); the log
// reads the messages. Thread-safe; a reader taken is used by one thread until it is put back.
// `clock` must outlive this object.
#ifndef TRIBUTARY_SHARD_STORE_JETSTREAM_SHARD_READERS_H_
#define TRIBUTARY_SHARD_STORE_JETSTREAM_SHARD_READERS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <tuple>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "nats/nats_client.h"

namespace tributary::shard_store::jetstream {

struct ShardReadersOptions {
  // A reader unused for this long is dropped (its consumer deleted).
  absl::Duration idle = absl::Seconds(30);
  // Readers kept at most (hints included); past it the least recently used is dropped.
  int max_readers = 1024;
  // After a consumer could not be created, no consumer is created for this long (reads use
  // direct gets meanwhile): creation needs the meta leader, which may be away for seconds.
  absl::Duration create_backoff = absl::Seconds(5);
};

// Counters since the log was made (for tests and operators).
struct ShardReadStats {
  int64_t consumers_created = 0;
  int64_t consumer_create_failures = 0;
  // Consumers given up: an error from the consumer, or reads in a row whose records only
  // direct gets found (a consumer the server dropped and libnats did not recreate yet).
  int64_t consumers_dropped = 0;
  // Messages read from consumers and by direct get (next-by-subject) in Read.
  int64_t consumer_messages = 0;
  int64_t direct_gets = 0;
};

class ShardReaders {
 public:
  struct Reader {
    // Null: a hint (one read stopped here; no consumer yet).
    std::unique_ptr<nats::SubjectReader> consumer;
    // A message taken from the consumer whose records at or after the cached position were not
    // all passed on (the read stopped inside it, or it lies above the read's upper bound).
    std::optional<nats::StoredMessage> held;
    // Reads in a row that found records by direct get which the consumer had not delivered.
    int misses = 0;
    // When the consumer was created or last delivered a message.
    MonotonicTime heard;
    MonotonicTime used;
  };

  ShardReaders(Clock& clock, ShardReadersOptions options);
  ~ShardReaders();
  ShardReaders(const ShardReaders&) = delete;
  ShardReaders& operator=(const ShardReaders&) = delete;

  // Removes and returns a reader cached for a read starting at `position` of the shard (one
  // with a consumer first); nullptr when none.
  std::unique_ptr<Reader> Take(uint64_t stream_id, uint32_t shard, uint64_t position);
  // Caches `reader` for the read that starts at `position`. A hint where a reader is already
  // cached is dropped. Drops idle readers and, past max_readers, the least recently used.
  void Put(uint64_t stream_id, uint32_t shard, uint64_t position, std::unique_ptr<Reader> reader);

  // Whether a consumer may be created now (no failed creation within create_backoff).
  bool MayCreate();
  // Records a creation's outcome (a failure starts the backoff).
  void Created(bool ok);
  void Dropped();
  void Count(int64_t consumer_messages, int64_t direct_gets);

  ShardReadStats stats();
  // Readers cached now, hints included.
  int size();

 private:
  using Key = std::tuple<uint64_t, uint32_t, uint64_t>;

  Clock& clock_;
  const ShardReadersOptions options_;
  absl::Mutex mu_;
  std::multimap<Key, std::unique_ptr<Reader>> readers_ ABSL_GUARDED_BY(mu_);
  MonotonicTime next_sweep_ ABSL_GUARDED_BY(mu_) = MonotonicTime::InfinitePast();
  MonotonicTime create_after_ ABSL_GUARDED_BY(mu_) = MonotonicTime::InfinitePast();
  ShardReadStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary::shard_store::jetstream

#endif  // TRIBUTARY_SHARD_STORE_JETSTREAM_SHARD_READERS_H_
