#include "common/security_flags.h"

#include "gflags/gflags.h"
#include "gtest/gtest.h"

// As a binary serving the AWS front door, the tracker or a poller defines them.
DEFINE_string(aws_region, "us-east-1", "");
DEFINE_string(aws_account_id, "000000000000", "");
DECLARE_string(policy_file);
DECLARE_string(function_endpoint_allow);

namespace tributary {
namespace {

class SecurityFlagsTest : public ::testing::Test {
 protected:
  gflags::FlagSaver saver_;  // every test starts from the defaults
};

TEST_F(SecurityFlagsTest, ThePolicysArnsUseTheBinarysRegionAndAccount) {
  FLAGS_aws_region = "eu-west-1";
  FLAGS_aws_account_id = "123456789012";
  const GrpcServerSecurity security = ServerSecurityFromFlags();
  EXPECT_EQ(security.account.region, "eu-west-1");
  EXPECT_EQ(security.account.account_id, "123456789012");
}

TEST_F(SecurityFlagsTest, FunctionEndpointsMayNameAnyHostWithoutAPolicy) {
  absl::StatusOr<HostAllowList> allow = FunctionEndpointAllowFromFlags();
  ASSERT_TRUE(allow.ok()) << allow.status();
  EXPECT_TRUE(allow->Allows("fn.example.com"));
}

TEST_F(SecurityFlagsTest, WithAPolicyFunctionEndpointsDefaultToLoopback) {
  FLAGS_policy_file = "/etc/tributary/policy.json";  // not read here
  absl::StatusOr<HostAllowList> allow = FunctionEndpointAllowFromFlags();
  ASSERT_TRUE(allow.ok()) << allow.status();
  EXPECT_TRUE(allow->Allows("127.0.0.1"));
  EXPECT_FALSE(allow->Allows("fn.example.com"));
  EXPECT_FALSE(allow->Allows("169.254.169.254"));
}

TEST_F(SecurityFlagsTest, TheFlagsListWinsAndABadOneIsInvalidArgumentNamingTheFlag) {
  FLAGS_policy_file = "/etc/tributary/policy.json";
  FLAGS_function_endpoint_allow = "*.fn.internal";
  absl::StatusOr<HostAllowList> allow = FunctionEndpointAllowFromFlags();
  ASSERT_TRUE(allow.ok()) << allow.status();
  EXPECT_TRUE(allow->Allows("a.fn.internal"));
  EXPECT_FALSE(allow->Allows("127.0.0.1"));
  FLAGS_function_endpoint_allow = "a,,b";
  allow = FunctionEndpointAllowFromFlags();
  EXPECT_EQ(allow.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(allow.status().message().find("--function_endpoint_allow"), absl::string_view::npos);
}

}  // namespace
}  // namespace tributary
