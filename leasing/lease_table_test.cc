// The lease table's specification. The same suite runs over each store (lease_table_test:
// RocksDB; lease_table_etcd_test: etcd), which testing/test_lease_store.h hands the fixture.
#include "leasing/lease_table.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/barrier.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leasing/lease_store.h"
#include "leasing/testing/failing_lease_store.h"
#include "leasing/testing/test_lease_store.h"

namespace tributary::leasing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;

constexpr char kMapping[] = "mapping-1";

std::string Shard(int i) { return absl::StrFormat("shardId-%012d", i); }

LeaseKey Key(const std::string& shard, const std::string& mapping = kMapping) {
  return LeaseKey{mapping, shard};
}

Checkpoint SequenceNumber(uint64_t n) {
  return Checkpoint{CheckpointType::kSequenceNumber, n, absl::UnixEpoch()};
}
Checkpoint ShardEnd() { return Checkpoint{CheckpointType::kShardEnd, 0, absl::UnixEpoch()}; }

// Every field of every lease and poller, for comparing whole states.
std::string Dump(LeaseTable& table) {
  std::string out;
  absl::StatusOr<LeasePage> page = table.ListLeases({}, 100000, "");
  EXPECT_TRUE(page.ok()) << page.status();
  for (const Lease& l : page->leases) {
    const LeaseRecord& r = l.record;
    absl::StrAppend(&out, r.key.mapping_uuid, "/", r.key.shard_id, " stream=", r.stream_name,
                    " owner=", r.owner, " counter=", r.lease_counter,
                    " cp=", static_cast<int>(r.checkpoint.type), ":", r.checkpoint.sequence_number,
                    ":", absl::FormatTime(r.checkpoint.timestamp),
                    " parents=", absl::StrJoin(r.parent_shard_ids, ","),
                    " children=", absl::StrJoin(r.child_shard_ids, ","),
                    " switches=", r.owner_switches_since_checkpoint, " enabled=", r.enabled,
                    " moved=", absl::FormatTime(r.moved_at), " assignable=", l.assignable,
                    " expired=", l.expired, "\n");
  }
  for (const PollerInfo& p : table.ListPollers()) {
    absl::StrAppend(&out, "poller ", p.poller_id, " cap=", p.capacity,
                    " hb=", absl::FormatTime(p.last_heartbeat), " live=", p.live,
                    " leases=", p.lease_count, "\n");
  }
  return out;
}

class LeaseTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::NewTestLeaseStoreLocation();
    Open();
  }

  void Open() {
    auto base = testing::OpenTestLeaseStore(dir_, clock_, options_.lease_duration);
    ASSERT_TRUE(base.ok()) << base.status();
    base_ = std::move(base).value();
    store_ = std::make_unique<testing::FailingLeaseStore>(*base_);
    auto table = LeaseTable::Create(clock_, *store_, options_);
    ASSERT_TRUE(table.ok()) << table.status();
    table_ = std::move(table).value();
  }

  // Closes and reopens everything over the same directory, as a restarted server does.
  void Restart() {
    table_.reset();
    store_.reset();
    base_.reset();
    Open();
  }

  void CreateLease(const std::string& shard, std::vector<std::string> parents = {},
                   const std::string& mapping = kMapping) {
    NewLease nl;
    nl.key = Key(shard, mapping);
    nl.stream_name = "orders";
    nl.parent_shard_ids = std::move(parents);
    ASSERT_TRUE(table_->CreateLeases({nl}).ok());
  }
  void CreateLeases(int n, const std::string& mapping = kMapping) {
    std::vector<NewLease> leases;
    for (int i = 0; i < n; ++i) {
      NewLease nl;
      nl.key = Key(Shard(i), mapping);
      nl.stream_name = "orders";
      leases.push_back(nl);
    }
    absl::StatusOr<int> created = table_->CreateLeases(leases);
    ASSERT_TRUE(created.ok()) << created.status();
    ASSERT_EQ(*created, n);
  }
  void Register(const std::string& poller, int capacity = 100) {
    ASSERT_TRUE(table_->RegisterPoller(poller, capacity).ok());
  }
  std::vector<LeaseKey> Acquire(const std::string& poller) {
    absl::StatusOr<std::vector<Lease>> granted = table_->AcquireLeases(poller);
    EXPECT_TRUE(granted.ok()) << granted.status();
    std::vector<LeaseKey> keys;
    if (granted.ok()) {
      for (const Lease& l : *granted) keys.push_back(l.record.key);
    }
    return keys;
  }
  HeartbeatResult Heartbeat(const std::string& poller) {
    absl::StatusOr<HeartbeatResult> r = table_->Heartbeat(poller);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : HeartbeatResult{};
  }
  Lease Get(const LeaseKey& key) {
    absl::StatusOr<Lease> l = table_->GetLease(key);
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? *l : Lease{};
  }
  int64_t Counter(const LeaseKey& key) { return Get(key).record.lease_counter; }
  std::string Owner(const LeaseKey& key) { return Get(key).record.owner; }
  int Owned(const std::string& poller) { return static_cast<int>(Heartbeat(poller).owned.size()); }
  absl::Status CheckpointAs(const std::string& poller, const LeaseKey& key, int64_t counter,
                            Checkpoint cp) {
    return table_->Checkpoint(key, poller, counter, cp).status();
  }
  // Advances the clock by `d` in steps of at most 5 s, each followed by a heartbeat of every one
  // of `pollers` (so they stay live).
  void Tick(absl::Duration d, const std::vector<std::string>& pollers) {
    while (d > absl::ZeroDuration()) {
      const absl::Duration step = std::min(d, absl::Seconds(5));
      clock_.Advance(step);
      d -= step;
      for (const std::string& p : pollers) Heartbeat(p);
    }
  }
  // Releases what the heartbeat reply asks back, as a well-behaved poller does.
  int ReleaseAsAsked(const std::string& poller) {
    HeartbeatResult hb = Heartbeat(poller);
    for (const LeaseKey& key : hb.to_release) {
      EXPECT_TRUE(table_->ReleaseLease(key, poller, Counter(key)).ok());
    }
    return static_cast<int>(hb.to_release.size());
  }

  FakeClock clock_;
  LeaseTableOptions options_{absl::Seconds(10), absl::Seconds(30), false};
  std::string dir_;  // where the store keeps its rows (testing/test_lease_store.h)
  std::unique_ptr<LeaseStore> base_;
  std::unique_ptr<testing::FailingLeaseStore> store_;
  std::unique_ptr<LeaseTable> table_;
};

// ---- Assignment ----

TEST_F(LeaseTableTest, AcquireGrantsUpToCapacity) {
  CreateLeases(10);
  Register("p1", 3);
  const int writes = store_->writes();
  std::vector<LeaseKey> granted = Acquire("p1");
  ASSERT_THAT(granted, SizeIs(3));
  EXPECT_EQ(store_->writes(), writes + 1);  // every grant and the heartbeat: one write
  for (const LeaseKey& key : granted) {
    EXPECT_EQ(Owner(key), "p1");
    EXPECT_EQ(Counter(key), 1);
    EXPECT_EQ(Get(key).record.owner_switches_since_checkpoint, 1);
  }
  EXPECT_THAT(Acquire("p1"), IsEmpty());
  EXPECT_EQ(Owned("p1"), 3);
}

TEST_F(LeaseTableTest, AcquireReturnsLeasesWithCheckpointsAndCounters) {
  NewLease nl;
  nl.key = Key("shardId-000000000000");
  nl.stream_name = "orders";
  nl.initial_checkpoint = Checkpoint{CheckpointType::kAtTimestamp, 0, absl::FromUnixSeconds(77)};
  ASSERT_TRUE(table_->CreateLeases({nl}).ok());
  Register("p1");
  absl::StatusOr<std::vector<Lease>> granted = table_->AcquireLeases("p1");
  ASSERT_TRUE(granted.ok());
  ASSERT_THAT(*granted, SizeIs(1));
  EXPECT_EQ((*granted)[0].record.checkpoint, nl.initial_checkpoint);
  EXPECT_EQ((*granted)[0].record.lease_counter, 1);
  EXPECT_EQ((*granted)[0].record.stream_name, "orders");
  EXPECT_FALSE((*granted)[0].expired);
}

TEST_F(LeaseTableTest, AcquireTakesOnlyTheFairShareWhenOthersAreLive) {
  CreateLeases(10);
  Register("p1");
  Register("p2");
  Register("p3");
  EXPECT_THAT(Acquire("p1"), SizeIs(4));  // ceil(10 / 3)
  EXPECT_THAT(Acquire("p2"), SizeIs(4));
  EXPECT_THAT(Acquire("p3"), SizeIs(2));
}

