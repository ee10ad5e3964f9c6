// The item API of TableStore beyond Put/Get/Delete: UpdateItem, BatchWriteItem,
// TransactWriteItems, GetItems, Query and Scan, with the change records they write.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/rocksdb_util.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shard_store/shard_store.h"
#include "tables/table_store.h"
#include "tables/testing/open_tables.h"

namespace tributary::tables {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using T = AttributeValue::Type;
using V = AttributeValue;

class TableStoreItemsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tributary::testing::NewTempDir("table_store_items");
    Open();
  }
  void Open() {
    store_.reset();
    streams_.reset();
    auto opened = testing::OpenTables(dir_, clock_, 2, [this](shard_store::WriteKind kind) {
      return kind == shard_store::WriteKind::kRecords && fail_record_writes_
                 ? rocksdb::Status::IOError("injected record write failure")
                 : rocksdb::Status::OK();
    });
    ASSERT_TRUE(opened.ok()) << opened.status();
    streams_ = std::move(opened->streams);
    store_ = std::move(opened->store);
  }

  // A table keyed by id (S) and, with `sort`, n of that type; a NEW_AND_OLD_IMAGES stream when
  // `streamed`.
  void Create(const std::string& name, std::optional<T> sort = std::nullopt,
              bool streamed = false) {
    TableSpec spec;
    spec.name = name;
    spec.key_schema.partition_key = {"id", T::kS};
    if (sort) spec.key_schema.sort_key = KeyAttribute{"n", *sort};
    spec.billing_mode = BillingMode::kPayPerRequest;
    if (streamed) spec.stream = {true, StreamViewType::kNewAndOldImages};
    ASSERT_TRUE(store_->CreateTable(spec).ok());
  }

  // Every change record of `table`'s stream.
  std::vector<ChangeRecord> Changes(const std::string& table) {
    std::vector<ChangeRecord> out;
    const std::string stream = store_->DescribeTable(table)->stream_name;
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
  std::vector<ChangeEvent> Events(const std::string& table) {
    std::vector<ChangeEvent> out;
    for (const ChangeRecord& r : Changes(table)) out.push_back(r.event);
    return out;
  }

  static AttributeMap Key(const std::string& id) { return {{"id", V::S(id)}}; }
  static AttributeMap Item(const std::string& id, const std::string& v) {
    return {{"id", V::S(id)}, {"v", V::S(v)}};
  }
  void Put(const std::string& table, AttributeMap item) {
    ASSERT_TRUE(store_->PutItem(table, std::move(item), std::nullopt).ok());
  }
  std::optional<AttributeMap> Get(const std::string& table, const AttributeMap& key) {
    auto item = store_->GetItem(table, key);
    EXPECT_TRUE(item.ok()) << item.status();
    return item.ok() ? *item : std::nullopt;
  }

  // Parses expressions against `values` (":x" → value).
  static UpdateExpression Update(const std::string& text,
                                 std::map<std::string, AttributeValue> values = {}) {
    ExpressionAttributes attributes({}, std::move(values));
    absl::StatusOr<UpdateExpression> u = ParseUpdateExpression(text, attributes);
    EXPECT_TRUE(u.ok()) << u.status();
    return u.ok() ? *u : UpdateExpression();
  }
  static Condition Cond(const std::string& text,
                        std::map<std::string, AttributeValue> values = {}) {
    ExpressionAttributes attributes({}, std::move(values));
    absl::StatusOr<Condition> c = ParseCondition(text, attributes);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : Condition();
  }
  static KeyCondition KeyCond(const std::string& text,
                              std::map<std::string, AttributeValue> values, T sort = T::kN) {
    KeySchema schema;
    schema.partition_key = {"id", T::kS};
    schema.sort_key = KeyAttribute{"n", sort};
    ExpressionAttributes attributes({}, std::move(values));
    absl::StatusOr<KeyCondition> k = ParseKeyConditionExpression(text, attributes, schema);
    EXPECT_TRUE(k.ok()) << k.status();
    return k.ok() ? *k : KeyCondition();
  }
  static ItemWrite Write(ItemWrite::Kind kind, const std::string& table, AttributeMap item,
                         std::optional<Condition> condition = std::nullopt) {
    ItemWrite w;
    w.kind = kind;
    w.table = table;
    w.item = std::move(item);
    w.condition = std::move(condition);
    return w;
  }
  // The sort keys (n) of a page's items.
  static std::vector<std::string> SortKeys(const ItemPage& page) {
    std::vector<std::string> out;
    for (const AttributeMap& item : page.items) {
      const AttributeValue* n = FindAttribute(item, "n");
      out.push_back(n == nullptr ? "?" : n->scalar());
    }
    return out;
  }
  void PutSorted(const std::string& id, const std::vector<std::string>& numbers) {
    for (const std::string& n : numbers) Put("qry", {{"id", V::S(id)}, {"n", V::N(n)}});
  }

  FakeClock clock_;
  std::string dir_;
  bool fail_record_writes_ = false;
  std::unique_ptr<shard_store::ShardStore> streams_;
  std::unique_ptr<TableStore> store_;
};

