// Http2Session against a real nghttp2 client session, connected in memory: every byte the
// client writes is fed to the server session and back, with the server's "strand" a queue the
// test runs (Pump). Handler calls run inline (the `work` executor), their responses come back
// through the queue as they would from a worker.
#include "aws/http2_session.h"

#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "aws/http_message.h"
#include "aws/request_admission.h"
#include "aws/testing/http2_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nghttp2/nghttp2.h"

namespace tributary::aws {
namespace {

using ::tributary::aws::testing::Client;
using ::tributary::aws::testing::ClientResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// --- The server's side: a handler and a streamed response under the test's control ---------

// A streamed response that writes the chunks it is given, one per OnDrained (as
// KinesisEventStream writes one event per OnDrained), and records what it heard.
class TestStream : public ResponseStream {
 public:
  // With `finish` false the stream stays open after its chunks (a subscription between events).
  explicit TestStream(std::vector<std::string> chunks, bool finish = true)
      : to_write_(chunks.begin(), chunks.end()), finish_(finish) {}
  void Start(std::shared_ptr<StreamWriter> writer) override {
    events.push_back("Start");
    writer_ = std::move(writer);
    WriteNext();
  }
  void OnDrained() override {
    events.push_back("OnDrained");
    WriteNext();
  }
  void OnFinished() override { events.push_back("OnFinished"); }
  void OnClosed() override { events.push_back("OnClosed"); }
  StreamWriter& writer() { return *writer_; }
  int written = 0;
  std::vector<std::string> events;

 private:
  void WriteNext() {
    if (to_write_.empty()) return;
    if (writer_->Write(to_write_.front())) ++written;
    to_write_.pop_front();
    if (to_write_.empty() && finish_) writer_->Finish();
  }
  std::shared_ptr<StreamWriter> writer_;
  std::deque<std::string> to_write_;
  const bool finish_;
};

class TestHandler : public HttpHandler {
 public:
  HttpResponse Handle(HttpRequest request) override {
    requests.push_back(request);
    if (respond) return respond(request);
    HttpResponse r;
    r.headers.emplace_back("Content-Type", "text/plain");
    r.headers.emplace_back("Connection", "keep-alive");  // HTTP/2 must drop it
    r.body = "echo:" + request.body;
    return r;
  }
  HttpResponse BodyTooLarge(const HttpRequest&, uint64_t limit) override {
    HttpResponse r;
    r.status = 413;
    r.body = absl::StrCat("too large for ", limit);
    return r;
  }
  HttpResponse Overloaded(const HttpRequest&, int requests, uint64_t) override {
    HttpResponse r;
    r.status = 400;
    r.body = absl::StrCat("busy with ", requests);
    return r;
  }
  std::function<HttpResponse(const HttpRequest&)> respond;
  std::vector<HttpRequest> requests;
};

class Http2SessionTest : public ::testing::Test {
 protected:
  void Start(Http2SessionOptions options = {}, RequestAdmission* admission = nullptr) {
    Http2Session::Environment env;
    env.handler = &handler_;
    env.admission = admission != nullptr ? admission : &admission_;
    env.post = [this](Http2Session::Task t) { posted_.push_back(std::move(t)); };
    env.work = [](Http2Session::Task t) { t(); };
    env.output_ready = [] {};
    auto created = Http2Session::Create(options, std::move(env));
    ASSERT_TRUE(created.ok()) << created.status();
    server_ = *std::move(created);
  }
  // Moves bytes both ways and runs posted tasks until nothing moves.
  void Pump() {
    for (int round = 0; round < 10000; ++round) {
      bool moved = false;
      std::string up = client_->TakeOutput();
      if (!up.empty()) {
        moved = true;
        ASSERT_TRUE(server_->Receive(up).ok());
      }
      while (!posted_.empty()) {
        moved = true;
        Http2Session::Task t = std::move(posted_.front());
        posted_.pop_front();
        t();
      }
      std::string down;
      while (server_->TakeOutput(&down, 64 << 10)) {
        moved = true;
        client_->Receive(down);
        down.clear();
        server_->OutputWritten();
      }
      if (!moved) return;
    }
    FAIL() << "the connection never went quiet";
  }
  // A handler answer streamed by a TestStream.
  std::shared_ptr<TestStream> StreamNextResponse(std::vector<std::string> chunks,
                                                 bool finish = true) {
    auto stream = std::make_shared<TestStream>(std::move(chunks), finish);
    handler_.respond = [stream](const HttpRequest&) {
      HttpResponse r;
      r.headers.emplace_back("Content-Type", "application/vnd.amazon.eventstream");
      r.stream = stream;
      return r;
    };
    return stream;
  }

