// The Streams service through a real gRPC server on 127.0.0.1:0 and the typed
// client: status mapping, and SubscribeToShard pushing records as they are
// written, ending at SHARD_END.
#include "shard_store/streams_service.h"

#include <atomic>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "shard_store/shard_store_client.h"
#include "shard_store/shard_store_node.h"
#include "shard_store/testing/write_faults.h"

namespace tributary::shard_store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Cancels a subscription if the test has not finished with it within a
// generous real-time bound: a failure guard, never part of the outcome.
class Watchdog {
 public:
  explicit Watchdog(ShardSubscription* sub)
      : thread_([this, sub] {
          if (!done_.WaitForNotificationWithTimeout(absl::Seconds(30))) sub->Cancel();
        }) {}
  ~Watchdog() {
    done_.Notify();
    thread_.join();
  }

 private:
  absl::Notification done_;
  std::thread thread_;
};

// With a log (JetStream) a put thread waits for the log's acks, so the default is more threads
// (the calls a front-end can merge into a shard's message: BENCHMARKS.md Run 34).
TEST(ShardStoreNodeOptionsTest, PutThreadsDefaultToEightAndToSixtyFourWithALog) {
  ShardStoreNodeOptions options;
  EXPECT_EQ(options.EffectivePutThreads(), 8);
  options.log = "nats://127.0.0.1:4222";
  EXPECT_EQ(options.EffectivePutThreads(), 64);
  options.put_threads = 3;
  EXPECT_EQ(options.EffectivePutThreads(), 3);
}

class StreamsServiceTest : public ::testing::Test {
 protected:
  // Fixtures that need other node options override this.
  virtual void ConfigureNode(ShardStoreNodeOptions& /*options*/) {}

