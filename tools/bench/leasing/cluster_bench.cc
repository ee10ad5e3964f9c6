// cluster_bench: the lease table embedded (RocksDB) beside cluster mode (etcd with poller
// liveness as etcd leases, issue 19) in one run, on a real clock:
//   1. heartbeat, acquire (grants nothing: a heartbeat) and checkpoint operations/s (closed
//      loop, --threads callers, --ops each);
//   2. --leases leases held by --pollers pollers, each checkpointing every lease it holds once a
//      second, for --sustain_seconds: whether every round finished within its second;
//   3. failover after a poller dies with a --failover_lease_ms lease: the victim heartbeats
//      every lease/4 and stops (what leasing sees of a poller's kill -9: its heartbeats, so its
//      keepalives, stop); a survivor acquires every 20 ms (in etcd mode through another leasing
//      replica) until it holds every lease; time from the death to the last lease taken;
//   4. (3 members) kill -9 of the etcd leader while --pollers pollers checkpoint: the longest
//      gap between acknowledged checkpoints, and a reload that must find every acknowledged
//      checkpoint (exits non-zero otherwise).
// etcd runs as real processes on 127.0.0.1 (one member, then three), started and stopped by the
// driver (etcd/testing). Every loop is bounded in count and in time (--phase_seconds).
//
//   bazel run -c opt //tools/bench/leasing:cluster_bench
//   bazel run -c opt //tools/bench/leasing:cluster_bench -- --quick    # the smoke test
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "gflags/gflags.h"
#include "leasing/etcd_lease_store.h"
#include "leasing/lease_store.h"
#include "leasing/lease_table.h"

DEFINE_bool(quick, false, "Small counts: a smoke run");
DEFINE_int32(threads, 16, "Callers at once in the operations/s phase");
DEFINE_int32(ops, 4000, "Operations per kind and backend in the operations/s phase");
DEFINE_int32(leases, 10000, "Leases of the sustained and leader-kill phases");
DEFINE_int32(pollers, 3, "Pollers holding them");
DEFINE_int32(threads_per_poller, 32, "Checkpointing threads per poller (its gRPC calls)");
DEFINE_int32(sustain_seconds, 10, "Rounds (one a second) of the sustained phase");
DEFINE_int32(failover_leases, 100, "Leases of the failover phase");
DEFINE_int32(failover_lease_ms, 2000, "Lease duration (etcd TTL) of the failover phase");
DEFINE_double(phase_seconds, 60, "Upper bound of any one phase's loop, seconds");
DEFINE_string(phases, "ops,sustained,failover,leader_kill",
              "The phases to run (comma-separated; leader_kill runs with 3 members only)");
DEFINE_string(members, "1,3", "etcd cluster sizes to measure (comma-separated)");
DEFINE_bool(embedded, true, "Measure the embedded RocksDB backend too");
DEFINE_string(etcd_flags, "",
              "Extra etcd server flags, space-separated, after the test harness's settings "
              "(e.g. \"--backend-batch-interval=1s\")");
DEFINE_string(pprof_dir, "",
              "With --etcd_flags=--enable-pprof: each member's Go CPU profile of the sustained "
              "phase is fetched (curl) into this directory as m<i>.pprof");

namespace tributary::leasing {
namespace {

using SteadyClock = std::chrono::steady_clock;

#define BENCH_CHECK(cond, ...)                                               \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "cluster_bench: %s:%d: %s\n", __FILE__, __LINE__, \
                   absl::StrFormat(__VA_ARGS__).c_str());                    \
      std::exit(1);                                                          \
    }                                                                        \
  } while (false)

