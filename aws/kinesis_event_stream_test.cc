#include "aws/kinesis_event_stream.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::aws {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// What the subscription was told.
class FakeControl : public shard_store::SubscriptionControl {
 public:
  void WriteDone(bool ok) override { calls.push_back(ok ? "WriteDone(true)" : "WriteDone(false)"); }
  void Cancel() override { calls.push_back("Cancel"); }
  void Done() override { calls.push_back("Done"); }
  std::vector<std::string> calls;
};

// The HTTP server's side: keeps what was written.
class FakeWriter : public StreamWriter {
 public:
  bool Write(std::string chunk) override {
    if (finished || closed) return false;
    chunks.push_back(std::move(chunk));
    return true;
  }
  void Finish() override { finished = true; }
  std::vector<std::string> chunks;
  bool finished = false;
  bool closed = false;
};

v1::SubscribeToShardEvent Event(const std::string& data) {
  v1::SubscribeToShardEvent e;
  v1::Record* r = e.add_records();
  r->set_sequence_number("7");
  r->set_partition_key("k");
  r->set_data(data);
  e.set_continuation_sequence_number("7");
  e.set_millis_behind_latest(12);
  return e;
}

class KinesisEventStreamTest : public ::testing::Test {
 protected:
  KinesisEventStreamTest()
      : stream_(std::make_shared<KinesisEventStream>(Protocol::kJson, clock_)) {
    stream_->Attach(&control_);
    weak_ = stream_;
  }
  // Ends what a test left open (the connection closes, the subscription finishes) and checks
  // that nothing keeps the stream alive afterwards: no reference cycle outlives a subscription.
  void TearDown() override {
    std::shared_ptr<KinesisEventStream> alive = weak_.lock();
    stream_.reset();
    if (alive != nullptr) {
      alive->OnClosed();
      alive->SendFinish(absl::CancelledError("the test is over"));
    }
    alive.reset();
    EXPECT_TRUE(weak_.expired());
  }
  // Hands the stream over as the HTTP server does, and drops our reference: from now on it
  // lives as long as the subscription needs it.
  void Start() {
    stream_->Start(writer_);
    raw_ = stream_.get();
    stream_.reset();
  }

  FakeClock clock_;
  FakeControl control_;
  std::shared_ptr<FakeWriter> writer_ = std::make_shared<FakeWriter>();
  std::shared_ptr<KinesisEventStream> stream_;
  KinesisEventStream* raw_ = nullptr;
  std::weak_ptr<KinesisEventStream> weak_;
};

TEST_F(KinesisEventStreamTest, AnEventBeforeTheHeadWaitsThenFollowsTheInitialResponse) {
  stream_->SendEvent(Event("early"));
  EXPECT_TRUE(control_.calls.empty());
  Start();
  ASSERT_EQ(writer_->chunks.size(), 2u);
  EXPECT_THAT(writer_->chunks[0], HasSubstr("initial-response"));
  EXPECT_THAT(writer_->chunks[1], HasSubstr("SubscribeToShardEvent"));
  EXPECT_THAT(writer_->chunks[1], HasSubstr(R"("ContinuationSequenceNumber":"7")"));
  EXPECT_THAT(writer_->chunks[1], HasSubstr(R"("MillisBehindLatest":12)"));
  EXPECT_THAT(writer_->chunks[1], HasSubstr(R"("Data":"ZWFybHk=")"));  // base64("early")
  raw_->OnDrained();
  EXPECT_THAT(control_.calls, ElementsAre("WriteDone(true)"));
}

TEST_F(KinesisEventStreamTest, DrainingWithNoEventInFlightTellsNothing) {
  Start();
  raw_->OnDrained();  // the initial-response went out
  EXPECT_TRUE(control_.calls.empty());
}

TEST_F(KinesisEventStreamTest, ShardEndFinishesTheResponseAndFreesEverythingOnceWritten) {
  Start();
  raw_->SendFinish(absl::OkStatus());
  EXPECT_TRUE(writer_->finished);
  EXPECT_EQ(writer_->chunks.size(), 1u) << "no exception message for a clean end";
  EXPECT_FALSE(weak_.expired()) << "alive until the end is written";
  raw_->OnFinished();
  EXPECT_THAT(control_.calls, ElementsAre("Done"));
  EXPECT_TRUE(weak_.expired());
}

