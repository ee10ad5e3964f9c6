// The stream tracker against the real Streams and Leasing services, all in this process on one
// gRPC server over in-process channels, on one FakeClock (the all-in-one binary's shape). Checks
// that leases follow a split and a merge with their lineage, that the shard store's change
// listener nudges the sync, that the leasing service runs children only after their parents,
// and that trimmed shards and deleted streams are followed.
#include <memory>
#include <string>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/proto_util.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leasing/leasing_client.h"
#include "leasing/leasing_service.h"
#include "shard_store/shard_store_client.h"
#include "shard_store/shard_store_node.h"
#include "stream_tracker/lease_sync.h"
#include "stream_tracker/remote_backends.h"
#include "stream_tracker/stream_tracker.h"
#include "stream_tracker/stream_tracker_client.h"

namespace tributary::stream_tracker {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::string Decimal(absl::uint128 v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

class IntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = tributary::testing::NewTempDir("stream_tracker_integration");
    shard_store::ShardStoreNodeOptions store_options;
    store_options.store.data_dir = root + "/shard_store";
    store_options.trim_period = absl::ZeroDuration();  // the test trims
    auto node = shard_store::ShardStoreNode::Create(store_options, clock_);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    auto leasing =
        leasing::LeasingStack::Create(clock_, root + "/leasing", leasing::LeaseTableOptions());
    ASSERT_TRUE(leasing.ok()) << leasing.status();
    leasing_ = *std::move(leasing);
    auto backends = GrpcServer::Start("127.0.0.1:0", {node_->service(), &leasing_->service()});
    ASSERT_TRUE(backends.ok()) << backends.status();
    backends_ = *std::move(backends);

    StreamTracker::Options options;
    options.data_dir = root + "/stream_tracker";
    auto tracker = StreamTracker::Create(options, backends_->InProcessChannel(),
                                         backends_->InProcessChannel(), clock_);
    ASSERT_TRUE(tracker.ok()) << tracker.status();
    tracker_ = *std::move(tracker);
    LeaseSync* sync = tracker_->lease_sync();
    node_->store().SetChangeListener([sync](const std::string&) { sync->RequestSync(); });
    auto server = GrpcServer::Start("127.0.0.1:0", {tracker_->service()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);

    streams_ = std::make_unique<shard_store::ShardStoreClient>(backends_->InProcessChannel());
    leases_ = std::make_unique<leasing::LeasingClient>(backends_->InProcessChannel());
    mappings_ = std::make_unique<StreamTrackerClient>(server_->InProcessChannel());
  }

  void TearDown() override {
    server_.reset();
    tracker_.reset();  // stops the sync loop before the backends go
    if (node_ != nullptr) node_->store().SetChangeListener(nullptr);
    backends_.reset();
  }

  void CreateStream(const std::string& name, int shards) {
    v1::CreateStreamRequest request;
    request.set_stream_name(name);
    request.set_shard_count(shards);
    ASSERT_TRUE(streams_->CreateStream(request).ok());
  }

  std::vector<v1::Shard> Shards(const std::string& stream) {
    auto shards = streams_->ListAllShards(stream);
    EXPECT_TRUE(shards.ok()) << shards.status();
    return shards.ok() ? *shards : std::vector<v1::Shard>();
  }

  // Splits `shard_id` at the middle of its hash range; returns the ids of the new shards.
  std::vector<std::string> Split(const std::string& stream, const std::string& shard_id) {
    std::vector<std::string> before;
    absl::uint128 start = 0, end = 0;
    for (const v1::Shard& shard : Shards(stream)) {
      before.push_back(shard.shard_id());
      if (shard.shard_id() == shard_id) {
        EXPECT_TRUE(absl::SimpleAtoi(shard.hash_key_range().starting_hash_key(), &start));
        EXPECT_TRUE(absl::SimpleAtoi(shard.hash_key_range().ending_hash_key(), &end));
      }
    }
    v1::SplitShardRequest request;
    request.set_stream_name(stream);
    request.set_shard_to_split(shard_id);
    request.set_new_starting_hash_key(Decimal(start + (end - start) / 2 + 1));
    absl::Status status = streams_->SplitShard(request).status();
    EXPECT_TRUE(status.ok()) << status;
    return NewShards(stream, before);
  }

  std::string Merge(const std::string& stream, const std::string& a, const std::string& b) {
    std::vector<std::string> before;
    for (const v1::Shard& shard : Shards(stream)) before.push_back(shard.shard_id());
    v1::MergeShardsRequest request;
    request.set_stream_name(stream);
    request.set_shard_to_merge(a);
    request.set_adjacent_shard_to_merge(b);
    absl::Status status = streams_->MergeShards(request).status();
    EXPECT_TRUE(status.ok()) << status;
    std::vector<std::string> added = NewShards(stream, before);
    EXPECT_EQ(added.size(), 1u);
    return added.empty() ? "" : added[0];
  }

  std::vector<std::string> NewShards(const std::string& stream,
                                     const std::vector<std::string>& before) {
    std::vector<std::string> added;
    for (const v1::Shard& shard : Shards(stream)) {
      if (std::find(before.begin(), before.end(), shard.shard_id()) == before.end()) {
        added.push_back(shard.shard_id());
      }
    }
    return added;
  }

  std::string CreateMapping(const std::string& stream, v1::EventSourcePosition position) {
    v1::CreateEventSourceMappingRequest request;
    request.set_stream_name(stream);
    request.set_function_endpoint("127.0.0.1:9999");
    request.set_starting_position(position);
    auto created = mappings_->CreateEventSourceMapping(request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->uuid() : "";
  }

  v1::EventSourceMappingConfiguration Mapping(const std::string& uuid) {
    v1::GetEventSourceMappingRequest get;
    get.set_uuid(uuid);
    auto config = mappings_->GetEventSourceMapping(get);
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() ? *config : v1::EventSourceMappingConfiguration();
  }

  void Sync() {
    absl::Status status = tracker_->lease_sync()->RunOnce();
    ASSERT_TRUE(status.ok()) << status;
  }

  std::vector<v1::Lease> Leases(const std::string& uuid) {
    v1::ListLeasesRequest request;
    request.set_event_source_mapping_uuid(uuid);
    auto leases = leases_->ListLeases(request);
    EXPECT_TRUE(leases.ok()) << leases.status();
    if (!leases.ok()) return {};
    return {leases->leases().begin(), leases->leases().end()};
  }

  std::vector<std::string> LeasedShards(const std::string& uuid) {
    std::vector<std::string> ids;
    for (const v1::Lease& lease : Leases(uuid)) ids.push_back(lease.shard_id());
    return ids;
  }

  v1::Lease Lease(const std::string& uuid, const std::string& shard) {
    v1::GetLeaseRequest request;
    request.mutable_lease_key()->set_event_source_mapping_uuid(uuid);
    request.mutable_lease_key()->set_shard_id(shard);
    auto lease = leases_->GetLease(request);
    EXPECT_TRUE(lease.ok()) << shard << ": " << lease.status();
    return lease.ok() ? *lease : v1::Lease();
  }

  std::vector<std::string> Parents(const std::string& uuid, const std::string& shard) {
    v1::Lease lease = Lease(uuid, shard);
    return {lease.parent_shard_ids().begin(), lease.parent_shard_ids().end()};
  }

  FakeClock clock_;
  std::unique_ptr<shard_store::ShardStoreNode> node_;
  std::unique_ptr<leasing::LeasingStack> leasing_;
  std::unique_ptr<GrpcServer> backends_;
  std::unique_ptr<StreamTracker> tracker_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<shard_store::ShardStoreClient> streams_;
  std::unique_ptr<leasing::LeasingClient> leases_;
  std::unique_ptr<StreamTrackerClient> mappings_;
};

TEST_F(IntegrationTest, LeasesFollowASplitAndAMergeWithTheirLineage) {
  CreateStream("orders", 2);
  const std::string uuid = CreateMapping("orders", v1::TRIM_HORIZON_POSITION);
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::ENABLED);
  EXPECT_THAT(LeasedShards(uuid),
              UnorderedElementsAre("shardId-000000000000", "shardId-000000000001"));

  std::vector<std::string> children = Split("orders", "shardId-000000000000");
  ASSERT_EQ(children.size(), 2u);
  Sync();
  for (const std::string& child : children) {
    v1::Lease lease = Lease(uuid, child);
    EXPECT_EQ(lease.checkpoint().type(), v1::TRIM_HORIZON_CHECKPOINT);
    EXPECT_THAT(Parents(uuid, child), ElementsAre("shardId-000000000000"));
    EXPECT_FALSE(lease.assignable()) << "a child waits for its parent's SHARD_END";
  }

  // The upper child of the split is adjacent to shard 1.
  const std::string merged = Merge("orders", children[1], "shardId-000000000001");
  Sync();
  EXPECT_THAT(Parents(uuid, merged), UnorderedElementsAre(children[1], "shardId-000000000001"));
  EXPECT_EQ(Lease(uuid, merged).checkpoint().type(), v1::TRIM_HORIZON_CHECKPOINT);
  EXPECT_EQ(LeasedShards(uuid).size(), 5u);
}

TEST_F(IntegrationTest, RemoteLeaseAdminReadsEveryPage) {
  CreateStream("orders", 5);
  const std::string uuid = CreateMapping("orders", v1::TRIM_HORIZON_POSITION);
  Sync();
  RemoteLeaseAdmin table(leases_.get(), /*list_page_size=*/2);
  auto leases = table.ListLeases(uuid);
  ASSERT_TRUE(leases.ok()) << leases.status();
  EXPECT_EQ(leases->size(), 5u);
}

TEST_F(IntegrationTest, TheShardStoresChangeListenerNudgesTheSync) {
  CreateStream("orders", 1);
  const std::string uuid = CreateMapping("orders", v1::TRIM_HORIZON_POSITION);
  tracker_->Start();
  ASSERT_OK(clock_.WaitForWaiters(1)) << "the sync loop never parked on the clock";
  const int64_t runs = tracker_->lease_sync()->runs_completed();
  std::vector<std::string> children = Split("orders", "shardId-000000000000");
  // No clock advance: only the listener can have woken the loop.
  ASSERT_OK(tracker_->lease_sync()->WaitForRunsCompleted(runs))
      << "the split did not nudge the sync";
  // The loop was parked when the split began, and the listener runs after the split is
  // committed: the pass it caused saw the new shards.
  ASSERT_EQ(children.size(), 2u);
  EXPECT_THAT(LeasedShards(uuid),
              UnorderedElementsAre("shardId-000000000000", children[0], children[1]));
}

TEST_F(IntegrationTest, LatestSkipsShardsClosedBeforeTheMappingExisted) {
  CreateStream("orders", 1);
  std::vector<std::string> children = Split("orders", "shardId-000000000000");
  clock_.Advance(absl::Seconds(5));
  const absl::Time created = clock_.Now();
  const std::string uuid = CreateMapping("orders", v1::LATEST_POSITION);
  Sync();
  EXPECT_THAT(LeasedShards(uuid), UnorderedElementsAre(children[0], children[1]));
  v1::Lease lease = Lease(uuid, children[0]);
  EXPECT_EQ(lease.checkpoint().type(), v1::AT_TIMESTAMP_CHECKPOINT);
  EXPECT_EQ(FromProtoTimestamp(lease.checkpoint().timestamp()), created);
  EXPECT_TRUE(lease.assignable()) << "its parent has no lease: nothing to wait for";
}

TEST_F(IntegrationTest, LatestLeasesAParentSplitAfterTheMappingWasCreated) {
  CreateStream("orders", 1);
  clock_.Advance(absl::Seconds(5));
  const std::string uuid = CreateMapping("orders", v1::LATEST_POSITION);
  clock_.Advance(absl::Seconds(5));
  std::vector<std::string> children = Split("orders", "shardId-000000000000");
  Sync();  // the first pass comes after the split
  EXPECT_THAT(LeasedShards(uuid),
              UnorderedElementsAre("shardId-000000000000", children[0], children[1]));
}

TEST_F(IntegrationTest, LeaseOfAShardTrimmedByRetentionIsDeleted) {
  CreateStream("orders", 1);
  v1::PutRecordRequest put;
  put.set_stream_name("orders");
  put.set_partition_key("k");
  put.set_data("v");
  ASSERT_TRUE(streams_->PutRecord(put).ok());
  const std::string uuid = CreateMapping("orders", v1::TRIM_HORIZON_POSITION);
  std::vector<std::string> children = Split("orders", "shardId-000000000000");
  Sync();
  ASSERT_EQ(LeasedShards(uuid).size(), 3u);
  clock_.Advance(absl::Hours(25));  // past the default 24 h retention
  ASSERT_TRUE(node_->store().TrimExpiredRecords().ok());
  ASSERT_EQ(Shards("orders").size(), 2u) << "the closed, fully trimmed parent left the stream";
  Sync();
  EXPECT_THAT(LeasedShards(uuid), UnorderedElementsAre(children[0], children[1]));
  EXPECT_TRUE(Lease(uuid, children[0]).assignable()) << "a trimmed parent is done";
}

// Issue 14, item 11: a closed parent with no records stays listed until the retention period
// after it closed, so its lease stays, a poller reads it to SHARD_END (with its children) and
// checkpoints that, and only then do the children run; the lease goes when the shard leaves
// ListShards. Before, the trimmer removed the parent a minute after the split.
TEST_F(IntegrationTest, AnEmptyClosedParentIsReadToShardEndAndLeavesAfterRetention) {
  CreateStream("orders", 1);
  const std::string uuid = CreateMapping("orders", v1::TRIM_HORIZON_POSITION);
  std::vector<std::string> children = Split("orders", "shardId-000000000000");
  Sync();
  ASSERT_EQ(LeasedShards(uuid).size(), 3u);
  clock_.Advance(absl::Minutes(2));  // past a trimmer period and the full-sync interval
  ASSERT_TRUE(node_->store().TrimExpiredRecords().ok());
  Sync();
  ASSERT_THAT(LeasedShards(uuid),
              UnorderedElementsAre("shardId-000000000000", children[0], children[1]))
      << "the empty parent's lease went with its shard";

  // A poller takes the parent (the children wait for it) and reads it to SHARD_END.
  v1::RegisterPollerRequest reg;
  reg.set_poller_id("p1");
  reg.set_capacity(3);
  ASSERT_TRUE(leases_->RegisterPoller(reg).ok());
  v1::AcquireLeasesRequest acquire;
  acquire.set_poller_id("p1");
  auto acquired = leases_->AcquireLeases(acquire);
  ASSERT_TRUE(acquired.ok()) << acquired.status();
  ASSERT_EQ(acquired->leases_size(), 1);
  const v1::Lease& parent = acquired->leases(0);
  ASSERT_EQ(parent.shard_id(), "shardId-000000000000");
  v1::GetShardIteratorRequest at;
  at.set_stream_name("orders");
  at.set_shard_id(parent.shard_id());
  at.set_shard_iterator_type(v1::TRIM_HORIZON);
  auto iterator = streams_->GetShardIterator(at);
  ASSERT_TRUE(iterator.ok()) << iterator.status();
  v1::GetRecordsRequest get;
  get.set_shard_iterator(iterator->shard_iterator());
  auto read = streams_->GetRecords(get);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->records().empty());
  EXPECT_TRUE(read->next_shard_iterator().empty()) << "at SHARD_END";
  EXPECT_EQ(read->child_shards_size(), 2);
  v1::CheckpointRequest checkpoint;
  checkpoint.mutable_lease_key()->set_event_source_mapping_uuid(uuid);
  checkpoint.mutable_lease_key()->set_shard_id(parent.shard_id());
  checkpoint.set_poller_id("p1");
  checkpoint.set_lease_counter(parent.lease_counter());
  checkpoint.mutable_checkpoint()->set_type(v1::SHARD_END);
  auto checkpointed = leases_->Checkpoint(checkpoint);
  ASSERT_TRUE(checkpointed.ok()) << checkpointed.status();
  EXPECT_TRUE(Lease(uuid, children[0]).assignable()) << "the parent reached SHARD_END";

