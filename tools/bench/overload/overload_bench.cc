// overload_bench: does the shard store shed load instead of sinking under it (issue 22)?
//
//   bazel run -c opt //tools/bench/overload:overload_bench
//   bazel run -c opt //tools/bench/overload:overload_bench -- --seconds=10 --memory_budget_mb=256
//
// A shard store (ShardStoreNode, gRPC on loopback, --memory_budget_mb and the put queue bounds as
// `tributary serve` has them) in a process of its own (this program again, posix_spawn'ed with
// --serve_fds), so that its CPU, RSS and latency are measured apart from the load generator's:
// the parent asks it for its CPU time (getrusage), peak RSS, data directory size and put-queue
// state over a pipe. With --fresh_server (the default) every phase gets a fresh server process
// and data directory, removed after the phase (4x and its recovery share one): the disk holds
// one phase's records at most (nothing is trimmed: 30 s at 150,000 x 1 KiB records/s is ~5 GB),
// every phase starts from the same empty store, and a phase does not start with less than
// --min_free_gb free. --server_cpus / --client_cpus pin either side to CPUs (sched_setaffinity,
// before either starts a thread, so every thread of it), --client_nice lowers the generator's
// priority. --perf_phases records `perf record -g` profiles of the server in chosen phases.
// Phases, each bounded by --seconds (≤ 30):
//   max      --clients closed-loop clients (each its own channel): the sustainable rate R,
//            in acknowledged calls/s;
//   1x/2x/4x open loop: --open_clients clients send calls at fixed times, R·k/clients each,
//            on gRPC's callback API, whatever is outstanding (at most --max_outstanding per
//            client: beyond it a send is counted as "client backlog", not sent);
//   recovery the load drops to 0.5x; the time until a 250 ms window's p99 of accepted calls is
//            within 1.5× the 1x phase's p99.
//   refusal  the cost of a refused call against an accepted one (goal ≤ 5%): --cost_calls calls
//            of one closed-loop client, first accepted, then refused (the store's writes are
//            held and filler connections fill the put queue); the server process's CPU
//            (getrusage in the child) and the client's, and latency per call.
// Client-side adaptive throttling (common/adaptive_throttle.h, what ShardStoreClient does with a
// throttle): --throttle_k lists the modes each open-loop phase runs in, one after the other in
// the same run ("0": every call is sent; K > 0: each open-loop client keeps an AdaptiveThrottle
// with that K and a --throttle_window_ms window, kept across that mode's phases, and a call it
// refuses is counted as "client-throttled", never sent). The 4x phase of each mode is followed
// by that mode's recovery phase, so a throttled mode's recovery includes its throttles' memory.
// Per phase: goodput (acknowledged records/s), p50/p99 of accepted calls, refusals/s
// (RESOURCE_EXHAUSTED), deadline drops/s, other errors, the server's and the load generator's
// CPU per answered call and cores used, and the server's peak RSS. --generator picks the load
// generator (bytes: pre-serialized requests through a generic stub, one scheduling thread;
// proto: a thread per client, the generated stub).
//   aws      the AWS port (Kinesis's JSON protocol over HTTP/1.1, same store, same process):
//            --aws_cost_calls PutRecords accepted, then refused while --aws_max_pending_requests
//            connections hold its admission slots (heads sent, bodies never), for 100 x 1 KiB
//            and 500 x 100 B; CPU of either process per call.
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "aws/aws_server.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "common/adaptive_throttle.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "gflags/gflags.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "proto/streams.grpc.pb.h"
#include "shard_store/shard_store_node.h"
#include "tools/bench/common/bench_common.h"

DEFINE_double(seconds, 5, "Seconds per phase (at most 30).");
DEFINE_int32(clients, 8, "Closed-loop clients measuring the maximum rate.");
DEFINE_int32(open_clients, 32, "Open-loop clients offering 1x/2x/4x (more than the cores).");
DEFINE_int32(max_outstanding, 64, "Calls one open-loop client keeps in flight at most.");
DEFINE_int32(records_per_call, 100, "Records per PutRecords call.");
DEFINE_int32(record_bytes, 1024, "Data bytes per record.");
DEFINE_int32(shards, 4, "Shards of the stream.");
DEFINE_int64(memory_budget_mb, 256, "The server's --memory_budget_mb.");
DEFINE_int32(max_pending_puts, 1024, "The server's --max_pending_puts.");
DEFINE_int32(put_threads, 8, "The server's put threads (ShardStoreNodeOptions::put_threads).");
DEFINE_int32(max_put_queue_delay_ms, 100, "The server's --max_put_queue_delay_ms (0: off).");
DEFINE_int64(deadline_ms, 2000, "Each call's deadline.");
DEFINE_double(max_client_put_share, 0.5, "The server's --max_client_put_share.");
DEFINE_int32(cost_calls, 2000, "Calls per side of the refusal-cost phase (0: skip it).");
DEFINE_string(work_dir, "", "Directory for data (default: a fresh one under /tmp).");
DEFINE_string(server_cpus, "", "CPUs the server process runs on, e.g. \"0\" (empty: any).");
DEFINE_string(client_cpus, "", "CPUs the load generator runs on, e.g. \"1\" (empty: any).");
DEFINE_int32(client_nice, 0, "nice(2) increment of the load generator process.");
DEFINE_string(generator, "bytes",
              "Load generator: \"bytes\" (each client's request serialized once and sent as a "
              "ByteBuffer through a generic stub, replies' failed_record_count read without "
              "parsing them, one scheduling thread for all open-loop clients) or \"proto\" (a "
              "thread per client, the generated callback stub serializing every call).");
DEFINE_string(throttle_k, "0,2",
              "Client-side adaptive throttling modes of the open-loop phases, run side by side: "
              "0 for none, else the throttle's K (each open-loop client its own throttle).");
DEFINE_int32(throttle_window_ms, 1000, "The client-side throttles' window.");
DEFINE_int32(max_concurrent_streams, 0,
             "The server's --max_concurrent_streams (calls one HTTP/2 connection may have open "
             "at the server; more wait in the client). 0: unbounded.");
DEFINE_int32(aws_cost_calls, 1000,
             "Calls per side of the AWS port's refusal-cost phase (0: skip it).");
DEFINE_bool(fresh_server, true,
            "Run each phase on a fresh server process with an empty data directory (4x and its "
            "recovery share one), removed after the phase: the disk holds at most one phase's "
            "records, and every phase starts from the same store state.");
DEFINE_double(min_free_gb, 10,
              "Refuse to start a phase while the work directory's file system has less free.");
DEFINE_string(perf_phases, "",
              "Phases to profile with `perf record -g` on the server process, e.g. \"max,4x\" "
              "(names without the throttle mode), each from 1 s into the phase for --seconds - 2 "
              "s; the data goes to --perf_dir/<phase>.data.");
