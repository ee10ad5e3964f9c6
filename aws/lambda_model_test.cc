// Lambda's model pieces: the patterns decide as the model's regular expressions do, ARNs are
// this endpoint's, and the tracker's messages become Lambda's shapes member by member.
#include "aws/lambda_model.h"

#include <string>

#include "absl/time/time.h"
#include "aws/json_codec.h"
#include "common/proto_util.h"
#include "gtest/gtest.h"

namespace tributary::aws {
namespace {

const LambdaApiOptions kOptions{"eu-west-1", "123456789012"};

TEST(LambdaModelTest, ArnPatternAsTheModelWritesIt) {
  for (const char* arn :
       {"arn:aws:kinesis:us-east-1:000000000000:stream/orders",
        "arn:aws-cn:kinesis:cn-north-1:000000000000:stream/x",
        "arn:aws-us-gov:kinesis:us-gov-west-1:000000000000:stream/x",
        "arn:aws:sqs:us-east-1:000000000000:queue", "arn:aws:kafka:::cluster/a:b/c",
        "arn:aws:s3:::bucket", "arn:aws:kinesis:us-east-1:000000000000:"}) {
    EXPECT_TRUE(MatchesArn(arn)) << arn;
  }
  for (const char* arn :
       {"", "orders", "arn:aws:kinesis", "arn:aws:kinesis:us-east-1:000000000000",
        "arn:gcp:kinesis:us-east-1:000000000000:stream/x",
        "arn:aws:kinesis:useast1:000000000000:stream/x", "arn:aws:kinesis:us-east-1:0000:stream/x",
        "arn:aws::us-east-1:000000000000:stream/x",
        "arn:aws:kin_esis:us-east-1:000000000000:stream/x",
        "arn:aws:kinesis:us-east-1:000000000000:stream/x\ny"}) {
    EXPECT_FALSE(MatchesArn(arn)) << arn;
  }
}

TEST(LambdaModelTest, FunctionNamePatternTakesNamesPartialArnsArnsAndQualifiers) {
  for (const char* name :
       {"f", "my-function_1", "function", "123456789012", "123456789012:function:f",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
        "arn:aws:lambda:us-east-1:123456789012:function:f:prod", "f:1",
        "us-east-1:123456789012:function:f", "arn::lambda:f"}) {
    EXPECT_TRUE(MatchesFunctionName(name)) << name;
  }
  for (const char* name :
       {"", "a b", "f:", "f:1:2", "arn:aws:kinesis:us-east-1:1:function:f",
        "arn:aws:lambda:us-east-1:123456789012:function:f.g", "f.g", ":f", "f:$latest"}) {
    EXPECT_FALSE(MatchesFunctionName(name)) << name;
  }
  EXPECT_TRUE(MatchesFunctionName("f.g", /*namespaced=*/true)) << "GetFunction allows dots";
  EXPECT_TRUE(MatchesFunctionName("arn:aws:lambda:us-east-1:123456789012:function:f.g:1",
                                  /*namespaced=*/true));
}

TEST(LambdaModelTest, ArnsAreTheEndpointsRegionAndAccount) {
  EXPECT_EQ(KinesisStreamArn(kOptions, "orders"),
            "arn:aws:kinesis:eu-west-1:123456789012:stream/orders");
  EXPECT_EQ(LambdaFunctionArn(kOptions, "f"), "arn:aws:lambda:eu-west-1:123456789012:function:f");
}

TEST(LambdaModelTest, StreamOfArnNamesTheStreamOfThisEndpointOnly) {
  absl::StatusOr<std::string> stream = StreamOfArn(
      kOptions, "EventSourceArn", "arn:aws:kinesis:eu-west-1:123456789012:stream/orders.v2");
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ(*stream, "orders.v2");

  for (const char* elsewhere : {"arn:aws:kinesis:us-east-1:123456789012:stream/orders",
                                "arn:aws:kinesis:eu-west-1:000000000000:stream/orders",
                                "arn:aws-cn:kinesis:eu-west-1:123456789012:stream/orders"}) {
    absl::StatusOr<std::string> s = StreamOfArn(kOptions, "EventSourceArn", elsewhere);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound) << elsewhere;
    EXPECT_NE(s.status().message().find("EventSourceArn"), absl::string_view::npos);
  }
  for (const char* other :
       {"arn:aws:sqs:eu-west-1:123456789012:orders",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2024-01-01T00:00:00.000",
        "arn:aws:kinesis:eu-west-1:123456789012:stream/orders/consumer/c:1",
        "arn:aws:kinesis:eu-west-1:123456789012:stream/", "orders"}) {
    EXPECT_EQ(StreamOfArn(kOptions, "EventSourceArn", other).status().code(),
              absl::StatusCode::kInvalidArgument)
        << other;
  }
}

TEST(LambdaModelTest, StartingPositionsAndStatesHaveLambdasNames) {
  for (auto p : {v1::TRIM_HORIZON_POSITION, v1::LATEST_POSITION, v1::AT_TIMESTAMP_POSITION}) {
    EXPECT_EQ(StartingPositionOf(StartingPositionName(p)), p);
  }
  EXPECT_EQ(StartingPositionOf("trim_horizon"), v1::EVENT_SOURCE_POSITION_UNSPECIFIED);
  EXPECT_EQ(StateName(v1::CREATING_MAPPING), "Creating");
  EXPECT_EQ(StateName(v1::ENABLING), "Enabling");
  EXPECT_EQ(StateName(v1::ENABLED), "Enabled");
  EXPECT_EQ(StateName(v1::DISABLING), "Disabling");
  EXPECT_EQ(StateName(v1::DISABLED), "Disabled");
  EXPECT_EQ(StateName(v1::UPDATING_MAPPING), "Updating");
  EXPECT_EQ(StateName(v1::DELETING_MAPPING), "Deleting");
}

TEST(LambdaModelTest, AMappingIsWrittenAsLambdasEventSourceMappingConfiguration) {
  v1::EventSourceMappingConfiguration m;
  m.set_uuid("u-1");
  m.set_stream_name("orders");
  m.set_function_name("f");
  m.set_function_endpoint("10.0.0.1:9000");  // not Lambda's: not written
  m.set_batch_size(50);
  m.set_maximum_batching_window_in_seconds(2);
  m.set_parallelization_factor(3);
  m.set_starting_position(v1::AT_TIMESTAMP_POSITION);
  *m.mutable_starting_position_timestamp() = ToProtoTimestamp(absl::FromUnixMillis(1700000000500));
  m.mutable_destination_config()->mutable_on_failure()->set_destination("dlq");
  m.set_maximum_record_age_in_seconds(3600);
  m.set_bisect_batch_on_function_error(true);
  m.set_maximum_retry_attempts(4);
  m.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  m.set_state(v1::DISABLING);
  m.set_state_transition_reason("User action");
  *m.mutable_last_modified() = ToProtoTimestamp(absl::FromUnixSeconds(1700000100));
  m.set_last_processing_result("OK");
  m.mutable_filter_criteria()->add_filters()->set_pattern(R"({"data":{"a":[1]}})");
  m.set_tumbling_window_in_seconds(60);
  m.set_config_version(7);  // not Lambda's: not written

  EXPECT_EQ(WriteJson(EventSourceMappingShape(m, kOptions)),
            R"({"UUID":"u-1","StartingPosition":"AT_TIMESTAMP",)"
            R"("StartingPositionTimestamp":1700000000.5,"BatchSize":50,)"
            R"("MaximumBatchingWindowInSeconds":2,"ParallelizationFactor":3,)"
            R"("EventSourceArn":"arn:aws:kinesis:eu-west-1:123456789012:stream/orders",)"
            R"("FilterCriteria":{"Filters":[{"Pattern":"{\"data\":{\"a\":[1]}}"}]},)"
            R"("FunctionArn":"arn:aws:lambda:eu-west-1:123456789012:function:f",)"
            R"("LastModified":1700000100.0,"LastProcessingResult":"OK","State":"Disabling",)"
            R"("StateTransitionReason":"User action","DestinationConfig":{"OnFailure":)"
            R"({"Destination":"arn:aws:kinesis:eu-west-1:123456789012:stream/dlq"}},)"
            R"("MaximumRecordAgeInSeconds":3600,"BisectBatchOnFunctionError":true,)"
            R"("MaximumRetryAttempts":4,"TumblingWindowInSeconds":60,)"
            R"("FunctionResponseTypes":["ReportBatchItemFailures"]})");
}

