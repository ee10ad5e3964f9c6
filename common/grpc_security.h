// Transport security and authentication of Tributary's gRPC servers and channels: what
// GrpcServer::Start and MakeChannel (grpc_server.h) take, so that every server and every
// service-to-service client is secured in one place.
//
// Servers (GrpcServerSecurity):
//   - TLS when cert_file and key_file are set. gRPC's FileWatcherCertificateProvider re-reads
//     the files every refresh_interval and serves new handshakes with what changed; connections
//     already open keep theirs (nothing is dropped). Replace the key and certificate by rename
//     (tools/dev_certs.sh does): a pair that does not match is not taken.
//   - Mutual TLS when client_ca_file is set as well: a client certificate is requested and, when
//     presented, must chain to one of those CAs or the handshake fails. Its subject (RFC 2253,
//     "CN=poller-1,O=Example") is the caller's principal.
//   - Bearer tokens when auth_tokens_file is set: "authorization: Bearer TOKEN" metadata is
//     looked up in that file (auth_tokens.h); the token's principal is the caller's.
//   - One principal per connection: the first authenticated call names it; a later call on the
//     same connection with credentials of another principal is UNAUTHENTICATED (gRPC shares one
//     AuthContext among a connection's calls). A client with several identities opens a
//     connection for each (a channel each, with a local subchannel pool).
//   - A server that has either authenticates every call (health checks excepted, so that probes
//     need no credentials): a call with neither a verified client certificate nor a token, or
//     with a token the file does not hold, fails with UNAUTHENTICATED before it reaches a
//     service. A presented token decides even when a certificate was presented too (a token
//     that does not match is refused, never ignored). Handlers read the principal with
//     CallPrincipal. Without either, calls are not authenticated (CallPrincipal is empty).
//   - Bearer tokens without TLS are accepted on a loopback address only (over gRPC's local
//     credentials, which refuse peers that are not on this machine): elsewhere they would cross
//     the network in clear. GrpcServer::Start refuses the combination.
//
// Clients (GrpcClientSecurity):
//   - TLS when ca_file is set: the server's certificate must chain to one of its CAs and name
//     the host dialed (or server_name). With cert_file and key_file the client presents that
//     certificate (re-read on change like the server's).
//   - token: sent on every call as "authorization: Bearer TOKEN".
#ifndef TRIBUTARY_COMMON_GRPC_SECURITY_H_
#define TRIBUTARY_COMMON_GRPC_SECURITY_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/aws_arn.h"
#include "common/auth_tokens.h"
#include "grpcpp/security/auth_metadata_processor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/client_interceptor.h"

namespace tributary {

struct GrpcServerSecurity {
  std::string cert_file;        // PEM certificate chain; TLS with key_file
  std::string key_file;         // PEM private key of cert_file's certificate
  std::string client_ca_file;   // PEM CAs of client certificates: mutual TLS (needs TLS)
  std::string auth_tokens_file;  // bearer tokens (auth_tokens.h)
  // How often the certificate files are checked for a change (gRPC's minimum is 1 s).
  absl::Duration refresh_interval = absl::Seconds(10);
  // Authorization and audit (grpc_authz_gate.h): the --policy_file (empty: every
  // authenticated call is allowed) and the --audit_log ("-": standard output; empty: none).
  std::string policy_file;
  std::string audit_log;
  // The region and account of the ARNs the policy is checked against (--aws_region,
  // --aws_account_id of a binary that defines them; else LocalStack's defaults).
  AwsAccount account;

