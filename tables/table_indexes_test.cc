// Secondary indexes of TableStore: CreateTable's checks, entries kept with their items in one
// write (sparse, projected, moved by updates, gone with deletes and the table), and Query / Scan
// of an index.
#include <map>
#include <memory>
#include <optional>
#include <string>
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

class TableIndexesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tributary::testing::NewTempDir("table_indexes");
    Open();
  }
  void Open() {
    store_.reset();
    streams_.reset();
    auto opened = testing::OpenTables(dir_, clock_, 1, [this](shard_store::WriteKind kind) {
      return kind == shard_store::WriteKind::kRecords && fail_record_writes_
                 ? rocksdb::Status::IOError("injected record write failure")
                 : rocksdb::Status::OK();
    });
    ASSERT_TRUE(opened.ok()) << opened.status();
    streams_ = std::move(opened->streams);
    store_ = std::move(opened->store);
  }

  static IndexSpec Index(const std::string& name, IndexKind kind, KeyAttribute hash,
                         std::optional<KeyAttribute> range,
                         ProjectionType projection = ProjectionType::kAll,
                         std::vector<std::string> non_key = {}) {
    IndexSpec index;
    index.name = name;
    index.kind = kind;
    index.key_schema.partition_key = std::move(hash);
    index.key_schema.sort_key = std::move(range);
    index.projection = projection;
    index.non_key_attributes = std::move(non_key);
    return index;
  }
  // "orders": customer (S) + id (S); LSI byTotal (customer, total N, KEYS_ONLY); GSI byStatus
  // (status S, placed S, INCLUDE total); GSI byTag (tag B, ALL).
  static TableSpec Orders(bool streamed = false) {
    TableSpec spec;
    spec.name = "orders";
    spec.key_schema.partition_key = {"customer", T::kS};
    spec.key_schema.sort_key = KeyAttribute{"id", T::kS};
    spec.billing_mode = BillingMode::kPayPerRequest;
    if (streamed) spec.stream = {true, StreamViewType::kNewAndOldImages};
    spec.indexes.push_back(Index("byTotal", IndexKind::kLocal, {"customer", T::kS},
                                 KeyAttribute{"total", T::kN}, ProjectionType::kKeysOnly));
    spec.indexes.push_back(Index("byStatus", IndexKind::kGlobal, {"status", T::kS},
                                 KeyAttribute{"placed", T::kS}, ProjectionType::kInclude,
                                 {"total"}));
    spec.indexes.push_back(Index("byTag", IndexKind::kGlobal, {"tag", T::kB}, std::nullopt));
    return spec;
  }
  void CreateOrders(bool streamed = false) {
    auto d = store_->CreateTable(Orders(streamed));
    ASSERT_TRUE(d.ok()) << d.status();
  }
  static AttributeMap Order(const std::string& customer, const std::string& id,
                            std::optional<std::string> status, std::optional<std::string> placed,
                            std::optional<std::string> total) {
    AttributeMap item = {{"customer", V::S(customer)}, {"id", V::S(id)}, {"note", V::S("n")}};
    if (status) item.emplace_back("status", V::S(*status));
    if (placed) item.emplace_back("placed", V::S(*placed));
    if (total) item.emplace_back("total", V::N(*total));
    EXPECT_TRUE(SortAttributeMap(&item).ok());
    return item;
  }
  absl::Status Put(AttributeMap item) {
    return store_->PutItem("orders", std::move(item), std::nullopt).status();
  }
  static KeyCondition Partition(AttributeValue v) {
    KeyCondition k;
    k.partition_value = std::move(v);
    return k;
  }
  static KeyCondition Sorted(AttributeValue v, KeyCondition::SortOp op, AttributeValue s,
                             AttributeValue s2 = AttributeValue()) {
    KeyCondition k = Partition(std::move(v));
    k.sort_op = op;
    k.sort_value = std::move(s);
    k.sort_value2 = std::move(s2);
    return k;
  }
  absl::StatusOr<ItemPage> QueryIndex(const std::string& index, KeyCondition k,
                                      bool forward = true, int64_t limit = 0,
                                      std::optional<AttributeMap> start = std::nullopt) {
    ReadRequest r;
    r.table = "orders";
    r.index = index;
    r.key_condition = std::move(k);
    r.forward = forward;
    r.limit = limit;
    r.exclusive_start_key = std::move(start);
    return store_->Query(r);
  }
  // The ids of a page's items, in order.
  static std::vector<std::string> Ids(const ItemPage& page) {
    std::vector<std::string> out;
    for (const AttributeMap& item : page.items) {
      const AttributeValue* id = FindAttribute(item, "id");
      out.push_back(id == nullptr ? "?" : id->scalar());
    }
    return out;
  }
  std::vector<std::string> StatusIds(const std::string& status) {
    auto page = QueryIndex("byStatus", Partition(V::S(status)));
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? Ids(*page) : std::vector<std::string>{"error"};
  }

  std::string dir_;
  FakeClock clock_;
  bool fail_record_writes_ = false;
  std::unique_ptr<shard_store::ShardStore> streams_;
  std::unique_ptr<TableStore> store_;
};

