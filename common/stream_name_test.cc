#include "common/stream_name.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

using ::testing::HasSubstr;

TEST(StreamNameTest, KinesisCharactersUpTo128AreValid) {
  EXPECT_TRUE(IsValidStreamName("a"));
  EXPECT_TRUE(IsValidStreamName("orders-2026_v1.0"));
  EXPECT_TRUE(IsValidStreamName(std::string(128, 'x')));
  EXPECT_TRUE(ValidateStreamName("stream_name", std::string(128, 'x')).ok());
}

TEST(StreamNameTest, EachBrokenRuleIsNamedWithTheField) {
  EXPECT_FALSE(IsValidStreamName(""));
  EXPECT_FALSE(IsValidStreamName(std::string(129, 'x')));
  EXPECT_FALSE(IsValidStreamName("bad name"));
  EXPECT_FALSE(IsValidStreamName("caf\xc3\xa9"));
  absl::Status empty = ValidateStreamName("stream_name", "");
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.message(), "stream_name is required");
  EXPECT_EQ(ValidateStreamName("destination", std::string(129, 'x')).message(),
            "destination must be 1 to 128 characters, got 129");
  EXPECT_THAT(std::string(ValidateStreamName("stream_name", "a/b").message()),
              HasSubstr("stream_name may only hold [a-zA-Z0-9_.-], got \"a/b\""));
}

}  // namespace
}  // namespace tributary
