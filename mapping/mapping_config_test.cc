#include "mapping/mapping_config.h"

#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace tributary::mapping {
namespace {

v1::CreateEventSourceMappingRequest ValidCreate() {
  v1::CreateEventSourceMappingRequest request;
  request.set_stream_name("orders");
  request.set_function_endpoint("127.0.0.1:9000");
  request.set_starting_position(v1::TRIM_HORIZON_POSITION);
  return request;
}

// One row of the validation table: a change to a valid request, and the field the error must
// name (empty: the request is valid).
struct CreateCase {
  std::string name;
  std::function<void(v1::CreateEventSourceMappingRequest*)> change;
  std::string field;
};

class CreateValidationTest : public ::testing::TestWithParam<CreateCase> {};

TEST_P(CreateValidationTest, AcceptsOrRejectsNamingTheField) {
  v1::CreateEventSourceMappingRequest request = ValidCreate();
  GetParam().change(&request);
  absl::StatusOr<v1::EventSourceMappingConfiguration> config = ConfigFromCreateRequest(request);
  if (GetParam().field.empty()) {
    EXPECT_TRUE(config.ok()) << config.status();
  } else {
    ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
    EXPECT_NE(config.status().message().find(GetParam().field), absl::string_view::npos)
        << config.status();
  }
}

using R = v1::CreateEventSourceMappingRequest;
INSTANTIATE_TEST_SUITE_P(
    Table, CreateValidationTest,
    ::testing::Values(
        CreateCase{"Valid", [](R*) {}, ""},
        CreateCase{"BatchSizeZero", [](R* r) { r->set_batch_size(0); }, "batch_size must be between 1 and 10000"},
        CreateCase{"BatchSizeOne", [](R* r) { r->set_batch_size(1); }, ""},
        CreateCase{"BatchSize10000", [](R* r) { r->set_batch_size(10000); }, ""},
        CreateCase{"BatchSize10001", [](R* r) { r->set_batch_size(10001); }, "batch_size must be between 1 and 10000"},
        CreateCase{"WindowNegative", [](R* r) { r->set_maximum_batching_window_in_seconds(-1); }, "maximum_batching_window_in_seconds must be between 0 and 300"},
        CreateCase{"Window300", [](R* r) { r->set_maximum_batching_window_in_seconds(300); }, ""},
        CreateCase{"Window301", [](R* r) { r->set_maximum_batching_window_in_seconds(301); }, "maximum_batching_window_in_seconds must be between 0 and 300"},
        CreateCase{"ParallelizationZero", [](R* r) { r->set_parallelization_factor(0); }, "parallelization_factor must be between 1 and 10"},
        CreateCase{"Parallelization10", [](R* r) { r->set_parallelization_factor(10); }, ""},
        CreateCase{"Parallelization11", [](R* r) { r->set_parallelization_factor(11); }, "parallelization_factor must be between 1 and 10"},
        CreateCase{"RecordAgeMinusOne", [](R* r) { r->set_maximum_record_age_in_seconds(-1); }, ""},
        CreateCase{"RecordAgeZero", [](R* r) { r->set_maximum_record_age_in_seconds(0); }, "maximum_record_age_in_seconds must be -1 (no limit) or between 60 and 604800"},
        CreateCase{"RecordAge59", [](R* r) { r->set_maximum_record_age_in_seconds(59); }, "maximum_record_age_in_seconds"},
        CreateCase{"RecordAge60", [](R* r) { r->set_maximum_record_age_in_seconds(60); }, ""},
        CreateCase{"RecordAge604800", [](R* r) { r->set_maximum_record_age_in_seconds(604800); }, ""},
        CreateCase{"RecordAge604801", [](R* r) { r->set_maximum_record_age_in_seconds(604801); }, "maximum_record_age_in_seconds"},
        CreateCase{"RetriesMinusTwo", [](R* r) { r->set_maximum_retry_attempts(-2); }, "maximum_retry_attempts must be -1 (no limit) or between 0 and 10000"},
        CreateCase{"RetriesZero", [](R* r) { r->set_maximum_retry_attempts(0); }, ""},
        CreateCase{"Retries10000", [](R* r) { r->set_maximum_retry_attempts(10000); }, ""},
        CreateCase{"Retries10001", [](R* r) { r->set_maximum_retry_attempts(10001); }, "maximum_retry_attempts"},
        CreateCase{"TimeoutZero", [](R* r) { r->set_function_timeout_seconds(0); }, "function_timeout_seconds must be between 1 and 900"},
        CreateCase{"Timeout900", [](R* r) { r->set_function_timeout_seconds(900); }, ""},
        CreateCase{"Timeout901", [](R* r) { r->set_function_timeout_seconds(901); }, "function_timeout_seconds must be between 1 and 900"},
        CreateCase{"TumblingWindowNegative", [](R* r) { r->set_tumbling_window_in_seconds(-1); }, "tumbling_window_in_seconds must be between 0 and 900"},
        CreateCase{"TumblingWindowZero", [](R* r) { r->set_tumbling_window_in_seconds(0); }, ""},
        CreateCase{"TumblingWindow900", [](R* r) { r->set_tumbling_window_in_seconds(900); }, ""},
        CreateCase{"TumblingWindow901", [](R* r) { r->set_tumbling_window_in_seconds(901); }, "tumbling_window_in_seconds must be between 0 and 900"},
        CreateCase{"MaxParkedKeysZero", [](R* r) { r->set_max_parked_keys(0); }, "max_parked_keys must be between 1 and 10000"},
        CreateCase{"MaxParkedKeysOne", [](R* r) { r->set_max_parked_keys(1); }, ""},
        CreateCase{"MaxParkedKeys10000", [](R* r) { r->set_max_parked_keys(10000); }, ""},
        CreateCase{"MaxParkedKeys10001", [](R* r) { r->set_max_parked_keys(10001); }, "max_parked_keys must be between 1 and 10000"},
        CreateCase{"NoStream", [](R* r) { r->clear_stream_name(); }, "stream_name is required"},
        CreateCase{"BadStreamName", [](R* r) { r->set_stream_name("bad name"); }, "stream_name may only hold"},
        CreateCase{"LongStreamName", [](R* r) { r->set_stream_name(std::string(129, 'a')); }, "stream_name must be 1 to 128"},
        CreateCase{"NoEndpoint", [](R* r) { r->clear_function_endpoint(); }, "function_endpoint is required"},
        CreateCase{"EndpointWithoutPort", [](R* r) { r->set_function_endpoint("localhost"); }, "function_endpoint must be \"host:port\""},
        CreateCase{"EndpointPortZero", [](R* r) { r->set_function_endpoint("localhost:0"); }, "function_endpoint"},
        CreateCase{"EndpointPortTooBig", [](R* r) { r->set_function_endpoint("localhost:65536"); }, "function_endpoint"},
        CreateCase{"EndpointNoHost", [](R* r) { r->set_function_endpoint(":80"); }, "function_endpoint"},
        CreateCase{"EndpointIpv6", [](R* r) { r->set_function_endpoint("[::1]:9000"); }, ""},
        CreateCase{"EndpointLambdaHttp", [](R* r) { r->set_function_endpoint("http://127.0.0.1:9000/2015-03-31/functions/function/invocations"); }, ""},
        CreateCase{"EndpointHttpPortZero", [](R* r) { r->set_function_endpoint("http://127.0.0.1:0/"); }, "function_endpoint must be"},
        CreateCase{"FunctionNameInsteadOfEndpoint", [](R* r) { r->clear_function_endpoint(); r->set_function_name("f"); }, ""},
        CreateCase{"FunctionNameAndEndpoint", [](R* r) { r->set_function_name("f"); }, "function_endpoint and function_name: give exactly one"},
        CreateCase{"FunctionNameWithTimeout", [](R* r) { r->clear_function_endpoint(); r->set_function_name("f"); r->set_function_timeout_seconds(5); }, "function_timeout_seconds cannot be set with function_name"},
        CreateCase{"NoStartingPosition", [](R* r) { r->clear_starting_position(); }, "starting_position is required"},
        CreateCase{"UnknownStartingPosition", [](R* r) { r->set_starting_position(static_cast<v1::EventSourcePosition>(9)); }, "starting_position must be"},
        CreateCase{"AtTimestampWithoutTimestamp", [](R* r) { r->set_starting_position(v1::AT_TIMESTAMP_POSITION); }, "starting_position_timestamp is required"},
        CreateCase{"AtTimestampWithTimestamp", [](R* r) { r->set_starting_position(v1::AT_TIMESTAMP_POSITION); r->mutable_starting_position_timestamp()->set_seconds(1); }, ""},
        CreateCase{"AtTimestampBadNanos", [](R* r) { r->set_starting_position(v1::AT_TIMESTAMP_POSITION); r->mutable_starting_position_timestamp()->set_nanos(-1); }, "starting_position_timestamp must be a valid time"},
        CreateCase{"TimestampWithLatest", [](R* r) { r->set_starting_position(v1::LATEST_POSITION); r->mutable_starting_position_timestamp()->set_seconds(1); }, "starting_position_timestamp may only be set"},
        CreateCase{"BadDestination", [](R* r) { r->mutable_destination_config()->mutable_on_failure()->set_destination("no/slashes"); }, "destination_config.on_failure.destination"},
        CreateCase{"IncludeRecordsWithoutDestination", [](R* r) { r->mutable_destination_config()->mutable_on_failure()->set_include_records(true); }, "destination_config.on_failure.include_records"},
        CreateCase{"BadOnSuccessDestination", [](R* r) { r->mutable_destination_config()->mutable_on_success()->set_destination("no/slashes"); }, "destination_config.on_success.destination"},
        CreateCase{"UnspecifiedResponseType", [](R* r) { r->add_function_response_types(v1::FUNCTION_RESPONSE_TYPE_UNSPECIFIED); }, "function_response_types"}),
    [](const ::testing::TestParamInfo<CreateCase>& info) { return info.param.name; });

TEST(MappingConfigTest, UnsetOptionalFieldsGetLambdaDefaults) {
  absl::StatusOr<v1::EventSourceMappingConfiguration> config =
      ConfigFromCreateRequest(ValidCreate());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->batch_size(), 100);
  EXPECT_EQ(config->maximum_batching_window_in_seconds(), 0);
  EXPECT_EQ(config->parallelization_factor(), 1);
  EXPECT_EQ(config->maximum_record_age_in_seconds(), -1);
  EXPECT_EQ(config->maximum_retry_attempts(), -1);
  EXPECT_FALSE(config->bisect_batch_on_function_error());
  EXPECT_TRUE(config->enabled());
  EXPECT_EQ(config->function_timeout_seconds(), 30);
  EXPECT_EQ(config->tumbling_window_in_seconds(), 0);
  EXPECT_FALSE(config->has_destination_config());
  EXPECT_EQ(config->function_response_types_size(), 0);
  EXPECT_EQ(config->event_source_arn(), "") << "the tracker's to fill in, with its account";
  EXPECT_EQ(config->stream_name(), "orders");
  EXPECT_EQ(config->function_endpoint(), "127.0.0.1:9000");
  EXPECT_EQ(config->starting_position(), v1::TRIM_HORIZON_POSITION);
}

