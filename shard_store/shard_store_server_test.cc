// kill -9 of shard_store_server under load: every acknowledged record is found
// after a restart on the same data directory, and sequence numbers continue
// without reuse.
#include <signal.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_server.h"
#include "common/testing/test_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "shard_store/shard_store.h"
#include "shard_store/shard_store_client.h"
#include "tables/tables_client.h"

namespace tributary::shard_store {
namespace {

struct Acked {
  std::string shard_id;
  uint64_t sequence_number;
  std::string data;
};

class ShardStoreServerTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::NewTempDir("server"); }

  // Starts the server on the data directory, with `extra_flags`, and connects a client.
  void StartServer(const std::vector<std::string>& extra_flags = {}) {
    const std::string port_file = absl::StrCat(dir_, "/port.", ++starts_);
    std::vector<std::string> flags = {"--listen=127.0.0.1:0",
                                      absl::StrCat("--data_dir=", dir_, "/data"),
                                      absl::StrCat("--port_file=", port_file)};
    flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
    absl::StatusOr<testing::Subprocess> server = testing::Subprocess::Start(
        testing::RunfilePath("shard_store/shard_store_server"), flags,
        absl::StrCat(dir_, "/server.log"));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::make_unique<testing::Subprocess>(std::move(*server));
    absl::StatusOr<int> port = testing::WaitForPortFile(port_file);
    ASSERT_TRUE(port.ok()) << port.status();
    address_ = absl::StrCat("127.0.0.1:", *port);
    ASSERT_TRUE(testing::WaitForServing(address_).ok());
    channel_ = MakeChannel(address_);
    client_ = std::make_unique<ShardStoreClient>(channel_, absl::Seconds(10));
  }

  // Every record of a shard, sequence number → data.
  std::map<uint64_t, std::string> ReadShard(const std::string& shard_id,
                                            const std::string& stream = "s") {
    std::map<uint64_t, std::string> out;
    v1::GetShardIteratorRequest it;
    it.set_stream_name(stream);
    it.set_shard_id(shard_id);
    it.set_shard_iterator_type(v1::TRIM_HORIZON);
    absl::StatusOr<v1::GetShardIteratorResponse> iterator = client_->GetShardIterator(it);
    EXPECT_TRUE(iterator.ok()) << iterator.status();
    if (!iterator.ok()) return out;
    std::string next = iterator->shard_iterator();
    for (int page = 0; page < 1000 && !next.empty(); ++page) {
      v1::GetRecordsRequest get;
      get.set_shard_iterator(next);
      absl::StatusOr<v1::GetRecordsResponse> records = client_->GetRecords(get);
      EXPECT_TRUE(records.ok()) << records.status();
      if (!records.ok() || records->records().empty()) break;
      for (const v1::Record& r : records->records()) {
        uint64_t seq = *ParseSequenceNumber(r.sequence_number(), "seq");
        EXPECT_TRUE(out.emplace(seq, r.data()).second) << "duplicate sequence number " << seq;
      }
      next = records->next_shard_iterator();
    }
    return out;
  }

  std::string dir_;
  int starts_ = 0;
  std::unique_ptr<testing::Subprocess> server_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;  // client_'s
  std::unique_ptr<ShardStoreClient> client_;
};

TEST_F(ShardStoreServerTest, KillDashNineUnderLoadLosesNoAcknowledgedRecord) {
  StartServer();
  v1::CreateStreamRequest create;
  create.set_stream_name("s");
  create.set_shard_count(4);
  ASSERT_TRUE(client_->CreateStream(create).ok());

  constexpr int kWriters = 4, kMaxCalls = 5000, kPerCall = 25, kKillAfter = 3000;
  absl::Mutex mu;
  int acked_count = 0;
  std::vector<std::vector<Acked>> acked(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      // Each writer has its own channel, as separate producers would.
      ShardStoreClient client(MakeChannel(address_), absl::Seconds(10));
      for (int call = 0; call < kMaxCalls; ++call) {
        v1::PutRecordsRequest r;
        r.set_stream_name("s");
        for (int i = 0; i < kPerCall; ++i) {
          auto* e = r.add_records();
          e->set_partition_key(absl::StrCat(w, "/", call, "/", i));
          e->set_data(absl::StrCat("w", w, "c", call, "i", i));
        }
        absl::StatusOr<v1::PutRecordsResponse> response = client.PutRecords(r);
        if (!response.ok()) return;  // the server was killed
        for (int i = 0; i < kPerCall; ++i) {
          const auto& e = response->records(i);
          if (!e.error_code().empty()) continue;
          acked[w].push_back({e.shard_id(), *ParseSequenceNumber(e.sequence_number(), "seq"),
                              r.records(i).data()});
        }
        absl::MutexLock lock(&mu);
        acked_count += kPerCall;
      }
    });
  }
  {
    absl::MutexLock lock(&mu);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return acked_count >= kKillAfter; };
    // A failure guard only: the writers reach the mark long before.
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(60)))
        << "writers acknowledged only " << acked_count << " records";
  }
  server_->Kill(SIGKILL);  // mid-load: calls are in flight
  for (auto& t : writers) t.join();

  StartServer();
  std::map<std::string, std::map<uint64_t, std::string>> found;
  for (const char* shard : {"shardId-000000000000", "shardId-000000000001", "shardId-000000000002",
                            "shardId-000000000003"}) {
    found[shard] = ReadShard(shard);
  }
  size_t total = 0;
  for (const auto& writer : acked) {
    for (const Acked& a : writer) {
      ++total;
      auto it = found[a.shard_id].find(a.sequence_number);
      ASSERT_NE(it, found[a.shard_id].end())
          << "acknowledged record lost: " << a.shard_id << " " << a.sequence_number;
      EXPECT_EQ(it->second, a.data);
    }
  }
  EXPECT_GE(total, static_cast<size_t>(kKillAfter));

  // Sequence numbers continue above everything in the log.
  absl::StatusOr<std::vector<v1::Shard>> shards = client_->ListAllShards("s");
  ASSERT_TRUE(shards.ok());
  for (const v1::Shard& shard : *shards) {
    v1::PutRecordRequest put;
    put.set_stream_name("s");
    put.set_partition_key("after");
    put.set_data("after restart");
    put.set_explicit_hash_key(shard.hash_key_range().starting_hash_key());
    absl::StatusOr<v1::PutRecordResponse> response = client_->PutRecord(put);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->shard_id(), shard.shard_id());
    const auto& log = found[shard.shard_id()];
    uint64_t last = log.empty() ? 0 : log.rbegin()->first;
    EXPECT_GT(*ParseSequenceNumber(response->sequence_number(), "seq"), last) << shard.shard_id();
  }
}

