// Cluster mode (issues 19 and 20) with the one binary: two `tributary serve` processes given the
// same etcd (--coordination) and JetStream (--log) are two nodes of one cluster. The stream,
// the mapping and the lease table are shared: a stream created through one is served by the
// other, the two embedded pollers split the shards' leases between them, and when one node is
// killed (SIGKILL) the other's poller takes its leases over and every acknowledged record is
// delivered, in order per key and per shard.
#include <csignal>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "etcd/testing/etcd_cluster.h"
#include "gtest/gtest.h"
#include "leasing/leasing_client.h"
#include "nats/testing/nats_cluster.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tests/cluster.h"

namespace tributary::e2e {
namespace {

constexpr char kStream[] = "orders";
constexpr int kShards = 4;
constexpr int kKeys = 16;
constexpr int kRecordsPerCall = 10;
constexpr int kRecordsPerSecond = 500;
constexpr int64_t kRecords = 4000;
constexpr absl::Duration kWait = absl::Seconds(90);

struct Node {
  std::string name;
  testing::Subprocess process;
  std::string address;
};

class ServeClusterNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::NewTempDir("serve_cluster_node");
    etcd_ = &etcd::testing::EtcdCluster::Shared(1);
    nats_ = &nats::testing::NatsCluster::Shared(1);
    auto function_server = GrpcServer::Start("127.0.0.1:0", {&function_});
    ASSERT_TRUE(function_server.ok()) << function_server.status();
    function_server_ = std::move(*function_server);
    const std::string prefix = etcd_->NewPrefix();
    for (const char* name : {"node-a", "node-b"}) {
      Node node;
      node.name = name;
      const std::string port_file = absl::StrCat(dir_, "/", name, ".port");
      auto process = testing::Subprocess::Start(
          testing::RunfilePath("tools/tributary/tributary"),
          {"serve", absl::StrCat("--data_dir=", dir_, "/", name), "--listen=127.0.0.1:0",
           "--port_file=" + port_file, "--coordination=" + etcd_->url(),
           "--etcd_prefix=" + prefix, "--log=nats://" + nats_->addresses()[0],
           "--log_replicas=1", absl::StrCat("--poller_id=", name), "--lease_duration_ms=2000",
           "--min_hold_ms=200", "--sync_interval_ms=200", "--full_sync_interval_ms=1000"},
          absl::StrCat(dir_, "/", name, ".log"));
      ASSERT_TRUE(process.ok()) << process.status();
      node.process = std::move(*process);
      auto port = testing::WaitForPortFile(port_file);
      ASSERT_TRUE(port.ok()) << port.status();
      node.address = absl::StrCat("127.0.0.1:", *port);
      nodes_.push_back(std::move(node));
    }
  }

  // Lease owner by shard, as node `i`'s leasing replica lists the table.
  absl::StatusOr<std::map<std::string, std::string>> Owners(int i) {
    leasing::LeasingClient client(MakeChannel(nodes_[i].address));
    v1::ListLeasesRequest request;
    absl::StatusOr<v1::ListLeasesResponse> response = client.ListLeases(request);
    if (!response.ok()) return response.status();
    std::map<std::string, std::string> out;
    for (const v1::Lease& lease : response->leases()) out[lease.shard_id()] = lease.lease_owner();
    return out;
  }

  std::string dir_;
  etcd::testing::EtcdCluster* etcd_ = nullptr;
  nats::testing::NatsCluster* nats_ = nullptr;
  RecordingFunction function_;
  std::unique_ptr<GrpcServer> function_server_;
  std::vector<Node> nodes_;
};

