#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aws/cbor_codec.h"
#include "aws/json_codec.h"
#include "aws/value.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::aws {
namespace {

using ::testing::HasSubstr;

Value ParsedJson(const std::string& text) {
  absl::StatusOr<Value> v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : Value();
}

// Bytes from hex that may have spaces between items, for reading.
std::string Bytes(std::string hex) {
  hex.erase(std::remove(hex.begin(), hex.end(), ' '), hex.end());
  return absl::HexStringToBytes(hex);
}

Value ParsedCbor(const std::string& hex) {
  absl::StatusOr<Value> v = ParseCbor(Bytes(hex));
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : Value();
}

// --- JSON ----------------------------------------------------------------------------------

TEST(JsonCodecTest, ParsesEveryJsonTypeIntoTheTree) {
  Value v = ParsedJson(
      R"({"s": "x", "i": -7, "big": 18446744073709551615, "d": 1.5, "t": true, "n": null,
          "l": [1, "two"], "m": {"k": {}}})");
  ASSERT_EQ(v.type(), Value::Type::kMap);
  EXPECT_EQ(*v.Find("s"), Value::String("x"));
  EXPECT_EQ(*v.Find("i"), Value::Integer(-7));
  EXPECT_EQ(v.Find("big")->type(), Value::Type::kDouble);  // beyond int64
  EXPECT_EQ(*v.Find("d"), Value::Double(1.5));
  EXPECT_EQ(*v.Find("t"), Value::Bool(true));
  EXPECT_TRUE(v.Find("n")->is_null());
  EXPECT_EQ(v.Find("l")->list().size(), 2u);
  EXPECT_EQ(v.Find("m")->Find("k")->type(), Value::Type::kMap);
  EXPECT_EQ(v.Find("absent"), nullptr);
}

TEST(JsonCodecTest, EscapedNonAsciiAndSurrogatePairsBecomeUtf8) {
  // botocore escapes non-ASCII as \uXXXX; U+1F600 is the surrogate pair D83D DE00.
  Value v = ParsedJson(R"({"PartitionKey": "k\u00e9y-\ud83d\ude00"})");
  EXPECT_EQ(v.Find("PartitionKey")->string_value(), "k\xC3\xA9y-\xF0\x9F\x98\x80");
}

TEST(JsonCodecTest, RawUtf8EqualsTheEscapedForm) {
  EXPECT_EQ(ParsedJson("{\"k\": \"\xC3\xA9\"}"), ParsedJson(R"({"k": "\u00e9"})"));
}