TEST(MappingConfigTest, SetFieldsAreCopiedAndResponseTypesDeduplicated) {
  v1::CreateEventSourceMappingRequest request = ValidCreate();
  request.set_enabled(false);
  request.set_batch_size(7);
  request.set_maximum_batching_window_in_seconds(5);
  request.set_parallelization_factor(4);
  request.set_maximum_record_age_in_seconds(120);
  request.set_maximum_retry_attempts(0);
  request.set_bisect_batch_on_function_error(true);
  request.set_function_timeout_seconds(3);
  request.mutable_destination_config()->mutable_on_failure()->set_destination("dlq");
  request.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  request.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  absl::StatusOr<v1::EventSourceMappingConfiguration> config = ConfigFromCreateRequest(request);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->enabled());
  EXPECT_EQ(config->batch_size(), 7);
  EXPECT_EQ(config->maximum_batching_window_in_seconds(), 5);
  EXPECT_EQ(config->parallelization_factor(), 4);
  EXPECT_EQ(config->maximum_record_age_in_seconds(), 120);
  EXPECT_EQ(config->maximum_retry_attempts(), 0);
  EXPECT_TRUE(config->bisect_batch_on_function_error());
  EXPECT_EQ(config->function_timeout_seconds(), 3);
  EXPECT_EQ(config->destination_config().on_failure().destination(), "dlq");
  ASSERT_EQ(config->function_response_types_size(), 1);
  EXPECT_EQ(config->function_response_types(0), v1::REPORT_BATCH_ITEM_FAILURES);
}

