#include "tables/table_store.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/rocksdb_util.h"
#include "common/testing/test_util.h"
#include "shard_store/shard_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::tables {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using T = AttributeValue::Type;

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
    shard_store::ShardStoreOptions options;
    options.data_dir = dir_;
    options.extra_column_families = TableStore::ColumnFamilies();
    options.write_interceptor = [this](shard_store::WriteKind kind) {
      return kind == shard_store::WriteKind::kRecords && fail_record_writes_
                 ? rocksdb::Status::IOError("injected record write failure")
                 : rocksdb::Status::OK();
    };
    auto streams = shard_store::ShardStore::Create(options, clock_);
    ASSERT_TRUE(streams.ok()) << streams.status();
    streams_ = *std::move(streams);
    TableStoreOptions table_options;
    table_options.streams = streams_.get();
    table_options.table_stream_shards = 2;
    auto store = TableStore::Create(streams_->db(), clock_, table_options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void CreateStreamed(StreamViewType view) {
    TableSpec spec = Spec("orders");
    spec.stream = {true, view};
    ASSERT_TRUE(store_->CreateTable(spec).ok());
  }
  // Every change record of the table's stream, all shards, decoded.
  std::vector<ChangeRecord> Changes() {
    std::vector<ChangeRecord> out;
    const std::string stream = store_->DescribeTable("orders")->stream_name;
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
  static Condition NotExists() { return *ParseCondition("attribute_not_exists(id)", {}); }
  static Condition Exists() { return *ParseCondition("attribute_exists(id)", {}); }

  FakeClock clock_;
  std::string dir_;
  bool fail_record_writes_ = false;
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

}  // namespace
}  // namespace tributary::tables