TEST_F(ServeClusterNodeTest, TwoServeNodesShareStreamsMappingsAndLeasesAndSurviveAKill) {
  // Created through node a, served by node b (stream metadata in etcd).
  shard_store::ShardStoreClient store_a(MakeChannel(nodes_[0].address));
  v1::CreateStreamRequest create;
  create.set_stream_name(kStream);
  create.set_shard_count(kShards);
  auto created = store_a.CreateStream(create);
  ASSERT_TRUE(created.ok()) << created.status();
  shard_store::ShardStoreClient store_b(MakeChannel(nodes_[1].address));
  std::string seen;
  ASSERT_TRUE(testing::IsOk(PollFor(
      kWait, absl::Milliseconds(50), "node b to serve the stream",
      [&] {
        auto shards = store_b.ListAllShards(kStream);
        seen = shards.ok() ? absl::StrCat(shards->size(), " shards") : shards.status().ToString();
        return shards.ok() && shards->size() == static_cast<size_t>(kShards);
      },
      [&] { return seen; })));

  // Mapped through node b, listed by node a (mappings in etcd).
  stream_tracker::StreamTrackerClient tracker_b(MakeChannel(nodes_[1].address));
  v1::CreateEventSourceMappingRequest mapping;
  mapping.set_stream_name(kStream);
  mapping.set_function_endpoint(function_server_->address());
  mapping.set_starting_position(v1::TRIM_HORIZON_POSITION);
  mapping.set_batch_size(50);
  auto mapped = tracker_b.CreateEventSourceMapping(mapping);
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  stream_tracker::StreamTrackerClient tracker_a(MakeChannel(nodes_[0].address));
  v1::GetEventSourceMappingRequest get;
  get.set_uuid(mapped->uuid());
  auto listed = tracker_a.GetEventSourceMapping(get);
  ASSERT_TRUE(listed.ok()) << listed.status();

  Producer producer(kStream, absl::StrCat(nodes_[0].address, ",", nodes_[1].address), kKeys,
                    kRecordsPerCall, kRecordsPerSecond);
  producer.Start(kRecords);

  // One lease table: node b's replica lists leases that node a's poller holds, and the two
  // pollers share the shards.
  std::string owners_seen;
  ASSERT_TRUE(testing::IsOk(PollFor(
      kWait, absl::Milliseconds(100), "both nodes' pollers to hold leases, seen by node b",
      [&] {
        auto owners = Owners(1);
        if (!owners.ok()) {
          owners_seen = owners.status().ToString();
          return false;
        }
        std::set<std::string> distinct;
        std::vector<std::string> parts;
        for (const auto& [shard, owner] : *owners) {
          distinct.insert(owner);
          parts.push_back(absl::StrCat(shard, "=", owner));
        }
        owners_seen = absl::StrJoin(parts, ", ");
        return owners->size() == static_cast<size_t>(kShards) && distinct.count("node-a") > 0 &&
               distinct.count("node-b") > 0;
      },
      [&] { return owners_seen; })));
  ASSERT_TRUE(producer.WaitForAcked(kRecords / 3, kWait)) << "the producer stalled";
  ASSERT_LT(producer.acked_count(), kRecords) << "the load ended before the kill";

  // Node a dies: node b's poller takes every lease, the producer moves to node b.
  nodes_[0].process.Kill(SIGKILL);
  ASSERT_TRUE(testing::IsOk(PollFor(
      kWait, absl::Milliseconds(100), "node b's poller to hold every lease",
      [&] {
        auto owners = Owners(1);
        if (!owners.ok()) {
          owners_seen = owners.status().ToString();
          return false;
        }
        std::vector<std::string> parts;
        bool all_b = owners->size() == static_cast<size_t>(kShards);
        for (const auto& [shard, owner] : *owners) {
          parts.push_back(absl::StrCat(shard, "=", owner));
          all_b = all_b && owner == "node-b";
        }
        owners_seen = absl::StrJoin(parts, ", ");
        return all_b;
      },
      [&] { return owners_seen; })));
  ASSERT_TRUE(producer.WaitForAcked(kRecords, kWait))
      << "the producer did not finish on node b; acknowledged " << producer.acked_count();
  producer.Stop();

  const std::vector<Acked> acked = producer.AckedRecords();
  absl::Status last;
  EXPECT_TRUE(testing::IsOk(PollFor(
      kWait, absl::Milliseconds(100),
      absl::StrCat("all ", acked.size(), " acknowledged records delivered"),
      [&] {
        last = CheckEveryAckedDelivered(acked, function_.Deliveries());
        return last.ok();
      },
      [&] { return last.ToString(); })));
  const std::vector<Delivery> deliveries = function_.Deliveries();
  EXPECT_TRUE(CheckFirstDeliveriesInKeyOrder(acked, deliveries).ok())
      << CheckFirstDeliveriesInKeyOrder(acked, deliveries);
  EXPECT_TRUE(CheckFirstDeliveriesInShardOrder(deliveries).ok())
      << CheckFirstDeliveriesInShardOrder(deliveries);
}

}  // namespace
}  // namespace tributary::e2e
