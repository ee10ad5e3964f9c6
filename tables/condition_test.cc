#include "tables/condition.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::tables {
namespace {

using ::testing::HasSubstr;
using V = AttributeValue;

class ConditionTest : public ::testing::Test {
 protected:
  ConditionTest() { EXPECT_TRUE(SortAttributeMap(&item_).ok()); }  // items are sorted by name
  // Whether `expression` holds for item_ (or for no item), with values_ and names_.
  bool Holds(const std::string& expression, bool no_item = false) {
    ExpressionAttributes attributes(names_, values_);
    absl::StatusOr<Condition> c = ParseCondition(expression, attributes);
    EXPECT_TRUE(c.ok()) << expression << ": " << c.status();
    return c.ok() && ConditionHolds(*c, no_item ? nullptr : &item_);
  }

  AttributeMap item_ = {
      {"id", V::S("a")},
      {"n", V::N("5")},
      {"name", V::S("héllo")},
      {"bin", V::B(std::string("\x01\xff", 2))},
      {"tags", V::SS({"x", "y"})},
      {"nums", V::NS({"1", "2.5"})},
      {"lst", V::L({V::S("p"), V::N("7"), V::M({{"deep", V::Bool(true)}})})},
      {"doc", V::M({{"inr", V::M({{"v", V::N("-3")}})}, {"s", V::S("abc")}})},
      {"nothing", V::Null()},
  };
  std::map<std::string, std::string> names_ = {{"#name", "name"}};
  std::map<std::string, AttributeValue> values_ = {
      {":five", V::N("5")}, {":four", V::N("4")},   {":ten", V::N("10")},
      {":a", V::S("a")},      {":hel", V::S("hél")},  {":x", V::S("x")},
      {":z", V::S("z")},      {":one", V::B("\x01")}, {":twohalf", V::N("2.5")},
      {":seven", V::N("7")},  {":SS", V::S("SS")},    {":NULL", V::S("NULL")},
      {":three", V::N("3")},  {":abc", V::S("abc")}, {":yes", V::Bool(true)},
  };
};

TEST_F(ConditionTest, ComparisonsFollowDynamoDbsOrderPerType) {
  EXPECT_TRUE(Holds("n = :five"));  // numbers compare by value
  EXPECT_TRUE(Holds("n > :four AND n < :ten AND n <= :five AND n >= :five"));
  EXPECT_TRUE(Holds("n <> :four"));
  EXPECT_FALSE(Holds("n = :a"));       // another type: not equal
  EXPECT_FALSE(Holds("n < :a"));       // and not ordered
  EXPECT_TRUE(Holds("absent <> :a"));  // a missing attribute differs from everything
  EXPECT_FALSE(Holds("absent = :a"));
  EXPECT_FALSE(Holds("absent < :a"));
  EXPECT_TRUE(Holds("#name > :hel"));  // S: UTF-8 bytes
  EXPECT_TRUE(Holds("doc.inr.v < doc.s OR doc.inr.v < :four"));
  EXPECT_TRUE(Holds("lst[1] = :seven AND lst[2].deep = :yes OR id = :a"));
}

TEST_F(ConditionTest, BetweenAndInCompareByValue) {
  EXPECT_TRUE(Holds("n BETWEEN :four AND :ten"));
  EXPECT_TRUE(Holds("n between :five and :five"));  // keywords in any case
  EXPECT_FALSE(Holds("n BETWEEN :seven AND :ten"));
  EXPECT_TRUE(Holds("id IN (:x, :a)"));
  EXPECT_FALSE(Holds("id IN (:x, :z)"));
}

TEST_F(ConditionTest, LogicFollowsPrecedenceAndParentheses) {
  // NOT binds tighter than AND, AND tighter than OR.
  EXPECT_TRUE(Holds("id = :x AND n = :four OR n = :five"));
  EXPECT_FALSE(Holds("id = :x AND (n = :four OR n = :five)"));
  EXPECT_TRUE(Holds("NOT id = :x AND n = :five"));
  EXPECT_FALSE(Holds("NOT (id = :a AND n = :five)"));
  EXPECT_TRUE(Holds("NOT NOT id = :a"));
}

TEST_F(ConditionTest, FunctionsTestExistenceTypeAndContent) {
  EXPECT_TRUE(Holds("attribute_exists(doc.inr.v) AND attribute_not_exists(doc.inr.w)"));
  EXPECT_TRUE(Holds("attribute_not_exists(id)", /*no_item=*/true));
  EXPECT_FALSE(Holds("attribute_exists(id)", /*no_item=*/true));
  EXPECT_TRUE(Holds("attribute_exists(nothing)"));  // NULL is a value
  EXPECT_TRUE(Holds("attribute_type(tags, :SS) AND attribute_type(nothing, :NULL)"));
  EXPECT_TRUE(Holds("begins_with(#name, :hel) AND begins_with(bin, :one)"));
  EXPECT_FALSE(Holds("begins_with(n, :a)"));
  EXPECT_TRUE(Holds("contains(tags, :x) AND contains(nums, :twohalf) AND contains(doc.s, :abc)"));
  EXPECT_TRUE(Holds("contains(lst, :seven)"));
  EXPECT_FALSE(Holds("contains(tags, :z)"));
  EXPECT_TRUE(Holds("size(#name) = :five"));  // characters, not bytes
  EXPECT_TRUE(Holds("size(tags) < :three AND size(lst) = :three AND size(doc) <> :three"));
  EXPECT_FALSE(Holds("size(n) = :one"));  // a number has no size
}

TEST_F(ConditionTest, ParseConditionWithNamesOnlyChecksTheirUse) {
  absl::StatusOr<Condition> c = ParseCondition("attribute_exists(#k)", {{"#k", "id"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(ConditionHolds(*c, &item_));
  EXPECT_FALSE(ConditionHolds(*c, nullptr));
  EXPECT_THAT(ParseCondition("attribute_exists(id)", {{"#k", "id"}}).status().message(),
              HasSubstr("Value provided in ExpressionAttributeNames unused in expressions: "
                        "keys: {#k}"));
}

}  // namespace
}  // namespace tributary::tables
