// The Leasing service end to end: LeasingClient → gRPC on 127.0.0.1 → LeasingService →
// LeaseTable on a FakeClock.
#include "leasing/leasing_service.h"

#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/testing/log_capture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leasing/leasing_client.h"
#include "leasing/owned_digest.h"
#include "leasing/testing/in_process_leasing.h"

namespace tributary::leasing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kMapping[] = "esm-1";

v1::LeaseKey Key(const std::string& shard) {
  v1::LeaseKey key;
  key.set_event_source_mapping_uuid(kMapping);
  key.set_shard_id(shard);
  return key;
}

v1::NewLease NewLeaseProto(const std::string& shard, std::vector<std::string> parents = {}) {
  v1::NewLease nl;
  nl.set_event_source_mapping_uuid(kMapping);
  nl.set_shard_id(shard);
  nl.set_stream_name("orders");
  for (const std::string& p : parents) nl.add_parent_shard_ids(p);
  nl.mutable_initial_checkpoint()->set_type(v1::TRIM_HORIZON_CHECKPOINT);
  nl.set_enabled(true);
  return nl;
}

class LeasingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto leasing = testing::InProcessLeasing::Start(clock_);
    ASSERT_TRUE(leasing.ok()) << leasing.status();
    leasing_ = std::move(leasing).value();
  }
  LeasingClient& client() { return leasing_->client(); }

  void Create(std::vector<v1::NewLease> leases) {
    v1::CreateLeasesRequest req;
    for (v1::NewLease& nl : leases) *req.add_leases() = std::move(nl);
    ASSERT_TRUE(client().CreateLeases(req).ok());
  }
  void Register(const std::string& poller, int capacity = 10) {
    v1::RegisterPollerRequest req;
    req.set_poller_id(poller);
    req.set_capacity(capacity);
    ASSERT_TRUE(client().RegisterPoller(req).ok());
  }
  std::vector<v1::Lease> Acquire(const std::string& poller) {
    v1::AcquireLeasesRequest req;
    req.set_poller_id(poller);
    absl::StatusOr<v1::AcquireLeasesResponse> resp = client().AcquireLeases(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    if (!resp.ok()) return {};
    return {resp->leases().begin(), resp->leases().end()};
  }
  absl::StatusOr<v1::CheckpointResponse> CheckpointAs(const std::string& poller,
                                                      const std::string& shard, int64_t counter,
                                                      v1::CheckpointType type,
                                                      const std::string& sequence_number = "") {
    v1::CheckpointRequest req;
    *req.mutable_lease_key() = Key(shard);
    req.set_poller_id(poller);
    req.set_lease_counter(counter);
    req.mutable_checkpoint()->set_type(type);
    req.mutable_checkpoint()->set_sequence_number(sequence_number);
    return client().Checkpoint(req);
  }
  v1::Lease Get(const std::string& shard) {
    v1::GetLeaseRequest req;
    *req.mutable_lease_key() = Key(shard);
    absl::StatusOr<v1::Lease> lease = client().GetLease(req);
    EXPECT_TRUE(lease.ok()) << lease.status();
    return lease.ok() ? *lease : v1::Lease();
  }

  FakeClock clock_;
  std::unique_ptr<testing::InProcessLeasing> leasing_;
};

