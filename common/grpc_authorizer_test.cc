#include "common/grpc_authorizer.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <fstream>
#include <string>

#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/streams.pb.h"

namespace tributary {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAliceOrdersOnly[] = R"({"Statement": [{"Effect": "Allow", "Principal": "alice",
    "Action": "kinesis:PutRecords", "Resource": "arn:aws:kinesis:*:*:stream/orders"}]})";
constexpr char kAliceAnyStream[] = R"({"Statement": [{"Effect": "Allow", "Principal": "alice",
    "Action": "kinesis:PutRecords", "Resource": "arn:aws:kinesis:*:*:stream/*"}]})";
constexpr char kPutRecords[] = "/tributary.v1.Streams/PutRecords";

class AuthorizerTest : public ::testing::Test {
 protected:
  AuthorizerTest() : path_(std::string(getenv("TEST_TMPDIR")) + "/policy.json") {}

  // Writes the policy and gives the file a modification time of its own (`second`), so that
  // a rewrite within one second is still seen as a change.
  void WritePolicy(const std::string& text, int second) {
    std::ofstream(path_, std::ios::trunc) << text;
    struct timeval times[2] = {{1700000000 + second, 0}, {1700000000 + second, 0}};
    ASSERT_EQ(utimes(path_.c_str(), times), 0);
  }
  void Start(const std::string& text) {
    WritePolicy(text, 0);
    auto authorizer = Authorizer::Create(path_, AwsAccount(), absl::Seconds(5));
    ASSERT_TRUE(authorizer.ok()) << authorizer.status();
    authorizer_ = *std::move(authorizer);
  }
  absl::Status PutRecords(const std::string& principal, const std::string& stream) {
    v1::PutRecordsRequest request;
    request.set_stream_name(stream);
    return authorizer_->Check(principal, kPutRecords, request).status;
  }

  const std::string path_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<Authorizer> authorizer_;
};

TEST_F(AuthorizerTest, AllowsOnlyWhatThePolicyNames) {
  Start(kAliceOrdersOnly);
  EXPECT_TRUE(PutRecords("alice", "orders").ok());
  EXPECT_EQ(PutRecords("alice", "other").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(PutRecords("bob", "orders").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(PutRecords("", "orders").code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthorizerTest, DenialNamesActionAndResourceButNotThePolicy) {
  Start(kAliceOrdersOnly);
  absl::Status status = PutRecords("alice", "other");
  EXPECT_THAT(status.message(), HasSubstr("kinesis:PutRecords"));
  EXPECT_THAT(status.message(), HasSubstr("arn:aws:kinesis:us-east-1:000000000000:stream/other"));
  EXPECT_THAT(status.message(), Not(HasSubstr("stream/orders")));
}

TEST_F(AuthorizerTest, CheckActionAppliesThePolicyToANamedActionAndResource) {
  Start(kAliceOrdersOnly);
  EXPECT_TRUE(authorizer_
                  ->CheckAction("alice", "kinesis:PutRecords",
                                "arn:aws:kinesis:us-east-1:000000000000:stream/orders")
                  .ok());
  absl::Status denied = authorizer_->CheckAction(
      "alice", "kinesis:PutRecords", "arn:aws:kinesis:us-east-1:000000000000:stream/other");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(denied.message()), HasSubstr("kinesis:PutRecords on arn:"));
  EXPECT_THAT(std::string(denied.message()), Not(HasSubstr("orders")));
}

TEST_F(AuthorizerTest, OtherPackagesAreNotGuardedButUnknownTributaryMethodsAreDenied) {
  Start(kAliceOrdersOnly);
  v1::PutRecordsRequest request;
  AuthzDecision health = authorizer_->Check("", "/grpc.health.v1.Health/Check", request);
  EXPECT_TRUE(health.status.ok());
  EXPECT_EQ(health.action, nullptr);
  EXPECT_EQ(authorizer_->Check("alice", "/tributary.v1.Streams/Unmapped", request).status.code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthorizerTest, ChangedFileIsTakenAfterTheCheckInterval) {
  Start(kAliceOrdersOnly);
  ASSERT_TRUE(authorizer_->MaybeReload(clock_.MonotonicNow()).ok());
  WritePolicy(kAliceAnyStream, 1);
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(authorizer_->MaybeReload(clock_.MonotonicNow()).ok());
  EXPECT_FALSE(PutRecords("alice", "other").ok()) << "looked again before the interval";
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(authorizer_->MaybeReload(clock_.MonotonicNow()).ok());
  EXPECT_TRUE(PutRecords("alice", "other").ok());
}

TEST_F(AuthorizerTest, BadNewFileKeepsThePolicyInUseAndIsReportedOnce) {
  Start(kAliceOrdersOnly);
  WritePolicy("{\"Statement\": [", 1);
  clock_.Advance(absl::Seconds(10));
  absl::Status status = authorizer_->MaybeReload(clock_.MonotonicNow());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("keeping the policy in use"));
  EXPECT_TRUE(PutRecords("alice", "orders").ok());
  clock_.Advance(absl::Seconds(10));
  EXPECT_TRUE(authorizer_->MaybeReload(clock_.MonotonicNow()).ok()) << "reported twice";
  WritePolicy(kAliceAnyStream, 2);  // fixed
  clock_.Advance(absl::Seconds(10));
  EXPECT_TRUE(authorizer_->MaybeReload(clock_.MonotonicNow()).ok());
  EXPECT_TRUE(PutRecords("alice", "other").ok());
}

TEST_F(AuthorizerTest, ReloadReadsAtOnceAndKeepsThePolicyOnError) {
  Start(kAliceOrdersOnly);
  WritePolicy(kAliceAnyStream, 0);  // same modification time: only an explicit reload sees it
  ASSERT_TRUE(authorizer_->Reload().ok());
  EXPECT_TRUE(PutRecords("alice", "other").ok());
  ASSERT_EQ(unlink(path_.c_str()), 0);
  EXPECT_EQ(authorizer_->Reload().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(PutRecords("alice", "other").ok());
}

TEST_F(AuthorizerTest, CreateFailsForAMissingOrBadFile) {
  EXPECT_EQ(Authorizer::Create("/nonexistent/p.json", AwsAccount(), absl::Seconds(1))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  WritePolicy("[]", 0);
  EXPECT_EQ(Authorizer::Create(path_, AwsAccount(), absl::Seconds(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tributary
