#include "common/authz_policy.h"

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kOrders[] = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
constexpr char kOther[] = "arn:aws:kinesis:us-east-1:000000000000:stream/other";

AuthzPolicy MustParse(const std::string& json) {
  auto policy = AuthzPolicy::Parse(json);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *std::move(policy) : AuthzPolicy();
}

absl::Status ParseError(const std::string& json) { return AuthzPolicy::Parse(json).status(); }

TEST(WildcardMatchTest, StarMatchesAnyRunAndQuestionMarkOneCharacter) {
  EXPECT_TRUE(WildcardMatch("*", ""));
  EXPECT_TRUE(WildcardMatch("*", "anything"));
  EXPECT_TRUE(WildcardMatch("kinesis:Get*", "kinesis:GetRecords"));
  EXPECT_TRUE(WildcardMatch("a*b*c", "axxbyyc"));
  EXPECT_TRUE(WildcardMatch("poller-?", "poller-1"));
  EXPECT_FALSE(WildcardMatch("poller-?", "poller-12"));
  EXPECT_FALSE(WildcardMatch("kinesis:Get*", "kinesis:PutRecords"));
  EXPECT_FALSE(WildcardMatch("a*b", "abc"));
  EXPECT_FALSE(WildcardMatch("orders", "orders2"));
}

TEST(AuthzPolicyTest, AllowOnOneStreamAllowsThatStreamOnly) {
  AuthzPolicy policy = MustParse(R"({"Statement": [{"Effect": "Allow", "Principal": ["alice"],
      "Action": ["kinesis:PutRecords"], "Resource": ["arn:aws:kinesis:*:*:stream/orders"]}]})");
  EXPECT_TRUE(policy.IsAllowed("alice", "kinesis:PutRecords", kOrders));
  EXPECT_FALSE(policy.IsAllowed("alice", "kinesis:PutRecords", kOther));
  EXPECT_FALSE(policy.IsAllowed("alice", "kinesis:CreateStream", kOrders));
  EXPECT_FALSE(policy.IsAllowed("bob", "kinesis:PutRecords", kOrders));
}

TEST(AuthzPolicyTest, EmptyPolicyDeniesEverything) {
  AuthzPolicy policy = MustParse(R"({"Statement": []})");
  EXPECT_FALSE(policy.IsAllowed("alice", "kinesis:ListStreams", "*"));
}

TEST(AuthzPolicyTest, ExplicitDenyWinsOverAnyAllow) {
  AuthzPolicy policy = MustParse(R"({"Statement": [
      {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
      {"Effect": "Deny", "Principal": "alice", "Action": "kinesis:DeleteStream",
       "Resource": "*"}]})");
  EXPECT_FALSE(policy.IsAllowed("alice", "kinesis:DeleteStream", kOrders));
  EXPECT_TRUE(policy.IsAllowed("alice", "kinesis:PutRecords", kOrders));
  EXPECT_TRUE(policy.IsAllowed("bob", "kinesis:DeleteStream", kOrders));
}

TEST(AuthzPolicyTest, ActionsCompareCaseInsensitivelyAndTakeWildcards) {
  AuthzPolicy policy = MustParse(R"({"Statement": [{"Effect": "Allow", "Principal": "CN=poller-*",
      "Action": ["tributary:*", "KINESIS:get*"], "Resource": "*"}]})");
  EXPECT_TRUE(policy.IsAllowed("CN=poller-1", "tributary:Heartbeat", "*"));
  EXPECT_TRUE(policy.IsAllowed("CN=poller-1", "kinesis:GetRecords", kOrders));
  EXPECT_FALSE(policy.IsAllowed("CN=poller-1", "kinesis:PutRecords", kOrders));
  EXPECT_FALSE(policy.IsAllowed("CN=alice", "tributary:Heartbeat", "*"));
}

TEST(AuthzPolicyTest, StreamScopedStatementDoesNotCoverRequestsNamingNoResource) {
  AuthzPolicy policy = MustParse(R"({"Statement": [{"Effect": "Allow", "Principal": "alice",
      "Action": "kinesis:*", "Resource": "arn:aws:kinesis:*:*:stream/*"}]})");
  EXPECT_TRUE(policy.IsAllowed("alice", "kinesis:DescribeStreamSummary", kOther));
  EXPECT_FALSE(policy.IsAllowed("alice", "kinesis:ListStreams", "*"));
}

TEST(AuthzPolicyTest, UnauthenticatedCallerMatchesOnlyTheStarPrincipal) {
  AuthzPolicy policy = MustParse(R"({"Statement": [
      {"Effect": "Allow", "Principal": "*", "Action": "kinesis:ListStreams", "Resource": "*"},
      {"Effect": "Allow", "Principal": "?*", "Action": "kinesis:PutRecords", "Resource": "*"}]})");
  EXPECT_TRUE(policy.IsAllowed("", "kinesis:ListStreams", "*"));
  EXPECT_FALSE(policy.IsAllowed("", "kinesis:PutRecords", kOrders));
}

TEST(AuthzPolicyTest, MalformedDocumentsAreRejectedNamingTheField) {
  EXPECT_THAT(ParseError("{not json").message(), HasSubstr("not valid JSON"));
  EXPECT_THAT(ParseError("[]").message(), HasSubstr("Statement"));
  EXPECT_THAT(ParseError(R"({"Statement": {}})").message(), HasSubstr("Statement"));
  EXPECT_THAT(ParseError(R"({"Statement": [{"Effect": "Maybe", "Principal": "a",
      "Action": "kinesis:X", "Resource": "*"}]})").message(), HasSubstr("Statement[0].Effect"));
  EXPECT_THAT(ParseError(R"({"Statement": [{"Effect": "Allow", "Principal": "a",
      "Resource": "*"}]})").message(), HasSubstr("Statement[0].Action is missing"));
  EXPECT_THAT(ParseError(R"({"Statement": [{"Effect": "Allow", "Principal": [],
      "Action": "kinesis:X", "Resource": "*"}]})").message(), HasSubstr("Principal is empty"));
  EXPECT_THAT(ParseError(R"({"Statement": [{"Effect": "Allow", "Principal": [1],
      "Action": "kinesis:X", "Resource": "*"}]})").message(), HasSubstr("strings only"));
  EXPECT_THAT(ParseError(R"({"Statement": [{"Effect": "Allow", "Principal": "a",
      "Action": "PutRecords", "Resource": "*"}]})").message(), HasSubstr("service:Name"));
  EXPECT_THAT(ParseError(R"({"Statement": [{"Effect": "Allow", "Principals": "a",
      "Action": "kinesis:X", "Resource": "*"}]})").message(), HasSubstr("a field other than"));
}

TEST(AuthzPolicyTest, ErrorsNeverQuoteThePolicy) {
  absl::Status status = ParseError(R"({"Statement": [{"Effect": "Allow",
      "Principal": "secret-principal", "Action": "NoColonHere", "Resource": "*"}]})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), Not(HasSubstr("secret-principal")));
  EXPECT_THAT(status.message(), Not(HasSubstr("NoColonHere")));
}

TEST(AuthzPolicyTest, ReadFileNamesAMissingFileAndPrefixesParseErrorsWithThePath) {
  EXPECT_EQ(AuthzPolicy::ReadFile("/nonexistent/policy.json").status().code(),
            absl::StatusCode::kNotFound);
  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/bad_policy.json";
  std::ofstream(path) << "{";
  absl::Status status = AuthzPolicy::ReadFile(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(path));
}

}  // namespace
}  // namespace tributary
