#include "nats/testing/nats_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "common/testing/test_util.h"
#include "glog/logging.h"

namespace tributary::nats::testing {
namespace {

constexpr char kNatsServer[] = "/usr/sbin/nats-server";
// util-linux (essential in Debian): execs nats-server with a parent-death signal, so that a test
// binary that crashes leaves no server running.
constexpr char kSetpriv[] = "/usr/bin/setpriv";

// How long a start or restart may take before it is a failure (a 3-server cluster needs a few
// seconds here; the VM is shared and loaded).
constexpr absl::Duration kReadyTimeout = absl::Seconds(60);
constexpr absl::Duration kPollInterval = absl::Milliseconds(100);

absl::Status WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::trunc);
  out << contents;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<NatsCluster>> NatsCluster::Start(int servers) {
  if (servers < 1) return absl::InvalidArgumentError("a NATS cluster needs at least one server");
  if (access(kNatsServer, X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(kNatsServer, " is missing: tools/setup.sh installs nats-server"));
  }
  absl::Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<NatsCluster> cluster(new NatsCluster());
    cluster->root_ = tributary::testing::NewTempDir("nats");
    for (int i = 0; i < servers; ++i) {
      Server s;
      s.name = absl::StrCat("n", i);
      absl::StatusOr<int> client_port = tributary::testing::PickFreePort();
      if (!client_port.ok()) return client_port.status();
      s.client_address = absl::StrCat("127.0.0.1:", *client_port);
      if (servers > 1) {
        absl::StatusOr<int> route_port = tributary::testing::PickFreePort();
        if (!route_port.ok()) return route_port.status();
        s.route_address = absl::StrCat("127.0.0.1:", *route_port);
      }
      s.store_dir = absl::StrCat(cluster->root_, "/", s.name);
      s.config_path = absl::StrCat(cluster->root_, "/", s.name, ".conf");
      s.log_path = absl::StrCat(cluster->root_, "/", s.name, ".log");
      cluster->servers_.push_back(std::move(s));
    }
    std::vector<std::string> routes;
    for (const Server& s : cluster->servers_) {
      routes.push_back(absl::StrCat("\"nats-route://", s.route_address, "\""));
    }
    last = absl::OkStatus();
    for (const Server& s : cluster->servers_) {
      // The settings NOTES.md documents for cluster mode: max_payload 8 MB (a 1 MiB record plus
      // its headers exceeds the default 1 MB), JetStream on a store directory of its own.
      std::string config = absl::StrCat("server_name: \"", s.name, "\"\n", "listen: \"",
                                        s.client_address, "\"\n", "max_payload: 8MB\n",
                                        "jetstream {\n  store_dir: \"", s.store_dir, "\"\n}\n");
      if (servers > 1) {
        absl::StrAppend(&config, "cluster {\n  name: \"tributary\"\n  listen: \"", s.route_address,
                        "\"\n  routes: [", absl::StrJoin(routes, ", "), "]\n}\n");
      }
      if (last.ok()) last = WriteFile(s.config_path, config);
    }
    for (int i = 0; i < servers && last.ok(); ++i) last = cluster->StartServer(i);
    std::vector<int> all;
    for (int i = 0; i < servers; ++i) all.push_back(i);
    if (last.ok()) last = cluster->WaitUntilReady(all, /*probe_stream=*/true);
    if (last.ok()) return cluster;
    LOG(WARNING) << "NATS cluster did not start (attempt " << attempt + 1 << "): " << last;
  }
  return last;
}

