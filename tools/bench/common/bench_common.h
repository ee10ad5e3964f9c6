// Shared pieces of the load drivers in tools/bench: an in-process Tributary (shard store,
// leasing, stream tracker and optionally a poller on one gRPC port, composed exactly as
// tools/tributary/tributary_main.cc composes them), a no-op function that timestamps what it
// receives, a PutRecords producer, and the report (progress lines on stderr, a table and JSON
// on stdout, the JSON also to --json_out).
//
// tools/ is exempt from the clock rule: everything here reads the real (steady) clock.
#ifndef TRIBUTARY_TOOLS_BENCH_COMMON_BENCH_COMMON_H_
#define TRIBUTARY_TOOLS_BENCH_COMMON_BENCH_COMMON_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/grpc_security.h"
#include "common/grpc_server.h"
#include "etcd/etcd_client.h"
#include "grpcpp/grpcpp.h"
#include "leasing/leasing_service.h"
#include "poller/poller_node.h"
#include "proto/event_source_mappings.grpc.pb.h"
#include "proto/function.grpc.pb.h"
#include "proto/leasing.grpc.pb.h"
#include "proto/streams.grpc.pb.h"
#include "shard_store/shard_store_node.h"
#include "stream_tracker/stream_tracker.h"
#include "tables/table_store.h"
#include "tables/tables_service.h"

namespace tributary::bench {

// Applies the flags every driver shares (--mallopt, --mutex_deadlock_detection). Call after parsing
// flags.
void InitBench();

// Nanoseconds on the steady clock (comparable across threads of this process).
int64_t NowNanos();
// Seconds since the Unix epoch on the real clock (comparable across processes on this host).
double WallSeconds();
// Resident set size of this process (VmRSS), bytes; 0 when /proc is unreadable.
int64_t ResidentBytes();
// Threads of this process (/proc/self/status Threads); 0 when unreadable.
int ThreadCount();
// User + system CPU seconds this process has used (getrusage RUSAGE_SELF).
double CpuSeconds();
// A bench's data directory: `preferred` when non-empty (created, kept), else a fresh
// one under $TEST_TMPDIR or /tmp named after `name`, removed with everything in it when
// this goes away (a 10,000-shard scale run leaves gigabytes). Declare it before whatever
// writes into it, so that those are destroyed (and their files closed) first.
class ScopedWorkDir {
 public:
  ScopedWorkDir(const std::string& preferred, const std::string& name);
  ~ScopedWorkDir();
  ScopedWorkDir(const ScopedWorkDir&) = delete;
  ScopedWorkDir& operator=(const ScopedWorkDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool remove_ = false;
};
// The value at quantile q (0..1) of `values` (sorted in place); 0 when empty.
double Quantile(std::vector<double>& values, double q);

// A channel of its own (own TCP connection), with the large message limits of the services;
// TLS, a client certificate and a bearer token as `security` says (plaintext by default).
std::shared_ptr<grpc::Channel> OwnChannel(const std::string& address, int index,
                                          const GrpcClientSecurity& security = {});

struct ClusterOptions {
  std::string data_dir;  // required
  bool with_poller = true;
  int64_t lease_duration_ms = 10000;
  int64_t min_hold_ms = 30000;
  int64_t sync_interval_ms = 1000;
  int poller_capacity = 10000;
  // The poller's --memory_budget_mb in bytes (PollerNodeOptions::memory_budget_bytes; 0: none).
  int64_t poller_memory_budget_bytes = 0;
  // DynamoDB tables in the store's database and tributary.v1.Tables on the port, as `tributary
  // serve` has them (table streams of table_stream_shards shards).
  bool with_tables = false;
  int table_stream_shards = 4;
  // The gRPC server's TLS, authentication and policy (default: plaintext, open), and what the
  // services' own clients (tracker, poller) and the cluster's stubs present to it.
  GrpcServerSecurity server_security;
  GrpcClientSecurity client_security;
  // Cluster mode (issue 19): "etcd://host:port,..." keeps the lease table (shared store, poller
  // liveness as etcd leases of TTL = the lease duration, as leasing_server --coordination) and
  // the tracker's state in etcd under `etcd_prefix` + "leasing/" / "tracker/". The shard store
  // stays embedded (RocksDB in data_dir). Empty: everything embedded.
  std::string coordination;
  std::string etcd_prefix = "/tributary/";
};

// Every service in this process on one 127.0.0.1 port, as `tributary serve` runs them.
class InProcessCluster {
 public:
  static absl::StatusOr<std::unique_ptr<InProcessCluster>> Create(const ClusterOptions& options);
  ~InProcessCluster();

