// The Functions registry and mappings that name their function (issue 17): every error the
// header promises, and the link — a mapping takes its function's endpoint and timeout, and an
// UpdateFunction reaches every mapping that names it as a new config_version (what pollers
// apply), also across a crash between the writes.
#include "stream_tracker/function_registry.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/proto_util.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "stream_tracker/mapping_manager.h"
#include "stream_tracker/testing/fake_stream_catalog.h"
#include "stream_tracker/tracker_db.h"

namespace tributary::stream_tracker {
namespace {

const FunctionAccount kAccount{"eu-west-1", "123456789012"};
constexpr char kArnPrefix[] = "arn:aws:lambda:eu-west-1:123456789012:function:";

class FunctionRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    streams_.CreateStream("orders", 1);
    Open();
  }

  // Opens the tracker's database and everything over it (again after Close: a restart).
  void Open() {
    auto db = OpenTrackerDb(dir_);
    ASSERT_TRUE(db.ok()) << db.status();
    functions_ = FunctionStore::Create(*db, {});
    mappings_ = MappingStore::Create(*db, {});
    auto registry = FunctionRegistry::Create(functions_.get(), mappings_.get(), clock_, kAccount);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
    manager_ = std::make_unique<MappingManager>(mappings_.get(), &streams_, clock_, nullptr,
                                                registry_.get());
  }
  void Close() {
    manager_.reset();
    registry_.reset();
    mappings_.reset();
    functions_.reset();
  }

  v1::FunctionConfiguration CreateFunction(const std::string& name,
                                           const std::string& endpoint = "fn:1",
                                           int timeout_seconds = 0) {
    v1::CreateFunctionRequest request;
    request.set_function_name(name);
    request.set_endpoint(endpoint);
    if (timeout_seconds > 0) request.set_timeout_seconds(timeout_seconds);
    auto created = registry_->CreateFunction(request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : v1::FunctionConfiguration();
  }

  absl::StatusOr<v1::FunctionConfiguration> Update(const std::string& name,
                                                   const std::string& endpoint,
                                                   int timeout_seconds = 0) {
    v1::UpdateFunctionRequest request;
    request.set_function_name(name);
    if (!endpoint.empty()) request.set_endpoint(endpoint);
    if (timeout_seconds > 0) request.set_timeout_seconds(timeout_seconds);
    return registry_->UpdateFunction(request);
  }

  static v1::CreateEventSourceMappingRequest MappingRequest(const std::string& function_name,
                                                            const std::string& stream = "orders") {
    v1::CreateEventSourceMappingRequest request;
    request.set_stream_name(stream);
    request.set_function_name(function_name);
    request.set_starting_position(v1::TRIM_HORIZON_POSITION);
    return request;
  }

  v1::EventSourceMappingConfiguration CreateMapping(const std::string& function_name,
                                                    const std::string& stream = "orders") {
    auto created = manager_->Create(MappingRequest(function_name, stream));
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : v1::EventSourceMappingConfiguration();
  }

  v1::EventSourceMappingConfiguration CreateMappingByEndpoint(const std::string& endpoint) {
    v1::CreateEventSourceMappingRequest request = MappingRequest("");
    request.set_function_endpoint(endpoint);
    auto created = manager_->Create(request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : v1::EventSourceMappingConfiguration();
  }

  v1::EventSourceMappingConfiguration GetMapping(const std::string& uuid) {
    auto mapping = manager_->Get(uuid);
    EXPECT_TRUE(mapping.ok()) << mapping.status();
    return mapping.ok() ? *mapping : v1::EventSourceMappingConfiguration();
  }

  FakeClock clock_;
  testing::FakeStreamCatalog streams_{clock_};
  const std::string dir_ = tributary::testing::NewTempDir("function_registry");
  std::unique_ptr<FunctionStore> functions_;
  std::unique_ptr<MappingStore> mappings_;
  std::unique_ptr<FunctionRegistry> registry_;
  std::unique_ptr<MappingManager> manager_;
};

// --- the registry ----------------------------------------------------------------------------

TEST_F(FunctionRegistryTest, CreateReturnsTheFunctionWithItsArnDefaultsAndLastModified) {
  v1::FunctionConfiguration f = CreateFunction("orders-fn", "host:9");
  EXPECT_EQ(f.function_name(), "orders-fn");
  EXPECT_EQ(f.function_arn(), std::string(kArnPrefix) + "orders-fn");
  EXPECT_EQ(f.endpoint(), "host:9");
  EXPECT_EQ(f.timeout_seconds(), 3);
  EXPECT_FALSE(f.has_reserved_concurrent_executions());
  EXPECT_EQ(FromProtoTimestamp(f.last_modified()), clock_.Now());
  auto got = registry_->GetFunction("orders-fn");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), f.SerializeAsString());
}