double SecondsSince(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

std::string Shard(int i) { return absl::StrFormat("shardId-%08d", i); }
LeaseKey Key(int i) { return {"esm-bench", Shard(i)}; }
Checkpoint Seq(uint64_t n) { return {CheckpointType::kSequenceNumber, n, absl::UnixEpoch()}; }

// A store that counts the writes through it (the group commit's group sizes).
class CountingStore : public LeaseStore {
 public:
  explicit CountingStore(std::unique_ptr<LeaseStore> inner) : inner_(std::move(inner)) {}
  absl::Status Write(const LeaseStoreWrite& write) override {
    writes_.fetch_add(1);
    lease_puts_.fetch_add(static_cast<int64_t>(write.put_leases.size()));
    return inner_->Write(write);
  }
  absl::StatusOr<LeaseStoreContents> Load() override { return inner_->Load(); }
  LeaseStoreWrite TakeExternalChanges() override { return inner_->TakeExternalChanges(); }
  absl::StatusOr<bool> Barrier() override { return inner_->Barrier(); }
  bool KeepsLiveness() const override { return inner_->KeepsLiveness(); }
  int64_t writes() const { return writes_.load(); }
  int64_t lease_puts() const { return lease_puts_.load(); }

 private:
  std::unique_ptr<LeaseStore> inner_;
  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> lease_puts_{0};
};

// CPU seconds (user + system) of this process and of its etcd children (/proc).
struct CpuSample {
  double self = 0;
  double etcd = 0;
  double etcd_peak_rss_mb = 0;  // the largest member's VmHWM (GOGC trades it for GC CPU)
};
// VmHWM of process `pid` in MB (0 when unknown).
double PeakRssMb(const std::string& pid) {
  FILE* f = std::fopen(absl::StrCat("/proc/", pid, "/status").c_str(), "r");
  if (f == nullptr) return 0;
  char line[256];
  double kb = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (strncmp(line, "VmHWM:", 6) == 0) kb = std::atof(line + 6);
  }
  std::fclose(f);
  return kb / 1024;
}
CpuSample SampleCpu() {
  CpuSample sample;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  auto read_stat = [tick](const std::string& path, std::string* comm, long* ppid) -> double {
    FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) return -1;
    char buffer[1024] = {};
    const size_t n = std::fread(buffer, 1, sizeof(buffer) - 1, f);
    std::fclose(f);
    const std::string line(buffer, n);
    const size_t open = line.find('(');
    const size_t close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) return -1;
    *comm = line.substr(open + 1, close - open - 1);
    // Fields after the comm: state ppid ... utime (14th field overall) stime (15th).
    std::vector<std::string> fields = absl::StrSplit(line.substr(close + 2), ' ');
    if (fields.size() < 13) return -1;
    *ppid = std::atol(fields[1].c_str());
    return (std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) / tick;
  };
  std::string comm;
  long ppid = 0;
  sample.self = read_stat("/proc/self/stat", &comm, &ppid);
  const long me = getpid();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] < '0' || name[0] > '9') continue;
    const double cpu = read_stat(entry.path().string() + "/stat", &comm, &ppid);
    if (cpu >= 0 && ppid == me && comm == "etcd") {
      sample.etcd += cpu;
      sample.etcd_peak_rss_mb = std::max(sample.etcd_peak_rss_mb, PeakRssMb(name));
    }
  }
  return sample;
}

// One leasing replica: its store (and, for etcd, its client) and table.
struct Replica {
  std::unique_ptr<etcd::EtcdClient> client;
  std::unique_ptr<LeaseStore> store;
  CountingStore* counted = nullptr;  // store, seen as what it is
  std::unique_ptr<LeaseTable> table;
};

// A backend opens replicas of one table (`name` a fresh place each time `fresh` is called).
struct Backend {
  std::string name;
  etcd::testing::EtcdCluster* cluster = nullptr;  // null: RocksDB
  std::string root;                               // RocksDB: the directory of every place
  int places = 0;