// --- UpdateItem ------------------------------------------------------------------------------

TEST_F(TableStoreItemsTest, UpdateCreatesAMissingItemWithAnInsertRecord) {
  Create("tbl", std::nullopt, /*streamed=*/true);
  auto out = store_->UpdateItem("tbl", Key("a"), Update("SET v = :x", {{":x", V::S("1")}}),
                                std::nullopt);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE(out->old_item.has_value());
  EXPECT_EQ(out->new_item, Item("a", "1"));
  EXPECT_EQ(Get("tbl", Key("a")), Item("a", "1"));
  std::vector<ChangeRecord> changes = Changes("tbl");
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].event, ChangeEvent::kInsert);
  EXPECT_EQ(changes[0].new_image, Item("a", "1"));
}

TEST_F(TableStoreItemsTest, UpdateModifiesAndAnUpdateThatChangesNothingWritesNoRecord) {
  Create("tbl", std::nullopt, /*streamed=*/true);
  Put("tbl", Item("a", "1"));
  ASSERT_TRUE(store_->UpdateItem("tbl", Key("a"), Update("SET v = :x", {{":x", V::S("2")}}),
                                 std::nullopt)
                  .ok());
  // SET to the same value, REMOVE of an absent attribute: no change, no record (as DynamoDB).
  ASSERT_TRUE(store_->UpdateItem("tbl", Key("a"), Update("SET v = :x", {{":x", V::S("2")}}),
                                 std::nullopt)
                  .ok());
  ASSERT_TRUE(store_->UpdateItem("tbl", Key("a"), Update("REMOVE absent"), std::nullopt).ok());
  EXPECT_THAT(Events("tbl"), ElementsAre(ChangeEvent::kInsert, ChangeEvent::kModify));
  EXPECT_EQ(Get("tbl", Key("a")), Item("a", "2"));
}

TEST_F(TableStoreItemsTest, AFailedUpdateConditionWritesNothingAndCarriesTheItem) {
  Create("tbl", std::nullopt, /*streamed=*/true);
  Put("tbl", Item("a", "1"));
  auto out = store_->UpdateItem("tbl", Key("a"), Update("SET v = :x", {{":x", V::S("2")}}),
                                Cond("v = :old", {{":old", V::S("0")}}));
  ASSERT_EQ(out.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ItemOfFailedCondition(out.status()), Item("a", "1"));
  EXPECT_EQ(Get("tbl", Key("a")), Item("a", "1"));
  EXPECT_THAT(Events("tbl"), ElementsAre(ChangeEvent::kInsert));
  // A put's failed condition on no item carries none.
  auto put = store_->PutItem("tbl", Item("b", "1"), Cond("attribute_exists(id)"));
  EXPECT_EQ(put.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(ItemOfFailedCondition(put.status()).has_value());
}

TEST_F(TableStoreItemsTest, AnUpdateThatCannotApplyIsInvalidAndWritesNothing) {
  Create("tbl");
  Put("tbl", Item("a", "1"));
  auto out = store_->UpdateItem("tbl", Key("a"), Update("SET v = v + :one", {{":one", V::N("1")}}),
                                std::nullopt);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("incorrect data type"));
  out = store_->UpdateItem("tbl", Key("a"), Update("SET id = :one", {{":one", V::N("1")}}),
                           std::nullopt);
  EXPECT_THAT(out.status().message(), HasSubstr("This attribute is part of the key"));
  EXPECT_EQ(Get("tbl", Key("a")), Item("a", "1"));
}

