// BatchProcessor: takes one batch of one lane from "formed" to "every record done", the way
// AWS Lambda's Kinesis event-source mappings do. A record is done when the function processed
// it, or when it was reported to the on-failure destination (if any) and skipped.
//
// The rules, in the order they apply on each attempt:
//   1. Maximum record age (`maximum_record_age_in_seconds` > 0): before every invoke, records
//      whose approximate arrival time is more than that before now are not invoked; they are
//      reported (condition RecordAgeExceeded) and skipped. -1 (or 0) = no limit.
//   2. Invoke the function at `function_endpoint` with a deadline of `function_timeout_seconds`
//      (default 30). A function error is a non-OK status (a missed deadline is
//      DEADLINE_EXCEEDED), or a reply with a non-empty `function_error`.
//   3. Partial batch response (REPORT_BATCH_ITEM_FAILURES in `function_response_types`): an
//      empty `batch_item_failures` is success. Otherwise every identifier must be the sequence
//      number of a record of the batch; an empty or unknown identifier makes the whole attempt a
//      function error. With valid identifiers, the records before the lowest reported one are
//      done and the rest (from the reported record on) is the failing remainder:
//        - with bisect on, the batch is split at the reported record: the remainder is invoked
//          again at once as a new batch with a fresh retry budget (counted as a bisection);
//        - without bisect, the remainder is retried like a failed batch (rule 5), keeping the
//          batch's retry count. Without REPORT_BATCH_ITEM_FAILURES the list is ignored.
//   4. Bisect (`bisect_batch_on_function_error`): a function error on a batch of two or more
//      records splits it into halves (the first half has floor(n/2) records), processed in
//      order, each from scratch: a fresh retry budget (retry count 0) and invoke count, and the
//      same rules recursively down to single records. A bisection is not a retry: it counts
//      toward no limit and is not delayed. So with maximum_retry_attempts R, a single failing
//      record is invoked 1 + R times after the bisections that isolated it.
//   5. Retries: after a function error that is not bisected, when the batch has already been
//      retried `maximum_retry_attempts` times (R >= 0) it is reported (RetryAttemptsExhausted)
//      and skipped; otherwise it waits a full-jitter exponential backoff (Backoff: uniform in
//      [0, min(max, base * 2^k)] before retry k, k from 0) and is invoked again. R = -1 retries
//      until the records expire by rule 1 — forever without a maximum age: a failing batch then
//      blocks its lane, which is the contract, and the iterator age shows it.
// Tumbling windows (the caller passes a WindowContext; ShardProcessor forms the windows):
//   W1. Every invocation carries the window and its current state; a reply that is not a function
//       error (success, or a valid partial batch response) must carry `state`, which becomes the
//       window's state; a reply without it is a function error (retried, bisected, reported like
//       any). A function error's state is ignored. So state flows in invocation order: through
//       bisected halves (the second half starts with the state the first half ended with), and
//       after a partial failure the failing remainder is retried with the state of that reply.
//       Records skipped (max age, retries) leave the state as it was.
//   W2. When an adopted state's key+value bytes exceed kMaxWindowStateBytes, the window is
//       terminated early: after on_done for the records that reply covered, the final
//       invocation (FinishWindow with terminated_early) runs, then `on_terminated_early`, then the
//       window goes on with an empty state.
//   W3. FinishWindow makes the window's final invocation: no records, is_final_invoke_for_window,
//       the window and its state (the reply's state is not required and is ignored). A function
//       error is retried with backoff like a batch (no bisection: there are no records) up to
//       maximum_retry_attempts, and while the window's last record is not older than
//       maximum_record_age_in_seconds (checked before each retry; the first attempt is always
//       made). Given up, the window is reported to the on-failure destination (condition
//       RetryAttemptsExhausted / RecordAgeExceeded, KinesisBatchInfo spanning the window's records
//       in the lane plus "tumblingWindow":{start,end}) and counted as windows_failed; the
//       caller moves on as after a success. An accepted final invocation counts windows_closed.
// Reserved concurrency (`function_reserved_concurrent_executions`, with a slot client): before
// each invoke of a limited function the batch takes a slot of the function from leasing and gives
// it back after the invoke, so at most that many invocations of the function run at once across
// every poller. Throttled (no slot, or leasing unreachable), it waits a backoff and starts the
// attempt again (configuration and rule 1 are read again: records may expire while throttled);
// a throttle is not a retry: it counts toward no maximum_retry_attempts and is not a
// function error. An unlimited function makes no leasing call.
// Per-key isolation (`isolate_failing_keys`, not in Lambda; poller/NOTES.md "Per-key
// isolation"), with a KeyParking passed to Process and no tumbling window:
//   P1. Before each invoke, records whose partition key is parked are taken out of the batch
//       (KeyParking::Divert): they wait behind the parked records, not invoked, not done.
//   P2. When a segment that would be retried (rule 5: a function error not bisected, retries
//       left) holds records of one partition key only, its retry is parked instead of waited
//       for in the lane: KeyParking::Park takes the records with the retry count, the invoke
//       count and the backoff before the next retry (counted in the metrics' retries), and the
//       batch goes on with its other segments. With bisect on, that is a single record; without,
//       a batch (or a partial response's remainder) of one key. Park refusing (max_parked_keys
//       reached) leaves the retry in the lane, as without isolation.
//   P3. RetryParked makes one attempt at parked records (the caller waits out the backoff): rule
//       1, an invoke, a success or the records before a partial response's lowest failure done;
//       a failure with retries left says when to try again (the backoff), counted like rule 5;
//       retries exhausted (or records expired) are reported and done as in rules 1 and 5. No
//       bisection while parked.
// Configuration: the batch reads the mapping configuration from its ConfigSource again before
// every attempt (each invoke, and each put to the on-failure destination), so an update reaches a
// batch that is failing or waiting out a backoff: a new maximum_retry_attempts,
// maximum_record_age_in_seconds, bisect_batch_on_function_error, destination,
// function_response_types, function endpoint or timeout applies from its next attempt. The
// retries already made count against a new limit (a batch retried 50 times whose limit becomes 1
// gives up after its next failure). A backoff already begun is waited out.
// Reporting: with an on-failure destination, one record per skipped group is put there
// (FailureRecordJson; partition key = shard id); a failed put is retried with backoff until it
// succeeds or the lane is stopped, so no record is skipped unreported. Without a destination
// the records are skipped and only counted (dropped_records by condition).
// On success (rule S, destination_config.on_success, not Lambda's for streams): with an
// on-success destination, every invoke the function accepted puts one success record
// (failure_record.h, condition "Success"; partition key = shard id) for the records it delivered
// — the whole segment, or the records before a partial response's lowest failure; parked
// records' likewise — before `on_done` is called for them, so the checkpoint never passes a
// delivered batch whose record is not written. A failed put is retried with backoff like an
// on-failure put (the lane waits; the destination is read again at each put); stopped first,
// the records are not done (the next owner invokes them again: at least once, and a record per
// delivery). Records skipped (rules 1, 5), filtered out or given up windows make no success
// record, nor does a window's final invocation (it carries no records).
//
// Thread-compatible: one instance per lane, called from one thread at a time. Everything passed
// to the constructor must outlive this object.
#ifndef TRIBUTARY_POLLER_PROCESSING_BATCH_PROCESSOR_H_
#define TRIBUTARY_POLLER_PROCESSING_BATCH_PROCESSOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "poller/interfaces.h"
#include "poller/processing/backoff.h"
#include "poller/processing/failure_record.h"
#include "poller/processing/invocation_slots.h"
#include "poller/processing/records.h"
#include "poller/runtime/shard_context.h"
#include "poller/runtime/metrics.h"
#include "proto/event_source_mappings.pb.h"
#include "proto/streams.pb.h"

