// Poller liveness as etcd leases (issue 19; EtcdLeaseStoreOptions::poller_liveness_ttl): two
// leasing replicas (two LeaseTables, each over its own shared EtcdLeaseStore on one prefix of a
// real etcd member). A heartbeat is a keepalive and writes nothing; a poller's expiry is the
// deletion of its liveness key, seen by every replica through the watch; a takeover compares the
// previous owner's key absent. Expiry is simulated by revoking the poller's etcd lease (what
// etcd does when its TTL passes without a keepalive); the TTL itself is long (600 s) so that
// real time expires nothing. Both tables run on one FakeClock that never moves: liveness here
// is etcd's alone.
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leasing/etcd_lease_store.h"
#include "leasing/lease_table.h"

namespace tributary::leasing {
namespace {

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

struct Replica {
  std::unique_ptr<etcd::EtcdClient> client;
  std::unique_ptr<EtcdLeaseStore> store;
  std::unique_ptr<LeaseTable> table;
};

class EtcdLivenessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = &etcd::testing::EtcdCluster::Shared(1);
    prefix_ = cluster_->NewPrefix();
    client_ = cluster_->NewClient();
    a_ = Open("replica-a");
    b_ = Open("replica-b");
  }

  EtcdLeaseStoreOptions StoreOptions(const std::string& writer) {
    EtcdLeaseStoreOptions options;
    options.prefix = prefix_;
    options.writer = writer;
    options.shared = true;
    options.poller_liveness_ttl = absl::Seconds(600);
    return options;
  }

