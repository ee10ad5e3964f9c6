// A small client of etcd 3.4's v3 API (KV, Lease, Watch) for Tributary's control plane in cluster
// mode (issue 19): what the etcd-backed stores need, with every call under a deadline, failover
// between the cluster's members, and absl::Status errors.
//
// Calls and retries. Each attempt has a deadline (`attempt_timeout`), and a call gives up after
// `operation_timeout`. An attempt that fails with UNAVAILABLE or DEADLINE_EXCEEDED (a member down,
// partitioned or without a leader; etcd says "leader changed" or "request timed out" with
// UNAVAILABLE too) is retried on the next member, after a backoff once every member has failed
// in a row. Other errors are returned at once (INVALID_ARGUMENT for a request etcd refuses, e.g.
// a Txn over `--max-txn-ops`; OUT_OF_RANGE for a compacted revision; RESOURCE_EXHAUSTED when etcd
// is over its space quota). Reads are linearizable (etcd's default), so a partitioned member
// cannot answer them from stale state: it times out and the next member is asked.
//
// Outcome unknown. DEADLINE_EXCEEDED or UNAVAILABLE from a write does not mean it was not applied
// (measured: 8 of ~100,000 Txns during leader kills had been, see ../shared/SCALEOUT.md). Put and
// Delete are retried anyway (applying them twice leaves the same state). A Txn is retried only
// when it names a marker key (Commit): its success branch also writes a value unique to the call
// there, so that a retry whose compares fail because the earlier attempt was applied recognises
// its own write and reports success.
//
// Example: a fenced write of row "r" last seen at revision 42.
//   Txn txn;
//   txn.compares.push_back(Compare::ModRevision("r", Compare::kEqual, 42));
//   txn.success.push_back(Op::Put("r", "new value"));
//   ASSIGN_OR_RETURN(TxnResult result, client.Commit(txn, "writers/leasing"));
//   if (!result.succeeded) ...  // someone else changed "r" since revision 42
//   // else "r" is at mod_revision result.revision (also when result.recovered).
//
// Thread-safe. Time (deadlines of whole calls, backoff, lease keepalive intervals) comes from the
// injected Clock; gRPC's per-attempt deadlines are real time (common/grpc_client.h).
#ifndef TRIBUTARY_ETCD_ETCD_CLIENT_H_
#define TRIBUTARY_ETCD_ETCD_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "grpcpp/client_context.h"

namespace tributary::etcd {

// A key as etcd stores it.
struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;  // the revision that created the key
  int64_t mod_revision = 0;     // the revision of its last change
  int64_t version = 0;          // changes since creation (1 after the first put)
  int64_t lease = 0;            // the lease it is attached to; 0 for none
};

// One condition of a Txn. A key that does not exist compares as revision/version 0; a value
// compare on a missing key always fails (etcd's rule).
struct Compare {
  enum Result { kEqual, kNotEqual, kLess, kGreater };
  enum class Target { kVersion, kCreateRevision, kModRevision, kValue };

  static Compare ModRevision(std::string key, Result result, int64_t revision);
  static Compare CreateRevision(std::string key, Result result, int64_t revision);
  static Compare Version(std::string key, Result result, int64_t version);
  static Compare Value(std::string key, Result result, std::string value);

  std::string key;
  Target target = Target::kModRevision;
  Result result = kEqual;
  int64_t number = 0;  // revision or version
  std::string value;   // with Target::kValue
};

// One operation of a Txn.
struct Op {
  enum class Kind { kPut, kGet, kDelete };

  // Puts `value` at `key`, attached to `lease` (0: none).
  static Op Put(std::string key, std::string value, int64_t lease = 0);
  // Reads `key`.
  static Op Get(std::string key);
  // Reads every key that starts with `prefix` (no limit: for small ranges).
  static Op GetPrefix(std::string prefix);
  static Op Delete(std::string key);
  static Op DeletePrefix(std::string prefix);

  Kind kind = Kind::kGet;
  std::string key;
  std::string range_end;  // empty: `key` only
  std::string value;
  int64_t lease = 0;
};

// What one Op of the branch a Txn took returned.
struct OpResult {
  std::vector<KeyValue> kvs;  // Get: the keys read
  int64_t deleted = 0;        // Delete: how many keys
};

struct Txn {
  std::vector<Compare> compares;  // all must hold for `success` to run, else `failure` runs
  std::vector<Op> success;
  std::vector<Op> failure;
};

struct TxnResult {
  bool succeeded = false;  // the compares held and `success` was applied
  // etcd's revision after the Txn; when it succeeded and wrote anything, every key it put has
  // this mod_revision.
  int64_t revision = 0;
  // One per op of the branch taken (without Commit's own marker read); empty when `recovered`.
  std::vector<OpResult> responses;
  // The Txn succeeded in an earlier attempt whose answer was lost (DEADLINE_EXCEEDED or
  // UNAVAILABLE); a retry recognised its write by the marker. `revision` is that write's.
  bool recovered = false;
};