TEST_F(TableIndexesTest, CreateTableRefusesWhatDynamoDbRefuses) {
  const auto refused = [&](TableSpec spec, const std::string& message) {
    auto d = store_->CreateTable(spec);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_THAT(std::string(d.status().message()), HasSubstr(message));
  };
  TableSpec spec = Orders();
  for (int i = 0; i < kMaxLocalIndexes; ++i) {
    spec.indexes.push_back(Index("local" + std::to_string(i), IndexKind::kLocal,
                                 {"customer", T::kS}, KeyAttribute{"x", T::kS}));
  }
  refused(spec, "Number of LocalSecondaryIndexes exceeds per-table limit of 5");
  spec = Orders();
  for (int i = 0; i < kMaxGlobalIndexes - 1; ++i) {
    spec.indexes.push_back(
        Index("global" + std::to_string(i), IndexKind::kGlobal, {"g", T::kS}, std::nullopt));
  }
  refused(spec, "Number of GlobalSecondaryIndexes exceeds per-table limit of 20");
  spec = Orders();
  spec.key_schema.sort_key.reset();
  refused(spec, "Table KeySchema does not have a range key");
  spec = Orders();
  spec.indexes[0].key_schema.partition_key.name = "other";
  refused(spec, "does not have the same leading hash key");
  spec = Orders();
  spec.indexes[1].non_key_attributes.clear();
  refused(spec, "NonKeyAttributes is not specified for index: byStatus");
  spec = Orders();
  spec.indexes[2].non_key_attributes = {"x"};
  refused(spec, "NonKeyAttributes is specified for index: byTag");
  spec = Orders();
  spec.indexes[2].name = "byStatus";
  refused(spec, "Duplicate index name: byStatus");
  // The limits themselves are allowed: 5 local and 20 global indexes.
  spec = Orders();
  spec.name = "full";
  for (int i = 1; i < kMaxLocalIndexes; ++i) {
    spec.indexes.push_back(Index("local" + std::to_string(i), IndexKind::kLocal,
                                 {"customer", T::kS}, KeyAttribute{"x", T::kS}));
  }
  for (int i = 2; i < kMaxGlobalIndexes; ++i) {
    spec.indexes.push_back(
        Index("global" + std::to_string(i), IndexKind::kGlobal, {"g", T::kS}, std::nullopt));
  }
  EXPECT_TRUE(store_->CreateTable(spec).ok());
}