  void SetUp() override {
    ShardStoreNodeOptions options;
    options.store.data_dir = ::tributary::testing::NewTempDir("streams_service");
    options.trim_period = absl::ZeroDuration();
    ConfigureNode(options);
    absl::StatusOr<std::unique_ptr<ShardStoreNode>> node = ShardStoreNode::Create(options, clock_);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = std::move(*node);
    absl::StatusOr<std::unique_ptr<GrpcServer>> server =
        GrpcServer::Start("127.0.0.1:0", {node_->service()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    // Connect once before the first call: MakeChannel's short connect timeout
    // can fail a first call on a loaded machine; later channels to the same
    // address share the connection.
    ASSERT_TRUE(::tributary::testing::WaitForServing(server_->address()).ok());
    client_ = std::make_unique<ShardStoreClient>(MakeChannel(server_->address()));
  }
  void TearDown() override {
    client_.reset();
    if (server_) server_->Shutdown();
  }

  void CreateStream(int shards) {
    v1::CreateStreamRequest r;
    r.set_stream_name("s");
    r.set_shard_count(shards);
    ASSERT_TRUE(client_->CreateStream(r).ok());
  }
  std::string Put(const std::string& data, const std::string& ehk = "0") {
    v1::PutRecordRequest r;
    r.set_stream_name("s");
    r.set_partition_key("k");
    r.set_data(data);
    r.set_explicit_hash_key(ehk);
    absl::StatusOr<v1::PutRecordResponse> response = client_->PutRecord(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->sequence_number() : "";
  }
  std::unique_ptr<ShardSubscription> Subscribe(v1::ShardIteratorType type,
                                               const std::string& shard = "shardId-000000000000",
                                               ShardStoreClient* client = nullptr) {
    v1::SubscribeToShardRequest r;
    r.set_stream_name("s");
    r.set_shard_id(shard);
    r.mutable_starting_position()->set_type(type);
    return (client != nullptr ? client : client_.get())->SubscribeToShard(r);
  }
  // Writes `calls` PutRecords calls of `per_call` records of `data_bytes` each
  // to shard 0, partition keys "0", "1", ... in order.
  void PutMany(int calls, int per_call, int data_bytes) {
    const std::string data(data_bytes, 'x');
    for (int call = 0; call < calls; ++call) {
      v1::PutRecordsRequest r;
      r.set_stream_name("s");
      for (int i = 0; i < per_call; ++i) {
        auto* e = r.add_records();
        e->set_partition_key(absl::StrCat(call * per_call + i));
        e->set_data(data);
        e->set_explicit_hash_key("0");
      }
      absl::StatusOr<v1::PutRecordsResponse> response = client_->PutRecords(r);
      ASSERT_TRUE(response.ok()) << response.status();
      ASSERT_EQ(response->failed_record_count(), 0);
    }
  }
  // Reads `sub` until it has delivered `count` records, checking that their
  // partition keys are "0", "1", ... with no gap and that each event's
  // continuation_sequence_number is its last record's. Bounded by `max_events`.
  void ExpectEveryRecordInOrder(ShardSubscription* sub, int count, int max_events = 10000) {
    int next = 0;
    for (int events = 0; next < count && events < max_events; ++events) {
      auto event = sub->Next();
      ASSERT_TRUE(event.ok()) << event.status();
      ASSERT_TRUE(event->has_value()) << "the subscription ended after " << next << " records";
      for (const auto& r : (*event)->records()) {
        ASSERT_EQ(r.partition_key(), absl::StrCat(next)) << "gap or reordering";
        ++next;
      }
      if ((*event)->records_size() > 0) {
        ASSERT_EQ((*event)->continuation_sequence_number(),
                  (*event)->records().rbegin()->sequence_number());
      }
    }
    EXPECT_EQ(next, count);
  }
  absl::Status Split() {
    v1::SplitShardRequest r;
    r.set_stream_name("s");
    r.set_shard_to_split("shardId-000000000000");
    r.set_new_starting_hash_key("1000");
    return client_->SplitShard(r).status();
  }

  FakeClock clock_;
  std::unique_ptr<ShardStoreNode> node_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<ShardStoreClient> client_;
};

TEST_F(StreamsServiceTest, UnaryCallsMapLibraryStatuses) {
  CreateStream(2);
  v1::CreateStreamRequest again;
  again.set_stream_name("s");
  again.set_shard_count(1);
  EXPECT_EQ(client_->CreateStream(again).status().code(), absl::StatusCode::kAlreadyExists);
  v1::DescribeStreamSummaryRequest missing;
  missing.set_stream_name("nope");
  EXPECT_EQ(client_->DescribeStreamSummary(missing).status().code(), absl::StatusCode::kNotFound);
  v1::PutRecordsRequest bad;
  bad.set_stream_name("s");
  bad.add_records()->set_data("no key");
  absl::Status s = client_->PutRecords(bad).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("records[0].partition_key"));

  const std::string seq = Put("hello");
  v1::GetShardIteratorRequest it;
  it.set_stream_name("s");
  it.set_shard_id("shardId-000000000000");
  it.set_shard_iterator_type(v1::AT_SEQUENCE_NUMBER);
  it.set_starting_sequence_number(seq);
  absl::StatusOr<v1::GetShardIteratorResponse> iterator = client_->GetShardIterator(it);
  ASSERT_TRUE(iterator.ok());
  v1::GetRecordsRequest get;
  get.set_shard_iterator(iterator->shard_iterator());
  absl::StatusOr<v1::GetRecordsResponse> records = client_->GetRecords(get);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->records_size(), 1);
  EXPECT_EQ(records->records(0).data(), "hello");
  absl::StatusOr<std::vector<v1::Shard>> shards = client_->ListAllShards("s");
  ASSERT_TRUE(shards.ok());
  EXPECT_EQ(shards->size(), 2u);
}

// Kinesis limits per stream over gRPC (issue 22): CreateStream's stream_mode_details and
// UpdateStreamMode reach the store; a PROVISIONED stream's records past 1,000 a second of a shard
// fail one by one (the call's others are stored) and its GetRecords past 5 calls a second is
// RESOURCE_EXHAUSTED, while an ON_DEMAND stream on the same server is not throttled.
TEST_F(StreamsServiceTest, StreamModeIsServedAndHonoured) {
  for (const auto& [name, mode] :
       {std::pair<std::string, v1::StreamMode>{"prov", v1::PROVISIONED}, {"od", v1::ON_DEMAND}}) {
    v1::CreateStreamRequest r;
    r.set_stream_name(name);
    r.set_shard_count(1);
    r.mutable_stream_mode_details()->set_stream_mode(mode);
    ASSERT_TRUE(client_->CreateStream(r).ok());
  }
  auto reported = [&](const std::string& name) {
    v1::DescribeStreamSummaryRequest r;
    r.set_stream_name(name);
    absl::StatusOr<v1::DescribeStreamSummaryResponse> d = client_->DescribeStreamSummary(r);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? d->stream_description_summary().stream_mode_details().stream_mode()
                  : v1::STREAM_MODE_UNSPECIFIED;
  };
  EXPECT_EQ(reported("prov"), v1::PROVISIONED);
  EXPECT_EQ(reported("od"), v1::ON_DEMAND);
  auto failed = [&](const std::string& name) {
    v1::PutRecordsRequest r;
    r.set_stream_name(name);
    for (int i = 0; i < 500; ++i) {
      auto* e = r.add_records();
      e->set_partition_key("k");
      e->set_data("d");
    }
    int n = 0;
    for (int call = 0; call < 3; ++call) {
      absl::StatusOr<v1::PutRecordsResponse> response = client_->PutRecords(r);
      EXPECT_TRUE(response.ok()) << response.status();
      if (!response.ok()) continue;
      n += response->failed_record_count();
      for (const v1::PutRecordsResultEntry& e : response->records()) {
        if (!e.error_code().empty()) {
          EXPECT_EQ(e.error_code(), "ProvisionedThroughputExceededException");
        }
      }
    }
    return n;
  };
  EXPECT_EQ(failed("prov"), 500);
  EXPECT_EQ(failed("od"), 0);
  auto throttled_gets = [&](const std::string& name) {
    v1::GetShardIteratorRequest it;
    it.set_stream_name(name);
    it.set_shard_id("shardId-000000000000");
    it.set_shard_iterator_type(v1::TRIM_HORIZON);
    absl::StatusOr<v1::GetShardIteratorResponse> iterator = client_->GetShardIterator(it);
    EXPECT_TRUE(iterator.ok()) << iterator.status();
    int n = 0;
    for (int i = 0; i < 8 && iterator.ok(); ++i) {
      v1::GetRecordsRequest get;
      get.set_shard_iterator(iterator->shard_iterator());
      get.set_limit(1);
      absl::StatusOr<v1::GetRecordsResponse> records = client_->GetRecords(get);
      if (records.status().code() == absl::StatusCode::kResourceExhausted) ++n;
    }
    return n;
  };
  EXPECT_EQ(throttled_gets("prov"), 3);
  EXPECT_EQ(throttled_gets("od"), 0);

  v1::UpdateStreamModeRequest update;
  update.set_stream_name("od");
  update.mutable_stream_mode_details()->set_stream_mode(v1::PROVISIONED);
  ASSERT_TRUE(client_->UpdateStreamMode(update).ok());
  EXPECT_EQ(reported("od"), v1::PROVISIONED);
  EXPECT_EQ(throttled_gets("od"), 3);
  update.clear_stream_mode_details();
  EXPECT_EQ(client_->UpdateStreamMode(update).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Tags and registered consumers over gRPC: each RPC reaches the store and its statuses come back.
TEST_F(StreamsServiceTest, TagsAndConsumersAreServed) {
  CreateStream(1);
  v1::AddTagsToStreamRequest add;
  add.set_stream_name("s");
  (*add.mutable_tags())["team"] = "ingest";
  (*add.mutable_tags())["env"] = "prod";
  ASSERT_TRUE(client_->AddTagsToStream(add).ok());
  v1::RemoveTagsFromStreamRequest remove;
  remove.set_stream_name("s");
  remove.add_tag_keys("env");
  ASSERT_TRUE(client_->RemoveTagsFromStream(remove).ok());
  v1::ListTagsForStreamRequest list_tags;
  list_tags.set_stream_name("s");
  absl::StatusOr<v1::ListTagsForStreamResponse> tags = client_->ListTagsForStream(list_tags);
  ASSERT_TRUE(tags.ok()) << tags.status();
  ASSERT_EQ(tags->tags_size(), 1);
  EXPECT_EQ(tags->tags(0).key(), "team");
  EXPECT_FALSE(tags->has_more_tags());
  (*add.mutable_tags())["aws:reserved"] = "x";
  EXPECT_EQ(client_->AddTagsToStream(add).status().code(), absl::StatusCode::kInvalidArgument);

  v1::RegisterStreamConsumerRequest reg;
  reg.set_stream_name("s");
  reg.set_consumer_name("reader");
  absl::StatusOr<v1::RegisterStreamConsumerResponse> registered =
      client_->RegisterStreamConsumer(reg);
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_EQ(registered->consumer().consumer_status(), v1::ACTIVE);
  EXPECT_EQ(client_->RegisterStreamConsumer(reg).status().code(),
            absl::StatusCode::kAlreadyExists);
  v1::DescribeStreamConsumerRequest describe;
  describe.set_consumer_arn(registered->consumer().consumer_arn());
  absl::StatusOr<v1::DescribeStreamConsumerResponse> described =
      client_->DescribeStreamConsumer(describe);
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ(described->consumer_description().consumer_name(), "reader");
  v1::ListStreamConsumersRequest list;
  list.set_stream_name("s");
  absl::StatusOr<v1::ListStreamConsumersResponse> consumers = client_->ListStreamConsumers(list);
  ASSERT_TRUE(consumers.ok()) << consumers.status();
  EXPECT_EQ(consumers->consumers_size(), 1);
  v1::DeleteStreamRequest del;
  del.set_stream_name("s");
  EXPECT_EQ(client_->DeleteStream(del).status().code(), absl::StatusCode::kFailedPrecondition);
  v1::DeregisterStreamConsumerRequest deregister;
  deregister.set_stream_name("s");
  deregister.set_consumer_name("reader");
  ASSERT_TRUE(client_->DeregisterStreamConsumer(deregister).ok());
  EXPECT_EQ(client_->DescribeStreamConsumer(describe).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(client_->DeleteStream(del).ok());
}

TEST_F(StreamsServiceTest, SubscriberIsWokenByAPut) {
  CreateStream(1);
  std::unique_ptr<ShardSubscription> sub = Subscribe(v1::LATEST);
  Watchdog guard(sub.get());
  auto first = sub->Next();  // the immediate (empty) event: subscribed
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  EXPECT_EQ((*first)->records_size(), 0);
  const std::string seq = Put("pushed");
  auto event = sub->Next();
  ASSERT_TRUE(event.ok() && event->has_value()) << event.status();
  ASSERT_EQ((*event)->records_size(), 1);
  EXPECT_EQ((*event)->records(0).data(), "pushed");
  EXPECT_EQ((*event)->continuation_sequence_number(), seq);
  EXPECT_EQ((*event)->millis_behind_latest(), 0);
}

TEST_F(StreamsServiceTest, SubscriptionEndsAtShardEndWithChildShards) {
  CreateStream(1);
  for (int i = 0; i < 3; ++i) Put(absl::StrCat("r", i));
  ASSERT_TRUE(Split().ok());
  std::unique_ptr<ShardSubscription> sub = Subscribe(v1::TRIM_HORIZON);
  Watchdog guard(sub.get());
  std::vector<std::string> data;
  std::vector<std::string> children;
  for (int i = 0; i < 10; ++i) {
    auto event = sub->Next();
    ASSERT_TRUE(event.ok()) << event.status();
    if (!event->has_value()) break;
    for (const auto& r : (*event)->records()) data.push_back(r.data());
    for (const auto& c : (*event)->child_shards()) children.push_back(c.shard_id());
  }
  EXPECT_THAT(data, ElementsAre("r0", "r1", "r2"));
  EXPECT_THAT(children, ElementsAre("shardId-000000000001", "shardId-000000000002"));
}

// A SubscriptionSink as a test drives it: records what it is sent; the test answers.
class RecordingSink : public SubscriptionSink {
 public:
  void SendEvent(const v1::SubscribeToShardEvent& event) override {
    absl::MutexLock lock(&mu_);
    events_.push_back(event);
  }
  void SendFinish(const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    finish_ = status;
  }
  // Waits for the n-th event (1-based) or the finish; returns it, or nullopt after a finish.
  std::optional<v1::SubscribeToShardEvent> AwaitEvent(size_t n) {
    absl::MutexLock lock(&mu_);
    auto arrived = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return events_.size() >= n || finish_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&arrived), absl::Seconds(30));
    if (events_.size() >= n) return events_[n - 1];
    return std::nullopt;
  }
  std::optional<absl::Status> AwaitFinish() {
    absl::MutexLock lock(&mu_);
    auto finished = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return finish_.has_value(); };
    mu_.AwaitWithTimeout(absl::Condition(&finished), absl::Seconds(30));
    return finish_;
  }
  size_t events() {
    absl::MutexLock lock(&mu_);
    return events_.size();
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::SubscribeToShardEvent> events_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> finish_ ABSL_GUARDED_BY(mu_);
};

TEST_F(StreamsServiceTest, ASinkSubscriptionGetsTheGrpcCallsEventsOneWriteAtATime) {
  CreateStream(1);
  for (int i = 0; i < 3; ++i) Put(absl::StrCat("r", i));
  RecordingSink sink;
  v1::SubscribeToShardRequest request;
  request.set_stream_name("s");
  request.set_shard_id("shardId-000000000000");
  request.mutable_starting_position()->set_type(v1::TRIM_HORIZON);
  absl::StatusOr<SubscriptionControl*> control =
      node_->streams_service().Subscribe(request, /*keep_alive=*/false, &sink);
  ASSERT_TRUE(control.ok()) << control.status();

  std::optional<v1::SubscribeToShardEvent> first = sink.AwaitEvent(1);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->records_size(), 3);
  EXPECT_EQ(first->records(2).data(), "r2");
  EXPECT_EQ(first->continuation_sequence_number(), first->records(2).sequence_number());
  // Flow control: nothing more is sent until the sink says the first is written.
  Put("r3");
  EXPECT_EQ(sink.events(), 1u);
  (*control)->WriteDone(true);
  std::optional<v1::SubscribeToShardEvent> second = sink.AwaitEvent(2);
  ASSERT_TRUE(second.has_value());
  ASSERT_EQ(second->records_size(), 1);
  EXPECT_EQ(second->records(0).data(), "r3");
  // The subscriber goes away: the subscription ends CANCELLED, and is freed on Done.
  (*control)->Cancel();
  (*control)->WriteDone(false);
  std::optional<absl::Status> finish = sink.AwaitFinish();
  ASSERT_TRUE(finish.has_value());
  EXPECT_EQ(finish->code(), absl::StatusCode::kCancelled);
  (*control)->Done();
  EXPECT_TRUE(node_->streams_service().GetSubscriptionStats().empty());
}

TEST_F(StreamsServiceTest, ASinkSubscriptionEndsOkAtShardEndAndRefusesWhatGrpcRefuses) {
  CreateStream(1);
  Put("only");
  ASSERT_TRUE(Split().ok());
  RecordingSink sink;
  v1::SubscribeToShardRequest request;
  request.set_stream_name("s");
  request.set_shard_id("shardId-000000000000");
  request.mutable_starting_position()->set_type(v1::TRIM_HORIZON);
  absl::StatusOr<SubscriptionControl*> control =
      node_->streams_service().Subscribe(request, /*keep_alive=*/false, &sink);
  ASSERT_TRUE(control.ok()) << control.status();
  std::optional<v1::SubscribeToShardEvent> last = sink.AwaitEvent(1);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->records_size(), 1);
  EXPECT_EQ(last->child_shards_size(), 2);
  (*control)->WriteDone(true);
  std::optional<absl::Status> finish = sink.AwaitFinish();
  ASSERT_TRUE(finish.has_value());
  EXPECT_TRUE(finish->ok()) << *finish;
  (*control)->Done();

