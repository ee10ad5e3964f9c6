#include "nats/nats_client.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nats/testing/nats_cluster.h"

namespace tributary::nats {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using testing::NatsCluster;

// Every case runs against one real JetStream server shared by this binary, on streams of its own.
class NatsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = &NatsCluster::Shared(1);
    client_ = cluster_->NewClient();
    stream_ = cluster_->NewStreamName();
  }

  // A stream named stream_ with subjects "<stream>.a" and "<stream>.b".
  StreamConfig Config() const {
    StreamConfig config;
    config.name = stream_;
    config.subjects = {Subject("a"), Subject("b")};
    config.max_age = absl::Hours(24);
    config.duplicate_window = absl::Minutes(5);
    return config;
  }
  void CreateStream() { ASSERT_TRUE(client_->CreateStream(Config()).ok()); }
  std::string Subject(absl::string_view shard) const { return absl::StrCat(stream_, ".", shard); }

  uint64_t Publish(absl::string_view shard, absl::string_view data, std::string msg_id = "") {
    PublishOptions options;
    options.msg_id = std::move(msg_id);
    absl::StatusOr<PubAck> ack = client_->Publish(Subject(shard), data, options);
    EXPECT_TRUE(ack.ok()) << ack.status();
    return ack.ok() ? ack->sequence : 0;
  }

  NatsCluster* cluster_ = nullptr;
  std::unique_ptr<NatsClient> client_;
  std::string stream_;
};

TEST_F(NatsClientTest, APublishedMessageIsReadBackByDirectGetWithItsHeaders) {
  CreateStream();
  PublishOptions options;
  options.msg_id = "call-1";
  options.headers = {{"Tributary-Records", "3"}};
  absl::StatusOr<PubAck> ack = client_->Publish(Subject("a"), "payload", options);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->stream, stream_);
  EXPECT_FALSE(ack->duplicate);

  absl::StatusOr<StoredMessage> got = client_->DirectGet(stream_, ack->sequence);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->subject, Subject("a"));
  EXPECT_EQ(got->sequence, ack->sequence);
  EXPECT_EQ(got->data, "payload");
  ASSERT_NE(got->Header("Tributary-Records"), nullptr);
  EXPECT_EQ(*got->Header("Tributary-Records"), "3");
  ASSERT_NE(got->Header("Nats-Msg-Id"), nullptr);
  EXPECT_EQ(*got->Header("Nats-Msg-Id"), "call-1");
  EXPECT_EQ(got->Header("Nats-Sequence"), nullptr);  // the server's own fields are left out
  EXPECT_GT(got->time, absl::UnixEpoch());
}

TEST_F(NatsClientTest, ARetriedPublishWithTheSameIdIsStoredOnceAndAnswersTheFirstSequence) {
  CreateStream();
  const uint64_t first = Publish("a", "x", "front-1/call-7/shard-0/part-0");
  PublishOptions retry;
  retry.msg_id = "front-1/call-7/shard-0/part-0";
  absl::StatusOr<PubAck> again = client_->Publish(Subject("a"), "x", retry);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sequence, first);

  absl::StatusOr<StreamInfo> info = client_->GetStreamInfo(stream_);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->messages, 1u);
}

TEST_F(NatsClientTest, PublishToASubjectNoStreamTakesIsUnavailable) {
  absl::StatusOr<PubAck> ack = client_->Publish(Subject("nobody"), "x");
  EXPECT_EQ(ack.status().code(), absl::StatusCode::kUnavailable) << ack.status();
}

TEST_F(NatsClientTest, PublishExpectingAnotherLastSubjectSequenceIsRefusedAndStoresNothing) {
  CreateStream();
  const uint64_t first = Publish("a", "1");
  Publish("b", "other subject");
  PublishOptions options;
  options.expected_last_subject_sequence = first + 100;
  EXPECT_EQ(client_->Publish(Subject("a"), "2", options).status().code(),
            absl::StatusCode::kFailedPrecondition);
  options.expected_last_subject_sequence = 0;  // "no message yet": a has one
  EXPECT_EQ(client_->Publish(Subject("a"), "2", options).status().code(),
            absl::StatusCode::kFailedPrecondition);

  options.expected_last_subject_sequence = first;  // b's message does not count
  EXPECT_TRUE(client_->Publish(Subject("a"), "2", options).ok());
  EXPECT_EQ(client_->GetStreamInfo(stream_)->messages, 3u);
}

