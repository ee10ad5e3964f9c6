// The lease sync as a specification: which leases exist, with which parents and initial
// checkpoints, after each kind of change to a stream or a mapping. Everything runs against the
// in-memory fakes and a FakeClock; passes are driven with RunOnce().
#include "stream_tracker/lease_sync.h"

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/proto_util.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "stream_tracker/mapping_manager.h"
#include "stream_tracker/mapping_state.h"
#include "stream_tracker/testing/fake_lease_admin.h"
#include "stream_tracker/testing/fake_stream_catalog.h"

namespace tributary::stream_tracker {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

class LeaseSyncTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  // (Re)opens the store and builds the manager and the sync over it, as a process start does.
  void Open() {
    sync_.reset();
    manager_.reset();
    store_.reset();
    auto store = MappingStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    LeaseSync::Options options;
    options.interval = absl::Seconds(1);
    sync_ = std::make_unique<LeaseSync>(store_.get(), &streams_, &leases_, clock_, options);
    manager_ = std::make_unique<MappingManager>(store_.get(), &streams_, clock_,
                                                [this] { sync_->RequestSync(); });
  }

  std::string CreateMapping(v1::EventSourcePosition position, const std::string& stream = "orders",
                            bool enabled = true) {
    v1::CreateEventSourceMappingRequest request;
    request.set_stream_name(stream);
    request.set_function_endpoint("fn:1");
    request.set_starting_position(position);
    request.set_enabled(enabled);
    if (position == v1::AT_TIMESTAMP_POSITION) {
      *request.mutable_starting_position_timestamp() = ToProtoTimestamp(at_timestamp_);
    }
    auto config = manager_->Create(request);
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() ? config->uuid() : "";
  }

  void Sync() { ASSERT_TRUE(sync_->RunOnce().ok()); }

  v1::EventSourceMappingConfiguration Mapping(const std::string& uuid) {
    auto config = manager_->Get(uuid);
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() ? *config : v1::EventSourceMappingConfiguration();
  }

  void SetEnabled(const std::string& uuid, bool enabled) {
    v1::UpdateEventSourceMappingRequest update;
    update.set_uuid(uuid);
    update.set_enabled(enabled);
    ASSERT_TRUE(manager_->Update(update).ok());
  }

  std::vector<v1::Lease> AllLeases(const std::string& uuid) {
    auto leases = leases_.ListLeases(uuid);
    EXPECT_TRUE(leases.ok()) << leases.status();
    return leases.ok() ? *leases : std::vector<v1::Lease>();
  }

  std::vector<std::string> LeasedShards(const std::string& uuid) {
    std::vector<std::string> shards;
    for (const v1::Lease& lease : AllLeases(uuid)) shards.push_back(lease.shard_id());
    return shards;
  }

  v1::Lease Lease(const std::string& uuid, const std::string& shard) {
    auto lease = leases_.Get(uuid, shard);
    EXPECT_TRUE(lease.has_value()) << "no lease for " << shard;
    return lease.value_or(v1::Lease());
  }

  std::vector<std::string> Parents(const std::string& uuid, const std::string& shard) {
    v1::Lease lease = Lease(uuid, shard);
    return {lease.parent_shard_ids().begin(), lease.parent_shard_ids().end()};
  }

  v1::CheckpointType CheckpointOf(const std::string& uuid, const std::string& shard) {
    return Lease(uuid, shard).checkpoint().type();
  }

  // Moves the clock by the full-sync interval: the next pass takes a full look at every mapping.
  void NextFullLook() { clock_.Advance(LeaseSync::Options().full_sync_interval); }

  void Checkpoint(const std::string& uuid, const std::string& shard, v1::CheckpointType type,
                  const std::string& sequence = "") {
    v1::Checkpoint checkpoint;
    checkpoint.set_type(type);
    checkpoint.set_sequence_number(sequence);
    leases_.SetCheckpoint(uuid, shard, checkpoint);
  }

  const std::string dir_ = tributary::testing::NewTempDir("lease_sync");
  FakeClock clock_;
  const absl::Time at_timestamp_ = absl::FromUnixSeconds(1'600'000'000);
  testing::FakeStreamCatalog streams_{clock_};
  testing::FakeLeaseAdmin leases_;
  std::unique_ptr<MappingStore> store_;
  std::unique_ptr<LeaseSync> sync_;
  std::unique_ptr<MappingManager> manager_;
};

// --- the state machine ---

TEST_F(LeaseSyncTest, CreatingMappingBecomesEnabledOnceItsLeasesExist) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  EXPECT_EQ(Mapping(uuid).state(), v1::CREATING_MAPPING);
  clock_.Advance(absl::Seconds(3));
  Sync();
  v1::EventSourceMappingConfiguration mapping = Mapping(uuid);
  EXPECT_EQ(mapping.state(), v1::ENABLED);
  EXPECT_EQ(mapping.state_transition_reason(), "User action");
  EXPECT_EQ(mapping.config_version(), 2);
  EXPECT_EQ(FromProtoTimestamp(mapping.last_modified()), clock_.Now());
  EXPECT_EQ(AllLeases(uuid).size(), 2u);
}

