// The Kinesis adapter through the router, over a real ShardStore on a FakeClock: requests are
// the JSON (or CBOR) bodies an SDK sends, replies are checked as an SDK would read them.
#include "aws/kinesis_handler.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "aws/cbor_codec.h"
#include "aws/json_codec.h"
#include "aws/router.h"
#include "common/clock.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shard_store/shard_store.h"

namespace tributary::aws {
namespace {

using ::testing::HasSubstr;

constexpr char kArnPrefix[] = "arn:aws:kinesis:eu-west-1:123456789012:stream/";

struct Reply {
  int status = 0;
  Value body;
  // The error code and message of an error reply ("" when the reply is not an error).
  std::string type() const {
    const Value* t = body.Find("__type");
    return t == nullptr ? "" : t->string_value();
  }
  std::string message() const {
    const Value* m = body.Find("message");
    return m == nullptr ? "" : m->string_value();
  }
  const Value& operator[](const char* member) const {
    static const Value* null = new Value();
    const Value* v = body.Find(member);
    return v == nullptr ? *null : *v;
  }
};

class KinesisApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shard_store::ShardStoreOptions options;
    options.data_dir = testing::NewTempDir("kinesis_api");
    absl::StatusOr<std::unique_ptr<shard_store::ShardStore>> store =
        shard_store::ShardStore::Create(options, clock_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    KinesisApiOptions api_options;
    api_options.region = "eu-west-1";
    api_options.account_id = "123456789012";
    api_ = std::make_unique<KinesisApi>(*store_, clock_, api_options);
    router_.AddApi(api_.get());
  }

  HttpRequest Request(const std::string& operation, std::string body, const char* content_type) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"content-type", content_type},
                 {"x-amz-target", absl::StrCat("Kinesis_20131202.", operation)},
                 {"authorization",
                  "AWS4-HMAC-SHA256 Credential=AKID/20240102/eu-west-1/kinesis/aws4_request, "
                  "SignedHeaders=host, Signature=" +
                      std::string(64, 'a')},
                 {"x-amz-date", "20240102T030405Z"}};
    r.body = std::move(body);
    return r;
  }

  Reply Call(const std::string& operation, const std::string& json) {
    HttpResponse r = router_.Handle(Request(operation, json, "application/x-amz-json-1.1"));
    absl::StatusOr<Value> body = ParseJson(r.body);
    EXPECT_TRUE(body.ok()) << body.status() << ": " << r.body;
    return Reply{r.status, body.ok() ? *body : Value()};
  }

  Reply CallCbor(const std::string& operation, const Value& input) {
    HttpResponse r =
        router_.Handle(Request(operation, WriteCbor(input), "application/x-amz-cbor-1.1"));
    absl::StatusOr<Value> body = ParseCbor(r.body);
    EXPECT_TRUE(body.ok()) << body.status();
    return Reply{r.status, body.ok() ? *body : Value()};
  }

  void Create(const std::string& name, int shards) {
    Reply r = Call("CreateStream",
                   absl::StrCat(R"({"StreamName": ")", name, R"(", "ShardCount": )", shards, "}"));
    ASSERT_EQ(r.status, 200) << r.body;
  }

  std::string Iterator(const std::string& stream, const std::string& shard, const std::string& type,
                       const std::string& extra = "") {
    Reply r = Call("GetShardIterator",
                   absl::StrCat(R"({"StreamName": ")", stream, R"(", "ShardId": ")", shard,
                                R"(", "ShardIteratorType": ")", type, "\"", extra, "}"));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? r["ShardIterator"].string_value() : "";
  }

  static std::string Base64(const std::string& bytes) { return absl::Base64Escape(bytes); }

  FakeClock clock_;
  std::unique_ptr<shard_store::ShardStore> store_;
  std::unique_ptr<KinesisApi> api_;
  AwsRouter router_;
};

TEST_F(KinesisApiTest, CreateDescribeListAndDeleteAStream) {
  Create("orders", 2);
  Reply summary = Call("DescribeStreamSummary", R"({"StreamName": "orders"})");
  ASSERT_EQ(summary.status, 200) << summary.body;
  const Value& s = summary["StreamDescriptionSummary"];
  EXPECT_EQ(s.Find("StreamName")->string_value(), "orders");
  EXPECT_EQ(s.Find("StreamARN")->string_value(), std::string(kArnPrefix) + "orders");
  EXPECT_EQ(s.Find("StreamStatus")->string_value(), "ACTIVE");
  EXPECT_EQ(s.Find("OpenShardCount")->integer_value(), 2);
  EXPECT_EQ(s.Find("RetentionPeriodHours")->integer_value(), 24);
  EXPECT_EQ(s.Find("EncryptionType")->string_value(), "NONE");
  // Created without a mode on a server without --kinesis_shard_limits: no limits in force.
  EXPECT_EQ(s.Find("StreamModeDetails")->Find("StreamMode")->string_value(), "ON_DEMAND");
  // JSON replies carry epoch seconds with a fraction.
  EXPECT_EQ(*s.Find("StreamCreationTimestamp"), Value::Double(1700000000.0));

  Reply list = Call("ListStreams", "{}");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list["StreamNames"].list().at(0), Value::String("orders"));
  EXPECT_EQ(list["HasMoreStreams"], Value::Bool(false));
  EXPECT_EQ(*list["StreamSummaries"].list().at(0).Find("StreamARN"),
            Value::String(std::string(kArnPrefix) + "orders"));

  EXPECT_EQ(Call("DeleteStream", R"({"StreamName": "orders"})").status, 200);
  Reply gone = Call("DescribeStreamSummary", R"({"StreamName": "orders"})");
  EXPECT_EQ(gone.status, 400);
  EXPECT_EQ(gone.type(), kResourceNotFound);
  EXPECT_EQ(Call("DeleteStream", R"({"StreamName": "orders"})").type(), kResourceNotFound);
}