TEST_F(NatsClientTest, AMessageOfTwoMegabytesFitsAndOneOverMaxPayloadIsInvalid) {
  CreateStream();
  // The harness configures max_payload 8 MB (NOTES.md): a maximum record plus headers fits.
  EXPECT_GE(client_->max_payload(), int64_t{2} << 20);
  const std::string big(2 << 20, 'x');
  const uint64_t seq = Publish("a", big, "big");
  EXPECT_EQ(client_->DirectGet(stream_, seq)->data.size(), big.size());

  const std::string too_big(client_->max_payload() + 1, 'x');
  EXPECT_EQ(client_->Publish(Subject("a"), too_big).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(NatsClientTest, ABatchIsStoredInOrderWithOneResultPerMessage) {
  CreateStream();
  std::vector<std::string> data;
  for (int i = 0; i < 50; ++i) data.push_back(absl::StrCat("m", i));
  const std::string a = Subject("a");
  const std::string b = Subject("b");
  std::vector<OutgoingMessage> batch(50);
  for (int i = 0; i < 50; ++i) {
    batch[i].subject = i % 2 == 0 ? a : b;
    batch[i].data = data[i];
    batch[i].options.msg_id = absl::StrCat("batch-", i);
  }
  std::vector<absl::StatusOr<PubAck>> acks = client_->PublishBatch(batch);
  ASSERT_EQ(acks.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(acks[i].ok()) << i << ": " << acks[i].status();
    EXPECT_FALSE(acks[i]->duplicate);
    absl::StatusOr<StoredMessage> got = client_->DirectGet(stream_, acks[i]->sequence);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->data, data[i]);  // each result is its own message's
    if (i > 0) {
      EXPECT_LT(acks[i - 1]->sequence, acks[i]->sequence);  // sent in order
    }
  }

  // The same ids again: nothing stored, the first copies' sequences answered.
  std::vector<absl::StatusOr<PubAck>> again = client_->PublishBatch(batch);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(again[i].ok()) << again[i].status();
    EXPECT_TRUE(again[i]->duplicate);
    EXPECT_EQ(again[i]->sequence, acks[i]->sequence);
  }
  EXPECT_EQ(client_->GetStreamInfo(stream_)->messages, 50u);
}

TEST_F(NatsClientTest, EachMessageOfABatchFailsOnItsOwn) {
  CreateStream();
  const std::string a = Subject("a");
  const std::string nobody = Subject("nobody");
  const std::string too_big(client_->max_payload() + 1, 'x');
  std::vector<OutgoingMessage> batch(4);
  batch[0].subject = a;
  batch[0].data = "first";
  batch[1].subject = nobody;  // no stream takes it
  batch[1].data = "lost";
  batch[2].subject = a;
  batch[2].data = too_big;
  batch[3].subject = a;
  batch[3].data = "last";
  batch[3].options.expected_last_subject_sequence = 0;  // a already has "first"
  std::vector<absl::StatusOr<PubAck>> acks = client_->PublishBatch(batch);
  ASSERT_EQ(acks.size(), 4u);
  ASSERT_TRUE(acks[0].ok()) << acks[0].status();
  EXPECT_EQ(acks[1].status().code(), absl::StatusCode::kUnavailable) << acks[1].status();
  EXPECT_EQ(acks[2].status().code(), absl::StatusCode::kInvalidArgument) << acks[2].status();
  EXPECT_EQ(acks[3].status().code(), absl::StatusCode::kFailedPrecondition) << acks[3].status();
  EXPECT_EQ(client_->GetStreamInfo(stream_)->messages, 1u);
  EXPECT_TRUE(client_->PublishBatch({}).empty());
}

