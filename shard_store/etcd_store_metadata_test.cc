// The store's metadata in etcd (cluster mode): what two front-ends over one prefix may rely on.
// Real etcd (one shared member per test binary; each case under its own prefix).
#include "shard_store/etcd_store_metadata.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "etcd/testing/faulty_kv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::shard_store {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

internal::StreamMetadata Stream(const std::string& name, uint64_t id, uint32_t next_index) {
  internal::StreamMetadata m;
  m.set_name(name);
  m.set_stream_id(id);
  m.set_retention_period_hours(24);
  m.set_next_shard_index(next_index);
  return m;
}

internal::ShardMetadata Shard(uint32_t index, int64_t parent = -1) {
  internal::ShardMetadata m;
  m.set_index(index);
  m.set_parent_index(parent);
  m.set_adjacent_parent_index(-1);
  return m;
}

class EtcdStoreMetadataTest : public ::testing::Test {
 protected:
  EtcdStoreMetadataTest()
      : cluster_(etcd::testing::EtcdCluster::Shared(1)), prefix_(cluster_.NewPrefix()) {}

  // A front-end: its own etcd client and metadata object over the case's prefix.
  struct FrontEnd {
    std::unique_ptr<etcd::EtcdClient> client;
    std::unique_ptr<EtcdStoreMetadata> metadata;
    EtcdStoreMetadata* operator->() { return metadata.get(); }
  };
  FrontEnd NewFrontEnd(std::unique_ptr<etcd::EtcdClient> client = nullptr) {
    FrontEnd f;
    f.client = client != nullptr ? std::move(client) : cluster_.NewClient();
    EtcdStoreMetadataOptions options;
    options.prefix = prefix_;
    auto metadata = EtcdStoreMetadata::Create(*f.client, options);
    EXPECT_TRUE(metadata.ok()) << metadata.status();
    if (metadata.ok()) f.metadata = *std::move(metadata);
    return f;
  }

  etcd::testing::EtcdCluster& cluster_;
  const std::string prefix_;
};

TEST_F(EtcdStoreMetadataTest, TheIteratorSecretIsCreatedOnceAndSharedByEveryFrontEnd) {
  FrontEnd a = NewFrontEnd();
  FrontEnd b = NewFrontEnd();
  absl::StatusOr<std::string> first = a->LoadOrCreateSecret();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 32u);
  absl::StatusOr<std::string> other = b->LoadOrCreateSecret();
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(*other, *first);
  EXPECT_EQ(*a->LoadOrCreateSecret(), *first);
}

TEST_F(EtcdStoreMetadataTest, StreamIdsAreNeverHandedOutTwiceAcrossFrontEnds) {
  FrontEnd a = NewFrontEnd();
  FrontEnd b = NewFrontEnd();
  absl::Mutex mu;
  std::vector<uint64_t> ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      EtcdStoreMetadata& m = t % 2 == 0 ? *a.metadata : *b.metadata;
      for (int i = 0; i < 15; ++i) {
        absl::StatusOr<uint64_t> id = m.AllocateStreamId();
        ASSERT_TRUE(id.ok()) << id.status();
        absl::MutexLock lock(&mu);
        ids.push_back(*id);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(ids.size(), 60u);
  EXPECT_EQ(std::set<uint64_t>(ids.begin(), ids.end()).size(), 60u) << "an id handed out twice";
  // A front-end started later (e.g. after every other restarted) continues above them all.
  FrontEnd c = NewFrontEnd();
  EXPECT_GT(*c->AllocateStreamId(), *std::max_element(ids.begin(), ids.end()));
}

TEST_F(EtcdStoreMetadataTest, AStreamCreatedOnOneFrontEndIsSeenOnTheOtherAndItsNameIsTaken) {
  FrontEnd a = NewFrontEnd();
  FrontEnd b = NewFrontEnd();
  ASSERT_TRUE(a->CreateStream(Stream("orders", 1, 2), {Shard(0), Shard(1)}).ok());
  EXPECT_EQ(b->CreateStream(Stream("orders", 2, 1), {Shard(0)}).status().code(),
            absl::StatusCode::kAlreadyExists);
  absl::StatusOr<StoreMetadataSnapshot> seen = b->Load();
  ASSERT_TRUE(seen.ok()) << seen.status();
  ASSERT_EQ(seen->streams.count("orders"), 1u);
  const StoredStream& orders = seen->streams.at("orders");
  EXPECT_EQ(orders.stream.stream_id(), 1u) << "the first create's record, not the refused one";
  EXPECT_THAT(orders.shards, ElementsAre(Pair(0u, ::testing::_), Pair(1u, ::testing::_)));
  absl::StatusOr<std::optional<StoredStream>> read = b->ReadStream("orders");
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->revision, orders.revision);
  EXPECT_EQ((*read)->shards.size(), 2u);
  EXPECT_FALSE(b->ReadStream("missing")->has_value());
}