TEST_F(LeaseSyncTest, MappingCreatedDisabledBecomesDisabledWithDisabledLeases) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION, "orders", false);
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::DISABLED);
  EXPECT_FALSE(Lease(uuid, "shardId-000000000000").enabled());
}

TEST_F(LeaseSyncTest, UpdateGoesBackToEnabledOnTheNextPass) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(uuid);
  update.set_batch_size(10);
  ASSERT_EQ(manager_->Update(update)->state(), v1::UPDATING_MAPPING);
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::ENABLED);
  EXPECT_EQ(Mapping(uuid).batch_size(), 10);
  EXPECT_EQ(Mapping(uuid).config_version(), 4) << "create, created, update, updated";
}

TEST_F(LeaseSyncTest, PassWithNothingToDoChangesNothing) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  const v1::EventSourceMappingConfiguration before = Mapping(uuid);
  clock_.Advance(absl::Seconds(10));
  Sync();
  EXPECT_EQ(Mapping(uuid).SerializeAsString(), before.SerializeAsString());
}

TEST_F(LeaseSyncTest, DisableThenEnableKeepsCheckpoints) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  Checkpoint(uuid, "shardId-000000000000", v1::SEQUENCE_NUMBER, "42");

  SetEnabled(uuid, false);
  EXPECT_EQ(Mapping(uuid).state(), v1::DISABLING);
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::DISABLED);
  for (const v1::Lease& lease : AllLeases(uuid)) EXPECT_FALSE(lease.enabled());
  EXPECT_EQ(Lease(uuid, "shardId-000000000000").checkpoint().sequence_number(), "42");

  SetEnabled(uuid, true);
  EXPECT_EQ(Mapping(uuid).state(), v1::ENABLING);
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::ENABLED);
  for (const v1::Lease& lease : AllLeases(uuid)) EXPECT_TRUE(lease.enabled());
  v1::Lease resumed = Lease(uuid, "shardId-000000000000");
  EXPECT_EQ(resumed.checkpoint().type(), v1::SEQUENCE_NUMBER);
  EXPECT_EQ(resumed.checkpoint().sequence_number(), "42");
}

// Issue 14, item 1: DISABLED was recorded as soon as the leases were disabled in leasing, while
// a poller could still hold one and invoke. It stays DISABLING until every lease is given back.
TEST_F(LeaseSyncTest, DisablingLastsUntilNoPollerHoldsALease) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  leases_.SetOwner(uuid, "shardId-000000000000", "poller-1");
  SetEnabled(uuid, false);
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::DISABLING) << "a poller still holds a lease";
  for (const v1::Lease& lease : AllLeases(uuid)) EXPECT_FALSE(lease.enabled());
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::DISABLING);
  leases_.SetOwner(uuid, "shardId-000000000000", "");  // its holder gave it back
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::DISABLED);
}

TEST_F(LeaseSyncTest, ALeaseWhoseOwnerStoppedHeartbeatingDoesNotHoldDisabling) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  leases_.SetOwner(uuid, "shardId-000000000000", "poller-1", /*expired=*/true);
  SetEnabled(uuid, false);
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::DISABLED);
}

// A lease acquired after the pass listed the leases but before it disabled them is seen.
TEST_F(LeaseSyncTest, ALeaseAcquiredJustBeforeTheDisableHoldsDisabling) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  SetEnabled(uuid, false);
  leases_.OnSetMappingEnabled([&] {
    leases_.OnSetMappingEnabled(nullptr);
    leases_.SetOwner(uuid, "shardId-000000000000", "poller-1");
  });
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::DISABLING);
}

// Issue 14, item 1 (delete): the leases were deleted at once, under a poller still invoking.
TEST_F(LeaseSyncTest, DeletingLastsUntilNoPollerHoldsALeaseThenRemovesLeasesAndMapping) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  leases_.SetOwner(uuid, "shardId-000000000001", "poller-1");
  ASSERT_TRUE(manager_->Delete(uuid).ok());
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::DELETING_MAPPING) << "a poller still holds a lease";
  ASSERT_EQ(LeasedShards(uuid).size(), 2u);
  for (const v1::Lease& lease : AllLeases(uuid)) EXPECT_FALSE(lease.enabled());
  leases_.SetOwner(uuid, "shardId-000000000001", "");
  Sync();
  EXPECT_EQ(manager_->Get(uuid).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(LeasedShards(uuid), IsEmpty());
}

TEST_F(LeaseSyncTest, NewShardsOfADisabledMappingGetDisabledLeases) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  SetEnabled(uuid, false);
  Sync();
  auto children = streams_.SplitShard("orders", "shardId-000000000000");
  Sync();
  EXPECT_FALSE(Lease(uuid, children[0]).enabled());
  EXPECT_FALSE(Lease(uuid, children[1]).enabled());
}

TEST_F(LeaseSyncTest, ChangeDuringAPassIsNotOverwrittenAndIsFinishedByTheNext) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  SetEnabled(uuid, false);
  // While the pass disables the leases, the user re-enables the mapping.
  leases_.OnSetMappingEnabled([&] {
    leases_.OnSetMappingEnabled(nullptr);
    SetEnabled(uuid, true);
  });
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::ENABLING) << "the pass must not record DISABLED";
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::ENABLED);
  EXPECT_TRUE(Lease(uuid, "shardId-000000000000").enabled());
}