TEST_F(LeaseTableTest, SmallCapacityLeavesItsShareToOthers) {
  CreateLeases(10);
  Register("small", 2);
  Register("big", 100);
  EXPECT_THAT(Acquire("small"), SizeIs(2));
  EXPECT_THAT(Acquire("big"), SizeIs(8));
}

TEST_F(LeaseTableTest, CreateLeasesIsIdempotentAndKeepsState) {
  CreateLeases(2);
  Register("p1");
  std::vector<LeaseKey> granted = Acquire("p1");
  ASSERT_THAT(granted, SizeIs(2));
  ASSERT_TRUE(CheckpointAs("p1", granted[0], 1, SequenceNumber(42)).ok());
  const std::string before = Dump(*table_);
  NewLease again;
  again.key = granted[0];
  again.initial_checkpoint = Checkpoint{CheckpointType::kLatest, 0, absl::UnixEpoch()};
  absl::StatusOr<int> created = table_->CreateLeases({again});
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(*created, 0);
  EXPECT_EQ(Dump(*table_), before);
}

TEST_F(LeaseTableTest, CreateLeasesAddsMissingParentLinks) {
  CreateLease("parent");
  CreateLease("child");
  EXPECT_TRUE(Get(Key("child")).assignable);
  CreateLease("child", {"parent"});
  EXPECT_THAT(Get(Key("child")).record.parent_shard_ids, ElementsAre("parent"));
  EXPECT_THAT(Get(Key("parent")).record.child_shard_ids, ElementsAre("child"));
  EXPECT_FALSE(Get(Key("child")).assignable);
}

// ---- Expiry ----

TEST_F(LeaseTableTest, LeaseStaysWithAnOwnerThatHeartbeats) {
  CreateLeases(4);
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(4));
  Register("p2");
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Seconds(9));
    Heartbeat("p1");
    Heartbeat("p2");
    EXPECT_THAT(Acquire("p2"), IsEmpty());
  }
  EXPECT_FALSE(Get(Key(Shard(0))).expired);
  EXPECT_EQ(Owned("p1"), 4);
}

TEST_F(LeaseTableTest, ExpiredLeasesAreReassignedWithANewCounter) {
  CreateLeases(4);
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(4));
  Register("p2");
  clock_.Advance(absl::Seconds(5));
  Heartbeat("p2");
  clock_.Advance(absl::Seconds(4));
  EXPECT_FALSE(Get(Key(Shard(0))).expired);
  EXPECT_THAT(Acquire("p2"), IsEmpty());
  clock_.Advance(absl::Seconds(1));  // p1's last heartbeat is now 10 s old
  EXPECT_TRUE(Get(Key(Shard(0))).expired);
  EXPECT_THAT(Acquire("p2"), SizeIs(4));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Owner(Key(Shard(i))), "p2");
    EXPECT_EQ(Counter(Key(Shard(i))), 2);
    EXPECT_EQ(Get(Key(Shard(i))).record.owner_switches_since_checkpoint, 2);
    EXPECT_FALSE(Get(Key(Shard(i))).expired);
  }
  // p1 comes back: its heartbeat says it owns nothing.
  EXPECT_THAT(Heartbeat("p1").owned, IsEmpty());
}

TEST_F(LeaseTableTest, ExpiredOwnerThatHeartbeatsAgainBeforeATakeoverKeepsItsLeases) {
  CreateLeases(2);
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(2));
  clock_.Advance(absl::Seconds(15));
  EXPECT_TRUE(Get(Key(Shard(0))).expired);
  EXPECT_THAT(Heartbeat("p1").owned, SizeIs(2));
  EXPECT_FALSE(Get(Key(Shard(0))).expired);
  EXPECT_EQ(Counter(Key(Shard(0))), 1);
}

TEST_F(LeaseTableTest, HeartbeatReportsOwnedLeasesAndExpiration) {
  CreateLeases(2);
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(2));
  clock_.Advance(absl::Seconds(3));
  HeartbeatResult hb = Heartbeat("p1");
  ASSERT_THAT(hb.owned, SizeIs(2));
  EXPECT_EQ(hb.owned[0].lease_counter, 1);
  EXPECT_EQ(hb.lease_expiration, clock_.Now() + absl::Seconds(10));
  EXPECT_THAT(hb.to_release, IsEmpty());
  EXPECT_EQ(Get(Key(Shard(0))).last_renewal_time, clock_.Now());
}

TEST_F(LeaseTableTest, HeartbeatWritesOnePollerRowWhateverItHolds) {
  CreateLeases(50);
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(50));
  const int before = store_->writes();
  Heartbeat("p1");
  EXPECT_EQ(store_->writes(), before + 1);
  LeaseStoreWrite w = store_->last_write();
  EXPECT_THAT(w.renew_pollers, SizeIs(1));  // a renewal (etcd: a keepalive, no Txn)
  EXPECT_THAT(w.put_pollers, IsEmpty());
  EXPECT_THAT(w.put_leases, IsEmpty());
  EXPECT_FALSE(w.sync);
}

TEST_F(LeaseTableTest, IteratorAgesAreKeptForOwnedLeasesOnly) {
  CreateLeases(2);
  Register("p1", 1);
  Register("p2", 1);
  std::vector<LeaseKey> mine = Acquire("p1");
  std::vector<LeaseKey> theirs = Acquire("p2");
  ASSERT_THAT(mine, SizeIs(1));
  ASSERT_THAT(theirs, SizeIs(1));
  ASSERT_TRUE(table_->Heartbeat("p1", {{mine[0], 1500}, {theirs[0], 999}}).ok());
  EXPECT_EQ(Get(mine[0]).iterator_age_ms, 1500);
  EXPECT_EQ(Get(theirs[0]).iterator_age_ms, 0);
  Restart();
  EXPECT_EQ(Get(mine[0]).iterator_age_ms, 0);  // memory only
}

// A heartbeat's progress report on `key` with a processing result observed at `at`.
LeaseProgress ResultReport(const LeaseKey& key, const std::string& result, absl::Time at) {
  LeaseProgress p{key, 0};
  p.last_processing_result = result;
  p.last_processing_result_time = at;
  return p;
}

TEST_F(LeaseTableTest, ProcessingResultIsKeptReturnedAndReplacedByTheOwnersNextReport) {
  CreateLeases(1);
  Register("p1");
  const LeaseKey key = Acquire("p1").at(0);
  EXPECT_EQ(Get(key).last_processing_result, "");
  EXPECT_EQ(Get(key).last_processing_result_time, absl::InfinitePast());

  const absl::Time failed_at = clock_.Now() - absl::Milliseconds(300);
  ASSERT_TRUE(
      table_->Heartbeat("p1", {ResultReport(key, "PROBLEM: Function call failed", failed_at)})
          .ok());
  EXPECT_EQ(Get(key).last_processing_result, "PROBLEM: Function call failed");
  EXPECT_EQ(Get(key).last_processing_result_time, failed_at);
  absl::StatusOr<LeasePage> page = table_->ListLeases({}, 10, "");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->leases.at(0).last_processing_result, "PROBLEM: Function call failed");

  // An age-only report (no result) keeps the stored result.
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(table_->Heartbeat("p1", {{key, 700}}).ok());
  EXPECT_EQ(Get(key).last_processing_result, "PROBLEM: Function call failed");
  EXPECT_EQ(Get(key).last_processing_result_time, failed_at);

  const absl::Time ok_at = clock_.Now();
  ASSERT_TRUE(table_->Heartbeat("p1", {ResultReport(key, "OK", ok_at)}).ok());
  EXPECT_EQ(Get(key).last_processing_result, "OK");
  EXPECT_EQ(Get(key).last_processing_result_time, ok_at);

  Restart();
  EXPECT_EQ(Get(key).last_processing_result, "") << "memory only";
}

TEST_F(LeaseTableTest, ProcessingResultWithoutATimeIsStampedWithTheHeartbeatsTime) {
  CreateLeases(1);
  Register("p1");
  const LeaseKey key = Acquire("p1").at(0);
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(table_->Heartbeat("p1", {ResultReport(key, "OK", absl::InfinitePast())}).ok());
  EXPECT_EQ(Get(key).last_processing_result_time, clock_.Now());
}