namespace tributary::poller {

// A window's state may hold this many key+value bytes (Lambda's 1 MiB); more ends the window
// early (rule W2).
inline constexpr int64_t kMaxWindowStateBytes = 1 << 20;

// The total bytes of the keys and values of `state`.
int64_t WindowStateBytes(const v1::TumblingWindowState& state);

// One lane's open tumbling window, as a batch (or the final invocation) of it sees it.
struct WindowContext {
  absl::Time start;               // inclusive
  absl::Time end;                 // exclusive
  v1::TumblingWindowState state;  // in: the window's state; out: the last state adopted
  // For the failure record of a window given up (W3): the window's first and last records in the
  // lane (their data is not needed) and how many records of the window the lane has had.
  v1::Record first_record;
  v1::Record last_record;
  int64_t record_count = 0;
  // Called after an early termination's final invocation ended (accepted or given up, W2),
  // before the window goes on with an empty state: it covers every record passed to on_done so
  // far. May be empty.
  std::function<void()> on_terminated_early;
};

// The current configuration of the batch's mapping; called before each attempt, possibly from
// any lane's thread. Never returns null.
using ConfigSource = std::function<std::shared_ptr<const v1::EventSourceMappingConfiguration>()>;

// The retries of parked records so far (rule P2, P3).
struct ParkedAttempts {
  int64_t retries = 0;                // retries counted against maximum_retry_attempts
  int64_t invoke_count = 0;           // invokes of the records so far
  InvokeResponseContext last_response;  // the last invoke's, for the failure record
};

// Where a lane's batch parks a failing key (rules P1, P2); ShardProcessor implements it.
class KeyParking {
 public:
  virtual ~KeyParking() = default;
  // Takes the records of parked keys out of `records` (order kept for the rest).
  virtual void Divert(std::vector<v1::Record>& records) = 0;
  // Parks `records` (one partition key, failing): true when taken (moved from `records`; to be
  // retried after `delay`); false when the shard parks no more keys (`records` untouched).
  virtual bool Park(std::vector<v1::Record>& records, const ParkedAttempts& attempts,
                    absl::Duration delay) = 0;
};

class BatchProcessor {
 public:
  // Called with records that just became done (in order within the call).
  using DoneCallback = std::function<void(const std::vector<v1::Record>& records)>;