TEST_F(LeaseSyncTest, DeleteRemovesTheLeasesThenTheMapping) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  const std::string other = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  ASSERT_EQ(manager_->Delete(uuid)->state(), v1::DELETING_MAPPING);
  EXPECT_EQ(LeasedShards(uuid).size(), 2u) << "leases stay until the sync runs";
  Sync();
  EXPECT_EQ(manager_->Get(uuid).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(LeasedShards(uuid), IsEmpty());
  EXPECT_EQ(LeasedShards(other).size(), 2u);
}

TEST_F(LeaseSyncTest, FailedPassLeavesTheMappingForTheNextOne) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  leases_.FailNextCalls(absl::UnavailableError("leasing down"));
  absl::Status status = sync_->RunOnce();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find(uuid), absl::string_view::npos) << status;
  EXPECT_EQ(Mapping(uuid).state(), v1::CREATING_MAPPING);
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::ENABLED);
  EXPECT_EQ(LeasedShards(uuid).size(), 2u);
}

TEST_F(LeaseSyncTest, OneFailingMappingDoesNotStopTheOthers) {
  streams_.CreateStream("orders", 1);
  streams_.CreateStream("clicks", 1);
  const std::string a = CreateMapping(v1::TRIM_HORIZON_POSITION, "orders");
  const std::string b = CreateMapping(v1::TRIM_HORIZON_POSITION, "clicks");
  streams_.FailNextCalls(absl::UnavailableError("shard store down"));
  EXPECT_EQ(sync_->RunOnce().code(), absl::StatusCode::kUnavailable);
  // Exactly one of the two was visited while the shard store failed; the other got its lease.
  EXPECT_EQ(LeasedShards(a).size() + LeasedShards(b).size(), 1u);
}

TEST_F(LeaseSyncTest, APassListsEachStreamsShardsOnce) {
  streams_.CreateStream("orders", 2);
  for (int i = 0; i < 3; ++i) CreateMapping(v1::TRIM_HORIZON_POSITION);
  const int before = streams_.list_shards_calls();
  Sync();
  EXPECT_EQ(streams_.list_shards_calls() - before, 1);
  EXPECT_EQ(leases_.total_leases(), 6);
}

// --- leases for every shard, with parents ---

TEST_F(LeaseSyncTest, TrimHorizonLeasesEveryRetainedShardWithItsParents) {
  streams_.CreateStream("orders", 2);                                              // shards 0 and 1
  auto split = streams_.SplitShard("orders", "shardId-000000000000");              // 2, 3
  auto merged = streams_.MergeShards("orders", split[1], "shardId-000000000001");  // 4
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  EXPECT_THAT(LeasedShards(uuid),
              UnorderedElementsAre("shardId-000000000000", "shardId-000000000001", split[0],
                                   split[1], merged));
  for (const std::string& shard : LeasedShards(uuid)) {
    EXPECT_EQ(CheckpointOf(uuid, shard), v1::TRIM_HORIZON_CHECKPOINT) << shard;
    EXPECT_TRUE(Lease(uuid, shard).enabled());
    EXPECT_EQ(Lease(uuid, shard).stream_name(), "orders");
  }
  EXPECT_THAT(Parents(uuid, "shardId-000000000000"), IsEmpty());
  EXPECT_THAT(Parents(uuid, split[0]), ElementsAre("shardId-000000000000"));
  EXPECT_THAT(Parents(uuid, split[1]), ElementsAre("shardId-000000000000"));
  EXPECT_THAT(Parents(uuid, merged), UnorderedElementsAre(split[1], "shardId-000000000001"));
}

TEST_F(LeaseSyncTest, LatestStartsOpenShardsAtTheCreationTimeAndSkipsClosedAncestors) {
  streams_.CreateStream("orders", 1);
  auto children = streams_.SplitShard("orders", "shardId-000000000000");
  clock_.Advance(absl::Seconds(1));  // the parent closed before the mapping was created
  const absl::Time created = clock_.Now();
  const std::string uuid = CreateMapping(v1::LATEST_POSITION);
  clock_.Advance(absl::Minutes(5));  // the pass runs later: the position must not move
  Sync();
  EXPECT_THAT(LeasedShards(uuid), UnorderedElementsAreArray(children));
  for (const std::string& child : children) {
    v1::Lease lease = Lease(uuid, child);
    EXPECT_EQ(lease.checkpoint().type(), v1::AT_TIMESTAMP_CHECKPOINT)
        << "never plain LATEST: a lost lease would skip records";
    EXPECT_EQ(FromProtoTimestamp(lease.checkpoint().timestamp()), created);
    EXPECT_THAT(Parents(uuid, child), ElementsAre("shardId-000000000000"));
  }
  // The skipped ancestor stays skipped on later passes.
  Sync();
  EXPECT_FALSE(leases_.Get(uuid, "shardId-000000000000").has_value());
}

