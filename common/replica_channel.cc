#include "common/replica_channel.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/grpc_server.h"
#include "common/host_port.h"

namespace tributary {
namespace {

absl::StatusOr<std::vector<HostPort>> ParseList(absl::string_view addresses) {
  std::vector<HostPort> out;
  for (absl::string_view part : absl::StrSplit(addresses, ',')) {
    if (part.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", addresses, "\": empty address in the list"));
    }
    absl::StatusOr<HostPort> parsed = ParseHostPort(part, AddressUse::kDial);
    if (!parsed.ok()) return parsed.status();
    out.push_back(*std::move(parsed));
  }
  return out;
}

// The numeric form of `host` and whether it is IPv6: literals as they are, names resolved.
absl::StatusOr<std::pair<std::string, bool>> Numeric(const std::string& host) {
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return std::make_pair(host, false);
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return std::make_pair(host, true);
  for (int family : {AF_INET, AF_INET6}) {
    addrinfo hints = {};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    const void* addr =
        family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(found->ai_addr)->sin6_addr);
    const bool ok = inet_ntop(family, addr, text, sizeof(text)) != nullptr;
    freeaddrinfo(found);
    if (ok) return std::make_pair(std::string(text), family == AF_INET6);
  }
  return absl::NotFoundError(absl::StrCat("host \"", host, "\" does not resolve"));
}

}  // namespace

absl::Status CheckAddressListFlag(absl::string_view name, absl::string_view value) {
  absl::StatusOr<std::vector<HostPort>> parsed = ParseList(value);
  if (parsed.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--", name, "=", parsed.status().message()));
}

absl::StatusOr<std::string> ReplicaTarget(absl::string_view addresses) {
  absl::StatusOr<std::vector<HostPort>> parsed = ParseList(addresses);
  if (!parsed.ok()) return parsed.status();
  if (parsed->size() == 1) return std::string(addresses);
  std::vector<std::string> targets;
  int v6 = 0;
  for (const HostPort& address : *parsed) {
    absl::StatusOr<std::pair<std::string, bool>> numeric = Numeric(address.host);
    if (!numeric.ok()) return numeric.status();
    v6 += numeric->second ? 1 : 0;
    targets.push_back(HostPort{numeric->first, address.port}.ToString());
  }
  if (v6 != 0 && v6 != static_cast<int>(targets.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", addresses, "\": mixes IPv4 and IPv6 addresses"));
  }
  return absl::StrCat(v6 != 0 ? "ipv6:" : "ipv4:", absl::StrJoin(targets, ","));
}

std::shared_ptr<grpc::Channel> MakeReplicaChannel(const std::string& addresses) {
  return MakeReplicaChannel(addresses, GrpcClientSecurity());
}

std::shared_ptr<grpc::Channel> MakeReplicaChannel(const std::string& addresses,
                                                  const GrpcClientSecurity& security) {
  absl::StatusOr<std::string> target = ReplicaTarget(addresses);
  if (!target.ok() || *target == addresses) return MakeChannel(addresses, security);
  GrpcClientSecurity secured = security;
  if (secured.tls() && secured.server_name.empty()) {
    // An "ipv4:a,b" target has no host name to check certificates against.
    absl::StatusOr<HostPort> first =
        ParseHostPort(std::string(absl::string_view(addresses).substr(0, addresses.find(','))),
                      AddressUse::kDial);
    if (first.ok()) secured.server_name = first->host;
  }
  // A replica that freezes (a stopped process, a partitioned host) keeps its connection open:
  // without pings every call would hang on it until its deadline, and the channel would never
  // move to the next replica. With them it is dropped within 3 s, and a reconnect that finds it
  // still frozen gives up after 2 s.
  ChannelLiveness liveness;
  liveness.ping_interval = absl::Seconds(1);
  liveness.ping_timeout = absl::Seconds(2);
  liveness.connect_timeout = absl::Seconds(2);
  return MakeChannel(*target, secured, liveness);
}

}  // namespace tributary
