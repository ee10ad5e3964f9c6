#include "common/host_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tributary {
namespace {

absl::Status Bad(absl::string_view address, absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("\"", absl::CEscape(address), "\": ", reason, " (expected host:port)"));
}

bool IsHostChar(char c) { return absl::ascii_isalnum(c) || c == '.' || c == '-' || c == '_'; }

bool AllOf(absl::string_view s, bool (*pred)(char)) {
  return std::all_of(s.begin(), s.end(), pred);
}

bool IsDigitOrDot(char c) { return absl::ascii_isdigit(c) || c == '.'; }

bool IsDigit(char c) { return absl::ascii_isdigit(c); }

// An IPv6 address as written between brackets, with an optional zone ("fe80::1%eth0").
bool IsIpv6(absl::string_view host) {
  absl::string_view zone;
  const size_t percent = host.find('%');
  if (percent != absl::string_view::npos) {
    zone = host.substr(percent + 1);
    host = host.substr(0, percent);
    if (zone.empty() || !AllOf(zone, IsHostChar)) return false;
  }
  in6_addr addr;
  return inet_pton(AF_INET6, std::string(host).c_str(), &addr) == 1;
}

}  // namespace

std::string HostPort::ToString() const {
  if (absl::StrContains(host, ':')) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<HostPort> ParseHostPort(absl::string_view address, AddressUse use) {
  if (address.empty()) return Bad(address, "empty");
  if (absl::StrContains(address, '/')) {
    return Bad(address, "not an address (gRPC target URIs such as dns:///host:port are not taken)");
  }
  absl::string_view host;
  absl::string_view port;
  if (address.front() == '[') {
    const size_t close = address.find(']');
    if (close == absl::string_view::npos) return Bad(address, "'[' without ']'");
    host = address.substr(1, close - 1);
    const absl::string_view rest = address.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return Bad(address, "no ':' and port after ']'");
    port = rest.substr(1);
    if (!IsIpv6(host)) {
      return Bad(address, absl::StrCat("\"", absl::CEscape(host), "\" is not an IPv6 address"));
    }
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return Bad(address, "no port");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.empty() && use == AddressUse::kDial) return Bad(address, "no host");
    if (host.empty()) {
      return Bad(address, absl::StrCat("no host; say 0.0.0.0:", absl::CEscape(port),
                                       " for every interface or 127.0.0.1:", absl::CEscape(port),
                                       " for this machine only"));
    }
    if (absl::StrContains(host, ':')) {
      return Bad(address, "an IPv6 host needs brackets, as in [::1]:80");
    }
    if (!AllOf(host, IsHostChar)) {
      return Bad(address, absl::StrCat("host \"", absl::CEscape(host),
                                       "\" may only hold letters, digits, '.', '-' and '_'"));
    }
    in_addr addr4;
    if (AllOf(host, IsDigitOrDot) && inet_pton(AF_INET, std::string(host).c_str(), &addr4) != 1) {
      return Bad(address, absl::StrCat("host ", host, " is not an IPv4 address"));
    }
  }
  if (port.empty()) return Bad(address, "no port after ':'");
  if (!AllOf(port, IsDigit)) {
    return Bad(address, absl::StrCat("port \"", absl::CEscape(port), "\" is not a decimal number"));
  }
  const int lowest = use == AddressUse::kListen ? 0 : 1;
  const absl::string_view significant =
      port.substr(std::min(port.find_first_not_of('0'), port.size()));
  uint32_t value = 0;
  if (significant.size() > 5 || !absl::SimpleAtoi(port, &value) || value > 65535) {
    return Bad(address, absl::StrCat("port ", port, " is out of range ", lowest, "-65535"));
  }
  if (static_cast<int>(value) < lowest) {
    return Bad(address,
               "port 0 cannot be connected to (port 0, any free port, is only for listening)");
  }
  HostPort result;
  result.host = std::string(host);
  result.port = static_cast<int>(value);
  return result;
}

absl::Status CheckAddressFlags(std::initializer_list<AddressFlag> flags) {
  for (const AddressFlag& flag : flags) {
    if (flag.value.empty() && flag.empty_means_off) continue;
    absl::StatusOr<HostPort> parsed = ParseHostPort(flag.value, flag.use);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag.name, "=", parsed.status().message()));
    }
  }
  return absl::OkStatus();
}

bool IsLoopbackHost(absl::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  return inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1 &&
         (ntohl(v4.s_addr) >> 24) == 127;
}

std::string LoopbackAddressOf(absl::string_view listen_address) {
  absl::StatusOr<HostPort> parsed = ParseHostPort(listen_address, AddressUse::kListen);
  if (!parsed.ok()) return std::string(listen_address);
  if (parsed->host == "0.0.0.0") parsed->host = "127.0.0.1";
  if (parsed->host == "::") parsed->host = "::1";
  return parsed->ToString();
}

}  // namespace tributary