TEST_F(LeaseTableTest, ProcessingResultOutlivesAnOwnerChangeAndIgnoresTheFencedOutOwner) {
  CreateLeases(1);
  Register("p1");
  const LeaseKey key = Acquire("p1").at(0);
  const absl::Time p1_failed_at = clock_.Now();
  ASSERT_TRUE(
      table_->Heartbeat("p1", {ResultReport(key, "PROBLEM: Function call failed", p1_failed_at)})
          .ok());
  // p1 goes silent; p2 takes the lease over (a new counter).
  Register("p2");
  clock_.Advance(absl::Seconds(11));
  ASSERT_THAT(Acquire("p2"), ElementsAre(key));
  EXPECT_EQ(Get(key).last_processing_result, "PROBLEM: Function call failed")
      << "an owner change clears nothing";
  EXPECT_EQ(Get(key).iterator_age_ms, 0);

  // p1 wakes up and reports, fenced out: ignored, like its iterator age.
  LeaseProgress stale = ResultReport(key, "OK", clock_.Now());
  stale.iterator_age_ms = 900;
  ASSERT_TRUE(table_->Heartbeat("p1", {stale}).ok());
  EXPECT_EQ(Get(key).last_processing_result, "PROBLEM: Function call failed");
  EXPECT_EQ(Get(key).last_processing_result_time, p1_failed_at);
  EXPECT_EQ(Get(key).iterator_age_ms, 0);

  // The new owner's report replaces it.
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(table_->Heartbeat("p2", {ResultReport(key, "OK", clock_.Now())}).ok());
  EXPECT_EQ(Get(key).last_processing_result, "OK");
  EXPECT_EQ(Get(key).last_processing_result_time, clock_.Now());
}

// A heartbeat's progress report on `key` with an error of `kind` seen at `at`.
LeaseProgress ErrorReport(const LeaseKey& key, const std::string& kind, const std::string& message,
                          absl::Time at) {
  LeaseProgress p{key, 0};
  p.last_error = LeaseError{kind, message, at};
  return p;
}

TEST_F(LeaseTableTest, LastErrorIsKeptReplacedByTheOwnerAndOutlivesAnOwnerChange) {
  CreateLeases(1);
  Register("p1");
  const LeaseKey key = Acquire("p1").at(0);
  EXPECT_EQ(Get(key).last_error.kind, "");
  const absl::Time timed_out_at = clock_.Now() - absl::Milliseconds(300);
  ASSERT_TRUE(
      table_
          ->Heartbeat("p1", {ErrorReport(key, "Timeout", "DEADLINE_EXCEEDED: late", timed_out_at)})
          .ok());
  EXPECT_EQ(Get(key).last_error.kind, "Timeout");
  EXPECT_EQ(Get(key).last_error.message, "DEADLINE_EXCEEDED: late");
  EXPECT_EQ(Get(key).last_error.time, timed_out_at);
  ASSERT_TRUE(table_->Heartbeat("p1", {{key, 700}}).ok());
  EXPECT_EQ(Get(key).last_error.kind, "Timeout") << "a report without an error keeps it";

  // Without a time: the heartbeat's.
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(
      table_->Heartbeat("p1", {ErrorReport(key, "FunctionError", "boom", absl::InfinitePast())})
          .ok());
  EXPECT_EQ(Get(key).last_error.kind, "FunctionError");
  EXPECT_EQ(Get(key).last_error.time, clock_.Now());

  // p1 goes silent; p2 takes over: the error stays, p1's late report is ignored.
  Register("p2");
  clock_.Advance(absl::Seconds(11));
  ASSERT_THAT(Acquire("p2"), ElementsAre(key));
  ASSERT_TRUE(
      table_->Heartbeat("p1", {ErrorReport(key, "ConnectionError", "stale", clock_.Now())}).ok());
  EXPECT_EQ(Get(key).last_error.kind, "FunctionError");
  EXPECT_EQ(Get(key).last_error.message, "boom");
  Restart();
  EXPECT_EQ(Get(key).last_error.kind, "") << "memory only";
}

TEST_F(LeaseTableTest, IteratorAgeIsUnknownWhileNobodyWorksOnTheShard) {
  CreateLeases(2);
  EXPECT_EQ(Get(Key(Shard(0))).iterator_age_ms, std::nullopt) << "never owned";
  Register("p1", 1);
  const LeaseKey key = Acquire("p1").at(0);
  EXPECT_EQ(Get(key).iterator_age_ms, 0) << "a new owner starts at 0";
  ASSERT_TRUE(table_->Heartbeat("p1", {{key, 1500}}).ok());
  EXPECT_EQ(Get(key).iterator_age_ms, 1500);
  clock_.Advance(absl::Seconds(11));  // p1 misses its heartbeats
  EXPECT_TRUE(Get(key).expired);
  EXPECT_EQ(Get(key).iterator_age_ms, std::nullopt) << "expired owner: unknown";
  ASSERT_TRUE(table_->Heartbeat("p1", {{key, 1600}}).ok());  // back
  EXPECT_EQ(Get(key).iterator_age_ms, 1600);
  ASSERT_TRUE(table_->ReleaseLease(key, "p1", Counter(key)).ok());
  EXPECT_EQ(Get(key).iterator_age_ms, std::nullopt) << "released: unknown";
}

TEST_F(LeaseTableTest, SummaryHasTheNewestResultAndTheNewestErrorOfEachMapping) {
  CreateLeases(3);
  CreateLeases(1, "other");
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(4));
  const absl::Time t = clock_.Now();
  ASSERT_TRUE(
      table_
          ->Heartbeat("p1", {ResultReport(Key(Shard(0)), "OK", t),
                             ResultReport(Key(Shard(1)), "PROBLEM: Function timed out", t),
                             ResultReport(Key(Shard(2)), "OK", t - absl::Seconds(1)),
                             ErrorReport(Key(Shard(0)), "Timeout", "old", t - absl::Seconds(5)),
                             ErrorReport(Key(Shard(2)), "FunctionError", "new", t)})
          .ok());
  std::vector<MappingSummary> summaries = table_->SummarizeLeases({kMapping, "other", "unknown"});
  ASSERT_THAT(summaries, SizeIs(3));
  EXPECT_EQ(summaries[0].mapping_uuid, kMapping);
  EXPECT_EQ(summaries[0].last_processing_result, "PROBLEM: Function timed out")
      << "a PROBLEM wins a tie with OK";
  EXPECT_EQ(summaries[0].last_processing_result_time, t);
  EXPECT_EQ(summaries[0].last_error.kind, "FunctionError");
  EXPECT_EQ(summaries[0].last_error.message, "new");
  EXPECT_EQ(summaries[0].last_error_shard_id, Shard(2));
  EXPECT_EQ(summaries[1].mapping_uuid, "other");
  EXPECT_EQ(summaries[1].last_processing_result, "") << "nothing reported";
  EXPECT_EQ(summaries[1].last_error.kind, "");
  EXPECT_EQ(summaries[2].mapping_uuid, "unknown");
  EXPECT_EQ(summaries[2].last_processing_result, "");

  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(table_->Heartbeat("p1", {ResultReport(Key(Shard(2)), "OK", clock_.Now())}).ok());
  EXPECT_EQ(table_->SummarizeLeases({kMapping}).at(0).last_processing_result, "OK")
      << "a newer success";
}

// ---- Fencing ----

class FencingTest : public LeaseTableTest {
 protected:
  void SetUp() override {
    LeaseTableTest::SetUp();
    CreateLeases(1);
    Register("p1");
    Register("p2");
    ASSERT_THAT(Acquire("p1"), SizeIs(1));
    ASSERT_TRUE(CheckpointAs("p1", key_, 1, SequenceNumber(100)).ok());
  }
  const LeaseKey key_ = Key(Shard(0));
};

TEST_F(FencingTest, CheckpointWithStaleCounterIsRejected) {
  absl::Status s = CheckpointAs("p1", key_, 0, SequenceNumber(200));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("lease_counter"));
  EXPECT_EQ(Get(key_).record.checkpoint, SequenceNumber(100));
}

TEST_F(FencingTest, CheckpointByNonOwnerIsRejected) {
  absl::Status s = CheckpointAs("p2", key_, 1, SequenceNumber(200));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(Get(key_).record.checkpoint, SequenceNumber(100));
  EXPECT_EQ(Owner(key_), "p1");
}

