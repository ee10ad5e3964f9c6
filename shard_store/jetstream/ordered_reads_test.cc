// JetStreamShardLog's sequential reads by ordered consumer (../NOTES.md, "Sequential reads by
// ordered consumer"): which reads take a consumer, and that the records read are the same as by
// direct get — in order, none missed, none repeated — across seeks, a lost consumer and a
// reshard. Behaviour only: whether a read finds a message already delivered by its consumer or
// falls back to a direct get depends on timing, and either must give the same records.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/await.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nats/nats_client.h"
#include "nats/testing/nats_cluster.h"
#include "shard_store/jetstream/jetstream_shard_log.h"

namespace tributary::shard_store::jetstream {
namespace {

using nats::testing::NatsCluster;
using ::testing::ElementsAreArray;

// A consumer's wait for a record due is long here (a failure guard, not a pause: the record is
// stored, and its message on the way), so that reads after a consumer's creation are its.
JetStreamShardLogOptions Options(bool ordered_reads = true,
                                 absl::Duration consumer_wait = absl::Seconds(10)) {
  JetStreamShardLogOptions options;
  options.front_end_id = "fe1";
  options.replicas = 1;
  options.ordered_reads = ordered_reads;
  options.consumer_wait = consumer_wait;
  return options;
}

std::vector<std::string> Data(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(absl::StrCat(prefix, "-", i));
  return out;
}

// What a read returned.
struct Got {
  std::vector<uint64_t> seqs;
  std::vector<std::string> data;
  uint64_t next = 0;
};

class OrderedReadsTest : public ::testing::Test {
 protected:
  void SetUp() override { Connect(NatsCluster::Shared(1)); }

  void Connect(NatsCluster& cluster, JetStreamShardLogOptions options = Options()) {
    cluster_ = &cluster;
    client_ = cluster.NewClient();
    absl::StatusOr<std::unique_ptr<JetStreamShardLog>> log =
        JetStreamShardLog::Create(*client_, RealClock::Get(), std::move(options));
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(log).value();
    stream_id_ = 1000 + next_stream_id_++;
    ASSERT_TRUE(log_->CreateStream(stream_id_, {0, 1}, absl::Hours(24)).ok());
  }

  // Appends call `call`'s records to `shard` and remembers the shard's last number (the tip).
  std::vector<uint64_t> Append(uint32_t shard, uint64_t call, const std::vector<std::string>& data) {
    std::vector<LogEntry> views;
    for (const std::string& d : data) views.push_back({"key", d});
    absl::StatusOr<std::vector<uint64_t>> seqs = log_->Append(stream_id_, shard, call, views);
    EXPECT_TRUE(seqs.ok()) << seqs.status();
    if (!seqs.ok()) return {};
    tip_ = seqs->back();
    for (size_t i = 0; i < data.size(); ++i) {
      appended_seqs_.push_back((*seqs)[i]);
      appended_.push_back(data[i]);
    }
    return *seqs;
  }

  // One read of `shard` from `from` up to `upper` (default: the last appended record; given: a
  // closed shard's ending number).
  absl::StatusOr<Got> Read(uint32_t shard, uint64_t from, int limit,
                           uint64_t upper = 0) {
    LogReadRequest request;
    request.stream_id = stream_id_;
    request.shard = shard;
    request.from = from;
    request.upper = upper == 0 ? tip_ : upper;
    request.closed = upper != 0;
    request.limit = limit;
    request.max_bytes = 1 << 20;
    Got got;
    absl::StatusOr<LogReadResult> result =
        log_->Read(request, [&](uint64_t seq, int64_t, absl::string_view, absl::string_view d) {
          got.seqs.push_back(seq);
          got.data.emplace_back(d);
        });
    if (!result.ok()) return result.status();
    got.next = result->next;
    return got;
  }

