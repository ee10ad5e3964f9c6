// Http2Session: the HTTP/2 side of one front-door connection, on nghttp2's server session. It is
// only a transport: every request goes to the same HttpHandler (the router) that HTTP/1.1
// requests go to, and every response — a plain body or a ResponseStream (SubscribeToShard's
// event stream) — comes back through the same HttpResponse.
//
// No socket here: the connection (http2_connection.h) feeds it the bytes it reads (Receive) and
// writes the bytes it takes (TakeOutput, then OutputWritten), so tests drive it from memory with
// an nghttp2 client session (http2_session_test.cc).
//
// Per stream, as HTTP/1.1 does it per request:
//   - the head (HEADERS + CONTINUATION) is judged before any of the body is taken: header fields
//     over max_header_bytes (counted as SETTINGS_MAX_HEADER_LIST_SIZE counts them, name + value
//     + 32 a field) → 400; a Content-Length over max_body_bytes → HttpHandler::BodyTooLarge;
//     past admission control → HttpHandler::Overloaded. Such an answer is sent at once, the rest
//     of the request's DATA is dropped, and the stream is reset with NO_ERROR after the answer
//     (RFC 9113 §8.1) — the connection and its other streams go on;
//   - a body growing past max_body_bytes without a Content-Length → BodyTooLarge, likewise;
//   - a complete request runs HttpHandler::Handle on a worker (`work`); its response is sent
//     when it comes back (`post`). Responses go out in whatever order they finish;
//   - `:authority` is the request's `host` header when it has none (HTTP/2 clients sign the
//     authority as "host" for SigV4);
//   - a streamed response is sent as DATA frames carrying the stream's chunks (no chunked
//     encoding). Flow control: nghttp2 asks for data only while the peer's stream and connection
//     windows are open, and OnDrained comes only after everything the stream wrote was taken
//     into frames and written to the socket — so a reader that stops reading (its window shut)
//     stops OnDrained, and a producer that writes one chunk per OnDrained (KinesisEventStream)
//     holds one chunk here. OnFinished comes once its last frame is written; OnClosed when the
//     client resets the stream, the connection ends first, or the stream was gone before the
//     head could be sent;
//   - admission slots are held from the head until the response is written (a streamed response:
//     until its head is sent), or until the stream or connection ends.
// Per connection: at most max_concurrent_streams streams at once (SETTINGS_MAX_CONCURRENT_STREAMS;
// nghttp2 refuses more with REFUSED_STREAM); a protocol error (a malformed frame, a bad preface,
// a flood) makes Receive fail and queues a GOAWAY for the connection to send before closing.
//
// Threads: not thread-safe. Every method, and every task given to `post`, runs on one thread at a
// time (the connection's strand). `work` tasks run elsewhere and come back through `post`.
// StreamWriters handed to ResponseStreams are thread-safe (they post).
//
// Lifetime: owned by shared_ptr (posted tasks hold weak references). `handler` and `admission`
// must outlive it, and `post` must run or destroy its tasks before they are destroyed.
#ifndef TRIBUTARY_AWS_HTTP2_SESSION_H_
#define TRIBUTARY_AWS_HTTP2_SESSION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aws/http_message.h"
#include "aws/request_admission.h"

struct nghttp2_session;

namespace tributary::aws {

// The client connection preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"): a connection whose first
// bytes are these speaks HTTP/2 with prior knowledge.
inline constexpr absl::string_view kHttp2Preface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);

struct Http2SessionOptions {
  // SETTINGS_MAX_CONCURRENT_STREAMS.
  uint32_t max_concurrent_streams = 100;
  // SETTINGS_MAX_HEADER_LIST_SIZE, and the limit of a request's header fields (bytes).
  uint32_t max_header_bytes = 64 << 10;
  // The largest request body read (bytes); larger ones get HttpHandler::BodyTooLarge.
  uint64_t max_body_bytes = 12 << 20;
  // How much of a request body a client may send ahead on one stream (SETTINGS_INITIAL_WINDOW_SIZE)
  // and on the connection, in bytes. Bodies are taken as they come (memory is bounded by
  // admission control, not by windows), so these only need to cover a round trip.
  uint32_t stream_window_bytes = 1 << 20;
  uint32_t connection_window_bytes = 16 << 20;
};

class Http2Session : public std::enable_shared_from_this<Http2Session> {
 public:
  using Task = std::function<void()>;
  using Executor = std::function<void(Task)>;