  request.set_shard_id("shardId-000000000099");
  EXPECT_EQ(node_->streams_service().Subscribe(request, false, &sink).status().code(),
            absl::StatusCode::kNotFound);
  request.clear_stream_name();
  EXPECT_EQ(node_->streams_service().Subscribe(request, false, &sink).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StreamsServiceTest, SubscriberAtTheTipIsWokenBySplitAndEnds) {
  CreateStream(1);
  std::unique_ptr<ShardSubscription> sub = Subscribe(v1::LATEST);
  Watchdog guard(sub.get());
  auto first = sub->Next();
  ASSERT_TRUE(first.ok() && first->has_value());
  ASSERT_TRUE(Split().ok());
  auto last = sub->Next();
  ASSERT_TRUE(last.ok() && last->has_value()) << last.status();
  EXPECT_EQ((*last)->child_shards_size(), 2);
  auto end = sub->Next();
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_FALSE(end->has_value());
}

TEST_F(StreamsServiceTest, ManySubscribersEachReceiveEveryRecordInOrder) {
  CreateStream(1);
  constexpr int kSubscribers = 4, kRecords = 200;
  std::vector<std::unique_ptr<ShardSubscription>> subs;
  for (int i = 0; i < kSubscribers; ++i) subs.push_back(Subscribe(v1::TRIM_HORIZON));
  std::vector<std::thread> readers;
  std::vector<std::vector<std::string>> got(kSubscribers);
  for (int i = 0; i < kSubscribers; ++i) {
    readers.emplace_back([&, i] {
      Watchdog guard(subs[i].get());
      while (got[i].size() < kRecords) {  // bounded by the watchdog's cancel
        auto event = subs[i]->Next();
        ASSERT_TRUE(event.ok()) << event.status();
        ASSERT_TRUE(event->has_value());
        for (const auto& r : (*event)->records()) got[i].push_back(r.data());
        if ((*event)->records_size() > 0) {
          EXPECT_EQ((*event)->continuation_sequence_number(),
                    (*event)->records().rbegin()->sequence_number());
        }
      }
    });
  }
  std::vector<std::string> expected;
  for (int i = 0; i < kRecords; ++i) {
    expected.push_back(absl::StrCat(i));
    Put(expected.back());
  }
  for (auto& t : readers) t.join();
  for (int i = 0; i < kSubscribers; ++i) EXPECT_EQ(got[i], expected) << "subscriber " << i;
}

// A subscriber that does not read does not hold writers back; when it reads,
// it gets everything in order, in events no larger than the per-event cap.
TEST_F(StreamsServiceTest, SlowSubscriberGetsBoundedEventsAndDoesNotBlockWriters) {
  CreateStream(1);
  std::unique_ptr<ShardSubscription> sub = Subscribe(v1::TRIM_HORIZON);
  Watchdog guard(sub.get());
  constexpr int kCalls = 24, kPerCall = 500;
  const std::string data(1000, 'x');
  for (int call = 0; call < kCalls; ++call) {  // ~12 MB while the subscriber is idle
    v1::PutRecordsRequest r;
    r.set_stream_name("s");
    for (int i = 0; i < kPerCall; ++i) {
      auto* e = r.add_records();
      e->set_partition_key(absl::StrCat(call * kPerCall + i));
      e->set_data(data);
    }
    absl::StatusOr<v1::PutRecordsResponse> response = client_->PutRecords(r);
    ASSERT_TRUE(response.ok()) << response.status();
  }
  int next = 0;
  int events = 0;
  while (next < kCalls * kPerCall && events < 1000) {
    auto event = sub->Next();
    ASSERT_TRUE(event.ok() && event->has_value()) << event.status();
    ++events;
    int64_t bytes = 0;
    for (const auto& r : (*event)->records()) {
      ASSERT_EQ(r.partition_key(), absl::StrCat(next)) << "out of order";
      ++next;
      bytes += r.partition_key().size() + r.data().size();
    }
    EXPECT_LE(bytes, StreamsService::kMaxEventBytes);
  }
  EXPECT_EQ(next, kCalls * kPerCall);
  EXPECT_GE(events, 3);  // 12 MB cannot fit in fewer 4 MiB events
}

class StreamsServiceFlowControlTest : public StreamsServiceTest {
 protected:
  static constexpr int64_t kEventBytes = 64 << 10;
  void ConfigureNode(ShardStoreNodeOptions& options) override {
    options.max_event_bytes = kEventBytes;
  }
};

// Flow control measured on the server: a subscriber that stops reading makes
// the service hold at most one event (≤ max_event_bytes) for it and stop
// reading the store for it, while a second subscriber to the same shard gets
// every record at once; when the stalled one reads again it gets every record
// in order, with no gap.
TEST_F(StreamsServiceFlowControlTest, StalledSubscriberHoldsOneEventWhileAnotherGetsEverything) {
  CreateStream(1);
  // The stalled reader has its own connection with BDP probing off, so its
  // HTTP/2 window stays near the 64 KiB default instead of growing to the
  // backlog: what the server cannot send, it must hold or not read.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  ShardStoreClient stalled_client(
      grpc::CreateCustomChannel(server_->address(), grpc::InsecureChannelCredentials(), args));
  std::unique_ptr<ShardSubscription> stalled =
      Subscribe(v1::TRIM_HORIZON, "shardId-000000000000", &stalled_client);
  std::unique_ptr<ShardSubscription> fast = Subscribe(v1::TRIM_HORIZON);
  Watchdog stalled_guard(stalled.get());
  Watchdog fast_guard(fast.get());
  constexpr int kCalls = 24, kPerCall = 500, kRecords = kCalls * kPerCall;
  std::thread fast_reader([&] { ExpectEveryRecordInOrder(fast.get(), kRecords); });
  PutMany(kCalls, kPerCall, 1000);  // ~12 MB: ~190 events of 64 KiB
  fast_reader.join();

