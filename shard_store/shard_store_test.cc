#include "shard_store/shard_store.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/rocksdb_util.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/write_batch.h"

namespace tributary::shard_store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::uint128 kMax = absl::Uint128Max();

absl::uint128 Hex128(const char* hex) {
  std::string bytes = absl::HexStringToBytes(hex);
  absl::uint128 v = 0;
  for (unsigned char c : bytes) v = (v << 8) | c;
  return v;
}

class ShardStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::NewTempDir("shard_store");
    Open();
  }

  void Open() {
    options_.data_dir = dir_;
    absl::StatusOr<std::unique_ptr<ShardStore>> store = ShardStore::Create(options_, clock_);
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
    ASSERT_TRUE(store_->CreateStream(r).ok());
  }

  v1::PutRecordResponse Put(const std::string& pk, const std::string& data,
                            const std::string& ehk = "", const std::string& stream = "s") {
    v1::PutRecordRequest r;
    r.set_stream_name(stream);
    r.set_partition_key(pk);
    r.set_data(data);
    r.set_explicit_hash_key(ehk);
    absl::StatusOr<v1::PutRecordResponse> response = store_->PutRecord(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::PutRecordResponse();
  }

  absl::StatusOr<std::string> Iterator(const std::string& shard, v1::ShardIteratorType type,
                                       const std::string& seq = "",
                                       std::optional<absl::Time> at = std::nullopt,
                                       const std::string& stream = "s") {
    v1::GetShardIteratorRequest r;
    r.set_stream_name(stream);
    r.set_shard_id(shard);
    r.set_shard_iterator_type(type);
    r.set_starting_sequence_number(seq);
    if (at) r.mutable_timestamp()->set_seconds(absl::ToUnixSeconds(*at));
    return IteratorFor(r);
  }

  // Helper spelled out to keep StatusOr plumbing in one place.
  absl::StatusOr<std::string> IteratorFor(const v1::GetShardIteratorRequest& r) {
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

  // The data of every record of `shard` from TRIM_HORIZON to the visible tip.
  std::vector<std::string> ReadAll(const std::string& shard, const std::string& stream = "s") {
    std::vector<std::string> out;
    absl::StatusOr<std::string> it = Iterator(shard, v1::TRIM_HORIZON, "", std::nullopt, stream);
    EXPECT_TRUE(it.ok()) << it.status();
    std::string iterator = it.ok() ? *it : "";
    for (int i = 0; i < 100 && !iterator.empty(); ++i) {
      absl::StatusOr<v1::GetRecordsResponse> r = Get(iterator);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) break;
      for (const v1::Record& record : r->records()) out.push_back(record.data());
      if (r->records().empty()) break;
      iterator = r->next_shard_iterator();
    }
    return out;
  }

  std::vector<v1::Shard> Shards(const std::string& stream = "s") {
    v1::ListShardsRequest r;
    r.set_stream_name(stream);
    absl::StatusOr<v1::ListShardsResponse> response = store_->ListShards(r);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return {};
    return {response->shards().begin(), response->shards().end()};
  }

  absl::Status Split(const std::string& shard, absl::uint128 key) {
    v1::SplitShardRequest r;
    r.set_stream_name("s");
    r.set_shard_to_split(shard);
    r.set_new_starting_hash_key(FormatHashKey(key));
    return store_->SplitShard(r);
  }

  absl::Status Merge(const std::string& a, const std::string& b) {
    v1::MergeShardsRequest r;
    r.set_stream_name("s");
    r.set_shard_to_merge(a);
    r.set_adjacent_shard_to_merge(b);
    return store_->MergeShards(r);
  }

  FakeClock clock_;
  std::string dir_;
  ShardStoreOptions options_;
  std::unique_ptr<ShardStore> store_;
};

TEST(HashKeyTest, ParsesTheFullRangeAndRejectsEverythingElse) {
  EXPECT_EQ(*ParseHashKey("0", "k"), 0);
  EXPECT_EQ(*ParseHashKey("000123", "k"), 123);
  EXPECT_EQ(*ParseHashKey("340282366920938463463374607431768211455", "k"), kMax);
  EXPECT_EQ(FormatHashKey(kMax), "340282366920938463463374607431768211455");
  EXPECT_EQ(FormatHashKey(0), "0");
  for (const char* bad : {"", "+1", "-1", " 1", "1 ", "1a", "0x10", "1.0",
                          "340282366920938463463374607431768211456",      // 2^128
                          "999999999999999999999999999999999999999",      // 39 digits, too big
                          "0000000000000000000000000000000000000001"}) {  // 40 digits
    absl::StatusOr<absl::uint128> v = ParseHashKey(bad, "explicit_hash_key");
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(v.status().message()), HasSubstr("explicit_hash_key")) << bad;
  }
}

TEST(HashKeyTest, SequenceNumbersParseAsUnsigned64) {
  EXPECT_EQ(*ParseSequenceNumber("18446744073709551615", "s"), UINT64_MAX);
  EXPECT_FALSE(ParseSequenceNumber("18446744073709551616", "s").ok());
  EXPECT_FALSE(ParseSequenceNumber("+5", "s").ok());
  EXPECT_FALSE(ParseSequenceNumber("", "s").ok());
}

// Digests computed independently with `printf %s KEY | md5sum`.
TEST(HashKeyTest, PartitionKeyHashIsMd5ReadBigEndian) {
  EXPECT_EQ(PartitionKeyHash("a"), Hex128("0cc175b9c0f1b6a831c399e269772661"));
  EXPECT_EQ(PartitionKeyHash("hello"), Hex128("5d41402abc4b2a76b9719d911017c592"));
  EXPECT_EQ(PartitionKeyHash("partition-key-1"), Hex128("1919e33a21e68e961f03b16ba66b2376"));
  EXPECT_EQ(PartitionKeyHash("user-42"), Hex128("7631bc07a1cc8fcd56e70fc6b2fb4a43"));
  EXPECT_EQ(PartitionKeyHash("b"), Hex128("92eb5ffee6ae2fec3ad71c777531578f"));
  EXPECT_EQ(PartitionKeyHash("z"), Hex128("fbade9e36a3f36d3d676c1b808451dd7"));
}

TEST_F(ShardStoreTest, CreateDividesTheHashKeySpaceEvenly) {
  CreateStream("s", 4);
  std::vector<v1::Shard> shards = Shards();
  ASSERT_EQ(shards.size(), 4u);
  EXPECT_EQ(shards[0].shard_id(), "shardId-000000000000");
  EXPECT_EQ(shards[3].shard_id(), "shardId-000000000003");
  EXPECT_EQ(shards[0].hash_key_range().starting_hash_key(), "0");
  EXPECT_EQ(shards[3].hash_key_range().ending_hash_key(), FormatHashKey(kMax));
  for (int i = 0; i + 1 < 4; ++i) {
    EXPECT_EQ(*ParseHashKey(shards[i].hash_key_range().ending_hash_key(), "e") + 1,
              *ParseHashKey(shards[i + 1].hash_key_range().starting_hash_key(), "s"));
  }
}

TEST_F(ShardStoreTest, RecordsGoToTheShardHoldingTheMd5OfTheirPartitionKey) {
  CreateStream("s", 4);  // quarters: the top two bits of the MD5 pick the shard
  EXPECT_EQ(Put("a", "x").shard_id(), "shardId-000000000000");      // 0c…
  EXPECT_EQ(Put("hello", "x").shard_id(), "shardId-000000000001");  // 5d…
  EXPECT_EQ(Put("b", "x").shard_id(), "shardId-000000000002");      // 92…
  EXPECT_EQ(Put("z", "x").shard_id(), "shardId-000000000003");      // fb…
}

TEST_F(ShardStoreTest, ExplicitHashKeyOverridesThePartitionKey) {
  CreateStream("s", 4);
  const absl::uint128 quarter = kMax / 4;
  EXPECT_EQ(Put("z", "x", "0").shard_id(), "shardId-000000000000");
  EXPECT_EQ(Put("a", "x", FormatHashKey(2 * quarter)).shard_id(), "shardId-000000000002");
  EXPECT_EQ(Put("a", "x", FormatHashKey(2 * quarter - 1)).shard_id(), "shardId-000000000001");
  EXPECT_EQ(Put("a", "x", FormatHashKey(kMax)).shard_id(), "shardId-000000000003");
}

TEST_F(ShardStoreTest, SequenceNumbersIncreaseAndPutRecordsKeepsCallOrderPerShard) {
  CreateStream("s", 2);
  v1::PutRecordsRequest r;
  r.set_stream_name("s");
  for (int i = 0; i < 20; ++i) {
    v1::PutRecordsRequestEntry* e = r.add_records();
    e->set_partition_key(absl::StrCat("k", i % 5));
    e->set_data(absl::StrCat(i));
  }
  v1::PutRecordsResponse response;
  ASSERT_TRUE(store_->PutRecords(r, &response).ok());
  ASSERT_EQ(response.records_size(), 20);
  EXPECT_EQ(response.failed_record_count(), 0);
  std::map<std::string, std::vector<std::string>> expected;
  std::map<std::string, uint64_t> last;
  for (int i = 0; i < 20; ++i) {
    const auto& e = response.records(i);
    uint64_t seq = *ParseSequenceNumber(e.sequence_number(), "seq");
    EXPECT_GT(seq, last[e.shard_id()]);
    last[e.shard_id()] = seq;
    expected[e.shard_id()].push_back(absl::StrCat(i));
  }
  for (auto& [shard, data] : expected) EXPECT_EQ(ReadAll(shard), data) << shard;
}

TEST_F(ShardStoreTest, EveryIteratorTypeStartsWhereItSays) {
  CreateStream("s", 1);
  const std::string shard = "shardId-000000000000";
  std::vector<std::string> seqs;
  const absl::Time t0 = clock_.Now();
  for (int i = 0; i < 4; ++i) {
    seqs.push_back(Put("k", absl::StrCat("r", i)).sequence_number());
    clock_.Advance(absl::Seconds(10));
  }
  auto data_from = [&](absl::StatusOr<std::string> it) {
    std::vector<std::string> out;
    EXPECT_TRUE(it.ok()) << it.status();
    if (!it.ok()) return out;
    absl::StatusOr<v1::GetRecordsResponse> r = Get(*it);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) {
      for (const auto& record : r->records()) out.push_back(record.data());
    }
    return out;
  };
  EXPECT_THAT(data_from(Iterator(shard, v1::TRIM_HORIZON)), ElementsAre("r0", "r1", "r2", "r3"));
  EXPECT_THAT(data_from(Iterator(shard, v1::AT_SEQUENCE_NUMBER, seqs[1])),
              ElementsAre("r1", "r2", "r3"));
  EXPECT_THAT(data_from(Iterator(shard, v1::AFTER_SEQUENCE_NUMBER, seqs[1])),
              ElementsAre("r2", "r3"));
  EXPECT_THAT(data_from(Iterator(shard, v1::AT_TIMESTAMP, "", t0 + absl::Seconds(20))),
              ElementsAre("r2", "r3"));
  EXPECT_THAT(data_from(Iterator(shard, v1::AT_TIMESTAMP, "", t0 + absl::Hours(1))), ElementsAre());
  absl::StatusOr<std::string> latest = Iterator(shard, v1::LATEST);
  ASSERT_TRUE(latest.ok());
  EXPECT_THAT(data_from(latest), ElementsAre());
  Put("k", "r4");
  EXPECT_THAT(data_from(latest), ElementsAre("r4"));
}

