// The audit log of Tributary's front doors (--audit_log=PATH|-): one JSON line per
// control-plane change and per denied call, for an operator's log pipeline.
//
//   {"time":"2026-12-06T02:50:00.123Z","principal":"alice","action":"kinesis:CreateStream",
//    "resource":"arn:aws:kinesis:us-east-1:000000000000:stream/orders","outcome":"OK"}
//
// "outcome" is "OK" or the call's status code name ("PERMISSION_DENIED", "NOT_FOUND", ...);
// an unauthenticated caller's principal is "". Never a request's content, a token or the policy.
// The file is opened for appending and created 0600 (it names who did what); "-" writes to
// standard output. Lines are written whole, in the order Record is called.
//
// Thread-safe.
#ifndef TRIBUTARY_COMMON_AUDIT_LOG_H_
#define TRIBUTARY_COMMON_AUDIT_LOG_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace tributary {

struct AuditEntry {
  absl::Time time;  // when the call ended (wall clock)
  std::string principal;
  std::string action;    // "kinesis:CreateStream"
  std::string resource;  // an ARN or "*"
  absl::StatusCode outcome = absl::StatusCode::kOk;
};

// One JSON line for `entry` (without the line break).
std::string AuditLine(const AuditEntry& entry);

class AuditLog {
 public:
  // Opens `path` for appending (created 0600; an existing file keeps its mode), or standard
  // output for "-". Errors: INVALID_ARGUMENT for an empty path; PERMISSION_DENIED / NOT_FOUND
  // when it cannot be opened (naming the path).
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& path);
  ~AuditLog();

  // Appends AuditLine(entry) and a line break with one write. Errors: INTERNAL when the write
  // fails (disk full, ...); the entry is then lost, and the caller logs that.
  absl::Status Record(const AuditEntry& entry);

 private:
  AuditLog(int fd, bool owned, std::string path) : fd_(fd), owned_(owned), path_(std::move(path)) {}

  absl::Mutex mu_;
  const int fd_;
  const bool owned_;  // false for standard output
  const std::string path_;
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_AUDIT_LOG_H_
