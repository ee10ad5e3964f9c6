// Real nats-server processes on 127.0.0.1 for tests: one JetStream server, or a JetStream cluster
// of several, on free ports, each with its own store directory under $TEST_TMPDIR. Tests never
// skip for want of NATS: tools/setup.sh installs nats-server.
//
// Every server runs with the settings cluster mode documents (NOTES.md): max_payload 8 MB (a
// maximum Kinesis record plus headers does not fit in the default 1 MB), JetStream with file
// storage. A cluster's servers are named n0, n1, ... (their server_name, which stream infos
// report as leader and replicas).
//
// Starting a 3-server cluster takes a few seconds, so a test binary shares one per size (Shared)
// across its cases, each case using streams of its own (NewStreamName). A test that kills or
// restarts servers may do so on the shared cluster if it leaves every server running (Restart)
// before it ends; Shared() restarts any server a failed test left down.
//
// Not thread-safe: one test thread drives it (the clients it hands out are thread-safe). Waits
// are bounded real-time polls (common/await.h) of what the servers answer.
#ifndef TRIBUTARY_NATS_TESTING_NATS_CLUSTER_H_
#define TRIBUTARY_NATS_TESTING_NATS_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/process.h"
#include "nats/nats_client.h"

namespace tributary::nats::testing {

class NatsCluster {
 public:
  // Starts `servers` servers (1: a single JetStream server; more: a cluster of that many) and
  // waits until JetStream is ready: every server answers JetStream requests and, in a cluster, a
  // stream with a replica on every server can be created. Errors: FAILED_PRECONDITION when
  // nats-server is missing (run tools/setup.sh); UNAVAILABLE when it did not come up (the
  // message has the end of each server's log).
  static absl::StatusOr<std::unique_ptr<NatsCluster>> Start(int servers);

  // The cluster of `servers` servers shared by every test of this process: started at the first
  // call, killed when the process exits; a server a test left killed is restarted here.
  // CHECK-fails if it cannot start (no test can run).
  static NatsCluster& Shared(int servers = 1);

  // Kills every server (SIGKILL).
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  int size() const { return static_cast<int>(servers_.size()); }
  // Every server's client address (127.0.0.1:port), in server order.
  std::vector<std::string> addresses() const;
  // "nats://a,b,c": the --log flag's value.
  std::string url() const;
  // Server `server`'s server_name ("n0", ...).
  const std::string& server_name(int server) const { return servers_[server].name; }
  // A stream name no other caller in this process gets ("t7"): a test's own stream.
  std::string NewStreamName();

  // A client of every server; `options.servers` is filled in. CHECK-fails when it cannot
  // connect (the cluster is up: a test cannot go on without it).
  std::unique_ptr<NatsClient> NewClient(NatsClientOptions options = {});
  // A client of server `server` alone.
  absl::StatusOr<std::unique_ptr<NatsClient>> ConnectTo(int server, NatsClientOptions options = {});

  // The server that leads `stream` now, as the stream's info says (asked through every running
  // server in turn). Errors: UNAVAILABLE when no running server names a running leader (e.g.
  // during an election); NOT_FOUND when the stream does not exist.
  absl::StatusOr<int> StreamLeader(absl::string_view stream);
  // Waits (at most 30 s) until a running server other than `not_server` (-1: any) leads
  // `stream`, and returns it. Errors: DEADLINE_EXCEEDED saying what was last seen.
  absl::StatusOr<int> AwaitStreamLeader(absl::string_view stream, int not_server = -1);

  // SIGKILL of `server` (its store directory stays).
  void Kill(int server);
  // Starts a killed server again on its store directory and ports, and waits until it answers
  // JetStream requests. Errors: UNAVAILABLE when it did not come back.
  absl::Status Restart(int server);
  // SIGSTOP / SIGCONT of `server`: alive but silent (connections stay open, nothing is
  // answered), as behind a partition. Kill ends a paused server too; what it had not read from
  // its sockets is lost with it. Pause returns once every thread of the server is stopped (a
  // signal takes effect a moment after kill() returns); errors: DEADLINE_EXCEEDED.
  absl::Status Pause(int server);
  void Resume(int server);
  bool running(int server) const { return servers_[server].process.running(); }

 private:
  struct Server {
    std::string name;            // server_name
    std::string client_address;  // 127.0.0.1:port
    std::string route_address;   // 127.0.0.1:port (clusters only)
    std::string config_path;
    std::string store_dir;
    std::string log_path;
    Subprocess process;
  };

  NatsCluster() = default;
  absl::Status StartServer(int server);
  // Waits until each server in `which` answers JetStream requests and, in a cluster with
  // `probe_stream`, until a stream replicated on every server can be created.
  absl::Status WaitUntilReady(const std::vector<int>& which, bool probe_stream);
  std::string LogTails() const;

  std::string root_;
  std::vector<Server> servers_;
  int next_stream_ = 0;
};

}  // namespace tributary::nats::testing

#endif  // TRIBUTARY_NATS_TESTING_NATS_CLUSTER_H_
