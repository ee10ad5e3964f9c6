#include "tables/key_schema.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::tables {
namespace {

using ::testing::HasSubstr;
using T = AttributeValue::Type;

KeySchema HashAndRange(T range_type) { return {{"pk", T::kS}, KeyAttribute{"sk", range_type}}; }

TEST(KeySchemaTest, KeyTypesAreSNOrB) {
  EXPECT_TRUE(ValidateKeySchema({{"id", T::kN}, std::nullopt}).ok());
  EXPECT_FALSE(ValidateKeySchema({{"id", T::kBool}, std::nullopt}).ok());
  EXPECT_FALSE(ValidateKeySchema({{"", T::kS}, std::nullopt}).ok());
  EXPECT_FALSE(ValidateKeySchema({{"id", T::kS}, KeyAttribute{"id", T::kS}}).ok());
}

TEST(KeySchemaTest, AnItemMustCarryItsKeyWithTheRightType) {
  const KeySchema schema = HashAndRange(T::kN);
  EXPECT_TRUE(CheckItemKey(schema, {{"pk", AttributeValue::S("a")},
                                    {"sk", AttributeValue::N("1")}})
                  .ok());
  EXPECT_THAT(CheckItemKey(schema, {{"pk", AttributeValue::S("a")}}).message(),
              HasSubstr("Missing the key sk in the item"));
  EXPECT_THAT(CheckItemKey(schema, {{"pk", AttributeValue::S("a")},
                                    {"sk", AttributeValue::S("1")}})
                  .message(),
              HasSubstr("Type mismatch for key sk expected: N actual: S"));
}

TEST(KeySchemaTest, KeyValuesMustBeNonEmptyAndWithinTheirSizeLimits) {
  const KeySchema schema = HashAndRange(T::kB);
  EXPECT_THAT(CheckItemKey(schema, {{"pk", AttributeValue::S("")},
                                    {"sk", AttributeValue::B("x")}})
                  .message(),
              HasSubstr("cannot contain an empty string value"));
  EXPECT_TRUE(CheckItemKey(schema, {{"pk", AttributeValue::S(std::string(2048, 'a'))},
                                    {"sk", AttributeValue::B(std::string(1024, 'b'))}})
                  .ok());
  EXPECT_FALSE(CheckItemKey(schema, {{"pk", AttributeValue::S(std::string(2049, 'a'))},
                                     {"sk", AttributeValue::B("x")}})
                   .ok());
  EXPECT_FALSE(CheckItemKey(schema, {{"pk", AttributeValue::S("a")},
                                     {"sk", AttributeValue::B(std::string(1025, 'b'))}})
                   .ok());
}

TEST(KeySchemaTest, AKeyMustHoldExactlyTheKeyAttributes) {
  const KeySchema schema{{"id", T::kS}, std::nullopt};
  EXPECT_TRUE(CheckKey(schema, {{"id", AttributeValue::S("a")}}).ok());
  EXPECT_THAT(CheckKey(schema, {{"id", AttributeValue::S("a")}, {"x", AttributeValue::Null()}})
                  .message(),
              HasSubstr("does not match the schema"));
  EXPECT_THAT(CheckKey(schema, {{"id", AttributeValue::N("1")}}).message(),
              HasSubstr("does not match the schema"));
}

TEST(KeySchemaTest, NumericSortKeysSortByValue) {
  const std::vector<std::string> ascending = {"-1000", "-10",   "-2",  "-0.5", "-0.123",
                                              "-0.12", "0",     "0.12", "0.123", "0.5",
                                              "2",     "10",    "1000"};
  for (size_t i = 1; i < ascending.size(); ++i) {
    EXPECT_LT(OrderedNumberBytes(ascending[i - 1]), OrderedNumberBytes(ascending[i]))
        << ascending[i - 1] << " < " << ascending[i];
  }
}

TEST(KeySchemaTest, EqualKeysEncodeEquallyAndAPartitionIsOnePrefix) {
  const KeySchema schema = HashAndRange(T::kS);
  const std::string a = EncodeItemKey(schema, {{"pk", AttributeValue::S("p")},
                                               {"sk", AttributeValue::S("a")}});
  const std::string b = EncodeItemKey(schema, {{"pk", AttributeValue::S("p")},
                                               {"sk", AttributeValue::S("b")}});
  const std::string other = EncodeItemKey(schema, {{"pk", AttributeValue::S("pa")},
                                                   {"sk", AttributeValue::S("")}});
  EXPECT_LT(a, b);
  EXPECT_EQ(a.substr(0, 3), b.substr(0, 3));
  EXPECT_NE(other.substr(0, 3), a.substr(0, 3));  // "p" is not a prefix of "pa"'s partition
}

}  // namespace
}  // namespace tributary::tables
