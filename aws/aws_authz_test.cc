#include "aws/aws_authz.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aws/aws_error.h"
#include "aws/value.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::aws {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAccountId[] = "123456789012";
constexpr char kOrders[] = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders";
constexpr char kOther[] = "arn:aws:kinesis:eu-west-1:123456789012:stream/other";

// alice: anything on the orders stream and the users table; bob: reads of every stream
// (a wildcard) but DeleteStream nowhere.
constexpr char kPolicy[] = R"({"Statement": [
  {"Effect": "Allow", "Principal": "alice", "Action": ["kinesis:*", "lambda:*"],
   "Resource": ["arn:aws:kinesis:*:*:stream/orders", "arn:aws:lambda:*:*:*"]},
  {"Effect": "Allow", "Principal": "alice", "Action": "dynamodb:*",
   "Resource": "arn:aws:dynamodb:*:*:table/users*"},
  {"Effect": "Allow", "Principal": "bob", "Action": ["kinesis:Get*", "kinesis:DeleteStream"],
   "Resource": "arn:aws:kinesis:*:*:stream/*"},
  {"Effect": "Deny", "Principal": "*", "Action": "kinesis:DeleteStream", "Resource": "*"}
]})";

Value Input(std::initializer_list<std::pair<const char*, Value>> members) {
  Value v = Value::Map();
  for (const auto& [name, value] : members) v.Add(name, value);
  return v;
}

class AwsAuthzTest : public ::testing::Test {
 protected:
  AwsAuthzTest() : dir_(getenv("TEST_TMPDIR")) {}

  void Start(bool with_policy = true) {
    std::ofstream(dir_ + "/policy.json", std::ios::trunc) << kPolicy;
    AwsAuthzOptions options;
    if (with_policy) options.policy_file = dir_ + "/policy.json";
    options.audit_log = audit_path_;
    options.account = AwsAccount{"eu-west-1", kAccountId};
    // A store iterator here is "it-<stream>"; anything else does not decode.
    options.stream_of_iterator = [](absl::string_view it) -> absl::StatusOr<std::string> {
      if (absl::StartsWith(it, "it-")) return std::string(it.substr(3));
      return absl::InvalidArgumentError("shard_iterator: malformed");
    };
    options.table_stream_arn = [](absl::string_view stream) -> std::optional<std::string> {
      return absl::StrCat("arn:aws:dynamodb:eu-west-1:123456789012:table/", stream,
                          "/stream/L");
    };
    auto authz = AwsAuthz::Create(std::move(options), clock_);
    ASSERT_TRUE(authz.ok()) << authz.status();
    authz_ = *std::move(authz);
  }