DEFINE_string(perf_dir, "/tmp", "Where --perf_phases writes perf.data files.");
DEFINE_int32(perf_frequency, 999, "perf record -F.");
DEFINE_string(serve_fds, "",
              "Internal: this process is the server; it reads commands from the first fd and "
              "answers on the second.");
DEFINE_int32(aws_max_pending_requests, 16,
             "The AWS port's --aws_max_pending_requests in the server process (the refusal "
             "phase holds that many requests at their headers to fill it).");

namespace tributary::bench {
namespace {

// This process's peak resident set (VmHWM), in bytes.
int64_t PeakRssBytes() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  long long kb = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::sscanf(line, "VmHWM: %lld kB", &kb) == 1) break;
  }
  std::fclose(f);
  return kb << 10;
}

std::string MakeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "overload_bench.XXXXXX").string();
  return mkdtemp(pattern.data()) != nullptr ? pattern : "/tmp/overload_bench";
}

struct Stats {
  absl::Mutex mu;
  std::vector<double> latencies_ms;  // accepted calls
  // throttled: refused by the client's own adaptive throttle, never sent.
  int64_t accepted = 0, refused = 0, expired = 0, other = 0, backlog = 0, throttled = 0;
  double last_throttled_s = -1;  // when the phase's last throttled call was, from its start
  void Add(const grpc::Status& status, bool all_records, double ms) {
    absl::MutexLock lock(&mu);
    if (status.ok() && all_records) {
      ++accepted;
      latencies_ms.push_back(ms);
    } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++refused;
    } else if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
               status.error_code() == grpc::StatusCode::CANCELLED) {
      ++expired;
    } else {
      ++other;
    }
  }
};

v1::PutRecordsRequest MakeRequest(int client) {
  v1::PutRecordsRequest r;
  r.set_stream_name("overload");
  for (int i = 0; i < FLAGS_records_per_call; ++i) {
    auto* e = r.add_records();
    e->set_partition_key(absl::StrCat(client, "-", i));
    e->set_data(std::string(FLAGS_record_bytes, 'x'));
  }
  return r;
}

// Whether a PutRecords JSON reply says "FailedRecordCount":0.
bool FailedRecordCountIsZero(const std::string& body) {
  return body.find("\"FailedRecordCount\":0") != std::string::npos;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

struct PhaseResult {
  std::string name;
  double offered_calls_per_s = 0;
  double goodput_records_per_s = 0, p50_ms = 0, p99_ms = 0, refusals_per_s = 0,
         expired_per_s = 0, throttled_per_s = 0, last_throttled_s = -1;
  int64_t other = 0, backlog = 0;
  int64_t calls = 0;  // answered calls of any outcome
  // Filled by the caller: the server process's CPU per answered call and its peak RSS.
  double server_cpu_us_per_call = 0;
  int64_t server_peak_rss = 0;
  // The load generator's (this process's) CPU per answered call.
  double client_cpu_us_per_call = 0;
  // Cores either process used over the phase (CPU seconds ÷ wall seconds): a side near its
  // cores' share is the limit; both far below it means the machine's other load is.
  double server_cores = 0, client_cores = 0;
};

// Acknowledged records per second of the server process's CPU: what the server's work buys,
// whatever share of the machine other processes leave it during the phase.
double PerCore(const PhaseResult& r) {
  return r.goodput_records_per_s / std::max(1e-9, r.server_cores);
}

void Print(const PhaseResult& r) {
  std::printf(
      "%-9s offered %8.0f calls/s  goodput %9.0f rec/s  p50 %7.2f ms  p99 %8.2f ms  refused "
      "by server %7.0f/s  client-throttled %7.0f/s  expired %5.0f/s  other %lld  client backlog %lld  server CPU %.0f us/call  "
      "generator CPU %.0f us/call  cores used: server %.2f generator %.2f  goodput per server "
      "core %.0f rec/s  server peak RSS %lld MiB\n",
      r.name.c_str(), r.offered_calls_per_s, r.goodput_records_per_s, r.p50_ms, r.p99_ms,
      r.refusals_per_s, r.throttled_per_s, r.expired_per_s, static_cast<long long>(r.other),
      static_cast<long long>(r.backlog), r.server_cpu_us_per_call, r.client_cpu_us_per_call,
      r.server_cores, r.client_cores, PerCore(r),
      static_cast<long long>(r.server_peak_rss >> 20));
  std::fflush(stdout);
}

PhaseResult Summarize(const std::string& name, Stats& s, double seconds, double offered) {
  absl::MutexLock lock(&s.mu);
  PhaseResult r;
  r.name = name;
  r.offered_calls_per_s = offered;
  r.goodput_records_per_s = s.accepted * FLAGS_records_per_call / seconds;
  r.p50_ms = Quantile(s.latencies_ms, 0.5);
  r.p99_ms = Quantile(s.latencies_ms, 0.99);
  r.refusals_per_s = s.refused / seconds;
  r.expired_per_s = s.expired / seconds;
  r.throttled_per_s = s.throttled / seconds;
  r.last_throttled_s = s.last_throttled_s;
  r.other = s.other;
  r.backlog = s.backlog;
  r.calls = s.accepted + s.refused + s.expired + s.other;
  return r;
}

PhaseResult ClosedLoop(const std::string& address, double seconds) {
  Stats stats;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < FLAGS_clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = v1::Streams::NewStub(OwnChannel(address, c));
      const v1::PutRecordsRequest request = MakeRequest(c);
      while (!stop.load()) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::milliseconds(FLAGS_deadline_ms));
        v1::PutRecordsResponse response;
        const absl::Time start = absl::Now();
        grpc::Status status = stub->PutRecords(&context, request, &response);
        stats.Add(status, response.failed_record_count() == 0,
                  absl::ToDoubleMilliseconds(absl::Now() - start));
      }
    });
  }
  absl::SleepFor(absl::Seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  return Summarize("max", stats, seconds, 0);
}