TEST_F(TableIndexesTest, AGlobalIndexIsSparseProjectedAndFollowsUpdatesAndDeletes) {
  CreateOrders();
  ASSERT_TRUE(Put(Order("ann", "o1", "OPEN", "2024-03", "10")).ok());
  ASSERT_TRUE(Put(Order("bob", "o2", "OPEN", "2024-01", "20")).ok());
  ASSERT_TRUE(Put(Order("ann", "o3", std::nullopt, "2024-02", "30")).ok());  // no status
  ASSERT_TRUE(Put(Order("cid", "o4", "OPEN", std::nullopt, "40")).ok());     // no placed
  ASSERT_TRUE(Put(Order("cid", "o5", "SHIPPED", "2024-01", std::nullopt)).ok());
  // Sparse: o3 and o4 lack a key attribute of the index. In index sort key order.
  EXPECT_THAT(StatusIds("OPEN"), ElementsAre("o2", "o1"));
  // INCLUDE total: keys of the table and the index, and total; not note.
  auto page = QueryIndex("byStatus", Partition(V::S("OPEN")));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->items[0], (AttributeMap{{"customer", V::S("bob")},
                                          {"id", V::S("o2")},
                                          {"placed", V::S("2024-01")},
                                          {"status", V::S("OPEN")},
                                          {"total", V::N("20")}}));
  // An update of the index key moves the entry; removing it takes the item out.
  ExpressionAttributes a({{"#s", "status"}}, {{":s", V::S("SHIPPED")}});
  auto update = ParseUpdateExpression("SET #s = :s", a);
  ASSERT_TRUE(update.ok()) << update.status();
  ASSERT_TRUE(store_->UpdateItem("orders", {{"customer", V::S("bob")}, {"id", V::S("o2")}},
                                 *update, std::nullopt)
                  .ok());
  EXPECT_THAT(StatusIds("OPEN"), ElementsAre("o1"));
  // Equal index keys (placed 2024-01): in table key order (bob before cid).
  EXPECT_THAT(StatusIds("SHIPPED"), ElementsAre("o2", "o5"));
  ExpressionAttributes none;
  auto remove = ParseUpdateExpression("REMOVE placed", none);
  ASSERT_TRUE(remove.ok());
  ASSERT_TRUE(store_->UpdateItem("orders", {{"customer", V::S("cid")}, {"id", V::S("o5")}},
                                 *remove, std::nullopt)
                  .ok());
  EXPECT_THAT(StatusIds("SHIPPED"), ElementsAre("o2"));
  ASSERT_TRUE(
      store_->DeleteItem("orders", {{"customer", V::S("bob")}, {"id", V::S("o2")}}, std::nullopt)
          .ok());
  EXPECT_THAT(StatusIds("SHIPPED"), ElementsAre());
  // A change that keeps the index key rewrites the projected entry.
  ASSERT_TRUE(Put(Order("ann", "o1", "OPEN", "2024-03", "11")).ok());
  page = QueryIndex("byStatus", Partition(V::S("OPEN")));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(*FindAttribute(page->items[0], "total"), V::N("11"));
}

