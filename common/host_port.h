// Network addresses as flags and options spell them: "host:port". The one parser every binary
// uses for its address flags, so that a bad address is refused at start with a message naming
// the flag, instead of being passed to gRPC, which wraps a port above 65535 modulo 65536
// ("127.0.0.1:99999" served on 34463), reads "host:8x" as port 8 and resolves service names.
//
// The accepted form:
//   host  a DNS name or IPv4 address (letters, digits, '.', '-', '_'; a host of digits and dots
//         must be a valid IPv4 address), or an IPv6 address in brackets ("[::1]", "[::]",
//         "[fe80::1%eth0]").
//   port  decimal digits, 0-65535. Port 0 ("pick a free port") only for an address a server
//         listens on; an address a client dials needs 1-65535.
// Refused: an empty address, an empty host (":80": say 0.0.0.0:80 for every interface or
// 127.0.0.1:80 for this machine only), a missing port ("host", "host:"), a port with a sign,
// spaces or letters ("host:+80", "host:http"), an IPv6 address without brackets ("::1:80"),
// and gRPC target URIs ("dns:///host:80", "unix:/path").
#ifndef TRIBUTARY_COMMON_HOST_PORT_H_
#define TRIBUTARY_COMMON_HOST_PORT_H_

#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tributary {

// What an address is for: a server binds it, or a client connects to it.
enum class AddressUse {
  kListen,  // port 0-65535; 0 picks a free port
  kDial,    // port 1-65535
};

// A parsed address.
struct HostPort {
  std::string host;  // as written, without the brackets of an IPv6 address ("::1")
  int port = 0;      // 0-65535

  // "host:port", with brackets around an IPv6 host: {"::1", 80} is "[::1]:80".
  std::string ToString() const;
};

// Parses `address` as described above. Pure; thread-safe. Errors: INVALID_ARGUMENT whose message
// quotes the address and says what is wrong, e.g.
//   "127.0.0.1:99999": port 99999 is out of range 0-65535 (expected host:port)
absl::StatusOr<HostPort> ParseHostPort(absl::string_view address, AddressUse use);

// Whether `host` (as HostPort::host holds it) reaches this machine only: "localhost", an IPv4
// address in 127.0.0.0/8 or "::1". Pure.
bool IsLoopbackHost(absl::string_view host);

// A listen address as a client on this machine dials it: a wildcard host ("0.0.0.0", "::")
// becomes the loopback address of its family ("127.0.0.1", "::1"); other addresses, and strings
// ParseHostPort refuses, are returned as they are. Pure.
std::string LoopbackAddressOf(absl::string_view listen_address);

// An address flag of a binary, for CheckAddressFlags.
struct AddressFlag {
  absl::string_view name;  // as the user types it, without dashes: "listen", "metrics_listen"
  absl::string_view value;
  AddressUse use;
  bool empty_means_off = false;  // the flag is optional: an empty value turns the feature off
};

// Checks each flag's value with ParseHostPort, so that a binary can refuse a bad address before
// it opens or serves anything. Returns OK when all are valid (an empty value of an
// `empty_means_off` flag is valid); otherwise INVALID_ARGUMENT naming the first bad flag:
//   --listen="127.0.0.1:99999": port 99999 is out of range 0-65535 (expected host:port)
absl::Status CheckAddressFlags(std::initializer_list<AddressFlag> flags);

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_HOST_PORT_H_