// A DynamoDB table's change stream lives in a store stream "_tables.*" (tables/stream_ids.h):
// not a Kinesis stream, whichever way a Kinesis client names it.
TEST_F(KinesisApiTest, TableChangeStreamsAreNeitherListedNorReachableNorCreatable) {
  v1::CreateStreamRequest table_stream;
  table_stream.set_stream_name("_tables.1.20231114221320123");
  table_stream.set_shard_count(4);
  ASSERT_TRUE(store_->CreateStream(table_stream).ok());
  Create("orders", 1);
  Reply list = Call("ListStreams", "{}");
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list["StreamNames"].list().size(), 1u);
  EXPECT_EQ(list["StreamNames"].list()[0], Value::String("orders"));
  ASSERT_EQ(list["StreamSummaries"].list().size(), 1u);
  EXPECT_EQ(Call("DescribeLimits", "{}")["OpenShardCount"], Value::Integer(1));
  EXPECT_EQ(Call("DescribeStreamSummary", R"({"StreamName": "_tables.1.20231114221320123"})")
                .type(),
            kResourceNotFound);
  EXPECT_EQ(Call("DescribeStreamSummary",
                 absl::StrCat(R"({"StreamARN": ")", kArnPrefix, "_tables.1.20231114221320123\"}"))
                .type(),
            kResourceNotFound);
  EXPECT_EQ(Call("PutRecord", R"({"StreamName": "_tables.1.20231114221320123", "Data": "YQ==",
                                 "PartitionKey": "k"})")
                .type(),
            kResourceNotFound);
  EXPECT_EQ(Call("DeleteStream", R"({"StreamName": "_tables.1.20231114221320123"})").type(),
            kResourceNotFound);
  EXPECT_EQ(Call("ListTagsForResource",
                 absl::StrCat(R"({"ResourceARN": ")", kArnPrefix, "_tables.1.20231114221320123\"}"))
                .type(),
            kResourceNotFound);
  Reply create = Call("CreateStream", R"({"StreamName": "_tables.2.1", "ShardCount": 1})");
  EXPECT_EQ(create.type(), kInvalidArgument);
  v1::DescribeStreamSummaryRequest still;
  still.set_stream_name("_tables.1.20231114221320123");
  EXPECT_TRUE(store_->DescribeStreamSummary(still).ok());  // untouched
}

TEST_F(KinesisApiTest, TheServerBeingBusyThrottlesDataCallsAsKinesisDoes) {
  for (const char* data_call :
       {"PutRecord", "PutRecords", "GetRecords", "GetShardIterator", "SubscribeToShard"}) {
    EXPECT_STREQ(api_->ThrottlingError(data_call), kProvisionedThroughputExceeded) << data_call;
  }
  for (const char* control_call : {"CreateStream", "ListShards", "DescribeStreamSummary"}) {
    EXPECT_STREQ(api_->ThrottlingError(control_call), kLimitExceeded) << control_call;
  }
  HttpRequest head = Request("PutRecords", "", "application/x-amz-json-1.1");
  head.body.clear();
  HttpResponse r = router_.Overloaded(head, 256, 512 << 20);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr(kProvisionedThroughputExceeded));
}

TEST_F(KinesisApiTest, CreatingAStreamThatExistsIsResourceInUse) {
  Create("orders", 1);
  EXPECT_EQ(Call("CreateStream", R"({"StreamName": "orders", "ShardCount": 1})").type(),
            kResourceInUse);
}

TEST_F(KinesisApiTest, CreateStreamChecksItsInputLikeAws) {
  Reply invalid = Call("CreateStream", R"({"StreamName": "bad name", "ShardCount": 0})");
  EXPECT_EQ(invalid.type(), kValidation);
  EXPECT_THAT(invalid.message(), HasSubstr("2 validation errors detected"));
  EXPECT_EQ(Call("CreateStream", R"({"ShardCount": 1})").type(), kValidation);
  EXPECT_EQ(Call("CreateStream", R"({"StreamName": "s", "ShardCount": "1"})").type(),
            kSerialization);
  EXPECT_EQ(Call("CreateStream", R"({"StreamName": "s", "ShardCount": 10001})").type(),
            kLimitExceeded);
  EXPECT_EQ(Call("CreateStream", R"({"StreamName": "s"})").type(), kInvalidArgument);
  // ON_DEMAND is accepted (created with 4 shards).
  EXPECT_EQ(Call("CreateStream",
                 R"({"StreamName": "od", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}})")
                .status,
            200);
  EXPECT_EQ(Call("DescribeStreamSummary", R"({"StreamName": "od"})")["StreamDescriptionSummary"]
                .Find("OpenShardCount")
                ->integer_value(),
            4);
}

// Issue 22: the mode asked for at creation is kept and reported, UpdateStreamMode switches it
// (by ARN, as Kinesis names the stream there), and a PROVISIONED stream's records are throttled
// past 1,000 a second of a shard while an ON_DEMAND stream's are not.
TEST_F(KinesisApiTest, StreamModeIsKeptReportedSwitchedAndHonoured) {
  ASSERT_EQ(Call("CreateStream", R"({"StreamName": "p", "ShardCount": 1,
                                     "StreamModeDetails": {"StreamMode": "PROVISIONED"}})")
                .status,
            200);
  ASSERT_EQ(Call("CreateStream", R"({"StreamName": "o", "ShardCount": 1,
                                     "StreamModeDetails": {"StreamMode": "ON_DEMAND"}})")
                .status,
            200);
  auto mode = [&](const std::string& name) {
    Reply d = Call("DescribeStream", absl::StrCat(R"({"StreamName": ")", name, R"("})"));
    return d["StreamDescription"].Find("StreamModeDetails")->Find("StreamMode")->string_value();
  };
  EXPECT_EQ(mode("p"), "PROVISIONED");
  EXPECT_EQ(mode("o"), "ON_DEMAND");
  auto failed = [&](const std::string& name) {
    std::string records;
    for (int i = 0; i < 500; ++i) {
      absl::StrAppend(&records, i ? "," : "", R"({"Data": "eA==", "PartitionKey": "k"})");
    }
    int64_t n = 0;
    for (int call = 0; call < 3; ++call) {
      Reply put = Call("PutRecords", absl::StrCat(R"({"StreamName": ")", name,
                                                  R"(", "Records": [)", records, "]}"));
      EXPECT_EQ(put.status, 200) << put.body;
      n += put["FailedRecordCount"].integer_value();
    }
    return n;
  };
  EXPECT_EQ(failed("p"), 500);
  EXPECT_EQ(failed("o"), 0);

  Reply update = Call("UpdateStreamMode",
                      absl::StrCat(R"({"StreamARN": ")", kArnPrefix,
                                   R"(o", "StreamModeDetails": {"StreamMode": "PROVISIONED"}})"));
  ASSERT_EQ(update.status, 200) << update.body;
  EXPECT_EQ(mode("o"), "PROVISIONED");
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(failed("o"), 500);
  EXPECT_EQ(Call("UpdateStreamMode", absl::StrCat(R"({"StreamARN": ")", kArnPrefix, R"(o"})"))
                .type(),
            kValidation);
  EXPECT_EQ(Call("UpdateStreamMode",
                 absl::StrCat(R"({"StreamARN": ")", kArnPrefix,
                              R"(nope", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}})"))
                .type(),
            kResourceNotFound);
}