  std::string Fresh() {
    ++places;
    return cluster != nullptr ? cluster->NewPrefix() : absl::StrCat(root, "/db", places);
  }
  Replica Open(const std::string& place, const std::string& writer, absl::Duration lease) {
    Replica r;
    if (cluster != nullptr) {
      etcd::EtcdClientOptions client_options;
      client_options.attempt_timeout = absl::Milliseconds(500);
      client_options.operation_timeout = absl::Seconds(20);
      r.client = cluster->NewClient(client_options);
      EtcdLeaseStoreOptions options;
      options.prefix = place;
      options.writer = writer;
      options.shared = true;  // as leasing_server --coordination
      options.poller_liveness_ttl = std::max(absl::Seconds(1), lease);
      auto store = EtcdLeaseStore::Create(*r.client, options);
      BENCH_CHECK(store.ok(), "%s", store.status().ToString());
      r.store = std::move(store).value();
    } else {
      auto store = RocksDbLeaseStore::Open(place);
      BENCH_CHECK(store.ok(), "%s", store.status().ToString());
      r.store = std::move(store).value();
    }
    auto counted = std::make_unique<CountingStore>(std::move(r.store));
    r.counted = counted.get();
    r.store = std::move(counted);
    LeaseTableOptions options;
    options.lease_duration = lease;
    options.min_hold = absl::ZeroDuration();
    auto table = LeaseTable::Create(RealClock::Get(), *r.store, options);
    BENCH_CHECK(table.ok(), "%s", table.status().ToString());
    r.table = std::move(table).value();
    return r;
  }
};

void CreateLeases(LeaseTable& table, int n) {
  for (int b = 0; b < n; b += 1000) {
    std::vector<NewLease> batch;
    for (int i = b; i < std::min(n, b + 1000); ++i) {
      batch.push_back(NewLease{Key(i), "stream", {}, {}, true});
    }
    absl::StatusOr<int> created = table.CreateLeases(batch);
    BENCH_CHECK(created.ok(), "%s", created.status().ToString());
  }
}

// Registers `pollers` pollers and lets each acquire its share; returns each lease's owner and
// counter, by lease index.
std::vector<std::pair<std::string, int64_t>> Distribute(LeaseTable& table, int leases,
                                                        int pollers) {
  std::vector<std::string> ids;
  for (int p = 0; p < pollers; ++p) {
    ids.push_back(absl::StrCat("poller-", p));
    BENCH_CHECK(table.RegisterPoller(ids.back(), leases).ok(), "register");
  }
  for (const std::string& p : ids) BENCH_CHECK(table.AcquireLeases(p).ok(), "acquire");
  std::vector<std::pair<std::string, int64_t>> holders(leases);
  int held = 0;
  for (const std::string& p : ids) {
    auto hb = table.Heartbeat(p);
    BENCH_CHECK(hb.ok(), "%s", hb.status().ToString());
    for (const HeldLease& h : hb->owned) {
      const int i = std::atoi(h.key.shard_id.substr(strlen("shardId-")).c_str());
      holders[i] = {p, h.lease_counter};
      ++held;
    }
  }
  BENCH_CHECK(held == leases, "%d leases held, not %d", held, leases);
  return holders;
}

// Runs `op(thread, i)` for i in [0, per_thread) on `threads` threads, stopping early after
// --phase_seconds; prints ops/s and latency percentiles.
void Measure(const std::string& backend, const std::string& what, int threads, int per_thread,
             const std::function<void(int, int)>& op) {
  std::vector<std::vector<double>> latencies(threads);
  const auto start = SteadyClock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread && SecondsSince(start) < FLAGS_phase_seconds; ++i) {
        const auto before = SteadyClock::now();
        op(t, i);
        latencies[t].push_back(SecondsSince(before) * 1000);
      }
    });
  }
  for (std::thread& w : workers) w.join();
  const double seconds = SecondsSince(start);
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::printf("%-18s %-34s %8zu %10.0f %8.2f %8.2f\n", backend.c_str(), what.c_str(), all.size(),
              all.size() / seconds, Percentile(all, 0.5), Percentile(all, 0.99));
  std::fflush(stdout);
}

