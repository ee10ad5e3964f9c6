#include "tables/decimal.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::tables {
namespace {

using ::testing::HasSubstr;

TEST(DecimalTest, NumbersCompareByValue) {
  EXPECT_LT(CompareNumbers("-10", "-2"), 0);
  EXPECT_LT(CompareNumbers("-0.5", "0"), 0);
  EXPECT_LT(CompareNumbers("0.5", "0.55"), 0);
  EXPECT_GT(CompareNumbers("10", "9.99"), 0);
  EXPECT_EQ(CompareNumbers("12.5", "12.5"), 0);
  EXPECT_GT(CompareNumbers("0.0012", "0.0011999"), 0);
}

TEST(DecimalTest, SumsAreExactTo38Digits) {
  EXPECT_EQ(*AddNumbers("12345678901234567890123456789012345677", "1"),
            "12345678901234567890123456789012345678");
  EXPECT_EQ(*AddNumbers("0.1", "0.2"), "0.3");
  EXPECT_EQ(*AddNumbers("-1.5", "1.5"), "0");
  EXPECT_EQ(*AddNumbers("-3", "1.25"), "-1.75");
  EXPECT_EQ(*SubtractNumbers("1", "3"), "-2");
  EXPECT_EQ(*SubtractNumbers("100", "0.001"), "99.999");
  EXPECT_EQ(*SubtractNumbers("-1", "-1"), "0");
}

TEST(DecimalTest, ASumBeyondDynamoDbsNumbersIsInvalid) {
  EXPECT_THAT(AddNumbers("99999999999999999999999999999999999999", "1").status().message(),
              ::testing::IsEmpty());  // 1E+38: one significant digit, fine
  EXPECT_THAT(AddNumbers("10000000000000000000000000000000000000", "0.1").status().message(),
              HasSubstr("38 significant digits"));
  const std::string nine_e125 = "9" + std::string(125, '0');
  EXPECT_THAT(AddNumbers(nine_e125, nine_e125).status().message(), HasSubstr("overflow"));
}

}  // namespace
}  // namespace tributary::tables
