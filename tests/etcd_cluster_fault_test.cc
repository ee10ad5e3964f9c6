// Cluster mode (issue 19) end to end, one fault at a time under load, on real processes.
//
// One 3-member etcd cluster for the whole binary (started once; a case that kills or stops a
// member heals it before the next). Each case starts its own Tributary cluster over it, under a
// key prefix of its own: one shard store, two leasing replicas and two tracker replicas with
// --coordination, three pollers given both replica lists, a producer and a recording function in
// this process. The faults: kill -9 of the etcd leader, of a follower, of a leasing replica, of
// the tracker replica holding the election (a shard split right after it), of a poller; the etcd
// leader, a leasing replica and a poller stopped (SIGSTOP) as if cut off, then let go (SIGCONT;
// the poller wakes as a stale owner). Then: load, the fault, deliveries and checkpoints resuming
// (the failover times printed), healing, more load, and the checks:
// - every acknowledged record was delivered at least once, first deliveries in per-key and
//   per-shard order, parents before children;
// - the lease rows' whole history in etcd (a watch replaying the case's prefix from its first
//   revision) shows no checkpoint moving back, no row written under a lower lease counter than
//   one already written (a stale owner's checkpoint or grant), and no checkpoint at a record the
//   function never saw.
//
// The partition of one etcd member is a SIGSTOP / SIGCONT of it (the fallback): this
// machine has network namespaces (unshare -n) but no iptables to cut one member off inside them
// (tests/NOTES.md).
//
// Bounded: a few thousand records at 300/s per case, every wait with a deadline, about two
// minutes for the binary on 2 cores.
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/replica_channel.h"
#include "common/testing/assertions.h"
#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "gtest/gtest.h"
#include "leasing/lease_storage.pb.h"
#include "leasing/leasing_client.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tests/cluster.h"

