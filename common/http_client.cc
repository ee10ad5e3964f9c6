// Each call runs on its connection's own io_context, on the calling thread: the connection is
// used by one call at a time, so no strand or shared event loop is needed, and a blocked caller
// costs no other thread. Every asynchronous step (resolve, connect, handshake, write, read) is run
// with io_context::run_until(deadline); at the deadline the socket is closed, the step's handler
// runs with an error, and the connection is dropped.
#include "common/http_client.h"

#include <openssl/ssl.h>

#include <chrono>
#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "common/host_port.h"

namespace tributary {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

std::string PeerAuthority(const HttpPeer& peer) {
  return HostPort{peer.host, peer.port}.ToString();
}

std::string PeerKey(const HttpPeer& peer) {
  return absl::StrCat(peer.tls ? "https://" : "http://", PeerAuthority(peer));
}

// One connection and the event loop its calls run on.
struct Connection {
  asio::io_context ioc{1};
  std::optional<tcp::socket> plain;
  std::optional<asio::ssl::stream<tcp::socket>> tls;
  beast::flat_buffer buffer;
  bool reused = false;

  tcp::socket& Socket() { return tls ? tls->next_layer() : *plain; }
  void Close() {
    beast::error_code ignored;
    Socket().shutdown(tcp::socket::shutdown_both, ignored);
    Socket().close(ignored);
  }
};

// Runs `c`'s handlers until `done` or `deadline`. At the deadline, closes the connection (the
// pending step completes with an error) and `cancel` (for a resolver), drains the handlers and
// returns false.
template <typename Cancel>
bool Run(Connection& c, const bool& done, SteadyTime deadline, Cancel cancel) {
  c.ioc.restart();
  c.ioc.run_until(deadline);
  if (done) return true;
  cancel();
  c.Close();
  c.ioc.restart();
  c.ioc.run();
  return false;
}
bool Run(Connection& c, const bool& done, SteadyTime deadline) {
  return Run(c, done, deadline, [] {});
}

absl::Status TimedOut(const HttpPeer& peer, absl::string_view step) {
  return absl::DeadlineExceededError(
      absl::StrCat("HTTP request to ", PeerKey(peer), ": deadline passed while ", step));
}

absl::Status Broken(const HttpPeer& peer, absl::string_view step, const beast::error_code& ec) {
  return absl::UnavailableError(
      absl::StrCat("HTTP request to ", PeerKey(peer), ": ", step, ": ", ec.message()));
}

}  // namespace

class HttpClient::Impl {
 public:
  Impl(const HttpClientOptions& options, asio::ssl::context tls_context)
      : options_(options), tls_context_(std::move(tls_context)) {}

  absl::StatusOr<HttpReply> Post(const HttpPeer& peer, absl::string_view target, std::string body,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 absl::Duration timeout) {
    const SteadyTime deadline =
        std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
    http::request<http::string_body> request{http::verb::post,
                                             beast::string_view(target.data(), target.size()), 11};
    request.set(http::field::host, PeerAuthority(peer));
    request.set(http::field::user_agent, "tributary");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = std::move(body);
    request.prepare_payload();
    request.keep_alive(true);

    std::unique_ptr<Connection> c = TakeIdle(peer);
    if (c != nullptr) {
      bool retry = false;
      absl::StatusOr<HttpReply> reply = Exchange(peer, c, request, deadline, &retry);
      if (!retry) return Finish(peer, std::move(c), std::move(reply));
      // The server closed the idle connection: send the request on a new one.
    }
    c = std::make_unique<Connection>();
    if (absl::Status s = Connect(peer, *c, deadline); !s.ok()) return s;
    bool retry = false;
    absl::StatusOr<HttpReply> reply = Exchange(peer, c, request, deadline, &retry);
    return Finish(peer, std::move(c), std::move(reply));
  }

  int IdleConnections(const HttpPeer& peer) const {
    absl::MutexLock lock(&mu_);
    auto it = idle_.find(PeerKey(peer));
    return it == idle_.end() ? 0 : static_cast<int>(it->second.size());
  }