TEST_F(FencingTest, OldOwnerAfterExpiryAndReacquisitionIsRejected) {
  clock_.Advance(absl::Seconds(6));
  Heartbeat("p2");
  clock_.Advance(absl::Seconds(6));
  ASSERT_THAT(Acquire("p2"), ElementsAre(key_));
  ASSERT_EQ(Counter(key_), 2);
  // p1 wakes up and carries on with what it had.
  absl::Status s = CheckpointAs("p1", key_, 1, SequenceNumber(300));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(table_->ReleaseLease(key_, "p1", 1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Get(key_).record.checkpoint, SequenceNumber(100));
  EXPECT_EQ(Owner(key_), "p2");
  EXPECT_TRUE(CheckpointAs("p2", key_, 2, SequenceNumber(300)).ok());
}

TEST_F(FencingTest, ReleaseWithStaleCounterOrByNonOwnerIsRejected) {
  EXPECT_EQ(table_->ReleaseLease(key_, "p1", 7).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(table_->ReleaseLease(key_, "p2", 1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Owner(key_), "p1");
  EXPECT_EQ(Counter(key_), 1);
}

TEST_F(FencingTest, ReleasedLeaseFencesItsFormerOwner) {
  ASSERT_TRUE(table_->ReleaseLease(key_, "p1", 1).ok());
  EXPECT_EQ(Owner(key_), "");
  EXPECT_EQ(Counter(key_), 2);
  EXPECT_EQ(CheckpointAs("p1", key_, 1, SequenceNumber(200)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckpointAs("p1", key_, 2, SequenceNumber(200)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Get(key_).record.checkpoint, SequenceNumber(100));
}

// ---- Checkpoints ----

TEST_F(FencingTest, CheckpointNeverMovesBackwards) {
  absl::StatusOr<Lease> l = table_->Checkpoint(key_, "p1", 1, SequenceNumber(99));
  ASSERT_TRUE(l.ok()) << l.status();  // accepted and ignored
  EXPECT_EQ(l->record.checkpoint, SequenceNumber(100));
  EXPECT_EQ(Get(key_).record.checkpoint, SequenceNumber(100));
}

TEST_F(FencingTest, CheckpointComparesSequenceNumbersAsUnsignedIntegers) {
  ASSERT_TRUE(CheckpointAs("p1", key_, 1, SequenceNumber(1000)).ok());  // "1000" < "999" as text
  EXPECT_EQ(Get(key_).record.checkpoint, SequenceNumber(1000));
  ASSERT_TRUE(CheckpointAs("p1", key_, 1, SequenceNumber(UINT64_MAX)).ok());
  ASSERT_TRUE(CheckpointAs("p1", key_, 1, SequenceNumber(1ull << 63)).ok());
  EXPECT_EQ(Get(key_).record.checkpoint, SequenceNumber(UINT64_MAX));
}

TEST_F(FencingTest, ShardEndIsFinal) {
  ASSERT_TRUE(CheckpointAs("p1", key_, 1, ShardEnd()).ok());
  ASSERT_TRUE(CheckpointAs("p1", key_, 1, SequenceNumber(500)).ok());
  EXPECT_EQ(Get(key_).record.checkpoint.type, CheckpointType::kShardEnd);
  EXPECT_FALSE(Get(key_).assignable);
  // Its holder is asked to release it.
  EXPECT_THAT(Heartbeat("p1").to_release, ElementsAre(key_));
}

TEST_F(FencingTest, CheckpointResetsOwnerSwitches) {
  clock_.Advance(absl::Seconds(11));
  Heartbeat("p2");
  ASSERT_THAT(Acquire("p2"), ElementsAre(key_));
  EXPECT_EQ(Get(key_).record.owner_switches_since_checkpoint, 1);
  ASSERT_TRUE(CheckpointAs("p2", key_, 2, SequenceNumber(101)).ok());
  EXPECT_EQ(Get(key_).record.owner_switches_since_checkpoint, 0);
}

TEST_F(FencingTest, CheckpointTypeMustBeSequenceNumberOrShardEnd) {
  for (CheckpointType t :
       {CheckpointType::kTrimHorizon, CheckpointType::kLatest, CheckpointType::kAtTimestamp}) {
    absl::Status s = CheckpointAs("p1", key_, 1, Checkpoint{t, 0, absl::UnixEpoch()});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("checkpoint.type"));
  }
  EXPECT_EQ(Get(key_).record.checkpoint, SequenceNumber(100));
}

// ---- Operator moves (issue 23) ----

TEST_F(FencingTest, MovedCheckpointFencesTheOwnersInFlightCheckpoint) {
  absl::StatusOr<LeaseTable::MovedCheckpoint> moved =
      table_->MoveCheckpoint(key_, Checkpoint{CheckpointType::kTrimHorizon, 0, absl::UnixEpoch()});
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->before.record.checkpoint, SequenceNumber(100));
  EXPECT_EQ(moved->before.record.owner, "p1");
  EXPECT_EQ(moved->after.record.owner, "");
  EXPECT_EQ(moved->after.record.lease_counter, 2);
  // p1's checkpoint in flight at its old counter cannot carry the lease past the new position.
  absl::Status s = CheckpointAs("p1", key_, 1, SequenceNumber(150));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(Get(key_).record.checkpoint.type, CheckpointType::kTrimHorizon);
  // p1's heartbeat no longer lists the lease: it stops working on it.
  EXPECT_THAT(Heartbeat("p1").owned, ::testing::IsEmpty());
}

TEST_F(FencingTest, MovedLeaseIsGrantedAgainFromTheNewPositionAndMayMoveForwardFromThere) {
  ASSERT_TRUE(table_->MoveCheckpoint(key_, SequenceNumber(40)).ok());  // backwards: replay
  absl::StatusOr<std::vector<Lease>> granted = table_->AcquireLeases("p2");
  ASSERT_TRUE(granted.ok()) << granted.status();
  ASSERT_THAT(*granted, SizeIs(1));
  EXPECT_EQ((*granted)[0].record.checkpoint, SequenceNumber(40));
  EXPECT_EQ((*granted)[0].record.lease_counter, 3);
  EXPECT_TRUE(CheckpointAs("p2", key_, 3, SequenceNumber(41)).ok());
  EXPECT_EQ(Get(key_).record.checkpoint, SequenceNumber(41));
}

TEST_F(FencingTest, SymbolicStartsAreStoredAndSurviveARestart) {
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  ASSERT_TRUE(table_->MoveCheckpoint(key_, Checkpoint{CheckpointType::kAtTimestamp, 7, t}).ok());
  Restart();
  EXPECT_EQ(Get(key_).record.checkpoint, (Checkpoint{CheckpointType::kAtTimestamp, 0, t}));
  ASSERT_TRUE(
      table_->MoveCheckpoint(key_, Checkpoint{CheckpointType::kLatest, 0, absl::UnixEpoch()}).ok());
  EXPECT_EQ(Get(key_).record.checkpoint.type, CheckpointType::kLatest);
}

TEST_F(FencingTest, MovingToShardEndOrAnUnknownLeaseIsRefused) {
  absl::StatusOr<LeaseTable::MovedCheckpoint> moved = table_->MoveCheckpoint(key_, ShardEnd());
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kInvalidArgument) << moved.status();
  EXPECT_EQ(table_->MoveCheckpoint(Key("nope"), SequenceNumber(1)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Get(key_).record.checkpoint, SequenceNumber(100));
  EXPECT_EQ(Owner(key_), "p1");
}

TEST_F(FencingTest, ShardAtItsEndMovedBackHoldsItsChildrenBack) {
  CreateLease("child", {Shard(0)});
  ASSERT_TRUE(CheckpointAs("p1", key_, 1, ShardEnd()).ok());
  ASSERT_TRUE(Get(Key("child")).assignable);
  ASSERT_TRUE(table_->MoveCheckpoint(key_, SequenceNumber(0)).ok());
  EXPECT_TRUE(Get(key_).assignable);
  EXPECT_FALSE(Get(Key("child")).assignable);
}

// ---- Parents first ----

TEST_F(LeaseTableTest, SplitChildrenWaitForTheirParent) {
  CreateLease("parent");
  CreateLease("left", {"parent"});
  CreateLease("right", {"parent"});
  EXPECT_THAT(Get(Key("parent")).record.child_shard_ids, ElementsAre("left", "right"));
  Register("p1");
  std::vector<LeaseKey> granted = Acquire("p1");
  ASSERT_THAT(granted, ElementsAre(Key("parent")));
  EXPECT_FALSE(Get(Key("left")).assignable);
  ASSERT_TRUE(CheckpointAs("p1", Key("parent"), 1, SequenceNumber(10)).ok());
  EXPECT_THAT(Acquire("p1"), IsEmpty());
  ASSERT_TRUE(CheckpointAs("p1", Key("parent"), 1, ShardEnd()).ok());
  EXPECT_TRUE(Get(Key("left")).assignable);
  EXPECT_THAT(Acquire("p1"), ElementsAre(Key("left"), Key("right")));
}

TEST_F(LeaseTableTest, MergeChildWaitsForBothParents) {
  CreateLease("a");
  CreateLease("b");
  CreateLease("merged", {"a", "b"});
  Register("p1");
  ASSERT_THAT(Acquire("p1"), ElementsAre(Key("a"), Key("b")));
  ASSERT_TRUE(CheckpointAs("p1", Key("a"), 1, ShardEnd()).ok());
  EXPECT_FALSE(Get(Key("merged")).assignable);
  EXPECT_THAT(Acquire("p1"), IsEmpty());
  ASSERT_TRUE(CheckpointAs("p1", Key("b"), 1, ShardEnd()).ok());
  EXPECT_TRUE(Get(Key("merged")).assignable);
  EXPECT_THAT(Acquire("p1"), ElementsAre(Key("merged")));
}

TEST_F(LeaseTableTest, TrimmedParentCountsAsDone) {
  CreateLease("parent");
  CreateLease("child", {"parent"});
  EXPECT_FALSE(Get(Key("child")).assignable);
  absl::StatusOr<int> deleted = table_->DeleteLeases({Key("parent")}, "");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  EXPECT_TRUE(Get(Key("child")).assignable);
  Register("p1");
  EXPECT_THAT(Acquire("p1"), ElementsAre(Key("child")));
}

TEST_F(LeaseTableTest, ParentCreatedAfterItsChildHoldsTheChildBack) {
  CreateLease("child", {"parent"});
  EXPECT_TRUE(Get(Key("child")).assignable);  // parent gone (or not yet known)
  CreateLease("parent");
  EXPECT_FALSE(Get(Key("child")).assignable);
  EXPECT_THAT(Get(Key("parent")).record.child_shard_ids, ElementsAre("child"));
}

TEST_F(LeaseTableTest, ParentsAreOnlyLookedUpInTheirOwnMapping) {
  CreateLease("parent", {}, "other-mapping");
  CreateLease("child", {"parent"});
  EXPECT_TRUE(Get(Key("child")).assignable);
}

TEST_F(LeaseTableTest, ParentAndChildrenCreatedInOneCallAreLinked) {
  NewLease parent{Key("parent"), "s", {}, {}, true};
  NewLease child{Key("child"), "s", {"parent"}, {}, true};
  ASSERT_TRUE(table_->CreateLeases({child, parent}).ok());
  EXPECT_THAT(Get(Key("parent")).record.child_shard_ids, ElementsAre("child"));
  EXPECT_FALSE(Get(Key("child")).assignable);
  EXPECT_TRUE(Get(Key("parent")).assignable);
}

// ---- Balance ----

TEST_F(LeaseTableTest, PollerJoiningGetsItsShareThroughGracefulRelease) {
  CreateLeases(10);
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(10));
  Tick(absl::Seconds(31), {"p1"});  // past the minimum hold
  Register("p2");
  EXPECT_THAT(Acquire("p2"), IsEmpty());  // nothing free: no steal
  HeartbeatResult hb = Heartbeat("p1");
  EXPECT_THAT(hb.to_release, SizeIs(5));
  EXPECT_THAT(hb.owned, SizeIs(10));  // still p1's until it releases
  EXPECT_EQ(ReleaseAsAsked("p1"), 5);
  EXPECT_THAT(Acquire("p2"), SizeIs(5));
  EXPECT_EQ(Owned("p1"), 5);
  EXPECT_THAT(Heartbeat("p1").to_release, IsEmpty());
  EXPECT_THAT(Heartbeat("p2").to_release, IsEmpty());
}

TEST_F(LeaseTableTest, PollerOverTargetDoesNotReacquireWhatItReleased) {
  CreateLeases(4);
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(4));
  Tick(absl::Seconds(31), {"p1"});
  Register("p2");
  ASSERT_EQ(ReleaseAsAsked("p1"), 2);
  EXPECT_THAT(Acquire("p1"), IsEmpty());
  EXPECT_THAT(Acquire("p2"), SizeIs(2));
}

TEST_F(LeaseTableTest, MovedLeasesAreNotMovedAgainWithinTheMinimumHold) {
  CreateLeases(12);
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(12));
  Tick(absl::Seconds(31), {"p1"});
  Register("p2");
  ASSERT_EQ(ReleaseAsAsked("p1"), 6);
  std::vector<LeaseKey> moved = Acquire("p2");
  ASSERT_THAT(moved, SizeIs(6));
  // p3 joins right away: target 4 each. p1's leases (held 31 s) may move; p2's (just moved) not.
  Register("p3");
  EXPECT_THAT(Heartbeat("p2").to_release, IsEmpty());
  EXPECT_EQ(ReleaseAsAsked("p1"), 2);
  EXPECT_THAT(Acquire("p3"), SizeIs(2));
  Tick(absl::Seconds(29), {"p1", "p3"});
  EXPECT_THAT(Heartbeat("p2").to_release, IsEmpty());
  Tick(absl::Seconds(2), {"p1", "p3"});  // p2's leases are held 31 s now
  EXPECT_EQ(ReleaseAsAsked("p2"), 2);
  EXPECT_THAT(Acquire("p3"), SizeIs(2));
  EXPECT_EQ(Owned("p1"), 4);
  EXPECT_EQ(Owned("p2"), 4);
  EXPECT_EQ(Owned("p3"), 4);
}