namespace tributary::e2e {
namespace {

constexpr char kStream[] = "orders";
constexpr int kShards = 6;  // two leases a poller
constexpr int kKeys = 48;
constexpr int kRecordsPerCall = 12;
constexpr int kRecordsPerSecond = 300;
// Records acknowledged before the fault (every shard delivering and checkpointing by then), and
// after healing, before the load stops.
constexpr int64_t kBeforeFault = 600;
constexpr int64_t kAfterHeal = 300;
constexpr int64_t kLeaseDurationMs = 2000;
// Every wait's guard: far above any failover seen here (seconds), so that only a hang fails it.
constexpr absl::Duration kWait = absl::Seconds(60);

enum class Fault {
  kKillEtcdLeader,
  kKillEtcdFollower,
  kPartitionEtcdLeader,
  kKillLeasingReplica,
  kKillTrackerHoldingTheElection,
  kKillPoller,
  kPausePoller,
  kPauseLeasingReplica,
};

std::string FaultName(const ::testing::TestParamInfo<Fault>& info) {
  switch (info.param) {
    case Fault::kKillEtcdLeader:
      return "KillEtcdLeader";
    case Fault::kKillEtcdFollower:
      return "KillEtcdFollower";
    case Fault::kPartitionEtcdLeader:
      return "PartitionEtcdLeader";
    case Fault::kKillLeasingReplica:
      return "KillLeasingReplica";
    case Fault::kKillTrackerHoldingTheElection:
      return "KillTrackerHoldingTheElection";
    case Fault::kKillPoller:
      return "KillPoller";
    case Fault::kPausePoller:
      return "PausePollerPastItsLeases";
    case Fault::kPauseLeasingReplica:
      return "PauseLeasingReplica";
  }
  return "Unknown";
}

// How far a lease has come: an initial position, then sequence numbers, then the shard's end.
// Checkpoints of one lease only ever move forward in this order.
using Progress = std::pair<int, uint64_t>;

Progress ProgressOf(int checkpoint_type, uint64_t sequence_number) {
  switch (checkpoint_type) {
    case 1:  // SEQUENCE_NUMBER (leasing::CheckpointType::kSequenceNumber)
      return {1, sequence_number};
    case 5:  // SHARD_END
      return {2, 0};
    default:  // an initial position: TRIM_HORIZON, LATEST, AT_TIMESTAMP
      return {0, 0};
  }
}

std::string ProgressText(const Progress& p) {
  return p.first == 0 ? "initial" : p.first == 2 ? "SHARD_END" : absl::StrCat(p.second);
}

// What the lease rows' history in etcd showed.
struct LeaseHistory {
  int64_t puts = 0;
  int64_t checkpoints = 0;    // puts that moved a checkpoint forward
  int64_t owner_changes = 0;  // puts that raised the lease counter
  std::vector<std::string> violations;
};

// Checks the puts of lease rows (keys under `leases_prefix`, values leasing.storage.StoredLease),
// in revision order: per row, the counter never goes down and the checkpoint never moves back;
// a checkpoint names a record the function saw (`delivered`: shard id, sequence number).
LeaseHistory CheckLeaseHistory(const std::vector<etcd::WatchEvent>& events,
                               const std::string& leases_prefix,
                               const std::set<std::pair<std::string, uint64_t>>& delivered) {
  struct Row {
    int64_t counter = 0;
    Progress progress{0, 0};
  };
  std::map<std::string, Row> rows;
  LeaseHistory history;
  const auto violation = [&history](std::string line) {
    if (history.violations.size() < 10) history.violations.push_back(std::move(line));
  };
  for (const etcd::WatchEvent& event : events) {
    if (!absl::StartsWith(event.kv.key, leases_prefix)) continue;
    if (event.type == etcd::WatchEvent::Type::kDelete) {
      rows.erase(event.kv.key);
      continue;
    }
    leasing::storage::StoredLease lease;
    if (!lease.ParseFromString(event.kv.value)) {
      violation(absl::StrCat(event.kv.key, " at revision ", event.kv.mod_revision,
                             " is not a StoredLease"));
      continue;
    }
    ++history.puts;
    // The row's key names the lease (`<prefix><mapping>/<shard>`); the value does not since the
    // compact encoding (leasing/lease_codec.h). Shard ids need no escaping.
    const std::string shard_id = event.kv.key.substr(event.kv.key.rfind('/') + 1);
    const Progress progress =
        ProgressOf(lease.checkpoint_type(), lease.checkpoint_sequence_number());
    const std::string where =
        absl::StrCat(shard_id, " at revision ", event.kv.mod_revision, " (owner ",
                     lease.lease_owner(), ", counter ", lease.lease_counter(), ")");
    auto [it, first] = rows.emplace(event.kv.key, Row{lease.lease_counter(), progress});
    Row& row = it->second;
    if (!first) {
      if (lease.lease_counter() < row.counter) {
        violation(absl::StrCat(where, ": written under a lower counter than ", row.counter,
                               " already written (a stale owner)"));
      }
      if (progress < row.progress) {
        violation(absl::StrCat(where, ": checkpoint moved back from ", ProgressText(row.progress),
                               " to ", ProgressText(progress)));
      }
      if (lease.lease_counter() > row.counter) ++history.owner_changes;
      if (progress > row.progress) ++history.checkpoints;
    }
    if (progress.first == 1 && delivered.count({shard_id, progress.second}) == 0) {
      violation(absl::StrCat(where, ": checkpoint at ", progress.second,
                             ", a record the function never saw"));
    }
    row.counter = std::max(row.counter, lease.lease_counter());
    row.progress = std::max(row.progress, progress);
  }
  return history;
}

class EtcdClusterFaultTest : public ::testing::TestWithParam<Fault> {
 protected:
  static void SetUpTestSuite() {
    auto started = etcd::testing::EtcdCluster::Start(3);
    ASSERT_TRUE(started.ok()) << started.status();
    etcd_ = std::move(started).value().release();
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(etcd_, nullptr) << "the etcd cluster did not start";
    ASSERT_TRUE(etcd_->Leader().ok()) << "the etcd cluster has no leader";
    admin_ = etcd_->NewClient();
    prefix_ = etcd_->NewPrefix();
    // The case's first revision: the lease rows' history is replayed from here.
    auto start = admin_->Put(prefix_ + "start", "");
    ASSERT_TRUE(start.ok()) << start.status();
    start_revision_ = *start;

    ClusterOptions options;
    options.pollers = 3;
    options.replicas = 2;
    options.coordination = etcd_->url();
    options.etcd_prefix = prefix_;
    options.lease_duration_ms = kLeaseDurationMs;
    options.election_ttl_ms = 2000;
    cluster_ = std::make_unique<Cluster>(options);
    absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << "cluster did not start: " << started;
    leasing_ =
        std::make_unique<leasing::LeasingClient>(MakeReplicaChannel(cluster_->leasing_addresses()));

    v1::CreateStreamRequest create;
    create.set_stream_name(kStream);
    create.set_shard_count(kShards);
    auto stream = cluster_->streams().CreateStream(create);
    ASSERT_TRUE(stream.ok()) << stream.status();
    auto shards = cluster_->streams().ListAllShards(kStream);
    ASSERT_TRUE(shards.ok()) << shards.status();
    for (const v1::Shard& shard : *shards) shards_.insert(shard.shard_id());
    ASSERT_EQ(shards_.size(), kShards);

    stream_tracker::StreamTrackerClient tracker(
        MakeReplicaChannel(cluster_->stream_tracker_addresses()));
    v1::CreateEventSourceMappingRequest mapping;
    mapping.set_stream_name(kStream);
    mapping.set_function_endpoint(cluster_->function_address());
    mapping.set_starting_position(v1::TRIM_HORIZON_POSITION);
    mapping.set_batch_size(50);
    auto created = tracker.CreateEventSourceMapping(mapping);
    ASSERT_TRUE(created.ok()) << created.status();
  }