 private:
  std::unique_ptr<Connection> TakeIdle(const HttpPeer& peer) {
    absl::MutexLock lock(&mu_);
    auto it = idle_.find(PeerKey(peer));
    if (it == idle_.end() || it->second.empty()) return nullptr;
    std::unique_ptr<Connection> c = std::move(it->second.back());  // the most recently used
    it->second.pop_back();
    c->reused = true;
    return c;
  }

  // Returns `c` to the pool when the reply left it reusable (`c` is null otherwise).
  absl::StatusOr<HttpReply> Finish(const HttpPeer& peer, std::unique_ptr<Connection> c,
                                   absl::StatusOr<HttpReply> reply) {
    if (c != nullptr) {
      absl::MutexLock lock(&mu_);
      auto& pool = idle_[PeerKey(peer)];
      if (static_cast<int>(pool.size()) < options_.max_idle_per_peer) pool.push_back(std::move(c));
    }
    return reply;
  }

  absl::Status Connect(const HttpPeer& peer, Connection& c, SteadyTime deadline) {
    std::vector<tcp::endpoint> endpoints;
    beast::error_code ec;
    const asio::ip::address address = asio::ip::make_address(peer.host, ec);
    if (!ec) {
      endpoints.emplace_back(address, static_cast<uint16_t>(peer.port));
    } else {
      tcp::resolver resolver(c.ioc);
      bool done = false;
      resolver.async_resolve(peer.host, std::to_string(peer.port),
                             [&](const beast::error_code& e, tcp::resolver::results_type r) {
                               ec = e;
                               for (const auto& entry : r) endpoints.push_back(entry.endpoint());
                               done = true;
                             });
      if (!Run(c, done, deadline, [&] { resolver.cancel(); })) {
        return TimedOut(peer, "resolving the host");
      }
      if (ec) return Broken(peer, "resolving the host", ec);
    }
    c.plain.reset();
    c.tls.reset();
    if (peer.tls) {
      c.tls.emplace(c.ioc, tls_context_);
    } else {
      c.plain.emplace(c.ioc);
    }
    bool done = false;
    asio::async_connect(c.Socket(), endpoints,
                        [&](const beast::error_code& e, const tcp::endpoint&) {
                          ec = e;
                          done = true;
                        });
    if (!Run(c, done, deadline)) return TimedOut(peer, "connecting");
    if (ec) return Broken(peer, "connecting", ec);
    c.Socket().set_option(tcp::no_delay(true), ec);
    if (!peer.tls) return absl::OkStatus();

    beast::error_code not_an_address;
    asio::ip::make_address(peer.host, not_an_address);
    if (not_an_address) {
      // SNI for names (not for addresses, as RFC 6066 says).
      SSL_set_tlsext_host_name(c.tls->native_handle(), peer.host.c_str());
    }
    c.tls->set_verify_callback(asio::ssl::host_name_verification(peer.host));
    done = false;
    c.tls->async_handshake(asio::ssl::stream_base::client, [&](const beast::error_code& e) {
      ec = e;
      done = true;
    });
    if (!Run(c, done, deadline)) return TimedOut(peer, "in the TLS handshake");
    if (ec) return Broken(peer, "TLS handshake", ec);
    return absl::OkStatus();
  }

