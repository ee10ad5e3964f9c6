// How a denial travels (see the header for why): AuthorizingHandler::Deserialize asks the gate;
// on a denial the gate remembers it under the call's grpc_call*, the handler reports a failed
// deserialization (so gRPC never runs the service's code), and the call's interceptor takes the
// denial back at PRE_SEND_STATUS, rewrites the status and audits it. The interceptor's
// destructor drops a denial it never saw (a call cancelled on the way), so the map cannot grow.
#include "common/grpc_authz_gate.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_actions.h"
#include "glog/logging.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpc/grpc_security.h"
#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/proto_buffer_reader.h"

namespace tributary {
namespace {

constexpr char kPrincipalProperty[] = "tributary_principal";  // grpc_security.cc sets it

// grpc::Service keeps its methods private (only grpc::Server may see them) and gRPC 1.51 has no
// public way to wrap a registered method's handler. An explicit instantiation may name a private
// member ([temp.explicit]: access checks do not apply), which yields a pointer to it here and
// nowhere else. grpc_authz_gate_test fails if a gRPC upgrade changes what this relies on.
using ServiceMethods = std::vector<std::unique_ptr<grpc::internal::RpcServiceMethod>>;
using MethodsMember = ServiceMethods grpc::Service::*;
using HandlerMember = std::unique_ptr<grpc::internal::MethodHandler> grpc::internal::RpcServiceMethod::*;
MethodsMember MethodsOf();
HandlerMember HandlerOf();
template <MethodsMember M, HandlerMember H>
struct PrivateMembers {
  friend MethodsMember MethodsOf() { return M; }
  friend HandlerMember HandlerOf() { return H; }
};
template struct PrivateMembers<&grpc::Service::methods_, &grpc::internal::RpcServiceMethod::handler_>;

std::string PrincipalOfCall(grpc_call* call) {
  grpc_auth_context* context = grpc_call_auth_context(call);
  if (context == nullptr) return "";
  std::string principal;
  grpc_auth_property_iterator it =
      grpc_auth_context_find_properties_by_name(context, kPrincipalProperty);
  if (const grpc_auth_property* property = grpc_auth_property_iterator_next(&it)) {
    principal.assign(property->value, property->value_length);
  }
  grpc_auth_context_release(context);
  return principal;
}

std::string PrincipalOfContext(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return "";
  std::vector<grpc::string_ref> values = auth->FindPropertyValues(kPrincipalProperty);
  return values.empty() ? "" : std::string(values.front().data(), values.front().size());
}

// The generated request type of `method` ("/package.Service/Method"), or null.
const google::protobuf::Message* RequestPrototype(const std::string& method) {
  std::string full = method.substr(method.empty() || method[0] != '/' ? 0 : 1);
  std::replace(full.begin(), full.end(), '/', '.');
  const google::protobuf::MethodDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full);
  if (descriptor == nullptr) return nullptr;
  return google::protobuf::MessageFactory::generated_factory()->GetPrototype(
      descriptor->input_type());
}

// A method's handler, deciding each call when its request has been read.
class AuthorizingHandler final : public grpc::internal::MethodHandler {
 public:
  // `raw_request`: the method's prototype request when it is a raw method (its handler gets the
  // request's bytes, which are parsed here for the decision); else null.
  AuthorizingHandler(GrpcAuthzGate* gate, std::string method, bool sync,
                     const google::protobuf::Message* raw_request,
                     std::unique_ptr<grpc::internal::MethodHandler> inner)
      : gate_(gate),
        method_(std::move(method)),
        sync_(sync),
        raw_request_(raw_request),
        action_(FindRpcAction(method_)),
        inner_(std::move(inner)) {}

  void RunHandler(const HandlerParameter& param) override { inner_->RunHandler(param); }

  void* Deserialize(grpc_call* call, grpc_byte_buffer* req, grpc::Status* status,
                    void** handler_data) override {
    void* request = inner_->Deserialize(call, req, status, handler_data);
    if (!status->ok() || request == nullptr) return request;
    absl::Status allowed;
    if (raw_request_ != nullptr) {
      // A raw method: the policy needs the field naming the resource, which is read from the
      // bytes with the other fields skipped (a full parse here, of every record of a
      // PutRecords, cost as much as the rest of authentication: BENCHMARKS.md Run 30). Bytes
      // that this cannot read are parsed in full; one that does not parse is the handler's to
      // refuse.
      std::unique_ptr<google::protobuf::Message> parsed(raw_request_->New());
      grpc::ByteBuffer copy(*static_cast<const grpc::ByteBuffer*>(request));
      bool read = false;
      if (action_ != nullptr) {
        grpc::ProtoBufferReader reader(&copy);
        read = ReadResourceField(*action_, &reader, parsed.get());
      }
      if (!read) {
        grpc::ProtoBufferReader reader(&copy);
        if (!parsed->ParseFromZeroCopyStream(&reader)) return request;
      }
      allowed = gate_->Authorize(call, method_, static_cast<const google::protobuf::MessageLite*>(
                                                    parsed.get()));
    } else {
      allowed = gate_->Authorize(call, method_, request);
    }
    if (allowed.ok()) return request;
    *status = grpc::Status(grpc::StatusCode::PERMISSION_DENIED, std::string(allowed.message()));
    // As the handler's own Deserialize does when parsing fails: a sync handler's request lives
    // in the call's arena and is destroyed here; a callback handler's belongs to its message
    // holder (*handler_data), released when the call ends.
    if (sync_) static_cast<google::protobuf::MessageLite*>(request)->~MessageLite();
    return nullptr;
  }

