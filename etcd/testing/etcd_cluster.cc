#include "etcd/testing/etcd_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/grpc_client.h"
#include "common/testing/test_util.h"
#include "glog/logging.h"

namespace tributary::etcd::testing {
namespace {

constexpr char kEtcdBinary[] = "/usr/bin/etcd";
// util-linux (essential in Debian): execs etcd with a parent-death signal, so that a test binary
// that crashes does not leave etcd members running.
constexpr char kSetpriv[] = "/usr/bin/setpriv";

}  // namespace

std::vector<std::string> EtcdServerSettings() {
  return {
      // What cluster mode documents for production (NOTES.md): history kept 10 minutes, so that
      // the revisions of frequent checkpoints do not grow the database without bound.
      "--auto-compaction-mode=periodic",
      "--auto-compaction-retention=10m",
      // One lease-table write is one Txn: a CreateLeases of a 10,000-shard stream puts 10,000
      // rows with a compare each.
      "--max-txn-ops=100000",
      "--max-request-bytes=10485760",
      "--logger=zap",
      "--log-outputs=stderr",
      "--log-level=warn",
  };
}

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(
    int members, const std::vector<std::string>& extra_flags) {
  if (access(kEtcdBinary, X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(kEtcdBinary, " is missing: tools/setup.sh installs etcd-server"));
  }
  absl::Status last;
  // Ports are picked before etcd binds them: another process may take one in between.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<EtcdCluster> cluster(new EtcdCluster());
    cluster->root_ = tributary::testing::NewTempDir("etcd");
    const std::string token = absl::StrCat("tributary-test-", getpid(), "-", attempt, "-",
                                           reinterpret_cast<uintptr_t>(cluster.get()));
    std::vector<std::string> initial_cluster;
    for (int i = 0; i < members; ++i) {
      Member m;
      m.name = absl::StrCat("m", i);
      absl::StatusOr<int> client_port = tributary::testing::PickFreePort();
      absl::StatusOr<int> peer_port = tributary::testing::PickFreePort();
      if (!client_port.ok()) return client_port.status();
      if (!peer_port.ok()) return peer_port.status();
      m.client_address = absl::StrCat("127.0.0.1:", *client_port);
      m.peer_address = absl::StrCat("127.0.0.1:", *peer_port);
      m.data_dir = absl::StrCat(cluster->root_, "/", m.name);
      m.log_path = absl::StrCat(cluster->root_, "/", m.name, ".log");
      initial_cluster.push_back(absl::StrCat(m.name, "=http://", m.peer_address));
      cluster->members_.push_back(std::move(m));
    }
    for (Member& m : cluster->members_) {
      m.args = {"--pdeathsig",
                "KILL",
                "--",
                kEtcdBinary,
                "--name=" + m.name,
                "--data-dir=" + m.data_dir,
                "--listen-client-urls=http://" + m.client_address,
                "--advertise-client-urls=http://" + m.client_address,
                "--listen-peer-urls=http://" + m.peer_address,
                "--initial-advertise-peer-urls=http://" + m.peer_address,
                "--initial-cluster=" + absl::StrJoin(initial_cluster, ","),
                "--initial-cluster-state=new",
                "--initial-cluster-token=" + token};
      for (const std::string& flag : EtcdServerSettings()) m.args.push_back(flag);
      for (const std::string& flag : extra_flags) m.args.push_back(flag);
    }
    last = absl::OkStatus();
    for (int i = 0; i < members && last.ok(); ++i) last = cluster->StartMember(i);
    if (last.ok()) last = cluster->WaitUntilServing(-1);
    if (last.ok()) return cluster;
    LOG(WARNING) << "etcd cluster did not start (attempt " << attempt + 1 << "): " << last;
  }
  return last;
}

EtcdCluster& EtcdCluster::Shared(int members) {
  static absl::Mutex mu(absl::kConstInit);
  // Destroyed at exit, which kills the members.
  static std::map<int, std::unique_ptr<EtcdCluster>> clusters;
  absl::MutexLock lock(&mu);
  std::unique_ptr<EtcdCluster>& cluster = clusters[members];
  if (cluster == nullptr) {
    absl::StatusOr<std::unique_ptr<EtcdCluster>> started = Start(members);
    CHECK(started.ok()) << "cannot start the shared etcd cluster: " << started.status();
    cluster = std::move(started).value();
  }
  return *cluster;
}

