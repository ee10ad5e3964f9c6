// Implementation notes:
//   - Certificates go through gRPC's TLS credentials with a FileWatcherCertificateProvider (the
//     only provider of Debian's gRPC 1.51 that reloads; a custom provider cannot be written
//     against its C++ API), so a reload needs no restart and no signal.
//   - The principal is a property of the call's AuthContext ("tributary_principal"), made its peer
//     identity, set by the AuthMetadataProcessor, which runs for every call on a port whose
//     credentials are secure. Plaintext ports with tokens use local credentials for that reason
//     (gRPC's insecure server credentials take no processor).
//   - The processor runs on gRPC's transport thread (IsBlocking false): a hash and a map lookup.
//   - gRPC 1.51's server auth filter gives every call the connection's own AuthContext, so the
//     principal is a property of the connection, added by its first authenticated call; a later
//     call with other credentials on that connection is refused (see Process).
#include "common/grpc_security.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/host_port.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace tributary {
namespace {

constexpr char kPrincipalProperty[] = "tributary_principal";
constexpr char kHealthPathPrefix[] = "/grpc.health.v1.Health/";

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<BIO, BioDeleter> OpenFile(const std::string& path) {
  return std::unique_ptr<BIO, BioDeleter>(BIO_new_file(path.c_str(), "r"));
}

// Reads the first certificate of `path` (and counts them). Errors name `field` and the path.
absl::StatusOr<std::unique_ptr<X509, X509Deleter>> ReadCertificate(const std::string& field,
                                                                   const std::string& path) {
  auto bio = OpenFile(path);
  if (bio == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": cannot read ", path));
  }
  std::unique_ptr<X509, X509Deleter> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", path, " holds no PEM certificate"));
  }
  return cert;
}

absl::Status CheckKeyPair(const std::string& cert_field, const std::string& cert_file,
                          const std::string& key_field, const std::string& key_file) {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(cert_field, " and ", key_field, " go together: set both or neither"));
  }
  if (cert_file.empty()) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<X509, X509Deleter>> cert = ReadCertificate(cert_field, cert_file);
  if (!cert.ok()) return cert.status();
  auto bio = OpenFile(key_file);
  if (bio == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(key_field, ": cannot read ", key_file));
  }
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_field, ": ", key_file, " holds no unencrypted PEM private key"));
  }
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        key_field, ": the key in ", key_file, " is not the key of the certificate in ", cert_file));
  }
  return absl::OkStatus();
}

absl::Status CheckCaFile(const std::string& field, const std::string& path) {
  return ReadCertificate(field, path).status();
}

std::string PathOf(const grpc::AuthMetadataProcessor::InputMetadata& metadata) {
  auto it = metadata.find(":path");
  return it == metadata.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

// Adds "authorization: Bearer TOKEN" to every call of a channel.
class BearerTokenInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit BearerTokenInterceptor(const std::string* value) : value_(value) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("authorization", *value_);
    }
    methods->Proceed();
  }

 private:
  const std::string* value_;  // owned by the factory, which the channel keeps
};

class BearerTokenInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerTokenInterceptorFactory(const std::string& token)
      : value_(absl::StrCat("Bearer ", token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new BearerTokenInterceptor(&value_);
  }

 private:
  const std::string value_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>
MakeBearerTokenInterceptorFactory(const std::string& token) {
  return std::make_unique<BearerTokenInterceptorFactory>(token);
}

absl::Status ValidateServerSecurity(const GrpcServerSecurity& security) {
  if (absl::Status s = CheckKeyPair("tls_cert", security.cert_file, "tls_key", security.key_file);
      !s.ok()) {
    return s;
  }
  if (!security.client_ca_file.empty()) {
    if (!security.tls()) {
      return absl::InvalidArgumentError(
          "tls_client_ca (mutual TLS) needs TLS: set tls_cert and tls_key too");
    }
    if (absl::Status s = CheckCaFile("tls_client_ca", security.client_ca_file); !s.ok()) return s;
  }
  if (!security.auth_tokens_file.empty()) {
    if (absl::Status s = AuthTokens::ReadFile(security.auth_tokens_file).status(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("auth_tokens_file: ", s.message()));
    }
  }
  if (security.refresh_interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError("the certificates' refresh interval must be at least 1 s");
  }
  return absl::OkStatus();
}

absl::Status ValidateClientSecurity(const GrpcClientSecurity& security) {
  if (!security.cert_file.empty() || !security.key_file.empty()) {
    if (!security.tls()) {
      return absl::InvalidArgumentError(
          "a client certificate needs TLS: set the CA that signed the servers' certificates too");
    }
  }
  if (absl::Status s =
          CheckKeyPair("client certificate", security.cert_file, "client key", security.key_file);
      !s.ok()) {
    return s;
  }
  if (security.tls()) {
    if (absl::Status s = CheckCaFile("CA", security.ca_file); !s.ok()) return s;
  }
  for (char c : security.token) {
    if (absl::ascii_isspace(c) || absl::ascii_iscntrl(c)) {
      return absl::InvalidArgumentError("the bearer token holds a space or control character");
    }
  }
  if (security.refresh_interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError("the certificates' refresh interval must be at least 1 s");
  }
  return absl::OkStatus();
}

absl::Status CheckTokenStaysPrivate(const GrpcClientSecurity& security,
                                    const std::string& address) {
  if (security.token.empty() || security.tls()) return absl::OkStatus();
  // A list of replicas (common/replica_channel.h): every one of them.
  for (absl::string_view one : absl::StrSplit(address, ',', absl::SkipEmpty())) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(std::string(one), AddressUse::kDial);
    if (!parsed.ok() || IsLoopbackHost(parsed->host)) continue;
    return absl::InvalidArgumentError(
        absl::StrCat("a bearer token would go to ", one,
                     " in clear: call it over TLS (give the CA of its certificate), or drop the "
                     "token"));
  }
  return absl::OkStatus();
}

std::string CallPrincipal(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return "";
  std::vector<grpc::string_ref> values = auth->FindPropertyValues(kPrincipalProperty);
  if (values.empty()) return "";
  return std::string(values.front().data(), values.front().size());
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const GrpcServerSecurity& security, const std::string& listen_host,
    std::shared_ptr<GrpcAuthenticator>* authenticator) {
  authenticator->reset();
  if (absl::Status s = ValidateServerSecurity(security); !s.ok()) return s;
  std::shared_ptr<grpc::ServerCredentials> credentials;
  const unsigned int refresh_seconds =
      static_cast<unsigned int>(absl::ToInt64Seconds(security.refresh_interval));
  if (security.tls()) {
    std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
    if (security.client_ca_file.empty()) {
      provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          security.key_file, security.cert_file, refresh_seconds);
    } else {
      provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          security.key_file, security.cert_file, security.client_ca_file, refresh_seconds);
    }
    grpc::experimental::TlsServerCredentialsOptions options(provider);
    options.watch_identity_key_cert_pairs();
    if (!security.client_ca_file.empty()) {
      options.watch_root_certs();
      // Requested, and verified when presented; a client without one may still present a token
      // (or is refused by the authenticator).
      options.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
    }
    credentials = grpc::experimental::TlsServerCredentials(options);
  } else if (security.authenticates()) {
    if (!IsLoopbackHost(listen_host)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bearer tokens over plaintext are accepted on a loopback address only (", listen_host,
          " is not one): set tls_cert and tls_key, or listen on 127.0.0.1"));
    }
    credentials = grpc::experimental::LocalServerCredentials(LOCAL_TCP);
  } else {
    return grpc::InsecureServerCredentials();
  }
  if (security.authenticates()) {
    absl::StatusOr<std::shared_ptr<GrpcAuthenticator>> created = GrpcAuthenticator::Create(
        security.auth_tokens_file, /*accept_client_certificates=*/!security.client_ca_file.empty());
    if (!created.ok()) return created.status();
    *authenticator = *created;
    credentials->SetAuthMetadataProcessor(*authenticator);
  }
  return credentials;
}

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(
    const GrpcClientSecurity& security) {
  if (!security.tls()) return grpc::InsecureChannelCredentials();
  const unsigned int refresh_seconds = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(security.refresh_interval)));
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
  if (security.cert_file.empty()) {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        security.ca_file, refresh_seconds);
  } else {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        security.key_file, security.cert_file, security.ca_file, refresh_seconds);
  }
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider);
  options.watch_root_certs();
  if (!security.cert_file.empty()) options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  options.set_certificate_verifier(
      std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  return grpc::experimental::TlsCredentials(options);
}

