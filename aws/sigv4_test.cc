#include "aws/sigv4.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::aws {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kSignature[] = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";

TEST(SigV4Test, ParsesTheHeaderBotocoreSends) {
  absl::StatusOr<SigV4Authorization> a = ParseSigV4Authorization(
      std::string("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-east-1/kinesis/"
                  "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                  "Signature=") +
      kSignature);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(a->date, "20240102");
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->service, "kinesis");
  EXPECT_THAT(a->signed_headers, ElementsAre("content-type", "host", "x-amz-date", "x-amz-target"));
  EXPECT_EQ(a->signature, kSignature);
}

TEST(SigV4Test, ParametersMayComeInAnyOrderWithoutSpaces) {
  absl::StatusOr<SigV4Authorization> a = ParseSigV4Authorization(
      std::string("AWS4-HMAC-SHA256 Signature=") + kSignature +
      ",SignedHeaders=host,Credential=K/20240102/eu-west-1/kinesis/aws4_request");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->region, "eu-west-1");
  EXPECT_THAT(a->signed_headers, ElementsAre("host"));
}

TEST(SigV4Test, MalformedHeadersAreRejectedSayingWhy) {
  struct Case {
    std::string header;
    const char* says;
  } cases[] = {
      {"AWS4-HMAC-SHA1 Credential=K/20240102/r/s/aws4_request, SignedHeaders=host, Signature=" +
           std::string(kSignature),
       "algorithm"},
      {"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + std::string(kSignature), "Credential"},
      {"AWS4-HMAC-SHA256 Credential=K/20240102/r/s/aws4_request, Signature=" +
           std::string(kSignature),
       "SignedHeaders"},
      {"AWS4-HMAC-SHA256 Credential=K/20240102/r/s/aws4_request, SignedHeaders=host", "Signature"},
      {"AWS4-HMAC-SHA256 Credential=K/2024-01-02/r/s/aws4_request, SignedHeaders=host, "
       "Signature=" +
           std::string(kSignature),
       "YYYYMMDD"},
      {"AWS4-HMAC-SHA256 Credential=K/20240102/r/s/aws3_request, SignedHeaders=host, "
       "Signature=" +
           std::string(kSignature),
       "aws4_request"},
      {"AWS4-HMAC-SHA256 Credential=K/20240102/r/s/aws4_request, SignedHeaders=host;;date, "
       "Signature=" +
           std::string(kSignature),
       "SignedHeaders"},
      {"AWS4-HMAC-SHA256 Credential=K/20240102/r/s/aws4_request, SignedHeaders=host, "
       "Signature=abc",
       "64 hexadecimal"},
      {"", "algorithm"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<SigV4Authorization> a = ParseSigV4Authorization(c.header);
    ASSERT_FALSE(a.ok()) << c.header;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(a.status().message()), HasSubstr(c.says)) << c.header;
  }
}

// The vectors below are not ours: the first is AWS's published SigV4 test suite case
// "get-vanilla"; the others were produced by botocore's SigV4Auth (the signer boto3 and the AWS
// CLI use) for these exact requests, credentials and time.
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kTimestamp[] = "20150830T123600Z";

SigV4Authorization Scope(std::string service, std::vector<std::string> signed_headers) {
  SigV4Authorization a;
  a.access_key_id = "AKIDEXAMPLE";
  a.date = "20150830";
  a.region = "us-east-1";
  a.service = std::move(service);
  a.signed_headers = std::move(signed_headers);
  return a;
}

TEST(SigV4SignatureTest, MatchesAwsTestSuiteGetVanilla) {
  HttpRequest r;
  r.method = "GET";
  r.target = "/";
  r.headers = {{"host", "example.amazonaws.com"}, {"x-amz-date", kTimestamp}};
  const SigV4Authorization a = Scope("service", {"host", "x-amz-date"});
  EXPECT_EQ(SigV4CanonicalRequest(r, a.signed_headers),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(SigV4Signature(kSecret, kTimestamp, a, SigV4CanonicalRequest(r, a.signed_headers)),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4SignatureTest, MatchesBotocoreForAKinesisCall) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/";
  // As the HTTP server hands them over: lower-case names, arrival order (not sorted).
  r.headers = {{"x-amz-target", "Kinesis_20131202.ListStreams"},
               {"content-type", "application/x-amz-json-1.1"},
               {"host", "127.0.0.1:4566"},
               {"x-amz-date", kTimestamp},
               {"user-agent", "not signed"}};
  r.body = "{}";
  const SigV4Authorization a =
      Scope("kinesis", {"content-type", "host", "x-amz-date", "x-amz-target"});
  EXPECT_EQ(SigV4CanonicalRequest(r, a.signed_headers),
            "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:127.0.0.1:4566\n"
            "x-amz-date:20150830T123600Z\nx-amz-target:Kinesis_20131202.ListStreams\n\n"
            "content-type;host;x-amz-date;x-amz-target\n"
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  EXPECT_EQ(SigV4Signature(kSecret, kTimestamp, a, SigV4CanonicalRequest(r, a.signed_headers)),
            "b17dc820c667f2535042c4b306ec9e10d3e841bff768c072b389984f39d4139b");
}

TEST(SigV4SignatureTest, NormalizesPathQueryAndHeaderSpacesAsBotocore) {
  HttpRequest r;
  r.method = "GET";
  r.target = "/a%20b/../c?Param2=value2&Param1=value1&b=a%2Fb";
  r.headers = {{"host", "example.amazonaws.com"},
               {"my-header1", "  value1   a  b "},
               {"x-amz-date", kTimestamp}};
  const SigV4Authorization a = Scope("service", {"host", "my-header1", "x-amz-date"});
  const std::string canonical = SigV4CanonicalRequest(r, a.signed_headers);
  EXPECT_THAT(canonical, HasSubstr("GET\n/c\nParam1=value1&Param2=value2&b=a%2Fb\n"));
  EXPECT_THAT(canonical, HasSubstr("\nmy-header1:value1 a b\n"));
  EXPECT_EQ(SigV4Signature(kSecret, kTimestamp, a, canonical),
            "e3f10f8fc9f280e56e8f3be947afbd48ca541854d4e9b71f1968df5f5cbc9930");
}

TEST(SigV4SignatureTest, APathIsEncodedAgainAndRepeatedHeadersJoined) {
  HttpRequest r;
  r.method = "GET";
  r.target = "/functions/my%20fn/";
  r.headers = {{"x-multi", "a"}, {"x-multi", " b "}};
  EXPECT_EQ(SigV4CanonicalRequest(r, {"x-multi", "x-absent"}),
            "GET\n/functions/my%2520fn/\n\nx-absent:\nx-multi:a,b\n\nx-absent;x-multi\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4SignatureTest, TimestampIsIsoBasicUtc) {
  EXPECT_EQ(SigV4Timestamp(absl::FromUnixSeconds(1440938160)), kTimestamp);
}

}  // namespace
}  // namespace tributary::aws
