// EtcdLeaseStore against a real etcd member (shared by this binary), each case under a prefix of
// its own: rows round-trip, writes are fenced by compare against another writer, a write whose
// answer was lost is recognised, and a store that cannot know its state refuses to write.
// (The lease table's whole suite also runs over this store: lease_table_etcd_test.)
#include "leasing/etcd_lease_store.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "etcd/testing/faulty_kv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leasing/lease_codec.h"
#include "leasing/lease_table.h"

namespace tributary::leasing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

LeaseRecord Lease(const std::string& shard, int64_t counter = 1, uint64_t checkpoint = 0) {
  LeaseRecord r;
  r.key = {"mapping-1", shard};
  r.stream_name = "orders";
  r.owner = "p1";
  r.lease_counter = counter;
  r.checkpoint = {CheckpointType::kSequenceNumber, checkpoint, absl::UnixEpoch()};
  return r;
}

LeaseStoreWrite Put(std::vector<LeaseRecord> leases) {
  LeaseStoreWrite w;
  w.put_leases = std::move(leases);
  return w;
}

class EtcdLeaseStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = &etcd::testing::EtcdCluster::Shared(1);
    client_ = cluster_->NewClient();
    prefix_ = cluster_->NewPrefix();
  }

  // A store over `client` (default: the fixture's) on this test's prefix, loaded.
  std::unique_ptr<EtcdLeaseStore> Open(const std::string& writer = "leasing",
                                       etcd::EtcdClient* client = nullptr, bool shared = false) {
    EtcdLeaseStoreOptions options;
    options.prefix = prefix_;
    options.writer = writer;
    options.shared = shared;
    options.on_stale = [this](const absl::Status&) { ++stale_calls_; };
    auto store = EtcdLeaseStore::Create(client != nullptr ? *client : *client_, options);
    EXPECT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE((*store)->Load().ok());
    return std::move(store).value();
  }
  // A client whose Txns go through a FaultyKv, and that gives up after 1 s (300 ms, the first
  // choice, was too little for Open's Load on a VM at load ~15: failed once in tools/test.sh).
  std::unique_ptr<etcd::EtcdClient> FaultyClient(etcd::testing::FaultyKv** faulty) {
    std::vector<etcd::EtcdMemberStubs> members;
    members.push_back(etcd::ConnectToMember(cluster_->endpoints()[0]));
    auto wrapped = std::make_unique<etcd::testing::FaultyKv>(std::move(members[0].kv));
    *faulty = wrapped.get();
    members[0].kv = std::move(wrapped);
    etcd::EtcdClientOptions options;
    options.attempt_timeout = absl::Milliseconds(200);
    options.operation_timeout = absl::Seconds(1);
    return std::make_unique<etcd::EtcdClient>(RealClock::Get(), options, std::move(members));
  }
  std::vector<LeaseRecord> Leases(EtcdLeaseStore& store) {
    absl::StatusOr<LeaseStoreContents> contents = store.Load();
    EXPECT_TRUE(contents.ok()) << contents.status();
    return contents.ok() ? contents->leases : std::vector<LeaseRecord>{};
  }

  etcd::testing::EtcdCluster* cluster_ = nullptr;
  std::unique_ptr<etcd::EtcdClient> client_;
  std::string prefix_;
  int stale_calls_ = 0;
};

TEST_F(EtcdLeaseStoreTest, EveryFieldSurvivesAReopen) {
  LeaseRecord full = Lease("shardId-000000000007", 42);
  full.checkpoint = {CheckpointType::kAtTimestamp, 0, absl::FromUnixMicros(1700000000123456)};
  full.parent_shard_ids = {"a", "b"};
  full.child_shard_ids = {"c"};
  full.owner_switches_since_checkpoint = 3;
  full.enabled = false;
  full.moved_at = absl::FromUnixSeconds(1700000100);
  LeaseStoreWrite w = Put({full});
  w.put_pollers = {{"p1", 7, absl::FromUnixMicros(1700000000654321)}};
  ASSERT_TRUE(Open()->Write(w).ok());

  absl::StatusOr<LeaseStoreContents> contents = Open("another")->Load();
  ASSERT_TRUE(contents.ok()) << contents.status();
  ASSERT_THAT(contents->leases, SizeIs(1));
  EXPECT_EQ(EncodeLease(contents->leases[0]), EncodeLease(full)) << "every field";
  ASSERT_THAT(contents->pollers, SizeIs(1));
  EXPECT_EQ(contents->pollers[0].capacity, 7);
  EXPECT_EQ(contents->pollers[0].last_heartbeat, absl::FromUnixMicros(1700000000654321));
}

