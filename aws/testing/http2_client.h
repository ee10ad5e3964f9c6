// A test client for the front door's HTTP/2: nghttp2's own client session, driven from memory
// (TakeOutput / Receive), so a test decides when bytes move: http2_session_test connects it to an
// Http2Session directly, http2_server_test to a socket. Not thread-safe.
#ifndef TRIBUTARY_AWS_TESTING_HTTP2_CLIENT_H_
#define TRIBUTARY_AWS_TESTING_HTTP2_CLIENT_H_

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "nghttp2/nghttp2.h"

namespace tributary::aws::testing {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  bool ended = false;      // END_STREAM came
  bool closed = false;     // the stream closed (ended, or reset)
  uint32_t reset_code = 0;  // the close's error code
};

class Client {
 public:
  // With `auto_window` false the client never returns window: a reader that stops reading.
  explicit Client(uint32_t initial_window = 65535, bool auto_window = true) {
    nghttp2_session_callbacks* cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, OnData);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, OnFrame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, OnClose);
    nghttp2_option* option;
    nghttp2_option_new(&option);
    nghttp2_option_set_no_auto_window_update(option, auto_window ? 0 : 1);
    nghttp2_session_client_new2(&session_, cb, this, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, initial_window}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 1);
  }
  ~Client() { nghttp2_session_del(session_); }
  nghttp2_session* session() { return session_; }

  // Submits a request; returns its stream id. `headers` besides the pseudo-headers. With
  // `complete` false the body is sent without END_STREAM (a body still coming).
  int32_t Request(const std::string& body,
                  std::vector<std::pair<std::string, std::string>> headers = {},
                  bool complete = true, const std::string& method = "POST",
                  const std::string& path = "/") {
    std::vector<std::pair<std::string, std::string>> fields = {
        {":method", method}, {":scheme", "http"}, {":path", path}, {":authority", "example:4566"}};
    for (auto& h : headers) fields.push_back(h);
    std::vector<nghttp2_nv> nva;
    for (auto& [n, v] : fields) {
      nva.push_back({reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()),
                     n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
    }
    auto owned = std::make_unique<Body>(Body{body, complete});
    nghttp2_data_provider provider;
    provider.source.ptr = owned.get();
    provider.read_callback = ReadBody;
    const int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                              body.empty() ? nullptr : &provider, nullptr);
    bodies_[id] = std::move(owned);
    return id;
  }
  void Reset(int32_t id) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  }
  // The reader reads `bytes` of the stream (returns that much window).
  void Consume(int32_t id, size_t bytes) { nghttp2_session_consume(session_, id, bytes); }

  std::string TakeOutput() {
    std::string out;
    const uint8_t* data;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(session_, &data)) > 0) {
      out.append(reinterpret_cast<const char*>(data), n);
    }
    return out;
  }
  void Receive(const std::string& bytes) {
    ASSERT_EQ(nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                       bytes.size()),
              static_cast<ssize_t>(bytes.size()));
  }
  ClientResponse& response(int32_t id) { return responses_[id]; }

 private:
  static Client& Self(void* p) { return *static_cast<Client*>(p); }
  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void*) {
    auto* body = static_cast<Body*>(source->ptr);
    const size_t n = std::min(length, body->rest.size());
    if (n == 0 && !body->complete) return NGHTTP2_ERR_DEFERRED;
    std::memcpy(buf, body->rest.data(), n);
    body->rest.erase(0, n);
    if (body->rest.empty() && body->complete) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* p) {
    ClientResponse& r = Self(p).responses_[frame->hd.stream_id];
    std::string n(reinterpret_cast<const char*>(name), namelen);
    std::string v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      r.status = std::stoi(v);
    } else {
      r.headers[n] = v;
    }
    return 0;
  }
  static int OnData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len,
                    void* p) {
    Self(p).responses_[id].body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int OnFrame(nghttp2_session*, const nghttp2_frame* frame, void* p) {
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) Self(p).responses_[frame->hd.stream_id].ended = true;
    return 0;
  }
  static int OnClose(nghttp2_session*, int32_t id, uint32_t code, void* p) {
    ClientResponse& r = Self(p).responses_[id];
    r.closed = true;
    r.reset_code = code;
    return 0;
  }

  struct Body {
    std::string rest;
    bool complete;
  };
  nghttp2_session* session_;
  std::map<int32_t, std::unique_ptr<Body>> bodies_;
  std::map<int32_t, ClientResponse> responses_;
};

}  // namespace tributary::aws::testing

#endif  // TRIBUTARY_AWS_TESTING_HTTP2_CLIENT_H_