EtcdCluster::~EtcdCluster() {
  // SIGKILL ends a paused (SIGSTOPped) member too.
  for (Member& m : members_) m.process.Kill(SIGKILL);
  // Each member preallocates ~140 MB of WAL and database: a benchmark run outside Bazel (no
  // TEST_TMPDIR) left ~430 MB in /tmp per cluster, and filled the disk over a day.
  std::error_code ignored;
  if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (const Member& m : members_) out.push_back(m.client_address);
  return out;
}

std::string EtcdCluster::url() const {
  return absl::StrCat("etcd://", absl::StrJoin(endpoints(), ","));
}

std::string EtcdCluster::NewPrefix() { return absl::StrCat("/test/", next_prefix_++, "/"); }

std::unique_ptr<EtcdClient> EtcdCluster::NewClient(EtcdClientOptions options) {
  options.endpoints = endpoints();
  absl::StatusOr<std::unique_ptr<EtcdClient>> client =
      EtcdClient::Create(RealClock::Get(), std::move(options));
  CHECK(client.ok()) << client.status();
  return std::move(client).value();
}

absl::Status EtcdCluster::StartMember(int member) {
  Member& m = members_[member];
  absl::StatusOr<Subprocess> process = Subprocess::Start(kSetpriv, m.args, m.log_path);
  if (!process.ok()) return process.status();
  m.process = std::move(process).value();
  return absl::OkStatus();
}

absl::Status EtcdCluster::WaitUntilServing(int member) {
  EtcdClientOptions options;
  options.endpoints =
      member < 0 ? endpoints() : std::vector<std::string>{members_[member].client_address};
  options.attempt_timeout = absl::Seconds(1);
  options.operation_timeout = absl::Seconds(2);
  // A new client (a new connection) for every probe: a connection opened while etcd starts can
  // hang for seconds before etcd answers on it, although etcd serves new ones by then.
  const MonotonicTime deadline = RealClock::Get().MonotonicNow() + absl::Seconds(30);
  absl::Status last;
  while (RealClock::Get().MonotonicNow() < deadline) {
    absl::StatusOr<std::unique_ptr<EtcdClient>> client =
        EtcdClient::Create(RealClock::Get(), options);
    if (!client.ok()) return client.status();
    absl::StatusOr<std::optional<KeyValue>> read = (*client)->Get("/health");
    if (read.ok()) return absl::OkStatus();
    last = read.status();
  }
  return absl::UnavailableError(
      absl::StrCat("etcd did not come up within 30 s: ", last.message(), "\n", LogTails()));
}

std::string EtcdCluster::LogTails() const {
  std::string out;
  for (const Member& m : members_) {
    absl::StrAppend(&out, "---- ", m.name, " (", m.log_path, ")\n",
                    tributary::testing::FileTail(m.log_path, 2000), "\n");
  }
  return out;
}

absl::StatusOr<int> EtcdCluster::Leader() {
  for (int i = 0; i < size(); ++i) {
    if (!members_[i].process.running()) continue;
    EtcdMemberStubs stubs = ConnectToMember(members_[i].client_address);
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(1));
    etcdserverpb::StatusRequest request;
    etcdserverpb::StatusResponse response;
    if (!stubs.maintenance->Status(&context, request, &response).ok()) continue;
    if (response.leader() == 0) continue;
    // The leader's member id: ask each running member for its own id.
    for (int j = 0; j < size(); ++j) {
      if (!members_[j].process.running()) continue;
      EtcdMemberStubs other = ConnectToMember(members_[j].client_address);
      grpc::ClientContext other_context;
      SetDeadline(&other_context, absl::Seconds(1));
      etcdserverpb::StatusResponse other_status;
      if (other.maintenance->Status(&other_context, request, &other_status).ok() &&
          other_status.header().member_id() == response.leader()) {
        return j;
      }
    }
  }
  return absl::UnavailableError("no running etcd member names a running leader");
}

void EtcdCluster::Kill(int member) { members_[member].process.Kill(SIGKILL); }

absl::Status EtcdCluster::Restart(int member) {
  Member& m = members_[member];
  m.process.Kill(SIGKILL);
  // The data directory holds the member's identity: the initial-cluster flags are ignored.
  if (absl::Status started = StartMember(member); !started.ok()) return started;
  return WaitUntilServing(member);
}

void EtcdCluster::Pause(int member) { kill(members_[member].process.pid(), SIGSTOP); }

void EtcdCluster::Resume(int member) { kill(members_[member].process.pid(), SIGCONT); }

}  // namespace tributary::etcd::testing
