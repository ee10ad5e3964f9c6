// Cluster mode part 2 (issue 20) end to end, one fault at a time under load, on real processes.
//
// One 3-server NATS JetStream cluster and one 3-member etcd cluster for the whole binary (started
// once, shared by the cases; a case that kills a NATS server restarts it before the next). Each
// case starts its own Tributary cluster over them, under an etcd prefix of its own: two stateless
// store front-ends (--coordination=etcd://... --log=nats://a,b,c --log_replicas=3), a leasing
// replica and a tracker replica on etcd, two pollers, a producer and a recording function in this
// process. The pollers and the tracker use front-end 0 (front-end 1 next in their lists); the
// producer writes to front-end 1 and moves to front-end 0 after a failed call (a producer's
// failover, in test code).
//
// The faults: kill -9 of the JetStream server leading the Tributary stream's JetStream stream
// (found with $JS.API.STREAM.INFO), of a follower replica, of the producer's store front-end,
// of the pollers' store front-end, and a resharding (UpdateShardCount 4 → 8, on front-end 0 while the producer writes through
// front-end 1). Then: writes and deliveries resuming (the write stall and delivery failover
// printed), healing (the NATS server restarted), more load, and the checks:
// - every acknowledged record was delivered at least once, and is readable through the store at
//   the sequence number it was acknowledged with, holding what was written;
// - first deliveries in per-key and per-shard order, parents before children;
// - each shard's acknowledged sequence numbers strictly increasing (never reused), and each
//   shard read back strictly increasing.
// Bad input: a few malformed calls get the same status codes from a cluster front-end as from an
// embedded store (a shard_store_server on its --data_dir).
//
// The pollers, the tracker and the harness's client are given both front-ends, front-end 0 first
// (Cluster::shard_store_addresses), and fail over to front-end 1 when front-end 0 is killed: the
// pollers' case kills it and leaves it down, so every read after the fault goes through
// front-end 1.
//
// Bounded: about a thousand records at 300/s per case, every wait with a deadline.
#include <signal.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/process.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "etcd/testing/etcd_cluster.h"
#include "gtest/gtest.h"
#include "nats/nats_client.h"
#include "nats/testing/nats_cluster.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tests/cluster.h"

namespace tributary::e2e {
namespace {

using nats::testing::NatsCluster;

constexpr char kStream[] = "orders";
constexpr int kShards = 4;
constexpr int kShardsAfterResharding = 8;
constexpr int kKeys = 32;
constexpr int kRecordsPerCall = 12;
constexpr int kRecordsPerSecond = 300;
// Records acknowledged before the fault (every shard delivering by then), and after healing,
// before the load stops.
constexpr int64_t kBeforeFault = 600;
constexpr int64_t kAfterHeal = 300;
// Every wait's guard: far above any failover seen here (JetStream elects a new stream leader in
// 4-9 s), so that only a hang fails it.
constexpr absl::Duration kWait = absl::Seconds(60);
// The JetStream stream of the case's Tributary stream: the store names it "trib_<stream id>", and
// the first stream under a fresh etcd prefix gets id 1 (shard_store/NOTES.md).
constexpr char kJetStreamStream[] = "trib_1";

enum class Fault {
  kKillStreamLeader,
  kKillStreamFollower,
  kKillProducersFrontEnd,
  kKillPollersFrontEnd,
  kReshardUnderLoad,
};

std::string FaultName(const ::testing::TestParamInfo<Fault>& info) {
  switch (info.param) {
    case Fault::kKillStreamLeader:
      return "KillJetStreamStreamLeader";
    case Fault::kKillStreamFollower:
      return "KillJetStreamFollower";
    case Fault::kKillProducersFrontEnd:
      return "KillTheProducersStoreFrontEnd";
    case Fault::kKillPollersFrontEnd:
      return "KillThePollersStoreFrontEnd";
    case Fault::kReshardUnderLoad:
      return "UpdateShardCountUnderLoad";
  }
  return "Unknown";
}

// The longest time the producer went without an acknowledgement from `since` on: the gap between
// two acknowledged calls, counted from `since` when the first was before it.
absl::Duration LongestWriteStall(const std::vector<MonotonicTime>& ack_times,
                                 MonotonicTime since) {
  absl::Duration longest = absl::ZeroDuration();
  for (size_t i = 1; i < ack_times.size(); ++i) {
    if (ack_times[i] < since) continue;
    longest = std::max(longest, ack_times[i] - std::max(ack_times[i - 1], since));
  }
  return longest;
}

// The per-case Tributary cluster over the binary's shared NATS and etcd clusters.
class JetStreamClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nats_ = &NatsCluster::Shared(3);  // restarts any server an earlier case left down
    etcd_ = &etcd::testing::EtcdCluster::Shared(3);
    // An earlier case's JetStream stream has the same name (every case's first stream id is 1).
    ASSERT_NO_FATAL_FAILURE(DeleteJetStreamStream());

