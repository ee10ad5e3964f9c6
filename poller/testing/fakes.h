// Test fakes for the poller's seams (poller/interfaces.h). Each is thread-safe and in-memory.
#ifndef TRIBUTARY_POLLER_TESTING_FAKES_H_
#define TRIBUTARY_POLLER_TESTING_FAKES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "poller/interfaces.h"

namespace tributary::poller::testing {

// A function whose answers the test scripts per call. By default every call succeeds.
class ScriptedFunction : public FunctionInvoker {
 public:
  // Called for every invoke with the request and the 0-based call number; returns the answer.
  using Script = std::function<absl::StatusOr<v1::InvokeResponse>(const v1::InvokeRequest&, int)>;

  void SetScript(Script script);
  absl::StatusOr<v1::InvokeResponse> Invoke(const std::string& endpoint,
                                            const v1::InvokeRequest& request,
                                            absl::Duration timeout) override;

  struct Call {
    std::string endpoint;
    v1::InvokeRequest request;
    absl::Duration timeout;
  };
  std::vector<Call> calls();
  int call_count();
  // Waits (in real time, at most `real_timeout`: a failure guard) until `done(calls)` holds.
  // On timeout the failure names `awaited` and the calls seen (count, records, last batch).
  [[nodiscard]] ::testing::AssertionResult Await(
      absl::string_view awaited, const std::function<bool(const std::vector<Call>&)>& done,
      absl::Duration real_timeout = absl::Seconds(30));
  // The sequence numbers of every call's records, call by call.
  std::vector<std::vector<std::string>> batches();

  // A script answer that fails every record whose data is in `bad_data` with function_error.
  static Script FailRecordsWithData(std::set<std::string> bad_data);

  // A function for tumbling windows that aggregates in its state: a call that is not a window's
  // final invocation answers the request's state with "count" raised by its number of records and
  // each record's sequence number appended to "seqs" (comma-separated); a final invocation
  // answers an empty state. A call with a record whose data is in `bad_data` answers
  // function_error instead.
  static Script CountInWindowState(std::set<std::string> bad_data = {});
  // The "count" of `state` (0 when absent).
  static int64_t CountOf(const v1::TumblingWindowState& state);

 private:
  absl::Mutex mu_;
  Script script_ ABSL_GUARDED_BY(mu_);
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
};

// An on-failure destination that keeps what is put; the first `fail_next` puts fail.
class RecordingDestination : public FailureDestination {
 public:
  absl::Status Put(const std::string& stream_name, const std::string& partition_key,
                   const std::string& data) override;
  struct Put_ {
    std::string stream_name, partition_key, data;
  };
  std::vector<Put_> puts();
  void FailNext(int n);
  // Called with the stream of every put (on the caller's thread, no lock held) before it is
  // recorded; a put whose hook returns an error fails with it and is not recorded.
  void SetPutHook(std::function<absl::Status(const std::string& stream_name)> hook);

 private:
  absl::Mutex mu_;
  std::function<absl::Status(const std::string&)> hook_ ABSL_GUARDED_BY(mu_);
  std::vector<Put_> puts_ ABSL_GUARDED_BY(mu_);
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
};

// A Waiter for single-threaded tests: advances the FakeClock to the (monotonic) deadline at once
// and records each wait's length. Returns false (without advancing) when `stop` already fired.
class AdvancingWaiter : public Waiter {
 public:
  explicit AdvancingWaiter(FakeClock& clock) : clock_(clock) {}
  bool WaitUntil(MonotonicTime deadline, StopSignal& stop) override;
  std::vector<absl::Duration> waits();

 private:
  FakeClock& clock_;
  absl::Mutex mu_;
  std::vector<absl::Duration> waits_ ABSL_GUARDED_BY(mu_);
};

// A record for tests: sequence number `seq`, partition key `key`, data `data`, arrived at
// `arrival`.
v1::Record MakeRecord(uint64_t seq, const std::string& key, const std::string& data,
                      absl::Time arrival);

}  // namespace tributary::poller::testing

#endif  // TRIBUTARY_POLLER_TESTING_FAKES_H_
