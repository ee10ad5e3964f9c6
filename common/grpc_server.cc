#include "common/grpc_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "common/host_port.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/channel_arguments.h"

namespace tributary {

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(
    const std::string& listen_address, const std::vector<grpc::Service*>& services,
    const GrpcServerSecurity& security, const GrpcServerLimits& limits) {
  if (limits.max_threads < 2 || limits.max_concurrent_streams < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "gRPC server limits: max_threads=", limits.max_threads,
        " must be at least 2 and max_concurrent_streams=", limits.max_concurrent_streams,
        " at least 0"));
  }
  // gRPC itself would take port 99999 modulo 65536, "host:8x" as port 8, and service names.
  absl::StatusOr<HostPort> parsed = ParseHostPort(listen_address, AddressUse::kListen);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("listen address ", parsed.status().message()));
  }
  std::shared_ptr<GrpcAuthenticator> authenticator;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(security, parsed->host, &authenticator);
  if (!credentials.ok()) return credentials.status();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen_address, *credentials, &port);
  builder.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  builder.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  // gRPC sets SO_REUSEPORT by default, which would let a second server silently
  // share a port with a running one; an address in use must be an error
  // instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Clients of replicated services ping during calls to notice a frozen peer
  // (ChannelLiveness); gRPC's default refuses pings more often than every 5 minutes, answering
  // them with GOAWAY "too_many_pings".
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 500);
  grpc::ResourceQuota quota(absl::StrCat("tributary-server-", listen_address));
  quota.SetMaxThreads(limits.max_threads);
  builder.SetResourceQuota(quota);
  if (limits.max_concurrent_streams > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams);
  }
  std::shared_ptr<GrpcAuthzGate> authz_gate;
  if (!security.policy_file.empty() || !security.audit_log.empty()) {
    GrpcAuthzOptions options;
    options.policy_file = security.policy_file;
    options.audit_log = security.audit_log;
    options.account = security.account;
    absl::StatusOr<std::shared_ptr<GrpcAuthzGate>> gate =
        GrpcAuthzGate::Create(options, security.authenticates(), RealClock::Get());
    if (!gate.ok()) return gate.status();
    authz_gate = *std::move(gate);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(authz_gate->MakeInterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  for (grpc::Service* service : services) {
    if (authz_gate != nullptr) authz_gate->Guard(service);
    builder.RegisterService(service);
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen_address, " (address in use or invalid)"));
  }
  HostPort bound{parsed->host, port};
  if (bound.host == "0.0.0.0" || bound.host == "::") bound.host = "127.0.0.1";
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(server), port, bound.ToString(),
                                                   std::move(authenticator), std::move(authz_gate)));
}

GrpcServer::GrpcServer(std::unique_ptr<grpc::Server> server, int port, std::string address,
                       std::shared_ptr<GrpcAuthenticator> authenticator,
                       std::shared_ptr<GrpcAuthzGate> authz_gate)
    : authenticator_(std::move(authenticator)),
      authz_gate_(std::move(authz_gate)),
      server_(std::move(server)),
      port_(port),
      address_(std::move(address)) {}

absl::Status GrpcServer::ReloadAuthTokens() {
  absl::Status tokens =
      authenticator_ == nullptr ? absl::OkStatus() : authenticator_->ReloadTokens();
  absl::Status policy = authz_gate_ == nullptr ? absl::OkStatus() : authz_gate_->ReloadPolicy();
  return tokens.ok() ? policy : tokens;
}

GrpcServer::~GrpcServer() { Shutdown(); }

std::shared_ptr<grpc::Channel> GrpcServer::InProcessChannel() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  args.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  return server_->InProcessChannel(args);
}

void GrpcServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
  server_->Wait();
}

void GrpcServer::Wait() { server_->Wait(); }

absl::StatusOr<std::string> PickListenAddress(const std::string& listen_address) {
  absl::StatusOr<HostPort> parsed = ParseHostPort(listen_address, AddressUse::kListen);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("listen address ", parsed.status().message()));
  }
  if (parsed->port != 0) return listen_address;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("socket() failed while picking a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  if (port == 0) return absl::UnavailableError("no free port to listen on");
  return HostPort{parsed->host, port}.ToString();
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address) {
  return MakeChannel(address, GrpcClientSecurity());
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const GrpcClientSecurity& security) {
  return MakeChannel(address, security, ChannelLiveness());
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const GrpcClientSecurity& security,
                                           const ChannelLiveness& liveness) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  args.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  // Reconnect quickly after a peer restarts (the default backoff grows to minutes). The minimum
  // reconnect backoff is left alone: gRPC also uses it as the connect timeout, and at 100 ms a
  // first call on a busy machine failed with UNAVAILABLE before the connection was up.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  if (liveness.ping_interval > absl::ZeroDuration()) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
                static_cast<int>(absl::ToInt64Milliseconds(liveness.ping_interval)));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                static_cast<int>(absl::ToInt64Milliseconds(liveness.ping_timeout)));
    // Only while calls are in flight (a hanging call is what needs it), and without gRPC's
    // default stop after two pings with no data sent.
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  }
  if (liveness.connect_timeout > absl::ZeroDuration()) {
    // gRPC takes its minimum reconnect backoff as the connect timeout.
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
                static_cast<int>(absl::ToInt64Milliseconds(liveness.connect_timeout)));
  }
  if (!security.server_name.empty()) args.SetSslTargetNameOverride(security.server_name);
  std::shared_ptr<grpc::ChannelCredentials> credentials = MakeChannelCredentials(security);
  if (security.token.empty()) return grpc::CreateCustomChannel(address, credentials, args);
  // A server names one principal per connection (grpc_security.h): a channel with a token never
  // shares its connection with another channel's (gRPC's global subchannel pool would).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(MakeBearerTokenInterceptorFactory(security.token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, credentials, args,
                                                                 std::move(interceptors));
}

}  // namespace tributary