void OperationsPerSecond(Backend& backend) {
  Replica r = backend.Open(backend.Fresh(), "bench-a", absl::Seconds(10));
  const int leases = std::max(FLAGS_threads * 8, 100);
  CreateLeases(*r.table, leases);
  auto holders = Distribute(*r.table, leases, FLAGS_threads);
  const int per_thread = std::max(1, FLAGS_ops / FLAGS_threads);
  Measure(backend.name, "Heartbeat (each poller ~8 leases)", FLAGS_threads, per_thread,
          [&](int t, int) {
            auto hb = r.table->Heartbeat(absl::StrCat("poller-", t));
            BENCH_CHECK(hb.ok(), "%s", hb.status().ToString());
          });
  Measure(backend.name, "AcquireLeases (balanced, grants 0)", FLAGS_threads, per_thread,
          [&](int t, int) {
            auto granted = r.table->AcquireLeases(absl::StrCat("poller-", t));
            BENCH_CHECK(granted.ok(), "%s", granted.status().ToString());
          });
  // Each thread checkpoints the leases its poller holds, in turn, with rising numbers.
  std::vector<std::vector<int>> mine(FLAGS_threads);
  for (int i = 0; i < leases; ++i) {
    mine[std::atoi(holders[i].first.substr(strlen("poller-")).c_str())].push_back(i);
  }
  Measure(backend.name, "Checkpoint", FLAGS_threads, per_thread, [&](int t, int i) {
    const int lease = mine[t][i % mine[t].size()];
    auto done =
        r.table->Checkpoint(Key(lease), holders[lease].first, holders[lease].second, Seq(i + 1));
    BENCH_CHECK(done.ok(), "%s", done.status().ToString());
  });
}