TEST_F(NatsClientTest, ABatchToAStoppedServerTimesOutWithOutcomeUnknownAndARetryStoresItOnce) {
  CreateStream();
  const std::string a = Subject("a");
  const std::string b = Subject("b");
  std::vector<OutgoingMessage> batch(2);
  batch[0].subject = a;
  batch[0].data = "x";
  batch[0].options.msg_id = "stopped-0";
  batch[0].options.timeout = absl::Milliseconds(300);
  batch[1] = batch[0];
  batch[1].subject = b;
  batch[1].options.msg_id = "stopped-1";
  ASSERT_TRUE(cluster_->Pause(0).ok());
  std::vector<absl::StatusOr<PubAck>> acks = client_->PublishBatch(batch);
  cluster_->Resume(0);
  ASSERT_EQ(acks.size(), 2u);
  for (const auto& ack : acks) {
    EXPECT_EQ(ack.status().code(), absl::StatusCode::kDeadlineExceeded) << ack.status();
  }
  // The server got both when it resumed; the retry is answered with their sequences.
  batch[0].options.timeout = batch[1].options.timeout = absl::Seconds(5);
  std::vector<absl::StatusOr<PubAck>> retried = client_->PublishBatch(batch);
  for (const auto& ack : retried) ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(client_->GetStreamInfo(stream_)->messages, 2u);
}

