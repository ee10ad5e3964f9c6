// ShardStore with sync_writes under power loss (issue 14, item 6). The store runs on
// common/testing/power_loss_fs.h, which knows what a power loss would keep (data not fsynced is
// dropped). After every acknowledged step a power loss is simulated on a copy of the data
// directory, and the store reopened on that copy must show exactly what the live store showed:
// every stream with its retention, tags and registered consumers, every shard with its lineage
// and sequence range, every record, every trim — nothing acknowledged lost, nothing undone come
// back.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/testing/power_loss_fs.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "shard_store/shard_store.h"
#include "shard_store/testing/observe.h"

namespace tributary::shard_store {
namespace {

using ::tributary::shard_store::testing::ObserveStore;

class ShardStorePowerLossTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.data_dir = ::tributary::testing::NewTempDir("shard_store_power") + "/db";
    options_.sync_writes = true;
    options_.rocksdb.env = power_.env();
    absl::StatusOr<std::unique_ptr<ShardStore>> store = ShardStore::Create(options_, clock_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // What a store opened on the state a power loss now would leave shows.
  std::string ObserveAfterPowerLoss() {
    const std::string copy = ::tributary::testing::NewTempDir("shard_store_after_power_loss");
    absl::Status copied = power_.CopyDurableState(options_.data_dir, copy);
    if (!copied.ok()) return copied.ToString();
    ShardStoreOptions options;
    options.data_dir = copy;
    absl::StatusOr<std::unique_ptr<ShardStore>> store = ShardStore::Create(options, clock_);
    if (!store.ok()) return store.status().ToString();
    return ObserveStore(**store);
  }

  void CreateStream(const std::string& name, int shards) {
    v1::CreateStreamRequest r;
    r.set_stream_name(name);
    r.set_shard_count(shards);
    ASSERT_TRUE(store_->CreateStream(r).ok());
  }
  void PutRecords(int count) {
    v1::PutRecordsRequest r;
    r.set_stream_name("s");
    for (int i = 0; i < count; ++i) {
      auto* e = r.add_records();
      e->set_partition_key(absl::StrCat("key-", next_record_));
      e->set_data(absl::StrCat("record-", next_record_++));
    }
    v1::PutRecordsResponse response;
    ASSERT_TRUE(store_->PutRecords(r, &response).ok());
    ASSERT_EQ(response.failed_record_count(), 0);
  }
  void Split(const std::string& shard) {
    // In the middle of the shard's range, as ListShards reports it.
    v1::ListShardsRequest list;
    list.set_stream_name("s");
    absl::StatusOr<v1::ListShardsResponse> shards = store_->ListShards(list);
    ASSERT_TRUE(shards.ok()) << shards.status();
    for (const v1::Shard& s : shards->shards()) {
      if (s.shard_id() != shard) continue;
      absl::StatusOr<absl::uint128> start =
          ParseHashKey(s.hash_key_range().starting_hash_key(), "start");
      absl::StatusOr<absl::uint128> end = ParseHashKey(s.hash_key_range().ending_hash_key(), "end");
      ASSERT_TRUE(start.ok() && end.ok());
      v1::SplitShardRequest r;
      r.set_stream_name("s");
      r.set_shard_to_split(shard);
      r.set_new_starting_hash_key(FormatHashKey(*start + (*end - *start) / 2 + 1));
      absl::Status split = store_->SplitShard(r);
      ASSERT_TRUE(split.ok()) << split;
      return;
    }
    FAIL() << shard << " is not listed";
  }
  void Merge(const std::string& a, const std::string& b) {
    v1::MergeShardsRequest r;
    r.set_stream_name("s");
    r.set_shard_to_merge(a);
    r.set_adjacent_shard_to_merge(b);
    absl::Status merged = store_->MergeShards(r);
    ASSERT_TRUE(merged.ok()) << merged;
  }
  void UpdateShardCount(int target) {
    v1::UpdateShardCountRequest r;
    r.set_stream_name("s");
    r.set_scaling_type(v1::UNIFORM_SCALING);
    r.set_target_shard_count(target);
    absl::StatusOr<v1::UpdateShardCountResponse> updated = store_->UpdateShardCount(r);
    ASSERT_TRUE(updated.ok()) << updated.status();
  }
  void SetRetention(int hours, bool increase) {
    absl::Status s;
    if (increase) {
      v1::IncreaseStreamRetentionPeriodRequest r;
      r.set_stream_name("s");
      r.set_retention_period_hours(hours);
      s = store_->IncreaseStreamRetentionPeriod(r);
    } else {
      v1::DecreaseStreamRetentionPeriodRequest r;
      r.set_stream_name("s");
      r.set_retention_period_hours(hours);
      s = store_->DecreaseStreamRetentionPeriod(r);
    }
    ASSERT_TRUE(s.ok()) << s;
  }
  void DeleteStream(const std::string& name) {
    v1::DeleteStreamRequest r;
    r.set_stream_name(name);
    ASSERT_TRUE(store_->DeleteStream(r).ok());
  }
  void Tag(const std::string& key, const std::string& value) {
    v1::AddTagsToStreamRequest r;
    r.set_stream_name("s");
    (*r.mutable_tags())[key] = value;
    absl::Status s = store_->AddTagsToStream(r);
    ASSERT_TRUE(s.ok()) << s;
  }
  void Untag(const std::string& key) {
    v1::RemoveTagsFromStreamRequest r;
    r.set_stream_name("s");
    r.add_tag_keys(key);
    absl::Status s = store_->RemoveTagsFromStream(r);
    ASSERT_TRUE(s.ok()) << s;
  }
  void RegisterConsumer(const std::string& name) {
    v1::RegisterStreamConsumerRequest r;
    r.set_stream_name("s");
    r.set_consumer_name(name);
    absl::StatusOr<v1::RegisterStreamConsumerResponse> registered =
        store_->RegisterStreamConsumer(r);
    ASSERT_TRUE(registered.ok()) << registered.status();
  }
  void DeregisterConsumer(const std::string& name) {
    v1::DeregisterStreamConsumerRequest r;
    r.set_stream_name("s");
    r.set_consumer_name(name);
    absl::Status s = store_->DeregisterStreamConsumer(r);
    ASSERT_TRUE(s.ok()) << s;
  }
  void Trim() {
    absl::StatusOr<int64_t> trimmed = store_->TrimExpiredRecords();
    ASSERT_TRUE(trimmed.ok()) << trimmed.status();
    ASSERT_GT(*trimmed, 0);
  }

  FakeClock clock_;
  ::tributary::testing::PowerLossEnv power_;
  ShardStoreOptions options_;
  std::unique_ptr<ShardStore> store_;
  int next_record_ = 0;
};

TEST_F(ShardStorePowerLossTest, EveryAcknowledgedChangeSurvivesPowerLossRightAfterIt) {
  const std::vector<std::pair<std::string, std::function<void()>>> steps = {
      {"create stream s", [&] { CreateStream("s", 2); }},
      {"put records", [&] { PutRecords(20); }},
      {"tag stream s", [&] { Tag("team", "ingest"); }},
      {"register consumer a", [&] { RegisterConsumer("a"); }},
      {"register consumer b", [&] { RegisterConsumer("b"); }},
      {"split shard 0", [&] { Split("shardId-000000000000"); }},
      {"merge shards 3 and 1", [&] { Merge("shardId-000000000003", "shardId-000000000001"); }},
      {"put records to the children", [&] { PutRecords(20); }},
      {"update shard count 2 -> 4", [&] { UpdateShardCount(4); }},
      {"increase retention to 48 h", [&] { SetRetention(48, true); }},
      {"decrease retention to 24 h", [&] { SetRetention(24, false); }},
      {"retag and untag", [&] {
         Tag("env", "prod");
         Untag("team");
       }},
      {"deregister consumer a", [&] { DeregisterConsumer("a"); }},
      {"create stream t", [&] { CreateStream("t", 1); }},
      {"delete stream t", [&] { DeleteStream("t"); }},
      {"put records after a day",
       [&] {
         clock_.Advance(absl::Hours(20));
         PutRecords(10);
       }},
      {"trim the expired records and closed shards",
       [&] {
         clock_.Advance(absl::Hours(5));
         Trim();
       }},
  };
  for (const auto& [name, step] : steps) {
    SCOPED_TRACE(name);
    step();
    ASSERT_FALSE(HasFatalFailure());
    const std::string live = ObserveStore(*store_);
    EXPECT_EQ(ObserveAfterPowerLoss(), live) << "after a power loss right after: " << name;
  }
}

}  // namespace
}  // namespace tributary::shard_store