  // A day after the split the parent leaves ListShards, and its lease goes.
  clock_.Advance(absl::Hours(24));
  ASSERT_TRUE(node_->store().TrimExpiredRecords().ok());
  ASSERT_EQ(Shards("orders").size(), 2u);
  Sync();
  EXPECT_THAT(LeasedShards(uuid), UnorderedElementsAre(children[0], children[1]));
}

TEST_F(IntegrationTest, DeletedStreamEndsTheMappingsWork) {
  CreateStream("orders", 2);
  const std::string uuid = CreateMapping("orders", v1::TRIM_HORIZON_POSITION);
  Sync();
  v1::DeleteStreamRequest request;
  request.set_stream_name("orders");
  ASSERT_TRUE(streams_->DeleteStream(request).ok());
  Sync();
  EXPECT_THAT(LeasedShards(uuid), IsEmpty());
  EXPECT_EQ(Mapping(uuid).state_transition_reason(), kWorkEndedStreamDeleted);
  EXPECT_EQ(Mapping(uuid).last_processing_result(), kStreamNotFoundResult);
}

TEST_F(IntegrationTest, MappingShowsTheResultItsPollerReportedToLeasing) {
  CreateStream("orders", 1);
  const std::string uuid = CreateMapping("orders", v1::TRIM_HORIZON_POSITION);
  Sync();
  ASSERT_EQ(Mapping(uuid).last_processing_result(), "No records processed");
  const int64_t version = Mapping(uuid).config_version();
  // A poller takes the lease and reports in its heartbeat, as poller/poller.cc does.
  v1::RegisterPollerRequest reg;
  reg.set_poller_id("p1");
  reg.set_capacity(1);
  ASSERT_TRUE(leases_->RegisterPoller(reg).ok());
  v1::AcquireLeasesRequest acquire;
  acquire.set_poller_id("p1");
  auto acquired = leases_->AcquireLeases(acquire);
  ASSERT_TRUE(acquired.ok() && acquired->leases_size() == 1) << acquired.status();
  auto report = [&](const std::string& result, const std::string& error_kind) {
    v1::HeartbeatRequest heartbeat;
    heartbeat.set_poller_id("p1");
    v1::HeldLeaseStatus* held = heartbeat.add_held_leases();
    held->mutable_lease_key()->set_event_source_mapping_uuid(uuid);
    held->mutable_lease_key()->set_shard_id(acquired->leases(0).shard_id());
    held->set_last_processing_result(result);
    *held->mutable_last_processing_result_time() = ToProtoTimestamp(clock_.Now());
    held->set_last_error_kind(error_kind);
    held->set_last_error_message(error_kind.empty() ? "" : "Unhandled: boom");
    if (!error_kind.empty()) *held->mutable_last_error_time() = ToProtoTimestamp(clock_.Now());
    ASSERT_TRUE(leases_->Heartbeat(heartbeat).ok());
  };
  // Steady passes (one second apart, no full look) are enough: the text follows the pollers.
  const absl::Time failed_at = clock_.Now() + absl::Seconds(4);  // the second report
  for (const auto& [result, error] : {std::make_pair(std::string("OK"), std::string()),
                                      std::make_pair(std::string("PROBLEM: Function call failed"),
                                                     std::string("FunctionError"))}) {
    clock_.Advance(absl::Seconds(1));
    Sync();
    clock_.Advance(absl::Seconds(1));
    report(result, error);
    Sync();
    EXPECT_EQ(Mapping(uuid).last_processing_result(), result);
  }
  const v1::EventSourceMappingConfiguration mapping = Mapping(uuid);
  EXPECT_EQ(mapping.last_error_kind(), "FunctionError");
  EXPECT_EQ(mapping.last_error_message(), "Unhandled: boom");
  EXPECT_EQ(FromProtoTimestamp(mapping.last_error_time()), failed_at);
  EXPECT_EQ(mapping.last_error_shard_id(), acquired->leases(0).shard_id());
  EXPECT_EQ(mapping.config_version(), version) << "not a configuration change";
}

TEST_F(IntegrationTest, DisableAndDeleteReachTheLeaseTable) {
  CreateStream("orders", 2);
  const std::string uuid = CreateMapping("orders", v1::TRIM_HORIZON_POSITION);
  Sync();
  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(uuid);
  update.set_enabled(false);
  ASSERT_TRUE(mappings_->UpdateEventSourceMapping(update).ok());
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::DISABLED);
  for (const v1::Lease& lease : Leases(uuid)) {
    EXPECT_FALSE(lease.enabled());
    EXPECT_FALSE(lease.assignable());
  }
  v1::DeleteEventSourceMappingRequest del;
  del.set_uuid(uuid);
  ASSERT_TRUE(mappings_->DeleteEventSourceMapping(del).ok());
  Sync();
  EXPECT_THAT(Leases(uuid), IsEmpty());
  v1::GetEventSourceMappingRequest get;
  get.set_uuid(uuid);
  EXPECT_EQ(mappings_->GetEventSourceMapping(get).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tributary::stream_tracker
