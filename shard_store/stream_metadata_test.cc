// Tags and registered consumers of ShardStore (stream_metadata.cc): the contract in
// shard_store.h, restarts, failed writes, and changes racing reshards.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shard_store/shard_store.h"
#include "shard_store/testing/observe.h"
#include "shard_store/testing/write_faults.h"

namespace tributary::shard_store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::tributary::shard_store::testing::ObserveStore;
using ::tributary::shard_store::testing::WriteFaults;

class StreamMetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.SetTime(absl::FromUnixSeconds(1700000000));
    options_.data_dir = ::tributary::testing::NewTempDir("stream_metadata");
    options_.write_interceptor = faults_.Interceptor();
    Open();
    CreateStream("s");
  }
  void Open() {
    absl::StatusOr<std::unique_ptr<ShardStore>> store = ShardStore::Create(options_, clock_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void Reopen() {
    store_.reset();
    Open();
  }
  void CreateStream(const std::string& name) {
    v1::CreateStreamRequest r;
    r.set_stream_name(name);
    r.set_shard_count(1);
    ASSERT_TRUE(store_->CreateStream(r).ok());
  }

  absl::Status AddTags(std::vector<std::pair<std::string, std::string>> tags,
                       const std::string& stream = "s") {
    v1::AddTagsToStreamRequest r;
    r.set_stream_name(stream);
    for (auto& [k, v] : tags) (*r.mutable_tags())[k] = v;
    return store_->AddTagsToStream(r);
  }
  absl::Status RemoveTags(std::vector<std::string> keys) {
    v1::RemoveTagsFromStreamRequest r;
    r.set_stream_name("s");
    for (auto& k : keys) r.add_tag_keys(k);
    return store_->RemoveTagsFromStream(r);
  }
  absl::StatusOr<v1::ListTagsForStreamResponse> ListTags(const std::string& start = "",
                                                         int limit = 0,
                                                         const std::string& stream = "s") {
    v1::ListTagsForStreamRequest r;
    r.set_stream_name(stream);
    r.set_exclusive_start_tag_key(start);
    r.set_limit(limit);
    return store_->ListTagsForStream(r);
  }
  // Every tag of "s" as (key, value).
  std::vector<std::pair<std::string, std::string>> Tags() {
    absl::StatusOr<v1::ListTagsForStreamResponse> r = ListTags();
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::pair<std::string, std::string>> out;
    if (!r.ok()) return out;
    EXPECT_FALSE(r->has_more_tags());
    for (const v1::Tag& t : r->tags()) out.emplace_back(t.key(), t.value());
    return out;
  }

  absl::StatusOr<v1::Consumer> Register(const std::string& name, const std::string& stream = "s") {
    v1::RegisterStreamConsumerRequest r;
    r.set_stream_name(stream);
    r.set_consumer_name(name);
    absl::StatusOr<v1::RegisterStreamConsumerResponse> response = store_->RegisterStreamConsumer(r);
    if (!response.ok()) return response.status();
    return response->consumer();
  }
  absl::StatusOr<v1::ConsumerDescription> Describe(const std::string& stream,
                                                   const std::string& name,
                                                   const std::string& arn = "") {
    v1::DescribeStreamConsumerRequest r;
    r.set_stream_name(stream);
    r.set_consumer_name(name);
    r.set_consumer_arn(arn);
    absl::StatusOr<v1::DescribeStreamConsumerResponse> response = store_->DescribeStreamConsumer(r);
    if (!response.ok()) return response.status();
    return response->consumer_description();
  }
  absl::Status Deregister(const std::string& stream, const std::string& name,
                          const std::string& arn = "") {
    v1::DeregisterStreamConsumerRequest r;
    r.set_stream_name(stream);
    r.set_consumer_name(name);
    r.set_consumer_arn(arn);
    return store_->DeregisterStreamConsumer(r);
  }
  absl::StatusOr<v1::ListStreamConsumersResponse> ListConsumers(int max_results = 0,
                                                                const std::string& token = "",
                                                                const std::string& stream = "s") {
    v1::ListStreamConsumersRequest r;
    r.set_stream_name(stream);
    r.set_max_results(max_results);
    r.set_next_token(token);
    return store_->ListStreamConsumers(r);
  }
  std::vector<std::string> ConsumerNames(const std::string& stream = "s") {
    absl::StatusOr<v1::ListStreamConsumersResponse> r = ListConsumers(0, "", stream);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const v1::Consumer& c : r->consumers()) out.push_back(c.consumer_name());
    return out;
  }
  int ConsumerCount() {
    v1::DescribeStreamSummaryRequest r;
    r.set_stream_name("s");
    absl::StatusOr<v1::DescribeStreamSummaryResponse> response = store_->DescribeStreamSummary(r);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->stream_description_summary().consumer_count() : -1;
  }
  absl::Status Delete(const std::string& stream, bool enforce) {
    v1::DeleteStreamRequest r;
    r.set_stream_name(stream);
    r.set_enforce_consumer_deletion(enforce);
    return store_->DeleteStream(r);
  }
  absl::Status Split() {
    v1::SplitShardRequest r;
    r.set_stream_name("s");
    r.set_shard_to_split("shardId-000000000000");
    r.set_new_starting_hash_key("1000");
    return store_->SplitShard(r);
  }

  FakeClock clock_;
  WriteFaults faults_;
  ShardStoreOptions options_;
  std::unique_ptr<ShardStore> store_;
};

