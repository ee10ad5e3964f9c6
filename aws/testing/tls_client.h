// A blocking TLS client for tests of HTTPS listeners (aws/http_server.h with HttpTlsOptions, the
// metrics endpoint): the handshake (a CA to trust, a client certificate, ALPN), the peer's
// certificate, and GETs over HTTP/1.1 or HTTP/2 (aws/testing/http2_client.h). Reads give up after
// 10 s (SO_RCVTIMEO: a failure guard). Not thread-safe.
#ifndef TRIBUTARY_AWS_TESTING_TLS_CLIENT_H_
#define TRIBUTARY_AWS_TESTING_TLS_CLIENT_H_

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "aws/testing/http2_client.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace tributary::aws::testing {

// A blocking TLS client connection. Reads give up after 10 s (a failure guard).
class TlsConnection {
 public:
  struct Options {
    std::string ca_file;
    std::string cert_file;  // a client certificate, with key_file
    std::string key_file;
    std::vector<std::string> alpn;  // offered protocols, e.g. {"h2", "http/1.1"}
  };

  TlsConnection(int port, const Options& options)
      : context_(MakeContext(options)), stream_(io_, context_) {
    if (!options.alpn.empty()) {
      std::string wire;
      for (const std::string& p : options.alpn) wire += static_cast<char>(p.size()) + p;
      SSL_set_alpn_protos(stream_.native_handle(), reinterpret_cast<const unsigned char*>(wire.data()),
                          wire.size());
    }
    SSL_set_tlsext_host_name(stream_.native_handle(), "localhost");
    stream_.set_verify_callback(boost::asio::ssl::host_name_verification("localhost"));
    stream_.lowest_layer().connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    timeval guard{10, 0};
    setsockopt(stream_.lowest_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &guard,
               sizeof(guard));
  }

  // The handshake's outcome; a refusal by the server may surface on the first read instead
  // (TLS 1.3 sends the client's certificate after the client's handshake ends).
  boost::beast::error_code Handshake() {
    boost::beast::error_code ec;
    stream_.handshake(boost::asio::ssl::stream_base::client, ec);
    return ec;
  }

  std::string Alpn() {
    const unsigned char* data = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(stream_.native_handle(), &data, &length);
    return std::string(reinterpret_cast<const char*>(data), length);
  }

  // The server's certificate, as PEM.
  std::string PeerCertificatePem() {
    X509* cert = SSL_get1_peer_certificate(stream_.native_handle());
    if (cert == nullptr) return "";
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    std::string pem(data, length);
    BIO_free(bio);
    X509_free(cert);
    return pem;
  }

  // GET `target` over HTTP/1.1 with keep-alive: the response, or an error.
  absl::StatusOr<boost::beast::http::response<boost::beast::http::string_body>> Get(const std::string& target) {
    return Send(boost::beast::http::verb::get, target, {});
  }
  // A request without a body, with `headers` (name, value) besides Host.
  absl::StatusOr<boost::beast::http::response<boost::beast::http::string_body>> Send(
      boost::beast::http::verb verb, const std::string& target,
      const std::vector<std::pair<std::string, std::string>>& headers) {
    boost::beast::http::request<boost::beast::http::empty_body> request(verb, target, 11);
    request.set(boost::beast::http::field::host, "localhost");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.prepare_payload();
    boost::beast::error_code ec;
    boost::beast::http::write(stream_, request, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("write: ", ec.message()));
    boost::beast::http::response<boost::beast::http::string_body> response;
    boost::beast::http::read(stream_, buffer_, response, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("read: ", ec.message()));
    return response;
  }

  // HTTP/2: one GET through nghttp2's client session; the response once it ended.
  absl::StatusOr<testing::ClientResponse> Http2Get(const std::string& path) {
    testing::Client client;
    const int32_t id = client.Request("", {}, true, "GET", path);
    char buffer[16 << 10];
    while (!client.response(id).closed) {
      const std::string out = client.TakeOutput();
      boost::beast::error_code ec;
      if (!out.empty()) boost::asio::write(stream_, boost::asio::buffer(out), ec);
      if (ec) return absl::UnavailableError(absl::StrCat("write: ", ec.message()));
      const size_t n = stream_.read_some(boost::asio::buffer(buffer), ec);
      if (ec) return absl::UnavailableError(absl::StrCat("read: ", ec.message()));
      client.Receive(std::string(buffer, n));
    }
    return client.response(id);
  }

  boost::asio::ip::tcp::socket& socket() { return stream_.next_layer(); }

 private:
  // The context is complete before the stream's SSL object is made from it.
  static boost::asio::ssl::context MakeContext(const Options& options) {
    boost::asio::ssl::context context(boost::asio::ssl::context::tls_client);
    context.load_verify_file(options.ca_file);
    context.set_verify_mode(boost::asio::ssl::verify_peer);
    if (!options.cert_file.empty()) {
      context.use_certificate_chain_file(options.cert_file);
      context.use_private_key_file(options.key_file, boost::asio::ssl::context::pem);
    }
    return context;
  }

  boost::asio::io_context io_;
  boost::asio::ssl::context context_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace tributary::aws::testing

#endif  // TRIBUTARY_AWS_TESTING_TLS_CLIENT_H_
