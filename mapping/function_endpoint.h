// A function's endpoint: where a mapping's function is reached and how it is called (issue 17).
// The one grammar of a mapping's function_endpoint and of a registered function's endpoint,
// checked by the stream tracker and followed by the poller's invoker.
//
//   "host:port"                     tributary.v1.Function/Invoke over gRPC (as before)
//   "grpc://host:port"              the same, said explicitly
//   "grpcs://host:port"             the same over TLS: the server's certificate is verified
//                                   (the poller's --function_ca_file, else the system's CAs)
//                                   and the poller presents --function_client_cert if given
//   "http://host[:port][/path]"     POST of the event AWS Lambda sends for Kinesis to the path,
//   "https://host[:port][/path]"    Lambda's reply (the Lambda Runtime Interface Emulator's
//                                   interface: POST /2015-03-31/functions/function/invocations)
//
// host and port follow common/host_port.h (a DNS name, an IPv4 address or a bracketed IPv6
// address; a port 1-65535). An http(s) port may be left out (80 / 443); a path, when given,
// starts with '/' and may carry a query; no path is "/" (the URL's meaning, not the
// emulator's path: say it). The scheme is lower case; no user info ("user@host") and no fragment
// ("#..."): a function URL never needs them and a typo should not pass silently.
//
// Examples:
//   "127.0.0.1:4570"                              gRPC, 127.0.0.1, 4570
//   "http://127.0.0.1:9000/2015-03-31/functions/function/invocations"
//                                                 HTTP, 127.0.0.1, 9000, that path
//   "https://fn.example.com"                      HTTPS, fn.example.com, 443, "/"
//   "http://[::1]:9000/x?y=1"                     HTTP, ::1, 9000, "/x?y=1"
//   "grpcs://fn.example.com:8443"                 gRPC over TLS, fn.example.com, 8443
//   "ftp://h:1", "http://h:0/", "http://h:99999", "http://u@h/", "http://h/#f"   INVALID_ARGUMENT
//
// Pure functions, thread-safe.
#ifndef TRIBUTARY_MAPPING_FUNCTION_ENDPOINT_H_
#define TRIBUTARY_MAPPING_FUNCTION_ENDPOINT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tributary::mapping {

struct FunctionEndpoint {
  enum class Protocol { kGrpc, kGrpcs, kHttp, kHttps };
  Protocol protocol = Protocol::kGrpc;
  std::string host;  // without the brackets of an IPv6 address
  int port = 0;      // 1-65535
  std::string path;  // HTTP(S) only: the request target, "/" at least; empty for gRPC

  // "host:port" (IPv6 in brackets): what a gRPC channel dials, and an HTTP connection's peer.
  std::string HostPort() const;
};

// The rule a message can show the user: what ParseFunctionEndpoint accepts.
inline constexpr char kFunctionEndpointForms[] =
    "\"host:port\" or \"grpc://host:port\" (gRPC), \"grpcs://host:port\" (gRPC over TLS), or "
    "\"http://host[:port]/path\" or "
    "\"https://host[:port]/path\" (Lambda's event over HTTP), with a port 1-65535";

// Parses `endpoint` as described above. Errors: INVALID_ARGUMENT whose message quotes the
// endpoint and says what is wrong, e.g. `"http://h:0/": port 0 cannot be connected to ...`.
absl::StatusOr<FunctionEndpoint> ParseFunctionEndpoint(absl::string_view endpoint);

// Checks the endpoint of a request's `field` ("function_endpoint", "endpoint"). Errors:
// INVALID_ARGUMENT "<field> is required" when empty, else
// "<field> must be <kFunctionEndpointForms>; <ParseFunctionEndpoint's message>".
absl::Status ValidateFunctionEndpoint(absl::string_view field, absl::string_view endpoint);

}  // namespace tributary::mapping

#endif  // TRIBUTARY_MAPPING_FUNCTION_ENDPOINT_H_