// Each poller checkpoints every lease it holds once a second (one round), with
// --threads_per_poller threads, and heartbeats once a round.
void Sustained(Backend& backend) {
  Replica r = backend.Open(backend.Fresh(), "bench-a", absl::Seconds(10));
  CreateLeases(*r.table, FLAGS_leases);
  auto holders = Distribute(*r.table, FLAGS_leases, FLAGS_pollers);
  std::vector<std::vector<int>> mine(FLAGS_pollers);
  for (int i = 0; i < FLAGS_leases; ++i) {
    mine[std::atoi(holders[i].first.substr(strlen("poller-")).c_str())].push_back(i);
  }
  std::vector<std::vector<double>> round_seconds(FLAGS_pollers);
  std::atomic<int64_t> checkpoints{0};
  const int64_t writes_before = r.counted->writes();
  const int64_t puts_before = r.counted->lease_puts();
  const CpuSample cpu_before = SampleCpu();
  const auto start = SteadyClock::now();
  std::vector<std::thread> profilers;  // one curl per member, over all but the last second
  if (!FLAGS_pprof_dir.empty() && backend.cluster != nullptr) {
    const std::vector<std::string> endpoints = backend.cluster->endpoints();
    for (size_t i = 0; i < endpoints.size(); ++i) {
      const std::string command = absl::StrFormat(
          "curl -s -m %d -o %s/m%d.pprof 'http://%s/debug/pprof/profile?seconds=%d'",
          FLAGS_sustain_seconds + 30, FLAGS_pprof_dir, i, endpoints[i],
          std::max(1, FLAGS_sustain_seconds - 1));
      profilers.emplace_back([command] {
        if (std::system(command.c_str()) != 0) std::fprintf(stderr, "failed: %s\n", command.c_str());
      });
    }
  }
  std::vector<std::thread> pollers;
  for (int p = 0; p < FLAGS_pollers; ++p) {
    pollers.emplace_back([&, p] {
      const std::string id = absl::StrCat("poller-", p);
      for (int round = 0; round < FLAGS_sustain_seconds; ++round) {
        // Round `round` starts at second `round` (at once when the previous one overran).
        std::this_thread::sleep_until(start + std::chrono::seconds(round));
        if (SecondsSince(start) > FLAGS_phase_seconds) break;
        const auto round_start = SteadyClock::now();
        BENCH_CHECK(r.table->Heartbeat(id).ok(), "heartbeat");
        std::vector<std::thread> workers;
        const int threads = FLAGS_threads_per_poller;
        for (int t = 0; t < threads; ++t) {
          workers.emplace_back([&, t] {
            for (size_t k = t; k < mine[p].size(); k += threads) {
              const int lease = mine[p][k];
              auto done =
                  r.table->Checkpoint(Key(lease), id, holders[lease].second, Seq(round + 1));
              BENCH_CHECK(done.ok(), "%s", done.status().ToString());
              checkpoints.fetch_add(1);
            }
          });
        }
        for (std::thread& w : workers) w.join();
        round_seconds[p].push_back(SecondsSince(round_start));
      }
    });
  }
  for (std::thread& t : pollers) t.join();
  const double seconds = SecondsSince(start);
  const CpuSample cpu_after = SampleCpu();
  for (std::thread& t : profilers) t.join();
  const double writes = static_cast<double>(r.counted->writes() - writes_before);
  const double puts = static_cast<double>(r.counted->lease_puts() - puts_before);
  const double done = std::max<double>(1, checkpoints.load());
  std::vector<double> all;
  int late = 0;
  for (const auto& rs : round_seconds) {
    for (double s : rs) {
      all.push_back(s);
      if (s > 1.0) ++late;
    }
  }
  std::printf(
      "%-18s %d leases, %d pollers, 1 round/s each: %zu rounds, %d over 1 s, round "
      "p50 %.3f s, max %.3f s, %.0f checkpoints/s over %.1f s -> %s\n",
      backend.name.c_str(), FLAGS_leases, FLAGS_pollers, all.size(), late, Percentile(all, 0.5),
      all.empty() ? 0.0 : *std::max_element(all.begin(), all.end()), checkpoints.load() / seconds,
      seconds, late == 0 ? "SUSTAINED" : "NOT sustained");
  std::printf(
      "%-18s   CPU per checkpoint: this process %.1f us, etcd %.1f us (%.2f + %.2f cores); "
      "%.0f store writes, %.1f lease rows each; etcd peak RSS %.0f MB (largest member)\n",
      backend.name.c_str(), (cpu_after.self - cpu_before.self) / done * 1e6,
      (cpu_after.etcd - cpu_before.etcd) / done * 1e6, (cpu_after.self - cpu_before.self) / seconds,
      (cpu_after.etcd - cpu_before.etcd) / seconds, writes, writes > 0 ? puts / writes : 0.0,
      cpu_after.etcd_peak_rss_mb);
  std::fflush(stdout);
}

