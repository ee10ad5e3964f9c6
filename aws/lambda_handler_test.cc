// Lambda's REST API as a specification: each route's input becomes the tracker's request field by
// field, the tracker's reply becomes Lambda's shape and status, each tracker status becomes
// Lambda's error, and the model's constraints are refused before the tracker is called. The
// tracker is a fake of its two gRPC services on a real in-process channel (what `tributary serve`
// uses); requests go through the router, as on the wire.
#include "aws/lambda_handler.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aws/json_codec.h"
#include "aws/router.h"
#include "common/grpc_server.h"
#include "common/proto_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/event_source_mappings.grpc.pb.h"
#include "proto/functions.grpc.pb.h"
#include "stream_tracker/stream_tracker_client.h"

namespace tributary::aws {
namespace {

using ::testing::HasSubstr;

const LambdaApiOptions kOptions{"eu-west-1", "123456789012"};
constexpr char kOrdersArn[] = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders";
constexpr char kDlqArn[] = "arn:aws:kinesis:eu-west-1:123456789012:stream/dlq";
constexpr char kFunctionArn[] = "arn:aws:lambda:eu-west-1:123456789012:function:f";
constexpr char kAuthorization[] =
    "AWS4-HMAC-SHA256 Credential=AKID/20240102/eu-west-1/lambda/aws4_request, "
    "SignedHeaders=host;x-amz-date, "
    "Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";

// What the fake tracker was asked (the last request of each kind) and how many calls it had.
struct Asked {
  int calls = 0;
  v1::CreateEventSourceMappingRequest create;
  v1::UpdateEventSourceMappingRequest update;
  std::string get_uuid;
  std::string delete_uuid;
  v1::ListEventSourceMappingsRequest list;
  v1::ListFunctionsRequest list_functions;
  std::string function_name;  // of GetFunction and the concurrency calls
  v1::PutFunctionConcurrencyRequest put_concurrency;
};

// The stream tracker's two services, answering what the test arranged: `status` when it is not
// OK, else the arranged reply.
class FakeTracker {
 public:
  void Fail(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    status_ = std::move(status);
  }
  void SetMapping(v1::EventSourceMappingConfiguration m) {
    absl::MutexLock lock(&mu_);
    mapping_ = std::move(m);
  }
  void SetMappingList(v1::ListEventSourceMappingsResponse l) {
    absl::MutexLock lock(&mu_);
    mapping_list_ = std::move(l);
  }
  void SetFunction(v1::FunctionConfiguration f) {
    absl::MutexLock lock(&mu_);
    function_ = std::move(f);
  }
  void SetFunctionList(v1::ListFunctionsResponse l) {
    absl::MutexLock lock(&mu_);
    function_list_ = std::move(l);
  }
  void SetConcurrency(v1::FunctionConcurrency c) {
    absl::MutexLock lock(&mu_);
    concurrency_ = std::move(c);
  }
  Asked asked() const {
    absl::MutexLock lock(&mu_);
    return asked_;
  }

  class Mappings : public v1::EventSourceMappings::Service {
   public:
    explicit Mappings(FakeTracker* t) : t_(t) {}
    grpc::Status CreateEventSourceMapping(grpc::ServerContext*,
                                          const v1::CreateEventSourceMappingRequest* request,
                                          v1::EventSourceMappingConfiguration* reply) override {
      return t_->Answer([&](Asked& a) { a.create = *request; }, &FakeTracker::mapping_, reply);
    }
    grpc::Status UpdateEventSourceMapping(grpc::ServerContext*,
                                          const v1::UpdateEventSourceMappingRequest* request,
                                          v1::EventSourceMappingConfiguration* reply) override {
      return t_->Answer([&](Asked& a) { a.update = *request; }, &FakeTracker::mapping_, reply);
    }
    grpc::Status DeleteEventSourceMapping(grpc::ServerContext*,
                                          const v1::DeleteEventSourceMappingRequest* request,
                                          v1::EventSourceMappingConfiguration* reply) override {
      return t_->Answer([&](Asked& a) { a.delete_uuid = request->uuid(); }, &FakeTracker::mapping_,
                        reply);
    }
    grpc::Status GetEventSourceMapping(grpc::ServerContext*,
                                       const v1::GetEventSourceMappingRequest* request,
                                       v1::EventSourceMappingConfiguration* reply) override {
      return t_->Answer([&](Asked& a) { a.get_uuid = request->uuid(); }, &FakeTracker::mapping_,
                        reply);
    }
    grpc::Status ListEventSourceMappings(grpc::ServerContext*,
                                         const v1::ListEventSourceMappingsRequest* request,
                                         v1::ListEventSourceMappingsResponse* reply) override {
      return t_->Answer([&](Asked& a) { a.list = *request; }, &FakeTracker::mapping_list_, reply);
    }

   private:
    FakeTracker* t_;
  };