TEST_F(LeaseSyncTest, LatestLeasesAShardThatClosedAfterCreationBeforeTheFirstPass) {
  streams_.CreateStream("orders", 1);
  const absl::Time created = clock_.Now();
  const std::string uuid = CreateMapping(v1::LATEST_POSITION);
  clock_.Advance(absl::Seconds(1));
  auto children = streams_.SplitShard("orders", "shardId-000000000000");
  Sync();
  // The parent was open when the mapping was created: records written to it after that must be
  // processed, so it is leased from the creation time, and its children wait for it.
  EXPECT_THAT(LeasedShards(uuid),
              UnorderedElementsAre("shardId-000000000000", children[0], children[1]));
  v1::Lease parent = Lease(uuid, "shardId-000000000000");
  EXPECT_EQ(parent.checkpoint().type(), v1::AT_TIMESTAMP_CHECKPOINT);
  EXPECT_EQ(FromProtoTimestamp(parent.checkpoint().timestamp()), created);
  EXPECT_THAT(Parents(uuid, children[0]), ElementsAre("shardId-000000000000"));
}

TEST_F(LeaseSyncTest, AtTimestampSkipsShardsClosedBeforeTheTimestamp) {
  streams_.CreateStream("orders", 1);
  auto children = streams_.SplitShard("orders", "shardId-000000000000");
  clock_.Advance(absl::Minutes(1));
  v1::CreateEventSourceMappingRequest request;
  request.set_stream_name("orders");
  request.set_function_endpoint("fn:1");
  request.set_starting_position(v1::AT_TIMESTAMP_POSITION);
  *request.mutable_starting_position_timestamp() = ToProtoTimestamp(clock_.Now());
  auto created = manager_->Create(request);
  ASSERT_TRUE(created.ok()) << created.status();
  Sync();
  EXPECT_THAT(LeasedShards(created->uuid()), UnorderedElementsAreArray(children));
}

TEST_F(LeaseSyncTest, AtTimestampStartsEveryShardAtTheTimestamp) {
  streams_.CreateStream("orders", 1);
  auto children = streams_.SplitShard("orders", "shardId-000000000000");
  const std::string uuid = CreateMapping(v1::AT_TIMESTAMP_POSITION);
  Sync();
  EXPECT_THAT(LeasedShards(uuid),
              UnorderedElementsAre("shardId-000000000000", children[0], children[1]));
  for (const std::string& shard : LeasedShards(uuid)) {
    v1::Lease lease = Lease(uuid, shard);
    EXPECT_EQ(lease.checkpoint().type(), v1::AT_TIMESTAMP_CHECKPOINT);
    EXPECT_EQ(FromProtoTimestamp(lease.checkpoint().timestamp()), at_timestamp_);
  }
}

// --- resharding after the mapping exists, for every starting position ---

class ReshardingTest : public LeaseSyncTest,
                       public ::testing::WithParamInterface<v1::EventSourcePosition> {};

TEST_P(ReshardingTest, SplitChildrenGetLeasesFromTrimHorizonWithTheirParent) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(GetParam());
  Sync();
  const v1::Checkpoint parent_checkpoint = Lease(uuid, "shardId-000000000000").checkpoint();
  auto children = streams_.SplitShard("orders", "shardId-000000000000");
  Sync();
  EXPECT_EQ(LeasedShards(uuid).size(), 4u);
  for (const std::string& child : children) {
    EXPECT_EQ(CheckpointOf(uuid, child), v1::TRIM_HORIZON_CHECKPOINT)
        << "a child is read from its start";
    EXPECT_THAT(Parents(uuid, child), ElementsAre("shardId-000000000000"));
  }
  EXPECT_EQ(Lease(uuid, "shardId-000000000000").checkpoint().SerializeAsString(),
            parent_checkpoint.SerializeAsString())
      << "the parent's lease is untouched";
  EXPECT_THAT(Lease(uuid, "shardId-000000000000").child_shard_ids(),
              UnorderedElementsAreArray(children));
}

TEST_P(ReshardingTest, MergeChildGetsALeaseWithBothParents) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(GetParam());
  Sync();
  const std::string child =
      streams_.MergeShards("orders", "shardId-000000000000", "shardId-000000000001");
  Sync();
  EXPECT_EQ(CheckpointOf(uuid, child), v1::TRIM_HORIZON_CHECKPOINT);
  EXPECT_THAT(Parents(uuid, child),
              UnorderedElementsAre("shardId-000000000000", "shardId-000000000001"));
}

TEST_P(ReshardingTest, ChildrenOfChildrenFollowOnLaterPasses) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(GetParam());
  Sync();
  auto children = streams_.SplitShard("orders", "shardId-000000000000");
  auto grandchildren = streams_.SplitShard("orders", children[0]);
  Sync();
  EXPECT_EQ(LeasedShards(uuid).size(), 5u);
  EXPECT_THAT(Parents(uuid, grandchildren[1]), ElementsAre(children[0]));
  EXPECT_EQ(CheckpointOf(uuid, grandchildren[1]), v1::TRIM_HORIZON_CHECKPOINT);
}

INSTANTIATE_TEST_SUITE_P(EveryStartingPosition, ReshardingTest,
                         ::testing::Values(v1::TRIM_HORIZON_POSITION, v1::LATEST_POSITION,
                                           v1::AT_TIMESTAMP_POSITION),
                         [](const ::testing::TestParamInfo<v1::EventSourcePosition>& info) {
                           return std::string(v1::EventSourcePosition_Name(info.param));
                         });