// A victim poller dies (its heartbeats stop); a survivor acquiring every 20 ms takes its leases.
void Failover(Backend& backend) {
  const absl::Duration lease = absl::Milliseconds(FLAGS_failover_lease_ms);
  const std::string place = backend.Fresh();
  Replica a = backend.Open(place, "bench-a", lease);
  CreateLeases(*a.table, FLAGS_failover_leases);
  BENCH_CHECK(a.table->RegisterPoller("victim", FLAGS_failover_leases).ok(), "register");
  auto granted = a.table->AcquireLeases("victim");
  BENCH_CHECK(granted.ok() && static_cast<int>(granted->size()) == FLAGS_failover_leases,
              "victim got %d", granted.ok() ? granted->size() : 0);
  // The survivor goes through another replica in cluster mode (expiry seen by the watch there).
  Replica b;
  LeaseTable* survivor_table = a.table.get();
  if (backend.cluster != nullptr) {
    b = backend.Open(place, "bench-b", lease);
    survivor_table = b.table.get();
  }
  BENCH_CHECK(survivor_table->RegisterPoller("survivor", FLAGS_failover_leases).ok(), "register");
  std::atomic<bool> victim_alive{true};
  std::thread victim([&] {
    while (victim_alive.load()) {
      BENCH_CHECK(a.table->Heartbeat("victim").ok(), "victim heartbeat");
      std::this_thread::sleep_for(std::chrono::milliseconds(FLAGS_failover_lease_ms / 4));
    }
  });
  // The survivor, while the victim lives: gets nothing (the victim is live).
  const auto warm = SteadyClock::now();
  int taken_while_alive = 0;
  while (SecondsSince(warm) < 2.0 * FLAGS_failover_lease_ms / 1000) {
    auto got = survivor_table->AcquireLeases("survivor");
    BENCH_CHECK(got.ok(), "%s", got.status().ToString());
    taken_while_alive += static_cast<int>(got->size());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  victim_alive.store(false);
  victim.join();
  const auto killed = SteadyClock::now();
  int taken = 0;
  double first = -1;
  while (taken < FLAGS_failover_leases && SecondsSince(killed) < FLAGS_phase_seconds) {
    auto got = survivor_table->AcquireLeases("survivor");
    BENCH_CHECK(got.ok(), "%s", got.status().ToString());
    if (!got->empty() && first < 0) first = SecondsSince(killed);
    taken += static_cast<int>(got->size());
    if (taken < FLAGS_failover_leases) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::printf(
      "%-18s failover, lease %d ms: first lease after %.2f s, all %d after %.2f s "
      "(%d taken while the victim lived)\n",
      backend.name.c_str(), FLAGS_failover_lease_ms, first, taken, SecondsSince(killed),
      taken_while_alive);
  std::fflush(stdout);
  BENCH_CHECK(taken == FLAGS_failover_leases, "only %d leases taken over", taken);
  // Leases taken while the victim lived are printed, not a failure: on a loaded machine its
  // heartbeat thread may be late by a lease duration, and then it is rightly expired.
}

// 3 members: checkpoints go on while the etcd leader is killed with SIGKILL.
void LeaderKill(Backend& backend) {
  const std::string place = backend.Fresh();
  std::vector<uint64_t> acked(FLAGS_leases, 0);
  absl::Mutex mu;
  std::vector<double> ack_times;  // seconds since start, every acknowledged checkpoint
  double killed_at = 0;
  int leader = -1;
  int retried = 0;
  {
    Replica r = backend.Open(place, "bench-a", absl::Seconds(10));
    CreateLeases(*r.table, FLAGS_leases);
    auto holders = Distribute(*r.table, FLAGS_leases, FLAGS_pollers);
    const int threads = FLAGS_pollers * FLAGS_threads_per_poller;
    const auto start = SteadyClock::now();
    const double run_seconds = std::min(FLAGS_phase_seconds, 8.0);
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        // Thread t owns leases t, t + threads, ...: each lease is checkpointed by one thread.
        const int owned = (FLAGS_leases - t + threads - 1) / threads;
        for (int i = 0; owned > 0 && !stop.load(); ++i) {
          const int lease = t + threads * (i % owned);
          const uint64_t seq = acked[lease] + 1;
          // Retried with the same number until acknowledged (as pollers do), at most 20 times.
          absl::Status status;
          for (int attempt = 0; attempt < 20; ++attempt) {
            status =
                r.table
                    ->Checkpoint(Key(lease), holders[lease].first, holders[lease].second, Seq(seq))
                    .status();
            if (status.ok()) break;
            absl::MutexLock lock(&mu);
            ++retried;
          }
          BENCH_CHECK(status.ok(), "%s", status.ToString());
          acked[lease] = seq;
          absl::MutexLock lock(&mu);
          ack_times.push_back(SecondsSince(start));
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
    absl::StatusOr<int> found = backend.cluster->Leader();
    BENCH_CHECK(found.ok(), "%s", found.status().ToString());
    leader = *found;
    {
      absl::MutexLock lock(&mu);
      killed_at = SecondsSince(start);
    }
    backend.cluster->Kill(leader);
    while (SecondsSince(start) < run_seconds) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    stop.store(true);
    for (std::thread& w : workers) w.join();
  }
  std::sort(ack_times.begin(), ack_times.end());
  double stall = 0;
  int64_t before = 0;
  int64_t after = 0;
  for (size_t i = 0; i < ack_times.size(); ++i) {
    if (ack_times[i] < killed_at) {
      ++before;
    } else {
      ++after;
    }
    if (i > 0 && ack_times[i] >= killed_at) {
      stall = std::max(stall, ack_times[i] - std::max(ack_times[i - 1], killed_at));
    }
  }
  // A reload through the surviving members finds every acknowledged checkpoint.
  Replica reloaded = backend.Open(place, "bench-check", absl::Seconds(10));
  int lost = 0;
  for (int i = 0; i < FLAGS_leases; ++i) {
    auto lease = reloaded.table->GetLease(Key(i));
    BENCH_CHECK(lease.ok(), "%s", lease.status().ToString());
    if (lease->record.checkpoint.sequence_number < acked[i]) ++lost;
  }
  std::printf(
      "%-18s leader (member %d) killed at %.2f s: longest stall %.2f s, %lld "
      "checkpoints acknowledged before, %lld after, %d retried, %d lost\n",
      backend.name.c_str(), leader, killed_at, stall, static_cast<long long>(before),
      static_cast<long long>(after), retried, lost);
  std::fflush(stdout);
  BENCH_CHECK(lost == 0, "%d acknowledged checkpoints lost", lost);
}

int Main() {
  if (FLAGS_quick) {
    FLAGS_threads = 4;
    FLAGS_ops = 200;
    FLAGS_leases = 300;
    FLAGS_threads_per_poller = 4;
    FLAGS_sustain_seconds = 2;
    FLAGS_failover_leases = 10;
  }
  std::printf(
      "cluster_bench: %d callers x %d ops; %d leases / %d pollers x %d threads, %d s; "
      "failover %d leases, lease %d ms\n",
      FLAGS_threads, FLAGS_ops, FLAGS_leases, FLAGS_pollers, FLAGS_threads_per_poller,
      FLAGS_sustain_seconds, FLAGS_failover_leases, FLAGS_failover_lease_ms);
  std::printf("%-18s %-34s %8s %10s %8s %8s\n", "backend", "operation", "ops", "ops/s", "p50 ms",
              "p99 ms");
  const char* tmp = getenv("TEST_TMPDIR");
  if (tmp == nullptr) tmp = getenv("TMPDIR");
  std::string root = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/cluster_bench.XXXXXX");
  BENCH_CHECK(mkdtemp(root.data()) != nullptr, "mkdtemp %s", root);
  const std::vector<std::string> phases = absl::StrSplit(FLAGS_phases, ',');
  auto wanted = [&phases](const std::string& phase) {
    return std::find(phases.begin(), phases.end(), phase) != phases.end();
  };
  auto run = [&](Backend& backend) {
    if (wanted("ops")) OperationsPerSecond(backend);
    if (wanted("sustained")) Sustained(backend);
    if (wanted("failover")) Failover(backend);
    if (wanted("leader_kill") && backend.cluster != nullptr && backend.cluster->size() == 3) {
      LeaderKill(backend);
    }
  };
  if (FLAGS_embedded) {
    Backend embedded{"embedded RocksDB", nullptr, root};
    run(embedded);
  }
  for (const absl::string_view m : absl::StrSplit(FLAGS_members, ',', absl::SkipEmpty())) {
    const int members = std::atoi(std::string(m).c_str());
    const std::vector<std::string> etcd_flags =
        absl::StrSplit(FLAGS_etcd_flags, ' ', absl::SkipEmpty());
    auto cluster = etcd::testing::EtcdCluster::Start(members, etcd_flags);
    BENCH_CHECK(cluster.ok(), "%s", cluster.status().ToString());
    Backend etcd{absl::StrCat("etcd, ", members, members == 1 ? " member" : " members"),
                 cluster->get(), root};
    run(etcd);
  }
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return 0;
}

}  // namespace
}  // namespace tributary::leasing

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return tributary::leasing::Main();
}
