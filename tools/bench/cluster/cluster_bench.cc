// cluster_bench (issue 20): the shard store in cluster mode on loopback beside the embedded mode,
// in one run:
//   ingest    PutRecords records/s into a stream of 1 and 64 shards at 100 B and 1 KiB, each
//             cell first on one embedded `shard_store_server --data_dir` (RocksDB), then on
//             --front_ends `shard_store_server --coordination=etcd://... --log=nats://...`
//             processes over a 3-server JetStream cluster (R3) and one etcd member, producers
//             spread over the front-ends; CPU per record of every process (front-ends, NATS
//             servers, etcd, the producers).
//   delivery  a `tributary serve` front-end with its poller, tracker and leasing on the same etcd
//             and JetStream, a mapping to a no-op gRPC function in this process; the maximum
//             (--delivery_max_clients producers: records acknowledged and delivered per second,
//             from the first put to the last of them at the function), then half of it (or
//             --delivery_rate), paced: put → function p50 / p99 and CPU per record, per
//             front-end the records entered through; --delivery_probe adds the store's share
//             (put → SubscribeToShard event on the poller's front-end).
//   stall     kill -9 of the JetStream stream leader while producers put (each record with a
//             unique id, retried until acknowledged): how long no put succeeded, and, after the
//             server is back, every shard read from TRIM_HORIZON: acknowledged records missing
//             (must be 0) and duplicates.
//
//   bazel build -c opt //tools/bench/cluster:cluster_bench
//   cd bazel-bin/tools/bench/cluster/cluster_bench.runfiles/tributary && ../../cluster_bench
//   (the servers are found by their runfiles paths; or pass --store_binary, --tributary_binary)
//
// Processes are real (fork/exec), so each one's CPU is its own (/proc/<pid>/stat of this
// process's children). Every phase is bounded in time; every wait has a deadline.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "common/process.h"
#include "etcd/testing/etcd_cluster.h"
#include "gflags/gflags.h"
#include "grpcpp/grpcpp.h"
#include "nats/nats_client.h"
#include "nats/testing/nats_cluster.h"
#include "proto/event_source_mappings.grpc.pb.h"
#include "proto/streams.grpc.pb.h"
#include "tools/bench/common/bench_common.h"
#include "tools/bench/common/bench_main.h"

DEFINE_bool(quick, false, "Smoke mode: one small cell, short phases.");
DEFINE_string(phases, "ingest,delivery,stall", "Which phases to run, in this order.");
DEFINE_string(sizes, "100,1024", "Record sizes of the ingest cells.");
DEFINE_string(shards, "1,64", "Shard counts of the ingest cells.");
DEFINE_double(seconds_per_cell, 3, "Measured seconds per ingest cell and mode.");
DEFINE_int32(clients, 8, "Concurrent producers in the ingest cells (each its own channel).");
DEFINE_int32(records_per_call, 500, "Records per PutRecords call in the ingest cells.");
DEFINE_int32(front_ends, 2, "Cluster-mode store front-ends the producers are spread over.");
DEFINE_int32(delivery_shards, 4, "Shards of the delivery and stall streams.");
DEFINE_int32(delivery_clients, 4, "Producers of the delivery and stall phases.");
DEFINE_int32(delivery_records_per_call, 100, "Records per call in the delivery and stall phases.");
DEFINE_int32(delivery_max_clients, 16,
             "Producers of the delivery phase's maximum-rate part (records per call as "
             "--delivery_records_per_call): enough calls in flight that the front-ends, JetStream "
             "and the poller, not the producers' round trips, bound the rate.");
DEFINE_double(delivery_max_seconds, 3, "The delivery phase's maximum-rate part.");
DEFINE_double(delivery_rate, 0,
              "Records/s of the delivery phase's latency part; 0: half the measured maximum. A "
              "fixed rate compares binaries at one load (the maximum moves with the machine's).");
DEFINE_bool(delivery_embedded, false,
            "Run the delivery phase on the embedded default instead (tributary serve over its "
            "own directory, no etcd or NATS; producers all through it): the alternative.");
DEFINE_bool(delivery_probe, false,
            "During the half-rate part, also subscribe to every shard on the poller's front-end "
            "(SubscribeToShard from LATEST, keep-alives off as the poller asks) and report put → "
            "event and event → function: the store's share of put → function and the rest. It "
            "adds a reader per shard to that front-end.");
DEFINE_double(delivery_seconds, 8, "The delivery phase's half-rate part.");
DEFINE_string(serve_flags, "",
              "More flags of the delivery phase's `tributary serve` (the poller's front-end), "
              "space-separated, e.g. --log_ordered_reads=false to read by direct gets.");
DEFINE_double(stall_seconds, 25, "The stall phase's load: the kill comes after a third of it.");
DEFINE_double(stall_rate, 20000, "Records/s offered in the stall phase (paced).");
DEFINE_string(store_binary, "shard_store/shard_store_server",
              "shard_store_server (default: its runfiles path).");
DEFINE_string(baseline_store_binary, "",
              "Another shard_store_server build (e.g. before a change): when set, every ingest cell "
              "also runs on --front_ends front-ends of this binary over the same etcd and "
              "JetStream, after the others (a comparison in one run).");
DEFINE_string(front_end_flags, "",
              "Extra flags, comma-separated, for the cluster-mode front-ends of --store_binary "
              "(not the baseline's), e.g. --front_end_flags=--put_threads=32.");
DEFINE_string(tributary_binary, "tools/tributary/tributary",
              "tributary (default: its runfiles path).");
DEFINE_string(work_dir, "", "Directory for data, kept (default: a fresh one, removed at the end).");

// tools/ may not use common/status_macros (its visibility); the two it needs, locally.
#define BENCH_RETURN_IF_ERROR(expr)            \
  do {                                         \
    const absl::Status bench_status_ = (expr); \
    if (!bench_status_.ok()) return bench_status_; \
  } while (0)

