// Poller: the worker that turns leases into function invocations. It registers with leasing,
// heartbeats, acquires leases up to its capacity, and runs a ShardConsumer per held lease.
//
// Two passes, each with its own thread once started, so that heartbeats never wait on anything
// but leasing (a slow stream tracker must not expire every lease the poller holds):
//
// HeartbeatOnce() — leasing calls only:
//   1. registers (RegisterPoller) if it has not yet; the reply gives the heartbeat interval;
//   2. when the heartbeat is due: Heartbeat with the iterator age of each lease whose age
//      changed since the last heartbeat, and the last processing result (PollerMetrics) of each
//      lease whose result changed since the last one leasing accepted, with the last error when
//      the result is sent or the error (kind, message) changed (all for every lease
//      every `full_progress_every` heartbeats, so leasing's in-memory copy heals after its
//      restart and the result's observed time is refreshed). A held lease that
//      the reply no longer lists (or lists with another counter) was lost: its consumer stops at
//      once. leases_to_release: the consumer finishes its invocation in flight, checkpoints and
//      releases. A lease listed as ours that no consumer works on (and no acquire in progress
//      may be about to start) is given back. If no heartbeat has succeeded for the lease
//      duration, every consumer stops (another poller may own the leases by now). A successful
//      heartbeat makes the configuration refresh of the next ControlOnce due.
//
// ControlOnce() — may also call the stream tracker:
//   1. drops consumers that finished (SHARD_END, released, lost);
//   2. when a refresh is due (after each successful heartbeat): each mapping in use is fetched
//      again (MappingSource::GetMapping): a new config_version applies to every consumer of the
//      mapping from its next batch attempt; a mapping that is not runnable (disabled, disabling,
//      deleting) has its leases released; a deleted one (NOT_FOUND) stops its consumers at once.
//      Configurations of mappings no longer in use are forgotten;
//   3. when it holds fewer leases than its capacity: AcquireLeases, and a consumer per new lease
//      (a lease of a mapping that is not runnable, or deleted, is released). A cached
//      configuration that says "not runnable" is fetched again first: the mapping may have been
//      enabled since;
//   4. with `run_consumers_inline`, each consumer's RunOnce() (single-threaded tests); otherwise
//      consumers run on the poller's Scheduler (ShardConsumer::Start): a shared pool of at most
//      `invoke_threads` threads and one timer thread, so an idle lease costs no thread.
// RunOnce() is HeartbeatOnce() then ControlOnce() on the calling thread (tests). Start() runs the
// heartbeat pass on one thread (every heartbeat interval) and the control pass on another (after
// each heartbeat, and at least every second); Shutdown() stops both loops, stops every consumer
// gracefully (the invocation in flight finishes, the watermark is checkpointed) and deregisters,
// which gives every lease back in one call.
//
// Logging (glog), the poller's boundary: every lease gained, and every lease given up with why
// (lost, released, SHARD_END), one line each; and, once per change of outcome (OutcomeLog), the
// errors a pass goes on from: a failing pass (Start's loops: registering, heartbeating,
// acquiring), a mapping whose configuration cannot be fetched (the cached one is used), a
// ReleaseLease that failed (the lease expires instead). What happens inside a shard is logged by
// PollerMetrics.
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
#include "leasing/lease_key.h"
#include "poller/interfaces.h"
#include "poller/lifecycle/read_budget.h"
#include "poller/lifecycle/shard_consumer.h"
#include "poller/processing/shard_processor.h"
#include "poller/runtime/metrics.h"
#include "poller/runtime/outcome_log.h"
#include "poller/runtime/scheduler.h"

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
  // When set, the byte budget every consumer of this poller buffers its records against
  // (ShardConsumerOptions::read_budget; `--memory_budget_mb`). Must outlive the poller.
  ReadBudget* read_budget = nullptr;
};

class Poller {
 public:
  Poller(PollerOptions options, Clock& clock, Waiter& waiter, LeaseService& leases,
         MappingSource& mappings, ShardReader& reader, FunctionInvoker& invoker,
         FailureDestination& destination, PollerMetrics& metrics);
  ~Poller();

  // HeartbeatOnce() then ControlOnce(). Returns the first error of either.
  absl::Status RunOnce();
  // The heartbeat pass above. Returns the error of registering or heartbeating (the next pass
  // retries).
  absl::Status HeartbeatOnce();
  // The control pass above. Returns the first error of acquiring (the pass goes on where it can;
  // the next pass retries; a failed configuration refresh is retried on the next heartbeat's).
  absl::Status ControlOnce();

  // Runs the two passes in background threads until Shutdown.
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
  absl::Status Register();
  absl::Status Heartbeat();
  void RefreshConfigs();
  absl::Status Acquire();
  // The configuration of mapping `uuid` to start a consumer with: the cached one when it is
  // runnable, else fetched. NOT_FOUND when the mapping is gone.
  absl::StatusOr<v1::EventSourceMappingConfiguration> ConfigForNewLease(const std::string& uuid);
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
  InvocationSlotClient slots_;  // reserved concurrency, through leases_
  LaneDeps deps_;
  PollerMetrics& metrics_;
  OutcomeLog log_;  // errors the loop goes on from, once per change

  absl::Mutex mu_;
  bool registered_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mu_) = absl::Seconds(3);
  absl::Duration lease_duration_ ABSL_GUARDED_BY(mu_) = absl::Seconds(10);
  // Monotonic: a wall step neither delays heartbeats nor stops the consumers (loss detection).
  MonotonicTime next_heartbeat_ ABSL_GUARDED_BY(mu_) = MonotonicTime::InfinitePast();
  MonotonicTime last_good_heartbeat_ ABSL_GUARDED_BY(mu_) = MonotonicTime::InfinitePast();
  // Set by a successful heartbeat, cleared by the refresh of the next control pass.
  bool refresh_due_ ABSL_GUARDED_BY(mu_) = false;
  // AcquireLeases calls between their request and the start of their consumers, and how many
  // began in all: a heartbeat that overlapped one may list a lease whose consumer does not exist
  // yet, which is not an orphan.
  int acquires_in_progress_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t acquires_started_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<leasing::LeaseKey, std::shared_ptr<ShardConsumer>> consumers_ ABSL_GUARDED_BY(mu_);
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
  std::map<leasing::LeaseKey, Reported> reported_ ABSL_GUARDED_BY(mu_);
  int heartbeats_since_full_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::thread heartbeat_loop_;
  std::thread control_loop_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_POLLER_H_