// Accepted calls' latencies in 250 ms windows of a phase (for the recovery time).
class Windows {
 public:
  explicit Windows(double seconds) : ms_(static_cast<int>(seconds * 4) + 1) {}
  void Add(absl::Duration since_start, double ms) {
    const int b = static_cast<int>(since_start / absl::Milliseconds(250));
    absl::MutexLock lock(&mu_);
    if (b >= 0 && b < static_cast<int>(ms_.size())) ms_[b].push_back(ms);
  }
  // The end of the first window whose p99 is within `p99_target` (seconds from the start), or
  // -1.
  double RecoveredAfter(double p99_target) {
    absl::MutexLock lock(&mu_);
    for (size_t b = 0; b < ms_.size(); ++b) {
      if (!ms_[b].empty() && Quantile(ms_[b], 0.99) <= p99_target) return (b + 1) * 0.25;
    }
    return -1;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::vector<double>> ms_ ABSL_GUARDED_BY(mu_);
};

// One open-loop phase at `calls_per_s` in total. With `window_p99_target` > 0, also returns in
// *recovered_after the time from the start until a 250 ms window's p99 is within it.
// Each open-loop client's throttle (empty: no client-side throttling).
using Throttles = std::vector<std::unique_ptr<AdaptiveThrottle>>;

PhaseResult OpenLoop(const std::string& name, const std::string& address, double calls_per_s,
                     double seconds, Throttles& throttles, double window_p99_target = 0,
                     double* recovered_after = nullptr) {
  Stats stats;
  Windows windows(seconds);
  const absl::Time phase_start = absl::Now();
  std::vector<std::thread> threads;
  for (int c = 0; c < FLAGS_open_clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = v1::Streams::NewStub(OwnChannel(address, c));
      const v1::PutRecordsRequest request = MakeRequest(c);
      const absl::Duration interval =
          absl::Seconds(FLAGS_open_clients / std::max(1e-9, calls_per_s));
      std::atomic<int> outstanding{0};
      absl::Time next = phase_start + interval * (static_cast<double>(c) / FLAGS_open_clients);
      const absl::Time end = phase_start + absl::Seconds(seconds);
      while (next < end) {
        absl::SleepFor(next - absl::Now());
        next += interval;
        if (outstanding.load() >= FLAGS_max_outstanding) {
          absl::MutexLock lock(&stats.mu);
          ++stats.backlog;
          continue;
        }
        AdaptiveThrottle* throttle = throttles.empty() ? nullptr : throttles[c].get();
        if (throttle != nullptr && !throttle->Admit().ok()) {
          absl::MutexLock lock(&stats.mu);
          ++stats.throttled;
          stats.last_throttled_s = absl::ToDoubleSeconds(absl::Now() - phase_start);
          continue;
        }
        struct Call {
          grpc::ClientContext context;
          v1::PutRecordsResponse response;
          absl::Time start;
        };
        auto* call = new Call;
        call->start = absl::Now();
        call->context.set_deadline(std::chrono::system_clock::now() +
                                   std::chrono::milliseconds(FLAGS_deadline_ms));
        ++outstanding;
        stub->async()->PutRecords(
            &call->context, &request, &call->response,
            [&, call, throttle](grpc::Status status) {
              if (throttle != nullptr) {
                throttle->Done(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
              }
              const absl::Time now = absl::Now();
              const double ms = absl::ToDoubleMilliseconds(now - call->start);
              const bool all = call->response.failed_record_count() == 0;
              stats.Add(status, all, ms);
              if (status.ok() && all) windows.Add(now - phase_start, ms);
              delete call;
              --outstanding;
            });
      }
      while (outstanding.load() > 0) absl::SleepFor(absl::Milliseconds(5));
    });
  }
  for (auto& t : threads) t.join();
  if (recovered_after != nullptr) *recovered_after = windows.RecoveredAfter(window_p99_target);
  return Summarize(name, stats, seconds, calls_per_s);
}

// The "bytes" generator: requests serialized once, sent as ByteBuffers through a generic stub.
constexpr char kPutRecordsMethod[] = "/tributary.v1.Streams/PutRecords";

grpc::ByteBuffer Serialized(const v1::PutRecordsRequest& request) {
  const std::string bytes = request.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// A PutRecordsResponse's failed_record_count (field 1), read without building the message (its
// entries, field 2, are skipped); -1 when the bytes are no PutRecordsResponse.
int64_t FailedRecordCount(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return -1;
  std::string bytes;
  if (slices.size() != 1) {
    for (const grpc::Slice& slice : slices) {
      bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
  }
  const uint8_t* data = slices.size() == 1 ? slices[0].begin()
                                           : reinterpret_cast<const uint8_t*>(bytes.data());
  const int size = static_cast<int>(slices.size() == 1 ? slices[0].size() : bytes.size());
  google::protobuf::io::CodedInputStream in(data, size);
  int64_t failed = 0;
  while (uint32_t tag = in.ReadTag()) {
    if (tag == google::protobuf::internal::WireFormatLite::MakeTag(
                   1, google::protobuf::internal::WireFormatLite::WIRETYPE_VARINT)) {
      uint32_t v = 0;
      if (!in.ReadVarint32(&v)) return -1;
      failed = static_cast<int32_t>(v);
    } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
      return -1;
    }
  }
  return failed;
}

// One call of the bytes generator, alive until its callback.
struct BytesCall {
  grpc::ClientContext context;
  grpc::ByteBuffer response;
  absl::Time start;
};

PhaseResult ClosedLoopBytes(const std::string& address, double seconds) {
  Stats stats;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < FLAGS_clients; ++c) {
    threads.emplace_back([&, c] {
      grpc::GenericStub stub(OwnChannel(address, c));
      const grpc::ByteBuffer request = Serialized(MakeRequest(c));
      while (!stop.load()) {
        BytesCall call;
        call.context.set_deadline(std::chrono::system_clock::now() +
                                  std::chrono::milliseconds(FLAGS_deadline_ms));
        call.start = absl::Now();
        absl::Notification done;
        grpc::Status status;
        stub.UnaryCall(&call.context, kPutRecordsMethod, {}, &request, &call.response,
                       [&](grpc::Status s) {
                         status = std::move(s);
                         done.Notify();
                       });
        done.WaitForNotification();
        stats.Add(status, status.ok() && FailedRecordCount(call.response) == 0,
                  absl::ToDoubleMilliseconds(absl::Now() - call.start));
      }
    });
  }
  absl::SleepFor(absl::Seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  return Summarize("max", stats, seconds, 0);
}

// The bytes generator's open loop: one thread sends every client's calls at their times
// (round-robin over --open_clients channels); replies are counted on gRPC's callback threads.
PhaseResult OpenLoopBytes(const std::string& name, const std::string& address,
                          double calls_per_s, double seconds, Throttles& throttles,
                          double window_p99_target = 0, double* recovered_after = nullptr) {
  Stats stats;
  Windows windows(seconds);
  struct Client {
    std::unique_ptr<grpc::GenericStub> stub;
    grpc::ByteBuffer request;
    std::atomic<int> outstanding{0};
  };
  std::vector<Client> clients(FLAGS_open_clients);
  for (int c = 0; c < FLAGS_open_clients; ++c) {
    clients[c].stub = std::make_unique<grpc::GenericStub>(OwnChannel(address, c));
    clients[c].request = Serialized(MakeRequest(c));
  }
  std::atomic<int> outstanding{0};
  const absl::Time phase_start = absl::Now();
  const absl::Time end = phase_start + absl::Seconds(seconds);
  const absl::Duration interval = absl::Seconds(1 / std::max(1e-9, calls_per_s));
  absl::Time next = phase_start;
  for (int64_t i = 0; next < end; ++i, next += interval) {
    const absl::Time now = absl::Now();
    if (next > now) absl::SleepFor(next - now);
    Client& client = clients[i % clients.size()];
    if (client.outstanding.load() >= FLAGS_max_outstanding) {
      absl::MutexLock lock(&stats.mu);
      ++stats.backlog;
      continue;
    }
    AdaptiveThrottle* throttle =
        throttles.empty() ? nullptr : throttles[i % throttles.size()].get();
    if (throttle != nullptr && !throttle->Admit().ok()) {
      absl::MutexLock lock(&stats.mu);
      ++stats.throttled;
      stats.last_throttled_s = absl::ToDoubleSeconds(absl::Now() - phase_start);
      continue;
    }
    auto* call = new BytesCall;
    call->start = absl::Now();
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(FLAGS_deadline_ms));
    ++client.outstanding;
    ++outstanding;
    client.stub->UnaryCall(
        &call->context, kPutRecordsMethod, {}, &client.request, &call->response,
        [&, call, c = &client, throttle](grpc::Status status) {
          if (throttle != nullptr) {
            throttle->Done(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
          }
          const absl::Time done = absl::Now();
          const double ms = absl::ToDoubleMilliseconds(done - call->start);
          const bool all = status.ok() && FailedRecordCount(call->response) == 0;
          stats.Add(status, all, ms);
          if (all) windows.Add(done - phase_start, ms);
          delete call;
          --c->outstanding;
          --outstanding;
        });
  }
  while (outstanding.load() > 0) absl::SleepFor(absl::Milliseconds(5));
  if (recovered_after != nullptr) *recovered_after = windows.RecoveredAfter(window_p99_target);
  return Summarize(name, stats, seconds, calls_per_s);
}

// Holds the store's record writes while closed (the refusal phase fills the put queue with it).
class WriteGate {
 public:
  rocksdb::Status Pass(shard_store::WriteKind kind) {
    if (kind != shard_store::WriteKind::kRecords) return rocksdb::Status::OK();
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(+[](bool* open) { return *open; }, &open_));
    return rocksdb::Status::OK();
  }
  void Set(bool open) {
    absl::MutexLock lock(&mu_);
    open_ = open;
  }

 private:
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
};