  template <typename Stream>
  absl::StatusOr<HttpReply> ExchangeOn(const HttpPeer& peer, Connection& c, Stream& stream,
                                       http::request<http::string_body>& request,
                                       SteadyTime deadline, bool* retry, bool* reusable) {
    beast::error_code ec;
    bool done = false;
    http::async_write(stream, request, [&](const beast::error_code& e, size_t) {
      ec = e;
      done = true;
    });
    if (!Run(c, done, deadline)) return TimedOut(peer, "sending the request");
    if (ec) {
      *retry = c.reused;
      return Broken(peer, "sending the request", ec);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_response_body_bytes);
    done = false;
    http::async_read_header(stream, c.buffer, parser, [&](const beast::error_code& e, size_t) {
      ec = e;
      done = true;
    });
    if (!Run(c, done, deadline)) return TimedOut(peer, "waiting for the reply");
    // Boost 1.74's parser compares a Content-Length with its body limit wrongly (an optional
    // against an integer): check it here; chunked bodies are checked by the parser.
    if (!ec && parser.content_length() &&
        *parser.content_length() > options_.max_response_body_bytes) {
      ec = http::error::body_limit;
    }
    if (!ec && !parser.is_done()) {
      done = false;
      http::async_read(stream, c.buffer, parser, [&](const beast::error_code& e, size_t) {
        ec = e;
        done = true;
      });
      if (!Run(c, done, deadline)) return TimedOut(peer, "reading the reply");
    }
    if (ec) {
      *retry = c.reused && !parser.got_some();
      if (ec == http::error::body_limit) {
        return absl::ResourceExhaustedError(
            absl::StrCat("HTTP request to ", PeerKey(peer), ": the reply's body exceeds ",
                         options_.max_response_body_bytes, " bytes"));
      }
      if (ec.category() == beast::error_code(http::error::bad_version).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        return absl::UnknownError(
            absl::StrCat("HTTP request to ", PeerKey(peer), ": malformed reply: ", ec.message()));
      }
      return Broken(peer, "reading the reply", ec);
    }
    http::response<http::string_body> response = parser.release();
    *reusable = response.keep_alive() && c.buffer.size() == 0;
    HttpReply reply;
    reply.status = static_cast<int>(response.result_int());
    for (const auto& field : response) {
      reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    reply.body = std::move(response.body());
    return reply;
  }

  // Sends `request` on `*c` and reads the reply. Sets *retry when a reused connection turned out
  // closed before anything of the reply came. Resets `c` (closing it) unless it may be reused.
  absl::StatusOr<HttpReply> Exchange(const HttpPeer& peer, std::unique_ptr<Connection>& c,
                                     http::request<http::string_body>& request, SteadyTime deadline,
                                     bool* retry) {
    bool reusable = false;
    absl::StatusOr<HttpReply> reply =
        c->tls ? ExchangeOn(peer, *c, *c->tls, request, deadline, retry, &reusable)
               : ExchangeOn(peer, *c, *c->plain, request, deadline, retry, &reusable);
    if (!reusable) {
      c->Close();
      c.reset();
    }
    return reply;
  }

  const HttpClientOptions options_;
  asio::ssl::context tls_context_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_ ABSL_GUARDED_BY(mu_);
};

const std::string* HttpReply::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(const HttpClientOptions& options) {
  if (options.max_idle_per_peer < 0) {
    return absl::InvalidArgumentError("max_idle_per_peer must be >= 0");
  }
  asio::ssl::context tls_context(asio::ssl::context::tls_client);
  beast::error_code ec;
  tls_context.set_verify_mode(asio::ssl::verify_peer, ec);
  if (options.ca_file.empty()) {
    tls_context.set_default_verify_paths(ec);
  } else {
    tls_context.load_verify_file(options.ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat("reading certificate authorities from ",
                                                     options.ca_file, ": ", ec.message()));
    }
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError("a client certificate needs both cert_file and key_file");
  }
  if (!options.cert_file.empty()) {
    tls_context.use_certificate_chain_file(options.cert_file, ec);
    if (!ec) tls_context.use_private_key_file(options.key_file, asio::ssl::context::pem, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat("reading the client certificate ",
                                                     options.cert_file, " and key ",
                                                     options.key_file, ": ", ec.message()));
    }
  }
  return std::unique_ptr<HttpClient>(
      new HttpClient(std::make_unique<Impl>(options, std::move(tls_context))));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

absl::StatusOr<HttpReply> HttpClient::Post(
    const HttpPeer& peer, absl::string_view target, std::string body,
    const std::vector<std::pair<std::string, std::string>>& headers, absl::Duration timeout) {
  return impl_->Post(peer, target, std::move(body), headers, timeout);
}

int HttpClient::IdleConnections(const HttpPeer& peer) const { return impl_->IdleConnections(peer); }

}  // namespace tributary
