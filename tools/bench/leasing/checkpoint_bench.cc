// checkpoint_bench: checkpoints/s of the lease table, embedded (RocksDB) and in cluster mode
// (etcd, issue 19), in one run on the same machine. Each backend gets the same table: --leases
// leases held by --pollers pollers, then --threads threads checkpoint them round robin (each
// thread its own leases, as concurrent gRPC handlers would), --checkpoints in all. The table
// group-commits checkpoints that arrive while a write is in flight; "per write" says how many
// went in one store write. etcd runs as real processes on 127.0.0.1 (one member, then three),
// started and stopped by the driver (etcd/testing). Lease time is a FakeClock; costs are wall
// time.
//
//   bazel run -c opt //tools/bench/leasing:checkpoint_bench
//   bazel run -c opt //tools/bench/leasing:checkpoint_bench -- --quick    # the smoke test
//
// Exits non-zero when an acknowledged checkpoint is not what a reload of the store finds.
#include <stdlib.h>
#include <string.h>

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
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "gflags/gflags.h"
#include "leasing/etcd_lease_store.h"
#include "leasing/lease_store.h"
#include "leasing/lease_table.h"

DEFINE_bool(quick, false, "Small counts: a smoke run");
DEFINE_int32(leases, 10000, "Leases in the table");
DEFINE_int32(pollers, 3, "Pollers holding them");
DEFINE_int32(threads, 32, "Threads checkpointing at once");
DEFINE_int32(checkpoints, 30000, "Checkpoints per backend");

namespace tributary::leasing {
namespace {

using SteadyClock = std::chrono::steady_clock;

#define BENCH_CHECK(cond, ...)                                                         \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "checkpoint_bench: %s:%d: %s\n", __FILE__, __LINE__,        \
                   absl::StrFormat(__VA_ARGS__).c_str());                              \
      std::exit(1);                                                                    \
    }                                                                                  \
  } while (false)

// Counts the writes that reach the store.
class CountingStore : public LeaseStore {
 public:
  explicit CountingStore(LeaseStore& base) : base_(base) {}
  absl::Status Write(const LeaseStoreWrite& write) override {
    writes_.fetch_add(1);
    return base_.Write(write);
  }
  absl::StatusOr<LeaseStoreContents> Load() override { return base_.Load(); }
  int writes() const { return writes_.load(); }

 private:
  LeaseStore& base_;
  std::atomic<int> writes_{0};
};

// A backend: opens the store (again, for the check after the run).
struct Backend {
  std::string name;
  bool sync_writes = false;
  std::function<std::unique_ptr<LeaseStore>()> open;
};

std::string Shard(int i) { return absl::StrFormat("shardId-%08d", i); }

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