TEST_F(KinesisApiTest, StreamArnIsAcceptedWhereverStreamNameIs) {
  Create("orders", 1);
  const std::string arn = std::string(kArnPrefix) + "orders";
  Reply by_arn = Call("DescribeStreamSummary", absl::StrCat(R"({"StreamARN": ")", arn, "\"}"));
  ASSERT_EQ(by_arn.status, 200) << by_arn.body;
  Reply put = Call("PutRecord", absl::StrCat(R"({"StreamARN": ")", arn,
                                             R"(", "Data": "eA==", "PartitionKey": "k"})"));
  EXPECT_EQ(put.status, 200) << put.body;
  // Another account's or region's stream is not here.
  EXPECT_EQ(Call("DescribeStreamSummary",
                 R"({"StreamARN": "arn:aws:kinesis:eu-west-1:999999999999:stream/orders"})")
                .type(),
            kResourceNotFound);
  EXPECT_EQ(Call("DescribeStreamSummary",
                 R"({"StreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/orders"})")
                .type(),
            kResourceNotFound);
  EXPECT_EQ(Call("DescribeStreamSummary",
                 absl::StrCat(R"({"StreamName": "other", "StreamARN": ")", arn, "\"}"))
                .type(),
            kInvalidArgument);
  EXPECT_EQ(Call("DescribeStreamSummary", R"({"StreamARN": "not-an-arn"})").type(), kValidation);
  EXPECT_EQ(Call("DescribeStreamSummary", "{}").type(), kInvalidArgument);
}

TEST_F(KinesisApiTest, PutAndGetRoundTripBinaryDataAndNonAsciiKeys) {
  Create("orders", 4);
  const std::string data("\x00\x01\xfe\xff binary", 11);
  // botocore sends non-ASCII keys escaped; the key is hashed on its UTF-8 bytes.
  Reply put = Call("PutRecord", absl::StrCat(R"({"StreamName": "orders", "Data": ")", Base64(data),
                                             R"(", "PartitionKey": "cl\u00e9-\ud83d\ude00"})"));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put["EncryptionType"], Value::String("NONE"));
  const std::string shard = put["ShardId"].string_value();
  // The same shard the store picks for the raw UTF-8 key (the gRPC path).
  v1::PutRecordRequest direct;
  direct.set_stream_name("orders");
  direct.set_partition_key("cl\xC3\xA9-\xF0\x9F\x98\x80");
  direct.set_data("x");
  absl::StatusOr<v1::PutRecordResponse> grpc_path = store_->PutRecord(direct);
  ASSERT_TRUE(grpc_path.ok());
  EXPECT_EQ(grpc_path->shard_id(), shard);

  Reply got = Call("GetRecords", absl::StrCat(R"({"ShardIterator": ")",
                                              Iterator("orders", shard, "TRIM_HORIZON"), "\"}"));
  ASSERT_EQ(got.status, 200) << got.body;
  ASSERT_EQ(got["Records"].list().size(), 2u);
  const Value& record = got["Records"].list()[0];
  EXPECT_EQ(*record.Find("Data"), Value::String(Base64(data)));
  EXPECT_EQ(*record.Find("PartitionKey"), Value::String("cl\xC3\xA9-\xF0\x9F\x98\x80"));
  EXPECT_EQ(*record.Find("SequenceNumber"), put["SequenceNumber"]);
  EXPECT_EQ(*record.Find("ApproximateArrivalTimestamp"), Value::Double(1700000000.0));
  EXPECT_EQ(got["MillisBehindLatest"], Value::Integer(0));
  EXPECT_EQ(got["NextShardIterator"].type(), Value::Type::kString);
  EXPECT_TRUE(got["ChildShards"].is_null());  // only at the end of a closed shard
}

TEST_F(KinesisApiTest, PutRecordsReportsEachRecordInOrder) {
  Create("orders", 2);
  Reply put = Call("PutRecords", R"({"StreamName": "orders", "Records": [
      {"Data": "YQ==", "PartitionKey": "a"},
      {"Data": "Yg==", "PartitionKey": "b", "ExplicitHashKey": "0"},
      {"Data": "Yw==", "PartitionKey": "c",
       "ExplicitHashKey": "340282366920938463463374607431768211455"}]})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put["FailedRecordCount"], Value::Integer(0));
  const std::vector<Value>& results = put["Records"].list();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(*results[1].Find("ShardId"), Value::String("shardId-000000000000"));
  EXPECT_EQ(*results[2].Find("ShardId"), Value::String("shardId-000000000001"));
  for (const Value& r : results) EXPECT_EQ(r.Find("SequenceNumber")->type(), Value::Type::kString);
}