TEST(MappingConfigTest, UpdateAppliesOnlySetFields) {
  v1::EventSourceMappingConfiguration config = *ConfigFromCreateRequest(ValidCreate());
  v1::UpdateEventSourceMappingRequest update;
  update.set_batch_size(500);
  update.set_function_endpoint("fn.local:8080");
  ASSERT_TRUE(ApplyUpdateRequest(update, &config).ok());
  EXPECT_EQ(config.batch_size(), 500);
  EXPECT_EQ(config.function_endpoint(), "fn.local:8080");
  EXPECT_EQ(config.parallelization_factor(), 1);
  EXPECT_EQ(config.function_timeout_seconds(), 30);
}

// A mapping may name a registered function instead of an endpoint; the tracker resolves the
// name (stream_tracker/function_registry.h), so the configuration only carries it.

v1::EventSourceMappingConfiguration FollowingFunction(const std::string& name) {
  v1::CreateEventSourceMappingRequest create = ValidCreate();
  create.clear_function_endpoint();
  create.set_function_name(name);
  absl::StatusOr<v1::EventSourceMappingConfiguration> config = ConfigFromCreateRequest(create);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : v1::EventSourceMappingConfiguration();
}

TEST(MappingConfigFunctionNameTest, CreateKeepsTheNameAndLeavesEndpointAndTimeoutToTheTracker) {
  v1::EventSourceMappingConfiguration config = FollowingFunction("orders-fn");
  EXPECT_EQ(config.function_name(), "orders-fn");
  EXPECT_EQ(config.function_endpoint(), "");
  EXPECT_EQ(config.function_timeout_seconds(), 0);
}

