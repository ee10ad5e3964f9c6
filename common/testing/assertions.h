// absl::Status in gtest assertions: ASSERT_OK / EXPECT_OK print the status (code and message)
// when it is not OK, and take more context with <<, like ASSERT_TRUE:
//   ASSERT_OK(clock_.WaitForWaiters(1)) << "the loop never parked";
// Test helpers that wait return ::testing::AssertionResult (ASSERT_TRUE(fake.AwaitX(...)) then
// prints what was awaited); IsOk turns a Status into one.
#ifndef TRIBUTARY_COMMON_TESTING_ASSERTIONS_H_
#define TRIBUTARY_COMMON_TESTING_ASSERTIONS_H_

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace tributary::testing {

// Success when `status` is OK; else a failure whose message is the status ("DEADLINE_EXCEEDED:
// waited 10s for ...").
::testing::AssertionResult IsOk(const absl::Status& status);

}  // namespace tributary::testing

#define ASSERT_OK(expr) ASSERT_TRUE(::tributary::testing::IsOk(expr))
#define EXPECT_OK(expr) EXPECT_TRUE(::tributary::testing::IsOk(expr))

#endif  // TRIBUTARY_COMMON_TESTING_ASSERTIONS_H_