  const std::string& address() const { return address_; }
  shard_store::ShardStore& store() { return store_->store(); }
  // The Streams service (its live subscriptions, for the scale bench).
  shard_store::StreamsService& streams_service() { return store_->streams_service(); }
  poller::PollerNode* poller() { return poller_.get(); }
  v1::Streams::Stub& streams() { return *streams_; }
  v1::EventSourceMappings::Stub& mappings() { return *mappings_; }
  v1::Leasing::Stub& leasing() { return *leasing_; }
  // With ClusterOptions::with_tables; else null.
  tables::TableStore* tables() { return table_store_.get(); }

  // Creates a stream (directly on the store; no gRPC).
  absl::Status CreateStream(const std::string& name, int shards);
  // The stream's shard ids, in order.
  absl::StatusOr<std::vector<std::string>> ShardIds(const std::string& name);
  // Creates a mapping from `stream` to `function_endpoint`; returns its uuid.
  absl::StatusOr<std::string> CreateMapping(const std::string& stream,
                                            const std::string& function_endpoint, int batch_size,
                                            int parallelization, bool trim_horizon,
                                            int tumbling_window_seconds = 0);
  // Waits (at most `timeout_s`) until `count` leases of `uuid` have an owner (any owner when
  // `owner` is empty). Returns how many have one.
  int WaitForOwnedLeases(const std::string& uuid, int count, const std::string& owner,
                         double timeout_s);
  // Lease owner of each shard of `uuid` (shard id → owner, "" when unowned).
  absl::StatusOr<std::map<std::string, std::string>> LeaseOwners(const std::string& uuid);

  void Shutdown();

 private:
  InProcessCluster() = default;
  std::string address_;
  std::unique_ptr<etcd::EtcdClient> etcd_;  // cluster mode; outlives the lease store
  std::unique_ptr<shard_store::ShardStoreNode> store_;
  std::unique_ptr<tables::TableStore> table_store_;
  std::unique_ptr<tables::TablesService> tables_service_;
  std::unique_ptr<leasing::LeasingStack> leasing_stack_;
  std::unique_ptr<stream_tracker::StreamTracker> tracker_;
  std::unique_ptr<poller::PollerNode> poller_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::Streams::Stub> streams_;
  std::unique_ptr<v1::EventSourceMappings::Stub> mappings_;
  std::unique_ptr<v1::Leasing::Stub> leasing_;
  bool shut_down_ = false;
};

// Records carry an 8-byte id first in their data (EncodeId); the function stores the arrival
// time of each id below its capacity.
std::string RecordData(uint64_t id, int bytes);
uint64_t DecodeId(const std::string& data);

// A function that does nothing but count and timestamp: the no-op function of the benchmarks.
class NoopFunction final : public v1::Function::Service {
 public:
  // `track_ids`: arrival time slots for ids [0, track_ids).
  explicit NoopFunction(int64_t track_ids = 0);

  grpc::Status Invoke(grpc::ServerContext* context, const v1::InvokeRequest* request,
                      v1::InvokeResponse* response) override;

  // Counts one invocation of `shard_id` carrying `records` records of `bytes` data bytes, as
  // Invoke does (the HTTP no-op function counts through it too).
  void Count(const std::string& shard_id, int64_t records, int64_t bytes);

  int64_t records() const { return records_.load(); }
  int64_t invocations() const { return invocations_.load(); }
  int64_t bytes() const { return bytes_.load(); }
  int64_t first_invoke_nanos() const { return first_.load(); }
  int64_t last_invoke_nanos() const { return last_.load(); }
  // Arrival (NowNanos) of id, 0 when not (yet) seen.
  int64_t arrival(uint64_t id) const;
  // Per shard: the steady time and wall time of its last invocation.
  std::map<std::string, std::pair<int64_t, double>> LastInvocationByShard() const;
  void Reset();