NatsCluster& NatsCluster::Shared(int servers) {
  static absl::Mutex mu(absl::kConstInit);
  // Destroyed at exit, which kills the servers.
  static std::map<int, std::unique_ptr<NatsCluster>> clusters;
  absl::MutexLock lock(&mu);
  std::unique_ptr<NatsCluster>& cluster = clusters[servers];
  if (cluster == nullptr) {
    absl::StatusOr<std::unique_ptr<NatsCluster>> started = Start(servers);
    CHECK(started.ok()) << "cannot start the shared NATS cluster: " << started.status();
    cluster = std::move(started).value();
  }
  for (int i = 0; i < cluster->size(); ++i) {
    if (cluster->running(i)) continue;
    const absl::Status restarted = cluster->Restart(i);
    CHECK(restarted.ok()) << "cannot restart server " << i
                          << " of the shared NATS cluster: " << restarted;
  }
  return *cluster;
}

NatsCluster::~NatsCluster() {
  for (Server& s : servers_) s.process.Kill(SIGKILL);
  // The servers' JetStream stores: a benchmark run outside Bazel (no TEST_TMPDIR) left them in /tmp.
  std::error_code ignored;
  if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
}

std::vector<std::string> NatsCluster::addresses() const {
  std::vector<std::string> out;
  for (const Server& s : servers_) out.push_back(s.client_address);
  return out;
}

std::string NatsCluster::url() const {
  return absl::StrCat("nats://", absl::StrJoin(addresses(), ","));
}

std::string NatsCluster::NewStreamName() { return absl::StrCat("t", next_stream_++); }

std::unique_ptr<NatsClient> NatsCluster::NewClient(NatsClientOptions options) {
  options.servers = addresses();
  absl::StatusOr<std::unique_ptr<NatsClient>> client = NatsClient::Connect(options);
  CHECK(client.ok()) << client.status();
  return std::move(client).value();
}

absl::StatusOr<std::unique_ptr<NatsClient>> NatsCluster::ConnectTo(int server,
                                                                   NatsClientOptions options) {
  options.servers = {servers_[server].client_address};
  return NatsClient::Connect(options);
}

absl::Status NatsCluster::StartServer(int server) {
  Server& s = servers_[server];
  absl::StatusOr<Subprocess> process = Subprocess::Start(
      kSetpriv, {"--pdeathsig", "KILL", "--", kNatsServer, "-c", s.config_path}, s.log_path);
  if (!process.ok()) return process.status();
  s.process = std::move(process).value();
  return absl::OkStatus();
}

absl::Status NatsCluster::WaitUntilReady(const std::vector<int>& which, bool probe_stream) {
  NatsClientOptions probe_options;
  probe_options.connect_timeout = absl::Seconds(1);
  probe_options.request_timeout = absl::Seconds(1);
  std::string last_seen = "nothing yet";
  // Each server answers JetStream requests (in a cluster: it knows the meta leader).
  for (int server : which) {
    const absl::Status ready = PollFor(
        kReadyTimeout, kPollInterval, absl::StrCat("JetStream on ", servers_[server].name),
        [&] {
          if (!servers_[server].process.running()) {
            last_seen = "the server is not running";
            return false;
          }
          absl::StatusOr<std::unique_ptr<NatsClient>> client = ConnectTo(server, probe_options);
          absl::Status s = client.ok() ? (*client)->CheckJetStream() : client.status();
          last_seen = s.ToString();
          return s.ok();
        },
        [&] { return last_seen; });
    if (!ready.ok()) {
      return absl::UnavailableError(absl::StrCat(ready.message(), "\n", LogTails()));
    }
  }
  if (size() == 1 || !probe_stream) return absl::OkStatus();
  // In a cluster, the meta leader places a stream only on servers it has heard from: a stream
  // with a replica on every server can be created once all have joined.
  std::unique_ptr<NatsClient> client = NewClient(probe_options);
  StreamConfig probe;
  probe.name = absl::StrCat("ready_probe_", next_stream_++);
  probe.subjects = {probe.name};
  probe.replicas = size();
  probe.file_storage = false;
  const absl::Status ready = PollFor(
      kReadyTimeout, kPollInterval, absl::StrCat("a stream on all ", size(), " servers"),
      [&] {
        absl::StatusOr<StreamInfo> created = client->CreateStream(probe);
        last_seen = created.status().ToString();
        return created.ok();
      },
      [&] { return last_seen; });
  if (!ready.ok()) return absl::UnavailableError(absl::StrCat(ready.message(), "\n", LogTails()));
  return client->DeleteStream(probe.name);
}