  class Functions : public v1::Functions::Service {
   public:
    explicit Functions(FakeTracker* t) : t_(t) {}
    grpc::Status GetFunction(grpc::ServerContext*, const v1::GetFunctionRequest* request,
                             v1::FunctionConfiguration* reply) override {
      return t_->Answer([&](Asked& a) { a.function_name = request->function_name(); },
                        &FakeTracker::function_, reply);
    }
    grpc::Status ListFunctions(grpc::ServerContext*, const v1::ListFunctionsRequest* request,
                               v1::ListFunctionsResponse* reply) override {
      return t_->Answer([&](Asked& a) { a.list_functions = *request; },
                        &FakeTracker::function_list_, reply);
    }
    grpc::Status PutFunctionConcurrency(grpc::ServerContext*,
                                        const v1::PutFunctionConcurrencyRequest* request,
                                        v1::FunctionConcurrency* reply) override {
      return t_->Answer(
          [&](Asked& a) {
            a.put_concurrency = *request;
            a.function_name = request->function_name();
          },
          &FakeTracker::concurrency_, reply);
    }
    grpc::Status DeleteFunctionConcurrency(grpc::ServerContext*,
                                           const v1::DeleteFunctionConcurrencyRequest* request,
                                           v1::DeleteFunctionConcurrencyResponse* reply) override {
      return t_->Answer([&](Asked& a) { a.function_name = request->function_name(); },
                        &FakeTracker::deleted_concurrency_, reply);
    }
    grpc::Status GetFunctionConcurrency(grpc::ServerContext*,
                                        const v1::GetFunctionConcurrencyRequest* request,
                                        v1::FunctionConcurrency* reply) override {
      return t_->Answer([&](Asked& a) { a.function_name = request->function_name(); },
                        &FakeTracker::concurrency_, reply);
    }

   private:
    FakeTracker* t_;
  };

 private:
  // Records the request, then answers the status or a copy of the arranged reply `arranged`.
  template <typename Record, typename Reply>
  grpc::Status Answer(Record record, Reply FakeTracker::*arranged, Reply* reply) {
    absl::MutexLock lock(&mu_);
    ++asked_.calls;
    record(asked_);
    if (!status_.ok()) return status_;
    *reply = this->*arranged;
    return grpc::Status::OK;
  }

  mutable absl::Mutex mu_;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  Asked asked_ ABSL_GUARDED_BY(mu_);
  v1::EventSourceMappingConfiguration mapping_ ABSL_GUARDED_BY(mu_);
  v1::ListEventSourceMappingsResponse mapping_list_ ABSL_GUARDED_BY(mu_);
  v1::FunctionConfiguration function_ ABSL_GUARDED_BY(mu_);
  v1::ListFunctionsResponse function_list_ ABSL_GUARDED_BY(mu_);
  v1::FunctionConcurrency concurrency_ ABSL_GUARDED_BY(mu_);
  v1::DeleteFunctionConcurrencyResponse deleted_concurrency_ ABSL_GUARDED_BY(mu_);
};

class LambdaApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = GrpcServer::Start("127.0.0.1:0", {&mappings_service_, &functions_service_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<stream_tracker::StreamTrackerClient>(server_->InProcessChannel());
    api_ = std::make_unique<LambdaApi>(client_.get(), kOptions);
    router_.AddRestApi(api_.get());
    tracker_.SetMapping(Mapping());
  }

  // A mapping as the tracker returns it.
  static v1::EventSourceMappingConfiguration Mapping() {
    v1::EventSourceMappingConfiguration m;
    m.set_uuid("0b1c2d3e-0000-4000-8000-000000000001");
    m.set_stream_name("orders");
    m.set_function_name("f");
    m.set_starting_position(v1::TRIM_HORIZON_POSITION);
    m.set_batch_size(100);
    m.set_parallelization_factor(1);
    m.set_maximum_record_age_in_seconds(-1);
    m.set_maximum_retry_attempts(-1);
    m.set_state(v1::CREATING_MAPPING);
    m.set_state_transition_reason("User action");
    m.set_last_processing_result("No records processed");
    *m.mutable_last_modified() = ToProtoTimestamp(absl::FromUnixSeconds(1700000000));
    return m;
  }

  HttpResponse Send(const std::string& method, const std::string& target,
                    const std::string& body = "") {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.headers = {{"authorization", kAuthorization},
                 {"x-amz-date", "20240102T030405Z"},
                 {"content-type", "application/json"}};
    r.body = body;
    return router_.Handle(std::move(r));
  }

  static std::string HeaderOf(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (absl::EqualsIgnoreCase(k, name)) return v;
    }
    return "";
  }
  static Value BodyOf(const HttpResponse& r) {
    absl::StatusOr<Value> body = ParseJson(r.body);
    EXPECT_TRUE(body.ok()) << r.body;
    return body.ok() ? *body : Value();
  }
  // The error type (x-amzn-ErrorType), checked against nothing else.
  static std::string ErrorType(const HttpResponse& r) { return HeaderOf(r, "x-amzn-ErrorType"); }
  // The error message, from whichever of "message" and "Message" the body has (as botocore).
  static std::string ErrorMessage(const HttpResponse& r) {
    const Value body = BodyOf(r);
    const Value* m = body.Find("message");
    if (m == nullptr) m = body.Find("Message");
    return m == nullptr ? "" : m->string_value();
  }

  static std::string CreateBody(const std::string& extra = "") {
    return absl::StrCat(R"({"FunctionName":"f","EventSourceArn":")", kOrdersArn,
                        R"(","StartingPosition":"TRIM_HORIZON")", extra, "}");
  }

  FakeTracker tracker_;
  FakeTracker::Mappings mappings_service_{&tracker_};
  FakeTracker::Functions functions_service_{&tracker_};
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<stream_tracker::StreamTrackerClient> client_;
  std::unique_ptr<LambdaApi> api_;
  AwsRouter router_;
};

// --- CreateEventSourceMapping ----------------------------------------------------------------

