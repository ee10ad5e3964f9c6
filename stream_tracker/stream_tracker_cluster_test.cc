// Cluster mode (issue 19) with real processes: two stream_tracker_server replicas over one etcd
// (etcd/testing), the shard store and leasing being gRPC faces of the fakes served by this test.
// Any replica answers any request; the lease sync runs on the replica holding the election, and
// when that one is killed with SIGKILL the other takes the sync over within the election TTL
// (plus its poll interval and etcd's expiry lag): a bounded wait, the time printed. A client given
// both replicas' addresses (common/replica_channel.h) fails over to the survivor.
#include <signal.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/process.h"
#include "common/replica_channel.h"
#include "common/testing/test_util.h"
#include "etcd/testing/etcd_cluster.h"
#include "gtest/gtest.h"
#include "stream_tracker/stream_tracker_client.h"
#include "stream_tracker/testing/fake_services.h"

namespace tributary::stream_tracker {
namespace {

constexpr int kElectionTtlMs = 2000;
constexpr char kLeads[] = "lease sync: this replica leads";

class StreamTrackerClusterTest : public ::testing::Test {
 protected:
  struct Replica {
    Subprocess process;
    std::string log;
    std::string address;
    std::unique_ptr<StreamTrackerClient> client;
  };

  StreamTrackerClusterTest()
      : etcd_(etcd::testing::EtcdCluster::Shared(1)),
        prefix_(etcd_.NewPrefix()),
        admin_(etcd_.NewClient()) {}

  void SetUp() override {
    catalog_.CreateStream("orders", 2);
    auto backends = GrpcServer::Start("127.0.0.1:0", {&streams_service_, &leasing_service_});
    ASSERT_TRUE(backends.ok()) << backends.status();
    backends_ = *std::move(backends);
  }

  std::unique_ptr<Subprocess> Run(const std::vector<std::string>& flags, const std::string& log) {
    auto child = Subprocess::Start(
        tributary::testing::RunfilePath("stream_tracker/stream_tracker_server"), flags, log);
    EXPECT_TRUE(child.ok()) << child.status();
    return child.ok() ? std::make_unique<Subprocess>(*std::move(child)) : nullptr;
  }

  void StartReplica(int i) {
    const std::string port_file = absl::StrCat(root_, "/port", i);
    Replica& r = replicas_[i];
    r.log = absl::StrCat(root_, "/replica", i, ".log");
    auto child = Subprocess::Start(
        tributary::testing::RunfilePath("stream_tracker/stream_tracker_server"),
        {"--listen=127.0.0.1:0", "--port_file=" + port_file, "--coordination=" + etcd_.url(),
         "--etcd_prefix=" + prefix_, "--shard_store=" + backends_->address(),
         "--leasing=" + backends_->address(), "--sync_interval_ms=50",
         absl::StrCat("--election_ttl_ms=", kElectionTtlMs), "--logtostderr"},
        r.log);
    ASSERT_TRUE(child.ok()) << child.status();
    r.process = std::move(*child);
    auto port = WaitForPortFile(port_file);
    ASSERT_TRUE(port.ok()) << port.status() << "\n" << Log(i);
    const std::string address = absl::StrCat("127.0.0.1:", *port);
    ASSERT_TRUE(WaitForServing(address).ok()) << Log(i);
    r.address = address;
    r.client = std::make_unique<StreamTrackerClient>(MakeChannel(address));
  }

  std::string Log(int i) {
    std::ifstream in(replicas_[i].log);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string Logs() { return absl::StrCat("--- replica 0:\n", Log(0), "--- replica 1:\n", Log(1)); }

  // The replica whose pid the election key names, or -1.
  int Holder() {
    auto kv = admin_->Get(prefix_ + "election/sync");
    if (!kv.ok() || !kv->has_value()) return -1;
    const std::string& value = (*kv)->value;
    const size_t at = value.find(" pid ");
    if (at == std::string::npos) return -1;
    int pid = 0;
    if (!absl::SimpleAtoi(value.substr(at + 5, value.find(' ', at + 5) - at - 5), &pid)) return -1;
    for (int i = 0; i < 2; ++i) {
      if (replicas_[i].process.running() && replicas_[i].process.pid() == pid) return i;
    }
    return -1;
  }

  const std::string root_ = tributary::testing::NewTempDir("stream_tracker_cluster");
  etcd::testing::EtcdCluster& etcd_;
  const std::string prefix_;
  std::unique_ptr<etcd::EtcdClient> admin_;
  FakeClock clock_;  // the fakes' shard open/close times
  testing::FakeStreamCatalog catalog_{clock_};
  testing::FakeLeaseAdmin leases_;
  testing::FakeStreamsService streams_service_{&catalog_};
  testing::FakeLeasingService leasing_service_{&leases_};
  std::unique_ptr<GrpcServer> backends_;
  Replica replicas_[2];
};

TEST_F(StreamTrackerClusterTest, AnyReplicaAnswersAndTheOtherTakesOverTheSyncWhenTheHolderDies) {
  StartReplica(0);
  StartReplica(1);
  // A mapping created on one replica is there on the other, and a change made there is seen back.
  v1::CreateEventSourceMappingRequest create;
  create.set_stream_name("orders");
  create.set_function_endpoint("127.0.0.1:9999");
  create.set_starting_position(v1::TRIM_HORIZON_POSITION);
  auto created = replicas_[0].client->CreateEventSourceMapping(create);
  ASSERT_TRUE(created.ok()) << created.status();
  v1::GetEventSourceMappingRequest get;
  get.set_uuid(created->uuid());
  auto seen = replicas_[1].client->GetEventSourceMapping(get);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->stream_name(), "orders");
  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(created->uuid());
  update.set_batch_size(7);
  ASSERT_TRUE(replicas_[1].client->UpdateEventSourceMapping(update).ok());
  EXPECT_EQ(replicas_[0].client->GetEventSourceMapping(get)->batch_size(), 7);

