#include "poller/invoke/http_invoker.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/types/optional.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "common/testing/http_test_server.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tables/attribute_value.h"
#include "tables/change_record.h"

namespace tributary::poller {
namespace {

constexpr char kPath[] = "/2015-03-31/functions/function/invocations";
constexpr absl::Duration kTimeout = absl::Seconds(30);  // a failure guard unless a test says

class HttpInvokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto client = HttpClient::Create({});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    invoker_ = std::make_unique<HttpFunctionInvoker>(
        *client_, clock_, LambdaAccount{"eu-west-1", "123456789012"});
    request_.set_stream_name("orders");
    request_.set_shard_id("shardId-000000000003");
    v1::Record* r = request_.add_records();
    r->set_partition_key("k");
    r->set_sequence_number("42");
    r->set_data("hi");
    r->mutable_approximate_arrival_timestamp()->set_seconds(1'700'000'000);
  }

  // Serves every request with `reply`, remembering the requests.
  void Serve(TestHttpReply reply) {
    auto server = HttpTestServer::Start([this, reply](const TestHttpRequest& r) {
      absl::MutexLock lock(&mu_);
      seen_.push_back(r);
      return reply;
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  std::string Endpoint() const { return absl::StrCat("http://", server_->address(), kPath); }
  absl::StatusOr<v1::InvokeResponse> Invoke(absl::Duration timeout = kTimeout) {
    return invoker_->Invoke(Endpoint(), request_, timeout);
  }

  FakeClock clock_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<HttpFunctionInvoker> invoker_;
  std::unique_ptr<HttpTestServer> server_;
  v1::InvokeRequest request_;
  absl::Mutex mu_;
  std::vector<TestHttpRequest> seen_ ABSL_GUARDED_BY(mu_);
};

TEST_F(HttpInvokerTest, PostsLambdasEventToThePathWithTheDeadline) {
  Serve(TestHttpReply{200, {}, "null"});
  absl::StatusOr<v1::InvokeResponse> reply = Invoke(absl::Seconds(3));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->batch_item_failures_size(), 0);
  absl::MutexLock lock(&mu_);
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].method, "POST");
  EXPECT_EQ(seen_[0].target, kPath);
  EXPECT_EQ(seen_[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(seen_[0].Header("Lambda-Runtime-Deadline-Ms"),
            absl::StrCat(absl::ToUnixMillis(clock_.Now() + absl::Seconds(3))));
  rapidjson::Document event;
  event.Parse(seen_[0].body.c_str());
  ASSERT_FALSE(event.HasParseError()) << seen_[0].body;
  const rapidjson::Value& record = event["Records"][0];
  EXPECT_STREQ(record["eventID"].GetString(), "shardId-000000000003:42");
  EXPECT_STREQ(record["awsRegion"].GetString(), "eu-west-1");
  EXPECT_STREQ(record["eventSourceARN"].GetString(),
               "arn:aws:kinesis:eu-west-1:123456789012:stream/orders");
  EXPECT_STREQ(record["invokeIdentityArn"].GetString(),
               "arn:aws:iam::123456789012:role/tributary");
  EXPECT_STREQ(record["kinesis"]["data"].GetString(), "aGk=");
}

// A fake of the Tables service's answer: counts its lookups.
class FakeTableStreamSources : public TableStreamSources {
 public:
  absl::StatusOr<TableStreamSource> Find(const std::string& stream_name) override {
    ++lookups;
    if (stream_name != "_tables.42.20231114221320123") return absl::NotFoundError("no stream");
    return TableStreamSource{"orders", "2023-11-14T22:13:20.123", 42};
  }
  int lookups = 0;
};

TEST_F(HttpInvokerTest, ATableStreamsRecordsArePostedAsLambdasDynamoDbEvent) {
  FakeTableStreamSources tables;
  HttpFunctionInvoker invoker(*client_, clock_, LambdaAccount{"eu-west-1", "123456789012"},
                              &tables);
  request_.set_stream_name("_tables.42.20231114221320123");
  std::optional<tables::ChangeRecord> change = tables::MakeChangeRecord(
      tables::StreamViewType::kNewImage, {{"id", tables::AttributeValue::S("a")}}, std::nullopt,
      tables::AttributeMap{{"id", tables::AttributeValue::S("a")}}, absl::FromUnixSeconds(5));
  request_.mutable_records(0)->set_data(tables::EncodeChangeRecord(*change));
  Serve(TestHttpReply{200, {}, R"({"batchItemFailures":[{"itemIdentifier":"100000000000000000042"}]})"});
  absl::StatusOr<v1::InvokeResponse> reply = invoker.Invoke(Endpoint(), request_, kTimeout);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->batch_item_failures_size(), 1);
  EXPECT_EQ(reply->batch_item_failures(0).item_identifier(), "42");  // the store's again
  absl::MutexLock lock(&mu_);
  ASSERT_EQ(seen_.size(), 1u);
  rapidjson::Document event;
  event.Parse(seen_[0].body.c_str());
  ASSERT_FALSE(event.HasParseError()) << seen_[0].body;
  const rapidjson::Value& record = event["Records"][0];
  EXPECT_STREQ(record["eventSource"].GetString(), "aws:dynamodb");
  EXPECT_STREQ(record["eventName"].GetString(), "INSERT");
  EXPECT_STREQ(record["dynamodb"]["SequenceNumber"].GetString(), "100000000000000000042");
  EXPECT_STREQ(record["eventSourceARN"].GetString(),
               "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/"
               "2023-11-14T22:13:20.123");
}

TEST_F(HttpInvokerTest, ATableStreamWhoseTableCannotBeFoundIsAFailedCall) {
  FakeTableStreamSources tables;
  HttpFunctionInvoker invoker(*client_, clock_, LambdaAccount{}, &tables);
  Serve(TestHttpReply{200, {}, "null"});
  request_.set_stream_name("_tables.7.1");
  EXPECT_EQ(invoker.Invoke(Endpoint(), request_, kTimeout).status().code(),
            absl::StatusCode::kNotFound);
  HttpFunctionInvoker without(*client_, clock_, LambdaAccount{});
  EXPECT_EQ(without.Invoke(Endpoint(), request_, kTimeout).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::MutexLock lock(&mu_);
  EXPECT_TRUE(seen_.empty());  // nothing was posted
}

TEST_F(HttpInvokerTest, ThePartialBatchResponseIsDecoded) {
  Serve(TestHttpReply{200, {}, R"({"batchItemFailures":[{"itemIdentifier":"42"}]})"});
  absl::StatusOr<v1::InvokeResponse> reply = Invoke();
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->batch_item_failures_size(), 1);
  EXPECT_EQ(reply->batch_item_failures(0).item_identifier(), "42");
  EXPECT_EQ(reply->function_error(), "");
}

TEST_F(HttpInvokerTest, TheFunctionErrorHeaderIsAFunctionErrorWithLambdasErrorShape) {
  Serve(TestHttpReply{200,
                      {{"X-Amz-Function-Error", "Unhandled"}},
                      R"({"errorMessage":"division by zero","errorType":"ZeroDivisionError",)"
                      R"("stackTrace":["  File \"app.py\", line 3"]})"});
  absl::StatusOr<v1::InvokeResponse> reply = Invoke();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->function_error(), "Unhandled: ZeroDivisionError: division by zero");
}

