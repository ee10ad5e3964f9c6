// scale_bench: 1, 100, 1,000 and 10,000 shards. For each count, in one process holding every
// service (composed as `tributary serve` composes them, one poller, on a 127.0.0.1 port):
//   1. create a stream with that many shards; resident memory (VmRSS) before and after, per shard;
//   2. PutRecords ingest for --ingest_seconds (100 B, 500 a call, --clients clients, random
//      partition keys, so each call spreads over the shards): records/s;
//   3. create a mapping at LATEST to a no-op function and wait until the poller holds every
//      lease; VmRSS before and after, per lease (a lease here is the lease row and the poller's
//      consumer with its subscription);
//   4. idle: no writes; once the poller's consumers have started (the store has a subscription
//      per lease that has sent its first event, and the process's thread count has not grown
//      for --settle_seconds), the process's CPU (getrusage) over --idle_seconds, as % of one
//      core, and its thread count. "consumers started" is when that first held.
// Counts run smallest first in the same process, so each delta is over what came before.
//
//   bazel run -c opt //tools/bench/scale:scale_bench
//   bazel run -c opt //tools/bench/scale:scale_bench -- --quick     # the smoke test
//
// Bounded: fixed phase lengths; the lease wait has a deadline (--lease_timeout_seconds).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gflags/gflags.h"
#include "tools/bench/common/bench_common.h"
#include "tools/bench/common/bench_main.h"

DEFINE_bool(quick, false, "Smoke mode: 1 and 100 shards, short phases.");
DEFINE_string(shard_counts, "1,100,1000,10000", "Shard counts, smallest first.");
DEFINE_double(ingest_seconds, 3, "Length of each ingest phase.");
DEFINE_double(idle_seconds, 3, "Length of each idle CPU measurement.");
DEFINE_double(settle_seconds, 2,
              "Idle CPU is measured once the thread count has not grown for this long.");
DEFINE_double(lease_timeout_seconds, 60, "Give up waiting for the poller's leases after this.");
DEFINE_int32(clients, 4, "Concurrent producers (each its own channel).");
DEFINE_int32(records_per_call, 500, "Records per PutRecords call.");
DEFINE_int32(record_bytes, 100, "Bytes of data per record.");
DEFINE_bool(leases, true, "Also create a mapping (leases + poller consumers) per count.");
DEFINE_string(work_dir, "",
              "Directory for data, kept (default: a fresh one under /tmp, removed at the end).");
DEFINE_int64(sync_interval_ms, 500,
             "The stream tracker's lease sync interval. Each pass lists every shard and every "
             "lease of the mapping; at 10,000 shards that is most of the idle CPU, so a long "
             "interval isolates the poller's and the store's own idle cost.");

namespace tributary::bench {
namespace {

int64_t Ingest(const std::string& address, const std::string& stream, double seconds) {
  std::atomic<int64_t> acked{0};
  const int64_t end = NowNanos() + static_cast<int64_t>(seconds * 1e9);
  std::vector<std::thread> threads;
  for (int c = 0; c < FLAGS_clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = v1::Streams::NewStub(OwnChannel(address, c));
      std::mt19937_64 rng(c + 1);
      v1::PutRecordsRequest request;
      request.set_stream_name(stream);
      for (int i = 0; i < FLAGS_records_per_call; ++i) {
        auto* e = request.add_records();
        e->set_partition_key(absl::StrCat("pk-", rng()));
        e->set_data(RecordData(~uint64_t{0}, FLAGS_record_bytes));
      }
      while (NowNanos() < end) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1::PutRecordsResponse response;
        if (!stub->PutRecords(&context, request, &response).ok()) continue;
        acked.fetch_add(response.records_size() - response.failed_record_count());
      }
    });
  }
  for (auto& t : threads) t.join();
  return acked.load();
}