TEST_F(ShardStoreTest, IteratorExpiresAfterFiveMinutes) {
  CreateStream("s", 1);
  absl::StatusOr<std::string> it = Iterator("shardId-000000000000", v1::TRIM_HORIZON);
  ASSERT_TRUE(it.ok());
  clock_.Advance(absl::Minutes(5));
  EXPECT_TRUE(Get(*it).ok());
  clock_.Advance(absl::Seconds(1));
  absl::StatusOr<v1::GetRecordsResponse> r = Get(*it);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("expired"));
}

TEST_F(ShardStoreTest, ForgedAndGarbageIteratorsAreRejectedWithDistinctMessages) {
  CreateStream("s", 1);
  absl::StatusOr<std::string> it = Iterator("shardId-000000000000", v1::TRIM_HORIZON);
  ASSERT_TRUE(it.ok());
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(*it, &raw));
  raw[20] ^= 1;  // move the position
  std::string forged;
  absl::WebSafeBase64Escape(raw, &forged);
  absl::StatusOr<v1::GetRecordsResponse> r = Get(forged);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("forged"));

  r = Get("this is not an iterator!");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("malformed"));
  std::string short_one;
  absl::WebSafeBase64Escape("short", &short_one);
  r = Get(short_one);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("malformed"));
}

TEST_F(ShardStoreTest, IteratorOfAnotherStoreIsForged) {
  CreateStream("s", 1);
  absl::StatusOr<std::string> it = Iterator("shardId-000000000000", v1::TRIM_HORIZON);
  ASSERT_TRUE(it.ok());
  store_.reset();
  dir_ = testing::NewTempDir("other");
  Open();
  CreateStream("s", 1);
  EXPECT_THAT(std::string(Get(*it).status().message()), HasSubstr("forged"));
}

TEST_F(ShardStoreTest, GetRecordsHonoursLimitAndReportsBehind) {
  CreateStream("s", 1);
  for (int i = 0; i < 5; ++i) Put("k", absl::StrCat(i));
  clock_.Advance(absl::Seconds(3));
  absl::StatusOr<std::string> it = Iterator("shardId-000000000000", v1::TRIM_HORIZON);
  absl::StatusOr<v1::GetRecordsResponse> r = Get(*it, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records_size(), 2);
  EXPECT_EQ(r->millis_behind_latest(), 3000);
  r = Get(r->next_shard_iterator(), 2);
  EXPECT_EQ(r->records_size(), 2);
  r = Get(r->next_shard_iterator(), 2);
  EXPECT_EQ(r->records_size(), 1);
  EXPECT_EQ(r->millis_behind_latest(), 0);
  r = Get(r->next_shard_iterator(), 2);
  EXPECT_EQ(r->records_size(), 0);
  EXPECT_FALSE(r->next_shard_iterator().empty());  // open shard: keep reading
}

// A front door authorizes GetRecords by the stream its iterator reads (aws/aws_authz.h).
TEST_F(ShardStoreTest, StreamOfIteratorNamesTheStreamAndRefusesForgedIterators) {
  CreateStream("s", 1);
  CreateStream("other", 1);
  absl::StatusOr<std::string> it = Iterator("shardId-000000000000", v1::TRIM_HORIZON, "",
                                            std::nullopt, "other");
  ASSERT_TRUE(it.ok()) << it.status();
  EXPECT_EQ(*store_->StreamOfIterator(*it), "other");
  std::string forged = *it;
  forged[forged.size() / 2] = forged[forged.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(store_->StreamOfIterator(forged).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->StreamOfIterator("").status().code(), absl::StatusCode::kInvalidArgument);
}

// One call's records of a shard share one storage chunk; reads start and stop
// inside it.
TEST_F(ShardStoreTest, ReadsStartAndStopInsideOneCallsRecords) {
  CreateStream("s", 1);
  v1::PutRecordsRequest r;
  r.set_stream_name("s");
  for (int i = 0; i < 10; ++i) {
    auto* e = r.add_records();
    e->set_partition_key("k");
    e->set_data(absl::StrCat(i));
  }
  v1::PutRecordsResponse response;
  ASSERT_TRUE(store_->PutRecords(r, &response).ok());
  absl::StatusOr<v1::GetRecordsResponse> got =
      Get(*Iterator("shardId-000000000000", v1::AT_SEQUENCE_NUMBER,
                    response.records(4).sequence_number()),
          3);
  ASSERT_TRUE(got.ok()) << got.status();
  std::vector<std::string> data;
  for (const auto& rec : got->records()) data.push_back(rec.data());
  EXPECT_THAT(data, ElementsAre("4", "5", "6"));
  got = Get(got->next_shard_iterator());
  data.clear();
  for (const auto& rec : got->records()) data.push_back(rec.data());
  EXPECT_THAT(data, ElementsAre("7", "8", "9"));
  EXPECT_EQ(got->records(2).sequence_number(), response.records(9).sequence_number());
}

TEST_F(ShardStoreTest, GetRecordsStopsAtTenMebibytes) {
  CreateStream("s", 1);
  const std::string data((1 << 20) - 1, 'x');  // with the 1-byte key: exactly 1 MiB
  for (int call = 0; call < 3; ++call) {
    v1::PutRecordsRequest r;
    r.set_stream_name("s");
    for (int i = 0; i < 4; ++i) {
      v1::PutRecordsRequestEntry* e = r.add_records();
      e->set_partition_key("k");
      e->set_data(data);
    }
    v1::PutRecordsResponse response;
    ASSERT_TRUE(store_->PutRecords(r, &response).ok());
  }
  absl::StatusOr<v1::GetRecordsResponse> r =
      Get(*Iterator("shardId-000000000000", v1::TRIM_HORIZON));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records_size(), 10);
  r = Get(r->next_shard_iterator());
  EXPECT_EQ(r->records_size(), 2);
}

TEST_F(ShardStoreTest, WriteLimitThrottlesPerRecordAndRefills) {
  options_.shard_write_records_per_second = 3;
  Reopen();
  CreateStream("s", 1);
  clock_.Advance(absl::Seconds(1));  // fill the bucket
  v1::PutRecordsRequest r;
  r.set_stream_name("s");
  for (int i = 0; i < 5; ++i) {
    auto* e = r.add_records();
    e->set_partition_key("k");
    e->set_data("d");
  }
  v1::PutRecordsResponse response;
  ASSERT_TRUE(store_->PutRecords(r, &response).ok());
  EXPECT_EQ(response.failed_record_count(), 2);
  EXPECT_FALSE(response.records(2).sequence_number().empty());
  EXPECT_EQ(response.records(3).error_code(), kThroughputExceeded);
  EXPECT_EQ(response.records(4).error_code(), kThroughputExceeded);
  EXPECT_TRUE(response.records(4).sequence_number().empty());

  v1::PutRecordRequest one;
  one.set_stream_name("s");
  one.set_partition_key("k");
  one.set_data("d");
  EXPECT_EQ(store_->PutRecord(one).status().code(), absl::StatusCode::kResourceExhausted);
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(store_->PutRecord(one).ok());
  EXPECT_EQ(ReadAll("shardId-000000000000").size(), 4u);
}

TEST_F(ShardStoreTest, WallStepBackDoesNotDrainTheWriteLimit) {
  options_.shard_write_records_per_second = 3;
  Reopen();
  CreateStream("s", 1);
  v1::PutRecordRequest one;
  one.set_stream_name("s");
  one.set_partition_key("k");
  one.set_data("d");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->PutRecord(one).ok());
  clock_.Advance(absl::Seconds(1));  // a second's worth of tokens
  // Refilling measured on the wall clock took an hour's worth away (and throttled the shard
  // for an hour).
  clock_.StepWallClock(-absl::Hours(1));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(store_->PutRecord(one).ok()) << "put " << i;
  EXPECT_EQ(store_->PutRecord(one).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(ShardStoreTest, ByteLimitThrottles) {
  options_.shard_write_bytes_per_second = 100;
  Reopen();
  CreateStream("s", 1);
  clock_.Advance(absl::Seconds(1));
  v1::PutRecordRequest one;
  one.set_stream_name("s");
  one.set_partition_key("k");
  one.set_data(std::string(80, 'x'));
  EXPECT_TRUE(store_->PutRecord(one).ok());
  absl::StatusOr<v1::PutRecordResponse> r = store_->PutRecord(one);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("bytes"));
}

// --kinesis_shard_limits: Kinesis's numbers, per shard. Writes past 1,000 records/s are
// throttled per record (the call's other records are stored); the sixth GetRecords call of a
// second is throttled, reads nothing, and the next second admits calls again.
TEST_F(ShardStoreTest, KinesisShardLimitsThrottleWritesPerRecordAndGetRecordsPerCall) {
  SetKinesisShardLimits(options_);
  Reopen();
  CreateStream("s", 1);
  v1::PutRecordsRequest r;
  r.set_stream_name("s");
  for (int i = 0; i < 500; ++i) {
    auto* e = r.add_records();
    e->set_partition_key("k");
    e->set_data("d");
  }
  v1::PutRecordsResponse response;
  ASSERT_TRUE(store_->PutRecords(r, &response).ok());
  ASSERT_TRUE(store_->PutRecords(r, &response).ok());
  EXPECT_EQ(response.failed_record_count(), 0) << "1,000 records in a second are allowed";
  ASSERT_TRUE(store_->PutRecords(r, &response).ok());
  EXPECT_EQ(response.failed_record_count(), 500);
  EXPECT_EQ(response.records(0).error_code(), kThroughputExceeded);

  absl::StatusOr<std::string> it = Iterator("shardId-000000000000", v1::TRIM_HORIZON);
  ASSERT_TRUE(it.ok()) << it.status();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Get(*it, 1).ok()) << "call " << i;
  absl::StatusOr<v1::GetRecordsResponse> sixth = Get(*it, 1);
  EXPECT_EQ(sixth.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(sixth.status().message()),
              HasSubstr("ProvisionedThroughputExceededException"));
  clock_.Advance(absl::Seconds(1));
  absl::StatusOr<v1::GetRecordsResponse> later = Get(*it, 1);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->records_size(), 1);
}