TEST_F(HttpInvokerTest, TheFunctionErrorHeaderWithAnyBodyIsStillAFunctionError) {
  Serve(TestHttpReply{200, {{"X-Amz-Function-Error", "Handled"}}, "oops"});
  absl::StatusOr<v1::InvokeResponse> reply = Invoke();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->function_error(), "Handled");
}

TEST_F(HttpInvokerTest, NonSuccessStatusesAreFailedCallsByKind) {
  struct Case {
    int status;
    absl::StatusCode code;
  };
  for (const Case& c : {Case{500, absl::StatusCode::kUnknown}, Case{404, absl::StatusCode::kUnknown},
                        Case{429, absl::StatusCode::kResourceExhausted},
                        Case{502, absl::StatusCode::kUnavailable},
                        Case{503, absl::StatusCode::kUnavailable},
                        Case{504, absl::StatusCode::kUnavailable}}) {
    Serve(TestHttpReply{c.status, {}, "upstream says no"});
    absl::StatusOr<v1::InvokeResponse> reply = Invoke();
    ASSERT_FALSE(reply.ok()) << c.status;
    EXPECT_EQ(reply.status().code(), c.code) << c.status;
    EXPECT_EQ(reply.status().message(),
              absl::StrCat("HTTP ", c.status, " from ", Endpoint(), ": upstream says no"));
    // The status the function answered, for the failure record's responseContext.statusCode.
    EXPECT_EQ(reply.status().GetPayload(kHttpStatusPayload),
              absl::optional<absl::Cord>(absl::Cord(absl::StrCat(c.status))))
        << c.status;
  }
}

