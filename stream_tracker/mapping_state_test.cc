#include "stream_tracker/mapping_state.h"

#include "gtest/gtest.h"

namespace tributary::stream_tracker {
namespace {

TEST(MappingStateTest, UpdateWithoutEnabledChangeGoesToUpdating) {
  EXPECT_EQ(StateAfterUpdate(v1::ENABLED, true, true), v1::UPDATING_MAPPING);
  EXPECT_EQ(StateAfterUpdate(v1::DISABLED, false, false), v1::UPDATING_MAPPING);
  EXPECT_EQ(StateAfterUpdate(v1::UPDATING_MAPPING, true, true), v1::UPDATING_MAPPING);
}

TEST(MappingStateTest, ChangingEnabledGoesToEnablingOrDisabling) {
  EXPECT_EQ(StateAfterUpdate(v1::ENABLED, true, false), v1::DISABLING);
  EXPECT_EQ(StateAfterUpdate(v1::DISABLED, false, true), v1::ENABLING);
  EXPECT_EQ(StateAfterUpdate(v1::DISABLING, false, true), v1::ENABLING);
  EXPECT_EQ(StateAfterUpdate(v1::ENABLING, true, false), v1::DISABLING);
  EXPECT_EQ(StateAfterUpdate(v1::UPDATING_MAPPING, true, false), v1::DISABLING);
}

TEST(MappingStateTest, PendingEnableOrDisableIsKeptByOtherUpdates) {
  EXPECT_EQ(StateAfterUpdate(v1::DISABLING, false, false), v1::DISABLING);
  EXPECT_EQ(StateAfterUpdate(v1::ENABLING, true, true), v1::ENABLING);
}

TEST(MappingStateTest, CreatingStaysCreating) {
  EXPECT_EQ(StateAfterUpdate(v1::CREATING_MAPPING, true, false), v1::CREATING_MAPPING);
  EXPECT_EQ(StateAfterUpdate(v1::CREATING_MAPPING, true, true), v1::CREATING_MAPPING);
}

TEST(MappingStateTest, StableStateFollowsEnabled) {
  EXPECT_EQ(StableState(true), v1::ENABLED);
  EXPECT_EQ(StableState(false), v1::DISABLED);
}

TEST(MappingStateTest, OnlyEnabledAndDisabledAreStable) {
  EXPECT_FALSE(IsTransitional(v1::ENABLED));
  EXPECT_FALSE(IsTransitional(v1::DISABLED));
  for (auto state : {v1::CREATING_MAPPING, v1::UPDATING_MAPPING, v1::ENABLING, v1::DISABLING,
                     v1::DELETING_MAPPING}) {
    EXPECT_TRUE(IsTransitional(state)) << state;
  }
}

}  // namespace
}  // namespace tributary::stream_tracker
