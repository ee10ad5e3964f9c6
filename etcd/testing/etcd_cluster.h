// Real etcd processes on 127.0.0.1 for tests: one member or a cluster of several, on free ports,
// with data under $TEST_TMPDIR. Tests never skip for want of etcd: tools/setup.sh installs it.
//
// Starting a cluster takes about a second, so a test binary shares one per size (Shared) across
// its cases, each case working under a prefix of its own (NewPrefix); tests that kill, stop or
// restart members start their own (Start). Members run with the settings cluster mode documents
// (NOTES.md): periodic auto-compaction keeping 10 minutes, larger Txn and request limits.
//
// Not thread-safe: one test thread drives it (the clients it hands out are thread-safe).
#ifndef TRIBUTARY_ETCD_TESTING_ETCD_CLUSTER_H_
#define TRIBUTARY_ETCD_TESTING_ETCD_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/process.h"
#include "etcd/etcd_client.h"

namespace tributary::etcd::testing {

// The flags every member gets besides its addresses (see NOTES.md).
std::vector<std::string> EtcdServerSettings();

class EtcdCluster {
 public:
  // Starts `members` members (1 or more) and waits until the cluster answers a linearizable
  // read. Errors: FAILED_PRECONDITION when /usr/bin/etcd is missing (run tools/setup.sh);
  // UNAVAILABLE when it did not come up (the message has the end of each member's log).
  // `extra_flags` go after EtcdServerSettings() (benchmarks: server settings to compare).
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> Start(
      int members, const std::vector<std::string>& extra_flags = {});

  // The cluster of `members` members shared by every test of this process: started at the first
  // call, killed when the process exits. CHECK-fails if it cannot start (no test can run).
  static EtcdCluster& Shared(int members = 1);

  // Kills every member (SIGKILL).
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  // Every member's client address (host:port), in member order.
  std::vector<std::string> endpoints() const;
  // "etcd://a,b,c": the --coordination flag's value.
  std::string url() const;
  // A prefix no other caller in this process gets ("/test/7/"): a test's own key space.
  std::string NewPrefix();

  // A client of every member on the real clock; `options.endpoints` is filled in.
  std::unique_ptr<EtcdClient> NewClient(EtcdClientOptions options = {});

  // The member that leads now, as the members say (asked in turn, 1 s each). Errors:
  // UNAVAILABLE when no running member names a leader that is running.
  absl::StatusOr<int> Leader();

  // SIGKILL of `member` (its data directory stays).
  void Kill(int member);
  // Starts a killed member again on its data directory and ports, and waits until the cluster
  // answers through it. Errors: UNAVAILABLE when it did not come back.
  absl::Status Restart(int member);
  // SIGSTOP / SIGCONT of `member`: alive but silent, as behind a network partition.
  void Pause(int member);
  void Resume(int member);
  bool running(int member) const { return members_[member].process.running(); }

 private:
  struct Member {
    std::string name;
    std::string client_address;  // 127.0.0.1:port
    std::string peer_address;
    std::string data_dir;
    std::string log_path;
    std::vector<std::string> args;
    Subprocess process;
  };

  EtcdCluster() = default;
  absl::Status StartMember(int member);
  // Waits until a linearizable read through `member` (or any member when -1) succeeds.
  absl::Status WaitUntilServing(int member);
  std::string LogTails() const;

  std::string root_;
  std::vector<Member> members_;
  int next_prefix_ = 0;
};

}  // namespace tributary::etcd::testing

#endif  // TRIBUTARY_ETCD_TESTING_ETCD_CLUSTER_H_
