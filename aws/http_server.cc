// One Session per HTTP/1.1 connection, driven by Asio completion handlers on the connection's
// strand:
//
//   (TLS: Handshake →) Sniff      → (HTTP/2's preface? → StartHttp2: the socket moves to an Http2Connection)
//   ReadHeader → (too large? → Reply(close) → Discard → close)
//              → (refused by admission control, Content-Length known, no 100-continue, keep-alive?
//                 → Reply → SkipBody (exactly its length) → ReadHeader; otherwise as too large)
//              → (Expect: 100-continue? → write 100 Continue) → ReadBody
//   ReadBody   → (Upgrade: h2c? → 101 → StartHttp2 with the request as stream 1)
//              → (worker thread: handler.Handle) → Reply → ReadHeader (keep-alive) or close
//
// A request is read with an empty-body parser up to the end of its header, so that its size can
// be judged before any of the body is read, then the same parser state moves into a string-body
// parser (Beast's documented way to handle Expect: 100-continue).
//
// Shutdown order: stop accepting and close every registered connection (posted to their
// strands; a work guard keeps the loop alive until all are posted), let the io threads run out
// of work and join them (from then on no request reaches a
// worker), then join the workers (running handler calls finish; the responses they post go to a
// loop that no longer runs and are dropped with it).
//
// TLS: a Session<TlsTcpStream> does the handshake first (bounded by io_timeout), then everything
// above over the TLS stream; its HTTP/2 connection gets the TLS stream. The stream's timers and
// socket are its lowest layer's (Tcp()).
#include "aws/http_server.h"

#include "aws/http2_connection.h"
#include "aws/http_tls.h"
#include "aws/request_admission.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/thread_pool.hpp"
#include "boost/beast/core.hpp"
#include "absl/strings/str_split.h"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "common/host_port.h"
#include "glog/logging.h"

namespace tributary::aws {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::chrono::milliseconds Chrono(absl::Duration d) { return absl::ToChronoMilliseconds(d); }

// Bodies above kSmallBody are read kBodyReadBytes at a time (see Session::ReadBody).
constexpr uint64_t kSmallBody = 4 << 10;
constexpr size_t kBodyReadBytes = 64 << 10;
// Read at a time while telling HTTP/2's preface from an HTTP/1.1 request.
constexpr size_t kSniffBytes = 4 << 10;

// A request asking to continue over cleartext HTTP/2 (RFC 7540 §3.2): "Upgrade: h2c" and one
// HTTP2-Settings header.
bool AsksForH2c(const HttpRequest& request) {
  if (!request.HasHeader("http2-settings")) return false;
  for (absl::string_view token : absl::StrSplit(request.Header("upgrade"), ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(token), "h2c")) return true;
  }
  return false;
}

using PlainTcpStream = beast::tcp_stream;

beast::tcp_stream& Tcp(PlainTcpStream& stream) { return stream; }
beast::tcp_stream& Tcp(TlsTcpStream& stream) { return beast::get_lowest_layer(stream); }

// What an HTTP/2 connection takes over from a session: the socket (cleartext) or the whole TLS
// stream.
tcp::socket TakeForHttp2(PlainTcpStream& stream) { return stream.release_socket(); }
TlsTcpStream TakeForHttp2(TlsTcpStream& stream) { return std::move(stream); }

}  // namespace

class HttpServer::Impl {
 public:
  Impl(const HttpServerOptions& options, HttpHandler& handler,
       std::unique_ptr<ServerTlsContext> tls)
      : options_(options),
        tls_(std::move(tls)),
        handler_(handler),
        acceptor_(net::make_strand(ioc_)),
        workers_(static_cast<size_t>(options.worker_threads)),
        admission_(options.max_pending_requests, options.max_pending_bytes,
                   options.memory_budget) {}

  ~Impl() { Shutdown(); }

  absl::Status Bind(const HostPort& address);
  int port() const { return port_; }
  void Run();
  void Shutdown();

