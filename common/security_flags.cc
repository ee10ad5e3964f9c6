#include "common/security_flags.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/authz_policy.h"
#include "common/host_port.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(tls_cert, "",
              "PEM certificate chain: serve TLS on every port (gRPC, AWS front door, metrics); "
              "re-read when it changes.");
DEFINE_string(tls_key, "", "PEM private key of --tls_cert.");
DEFINE_string(tls_client_ca, "",
              "PEM CAs of client certificates: mutual TLS (a client certificate, when presented, "
              "must chain to them; its subject is the caller's principal).");
DEFINE_string(auth_tokens_file, "",
              "Bearer tokens accepted on gRPC: lines \"SHA256HEX PRINCIPAL\" (the SHA-256 of the "
              "token, `printf %s TOKEN | sha256sum`); re-read on SIGHUP.");
DEFINE_string(policy_file, "",
              "JSON authorization policy of gRPC calls (IAM-shaped statements; README, Securing "
              "Tributary): deny by default once set; re-read when it changes and on SIGHUP.");
DEFINE_string(audit_log, "",
              "Append one JSON line per control-plane change and per denied gRPC call to this "
              "file (created 0600), or to standard output with \"-\".");
DEFINE_int32(tls_refresh_s, 10, "How often certificate files are checked for a change (seconds).");
DEFINE_bool(allow_insecure, false,
            "Serve plaintext on an address that is not a loopback address (refused without it).");
DEFINE_string(tls_ca, "",
              "PEM CAs: call other Tributary services over TLS, verifying their certificates.");
DEFINE_string(tls_client_cert, "",
              "PEM client certificate presented when calling other services (needs --tls_ca).");
DEFINE_string(tls_client_key, "", "PEM private key of --tls_client_cert.");
DEFINE_string(auth_token_file, "",
              "A file whose first line is the bearer token sent when calling other services.");
DEFINE_string(function_endpoint_allow, "",
              "Comma-separated host patterns function endpoints may name (mappings' and "
              "functions'; the tracker refuses others, a poller never calls them): \"loopback\", "
              "\"*\", names with '*' within one label (\"*.fn.internal\"), IPv4 patterns "
              "(\"10.0.1.*\"). Empty: \"loopback\" when --policy_file is set, else any host.");
DEFINE_string(function_client_cert, "",
              "PEM client certificate a poller presents to https:// and grpcs:// function "
              "endpoints that ask for one (mutual TLS; with --function_client_key).");
DEFINE_string(function_client_key, "", "PEM private key of --function_client_cert.");
DEFINE_string(tls_server_name, "",
              "The name other services' certificates must carry (default: the host dialed).");

namespace tributary {
namespace {

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--auth_token_file: cannot read ", path));
  std::string line;
  std::getline(in, line);
  std::string token(absl::StripAsciiWhitespace(line));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--auth_token_file: ", path, " holds no token on its first line"));
  }
  return token;
}

absl::Status Prefixed(const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("--", s.message()));
}

}  // namespace

GrpcServerSecurity ServerSecurityFromFlags() {
  GrpcServerSecurity security;
  security.cert_file = FLAGS_tls_cert;
  security.key_file = FLAGS_tls_key;
  security.client_ca_file = FLAGS_tls_client_ca;
  security.auth_tokens_file = FLAGS_auth_tokens_file;
  security.refresh_interval = absl::Seconds(FLAGS_tls_refresh_s);
  security.policy_file = FLAGS_policy_file;
  security.audit_log = FLAGS_audit_log;
  // The ARNs' account, from the binary's own --aws_region / --aws_account_id when it defines
  // them (the AWS front door's, the tracker's, the poller's; defined beside those, not here).
  std::string value;
  if (gflags::GetCommandLineOption("aws_region", &value)) security.account.region = value;
  if (gflags::GetCommandLineOption("aws_account_id", &value)) security.account.account_id = value;
  return security;
}

absl::StatusOr<HostAllowList> FunctionEndpointAllowFromFlags() {
  if (FLAGS_function_endpoint_allow.empty()) {
    return FLAGS_policy_file.empty() ? HostAllowList() : *HostAllowList::Parse("loopback");
  }
  absl::StatusOr<HostAllowList> allow = HostAllowList::Parse(FLAGS_function_endpoint_allow);
  if (!allow.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--function_endpoint_allow=", allow.status().message()));
  }
  return allow;
}

absl::StatusOr<GrpcClientSecurity> FunctionClientSecurityFromFlags(const std::string& ca_file) {
  GrpcClientSecurity security;
  security.ca_file = ca_file;
  security.cert_file = FLAGS_function_client_cert;
  security.key_file = FLAGS_function_client_key;
  if (security.cert_file.empty() != security.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--function_client_cert and --function_client_key go together");
  }
  if (security.ca_file.empty()) {  // validated as the system's bundle will be used
    GrpcClientSecurity check = security;
    check.ca_file = "/etc/ssl/certs/ca-certificates.crt";
    if (absl::Status s = ValidateClientSecurity(check); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--function_client_cert: ", s.message()));
    }
  } else if (absl::Status s = ValidateClientSecurity(security); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--function_ca_file/--function_client_cert: ", s.message()));
  }
  return security;
}

