// Two shard_store_server processes over one etcd prefix and one nats-server
// (--coordination=etcd://... --log=nats://..., no --data_dir): a stream made on one is served by
// the other, a split on one is applied on the other while it takes puts, and a front-end killed
// with -9 comes back from etcd alone.
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/await.h"
#include "common/grpc_server.h"
#include "common/testing/test_util.h"
#include "etcd/testing/etcd_cluster.h"
#include "gtest/gtest.h"
#include "nats/testing/nats_cluster.h"
#include "shard_store/shard_store_client.h"

namespace tributary::shard_store {
namespace {

constexpr absl::Duration kPropagation = absl::Seconds(20);  // a failure guard, not a pace

class ClusterServerTest : public ::testing::Test {
 protected:
  ClusterServerTest()
      : etcd_(etcd::testing::EtcdCluster::Shared(1)),
        nats_(nats::testing::NatsCluster::Shared(1)),
        prefix_(etcd_.NewPrefix()),
        dir_(testing::NewTempDir("cluster_server")) {}

  struct Server {
    std::unique_ptr<testing::Subprocess> process;
    std::unique_ptr<ShardStoreClient> client;
    ShardStoreClient* operator->() { return client.get(); }
  };

  Server Start() {
    Server s;
    const int n = ++starts_;
    const std::string port_file = absl::StrCat(dir_, "/port.", n);
    absl::StatusOr<testing::Subprocess> process = testing::Subprocess::Start(
        testing::RunfilePath("shard_store/shard_store_server"),
        {"--listen=127.0.0.1:0", absl::StrCat("--coordination=", etcd_.url()),
         absl::StrCat("--etcd_prefix=", prefix_), absl::StrCat("--log=", nats_.url()),
         "--log_replicas=1", absl::StrCat("--port_file=", port_file)},
        absl::StrCat(dir_, "/server.", n, ".log"));
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return s;
    s.process = std::make_unique<testing::Subprocess>(std::move(*process));
    absl::StatusOr<int> port = testing::WaitForPortFile(port_file);
    EXPECT_TRUE(port.ok()) << port.status();
    if (!port.ok()) return s;
    const std::string address = absl::StrCat("127.0.0.1:", *port);
    EXPECT_TRUE(testing::WaitForServing(address).ok());
    s.client = std::make_unique<ShardStoreClient>(MakeChannel(address), absl::Seconds(30));
    return s;
  }

  static absl::Status AwaitShards(Server& s, int count) {
    std::string seen;
    return PollFor(
        kPropagation, absl::Milliseconds(20), absl::StrCat(count, " shards"),
        [&] {
          v1::ListShardsRequest r;
          r.set_stream_name("s");
          absl::StatusOr<v1::ListShardsResponse> shards = s->ListShards(r);
          seen = shards.ok() ? absl::StrCat(shards->shards_size(), " shards")
                             : shards.status().ToString();
          return shards.ok() && shards->shards_size() == count;
        },
        [&] { return seen; });
  }

  // Puts `n` records (keys spread over the hash space) on `s`; adds the acknowledged ones to
  // acked_ and returns their shard ids.
  std::vector<std::string> Put(Server& s, int n) {
    v1::PutRecordsRequest r;
    r.set_stream_name("s");
    for (int i = 0; i < n; ++i) {
      v1::PutRecordsRequestEntry* e = r.add_records();
      e->set_partition_key(absl::StrCat("k", i));
      e->set_data(absl::StrCat("d", ++records_));
    }
    absl::StatusOr<v1::PutRecordsResponse> response = s->PutRecords(r);
    EXPECT_TRUE(response.ok()) << response.status();
    std::vector<std::string> shards;
    if (!response.ok()) return shards;
    EXPECT_EQ(response->failed_record_count(), 0);
    for (int i = 0; i < response->records_size(); ++i) {
      const v1::PutRecordsResultEntry& e = response->records(i);
      if (!e.error_code().empty()) continue;
      EXPECT_TRUE(acked_
                      .emplace(std::make_tuple(e.shard_id(), std::stoull(e.sequence_number())),
                               r.records(i).data())
                      .second)
          << "sequence number reused";
      shards.push_back(e.shard_id());
    }
    return shards;
  }

