// The end-to-end harness: real Tributary binaries as separate processes on 127.0.0.1 free
// ports with temporary data directories, plus, inside the test process, a recording function
// and a producer that remembers every acknowledged record.
//
// Threading: Cluster is driven by one test thread. RecordingFunction and Producer are
// thread-safe. Waits here are real time (they watch other processes); every wait is bounded.
#ifndef TRIBUTARY_TESTS_CLUSTER_H_
#define TRIBUTARY_TESTS_CLUSTER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/process.h"
#include "gtest/gtest.h"
#include "proto/function.grpc.pb.h"
#include "shard_store/shard_store_client.h"

namespace tributary::e2e {

// One record as the function saw it, in arrival order at the function.
struct Delivery {
  std::string shard_id;
  uint64_t sequence_number = 0;
  std::string partition_key;
  std::string data;
  // When the invocation reached the function (in this process), by the real clock's monotonic
  // reading: only durations are taken from it (failover time).
  MonotonicTime at;
  int64_t arrival_ms = 0;  // the record's approximate arrival timestamp
};

// A tumbling window's final invocation as the function saw it.
struct WindowClose {
  std::string shard_id;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t count = 0;  // records the window's state counted
  bool early = false;
  std::string key;  // the partition key of the window's first record (it names the lane)
};

// A tributary.v1.Function that records every delivery and succeeds. Under tumbling windows it
// counts each window's records in the state ({"count": "N", "key": first record's partition key})
// and records each final invocation.
class RecordingFunction final : public v1::Function::Service {
 public:
  grpc::Status Invoke(grpc::ServerContext* context, const v1::InvokeRequest* request,
                      v1::InvokeResponse* response) override;

  std::vector<Delivery> Deliveries() const;
  std::vector<WindowClose> WindowCloses() const;
  int64_t invocations() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<Delivery> deliveries_ ABSL_GUARDED_BY(mu_);
  std::vector<WindowClose> window_closes_ ABSL_GUARDED_BY(mu_);
  int64_t invocations_ ABSL_GUARDED_BY(mu_) = 0;
};

// An acknowledged record: where the store put it and what it was.
struct Acked {
  std::string partition_key;
  int64_t n = 0;  // the producer's per-key counter, 0, 1, 2, ...
  std::string shard_id;
  uint64_t sequence_number = 0;
};

// Writes numbered records ("key|n") over `keys` partition keys with PutRecords from one thread,
// retrying each unacknowledged record (so a key's records are acknowledged in order) until it
// is acknowledged or the producer is stopped. Keeps every acknowledgement. `endpoint` may be a
// comma-separated list of store front-ends (cluster mode): the producer writes to the first and
// moves to the next one in the list after each failed call (a test's failover of a producer).
class Producer {
 public:
  // Writes at most `records_per_second` (real time), so that a fault lands mid-load; calls
  // `endpoint` as `security` says.
  Producer(std::string stream_name, std::string endpoint, int keys, int records_per_call,
           int records_per_second, GrpcClientSecurity security = GrpcClientSecurity());
  ~Producer();

  // Starts writing until `total` records are acknowledged or Stop().
  void Start(int64_t total);
  void Stop();
  // Blocks (real time, at most `timeout`) until `count` records are acknowledged. A failure says
  // how many were, and how many calls failed.
  [[nodiscard]] ::testing::AssertionResult WaitForAcked(int64_t count, absl::Duration timeout);
  std::vector<Acked> AckedRecords() const;
  // When each call that acknowledged records returned, in order (the real clock's monotonic
  // reading, as Delivery::at): a write stall is a long gap between two.
  std::vector<MonotonicTime> AckTimes() const;
  int64_t acked_count() const;
  int64_t failed_calls() const { return failed_calls_.load(); }

 private:
  void Run(int64_t total);

  const std::string stream_name_;
  const std::string endpoint_;
  const int keys_;
  const int records_per_call_;
  const int records_per_second_;
  const GrpcClientSecurity security_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> failed_calls_{0};
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::vector<Acked> acked_ ABSL_GUARDED_BY(mu_);
  std::vector<MonotonicTime> ack_times_ ABSL_GUARDED_BY(mu_);
};

// The processes of a cluster. The second leasing and tracker replicas run in cluster mode only
// (ClusterOptions::coordination); kPoller2 with three pollers.
enum class Component {
  kShardStore,
  kLeasing,
  kStreamTracker,
  kPoller0,
  kPoller1,
  kLeasing1,
  kStreamTracker1,
  kPoller2,
  kShardStore1,  // the second store front-end (ClusterOptions::store_front_ends)
};
const char* ComponentName(Component c);

struct ClusterOptions {
  int pollers = 2;  // 1 to 3
  int64_t lease_duration_ms = 2000;
  int64_t sync_interval_ms = 200;
  // The tracker's full look (it also carries the pollers' processing results to the mappings).
  int64_t full_sync_interval_ms = 1000;
  int poller_capacity = 64;
  // Every server serves Prometheus text on a free port (MetricsPort); off: none does.
  bool metrics = false;
  // Flags added to each server's command line, by component name (ComponentName): e.g. TLS and
  // the certificate it presents to the others. Null: none.
  std::function<std::vector<std::string>(const std::string& name)> extra_flags;
  // How the harness's own clients (streams(), the readiness check) call the servers; tests
  // use it for theirs (client_security()).
  GrpcClientSecurity client_security;
  // Cluster mode (issue 19): leasing and the tracker keep their state in etcd at this
  // --coordination URL ("etcd://host:port,..."), under `etcd_prefix` + "leasing/" and
  // + "tracker/", as `replicas` replicas each (1 or 2); the tracker and the pollers are given
  // every replica's address (a comma-separated list, common/replica_channel.h). Empty: the
  // embedded RocksDB stores, one replica each.
  std::string coordination;
  std::string etcd_prefix = "/tributary/";
  int replicas = 1;
  // The tracker's election TTL in cluster mode (whole seconds, >= 2000).
  int64_t election_ttl_ms = 2000;
  // Cluster mode part 2 (issue 20): the store keeps its records in JetStream at this --log URL
  // ("nats://host:port,..."), `log_replicas` copies each, and its stream metadata in etcd
  // (`coordination`, required) under `etcd_prefix` + "store/"; it runs as `store_front_ends`
  // stateless front-ends (1 or 2; kShardStore, kShardStore1). The tracker, the pollers and the
  // harness's own client are given both addresses, kShardStore first, and fail over between them
  // (common/replica_channel.h). Empty: the embedded store (one process, RocksDB).
  std::string log;
  int log_replicas = 3;
  int store_front_ends = 1;
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options);
  ~Cluster();

