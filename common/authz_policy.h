// Tributary's authorization policy (--policy_file): who may do what to which resource, in the
// shape of an AWS IAM policy, so that operators who know IAM read it at sight.
//
//   {"Statement": [
//     {"Effect": "Allow", "Principal": ["alice"], "Action": ["kinesis:PutRecords"],
//      "Resource": ["arn:aws:kinesis:*:*:stream/orders"]},
//     {"Effect": "Allow", "Principal": ["CN=poller-*"], "Action": ["tributary:*", "kinesis:Get*"],
//      "Resource": ["*"]},
//     {"Effect": "Deny", "Principal": ["*"], "Action": ["kinesis:DeleteStream"], "Resource": ["*"]}
//   ]}
//
// Rules (IAM's): a request (principal, action, resource) is allowed when some Allow statement
// matches it and no Deny statement does — an explicit Deny wins, and with no matching Allow the
// answer is deny (deny by default). A statement matches when one of its principals, one of its
// actions and one of its resources match. In every pattern '*' matches any run of characters
// (also none) and '?' any one character; actions compare case-insensitively (as IAM's do),
// principals and resources exactly. A single string may stand for a one-element list.
//
// Pure logic; thread-safe (immutable after Parse).
#ifndef TRIBUTARY_COMMON_AUTHZ_POLICY_H_
#define TRIBUTARY_COMMON_AUTHZ_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tributary {

// True when `text` matches `pattern` ('*' any run, '?' any one character).
bool WildcardMatch(absl::string_view pattern, absl::string_view text);

class AuthzPolicy {
 public:
  struct Statement {
    bool allow = false;
    std::vector<std::string> principals;
    std::vector<std::string> actions;  // lower-cased
    std::vector<std::string> resources;
  };

  // Parses a policy document. Errors: INVALID_ARGUMENT naming the statement (by index) and the
  // field: not JSON, no "Statement" list, an Effect other than "Allow"/"Deny", a Principal,
  // Action or Resource missing, empty or not strings, an action without "service:" (unless
  // "*"), an unknown field in a statement. The message never quotes the document.
  static absl::StatusOr<AuthzPolicy> Parse(absl::string_view json);
  // Reads and parses `path`. Errors: NOT_FOUND when it cannot be read; Parse's, prefixed with
  // the path.
  static absl::StatusOr<AuthzPolicy> ReadFile(const std::string& path);

  // Whether `principal` may perform `action` ("kinesis:PutRecords") on `resource` (an ARN or
  // "*" for requests that name none). An empty principal (an unauthenticated call) matches only
  // the principal pattern "*".
  bool IsAllowed(absl::string_view principal, absl::string_view action,
                 absl::string_view resource) const;

  const std::vector<Statement>& statements() const { return statements_; }

 private:
  std::vector<Statement> statements_;
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_AUTHZ_POLICY_H_