  std::vector<SubscriptionStats> stats = node_->streams_service().GetSubscriptionStats();
  ASSERT_EQ(stats.size(), 2u);
  int behind = 0;
  for (const SubscriptionStats& s : stats) {
    EXPECT_EQ(s.shard_id, "shardId-000000000000");
    EXPECT_LE(s.max_events_in_flight, 1);
    EXPECT_LE(s.max_bytes_in_flight, kEventBytes);
    EXPECT_LE(s.bytes_in_flight, kEventBytes);
    // Read from the store = sent + in flight: nothing buffered beyond one event.
    EXPECT_EQ(s.next_sequence_number - 1,
              static_cast<uint64_t>(s.records_sent + s.records_in_flight));
    std::cout << "subscription: read " << s.next_sequence_number - 1 << " sent " << s.records_sent
              << " in flight " << s.records_in_flight << " max bytes in flight "
              << s.max_bytes_in_flight << "\n";
    if (s.next_sequence_number - 1 < static_cast<uint64_t>(kRecords)) {
      ++behind;
      // The stalled subscriber: held back by the transport, and the server
      // has not read the backlog into memory for it.
      EXPECT_LT(s.records_sent, kRecords);
    }
  }
  EXPECT_EQ(behind, 1) << "the stalled subscriber should be held back by flow control";

