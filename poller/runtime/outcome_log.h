// OutcomeLog: logs the outcomes of a background loop's steps once per change, per subject, as
// stream_tracker/lease_sync.cc's loop does for its passes: a leasing server that is unreachable
// for an hour is one line, not one per attempt, and its recovery is one more.
//
// Thread-safe.
#ifndef TRIBUTARY_POLLER_RUNTIME_OUTCOME_LOG_H_
#define TRIBUTARY_POLLER_RUNTIME_OUTCOME_LOG_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace tributary::poller {

class OutcomeLog {
 public:
  // Every line starts with `prefix` ("poller host-42").
  explicit OutcomeLog(std::string prefix) : prefix_(std::move(prefix)) {}

  // Records the outcome of `subject` ("pass", "mapping <uuid>"). An error that differs from the
  // subject's previous outcome (code or message) is logged as a warning; an OK after an error is
  // logged once (INFO, "<subject>: succeeds again") and forgets the subject, so that subjects
  // that only ever succeed cost nothing. Returns whether it logged.
  bool Record(const std::string& subject, const absl::Status& status);

 private:
  const std::string prefix_;
  absl::Mutex mu_;
  std::map<std::string, absl::Status> failing_ ABSL_GUARDED_BY(mu_);  // the last error by subject
};

}  // namespace tributary::poller

#endif  // TRIBUTARY_POLLER_RUNTIME_OUTCOME_LOG_H_