TEST_F(EtcdStoreMetadataTest, TwoFrontEndsChangingOneStreamCannotLoseAChange) {
  FrontEnd a = NewFrontEnd();
  FrontEnd b = NewFrontEnd();
  ASSERT_TRUE(a->CreateStream(Stream("s", 7, 1), {Shard(0)}).ok());
  StoredStream seen_by_a = **a->ReadStream("s");
  StoredStream seen_by_b = **b->ReadStream("s");
  // A tags the stream; B, from the same revision, changes its retention.
  internal::StreamMetadata tagged = seen_by_a.stream;
  (*tagged.mutable_tags())["team"] = "payments";
  ASSERT_TRUE(a->UpdateStream(tagged, {}, {}, seen_by_a.revision).ok());
  internal::StreamMetadata longer = seen_by_b.stream;
  longer.set_retention_period_hours(48);
  absl::StatusOr<int64_t> stale = b->UpdateStream(longer, {}, {}, seen_by_b.revision);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition) << stale.status();
  // B reads again and applies its change to what A wrote.
  seen_by_b = **b->ReadStream("s");
  longer = seen_by_b.stream;
  longer.set_retention_period_hours(48);
  ASSERT_TRUE(b->UpdateStream(longer, {}, {}, seen_by_b.revision).ok());
  const StoredStream now = **a->ReadStream("s");
  EXPECT_EQ(now.stream.tags().at("team"), "payments");
  EXPECT_EQ(now.stream.retention_period_hours(), 48);
}

TEST_F(EtcdStoreMetadataTest, ASplitWritesTheParentsCloseAndTheChildrensLineageInOneChange) {
  FrontEnd a = NewFrontEnd();
  FrontEnd b = NewFrontEnd();
  ASSERT_TRUE(a->CreateStream(Stream("s", 3, 1), {Shard(0)}).ok());
  absl::StatusOr<StoreMetadataSnapshot> before = b->Load();
  ASSERT_TRUE(before.ok());
  absl::StatusOr<std::unique_ptr<StoreMetadataWatch>> watch = b->Watch(before->revision + 1);
  ASSERT_TRUE(watch.ok()) << watch.status();

  const StoredStream s = **a->ReadStream("s");
  internal::ShardMetadata parent = s.shards.at(0);
  parent.set_closed(true);
  parent.set_ending_sequence_number(4096);
  internal::ShardMetadata left = Shard(1, 0), right = Shard(2, 0);
  left.set_starting_sequence_number(4097);
  right.set_starting_sequence_number(4097);
  absl::StatusOr<int64_t> split =
      a->UpdateStream(Stream("s", 3, 3), {parent, left, right}, {}, s.revision);
  ASSERT_TRUE(split.ok()) << split.status();

  // The other front-end learns it by its watch: all of it at one revision.
  std::vector<StoreMetadataEvent> events;
  while (events.size() < 4) {
    absl::StatusOr<std::vector<StoreMetadataEvent>> next =
        (*watch)->Next(RealClock::Get().MonotonicNow() + absl::Seconds(10));
    ASSERT_TRUE(next.ok()) << next.status();
    ASSERT_FALSE(next->empty()) << "no change seen within 10 s";
    events.insert(events.end(), next->begin(), next->end());
  }
  ASSERT_EQ(events.size(), 4u);
  for (const StoreMetadataEvent& e : events) EXPECT_EQ(e.revision, *split);
  EXPECT_EQ(events[0].kind, StoreMetadataEvent::Kind::kStreamPut);
  EXPECT_EQ(events[0].stream.next_shard_index(), 3u);
  EXPECT_EQ(events[1].kind, StoreMetadataEvent::Kind::kShardPut);
  EXPECT_TRUE(events[1].shard.closed());
  EXPECT_EQ(events[1].shard.ending_sequence_number(), 4096u);
  EXPECT_EQ(events[2].shard.parent_index(), 0);
  EXPECT_EQ(events[3].shard.parent_index(), 0);

  const StoredStream after = **b->ReadStream("s");
  EXPECT_EQ(after.revision, *split);
  ASSERT_EQ(after.shards.size(), 3u);
  EXPECT_TRUE(after.shards.at(0).closed());
  EXPECT_EQ(after.shards.at(1).starting_sequence_number(), 4097u);
}