TEST_F(LambdaApiTest, CreateTranslatesEveryMemberAndAnswers202WithLambdasShape) {
  HttpResponse r = Send(
      "POST", "/2015-03-31/event-source-mappings/",
      absl::StrCat(
          R"({"FunctionName":"f","EventSourceArn":")", kOrdersArn, R"(",)",
          R"("StartingPosition":"AT_TIMESTAMP","StartingPositionTimestamp":1700000000.25,)",
          R"("Enabled":false,"BatchSize":500,"MaximumBatchingWindowInSeconds":5,)",
          R"("ParallelizationFactor":4,"MaximumRecordAgeInSeconds":3600,)",
          R"("BisectBatchOnFunctionError":true,"MaximumRetryAttempts":3,)",
          R"("TumblingWindowInSeconds":120,"FunctionResponseTypes":["ReportBatchItemFailures"],)",
          R"("DestinationConfig":{"OnFailure":{"Destination":")", kDlqArn, R"("}},)",
          R"("FilterCriteria":{"Filters":[{"Pattern":"{\"data\":{\"k\":[1]}}"}]}})"));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(HeaderOf(r, "Content-Type"), "application/json");
  EXPECT_FALSE(HeaderOf(r, "x-amzn-RequestId").empty());

  const v1::CreateEventSourceMappingRequest asked = tracker_.asked().create;
  EXPECT_EQ(asked.stream_name(), "orders");
  EXPECT_EQ(asked.function_name(), "f");
  EXPECT_TRUE(asked.function_endpoint().empty());
  EXPECT_EQ(asked.starting_position(), v1::AT_TIMESTAMP_POSITION);
  EXPECT_EQ(FromProtoTimestamp(asked.starting_position_timestamp()),
            absl::FromUnixMillis(1700000000250));
  ASSERT_TRUE(asked.has_enabled());
  EXPECT_FALSE(asked.enabled());
  EXPECT_EQ(asked.batch_size(), 500);
  EXPECT_EQ(asked.maximum_batching_window_in_seconds(), 5);
  EXPECT_EQ(asked.parallelization_factor(), 4);
  EXPECT_EQ(asked.maximum_record_age_in_seconds(), 3600);
  EXPECT_TRUE(asked.bisect_batch_on_function_error());
  EXPECT_EQ(asked.maximum_retry_attempts(), 3);
  EXPECT_EQ(asked.tumbling_window_in_seconds(), 120);
  ASSERT_EQ(asked.function_response_types_size(), 1);
  EXPECT_EQ(asked.function_response_types(0), v1::REPORT_BATCH_ITEM_FAILURES);
  EXPECT_EQ(asked.destination_config().on_failure().destination(), "dlq");
  ASSERT_EQ(asked.filter_criteria().filters_size(), 1);
  EXPECT_EQ(asked.filter_criteria().filters(0).pattern(), R"({"data":{"k":[1]}})");

  const Value body = BodyOf(r);
  EXPECT_EQ(body.Find("UUID")->string_value(), "0b1c2d3e-0000-4000-8000-000000000001");
  EXPECT_EQ(body.Find("State")->string_value(), "Creating");
  EXPECT_EQ(body.Find("EventSourceArn")->string_value(), kOrdersArn);
  EXPECT_EQ(body.Find("FunctionArn")->string_value(), kFunctionArn);
  EXPECT_EQ(body.Find("LastModified")->double_value(), 1700000000.0);
}

TEST_F(LambdaApiTest, UnsetMembersStayUnsetForTheTrackersDefaults) {
  ASSERT_EQ(Send("POST", "/2015-03-31/event-source-mappings", CreateBody()).status, 202);
  const v1::CreateEventSourceMappingRequest asked = tracker_.asked().create;
  EXPECT_FALSE(asked.has_enabled());
  EXPECT_FALSE(asked.has_batch_size());
  EXPECT_FALSE(asked.has_maximum_record_age_in_seconds());
  EXPECT_FALSE(asked.has_maximum_retry_attempts());
  EXPECT_FALSE(asked.has_destination_config());
  EXPECT_FALSE(asked.has_starting_position_timestamp());
  EXPECT_EQ(asked.filter_criteria().filters_size(), 0);
}

TEST_F(LambdaApiTest, TheModelsConstraintsAreOneValidationExceptionBeforeTheTracker) {
  HttpResponse r = Send("POST", "/2015-03-31/event-source-mappings/",
                        R"({"EventSourceArn":"orders","StartingPosition":"OLDEST",)"
                        R"("BatchSize":0,"MaximumBatchingWindowInSeconds":301,)"
                        R"("ParallelizationFactor":11,"MaximumRecordAgeInSeconds":604801,)"
                        R"("MaximumRetryAttempts":-2,"TumblingWindowInSeconds":901,)"
                        R"("FunctionResponseTypes":["Everything"]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorType(r), kValidation);
  const std::string message = ErrorMessage(r);
  EXPECT_THAT(message, HasSubstr("10 validation errors detected"));
  EXPECT_THAT(message, HasSubstr("Value null at 'functionName' failed to satisfy constraint: "
                                 "Member must not be null"));
  EXPECT_THAT(message, HasSubstr("Value 'orders' at 'eventSourceArn' failed to satisfy "
                                 "constraint: Member must satisfy regular expression pattern"));
  EXPECT_THAT(message, HasSubstr("Value 'OLDEST' at 'startingPosition'"));
  EXPECT_THAT(message, HasSubstr("Value '0' at 'batchSize' failed to satisfy constraint: Member "
                                 "must have value greater than or equal to 1"));
  EXPECT_THAT(message, HasSubstr("Value '301' at 'maximumBatchingWindowInSeconds'"));
  EXPECT_THAT(message, HasSubstr("Value '11' at 'parallelizationFactor'"));
  EXPECT_THAT(message, HasSubstr("Value '604801' at 'maximumRecordAgeInSeconds'"));
  EXPECT_THAT(message, HasSubstr("Value '-2' at 'maximumRetryAttempts'"));
  EXPECT_THAT(message, HasSubstr("Value '901' at 'tumblingWindowInSeconds'"));
  EXPECT_THAT(message, HasSubstr("Value '[Everything]' at 'functionResponseTypes'"));
  EXPECT_EQ(tracker_.asked().calls, 0);
}

TEST_F(LambdaApiTest, ANameOrDestinationOutsideTheModelsPatternsIsValidationException) {
  for (const std::string& body :
       {absl::StrCat(R"({"FunctionName":"a b","EventSourceArn":")", kOrdersArn, R"("})"),
        absl::StrCat(R"({"FunctionName":")", std::string(141, 'f'), R"(","EventSourceArn":")",
                     kOrdersArn, R"("})"),
        CreateBody(R"(,"DestinationConfig":{"OnFailure":{"Destination":"dlq"}})")}) {
    HttpResponse r = Send("POST", "/2015-03-31/event-source-mappings/", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(ErrorType(r), kValidation) << body << ": " << r.body;
  }
  EXPECT_EQ(tracker_.asked().calls, 0);
}