  // One replica syncs: the mapping's leases appear, and exactly one replica says it leads.
  ASSERT_TRUE(leasing_service_.WaitForCreatedLeases(2)) << "no leases created\n" << Logs();
  const int holder = Holder();
  ASSERT_NE(holder, -1) << Logs();
  const int other = 1 - holder;
  EXPECT_NE(Log(holder).find(kLeads), std::string::npos) << Logs();
  EXPECT_EQ(Log(other).find(kLeads), std::string::npos) << Logs();

  // A client given both replicas (the holder first, so that it is connected there).
  StreamTrackerClient any(MakeReplicaChannel(
      absl::StrCat(replicas_[holder].address, ",", replicas_[other].address)));
  ASSERT_TRUE(any.GetEventSourceMapping(get).ok());

  // kill -9 of the holder: the other replica takes the sync over and follows the split.
  replicas_[holder].process.Kill(SIGKILL);
  // The client fails over: at most the first call after the kill may fail, with UNAVAILABLE.
  auto after_kill = any.GetEventSourceMapping(get);
  if (!after_kill.ok()) {
    EXPECT_EQ(after_kill.status().code(), absl::StatusCode::kUnavailable) << after_kill.status();
    after_kill = any.GetEventSourceMapping(get);
  }
  ASSERT_TRUE(after_kill.ok()) << "no failover to the other replica: " << after_kill.status();
  EXPECT_EQ(after_kill->batch_size(), 7);
  const MonotonicTime killed = RealClock::Get().MonotonicNow();
  auto children = catalog_.SplitShard("orders", "shardId-000000000000");
  // Bounded: the TTL, a quarter of it between campaigns, etcd's expiry lag, a pass.
  ASSERT_TRUE(leasing_service_.WaitForCreatedLeases(
      4, absl::Milliseconds(kElectionTtlMs * 5 / 4) + absl::Seconds(2)))
      << "the surviving replica did not take the sync over\n"
      << Logs();
  std::cout << "sync failover after kill -9 of the holder: "
            << (RealClock::Get().MonotonicNow() - killed) << " (election TTL " << kElectionTtlMs
            << " ms)" << std::endl;
  EXPECT_EQ(Holder(), other);
  EXPECT_NE(Log(other).find(kLeads), std::string::npos) << Logs();
  EXPECT_TRUE(leases_.Get(created->uuid(), children[0]).has_value());
  EXPECT_EQ(replicas_[other].client->GetEventSourceMapping(get)->batch_size(), 7);
}

TEST_F(StreamTrackerClusterTest, BadCoordinationFlagsAreStartupErrorsNamingTheFlag) {
  for (const std::vector<std::string>& flags : std::vector<std::vector<std::string>>{
           {"--coordination=etcd://"},
           {"--coordination=http://127.0.0.1:2379"},
           {"--coordination=" + etcd_.url(), "--data_dir=" + root_ + "/data"},
       }) {
    std::vector<std::string> all = {"--listen=127.0.0.1:0"};
    all.insert(all.end(), flags.begin(), flags.end());
    const std::string log = root_ + "/bad.log";
    auto child = Run(all, log);
    ASSERT_NE(child, nullptr);
    auto status = child->Wait(absl::Seconds(30));
    ASSERT_TRUE(status.ok()) << status.status();
    std::ifstream in(log);
    const std::string text(std::istreambuf_iterator<char>(in), {});
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << flags[0] << "\n" << text;
    EXPECT_NE(text.find("--coordination"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace tributary::stream_tracker