TEST_F(LeasingServiceTest, PollerLifecycleEndToEnd) {
  v1::NewLease parent = NewLeaseProto("parent");
  parent.mutable_initial_checkpoint()->set_type(v1::SEQUENCE_NUMBER);
  parent.mutable_initial_checkpoint()->set_sequence_number("5");
  Create({parent, NewLeaseProto("left", {"parent"}), NewLeaseProto("right", {"parent"})});

  v1::RegisterPollerRequest reg;
  reg.set_poller_id("p1");
  reg.set_capacity(10);
  absl::StatusOr<v1::RegisterPollerResponse> registered = client().RegisterPoller(reg);
  ASSERT_TRUE(registered.ok());
  EXPECT_EQ(registered->lease_duration_ms(), 10000);
  EXPECT_EQ(registered->heartbeat_interval_ms(), 3333);

  std::vector<v1::Lease> granted = Acquire("p1");
  ASSERT_THAT(granted, SizeIs(1));  // the children wait for their parent
  EXPECT_EQ(granted[0].shard_id(), "parent");
  EXPECT_EQ(granted[0].lease_owner(), "p1");
  EXPECT_EQ(granted[0].lease_counter(), 1);
  EXPECT_EQ(granted[0].checkpoint().type(), v1::SEQUENCE_NUMBER);
  EXPECT_EQ(granted[0].checkpoint().sequence_number(), "5");
  EXPECT_THAT(granted[0].child_shard_ids(), ElementsAre("left", "right"));

  clock_.Advance(absl::Seconds(2));
  v1::HeartbeatRequest hb;
  hb.set_poller_id("p1");
  v1::HeldLeaseStatus* status = hb.add_held_leases();
  *status->mutable_lease_key() = Key("parent");
  status->set_iterator_age_ms(4200);
  absl::StatusOr<v1::HeartbeatResponse> beat = client().Heartbeat(hb);
  ASSERT_TRUE(beat.ok());
  ASSERT_THAT(beat->owned_leases(), SizeIs(1));
  EXPECT_EQ(beat->owned_leases(0).lease_counter(), 1);
  EXPECT_THAT(beat->leases_to_release(), IsEmpty());
  EXPECT_EQ(beat->lease_expiration().seconds(),
            absl::ToUnixSeconds(clock_.Now() + absl::Seconds(10)));

  v1::Lease read = Get("parent");
  EXPECT_EQ(read.iterator_age_ms(), 4200);
  EXPECT_EQ(read.last_processing_result(), "");
  EXPECT_FALSE(read.has_last_processing_result_time());
  EXPECT_EQ(read.last_renewal_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_TRUE(read.assignable());
  EXPECT_FALSE(read.expired());
  EXPECT_FALSE(Get("left").assignable());

  absl::StatusOr<v1::CheckpointResponse> cp =
      CheckpointAs("p1", "parent", 1, v1::SEQUENCE_NUMBER, "18446744073709551615");
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->lease().checkpoint().sequence_number(), "18446744073709551615");
  ASSERT_TRUE(CheckpointAs("p1", "parent", 1, v1::SHARD_END).ok());
  EXPECT_EQ(Get("parent").checkpoint().type(), v1::SHARD_END);

  granted = Acquire("p1");
  ASSERT_THAT(granted, SizeIs(2));
  EXPECT_EQ(granted[0].shard_id(), "left");

  v1::ReleaseLeaseRequest release;
  *release.mutable_lease_key() = Key("parent");
  release.set_poller_id("p1");
  release.set_lease_counter(1);
  ASSERT_TRUE(client().ReleaseLease(release).ok());
  EXPECT_EQ(Get("parent").lease_owner(), "");

  v1::ListLeasesRequest list;
  list.set_lease_owner("p1");
  absl::StatusOr<v1::ListLeasesResponse> listed = client().ListLeases(list);
  ASSERT_TRUE(listed.ok());
  ASSERT_THAT(listed->leases(), SizeIs(2));
  EXPECT_EQ(listed->next_token(), "");

  absl::StatusOr<v1::ListPollersResponse> pollers = client().ListPollers({});
  ASSERT_TRUE(pollers.ok());
  ASSERT_THAT(pollers->pollers(), SizeIs(1));
  EXPECT_EQ(pollers->pollers(0).lease_count(), 2);
  EXPECT_TRUE(pollers->pollers(0).live());

  v1::SetMappingEnabledRequest disable;
  disable.set_event_source_mapping_uuid(kMapping);
  disable.set_enabled(false);
  absl::StatusOr<v1::SetMappingEnabledResponse> disabled = client().SetMappingEnabled(disable);
  ASSERT_TRUE(disabled.ok());
  EXPECT_EQ(disabled->lease_count(), 3);
  beat = client().Heartbeat(hb);
  ASSERT_TRUE(beat.ok());
  EXPECT_THAT(beat->leases_to_release(), SizeIs(2));

  v1::DeregisterPollerRequest dereg;
  dereg.set_poller_id("p1");
  absl::StatusOr<v1::DeregisterPollerResponse> gone = client().DeregisterPoller(dereg);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->released_count(), 2);

  v1::DeleteLeasesRequest del;
  del.set_event_source_mapping_uuid(kMapping);
  absl::StatusOr<v1::DeleteLeasesResponse> deleted = client().DeleteLeases(del);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->deleted_count(), 3);
}