    ClusterOptions options;
    options.pollers = 2;
    options.coordination = etcd_->url();
    options.etcd_prefix = etcd_->NewPrefix();
    options.log = nats_->url();
    options.log_replicas = 3;
    options.store_front_ends = 2;
    cluster_ = std::make_unique<Cluster>(options);
    absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << "cluster did not start: " << started;
  }

  void TearDown() override {
    cluster_.reset();
    for (int i = 0; nats_ != nullptr && i < nats_->size(); ++i) {
      if (!nats_->running(i)) {
        EXPECT_TRUE(nats_->Restart(i).ok()) << "NATS server " << i;
      }
    }
    if (nats_ != nullptr) DeleteJetStreamStream();
  }

  void DeleteJetStreamStream() {
    std::unique_ptr<nats::NatsClient> admin = nats_->NewClient();
    const absl::Status deleted = admin->DeleteStream(kJetStreamStream);
    ASSERT_TRUE(deleted.ok() || absl::IsNotFound(deleted)) << deleted;
  }

  // Creates the stream on front-end 0 and waits until front-end 1 serves it too (it learns of it
  // from etcd).
  void CreateStream() {
    v1::CreateStreamRequest create;
    create.set_stream_name(kStream);
    create.set_shard_count(kShards);
    auto stream = cluster_->streams().CreateStream(create);
    ASSERT_TRUE(stream.ok()) << stream.status();
    shard_store::ShardStoreClient other(MakeChannel(cluster_->address(Component::kShardStore1)));
    std::string seen;
    ASSERT_TRUE(tributary::testing::IsOk(PollFor(
        kWait, absl::Milliseconds(20), "front-end 1 to serve the stream",
        [&] {
          auto shards = other.ListAllShards(kStream);
          seen = shards.ok() ? absl::StrCat(shards->size(), " shards") : shards.status().ToString();
          return shards.ok() && shards->size() == static_cast<size_t>(kShards);
        },
        [&] { return seen; })));
  }

  std::unique_ptr<Cluster> cluster_;
  NatsCluster* nats_ = nullptr;
  etcd::testing::EtcdCluster* etcd_ = nullptr;
};

