// ShardStoreNode: everything a process needs to serve tributary.v1.Streams from
// one data directory — the ShardStore, its gRPC service and the retention
// trimmer thread — built in one call so that shard_store_server and the
// all-in-one `tributary serve` binary (data in DIR/shard_store) wire it alike:
//
//   ASSIGN_OR_RETURN(auto node, ShardStoreNode::Create(options, RealClock::Get()));
//   services.push_back(node->service());
//
// Thread-safe. `clock` must outlive the node; shut the gRPC server down before
// destroying the node.
#ifndef TRIBUTARY_SHARD_STORE_SHARD_STORE_NODE_H_
#define TRIBUTARY_SHARD_STORE_SHARD_STORE_NODE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/memory_budget.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "shard_store/shard_store.h"
#include "shard_store/streams_service.h"

namespace tributary::nats {
class NatsClient;
}  // namespace tributary::nats
namespace tributary::etcd {
class EtcdClient;
}  // namespace tributary::etcd

namespace tributary::shard_store {

struct ShardStoreNodeOptions {
  ShardStoreOptions store;
  // How often the retention trimmer runs; zero disables the thread (tests call
  // store().TrimExpiredRecords()).
  absl::Duration trim_period = absl::Minutes(1);
  // Threads that read and send SubscribeToShard events.
  int dispatch_threads = 2;
  // The largest SubscribeToShard event, in bytes of records.
  int64_t max_event_bytes = StreamsService::kMaxEventBytes;
  // An idle subscription gets an event this often (by `clock`); zero disables.
  absl::Duration keep_alive_interval = absl::Seconds(5);
  // Where the records go (issue 20): empty for the store's RocksDB database, or
  // "nats://HOST:PORT[,HOST:PORT...]" for NATS JetStream (cluster mode; the store then keeps
  // only stream metadata locally). `store.log` is set by Create from this.
  std::string log;
  // JetStream: copies of every record (the cluster's size at most; 1 for a single server).
  int log_replicas = 3;
  // JetStream: sequential reads (GetRecords continuing where the last one stopped,
  // SubscribeToShard) from ordered consumers; false: every read by direct gets
  // (jetstream::JetStreamShardLogOptions::ordered_reads).
  bool log_ordered_reads = true;
  // JetStream: the names of this store's streams (`<prefix>_<stream id>`): one prefix per
  // installation sharing the NATS cluster, and a new one for a fresh data directory (stream ids
  // restart at 1; see NOTES.md). Letters, digits and '-'.
  std::string log_name_prefix = "trib";
  // Cluster mode (issues 19/20): the etcd members (etcd/etcd_url.h) that hold the stream
  // metadata and lineage, under `etcd_prefix`, so that several nodes over one etcd and one
  // JetStream are interchangeable front-ends. Requires `log` (nats://): INVALID_ARGUMENT
  // otherwise. Empty: the metadata in the store's RocksDB.
  std::vector<std::string> etcd_endpoints;
  std::string etcd_prefix = "/tributary/store/";
  // Threads that run PutRecords calls; 0: kPutThreads, or kLogPutThreads with `log` (a call
  // holds its thread while JetStream acknowledges it, so the threads bound the calls in flight
  // and with them how many calls share a shard's message: BENCHMARKS.md Run 34).
  int put_threads = 0;
  static constexpr int kPutThreads = 8;
  static constexpr int kLogPutThreads = 64;
  // The put threads these options give (put_threads, or its default for `log`).
  int EffectivePutThreads() const {
    if (put_threads > 0) return put_threads;
    return log.empty() ? kPutThreads : kLogPutThreads;
  }
  // Admission control of the service (StreamsServiceOptions, issue 22).
  int max_pending_puts = 1024;
  int64_t max_pending_put_bytes = int64_t{256} << 20;
  double max_client_put_share = 0.5;
  absl::Duration max_put_queue_delay = absl::Milliseconds(100);
  int max_subscriptions = 20000;
  // The process's memory budget in bytes (`--memory_budget_mb`); 0: none. The node owns the
  // MemoryBudget (memory_budget()), which other servers of the process (the AWS front door)
  // share.
  int64_t memory_budget_bytes = 0;
};

// The servers of a --log=nats://... address: "nats://a:1,b:2" → {"nats://a:1", "nats://b:2"}.
// Errors: INVALID_ARGUMENT for another scheme or an empty or malformed server.
absl::StatusOr<std::vector<std::string>> ParseNatsLogAddress(const std::string& log);

class ShardStoreNode {
 public:
  // Opens the store and starts the trimmer. Errors: as ShardStore::Create.
  static absl::StatusOr<std::unique_ptr<ShardStoreNode>> Create(
      const ShardStoreNodeOptions& options, Clock& clock);
  ~ShardStoreNode();

  ShardStore& store() { return *store_; }
  grpc::Service* service() { return service_.get(); }
  StreamsService& streams_service() { return *service_; }
  // The process's memory budget (unlimited when memory_budget_bytes was 0); lives as long as
  // the node.
  MemoryBudget& memory_budget() { return *memory_budget_; }

 private:
  ShardStoreNode() = default;
  std::unique_ptr<MemoryBudget> memory_budget_;
  // Declared before the store: the JetStream log and the etcd metadata (held by the store) use
  // the clients.
  std::unique_ptr<nats::NatsClient> nats_;
  std::unique_ptr<etcd::EtcdClient> etcd_;
  std::unique_ptr<ShardStore> store_;
  std::unique_ptr<StreamsService> service_;
  std::unique_ptr<RetentionTrimmer> trimmer_;
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_SHARD_STORE_NODE_H_
