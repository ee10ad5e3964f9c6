#include "common/aws_arn.h"

#include "gtest/gtest.h"

namespace tributary {
namespace {

TEST(AwsArnTest, AStreamArnIsKinesissWithTheAccount) {
  EXPECT_EQ(KinesisStreamArn({"eu-west-1", "123456789012"}, "orders"),
            "arn:aws:kinesis:eu-west-1:123456789012:stream/orders");
  EXPECT_EQ(KinesisStreamArn(AwsAccount(), "s"), "arn:aws:kinesis:us-east-1:000000000000:stream/s");
}

TEST(AwsArnTest, AFunctionArnIsLambdasWithTheAccount) {
  EXPECT_EQ(LambdaFunctionArn({"eu-west-1", "123456789012"}, "f"),
            "arn:aws:lambda:eu-west-1:123456789012:function:f");
}

TEST(AwsArnTest, TheDefaultAccountIsValid) { EXPECT_TRUE(ValidateAwsAccount(AwsAccount()).ok()); }

TEST(AwsArnTest, AMalformedRegionOrAccountIsInvalidArgumentNamingIt) {
  EXPECT_TRUE(ValidateAwsAccount({"ap-south-1", "111122223333"}).ok());
  for (const char* region : {"", "US_EAST", "us east"}) {
    const absl::Status s = ValidateAwsAccount({region, "111122223333"});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << region;
    EXPECT_NE(s.message().find("aws_region"), absl::string_view::npos) << s;
  }
  for (const char* account : {"", "1234", "1234567890123", "12345678901x"}) {
    const absl::Status s = ValidateAwsAccount({"us-east-1", account});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << account;
    EXPECT_NE(s.message().find("aws_account_id"), absl::string_view::npos) << s;
  }
}

}  // namespace
}  // namespace tributary