TEST_F(LambdaApiTest, ArnsThatAreNotStreamsOfThisEndpointAreInvalidParameterValue) {
  for (const std::string& arn : {std::string("arn:aws:sqs:eu-west-1:123456789012:q"),
                                 std::string("arn:aws:kinesis:us-east-1:123456789012:stream/o"),
                                 std::string("arn:aws:kinesis:eu-west-1:000000000000:stream/o"),
                                 std::string(kOrdersArn) + "/consumer/c:1"}) {
    HttpResponse r = Send("POST", "/2015-03-31/event-source-mappings/",
                          absl::StrCat(R"({"FunctionName":"f","EventSourceArn":")", arn,
                                       R"(","StartingPosition":"LATEST"})"));
    EXPECT_EQ(r.status, 400) << arn;
    EXPECT_EQ(ErrorType(r), kInvalidParameterValue) << arn;
    EXPECT_THAT(ErrorMessage(r), HasSubstr(arn));

    HttpResponse d =
        Send("POST", "/2015-03-31/event-source-mappings/",
             CreateBody(absl::StrCat(R"(,"DestinationConfig":{"OnFailure":{"Destination":")", arn,
                                     R"("}})")));
    EXPECT_EQ(ErrorType(d), kInvalidParameterValue) << arn;
  }
  HttpResponse missing = Send("POST", "/2015-03-31/event-source-mappings/",
                              R"({"FunctionName":"f","StartingPosition":"LATEST"})");
  EXPECT_EQ(ErrorType(missing), kInvalidParameterValue);
  EXPECT_THAT(ErrorMessage(missing), HasSubstr("EventSourceArn is required"));
  EXPECT_EQ(tracker_.asked().calls, 0);
}

// OnSuccess is taken (Tributary's extension) but, like OnFailure, only as a stream of this
// endpoint: an SQS queue is no destination here.
TEST_F(LambdaApiTest, MembersOfOtherSourcesAndAnOnSuccessQueueAreInvalidParameterValue) {
  for (
      const char* extra :
      {R"(,"Queues":["q"])", R"(,"Topics":["t"])", R"(,"SourceAccessConfigurations":[])",
       R"(,"SelfManagedEventSource":{})", R"(,"ScalingConfig":{})",
       R"(,"DestinationConfig":{"OnSuccess":{"Destination":"arn:aws:sqs:eu-west-1:123456789012:q"}})"}) {
    HttpResponse r = Send("POST", "/2015-03-31/event-source-mappings/", CreateBody(extra));
    EXPECT_EQ(r.status, 400) << extra;
    EXPECT_EQ(ErrorType(r), kInvalidParameterValue) << extra << ": " << r.body;
  }
  EXPECT_EQ(tracker_.asked().calls, 0);
}

// Lambda refuses OnSuccess for stream sources; Tributary takes a stream of this endpoint there
// (issue 23, aws/NOTES.md), on create and update, and shows it back.
TEST_F(LambdaApiTest, AnOnSuccessStreamIsTakenAsTributarysExtensionAndShownBack) {
  HttpResponse r = Send(
      "POST", "/2015-03-31/event-source-mappings/",
      CreateBody(absl::StrCat(R"(,"DestinationConfig":{"OnSuccess":{"Destination":")", kDlqArn,
                              R"("}})")));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(tracker_.asked().create.destination_config().on_success().destination(), "dlq");
  EXPECT_EQ(tracker_.asked().create.destination_config().on_failure().destination(), "");

  ASSERT_EQ(Send("PUT", "/2015-03-31/event-source-mappings/u-1",
                 absl::StrCat(R"({"DestinationConfig":{"OnFailure":{"Destination":")", kDlqArn,
                              R"("},"OnSuccess":{"Destination":")", kDlqArn, R"("}}})"))
                .status,
            202);
  const v1::UpdateEventSourceMappingRequest asked = tracker_.asked().update;
  EXPECT_EQ(asked.destination_config().on_success().destination(), "dlq");
  EXPECT_EQ(asked.destination_config().on_failure().destination(), "dlq");
}