  ExpectEveryRecordInOrder(stalled.get(), kRecords);
  for (const SubscriptionStats& s : node_->streams_service().GetSubscriptionStats()) {
    EXPECT_LE(s.max_bytes_in_flight, kEventBytes);
    EXPECT_LE(s.max_events_in_flight, 1);
  }
}

// Kinesis sends an event at least every 5 s: an idle subscriber gets one
// (empty, with millis_behind_latest and its continuation position) each time
// the injected clock passes the interval, and none sooner.
// SubscribeToShard under per-shard read limits (issue 22): an enhanced fan-out subscription is
// paced at the stream's read rate (2 MiB/s of a shard, Kinesis's) instead of failing: at most
// one second's worth at once plus one record, then one second's worth for each second on the
// clock, every record in order. Before, subscriptions ignored the limits (everything at once).
class StreamsServicePacingTest : public StreamsServiceTest {
 protected:
  void ConfigureNode(ShardStoreNodeOptions& options) override {
    options.store.shard_read_bytes_per_second = kRate;
    options.keep_alive_interval = absl::ZeroDuration();  // the only clock waiter: the pacing
    options.dispatch_threads = 1;
  }
  static constexpr int64_t kRate = 2 << 20;
  static constexpr int64_t kRecordBytes = 500 << 10;
};

TEST_F(StreamsServicePacingTest, ASubscriptionIsPacedAtTheReadLimitAndGetsEveryRecord) {
  CreateStream(1);
  constexpr int kRecords = 12;  // 6000 KiB: about three seconds' worth
  PutMany(kRecords, 1, kRecordBytes);
  std::unique_ptr<ShardSubscription> sub = Subscribe(v1::TRIM_HORIZON);
  int next = 0;
  auto read = [&](int until) {
    while (next < until) {
      auto event = sub->Next();
      ASSERT_TRUE(event.ok()) << event.status();
      ASSERT_TRUE(event->has_value()) << "the subscription ended after " << next << " records";
      for (const auto& r : (*event)->records()) {
        ASSERT_EQ(r.partition_key(), absl::StrCat(next)) << "gap or reordering";
        ++next;
      }
    }
  };
  ASSERT_NO_FATAL_FAILURE(read(1));  // the first event: the bucket's first second's worth
  int seconds = 0;
  while (true) {
    // What the bucket allows is sent; then the subscription waits for it on the clock. (A
    // fresh wait: the dispatch thread left its last one to send the records read just now.)
    ASSERT_OK(clock_.WaitForWaiters(1)) << "not paced after " << seconds << " s";
    std::vector<SubscriptionStats> stats = node_->streams_service().GetSubscriptionStats();
    ASSERT_EQ(stats.size(), 1u);
    EXPECT_EQ(stats[0].events_in_flight, 0);
    EXPECT_LE(stats[0].records_sent * kRecordBytes, kRate * (seconds + 1) + kRecordBytes)
        << "after " << seconds << " s";
    EXPECT_GE(stats[0].records_sent * kRecordBytes, kRate * (seconds + 1) - kRecordBytes)
        << "after " << seconds << " s";
    ASSERT_NO_FATAL_FAILURE(read(static_cast<int>(stats[0].records_sent)));
    clock_.Advance(absl::Seconds(1));
    ++seconds;
    ASSERT_NO_FATAL_FAILURE(read(next + 1));  // the next second's worth comes
    if (next == kRecords) break;
    ASSERT_LT(seconds, 5) << "the subscription stalled";
  }
  EXPECT_GE(seconds, 2) << "6000 KiB at 2 MiB/s (after a second's worth at once)";
}

// A stream whose mode takes the limits off is not paced on the same server.
TEST_F(StreamsServicePacingTest, AnOnDemandStreamIsNotPaced) {
  v1::CreateStreamRequest r;
  r.set_stream_name("s");
  r.set_shard_count(1);
  r.mutable_stream_mode_details()->set_stream_mode(v1::ON_DEMAND);
  ASSERT_TRUE(client_->CreateStream(r).ok());
  PutMany(12, 1, kRecordBytes);
  std::unique_ptr<ShardSubscription> sub = Subscribe(v1::TRIM_HORIZON);
  ExpectEveryRecordInOrder(sub.get(), 12);  // without the clock moving
}

TEST_F(StreamsServiceTest, IdleSubscriberGetsAKeepAliveEventEveryFiveSeconds) {
  CreateStream(1);
  const std::string seq = Put("before");
  std::unique_ptr<ShardSubscription> sub = Subscribe(v1::LATEST);
  Watchdog guard(sub.get());
  auto first = sub->Next();
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(clock_.WaitForWaiters(1)) << "the keep-alive thread is not waiting on the clock";
    clock_.Advance(absl::Seconds(5));
    auto event = sub->Next();
    ASSERT_TRUE(event.ok() && event->has_value()) << event.status();
    EXPECT_EQ((*event)->records_size(), 0);
    EXPECT_EQ((*event)->millis_behind_latest(), 0);
    EXPECT_EQ((*event)->continuation_sequence_number(), seq);
    EXPECT_TRUE((*event)->child_shards().empty());
  }
  // Less than the interval since the last event: no keep-alive comes first.
  clock_.Advance(absl::Seconds(4));
  Put("after");
  auto event = sub->Next();
  ASSERT_TRUE(event.ok() && event->has_value()) << event.status();
  ASSERT_EQ((*event)->records_size(), 1);
  EXPECT_EQ((*event)->records(0).data(), "after");
}

