// The shard store's admission and throughput flags, shared by every binary that serves the
// store (shard_store_server, `tributary serve`), so that each main applies them in one line:
//
//   --max_pending_puts=1024        PutRecords calls held by the put threads (waiting or running)
//   --max_pending_put_mb=256       and the bytes they hold; past either a call is refused at
//                                  once with RESOURCE_EXHAUSTED ("retry after N ms")
//   --max_client_put_share=0.5     the share of those bounds one client (principal, else
//                                  connection) may hold; its waiting calls take turns
//   --max_put_queue_delay_ms=100   the longest a new PutRecords call may expect to wait for a
//                                  put thread (waiting calls / threads x mean call time)
//   --put_threads=0                threads running PutRecords calls (0: 8, or 64 with --log)
//   --max_subscriptions=20000      live SubscribeToShard calls; past it a new one is refused
//   --log_ordered_reads=true       with --log=nats://, sequential reads from JetStream ordered
//                                  consumers (false: a direct get per message)
//   --memory_budget_mb=0           bytes requests in flight may hold in the whole process (put
//                                  payloads, GetRecords replies, the AWS front door's bodies);
//                                  past it requests are refused, never OOM. 0: off; else ≥ 16
//   --kinesis_shard_limits=false   Kinesis's per-shard limits: writes 1 MiB/s and 1,000
//                                  records/s, reads 2 MiB/s and 5 GetRecords calls/s
//   --max_concurrent_streams=0     calls one HTTP/2 connection may have open at the gRPC
//                                  server (GRPC_ARG_MAX_CONCURRENT_STREAMS); more wait in the
//                                  client's transport instead of costing the server a call. 0: off
#ifndef TRIBUTARY_SHARD_STORE_STORE_FLAGS_H_
#define TRIBUTARY_SHARD_STORE_STORE_FLAGS_H_

#include "absl/status/status.h"
#include "common/grpc_server.h"
#include "shard_store/shard_store_node.h"

namespace tributary::shard_store {

// Checks the flags before anything is opened. Errors: INVALID_ARGUMENT naming the flag (a bound
// below 1, a memory budget between 1 and 15 MiB: too small for one GetRecords reply).
absl::Status CheckStoreFlags();

// Sets `options`' admission bounds, memory budget and (with --kinesis_shard_limits) the
// per-shard limits from the flags. Precondition: CheckStoreFlags() was OK.
void ApplyStoreFlags(ShardStoreNodeOptions& options);

// The gRPC server's limits from the flags (--max_concurrent_streams), for GrpcServer::Start.
// Precondition: CheckStoreFlags() was OK.
GrpcServerLimits StoreGrpcLimits();

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_STORE_FLAGS_H_