// --- Tags ----------------------------------------------------------------------

TEST_F(StreamMetadataTest, TagsAreAddedOverwrittenListedInKeyOrderAndRemoved) {
  EXPECT_TRUE(Tags().empty());
  ASSERT_TRUE(AddTags({{"team", "ingest"}, {"env", "prod"}}).ok());
  ASSERT_TRUE(AddTags({{"env", "staging"}, {"cost-centre", ""}}).ok());
  EXPECT_THAT(Tags(),
              ElementsAre(Pair("cost-centre", ""), Pair("env", "staging"), Pair("team", "ingest")));
  ASSERT_TRUE(RemoveTags({"env", "not-there"}).ok());
  EXPECT_THAT(Tags(), ElementsAre(Pair("cost-centre", ""), Pair("team", "ingest")));
  ASSERT_TRUE(RemoveTags({"env"}).ok()) << "removing again is a no-op";
}

TEST_F(StreamMetadataTest, ListTagsForStreamPagesFromTheExclusiveStartKey) {
  ASSERT_TRUE(AddTags({{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}}).ok());
  absl::StatusOr<v1::ListTagsForStreamResponse> page = ListTags("", 2);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->tags_size(), 2);
  EXPECT_EQ(page->tags(1).key(), "b");
  EXPECT_TRUE(page->has_more_tags());
  page = ListTags("b", 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->tags_size(), 2);
  EXPECT_EQ(page->tags(0).key(), "c");
  EXPECT_TRUE(page->has_more_tags());
  page = ListTags("d", 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->tags_size(), 1);
  EXPECT_EQ(page->tags(0).key(), "e");
  EXPECT_FALSE(page->has_more_tags());
  page = ListTags("bb");  // a start key the stream does not have: the keys after it
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->tags(0).key(), "c");
}

TEST_F(StreamMetadataTest, AStreamHoldsAtMostFiftyTags) {
  std::vector<std::pair<std::string, std::string>> fifty, one_more = {{"k50", "v"}};
  for (int i = 0; i < 50; ++i) fifty.emplace_back(absl::StrCat("k", i), "v");
  ASSERT_TRUE(AddTags(fifty).ok());
  absl::Status over = AddTags(one_more);
  EXPECT_EQ(over.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(over.message()), HasSubstr("at most 50"));
  EXPECT_EQ(Tags().size(), 50u) << "nothing of the refused call was added";
  ASSERT_TRUE(AddTags({{"k0", "overwritten"}}).ok()) << "overwriting stays within the limit";
  fifty.emplace_back("k50", "v");
  EXPECT_EQ(AddTags(fifty).code(), absl::StatusCode::kInvalidArgument) << "51 in one call";
}