 private:
  GrpcAuthzGate* const gate_;
  const std::string method_;
  const bool sync_;
  const google::protobuf::Message* const raw_request_;
  const RpcAction* const action_;  // null: not in the table (the full parse decides)
  const std::unique_ptr<grpc::internal::MethodHandler> inner_;
};

class AuthzInterceptor final : public grpc::experimental::Interceptor {
 public:
  AuthzInterceptor(GrpcAuthzGate* gate, grpc::experimental::ServerRpcInfo* info)
      : gate_(gate), info_(info), action_(FindRpcAction(info->method())) {}
  ~AuthzInterceptor() override {
    if (info_->server_context() != nullptr) gate_->TakeDenial(info_->server_context()->c_call());
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    // Only a control-plane call's resource is audited (a denial carries its own), so only its
    // message is looked at: data-plane calls skip the reflection and the ARN (and a raw method's
    // message is its bytes, not a protobuf: the data-plane PutRecords is one).
    if (action_ != nullptr && action_->control_plane &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      const void* request = methods->GetRecvMessage();
      const auto* message =
          request == nullptr ? nullptr
                             : dynamic_cast<const google::protobuf::Message*>(
                                   static_cast<const google::protobuf::MessageLite*>(request));
      if (message != nullptr) {
        resource_ = RpcResource(*action_, *message, gate_->account());
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::ServerContextBase* context = info_->server_context();
      std::optional<GrpcAuthzGate::Denial> denial = gate_->TakeDenial(context->c_call());
      if (denial.has_value()) {
        methods->ModifySendStatus(
            grpc::Status(grpc::StatusCode::PERMISSION_DENIED, denial->message));
        if (denial->action != nullptr) {
          gate_->Audit(denial->principal, *denial->action, denial->resource,
                       absl::StatusCode::kPermissionDenied);
        }
      } else if (action_ != nullptr && action_->control_plane) {
        gate_->Audit(PrincipalOfContext(*context), *action_, resource_,
                     static_cast<absl::StatusCode>(methods->GetSendStatus().error_code()));
      }
    }
    methods->Proceed();
  }

 private:
  GrpcAuthzGate* const gate_;
  grpc::experimental::ServerRpcInfo* const info_;
  const RpcAction* const action_;  // null: not a tributary.v1 method
  std::string resource_ = "*";
};

class AuthzInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AuthzInterceptorFactory(GrpcAuthzGate* gate) : gate_(gate) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new AuthzInterceptor(gate_, info);
  }