void Run(const Backend& backend) {
  std::unique_ptr<LeaseStore> base = backend.open();
  CountingStore store(*base);
  FakeClock clock;
  LeaseTableOptions options;
  options.sync_writes = backend.sync_writes;
  auto table_or = LeaseTable::Create(clock, store, options);
  BENCH_CHECK(table_or.ok(), "%s", table_or.status().ToString());
  LeaseTable& table = **table_or;

  const auto setup_start = SteadyClock::now();
  for (int b = 0; b < FLAGS_leases; b += 1000) {
    std::vector<NewLease> batch;
    for (int i = b; i < std::min(FLAGS_leases, b + 1000); ++i) {
      batch.push_back(NewLease{{"esm-bench", Shard(i)}, "stream", {}, {}, true});
    }
    absl::StatusOr<int> created = table.CreateLeases(batch);
    BENCH_CHECK(created.ok(), "%s", created.status().ToString());
  }
  std::vector<std::string> pollers;
  for (int p = 0; p < FLAGS_pollers; ++p) {
    pollers.push_back(absl::StrCat("poller-", p));
    BENCH_CHECK(table.RegisterPoller(pollers.back(), FLAGS_leases).ok(), "register");
  }
  for (const std::string& p : pollers) {
    auto granted = table.AcquireLeases(p);
    BENCH_CHECK(granted.ok(), "%s", granted.status().ToString());
  }
  // Lease i is Shard(i): its owner and counter, as the owners' heartbeats list them.
  std::map<LeaseKey, std::pair<std::string, int64_t>> holders;
  for (const std::string& p : pollers) {
    auto hb = table.Heartbeat(p);
    BENCH_CHECK(hb.ok(), "%s", hb.status().ToString());
    for (const HeldLease& h : hb->owned) holders[h.key] = {p, h.lease_counter};
  }
  BENCH_CHECK(static_cast<int>(holders.size()) == FLAGS_leases, "%d leases held, not %d",
              holders.size(), FLAGS_leases);
  std::vector<LeaseKey> keys;
  std::vector<std::string> owner_of;
  std::vector<int64_t> counter_of;
  for (int i = 0; i < FLAGS_leases; ++i) {
    keys.push_back({"esm-bench", Shard(i)});
    owner_of.push_back(holders[keys.back()].first);
    counter_of.push_back(holders[keys.back()].second);
  }
  const double setup_s =
      std::chrono::duration<double>(SteadyClock::now() - setup_start).count();

  // Thread t checkpoints leases t, t + T, t + 2T, ... in turn, each with a rising number.
  const int threads = std::min(FLAGS_threads, FLAGS_leases);
  const int per_thread = std::max(1, FLAGS_checkpoints / threads);
  std::vector<std::vector<double>> latencies_ms(threads);
  std::vector<uint64_t> last_acked(FLAGS_leases, 0);
  const int writes_before = store.writes();
  const auto start = SteadyClock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const int mine = (FLAGS_leases - t + threads - 1) / threads;
      for (int i = 0; i < per_thread; ++i) {
        const int lease = t + threads * (i % mine);
        const uint64_t seq = static_cast<uint64_t>(i / mine + 1);
        const auto before = SteadyClock::now();
        absl::StatusOr<Lease> done =
            table.Checkpoint(keys[lease], owner_of[lease], counter_of[lease],
                             Checkpoint{CheckpointType::kSequenceNumber, seq, absl::UnixEpoch()});
        BENCH_CHECK(done.ok(), "%s", done.status().ToString());
        latencies_ms[t].push_back(
            std::chrono::duration<double, std::milli>(SteadyClock::now() - before).count());
        last_acked[lease] = seq;
      }
    });
  }
  for (std::thread& w : workers) w.join();
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  const int writes = store.writes() - writes_before;
  std::vector<double> all;
  for (const std::vector<double>& l : latencies_ms) all.insert(all.end(), l.begin(), l.end());
  const int done = static_cast<int>(all.size());
  const double p50 = Percentile(all, 0.50);
  const double p99 = Percentile(all, 0.99);
  std::printf("%-28s %9d %9.0f %9.2f %9.2f %9.1f %9.1f\n", backend.name.c_str(), done,
              done / seconds, p50, p99, writes > 0 ? static_cast<double>(done) / writes : 0.0,
              setup_s);
  std::fflush(stdout);

  // What a reload finds is what was acknowledged last.
  table_or->reset();
  base.reset();  // closed first: RocksDB locks its directory
  std::unique_ptr<LeaseStore> reopened = backend.open();
  absl::StatusOr<LeaseStoreContents> contents = reopened->Load();
  BENCH_CHECK(contents.ok(), "%s", contents.status().ToString());
  BENCH_CHECK(static_cast<int>(contents->leases.size()) == FLAGS_leases, "%d leases after reload",
              contents->leases.size());
  for (const LeaseRecord& r : contents->leases) {
    const int i = std::atoi(r.key.shard_id.substr(strlen("shardId-")).c_str());
    BENCH_CHECK(last_acked[i] == 0 || r.checkpoint.sequence_number == last_acked[i],
                "%s: stored %d, acknowledged %d", r.key.shard_id, r.checkpoint.sequence_number,
                last_acked[i]);
  }
}

// An etcd store over its own client (the backend's open() hands out both as one).
class EtcdBackendStore : public LeaseStore {
 public:
  EtcdBackendStore(etcd::testing::EtcdCluster& cluster, const std::string& prefix)
      : client_(cluster.NewClient()),
        store_(std::move(EtcdLeaseStore::Create(*client_, {prefix, "bench", nullptr})).value()) {}
  absl::Status Write(const LeaseStoreWrite& write) override { return store_->Write(write); }
  absl::StatusOr<LeaseStoreContents> Load() override { return store_->Load(); }

 private:
  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<EtcdLeaseStore> store_;
};

int Main() {
  if (FLAGS_quick) {
    FLAGS_leases = 200;
    FLAGS_checkpoints = 600;
    FLAGS_threads = 8;
  }
  std::printf("checkpoint_bench: %d leases held by %d pollers, %d threads checkpointing, %d "
              "checkpoints per backend\n",
              FLAGS_leases, FLAGS_pollers, FLAGS_threads, FLAGS_checkpoints);
  std::printf("%-28s %9s %9s %9s %9s %9s %9s\n", "backend", "ckpts", "ckpts/s", "p50 ms",
              "p99 ms", "per write", "setup s");
  const char* tmp = getenv("TEST_TMPDIR");
  if (tmp == nullptr) tmp = getenv("TMPDIR");
  std::string root = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/checkpoint_bench.XXXXXX");
  BENCH_CHECK(mkdtemp(root.data()) != nullptr, "mkdtemp %s", root);
  int dirs = 0;
  for (const bool sync : {false, true}) {
    const std::string dir = absl::StrCat(root, "/rocksdb", ++dirs);
    Run({sync ? "RocksDB, --sync_writes" : "RocksDB", sync, [dir] {
           auto store = RocksDbLeaseStore::Open(dir);
           BENCH_CHECK(store.ok(), "%s", store.status().ToString());
           return std::unique_ptr<LeaseStore>(std::move(store).value());
         }});
  }
  for (const int members : {1, 3}) {
    auto cluster = etcd::testing::EtcdCluster::Start(members);
    BENCH_CHECK(cluster.ok(), "%s", cluster.status().ToString());
    etcd::testing::EtcdCluster& c = **cluster;
    Run({absl::StrCat("etcd, ", members, members == 1 ? " member" : " members"), false, [&c] {
           return std::unique_ptr<LeaseStore>(new EtcdBackendStore(c, "/bench/"));
         }});
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