// Kinesis limits per stream (NOTES.md): on a server without --kinesis_shard_limits, a
// PROVISIONED stream is under Kinesis's per-shard limits and an ON_DEMAND one beside it is not;
// UpdateStreamMode switches a stream both ways, and the mode survives a restart.
class StreamModeTest : public ShardStoreTest {
 protected:
  void CreateWithMode(const std::string& name, v1::StreamMode mode) {
    v1::CreateStreamRequest r;
    r.set_stream_name(name);
    r.set_shard_count(1);
    r.mutable_stream_mode_details()->set_stream_mode(mode);
    ASSERT_TRUE(store_->CreateStream(r).ok());
  }
  // Failed records of two PutRecords calls of 500 one-byte records each (1,000 records: one
  // second's worth for a provisioned shard) and a third.
  int FailedOfThreeCalls(const std::string& name) {
    v1::PutRecordsRequest r;
    r.set_stream_name(name);
    for (int i = 0; i < 500; ++i) {
      auto* e = r.add_records();
      e->set_partition_key("k");
      e->set_data("d");
    }
    int failed = 0;
    for (int call = 0; call < 3; ++call) {
      v1::PutRecordsResponse response;
      EXPECT_TRUE(store_->PutRecords(r, &response).ok());
      failed += response.failed_record_count();
      for (const v1::PutRecordsResultEntry& e : response.records()) {
        if (!e.error_code().empty()) {
          EXPECT_EQ(e.error_code(), kThroughputExceeded);
        }
      }
    }
    return failed;
  }
  // How many of 8 GetRecords calls at one instant are throttled (RESOURCE_EXHAUSTED).
  int ThrottledOfEightGets(const std::string& name) {
    absl::StatusOr<std::string> it =
        Iterator("shardId-000000000000", v1::TRIM_HORIZON, "", std::nullopt, name);
    EXPECT_TRUE(it.ok()) << it.status();
    int throttled = 0;
    for (int i = 0; i < 8; ++i) {
      absl::StatusOr<v1::GetRecordsResponse> r = Get(*it, 1);
      if (r.status().code() == absl::StatusCode::kResourceExhausted) {
        EXPECT_THAT(std::string(r.status().message()),
                    HasSubstr("ProvisionedThroughputExceededException"));
        ++throttled;
      } else {
        EXPECT_TRUE(r.ok()) << r.status();
      }
    }
    return throttled;
  }
  v1::StreamMode Reported(const std::string& name) {
    v1::DescribeStreamSummaryRequest r;
    r.set_stream_name(name);
    absl::StatusOr<v1::DescribeStreamSummaryResponse> d = store_->DescribeStreamSummary(r);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? d->stream_description_summary().stream_mode_details().stream_mode()
                  : v1::STREAM_MODE_UNSPECIFIED;
  }
  absl::Status Update(const std::string& name, v1::StreamMode mode) {
    v1::UpdateStreamModeRequest r;
    r.set_stream_name(name);
    r.mutable_stream_mode_details()->set_stream_mode(mode);
    return store_->UpdateStreamMode(r);
  }
};

TEST_F(StreamModeTest, AProvisionedStreamIsThrottledAndAnOnDemandOneBesideItIsNot) {
  CreateWithMode("prov", v1::PROVISIONED);
  CreateWithMode("od", v1::ON_DEMAND);
  CreateStream("s", 1);  // no mode, no server limits: nothing applies
  EXPECT_EQ(FailedOfThreeCalls("prov"), 500);
  EXPECT_EQ(FailedOfThreeCalls("od"), 0);
  EXPECT_EQ(FailedOfThreeCalls("s"), 0);
  EXPECT_EQ(ThrottledOfEightGets("prov"), 3) << "5 GetRecords calls a second";
  EXPECT_EQ(ThrottledOfEightGets("od"), 0);
  EXPECT_EQ(ThrottledOfEightGets("s"), 0);
  EXPECT_EQ(Reported("prov"), v1::PROVISIONED);
  EXPECT_EQ(Reported("od"), v1::ON_DEMAND);
  EXPECT_EQ(Reported("s"), v1::ON_DEMAND) << "no limits in force";
  v1::ListStreamsRequest list;
  absl::StatusOr<v1::ListStreamsResponse> listed = store_->ListStreams(list);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->stream_summaries_size(), 3);
  EXPECT_EQ(listed->stream_summaries(1).stream_name(), "prov");
  EXPECT_EQ(listed->stream_summaries(1).stream_mode_details().stream_mode(), v1::PROVISIONED);
}

TEST_F(StreamModeTest, UpdateStreamModeSwitchesTheLimitsAndSurvivesARestart) {
  CreateWithMode("m", v1::ON_DEMAND);
  EXPECT_EQ(FailedOfThreeCalls("m"), 0);
  ASSERT_TRUE(Update("m", v1::PROVISIONED).ok());
  EXPECT_EQ(Reported("m"), v1::PROVISIONED);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(FailedOfThreeCalls("m"), 500);
  EXPECT_EQ(ThrottledOfEightGets("m"), 3);
  Reopen();
  EXPECT_EQ(Reported("m"), v1::PROVISIONED);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(FailedOfThreeCalls("m"), 500) << "the mode was not kept in the metadata";
  ASSERT_TRUE(Update("m", v1::ON_DEMAND).ok());
  ASSERT_TRUE(Update("m", v1::ON_DEMAND).ok()) << "idempotent";
  EXPECT_EQ(FailedOfThreeCalls("m"), 0);
  EXPECT_EQ(ThrottledOfEightGets("m"), 0);
  EXPECT_EQ(Reported("m"), v1::ON_DEMAND);
}

TEST_F(StreamModeTest, UpdateStreamModeRefusesNoModeAndAMissingStream) {
  CreateStream("s", 1);
  EXPECT_EQ(Update("s", v1::STREAM_MODE_UNSPECIFIED).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Update("nope", v1::PROVISIONED).code(), absl::StatusCode::kNotFound);
  v1::CreateStreamRequest bad;
  bad.set_stream_name("bad");
  bad.set_shard_count(1);
  bad.mutable_stream_mode_details()->set_stream_mode(static_cast<v1::StreamMode>(7));
  EXPECT_EQ(store_->CreateStream(bad).code(), absl::StatusCode::kInvalidArgument);
}

// With --kinesis_shard_limits, a stream created without a mode is PROVISIONED (the server's
// limits) and an ON_DEMAND one is free of them.
TEST_F(StreamModeTest, OnAServerWithLimitsOnDemandStreamsAreFree) {
  SetKinesisShardLimits(options_);
  Reopen();
  CreateStream("s", 1);
  CreateWithMode("od", v1::ON_DEMAND);
  EXPECT_EQ(Reported("s"), v1::PROVISIONED);
  EXPECT_EQ(FailedOfThreeCalls("s"), 500);
  EXPECT_EQ(FailedOfThreeCalls("od"), 0);
  EXPECT_EQ(ThrottledOfEightGets("od"), 0);
  ASSERT_TRUE(Update("s", v1::ON_DEMAND).ok());
  EXPECT_EQ(ThrottledOfEightGets("s"), 0);
}

TEST_F(ShardStoreTest, ReadLimitsAreOffByDefault) {
  CreateStream("s", 1);
  Put("k", "d");
  absl::StatusOr<std::string> it = Iterator("shardId-000000000000", v1::TRIM_HORIZON);
  ASSERT_TRUE(it.ok()) << it.status();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Get(*it).ok()) << "call " << i;
}

TEST_F(ShardStoreTest, SplitClosesTheParentAndChildrenTakeLaterWrites) {
  CreateStream("s", 1);
  Put("k", "before");
  const absl::uint128 half = absl::uint128(1) << 127;
  ASSERT_TRUE(Split("shardId-000000000000", half).ok());
  std::vector<v1::Shard> shards = Shards();
  ASSERT_EQ(shards.size(), 3u);
  EXPECT_FALSE(shards[0].sequence_number_range().ending_sequence_number().empty());
  EXPECT_EQ(shards[1].parent_shard_id(), "shardId-000000000000");
  EXPECT_EQ(shards[1].hash_key_range().ending_hash_key(), FormatHashKey(half - 1));
  EXPECT_EQ(shards[2].hash_key_range().starting_hash_key(), FormatHashKey(half));
  EXPECT_EQ(shards[2].parent_shard_id(), "shardId-000000000000");
  EXPECT_EQ(Put("k", "low", "0").shard_id(), "shardId-000000000001");
  EXPECT_EQ(Put("k", "mid", FormatHashKey(half)).shard_id(), "shardId-000000000002");

  // The parent reads to SHARD_END, then names its children.
  absl::StatusOr<v1::GetRecordsResponse> r =
      Get(*Iterator("shardId-000000000000", v1::TRIM_HORIZON));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->records_size(), 1);
  EXPECT_EQ(r->records(0).data(), "before");
  EXPECT_TRUE(r->next_shard_iterator().empty());
  ASSERT_EQ(r->child_shards_size(), 2);
  EXPECT_EQ(r->child_shards(0).shard_id(), "shardId-000000000001");
  EXPECT_THAT(r->child_shards(0).parent_shards(), ElementsAre("shardId-000000000000"));
  EXPECT_THAT(ReadAll("shardId-000000000001"), ElementsAre("low"));
  EXPECT_THAT(ReadAll("shardId-000000000002"), ElementsAre("mid"));

  EXPECT_EQ(Split("shardId-000000000000", half).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Split("shardId-000000000001", 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Split("shardId-000000000001", half).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Split("shardId-000000000001", half - 1).ok());  // K = end is inside
}