TEST(JsonCodecTest, MalformedJsonIsRejectedWithTheOffset) {
  for (const char* bad : {"", "{", "{\"a\": }", "{\"a\": 1} x", "{'a': 1}", "[1,]", "nul"}) {
    absl::StatusOr<Value> v = ParseJson(bad);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_THAT(std::string(ParseJson("{\"a\": x}").status().message()), HasSubstr("byte 6"));
}

TEST(JsonCodecTest, InvalidUtf8AndLoneSurrogatesAreRejected) {
  EXPECT_FALSE(ParseJson("{\"k\": \"\xC3\"}").ok());
  EXPECT_FALSE(ParseJson(R"({"k": "\ud83d"})").ok());
}

TEST(JsonCodecTest, ANulByteAnywhereIsRejectedNotTakenAsTheEnd) {
  for (const std::string& body : {std::string("{\"a\": 1}\0{\"b\": 2}", 17),
                                  std::string("{\"a\": \"x\0y\"}", 13), std::string("\0", 1)}) {
    absl::StatusOr<Value> v = ParseJson(body);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << absl::CEscape(body);
    EXPECT_THAT(std::string(v.status().message()), HasSubstr("NUL")) << absl::CEscape(body);
  }
}

TEST(JsonCodecTest, Utf8IsCheckedAsRfc3629SaysAtEveryOffset) {
  const std::vector<std::pair<std::string, bool>> strings = {
      {"\xC3\xA9", true},           // é
      {"\xE2\x82\xAC", true},       // €
      {"\xF0\x9F\x98\x80", true},   // U+1F600
      {"\xF4\x8F\xBF\xBF", true},   // U+10FFFF, the last code point
      {"\xC0\x80", false},          // overlong NUL
      {"\xC1\xBF", false},          // overlong
      {"\xE0\x9F\xBF", false},      // overlong three-byte form
      {"\xED\xA0\x80", false},      // a surrogate (U+D800) written raw
      {"\xF0\x8F\xBF\xBF", false},  // overlong four-byte form
      {"\xF4\x90\x80\x80", false},  // above U+10FFFF
      {"\xF5\x80\x80\x80", false},  // no such lead byte
      {"\x80", false},              // a continuation byte alone
      {"\xE2\x82", false},          // truncated
      {"\xE2\x28\xA1", false},      // a bad continuation byte
  };
  // Behind 0..16 ASCII bytes, so that the eight-bytes-at-a-time path meets each sequence at
  // every alignment, and at the very end of a string.
  for (const auto& [bytes, valid] : strings) {
    for (size_t prefix = 0; prefix <= 16; ++prefix) {
      const std::string body = absl::StrCat(R"({"k": ")", std::string(prefix, 'a'), bytes, R"("})");
      EXPECT_EQ(ParseJson(body).ok(), valid) << absl::CEscape(body);
    }
  }
  absl::StatusOr<Value> v = ParseJson("{\"k\": \"abcdefghij\xFF\"}");
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("byte 17: invalid UTF-8"));
}

TEST(JsonCodecTest, NestingDeeperThanTheLimitIsRejectedWithoutRecursion) {
  const std::string deep(1 << 20, '[');  // a megabyte of '[' must not overflow the stack
  absl::StatusOr<Value> v = ParseJson(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("deeper than 64"));
  std::string ok_depth(kMaxValueDepth, '[');
  ok_depth += std::string(kMaxValueDepth, ']');
  EXPECT_TRUE(ParseJson(ok_depth).ok());
}

TEST(JsonCodecTest, WritesBytesAsPaddedBase64AndTimestampsAsSecondsWithAFraction) {
  Value v = Value::Map();
  v.Add("Data", Value::Bytes(std::string("\x00\xff\x10", 3)));
  v.Add("At", Value::Timestamp(absl::FromUnixMillis(1700000000123)));
  v.Add("Whole", Value::Timestamp(absl::FromUnixSeconds(1700000000)));
  v.Add("Key", Value::String("k\xC3\xA9\"\n"));
  EXPECT_EQ(WriteJson(v),
            "{\"Data\":\"AP8Q\",\"At\":1700000000.123,\"Whole\":1700000000.0,"
            "\"Key\":\"k\xC3\xA9\\\"\\n\"}");
}

TEST(JsonCodecTest, WrittenJsonParsesBackToTheSameTree) {
  Value v = Value::Map();
  v.Add("a", Value::List()).Append(Value::Integer(-3));
  v.Add("b", Value::Map()).Add("c", Value::Bool(false));
  v.Add("d", Value::Double(0.25));
  v.Add("e", Value());
  EXPECT_EQ(ParsedJson(WriteJson(v)), v);
}

// --- CBOR ----------------------------------------------------------------------------------

TEST(CborCodecTest, ParsesDefiniteMapsWithEveryScalarType) {
  // {"a": 1, "b": -2, "c": h'0102', "d": "x", "e": true, "f": null, "g": 1.5 (half)}
  Value v = ParsedCbor("a7 6161 01 6162 21 6163 420102 6164 6178 6165 f5 6166 f6 6167 f93e00");
  EXPECT_EQ(*v.Find("a"), Value::Integer(1));
  EXPECT_EQ(*v.Find("b"), Value::Integer(-2));
  EXPECT_EQ(*v.Find("c"), Value::Bytes("\x01\x02"));
  EXPECT_EQ(*v.Find("d"), Value::String("x"));
  EXPECT_EQ(*v.Find("e"), Value::Bool(true));
  EXPECT_TRUE(v.Find("f")->is_null());
  EXPECT_EQ(*v.Find("g"), Value::Double(1.5));
}