TEST_F(LeasingServiceTest, HeartbeatWithTheRightDigestGetsNoLeaseList) {
  Create({NewLeaseProto("s0"), NewLeaseProto("s1")});
  Register("p1");
  std::vector<v1::Lease> granted = Acquire("p1");
  ASSERT_THAT(granted, SizeIs(2));
  OwnedDigest mine;
  for (const v1::Lease& l : granted) {
    mine.Add(l.event_source_mapping_uuid(), l.shard_id(), l.lease_counter());
  }
  auto beat = [&](std::optional<uint64_t> digest) {
    v1::HeartbeatRequest hb;
    hb.set_poller_id("p1");
    if (digest) hb.set_owned_digest(*digest);
    absl::StatusOr<v1::HeartbeatResponse> r = client().Heartbeat(hb);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : v1::HeartbeatResponse();
  };
  v1::HeartbeatResponse same = beat(mine.value());
  EXPECT_TRUE(same.owned_unchanged());
  EXPECT_THAT(same.owned_leases(), IsEmpty());

  v1::HeartbeatResponse without = beat(std::nullopt);  // an older poller: the full list
  EXPECT_FALSE(without.owned_unchanged());
  EXPECT_THAT(without.owned_leases(), SizeIs(2));

  OwnedDigest stale;  // believes it still holds s0 under an older counter, and s1
  stale.Add(granted[0].event_source_mapping_uuid(), granted[0].shard_id(),
            granted[0].lease_counter() - 1);
  stale.Add(granted[1].event_source_mapping_uuid(), granted[1].shard_id(),
            granted[1].lease_counter());
  v1::HeartbeatResponse differs = beat(stale.value());
  EXPECT_FALSE(differs.owned_unchanged());
  EXPECT_THAT(differs.owned_leases(), SizeIs(2));
}