// The interval is measured on the monotonic clock (issue 14, item 10): a wall step back does not
// delay a keep-alive (on the wall clock it came an hour late, after the watchdog gave up), and a
// step forward does not bring one early.
TEST_F(StreamsServiceTest, KeepAlivesKeepTheirIntervalWhenTheWallClockSteps) {
  CreateStream(1);
  std::unique_ptr<ShardSubscription> sub = Subscribe(v1::LATEST);
  Watchdog guard(sub.get());
  auto first = sub->Next();
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  ASSERT_OK(clock_.WaitForWaiters(1)) << "the keep-alive thread is not waiting on the clock";
  clock_.StepWallClock(-absl::Hours(1));
  clock_.Advance(absl::Seconds(5));
  auto event = sub->Next();
  ASSERT_TRUE(event.ok() && event->has_value()) << event.status();
  EXPECT_EQ((*event)->records_size(), 0) << "a keep-alive five seconds after the first event";
  ASSERT_OK(clock_.WaitForWaiters(1));
  clock_.StepWallClock(absl::Hours(2));
  clock_.Advance(absl::Seconds(4));
  Put("after");
  event = sub->Next();
  ASSERT_TRUE(event.ok() && event->has_value()) << event.status();
  ASSERT_EQ((*event)->records_size(), 1) << "a keep-alive came early";
  EXPECT_EQ((*event)->records(0).data(), "after");
}

TEST_F(StreamsServiceTest, SubscriberThatDeclinesKeepAlivesGetsNoneAndNoClockWaits) {
  CreateStream(1);
  v1::SubscribeToShardRequest r;
  r.set_stream_name("s");
  r.set_shard_id("shardId-000000000000");
  r.mutable_starting_position()->set_type(v1::LATEST);
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata(StreamsService::kKeepAliveMetadataKey, "off");
  auto reader = client_->stub()->SubscribeToShard(context.get(), r);
  ShardSubscription sub(std::move(context), std::move(reader));
  Watchdog guard(&sub);
  auto first = sub.Next();  // the immediate event is sent all the same
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  // Nothing to keep alive: the keep-alive thread does not wait on the clock.
  EXPECT_EQ(clock_.NumWaiters(), 0);
  clock_.Advance(absl::Minutes(1));
  Put("after");
  auto event = sub.Next();  // the record, not a keep-alive
  ASSERT_TRUE(event.ok() && event->has_value()) << event.status();
  ASSERT_EQ((*event)->records_size(), 1);
  EXPECT_EQ((*event)->records(0).data(), "after");
}

TEST_F(StreamsServiceTest, KeepAlivesOfManyIdleSubscribersComeOncePerInterval) {
  CreateStream(1);
  std::vector<std::unique_ptr<ShardSubscription>> subs;
  std::vector<std::unique_ptr<Watchdog>> guards;
  for (int i = 0; i < 20; ++i) {
    subs.push_back(Subscribe(v1::LATEST));
    guards.push_back(std::make_unique<Watchdog>(subs.back().get()));
    auto first = subs.back()->Next();
    ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  }
  for (int round = 0; round < 2; ++round) {
    ASSERT_OK(clock_.WaitForWaiters(1)) << "the keep-alive thread is not waiting on the clock";
    clock_.Advance(absl::Seconds(5));
    for (auto& sub : subs) {
      auto event = sub->Next();
      ASSERT_TRUE(event.ok() && event->has_value()) << event.status();
      EXPECT_EQ((*event)->records_size(), 0);
    }
  }
  // Exactly one keep-alive per subscriber per interval: a record put now is the next event.
  Put("after");
  for (auto& sub : subs) {
    auto event = sub->Next();
    ASSERT_TRUE(event.ok() && event->has_value()) << event.status();
    ASSERT_EQ((*event)->records_size(), 1);
  }
  for (auto& sub : subs) sub->Cancel();
}

class StreamsServiceWriteFaultTest : public StreamsServiceTest {
 protected:
  void ConfigureNode(ShardStoreNodeOptions& options) override {
    options.store.write_interceptor = faults_.Interceptor();
  }
  testing::WriteFaults faults_;
};

// Through gRPC: a put whose RocksDB write fails is an error for the whole
// call (no per-record result claims success), and a subscriber at the tip
// gets the next record that is stored.
TEST_F(StreamsServiceWriteFaultTest, FailedPutIsAnErrorAndSubscribersGetTheNextStoredRecord) {
  CreateStream(1);
  std::unique_ptr<ShardSubscription> sub = Subscribe(v1::LATEST);
  Watchdog guard(sub.get());
  ASSERT_TRUE(sub->Next().ok());
  faults_.FailNth(WriteKind::kRecords, 1, rocksdb::Status::Busy("injected write fault"));
  v1::PutRecordsRequest r;
  r.set_stream_name("s");
  for (const char* d : {"lost1", "lost2"}) {
    auto* e = r.add_records();
    e->set_partition_key("k");
    e->set_data(d);
  }
  absl::StatusOr<v1::PutRecordsResponse> failed = client_->PutRecords(r);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
  EXPECT_THAT(std::string(failed.status().message()),
              HasSubstr("none of this call's records were stored"));
  const std::string seq = Put("stored");
  auto event = sub->Next();
  ASSERT_TRUE(event.ok() && event->has_value()) << event.status();
  ASSERT_EQ((*event)->records_size(), 1);
  EXPECT_EQ((*event)->records(0).data(), "stored");
  EXPECT_EQ((*event)->records(0).sequence_number(), seq);
}

