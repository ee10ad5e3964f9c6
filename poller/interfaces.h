// The poller's seams: everything outside the poller that it talks to, each an interface with a
// gRPC-backed implementation (grpc_adapters.h; the shard reader is
// retrieval/shard_store_reader.h) and test fakes (testing/fakes.h, testing/fake_services.h).
//
// Implementations must be thread-safe: lanes of many shards call them concurrently.
#ifndef TRIBUTARY_POLLER_INTERFACES_H_
#define TRIBUTARY_POLLER_INTERFACES_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "proto/event_source_mappings.pb.h"
#include "proto/function.pb.h"
#include "proto/leasing.pb.h"
#include "proto/streams.pb.h"

namespace tributary::poller {

// The payload (absl::Status::SetPayload) a FunctionInvoker attaches to the status of a call that
// an HTTP function answered with a status other than 2xx: that status, in decimal ("404"). The
// failure record reports it as Lambda's responseContext.statusCode (failure_record.h).
inline constexpr char kHttpStatusPayload[] = "type.tributary.dev/function-http-status";

// Calls a user function (tributary.v1.Function/Invoke).
class FunctionInvoker {
 public:
  virtual ~FunctionInvoker() = default;
  // Invokes the function at `endpoint` ("host:port") with `request`, giving it `timeout`.
  // Returns the reply, or the call's status: DEADLINE_EXCEEDED when the timeout passed, the
  // function's own status, or the transport's (UNAVAILABLE). Every non-OK result is a function
  // error for the caller.
  virtual absl::StatusOr<v1::InvokeResponse> Invoke(const std::string& endpoint,
                                                    const v1::InvokeRequest& request,
                                                    absl::Duration timeout) = 0;
};

// Where skipped records are reported (the mapping's on-failure destination stream).
class FailureDestination {
 public:
  virtual ~FailureDestination() = default;
  // Puts one record with `partition_key` and `data` into `stream_name`. Errors: the store's
  // (NOT_FOUND when the stream does not exist, UNAVAILABLE, ...). Not idempotent: a retry after
  // DEADLINE_EXCEEDED may write twice (at least once).
  virtual absl::Status Put(const std::string& stream_name, const std::string& partition_key,
                           const std::string& data) = 0;
};

// What a read of a shard returned.
struct ReadResult {
  std::vector<v1::Record> records;           // in sequence order, after everything returned before
  bool shard_end = false;                    // a closed shard has been read to its end
  std::vector<std::string> child_shard_ids;  // with shard_end
  // How far the read is behind the shard's tip, as the store says (0: it read everything there
  // was); nullopt when not known (a read that carried no event, the fakes).
  std::optional<int64_t> millis_behind_latest;
};

// One reader of one shard from a starting position.
class ShardRecordStream {
 public:
  virtual ~ShardRecordStream() = default;
  // Waits for the next records (how long is the implementation's: the fakes return at once,
  // possibly with none; the gRPC one blocks until the store pushes records). Returns them, or
  // shard_end after the last record of a closed shard. Errors: CANCELLED after Cancel(); others
  // are the store's, and the caller may call Next() again (the stream resumes after the last
  // record it returned).
  virtual absl::StatusOr<ReadResult> Next() = 0;
  // What NextAsync hands its result to.
  using ReadCallback = absl::AnyInvocable<void(absl::StatusOr<ReadResult>)>;
  // Next() without blocking the caller: `done` is called exactly once, with what Next() would
  // have returned, on some thread (possibly this one, before NextAsync returns; so the caller
  // must not hold a lock `done` takes). It must not block. At most one Next or NextAsync at a
  // time. The default calls Next() inline, which suits implementations whose Next() returns at
  // once; one whose Next() blocks must override this (the gRPC reader waits for the store's
  // push with no thread).
  virtual void NextAsync(ReadCallback done) { done(Next()); }
  // Makes a blocked or later Next() (and a pending NextAsync) return CANCELLED. Thread-safe,
  // idempotent.
  virtual void Cancel() = 0;
};

class ShardReader {
 public:
  virtual ~ShardReader() = default;
  // A stream of `shard_id`'s records starting after `checkpoint` (SEQUENCE_NUMBER: after that
  // number; TRIM_HORIZON / LATEST / AT_TIMESTAMP: from that position).
  virtual std::unique_ptr<ShardRecordStream> Open(const std::string& stream_name,
                                                  const std::string& shard_id,
                                                  const v1::Checkpoint& checkpoint) = 0;
};

// The lease table, as the poller uses it (tributary.v1.Leasing; see proto/leasing.proto).
class LeaseService {
 public:
  virtual ~LeaseService() = default;
  virtual absl::StatusOr<v1::RegisterPollerResponse> RegisterPoller(
      const v1::RegisterPollerRequest& request) = 0;
  virtual absl::StatusOr<v1::DeregisterPollerResponse> DeregisterPoller(
      const v1::DeregisterPollerRequest& request) = 0;
  virtual absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request) = 0;
  virtual absl::StatusOr<v1::AcquireLeasesResponse> AcquireLeases(
      const v1::AcquireLeasesRequest& request) = 0;
  virtual absl::StatusOr<v1::ReleaseLeaseResponse> ReleaseLease(
      const v1::ReleaseLeaseRequest& request) = 0;
  // FAILED_PRECONDITION when the counter is stale or the poller is not the owner.
  virtual absl::StatusOr<v1::CheckpointResponse> Checkpoint(
      const v1::CheckpointRequest& request) = 0;
  // Reserved concurrency (leasing/invocation_slots.h). The defaults answer UNIMPLEMENTED, so a
  // lease service without slots throttles every invocation of a limited function.
  virtual absl::StatusOr<v1::AcquireInvocationSlotsResponse> AcquireInvocationSlots(
      const v1::AcquireInvocationSlotsRequest&) {
    return absl::UnimplementedError("AcquireInvocationSlots");
  }
  virtual absl::StatusOr<v1::ReleaseInvocationSlotsResponse> ReleaseInvocationSlots(
      const v1::ReleaseInvocationSlotsRequest&) {
    return absl::UnimplementedError("ReleaseInvocationSlots");
  }
};