TEST_F(FunctionRegistryTest, CreateOfATakenNameIsAlreadyExistsAlsoByArn) {
  CreateFunction("f", "a:1");
  v1::CreateFunctionRequest again;
  again.set_function_name(std::string(kArnPrefix) + "f");
  again.set_endpoint("b:1");
  EXPECT_EQ(registry_->CreateFunction(again).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry_->GetFunction("f")->endpoint(), "a:1");
}

TEST_F(FunctionRegistryTest, CreateWithABadFieldIsInvalidArgumentNamingItAndStoresNothing) {
  v1::CreateFunctionRequest request;
  request.set_function_name("f");
  request.set_endpoint("fn:1");
  request.set_timeout_seconds(901);
  auto created = registry_->CreateFunction(request);
  ASSERT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(created.status().message().find("timeout_seconds"), absl::string_view::npos);
  EXPECT_EQ(functions_->writes(), 0);
}

TEST_F(FunctionRegistryTest, GetTakesANameOrAnArn) {
  CreateFunction("f");
  EXPECT_TRUE(registry_->GetFunction("f").ok());
  EXPECT_TRUE(registry_->GetFunction(std::string(kArnPrefix) + "f").ok());
  EXPECT_EQ(registry_->GetFunction("g").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetFunction("a b").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      registry_->GetFunction("arn:aws:lambda:us-east-1:123456789012:function:f").status().code(),
      absl::StatusCode::kInvalidArgument)
      << "another region's ARN";
}

TEST_F(FunctionRegistryTest, UpdateAppliesTheSetFieldsAndMovesLastModified) {
  CreateFunction("f", "a:1");
  clock_.Advance(absl::Seconds(5));
  auto updated = Update("f", "", 30);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->endpoint(), "a:1");
  EXPECT_EQ(updated->timeout_seconds(), 30);
  EXPECT_EQ(FromProtoTimestamp(updated->last_modified()), clock_.Now());
  EXPECT_EQ(updated->function_arn(), std::string(kArnPrefix) + "f");
}