// The standalone store serves tributary.v1.Tables over its own database as `tributary serve`
// does: a table with a change stream, an item write with its record in the table's stream, and
// both still there after a kill -9 and a restart on the same data directory.
TEST_F(ShardStoreServerTest, ServesTablesWhoseItemsAndChangeRecordsSurviveARestart) {
  StartServer();
  auto tables = std::make_unique<tables::TablesClient>(MakeChannel(address_));
  v1::CreateTableRequest create;
  create.set_table_name("orders");
  create.mutable_partition_key()->set_attribute_name("id");
  create.mutable_partition_key()->set_attribute_type("S");
  create.set_billing_mode(v1::BILLING_PAY_PER_REQUEST);
  create.mutable_stream_specification()->set_stream_enabled(true);
  create.mutable_stream_specification()->set_stream_view_type(v1::VIEW_NEW_IMAGE);
  absl::StatusOr<v1::TableDescription> table = tables->CreateTable(create);
  ASSERT_TRUE(table.ok()) << table.status();
  v1::UpdateItemRequest update;
  update.set_table_name("orders");
  (*update.mutable_key())["id"].set_s("o1");
  update.set_update_expression("ADD clicks :one");
  (*update.mutable_expression_attribute_values())[":one"].set_n("1");
  ASSERT_TRUE(tables->UpdateItem(update).ok());

  server_->Kill(SIGKILL);
  StartServer();
  tables = std::make_unique<tables::TablesClient>(MakeChannel(address_));
  v1::GetItemRequest get;
  get.set_table_name("orders");
  (*get.mutable_key())["id"].set_s("o1");
  absl::StatusOr<v1::GetItemResponse> item = tables->GetItem(get);
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->item().at("clicks").n(), "1");
  absl::StatusOr<std::vector<v1::Shard>> shards =
      client_->ListAllShards(table->latest_stream_name());
  ASSERT_TRUE(shards.ok()) << shards.status();
  size_t records = 0;
  for (const v1::Shard& shard : *shards) {
    records += ReadShard(shard.shard_id(), table->latest_stream_name()).size();
  }
  EXPECT_EQ(records, 1u);
}

// --max_concurrent_streams (issue 22): a connection's calls beyond the bound wait in the
// client's transport instead of reaching the server; other connections are not held up.
TEST_F(ShardStoreServerTest, MaxConcurrentStreamsHoldsAConnectionsFurtherCallsInTheClient) {
  StartServer({"--max_concurrent_streams=1"});
  v1::CreateStreamRequest create;
  create.set_stream_name("s");
  create.set_shard_count(1);
  ASSERT_TRUE(client_->CreateStream(create).ok());
  v1::PutRecordsRequest put;
  put.set_stream_name("s");
  auto* e = put.add_records();
  e->set_partition_key("k");
  e->set_data("d");
  ASSERT_TRUE(client_->PutRecords(put).ok());
  const std::vector<v1::Shard> shards = *client_->ListAllShards("s");
  ASSERT_EQ(shards.size(), 1u);

  // A subscription on client_'s connection holds its one stream (its first event is read, so
  // the server has it).
  v1::SubscribeToShardRequest subscribe;
  subscribe.set_stream_name("s");
  subscribe.set_shard_id(shards[0].shard_id());
  subscribe.mutable_starting_position()->set_type(v1::TRIM_HORIZON);
  std::unique_ptr<ShardSubscription> subscription = client_->SubscribeToShard(subscribe);
  absl::StatusOr<std::optional<v1::SubscribeToShardEvent>> first = subscription->Next();
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();

  ShardStoreClient waits(channel_, absl::Milliseconds(500));
  EXPECT_EQ(waits.PutRecords(put).status().code(), absl::StatusCode::kDeadlineExceeded);
  // A connection of its own (channels with equal arguments share gRPC's global subchannel).
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  ShardStoreClient other_connection(
      grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args),
      absl::Seconds(10));
  EXPECT_TRUE(other_connection.PutRecords(put).ok());

  subscription.reset();  // ends the stream: the connection's calls go through again
  ShardStoreClient after(channel_, absl::Seconds(10));
  EXPECT_TRUE(after.PutRecords(put).ok());
}

}  // namespace
}  // namespace tributary::shard_store
