#include "tables/table_store.h"
#include "tables/testing/open_tables.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/rocksdb_util.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shard_store/shard_store.h"

namespace tributary::tables {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using T = AttributeValue::Type;

// Threads of one test, each of which must end: Ended and JoinAll wait at most a generous real
// time (a failure guard, never a duration under test), so a deadlock fails the test instead of
// hanging it. Threads still running when JoinAll gives up are detached (they wait on what the
// test made: the test must then leak it).
class GuardedThreads {
 public:
  ~GuardedThreads() { JoinAll().IgnoreError(); }
  // Starts `fn`; returns its index.
  int Run(std::function<void()> fn) {
    const int index = static_cast<int>(threads_.size());
    {
      absl::MutexLock lock(&mu_);
      ended_.push_back(false);
    }
    threads_.emplace_back([this, index, fn = std::move(fn)] {
      fn();
      absl::MutexLock lock(&mu_);
      ended_[index] = true;
    });
    return index;
  }
  absl::Status Ended(int index, absl::Duration guard = absl::Seconds(30)) {
    return AwaitFor(
        mu_, guard, absl::StrCat("thread ", index, " to end"),
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ended_[index]; },
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return std::string("still running"); });
  }
  absl::Status JoinAll(absl::Duration guard = absl::Seconds(60)) {
    absl::Status ended = AwaitFor(
        mu_, guard, "every thread to end",
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return std::all_of(ended_.begin(), ended_.end(), [](bool e) { return e; });
        },
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return absl::StrCat(std::count(ended_.begin(), ended_.end(), true), " of ", ended_.size(),
                              " ended");
        });
    for (std::thread& t : threads_) {
      if (!t.joinable()) continue;
      if (ended.ok()) {
        t.join();
      } else {
        t.detach();
      }
    }
    return ended;
  }

 private:
  absl::Mutex mu_;
  std::vector<bool> ended_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

class TableStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tributary::testing::NewTempDir("table_store");
    Open();
  }
  // The tables live in a shard store's database, as in `tributary serve`.
  void Open() {
    store_.reset();
    streams_.reset();
    auto opened = testing::OpenTables(dir_, clock_, 2, [this](shard_store::WriteKind kind) {
      if (kind == shard_store::WriteKind::kCreateStream) HoldIfCreatesBlocked();
      if (kind == shard_store::WriteKind::kReshard && fail_reshards_) {
        return rocksdb::Status::IOError("injected reshard write failure");
      }
      return kind == shard_store::WriteKind::kRecords && fail_record_writes_
                 ? rocksdb::Status::IOError("injected record write failure")
                 : rocksdb::Status::OK();
    });
    ASSERT_TRUE(opened.ok()) << opened.status();
    streams_ = std::move(opened->streams);
    store_ = std::move(opened->store);
  }
  void CreateStreamed(StreamViewType view) {
    TableSpec spec = Spec("orders");
    spec.stream = {true, view};
    ASSERT_TRUE(store_->CreateTable(spec).ok());
  }
  // Every change record of the table's stream, all shards, decoded.
  std::vector<ChangeRecord> Changes() { return ChangesOf(store_->DescribeTable("orders")->stream_name); }
  std::vector<ChangeRecord> ChangesOf(const std::string& stream) {
    std::vector<ChangeRecord> out;
    v1::ListShardsRequest list;
    list.set_stream_name(stream);
    auto shards = streams_->ListShards(list);
    EXPECT_TRUE(shards.ok()) << shards.status();
    if (!shards.ok()) return out;
    for (const v1::Shard& shard : shards->shards()) {
      v1::GetShardIteratorRequest it;
      it.set_stream_name(stream);
      it.set_shard_id(shard.shard_id());
      it.set_shard_iterator_type(v1::TRIM_HORIZON);
      auto iterator = streams_->GetShardIterator(it);
      EXPECT_TRUE(iterator.ok()) << iterator.status();
      v1::GetRecordsRequest get;
      get.set_shard_iterator(iterator->shard_iterator());
      v1::GetRecordsResponse records;
      EXPECT_TRUE(streams_->GetRecords(get, &records).ok());
      for (const v1::Record& r : records.records()) {
        auto change = DecodeChangeRecord(r.data());
        EXPECT_TRUE(change.ok()) << change.status();
        if (change.ok()) out.push_back(*std::move(change));
      }
    }
    return out;
  }
  std::vector<ChangeEvent> Events() {
    std::vector<ChangeEvent> out;
    for (const ChangeRecord& r : Changes()) out.push_back(r.event);
    return out;
  }
  TableSpec Spec(const std::string& name, bool sort_key = false) {
    TableSpec spec;
    spec.name = name;
    spec.key_schema.partition_key = {"id", T::kS};
    if (sort_key) spec.key_schema.sort_key = KeyAttribute{"n", T::kN};
    spec.billing_mode = BillingMode::kPayPerRequest;
    return spec;
  }
  void Create(const std::string& name, bool sort_key = false) {
    ASSERT_TRUE(store_->CreateTable(Spec(name, sort_key)).ok());
  }
  static AttributeMap Item(const std::string& id, const std::string& value) {
    return {{"id", AttributeValue::S(id)}, {"v", AttributeValue::S(value)}};
  }
  static AttributeMap Key(const std::string& id) { return {{"id", AttributeValue::S(id)}}; }
  absl::StatusOr<std::optional<AttributeMap>> Put(AttributeMap item,
                                                  std::optional<Condition> c = std::nullopt) {
    return store_->PutItem("orders", std::move(item), c);
  }
  std::optional<AttributeMap> Get(const std::string& id) {
    auto item = store_->GetItem("orders", Key(id));
    EXPECT_TRUE(item.ok()) << item.status();
    return item.ok() ? *item : std::nullopt;
  }
  // Whether every shard of a shard_store stream is closed.
  bool AllShardsClosed(const std::string& stream) {
    v1::ListShardsRequest list;
    list.set_stream_name(stream);
    auto shards = streams_->ListShards(list);
    EXPECT_TRUE(shards.ok()) << shards.status();
    if (!shards.ok() || shards->shards().empty()) return false;
    for (const v1::Shard& shard : shards->shards()) {
      if (shard.sequence_number_range().ending_sequence_number().empty()) return false;
    }
    return true;
  }
  absl::StatusOr<TableDescription> SetStream(bool enabled,
                                             StreamViewType view = StreamViewType::kNewImage) {
    TableUpdate update;
    update.stream = StreamSpecification{enabled, view};
    return store_->UpdateTable("orders", update);
  }
  std::vector<std::string> Labels(absl::string_view table = "") {
    std::vector<std::string> out;
    auto list = store_->ListStreams(table, "", "", 100);
    EXPECT_TRUE(list.ok()) << list.status();
    if (list.ok()) {
      for (const TableStreamDescription& s : list->streams) {
        out.push_back(absl::StrCat(s.table_name, "/", s.label, s.enabled ? "" : " DISABLED"));
      }
    }
    return out;
  }
  static Condition NotExists() { return *ParseCondition("attribute_not_exists(id)", {}); }
  static Condition Exists() { return *ParseCondition("attribute_exists(id)", {}); }

  // While blocked, a CreateStream (an UpdateTable turning a stream on) holds at its write.
  void BlockCreates(bool blocked) {
    absl::MutexLock lock(&block_mu_);
    block_creates_ = blocked;
  }
  void HoldIfCreatesBlocked() {
    absl::MutexLock lock(&block_mu_);
    ++creates_held_;
    block_mu_.Await(absl::Condition(
        +[](bool* blocked) { return !*blocked; }, &block_creates_));
    --creates_held_;
  }
  // Waits (a real-time failure guard) until `n` CreateStreams are held.
  absl::Status AwaitCreatesHeld(int n) {
    return AwaitFor(
        block_mu_, absl::Seconds(30), absl::StrCat(n, " held CreateStream"),
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(block_mu_) { return creates_held_ >= n; },
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(block_mu_) { return absl::StrCat(creates_held_); });
  }

  FakeClock clock_;
  std::string dir_;
  std::atomic<bool> fail_record_writes_{false};
  std::atomic<bool> fail_reshards_{false};
  absl::Mutex block_mu_;
  bool block_creates_ ABSL_GUARDED_BY(block_mu_) = false;
  int creates_held_ ABSL_GUARDED_BY(block_mu_) = 0;
  std::unique_ptr<shard_store::ShardStore> streams_;
  std::unique_ptr<TableStore> store_;
};