TEST(MappingConfigFunctionNameTest, UpdateWithAnEndpointStopsFollowingTheFunction) {
  v1::EventSourceMappingConfiguration config = FollowingFunction("f");
  v1::UpdateEventSourceMappingRequest update;
  update.set_function_endpoint("fn.local:8080");
  update.set_function_timeout_seconds(12);  // allowed with an endpoint
  ASSERT_TRUE(ApplyUpdateRequest(update, &config).ok());
  EXPECT_EQ(config.function_endpoint(), "fn.local:8080");
  EXPECT_EQ(config.function_name(), "");
  EXPECT_EQ(config.function_timeout_seconds(), 12);
}

TEST(MappingConfigFunctionNameTest, UpdateWithEndpointAndNameIsRejected) {
  v1::EventSourceMappingConfiguration config = *ConfigFromCreateRequest(ValidCreate());
  v1::UpdateEventSourceMappingRequest update;
  update.set_function_endpoint("fn.local:8080");
  update.set_function_name("f");
  absl::Status status = ApplyUpdateRequest(update, &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("function_endpoint and function_name"), absl::string_view::npos)
      << status;
  EXPECT_EQ(config.function_endpoint(), "127.0.0.1:9000");
}

TEST(MappingConfigFunctionNameTest, UpdateWithAnEmptyNameIsRejected) {
  v1::EventSourceMappingConfiguration config = *ConfigFromCreateRequest(ValidCreate());
  v1::UpdateEventSourceMappingRequest update;
  update.set_function_name("");
  absl::Status status = ApplyUpdateRequest(update, &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("function_name"), absl::string_view::npos) << status;
}

TEST(MappingConfigFunctionNameTest, TimeoutCannotBeSetWhileTheMappingFollowsAFunction) {
  v1::EventSourceMappingConfiguration following = FollowingFunction("f");
  v1::UpdateEventSourceMappingRequest update;
  update.set_function_timeout_seconds(10);
  absl::Status status = ApplyUpdateRequest(update, &following);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("function_timeout_seconds cannot be set on a mapping that "
                                  "follows function f"),
            absl::string_view::npos)
      << status;
  EXPECT_EQ(following.function_timeout_seconds(), 0) << "unchanged";

  v1::EventSourceMappingConfiguration by_endpoint = *ConfigFromCreateRequest(ValidCreate());
  update.set_function_name("g");  // switching to a function: its timeout applies
  status = ApplyUpdateRequest(update, &by_endpoint);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("function_timeout_seconds cannot be set with function_name"),
            absl::string_view::npos)
      << status;
}