  BatchProcessor(Clock& clock, Waiter& waiter, FunctionInvoker& invoker,
                 FailureDestination& destination, PollerMetrics& metrics, BackoffOptions backoff,
                 uint64_t seed, InvocationSlotClient* slots = nullptr);

  // Processes `records` (non-empty, in shard order) of `shard` under the configuration `config`
  // gives at each attempt until every record is done, calling `on_done` as records become done. Returns OK when all are done; CANCELLED
  // when `stop` fired first (an invoke in progress finishes, but nothing is invoked or waited
  // for after the stop; records not yet reported to `on_done` are not done).
  // With `window` (non-null) the batch belongs to that tumbling window (rules W1, W2); `window`
  // must outlive the call and holds the window's state afterwards.
  absl::Status Process(const ShardContext& shard, const ConfigSource& config,
                       std::vector<v1::Record> records, StopSignal& stop,
                       const DoneCallback& on_done, WindowContext* window = nullptr,
                       KeyParking* parking = nullptr);

  // One attempt at parked records (rule P3): `records` (non-empty, one key) keeps those not
  // done, `attempts` is updated. Returns the delay before the next attempt, or nullopt when
  // every record is done; CANCELLED when `stop` fired (records not reported to `on_done` are
  // not done).
  absl::StatusOr<std::optional<absl::Duration>> RetryParked(const ShardContext& shard,
                                                            const ConfigSource& config,
                                                            std::vector<v1::Record>& records,
                                                            ParkedAttempts& attempts,
                                                            StopSignal& stop,
                                                            const DoneCallback& on_done);

  // Makes `window`'s final invocation (rule W3; with `terminated_early`, the early end of W2).
  // Returns OK once the function accepted it or the window was given up and reported; CANCELLED
  // when `stop` fired first (the window is not finished).
  absl::Status FinishWindow(const ShardContext& shard, const ConfigSource& config,
                            const WindowContext& window, bool terminated_early, StopSignal& stop);

 private:
  struct Call;
  struct Attempt;

  absl::Status ProcessSegment(const Call& call, std::vector<v1::Record> records);
  // Invokes the function with `records` under `config`, which are moved into the request and
  // back (unchanged when this returns). With a window, a reply that is not a function error sets
  // its state.
  Attempt Invoke(const Call& call, const v1::EventSourceMappingConfiguration& config,
                 std::vector<v1::Record>& records);
  // W2 after a reply's state was adopted.
  absl::Status TerminateWindowIfTooLarge(const Call& call);
  absl::Status Report(const Call& call, const v1::EventSourceMappingConfiguration& config,
                      const std::vector<v1::Record>& records, const std::string& condition,
                      int64_t invoke_count, const Attempt& last);
  enum class DestinationKind { kOnFailure, kOnSuccess };
  // Puts `data` to the `kind` destination until it succeeds or `stop`, reading the destination
  // from `config` before each put (one removed meanwhile ends the attempts: the records are
  // then only counted, as without a destination).
  absl::Status PutDestinationRecord(const ConfigSource& config, const ShardContext& shard,
                                    StopSignal& stop, const std::string& data,
                                    DestinationKind kind);
  // Rule S: with an on-success destination, puts the success record of `records` (those the
  // invoke `last` delivered). CANCELLED when stopped first (the records are then not done).
  absl::Status ReportSuccess(const Call& call, const v1::EventSourceMappingConfiguration& config,
                             const std::vector<v1::Record>& records, int64_t invoke_count,
                             const Attempt& last);
  FailureInfo NewFailureInfo(const v1::EventSourceMappingConfiguration& config,
                             const ShardContext& shard, const std::string& condition,
                             int64_t invoke_count, const Attempt& last);
  std::string NewRequestId();

  Clock& clock_;
  Waiter& waiter_;
  FunctionInvoker& invoker_;
  FailureDestination& destination_;
  PollerMetrics& metrics_;
  InvocationSlotClient* const slots_;  // null: reserved concurrency is not enforced
  Backoff backoff_;
  SplitMix64 rng_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_PROCESSING_BATCH_PROCESSOR_H_