TEST_F(LeasingServiceTest, ProcessingResultTravelsFromHeartbeatToGetAndListLeases) {
  Create({NewLeaseProto("s0")});
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(1));
  const std::string longest(kMaxProcessingResultLength, 'x');  // the bound itself is accepted
  for (const std::string& result : {std::string("PROBLEM: Function call failed"), longest}) {
    clock_.Advance(absl::Seconds(1));
    v1::HeartbeatRequest hb;
    hb.set_poller_id("p1");
    v1::HeldLeaseStatus* held = hb.add_held_leases();
    *held->mutable_lease_key() = Key("s0");
    held->set_last_processing_result(result);
    held->mutable_last_processing_result_time()->set_seconds(1'700'000'000);
    held->mutable_last_processing_result_time()->set_nanos(5'000'000);
    ASSERT_TRUE(client().Heartbeat(hb).ok());

    v1::Lease read = Get("s0");
    EXPECT_EQ(read.last_processing_result(), result);
    EXPECT_EQ(read.last_processing_result_time().seconds(), 1'700'000'000);
    EXPECT_EQ(read.last_processing_result_time().nanos(), 5'000'000);
    v1::ListLeasesRequest list;
    list.set_event_source_mapping_uuid(kMapping);
    absl::StatusOr<v1::ListLeasesResponse> listed = client().ListLeases(list);
    ASSERT_TRUE(listed.ok()) << listed.status();
    ASSERT_THAT(listed->leases(), SizeIs(1));
    EXPECT_EQ(listed->leases(0).last_processing_result(), result);
  }
}

TEST_F(LeasingServiceTest, LastErrorTravelsFromHeartbeatToLeasesAndTheSummary) {
  Create({NewLeaseProto("s0"), NewLeaseProto("s1")});
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(2));
  const std::string longest(kMaxErrorMessageLength, 'x');  // the bound itself is accepted
  v1::HeartbeatRequest hb;
  hb.set_poller_id("p1");
  v1::HeldLeaseStatus* held = hb.add_held_leases();
  *held->mutable_lease_key() = Key("s1");
  held->set_last_processing_result("PROBLEM: Function timed out");
  held->mutable_last_processing_result_time()->set_seconds(1'700'000'000);
  held->set_last_error_kind("Timeout");
  held->set_last_error_message(longest);
  held->mutable_last_error_time()->set_seconds(1'700'000'001);
  ASSERT_TRUE(client().Heartbeat(hb).ok());

  v1::Lease read = Get("s1");
  EXPECT_EQ(read.last_error_kind(), "Timeout");
  EXPECT_EQ(read.last_error_message(), longest);
  EXPECT_EQ(read.last_error_time().seconds(), 1'700'000'001);
  EXPECT_EQ(Get("s0").last_error_kind(), "");
  EXPECT_FALSE(Get("s0").has_last_error_time());

  v1::SummarizeLeasesRequest summarize;
  summarize.add_event_source_mapping_uuids(kMapping);
  summarize.add_event_source_mapping_uuids("no-such-mapping");
  absl::StatusOr<v1::SummarizeLeasesResponse> summary = client().SummarizeLeases(summarize);
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_THAT(summary->summaries(), SizeIs(2));
  const v1::MappingLeaseSummary& mine = summary->summaries(0);
  EXPECT_EQ(mine.event_source_mapping_uuid(), kMapping);
  EXPECT_EQ(mine.last_processing_result(), "PROBLEM: Function timed out");
  EXPECT_EQ(mine.last_processing_result_time().seconds(), 1'700'000'000);
  EXPECT_EQ(mine.last_error_kind(), "Timeout");
  EXPECT_EQ(mine.last_error_message(), longest);
  EXPECT_EQ(mine.last_error_time().seconds(), 1'700'000'001);
  EXPECT_EQ(mine.last_error_shard_id(), "s1");
  EXPECT_EQ(summary->summaries(1).event_source_mapping_uuid(), "no-such-mapping");
  EXPECT_EQ(summary->summaries(1).last_processing_result(), "");
  EXPECT_FALSE(summary->summaries(1).has_last_error_time());
}

TEST_F(LeasingServiceTest, OverlongErrorsAndEmptySummaryUuidsAreInvalidArguments) {
  Create({NewLeaseProto("s0")});
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(1));
  for (const auto& [kind, message, field] :
       {std::make_tuple(std::string(kMaxErrorKindLength + 1, 'k'), std::string("m"),
                        "held_leases[0].last_error_kind"),
        std::make_tuple(std::string("Timeout"), std::string(kMaxErrorMessageLength + 1, 'm'),
                        "held_leases[0].last_error_message")}) {
    v1::HeartbeatRequest hb;
    hb.set_poller_id("p1");
    v1::HeldLeaseStatus* held = hb.add_held_leases();
    *held->mutable_lease_key() = Key("s0");
    held->set_last_error_kind(kind);
    held->set_last_error_message(message);
    absl::StatusOr<v1::HeartbeatResponse> beat = client().Heartbeat(hb);
    EXPECT_EQ(beat.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(beat.status().message()), HasSubstr(field));
  }
  EXPECT_EQ(Get("s0").last_error_kind(), "") << "a rejected heartbeat stores nothing";
  v1::SummarizeLeasesRequest summarize;
  summarize.add_event_source_mapping_uuids("");
  absl::StatusOr<v1::SummarizeLeasesResponse> summary = client().SummarizeLeases(summarize);
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(summary.status().message()), HasSubstr("event_source_mapping_uuids[0]"));
}

TEST_F(LeasingServiceTest, IteratorAgeIsAbsentWhileNobodyWorksOnTheShard) {
  Create({NewLeaseProto("s0")});
  EXPECT_FALSE(Get("s0").has_iterator_age_ms()) << "unowned";
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(1));
  EXPECT_TRUE(Get("s0").has_iterator_age_ms());
  EXPECT_EQ(Get("s0").iterator_age_ms(), 0);
  clock_.Advance(absl::Seconds(11));
  EXPECT_TRUE(Get("s0").expired());
  EXPECT_FALSE(Get("s0").has_iterator_age_ms()) << "expired owner";
}

TEST_F(LeasingServiceTest, StaleOwnerIsFencedThroughTheService) {
  Create({NewLeaseProto("s0")});
  Register("p1");
  Register("p2");
  ASSERT_THAT(Acquire("p1"), SizeIs(1));
  ASSERT_TRUE(CheckpointAs("p1", "s0", 1, v1::SEQUENCE_NUMBER, "10").ok());
  clock_.Advance(absl::Seconds(11));
  ASSERT_THAT(Acquire("p2"), SizeIs(1));
  absl::StatusOr<v1::CheckpointResponse> stale =
      CheckpointAs("p1", "s0", 1, v1::SEQUENCE_NUMBER, "20");
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition) << stale.status();
  EXPECT_EQ(Get("s0").checkpoint().sequence_number(), "10");
  EXPECT_EQ(Get("s0").lease_owner(), "p2");
}

TEST_F(LeasingServiceTest, RestartedServiceKeepsLeasesAndTheClientCarriesOn) {
  Create({NewLeaseProto("s0"), NewLeaseProto("s1")});
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(2));
  ASSERT_TRUE(CheckpointAs("p1", "s0", 1, v1::SEQUENCE_NUMBER, "77").ok());
  ASSERT_TRUE(leasing_->Restart().ok());
  EXPECT_EQ(Get("s0").checkpoint().sequence_number(), "77");
  EXPECT_EQ(Get("s1").lease_owner(), "p1");
  ASSERT_TRUE(CheckpointAs("p1", "s1", 1, v1::SEQUENCE_NUMBER, "5").ok());
}