TEST(LambdaModelTest, AnOnSuccessDestinationIsShownAfterOnFailureOnlyWhenSet) {
  v1::EventSourceMappingConfiguration m;
  m.set_uuid("u-3");
  m.set_stream_name("orders");
  m.mutable_destination_config()->mutable_on_success()->set_destination("delivered");
  EXPECT_EQ(WriteJson(*EventSourceMappingShape(m, kOptions).Find("DestinationConfig")),
            R"({"OnFailure":{},"OnSuccess":{"Destination":)"
            R"("arn:aws:kinesis:eu-west-1:123456789012:stream/delivered"}})");
}

TEST(LambdaModelTest, AMappingByEndpointHasNoFunctionArnAndAnEmptyOnFailure) {
  v1::EventSourceMappingConfiguration m;
  m.set_uuid("u-2");
  m.set_stream_name("orders");
  m.set_function_endpoint("10.0.0.1:9000");
  m.set_starting_position(v1::LATEST_POSITION);
  const Value shape = EventSourceMappingShape(m, kOptions);
  EXPECT_EQ(shape.Find("FunctionArn"), nullptr);
  EXPECT_EQ(shape.Find("StartingPositionTimestamp"), nullptr);
  EXPECT_EQ(shape.Find("FilterCriteria"), nullptr);
  EXPECT_EQ(WriteJson(*shape.Find("DestinationConfig")), R"({"OnFailure":{}})");
  EXPECT_EQ(shape.Find("StartingPosition")->string_value(), "LATEST");
}