TEST(MappingConfigTest, IsolateFailingKeysIsOffByDefaultAndSetByCreateAndUpdate) {
  v1::EventSourceMappingConfiguration config = *ConfigFromCreateRequest(ValidCreate());
  EXPECT_FALSE(config.isolate_failing_keys());
  EXPECT_EQ(EffectiveMaxParkedKeys(config), 100);

  v1::CreateEventSourceMappingRequest create = ValidCreate();
  create.set_isolate_failing_keys(true);
  create.set_max_parked_keys(7);
  config = *ConfigFromCreateRequest(create);
  EXPECT_TRUE(config.isolate_failing_keys());
  EXPECT_EQ(EffectiveMaxParkedKeys(config), 7);

  v1::UpdateEventSourceMappingRequest update;
  update.set_batch_size(10);  // an update that names neither keeps both
  ASSERT_TRUE(ApplyUpdateRequest(update, &config).ok());
  EXPECT_TRUE(config.isolate_failing_keys());
  EXPECT_EQ(config.max_parked_keys(), 7);

  update.set_max_parked_keys(0);
  EXPECT_EQ(ApplyUpdateRequest(update, &config).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.max_parked_keys(), 7);

  update.set_max_parked_keys(250);
  update.set_isolate_failing_keys(false);
  ASSERT_TRUE(ApplyUpdateRequest(update, &config).ok());
  EXPECT_FALSE(config.isolate_failing_keys());
  EXPECT_EQ(EffectiveMaxParkedKeys(config), 250);
}

TEST(MappingConfigTest, TumblingWindowIsKeptSetByUpdateAndTurnedOffWithZero) {
  v1::CreateEventSourceMappingRequest create = ValidCreate();
  create.set_tumbling_window_in_seconds(60);
  v1::EventSourceMappingConfiguration config = *ConfigFromCreateRequest(create);
  EXPECT_EQ(config.tumbling_window_in_seconds(), 60);

  v1::UpdateEventSourceMappingRequest update;
  update.set_batch_size(10);  // an update that does not name the window keeps it
  ASSERT_TRUE(ApplyUpdateRequest(update, &config).ok());
  EXPECT_EQ(config.tumbling_window_in_seconds(), 60);

  update.set_tumbling_window_in_seconds(901);
  EXPECT_EQ(ApplyUpdateRequest(update, &config).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.tumbling_window_in_seconds(), 60);

  update.set_tumbling_window_in_seconds(300);
  ASSERT_TRUE(ApplyUpdateRequest(update, &config).ok());
  EXPECT_EQ(config.tumbling_window_in_seconds(), 300);
  update.set_tumbling_window_in_seconds(0);
  ASSERT_TRUE(ApplyUpdateRequest(update, &config).ok());
  EXPECT_EQ(config.tumbling_window_in_seconds(), 0);
}

TEST(MappingConfigTest, UpdateOutOfRangeIsRejectedAndChangesNothing) {
  v1::EventSourceMappingConfiguration config = *ConfigFromCreateRequest(ValidCreate());
  const v1::EventSourceMappingConfiguration before = config;
  v1::UpdateEventSourceMappingRequest update;
  update.set_batch_size(50);
  update.set_parallelization_factor(11);
  absl::Status status = ApplyUpdateRequest(update, &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("parallelization_factor must be between 1 and 10"),
            absl::string_view::npos);
  EXPECT_EQ(config.batch_size(), before.batch_size());
}

TEST(MappingConfigTest, UpdateWithEmptyDestinationClearsIt) {
  v1::CreateEventSourceMappingRequest create = ValidCreate();
  create.mutable_destination_config()->mutable_on_failure()->set_destination("dlq");
  v1::EventSourceMappingConfiguration config = *ConfigFromCreateRequest(create);
  v1::UpdateEventSourceMappingRequest update;
  update.mutable_destination_config();
  ASSERT_TRUE(ApplyUpdateRequest(update, &config).ok());
  EXPECT_FALSE(config.has_destination_config());
}

