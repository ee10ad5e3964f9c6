// ConsumedCapacity's arithmetic: DynamoDB's read and write units, and the units an item write
// costs a table and each index.
#include "tables/capacity.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::tables {
namespace {

using T = AttributeValue::Type;
using V = AttributeValue;
using ::testing::ElementsAre;
using ::testing::Pair;

TEST(CapacityTest, ReadUnitsArePer4KbHalvedWhenEventualDoubledInTransactions) {
  EXPECT_EQ(ReadUnits(0, true), 1);  // a missing item costs the minimum
  EXPECT_EQ(ReadUnits(4096, true), 1);
  EXPECT_EQ(ReadUnits(4097, true), 2);
  EXPECT_EQ(ReadUnits(4097, false), 1);
  EXPECT_EQ(ReadUnits(100, false), 0.5);
  EXPECT_EQ(ReadUnits(9000, true, /*transactional=*/true), 6);
}

TEST(CapacityTest, WriteUnitsArePer1KbDoubledInTransactions) {
  EXPECT_EQ(WriteUnits(0), 1);
  EXPECT_EQ(WriteUnits(1024), 1);
  EXPECT_EQ(WriteUnits(1025), 2);
  EXPECT_EQ(WriteUnits(1025, /*transactional=*/true), 4);
}

TableSpec Spec() {
  TableSpec spec;
  spec.name = "t";
  spec.key_schema.partition_key = {"id", T::kS};
  IndexSpec g;
  g.name = "byStatus";
  g.kind = IndexKind::kGlobal;
  g.key_schema.partition_key = {"status", T::kS};
  g.projection = ProjectionType::kKeysOnly;
  spec.indexes.push_back(g);
  return spec;
}

AttributeMap Item(const std::string& status, int body_bytes) {
  AttributeMap item = {{"body", V::S(std::string(body_bytes, 'x'))}, {"id", V::S("a")}};
  if (!status.empty()) item.emplace_back("status", V::S(status));
  return item;
}

TEST(CapacityTest, AWriteCostsTheLargerItemAndEachIndexEntryItChanges) {
  const TableSpec spec = Spec();
  // Insert into the index: table (2 KB item: 2 units... 2000 + 4 + 6 bytes → 2) + index 1.
  TableCapacity c = WriteCapacity(spec, std::nullopt, Item("OPEN", 2000), false);
  EXPECT_EQ(c.table_write, 2);
  EXPECT_THAT(c.index_write, ElementsAre(Pair("byStatus", 1)));
  // A change that leaves the KEYS_ONLY entry as it was costs the index nothing.
  c = WriteCapacity(spec, Item("OPEN", 10), Item("OPEN", 3000), false);
  EXPECT_EQ(c.table_write, 3);
  EXPECT_TRUE(c.index_write.empty());
  // An index key change: the old entry deleted and the new one put.
  c = WriteCapacity(spec, Item("OPEN", 10), Item("DONE", 10), false);
  EXPECT_THAT(c.index_write, ElementsAre(Pair("byStatus", 2)));
  // Out of the sparse index: one delete; a delete of a missing item: the minimum.
  c = WriteCapacity(spec, Item("OPEN", 10), Item("", 10), false);
  EXPECT_THAT(c.index_write, ElementsAre(Pair("byStatus", 1)));
  c = WriteCapacity(spec, std::nullopt, std::nullopt, false);
  EXPECT_EQ(c.table_write, 1);
  EXPECT_TRUE(c.index_write.empty());
  // Transactions double everything.
  c = WriteCapacity(spec, std::nullopt, Item("OPEN", 2000), true);
  EXPECT_EQ(c.table_write, 4);
  EXPECT_EQ(c.Write(), 6);
  EXPECT_EQ(c.Read(), 0);
}

}  // namespace
}  // namespace tributary::tables
