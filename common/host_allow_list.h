// A list of host patterns (--function_endpoint_allow): which hosts a mapping's or a function's
// endpoint may name, so that a principal allowed to create mappings cannot make the pollers call
// an arbitrary host (server-side request forgery).
//
//   "loopback"              localhost, 127.0.0.0/8 and ::1 (common/host_port.h's IsLoopbackHost)
//   "*"                     any host
//   "fn.example.com"        that name (case-insensitive; a trailing '.' is ignored)
//   "*.functions.internal"  '*' matches any run of characters within one DNS label and '?' one
//                           character: a.functions.internal, not a.b.functions.internal (as a
//                           TLS certificate's wildcard)
//   "10.0.1.*"              a pattern of digits, '.', '*' and '?' matches IPv4 literals only:
//                           10.0.1.7, never a DNS name such as 10.0.1.evil.example
//   "[fd00::1]" / "fd00::1" an IPv6 literal, exactly
// A list is comma-separated; spaces around entries are ignored.
//
//   HostAllowList::Parse("loopback,*.fn.internal")->Allows("a.fn.internal") → true
//   ... ->Allows("10.0.0.1") → false
//
// Pure; thread-safe (immutable).
#ifndef TRIBUTARY_COMMON_HOST_ALLOW_LIST_H_
#define TRIBUTARY_COMMON_HOST_ALLOW_LIST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tributary {

class HostAllowList {
 public:
  // Allows every host.
  HostAllowList() : patterns_({"*"}) {}

  // Parses a comma-separated list. Errors: INVALID_ARGUMENT for an empty list or entry, or an
  // entry with characters a host pattern cannot hold (naming the entry).
  static absl::StatusOr<HostAllowList> Parse(absl::string_view list);

  // Whether `host` (as FunctionEndpoint::host: no brackets, no port) is allowed.
  bool Allows(absl::string_view host) const;
  bool AllowsAll() const;

  // The list as given, normalized ("loopback,*.fn.internal"): for messages and logs.
  std::string ToString() const;

 private:
  explicit HostAllowList(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}
  std::vector<std::string> patterns_;  // lower-cased
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_HOST_ALLOW_LIST_H_
