#include "stream_tracker/function_config.h"

#include <functional>
#include <string>

#include "gtest/gtest.h"

namespace tributary::stream_tracker {
namespace {

const FunctionAccount kAccount{"us-east-1", "123456789012"};

v1::CreateFunctionRequest ValidCreate() {
  v1::CreateFunctionRequest request;
  request.set_function_name("orders-fn");
  request.set_endpoint("127.0.0.1:9000");
  return request;
}

// One row of the validation table: a change to a valid request, and the text the error must hold
// (it names the field; empty: the request is valid).
struct CreateCase {
  std::string name;
  std::function<void(v1::CreateFunctionRequest*)> change;
  std::string error;
};

class CreateFunctionValidationTest : public ::testing::TestWithParam<CreateCase> {};

TEST_P(CreateFunctionValidationTest, AcceptsOrRejectsNamingTheField) {
  v1::CreateFunctionRequest request = ValidCreate();
  GetParam().change(&request);
  absl::StatusOr<v1::FunctionConfiguration> config = FunctionFromCreateRequest(request, kAccount);
  if (GetParam().error.empty()) {
    EXPECT_TRUE(config.ok()) << config.status();
  } else {
    ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
    EXPECT_NE(config.status().message().find(GetParam().error), absl::string_view::npos)
        << config.status();
  }
}

using R = v1::CreateFunctionRequest;
const std::string kArn = "arn:aws:lambda:us-east-1:123456789012:function:";
INSTANTIATE_TEST_SUITE_P(
    Table, CreateFunctionValidationTest,
    ::testing::Values(
        CreateCase{"Valid", [](R*) {}, ""},
        CreateCase{"NoName", [](R* r) { r->clear_function_name(); }, "function_name is required"},
        CreateCase{"NameOneChar", [](R* r) { r->set_function_name("f"); }, ""},
        CreateCase{"Name64Chars", [](R* r) { r->set_function_name(std::string(64, 'a')); }, ""},
        CreateCase{"Name65Chars", [](R* r) { r->set_function_name(std::string(65, 'a')); }, "function_name must be 1 to 64 characters"},
        CreateCase{"NameAllAllowedCharacters", [](R* r) { r->set_function_name("aZ09-_"); }, ""},
        CreateCase{"NameWithSpace", [](R* r) { r->set_function_name("a b"); }, "function_name must be 1 to 64 characters of a-z, A-Z, 0-9, '-' and '_'"},
        CreateCase{"NameWithDot", [](R* r) { r->set_function_name("a.b"); }, "function_name must be"},
        CreateCase{"NameWithSlash", [](R* r) { r->set_function_name("a/b"); }, "function_name must be"},
        CreateCase{"NameWithColon", [](R* r) { r->set_function_name("a:b"); }, "function_name must be"},
        CreateCase{"Arn", [](R* r) { r->set_function_name(kArn + "f"); }, ""},
        CreateCase{"ArnOfAnotherRegion", [](R* r) { r->set_function_name("arn:aws:lambda:eu-west-1:123456789012:function:f"); }, "region eu-west-1 is not this tracker's region us-east-1"},
        CreateCase{"ArnOfAnotherAccount", [](R* r) { r->set_function_name("arn:aws:lambda:us-east-1:000000000000:function:f"); }, "account 000000000000 is not this tracker's account 123456789012"},
        CreateCase{"ArnOfAnotherPartition", [](R* r) { r->set_function_name("arn:aws-cn:lambda:us-east-1:123456789012:function:f"); }, "function_name must be a function name or arn:aws:lambda:REGION:ACCOUNT:function:NAME"},
        CreateCase{"ArnOfAnotherService", [](R* r) { r->set_function_name("arn:aws:kinesis:us-east-1:123456789012:function:f"); }, "function_name must be a function name or arn"},
        CreateCase{"ArnWithoutFunctionWord", [](R* r) { r->set_function_name("arn:aws:lambda:us-east-1:123456789012:layer:f"); }, "function_name must be a function name or arn"},
        CreateCase{"ArnTooShort", [](R* r) { r->set_function_name("arn:aws:lambda:us-east-1:123456789012:function"); }, "function_name must be a function name or arn"},
        CreateCase{"ArnWithVersion", [](R* r) { r->set_function_name(kArn + "f:1"); }, "versions and aliases are not supported"},
        CreateCase{"ArnWithLatest", [](R* r) { r->set_function_name(kArn + "f:$LATEST"); }, "versions and aliases are not supported"},
        CreateCase{"ArnWithBadName", [](R* r) { r->set_function_name(kArn + "a.b"); }, "function_name must be 1 to 64"},
        CreateCase{"ArnWithEmptyName", [](R* r) { r->set_function_name(kArn); }, "function_name must be 1 to 64"},
        CreateCase{"NoEndpoint", [](R* r) { r->clear_endpoint(); }, "endpoint is required"},
        CreateCase{"EndpointWithoutPort", [](R* r) { r->set_endpoint("localhost"); }, "endpoint must be \"host:port\" or \"grpc://host:port\""},
        CreateCase{"EndpointPortZero", [](R* r) { r->set_endpoint("localhost:0"); }, "endpoint must be"},
        CreateCase{"EndpointPortTooBig", [](R* r) { r->set_endpoint("localhost:65536"); }, "endpoint must be"},
        CreateCase{"EndpointNoHost", [](R* r) { r->set_endpoint(":80"); }, "endpoint must be"},
        CreateCase{"EndpointIpv6", [](R* r) { r->set_endpoint("[::1]:9000"); }, ""},
        CreateCase{"EndpointLambdaHttp", [](R* r) { r->set_endpoint("http://127.0.0.1:9000/2015-03-31/functions/function/invocations"); }, ""},
        CreateCase{"EndpointGrpcScheme", [](R* r) { r->set_endpoint("grpc://fn.local:4570"); }, ""},
        CreateCase{"EndpointOtherScheme", [](R* r) { r->set_endpoint("ftp://fn.local:21"); }, "endpoint must be"},
        CreateCase{"TimeoutZero", [](R* r) { r->set_timeout_seconds(0); }, "timeout_seconds must be between 1 and 900, got 0"},
        CreateCase{"TimeoutOne", [](R* r) { r->set_timeout_seconds(1); }, ""},
        CreateCase{"Timeout900", [](R* r) { r->set_timeout_seconds(900); }, ""},
        CreateCase{"Timeout901", [](R* r) { r->set_timeout_seconds(901); }, "timeout_seconds must be between 1 and 900, got 901"},
        CreateCase{"ConcurrencyZero", [](R* r) { r->set_reserved_concurrent_executions(0); }, ""},
        CreateCase{"ConcurrencyNegative", [](R* r) { r->set_reserved_concurrent_executions(-1); }, "reserved_concurrent_executions must be 0 or more, got -1"}),
    [](const ::testing::TestParamInfo<CreateCase>& info) { return info.param.name; });

TEST(FunctionConfigTest, UnsetFieldsGetLambdaDefaults) {
  absl::StatusOr<v1::FunctionConfiguration> config =
      FunctionFromCreateRequest(ValidCreate(), kAccount);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->function_name(), "orders-fn");
  EXPECT_EQ(config->endpoint(), "127.0.0.1:9000");
  EXPECT_EQ(config->timeout_seconds(), 3);
  EXPECT_FALSE(config->has_reserved_concurrent_executions());
  EXPECT_EQ(config->function_arn(), "") << "the registry adds the ARN when serving";
  EXPECT_FALSE(config->has_last_modified());
}

TEST(FunctionConfigTest, AnArnIsStoredAsTheName) {
  v1::CreateFunctionRequest request = ValidCreate();
  request.set_function_name(kArn + "orders-fn");
  request.set_timeout_seconds(60);
  request.set_reserved_concurrent_executions(0);
  absl::StatusOr<v1::FunctionConfiguration> config = FunctionFromCreateRequest(request, kAccount);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->function_name(), "orders-fn");
  EXPECT_EQ(config->timeout_seconds(), 60);
  ASSERT_TRUE(config->has_reserved_concurrent_executions());
  EXPECT_EQ(config->reserved_concurrent_executions(), 0);
}

