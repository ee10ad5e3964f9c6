// End-to-end: reserved concurrency (issue 17, Lambda's PutFunctionConcurrency) on real binaries —
// shard_store, leasing, stream_tracker and two pollers as processes (tests/cluster.h), each
// poller serving its metrics — with one function in this process that several mappings name.
//
// The function counts the invocations inside it at once, and holds each one behind a gate
// while the test says so (no timing: a held invocation waits for the test, never for a clock).
// - Under load from three mappings (six shards, leasing balances them three and three), the
//   function's limit of 2 holds: in each of three rounds the gate holds invocations until 2 are
//   inside, every poller has since been refused a slot (its throttle counter moved: it had work
//   for the function and asked), and every invocation the pollers started has reached the
//   function (their gauges of running invocations add up to what is inside); then 2 are inside,
//   never more. After the rounds the gate opens and every record is delivered; the most ever
//   inside at once is 2.
// - kill -9 of the poller holding a function's only slot (limit 1): the slot expires with the
//   poller's liveness in leasing, the other poller (refused until then) invokes the function
//   again, and every record is delivered at least once.
// Every wait is a failure guard of real time (other processes run on their own clocks).
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/testing/assertions.h"
#include "common/testing/http_get.h"
#include "gtest/gtest.h"
#include "proto/function.grpc.pb.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tests/cluster.h"

namespace tributary::e2e {
namespace {

constexpr char kFunction[] = "limited-fn";
constexpr absl::Duration kGuard = absl::Seconds(60);  // a failure guard only

// A tributary.v1.Function that counts the invocations inside it at once and, while its gate is
// closed, holds each one until ReleaseHeld() (the ones inside now) or Open() (every one, from
// now on). Records each delivery as its invocation arrives. Thread-safe.
class GatedFunction final : public v1::Function::Service {
 public:
  grpc::Status Invoke(grpc::ServerContext*, const v1::InvokeRequest* request,
                      v1::InvokeResponse*) override {
    absl::MutexLock lock(&mu_);
    ++invocations_;
    ++inside_;
    most_inside_ = std::max(most_inside_, inside_);
    for (const v1::Record& record : request->records()) {
      Delivery d;
      d.shard_id = request->shard_id();
      if (!absl::SimpleAtoi(record.sequence_number(), &d.sequence_number)) d.sequence_number = 0;
      d.partition_key = record.partition_key();
      deliveries_[request->stream_name()].push_back(std::move(d));
    }
    const int64_t round = round_;
    const auto released = [this, round]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return open_ || round_ != round;
    };
    mu_.Await(absl::Condition(&released));
    --inside_;
    return grpc::Status::OK;
  }

  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  void ReleaseHeld() {
    absl::MutexLock lock(&mu_);
    ++round_;
  }
  // From now on, the most inside at once counts from those inside now.
  void ResetMostInside() {
    absl::MutexLock lock(&mu_);
    most_inside_ = inside_;
  }

  // Waits (real time, bounded) until at least `n` invocations are inside.
  [[nodiscard]] ::testing::AssertionResult AwaitInside(int64_t n) {
    return tributary::testing::IsOk(AwaitFor(
        mu_, kGuard, absl::StrCat(n, " invocations inside the function at once"),
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return inside_ >= n; },
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return absl::StrCat(inside_, " inside, ", invocations_, " invocations so far");
        }));
  }

  int64_t inside() const {
    absl::MutexLock lock(&mu_);
    return inside_;
  }
  int64_t most_inside() const {
    absl::MutexLock lock(&mu_);
    return most_inside_;
  }
  int64_t invocations() const {
    absl::MutexLock lock(&mu_);
    return invocations_;
  }
  // Stream name → what reached the function of it (sequence numbers are per stream).
  std::map<std::string, std::vector<Delivery>> Deliveries() const {
    absl::MutexLock lock(&mu_);
    return deliveries_;
  }

 private:
  mutable absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  int64_t round_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t inside_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t most_inside_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t invocations_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::vector<Delivery>> deliveries_ ABSL_GUARDED_BY(mu_);
};

// What a poller's /metrics says of kFunction: invocations running on it now, and attempts it
// made that found every slot taken. 0 before the poller first touched the function.
struct PollerSlots {
  int64_t running = 0;
  int64_t throttles = 0;
};

class ReservedConcurrencyEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.pollers = 2;
    options.metrics = true;
    cluster_ = std::make_unique<Cluster>(options);
    absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << "cluster did not start: " << started;
    auto server = GrpcServer::Start("127.0.0.1:0", {&function_});
    ASSERT_TRUE(server.ok()) << server.status();
    function_server_ = *std::move(server);
    tracker_ = std::make_unique<stream_tracker::StreamTrackerClient>(
        MakeChannel(cluster_->stream_tracker_address()));
  }

  void TearDown() override {
    function_.Open();  // so that no invocation is left held when the server shuts down
  }

  // Three streams of two shards, `per_stream` records each over 30 keys; remembers each ack.
  void CreateStreamsWithRecords(int per_stream) {
    for (const std::string& stream : kStreams) {
      v1::CreateStreamRequest create;
      create.set_stream_name(stream);
      create.set_shard_count(2);
      ASSERT_TRUE(cluster_->streams().CreateStream(create).ok());
      v1::PutRecordsRequest put;
      put.set_stream_name(stream);
      for (int i = 0; i < per_stream; ++i) {
        auto* entry = put.add_records();
        entry->set_partition_key(absl::StrCat("key-", i % 30));
        entry->set_data(absl::StrCat(stream, "|", i));
      }
      auto done = cluster_->streams().PutRecords(put);
      ASSERT_TRUE(done.ok()) << done.status();
      ASSERT_EQ(done->failed_record_count(), 0);
      for (int i = 0; i < done->records_size(); ++i) {
        uint64_t sequence = 0;
        ASSERT_TRUE(absl::SimpleAtoi(done->records(i).sequence_number(), &sequence));
        acked_[stream].push_back(
            Acked{put.records(i).partition_key(), i, done->records(i).shard_id(), sequence});
      }
    }
  }

  // Registers kFunction at the gated function with reserved concurrency `limit`, and a mapping
  // of each stream that names it.
  void MapEveryStreamToTheFunction(int limit) {
    v1::CreateFunctionRequest function;
    function.set_function_name(kFunction);
    function.set_endpoint(function_server_->address());
    function.set_timeout_seconds(900);  // held invocations must not time out
    function.set_reserved_concurrent_executions(limit);
    auto created = tracker_->CreateFunction(function);
    ASSERT_TRUE(created.ok()) << created.status();
    for (const std::string& stream : kStreams) {
      v1::CreateEventSourceMappingRequest mapping;
      mapping.set_stream_name(stream);
      mapping.set_function_name(kFunction);
      mapping.set_starting_position(v1::TRIM_HORIZON_POSITION);
      mapping.set_batch_size(5);
      auto mapped = tracker_->CreateEventSourceMapping(mapping);
      ASSERT_TRUE(mapped.ok()) << mapped.status();
      EXPECT_EQ(mapped->function_reserved_concurrent_executions(), limit);
    }
  }

  PollerSlots Slots(Component poller) {
    PollerSlots slots;
    absl::StatusOr<int> port = cluster_->MetricsPort(poller);
    if (!port.ok()) return slots;
    const std::string text = testing::HttpGet(*port, "/metrics");
    const std::string labels =
        absl::StrCat("{poller=\"", ComponentName(poller), "\",function_name=\"", kFunction, "\"}");
    slots.running = std::max<int64_t>(
        0, static_cast<int64_t>(
               MetricSample(text, "tributary_poller_function_concurrent_executions" + labels)));
    slots.throttles =
        std::max<int64_t>(0, static_cast<int64_t>(MetricSample(
                                 text, "tributary_poller_function_throttles_total" + labels)));
    return slots;
  }

  int64_t AckedCount() const {
    int64_t n = 0;
    for (const auto& [stream, acked] : acked_) n += static_cast<int64_t>(acked.size());
    return n;
  }

  // Waits (real time, bounded) until every acknowledged record reached the function.
  [[nodiscard]] ::testing::AssertionResult AwaitAllDelivered() {
    absl::Status last;
    return tributary::testing::IsOk(PollFor(
        kGuard, absl::Milliseconds(50),
        absl::StrCat("all ", AckedCount(), " acknowledged records delivered"),
        [&] {
          const std::map<std::string, std::vector<Delivery>> delivered = function_.Deliveries();
          for (const auto& [stream, acked] : acked_) {
            auto it = delivered.find(stream);
            last = CheckEveryAckedDelivered(
                acked, it == delivered.end() ? std::vector<Delivery>() : it->second);
            if (!last.ok()) {
              last = absl::FailedPreconditionError(absl::StrCat(stream, ": ", last.message()));
              return false;
            }
          }
          return true;
        },
        [&] { return last.ToString(); }));
  }

  const std::vector<std::string> kStreams = {"rc-orders", "rc-payments", "rc-audit"};
  GatedFunction function_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<GrpcServer> function_server_;
  std::unique_ptr<stream_tracker::StreamTrackerClient> tracker_;
  std::map<std::string, std::vector<Acked>> acked_;  // stream name → its acknowledged records
};