  // Heals whatever a failed case left broken, so that the next case has three members.
  void TearDown() override {
    cluster_.reset();
    if (etcd_ == nullptr) return;
    for (int i = 0; i < etcd_->size(); ++i) {
      etcd_->Resume(i);
      if (!etcd_->running(i)) {
        EXPECT_TRUE(etcd_->Restart(i).ok()) << "etcd member " << i;
      }
    }
  }

  // Every lease's progress now (shard id → progress), as leasing says.
  std::map<std::string, Progress> Checkpoints() {
    v1::ListLeasesRequest request;
    std::map<std::string, Progress> out;
    auto leases = leasing_->ListLeases(request);
    if (!leases.ok()) return out;
    for (const v1::Lease& lease : leases->leases()) {
      uint64_t sequence = 0;
      if (!absl::SimpleAtoi(lease.checkpoint().sequence_number(), &sequence)) sequence = 0;
      out[lease.shard_id()] = ProgressOf(lease.checkpoint().type(), sequence);
    }
    return out;
  }

  // Every lease as `client`'s replica has it: shard id → "owner/counter/checkpoint".
  static std::map<std::string, std::string> LeaseRows(leasing::LeasingClient& client) {
    std::map<std::string, std::string> rows;
    auto leases = client.ListLeases(v1::ListLeasesRequest());
    if (!leases.ok()) return rows;
    for (const v1::Lease& lease : leases->leases()) {
      rows[lease.shard_id()] =
          absl::StrCat(lease.lease_owner(), "/", lease.lease_counter(), "/",
                       lease.checkpoint().type(), ":", lease.checkpoint().sequence_number());
    }
    return rows;
  }

  std::set<std::string> ShardsOwnedBy(const std::string& poller) {
    v1::ListLeasesRequest request;
    request.set_lease_owner(poller);
    std::set<std::string> shards;
    auto leases = leasing_->ListLeases(request);
    if (leases.ok()) {
      for (const v1::Lease& lease : leases->leases()) shards.insert(lease.shard_id());
    }
    return shards;
  }

  // The first delivery at or after `since` on each of `shards` (those with one).
  std::map<std::string, MonotonicTime> FirstDeliveriesSince(const std::set<std::string>& shards,
                                                            MonotonicTime since) {
    std::map<std::string, MonotonicTime> first;
    for (const Delivery& d : cluster_->function().Deliveries()) {
      if (d.at >= since && shards.count(d.shard_id) > 0) first.emplace(d.shard_id, d.at);
    }
    return first;
  }

