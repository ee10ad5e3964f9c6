#include "etcd/election.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "etcd/testing/faulty_kv.h"
#include "gtest/gtest.h"

namespace tributary::etcd {
namespace {

// A candidate and what its callback was told.
struct Candidate {
  std::vector<bool> changes;
  std::unique_ptr<Election> election;
};

class ElectionTest : public ::testing::Test {
 protected:
  ElectionTest()
      : cluster_(testing::EtcdCluster::Shared(1)),
        key_(cluster_.NewPrefix() + "election/sync"),
        admin_(cluster_.NewClient()) {}

  // A client on the fake clock (deadlines of whole calls, the election's validity).
  std::unique_ptr<EtcdClient> NewClient(testing::FaultyKv** faulty = nullptr) {
    std::vector<EtcdMemberStubs> members;
    members.push_back(ConnectToMember(cluster_.endpoints()[0]));
    if (faulty != nullptr) {
      auto wrapped = std::make_unique<testing::FaultyKv>(std::move(members[0].kv));
      *faulty = wrapped.get();
      members[0].kv = std::move(wrapped);
    }
    return std::make_unique<EtcdClient>(clock_, EtcdClientOptions(), std::move(members));
  }
  std::unique_ptr<Candidate> NewCandidate(EtcdClient& client, const std::string& name) {
    auto candidate = std::make_unique<Candidate>();
    Candidate* c = candidate.get();
    auto election = Election::Create(client, {key_, name, absl::Seconds(2)},
                                     [c](bool leading) { c->changes.push_back(leading); });
    EXPECT_TRUE(election.ok()) << election.status();
    candidate->election = *std::move(election);
    return candidate;
  }
  std::string Holder() {
    auto kv = admin_->Get(key_);
    EXPECT_TRUE(kv.ok()) << kv.status();
    return kv.ok() && kv->has_value() ? (*kv)->value : "";
  }

  FakeClock clock_;
  testing::EtcdCluster& cluster_;
  const std::string key_;
  std::unique_ptr<EtcdClient> admin_;
};

TEST_F(ElectionTest, OneCandidateLeadsAndTheOtherTakesOverWhenItResigns) {
  auto client = NewClient();
  auto a = NewCandidate(*client, "a");
  auto b = NewCandidate(*client, "b");
  ASSERT_TRUE(a->election->RunOnce().ok());
  ASSERT_TRUE(b->election->RunOnce().ok());
  EXPECT_TRUE(a->election->leading());
  EXPECT_FALSE(b->election->leading());
  EXPECT_EQ(Holder(), "a");
  EXPECT_EQ(a->changes, std::vector<bool>{true});
  EXPECT_TRUE(b->changes.empty());

  a->election.reset();  // resigns: stops its work, then deletes the key
  EXPECT_EQ(a->changes, (std::vector<bool>{true, false}));
  ASSERT_TRUE(b->election->RunOnce().ok());
  EXPECT_TRUE(b->election->leading());
  EXPECT_EQ(Holder(), "b");
}

// What happens when a holder was killed: its lease ends (here revoked rather than waited for), the
// key goes, and the next campaign of another candidate takes it; the old holder, should it still
// run, is told at its next renewal and stops.
TEST_F(ElectionTest, ALeaderWhoseLeaseEndedStopsAndAnotherTakesOver) {
  auto client = NewClient();
  auto a = NewCandidate(*client, "a");
  auto b = NewCandidate(*client, "b");
  ASSERT_TRUE(a->election->RunOnce().ok());
  ASSERT_TRUE(b->election->RunOnce().ok());
  ASSERT_TRUE(a->election->leading());
  auto held = admin_->Get(key_);
  ASSERT_TRUE(held.ok() && held->has_value());
  ASSERT_TRUE(admin_->RevokeLease((*held)->lease).ok());

  ASSERT_TRUE(b->election->RunOnce().ok());
  EXPECT_TRUE(b->election->leading());
  EXPECT_EQ(Holder(), "b");
  EXPECT_EQ(a->election->RunOnce().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(a->election->leading());
  EXPECT_EQ(a->changes, (std::vector<bool>{true, false}));
  ASSERT_TRUE(a->election->RunOnce().ok());  // campaigns again, loses
  EXPECT_FALSE(a->election->leading());
  EXPECT_EQ(Holder(), "b");
}

// A holder that renewed nothing for a whole ttl (etcd unreachable, the process stalled) no longer
// counts itself leader, by its own clock, before etcd can have given the key to anybody else.
TEST_F(ElectionTest, LeadershipRunsOutOnTheClockWithoutRenewals) {
  auto client = NewClient();
  auto a = NewCandidate(*client, "a");
  ASSERT_TRUE(a->election->RunOnce().ok());
  ASSERT_TRUE(a->election->leading());
  clock_.Advance(absl::Seconds(2) - absl::Milliseconds(1));
  EXPECT_TRUE(a->election->leading());
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_FALSE(a->election->leading());
  // Its next step says so, then (the key is still on its lease in etcd) it leads again.
  ASSERT_TRUE(a->election->RunOnce().ok());
  EXPECT_EQ(a->changes, (std::vector<bool>{true, false, true}));
  EXPECT_TRUE(a->election->leading());
}

// The campaign's Txn was applied but its answer lost: the next campaign finds the key on its own
// lease and leads, instead of waiting a ttl for its own key to expire.
TEST_F(ElectionTest, ACampaignWhoseAnswerWasLostIsRecognisedByItsLease) {
  testing::FaultyKv* faulty = nullptr;
  auto client = NewClient(&faulty);
  auto a = NewCandidate(*client, "a");
  faulty->LoseNthTxnAnswer(1);
  EXPECT_FALSE(a->election->RunOnce().ok());
  EXPECT_FALSE(a->election->leading());
  EXPECT_EQ(Holder(), "a") << "the Txn was applied";
  ASSERT_TRUE(a->election->RunOnce().ok());
  EXPECT_TRUE(a->election->leading());
}

TEST_F(ElectionTest, BadOptionsAreInvalid) {
  auto client = NewClient();
  EXPECT_EQ(Election::Create(*client, {"", "a", absl::Seconds(2)}, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Election::Create(*client, {key_, "", absl::Seconds(2)}, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Election::Create(*client, {key_, "a", absl::Seconds(1)}, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Election::Create(*client, {key_, "a", absl::Milliseconds(2500)}, nullptr)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tributary::etcd
