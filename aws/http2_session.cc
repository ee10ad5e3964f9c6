// How nghttp2 is used (its server API; the session does no I/O itself):
//   - bytes in: nghttp2_session_mem_recv, whose callbacks build each stream's HttpRequest
//     (on_begin_headers → on_header… → on_frame_recv(HEADERS) → on_data_chunk_recv… →
//     on_frame_recv(DATA, END_STREAM));
//   - bytes out: nghttp2_session_mem_send until it has nothing (or enough) to give;
//   - a response is nghttp2_submit_response with a data provider that reads the stream's body
//     or its queue of chunks. An empty queue answers NGHTTP2_ERR_DEFERRED; a chunk or Finish
//     arriving later calls nghttp2_session_resume_data. nghttp2 calls the provider only while
//     the peer's flow-control windows are open, which is what makes a slow reader pause.
//
// Invariants: streams_ has an entry exactly for the streams nghttp2 has open that began with a
// request HEADERS (or the upgrade); an entry holds an admission slot from its head until its
// response is written (a streamed one: its head), and every ResponseStream handed to Submit
// hears exactly one of OnFinished / OnClosed (at the stream's close, OutputWritten or Close).
#include "aws/http2_session.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nghttp2/nghttp2.h"

namespace tributary::aws {

struct Http2Session::Stream {
  HttpRequest request;
  std::string authority;
  uint64_t header_bytes = 0;
  bool header_too_large = false;
  bool request_complete = false;  // the client's END_STREAM came
  bool refused = false;           // answered without the handler: the rest of the body is dropped
  std::optional<uint64_t> admitted;
  // A plain response's body and how much of it is framed.
  std::string body;
  size_t body_offset = 0;
  // A streamed response, its writer (from Start), the chunks not yet framed.
  std::shared_ptr<ResponseStream> response_stream;
  std::shared_ptr<Writer> writer;
  std::deque<std::string> chunks;
  size_t chunk_offset = 0;  // of chunks.front()
  bool started = false;     // Start was called (the head went out)
  bool finishing = false;   // Finish came: END_STREAM follows the queue
  bool deferred = false;    // the data provider answered DEFERRED
  bool response_complete = false;  // our END_STREAM went out
};

// The StreamWriter of a streamed response: posts onto the session, which may be gone.
class Http2Session::Writer : public StreamWriter {
 public:
  Writer(std::weak_ptr<Http2Session> session, Executor post, int32_t stream_id)
      : session_(std::move(session)), post_(std::move(post)), stream_id_(stream_id) {}

  bool Write(std::string chunk) override {
    if (done_.load() || closed_.load()) return false;
    if (chunk.empty()) return true;
    post_([session = session_, id = stream_id_, chunk = std::move(chunk)]() mutable {
      if (std::shared_ptr<Http2Session> s = session.lock()) s->QueueChunk(id, std::move(chunk));
    });
    return true;
  }
  void Finish() override {
    if (done_.exchange(true) || closed_.load()) return;
    post_([session = session_, id = stream_id_] {
      if (std::shared_ptr<Http2Session> s = session.lock()) s->FinishStream(id);
    });
  }
  void MarkClosed() { closed_.store(true); }

 private:
  const std::weak_ptr<Http2Session> session_;
  const Executor post_;
  const int32_t stream_id_;
  std::atomic<bool> done_{false};
  std::atomic<bool> closed_{false};
};

// nghttp2's C callbacks, forwarding to the session (user_data).
struct Http2Callbacks {
  static Http2Session& Self(void* user_data) { return *static_cast<Http2Session*>(user_data); }

