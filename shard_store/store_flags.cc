#include "shard_store/store_flags.h"

#include "absl/strings/str_cat.h"
#include "gflags/gflags.h"

DEFINE_int32(max_pending_puts, 1024,
             "PutRecords calls the store's put threads hold at once (waiting or running); past "
             "it a call is refused at once with RESOURCE_EXHAUSTED.");
DEFINE_int64(max_pending_put_mb, 256,
             "MiB of PutRecords requests the store's put threads hold at once; past it a call "
             "is refused at once with RESOURCE_EXHAUSTED.");
DEFINE_double(max_client_put_share, 0.5,
              "The share of --max_pending_puts and --max_pending_put_mb one client (its "
              "principal, else its connection) may hold, in (0, 1]; past it its calls are "
              "refused while other clients still find room.");
DEFINE_int32(max_put_queue_delay_ms, 100,
             "The longest a new PutRecords call may expect to wait for a put thread (calls "
             "waiting / threads x the measured mean call time); past it the call is refused at "
             "once with RESOURCE_EXHAUSTED. 0: off.");
DEFINE_int32(put_threads, 0,
             "Threads that run PutRecords calls; 0: 8, or 64 with --log (JetStream: a call holds "
             "its thread while it waits for the log's acks, so the threads bound the calls a "
             "front-end has in flight, and with them how many calls share a shard's message; "
             "shard_store/NOTES.md \"Ingest over many shards\").");
DEFINE_bool(log_ordered_reads, true,
            "With --log=nats://: sequential reads (SubscribeToShard, GetRecords continuing where "
            "the last one stopped) from JetStream ordered consumers; false: by direct gets, a "
            "request per message (shard_store/NOTES.md, \"Sequential reads by ordered consumer\").");
DEFINE_int32(max_subscriptions, 20000,
             "Live SubscribeToShard calls (each holds at most one event); past it a new one is "
             "refused with RESOURCE_EXHAUSTED.");
DEFINE_int64(memory_budget_mb, 0,
             "MiB that requests in flight may hold in this process (put payloads, GetRecords "
             "replies, the AWS front door's request bodies); requests past it are refused with "
             "RESOURCE_EXHAUSTED / the AWS API's throttling error. 0: no budget; else >= 16.");
DEFINE_bool(kinesis_shard_limits, false,
            "Kinesis's per-shard throughput limits: writes 1 MiB/s and 1,000 records/s "
            "(ProvisionedThroughputExceededException per record), reads 2 MiB/s and 5 "
            "GetRecords calls/s (throttled calls), SubscribeToShard paced at 2 MiB/s. Off: "
            "only this machine's capacity limits.");

DEFINE_int32(max_concurrent_streams, 0,
             "Calls one HTTP/2 connection may have open at the gRPC server at once "
             "(GRPC_ARG_MAX_CONCURRENT_STREAMS); a client's further calls wait in its transport "
             "(bounded by their deadlines) instead of costing the server a call it would refuse. "
             "It bounds every call of the connection, SubscribeToShard streams too (a poller's "
             "subscriptions share a connection: set it above their number) and, on `tributary "
             "serve`, every service's. 0: gRPC's default (no bound).");

namespace tributary::shard_store {

absl::Status CheckStoreFlags() {
  if (FLAGS_max_pending_puts < 1) {
    return absl::InvalidArgumentError("--max_pending_puts: must be at least 1");
  }
  if (FLAGS_max_pending_put_mb < 1) {
    return absl::InvalidArgumentError("--max_pending_put_mb: must be at least 1");
  }
  if (!(FLAGS_max_client_put_share > 0 && FLAGS_max_client_put_share <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("--max_client_put_share=",
                                                   FLAGS_max_client_put_share,
                                                   ": must be in (0, 1]"));
  }
  if (FLAGS_max_put_queue_delay_ms < 0) {
    return absl::InvalidArgumentError("--max_put_queue_delay_ms: must be at least 0");
  }
  if (FLAGS_put_threads < 0 || FLAGS_put_threads > 1024) {
    return absl::InvalidArgumentError("--put_threads: must be in [0, 1024] (0: the default)");
  }
  if (FLAGS_max_subscriptions < 1) {
    return absl::InvalidArgumentError("--max_subscriptions: must be at least 1");
  }
  if (FLAGS_max_concurrent_streams < 0) {
    return absl::InvalidArgumentError("--max_concurrent_streams: must be at least 0");
  }
  if (FLAGS_memory_budget_mb < 0 || (FLAGS_memory_budget_mb > 0 && FLAGS_memory_budget_mb < 16)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--memory_budget_mb=", FLAGS_memory_budget_mb,
        ": must be 0 (no budget) or at least 16 (one GetRecords reply is up to 10 MiB)"));
  }
  return absl::OkStatus();
}

void ApplyStoreFlags(ShardStoreNodeOptions& options) {
  options.put_threads = FLAGS_put_threads;
  options.log_ordered_reads = FLAGS_log_ordered_reads;
  options.max_pending_puts = FLAGS_max_pending_puts;
  options.max_pending_put_bytes = FLAGS_max_pending_put_mb << 20;
  options.max_client_put_share = FLAGS_max_client_put_share;
  options.max_put_queue_delay = absl::Milliseconds(FLAGS_max_put_queue_delay_ms);
  options.max_subscriptions = FLAGS_max_subscriptions;
  options.memory_budget_bytes = FLAGS_memory_budget_mb << 20;
  if (FLAGS_kinesis_shard_limits) SetKinesisShardLimits(options.store);
}

GrpcServerLimits StoreGrpcLimits() {
  GrpcServerLimits limits;
  limits.max_concurrent_streams = FLAGS_max_concurrent_streams;
  return limits;
}

}  // namespace tributary::shard_store