 private:
  GrpcAuthzGate* const gate_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<GrpcAuthzGate>> GrpcAuthzGate::Create(
    const GrpcAuthzOptions& options, bool server_authenticates, Clock& clock) {
  std::unique_ptr<Authorizer> authorizer;
  if (!options.policy_file.empty()) {
    absl::StatusOr<std::unique_ptr<Authorizer>> created = Authorizer::Create(
        options.policy_file, options.account, options.policy_check_interval);
    if (!created.ok()) return created.status();
    authorizer = *std::move(created);
  }
  std::unique_ptr<AuditLog> audit_log;
  if (!options.audit_log.empty()) {
    absl::StatusOr<std::unique_ptr<AuditLog>> opened = AuditLog::Open(options.audit_log);
    if (!opened.ok()) return opened.status();
    audit_log = *std::move(opened);
  }
  return std::shared_ptr<GrpcAuthzGate>(new GrpcAuthzGate(
      options.account, std::move(authorizer), std::move(audit_log), server_authenticates, clock));
}

void GrpcAuthzGate::Guard(grpc::Service* service) {
  if (authorizer_ == nullptr) return;
  for (std::unique_ptr<grpc::internal::RpcServiceMethod>& method : service->*MethodsOf()) {
    if (method == nullptr) continue;  // generic: not served by this service
    std::unique_ptr<grpc::internal::MethodHandler>& handler = (*method).*HandlerOf();
    if (handler == nullptr) continue;  // async: nothing here serves it
    using ApiType = grpc::internal::RpcServiceMethod::ApiType;
    using RpcType = grpc::internal::RpcMethod::RpcType;
    // Programmer errors: these kinds of methods read their requests where the gate cannot see
    // them, so serving them would bypass the policy.
    CHECK(method->api_type() == ApiType::SYNC || method->api_type() == ApiType::CALL_BACK ||
          method->api_type() == ApiType::RAW_CALL_BACK)
        << method->name() << ": the authorization gate guards sync and callback methods only";
    const google::protobuf::Message* raw_request = nullptr;
    if (method->api_type() == ApiType::RAW_CALL_BACK) {
      raw_request = RequestPrototype(method->name());
      CHECK(raw_request != nullptr) << method->name()
                                    << ": a raw method's request type is not in the generated pool";
    }
    CHECK(method->method_type() == RpcType::NORMAL_RPC ||
          method->method_type() == RpcType::SERVER_STREAMING)
        << method->name() << ": the authorization gate cannot guard a client-streaming method";
    handler = std::make_unique<AuthorizingHandler>(
        this, method->name(), method->api_type() == ApiType::SYNC, raw_request,
        std::move(handler));
  }
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcAuthzGate::MakeInterceptorFactory() {
  return std::make_unique<AuthzInterceptorFactory>(this);
}

absl::Status GrpcAuthzGate::ReloadPolicy() {
  if (authorizer_ == nullptr) return absl::OkStatus();
  return authorizer_->Reload();
}

absl::Status GrpcAuthzGate::Authorize(grpc_call* call, const std::string& method,
                                      const void* request) {
  const std::string principal = PrincipalOfCall(call);
  // See the header: on an authenticating server only the process's own in-process calls come
  // without a principal.
  if (principal.empty() && server_authenticates_) return absl::OkStatus();
  absl::Status reload = authorizer_->MaybeReload(clock_.MonotonicNow());
  if (!reload.ok()) LOG(WARNING) << "policy_file: " << reload;  // once per change of the file
  const auto* message = dynamic_cast<const google::protobuf::Message*>(
      static_cast<const google::protobuf::MessageLite*>(request));
  if (message == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat(method, ": request cannot be authorized"));
  }
  AuthzDecision decision = authorizer_->Check(principal, method, *message);
  if (decision.status.ok()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  const bool inserted =
      denials_
          .insert_or_assign(call, Denial{principal, decision.action, decision.resource,
                                         std::string(decision.status.message())})
          .second;
  if (inserted) pending_denials_.fetch_add(1, std::memory_order_release);
  return decision.status;
}

absl::Status GrpcAuthzGate::AuthorizeOnBehalf(const std::string& principal,
                                               const std::string& method,
                                               const google::protobuf::Message& request) {
  if (authorizer_ == nullptr) return absl::OkStatus();
  absl::Status reload = authorizer_->MaybeReload(clock_.MonotonicNow());
  if (!reload.ok()) LOG(WARNING) << "policy_file: " << reload;
  AuthzDecision decision = authorizer_->Check(principal, method, request);
  if (!decision.status.ok() && decision.action != nullptr) {
    Audit(principal, *decision.action, decision.resource, absl::StatusCode::kPermissionDenied);
  }
  return decision.status;
}

void GrpcAuthzGate::AuditOnBehalf(const std::string& principal, const std::string& method,
                                  const google::protobuf::Message& request,
                                  absl::StatusCode outcome) {
  const RpcAction* action = FindRpcAction(method);
  if (action == nullptr || !action->control_plane) return;
  Audit(principal, *action, RpcResource(*action, request, account_), outcome);
}

std::optional<GrpcAuthzGate::Denial> GrpcAuthzGate::TakeDenial(grpc_call* call) {
  // Each call asks twice (its status, its interceptor's end); nearly every call was allowed.
  // A call's own denial was counted before its status is sent (gRPC orders its steps), so zero
  // here means none is pending for it.
  if (pending_denials_.load(std::memory_order_acquire) == 0) return std::nullopt;
  absl::MutexLock lock(&mu_);
  auto it = denials_.find(call);
  if (it == denials_.end()) return std::nullopt;
  Denial denial = std::move(it->second);
  denials_.erase(it);
  pending_denials_.fetch_sub(1, std::memory_order_relaxed);
  return denial;
}

void GrpcAuthzGate::Audit(const std::string& principal, const RpcAction& action,
                          const std::string& resource, absl::StatusCode outcome) {
  if (audit_log_ == nullptr) return;
  absl::Status written = audit_log_->Record(
      AuditEntry{clock_.Now(), principal, std::string(action.action), resource, outcome});
  if (!written.ok()) LOG(ERROR) << written;
}

}  // namespace tributary