  const HttpServerOptions& options() const { return options_; }
  HttpHandler& handler() { return handler_; }
  net::thread_pool& workers() { return workers_; }
  // Registers a new connection; false once shutting down (the caller drops it).
  bool Register(const std::shared_ptr<ServerConnection>& connection);

  // Admission control (HttpServerOptions::max_pending_*), for both protocols.
  RequestAdmission& admission() { return admission_; }

 private:
  void Accept();

  const HttpServerOptions options_;
  const std::unique_ptr<ServerTlsContext> tls_;  // null: cleartext
  HttpHandler& handler_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  int port_ = 0;
  std::vector<std::thread> io_threads_;
  // Keeps the loop running until Shutdown has posted every close (without it the loop could
  // run out of work between two posts and never run the second).
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  net::thread_pool workers_;
  RequestAdmission admission_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::weak_ptr<ServerConnection>> sessions_ ABSL_GUARDED_BY(mu_);
  size_t prune_at_ ABSL_GUARDED_BY(mu_) = 64;
};

template <class Stream>
class Session : public ServerConnection, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server)
      : stream_(std::move(socket)),
        executor_(stream_.get_executor()),
        server_(server),
        options_(server->options()) {}
  Session(tcp::socket socket, HttpServer::Impl* server,
          std::shared_ptr<net::ssl::context> context)
      : context_(std::move(context)),
        stream_(std::move(socket), *context_),
        executor_(stream_.get_executor()),
        server_(server),
        options_(server->options()) {}

  void Start() {
    net::dispatch(executor_, [self = this->shared_from_this()] {
      if constexpr (std::is_same_v<Stream, TlsTcpStream>) {
        self->Handshake();
      } else {
        self->Sniff();
      }
    });
  }

  // From any thread: closes the connection (pending operations complete with an error).
  void Close() override {
    net::post(executor_, [self = this->shared_from_this()] { self->CloseNow(); });
  }

 private:
  void Handshake() {
    Tcp(stream_).expires_after(Chrono(options_.io_timeout));
    stream_.async_handshake(net::ssl::stream_base::server,
                            [self = this->shared_from_this()](beast::error_code ec) {
                              if (ec) return self->CloseNow();
                              Tcp(self->stream_).expires_never();
                              self->peer_subject_ = VerifiedPeerSubject(self->stream_.native_handle());
                              self->Sniff();
                            });
  }

  // Reads until the first bytes tell HTTP/2's preface from anything else (an HTTP/1.1 request
  // differs from it by its second byte at the latest: no method is "PRI").
  void Sniff() {
    if (closed_) return;
    const auto data = buffer_.data();
    const absl::string_view have(static_cast<const char*>(data.data()), data.size());
    const size_t n = std::min(have.size(), kHttp2Preface.size());
    if (have.substr(0, n) != kHttp2Preface.substr(0, n)) return ReadHeader();
    if (n == kHttp2Preface.size()) return StartHttp2(std::nullopt);
    Tcp(stream_).expires_after(
        Chrono(have.empty() ? options_.idle_timeout : options_.io_timeout));
    stream_.async_read_some(buffer_.prepare(kSniffBytes),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->CloseNow();
                              self->buffer_.commit(n);
                              self->Sniff();
                            });
  }

  // Hands the socket, and what was read from it, to an HTTP/2 connection; this session ends.
  void StartHttp2(std::optional<Http2Upgrade> upgrade) {
    const auto data = buffer_.data();
    std::string received(static_cast<const char*>(data.data()), data.size());
    buffer_.consume(buffer_.size());
    Tcp(stream_).expires_never();
    if (upgrade) {
      upgrade->admitted_cost = *admitted_bytes_;  // the slot moves with the request
      admitted_bytes_.reset();
    }
    closed_ = true;
    closed_flag_.store(true);
    handed_off_ = true;  // stream_ is the connection's from here
    auto connection = std::make_shared<Http2Connection<decltype(TakeForHttp2(stream_))>>(
        TakeForHttp2(stream_), options_, server_->handler(), server_->admission(),
        server_->workers());
    if (!server_->Register(connection)) {  // shutting down: the socket closes with it
      if (upgrade) server_->admission().Release(upgrade->admitted_cost);
      return;
    }
    connection->Start(std::move(received), std::move(upgrade));
  }

  // "Upgrade: h2c": 101, then the request is answered over HTTP/2.
  void SwitchToHttp2() {
    Http2Upgrade upgrade;
    upgrade.http2_settings = std::string(request_.Header("http2-settings"));
    upgrade.request = std::move(request_);
    switching_.emplace(http::status::switching_protocols, 11);
    switching_->set(http::field::connection, "Upgrade");
    switching_->set(http::field::upgrade, "h2c");
    Tcp(stream_).expires_after(Chrono(options_.io_timeout));
    http::async_write(stream_, *switching_,
                      [self = this->shared_from_this(), upgrade = std::move(upgrade)](
                          beast::error_code ec, size_t) mutable {
                        self->switching_.reset();
                        if (ec) return self->CloseNow();
                        self->StartHttp2(std::move(upgrade));
                      });
  }

  void CloseNow() {
    if (handed_off_) return;
    closed_ = true;
    closed_flag_.store(true);
    beast::error_code ec;
    Tcp(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    Tcp(stream_).close();
    EndStream(/*closed=*/true);
    ReleaseAdmission();
  }

  // From a StreamWriter, on any thread: hops onto this session's strand.
  void PostChunk(std::string chunk) {
    net::post(executor_,
              [self = this->shared_from_this(), chunk = std::move(chunk)]() mutable {
                self->QueueChunk(std::move(chunk));
              });
  }
  void PostFinish() {
    net::post(executor_, [self = this->shared_from_this()] {
      self->stream_finishing_ = true;
      self->PumpChunks();
    });
  }

  void ReadHeader() {
    if (closed_) return;
    header_parser_.emplace();
    header_parser_->header_limit(options_.max_header_bytes);
    // Judged in OnHeader, before the body is read. Not boost::none: Beast 1.74 compares the
    // Content-Length with the optional limit, and any length is "greater" than none.
    header_parser_->body_limit(std::numeric_limits<uint64_t>::max());
    Tcp(stream_).expires_after(
        Chrono(buffer_.size() > 0 ? options_.io_timeout : options_.idle_timeout));
    http::async_read_header(
        stream_, buffer_, *header_parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& message = header_parser_->get();
    request_ = HttpRequest();
    request_.method = std::string(message.method_string());
    request_.target = std::string(message.target());
    request_.peer_subject = peer_subject_;
    for (const auto& field : message) {
      request_.headers.emplace_back(absl::AsciiStrToLower(std::string(field.name_string())),
                                    std::string(field.value()));
    }
    keep_alive_ = message.keep_alive();
    const bool expect_continue =
        absl::EqualsIgnoreCase(std::string(message[http::field::expect]), "100-continue");
    const boost::optional<uint64_t> length = header_parser_->content_length();
    if (length && *length > options_.max_body_bytes) return BodyTooLarge();
    const uint64_t cost = length ? *length : options_.max_body_bytes;
    int pending_requests = 0;
    uint64_t pending_bytes = 0;
    if (!server_->admission().Admit(cost, &pending_requests, &pending_bytes)) {
      HttpResponse refusal = server_->handler().Overloaded(request_, pending_requests,
                                                           pending_bytes);
      // A body of known length that the client sends anyway (no 100-continue to wait for) is
      // skipped and the connection kept: the client's retry needs no new connection, which
      // costs either side more than skipping the bytes (BENCHMARKS.md, issue 22).
      if (length && !expect_continue && keep_alive_ && *length <= options_.max_discard_bytes) {
        return RefuseAndSkipBody(std::move(refusal), *length);
      }
      return Refuse(std::move(refusal));
    }
    admitted_bytes_ = cost;
    if (expect_continue) {
      continue_.emplace(http::status::continue_, message.version());
      Tcp(stream_).expires_after(Chrono(options_.io_timeout));
      http::async_write(stream_, *continue_,
                        [self = this->shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return self->CloseNow();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    body_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    body_parser_->body_limit(options_.max_body_bytes);
    // Beast reads at most the buffer's free capacity (at least 512 bytes) at a time, and the
    // buffer does not grow while the parser keeps consuming it: a large body would arrive in
    // header-sized pieces, a syscall and a timer reset each (a 2.7 MB PutRecords took 200 ms).
    // Room for 64 KiB reads (Beast's own cap per read) makes it a few dozen.
    if (body_parser_->content_length().value_or(0) > kSmallBody) {
      buffer_.reserve(buffer_.size() + kBodyReadBytes);
    }
    Tcp(stream_).expires_after(Chrono(options_.io_timeout));
    http::async_read(
        stream_, buffer_, *body_parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (ec == http::error::body_limit) return BodyTooLarge();
    if (ec) return OnReadError(ec);
    request_.body = std::move(body_parser_->get().body());
    body_parser_.reset();
    Tcp(stream_).expires_never();
    if (AsksForH2c(request_)) return SwitchToHttp2();
    net::post(
        server_->workers(),
        [self = this->shared_from_this(), request = std::move(request_)]() mutable {
          HttpResponse response = self->server_->handler().Handle(std::move(request));
          net::post(self->executor_, [self, response = std::move(response)]() mutable {
            self->Reply(std::move(response), /*close=*/!self->keep_alive_);
          });
        });
  }

  void OnReadError(beast::error_code ec) {
    const bool http_parse_error =
        ec.category() == http::make_error_code(http::error::bad_target).category();
    if (ec == http::error::end_of_stream || closed_ || !http_parse_error) {
      // The client closed or went quiet, we are shutting down, or the socket failed: nothing to
      // answer.
      return CloseNow();
    }
    // A malformed request or an oversized header: say so, then close.
    HttpResponse response;
    response.status = 400;
    response.headers.emplace_back("Content-Type", "text/plain");
    response.body = absl::StrCat("malformed HTTP request: ", ec.message(), "\n");
    Reply(std::move(response), /*close=*/true);
  }

  void BodyTooLarge() {
    Refuse(server_->handler().BodyTooLarge(request_, options_.max_body_bytes));
  }

  // Answers a request whose body is not read; the rest of it is drained and the connection
  // closed (Discard), so that a client writing its whole body first still reads the answer.
  void Refuse(HttpResponse response) {
    header_parser_.reset();
    body_parser_.reset();
    Reply(std::move(response), /*close=*/true);
  }

  // Answers a request refused by admission control whose body (`length` bytes, not read yet)
  // follows; the body is then read and dropped (SkipBody) and the next request read from the
  // same connection.
  void RefuseAndSkipBody(HttpResponse response, uint64_t length) {
    header_parser_.reset();
    body_parser_.reset();
    skip_body_ = length;
    Reply(std::move(response), /*close=*/false);
  }

  // Drops the rest of a refused request's body (exactly its length: a pipelined request after
  // it stays in the buffer), then reads the next request.
  void SkipBody() {
    if (closed_) return;
    const uint64_t buffered = std::min<uint64_t>(buffer_.size(), skip_body_);
    buffer_.consume(buffered);
    skip_body_ -= buffered;
    if (skip_body_ == 0) return ReadHeader();
    scratch_.resize(kBodyReadBytes);
    Tcp(stream_).expires_after(Chrono(options_.io_timeout));
    stream_.async_read_some(
        net::buffer(scratch_.data(), std::min<uint64_t>(skip_body_, scratch_.size())),
        [self = this->shared_from_this()](beast::error_code ec, size_t n) {
          if (ec) return self->CloseNow();
          self->skip_body_ -= n;
          self->SkipBody();
        });
  }

  // Gives back the admission slot of the request in progress, if any.
  void ReleaseAdmission() {
    if (admitted_bytes_) {
      server_->admission().Release(*admitted_bytes_);
      admitted_bytes_.reset();
    }
  }

  void Reply(HttpResponse response, bool close) {
    if (closed_) {
      if (response.stream != nullptr) response.stream->OnClosed();
      return;
    }
    if (response.stream != nullptr) return ReplyStream(std::move(response));
    response_.emplace();
    response_->version(11);
    response_->result(static_cast<unsigned>(response.status));
    response_->set(http::field::server, "tributary");
    for (auto& [name, value] : response.headers) response_->insert(name, value);
    response_->body() = std::move(response.body);
    response_->keep_alive(!close);
    response_->prepare_payload();
    Tcp(stream_).expires_after(Chrono(options_.io_timeout));
    http::async_write(stream_, *response_,
                      [self = this->shared_from_this(), close](beast::error_code ec, size_t) {
                        self->response_.reset();
                        self->ReleaseAdmission();
                        if (ec) return self->CloseNow();
                        if (close) return self->Discard();
                        if (self->skip_body_ > 0) return self->SkipBody();
                        self->ReadHeader();
                      });
  }

  // A streamed response: the head (chunked), then the stream's chunks as it writes them, one
  // write on the wire at a time, then the last chunk and the end of the connection. While it
  // streams, a read is kept pending so that a client that goes away is noticed at once (and the
  // session lives as long as the connection does); that read is also why a streamed response
  // always ends its connection rather than reading the next request.
  void ReplyStream(HttpResponse response) {
    response_stream_ = std::move(response.stream);
    stream_head_.emplace();
    stream_head_->version(11);
    stream_head_->result(static_cast<unsigned>(response.status));
    stream_head_->set(http::field::server, "tributary");
    for (auto& [name, value] : response.headers) stream_head_->insert(name, value);
    stream_head_->keep_alive(false);
    stream_head_->chunked(true);
    head_serializer_.emplace(*stream_head_);
    Tcp(stream_).expires_after(Chrono(options_.io_timeout));
    http::async_write_header(
        stream_, *head_serializer_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->CloseNow();
          Tcp(self->stream_).expires_never();
          self->streaming_ = true;
          self->WatchForClose();
          self->response_stream_->Start(std::make_shared<Writer>(self->weak_from_this()));
          self->PumpChunks();
        });
  }

  // Reads (and drops) whatever the client sends while a stream is open; its end or an error
  // closes the connection. Cleartext: from the socket itself, beneath the stream's timer (the
  // writes' deadlines must not end it). TLS: through the TLS stream (a record must be decrypted
  // to be read); it is started with no deadline set, and while it is pending the writes'
  // deadlines do not apply to it (Beast times reads and writes apart).
  void WatchForClose() {
    if (closed_) return;
    scratch_.resize(4 << 10);
    auto on_read = [self = this->shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return self->CloseNow();
      self->discarded_ += n;
      if (self->discarded_ > self->options_.max_discard_bytes) return self->CloseNow();
      self->WatchForClose();
    };
    if constexpr (std::is_same_v<Stream, TlsTcpStream>) {
      stream_.async_read_some(net::buffer(scratch_), std::move(on_read));
    } else {
      stream_.socket().async_read_some(net::buffer(scratch_), std::move(on_read));
    }
  }

  void QueueChunk(std::string chunk) {
    if (closed_ || stream_finishing_ || response_stream_ == nullptr || chunk.empty()) return;
    chunks_.push_back(std::move(chunk));
    PumpChunks();
  }

  void PumpChunks() {
    if (!streaming_ || writing_ || closed_) return;
    if (!chunks_.empty()) {
      writing_ = true;
      chunk_ = std::move(chunks_.front());
      chunks_.pop_front();
      Tcp(stream_).expires_after(Chrono(options_.io_timeout));
      net::async_write(stream_, http::make_chunk(net::buffer(chunk_)),
                       [self = this->shared_from_this()](beast::error_code ec, size_t) {
                         self->writing_ = false;
                         if (ec) return self->CloseNow();
                         Tcp(self->stream_).expires_never();
                         if (self->chunks_.empty() && !self->stream_finishing_ &&
                             self->response_stream_ != nullptr) {
                           self->response_stream_->OnDrained();
                         }
                         self->PumpChunks();
                       });
      return;
    }
    if (!stream_finishing_) return;
    writing_ = true;
    Tcp(stream_).expires_after(Chrono(options_.io_timeout));
    net::async_write(stream_, http::make_chunk_last(),
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       self->writing_ = false;
                       if (ec) return self->CloseNow();
                       self->EndStream(/*closed=*/false);
                       // The pending read sees the client close (or the timer ends it).
                       beast::error_code ignored;
                       Tcp(self->stream_).socket().shutdown(tcp::socket::shutdown_send, ignored);
                       Tcp(self->stream_).expires_after(Chrono(self->options_.io_timeout));
                     });
  }

  // Forgets the stream (telling it when the connection closed under it).
  void EndStream(bool closed) {
    std::shared_ptr<ResponseStream> stream = std::move(response_stream_);
    response_stream_.reset();
    streaming_ = false;
    stream_finishing_ = false;
    chunks_.clear();
    head_serializer_.reset();
    stream_head_.reset();
    if (stream == nullptr) return;
    if (closed) {
      stream->OnClosed();
    } else {
      stream->OnFinished();
    }
  }

  // The StreamWriter a ResponseStream gets: posts onto the session, which may be gone.
  class Writer : public StreamWriter {
   public:
    explicit Writer(std::weak_ptr<Session> session) : session_(std::move(session)) {}
    bool Write(std::string chunk) override {
      if (done_.load()) return false;
      std::shared_ptr<Session> session = session_.lock();
      if (session == nullptr || session->closed_flag_.load()) return false;
      session->PostChunk(std::move(chunk));
      return true;
    }
    void Finish() override {
      if (done_.exchange(true)) return;
      if (std::shared_ptr<Session> session = session_.lock()) session->PostFinish();
    }

   private:
    const std::weak_ptr<Session> session_;
    std::atomic<bool> done_{false};
  };

  // Graceful close: stop sending, read and drop what the client still sends, then close.
  void Discard() {
    if (closed_) return;
    beast::error_code ignored;
    Tcp(stream_).socket().shutdown(tcp::socket::shutdown_send, ignored);
    discarded_ = buffer_.size();
    buffer_.consume(buffer_.size());
    scratch_.resize(64 << 10);
    DiscardMore();
  }

  void DiscardMore() {
    if (closed_ || discarded_ > options_.max_discard_bytes) return CloseNow();
    Tcp(stream_).expires_after(Chrono(options_.io_timeout));
    stream_.async_read_some(net::buffer(scratch_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->CloseNow();
                              self->discarded_ += n;
                              self->DiscardMore();
                            });
  }

  std::shared_ptr<net::ssl::context> context_;  // TLS: what stream_ was made with; kept alive
  Stream stream_;
  const net::any_io_executor executor_;  // the strand; usable after stream_ is handed off
  HttpServer::Impl* server_;
  const HttpServerOptions& options_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::string_body>> body_parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<http::response<http::empty_body>> switching_;  // 101 for "Upgrade: h2c"
  std::optional<http::response<http::string_body>> response_;
  // A streamed response (ReplyStream): the head, its serializer, the stream, the chunks queued
  // and the one being written.
  std::optional<http::response<http::empty_body>> stream_head_;
  std::optional<http::response_serializer<http::empty_body>> head_serializer_;
  std::shared_ptr<ResponseStream> response_stream_;
  std::deque<std::string> chunks_;
  std::string chunk_;
  bool streaming_ = false;                // the head is sent: chunks may go
  bool writing_ = false;                  // a chunk (or the last one) is on its way
  bool stream_finishing_ = false;         // Finish was called: the last chunk follows the queue
  std::atomic<bool> closed_flag_{false};  // closed_, readable from writers' threads
  HttpRequest request_;
  std::string peer_subject_;  // of the TLS handshake (HttpRequest::peer_subject)
  // The admitted request's counted bytes, from its header until its response is written.
  std::optional<uint64_t> admitted_bytes_;
  bool keep_alive_ = true;
  bool closed_ = false;
  bool handed_off_ = false;  // to an HTTP/2 connection: stream_ is moved from
  uint64_t discarded_ = 0;
  uint64_t skip_body_ = 0;  // bytes of a refused request's body still to drop (SkipBody)
  std::vector<char> scratch_;
};

absl::Status HttpServer::Impl::Bind(const HostPort& address) {
  beast::error_code ec;
  tcp::resolver resolver(ioc_);
  auto endpoints = resolver.resolve(address.host, std::to_string(address.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return absl::UnavailableError(
        absl::StrCat("resolving ", address.ToString(), ": ", ec ? ec.message() : "no address"));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto fail = [&](const char* what) {
    return absl::UnavailableError(absl::StrCat(what, " ", address.ToString(), ": ", ec.message()));
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("opening");
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail("configuring");
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("binding");
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listening on");
  port_ = acceptor_.local_endpoint(ec).port();
  if (ec) return fail("reading the port of");
  return absl::OkStatus();
}

void HttpServer::Impl::Run() {
  work_.emplace(net::make_work_guard(ioc_));
  Accept();
  for (int i = 0; i < options_.io_threads; ++i) {
    io_threads_.emplace_back([this] { ioc_.run(); });
  }
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      LOG_EVERY_N(WARNING, 100) << "HTTP server: accept failed: " << ec.message();
    } else {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (tls_ != nullptr) {
        auto session = std::make_shared<Session<TlsTcpStream>>(std::move(socket), this,
                                                                tls_->Current());
        if (Register(session)) session->Start();
      } else {
        auto session = std::make_shared<Session<PlainTcpStream>>(std::move(socket), this);
        if (Register(session)) session->Start();
      }
    }
    Accept();
  });
}

bool HttpServer::Impl::Register(const std::shared_ptr<ServerConnection>& session) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return false;
  if (sessions_.size() >= prune_at_) {
    std::vector<std::weak_ptr<ServerConnection>> live;
    for (auto& s : sessions_) {
      if (!s.expired()) live.push_back(std::move(s));
    }
    sessions_ = std::move(live);
    prune_at_ = std::max<size_t>(64, 2 * sessions_.size());
  }
  sessions_.push_back(session);
  return true;
}

void HttpServer::Impl::Shutdown() {
  std::vector<std::weak_ptr<ServerConnection>> sessions;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    sessions.swap(sessions_);
  }
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  for (auto& weak : sessions) {
    if (std::shared_ptr<ServerConnection> s = weak.lock()) s->Close();
  }
  // With the acceptor and every connection closed, the loop runs out of work.
  work_.reset();
  for (std::thread& t : io_threads_) t.join();
  io_threads_.clear();
  workers_.join();
  ioc_.stop();
  absl::MutexLock lock(&mu_);
  stopped_ = true;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              HttpHandler& handler) {
  absl::StatusOr<HostPort> address = ParseHostPort(options.listen_address, AddressUse::kListen);
  if (!address.ok()) return address.status();
  if (options.io_threads < 1 || options.worker_threads < 1) {
    return absl::InvalidArgumentError("HTTP server: io_threads and worker_threads must be >= 1");
  }
  std::unique_ptr<ServerTlsContext> tls;
  if (options.tls.enabled()) {
    absl::StatusOr<std::unique_ptr<ServerTlsContext>> created =
        ServerTlsContext::Create(options.tls);
    if (!created.ok()) return created.status();
    tls = *std::move(created);
  }
  auto impl = std::make_unique<Impl>(options, handler, std::move(tls));
  if (absl::Status s = impl->Bind(*address); !s.ok()) {
    impl->Shutdown();
    return s;
  }
  impl->Run();
  const int port = impl->port();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl), port));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), port_(port) {}

HttpServer::~HttpServer() { Shutdown(); }

void HttpServer::Shutdown() { impl_->Shutdown(); }

}  // namespace tributary::aws