TEST_F(ShardStoreTest, MergeJoinsAdjacentShardsWithLineage) {
  CreateStream("s", 3);
  Put("k", "zero", "0");
  EXPECT_EQ(Merge("shardId-000000000000", "shardId-000000000002").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Merge("shardId-000000000000", "shardId-000000000000").code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(Merge("shardId-000000000001", "shardId-000000000000").ok());
  std::vector<v1::Shard> shards = Shards();
  ASSERT_EQ(shards.size(), 4u);
  EXPECT_EQ(shards[3].parent_shard_id(), "shardId-000000000001");
  EXPECT_EQ(shards[3].adjacent_parent_shard_id(), "shardId-000000000000");
  EXPECT_EQ(shards[3].hash_key_range().starting_hash_key(), "0");
  EXPECT_EQ(shards[3].hash_key_range().ending_hash_key(),
            shards[1].hash_key_range().ending_hash_key());
  EXPECT_EQ(Put("k", "merged", "0").shard_id(), "shardId-000000000003");
  absl::StatusOr<v1::GetRecordsResponse> r =
      Get(*Iterator("shardId-000000000000", v1::TRIM_HORIZON));
  EXPECT_THAT(r->records(), ::testing::SizeIs(1));
  ASSERT_EQ(r->child_shards_size(), 1);
  EXPECT_THAT(r->child_shards(0).parent_shards(),
              ElementsAre("shardId-000000000001", "shardId-000000000000"));
  EXPECT_EQ(Merge("shardId-000000000003", "shardId-000000000002").code(), absl::StatusCode::kOk);
  EXPECT_EQ(Merge("shardId-000000000000", "shardId-000000000001").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ShardStoreTest, SealStreamClosesEveryShardWithoutChildrenAndRefusesLaterPuts) {
  CreateStream("s", 2);
  Put("k", "before", "0");
  ASSERT_OK(store_->SealStream("s"));
  std::vector<v1::Shard> shards = Shards();
  ASSERT_EQ(shards.size(), 2u);
  for (const v1::Shard& shard : shards) {
    EXPECT_FALSE(shard.sequence_number_range().ending_sequence_number().empty()) << shard.shard_id();
  }
  absl::StatusOr<v1::GetRecordsResponse> r =
      Get(*Iterator("shardId-000000000000", v1::TRIM_HORIZON));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->records(), ::testing::SizeIs(1));
  EXPECT_TRUE(r->next_shard_iterator().empty());  // SHARD_END
  EXPECT_EQ(r->child_shards_size(), 0);
  v1::PutRecordRequest put;
  put.set_stream_name("s");
  put.set_partition_key("k");
  put.set_data("after");
  EXPECT_THAT(store_->PutRecord(put).status().message(), HasSubstr("sealed"));
  EXPECT_OK(store_->SealStream("s"));  // idempotent
  EXPECT_EQ(Split("shardId-000000000000", 1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->SealStream("missing").code(), absl::StatusCode::kNotFound);

  Reopen();  // sealed for good
  for (const v1::Shard& shard : Shards()) {
    EXPECT_FALSE(shard.sequence_number_range().ending_sequence_number().empty()) << shard.shard_id();
  }
  EXPECT_FALSE(store_->PutRecord(put).ok());
}

// Rollover: each due shard splits into one child with its range; readers walk the lineage.
TEST_F(ShardStoreTest, RollOverShardsGivesEachDueShardOneChildWithItsRange) {
  CreateStream("s", 2);
  Put("k", "gen0", "0");
  const absl::Time created = clock_.Now();
  clock_.Advance(absl::Hours(1));
  std::vector<ShardStore::OpenShardInfo> seen;
  auto only_first = [&](const ShardStore::OpenShardInfo& info) {
    seen.push_back(info);
    return info.starting_hash_key == 0;
  };
  absl::StatusOr<std::vector<std::string>> rolled = store_->RollOverShards("s", only_first);
  ASSERT_TRUE(rolled.ok()) << rolled.status();
  EXPECT_THAT(*rolled, ElementsAre("shardId-000000000000"));
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[0].created, absl::FromUnixMillis(absl::ToUnixMillis(created)));
  EXPECT_FALSE(seen[0].has_parent);
  Put("k", "gen1", "0");
  seen.clear();
  rolled = store_->RollOverShards("s", only_first);  // the child now holds hash key 0
  ASSERT_TRUE(rolled.ok()) << rolled.status();
  EXPECT_THAT(*rolled, ElementsAre("shardId-000000000002"));
  ASSERT_EQ(seen.size(), 2u);  // open shards by starting hash key: the child, then shard 1
  EXPECT_EQ(seen[0].shard_id, "shardId-000000000002");
  EXPECT_TRUE(seen[0].has_parent);
  EXPECT_EQ(seen[0].created, absl::FromUnixMillis(absl::ToUnixMillis(created + absl::Hours(1))));
  EXPECT_EQ(seen[1].shard_id, "shardId-000000000001");
  EXPECT_FALSE(seen[1].has_parent);
  Put("k", "gen2", "0");
  // Nothing due: nothing written, the stream is not UPDATING after.
  rolled = store_->RollOverShards("s", [](const ShardStore::OpenShardInfo&) { return false; });
  ASSERT_TRUE(rolled.ok());
  EXPECT_TRUE(rolled->empty());

  std::vector<v1::Shard> shards = Shards();
  ASSERT_EQ(shards.size(), 4u);
  EXPECT_EQ(shards[2].shard_id(), "shardId-000000000002");
  EXPECT_EQ(shards[2].parent_shard_id(), "shardId-000000000000");
  EXPECT_EQ(shards[3].parent_shard_id(), "shardId-000000000002");
  EXPECT_TRUE(shards[3].adjacent_parent_shard_id().empty());
  EXPECT_EQ(shards[3].hash_key_range().starting_hash_key(),
            shards[0].hash_key_range().starting_hash_key());
  EXPECT_EQ(shards[3].hash_key_range().ending_hash_key(),
            shards[0].hash_key_range().ending_hash_key());
  EXPECT_TRUE(shards[1].sequence_number_range().ending_sequence_number().empty());  // not due
  // Each generation reads to SHARD_END and names its one child.
  for (const auto& [shard, data, child] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"shardId-000000000000", "gen0", "shardId-000000000002"},
           {"shardId-000000000002", "gen1", "shardId-000000000003"}}) {
    absl::StatusOr<v1::GetRecordsResponse> r = Get(*Iterator(shard, v1::TRIM_HORIZON));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->records_size(), 1) << shard;
    EXPECT_EQ(r->records(0).data(), data);
    EXPECT_TRUE(r->next_shard_iterator().empty());
    ASSERT_EQ(r->child_shards_size(), 1);
    EXPECT_EQ(r->child_shards(0).shard_id(), child);
    EXPECT_THAT(r->child_shards(0).parent_shards(), ElementsAre(shard));
  }
  EXPECT_THAT(ReadAll("shardId-000000000003"), ElementsAre("gen2"));
  Reopen();  // the lineage and the children's creation time are durable
  seen.clear();
  ASSERT_TRUE(store_->RollOverShards("s", [&](const ShardStore::OpenShardInfo& info) {
                       seen.push_back(info);
                       return false;
                     }).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].shard_id, "shardId-000000000003");
  EXPECT_TRUE(seen[0].has_parent);
  EXPECT_EQ(seen[0].created, absl::FromUnixMillis(absl::ToUnixMillis(created + absl::Hours(1))));
  EXPECT_EQ(Shards().size(), 4u);
  EXPECT_EQ(store_->RollOverShards("missing", only_first).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ShardStoreTest, UpdateShardCountScalesUpAndDownWithLineage) {
  CreateStream("s", 2);
  v1::UpdateShardCountRequest r;
  r.set_stream_name("s");
  r.set_scaling_type(v1::UNIFORM_SCALING);
  r.set_target_shard_count(5);
  EXPECT_EQ(store_->UpdateShardCount(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.set_target_shard_count(4);
  absl::StatusOr<v1::UpdateShardCountResponse> response = store_->UpdateShardCount(r);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->current_shard_count(), 2);
  v1::ListShardsRequest open;
  open.set_stream_name("s");
  open.mutable_shard_filter()->set_type(v1::AT_LATEST);
  absl::StatusOr<v1::ListShardsResponse> latest = store_->ListShards(open);
  ASSERT_EQ(latest->shards_size(), 4);
  for (const auto& s : latest->shards()) EXPECT_FALSE(s.parent_shard_id().empty());
  const std::string child = Put("b", "after-up").shard_id();
  r.set_target_shard_count(2);
  ASSERT_TRUE(store_->UpdateShardCount(r).ok());
  latest = store_->ListShards(open);
  ASSERT_EQ(latest->shards_size(), 2);
  EXPECT_FALSE(latest->shards(0).adjacent_parent_shard_id().empty());
  EXPECT_EQ(latest->shards(0).hash_key_range().starting_hash_key(), "0");
  EXPECT_EQ(latest->shards(1).hash_key_range().ending_hash_key(), FormatHashKey(kMax));
  // Reads across the lineage: the scaled-up child ends and names its merged child.
  absl::StatusOr<v1::GetRecordsResponse> g = Get(*Iterator(child, v1::TRIM_HORIZON));
  ASSERT_TRUE(g.ok());
  EXPECT_THAT(g->records(), ::testing::SizeIs(1));
  EXPECT_EQ(g->child_shards_size(), 1);
  EXPECT_TRUE(g->next_shard_iterator().empty());
  r.set_scaling_type(v1::SCALING_TYPE_UNSPECIFIED);
  EXPECT_EQ(store_->UpdateShardCount(r).status().code(), absl::StatusCode::kInvalidArgument);
}

// Two threads reshard one stream at once: each call either succeeds or finds
// the stream UPDATING (FAILED_PRECONDITION), never anything else, and the open
// shards always tile the key space afterwards.
TEST_F(ShardStoreTest, ConcurrentReshardsSucceedOrSeeUpdating) {
  CreateStream("s", 2);
  std::atomic<int> ok{0}, updating{0};
  auto flip = [&](int a, int b) {
    for (int i = 0; i < 20; ++i) {
      v1::UpdateShardCountRequest r;
      r.set_stream_name("s");
      r.set_scaling_type(v1::UNIFORM_SCALING);
      r.set_target_shard_count(i % 2 ? a : b);
      absl::Status s = store_->UpdateShardCount(r).status();
      if (s.ok()) {
        ok.fetch_add(1);
      } else if (s.code() == absl::StatusCode::kFailedPrecondition) {
        EXPECT_THAT(std::string(s.message()), HasSubstr("UPDATING"));
        updating.fetch_add(1);
      } else if (s.code() != absl::StatusCode::kInvalidArgument) {  // target vs a moved count
        ADD_FAILURE() << s;
      }
    }
  };
  std::thread t1(flip, 2, 3), t2(flip, 3, 2);
  t1.join();
  t2.join();
  EXPECT_GT(ok.load(), 0);
  v1::ListShardsRequest r;
  r.set_stream_name("s");
  r.mutable_shard_filter()->set_type(v1::AT_LATEST);
  absl::StatusOr<v1::ListShardsResponse> open = store_->ListShards(r);
  ASSERT_TRUE(open.ok());
  std::vector<std::pair<absl::uint128, absl::uint128>> ranges;
  for (const auto& shard : open->shards()) {
    ranges.emplace_back(*ParseHashKey(shard.hash_key_range().starting_hash_key(), "s"),
                        *ParseHashKey(shard.hash_key_range().ending_hash_key(), "e"));
  }
  std::sort(ranges.begin(), ranges.end());
  absl::uint128 next = 0;
  for (const auto& [start, end] : ranges) {
    EXPECT_EQ(start, next);
    next = end + 1;
  }
  EXPECT_EQ(next, 0);  // wrapped past 2^128-1: the last shard ends at the top
}

// A reshard holds the stream UPDATING until it is complete; another reshard
// meanwhile is FAILED_PRECONDITION. The window is held open by blocking the
// parent's watch callback (called while the stream is still UPDATING) — a
// test-only breach of the callback's "never block" contract.
TEST_F(ShardStoreTest, ReshardWhileUpdatingIsFailedPrecondition) {
  CreateStream("s", 2);
  v1::StartingPosition latest;
  latest.set_type(v1::LATEST);
  ShardCursor cursor = *store_->ResolveStartingPosition("s", "shardId-000000000000", latest);
  absl::Notification in_callback, release;
  std::atomic<bool> first{true};
  absl::StatusOr<std::unique_ptr<ShardWatch>> watch = store_->WatchShard(cursor, [&] {
    if (!first.exchange(false)) return;
    in_callback.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(30));
  });
  ASSERT_TRUE(watch.ok());
  absl::Status split;
  std::thread splitter([&] { split = Split("shardId-000000000000", 5); });
  ASSERT_TRUE(in_callback.WaitForNotificationWithTimeout(absl::Seconds(30)));
  absl::Status second = Split("shardId-000000000001", kMax);
  EXPECT_EQ(second.code(), absl::StatusCode::kFailedPrecondition) << second;
  EXPECT_THAT(std::string(second.message()), HasSubstr("UPDATING"));
  v1::DescribeStreamSummaryRequest d;
  d.set_stream_name("s");
  EXPECT_EQ(store_->DescribeStreamSummary(d)->stream_description_summary().stream_status(),
            v1::UPDATING);
  v1::DeleteStreamRequest del;
  del.set_stream_name("s");
  EXPECT_EQ(store_->DeleteStream(del).code(), absl::StatusCode::kFailedPrecondition);
  release.Notify();
  splitter.join();
  EXPECT_TRUE(split.ok()) << split;
  EXPECT_EQ(store_->DescribeStreamSummary(d)->stream_description_summary().stream_status(),
            v1::ACTIVE);
  EXPECT_TRUE(Split("shardId-000000000001", kMax).ok());
}