TEST_F(LeaseSyncTest, TrimmedShardsLoseTheirLeases) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  auto children = streams_.SplitShard("orders", "shardId-000000000000");
  Sync();
  Checkpoint(uuid, "shardId-000000000000", v1::SHARD_END);
  streams_.TrimShard("orders", "shardId-000000000000");
  // A trim is invisible to the cheap probe; the next full look (full_sync_interval) sees it.
  clock_.Advance(absl::Minutes(1));
  Sync();
  EXPECT_THAT(LeasedShards(uuid), UnorderedElementsAreArray(children));
  Sync();
  EXPECT_FALSE(leases_.Get(uuid, "shardId-000000000000").has_value()) << "never re-created";
}

TEST_F(LeaseSyncTest, ATrimIsSeenWithinTheFullSyncInterval) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  auto children = streams_.SplitShard("orders", "shardId-000000000000");
  Sync();
  streams_.TrimShard("orders", "shardId-000000000000");
  clock_.Advance(absl::Seconds(59));
  Sync();
  EXPECT_TRUE(leases_.Get(uuid, "shardId-000000000000").has_value()) << "probe only, no listing";
  clock_.Advance(absl::Seconds(1));
  Sync();
  EXPECT_THAT(LeasedShards(uuid), UnorderedElementsAreArray(children));
}

TEST_F(LeaseSyncTest, ATrimIsSeenWithinTheFullSyncIntervalWhateverTheWallClockDoes) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  auto children = streams_.SplitShard("orders", "shardId-000000000000");
  Sync();
  streams_.TrimShard("orders", "shardId-000000000000");
  // The interval runs on the monotonic clock (issue 14, item 10): on the wall clock a step back
  // postponed the next full look by the step.
  clock_.StepWallClock(-absl::Hours(1));
  clock_.Advance(absl::Minutes(1));
  Sync();
  EXPECT_THAT(LeasedShards(uuid), UnorderedElementsAreArray(children));
}

// --- steady passes probe instead of listing ---

TEST_F(LeaseSyncTest, SteadyPassesProbeTheStreamInsteadOfListingIt) {
  streams_.CreateStream("orders", 4);
  for (int i = 0; i < 2; ++i) CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();  // the first look at both mappings: one listing, and CREATING → ENABLED
  const int lists = streams_.list_shards_calls();
  const int probes = streams_.probe_calls();
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Seconds(1));
    Sync();
  }
  EXPECT_EQ(streams_.list_shards_calls(), lists) << "nothing changed: no listing";
  EXPECT_EQ(streams_.probe_calls() - probes, 5) << "one probe per stream per pass";
  EXPECT_EQ(leases_.total_leases(), 8);
}

TEST_F(LeaseSyncTest, SplitMergeAndUpdateEachCauseAFullLook) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  Sync();
  int lists = streams_.list_shards_calls();
  Sync();
  ASSERT_EQ(streams_.list_shards_calls(), lists);

  auto children = streams_.SplitShard("orders", "shardId-000000000000");  // 2, 3
  Sync();
  EXPECT_GT(streams_.list_shards_calls(), lists);
  EXPECT_THAT(Parents(uuid, children[0]), ElementsAre("shardId-000000000000"));

  lists = streams_.list_shards_calls();
  const std::string merged = streams_.MergeShards("orders", children[1], "shardId-000000000001");
  Sync();
  EXPECT_GT(streams_.list_shards_calls(), lists);
  EXPECT_THAT(Parents(uuid, merged), ElementsAre(children[1], "shardId-000000000001"));

  Sync();
  lists = streams_.list_shards_calls();
  SetEnabled(uuid, false);
  Sync();
  EXPECT_GT(streams_.list_shards_calls(), lists);
  EXPECT_EQ(Mapping(uuid).state(), v1::DISABLED);
}

TEST_F(LeaseSyncTest, ClosingTheLastOpenShardKeepsLookingUntilTheWorkEnds) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  Sync();
  streams_.CloseShard("orders", "shardId-000000000000");
  Sync();
  EXPECT_FALSE(Mapping(uuid).state_transition_reason() == kWorkEndedStreamClosed);
  // Nothing about the stream changes any more; only the lease reaching SHARD_END ends the work.
  Sync();
  Checkpoint(uuid, "shardId-000000000000", v1::SHARD_END);
  Sync();
  EXPECT_EQ(Mapping(uuid).state_transition_reason(), kWorkEndedStreamClosed);
  const int lists = streams_.list_shards_calls();
  Sync();
  EXPECT_EQ(streams_.list_shards_calls(), lists) << "ended and unchanged: probe only";
}

