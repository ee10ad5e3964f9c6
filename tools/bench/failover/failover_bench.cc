// failover_bench: time from kill -9 of a poller to the first invocation of its shards by
// another poller, with a 2 s lease (--lease_duration_ms). The shard store, leasing and the
// stream tracker run in this process on one 127.0.0.1 port (composed as `tributary serve`
// composes them, without its poller); the two pollers are poller_server subprocesses; the
// no-op function is an in-process gRPC server. A producer writes to every shard all along.
//
// Each trial: a fresh stream (--shards) and mapping, pollers A and B started, both holding
// leases; the one holding more is killed with SIGKILL; the figure is the time from the kill to
// the first invocation of any of its shards after it was reaped ("first"), and to the moment
// every one of its shards has been invoked again ("all"). Afterwards leasing must list the
// survivor as the owner of every shard.
//
//   bazel run -c opt //tools/bench/failover:failover_bench
//   bazel run -c opt //tools/bench/failover:failover_bench -- --quick     # the smoke test
//
// Bounded: a fixed number of trials, and every wait has a deadline.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/await.h"
#include "common/process.h"
#include "gflags/gflags.h"
#include "tools/bench/common/bench_common.h"
#include "tools/bench/common/bench_main.h"

DEFINE_bool(quick, false, "Smoke mode: one trial.");
DEFINE_int32(trials, 3, "Kills measured.");
DEFINE_int32(shards, 8, "Shards of each trial's stream.");
DEFINE_int64(lease_duration_ms, 2000, "Lease duration of leasing.");
DEFINE_string(poller_binary, "poller/poller_server",
              "The poller_server binary (default: its runfiles path under bazel run/test).");
DEFINE_double(timeout_seconds, 20, "Give up on any one wait after this.");
DEFINE_string(work_dir, "",
              "Directory for data, kept (default: a fresh one under /tmp, removed at the end).");