TEST_F(LeasingServiceTest, OlderSequenceNumberIsAcceptedAndIgnored) {
  Create({NewLeaseProto("s0")});
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(1));
  ASSERT_TRUE(CheckpointAs("p1", "s0", 1, v1::SEQUENCE_NUMBER, "100").ok());
  absl::StatusOr<v1::CheckpointResponse> older =
      CheckpointAs("p1", "s0", 1, v1::SEQUENCE_NUMBER, "99");
  ASSERT_TRUE(older.ok());
  EXPECT_EQ(older->lease().checkpoint().sequence_number(), "100");
}

TEST_F(LeasingServiceTest, ListLeasesPagesThroughEveryLease) {
  std::vector<v1::NewLease> leases;
  for (int i = 0; i < 25; ++i) leases.push_back(NewLeaseProto(absl::StrCat("s", 100 + i)));
  Create(leases);
  v1::ListLeasesRequest req;
  req.set_max_results(10);
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<v1::ListLeasesResponse> resp = client().ListLeases(req);
    ASSERT_TRUE(resp.ok()) << resp.status();
    for (const v1::Lease& l : resp->leases()) seen.push_back(l.shard_id());
    if (resp->next_token().empty()) break;
    req.set_next_token(resp->next_token());
  }
  ASSERT_THAT(seen, SizeIs(25));
  EXPECT_EQ(seen.front(), "s100");
  EXPECT_EQ(seen.back(), "s124");
}