class JetStreamClusterFaultTest : public JetStreamClusterTest,
                                  public ::testing::WithParamInterface<Fault> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(JetStreamClusterTest::SetUp());
    ASSERT_NO_FATAL_FAILURE(CreateStream());
    auto shards = cluster_->streams().ListAllShards(kStream);
    ASSERT_TRUE(shards.ok()) << shards.status();
    for (const v1::Shard& shard : *shards) shards_.insert(shard.shard_id());
    stream_tracker::StreamTrackerClient tracker(MakeChannel(cluster_->stream_tracker_address()));
    v1::CreateEventSourceMappingRequest mapping;
    mapping.set_stream_name(kStream);
    mapping.set_function_endpoint(cluster_->function_address());
    mapping.set_starting_position(v1::TRIM_HORIZON_POSITION);
    mapping.set_batch_size(50);
    auto created = tracker.CreateEventSourceMapping(mapping);
    ASSERT_TRUE(created.ok()) << created.status();
  }

  // Waits until every one of `shards` had a delivery after `since`; returns the time from
  // `since` to the last of those first deliveries.
  absl::StatusOr<absl::Duration> DeliveriesResumed(const std::set<std::string>& shards,
                                                   MonotonicTime since) {
    std::map<std::string, MonotonicTime> first;
    absl::Status waited = PollFor(
        kWait, absl::Milliseconds(20), absl::StrCat("deliveries on ", shards.size(), " shards"),
        [&] {
          first.clear();
          for (const Delivery& d : cluster_->function().Deliveries()) {
            if (d.at >= since && shards.count(d.shard_id) > 0) first.emplace(d.shard_id, d.at);
          }
          return first.size() == shards.size();
        },
        [&] { return absl::StrCat(first.size(), " shards delivered"); });
    if (!waited.ok()) return waited;
    absl::Duration worst = absl::ZeroDuration();
    for (const auto& [shard, at] : first) worst = std::max(worst, at - since);
    return worst;
  }

  // Every record of every shard (open and closed) as front-end 0 reads it from TRIM_HORIZON:
  // (shard, sequence number) → data. Adds a violation for a shard whose numbers do not strictly
  // increase.
  absl::StatusOr<std::map<std::pair<std::string, uint64_t>, std::string>> ReadEverything(
      std::vector<std::string>* violations) {
    std::map<std::pair<std::string, uint64_t>, std::string> out;
    auto shards = cluster_->streams().ListAllShards(kStream);
    if (!shards.ok()) return shards.status();
    for (const v1::Shard& shard : *shards) {
      v1::GetShardIteratorRequest request;
      request.set_stream_name(kStream);
      request.set_shard_id(shard.shard_id());
      request.set_shard_iterator_type(v1::TRIM_HORIZON);
      auto iterator = cluster_->streams().GetShardIterator(request);
      if (!iterator.ok()) return iterator.status();
      std::string next = iterator->shard_iterator();
      uint64_t previous = 0;
      for (int page = 0; page < 1000 && !next.empty(); ++page) {
        v1::GetRecordsRequest get;
        get.set_shard_iterator(next);
        auto records = cluster_->streams().GetRecords(get);
        if (!records.ok()) return records.status();
        for (const v1::Record& r : records->records()) {
          uint64_t sequence = 0;
          if (!absl::SimpleAtoi(r.sequence_number(), &sequence) || sequence <= previous) {
            violations->push_back(absl::StrCat(shard.shard_id(), ": ", r.sequence_number(),
                                               " read after ", previous));
          }
          previous = std::max(previous, sequence);
          out[{shard.shard_id(), sequence}] = r.data();
        }
        if (records->records().empty() && records->millis_behind_latest() == 0) break;
        next = records->next_shard_iterator();
      }
    }
    return out;
  }

  std::set<std::string> shards_;
};

