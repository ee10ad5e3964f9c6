// Poller: the worker that turns leases into function invocations. It registers with leasing,
// heartbeats, acquires leases up to its capacity, and runs a ShardConsumer per held lease.
//
// Each RunOnce():
//   1. registers (RegisterPoller) if it has not yet; the reply gives the heartbeat interval;
//   2. drops consumers that finished (SHARD_END, released, lost);
//   3. when the heartbeat is due: Heartbeat with the iterator age of each lease whose age
//      changed since the last heartbeat, and the last processing result (PollerMetrics) of each
//      lease whose result changed since the last one leasing accepted, with the last error when
//      the result is sent or the error (kind, message) changed (all for every lease
//      every `full_progress_every` heartbeats, so leasing's in-memory copy heals after its
//      restart and the result's observed time is refreshed). A held lease that
//      the reply no longer lists (or lists with another counter) was lost: its consumer stops at
//      once. leases_to_release: the consumer finishes its invocation in flight, checkpoints and
//      releases. Then each mapping in use is fetched again (MappingSource::GetMapping): a new
//      config_version applies from the next batch; a disabled mapping's leases are released; a
//      deleted one (NOT_FOUND) stops its consumers at once. If no heartbeat has succeeded for
//      the lease duration, every consumer stops (another poller may own the leases by now);
//   4. when it holds fewer leases than its capacity: AcquireLeases, and a consumer per new lease
//      (a lease of a disabled or deleted mapping is released / not started);
//   5. with `run_consumers_inline`, each consumer's RunOnce() (single-threaded tests); otherwise
//      consumers run on the poller's Scheduler (ShardConsumer::Start): a shared pool of at most
//      `invoke_threads` threads and one timer thread, so an idle lease costs no thread.
// Logging (glog), the poller's boundary: every lease gained, and every lease given up with why
// (lost, released, SHARD_END), one line each; and, once per change of outcome (OutcomeLog), the
// errors a pass goes on from: a failing pass (Start's loop: registering, heartbeating,
// acquiring), a mapping whose configuration cannot be fetched (the cached one is used), a
// ReleaseLease that failed (the lease expires instead). What happens inside a shard is logged by
// PollerMetrics.
// Start() runs RunOnce in a background loop (every heartbeat interval, at most 1 s apart);
// Shutdown() stops the loop, stops every consumer gracefully (the invocation in flight finishes,
// the watermark is checkpointed) and deregisters, which gives every lease back in one call.
//
// Thread-safe. Everything passed to the constructor must outlive this object.
#ifndef TRIBUTARY_POLLER_POLLER_H_
#define TRIBUTARY_POLLER_POLLER_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "poller/interfaces.h"
#include "poller/metrics.h"
#include "poller/outcome_log.h"
#include "poller/scheduler.h"
#include "poller/shard_consumer.h"
#include "poller/shard_processor.h"

namespace tributary::poller {

struct PollerOptions {
  std::string poller_id;
  int capacity = 10;  // the most leases this poller holds
  absl::Duration checkpoint_interval = absl::Milliseconds(200);
  BackoffOptions backoff;
  uint64_t seed = 1;
  bool run_consumers_inline = false;
  // The shared pool the consumers run on (without run_consumers_inline): its size bounds how
  // many batches (blocking invocations and their backoff waits) run at once across every
  // shard, and the threads are started only as concurrent work needs them.
  int invoke_threads = 64;
  // Every this many heartbeats, every held lease's iterator age and last processing result are
  // reported; in between only those that changed since the last accepted report (an idle
  // poller's heartbeat stays small).
  int full_progress_every = 20;
  // Tumbling windows: how long after a window's end the clock closes it (LaneDeps).
  absl::Duration window_close_grace = absl::Seconds(1);
};

class Poller {
 public:
  Poller(PollerOptions options, Clock& clock, Waiter& waiter, LeaseService& leases,
         MappingSource& mappings, ShardReader& reader, FunctionInvoker& invoker,
         FailureDestination& destination, PollerMetrics& metrics);
  ~Poller();

  // One pass of the loop above. Returns the first error of registering, heartbeating or
  // acquiring (the pass goes on where it can; the next pass retries).
  absl::Status RunOnce();

  // Runs RunOnce in a background thread until Shutdown.
  void Start();
  // Stops the loop, stops every consumer after its invocation in flight with a checkpoint of
  // its watermark, then deregisters (leasing releases every lease of the poller at once; if
  // that call fails, the leases expire). Idempotent.
  void Shutdown();

  const std::string& poller_id() const { return options_.poller_id; }
  // The shards this poller works on now.
  std::vector<ShardContext> shards();
  // The consumer of (mapping, shard), or nullptr. For tests and status pages.
  ShardConsumer* consumer(const std::string& mapping_uuid, const std::string& shard_id);

 private:
  using Key = std::pair<std::string, std::string>;  // mapping uuid, shard id

  absl::Status Register();
  absl::Status HeartbeatAndRefresh();
  absl::Status Acquire();
  void RemoveFinished();
  // ReleaseLease for a lease no consumer works on; a failure is logged (the lease expires).
  void ReleaseIdle(const std::string& mapping_uuid, const std::string& shard_id, int64_t counter);
  std::vector<std::shared_ptr<ShardConsumer>> Consumers();

  PollerOptions options_;
  Clock& clock_;
  LeaseService& leases_;
  MappingSource& mappings_;
  ShardReader& reader_;
  // Declared before the consumers: destroyed after them. Null with run_consumers_inline.
  std::unique_ptr<Scheduler> scheduler_;
  // The lanes' waiter on the scheduler: backoff waits leave their pool slot to other lanes.
  std::unique_ptr<CompensatedWaiter> compensated_waiter_;
  LaneDeps deps_;
  PollerMetrics& metrics_;
  OutcomeLog log_;  // errors the loop goes on from, once per change

  absl::Mutex mu_;
  bool registered_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mu_) = absl::Seconds(3);
  absl::Duration lease_duration_ ABSL_GUARDED_BY(mu_) = absl::Seconds(10);
  absl::Time next_heartbeat_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_good_heartbeat_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::map<Key, std::shared_ptr<ShardConsumer>> consumers_ ABSL_GUARDED_BY(mu_);
  // Consumers that left kRunning (or were superseded) whose tasks may still be finishing an
  // invocation; joined once quiescent, so the control loop never blocks on a function.
  std::vector<std::shared_ptr<ShardConsumer>> retiring_ ABSL_GUARDED_BY(mu_);
  // Bumped by every consumer that leaves kRunning; RemoveFinished scans the consumers only when
  // it moved since its last scan (an idle pass over 10,000 leases then costs nothing).
  std::atomic<int64_t> finished_events_{0};
  int64_t scanned_events_ ABSL_GUARDED_BY(mu_) = -1;
  std::map<std::string, v1::EventSourceMappingConfiguration> configs_ ABSL_GUARDED_BY(mu_);
  uint64_t consumers_started_ ABSL_GUARDED_BY(mu_) = 0;
  // What leasing last accepted from us per lease: the iterator age, the processing result
  // (kNone: none reported yet) and the last error's kind and message. Heartbeats since a full
  // report.
  struct Reported {
    int64_t iterator_age_ms = 0;
    ProcessingResult result = ProcessingResult::kNone;
    ErrorKind error_kind = ErrorKind::kNone;
    std::string error_message;
  };
  std::map<Key, Reported> reported_ ABSL_GUARDED_BY(mu_);
  int heartbeats_since_full_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::thread loop_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_POLLER_H_
