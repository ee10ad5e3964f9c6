#include "common/grpc_authorizer.h"

#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tributary {

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::Create(const std::string& policy_file,
                                                               const AwsAccount& account,
                                                               absl::Duration check_interval) {
  // Stat before reading: a change racing the read is then seen again at the next look.
  const FileStamp stamp = Stat(policy_file);
  absl::StatusOr<AuthzPolicy> policy = AuthzPolicy::ReadFile(policy_file);
  if (!policy.ok()) return policy.status();
  return std::unique_ptr<Authorizer>(
      new Authorizer(policy_file, account, check_interval,
                     std::make_shared<const AuthzPolicy>(*std::move(policy)), stamp));
}

Authorizer::Authorizer(std::string policy_file, AwsAccount account,
                       absl::Duration check_interval, std::shared_ptr<const AuthzPolicy> policy,
                       FileStamp stamp)
    : policy_file_(std::move(policy_file)),
      account_(std::move(account)),
      check_interval_(check_interval),
      policy_(std::move(policy)),
      stamp_(stamp) {}

Authorizer::FileStamp Authorizer::Stat(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return FileStamp();
  return FileStamp{absl::TimeFromTimespec(st.st_mtim), static_cast<int64_t>(st.st_size)};
}

std::shared_ptr<const AuthzPolicy> Authorizer::policy() const {
  absl::MutexLock lock(&mu_);
  return policy_;
}

AuthzDecision Authorizer::Check(absl::string_view principal, absl::string_view method,
                                const google::protobuf::Message& request) const {
  AuthzDecision decision;
  decision.action = FindRpcAction(method);
  if (decision.action == nullptr) {
    if (absl::StartsWith(method, "/tributary.")) {
      decision.resource = "*";
      decision.status = absl::PermissionDeniedError(
          absl::StrCat(method, " has no authorization action and is denied"));
    }
    return decision;  // health checks, reflection: not ours to guard
  }
  decision.resource = RpcResource(*decision.action, request, account_);
  decision.status = CheckAction(principal, decision.action->action, decision.resource);
  return decision;
}

absl::Status Authorizer::CheckAction(absl::string_view principal, absl::string_view action,
                                     absl::string_view resource) const {
  if (policy()->IsAllowed(principal, action, resource)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat(principal.empty() ? "an unauthenticated caller" : principal, " is not allowed ",
                   action, " on ", resource));
}

absl::Status Authorizer::MaybeReload(MonotonicTime now) {
  {
    absl::MutexLock lock(&mu_);
    if (last_check_.has_value() && now - *last_check_ < check_interval_) {
      return absl::OkStatus();
    }
    last_check_ = now;
    if (Stat(policy_file_) == stamp_) return absl::OkStatus();
  }
  return Reload();
}

absl::Status Authorizer::Reload() {
  const FileStamp stamp = Stat(policy_file_);
  absl::StatusOr<AuthzPolicy> policy = AuthzPolicy::ReadFile(policy_file_);
  absl::MutexLock lock(&mu_);
  stamp_ = stamp;  // a bad file is reported once, not at every look
  if (!policy.ok()) {
    return absl::Status(policy.status().code(),
                        absl::StrCat("keeping the policy in use: ", policy.status().message()));
  }
  policy_ = std::make_shared<const AuthzPolicy>(*std::move(policy));
  return absl::OkStatus();
}

}  // namespace tributary