// Every malformed request is answered with its code and the field named.
TEST_F(LeasingServiceTest, BadInputTable) {
  Create({NewLeaseProto("s0")});
  Register("p1");
  struct Case {
    std::string name;
    std::function<absl::Status()> call;
    absl::StatusCode code;
    std::string field;
  };
  auto create = [&](std::function<void(v1::NewLease*)> edit) {
    return [this, edit] {
      v1::CreateLeasesRequest req;
      v1::NewLease* nl = req.add_leases();
      *nl = NewLeaseProto("new");
      edit(nl);
      return client().CreateLeases(req).status();
    };
  };
  auto checkpoint = [&](const std::string& shard, v1::CheckpointType type, std::string seq) {
    return [=] { return CheckpointAs("p1", shard, 1, type, seq).status(); };
  };
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  const auto kNotFound = absl::StatusCode::kNotFound;
  std::vector<Case> cases = {
      {"create: empty mapping",
       create([](v1::NewLease* nl) { nl->set_event_source_mapping_uuid(""); }), kInvalid,
       "leases[0].event_source_mapping_uuid"},
      {"create: empty shard", create([](v1::NewLease* nl) { nl->set_shard_id(""); }), kInvalid,
       "leases[0].shard_id"},
      {"create: empty parent", create([](v1::NewLease* nl) { nl->add_parent_shard_ids(""); }),
       kInvalid, "leases[0].parent_shard_ids[0]"},
      {"create: malformed initial sequence number", create([](v1::NewLease* nl) {
         nl->mutable_initial_checkpoint()->set_type(v1::SEQUENCE_NUMBER);
         nl->mutable_initial_checkpoint()->set_sequence_number("12x");
       }),
       kInvalid, "leases[0].initial_checkpoint.sequence_number"},
      {"create: AT_TIMESTAMP without timestamp", create([](v1::NewLease* nl) {
         nl->mutable_initial_checkpoint()->set_type(v1::AT_TIMESTAMP_CHECKPOINT);
       }),
       kInvalid, "leases[0].initial_checkpoint.timestamp"},
      {"create: unknown checkpoint type", create([](v1::NewLease* nl) {
         nl->mutable_initial_checkpoint()->set_type(static_cast<v1::CheckpointType>(99));
       }),
       kInvalid, "leases[0].initial_checkpoint.type"},
      {"delete: empty shard",
       [&] {
         v1::DeleteLeasesRequest req;
         req.add_lease_keys()->set_event_source_mapping_uuid(kMapping);
         return client().DeleteLeases(req).status();
       },
       kInvalid, "lease_keys[0].shard_id"},
      {"enable: empty mapping", [&] { return client().SetMappingEnabled({}).status(); }, kInvalid,
       "event_source_mapping_uuid"},
      {"register: empty poller", [&] { return client().RegisterPoller({}).status(); }, kInvalid,
       "poller_id"},
      {"register: capacity 0",
       [&] {
         v1::RegisterPollerRequest req;
         req.set_poller_id("p9");
         return client().RegisterPoller(req).status();
       },
       kInvalid, "capacity"},
      {"deregister: empty poller", [&] { return client().DeregisterPoller({}).status(); }, kInvalid,
       "poller_id"},
      {"deregister: unknown poller",
       [&] {
         v1::DeregisterPollerRequest req;
         req.set_poller_id("ghost");
         return client().DeregisterPoller(req).status();
       },
       kNotFound, "ghost"},
      {"heartbeat: empty poller", [&] { return client().Heartbeat({}).status(); }, kInvalid,
       "poller_id"},
      {"heartbeat: unknown poller",
       [&] {
         v1::HeartbeatRequest req;
         req.set_poller_id("ghost");
         return client().Heartbeat(req).status();
       },
       kNotFound, "ghost"},
      {"heartbeat: empty held lease shard",
       [&] {
         v1::HeartbeatRequest req;
         req.set_poller_id("p1");
         req.add_held_leases()->mutable_lease_key()->set_event_source_mapping_uuid(kMapping);
         return client().Heartbeat(req).status();
       },
       kInvalid, "held_leases[0].lease_key.shard_id"},
      {"heartbeat: processing result over 256 bytes",
       [&] {
         v1::HeartbeatRequest req;
         req.set_poller_id("p1");
         v1::HeldLeaseStatus* held = req.add_held_leases();
         *held->mutable_lease_key() = Key("s0");
         held->set_last_processing_result(std::string(257, 'x'));
         return client().Heartbeat(req).status();
       },
       kInvalid, "held_leases[0].last_processing_result"},
      {"acquire: empty poller", [&] { return client().AcquireLeases({}).status(); }, kInvalid,
       "poller_id"},
      {"release: empty key", [&] { return client().ReleaseLease({}).status(); }, kInvalid,
       "lease_key.event_source_mapping_uuid"},
      {"release: unknown lease",
       [&] {
         v1::ReleaseLeaseRequest req;
         *req.mutable_lease_key() = Key("nope");
         req.set_poller_id("p1");
         return client().ReleaseLease(req).status();
       },
       kNotFound, "nope"},
      {"checkpoint: unknown lease", checkpoint("nope", v1::SEQUENCE_NUMBER, "1"), kNotFound,
       "nope"},
      {"checkpoint: empty sequence number", checkpoint("s0", v1::SEQUENCE_NUMBER, ""), kInvalid,
       "checkpoint.sequence_number"},
      {"checkpoint: negative sequence number", checkpoint("s0", v1::SEQUENCE_NUMBER, "-1"),
       kInvalid, "checkpoint.sequence_number"},
      {"checkpoint: signed sequence number", checkpoint("s0", v1::SEQUENCE_NUMBER, "+5"), kInvalid,
       "checkpoint.sequence_number"},
      {"checkpoint: spaced sequence number", checkpoint("s0", v1::SEQUENCE_NUMBER, " 5"), kInvalid,
       "checkpoint.sequence_number"},
      {"checkpoint: letters", checkpoint("s0", v1::SEQUENCE_NUMBER, "12a"), kInvalid,
       "checkpoint.sequence_number"},
      {"checkpoint: over 2^64-1", checkpoint("s0", v1::SEQUENCE_NUMBER, "18446744073709551616"),
       kInvalid, "checkpoint.sequence_number"},
      {"checkpoint: initial type", checkpoint("s0", v1::TRIM_HORIZON_CHECKPOINT, ""), kInvalid,
       "checkpoint.type"},
      {"checkpoint: empty poller",
       [&] {
         v1::CheckpointRequest req;
         *req.mutable_lease_key() = Key("s0");
         return client().Checkpoint(req).status();
       },
       kInvalid, "poller_id"},
      {"list: negative max_results",
       [&] {
         v1::ListLeasesRequest req;
         req.set_max_results(-1);
         return client().ListLeases(req).status();
       },
       kInvalid, "max_results"},
      {"list: max_results over 10000",
       [&] {
         v1::ListLeasesRequest req;
         req.set_max_results(10001);
         return client().ListLeases(req).status();
       },
       kInvalid, "max_results"},
      {"list: bad token",
       [&] {
         v1::ListLeasesRequest req;
         req.set_next_token("not a token");
         return client().ListLeases(req).status();
       },
       kInvalid, "next_token"},
      {"get: empty key", [&] { return client().GetLease({}).status(); }, kInvalid,
       "lease_key.event_source_mapping_uuid"},
      {"get: unknown lease",
       [&] {
         v1::GetLeaseRequest req;
         *req.mutable_lease_key() = Key("nope");
         return client().GetLease(req).status();
       },
       kNotFound, "nope"},
  };
  for (const Case& c : cases) {
    absl::Status s = c.call();
    EXPECT_EQ(s.code(), c.code) << c.name << ": " << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.field)) << c.name;
  }
  // None of them changed anything.
  EXPECT_EQ(Get("s0").lease_owner(), "");
  absl::StatusOr<v1::ListPollersResponse> pollers = client().ListPollers({});
  ASSERT_TRUE(pollers.ok());
  EXPECT_THAT(pollers->pollers(), SizeIs(1));
}