  // Reads from `*from` until the cursor passes `upper` (default: the tip), `limit` at a time, as
  // a subscription does; appends what it read to `seqs` / `data`. A read a replica leaves short
  // is repeated (bounded).
  void ReadThrough(uint64_t* from, int limit, std::vector<uint64_t>* seqs,
                   std::vector<std::string>* data, uint64_t upper = 0) {
    const uint64_t end = upper == 0 ? tip_ : upper;
    absl::Status s = PollFor(absl::Seconds(60), absl::Milliseconds(1), "reads past the tip", [&] {
      absl::StatusOr<Got> got = Read(0, *from, limit, upper);
      if (!got.ok()) return false;  // e.g. the server restarting: read again
      seqs->insert(seqs->end(), got->seqs.begin(), got->seqs.end());
      data->insert(data->end(), got->data.begin(), got->data.end());
      EXPECT_GE(got->next, *from);
      *from = got->next;
      return *from > end;
    }, [&] { return absl::StrCat("at ", *from, " of ", end); });
    ASSERT_TRUE(s.ok()) << s;
  }

  static inline uint64_t next_stream_id_ = 0;
  NatsCluster* cluster_ = nullptr;
  std::unique_ptr<nats::NatsClient> client_;
  std::unique_ptr<JetStreamShardLog> log_;
  uint64_t stream_id_ = 0;
  uint64_t tip_ = 0;
  std::vector<uint64_t> appended_seqs_;
  std::vector<std::string> appended_;
};

TEST_F(OrderedReadsTest, SequentialReadsAreServedByOneConsumer) {
  std::vector<uint64_t> seqs;
  std::vector<std::string> data;
  uint64_t from = 0;
  // As a subscription reads: a few records appended, read (7 at a time: reads end inside
  // messages), appended again.
  for (int call = 0; call < 20; ++call) {
    Append(0, call, Data(absl::StrCat("c", call), 10));
    ReadThrough(&from, 7, &seqs, &data);
  }
  EXPECT_THAT(data, ElementsAreArray(appended_));
  EXPECT_THAT(seqs, ElementsAreArray(appended_seqs_));
  const ShardReadStats stats = log_->read_stats();
  EXPECT_EQ(stats.consumers_created, 1);
  EXPECT_EQ(stats.consumers_dropped, 0);
  // The first read (7 of the first call's 10 records) by direct get, the rest from the
  // consumer: every message of the shard once.
  EXPECT_EQ(stats.direct_gets, 1);
  EXPECT_EQ(stats.consumer_messages, 20);
}

TEST_F(OrderedReadsTest, ReadsByDirectGetCreateNoConsumer) {
  Connect(NatsCluster::Shared(1), Options(/*ordered_reads=*/false));
  std::vector<uint64_t> seqs;
  std::vector<std::string> data;
  uint64_t from = 0;
  for (int call = 0; call < 3; ++call) {
    Append(0, call, Data(absl::StrCat("c", call), 10));
    ReadThrough(&from, 7, &seqs, &data);
  }
  EXPECT_THAT(data, ElementsAreArray(appended_));
  EXPECT_EQ(log_->read_stats().consumers_created, 0);
  EXPECT_EQ(log_->read_stats().consumer_messages, 0);
}

TEST_F(OrderedReadsTest, AReadAfterASeekIsRightAndTakesNoConsumer) {
  std::vector<uint64_t> seqs;
  std::vector<std::string> data;
  uint64_t from = 0;
  std::vector<uint64_t> second;
  for (int call = 0; call < 4; ++call) {
    std::vector<uint64_t> s = Append(0, call, Data(absl::StrCat("c", call), 5));
    if (call == 1) second = s;
    ReadThrough(&from, 3, &seqs, &data);
  }
  ASSERT_EQ(log_->read_stats().consumers_created, 1);
  uint64_t first_reader = from;  // where the first reader stopped

  // A seek back into the second call's records: read by direct get, from exactly there.
  absl::StatusOr<Got> seek = Read(0, second[2], 4);
  ASSERT_TRUE(seek.ok()) << seek.status();
  EXPECT_THAT(seek->data, ElementsAreArray({"c1-2", "c1-3", "c1-4", "c2-0"}));
  EXPECT_EQ(seek->next, seek->seqs.back() + 1);
  EXPECT_EQ(log_->read_stats().consumers_created, 1);
  // Reading on from the seek is sequential again: one more consumer, the rest in order.
  std::vector<uint64_t> rest_seqs;
  std::vector<std::string> rest;
  uint64_t second_reader = seek->next;
  ReadThrough(&second_reader, 3, &rest_seqs, &rest);
  EXPECT_THAT(rest, ElementsAreArray({"c2-1", "c2-2", "c2-3", "c2-4", "c3-0", "c3-1", "c3-2",
                                      "c3-3", "c3-4"}));
  EXPECT_EQ(log_->read_stats().consumers_created, 2);

  // Both readers go on where they stopped (now the same place), each with its consumer.
  Append(0, 4, Data("c4", 2));
  std::vector<uint64_t> first_seqs, second_seqs;
  std::vector<std::string> first_data, second_data;
  ReadThrough(&first_reader, 3, &first_seqs, &first_data);
  ReadThrough(&second_reader, 3, &second_seqs, &second_data);
  EXPECT_THAT(first_data, ElementsAreArray({"c4-0", "c4-1"}));
  EXPECT_THAT(second_data, ElementsAreArray({"c4-0", "c4-1"}));
  EXPECT_EQ(log_->read_stats().consumers_created, 2);
}

TEST_F(OrderedReadsTest, AParentIsReadToItsEndingNumberAcrossAReshard) {
  std::vector<uint64_t> seqs;
  std::vector<std::string> data;
  uint64_t from = 0;
  for (int call = 0; call < 3; ++call) {
    Append(0, call, Data(absl::StrCat("p", call), 4));
    ReadThrough(&from, 3, &seqs, &data);
  }
  // Appended while the reader is behind, then the parent closes.
  Append(0, 3, Data("p3", 4));
  Append(0, 4, Data("p4", 4));
  absl::StatusOr<uint64_t> ending = log_->CloseShards(stream_id_, {0}, {2, 3});
  ASSERT_TRUE(ending.ok()) << ending.status();
  ASSERT_GT(*ending, tip_);
  // Read as a reader of a closed shard does: up to the ending number, until past it.
  ReadThrough(&from, 3, &seqs, &data, *ending);
  EXPECT_THAT(data, ElementsAreArray(appended_));
  EXPECT_THAT(seqs, ElementsAreArray(appended_seqs_));
  EXPECT_EQ(from, *ending + 1);
  // And a read at the end stays there.
  absl::StatusOr<Got> again = Read(0, from, 3, *ending);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->data.empty());
  EXPECT_EQ(again->next, *ending + 1);
}

// A consumer the server loses (its server restarted: ephemeral consumers are not kept) is
// replaced, and the reads in between, by direct get, miss nothing and repeat nothing.
class OrderedReadsRestartTest : public OrderedReadsTest {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    own_ = std::move(cluster).value();
    // A lost consumer's reads wait this long before their direct gets.
    Connect(*own_, Options(true, absl::Milliseconds(100)));
  }
  std::unique_ptr<NatsCluster> own_;
};

