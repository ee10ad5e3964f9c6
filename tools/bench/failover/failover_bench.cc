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
// Cluster mode (issue 19; --modes=embedded,cluster measures both in one run): a 3-member etcd
// (--etcd_members) started here on 127.0.0.1 holds the lease table (poller liveness as etcd
// leases of TTL = the lease duration) and the tracker's state, as `--coordination` does; the
// shard store stays embedded (RocksDB). The same poller kill -9 trials, then one more: the etcd
// leader killed with SIGKILL while both pollers deliver and checkpoint; leasing's checkpoints are
// sampled every 20 ms and the figures are the longest time after the kill with no checkpoint
// moving forward, the time to the first invocation after the kill (to within a sample), and
// whether any checkpoint ever moved back (none may).
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

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/await.h"
#include "common/process.h"
#include "etcd/testing/etcd_cluster.h"
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
DEFINE_string(modes, "embedded",
              "Comma-separated: embedded (leasing and tracker on RocksDB), cluster (on etcd)");
DEFINE_int32(etcd_members, 3, "Members of the etcd cluster of cluster mode");
DEFINE_double(leader_kill_observe_seconds, 8, "Cluster mode: how long to watch after the kill");
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

// A decimal sequence number as an orderable key (no leading zeros: longer is larger).
std::pair<size_t, std::string> SeqKey(const std::string& seq) { return {seq.size(), seq}; }

// Each shard's checkpoint (SEQUENCE_NUMBER only) as leasing lists it.
absl::StatusOr<std::map<std::string, std::string>> Checkpoints(InProcessCluster& c,
                                                               const std::string& uuid) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  v1::ListLeasesRequest request;
  request.set_event_source_mapping_uuid(uuid);
  request.set_max_results(10000);
  v1::ListLeasesResponse response;
  grpc::Status s = c.leasing().ListLeases(&context, request, &response);
  if (!s.ok()) return absl::InternalError(absl::StrCat("ListLeases: ", s.error_message()));
  std::map<std::string, std::string> out;
  for (const auto& lease : response.leases()) {
    if (lease.checkpoint().type() == v1::SEQUENCE_NUMBER) {
      out[lease.shard_id()] = lease.checkpoint().sequence_number();
    }
  }
  return out;
}