TEST_F(LeaseTableTest, LoweredCapacityAsksForTheExcessBack) {
  CreateLeases(10);
  Register("p1", 100);
  ASSERT_THAT(Acquire("p1"), SizeIs(10));
  Tick(absl::Seconds(31), {"p1"});
  Register("p1", 4);
  EXPECT_EQ(ReleaseAsAsked("p1"), 6);
  EXPECT_EQ(Owned("p1"), 4);
  EXPECT_THAT(Acquire("p1"), IsEmpty());
}

TEST_F(LeaseTableTest, BalancedPollersStayPut) {
  CreateLeases(9);
  for (const char* p : {"p1", "p2", "p3"}) Register(p);
  for (const char* p : {"p1", "p2", "p3"}) ASSERT_THAT(Acquire(p), SizeIs(3));
  for (int round = 0; round < 20; ++round) {
    clock_.Advance(absl::Seconds(3));
    for (const char* p : {"p1", "p2", "p3"}) {
      EXPECT_THAT(Heartbeat(p).to_release, IsEmpty());
      EXPECT_THAT(Acquire(p), IsEmpty());
    }
  }
  for (int i = 0; i < 9; ++i) EXPECT_EQ(Counter(Key(Shard(i))), 1);
}

TEST_F(LeaseTableTest, PollerLeavingHandsItsLeasesToTheOthers) {
  CreateLeases(10);
  Register("p1");
  Register("p2");
  ASSERT_THAT(Acquire("p1"), SizeIs(5));
  ASSERT_THAT(Acquire("p2"), SizeIs(5));
  absl::StatusOr<int> released = table_->DeregisterPoller("p2");
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(*released, 5);
  EXPECT_THAT(table_->ListPollers(), SizeIs(1));
  std::vector<LeaseKey> taken = Acquire("p1");  // at once: no wait for expiry
  ASSERT_THAT(taken, SizeIs(5));
  for (const LeaseKey& key : taken) EXPECT_EQ(Counter(key), 3);  // granted, released, granted
}

TEST_F(LeaseTableTest, DeadPollerStopsCountingTowardTheShare) {
  CreateLeases(10);
  Register("p1");
  Register("p2");
  ASSERT_THAT(Acquire("p1"), SizeIs(5));
  ASSERT_THAT(Acquire("p2"), SizeIs(5));
  clock_.Advance(absl::Seconds(10));  // p2 goes silent; p1 acquires (a heartbeat) and takes all
  EXPECT_THAT(Acquire("p1"), SizeIs(5));
  EXPECT_EQ(Owned("p1"), 10);
}

std::vector<std::string> PollerIds(LeaseTable& table) {
  std::vector<std::string> ids;
  for (const PollerInfo& p : table.ListPollers()) ids.push_back(p.poller_id);
  return ids;
}

TEST_F(LeaseTableTest, PollerSilentForAnHourIsForgottenWithItsLeasesReleased) {
  CreateLeases(2);
  Register("crashed");
  ASSERT_THAT(Acquire("crashed"), SizeIs(2));
  Register("alive");
  // Just under the hour: silent, expired, still registered.
  Tick(absl::Hours(1) - absl::Seconds(5), {"alive"});
  EXPECT_THAT(Acquire("alive"), SizeIs(2)) << "expired leases move as before";
  EXPECT_THAT(PollerIds(*table_), ElementsAre("alive", "crashed"));
  // The sweep runs at most once per lease duration: forgotten within one more.
  Tick(absl::Seconds(10), {"alive"});
  Acquire("alive");
  EXPECT_THAT(PollerIds(*table_), ElementsAre("alive"));
  EXPECT_EQ(Owned("alive"), 2) << "what it took over is untouched";
  absl::StatusOr<HeartbeatResult> back = table_->Heartbeat("crashed");
  EXPECT_EQ(back.status().code(), absl::StatusCode::kNotFound) << "told to register again";
}