TEST(MappingConfigTest, ResponseTypesAreReplacedOnlyWithTheFlag) {
  v1::EventSourceMappingConfiguration config = *ConfigFromCreateRequest(ValidCreate());
  v1::UpdateEventSourceMappingRequest update;
  update.add_function_response_types(v1::REPORT_BATCH_ITEM_FAILURES);
  EXPECT_EQ(ApplyUpdateRequest(update, &config).code(), absl::StatusCode::kInvalidArgument);
  update.set_update_function_response_types(true);
  ASSERT_TRUE(ApplyUpdateRequest(update, &config).ok());
  EXPECT_EQ(config.function_response_types_size(), 1);
  update.clear_function_response_types();
  ASSERT_TRUE(ApplyUpdateRequest(update, &config).ok());
  EXPECT_EQ(config.function_response_types_size(), 0);
}

TEST(MappingConfigTest, ListMaxItemsIsChecked) {
  v1::ListEventSourceMappingsRequest request;
  EXPECT_TRUE(ValidateListRequest(request).ok());
  request.set_max_items(10001);
  absl::Status status = ValidateListRequest(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("max_items must be between 1 and 10000"),
            absl::string_view::npos);
  request.set_max_items(-1);
  EXPECT_EQ(ValidateListRequest(request).code(), absl::StatusCode::kInvalidArgument);
  request.set_max_items(10000);
  EXPECT_TRUE(ValidateListRequest(request).ok());
}

// Filtering (Lambda's FilterCriteria): the criteria are validated with the poller's compiler and
// stored in the configuration.

v1::FilterCriteria Criteria(std::initializer_list<std::string> patterns) {
  v1::FilterCriteria criteria;
  for (const std::string& p : patterns) criteria.add_filters()->set_pattern(p);
  return criteria;
}

TEST(MappingConfigFilterTest, CreateStoresTheCriteria) {
  v1::CreateEventSourceMappingRequest create = ValidCreate();
  *create.mutable_filter_criteria() =
      Criteria({R"({"data":{"type":["order"]}})", R"({"partitionKey":["vip"]})"});
  absl::StatusOr<v1::EventSourceMappingConfiguration> config = ConfigFromCreateRequest(create);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->filter_criteria().filters_size(), 2);
  EXPECT_EQ(config->filter_criteria().filters(0).pattern(), R"({"data":{"type":["order"]}})");
  EXPECT_EQ(config->filter_criteria().filters(1).pattern(), R"({"partitionKey":["vip"]})");
}

TEST(MappingConfigFilterTest, CreateWithoutFiltersHasNoCriteria) {
  absl::StatusOr<v1::EventSourceMappingConfiguration> config =
      ConfigFromCreateRequest(ValidCreate());
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->has_filter_criteria());
}

