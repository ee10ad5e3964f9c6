#include "mapping/starting_position.h"

#include "gtest/gtest.h"

namespace tributary::mapping {
namespace {

TEST(StartingPositionTest, EachPositionHasLambdasNameAndBack) {
  EXPECT_EQ(StartingPositionName(v1::TRIM_HORIZON_POSITION), "TRIM_HORIZON");
  EXPECT_EQ(StartingPositionName(v1::LATEST_POSITION), "LATEST");
  EXPECT_EQ(StartingPositionName(v1::AT_TIMESTAMP_POSITION), "AT_TIMESTAMP");
  for (auto p : {v1::TRIM_HORIZON_POSITION, v1::LATEST_POSITION, v1::AT_TIMESTAMP_POSITION}) {
    EXPECT_EQ(StartingPositionOf(StartingPositionName(p)), p);
  }
}

TEST(StartingPositionTest, UnspecifiedHasNoName) {
  EXPECT_EQ(StartingPositionName(v1::EVENT_SOURCE_POSITION_UNSPECIFIED), "");
  EXPECT_EQ(StartingPositionName(static_cast<v1::EventSourcePosition>(99)), "");
}

TEST(StartingPositionTest, OtherSpellingsAreUnspecified) {
  for (const char* other : {"trim_horizon", "Latest", "", "TRIM_HORIZON ", "AT_SEQUENCE_NUMBER"}) {
    EXPECT_EQ(StartingPositionOf(other), v1::EVENT_SOURCE_POSITION_UNSPECIFIED) << other;
  }
}

}  // namespace
}  // namespace tributary::mapping
