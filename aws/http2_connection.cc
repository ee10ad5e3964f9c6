#include "aws/http2_connection.h"

#include "aws/http_tls.h"

#include <chrono>
#include <utility>

#include "boost/asio/dispatch.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/write.hpp"

namespace tributary::aws {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// Bytes read, and written, per socket call.
constexpr size_t kReadBytes = 64 << 10;
constexpr size_t kWriteBytes = 64 << 10;

tcp::socket& RawSocket(tcp::socket& socket) { return socket; }
tcp::socket& RawSocket(TlsTcpStream& stream) {
  return boost::beast::get_lowest_layer(stream).socket();
}

std::string PeerSubjectOf(tcp::socket&) { return ""; }
std::string PeerSubjectOf(TlsTcpStream& stream) { return VerifiedPeerSubject(stream.native_handle()); }

}  // namespace

template <class Stream>
Http2Connection<Stream>::Http2Connection(Stream socket, const HttpServerOptions& options,
                                 HttpHandler& handler, RequestAdmission& admission,
                                 net::thread_pool& workers)
    : socket_(std::move(socket)),
      options_(options),
      handler_(handler),
      admission_(admission),
      workers_(workers),
      timer_(socket_.get_executor()),
      read_buffer_(kReadBytes) {}

template <class Stream>
void Http2Connection<Stream>::Start(std::string received, std::optional<Upgrade> upgrade) {
  net::dispatch(socket_.get_executor(), [self = this->shared_from_this(), received = std::move(received),
                                         upgrade = std::move(upgrade)]() mutable {
    self->Begin(std::move(received), std::move(upgrade));
  });
}

template <class Stream>
void Http2Connection<Stream>::Close() {
  net::post(socket_.get_executor(), [self = this->shared_from_this()] { self->CloseNow(); });
}

template <class Stream>
void Http2Connection<Stream>::Begin(std::string received, std::optional<Upgrade> upgrade) {
  if (closed_) {
    if (upgrade) admission_.Release(upgrade->admitted_cost);
    return;
  }
  Http2SessionOptions options;
  options.max_concurrent_streams = options_.http2_max_concurrent_streams;
  options.max_header_bytes = options_.max_header_bytes;
  options.max_body_bytes = options_.max_body_bytes;
  Http2Session::Environment env;
  env.handler = &handler_;
  env.admission = &admission_;
  env.peer_subject = PeerSubjectOf(socket_);
  env.post = [executor = socket_.get_executor()](Http2Session::Task task) {
    net::post(executor, std::move(task));
  };
  env.work = [&workers = workers_](Http2Session::Task task) { net::post(workers, std::move(task)); };
  env.output_ready = [weak = this->weak_from_this()] {
    if (std::shared_ptr<Http2Connection<Stream>> self = weak.lock()) self->Flush();
  };
  absl::StatusOr<std::shared_ptr<Http2Session>> session =
      Http2Session::Create(options, std::move(env));
  if (!session.ok()) {
    if (upgrade) admission_.Release(upgrade->admitted_cost);
    return CloseNow();
  }
  session_ = *std::move(session);
  if (upgrade) {
    // A malformed HTTP2-Settings: the client was told 101 already, so all it can get is a close.
    if (!session_->Upgrade(std::move(upgrade->request), upgrade->http2_settings,
                           upgrade->admitted_cost)
             .ok()) {
      return CloseNow();
    }
  }
  if (!received.empty() && !Feed(received.data(), received.size())) return Flush();
  Read();
  Flush();
}

template <class Stream>
void Http2Connection<Stream>::Read() {
  if (closed_) return;
  socket_.async_read_some(net::buffer(read_buffer_),
                          [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
                            if (ec) return self->CloseNow();
                            if (self->Feed(self->read_buffer_.data(), n)) self->Read();
                            self->Flush();
                          });
}

template <class Stream>
bool Http2Connection<Stream>::Feed(const char* data, size_t size) {
  if (closed_) return false;
  // An error leaves a GOAWAY to send; Flush closes the connection once it is written.
  const absl::Status status = session_->Receive(absl::string_view(data, size));
  return status.ok() && session_->Active();
}

template <class Stream>
void Http2Connection<Stream>::Flush() {
  if (closed_ || writing_) return;
  output_.clear();
  if (!session_->TakeOutput(&output_, kWriteBytes)) {
    if (!session_->Active()) return CloseNow();
    return ArmTimer();
  }
  writing_ = true;
  ArmTimer();
  net::async_write(socket_, net::buffer(output_),
                   [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
                     self->writing_ = false;
                     if (ec || self->closed_) return self->CloseNow();
                     self->session_->OutputWritten();
                     self->Flush();
                   });
}

// Transport deadlines, as the HTTP/1.1 sessions have them (Asio's steady timers, not the
// injected Clock): a write stalled for io_timeout, or no open stream for idle_timeout, ends the
// connection. Open streams with nothing to write (a subscription between events, or paused by a
// reader's closed window) keep it.
template <class Stream>
void Http2Connection<Stream>::ArmTimer() {
  absl::Duration timeout;
  if (writing_) {
    timeout = options_.io_timeout;
  } else if (session_->open_streams() == 0) {
    timeout = options_.idle_timeout;
  } else {
    ++timer_generation_;
    timer_.cancel();
    return;
  }
  const uint64_t generation = ++timer_generation_;
  timer_.expires_after(absl::ToChronoMilliseconds(timeout));
  timer_.async_wait([self = this->shared_from_this(), generation](boost::system::error_code ec) {
    if (ec || generation != self->timer_generation_) return;
    self->CloseNow();
  });
}

template <class Stream>
void Http2Connection<Stream>::CloseNow() {
  if (closed_) return;
  closed_ = true;
  ++timer_generation_;
  timer_.cancel();
  boost::system::error_code ignored;
  RawSocket(socket_).shutdown(tcp::socket::shutdown_both, ignored);
  RawSocket(socket_).close(ignored);
  if (session_ != nullptr) session_->Close();
}

template class Http2Connection<tcp::socket>;
template class Http2Connection<TlsTcpStream>;

}  // namespace tributary::aws
