// tribctl end to end: RunTribctl against in-process fake services on
// 127.0.0.1:0 over real channels. Each test checks the request that reached the
// service, what was printed, and the exit code.
#include "tools/tribctl/tribctl.h"

#include <memory>
#include <sstream>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "common/grpc_server.h"
#include "common/testing/assertions.h"
#include "common/version.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tools/tribctl/format.h"
#include "tools/tribctl/testing/fake_services.h"
#include "tools/tribctl/testing/run_result.h"

namespace tributary::tribctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

template <typename T>
T Proto(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

// An output buffer that another thread may write while the test waits for a
// piece of text to appear in it.
class WatchedBuffer : public std::streambuf {
 public:
  // Waits (real time, at most `timeout`: a failure guard) until the text holds
  // `fragment`. A failure shows the text.
  [[nodiscard]] ::testing::AssertionResult WaitFor(const std::string& fragment,
                                                   absl::Duration timeout = absl::Seconds(10)) {
    return tributary::testing::IsOk(AwaitFor(
        mu_, timeout, absl::StrCat("output holding \"", fragment, "\""),
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return absl::StrContains(text_, fragment); },
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return absl::StrCat("\"", text_, "\""); }));
  }
  std::string text() {
    absl::MutexLock lock(&mu_);
    return text_;
  }

 protected:
  int overflow(int ch) override {
    if (ch == traits_type::eof()) return traits_type::not_eof(ch);
    absl::MutexLock lock(&mu_);
    text_.push_back(static_cast<char>(ch));
    return ch;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    absl::MutexLock lock(&mu_);
    text_.append(s, n);
    return n;
  }

 private:
  absl::Mutex mu_;
  std::string text_ ABSL_GUARDED_BY(mu_);
};

class TribctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = GrpcServer::Start("127.0.0.1:0", {&streams_, &mappings_, &functions_, &leasing_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  // Runs tribctl with --endpoint pointing at the fakes.
  Result Run(std::vector<std::string> args, const std::string& stdin_text = "",
             Interrupt* interrupt = nullptr) {
    args.insert(args.begin(), "--endpoint=" + server_->address());
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    const int code = RunTribctl(args, Io{&in, &out, &err, interrupt});
    return {code, out.str(), err.str()};
  }

  testing::FakeStreams streams_;
  testing::FakeMappings mappings_;
  testing::FakeFunctions functions_;
  testing::FakeLeasing leasing_;
  std::unique_ptr<GrpcServer> server_;
};

TEST_F(TribctlTest, StreamsCreateSendsTheRequestAndConfirms) {
  Result r = Run({"streams", "create", "--stream=orders", "--shard-count=4"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "created stream orders with 4 shard(s)\n");
  auto requests = streams_.Requests<v1::CreateStreamRequest>("CreateStream");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].stream_name(), "orders");
  EXPECT_EQ(requests[0].shard_count(), 4);
}