TEST_F(ShardStoreTest, RetentionTrimsExpiredRecordsAndTrimHorizonFollows) {
  CreateStream("s", 1);
  Put("k", "old");
  clock_.Advance(absl::Hours(12));
  Put("k", "new");
  clock_.Advance(absl::Hours(13));
  RetentionTrimmer trimmer(*store_, clock_);
  ASSERT_TRUE(trimmer.RunOnce().ok());
  EXPECT_THAT(ReadAll("shardId-000000000000"), ElementsAre("new"));
  absl::StatusOr<std::string> it = Iterator("shardId-000000000000", v1::AT_SEQUENCE_NUMBER, "1");
  EXPECT_EQ(Get(*it)->records(0).data(), "new");
}

TEST_F(ShardStoreTest, SequenceNumbersContinueAfterEveryRecordWasTrimmedAndReopen) {
  CreateStream("s", 1);
  uint64_t last = 0;
  for (int i = 0; i < 5; ++i) last = *ParseSequenceNumber(Put("k", "x").sequence_number(), "s");
  clock_.Advance(absl::Hours(25));
  RetentionTrimmer trimmer(*store_, clock_);
  ASSERT_TRUE(trimmer.RunOnce().ok());
  EXPECT_TRUE(ReadAll("shardId-000000000000").empty());
  Reopen();
  EXPECT_GT(*ParseSequenceNumber(Put("k", "y").sequence_number(), "s"), last);
}

TEST_F(ShardStoreTest, ClosedShardWhoseRecordsExpiredLeavesListShards) {
  CreateStream("s", 1);
  Put("k", "old");
  std::vector<std::string> changes;
  store_->SetChangeListener([&](const std::string& name) { changes.push_back(name); });
  ASSERT_TRUE(Split("shardId-000000000000", 10).ok());
  EXPECT_EQ(changes.size(), 1u);
  EXPECT_EQ(Shards().size(), 3u);
  clock_.Advance(absl::Hours(25));
  ASSERT_TRUE(store_->TrimExpiredRecords().ok());
  std::vector<v1::Shard> shards = Shards();
  ASSERT_EQ(shards.size(), 2u);
  EXPECT_EQ(shards[0].shard_id(), "shardId-000000000001");
  EXPECT_EQ(changes.size(), 2u);
  Reopen();
  EXPECT_EQ(Shards().size(), 2u);
}

// Issue 14, item 11: as in Kinesis, a closed shard stays listed and readable (empty, with its
// child shards) until the retention period after it closed has passed. Before, a closed shard
// with no records left ListShards at the next trimmer pass (a minute after the split) and
// GetRecords on it said NOT_FOUND.
TEST_F(ShardStoreTest, AClosedShardWithNoRecordsStaysListedAndReadableUntilRetentionAfterItClosed) {
  CreateStream("s", 1);
  ASSERT_TRUE(Split("shardId-000000000000", 10).ok());
  absl::StatusOr<std::string> before = Iterator("shardId-000000000000", v1::TRIM_HORIZON);
  ASSERT_TRUE(before.ok()) << before.status();
  clock_.Advance(absl::Minutes(1));
  RetentionTrimmer trimmer(*store_, clock_);
  ASSERT_TRUE(trimmer.RunOnce().ok());

  std::vector<v1::Shard> shards = Shards();
  ASSERT_EQ(shards.size(), 3u);
  EXPECT_EQ(shards[0].shard_id(), "shardId-000000000000");
  EXPECT_EQ(shards[0].sequence_number_range().ending_sequence_number(), "1");
  for (const absl::StatusOr<std::string>& it :
       {before, Iterator("shardId-000000000000", v1::TRIM_HORIZON),
        Iterator("shardId-000000000000", v1::LATEST),
        Iterator("shardId-000000000000", v1::AT_SEQUENCE_NUMBER, "1")}) {
    ASSERT_TRUE(it.ok()) << it.status();
    absl::StatusOr<v1::GetRecordsResponse> read = Get(*it);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_TRUE(read->records().empty());
    EXPECT_TRUE(read->next_shard_iterator().empty()) << "at SHARD_END";
    ASSERT_EQ(read->child_shards_size(), 2);
    EXPECT_EQ(read->child_shards(0).shard_id(), "shardId-000000000001");
    EXPECT_EQ(read->child_shards(1).shard_id(), "shardId-000000000002");
  }

  clock_.Advance(absl::Hours(24) - absl::Minutes(1));  // exactly the retention period after
  ASSERT_TRUE(trimmer.RunOnce().ok());
  EXPECT_EQ(Shards().size(), 3u);
  Reopen();
  EXPECT_EQ(Shards().size(), 3u);
  clock_.Advance(absl::Milliseconds(1));
  RetentionTrimmer after_reopen(*store_, clock_);
  ASSERT_TRUE(after_reopen.RunOnce().ok());
  shards = Shards();
  ASSERT_EQ(shards.size(), 2u);
  EXPECT_EQ(shards[0].shard_id(), "shardId-000000000001");
  EXPECT_EQ(Iterator("shardId-000000000000", v1::TRIM_HORIZON).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ShardStoreTest, AClosedShardWhoseRecordsExpiredStaysListedUntilRetentionAfterItClosed) {
  CreateStream("s", 1);
  Put("k", "old");
  clock_.Advance(absl::Hours(10));
  ASSERT_TRUE(Split("shardId-000000000000", 10).ok());
  clock_.Advance(absl::Hours(15));  // the record expired 1 h ago; the shard closed 15 h ago
  RetentionTrimmer trimmer(*store_, clock_);
  ASSERT_TRUE(trimmer.RunOnce().ok());
  ASSERT_EQ(Shards().size(), 3u);
  absl::StatusOr<std::string> it = Iterator("shardId-000000000000", v1::TRIM_HORIZON);
  ASSERT_TRUE(it.ok()) << it.status();
  absl::StatusOr<v1::GetRecordsResponse> read = Get(*it);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->records().empty()) << "the expired record was trimmed";
  EXPECT_EQ(read->child_shards_size(), 2);
  clock_.Advance(absl::Hours(9) + absl::Milliseconds(1));
  ASSERT_TRUE(trimmer.RunOnce().ok());
  EXPECT_EQ(Shards().size(), 2u);
}

TEST_F(ShardStoreTest, ChangeListenerHearsEveryShardSetChange) {
  std::vector<std::string> changes;
  store_->SetChangeListener([&](const std::string& name) { changes.push_back(name); });
  CreateStream("s", 2);
  ASSERT_TRUE(Merge("shardId-000000000000", "shardId-000000000001").ok());
  ASSERT_TRUE(Split("shardId-000000000002", 5).ok());
  v1::UpdateShardCountRequest u;
  u.set_stream_name("s");
  u.set_scaling_type(v1::UNIFORM_SCALING);
  u.set_target_shard_count(1);
  ASSERT_TRUE(store_->UpdateShardCount(u).ok());
  Put("k", "x");  // a put changes no shard set
  v1::DeleteStreamRequest d;
  d.set_stream_name("s");
  ASSERT_TRUE(store_->DeleteStream(d).ok());
  EXPECT_EQ(changes, std::vector<std::string>(5, "s"));
}

TEST_F(ShardStoreTest, DeleteRemovesEverythingAndANewStreamOfTheSameNameStartsEmpty) {
  CreateStream("s", 1);
  Put("k", "x");
  v1::DeleteStreamRequest d;
  d.set_stream_name("s");
  ASSERT_TRUE(store_->DeleteStream(d).ok());
  EXPECT_EQ(store_->DeleteStream(d).code(), absl::StatusCode::kNotFound);
  v1::DescribeStreamSummaryRequest desc;
  desc.set_stream_name("s");
  EXPECT_EQ(store_->DescribeStreamSummary(desc).status().code(), absl::StatusCode::kNotFound);
  CreateStream("s", 1);
  EXPECT_TRUE(ReadAll("shardId-000000000000").empty());
  Reopen();
  EXPECT_TRUE(ReadAll("shardId-000000000000").empty());
}

