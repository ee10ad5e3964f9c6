// The web console's data: one JSON document (GET /api/overview) describing what an operator
// keeps an eye on, built from the services' public gRPC APIs only (Streams, EventSourceMappings,
// Leasing, Pollers, Tables) and, for the store's records/s, from the Prometheus text the process
// already exports. `tributary serve` passes in-process channels to its own gRPC server.
//
// The document (every rate in per second over the last ~10 s of samples, null until two samples
// exist; times RFC 3339; a section whose service failed is left empty and its error put under
// "errors"):
//   {"version": "0.1.0", "generated_at": "...", "actions_enabled": false,
//    "streams": [{"name", "status", "open_shards", "closed_shards", "retention_hours",
//                 "records_in_per_second", "records_out_per_second"}],
//    "mappings": [{"uuid", "stream", "function", "state", "enabled", "state_transition_reason",
//                  "last_processing_result", "last_error": null | {"kind", "message", "time",
//                  "shard"}, "records_per_second", "errors_per_second", "batch_size",
//                  "shards": [{"shard_id", "owner", "lease_counter", "checkpoint",
//                              "iterator_age_ms" (null: unknown), "iterator_age_history"
//                              ([ms, ...] oldest first, up to 60), "parked_keys" (per-key
//                              isolation; null: no poller reported the shard),
//                              "oldest_parked_age_ms" (null: none parked),
//                              "parked_keys_limit_reached", "expired", "assignable",
//                              "enabled"}]}],
//    "pollers": [{"id", "live", "capacity", "lease_count", "last_heartbeat",
//                 "leases": [{"mapping", "shard"}]}],
//    "tables": [{"name", "status" ("ACTIVE", "DELETING"), "billing_mode", "created",
//                "partition_key": {"name", "type"}, "sort_key": null | {"name", "type"},
//                "stream_enabled", "stream_view_type" (null when the stream is off),
//                "latest_stream": null (never had one) | {"arn", "label", "store_stream",
//                    "open_shards", "closed_shards" (null: the store stream is gone),
//                    "changes_per_second" (records in on the store stream),
//                    "mappings": [{"uuid", "function", "state"}] (those on the store stream)},
//                "older_streams": [{"arn", "label", "store_stream", "enabled", "disabled_at"
//                    (null while enabled), "open_shards", "closed_shards", "changes_per_second",
//                    "mappings"}] (the table's earlier streams, oldest first: DISABLED, readable
//                    for 24 h; same fields as latest_stream plus enabled/disabled_at)}],
//    "deleted_tables": [{"name", "partition_key", "sort_key", "streams": [as older_streams]}]
//               (tables deleted whose streams are still readable, from ListTableStreams),
//    "tables_truncated": false,
//    "errors": {"streams": "UNAVAILABLE: ...", ...}}
// Tables come from tributary.v1.Tables (ListTables, then DescribeTable per table); the store
// stream's shards from the streams section's ListShards (or one ListShards of its own when the
// streams section did not list it). Without a Tables channel, or from a server that does not
// serve tables (UNIMPLEMENTED), "tables" is null and "tables_note" says why. No item count: the
// Tables service does not track one (tables/NOTES.md). Older streams and deleted tables' streams
// come from one paged ListTableStreams (at most `max_table_streams`; "tables_truncated" beyond).
//
// Sampling: a document is built at most once per `min_refresh` (1 s); a request in between gets
// the cached one, so any number of open pages costs one round of RPCs a second. Rates and
// sparklines come from the samples those builds took: nothing is sampled while nobody watches.
//
// Thread-safe. The channels and the clock must outlive this object.
#ifndef TRIBUTARY_TOOLS_CONSOLE_OVERVIEW_H_
#define TRIBUTARY_TOOLS_CONSOLE_OVERVIEW_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "grpcpp/channel.h"
#include "proto/event_source_mappings.pb.h"
#include "proto/leasing.pb.h"