TEST_F(LambdaApiTest, ABodyThatIsNotJsonOrHasWrongTypesIsInvalidRequestContent) {
  for (const char* body : {"{", "[1]", R"({"FunctionName":"f","BatchSize":"ten"})",
                           R"({"FunctionName":7})", R"({"FilterCriteria":[]})"}) {
    HttpResponse r = Send("POST", "/2015-03-31/event-source-mappings/", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(ErrorType(r), kInvalidRequestContent) << body << ": " << r.body;
  }
  EXPECT_EQ(tracker_.asked().calls, 0);
}

// The one table of tracker statuses, as Lambda's errors: status, type, and the body botocore
// parses ("Type", and the message under the case the model's error shape uses).
TEST_F(LambdaApiTest, TrackerStatusesBecomeLambdasErrors) {
  struct Case {
    grpc::Status status;
    int http_status;
    const char* type;
    const char* message_member;
    const char* error_kind;
  } cases[] = {
      {grpc::Status(grpc::INVALID_ARGUMENT, "maximum_record_age_in_seconds must be -1 or ..."), 400,
       kInvalidParameterValue, "message", "User"},
      {grpc::Status(grpc::NOT_FOUND, "stream_name: stream orders not found"), 400,
       kInvalidParameterValue, "message", "User"},
      {grpc::Status(grpc::NOT_FOUND,
                    "destination_config.on_failure.destination: stream dlq not found"),
       400, kInvalidParameterValue, "message", "User"},
      {grpc::Status(grpc::NOT_FOUND, "function_name: function f not found"), 404, kResourceNotFound,
       "Message", "User"},
      {grpc::Status(grpc::ALREADY_EXISTS, "function f already has event source mapping u"), 409,
       kResourceConflict, "message", "User"},
      {grpc::Status(grpc::FAILED_PRECONDITION, "event source mapping u is being deleted"), 400,
       kResourceInUse, "Message", "User"},
      {grpc::Status(grpc::RESOURCE_EXHAUSTED, "slow down"), 429, kTooManyRequests, "message",
       "User"},
      {grpc::Status(grpc::UNAVAILABLE, "connection refused"), 503, kServiceException, "Message",
       "Service"},
      {grpc::Status(grpc::INTERNAL, "a bug"), 500, kServiceException, "Message", "Service"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status.error_message());
    tracker_.Fail(c.status);
    HttpResponse r = Send("POST", "/2015-03-31/event-source-mappings/", CreateBody());
    EXPECT_EQ(r.status, c.http_status);
    EXPECT_EQ(ErrorType(r), c.type);
    const Value body = BodyOf(r);
    ASSERT_NE(body.Find(c.message_member), nullptr) << r.body;
    EXPECT_EQ(body.Find(c.message_member)->string_value(), c.status.error_message());
    EXPECT_EQ(body.Find("Type")->string_value(), c.error_kind);
  }
}

// --- Get, Update, Delete, List -----------------------------------------------------------------

TEST_F(LambdaApiTest, GetAndDeleteNameTheMappingByItsPathAndDeleteIs202) {
  HttpResponse got = Send("GET", "/2015-03-31/event-source-mappings/abc%2Dd");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(tracker_.asked().get_uuid, "abc-d");
  EXPECT_EQ(BodyOf(got).Find("State")->string_value(), "Creating");

  v1::EventSourceMappingConfiguration deleting = Mapping();
  deleting.set_state(v1::DELETING_MAPPING);
  tracker_.SetMapping(deleting);
  HttpResponse deleted = Send("DELETE", "/2015-03-31/event-source-mappings/abc");
  EXPECT_EQ(deleted.status, 202);
  EXPECT_EQ(tracker_.asked().delete_uuid, "abc");
  EXPECT_EQ(BodyOf(deleted).Find("State")->string_value(), "Deleting");

  tracker_.Fail(grpc::Status(grpc::NOT_FOUND, "event source mapping abc not found"));
  HttpResponse gone = Send("GET", "/2015-03-31/event-source-mappings/abc");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(ErrorType(gone), kResourceNotFound);
}

TEST_F(LambdaApiTest, UpdateSetsOnlyWhatItIsGivenAndAnswers202) {
  HttpResponse r =
      Send("PUT", "/2015-03-31/event-source-mappings/u-1", R"({"BatchSize":7,"Enabled":false})");
  EXPECT_EQ(r.status, 202) << r.body;
  v1::UpdateEventSourceMappingRequest asked = tracker_.asked().update;
  EXPECT_EQ(asked.uuid(), "u-1");
  EXPECT_EQ(asked.batch_size(), 7);
  ASSERT_TRUE(asked.has_enabled());
  EXPECT_FALSE(asked.enabled());
  EXPECT_FALSE(asked.has_function_name());
  EXPECT_FALSE(asked.has_parallelization_factor());
  EXPECT_FALSE(asked.has_destination_config());
  EXPECT_FALSE(asked.update_function_response_types());
  EXPECT_FALSE(asked.update_filter_criteria());
}

TEST_F(LambdaApiTest, UpdateWithEmptyFiltersTypesOrDestinationRemovesThem) {
  ASSERT_EQ(Send("PUT", "/2015-03-31/event-source-mappings/u-1",
                 R"({"FilterCriteria":{},"FunctionResponseTypes":[],)"
                 R"("DestinationConfig":{"OnFailure":{}},"FunctionName":"g"})")
                .status,
            202);
  v1::UpdateEventSourceMappingRequest asked = tracker_.asked().update;
  EXPECT_TRUE(asked.update_filter_criteria());
  EXPECT_EQ(asked.filter_criteria().filters_size(), 0);
  EXPECT_TRUE(asked.update_function_response_types());
  EXPECT_EQ(asked.function_response_types_size(), 0);
  EXPECT_TRUE(asked.has_destination_config()) << "present and empty: the tracker clears it";
  EXPECT_EQ(asked.destination_config().on_failure().destination(), "");
  EXPECT_TRUE(asked.destination_config().has_on_success())
      << "both parts present: Lambda's update replaces the whole DestinationConfig";
  EXPECT_EQ(asked.function_name(), "g");
}

TEST_F(LambdaApiTest, UpdateChecksTheModelAsCreateDoes) {
  HttpResponse r =
      Send("PUT", "/2015-03-31/event-source-mappings/u-1", R"({"BatchSize":10001,"Queues":["q"]})");
  EXPECT_EQ(ErrorType(r), kValidation);
  EXPECT_THAT(ErrorMessage(r), HasSubstr("'batchSize'"));
  HttpResponse queues =
      Send("PUT", "/2015-03-31/event-source-mappings/u-1", R"({"SourceAccessConfigurations":[]})");
  EXPECT_EQ(ErrorType(queues), kInvalidParameterValue);
  EXPECT_EQ(tracker_.asked().calls, 0);
}

TEST_F(LambdaApiTest, ListPassesItsQueryAndPagesWithNextMarker) {
  v1::ListEventSourceMappingsResponse page;
  *page.add_event_source_mappings() = Mapping();
  page.set_next_marker("0b1c2d3e-0000-4000-8000-000000000001");
  tracker_.SetMappingList(page);
  HttpResponse r = Send(
      "GET", absl::StrCat(
                 "/2015-03-31/event-source-mappings/?FunctionName=",
                 "arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Af",
                 "&EventSourceArn=arn%3Aaws%3Akinesis%3Aeu-west-1%3A123456789012%3Astream%2Forders",
                 "&Marker=m-1&MaxItems=1"));
  EXPECT_EQ(r.status, 200) << r.body;
  const v1::ListEventSourceMappingsRequest asked = tracker_.asked().list;
  EXPECT_EQ(asked.function_name(), kFunctionArn);
  EXPECT_EQ(asked.stream_name(), "orders");
  EXPECT_EQ(asked.marker(), "m-1");
  EXPECT_EQ(asked.max_items(), 1);
  const Value body = BodyOf(r);
  ASSERT_EQ(body.Find("EventSourceMappings")->list().size(), 1u);
  EXPECT_EQ(body.Find("EventSourceMappings")->list()[0].Find("EventSourceArn")->string_value(),
            kOrdersArn);
  EXPECT_EQ(body.Find("NextMarker")->string_value(), "0b1c2d3e-0000-4000-8000-000000000001");

  tracker_.SetMappingList(v1::ListEventSourceMappingsResponse());
  HttpResponse last = Send("GET", "/2015-03-31/event-source-mappings/");
  EXPECT_EQ(BodyOf(last).Find("NextMarker"), nullptr) << "no NextMarker on the last page";
}

TEST_F(LambdaApiTest, ListRefusesBadQueriesAndAnswersNothingForOtherRegionsStreams) {
  for (const char* query :
       {"?MaxItems=0", "?MaxItems=10001", "?FunctionName=a%20b", "?EventSourceArn=orders"}) {
    HttpResponse r = Send("GET", absl::StrCat("/2015-03-31/event-source-mappings/", query));
    EXPECT_EQ(ErrorType(r), kValidation) << query << ": " << r.body;
  }
  EXPECT_EQ(ErrorType(Send("GET", "/2015-03-31/event-source-mappings/?MaxItems=ten")),
            kInvalidRequestContent);
  EXPECT_EQ(ErrorType(Send("GET",
                           "/2015-03-31/event-source-mappings/?EventSourceArn=arn%3Aaws"
                           "%3Asqs%3Aeu-west-1%3A123456789012%3Aq")),
            kInvalidParameterValue);
  EXPECT_EQ(tracker_.asked().calls, 0);

  HttpResponse elsewhere =
      Send("GET",
           "/2015-03-31/event-source-mappings/?EventSourceArn=arn%3Aaws%3Akinesis%3Aus-east-1"
           "%3A123456789012%3Astream%2Forders");
  EXPECT_EQ(elsewhere.status, 200);
  EXPECT_EQ(elsewhere.body, R"({"EventSourceMappings":[]})");
  EXPECT_EQ(tracker_.asked().calls, 0) << "no stream of another region is here";
}

// --- Functions and concurrency -------------------------------------------------------------------

v1::FunctionConfiguration Function(const std::string& name) {
  v1::FunctionConfiguration f;
  f.set_function_name(name);
  f.set_function_arn(absl::StrCat("arn:aws:lambda:eu-west-1:123456789012:function:", name));
  f.set_endpoint("127.0.0.1:9000");
  f.set_timeout_seconds(3);
  *f.mutable_last_modified() = ToProtoTimestamp(absl::FromUnixSeconds(1700000000));
  return f;
}

TEST_F(LambdaApiTest, ListFunctionsPagesWithMarkerAndMaxItems) {
  v1::ListFunctionsResponse page;
  *page.add_functions() = Function("a");
  *page.add_functions() = Function("b");
  page.set_next_marker("b");
  tracker_.SetFunctionList(page);
  HttpResponse r = Send("GET", "/2015-03-31/functions/?Marker=0&MaxItems=2&FunctionVersion=ALL");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(tracker_.asked().list_functions.marker(), "0");
  EXPECT_EQ(tracker_.asked().list_functions.max_items(), 2);
  const Value body = BodyOf(r);
  ASSERT_EQ(body.Find("Functions")->list().size(), 2u);
  EXPECT_EQ(body.Find("Functions")->list()[1].Find("FunctionName")->string_value(), "b");
  EXPECT_EQ(body.Find("NextMarker")->string_value(), "b");

  EXPECT_EQ(ErrorType(Send("GET", "/2015-03-31/functions/?FunctionVersion=1")), kValidation);
  EXPECT_EQ(ErrorType(Send("GET", "/2015-03-31/functions/?MasterRegion=us-east-1")),
            kInvalidParameterValue);
}

TEST_F(LambdaApiTest, GetFunctionWrapsTheConfigurationAndItsConcurrency) {
  v1::FunctionConfiguration f = Function("f");
  tracker_.SetFunction(f);
  HttpResponse plain = Send("GET", "/2015-03-31/functions/f");
  EXPECT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(BodyOf(plain).Find("Configuration")->Find("FunctionArn")->string_value(), kFunctionArn);
  EXPECT_EQ(BodyOf(plain).Find("Concurrency"), nullptr) << "none reserved";

  f.set_reserved_concurrent_executions(5);
  tracker_.SetFunction(f);
  HttpResponse by_arn =
      Send("GET",
           "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction"
           "%3Af?Qualifier=%24LATEST");
  EXPECT_EQ(by_arn.status, 200) << by_arn.body;
  EXPECT_EQ(tracker_.asked().function_name, kFunctionArn);
  EXPECT_EQ(WriteJson(*BodyOf(by_arn).Find("Concurrency")),
            R"({"ReservedConcurrentExecutions":5})");

  HttpResponse version = Send("GET", "/2015-03-31/functions/f?Qualifier=1");
  EXPECT_EQ(version.status, 404);
  EXPECT_EQ(ErrorType(version), kResourceNotFound);

  tracker_.Fail(grpc::Status(grpc::NOT_FOUND, "function g not found"));
  HttpResponse missing = Send("GET", "/2015-03-31/functions/g");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(BodyOf(missing).Find("Message")->string_value(), "function g not found");
}

TEST_F(LambdaApiTest, ConcurrencyIsPutReadAndDeletedWithLambdasStatuses) {
  v1::FunctionConcurrency five;
  five.set_reserved_concurrent_executions(5);
  tracker_.SetConcurrency(five);
  HttpResponse put =
      Send("PUT", "/2017-10-31/functions/f/concurrency", R"({"ReservedConcurrentExecutions":5})");
  EXPECT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.body, R"({"ReservedConcurrentExecutions":5})");
  EXPECT_EQ(tracker_.asked().put_concurrency.function_name(), "f");
  EXPECT_EQ(tracker_.asked().put_concurrency.reserved_concurrent_executions(), 5);

  HttpResponse got = Send("GET", "/2019-09-30/functions/f/concurrency");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, R"({"ReservedConcurrentExecutions":5})");

  HttpResponse deleted = Send("DELETE", "/2017-10-31/functions/f/concurrency");
  EXPECT_EQ(deleted.status, 204);
  EXPECT_TRUE(deleted.body.empty());
  EXPECT_EQ(HeaderOf(deleted, "Content-Type"), "");

  tracker_.SetConcurrency(v1::FunctionConcurrency());
  EXPECT_EQ(Send("GET", "/2019-09-30/functions/f/concurrency").body, "{}");
}