struct RangeResult {
  std::vector<KeyValue> kvs;  // in key order
  int64_t revision = 0;       // the revision the range was read at
};

// A change seen by a watch.
struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;  // for a delete: the key and the deleting revision (mod_revision), no value
};

struct EtcdClientOptions {
  // The members' client addresses, host:port (at least one). Calls start with the first and
  // move on to the next when one fails.
  std::vector<std::string> endpoints;
  // The deadline of one attempt on one member. A member that lost its leader, or a follower
  // that has not yet noticed the leader died, does not answer: it is given up on after this
  // long. > 0.
  absl::Duration attempt_timeout = absl::Seconds(1);
  // The deadline of a whole call, retries included. >= attempt_timeout.
  absl::Duration operation_timeout = absl::Seconds(10);
  // Backoff after every member failed in a row: doubles from initial to max.
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(1);
};

// The stubs of one member, for EtcdClient's test constructor (tests wrap them to inject faults).
struct EtcdMemberStubs {
  std::string address;
  std::unique_ptr<etcdserverpb::KV::StubInterface> kv;
  std::unique_ptr<etcdserverpb::Lease::StubInterface> lease;
  std::unique_ptr<etcdserverpb::Watch::StubInterface> watch;
  std::unique_ptr<etcdserverpb::Maintenance::StubInterface> maintenance;
};

// The stubs of a real member at `address` over a channel with etcd-friendly settings: gRPC
// keepalive pings every 10 s and only during calls (etcd answers pings more often than every
// 5 s, or pings without calls, with GOAWAY "too_many_pings"), reconnect backoff up to 1 s.
EtcdMemberStubs ConnectToMember(const std::string& address);

class EtcdWatch;

class EtcdClient {
 public:
  // Connects to `options.endpoints` (nothing is sent yet: an unreachable cluster shows in the
  // first call). `clock` must outlive the client. Errors: INVALID_ARGUMENT for no endpoint, an
  // endpoint that is not host:port, or bad timeouts.
  static absl::StatusOr<std::unique_ptr<EtcdClient>> Create(Clock& clock,
                                                            EtcdClientOptions options);
  // Over given stubs (tests). `options.endpoints` is ignored. Precondition: `members` not empty.
  EtcdClient(Clock& clock, EtcdClientOptions options, std::vector<EtcdMemberStubs> members);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // Reads `key`: nullopt when it does not exist.
  absl::StatusOr<std::optional<KeyValue>> Get(const std::string& key);

  // Reads every key starting with `prefix` (empty: every key), at one revision, in pages of
  // `page_size` keys (so that no reply nears gRPC's message limit). Errors: OUT_OF_RANGE when
  // that revision was compacted between pages (read again); the call's.
  absl::StatusOr<RangeResult> GetPrefix(const std::string& prefix, int64_t page_size = 1000);

  // Puts `value` at `key` (attached to `lease`, 0: none). Returns the new revision. Retried on
  // UNAVAILABLE and DEADLINE_EXCEEDED (a second apply writes the same value again).
  absl::StatusOr<int64_t> Put(const std::string& key, const std::string& value,
                              int64_t lease = 0);

  // Deletes `key` / every key starting with `prefix`. Returns how many keys were deleted (by the
  // last attempt: a retry after a lost answer says 0). Idempotent.
  absl::StatusOr<int64_t> Delete(const std::string& key);
  absl::StatusOr<int64_t> DeletePrefix(const std::string& prefix);

  // Runs `txn`. Without a `marker_key` it is tried once: DEADLINE_EXCEEDED or UNAVAILABLE is
  // returned as is (outcome unknown; the next call starts at the next member). With a
  // `marker_key`, the success branch
  // also puts a value unique to this call at `marker_key`, the failure branch reads it, and the
  // Txn is retried like any call: a retry whose compares fail while the marker holds this call's
  // value reports success with `recovered` set.
  // Preconditions for a marker: no other writer uses `marker_key` concurrently with this client
  // (one marker key per writer, e.g. "<prefix>writers/<name>"); the success branch neither puts
  // nor deletes `marker_key`; and the compares stop holding once the success branch has applied
  // (e.g. a mod_revision compare on a key it puts), so that a late first attempt and a retry
  // never both apply.
  // `write_id` (optional) receives the value put at `marker_key`, also when the call fails: a
  // caller left with DEADLINE_EXCEEDED or UNAVAILABLE can read the marker later to learn whether
  // the Txn was applied.
  // Errors: INVALID_ARGUMENT from etcd (too many operations, a key put twice); the call's.
  // `marker_lease` (optional, 0: none): the lease the marker is put with, so that a writer's
  // marker goes away with the writer (e.g. a session lease per process).
  absl::StatusOr<TxnResult> Commit(const Txn& txn, const std::string& marker_key = "",
                                   std::string* write_id = nullptr, int64_t marker_lease = 0);