TEST_F(LeaseSyncTest, StreamDeletedAndCreatedAgainBetweenTwoPassesStartsOver) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  Sync();
  Checkpoint(uuid, "shardId-000000000000", v1::SEQUENCE_NUMBER, "42");
  streams_.DeleteStream("orders");
  clock_.Advance(absl::Seconds(1));
  streams_.CreateStream("orders", 1);  // the same shard id again, new records
  Sync();
  EXPECT_EQ(Mapping(uuid).state_transition_reason(), kWorkEndedStreamDeleted);
  EXPECT_THAT(LeasedShards(uuid), IsEmpty()) << "the old stream's checkpoint must not be reused";
  Sync();
  EXPECT_THAT(LeasedShards(uuid), ElementsAre("shardId-000000000000"));
  EXPECT_EQ(CheckpointOf(uuid, "shardId-000000000000"), v1::TRIM_HORIZON_CHECKPOINT);
  EXPECT_EQ(Mapping(uuid).state_transition_reason(), kStreamFoundAgain);
}

// --- the end of a mapping's work ---

TEST_F(LeaseSyncTest, WorkEndsWhenEveryShardIsClosedAndAtShardEnd) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  streams_.CloseShard("orders", "shardId-000000000000");
  streams_.CloseShard("orders", "shardId-000000000001");
  Checkpoint(uuid, "shardId-000000000000", v1::SHARD_END);
  Sync();
  EXPECT_EQ(Mapping(uuid).state_transition_reason(), "User action") << "one lease is not done";
  Checkpoint(uuid, "shardId-000000000001", v1::SHARD_END);
  const int64_t version = Mapping(uuid).config_version();
  Sync();
  v1::EventSourceMappingConfiguration mapping = Mapping(uuid);
  EXPECT_EQ(mapping.state_transition_reason(), kWorkEndedStreamClosed);
  EXPECT_EQ(mapping.state(), v1::ENABLED);
  EXPECT_EQ(mapping.config_version(), version + 1);
}

// --- last processing result (what the pollers reported on the leases) ---

constexpr char kShard0[] = "shardId-000000000000";
constexpr char kShard1[] = "shardId-000000000001";
constexpr char kFailed[] = "PROBLEM: Function call failed";

TEST_F(LeaseSyncTest, FullLookSetsTheNewestReportedResultWithoutAConfigChange) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  EXPECT_EQ(Mapping(uuid).last_processing_result(), kNoRecordsProcessed);
  const v1::EventSourceMappingConfiguration before = Mapping(uuid);
  leases_.SetProcessingResult(uuid, kShard0, "OK", clock_.Now());
  leases_.SetProcessingResult(uuid, kShard1, kFailed, clock_.Now() + absl::Seconds(1));
  NextFullLook();
  Sync();
  v1::EventSourceMappingConfiguration mapping = Mapping(uuid);
  EXPECT_EQ(mapping.last_processing_result(), kFailed) << "shard 1's is the newest";
  EXPECT_EQ(mapping.config_version(), before.config_version());
  EXPECT_EQ(FromProtoTimestamp(mapping.last_modified()),
            FromProtoTimestamp(before.last_modified()));
  EXPECT_EQ(mapping.state(), v1::ENABLED);

  leases_.SetProcessingResult(uuid, kShard0, "OK", clock_.Now());  // shard 0 succeeds later
  NextFullLook();
  Sync();
  EXPECT_EQ(Mapping(uuid).last_processing_result(), "OK");
}

TEST_F(LeaseSyncTest, UnchangedResultOrNoReportWritesNothing) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  NextFullLook();
  int64_t writes = store_->writes();
  Sync();  // a full look, no lease has a result yet
  EXPECT_EQ(store_->writes(), writes);
  EXPECT_EQ(Mapping(uuid).last_processing_result(), kNoRecordsProcessed);

  leases_.SetProcessingResult(uuid, kShard0, "OK", clock_.Now());
  NextFullLook();
  Sync();
  EXPECT_EQ(store_->writes(), writes + 1) << "one write for the new result";
  EXPECT_EQ(Mapping(uuid).last_processing_result(), "OK");
  leases_.SetProcessingResult(uuid, kShard1, "OK", clock_.Now());  // newer, same text
  NextFullLook();
  writes = store_->writes();
  Sync();
  EXPECT_EQ(store_->writes(), writes);
}

// Regression (issue 14, item 4): a result reached the mapping only on a full look (up to a
// minute), so `mappings get` said "No records processed" while every invocation failed.
TEST_F(LeaseSyncTest, SteadyPassShowsANewResultWithoutWaitingForAFullLook) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  Sync();  // remembered: the next passes only probe
  const int lists = streams_.list_shards_calls();
  const v1::EventSourceMappingConfiguration before = Mapping(uuid);
  leases_.SetProcessingResult(uuid, kShard0, kFailed, clock_.Now());
  clock_.Advance(absl::Seconds(1));
  Sync();
  const v1::EventSourceMappingConfiguration mapping = Mapping(uuid);
  EXPECT_EQ(mapping.last_processing_result(), kFailed);
  EXPECT_EQ(streams_.list_shards_calls(), lists) << "a steady pass, not a full look";
  EXPECT_EQ(mapping.config_version(), before.config_version());
  leases_.SetProcessingResult(uuid, kShard0, "OK", clock_.Now());
  clock_.Advance(absl::Seconds(1));
  Sync();
  EXPECT_EQ(Mapping(uuid).last_processing_result(), "OK");
}

