// InvocationSlots over a real lease table on a FakeClock: slots follow the pollers' liveness.
#include "leasing/invocation_slots.h"

#include <memory>
#include <string>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "leasing/lease_store.h"
#include "leasing/lease_table.h"
#include "leasing/testing/test_lease_store.h"

namespace tributary::leasing {
namespace {

constexpr char kFunction[] = "orders-handler";
constexpr absl::Duration kLeaseDuration = absl::Seconds(10);

class InvocationSlotsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = testing::OpenTestLeaseStore(testing::NewTestLeaseStoreLocation());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    LeaseTableOptions options;
    options.lease_duration = kLeaseDuration;
    auto table = LeaseTable::Create(clock_, *store_, options);
    ASSERT_TRUE(table.ok()) << table.status();
    table_ = *std::move(table);
    slots_ = std::make_unique<InvocationSlots>(
        [this](const std::string& id) { return table_->IsPollerLive(id); });
    ASSERT_TRUE(table_->RegisterPoller("A", 10).ok());
    ASSERT_TRUE(table_->RegisterPoller("B", 10).ok());
  }

  // Slots granted to `poller` (asking for `count` at `limit`), -1 on an error.
  int Take(const std::string& poller, int count, int limit) {
    absl::StatusOr<SlotGrant> grant = slots_->Acquire(kFunction, poller, count, limit);
    EXPECT_TRUE(grant.ok()) << grant.status();
    return grant.ok() ? grant->granted : -1;
  }
  int Give(const std::string& poller, int count) {
    absl::StatusOr<int> released = slots_->Release(kFunction, poller, count);
    EXPECT_TRUE(released.ok()) << released.status();
    return released.ok() ? *released : -1;
  }

  FakeClock clock_;
  std::unique_ptr<LeaseStore> store_;
  std::unique_ptr<LeaseTable> table_;
  std::unique_ptr<InvocationSlots> slots_;
};

TEST_F(InvocationSlotsTest, NoMoreThanTheLimitIsHeldAcrossPollers) {
  EXPECT_EQ(Take("A", 2, 3), 2);
  EXPECT_EQ(Take("B", 2, 3), 1);  // only one left
  EXPECT_EQ(Take("A", 1, 3), 0);
  EXPECT_EQ(Take("B", 1, 3), 0);
  EXPECT_EQ(slots_->InUse(kFunction), 3);
}

TEST_F(InvocationSlotsTest, AReleasedSlotCanBeTakenByAnotherPoller) {
  EXPECT_EQ(Take("A", 1, 1), 1);
  EXPECT_EQ(Take("B", 1, 1), 0);
  EXPECT_EQ(Give("A", 1), 1);
  EXPECT_EQ(Take("B", 1, 1), 1);
  EXPECT_EQ(slots_->InUse(kFunction), 1);
}

TEST_F(InvocationSlotsTest, FunctionsHaveSeparateSlots) {
  EXPECT_EQ(Take("A", 1, 1), 1);
  absl::StatusOr<SlotGrant> other = slots_->Acquire("other-function", "A", 1, 1);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->granted, 1);
}

TEST_F(InvocationSlotsTest, ReleasingMoreThanHeldGivesBackWhatIsHeld) {
  EXPECT_EQ(Take("A", 2, 5), 2);
  EXPECT_EQ(Give("A", 5), 2);
  EXPECT_EQ(Give("A", 1), 0);  // e.g. slots taken before a leasing restart
  EXPECT_EQ(Give("B", 1), 0);
  EXPECT_EQ(slots_->InUse(kFunction), 0);
}

TEST_F(InvocationSlotsTest, SlotsOfAPollerThatStoppedHeartbeatingExpireWithItsLiveness) {
  EXPECT_EQ(Take("A", 2, 2), 2);  // A is then killed with -9: it never releases
  EXPECT_EQ(Take("B", 1, 2), 0);
  clock_.Advance(kLeaseDuration - absl::Seconds(1));
  ASSERT_TRUE(table_->Heartbeat("B").ok());
  EXPECT_EQ(Take("B", 1, 2), 0);  // A is still live: its slots still count
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(table_->IsPollerLive("A"));
  EXPECT_EQ(Take("B", 2, 2), 2);
  EXPECT_EQ(slots_->InUse(kFunction), 2);
}

TEST_F(InvocationSlotsTest, HeartbeatsKeepAPollersSlots) {
  EXPECT_EQ(Take("A", 1, 1), 1);
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(kLeaseDuration / 2);
    ASSERT_TRUE(table_->Heartbeat("A").ok());
    ASSERT_TRUE(table_->Heartbeat("B").ok());
  }
  EXPECT_EQ(Take("B", 1, 1), 0);
}

TEST_F(InvocationSlotsTest, SlotsOfADeregisteredPollerAreFreedAtOnce) {
  EXPECT_EQ(Take("A", 1, 1), 1);
  ASSERT_TRUE(table_->DeregisterPoller("A").ok());
  EXPECT_EQ(Take("B", 1, 1), 1);
}

TEST_F(InvocationSlotsTest, LoweringTheLimitGrantsNothingUntilInUseFallsBelowIt) {
  EXPECT_EQ(Take("A", 2, 3), 2);
  EXPECT_EQ(Take("B", 1, 3), 1);
  EXPECT_EQ(Take("B", 1, 1), 0);  // limit lowered to 1: held slots stay, nothing new
  EXPECT_EQ(slots_->InUse(kFunction), 3);
  EXPECT_EQ(Give("B", 1), 1);
  EXPECT_EQ(Give("A", 1), 1);
  EXPECT_EQ(Take("B", 1, 1), 0);  // still 1 in use
  EXPECT_EQ(Give("A", 1), 1);
  EXPECT_EQ(Take("B", 1, 1), 1);
}

TEST_F(InvocationSlotsTest, ALimitOfZeroGrantsNothing) { EXPECT_EQ(Take("A", 1, 0), 0); }

TEST_F(InvocationSlotsTest, APollerThatIsNotLiveIsRefused) {
  EXPECT_EQ(slots_->Acquire(kFunction, "unknown", 1, 5).status().code(),
            absl::StatusCode::kFailedPrecondition);
  clock_.Advance(kLeaseDuration);
  EXPECT_EQ(slots_->Acquire(kFunction, "A", 1, 5).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(InvocationSlotsTest, MalformedCallsAreInvalidArgument) {
  EXPECT_EQ(slots_->Acquire("", "A", 1, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(slots_->Acquire(kFunction, "", 1, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(slots_->Acquire(kFunction, "A", 0, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(slots_->Acquire(kFunction, "A", 1, -1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(slots_->Release(kFunction, "A", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(slots_->Release("", "A", 1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tributary::leasing
