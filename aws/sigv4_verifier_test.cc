#include "aws/sigv4_verifier.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "aws/sigv4.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::aws {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// --- the credentials file ---------------------------------------------------------------------

MATCHER_P3(IsCredential, key, secret, principal, "") {
  return arg.access_key_id == key && arg.secret_access_key == secret && arg.principal == principal;
}

TEST(AwsCredentialsTest, ReadsTheAwsCliSharedCredentialsFormat) {
  absl::StatusOr<std::vector<AwsCredential>> c = ParseAwsCredentials(
      "# who may call\n"
      "[default]\n"
      "aws_access_key_id = AKIADEFAULT\n"
      "aws_secret_access_key=secret/with+chars=\n"
      "\n"
      "; a producer\n"
      "[ orders-producer ]\n"
      "  AWS_ACCESS_KEY_ID = AKIAORDERS  \n"
      "aws_secret_access_key = s3cr3t\n"
      "region = eu-west-1\n"
      "aws_session_token = ignored\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(*c, ElementsAre(IsCredential("AKIADEFAULT", "secret/with+chars=", "default"),
                              IsCredential("AKIAORDERS", "s3cr3t", "orders-producer")));
}

TEST(AwsCredentialsTest, MalformedFilesAreRejectedNamingTheLine) {
  struct Case {
    std::string text;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"", "no credentials"},
      {"# only a comment\n", "no credentials"},
      {"aws_access_key_id = A\n", "line 1: key = value before any [profile]"},
      {"[p]\naws_access_key_id = A\n", "profile [p] needs both"},
      {"[p]\naws_secret_access_key = S\n", "profile [p] needs both"},
      {"[p]\naws_access_key_id =\naws_secret_access_key = S\n", "profile [p] needs both"},
      {"[p]\njust words\n", "line 2: expected [profile] or key = value"},
      {"[p\n", "line 1: a section is [name]"},
      {"[a]\naws_access_key_id=K\naws_secret_access_key=S\n"
       "[b]\naws_access_key_id=K\naws_secret_access_key=T\n",
       "profile [b] repeats the access key id of [a]"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<AwsCredential>> parsed = ParseAwsCredentials(c.text);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.says)) << c.text;
  }
}

TEST(AwsCredentialsTest, AMissingFileIsNotFoundNamingIt) {
  absl::StatusOr<std::vector<AwsCredential>> c =
      ReadAwsCredentialsFile("/nonexistent/tributary/credentials");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("/nonexistent/tributary/credentials"));
}

// --- verification -------------------------------------------------------------------------------

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const absl::Time kSigned = absl::FromUnixSeconds(1440938160);  // 20150830T123600Z

// The Kinesis ListStreams call botocore signed at kSigned (sigv4_test.cc has its vector).
HttpRequest BotocoreRequest() {
  HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.headers = {{"content-type", "application/x-amz-json-1.1"},
               {"x-amz-target", "Kinesis_20131202.ListStreams"},
               {"x-amz-date", "20150830T123600Z"},
               {"authorization", "..."},
               {"host", "127.0.0.1:4566"}};
  r.body = "{}";
  return r;
}

SigV4Authorization BotocoreAuthorization() {
  SigV4Authorization a;
  a.access_key_id = "AKIDEXAMPLE";
  a.date = "20150830";
  a.region = "us-east-1";
  a.service = "kinesis";
  a.signed_headers = {"content-type", "host", "x-amz-date", "x-amz-target"};
  a.signature = "b17dc820c667f2535042c4b306ec9e10d3e841bff768c072b389984f39d4139b";
  return a;
}

class SigV4VerifierTest : public ::testing::Test {
 protected:
  SigV4VerifierTest()
      : clock_(kSigned),
        verifier_({{"AKIDEXAMPLE", kSecret, "orders-producer"}, {"AKIAOTHER", "x", "other"}},
                  "us-east-1", clock_) {}

  absl::StatusOr<std::string> Verify(const HttpRequest& r, const SigV4Authorization& a) {
    return verifier_.Verify(r, a, "kinesis");
  }
  // Re-signs `a` for `r` with the right secret, so that only the condition under test fails.
  static SigV4Authorization Resigned(const HttpRequest& r, SigV4Authorization a) {
    a.signature = SigV4Signature(kSecret, std::string(r.Header("x-amz-date")), a,
                                 SigV4CanonicalRequest(r, a.signed_headers));
    return a;
  }

  FakeClock clock_;
  SigV4Verifier verifier_;
};

TEST_F(SigV4VerifierTest, ARequestSignedByBotocoreIsItsPrincipals) {
  absl::StatusOr<std::string> principal = Verify(BotocoreRequest(), BotocoreAuthorization());
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(*principal, "orders-producer");
}

TEST_F(SigV4VerifierTest, AnyChangeToWhatWasSignedBreaksTheSignature) {
  HttpRequest body = BotocoreRequest();
  body.body = "{ }";
  HttpRequest target = BotocoreRequest();
  target.headers[1].second = "Kinesis_20131202.DeleteStream";
  HttpRequest path = BotocoreRequest();
  path.target = "/?x=1";
  SigV4Authorization fewer = BotocoreAuthorization();
  fewer.signed_headers = {"host", "x-amz-date", "x-amz-target"};
  for (const auto& [request, authorization] :
       std::vector<std::pair<HttpRequest, SigV4Authorization>>{{body, BotocoreAuthorization()},
                                                               {target, BotocoreAuthorization()},
                                                               {path, BotocoreAuthorization()},
                                                               {BotocoreRequest(), fewer}}) {
    absl::StatusOr<std::string> p = Verify(request, authorization);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kPermissionDenied) << request.body;
    EXPECT_THAT(p.status().message(),
                HasSubstr("The request signature we calculated does not match"));
  }
  // A header that is not signed may change freely.
  HttpRequest agent = BotocoreRequest();
  agent.headers.emplace_back("user-agent", "anything");
  EXPECT_TRUE(Verify(agent, BotocoreAuthorization()).ok());
}