double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Pins this process to `cpus` ("0,1"; empty: no change).
void Pin(const std::string& cpus, const char* who) {
  if (cpus.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (absl::string_view part : absl::StrSplit(cpus, ',', absl::SkipEmpty())) {
    int cpu = 0;
    if (absl::SimpleAtoi(part, &cpu)) CPU_SET(cpu, &set);
  }
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    std::fprintf(stderr, "%s: sched_setaffinity(%s) failed\n", who, cpus.c_str());
  }
}

// Bytes of the files under `dir`.
int64_t DirBytes(const std::string& dir) {
  int64_t bytes = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const auto size = it->file_size(size_ec);
      if (!size_ec) bytes += static_cast<int64_t>(size);
    }
  }
  return bytes;
}

// Free bytes on the file system holding `path`.
int64_t FreeBytes(const std::string& path) {
  struct statvfs s;
  if (statvfs(path.c_str(), &s) != 0) return -1;
  return static_cast<int64_t>(s.f_bavail) * s.f_frsize;
}

// The server process (spawned with --serve_fds): serves until the parent says "quit", answering its
// questions one line each: "addr", "cpu" (seconds), "rss" (peak bytes), "held" (put calls held),
// "gate 0|1" (hold / pass the store's record writes), "budget" (peak bytes and refusals).
int ServeChild(std::FILE* in, std::FILE* out) {
  if (FLAGS_server_cpus.empty() && !FLAGS_client_cpus.empty()) {
    // Spawned by a pinned generator: undo the affinity inherited from it.
    std::string all;
    for (unsigned c = 0; c < std::thread::hardware_concurrency(); ++c) {
      absl::StrAppend(&all, c ? "," : "", c);
    }
    Pin(all, "server");
  } else {
    Pin(FLAGS_server_cpus, "server");
  }
  std::string dir = FLAGS_work_dir;
  if (dir.empty()) dir = MakeTempDir();
  shard_store::ShardStoreNodeOptions options;
  options.store.data_dir = dir + "/shard_store";
  options.trim_period = absl::ZeroDuration();
  options.memory_budget_bytes = FLAGS_memory_budget_mb << 20;
  options.max_pending_puts = FLAGS_max_pending_puts;
  options.put_threads = FLAGS_put_threads;
  options.max_client_put_share = FLAGS_max_client_put_share;
  options.max_put_queue_delay = absl::Milliseconds(FLAGS_max_put_queue_delay_ms);
  WriteGate gate;
  options.store.write_interceptor = [&gate](shard_store::WriteKind kind) {
    return gate.Pass(kind);
  };
  auto node = shard_store::ShardStoreNode::Create(options, RealClock::Get());
  if (!node.ok()) {
    std::fprintf(stderr, "%s\n", node.status().ToString().c_str());
    return 1;
  }
  GrpcServerLimits limits;
  limits.max_concurrent_streams = FLAGS_max_concurrent_streams;
  auto server = GrpcServer::Start("127.0.0.1:0", {(*node)->service()}, GrpcServerSecurity(), limits);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  aws::AwsServerOptions aws_options;
  aws_options.listen_address = "127.0.0.1:0";
  aws_options.http.max_pending_requests = FLAGS_aws_max_pending_requests;
  aws_options.http.memory_budget = &(*node)->memory_budget();
  auto aws_server = aws::AwsServer::Start(aws_options, (*node)->store());
  if (!aws_server.ok()) {
    std::fprintf(stderr, "%s\n", aws_server.status().ToString().c_str());
    return 1;
  }
  v1::CreateStreamRequest create;
  create.set_stream_name("overload");
  create.set_shard_count(FLAGS_shards);
  if (absl::Status s = (*node)->store().CreateStream(create); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  char line[256];
  while (std::fgets(line, sizeof(line), in) != nullptr) {
    const std::string command = std::string(absl::StripTrailingAsciiWhitespace(line));
    std::string answer;
    if (command == "addr") {
      answer = (*server)->address();
    } else if (command == "awsport") {
      answer = absl::StrCat((*aws_server)->port());
    } else if (command == "cpu") {
      answer = absl::StrCat(CpuSeconds());
    } else if (command == "rss") {
      answer = absl::StrCat(PeakRssBytes());
    } else if (command == "held") {
      answer = absl::StrCat((*node)->streams_service().put_executor().held_requests());
    } else if (command == "gate 0" || command == "gate 1") {
      gate.Set(command == "gate 1");
      answer = "ok";
    } else if (command == "disk") {
      answer = absl::StrCat(DirBytes(dir));
    } else if (command == "budget") {
      answer = absl::StrCat((*node)->memory_budget().peak(), " ",
                            (*node)->memory_budget().refusals());
    } else if (command == "quit") {
      break;
    } else {
      answer = "?";
    }
    std::fprintf(out, "%s\n", answer.c_str());
    std::fflush(out);
  }
  gate.Set(true);
  (*aws_server)->Shutdown();
  (*server)->Shutdown();
  node->reset();
  std::filesystem::remove_all(dir);
  return 0;
}

// The command line this process was started with (the server processes get the same flags).
std::vector<std::string>& Argv() {
  static auto* argv = new std::vector<std::string>;
  return *argv;
}

// The parent's handle on one server process: this program again, spawned with --serve_fds
// (posix_spawn, so a fresh server can start after this process's gRPC has: fork alone would
// copy gRPC's threads' state).
class ServerProcess {
 public:
  // Starts a server process; nullptr when it could not be.
  static std::unique_ptr<ServerProcess> Spawn() {
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) {
      std::perror("pipe2");
      return nullptr;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // dup2 clears close-on-exec on the copies: the child keeps exactly these two.
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 50);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 51);
    std::vector<std::string> args = Argv();
    args.push_back("--serve_fds=50,51");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(to_child[0]);
    close(from_child[1]);
    if (rc != 0) {
      std::fprintf(stderr, "posix_spawn: %s\n", std::strerror(rc));
      close(to_child[1]);
      close(from_child[0]);
      return nullptr;
    }
    return std::unique_ptr<ServerProcess>(
        new ServerProcess(pid, fdopen(to_child[1], "w"), fdopen(from_child[0], "r")));
  }
  ~ServerProcess() { Quit(); }
  // Stops the server (it removes its data directory) and waits for it.
  void Quit() {
    if (pid_ <= 0) return;
    std::fprintf(to_, "quit\n");
    std::fflush(to_);
    std::fclose(to_);
    int status = 0;
    waitpid(pid_, &status, 0);
    std::fclose(from_);
    pid_ = 0;
  }
  pid_t pid() const { return pid_; }
  std::string Ask(const std::string& command) {
    std::fprintf(to_, "%s\n", command.c_str());
    std::fflush(to_);
    char line[512];
    if (std::fgets(line, sizeof(line), from_) == nullptr) return "";
    return std::string(absl::StripTrailingAsciiWhitespace(line));
  }
  double Cpu() {
    double v = 0;
    (void)absl::SimpleAtod(Ask("cpu"), &v);
    return v;
  }
  int64_t PeakRss() {
    int64_t v = 0;
    (void)absl::SimpleAtoi(Ask("rss"), &v);
    return v;
  }
  int Held() {
    int v = 0;
    (void)absl::SimpleAtoi(Ask("held"), &v);
    return v;
  }
  void Gate(bool open) { Ask(open ? "gate 1" : "gate 0"); }
  int64_t DiskBytes() {
    int64_t v = 0;
    (void)absl::SimpleAtoi(Ask("disk"), &v);
    return v;
  }

 private:
  ServerProcess(pid_t pid, std::FILE* to, std::FILE* from) : pid_(pid), to_(to), from_(from) {}
  pid_t pid_;
  std::FILE* to_;
  std::FILE* from_;
};