TEST_F(TribctlTest, AServiceErrorPrintsItsCodeAndMessageAndExitsOne) {
  streams_.SetError("DescribeStreamSummary", absl::NotFoundError("stream orders not found"));
  Result r = Run({"streams", "describe", "--stream=orders"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.err, "error: NOT_FOUND: stream orders not found\n");
  EXPECT_THAT(r.out, IsEmpty());
}

TEST_F(TribctlTest, AnUnreachableServiceIsUnavailable) {
  auto other = GrpcServer::Start("127.0.0.1:0", {});
  ASSERT_TRUE(other.ok());
  const std::string closed = (*other)->address();
  other->reset();  // nothing listens there now
  Result r = Run({"streams", "list", "--streams-endpoint=" + closed, "--timeout=2s"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_THAT(r.err, ::testing::StartsWith("error: UNAVAILABLE: "));
}

// A refused connection says which endpoint, where it came from and how to set it.
TEST_F(TribctlTest, ARefusedConnectionNamesTheEndpointAndHowToSetIt) {
  auto other = GrpcServer::Start("127.0.0.1:0", {});
  ASSERT_TRUE(other.ok());
  const std::string closed = (*other)->address();
  other->reset();  // nothing listens there now
  std::istringstream in;
  std::ostringstream out, err;
  EndpointDefaults endpoints;
  endpoints.env_endpoint = closed;
  EXPECT_EQ(
      RunTribctl({"streams", "list", "--timeout=2s"}, Io{&in, &out, &err, nullptr}, endpoints),
      kExitError);
  EXPECT_THAT(err.str(), ::testing::StartsWith("error: UNAVAILABLE: "));
  EXPECT_THAT(err.str(), HasSubstr(absl::StrCat("hint: no Tributary answered at ", closed,
                                                " (endpoint from TRIBUTARY_ENDPOINT)")));
  EXPECT_THAT(err.str(), HasSubstr("--endpoint=HOST:PORT, the TRIBUTARY_ENDPOINT variable, or "
                                   "'endpoint = HOST:PORT' in ~/.config/tributary/config"));
}

TEST_F(TribctlTest, AServiceSaysUnavailableWithoutTheConnectionHint) {
  streams_.SetError("ListStreams", absl::UnavailableError("shutting down"));
  Result r = Run({"streams", "list"});
  EXPECT_EQ(r.err, "error: UNAVAILABLE: shutting down\n");
}

TEST_F(TribctlTest, AUsageErrorExitsTwoAndCallsNothing) {
  Result r = Run({"streams", "create", "--stream=s", "--shard-count=many"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("error: INVALID_ARGUMENT: flag --shard-count"));
  EXPECT_THAT(r.err, HasSubstr("--help"));
  EXPECT_THAT(streams_.Calls(), IsEmpty());
}

TEST_F(TribctlTest, AServerInvalidArgumentIsNotAUsageError) {
  streams_.SetError("CreateStream", absl::InvalidArgumentError("shard_count: must be >= 1"));
  Result r = Run({"streams", "create", "--stream=s", "--shard-count=0"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.err, "error: INVALID_ARGUMENT: shard_count: must be >= 1\n");
}

TEST_F(TribctlTest, HelpPrintsUsageAndExitsZero) {
  Result r = Run({"mappings", "create", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("--function-endpoint"));
  EXPECT_THAT(streams_.Calls(), IsEmpty());
}

TEST_F(TribctlTest, VersionPrintsTheVersionConstantAndCallsNothing) {
  Result r = Run({"--version"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, absl::StrCat("tribctl ", kVersion, "\n"));
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(Run({"streams", "list", "--version"}).out, r.out);
  EXPECT_THAT(streams_.Calls(), IsEmpty());
}

TEST_F(TribctlTest, DescribeAsTableAndAsJson) {
  auto reply = Proto<v1::DescribeStreamSummaryResponse>(
      "stream_description_summary { stream_name: 'orders' stream_status: ACTIVE "
      "retention_period_hours: 24 open_shard_count: 4 stream_arn: 'arn:tributary:stream/orders' "
      "}");
  streams_.SetReply("DescribeStreamSummary", reply);
  Result table = Run({"streams", "describe", "--stream=orders"});
  EXPECT_EQ(table.code, kExitOk) << table.err;
  EXPECT_THAT(table.out, HasSubstr("StreamStatus             ACTIVE\n"));
  EXPECT_THAT(table.out, HasSubstr("OpenShardCount           4\n"));

  Result json = Run({"streams", "describe", "--stream=orders", "--output=json"});
  EXPECT_EQ(json.code, kExitOk) << json.err;
  v1::DescribeStreamSummaryResponse parsed;
  ASSERT_TRUE(FromJson(json.out, &parsed).ok()) << json.out;
  EXPECT_EQ(parsed.SerializeAsString(), reply.SerializeAsString());
}

TEST_F(TribctlTest, StreamsListFollowsEveryPage) {
  auto page1 = Proto<v1::ListStreamsResponse>(
      "stream_names: ['a', 'b'] has_more_streams: true next_token: 't1'");
  auto page2 = Proto<v1::ListStreamsResponse>("stream_names: ['c'] has_more_streams: false");
  streams_.SetReplies("ListStreams", {&page1, &page2});
  Result r = Run({"streams", "list", "--limit=2"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "STREAM_NAME  STATUS  CREATED  ARN\n"
            "a            -       -        -\n"
            "b            -       -        -\n"
            "c            -       -        -\n");
  auto requests = streams_.Requests<v1::ListStreamsRequest>("ListStreams");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].next_token(), "");
  EXPECT_EQ(requests[1].next_token(), "t1");
  EXPECT_EQ(requests[1].limit(), 2);
}

TEST_F(TribctlTest, ListShardsFollowsNextTokenWithoutTheStreamName) {
  auto page1 =
      Proto<v1::ListShardsResponse>("shards { shard_id: 'shardId-000000000000' } next_token: 'n1'");
  auto page2 = Proto<v1::ListShardsResponse>("shards { shard_id: 'shardId-000000000001' }");
  streams_.SetReplies("ListShards", {&page1, &page2});
  Result r = Run({"streams", "list-shards", "--stream=s", "--output=json"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  v1::ListShardsResponse merged;
  ASSERT_TRUE(FromJson(r.out, &merged).ok()) << r.out;
  ASSERT_EQ(merged.shards_size(), 2);
  EXPECT_EQ(merged.shards(1).shard_id(), "shardId-000000000001");
  auto requests = streams_.Requests<v1::ListShardsRequest>("ListShards");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].stream_name(), "s");
  EXPECT_EQ(requests[1].stream_name(), "");
  EXPECT_EQ(requests[1].next_token(), "n1");
}

TEST_F(TribctlTest, SplitWithoutAHashKeySplitsTheShardInTheMiddle) {
  streams_.SetReply("ListShards", Proto<v1::ListShardsResponse>(
                                      "shards { shard_id: 'shardId-000000000000' hash_key_range { "
                                      "starting_hash_key: '0' ending_hash_key: '99' } } "
                                      "shards { shard_id: 'shardId-000000000001' hash_key_range { "
                                      "starting_hash_key: '100' ending_hash_key: '199' } }"));
  Result r = Run({"streams", "split", "--stream=s", "--shard-to-split=shardId-000000000001"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "split shardId-000000000001 at hash key 150\n");
  auto requests = streams_.Requests<v1::SplitShardRequest>("SplitShard");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].new_starting_hash_key(), "150");
}

TEST_F(TribctlTest, SplitOfAnUnknownShardIsNotFound) {
  Result r = Run({"streams", "split", "--stream=s", "--shard-to-split=shardId-000000000009"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.err, "error: NOT_FOUND: shard shardId-000000000009 not found in stream s\n");
  EXPECT_THAT(streams_.Requests<v1::SplitShardRequest>("SplitShard"), IsEmpty());
}

TEST_F(TribctlTest, UpdateShardCountAndRetentionCommands) {
  streams_.SetReply("UpdateShardCount",
                    Proto<v1::UpdateShardCountResponse>(
                        "stream_name: 's' current_shard_count: 2 target_shard_count: 4"));
  Result r = Run({"streams", "update-shard-count", "--stream=s", "--target-shard-count=4"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("TargetShardCount   4"));
  r = Run({"streams", "increase-retention-period", "--stream=s", "--retention-period-hours=48"});
  EXPECT_EQ(r.out, "retention period of s is now 48 hours\n");
  r = Run({"streams", "merge", "--stream=s", "--shard-to-merge=a", "--adjacent-shard-to-merge=b"});
  EXPECT_EQ(r.out, "merged a and b\n");
  EXPECT_THAT(streams_.Calls(),
              ElementsAre("UpdateShardCount", "IncreaseStreamRetentionPeriod", "MergeShards"));
}

TEST_F(TribctlTest, RecordsPutOneRecord) {
  streams_.SetReply("PutRecord", Proto<v1::PutRecordResponse>(
                                     "shard_id: 'shardId-000000000001' sequence_number: '17'"));
  Result r = Run({"records", "put", "--stream=s", "--partition-key=k", "--data=hello"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "FIELD           VALUE\n"
            "ShardId         shardId-000000000001\n"
            "SequenceNumber  17\n");
  auto requests = streams_.Requests<v1::PutRecordRequest>("PutRecord");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].data(), "hello");
}

TEST_F(TribctlTest, RecordsPutFromStdinSendsBatchesOf500InOrder) {
  std::string input;
  for (int i = 0; i < 1001; ++i)
    input += "key" + std::to_string(i % 7) + "\t" + std::to_string(i) + "\n";
  Result r = Run({"records", "put", "--stream=s"}, input);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  auto requests = streams_.Requests<v1::PutRecordsRequest>("PutRecords");
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].records_size(), 500);
  EXPECT_EQ(requests[1].records_size(), 500);
  EXPECT_EQ(requests[2].records_size(), 1);
  EXPECT_EQ(requests[1].records(0).data(), "500");
  EXPECT_EQ(requests[2].records(0).partition_key(), "key6");  // line 1000: 1000 % 7 == 6
  EXPECT_EQ(requests[2].records(0).data(), "1000");
  EXPECT_EQ(r.out, "put 1001 record(s) in 3 PutRecords call(s), 0 failed\n");
}

TEST_F(TribctlTest, RecordsPutReportsRecordsThatFailedAndExitsOne) {
  streams_.SetReply("PutRecords",
                    Proto<v1::PutRecordsResponse>(
                        "failed_record_count: 1 "
                        "records { shard_id: 'x' sequence_number: '1' } "
                        "records { error_code: 'ProvisionedThroughputExceededException' "
                        "error_message: 'slow down' }"));
  Result r = Run({"records", "put", "--stream=s", "--partition-key=k"}, "one\ntwo\n");
  EXPECT_EQ(r.code, kExitError);
  EXPECT_THAT(r.out, HasSubstr("put 2 record(s) in 1 PutRecords call(s), 1 failed\n"));
  EXPECT_THAT(r.out, HasSubstr("1      ProvisionedThroughputExceededException  slow down"));
  EXPECT_EQ(r.err,
            "error: RESOURCE_EXHAUSTED: 1 of 2 records were not written (first: "
            "ProvisionedThroughputExceededException: slow down)\n");
}

TEST_F(TribctlTest, RecordsPutStopsAtABadStdinLineAsAUsageError) {
  Result r = Run({"records", "put", "--stream=s"}, "k\tv\nbroken\n");
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("stdin line 2"));
  EXPECT_THAT(streams_.Calls(), IsEmpty());
}

TEST_F(TribctlTest, RecordsGetReadsPagesUntilCaughtUp) {
  streams_.SetReply("GetShardIterator",
                    Proto<v1::GetShardIteratorResponse>("shard_iterator: 'i0'"));
  auto page1 = Proto<v1::GetRecordsResponse>(
      "records { sequence_number: '1' partition_key: 'a' data: 'one' } "
      "records { sequence_number: '2' partition_key: 'b' data: 'two' } "
      "next_shard_iterator: 'i1' millis_behind_latest: 5");
  auto page2 = Proto<v1::GetRecordsResponse>(
      "records { sequence_number: '3' partition_key: 'a' data: 'three' } "
      "next_shard_iterator: 'i2'");
  auto empty = Proto<v1::GetRecordsResponse>("next_shard_iterator: 'i3'");
  streams_.SetReplies("GetRecords", {&page1, &page2, &empty});
  Result r = Run({"records", "get", "--stream=s", "--shard-id=shardId-000000000000"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "SEQUENCE_NUMBER  PARTITION_KEY  ARRIVAL  DATA\n"
            "1                a              -        one\n"
            "2                b              -        two\n"
            "3                a              -        three\n");
  auto requests = streams_.Requests<v1::GetRecordsRequest>("GetRecords");
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].shard_iterator(), "i0");
  EXPECT_EQ(requests[2].shard_iterator(), "i2");
}

TEST_F(TribctlTest, RecordsGetStopsAtMaxRecordsAndAsksForNoMore) {
  streams_.SetReply("GetShardIterator",
                    Proto<v1::GetShardIteratorResponse>("shard_iterator: 'i0'"));
  streams_.SetReply("GetRecords", Proto<v1::GetRecordsResponse>(
                                      "records { sequence_number: '1' partition_key: 'a' } "
                                      "records { sequence_number: '2' partition_key: 'a' } "
                                      "next_shard_iterator: 'i1'"));
  Result r =
      Run({"records", "get", "--stream=s", "--shard-id=x", "--max-records=3", "--output=json"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  v1::GetRecordsResponse merged;
  ASSERT_TRUE(FromJson(r.out, &merged).ok()) << r.out;
  EXPECT_EQ(merged.records_size(), 3);
  auto requests = streams_.Requests<v1::GetRecordsRequest>("GetRecords");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].limit(), 3);
  EXPECT_EQ(requests[1].limit(), 1);
}

// --output=jsonl streams: a compact JSON record per line, printed page by page (never the whole
// shard in memory), stopping at --max-records; the end of a closed shard is a note on stderr.
TEST_F(TribctlTest, RecordsGetJsonlPrintsARecordPerLineAndStopsAtMaxRecords) {
  streams_.SetReply("GetShardIterator",
                    Proto<v1::GetShardIteratorResponse>("shard_iterator: 'i0'"));
  streams_.SetReply("GetRecords", Proto<v1::GetRecordsResponse>(
                                      "records { sequence_number: '1' partition_key: 'a' } "
                                      "records { sequence_number: '2' partition_key: 'b' } "
                                      "next_shard_iterator: 'i1'"));
  Result r =
      Run({"records", "get", "--stream=s", "--shard-id=x", "--max-records=3", "--output=jsonl"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0], "{\"sequenceNumber\":\"1\",\"partitionKey\":\"a\"}");
  v1::Record third;
  ASSERT_TRUE(FromJson(lines[2], &third).ok()) << lines[2];
  EXPECT_EQ(third.sequence_number(), "1");  // the second page's first record
  auto requests = streams_.Requests<v1::GetRecordsRequest>("GetRecords");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].limit(), 1);

  streams_.SetReply("GetRecords", Proto<v1::GetRecordsResponse>(
                                      "records { sequence_number: '7' partition_key: 'a' } "
                                      "child_shards { shard_id: 'shardId-000000000002' }"));
  r = Run({"records", "get", "--stream=s", "--shard-id=x", "--output=jsonl"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "{\"sequenceNumber\":\"7\",\"partitionKey\":\"a\"}\n");
  EXPECT_THAT(r.err, HasSubstr("end of the closed shard x; child shards: shardId-000000000002"));
}

TEST_F(TribctlTest, RecordsGetNotesTheChildrenOfAClosedShard) {
  streams_.SetReply("GetShardIterator",
                    Proto<v1::GetShardIteratorResponse>("shard_iterator: 'i0'"));
  streams_.SetReply("GetRecords", Proto<v1::GetRecordsResponse>(
                                      "records { sequence_number: '1' partition_key: 'a' } "
                                      "child_shards { shard_id: 'shardId-000000000002' } "
                                      "child_shards { shard_id: 'shardId-000000000003' }"));
  Result r = Run({"records", "get", "--stream=s", "--shard-id=x"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(end of the closed shard; child shards: shardId-000000000002, "
                               "shardId-000000000003)\n"));
  EXPECT_EQ(streams_.Requests<v1::GetRecordsRequest>("GetRecords").size(), 1u);
}

std::vector<v1::SubscribeToShardEvent> ThreeRecordEvents() {
  return {Proto<v1::SubscribeToShardEvent>(
              "records { sequence_number: '1' partition_key: 'a' data: 'r1' } "
              "records { sequence_number: '2' partition_key: 'b' data: 'r2' } "
              "continuation_sequence_number: '2'"),
          Proto<v1::SubscribeToShardEvent>(
              "records { sequence_number: '3' partition_key: 'a' data: 'r3' } "
              "continuation_sequence_number: '3'")};
}

TEST_F(TribctlTest, FollowStopsAtMaxRecords) {
  streams_.SetSubscribeEvents(ThreeRecordEvents(), /*hold_open=*/true);
  Result r = Run({"records", "get", "--stream=s", "--shard-id=shardId-000000000000",
                  "--iterator-type=LATEST", "--follow", "--max-records=2", "--output=json"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << r.out;
  v1::Record second;
  ASSERT_TRUE(FromJson(lines[1], &second).ok());
  EXPECT_EQ(second.sequence_number(), "2");
  auto requests = streams_.Requests<v1::SubscribeToShardRequest>("SubscribeToShard");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].starting_position().type(), v1::LATEST);
  EXPECT_EQ(requests[0].stream_name(), "s");
}

TEST_F(TribctlTest, FollowEndsCleanlyOnInterrupt) {
  streams_.SetSubscribeEvents(ThreeRecordEvents(), /*hold_open=*/true);
  Interrupt interrupt;
  WatchedBuffer buffer;
  std::ostream out(&buffer);
  std::ostringstream err;
  std::istringstream in;
  int code = -1;
  std::thread runner([&] {
    code = RunTribctl({"--endpoint=" + server_->address(), "records", "get", "--stream=s",
                       "--shard-id=shardId-000000000000", "--follow"},
                      Io{&in, &out, &err, &interrupt});
  });
  ASSERT_TRUE(buffer.WaitFor("r3\n")) << "the third record never arrived";
  interrupt.Trigger();  // what Ctrl-C does in main
  runner.join();
  EXPECT_EQ(code, kExitOk) << err.str();
  EXPECT_EQ(buffer.text(),
            "SHARD_ID  SEQUENCE_NUMBER  PARTITION_KEY  ARRIVAL  DATA\n"
            "shardId-000000000000  1  a  -  r1\n"
            "shardId-000000000000  2  b  -  r2\n"
            "shardId-000000000000  3  a  -  r3\n");
}

TEST_F(TribctlTest, FollowEndsAtTheEndOfAClosedShard) {
  std::vector<v1::SubscribeToShardEvent> events = ThreeRecordEvents();
  events.push_back(Proto<v1::SubscribeToShardEvent>(
      "continuation_sequence_number: '3' child_shards { shard_id: 'shardId-000000000004' }"));
  streams_.SetSubscribeEvents(events, /*hold_open=*/false);
  Result r = Run({"records", "get", "--stream=s", "--shard-id=x", "--follow"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.err, HasSubstr("child shards: shardId-000000000004"));
  EXPECT_EQ(streams_.Requests<v1::SubscribeToShardRequest>("SubscribeToShard").size(), 1u);
}

TEST_F(TribctlTest, FollowResubscribesAfterTheLastRecordWhenTheServerEndsTheCall) {
  // The fake ends every call after its events: tribctl resubscribes after sequence number 3,
  // and the second call (same events) is cut by --max-records.
  streams_.SetSubscribeEvents(ThreeRecordEvents(), /*hold_open=*/false);
  Result r = Run({"records", "get", "--stream=s", "--shard-id=x", "--follow", "--max-records=4"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  auto requests = streams_.Requests<v1::SubscribeToShardRequest>("SubscribeToShard");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].starting_position().type(), v1::AFTER_SEQUENCE_NUMBER);
  EXPECT_EQ(requests[1].starting_position().sequence_number(), "3");
}

TEST_F(TribctlTest, FollowReportsAFailedSubscription) {
  streams_.SetError("SubscribeToShard", absl::NotFoundError("shard x not found"));
  Result r = Run({"records", "get", "--stream=s", "--shard-id=x", "--follow"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.err, "error: NOT_FOUND: shard x not found\n");
}

TEST_F(TribctlTest, MappingsCreateSendsEveryFlagAndShowsTheMapping) {
  mappings_.SetReply("CreateEventSourceMapping",
                     Proto<v1::EventSourceMappingConfiguration>(
                         "uuid: 'u-1' stream_name: 'orders' state: CREATING_MAPPING"));
  Result r = Run({"mappings", "create", "--stream=orders", "--function-endpoint=127.0.0.1:4570",
                  "--starting-position=TRIM_HORIZON", "--batch-size=50",
                  "--bisect-batch-on-function-error", "--maximum-retry-attempts=3",
                  "--destination=orders-dlq", "--function-response-types=ReportBatchItemFailures"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("UUID                            u-1\n"));
  EXPECT_THAT(r.out, HasSubstr("State                           CREATING\n"));
  auto requests =
      mappings_.Requests<v1::CreateEventSourceMappingRequest>("CreateEventSourceMapping");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].batch_size(), 50);
  EXPECT_TRUE(requests[0].bisect_batch_on_function_error());
  EXPECT_EQ(requests[0].maximum_retry_attempts(), 3);
  EXPECT_EQ(requests[0].destination_config().on_failure().destination(), "orders-dlq");
  EXPECT_EQ(requests[0].function_response_types_size(), 1);
}

TEST_F(TribctlTest, MappingsUpdateGetDeleteCallTheirRpcs) {
  EXPECT_EQ(Run({"mappings", "update", "--uuid=u-1", "--no-enabled"}).code, kExitOk);
  EXPECT_EQ(Run({"mappings", "get", "--uuid=u-1"}).code, kExitOk);
  EXPECT_EQ(Run({"mappings", "delete", "--uuid=u-1"}).code, kExitOk);
  EXPECT_THAT(mappings_.Calls(), ElementsAre("UpdateEventSourceMapping", "GetEventSourceMapping",
                                             "DeleteEventSourceMapping"));
  auto update = mappings_.Requests<v1::UpdateEventSourceMappingRequest>("UpdateEventSourceMapping");
  ASSERT_EQ(update.size(), 1u);
  EXPECT_TRUE(update[0].has_enabled());
  EXPECT_FALSE(update[0].enabled());
  EXPECT_FALSE(update[0].update_function_response_types());
}

TEST_F(TribctlTest, MappingsListFollowsMarkers) {
  auto page1 = Proto<v1::ListEventSourceMappingsResponse>(
      "event_source_mappings { uuid: 'u-1' stream_name: 's' state: ENABLED batch_size: 100 "
      "parallelization_factor: 1 } next_marker: 'm1'");
  auto page2 = Proto<v1::ListEventSourceMappingsResponse>(
      "event_source_mappings { uuid: 'u-2' stream_name: 's' state: DISABLED batch_size: 10 "
      "parallelization_factor: 2 last_processing_result: 'OK' }");
  mappings_.SetReplies("ListEventSourceMappings", {&page1, &page2});
  Result r = Run({"mappings", "list", "--stream=s"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "UUID  STREAM  FUNCTION_NAME  FUNCTION_ENDPOINT  STATE     BATCH_SIZE  "
            "PARALLELIZATION  LAST_PROCESSING_RESULT\n"
            "u-1   s       -                                 ENABLED   100         "
            "1                -\n"
            "u-2   s       -                                 DISABLED  10          "
            "2                OK\n");
  auto requests = mappings_.Requests<v1::ListEventSourceMappingsRequest>("ListEventSourceMappings");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].marker(), "m1");
  EXPECT_EQ(requests[1].stream_name(), "s");
}

TEST_F(TribctlTest, MappingsCreateByFunctionNameSendsTheName) {
  mappings_.SetReply("CreateEventSourceMapping",
                     Proto<v1::EventSourceMappingConfiguration>(
                         "uuid: 'u-1' function_name: 'orders-fn' function_endpoint: 'h:1'"));
  Result r = Run({"mappings", "create", "--stream=orders", "--function-name=orders-fn",
                  "--starting-position=LATEST"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("FunctionName                    orders-fn\n"));
  auto requests =
      mappings_.Requests<v1::CreateEventSourceMappingRequest>("CreateEventSourceMapping");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].function_name(), "orders-fn");
  EXPECT_EQ(requests[0].function_endpoint(), "");
}

TEST_F(TribctlTest, MappingsCreateWithoutAFunctionIsAUsageErrorAndCallsNothing) {
  Result r = Run({"mappings", "create", "--stream=orders", "--starting-position=LATEST"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("missing --function-endpoint or --function-name"));
  EXPECT_THAT(mappings_.Calls(), IsEmpty());
}

TEST_F(TribctlTest, FunctionsCreateSendsEveryFlagAndShowsTheFunction) {
  functions_.SetReply(
      "CreateFunction",
      Proto<v1::FunctionConfiguration>("function_name: 'orders-fn' endpoint: '127.0.0.1:4570' "
                                       "timeout_seconds: 30 reserved_concurrent_executions: 2"));
  Result r =
      Run({"functions", "create", "--function-name=orders-fn", "--function-endpoint=127.0.0.1:4570",
           "--function-timeout-seconds=30", "--reserved-concurrent-executions=2"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("FunctionName                  orders-fn\n"));
  EXPECT_THAT(r.out, HasSubstr("ReservedConcurrentExecutions  2\n"));
  auto requests = functions_.Requests<v1::CreateFunctionRequest>("CreateFunction");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].function_name(), "orders-fn");
  EXPECT_EQ(requests[0].endpoint(), "127.0.0.1:4570");
  EXPECT_EQ(requests[0].timeout_seconds(), 30);
  EXPECT_EQ(requests[0].reserved_concurrent_executions(), 2);
}

TEST_F(TribctlTest, FunctionsCommandsCallTheirRpcsOnTheMappingsEndpoint) {
  EXPECT_EQ(Run({"functions", "update", "--function-name=f", "--function-endpoint=h:2"}).code,
            kExitOk);
  EXPECT_EQ(Run({"functions", "get", "--function-name=f"}).code, kExitOk);
  Result deleted = Run({"functions", "delete", "--function-name=f"});
  EXPECT_EQ(deleted.code, kExitOk);
  EXPECT_EQ(deleted.out, "deleted function f\n");
  EXPECT_EQ(Run({"functions", "put-function-concurrency", "--function-name=f",
                 "--reserved-concurrent-executions=0"})
                .code,
            kExitOk);
  EXPECT_EQ(Run({"functions", "get-function-concurrency", "--function-name=f"}).code, kExitOk);
  EXPECT_EQ(Run({"functions", "delete-function-concurrency", "--function-name=f"}).code, kExitOk);
  EXPECT_THAT(functions_.Calls(), ElementsAre("UpdateFunction", "GetFunction", "DeleteFunction",
                                              "PutFunctionConcurrency", "GetFunctionConcurrency",
                                              "DeleteFunctionConcurrency"));
  auto put = functions_.Requests<v1::PutFunctionConcurrencyRequest>("PutFunctionConcurrency");
  ASSERT_EQ(put.size(), 1u);
  EXPECT_TRUE(put[0].has_reserved_concurrent_executions());
  EXPECT_EQ(put[0].reserved_concurrent_executions(), 0);
}

TEST_F(TribctlTest, FunctionsListFollowsMarkersAndMergesJson) {
  auto page1 = Proto<v1::ListFunctionsResponse>(
      "functions { function_name: 'a' endpoint: 'h:1' timeout_seconds: 3 } next_marker: 'a'");
  auto page2 = Proto<v1::ListFunctionsResponse>(
      "functions { function_name: 'b' endpoint: 'h:2' timeout_seconds: 9 "
      "reserved_concurrent_executions: 4 }");
  functions_.SetReplies("ListFunctions", {&page1, &page2});
  Result r = Run({"functions", "list", "--max-items=1", "--output=json"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  v1::ListFunctionsResponse merged;
  ASSERT_TRUE(FromJson(r.out, &merged).ok()) << r.out;
  ASSERT_EQ(merged.functions_size(), 2);
  EXPECT_EQ(merged.functions(1).reserved_concurrent_executions(), 4);
  auto requests = functions_.Requests<v1::ListFunctionsRequest>("ListFunctions");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].max_items(), 1);
  EXPECT_EQ(requests[1].marker(), "a");
}

TEST_F(TribctlTest, ARefusedFunctionDeletePrintsTheTrackersReasonAndExitsOne) {
  functions_.SetError("DeleteFunction",
                      absl::FailedPreconditionError(
                          "function f is used by event source mappings u-1: delete them or point "
                          "them at another function first"));
  Result r = Run({"functions", "delete", "--function-name=f"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.err,
            "error: FAILED_PRECONDITION: function f is used by event source mappings u-1: delete "
            "them or point them at another function first\n");
}

TEST_F(TribctlTest, LeasesListPassesFiltersAndFollowsPages) {
  auto page1 = Proto<v1::ListLeasesResponse>(
      "leases { event_source_mapping_uuid: 'u-1' shard_id: 'a' lease_owner: 'p1' "
      "lease_counter: 2 checkpoint { type: SEQUENCE_NUMBER sequence_number: '10' } "
      "iterator_age_ms: 250 } next_token: 't'");
  auto page2 = Proto<v1::ListLeasesResponse>(
      "leases { event_source_mapping_uuid: 'u-1' shard_id: 'b' lease_owner: 'p1' "
      "lease_counter: 1 checkpoint { type: TRIM_HORIZON_CHECKPOINT } iterator_age_ms: 0 }");
  leasing_.SetReplies("ListLeases", {&page1, &page2});
  Result r = Run({"leases", "list", "--mapping=u-1", "--owner=p1"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("u-1      a         p1     2        10            250"));
  EXPECT_THAT(r.out, HasSubstr("u-1      b         p1     1        TRIM_HORIZON  0"));
  auto requests = leasing_.Requests<v1::ListLeasesRequest>("ListLeases");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].event_source_mapping_uuid(), "u-1");
  EXPECT_EQ(requests[1].lease_owner(), "p1");
  EXPECT_EQ(requests[1].next_token(), "t");
}

TEST_F(TribctlTest, DeleteOrphanedLeasesDeletesThoseOfAMappingTheTrackerDoesNotHave) {
  mappings_.SetError("GetEventSourceMapping", absl::NotFoundError("mapping u-9 not found"));
  leasing_.SetReply("DeleteLeases", Proto<v1::DeleteLeasesResponse>("deleted_count: 4"));
  Result r = Run({"leases", "delete-orphaned", "--mapping=u-9"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("deleted 4 lease(s) of mapping u-9"));
  auto requests = leasing_.Requests<v1::DeleteLeasesRequest>("DeleteLeases");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].event_source_mapping_uuid(), "u-9");
  EXPECT_EQ(requests[0].lease_keys_size(), 0);
}