TEST_F(OrderedReadsRestartTest, AConsumerLostWithItsServerIsReplacedAndNothingIsMissedOrRepeated) {
  std::vector<uint64_t> seqs;
  std::vector<std::string> data;
  uint64_t from = 0;
  for (int call = 0; call < 3; ++call) {
    Append(0, call, Data(absl::StrCat("before", call), 5));
    ReadThrough(&from, 4, &seqs, &data);
  }
  ASSERT_EQ(log_->read_stats().consumers_created, 1);

  own_->Kill(0);
  ASSERT_TRUE(own_->Restart(0).ok());
  const int64_t messages_before = log_->read_stats().consumer_messages;
  // Records appended after the restart, read by the same reader until a consumer serves it
  // again (the lost one dropped after kConsumerSilence and a new one created, or libnats'
  // own re-creation): bounded.
  int call = 3;
  absl::Status served = PollFor(
      absl::Seconds(60), absl::Milliseconds(50), "a consumer serving the reads again", [&] {
        Append(0, call, Data(absl::StrCat("after", call), 5));
        ++call;
        ReadThrough(&from, 4, &seqs, &data);
        return log_->read_stats().consumer_messages > messages_before;
      },
      [&] {
        const ShardReadStats s = log_->read_stats();
        return absl::StrCat("created ", s.consumers_created, ", dropped ", s.consumers_dropped,
                            ", create failures ", s.consumer_create_failures, ", messages ",
                            s.consumer_messages);
      });
  ASSERT_TRUE(served.ok()) << served;
  EXPECT_THAT(data, ElementsAreArray(appended_));
  EXPECT_THAT(seqs, ElementsAreArray(appended_seqs_));
}

}  // namespace
}  // namespace tributary::shard_store::jetstream