TEST_F(TableIndexesTest, ALocalIndexQueriesAPartitionByItsSortKeyAndFetchesTheItems) {
  CreateOrders();
  for (const auto& [id, total] : std::vector<std::pair<std::string, std::string>>{
           {"a", "30"}, {"b", "-5"}, {"c", "7.5"}, {"d", "100"}, {"e", "7.5"}}) {
    ASSERT_TRUE(Put(Order("ann", id, std::nullopt, std::nullopt, total)).ok());
  }
  ASSERT_TRUE(Put(Order("bob", "z", std::nullopt, std::nullopt, "8")).ok());
  ASSERT_TRUE(Put(Order("ann", "nototal", std::nullopt, std::nullopt, std::nullopt)).ok());
  using Op = KeyCondition::SortOp;
  auto all = QueryIndex("byTotal", Partition(V::S("ann")));
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Ids(*all), ElementsAre("b", "c", "e", "a", "d"));
  // KEYS_ONLY: the table's and the index's keys only.
  EXPECT_EQ(all->items[0], (AttributeMap{{"customer", V::S("ann")},
                                         {"id", V::S("b")},
                                         {"total", V::N("-5")}}));
  auto between = QueryIndex("byTotal", Sorted(V::S("ann"), Op::kBetween, V::N("7.5"), V::N("30")));
  ASSERT_TRUE(between.ok());
  EXPECT_THAT(Ids(*between), ElementsAre("c", "e", "a"));
  auto le = QueryIndex("byTotal", Sorted(V::S("ann"), Op::kLe, V::N("7.5")), /*forward=*/false);
  ASSERT_TRUE(le.ok());
  EXPECT_THAT(Ids(*le), ElementsAre("e", "c", "b"));
  auto gt = QueryIndex("byTotal", Sorted(V::S("ann"), Op::kGt, V::N("7.5")));
  ASSERT_TRUE(gt.ok());
  EXPECT_THAT(Ids(*gt), ElementsAre("a", "d"));
  auto eq = QueryIndex("byTotal", Sorted(V::S("ann"), Op::kEq, V::N("7.5")));
  ASSERT_TRUE(eq.ok());
  EXPECT_THAT(Ids(*eq), ElementsAre("c", "e"));
  auto lt = QueryIndex("byTotal", Sorted(V::S("ann"), Op::kLt, V::N("7.5")));
  ASSERT_TRUE(lt.ok());
  EXPECT_THAT(Ids(*lt), ElementsAre("b"));
  // Fetching the table's items (what a KEYS_ONLY local index does not hold).
  ReadRequest r;
  r.table = "orders";
  r.index = "byTotal";
  r.key_condition = Sorted(V::S("ann"), Op::kEq, V::N("100"));
  r.fetch_table_items = true;
  auto fetched = store_->Query(r);
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  ASSERT_EQ(fetched->items.size(), 1u);
  EXPECT_EQ(fetched->items[0], Order("ann", "d", std::nullopt, std::nullopt, "100"));
  EXPECT_GT(fetched->table_bytes_fetched, 0);
  r.index = "byStatus";
  EXPECT_EQ(store_->Query(r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TableIndexesTest, StringSortKeysWithZeroBytesAndBeginsWithKeepDynamoDbsOrder) {
  CreateOrders();
  // Index sort keys where one is a prefix of another, and with zero bytes: the table key that
  // follows in the entry key must not change the order.
  const std::vector<std::pair<std::string, std::string>> placed = {
      {"p1", std::string("ab\0c", 4)}, {"p2", "ab"}, {"p3", "abc"}, {"p4", "b"}, {"p5", "a"}};
  for (const auto& [id, when] : placed) {
    ASSERT_TRUE(Put(Order("zed", id, "OPEN", when, std::nullopt)).ok());
  }
  EXPECT_THAT(StatusIds("OPEN"), ElementsAre("p5", "p2", "p1", "p3", "p4"));
  using Op = KeyCondition::SortOp;
  auto begins = QueryIndex("byStatus", Sorted(V::S("OPEN"), Op::kBeginsWith, V::S("ab")));
  ASSERT_TRUE(begins.ok());
  EXPECT_THAT(Ids(*begins), ElementsAre("p2", "p1", "p3"));
  auto le = QueryIndex("byStatus", Sorted(V::S("OPEN"), Op::kLe, V::S("ab")));
  ASSERT_TRUE(le.ok());
  EXPECT_THAT(Ids(*le), ElementsAre("p5", "p2"));
  auto gt = QueryIndex("byStatus", Sorted(V::S("OPEN"), Op::kGt, V::S("ab")));
  ASSERT_TRUE(gt.ok());
  EXPECT_THAT(Ids(*gt), ElementsAre("p1", "p3", "p4"));
}

TEST_F(TableIndexesTest, IndexPagesCarryTheTableAndIndexKeysAndResume) {
  CreateOrders();
  // Three items with one index key: paging must resume between them (the table key).
  for (const std::string id : {"a", "b", "c"}) {
    ASSERT_TRUE(Put(Order("ann", id, "OPEN", "2024", std::nullopt)).ok());
  }
  std::vector<std::string> seen;
  std::optional<AttributeMap> start;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = QueryIndex("byStatus", Partition(V::S("OPEN")), true, 1, start);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const std::string& id : Ids(*page)) seen.push_back(id);
    if (!page->last_evaluated_key.has_value()) break;
    EXPECT_EQ(*page->last_evaluated_key,
              (AttributeMap{{"customer", V::S("ann")},
                            {"id", V::S(seen.back())},
                            {"placed", V::S("2024")},
                            {"status", V::S("OPEN")}}));
    start = page->last_evaluated_key;
  }
  EXPECT_THAT(seen, ElementsAre("a", "b", "c"));
  // A starting key without the index's keys is refused.
  auto bad = QueryIndex("byStatus", Partition(V::S("OPEN")), true, 1,
                        AttributeMap{{"customer", V::S("ann")}, {"id", V::S("a")}});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  // Scan of an index: only the items in it.
  ReadRequest scan;
  scan.table = "orders";
  scan.index = "byStatus";
  ASSERT_TRUE(Put(Order("bob", "x", std::nullopt, std::nullopt, "1")).ok());
  auto scanned = store_->Scan(scan);
  ASSERT_TRUE(scanned.ok()) << scanned.status();
  EXPECT_THAT(Ids(*scanned), ElementsAre("a", "b", "c"));
  scan.index = "nope";
  EXPECT_THAT(std::string(store_->Scan(scan).status().message()),
              HasSubstr("The table does not have the specified index: nope"));
}