namespace tributary::bench {
namespace {

using etcd::testing::EtcdCluster;
using nats::testing::NatsCluster;

// ---- CPU of this process's children (/proc/<pid>/stat) ----------------------------------------

struct ProcCpu {
  std::string comm;
  double seconds = 0;
};

std::map<pid_t, ProcCpu> ChildCpu() {
  std::map<pid_t, ProcCpu> out;
  const pid_t self = getpid();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t open = stat.find('(');
    const size_t close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
    // fields[0] = state (field 3), [1] = ppid (4), [11] = utime (14), [12] = stime (15)
    if (fields.size() < 13 || std::stoi(fields[1]) != self) continue;
    ProcCpu p;
    p.comm = stat.substr(open + 1, close - open - 1);
    p.seconds = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
    out[std::stoi(name)] = p;
  }
  return out;
}

// CPU seconds used between two snapshots, per kind of process ("nats-server", "etcd", each
// front-end by its pid label) plus "bench" (this process: the producers).
struct CpuSnapshot {
  std::map<pid_t, ProcCpu> children = ChildCpu();
  double self = CpuSeconds();
};

std::map<std::string, double> CpuByKind(const CpuSnapshot& a, const CpuSnapshot& b,
                                        const std::map<pid_t, std::string>& labels) {
  std::map<std::string, double> out;
  for (const auto& [pid, after] : b.children) {
    auto before = a.children.find(pid);
    const double used = after.seconds - (before == a.children.end() ? 0 : before->second.seconds);
    auto label = labels.find(pid);
    out[label != labels.end() ? label->second : after.comm] += used;
  }
  out["producers"] = b.self - a.self;
  return out;
}

// ---- Processes ----------------------------------------------------------------------------------

struct Server {
  std::string name;
  Subprocess process;
  std::string address;
};

absl::StatusOr<Server> StartServer(const std::string& name, const std::string& binary,
                                   std::vector<std::string> args, const std::string& dir) {
  const std::string port_file = absl::StrCat(dir, "/", name, ".port");
  std::filesystem::remove(port_file);
  args.push_back("--listen=127.0.0.1:0");
  args.push_back("--port_file=" + port_file);
  args.push_back("--minloglevel=1");
  Server s;
  s.name = name;
  absl::StatusOr<Subprocess> process =
      Subprocess::Start(binary, args, absl::StrCat(dir, "/", name, ".log"));
  if (!process.ok()) return process.status();
  s.process = *std::move(process);
  absl::StatusOr<int> port = WaitForPortFile(port_file, absl::Seconds(60));
  if (!port.ok()) return port.status();
  s.address = absl::StrCat("127.0.0.1:", *port);
  BENCH_RETURN_IF_ERROR(WaitForServing(s.address, absl::Seconds(30)));
  return s;
}

absl::Status Check(const grpc::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", s.error_message()));
}

// Creates `stream` through front-end 0 and waits until a one-record put succeeds on every
// front-end (each has learnt the stream).
absl::Status CreateStream(const std::vector<std::string>& front_ends, const std::string& stream,
                          int shards) {
  {
    auto stub = v1::Streams::NewStub(OwnChannel(front_ends[0], 900));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::CreateStreamRequest request;
    request.set_stream_name(stream);
    request.set_shard_count(shards);
    v1::CreateStreamResponse response;
    BENCH_RETURN_IF_ERROR(Check(stub->CreateStream(&context, request, &response), "CreateStream"));
  }
  for (size_t i = 0; i < front_ends.size(); ++i) {
    auto stub = v1::Streams::NewStub(OwnChannel(front_ends[i], 901 + i));
    BENCH_RETURN_IF_ERROR(PollFor(
        absl::Seconds(60), absl::Milliseconds(100), absl::StrCat(stream, " writable"), [&] {
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
          v1::PutRecordsRequest request;
          request.set_stream_name(stream);
          auto* e = request.add_records();
          e->set_partition_key("warm-up");
          e->set_data(RecordData(~uint64_t{0}, 16));
          v1::PutRecordsResponse response;
          return stub->PutRecords(&context, request, &response).ok() &&
                 response.failed_record_count() == 0;
        },
        [] { return std::string("puts refused"); }));
  }
  return absl::OkStatus();
}

void DeleteStream(const std::string& front_end, const std::string& stream) {
  auto stub = v1::Streams::NewStub(OwnChannel(front_end, 902));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::DeleteStreamRequest request;
  request.set_stream_name(stream);
  request.set_enforce_consumer_deletion(true);
  v1::DeleteStreamResponse response;
  grpc::Status s = stub->DeleteStream(&context, request, &response);
  if (!s.ok()) Progress("delete %s: %s", stream.c_str(), s.error_message().c_str());
}

// ---- Ingest -------------------------------------------------------------------------------------

v1::PutRecordsRequest IngestRequest(const std::string& stream, int client, int record_bytes) {
  v1::PutRecordsRequest r;
  r.set_stream_name(stream);
  for (int i = 0; i < FLAGS_records_per_call; ++i) {
    auto* e = r.add_records();
    e->set_partition_key(absl::StrCat("pk-", client, "-", i));
    e->set_data(RecordData(static_cast<uint64_t>(client) << 32 | i, record_bytes));
  }
  return r;
}

struct IngestResult {
  double records_per_second = 0;
  int64_t failed = 0;
  std::map<std::string, double> cpu_us_per_record;
};

IngestResult Ingest(const std::vector<std::string>& front_ends, const std::string& stream,
                    int record_bytes, const std::map<pid_t, std::string>& labels) {
  PutCounts counts;
  std::atomic<bool> go{false};
  absl::Time deadline;
  std::vector<std::thread> clients;
  for (int c = 0; c < FLAGS_clients; ++c) {
    clients.emplace_back([&, c] {
      auto channel = OwnChannel(front_ends[c % front_ends.size()], c);
      RunPreserializedPutRecords(channel, IngestRequest(stream, c, record_bytes), go, deadline,
                                 counts);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // channels connect
  const CpuSnapshot before;
  const absl::Time start = absl::Now();
  deadline = start + absl::Seconds(FLAGS_seconds_per_cell);
  go.store(true);
  for (auto& t : clients) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const CpuSnapshot after;
  IngestResult r;
  const int64_t records = counts.ok_records.load();
  r.records_per_second = records / seconds;
  r.failed = counts.failed_records.load() + counts.failed_calls.load() * FLAGS_records_per_call;
  for (const auto& [kind, cpu] : CpuByKind(before, after, labels)) {
    r.cpu_us_per_record[kind] = records > 0 ? cpu * 1e6 / records : 0;
  }
  return r;
}

std::string CpuText(const std::map<std::string, double>& cpu) {
  std::vector<std::string> parts;
  double total = 0;
  for (const auto& [kind, us] : cpu) {
    if (us < 0.005) continue;
    parts.push_back(absl::StrFormat("%s %.2f", kind, us));
    total += us;
  }
  return absl::StrFormat("total %.2f (%s)", total, absl::StrJoin(parts, ", "));
}

// ---- Producers with unique ids (delivery, stall) ------------------------------------------------

struct IdProducerResult {
  int64_t acked = 0;
  int64_t failed_calls = 0;
  int64_t failed_records = 0;
  int64_t calls = 0;
  std::vector<double> call_ms;  // every call's round trip (the driver's view), unsorted
};

// Acknowledged ids and their ack times (NowNanos), and which front-end took them.
struct AckLog {
  explicit AckLog(int64_t n) : ack(new std::atomic<int64_t>[n]), via(new std::atomic<int8_t>[n]) {
    for (int64_t i = 0; i < n; ++i) ack[i] = 0, via[i] = -1;
    size = n;
  }
  std::unique_ptr<std::atomic<int64_t>[]> ack;
  std::unique_ptr<std::atomic<int8_t>[]> via;
  int64_t size;
  // Successful call completions (NowNanos), for the stall phase.
  absl::Mutex mu;
  std::vector<int64_t> successes ABSL_GUARDED_BY(mu);
};

// `clients` threads, client c on front_ends[c % n]; paced at `rate` records/s in total (0:
// unpaced) for `seconds`. Ids from *next (below log->size). With `retry`, a failed call's
// records are sent again (same ids, a new call) until acknowledged or the phase ends + 60 s.
IdProducerResult ProduceIds(const std::vector<std::string>& front_ends, const std::string& stream,
                            int clients, int per_call, int record_bytes, double rate,
                            double seconds, std::atomic<uint64_t>* next, AckLog* log, bool retry) {
  std::atomic<int64_t> acked{0}, failed_calls{0}, failed_records{0};
  absl::Mutex call_mu;
  std::vector<double> call_ms;
  const int64_t start = NowNanos();
  const int64_t end = start + static_cast<int64_t>(seconds * 1e9);
  const int64_t give_up = end + int64_t{60} * 1000000000;
  const double interval_ns = rate > 0 ? 1e9 * per_call * clients / rate : 0;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      const int fe = c % static_cast<int>(front_ends.size());
      auto stub = v1::Streams::NewStub(OwnChannel(front_ends[fe], 100 + c));
      const int64_t offset = static_cast<int64_t>(interval_ns * c / clients);
      std::vector<uint64_t> ids;
      std::vector<double> my_call_ms;
      auto keep_times = [&] {
        absl::MutexLock lock(&call_mu);
        call_ms.insert(call_ms.end(), my_call_ms.begin(), my_call_ms.end());
      };
      for (int64_t call = 0;; ++call) {
        if (interval_ns > 0) {
          const int64_t due = start + offset + static_cast<int64_t>(call * interval_ns);
          if (due >= end) return keep_times();
          const int64_t wait = due - NowNanos();
          if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
        } else if (NowNanos() >= end) {
          return keep_times();
        }
        const uint64_t first = next->fetch_add(per_call);
        if (first + per_call > static_cast<uint64_t>(log->size)) return keep_times();
        ids.clear();
        for (int i = 0; i < per_call; ++i) ids.push_back(first + i);
        while (!ids.empty()) {
          v1::PutRecordsRequest request;
          request.set_stream_name(stream);
          for (uint64_t id : ids) {
            auto* e = request.add_records();
            e->set_partition_key(absl::StrCat("pk-", id));
            e->set_data(RecordData(id, record_bytes));
          }
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(45));
          v1::PutRecordsResponse response;
          const int64_t sent = NowNanos();
          grpc::Status s = stub->PutRecords(&context, request, &response);
          const int64_t now = NowNanos();
          my_call_ms.push_back((now - sent) / 1e6);
          std::vector<uint64_t> again;
          if (!s.ok() || response.records_size() != static_cast<int>(ids.size())) {
            failed_calls.fetch_add(1);
            again = ids;
          } else {
            for (size_t i = 0; i < ids.size(); ++i) {
              if (!response.records(i).error_code().empty()) {
                again.push_back(ids[i]);
                continue;
              }
              log->ack[ids[i]] = now;
              log->via[ids[i]] = static_cast<int8_t>(fe);
            }
            acked.fetch_add(ids.size() - again.size());
            failed_records.fetch_add(again.size());
            if (again.size() < ids.size()) {
              absl::MutexLock lock(&log->mu);
              log->successes.push_back(now);
            }
          }
          if (!retry || NowNanos() > give_up) break;
          ids = std::move(again);
          if (!ids.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  IdProducerResult r;
  r.acked = acked.load();
  r.failed_calls = failed_calls.load();
  r.failed_records = failed_records.load();
  r.calls = static_cast<int64_t>(call_ms.size());
  r.call_ms = std::move(call_ms);
  return r;
}

absl::StatusOr<std::vector<std::string>> ShardIds(const std::string& front_end,
                                                  const std::string& stream) {
  auto stub = v1::Streams::NewStub(OwnChannel(front_end, 903));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::ListShardsRequest request;
  request.set_stream_name(stream);
  v1::ListShardsResponse response;
  BENCH_RETURN_IF_ERROR(Check(stub->ListShards(&context, request, &response), "ListShards"));
  std::vector<std::string> ids;
  for (const auto& s : response.shards()) ids.push_back(s.shard_id());
  return ids;
}

// Every record of every shard from TRIM_HORIZON: how often each id was stored.
absl::StatusOr<std::map<uint64_t, int>> ReadAll(const std::string& front_end,
                                                const std::string& stream) {
  absl::StatusOr<std::vector<std::string>> shards = ShardIds(front_end, stream);
  if (!shards.ok()) return shards.status();
  auto stub = v1::Streams::NewStub(OwnChannel(front_end, 904));
  std::map<uint64_t, int> seen;
  for (const std::string& shard : *shards) {
    std::string iterator;
    {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      v1::GetShardIteratorRequest request;
      request.set_stream_name(stream);
      request.set_shard_id(shard);
      request.set_shard_iterator_type(v1::TRIM_HORIZON);
      v1::GetShardIteratorResponse response;
      BENCH_RETURN_IF_ERROR(
          Check(stub->GetShardIterator(&context, request, &response), "GetShardIterator"));
      iterator = response.shard_iterator();
    }
    int empty_reads = 0;
    for (int round = 0; round < 100000 && !iterator.empty() && empty_reads < 3; ++round) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      v1::GetRecordsRequest request;
      request.set_shard_iterator(iterator);
      v1::GetRecordsResponse response;
      BENCH_RETURN_IF_ERROR(Check(stub->GetRecords(&context, request, &response), "GetRecords"));
      for (const auto& r : response.records()) ++seen[DecodeId(r.data())];
      empty_reads = response.records().empty() ? empty_reads + 1 : 0;
      iterator = response.next_shard_iterator();
    }
  }
  return seen;
}

// A SubscribeToShard per shard of `stream` on `front_end` from LATEST, keep-alives off (as the
// poller subscribes), that timestamps each id's first event (NowNanos): the store's share of
// put → function. Each shard's reader subscribes again after the last record it saw when a
// call ends; the destructor cancels and joins them.
class SubscriptionProbe {
 public:
  SubscriptionProbe(const std::string& front_end, const std::string& stream,
                    const std::vector<std::string>& shards, int64_t ids)
      : arrivals_(new std::atomic<int64_t>[ids]), ids_(ids) {
    for (int64_t i = 0; i < ids; ++i) arrivals_[i] = 0;
    auto stub = std::shared_ptr<v1::Streams::Stub>(v1::Streams::NewStub(OwnChannel(front_end, 906)));
    for (const std::string& shard : shards) {
      threads_.emplace_back([this, stub, stream, shard] { Read(*stub, stream, shard); });
    }
  }
  ~SubscriptionProbe() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
      for (grpc::ClientContext* c : contexts_) c->TryCancel();
    }
    for (auto& t : threads_) t.join();
  }
  int64_t arrival(uint64_t id) const {
    return id < static_cast<uint64_t>(ids_) ? arrivals_[id].load() : 0;
  }

 private:
  void Read(v1::Streams::Stub& stub, const std::string& stream, const std::string& shard) {
    std::string after;  // the last sequence number seen
    for (int attempt = 0; attempt < 100; ++attempt) {
      grpc::ClientContext context;
      context.AddMetadata("tributary-keep-alive", "off");
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(600));
      {
        absl::MutexLock lock(&mu_);
        if (stop_) return;
        contexts_.insert(&context);
      }
      v1::SubscribeToShardRequest request;
      request.set_stream_name(stream);
      request.set_shard_id(shard);
      if (after.empty()) {
        request.mutable_starting_position()->set_type(v1::LATEST);
      } else {
        request.mutable_starting_position()->set_type(v1::AFTER_SEQUENCE_NUMBER);
        request.mutable_starting_position()->set_sequence_number(after);
      }
      auto reader = stub.SubscribeToShard(&context, request);
      v1::SubscribeToShardEvent event;
      while (reader->Read(&event)) {
        const int64_t now = NowNanos();
        for (const v1::Record& r : event.records()) {
          const uint64_t id = DecodeId(r.data());
          int64_t zero = 0;
          if (id < static_cast<uint64_t>(ids_)) arrivals_[id].compare_exchange_strong(zero, now);
        }
        if (!event.records().empty()) after = event.records().rbegin()->sequence_number();
      }
      (void)reader->Finish();
      absl::MutexLock lock(&mu_);
      contexts_.erase(&context);
      if (stop_) return;
    }
  }

  std::unique_ptr<std::atomic<int64_t>[]> arrivals_;
  const int64_t ids_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::set<grpc::ClientContext*> contexts_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

// ---- Main ---------------------------------------------------------------------------------------

int Main() {
  std::vector<int> sizes, shard_counts;
  for (absl::string_view v : absl::StrSplit(FLAGS_sizes, ',', absl::SkipEmpty())) {
    sizes.push_back(std::stoi(std::string(v)));
  }
  for (absl::string_view v : absl::StrSplit(FLAGS_shards, ',', absl::SkipEmpty())) {
    shard_counts.push_back(std::stoi(std::string(v)));
  }
  const std::set<std::string> phases = absl::StrSplit(FLAGS_phases, ',', absl::SkipEmpty());
  if (FLAGS_quick) {
    sizes = {100};
    shard_counts = {4};
    FLAGS_seconds_per_cell = std::min(FLAGS_seconds_per_cell, 0.5);
    FLAGS_clients = std::min(FLAGS_clients, 2);
    FLAGS_records_per_call = std::min(FLAGS_records_per_call, 100);
    FLAGS_delivery_max_seconds = std::min(FLAGS_delivery_max_seconds, 0.5);
    FLAGS_delivery_seconds = std::min(FLAGS_delivery_seconds, 1.0);
    FLAGS_stall_seconds = std::min(FLAGS_stall_seconds, 12.0);
    FLAGS_stall_rate = std::min(FLAGS_stall_rate, 2000.0);
  }
  ScopedWorkDir work_dir(FLAGS_work_dir, "cluster_bench");
  const std::string& dir = work_dir.path();
  Report report("cluster");
  report.Set("quick", FLAGS_quick ? "true" : "false");
  report.Set("front_ends", absl::StrCat(FLAGS_front_ends));
  report.Set("clients", absl::StrCat(FLAGS_clients));
  report.Set("records_per_call", absl::StrCat(FLAGS_records_per_call));
  bool zero = false;

  // The cluster: 3 NATS servers (JetStream, R3), one etcd member; front-ends over both.
  auto nats = NatsCluster::Start(3);
  if (!nats.ok()) {
    Progress("nats: %s", nats.status().ToString().c_str());
    return 1;
  }
  auto etcd = EtcdCluster::Start(1);
  if (!etcd.ok()) {
    Progress("etcd: %s", etcd.status().ToString().c_str());
    return 1;
  }
  std::map<pid_t, std::string> labels;
  std::vector<Server> front_ends;
  std::vector<std::string> fe_addresses;
  for (int i = 0; i < FLAGS_front_ends; ++i) {
    std::vector<std::string> args = {"--coordination=" + (*etcd)->url(),
                                     "--etcd_prefix=/bench/store/", "--log=" + (*nats)->url(),
                                     "--log_replicas=3"};
    for (absl::string_view f : absl::StrSplit(FLAGS_front_end_flags, ',', absl::SkipEmpty())) {
      args.emplace_back(f);
    }
    auto s = StartServer(absl::StrCat("fe", i), FLAGS_store_binary, std::move(args), dir);
    if (!s.ok()) {
      Progress("front-end %d: %s", i, s.status().ToString().c_str());
      return 1;
    }
    labels[s->process.pid()] = "front-ends";
    fe_addresses.push_back(s->address);
    front_ends.push_back(*std::move(s));
  }
  std::vector<Server> baseline;
  std::vector<std::string> baseline_addresses;
  for (int i = 0; !FLAGS_baseline_store_binary.empty() && i < FLAGS_front_ends; ++i) {
    auto s = StartServer(absl::StrCat("base", i), FLAGS_baseline_store_binary,
                         {"--coordination=" + (*etcd)->url(), "--etcd_prefix=/bench/store/",
                          "--log=" + (*nats)->url(), "--log_replicas=3"},
                         dir);
    if (!s.ok()) {
      Progress("baseline front-end %d: %s", i, s.status().ToString().c_str());
      return 1;
    }
    labels[s->process.pid()] = "front-ends";
    baseline_addresses.push_back(s->address);
    baseline.push_back(*std::move(s));
  }
  std::filesystem::create_directories(dir + "/embedded");
  auto embedded = StartServer("embedded", FLAGS_store_binary, {"--data_dir=" + dir + "/embedded"},
                              dir);
  if (!embedded.ok()) {
    Progress("embedded: %s", embedded.status().ToString().c_str());
    return 1;
  }
  labels[embedded->process.pid()] = "embedded store";
  Progress("cluster_bench: NATS %s, etcd %s, front-ends %s, embedded %s",
           (*nats)->url().c_str(), (*etcd)->url().c_str(),
           absl::StrJoin(fe_addresses, ",").c_str(), embedded->address.c_str());

  int stream_count = 0;
  if (phases.count("ingest") > 0) {
    for (int size : sizes) {
      for (int shards : shard_counts) {
        for (const int kind : {0, 1, 2}) {  // embedded, cluster, cluster on the baseline
          if (kind == 2 && baseline_addresses.empty()) continue;
          const bool cluster = kind > 0;
          const std::vector<std::string> targets =
              kind == 0   ? std::vector<std::string>{embedded->address}
              : kind == 1 ? fe_addresses
                          : baseline_addresses;
          const std::string stream = absl::StrCat("ingest-", size, "-", shards, "-",
                                                  kind == 0   ? "embedded"
                                                  : kind == 1 ? "cluster"
                                                              : "baseline");
          if (absl::Status s = CreateStream(targets, stream, shards); !s.ok()) {
            Progress("%s: %s", stream.c_str(), s.ToString().c_str());
            return 1;
          }
          if (cluster) ++stream_count;
          const IngestResult r = Ingest(targets, stream, size, labels);
          DeleteStream(targets[0], stream);
          const std::string mode =
              cluster ? absl::StrCat(kind == 2 ? "baseline " : "", "cluster R3, ",
                                     targets.size(), " front-ends")
                      : "embedded";
          Progress("[ingest] %4d B %2d shard(s) %-24s %10.0f records/s  %6.1f MB/s  failed %lld"
                   "  CPU µs/record: %s",
                   size, shards, mode.c_str(), r.records_per_second,
                   r.records_per_second * size / 1e6, static_cast<long long>(r.failed),
                   CpuText(r.cpu_us_per_record).c_str());
          std::vector<Report::Cell> row = {
              Report::Str("phase", "ingest"), Report::Str("mode", mode),
              Report::Num("record_bytes", size), Report::Num("shards", shards),
              Report::Num("records_per_second", r.records_per_second),
              Report::Num("failed_records", static_cast<double>(r.failed))};
          double total = 0;
          for (const auto& [kind, us] : r.cpu_us_per_record) {
            row.push_back(Report::Num(absl::StrCat("cpu_us_", kind), us, 2));
            total += us;
          }
          row.push_back(Report::Num("cpu_us_total", total, 2));
          report.AddRow(std::move(row));
          zero |= r.records_per_second <= 0;
        }
      }
    }
  }

  if (phases.count("delivery") > 0) {
    // A third front-end with the poller, tracker and leasing (as `tributary serve` runs them in
    // cluster mode), the function here.
    std::filesystem::create_directories(dir + "/serve");
    // --delivery_embedded: the same phase on the embedded default (one `tributary serve` over
    // its own directory, RocksDB), the alternative side by side: what the machine's poller and
    // function cost without the cluster.
    std::vector<std::string> serve_args =
        FLAGS_delivery_embedded
            ? std::vector<std::string>{"serve", "--data_dir=" + dir + "/serve",
                                       "--sync_interval_ms=200"}
            : std::vector<std::string>{"serve",
                                       "--coordination=" + (*etcd)->url(),
                                       "--etcd_prefix=/bench/",
                                       "--log=" + (*nats)->url(),
                                       "--log_replicas=3",
                                       "--data_dir=" + dir + "/serve",
                                       "--sync_interval_ms=200"};
    for (absl::string_view flag : absl::StrSplit(FLAGS_serve_flags, ' ', absl::SkipEmpty())) {
      serve_args.emplace_back(flag);
    }
    auto serve = StartServer("serve", FLAGS_tributary_binary, serve_args, dir);
    if (!serve.ok()) {
      Progress("tributary serve: %s", serve.status().ToString().c_str());
      return 1;
    }
    labels[serve->process.pid()] = "serve";
    const int64_t tracked = 20000000;
    auto function = FunctionServer::Start(tracked);
    if (!function.ok()) {
      Progress("function: %s", function.status().ToString().c_str());
      return 1;
    }
    NoopFunction& f = (*function)->function();
    // Producers: through the poller's own front-end (serve) and through fe0.
    const std::vector<std::string> targets =
        FLAGS_delivery_embedded ? std::vector<std::string>{serve->address}
                                : std::vector<std::string>{serve->address, fe_addresses[0]};
    const std::string stream = "delivery";
    if (absl::Status s = CreateStream(targets, stream, FLAGS_delivery_shards); !s.ok()) {
      Progress("%s: %s", stream.c_str(), s.ToString().c_str());
      return 1;
    }
    ++stream_count;
    {
      auto mappings = v1::EventSourceMappings::NewStub(OwnChannel(serve->address, 905));
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      v1::CreateEventSourceMappingRequest request;
      request.set_stream_name(stream);
      request.set_function_endpoint((*function)->address());
      request.set_batch_size(100);
      request.set_maximum_batching_window_in_seconds(0);
      request.set_parallelization_factor(1);
      request.set_starting_position(v1::TRIM_HORIZON_POSITION);
      v1::EventSourceMappingConfiguration response;
      if (absl::Status s = Check(mappings->CreateEventSourceMapping(&context, request, &response),
                                 "CreateEventSourceMapping");
          !s.ok()) {
        Progress("%s", s.ToString().c_str());
        return 1;
      }
    }
    AckLog log(tracked);
    std::atomic<uint64_t> next{0};
    // Warm-up until the function sees records (leases taken, subscriptions open).
    absl::Status warm = PollFor(absl::Seconds(60), absl::Milliseconds(200), "first delivery", [&] {
      ProduceIds(targets, stream, 2, 10, 100, 0, 0.05, &next, &log, false);
      return f.records() > 0;
    }, [] { return std::string("nothing delivered"); });
    if (!warm.ok()) Progress("delivery warm-up: %s", warm.ToString().c_str());
    std::this_thread::sleep_for(std::chrono::seconds(2));
    // The maximum: as many records as the front-ends acknowledge AND the poller delivers, from
    // the first put until the last of them reached the function (what half load is half of).
    // (It was "acknowledged / phase seconds" with 4 producers of 100 records: 400 records in
    // flight over a JetStream round trip, i.e. the round trip's measure, not a maximum; NOTES.)
    const CpuSnapshot before;
    const uint64_t max_first = next.load();
    const int64_t max_start = NowNanos();
    IdProducerResult max =
        ProduceIds(targets, stream, FLAGS_delivery_max_clients, FLAGS_delivery_records_per_call,
                   100, 0, FLAGS_delivery_max_seconds, &next, &log, false);
    const int64_t max_end = NowNanos();
    const CpuSnapshot after;
    const uint64_t max_last = next.load();
    const absl::Status max_drained =
        PollFor(absl::Seconds(60), absl::Milliseconds(20), "the maximum-rate records delivered",
                [&] {
                  for (uint64_t id = max_first; id < max_last; ++id) {
                    if (log.ack[id] != 0 && f.arrival(id) == 0) return false;
                  }
                  return true;
                },
                [&] { return absl::StrCat(f.records(), " delivered"); });
    int64_t last_delivery = max_end, longest_gap = 0;
    {
      std::vector<int64_t> acks;
      for (uint64_t id = max_first; id < max_last; ++id) {
        if (log.ack[id] == 0) continue;
        acks.push_back(log.ack[id]);
        last_delivery = std::max(last_delivery, f.arrival(id));
      }
      std::sort(acks.begin(), acks.end());
      int64_t previous = max_start;
      for (int64_t t : acks) longest_gap = std::max(longest_gap, t - previous), previous = t;
    }
    const double put_rate = max.acked / (static_cast<double>(max_end - max_start) / 1e9);
    const double max_rate =
        max.acked / (static_cast<double>(last_delivery - max_start) / 1e9);
    const double call_p50 = Quantile(max.call_ms, 0.5), call_p99 = Quantile(max.call_ms, 0.99);
    Progress("[delivery] maximum: %d producers x %d records a call, %lld calls (%lld failed), "
             "call p50 %.1f ms p99 %.1f ms, longest gap between acks %.0f ms; acknowledged "
             "%.0f records/s, acknowledged and delivered %.0f records/s%s; CPU µs/record: %s",
             FLAGS_delivery_max_clients, FLAGS_delivery_records_per_call,
             static_cast<long long>(max.calls), static_cast<long long>(max.failed_calls),
             call_p50, call_p99, longest_gap / 1e6, put_rate, max_rate,
             max_drained.ok() ? "" : " (NOT all delivered within 60 s)",
             CpuText([&] {
               auto cpu = CpuByKind(before, after, labels);
               for (auto& [k, v] : cpu) v = max.acked > 0 ? v * 1e6 / max.acked : 0;
               return cpu;
             }())
                 .c_str());
    // Stage probe (--delivery_probe): the store's share of put → function.
    std::unique_ptr<SubscriptionProbe> probe;
    if (FLAGS_delivery_probe) {
      absl::StatusOr<std::vector<std::string>> shards = ShardIds(serve->address, stream);
      if (shards.ok()) {
        probe = std::make_unique<SubscriptionProbe>(serve->address, stream, *shards, tracked);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // subscribed at LATEST
      } else {
        Progress("[delivery] probe: %s", shards.status().ToString().c_str());
      }
    }
    const double half_rate = FLAGS_delivery_rate > 0 ? FLAGS_delivery_rate : max_rate / 2;
    const int64_t invocations_before = f.invocations(), records_before = f.records();
    const CpuSnapshot half_before;
    const uint64_t first = next.load();
    IdProducerResult half =
        ProduceIds(targets, stream, FLAGS_delivery_clients, FLAGS_delivery_records_per_call, 100,
                   half_rate, FLAGS_delivery_seconds, &next, &log, false);
    const uint64_t last = next.load();
    const absl::Status drained = PollFor(
        absl::Seconds(60), absl::Milliseconds(20), "the half-rate records delivered",
                  [&] {
                    for (uint64_t id = first; id < last; ++id) {
                      if (log.ack[id] != 0 && f.arrival(id) == 0) return false;
                    }
                    return true;
                  },
                  [&] { return absl::StrCat(f.records(), " delivered"); });
    const CpuSnapshot half_after;
    if (!drained.ok()) Progress("[delivery] %s", drained.ToString().c_str());
    const int64_t invocations = f.invocations() - invocations_before;
    const double records_per_invocation =
        invocations > 0 ? static_cast<double>(f.records() - records_before) / invocations : 0;
    double half_cpu_total = 0;
    const std::string half_cpu = CpuText([&] {
      auto cpu = CpuByKind(half_before, half_after, labels);
      for (auto& [k, v] : cpu) {
        v = half.acked > 0 ? v * 1e6 / half.acked : 0;
        half_cpu_total += v;
      }
      return cpu;
    }());
    Progress("[delivery] half rate: %lld calls, call p50 %.1f ms p99 %.1f ms; %lld invocations "
             "(%.1f records each); CPU µs/record (until drained): %s",
             static_cast<long long>(half.calls), Quantile(half.call_ms, 0.5),
             Quantile(half.call_ms, 0.99),
             static_cast<long long>(invocations), records_per_invocation, half_cpu.c_str());
    if (probe != nullptr) {
      std::vector<double> to_event, event_to_function;
      for (uint64_t id = first; id < last; ++id) {
        const int64_t event = probe->arrival(id), arrival = f.arrival(id);
        if (log.ack[id] == 0 || event == 0) continue;
        to_event.push_back(std::max<int64_t>(0, event - log.ack[id]) / 1e6);
        if (arrival != 0) event_to_function.push_back((arrival - event) / 1e6);
      }
      Progress("[delivery] stages (probe subscription on the poller's front-end): put → event "
               "p50 %.1f ms p99 %.1f ms (%zu records); event → function p50 %.1f ms p99 %.1f ms",
               Quantile(to_event, 0.5), Quantile(to_event, 0.99), to_event.size(),
               Quantile(event_to_function, 0.5), Quantile(event_to_function, 0.99));
      report.AddRow({Report::Str("phase", "delivery stages"), Report::Str("mode", "probe"),
                     Report::Num("put_to_event_p50_ms", Quantile(to_event, 0.5), 1),
                     Report::Num("put_to_event_p99_ms", Quantile(to_event, 0.99), 1),
                     Report::Num("event_to_function_p50_ms", Quantile(event_to_function, 0.5), 1),
                     Report::Num("event_to_function_p99_ms", Quantile(event_to_function, 0.99),
                                 1)});
      probe.reset();
    }
    for (int via = -1; via < static_cast<int>(targets.size()); ++via) {
      std::vector<double> ms;
      int64_t missing = 0;
      for (uint64_t id = first; id < last; ++id) {
        if (log.ack[id] == 0 || (via >= 0 && log.via[id] != via)) continue;
        const int64_t arrival = f.arrival(id);
        if (arrival == 0) {
          if (via < 0 && missing < 5) {
            Progress("[delivery] not delivered: id %llu (acknowledged through front-end %d)",
                     static_cast<unsigned long long>(id), static_cast<int>(log.via[id]));
          }
          ++missing;
          continue;
        }
        ms.push_back(std::max<int64_t>(0, arrival - log.ack[id]) / 1e6);
      }
      const std::string through = via < 0 ? "all" : via == 0 ? "the poller's front-end"
                                                              : "another front-end";
      const double p50 = Quantile(ms, 0.5), p99 = Quantile(ms, 0.99);
      Progress("[delivery] half rate %.0f records/s offered, %lld acknowledged; entered through "
               "%s: %zu delivered, put→function p50 %.1f ms p99 %.1f ms max %.1f ms, missing %lld",
               half_rate, static_cast<long long>(half.acked), through.c_str(), ms.size(), p50,
               p99, ms.empty() ? 0.0 : ms.back(), static_cast<long long>(missing));
      report.AddRow({Report::Str("phase", "delivery"), Report::Str("mode", through),
                     Report::Num("max_records_per_second", max_rate),
                     Report::Num("max_acked_per_second", put_rate),
                     Report::Num("half_rate_acked", static_cast<double>(half.acked)),
                     Report::Num("delivered", static_cast<double>(ms.size())),
                     Report::Num("p50_ms", p50, 1), Report::Num("p99_ms", p99, 1),
                     Report::Num("missing", static_cast<double>(missing)),
                     Report::Num("half_cpu_us_per_record", half_cpu_total, 2)});
      if (via < 0) zero |= ms.empty();
    }
    DeleteStream(targets[0], stream);
    serve->process.Kill(SIGKILL);
  }

  if (phases.count("stall") > 0) {
    const std::string stream = "stall";
    if (absl::Status s = CreateStream(fe_addresses, stream, FLAGS_delivery_shards); !s.ok()) {
      Progress("%s: %s", stream.c_str(), s.ToString().c_str());
      return 1;
    }
    ++stream_count;
    // The JetStream stream: the store names it trib_<id>; ids come from etcd in creation order.
    std::string js_stream;
    {
      auto client = (*nats)->NewClient();
      for (int id = stream_count + 8; id >= 1 && js_stream.empty(); --id) {
        auto info = client->GetStreamInfo(absl::StrCat("trib_", id));
        if (info.ok() &&
            static_cast<int>(info->config.subjects.size()) == FLAGS_delivery_shards + 1) {
          js_stream = info->config.name;
        }
      }
    }
    if (js_stream.empty()) {
      Progress("stall: the JetStream stream of %s not found", stream.c_str());
      return 1;
    }
    const int64_t capacity = static_cast<int64_t>(FLAGS_stall_rate * FLAGS_stall_seconds) + 100000;
    AckLog log(capacity);
    std::atomic<uint64_t> next{0};
    IdProducerResult produced;
    std::thread producers([&] {
      produced = ProduceIds(fe_addresses, stream, FLAGS_delivery_clients,
                            FLAGS_delivery_records_per_call, 100, FLAGS_stall_rate,
                            FLAGS_stall_seconds, &next, &log, /*retry=*/true);
    });
    std::this_thread::sleep_for(
        std::chrono::milliseconds(static_cast<int64_t>(FLAGS_stall_seconds * 1000 / 3)));
    absl::StatusOr<int> leader = (*nats)->StreamLeader(js_stream);
    int64_t killed_at = 0;
    if (leader.ok()) {
      killed_at = NowNanos();
      (*nats)->Kill(*leader);
      Progress("[stall] killed the leader of %s (n%d) under %.0f records/s", js_stream.c_str(),
               *leader, FLAGS_stall_rate);
    } else {
      Progress("[stall] no leader found: %s", leader.status().ToString().c_str());
    }
    producers.join();
    if (leader.ok()) {
      if (absl::Status s = (*nats)->Restart(*leader); !s.ok()) {
        Progress("[stall] restart: %s", s.ToString().c_str());
      }
    }
    // The stall: the longest time without a successful call from a little before the kill on,
    // and the first success after it.
    double stall_ms = 0, first_after_ms = -1;
    {
      absl::MutexLock lock(&log.mu);
      std::sort(log.successes.begin(), log.successes.end());
      int64_t previous = killed_at;
      for (int64_t t : log.successes) {
        if (t < killed_at) continue;
        if (first_after_ms < 0) first_after_ms = (t - killed_at) / 1e6;
        stall_ms = std::max(stall_ms, (t - previous) / 1e6);
        previous = t;
      }
    }
    auto seen = ReadAll(fe_addresses[1 % fe_addresses.size()], stream);
    int64_t acked = 0, lost = 0, duplicates = 0;
    if (seen.ok()) {
      for (int64_t id = 0; id < static_cast<int64_t>(next.load()) && id < log.size; ++id) {
        if (log.ack[id] == 0) continue;
        ++acked;
        auto it = seen->find(id);
        if (it == seen->end()) ++lost;
      }
      for (const auto& [id, n] : *seen) duplicates += n > 1 ? n - 1 : 0;
    } else {
      Progress("[stall] read back: %s", seen.status().ToString().c_str());
    }
    Progress("[stall] %lld acknowledged (%lld calls failed and were retried, %lld records "
             "refused and retried); first success %.0f ms after the kill, longest gap %.0f ms; "
             "read back: %lld acknowledged missing, %lld duplicates stored",
             static_cast<long long>(acked), static_cast<long long>(produced.failed_calls),
             static_cast<long long>(produced.failed_records), first_after_ms, stall_ms,
             static_cast<long long>(lost), static_cast<long long>(duplicates));
    report.AddRow({Report::Str("phase", "stall"), Report::Str("mode", "kill -9 stream leader"),
                   Report::Num("acknowledged", static_cast<double>(acked)),
                   Report::Num("first_success_after_kill_ms", first_after_ms),
                   Report::Num("longest_gap_ms", stall_ms),
                   Report::Num("acknowledged_lost", static_cast<double>(lost)),
                   Report::Num("duplicates", static_cast<double>(duplicates))});
    zero |= acked <= 0 || !seen.ok();
    if (lost > 0) {
      Progress("[stall] ACKNOWLEDGED RECORDS LOST: %lld", static_cast<long long>(lost));
      zero = true;
    }
  }
  return FinishRun(report.Finish(FLAGS_json_out), zero, "a figure is zero or a record was lost");
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) { return tributary::bench::BenchMain(argc, argv, tributary::bench::Main); }
