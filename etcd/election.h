// Election: at most one process at a time holds an etcd key, for work that must run once in a
// cluster of replicas (issue 19: the stream tracker's lease sync). The holder's key lives on an
// etcd lease of `ttl` that the holder renews; if the holder dies, the lease expires (etcd deletes
// the key) and another campaigner takes the key.
//
//   candidate = Election::Create(client, {"/tributary/tracker/election/sync", "host-1:4563"},
//                                [&](bool leading) { leading ? loop.Start() : loop.Stop(); });
//   candidate->Start();   // campaigns, then renews, on a thread of its own
//
// Campaign: a Txn "the key does not exist" → put it with this candidate's lease; else read it. A
// campaign whose answer was lost is recognised on the next one (the key is on our lease).
// Leading: renewed every ttl/3 (a lease keepalive, no raft write) and checked (the key is still
// on our lease). Leadership is counted on this process's clock from the moment each renewal was
// SENT: leading() turns false once ttl passed since the last renewal etcd accepted, which is no
// later than etcd can expire the key; so a holder cut off from etcd stops before anybody else can
// start (as long as the two clocks run at the same rate). The callback is told at once: on a
// failed check, on etcd saying the lease is gone, or when the validity ran out.
// Not leading: campaigns every ttl/4, so a dead holder's key is taken within ttl + ttl/4 (plus
// etcd's expiry lag, ~0.3 s) of its last renewal. Destroying a leading Election resigns (revokes
// its lease, deleting the key): a replica stopped cleanly hands over within ttl/4.
//
// Thread-safe. Time comes from the client's clock (tests: FakeClock and RunOnce, no thread).
#ifndef TRIBUTARY_ETCD_ELECTION_H_
#define TRIBUTARY_ETCD_ELECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "etcd/etcd_client.h"

namespace tributary::etcd {

struct ElectionOptions {
  // The key the holder puts (e.g. "/tributary/tracker/election/sync"). Not empty.
  std::string key;
  // This candidate's identity, the key's value while it leads (for people: etcdctl get). Not
  // empty.
  std::string value;
  // The lease's TTL: how long a dead holder keeps the key. Whole seconds, >= 2 s (etcd's
  // minimum).
  absl::Duration ttl = absl::Seconds(5);
};

class Election {
 public:
  // Called with true when this candidate starts leading and false when it stops, from the
  // thread that noticed (the election's thread, or a RunOnce caller), never twice in a row with
  // the same value. It may block (e.g. join the loop it stops); it must not call back into the
  // Election.
  using OnChange = std::function<void(bool leading)>;

  // Sends nothing. `client` must outlive the election. Errors: INVALID_ARGUMENT for an empty key
  // or value, or a ttl under 2 s or not whole seconds.
  static absl::StatusOr<std::unique_ptr<Election>> Create(EtcdClient& client,
                                                          ElectionOptions options,
                                                          OnChange on_change);
  // Stops the thread; if leading, resigns (revokes the lease) and calls on_change(false).
  ~Election();
  Election(const Election&) = delete;
  Election& operator=(const Election&) = delete;

  // One step: when not leading, campaign; when leading, renew and check. Returns the step's
  // error (the state is as the step left it: a failed renewal keeps leading until the validity
  // runs out). Must not run concurrently with itself (the thread, or a test without Start).
  absl::Status RunOnce();

  // Runs RunOnce on a thread: every ttl/3 while leading (and at the end of the validity), every
  // ttl/4 while not. Call at most once.
  void Start();

  // Whether this candidate holds the key now, by its own clock (see above).
  bool leading();

  const ElectionOptions& options() const { return options_; }

 private:
  Election(EtcdClient& client, ElectionOptions options, OnChange on_change)
      : client_(client), options_(std::move(options)), on_change_(std::move(on_change)) {}
  absl::Status Campaign();
  absl::Status Renew();
  // Sets the state, calling on_change_ when it changed.
  void SetLeading(bool leading, MonotonicTime valid_until);
  void Loop();

  EtcdClient& client_;
  const ElectionOptions options_;
  const OnChange on_change_;
  int64_t lease_ = 0;  // our lease (0: none); only RunOnce touches it
  std::thread thread_;

  absl::Mutex mu_;
  bool leading_ ABSL_GUARDED_BY(mu_) = false;
  MonotonicTime valid_until_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tributary::etcd

#endif  // TRIBUTARY_ETCD_ELECTION_H_