TEST_F(LeaseTableTest, ForgottenPollerLeasesAreReleasedWithANewCounter) {
  CreateLeases(1);
  Register("crashed");
  ASSERT_THAT(Acquire("crashed"), SizeIs(1));
  const int64_t counter = Counter(Key(Shard(0)));
  // Nobody else is there to take the lease over while the poller is silent.
  clock_.Advance(absl::Hours(1));
  Register("late");
  store_->FailNthWrite(1);  // the sweep's write
  EXPECT_EQ(table_->AcquireLeases("late").status().code(), absl::StatusCode::kUnavailable)
      << "a failed sweep fails the call";
  EXPECT_THAT(PollerIds(*table_), ElementsAre("crashed", "late")) << "and changes nothing";
  EXPECT_EQ(Owner(Key(Shard(0))), "crashed");
  ASSERT_THAT(Acquire("late"), SizeIs(1));
  EXPECT_THAT(PollerIds(*table_), ElementsAre("late"));
  EXPECT_EQ(Owner(Key(Shard(0))), "late");
  EXPECT_EQ(Counter(Key(Shard(0))), counter + 2) << "released (+1), then granted (+1)";
  EXPECT_EQ(CheckpointAs("crashed", Key(Shard(0)), counter, SequenceNumber(9)).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(LeaseTableTest, RestartDoesNotForgetPollersThatWereSilentOnlyWhileLeasingWasDown) {
  CreateLeases(2);
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(2));
  clock_.Advance(absl::Hours(3));  // leasing down for three hours
  Restart();
  Register("p2");
  Acquire("p2");
  EXPECT_THAT(PollerIds(*table_), ElementsAre("p1", "p2"));
  EXPECT_EQ(Owned("p1"), 2) << "still registered and live (restart grace): keeps its leases";
}

TEST_F(LeaseTableTest, ForgetPollerAfterShorterThanTheLeaseDurationIsRejected) {
  LeaseTableOptions options = options_;
  options.forget_poller_after = options.lease_duration - absl::Seconds(1);
  EXPECT_EQ(LeaseTable::Create(clock_, *store_, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- Wall-clock steps (issue 14, item 10) ----
// Liveness, min_hold, forgetting and the restart grace run on the monotonic clock: an NTP step
// of the wall clock neither expires nor extends anything. (Each test below failed while they ran
// on the wall clock.)

TEST_F(LeaseTableTest, WallStepForwardDoesNotExpireAPollerThatHeartbeatsOnSchedule) {
  CreateLeases(2);
  Register("p1");
  Register("p2");
  ASSERT_THAT(Acquire("p1"), SizeIs(1));
  ASSERT_THAT(Acquire("p2"), SizeIs(1));
  Tick(absl::Seconds(3), {"p1", "p2"});
  clock_.StepWallClock(absl::Hours(1));
  EXPECT_FALSE(Get(Key(Shard(0))).expired);
  EXPECT_FALSE(Get(Key(Shard(1))).expired);
  for (const PollerInfo& p : table_->ListPollers()) EXPECT_TRUE(p.live) << p.poller_id;
  Tick(absl::Seconds(3), {"p1"});
  EXPECT_THAT(Acquire("p2"), IsEmpty()) << "p1's lease moved although p1 heartbeats";
  EXPECT_EQ(Owner(Key(Shard(0))), "p1");
  EXPECT_EQ(Counter(Key(Shard(0))), 1);
}

TEST_F(LeaseTableTest, WallStepBackDoesNotExtendASilentPoller) {
  CreateLeases(1);
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(1));
  Register("p2");
  clock_.StepWallClock(-absl::Hours(1));
  Tick(absl::Seconds(10), {"p2"});  // p1 silent for the lease duration
  EXPECT_TRUE(Get(Key(Shard(0))).expired);
  EXPECT_THAT(Acquire("p2"), ElementsAre(Key(Shard(0))));
}

TEST_F(LeaseTableTest, WallStepForwardDoesNotForgetPollers) {
  CreateLeases(1);
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(1));
  clock_.StepWallClock(absl::Hours(2));
  Register("p2");
  Acquire("p2");
  EXPECT_THAT(PollerIds(*table_), ElementsAre("p1", "p2"));
  EXPECT_EQ(Owner(Key(Shard(0))), "p1");
}

TEST_F(LeaseTableTest, WallStepForwardDoesNotCutTheMinimumHold) {
  CreateLeases(4);
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(4));
  Register("p2");  // p1's target is 2 now, but it has held its leases for less than min_hold
  clock_.StepWallClock(absl::Hours(1));
  Heartbeat("p2");
  EXPECT_THAT(Heartbeat("p1").to_release, IsEmpty());
  Tick(absl::Seconds(31), {"p1", "p2"});
  EXPECT_EQ(ReleaseAsAsked("p1"), 2);
}

TEST_F(LeaseTableTest, WallStepForwardDoesNotCutTheRestartGrace) {
  CreateLeases(2);
  Register("p1");
  Register("p2");
  ASSERT_THAT(Acquire("p1"), SizeIs(1));
  ASSERT_THAT(Acquire("p2"), SizeIs(1));
  Restart();
  clock_.StepWallClock(absl::Hours(1));
  Heartbeat("p2");
  EXPECT_FALSE(Get(Key(Shard(0))).expired);
  EXPECT_THAT(Acquire("p2"), IsEmpty());
  clock_.Advance(absl::Seconds(10));  // one lease duration after the open, by the monotonic clock
  EXPECT_THAT(Acquire("p2"), ElementsAre(Key(Shard(0))));
}

TEST_F(LeaseTableTest, StoredHeartbeatFromBeforeAWallStepBackDoesNotStretchTheRestartGrace) {
  CreateLeases(1);
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(1));
  clock_.StepWallClock(-absl::Hours(1));  // p1's stored heartbeat is an hour "in the future" now
  Restart();
  Register("p2");
  Tick(absl::Seconds(10), {"p2"});
  EXPECT_TRUE(Get(Key(Shard(0))).expired);
  EXPECT_THAT(Acquire("p2"), ElementsAre(Key(Shard(0))));
}

TEST_F(LeaseTableTest, DisabledMappingIsNotAssignableAndHoldersAreToldToRelease) {
  CreateLeases(3);
  CreateLeases(3, "mapping-2");
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(6));
  ASSERT_TRUE(CheckpointAs("p1", Key(Shard(0)), 1, SequenceNumber(5)).ok());
  absl::StatusOr<int> count = table_->SetMappingEnabled(kMapping, false);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 3);
  EXPECT_FALSE(Get(Key(Shard(0))).assignable);
  EXPECT_FALSE(Get(Key(Shard(0))).record.enabled);
  EXPECT_TRUE(Get(Key(Shard(0), "mapping-2")).assignable);
  EXPECT_THAT(Heartbeat("p1").to_release, ElementsAre(Key(Shard(0)), Key(Shard(1)), Key(Shard(2))));
  EXPECT_EQ(ReleaseAsAsked("p1"), 3);
  EXPECT_THAT(Acquire("p1"), IsEmpty());
  ASSERT_TRUE(table_->SetMappingEnabled(kMapping, true).ok());
  EXPECT_THAT(Acquire("p1"), SizeIs(3));
  EXPECT_EQ(Get(Key(Shard(0))).record.checkpoint, SequenceNumber(5));
}

TEST_F(LeaseTableTest, DeleteMappingDeletesEveryLeaseOfIt) {
  CreateLeases(3);
  CreateLeases(2, "mapping-2");
  absl::StatusOr<int> deleted = table_->DeleteLeases({Key("missing")}, kMapping);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 3);
  absl::StatusOr<LeasePage> page = table_->ListLeases({}, 100, "");
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->leases, SizeIs(2));
  EXPECT_EQ(table_->GetLease(Key(Shard(0))).status().code(), absl::StatusCode::kNotFound);
}

// ---- Listing ----

TEST_F(LeaseTableTest, ListLeasesFiltersAndPages) {
  CreateLeases(5);
  CreateLeases(5, "mapping-2");
  Register("p1", 3);
  ASSERT_THAT(Acquire("p1"), SizeIs(3));
  auto list_all = [&](LeaseFilter filter, int page_size) {
    std::vector<LeaseKey> keys;
    std::string token;
    int pages = 0;
    do {
      absl::StatusOr<LeasePage> page = table_->ListLeases(filter, page_size, token);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok() || ++pages > 100) break;
      for (const Lease& l : page->leases) keys.push_back(l.record.key);
      token = page->next_token;
    } while (!token.empty());
    return keys;
  };
  EXPECT_THAT(list_all({}, 3), SizeIs(10));
  std::vector<LeaseKey> m2 = list_all({"mapping-2", "", ""}, 2);
  ASSERT_THAT(m2, SizeIs(5));
  for (const LeaseKey& k : m2) EXPECT_EQ(k.mapping_uuid, "mapping-2");
  EXPECT_THAT(list_all({"", "p1", ""}, 1), SizeIs(3));
  EXPECT_THAT(list_all({"", "", Shard(1)}, 1),
              ElementsAre(Key(Shard(1)), Key(Shard(1), "mapping-2")));
  absl::StatusOr<LeasePage> exact = table_->ListLeases({"mapping-2", "", ""}, 5, "");
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->next_token, "");  // the last page says so
}