TEST_F(EtcdLeaseStoreTest, RowsAreReadableKeysUnderThePrefix) {
  std::unique_ptr<EtcdLeaseStore> store = Open();
  EXPECT_EQ(store->LeaseKeyOf({"m/1", "shard 50%"}), prefix_ + "leases/m%2F1/shard%2050%25");
  EXPECT_EQ(store->PollerKeyOf("host-1"), prefix_ + "pollers/host-1");
  LeaseRecord odd = Lease("s/1");
  odd.key.mapping_uuid = "m/1";
  ASSERT_TRUE(store->Write(Put({odd})).ok());
  absl::StatusOr<std::optional<etcd::KeyValue>> row = client_->Get(prefix_ + "leases/m%2F1/s%2F1");
  ASSERT_TRUE(row.ok());
  ASSERT_TRUE(row->has_value());
  EXPECT_EQ(Leases(*store)[0].key, odd.key);
}

TEST_F(EtcdLeaseStoreTest, LeaseValuesDoNotRepeatTheirKey) {
  std::unique_ptr<EtcdLeaseStore> store = Open();
  const LeaseRecord lease = Lease("shardId-000000000042");
  ASSERT_TRUE(store->Write(Put({lease})).ok());
  absl::StatusOr<std::optional<etcd::KeyValue>> row = client_->Get(store->LeaseKeyOf(lease.key));
  ASSERT_TRUE(row.ok()) << row.status();
  ASSERT_TRUE(row->has_value());
  const std::string& value = (*row)->value;
  EXPECT_EQ(value.find("shardId-000000000042"), std::string::npos) << "the key has it";
  EXPECT_EQ(value.find("mapping-1"), std::string::npos);
  EXPECT_LT(value.size(), EncodeLease(lease).size());
  absl::StatusOr<LeaseRecord> decoded = DecodeLeaseOf(lease.key, (*row)->key, value);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(EncodeLease(*decoded), EncodeLease(lease));
}

// Rows a previous version wrote (the whole StoredLease, key fields included) load, come through
// another replica's watch, and are rewritten compact by the next write.
TEST_F(EtcdLeaseStoreTest, RowsWrittenBeforeTheCompactEncodingStillLoad) {
  std::unique_ptr<EtcdLeaseStore> b = Open("b", nullptr, /*shared=*/true);
  LeaseRecord old = Lease("s1", 4, 17);
  old.parent_shard_ids = {"s0"};
  std::unique_ptr<EtcdLeaseStore> probe = Open("probe");
  ASSERT_TRUE(client_->Put(probe->LeaseKeyOf(old.key), EncodeLease(old)).ok());
  ASSERT_TRUE(client_->Put(probe->PollerKeyOf("p1"), EncodePoller({"p1", 2, absl::UnixEpoch()}))
                  .ok());

  std::unique_ptr<EtcdLeaseStore> a = Open("a", nullptr, /*shared=*/true);
  std::vector<LeaseRecord> loaded = Leases(*a);
  ASSERT_THAT(loaded, SizeIs(1));
  EXPECT_EQ(EncodeLease(loaded[0]), EncodeLease(old)) << "every field, the key from the row";

  absl::StatusOr<bool> barrier = b->Barrier();
  ASSERT_TRUE(barrier.ok()) << barrier.status();
  LeaseStoreWrite seen = b->TakeExternalChanges();
  ASSERT_THAT(seen.put_leases, SizeIs(1)) << "the old row through the watch";
  EXPECT_EQ(EncodeLease(seen.put_leases[0]), EncodeLease(old));

  // A table over the old rows: the owner checkpoints; the row is rewritten compact.
  FakeClock clock;
  absl::StatusOr<std::unique_ptr<LeaseTable>> table = LeaseTable::Create(clock, *a);
  ASSERT_TRUE(table.ok()) << table.status();
  auto done = (*table)->Checkpoint(old.key, "p1", 4, {CheckpointType::kSequenceNumber, 18, {}});
  ASSERT_TRUE(done.ok()) << done.status();
  absl::StatusOr<std::optional<etcd::KeyValue>> row = client_->Get(a->LeaseKeyOf(old.key));
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->value.find("mapping-1"), std::string::npos);
  loaded = Leases(*a);
  ASSERT_THAT(loaded, SizeIs(1));
  EXPECT_EQ(loaded[0].checkpoint.sequence_number, 18u);
  EXPECT_EQ(loaded[0].parent_shard_ids, old.parent_shard_ids);
}