// --- Transactions and batches ----------------------------------------------------------------

TEST_F(TableStoreItemsTest, ATransactionWritesEveryTableAndEveryStreamTogether) {
  Create("orders", std::nullopt, /*streamed=*/true);
  Create("stock", std::nullopt, /*streamed=*/true);
  Create("plain");
  Put("stock", {{"id", V::S("widget")}, {"count", V::N("5")}});
  ExpressionAttributes a({{"#c", "count"}}, {{":one", V::N("1")}, {":minus", V::N("-1")}});
  ItemWrite take = Write(ItemWrite::Kind::kUpdate, "stock", Key("widget"),
                         *ParseCondition("#c >= :one", a));
  take.update = *ParseUpdateExpression("ADD #c :minus", a);
  auto outcome = store_->TransactWriteItems(
      {Write(ItemWrite::Kind::kPut, "orders", Item("o1", "widget")), take,
       Write(ItemWrite::Kind::kPut, "plain", Item("p", "x"))});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_TRUE(outcome->committed());
  EXPECT_EQ(Get("stock", Key("widget")),
            (AttributeMap{{"count", V::N("4")}, {"id", V::S("widget")}}));
  EXPECT_EQ(Get("plain", Key("p")), Item("p", "x"));
  EXPECT_THAT(Events("orders"), ElementsAre(ChangeEvent::kInsert));
  EXPECT_THAT(Events("stock"), ElementsAre(ChangeEvent::kInsert, ChangeEvent::kModify));
}

TEST_F(TableStoreItemsTest, AFailedTransactionWriteLeavesNoItemAndNoRecordAnywhere) {
  Create("orders", std::nullopt, /*streamed=*/true);
  Create("stock", std::nullopt, /*streamed=*/true);
  fail_record_writes_ = true;
  auto outcome = store_->TransactWriteItems(
      {Write(ItemWrite::Kind::kPut, "orders", Item("o1", "x")),
       Write(ItemWrite::Kind::kPut, "stock", Item("s1", "y"))});
  EXPECT_FALSE(outcome.ok());
  fail_record_writes_ = false;
  Open();
  EXPECT_EQ(Get("orders", Key("o1")), std::nullopt);
  EXPECT_EQ(Get("stock", Key("s1")), std::nullopt);
  EXPECT_THAT(Events("orders"), ElementsAre());
  EXPECT_THAT(Events("stock"), ElementsAre());
}

TEST_F(TableStoreItemsTest, ACancelledTransactionReportsAReasonPerWriteAndWritesNothing) {
  Create("tbl", std::nullopt, /*streamed=*/true);
  Put("tbl", Item("a", "1"));
  ItemWrite bad_update = Write(ItemWrite::Kind::kUpdate, "tbl", Key("c"));
  bad_update.update = Update("SET v = absent");
  auto outcome = store_->TransactWriteItems(
      {Write(ItemWrite::Kind::kPut, "tbl", Item("b", "2")),
       Write(ItemWrite::Kind::kConditionCheck, "tbl", Key("a"),
             Cond("v = :two", {{":two", V::S("2")}})),
       bad_update});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_FALSE(outcome->committed());
  const auto& reasons = outcome->cancellation_reasons;
  ASSERT_EQ(reasons.size(), 3u);
  EXPECT_TRUE(reasons[0].status.ok());
  EXPECT_EQ(reasons[1].status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reasons[1].item, Item("a", "1"));
  EXPECT_EQ(reasons[2].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Get("tbl", Key("b")), std::nullopt);
  EXPECT_THAT(Events("tbl"), ElementsAre(ChangeEvent::kInsert));
}

