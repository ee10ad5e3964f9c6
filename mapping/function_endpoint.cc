#include "mapping/function_endpoint.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/host_port.h"

namespace tributary::mapping {
namespace {

absl::Status Invalid(absl::string_view endpoint, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("\"", endpoint, "\": ", why));
}

// host:port with ParseHostPort's rules, its message kept.
absl::StatusOr<HostPort> ParseAuthority(absl::string_view endpoint, absl::string_view authority) {
  absl::StatusOr<HostPort> parsed = ParseHostPort(authority, AddressUse::kDial);
  if (!parsed.ok()) return Invalid(endpoint, parsed.status().message());
  return parsed;
}

}  // namespace

std::string FunctionEndpoint::HostPort() const {
  return tributary::HostPort{host, port}.ToString();
}

absl::StatusOr<FunctionEndpoint> ParseFunctionEndpoint(absl::string_view endpoint) {
  if (endpoint.empty()) return Invalid(endpoint, "empty");
  FunctionEndpoint out;
  const size_t scheme_end = endpoint.find("://");
  if (scheme_end == absl::string_view::npos) {
    absl::StatusOr<tributary::HostPort> hp = ParseAuthority(endpoint, endpoint);
    if (!hp.ok()) return hp.status();
    out.host = hp->host;
    out.port = hp->port;
    return out;
  }
  const absl::string_view scheme = endpoint.substr(0, scheme_end);
  absl::string_view rest = endpoint.substr(scheme_end + 3);
  if (scheme == "grpc" || scheme == "grpcs") {
    if (scheme == "grpcs") out.protocol = FunctionEndpoint::Protocol::kGrpcs;
    absl::StatusOr<tributary::HostPort> hp = ParseAuthority(endpoint, rest);
    if (!hp.ok()) return hp.status();
    out.host = hp->host;
    out.port = hp->port;
    return out;
  }
  int default_port = 0;
  if (scheme == "http") {
    out.protocol = FunctionEndpoint::Protocol::kHttp;
    default_port = 80;
  } else if (scheme == "https") {
    out.protocol = FunctionEndpoint::Protocol::kHttps;
    default_port = 443;
  } else {
    return Invalid(endpoint, absl::StrCat("scheme \"", scheme,
                                          "\" is not one of grpc, grpcs, http, https (lower case)"));
  }
  if (absl::StrContains(endpoint, '#')) return Invalid(endpoint, "a fragment (#...) is not allowed");
  const size_t path_start = rest.find_first_of("/?");
  absl::string_view authority = rest.substr(0, path_start);
  absl::string_view path =
      path_start == absl::string_view::npos ? absl::string_view() : rest.substr(path_start);
  if (absl::StrContains(authority, '@')) {
    return Invalid(endpoint, "user info (user@host) is not allowed");
  }
  if (authority.empty()) return Invalid(endpoint, "no host");
  // A port is present when the authority ends in ":digits" outside an IPv6 address's brackets.
  const size_t colon = authority.rfind(':');
  const size_t bracket = authority.rfind(']');
  const bool has_port =
      colon != absl::string_view::npos && (bracket == absl::string_view::npos || colon > bracket);
  const std::string with_port =
      has_port ? std::string(authority) : absl::StrCat(authority, ":", default_port);
  absl::StatusOr<tributary::HostPort> hp = ParseAuthority(endpoint, with_port);
  if (!hp.ok()) return hp.status();
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Invalid(endpoint, "the path has a space or a control character");
    }
  }
  out.host = hp->host;
  out.port = hp->port;
  out.path = path.empty() ? "/" : (path[0] == '?' ? absl::StrCat("/", path) : std::string(path));
  return out;
}

absl::Status ValidateFunctionEndpoint(absl::string_view field, absl::string_view endpoint) {
  if (endpoint.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  absl::StatusOr<FunctionEndpoint> parsed = ParseFunctionEndpoint(endpoint);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be ", kFunctionEndpointForms,
                                                   "; ", parsed.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace tributary::mapping
