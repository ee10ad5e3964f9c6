// The security flags every Tributary server shares (defined once, in security_flags.cc), and what
// a main does with them. Servers' own ports (gRPC, and HTTP: the AWS front door, metrics):
//   --tls_cert=PEM --tls_key=PEM   serve TLS with this certificate chain and key; both files are
//                                  re-read when they change (every --tls_refresh_s)
//   --tls_client_ca=PEM            mutual TLS: verify client certificates against these CAs; a
//                                  verified certificate's subject is the caller's principal
//   --auth_tokens_file=PATH        accept "authorization: Bearer TOKEN" (common/auth_tokens.h;
//                                  re-read on SIGHUP)
//   --policy_file=PATH             authorize gRPC calls by this policy (authz_policy.h; re-read
//                                  when it changes and on SIGHUP)
//   --audit_log=PATH|-             one JSON line per control-plane change and denied call
//                                  (audit_log.h)
//   --tls_refresh_s=10             how often certificate files are checked for a change
//   --allow_insecure               serve plaintext on an address that is not a loopback address
//                                  (refused without it; a warning is logged with it)
// Calls a server makes to other services (a poller to the store, leasing and the tracker; the
// tracker to the store and leasing; the store's front door to the tracker):
//   --tls_ca=PEM                   use TLS and verify the servers' certificates against these CAs
//   --tls_client_cert=PEM --tls_client_key=PEM   present this client certificate
//   --auth_token_file=PATH         send the bearer token in this file (its first line)
//   --tls_server_name=NAME         the name servers' certificates must carry (default: the host
//                                  dialed)
// Function endpoints (the stream tracker and the pollers):
//   --function_endpoint_allow=LIST the hosts a mapping's or function's endpoint may name
//                                  (FunctionEndpointAllowFromFlags)
//   --function_client_cert=PEM --function_client_key=PEM   the client certificate a poller
//                                  presents to https:// and grpcs:// functions that ask for one
//                                  (FunctionClientSecurityFromFlags)
#ifndef TRIBUTARY_COMMON_SECURITY_FLAGS_H_
#define TRIBUTARY_COMMON_SECURITY_FLAGS_H_

#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/grpc_security.h"
#include "common/host_allow_list.h"

namespace tributary {

// A listening-address flag of a binary, for CheckSecurityFlags.
struct ListenFlag {
  absl::string_view name;   // "listen", "metrics_listen", "aws_listen"
  absl::string_view value;  // empty: that port is off
};

// Checks the security flags before anything is opened: the files (ValidateServerSecurity, a
// --policy_file that parses,
// ValidateClientSecurity, the token file readable and one token), that no port in `listeners`
// serves plaintext off loopback unless --allow_insecure (then a warning per port is logged), and
// that the token of --auth_token_file goes to none of the addresses in `dials` (the flags naming
// other services) in clear (CheckTokenStaysPrivate). Errors: INVALID_ARGUMENT naming the flag.
absl::Status CheckSecurityFlags(std::initializer_list<ListenFlag> listeners,
                                std::initializer_list<ListenFlag> dials = {});

// What the flags say about this process's gRPC server.
GrpcServerSecurity ServerSecurityFromFlags();
// The hosts function endpoints may name (--function_endpoint_allow, common/host_allow_list.h):
// the flag's list; without it "loopback" when --policy_file is set (a process that authorizes
// its callers does not let them point pollers anywhere by default), else any host (as before
// the flag). For the stream tracker and the pollers. Errors: INVALID_ARGUMENT naming the flag.
absl::StatusOr<HostAllowList> FunctionEndpointAllowFromFlags();

// The TLS of a poller's calls to https:// and grpcs:// function endpoints: CAs `ca_file` (the
// binary's --function_ca_file; empty: the system's) and --function_client_cert/_key. Errors:
// INVALID_ARGUMENT naming the flags (one of the pair without the other, an unreadable file, a
// key that does not match the certificate).
absl::StatusOr<GrpcClientSecurity> FunctionClientSecurityFromFlags(const std::string& ca_file);

// What the flags say about the calls this process makes to other services (the token read from
// --auth_token_file). Errors: INVALID_ARGUMENT when the token file cannot be read or is empty.
absl::StatusOr<GrpcClientSecurity> ClientSecurityFromFlags();

// For a process whose own clients call its own server (`tributary serve`): OK when calls made
// with `client` can pass `server`'s checks. Errors: INVALID_ARGUMENT naming the flag to set —
// --tls_ca when the server speaks TLS and the client would not; a client certificate or
// --auth_token_file when the server authenticates and the client has neither.
absl::Status CheckCanCallItself(const GrpcServerSecurity& server,
                                const GrpcClientSecurity& client);

// "TLS" / "mutual TLS" / "plaintext", plus ", bearer tokens" — for a server's start-up log line.
std::string DescribeServerSecurity(const GrpcServerSecurity& security);

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_SECURITY_FLAGS_H_