TEST_F(TableStoreTest, CreatedTableIsDescribedAndListed) {
  clock_.SetTime(absl::FromUnixSeconds(1700000000));
  Create("orders", /*sort_key=*/true);
  auto d = store_->DescribeTable("orders");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->status, TableStatus::kActive);
  EXPECT_EQ(d->spec.key_schema.sort_key->name, "n");
  EXPECT_EQ(d->creation_time, absl::FromUnixSeconds(1700000000));
  EXPECT_THAT(store_->ListTables("", 100)->names, ElementsAre("orders"));
}

TEST_F(TableStoreTest, ATableWithAStreamIsDescribedWithItsLabelAcrossReopening) {
  clock_.SetTime(absl::FromUnixMillis(1700000000123));
  TableSpec spec = Spec("orders");
  spec.stream = {true, StreamViewType::kNewAndOldImages};
  ASSERT_TRUE(store_->CreateTable(spec).ok());
  Open();
  auto d = store_->DescribeTable("orders");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->spec.stream.enabled);
  EXPECT_EQ(d->spec.stream.view_type, StreamViewType::kNewAndOldImages);
  EXPECT_EQ(d->stream_label, "2023-11-14T22:13:20.123");
  EXPECT_EQ(d->stream_name, "_tables.1.20231114221320123");
}

TEST_F(TableStoreTest, PutModifyAndDeleteEmitInsertModifyRemoveInOrder) {
  CreateStreamed(StreamViewType::kNewAndOldImages);
  ASSERT_TRUE(Put(Item("a", "1")).ok());
  ASSERT_TRUE(Put(Item("a", "2")).ok());
  ASSERT_TRUE(store_->DeleteItem("orders", Key("a"), std::nullopt).ok());
  std::vector<ChangeRecord> changes = Changes();
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].event, ChangeEvent::kInsert);
  EXPECT_EQ(changes[0].new_image, Item("a", "1"));
  EXPECT_EQ(changes[1].event, ChangeEvent::kModify);
  EXPECT_EQ(changes[1].old_image, Item("a", "1"));
  EXPECT_EQ(changes[1].new_image, Item("a", "2"));
  EXPECT_EQ(changes[2].event, ChangeEvent::kRemove);
  EXPECT_EQ(changes[2].old_image, Item("a", "2"));
  EXPECT_EQ(changes[2].keys, Key("a"));
}

TEST_F(TableStoreTest, ImagesFollowTheViewType) {
  CreateStreamed(StreamViewType::kKeysOnly);
  ASSERT_TRUE(Put(Item("a", "1")).ok());
  std::vector<ChangeRecord> changes = Changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].view_type, StreamViewType::kKeysOnly);
  EXPECT_FALSE(changes[0].new_image.has_value());
}