TEST_F(ReservedConcurrencyEndToEndTest, TheLimitHoldsAcrossMappingsAndPollersAndIsReached) {
  constexpr int kLimit = 2;
  CreateStreamsWithRecords(60);
  MapEveryStreamToTheFunction(kLimit);

  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    ASSERT_TRUE(function_.AwaitInside(kLimit));
    // From here the invocations inside stay inside until released: a throttle counted from now
    // on was an attempt refused while they ran.
    const PollerSlots before0 = Slots(Component::kPoller0);
    const PollerSlots before1 = Slots(Component::kPoller1);
    PollerSlots now0, now1;
    const absl::Status settled = PollFor(
        kGuard, absl::Milliseconds(50),
        "both pollers refused a slot, and every invocation they started inside the function",
        [&] {
          if (function_.inside() > kLimit) return true;  // broken: no need to wait further
          now0 = Slots(Component::kPoller0);
          now1 = Slots(Component::kPoller1);
          return now0.throttles > before0.throttles && now1.throttles > before1.throttles &&
                 now0.running + now1.running == function_.inside();
        },
        [&] {
          return absl::StrCat("inside ", function_.inside(), "; poller0 running ", now0.running,
                              " throttles ", before0.throttles, " -> ", now0.throttles,
                              "; poller1 running ", now1.running, " throttles ", before1.throttles,
                              " -> ", now1.throttles);
        });
    ASSERT_OK(settled);
    EXPECT_EQ(function_.inside(), kLimit);
    function_.ReleaseHeld();
  }
  function_.Open();
  ASSERT_TRUE(AwaitAllDelivered());
  EXPECT_EQ(function_.most_inside(), kLimit) << "the limit was broken, or never reached";
  const PollerSlots end0 = Slots(Component::kPoller0);
  const PollerSlots end1 = Slots(Component::kPoller1);
  std::cout << "[reserved-concurrency] " << AckedCount() << " records, " << function_.invocations()
            << " invocations, most inside at once " << function_.most_inside()
            << "; throttles: poller0 " << end0.throttles << ", poller1 " << end1.throttles
            << std::endl;
}

TEST_F(ReservedConcurrencyEndToEndTest, AKilledPollersSlotExpiresAndTheOtherPollerGoesOn) {
  constexpr int kLimit = 1;
  CreateStreamsWithRecords(30);
  MapEveryStreamToTheFunction(kLimit);

  // The one slot is taken: find its poller, and wait until the other was refused it.
  ASSERT_TRUE(function_.AwaitInside(kLimit));
  Component holder = Component::kPoller0;
  Component other = Component::kPoller1;
  ASSERT_OK(PollFor(
      kGuard, absl::Milliseconds(50), "the poller holding the slot to show it in its metrics",
      [&] {
        if (Slots(Component::kPoller1).running == kLimit) std::swap(holder, other);
        return Slots(holder).running == kLimit;
      },
      [&] { return absl::StrCat("inside ", function_.inside()); }));
  const int64_t other_throttles = Slots(other).throttles;
  ASSERT_OK(PollFor(
      kGuard, absl::Milliseconds(50), absl::StrCat(ComponentName(other), " to be refused the slot"),
      [&] { return Slots(other).throttles > other_throttles; },
      [&] { return absl::StrCat(Slots(other).throttles, " throttles"); }));

  ASSERT_TRUE(cluster_->Kill(holder).ok());
  const int64_t invocations_at_kill = function_.invocations();
  function_.Open();  // the dead poller's invocation returns to nobody
  ASSERT_OK(PollFor(
      kGuard, absl::Milliseconds(50), "the dead poller's invocation to leave the function",
      [&] { return function_.inside() == 0 || function_.invocations() > invocations_at_kill; },
      [&] { return absl::StrCat("inside ", function_.inside()); }));
  function_.ResetMostInside();

  ASSERT_TRUE(AwaitAllDelivered());
  EXPECT_GT(function_.invocations(), invocations_at_kill)
      << ComponentName(other) << " never invoked the function after the kill";
  EXPECT_LE(function_.most_inside(), kLimit);
  std::cout << "[reserved-concurrency] killed " << ComponentName(holder) << " holding the slot; "
            << ComponentName(other) << " went on: " << function_.invocations() - invocations_at_kill
            << " invocations after the kill, " << AckedCount() << " records delivered" << std::endl;
}

}  // namespace
}  // namespace tributary::e2e