  TestHandler handler_;
  RequestAdmission admission_{256, 512 << 20};
  std::deque<Http2Session::Task> posted_;
  std::unique_ptr<Client> client_ = std::make_unique<Client>();
  std::shared_ptr<Http2Session> server_;
  size_t consumed_ = 0;  // what the slow reader has read
};

TEST_F(Http2SessionTest, ARequestReachesTheHandlerAndItsResponseComesBack) {
  Start();
  const int32_t id = client_->Request("hello", {{"x-amz-target", "Kinesis_20131202.ListShards"},
                                               {"content-length", "5"}});
  Pump();
  ASSERT_EQ(handler_.requests.size(), 1u);
  const HttpRequest& seen = handler_.requests[0];
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/");
  EXPECT_EQ(seen.body, "hello");
  EXPECT_EQ(seen.Header("X-Amz-Target"), "Kinesis_20131202.ListShards");
  EXPECT_EQ(seen.Header("host"), "example:4566") << ":authority stands in for Host (SigV4 signs it)";
  const ClientResponse& r = client_->response(id);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "echo:hello");
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.headers.at("content-type"), "text/plain");
  EXPECT_EQ(r.headers.at("content-length"), "10");
  EXPECT_EQ(r.headers.count("connection"), 0u) << "connection-specific fields are not HTTP/2's";
  EXPECT_EQ(admission_.pending_requests(), 0);
}

TEST_F(Http2SessionTest, ManyStreamsOnOneConnectionEachGetTheirOwnResponse) {
  Start();
  std::vector<int32_t> ids;
  for (int i = 0; i < 50; ++i) {
    const std::string body = absl::StrCat("body", i);
    ids.push_back(client_->Request(body, {{"content-length", std::to_string(body.size())}}));
  }
  Pump();
  EXPECT_EQ(handler_.requests.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(client_->response(ids[i]).body, absl::StrCat("echo:body", i));
    EXPECT_TRUE(client_->response(ids[i]).ended);
  }
  EXPECT_EQ(server_->open_streams(), 0);
}

TEST_F(Http2SessionTest, StreamsPastTheConcurrencyLimitAreRefused) {
  Http2SessionOptions options;
  options.max_concurrent_streams = 2;
  Start(options);
  auto a = StreamNextResponse({"a"}, /*finish=*/false);  // both stay open
  const int32_t first = client_->Request("1");
  Pump();  // the client learns the limit
  auto b = StreamNextResponse({"b"}, /*finish=*/false);
  const int32_t second = client_->Request("2");
  Pump();
  const int32_t third = client_->Request("3");
  Pump();
  EXPECT_EQ(handler_.requests.size(), 2u);
  EXPECT_EQ(client_->response(first).status, 200);
  EXPECT_EQ(client_->response(second).status, 200);
  // nghttp2's client holds the third back until a stream closes (it honours the limit).
  EXPECT_EQ(client_->response(third).status, 0);
}

TEST_F(Http2SessionTest, AStreamedResponseIsSentAsDataFramesAndFinishes) {
  Start();
  auto stream = StreamNextResponse({"event-1", "event-2", "event-3"});
  const int32_t id = client_->Request("subscribe");
  Pump();
  const ClientResponse& r = client_->response(id);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.count("content-length"), 0u);
  EXPECT_EQ(r.body, "event-1event-2event-3");
  EXPECT_TRUE(r.ended);
  EXPECT_THAT(stream->events, ElementsAre("Start", "OnDrained", "OnDrained", "OnFinished"));
  EXPECT_EQ(admission_.pending_requests(), 0);
}

TEST_F(Http2SessionTest, AReaderThatStopsReadingPausesTheStreamAndResumesIt) {
  client_ = std::make_unique<Client>(/*initial_window=*/16 << 10, /*auto_window=*/false);
  Start();
  std::vector<std::string> chunks(64, std::string(4 << 10, 'x'));  // 256 KiB in all
  auto stream = StreamNextResponse(chunks);
  const int32_t id = client_->Request("subscribe");
  Pump();
  // The window (16 KiB) is full: the producer was told to go on only as far as it allows.
  EXPECT_LE(client_->response(id).body.size(), 16u << 10);
  EXPECT_LE(stream->written, 6) << "a paused reader must stop the producer, not buffer for it";
  EXPECT_FALSE(client_->response(id).ended);
  // The reader reads: everything follows, in order.
  for (int round = 0; round < 200 && !client_->response(id).ended; ++round) {
    const size_t have = client_->response(id).body.size();
    client_->Consume(id, have - consumed_);
    consumed_ = have;
    Pump();
  }
  EXPECT_EQ(client_->response(id).body, absl::StrCat(std::string(256 << 10, 'x')));
  EXPECT_TRUE(client_->response(id).ended);
  EXPECT_EQ(stream->events.back(), "OnFinished");
}