  // Drops the history before `revision` (older versions of keys; watches from earlier revisions
  // fail with OUT_OF_RANGE). Etcd also compacts by itself (--auto-compaction-*, NOTES.md).
  // Errors: OUT_OF_RANGE when the history is already compacted past `revision`; the call's.
  absl::Status Compact(int64_t revision);

  // Grants a lease of `ttl` (rounded up to whole seconds; etcd raises anything under its minimum,
  // about 2 s by default). Returns its id. Retried like a Put (a lost answer leaves an unused
  // lease that expires).
  absl::StatusOr<int64_t> GrantLease(absl::Duration ttl);
  // Revokes `lease`, deleting the keys attached to it. Idempotent: a lease that is gone is OK.
  absl::Status RevokeLease(int64_t lease);
  // Renews `lease` once. Returns its TTL as etcd now counts it. Errors: NOT_FOUND when the lease
  // has expired or was revoked (its keys are gone); the call's.
  absl::StatusOr<absl::Duration> KeepAliveOnce(int64_t lease);

  // Watches `key` (with `prefix`: every key starting with it) for changes at revisions >=
  // `start_revision` (0: from now). Returns once etcd confirmed the watch. Errors:
  // OUT_OF_RANGE when `start_revision` was compacted; the call's.
  absl::StatusOr<std::unique_ptr<EtcdWatch>> Watch(const std::string& key, bool prefix,
                                                   int64_t start_revision);

  // The member index calls currently start at (moves on after a failure); for tests and logs.
  int current_member() const { return current_.load(); }
  const std::string& member_address(int i) const { return members_[i].address; }
  int member_count() const { return static_cast<int>(members_.size()); }

  Clock& clock() { return clock_; }
  const EtcdClientOptions& options() const { return options_; }

 private:
  using Attempt = std::function<grpc::Status(EtcdMemberStubs&, grpc::ClientContext*)>;

  // Runs `attempt` on the current member, moving on after UNAVAILABLE or DEADLINE_EXCEEDED
  // while `retry_ambiguous`, until it succeeds or the operation deadline passes. `what` names
  // the call in errors.
  absl::Status Call(absl::string_view what, bool retry_ambiguous, const Attempt& attempt);
  std::string NewWriteId();

  Clock& clock_;
  const EtcdClientOptions options_;
  std::vector<EtcdMemberStubs> members_;
  std::atomic<int> current_{0};
  const uint64_t write_id_nonce_;  // random per client: marker values are unique across clients
  std::atomic<uint64_t> write_id_counter_{0};
};

// A watch: events in revision order, as etcd sends them. Created by EtcdClient::Watch; runs a
// reader thread until destroyed. Thread-safe.
class EtcdWatch {
 public:
  ~EtcdWatch();  // cancels the watch and joins the reader
  EtcdWatch(const EtcdWatch&) = delete;
  EtcdWatch& operator=(const EtcdWatch&) = delete;

  // Waits until events are there or `deadline` (on the client's clock) and returns them, maybe
  // none at the deadline. Once the watch has ended, returns why, after every event that came
  // before it: OUT_OF_RANGE when etcd compacted past the watch (the message has the compact
  // revision: read the state again), UNAVAILABLE when the stream broke or the member lost its
  // leader (watch again from last_revision() + 1, maybe elsewhere).
  absl::StatusOr<std::vector<WatchEvent>> Next(MonotonicTime deadline);

  // The revision of the last event Next returned, else the revision before the watch's start.
  int64_t last_revision();

  // Ends the watch from any thread: a Next waiting now or later returns (after the events that
  // came before) with an error. For an owner that waits in Next on another thread.
  void Cancel() { context_.TryCancel(); }

 private:
  friend class EtcdClient;
  using Stream = grpc::ClientReaderWriterInterface<etcdserverpb::WatchRequest,
                                                   etcdserverpb::WatchResponse>;

  explicit EtcdWatch(Clock& clock) : clock_(clock) {}
  void ReadLoop();

  Clock& clock_;
  grpc::ClientContext context_;
  std::unique_ptr<Stream> stream_;
  std::thread reader_;

  absl::Mutex mu_;
  bool created_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<WatchEvent> pending_ ABSL_GUARDED_BY(mu_);
  absl::Status ended_ ABSL_GUARDED_BY(mu_);  // not OK once the watch has ended
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  // Started "from now": last_revision_ becomes etcd's revision when it confirms the watch.
  bool from_now_ = false;
  int64_t last_revision_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tributary::etcd

#endif  // TRIBUTARY_ETCD_ETCD_CLIENT_H_