  static int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    Self(user_data).streams_[frame->hd.stream_id] = std::make_unique<Http2Session::Stream>();
    return 0;
  }

  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                      void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    Http2Session& self = Self(user_data);
    Http2Session::Stream* stream = self.Find(frame->hd.stream_id);
    if (stream == nullptr) return 0;
    // Counted as SETTINGS_MAX_HEADER_LIST_SIZE counts (RFC 9113 §6.5.2). Past the limit the
    // fields are dropped and the request answered 400 once its head is complete.
    stream->header_bytes += name_length + value_length + 32;
    if (stream->header_bytes > self.options_.max_header_bytes) {
      stream->header_too_large = true;
      return 0;
    }
    const absl::string_view n(reinterpret_cast<const char*>(name), name_length);
    const absl::string_view v(reinterpret_cast<const char*>(value), value_length);
    HttpRequest& request = stream->request;
    if (n == ":method") {
      request.method = std::string(v);
    } else if (n == ":path") {
      request.target = std::string(v);
    } else if (n == ":authority") {
      stream->authority = std::string(v);
    } else if (!n.empty() && n[0] != ':') {
      request.headers.emplace_back(std::string(n), std::string(v));  // nghttp2 checked: lower case
    }
    return 0;
  }

  static int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Http2Session& self = Self(user_data);
    const int32_t id = frame->hd.stream_id;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    Http2Session::Stream* stream = self.Find(id);
    if (stream == nullptr) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      self.OnRequestHead(id, *stream, end_stream);
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) && end_stream) {
      self.OnRequestComplete(id, *stream);
    }
    return 0;
  }

  static int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                         size_t length, void* user_data) {
    Http2Session& self = Self(user_data);
    if (Http2Session::Stream* stream = self.Find(stream_id)) {
      self.OnBodyBytes(stream_id, *stream,
                       absl::string_view(reinterpret_cast<const char*>(data), length));
    }
    return 0;
  }

  static int OnFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Self(user_data).OnFrameSent(frame->hd.stream_id, frame->hd.type, frame->hd.flags);
    return 0;
  }

  // A reset's error code changes nothing here: the stream is gone either way.
  static int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user_data) {
    Self(user_data).OnStreamClosed(stream_id);
    return 0;
  }

  static ssize_t ReadBody(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                          uint32_t* flags, nghttp2_data_source*, void* user_data) {
    return Self(user_data).ReadBody(stream_id, buf, length, flags);
  }
};

namespace {

// Header fields HTTP/2 forbids (RFC 9113 §8.2.2); content-length is set here.
bool DroppedResponseField(absl::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name == "content-length";
}

}  // namespace

Http2Session::Http2Session(const Http2SessionOptions& options, Environment environment)
    : options_(options), env_(std::move(environment)) {}

absl::StatusOr<std::shared_ptr<Http2Session>> Http2Session::Create(
    const Http2SessionOptions& options, Environment environment) {
  std::shared_ptr<Http2Session> self(new Http2Session(options, std::move(environment)));
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) {
    return absl::InternalError("HTTP/2: out of memory");
  }
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, Http2Callbacks::OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, Http2Callbacks::OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, Http2Callbacks::OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, Http2Callbacks::OnDataChunk);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, Http2Callbacks::OnFrameSend);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, Http2Callbacks::OnStreamClose);
  const int rv = nghttp2_session_server_new(&self->session_, callbacks, self.get());
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) return absl::InternalError(absl::StrCat("HTTP/2: ", nghttp2_strerror(rv)));
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options.stream_window_bytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, options.max_header_bytes},
  };
  if (int e = nghttp2_submit_settings(self->session_, NGHTTP2_FLAG_NONE, settings,
                                      sizeof(settings) / sizeof(settings[0]));
      e != 0) {
    return absl::InternalError(absl::StrCat("HTTP/2 settings: ", nghttp2_strerror(e)));
  }
  if (int e = nghttp2_session_set_local_window_size(
          self->session_, NGHTTP2_FLAG_NONE, 0,
          static_cast<int32_t>(std::min<uint32_t>(options.connection_window_bytes, INT32_MAX)));
      e != 0) {
    return absl::InternalError(absl::StrCat("HTTP/2 window: ", nghttp2_strerror(e)));
  }
  return self;
}