absl::StatusOr<GrpcClientSecurity> ClientSecurityFromFlags() {
  GrpcClientSecurity security;
  security.ca_file = FLAGS_tls_ca;
  security.cert_file = FLAGS_tls_client_cert;
  security.key_file = FLAGS_tls_client_key;
  security.server_name = FLAGS_tls_server_name;
  security.refresh_interval = absl::Seconds(FLAGS_tls_refresh_s);
  if (!FLAGS_auth_token_file.empty()) {
    absl::StatusOr<std::string> token = ReadToken(FLAGS_auth_token_file);
    if (!token.ok()) return token.status();
    security.token = *std::move(token);
  }
  return security;
}

absl::Status CheckSecurityFlags(std::initializer_list<ListenFlag> listeners,
                                std::initializer_list<ListenFlag> dials) {
  if (FLAGS_tls_refresh_s < 1) return absl::InvalidArgumentError("--tls_refresh_s must be >= 1");
  const GrpcServerSecurity server = ServerSecurityFromFlags();
  if (absl::Status s = ValidateServerSecurity(server); !s.ok()) return Prefixed(s);
  if (!server.policy_file.empty()) {
    if (absl::StatusOr<AuthzPolicy> policy = AuthzPolicy::ReadFile(server.policy_file);
        !policy.ok()) {
      return absl::Status(policy.status().code(),
                          absl::StrCat("--policy_file: ", policy.status().message()));
    }
    if (!server.authenticates()) {
      LOG(WARNING) << "--policy_file without --auth_tokens_file or --tls_client_ca: every gRPC "
                      "caller is unauthenticated, and only statements with Principal \"*\" "
                      "apply to them";
    }
  }
  absl::StatusOr<GrpcClientSecurity> client = ClientSecurityFromFlags();
  if (!client.ok()) return client.status();
  if (absl::Status s = ValidateClientSecurity(*client); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_ca / --tls_client_cert / --tls_client_key: ", s.message()));
  }
  for (const ListenFlag& flag : dials) {
    if (flag.value.empty()) continue;
    if (absl::Status s = CheckTokenStaysPrivate(*client, std::string(flag.value)); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--auth_token_file with --", flag.name, ": ", s.message()));
    }
  }
  for (const ListenFlag& flag : listeners) {
    if (flag.value.empty() || server.tls()) continue;
    absl::StatusOr<HostPort> address = ParseHostPort(flag.value, AddressUse::kListen);
    if (!address.ok() || IsLoopbackHost(address->host)) continue;  // bad ones: CheckAddressFlags
    if (!FLAGS_allow_insecure) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", flag.name, "=", flag.value,
          " is not a loopback address and TLS is off: set --tls_cert and --tls_key, or "
          "--allow_insecure to serve plaintext there"));
    }
    LOG(WARNING) << "--" << flag.name << "=" << flag.value
                 << ": serving PLAINTEXT on a non-loopback address (--allow_insecure): anyone "
                    "who can reach it can read and change what it serves";
  }
  return absl::OkStatus();
}

absl::Status CheckCanCallItself(const GrpcServerSecurity& server,
                                const GrpcClientSecurity& client) {
  if (server.tls() && !client.tls()) {
    return absl::InvalidArgumentError(
        "--tls_cert is set but --tls_ca is not: this process's own clients (the embedded stream "
        "tracker and poller) call its port over TLS and must verify its certificate; set "
        "--tls_ca to the CA that signed it");
  }
  if (server.authenticates() && client.cert_file.empty() && client.token.empty()) {
    return absl::InvalidArgumentError(
        "this server authenticates its callers (--tls_client_ca or --auth_tokens_file) but its "
        "own clients (the embedded stream tracker and poller) have no credentials: set "
        "--tls_client_cert and --tls_client_key, or --auth_token_file");
  }
  if (!client.cert_file.empty() && server.client_ca_file.empty() && client.token.empty() &&
      server.authenticates()) {
    return absl::InvalidArgumentError(
        "--tls_client_cert is set but the server does not accept client certificates (no "
        "--tls_client_ca): set --tls_client_ca or use --auth_token_file");
  }
  return absl::OkStatus();
}

std::string DescribeServerSecurity(const GrpcServerSecurity& security) {
  std::string what = !security.tls()                   ? "plaintext"
                     : security.client_ca_file.empty() ? "TLS"
                                                       : "mutual TLS";
  if (!security.auth_tokens_file.empty()) absl::StrAppend(&what, ", bearer tokens");
  if (!security.authenticates()) absl::StrAppend(&what, ", unauthenticated");
  return what;
}

}  // namespace tributary