TEST_F(KinesisApiTest, PutRecordsChecksRecordsLikeAws) {
  Create("orders", 1);
  Reply bad = Call("PutRecords", R"({"StreamName": "orders", "Records": [
      {"Data": "YQ==", "PartitionKey": ""}, {"PartitionKey": "k"},
      {"Data": "YQ==", "PartitionKey": "k", "ExplicitHashKey": "-1"}]})");
  EXPECT_EQ(bad.type(), kValidation);
  EXPECT_THAT(bad.message(), HasSubstr("3 validation errors detected"));
  EXPECT_THAT(bad.message(), HasSubstr("'records.1.member.partitionKey'"));
  EXPECT_THAT(bad.message(), HasSubstr("Value null at 'records.2.member.data'"));
  EXPECT_EQ(Call("PutRecords", R"({"StreamName": "orders", "Records": []})").type(), kValidation);
  EXPECT_EQ(Call("PutRecords",
                 R"({"StreamName": "orders", "Records": [{"Data": "%%%", "PartitionKey": "k"}]})")
                .type(),
            kSerialization);
  // A hash key of the right form but above 2^128-1 is the store's verdict: InvalidArgument.
  EXPECT_EQ(Call("PutRecords", R"({"StreamName": "orders", "Records": [{"Data": "YQ==",
                 "PartitionKey": "k", "ExplicitHashKey": "999999999999999999999999999999999999999"}]})")
                .type(),
            kInvalidArgument);
  EXPECT_EQ(Call("PutRecords", R"({"StreamName": "nope", "Records": [{"Data": "YQ==",
                 "PartitionKey": "k"}]})")
                .type(),
            kResourceNotFound);
}

TEST_F(KinesisApiTest, PutRecordsOverFiveMebibytesIsInvalidArgument) {
  Create("orders", 1);
  std::string records;
  const std::string one_mib = Base64(std::string(1 << 20, 'x').substr(0, (1 << 20) - 10));
  for (int i = 0; i < 6; ++i) {
    absl::StrAppend(&records, i ? "," : "", R"({"Data": ")", one_mib, R"(", "PartitionKey": "k"})");
  }
  Reply r =
      Call("PutRecords", absl::StrCat(R"({"StreamName": "orders", "Records": [)", records, "]}"));
  EXPECT_EQ(r.type(), kInvalidArgument);
  // One record over 1 MiB of data breaks the model's constraint: ValidationException.
  Reply big =
      Call("PutRecord", absl::StrCat(R"({"StreamName": "orders", "PartitionKey": "k", "Data": ")",
                                     Base64(std::string((1 << 20) + 1, 'x')), "\"}"));
  EXPECT_EQ(big.type(), kValidation);
  EXPECT_THAT(big.message(), HasSubstr("Member must have length less than or equal to 1048576"));
}

TEST_F(KinesisApiTest, GetShardIteratorServesAllFiveTypes) {
  Create("s", 1);
  std::vector<std::string> sequence;
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(absl::Seconds(10));
    Reply p =
        Call("PutRecord", absl::StrCat(R"({"StreamName": "s", "PartitionKey": "k", "Data": ")",
                                       Base64(absl::StrCat("r", i)), "\"}"));
    sequence.push_back(p["SequenceNumber"].string_value());
  }
  auto first_data = [&](const std::string& iterator) -> std::string {
    Reply got = Call("GetRecords", absl::StrCat(R"({"ShardIterator": ")", iterator, "\"}"));
    EXPECT_EQ(got.status, 200) << got.body;
    if (got.status != 200 || got["Records"].list().empty()) return "<none>";
    std::string data;
    absl::Base64Unescape(got["Records"].list()[0].Find("Data")->string_value(), &data);
    return data;
  };
  const std::string shard = "shardId-000000000000";
  EXPECT_EQ(first_data(Iterator("s", shard, "TRIM_HORIZON")), "r0");
  EXPECT_EQ(first_data(Iterator("s", shard, "LATEST")), "<none>");
  EXPECT_EQ(
      first_data(Iterator("s", shard, "AT_SEQUENCE_NUMBER",
                          absl::StrCat(R"(, "StartingSequenceNumber": ")", sequence[1], "\""))),
      "r1");
  EXPECT_EQ(
      first_data(Iterator("s", shard, "AFTER_SEQUENCE_NUMBER",
                          absl::StrCat(R"(, "StartingSequenceNumber": ")", sequence[1], "\""))),
      "r2");
  // Records arrived at +10 s, +20 s, +30 s; a float timestamp between the 2nd and 3rd.
  EXPECT_EQ(first_data(Iterator("s", shard, "AT_TIMESTAMP", R"(, "Timestamp": 1700000025.5)")),
            "r2");
  EXPECT_EQ(first_data(Iterator("s", shard, "AT_TIMESTAMP", R"(, "Timestamp": 1700000020)")), "r1");
  // "shardId-0" and "0" name the same shard, as in Kinesis.
  EXPECT_EQ(first_data(Iterator("s", "0", "TRIM_HORIZON")), "r0");

  EXPECT_EQ(Call("GetShardIterator", R"({"StreamName": "s", "ShardId": "shardId-000000000000",
                 "ShardIteratorType": "AT_SEQUENCE_NUMBER"})")
                .type(),
            kInvalidArgument);  // no sequence number
  EXPECT_EQ(Call("GetShardIterator", R"({"StreamName": "s", "ShardId": "shardId-000000000000",
                 "ShardIteratorType": "SIDEWAYS"})")
                .type(),
            kValidation);
  EXPECT_EQ(Call("GetShardIterator", R"({"StreamName": "s", "ShardId": "shardId-000000000009",
                 "ShardIteratorType": "LATEST"})")
                .type(),
            kResourceNotFound);
  EXPECT_EQ(Call("GetShardIterator", R"({"StreamName": "s", "ShardId": "bogus",
                 "ShardIteratorType": "LATEST"})")
                .type(),
            kResourceNotFound);
}

TEST_F(KinesisApiTest, AnExpiredIteratorIsExpiredIteratorException) {
  Create("s", 1);
  const std::string iterator = Iterator("s", "shardId-000000000000", "TRIM_HORIZON");
  clock_.Advance(absl::Minutes(6));
  Reply r = Call("GetRecords", absl::StrCat(R"({"ShardIterator": ")", iterator, "\"}"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.type(), kExpiredIterator);
}

TEST_F(KinesisApiTest, AForgedIteratorIsInvalidArgument) {
  Create("s", 1);
  std::string iterator = Iterator("s", "shardId-000000000000", "TRIM_HORIZON");
  iterator[5] = iterator[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Call("GetRecords", absl::StrCat(R"({"ShardIterator": ")", iterator, "\"}")).type(),
            kInvalidArgument);
  EXPECT_EQ(Call("GetRecords", R"({"ShardIterator": ""})").type(), kValidation);
}