  struct Environment {
    HttpHandler* handler = nullptr;
    RequestAdmission* admission = nullptr;
    // Every request's HttpRequest::peer_subject (the connection's verified client certificate).
    std::string peer_subject;
    // Runs a task later on this session's thread, after the one running (never inline).
    Executor post;
    // Runs a task that may block (HttpHandler::Handle) on another thread.
    Executor work;
    // Called on the session's thread when output may be ready outside Receive (a response or a
    // streamed chunk came): the connection then calls TakeOutput.
    std::function<void()> output_ready;
  };

  // A session whose SETTINGS (the server preface) are queued. INTERNAL when nghttp2 fails to
  // allocate.
  static absl::StatusOr<std::shared_ptr<Http2Session>> Create(const Http2SessionOptions& options,
                                                              Environment environment);
  ~Http2Session();

  // HTTP/1.1 "Upgrade: h2c": `request` (read completely over HTTP/1.1, admitted for
  // `admitted_cost` bytes, which this session now releases) becomes stream 1, answered over
  // HTTP/2; `http2_settings` is its HTTP2-Settings header (base64url SETTINGS payload). Call once,
  // right after Create, before Receive. INVALID_ARGUMENT for a malformed HTTP2-Settings (the
  // slot is released then too).
  absl::Status Upgrade(HttpRequest request, absl::string_view http2_settings,
                       uint64_t admitted_cost);

  // Feeds bytes read from the connection (starting with the client preface). An error means the
  // connection is broken (a bad preface, a flood, a fatal protocol error): send what TakeOutput
  // still gives (a GOAWAY), then close. Stream-level errors are not errors here.
  absl::Status Receive(absl::string_view bytes);

  // Appends the frames ready to send to *out, stopping once it holds about `max_bytes`; returns
  // whether anything was appended. Call again (after OutputWritten) until it returns false.
  bool TakeOutput(std::string* out, size_t max_bytes);
  // Everything TakeOutput gave has been written to the socket: streams whose chunks all went out
  // hear OnDrained, and finished streams OnFinished.
  void OutputWritten();

  // False once the connection has nothing left to do (GOAWAY exchanged, or a fatal error):
  // close it after writing what TakeOutput gives.
  bool Active() const;
  // Streams open now (requests being read, run or answered).
  int open_streams() const { return static_cast<int>(streams_.size()); }

  // The connection is gone: every stream ends (ResponseStreams hear OnClosed, admission slots are
  // released); responses that come later are dropped. Idempotent.
  void Close();

 private:
  struct Stream;
  class Writer;
  friend struct Http2Callbacks;

  Http2Session(const Http2SessionOptions& options, Environment environment);

  Stream* Find(int32_t stream_id);
  // The head is complete (and, when `end_stream`, the whole request).
  void OnRequestHead(int32_t stream_id, Stream& stream, bool end_stream);
  void OnRequestComplete(int32_t stream_id, Stream& stream);
  void OnBodyBytes(int32_t stream_id, Stream& stream, absl::string_view bytes);
  // Sends `response` for the stream (from a worker, through post).
  void Respond(int32_t stream_id, HttpResponse response);
  // Answers without running the handler (a refusal): the rest of the request is dropped.
  void Refuse(int32_t stream_id, Stream& stream, HttpResponse response);
  void Submit(int32_t stream_id, Stream& stream, HttpResponse response);
  // From Writers, through post.
  void QueueChunk(int32_t stream_id, std::string chunk);
  void FinishStream(int32_t stream_id);
  void Resume(int32_t stream_id, Stream& stream);
  void ReleaseAdmission(Stream& stream);
  // nghttp2's callbacks land here (http2_session.cc).
  ssize_t ReadBody(int32_t stream_id, uint8_t* buf, size_t length, uint32_t* flags);
  void OnFrameSent(int32_t stream_id, uint8_t type, uint8_t flags);
  void OnStreamClosed(int32_t stream_id);

  const Http2SessionOptions options_;
  Environment env_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::unique_ptr<Stream>> streams_;
  // Streams whose queued chunks all went into the output being written / finished streams whose
  // last frame is in it: told OnDrained / OnFinished by OutputWritten.
  std::vector<int32_t> drained_;
  std::vector<std::shared_ptr<ResponseStream>> finished_;
  bool closed_ = false;
  bool broken_ = false;  // a fatal error: nothing more is read
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_HTTP2_SESSION_H_
