// End-to-end: a mapping that names its function by function_name (issue 17), on real binaries
// (shard_store, leasing, stream_tracker, one poller as processes) with two recording functions
// in this process.
//
// The function "orders-fn" is registered at the first function's address and a mapping names it.
// Records reach the first function. UpdateFunction then points "orders-fn" at the second
// function: the poller, unchanged, picks the mapping's new configuration up at its next refresh,
// and from the batch after that every record goes to the second function. Checked: every
// acknowledged record was delivered (to one or the other); once the second function got a batch
// the first got none; records written after the switch went to the second only. Bounded: every
// wait is a failure guard of at most a minute.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/testing/assertions.h"
#include "gtest/gtest.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tests/cluster.h"

namespace tributary::e2e {
namespace {

constexpr char kStream[] = "functions-e2e";
constexpr char kFunction[] = "orders-fn";

class FunctionsEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.pollers = 1;
    options.lease_duration_ms = 1500;  // the poller refreshes configurations every heartbeat
    cluster_ = std::make_unique<Cluster>(options);
    absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << "cluster did not start: " << started;
    auto second = GrpcServer::Start("127.0.0.1:0", {&second_});
    ASSERT_TRUE(second.ok()) << second.status();
    second_server_ = *std::move(second);
    tracker_ = std::make_unique<stream_tracker::StreamTrackerClient>(
        MakeChannel(cluster_->stream_tracker_address()));

    v1::CreateStreamRequest stream;
    stream.set_stream_name(kStream);
    stream.set_shard_count(1);
    ASSERT_TRUE(cluster_->streams().CreateStream(stream).ok());
  }

  // Writes `count` records one PutRecord at a time; remembers each acknowledgement.
  void Put(int count) {
    for (int i = 0; i < count; ++i) {
      v1::PutRecordRequest put;
      put.set_stream_name(kStream);
      put.set_partition_key("k");
      put.set_data(absl::StrCat("record-", acked_.size()));
      auto done = cluster_->streams().PutRecord(put);
      ASSERT_TRUE(done.ok()) << done.status();
      uint64_t sequence = 0;
      ASSERT_TRUE(absl::SimpleAtoi(done->sequence_number(), &sequence));
      acked_.push_back(Acked{"k", static_cast<int64_t>(acked_.size()), done->shard_id(), sequence});
    }
  }

  std::vector<Delivery> AllDeliveries() {
    std::vector<Delivery> all = cluster_->function().Deliveries();
    for (const Delivery& d : second_.Deliveries()) all.push_back(d);
    return all;
  }

  // Waits (real time, bounded) until every acknowledged record was delivered somewhere. A failure
  // says what was missing at the end.
  [[nodiscard]] ::testing::AssertionResult WaitForAllDelivered(absl::Duration timeout) {
    absl::Status last;
    return tributary::testing::IsOk(PollFor(
        timeout, absl::Milliseconds(50),
        absl::StrCat("all ", acked_.size(), " acknowledged records delivered"),
        [&] {
          last = CheckEveryAckedDelivered(acked_, AllDeliveries());
          return last.ok();
        },
        [&] { return last.ToString(); }));
  }

  std::unique_ptr<Cluster> cluster_;
  RecordingFunction second_;
  std::unique_ptr<GrpcServer> second_server_;
  std::unique_ptr<stream_tracker::StreamTrackerClient> tracker_;
  std::vector<Acked> acked_;
};

TEST_F(FunctionsEndToEndTest, UpdateFunctionsNewEndpointReachesTheRunningPollerFromTheNextBatch) {
  v1::CreateFunctionRequest function;
  function.set_function_name(kFunction);
  function.set_endpoint(cluster_->function_address());
  auto created_function = tracker_->CreateFunction(function);
  ASSERT_TRUE(created_function.ok()) << created_function.status();

  v1::CreateEventSourceMappingRequest mapping;
  mapping.set_stream_name(kStream);
  mapping.set_function_name(created_function->function_arn());  // an ARN works as the name
  mapping.set_starting_position(v1::TRIM_HORIZON_POSITION);
  mapping.set_batch_size(10);
  auto created = tracker_->CreateEventSourceMapping(mapping);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->function_name(), kFunction);
  EXPECT_EQ(created->function_endpoint(), cluster_->function_address());

  // Delivered to the function by its name.
  Put(20);
  ASSERT_TRUE(WaitForAllDelivered(absl::Seconds(60)));
  EXPECT_TRUE(second_.Deliveries().empty());

  v1::UpdateFunctionRequest update;
  update.set_function_name(kFunction);
  update.set_endpoint(second_server_->address());
  ASSERT_TRUE(tracker_->UpdateFunction(update).ok());
  v1::GetEventSourceMappingRequest get;
  get.set_uuid(created->uuid());
  auto served = tracker_->GetEventSourceMapping(get);
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->function_endpoint(), second_server_->address()) << "what the poller reads";
  EXPECT_GT(served->config_version(), created->config_version());

  // Keep records coming until the poller has switched (at its next configuration refresh).
  const MonotonicTime deadline = RealClock::Get().MonotonicNow() + absl::Seconds(60);
  while (second_.Deliveries().empty() && RealClock::Get().MonotonicNow() < deadline) {
    Put(2);
    RealClock::Get().SleepFor(absl::Milliseconds(100));
  }
  ASSERT_FALSE(second_.Deliveries().empty()) << "the new endpoint never got a batch";
  const size_t switched_at = acked_.size();
  Put(30);
  ASSERT_TRUE(WaitForAllDelivered(absl::Seconds(60)));

  const std::vector<Delivery> first = cluster_->function().Deliveries();
  const std::vector<Delivery> second = second_.Deliveries();
  MonotonicTime first_last = first.front().at;
  for (const Delivery& d : first) first_last = std::max(first_last, d.at);
  MonotonicTime second_first = second.front().at;
  for (const Delivery& d : second) second_first = std::min(second_first, d.at);
  EXPECT_LE(first_last, second_first) << "a batch went to the old endpoint after the switch";
  for (size_t i = switched_at; i < acked_.size(); ++i) {
    for (const Delivery& d : first) {
      EXPECT_NE(d.sequence_number, acked_[i].sequence_number)
          << "record " << i << ", written after the switch, reached the old endpoint";
    }
  }
  EXPECT_TRUE(CheckFirstDeliveriesInShardOrder(AllDeliveries()).ok())
      << CheckFirstDeliveriesInShardOrder(AllDeliveries());
  std::cout << "[functions-e2e] acknowledged " << acked_.size() << ", to the first endpoint "
            << first.size() << ", to the second " << second.size() << std::endl;

  // The function cannot go while the mapping names it.
  v1::DeleteFunctionRequest del;
  del.set_function_name(kFunction);
  auto refused = tracker_->DeleteFunction(del);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(created->uuid()), absl::string_view::npos);
}

}  // namespace
}  // namespace tributary::e2e
