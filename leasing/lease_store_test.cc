#include "leasing/lease_store.h"

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/rocksdb_util.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leasing/lease_table.h"

namespace tributary::leasing {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

LeaseRecord FullRecord() {
  LeaseRecord r;
  r.key = {"mapping-1", "shardId-000000000007"};
  r.stream_name = "orders";
  r.owner = "p1";
  r.lease_counter = 42;
  r.checkpoint = {CheckpointType::kAtTimestamp, 0, absl::FromUnixMicros(1700000000123456)};
  r.parent_shard_ids = {"a", "b"};
  r.child_shard_ids = {"c"};
  r.owner_switches_since_checkpoint = 3;
  r.enabled = false;
  r.moved_at = absl::FromUnixSeconds(1700000100);
  return r;
}

TEST(RocksDbLeaseStoreTest, EveryFieldSurvivesReopen) {
  const std::string dir = tributary::testing::NewTempDir("lease_store");
  LeaseRecord fresh;  // defaults: moved_at is InfinitePast
  fresh.key = {"mapping-1", "shardId-000000000008"};
  fresh.checkpoint = {CheckpointType::kSequenceNumber, UINT64_MAX, absl::UnixEpoch()};
  {
    auto store = RocksDbLeaseStore::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    LeaseStoreWrite w;
    w.put_leases = {FullRecord(), fresh};
    w.put_pollers = {{"p1", 7, absl::FromUnixMicros(1700000000654321)}};
    w.sync = true;
    ASSERT_TRUE((*store)->Write(w).ok());
  }
  auto store = RocksDbLeaseStore::Open(dir);
  ASSERT_TRUE(store.ok());
  absl::StatusOr<LeaseStoreContents> contents = (*store)->Load();
  ASSERT_TRUE(contents.ok()) << contents.status();
  ASSERT_THAT(contents->leases, SizeIs(2));
  const LeaseRecord& r = contents->leases[0];
  const LeaseRecord want = FullRecord();
  EXPECT_EQ(r.key, want.key);
  EXPECT_EQ(r.stream_name, want.stream_name);
  EXPECT_EQ(r.owner, want.owner);
  EXPECT_EQ(r.lease_counter, want.lease_counter);
  EXPECT_EQ(r.checkpoint, want.checkpoint);
  EXPECT_EQ(r.parent_shard_ids, want.parent_shard_ids);
  EXPECT_EQ(r.child_shard_ids, want.child_shard_ids);
  EXPECT_EQ(r.owner_switches_since_checkpoint, want.owner_switches_since_checkpoint);
  EXPECT_EQ(r.enabled, want.enabled);
  EXPECT_EQ(r.moved_at, want.moved_at);
  EXPECT_EQ(contents->leases[1].moved_at, absl::InfinitePast());
  EXPECT_EQ(contents->leases[1].checkpoint, fresh.checkpoint);
  ASSERT_THAT(contents->pollers, SizeIs(1));
  EXPECT_EQ(contents->pollers[0].capacity, 7);
  EXPECT_EQ(contents->pollers[0].last_heartbeat, absl::FromUnixMicros(1700000000654321));
}

TEST(RocksDbLeaseStoreTest, DeletesAndPutsInOneWrite) {
  auto store = RocksDbLeaseStore::Open(tributary::testing::NewTempDir("lease_store"));
  ASSERT_TRUE(store.ok());
  LeaseStoreWrite first;
  first.put_leases = {FullRecord()};
  first.put_pollers = {{"p1", 1, absl::UnixEpoch()}};
  ASSERT_TRUE((*store)->Write(first).ok());
  LeaseStoreWrite second;
  second.delete_leases = {FullRecord().key};
  second.delete_pollers = {"p1"};
  second.put_pollers = {{"p2", 2, absl::UnixEpoch()}};
  ASSERT_TRUE((*store)->Write(second).ok());
  absl::StatusOr<LeaseStoreContents> contents = (*store)->Load();
  ASSERT_TRUE(contents.ok());
  EXPECT_THAT(contents->leases, SizeIs(0));
  ASSERT_THAT(contents->pollers, SizeIs(1));
  EXPECT_EQ(contents->pollers[0].poller_id, "p2");
}

// A row that does not decode is DATA_LOSS, from the store and from opening a table on it.
TEST(RocksDbLeaseStoreTest, CorruptRowIsDataLoss) {
  const std::string dir = tributary::testing::NewTempDir("lease_store");
  {
    auto db = RocksDb::Open(dir, {"leases", "pollers"});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->db()->Put({}, (*db)->Handle("leases"), "garbage", "\xff\xff\xff").ok());
  }
  auto store = RocksDbLeaseStore::Open(dir);
  ASSERT_TRUE(store.ok());
  absl::Status loaded = (*store)->Load().status();
  EXPECT_EQ(loaded.code(), absl::StatusCode::kDataLoss) << loaded;
  FakeClock clock;
  absl::Status opened = LeaseTable::Create(clock, **store).status();
  EXPECT_EQ(opened.code(), absl::StatusCode::kDataLoss) << opened;
  EXPECT_THAT(std::string(opened.message()), ::testing::HasSubstr("loading lease table"));
}

TEST(RocksDbLeaseStoreTest, CorruptPollerRowIsDataLoss) {
  const std::string dir = tributary::testing::NewTempDir("lease_store");
  {
    auto db = RocksDb::Open(dir, {"leases", "pollers"});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->db()->Put({}, (*db)->Handle("pollers"), "p1", "\x0a\x02p2").ok());
  }
  auto store = RocksDbLeaseStore::Open(dir);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Load().status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace tributary::leasing
