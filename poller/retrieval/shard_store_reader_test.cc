// The SubscribeToShard reader and its GetRecords fallback against a scripted Streams service on
// loopback.
#include "poller/retrieval/shard_store_reader.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/grpc_server.h"
#include "gtest/gtest.h"
#include "proto/streams.grpc.pb.h"

namespace tributary::poller {
namespace {

v1::Record Rec(int seq) {
  v1::Record r;
  r.set_sequence_number(absl::StrCat(seq));
  r.set_partition_key("k");
  return r;
}

// A Streams service whose first subscription breaks after one event; reads through
// GetShardIterator + GetRecords work; the second subscription ends the shard.
class ScriptedStreams final : public v1::Streams::Service {
 public:
  grpc::Status SubscribeToShard(grpc::ServerContext*, const v1::SubscribeToShardRequest* request,
                                grpc::ServerWriter<v1::SubscribeToShardEvent>* writer) override {
    v1::SubscribeToShardEvent event;
    int n;
    {
      absl::MutexLock lock(&mu_);
      subscribe_requests.push_back(*request);
      n = static_cast<int>(subscribe_requests.size());
    }
    if (n == 1) {
      *event.add_records() = Rec(1);
      *event.add_records() = Rec(2);
      event.set_millis_behind_latest(1500);
      writer->Write(event);
      if (first_ends_cleanly) return grpc::Status::OK;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "store restarting");
    }
    *event.add_records() = Rec(5);
    event.add_child_shards()->set_shard_id("shardId-000000000001");
    writer->Write(event);
    return grpc::Status::OK;
  }
  grpc::Status GetShardIterator(grpc::ServerContext*, const v1::GetShardIteratorRequest* request,
                                v1::GetShardIteratorResponse* response) override {
    absl::MutexLock lock(&mu_);
    iterator_requests.push_back(*request);
    response->set_shard_iterator("it");
    return grpc::Status::OK;
  }
  grpc::Status GetRecords(grpc::ServerContext*, const v1::GetRecordsRequest*,
                          v1::GetRecordsResponse* response) override {
    *response->add_records() = Rec(3);
    *response->add_records() = Rec(4);
    response->set_millis_behind_latest(700);
    if (!records_end_shard) response->set_next_shard_iterator("it2");
    return grpc::Status::OK;
  }

  bool first_ends_cleanly = false;
  bool records_end_shard = false;
  absl::Mutex mu_;
  std::vector<v1::SubscribeToShardRequest> subscribe_requests;
  std::vector<v1::GetShardIteratorRequest> iterator_requests;
};

std::vector<std::string> Seqs(const ReadResult& r) {
  std::vector<std::string> out;
  for (const auto& rec : r.records) out.push_back(rec.sequence_number());
  return out;
}

TEST(ShardStoreReaderTest, BrokenSubscriptionFallsBackToGetRecordsThenResubscribes) {
  ScriptedStreams streams;
  auto server = GrpcServer::Start("127.0.0.1:0", {&streams});
  ASSERT_TRUE(server.ok());
  shard_store::ShardStoreClient client(MakeChannel((*server)->address()));
  ShardStoreReader reader(client);
  v1::Checkpoint start;
  start.set_type(v1::TRIM_HORIZON_CHECKPOINT);
  auto stream = reader.Open("s", "shardId-000000000000", start);

  auto first = stream->Next();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(Seqs(*first), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(first->millis_behind_latest, std::optional<int64_t>(1500));
  EXPECT_EQ(stream->Next().status().code(), absl::StatusCode::kUnavailable);
  auto fallback = stream->Next();
  ASSERT_TRUE(fallback.ok()) << fallback.status();
  EXPECT_EQ(Seqs(*fallback), (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(fallback->millis_behind_latest, std::optional<int64_t>(700));
  EXPECT_FALSE(fallback->shard_end);
  auto last = stream->Next();
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(Seqs(*last), (std::vector<std::string>{"5"}));
  EXPECT_TRUE(last->shard_end);
  EXPECT_EQ(last->child_shard_ids, std::vector<std::string>{"shardId-000000000001"});
  auto after = stream->Next();
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->shard_end);
  EXPECT_TRUE(after->records.empty());

  absl::MutexLock lock(&streams.mu_);
  ASSERT_EQ(streams.subscribe_requests.size(), 2u);
  EXPECT_EQ(streams.subscribe_requests[0].starting_position().type(), v1::TRIM_HORIZON);
  EXPECT_EQ(streams.subscribe_requests[0].stream_name(), "s");
  ASSERT_EQ(streams.iterator_requests.size(), 1u);
  EXPECT_EQ(streams.iterator_requests[0].shard_iterator_type(), v1::AFTER_SEQUENCE_NUMBER);
  EXPECT_EQ(streams.iterator_requests[0].starting_sequence_number(), "2");
  EXPECT_EQ(streams.subscribe_requests[1].starting_position().type(), v1::AFTER_SEQUENCE_NUMBER);
  EXPECT_EQ(streams.subscribe_requests[1].starting_position().sequence_number(), "4");
}

TEST(ShardStoreReaderTest, CleanEndWithoutChildShardsIsCheckedWithGetRecords) {
  ScriptedStreams streams;
  streams.first_ends_cleanly = true;
  streams.records_end_shard = true;
  auto server = GrpcServer::Start("127.0.0.1:0", {&streams});
  ASSERT_TRUE(server.ok());
  shard_store::ShardStoreClient client(MakeChannel((*server)->address()));
  ShardStoreReader reader(client);
  auto stream = reader.Open("s", "shardId-000000000000", v1::Checkpoint());
  auto first = stream->Next();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Seqs(*first), (std::vector<std::string>{"1", "2"}));
  auto clean_end = stream->Next();
  ASSERT_TRUE(clean_end.ok()) << clean_end.status();
  EXPECT_TRUE(clean_end->records.empty());
  EXPECT_FALSE(clean_end->shard_end) << "a clean end alone does not prove the shard ended";
  auto read = stream->Next();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(Seqs(*read), (std::vector<std::string>{"3", "4"}));
  EXPECT_TRUE(read->shard_end) << "GetRecords gave no next iterator";
}

TEST(ShardStoreReaderTest, SequenceCheckpointResumesAfterIt) {
  ScriptedStreams streams;
  auto server = GrpcServer::Start("127.0.0.1:0", {&streams});
  ASSERT_TRUE(server.ok());
  shard_store::ShardStoreClient client(MakeChannel((*server)->address()));
  ShardStoreReader reader(client);
  v1::Checkpoint start;
  start.set_type(v1::SEQUENCE_NUMBER);
  start.set_sequence_number("41");
  auto stream = reader.Open("s", "shardId-000000000000", start);
  ASSERT_TRUE(stream->Next().ok());
  absl::MutexLock lock(&streams.mu_);
  EXPECT_EQ(streams.subscribe_requests[0].starting_position().type(), v1::AFTER_SEQUENCE_NUMBER);
  EXPECT_EQ(streams.subscribe_requests[0].starting_position().sequence_number(), "41");
}

TEST(ShardStoreReaderTest, CancelledStreamReturnsCancelled) {
  ScriptedStreams streams;
  auto server = GrpcServer::Start("127.0.0.1:0", {&streams});
  ASSERT_TRUE(server.ok());
  shard_store::ShardStoreClient client(MakeChannel((*server)->address()));
  ShardStoreReader reader(client);
  auto stream = reader.Open("s", "shardId-000000000000", v1::Checkpoint());
  stream->Cancel();
  EXPECT_EQ(stream->Next().status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace tributary::poller