TEST_F(Http2SessionTest, AClientResetClosesTheStreamAndItsWriter) {
  Start();
  auto stream = StreamNextResponse({"first"}, /*finish=*/false);
  const int32_t id = client_->Request("subscribe");
  Pump();
  client_->Reset(id);
  Pump();
  EXPECT_EQ(stream->events.back(), "OnClosed");
  EXPECT_FALSE(stream->writer().Write("late")) << "a closed stream's writer says so";
  EXPECT_EQ(server_->open_streams(), 0);
}

TEST_F(Http2SessionTest, ClosingTheConnectionClosesEveryStreamAndReleasesEverySlot) {
  Start();
  std::vector<std::shared_ptr<TestStream>> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back(StreamNextResponse({"open"}, /*finish=*/false));
    client_->Request("subscribe");
    Pump();
  }
  handler_.respond = nullptr;
  client_->Request(std::string(100, 'b'), {{"content-length", "200"}}, /*complete=*/false);
  Pump();
  EXPECT_EQ(admission_.pending_requests(), 1) << "only the unfinished request holds a slot";
  server_->Close();
  for (const auto& s : streams) EXPECT_EQ(s->events.back(), "OnClosed");
  EXPECT_EQ(admission_.pending_requests(), 0);
}

TEST_F(Http2SessionTest, AResponseForAStreamTheClientResetIsDroppedAndItsStreamClosed) {
  Start();
  auto stream = std::make_shared<TestStream>(std::vector<std::string>{"x"});
  handler_.respond = [&](const HttpRequest&) {
    HttpResponse r;
    r.stream = stream;
    return r;
  };
  // The handler's answer reaches the session only after the client has reset the stream.
  const int32_t id = client_->Request("subscribe");
  std::string up = client_->TakeOutput();
  ASSERT_TRUE(server_->Receive(up).ok());  // Handle ran; its Respond is posted, not yet run
  client_->Reset(id);
  ASSERT_TRUE(server_->Receive(client_->TakeOutput()).ok());
  Pump();
  EXPECT_THAT(stream->events, ElementsAre("OnClosed"));
}

TEST_F(Http2SessionTest, PastAdmissionControlARequestIsRefusedAtOnceAndOthersGoOn) {
  RequestAdmission admission(/*max_requests=*/1, /*max_bytes=*/1 << 20);
  Start({}, &admission);
  // A request whose body has not all come holds the one slot.
  const int32_t slow =
      client_->Request(std::string(10, 'a'), {{"content-length", "20"}}, /*complete=*/false);
  Pump();
  EXPECT_EQ(admission.pending_requests(), 1);
  const int32_t refused = client_->Request("x", {{"content-length", "1"}});
  Pump();
  EXPECT_EQ(client_->response(refused).status, 400);
  EXPECT_EQ(client_->response(refused).body, "busy with 1");
  EXPECT_FALSE(client_->response(slow).closed) << "the connection and its other streams go on";
  EXPECT_EQ(handler_.requests.size(), 0u);
  server_->Close();  // before `admission` goes
  EXPECT_EQ(admission.pending_requests(), 0);
}

