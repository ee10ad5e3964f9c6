#include "common/memory_budget.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace tributary {
namespace {

TEST(MemoryBudgetTest, AReservationPastTheLimitIsRefusedAndTakesNothing) {
  MemoryBudget budget(100);
  EXPECT_TRUE(budget.TryReserve(60));
  EXPECT_FALSE(budget.TryReserve(41));
  EXPECT_EQ(budget.used(), 60);
  EXPECT_EQ(budget.refusals(), 1);
  EXPECT_TRUE(budget.TryReserve(40));
  EXPECT_EQ(budget.used(), 100);
}

TEST(MemoryBudgetTest, AReservationIsGivenBackWhenItGoesOutOfScope) {
  MemoryBudget budget(100);
  {
    MemoryBudget::Reservation r(&budget, 70);
    ASSERT_TRUE(r.ok());
    MemoryBudget::Reservation refused(&budget, 31);
    EXPECT_FALSE(refused.ok());
    MemoryBudget::Reservation moved = std::move(r);
    moved.ShrinkTo(20);
    EXPECT_EQ(budget.used(), 20);
  }
  EXPECT_EQ(budget.used(), 0);
  EXPECT_EQ(budget.peak(), 70);
}

TEST(MemoryBudgetTest, AnUpToReservationTakesWhatIsFreeIfItIsEnough) {
  MemoryBudget budget(100);
  ASSERT_TRUE(budget.TryReserve(70));
  MemoryBudget::Reservation r = MemoryBudget::Reservation::UpTo(&budget, 10, 50);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.bytes(), 30);
  EXPECT_FALSE(MemoryBudget::Reservation::UpTo(&budget, 1, 50).ok());
  EXPECT_EQ(budget.used(), 100);
}

TEST(MemoryBudgetTest, ZeroMeansNoLimitButStillCounts) {
  MemoryBudget budget(0);
  EXPECT_TRUE(budget.TryReserve(int64_t{1} << 40));
  EXPECT_EQ(budget.used(), int64_t{1} << 40);
}

TEST(MemoryBudgetTest, ConcurrentReservationsNeverPassTheLimit) {
  MemoryBudget budget(1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&budget, t] {
      for (int i = 0; i < 20000; ++i) {
        const int64_t bytes = 1 + (i * 7 + t * 13) % 300;
        if (budget.TryReserve(bytes)) {
          EXPECT_LE(budget.used(), 1000);
          budget.Release(bytes);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(budget.peak(), 1000);
  EXPECT_EQ(budget.used(), 0);
}

}  // namespace
}  // namespace tributary