TEST_F(StreamMetadataTest, BadTagsAreInvalidArgumentNamingTheField) {
  const std::string long_key(129, 'k'), long_value(257, 'v');
  struct Case {
    const char* what;
    absl::Status status;
    const char* field;
  };
  const Case cases[] = {
      {"no tags", AddTags({}), "tags"},
      {"empty key", AddTags({{"", "v"}}), "key"},
      {"129-character key", AddTags({{long_key, "v"}}), "key"},
      {"257-character value", AddTags({{"k", long_value}}), "value"},
      {"a character outside the alphabet", AddTags({{"k", "a;b"}}), "value"},
      {"a control character", AddTags({{"k\x01", "v"}}), "key"},
      {"bad UTF-8", AddTags({{"k", "\xC3("}}), "UTF-8"},
      {"the reserved prefix", AddTags({{"aws:owner", "v"}}), "aws:"},
      {"no keys to remove", RemoveTags({}), "tag_keys"},
      {"an empty key to remove", RemoveTags({""}), "tag_keys[0]"},
      {"a limit over 50", ListTags("", 51).status(), "limit"},
      {"a bad stream name", AddTags({{"k", "v"}}, "bad name"), "stream_name"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), absl::StatusCode::kInvalidArgument) << c.what << ": " << c.status;
    EXPECT_THAT(std::string(c.status.message()), HasSubstr(c.field)) << c.what;
  }
  // Letters of any script, digits, white space and the punctuation Kinesis allows are fine.
  ASSERT_TRUE(AddTags({{"Gruppe été 数据", "a b_c.d/e=f+g-h%i@j:k"},
                       {std::string(128, 'k'), ""},
                       {"k", std::string(256, 'v')}})
                  .ok());
  EXPECT_EQ(Tags().size(), 3u);
}

TEST_F(StreamMetadataTest, TagsOfAMissingStreamAreNotFound) {
  EXPECT_EQ(AddTags({{"k", "v"}}, "missing").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ListTags("", 0, "missing").status().code(), absl::StatusCode::kNotFound);
}

// --- Registered consumers -------------------------------------------------------

TEST_F(StreamMetadataTest, AConsumerIsActiveAtOnceWithAnArnOfItsCreationSecond) {
  clock_.SetTime(absl::FromUnixMillis(1700000123456));
  absl::StatusOr<v1::Consumer> c = Register("reader-1");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->consumer_name(), "reader-1");
  EXPECT_EQ(c->consumer_arn(), "arn:tributary:stream/s/consumer/reader-1:1700000123");
  EXPECT_EQ(c->consumer_status(), v1::ACTIVE);
  EXPECT_EQ(c->consumer_creation_timestamp().seconds(), 1700000123);
  EXPECT_EQ(c->consumer_creation_timestamp().nanos(), 456000000);
  absl::StatusOr<v1::ConsumerDescription> d = Describe("s", "reader-1");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->consumer_arn(), c->consumer_arn());
  EXPECT_EQ(d->stream_arn(), "arn:tributary:stream/s");
  EXPECT_EQ(d->consumer_status(), v1::ACTIVE);
  EXPECT_EQ(ConsumerCount(), 1);
}