int Main() {
  if (FLAGS_quick) {
    FLAGS_shard_counts = "1,100";
    FLAGS_ingest_seconds = std::min(FLAGS_ingest_seconds, 0.3);
    FLAGS_idle_seconds = std::min(FLAGS_idle_seconds, 0.5);
    FLAGS_settle_seconds = std::min(FLAGS_settle_seconds, 0.5);
    FLAGS_clients = std::min(FLAGS_clients, 2);
    FLAGS_lease_timeout_seconds = std::min(FLAGS_lease_timeout_seconds, 30.0);
  }
  ScopedWorkDir work_dir(FLAGS_work_dir, "scale_bench");
  const std::string& dir = work_dir.path();
  ClusterOptions options;
  options.data_dir = dir;
  options.sync_interval_ms = FLAGS_sync_interval_ms;
  options.poller_capacity = 20000;
  auto cluster = InProcessCluster::Create(options);
  auto function = FunctionServer::Start();
  if (!cluster.ok() || !function.ok()) {
    Progress("setup: %s %s", cluster.status().ToString().c_str(),
             function.status().ToString().c_str());
    return 1;
  }
  InProcessCluster& c = **cluster;
  Report report("scale");
  report.Set("quick", FLAGS_quick ? "true" : "false");
  report.Set("clients", absl::StrCat(FLAGS_clients));
  report.Set("records_per_call", absl::StrCat(FLAGS_records_per_call));
  report.Set("record_bytes", absl::StrCat(FLAGS_record_bytes));
  report.Set("process_rss_start_bytes", absl::StrCat(ResidentBytes()));
  bool zero = false;
  for (absl::string_view count_text : absl::StrSplit(FLAGS_shard_counts, ',', absl::SkipEmpty())) {
    const int shards = std::stoi(std::string(count_text));
    const std::string stream = absl::StrCat("scale", shards);
    const int64_t rss0 = ResidentBytes();
    const int64_t t0 = NowNanos();
    if (absl::Status s = c.CreateStream(stream, shards); !s.ok()) {
      Progress("create stream: %s", s.ToString().c_str());
      return 1;
    }
    const double create_s = (NowNanos() - t0) / 1e9;
    const int64_t rss1 = ResidentBytes();
    const double ingest_cpu0 = CpuSeconds();
    const int64_t acked = Ingest(c.address(), stream, FLAGS_ingest_seconds);
    const double rps = acked / FLAGS_ingest_seconds;
    // CPU per record (client + server, one process): steadier than the rate on a machine
    // shared with other work.
    const double cpu_us = acked > 0 ? (CpuSeconds() - ingest_cpu0) * 1e6 / acked : 0;
    Progress("[%5d shards] created in %.2f s, +%.1f KiB/shard; ingest %.0f rec/s, %.2f us CPU/rec",
             shards, create_s, (rss1 - rss0) / 1024.0 / shards, rps, cpu_us);
    const int64_t rss2 = ResidentBytes();
    int owned = 0;
    double lease_s = 0;
    double started_s = 0;
    if (FLAGS_leases) {
      const int64_t t1 = NowNanos();
      auto uuid = c.CreateMapping(stream, (*function)->address(), 100, 1, false);
      if (!uuid.ok()) {
        Progress("mapping: %s", uuid.status().ToString().c_str());
        return 1;
      }
      owned = c.WaitForOwnedLeases(*uuid, shards, "", FLAGS_lease_timeout_seconds);
      lease_s = (NowNanos() - t1) / 1e9;
      // A lease is owned before its consumer has started and its subscription is open: wait
      // until the store has a subscription per owned lease that has sent its first event and
      // the process's thread count has not grown for --settle_seconds (a poller with a thread
      // per lease), at most --lease_timeout_seconds.
      const int64_t settle_deadline =
          NowNanos() + static_cast<int64_t>(FLAGS_lease_timeout_seconds * 1e9);
      int threads = ThreadCount();
      int64_t stable_since = NowNanos();
      while (NowNanos() < settle_deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        const int now_threads = ThreadCount();
        if (now_threads > threads) stable_since = NowNanos();
        threads = std::max(threads, now_threads);
        int subscribed = 0;
        for (const auto& s : c.streams_service().GetSubscriptionStats()) {
          if (s.stream_name == stream && s.events_sent > 0) ++subscribed;
        }
        if (subscribed < owned) {
          stable_since = NowNanos();
          continue;
        }
        if (NowNanos() - stable_since >= static_cast<int64_t>(FLAGS_settle_seconds * 1e9)) break;
      }
      started_s = (stable_since - t1) / 1e9;
    }
    const int64_t rss3 = ResidentBytes();
    Progress("[%5d shards] idle phase: %.0f s", shards, FLAGS_idle_seconds);
    const double cpu0 = CpuSeconds();
    const int64_t idle0 = NowNanos();
    std::this_thread::sleep_for(
        std::chrono::milliseconds(static_cast<int64_t>(FLAGS_idle_seconds * 1000)));
    const double idle_wall = (NowNanos() - idle0) / 1e9;
    const double idle_cpu_pct = 100 * (CpuSeconds() - cpu0) / idle_wall;
    const double kib_per_shard = (rss1 - rss0) / 1024.0 / shards;
    const double kib_per_lease = owned > 0 ? (rss3 - rss2) / 1024.0 / owned : 0;
    Progress(
        "[%5d shards] %d/%d leases owned after %.1f s, consumers started after %.1f s (%d "
        "threads), +%.1f KiB/lease; idle CPU %.1f%% of a core; RSS %.1f MiB",
        shards, owned, shards, lease_s, started_s, ThreadCount(), kib_per_lease, idle_cpu_pct,
        rss3 / 1048576.0);
    report.AddRow(
        {Report::Num("shards", shards), Report::Num("ingest_rps", rps),
         Report::Num("ingest_cpu_us_per_record", cpu_us, 2),
         Report::Num("ingest_mb_s", rps * FLAGS_record_bytes / 1e6, 1),
         Report::Num("create_s", create_s, 2), Report::Num("leases_owned", owned),
         Report::Num("leases_s", lease_s, 1), Report::Num("consumers_started_s", started_s, 1),
         Report::Num("threads", ThreadCount()), Report::Num("kib_per_shard", kib_per_shard, 2),
         Report::Num("kib_per_lease", kib_per_lease, 2),
         Report::Num("idle_cpu_pct", idle_cpu_pct, 2),
         Report::Num("rss_mib", rss3 / 1048576.0, 1)});
    if (rps <= 0 || (FLAGS_leases && owned < shards)) zero = true;
  }
  // The report first: a graceful poller shutdown releases every lease one call at a time.
  const bool written = report.Finish(FLAGS_json_out);
  const int64_t shutdown_start = NowNanos();
  c.Shutdown();
  Progress("shutdown (the poller releasing every lease) took %.1f s",
           (NowNanos() - shutdown_start) / 1e9);
  return FinishRun(written, zero, "a figure is zero or the poller did not get every lease");
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  return tributary::bench::BenchMain(argc, argv, tributary::bench::Main);
}