std::string NatsCluster::LogTails() const {
  std::string out;
  for (const Server& s : servers_) {
    absl::StrAppend(&out, "---- ", s.name, " (", s.log_path, ")\n",
                    tributary::testing::FileTail(s.log_path, 2000), "\n");
  }
  return out;
}

absl::StatusOr<int> NatsCluster::StreamLeader(absl::string_view stream) {
  absl::Status last = absl::UnavailableError("no server is running");
  for (int i = 0; i < size(); ++i) {
    if (!running(i)) continue;
    NatsClientOptions options;
    options.connect_timeout = absl::Seconds(1);
    options.request_timeout = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<NatsClient>> client = ConnectTo(i, options);
    if (!client.ok()) {
      last = client.status();
      continue;
    }
    absl::StatusOr<StreamInfo> info = (*client)->GetStreamInfo(stream);
    if (!info.ok()) {
      if (absl::IsNotFound(info.status())) return info.status();
      last = info.status();
      continue;
    }
    // A single server (no clustering) leads every stream.
    if (info->leader.empty() && size() == 1) return 0;
    for (int j = 0; j < size(); ++j) {
      if (servers_[j].name == info->leader && running(j)) return j;
    }
    last = absl::UnavailableError(
        absl::StrCat("stream ", stream, " names leader \"", info->leader, "\", not running"));
  }
  return absl::UnavailableError(
      absl::StrCat("no running server names a running leader of ", stream, ": ", last.message()));
}

absl::StatusOr<int> NatsCluster::AwaitStreamLeader(absl::string_view stream, int not_server) {
  int leader = -1;
  std::string last_seen = "nothing yet";
  const absl::Status found = PollFor(
      kReadyTimeout, kPollInterval, absl::StrCat("a leader of stream ", stream),
      [&] {
        absl::StatusOr<int> l = StreamLeader(stream);
        if (!l.ok()) {
          last_seen = l.status().ToString();
          return false;
        }
        last_seen = absl::StrCat("leader ", servers_[*l].name);
        if (*l == not_server) return false;
        leader = *l;
        return true;
      },
      [&] { return last_seen; });
  if (!found.ok()) return found;
  return leader;
}

void NatsCluster::Kill(int server) { servers_[server].process.Kill(SIGKILL); }

absl::Status NatsCluster::Pause(int server) {
  const pid_t pid = servers_[server].process.pid();
  kill(pid, SIGSTOP);
  // Stopped when every thread's state (the third field of /proc/<pid>/task/<tid>/stat) is 'T'.
  std::string last_seen;
  return PollFor(
      absl::Seconds(10), absl::Milliseconds(1), absl::StrCat(servers_[server].name, " stopped"),
      [&] {
        std::error_code error;
        int threads = 0;
        for (const auto& task :
             std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"), error)) {
          std::ifstream in(task.path() / "stat");
          std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
          // "<tid> (<comm>) <state> ...": the state follows the last ')'.
          const size_t paren = stat.rfind(')');
          if (paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'T') {
            last_seen = absl::StrCat("thread ", task.path().filename().string(), " running");
            return false;
          }
          ++threads;
        }
        if (error || threads == 0) {
          last_seen = "no threads listed";
          return false;
        }
        return true;
      },
      [&] { return last_seen; });
}

void NatsCluster::Resume(int server) { kill(servers_[server].process.pid(), SIGCONT); }

absl::Status NatsCluster::Restart(int server) {
  servers_[server].process.Kill(SIGKILL);
  if (absl::Status started = StartServer(server); !started.ok()) return started;
  return WaitUntilReady({server}, /*probe_stream=*/false);
}

}  // namespace tributary::nats::testing