TEST_F(ShardStoreTest, IteratorOfADeletedStreamIsNotFound) {
  CreateStream("s", 1);
  absl::StatusOr<std::string> it = Iterator("shardId-000000000000", v1::TRIM_HORIZON);
  v1::DeleteStreamRequest d;
  d.set_stream_name("s");
  ASSERT_TRUE(store_->DeleteStream(d).ok());
  EXPECT_EQ(Get(*it).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ShardStoreTest, ListShardsPagesWithTokens) {
  CreateStream("s", 5);
  v1::ListShardsRequest r;
  r.set_stream_name("s");
  r.set_max_results(2);
  std::vector<std::string> ids;
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<v1::ListShardsResponse> response = store_->ListShards(r);
    ASSERT_TRUE(response.ok()) << response.status();
    for (const auto& s : response->shards()) ids.push_back(s.shard_id());
    if (response->next_token().empty()) break;
    r.Clear();
    r.set_next_token(response->next_token());
    r.set_max_results(2);
  }
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(ids[4], "shardId-000000000004");

  r.Clear();
  r.set_stream_name("s");
  r.set_max_results(2);
  std::string token = store_->ListShards(r)->next_token();
  r.set_next_token(token);
  EXPECT_EQ(store_->ListShards(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.Clear();
  r.set_next_token(token);
  clock_.Advance(absl::Minutes(6));
  EXPECT_EQ(store_->ListShards(r).status().code(), absl::StatusCode::kFailedPrecondition);
  r.set_next_token(token + "AAAA");
  EXPECT_EQ(store_->ListShards(r).status().code(), absl::StatusCode::kInvalidArgument);

  r.Clear();
  r.set_stream_name("s");
  r.set_exclusive_start_shard_id("shardId-000000000002");
  EXPECT_EQ(store_->ListShards(r)->shards_size(), 2);
}

TEST_F(ShardStoreTest, ListShardsFiltersByPositionAndTime) {
  CreateStream("s", 2);
  const absl::Time before_split = clock_.Now();
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(Split("shardId-000000000000", 10).ok());
  clock_.Advance(absl::Hours(1));
  auto ids = [&](v1::ShardFilterType type, absl::Time t = absl::InfinitePast(),
                 const std::string& shard = "") {
    v1::ListShardsRequest r;
    r.set_stream_name("s");
    r.mutable_shard_filter()->set_type(type);
    if (t != absl::InfinitePast()) {
      r.mutable_shard_filter()->mutable_timestamp()->set_seconds(absl::ToUnixSeconds(t));
    }
    r.mutable_shard_filter()->set_shard_id(shard);
    std::vector<std::string> out;
    absl::StatusOr<v1::ListShardsResponse> response = store_->ListShards(r);
    EXPECT_TRUE(response.ok()) << response.status();
    if (response.ok()) {
      for (const auto& s : response->shards()) out.push_back(s.shard_id().substr(18));
    }
    return out;
  };
  EXPECT_THAT(ids(v1::AT_LATEST), ElementsAre("01", "02", "03"));
  EXPECT_THAT(ids(v1::FROM_TRIM_HORIZON), ElementsAre("00", "01", "02", "03"));
  EXPECT_THAT(ids(v1::AT_TRIM_HORIZON), ElementsAre("00", "01"));  // horizon: before the split
  EXPECT_THAT(ids(v1::AFTER_SHARD_ID, absl::InfinitePast(), "shardId-000000000001"),
              ElementsAre("02", "03"));
  EXPECT_THAT(ids(v1::AT_TIMESTAMP_FILTER, before_split), ElementsAre("00", "01"));
  EXPECT_THAT(ids(v1::AT_TIMESTAMP_FILTER, clock_.Now()), ElementsAre("01", "02", "03"));
  EXPECT_THAT(ids(v1::FROM_TIMESTAMP, before_split), ElementsAre("00", "01", "02", "03"));
  EXPECT_THAT(ids(v1::FROM_TIMESTAMP, clock_.Now()), ElementsAre("01", "02", "03"));
}

TEST_F(ShardStoreTest, ListStreamsPagesInNameOrder) {
  for (const char* name : {"c", "a", "b"}) CreateStream(name, 1);
  v1::ListStreamsRequest r;
  r.set_limit(2);
  absl::StatusOr<v1::ListStreamsResponse> page = store_->ListStreams(r);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->stream_names(), ElementsAre("a", "b"));
  EXPECT_TRUE(page->has_more_streams());
  r.set_next_token(page->next_token());
  page = store_->ListStreams(r);
  EXPECT_THAT(page->stream_names(), ElementsAre("c"));
  EXPECT_FALSE(page->has_more_streams());
}

TEST_F(ShardStoreTest, RetentionChangesAreBoundedAndDirectional) {
  CreateStream("s", 1);
  v1::IncreaseStreamRetentionPeriodRequest inc;
  inc.set_stream_name("s");
  inc.set_retention_period_hours(48);
  ASSERT_TRUE(store_->IncreaseStreamRetentionPeriod(inc).ok());
  v1::DecreaseStreamRetentionPeriodRequest dec;
  dec.set_stream_name("s");
  dec.set_retention_period_hours(72);
  EXPECT_EQ(store_->DecreaseStreamRetentionPeriod(dec).code(), absl::StatusCode::kInvalidArgument);
  dec.set_retention_period_hours(24);
  EXPECT_TRUE(store_->DecreaseStreamRetentionPeriod(dec).ok());
  Reopen();
  v1::DescribeStreamSummaryRequest d;
  d.set_stream_name("s");
  EXPECT_EQ(store_->DescribeStreamSummary(d)->stream_description_summary().retention_period_hours(),
            24);
}

TEST_F(ShardStoreTest, ReopenWithoutFlushKeepsAcknowledgedRecordsAndContinuesSequences) {
  CreateStream("s", 2);
  std::map<std::string, std::vector<std::string>> written;
  uint64_t last = 0;
  for (int i = 0; i < 50; ++i) {
    v1::PutRecordResponse r = Put(absl::StrCat("k", i), absl::StrCat("d", i));
    written[r.shard_id()].push_back(absl::StrCat("d", i));
    last = std::max(last, *ParseSequenceNumber(r.sequence_number(), "s"));
  }
  Reopen();  // ~RocksDb does not flush: the WAL recovers the memtable
  for (auto& [shard, data] : written) EXPECT_EQ(ReadAll(shard), data);
  std::vector<v1::Shard> shards = Shards();
  for (const auto& s : shards) {
    v1::PutRecordResponse r = Put("again", "x", s.hash_key_range().starting_hash_key());
    uint64_t shard_last = 0;
    absl::StatusOr<std::string> it = Iterator(s.shard_id(), v1::TRIM_HORIZON);
    absl::StatusOr<v1::GetRecordsResponse> got = Get(*it);
    ASSERT_TRUE(got.ok());
    for (const auto& rec : got->records()) {
      uint64_t seq = *ParseSequenceNumber(rec.sequence_number(), "s");
      EXPECT_GT(seq, shard_last);
      shard_last = seq;
    }
    EXPECT_EQ(r.sequence_number(), absl::StrCat(shard_last));
    EXPECT_EQ(shard_last, written[s.shard_id()].size() + 1);
  }
}

TEST_F(ShardStoreTest, WaitForRecordsWakesOnPut) {
  CreateStream("s", 1);
  v1::StartingPosition latest;
  latest.set_type(v1::LATEST);
  absl::StatusOr<ShardCursor> cursor =
      store_->ResolveStartingPosition("s", "shardId-000000000000", latest);
  ASSERT_TRUE(cursor.ok());
  EXPECT_FALSE(*store_->WaitForRecords(*cursor, clock_.MonotonicNow()));  // deadline now: nothing
  std::atomic<int> notified{0};
  absl::StatusOr<std::unique_ptr<ShardWatch>> watch =
      store_->WatchShard(*cursor, [&] { notified.fetch_add(1); });
  ASSERT_TRUE(watch.ok());
  absl::StatusOr<bool> woke;
  std::thread waiter(
      [&] { woke = store_->WaitForRecords(*cursor, MonotonicTime::InfiniteFuture()); });
  Put("k", "x");
  waiter.join();
  ASSERT_TRUE(woke.ok());
  EXPECT_TRUE(*woke);
  EXPECT_EQ(notified.load(), 1);
  watch->reset();
  Put("k", "y");
  EXPECT_EQ(notified.load(), 1);
  google::protobuf::RepeatedPtrField<v1::Record> records;
  ShardCursor c = *cursor;
  ASSERT_TRUE(store_->ReadRecords(&c, 10, 1 << 20, &records).ok());
  EXPECT_EQ(records.size(), 2);
}

TEST_F(ShardStoreTest, WaitForRecordsTimesOutByTheStoreClock) {
  CreateStream("s", 1);
  v1::StartingPosition latest;
  latest.set_type(v1::LATEST);
  ShardCursor cursor = *store_->ResolveStartingPosition("s", "shardId-000000000000", latest);
  absl::StatusOr<bool> woke;
  std::thread waiter(
      [&] { woke = store_->WaitForRecords(cursor, clock_.MonotonicNow() + absl::Seconds(5)); });
  ASSERT_OK(clock_.WaitForWaiters(1));
  clock_.Advance(absl::Seconds(5));
  waiter.join();
  EXPECT_FALSE(*woke);
}

// Concurrent writers of one shard, and a reader that follows the visible tip:
// the reader never skips a record (no gap below the tip ever fills in later)
// and sequence numbers are unique and increasing in the log.
TEST_F(ShardStoreTest, ConcurrentWritersNeverLetAReaderSkipARecord) {
  CreateStream("s", 1);
  constexpr int kWriters = 4, kCalls = 50, kPerCall = 10;
  constexpr size_t kTotal = kWriters * kCalls * kPerCall + 1;  // + the final sentinel
  std::vector<std::string> seen;
  std::thread reader([&] {
    v1::StartingPosition th;
    th.set_type(v1::TRIM_HORIZON);
    ShardCursor c = *store_->ResolveStartingPosition("s", "shardId-000000000000", th);
    bool sentinel = false;
    for (int i = 0; i < 100000 && !sentinel; ++i) {  // bounded
      google::protobuf::RepeatedPtrField<v1::Record> records;
      ASSERT_TRUE(store_->ReadRecords(&c, 1000, 1 << 20, &records).ok());
      for (auto& r : records) {
        seen.push_back(r.sequence_number());
        sentinel = sentinel || r.data() == "sentinel";
      }
      // Wait for the next put instead of spinning (the sentinel ends the wait).
      if (records.empty()) {
        ASSERT_TRUE(store_->WaitForRecords(c, MonotonicTime::InfiniteFuture()).ok());
      }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int call = 0; call < kCalls; ++call) {
        v1::PutRecordsRequest r;
        r.set_stream_name("s");
        for (int i = 0; i < kPerCall; ++i) {
          auto* e = r.add_records();
          e->set_partition_key(absl::StrCat(w));
          e->set_data(absl::StrCat(w, "-", call, "-", i));
        }
        v1::PutRecordsResponse response;
        ASSERT_TRUE(store_->PutRecords(r, &response).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  Put("k", "sentinel");
  reader.join();
  std::vector<std::string> all;
  {
    v1::StartingPosition th;
    th.set_type(v1::TRIM_HORIZON);
    ShardCursor c = *store_->ResolveStartingPosition("s", "shardId-000000000000", th);
    google::protobuf::RepeatedPtrField<v1::Record> records;
    ASSERT_TRUE(store_->ReadRecords(&c, 10000, 1 << 30, &records).ok());
    for (auto& r : records) all.push_back(r.sequence_number());
  }
  EXPECT_EQ(all.size(), kTotal);
  EXPECT_EQ(seen, all);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(*ParseSequenceNumber(all[i - 1], "a"), *ParseSequenceNumber(all[i], "b"));
  }
}

// Concurrent writers while the shard splits: every acknowledged record is in
// exactly one of parent or child, and the parent reaches SHARD_END.
TEST_F(ShardStoreTest, PutsRacingASplitLandInParentOrChildren) {
  CreateStream("s", 1);
  std::atomic<int> acked{0};
  std::vector<std::thread> writers;
  absl::Notification started;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 100; ++i) {
        v1::PutRecordRequest r;
        r.set_stream_name("s");
        r.set_partition_key(absl::StrCat(w, "-", i));
        r.set_data("x");
        ASSERT_TRUE(store_->PutRecord(r).ok());
        acked.fetch_add(1);
        if (w == 0 && i == 10) started.Notify();
      }
    });
  }
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(Split("shardId-000000000000", absl::uint128(1) << 127).ok());
  for (auto& t : writers) t.join();
  size_t total = ReadAll("shardId-000000000000").size() + ReadAll("shardId-000000000001").size() +
                 ReadAll("shardId-000000000002").size();
  EXPECT_EQ(total, 300u);
}