TEST_F(SigV4VerifierTest, AWrongSecretDoesNotMatch) {
  SigV4Verifier wrong({{"AKIDEXAMPLE", "not-the-secret", "p"}}, "us-east-1", clock_);
  absl::StatusOr<std::string> p =
      wrong.Verify(BotocoreRequest(), BotocoreAuthorization(), "kinesis");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(SigV4VerifierTest, AnUnknownKeyOrASessionTokenIsUnrecognized) {
  SigV4Authorization unknown = BotocoreAuthorization();
  unknown.access_key_id = "AKIANOBODY";
  EXPECT_EQ(Verify(BotocoreRequest(), unknown).status(),
            absl::UnauthenticatedError("The security token included in the request is invalid."));
  HttpRequest with_token = BotocoreRequest();
  with_token.headers.emplace_back("x-amz-security-token", "FQoGZXIvYXdz");
  EXPECT_EQ(Verify(with_token, BotocoreAuthorization()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(SigV4VerifierTest, ADateMoreThanFifteenMinutesOffEitherWayIsRefused) {
  clock_.StepWallClock(-absl::Minutes(16));  // the client's clock is 16 minutes ahead
  absl::StatusOr<std::string> early = Verify(BotocoreRequest(), BotocoreAuthorization());
  EXPECT_EQ(early.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(early.status().message(), HasSubstr("Signature not yet current: 20150830T123600Z"));
  clock_.StepWallClock(absl::Minutes(1));
  EXPECT_TRUE(Verify(BotocoreRequest(), BotocoreAuthorization()).ok());
  clock_.SetTime(kSigned + absl::Minutes(15));
  EXPECT_TRUE(Verify(BotocoreRequest(), BotocoreAuthorization()).ok());
  clock_.Advance(absl::Seconds(1));  // a request replayed 15 minutes and 1 second later
  EXPECT_EQ(Verify(BotocoreRequest(), BotocoreAuthorization()).status(),
            absl::PermissionDeniedError("Signature expired: 20150830T123600Z is now earlier than "
                                        "20150830T123601Z (20150830T125101Z - 15 min.)"));
}

TEST_F(SigV4VerifierTest, TheScopeMustBeThisRegionThisServiceAndTheRequestsDate) {
  SigV4Authorization region = BotocoreAuthorization();
  region.region = "eu-west-1";
  SigV4Authorization service = BotocoreAuthorization();
  service.service = "dynamodb";
  SigV4Authorization date = BotocoreAuthorization();
  date.date = "20150829";
  const HttpRequest r = BotocoreRequest();
  // Each correctly signed with its own scope: only the scope is wrong.
  EXPECT_EQ(Verify(r, Resigned(r, region)).status(),
            absl::PermissionDeniedError(
                "Credential should be scoped to a valid region, not 'eu-west-1'. "));
  EXPECT_EQ(
      Verify(r, Resigned(r, service)).status(),
      absl::PermissionDeniedError("Credential should be scoped to correct service: 'kinesis'. "));
  EXPECT_THAT(Verify(r, Resigned(r, date)).status().message(),
              HasSubstr("Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                        "of date from HTTP: '20150829' != '20150830'"));
}

TEST_F(SigV4VerifierTest, HostMustBeSigned) {
  SigV4Authorization a = BotocoreAuthorization();
  a.signed_headers = {"content-type", "x-amz-date", "x-amz-target"};
  const HttpRequest r = BotocoreRequest();
  EXPECT_EQ(Verify(r, Resigned(r, a)).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Verify(r, Resigned(r, a)).status().message(), HasSubstr("'Host'"));
}

TEST_F(SigV4VerifierTest, TheDateMayComeFromTheDateHeader) {
  HttpRequest r = BotocoreRequest();
  r.headers[2] = {"date", "Sun, 30 Aug 2015 12:36:00 GMT"};
  SigV4Authorization a = BotocoreAuthorization();
  a.signed_headers = {"content-type", "date", "host", "x-amz-target"};
  a.signature =
      SigV4Signature(kSecret, "20150830T123600Z", a, SigV4CanonicalRequest(r, a.signed_headers));
  EXPECT_TRUE(Verify(r, a).ok());
}

TEST_F(SigV4VerifierTest, AMalformedDateIsAnIncompleteSignature) {
  HttpRequest r = BotocoreRequest();
  for (const char* malformed : {"2015-08-30T12:36:00Z", "20150830T123600", "20151330T123600Z",
                                "20150830T246000Z", "2015083OT123600Z", ""}) {
    r.headers[2].second = malformed;
    EXPECT_EQ(Verify(r, BotocoreAuthorization()).status().code(),
              absl::StatusCode::kInvalidArgument)
        << malformed;
  }
}

}  // namespace
}  // namespace tributary::aws