TEST_F(KinesisApiTest, SplitAndMergeEndTheParentsWithChildShards) {
  Create("s", 1);
  Call("PutRecord", R"({"StreamName": "s", "PartitionKey": "k", "Data": "YQ=="})");
  const std::string parent_iterator = Iterator("s", "shardId-000000000000", "TRIM_HORIZON");
  Reply split = Call("SplitShard", R"({"StreamName": "s", "ShardToSplit": "shardId-000000000000",
      "NewStartingHashKey": "170141183460469231731687303715884105728"})");
  ASSERT_EQ(split.status, 200) << split.body;
  // Splitting the closed parent again: the store's FAILED_PRECONDITION is ResourceInUse.
  EXPECT_EQ(Call("SplitShard", R"({"StreamName": "s", "ShardToSplit": "shardId-000000000000",
      "NewStartingHashKey": "1"})")
                .type(),
            kResourceInUse);

  Reply end = Call("GetRecords", absl::StrCat(R"({"ShardIterator": ")", parent_iterator, "\"}"));
  ASSERT_EQ(end.status, 200) << end.body;
  EXPECT_EQ(end["Records"].list().size(), 1u);
  EXPECT_TRUE(end["NextShardIterator"].is_null());
  ASSERT_EQ(end["ChildShards"].list().size(), 2u);
  const Value& child = end["ChildShards"].list()[1];
  EXPECT_EQ(*child.Find("ShardId"), Value::String("shardId-000000000002"));
  EXPECT_EQ(child.Find("ParentShards")->list(),
            std::vector<Value>{Value::String("shardId-000000000000")});
  EXPECT_EQ(*child.Find("HashKeyRange")->Find("StartingHashKey"),
            Value::String("170141183460469231731687303715884105728"));

  Reply shards = Call("ListShards", R"({"StreamName": "s"})");
  ASSERT_EQ(shards["Shards"].list().size(), 3u);
  const Value& closed = shards["Shards"].list()[0];
  EXPECT_EQ(closed.Find("SequenceNumberRange")->Find("EndingSequenceNumber")->type(),
            Value::Type::kString);
  EXPECT_EQ(*shards["Shards"].list()[1].Find("ParentShardId"),
            Value::String("shardId-000000000000"));

  Reply merge = Call("MergeShards", R"({"StreamName": "s", "ShardToMerge": "shardId-000000000001",
      "AdjacentShardToMerge": "shardId-000000000002"})");
  ASSERT_EQ(merge.status, 200) << merge.body;
  Reply after = Call("ListShards", R"({"StreamName": "s", "ShardFilter": {"Type": "AT_LATEST"}})");
  ASSERT_EQ(after["Shards"].list().size(), 1u);
  EXPECT_EQ(*after["Shards"].list()[0].Find("AdjacentParentShardId"),
            Value::String("shardId-000000000002"));
  EXPECT_EQ(Call("MergeShards", R"({"StreamName": "s", "ShardToMerge": "shardId-000000000003",
      "AdjacentShardToMerge": "shardId-000000000003"})")
                .type(),
            kInvalidArgument);
}

TEST_F(KinesisApiTest, DescribeStreamPagesShardsWithHasMoreShards) {
  Create("s", 3);
  Reply first = Call("DescribeStream", R"({"StreamName": "s", "Limit": 2})");
  ASSERT_EQ(first.status, 200) << first.body;
  const Value& d = first["StreamDescription"];
  EXPECT_EQ(d.Find("Shards")->list().size(), 2u);
  EXPECT_EQ(*d.Find("HasMoreShards"), Value::Bool(true));
  EXPECT_EQ(*d.Find("StreamStatus"), Value::String("ACTIVE"));
  Reply rest =
      Call("DescribeStream",
           R"({"StreamName": "s", "Limit": 2, "ExclusiveStartShardId": "shardId-000000000001"})");
  const Value& r = rest["StreamDescription"];
  ASSERT_EQ(r.Find("Shards")->list().size(), 1u);
  EXPECT_EQ(*r.Find("Shards")->list()[0].Find("ShardId"), Value::String("shardId-000000000002"));
  EXPECT_EQ(*r.Find("HasMoreShards"), Value::Bool(false));
  EXPECT_EQ(Call("DescribeStream", R"({"StreamName": "s", "Limit": 0})").type(), kValidation);
}

TEST_F(KinesisApiTest, ListShardsPagesWithNextTokenThatExpires) {
  Create("s", 3);
  Reply first = Call("ListShards", R"({"StreamName": "s", "MaxResults": 2})");
  ASSERT_EQ(first["Shards"].list().size(), 2u);
  const std::string token = first["NextToken"].string_value();
  Reply rest = Call("ListShards", absl::StrCat(R"({"NextToken": ")", token, "\"}"));
  ASSERT_EQ(rest.status, 200) << rest.body;
  EXPECT_EQ(rest["Shards"].list().size(), 1u);
  EXPECT_TRUE(rest["NextToken"].is_null());
  // As in Kinesis, a token names the stream: giving both is InvalidArgument.
  EXPECT_EQ(Call("ListShards", absl::StrCat(R"({"StreamName": "s", "NextToken": ")", token, "\"}"))
                .type(),
            kInvalidArgument);
  clock_.Advance(absl::Minutes(6));
  EXPECT_EQ(Call("ListShards", absl::StrCat(R"({"NextToken": ")", token, "\"}")).type(),
            kExpiredNextToken);
  EXPECT_EQ(Call("ListShards", "{}").type(), kInvalidArgument);
}

TEST_F(KinesisApiTest, ListStreamsPagesByNameAndByToken) {
  for (const char* name : {"a", "b", "c"}) Create(name, 1);
  Reply first = Call("ListStreams", R"({"Limit": 2})");
  EXPECT_EQ(first["StreamNames"].list().size(), 2u);
  EXPECT_EQ(first["HasMoreStreams"], Value::Bool(true));
  Reply by_name = Call("ListStreams", R"({"ExclusiveStartStreamName": "b"})");
  EXPECT_EQ(by_name["StreamNames"].list(), std::vector<Value>{Value::String("c")});
  Reply by_token = Call(
      "ListStreams", absl::StrCat(R"({"NextToken": ")", first["NextToken"].string_value(), "\"}"));
  EXPECT_EQ(by_token["StreamNames"].list(), std::vector<Value>{Value::String("c")});
  EXPECT_EQ(by_token["HasMoreStreams"], Value::Bool(false));
}

