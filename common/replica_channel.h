// Channels to a service that runs as several interchangeable replicas (cluster mode, issue 19):
// clients (pollers, tribctl, the tracker's leasing client) take a comma-separated list of
// addresses, e.g. --leasing=10.0.0.1:4562,10.0.0.2:4562, and fail over between them.
//
// How: one gRPC channel over all the addresses with gRPC's pick_first policy. Calls go to the
// first replica that accepts a connection; when it goes away, the call in flight fails with
// UNAVAILABLE (as with one address: callers already retry UNAVAILABLE) and the channel connects to
// the next replica that answers, in list order, for the following calls. A replica that stops
// answering without closing its connection (a frozen process, a host behind a partition) is
// noticed by HTTP/2 pings during calls: its connection is dropped within about 3 s (the calls in
// flight fail with UNAVAILABLE), and a reconnect that finds it still silent gives up after 2 s,
// so calls reach the next replica within about 5 s. A list of one address is exactly
// MakeChannel(address) (gRPC's DNS resolution, re-resolved on reconnects).
//
// Host names in a list of several are resolved once, when the channel is made (IPv4 preferred);
// all addresses of a list must be of one family (IPv4 or IPv6).
#ifndef TRIBUTARY_COMMON_REPLICA_CHANNEL_H_
#define TRIBUTARY_COMMON_REPLICA_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/grpc_security.h"
#include "grpcpp/channel.h"

namespace tributary {

// Checks a flag holding "host:port[,host:port...]" (each as common/host_port.h dials), so that a
// binary refuses a bad list before it starts. Errors: INVALID_ARGUMENT naming the flag:
//   --leasing="a:1,,b:2": empty address in the list
absl::Status CheckAddressListFlag(absl::string_view name, absl::string_view value);

// The gRPC target for `addresses`: one address as it is; several as
// "ipv4:1.2.3.4:5,1.2.3.5:5" (or "ipv6:[::1]:5,..."). Errors: INVALID_ARGUMENT for a malformed
// list or mixed families; NOT_FOUND for a host name that does not resolve.
absl::StatusOr<std::string> ReplicaTarget(absl::string_view addresses);

// A channel to any of `addresses` (above) with MakeChannel's settings. Never fails: a list that
// ReplicaTarget refuses gives a channel whose calls fail (UNAVAILABLE), like a bad address does.
std::shared_ptr<grpc::Channel> MakeReplicaChannel(const std::string& addresses);
// The same, secured as MakeChannel(address, security) is. Over TLS the replicas' certificates
// must carry security.server_name or, when it is empty, the host of the list's first address
// (the name a single address would be checked against).
std::shared_ptr<grpc::Channel> MakeReplicaChannel(const std::string& addresses,
                                                  const GrpcClientSecurity& security);

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_REPLICA_CHANNEL_H_