 private:
  std::atomic<int64_t> records_{0}, invocations_{0}, bytes_{0}, first_{0}, last_{0};
  std::unique_ptr<std::atomic<int64_t>[]> arrivals_;
  int64_t track_ids_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::pair<int64_t, double>> last_by_shard_ ABSL_GUARDED_BY(mu_);
};

// The function on its own gRPC server at 127.0.0.1:0.
class FunctionServer {
 public:
  static absl::StatusOr<std::unique_ptr<FunctionServer>> Start(int64_t track_ids = 0);
  NoopFunction& function() { return *function_; }
  const std::string& address() const { return server_->address(); }

 private:
  std::unique_ptr<NoopFunction> function_;
  std::unique_ptr<GrpcServer> server_;
};

// The same no-op function behind HTTP with Lambda's Kinesis event (the Lambda Runtime Interface
// Emulator's interface; poller/invoke/lambda_event.h): each request's JSON is parsed (RapidJSON,
// as a runtime would before calling a handler), its records counted through a NoopFunction, and
// the reply is {"state":{},"batchItemFailures":[]} (a state, so that windows work too). Served by
// common/testing/http_test_server (a thread per connection).
class HttpFunctionServer {
 public:
  static absl::StatusOr<std::unique_ptr<HttpFunctionServer>> Start();
  ~HttpFunctionServer();
  NoopFunction& function() { return *function_; }
  // "http://127.0.0.1:PORT/2015-03-31/functions/function/invocations"
  std::string endpoint() const;

  class Impl;

 private:
  std::unique_ptr<NoopFunction> function_;
  std::unique_ptr<Impl> impl_;
};

// Writes `count` records of `bytes` (ids first_id..) into `stream` with `clients` concurrent
// clients, `per_call` records a call. Returns records acknowledged; failures are counted in
// *failed when non-null.
int64_t Preload(const std::string& address, const std::string& stream, int64_t count, int bytes,
                int clients, int per_call, uint64_t first_id = 0, int64_t* failed = nullptr,
                const GrpcClientSecurity& security = {});

// What a PutRecords load generator saw: records acknowledged, records the replies reported as
// failed, and calls that failed outright (transport error, error status, malformed reply).
struct PutCounts {
  std::atomic<int64_t> ok_records{0};
  std::atomic<int64_t> failed_records{0};
  std::atomic<int64_t> failed_calls{0};
};

// One gRPC PutRecords client: waits for `go`, then sends `request` until `deadline` (read only
// after `go`, so it may be set just before `go` is). The request is serialized once and resent as
// bytes through a generic stub, and each reply's entries and failed_record_count are counted
// without building it: the load generator's own protobuf work leaves the shared cores, the server's
// is unchanged.
void RunPreserializedPutRecords(const std::shared_ptr<grpc::Channel>& channel,
                                const v1::PutRecordsRequest& request, const std::atomic<bool>& go,
                                const absl::Time& deadline, PutCounts& counts);

// Progress line to stderr.
void Progress(const char* fmt, ...) ABSL_PRINTF_ATTRIBUTE(1, 2);

// The end-of-run report: a table on stdout and the same rows as JSON (stdout and json_out).
class Report {
 public:
  explicit Report(std::string bench) : bench_(std::move(bench)) {}
  // Run-level facts ("quick": true, "cores": 2, ...); `value` is raw JSON.
  void Set(const std::string& key, const std::string& json_value);
  // A row: name → value; numbers are printed in the table with `precision` decimals.
  struct Cell {
    std::string key;
    std::string text;  // for the table
    std::string json;  // raw JSON
  };
  static Cell Num(const std::string& key, double v, int precision = 0);
  static Cell Str(const std::string& key, const std::string& v);
  void AddRow(std::vector<Cell> row);
  // Prints the table and the JSON; writes json_out when non-empty. Returns false when the file
  // cannot be written.
  bool Finish(const std::string& json_out);

 private:
  std::string bench_;
  std::vector<std::pair<std::string, std::string>> facts_;
  std::vector<std::vector<Cell>> rows_;
};

}  // namespace tributary::bench

#endif  // TRIBUTARY_TOOLS_BENCH_COMMON_BENCH_COMMON_H_