struct CallCost {
  double client_cpu_us = 0, server_cpu_us = 0, wall_us = 0;
  int64_t ok = 0, refused = 0, other = 0;
};

// `n` sequential calls of `request` on `stub`: CPU of either process and wall time per call.
CallCost MeasureCalls(v1::Streams::Stub& stub, ServerProcess& server,
                      const v1::PutRecordsRequest& request, int n) {
  CallCost cost;
  const double server0 = server.Cpu();
  const double cpu0 = CpuSeconds();
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < n; ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(FLAGS_deadline_ms));
    v1::PutRecordsResponse response;
    grpc::Status status = stub.PutRecords(&context, request, &response);
    if (status.ok()) {
      ++cost.ok;
    } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++cost.refused;
    } else {
      ++cost.other;
    }
  }
  cost.wall_us = absl::ToDoubleMicroseconds(absl::Now() - t0) / n;
  cost.client_cpu_us = (CpuSeconds() - cpu0) * 1e6 / n;
  cost.server_cpu_us = (server.Cpu() - server0) * 1e6 / n;
  return cost;
}

// The refusal-cost phase (see the top). Fills the put queue from filler connections (tiny
// calls, several connections for the fair share) while the gate holds the writes.
void RefusalCost(const std::string& address, ServerProcess& server,
                 const v1::PutRecordsRequest& request, const std::string& label) {
  auto stub = v1::Streams::NewStub(OwnChannel(address, 1000));
  MeasureCalls(*stub, server, request, std::min(100, FLAGS_cost_calls));  // warm up
  const CallCost accepted = MeasureCalls(*stub, server, request, FLAGS_cost_calls);
  server.Gate(false);
  v1::PutRecordsRequest tiny;
  tiny.set_stream_name("overload");
  auto* e = tiny.add_records();
  e->set_partition_key("filler");
  e->set_data("x");
  struct Filler {
    std::unique_ptr<v1::Streams::Stub> stub;
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    std::vector<std::unique_ptr<v1::PutRecordsResponse>> responses;
  };
  std::vector<Filler> fillers;
  std::atomic<int> outstanding{0};
  const int per_filler = std::max(1, FLAGS_max_pending_puts / 4);
  for (int f = 0; f < 8 && server.Held() < FLAGS_max_pending_puts; ++f) {
    Filler filler;
    filler.stub = v1::Streams::NewStub(OwnChannel(address, 2000 + f));
    for (int i = 0; i < per_filler; ++i) {
      filler.contexts.push_back(std::make_unique<grpc::ClientContext>());
      filler.responses.push_back(std::make_unique<v1::PutRecordsResponse>());
      filler.contexts.back()->set_deadline(std::chrono::system_clock::now() +
                                           std::chrono::seconds(600));
      ++outstanding;
      filler.stub->async()->PutRecords(filler.contexts.back().get(), &tiny,
                                       filler.responses.back().get(),
                                       [&](grpc::Status) { --outstanding; });
    }
    fillers.push_back(std::move(filler));
    absl::SleepFor(absl::Milliseconds(200));  // let them land
  }
  const int held = server.Held();
  const CallCost refused = MeasureCalls(*stub, server, request, FLAGS_cost_calls);
  server.Gate(true);
  while (outstanding.load() > 0) absl::SleepFor(absl::Milliseconds(5));
  std::printf(
      "refusal cost (%s): accepted: server %.1f us CPU, client %.1f us CPU, %.0f us wall a call "
      "(%lld ok); refused: server %.1f us CPU, client %.1f us CPU, %.0f us wall a call (%lld "
      "refused, %lld ok, %lld other; queue held %d) = %.1f%% of an accepted call's server CPU "
      "(%.1f%% of both processes')\n",
      label.c_str(), accepted.server_cpu_us, accepted.client_cpu_us, accepted.wall_us,
      static_cast<long long>(accepted.ok), refused.server_cpu_us, refused.client_cpu_us,
      refused.wall_us, static_cast<long long>(refused.refused),
      static_cast<long long>(refused.ok), static_cast<long long>(refused.other), held,
      100.0 * refused.server_cpu_us / std::max(1e-9, accepted.server_cpu_us),
      100.0 * (refused.server_cpu_us + refused.client_cpu_us) /
          std::max(1e-9, accepted.server_cpu_us + accepted.client_cpu_us));
  std::fflush(stdout);
}