TEST_F(LeaseSyncTest, PassesShowTheNewestErrorWithItsShardWithoutAConfigChange) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  Sync();
  const v1::EventSourceMappingConfiguration before = Mapping(uuid);
  EXPECT_EQ(before.last_error_kind(), "");
  const absl::Time t = clock_.Now();
  leases_.SetLastError(uuid, kShard0, "Timeout", "DEADLINE_EXCEEDED: old", t);
  leases_.SetLastError(uuid, kShard1, "FunctionError", "Unhandled: boom", t + absl::Seconds(1));
  clock_.Advance(absl::Seconds(1));
  Sync();
  v1::EventSourceMappingConfiguration mapping = Mapping(uuid);
  EXPECT_EQ(mapping.last_error_kind(), "FunctionError");
  EXPECT_EQ(mapping.last_error_message(), "Unhandled: boom");
  EXPECT_EQ(FromProtoTimestamp(mapping.last_error_time()), t + absl::Seconds(1));
  EXPECT_EQ(mapping.last_error_shard_id(), kShard1);
  EXPECT_EQ(mapping.config_version(), before.config_version());
  EXPECT_EQ(FromProtoTimestamp(mapping.last_modified()),
            FromProtoTimestamp(before.last_modified()));

  const int64_t writes = store_->writes();
  clock_.Advance(absl::Seconds(1));
  Sync();
  EXPECT_EQ(store_->writes(), writes) << "the same error is not written again";
  leases_.SetLastError(uuid, kShard1, "FunctionError", "Unhandled: boom", t + absl::Seconds(5));
  Sync();
  EXPECT_EQ(store_->writes(), writes + 1) << "the same error seen again later: a new time";
  EXPECT_EQ(FromProtoTimestamp(Mapping(uuid).last_error_time()), t + absl::Seconds(5));
}

TEST_F(LeaseSyncTest, FailedSummaryChangesNoTextAndIsThePassResult) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  leases_.SetProcessingResult(uuid, kShard0, kFailed, clock_.Now());
  const int summaries = leases_.summarize_calls();
  // The pass's only leasing call is the summary (the mapping is steady).
  Sync();
  ASSERT_EQ(leases_.summarize_calls(), summaries + 1);
  leases_.SetProcessingResult(uuid, kShard0, "OK", clock_.Now());
  leases_.FailNextCalls(absl::UnavailableError("leasing down"));
  absl::Status status = sync_->RunOnce();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(Mapping(uuid).last_processing_result(), kFailed);
  Sync();
  EXPECT_EQ(Mapping(uuid).last_processing_result(), "OK");
}

TEST_F(LeaseSyncTest, ProblemBeatsOkObservedAtTheSameTime) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  leases_.SetProcessingResult(uuid, kShard0, kFailed, clock_.Now());
  leases_.SetProcessingResult(uuid, kShard1, "OK", clock_.Now());
  NextFullLook();
  Sync();
  EXPECT_EQ(Mapping(uuid).last_processing_result(), kFailed);
}

TEST_F(LeaseSyncTest, StreamNotFoundWinsOverTheLeasesResults) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  leases_.SetProcessingResult(uuid, kShard0, "OK", clock_.Now());
  NextFullLook();
  Sync();
  ASSERT_EQ(Mapping(uuid).last_processing_result(), "OK");
  streams_.DeleteStream("orders");
  NextFullLook();
  Sync();
  Sync();
  EXPECT_EQ(Mapping(uuid).last_processing_result(), kStreamNotFoundResult);
}

TEST_F(LeaseSyncTest, DeletedStreamEndsTheWorkAndDeletesTheLeases) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  streams_.DeleteStream("orders");
  Sync();
  v1::EventSourceMappingConfiguration mapping = Mapping(uuid);
  EXPECT_EQ(mapping.state_transition_reason(), kWorkEndedStreamDeleted);
  EXPECT_EQ(mapping.last_processing_result(), kStreamNotFoundResult);
  EXPECT_EQ(mapping.state(), v1::ENABLED);
  EXPECT_THAT(LeasedShards(uuid), IsEmpty());
  const int64_t version = mapping.config_version();
  Sync();
  EXPECT_EQ(Mapping(uuid).config_version(), version) << "recorded once";
}

TEST_F(LeaseSyncTest, StreamCreatedAgainIsProcessedFromTheStartingPosition) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Sync();
  streams_.DeleteStream("orders");
  Sync();
  streams_.CreateStream("orders", 2);
  Sync();
  EXPECT_EQ(LeasedShards(uuid).size(), 2u);
  EXPECT_EQ(Mapping(uuid).state_transition_reason(), kStreamFoundAgain);
}

// --- restarts and independence ---

TEST_F(LeaseSyncTest, RestartKeepsMappingsAndWhatTheSyncDecided) {
  streams_.CreateStream("orders", 1);
  streams_.SplitShard("orders", "shardId-000000000000");
  clock_.Advance(absl::Seconds(1));  // the parent closed before the mapping was created
  const std::string uuid = CreateMapping(v1::LATEST_POSITION);
  Sync();
  const v1::EventSourceMappingConfiguration before = Mapping(uuid);
  Open();  // a new process over the same data directory
  EXPECT_EQ(Mapping(uuid).SerializeAsString(), before.SerializeAsString());
  Sync();
  EXPECT_FALSE(leases_.Get(uuid, "shardId-000000000000").has_value())
      << "the skipped ancestor stays skipped after a restart";
  auto grandchildren = streams_.SplitShard("orders", "shardId-000000000001");
  Sync();
  EXPECT_EQ(CheckpointOf(uuid, grandchildren[0]), v1::TRIM_HORIZON_CHECKPOINT);
}