TEST_F(HttpInvokerTest, ATimeoutIsDeadlineExceeded) {
  absl::Notification release;
  auto server = HttpTestServer::Start([&](const TestHttpRequest&) {
    release.WaitForNotificationWithTimeout(kTimeout);
    return TestHttpReply{200, {}, "{}"};
  });
  ASSERT_TRUE(server.ok());
  server_ = *std::move(server);
  absl::StatusOr<v1::InvokeResponse> reply = Invoke(absl::Milliseconds(200));
  release.Notify();
  server_.reset();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(HttpInvokerTest, ARefusedConnectionIsUnavailable) {
  Serve(TestHttpReply{});
  const std::string endpoint = Endpoint();
  server_.reset();
  absl::StatusOr<v1::InvokeResponse> reply = invoker_->Invoke(endpoint, request_, kTimeout);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(reply.status().GetPayload(kHttpStatusPayload).has_value()) << "no HTTP status";
}

TEST_F(HttpInvokerTest, AGrpcEndpointIsNotAnHttpOne) {
  absl::StatusOr<v1::InvokeResponse> reply = invoker_->Invoke("127.0.0.1:1", request_, kTimeout);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(HttpInvokerTest, HttpsEndpointsAreCalledOverTls) {
  const std::string testdata = absl::StrCat(getenv("TEST_SRCDIR"), "/", getenv("TEST_WORKSPACE"),
                                            "/common/testing/testdata/");
  const TestTlsFiles tls{testdata + "localhost_cert.pem", testdata + "localhost_key.pem", ""};
  auto server = HttpTestServer::Start(
      [](const TestHttpRequest&) {
        return TestHttpReply{200, {}, R"({"batchItemFailures":[{"itemIdentifier":"42"}]})"};
      },
      &tls);
  ASSERT_TRUE(server.ok()) << server.status();
  HttpClientOptions options;
  options.ca_file = testdata + "localhost_cert.pem";
  auto client = HttpClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  HttpFunctionInvoker invoker(**client, clock_, LambdaAccount{});
  absl::StatusOr<v1::InvokeResponse> reply = invoker.Invoke(
      absl::StrCat("https://localhost:", (*server)->port(), kPath), request_, kTimeout);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->batch_item_failures_size(), 1);
  EXPECT_EQ(reply->batch_item_failures(0).item_identifier(), "42");
}

// Records the endpoint it was called with.
class RecordingInvoker : public FunctionInvoker {
 public:
  absl::StatusOr<v1::InvokeResponse> Invoke(const std::string& endpoint,
                                            const v1::InvokeRequest&, absl::Duration) override {
    endpoints.push_back(endpoint);
    return v1::InvokeResponse();
  }
  std::vector<std::string> endpoints;
};

TEST(EndpointFunctionInvokerTest, EachEndpointGoesToItsProtocolsInvoker) {
  RecordingInvoker grpc, http;
  EndpointFunctionInvoker invoker(grpc, http);
  const v1::InvokeRequest request;
  for (const char* endpoint : {"127.0.0.1:4570", "grpc://fn.local:4571", "http://h:9000/x",
                               "https://h/invoke", "grpcs://fn.local:4572"}) {
    ASSERT_TRUE(invoker.Invoke(endpoint, request, kTimeout).ok()) << endpoint;
  }
  EXPECT_EQ(grpc.endpoints, (std::vector<std::string>{"127.0.0.1:4570", "fn.local:4571",
                                                      "grpcs://fn.local:4572"}));
  EXPECT_EQ(http.endpoints, (std::vector<std::string>{"http://h:9000/x", "https://h/invoke"}));
  absl::StatusOr<v1::InvokeResponse> bad = invoker.Invoke("ftp://h:1", request, kTimeout);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

// Defence in depth against server-side request forgery: an endpoint on a host the poller's
// --function_endpoint_allow does not list is never called.
TEST(EndpointFunctionInvokerTest, HostsNotAllowedAreRefusedWithoutACall) {
  RecordingInvoker grpc, http;
  EndpointFunctionInvoker invoker(grpc, http, *HostAllowList::Parse("loopback"));
  const v1::InvokeRequest request;
  for (const char* endpoint : {"169.254.169.254:80", "http://metadata.internal/latest",
                               "https://evil.example/x"}) {
    absl::StatusOr<v1::InvokeResponse> refused = invoker.Invoke(endpoint, request, kTimeout);
    ASSERT_FALSE(refused.ok()) << endpoint;
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_NE(refused.status().message().find("--function_endpoint_allow"), absl::string_view::npos);
  }
  EXPECT_TRUE(grpc.endpoints.empty());
  EXPECT_TRUE(http.endpoints.empty());
  ASSERT_TRUE(invoker.Invoke("127.0.0.1:4570", request, kTimeout).ok());
  ASSERT_TRUE(invoker.Invoke("http://localhost:9000/x", request, kTimeout).ok());
  EXPECT_EQ(grpc.endpoints.size() + http.endpoints.size(), 2u);
}

}  // namespace
}  // namespace tributary::poller