// Admission control (issue 22): the put threads hold a bounded number of calls; past it a call
// is refused at once, and every call that was acknowledged is stored.
class StreamsServiceAdmissionTest : public StreamsServiceTest {
 protected:
  void ConfigureNode(ShardStoreNodeOptions& options) override {
    options.store.write_interceptor = faults_.Interceptor();
    options.put_threads = 1;
    options.max_pending_puts = 2;
    options.max_client_put_share = max_client_put_share_;
    options.memory_budget_bytes = memory_budget_bytes_;
  }
  v1::PutRecordsRequest Call(const std::string& data) {
    v1::PutRecordsRequest r;
    r.set_stream_name("s");
    auto* e = r.add_records();
    e->set_partition_key("k");
    e->set_data(data);
    return r;
  }
  // PutRecords on a thread of its own (the call may wait behind a held write).
  std::thread PutAsync(const std::string& data, absl::Status* status) {
    return std::thread([this, data, status] {
      ShardStoreClient client(MakeChannel(server_->address()));
      *status = client.PutRecords(Call(data)).status();
    });
  }
  ::testing::AssertionResult AwaitHeldPuts(int n) {
    return ::tributary::testing::IsOk(
        node_->streams_service().put_executor().AwaitHeldRequests(n, absl::Seconds(10)));
  }
  // Every record of shard 0, read from the store (not through the service, whose GetRecords
  // a small memory budget refuses).
  std::vector<std::string> ReadAll() {
    v1::GetShardIteratorRequest it;
    it.set_stream_name("s");
    it.set_shard_id("shardId-000000000000");
    it.set_shard_iterator_type(v1::TRIM_HORIZON);
    std::vector<std::string> out;
    absl::StatusOr<v1::GetShardIteratorResponse> iterator = node_->store().GetShardIterator(it);
    EXPECT_TRUE(iterator.ok()) << iterator.status();
    if (!iterator.ok()) return out;
    v1::GetRecordsRequest get;
    get.set_shard_iterator(iterator->shard_iterator());
    v1::GetRecordsResponse records;
    absl::Status read = node_->store().GetRecords(get, &records);
    EXPECT_TRUE(read.ok()) << read;
    for (const auto& r : records.records()) out.push_back(r.data());
    return out;
  }
  // PutRecords with `bytes` as its request, whatever they are (gRPC's generic stub).
  grpc::Status RawPutRecords(const std::string& bytes) {
    grpc::GenericStub stub(MakeChannel(server_->address()));
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    absl::Notification done;
    grpc::Status status;
    stub.UnaryCall(&context, "/tributary.v1.Streams/PutRecords", grpc::StubOptions(), &request,
                   &response, [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    if (!done.WaitForNotificationWithTimeout(absl::Seconds(30))) {  // a failure guard
      context.TryCancel();
      done.WaitForNotification();
    }
    return status;
  }
  testing::WriteFaults faults_;
  int64_t memory_budget_bytes_ = 0;
  // This test's clients may share one connection (gRPC shares subchannels between channels),
  // so one client takes the whole bound unless a test says otherwise.
  double max_client_put_share_ = 1;
};

TEST_F(StreamsServiceAdmissionTest, ACallPastThePutQueueBoundIsRefusedAndAcknowledgedOnesAreKept) {
  CreateStream(1);
  faults_.HoldNth(WriteKind::kRecords, 1, rocksdb::Status::OK());
  absl::Status first, second;
  std::thread t1 = PutAsync("first", &first);
  ASSERT_TRUE(faults_.WaitUntilHeld());
  std::thread t2 = PutAsync("second", &second);
  ASSERT_TRUE(AwaitHeldPuts(2));
  absl::Status third = client_->PutRecords(Call("refused")).status();
  EXPECT_EQ(third.code(), absl::StatusCode::kResourceExhausted) << third;
  EXPECT_THAT(std::string(third.message()), HasSubstr("retry after"));
  faults_.Release();
  t1.join();
  t2.join();
  EXPECT_TRUE(first.ok()) << first;
  EXPECT_TRUE(second.ok()) << second;
  EXPECT_THAT(ReadAll(), ElementsAre("first", "second"));
  // The queue has room again.
  EXPECT_TRUE(client_->PutRecords(Call("later")).ok());
}

// Admission comes before parsing (issue 22: a refused call costs no parse): bytes that are no
// PutRecordsRequest are refused RESOURCE_EXHAUSTED while the put queue is full (nobody looked at
// them), and answered INVALID_ARGUMENT once there is room (parsed, on a put thread).
TEST_F(StreamsServiceAdmissionTest, ACallIsAdmittedBeforeItIsParsed) {
  CreateStream(1);
  const std::string garbage(32, '\xff');  // a varint that never ends
  faults_.HoldNth(WriteKind::kRecords, 1, rocksdb::Status::OK());
  absl::Status first, second;
  std::thread t1 = PutAsync("first", &first);
  ASSERT_TRUE(faults_.WaitUntilHeld());
  std::thread t2 = PutAsync("second", &second);
  ASSERT_TRUE(AwaitHeldPuts(2));
  grpc::Status refused = RawPutRecords(garbage);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("retry after"));
  faults_.Release();
  t1.join();
  t2.join();
  EXPECT_TRUE(first.ok()) << first;
  EXPECT_TRUE(second.ok()) << second;
  grpc::Status invalid = RawPutRecords(garbage);
  EXPECT_EQ(invalid.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << invalid.error_message();
  EXPECT_EQ(node_->streams_service().put_executor().held_requests(), 0);
  EXPECT_THAT(ReadAll(), ElementsAre("first", "second"));
}

// Per-client fair share (issue 22): a client is its connection when the server does not
// authenticate. A flooding connection is refused at its half of the bound while another
// connection's call is admitted and stored.
class StreamsServiceFairShareTest : public StreamsServiceAdmissionTest {
 protected:
  void SetUp() override {
    max_client_put_share_ = 0.5;
    StreamsServiceAdmissionTest::SetUp();
  }
  // A client on a connection of its own (a channel that does not share gRPC's subchannels).
  std::unique_ptr<ShardStoreClient> OwnConnection() {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
    return std::make_unique<ShardStoreClient>(grpc::CreateCustomChannel(
        server_->address(), grpc::InsecureChannelCredentials(), args));
  }
};

TEST_F(StreamsServiceFairShareTest, AFloodingConnectionIsRefusedWhileAnotherIsAdmitted) {
  CreateStream(1);
  faults_.HoldNth(WriteKind::kRecords, 1, rocksdb::Status::OK());
  std::unique_ptr<ShardStoreClient> flood = OwnConnection();
  std::unique_ptr<ShardStoreClient> light = OwnConnection();
  absl::Status flood_first, light_first;
  std::thread t1([&] { flood_first = flood->PutRecords(Call("flood-1")).status(); });
  ASSERT_TRUE(faults_.WaitUntilHeld());
  absl::Status flood_second = flood->PutRecords(Call("flood-2")).status();
  EXPECT_EQ(flood_second.code(), absl::StatusCode::kResourceExhausted) << flood_second;
  EXPECT_THAT(std::string(flood_second.message()), HasSubstr("this client's share"));
  std::thread t2([&] { light_first = light->PutRecords(Call("light-1")).status(); });
  ASSERT_TRUE(AwaitHeldPuts(2)) << "the light connection's call was not admitted";
  faults_.Release();
  t1.join();
  t2.join();
  EXPECT_TRUE(flood_first.ok()) << flood_first;
  EXPECT_TRUE(light_first.ok()) << light_first;
  EXPECT_THAT(ReadAll(), ElementsAre("flood-1", "light-1"));
}

class StreamsServiceMemoryBudgetTest : public StreamsServiceAdmissionTest {
 protected:
  void SetUp() override {
    // A small call's arena is one 64 KiB block: the budget holds one call, not two.
    memory_budget_bytes_ = 100 << 10;
    StreamsServiceAdmissionTest::SetUp();
  }
  MemoryBudget& budget() { return node_->memory_budget(); }
};

TEST_F(StreamsServiceMemoryBudgetTest, ACallPastTheMemoryBudgetIsRefusedCleanly) {
  CreateStream(1);
  faults_.HoldNth(WriteKind::kRecords, 1, rocksdb::Status::OK());
  absl::Status first;
  std::thread t1 = PutAsync("first", &first);
  ASSERT_TRUE(faults_.WaitUntilHeld());
  EXPECT_GT(budget().used(), 0) << "the held call's request is not accounted";
  absl::Status refused = client_->PutRecords(Call("refused")).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_THAT(std::string(refused.message()), HasSubstr("memory budget"));
  faults_.Release();
  t1.join();
  EXPECT_TRUE(first.ok()) << first;
  EXPECT_EQ(budget().used(), 0) << "a finished call's bytes were not given back";
  EXPECT_TRUE(client_->PutRecords(Call("second")).ok());
  EXPECT_LE(budget().peak(), budget().limit());
  EXPECT_THAT(ReadAll(), ElementsAre("first", "second"));
}

TEST_F(StreamsServiceMemoryBudgetTest, GetRecordsIsRefusedWhenTheBudgetCannotHoldItsReply) {
  CreateStream(1);
  Put("x");
  v1::GetShardIteratorRequest it;
  it.set_stream_name("s");
  it.set_shard_id("shardId-000000000000");
  it.set_shard_iterator_type(v1::TRIM_HORIZON);
  absl::StatusOr<v1::GetShardIteratorResponse> iterator = client_->GetShardIterator(it);
  ASSERT_TRUE(iterator.ok()) << iterator.status();
  v1::GetRecordsRequest get;
  get.set_shard_iterator(iterator->shard_iterator());
  absl::Status refused = client_->GetRecords(get).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_THAT(std::string(refused.message()), HasSubstr("memory budget"));
}

// Many clients at once against a budget of about one call: every call is acknowledged whole or
// refused whole, the accounted bytes never pass the budget, and the store holds exactly the
// acknowledged records.
TEST_F(StreamsServiceMemoryBudgetTest, TheBudgetHoldsUnderConcurrentPuts) {
  CreateStream(1);
  constexpr int kClients = 6;
  constexpr int kCalls = 15;
  std::vector<std::thread> clients;
  absl::Mutex mu;
  std::set<std::string> acknowledged;
  int other_errors = 0;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      ShardStoreClient client(MakeChannel(server_->address()));
      for (int call = 0; call < kCalls; ++call) {
        const std::string data = absl::StrCat(c, ":", call);
        absl::StatusOr<v1::PutRecordsResponse> r = client.PutRecords(Call(data));
        absl::MutexLock lock(&mu);
        if (r.ok() && r->failed_record_count() == 0) {
          acknowledged.insert(data);
        } else if (r.status().code() != absl::StatusCode::kResourceExhausted) {
          ++other_errors;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(other_errors, 0);
  EXPECT_LE(budget().peak(), budget().limit());
  EXPECT_EQ(budget().used(), 0);
  std::vector<std::string> stored = ReadAll();
  EXPECT_EQ(std::set<std::string>(stored.begin(), stored.end()), acknowledged);
  EXPECT_EQ(stored.size(), acknowledged.size()) << "a record was stored twice";
}

// PutRecords runs on the service's put threads; with synced writes concurrent calls share fsyncs
// (group commit): every call from several clients at once is acknowledged, and a subscriber gets
// each record once, with each client's records in its call order.
class StreamsServiceSyncedTest : public StreamsServiceTest {
 protected:
  void ConfigureNode(ShardStoreNodeOptions& options) override { options.store.sync_writes = true; }
};

TEST_F(StreamsServiceSyncedTest, ConcurrentSyncedPutsOnPutThreadsAreAllAcknowledgedInOrder) {
  CreateStream(1);
  std::unique_ptr<ShardSubscription> sub = Subscribe(v1::TRIM_HORIZON);
  Watchdog guard(sub.get());
  constexpr int kClients = 4;
  constexpr int kCalls = 20;
  constexpr int kPerCall = 5;
  std::vector<std::thread> clients;
  std::atomic<int> failures{0};
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      ShardStoreClient client(MakeChannel(server_->address()));
      for (int call = 0; call < kCalls; ++call) {
        v1::PutRecordsRequest r;
        r.set_stream_name("s");
        for (int i = 0; i < kPerCall; ++i) {
          auto* e = r.add_records();
          e->set_partition_key(absl::StrCat(c));
          e->set_data(absl::StrCat(c, ":", call * kPerCall + i));
        }
        absl::StatusOr<v1::PutRecordsResponse> response = client.PutRecords(r);
        if (!response.ok() || response->failed_record_count() != 0) ++failures;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<int> next(kClients, 0);
  int seen = 0;
  for (int events = 0; seen < kClients * kCalls * kPerCall && events < 1000; ++events) {
    auto event = sub->Next();
    ASSERT_TRUE(event.ok() && event->has_value());
    for (const auto& record : (*event)->records()) {
      const int client = std::stoi(record.partition_key());
      ASSERT_EQ(record.data(), absl::StrCat(client, ":", next[client])) << "gap or reordering";
      ++next[client];
      ++seen;
    }
  }
  EXPECT_EQ(seen, kClients * kCalls * kPerCall);
}

TEST_F(StreamsServiceTest, DeletingTheStreamEndsSubscriptionsWithNotFound) {
  CreateStream(1);
  std::unique_ptr<ShardSubscription> sub = Subscribe(v1::LATEST);
  Watchdog guard(sub.get());
  ASSERT_TRUE(sub->Next().ok());
  v1::DeleteStreamRequest d;
  d.set_stream_name("s");
  ASSERT_TRUE(client_->DeleteStream(d).ok());
  auto event = sub->Next();
  EXPECT_EQ(event.status().code(), absl::StatusCode::kNotFound) << event.status();
}

TEST_F(StreamsServiceTest, BadSubscriptionsAreRejected) {
  CreateStream(1);
  auto sub = Subscribe(v1::SHARD_ITERATOR_TYPE_UNSPECIFIED);
  EXPECT_EQ(sub->Next().status().code(), absl::StatusCode::kInvalidArgument);
  sub = Subscribe(v1::LATEST, "shardId-000000000042");
  EXPECT_EQ(sub->Next().status().code(), absl::StatusCode::kNotFound);
  v1::SubscribeToShardRequest r;
  r.set_shard_id("shardId-000000000000");
  auto no_stream = client_->SubscribeToShard(r);
  absl::Status s = no_stream->Next().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("stream_name"));
}

TEST_F(StreamsServiceTest, CancelledSubscriptionEndsCleanly) {
  CreateStream(1);
  std::unique_ptr<ShardSubscription> sub = Subscribe(v1::LATEST);
  ASSERT_TRUE(sub->Next().ok());
  sub->Cancel();
  EXPECT_EQ(sub->Next().status().code(), absl::StatusCode::kCancelled);
  Put("after cancel");  // the server side is gone: no crash, the put succeeds
}

}  // namespace
}  // namespace tributary::shard_store
