// tribctl against the real services, in process: the Streams service
// (shard_store's node over a fresh RocksDB directory) and the Leasing service,
// each on its own 127.0.0.1 port, both on a FakeClock. Checks that what tribctl
// sends is what the services accept, and that their answers print as intended.
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "leasing/testing/in_process_leasing.h"
#include "shard_store/shard_store_node.h"
#include "tools/tribctl/format.h"
#include "tools/tribctl/tribctl.h"
#include "tools/tribctl/testing/run_result.h"

namespace tributary::tribctl {
namespace {

using ::testing::HasSubstr;

class TribctlRealServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shard_store::ShardStoreNodeOptions options;
    options.store.data_dir = tributary::testing::NewTempDir("tribctl-streams");
    options.trim_period = absl::ZeroDuration();
    auto node = shard_store::ShardStoreNode::Create(options, clock_);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = std::move(*node);
    auto server = GrpcServer::Start("127.0.0.1:0", {node_->service()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto leasing = leasing::testing::InProcessLeasing::Start(clock_);
    ASSERT_TRUE(leasing.ok()) << leasing.status();
    leasing_ = std::move(*leasing);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  Result Run(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(),
                {"--endpoint=" + server_->address(), "--leasing-endpoint=" + leasing_->address()});
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    const int code = RunTribctl(args, Io{&in, &out, &err, nullptr});
    return {code, out.str(), err.str()};
  }

  template <typename T>
  T Json(const Result& r) {
    T message;
    auto status = FromJson(r.out, &message);
    EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << r.out << r.err;
    return message;
  }

  void CreateStream(const std::string& name, int shards) {
    Result r =
        Run({"streams", "create", "--stream=" + name, "--shard-count=" + std::to_string(shards)});
    ASSERT_EQ(r.code, kExitOk) << r.err;
  }

  FakeClock clock_;
  std::unique_ptr<shard_store::ShardStoreNode> node_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<leasing::testing::InProcessLeasing> leasing_;
};

TEST_F(TribctlRealServicesTest, CreateDescribeListAndDeleteAStream) {
  CreateStream("orders", 2);
  Result describe = Run({"streams", "describe", "--stream=orders"});
  EXPECT_EQ(describe.code, kExitOk) << describe.err;
  EXPECT_THAT(describe.out, HasSubstr("StreamStatus             ACTIVE\n"));
  EXPECT_THAT(describe.out, HasSubstr("OpenShardCount           2\n"));

  auto list = Json<v1::ListStreamsResponse>(Run({"streams", "list", "--output=json"}));
  EXPECT_THAT(list.stream_names(), ::testing::ElementsAre("orders"));

  EXPECT_EQ(Run({"streams", "delete", "--stream=orders"}).code, kExitOk);
  Result gone = Run({"streams", "describe", "--stream=orders"});
  EXPECT_EQ(gone.code, kExitError);
  EXPECT_THAT(gone.err, ::testing::StartsWith("error: NOT_FOUND: "));
}

TEST_F(TribctlRealServicesTest, TheServicesValidationErrorsReachTheOperator) {
  Result r = Run({"streams", "create", "--stream=bad name!", "--shard-count=1"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_THAT(r.err, ::testing::StartsWith("error: INVALID_ARGUMENT: "));
  CreateStream("dup", 1);
  Result again = Run({"streams", "create", "--stream=dup"});
  EXPECT_EQ(again.code, kExitError);
  EXPECT_THAT(again.err, ::testing::StartsWith("error: ALREADY_EXISTS: "));
}

TEST_F(TribctlRealServicesTest, RecordsPutFromStdinAreReadBackInOrderPerShard) {
  CreateStream("events", 2);
  std::string input;
  for (int i = 0; i < 600; ++i) input += absl::StrCat("key", i % 13, "\t", "value", i, "\n");
  Result put = Run({"records", "put", "--stream=events"}, input);
  ASSERT_EQ(put.code, kExitOk) << put.err;
  EXPECT_EQ(put.out, "put 600 record(s) in 2 PutRecords call(s), 0 failed\n");

  auto shards = Json<v1::ListShardsResponse>(
      Run({"streams", "list-shards", "--stream=events", "--output=json"}));
  ASSERT_EQ(shards.shards_size(), 2);
  int total = 0;
  for (const v1::Shard& shard : shards.shards()) {
    auto records = Json<v1::GetRecordsResponse>(
        Run({"records", "get", "--stream=events", "--shard-id=" + shard.shard_id(), "--limit=100",
             "--output=json"}));
    // Within a shard, the values of one key appear in the order they were written.
    std::map<std::string, int> last_value;
    for (const v1::Record& r : records.records()) {
      const int value = std::stoi(r.data().substr(5));
      auto it = last_value.find(r.partition_key());
      if (it != last_value.end()) {
        EXPECT_LT(it->second, value) << r.partition_key();
      }
      last_value[r.partition_key()] = value;
    }
    total += records.records_size();
  }
  EXPECT_EQ(total, 600);
}

TEST_F(TribctlRealServicesTest, PutOneRecordAndFollowItFromTrimHorizon) {
  CreateStream("one", 1);
  Result put = Run({"records", "put", "--stream=one", "--partition-key=k", "--data=hello"});
  ASSERT_EQ(put.code, kExitOk) << put.err;
  EXPECT_THAT(put.out, HasSubstr("ShardId         shardId-000000000000\n"));
  Result follow = Run({"records", "get", "--stream=one", "--shard-id=shardId-000000000000",
                       "--follow", "--max-records=1"});
  EXPECT_EQ(follow.code, kExitOk) << follow.err;
  EXPECT_THAT(follow.out, HasSubstr("  k  "));
  EXPECT_THAT(follow.out, ::testing::EndsWith("  hello\n"));
}

TEST_F(TribctlRealServicesTest, SplitInTheMiddleThenTheParentEndsWithItsChildren) {
  CreateStream("split", 1);
  Result split =
      Run({"streams", "split", "--stream=split", "--shard-to-split=shardId-000000000000"});
  ASSERT_EQ(split.code, kExitOk) << split.err;
  EXPECT_EQ(split.out,
            "split shardId-000000000000 at hash key 170141183460469231731687303715884105728\n");
  auto shards = Json<v1::ListShardsResponse>(
      Run({"streams", "list-shards", "--stream=split", "--output=json"}));
  ASSERT_EQ(shards.shards_size(), 3);
  EXPECT_FALSE(shards.shards(0).sequence_number_range().ending_sequence_number().empty());
  Result parent = Run({"records", "get", "--stream=split", "--shard-id=shardId-000000000000"});
  EXPECT_EQ(parent.code, kExitOk) << parent.err;
  EXPECT_THAT(parent.out, HasSubstr("child shards: shardId-000000000001, shardId-000000000002"));
}

TEST_F(TribctlRealServicesTest, RetentionChangesShowInDescribe) {
  CreateStream("kept", 1);
  Result up =
      Run({"streams", "increase-retention-period", "--stream=kept", "--retention-period-hours=48"});
  ASSERT_EQ(up.code, kExitOk) << up.err;
  EXPECT_THAT(Run({"streams", "describe", "--stream=kept"}).out,
              HasSubstr("RetentionPeriodHours     48\n"));
}

// Regression (issue 14, item 4): a shard nobody works on showed iterator age 0, i.e. "caught
// up", while nothing read it.
TEST_F(TribctlRealServicesTest, AShardNobodyWorksOnShowsNoIteratorAge) {
  v1::CreateLeasesRequest create;
  v1::NewLease* lease = create.add_leases();
  lease->set_event_source_mapping_uuid("m-1");
  lease->set_shard_id("shardId-000000000000");
  lease->set_enabled(true);
  ASSERT_TRUE(leasing_->client().CreateLeases(create).ok());
  const std::string unknown_age = "m-1 +shardId-000000000000 +- +0 +TRIM_HORIZON +- +true";
  Result table = Run({"leases", "list", "--mapping=m-1"});
  ASSERT_EQ(table.code, kExitOk) << table.err;
  EXPECT_THAT(table.out, ::testing::ContainsRegex(unknown_age)) << table.out;
  Result json = Run({"leases", "list", "--mapping=m-1", "--output=json"});
  ASSERT_EQ(json.code, kExitOk) << json.err;
  EXPECT_THAT(json.out, ::testing::Not(HasSubstr("iteratorAgeMs"))) << json.out;

  // Owned: 0 until the owner reports; the owner expires: unknown again.
  v1::RegisterPollerRequest reg;
  reg.set_poller_id("poller-a");
  reg.set_capacity(4);
  ASSERT_TRUE(leasing_->client().RegisterPoller(reg).ok());
  v1::AcquireLeasesRequest acquire;
  acquire.set_poller_id("poller-a");
  ASSERT_TRUE(leasing_->client().AcquireLeases(acquire).ok());
  EXPECT_THAT(Run({"leases", "list", "--mapping=m-1"}).out,
              ::testing::ContainsRegex("poller-a +1 +TRIM_HORIZON +0 +true"));
  clock_.Advance(absl::Seconds(11));
  EXPECT_THAT(Run({"leases", "list", "--mapping=m-1"}).out,
              ::testing::ContainsRegex("poller-a +1 +TRIM_HORIZON +- +true +true"));
}

TEST_F(TribctlRealServicesTest, LeasesAndPollersFromTheRealLeasingService) {
  v1::CreateLeasesRequest create;
  v1::NewLease* lease = create.add_leases();
  lease->set_event_source_mapping_uuid("m-1");
  lease->set_shard_id("shardId-000000000000");
  lease->set_stream_name("orders");
  lease->set_enabled(true);
  lease->mutable_initial_checkpoint()->set_type(v1::TRIM_HORIZON_CHECKPOINT);
  ASSERT_TRUE(leasing_->client().CreateLeases(create).ok());
  v1::RegisterPollerRequest reg;
  reg.set_poller_id("poller-a");
  reg.set_capacity(4);
  ASSERT_TRUE(leasing_->client().RegisterPoller(reg).ok());
  v1::AcquireLeasesRequest acquire;
  acquire.set_poller_id("poller-a");
  ASSERT_TRUE(leasing_->client().AcquireLeases(acquire).ok());

  Result leases = Run({"leases", "list", "--mapping=m-1"});
  EXPECT_EQ(leases.code, kExitOk) << leases.err;
  std::vector<std::string> lines = absl::StrSplit(leases.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << leases.out;
  EXPECT_THAT(lines[1], ::testing::MatchesRegex(
                            "m-1 +shardId-000000000000 +poller-a +[1-9][0-9]* +TRIM_HORIZON +0 +"
                            "true +false +- +- +- +-"));
  Result none = Run({"leases", "list", "--owner=nobody"});
  EXPECT_EQ(none.out,
            "MAPPING  SHARD_ID  OWNER  COUNTER  CHECKPOINT  ITERATOR_AGE_MS  ENABLED  EXPIRED  "
            "PARENTS  LAST_PROCESSING_RESULT  LAST_ERROR_TIME  LAST_ERROR\n");
  Result pollers = Run({"pollers", "list"});
  EXPECT_EQ(pollers.code, kExitOk) << pollers.err;
  EXPECT_THAT(pollers.out, ::testing::ContainsRegex("poller-a +true +4 +1 "));
}

// Issue 16: tags and registered consumers through tribctl against the real Streams service.
TEST_F(TribctlRealServicesTest, TagsAreAddedListedAndRemoved) {
  CreateStream("tagged", 1);
  Result tag = Run({"streams", "tag", "--stream-name=tagged", "--tags=team=data,tier=gold"});
  ASSERT_EQ(tag.code, kExitOk) << tag.err;
  Result more = Run({"streams", "tag", "--stream-name=tagged", "--tags=tier=silver,owner="});
  ASSERT_EQ(more.code, kExitOk) << more.err;
  Result list = Run({"streams", "list-tags", "--stream-name=tagged", "--limit=2"});
  EXPECT_EQ(list.code, kExitOk) << list.err;
  EXPECT_EQ(list.out,
            "KEY    VALUE\n"
            "owner  -\n"
            "team   data\n"
            "tier   silver\n")
      << "every page, in key order; a second tag call overwrites a value";

  Result untag = Run({"streams", "untag", "--stream-name=tagged", "--tag-keys=team,absent"});
  EXPECT_EQ(untag.code, kExitOk) << untag.err;
  auto json = Json<v1::ListTagsForStreamResponse>(
      Run({"streams", "list-tags", "--stream-name=tagged", "--output=json"}));
  ASSERT_EQ(json.tags_size(), 2);
  EXPECT_EQ(json.tags(0).key(), "owner");
  EXPECT_EQ(json.tags(1).key(), "tier");
  EXPECT_EQ(json.tags(1).value(), "silver");
}

TEST_F(TribctlRealServicesTest, TheServicesTagErrorsReachTheOperator) {
  Result missing = Run({"streams", "tag", "--stream-name=nope", "--tags=a=1"});
  EXPECT_EQ(missing.code, kExitError);
  EXPECT_THAT(missing.err, ::testing::StartsWith("error: NOT_FOUND: "));
  CreateStream("tagged", 1);
  Result too_long =
      Run({"streams", "tag", "--stream-name=tagged", "--tags=" + std::string(129, 'k') + "=v"});
  EXPECT_EQ(too_long.code, kExitError) << "a service rule, not tribctl's";
  EXPECT_THAT(too_long.err, ::testing::StartsWith("error: INVALID_ARGUMENT: "));
  Result bad = Run({"streams", "tag", "--stream-name=tagged", "--tags=novalue"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("--tags: 'novalue' is not key=value"));
}

TEST_F(TribctlRealServicesTest, AConsumerIsRegisteredDescribedListedAndDeregistered) {
  CreateStream("fanout", 1);
  Result registered = Run(
      {"consumers", "register", "--stream-name=fanout", "--consumer-name=app", "--output=json"});
  ASSERT_EQ(registered.code, kExitOk) << registered.err;
  const v1::Consumer consumer = Json<v1::RegisterStreamConsumerResponse>(registered).consumer();
  EXPECT_EQ(consumer.consumer_name(), "app");
  EXPECT_EQ(consumer.consumer_status(), v1::ACTIVE);
  ASSERT_FALSE(consumer.consumer_arn().empty());

  Result by_name = Run({"consumers", "describe", "--stream-name=fanout", "--consumer-name=app"});
  EXPECT_EQ(by_name.code, kExitOk) << by_name.err;
  EXPECT_THAT(by_name.out, HasSubstr("ConsumerARN                " + consumer.consumer_arn()));
  EXPECT_THAT(by_name.out, HasSubstr("StreamARN                  arn:tributary:stream/fanout\n"));
  Result by_arn = Run({"consumers", "describe", "--consumer-arn=" + consumer.consumer_arn()});
  EXPECT_EQ(by_arn.code, kExitOk) << by_arn.err;
  EXPECT_EQ(by_arn.out, by_name.out);

  ASSERT_EQ(Run({"consumers", "register", "--stream-name=fanout", "--consumer-name=other"}).code,
            kExitOk);
  auto list = Json<v1::ListStreamConsumersResponse>(
      Run({"consumers", "list", "--stream-name=fanout", "--max-results=1", "--output=json"}));
  ASSERT_EQ(list.consumers_size(), 2) << "every page";
  EXPECT_EQ(list.consumers(0).consumer_name(), "app");
  EXPECT_EQ(list.consumers(1).consumer_name(), "other");

  Result again = Run({"consumers", "register", "--stream-name=fanout", "--consumer-name=app"});
  EXPECT_EQ(again.code, kExitError);
  EXPECT_THAT(again.err, ::testing::StartsWith("error: ALREADY_EXISTS: "));

  Result gone = Run({"consumers", "deregister", "--consumer-arn=" + consumer.consumer_arn()});
  EXPECT_EQ(gone.code, kExitOk) << gone.err;
  Result described = Run({"consumers", "describe", "--stream-name=fanout", "--consumer-name=app"});
  EXPECT_EQ(described.code, kExitError);
  EXPECT_THAT(described.err, ::testing::StartsWith("error: NOT_FOUND: "));
  Result unnamed = Run({"consumers", "deregister", "--stream-name=fanout"});
  EXPECT_EQ(unnamed.code, kExitUsage);
  EXPECT_THAT(unnamed.err, HasSubstr("name the consumer by --consumer-arn"));
}

}  // namespace
}  // namespace tributary::tribctl
