#include "poller/runtime/outcome_log.h"

#include "common/testing/log_capture.h"
#include "gtest/gtest.h"

namespace tributary::poller {
namespace {

TEST(OutcomeLogTest, AnErrorIsLoggedOncePerChangeAndItsRecoveryOnce) {
  tributary::testing::LogCapture log;
  OutcomeLog outcomes("poller p1");
  EXPECT_FALSE(outcomes.Record("pass", absl::OkStatus())) << "success from the start: silent";
  const absl::Status down = absl::UnavailableError("connection refused");
  EXPECT_TRUE(outcomes.Record("pass", down));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(outcomes.Record("pass", down));
  EXPECT_TRUE(outcomes.Record("pass", absl::DeadlineExceededError("slow"))) << "another error";
  EXPECT_TRUE(outcomes.Record("pass", absl::OkStatus()));
  EXPECT_FALSE(outcomes.Record("pass", absl::OkStatus()));
  EXPECT_EQ(log.Count({"poller p1: pass: UNAVAILABLE: connection refused"}), 1);
  EXPECT_EQ(log.Count({"poller p1: pass: DEADLINE_EXCEEDED: slow"}), 1);
  EXPECT_EQ(log.Count({"poller p1: pass: succeeds again"}), 1);
}

TEST(OutcomeLogTest, SubjectsAreIndependent) {
  tributary::testing::LogCapture log;
  OutcomeLog outcomes("poller p1");
  const absl::Status down = absl::UnavailableError("down");
  EXPECT_TRUE(outcomes.Record("mapping a", down));
  EXPECT_TRUE(outcomes.Record("mapping b", down));
  EXPECT_FALSE(outcomes.Record("mapping a", down));
  EXPECT_TRUE(outcomes.Record("mapping a", absl::OkStatus()));
  EXPECT_FALSE(outcomes.Record("mapping b", down)) << "b still failing, already logged";
  EXPECT_EQ(log.Count({"poller p1: mapping "}), 3);
}

}  // namespace
}  // namespace tributary::poller