TEST_F(LambdaApiTest, ConcurrencyOutsideTheModelIsRefusedBeforeTheTracker) {
  EXPECT_EQ(ErrorType(Send("PUT", "/2017-10-31/functions/f/concurrency", "{}")), kValidation);
  EXPECT_EQ(ErrorType(Send("PUT", "/2017-10-31/functions/f/concurrency",
                           R"({"ReservedConcurrentExecutions":-1})")),
            kValidation);
  EXPECT_EQ(ErrorType(Send("PUT", "/2017-10-31/functions/f/concurrency",
                           R"({"ReservedConcurrentExecutions":4294967296})")),
            kInvalidParameterValue);
  EXPECT_EQ(ErrorType(Send("GET", "/2019-09-30/functions/a%20b/concurrency")), kValidation);
  EXPECT_EQ(tracker_.asked().calls, 0);
}

// --- Routes ----------------------------------------------------------------------------------

TEST_F(LambdaApiTest, UnknownRoutesAre404AndFunctionsAsCodePointToTribctl) {
  HttpResponse unknown = Send("GET", "/2015-03-31/layers");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(ErrorType(unknown), kUnknownOperation);
  EXPECT_EQ(Send("PATCH", "/2015-03-31/event-source-mappings/u").status, 404);

  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "/2015-03-31/functions"},
           {"PUT", "/2015-03-31/functions/f/configuration"},
           {"DELETE", "/2015-03-31/functions/f"}}) {
    HttpResponse r = Send(method, target, "{}");
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_THAT(ErrorMessage(r), HasSubstr("tribctl functions")) << target;
  }
  EXPECT_EQ(tracker_.asked().calls, 0);
}