  // Waits until every one of `shards` had a delivery after `since`; returns the time from
  // `since` to the last of those first deliveries (the failover time of deliveries).
  absl::StatusOr<absl::Duration> DeliveriesResumed(const std::set<std::string>& shards,
                                                   MonotonicTime since,
                                                   absl::Duration timeout = kWait) {
    std::map<std::string, MonotonicTime> first;
    absl::Status waited = PollFor(
        timeout, absl::Milliseconds(20), absl::StrCat("deliveries on ", shards.size(), " shards"),
        [&] {
          first = FirstDeliveriesSince(shards, since);
          return first.size() == shards.size();
        },
        [&] { return absl::StrCat(first.size(), " shards delivered"); });
    if (!waited.ok()) return waited;
    absl::Duration worst = absl::ZeroDuration();
    for (const auto& [shard, at] : first) worst = std::max(worst, at - since);
    return worst;
  }

  // Waits until the checkpoint of every one of `shards` moved past `before` (missing: any
  // checkpoint); returns the time from `since` (checkpoints resuming after the fault).
  absl::StatusOr<absl::Duration> CheckpointsResumed(const std::set<std::string>& shards,
                                                    const std::map<std::string, Progress>& before,
                                                    MonotonicTime since,
                                                    absl::Duration timeout = kWait) {
    std::set<std::string> waiting;
    absl::Status waited = PollFor(
        timeout, absl::Milliseconds(20), absl::StrCat("checkpoints on ", shards.size(), " shards"),
        [&] {
          const std::map<std::string, Progress> now = Checkpoints();
          waiting.clear();
          for (const std::string& shard : shards) {
            auto was = before.find(shard);
            auto is = now.find(shard);
            const Progress floor = was == before.end() ? Progress{0, 0} : was->second;
            if (is == now.end() || is->second <= floor) waiting.insert(shard);
          }
          return waiting.empty();
        },
        [&] { return absl::StrCat("waiting for ", absl::StrJoin(waiting, ", ")); });
    if (!waited.ok()) return waited;
    return RealClock::Get().MonotonicNow() - since;
  }

  // Waits until every acknowledged record was delivered.
  [[nodiscard]] ::testing::AssertionResult WaitForAllDelivered(const std::vector<Acked>& acked) {
    absl::Status last;
    return tributary::testing::IsOk(PollFor(
        kWait, absl::Milliseconds(100),
        absl::StrCat("all ", acked.size(), " acknowledged records delivered"),
        [&] {
          last = CheckEveryAckedDelivered(acked, cluster_->function().Deliveries());
          return last.ok();
        },
        [&] { return last.ToString(); }));
  }

  // The index of the tracker replica whose pid the election key names (the sync holder).
  absl::StatusOr<Component> TrackerHoldingTheElection() {
    auto kv = admin_->Get(prefix_ + "tracker/election/sync");
    if (!kv.ok()) return kv.status();
    if (!kv->has_value()) return absl::NotFoundError("no election key");
    // The value names the replica: "<host> pid <pid> listen <address>".
    const std::string& value = (*kv)->value;
    const size_t at = value.find(" pid ");
    int pid = 0;
    if (at == std::string::npos ||
        !absl::SimpleAtoi(value.substr(at + 5, value.find(' ', at + 5) - at - 5), &pid)) {
      return absl::InternalError(absl::StrCat("election value without a pid: ", value));
    }
    for (Component c : {Component::kStreamTracker, Component::kStreamTracker1}) {
      if (cluster_->pid(c) == pid) return c;
    }
    return absl::NotFoundError(absl::StrCat("no tracker replica has pid ", pid));
  }

  // Every event under the case's prefix from its first revision to now, in revision order: a
  // watch replaying etcd's history (a sentinel put marks the end).
  absl::StatusOr<std::vector<etcd::WatchEvent>> History() {
    const std::string end_key = prefix_ + "end";
    auto end = admin_->Put(end_key, "");
    if (!end.ok()) return end.status();
    std::vector<etcd::WatchEvent> events;
    int64_t from = start_revision_ + 1;
    const MonotonicTime deadline = RealClock::Get().MonotonicNow() + kWait;
    while (RealClock::Get().MonotonicNow() < deadline) {
      auto watch = admin_->Watch(prefix_, /*prefix=*/true, from);
      if (!watch.ok()) return watch.status();
      while (true) {
        absl::StatusOr<std::vector<etcd::WatchEvent>> next = (*watch)->Next(deadline);
        if (!next.ok()) break;  // the stream broke: watch again from where it got
        if (next->empty()) {
          return absl::DeadlineExceededError(
              absl::StrCat("the history replay did not reach revision ", *end));
        }
        for (etcd::WatchEvent& event : *next) {
          if (event.kv.key == end_key) return events;
          events.push_back(std::move(event));
        }
      }
      from = (*watch)->last_revision() + 1;
    }
    return absl::DeadlineExceededError("the history replay did not finish");
  }