TEST_F(TableIndexesTest, AWrongTypeOfIndexKeyIsRefusedAndWritesNothing) {
  CreateOrders();
  AttributeMap item = Order("ann", "o1", std::nullopt, "2024", std::nullopt);
  item.emplace_back("status", V::N("5"));
  ASSERT_TRUE(SortAttributeMap(&item).ok());
  absl::Status put = Put(item);
  EXPECT_EQ(put.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(put.message()),
              HasSubstr("Type mismatch for Index Key status Expected: S Actual: N IndexName: "
                        "byStatus"));
  AttributeMap empty = Order("ann", "o1", "", "2024", std::nullopt);
  EXPECT_EQ(Put(empty).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(Put(Order("ann", "o1", "OPEN", "2024", std::nullopt)).ok());
  ExpressionAttributes a({{"#t", "total"}}, {{":t", V::S("much")}});
  auto update = ParseUpdateExpression("SET #t = :t", a);
  ASSERT_TRUE(update.ok()) << update.status();
  auto updated = store_->UpdateItem("orders", {{"customer", V::S("ann")}, {"id", V::S("o1")}},
                                    *update, std::nullopt);
  EXPECT_EQ(updated.status().code(), absl::StatusCode::kInvalidArgument);
  // In a transaction, an update that cannot apply cancels it with a ValidationError reason.
  ItemWrite w;
  w.kind = ItemWrite::Kind::kUpdate;
  w.table = "orders";
  w.item = {{"customer", V::S("ann")}, {"id", V::S("o1")}};
  w.update = *update;
  auto outcome = store_->TransactWriteItems({w});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  ASSERT_EQ(outcome->cancellation_reasons.size(), 1u);
  EXPECT_EQ(outcome->cancellation_reasons[0].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(StatusIds("OPEN"), ElementsAre("o1"));
  auto totals = QueryIndex("byTotal", Partition(V::S("ann")));
  ASSERT_TRUE(totals.ok());
  EXPECT_THAT(Ids(*totals), ElementsAre());
}

TEST_F(TableIndexesTest, IndexEntriesAreInTheOneWriteOfTheItemAndSurviveAReopen) {
  CreateOrders(/*streamed=*/true);
  fail_record_writes_ = true;
  EXPECT_FALSE(Put(Order("ann", "o1", "OPEN", "2024", "1")).ok());
  fail_record_writes_ = false;
  EXPECT_THAT(StatusIds("OPEN"), ElementsAre());
  ASSERT_TRUE(Put(Order("ann", "o2", "OPEN", "2024", "2")).ok());
  Open();
  auto d = store_->DescribeTable("orders");
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->spec.indexes.size(), 3u);
  EXPECT_EQ(d->spec.indexes[1].name, "byStatus");
  EXPECT_EQ(d->spec.indexes[1].projection, ProjectionType::kInclude);
  EXPECT_THAT(d->spec.indexes[1].non_key_attributes, ElementsAre("total"));
  EXPECT_EQ(d->spec.indexes[0].kind, IndexKind::kLocal);
  EXPECT_THAT(StatusIds("OPEN"), ElementsAre("o2"));
  // A table created after the reopen gets ids above the indexes' (no entries shared).
  TableSpec other = Orders();
  other.name = "other";
  ASSERT_TRUE(store_->CreateTable(other).ok());
  ReadRequest scan;
  scan.table = "other";
  scan.index = "byStatus";
  auto scanned = store_->Scan(scan);
  ASSERT_TRUE(scanned.ok());
  EXPECT_THAT(Ids(*scanned), ElementsAre());
}

TEST_F(TableIndexesTest, DeleteTableDeletesTheIndexEntries) {
  CreateOrders();
  ASSERT_TRUE(Put(Order("ann", "o1", "OPEN", "2024", "1")).ok());
  auto d = store_->DescribeTable("orders");
  ASSERT_TRUE(d.ok());
  // The keys of the items family under an id (be64 prefix).
  const auto keys_under = [&](uint64_t id) {
    std::string prefix;
    for (int shift = 56; shift >= 0; shift -= 8) prefix.push_back(static_cast<char>(id >> shift));
    std::unique_ptr<rocksdb::Iterator> it(
        streams_->db().db()->NewIterator(rocksdb::ReadOptions(), streams_->db().Handle("items")));
    int n = 0;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) ++n;
    return n;
  };
  ASSERT_EQ(d->index_ids.size(), 3u);
  EXPECT_EQ(keys_under(d->index_ids[0]), 1);  // byTotal
  EXPECT_EQ(keys_under(d->index_ids[1]), 1);  // byStatus
  EXPECT_EQ(keys_under(d->index_ids[2]), 0);  // byTag: no tag
  ASSERT_TRUE(store_->DeleteTable("orders").ok());
  for (uint64_t id : d->index_ids) EXPECT_EQ(keys_under(id), 0) << id;
}

