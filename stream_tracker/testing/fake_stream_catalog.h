// FakeStreamCatalog: an in-memory StreamCatalog for unit tests, with the resharding verbs tests
// need (split, merge, close, trim, delete) and fault injection.
//
// Kinesis's FROM_TIMESTAMP filter is served from the times (on the given clock) at which shards
// closed. Shards are named as Kinesis names them ("shardId-000000000007", numbered per stream in
// creation order); hash-key ranges divide the 128-bit space; sequence numbers come from one counter
// per stream (a shard's starting sequence number is the counter at its creation, its ending one the
// counter at its close). Thread-safe. Test bugs (an unknown stream or shard given to a verb) are
// CHECK failures.
#ifndef TRIBUTARY_STREAM_TRACKER_TESTING_FAKE_STREAM_CATALOG_H_
#define TRIBUTARY_STREAM_TRACKER_TESTING_FAKE_STREAM_CATALOG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "stream_tracker/stream_catalog.h"

namespace tributary::stream_tracker::testing {

class FakeStreamCatalog : public StreamCatalog {
 public:
  // Shards are stamped with `clock`'s time when they open and close. `clock` must outlive this.
  explicit FakeStreamCatalog(Clock& clock) : clock_(clock) {}

  absl::Status CheckStreamExists(const std::string& stream_name) override;
  absl::StatusOr<std::vector<v1::Shard>> ListShards(const std::string& stream_name) override;
  absl::StatusOr<std::vector<std::string>> ListShardIdsOpenFrom(const std::string& stream_name,
                                                                absl::Time time) override;
  absl::StatusOr<ShardSetProbe> ProbeShardSet(const std::string& stream_name,
                                              const std::string& after_shard_id) override;

  // Creates `stream_name` with `shard_count` open shards, created at the clock's time; returns
  // their ids (a stream created again after DeleteStream reuses them, as Kinesis does).
  std::vector<std::string> CreateStream(const std::string& stream_name, int shard_count);
  // Deletes the stream and its shards.
  void DeleteStream(const std::string& stream_name);
  // Closes open shard `shard_id` and opens two children splitting its hash range in half;
  // returns the children's ids (lower half first).
  std::vector<std::string> SplitShard(const std::string& stream_name, const std::string& shard_id);
  // Closes two adjacent open shards and opens one child covering both ranges; returns its id.
  std::string MergeShards(const std::string& stream_name, const std::string& shard_id,
                          const std::string& adjacent_shard_id);
  // Closes an open shard without children (as if the stream stopped taking writes there).
  void CloseShard(const std::string& stream_name, const std::string& shard_id);
  // Removes a shard from listings, as retention does to a closed shard whose records expired.
  void TrimShard(const std::string& stream_name, const std::string& shard_id);

  // The next `count` calls (of either method) fail with `status`.
  void FailNextCalls(absl::Status status, int count = 1);
  // Calls of ListShards / ProbeShardSet so far.
  int list_shards_calls();
  int probe_calls();

 private:
  struct FakeShard {
    v1::Shard shard;
    absl::uint128 start;
    absl::uint128 end;
    absl::Time closed_at = absl::InfiniteFuture();  // when it closed; open: infinite future
  };
  struct FakeStream {
    absl::Time created;
    int next_shard_number = 0;
    uint64_t next_sequence = 1;
    std::map<std::string, FakeShard> shards;  // by id (creation order: ids are zero-padded)
  };

  absl::Status TakeFailure() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  FakeStream& StreamOrDie(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string AddShard(FakeStream& stream, absl::uint128 start, absl::uint128 end,
                       const std::string& parent, const std::string& adjacent_parent)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Close(FakeStream& stream, FakeShard& shard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock& clock_;
  absl::Mutex mu_;
  std::map<std::string, FakeStream> streams_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  int failures_left_ ABSL_GUARDED_BY(mu_) = 0;
  int list_shards_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int probe_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tributary::stream_tracker::testing

#endif  // TRIBUTARY_STREAM_TRACKER_TESTING_FAKE_STREAM_CATALOG_H_
