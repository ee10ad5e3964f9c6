#include "aws/input_reader.h"

#include <string>

#include "aws/json_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::aws {
namespace {

using ::testing::HasSubstr;

Value Json(const char* text) {
  absl::StatusOr<Value> v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : Value();
}

TEST(InputReaderTest, ReadsTypedMembersAndTreatsNullAsAbsent) {
  Value body = Json(R"({"S": "x", "I": 7, "F": 2.9, "B": true, "N": null,
                        "Blob": "AP8=", "T": 1700000000.5, "M": {"X": "y"}, "L": [1]})");
  InputErrors errors(Protocol::kJson);
  InputReader in(body, &errors);
  EXPECT_EQ(in.String("S"), "x");
  EXPECT_EQ(in.Integer("I"), 7);
  EXPECT_EQ(in.Integer("F"), 2);  // truncated, as AWS's front end does
  EXPECT_EQ(in.Boolean("B"), true);
  EXPECT_EQ(in.String("N"), std::nullopt);
  EXPECT_EQ(in.String("Absent"), std::nullopt);
  EXPECT_EQ(in.Blob("Blob"), std::string("\x00\xff", 2));
  EXPECT_EQ(in.Timestamp("T"), absl::FromUnixMillis(1700000000500));
  EXPECT_EQ(in.Structure("M")->String("X"), "y");
  EXPECT_EQ(in.List("L")->size(), 1u);
  EXPECT_EQ(errors.Error(), std::nullopt);
}

TEST(InputReaderTest, AWrongWireTypeIsASerializationException) {
  Value body = Json(R"({"ShardCount": "2", "StreamName": 5})");
  InputErrors errors(Protocol::kJson);
  InputReader in(body, &errors);
  EXPECT_EQ(in.Integer("ShardCount"), std::nullopt);
  in.String("StreamName");
  std::optional<AwsError> e = errors.Error();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, kSerialization);
  EXPECT_THAT(e->message, HasSubstr("'shardCount' must be an integer, found a string"));
}

TEST(InputReaderTest, BlobsAreBase64InJsonAndByteStringsInCbor) {
  Value json = Json(R"({"Data": "not base64!"})");
  InputErrors json_errors(Protocol::kJson);
  InputReader(json, &json_errors).Blob("Data");
  ASSERT_TRUE(json_errors.Error().has_value());
  EXPECT_EQ(json_errors.Error()->type, kSerialization);

  Value cbor = Value::Map();
  cbor.Add("Data", Value::String("AP8="));  // a text string where CBOR carries bytes
  InputErrors cbor_errors(Protocol::kCbor);
  InputReader(cbor, &cbor_errors).Blob("Data");
  ASSERT_TRUE(cbor_errors.Error().has_value());
  EXPECT_EQ(cbor_errors.Error()->type, kSerialization);
}

TEST(InputReaderTest, FractionalSecondsAreExactToTheMillisecond) {
  // 1700000000.123 has no exact double; it must not become ...122.99999 (a store keeping
  // milliseconds would then read 122).
  Value body = Json(R"({"T": 1700000000.123, "U": 1700000000})");
  InputErrors errors(Protocol::kJson);
  InputReader in(body, &errors);
  EXPECT_EQ(in.Timestamp("T"), absl::FromUnixMillis(1700000000123));
  EXPECT_EQ(in.Timestamp("U"), absl::FromUnixSeconds(1700000000));
}

TEST(InputReaderTest, UntaggedCborTimestampsAreMilliseconds) {
  Value cbor = Value::Map();
  cbor.Add("T", Value::Integer(1700000000123));
  InputErrors errors(Protocol::kCbor);
  EXPECT_EQ(InputReader(cbor, &errors).Timestamp("T"), absl::FromUnixMillis(1700000000123));
}

TEST(InputReaderTest, ViolationsAreOneValidationExceptionWordedLikeAws) {
  Value body = Json(R"({"ShardCount": 0, "Records": [{"PartitionKey": ""}]})");
  InputErrors errors(Protocol::kJson);
  InputReader in(body, &errors);
  in.Required("StreamName", in.String("StreamName").has_value());
  in.Range("ShardCount", in.Integer("ShardCount"), 1, 100);
  InputReader record = in.Element("Records", 0, in.List("Records")->at(0));
  record.Length("PartitionKey", record.String("PartitionKey"), 1, 256);
  std::optional<AwsError> e = errors.Error();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, kValidation);
  EXPECT_EQ(e->http_status, 400);
  EXPECT_EQ(e->message,
            "3 validation errors detected: "
            "Value null at 'streamName' failed to satisfy constraint: Member must not be null; "
            "Value '0' at 'shardCount' failed to satisfy constraint: Member must have value "
            "greater than or equal to 1; "
            "Value '' at 'records.1.member.partitionKey' failed to satisfy constraint: Member "
            "must have length greater than or equal to 1");
}