// ---- Bad input ----

TEST_F(LeaseTableTest, BadInputIsRejectedWithTheFieldNamed) {
  struct Case {
    std::string name;
    absl::Status status;
    absl::StatusCode code;
    std::string field;
  };
  CreateLeases(1);
  Register("p1");
  NewLease no_mapping{{"", "s"}, "", {}, {}, true};
  NewLease no_shard{{"m", ""}, "", {}, {}, true};
  NewLease self_parent{{"m", "s"}, "", {"s"}, {}, true};
  NewLease empty_parent{{"m", "s"}, "", {""}, {}, true};
  std::vector<Case> cases = {
      {"empty mapping", table_->CreateLeases({no_mapping}).status(),
       absl::StatusCode::kInvalidArgument, "event_source_mapping_uuid"},
      {"empty shard", table_->CreateLeases({no_shard}).status(), absl::StatusCode::kInvalidArgument,
       "shard_id"},
      {"own parent", table_->CreateLeases({self_parent}).status(),
       absl::StatusCode::kInvalidArgument, "parent_shard_ids"},
      {"empty parent", table_->CreateLeases({empty_parent}).status(),
       absl::StatusCode::kInvalidArgument, "parent_shard_ids"},
      {"empty poller", table_->RegisterPoller("", 1), absl::StatusCode::kInvalidArgument,
       "poller_id"},
      {"capacity 0", table_->RegisterPoller("p9", 0), absl::StatusCode::kInvalidArgument,
       "capacity"},
      {"unknown poller heartbeat", table_->Heartbeat("nobody").status(),
       absl::StatusCode::kNotFound, "nobody"},
      {"unknown poller acquire", table_->AcquireLeases("nobody").status(),
       absl::StatusCode::kNotFound, "nobody"},
      {"unknown poller deregister", table_->DeregisterPoller("nobody").status(),
       absl::StatusCode::kNotFound, "nobody"},
      {"unknown lease get", table_->GetLease(Key("nope")).status(), absl::StatusCode::kNotFound,
       "nope"},
      {"unknown lease release", table_->ReleaseLease(Key("nope"), "p1", 1),
       absl::StatusCode::kNotFound, "nope"},
      {"unknown lease checkpoint",
       table_->Checkpoint(Key("nope"), "p1", 1, SequenceNumber(1)).status(),
       absl::StatusCode::kNotFound, "nope"},
      {"bad page token", table_->ListLeases({}, 10, "!!").status(),
       absl::StatusCode::kInvalidArgument, "next_token"},
      {"zero max_results", table_->ListLeases({}, 0, "").status(),
       absl::StatusCode::kInvalidArgument, "max_results"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), c.code) << c.name << ": " << c.status;
    EXPECT_THAT(std::string(c.status.message()), ::testing::HasSubstr(c.field)) << c.name;
  }
  EXPECT_THAT(table_->ListPollers(), SizeIs(1));  // nothing registered by the bad calls
}