TEST_F(LeasingServiceTest, InvocationSlotsAreLimitedAcrossPollersAndFreedByRelease) {
  Register("p1");
  Register("p2");
  auto acquire = [&](const std::string& poller, int count) {
    v1::AcquireInvocationSlotsRequest req;
    req.set_function_name("f");
    req.set_poller_id(poller);
    req.set_count(count);
    req.set_limit(2);
    return client().AcquireInvocationSlots(req);
  };
  absl::StatusOr<v1::AcquireInvocationSlotsResponse> first = acquire("p1", 2);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->granted_count(), 2);
  absl::StatusOr<v1::AcquireInvocationSlotsResponse> throttled = acquire("p2", 1);
  ASSERT_TRUE(throttled.ok()) << throttled.status();
  EXPECT_EQ(throttled->granted_count(), 0);
  EXPECT_EQ(throttled->in_use_count(), 2);

  v1::ReleaseInvocationSlotsRequest release;
  release.set_function_name("f");
  release.set_poller_id("p1");
  release.set_count(1);
  absl::StatusOr<v1::ReleaseInvocationSlotsResponse> released =
      client().ReleaseInvocationSlots(release);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->released_count(), 1);
  EXPECT_EQ(acquire("p2", 1)->granted_count(), 1);

  EXPECT_EQ(acquire("unregistered", 1).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(acquire("p1", 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LeasingServiceTest, UpdateShardCheckpointFencesTheOwnerAndLogsOneAuditLine) {
  Create({NewLeaseProto("shard-0")});
  Register("p1");
  ASSERT_THAT(Acquire("p1"), SizeIs(1));
  ASSERT_TRUE(CheckpointAs("p1", "shard-0", 1, v1::SEQUENCE_NUMBER, "120").ok());
  tributary::testing::LogCapture log;
  v1::UpdateShardCheckpointRequest req;
  *req.mutable_lease_key() = Key("shard-0");
  req.mutable_checkpoint()->set_type(v1::TRIM_HORIZON_CHECKPOINT);
  req.set_requested_by("alice@host (tribctl)");
  absl::StatusOr<v1::UpdateShardCheckpointResponse> moved = client().UpdateShardCheckpoint(req);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->previous_checkpoint().sequence_number(), "120");
  EXPECT_EQ(moved->previous_lease_owner(), "p1");
  EXPECT_EQ(moved->previous_lease_counter(), 1);
  EXPECT_EQ(moved->lease().checkpoint().type(), v1::TRIM_HORIZON_CHECKPOINT);
  EXPECT_EQ(moved->lease().lease_owner(), "");
  EXPECT_EQ(moved->lease().lease_counter(), 2);
  std::vector<std::string> audit = log.Matching({"AUDIT "});
  ASSERT_THAT(audit, SizeIs(1));
  EXPECT_THAT(audit[0], HasSubstr("esm-1"));
  EXPECT_THAT(audit[0], HasSubstr("shard-0"));
  EXPECT_THAT(audit[0], HasSubstr("alice@host (tribctl)"));
  EXPECT_THAT(audit[0], HasSubstr("SEQUENCE_NUMBER 120 -> TRIM_HORIZON"));
  EXPECT_THAT(audit[0], HasSubstr("owner p1"));
  // The old owner's checkpoint in flight is refused as a lost lease, and changes nothing.
  absl::StatusOr<v1::CheckpointResponse> late =
      CheckpointAs("p1", "shard-0", 1, v1::SEQUENCE_NUMBER, "130");
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition) << late.status();
  v1::GetLeaseRequest get;
  *get.mutable_lease_key() = Key("shard-0");
  absl::StatusOr<v1::Lease> lease = client().GetLease(get);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->checkpoint().type(), v1::TRIM_HORIZON_CHECKPOINT);
}

TEST_F(LeasingServiceTest, UpdateShardCheckpointRefusesBadPositionsWithoutAnAuditLine) {
  Create({NewLeaseProto("shard-0")});
  tributary::testing::LogCapture log;
  auto update = [&](v1::CheckpointType type, const std::string& seq, const std::string& shard) {
    v1::UpdateShardCheckpointRequest req;
    *req.mutable_lease_key() = Key(shard);
    req.mutable_checkpoint()->set_type(type);
    req.mutable_checkpoint()->set_sequence_number(seq);
    return client().UpdateShardCheckpoint(req).status();
  };
  EXPECT_EQ(update(v1::SHARD_END, "", "shard-0").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(update(v1::CHECKPOINT_TYPE_UNSPECIFIED, "", "shard-0").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(update(v1::SEQUENCE_NUMBER, "12x", "shard-0").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(update(v1::AT_TIMESTAMP_CHECKPOINT, "", "shard-0").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(update(v1::SEQUENCE_NUMBER, "5", "nope").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(log.Count({"AUDIT "}), 0);
}

}  // namespace
}  // namespace tributary::leasing
