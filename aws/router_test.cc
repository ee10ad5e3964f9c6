#include "aws/router.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "aws/aws_authz.h"
#include "aws/aws_error.h"
#include "aws/cbor_codec.h"
#include "aws/json_codec.h"
#include "aws/sigv4.h"
#include "aws/sigv4_verifier.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "glog/logging.h"
#include "gtest/gtest.h"

namespace tributary::aws {
namespace {

using ::testing::HasSubstr;

constexpr char kAuthorization[] =
    "AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/kinesis/aws4_request, "
    "SignedHeaders=host;x-amz-date, "
    "Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";

// Echoes its input under "Input" and the call's details; "Fail" returns the error named by the
// input's "Type", "Crash" an InternalFailure.
class EchoApi : public AwsApi {
 public:
  explicit EchoApi(std::string prefix) : prefix_(std::move(prefix)) {}
  absl::string_view target_prefix() const override { return prefix_; }
  absl::string_view signing_name() const override { return "kinesis"; }
  AwsOutcome Call(const AwsCall& call) override {
    ++calls;
    if (call.operation == "Fail") {
      return MakeError(kResourceNotFound, "no such thing");
    }
    if (call.operation == "Crash") return FromStatus(absl::InternalError("bug"), StatusMapping());
    if (call.operation != "Echo") return MakeError(kUnknownOperation, "unknown");
    Value out = Value::Map();
    out.Add("Operation", Value::String(std::string(call.operation)));
    out.Add("Region", Value::String(call.authorization.region));
    out.Add("Input", call.input);
    if (!call.principal.empty()) out.Add("Principal", Value::String(std::string(call.principal)));
    return out;
  }
  int calls = 0;

 private:
  std::string prefix_;
};

// A REST API (rest_api.h) under "/2015-03-31/" and "/2017-10-31/" that answers 200 with the
// method and target it got, and writes errors as {"Kind": type, "Text": message}, so that a test
// can tell its error format from the router's.
class EchoRestApi : public RestApi {
 public:
  std::vector<std::string> path_prefixes() const override {
    return {"/2015-03-31/", "/2017-10-31/"};
  }
  absl::string_view signing_name() const override { return "lambda"; }
  HttpResponse Handle(const HttpRequest& request, absl::string_view principal) override {
    ++calls;
    HttpResponse r;
    r.body = absl::StrCat(request.method, " ", request.target,
                          principal.empty() ? "" : absl::StrCat(" by ", principal));
    return r;
  }
  HttpResponse ErrorResponse(const AwsError& error) const override {
    Value body = Value::Map();
    body.Add("Kind", Value::String(error.type));
    body.Add("Text", Value::String(error.message));
    HttpResponse r;
    r.status = error.http_status;
    r.body = WriteJson(body);
    return r;
  }
  AwsError Throttled(std::string message) const override {
    return MakeError("TooManyRequestsException", std::move(message), 429);
  }
  AwsError BodyTooLarge(std::string message) const override {
    return MakeError("RequestTooLargeException", std::move(message), 413);
  }
  int calls = 0;
};

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : kinesis_("Kinesis_20131202"), dynamodb_("DynamoDB_20120810") {
    router_.AddApi(&kinesis_);
    router_.AddApi(&dynamodb_);
    router_.AddRestApi(&rest_);
  }

  // A REST request (no body, no X-Amz-Target), signed as Request's are.
  static HttpRequest RestRequest(std::string method, std::string target) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers = {{"authorization", kAuthorization}, {"x-amz-date", "20240102T030405Z"}};
    return r;
  }

  // The (Kind, Text) of an EchoRestApi error.
  static std::pair<std::string, std::string> RestError(const HttpResponse& r) {
    absl::StatusOr<Value> body = ParseJson(r.body);
    EXPECT_TRUE(body.ok()) << r.body;
    if (!body.ok() || body->Find("Kind") == nullptr) return {"", ""};
    return {body->Find("Kind")->string_value(), body->Find("Text")->string_value()};
  }