TEST(LeaseTableOptionsTest, BadOptionsAreRejected) {
  FakeClock clock;
  auto store = testing::OpenTestLeaseStore(testing::NewTestLeaseStoreLocation());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(LeaseTable::Create(clock, **store, {absl::ZeroDuration(), absl::Seconds(1), false})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LeaseTable::Create(clock, **store, {absl::Seconds(1), -absl::Seconds(1), false})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- Concurrency ----

TEST_F(LeaseTableTest, ConcurrentAcquiresNeverGiveALeaseTwoOwners) {
  constexpr int kLeases = 200;
  constexpr int kThreads = 8;
  CreateLeases(kLeases);
  Register("first", 1000);
  ASSERT_THAT(Acquire("first"), SizeIs(kLeases));
  clock_.Advance(absl::Seconds(10));  // "first" is dead: every lease is up for grabs at once
  for (int t = 0; t < kThreads; ++t) Register(absl::StrCat("p", t), 1000);
  std::vector<std::vector<LeaseKey>> grants(kThreads);
  absl::Barrier* start = new absl::Barrier(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string id = absl::StrCat("p", t);
      if (start->Block()) delete start;
      for (int i = 0; i < 20; ++i) {
        absl::StatusOr<std::vector<Lease>> granted = table_->AcquireLeases(id);
        ASSERT_TRUE(granted.ok()) << granted.status();
        for (const Lease& l : *granted) {
          EXPECT_EQ(l.record.owner, id);
          grants[t].push_back(l.record.key);
        }
        ASSERT_TRUE(table_->Heartbeat(id).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<LeaseKey> all;
  size_t total = 0;
  for (int t = 0; t < kThreads; ++t) {
    total += grants[t].size();
    all.insert(grants[t].begin(), grants[t].end());
    // What a poller was granted is what it owns: nobody took it from a live poller.
    std::vector<LeaseKey> owned;
    for (const HeldLease& h : Heartbeat(absl::StrCat("p", t)).owned) owned.push_back(h.key);
    EXPECT_THAT(owned, UnorderedElementsAreArray(grants[t]));
  }
  EXPECT_EQ(total, all.size()) << "a lease was granted twice";
  EXPECT_EQ(all.size(), static_cast<size_t>(kLeases));
  for (int i = 0; i < kLeases; ++i) EXPECT_EQ(Counter(Key(Shard(i))), 2);
}

// ---- Group commit ----

// A store that passes writes through to `base`, and can hold one write until released, so that
// a test knows other calls arrive while a write is in flight.
class GateStore : public LeaseStore {
 public:
  explicit GateStore(LeaseStore& base) : base_(base) {}
  void HoldNextWrite() {
    absl::MutexLock lock(&mu_);
    hold_next_ = true;
  }
  // Blocks (real time, a failure guard) until a write is held.
  [[nodiscard]] ::testing::AssertionResult WaitUntilHeld() {
    return tributary::testing::IsOk(AwaitFor(
        mu_, absl::Seconds(10), "a held write",
        [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return held_; },
        [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return absl::StrCat(writes_, " writes, none held");
        }));
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }
  int writes() {
    absl::MutexLock lock(&mu_);
    return writes_;
  }
  absl::Status Write(const LeaseStoreWrite& write) override {
    {
      absl::MutexLock lock(&mu_);
      ++writes_;
      if (hold_next_) {
        hold_next_ = false;
        held_ = true;
        auto released = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !held_; };
        mu_.Await(absl::Condition(&released));
      }
    }
    return base_.Write(write);
  }
  absl::StatusOr<LeaseStoreContents> Load() override { return base_.Load(); }

 private:
  LeaseStore& base_;
  absl::Mutex mu_;
  bool hold_next_ ABSL_GUARDED_BY(mu_) = false;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
};

class GroupCommitTest : public LeaseTableTest {
 protected:
  static constexpr int kWaiting = 6;

  void SetUp() override {
    LeaseTableTest::SetUp();
    CreateLeases(kWaiting + 1);
    Register("p1");
    ASSERT_THAT(Acquire("p1"), SizeIs(kWaiting + 1));
    // A table of its own over the same rows, writing through the gate.
    gate_ = std::make_unique<GateStore>(*store_);
    auto table = LeaseTable::Create(clock_, *gate_, options_);
    ASSERT_TRUE(table.ok()) << table.status();
    gated_ = std::move(table).value();
  }

  // Checkpoints shard 0 while its write is held, then sends `later` checkpoints (shard i + 1 at
  // counters[i]) while it is, and lets the write go once they all wait. Returns each later
  // call's outcome.
  std::vector<absl::Status> CheckpointWhileAWriteIsHeld(std::vector<int64_t> counters) {
    gate_->HoldNextWrite();
    std::thread first([&] {
      EXPECT_TRUE(gated_->Checkpoint(Key(Shard(0)), "p1", 1, SequenceNumber(10)).ok());
    });
    EXPECT_TRUE(gate_->WaitUntilHeld()) << "the first checkpoint's write never came";
    std::vector<absl::Status> outcomes(counters.size());
    std::vector<std::thread> later;
    for (size_t i = 0; i < counters.size(); ++i) {
      later.emplace_back([&, i] {
        outcomes[i] = gated_->Checkpoint(Key(Shard(static_cast<int>(i) + 1)), "p1", counters[i],
                                         SequenceNumber(100 + i))
                          .status();
      });
    }
    EXPECT_OK(gated_->WaitForQueuedCheckpoints(static_cast<int>(counters.size()),
                                               absl::Seconds(10)))
        << "the later checkpoints did not queue";
    gate_->Release();
    first.join();
    for (std::thread& t : later) t.join();
    return outcomes;
  }
  Checkpoint StoredCheckpoint(int shard) {
    return gated_->GetLease(Key(Shard(shard)))->record.checkpoint;
  }

  std::unique_ptr<GateStore> gate_;
  std::unique_ptr<LeaseTable> gated_;
};

// The test hook's wait says what it waited for and what it saw (issue 15: waits return a status).
TEST_F(LeaseTableTest, WaitForQueuedCheckpointsSaysWhatItAwaitedAndSaw) {
  EXPECT_OK(table_->WaitForQueuedCheckpoints(0, absl::ZeroDuration()));
  const absl::Status waited = table_->WaitForQueuedCheckpoints(2, absl::ZeroDuration());
  EXPECT_EQ(waited.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(waited.message(),
            "waited 0 for 2 queued checkpoints; last seen: 0 queued checkpoints");
}

TEST_F(GroupCommitTest, CheckpointsArrivingDuringAWriteShareTheNextWrite) {
  std::vector<absl::Status> outcomes =
      CheckpointWhileAWriteIsHeld(std::vector<int64_t>(kWaiting, 1));
  for (const absl::Status& s : outcomes) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(gate_->writes(), 2) << "the first checkpoint's write, then one for all that waited";
  for (int i = 1; i <= kWaiting; ++i) EXPECT_EQ(StoredCheckpoint(i), SequenceNumber(100 + i - 1));
  Restart();  // and they are in the store
  EXPECT_EQ(Get(Key(Shard(kWaiting))).record.checkpoint, SequenceNumber(100 + kWaiting - 1));
}

TEST_F(GroupCommitTest, FencedCheckpointInAGroupFailsAlone) {
  std::vector<int64_t> counters(kWaiting, 1);
  counters[2] = 7;  // stale
  std::vector<absl::Status> outcomes = CheckpointWhileAWriteIsHeld(counters);
  for (int i = 0; i < kWaiting; ++i) {
    if (i == 2) {
      EXPECT_EQ(outcomes[i].code(), absl::StatusCode::kFailedPrecondition) << outcomes[i];
      EXPECT_EQ(StoredCheckpoint(i + 1).type, CheckpointType::kTrimHorizon);
    } else {
      EXPECT_TRUE(outcomes[i].ok()) << outcomes[i];
      EXPECT_EQ(StoredCheckpoint(i + 1), SequenceNumber(100 + i));
    }
  }
  EXPECT_EQ(gate_->writes(), 2);
}

TEST_F(GroupCommitTest, FailedGroupWriteFailsEveryCheckpointInItAndChangesNothing) {
  store_->FailNthWrite(2);  // the first checkpoint's write passes, the group's fails
  std::vector<absl::Status> outcomes =
      CheckpointWhileAWriteIsHeld(std::vector<int64_t>(kWaiting, 1));
  for (const absl::Status& s : outcomes) EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  for (int i = 1; i <= kWaiting; ++i) {
    EXPECT_EQ(StoredCheckpoint(i).type, CheckpointType::kTrimHorizon) << "memory unchanged";
  }
  EXPECT_EQ(StoredCheckpoint(0), SequenceNumber(10));
}

// ---- Persistence ----

TEST_F(LeaseTableTest, RestartKeepsEveryLeaseAndCheckpoint) {
  CreateLease("parent");
  CreateLease("left", {"parent"});
  CreateLease("right", {"parent"});
  CreateLeases(5);
  Register("p1", 4);
  Register("p2", 4);
  ASSERT_THAT(Acquire("p1"), ElementsAre(Key("parent"), Key(Shard(0)), Key(Shard(1))));
  ASSERT_TRUE(CheckpointAs("p1", Key(Shard(0)), 1, SequenceNumber(12345678901234567890ull)).ok());
  ASSERT_TRUE(table_->ReleaseLease(Key(Shard(1)), "p1", 1).ok());
  ASSERT_TRUE(CheckpointAs("p1", Key("parent"), 1, ShardEnd()).ok());
  ASSERT_TRUE(table_->Heartbeat("p1", {{Key(Shard(0)), 250}}).ok());
  const std::string before = Dump(*table_);
  Restart();
  EXPECT_EQ(Dump(*table_), before);
  EXPECT_EQ(Get(Key(Shard(0))).record.checkpoint, SequenceNumber(12345678901234567890ull));
  // The indexes are rebuilt: acquiring after a restart follows the same rules (the split
  // children are assignable now that their parent is at SHARD_END).
  std::vector<LeaseKey> p2 = Acquire("p2");
  EXPECT_THAT(p2, ElementsAre(Key("left"), Key("right"), Key(Shard(1)), Key(Shard(2))));
  EXPECT_THAT(Heartbeat("p1").owned, SizeIs(2));
}

TEST_F(LeaseTableTest, RestartGivesLivePollersOneLeaseDurationOfGrace) {
  CreateLeases(2);
  Register("p1");
  Register("p2");
  ASSERT_THAT(Acquire("p1"), SizeIs(1));
  ASSERT_THAT(Acquire("p2"), SizeIs(1));
  clock_.Advance(absl::Seconds(9));
  Heartbeat("p2");
  Restart();                         // p1's last heartbeat is 9 s old
  clock_.Advance(absl::Seconds(9));  // 18 s since p1's heartbeat, 9 s since the restart
  EXPECT_FALSE(Get(Key(Shard(0))).expired);
  EXPECT_THAT(Acquire("p2"), IsEmpty());
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(Get(Key(Shard(0))).expired);
  EXPECT_THAT(Acquire("p2"), ElementsAre(Key(Shard(0))));
}

// ---- Failed writes ----

// Each operation, run against a store whose next write fails, must fail and leave the table as
// it was; after healing, the same operation succeeds.
struct FaultCase {
  const char* name;
  std::function<absl::Status(LeaseTable&)> op;
};
void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.name; }

class FailedWriteTest : public LeaseTableTest, public ::testing::WithParamInterface<FaultCase> {
 protected:
  void SetUp() override {
    LeaseTableTest::SetUp();
    CreateLease("parent");
    CreateLease("child", {"parent"});
    CreateLeases(4);
    Register("p1", 3);
    Register("p2", 10);
    ASSERT_THAT(Acquire("p1"), SizeIs(3));  // parent, shard 0, shard 1
    clock_.Advance(absl::Seconds(11));      // p1 dead: its leases are expired
    Heartbeat("p2");
  }
};

TEST_P(FailedWriteTest, FailedWriteChangesNothing) {
  const std::string before = Dump(*table_);
  store_->FailNthWrite(1);
  absl::Status s = GetParam().op(*table_);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(Dump(*table_), before);
  store_->Heal();
  EXPECT_TRUE(GetParam().op(*table_).ok());
  EXPECT_NE(Dump(*table_), before);
}

INSTANTIATE_TEST_SUITE_P(
    EveryWrite, FailedWriteTest,
    ::testing::Values(
        FaultCase{"Acquire", [](LeaseTable& t) { return t.AcquireLeases("p2").status(); }},
        FaultCase{"AcquireByExpiredPoller",
                  [](LeaseTable& t) { return t.AcquireLeases("p1").status(); }},
        FaultCase{"Heartbeat", [](LeaseTable& t) { return t.Heartbeat("p1").status(); }},
        FaultCase{"Checkpoint",
                  [](LeaseTable& t) {
                    return t.Checkpoint({kMapping, "parent"}, "p1", 1, ShardEnd()).status();
                  }},
        FaultCase{"Release",
                  [](LeaseTable& t) {
                    return t.ReleaseLease({kMapping, "parent"}, "p1", 1);
                  }},
        FaultCase{"CreateLeases",
                  [](LeaseTable& t) {
                    return t.CreateLeases({NewLease{{kMapping, "new"}, "s", {"child"}, {}, true}})
                        .status();
                  }},
        FaultCase{"DeleteLeases",
                  [](LeaseTable& t) {
                    return t.DeleteLeases({{kMapping, "parent"}}, "").status();
                  }},
        FaultCase{"SetMappingEnabled",
                  [](LeaseTable& t) { return t.SetMappingEnabled(kMapping, false).status(); }},
        FaultCase{"RegisterPoller", [](LeaseTable& t) { return t.RegisterPoller("p3", 2); }},
        FaultCase{"DeregisterPoller",
                  [](LeaseTable& t) { return t.DeregisterPoller("p1").status(); }},
        FaultCase{"MoveCheckpoint",
                  [](LeaseTable& t) {
                    return t.MoveCheckpoint({kMapping, "parent"}, SequenceNumber(5)).status();
                  }}),
    [](const ::testing::TestParamInfo<FaultCase>& info) { return info.param.name; });

}  // namespace
}  // namespace tributary::leasing
