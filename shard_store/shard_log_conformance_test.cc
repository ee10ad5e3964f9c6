// The store's core contract, run against both shard logs (shard_log.h): the store's own RocksDB
// log and JetStream (one nats-server shared by the test binary). What differs between them is
// only what the contract leaves open: JetStream's sequence numbers are not contiguous, its
// arrival times are the server's (so AT_TIMESTAMP is checked as a property of the times read
// back), and it expires records itself (MaxAge) instead of the store's trimmer.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "nats/nats_client.h"
#include "nats/testing/nats_cluster.h"
#include "shard_store/jetstream/jetstream_shard_log.h"
#include "shard_store/shard_store.h"

namespace tributary::shard_store {
namespace {

enum class LogKind { kRocksDb, kJetStream };

std::string KindName(const ::testing::TestParamInfo<LogKind>& info) {
  return info.param == LogKind::kRocksDb ? "RocksDb" : "JetStream";
}

uint64_t Seq(const std::string& s) { return std::stoull(s); }

int64_t Ms(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000 + t.nanos() / 1000000;
}

// One JetStream client for the binary (the server is NatsCluster::Shared's); never freed, so
// logs of stores a case did not close cannot outlive it.
nats::NatsClient& SharedClient() {
  static nats::NatsClient* client = nats::testing::NatsCluster::Shared(1).NewClient().release();
  return *client;
}

class ShardLogConformanceTest : public ::testing::TestWithParam<LogKind> {
 protected:
  void SetUp() override {
    static std::atomic<int> cases{0};
    dir_ = testing::NewTempDir("conformance");
    // Each case has stream ids of its own (a new store starts at 1), so its JetStream names too.
    prefix_ = absl::StrCat("c", ++cases);
    Open();
  }

