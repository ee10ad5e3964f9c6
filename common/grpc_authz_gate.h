// Authorization and audit of a gRPC server's calls (--policy_file, --audit_log), installed by
// GrpcServer::Start and nowhere else: the services and libraries never check permissions.
//
// Why two hooks and not one interceptor: gRPC 1.51's server interceptors cannot refuse a call
// (Hijack is client-only; grpc/grpc#22395), and the resource a call acts on is in its request,
// which only exists once the message is read. So the gate wraps each method's handler and
// decides when the request is deserialized — a denied request is reported to gRPC as failing
// deserialization, and the service's code never runs — and a server interceptor, which sees
// every call's final status, replaces that status with PERMISSION_DENIED and its reason (gRPC's
// callback handlers would otherwise answer UNIMPLEMENTED) and writes the audit line.
//
// Decisions (Authorizer): the principal is CallPrincipal's. On a server that authenticates, a
// network call without a principal never gets here (UNAUTHENTICATED first), so a call without
// one is the process's own in-process channel (GrpcServer::InProcessChannel: `tributary
// serve`'s console, its own clients when they dial it in process) and is allowed, as the
// process could call its libraries directly anyway. On a server that does not authenticate,
// every caller is the empty principal, which only the principal pattern "*" matches.
//
// Audit: a line for every denied call, and for every call of a control-plane action
// (grpc_actions.h) whatever its outcome.
//
// Thread-safe. Must outlive the server whose services it guards.
#ifndef TRIBUTARY_COMMON_GRPC_AUTHZ_GATE_H_
#define TRIBUTARY_COMMON_GRPC_AUTHZ_GATE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/audit_log.h"
#include "common/clock.h"
#include "common/grpc_authorizer.h"
#include "grpcpp/impl/service_type.h"
#include "grpcpp/support/server_interceptor.h"

namespace tributary {

struct GrpcAuthzOptions {
  std::string policy_file;  // empty: no authorization
  std::string audit_log;    // empty: no audit log; "-": standard output
  AwsAccount account;       // the ARNs' region and account
  absl::Duration policy_check_interval = absl::Seconds(5);
};

class GrpcAuthzGate {
 public:
  // Errors: Authorizer::Create's and AuditLog::Open's. `clock` must outlive the gate.
  static absl::StatusOr<std::shared_ptr<GrpcAuthzGate>> Create(const GrpcAuthzOptions& options,
                                                              bool server_authenticates,
                                                              Clock& clock);

  // Wraps the handlers of `service`'s methods so that each call is authorized when its request
  // has been read. Call before the service is registered with a ServerBuilder; at most once per
  // service. A no-op without a policy file.
  void Guard(grpc::Service* service);

  // The interceptor that reports denials as PERMISSION_DENIED and writes the audit log; install
  // it on the server whose services were guarded.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeInterceptorFactory();

  // Re-reads the policy file now (SIGHUP). Errors: Authorizer::Reload's; OK without one.
  absl::Status ReloadPolicy();

  // For a part of the process that calls its own services in process on someone's behalf (the
  // web console's actions, as the operator whose client certificate the metrics port verified):
  // whether `principal` may call `method` (a gRPC path) with `request`. OK without a policy;
  // else the policy's decision, where — unlike for the in-process call itself — an empty
  // principal is nobody in particular and matches only Principal "*". A denial is audited and
  // returned as PERMISSION_DENIED naming principal, action and resource.
  absl::Status AuthorizeOnBehalf(const std::string& principal, const std::string& method,
                                 const google::protobuf::Message& request);
  // The audit line of such a call once it ran (control-plane actions only, as for calls over the
  // network). Its in-process call also gets the usual line, with the process's empty principal.
  void AuditOnBehalf(const std::string& principal, const std::string& method,
                     const google::protobuf::Message& request, absl::StatusCode outcome);

  // For the handler wrapper and the interceptor (grpc_authz_gate.cc); not for callers.
  struct Denial {
    std::string principal;
    const RpcAction* action;
    std::string resource;
    std::string message;
  };
  absl::Status Authorize(grpc_call* call, const std::string& method, const void* request);
  std::optional<Denial> TakeDenial(grpc_call* call);
  void Audit(const std::string& principal, const RpcAction& action, const std::string& resource,
             absl::StatusCode outcome);
  const AwsAccount& account() const { return account_; }
  bool server_authenticates() const { return server_authenticates_; }

 private:
  GrpcAuthzGate(AwsAccount account, std::unique_ptr<Authorizer> authorizer,
                std::unique_ptr<AuditLog> audit_log, bool server_authenticates, Clock& clock)
      : account_(std::move(account)),
        authorizer_(std::move(authorizer)),
        audit_log_(std::move(audit_log)),
        server_authenticates_(server_authenticates),
        clock_(clock) {}

  const AwsAccount account_;
  const std::unique_ptr<Authorizer> authorizer_;  // null: no policy
  const std::unique_ptr<AuditLog> audit_log_;     // null: no audit log
  const bool server_authenticates_;
  Clock& clock_;
  absl::Mutex mu_;
  // Calls denied at deserialization whose status the interceptor has yet to rewrite.
  absl::flat_hash_map<grpc_call*, Denial> denials_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> pending_denials_{0};  // denials_.size(), read without mu_
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_GRPC_AUTHZ_GATE_H_
