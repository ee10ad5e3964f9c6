#include "tables/condition.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::tables {
namespace {

using ::testing::HasSubstr;

TEST(ConditionTest, AttributeNotExistsHoldsOnlyWithoutTheAttribute) {
  absl::StatusOr<Condition> c = ParseCondition(" attribute_not_exists ( id ) ", {});
  ASSERT_TRUE(c.ok()) << c.status();
  const AttributeMap item = {{"id", AttributeValue::S("a")}};
  EXPECT_TRUE(ConditionHolds(*c, nullptr));
  EXPECT_FALSE(ConditionHolds(*c, &item));
}

TEST(ConditionTest, AttributeExistsResolvesPlaceholders) {
  absl::StatusOr<Condition> c = ParseCondition("attribute_exists(#k)", {{"#k", "id"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->attribute, "id");
  const AttributeMap item = {{"id", AttributeValue::S("a")}};
  EXPECT_TRUE(ConditionHolds(*c, &item));
  EXPECT_FALSE(ConditionHolds(*c, nullptr));
}

TEST(ConditionTest, MalformedOrUnsupportedExpressionsAreInvalid) {
  for (const char* bad : {"", "attribute_exists", "attribute_exists(", "attribute_exists()",
                          "attribute_exists(a) AND attribute_exists(b)", "a = :v",
                          "attribute_exists(a.b)"}) {
    EXPECT_THAT(ParseCondition(bad, {}).status().message(),
                HasSubstr("Invalid ConditionExpression"))
        << bad;
  }
}

TEST(ConditionTest, UndefinedAndUnusedPlaceholdersAreInvalid) {
  EXPECT_THAT(ParseCondition("attribute_exists(#k)", {}).status().message(),
              HasSubstr("not defined"));
  EXPECT_THAT(ParseCondition("attribute_exists(id)", {{"#k", "id"}}).status().message(),
              HasSubstr("unused in expressions"));
}

}  // namespace
}  // namespace tributary::tables