TEST(CborCodecTest, ParsesIndefiniteMapsListsAndChunkedStringsAsJacksonWritesThem) {
  // {_ "Records": [_ {_ "Data": (_ h'01', h'02'), "PartitionKey": (_ "p", "k") } ] }
  Value v = ParsedCbor(
      "bf 675265636f726473 9f bf 6444617461 5f 4101 4102 ff 6c506172746974696f6e4b6579 7f 6170 "
      "616b ff ff ff ff");
  const Value& record = v.Find("Records")->list().at(0);
  EXPECT_EQ(*record.Find("Data"), Value::Bytes("\x01\x02"));
  EXPECT_EQ(*record.Find("PartitionKey"), Value::String("pk"));
}

TEST(CborCodecTest, TagOneIsAnEpochMillisecondTimestamp) {
  // 1(1700000000123) and 1(1700000000123.0 as a double)
  Value v = ParsedCbor("a2 6169 c11b0000018bcfe5687b 6164 c1fb4278bcfe5687b000");
  EXPECT_EQ(*v.Find("i"), Value::Timestamp(absl::FromUnixMillis(1700000000123)));
  EXPECT_EQ(*v.Find("d"), Value::Timestamp(absl::FromUnixMillis(1700000000123)));
}

TEST(CborCodecTest, OtherTagsAreIgnoredAndTagOneOnANonNumberIsRejected) {
  EXPECT_EQ(ParsedCbor("d8206178"), Value::String("x"));  // tag 32 (URI) on "x"
  EXPECT_FALSE(ParseCbor(Bytes("c16178")).ok());
}

TEST(CborCodecTest, MalformedCborIsRejected) {
  const char* bad[] = {
      "",         // empty
      "a1",       // a map without its pair
      "6261",     // a text string shorter than its head says
      "a10101",   // a map key that is not a text string
      "6161 01",  // bytes after the top-level item
      "62c328",   // invalid UTF-8
      "ff",       // a break outside an indefinite item
      "f7",       // undefined
      "1c",       // a reserved additional-information value
  };
  for (const char* hex : bad) {
    EXPECT_EQ(ParseCbor(Bytes(hex)).status().code(), absl::StatusCode::kInvalidArgument) << hex;
  }
}

TEST(CborCodecTest, NestingDeeperThanTheLimitIsRejectedWithoutRecursion) {
  const std::string deep(1 << 20, '\x9f');  // indefinite lists, never closed
  absl::StatusOr<Value> v = ParseCbor(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("deeper than 64"));
}

TEST(CborCodecTest, WritesDefiniteShortestFormsAndTaggedMillisecondTimestamps) {
  Value v = Value::Map();
  v.Add("a", Value::Integer(24));
  v.Add("b", Value::Integer(-1));
  v.Add("c", Value::Bytes("\x01"));
  v.Add("t", Value::Timestamp(absl::FromUnixMillis(1700000000123)));
  EXPECT_EQ(WriteCbor(v), Bytes("a4 6161 1818 6162 20 6163 4101 6174 c11b0000018bcfe5687b"));
}

TEST(CborCodecTest, WrittenCborParsesBackToTheSameTree) {
  Value v = Value::Map();
  Value& list = v.Add("l", Value::List());
  list.Append(Value::Integer(std::numeric_limits<int64_t>::min()));
  list.Append(Value::Integer(std::numeric_limits<int64_t>::max()));
  list.Append(Value::Double(-0.5));
  list.Append(Value::String(std::string(300, 'x')));
  list.Append(Value::Bytes(std::string(70000, '\0')));
  v.Add("m", Value::Map()).Add("n", Value());
  v.Add("t", Value::Timestamp(absl::FromUnixMillis(-5)));
  EXPECT_EQ(ParsedCbor(absl::BytesToHexString(WriteCbor(v))), v);
}

}  // namespace
}  // namespace tributary::aws