// Every malformed request is INVALID_ARGUMENT naming the field; missing things
// are NOT_FOUND; taken names ALREADY_EXISTS.
TEST_F(ShardStoreTest, BadInputsGetTheirStatus) {
  CreateStream("s", 2);
  struct Case {
    const char* name;
    std::function<absl::Status()> call;
    absl::StatusCode code;
    const char* field;
  };
  auto create = [&](std::string name, int n, std::optional<int> retention = std::nullopt) {
    v1::CreateStreamRequest r;
    r.set_stream_name(name);
    r.set_shard_count(n);
    if (retention) r.set_retention_period_hours(*retention);
    return store_->CreateStream(r);
  };
  auto put = [&](std::string stream, std::string pk, std::string data, std::string ehk = "") {
    v1::PutRecordRequest r;
    r.set_stream_name(stream);
    r.set_partition_key(pk);
    r.set_data(data);
    r.set_explicit_hash_key(ehk);
    return store_->PutRecord(r).status();
  };
  auto puts = [&](int n, std::string pk, size_t data_size) {
    v1::PutRecordsRequest r;
    r.set_stream_name("s");
    for (int i = 0; i < n; ++i) {
      auto* e = r.add_records();
      e->set_partition_key(i == n - 1 ? pk : "k");
      e->set_data(std::string(data_size, 'x'));
    }
    v1::PutRecordsResponse response;
    return store_->PutRecords(r, &response);
  };
  auto iterator = [&](std::string shard, v1::ShardIteratorType type, std::string seq = "") {
    v1::GetShardIteratorRequest r;
    r.set_stream_name("s");
    r.set_shard_id(shard);
    r.set_shard_iterator_type(type);
    r.set_starting_sequence_number(seq);
    return store_->GetShardIterator(r).status();
  };
  const std::string too_long_key(257, 'k');
  const std::string shard0 = "shardId-000000000000";
  std::vector<Case> cases = {
      {"empty stream name", [&] { return create("", 1); }, absl::StatusCode::kInvalidArgument,
       "stream_name"},
      {"bad character", [&] { return create("a/b", 1); }, absl::StatusCode::kInvalidArgument,
       "stream_name"},
      {"name too long", [&] { return create(std::string(129, 'a'), 1); },
       absl::StatusCode::kInvalidArgument, "stream_name"},
      {"zero shards", [&] { return create("t", 0); }, absl::StatusCode::kInvalidArgument,
       "shard_count"},
      {"too many shards", [&] { return create("t", 10001); }, absl::StatusCode::kInvalidArgument,
       "shard_count"},
      {"retention too low", [&] { return create("t", 1, 23); }, absl::StatusCode::kInvalidArgument,
       "retention_period_hours"},
      {"retention too high", [&] { return create("t", 1, 8761); },
       absl::StatusCode::kInvalidArgument, "retention_period_hours"},
      {"name taken", [&] { return create("s", 1); }, absl::StatusCode::kAlreadyExists, "s"},
      {"put to missing stream", [&] { return put("nope", "k", "d"); }, absl::StatusCode::kNotFound,
       "nope"},
      {"empty partition key", [&] { return put("s", "", "d"); }, absl::StatusCode::kInvalidArgument,
       "partition_key"},
      {"partition key too long", [&] { return put("s", too_long_key, "d"); },
       absl::StatusCode::kInvalidArgument, "partition_key"},
      {"record over 1 MiB", [&] { return put("s", "k", std::string(1 << 20, 'x')); },
       absl::StatusCode::kInvalidArgument, "data"},
      {"hash key with sign", [&] { return put("s", "k", "d", "+5"); },
       absl::StatusCode::kInvalidArgument, "explicit_hash_key"},
      {"hash key over 2^128-1",
       [&] { return put("s", "k", "d", "340282366920938463463374607431768211456"); },
       absl::StatusCode::kInvalidArgument, "explicit_hash_key"},
      {"no records", [&] { return puts(0, "k", 1); }, absl::StatusCode::kInvalidArgument,
       "records"},
      {"501 records", [&] { return puts(501, "k", 1); }, absl::StatusCode::kInvalidArgument,
       "records"},
      {"request over 5 MiB", [&] { return puts(6, "k", 1000 * 1000); },
       absl::StatusCode::kInvalidArgument, "5 MiB"},
      {"one bad record names its index", [&] { return puts(3, "", 1); },
       absl::StatusCode::kInvalidArgument, "records[2].partition_key"},
      {"iterator type unset", [&] { return iterator(shard0, v1::SHARD_ITERATOR_TYPE_UNSPECIFIED); },
       absl::StatusCode::kInvalidArgument, "shard_iterator_type"},
      {"AT_SEQUENCE_NUMBER without number",
       [&] { return iterator(shard0, v1::AT_SEQUENCE_NUMBER); }, absl::StatusCode::kInvalidArgument,
       "starting_sequence_number"},
      {"sequence number not decimal",
       [&] { return iterator(shard0, v1::AFTER_SEQUENCE_NUMBER, "12x"); },
       absl::StatusCode::kInvalidArgument, "starting_sequence_number"},
      {"LATEST with a number", [&] { return iterator(shard0, v1::LATEST, "1"); },
       absl::StatusCode::kInvalidArgument, "starting_sequence_number"},
      {"bad shard id", [&] { return iterator("shard-0", v1::LATEST); },
       absl::StatusCode::kInvalidArgument, "shard_id"},
      {"missing shard", [&] { return iterator("shardId-000000000099", v1::LATEST); },
       absl::StatusCode::kNotFound, "shardId-000000000099"},
      {"get limit too high",
       [&] {
         v1::GetRecordsRequest r;
         r.set_shard_iterator("x");
         r.set_limit(10001);
         v1::GetRecordsResponse response;
         return store_->GetRecords(r, &response);
       },
       absl::StatusCode::kInvalidArgument, "limit"},
      {"empty iterator",
       [&] {
         v1::GetRecordsRequest r;
         v1::GetRecordsResponse response;
         return store_->GetRecords(r, &response);
       },
       absl::StatusCode::kInvalidArgument, "shard_iterator"},
      {"split key not a number",
       [&] {
         v1::SplitShardRequest r;
         r.set_stream_name("s");
         r.set_shard_to_split(shard0);
         r.set_new_starting_hash_key("abc");
         return store_->SplitShard(r);
       },
       absl::StatusCode::kInvalidArgument, "new_starting_hash_key"},
      {"list shards max_results",
       [&] {
         v1::ListShardsRequest r;
         r.set_stream_name("s");
         r.set_max_results(10001);
         return store_->ListShards(r).status();
       },
       absl::StatusCode::kInvalidArgument, "max_results"},
      {"list shards filter without timestamp",
       [&] {
         v1::ListShardsRequest r;
         r.set_stream_name("s");
         r.mutable_shard_filter()->set_type(v1::FROM_TIMESTAMP);
         return store_->ListShards(r).status();
       },
       absl::StatusCode::kInvalidArgument, "shard_filter.timestamp"},
      {"list streams limit",
       [&] {
         v1::ListStreamsRequest r;
         r.set_limit(-1);
         return store_->ListStreams(r).status();
       },
       absl::StatusCode::kInvalidArgument, "limit"},
      {"ordering not a number",
       [&] {
         v1::PutRecordRequest r;
         r.set_stream_name("s");
         r.set_partition_key("k");
         r.set_sequence_number_for_ordering("-1");
         return store_->PutRecord(r).status();
       },
       absl::StatusCode::kInvalidArgument, "sequence_number_for_ordering"},
  };
  for (const Case& c : cases) {
    absl::Status s = c.call();
    EXPECT_EQ(s.code(), c.code) << c.name << ": " << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.field)) << c.name;
  }
}

// --- Ingest path: routing table, per-call put lock, memtable insert hints ---

v1::PutRecordsRequestEntry Entry(absl::uint128 hash_key, const std::string& data) {
  v1::PutRecordsRequestEntry e;
  e.set_partition_key("k");
  e.set_data(data);
  e.set_explicit_hash_key(FormatHashKey(hash_key));
  return e;
}

TEST_F(ShardStoreTest, EveryShardOfTenThousandGetsItsFirstAndLastHashKey) {
  CreateStream("s", 10000);
  const absl::uint128 width = kMax / 10000;
  for (int base = 0; base < 10000; base += 250) {
    v1::PutRecordsRequest request;
    request.set_stream_name("s");
    for (int i = base; i < base + 250; ++i) {
      *request.add_records() = Entry(width * i, "first");
      *request.add_records() = Entry(i == 9999 ? kMax : width * (i + 1) - 1, "last");
    }
    v1::PutRecordsResponse response;
    ASSERT_TRUE(store_->PutRecords(request, &response).ok());
    ASSERT_EQ(response.failed_record_count(), 0);
    for (int j = 0; j < response.records_size(); ++j) {
      ASSERT_EQ(response.records(j).shard_id(), ShardIdFromIndex(base + j / 2)) << j;
      ASSERT_EQ(response.records(j).sequence_number(), j % 2 == 0 ? "1" : "2") << j;
    }
  }
  EXPECT_THAT(ReadAll(ShardIdFromIndex(4321)), ElementsAre("first", "last"));
}

TEST_F(ShardStoreTest, NarrowShardsAroundARoutingBucketEdgeGetTheirKeys) {
  CreateStream("s", 1);
  const absl::uint128 edge = absl::uint128(5) << 116;     // an edge of the routing table's buckets
  ASSERT_TRUE(Split("shardId-000000000000", edge).ok());  // 1: [0, e-1]   2: [e, max]
  ASSERT_TRUE(Split("shardId-000000000001", edge - 1).ok());  // 3: [0, e-2]   4: [e-1, e-1]
  ASSERT_TRUE(Split("shardId-000000000002", edge + 1).ok());  // 5: [e, e]     6: [e+1, max]
  EXPECT_EQ(Put("k", "x", FormatHashKey(0)).shard_id(), "shardId-000000000003");
  EXPECT_EQ(Put("k", "x", FormatHashKey(edge - 2)).shard_id(), "shardId-000000000003");
  EXPECT_EQ(Put("k", "x", FormatHashKey(edge - 1)).shard_id(), "shardId-000000000004");
  EXPECT_EQ(Put("k", "x", FormatHashKey(edge)).shard_id(), "shardId-000000000005");
  EXPECT_EQ(Put("k", "x", FormatHashKey(edge + 1)).shard_id(), "shardId-000000000006");
  EXPECT_EQ(Put("k", "x", FormatHashKey(kMax)).shard_id(), "shardId-000000000006");
}

// The trimmer's range delete and later writes into the same shards (the
// records family's memtable keeps an insert hint per shard), then a reopen
// that replays all of it from the WAL: exactly the unexpired records remain,
// in order, and numbering continues.
TEST_F(ShardStoreTest, TrimThenMoreWritesThenReopenKeepExactlyTheLaterRecords) {
  CreateStream("s", 2);
  const absl::uint128 shard1 = kMax / 2 + 1;
  auto put_both = [&](const std::string& tag) {
    for (int call = 0; call < 3; ++call) {
      v1::PutRecordsRequest request;
      request.set_stream_name("s");
      for (int j = 0; j < 2; ++j) {
        *request.add_records() = Entry(0, absl::StrCat(tag, call, j));
        *request.add_records() = Entry(shard1, absl::StrCat(tag, call, j));
      }
      v1::PutRecordsResponse response;
      ASSERT_TRUE(store_->PutRecords(request, &response).ok());
      ASSERT_EQ(response.failed_record_count(), 0);
    }
  };
  put_both("old");
  clock_.Advance(absl::Hours(13));
  put_both("new");
  clock_.Advance(absl::Hours(12));
  absl::StatusOr<int64_t> trimmed = store_->TrimExpiredRecords();
  ASSERT_TRUE(trimmed.ok()) << trimmed.status();
  EXPECT_EQ(*trimmed, 12);  // 6 old records in each shard
  put_both("after");
  const std::vector<std::string> expected = {"new00",   "new01",   "new10",   "new11",
                                             "new20",   "new21",   "after00", "after01",
                                             "after10", "after11", "after20", "after21"};
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(ReadAll("shardId-000000000000"), expected) << round;
    EXPECT_EQ(ReadAll("shardId-000000000001"), expected) << round;
    absl::StatusOr<std::string> it =
        Iterator("shardId-000000000001", v1::AT_SEQUENCE_NUMBER, "6");  // trimmed away
    ASSERT_TRUE(it.ok());
    EXPECT_EQ(Get(*it)->records(0).sequence_number(), "7") << round;
    Reopen();
  }
  EXPECT_EQ(Put("k", "next", FormatHashKey(0)).sequence_number(), "19");
}