  std::optional<AwsError> Check(const std::string& principal, const char* service,
                                const char* prefix, const char* operation, const Value& input) {
    return authz_->Check(principal, authz_->TargetOf(service, prefix, operation, input), 400);
  }
  std::string Audit() {
    std::ifstream in(audit_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  const std::string dir_;
  // One audit file a test (TEST_TMPDIR is the binary's).
  const std::string audit_path_ =
      dir_ + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".audit";
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<AwsAuthz> authz_;
};

TEST_F(AwsAuthzTest, KinesisCallsActOnTheNamedStreamInTheConfiguredAccount) {
  Start();
  AwsAuthzTarget t = authz_->TargetOf("kinesis", "Kinesis_20131202", "PutRecords",
                                      Input({{"StreamName", Value::String("orders")}}));
  EXPECT_EQ(t.action, "kinesis:PutRecords");
  EXPECT_THAT(t.resources, ElementsAre(kOrders));
  EXPECT_FALSE(t.control_plane);
  EXPECT_TRUE(authz_->TargetOf("kinesis", "Kinesis_20131202", "CreateStream",
                               Input({{"StreamName", Value::String("orders")}}))
                  .control_plane);
  EXPECT_THAT(authz_->TargetOf("kinesis", "Kinesis_20131202", "ListStreams", Value::Map())
                  .resources,
              ElementsAre("*"));
  // A name and an ARN that differ: both are checked.
  EXPECT_THAT(authz_
                  ->TargetOf("kinesis", "Kinesis_20131202", "DescribeStreamSummary",
                             Input({{"StreamName", Value::String("orders")},
                                    {"StreamARN", Value::String(kOther)}}))
                  .resources,
              ElementsAre(kOrders, kOther));
}

TEST_F(AwsAuthzTest, GetRecordsActsOnTheStreamItsIteratorReads) {
  Start();
  EXPECT_THAT(authz_
                  ->TargetOf("kinesis", "Kinesis_20131202", "GetRecords",
                             Input({{"ShardIterator", Value::String("it-other")}}))
                  .resources,
              ElementsAre(kOther));
  EXPECT_FALSE(Check("alice", "kinesis", "Kinesis_20131202", "GetRecords",
                     Input({{"ShardIterator", Value::String("it-orders")}}))
                   .has_value());
  std::optional<AwsError> denied = Check("alice", "kinesis", "Kinesis_20131202", "GetRecords",
                                         Input({{"ShardIterator", Value::String("it-other")}}));
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->type, kAccessDenied);
  // An iterator that does not decode is left to the API, which refuses it as such.
  EXPECT_FALSE(Check("alice", "kinesis", "Kinesis_20131202", "GetRecords",
                     Input({{"ShardIterator", Value::String("forged")}}))
                   .has_value());
  // DynamoDB Streams' iterators wrap the store's: "table:index:store iterator".
  EXPECT_THAT(authz_
                  ->TargetOf("dynamodb", "DynamoDBStreams_20120810", "GetRecords",
                             Input({{"ShardIterator", Value::String("7:0:it-users")}}))
                  .resources,
              ElementsAre("arn:aws:dynamodb:eu-west-1:123456789012:table/users/stream/L"));
}

TEST_F(AwsAuthzTest, DynamoDbCallsActOnEveryTableTheyName) {
  Start();
  EXPECT_THAT(authz_
                  ->TargetOf("dynamodb", "DynamoDB_20120810", "PutItem",
                             Input({{"TableName", Value::String("users")}}))
                  .resources,
              ElementsAre("arn:aws:dynamodb:eu-west-1:123456789012:table/users"));
  Value batch = Value::Map();
  Value& items = batch.Add("RequestItems", Value::Map());
  items.Add("users", Value::List());
  items.Add("secrets", Value::List());
  EXPECT_THAT(authz_->TargetOf("dynamodb", "DynamoDB_20120810", "BatchWriteItem", batch).resources,
              ElementsAre("arn:aws:dynamodb:eu-west-1:123456789012:table/users",
                          "arn:aws:dynamodb:eu-west-1:123456789012:table/secrets"));
  // One table alice may not touch refuses the whole batch.
  std::optional<AwsError> denied =
      Check("alice", "dynamodb", "DynamoDB_20120810", "BatchWriteItem", batch);
  ASSERT_TRUE(denied.has_value());
  EXPECT_THAT(denied->message, HasSubstr("table/secrets"));

  Value transact = Value::Map();
  Value& list = transact.Add("TransactItems", Value::List());
  list.Append(Input({{"Put", Input({{"TableName", Value::String("users")}})}}));
  list.Append(Input({{"Delete", Input({{"TableName", Value::String("audit")}})}}));
  EXPECT_THAT(
      authz_->TargetOf("dynamodb", "DynamoDB_20120810", "TransactWriteItems", transact).resources,
      ElementsAre("arn:aws:dynamodb:eu-west-1:123456789012:table/users",
                  "arn:aws:dynamodb:eu-west-1:123456789012:table/audit"));
  EXPECT_THAT(authz_
                  ->TargetOf("dynamodb", "DynamoDBStreams_20120810", "DescribeStream",
                             Input({{"StreamArn", Value::String("arn:s")}}))
                  .resources,
              ElementsAre("arn:s"));
}

TEST_F(AwsAuthzTest, LambdaCallsActOnTheirMappingFunctionOrStream) {
  Start();
  EXPECT_THAT(authz_->TargetOf("lambda", "", "DeleteEventSourceMapping",
                               Input({{"UUID", Value::String("u-1")}}))
                  .resources,
              ElementsAre("arn:aws:lambda:eu-west-1:123456789012:event-source-mapping:u-1"));
  EXPECT_THAT(authz_->TargetOf("lambda", "", "GetFunction",
                               Input({{"FunctionName", Value::String("f")}}))
                  .resources,
              ElementsAre("arn:aws:lambda:eu-west-1:123456789012:function:f"));
  AwsAuthzTarget create = authz_->TargetOf(
      "lambda", "", "CreateEventSourceMapping",
      Input({{"EventSourceArn", Value::String(kOther)}, {"FunctionName", Value::String("f")}}));
  EXPECT_THAT(create.resources, ElementsAre(kOther));
  EXPECT_TRUE(create.control_plane);
  EXPECT_THAT(authz_->TargetOf("lambda", "", "ListEventSourceMappings",
                               Input({{"FunctionName", Value::String("f")}}))
                  .resources,
              ElementsAre("*"));
}

TEST_F(AwsAuthzTest, DenialNamesActionAndResourceNotThePolicyAndIsAudited) {
  Start();
  std::optional<AwsError> denied = Check("alice", "kinesis", "Kinesis_20131202", "PutRecords",
                                         Input({{"StreamName", Value::String("other")}}));
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->type, kAccessDenied);
  EXPECT_EQ(denied->http_status, 400);
  EXPECT_EQ(denied->message,
            absl::StrCat("User: alice is not authorized to perform: kinesis:PutRecords on "
                         "resource: ",
                         kOther));
  EXPECT_THAT(denied->message, Not(HasSubstr("Statement")));
  EXPECT_THAT(denied->message, Not(HasSubstr("lambda")));
  const std::string audit = Audit();
  EXPECT_THAT(audit, HasSubstr(R"("principal":"alice")"));
  EXPECT_THAT(audit, HasSubstr(R"("action":"kinesis:PutRecords")"));
  EXPECT_THAT(audit, HasSubstr(absl::StrCat(R"("resource":")", kOther, R"(")")));
  EXPECT_THAT(audit, HasSubstr(R"("outcome":"PERMISSION_DENIED")"));
}