// The AWS port (aws::AwsServer: Beast HTTP/1.1, Kinesis's JSON protocol) in the same server
// process, over the same store.
namespace asio = boost::asio;
namespace http = boost::beast::http;

// The JSON body of a PutRecords call with the records of `r`, as botocore sends it.
std::string PutRecordsJson(const v1::PutRecordsRequest& r) {
  std::string body = absl::StrCat(R"({"StreamName":")", r.stream_name(), R"(","Records":[)");
  for (int i = 0; i < r.records_size(); ++i) {
    absl::StrAppend(&body, i ? "," : "", R"({"Data":")", absl::Base64Escape(r.records(i).data()),
                    R"(","PartitionKey":")", r.records(i).partition_key(), R"("})");
  }
  body += "]}";
  return body;
}

// The head of a Kinesis_20131202.PutRecords request of `body_bytes` (a well-formed SigV4
// Authorization; the bench's server verifies none).
std::string PutRecordsHead(int port, size_t body_bytes) {
  return absl::StrCat(
      "POST / HTTP/1.1\r\nHost: 127.0.0.1:", port,
      "\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.PutRecords"
      "\r\nX-Amz-Date: 20240101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 "
      "Credential=AKIDBENCH/20240101/us-east-1/kinesis/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=",
      std::string(64, '0'), "\r\nContent-Length: ", body_bytes, "\r\n\r\n");
}

// A blocking HTTP/1.1 client connection sending pre-built requests.
class HttpConnection {
 public:
  bool Connect(int port) {
    boost::system::error_code ec;
    socket_.connect({asio::ip::make_address("127.0.0.1", ec), static_cast<unsigned short>(port)},
                    ec);
    if (ec) return false;
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    return true;
  }
  bool Send(const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(bytes), ec);
    return !ec;
  }
  // Reads one reply; its status (0 when none could be read), body and whether the server keeps
  // the connection.
  int Read(std::string* body, bool* keep_alive) {
    boost::system::error_code ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(socket_, buffer_, parser, ec);
    if (ec) return 0;
    *keep_alive = parser.get().keep_alive();
    *body = std::move(parser.get().body());
    return parser.get().result_int();
  }
  void Close() {
    boost::system::error_code ec;
    socket_.close(ec);
    buffer_.clear();
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_{io_};
  boost::beast::flat_buffer buffer_;
};

// `n` sequential PutRecords calls of `request` (head and body) over HTTP/1.1, as an SDK makes
// them: on one keep-alive connection, reconnecting when the server closes it (each refusal
// does). CPU of either process and wall time per call; a 400 naming
// ProvisionedThroughputExceededException counts as refused.
CallCost MeasureHttpCalls(int port, ServerProcess& server, const std::string& request, int n,
                          int64_t* connects) {
  CallCost cost;
  const double server0 = server.Cpu();
  const double cpu0 = CpuSeconds();
  const absl::Time t0 = absl::Now();
  auto connection = std::make_unique<HttpConnection>();
  bool open = false;
  for (int i = 0; i < n; ++i) {
    if (!open) {
      connection = std::make_unique<HttpConnection>();
      open = connection->Connect(port);
      ++*connects;
      if (!open) {
        ++cost.other;
        continue;
      }
    }
    std::string body;
    bool keep_alive = false;
    const int status = connection->Send(request) ? connection->Read(&body, &keep_alive) : 0;
    if (status == 200 && FailedRecordCountIsZero(body)) {
      ++cost.ok;
    } else if (status == 400 &&
               body.find("ProvisionedThroughputExceededException") != std::string::npos) {
      ++cost.refused;
    } else {
      ++cost.other;
    }
    if (status == 0 || !keep_alive) {
      connection->Close();
      open = false;
    }
  }
  cost.wall_us = absl::ToDoubleMicroseconds(absl::Now() - t0) / n;
  cost.client_cpu_us = (CpuSeconds() - cpu0) * 1e6 / n;
  cost.server_cpu_us = (server.Cpu() - server0) * 1e6 / n;
  return cost;
}

// The AWS port's refusal cost: --aws_cost_calls PutRecords of `records` accepted, then refused
// while --aws_max_pending_requests connections hold the port's admission slots full (each has
// sent a PutRecords head and not its body: a slot is taken at the head).
void AwsRefusalCost(int port, ServerProcess& server, const v1::PutRecordsRequest& records,
                    const std::string& label) {
  const std::string body = PutRecordsJson(records);
  const std::string request = PutRecordsHead(port, body.size()) + body;
  int64_t connects = 0;
  MeasureHttpCalls(port, server, request, std::min(100, FLAGS_aws_cost_calls), &connects);
  connects = 0;
  const CallCost accepted = MeasureHttpCalls(port, server, request, FLAGS_aws_cost_calls,
                                             &connects);
  const int64_t accepted_connects = connects;
  std::vector<std::unique_ptr<HttpConnection>> fillers;
  for (int i = 0; i < FLAGS_aws_max_pending_requests; ++i) {
    auto filler = std::make_unique<HttpConnection>();
    if (filler->Connect(port) && filler->Send(PutRecordsHead(port, body.size()))) {
      fillers.push_back(std::move(filler));
    }
  }
  absl::SleepFor(absl::Milliseconds(300));  // let their heads be read
  connects = 0;
  const CallCost refused = MeasureHttpCalls(port, server, request, FLAGS_aws_cost_calls,
                                            &connects);
  for (auto& filler : fillers) filler->Close();
  std::printf(
      "AWS port refusal cost (%s, %zu B body): accepted: server %.1f us CPU, client %.1f us "
      "CPU, %.0f us wall a call (%lld ok, %lld connections); refused: server %.1f us CPU, client "
      "%.1f us CPU, %.0f us wall a call (%lld refused, %lld ok, %lld other, %lld connections; "
      "%zu slots held) = %.1f%% of an accepted call's server CPU (%.1f%% of both processes')\n",
      label.c_str(), body.size(), accepted.server_cpu_us, accepted.client_cpu_us,
      accepted.wall_us, static_cast<long long>(accepted.ok),
      static_cast<long long>(accepted_connects), refused.server_cpu_us, refused.client_cpu_us,
      refused.wall_us, static_cast<long long>(refused.refused),
      static_cast<long long>(refused.ok), static_cast<long long>(refused.other),
      static_cast<long long>(connects), fillers.size(),
      100.0 * refused.server_cpu_us / std::max(1e-9, accepted.server_cpu_us),
      100.0 * (refused.server_cpu_us + refused.client_cpu_us) /
          std::max(1e-9, accepted.server_cpu_us + accepted.client_cpu_us));
  std::fflush(stdout);
}