TEST_F(LeaseSyncTest, RestartBeforeTheFirstPassStillCreatesTheLeases) {
  streams_.CreateStream("orders", 2);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  Open();
  Sync();
  EXPECT_EQ(Mapping(uuid).state(), v1::ENABLED);
  EXPECT_EQ(LeasedShards(uuid).size(), 2u);
}

TEST_F(LeaseSyncTest, TwoMappingsOnOneStreamStayIndependent) {
  streams_.CreateStream("orders", 2);
  const std::string a = CreateMapping(v1::TRIM_HORIZON_POSITION);
  const std::string b = CreateMapping(v1::LATEST_POSITION);
  Sync();
  EXPECT_EQ(CheckpointOf(a, "shardId-000000000000"), v1::TRIM_HORIZON_CHECKPOINT);
  EXPECT_EQ(CheckpointOf(b, "shardId-000000000000"), v1::AT_TIMESTAMP_CHECKPOINT);
  Checkpoint(a, "shardId-000000000000", v1::SEQUENCE_NUMBER, "7");

  SetEnabled(b, false);
  Sync();
  EXPECT_TRUE(Lease(a, "shardId-000000000000").enabled());
  EXPECT_FALSE(Lease(b, "shardId-000000000000").enabled());
  EXPECT_EQ(CheckpointOf(b, "shardId-000000000000"), v1::AT_TIMESTAMP_CHECKPOINT);

  auto children = streams_.SplitShard("orders", "shardId-000000000001");
  Sync();
  EXPECT_TRUE(Lease(a, children[0]).enabled());
  EXPECT_FALSE(Lease(b, children[0]).enabled());

  ASSERT_TRUE(manager_->Delete(b).ok());
  Sync();
  EXPECT_THAT(LeasedShards(b), IsEmpty());
  EXPECT_EQ(LeasedShards(a).size(), 4u);
  EXPECT_EQ(Lease(a, "shardId-000000000000").checkpoint().sequence_number(), "7");
}

// --- the background loop ---

TEST_F(LeaseSyncTest, LoopCreatesChildLeasesWithinOneIntervalOfASplit) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  sync_->Start();
  ASSERT_OK(clock_.WaitForWaiters(1)) << "the loop never parked on the clock";
  auto children = streams_.SplitShard("orders", "shardId-000000000000");
  const int64_t runs = sync_->runs_completed();
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK(sync_->WaitForRunsCompleted(runs)) << "no pass after one interval";
  EXPECT_TRUE(leases_.Get(uuid, children[0]).has_value());
  EXPECT_TRUE(leases_.Get(uuid, children[1]).has_value());
  sync_->Stop();
}

TEST_F(LeaseSyncTest, LoopWaitsForTheConfiguredInterval) {
  sync_.reset();
  LeaseSync::Options options;
  options.interval = absl::Seconds(5);
  sync_ = std::make_unique<LeaseSync>(store_.get(), &streams_, &leases_, clock_, options);
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  sync_->Start();
  ASSERT_OK(clock_.WaitForWaiters(1)) << "the loop never parked on the clock";
  auto children = streams_.SplitShard("orders", "shardId-000000000000");  // nobody nudges
  const int64_t runs = sync_->runs_completed();
  clock_.Advance(absl::Seconds(4));
  ASSERT_OK(clock_.WaitForWaiters(1));
  EXPECT_EQ(sync_->runs_completed(), runs) << "a pass ran before the interval";
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK(sync_->WaitForRunsCompleted(runs)) << "no pass after the interval";
  sync_->Stop();
  EXPECT_TRUE(leases_.Get(uuid, children[0]).has_value());
}

TEST_F(LeaseSyncTest, RequestSyncRunsAPassWithoutWaitingForTheInterval) {
  streams_.CreateStream("orders", 1);
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  sync_->Start();
  ASSERT_OK(clock_.WaitForWaiters(1)) << "the loop never parked on the clock";
  auto children = streams_.SplitShard("orders", "shardId-000000000000");
  const int64_t runs = sync_->runs_completed();
  sync_->RequestSync();  // no clock advance at all
  ASSERT_OK(sync_->WaitForRunsCompleted(runs)) << "RequestSync did not wake the loop";
  EXPECT_TRUE(leases_.Get(uuid, children[0]).has_value());
  sync_->Stop();
}

TEST_F(LeaseSyncTest, CreateThroughTheManagerNudgesTheLoop) {
  streams_.CreateStream("orders", 1);
  sync_->Start();
  ASSERT_OK(clock_.WaitForWaiters(1));
  const int64_t runs = sync_->runs_completed();
  const std::string uuid = CreateMapping(v1::TRIM_HORIZON_POSITION);
  ASSERT_OK(sync_->WaitForRunsCompleted(runs));
  sync_->Stop();
  EXPECT_EQ(Mapping(uuid).state(), v1::ENABLED);
}

}  // namespace
}  // namespace tributary::stream_tracker