TEST_F(TableStoreItemsTest, TwoWritesOfOneItemAreRejected) {
  Create("tbl");
  auto outcome = store_->TransactWriteItems({Write(ItemWrite::Kind::kPut, "tbl", Item("a", "1")),
                                             Write(ItemWrite::Kind::kDelete, "tbl", Key("a"))});
  EXPECT_THAT(outcome.status().message(),
              HasSubstr("Transaction request cannot include multiple operations on one item"));
  EXPECT_THAT(store_->BatchWriteItem({Write(ItemWrite::Kind::kPut, "tbl", Item("a", "1")),
                                      Write(ItemWrite::Kind::kPut, "tbl", Item("a", "2"))})
                  .message(),
              HasSubstr("Provided list of item keys contains duplicates"));
  EXPECT_EQ(Get("tbl", Key("a")), std::nullopt);
}

TEST_F(TableStoreItemsTest, ABatchPutsAndDeletesWithTheirRecords) {
  Create("tbl", std::nullopt, /*streamed=*/true);
  Put("tbl", Item("gone", "1"));
  ASSERT_TRUE(store_->BatchWriteItem({Write(ItemWrite::Kind::kPut, "tbl", Item("a", "1")),
                                      Write(ItemWrite::Kind::kPut, "tbl", Item("b", "2")),
                                      Write(ItemWrite::Kind::kDelete, "tbl", Key("gone"))})
                  .ok());
  EXPECT_EQ(Get("tbl", Key("a")), Item("a", "1"));
  EXPECT_EQ(Get("tbl", Key("gone")), std::nullopt);
  std::vector<ChangeEvent> events = Events("tbl");
  std::sort(events.begin(), events.end());
  EXPECT_THAT(events, ElementsAre(ChangeEvent::kInsert, ChangeEvent::kInsert,
                                  ChangeEvent::kInsert, ChangeEvent::kRemove));
  EXPECT_EQ(store_->BatchWriteItem({Write(ItemWrite::Kind::kPut, "tbl", Item("c", "1"),
                                          Cond("attribute_not_exists(id)"))})
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// Transactions on shared keys in opposite orders neither deadlock nor lose an increment.
TEST_F(TableStoreItemsTest, ConcurrentTransactionsOnSharedItemsSerialize) {
  Create("tbl");
  ExpressionAttributes a({}, {{":one", V::N("1")}});
  const UpdateExpression increment = *ParseUpdateExpression("ADD c :one", a);
  auto run = [&](const std::string& first, const std::string& second) {
    for (int i = 0; i < 50; ++i) {
      ItemWrite x = Write(ItemWrite::Kind::kUpdate, "tbl", Key(first));
      x.update = increment;
      ItemWrite y = Write(ItemWrite::Kind::kUpdate, "tbl", Key(second));
      y.update = increment;
      auto outcome = store_->TransactWriteItems({x, y});
      EXPECT_TRUE(outcome.ok() && outcome->committed()) << outcome.status();
    }
  };
  std::thread one(run, "a", "b");
  std::thread two(run, "b", "a");
  one.join();
  two.join();
  EXPECT_EQ(*FindAttribute(*Get("tbl", Key("a")), "c"), V::N("100"));
  EXPECT_EQ(*FindAttribute(*Get("tbl", Key("b")), "c"), V::N("100"));
}

TEST_F(TableStoreItemsTest, GetItemsReadsSeveralTablesAndReportsMissingItems) {
  Create("tbl");
  Create("ubl");
  Put("tbl", Item("a", "1"));
  Put("ubl", Item("b", "2"));
  auto items = store_->GetItems({{"tbl", Key("a")}, {"ubl", Key("b")}, {"tbl", Key("none")}});
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_THAT(*items, ElementsAre(Item("a", "1"), Item("b", "2"), std::nullopt));
  EXPECT_EQ(store_->GetItems({{"absent", Key("a")}}).status().code(),
            absl::StatusCode::kNotFound);
}

// --- Query and Scan --------------------------------------------------------------------------

TEST_F(TableStoreItemsTest, AQueryReadsOnePartitionInNumericSortKeyOrder) {
  Create("qry", T::kN);
  PutSorted("p", {"10", "-2", "0.5", "2", "-10", "0", "-0.5", "100"});
  PutSorted("other", {"1"});
  ReadRequest r;
  r.table = "qry";
  r.key_condition = KeyCond("id = :p", {{":p", V::S("p")}});
  auto page = store_->Query(r);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(SortKeys(*page), ElementsAre("-10", "-2", "-0.5", "0", "0.5", "2", "10", "100"));
  r.forward = false;
  EXPECT_THAT(SortKeys(*store_->Query(r)),
              ElementsAre("100", "10", "2", "0.5", "0", "-0.5", "-2", "-10"));
}

TEST_F(TableStoreItemsTest, SortKeyConditionsSelectTheirRange) {
  Create("qry", T::kN);
  PutSorted("p", {"1", "2", "3", "4", "5"});
  auto query = [&](const std::string& condition) {
    ReadRequest r;
    r.table = "qry";
    r.key_condition = KeyCond("id = :p AND " + condition,
                              {{":p", V::S("p")}, {":a", V::N("2")}, {":b", V::N("4")}});
    auto page = store_->Query(r);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? SortKeys(*page) : std::vector<std::string>();
  };
  EXPECT_THAT(query("n = :a"), ElementsAre("2"));
  EXPECT_THAT(query("n < :a"), ElementsAre("1"));
  EXPECT_THAT(query("n <= :a"), ElementsAre("1", "2"));
  EXPECT_THAT(query("n > :b"), ElementsAre("5"));
  EXPECT_THAT(query("n >= :b"), ElementsAre("4", "5"));
  EXPECT_THAT(query("n BETWEEN :a AND :b"), ElementsAre("2", "3", "4"));
}

TEST_F(TableStoreItemsTest, BeginsWithSelectsAStringPrefixInByteOrder) {
  Create("str", T::kS);
  for (const char* n : {"ab", "a", "abc", "b", "ab\xff", "abd"}) {
    Put("str", {{"id", V::S("p")}, {"n", V::S(n)}});
  }
  ReadRequest r;
  r.table = "str";
  r.key_condition =
      KeyCond("id = :p AND begins_with(n, :x)", {{":p", V::S("p")}, {":x", V::S("ab")}}, T::kS);
  EXPECT_THAT(SortKeys(*store_->Query(r)), ElementsAre("ab", "abc", "abd", "ab\xff"));
}

TEST_F(TableStoreItemsTest, BinarySortKeysOrderAsUnsignedBytes) {
  Create("bin", T::kB);
  for (const std::string& n : {std::string("\xff"), std::string("\x80"), std::string("\x7f"),
                               std::string("\x00", 1), std::string("\x00\x01", 2)}) {
    Put("bin", {{"id", V::S("p")}, {"n", V::B(n)}});
  }
  ReadRequest r;
  r.table = "bin";
  r.key_condition = KeyCond("id = :p AND n > :lo", {{":p", V::S("p")}, {":lo", V::B("\x7f")}},
                            T::kB);
  auto page = store_->Query(r);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(SortKeys(*page), ElementsAre("\x80", "\xff"));
  r.key_condition = KeyCond("id = :p", {{":p", V::S("p")}}, T::kB);
  EXPECT_THAT(SortKeys(*store_->Query(r)),
              ElementsAre(std::string("\x00", 1), std::string("\x00\x01", 2), "\x7f", "\x80",
                          "\xff"));
}

TEST_F(TableStoreItemsTest, PagesFollowLimitAndExclusiveStartKeyInBothDirections) {
  Create("qry", T::kN);
  PutSorted("p", {"1", "2", "3", "4", "5"});
  for (bool forward : {true, false}) {
    ReadRequest r;
    r.table = "qry";
    r.key_condition = KeyCond("id = :p", {{":p", V::S("p")}});
    r.forward = forward;
    r.limit = 2;
    std::vector<std::string> all;
    int pages = 0;
    do {
      auto page = store_->Query(r);
      ASSERT_TRUE(page.ok()) << page.status();
      for (const std::string& n : SortKeys(*page)) all.push_back(n);
      r.exclusive_start_key = page->last_evaluated_key;
      ++pages;
    } while (r.exclusive_start_key.has_value() && pages < 10);
    EXPECT_EQ(pages, 3);
    if (forward) {
      EXPECT_THAT(all, ElementsAre("1", "2", "3", "4", "5"));
    } else {
      EXPECT_THAT(all, ElementsAre("5", "4", "3", "2", "1"));
    }
  }
}

TEST_F(TableStoreItemsTest, APageStopsAtOneMegabyteRead) {
  Create("big", T::kN);
  const std::string blob(100 * 1024, 'x');
  for (int i = 0; i < 15; ++i) {
    Put("big", {{"id", V::S("p")}, {"n", V::N(std::to_string(i))}, {"payload", V::S(blob)}});
  }
  ReadRequest r;
  r.table = "big";
  auto page = store_->Scan(r);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->scanned_count, 11);  // the item that reaches 1 MB is the page's last
  ASSERT_TRUE(page->last_evaluated_key.has_value());
  r.exclusive_start_key = page->last_evaluated_key;
  page = store_->Scan(r);
  EXPECT_EQ(page->scanned_count, 4);
  EXPECT_FALSE(page->last_evaluated_key.has_value());
}

TEST_F(TableStoreItemsTest, TheFilterAppliesAfterTheLimitAndTheProjectionToWhatPasses) {
  Create("qry", T::kN);
  for (int i = 1; i <= 6; ++i) {
    Put("qry", {{"id", V::S("p")}, {"n", V::N(std::to_string(i))}, {"even", V::Bool(i % 2 == 0)},
              {"x", V::S("big")}});
  }
  ReadRequest r;
  r.table = "qry";
  r.key_condition = KeyCond("id = :p", {{":p", V::S("p")}});
  r.limit = 4;
  r.filter = Cond("even = :t", {{":t", V::Bool(true)}});
  ExpressionAttributes none;
  r.projection = *ParseProjectionExpression("n", none);
  auto page = store_->Query(r);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->scanned_count, 4);
  EXPECT_THAT(page->items, ElementsAre(AttributeMap{{"n", V::N("2")}},
                                       AttributeMap{{"n", V::N("4")}}));
  EXPECT_EQ(page->last_evaluated_key,
            (AttributeMap{{"id", V::S("p")}, {"n", V::N("4")}}));
}

