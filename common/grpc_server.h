// Starting a gRPC server the Tributary way: the given services plus server
// reflection and the standard health service, bound to one address (port 0
// picks a free port), with message limits large enough for PutRecords (5 MiB),
// GetRecords (10 MiB) and Invoke (6 MiB) payloads; TLS and authentication as a
// GrpcServerSecurity says (grpc_security.h).
#ifndef TRIBUTARY_COMMON_GRPC_SERVER_H_
#define TRIBUTARY_COMMON_GRPC_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/grpc_authz_gate.h"
#include "common/grpc_security.h"
#include "grpcpp/channel.h"
#include "grpcpp/server.h"

namespace tributary {

// The largest message our servers and clients accept, in bytes.
inline constexpr int kMaxGrpcMessageBytes = 64 << 20;

// Bounds on what gRPC itself holds for a server (issue 22): the queue before our handlers.
struct GrpcServerLimits {
  // Threads gRPC's sync server may run (handlers and its pollers; grpc::ResourceQuota's
  // SetMaxThreads). When all are busy, gRPC refuses a new sync call at once with
  // RESOURCE_EXHAUSTED (its own message, "Server Threadpool Exhausted"), before the handler
  // parses anything of ours. Callback handlers (PutRecords, SubscribeToShard) do not use them.
  // At least 2 (a poller and a worker).
  int max_threads = 512;
  // Concurrent calls on one HTTP/2 connection (GRPC_ARG_MAX_CONCURRENT_STREAMS); more calls of
  // that connection wait in the client until one ends. 0: gRPC's default (unbounded).
  int max_concurrent_streams = 0;
};

// A running gRPC server. Thread-safe. Shuts down (with a short grace period) on
// destruction; the registered services must outlive it.
class GrpcServer {
 public:
  // Starts serving `services` on `listen_address` ("host:port" as
  // common/host_port.h spells it; port 0 picks a free one). Errors:
  // INVALID_ARGUMENT for a malformed address (a port above 65535, no port, ...);
  // UNAVAILABLE when the address cannot be bound (in use, unknown host).
  // With `security`, the port speaks TLS and calls are authenticated as it says; errors:
  // MakeServerCredentials's (INVALID_ARGUMENT naming the bad setting). With its policy_file or
  // audit_log, calls are authorized and audited (grpc_authz_gate.h; the handlers of `services`
  // are wrapped, so a service may be passed to one Start only); errors: GrpcAuthzGate::Create's.
  // gRPC's own queue is bounded as `limits` says; INVALID_ARGUMENT when they are out of range.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(
      const std::string& listen_address, const std::vector<grpc::Service*>& services,
      const GrpcServerSecurity& security = GrpcServerSecurity(),
      const GrpcServerLimits& limits = GrpcServerLimits());

  ~GrpcServer();

  // The port actually bound.
  int port() const { return port_; }
  // "host:port" with the bound port, for clients to dial.
  const std::string& address() const { return address_; }
  grpc::Server* server() { return server_.get(); }
  // A channel to this server that bypasses the network (and so TLS and authentication: its
  // calls have no principal).
  std::shared_ptr<grpc::Channel> InProcessChannel();
  // The server's authorization and audit (GrpcAuthzGate::AuthorizeOnBehalf for those who act
  // through InProcessChannel on someone's behalf); null without --policy_file and --audit_log.
  GrpcAuthzGate* authz_gate() const { return authz_gate_.get(); }

  // Re-reads the bearer tokens file (GrpcAuthenticator::ReloadTokens; a server main calls it on
  // SIGHUP) and the policy file. OK and nothing done when the server has neither. On an error
  // the tokens and policy in use stay; the first error is returned.
  absl::Status ReloadAuthTokens();

  // Stops accepting calls and waits up to `grace` for in-flight calls, then
  // cancels them. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(1));
  // Blocks until Shutdown has been called (from another thread) and the server
  // has stopped.
  void Wait();

 private:
  GrpcServer(std::unique_ptr<grpc::Server> server, int port, std::string address,
             std::shared_ptr<GrpcAuthenticator> authenticator,
             std::shared_ptr<GrpcAuthzGate> authz_gate);

  std::shared_ptr<GrpcAuthenticator> authenticator_;  // null: calls are not authenticated
  std::shared_ptr<GrpcAuthzGate> authz_gate_;  // null: no policy or audit log; outlives server_
  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::string address_;
  bool shut_down_ = false;
};

// Resolves a listen address whose port is 0 to the same host with a port that is free now (bound
// and released), so that a process can hand its own address to in-process clients before its
// server starts. Another address is returned as it is. Errors: INVALID_ARGUMENT for a malformed
// address (ParseHostPort); UNAVAILABLE when no port can be bound.
absl::StatusOr<std::string> PickListenAddress(const std::string& listen_address);

// A channel to `address` with Tributary's message limits. Never fails: errors
// surface on calls.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address);
// The same, secured as `security` says (grpc_security.h): TLS verifying the server, a client
// certificate, a bearer token on every call. Call ValidateClientSecurity first: a file that
// cannot be read surfaces as UNAVAILABLE on calls.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const GrpcClientSecurity& security);

// What a channel does about a peer that stops answering without closing its connection (a
// frozen process, a host behind a partition: TCP stays open, calls just hang).
struct ChannelLiveness {
  // While calls are in flight, an HTTP/2 ping every `ping_interval`; a ping not answered within
  // `ping_timeout` closes the connection, failing the calls in flight with UNAVAILABLE. Zero:
  // no pings (the connection is trusted until TCP says otherwise).
  absl::Duration ping_interval = absl::ZeroDuration();
  absl::Duration ping_timeout = absl::ZeroDuration();
  // How long one connection attempt may take, the server's HTTP/2 settings included, before the
  // channel moves on (to the next address of a list). Zero: gRPC's default (20 s).
  absl::Duration connect_timeout = absl::ZeroDuration();
};
// The same as MakeChannel(address, security), with `liveness`. Every GrpcServer accepts pings
// as often as every 500 ms.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const GrpcClientSecurity& security,
                                           const ChannelLiveness& liveness);

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_GRPC_SERVER_H_
