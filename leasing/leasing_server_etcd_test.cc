// leasing_server --coordination=etcd://...: the lease table in etcd (cluster mode, issue 19).
// Runs the real binary against a real etcd member (shared by this binary; a prefix per case):
// a bad URL exits 2 naming the flag, kill -9 loses nothing acknowledged, and two replicas serve
// one table at once.
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/await.h"
#include "common/grpc_server.h"
#include "common/testing/test_util.h"
#include "etcd/testing/etcd_cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leasing/leasing_client.h"

namespace tributary::leasing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kMapping[] = "esm-etcd";
constexpr int kLeases = 10;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One leasing_server process and a client of it.
struct Replica {
  std::optional<tributary::testing::Subprocess> process;
  std::unique_ptr<LeasingClient> client;
  std::string log;
  std::string name;  // --replica_name: its own, kept across restarts
};

class LeasingServerEtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tributary::testing::NewTempDir("leasing_etcd");
    etcd_ = &etcd::testing::EtcdCluster::Shared(1);
    prefix_ = etcd_->NewPrefix();
  }

  std::vector<std::string> Flags() {
    return {"--listen=127.0.0.1:0", "--coordination=" + etcd_->url(), "--etcd_prefix=" + prefix_,
            // Long enough that the poller stays live across restarts on a slow machine.
            "--lease_duration_ms=120000"};
  }
  tributary::testing::Subprocess Run(std::vector<std::string> flags, const std::string& log) {
    auto process = tributary::testing::Subprocess::Start(
        tributary::testing::RunfilePath("leasing/leasing_server"), flags, log);
    EXPECT_TRUE(process.ok()) << process.status();
    return std::move(process).value();
  }
  void Start(Replica* r) {
    const std::string port_file = absl::StrCat(dir_, "/port.", ++starts_);
    r->log = absl::StrCat(dir_, "/server.", starts_, ".log");
    std::vector<std::string> flags = Flags();
    flags.push_back("--port_file=" + port_file);
    if (r->name.empty()) r->name = absl::StrCat("replica-", starts_);
    flags.push_back("--replica_name=" + r->name);
    r->process.emplace(Run(flags, r->log));
    absl::StatusOr<int> port = tributary::testing::WaitForPortFile(port_file);
    ASSERT_TRUE(port.ok()) << port.status() << "\n" << ReadFile(r->log);
    r->client = std::make_unique<LeasingClient>(MakeChannel(absl::StrCat("127.0.0.1:", *port)));
  }
  // The exit code of a leasing_server run with `flags` (it must exit by itself).
  int ExitCode(std::vector<std::string> flags, std::string* log_text) {
    const std::string log = absl::StrCat(dir_, "/bad.", ++starts_, ".log");
    tributary::testing::Subprocess p = Run(std::move(flags), log);
    absl::StatusOr<int> status = p.Wait(absl::Seconds(30));
    EXPECT_TRUE(status.ok()) << status.status();
    *log_text = ReadFile(log);
    return status.ok() && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }

  void CreateAndAcquire(LeasingClient& client) {
    v1::CreateLeasesRequest create;
    for (int i = 0; i < kLeases; ++i) {
      v1::NewLease* nl = create.add_leases();
      nl->set_event_source_mapping_uuid(kMapping);
      nl->set_shard_id(absl::StrCat("shardId-", 1000 + i));
      nl->set_enabled(true);
    }
    ASSERT_TRUE(client.CreateLeases(create).ok());
    v1::RegisterPollerRequest reg;
    reg.set_poller_id("p1");
    reg.set_capacity(100);
    ASSERT_TRUE(client.RegisterPoller(reg).ok());
    v1::AcquireLeasesRequest acquire;
    acquire.set_poller_id("p1");
    absl::StatusOr<v1::AcquireLeasesResponse> granted = client.AcquireLeases(acquire);
    ASSERT_TRUE(granted.ok()) << granted.status();
    ASSERT_THAT(granted->leases(), SizeIs(kLeases));
  }
  absl::Status Checkpoint(LeasingClient& client, int shard, int64_t sequence_number) {
    v1::CheckpointRequest cp;
    cp.mutable_lease_key()->set_event_source_mapping_uuid(kMapping);
    cp.mutable_lease_key()->set_shard_id(absl::StrCat("shardId-", 1000 + shard));
    cp.set_poller_id("p1");
    cp.set_lease_counter(1);
    cp.mutable_checkpoint()->set_type(v1::SEQUENCE_NUMBER);
    cp.mutable_checkpoint()->set_sequence_number(absl::StrCat(sequence_number));
    return client.Checkpoint(cp).status();
  }
  // shard id → "owner/counter/sequence number"
  std::map<std::string, std::string> State(LeasingClient& client) {
    v1::ListLeasesRequest req;
    req.set_event_source_mapping_uuid(kMapping);
    absl::StatusOr<v1::ListLeasesResponse> resp = client.ListLeases(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    std::map<std::string, std::string> state;
    if (!resp.ok()) return state;
    for (const v1::Lease& l : resp->leases()) {
      state[l.shard_id()] = absl::StrCat(l.lease_owner(), "/", l.lease_counter(), "/",
                                         l.checkpoint().sequence_number());
    }
    return state;
  }

  std::string dir_;
  etcd::testing::EtcdCluster* etcd_ = nullptr;
  std::string prefix_;
  int starts_ = 0;
};