Http2Session::~Http2Session() { Close(); }

absl::Status Http2Session::Upgrade(HttpRequest request, absl::string_view http2_settings,
                                   uint64_t admitted_cost) {
  auto stream = std::make_unique<Stream>();
  stream->admitted = admitted_cost;
  std::string settings;
  if (!absl::WebSafeBase64Unescape(http2_settings, &settings)) {
    ReleaseAdmission(*stream);
    return absl::InvalidArgumentError("HTTP2-Settings: not base64url");
  }
  const int rv = nghttp2_session_upgrade2(session_, reinterpret_cast<const uint8_t*>(settings.data()),
                                          settings.size(), request.method == "HEAD", nullptr);
  if (rv != 0) {
    ReleaseAdmission(*stream);
    return absl::InvalidArgumentError(absl::StrCat("HTTP2-Settings: ", nghttp2_strerror(rv)));
  }
  stream->request = std::move(request);
  Stream& s = *stream;
  streams_[1] = std::move(stream);
  OnRequestComplete(1, s);
  return absl::OkStatus();
}

absl::Status Http2Session::Receive(absl::string_view bytes) {
  if (closed_ || broken_) return absl::FailedPreconditionError("HTTP/2: connection closed");
  const ssize_t rv = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (rv < 0) {
    broken_ = true;
    nghttp2_session_terminate_session(session_, rv == NGHTTP2_ERR_FLOODED
                                                    ? NGHTTP2_ENHANCE_YOUR_CALM
                                                    : NGHTTP2_PROTOCOL_ERROR);
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP/2: ", nghttp2_strerror(static_cast<int>(rv))));
  }
  return absl::OkStatus();
}

bool Http2Session::TakeOutput(std::string* out, size_t max_bytes) {
  if (closed_) return false;
  const size_t before = out->size();
  while (out->size() - before < max_bytes) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      broken_ = true;  // out of memory: nothing sensible remains to send
      break;
    }
    if (n == 0) break;
    out->append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
  return out->size() > before;
}

void Http2Session::OutputWritten() {
  std::vector<int32_t> drained;
  drained.swap(drained_);
  std::vector<std::shared_ptr<ResponseStream>> finished;
  finished.swap(finished_);
  for (int32_t id : drained) {
    Stream* s = Find(id);
    if (s != nullptr && s->response_stream != nullptr && s->chunks.empty() && !s->finishing) {
      s->response_stream->OnDrained();
    }
  }
  for (const std::shared_ptr<ResponseStream>& stream : finished) stream->OnFinished();
}

bool Http2Session::Active() const {
  if (closed_ || broken_) return false;
  return nghttp2_session_want_read(session_) != 0 || nghttp2_session_want_write(session_) != 0;
}

void Http2Session::Close() {
  if (closed_) return;
  closed_ = true;
  std::map<int32_t, std::unique_ptr<Stream>> streams;
  streams.swap(streams_);
  std::vector<std::shared_ptr<ResponseStream>> finished;
  finished.swap(finished_);
  for (auto& [id, stream] : streams) {
    ReleaseAdmission(*stream);
    if (stream->writer != nullptr) stream->writer->MarkClosed();
    if (stream->response_stream != nullptr) stream->response_stream->OnClosed();
  }
  // Their last frames were taken but never confirmed written.
  for (const std::shared_ptr<ResponseStream>& stream : finished) stream->OnClosed();
  nghttp2_session_del(session_);
  session_ = nullptr;
}

Http2Session::Stream* Http2Session::Find(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second.get();
}