  // Starts the function in this process, then every server; waits until each is serving.
  absl::Status Start();
  // kill -9 of `c`, then a restart on the same port and data directory. Returns when the kill
  // happened, by the real clock's monotonic reading (as Delivery::at).
  absl::StatusOr<MonotonicTime> KillAndRestart(Component c);
  // kill -9 of `c` without restart.
  absl::StatusOr<MonotonicTime> Kill(Component c);
  // SIGSTOP / SIGCONT of `c`: alive but silent, as behind a network partition, then back with
  // everything it held in memory. Pause returns when it was stopped (as Kill). Errors: NOT_FOUND
  // for a component not running.
  absl::StatusOr<MonotonicTime> Pause(Component c);
  absl::Status Resume(Component c);

  std::string shard_store_address() const { return Address(Component::kShardStore); }
  // Every store front-end's address, comma-separated (kShardStore first). One front-end: its
  // address.
  std::string shard_store_addresses() const;
  // The address of `c` while it was started (empty: never started).
  std::string address(Component c) const { return Address(c); }
  std::string stream_tracker_address() const { return Address(Component::kStreamTracker); }
  std::string leasing_address() const { return Address(Component::kLeasing); }
  // Every leasing / tracker replica's address, comma-separated in replica order (what the
  // pollers are given; MakeReplicaChannel). One replica: its address.
  std::string leasing_addresses() const;
  std::string stream_tracker_addresses() const;
  // The process id of `c` while it runs; -1 when it is not running (killed, never started).
  int pid(Component c) const;
  std::string poller_address() const { return Address(Component::kPoller0); }
  std::string function_address() const { return function_server_->address(); }
  RecordingFunction& function() { return function_; }
  // The metrics port of `c` (ClusterOptions::metrics). Errors: NOT_FOUND for a component not
  // started; the port file's (metrics off: it never appears).
  absl::StatusOr<int> MetricsPort(Component c) const;
  shard_store::ShardStoreClient& streams() { return *streams_; }
  const GrpcClientSecurity& client_security() const { return options_.client_security; }

 private:
  struct Process {
    std::string name;
    std::string binary;
    std::string data_dir;
    int port = 0;
    Subprocess child;
  };
  absl::Status StartProcess(Component c);
  std::vector<std::string> Args(Component c) const;
  std::string Address(Component c) const;

  ClusterOptions options_;
  std::string root_;
  RecordingFunction function_;
  std::unique_ptr<GrpcServer> function_server_;
  std::map<Component, Process> processes_;
  std::unique_ptr<shard_store::ShardStoreClient> streams_;
};

// The checks every fault scenario ends with. Each returns OK or a FAILED_PRECONDITION whose
// message lists the first violations.
// Every acknowledged record was delivered at least once.
absl::Status CheckEveryAckedDelivered(const std::vector<Acked>& acked,
                                      const std::vector<Delivery>& deliveries);
// For each key, first deliveries come in the producer's order (n increasing).
absl::Status CheckFirstDeliveriesInKeyOrder(const std::vector<Acked>& acked,
                                            const std::vector<Delivery>& deliveries);
// For each shard, the sequence numbers acknowledged to one producer (`acked` in the order it got
// them, from one thread) are strictly increasing: none reused, none going back.
absl::Status CheckAckedSequenceNumbersIncrease(const std::vector<Acked>& acked);
// For each shard, first deliveries come in sequence-number order.
absl::Status CheckFirstDeliveriesInShardOrder(const std::vector<Delivery>& deliveries);
// No record of a child shard was first delivered before every record of its parents had been
// delivered (`parents` maps a child shard id to its parent ids).
absl::Status CheckParentsBeforeChildren(
    const std::map<std::string, std::vector<std::string>>& parents,
    const std::vector<Delivery>& deliveries);
// Tumbling windows of `window_ms`: every (shard, lane, window) that a delivered record belongs to
// (by its arrival time; `lane_of` maps a partition key to its lane, all in lane 0 by default)
// was closed, and every final invocation of it counted exactly the distinct records delivered in
// it — a window re-run after a failover starts over, it never adds up twice or skips what came
// before the checkpoint.
absl::Status CheckWindowsCountedExactly(
    int64_t window_ms, const std::vector<Delivery>& deliveries,
    const std::vector<WindowClose>& closes,
    const std::function<int(const std::string&)>& lane_of = nullptr);

// The value of the sample `series` ("name{labels}" as rendered, or a bare name) in the
// Prometheus text `text`, or -1 when there is none.
double MetricSample(const std::string& text, const std::string& series);

}  // namespace tributary::e2e

#endif  // TRIBUTARY_TESTS_CLUSTER_H_