TEST_F(EtcdStoreMetadataTest, AFrontEndsEndIsSeenByTheOthersWatchAsItsWriterKeyDeleted) {
  // What lets the others finish a reshard it left half done (NOTES.md "Interrupted reshards").
  FrontEnd a = NewFrontEnd();
  FrontEnd b = NewFrontEnd();
  const std::string key = a->WriterKey();
  ASSERT_FALSE(key.empty());
  EXPECT_NE(key, b->WriterKey());
  EXPECT_TRUE(*b->WriterAlive(key));
  EXPECT_FALSE(*b->WriterAlive(""));
  absl::StatusOr<StoreMetadataSnapshot> now = b->Load();
  ASSERT_TRUE(now.ok()) << now.status();
  absl::StatusOr<std::unique_ptr<StoreMetadataWatch>> watch = b->Watch(now->revision + 1);
  ASSERT_TRUE(watch.ok()) << watch.status();
  a.metadata.reset();  // its session is revoked
  std::vector<StoreMetadataEvent> events;
  while (events.empty()) {
    absl::StatusOr<std::vector<StoreMetadataEvent>> next =
        (*watch)->Next(RealClock::Get().MonotonicNow() + absl::Seconds(10));
    ASSERT_TRUE(next.ok()) << next.status();
    ASSERT_FALSE(next->empty()) << "no change seen within 10 s";
    events = *std::move(next);
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, StoreMetadataEvent::Kind::kWriterDeleted);
  EXPECT_EQ(events[0].writer_key, key);
  EXPECT_FALSE(*b->WriterAlive(key));
}

TEST_F(EtcdStoreMetadataTest, ADeleteTakesTheShardsAlongAndARecreatedNameStartsAfresh) {
  FrontEnd a = NewFrontEnd();
  FrontEnd b = NewFrontEnd();
  ASSERT_TRUE(a->CreateStream(Stream("s", 1, 2), {Shard(0), Shard(1)}).ok());
  const StoredStream seen_by_b = **b->ReadStream("s");
  const StoredStream s = **a->ReadStream("s");
  internal::StreamMetadata tagged = s.stream;
  (*tagged.mutable_tags())["k"] = "v";
  const int64_t changed = *a->UpdateStream(tagged, {}, {}, s.revision);
  // B deletes from an old view: refused, nothing deleted.
  EXPECT_EQ(b->DeleteStream("s", 1, seen_by_b.revision).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(b->ReadStream("s")->has_value());
  ASSERT_TRUE(b->DeleteStream("s", 1, changed).ok());
  EXPECT_EQ(a->UpdateStream(tagged, {}, {}, changed).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(a->ReadStream("s")->has_value());
  ASSERT_TRUE(a->CreateStream(Stream("s", 2, 1), {Shard(0)}).ok());
  const StoredStream again = **b->ReadStream("s");
  EXPECT_EQ(again.stream.stream_id(), 2u);
  EXPECT_EQ(again.shards.size(), 1u);
  EXPECT_TRUE(again.stream.tags().empty());
  EXPECT_EQ(b->Load()->streams.size(), 1u);
}

TEST_F(EtcdStoreMetadataTest, AChangeWhoseAnswerWasLostIsNotMistakenForAConflict) {
  std::vector<etcd::EtcdMemberStubs> members;
  members.push_back(etcd::ConnectToMember(cluster_.endpoints()[0]));
  auto faulty = std::make_unique<etcd::testing::FaultyKv>(std::move(members[0].kv));
  etcd::testing::FaultyKv* kv = faulty.get();
  members[0].kv = std::move(faulty);
  etcd::EtcdClientOptions options;
  options.attempt_timeout = absl::Milliseconds(500);
  options.operation_timeout = absl::Seconds(3);
  FrontEnd a = NewFrontEnd(
      std::make_unique<etcd::EtcdClient>(RealClock::Get(), options, std::move(members)));
  ASSERT_TRUE(a->CreateStream(Stream("s", 1, 1), {Shard(0)}).ok());
  const StoredStream s = **a->ReadStream("s");
  internal::StreamMetadata tagged = s.stream;
  (*tagged.mutable_tags())["k"] = "v";
  kv->LoseNthTxnAnswer(1);  // applied, but the answer is lost: the retry's compare fails
  absl::StatusOr<int64_t> changed = a->UpdateStream(tagged, {}, {}, s.revision);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ((**a->ReadStream("s")).revision, *changed);
  // The same for an id: handed out once, not skipped as a conflict and not twice.
  const uint64_t first = *a->AllocateStreamId();
  kv->LoseNthTxnAnswer(1);
  absl::StatusOr<uint64_t> second = a->AllocateStreamId();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, first + 1);
  EXPECT_EQ(*a->AllocateStreamId(), first + 2);
}

}  // namespace
}  // namespace tributary::shard_store