// Runs `phase` and adds the server's CPU per answered call and its peak RSS.
template <typename Phase>
PhaseResult Measured(ServerProcess& server, Phase phase) {
  const double cpu0 = server.Cpu();
  const double client0 = CpuSeconds();
  const absl::Time t0 = absl::Now();
  PhaseResult r = phase();
  const double wall = std::max(1e-9, absl::ToDoubleSeconds(absl::Now() - t0));
  const double client_cpu = CpuSeconds() - client0, server_cpu = server.Cpu() - cpu0;
  r.client_cpu_us_per_call = client_cpu * 1e6 / std::max<int64_t>(1, r.calls);
  r.server_cpu_us_per_call = server_cpu * 1e6 / std::max<int64_t>(1, r.calls);
  r.client_cores = client_cpu / wall;
  r.server_cores = server_cpu / wall;
  r.server_peak_rss = server.PeakRss();
  return r;
}

// The phases' server processes (a fresh one a phase with --fresh_server), disk guard, and
// perf profiles of chosen phases.
class PhaseServers {
 public:
  PhaseServers()
      : free_path_(FLAGS_work_dir.empty() ? std::filesystem::temp_directory_path().string()
                                          : FLAGS_work_dir) {}
  // The server of the next phase, started if needed (`fresh`: a new one); nullptr on failure.
  ServerProcess* Begin(bool fresh) {
    if (server_ != nullptr && !(fresh && FLAGS_fresh_server)) return server_.get();
    End();
    const int64_t free_bytes = FreeBytes(free_path_);
    min_free_ = min_free_ < 0 ? free_bytes : std::min(min_free_, free_bytes);
    if (free_bytes >= 0 && free_bytes < static_cast<int64_t>(FLAGS_min_free_gb * (1 << 30))) {
      std::fprintf(stderr, "%s has %.1f GiB free, under --min_free_gb=%.1f: stopping\n",
                   free_path_.c_str(), free_bytes / double(1 << 30), FLAGS_min_free_gb);
      return nullptr;
    }
    server_ = ServerProcess::Spawn();
    if (server_ == nullptr) return nullptr;
    address_ = server_->Ask("addr");
    if (address_.empty()) {
      std::fprintf(stderr, "the server process did not start\n");
      server_.reset();
      return nullptr;
    }
    std::printf("server process %d at %s (%.1f GiB free on %s)\n", static_cast<int>(server_->pid()),
                address_.c_str(), free_bytes / double(1 << 30), free_path_.c_str());
    return server_.get();
  }
  // Notes the current server's disk use, then stops it (it removes its data directory).
  void End() {
    if (server_ == nullptr) return;
    Sample();
    server_->Quit();
    server_.reset();
  }
  // The current server's data directory size, into the maximum.
  int64_t Sample() {
    const int64_t bytes = server_ == nullptr ? 0 : server_->DiskBytes();
    max_disk_ = std::max(max_disk_, bytes);
    return bytes;
  }
  const std::string& address() const { return address_; }
  int64_t max_disk() const { return max_disk_; }
  int64_t min_free() const { return min_free_; }
  ~PhaseServers() { End(); }

  // With `base` in --perf_phases: `perf record -g` on the server from 1 s into the phase for
  // `seconds` - 2 s. Stop() waits for it.
  class Perf {
   public:
    Perf(pid_t server, const std::string& base, const std::string& name, double seconds) {
      bool wanted = false;
      for (absl::string_view p : absl::StrSplit(FLAGS_perf_phases, ',', absl::SkipEmpty())) {
        wanted |= p == base;
      }
      if (!wanted || seconds < 3) return;
      std::string file = name;
      for (char& c : file) {
        if (!absl::ascii_isalnum(c)) c = '_';
      }
      file = absl::StrCat(FLAGS_perf_dir, "/overload_", file, ".data");
      thread_ = std::thread([server, file, seconds] {
        absl::SleepFor(absl::Seconds(1));
        std::vector<std::string> args = {"perf", "record", "-q", "-g", "-F",
                                         absl::StrCat(FLAGS_perf_frequency), "-p",
                                         absl::StrCat(server), "-o", file, "--", "sleep",
                                         absl::StrCat(seconds - 2)};
        std::vector<char*> argv;
        for (std::string& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        if (posix_spawnp(&pid, "perf", nullptr, nullptr, argv.data(), environ) != 0) {
          std::fprintf(stderr, "could not start perf\n");
          return;
        }
        int status = 0;
        waitpid(pid, &status, 0);
        std::printf("perf: %s (server pid %d, %.0f s)\n", file.c_str(), static_cast<int>(server),
                    seconds - 2);
      });
    }
    ~Perf() {
      if (thread_.joinable()) thread_.join();
    }

   private:
    std::thread thread_;
  };