// Each kind of filter error, as Create reports it (INVALID_ARGUMENT naming the filter).
TEST(MappingConfigFilterTest, CreateRejectsBadCriteriaNamingTheFilter) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{R"({"a":["x"]})", R"({"a":["x"]})", R"({"a":["x"]})", R"({"a":["x"]})", R"({"a":["x"]})",
        R"({"a":["x"]})"},
       "filter_criteria.filters may hold at most 5 filters, got 6"},
      {{std::string(4097, ' ')},
       "filter_criteria.filters[0].pattern: must be at most 4096 bytes, got 4097"},
      {{R"({"a":["x"]})", R"({"a":)"}, "filter_criteria.filters[1].pattern: not valid JSON: "},
      {{R"("a")"}, "filter_criteria.filters[0].pattern: must be a JSON object, got a string"},
      {{"{}"}, "filter_criteria.filters[0].pattern: the pattern must name a field"},
      {{R"({"data":{}})"},
       "filter_criteria.filters[0].pattern: an object in a pattern must name a field (at data)"},
      {{R"({"a":5})"},
       "filter_criteria.filters[0].pattern: expected an object or a non-empty array of values or "
       "rules, got a number (at a)"},
      {{R"({"a":[]})"},
       "filter_criteria.filters[0].pattern: expected a non-empty array of values or rules, got [] "
       "(at a)"},
      {{R"({"a":[[1]]})"},
       "filter_criteria.filters[0].pattern: expected values or rule objects in the array, got an "
       "array (at a)"},
      {{R"({"a":[{}]})"},
       "filter_criteria.filters[0].pattern: a rule object must have exactly one key, got 0 (at a)"},
      {{R"({"a":[{"equals":1}]})"},
       "filter_criteria.filters[0].pattern: unknown rule \"equals\" (expected prefix, "
       "anything-but, numeric or exists) (at a)"},
      {{R"({"a":[{"prefix":["x"]}]})"},
       "filter_criteria.filters[0].pattern: prefix: expected a string, got an array (at a)"},
      {{R"({"a":[{"exists":1}]})"},
       "filter_criteria.filters[0].pattern: exists: expected true or false, got a number (at a)"},
      {{R"({"a":[{"anything-but":[]}]})"},
       "filter_criteria.filters[0].pattern: anything-but: expected a value, a non-empty array of "
       "values or {\"prefix\": <string>} (at a)"},
      {{R"({"a":[{"anything-but":[{"x":1}]}]})"},
       "filter_criteria.filters[0].pattern: anything-but: expected values in the array, got an "
       "object (at a)"},
      {{R"({"a":[{"anything-but":{"prefix":1}}]})"},
       "filter_criteria.filters[0].pattern: anything-but: an object argument must be "
       "{\"prefix\": <string>} (at a)"},
      {{R"({"a":[{"numeric":[">"]}]})"},
       "filter_criteria.filters[0].pattern: numeric: expected an array of an operator and a "
       "number, or of two operators each followed by a number (at a)"},
      {{R"({"a":[{"numeric":[">",0,"x",5]}]})"},
       "filter_criteria.filters[0].pattern: numeric: expected an operator (\"<\", \"<=\", \"=\", "
       "\">\", \">=\") at position 2 (at a)"},
      {{R"({"a":[{"numeric":[">",0,"<",true]}]})"},
       "filter_criteria.filters[0].pattern: numeric: expected a number at position 3 (at a)"},
      {{R"({"a":[{"numeric":["<",5,">",0]}]})"},
       "filter_criteria.filters[0].pattern: numeric: a range is a lower bound (\">\" or \">=\") "
       "followed by an upper bound (\"<\" or \"<=\") (at a)"},
      {{R"({"a":[{"numeric":[">",5,"<",0]}]})"},
       "filter_criteria.filters[0].pattern: numeric: the lower bound is above the upper bound (at "
       "a)"},
  };
  for (const auto& [patterns, message] : cases) {
    v1::CreateEventSourceMappingRequest create = ValidCreate();
    for (const std::string& p : patterns)
      create.mutable_filter_criteria()->add_filters()->set_pattern(p);
    absl::StatusOr<v1::EventSourceMappingConfiguration> config = ConfigFromCreateRequest(create);
    ASSERT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_EQ(config.status().message().substr(0, message.size()), message);
    if (message.back() != ' ') {
      EXPECT_EQ(config.status().message(), message);
    }
  }
}

TEST(MappingConfigFilterTest, UpdateReplacesTheCriteria) {
  v1::CreateEventSourceMappingRequest create = ValidCreate();
  *create.mutable_filter_criteria() = Criteria({R"({"partitionKey":["a"]})"});
  v1::EventSourceMappingConfiguration config = *ConfigFromCreateRequest(create);
  v1::UpdateEventSourceMappingRequest update;
  update.set_update_filter_criteria(true);
  *update.mutable_filter_criteria() = Criteria({R"({"partitionKey":["b"]})"});
  ASSERT_TRUE(ApplyUpdateRequest(update, &config).ok());
  ASSERT_EQ(config.filter_criteria().filters_size(), 1);
  EXPECT_EQ(config.filter_criteria().filters(0).pattern(), R"({"partitionKey":["b"]})");
}

TEST(MappingConfigFilterTest, UpdateWithNoFiltersRemovesFiltering) {
  v1::CreateEventSourceMappingRequest create = ValidCreate();
  *create.mutable_filter_criteria() = Criteria({R"({"partitionKey":["a"]})"});
  v1::EventSourceMappingConfiguration config = *ConfigFromCreateRequest(create);
  v1::UpdateEventSourceMappingRequest update;
  update.set_update_filter_criteria(true);
  ASSERT_TRUE(ApplyUpdateRequest(update, &config).ok());
  EXPECT_FALSE(config.has_filter_criteria());
}

