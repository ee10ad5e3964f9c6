// The harness itself: a 3-member cluster that survives the loss of its leader, gives a killed
// member back, and leaves no member behind.
#include "etcd/testing/etcd_cluster.h"

#include <signal.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace tributary::etcd::testing {
namespace {

TEST(EtcdClusterTest, ThreeMembersElectANewLeaderWhenTheLeaderIsKilledAndTakeItBack) {
  absl::StatusOr<std::unique_ptr<EtcdCluster>> cluster = EtcdCluster::Start(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_EQ((*cluster)->size(), 3);
  std::unique_ptr<EtcdClient> client = (*cluster)->NewClient();
  ASSERT_TRUE(client->Put("/k", "before").ok());

  absl::StatusOr<int> leader = (*cluster)->Leader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  (*cluster)->Kill(*leader);
  EXPECT_FALSE((*cluster)->running(*leader));
  // The client finds the new leader through the members left (its retries ride out the
  // election).
  ASSERT_TRUE(client->Put("/k", "after").ok());
  absl::StatusOr<int> next = (*cluster)->Leader();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_NE(*next, *leader);

  ASSERT_TRUE((*cluster)->Restart(*leader).ok());
  EXPECT_TRUE((*cluster)->running(*leader));
  EtcdClientOptions only_restarted;
  only_restarted.endpoints = {(*cluster)->endpoints()[*leader]};
  absl::StatusOr<std::unique_ptr<EtcdClient>> direct =
      EtcdClient::Create(RealClock::Get(), only_restarted);
  ASSERT_TRUE(direct.ok());
  absl::StatusOr<std::optional<KeyValue>> read = (*direct)->Get("/k");
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->value, "after") << "the restarted member caught up";
}

TEST(EtcdClusterTest, DestroyingTheClusterKillsEveryMember) {
  absl::StatusOr<std::unique_ptr<EtcdCluster>> cluster = EtcdCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const std::string endpoint = (*cluster)->endpoints()[0];
  cluster->reset();
  EtcdClientOptions options;
  options.endpoints = {endpoint};
  options.attempt_timeout = absl::Milliseconds(200);
  options.operation_timeout = absl::Milliseconds(400);
  absl::StatusOr<std::unique_ptr<EtcdClient>> client = EtcdClient::Create(RealClock::Get(), options);
  ASSERT_TRUE(client.ok());
  EXPECT_FALSE((*client)->Get("/k").ok()) << "nothing answers at " << endpoint;
}

TEST(EtcdClusterTest, PrefixesAreUniqueWithinTheProcess) {
  EtcdCluster& shared = EtcdCluster::Shared(1);
  EXPECT_NE(shared.NewPrefix(), shared.NewPrefix());
  EXPECT_EQ(&shared, &EtcdCluster::Shared(1)) << "started once";
}

}  // namespace
}  // namespace tributary::etcd::testing