TEST_F(TableStoreItemsTest, ScanSegmentsPartitionTheTable) {
  Create("tbl");
  for (int i = 0; i < 40; ++i) Put("tbl", Item("k" + std::to_string(i), "v"));
  std::multiset<std::string> seen;
  for (int segment = 0; segment < 3; ++segment) {
    ReadRequest r;
    r.table = "tbl";
    r.segment = segment;
    r.total_segments = 3;
    auto page = store_->Scan(r);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_GT(page->items.size(), 0u);
    for (const AttributeMap& item : page->items) seen.insert(FindAttribute(item, "id")->scalar());
  }
  EXPECT_EQ(seen.size(), 40u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 40u);  // each once
  ReadRequest bad;
  bad.table = "tbl";
  bad.segment = 3;
  bad.total_segments = 3;
  EXPECT_EQ(store_->Scan(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TableStoreItemsTest, AQueryFilterMayNotNameAKeyAttribute) {
  Create("qry", T::kN);
  ReadRequest r;
  r.table = "qry";
  r.key_condition = KeyCond("id = :p", {{":p", V::S("p")}});
  r.filter = Cond("x = :one OR size(n) > :one", {{":one", V::N("1")}});
  EXPECT_THAT(store_->Query(r).status().message(),
              HasSubstr("Filter Expression can only contain non-primary key attributes: Primary "
                        "key attribute: n"));
  ReadRequest scan;
  scan.table = "qry";
  scan.filter = r.filter;  // a Scan may
  EXPECT_TRUE(store_->Scan(scan).ok());
}

TEST_F(TableStoreItemsTest, AStartingKeyMustBeAKeyOfTheQueriedPartition) {
  Create("qry", T::kN);
  ReadRequest r;
  r.table = "qry";
  r.key_condition = KeyCond("id = :p", {{":p", V::S("p")}});
  r.exclusive_start_key = AttributeMap{{"id", V::S("p")}};
  EXPECT_THAT(store_->Query(r).status().message(),
              HasSubstr("The provided starting key is invalid"));
  r.exclusive_start_key = AttributeMap{{"id", V::S("other")}, {"n", V::N("1")}};
  EXPECT_THAT(store_->Query(r).status().message(), HasSubstr("outside query boundaries"));
}

TEST_F(TableStoreItemsTest, AClientRequestTokenWritesATransactionOnceForTenMinutes) {
  Create("tok_table", std::nullopt, /*streamed=*/true);
  const std::vector<ItemWrite> put = {Write(ItemWrite::Kind::kPut, "tok_table", Item("a", "1"))};
  const TransactionToken token{"tok", "request-1"};
  auto first = store_->TransactWriteItems(put, token);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->committed());
  EXPECT_FALSE(first->replayed);
  Put("tok_table", Item("a", "2"));  // changed since
  // The same token and request: success, nothing written again.
  auto again = store_->TransactWriteItems(put, token);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->committed());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(Get("tok_table", Key("a")), Item("a", "2"));
  EXPECT_THAT(Events("tok_table"), ElementsAre(ChangeEvent::kInsert, ChangeEvent::kModify));
  // Another request under the token.
  auto other = store_->TransactWriteItems(put, TransactionToken{"tok", "request-2"});
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TransactionTokenError(other.status()), "IdempotentParameterMismatchException");
  // Just before ten minutes it is still a replay; after them the token is new again.
  clock_.Advance(kTransactionTokenWindow - absl::Seconds(1));
  again = store_->TransactWriteItems(put, token);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(Get("tok_table", Key("a")), Item("a", "2"));
  clock_.Advance(absl::Seconds(1));
  again = store_->TransactWriteItems(put, token);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->replayed);
  EXPECT_EQ(Get("tok_table", Key("a")), Item("a", "1"));
  // Other errors carry no token error.
  EXPECT_EQ(TransactionTokenError(absl::InvalidArgumentError("x")), "");
}