TEST_F(KinesisApiTest, UpdateShardCountRetentionAndLimits) {
  Create("s", 2);
  Reply update =
      Call("UpdateShardCount",
           R"({"StreamName": "s", "TargetShardCount": 4, "ScalingType": "UNIFORM_SCALING"})");
  ASSERT_EQ(update.status, 200) << update.body;
  EXPECT_EQ(update["CurrentShardCount"], Value::Integer(2));
  EXPECT_EQ(update["TargetShardCount"], Value::Integer(4));
  EXPECT_EQ(update["StreamARN"], Value::String(std::string(kArnPrefix) + "s"));
  EXPECT_EQ(
      Call("UpdateShardCount",
           R"({"StreamName": "s", "TargetShardCount": 100, "ScalingType": "UNIFORM_SCALING"})")
          .type(),
      kInvalidArgument);  // more than double
  EXPECT_EQ(Call("UpdateShardCount", R"({"StreamName": "s", "TargetShardCount": 4})").type(),
            kValidation);

  EXPECT_EQ(
      Call("IncreaseStreamRetentionPeriod", R"({"StreamName": "s", "RetentionPeriodHours": 48})")
          .status,
      200);
  EXPECT_EQ(Call("DescribeStreamSummary", R"({"StreamName": "s"})")["StreamDescriptionSummary"]
                .Find("RetentionPeriodHours")
                ->integer_value(),
            48);
  EXPECT_EQ(
      Call("DecreaseStreamRetentionPeriod", R"({"StreamName": "s", "RetentionPeriodHours": 12})")
          .type(),
      kInvalidArgument);
  EXPECT_EQ(Call("IncreaseStreamRetentionPeriod",
                 R"({"StreamName": "s", "RetentionPeriodHours": 99999999999})")
                .type(),
            kInvalidArgument);

  Reply limits = Call("DescribeLimits", "{}");
  ASSERT_EQ(limits.status, 200);
  EXPECT_EQ(limits["OpenShardCount"], Value::Integer(4));
  EXPECT_EQ(limits["ShardLimit"], Value::Integer(10000));
}

TEST_F(KinesisApiTest, CborCarriesRawBytesAndMillisecondTimestamps) {
  Create("s", 1);
  Value put = Value::Map();
  put.Add("StreamName", Value::String("s"));
  put.Add("Data", Value::Bytes(std::string("\x00\xff", 2)));
  put.Add("PartitionKey", Value::String("k"));
  Reply p = CallCbor("PutRecord", put);
  ASSERT_EQ(p.status, 200) << p.body;
  Value get_iterator = Value::Map();
  get_iterator.Add("StreamName", Value::String("s"));
  get_iterator.Add("ShardId", Value::String("shardId-000000000000"));
  get_iterator.Add("ShardIteratorType", Value::String("AT_TIMESTAMP"));
  get_iterator.Add("Timestamp", Value::Timestamp(absl::FromUnixSeconds(1700000000)));
  Reply it = CallCbor("GetShardIterator", get_iterator);
  ASSERT_EQ(it.status, 200) << it.body;
  Value get = Value::Map();
  get.Add("ShardIterator", it["ShardIterator"]);
  Reply got = CallCbor("GetRecords", get);
  ASSERT_EQ(got.status, 200) << got.body;
  const Value& record = got["Records"].list().at(0);
  EXPECT_EQ(*record.Find("Data"), Value::Bytes(std::string("\x00\xff", 2)));
  EXPECT_EQ(*record.Find("ApproximateArrivalTimestamp"),
            Value::Timestamp(absl::FromUnixSeconds(1700000000)));
  // Errors come back in CBOR too.
  Value missing = Value::Map();
  missing.Add("StreamName", Value::String("nope"));
  Reply e = CallCbor("DescribeStreamSummary", missing);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.type(), kResourceNotFound);
}

TEST_F(KinesisApiTest, OperationsNotServedAreUnknownOperation) {
  Reply monitoring =
      Call("EnableEnhancedMonitoring", R"({"StreamName": "s", "ShardLevelMetrics": ["ALL"]})");
  EXPECT_EQ(monitoring.type(), kUnknownOperation);
  EXPECT_THAT(monitoring.message(), HasSubstr("not supported by Tributary yet"));
  EXPECT_EQ(Call("MakeCoffee", "{}").type(), kUnknownOperation);
}

// --- Tags and registered consumers (kinesis_metadata_ops.cc) ----------------------------------

// A JSON body from `members` (already rendered as "\"Name\": value").
std::string Body(std::initializer_list<std::string> members) {
  return absl::StrCat("{", absl::StrJoin(members, ", "), "}");
}
std::string Str(const std::string& name, const std::string& value) {
  return absl::StrCat("\"", name, "\": \"", value, "\"");
}

TEST_F(KinesisApiTest, TagsRoundTripThroughTheStreamAndResourceOperations) {
  Create("orders", 1);
  const std::string arn = std::string(kArnPrefix) + "orders";
  ASSERT_EQ(
      Call("AddTagsToStream", R"({"StreamName": "orders", "Tags": {"b": "2", "a": "1"}})").status,
      200);
  ASSERT_EQ(
      Call("TagResource", Body({Str("ResourceARN", arn), R"("Tags": {"c": "3", "a": "one"})"}))
          .status,
      200);
  Reply page = Call("ListTagsForStream", R"({"StreamName": "orders", "Limit": 2})");
  ASSERT_EQ(page.status, 200) << page.body;
  ASSERT_EQ(page["Tags"].list().size(), 2u);
  EXPECT_EQ(*page["Tags"].list()[0].Find("Key"), Value::String("a"));
  EXPECT_EQ(*page["Tags"].list()[0].Find("Value"), Value::String("one"));
  EXPECT_EQ(page["HasMoreTags"], Value::Bool(true));
  Reply rest =
      Call("ListTagsForStream", Body({Str("StreamARN", arn), Str("ExclusiveStartTagKey", "b")}));
  ASSERT_EQ(rest.status, 200) << rest.body;
  ASSERT_EQ(rest["Tags"].list().size(), 1u);
  EXPECT_EQ(*rest["Tags"].list()[0].Find("Key"), Value::String("c"));
  EXPECT_EQ(rest["HasMoreTags"], Value::Bool(false));
  ASSERT_EQ(Call("UntagResource", Body({Str("ResourceARN", arn), R"("TagKeys": ["a"])"})).status,
            200);
  ASSERT_EQ(
      Call("RemoveTagsFromStream", Body({Str("StreamARN", arn), R"("TagKeys": ["c", "absent"])"}))
          .status,
      200);
  Reply all = Call("ListTagsForResource", Body({Str("ResourceARN", arn)}));
  ASSERT_EQ(all.status, 200) << all.body;
  ASSERT_EQ(all["Tags"].list().size(), 1u);
  EXPECT_EQ(*all["Tags"].list()[0].Find("Key"), Value::String("b"));
}