TEST(MappingConfigFilterTest, UpdateWithoutTheFlagKeepsTheCriteria) {
  v1::CreateEventSourceMappingRequest create = ValidCreate();
  *create.mutable_filter_criteria() = Criteria({R"({"partitionKey":["a"]})"});
  v1::EventSourceMappingConfiguration config = *ConfigFromCreateRequest(create);
  v1::UpdateEventSourceMappingRequest update;
  update.set_batch_size(7);
  ASSERT_TRUE(ApplyUpdateRequest(update, &config).ok());
  ASSERT_EQ(config.filter_criteria().filters_size(), 1);

  // Criteria sent without the flag would be silently ignored: rejected instead.
  *update.mutable_filter_criteria() = Criteria({R"({"partitionKey":["b"]})"});
  absl::Status status = ApplyUpdateRequest(update, &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "filter_criteria is only applied with update_filter_criteria = true");
  EXPECT_EQ(config.filter_criteria().filters(0).pattern(), R"({"partitionKey":["a"]})");
}

TEST(MappingConfigFilterTest, UpdateWithABadPatternIsRejectedAndChangesNothing) {
  v1::CreateEventSourceMappingRequest create = ValidCreate();
  *create.mutable_filter_criteria() = Criteria({R"({"partitionKey":["a"]})"});
  v1::EventSourceMappingConfiguration config = *ConfigFromCreateRequest(create);
  const std::string before = config.SerializeAsString();
  v1::UpdateEventSourceMappingRequest update;
  update.set_batch_size(7);
  update.set_update_filter_criteria(true);
  *update.mutable_filter_criteria() =
      Criteria({R"({"partitionKey":["b"]})", R"({"data":{"n":[{"numeric":["<",1,">",0]}]}})"});
  absl::Status status = ApplyUpdateRequest(update, &config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "filter_criteria.filters[1].pattern: numeric: a range is a lower bound (\">\" or "
            "\">=\") followed by an upper bound (\"<\" or \"<=\") (at data.n)");
  EXPECT_EQ(config.SerializeAsString(), before);
}

// A stored configuration read by a poller: unset fields mean Lambda's defaults, and values out
// of range (never written by a tracker that validates) are held to the bounds.
TEST(MappingConfigTest, EffectiveValuesFillDefaultsAndHoldTheBounds) {
  v1::EventSourceMappingConfiguration unset;
  EXPECT_EQ(EffectiveBatchSize(unset), 100);
  EXPECT_EQ(EffectiveBatchingWindow(unset), absl::ZeroDuration());
  EXPECT_EQ(EffectiveParallelizationFactor(unset), 1);
  EXPECT_EQ(EffectiveFunctionTimeoutSeconds(unset), 30);
  EXPECT_EQ(EffectiveTumblingWindowSeconds(unset), 0);

  v1::EventSourceMappingConfiguration set;
  set.set_batch_size(7);
  set.set_maximum_batching_window_in_seconds(5);
  set.set_parallelization_factor(4);
  set.set_function_timeout_seconds(9);
  set.set_tumbling_window_in_seconds(60);
  EXPECT_EQ(EffectiveBatchSize(set), 7);
  EXPECT_EQ(EffectiveBatchingWindow(set), absl::Seconds(5));
  EXPECT_EQ(EffectiveParallelizationFactor(set), 4);
  EXPECT_EQ(EffectiveFunctionTimeoutSeconds(set), 9);
  EXPECT_EQ(EffectiveTumblingWindowSeconds(set), 60);

  v1::EventSourceMappingConfiguration over;
  over.set_batch_size(20000);
  over.set_maximum_batching_window_in_seconds(1000);
  over.set_parallelization_factor(50);
  over.set_function_timeout_seconds(5000);
  over.set_tumbling_window_in_seconds(-3);
  EXPECT_EQ(EffectiveBatchSize(over), kMaxBatchSize);
  EXPECT_EQ(EffectiveBatchingWindow(over), absl::Seconds(kMaxBatchingWindowSeconds));
  EXPECT_EQ(EffectiveParallelizationFactor(over), kMaxParallelizationFactor);
  EXPECT_EQ(EffectiveFunctionTimeoutSeconds(over), kMaxFunctionTimeoutSeconds);
  EXPECT_EQ(EffectiveTumblingWindowSeconds(over), 0);
}

}  // namespace
}  // namespace tributary::mapping