  // Every record of every shard of "s", read through `s`.
  std::map<std::tuple<std::string, uint64_t>, std::string> ReadAll(Server& s) {
    std::map<std::tuple<std::string, uint64_t>, std::string> out;
    v1::ListShardsRequest list;
    list.set_stream_name("s");
    absl::StatusOr<v1::ListShardsResponse> shards = s->ListShards(list);
    EXPECT_TRUE(shards.ok()) << shards.status();
    if (!shards.ok()) return out;
    for (const v1::Shard& shard : shards->shards()) {
      v1::GetShardIteratorRequest it;
      it.set_stream_name("s");
      it.set_shard_id(shard.shard_id());
      it.set_shard_iterator_type(v1::TRIM_HORIZON);
      absl::StatusOr<v1::GetShardIteratorResponse> iterator = s->GetShardIterator(it);
      EXPECT_TRUE(iterator.ok()) << iterator.status();
      if (!iterator.ok()) continue;
      std::string next = iterator->shard_iterator();
      for (int page = 0; page < 1000 && !next.empty(); ++page) {
        v1::GetRecordsRequest get;
        get.set_shard_iterator(next);
        absl::StatusOr<v1::GetRecordsResponse> records = s->GetRecords(get);
        EXPECT_TRUE(records.ok()) << records.status();
        if (!records.ok()) break;
        for (const v1::Record& r : records->records()) {
          out[std::make_tuple(shard.shard_id(), std::stoull(r.sequence_number()))] = r.data();
        }
        if (records->records().empty() && records->millis_behind_latest() == 0) break;
        next = records->next_shard_iterator();
      }
    }
    return out;
  }

  etcd::testing::EtcdCluster& etcd_;
  nats::testing::NatsCluster& nats_;
  const std::string prefix_;
  const std::string dir_;
  int starts_ = 0;
  int records_ = 0;
  std::map<std::tuple<std::string, uint64_t>, std::string> acked_;
};

TEST_F(ClusterServerTest, TwoServersServeOneSetOfStreams) {
  Server a = Start();
  Server b = Start();
  ASSERT_TRUE(a.client != nullptr && b.client != nullptr);
  v1::CreateStreamRequest create;
  create.set_stream_name("s");
  create.set_shard_count(1);
  ASSERT_TRUE(a->CreateStream(create).ok());
  ASSERT_TRUE(AwaitShards(b, 1).ok());
  Put(b, 20);
  Put(a, 20);

  // A split on A; B takes puts before and after it sees the split, then routes to the children.
  v1::SplitShardRequest split;
  split.set_stream_name("s");
  split.set_shard_to_split("shardId-000000000000");
  split.set_new_starting_hash_key("170141183460469231731687303715884105728");  // 2^127
  Put(b, 20);
  ASSERT_TRUE(a->SplitShard(split).ok());
  Put(b, 20);
  ASSERT_TRUE(AwaitShards(b, 3).ok());
  std::vector<std::string> shards = Put(b, 20);
  for (const std::string& shard : shards) EXPECT_NE(shard, "shardId-000000000000");
  EXPECT_EQ(ReadAll(a), acked_);
  EXPECT_EQ(ReadAll(b), acked_);

  // kill -9 of A: a new A has no local state and serves everything from etcd and JetStream.
  a.process->Kill(SIGKILL);
  Server again = Start();
  ASSERT_TRUE(again.client != nullptr);
  ASSERT_TRUE(AwaitShards(again, 3).ok());
  Put(again, 20);
  EXPECT_EQ(ReadAll(again), acked_);
  EXPECT_EQ(ReadAll(b), acked_);
}

TEST_F(ClusterServerTest, CoordinationWithoutASharedLogIsRefusedAtStart) {
  const std::string log = absl::StrCat(dir_, "/refused.log");
  absl::StatusOr<testing::Subprocess> process = testing::Subprocess::Start(
      testing::RunfilePath("shard_store/shard_store_server"),
      {"--listen=127.0.0.1:0", absl::StrCat("--coordination=", etcd_.url()),
       absl::StrCat("--data_dir=", dir_, "/data")},
      log);
  ASSERT_TRUE(process.ok()) << process.status();
  absl::StatusOr<int> status = process->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << *status;
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("needs --log=nats://"), std::string::npos) << text;
}

}  // namespace
}  // namespace tributary::shard_store
