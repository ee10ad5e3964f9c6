// leasing_server killed with SIGKILL and restarted over the same data directory keeps every
// acknowledged lease change: owners, counters, checkpoints. Runs the real binary (real clock).
#include <signal.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_server.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leasing/leasing_client.h"

namespace tributary::leasing {
namespace {

using ::testing::SizeIs;

constexpr char kMapping[] = "esm-kill";
constexpr int kLeases = 20;

class LeasingServerKillTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tributary::testing::NewTempDir("leasing_kill"); }

  void StartServer() {
    const std::string port_file = absl::StrCat(dir_, "/port.", ++starts_);
    auto server = tributary::testing::Subprocess::Start(
        tributary::testing::RunfilePath("leasing/leasing_server"),
        {"--listen=127.0.0.1:0", absl::StrCat("--data_dir=", dir_, "/data"),
         absl::StrCat("--port_file=", port_file),
         // Long enough that the poller stays live across restarts on a slow machine.
         "--lease_duration_ms=120000"},
        absl::StrCat(dir_, "/server.", starts_, ".log"));
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(std::move(server).value());
    absl::StatusOr<int> port = tributary::testing::WaitForPortFile(port_file);
    ASSERT_TRUE(port.ok()) << port.status();
    client_ = std::make_unique<LeasingClient>(MakeChannel(absl::StrCat("127.0.0.1:", *port)));
  }

  // shard id → "owner/counter/checkpoint type/sequence number"
  std::map<std::string, std::string> State() {
    v1::ListLeasesRequest req;
    req.set_event_source_mapping_uuid(kMapping);
    absl::StatusOr<v1::ListLeasesResponse> resp = client_->ListLeases(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    std::map<std::string, std::string> state;
    if (!resp.ok()) return state;
    for (const v1::Lease& l : resp->leases()) {
      state[l.shard_id()] =
          absl::StrCat(l.lease_owner(), "/", l.lease_counter(), "/", l.checkpoint().type(), "/",
                       l.checkpoint().sequence_number());
    }
    return state;
  }

  std::string dir_;
  int starts_ = 0;
  std::optional<tributary::testing::Subprocess> server_;
  std::unique_ptr<LeasingClient> client_;
};

TEST_F(LeasingServerKillTest, KillNineKeepsEveryAcknowledgedChange) {
  StartServer();
  v1::CreateLeasesRequest create;
  for (int i = 0; i < kLeases; ++i) {
    v1::NewLease* nl = create.add_leases();
    nl->set_event_source_mapping_uuid(kMapping);
    nl->set_shard_id(absl::StrCat("shardId-", 1000 + i));
    if (i > 0 && i % 5 == 0) nl->add_parent_shard_ids(absl::StrCat("shardId-", 1000 + i - 1));
    nl->set_enabled(true);
  }
  ASSERT_TRUE(client_->CreateLeases(create).ok());
  v1::RegisterPollerRequest reg;
  reg.set_poller_id("p1");
  reg.set_capacity(100);
  ASSERT_TRUE(client_->RegisterPoller(reg).ok());
  v1::AcquireLeasesRequest acquire;
  acquire.set_poller_id("p1");
  absl::StatusOr<v1::AcquireLeasesResponse> granted = client_->AcquireLeases(acquire);
  ASSERT_TRUE(granted.ok());
  ASSERT_THAT(granted->leases(), SizeIs(17));  // 3 children (5, 10, 15) wait for their parents

  for (int round = 1; round <= 3; ++round) {
    // Acknowledged changes, then SIGKILL with no warning.
    for (const v1::Lease& l : granted->leases()) {
      v1::CheckpointRequest cp;
      cp.mutable_lease_key()->set_event_source_mapping_uuid(kMapping);
      cp.mutable_lease_key()->set_shard_id(l.shard_id());
      cp.set_poller_id("p1");
      cp.set_lease_counter(l.lease_counter());
      cp.mutable_checkpoint()->set_type(v1::SEQUENCE_NUMBER);
      cp.mutable_checkpoint()->set_sequence_number(absl::StrCat(round * 1000));
      ASSERT_TRUE(client_->Checkpoint(cp).ok());
    }
    const std::map<std::string, std::string> before = State();
    ASSERT_THAT(before, SizeIs(kLeases));
    server_->Kill(SIGKILL);
    StartServer();
    EXPECT_EQ(State(), before) << "round " << round;
    // The poller is still the owner (restart grace) and carries on with the same counters.
    v1::HeartbeatRequest hb;
    hb.set_poller_id("p1");
    absl::StatusOr<v1::HeartbeatResponse> beat = client_->Heartbeat(hb);
    ASSERT_TRUE(beat.ok()) << beat.status();
    EXPECT_THAT(beat->owned_leases(), SizeIs(17));
  }
}

}  // namespace
}  // namespace tributary::leasing