absl::StatusOr<std::shared_ptr<GrpcAuthenticator>> GrpcAuthenticator::Create(
    const std::string& auth_tokens_file, bool accept_client_certificates) {
  std::shared_ptr<const AuthTokens> tokens;
  if (!auth_tokens_file.empty()) {
    absl::StatusOr<AuthTokens> read = AuthTokens::ReadFile(auth_tokens_file);
    if (!read.ok()) return read.status();
    tokens = std::make_shared<const AuthTokens>(*std::move(read));
  }
  return std::shared_ptr<GrpcAuthenticator>(
      new GrpcAuthenticator(auth_tokens_file, accept_client_certificates, std::move(tokens)));
}

GrpcAuthenticator::GrpcAuthenticator(std::string auth_tokens_file, bool accept_client_certificates,
                                     std::shared_ptr<const AuthTokens> tokens)
    : auth_tokens_file_(std::move(auth_tokens_file)),
      accept_client_certificates_(accept_client_certificates),
      tokens_(std::move(tokens)) {}

absl::Status GrpcAuthenticator::ReloadTokens() {
  if (auth_tokens_file_.empty()) return absl::OkStatus();
  absl::StatusOr<AuthTokens> read = AuthTokens::ReadFile(auth_tokens_file_);
  if (!read.ok()) return read.status();
  auto tokens = std::make_shared<const AuthTokens>(*std::move(read));
  absl::MutexLock lock(&mu_);
  tokens_ = std::move(tokens);
  return absl::OkStatus();
}

std::shared_ptr<const AuthTokens> GrpcAuthenticator::tokens() const {
  absl::MutexLock lock(&mu_);
  return tokens_;
}

grpc::Status GrpcAuthenticator::Process(const InputMetadata& auth_metadata,
                                        grpc::AuthContext* context,
                                        OutputMetadata* consumed_auth_metadata, OutputMetadata*) {
  std::string principal;
  auto authorization = auth_metadata.find("authorization");
  if (authorization != auth_metadata.end()) {
    const absl::string_view value(authorization->second.data(), authorization->second.size());
    std::shared_ptr<const AuthTokens> tokens = this->tokens();
    if (tokens == nullptr) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "this server accepts no bearer tokens (it has no --auth_tokens_file)");
    }
    if (!absl::StartsWithIgnoreCase(value, "Bearer ")) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "the authorization metadata is not \"Bearer TOKEN\"");
    }
    std::optional<std::string> found =
        tokens->PrincipalOf(absl::StripAsciiWhitespace(value.substr(7)));
    if (!found) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unknown bearer token");
    }
    principal = *std::move(found);
    // The token goes no further than this check: handlers never see it.
    consumed_auth_metadata->emplace("authorization", std::string(value));
  } else if (accept_client_certificates_) {
    std::vector<grpc::string_ref> subject =
        context->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME);
    if (!subject.empty()) principal.assign(subject.front().data(), subject.front().size());
  }
  if (principal.empty()) {
    if (absl::StartsWith(PathOf(auth_metadata), kHealthPathPrefix)) return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        accept_client_certificates_
                            ? "no credentials: present a client certificate or a bearer token"
                            : "no credentials: present a bearer token (authorization: Bearer "
                              "TOKEN)");
  }
  // gRPC hands every call of a connection that connection's one AuthContext (the server auth
  // filter refs it, it does not chain a per-call copy), so the principal is set once per
  // connection: adding it per call grew the property list by one each call (memory, and a
  // linear search on every CallPrincipal) and raced with concurrent calls reading it.
  absl::MutexLock lock(&label_mu_);
  std::vector<grpc::string_ref> labelled = context->FindPropertyValues(kPrincipalProperty);
  if (labelled.empty()) {
    context->AddProperty(kPrincipalProperty, principal);
    context->SetPeerIdentityPropertyName(kPrincipalProperty);
    return grpc::Status::OK;
  }
  if (absl::string_view(labelled.front().data(), labelled.front().size()) != principal) {
    // A second identity on one connection cannot be told apart from the first: refused, never
    // mixed up. (Also what a token whose principal a reload renamed meets on an open
    // connection: the client reconnects.)
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "this connection is authenticated as another principal: open a new "
                        "connection for other credentials");
  }
  return grpc::Status::OK;
}

}  // namespace tributary
