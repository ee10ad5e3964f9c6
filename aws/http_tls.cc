#include "aws/http_tls.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace tributary::aws {
namespace {

namespace ssl = boost::asio::ssl;

// ALPN (RFC 7301): HTTP/2 when the client offers it, else HTTP/1.1; a client offering neither
// gets no protocol (and speaks HTTP/1.1, whose requests the server tells from HTTP/2's preface).
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
               unsigned int in_length, void*) {
  static const unsigned char kPreferred[] = "\x02h2\x08http/1.1";
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kPreferred, sizeof(kPreferred) - 1, in,
                            in_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

absl::StatusOr<std::shared_ptr<ssl::context>> BuildServerTlsContext(const HttpTlsOptions& options) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                       ec);
  context->use_certificate_chain_file(options.cert_file, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls_cert: cannot use ", options.cert_file, ": ", ec.message()));
  }
  context->use_private_key_file(options.key_file, ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls_key: cannot use ", options.key_file, ": ", ec.message()));
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("tls_key: the key in ", options.key_file,
                                                   " is not the key of the certificate in ",
                                                   options.cert_file));
  }
  if (!options.client_ca_file.empty()) {
    context->load_verify_file(options.client_ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("tls_client_ca: cannot use ", options.client_ca_file, ": ", ec.message()));
    }
    ssl::verify_mode mode = ssl::verify_peer;
    if (options.require_client_certificate) mode |= ssl::verify_fail_if_no_peer_cert;
    context->set_verify_mode(mode, ec);
  }
  SSL_CTX_set_alpn_select_cb(context->native_handle(), &SelectAlpn, nullptr);
  return context;
}

bool ServerTlsContext::FileState::operator==(const FileState& other) const {
  return path == other.path && device == other.device && inode == other.inode &&
         size == other.size && mtime.tv_sec == other.mtime.tv_sec &&
         mtime.tv_nsec == other.mtime.tv_nsec;
}

std::vector<ServerTlsContext::FileState> ServerTlsContext::Stat() const {
  std::vector<FileState> files;
  for (const std::string* path :
       {&options_.cert_file, &options_.key_file, &options_.client_ca_file}) {
    if (path->empty()) continue;
    FileState file;
    file.path = *path;
    struct stat st;
    if (stat(path->c_str(), &st) == 0) {
      file.device = st.st_dev;
      file.inode = st.st_ino;
      file.size = st.st_size;
      file.mtime = st.st_mtim;
    }
    files.push_back(file);
  }
  return files;
}

absl::StatusOr<std::unique_ptr<ServerTlsContext>> ServerTlsContext::Create(
    const HttpTlsOptions& options) {
  std::unique_ptr<ServerTlsContext> tls(new ServerTlsContext(options));
  std::vector<FileState> files = tls->Stat();
  absl::StatusOr<std::shared_ptr<ssl::context>> context = BuildServerTlsContext(options);
  if (!context.ok()) return context.status();
  absl::MutexLock lock(&tls->mu_);
  tls->context_ = *std::move(context);
  tls->files_ = std::move(files);
  return tls;
}

std::shared_ptr<ssl::context> ServerTlsContext::Current() {
  std::vector<FileState> files = Stat();
  absl::MutexLock lock(&mu_);
  if (files == files_) return context_;
  files_ = std::move(files);
  absl::StatusOr<std::shared_ptr<ssl::context>> rebuilt = BuildServerTlsContext(options_);
  if (!rebuilt.ok()) {
    LOG(WARNING) << "HTTPS: the certificate files changed but cannot be used yet (keeping the "
                    "previous ones): "
                 << rebuilt.status().message();
    return context_;
  }
  LOG(INFO) << "HTTPS: certificate reloaded from " << options_.cert_file;
  context_ = *std::move(rebuilt);
  return context_;
}

std::string VerifiedPeerSubject(SSL* ssl) {
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return "";
  X509* certificate = SSL_get_peer_certificate(ssl);
  if (certificate == nullptr) return "";
  std::string subject;
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio != nullptr &&
      X509_NAME_print_ex(bio, X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    if (length > 0) subject.assign(data, static_cast<size_t>(length));
  }
  BIO_free(bio);
  X509_free(certificate);
  return subject;
}

}  // namespace tributary::aws
