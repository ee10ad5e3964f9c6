// lease_bench: what heartbeats, acquires and checkpoints cost with 10,000 leases and 100
// pollers, in the library (LeaseTable on RocksDB) and through gRPC (LeasingClient → 127.0.0.1).
// A bounded driver: every loop has a fixed count. Lease time runs on a FakeClock (no lease
// expires unless the driver says so); costs are measured in wall time.
//
//   bazel run -c opt //tools/bench/leasing:lease_bench                # the full figures
//   bazel run -c opt //tools/bench/leasing:lease_bench -- --quick     # a smoke run (the test)
//
// Exits non-zero when an invariant breaks (a lease with two owners, an unbalanced table), so
// the smoke test checks behaviour too, not only that it runs.
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "gflags/gflags.h"
#include "leasing/lease_store.h"
#include "leasing/lease_table.h"
#include "leasing/leasing_client.h"
#include "leasing/leasing_service.h"

DEFINE_bool(quick, false, "Small counts: a smoke run");
DEFINE_int32(leases, 10000, "Leases in the table");
DEFINE_int32(pollers, 100, "Pollers");
DEFINE_int32(ops, 20000, "Operations per measured loop (library)");
DEFINE_int32(grpc_ops, 5000, "Operations per measured loop (gRPC); 0 skips gRPC");
DEFINE_bool(sync_writes, false,
            "LeaseTableOptions::sync_writes: fsync every change except heartbeats");
DEFINE_string(data_dir, "",
              "Where to put the RocksDB directory (default: a new one under $TMPDIR)");

namespace tributary::leasing {
namespace {

using Nanos = std::chrono::nanoseconds;

#define BENCH_CHECK(cond)                                                                      \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "lease_bench: invariant failed at %s:%d: %s\n", __FILE__, __LINE__, \
                   #cond);                                                                     \
      std::exit(1);                                                                            \
    }                                                                                          \
  } while (false)

#define BENCH_OK(expr)                                                                      \
  do {                                                                                      \
    const auto& status_ = (expr);                                                           \
    if (!status_.ok()) {                                                                    \
      std::fprintf(stderr, "lease_bench: %s failed at %s:%d\n", #expr, __FILE__, __LINE__); \
      std::exit(1);                                                                         \
    }                                                                                       \
  } while (false)

struct Stats {
  std::string name;
  int ops = 0;
  double mean_us = 0, p50_us = 0, p99_us = 0, max_us = 0;
};

// Runs `op(i)` for i in [0, n) and times each call.
Stats Measure(const std::string& name, int n, const std::function<void(int)>& op) {
  std::vector<double> us;
  us.reserve(n);
  double total = 0;
  for (int i = 0; i < n; ++i) {
    const auto start = std::chrono::steady_clock::now();
    op(i);
    const double d =
        std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now() - start).count() / 1e3;
    us.push_back(d);
    total += d;
  }
  std::sort(us.begin(), us.end());
  Stats s;
  s.name = name;
  s.ops = n;
  if (n > 0) {
    s.mean_us = total / n;
    s.p50_us = us[n / 2];
    s.p99_us = us[std::min(n - 1, n * 99 / 100)];
    s.max_us = us.back();
  }
  return s;
}

void Print(const Stats& s) {
  std::printf("%-58s %8d %10.1f %10.1f %10.1f %10.1f\n", s.name.c_str(), s.ops, s.mean_us, s.p50_us,
              s.p99_us, s.max_us);
  std::fflush(stdout);
}

std::string PollerId(int p) { return absl::StrFormat("poller-%03d", p); }
std::string ShardId(int i) { return absl::StrFormat("shardId-%012d", i); }
std::string MappingId(int i) { return absl::StrCat("mapping-", i % 10); }  // 10 mappings

