// Internal to HttpServer (//aws:http_server): the TLS context of an HTTPS listener, rebuilt from
// its files when they change, so that a renewed certificate serves new connections without a
// restart while open connections keep the context they were made with.
#ifndef TRIBUTARY_AWS_HTTP_TLS_H_
#define TRIBUTARY_AWS_HTTP_TLS_H_

#include <openssl/ssl.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "aws/http_server.h"
#include "boost/asio/ssl/context.hpp"

namespace tributary::aws {

// Thread-safe.
class ServerTlsContext {
 public:
  // Builds the context from `options` (cert_file set). Errors: INVALID_ARGUMENT naming the file
  // that cannot be read or used (a key that does not match the certificate, a CA file without
  // a certificate).
  static absl::StatusOr<std::unique_ptr<ServerTlsContext>> Create(const HttpTlsOptions& options);

  // The context for a new connection. When a file changed since the last build (its size,
  // modification time or inode, checked with stat on each call), the context is rebuilt first;
  // if that fails (a half-replaced key and certificate pair) the previous one is returned and
  // the failure logged once per change.
  std::shared_ptr<boost::asio::ssl::context> Current();

 private:
  struct FileState {
    std::string path;
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    struct timespec mtime = {};
    bool operator==(const FileState& other) const;
  };
  explicit ServerTlsContext(const HttpTlsOptions& options) : options_(options) {}
  std::vector<FileState> Stat() const;

  const HttpTlsOptions options_;
  absl::Mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> context_ ABSL_GUARDED_BY(mu_);
  std::vector<FileState> files_ ABSL_GUARDED_BY(mu_);  // as of the last build attempt
};

// Builds a server context from `options`: TLS 1.2 or later, the certificate chain and key,
// ALPN choosing "h2" when the client offers it (else "http/1.1"), and with client_ca_file client
// certificates requested and verified (required with require_client_certificate). Errors: as
// ServerTlsContext::Create.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> BuildServerTlsContext(
    const HttpTlsOptions& options);

// The subject (RFC 2253, as gRPC's x509_subject: "CN=alice,O=ops") of the certificate the peer
// of `ssl` presented, when the handshake verified it against the client CAs; empty when the
// peer presented none or it did not verify.
std::string VerifiedPeerSubject(SSL* ssl);

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_HTTP_TLS_H_