void Http2Session::OnRequestHead(int32_t stream_id, Stream& stream, bool end_stream) {
  HttpRequest& request = stream.request;
  if (!stream.authority.empty() && !request.HasHeader("host")) {
    request.headers.emplace_back("host", stream.authority);
  }
  if (stream.header_too_large) {
    HttpResponse response;
    response.status = 400;
    response.headers.emplace_back("content-type", "text/plain");
    response.body = "malformed HTTP request: header fields too large\n";
    return Refuse(stream_id, stream, std::move(response));
  }
  std::optional<uint64_t> length;
  if (end_stream) {
    length = 0;
  } else if (absl::string_view text = request.Header("content-length"); !text.empty()) {
    uint64_t parsed = 0;
    if (absl::SimpleAtoi(text, &parsed)) length = parsed;  // nghttp2 rejects a malformed one
  }
  if (length && *length > options_.max_body_bytes) {
    return Refuse(stream_id, stream, env_.handler->BodyTooLarge(request, options_.max_body_bytes));
  }
  // Without a Content-Length the body may be as large as the limit, as a chunked HTTP/1.1 body.
  const uint64_t cost = length ? *length : options_.max_body_bytes;
  int pending_requests = 0;
  uint64_t pending_bytes = 0;
  if (!env_.admission->Admit(cost, &pending_requests, &pending_bytes)) {
    return Refuse(stream_id, stream,
                  env_.handler->Overloaded(request, pending_requests, pending_bytes));
  }
  stream.admitted = cost;
  if (length) request.body.reserve(*length);
}

void Http2Session::OnBodyBytes(int32_t stream_id, Stream& stream, absl::string_view bytes) {
  if (stream.refused) return;
  if (stream.request.body.size() + bytes.size() > options_.max_body_bytes) {
    std::string().swap(stream.request.body);
    return Refuse(stream_id, stream,
                  env_.handler->BodyTooLarge(stream.request, options_.max_body_bytes));
  }
  stream.request.body.append(bytes.data(), bytes.size());
}

void Http2Session::OnRequestComplete(int32_t stream_id, Stream& stream) {
  stream.request_complete = true;
  if (stream.refused) return;
  auto request = std::make_shared<HttpRequest>(std::move(stream.request));
  request->peer_subject = env_.peer_subject;
  env_.work([session = weak_from_this(), handler = env_.handler, post = env_.post, request,
             stream_id] {
    auto response = std::make_shared<HttpResponse>(handler->Handle(std::move(*request)));
    post([session, stream_id, response] {
      if (std::shared_ptr<Http2Session> s = session.lock()) {
        s->Respond(stream_id, std::move(*response));
      } else if (response->stream != nullptr) {
        response->stream->OnClosed();
      }
    });
  });
}

void Http2Session::Respond(int32_t stream_id, HttpResponse response) {
  Stream* stream = closed_ ? nullptr : Find(stream_id);
  if (stream == nullptr) {  // reset by the client, or the connection is gone
    if (response.stream != nullptr) response.stream->OnClosed();
    return;
  }
  Submit(stream_id, *stream, std::move(response));
  env_.output_ready();
}

void Http2Session::Refuse(int32_t stream_id, Stream& stream, HttpResponse response) {
  stream.refused = true;
  std::string().swap(stream.request.body);
  Submit(stream_id, stream, std::move(response));
}

