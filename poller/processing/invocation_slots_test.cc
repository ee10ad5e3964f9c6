// Reserved concurrency in a batch: a slot per invocation of a limited function, throttles that
// wait without counting as retries, nothing asked of leasing for an unlimited function.
#include "poller/processing/invocation_slots.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "poller/processing/batch_processor.h"
#include "poller/runtime/metrics.h"
#include "poller/testing/fake_services.h"
#include "poller/testing/fakes.h"

namespace tributary::poller {
namespace {

constexpr char kFunction[] = "orders-handler";

class InvocationSlotsTest : public ::testing::Test {
 protected:
  InvocationSlotsTest() {
    config_.set_function_endpoint("127.0.0.1:7000");
    config_.set_function_name(kFunction);
    config_.set_function_reserved_concurrent_executions(1);
    config_.set_maximum_retry_attempts(1);
    config_.set_maximum_record_age_in_seconds(-1);
  }

  std::vector<v1::Record> Records(int n) {
    std::vector<v1::Record> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(testing::MakeRecord(i, "k", absl::StrCat("r", i), clock_.Now()));
    }
    return out;
  }
  absl::Status Process(std::vector<v1::Record> records) {
    auto config = std::make_shared<const v1::EventSourceMappingConfiguration>(config_);
    return processor_.Process(shard_, [config] { return config; }, std::move(records), stop_,
                              [this](const std::vector<v1::Record>& done) {
                                for (const auto& r : done) done_.push_back(r.sequence_number());
                              });
  }
  // Another poller takes `n` slots of the function.
  void OtherPollerTakes(int n) {
    v1::AcquireInvocationSlotsRequest request;
    request.set_function_name(kFunction);
    request.set_poller_id("other");
    request.set_count(n);
    request.set_limit(config_.function_reserved_concurrent_executions());
    ASSERT_EQ(leases_.AcquireInvocationSlots(request)->granted_count(), n);
  }

  FakeClock clock_;
  testing::AdvancingWaiter waiter_{clock_};
  testing::ScriptedFunction function_;
  testing::RecordingDestination destination_;
  testing::FakeLeaseService leases_;
  InvocationSlotClient slots_{leases_, "poller-1"};
  PollerMetrics metrics_{"poller-1", clock_};
  BatchProcessor processor_{clock_,   waiter_, function_, destination_, metrics_,
                            BackoffOptions{absl::Milliseconds(100), absl::Seconds(30)},
                            7,        &slots_};
  ShardContext shard_{"mapping-1", "orders", "shardId-000000000001"};
  v1::EventSourceMappingConfiguration config_;
  StopSignal stop_;
  std::vector<std::string> done_;
};

TEST_F(InvocationSlotsTest, ALimitedInvocationTakesASlotAndGivesItBack) {
  ASSERT_TRUE(Process(Records(3)).ok());
  EXPECT_EQ(function_.call_count(), 1);
  EXPECT_EQ(done_.size(), 3u);
  EXPECT_EQ(leases_.slots_in_use(kFunction), 0);
  EXPECT_EQ(metrics_.FunctionConcurrentExecutions(kFunction), 0);
  EXPECT_EQ(metrics_.FunctionThrottles(kFunction), 0);
}

TEST_F(InvocationSlotsTest, ThrottlesDoNotConsumeMaximumRetryAttempts) {
  // maximum_retry_attempts 1: one failure then a success is delivered, whatever the throttles
  // before each attempt.
  function_.SetScript([](const v1::InvokeRequest&, int call) -> absl::StatusOr<v1::InvokeResponse> {
    v1::InvokeResponse r;
    if (call == 0) r.set_function_error("Unhandled");
    return r;
  });
  leases_.RefuseNextSlotAcquires(3);
  ASSERT_TRUE(Process(Records(2)).ok());
  EXPECT_EQ(function_.call_count(), 2) << "the retry was not used up by the throttles";
  EXPECT_EQ(done_.size(), 2u);
  EXPECT_TRUE(destination_.puts().empty()) << "nothing skipped";
  EXPECT_EQ(metrics_.FunctionThrottles(kFunction), 3);
  EXPECT_EQ(waiter_.waits().size(), 4u) << "three throttle backoffs and one retry backoff";
  EXPECT_EQ(leases_.slots_in_use(kFunction), 0);
}

TEST_F(InvocationSlotsTest, AThrottledLaneThatIsStoppedInvokesNothing) {
  OtherPollerTakes(1);
  stop_.Stop();
  EXPECT_EQ(Process(Records(1)).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(function_.call_count(), 0);
}

TEST_F(InvocationSlotsTest, AnUnlimitedFunctionAsksLeasingNothing) {
  OtherPollerTakes(1);  // every slot busy: a limited invocation would wait
  config_.clear_function_reserved_concurrent_executions();
  ASSERT_TRUE(Process(Records(1)).ok());
  EXPECT_EQ(function_.call_count(), 1);
  EXPECT_EQ(leases_.slot_refusals(), 0);
  EXPECT_EQ(leases_.slots_in_use(kFunction), 1) << "only the other poller's";
}

}  // namespace
}  // namespace tributary::poller