TEST_F(TribctlTest, DeleteOrphanedLeasesRefusesAMappingThatExists) {
  mappings_.SetReply("GetEventSourceMapping",
                     Proto<v1::EventSourceMappingConfiguration>("uuid: 'u-1' state: ENABLED"));
  Result r = Run({"leases", "delete-orphaned", "--mapping=u-1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(r.err, HasSubstr("mapping u-1 exists (ENABLED)"));
  EXPECT_TRUE(leasing_.Requests<v1::DeleteLeasesRequest>("DeleteLeases").empty());

  // A tracker that cannot answer is not a "no such mapping" either.
  mappings_.SetError("GetEventSourceMapping", absl::UnavailableError("tracker down"));
  r = Run({"leases", "delete-orphaned", "--mapping=u-1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));
  EXPECT_TRUE(leasing_.Requests<v1::DeleteLeasesRequest>("DeleteLeases").empty());
  EXPECT_EQ(Run({"leases", "delete-orphaned"}).code, 2) << "--mapping is required";
}

TEST_F(TribctlTest, PollersListShowsLivenessAndLeaseCounts) {
  leasing_.SetReply("ListPollers",
                    Proto<v1::ListPollersResponse>(
                        "pollers { poller_id: 'p1' capacity: 8 live: true lease_count: 3 }"));
  Result r = Run({"pollers", "list"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "POLLER_ID  LIVE  CAPACITY  LEASES  LAST_HEARTBEAT\n"
            "p1         true  8         3       -\n");
}

TEST_F(TribctlTest, MetricsGoToThePollerEndpoint) {
  // The pollers run elsewhere: only --poller-endpoint reaches them (the main endpoint has no
  // Pollers service, so a call there would be UNIMPLEMENTED).
  testing::FakePollers pollers;
  pollers.SetReply("GetMetrics", Proto<v1::GetMetricsResponse>(
                                     "poller_id: 'p1' shards { event_source_mapping_uuid: 'u-1' "
                                     "stream_name: 's' shard_id: 'x' iterator_age_ms: 42 }"));
  auto poller_server = GrpcServer::Start("127.0.0.1:0", {&pollers});
  ASSERT_TRUE(poller_server.ok());
  Result table =
      Run({"metrics", "--poller_endpoint=" + (*poller_server)->address(), "--mapping=u-1"});
  EXPECT_EQ(table.code, kExitOk) << table.err;
  EXPECT_THAT(table.out, HasSubstr("u-1      s       x         42"));
  Result prometheus =
      Run({"metrics", "--poller-endpoint=" + (*poller_server)->address(), "--prometheus"});
  EXPECT_EQ(prometheus.code, kExitOk) << prometheus.err;
  EXPECT_THAT(prometheus.out, HasSubstr("tributary_poller_iterator_age_seconds{poller=\"p1\","
                                        "mapping=\"u-1\",stream=\"s\",shard=\"x\"} 0.042\n"));
  auto requests = pollers.Requests<v1::GetMetricsRequest>("GetMetrics");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].event_source_mapping_uuid(), "u-1");

  Result wrong = Run({"metrics"});  // the main endpoint serves no Pollers
  EXPECT_EQ(wrong.code, kExitError);
  EXPECT_THAT(wrong.err, ::testing::StartsWith("error: UNIMPLEMENTED"));
  EXPECT_THAT(wrong.err, HasSubstr("--poller-endpoint"));
}

// Issue 16's tags and registered consumers (the Streams service's RPCs), as tribctl commands.
TEST_F(TribctlTest, StreamsTagSendsTheTagsAndConfirms) {
  Result r = Run({"streams", "tag", "--stream-name", "orders", "--tags", "team=data,tier=gold"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "tagged stream orders with 2 tag(s)\n");
  auto requests = streams_.Requests<v1::AddTagsToStreamRequest>("AddTagsToStream");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].stream_name(), "orders");
  EXPECT_THAT(requests[0].tags(), ::testing::UnorderedElementsAre(::testing::Pair("team", "data"),
                                                                  ::testing::Pair("tier", "gold")));

  Result untag = Run({"streams", "untag", "--stream-name=orders", "--tag-keys=team,tier"});
  EXPECT_EQ(untag.code, kExitOk) << untag.err;
  EXPECT_EQ(untag.out, "removed tag key(s) team, tier from stream orders\n");
  auto removed = streams_.Requests<v1::RemoveTagsFromStreamRequest>("RemoveTagsFromStream");
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_THAT(removed[0].tag_keys(), ElementsAre("team", "tier"));
}

TEST_F(TribctlTest, BadTagsAreAUsageErrorAndCallNothing) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"streams", "tag", "--stream-name=s", "--tags=team"},
        {"streams", "tag", "--stream-name=s", "--tags=a=1,a=2"},
        {"streams", "tag", "--tags=a=1"},
        {"streams", "untag", "--stream-name=s"},
        {"consumers", "describe", "--consumer-name=c"},
        {"consumers", "register", "--stream-name=s"}}) {
    Result r = Run(args);
    EXPECT_EQ(r.code, kExitUsage) << absl::StrJoin(args, " ") << ": " << r.err;
    EXPECT_THAT(r.err, ::testing::StartsWith("error: INVALID_ARGUMENT: "));
  }
  EXPECT_THAT(streams_.Calls(), IsEmpty());
}