TEST_P(JetStreamClusterFaultTest, NothingAcknowledgedIsLostOrReordered) {
  const Fault fault = GetParam();
  // Front-end 1 first: the producer moves to front-end 0 after a failed call (and back).
  Producer producer(kStream,
                    absl::StrCat(cluster_->address(Component::kShardStore1), ",",
                                 cluster_->shard_store_address()),
                    kKeys, kRecordsPerCall, kRecordsPerSecond);
  const MonotonicTime load_started = RealClock::Get().MonotonicNow();
  producer.Start(/*total=*/1000000);  // stopped below, after healing
  ASSERT_TRUE(producer.WaitForAcked(kBeforeFault, kWait)) << "the producer stalled";
  ASSERT_TRUE(DeliveriesResumed(shards_, load_started).ok()) << "not every shard delivers";

  auto info = nats_->NewClient()->GetStreamInfo(kJetStreamStream);
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->config.replicas, 3) << "the stream is not replicated three ways";
  const int64_t acked_before = producer.acked_count();

  // The fault. `affected`: the shards whose deliveries must resume.
  std::set<std::string> affected = shards_;
  int nats_server = -1;
  MonotonicTime fault_at;
  std::string what;
  switch (fault) {
    case Fault::kKillStreamLeader:
    case Fault::kKillStreamFollower: {
      absl::StatusOr<int> leader = nats_->AwaitStreamLeader(kJetStreamStream);
      ASSERT_TRUE(leader.ok()) << leader.status();
      nats_server = fault == Fault::kKillStreamLeader ? *leader : (*leader + 1) % nats_->size();
      what = absl::StrCat(nats_->server_name(nats_server),
                          fault == Fault::kKillStreamLeader ? " (the stream leader)" : " (a follower)");
      fault_at = RealClock::Get().MonotonicNow();
      nats_->Kill(nats_server);
      break;
    }
    case Fault::kKillProducersFrontEnd: {
      auto killed = cluster_->Kill(Component::kShardStore1);
      ASSERT_TRUE(killed.ok()) << killed.status();
      fault_at = *killed;
      what = "store front-end 1 (the producer's)";
      break;
    }
    case Fault::kKillPollersFrontEnd: {
      auto killed = cluster_->Kill(Component::kShardStore);
      ASSERT_TRUE(killed.ok()) << killed.status();
      fault_at = *killed;
      what = "store front-end 0 (the pollers' and the tracker's)";
      break;
    }
    case Fault::kReshardUnderLoad: {
      fault_at = RealClock::Get().MonotonicNow();
      v1::UpdateShardCountRequest update;
      update.set_stream_name(kStream);
      update.set_target_shard_count(kShardsAfterResharding);
      update.set_scaling_type(v1::UNIFORM_SCALING);
      auto done = cluster_->streams().UpdateShardCount(update);
      ASSERT_TRUE(done.ok()) << done.status();
      auto all = cluster_->streams().ListAllShards(kStream);
      ASSERT_TRUE(all.ok()) << all.status();
      affected.clear();
      for (const v1::Shard& shard : *all) {
        if (shards_.count(shard.shard_id()) == 0) affected.insert(shard.shard_id());
      }
      ASSERT_GE(affected.size(), static_cast<size_t>(kShardsAfterResharding))
          << "the resharding made too few new shards";
      what = absl::StrCat("UpdateShardCount ", kShards, " -> ", kShardsAfterResharding,
                          " on front-end 0");
      break;
    }
  }

  // Writes go on (the producer acknowledged more), and every affected shard delivers records
  // written after the fault, the fault still on.
  ASSERT_TRUE(producer.WaitForAcked(producer.acked_count() + 100, kWait))
      << "writes did not resume after the fault";
  const absl::StatusOr<absl::Duration> deliveries = DeliveriesResumed(affected, fault_at);
  ASSERT_TRUE(deliveries.ok()) << "deliveries did not resume: " << deliveries.status();
  const absl::Duration stall = LongestWriteStall(producer.AckTimes(), fault_at);

  // Heal (the NATS server comes back; a killed front-end stays down), then more load.
  if (nats_server >= 0) {
    const absl::Status restarted = nats_->Restart(nats_server);
    ASSERT_TRUE(restarted.ok()) << restarted;
  }
  ASSERT_TRUE(producer.WaitForAcked(producer.acked_count() + kAfterHeal, kWait))
      << "the producer stalled after healing";
  producer.Stop();

  const std::vector<Acked> acked = producer.AckedRecords();
  absl::Status last;
  EXPECT_TRUE(tributary::testing::IsOk(PollFor(
      kWait, absl::Milliseconds(100),
      absl::StrCat("all ", acked.size(), " acknowledged records delivered"),
      [&] {
        last = CheckEveryAckedDelivered(acked, cluster_->function().Deliveries());
        return last.ok();
      },
      [&] { return last.ToString(); })));
  const std::vector<Delivery> seen = cluster_->function().Deliveries();
  EXPECT_TRUE(CheckFirstDeliveriesInKeyOrder(acked, seen).ok())
      << CheckFirstDeliveriesInKeyOrder(acked, seen);
  EXPECT_TRUE(CheckFirstDeliveriesInShardOrder(seen).ok())
      << CheckFirstDeliveriesInShardOrder(seen);
  EXPECT_TRUE(CheckAckedSequenceNumbersIncrease(acked).ok())
      << CheckAckedSequenceNumbersIncrease(acked);
  std::map<std::string, std::vector<std::string>> parents;
  auto all_shards = cluster_->streams().ListAllShards(kStream);
  ASSERT_TRUE(all_shards.ok()) << all_shards.status();
  for (const v1::Shard& shard : *all_shards) {
    if (!shard.parent_shard_id().empty()) {
      parents[shard.shard_id()].push_back(shard.parent_shard_id());
    }
    if (!shard.adjacent_parent_shard_id().empty()) {
      parents[shard.shard_id()].push_back(shard.adjacent_parent_shard_id());
    }
  }
  if (fault == Fault::kReshardUnderLoad) {
    EXPECT_GE(parents.size(), static_cast<size_t>(kShardsAfterResharding)) << "no lineage";
  }
  EXPECT_TRUE(CheckParentsBeforeChildren(parents, seen).ok())
      << CheckParentsBeforeChildren(parents, seen);

  // Every acknowledged record is readable at its number, holding what was written.
  std::vector<std::string> read_violations;
  auto stored = ReadEverything(&read_violations);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(read_violations.empty()) << absl::StrJoin(read_violations, "\n");
  int64_t unreadable = 0;
  std::string first_unreadable;
  for (const Acked& a : acked) {
    auto it = stored->find({a.shard_id, a.sequence_number});
    const std::string written = absl::StrCat(a.partition_key, "|", a.n);
    if (it == stored->end() || it->second != written) {
      if (++unreadable == 1) {
        first_unreadable = absl::StrCat(written, " at ", a.shard_id, "/", a.sequence_number, ": ",
                                        it == stored->end() ? "missing" : "holds " + it->second);
      }
    }
  }
  EXPECT_EQ(unreadable, 0) << "acknowledged records not readable as written; first: "
                           << first_unreadable;

  std::cout << "[jetstream-cluster-fault] " << FaultName({fault, 0}) << " (" << what
            << "): write stall " << stall << ", deliveries resumed on " << affected.size()
            << " shard(s) after " << *deliveries << "; acknowledged " << acked.size() << " ("
            << acked_before << " before the fault), deliveries " << seen.size()
            << ", records stored " << stored->size() << ", producer retries "
            << producer.failed_calls() << std::endl;
}

