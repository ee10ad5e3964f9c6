// The Checkpointer against in-memory leasing (fencing by owner and counter) on a FakeClock.
#include "poller/checkpoint/checkpointer.h"

#include <optional>

#include "gtest/gtest.h"
#include "poller/testing/fake_services.h"

namespace tributary::poller {
namespace {

constexpr char kMapping[] = "m";
constexpr char kShard[] = "shardId-000000000000";

class CheckpointerTest : public ::testing::Test {
 protected:
  CheckpointerTest() {
    leases_.AddLease(kMapping, kShard, "s");
    v1::RegisterPollerRequest reg;
    reg.set_poller_id("p1");
    reg.set_capacity(1);
    EXPECT_TRUE(leases_.RegisterPoller(reg).ok());
    v1::AcquireLeasesRequest acquire;
    acquire.set_poller_id("p1");
    auto granted = leases_.AcquireLeases(acquire);
    EXPECT_TRUE(granted.ok() && granted->leases_size() == 1);
    lease_ = granted->leases(0);
    key_.set_event_source_mapping_uuid(kMapping);
    key_.set_shard_id(kShard);
  }

  Checkpointer Make(const v1::Checkpoint& start, absl::Duration interval) {
    return Checkpointer(key_, lease_.lease_counter(), "p1", start, interval, leases_, clock_);
  }

  FakeClock clock_;
  testing::FakeLeaseService leases_;
  v1::Lease lease_;
  v1::LeaseKey key_;
};

TEST_F(CheckpointerTest, StartsFromTheGrantedCheckpoint) {
  v1::Checkpoint start;
  start.set_type(v1::SEQUENCE_NUMBER);
  start.set_sequence_number("41");
  Checkpointer from_41 = Make(start, absl::Seconds(1));
  EXPECT_EQ(from_41.checkpointed(), std::optional<uint64_t>(41));
  EXPECT_EQ(from_41.last(), "41");
  EXPECT_FALSE(from_41.Moved(41));
  EXPECT_TRUE(from_41.Moved(42));
  EXPECT_EQ(from_41.NextTime(), MonotonicTime::InfinitePast() + absl::Seconds(1))
      << "the first write is due at once";

  start.Clear();
  start.set_type(v1::TRIM_HORIZON_CHECKPOINT);
  Checkpointer from_horizon = Make(start, absl::Seconds(1));
  EXPECT_EQ(from_horizon.checkpointed(), std::nullopt);
  EXPECT_EQ(from_horizon.last(), "");
  EXPECT_FALSE(from_horizon.Moved(std::nullopt)) << "no record done yet";
  EXPECT_TRUE(from_horizon.Moved(0));
}

TEST_F(CheckpointerTest, AWriteIsFencedByTheCounterAndStartsTheInterval) {
  Checkpointer checkpointer = Make(v1::Checkpoint(), absl::Milliseconds(200));
  ASSERT_TRUE(checkpointer.WriteSequenceNumber(5).ok());
  const v1::Lease lease = leases_.GetLease(kMapping, kShard);
  EXPECT_EQ(lease.checkpoint().type(), v1::SEQUENCE_NUMBER);
  EXPECT_EQ(lease.checkpoint().sequence_number(), "5");
  ASSERT_EQ(leases_.checkpoint_calls().size(), 1u);
  EXPECT_EQ(leases_.checkpoint_calls()[0].lease_counter, lease_.lease_counter());
  EXPECT_EQ(leases_.checkpoint_calls()[0].poller_id, "p1");
  EXPECT_EQ(checkpointer.checkpointed(), std::optional<uint64_t>(5));
  EXPECT_EQ(checkpointer.last(), "5");
  EXPECT_FALSE(checkpointer.Moved(5));
  EXPECT_TRUE(checkpointer.Moved(6));
  EXPECT_EQ(checkpointer.NextTime(), clock_.MonotonicNow() + absl::Milliseconds(200));
  EXPECT_FALSE(checkpointer.RetryPending());
}

TEST_F(CheckpointerTest, AFailedWritePausesTheNextOne) {
  Checkpointer checkpointer = Make(v1::Checkpoint(), absl::ZeroDuration());
  leases_.FailNextCheckpoints(1);
  EXPECT_EQ(checkpointer.WriteSequenceNumber(5).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(checkpointer.RetryPending());
  EXPECT_TRUE(checkpointer.Paused(clock_.MonotonicNow()));
  EXPECT_EQ(checkpointer.NextTime(), clock_.MonotonicNow() + Checkpointer::kRetryPause);
  EXPECT_EQ(checkpointer.checkpointed(), std::nullopt) << "nothing was written";
  EXPECT_TRUE(checkpointer.Moved(5));

  clock_.Advance(Checkpointer::kRetryPause - absl::Milliseconds(1));
  EXPECT_TRUE(checkpointer.Paused(clock_.MonotonicNow()));
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_FALSE(checkpointer.Paused(clock_.MonotonicNow()));
  ASSERT_TRUE(checkpointer.WriteSequenceNumber(5).ok());
  EXPECT_FALSE(checkpointer.RetryPending());
  EXPECT_EQ(checkpointer.checkpointed(), std::optional<uint64_t>(5));
}

TEST_F(CheckpointerTest, ARefusalRecordsNothingAndPausesNothing) {
  Checkpointer checkpointer = Make(v1::Checkpoint(), absl::ZeroDuration());
  ASSERT_TRUE(checkpointer.WriteSequenceNumber(3).ok());
  leases_.Steal(kMapping, kShard, "p2");  // a new counter and owner: this lease is not ours
  EXPECT_EQ(checkpointer.WriteSequenceNumber(7).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(checkpointer.WriteShardEnd().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(checkpointer.checkpointed(), std::optional<uint64_t>(3));
  EXPECT_EQ(checkpointer.last(), "3");
  EXPECT_FALSE(checkpointer.RetryPending()) << "a refusal is not retried";
  EXPECT_EQ(leases_.GetLease(kMapping, kShard).checkpoint().sequence_number(), "3");
}

TEST_F(CheckpointerTest, ShardEndIsTheLastCheckpoint) {
  Checkpointer checkpointer = Make(v1::Checkpoint(), absl::ZeroDuration());
  ASSERT_TRUE(checkpointer.WriteSequenceNumber(9).ok());
  ASSERT_TRUE(checkpointer.WriteShardEnd().ok());
  EXPECT_EQ(leases_.GetLease(kMapping, kShard).checkpoint().type(), v1::SHARD_END);
  EXPECT_EQ(checkpointer.last(), "SHARD_END");
  EXPECT_EQ(checkpointer.checkpointed(), std::optional<uint64_t>(9));
}

}  // namespace
}  // namespace tributary::poller