  void Open() {
    ShardStoreOptions options;
    options.data_dir = dir_;
    if (GetParam() == LogKind::kJetStream) {
      jetstream::JetStreamShardLogOptions log_options;
      log_options.front_end_id = absl::StrCat("fe", ++opens_);
      log_options.replicas = 1;
      log_options.name_prefix = prefix_;
      absl::StatusOr<std::unique_ptr<jetstream::JetStreamShardLog>> log =
          jetstream::JetStreamShardLog::Create(SharedClient(), RealClock::Get(), log_options);
      ASSERT_TRUE(log.ok()) << log.status();
      jetstream_ = log->get();
      options.log = std::shared_ptr<ShardLog>(std::move(*log));
    }
    absl::StatusOr<std::unique_ptr<ShardStore>> store = ShardStore::Create(options, clock_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void Reopen() {
    store_.reset();
    Open();
  }

  void CreateStream(const std::string& name, int shards) {
    v1::CreateStreamRequest r;
    r.set_stream_name(name);
    r.set_shard_count(shards);
    absl::Status s = store_->CreateStream(r);
    ASSERT_TRUE(s.ok()) << s;
  }

  // Puts one record per entry of `data` in one PutRecords call; returns the sequence numbers.
  std::vector<std::string> PutCall(const std::vector<std::string>& data,
                                   const std::string& key = "k", const std::string& stream = "s") {
    v1::PutRecordsRequest r;
    r.set_stream_name(stream);
    for (const std::string& d : data) {
      v1::PutRecordsRequestEntry* e = r.add_records();
      e->set_partition_key(key);
      e->set_data(d);
    }
    v1::PutRecordsResponse response;
    absl::Status s = store_->PutRecords(r, &response);
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ(response.failed_record_count(), 0);
    std::vector<std::string> out;
    for (const auto& e : response.records()) out.push_back(e.sequence_number());
    return out;
  }

  std::string Put(const std::string& key, const std::string& data) {
    v1::PutRecordRequest r;
    r.set_stream_name("s");
    r.set_partition_key(key);
    r.set_data(data);
    absl::StatusOr<v1::PutRecordResponse> response = store_->PutRecord(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->sequence_number() : "";
  }

  absl::StatusOr<std::string> Iterator(const std::string& shard, v1::ShardIteratorType type,
                                       const std::string& seq = "",
                                       const google::protobuf::Timestamp* at = nullptr) {
    v1::GetShardIteratorRequest r;
    r.set_stream_name("s");
    r.set_shard_id(shard);
    r.set_shard_iterator_type(type);
    r.set_starting_sequence_number(seq);
    if (at != nullptr) *r.mutable_timestamp() = *at;
    absl::StatusOr<v1::GetShardIteratorResponse> response = store_->GetShardIterator(r);
    if (!response.ok()) return response.status();
    return response->shard_iterator();
  }

  absl::StatusOr<v1::GetRecordsResponse> Get(const std::string& iterator, int limit = 0) {
    v1::GetRecordsRequest r;
    r.set_shard_iterator(iterator);
    r.set_limit(limit);
    v1::GetRecordsResponse response;
    absl::Status s = store_->GetRecords(r, &response);
    if (!s.ok()) return s;
    return response;
  }

  struct Read {
    std::vector<v1::Record> records;
    std::vector<v1::ChildShard> children;  // at SHARD_END
  };
  // Every record from `iterator` on, `limit` at a time, until a read returns none (or SHARD_END).
  Read ReadFrom(std::string iterator, int limit = 0) {
    Read out;
    for (int i = 0; i < 1000 && !iterator.empty(); ++i) {
      absl::StatusOr<v1::GetRecordsResponse> r = Get(iterator, limit);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) break;
      for (const v1::Record& record : r->records()) out.records.push_back(record);
      if (r->next_shard_iterator().empty()) {
        out.children.assign(r->child_shards().begin(), r->child_shards().end());
        break;
      }
      if (r->records().empty()) break;
      iterator = r->next_shard_iterator();
    }
    return out;
  }
  Read ReadAll(const std::string& shard, int limit = 0) {
    absl::StatusOr<std::string> it = Iterator(shard, v1::TRIM_HORIZON);
    EXPECT_TRUE(it.ok()) << it.status();
    return it.ok() ? ReadFrom(*it, limit) : Read();
  }
  static std::vector<std::string> Data(const Read& read) {
    std::vector<std::string> out;
    for (const v1::Record& r : read.records) out.push_back(r.data());
    return out;
  }
  static void ExpectIncreasing(const Read& read) {
    for (size_t i = 1; i < read.records.size(); ++i) {
      EXPECT_LT(Seq(read.records[i - 1].sequence_number()), Seq(read.records[i].sequence_number()))
          << "at record " << i;
    }
  }

  std::vector<v1::Shard> Shards() {
    v1::ListShardsRequest r;
    r.set_stream_name("s");
    absl::StatusOr<v1::ListShardsResponse> response = store_->ListShards(r);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return {};
    return {response->shards().begin(), response->shards().end()};
  }

  FakeClock clock_;
  std::string dir_;
  std::string prefix_;
  int opens_ = 0;
  jetstream::JetStreamShardLog* jetstream_ = nullptr;  // owned by the store, when JetStream
  std::unique_ptr<ShardStore> store_;
};

INSTANTIATE_TEST_SUITE_P(BothLogs, ShardLogConformanceTest,
                         ::testing::Values(LogKind::kRocksDb, LogKind::kJetStream), KindName);

TEST_P(ShardLogConformanceTest, PutsReadBackInCallOrderWithTheAcknowledgedNumbers) {
  CreateStream("s", 1);
  std::vector<std::string> acknowledged;
  std::vector<std::string> data;
  for (int call = 0; call < 5; ++call) {
    std::vector<std::string> batch;
    for (int i = 0; i < 3; ++i) batch.push_back(absl::StrCat("c", call, "-", i));
    for (const std::string& s : PutCall(batch)) acknowledged.push_back(s);
    data.insert(data.end(), batch.begin(), batch.end());
    acknowledged.push_back(Put("k", absl::StrCat("single", call)));
    data.push_back(absl::StrCat("single", call));
  }
  // Read 4 at a time: reads end inside a call's records.
  Read read = ReadAll("shardId-000000000000", 4);
  EXPECT_EQ(Data(read), data);
  std::vector<std::string> numbers;
  for (const v1::Record& r : read.records) numbers.push_back(r.sequence_number());
  EXPECT_EQ(numbers, acknowledged);
  ExpectIncreasing(read);
}

TEST_P(ShardLogConformanceTest, SequenceNumbersAreNeverReusedAfterARestart) {
  CreateStream("s", 1);
  std::vector<std::string> before = PutCall({"a", "b", "c"});
  Reopen();
  absl::StatusOr<std::string> latest = Iterator("shardId-000000000000", v1::LATEST);
  ASSERT_TRUE(latest.ok()) << latest.status();
  std::vector<std::string> after = PutCall({"d", "e"});
  ASSERT_EQ(before.size(), 3u);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_LT(Seq(before.back()), Seq(after.front()));
  Read all = ReadAll("shardId-000000000000");
  EXPECT_EQ(Data(all), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  ExpectIncreasing(all);
  // LATEST taken after the restart, before the puts: exactly the new records.
  EXPECT_EQ(Data(ReadFrom(*latest)), (std::vector<std::string>{"d", "e"}));
}

TEST_P(ShardLogConformanceTest, IteratorsStartWhereAsked) {
  CreateStream("s", 1);
  std::vector<std::string> seqs = PutCall({"r0", "r1", "r2", "r3", "r4"});
  ASSERT_EQ(seqs.size(), 5u);
  const std::string shard = "shardId-000000000000";
  absl::StatusOr<std::string> at = Iterator(shard, v1::AT_SEQUENCE_NUMBER, seqs[2]);
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(Data(ReadFrom(*at)), (std::vector<std::string>{"r2", "r3", "r4"}));
  absl::StatusOr<std::string> after = Iterator(shard, v1::AFTER_SEQUENCE_NUMBER, seqs[2]);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(Data(ReadFrom(*after)), (std::vector<std::string>{"r3", "r4"}));
  absl::StatusOr<std::string> latest = Iterator(shard, v1::LATEST);
  ASSERT_TRUE(latest.ok()) << latest.status();
  absl::StatusOr<v1::GetRecordsResponse> none = Get(*latest);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->records_size(), 0);
  PutCall({"r5"});
  EXPECT_EQ(Data(ReadFrom(none->next_shard_iterator())), (std::vector<std::string>{"r5"}));
  EXPECT_EQ(Data(ReadAll(shard)), (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4", "r5"}));
}

TEST_P(ShardLogConformanceTest, AtTimestampStartsAtTheFirstRecordThatArrivedThen) {
  CreateStream("s", 1);
  for (int call = 0; call < 4; ++call) {
    PutCall({absl::StrCat(call, "a"), absl::StrCat(call, "b")});
    clock_.Advance(absl::Seconds(10));  // the RocksDB log's arrival clock; JetStream's moves itself
  }
  const std::string shard = "shardId-000000000000";
  Read all = ReadAll(shard);
  ASSERT_EQ(all.records.size(), 8u);
  for (size_t i = 1; i < all.records.size(); ++i) {
    EXPECT_LE(Ms(all.records[i - 1].approximate_arrival_timestamp()),
              Ms(all.records[i].approximate_arrival_timestamp()));
  }
  for (const v1::Record& r : all.records) {
    const int64_t ms = Ms(r.approximate_arrival_timestamp());
    std::vector<std::string> expected;  // every record that arrived at or after `ms`
    for (const v1::Record& o : all.records) {
      if (Ms(o.approximate_arrival_timestamp()) >= ms) expected.push_back(o.data());
    }
    absl::StatusOr<std::string> it =
        Iterator(shard, v1::AT_TIMESTAMP, "", &r.approximate_arrival_timestamp());
    ASSERT_TRUE(it.ok()) << it.status();
    EXPECT_EQ(Data(ReadFrom(*it)), expected) << "AT_TIMESTAMP of " << r.data();
  }
  google::protobuf::Timestamp epoch;
  absl::StatusOr<std::string> first = Iterator(shard, v1::AT_TIMESTAMP, "", &epoch);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(Data(ReadFrom(*first)), Data(all));
  google::protobuf::Timestamp future;
  future.set_seconds(4'000'000'000);  // 2096
  absl::StatusOr<std::string> none = Iterator(shard, v1::AT_TIMESTAMP, "", &future);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(ReadFrom(*none).records.empty());
}

TEST_P(ShardLogConformanceTest, ASplitEndsTheParentAboveItsRecordsAndBeforeItsChildren) {
  CreateStream("s", 1);
  // Explicit hash keys 1 and 2^127 + 1: one in each half once split in the middle.
  const absl::uint128 middle = absl::uint128(1) << 127;
  auto put = [&](const std::string& data, absl::uint128 key) {
    v1::PutRecordRequest r;
    r.set_stream_name("s");
    r.set_partition_key("k");
    r.set_explicit_hash_key(FormatHashKey(key));
    r.set_data(data);
    absl::StatusOr<v1::PutRecordResponse> response = store_->PutRecord(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::PutRecordResponse();
  };
  std::vector<uint64_t> parent_seqs;
  for (int i = 0; i < 3; ++i) {
    parent_seqs.push_back(Seq(put(absl::StrCat("p", i), 1).sequence_number()));
    parent_seqs.push_back(Seq(put(absl::StrCat("q", i), middle + 1).sequence_number()));
  }
  v1::SplitShardRequest split;
  split.set_stream_name("s");
  split.set_shard_to_split("shardId-000000000000");
  split.set_new_starting_hash_key(FormatHashKey(middle));
  absl::Status s = store_->SplitShard(split);
  ASSERT_TRUE(s.ok()) << s;
  v1::PutRecordResponse low = put("low", 1);
  v1::PutRecordResponse high = put("high", middle + 1);
  EXPECT_EQ(low.shard_id(), "shardId-000000000001");
  EXPECT_EQ(high.shard_id(), "shardId-000000000002");

  std::vector<v1::Shard> shards = Shards();
  ASSERT_EQ(shards.size(), 3u);
  const uint64_t ending = Seq(shards[0].sequence_number_range().ending_sequence_number());
  for (uint64_t seq : parent_seqs) EXPECT_LT(seq, ending);
  Read parent = ReadAll("shardId-000000000000");
  EXPECT_EQ(Data(parent), (std::vector<std::string>{"p0", "q0", "p1", "q1", "p2", "q2"}));
  ASSERT_EQ(parent.children.size(), 2u) << "SHARD_END lists the children";
  EXPECT_EQ(parent.children[0].shard_id(), "shardId-000000000001");
  EXPECT_EQ(parent.children[1].shard_id(), "shardId-000000000002");
  EXPECT_EQ(Data(ReadAll("shardId-000000000001")), (std::vector<std::string>{"low"}));
  EXPECT_EQ(Data(ReadAll("shardId-000000000002")), (std::vector<std::string>{"high"}));

  // Still so after a restart (the parent's end is in the metadata, its records in the log).
  Reopen();
  Read again = ReadAll("shardId-000000000000");
  EXPECT_EQ(Data(again), Data(parent));
  EXPECT_EQ(again.children.size(), 2u);
  EXPECT_GT(Seq(put("low2", 1).sequence_number()), Seq(low.sequence_number()));
}

TEST_P(ShardLogConformanceTest, AMergeEndsBothParentsBeforeTheChild) {
  CreateStream("s", 2);
  std::vector<std::string> a, b;
  for (int i = 0; i < 20; ++i) {
    v1::PutRecordRequest r;
    r.set_stream_name("s");
    r.set_partition_key(absl::StrCat("key", i));
    r.set_data(absl::StrCat("d", i));
    absl::StatusOr<v1::PutRecordResponse> response = store_->PutRecord(r);
    ASSERT_TRUE(response.ok()) << response.status();
    (response->shard_id() == "shardId-000000000000" ? a : b).push_back(r.data());
  }
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  v1::MergeShardsRequest merge;
  merge.set_stream_name("s");
  merge.set_shard_to_merge("shardId-000000000000");
  merge.set_adjacent_shard_to_merge("shardId-000000000001");
  absl::Status s = store_->MergeShards(merge);
  ASSERT_TRUE(s.ok()) << s;
  const std::string merged = Put("after", "merged");
  EXPECT_EQ(Data(ReadAll("shardId-000000000002")), (std::vector<std::string>{"merged"}));
  Read pa = ReadAll("shardId-000000000000");
  Read pb = ReadAll("shardId-000000000001");
  EXPECT_EQ(Data(pa), a);
  EXPECT_EQ(Data(pb), b);
  ASSERT_EQ(pa.children.size(), 1u);
  ASSERT_EQ(pb.children.size(), 1u);
  EXPECT_EQ(pa.children[0].shard_id(), "shardId-000000000002");
  EXPECT_EQ(pb.children[0].shard_id(), "shardId-000000000002");
}

TEST_P(ShardLogConformanceTest, ConcurrentPutsToOneShardAreEachStoredOnceInCallOrder) {
  CreateStream("s", 1);
  constexpr int kThreads = 4, kCalls = 10, kPerCall = 5;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int c = 0; c < kCalls; ++c) {
        std::vector<std::string> batch;
        for (int i = 0; i < kPerCall; ++i) batch.push_back(absl::StrCat(t, "/", c * kPerCall + i));
        PutCall(batch);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Read all = ReadAll("shardId-000000000000", 7);
  ASSERT_EQ(all.records.size(), static_cast<size_t>(kThreads * kCalls * kPerCall));
  ExpectIncreasing(all);
  std::map<std::string, int> next;  // per thread: the next index expected
  for (const v1::Record& r : all.records) {
    const std::string thread = r.data().substr(0, r.data().find('/'));
    const int index = std::stoi(r.data().substr(r.data().find('/') + 1));
    EXPECT_EQ(index, next[thread]++) << r.data();
  }
}

TEST_P(ShardLogConformanceTest, RetentionChangesAndATrimPassKeepRecordsWithinRetention) {
  CreateStream("s", 1);
  PutCall({"a", "b"});
  v1::IncreaseStreamRetentionPeriodRequest increase;
  increase.set_stream_name("s");
  increase.set_retention_period_hours(48);
  absl::Status s = store_->IncreaseStreamRetentionPeriod(increase);
  EXPECT_TRUE(s.ok()) << s;
  v1::DecreaseStreamRetentionPeriodRequest decrease;
  decrease.set_stream_name("s");
  decrease.set_retention_period_hours(12);
  EXPECT_EQ(store_->DecreaseStreamRetentionPeriod(decrease).code(),
            absl::StatusCode::kInvalidArgument);
  decrease.set_retention_period_hours(24);
  s = store_->DecreaseStreamRetentionPeriod(decrease);
  EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<int64_t> trimmed = store_->TrimExpiredRecords();
  ASSERT_TRUE(trimmed.ok()) << trimmed.status();
  EXPECT_EQ(*trimmed, 0);
  EXPECT_EQ(Data(ReadAll("shardId-000000000000")), (std::vector<std::string>{"a", "b"}));
  if (jetstream_ != nullptr) {
    // JetStream expires records itself: the stream's MaxAge is the retention.
    absl::StatusOr<nats::StreamInfo> info = SharedClient().GetStreamInfo(jetstream_->StreamName(1));
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->config.max_age, absl::Hours(24));
  } else {
    // The store's trimmer: past the retention the records go.
    clock_.Advance(absl::Hours(25));
    trimmed = store_->TrimExpiredRecords();
    ASSERT_TRUE(trimmed.ok()) << trimmed.status();
    EXPECT_EQ(*trimmed, 2);
    EXPECT_TRUE(ReadAll("shardId-000000000000").records.empty());
  }
}

TEST_P(ShardLogConformanceTest, BadInputGetsTheSameStatusCodes) {
  CreateStream("s", 1);
  v1::PutRecordsRequest put;
  put.set_stream_name("nope");
  put.add_records()->set_partition_key("k");
  v1::PutRecordsResponse response;
  EXPECT_EQ(store_->PutRecords(put, &response).code(), absl::StatusCode::kNotFound);
  put.set_stream_name("s");
  put.clear_records();
  EXPECT_EQ(store_->PutRecords(put, &response).code(), absl::StatusCode::kInvalidArgument);
  v1::PutRecordsRequestEntry* e = put.add_records();
  e->set_partition_key("k");
  e->set_data(std::string((1 << 20) + 1, 'x'));
  EXPECT_EQ(store_->PutRecords(put, &response).code(), absl::StatusCode::kInvalidArgument);
  e->set_data("ok");
  e->set_partition_key("");
  EXPECT_EQ(store_->PutRecords(put, &response).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Iterator("shardId-000000000007", v1::TRIM_HORIZON).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Iterator("shardId-000000000000", v1::AT_SEQUENCE_NUMBER).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Iterator("shardId-000000000000", v1::AT_SEQUENCE_NUMBER, "x1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Get("not an iterator").status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::string> it = Iterator("shardId-000000000000", v1::TRIM_HORIZON);
  ASSERT_TRUE(it.ok());
  EXPECT_EQ(Get(*it, 10001).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(ShardLogConformanceTest, ADeletedStreamsRecordsAreGoneAndItsNameStartsAfresh) {
  CreateStream("s", 1);
  PutCall({"old"});
  v1::DeleteStreamRequest del;
  del.set_stream_name("s");
  absl::Status s = store_->DeleteStream(del);
  ASSERT_TRUE(s.ok()) << s;
  v1::PutRecordsRequest put;
  put.set_stream_name("s");
  v1::PutRecordsRequestEntry* e = put.add_records();
  e->set_partition_key("k");
  e->set_data("x");
  v1::PutRecordsResponse response;
  EXPECT_EQ(store_->PutRecords(put, &response).code(), absl::StatusCode::kNotFound);
  CreateStream("s", 1);
  EXPECT_TRUE(ReadAll("shardId-000000000000").records.empty());
  PutCall({"new"});
  EXPECT_EQ(Data(ReadAll("shardId-000000000000")), (std::vector<std::string>{"new"}));
}

TEST_P(ShardLogConformanceTest, AStagedPutNeedsTheRecordsInRocksDb) {
  CreateStream("s", 1);
  v1::PutRecordRequest r;
  r.set_stream_name("s");
  r.set_partition_key("k");
  r.set_data("d");
  bool staged = false;
  absl::StatusOr<v1::PutRecordResponse> response =
      store_->PutRecordStaged(r, [&](rocksdb::WriteBatch*) {
        staged = true;
        return absl::OkStatus();
      });
  if (GetParam() == LogKind::kRocksDb) {
    EXPECT_TRUE(response.ok()) << response.status();
    EXPECT_TRUE(staged);
  } else {
    EXPECT_EQ(response.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_FALSE(staged);
    EXPECT_TRUE(ReadAll("shardId-000000000000").records.empty());
  }
}

}  // namespace
}  // namespace tributary::shard_store
