#include "aws/sigv4.h"

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

}  // namespace
}  // namespace tributary::aws
