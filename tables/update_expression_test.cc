#include "tables/update_expression.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::tables {
namespace {

using ::testing::HasSubstr;
using V = AttributeValue;

class UpdateExpressionTest : public ::testing::Test {
 protected:
  UpdateExpressionTest() {
    schema_.partition_key = {"id", AttributeValue::Type::kS};
    EXPECT_TRUE(SortAttributeMap(&item_).ok());  // items are sorted by name
  }
  // `item_` updated by `expression`, or the error.
  absl::StatusOr<AttributeMap> Apply(const std::string& expression, bool exists = true) {
    ExpressionAttributes attributes({{"#k", "id"}}, values_);
    absl::StatusOr<UpdateExpression> update = ParseUpdateExpression(expression, attributes);
    EXPECT_TRUE(update.ok()) << update.status();
    if (!update.ok()) return update.status();
    return ApplyUpdate(*update, schema_, {{"id", V::S("a")}},
                       exists ? std::optional<AttributeMap>(item_) : std::nullopt);
  }
  V Get(const AttributeMap& item, const char* name) {
    const AttributeValue* v = FindAttribute(item, name);
    return v == nullptr ? V::S("<missing>") : *v;
  }

  KeySchema schema_;
  AttributeMap item_ = {
      {"id", V::S("a")},
      {"n", V::N("12345678901234567890123456789012345677")},
      {"l", V::L({V::S("x0"), V::S("x1"), V::S("x2"), V::S("x3")})},
      {"m", V::M({{"k", V::N("1")}})},
      {"tags", V::SS({"x", "y"})},
      {"s", V::S("text")},
  };
  std::map<std::string, AttributeValue> values_ = {
      {":one", V::N("1")},          {":s", V::S("v")},
      {":l", V::L({V::S("z")})},    {":tags", V::SS({"y", "z"})},
      {":x", V::SS({"x", "y"})},    {":ns", V::NS({"1"})},
  };
};

TEST_F(UpdateExpressionTest, SetComputesFromTheItemBeforeTheUpdate) {
  absl::StatusOr<AttributeMap> got = Apply(
      "SET n = n + :one, s = :s, dup = s, m.k = m.k - :one, fresh = if_not_exists(fresh, :one),"
      " kept = if_not_exists(s, :s), l = list_append(:l, l)");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Get(*got, "n"), V::N("12345678901234567890123456789012345678"));  // exact
  EXPECT_EQ(Get(*got, "s"), V::S("v"));
  EXPECT_EQ(Get(*got, "dup"), V::S("text"));  // the value before this update
  EXPECT_EQ(Get(*got, "m"), V::M({{"k", V::N("0")}}));
  EXPECT_EQ(Get(*got, "fresh"), V::N("1"));
  EXPECT_EQ(Get(*got, "kept"), V::S("text"));
  EXPECT_EQ(Get(*got, "l").list().front(), V::S("z"));
  EXPECT_EQ(Get(*got, "l").list().size(), 5u);
}

TEST_F(UpdateExpressionTest, ListElementsAreReplacedAppendedAndRemovedByTheirFormerIndex) {
  absl::StatusOr<AttributeMap> got = Apply("SET l[1] = :s, l[10] = :one REMOVE l[0], l[2]");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Get(*got, "l"), V::L({V::S("v"), V::S("x3"), V::N("1")}));
}

TEST_F(UpdateExpressionTest, AddAndDeleteWorkOnNumbersAndSets) {
  absl::StatusOr<AttributeMap> got = Apply("ADD n :one, tags :tags, tally :one");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Get(*got, "tags"), V::SS({"x", "y", "z"}));
  EXPECT_EQ(Get(*got, "tally"), V::N("1"));  // a missing number counts as 0
  got = Apply("DELETE tags :x");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(FindAttribute(*got, "tags"), nullptr);  // an emptied set is removed
  EXPECT_EQ(Get(*Apply("DELETE tags :tags"), "tags"), V::SS({"x"}));
  EXPECT_EQ(Get(*Apply("DELETE absent :tags"), "tags"), V::SS({"x", "y"}));
}

TEST_F(UpdateExpressionTest, AMissingItemIsCreatedFromItsKey) {
  absl::StatusOr<AttributeMap> got = Apply("SET s = :s REMOVE gone", /*exists=*/false);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(ItemsEqual(*got, {{"id", V::S("a")}, {"s", V::S("v")}}));
}

TEST_F(UpdateExpressionTest, ErrorsAreDynamoDbs) {
  EXPECT_THAT(Apply("SET x = absent").status().message(),
              HasSubstr("The provided expression refers to an attribute that does not exist in "
                        "the item"));
  EXPECT_THAT(Apply("SET x = s + :one").status().message(),
              HasSubstr("An operand in the update expression has an incorrect data type"));
  EXPECT_THAT(Apply("ADD tags :ns").status().message(),
              HasSubstr("An operand in the update expression has an incorrect data type"));
  EXPECT_THAT(Apply("SET nope.k = :one").status().message(),
              HasSubstr("The document path provided in the update expression is invalid for "
                        "update"));
  EXPECT_THAT(Apply("SET s[0] = :one").status().message(), HasSubstr("invalid for update"));
  EXPECT_THAT(Apply("SET #k = :s").status().message(),
              HasSubstr("Cannot update attribute id. This attribute is part of the key"));
  values_[":big"] = V::S(std::string(400 * 1024, 'x'));
  EXPECT_THAT(Apply("SET big = :big").status().message(),
              HasSubstr("Item size to update has exceeded the maximum allowed size"));
}

TEST_F(UpdateExpressionTest, UpdatedPathsAreTheActionsPaths) {
  ExpressionAttributes attributes({}, values_);
  absl::StatusOr<UpdateExpression> u =
      ParseUpdateExpression("SET a.b = :one REMOVE c ADD d :one", attributes);
  ASSERT_TRUE(u.ok());
  const Projection p = UpdatedPaths(*u);
  ASSERT_EQ(p.paths.size(), 3u);
  EXPECT_EQ(p.paths[0].ToString(), "[a, b]");
}

}  // namespace
}  // namespace tributary::tables