TEST_F(KinesisApiTest, TagInputIsCheckedLikeKinesis) {
  Create("orders", 1);
  const std::string arn = std::string(kArnPrefix) + "orders";
  auto add = [&](const std::string& tags) {
    return Call("AddTagsToStream", Body({Str("StreamName", "orders"), "\"Tags\": " + tags}));
  };
  EXPECT_EQ(Call("AddTagsToStream", R"({"StreamName": "orders"})").type(), kValidation);
  EXPECT_EQ(add("{}").type(), kValidation);
  Reply long_key = add(Body({Str(std::string(129, 'k'), "v")}));
  EXPECT_EQ(long_key.type(), kValidation);
  EXPECT_THAT(long_key.message(), HasSubstr("Map keys must satisfy constraint"));
  Reply long_value = add(Body({Str("k", std::string(257, 'v'))}));
  EXPECT_EQ(long_value.type(), kValidation);
  EXPECT_THAT(long_value.message(), HasSubstr("Map value must satisfy constraint"));
  EXPECT_EQ(add(R"({"k": 1})").type(), kSerialization);
  EXPECT_EQ(add(R"({"aws:k": "v"})").type(), kInvalidArgument);
  EXPECT_EQ(add(R"({"k": "a;b"})").type(), kInvalidArgument);
  std::vector<std::string> fifty_one;
  for (int i = 0; i < 51; ++i) fifty_one.push_back(Str(absl::StrCat("k", i), "v"));
  Reply over = add(absl::StrCat("{", absl::StrJoin(fifty_one, ", "), "}"));
  EXPECT_EQ(over.type(), kInvalidArgument);
  EXPECT_THAT(over.message(), HasSubstr("1-50 tags"));
  EXPECT_EQ(Call("RemoveTagsFromStream", R"({"StreamName": "orders", "TagKeys": []})").type(),
            kValidation);
  EXPECT_EQ(Call("RemoveTagsFromStream", R"({"StreamName": "orders", "TagKeys": [""]})").type(),
            kValidation);
  EXPECT_EQ(Call("ListTagsForStream", R"({"StreamName": "orders", "Limit": 51})").type(),
            kValidation);
  EXPECT_EQ(Call("ListTagsForStream", R"({"StreamName": "nope"})").type(), kResourceNotFound);
  EXPECT_EQ(Call("ListTagsForResource", R"({"ResourceARN": "nope"})").type(), kValidation);
  EXPECT_EQ(Call("ListTagsForResource",
                 Body({Str("ResourceARN", "arn:aws:kinesis:eu-west-1:999999999999:stream/orders")}))
                .type(),
            kResourceNotFound);
  // Consumers carry no tags here.
  EXPECT_EQ(Call("ListTagsForResource", Body({Str("ResourceARN", arn + "/consumer/c:1700000000")}))
                .type(),
            kInvalidArgument);
}

TEST_F(KinesisApiTest, ConsumersRegisterDescribeListAndDeregister) {
  Create("orders", 1);
  const std::string arn = std::string(kArnPrefix) + "orders";
  clock_.SetTime(absl::FromUnixMillis(1700000100250));
  Reply registered =
      Call("RegisterStreamConsumer", Body({Str("StreamARN", arn), Str("ConsumerName", "b")}));
  ASSERT_EQ(registered.status, 200) << registered.body;
  const Value& consumer = registered["Consumer"];
  const std::string consumer_arn = arn + "/consumer/b:1700000100";
  EXPECT_EQ(*consumer.Find("ConsumerName"), Value::String("b"));
  EXPECT_EQ(*consumer.Find("ConsumerARN"), Value::String(consumer_arn));
  EXPECT_EQ(*consumer.Find("ConsumerStatus"), Value::String("ACTIVE"));
  EXPECT_EQ(*consumer.Find("ConsumerCreationTimestamp"), Value::Double(1700000100.25));
  ASSERT_EQ(Call("RegisterStreamConsumer", Body({Str("StreamARN", arn), Str("ConsumerName", "a")}))
                .status,
            200);
  EXPECT_EQ(Call("DescribeStreamSummary", R"({"StreamName": "orders"})")["StreamDescriptionSummary"]
                .Find("ConsumerCount")
                ->integer_value(),
            2);

  for (const std::string& by : {Body({Str("ConsumerARN", consumer_arn)}),
                                Body({Str("StreamARN", arn), Str("ConsumerName", "b")}),
                                Body({Str("StreamARN", arn), Str("ConsumerName", "b"),
                                      Str("ConsumerARN", consumer_arn)})}) {
    Reply described = Call("DescribeStreamConsumer", by);
    ASSERT_EQ(described.status, 200) << by << ": " << described.body;
    const Value& d = described["ConsumerDescription"];
    EXPECT_EQ(*d.Find("ConsumerARN"), Value::String(consumer_arn));
    EXPECT_EQ(*d.Find("StreamARN"), Value::String(arn));
    EXPECT_EQ(*d.Find("ConsumerStatus"), Value::String("ACTIVE"));
  }

  Reply first = Call("ListStreamConsumers", Body({Str("StreamARN", arn), "\"MaxResults\": 1"}));
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(first["Consumers"].list().size(), 1u);
  EXPECT_EQ(*first["Consumers"].list()[0].Find("ConsumerName"), Value::String("a"));
  ASSERT_EQ(first["NextToken"].type(), Value::Type::kString);
  Reply second =
      Call("ListStreamConsumers", Body({Str("StreamARN", arn), "\"MaxResults\": 1",
                                        Str("NextToken", first["NextToken"].string_value())}));
  ASSERT_EQ(second.status, 200) << second.body;
  ASSERT_EQ(second["Consumers"].list().size(), 1u);
  EXPECT_EQ(*second["Consumers"].list()[0].Find("ConsumerARN"), Value::String(consumer_arn));
  EXPECT_TRUE(second["NextToken"].is_null());

  ASSERT_EQ(Call("DeregisterStreamConsumer", Body({Str("ConsumerARN", consumer_arn)})).status, 200);
  EXPECT_EQ(Call("DescribeStreamConsumer", Body({Str("ConsumerARN", consumer_arn)})).type(),
            kResourceNotFound);
  ASSERT_EQ(
      Call("DeregisterStreamConsumer", Body({Str("StreamARN", arn), Str("ConsumerName", "a")}))
          .status,
      200);
}