// Event-source mapping configurations (the stream tracker).
class MappingSource {
 public:
  virtual ~MappingSource() = default;
  // The mapping's configuration. Errors: NOT_FOUND when the mapping was deleted; transport
  // errors (the caller keeps its cached copy).
  virtual absl::StatusOr<v1::EventSourceMappingConfiguration> GetMapping(
      const std::string& uuid) = 0;
};

// A stop flag that waits can watch: a lane's backoff wait ends early when its shard is stopped.
// Thread-safe.
class StopSignal {
 public:
  void Stop() {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
  }
  bool stopped() const {
    absl::MutexLock lock(&mu_);
    return stopped_;
  }
  // Waits on `clock` until `deadline` (monotonic) or Stop(). Returns true when the deadline was
  // reached without a stop.
  bool WaitUntil(Clock& clock, MonotonicTime deadline) {
    absl::MutexLock lock(&mu_);
    return !clock.AwaitWithDeadline(&mu_, absl::Condition(&stopped_), deadline);
  }

 private:
  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

// How a lane waits out a backoff. Production waits on the clock (ClockWaiter); single-threaded
// tests move a FakeClock forward instead (testing/fakes.h), which also records every wait.
class Waiter {
 public:
  virtual ~Waiter() = default;
  // Returns when `deadline` (by the clock's monotonic reading) is reached (true) or `stop` fires
  // (false).
  virtual bool WaitUntil(MonotonicTime deadline, StopSignal& stop) = 0;
};

class ClockWaiter : public Waiter {
 public:
  explicit ClockWaiter(Clock& clock) : clock_(clock) {}  // `clock` must outlive this
  bool WaitUntil(MonotonicTime deadline, StopSignal& stop) override {
    return stop.WaitUntil(clock_, deadline);
  }

 private:
  Clock& clock_;
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_INTERFACES_H_