  bool tls() const { return !cert_file.empty() || !key_file.empty(); }
  bool authenticates() const { return !client_ca_file.empty() || !auth_tokens_file.empty(); }
};

// Checks `security` before a server is built: cert_file and key_file both or neither, each a
// readable PEM file whose key matches the certificate, a readable PEM client_ca_file only with
// TLS, a well-formed auth_tokens_file. Errors: INVALID_ARGUMENT naming the field and the file
// (never a key's or token's content).
absl::Status ValidateServerSecurity(const GrpcServerSecurity& security);

struct GrpcClientSecurity {
  std::string ca_file;    // PEM CAs the server's certificate must chain to: TLS when set
  std::string cert_file;  // PEM client certificate presented to the server (needs ca_file)
  std::string key_file;   // its private key
  std::string token;      // bearer token sent with every call; empty: none
  // The name the server's certificate must carry; empty: the host of the address dialed.
  std::string server_name;
  absl::Duration refresh_interval = absl::Seconds(10);

  bool tls() const { return !ca_file.empty(); }
};

// Checks `security`: cert_file and key_file both or neither and only with ca_file, each
// readable PEM (the key matching the certificate), a token without spaces or line breaks.
// Errors: INVALID_ARGUMENT naming the field.
absl::Status ValidateClientSecurity(const GrpcClientSecurity& security);

// Checks that calls to `address` ("host:port") made with `security` would not carry a bearer
// token in clear across the network: a token without TLS may go to a loopback address only.
// Errors: INVALID_ARGUMENT saying so.
absl::Status CheckTokenStaysPrivate(const GrpcClientSecurity& security, const std::string& address);

// The principal a call was authenticated as: the client certificate's subject or the bearer
// token's principal; empty when the server does not authenticate (or for an in-process channel,
// which bypasses the network and its credentials).
std::string CallPrincipal(const grpc::ServerContextBase& context);

class GrpcAuthenticator;

// A client interceptor that adds "authorization: Bearer TOKEN" to every call of a channel
// (MakeChannel uses it: it works over TLS and plaintext channels alike).
std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
MakeBearerTokenInterceptorFactory(const std::string& token);

// The credentials of a server listening on `listen_host` as `security` says (grpc_server.h's
// GrpcServer::Start uses them); `*authenticator` is set to the server's authentication, or null
// when it does not authenticate. Errors: ValidateServerSecurity's; INVALID_ARGUMENT for bearer
// tokens without TLS on a host that is not a loopback address.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const GrpcServerSecurity& security, const std::string& listen_host,
    std::shared_ptr<GrpcAuthenticator>* authenticator);

// The channel credentials `security` asks for (insecure without ca_file). Never fails: call
// ValidateClientSecurity first; a file that cannot be read surfaces as UNAVAILABLE on calls.
std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(
    const GrpcClientSecurity& security);

// The authentication of a server that authenticates (GrpcServerSecurity::authenticates()): a gRPC
// AuthMetadataProcessor that sets the call's principal or refuses it with UNAUTHENTICATED.
// Thread-safe. Built by GrpcServer::Start; public for the tests and for ReloadTokens.
class GrpcAuthenticator final : public grpc::AuthMetadataProcessor {
 public:
  // Errors: AuthTokens::ReadFile's for a non-empty `auth_tokens_file`.
  static absl::StatusOr<std::shared_ptr<GrpcAuthenticator>> Create(
      const std::string& auth_tokens_file, bool accept_client_certificates);

  // Re-reads the tokens file (a server main calls it on SIGHUP). On an error the tokens in use
  // stay. Errors: AuthTokens::ReadFile's. OK and nothing done without a tokens file.
  absl::Status ReloadTokens();

  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  GrpcAuthenticator(std::string auth_tokens_file, bool accept_client_certificates,
                    std::shared_ptr<const AuthTokens> tokens);
  std::shared_ptr<const AuthTokens> tokens() const;

  const std::string auth_tokens_file_;
  const bool accept_client_certificates_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const AuthTokens> tokens_ ABSL_GUARDED_BY(mu_);  // null: no tokens file
  // Serializes labelling a connection's AuthContext with its principal (shared by its calls).
  absl::Mutex label_mu_;
};

}  // namespace tributary

#endif  // TRIBUTARY_COMMON_GRPC_SECURITY_H_
