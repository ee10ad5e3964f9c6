// PutExecutor: the threads StreamsService runs PutRecords calls on, never gRPC's callback
// thread (a reaction never blocks, STYLE.md §5): a RocksDB write can stall, and with
// sync_writes it waits for an fsync; several threads let concurrent calls share one fsync
// (RocksDB's group commit).
//
// Admission (issue 22): the executor holds at most `max_requests` calls and `max_bytes` of
// their payloads at once (waiting or running), and the payloads are also reserved in the
// process's MemoryBudget when one is given. Past any bound, Submit refuses at once with
// RESOURCE_EXHAUSTED and a retry-after hint, taking nothing: the caller answers the client
// without queueing. A task whose client deadline passed while it waited is not run: its
// `expired` callback runs instead (no dead work; nothing of it was written). When a call would
// be refused, the waiting calls whose deadline has passed are dropped first (their `expired`
// and `then` run on the submitting thread), so dead calls never take the room of live ones.
//
// Fair share (issue 22): each call names its client (the caller's principal, else its
// connection). One client holds at most `max_client_share` of the call and byte bounds, so a
// flooding producer is refused while the others still find room; and the waiting calls are
// taken round-robin across clients (each client's own calls in the order it submitted them),
// so a light client's call waits for one call of each other client, not for a flood's backlog.
// Example: client A has 50 calls waiting, then B submits one: B's call starts after at most one
// more of A's.
//
// Thread-safe. `clock` (and `budget`, when given) must outlive the executor. The destructor
// runs (or expires) every task already submitted, then joins the threads; no task may be
// submitted once destruction has begun.
#ifndef TRIBUTARY_SHARD_STORE_PUT_EXECUTOR_H_
#define TRIBUTARY_SHARD_STORE_PUT_EXECUTOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/memory_budget.h"

namespace tributary::shard_store {

struct PutExecutorOptions {
  // Threads (at least 1).
  int threads = 8;
  // Calls held at once, waiting or running (at least 1).
  int max_requests = 1024;
  // Bytes of payload held at once, waiting or running (at least 1). A call larger than this
  // alone is still admitted when the executor is empty, so that no valid call is refused
  // forever.
  int64_t max_bytes = int64_t{256} << 20;
  // The process's memory budget (common/memory_budget.h); null: none.
  MemoryBudget* budget = nullptr;
  // The share of `max_requests` and `max_bytes` one client may hold at once, in (0, 1]
  // (rounded up; at least one call). A client holding nothing is refused only by the global
  // bounds, so its one large call is still admitted when the executor is empty.
  double max_client_share = 0.5;
  // The longest a new call may expect to wait before a thread takes it (issue 22): past it the
  // call is refused ("queue delay") even when the bounds above have room. The wait is estimated
  // as the calls waiting ahead of it ÷ threads × a call's mean run time (measured), so the queue
  // is sized from the service rate, not only by a count: at ~1,000 calls/s a 1,024-call queue is
  // a second of waiting, which an accepted call's latency would carry. A call finding no call
  // waiting is never refused by it. Zero: off.
  absl::Duration max_queue_delay = absl::Milliseconds(100);
};

class PutExecutor {
 public:
  PutExecutor(Clock& clock, const PutExecutorOptions& options);
  ~PutExecutor();
  PutExecutor(const PutExecutor&) = delete;
  PutExecutor& operator=(const PutExecutor&) = delete;

  // Queues `run` for a put thread on behalf of `client` (any string naming the caller; calls
  // with the same string share a fair share), accounting `bytes` (≥ 0) until it has run, and returns at
  // once (it takes only the queue's lock). When a thread takes the task at or after
  // `deadline` (by the clock's monotonic reading), `expired` runs there instead of `run`.
  // `then` (optional) runs after either, once the call's slot and bytes have been given back:
  // the reply goes there, so that a client who sends its next call as soon as it has the
  // answer finds the slot free.
  // May first drop waiting calls past their deadline (see above), running their callbacks here.
  // Errors (nothing queued, neither callback will run): RESOURCE_EXHAUSTED when the calls or
  // bytes held would pass their bound or the client's share of it, the expected wait passes
  // max_queue_delay, or the memory budget is spent; the message says which, and "retry after N ms" (an estimate of when a slot frees).
  absl::Status Submit(absl::string_view client, int64_t bytes, MonotonicTime deadline,
                      std::function<void()> run, std::function<void()> expired,
                      std::function<void()> then = nullptr);
  // Shorthand: client "", no deadline, no payload accounted. Never refused for bytes; refused as
  // above for the number of calls.
  absl::Status Submit(std::function<void()> run) {
    return Submit("", 0, MonotonicTime::InfiniteFuture(), std::move(run), [] {});
  }

  // What is held now: calls (waiting or running) and their bytes; calls dropped at their
  // deadline and refused so far (for tests and metrics).
  int held_requests();
  int64_t held_bytes();
  int64_t expired_count();
  int64_t refused_count();
  // Calls `client` holds now (waiting or running).
  int held_requests(absl::string_view client);
  // Waits (real time, at most `real_timeout`: a failure guard for tests) until `n` calls are
  // held. DEADLINE_EXCEEDED says how many were.
  absl::Status AwaitHeldRequests(int n, absl::Duration real_timeout);

 private:
  struct Task {
    std::string client;
    int64_t bytes;
    MonotonicTime deadline;
    std::function<void()> run;
    std::function<void()> expired;
    std::function<void()> then;
  };
  void Loop();
  // Which bound `client` submitting `bytes` would pass, or null when it fits.
  const char* OverLocked(absl::string_view client, int64_t bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the waiting calls whose deadline is at or before `now` into *dead, giving back their
  // slots and bytes (not the budget's: the caller releases that).
  void TakeExpiredLocked(MonotonicTime now, std::vector<Task>* dead)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Roughly when a slot frees: the waiting calls' share of the threads times a call's mean time.
  absl::Duration RetryAfterLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // How long a call submitted now would wait for a thread: waiting calls ÷ threads × mean run.
  absl::Duration ExpectedWaitLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock& clock_;
  const PutExecutorOptions options_;
  absl::Mutex mu_;
  struct Client {
    std::deque<Task> waiting;
    int held_requests = 0;
    int64_t held_bytes = 0;
  };
  // Clients holding a call; an entry goes when its client holds none.
  absl::flat_hash_map<std::string, Client> clients_ ABSL_GUARDED_BY(mu_);
  // Clients with a call waiting, in turn order (each at most once).
  std::deque<std::string> turns_ ABSL_GUARDED_BY(mu_);
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  // No waiting call's deadline is before this (a lower bound: TakeExpiredLocked scans only
  // when it has passed, so a refusal stays cheap).
  MonotonicTime earliest_deadline_ ABSL_GUARDED_BY(mu_) = MonotonicTime::InfiniteFuture();
  int held_requests_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t held_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t expired_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
  // Mean run time of a call (exponentially weighted), for the retry-after hint.
  absl::Duration mean_run_ ABSL_GUARDED_BY(mu_) = absl::Milliseconds(1);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_PUT_EXECUTOR_H_