std::string NewDataDir() {
  if (!FLAGS_data_dir.empty()) return FLAGS_data_dir;
  const char* tmp = getenv("TEST_TMPDIR");
  if (tmp == nullptr) tmp = getenv("TMPDIR");
  std::string pattern = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/lease_bench.XXXXXX");
  BENCH_CHECK(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

// Every lease owned, by exactly one poller, and no live poller over its fair share.
void CheckBalanced(LeaseTable& table, int leases, const std::vector<std::string>& live) {
  int owned = 0;
  const int share = (leases + static_cast<int>(live.size()) - 1) / static_cast<int>(live.size());
  for (const std::string& p : live) {
    absl::StatusOr<HeartbeatResult> hb = table.Heartbeat(p);
    BENCH_CHECK(hb.ok());
    BENCH_CHECK(static_cast<int>(hb->owned.size()) <= share);
    owned += static_cast<int>(hb->owned.size());
  }
  absl::StatusOr<LeasePage> all = table.ListLeases({}, leases + 1, "");
  BENCH_CHECK(all.ok());
  int with_owner = 0;
  for (const Lease& l : all->leases) with_owner += l.record.owner.empty() ? 0 : 1;
  BENCH_CHECK(with_owner == owned);  // nobody's lease counted twice
  BENCH_CHECK(owned == leases);
}

int Run() {
  if (FLAGS_quick) {
    FLAGS_leases = 1000;
    FLAGS_pollers = 10;
    FLAGS_ops = 500;
    FLAGS_grpc_ops = 200;
  }
  const int n_leases = FLAGS_leases;
  const int n_pollers = FLAGS_pollers;
  const int capacity = 2 * ((n_leases + n_pollers - 1) / n_pollers);
  const std::string dir = NewDataDir();
  // Removed at the end, after the store below has closed, unless --data_dir named it.
  struct RemoveAtEnd {
    std::string path;
    ~RemoveAtEnd() {
      std::error_code ec;
      if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
  } remove_at_end{FLAGS_data_dir.empty() ? dir : std::string()};
  std::printf("lease_bench: %d leases, %d pollers (capacity %d each), data in %s\n", n_leases,
              n_pollers, capacity, dir.c_str());
  std::printf("%-58s %8s %10s %10s %10s %10s\n", "operation", "ops", "mean us", "p50 us", "p99 us",
              "max us");

  FakeClock clock;
  auto store = RocksDbLeaseStore::Open(dir);
  BENCH_OK(store);
  LeaseTableOptions options;
  options.sync_writes = FLAGS_sync_writes;
  auto table_or = LeaseTable::Create(clock, **store, options);
  BENCH_OK(table_or);
  LeaseTable& table = **table_or;

  // Setup: leases in batches of 1,000 (one write each), pollers registered.
  const int batches = (n_leases + 999) / 1000;
  Print(Measure("CreateLeases, 1,000 leases per call", batches, [&](int b) {
    std::vector<NewLease> batch;
    for (int i = b * 1000; i < std::min(n_leases, (b + 1) * 1000); ++i) {
      batch.push_back(NewLease{{MappingId(i), ShardId(i)}, "stream", {}, {}, true});
    }
    BENCH_OK(table.CreateLeases(batch));
  }));
  std::vector<std::string> pollers;
  for (int p = 0; p < n_pollers; ++p) pollers.push_back(PollerId(p));
  Print(Measure("RegisterPoller", n_pollers,
                [&](int p) { BENCH_OK(table.RegisterPoller(pollers[p], capacity)); }));

  // First assignment: each poller takes its share of unowned leases.
  int granted = 0;
  Print(Measure(absl::StrCat("AcquireLeases, granting ~", n_leases / n_pollers, " each"), n_pollers,
                [&](int p) {
                  auto got = table.AcquireLeases(pollers[p]);
                  BENCH_OK(got);
                  granted += static_cast<int>(got->size());
                }));
  BENCH_CHECK(granted == n_leases);
  CheckBalanced(table, n_leases, pollers);

  // Steady state: heartbeats (one poller row each), acquires that grant nothing.
  Print(Measure(absl::StrCat("Heartbeat (holding ", n_leases / n_pollers, " leases)"), FLAGS_ops,
                [&](int i) {
                  if (i % n_pollers == 0) clock.Advance(absl::Milliseconds(30));
                  BENCH_OK(table.Heartbeat(pollers[i % n_pollers]));
                }));
  Print(Measure("AcquireLeases, balanced (grants nothing)", FLAGS_ops, [&](int i) {
    auto got = table.AcquireLeases(pollers[i % n_pollers]);
    BENCH_OK(got);
    BENCH_CHECK(got->empty());
  }));

  // Checkpoints: one lease row written each.
  std::vector<std::vector<HeldLease>> held(n_pollers);
  for (int p = 0; p < n_pollers; ++p) {
    auto hb = table.Heartbeat(pollers[p]);
    BENCH_OK(hb);
    held[p] = hb->owned;
  }
  Print(Measure("Checkpoint (sequence number)", FLAGS_ops, [&](int i) {
    const std::vector<HeldLease>& mine = held[i % n_pollers];
    const HeldLease& h = mine[(i / n_pollers) % mine.size()];
    BENCH_OK(table.Checkpoint(h.key, pollers[i % n_pollers], h.lease_counter,
                              Checkpoint{CheckpointType::kSequenceNumber,
                                         static_cast<uint64_t>(i + 1), absl::UnixEpoch()}));
  }));

  // The part of a change spent in the store, which the table does under its mutex (see "Thread
  // safety" in lease_table.h): one lease row rewritten as it is, synced as a checkpoint is.
  auto some = table.ListLeases({}, 100, "");
  BENCH_OK(some);
  Print(
      Measure("LeaseStore::Write (one lease row, as Checkpoint writes it)", FLAGS_ops, [&](int i) {
        LeaseStoreWrite w;
        w.sync = FLAGS_sync_writes;
        w.put_leases.push_back(some->leases[i % some->leases.size()].record);
        BENCH_OK((*store)->Write(w));
      }));

  // The same writes from 8 threads at once, with no table around them: what RocksDB lets through
  // when writers come together (with sync_writes it commits them in groups, one fsync each).
  {
    constexpr int kThreads = 8;
    const int per_thread = std::max(1, FLAGS_ops / kThreads);
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          LeaseStoreWrite w;
          w.sync = FLAGS_sync_writes;
          w.put_leases.push_back(some->leases[(t + kThreads * i) % some->leases.size()].record);
          BENCH_OK((*store)->Write(w));
        }
      });
    }
    for (std::thread& t : threads) t.join();
    const double seconds =
        std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now() - start).count() / 1e9;
    std::printf("%-58s %8d %10.0f writes/s\n", "LeaseStore::Write throughput, 8 threads",
                kThreads * per_thread, kThreads * per_thread / seconds);
  }

  // Checkpoints from 8 threads at once (each for its own pollers' leases): what the one table
  // mutex, held across each write, lets through.
  {
    constexpr int kThreads = 8;
    const int per_thread = std::max(1, FLAGS_ops / kThreads);
    std::atomic<int> done{0};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::vector<int> own;  // pollers t, t + 8, ...
        for (int p = t; p < n_pollers; p += kThreads) own.push_back(p);
        if (own.empty()) return;
        for (int i = 0; i < per_thread; ++i) {
          const int p = own[i % own.size()];
          const HeldLease& h = held[p][(i / own.size()) % held[p].size()];
          // Above every earlier checkpoint of the lease, so that each one is written.
          const uint64_t seq = static_cast<uint64_t>(FLAGS_ops) + 1 + i;
          BENCH_OK(table.Checkpoint(
              h.key, pollers[p], h.lease_counter,
              Checkpoint{CheckpointType::kSequenceNumber, seq, absl::UnixEpoch()}));
          done.fetch_add(1);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    const double seconds =
        std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now() - start).count() / 1e9;
    std::printf("%-58s %8d %10.0f checkpoints/s\n", "Checkpoint throughput, 8 threads", done.load(),
                done.load() / seconds);
  }

  // Failover: one poller goes silent; after the lease duration the others acquire its leases.
  const std::string dead = pollers.back();
  std::vector<std::string> live(pollers.begin(), pollers.end() - 1);
  auto dead_leases = table.ListLeases({"", dead, ""}, n_leases, "");
  BENCH_OK(dead_leases);
  const int orphaned = static_cast<int>(dead_leases->leases.size());
  clock.Advance(absl::Seconds(10));
  for (const std::string& p : live) BENCH_OK(table.Heartbeat(p));
  int taken = 0;
  Print(Measure(absl::StrCat("AcquireLeases after a poller died (", orphaned, " leases to spread)"),
                static_cast<int>(live.size()), [&](int p) {
                  auto got = table.AcquireLeases(live[p]);
                  BENCH_OK(got);
                  taken += static_cast<int>(got->size());
                }));
  BENCH_CHECK(taken == orphaned);
  CheckBalanced(table, n_leases, live);

  // Reopen: rebuild every index from RocksDB.
  table_or->reset();
  Print(Measure("LeaseTable::Create (reload every lease, rebuild indexes)", 1, [&](int) {
    table_or = LeaseTable::Create(clock, **store);
    BENCH_OK(table_or);
  }));
  LeaseTable& reopened = **table_or;

  if (FLAGS_grpc_ops > 0) {
    LeasingService service(reopened);
    auto server = GrpcServer::Start("127.0.0.1:0", {&service});
    BENCH_OK(server);
    LeasingClient client(MakeChannel((*server)->address()));
    v1::HeartbeatRequest hb;
    Print(Measure("gRPC Heartbeat (loopback, one client thread)", FLAGS_grpc_ops, [&](int i) {
      hb.set_poller_id(live[i % live.size()]);
      BENCH_OK(client.Heartbeat(hb));
    }));
    v1::AcquireLeasesRequest acquire;
    Print(Measure("gRPC AcquireLeases, balanced", FLAGS_grpc_ops, [&](int i) {
      acquire.set_poller_id(live[i % live.size()]);
      BENCH_OK(client.AcquireLeases(acquire));
    }));
    // Throughput: every live poller heartbeating at once from 8 client threads (a mix of
    // heartbeats and checkpoints would contend the same way: one table mutex).
    constexpr int kThreads = 8;
    const int per_thread = std::max(1, FLAGS_grpc_ops / kThreads);
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        v1::HeartbeatRequest req;
        for (int i = 0; i < per_thread; ++i) {
          req.set_poller_id(live[(t * per_thread + i) % live.size()]);
          BENCH_OK(client.Heartbeat(req));
        }
      });
    }
    for (std::thread& t : threads) t.join();
    const double seconds =
        std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now() - start).count() / 1e9;
    std::printf("%-58s %8d %10.0f heartbeats/s\n", "gRPC Heartbeat throughput, 8 client threads",
                kThreads * per_thread, kThreads * per_thread / seconds);
    (*server)->Shutdown();
  }
  return 0;
}

}  // namespace
}  // namespace tributary::leasing

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return tributary::leasing::Run();
}