TEST_F(EtcdLeaseStoreTest, DeletesAndPutsInOneWrite) {
  std::unique_ptr<EtcdLeaseStore> store = Open();
  LeaseStoreWrite first = Put({Lease("a"), Lease("b")});
  first.put_pollers = {{"p1", 1, absl::UnixEpoch()}};
  ASSERT_TRUE(store->Write(first).ok());
  LeaseStoreWrite second = Put({Lease("c")});
  second.delete_leases = {Lease("a").key};
  second.delete_pollers = {"p1"};
  ASSERT_TRUE(store->Write(second).ok());
  absl::StatusOr<LeaseStoreContents> contents = Open("reader")->Load();
  ASSERT_TRUE(contents.ok());
  ASSERT_THAT(contents->leases, SizeIs(2));
  EXPECT_EQ(contents->leases[0].key.shard_id, "b");
  EXPECT_EQ(contents->leases[1].key.shard_id, "c");
  EXPECT_THAT(contents->pollers, SizeIs(0));
}

TEST_F(EtcdLeaseStoreTest, CheckpointsOfManyLeasesAreOneTxn) {
  etcd::testing::FaultyKv* faulty = nullptr;
  std::unique_ptr<etcd::EtcdClient> client = FaultyClient(&faulty);
  std::unique_ptr<EtcdLeaseStore> store = Open("leasing", client.get());
  std::vector<LeaseRecord> leases;
  for (int i = 0; i < 1000; ++i) leases.push_back(Lease(absl::StrFormat("shard-%04d", i)));
  ASSERT_TRUE(store->Write(Put(leases)).ok());
  for (LeaseRecord& r : leases) r.checkpoint.sequence_number = 77;
  const int before = faulty->txns();
  ASSERT_TRUE(store->Write(Put(leases)).ok());
  EXPECT_EQ(faulty->txns(), before + 1);
  for (const LeaseRecord& r : Leases(*store)) EXPECT_EQ(r.checkpoint.sequence_number, 77u);
}

// ---- Fencing by compare ----

TEST_F(EtcdLeaseStoreTest, DeposedWriterFailsByCompareAndWritesNothing) {
  std::unique_ptr<EtcdLeaseStore> old_replica = Open("old");
  ASSERT_TRUE(old_replica->Write(Put({Lease("s", 1, 100)})).ok());
  // A new replica takes over the prefix and grants the lease to another poller.
  std::unique_ptr<EtcdLeaseStore> new_replica = Open("new");
  LeaseRecord granted = Lease("s", 2, 100);
  granted.owner = "p2";
  ASSERT_TRUE(new_replica->Write(Put({granted})).ok());
  // The old replica still believes p1 holds it at counter 1 and checkpoints for p1.
  absl::Status s = old_replica->Write(Put({Lease("s", 1, 200)}));
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("stale"));
  EXPECT_TRUE(old_replica->stale());
  EXPECT_EQ(stale_calls_, 1);
  std::vector<LeaseRecord> rows = Leases(*new_replica);
  ASSERT_THAT(rows, SizeIs(1));
  EXPECT_EQ(rows[0].owner, "p2");
  EXPECT_EQ(rows[0].checkpoint.sequence_number, 100u) << "the stale checkpoint was not written";
  // Once stale, nothing it writes lands, not even rows nobody else touched.
  EXPECT_EQ(old_replica->Write(Put({Lease("other")})).code(), absl::StatusCode::kAborted);
  EXPECT_THAT(Leases(*new_replica), SizeIs(1));
  EXPECT_EQ(stale_calls_, 1) << "told once";
  EXPECT_TRUE(new_replica->Write(Put({Lease("s", 2, 300)})).ok());
}

TEST_F(EtcdLeaseStoreTest, WriterThatDidNotSeeARowCreatedByAnotherCannotCreateItAgain) {
  std::unique_ptr<EtcdLeaseStore> a = Open("a");
  std::unique_ptr<EtcdLeaseStore> b = Open("b");
  ASSERT_TRUE(b->Write(Put({Lease("s", 1, 500)})).ok());
  EXPECT_EQ(a->Write(Put({Lease("s", 1, 0)})).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Leases(*b)[0].checkpoint.sequence_number, 500u);
}

TEST_F(EtcdLeaseStoreTest, ReloadingAStaleStoreLetsItWriteAgain) {
  std::unique_ptr<EtcdLeaseStore> a = Open("a");
  std::unique_ptr<EtcdLeaseStore> b = Open("b");
  ASSERT_TRUE(b->Write(Put({Lease("s")})).ok());
  ASSERT_EQ(a->Write(Put({Lease("s")})).code(), absl::StatusCode::kAborted);
  ASSERT_THAT(Leases(*a), SizeIs(1));  // Load: a reads what b wrote
  EXPECT_FALSE(a->stale());
  EXPECT_TRUE(a->Write(Put({Lease("s", 2)})).ok());
}