TEST_F(StreamMetadataTest, AConsumerIsNamedByArnOrByStreamAndNameOrByAllThreeWhenTheyAgree) {
  absl::StatusOr<v1::Consumer> c = Register("reader");
  ASSERT_TRUE(c.ok());
  const std::string arn = c->consumer_arn();
  EXPECT_TRUE(Describe("", "", arn).ok());
  EXPECT_TRUE(Describe("s", "reader", arn).ok());
  EXPECT_EQ(Describe("t", "", arn).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Describe("s", "other", arn).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Describe("s", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Describe("", "", "arn:tributary:stream/s/reader").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Describe("s", "nobody").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Describe("missing", "reader").status().code(), absl::StatusCode::kNotFound);
  // The same name registered again later is another consumer: the old ARN no longer names it.
  ASSERT_TRUE(Deregister("", "", arn).ok());
  EXPECT_EQ(Describe("s", "reader").status().code(), absl::StatusCode::kNotFound);
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(Register("reader").ok());
  absl::Status old = Describe("", "", arn).status();
  EXPECT_EQ(old.code(), absl::StatusCode::kNotFound) << old;
  EXPECT_EQ(Deregister("", "", arn).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Describe("s", "reader").ok());
}

TEST_F(StreamMetadataTest, ADuplicateNameIsAlreadyExistsAndTheTwentyFirstIsResourceExhausted) {
  ASSERT_TRUE(Register("c00").ok());
  EXPECT_EQ(Register("c00").status().code(), absl::StatusCode::kAlreadyExists);
  for (int i = 1; i < 20; ++i) ASSERT_TRUE(Register(absl::StrFormat("c%02d", i)).ok()) << i;
  absl::Status over = Register("c20").status();
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(over.message()), HasSubstr("limit of 20"));
  EXPECT_EQ(ConsumerCount(), 20);
  EXPECT_TRUE(Register("c20", "t").status().code() == absl::StatusCode::kNotFound);
  EXPECT_EQ(Register("bad name").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Register(std::string(129, 'c')).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StreamMetadataTest, ListStreamConsumersPagesInNameOrderWithTokens) {
  for (const char* name : {"d", "b", "a", "c", "e"}) ASSERT_TRUE(Register(name).ok());
  absl::StatusOr<v1::ListStreamConsumersResponse> page = ListConsumers(2);
  ASSERT_TRUE(page.ok()) << page.status();
  std::vector<std::string> names;
  while (true) {
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->consumers_size(), 2);
    for (const v1::Consumer& c : page->consumers()) names.push_back(c.consumer_name());
    if (page->next_token().empty()) break;
    page = ListConsumers(2, page->next_token());
  }
  EXPECT_THAT(names, ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_THAT(ConsumerNames(), ElementsAre("a", "b", "c", "d", "e"));
}

TEST_F(StreamMetadataTest, AConsumerListingTokenExpiresAndBelongsToItsStream) {
  for (const char* name : {"a", "b", "c"}) ASSERT_TRUE(Register(name).ok());
  CreateStream("t");
  absl::StatusOr<v1::ListStreamConsumersResponse> page = ListConsumers(1);
  ASSERT_TRUE(page.ok());
  ASSERT_FALSE(page->next_token().empty());
  EXPECT_EQ(ListConsumers(1, page->next_token(), "t").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ListConsumers(1, "garbage").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ListConsumers(10001).status().code(), absl::StatusCode::kInvalidArgument);
  clock_.Advance(absl::Minutes(5) + absl::Seconds(1));
  EXPECT_EQ(ListConsumers(1, page->next_token()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(StreamMetadataTest, DeleteStreamWithConsumersNeedsEnforceConsumerDeletion) {
  ASSERT_TRUE(AddTags({{"k", "v"}}).ok());
  ASSERT_TRUE(Register("reader").ok());
  absl::Status refused = Delete("s", /*enforce=*/false);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("enforce_consumer_deletion"));
  EXPECT_THAT(ConsumerNames(), ElementsAre("reader")) << "nothing was deleted";
  ASSERT_TRUE(Delete("s", /*enforce=*/true).ok());
  // A new stream of the same name starts with neither tags nor consumers, also after a restart.
  CreateStream("s");
  Reopen();
  EXPECT_TRUE(Tags().empty());
  EXPECT_TRUE(ConsumerNames().empty());
  // Without consumers, no flag is needed.
  ASSERT_TRUE(Delete("s", /*enforce=*/false).ok());
}

// --- Durability -----------------------------------------------------------------

TEST_F(StreamMetadataTest, TagsAndConsumersSurviveReopenAndTheRecordWritesOfReshards) {
  ASSERT_TRUE(AddTags({{"team", "ingest"}}).ok());
  absl::StatusOr<v1::Consumer> c = Register("reader");
  ASSERT_TRUE(c.ok());
  // A reshard and a retention change write the stream's record too: they must carry both.
  ASSERT_TRUE(Split().ok());
  v1::IncreaseStreamRetentionPeriodRequest retention;
  retention.set_stream_name("s");
  retention.set_retention_period_hours(48);
  ASSERT_TRUE(store_->IncreaseStreamRetentionPeriod(retention).ok());
  const std::string before = ObserveStore(*store_);
  Reopen();  // ~RocksDb does not flush: the WAL recovers the record
  EXPECT_EQ(ObserveStore(*store_), before);
  EXPECT_THAT(Tags(), ElementsAre(Pair("team", "ingest")));
  absl::StatusOr<v1::ConsumerDescription> d = Describe("s", "reader");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->consumer_arn(), c->consumer_arn());
  EXPECT_EQ(ConsumerCount(), 1);
}

TEST_F(StreamMetadataTest, AFailedWriteChangesNothing) {
  ASSERT_TRUE(AddTags({{"k", "v"}}).ok());
  ASSERT_TRUE(Register("reader").ok());
  const std::string before = ObserveStore(*store_);
  const std::vector<std::pair<const char*, std::function<absl::Status()>>> changes = {
      {"add tags",
       [&] {
         return AddTags({{"k", "changed"}, {"new", "v"}});
       }},
      {"remove tags", [&] { return RemoveTags({"k"}); }},
      {"register", [&] { return Register("other").status(); }},
      {"deregister", [&] { return Deregister("s", "reader"); }},
  };
  for (const auto& [what, change] : changes) {
    faults_.FailNth(WriteKind::kStreamMetadata, 1);
    absl::Status status = change();
    EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << what << ": " << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr("nothing was changed")) << what;
    EXPECT_EQ(ObserveStore(*store_), before) << what;
  }
  Reopen();
  EXPECT_EQ(ObserveStore(*store_), before);
  ASSERT_TRUE(RemoveTags({"k"}).ok()) << "healed";
  EXPECT_TRUE(Tags().empty());
}

// --- Concurrency ----------------------------------------------------------------

// A tags change meeting a reshard in flight waits for it; the stream's record then holds both.
TEST_F(StreamMetadataTest, ATagChangeDuringAReshardWaitsAndBothAreKept) {
  faults_.HoldNth(WriteKind::kReshard, 1, rocksdb::Status::OK());
  std::optional<absl::Status> split, tagged;
  std::thread splitter([&] { split = Split(); });
  ASSERT_TRUE(faults_.WaitUntilHeld()) << "the split never reached its write";
  std::thread tagger([&] { tagged = AddTags({{"k", "v"}}); });
  faults_.Release();
  splitter.join();
  tagger.join();
  ASSERT_TRUE(split.has_value() && tagged.has_value());
  ASSERT_TRUE(split->ok()) << *split;
  ASSERT_TRUE(tagged->ok()) << *tagged;
  const std::string live = ObserveStore(*store_);
  Reopen();
  EXPECT_EQ(ObserveStore(*store_), live);
  EXPECT_THAT(Tags(), ElementsAre(Pair("k", "v")));
}

// A reshard meeting a tags change in flight waits for it; the stream stays ACTIVE meanwhile
// (a tags change does not make it UPDATING), and the record then holds both.
TEST_F(StreamMetadataTest, AReshardDuringATagChangeWaitsAndBothAreKept) {
  faults_.HoldNth(WriteKind::kStreamMetadata, 1, rocksdb::Status::OK());
  std::optional<absl::Status> split, tagged;
  std::thread tagger([&] { tagged = AddTags({{"k", "v"}}); });
  ASSERT_TRUE(faults_.WaitUntilHeld()) << "the tag change never reached its write";
  v1::DescribeStreamSummaryRequest describe;
  describe.set_stream_name("s");
  absl::StatusOr<v1::DescribeStreamSummaryResponse> during =
      store_->DescribeStreamSummary(describe);
  ASSERT_TRUE(during.ok());
  EXPECT_EQ(during->stream_description_summary().stream_status(), v1::ACTIVE);
  std::thread splitter([&] { split = Split(); });
  faults_.Release();
  tagger.join();
  splitter.join();
  ASSERT_TRUE(split.has_value() && tagged.has_value());
  ASSERT_TRUE(split->ok()) << *split;
  ASSERT_TRUE(tagged->ok()) << *tagged;
  const std::string live = ObserveStore(*store_);
  Reopen();
  EXPECT_EQ(ObserveStore(*store_), live);
  EXPECT_THAT(Tags(), ElementsAre(Pair("k", "v")));
}

TEST_F(StreamMetadataTest, ConcurrentChangesAllLand) {
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      results[i] = i % 2 == 0 ? AddTags({{absl::StrCat("k", i), "v"}})
                              : Register(absl::StrCat("c", i)).status();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(Tags().size(), 4u);
  EXPECT_EQ(ConsumerNames().size(), 4u);
  Reopen();
  EXPECT_EQ(Tags().size(), 4u);
  EXPECT_EQ(ConsumerNames().size(), 4u);
}

}  // namespace
}  // namespace tributary::shard_store