TEST(LambdaModelTest, AFunctionIsWrittenAsLambdasFunctionConfiguration) {
  v1::FunctionConfiguration f;
  f.set_function_name("f");
  f.set_function_arn("arn:aws:lambda:eu-west-1:123456789012:function:f");
  f.set_endpoint("http://10.0.0.1:9000/");
  f.set_timeout_seconds(30);
  f.set_reserved_concurrent_executions(4);  // GetFunction's Concurrency, not here
  *f.mutable_last_modified() = ToProtoTimestamp(absl::FromUnixMillis(1704164645678));
  EXPECT_EQ(WriteJson(FunctionConfigurationShape(f)),
            R"({"FunctionName":"f","FunctionArn":"arn:aws:lambda:eu-west-1:123456789012:)"
            R"(function:f","Timeout":30,"CodeSize":0,)"
            R"("LastModified":"2024-01-02T03:04:05.678+0000","Version":"$LATEST",)"
            R"("State":"Active","LastUpdateStatus":"Successful"})");
}

TEST(LambdaModelTest, ConcurrencyIsEmptyWhenNoneIsReserved) {
  v1::FunctionConcurrency none;
  EXPECT_EQ(WriteJson(ConcurrencyShape(none)), "{}");
  v1::FunctionConcurrency zero;
  zero.set_reserved_concurrent_executions(0);
  EXPECT_EQ(WriteJson(ConcurrencyShape(zero)), R"({"ReservedConcurrentExecutions":0})");
}

}  // namespace
}  // namespace tributary::aws
