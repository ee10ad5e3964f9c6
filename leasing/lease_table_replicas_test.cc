// Two leasing replicas at once (issue 19): two LeaseTables, each over its own shared
// EtcdLeaseStore on one prefix of a real etcd member, answering the same pollers. Whatever
// replica a call reaches, it is computed from the other replica's changes (by the watch, or
// after a conflict or a barrier), never refused or overwritten because of what it has not seen.
// Both tables run on one FakeClock (liveness, min_hold); etcd is real.
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leasing/etcd_lease_store.h"
#include "leasing/lease_table.h"

namespace tributary::leasing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr absl::Duration kLeaseDuration = absl::Seconds(10);

NewLease NewLeaseOf(const std::string& shard) {
  NewLease nl;
  nl.key = {"mapping-1", shard};
  nl.stream_name = "orders";
  nl.initial_checkpoint = {CheckpointType::kTrimHorizon, 0, absl::UnixEpoch()};
  return nl;
}

leasing::Checkpoint At(uint64_t sequence_number) {
  return {CheckpointType::kSequenceNumber, sequence_number, absl::UnixEpoch()};
}

struct Replica {
  std::unique_ptr<etcd::EtcdClient> client;
  std::unique_ptr<EtcdLeaseStore> store;
  std::unique_ptr<LeaseTable> table;
};

class LeaseTableReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = &etcd::testing::EtcdCluster::Shared(1);
    prefix_ = cluster_->NewPrefix();
    a_ = Open("replica-a");
    b_ = Open("replica-b");
  }

  Replica Open(const std::string& writer) {
    Replica r;
    r.client = cluster_->NewClient();
    EtcdLeaseStoreOptions options;
    options.prefix = prefix_;
    options.writer = writer;
    options.shared = true;
    options.on_stale = [this](const absl::Status&) { ++stale_calls_; };
    r.store = std::move(EtcdLeaseStore::Create(*r.client, options)).value();
    LeaseTableOptions table_options;
    table_options.lease_duration = kLeaseDuration;
    table_options.min_hold = absl::ZeroDuration();
    r.table = std::move(LeaseTable::Create(clock_, *r.store, table_options)).value();
    return r;
  }

  // Makes `r` hold every change made so far (as its next call would).
  void CatchUp(Replica& r) {
    absl::StatusOr<bool> passed = r.store->Barrier();
    ASSERT_TRUE(passed.ok()) << passed.status();
    ASSERT_TRUE(*passed);
    r.table->ListPollers();  // every call takes the changes in first
  }

  FakeClock clock_;
  etcd::testing::EtcdCluster* cluster_ = nullptr;
  std::string prefix_;
  int stale_calls_ = 0;
  Replica a_;
  Replica b_;
};

// Regression test (issue 19): before shared stores, the second replica's write failed by
// compare, turned its store stale (ABORTED) and the leasing server exited.
TEST_F(LeaseTableReplicasTest, SecondReplicaWritesWithoutDeposingTheFirst) {
  absl::StatusOr<int> created = a_.table->CreateLeases({NewLeaseOf("s1"), NewLeaseOf("s2")});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(*created, 2);
  // b may not have seen a's write yet: its own write of the same rows conflicts, and it
  // computes the call again from a's rows (idempotent: nothing to create).
  created = b_.table->CreateLeases({NewLeaseOf("s1"), NewLeaseOf("s2"), NewLeaseOf("s3")});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(*created, 1);
  // And a, behind on b's write, goes on too.
  created = a_.table->CreateLeases({NewLeaseOf("s3"), NewLeaseOf("s4")});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(*created, 1);
  EXPECT_FALSE(a_.store->stale());
  EXPECT_FALSE(b_.store->stale());
  EXPECT_EQ(stale_calls_, 0);
  for (Replica* r : {&a_, &b_}) {
    CatchUp(*r);  // reads answer from the table as the watch left it
    absl::StatusOr<LeasePage> page = r->table->ListLeases({}, 10, "");
    ASSERT_TRUE(page.ok());
    EXPECT_THAT(page->leases, SizeIs(4));
  }
}