void Http2Session::Submit(int32_t stream_id, Stream& stream, HttpResponse response) {
  std::vector<std::pair<std::string, std::string>> fields;
  fields.emplace_back(":status", std::to_string(response.status));
  fields.emplace_back("server", "tributary");
  for (auto& [name, value] : response.headers) {
    std::string lower = absl::AsciiStrToLower(name);
    if (!DroppedResponseField(lower)) fields.emplace_back(std::move(lower), std::move(value));
  }
  const bool streamed = response.stream != nullptr;
  if (!streamed) fields.emplace_back("content-length", std::to_string(response.body.size()));
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size());
  for (auto& [name, value] : fields) {
    nva.push_back({reinterpret_cast<uint8_t*>(name.data()), reinterpret_cast<uint8_t*>(value.data()),
                   name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  nghttp2_data_provider provider;
  provider.source.ptr = nullptr;
  provider.read_callback = Http2Callbacks::ReadBody;
  const bool has_body = streamed || !response.body.empty();
  if (streamed) {
    stream.response_stream = std::move(response.stream);
  } else {
    stream.body = std::move(response.body);
  }
  const int rv = nghttp2_submit_response(session_, stream_id, nva.data(), nva.size(),
                                         has_body ? &provider : nullptr);
  if (rv != 0) {  // a response was already submitted (our bug) or no memory: end the stream
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_INTERNAL_ERROR);
  }
}

void Http2Session::QueueChunk(int32_t stream_id, std::string chunk) {
  Stream* stream = closed_ ? nullptr : Find(stream_id);
  if (stream == nullptr || stream->response_stream == nullptr || stream->finishing) return;
  stream->chunks.push_back(std::move(chunk));
  Resume(stream_id, *stream);
}

void Http2Session::FinishStream(int32_t stream_id) {
  Stream* stream = closed_ ? nullptr : Find(stream_id);
  if (stream == nullptr || stream->response_stream == nullptr) return;
  stream->finishing = true;
  Resume(stream_id, *stream);
}

void Http2Session::Resume(int32_t stream_id, Stream& stream) {
  if (stream.deferred) {
    stream.deferred = false;
    nghttp2_session_resume_data(session_, stream_id);
  }
  env_.output_ready();
}

void Http2Session::ReleaseAdmission(Stream& stream) {
  if (stream.admitted) {
    env_.admission->Release(*stream.admitted);
    stream.admitted.reset();
  }
}

ssize_t Http2Session::ReadBody(int32_t stream_id, uint8_t* buf, size_t length, uint32_t* flags) {
  Stream* stream = Find(stream_id);
  if (stream == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
  if (stream->response_stream == nullptr) {
    const size_t n = std::min(length, stream->body.size() - stream->body_offset);
    std::memcpy(buf, stream->body.data() + stream->body_offset, n);
    stream->body_offset += n;
    if (stream->body_offset == stream->body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  size_t n = 0;
  while (n < length && !stream->chunks.empty()) {
    const std::string& front = stream->chunks.front();
    const size_t take = std::min(length - n, front.size() - stream->chunk_offset);
    std::memcpy(buf + n, front.data() + stream->chunk_offset, take);
    n += take;
    stream->chunk_offset += take;
    if (stream->chunk_offset == front.size()) {
      stream->chunks.pop_front();
      stream->chunk_offset = 0;
    }
  }
  if (stream->chunks.empty()) {
    if (stream->finishing) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (n == 0) {
      stream->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    } else {
      drained_.push_back(stream_id);
    }
  }
  return static_cast<ssize_t>(n);
}

void Http2Session::OnFrameSent(int32_t stream_id, uint8_t type, uint8_t flags) {
  Stream* stream = Find(stream_id);
  if (stream == nullptr) return;
  if (type == NGHTTP2_HEADERS && stream->response_stream != nullptr && !stream->started) {
    stream->started = true;
    ReleaseAdmission(*stream);  // a stream holds no slot once its head is sent
    stream->writer = std::make_shared<Writer>(weak_from_this(), env_.post, stream_id);
    stream->response_stream->Start(stream->writer);
  }
  if ((type == NGHTTP2_HEADERS || type == NGHTTP2_DATA) && (flags & NGHTTP2_FLAG_END_STREAM)) {
    stream->response_complete = true;
    if (!stream->request_complete) {
      // Answered before the request ended (a refusal): ask the client to stop sending.
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_NO_ERROR);
    }
  }
}

void Http2Session::OnStreamClosed(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return;
  std::unique_ptr<Stream> stream = std::move(it->second);
  streams_.erase(it);
  ReleaseAdmission(*stream);
  if (stream->writer != nullptr) stream->writer->MarkClosed();
  if (stream->response_stream != nullptr) {
    if (stream->response_complete) {
      finished_.push_back(std::move(stream->response_stream));
    } else {
      stream->response_stream->OnClosed();
    }
  }
}

}  // namespace tributary::aws