TEST_F(Http2SessionTest, ARefusalBeforeTheBodyEndsAsksTheClientToStopSending) {
  Http2SessionOptions options;
  options.max_body_bytes = 100;
  Start(options);
  const int32_t id = client_->Request(std::string(1000, 'z'), {{"content-length", "1000"}});
  Pump();
  EXPECT_EQ(client_->response(id).status, 413);
  EXPECT_EQ(client_->response(id).body, "too large for 100");
  EXPECT_TRUE(client_->response(id).closed);
  EXPECT_EQ(client_->response(id).reset_code, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_EQ(handler_.requests.size(), 0u);
  // The connection goes on.
  handler_.respond = nullptr;
  const int32_t next = client_->Request("ok");
  Pump();
  EXPECT_EQ(client_->response(next).body, "echo:ok");
  EXPECT_EQ(admission_.pending_requests(), 0);
}

TEST_F(Http2SessionTest, ABodyGrowingPastTheLimitWithoutContentLengthIsTooLarge) {
  Http2SessionOptions options;
  options.max_body_bytes = 100;
  Start(options);
  const int32_t id = client_->Request(std::string(1000, 'z'));
  Pump();
  EXPECT_EQ(client_->response(id).status, 413);
  EXPECT_EQ(handler_.requests.size(), 0u);
  EXPECT_EQ(admission_.pending_requests(), 0);
}

TEST_F(Http2SessionTest, HeaderFieldsOverTheLimitAre400) {
  Http2SessionOptions options;
  options.max_header_bytes = 1024;
  Start(options);
  const int32_t id = client_->Request("x", {{"x-big", std::string(2000, 'h')}});
  Pump();
  EXPECT_EQ(client_->response(id).status, 400);
  EXPECT_THAT(client_->response(id).body, HasSubstr("header fields too large"));
  EXPECT_EQ(handler_.requests.size(), 0u);
}

// Returns the types of the frames in `bytes` (server output).
std::vector<int> FrameTypes(const std::string& bytes) {
  std::vector<int> types;
  size_t at = 0;
  while (at + 9 <= bytes.size()) {
    const size_t length = (static_cast<uint8_t>(bytes[at]) << 16) |
                          (static_cast<uint8_t>(bytes[at + 1]) << 8) |
                          static_cast<uint8_t>(bytes[at + 2]);
    types.push_back(static_cast<uint8_t>(bytes[at + 3]));
    at += 9 + length;
  }
  return types;
}

TEST_F(Http2SessionTest, ABadPrefaceIsAConnectionError) {
  Start();
  EXPECT_FALSE(server_->Receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  EXPECT_FALSE(server_->Active());
}

TEST_F(Http2SessionTest, AMalformedFrameEndsTheConnectionWithGoaway) {
  Start();
  // The preface and SETTINGS, then a DATA frame on stream 0 (a connection error, RFC 9113 §6.1).
  std::string bytes = client_->TakeOutput();
  bytes += std::string("\x00\x00\x01\x00\x00\x00\x00\x00\x00", 9) + "x";
  const absl::Status status = server_->Receive(bytes);
  std::string out;
  while (server_->TakeOutput(&out, 1 << 20)) server_->OutputWritten();
  EXPECT_FALSE(server_->Active()) << status;
  EXPECT_THAT(FrameTypes(out), ::testing::Contains(NGHTTP2_GOAWAY));
}

TEST_F(Http2SessionTest, RandomBytesAfterThePrefaceNeverCrash) {
  const unsigned seed = std::random_device()();
  std::mt19937 random(seed);
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  for (int trial = 0; trial < 200; ++trial) {
    Start();
    std::string bytes(kHttp2Preface);
    const int n = static_cast<int>(random() % 300);
    for (int i = 0; i < n; ++i) bytes.push_back(static_cast<char>(random()));
    (void)server_->Receive(bytes);  // any outcome but a crash
    std::string out;
    while (server_->TakeOutput(&out, 1 << 20)) server_->OutputWritten();
    while (!posted_.empty()) {
      posted_.front()();
      posted_.pop_front();
    }
    server_->Close();
  }
  EXPECT_EQ(admission_.pending_requests(), 0);
}

TEST_F(Http2SessionTest, AnUpgradedRequestIsAnsweredOnStreamOne) {
  Start();
  // The client's side of "Upgrade: h2c": its SETTINGS, base64url in HTTP2-Settings.
  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 65535}};
  uint8_t payload[16];
  const ssize_t length = nghttp2_pack_settings_payload(payload, sizeof(payload), settings, 1);
  ASSERT_GT(length, 0);
  ASSERT_EQ(nghttp2_session_upgrade2(client_->session(), payload, length, 0, nullptr), 0);
  std::string encoded;
  absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(payload), length), &encoded);
  HttpRequest request;
  request.method = "POST";
  request.target = "/";
  request.body = "upgraded";
  int requests = 0;
  uint64_t bytes = 0;
  ASSERT_TRUE(admission_.Admit(8, &requests, &bytes));
  ASSERT_TRUE(server_->Upgrade(request, encoded, /*admitted_cost=*/8).ok());
  Pump();
  EXPECT_EQ(client_->response(1).status, 200);
  EXPECT_EQ(client_->response(1).body, "echo:upgraded");
  EXPECT_EQ(admission_.pending_requests(), 0);
}

TEST_F(Http2SessionTest, AMalformedUpgradeIsRefusedAndReleasesItsSlot) {
  Start();
  int requests = 0;
  uint64_t bytes = 0;
  ASSERT_TRUE(admission_.Admit(8, &requests, &bytes));
  EXPECT_FALSE(server_->Upgrade(HttpRequest(), "***", 8).ok());
  EXPECT_EQ(admission_.pending_requests(), 0);
}

}  // namespace
}  // namespace tributary::aws