INSTANTIATE_TEST_SUITE_P(Faults, JetStreamClusterFaultTest,
                         ::testing::Values(Fault::kKillStreamLeader, Fault::kKillStreamFollower,
                                           Fault::kKillProducersFrontEnd,
                                           Fault::kKillPollersFrontEnd,
                                           Fault::kReshardUnderLoad),
                         FaultName);

// A few malformed calls: a cluster front-end answers each with the status code an embedded store
// (a shard_store_server on its --data_dir) gives, and that code is the documented one.
TEST_F(JetStreamClusterTest, BadInputGetsTheEmbeddedStoresStatusCodes) {
  ASSERT_NO_FATAL_FAILURE(CreateStream());
  const std::string dir = tributary::testing::NewTempDir("embedded_store");
  absl::StatusOr<Subprocess> embedded = Subprocess::Start(
      tributary::testing::RunfilePath("shard_store/shard_store_server"),
      {"--listen=127.0.0.1:0", "--data_dir=" + dir + "/data", "--port_file=" + dir + "/port"},
      dir + "/log");
  ASSERT_TRUE(embedded.ok()) << embedded.status();
  absl::StatusOr<int> port = tributary::testing::WaitForPortFile(dir + "/port");
  ASSERT_TRUE(port.ok()) << port.status();
  const std::string embedded_address = absl::StrCat("127.0.0.1:", *port);
  ASSERT_TRUE(tributary::testing::WaitForServing(embedded_address).ok());
  shard_store::ShardStoreClient local(MakeChannel(embedded_address));
  v1::CreateStreamRequest create;
  create.set_stream_name(kStream);
  create.set_shard_count(kShards);
  ASSERT_TRUE(local.CreateStream(create).ok());
  shard_store::ShardStoreClient front_end(
      MakeChannel(cluster_->address(Component::kShardStore1)));

  // A valid iterator on each, for the GetRecords call with a bad limit.
  const auto iterator_of = [](shard_store::ShardStoreClient& store) {
    v1::GetShardIteratorRequest request;
    request.set_stream_name(kStream);
    request.set_shard_id("shardId-000000000000");
    request.set_shard_iterator_type(v1::TRIM_HORIZON);
    auto iterator = store.GetShardIterator(request);
    return iterator.ok() ? iterator->shard_iterator() : std::string();
  };
  const std::string local_iterator = iterator_of(local);
  const std::string cluster_iterator = iterator_of(front_end);
  ASSERT_FALSE(local_iterator.empty());
  ASSERT_FALSE(cluster_iterator.empty());

  struct Call {
    std::string name;
    absl::StatusCode want;
    std::function<absl::Status(shard_store::ShardStoreClient&, const std::string& iterator)> call;
  };
  const std::vector<Call> calls = {
      {"PutRecords to a stream that does not exist", absl::StatusCode::kNotFound,
       [](shard_store::ShardStoreClient& store, const std::string&) {
         v1::PutRecordsRequest request;
         request.set_stream_name("no-such-stream");
         auto* entry = request.add_records();
         entry->set_partition_key("k");
         entry->set_data("d");
         return store.PutRecords(request).status();
       }},
      {"PutRecords of no records", absl::StatusCode::kInvalidArgument,
       [](shard_store::ShardStoreClient& store, const std::string&) {
         v1::PutRecordsRequest request;
         request.set_stream_name(kStream);
         return store.PutRecords(request).status();
       }},
      {"PutRecords of 501 records", absl::StatusCode::kInvalidArgument,
       [](shard_store::ShardStoreClient& store, const std::string&) {
         v1::PutRecordsRequest request;
         request.set_stream_name(kStream);
         for (int i = 0; i < 501; ++i) {
           auto* entry = request.add_records();
           entry->set_partition_key("k");
           entry->set_data("d");
         }
         return store.PutRecords(request).status();
       }},
      {"PutRecords with an empty partition key", absl::StatusCode::kInvalidArgument,
       [](shard_store::ShardStoreClient& store, const std::string&) {
         v1::PutRecordsRequest request;
         request.set_stream_name(kStream);
         request.add_records()->set_data("d");
         return store.PutRecords(request).status();
       }},
      {"PutRecords of a record over 1 MiB", absl::StatusCode::kInvalidArgument,
       [](shard_store::ShardStoreClient& store, const std::string&) {
         v1::PutRecordsRequest request;
         request.set_stream_name(kStream);
         auto* entry = request.add_records();
         entry->set_partition_key("k");
         entry->set_data(std::string((1 << 20) + 1, 'x'));
         return store.PutRecords(request).status();
       }},
      {"GetShardIterator of a shard that does not exist", absl::StatusCode::kNotFound,
       [](shard_store::ShardStoreClient& store, const std::string&) {
         v1::GetShardIteratorRequest request;
         request.set_stream_name(kStream);
         request.set_shard_id("shardId-000000000099");
         request.set_shard_iterator_type(v1::TRIM_HORIZON);
         return store.GetShardIterator(request).status();
       }},
      {"GetShardIterator AT_SEQUENCE_NUMBER without a number", absl::StatusCode::kInvalidArgument,
       [](shard_store::ShardStoreClient& store, const std::string&) {
         v1::GetShardIteratorRequest request;
         request.set_stream_name(kStream);
         request.set_shard_id("shardId-000000000000");
         request.set_shard_iterator_type(v1::AT_SEQUENCE_NUMBER);
         return store.GetShardIterator(request).status();
       }},
      {"GetRecords with a forged iterator", absl::StatusCode::kInvalidArgument,
       [](shard_store::ShardStoreClient& store, const std::string&) {
         v1::GetRecordsRequest request;
         request.set_shard_iterator("AAAAnot-an-iterator");
         return store.GetRecords(request).status();
       }},
      {"GetRecords with limit 10001", absl::StatusCode::kInvalidArgument,
       [](shard_store::ShardStoreClient& store, const std::string& iterator) {
         v1::GetRecordsRequest request;
         request.set_shard_iterator(iterator);
         request.set_limit(10001);
         return store.GetRecords(request).status();
       }},
      {"CreateStream of a name in use", absl::StatusCode::kAlreadyExists,
       [](shard_store::ShardStoreClient& store, const std::string&) {
         v1::CreateStreamRequest request;
         request.set_stream_name(kStream);
         request.set_shard_count(1);
         return store.CreateStream(request).status();
       }},
      {"SplitShard at the shard's own starting hash key", absl::StatusCode::kInvalidArgument,
       [](shard_store::ShardStoreClient& store, const std::string&) {
         v1::SplitShardRequest request;
         request.set_stream_name(kStream);
         request.set_shard_to_split("shardId-000000000000");
         request.set_new_starting_hash_key("0");
         return store.SplitShard(request).status();
       }},
      {"MergeShards of shards that are not adjacent", absl::StatusCode::kInvalidArgument,
       [](shard_store::ShardStoreClient& store, const std::string&) {
         v1::MergeShardsRequest request;
         request.set_stream_name(kStream);
         request.set_shard_to_merge("shardId-000000000000");
         request.set_adjacent_shard_to_merge("shardId-000000000002");
         return store.MergeShards(request).status();
       }},
      {"UpdateShardCount to 0", absl::StatusCode::kInvalidArgument,
       [](shard_store::ShardStoreClient& store, const std::string&) {
         v1::UpdateShardCountRequest request;
         request.set_stream_name(kStream);
         request.set_target_shard_count(0);
         request.set_scaling_type(v1::UNIFORM_SCALING);
         return store.UpdateShardCount(request).status();
       }},
      {"DeleteStream of a stream that does not exist", absl::StatusCode::kNotFound,
       [](shard_store::ShardStoreClient& store, const std::string&) {
         v1::DeleteStreamRequest request;
         request.set_stream_name("no-such-stream");
         return store.DeleteStream(request).status();
       }},
  };
  for (const Call& c : calls) {
    const absl::Status on_embedded = c.call(local, local_iterator);
    const absl::Status on_cluster = c.call(front_end, cluster_iterator);
    EXPECT_EQ(on_embedded.code(), c.want) << c.name << " on the embedded store: " << on_embedded;
    EXPECT_EQ(on_cluster.code(), on_embedded.code())
        << c.name << ": the cluster front-end answered " << on_cluster << ", the embedded store "
        << on_embedded;
  }
  // Nothing of it was stored: the stream's shard 0 is still empty on the front-end.
  v1::GetRecordsRequest get;
  get.set_shard_iterator(cluster_iterator);
  auto records = front_end.GetRecords(get);
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(records->records_size(), 0);
  embedded->Kill(SIGKILL);
}

}  // namespace
}  // namespace tributary::e2e