TEST_F(LeaseTableReplicasTest, PollerMayCallEitherReplicaForAnything) {
  ASSERT_TRUE(a_.table->CreateLeases({NewLeaseOf("s1")}).ok());
  ASSERT_TRUE(a_.table->RegisterPoller("p1", 10).ok());
  // Registered through a, acquiring through b (b learns of p1 by its barrier if not yet).
  absl::StatusOr<std::vector<Lease>> granted = b_.table->AcquireLeases("p1");
  ASSERT_TRUE(granted.ok()) << granted.status();
  ASSERT_THAT(*granted, SizeIs(1));
  const int64_t counter = (*granted)[0].record.lease_counter;
  // Checkpointing through a, which may not have seen b's grant yet.
  absl::StatusOr<Lease> after = a_.table->Checkpoint({"mapping-1", "s1"}, "p1", counter, At(10));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->record.checkpoint.sequence_number, 10u);
  // A retried, older checkpoint through b is ignored, not written back over a's.
  after = b_.table->Checkpoint({"mapping-1", "s1"}, "p1", counter, At(5));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->record.checkpoint.sequence_number, 10u) << "never backwards";
  after = b_.table->Checkpoint({"mapping-1", "s1"}, "p1", counter, At(20));
  ASSERT_TRUE(after.ok()) << after.status();
  // The heartbeat through either replica lists the lease.
  for (Replica* r : {&a_, &b_}) {
    absl::StatusOr<HeartbeatResult> beat = r->table->Heartbeat("p1");
    ASSERT_TRUE(beat.ok()) << beat.status();
    ASSERT_THAT(beat->owned, SizeIs(1));
    EXPECT_EQ(beat->owned[0].lease_counter, counter);
  }
  CatchUp(a_);
  absl::StatusOr<Lease> on_a = a_.table->GetLease({"mapping-1", "s1"});
  ASSERT_TRUE(on_a.ok());
  EXPECT_EQ(on_a->record.checkpoint.sequence_number, 20u);
  // Released through a, gone from the heartbeat through b.
  ASSERT_TRUE(a_.table->ReleaseLease({"mapping-1", "s1"}, "p1", counter).ok());
  CatchUp(b_);
  absl::StatusOr<HeartbeatResult> beat = b_.table->Heartbeat("p1");
  ASSERT_TRUE(beat.ok());
  EXPECT_THAT(beat->owned, IsEmpty());
}

TEST_F(LeaseTableReplicasTest, TakeoverOnOneReplicaFencesTheOldOwnerOnTheOther) {
  ASSERT_TRUE(a_.table->CreateLeases({NewLeaseOf("s1")}).ok());
  ASSERT_TRUE(a_.table->RegisterPoller("p1", 10).ok());
  absl::StatusOr<std::vector<Lease>> granted = a_.table->AcquireLeases("p1");
  ASSERT_TRUE(granted.ok());
  ASSERT_THAT(*granted, SizeIs(1));
  const int64_t old_counter = (*granted)[0].record.lease_counter;
  ASSERT_TRUE(b_.table->RegisterPoller("p2", 10).ok());
  CatchUp(b_);
  // p1 goes silent; p2, heartbeating through b, takes the lease over there.
  clock_.Advance(kLeaseDuration + absl::Seconds(1));
  granted = b_.table->AcquireLeases("p2");
  ASSERT_TRUE(granted.ok()) << granted.status();
  ASSERT_THAT(*granted, SizeIs(1));
  EXPECT_GT((*granted)[0].record.lease_counter, old_counter);
  // p1 wakes and checkpoints through a: fenced (after a catches up), nothing written.
  absl::StatusOr<Lease> late = a_.table->Checkpoint({"mapping-1", "s1"}, "p1", old_counter, At(99));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition) << late.status();
  absl::StatusOr<Lease> on_b = b_.table->GetLease({"mapping-1", "s1"});
  ASSERT_TRUE(on_b.ok());
  EXPECT_EQ(on_b->record.owner, "p2");
  EXPECT_NE(on_b->record.checkpoint.type, CheckpointType::kSequenceNumber) << "not checkpointed";
}

