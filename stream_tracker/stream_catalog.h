// StreamCatalog: what the stream tracker needs to know about streams (the shard store's view).
//
// A narrow seam with two implementations: RemoteStreamCatalog (the Streams gRPC service through
// ShardStoreClient) and testing::FakeStreamCatalog (in memory, for unit tests).
#ifndef TRIBUTARY_STREAM_TRACKER_STREAM_CATALOG_H_
#define TRIBUTARY_STREAM_TRACKER_STREAM_CATALOG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/streams.pb.h"

namespace tributary::stream_tracker {

// A cheap look at a stream's shard set (see StreamCatalog::ProbeShardSet).
struct ShardSetProbe {
  absl::Time created;            // the stream's creation time: a recreated stream has a new one
  int open_shard_count = 0;      // shards open now
  bool has_shard_after = false;  // a shard newer than the probe's `after_shard_id` exists
};

// Implementations are thread-safe.
class StreamCatalog {
 public:
  virtual ~StreamCatalog() = default;

  // OK when stream `stream_name` exists. Errors: NOT_FOUND when it does not; UNAVAILABLE /
  // DEADLINE_EXCEEDED when the shard store cannot be reached.
  virtual absl::Status CheckStreamExists(const std::string& stream_name) = 0;

  // Every retained shard of the stream (open and closed, trimmed ones excluded), in shard id
  // order, all pages. A closed shard has sequence_number_range.ending_sequence_number set.
  // Errors: NOT_FOUND when the stream does not exist; UNAVAILABLE / DEADLINE_EXCEEDED.
  virtual absl::StatusOr<std::vector<v1::Shard>> ListShards(const std::string& stream_name) = 0;

  // The ids of the retained shards that were open at some time at or after `time` (Kinesis's
  // FROM_TIMESTAMP shard filter: open now, or closed at or after `time`), in shard id order.
  // Times are the shard store's. Errors: as ListShards.
  virtual absl::StatusOr<std::vector<std::string>> ListShardIdsOpenFrom(
      const std::string& stream_name, absl::Time time) = 0;

  // Two cheap calls instead of a full listing: the stream's creation time and open shard count
  // (DescribeStreamSummary), and whether any shard with an id after `after_shard_id` exists
  // (ListShards with the AFTER_SHARD_ID filter and one result). Shard ids are never reused within
  // a stream and every split or merge creates new ones, so an unchanged (created,
  // open_shard_count, newest id) means no shard was added, closed or reopened since; only a
  // retention trim (a closed shard leaving) goes unseen. `after_shard_id` empty: any shard counts.
  // Errors: as ListShards.
  virtual absl::StatusOr<ShardSetProbe> ProbeShardSet(const std::string& stream_name,
                                                      const std::string& after_shard_id) = 0;
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_STREAM_CATALOG_H_