TEST_F(LeasingServerEtcdTest, BadCoordinationUrlExitsTwoNamingTheFlag) {
  for (const std::string url : {"etcd://127.0.0.1", "http://127.0.0.1:2379", "etcd://"}) {
    std::string log;
    EXPECT_EQ(ExitCode({"--listen=127.0.0.1:0", "--coordination=" + url}, &log), 2) << url;
    EXPECT_THAT(log, HasSubstr("--coordination=\"" + url + "\"")) << log;
  }
}

TEST_F(LeasingServerEtcdTest, DataDirAndCoordinationTogetherExitTwo) {
  std::string log;
  EXPECT_EQ(ExitCode({"--listen=127.0.0.1:0", "--coordination=" + etcd_->url(),
                      "--data_dir=" + dir_ + "/data"},
                     &log),
            2);
  EXPECT_THAT(log, HasSubstr("exclude each other"));
}

TEST_F(LeasingServerEtcdTest, KillNineKeepsEveryAcknowledgedChange) {
  Replica r;
  Start(&r);
  CreateAndAcquire(*r.client);
  for (int round = 1; round <= 2; ++round) {
    for (int i = 0; i < kLeases; ++i) ASSERT_TRUE(Checkpoint(*r.client, i, round * 1000).ok());
    const std::map<std::string, std::string> before = State(*r.client);
    ASSERT_THAT(before, SizeIs(kLeases));
    EXPECT_EQ(before.begin()->second, absl::StrCat("p1/1/", round * 1000));
    r.process->Kill(SIGKILL);
    Start(&r);
    EXPECT_EQ(State(*r.client), before) << "round " << round;
  }
}

// Regression test (issue 19): before, the first replica's write failed by compare once the
// second had changed a row, and it exited (status 1) to reload.
TEST_F(LeasingServerEtcdTest, TwoReplicasServeOneTableAndNothingMovesBack) {
  Replica first;
  Start(&first);
  CreateAndAcquire(*first.client);
  ASSERT_TRUE(Checkpoint(*first.client, 0, 100).ok());
  // A second replica on the same prefix: both answer, whichever a call reaches.
  Replica second;
  Start(&second);
  ASSERT_TRUE(Checkpoint(*second.client, 0, 500).ok());
  // The first one's memory may still say 100: its write conflicts, it takes the second's rows
  // in and computes again (300 < 500: ignored, never backwards).
  absl::Status s = Checkpoint(*first.client, 0, 300);
  EXPECT_TRUE(s.ok()) << s;
  ASSERT_TRUE(Checkpoint(*first.client, 1, 700).ok());
  ASSERT_TRUE(Checkpoint(*second.client, 1, 800).ok());
  // Reads answer from each replica's table, which follows the other's writes by a watch.
  for (Replica* r : {&first, &second}) {
    std::map<std::string, std::string> state;
    absl::Status caught_up = PollFor(
        absl::Seconds(10), absl::Milliseconds(20), "both checkpoints on this replica",
        [&] {
          state = State(*r->client);
          return state["shardId-1000"] == "p1/1/500" && state["shardId-1001"] == "p1/1/800";
        },
        [&] { return absl::StrCat(state["shardId-1000"], ", ", state["shardId-1001"]); });
    EXPECT_TRUE(caught_up.ok()) << caught_up;
  }
  EXPECT_EQ(first.process->Wait(absl::ZeroDuration()).status().code(),
            absl::StatusCode::kDeadlineExceeded)
      << "the first replica is still running";
}

}  // namespace
}  // namespace tributary::leasing