TEST(FunctionConfigTest, ArnIsMadeOfRegionAccountAndName) {
  EXPECT_EQ(LambdaFunctionArn(kAccount, "f"), "arn:aws:lambda:us-east-1:123456789012:function:f");
  absl::StatusOr<std::string> name =
      ParseFunctionName("function_name", LambdaFunctionArn(kAccount, "f"), kAccount);
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(*name, "f");
}

TEST(FunctionConfigTest, ParseNamesTheFieldItWasGiven) {
  absl::StatusOr<std::string> name = ParseFunctionName("marker", "a b", kAccount);
  ASSERT_EQ(name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(name.status().message().rfind("marker must be", 0), 0u) << name.status();
}

TEST(FunctionConfigTest, UpdateAppliesOnlySetFieldsAndRejectsOutOfRangeChangingNothing) {
  v1::FunctionConfiguration config = *FunctionFromCreateRequest(ValidCreate(), kAccount);
  v1::UpdateFunctionRequest update;
  update.set_timeout_seconds(10);
  ASSERT_TRUE(ApplyFunctionUpdate(update, &config).ok());
  EXPECT_EQ(config.timeout_seconds(), 10);
  EXPECT_EQ(config.endpoint(), "127.0.0.1:9000");

  update.set_endpoint("fn.local:1");
  update.set_timeout_seconds(901);
  absl::Status status = ApplyFunctionUpdate(update, &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("timeout_seconds must be between 1 and 900"),
            absl::string_view::npos);
  EXPECT_EQ(config.endpoint(), "127.0.0.1:9000") << "nothing applied";

  update.clear_timeout_seconds();
  update.set_endpoint("nope");
  status = ApplyFunctionUpdate(update, &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("endpoint must be"), absl::string_view::npos);

  update.set_endpoint("fn.local:1");
  ASSERT_TRUE(ApplyFunctionUpdate(update, &config).ok());
  EXPECT_EQ(config.endpoint(), "fn.local:1");
}

TEST(FunctionConfigTest, PutConcurrencyNeedsAValueOfZeroOrMore) {
  v1::PutFunctionConcurrencyRequest request;
  request.set_function_name("f");
  absl::Status status = ValidatePutConcurrency(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("reserved_concurrent_executions is required"),
            absl::string_view::npos);
  request.set_reserved_concurrent_executions(-1);
  EXPECT_EQ(ValidatePutConcurrency(request).code(), absl::StatusCode::kInvalidArgument);
  request.set_reserved_concurrent_executions(0);
  EXPECT_TRUE(ValidatePutConcurrency(request).ok());
}

TEST(FunctionConfigTest, ListMaxItemsAndMarkerAreChecked) {
  v1::ListFunctionsRequest request;
  EXPECT_TRUE(ValidateListFunctionsRequest(request).ok());
  for (int bad : {-1, 10001}) {
    request.set_max_items(bad);
    absl::Status status = ValidateListFunctionsRequest(request);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("max_items must be between 1 and 10000"),
              absl::string_view::npos);
  }
  request.set_max_items(10000);
  EXPECT_TRUE(ValidateListFunctionsRequest(request).ok());
  request.set_marker("not a name");
  absl::Status status = ValidateListFunctionsRequest(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("marker"), absl::string_view::npos);
}

}  // namespace
}  // namespace tributary::stream_tracker