TEST_F(TribctlTest, ListTagsFollowsEveryPageAfterTheLastKey) {
  auto page1 = Proto<v1::ListTagsForStreamResponse>(
      "tags { key: 'a' value: '1' } tags { key: 'b' value: '' } has_more_tags: true");
  auto page2 = Proto<v1::ListTagsForStreamResponse>("tags { key: 'c' value: '3' }");
  streams_.SetReplies("ListTagsForStream", {&page1, &page2});
  Result r = Run({"streams", "list-tags", "--stream-name=s", "--limit=2"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "KEY  VALUE\n"
            "a    1\n"
            "b    -\n"
            "c    3\n");
  auto requests = streams_.Requests<v1::ListTagsForStreamRequest>("ListTagsForStream");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].exclusive_start_tag_key(), "");
  EXPECT_EQ(requests[1].exclusive_start_tag_key(), "b");
  EXPECT_EQ(requests[1].stream_name(), "s");
  EXPECT_EQ(requests[1].limit(), 2);

  streams_.SetReplies("ListTagsForStream", {&page1, &page2});
  Result json = Run({"streams", "list-tags", "--stream-name=s", "--output=json"});
  EXPECT_EQ(json.code, kExitOk) << json.err;
  v1::ListTagsForStreamResponse merged;
  ASSERT_TRUE(FromJson(json.out, &merged).ok()) << json.out;
  EXPECT_EQ(merged.tags_size(), 3);
  EXPECT_FALSE(merged.has_more_tags());
}