TEST(LambdaApiWithoutTrackerTest, EveryRouteAnswers501NamingTheFlag) {
  LambdaApi api(nullptr, kOptions);
  HttpRequest r;
  r.method = "GET";
  r.target = "/2015-03-31/functions/";
  HttpResponse response = api.Handle(r, "");
  EXPECT_EQ(response.status, 501);
  EXPECT_THAT(response.body, HasSubstr("--stream_tracker"));
  EXPECT_EQ(response.headers.size(), 2u);
}

// --- DynamoDB table streams as event sources (issue 18) -------------------------------------

constexpr char kTableStreamArn[] =
    "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2023-11-14T22:13:20.123";

// The DynamoDB Streams API's side: one table stream, held by store stream "_tables.1.x".
class FakeTableStreamArns : public TableStreamArns {
 public:
  std::optional<absl::StatusOr<std::string>> StreamOfArn(absl::string_view arn) override {
    if (!absl::StartsWith(arn, "arn:aws:dynamodb:eu-west-1:123456789012:table/")) {
      return std::nullopt;
    }
    if (arn != kTableStreamArn) return absl::StatusOr<std::string>(absl::NotFoundError("gone"));
    return absl::StatusOr<std::string>("_tables.1.x");
  }
  std::optional<std::string> ArnOfStream(absl::string_view stream_name) override {
    if (stream_name == "_tables.1.x") return std::string(kTableStreamArn);
    return std::nullopt;
  }
};