TEST_F(NatsClientTest, CreateStreamReportsItsConfigurationAndIsIdempotent) {
  absl::StatusOr<StreamInfo> created = client_->CreateStream(Config());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->config.name, stream_);
  EXPECT_THAT(created->config.subjects, ElementsAre(Subject("a"), Subject("b")));
  EXPECT_EQ(created->config.max_age, absl::Hours(24));
  EXPECT_EQ(created->config.duplicate_window, absl::Minutes(5));
  EXPECT_TRUE(created->config.file_storage);
  EXPECT_TRUE(created->config.allow_direct);
  EXPECT_EQ(created->config.replicas, 1);
  EXPECT_EQ(created->messages, 0u);

  EXPECT_TRUE(client_->CreateStream(Config()).ok());
  StreamConfig other = Config();
  other.max_age = absl::Hours(1);
  EXPECT_EQ(client_->CreateStream(other).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(NatsClientTest, StreamsWithOverlappingSubjectsOrTooManyReplicasAreRefused) {
  CreateStream();
  StreamConfig overlapping = Config();
  overlapping.name = stream_ + "_other";
  EXPECT_EQ(client_->CreateStream(overlapping).status().code(),
            absl::StatusCode::kInvalidArgument);
  StreamConfig replicated = Config();
  replicated.name = stream_ + "_r3";
  replicated.subjects = {Subject("r3")};
  replicated.replicas = 3;  // a single server, no cluster
  EXPECT_EQ(client_->CreateStream(replicated).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(NatsClientTest, UpdateStreamSwapsSubjectsAndPublishesToARemovedOneAreUnavailable) {
  CreateStream();
  Publish("a", "before");
  StreamConfig swapped = Config();
  swapped.subjects = {Subject("b"), Subject("c")};
  absl::StatusOr<StreamInfo> updated = client_->UpdateStream(swapped);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_THAT(updated->config.subjects, ElementsAre(Subject("b"), Subject("c")));

  EXPECT_EQ(client_->Publish(Subject("a"), "after").status().code(),
            absl::StatusCode::kUnavailable);
  Publish("c", "new subject");
  // The removed subject's messages stay readable by direct get.
  absl::StatusOr<StoredMessage> old = client_->DirectGetLast(stream_, Subject("a"));
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->data, "before");
}

TEST_F(NatsClientTest, CallsOnAMissingStreamAreNotFound) {
  EXPECT_EQ(client_->GetStreamInfo(stream_).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->UpdateStream(Config()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->DeleteStream(stream_).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->ReadSubject(stream_, Subject("a"), 1).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(NatsClientTest, ADirectGetFromAMissingStreamIsUnansweredAndTimesOut) {
  NatsClientOptions options;
  options.request_timeout = absl::Milliseconds(300);
  std::unique_ptr<NatsClient> client = cluster_->NewClient(options);
  EXPECT_EQ(client->DirectGet(stream_, 1).status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(NatsClientTest, DirectGetsFindBySequenceNextBySubjectAndLastBySubject) {
  CreateStream();
  const uint64_t a1 = Publish("a", "a1");
  const uint64_t b1 = Publish("b", "b1");
  const uint64_t a2 = Publish("a", "a2");
  Publish("b", "b2");

  EXPECT_EQ(client_->DirectGet(stream_, b1)->data, "b1");
  EXPECT_EQ(client_->DirectGetNext(stream_, Subject("a"), a1)->data, "a1");
  absl::StatusOr<StoredMessage> next = client_->DirectGetNext(stream_, Subject("a"), a1 + 1);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->sequence, a2);
  EXPECT_EQ(next->data, "a2");
  EXPECT_EQ(client_->DirectGetLast(stream_, Subject("a"))->sequence, a2);

  EXPECT_EQ(client_->DirectGetNext(stream_, Subject("a"), a2 + 1).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->DirectGet(stream_, a2 + 100).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->DirectGetLast(stream_, Subject("c")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->DirectGet(stream_, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(NatsClientTest, AReaderDeliversOneSubjectInOrderFromItsStartAndThenNewMessages) {
  CreateStream();
  std::vector<uint64_t> a;
  for (int i = 0; i < 5; ++i) {
    a.push_back(Publish("a", absl::StrCat("a", i)));
    Publish("b", absl::StrCat("b", i));
  }
  absl::StatusOr<std::unique_ptr<SubjectReader>> reader =
      client_->ReadSubject(stream_, Subject("a"), a[2]);
  ASSERT_TRUE(reader.ok()) << reader.status();
  for (int i = 2; i < 5; ++i) {
    absl::StatusOr<std::optional<StoredMessage>> m = (*reader)->Next(absl::Seconds(10));
    ASSERT_TRUE(m.ok()) << m.status();
    ASSERT_TRUE(m->has_value()) << "message " << i << " did not come within 10 s";
    EXPECT_EQ((*m)->sequence, a[i]);
    EXPECT_EQ((*m)->subject, Subject("a"));
    EXPECT_EQ((*m)->data, absl::StrCat("a", i));
  }
  // Nothing more yet: the wait ends empty-handed and the reader stays usable.
  absl::StatusOr<std::optional<StoredMessage>> none = (*reader)->Next(absl::Milliseconds(200));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  Publish("b", "not for this reader");
  const uint64_t later = Publish("a", "later");
  absl::StatusOr<std::optional<StoredMessage>> m = (*reader)->Next(absl::Seconds(10));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(m->has_value()) << "the later message did not come within 10 s";
  EXPECT_EQ((*m)->sequence, later);
  EXPECT_EQ((*m)->data, "later");
}

TEST_F(NatsClientTest, AReaderOfASubjectTheStreamDoesNotHaveIsRefused) {
  CreateStream();
  absl::StatusOr<std::unique_ptr<SubjectReader>> reader =
      client_->ReadSubject(stream_, Subject("c"), 1);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument) << reader.status();
  EXPECT_EQ(client_->ReadSubject(stream_, Subject("a"), 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(NatsClientTest, DeletingAStreamRemovesItsMessages) {
  CreateStream();
  Publish("a", "x");
  ASSERT_TRUE(client_->DeleteStream(stream_).ok());
  EXPECT_EQ(client_->GetStreamInfo(stream_).status().code(), absl::StatusCode::kNotFound);
}

TEST(NatsClientConnectTest, NoServersIsInvalidAndAnUnreachableOneIsUnavailable) {
  EXPECT_EQ(NatsClient::Connect({}).status().code(), absl::StatusCode::kInvalidArgument);
  NatsClientOptions options;
  options.servers = {"127.0.0.1:1"};  // nothing listens on port 1
  options.connect_timeout = absl::Seconds(1);
  EXPECT_EQ(NatsClient::Connect(options).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tributary::nats