  static etcd::testing::EtcdCluster* etcd_;
  std::unique_ptr<etcd::EtcdClient> admin_;
  std::string prefix_;
  int64_t start_revision_ = 0;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<leasing::LeasingClient> leasing_;
  std::set<std::string> shards_;
};

etcd::testing::EtcdCluster* EtcdClusterFaultTest::etcd_ = nullptr;

TEST_P(EtcdClusterFaultTest, NothingAcknowledgedIsLostAndNoCheckpointMovesBack) {
  const Fault fault = GetParam();
  Producer producer(kStream, cluster_->shard_store_address(), kKeys, kRecordsPerCall,
                    kRecordsPerSecond);
  const MonotonicTime load_started = RealClock::Get().MonotonicNow();
  producer.Start(/*total=*/1000000);  // stopped below, after healing
  ASSERT_TRUE(producer.WaitForAcked(kBeforeFault, kWait)) << "the producer stalled";
  // Steady state before the fault: every shard delivering and checkpointing.
  ASSERT_TRUE(DeliveriesResumed(shards_, load_started).ok()) << "not every shard delivers";
  ASSERT_TRUE(CheckpointsResumed(shards_, {}, load_started).ok()) << "not every shard checkpoints";

  // The fault. `affected`: the shards whose deliveries and checkpoints must resume.
  std::set<std::string> affected = shards_;
  std::map<std::string, Progress> before = Checkpoints();
  int etcd_member = -1;
  MonotonicTime fault_at;
  switch (fault) {
    case Fault::kKillEtcdLeader:
    case Fault::kPartitionEtcdLeader: {
      auto leader = etcd_->Leader();
      ASSERT_TRUE(leader.ok()) << leader.status();
      etcd_member = *leader;
      fault_at = RealClock::Get().MonotonicNow();
      if (fault == Fault::kKillEtcdLeader) {
        etcd_->Kill(etcd_member);
      } else {
        etcd_->Pause(etcd_member);
      }
      break;
    }
    case Fault::kKillEtcdFollower: {
      auto leader = etcd_->Leader();
      ASSERT_TRUE(leader.ok()) << leader.status();
      etcd_member = (*leader + 1) % etcd_->size();
      fault_at = RealClock::Get().MonotonicNow();
      etcd_->Kill(etcd_member);
      break;
    }
    case Fault::kPauseLeasingReplica: {
      auto paused = cluster_->Pause(Component::kLeasing);
      ASSERT_TRUE(paused.ok()) << paused.status();
      fault_at = *paused;
      break;
    }
    case Fault::kKillLeasingReplica: {
      // The first of the list: the one every poller and tracker replica is connected to.
      auto killed = cluster_->Kill(Component::kLeasing);
      ASSERT_TRUE(killed.ok()) << killed.status();
      fault_at = *killed;
      break;
    }
    case Fault::kKillTrackerHoldingTheElection: {
      absl::StatusOr<Component> holder;
      ASSERT_TRUE(PollFor(
                      kWait, absl::Milliseconds(50), "a tracker replica holding the election",
                      [&] { return (holder = TrackerHoldingTheElection()).ok(); },
                      [&] { return holder.status().ToString(); })
                      .ok())
          << holder.status();
      auto killed = cluster_->Kill(*holder);
      ASSERT_TRUE(killed.ok()) << killed.status();
      fault_at = *killed;
      // A split now: only the new holder's sync creates the children's leases, so records
      // written to the children are delivered only once the other replica took the sync over.
      v1::SplitShardRequest split;
      split.set_stream_name(kStream);
      split.set_shard_to_split("shardId-000000000000");
      // The middle of shard 0's range [0, 2^128/6): 2^128/12.
      split.set_new_starting_hash_key("28356863910078205288614550619314017621");
      auto done = cluster_->streams().SplitShard(split);
      ASSERT_TRUE(done.ok()) << done.status();
      auto all = cluster_->streams().ListAllShards(kStream);
      ASSERT_TRUE(all.ok()) << all.status();
      affected.clear();
      for (const v1::Shard& shard : all.value()) {
        if (shard.parent_shard_id() == "shardId-000000000000") affected.insert(shard.shard_id());
      }
      ASSERT_EQ(affected.size(), 2u) << "the split made no two children";
      break;
    }
    case Fault::kKillPoller:
    case Fault::kPausePoller: {
      affected = ShardsOwnedBy("poller0");
      ASSERT_FALSE(affected.empty()) << "poller0 held no lease";
      auto stopped = fault == Fault::kKillPoller ? cluster_->Kill(Component::kPoller0)
                                                 : cluster_->Pause(Component::kPoller0);
      ASSERT_TRUE(stopped.ok()) << stopped.status();
      fault_at = *stopped;
      break;
    }
  }

  // Deliveries and checkpoints resume on every affected shard (bounded), the fault still on.
  // A frozen leasing replica keeps its connections open: the clients' replica channels must
  // notice it (pings, about 3 s) and move on (a reconnect to it gives up after 2 s). 5-8 s here;
  // 18 s leaves room for a slow machine and still fails a channel that waits for gRPC's 20 s
  // connect timeout (24 s measured) or never moves (no pings).
  const absl::Duration timeout = fault == Fault::kPauseLeasingReplica ? absl::Seconds(18) : kWait;
  const absl::StatusOr<absl::Duration> deliveries = DeliveriesResumed(affected, fault_at, timeout);
  ASSERT_TRUE(deliveries.ok()) << "deliveries did not resume: " << deliveries.status();
  const absl::StatusOr<absl::Duration> checkpoints =
      CheckpointsResumed(affected, before, fault_at, timeout);
  ASSERT_TRUE(checkpoints.ok()) << "checkpoints did not resume: " << checkpoints.status();

  // Heal (an etcd member comes back; a killed Tributary process stays down: its peers carry
  // on), then more load through the healed cluster.
  if (fault == Fault::kPartitionEtcdLeader) etcd_->Resume(etcd_member);
  // The paused poller wakes as a stale owner of leases others took meanwhile: whatever it still
  // tries to checkpoint must be refused (the history check below).
  if (fault == Fault::kPausePoller) {
    ASSERT_TRUE(cluster_->Resume(Component::kPoller0).ok());
  }
  if (fault == Fault::kPauseLeasingReplica) {
    ASSERT_TRUE(cluster_->Resume(Component::kLeasing).ok());
  }
  if (fault == Fault::kKillEtcdLeader || fault == Fault::kKillEtcdFollower) {
    absl::Status restarted = etcd_->Restart(etcd_member);
    ASSERT_TRUE(restarted.ok()) << restarted;
  }
  ASSERT_TRUE(producer.WaitForAcked(producer.acked_count() + kAfterHeal, kWait))
      << "the producer stalled after healing";
  producer.Stop();

  const std::vector<Acked> acked = producer.AckedRecords();
  EXPECT_TRUE(WaitForAllDelivered(acked));
  if (fault == Fault::kPauseLeasingReplica) {
    // The replica let go catches up from etcd (its watch): it answers as the other one does.
    const std::vector<std::string> replicas = absl::StrSplit(cluster_->leasing_addresses(), ',');
    ASSERT_EQ(replicas.size(), 2u);
    leasing::LeasingClient was_frozen(MakeChannel(replicas[0]));
    leasing::LeasingClient other(MakeChannel(replicas[1]));
    std::map<std::string, std::string> frozen_rows;
    std::map<std::string, std::string> other_rows;
    EXPECT_TRUE(tributary::testing::IsOk(PollFor(
        kWait, absl::Milliseconds(100), "the replica let go to agree with the other",
        [&] {
          frozen_rows = LeaseRows(was_frozen);
          other_rows = LeaseRows(other);
          return !other_rows.empty() && frozen_rows == other_rows;
        },
        [&] {
          return absl::StrCat(
              "let go: ", absl::StrJoin(frozen_rows, ", ", absl::PairFormatter("=")),
              "; other: ", absl::StrJoin(other_rows, ", ", absl::PairFormatter("=")));
        })));
  }
  const std::vector<Delivery> deliveries_seen = cluster_->function().Deliveries();
  EXPECT_TRUE(CheckFirstDeliveriesInKeyOrder(acked, deliveries_seen).ok())
      << CheckFirstDeliveriesInKeyOrder(acked, deliveries_seen);
  EXPECT_TRUE(CheckFirstDeliveriesInShardOrder(deliveries_seen).ok())
      << CheckFirstDeliveriesInShardOrder(deliveries_seen);
  std::map<std::string, std::vector<std::string>> parents;
  auto all_shards = cluster_->streams().ListAllShards(kStream);
  ASSERT_TRUE(all_shards.ok()) << all_shards.status();
  for (const v1::Shard& shard : all_shards.value()) {
    if (!shard.parent_shard_id().empty()) {
      parents[shard.shard_id()].push_back(shard.parent_shard_id());
    }
  }
  EXPECT_TRUE(CheckParentsBeforeChildren(parents, deliveries_seen).ok())
      << CheckParentsBeforeChildren(parents, deliveries_seen);

  std::set<std::pair<std::string, uint64_t>> delivered;
  for (const Delivery& d : deliveries_seen) delivered.emplace(d.shard_id, d.sequence_number);
  const absl::StatusOr<std::vector<etcd::WatchEvent>> events = History();
  ASSERT_TRUE(events.ok()) << events.status();
  const LeaseHistory history = CheckLeaseHistory(*events, prefix_ + "leasing/leases/", delivered);
  EXPECT_TRUE(history.violations.empty()) << absl::StrJoin(history.violations, "\n");
  EXPECT_GT(history.checkpoints, 0) << "no checkpoint in the lease rows' history";

  std::cout << "[etcd-cluster-fault] " << FaultName({fault, 0}) << ": failover (deliveries) "
            << *deliveries << ", checkpoints resumed after " << *checkpoints << "; acknowledged "
            << acked.size() << ", deliveries " << deliveries_seen.size() << ", producer retries "
            << producer.failed_calls() << "; lease rows written " << history.puts
            << " (checkpoints " << history.checkpoints << ", owner changes "
            << history.owner_changes << ")" << std::endl;
}

INSTANTIATE_TEST_SUITE_P(Faults, EtcdClusterFaultTest,
                         ::testing::Values(Fault::kKillEtcdLeader, Fault::kKillEtcdFollower,
                                           Fault::kPartitionEtcdLeader, Fault::kKillLeasingReplica,
                                           Fault::kKillTrackerHoldingTheElection,
                                           Fault::kKillPoller, Fault::kPausePoller,
                                           Fault::kPauseLeasingReplica),
                         FaultName);

// The history check itself: it catches what it is there for.
TEST(LeaseHistoryCheckTest, CatchesACheckpointMovingBackAStaleCounterAndAnUnseenRecord) {
  const auto put = [](const std::string& shard, int64_t counter, uint64_t sequence,
                      int64_t revision) {
    leasing::storage::StoredLease lease;  // the compact encoding: the key names the shard
    lease.set_lease_owner("p");
    lease.set_lease_counter(counter);
    lease.set_checkpoint_type(1);
    lease.set_checkpoint_sequence_number(sequence);
    etcd::WatchEvent event;
    event.kv.key = "/x/leases/m/" + shard;
    event.kv.value = lease.SerializeAsString();
    event.kv.mod_revision = revision;
    return event;
  };
  const std::set<std::pair<std::string, uint64_t>> delivered = {{"s", 10}, {"s", 20}};
  EXPECT_TRUE(CheckLeaseHistory({put("s", 1, 10, 1), put("s", 2, 20, 2)}, "/x/leases/", delivered)
                  .violations.empty());
  EXPECT_EQ(CheckLeaseHistory({put("s", 1, 20, 1), put("s", 1, 10, 2)}, "/x/leases/", delivered)
                .violations.size(),
            1u);
  EXPECT_EQ(CheckLeaseHistory({put("s", 2, 10, 1), put("s", 1, 20, 2)}, "/x/leases/", delivered)
                .violations.size(),
            1u);
  EXPECT_EQ(CheckLeaseHistory({put("s", 1, 15, 1)}, "/x/leases/", delivered).violations.size(), 1u);
}

}  // namespace
}  // namespace tributary::e2e