TEST_F(LeaseTableReplicasTest, HeartbeatThroughOneReplicaKeepsTheOwnerAliveOnTheOther) {
  ASSERT_TRUE(a_.table->CreateLeases({NewLeaseOf("s1")}).ok());
  ASSERT_TRUE(a_.table->RegisterPoller("p1", 10).ok());
  ASSERT_THAT(a_.table->AcquireLeases("p1").value(), SizeIs(1));
  ASSERT_TRUE(b_.table->RegisterPoller("p2", 10).ok());
  CatchUp(b_);
  clock_.Advance(kLeaseDuration + absl::Seconds(1));
  // p1 heartbeats through a just before p2 asks b: whether b's watch has brought the heartbeat
  // or not, b does not take the lease (the takeover compares p1's row and conflicts).
  ASSERT_TRUE(a_.table->Heartbeat("p1").ok());
  absl::StatusOr<std::vector<Lease>> granted = b_.table->AcquireLeases("p2");
  ASSERT_TRUE(granted.ok()) << granted.status();
  EXPECT_THAT(*granted, IsEmpty());
  EXPECT_TRUE(b_.table->IsPollerLive("p1"));
}

TEST_F(LeaseTableReplicasTest, TwoReplicasGrantingAtOnceNeverGrantOneLeaseTwice) {
  std::vector<NewLease> leases;
  for (int i = 0; i < 6; ++i) leases.push_back(NewLeaseOf("s" + std::to_string(i)));
  ASSERT_TRUE(a_.table->CreateLeases(leases).ok());
  ASSERT_TRUE(a_.table->RegisterPoller("p1", 6).ok());
  ASSERT_TRUE(b_.table->RegisterPoller("p2", 6).ok());
  CatchUp(a_);
  CatchUp(b_);
  // Neither replica has seen the other's grants when it grants.
  absl::StatusOr<std::vector<Lease>> to_p1 = a_.table->AcquireLeases("p1");
  absl::StatusOr<std::vector<Lease>> to_p2 = b_.table->AcquireLeases("p2");
  ASSERT_TRUE(to_p1.ok()) << to_p1.status();
  ASSERT_TRUE(to_p2.ok()) << to_p2.status();
  std::set<std::string> shards;
  for (const auto* granted : {&*to_p1, &*to_p2}) {
    for (const Lease& l : *granted) {
      EXPECT_TRUE(shards.insert(l.record.key.shard_id).second) << l.record.key.shard_id;
    }
  }
  CatchUp(a_);
  CatchUp(b_);
  for (Replica* r : {&a_, &b_}) {
    for (const auto& [poller, granted] :
         std::vector<std::pair<std::string, const std::vector<Lease>*>>{{"p1", &*to_p1},
                                                                        {"p2", &*to_p2}}) {
      absl::StatusOr<HeartbeatResult> beat = r->table->Heartbeat(poller);
      ASSERT_TRUE(beat.ok());
      EXPECT_EQ(beat->owned.size(), granted->size()) << poller;
    }
  }
}

TEST_F(LeaseTableReplicasTest, DeregisterThroughOneReplicaReleasesOnTheOther) {
  ASSERT_TRUE(a_.table->CreateLeases({NewLeaseOf("s1")}).ok());
  ASSERT_TRUE(a_.table->RegisterPoller("p1", 10).ok());
  ASSERT_THAT(a_.table->AcquireLeases("p1").value(), SizeIs(1));
  absl::StatusOr<int> released = b_.table->DeregisterPoller("p1");
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(*released, 1);
  CatchUp(a_);
  EXPECT_EQ(a_.table->Heartbeat("p1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(a_.table->ListPollers(), IsEmpty());
  absl::StatusOr<Lease> lease = a_.table->GetLease({"mapping-1", "s1"});
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->record.owner, "");
}

}  // namespace
}  // namespace tributary::leasing
