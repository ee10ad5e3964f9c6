#include "tables/attribute_value.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::tables {
namespace {

using ::testing::HasSubstr;

std::string Canonical(const std::string& text) {
  absl::StatusOr<std::string> n = ParseNumber(text);
  return n.ok() ? *n : "error: " + std::string(n.status().message());
}

TEST(NumberTest, NumbersAreKeptInCanonicalForm) {
  EXPECT_EQ(Canonical("1.50"), "1.5");
  EXPECT_EQ(Canonical("1E2"), "100");
  EXPECT_EQ(Canonical("-0.0"), "0");
  EXPECT_EQ(Canonical("007"), "7");
  EXPECT_EQ(Canonical("1.2e-3"), "0.0012");
  EXPECT_EQ(Canonical("+12.340e1"), "123.4");
  EXPECT_EQ(Canonical("-5"), "-5");
}

TEST(NumberTest, ThirtyEightSignificantDigitsAreAcceptedAndThirtyNineAreNot) {
  const std::string d38(38, '7');
  EXPECT_EQ(Canonical(d38), d38);
  EXPECT_EQ(Canonical("000" + d38 + "000.000"), d38 + "000");  // zeros are not significant
  EXPECT_THAT(Canonical(d38 + "7"), HasSubstr("more than 38 significant digits"));
}

TEST(NumberTest, MagnitudeIsLimitedAsDynamoDbLimitsIt) {
  EXPECT_EQ(Canonical("9.9999999999999999999999999999999999999E+125"),
            "99999999999999999999999999999999999999" + std::string(88, '0'));
  EXPECT_THAT(Canonical("1E126"), HasSubstr("Number overflow"));
  EXPECT_THAT(Canonical("-1E126"), HasSubstr("Number overflow"));
  EXPECT_EQ(Canonical("1E-130"), "0." + std::string(129, '0') + "1");
  EXPECT_THAT(Canonical("1E-131"), HasSubstr("Number underflow"));
  EXPECT_EQ(Canonical("0E999999999"), "0");  // zero has no magnitude
}

TEST(NumberTest, TextThatIsNotANumberIsRejected) {
  for (const char* bad : {"", "-", ".", "1e", "1e+", "abc", "1.2.3", "0x10", "1 ", " 1", "NaN",
                          "Infinity", "1e5x"}) {
    EXPECT_THAT(Canonical(bad), HasSubstr("cannot be converted into a number")) << bad;
  }
}

TEST(AttributeValueTest, SetsMustBeNonEmptyAndWithoutDuplicates) {
  EXPECT_TRUE(ValidateAttributeValue(AttributeValue::SS({"a", "b"}), "x").ok());
  EXPECT_THAT(ValidateAttributeValue(AttributeValue::SS({}), "x").message(),
              HasSubstr("may not be empty"));
  EXPECT_THAT(ValidateAttributeValue(AttributeValue::BS({"\x01", "\x01"}), "x").message(),
              HasSubstr("contains duplicates"));
  EXPECT_THAT(ValidateAttributeValue(AttributeValue::NS({"1", "1"}), "x").message(),
              HasSubstr("contains duplicates"));
}

TEST(AttributeValueTest, NumbersInsideValuesMustBeCanonical) {
  EXPECT_FALSE(ValidateAttributeValue(AttributeValue::N("1.0"), "x").ok());
  EXPECT_FALSE(ValidateAttributeValue(AttributeValue::NS({"1", "x"}), "x").ok());
  EXPECT_FALSE(ValidateAttributeValue(
                   AttributeValue::L({AttributeValue::M({{"n", AttributeValue::N("01")}})}), "x")
                   .ok());
}

TEST(AttributeValueTest, NestingDeeperThanThirtyTwoLevelsIsRejected) {
  AttributeValue v = AttributeValue::S("leaf");
  for (int i = 0; i < kMaxAttributeDepth; ++i) v = AttributeValue::L({v});
  EXPECT_TRUE(ValidateAttributeValue(v, "x").ok());
  v = AttributeValue::L({v});
  EXPECT_THAT(ValidateAttributeValue(v, "x").message(), HasSubstr("Nesting Levels"));
}

TEST(AttributeValueTest, EqualityIgnoresSetOrderButNotListOrder) {
  EXPECT_EQ(AttributeValue::SS({"a", "b"}), AttributeValue::SS({"b", "a"}));
  EXPECT_NE(AttributeValue::L({AttributeValue::S("a"), AttributeValue::S("b")}),
            AttributeValue::L({AttributeValue::S("b"), AttributeValue::S("a")}));
  EXPECT_NE(AttributeValue::S("1"), AttributeValue::N("1"));
  EXPECT_EQ(AttributeValue::M({{"b", AttributeValue::Null()}, {"a", AttributeValue::Bool(true)}}),
            AttributeValue::M({{"a", AttributeValue::Bool(true)}, {"b", AttributeValue::Null()}}));
}

TEST(ItemSizeTest, SizesAreCountedAsDynamoDbCountsThem) {
  EXPECT_EQ(ItemSize({{"name", AttributeValue::S("héllo")}}), 4 + 6);  // UTF-8 bytes
  EXPECT_EQ(ItemSize({{"b", AttributeValue::B(std::string(10, '\0'))}}), 1 + 10);
  EXPECT_EQ(ItemSize({{"f", AttributeValue::Bool(true)}, {"n", AttributeValue::Null()}}), 4);
  // Numbers: one byte per two significant digits, plus one.
  EXPECT_EQ(AttributeSize(AttributeValue::N("1")), 2);
  EXPECT_EQ(AttributeSize(AttributeValue::N("12")), 2);
  EXPECT_EQ(AttributeSize(AttributeValue::N("123")), 3);
  EXPECT_EQ(AttributeSize(AttributeValue::N("100000")), 2);
  EXPECT_EQ(AttributeSize(AttributeValue::N("-0.0012")), 2);
  // Sets: their elements; lists and maps: 3 + per element 1 + its size (map names included).
  EXPECT_EQ(AttributeSize(AttributeValue::SS({"ab", "c"})), 3);
  EXPECT_EQ(AttributeSize(AttributeValue::L({AttributeValue::S("ab"), AttributeValue::Null()})),
            3 + 3 + 2);
  EXPECT_EQ(AttributeSize(AttributeValue::M({{"k", AttributeValue::S("v")}})), 3 + 1 + 1 + 1);
}

TEST(ItemCodecTest, EveryTypeRoundTrips) {
  AttributeMap item = {
      {"b", AttributeValue::B(std::string("\0\xff", 2))},
      {"bool", AttributeValue::Bool(false)},
      {"bs", AttributeValue::BS({"x", std::string(1, '\0')})},
      {"l", AttributeValue::L({AttributeValue::N("1"), AttributeValue::Null()})},
      {"m", AttributeValue::M({{"inner", AttributeValue::SS({"a"})}})},
      {"n", AttributeValue::N("-1.5")},
      {"ns", AttributeValue::NS({"1", "2"})},
      {"null", AttributeValue::Null()},
      {"s", AttributeValue::S("")},
      {"ss", AttributeValue::SS({"p", "q"})},
  };
  absl::StatusOr<AttributeMap> decoded = DecodeItem(EncodeItem(item));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(ItemsEqual(*decoded, item));
}

TEST(ItemCodecTest, TruncatedOrForeignBytesAreDataLoss) {
  const std::string bytes = EncodeItem({{"s", AttributeValue::S("value")}});
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeItem(bytes.substr(0, n)).status().code(), absl::StatusCode::kDataLoss) << n;
  }
  EXPECT_EQ(DecodeItem(bytes + "x").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace tributary::tables