// ---- Shared (several leasing replicas) ----

TEST_F(EtcdLeaseStoreTest, SharedWriterThatLosesGetsAConflictAndTheWinnersRowNotStaleness) {
  std::unique_ptr<EtcdLeaseStore> a = Open("a", nullptr, /*shared=*/true);
  std::unique_ptr<EtcdLeaseStore> b = Open("b", nullptr, /*shared=*/true);
  ASSERT_TRUE(b->Write(Put({Lease("s", 1, 500)})).ok());
  absl::Status s = a->Write(Put({Lease("s", 1, 0)}));
  EXPECT_TRUE(IsLeaseStoreConflict(s)) << s;
  EXPECT_FALSE(a->stale());
  EXPECT_EQ(stale_calls_, 0);
  // The row b wrote comes out of a (read back by the conflict, or by the watch), once.
  LeaseStoreWrite changes = a->TakeExternalChanges();
  ASSERT_THAT(changes.put_leases, SizeIs(1));
  EXPECT_EQ(changes.put_leases[0].checkpoint.sequence_number, 500u);
  // Computed from it, a's write passes; b's next write of the row conflicts in turn.
  ASSERT_TRUE(a->Write(Put({Lease("s", 2, 600)})).ok());
  EXPECT_TRUE(IsLeaseStoreConflict(b->Write(Put({Lease("s", 1, 700)}))));
  EXPECT_EQ(Leases(*a)[0].checkpoint.sequence_number, 600u);
}

TEST_F(EtcdLeaseStoreTest, SharedStoreHandsOutOtherWritersChangesOnceAfterABarrier) {
  std::unique_ptr<EtcdLeaseStore> a = Open("a", nullptr, /*shared=*/true);
  std::unique_ptr<EtcdLeaseStore> b = Open("b", nullptr, /*shared=*/true);
  LeaseStoreWrite w = Put({Lease("s1"), Lease("s2")});
  w.put_pollers = {{"p1", 3, absl::UnixEpoch()}};
  ASSERT_TRUE(b->Write(w).ok());
  LeaseStoreWrite gone;
  gone.delete_leases = {Lease("s2").key};
  ASSERT_TRUE(b->Write(gone).ok());
  EXPECT_THAT(b->TakeExternalChanges().put_leases, SizeIs(0)) << "its own writes are not news";
  absl::StatusOr<bool> barrier = a->Barrier();
  ASSERT_TRUE(barrier.ok()) << barrier.status();
  EXPECT_TRUE(*barrier);
  LeaseStoreWrite changes = a->TakeExternalChanges();
  ASSERT_THAT(changes.put_leases, SizeIs(1));
  EXPECT_EQ(changes.put_leases[0].key.shard_id, "s1");
  EXPECT_THAT(changes.delete_leases, ::testing::ElementsAre(Lease("s2").key))
      << "s2 was put, then deleted: only the latest state, a delete of a row a never had";
  ASSERT_THAT(changes.put_pollers, SizeIs(1));
  EXPECT_EQ(changes.put_pollers[0].capacity, 3);
  EXPECT_TRUE(a->TakeExternalChanges().empty()) << "handed out once";
  // Unshared stores have no barrier.
  absl::StatusOr<bool> unshared = Open("c")->Barrier();
  ASSERT_TRUE(unshared.ok());
  EXPECT_FALSE(*unshared);
}

TEST_F(EtcdLeaseStoreTest, SharedWriteComparesThePollersItChecksWithoutWritingThem) {
  std::unique_ptr<EtcdLeaseStore> a = Open("a", nullptr, /*shared=*/true);
  std::unique_ptr<EtcdLeaseStore> b = Open("b", nullptr, /*shared=*/true);
  LeaseStoreWrite held = Put({Lease("s")});
  held.put_pollers = {{"p1", 1, absl::UnixEpoch()}};
  ASSERT_TRUE(a->Write(held).ok());
  ASSERT_TRUE(*b->Barrier());
  b->TakeExternalChanges();
  // p1 heartbeats through a; b, not knowing, grants p1's lease to p2 checking p1's row.
  LeaseStoreWrite beat;
  beat.put_pollers = {{"p1", 1, absl::FromUnixSeconds(100)}};
  ASSERT_TRUE(a->Write(beat).ok());
  LeaseRecord taken = Lease("s", 2);
  taken.owner = "p2";
  LeaseStoreWrite takeover = Put({taken});
  takeover.check_pollers = {"p1"};
  EXPECT_TRUE(IsLeaseStoreConflict(b->Write(takeover)));
  EXPECT_EQ(Leases(*a)[0].owner, "p1");
}