// A data directory written before the records family had memtable insert
// hints can hold, in its WAL, a trim whose range delete begins at a full
// record key (in the hint's domain, which RocksDB 7.8 would replay through a
// point-key hint). Opening it must neither corrupt the memtable nor lose the
// trim, and writing on must work.
TEST_F(ShardStoreTest, OpensAWalHoldingAnOldStyleTrimTombstone) {
  CreateStream("s", 1);
  for (int i = 0; i < 4; ++i) Put("k", absl::StrCat("r", i));  // sequence numbers 1-4
  store_.reset();
  {
    // As an earlier build would have written them: a put (chunk of sequence
    // number 5) and then a trim of 1-2, both only in the WAL, in one memtable.
    absl::StatusOr<std::unique_ptr<RocksDb>> db = RocksDb::Open(dir_, {"meta", "records"});
    ASSERT_TRUE(db.ok()) << db.status();
    auto key = [](uint64_t seq) {  // stream id 1, shard 0, seq: a 20-byte record key
      std::string k(20, '\0');
      k[7] = 1;
      k[19] = static_cast<char>(seq);
      return k;
    };
    // Version 1, arrival 0 ms, 1 record: key length 1, data length 2, "k", "r4".
    const std::string chunk = std::string("\x01", 1) + std::string(8, '\0') +
                              std::string("\0\0\0\x01\0\x01\0\0\0\x02", 10) + "kr4";
    rocksdb::WriteBatch put;
    ASSERT_TRUE(put.Put((*db)->Handle("records"), key(5), chunk).ok());
    ASSERT_TRUE((*db)->db()->Write(rocksdb::WriteOptions(), &put).ok());
    rocksdb::WriteBatch trim;
    ASSERT_TRUE(trim.DeleteRange((*db)->Handle("records"), key(1), key(3)).ok());
    ASSERT_TRUE((*db)->db()->Write(rocksdb::WriteOptions(), &trim).ok());
  }  // closed without a flush
  Open();
  EXPECT_THAT(ReadAll("shardId-000000000000"), ElementsAre("r2", "r3", "r4"));
  EXPECT_EQ(Put("k", "r5").sequence_number(), "6");
  Reopen();
  EXPECT_THAT(ReadAll("shardId-000000000000"), ElementsAre("r2", "r3", "r4", "r5"));
}

// A clock whose untimed waits have no real-time guard (FakeClock re-checks
// every 100 ms): if a put failed to wake a waiter, the waiter would stay
// blocked and the test would time out.
class UnguardedClock : public Clock {
 public:
  absl::Time Now() override { return fake_.Now(); }
  MonotonicTime MonotonicNow() override { return fake_.MonotonicNow(); }
  bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond, MonotonicTime deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) override {
    if (deadline != MonotonicTime::InfiniteFuture()) {
      return fake_.AwaitWithDeadline(mu, cond, deadline);
    }
    if (cond.Eval()) return true;
    waiting_.Notify();
    mu->Await(cond);
    return true;
  }
  absl::Notification& waiting() { return waiting_; }

 private:
  FakeClock fake_;
  absl::Notification waiting_;
};

TEST(ShardStoreWakeTest, APutToManyShardsWakesAWaiterOnOneOfThem) {
  UnguardedClock clock;
  ShardStoreOptions options;
  options.data_dir = testing::NewTempDir("shard_store_wake");
  absl::StatusOr<std::unique_ptr<ShardStore>> store = ShardStore::Create(options, clock);
  ASSERT_TRUE(store.ok()) << store.status();
  v1::CreateStreamRequest create;
  create.set_stream_name("s");
  create.set_shard_count(4);
  ASSERT_TRUE((*store)->CreateStream(create).ok());
  v1::StartingPosition latest;
  latest.set_type(v1::LATEST);
  absl::StatusOr<ShardCursor> cursor =
      (*store)->ResolveStartingPosition("s", "shardId-000000000002", latest);
  ASSERT_TRUE(cursor.ok());
  absl::StatusOr<bool> woke;
  std::thread waiter(
      [&] { woke = (*store)->WaitForRecords(*cursor, MonotonicTime::InfiniteFuture()); });
  clock.waiting().WaitForNotification();  // the waiter is about to block on the shard
  v1::PutRecordsRequest request;
  request.set_stream_name("s");
  for (int i = 0; i < 4; ++i) *request.add_records() = Entry((kMax / 4) * i, "x");
  v1::PutRecordsResponse response;
  ASSERT_TRUE((*store)->PutRecords(request, &response).ok());
  waiter.join();
  ASSERT_TRUE(woke.ok()) << woke.status();
  EXPECT_TRUE(*woke);
}

}  // namespace
// PutRecordStaged (the seam tables/ writes an item and its change record through).
class StagedPutTest : public ShardStoreTest {
 protected:
  void SetUp() override {
    options_.extra_column_families = {"items"};
    ShardStoreTest::SetUp();
    CreateStream("s", 1);
  }
  absl::StatusOr<v1::PutRecordResponse> PutStaged(const std::string& data,
                                                  absl::Status stage_result) {
    v1::PutRecordRequest r;
    r.set_stream_name("s");
    r.set_partition_key("k");
    r.set_data(data);
    return store_->PutRecordStaged(r, [&](rocksdb::WriteBatch* batch) {
      EXPECT_TRUE(batch->Put(store_->db().Handle("items"), data, "v").ok());
      return stage_result;
    });
  }
  bool HasItem(const std::string& key) {
    std::string value;
    return store_->db().db()->Get(rocksdb::ReadOptions(), store_->db().Handle("items"), key,
                                  &value).ok();
  }
};

TEST_F(StagedPutTest, TheStagedWriteAndTheRecordAreWrittenTogether) {
  ASSERT_TRUE(PutStaged("a", absl::OkStatus()).ok());
  Reopen();
  EXPECT_TRUE(HasItem("a"));
  EXPECT_THAT(ReadAll("shardId-000000000000"), ElementsAre("a"));
}

TEST_F(StagedPutTest, AFailingStageWritesNeitherAndTheNextPutContinues) {
  EXPECT_EQ(PutStaged("a", absl::InvalidArgumentError("no")).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(PutStaged("b", absl::OkStatus()).ok());
  EXPECT_FALSE(HasItem("a"));
  EXPECT_THAT(ReadAll("shardId-000000000000"), ElementsAre("b"));
}

TEST_F(StagedPutTest, AFailedWriteWritesNeither) {
  Reopen();  // keep the fixture's store; now fail every record write
  options_.write_interceptor = [](WriteKind kind) {
    return kind == WriteKind::kRecords ? rocksdb::Status::IOError("injected")
                                       : rocksdb::Status::OK();
  };
  Reopen();
  EXPECT_FALSE(PutStaged("a", absl::OkStatus()).ok());
  EXPECT_FALSE(HasItem("a"));
  EXPECT_THAT(ReadAll("shardId-000000000000"), ElementsAre());
}

// PutRecordsStaged: records of several streams and the staged writes in one RocksDB write.
class ChainedPutTest : public StagedPutTest {
 protected:
  void SetUp() override {
    StagedPutTest::SetUp();
    CreateStream("t", 1);
  }
  static v1::PutRecordsRequest Request(const std::string& stream,
                                       const std::vector<std::string>& data) {
    v1::PutRecordsRequest r;
    r.set_stream_name(stream);
    for (const std::string& d : data) {
      v1::PutRecordsRequestEntry* e = r.add_records();
      e->set_partition_key("k");
      e->set_data(d);
    }
    return r;
  }
  absl::Status PutChained(absl::Status stage_result) {
    // "t" before "s": the store orders them itself.
    return store_->PutRecordsStaged(
        {Request("t", {"t1"}), Request("s", {"s1", "s2"})}, [&](rocksdb::WriteBatch* batch) {
          EXPECT_TRUE(batch->Put(store_->db().Handle("items"), "item", "v").ok());
          return stage_result;
        });
  }
};

TEST_F(ChainedPutTest, RecordsOfEveryStreamAndTheStagedWriteAreWrittenTogether) {
  ASSERT_TRUE(PutChained(absl::OkStatus()).ok());
  Reopen();
  EXPECT_TRUE(HasItem("item"));
  EXPECT_THAT(ReadAll("shardId-000000000000", "s"), ElementsAre("s1", "s2"));
  EXPECT_THAT(ReadAll("shardId-000000000000", "t"), ElementsAre("t1"));
}

TEST_F(ChainedPutTest, AFailingStageWritesNothingInAnyStreamAndLaterPutsContinue) {
  EXPECT_EQ(PutChained(absl::InvalidArgumentError("no")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(HasItem("item"));
  ASSERT_TRUE(PutStaged("a", absl::OkStatus()).ok());
  EXPECT_THAT(ReadAll("shardId-000000000000", "s"), ElementsAre("a"));
  EXPECT_THAT(ReadAll("shardId-000000000000", "t"), ElementsAre());
}

TEST_F(ChainedPutTest, AFailedWriteWritesNothingInAnyStream) {
  options_.write_interceptor = [](WriteKind kind) {
    return kind == WriteKind::kRecords ? rocksdb::Status::IOError("injected")
                                       : rocksdb::Status::OK();
  };
  Reopen();
  EXPECT_FALSE(PutChained(absl::OkStatus()).ok());
  options_.write_interceptor = nullptr;
  Reopen();
  EXPECT_FALSE(HasItem("item"));
  EXPECT_THAT(ReadAll("shardId-000000000000", "s"), ElementsAre());
  EXPECT_THAT(ReadAll("shardId-000000000000", "t"), ElementsAre());
}

TEST_F(ChainedPutTest, AThrottledRecordFailsTheWholeCall) {
  options_.shard_write_records_per_second = 1;  // "s" gets one of its two records only
  Reopen();
  EXPECT_EQ(PutChained(absl::OkStatus()).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(HasItem("item"));
  EXPECT_THAT(ReadAll("shardId-000000000000", "s"), ElementsAre());
  EXPECT_THAT(ReadAll("shardId-000000000000", "t"), ElementsAre());
}

TEST_F(ChainedPutTest, AMissingStreamOrARepeatedStreamFailsTheWholeCall) {
  EXPECT_EQ(store_->PutRecordsStaged({Request("s", {"x"}), Request("absent", {"y"})},
                                     [](rocksdb::WriteBatch*) { return absl::OkStatus(); })
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->PutRecordsStaged({Request("s", {"x"}), Request("s", {"y"})},
                                     [](rocksdb::WriteBatch*) { return absl::OkStatus(); })
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ReadAll("shardId-000000000000", "s"), ElementsAre());
}

}  // namespace tributary::shard_store