TEST_F(TableStoreTest, AnIdenticalPutInAnyAttributeOrderWritesNoRecord) {
  CreateStreamed(StreamViewType::kNewImage);
  ASSERT_TRUE(Put(Item("a", "1")).ok());
  AttributeMap reordered = {{"v", AttributeValue::S("1")}, {"id", AttributeValue::S("a")}};
  ASSERT_TRUE(Put(reordered).ok());
  EXPECT_THAT(Events(), ElementsAre(ChangeEvent::kInsert));
}

TEST_F(TableStoreTest, DeletingAMissingItemWritesNoRecord) {
  CreateStreamed(StreamViewType::kNewImage);
  ASSERT_TRUE(store_->DeleteItem("orders", Key("none"), std::nullopt).ok());
  EXPECT_THAT(Events(), ElementsAre());
}

TEST_F(TableStoreTest, AFailedConditionWritesNeitherItemNorRecord) {
  CreateStreamed(StreamViewType::kNewImage);
  ASSERT_TRUE(Put(Item("a", "1")).ok());
  EXPECT_EQ(Put(Item("a", "2"), NotExists()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Get("a"), Item("a", "1"));
  EXPECT_THAT(Events(), ElementsAre(ChangeEvent::kInsert));
}

// Atomicity: the one RocksDB write of item + record fails (injected at the store's write seam):
// neither is there, live or after reopening; the next write lands both.
TEST_F(TableStoreTest, AFailedWriteLeavesNeitherTheItemNorItsRecord) {
  CreateStreamed(StreamViewType::kNewImage);
  fail_record_writes_ = true;
  EXPECT_FALSE(Put(Item("a", "1")).ok());
  fail_record_writes_ = false;
  EXPECT_EQ(Get("a"), std::nullopt);
  EXPECT_THAT(Events(), ElementsAre());
  Open();
  EXPECT_EQ(Get("a"), std::nullopt);
  EXPECT_THAT(Events(), ElementsAre());
  ASSERT_TRUE(Put(Item("a", "2")).ok());
  Open();
  EXPECT_EQ(Get("a"), Item("a", "2"));
  EXPECT_THAT(Events(), ElementsAre(ChangeEvent::kInsert));
}

TEST_F(TableStoreTest, ATableWithoutAStreamHasNoLabel) {
  Create("orders");
  auto d = store_->DescribeTable("orders");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->spec.stream.enabled);
  EXPECT_EQ(d->stream_label, "");
}

TEST(StreamViewTypeTest, NamesRoundTripAndOthersAreRefused) {
  for (const char* name : {"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"}) {
    auto t = ParseStreamViewType(name);
    ASSERT_TRUE(t.has_value()) << name;
    EXPECT_STREQ(StreamViewTypeName(*t), name);
  }
  EXPECT_FALSE(ParseStreamViewType("ALL").has_value());
}