TEST_F(KinesisEventStreamTest, AnErrorEndsWithAKinesisExceptionMessage) {
  Start();
  raw_->SendFinish(absl::NotFoundError("stream s not found"));
  ASSERT_EQ(writer_->chunks.size(), 2u);
  EXPECT_THAT(writer_->chunks[1], HasSubstr(":exception-type"));
  EXPECT_THAT(writer_->chunks[1], HasSubstr("ResourceNotFoundException"));
  EXPECT_THAT(writer_->chunks[1], HasSubstr("stream s not found"));
  EXPECT_TRUE(writer_->finished);
  raw_->OnFinished();
  EXPECT_THAT(control_.calls, ElementsAre("Done"));
}

TEST_F(KinesisEventStreamTest, AClientLeavingWithAnEventInFlightFailsThatWrite) {
  Start();
  raw_->SendEvent(Event("lost"));
  raw_->OnClosed();
  EXPECT_THAT(control_.calls, ElementsAre("WriteDone(false)"));
  // The subscription then ends (as Subscription::WriteDone(false) does) and is freed at once.
  raw_->SendFinish(absl::CancelledError("the subscriber went away"));
  EXPECT_THAT(control_.calls, ElementsAre("WriteDone(false)", "Done"));
  EXPECT_TRUE(weak_.expired());
}

TEST_F(KinesisEventStreamTest, AClientLeavingBetweenEventsCancels) {
  Start();
  raw_->OnClosed();
  EXPECT_THAT(control_.calls, ElementsAre("Cancel"));
  raw_->SendFinish(absl::CancelledError("subscription cancelled"));
  EXPECT_THAT(control_.calls, ElementsAre("Cancel", "Done"));
  EXPECT_TRUE(weak_.expired());
}

TEST_F(KinesisEventStreamTest, AnEventAfterTheClientLeftIsFailedAtOnce) {
  Start();
  raw_->OnClosed();
  raw_->SendEvent(Event("late"));  // a read that was in progress when the client left
  EXPECT_THAT(control_.calls, ElementsAre("Cancel", "WriteDone(false)"));
}

TEST_F(KinesisEventStreamTest, AnEndThatNeverReachedTheClientStillFreesEverything) {
  Start();
  raw_->SendFinish(absl::OkStatus());
  raw_->OnClosed();  // the connection died before the last chunk went out
  EXPECT_THAT(control_.calls, ElementsAre("Done"));
  EXPECT_TRUE(weak_.expired());
}

TEST_F(KinesisEventStreamTest, BeforeFiveMinutesEveryEventOnTheWireAsksForTheNext) {
  Start();
  clock_.Advance(KinesisEventStream::kLifetime - absl::Milliseconds(1));
  raw_->SendEvent(Event("in time"));
  raw_->OnDrained();
  EXPECT_THAT(control_.calls, ElementsAre("WriteDone(true)"));
  EXPECT_FALSE(writer_->finished);
}

TEST_F(KinesisEventStreamTest, FiveMinutesAfterSubscribingTheStreamEndsCleanlyAfterItsEvent) {
  Start();
  clock_.Advance(KinesisEventStream::kLifetime);
  raw_->SendEvent(Event("last"));  // a keep-alive at the latest, 5 s after the deadline
  raw_->OnDrained();
  // The subscription is cancelled while its event is in flight, then hears the event went out,
  // so it ends (as Subscription does) with CANCELLED, which ends the response cleanly.
  EXPECT_THAT(control_.calls, ElementsAre("Cancel", "WriteDone(true)"));
  raw_->SendFinish(absl::CancelledError("subscription cancelled"));
  EXPECT_TRUE(writer_->finished);
  ASSERT_EQ(writer_->chunks.size(), 2u) << "the initial response and the event, no exception";
  EXPECT_THAT(writer_->chunks[1], HasSubstr(R"("ContinuationSequenceNumber":"7")"));
  raw_->OnFinished();
  EXPECT_THAT(control_.calls, ElementsAre("Cancel", "WriteDone(true)", "Done"));
  EXPECT_TRUE(weak_.expired());
}

TEST_F(KinesisEventStreamTest, CborRequestsGetCborEvents) {
  auto cbor = std::make_shared<KinesisEventStream>(Protocol::kCbor, clock_);
  const std::string bytes = cbor->EncodeEvent(Event("x"));
  EXPECT_THAT(bytes, HasSubstr("application/cbor"));
  EXPECT_THAT(bytes, HasSubstr("Records"));
  EXPECT_THAT(bytes, ::testing::Not(HasSubstr("\"Records\"")));
}

}  // namespace
}  // namespace tributary::aws