  Replica Open(const std::string& writer) {
    Replica r;
    r.client = cluster_->NewClient();
    r.store = std::move(EtcdLeaseStore::Create(*r.client, StoreOptions(writer))).value();
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

  // What etcd does when `poller`'s TTL passes without a keepalive: its lease ends, its liveness
  // key is deleted.
  void Expire(Replica& known_by, const std::string& poller) {
    absl::StatusOr<int64_t> lease = known_by.store->LivenessLeaseOf(poller);
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_TRUE(client_->RevokeLease(*lease).ok());
  }

  bool Live(Replica& r, const std::string& poller) {
    for (const PollerInfo& p : r.table->ListPollers()) {
      if (p.poller_id == poller) return p.live;
    }
    ADD_FAILURE() << poller << " is not registered";
    return false;
  }

  int64_t EtcdRevision() {
    absl::StatusOr<etcd::RangeResult> range = client_->GetPrefix(prefix_);
    EXPECT_TRUE(range.ok()) << range.status();
    return range.ok() ? range->revision : -1;
  }

  FakeClock clock_;
  etcd::testing::EtcdCluster* cluster_ = nullptr;
  std::string prefix_;
  std::unique_ptr<etcd::EtcdClient> client_;
  Replica a_;
  Replica b_;
};

TEST_F(EtcdLivenessTest, RegisteredPollerHasALivenessKeyOnItsOwnEtcdLease) {
  ASSERT_TRUE(a_.table->RegisterPoller("p1", 10).ok());
  absl::StatusOr<std::optional<etcd::KeyValue>> key = client_->Get(a_.store->LivenessKeyOf("p1"));
  ASSERT_TRUE(key.ok()) << key.status();
  ASSERT_TRUE(key->has_value());
  EXPECT_NE((*key)->lease, 0);
  EXPECT_EQ((*key)->lease, *a_.store->LivenessLeaseOf("p1"));
  CatchUp(b_);
  EXPECT_TRUE(Live(b_, "p1"));
  EXPECT_EQ(*b_.store->LivenessLeaseOf("p1"), (*key)->lease);
}

// Regression test (issue 19): a heartbeat wrote the poller's row, one etcd revision (a raft
// write) per heartbeat, through whichever replica.
TEST_F(EtcdLivenessTest, HeartbeatsAndAcquiresThatGrantNothingWriteNothing) {
  ASSERT_TRUE(a_.table->CreateLeases({NewLeaseOf("s1"), NewLeaseOf("s2")}).ok());
  ASSERT_TRUE(a_.table->RegisterPoller("p1", 10).ok());
  ASSERT_THAT(*a_.table->AcquireLeases("p1"), SizeIs(2));
  CatchUp(b_);
  const int64_t before = EtcdRevision();
  for (int i = 0; i < 10; ++i) {
    for (Replica* r : {&a_, &b_}) {
      absl::StatusOr<HeartbeatResult> hb = r->table->Heartbeat("p1");
      ASSERT_TRUE(hb.ok()) << hb.status();
      EXPECT_THAT(hb->owned, SizeIs(2));
      absl::StatusOr<std::vector<Lease>> granted = r->table->AcquireLeases("p1");
      ASSERT_TRUE(granted.ok()) << granted.status();
      EXPECT_THAT(*granted, IsEmpty());
    }
  }
  EXPECT_EQ(EtcdRevision(), before) << "40 heartbeats and acquires wrote to etcd";
  EXPECT_TRUE(Live(a_, "p1"));
  EXPECT_TRUE(Live(b_, "p1"));
}

TEST_F(EtcdLivenessTest, PollerWhoseKeepalivesStopLosesItsLeasesOnEveryReplica) {
  ASSERT_TRUE(a_.table->CreateLeases({NewLeaseOf("s1"), NewLeaseOf("s2")}).ok());
  ASSERT_TRUE(a_.table->RegisterPoller("p1", 10).ok());
  ASSERT_THAT(*a_.table->AcquireLeases("p1"), SizeIs(2));
  ASSERT_TRUE(b_.table->RegisterPoller("p2", 10).ok());
  CatchUp(a_);
  CatchUp(b_);
  for (Replica* r : {&a_, &b_}) {
    EXPECT_TRUE(Live(*r, "p1"));
    EXPECT_FALSE(r->table->GetLease({"mapping-1", "s1"})->expired);
  }

  Expire(a_, "p1");  // p1 stops heartbeating: nobody renews its lease
  // The clock has not moved: the deletion alone makes p1 dead, on both replicas.
  for (Replica* r : {&a_, &b_}) {
    CatchUp(*r);
    EXPECT_FALSE(Live(*r, "p1"));
    EXPECT_TRUE(r->table->GetLease({"mapping-1", "s1"})->expired);
    EXPECT_TRUE(r->table->GetLease({"mapping-1", "s2"})->expired);
  }
  absl::StatusOr<std::vector<Lease>> taken = b_.table->AcquireLeases("p2");
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_THAT(*taken, SizeIs(2));
  CatchUp(a_);
  for (const char* shard : {"s1", "s2"}) {
    const Lease lease = *a_.table->GetLease({"mapping-1", shard});
    EXPECT_EQ(lease.record.owner, "p2");
    EXPECT_EQ(lease.record.lease_counter, 2);
  }
  // The old owner is fenced out, and its next heartbeat (live again) lists nothing.
  EXPECT_EQ(a_.table
                ->Checkpoint({"mapping-1", "s1"}, "p1", 1,
                             {CheckpointType::kSequenceNumber, 5, absl::UnixEpoch()})
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<HeartbeatResult> hb = a_.table->Heartbeat("p1");
  ASSERT_TRUE(hb.ok()) << hb.status();
  EXPECT_THAT(hb->owned, IsEmpty());
  CatchUp(b_);
  EXPECT_TRUE(Live(b_, "p1"));  // its heartbeat made it live again, with a new etcd lease
}

TEST_F(EtcdLivenessTest, DeregistrationEndsLivenessOnEveryReplica) {
  ASSERT_TRUE(a_.table->RegisterPoller("p1", 10).ok());
  const int64_t lease = *a_.store->LivenessLeaseOf("p1");
  CatchUp(b_);
  ASSERT_TRUE(b_.table->DeregisterPoller("p1").ok());
  absl::StatusOr<std::optional<etcd::KeyValue>> key = client_->Get(a_.store->LivenessKeyOf("p1"));
  ASSERT_TRUE(key.ok());
  EXPECT_FALSE(key->has_value());
  // The lease was revoked too (nothing keeps it).
  EXPECT_EQ(client_->KeepAliveOnce(lease).status().code(), absl::StatusCode::kNotFound);
  CatchUp(a_);
  EXPECT_THAT(a_.table->ListPollers(), IsEmpty());
}

// Regression test (issue 19): with keepalives an acquire no longer wrote the poller's row, so a
// deregistration through a replica that had not yet seen the grant compared that row, passed,
// released nothing and left the lease owned by a poller that no longer exists.
TEST_F(EtcdLivenessTest, DeregistrationThroughAReplicaBehindOnAGrantReleasesIt) {
  for (int round = 0; round < 5; ++round) {
    const std::string poller = absl::StrCat("p", round);
    const LeaseKey key{"mapping-1", absl::StrCat("s", round)};
    ASSERT_TRUE(a_.table->CreateLeases({NewLeaseOf(key.shard_id)}).ok());
    ASSERT_TRUE(a_.table->RegisterPoller(poller, 10).ok());
    CatchUp(b_);  // b knows the poller, and may or may not see the grant below in time
    ASSERT_THAT(a_.table->AcquireLeases(poller).value(), SizeIs(1));
    absl::StatusOr<int> released = b_.table->DeregisterPoller(poller);
    ASSERT_TRUE(released.ok()) << released.status();
    EXPECT_EQ(*released, 1) << poller;
    CatchUp(a_);
    EXPECT_EQ(a_.table->GetLease(key)->record.owner, "") << poller;
    ASSERT_TRUE(a_.table->DeleteLeases({key}, "").ok());  // the next round's grant is its own
  }
}

// Regression test (issue 19): the takeover's Txn compared only the previous owner's poller row,
// which a keepalive does not write: replica B, which saw the owner's key deleted, took its lease
// although the owner had meanwhile heartbeated through replica A and was live again.
TEST_F(EtcdLivenessTest, TakeoverComparesThePreviousOwnersLivenessKeyAbsent) {
  LeaseRecord lease;
  lease.key = {"mapping-1", "s1"};
  lease.owner = "p1";
  lease.lease_counter = 1;
  PollerRecord p1{"p1", 10, absl::UnixEpoch()};
  ASSERT_TRUE(a_.store->Load().ok());
  ASSERT_TRUE(b_.store->Load().ok());
  LeaseStoreWrite registered;
  registered.put_pollers = {p1};
  registered.put_leases = {lease};
  ASSERT_TRUE(a_.store->Write(registered).ok());
  for (EtcdLeaseStore* store : {a_.store.get(), b_.store.get()}) {
    ASSERT_TRUE(*store->Barrier());
    store->TakeExternalChanges();
  }

  Expire(a_, "p1");
  ASSERT_TRUE(*b_.store->Barrier());
  LeaseStoreWrite seen_by_b = b_.store->TakeExternalChanges();
  EXPECT_THAT(seen_by_b.dead_pollers, ::testing::ElementsAre("p1"));  // B: p1 is dead
  // p1 heartbeats through A, which sees the expiry and makes p1 live again (a new lease).
  ASSERT_TRUE(*a_.store->Barrier());
  a_.store->TakeExternalChanges();
  LeaseStoreWrite heartbeat;
  heartbeat.renew_pollers = {p1};
  ASSERT_TRUE(a_.store->Write(heartbeat).ok());

  // B, not having seen that yet, takes the lease over.
  LeaseRecord taken = lease;
  taken.owner = "p2";
  taken.lease_counter = 2;
  LeaseStoreWrite takeover;
  takeover.put_leases = {taken};
  takeover.check_pollers = {"p1"};
  const absl::Status status = b_.store->Write(takeover);
  EXPECT_TRUE(IsLeaseStoreConflict(status)) << status;
  // Nothing written, and the conflict brought B the news: p1 is live.
  absl::StatusOr<std::optional<etcd::KeyValue>> row = client_->Get(a_.store->LeaseKeyOf(lease.key));
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->mod_revision, (*row)->create_revision);
  EXPECT_THAT(b_.store->TakeExternalChanges().live_pollers, ::testing::ElementsAre("p1"));
}

// p1 heartbeats (and re-acquires) through A while its etcd lease is revoked now and then; p2
// acquires through B at the same time. Every grant of a lease is a new counter: no (lease,
// counter) is ever granted to two pollers, and at the end both replicas and etcd agree.
TEST_F(EtcdLivenessTest, TakeoverRacingKeepalivesNeverGrantsALeaseTwice) {
  constexpr int kLeases = 8;
  constexpr int kRounds = 40;
  std::vector<NewLease> leases;
  for (int i = 0; i < kLeases; ++i) leases.push_back(NewLeaseOf(absl::StrCat("s", i)));
  ASSERT_TRUE(a_.table->CreateLeases(leases).ok());
  ASSERT_TRUE(a_.table->RegisterPoller("p1", kLeases).ok());
  ASSERT_THAT(*a_.table->AcquireLeases("p1"), SizeIs(kLeases));
  ASSERT_TRUE(b_.table->RegisterPoller("p2", kLeases).ok());

  absl::Mutex mu;
  std::map<std::pair<std::string, int64_t>, std::vector<std::string>> grants;  // guarded by mu
  auto record = [&](const std::string& poller, const std::vector<Lease>& granted) {
    absl::MutexLock lock(&mu);
    for (const Lease& l : granted) {
      grants[{l.record.key.shard_id, l.record.lease_counter}].push_back(poller);
    }
  };
  std::thread p1([&] {
    for (int i = 0; i < kRounds; ++i) {
      if (i % 5 == 0) {
        absl::StatusOr<int64_t> lease = a_.store->LivenessLeaseOf("p1");
        if (lease.ok()) {
          EXPECT_TRUE(client_->RevokeLease(*lease).ok());
        }
      }
      absl::StatusOr<HeartbeatResult> hb = a_.table->Heartbeat("p1");
      EXPECT_TRUE(hb.ok()) << hb.status();
      absl::StatusOr<std::vector<Lease>> granted = a_.table->AcquireLeases("p1");
      EXPECT_TRUE(granted.ok() || IsLeaseStoreConflict(granted.status())) << granted.status();
      if (granted.ok()) record("p1", *granted);
    }
  });
  std::thread p2([&] {
    for (int i = 0; i < kRounds; ++i) {
      absl::StatusOr<std::vector<Lease>> granted = b_.table->AcquireLeases("p2");
      EXPECT_TRUE(granted.ok() || IsLeaseStoreConflict(granted.status())) << granted.status();
      if (granted.ok()) record("p2", *granted);
    }
  });
  p1.join();
  p2.join();

  int takeovers = 0;
  for (const auto& [grant, owners] : grants) {
    EXPECT_THAT(owners, SizeIs(1)) << grant.first << " at counter " << grant.second;
    if (owners.front() == "p2") ++takeovers;
  }
  RecordProperty("takeovers", takeovers);
  CatchUp(a_);
  CatchUp(b_);
  for (const NewLease& nl : leases) {
    const Lease on_a = *a_.table->GetLease(nl.key);
    const Lease on_b = *b_.table->GetLease(nl.key);
    EXPECT_EQ(on_a.record.owner, on_b.record.owner) << nl.key.shard_id;
    EXPECT_EQ(on_a.record.lease_counter, on_b.record.lease_counter) << nl.key.shard_id;
    // The current owner is the last one granted that lease.
    absl::MutexLock lock(&mu);
    auto last = grants.end();
    for (auto it = grants.begin(); it != grants.end(); ++it) {
      if (it->first.first == nl.key.shard_id) last = it;
    }
    if (last != grants.end() && !on_a.record.owner.empty()) {
      EXPECT_EQ(on_a.record.owner, last->second.front()) << nl.key.shard_id;
    }
  }
}

}  // namespace
}  // namespace tributary::leasing
