#include "poller/processing/batcher.h"

#include <string>

#include "gtest/gtest.h"
#include "poller/testing/fakes.h"

namespace tributary::poller {
namespace {

using testing::MakeRecord;

// Records arrive at kT0 (wall time); the batcher measures its windows from kM0 (monotonic).
const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);
const MonotonicTime kM0 = MonotonicTime::FromOrigin(absl::Hours(5));

std::vector<std::string> Seqs(const std::vector<v1::Record>& batch) {
  std::vector<std::string> out;
  for (const auto& r : batch) out.push_back(r.sequence_number());
  return out;
}

TEST(BatcherTest, BatchGoesOutAtBatchSize) {
  Batcher batcher(3, absl::Seconds(60));
  for (int i = 1; i <= 2; ++i) batcher.Add(MakeRecord(i, "k", "d", kT0), kM0);
  EXPECT_FALSE(batcher.TakeReady(kM0).has_value());
  batcher.Add(MakeRecord(3, "k", "d", kT0), kM0);
  batcher.Add(MakeRecord(4, "k", "d", kT0), kM0);
  auto batch = batcher.TakeReady(kM0);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(Seqs(*batch), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_FALSE(batcher.TakeReady(kM0).has_value());  // "4" waits for its window
  EXPECT_EQ(batcher.size(), 1u);
}

TEST(BatcherTest, WindowStartsAtFirstRecordAndReleasesThePartialBatch) {
  Batcher batcher(100, absl::Seconds(5));
  batcher.Add(MakeRecord(1, "k", "d", kT0), kM0);
  batcher.Add(MakeRecord(2, "k", "d", kT0), kM0 + absl::Seconds(3));
  EXPECT_EQ(batcher.WindowDeadline(), kM0 + absl::Seconds(5));
  EXPECT_FALSE(batcher.TakeReady(kM0 + absl::Milliseconds(4999)).has_value());
  auto batch = batcher.TakeReady(kM0 + absl::Seconds(5));
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(Seqs(*batch), (std::vector<std::string>{"1", "2"}));
  EXPECT_FALSE(batcher.WindowDeadline().has_value());
}

TEST(BatcherTest, WindowZeroTakesWhatIsBufferedUpToTheSize) {
  Batcher batcher(2, absl::ZeroDuration());
  batcher.Add(MakeRecord(1, "k", "d", kT0), kM0);
  auto one = batcher.TakeReady(kM0);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(Seqs(*one), (std::vector<std::string>{"1"}));
  for (int i = 2; i <= 4; ++i) batcher.Add(MakeRecord(i, "k", "d", kT0), kM0);
  EXPECT_EQ(Seqs(*batcher.TakeReady(kM0)), (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(Seqs(*batcher.TakeReady(kM0)), (std::vector<std::string>{"4"}));
  EXPECT_FALSE(batcher.TakeReady(kM0).has_value());
}

TEST(BatcherTest, FlushIgnoresTheWindow) {
  Batcher batcher(10, absl::Seconds(300));
  batcher.Add(MakeRecord(1, "k", "d", kT0), kM0);
  EXPECT_FALSE(batcher.TakeReady(kM0).has_value());
  EXPECT_TRUE(batcher.TakeReady(kM0, /*flush=*/true).has_value());
}

TEST(BatcherTest, BatchNeverGoesOverSixMiB) {
  Batcher batcher(10000, absl::Seconds(300));
  const std::string one_mib(1 << 20, 'x');
  for (int i = 1; i <= 12; ++i) batcher.Add(MakeRecord(i, "key", one_mib, kT0), kM0);
  auto batch = batcher.TakeReady(kM0);
  ASSERT_TRUE(batch.has_value());
  // Six 1 MiB records plus their keys and sequence numbers exceed 6 MiB; five fit.
  EXPECT_EQ(batch->size(), 5u);
  v1::InvokeRequest request;
  request.set_event_source_mapping_uuid(std::string(36, 'u'));
  request.set_stream_name(std::string(128, 's'));
  request.set_shard_id("shardId-000000000000");
  for (const auto& r : *batch) *request.add_records() = r;
  EXPECT_LE(request.ByteSizeLong(), static_cast<size_t>(kMaxInvokePayloadBytes));
  EXPECT_EQ(batcher.TakeReady(kM0)->size(), 5u);
  EXPECT_FALSE(batcher.TakeReady(kM0).has_value());  // 2 left, under every limit
}

TEST(BatcherTest, PayloadJustUnderTheCapFillsTheBatch) {
  const int64_t cap = 1000;
  Batcher batcher(100, absl::Seconds(300), cap);
  // Two records that together use exactly the cap go together; a third would overflow.
  std::string half(static_cast<size_t>(cap / 2), 'x');
  while (InvokePayloadBytes(MakeRecord(1, "k", half, kT0)) > cap / 2) half.pop_back();
  for (int i = 1; i <= 3; ++i) batcher.Add(MakeRecord(i, "k", half, kT0), kM0);
  ASSERT_EQ(2 * InvokePayloadBytes(MakeRecord(1, "k", half, kT0)), cap);
  EXPECT_EQ(batcher.TakeReady(kM0)->size(), 2u);
}

TEST(BatcherTest, RecordLargerThanTheCapGoesAlone) {
  Batcher batcher(100, absl::Seconds(300), 1000);
  batcher.Add(MakeRecord(1, "k", "small", kT0), kM0);
  batcher.Add(MakeRecord(2, "k", std::string(5000, 'x'), kT0), kM0);
  batcher.Add(MakeRecord(3, "k", "small", kT0), kM0);
  EXPECT_EQ(Seqs(*batcher.TakeReady(kM0)), (std::vector<std::string>{"1"}));
  EXPECT_EQ(Seqs(*batcher.TakeReady(kM0)), (std::vector<std::string>{"2"}));
  EXPECT_FALSE(batcher.TakeReady(kM0).has_value());
}

TEST(BatcherTest, ReconfigureAppliesToTheNextBatch) {
  Batcher batcher(5, absl::Seconds(300));
  for (int i = 1; i <= 3; ++i) batcher.Add(MakeRecord(i, "k", "d", kT0), kM0);
  EXPECT_FALSE(batcher.TakeReady(kM0).has_value());
  batcher.Reconfigure(2, absl::Seconds(300));
  EXPECT_EQ(batcher.TakeReady(kM0)->size(), 2u);
}

TEST(BatcherTest, ABatchNeverMixesGroupsAndALaterGroupMakesItDue) {
  Batcher batcher(100, absl::Seconds(60));
  batcher.Add(MakeRecord(1, "k", "d", kT0), kM0, /*group=*/7);
  batcher.Add(MakeRecord(2, "k", "d", kT0), kM0, 7);
  EXPECT_FALSE(batcher.TakeReady(kM0).has_value()) << "waits for its batching window";
  EXPECT_EQ(batcher.FrontGroup(), 7);
  batcher.Add(MakeRecord(3, "k", "d", kT0), kM0, 8);
  batcher.Add(MakeRecord(4, "k", "d", kT0), kM0, 8);
  auto batch = batcher.TakeReady(kM0);
  ASSERT_TRUE(batch.has_value()) << "nothing more of group 7 can follow";
  EXPECT_EQ(Seqs(*batch), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(batcher.FrontGroup(), 8);
  EXPECT_FALSE(batcher.TakeReady(kM0).has_value()) << "group 8 waits for its window";
  batch = batcher.TakeReady(kM0, /*flush=*/true);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(Seqs(*batch), (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(batcher.FrontGroup(), std::nullopt);
}

TEST(BatcherTest, ReconfiguredPayloadCapAppliesToTheNextBatch) {
  Batcher batcher(100, absl::ZeroDuration());
  const int64_t one = InvokePayloadBytes(MakeRecord(1, "k", "d", kT0));
  for (int i = 1; i <= 4; ++i) batcher.Add(MakeRecord(i, "k", "d", kT0), kM0);
  batcher.Reconfigure(100, absl::ZeroDuration(), 2 * one);
  auto batch = batcher.TakeReady(kM0);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->size(), 2u);
}

}  // namespace
}  // namespace tributary::poller
