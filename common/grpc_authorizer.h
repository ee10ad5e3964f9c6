// The authorization decision of Tributary's gRPC front door: a policy file (authz_policy.h) that
// follows its file, and the action table (grpc_actions.h), applied to one call. What a server's
// gate asks; it does not know gRPC's server types, so it is tested without a server.
//
//   Authorizer::Check("alice", "/tributary.v1.Streams/PutRecords", {stream_name: "other"})
//       → PERMISSION_DENIED "alice is not allowed kinesis:PutRecords on
//         arn:aws:kinesis:us-east-1:000000000000:stream/other"
//
// Reload: MaybeReload(now) re-reads the file when its modification time or size changed,
// at most once every `check_interval` (a server calls it on each call, and on SIGHUP with
// Reload()). A file that no longer parses keeps the policy in use; the error is returned once
// per change of the file, for the caller to log.
//
// Thread-safe.
#ifndef TRIBUTARY_COMMON_GRPC_AUTHORIZER_H_
#define TRIBUTARY_COMMON_GRPC_AUTHORIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/authz_policy.h"
#include "common/aws_arn.h"
#include "common/clock.h"
#include "common/grpc_actions.h"
#include "google/protobuf/message.h"

namespace tributary {

// What one call was checked as.
struct AuthzDecision {
  const RpcAction* action = nullptr;  // null: a method outside tributary.v1 (health, reflection)
  std::string resource;               // "*" when the request names none
  absl::Status status;                // OK or PERMISSION_DENIED
};

class Authorizer {
 public:
  // Reads `policy_file`. Errors: AuthzPolicy::ReadFile's (NOT_FOUND, INVALID_ARGUMENT).
  static absl::StatusOr<std::unique_ptr<Authorizer>> Create(const std::string& policy_file,
                                                           const AwsAccount& account,
                                                           absl::Duration check_interval);

  // The decision for `principal` (empty: unauthenticated) calling `method` (a gRPC path) with
  // `request`. Methods of other packages (grpc.health.v1, reflection) are allowed: they are not
  // Tributary's to guard. A tributary.v1 method the table lacks is denied (it cannot be named in
  // a policy). Denials name the principal, action and resource, never the policy.
  AuthzDecision Check(absl::string_view principal, absl::string_view method,
                      const google::protobuf::Message& request) const;

  // Whether `principal` (empty: unauthenticated) may perform `action` ("kinesis:PutRecords") on
  // `resource` (an ARN or "*") by the policy in use: for a front door that names its actions
  // itself (the AWS edge router, aws/aws_authz.h). Errors: PERMISSION_DENIED naming the
  // principal, action and resource, never the policy.
  absl::Status CheckAction(absl::string_view principal, absl::string_view action,
                           absl::string_view resource) const;

  // Re-reads the file if its modification time or size changed and `check_interval` has passed
  // since the last look (measured on `now`). Returns the reason a changed file was not taken
  // (once per change); OK otherwise.
  absl::Status MaybeReload(MonotonicTime now);
  // Re-reads the file now (SIGHUP). Errors: AuthzPolicy::ReadFile's; the policy in use stays.
  absl::Status Reload();

  const AwsAccount& account() const { return account_; }

 private:
  struct FileStamp {
    absl::Time mtime;
    int64_t size = -1;
    bool operator==(const FileStamp& o) const { return mtime == o.mtime && size == o.size; }
  };
  Authorizer(std::string policy_file, AwsAccount account, absl::Duration check_interval,
             std::shared_ptr<const AuthzPolicy> policy, FileStamp stamp);
  static FileStamp Stat(const std::string& path);
  std::shared_ptr<const AuthzPolicy> policy() const;

  const std::string policy_file_;
  const AwsAccount account_;
  const absl::Duration check_interval_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const AuthzPolicy> policy_ ABSL_GUARDED_BY(mu_);
  FileStamp stamp_ ABSL_GUARDED_BY(mu_);  // of the file last read, taken or not
  std::optional<MonotonicTime> last_check_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_GRPC_AUTHORIZER_H_
