#include "stream_tracker/mapping_manager.h"

#include <memory>
#include <set>
#include <string>

#include "common/clock.h"
#include "common/proto_util.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "stream_tracker/mapping_state.h"
#include "stream_tracker/testing/fake_stream_catalog.h"

namespace tributary::stream_tracker {
namespace {

class MappingManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    streams_.CreateStream("orders", 2);
    streams_.CreateStream("dlq", 1);
    auto store = MappingStore::Open(tributary::testing::NewTempDir("mapping_manager"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    manager_ =
        std::make_unique<MappingManager>(store_.get(), &streams_, clock_, [this] { ++changes_; });
  }

  static v1::CreateEventSourceMappingRequest Request(const std::string& stream = "orders",
                                                     const std::string& endpoint = "fn:1") {
    v1::CreateEventSourceMappingRequest request;
    request.set_stream_name(stream);
    request.set_function_endpoint(endpoint);
    request.set_starting_position(v1::LATEST_POSITION);
    return request;
  }

  v1::EventSourceMappingConfiguration Create(const std::string& stream = "orders",
                                             const std::string& endpoint = "fn:1") {
    auto config = manager_->Create(Request(stream, endpoint));
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() ? *config : v1::EventSourceMappingConfiguration();
  }

  FakeClock clock_;
  testing::FakeStreamCatalog streams_{clock_};
  std::unique_ptr<MappingStore> store_;
  std::unique_ptr<MappingManager> manager_;
  int changes_ = 0;
};

TEST_F(MappingManagerTest, CreateStoresACreatingMappingWithLambdasFields) {
  v1::EventSourceMappingConfiguration config = Create();
  EXPECT_EQ(config.uuid().size(), 36u);
  EXPECT_EQ(config.uuid()[14], '4') << "a version 4 uuid: " << config.uuid();
  EXPECT_EQ(config.state(), v1::CREATING_MAPPING);
  EXPECT_EQ(config.state_transition_reason(), "User action");
  EXPECT_EQ(config.last_processing_result(), "No records processed");
  EXPECT_EQ(FromProtoTimestamp(config.last_modified()), clock_.Now());
  EXPECT_EQ(config.config_version(), 1);
  EXPECT_EQ(config.batch_size(), 100);
  EXPECT_EQ(config.event_source_arn(), "arn:aws:kinesis:us-east-1:000000000000:stream/orders")
      << "as Lambda's API names the stream";
  auto stored = manager_->Get(config.uuid());
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->SerializeAsString(), config.SerializeAsString());
  EXPECT_EQ(changes_, 1) << "a create nudges the sync";
}

TEST_F(MappingManagerTest, EveryCreateGetsItsOwnUuid) {
  std::set<std::string> uuids;
  for (int i = 0; i < 20; ++i) uuids.insert(Create().uuid());
  EXPECT_EQ(uuids.size(), 20u);
}

TEST_F(MappingManagerTest, CreateOnUnknownStreamIsNotFound) {
  auto config = manager_->Create(Request("missing"));
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(config.status().message().find("missing"), absl::string_view::npos);
  EXPECT_TRUE(manager_->List({})->event_source_mappings().empty());
}

TEST_F(MappingManagerTest, CreateWithUnknownDestinationIsNotFound) {
  v1::CreateEventSourceMappingRequest request = Request();
  request.mutable_destination_config()->mutable_on_failure()->set_destination("nowhere");
  auto config = manager_->Create(request);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(config.status().message().find("destination_config.on_failure.destination"),
            absl::string_view::npos);
  request.mutable_destination_config()->mutable_on_failure()->set_destination("dlq");
  EXPECT_TRUE(manager_->Create(request).ok());
}

TEST_F(MappingManagerTest, CreateWithUnknownOnSuccessDestinationIsNotFoundNamingIt) {
  v1::CreateEventSourceMappingRequest request = Request();
  request.mutable_destination_config()->mutable_on_success()->set_destination("nowhere");
  auto config = manager_->Create(request);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(config.status().message().find("destination_config.on_success.destination: stream "
                                           "nowhere not found"),
            absl::string_view::npos)
      << config.status();
  EXPECT_TRUE(manager_->List({})->event_source_mappings().empty());
}

TEST_F(MappingManagerTest, AnOnSuccessDestinationAloneIsStoredAndAnUpdateReplacesThePartsGiven) {
  v1::CreateEventSourceMappingRequest request = Request();
  request.mutable_destination_config()->mutable_on_success()->set_destination("dlq");
  auto created = manager_->Create(request);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(manager_->Get(created->uuid())->destination_config().on_success().destination(),
            "dlq");

  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(created->uuid());
  update.mutable_destination_config()->mutable_on_success()->set_destination("nowhere");
  EXPECT_EQ(manager_->Update(update).status().code(), absl::StatusCode::kNotFound);
  update.mutable_destination_config()->mutable_on_success()->set_destination("");
  update.mutable_destination_config()->mutable_on_failure()->set_destination("dlq");
  ASSERT_TRUE(manager_->Update(update).ok());
  const v1::DestinationConfig now = manager_->Get(created->uuid())->destination_config();
  EXPECT_EQ(now.on_failure().destination(), "dlq");
  EXPECT_EQ(now.on_success().destination(), "") << "a part given empty is removed";

  // A client that knows only on_failure (tribctl --destination) keeps the on-success part.
  v1::UpdateEventSourceMappingRequest both = update;
  both.mutable_destination_config()->mutable_on_success()->set_destination("dlq");
  ASSERT_TRUE(manager_->Update(both).ok());
  v1::UpdateEventSourceMappingRequest failure_only;
  failure_only.set_uuid(created->uuid());
  failure_only.mutable_destination_config()->mutable_on_failure()->set_destination("");
  ASSERT_TRUE(manager_->Update(failure_only).ok());
  const v1::DestinationConfig kept = manager_->Get(created->uuid())->destination_config();
  EXPECT_EQ(kept.on_failure().destination(), "");
  EXPECT_EQ(kept.on_success().destination(), "dlq");

  v1::UpdateEventSourceMappingRequest neither;
  neither.set_uuid(created->uuid());
  neither.mutable_destination_config();
  ASSERT_TRUE(manager_->Update(neither).ok());
  EXPECT_FALSE(manager_->Get(created->uuid())->has_destination_config());
}

TEST_F(MappingManagerTest, CreateWithAValueOutOfRangeIsInvalidAndStoresNothing) {
  v1::CreateEventSourceMappingRequest request = Request();
  request.set_batch_size(0);
  auto config = manager_->Create(request);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(manager_->List({})->event_source_mappings().empty());
  EXPECT_EQ(changes_, 0);
}

TEST_F(MappingManagerTest, CreateWhenTheShardStoreIsDownIsUnavailable) {
  streams_.FailNextCalls(absl::UnavailableError("shard store down"));
  EXPECT_EQ(manager_->Create(Request()).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(MappingManagerTest, GetNeedsAKnownUuid) {
  EXPECT_EQ(manager_->Get("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Get("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MappingManagerTest, UpdateAppliesFieldsBumpsVersionAndGoesToUpdating) {
  v1::EventSourceMappingConfiguration created = Create();
  ASSERT_TRUE(store_
                  ->Modify(created.uuid(),
                           [](MappingRecord* r) {
                             r->mutable_config()->set_state(v1::ENABLED);
                             return absl::OkStatus();
                           })
                  .ok());
  clock_.Advance(absl::Seconds(5));
  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(created.uuid());
  update.set_batch_size(7);
  auto updated = manager_->Update(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->batch_size(), 7);
  EXPECT_EQ(updated->state(), v1::UPDATING_MAPPING);
  EXPECT_EQ(updated->config_version(), created.config_version() + 1);
  EXPECT_EQ(FromProtoTimestamp(updated->last_modified()), clock_.Now());
  EXPECT_EQ(manager_->Get(created.uuid())->batch_size(), 7);
  EXPECT_EQ(changes_, 2);
}

TEST_F(MappingManagerTest, UpdateOfFiltersIsStoredAndBumpsTheVersionPollersWatch) {
  v1::CreateEventSourceMappingRequest request = Request();
  request.mutable_filter_criteria()->add_filters()->set_pattern(R"({"partitionKey":["a"]})");
  auto created = manager_->Create(request);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(manager_->Get(created->uuid())->filter_criteria().filters(0).pattern(),
            R"({"partitionKey":["a"]})");

  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(created->uuid());
  update.set_update_filter_criteria(true);
  update.mutable_filter_criteria()->add_filters()->set_pattern(R"({"data":{"t":["x"]}})");
  auto updated = manager_->Update(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->config_version(), created->config_version() + 1);
  auto stored = manager_->Get(created->uuid());
  ASSERT_EQ(stored->filter_criteria().filters_size(), 1);
  EXPECT_EQ(stored->filter_criteria().filters(0).pattern(), R"({"data":{"t":["x"]}})");

  update.clear_filter_criteria();  // no filters: filtering removed
  updated = manager_->Update(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->config_version(), created->config_version() + 2);
  EXPECT_FALSE(manager_->Get(created->uuid())->has_filter_criteria());
}

TEST_F(MappingManagerTest, UpdateOfEnabledGoesToDisablingOrEnabling) {
  v1::EventSourceMappingConfiguration created = Create();
  ASSERT_TRUE(store_
                  ->Modify(created.uuid(),
                           [](MappingRecord* r) {
                             r->mutable_config()->set_state(v1::ENABLED);
                             return absl::OkStatus();
                           })
                  .ok());
  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(created.uuid());
  update.set_enabled(false);
  auto disabling = manager_->Update(update);
  ASSERT_TRUE(disabling.ok());
  EXPECT_EQ(disabling->state(), v1::DISABLING);
  EXPECT_FALSE(disabling->enabled());
  update.set_enabled(true);
  auto enabling = manager_->Update(update);
  ASSERT_TRUE(enabling.ok());
  EXPECT_EQ(enabling->state(), v1::ENABLING);
  EXPECT_TRUE(enabling->enabled());
}

TEST_F(MappingManagerTest, UpdateErrors) {
  v1::EventSourceMappingConfiguration created = Create();
  v1::UpdateEventSourceMappingRequest update;
  EXPECT_EQ(manager_->Update(update).status().code(), absl::StatusCode::kInvalidArgument);
  update.set_uuid("nope");
  EXPECT_EQ(manager_->Update(update).status().code(), absl::StatusCode::kNotFound);
  update.set_uuid(created.uuid());
  update.set_function_timeout_seconds(901);
  auto bad = manager_->Update(update);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("function_timeout_seconds"), absl::string_view::npos);
  update.clear_function_timeout_seconds();
  update.mutable_destination_config()->mutable_on_failure()->set_destination("nowhere");
  EXPECT_EQ(manager_->Update(update).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(manager_->Get(created.uuid())->config_version(), 1) << "failed updates change nothing";
}

TEST_F(MappingManagerTest, UpdateOfADeletingMappingIsFailedPrecondition) {
  v1::EventSourceMappingConfiguration created = Create();
  ASSERT_TRUE(manager_->Delete(created.uuid()).ok());
  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(created.uuid());
  update.set_batch_size(5);
  EXPECT_EQ(manager_->Update(update).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(MappingManagerTest, DeleteMarksDeletingAndIsIdempotent) {
  v1::EventSourceMappingConfiguration created = Create();
  auto deleting = manager_->Delete(created.uuid());
  ASSERT_TRUE(deleting.ok());
  EXPECT_EQ(deleting->state(), v1::DELETING_MAPPING);
  EXPECT_EQ(deleting->config_version(), 2);
  auto again = manager_->Delete(created.uuid());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->config_version(), 2);
  EXPECT_EQ(manager_->Delete("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Delete("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(MappingManagerTest, ListFiltersByStreamAndFunction) {
  streams_.CreateStream("clicks", 1);
  Create("orders", "fn:1");
  Create("orders", "fn:2");
  Create("clicks", "fn:1");
  v1::ListEventSourceMappingsRequest request;
  EXPECT_EQ(manager_->List(request)->event_source_mappings_size(), 3);
  request.set_stream_name("orders");
  EXPECT_EQ(manager_->List(request)->event_source_mappings_size(), 2);
  request.set_function_endpoint("fn:2");
  auto page = manager_->List(request);
  ASSERT_EQ(page->event_source_mappings_size(), 1);
  EXPECT_EQ(page->event_source_mappings(0).function_endpoint(), "fn:2");
  EXPECT_TRUE(page->next_marker().empty());
}

TEST_F(MappingManagerTest, ListPagesWithMarkersVisitEveryMappingOnce) {
  std::set<std::string> created;
  for (int i = 0; i < 5; ++i) created.insert(Create().uuid());
  std::set<std::string> seen;
  v1::ListEventSourceMappingsRequest request;
  request.set_max_items(2);
  int pages = 0;
  do {
    auto page = manager_->List(request);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_LE(page->event_source_mappings_size(), 2);
    for (const auto& m : page->event_source_mappings()) {
      EXPECT_TRUE(seen.insert(m.uuid()).second) << "seen twice: " << m.uuid();
    }
    request.set_marker(page->next_marker());
    ++pages;
  } while (!request.marker().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, created);
}

TEST_F(MappingManagerTest, ListWithMaxItemsOutOfRangeIsInvalid) {
  v1::ListEventSourceMappingsRequest request;
  request.set_max_items(10001);
  EXPECT_EQ(manager_->List(request).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tributary::stream_tracker