TEST_F(TribctlTest, ConsumersCommandsCallTheirRpcsAndShowTheConsumer) {
  auto registered = Proto<v1::RegisterStreamConsumerResponse>(
      "consumer { consumer_name: 'c' consumer_arn: 'arn:tributary:stream/s/consumer/c:1' "
      "consumer_status: ACTIVE consumer_creation_timestamp { seconds: 1700000000 } }");
  streams_.SetReply("RegisterStreamConsumer", registered);
  Result r = Run({"consumers", "register", "--stream-name=s", "--consumer-name=c"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ConsumerARN                arn:tributary:stream/s/consumer/c:1\n"));
  EXPECT_THAT(r.out, HasSubstr("ConsumerStatus             ACTIVE\n"));
  EXPECT_THAT(r.out, HasSubstr("ConsumerCreationTimestamp  2023-11-14T22:13:20.000Z\n"));

  auto described = Proto<v1::DescribeStreamConsumerResponse>(
      "consumer_description { consumer_name: 'c' consumer_arn: 'arn:c' consumer_status: ACTIVE "
      "stream_arn: 'arn:tributary:stream/s' }");
  streams_.SetReply("DescribeStreamConsumer", described);
  Result d = Run({"consumers", "describe", "--consumer-arn=arn:c", "--output=json"});
  EXPECT_EQ(d.code, kExitOk) << d.err;
  v1::DescribeStreamConsumerResponse parsed;
  ASSERT_TRUE(FromJson(d.out, &parsed).ok()) << d.out;
  EXPECT_EQ(parsed.SerializeAsString(), described.SerializeAsString());

  Result gone = Run({"consumers", "deregister", "--stream-name=s", "--consumer-name=c"});
  EXPECT_EQ(gone.code, kExitOk) << gone.err;
  EXPECT_EQ(gone.out, "deregistered consumer c of stream s\n");
  EXPECT_THAT(streams_.Calls(), ElementsAre("RegisterStreamConsumer", "DescribeStreamConsumer",
                                            "DeregisterStreamConsumer"));
  auto deregistered =
      streams_.Requests<v1::DeregisterStreamConsumerRequest>("DeregisterStreamConsumer");
  ASSERT_EQ(deregistered.size(), 1u);
  EXPECT_EQ(deregistered[0].consumer_name(), "c");
  EXPECT_EQ(deregistered[0].stream_name(), "s");
}

TEST_F(TribctlTest, ConsumersListFollowsNextTokenWithTheStreamName) {
  auto page1 = Proto<v1::ListStreamConsumersResponse>(
      "consumers { consumer_name: 'a' consumer_arn: 'arn:a' consumer_status: ACTIVE } "
      "next_token: 't1'");
  auto page2 = Proto<v1::ListStreamConsumersResponse>(
      "consumers { consumer_name: 'b' consumer_arn: 'arn:b' consumer_status: ACTIVE }");
  streams_.SetReplies("ListStreamConsumers", {&page1, &page2});
  Result r = Run({"consumers", "list", "--stream-name=s"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "CONSUMER_NAME  STATUS  CREATED  CONSUMER_ARN\n"
            "a              ACTIVE  -        arn:a\n"
            "b              ACTIVE  -        arn:b\n");
  auto requests = streams_.Requests<v1::ListStreamConsumersRequest>("ListStreamConsumers");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].next_token(), "t1");
  EXPECT_EQ(requests[1].stream_name(), "s");
}

TEST_F(TribctlTest, AConsumerErrorFromTheServiceExitsOne) {
  streams_.SetError("DescribeStreamConsumer",
                    absl::NotFoundError("consumer c not found in stream s"));
  Result r = Run({"consumers", "describe", "--stream-name=s", "--consumer-name=c"});
  EXPECT_EQ(r.code, kExitError);
  EXPECT_EQ(r.err, "error: NOT_FOUND: consumer c not found in stream s\n");
}

}  // namespace
}  // namespace tributary::tribctl