TEST(InputReaderTest, LengthsCountCharactersNotBytes) {
  Value body = Value::Map();
  std::string two_byte_chars;
  for (int i = 0; i < 256; ++i) two_byte_chars += "\xC3\xA9";  // 256 characters, 512 bytes
  body.Add("E", Value::String(two_byte_chars));
  InputErrors errors(Protocol::kJson);
  InputReader in(body, &errors);
  EXPECT_TRUE(in.Length("E", in.String("E"), 1, 256));
  EXPECT_FALSE(in.Length("E", in.String("E"), 1, 255));
}

TEST(InputReaderTest, LongValuesAreCutInMessages) {
  Value body = Value::Map();
  body.Add("PartitionKey", Value::String(std::string(100000, 'k')));
  InputErrors errors(Protocol::kJson);
  InputReader in(body, &errors);
  in.Length("PartitionKey", in.String("PartitionKey"), 1, 256);
  ASSERT_TRUE(errors.Error().has_value());
  EXPECT_LT(errors.Error()->message.size(), 500u);
  EXPECT_THAT(errors.Error()->message, HasSubstr("kkk...' at 'partitionKey'"));
}

TEST(InputReaderTest, PatternsAndEnumsReportTheRule) {
  Value body = Json(R"({"StreamName": "bad name", "Type": "SIDEWAYS"})");
  InputErrors errors(Protocol::kJson);
  InputReader in(body, &errors);
  in.Pattern("StreamName", in.String("StreamName"), "[a-zA-Z0-9_.-]+", MatchesName);
  in.Enum("Type", in.String("Type"), {"LATEST", "TRIM_HORIZON"});
  ASSERT_TRUE(errors.Error().has_value());
  EXPECT_THAT(errors.Error()->message,
              HasSubstr("Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"));
  EXPECT_THAT(errors.Error()->message,
              HasSubstr("Member must satisfy enum value set: [LATEST, TRIM_HORIZON]"));
}

TEST(InputReaderTest, KinesisPatterns) {
  EXPECT_TRUE(MatchesHashKey("0"));
  EXPECT_TRUE(MatchesHashKey("340282366920938463463374607431768211455"));  // 39 digits
  EXPECT_FALSE(MatchesHashKey("01"));
  EXPECT_FALSE(MatchesHashKey(std::string(40, '1')));
  EXPECT_FALSE(MatchesHashKey("-1"));
  EXPECT_TRUE(MatchesSequenceNumber("49590338271490256608559692538361571095921575989136588898"));
  EXPECT_FALSE(MatchesSequenceNumber(""));
  EXPECT_TRUE(MatchesName("my-stream_1.x"));
  EXPECT_FALSE(MatchesName("my stream"));
}

TEST(InputReaderTest, ABodyThatIsNotAStructureIsASerializationException) {
  Value body = Json("[1, 2]");
  InputErrors errors(Protocol::kJson);
  InputReader in(body, &errors);
  EXPECT_EQ(in.String("StreamName"), std::nullopt);
  ASSERT_TRUE(errors.Error().has_value());
  EXPECT_EQ(errors.Error()->type, kSerialization);
}

TEST(InputReaderTest, StringMapsAndListsAreReadInKeyOrderAndCheckedPerEntry) {
  Value body = Json(R"({"Tags": {"b": "2", "a": "1", "b": "3"}, "Keys": ["x", ""],
                        "Bad": {"k": 1}})");
  InputErrors errors(Protocol::kJson);
  InputReader in(body, &errors);
  std::optional<InputReader::StringPairs> tags = in.StringMap("Tags");
  ASSERT_TRUE(tags.has_value());
  EXPECT_EQ(*tags, (InputReader::StringPairs{{"a", "1"}, {"b", "3"}}));  // the last "b" wins
  EXPECT_TRUE(in.MapLength("Tags", tags, 1, 2));
  EXPECT_FALSE(in.MapEntryLengths("Tags", tags, 2, 128, 0, 256));
  std::optional<std::vector<std::string>> keys = in.StringList("Keys");
  ASSERT_TRUE(keys.has_value());
  EXPECT_FALSE(in.ElementLengths("Keys", keys, 1, 128));
  std::optional<AwsError> e = errors.Error();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, kValidation);
  EXPECT_THAT(e->message, HasSubstr("2 validation errors detected: Value '{a=1, b=3}' at 'tags' "
                                    "failed to satisfy constraint: Map keys must satisfy "
                                    "constraint: [Member must have length less than or equal to "
                                    "128, Member must have length greater than or equal to 2]"));
  EXPECT_THAT(e->message, HasSubstr("Value '[x, ]' at 'keys' failed to satisfy constraint: "
                                    "Member must satisfy constraint: ["));
  in.StringMap("Bad");
  ASSERT_TRUE(errors.Error().has_value());
  EXPECT_EQ(errors.Error()->type, kSerialization);
  EXPECT_THAT(errors.Error()->message, HasSubstr("'bad' must map strings to strings"));
}

}  // namespace
}  // namespace tributary::aws