TEST_F(FunctionRegistryTest, UpdateOfAMissingFunctionIsNotFound) {
  EXPECT_EQ(Update("f", "a:1").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(FunctionRegistryTest, AMalformedUpdateIsInvalidArgumentEvenForAMissingFunction) {
  auto updated = Update("missing", "no-port");
  ASSERT_EQ(updated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(updated.status().message().find("endpoint"), absl::string_view::npos);
  EXPECT_EQ(Update("", "a:1").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FunctionRegistryTest, ListPagesInNameOrderWithMarkers) {
  for (const char* name : {"c", "a", "b"}) CreateFunction(name);
  v1::ListFunctionsRequest request;
  request.set_max_items(2);
  auto first = registry_->ListFunctions(request);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->functions_size(), 2);
  EXPECT_EQ(first->functions(0).function_name(), "a");
  EXPECT_EQ(first->functions(1).function_name(), "b");
  EXPECT_EQ(first->functions(1).function_arn(), std::string(kArnPrefix) + "b");
  EXPECT_EQ(first->next_marker(), "b");
  request.set_marker(first->next_marker());
  auto second = registry_->ListFunctions(request);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->functions_size(), 1);
  EXPECT_EQ(second->functions(0).function_name(), "c");
  EXPECT_EQ(second->next_marker(), "") << "the last page";
}

TEST_F(FunctionRegistryTest, AFullLastPageHasNoNextMarkerAndTheDefaultPageIsFifty) {
  for (int i = 0; i < 51; ++i) CreateFunction("f" + std::to_string(100 + i));
  auto all = registry_->ListFunctions({});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->functions_size(), 50);
  EXPECT_EQ(all->next_marker(), "f149");
  v1::ListFunctionsRequest request;
  request.set_max_items(51);
  auto exact = registry_->ListFunctions(request);
  ASSERT_TRUE(exact.ok()) << exact.status();
  EXPECT_EQ(exact->functions_size(), 51);
  EXPECT_EQ(exact->next_marker(), "");
}

TEST_F(FunctionRegistryTest, ListWithBadMaxItemsIsInvalidArgument) {
  v1::ListFunctionsRequest request;
  request.set_max_items(0);
  EXPECT_TRUE(registry_->ListFunctions(request).ok()) << "0 means the default";
  request.set_max_items(10001);
  EXPECT_EQ(registry_->ListFunctions(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FunctionRegistryTest, DeleteRemovesTheFunctionAndASecondDeleteIsNotFound) {
  CreateFunction("f");
  ASSERT_TRUE(registry_->DeleteFunction(std::string(kArnPrefix) + "f").ok());
  EXPECT_EQ(registry_->GetFunction("f").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->DeleteFunction("f").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->DeleteFunction("a b").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FunctionRegistryTest, DeletingAFunctionAMappingNamesIsFailedPreconditionNamingTheMapping) {
  CreateFunction("f");
  CreateFunction("other");
  const std::string uuid = CreateMapping("f").uuid();
  CreateMapping("other");
  absl::Status deleted = registry_->DeleteFunction("f");
  ASSERT_EQ(deleted.code(), absl::StatusCode::kFailedPrecondition) << deleted;
  EXPECT_NE(deleted.message().find(uuid), absl::string_view::npos) << deleted;
  EXPECT_TRUE(registry_->GetFunction("f").ok()) << "still there";

  // A mapping being deleted still counts (its pollers may still invoke); once gone, it does not.
  ASSERT_TRUE(manager_->Delete(uuid).ok());
  EXPECT_EQ(registry_->DeleteFunction("f").code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(mappings_->Remove(uuid).ok());  // what the lease sync does at the end of DELETING
  EXPECT_TRUE(registry_->DeleteFunction("f").ok());
}

TEST_F(FunctionRegistryTest, ADeleteRefusedForManyMappingsListsTenAndCountsTheRest) {
  CreateFunction("f");
  for (int i = 0; i < 12; ++i) {
    const std::string stream = "s" + std::to_string(i);
    streams_.CreateStream(stream, 1);
    CreateMapping("f", stream);  // one mapping per function and stream
  }
  absl::Status deleted = registry_->DeleteFunction("f");
  ASSERT_EQ(deleted.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(deleted.message().find(" and 2 more"), absl::string_view::npos) << deleted;
}

TEST_F(FunctionRegistryTest, ConcurrencyIsPutReadAndDeletedWithoutMovingLastModified) {
  const v1::FunctionConfiguration created = CreateFunction("f");
  clock_.Advance(absl::Seconds(5));
  auto none = registry_->GetFunctionConcurrency("f");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_reserved_concurrent_executions());

  v1::PutFunctionConcurrencyRequest put;
  put.set_function_name(std::string(kArnPrefix) + "f");
  put.set_reserved_concurrent_executions(7);
  auto set = registry_->PutFunctionConcurrency(put);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->reserved_concurrent_executions(), 7);
  EXPECT_EQ(registry_->GetFunctionConcurrency("f")->reserved_concurrent_executions(), 7);
  auto function = registry_->GetFunction("f");
  ASSERT_TRUE(function.ok());
  EXPECT_EQ(function->reserved_concurrent_executions(), 7);
  EXPECT_EQ(FromProtoTimestamp(function->last_modified()),
            FromProtoTimestamp(created.last_modified()));

  put.set_reserved_concurrent_executions(0);  // Lambda: 0 throttles every invocation
  ASSERT_TRUE(registry_->PutFunctionConcurrency(put).ok());
  EXPECT_TRUE(registry_->GetFunctionConcurrency("f")->has_reserved_concurrent_executions());

  ASSERT_TRUE(registry_->DeleteFunctionConcurrency("f").ok());
  EXPECT_FALSE(registry_->GetFunctionConcurrency("f")->has_reserved_concurrent_executions());
  EXPECT_TRUE(registry_->DeleteFunctionConcurrency("f").ok()) << "idempotent";
}

TEST_F(FunctionRegistryTest, ConcurrencyErrors) {
  v1::PutFunctionConcurrencyRequest put;
  put.set_function_name("missing");
  put.set_reserved_concurrent_executions(1);
  EXPECT_EQ(registry_->PutFunctionConcurrency(put).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetFunctionConcurrency("missing").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->DeleteFunctionConcurrency("missing").code(), absl::StatusCode::kNotFound);
  CreateFunction("f");
  put.set_function_name("f");
  put.set_reserved_concurrent_executions(-1);
  auto negative = registry_->PutFunctionConcurrency(put);
  ASSERT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(negative.status().message().find("reserved_concurrent_executions"),
            absl::string_view::npos);
  put.clear_reserved_concurrent_executions();
  EXPECT_EQ(registry_->PutFunctionConcurrency(put).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->GetFunctionConcurrency("a b").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(FunctionRegistryTest, FunctionsAndTheMappingsNamingThemSurviveARestart) {
  CreateFunction("f", "a:1", 9);
  v1::PutFunctionConcurrencyRequest put;
  put.set_function_name("f");
  put.set_reserved_concurrent_executions(2);
  ASSERT_TRUE(registry_->PutFunctionConcurrency(put).ok());
  const std::string uuid = CreateMapping("f").uuid();
  Close();
  Open();
  auto f = registry_->GetFunction("f");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->endpoint(), "a:1");
  EXPECT_EQ(f->timeout_seconds(), 9);
  EXPECT_EQ(f->reserved_concurrent_executions(), 2);
  EXPECT_EQ(GetMapping(uuid).function_name(), "f");
  EXPECT_EQ(registry_->DeleteFunction("f").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(FunctionRegistryCreateTest, AMalformedAccountIsInvalidArgument) {
  FakeClock clock;
  auto registry =
      FunctionRegistry::Create(nullptr, nullptr, clock, FunctionAccount{"us-east-1", "12"});
  EXPECT_EQ(registry.status().code(), absl::StatusCode::kInvalidArgument);
}

// --- mappings that name their function --------------------------------------------------------

TEST_F(FunctionRegistryTest, AMappingByNameOrArnTakesTheFunctionsEndpointAndTimeout) {
  CreateFunction("f", "a:1", 9);
  streams_.CreateStream("payments", 1);
  for (const auto& [name, stream] : {std::pair<std::string, std::string>{"f", "orders"},
                                     {std::string(kArnPrefix) + "f", "payments"}}) {
    SCOPED_TRACE(name);
    v1::EventSourceMappingConfiguration mapping = CreateMapping(name, stream);
    EXPECT_EQ(mapping.function_name(), "f");
    EXPECT_EQ(mapping.function_endpoint(), "a:1");
    EXPECT_EQ(mapping.function_timeout_seconds(), 9);
    EXPECT_EQ(GetMapping(mapping.uuid()).SerializeAsString(), mapping.SerializeAsString());
  }
}

// Lambda's rule (its ResourceConflictException): one mapping per function and stream, whether
// the function is named by name or by ARN; other functions, other streams, mappings by endpoint
// and a mapping being deleted do not count.
TEST_F(FunctionRegistryTest, ASecondMappingOfAFunctionOnAStreamIsAlreadyExistsNamingTheFirst) {
  CreateFunction("f");
  const std::string first = CreateMapping("f").uuid();
  const int64_t writes = mappings_->writes();
  for (const std::string& name : {std::string("f"), std::string(kArnPrefix) + "f"}) {
    auto second = manager_->Create(MappingRequest(name));
    ASSERT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists) << second.status();
    EXPECT_NE(second.status().message().find(first), absl::string_view::npos) << second.status();
  }
  EXPECT_EQ(mappings_->writes(), writes) << "nothing stored";
}

TEST_F(FunctionRegistryTest, OtherFunctionsStreamsAndEndpointsDoNotConflict) {
  CreateFunction("f");
  CreateFunction("g");
  streams_.CreateStream("payments", 1);
  CreateMapping("f");
  CreateMapping("g");
  CreateMapping("f", "payments");
  CreateMappingByEndpoint("fn:1");
  CreateMappingByEndpoint("fn:1");
  EXPECT_EQ(manager_->List({})->event_source_mappings_size(), 5);
}

TEST_F(FunctionRegistryTest, AMappingBeingDeletedDoesNotBlockANewOne) {
  CreateFunction("f");
  ASSERT_TRUE(manager_->Delete(CreateMapping("f").uuid()).ok());
  EXPECT_TRUE(manager_->Create(MappingRequest("f")).ok());
}

TEST_F(FunctionRegistryTest, PointingAMappingAtAFunctionThatHasOneOnTheStreamIsAlreadyExists) {
  CreateFunction("f");
  CreateFunction("g");
  const std::string first = CreateMapping("f").uuid();
  const v1::EventSourceMappingConfiguration other = CreateMapping("g");
  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(other.uuid());
  update.set_function_name("f");
  auto refused = manager_->Update(update);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists) << refused.status();
  EXPECT_NE(refused.status().message().find(first), absl::string_view::npos);
  EXPECT_EQ(GetMapping(other.uuid()).SerializeAsString(), other.SerializeAsString());

  // Naming its own function again is no conflict with itself.
  update.set_uuid(first);
  update.set_batch_size(7);
  auto same = manager_->Update(update);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->batch_size(), 7);
}

TEST_F(FunctionRegistryTest, AMappingNamingAMissingFunctionIsNotFoundAndNothingIsStored) {
  auto created = manager_->Create(MappingRequest("missing"));
  ASSERT_EQ(created.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(created.status().message().find("function_name: function missing not found"),
            absl::string_view::npos)
      << created.status();
  EXPECT_EQ(mappings_->writes(), 0);
}

TEST_F(FunctionRegistryTest, AMalformedFunctionNameIsInvalidArgumentBeforeTheStreamIsChecked) {
  v1::CreateEventSourceMappingRequest request = MappingRequest("a b");
  request.set_stream_name("no-such-stream");
  auto created = manager_->Create(request);
  ASSERT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument) << created.status();
  EXPECT_NE(created.status().message().find("function_name"), absl::string_view::npos);
}

TEST_F(FunctionRegistryTest, AMappingNeedsExactlyOneOfEndpointAndName) {
  CreateFunction("f");
  v1::CreateEventSourceMappingRequest both = MappingRequest("f");
  both.set_function_endpoint("a:1");
  EXPECT_EQ(manager_->Create(both).status().code(), absl::StatusCode::kInvalidArgument);
  v1::CreateEventSourceMappingRequest neither = MappingRequest("");
  EXPECT_EQ(manager_->Create(neither).status().code(), absl::StatusCode::kInvalidArgument);
  v1::CreateEventSourceMappingRequest timeout = MappingRequest("f");
  timeout.set_function_timeout_seconds(5);
  EXPECT_EQ(manager_->Create(timeout).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FunctionRegistryTest, UpdateFunctionRewritesEveryMappingThatNamesItWithANewVersion) {
  CreateFunction("f", "a:1");
  CreateFunction("g", "g:1");
  streams_.CreateStream("payments", 1);
  const v1::EventSourceMappingConfiguration m1 = CreateMapping("f");
  const v1::EventSourceMappingConfiguration m2 =
      CreateMapping(std::string(kArnPrefix) + "f", "payments");
  const v1::EventSourceMappingConfiguration other = CreateMapping("g");
  const v1::EventSourceMappingConfiguration direct = CreateMappingByEndpoint("a:1");
  clock_.Advance(absl::Seconds(5));

  auto updated = Update("f", "b:1", 20);
  ASSERT_TRUE(updated.ok()) << updated.status();

  for (const auto& before : {m1, m2}) {
    const v1::EventSourceMappingConfiguration after = GetMapping(before.uuid());
    EXPECT_EQ(after.function_endpoint(), "b:1");
    EXPECT_EQ(after.function_timeout_seconds(), 20);
    EXPECT_EQ(after.config_version(), before.config_version() + 1) << "pollers apply it";
    EXPECT_EQ(after.state(), before.state()) << "the user did not change the mapping";
    EXPECT_EQ(after.state_transition_reason(), before.state_transition_reason());
    EXPECT_EQ(FromProtoTimestamp(after.last_modified()),
              FromProtoTimestamp(before.last_modified()));
  }
  EXPECT_EQ(GetMapping(other.uuid()).SerializeAsString(), other.SerializeAsString());
  EXPECT_EQ(GetMapping(direct.uuid()).SerializeAsString(), direct.SerializeAsString())
      << "a mapping given the same endpoint directly does not follow the function";
}

TEST_F(FunctionRegistryTest, ReservedConcurrencyIsCopiedIntoTheMappingsThatNameTheFunction) {
  CreateFunction("f", "a:1");
  const v1::EventSourceMappingConfiguration m = CreateMapping("f");
  EXPECT_FALSE(m.has_function_reserved_concurrent_executions());

  v1::PutFunctionConcurrencyRequest put;
  put.set_function_name("f");
  put.set_reserved_concurrent_executions(4);
  ASSERT_TRUE(registry_->PutFunctionConcurrency(put).ok());
  const v1::EventSourceMappingConfiguration limited = GetMapping(m.uuid());
  ASSERT_TRUE(limited.has_function_reserved_concurrent_executions());
  EXPECT_EQ(limited.function_reserved_concurrent_executions(), 4);
  EXPECT_EQ(limited.config_version(), m.config_version() + 1) << "pollers apply it";
  streams_.CreateStream("payments", 1);
  EXPECT_EQ(CreateMapping("f", "payments").function_reserved_concurrent_executions(), 4)
      << "a new mapping takes it too";

  ASSERT_TRUE(registry_->DeleteFunctionConcurrency("f").ok());
  const v1::EventSourceMappingConfiguration unlimited = GetMapping(m.uuid());
  EXPECT_FALSE(unlimited.has_function_reserved_concurrent_executions());
  EXPECT_EQ(unlimited.config_version(), m.config_version() + 2);

  ASSERT_TRUE(registry_->PutFunctionConcurrency(put).ok());
  v1::UpdateEventSourceMappingRequest to_endpoint;
  to_endpoint.set_uuid(m.uuid());
  to_endpoint.set_function_endpoint("direct:1");
  auto direct = manager_->Update(to_endpoint);
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_FALSE(direct->has_function_reserved_concurrent_executions())
      << "a mapping that stops following the function stops taking its limit";
}

TEST_F(FunctionRegistryTest, AnUpdateThatChangesNothingTheMappingsShowWritesNoMapping) {
  CreateFunction("f", "a:1");
  const v1::EventSourceMappingConfiguration m = CreateMapping("f");
  const int64_t writes = mappings_->writes();
  ASSERT_TRUE(Update("f", "a:1").ok());
  EXPECT_EQ(mappings_->writes(), writes);
  EXPECT_EQ(GetMapping(m.uuid()).config_version(), m.config_version());
}

TEST_F(FunctionRegistryTest, AMappingCanBePointedAtAFunctionAndBackAtAnEndpoint) {
  CreateFunction("f", "a:1", 9);
  const std::string uuid = CreateMappingByEndpoint("direct:1").uuid();

  v1::UpdateEventSourceMappingRequest to_function;
  to_function.set_uuid(uuid);
  to_function.set_function_name(std::string(kArnPrefix) + "f");
  auto following = manager_->Update(to_function);
  ASSERT_TRUE(following.ok()) << following.status();
  EXPECT_EQ(following->function_name(), "f");
  EXPECT_EQ(following->function_endpoint(), "a:1");
  EXPECT_EQ(following->function_timeout_seconds(), 9);
  ASSERT_TRUE(Update("f", "b:1").ok());
  EXPECT_EQ(GetMapping(uuid).function_endpoint(), "b:1");

  v1::UpdateEventSourceMappingRequest timeout;
  timeout.set_uuid(uuid);
  timeout.set_function_timeout_seconds(5);
  auto refused = manager_->Update(timeout);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("follows function f"), absl::string_view::npos);

  v1::UpdateEventSourceMappingRequest to_endpoint;
  to_endpoint.set_uuid(uuid);
  to_endpoint.set_function_endpoint("direct:2");
  auto direct = manager_->Update(to_endpoint);
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_EQ(direct->function_name(), "");
  EXPECT_EQ(direct->function_endpoint(), "direct:2");
  ASSERT_TRUE(Update("f", "c:1").ok());
  EXPECT_EQ(GetMapping(uuid).function_endpoint(), "direct:2") << "no longer follows f";
  EXPECT_TRUE(registry_->DeleteFunction("f").ok()) << "no mapping names f any more";
}

TEST_F(FunctionRegistryTest, PointingAMappingAtAMissingFunctionIsNotFoundAndChangesNothing) {
  const v1::EventSourceMappingConfiguration m = CreateMappingByEndpoint("direct:1");
  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(m.uuid());
  update.set_function_name("missing");
  update.set_batch_size(7);
  EXPECT_EQ(manager_->Update(update).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetMapping(m.uuid()).SerializeAsString(), m.SerializeAsString());
}

TEST_F(FunctionRegistryTest, MappingsAreListedByFunctionNameOrArn) {
  CreateFunction("f");
  CreateFunction("g");
  const std::string uuid = CreateMapping("f").uuid();
  CreateMapping("g");
  CreateMappingByEndpoint("fn:1");
  for (const std::string& name : {std::string("f"), std::string(kArnPrefix) + "f"}) {
    v1::ListEventSourceMappingsRequest request;
    request.set_function_name(name);
    auto listed = manager_->List(request);
    ASSERT_TRUE(listed.ok()) << listed.status();
    ASSERT_EQ(listed->event_source_mappings_size(), 1) << name;
    EXPECT_EQ(listed->event_source_mappings(0).uuid(), uuid);
  }
  v1::ListEventSourceMappingsRequest bad;
  bad.set_function_name("a b");
  EXPECT_EQ(manager_->List(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

// The function is written before its mappings: a crash between the writes leaves them with the
// old endpoint, and the tracker's start (RepairMappings) brings them in line before serving.
TEST_F(FunctionRegistryTest, RepairAfterACrashBetweenTheWritesBringsTheMappingsInLine) {
  CreateFunction("f", "a:1");
  const v1::EventSourceMappingConfiguration m = CreateMapping("f");
  // The function's write of an UpdateFunction, and then the crash.
  ASSERT_TRUE(functions_
                  ->Modify("f",
                           [](FunctionRecord* r) {
                             r->mutable_config()->set_endpoint("b:1");
                             return absl::OkStatus();
                           })
                  .ok());
  Close();
  Open();
  EXPECT_EQ(GetMapping(m.uuid()).function_endpoint(), "a:1") << "the state the crash left";
  ASSERT_TRUE(registry_->RepairMappings().ok());
  const v1::EventSourceMappingConfiguration repaired = GetMapping(m.uuid());
  EXPECT_EQ(repaired.function_endpoint(), "b:1");
  EXPECT_EQ(repaired.config_version(), m.config_version() + 1);
  const int64_t writes = mappings_->writes();
  ASSERT_TRUE(registry_->RepairMappings().ok());
  EXPECT_EQ(mappings_->writes(), writes) << "nothing left to repair";
}

TEST_F(FunctionRegistryTest, RepairAfterACrashInAConcurrencyCallCopiesTheLimit) {
  CreateFunction("f", "a:1");
  const v1::EventSourceMappingConfiguration m = CreateMapping("f");
  // The function's write of a PutFunctionConcurrency, and then the crash.
  ASSERT_TRUE(functions_
                  ->Modify("f",
                           [](FunctionRecord* r) {
                             r->mutable_config()->set_reserved_concurrent_executions(2);
                             return absl::OkStatus();
                           })
                  .ok());
  Close();
  Open();
  EXPECT_FALSE(GetMapping(m.uuid()).has_function_reserved_concurrent_executions());
  ASSERT_TRUE(registry_->RepairMappings().ok());
  const v1::EventSourceMappingConfiguration repaired = GetMapping(m.uuid());
  EXPECT_EQ(repaired.function_reserved_concurrent_executions(), 2);
  EXPECT_EQ(repaired.config_version(), m.config_version() + 1) << "pollers apply it";
}

TEST_F(FunctionRegistryTest, AMappingManagerWithoutARegistryRefusesFunctionNames) {
  MappingManager without(mappings_.get(), &streams_, clock_);
  auto created = without.Create(MappingRequest("f"));
  EXPECT_EQ(created.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tributary::stream_tracker