 private:
  const std::string free_path_;
  std::unique_ptr<ServerProcess> server_;
  std::string address_;
  int64_t max_disk_ = 0, min_free_ = -1;
};

int RunClient() {
  Pin(FLAGS_client_cpus, "client");
  if (FLAGS_client_nice != 0 && nice(FLAGS_client_nice) == -1) {
    std::fprintf(stderr, "nice(%d) failed\n", FLAGS_client_nice);
  }
  const double seconds = std::min(30.0, FLAGS_seconds);
  PhaseServers servers;
  std::printf(
      "overload_bench: %d records x %d B a call, %d shards, budget %lld MiB, %d put threads, "
      "max_pending_puts %d, max_put_queue_delay_ms %d, max_concurrent_streams %d, %d closed / "
      "%d open clients, "
      "%u cores, %.1f s a phase, client throttles' window %d ms; "
      "server in its own process (cpus \"%s\", %s), load generator \"%s\" cpus \"%s\" nice %d\n",
      FLAGS_records_per_call, FLAGS_record_bytes, FLAGS_shards,
      static_cast<long long>(FLAGS_memory_budget_mb), FLAGS_put_threads, FLAGS_max_pending_puts,
      FLAGS_max_put_queue_delay_ms, FLAGS_max_concurrent_streams, FLAGS_clients,
      FLAGS_open_clients, std::thread::hardware_concurrency(), seconds, FLAGS_throttle_window_ms,
      FLAGS_server_cpus.c_str(),
      FLAGS_fresh_server ? "a fresh one each phase" : "one for all phases",
      FLAGS_generator.c_str(), FLAGS_client_cpus.c_str(), FLAGS_client_nice);
  if (FLAGS_cost_calls > 0 || FLAGS_aws_cost_calls > 0) {
    ServerProcess* server = servers.Begin(true);
    if (server == nullptr) return 1;
    const std::string address = servers.address();
    if (FLAGS_cost_calls > 0) {
      RefusalCost(address, *server, MakeRequest(0), "the call as configured");
      v1::PutRecordsRequest one = MakeRequest(0);
      one.mutable_records()->DeleteSubrange(1, one.records_size() - 1);
      RefusalCost(address, *server, one, "1 record");
    }
    if (FLAGS_aws_cost_calls > 0) {
      int aws_port = 0;
      (void)absl::SimpleAtoi(server->Ask("awsport"), &aws_port);
      v1::PutRecordsRequest small = MakeRequest(0);
      small.clear_records();
      for (int i = 0; i < 500; ++i) {
        auto* e = small.add_records();
        e->set_partition_key(absl::StrCat("0-", i));
        e->set_data(std::string(100, 'x'));
      }
      AwsRefusalCost(aws_port, *server, MakeRequest(0), "the call as configured");
      AwsRefusalCost(aws_port, *server, small, "500 records x 100 B");
    }
  }
  if (FLAGS_seconds <= 0) return 0;
  const bool bytes = FLAGS_generator == "bytes";
  auto open_loop = [&](const std::string& name, double calls_per_s, double phase_seconds,
                       Throttles& throttles, double window_p99_target = 0,
                       double* recovered_after = nullptr) {
    const std::string& address = servers.address();
    return bytes ? OpenLoopBytes(name, address, calls_per_s, phase_seconds, throttles,
                                 window_p99_target, recovered_after)
                 : OpenLoop(name, address, calls_per_s, phase_seconds, throttles,
                            window_p99_target, recovered_after);
  };
  // One phase on `server` (`base`: its name without the mode, for --perf_phases), measured, its
  // server's disk use printed.
  auto measured = [&](ServerProcess& server, const std::string& base, const std::string& name,
                      double phase_seconds, auto phase) {
    PhaseResult r;
    {
      PhaseServers::Perf perf(server.pid(), base, name, phase_seconds);
      r = Measured(server, phase);
    }
    Print(r);
    std::printf("  %s: server data directory %.0f MiB at the phase's end; memory budget peak "
                "bytes and refusals %s\n",
                name.c_str(), servers.Sample() / double(1 << 20), server.Ask("budget").c_str());
    return r;
  };
  // The client-side throttling modes, each with its clients' throttles (kept across phases).
  struct Mode {
    double k = 0;
    std::string label;
    Throttles throttles;
    double one_p99_ms = 0;
  };
  std::vector<Mode> modes;
  for (absl::string_view part : absl::StrSplit(FLAGS_throttle_k, ',', absl::SkipEmpty())) {
    Mode mode;
    if (!absl::SimpleAtod(part, &mode.k) || mode.k < 0) {
      std::fprintf(stderr, "bad --throttle_k entry \"%s\"\n", std::string(part).c_str());
      return 1;
    }
    mode.label = mode.k == 0 ? "" : absl::StrCat(" K=", mode.k);
    if (mode.k > 0) {
      for (int c = 0; c < FLAGS_open_clients; ++c) {
        AdaptiveThrottleOptions options;
        options.k = mode.k;
        options.window = absl::Milliseconds(FLAGS_throttle_window_ms);
        options.uniform = [engine = std::mt19937_64(c + 1)]() mutable {
          return std::uniform_real_distribution<double>(0, 1)(engine);
        };
        mode.throttles.push_back(
            std::make_unique<AdaptiveThrottle>(RealClock::Get(), std::move(options)));
      }
    }
    modes.push_back(std::move(mode));
  }
  if (modes.empty()) modes.emplace_back();
  ServerProcess* server = servers.Begin(true);
  if (server == nullptr) return 1;
  PhaseResult max = measured(*server, "max", "max", seconds, [&] {
    return bytes ? ClosedLoopBytes(servers.address(), seconds)
                 : ClosedLoop(servers.address(), seconds);
  });
  const double rate = max.goodput_records_per_s / FLAGS_records_per_call;  // calls/s
  for (Mode& mode : modes) {
    if ((server = servers.Begin(true)) == nullptr) return 1;
    PhaseResult one = measured(*server, "1x", "1x" + mode.label, seconds, [&] {
      return open_loop("1x" + mode.label, rate, seconds, mode.throttles);
    });
    mode.one_p99_ms = one.p99_ms;
  }
  auto factor = [&](ServerProcess& server, Mode& mode, int k) {
    const std::string name = absl::StrCat(k, "x", mode.label);
    PhaseResult r = measured(server, absl::StrCat(k, "x"), name, seconds, [&] {
      return open_loop(name, rate * k, seconds, mode.throttles);
    });
    std::printf(
        "%dx%s: goodput %.0f%% of the maximum, p99 %.2fx the 1x%s p99; goodput per server core "
        "%.0f%% of the max phase's\n",
        k, mode.label.c_str(),
        100.0 * r.goodput_records_per_s / std::max(1e-9, max.goodput_records_per_s),
        r.p99_ms / std::max(1e-9, mode.one_p99_ms), mode.label.c_str(),
        100.0 * PerCore(r) / std::max(1e-9, PerCore(max)));
  };
  for (Mode& mode : modes) {
    if ((server = servers.Begin(true)) == nullptr) return 1;
    factor(*server, mode, 2);
  }
  for (Mode& mode : modes) {
    if ((server = servers.Begin(true)) == nullptr) return 1;
    factor(*server, mode, 4);
    double recovered = -1;
    const double recovery_seconds = std::min(seconds, 5.0);
    const std::string name = "recovery" + mode.label;
    PhaseResult after = measured(*server, "recovery", name, recovery_seconds, [&] {
      return open_loop(name, rate * 0.5, recovery_seconds, mode.throttles,
                       mode.one_p99_ms * 1.5, &recovered);
    });
    std::printf(
        "recovery%s: p99 of a 250 ms window within 1.5x the 1x p99 (%.2f ms) after %s\n",
        mode.label.c_str(), mode.one_p99_ms * 1.5,
        recovered < 0 ? "never (within the phase)" : absl::StrCat(recovered, " s").c_str());
    if (mode.k > 0) {
      std::printf("recovery%s: the last client-throttled call %s\n", mode.label.c_str(),
                  after.last_throttled_s < 0
                      ? "was before the phase (none in it)"
                      : absl::StrCat(after.last_throttled_s, " s into the phase").c_str());
    }
  }
  servers.End();
  std::printf("disk: the servers' data directories held at most %.2f GiB (%s); at least %.1f GiB "
              "was free on the work directory's file system before each server\n",
              servers.max_disk() / double(1 << 30),
              FLAGS_fresh_server ? "one phase's records, 4x with its recovery"
                                 : "all phases' records",
              servers.min_free() / double(1 << 30));
  return 0;
}

// The server process's side: commands on the --serve_fds pipe.
int Serve() {
  std::vector<std::string> fds = absl::StrSplit(FLAGS_serve_fds, ',');
  int in = -1, out = -1;
  if (fds.size() != 2 || !absl::SimpleAtoi(fds[0], &in) || !absl::SimpleAtoi(fds[1], &out)) {
    std::fprintf(stderr, "bad --serve_fds\n");
    return 1;
  }
  return ServeChild(fdopen(in, "r"), fdopen(out, "w"));
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) tributary::bench::Argv().push_back(argv[i]);
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  tributary::bench::InitBench();
  if (!FLAGS_serve_fds.empty()) return tributary::bench::Serve();
  return tributary::bench::RunClient();
}