  HttpRequest Request(std::string target, std::string body,
                      std::string content_type = "application/x-amz-json-1.1") {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"content-type", std::move(content_type)},
                 {"x-amz-target", std::move(target)},
                 {"authorization", kAuthorization},
                 {"x-amz-date", "20240102T030405Z"}};
    r.body = std::move(body);
    return r;
  }

  static std::string HeaderOf(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (absl::EqualsIgnoreCase(k, name)) return v;
    }
    return "";
  }

  // The error code and message of a JSON error reply.
  static std::pair<std::string, std::string> JsonError(const HttpResponse& r) {
    absl::StatusOr<Value> body = ParseJson(r.body);
    EXPECT_TRUE(body.ok()) << r.body;
    if (!body.ok() || body->Find("__type") == nullptr) return {"", ""};
    return {body->Find("__type")->string_value(), body->Find("message")->string_value()};
  }

  EchoApi kinesis_;
  EchoApi dynamodb_;
  EchoRestApi rest_;
  AwsRouter router_;
};

TEST_F(RouterTest, RoutesByTargetPrefixAndEchoesTheContentType) {
  HttpResponse r = router_.Handle(Request("Kinesis_20131202.Echo", R"({"A": 1})"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/x-amz-json-1.1");
  EXPECT_FALSE(HeaderOf(r, "x-amzn-RequestId").empty());
  EXPECT_EQ(r.body, R"({"Operation":"Echo","Region":"us-east-1","Input":{"A":1}})");
  EXPECT_EQ(kinesis_.calls, 1);
  EXPECT_EQ(dynamodb_.calls, 0);

  r = router_.Handle(Request("DynamoDB_20120810.Echo", "{}", "application/x-amz-json-1.0"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(dynamodb_.calls, 1);
}

TEST_F(RouterTest, CborRequestsGetCborReplies) {
  Value input = Value::Map();
  input.Add("Data", Value::Bytes("\x01\x02"));
  HttpResponse r = router_.Handle(
      Request("Kinesis_20131202.Echo", WriteCbor(input), "application/x-amz-cbor-1.1"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/x-amz-cbor-1.1");
  absl::StatusOr<Value> out = ParseCbor(r.body);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out->Find("Input"), input);
}

TEST_F(RouterTest, UnknownTargetsAreUnknownOperationException) {
  for (const char* target : {"", "Kinesis_20131202", "Nope_20990101.Echo"}) {
    HttpResponse r = router_.Handle(Request(target, "{}"));
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(JsonError(r).first, kUnknownOperation) << target;
    EXPECT_EQ(HeaderOf(r, "x-amzn-ErrorType"), kUnknownOperation);
  }
  EXPECT_EQ(JsonError(router_.Handle(Request("Kinesis_20131202.Nope", "{}"))).first,
            kUnknownOperation);  // the API's own verdict
}

TEST_F(RouterTest, OnlyPostIsServed) {
  HttpRequest r = Request("Kinesis_20131202.Echo", "{}");
  r.method = "GET";
  EXPECT_EQ(JsonError(router_.Handle(r)).first, kUnknownOperation);
  EXPECT_EQ(kinesis_.calls, 0);
}

TEST_F(RouterTest, MalformedBodiesAreSerializationException) {
  for (const char* body : {"", "{", "[1]", "\"text\"", "{\"a\": 1} trailing"}) {
    HttpResponse r = router_.Handle(Request("Kinesis_20131202.Echo", body));
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(JsonError(r).first, kSerialization) << body;
  }
  HttpResponse r =
      router_.Handle(Request("Kinesis_20131202.Echo", "\xa1\x61", "application/x-amz-cbor-1.1"));
  EXPECT_EQ(r.status, 400);
  absl::StatusOr<Value> error = ParseCbor(r.body);  // a CBOR request gets a CBOR error
  ASSERT_TRUE(error.ok()) << error.status();
  EXPECT_EQ(error->Find("__type")->string_value(), kSerialization);
  EXPECT_EQ(kinesis_.calls, 0);
}

TEST_F(RouterTest, UnsupportedContentTypeIsSerializationException) {
  HttpResponse r = router_.Handle(Request("Kinesis_20131202.Echo", "{}", "text/plain"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(JsonError(r).first, kSerialization);
}

TEST_F(RouterTest, RequestsMustCarryAWellFormedSignature) {
  HttpRequest missing = Request("Kinesis_20131202.Echo", "{}");
  missing.headers.erase(missing.headers.begin() + 2);  // authorization
  EXPECT_EQ(JsonError(router_.Handle(missing)).first, kMissingAuthenticationToken);

  HttpRequest malformed = Request("Kinesis_20131202.Echo", "{}");
  malformed.headers[2].second = "AWS4-HMAC-SHA256 Credential=x";
  EXPECT_EQ(JsonError(router_.Handle(malformed)).first, kIncompleteSignature);

  HttpRequest undated = Request("Kinesis_20131202.Echo", "{}");
  undated.headers.pop_back();  // x-amz-date
  std::pair<std::string, std::string> e = JsonError(router_.Handle(undated));
  EXPECT_EQ(e.first, kIncompleteSignature);
  EXPECT_THAT(e.second, HasSubstr("X-Amz-Date"));
  EXPECT_EQ(kinesis_.calls, 0);
}

TEST_F(RouterTest, ApiErrorsCarryTheirCodeAndStatus) {
  HttpResponse r = router_.Handle(Request("Kinesis_20131202.Fail", "{}"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(JsonError(r),
            std::make_pair(std::string(kResourceNotFound), std::string("no such thing")));
  EXPECT_EQ(HeaderOf(r, "x-amzn-ErrorType"), kResourceNotFound);

  r = router_.Handle(Request("Kinesis_20131202.Crash", "{}"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(JsonError(r).first, kInternalFailure);
}

TEST_F(RouterTest, AnOversizedBodyIsA413InTheRequestsEncoding) {
  HttpRequest head = Request("Kinesis_20131202.Echo", "");
  HttpResponse r = router_.BodyTooLarge(head, 12 << 20);
  EXPECT_EQ(r.status, 413);
  std::pair<std::string, std::string> e = JsonError(r);
  EXPECT_EQ(e.first, kInvalidArgument);
  EXPECT_THAT(e.second, HasSubstr("12582912 bytes"));

  HttpRequest cbor = Request("Kinesis_20131202.Echo", "", "application/x-amz-cbor-1.1");
  r = router_.BodyTooLarge(cbor, 12 << 20);
  absl::StatusOr<Value> body = ParseCbor(r.body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->Find("__type")->string_value(), kInvalidArgument);
}

TEST_F(RouterTest, AnOverloadedRequestGetsTheApisThrottlingErrorInItsEncoding) {
  HttpRequest head = Request("Kinesis_20131202.Echo", "");
  HttpResponse r = router_.Overloaded(head, 256, 1 << 20);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(JsonError(r).first, kLimitExceeded) << "the API's default";
  EXPECT_THAT(JsonError(r).second, HasSubstr("256 requests"));
  EXPECT_THAT(JsonError(r).second, HasSubstr("retry after"));
  EXPECT_EQ(JsonError(router_.Overloaded(Request("Nope_1.Echo", ""), 1, 1)).first, kLimitExceeded);
  HttpResponse cbor =
      router_.Overloaded(Request("Kinesis_20131202.Echo", "", "application/x-amz-cbor-1.1"), 1, 1);
  EXPECT_EQ(HeaderOf(cbor, "Content-Type"), "application/x-amz-cbor-1.1");
}

TEST_F(RouterTest, PathsUnderARestApisPrefixesGoToItWhateverTheMethod) {
  for (const char* method : {"GET", "POST", "PUT", "DELETE"}) {
    HttpResponse r = router_.Handle(RestRequest(method, "/2015-03-31/functions/f?Qualifier=x"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, absl::StrCat(method, " /2015-03-31/functions/f?Qualifier=x"));
    EXPECT_FALSE(HeaderOf(r, "x-amzn-RequestId").empty()) << "the router adds it";
  }
  EXPECT_EQ(router_.Handle(RestRequest("GET", "/2017-10-31")).body, "GET /2017-10-31")
      << "a prefix without its last '/' is the API's too";
  EXPECT_EQ(rest_.calls, 5);
  EXPECT_EQ(kinesis_.calls, 0);

  // Not a prefix: the RPC rules answer (only POST / is served there).
  HttpResponse other = router_.Handle(RestRequest("GET", "/2015-03-310/functions"));
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(JsonError(other).first, kUnknownOperation);
  EXPECT_EQ(rest_.calls, 5);
  // RPC calls are unchanged by the REST API beside them.
  EXPECT_EQ(router_.Handle(Request("Kinesis_20131202.Echo", "{}")).status, 200);
}

TEST_F(RouterTest, RestRequestsWithoutAGoodSignatureAre403InTheApisErrorFormat) {
  HttpRequest unsigned_request = RestRequest("GET", "/2015-03-31/functions/");
  unsigned_request.headers.erase(unsigned_request.headers.begin());  // authorization
  HttpResponse r = router_.Handle(unsigned_request);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(RestError(r), std::make_pair(std::string(kMissingAuthenticationToken),
                                         std::string("Missing Authentication Token")));
  EXPECT_FALSE(HeaderOf(r, "x-amzn-RequestId").empty());

  HttpRequest malformed = RestRequest("GET", "/2015-03-31/functions/");
  malformed.headers[0].second = "AWS4-HMAC-SHA256 Credential=nonsense";
  EXPECT_EQ(router_.Handle(malformed).status, 403);
  EXPECT_EQ(RestError(router_.Handle(malformed)).first, kIncompleteSignature);

  HttpRequest undated = RestRequest("GET", "/2015-03-31/functions/");
  undated.headers.pop_back();  // x-amz-date
  EXPECT_EQ(RestError(router_.Handle(undated)).first, kIncompleteSignature);
  EXPECT_EQ(rest_.calls, 0);
}

TEST_F(RouterTest, OversizedAndOverloadedRestRequestsGetTheRestApisErrors) {
  HttpResponse large = router_.BodyTooLarge(RestRequest("POST", "/2015-03-31/x"), 1024);
  EXPECT_EQ(large.status, 413);
  EXPECT_EQ(RestError(large).first, "RequestTooLargeException");
  EXPECT_THAT(RestError(large).second, HasSubstr("1024"));
  EXPECT_FALSE(HeaderOf(large, "x-amzn-RequestId").empty());

  HttpResponse busy = router_.Overloaded(RestRequest("GET", "/2017-10-31/x"), 7, 9);
  EXPECT_EQ(busy.status, 429);
  EXPECT_EQ(RestError(busy).first, "TooManyRequestsException");
  EXPECT_THAT(RestError(busy).second, HasSubstr("retry after a backoff"));
  EXPECT_EQ(rest_.calls, 0);
}

// With credentials, the router verifies every signature before the API sees the call, and the
// API learns who signed it.
class VerifyingRouterTest : public RouterTest {
 protected:
  VerifyingRouterTest()
      : clock_(absl::FromUnixSeconds(1704164645)),  // 20240102T030405Z
        verifier_({{"AKID", "secret", "orders-producer"}}, "us-east-1", clock_),
        verifying_(&verifier_),
        api_("Kinesis_20131202") {
    verifying_.AddApi(&api_);
  }

  // A request to Kinesis_20131202.Echo signed by `key` with `secret`.
  HttpRequest Signed(const std::string& key, const std::string& secret,
                     const std::string& body = R"({"A": 1})") {
    HttpRequest r = Request("Kinesis_20131202.Echo", body);
    r.headers.emplace_back("host", "127.0.0.1:4566");
    SigV4Authorization a;
    a.access_key_id = key;
    a.date = "20240102";
    a.region = "us-east-1";
    a.service = "kinesis";
    a.signed_headers = {"content-type", "host", "x-amz-date", "x-amz-target"};
    const std::string signature =
        SigV4Signature(secret, "20240102T030405Z", a, SigV4CanonicalRequest(r, a.signed_headers));
    for (auto& [name, value] : r.headers) {
      if (name == "authorization") {
        value = absl::StrCat("AWS4-HMAC-SHA256 Credential=", key,
                             "/20240102/us-east-1/kinesis/aws4_request, "
                             "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=",
                             signature);
      }
    }
    return r;
  }

  FakeClock clock_;
  SigV4Verifier verifier_;
  AwsRouter verifying_;
  EchoApi api_;
};

TEST_F(VerifyingRouterTest, AGoodSignatureReachesTheApiWithItsPrincipal) {
  HttpResponse r = verifying_.Handle(Signed("AKID", "secret"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"Operation":"Echo","Region":"us-east-1","Input":{"A":1},)"
                    R"("Principal":"orders-producer"})");
  EXPECT_EQ(api_.calls, 1);
}

TEST_F(VerifyingRouterTest, BadSignaturesAreRefusedWithAwsCodesBeforeTheApi) {
  HttpResponse wrong_secret = verifying_.Handle(Signed("AKID", "not-secret"));
  EXPECT_EQ(wrong_secret.status, 400);
  EXPECT_EQ(JsonError(wrong_secret).first, kInvalidSignature);
  EXPECT_EQ(HeaderOf(wrong_secret, "x-amzn-ErrorType"), kInvalidSignature);

  HttpResponse unknown = verifying_.Handle(Signed("AKIANOBODY", "secret"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(JsonError(unknown),
            std::make_pair(std::string(kUnrecognizedClient),
                           std::string("The security token included in the request is invalid.")));

  HttpRequest tampered = Signed("AKID", "secret");
  tampered.body = R"({"A": 2})";
  EXPECT_EQ(JsonError(verifying_.Handle(tampered)).first, kInvalidSignature);

  HttpRequest bad_date = Signed("AKID", "secret");
  for (auto& [name, value] : bad_date.headers) {
    if (name == "x-amz-date") value = "yesterday";
  }
  EXPECT_EQ(JsonError(verifying_.Handle(bad_date)).first, kIncompleteSignature);

  clock_.Advance(absl::Minutes(16));  // a replay, too late
  EXPECT_EQ(JsonError(verifying_.Handle(Signed("AKID", "secret"))).first, kInvalidSignature);
  EXPECT_EQ(api_.calls, 0);
}

// A REST request is verified against the REST API's signing name ("lambda"): a signature
// scoped to another service is refused, as AWS refuses it.
TEST_F(VerifyingRouterTest, RestRequestsAreVerifiedForTheRestApisSigningName) {
  EchoRestApi rest;
  verifying_.AddRestApi(&rest);
  auto signed_for = [](const std::string& service) {
    HttpRequest r = RestRequest("GET", "/2015-03-31/functions/?MaxItems=2");
    r.headers = {{"host", "127.0.0.1:4566"}, {"x-amz-date", "20240102T030405Z"}};
    SigV4Authorization a;
    a.access_key_id = "AKID";
    a.date = "20240102";
    a.region = "us-east-1";
    a.service = service;
    a.signed_headers = {"host", "x-amz-date"};
    const std::string signature =
        SigV4Signature("secret", "20240102T030405Z", a, SigV4CanonicalRequest(r, a.signed_headers));
    r.headers.emplace_back(
        "authorization",
        absl::StrCat("AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/", service,
                     "/aws4_request, SignedHeaders=host;x-amz-date, ", "Signature=", signature));
    return r;
  };
  HttpResponse good = verifying_.Handle(signed_for("lambda"));
  EXPECT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(good.body, "GET /2015-03-31/functions/?MaxItems=2 by orders-producer");

  HttpResponse wrong_service = verifying_.Handle(signed_for("kinesis"));
  EXPECT_EQ(wrong_service.status, 403);
  EXPECT_EQ(RestError(wrong_service).first, kInvalidSignature);
  EXPECT_EQ(rest.calls, 1);
}

// The policy (aws_authz.h) is applied here, to the verified principal, before the API runs.
class AuthorizingRouterTest : public VerifyingRouterTest {
 protected:
  // A REST API whose every request is ListFunctions.
  class ListFunctionsApi : public EchoRestApi {
   public:
    std::optional<RestOperation> OperationOf(const HttpRequest&) const override {
      return RestOperation{"ListFunctions", Value::Map()};
    }
  };

  AuthorizingRouterTest() : dir_(getenv("TEST_TMPDIR")) {
    std::ofstream(dir_ + "/policy.json", std::ios::trunc) << R"({"Statement": [
        {"Effect": "Allow", "Principal": "orders-producer", "Action": "kinesis:Echo",
         "Resource": "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"}]})";
    AwsAuthzOptions options;
    options.policy_file = dir_ + "/policy.json";
    options.audit_log = audit_path_;
    options.account = AwsAccount{"eu-west-1", "123456789012"};
    auto authz = AwsAuthz::Create(std::move(options), clock_);
    CHECK(authz.ok()) << authz.status();
    authz_ = *std::move(authz);
    authorizing_ = std::make_unique<AwsRouter>(&verifier_, authz_.get());
    authorizing_->AddApi(&api_);
    authorizing_->AddRestApi(&rest_api_);
  }
  std::string Audit() {
    std::ifstream in(audit_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  const std::string dir_;
  const std::string audit_path_ =
      dir_ + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".audit";
  std::unique_ptr<AwsAuthz> authz_;
  std::unique_ptr<AwsRouter> authorizing_;
  ListFunctionsApi rest_api_;
};

TEST_F(AuthorizingRouterTest, AnAllowedCallReachesTheApi) {
  HttpResponse r = authorizing_->Handle(Signed("AKID", "secret", R"({"StreamName": "orders"})"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(api_.calls, 1);
}

TEST_F(AuthorizingRouterTest, ACallOnAnotherStreamIsAccessDeniedBeforeTheApiAndAudited) {
  HttpResponse r = authorizing_->Handle(Signed("AKID", "secret", R"({"StreamName": "other"})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(HeaderOf(r, "x-amzn-ErrorType"), kAccessDenied);
  EXPECT_EQ(JsonError(r),
            std::make_pair(std::string(kAccessDenied),
                           std::string("User: orders-producer is not authorized to perform: "
                                       "kinesis:Echo on resource: "
                                       "arn:aws:kinesis:eu-west-1:123456789012:stream/other")));
  EXPECT_EQ(api_.calls, 0);
  EXPECT_THAT(Audit(), HasSubstr(R"("principal":"orders-producer","action":"kinesis:Echo")"));
}

TEST_F(AuthorizingRouterTest, ARestCallThePolicyDoesNotAllowIs403InTheApisFormat) {
  HttpRequest r = RestRequest("GET", "/2015-03-31/functions/");
  r.headers = {{"host", "127.0.0.1:4566"}, {"x-amz-date", "20240102T030405Z"}};
  SigV4Authorization a;
  a.access_key_id = "AKID";
  a.date = "20240102";
  a.region = "us-east-1";
  a.service = "lambda";
  a.signed_headers = {"host", "x-amz-date"};
  const std::string signature =
      SigV4Signature("secret", "20240102T030405Z", a, SigV4CanonicalRequest(r, a.signed_headers));
  r.headers.emplace_back("authorization",
                         absl::StrCat("AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/"
                                      "lambda/aws4_request, SignedHeaders=host;x-amz-date, ",
                                      "Signature=", signature));
  HttpResponse denied = authorizing_->Handle(r);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(RestError(denied).first, kAccessDenied);
  EXPECT_THAT(RestError(denied).second, HasSubstr("lambda:ListFunctions on resource: *"));
  EXPECT_EQ(rest_api_.calls, 0);
}

TEST_F(RouterTest, WithoutCredentialsAnyWellFormedSignatureIsAcceptedAnonymously) {
  HttpResponse r = router_.Handle(Request("Kinesis_20131202.Echo", "{}"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("Principal"), std::string::npos) << r.body;
}

TEST(AwsErrorTest, StatusCodesMapThroughTheOperationsRow) {
  StatusMapping reads;
  reads.failed_precondition = kExpiredIterator;
  reads.resource_exhausted = kProvisionedThroughputExceeded;
  struct Case {
    absl::Status status;
    const char* type;
    int http_status;
  } cases[] = {
      {absl::InvalidArgumentError("x"), kInvalidArgument, 400},
      {absl::NotFoundError("x"), kResourceNotFound, 400},
      {absl::AlreadyExistsError("x"), kResourceInUse, 400},
      {absl::FailedPreconditionError("x"), kExpiredIterator, 400},
      {absl::AbortedError("x"), kResourceInUse, 400},
      {absl::ResourceExhaustedError("x"), kProvisionedThroughputExceeded, 400},
      {absl::UnavailableError("x"), kServiceUnavailable, 503},
      {absl::DeadlineExceededError("x"), kServiceUnavailable, 503},
      {absl::InternalError("x"), kInternalFailure, 500},
      {absl::DataLossError("x"), kInternalFailure, 500},
      {absl::UnknownError("x"), kInternalFailure, 500},
      {absl::PermissionDeniedError("x"), kInternalFailure, 500},  // never produced: a bug
  };
  for (const Case& c : cases) {
    AwsError e = FromStatus(c.status, reads);
    EXPECT_EQ(e.type, c.type) << c.status;
    EXPECT_EQ(e.http_status, c.http_status) << c.status;
    EXPECT_EQ(e.message, "x");
  }
}

TEST(AwsErrorTest, AnErrorCarriedByAStatusComesBackUnchanged) {
  AwsError limit = MakeError(kLimitExceeded, "too many shards");
  AwsError back = FromStatus(ToStatus(limit), StatusMapping());
  EXPECT_EQ(back.type, kLimitExceeded);
  EXPECT_EQ(back.message, "too many shards");
  EXPECT_EQ(back.http_status, 400);
  EXPECT_EQ(WriteJson(back.Body()),
            R"({"__type":"LimitExceededException","message":"too many shards"})");
}

TEST(AwsErrorTest, DetailsFollowTheMessageInTheBody) {
  AwsError e = MakeError("TransactionCanceledException", "cancelled");
  e.details = Value::Map();
  e.details.Add("CancellationReasons", Value::List()).Append(Value::Map());
  EXPECT_EQ(WriteJson(e.Body()),
            R"({"__type":"TransactionCanceledException","message":"cancelled",)"
            R"("CancellationReasons":[{}]})");
}

}  // namespace
}  // namespace tributary::aws