TEST_F(TableStoreTest, CreatingAnExistingTableIsAlreadyExists) {
  Create("orders");
  EXPECT_EQ(store_->CreateTable(Spec("orders")).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(TableStoreTest, BadTableNamesAndCapacitiesAreInvalid) {
  EXPECT_EQ(store_->CreateTable(Spec("ab")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CreateTable(Spec("a/b/c")).status().code(),
            absl::StatusCode::kInvalidArgument);
  TableSpec provisioned = Spec("orders");
  provisioned.billing_mode = BillingMode::kProvisioned;
  EXPECT_EQ(store_->CreateTable(provisioned).status().code(), absl::StatusCode::kInvalidArgument);
  provisioned.read_capacity_units = provisioned.write_capacity_units = 5;
  EXPECT_TRUE(store_->CreateTable(provisioned).ok());
}

TEST_F(TableStoreTest, ListTablesPagesInNameOrder) {
  for (const char* name : {"ccc", "aaa", "bbb"}) Create(name);
  auto first = store_->ListTables("", 2);
  ASSERT_TRUE(first.ok());
  EXPECT_THAT(first->names, ElementsAre("aaa", "bbb"));
  EXPECT_EQ(first->last_evaluated_name, "bbb");
  auto second = store_->ListTables(first->last_evaluated_name, 2);
  EXPECT_THAT(second->names, ElementsAre("ccc"));
  EXPECT_EQ(second->last_evaluated_name, "");
  EXPECT_EQ(store_->ListTables("", 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TableStoreTest, DeletedTableIsGoneWithItsItems) {
  Create("orders");
  ASSERT_TRUE(Put(Item("a", "1")).ok());
  auto deleted = store_->DeleteTable("orders");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->status, TableStatus::kDeleting);
  EXPECT_EQ(store_->DescribeTable("orders").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteTable("orders").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Put(Item("a", "1")).status().code(), absl::StatusCode::kNotFound);
  Create("orders");  // a new table of the same name starts empty
  EXPECT_EQ(Get("a"), std::nullopt);
}

TEST_F(TableStoreTest, PutThenGetReturnsTheItemAndPutReturnsTheOldOne) {
  Create("orders");
  auto first = Put(Item("a", "1"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, std::nullopt);
  auto second = Put(Item("a", "2"));
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(second->has_value());
  EXPECT_TRUE(ItemsEqual(**second, Item("a", "1")));
  EXPECT_TRUE(ItemsEqual(*Get("a"), Item("a", "2")));
  EXPECT_EQ(Get("b"), std::nullopt);
}

TEST_F(TableStoreTest, ItemsSurviveReopening) {
  Create("orders");
  ASSERT_TRUE(Put(Item("a", "1")).ok());
  Open();
  EXPECT_TRUE(ItemsEqual(*Get("a"), Item("a", "1")));
  EXPECT_EQ(store_->CreateTable(Spec("orders")).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(TableStoreTest, ATableIdIsNeverReusedAfterReopening) {
  Create("one");
  Create("two");
  ASSERT_TRUE(store_->DeleteTable("two").ok());
  Open();
  auto three = store_->CreateTable(Spec("three"));
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->table_id, 3u);
}

TEST_F(TableStoreTest, NumericKeysEqualInValueAreOneItem) {
  Create("orders", /*sort_key=*/true);
  ASSERT_TRUE(Put({{"id", AttributeValue::S("a")}, {"n", AttributeValue::N("1.5")},
                   {"v", AttributeValue::S("x")}})
                  .ok());
  auto item = store_->GetItem("orders", {{"n", AttributeValue::N("1.5")},
                                         {"id", AttributeValue::S("a")}});
  ASSERT_TRUE(item.ok()) << item.status();
  ASSERT_TRUE(item->has_value());
}

TEST_F(TableStoreTest, AnItemWithoutItsKeyOrOverTheSizeLimitIsInvalid) {
  Create("orders");
  EXPECT_THAT(Put({{"v", AttributeValue::S("x")}}).status().message(),
              HasSubstr("Missing the key id"));
  AttributeMap big = Item("a", std::string(kMaxItemBytes - 2 - 1 - 1, 'x'));  // exactly 400 KB
  EXPECT_TRUE(Put(big).ok());
  big = Item("a", std::string(kMaxItemBytes - 2 - 1, 'x'));
  EXPECT_THAT(Put(big).status().message(), HasSubstr("Item size has exceeded"));
  EXPECT_EQ(Put({{"id", AttributeValue::S("a")}, {"", AttributeValue::S("x")}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TableStoreTest, AConditionThatFailsWritesNothing) {
  Create("orders");
  ASSERT_TRUE(Put(Item("a", "1"), NotExists()).ok());
  EXPECT_EQ(Put(Item("a", "2"), NotExists()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ItemsEqual(*Get("a"), Item("a", "1")));
  EXPECT_EQ(Put(Item("b", "1"), Exists()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Get("b"), std::nullopt);
}

TEST_F(TableStoreTest, DeleteItemReturnsTheOldItemAndHonoursItsCondition) {
  Create("orders");
  ASSERT_TRUE(Put(Item("a", "1")).ok());
  EXPECT_EQ(store_->DeleteItem("orders", Key("b"), Exists()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto old = store_->DeleteItem("orders", Key("a"), Exists());
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_TRUE(ItemsEqual(**old, Item("a", "1")));
  EXPECT_EQ(Get("a"), std::nullopt);
  auto missing = store_->DeleteItem("orders", Key("a"), std::nullopt);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, std::nullopt);
}

TEST_F(TableStoreTest, KeysThatDoNotMatchTheSchemaAreInvalid) {
  Create("orders");
  EXPECT_EQ(store_->GetItem("orders", {{"id", AttributeValue::N("1")}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->DeleteItem("orders", Item("a", "1"), std::nullopt).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetItem("missing", Key("a")).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TableStoreTest, ConcurrentCreateOnlyPutsOfOneKeyHaveOneWinner) {
  Create("orders");
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if (Put(Item("a", std::to_string(i)), NotExists()).ok()) ++won;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
}

// --- Streams across UpdateTable and DeleteTable ---------------------------------------------

TEST_F(TableStoreTest, TurningTheStreamOffAndOnMakesANewStreamAndKeepsTheOldOneReadable) {
  clock_.SetTime(absl::FromUnixMillis(1700000000000));
  CreateStreamed(StreamViewType::kNewImage);
  const std::string first = store_->DescribeTable("orders")->stream_name;
  ASSERT_TRUE(Put(Item("a", "1")).ok());
  auto off = SetStream(false);
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->spec.stream.enabled);
  EXPECT_EQ(off->stream_label, "2023-11-14T22:13:20.000");  // still the latest stream
  EXPECT_TRUE(AllShardsClosed(first));
  ASSERT_TRUE(Put(Item("b", "1")).ok());  // no stream: no record anywhere
  clock_.Advance(absl::Seconds(1));
  auto on = SetStream(true, StreamViewType::kKeysOnly);
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_EQ(on->stream_label, "2023-11-14T22:13:21.000");
  EXPECT_NE(on->stream_name, first);
  ASSERT_TRUE(Put(Item("c", "1")).ok());

  EXPECT_THAT(Labels(), ElementsAre("orders/2023-11-14T22:13:20.000 DISABLED",
                                    "orders/2023-11-14T22:13:21.000"));
  std::vector<ChangeRecord> old_changes = ChangesOf(first);
  ASSERT_EQ(old_changes.size(), 1u);
  EXPECT_EQ(old_changes[0].keys, Key("a"));
  std::vector<ChangeRecord> new_changes = Changes();
  ASSERT_EQ(new_changes.size(), 1u);
  EXPECT_EQ(new_changes[0].keys, Key("c"));
  EXPECT_EQ(new_changes[0].view_type, StreamViewType::kKeysOnly);

  Open();  // all of it is durable
  EXPECT_THAT(Labels("orders"), ElementsAre("orders/2023-11-14T22:13:20.000 DISABLED",
                                            "orders/2023-11-14T22:13:21.000"));
  EXPECT_EQ(store_->DescribeTable("orders")->stream_label, "2023-11-14T22:13:21.000");
  ASSERT_TRUE(Put(Item("c", "2")).ok());
  EXPECT_EQ(Changes().size(), 2u);
}

TEST_F(TableStoreTest, AStreamReEnabledInTheSameMillisecondGetsALaterLabel) {
  clock_.SetTime(absl::FromUnixMillis(1700000000000));
  CreateStreamed(StreamViewType::kNewImage);
  ASSERT_TRUE(SetStream(false).ok());
  auto on = SetStream(true);
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_EQ(on->stream_label, "2023-11-14T22:13:20.001");
}

TEST_F(TableStoreTest, UpdateTableRefusesWhatDynamoDbRefuses) {
  CreateStreamed(StreamViewType::kNewImage);
  EXPECT_THAT(SetStream(true).status().message(), HasSubstr("already has an enabled stream"));
  ASSERT_TRUE(SetStream(false).ok());
  EXPECT_EQ(SetStream(false).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->UpdateTable("orders", TableUpdate()).status().code(),
            absl::StatusCode::kInvalidArgument);
  TableUpdate on;
  on.stream = StreamSpecification{true, StreamViewType::kKeysOnly};
  EXPECT_EQ(store_->UpdateTable("missing", on).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TableStoreTest, UpdateTableSwitchesBillingModesAndCapacity) {
  Create("orders");  // PAY_PER_REQUEST
  TableUpdate update;
  update.billing_mode = BillingMode::kProvisioned;
  EXPECT_THAT(store_->UpdateTable("orders", update).status().message(),
              HasSubstr("ProvisionedThroughput must be specified"));
  update.read_capacity_units = 5;
  update.write_capacity_units = 7;
  auto provisioned = store_->UpdateTable("orders", update);
  ASSERT_TRUE(provisioned.ok()) << provisioned.status();
  EXPECT_EQ(provisioned->spec.write_capacity_units, 7);
  update.billing_mode.reset();
  EXPECT_THAT(store_->UpdateTable("orders", update).status().message(),
              HasSubstr("will not change"));
  update.read_capacity_units = 0;
  EXPECT_EQ(store_->UpdateTable("orders", update).status().code(),
            absl::StatusCode::kInvalidArgument);
  Open();
  EXPECT_EQ(store_->DescribeTable("orders")->spec.read_capacity_units, 5);
  TableUpdate back;
  back.billing_mode = BillingMode::kPayPerRequest;
  auto on_demand = store_->UpdateTable("orders", back);
  ASSERT_TRUE(on_demand.ok()) << on_demand.status();
  EXPECT_EQ(on_demand->spec.read_capacity_units, 0);
  back.read_capacity_units = back.write_capacity_units = 1;
  EXPECT_THAT(store_->UpdateTable("orders", back).status().message(),
              HasSubstr("PAY_PER_REQUEST"));
}

TEST_F(TableStoreTest, DeleteTableLeavesItsStreamDisabledAndReadableForTheRetention) {
  clock_.SetTime(absl::FromUnixMillis(1700000000000));
  CreateStreamed(StreamViewType::kNewImage);
  const std::string stream = store_->DescribeTable("orders")->stream_name;
  ASSERT_TRUE(Put(Item("a", "1")).ok());
  ASSERT_TRUE(store_->DeleteTable("orders").ok());
  auto described = store_->DescribeStream("orders", "2023-11-14T22:13:20.000");
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_FALSE(described->enabled);
  EXPECT_EQ(described->disabled_time, absl::FromUnixMillis(1700000000000));
  EXPECT_EQ(described->key_schema.partition_key.name, "id");
  EXPECT_EQ(store_->DescribeStreamByName(stream)->label, "2023-11-14T22:13:20.000");
  EXPECT_TRUE(AllShardsClosed(stream));
  EXPECT_EQ(ChangesOf(stream).size(), 1u);

  clock_.Advance(absl::Hours(24) - absl::Seconds(1));
  EXPECT_EQ(*store_->ExpireStreams(), 0);
  Open();
  EXPECT_EQ(ChangesOf(stream).size(), 1u);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(*store_->ExpireStreams(), 1);
  EXPECT_EQ(store_->DescribeStreamByName(stream).status().code(), absl::StatusCode::kNotFound);
  v1::DescribeStreamSummaryRequest summary;
  summary.set_stream_name(stream);
  EXPECT_EQ(streams_->DescribeStreamSummary(summary).status().code(),
            absl::StatusCode::kNotFound);
  Open();
  EXPECT_THAT(Labels(), ElementsAre());
}

TEST_F(TableStoreTest, ATableRecreatedUnderItsNameHasItsOwnStreamBesideTheOldOne) {
  clock_.SetTime(absl::FromUnixMillis(1700000000000));
  CreateStreamed(StreamViewType::kNewImage);
  ASSERT_TRUE(store_->DeleteTable("orders").ok());
  CreateStreamed(StreamViewType::kNewImage);  // the same millisecond
  EXPECT_THAT(Labels("orders"), ElementsAre("orders/2023-11-14T22:13:20.000 DISABLED",
                                            "orders/2023-11-14T22:13:20.001"));
}

TEST_F(TableStoreTest, ADisabledStreamWhoseShardsDidNotCloseIsClosedByExpireStreams) {
  CreateStreamed(StreamViewType::kNewImage);
  const std::string stream = store_->DescribeTable("orders")->stream_name;
  fail_reshards_ = true;  // SealStream's write fails; the disable itself is written
  ASSERT_TRUE(SetStream(false).ok());
  EXPECT_FALSE(AllShardsClosed(stream));
  EXPECT_FALSE(store_->ExpireStreams().ok());
  fail_reshards_ = false;
  Open();  // also after a restart
  EXPECT_EQ(*store_->ExpireStreams(), 0);
  EXPECT_TRUE(AllShardsClosed(stream));
}

TEST_F(TableStoreTest, ListStreamsPagesByTableAndLabel) {
  clock_.SetTime(absl::FromUnixMillis(1700000000000));
  for (const char* name : {"bbb", "aaa"}) {
    TableSpec spec = Spec(name);
    spec.stream = {true, StreamViewType::kKeysOnly};
    ASSERT_TRUE(store_->CreateTable(spec).ok());
  }
  CreateStreamed(StreamViewType::kNewImage);
  ASSERT_TRUE(SetStream(false).ok());
  ASSERT_TRUE(SetStream(true).ok());  // orders has two
  auto page = store_->ListStreams("", "", "", 2);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->streams.size(), 2u);
  EXPECT_TRUE(page->more);
  EXPECT_EQ(page->streams[1].table_name, "bbb");
  page = store_->ListStreams("", "bbb", page->streams[1].label, 2);
  ASSERT_EQ(page->streams.size(), 2u);
  EXPECT_FALSE(page->more);
  EXPECT_EQ(page->streams[0].table_name, "orders");
  EXPECT_FALSE(page->streams[0].enabled);
  page = store_->ListStreams("orders", "orders", page->streams[0].label, 100);
  ASSERT_EQ(page->streams.size(), 1u);
  EXPECT_TRUE(page->streams[0].enabled);
  EXPECT_EQ(store_->ListStreams("aaa", "", "", 100)->streams.size(), 1u);
  EXPECT_EQ(store_->ListStreams("", "", "", 101).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Writes racing stream rollovers: every write is acknowledged (none lands in a stream whose
// shards are closed), and each item's records, stream after stream, keep its write order.
TEST_F(TableStoreTest, WritesDuringRolloversKeepEachItemsOrderAcrossStreams) {
  CreateStreamed(StreamViewType::kNewImage);
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 1; !stop.load() || i < 20; ++i) {
        if (!Put({{"id", AttributeValue::S(absl::StrCat("k", w))},
                  {"v", AttributeValue::N(absl::StrCat(i))}})
                 .ok()) {
          ++failures;
        }
        if (i > 2000) break;
      }
    });
  }
  for (int round = 0; round < 6; ++round) {
    clock_.Advance(absl::Seconds(1));
    ASSERT_TRUE(SetStream(round % 2 == 1).ok()) << round;
  }
  stop = true;
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::map<std::string, int> last;
  auto list = store_->ListStreams("orders", "", "", 100);
  ASSERT_EQ(list->streams.size(), 4u);
  for (const TableStreamDescription& stream : list->streams) {
    for (const ChangeRecord& change : ChangesOf(stream.stream_name)) {
      const std::string key = change.keys[0].second.scalar();
      const int v = std::stoi(FindAttribute(*change.new_image, "v")->scalar());
      EXPECT_GT(v, last[key]) << key << " in " << stream.label;
      last[key] = v;
    }
  }
}

// --- Shard rollover (RollOverStreamShards) ------------------------------------------------

// The shards of a shard_store stream, in index order (parents before their children).
std::vector<v1::Shard> ShardsOf(shard_store::ShardStore& streams, const std::string& stream) {
  v1::ListShardsRequest list;
  list.set_stream_name(stream);
  auto shards = streams.ListShards(list);
  EXPECT_TRUE(shards.ok()) << shards.status();
  if (!shards.ok()) return {};
  return {shards->shards().begin(), shards->shards().end()};
}

// Several generations on a fake clock with writes in between: the stream's two first shards
// roll over staggered (the upper half after P/2, the lower after P), every child P after its
// parent, each into one child of its range; the lineage survives a reopen, and every item's
// changes read parents first are all there in write order.
TEST_F(TableStoreTest, ShardsRollOverStaggeredGenerationAfterGenerationKeepingEachItemsOrder) {
  CreateStreamed(StreamViewType::kNewImage);
  const std::string stream = store_->DescribeTable("orders")->stream_name;
  auto write_all = [&](int v) {
    for (int k = 0; k < 8; ++k) {
      ASSERT_TRUE(Put({{"id", AttributeValue::S(absl::StrCat("k", k))},
                       {"v", AttributeValue::N(absl::StrCat(v))}})
                      .ok());
    }
  };
  write_all(0);
  std::vector<int> rolled_per_hour;
  for (int hour = 1; hour <= 13; ++hour) {
    clock_.Advance(absl::Hours(1));
    absl::StatusOr<int> rolled = store_->RollOverStreamShards();
    ASSERT_TRUE(rolled.ok()) << rolled.status();
    rolled_per_hour.push_back(*rolled);
    write_all(hour);
    if (hour == 7) Open();  // the schedule is the shards' creation times: kept by the store
  }
  // 4 h rollover, 2 first shards: the upper one at 2 h, the lower at 4 h, then each every 4 h.
  EXPECT_THAT(rolled_per_hour, ElementsAre(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0));
  std::vector<v1::Shard> shards = ShardsOf(*streams_, stream);
  ASSERT_EQ(shards.size(), 8u);
  std::map<std::string, const v1::Shard*> by_id;
  for (const v1::Shard& shard : shards) by_id[shard.shard_id()] = &shard;
  int open = 0;
  for (const v1::Shard& shard : shards) {
    const bool closed = !shard.sequence_number_range().ending_sequence_number().empty();
    open += closed ? 0 : 1;
    if (shard.parent_shard_id().empty()) continue;
    ASSERT_EQ(by_id.count(shard.parent_shard_id()), 1u);
    const v1::Shard& parent = *by_id[shard.parent_shard_id()];
    EXPECT_FALSE(parent.sequence_number_range().ending_sequence_number().empty());
    EXPECT_TRUE(shard.adjacent_parent_shard_id().empty());
    EXPECT_EQ(shard.hash_key_range().starting_hash_key(),
              parent.hash_key_range().starting_hash_key());
    EXPECT_EQ(shard.hash_key_range().ending_hash_key(), parent.hash_key_range().ending_hash_key());
  }
  EXPECT_EQ(open, 2);
  std::map<std::string, std::vector<int>> versions;
  for (const ChangeRecord& change : ChangesOf(stream)) {  // shards in index order
    versions[change.keys[0].second.scalar()].push_back(
        std::stoi(FindAttribute(*change.new_image, "v")->scalar()));
  }
  ASSERT_EQ(versions.size(), 8u);
  std::vector<int> all(14);
  for (int v = 0; v < 14; ++v) all[v] = v;
  for (const auto& [key, seen] : versions) EXPECT_EQ(seen, all) << key;

  // A late pass rolls each due shard over once; a disabled stream's shards roll over no more.
  clock_.Advance(absl::Hours(30));
  EXPECT_EQ(*store_->RollOverStreamShards(), 2);
  EXPECT_EQ(*store_->RollOverStreamShards(), 0);
  ASSERT_TRUE(SetStream(false).ok());
  clock_.Advance(absl::Hours(5));
  EXPECT_EQ(*store_->RollOverStreamShards(), 0);
  EXPECT_TRUE(AllShardsClosed(stream));
}

// Writes racing rollovers: every write is acknowledged and lands in the parent or the child, so
// each item's records, read parents first, keep its write order.
TEST_F(TableStoreTest, WritesRacingShardRolloversKeepEachItemsOrder) {
  CreateStreamed(StreamViewType::kNewImage);
  const std::string stream = store_->DescribeTable("orders")->stream_name;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 1; (!stop.load() || i < 20) && i <= 2000; ++i) {
        if (!Put({{"id", AttributeValue::S(absl::StrCat("k", w))},
                  {"v", AttributeValue::N(absl::StrCat(i))}})
                 .ok()) {
          ++failures;
        }
      }
    });
  }
  int rolled = 0;
  for (int round = 0; round < 8; ++round) {
    clock_.Advance(absl::Hours(2));
    absl::StatusOr<int> r = store_->RollOverStreamShards();
    ASSERT_TRUE(r.ok()) << r.status();
    rolled += *r;
  }
  stop = true;
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(rolled, 8);  // 16 h: each of the 2 lineages rolled over 4 times
  std::map<std::string, int> last;
  for (const ChangeRecord& change : ChangesOf(stream)) {
    const std::string key = change.keys[0].second.scalar();
    const int v = std::stoi(FindAttribute(*change.new_image, "v")->scalar());
    EXPECT_EQ(v, last[key] + 1) << key;  // none lost, none out of order
    last[key] = v;
  }
  EXPECT_EQ(last.size(), 3u);
}

// --- Writes of several items while tables are updated ----------------------------------------

ItemWrite PutOf(const std::string& table, AttributeMap item) {
  ItemWrite w;
  w.kind = ItemWrite::Kind::kPut;
  w.table = table;
  w.item = std::move(item);
  return w;
}

// A write of several tables begins them all at once: while any of them is being updated it
// waits holding none, so an UpdateTable of another of its tables goes ahead meanwhile.
// Regression (the merge of dynitems' transactions with dynstreams' UpdateTable): the tables
// were begun one by one, each waiting while its table was being updated; this transaction then
// held "orders" while it waited for "stock", UpdateTable("orders") waited for it, and once
// "stock" was done the transaction waited for "orders" again — neither ever ended.
TEST_F(TableStoreTest, AWriteOfSeveralTablesHoldsNoneWhileItWaitsForAnUpdate) {
  Create("orders");
  Create("stock");
  GuardedThreads threads;
  absl::Cleanup unblock = [this] { BlockCreates(false); };
  BlockCreates(true);
  absl::StatusOr<TableDescription> stock_on, orders_provisioned;
  absl::StatusOr<TransactionOutcome> outcome;
  TableUpdate on;
  on.stream = StreamSpecification{true, StreamViewType::kNewImage};
  threads.Run([&] { stock_on = store_->UpdateTable("stock", on); });
  ASSERT_TRUE(AwaitCreatesHeld(1).ok());  // "stock" is being updated
  const int waiting = clock_.NumWaiters();
  threads.Run([&] {
    outcome =
        store_->TransactWriteItems({PutOf("orders", Item("a", "1")), PutOf("stock", Item("s", "1")),
                                    PutOf("orders", Item("b", "1"))});
  });
  ASSERT_TRUE(clock_.WaitForWaiters(waiting + 1).ok());  // the transaction waits for "stock"
  TableUpdate provisioned;
  provisioned.billing_mode = BillingMode::kProvisioned;
  provisioned.read_capacity_units = provisioned.write_capacity_units = 5;
  const int update_orders =
      threads.Run([&] { orders_provisioned = store_->UpdateTable("orders", provisioned); });
  EXPECT_TRUE(threads.Ended(update_orders).ok())
      << "UpdateTable(orders) waited for a transaction that waits for another table";
  BlockCreates(false);
  absl::Status joined = threads.JoinAll();
  if (!joined.ok()) {
    // Deadlocked threads still wait on the stores: leak them rather than destroy them under them.
    store_.release();
    streams_.release();
    FAIL() << joined;
  }
  ASSERT_TRUE(stock_on.ok()) << stock_on.status();
  ASSERT_TRUE(orders_provisioned.ok()) << orders_provisioned.status();
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_TRUE(outcome->committed());
  EXPECT_EQ(Get("b"), Item("b", "1"));
  // The transaction began once "stock" had its stream: its put is that stream's one record.
  std::vector<ChangeRecord> stock_changes = ChangesOf(stock_on->stream_name);
  ASSERT_EQ(stock_changes.size(), 1u);
  EXPECT_EQ(stock_changes[0].keys, Key("s"));
}

// A batch of two items of one table waits for the table's UpdateTable as a whole (not with one
// item begun), then writes to the new stream, with its view type.
TEST_F(TableStoreTest, ABatchWaitsForARolloverAndWritesToTheNewStream) {
  CreateStreamed(StreamViewType::kNewImage);
  const std::string first = store_->DescribeTable("orders")->stream_name;
  ASSERT_TRUE(SetStream(false).ok());
  GuardedThreads threads;
  absl::Cleanup unblock = [this] { BlockCreates(false); };
  BlockCreates(true);
  clock_.Advance(absl::Seconds(1));
  absl::StatusOr<TableDescription> rolled;
  threads.Run([&] { rolled = SetStream(true, StreamViewType::kKeysOnly); });
  ASSERT_TRUE(AwaitCreatesHeld(1).ok());
  const int waiting = clock_.NumWaiters();
  absl::Status batch;
  threads.Run([&] {
    batch =
        store_->BatchWriteItem({PutOf("orders", Item("a", "1")), PutOf("orders", Item("b", "1"))});
  });
  ASSERT_TRUE(clock_.WaitForWaiters(waiting + 1).ok());
  BlockCreates(false);
  absl::Status joined = threads.JoinAll();
  if (!joined.ok()) {
    store_.release();
    streams_.release();
    FAIL() << joined;
  }
  ASSERT_TRUE(rolled.ok()) << rolled.status();
  ASSERT_TRUE(batch.ok()) << batch;
  EXPECT_THAT(ChangesOf(first), ElementsAre());
  std::vector<ChangeRecord> changes = Changes();
  ASSERT_EQ(changes.size(), 2u);
  for (const ChangeRecord& c : changes) {
    EXPECT_EQ(c.event, ChangeEvent::kInsert);
    EXPECT_EQ(c.view_type, StreamViewType::kKeysOnly);
    EXPECT_FALSE(c.new_image.has_value());
  }
}

// UpdateItem, BatchWriteItem and TransactWriteItems emit INSERT / MODIFY / REMOVE with the images
// of each table's view type, as PutItem and DeleteItem do; a condition check and a write that
// changes nothing emit none.
TEST_F(TableStoreTest, EveryKindOfWriteEmitsItsRecordsWithTheImagesOfTheViewType) {
  CreateStreamed(StreamViewType::kNewAndOldImages);
  TableSpec stock = Spec("stock");
  stock.stream = {true, StreamViewType::kOldImage};
  ASSERT_TRUE(store_->CreateTable(stock).ok());
  ASSERT_TRUE(Put(Item("a", "1")).ok());
  ASSERT_TRUE(store_->PutItem("stock", Item("s", "1"), std::nullopt).ok());
  ExpressionAttributes values({}, {{":two", AttributeValue::S("2")}});
  ItemWrite update;
  update.kind = ItemWrite::Kind::kUpdate;
  update.table = "orders";
  update.item = Key("a");
  update.update = *ParseUpdateExpression("SET v = :two", values);
  ItemWrite remove;
  remove.kind = ItemWrite::Kind::kDelete;
  remove.table = "stock";
  remove.item = Key("s");
  ItemWrite check;
  check.kind = ItemWrite::Kind::kConditionCheck;
  check.table = "orders";
  check.item = Key("absent");
  check.condition = NotExists();
  auto outcome =
      store_->TransactWriteItems({update, PutOf("orders", Item("b", "1")), remove, check});
  ASSERT_TRUE(outcome.ok() && outcome->committed()) << outcome.status();
  ASSERT_TRUE(store_->UpdateItem("orders", Key("a"), update.update, std::nullopt).ok());  // same
  ItemWrite remove_b;
  remove_b.kind = ItemWrite::Kind::kDelete;
  remove_b.table = "orders";
  remove_b.item = Key("b");
  ASSERT_TRUE(store_->BatchWriteItem({remove_b, PutOf("stock", Item("t", "1"))}).ok());

  std::map<std::string, std::vector<ChangeRecord>> orders;
  for (ChangeRecord& c : Changes()) orders[c.keys[0].second.scalar()].push_back(std::move(c));
  ASSERT_EQ(orders["a"].size(), 2u);
  EXPECT_EQ(orders["a"][1].event, ChangeEvent::kModify);
  EXPECT_EQ(orders["a"][1].old_image, Item("a", "1"));
  EXPECT_EQ(orders["a"][1].new_image, Item("a", "2"));
  ASSERT_EQ(orders["b"].size(), 2u);
  EXPECT_EQ(orders["b"][0].event, ChangeEvent::kInsert);
  EXPECT_EQ(orders["b"][0].new_image, Item("b", "1"));
  EXPECT_EQ(orders["b"][1].event, ChangeEvent::kRemove);
  EXPECT_EQ(orders["b"][1].old_image, Item("b", "1"));
  EXPECT_FALSE(orders["b"][1].new_image.has_value());
  EXPECT_EQ(orders.count("absent"), 0u);

  std::map<std::string, std::vector<ChangeRecord>> stocks;
  for (ChangeRecord& c : ChangesOf(store_->DescribeTable("stock")->stream_name)) {
    stocks[c.keys[0].second.scalar()].push_back(std::move(c));
  }
  ASSERT_EQ(stocks["s"].size(), 2u);
  EXPECT_EQ(stocks["s"][1].event, ChangeEvent::kRemove);
  EXPECT_EQ(stocks["s"][1].old_image, Item("s", "1"));
  ASSERT_EQ(stocks["t"].size(), 1u);
  EXPECT_EQ(stocks["t"][0].event, ChangeEvent::kInsert);
  EXPECT_EQ(stocks["t"][0].view_type, StreamViewType::kOldImage);
  EXPECT_FALSE(stocks["t"][0].new_image.has_value());
  EXPECT_FALSE(stocks["t"][0].old_image.has_value());
}

}  // namespace
}  // namespace tributary::tables