TEST_F(KinesisApiTest, ConsumerErrorsAreKinesisCodes) {
  Create("orders", 1);
  const std::string arn = std::string(kArnPrefix) + "orders";
  auto reg = [&](const std::string& name) {
    return Call("RegisterStreamConsumer", Body({Str("StreamARN", arn), Str("ConsumerName", name)}));
  };
  Reply c = reg("c0");
  ASSERT_EQ(c.status, 200) << c.body;
  const std::string old_arn = c["Consumer"].Find("ConsumerARN")->string_value();
  EXPECT_EQ(reg("c0").type(), kResourceInUse);
  for (int i = 1; i < 20; ++i) ASSERT_EQ(reg(absl::StrCat("c", i)).status, 200) << i;
  EXPECT_EQ(reg("c20").type(), kLimitExceeded);
  EXPECT_EQ(reg("bad name").type(), kValidation);
  // The model requires StreamARN (StreamName is not a member of these operations).
  EXPECT_EQ(
      Call("RegisterStreamConsumer", R"({"StreamName": "orders", "ConsumerName": "x"})").type(),
      kValidation);
  EXPECT_EQ(Call("RegisterStreamConsumer",
                 Body({Str("StreamARN", arn), Str("ConsumerName", "x"), R"("Tags": {"k": "v"})"}))
                .type(),
            kInvalidArgument);
  EXPECT_EQ(Call("DescribeStreamConsumer", "{}").type(), kInvalidArgument);
  EXPECT_EQ(Call("DescribeStreamConsumer", R"({"ConsumerName": "c0"})").type(), kInvalidArgument);
  EXPECT_EQ(Call("DescribeStreamConsumer", R"({"ConsumerARN": "arn:aws:kinesis:x"})").type(),
            kValidation);
  EXPECT_EQ(Call("DescribeStreamConsumer",
                 Body({Str("ConsumerARN",
                           "arn:aws:kinesis:eu-west-1:999999999999:stream/orders/consumer/c0:1")}))
                .type(),
            kResourceNotFound);
  EXPECT_EQ(
      Call("DescribeStreamConsumer", Body({Str("StreamARN", arn), Str("ConsumerName", "nobody")}))
          .type(),
      kResourceNotFound);
  // An ARN of an earlier registration of the name no longer names a consumer.
  ASSERT_EQ(Call("DeregisterStreamConsumer", Body({Str("ConsumerARN", old_arn)})).status, 200);
  clock_.Advance(absl::Seconds(1));
  ASSERT_EQ(reg("c0").status, 200);
  EXPECT_EQ(Call("DeregisterStreamConsumer", Body({Str("ConsumerARN", old_arn)})).type(),
            kResourceNotFound);
  // Listing tokens expire after 5 minutes, as ListShards'.
  Reply page = Call("ListStreamConsumers", Body({Str("StreamARN", arn), "\"MaxResults\": 1"}));
  ASSERT_EQ(page.status, 200) << page.body;
  clock_.Advance(absl::Minutes(6));
  EXPECT_EQ(Call("ListStreamConsumers",
                 Body({Str("StreamARN", arn), Str("NextToken", page["NextToken"].string_value())}))
                .type(),
            kExpiredNextToken);
  EXPECT_EQ(Call("ListStreamConsumers", R"({"MaxResults": 1})").type(), kValidation);
}

TEST_F(KinesisApiTest, DeleteStreamWithConsumersNeedsEnforceConsumerDeletion) {
  Create("orders", 1);
  ASSERT_EQ(
      Call("RegisterStreamConsumer",
           Body({Str("StreamARN", std::string(kArnPrefix) + "orders"), Str("ConsumerName", "c")}))
          .status,
      200);
  EXPECT_EQ(Call("DeleteStream", R"({"StreamName": "orders"})").type(), kResourceInUse);
  EXPECT_EQ(
      Call("DeleteStream", R"({"StreamName": "orders", "EnforceConsumerDeletion": false})").type(),
      kResourceInUse);
  EXPECT_EQ(
      Call("DeleteStream", R"({"StreamName": "orders", "EnforceConsumerDeletion": true})").status,
      200);
  EXPECT_EQ(Call("DescribeStreamSummary", R"({"StreamName": "orders"})").type(), kResourceNotFound);
}

TEST_F(KinesisApiTest, CborConsumersCarryMillisecondTimestamps) {
  Create("s", 1);
  clock_.SetTime(absl::FromUnixMillis(1700000000123));
  Value reg = Value::Map();
  reg.Add("StreamARN", Value::String(std::string(kArnPrefix) + "s"));
  reg.Add("ConsumerName", Value::String("c"));
  Reply r = CallCbor("RegisterStreamConsumer", reg);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(*r["Consumer"].Find("ConsumerCreationTimestamp"),
            Value::Timestamp(absl::FromUnixMillis(1700000000123)));
  Value tag = Value::Map();
  tag.Add("StreamName", Value::String("s"));
  Value tags = Value::Map();
  tags.Add("k", Value::String("v"));
  tag.Add("Tags", tags);
  EXPECT_EQ(CallCbor("AddTagsToStream", tag).status, 200);
}

}  // namespace
}  // namespace tributary::aws