TEST_F(AwsAuthzTest, WildcardResourcesAllowCrossStreamAccessAndExplicitDenyWins) {
  Start();
  for (const char* stream : {"orders", "other"}) {
    EXPECT_FALSE(Check("bob", "kinesis", "Kinesis_20131202", "GetShardIterator",
                       Input({{"StreamName", Value::String(stream)}}))
                     .has_value())
        << stream;
  }
  EXPECT_TRUE(Check("bob", "kinesis", "Kinesis_20131202", "PutRecords",
                    Input({{"StreamName", Value::String("orders")}}))
                  .has_value());
  EXPECT_TRUE(Check("bob", "kinesis", "Kinesis_20131202", "DeleteStream",
                    Input({{"StreamName", Value::String("orders")}}))
                  .has_value());
  EXPECT_TRUE(Check("", "kinesis", "Kinesis_20131202", "ListStreams", Value::Map()).has_value());
}

TEST_F(AwsAuthzTest, ControlPlaneOutcomesAreAuditedAndDataCallsAreNot) {
  Start();
  AwsAuthzTarget create = authz_->TargetOf("kinesis", "Kinesis_20131202", "CreateStream",
                                           Input({{"StreamName", Value::String("orders")}}));
  authz_->AuditOutcome("alice", create, nullptr);
  const AwsError in_use = MakeError(kResourceInUse, "exists");
  authz_->AuditOutcome("alice", create, &in_use);
  authz_->AuditOutcome("alice",
                       authz_->TargetOf("kinesis", "Kinesis_20131202", "PutRecords",
                                        Input({{"StreamName", Value::String("orders")}})),
                       nullptr);
  const std::string audit = Audit();
  EXPECT_THAT(audit, HasSubstr(R"("action":"kinesis:CreateStream")"));
  EXPECT_THAT(audit, HasSubstr(R"("outcome":"OK")"));
  EXPECT_THAT(audit, HasSubstr(R"("outcome":"FAILED_PRECONDITION")"));
  EXPECT_THAT(audit, Not(HasSubstr("PutRecords")));
}

TEST_F(AwsAuthzTest, WithoutAPolicyEveryCallIsAllowed) {
  Start(/*with_policy=*/false);
  EXPECT_FALSE(Check("", "kinesis", "Kinesis_20131202", "DeleteStream",
                     Input({{"StreamName", Value::String("orders")}}))
                   .has_value());
}

TEST_F(AwsAuthzTest, CreateFailsForABadPolicyFile) {
  std::ofstream(dir_ + "/bad.json", std::ios::trunc) << "{not json";
  AwsAuthzOptions options;
  options.policy_file = dir_ + "/bad.json";
  EXPECT_EQ(AwsAuthz::Create(options, clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.policy_file = dir_ + "/missing.json";
  EXPECT_FALSE(AwsAuthz::Create(options, clock_).ok());
}

}  // namespace
}  // namespace tributary::aws