// UpdateTable's GlobalSecondaryIndexUpdates: an index created is backfilled from the items there
// (sparse, projected, index key violations left out), kept by later writes, survives a reopen;
// a deleted one goes with its entries.
TEST_F(TableIndexesTest, UpdateTableCreatesABackfilledGlobalIndexAndDeletesOne) {
  CreateOrders();
  ASSERT_TRUE(Put(Order("ann", "o1", "OPEN", "2024-03", "10")).ok());
  ASSERT_TRUE(Put(Order("bob", "o2", "OPEN", "2024-01", "20")).ok());
  ASSERT_TRUE(Put(Order("cid", "o3", "SHIPPED", "2024-02", std::nullopt)).ok());  // no total
  AttributeMap wrong = Order("dan", "o4", std::nullopt, std::nullopt, std::nullopt);
  wrong.emplace_back("note2", V::S("x"));
  ASSERT_TRUE(SortAttributeMap(&wrong).ok());
  ASSERT_TRUE(Put(wrong).ok());
  // byNote: note (S, every order has "n") + total (N, KEYS_ONLY).
  TableUpdate create;
  create.create_index = Index("byNote", IndexKind::kGlobal, {"note", T::kS},
                              KeyAttribute{"total", T::kN}, ProjectionType::kKeysOnly);
  auto d = store_->UpdateTable("orders", create);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->spec.indexes.size(), 4u);
  EXPECT_EQ(d->spec.indexes[3].name, "byNote");
  ASSERT_EQ(d->index_ids.size(), 4u);
  EXPECT_GT(d->index_ids[3], d->index_ids[2]);
  auto page = QueryIndex("byNote", Partition(V::S("n")));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(Ids(*page), ElementsAre("o1", "o2"));  // by total; o3 and o4 have none
  EXPECT_EQ(page->items[0], (AttributeMap{{"customer", V::S("ann")},
                                          {"id", V::S("o1")},
                                          {"note", V::S("n")},
                                          {"total", V::N("10")}}));
  ASSERT_TRUE(Put(Order("eve", "o5", std::nullopt, std::nullopt, "15")).ok());  // kept by writes
  EXPECT_THAT(Ids(*QueryIndex("byNote", Partition(V::S("n")))), ElementsAre("o1", "o5", "o2"));
  Open();
  EXPECT_THAT(Ids(*QueryIndex("byNote", Partition(V::S("n")))), ElementsAre("o1", "o5", "o2"));

  // An item whose new index key has another type is left out of the backfill.
  ASSERT_TRUE(Put({{"customer", V::S("fay")}, {"id", V::S("o6")}, {"region", V::N("7")}}).ok());
  ASSERT_TRUE(Put({{"customer", V::S("gus")}, {"id", V::S("o7")}, {"region", V::S("eu")}}).ok());
  create.create_index = Index("byRegion", IndexKind::kGlobal, {"region", T::kS}, std::nullopt);
  ASSERT_TRUE(store_->UpdateTable("orders", create).ok());
  EXPECT_THAT(Ids(*QueryIndex("byRegion", Partition(V::S("eu")))), ElementsAre("o7"));

  // Delete: gone from the description, its reads refused, its entries deleted.
  const uint64_t note_id = store_->DescribeTable("orders")->index_ids[3];
  TableUpdate drop;
  drop.delete_index = "byNote";
  d = store_->UpdateTable("orders", drop);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->spec.indexes.size(), 4u);
  EXPECT_EQ(d->spec.indexes[3].name, "byRegion");
  EXPECT_EQ(QueryIndex("byNote", Partition(V::S("n"))).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string prefix;
  for (int shift = 56; shift >= 0; shift -= 8) {
    prefix.push_back(static_cast<char>(note_id >> shift));
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(
        streams_->db().db()->NewIterator(rocksdb::ReadOptions(), streams_->db().Handle("items")));
    it->Seek(prefix);
    EXPECT_FALSE(it->Valid() && it->key().starts_with(prefix));
  }
  // A write after the delete touches only the indexes left.
  ASSERT_TRUE(Put(Order("ann", "o1", "OPEN", "2024-03", "12")).ok());
  EXPECT_THAT(StatusIds("OPEN"), ElementsAre("o2", "o1"));
  Open();
  EXPECT_EQ(store_->DescribeTable("orders")->spec.indexes.size(), 4u);
}