// One mode's trials; rows go to `report`. Returns false when a trial went wrong.
bool RunMode(const std::string& mode, const std::string& dir, Report& report) {
  std::unique_ptr<etcd::testing::EtcdCluster> etcd_cluster;
  ClusterOptions options;
  options.data_dir = absl::StrCat(dir, "/", mode);
  options.with_poller = false;
  options.lease_duration_ms = FLAGS_lease_duration_ms;
  options.min_hold_ms = 0;
  options.sync_interval_ms = 200;
  if (mode == "cluster") {
    auto started = etcd::testing::EtcdCluster::Start(FLAGS_etcd_members);
    if (!started.ok()) {
      Progress("etcd: %s", started.status().ToString().c_str());
      return false;
    }
    etcd_cluster = std::move(*started);
    options.coordination = etcd_cluster->url();
  } else if (mode != "embedded") {
    Progress("--modes: unknown mode %s", mode.c_str());
    return false;
  }
  auto cluster = InProcessCluster::Create(options);
  auto function = FunctionServer::Start();
  if (!cluster.ok() || !function.ok()) {
    Progress("setup: %s %s", cluster.status().ToString().c_str(),
             function.status().ToString().c_str());
    return false;
  }
  InProcessCluster& c = **cluster;
  NoopFunction& f = (*function)->function();
  bool bad = false;
  const int trials = FLAGS_trials + (etcd_cluster != nullptr ? 1 : 0);
  for (int trial = 1; trial <= trials; ++trial) {
    // In cluster mode the last trial kills the etcd leader instead of a poller.
    const bool leader_kill = etcd_cluster != nullptr && trial == trials;
    const std::string stream = absl::StrCat("failover", trial);
    if (absl::Status s = c.CreateStream(stream, FLAGS_shards); !s.ok()) {
      Progress("create stream: %s", s.ToString().c_str());
      return false;
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
    const std::string ids[2] = {absl::StrCat("poller-", mode, "-", trial, "-a"),
                                absl::StrCat("poller-", mode, "-", trial, "-b")};
    for (const std::string& id : ids) {
      auto p = StartPoller(dir, id, c.address());
      if (!p.ok()) {
        Progress("poller %s: %s", id.c_str(), p.status().ToString().c_str());
        stop = true;
        producer.join();
        return false;
      }
      pollers.emplace(id, std::move(*p));
    }
    f.Reset();
    auto uuid = c.CreateMapping(stream, (*function)->address(), 100, 1, false);
    if (!uuid.ok()) {
      Progress("mapping: %s", uuid.status().ToString().c_str());
      stop = true;
      producer.join();
      return false;
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
      Progress("[%s trial %d] the two pollers did not both hold leases in time: %s", mode.c_str(),
               trial, balanced.ToString().c_str());
      bad = true;
    } else if (leader_kill) {
      // Checkpoints sampled every 20 ms: the longest time after the kill with none moving
      // forward, and any that moved back.
      std::map<std::string, std::string> seen;
      int64_t last_advance = 0;
      int64_t kill_at = 0;
      double stall_s = 0;
      int moved_back = 0;
      int advances_after = 0;
      int64_t first_after = 0;
      const int64_t start = NowNanos();
      const double observe = 1.0 + FLAGS_leader_kill_observe_seconds;
      while ((NowNanos() - start) / 1e9 < observe) {
        if (kill_at == 0 && (NowNanos() - start) / 1e9 >= 1.0) {
          absl::StatusOr<int> leader = etcd_cluster->Leader();
          if (!leader.ok()) {
            Progress("[%s trial %d] leader: %s", mode.c_str(), trial,
                     leader.status().ToString().c_str());
            bad = true;
            break;
          }
          etcd_cluster->Kill(*leader);
          kill_at = NowNanos();
          last_advance = kill_at;
          Progress("[%s trial %d] killed etcd member %d (the leader)", mode.c_str(), trial,
                   *leader);
        }
        // The first invocation after the kill, to within a sample.
        const int64_t last_invoke = f.last_invoke_nanos();
        if (kill_at != 0 && first_after == 0 && last_invoke > kill_at) first_after = last_invoke;
        auto now = Checkpoints(c, *uuid);
        const int64_t sampled = NowNanos();
        if (now.ok()) {
          bool advanced = false;
          for (const auto& [shard, seq] : *now) {
            auto it = seen.find(shard);
            if (it == seen.end() || SeqKey(seq) > SeqKey(it->second)) {
              advanced = advanced || it != seen.end();
              seen[shard] = seq;
            } else if (SeqKey(seq) < SeqKey(it->second)) {
              ++moved_back;
            }
          }
          if (advanced && kill_at != 0) {
            stall_s = std::max(stall_s, (sampled - last_advance) / 1e9);
            last_advance = sampled;
            ++advances_after;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (kill_at != 0) stall_s = std::max(stall_s, (NowNanos() - last_advance) / 1e9);
      t.first_s = first_after > 0 ? (first_after - kill_at) / 1e9 : -1;
      t.all_s = stall_s;
      t.owners_ok = moved_back == 0 && advances_after > 0;
      Progress(
          "[%s trial %d] etcd leader killed: longest time with no checkpoint moving forward "
          "%.3f s (%d sampled advances after the kill), first invocation after the kill %.3f s, "
          "checkpoints moved back: %d",
          mode.c_str(), trial, stall_s, advances_after, t.first_s, moved_back);
      if (kill_at == 0 || t.first_s <= 0 || !t.owners_ok) bad = true;
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
      if (!moved.ok()) Progress("[%s trial %d] %s", mode.c_str(), trial, moved.ToString().c_str());
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
          "[%s trial %d] killed %s holding %d of %d shards: first invocation elsewhere after "
          "%.3f s, all its shards after %.3f s; leasing lists the survivor: %s",
          mode.c_str(), trial, victim.c_str(), t.victim_shards, FLAGS_shards, t.first_s, t.all_s,
          t.owners_ok ? "yes" : "NO");
      if (t.first_s <= 0 || t.all_s <= 0 || !t.owners_ok) bad = true;
    }
    // Leader kill: first_invocation_s is the first invocation after the kill, all_shards_s the
    // checkpoint stall, owners_ok "no checkpoint moved back".
    report.AddRow({Report::Str("mode", mode),
                   Report::Str("kill", leader_kill ? "etcd leader" : "poller"),
                   Report::Num("trial", trial), Report::Num("victim_shards", t.victim_shards),
                   Report::Num("first_invocation_s", t.first_s, 3),
                   Report::Num("all_shards_s", t.all_s, 3),
                   Report::Str("owners_ok", t.owners_ok ? "yes" : "no")});
    stop = true;
    producer.join();
    {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
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
  return !bad;
}

int Main() {
  if (FLAGS_quick) FLAGS_trials = 1;
  ScopedWorkDir work_dir(FLAGS_work_dir, "failover_bench");
  const std::string& dir = work_dir.path();
  Report report("failover");
  report.Set("quick", FLAGS_quick ? "true" : "false");
  report.Set("lease_duration_ms", absl::StrCat(FLAGS_lease_duration_ms));
  report.Set("shards", absl::StrCat(FLAGS_shards));
  report.Set("modes", absl::StrCat("\"", absl::CEscape(FLAGS_modes), "\""));
  bool bad = false;
  for (const absl::string_view mode : absl::StrSplit(FLAGS_modes, ',', absl::SkipEmpty())) {
    if (!RunMode(std::string(mode), dir, report)) bad = true;
  }
  return FinishRun(report.Finish(FLAGS_json_out), bad,
                   "a trial did not produce a figure or ended with the wrong owner");
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  return tributary::bench::BenchMain(argc, argv, tributary::bench::Main);
}