namespace tributary::bench {
namespace {

absl::StatusOr<Subprocess> StartPoller(const std::string& dir, const std::string& id,
                                       const std::string& address) {
  const std::string port_file = absl::StrCat(dir, "/", id, ".port");
  auto p = Subprocess::Start(
      FLAGS_poller_binary,
      {"--listen=127.0.0.1:0", absl::StrCat("--port_file=", port_file),
       absl::StrCat("--poller_id=", id), "--capacity=100", absl::StrCat("--shard_store=", address),
       absl::StrCat("--leasing=", address), absl::StrCat("--stream_tracker=", address),
       "--metrics_listen="},
      absl::StrCat(dir, "/", id, ".log"));
  if (!p.ok()) return p.status();
  if (auto port = WaitForPortFile(port_file, absl::Seconds(FLAGS_timeout_seconds)); !port.ok()) {
    return port.status();
  }
  return p;
}

struct Trial {
  int victim_shards = 0;
  double first_s = -1;
  double all_s = -1;
  bool owners_ok = false;
};

int Main() {
  if (FLAGS_quick) FLAGS_trials = 1;
  ScopedWorkDir work_dir(FLAGS_work_dir, "failover_bench");
  const std::string& dir = work_dir.path();
  ClusterOptions options;
  options.data_dir = dir;
  options.with_poller = false;
  options.lease_duration_ms = FLAGS_lease_duration_ms;
  options.min_hold_ms = 0;
  options.sync_interval_ms = 200;
  auto cluster = InProcessCluster::Create(options);
  auto function = FunctionServer::Start();
  if (!cluster.ok() || !function.ok()) {
    Progress("setup: %s %s", cluster.status().ToString().c_str(),
             function.status().ToString().c_str());
    return 1;
  }
  InProcessCluster& c = **cluster;
  NoopFunction& f = (*function)->function();
  Report report("failover");
  report.Set("quick", FLAGS_quick ? "true" : "false");
  report.Set("lease_duration_ms", absl::StrCat(FLAGS_lease_duration_ms));
  report.Set("shards", absl::StrCat(FLAGS_shards));
  bool bad = false;
  for (int trial = 1; trial <= FLAGS_trials; ++trial) {
    const std::string stream = absl::StrCat("failover", trial);
    if (absl::Status s = c.CreateStream(stream, FLAGS_shards); !s.ok()) {
      Progress("create stream: %s", s.ToString().c_str());
      return 1;
    }
    // Producer: 64 records with random keys every 10 ms, so every shard gets records.
    std::atomic<bool> stop{false};
    std::thread producer([&] {
      auto stub = v1::Streams::NewStub(OwnChannel(c.address(), 0));
      std::mt19937_64 rng(trial);
      while (!stop) {
        v1::PutRecordsRequest request;
        request.set_stream_name(stream);
        for (int i = 0; i < 64; ++i) {
          auto* e = request.add_records();
          e->set_partition_key(absl::StrCat(rng()));
          e->set_data(RecordData(~uint64_t{0}, 100));
        }
        grpc::ClientContext context;
        v1::PutRecordsResponse response;
        stub->PutRecords(&context, request, &response);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
    std::map<std::string, Subprocess> pollers;
    const std::string ids[2] = {absl::StrCat("poller-", trial, "-a"),
                                absl::StrCat("poller-", trial, "-b")};
    for (const std::string& id : ids) {
      auto p = StartPoller(dir, id, c.address());
      if (!p.ok()) {
        Progress("poller %s: %s", id.c_str(), p.status().ToString().c_str());
        stop = true;
        producer.join();
        return 1;
      }
      pollers.emplace(id, std::move(*p));
    }
    f.Reset();
    auto uuid = c.CreateMapping(stream, (*function)->address(), 100, 1, false);
    if (!uuid.ok()) {
      Progress("mapping: %s", uuid.status().ToString().c_str());
      stop = true;
      producer.join();
      return 1;
    }
    // Both pollers hold leases, and every shard has been invoked.
    std::map<std::string, std::string> owners;
    const absl::Status balanced = PollFor(
        absl::Seconds(FLAGS_timeout_seconds), absl::Milliseconds(5),
        "both pollers holding leases and every shard invoked",
        [&] {
          auto o = c.LeaseOwners(*uuid);
          if (!o.ok()) return false;
          owners = *o;
          std::map<std::string, int> per_owner;
          for (const auto& [shard, owner] : owners) {
            if (owner.empty()) return false;
            ++per_owner[owner];
          }
          return static_cast<int>(owners.size()) == FLAGS_shards && per_owner.size() == 2 &&
                 static_cast<int>(f.LastInvocationByShard().size()) == FLAGS_shards;
        },
        [&] {
          return absl::StrCat(owners.size(), " of ", FLAGS_shards, " shards with a lease, ",
                              f.LastInvocationByShard().size(), " invoked");
        });
    Trial t;
    if (!balanced.ok()) {
      Progress("[trial %d] the two pollers did not both hold leases in time: %s", trial,
               balanced.ToString().c_str());
      bad = true;
    } else {
      std::map<std::string, int> per_owner;
      for (const auto& [shard, owner] : owners) ++per_owner[owner];
      const std::string victim = per_owner[ids[0]] >= per_owner[ids[1]] ? ids[0] : ids[1];
      const std::string survivor = victim == ids[0] ? ids[1] : ids[0];
      std::set<std::string> victim_shards;
      for (const auto& [shard, owner] : owners) {
        if (owner == victim) victim_shards.insert(shard);
      }
      t.victim_shards = victim_shards.size();
      const int64_t kill_at = NowNanos();
      pollers[victim].Kill(SIGKILL);
      const int64_t reaped = NowNanos();
      int64_t first = 0, all = 0;
      size_t again = 0;
      const absl::Status moved = PollFor(
          absl::Seconds(FLAGS_timeout_seconds), absl::Milliseconds(5),
          absl::StrCat("an invocation of each of the ", victim_shards.size(),
                       " shards of the killed poller"),
          [&] {
            int64_t latest = 0;
            again = 0;
            for (const auto& [shard, at] : f.LastInvocationByShard()) {
              if (victim_shards.count(shard) == 0 || at.first <= reaped) continue;
              ++again;
              if (first == 0 || at.first < first) first = at.first;
              latest = std::max(latest, at.first);
            }
            if (again == victim_shards.size()) {
              all = latest;
              return true;
            }
            return false;
          },
          [&] { return absl::StrCat(again, " invoked again"); });
      if (!moved.ok()) Progress("[trial %d] %s", trial, moved.ToString().c_str());
      if (first > 0) t.first_s = (first - kill_at) / 1e9;
      if (all > 0) t.all_s = (all - kill_at) / 1e9;
      auto after = c.LeaseOwners(*uuid);
      t.owners_ok = after.ok();
      if (after.ok()) {
        for (const auto& shard : victim_shards) {
          if ((*after)[shard] != survivor) t.owners_ok = false;
        }
      }
      Progress(
          "[trial %d] killed %s holding %d of %d shards: first invocation elsewhere after %.3f "
          "s, all its shards after %.3f s; leasing lists the survivor: %s",
          trial, victim.c_str(), t.victim_shards, FLAGS_shards, t.first_s, t.all_s,
          t.owners_ok ? "yes" : "NO");
      if (t.first_s <= 0 || t.all_s <= 0 || !t.owners_ok) bad = true;
    }
    report.AddRow({Report::Num("trial", trial), Report::Num("victim_shards", t.victim_shards),
                   Report::Num("first_invocation_s", t.first_s, 3),
                   Report::Num("all_shards_s", t.all_s, 3),
                   Report::Str("owners_ok", t.owners_ok ? "yes" : "no")});
    stop = true;
    producer.join();
    {
      grpc::ClientContext context;
      v1::DeleteEventSourceMappingRequest del;
      del.set_uuid(*uuid);
      v1::EventSourceMappingConfiguration ignored;
      c.mappings().DeleteEventSourceMapping(&context, del, &ignored);
    }
    for (auto& [id, p] : pollers) {
      if (p.running()) p.Kill(SIGTERM);
    }
  }
  c.Shutdown();
  return FinishRun(report.Finish(FLAGS_json_out), bad,
                   "a trial did not produce a figure or ended with the wrong owner");
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  return tributary::bench::BenchMain(argc, argv, tributary::bench::Main);
}