TEST_F(TableIndexesTest, UpdateTableRefusesIndexChangesDynamoDbRefuses) {
  CreateOrders();
  auto code = [&](const TableUpdate& u) { return store_->UpdateTable("orders", u).status(); };
  TableUpdate both;
  both.create_index = Index("byNote", IndexKind::kGlobal, {"note", T::kS}, std::nullopt);
  both.delete_index = "byTag";
  EXPECT_EQ(code(both).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(code(both).message()),
              HasSubstr("Only 1 online index can be created or deleted simultaneously"));
  TableUpdate with_stream;
  with_stream.delete_index = "byTag";
  with_stream.stream = StreamSpecification{true, StreamViewType::kKeysOnly};
  EXPECT_EQ(code(with_stream).code(), absl::StatusCode::kInvalidArgument);
  TableUpdate missing;
  missing.delete_index = "nope";
  EXPECT_EQ(code(missing).code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(code(missing).message()),
              HasSubstr("Requested resource not found: Index: nope"));
  TableUpdate local;
  local.delete_index = "byTotal";
  EXPECT_EQ(code(local).code(), absl::StatusCode::kInvalidArgument);
  TableUpdate create_local;
  create_local.create_index =
      Index("byX", IndexKind::kLocal, {"customer", T::kS}, KeyAttribute{"x", T::kN});
  EXPECT_EQ(code(create_local).code(), absl::StatusCode::kInvalidArgument);
  TableUpdate taken;
  taken.create_index = Index("byTag", IndexKind::kGlobal, {"note", T::kS}, std::nullopt);
  EXPECT_THAT(std::string(code(taken).message()), HasSubstr("Duplicate index name: byTag"));
  TableUpdate retyped;  // status is S in byStatus
  retyped.create_index = Index("byStatusN", IndexKind::kGlobal, {"status", T::kN}, std::nullopt);
  EXPECT_THAT(std::string(code(retyped).message()),
              HasSubstr("Cannot change the type of key attribute status"));
  // None of them changed anything.
  EXPECT_EQ(store_->DescribeTable("orders")->spec.indexes.size(), 3u);
  // Twenty global indexes at most.
  for (int i = 0; i < 18; ++i) {
    TableUpdate more;
    more.create_index =
        Index(absl::StrCat("g", i, "x"), IndexKind::kGlobal, {"note", T::kS}, std::nullopt);
    ASSERT_TRUE(code(more).ok()) << i;
  }
  TableUpdate over;
  over.create_index = Index("g21", IndexKind::kGlobal, {"note", T::kS}, std::nullopt);
  EXPECT_THAT(std::string(code(over).message()),
              HasSubstr("Number of GlobalSecondaryIndexes exceeds per-table limit of 20"));
}

}  // namespace
}  // namespace tributary::tables