namespace tributary::console {

struct OverviewSources {
  std::shared_ptr<grpc::Channel> streams;   // tributary.v1.Streams
  std::shared_ptr<grpc::Channel> mappings;  // tributary.v1.EventSourceMappings
  std::shared_ptr<grpc::Channel> leasing;   // tributary.v1.Leasing
  // tributary.v1.Pollers of the pollers whose counters give the mappings' records/s and
  // errors/s (none: those rates are null).
  std::vector<std::shared_ptr<grpc::Channel>> pollers;
  // The Prometheus text with tributary_store_records_{in,out}_total (null: streams' rates are
  // null). Called on the requesting thread; must be thread-safe.
  std::function<std::string()> metrics_text;
  std::shared_ptr<grpc::Channel> tables;  // tributary.v1.Tables (null: "tables" is null)
  // tributary.v1.ShardCheckpoints (the tracker's) for the checkpoint-move action (null: the
  // action answers UNIMPLEMENTED).
  std::shared_ptr<grpc::Channel> checkpoints;
};

struct OverviewOptions {
  absl::Duration min_refresh = absl::Seconds(1);   // a newer request gets the cached document
  absl::Duration rate_window = absl::Seconds(10);  // rates span at least this much when they can
  int history_samples = 60;                        // samples kept per series (sparklines)
  absl::Duration rpc_timeout = absl::Seconds(5);   // each gRPC call's deadline
  bool actions_enabled = false;                    // what "actions_enabled" says
  int max_streams = 500;         // streams listed (more: "streams_truncated": true)
  int max_leases = 10000;        // leases listed (more: "leases_truncated": true)
  int max_tables = 500;          // tables described (more: "tables_truncated": true)
  int max_table_streams = 2000;  // table streams listed (more: "tables_truncated": true)
};

class Overview {
 public:
  Overview(OverviewSources sources, OverviewOptions options, Clock& clock);

  // The document above. Never fails as a whole: a failing service leaves its section empty and
  // its status under "errors".
  std::string Json();

  // Updates a mapping through EventSourceMappings.UpdateEventSourceMapping (enabled: the tracker
  // moves it through Enabling / Disabling) and drops the cached document. Errors: the tracker's
  // (NOT_FOUND for an unknown uuid, INVALID_ARGUMENT for an empty one, UNAVAILABLE...).
  absl::Status UpdateMapping(const v1::UpdateEventSourceMappingRequest& request);

  // Moves a shard's checkpoint through ShardCheckpoints.UpdateShardCheckpoint (fenced: the
  // owner is cut off, the next owner starts from the new position; leasing writes the AUDIT
  // line) and drops the cached document. Errors: UNIMPLEMENTED without a checkpoints channel;
  // else leasing's (NOT_FOUND: no such lease, INVALID_ARGUMENT: SHARD_END or a malformed
  // position, UNAVAILABLE...).
  absl::StatusOr<v1::UpdateShardCheckpointResponse> MoveCheckpoint(
      const v1::UpdateShardCheckpointRequest& request);

 private:
  struct Sample {
    MonotonicTime at;
    double value;
  };
  using Series = std::deque<Sample>;

  // Appends (at, value) to the series `key` (keeping options_.history_samples).
  void Record(const std::string& key, MonotonicTime at, double value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The counter's rate over the series `key`: from the newest sample back to the newest one at
  // least rate_window older (or the oldest); nullopt with fewer than two samples or after a
  // counter reset.
  std::optional<double> Rate(const std::string& key) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<double> History(const std::string& key) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  struct Fetched;  // what one round of RPCs returned (overview.cc)
  // The RPCs, without the lock.
  Fetched Fetch();
  // The tables and their latest streams' shards into `f` (after the streams section).
  void FetchTables(Fetched& f);
  // Every table stream (ListTableStreams, paged) into `f`: the described tables' older streams
  // and the streams of tables deleted since; their store streams' shards too.
  void FetchTableStreams(Fetched& f);
  // The open/closed shard counts of the store stream `stream` into f.table_stream_shards (from
  // the streams section when it listed it, else one ListShards; nothing when it is gone).
  void CountShards(Fetched& f, const std::string& stream);
  // Samples `fetched` and renders the document.
  std::string Render(const Fetched& fetched) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const OverviewSources sources_;
  const OverviewOptions options_;
  Clock& clock_;

  absl::Mutex mu_;  // never held across an RPC
  std::map<std::string, Series> series_ ABSL_GUARDED_BY(mu_);
  std::string cached_ ABSL_GUARDED_BY(mu_);
  std::optional<MonotonicTime> cached_at_ ABSL_GUARDED_BY(mu_);
};

// The value of the counter or gauge sample `name{label="value"}` in Prometheus text (the whole
// label set must be exactly that one label), or nullopt. For the store's per-stream counters.
std::optional<double> PrometheusSample(const std::string& text, const std::string& name,
                                       const std::string& label, const std::string& value);

}  // namespace tributary::console

#endif  // TRIBUTARY_TOOLS_CONSOLE_OVERVIEW_H_