class LambdaTableStreamTest : public LambdaApiTest {
 protected:
  void SetUp() override {  // LambdaApiTest's, with table streams
    auto server = GrpcServer::Start("127.0.0.1:0", {&mappings_service_, &functions_service_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<stream_tracker::StreamTrackerClient>(server_->InProcessChannel());
    LambdaApiOptions options = kOptions;
    options.table_streams = &table_streams_;
    api_ = std::make_unique<LambdaApi>(client_.get(), options);
    router_.AddRestApi(api_.get());
    v1::EventSourceMappingConfiguration m = Mapping();
    m.set_stream_name("_tables.1.x");
    tracker_.SetMapping(m);
  }
  static std::string CreateOn(const std::string& arn, const std::string& position) {
    return absl::StrCat(R"({"FunctionName":"f","EventSourceArn":")", arn,
                        R"(","StartingPosition":")", position, R"("})");
  }
  FakeTableStreamArns table_streams_;
};

TEST_F(LambdaTableStreamTest, AMappingOnATableStreamNamesItsStoreStreamAndShowsItsDynamoDbArn) {
  HttpResponse r = Send("POST", "/2015-03-31/event-source-mappings/",
                        CreateOn(kTableStreamArn, "TRIM_HORIZON"));
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(tracker_.asked().create.stream_name(), "_tables.1.x");
  EXPECT_EQ(BodyOf(r).Find("EventSourceArn")->string_value(), kTableStreamArn);
  // Kinesis streams are unaffected.
  ASSERT_EQ(Send("POST", "/2015-03-31/event-source-mappings/", CreateBody()).status, 202);
  EXPECT_EQ(tracker_.asked().create.stream_name(), "orders");
}

TEST_F(LambdaTableStreamTest, AnUnknownTableStreamOrAtTimestampIsInvalidParameterValue) {
  HttpResponse r = Send(
      "POST", "/2015-03-31/event-source-mappings/",
      CreateOn("arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2020-01-01T00:00:00.000",
               "LATEST"));
  EXPECT_EQ(ErrorType(r), "InvalidParameterValueException") << r.body;
  r = Send("POST", "/2015-03-31/event-source-mappings/",
           absl::StrCat(R"({"FunctionName":"f","EventSourceArn":")", kTableStreamArn,
                        R"(","StartingPosition":"AT_TIMESTAMP","StartingPositionTimestamp":1})"));
  EXPECT_EQ(ErrorType(r), "InvalidParameterValueException") << r.body;
  EXPECT_THAT(ErrorMessage(r), HasSubstr("AT_TIMESTAMP"));
  EXPECT_EQ(tracker_.asked().calls, 0);
}

// Lambda's DynamoDB filtering is supported on table streams (the pollers match the DynamoDB
// record's JSON, mapping/record_filter.h): the criteria reach the tracker.
TEST_F(LambdaTableStreamTest, FilterCriteriaOnATableStreamArePassedOn) {
  HttpResponse r = Send(
      "POST", "/2015-03-31/event-source-mappings/",
      absl::StrCat(R"({"FunctionName":"f","EventSourceArn":")", kTableStreamArn,
                   R"(","StartingPosition":"LATEST",)",
                   R"("FilterCriteria":{"Filters":[{"Pattern":"{\"eventName\":[\"INSERT\"]}"}]}})"));
  ASSERT_EQ(r.status, 202) << r.body;
  ASSERT_EQ(tracker_.asked().create.filter_criteria().filters_size(), 1);
  EXPECT_EQ(tracker_.asked().create.filter_criteria().filters(0).pattern(),
            R"({"eventName":["INSERT"]})");
}

TEST_F(LambdaTableStreamTest, ListingByATableStreamArnAsksForItsStoreStream) {
  v1::ListEventSourceMappingsResponse listed;
  v1::EventSourceMappingConfiguration m = Mapping();
  m.set_stream_name("_tables.1.x");
  *listed.add_event_source_mappings() = m;
  tracker_.SetMappingList(listed);
  HttpResponse r = Send("GET", absl::StrCat("/2015-03-31/event-source-mappings/?EventSourceArn=",
                                            kTableStreamArn));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(tracker_.asked().list.stream_name(), "_tables.1.x");
  EXPECT_EQ(BodyOf(r).Find("EventSourceMappings")->list().at(0).Find("EventSourceArn")
                ->string_value(),
            kTableStreamArn);
  const int calls = tracker_.asked().calls;
  r = Send("GET",
           "/2015-03-31/event-source-mappings/?EventSourceArn=arn:aws:dynamodb:eu-west-1:"
           "123456789012:table/orders/stream/2020-01-01T00:00:00.000");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(BodyOf(r).Find("EventSourceMappings")->list().empty());
  EXPECT_EQ(tracker_.asked().calls, calls);  // nothing to ask: no such stream
}

}  // namespace
}  // namespace tributary::aws