// Stored TransactWriteItems tokens (key prefix "x") in the tables family.
int StoredTokens(shard_store::ShardStore& streams) {
  std::unique_ptr<rocksdb::Iterator> it(streams.db().db()->NewIterator(
      rocksdb::ReadOptions(), streams.db().Handle(TableStore::ColumnFamilies()[0])));
  int n = 0;
  for (it->Seek("x"); it->Valid() && it->key().starts_with("x"); it->Next()) ++n;
  return n;
}

// Regression: tokens were kept in memory only, so a client's retry after a restart wrote its
// transaction a second time.
TEST_F(TableStoreItemsTest, ClientRequestTokensOutliveARestartForTheirTenMinutes) {
  Create("tok_table", std::nullopt, /*streamed=*/true);
  Put("tok_table", Item("same", "1"));
  const std::vector<ItemWrite> put = {Write(ItemWrite::Kind::kPut, "tok_table", Item("a", "1"))};
  const std::vector<ItemWrite> no_change = {
      Write(ItemWrite::Kind::kPut, "tok_table", Item("same", "1"))};
  const std::vector<ItemWrite> cancelled = {
      Write(ItemWrite::Kind::kPut, "tok_table", Item("c", "1"), Cond("attribute_exists(id)"))};
  ASSERT_TRUE(store_->TransactWriteItems(put, TransactionToken{"t1", "r1"}).ok());
  ASSERT_TRUE(store_->TransactWriteItems(no_change, TransactionToken{"t2", "r2"}).ok());
  auto c = store_->TransactWriteItems(cancelled, TransactionToken{"t3", "r3"});
  ASSERT_TRUE(c.ok());
  ASSERT_FALSE(c->committed());
  clock_.Advance(absl::Minutes(5));
  Open();  // a restart
  Put("tok_table", Item("a", "2"));
  // The same token and request: replayed, nothing written.
  auto again = store_->TransactWriteItems(put, TransactionToken{"t1", "r1"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(Get("tok_table", Key("a")), Item("a", "2"));
  // Another request under it: IdempotentParameterMismatch.
  auto other = store_->TransactWriteItems(put, TransactionToken{"t1", "r1 changed"});
  EXPECT_EQ(TransactionTokenError(other.status()), "IdempotentParameterMismatchException");
  // A transaction that changed no item kept its token too; a cancelled one left it free.
  again = store_->TransactWriteItems(no_change, TransactionToken{"t2", "r2"});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  Put("tok_table", Item("c", "0"));
  again = store_->TransactWriteItems(cancelled, TransactionToken{"t3", "r3"});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->committed());
  EXPECT_FALSE(again->replayed);
  EXPECT_EQ(Get("tok_table", Key("c")), Item("c", "1"));
  EXPECT_EQ(StoredTokens(*streams_), 3);
  // The window counts from the first write, also across the restart.
  clock_.Advance(absl::Minutes(5));
  Open();
  again = store_->TransactWriteItems(put, TransactionToken{"t1", "r1"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->replayed);
  EXPECT_EQ(Get("tok_table", Key("a")), Item("a", "1"));
  // The upkeep deletes the expired ones from disk (t1's first window and t2), not the live ones.
  ASSERT_TRUE(store_->ExpireTransactionTokens().ok());
  EXPECT_EQ(StoredTokens(*streams_), 2);  // t3's and t1's second window
  clock_.Advance(kTransactionTokenWindow);
  ASSERT_TRUE(store_->ExpireTransactionTokens().ok());
  EXPECT_EQ(StoredTokens(*streams_), 0);
}

TEST_F(TableStoreItemsTest, ACancelledTransactionLeavesItsTokenFree) {
  Create("tok_table");
  const std::vector<ItemWrite> put = {
      Write(ItemWrite::Kind::kPut, "tok_table", Item("a", "1"), Cond("attribute_exists(id)"))};
  const TransactionToken token{"tok", "request"};
  auto cancelled = store_->TransactWriteItems(put, token);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_FALSE(cancelled->committed());
  Put("tok_table", Item("a", "0"));
  auto written = store_->TransactWriteItems(put, token);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_TRUE(written->committed());
  EXPECT_FALSE(written->replayed);
  EXPECT_EQ(Get("tok_table", Key("a")), Item("a", "1"));
}

TEST_F(TableStoreItemsTest, ATransactionOfMoreThanFourMegabytesIsRefused) {
  Create("tok_table");
  std::vector<ItemWrite> writes;
  for (int i = 0; i < 11; ++i) {  // 11 × 390 KB > 4 MB
    writes.push_back(Write(ItemWrite::Kind::kPut, "tok_table",
                           Item("k" + std::to_string(i), std::string(390 * 1024, 'x'))));
  }
  auto outcome = store_->TransactWriteItems(writes);
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(outcome.status().message()),
              HasSubstr("Transaction request cannot be larger than 4 MB"));
  EXPECT_EQ(Get("tok_table", Key("k0")), std::nullopt);
  writes.pop_back();  // 10 × 390 KB < 4 MB
  outcome = store_->TransactWriteItems(writes);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_TRUE(outcome->committed());
}

}  // namespace
}  // namespace tributary::tables