// ---- Outcome unknown ----

TEST_F(EtcdLeaseStoreTest, WriteWhoseAnswerWasLostIsRecognisedAsApplied) {
  etcd::testing::FaultyKv* faulty = nullptr;
  std::unique_ptr<etcd::EtcdClient> client = FaultyClient(&faulty);
  std::unique_ptr<EtcdLeaseStore> store = Open("leasing", client.get());
  ASSERT_TRUE(store->Write(Put({Lease("s", 1, 1)})).ok());
  faulty->LoseNthTxnAnswer(1);
  ASSERT_TRUE(store->Write(Put({Lease("s", 1, 2)})).ok());
  EXPECT_FALSE(store->stale());
  // The store knows the row's new revision: the next write's compare holds.
  EXPECT_TRUE(store->Write(Put({Lease("s", 1, 3)})).ok());
  EXPECT_EQ(Leases(*store)[0].checkpoint.sequence_number, 3u);
}

TEST_F(EtcdLeaseStoreTest, WriteThatTimedOutButWasAppliedMakesTheStoreStale) {
  etcd::testing::FaultyKv* faulty = nullptr;
  std::unique_ptr<etcd::EtcdClient> client = FaultyClient(&faulty);
  std::unique_ptr<EtcdLeaseStore> store = Open("leasing", client.get());
  ASSERT_TRUE(store->Write(Put({Lease("s", 1, 1)})).ok());
  faulty->LoseEveryTxnAnswer();  // applied once, every answer lost until the call gives up
  absl::Status s = store->Write(Put({Lease("s", 1, 2)}));
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("was applied"));
  EXPECT_TRUE(store->stale()) << "memory would not match etcd";
  faulty->Heal();
  EXPECT_EQ(store->Write(Put({Lease("s", 1, 3)})).code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Leases(*store)[0].checkpoint.sequence_number, 2u);
}

TEST_F(EtcdLeaseStoreTest, WriteThatTimedOutUnappliedFailsAndTheStoreGoesOn) {
  etcd::testing::FaultyKv* faulty = nullptr;
  std::unique_ptr<etcd::EtcdClient> client = FaultyClient(&faulty);
  std::unique_ptr<EtcdLeaseStore> store = Open("leasing", client.get());
  ASSERT_TRUE(store->Write(Put({Lease("s", 1, 1)})).ok());
  faulty->DropEveryTxn();
  absl::Status s = store->Write(Put({Lease("s", 1, 2)}));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_FALSE(store->stale());
  faulty->Heal();
  EXPECT_TRUE(store->Write(Put({Lease("s", 1, 3)})).ok());
  EXPECT_EQ(Leases(*store)[0].checkpoint.sequence_number, 3u);
}

// ---- Bad rows and options ----

TEST_F(EtcdLeaseStoreTest, RowThatDoesNotDecodeIsDataLoss) {
  ASSERT_TRUE(client_->Put(prefix_ + "leases/m/s", "\xff\xff\xff").ok());
  std::unique_ptr<EtcdLeaseStore> store =
      std::move(EtcdLeaseStore::Create(*client_, {prefix_, "leasing", nullptr})).value();
  absl::Status loaded = store->Load().status();
  EXPECT_EQ(loaded.code(), absl::StatusCode::kDataLoss) << loaded;
  FakeClock clock;
  EXPECT_EQ(LeaseTable::Create(clock, *store).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(EtcdLeaseStoreTest, RowUnderAnotherLeasesKeyIsDataLoss) {
  ASSERT_TRUE(client_->Put(prefix_ + "leases/m/other", EncodeLease(Lease("s"))).ok());
  std::unique_ptr<EtcdLeaseStore> store =
      std::move(EtcdLeaseStore::Create(*client_, {prefix_, "leasing", nullptr})).value();
  absl::Status loaded = store->Load().status();
  EXPECT_EQ(loaded.code(), absl::StatusCode::kDataLoss) << loaded;
  EXPECT_THAT(std::string(loaded.message()), HasSubstr("holds another lease"));
}

TEST_F(EtcdLeaseStoreTest, BadOptionsAreRefused) {
  EXPECT_EQ(EtcdLeaseStore::Create(*client_, {"/no-slash", "w", nullptr}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EtcdLeaseStore::Create(*client_, {"/p/", "", nullptr}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tributary::leasing
