#include "shard_store/jetstream/jetstream_shard_log.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nats/nats_client.h"
#include "nats/testing/nats_cluster.h"

namespace tributary::shard_store::jetstream {
namespace {

using nats::testing::NatsCluster;

JetStreamShardLogOptions SingleServerOptions(std::string front_end = "fe1") {
  JetStreamShardLogOptions options;
  options.front_end_id = std::move(front_end);
  options.replicas = 1;
  return options;
}

std::vector<LogRecordView> Views(const std::vector<std::string>& data) {
  std::vector<LogRecordView> out;
  for (const std::string& d : data) out.push_back({"key", d});
  return out;
}

std::vector<std::string> Data(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(absl::StrCat(prefix, "-", i));
  return out;
}

// Cases share one JetStream server; each works on a Tributary stream id of its own.
class JetStreamShardLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = &NatsCluster::Shared(1);
    client_ = cluster_->NewClient();
    log_ = NewLog(SingleServerOptions());
    stream_id_ = next_stream_id_++;
    ASSERT_TRUE(log_->CreateStream(stream_id_, {0, 1}, absl::Hours(24)).ok());
  }

  std::unique_ptr<JetStreamShardLog> NewLog(JetStreamShardLogOptions options) {
    absl::StatusOr<std::unique_ptr<JetStreamShardLog>> log =
        JetStreamShardLog::Create(*client_, RealClock::Get(), std::move(options));
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  std::vector<uint64_t> Append(uint32_t shard, uint64_t call, const std::vector<std::string>& data,
                               JetStreamShardLog* log = nullptr) {
    absl::StatusOr<std::vector<uint64_t>> seqs =
        (log != nullptr ? log : log_.get())->Append(stream_id_, shard, call, Views(data));
    EXPECT_TRUE(seqs.ok()) << seqs.status();
    return seqs.ok() ? *seqs : std::vector<uint64_t>();
  }

  // Every record of `shard` from `from` on, read 7 at a time (so reads end inside messages).
  std::vector<LogRecord> ReadAll(uint32_t shard, uint64_t from = 0) {
    std::vector<LogRecord> out;
    while (true) {
      absl::StatusOr<LogRead> read = log_->Read(stream_id_, shard, from, 7, 1 << 20);
      EXPECT_TRUE(read.ok()) << read.status();
      if (!read.ok() || read->records.empty()) return out;
      EXPECT_GT(read->next_sequence_number, read->records.back().sequence_number);
      for (LogRecord& r : read->records) out.push_back(std::move(r));
      from = read->next_sequence_number;
    }
  }

  static std::vector<std::string> DataOf(const std::vector<LogRecord>& records) {
    std::vector<std::string> out;
    for (const LogRecord& r : records) out.push_back(r.data);
    return out;
  }

  static inline uint64_t next_stream_id_ = 1;
  NatsCluster* cluster_ = nullptr;
  std::unique_ptr<nats::NatsClient> client_;
  std::unique_ptr<JetStreamShardLog> log_;
  uint64_t stream_id_ = 0;
};

TEST_F(JetStreamShardLogTest, AnAppendedBatchReadsBackInOrderWithIncreasingSequenceNumbers) {
  const std::vector<uint64_t> first = Append(0, 1, Data("a", 3));
  const std::vector<uint64_t> second = Append(0, 2, Data("b", 2));
  ASSERT_EQ(first.size(), 3u);
  ASSERT_EQ(second.size(), 2u);
  // One message per (call, shard): the records of a call are consecutive numbers.
  EXPECT_EQ(first[1], first[0] + 1);
  EXPECT_EQ(first[2], first[0] + 2);
  EXPECT_GT(second[0], first[2]);

  std::vector<LogRecord> read = ReadAll(0);
  EXPECT_THAT(DataOf(read), ::testing::ElementsAre("a-0", "a-1", "a-2", "b-0", "b-1"));
  std::vector<uint64_t> seqs;
  for (const LogRecord& r : read) {
    seqs.push_back(r.sequence_number);
    EXPECT_EQ(r.partition_key, "key");
  }
  EXPECT_THAT(seqs, ::testing::ElementsAre(first[0], first[1], first[2], second[0], second[1]));
  EXPECT_EQ(*log_->LastSequence(stream_id_, 0), second[1]);
}

TEST_F(JetStreamShardLogTest, AReadStartsAtTheGivenSequenceNumberEvenInsideABatch) {
  const std::vector<uint64_t> seqs = Append(0, 1, Data("a", 5));
  Append(0, 2, Data("b", 1));
  EXPECT_THAT(DataOf(ReadAll(0, seqs[3])), ::testing::ElementsAre("a-3", "a-4", "b-0"));
  // A limit and a byte budget end a read inside a batch; the next read continues there.
  absl::StatusOr<LogRead> two = log_->Read(stream_id_, 0, seqs[0], 2, 1 << 20);
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_THAT(DataOf(two->records), ::testing::ElementsAre("a-0", "a-1"));
  EXPECT_EQ(two->next_sequence_number, seqs[2]);
  absl::StatusOr<LogRead> small = log_->Read(stream_id_, 0, seqs[0], 100, 1);
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->records.size(), 1u);  // the first record is always returned
}

TEST_F(JetStreamShardLogTest, ShardsOfAStreamAreReadSeparately) {
  for (int call = 0; call < 3; ++call) {
    Append(0, call * 2, Data(absl::StrCat("zero", call), 2));
    Append(1, call * 2 + 1, Data(absl::StrCat("one", call), 1));
  }
  EXPECT_THAT(DataOf(ReadAll(0)), ::testing::ElementsAre("zero0-0", "zero0-1", "zero1-0",
                                                         "zero1-1", "zero2-0", "zero2-1"));
  EXPECT_THAT(DataOf(ReadAll(1)), ::testing::ElementsAre("one0-0", "one1-0", "one2-0"));
}

TEST_F(JetStreamShardLogTest, ABatchOverTheMessageLimitIsSplitIntoPartsAndReadsBackWhole) {
  JetStreamShardLogOptions options = SingleServerOptions();
  options.max_message_bytes = 100;  // 5 + (6 + 3 + ~8) per record: a few records a part
  std::unique_ptr<JetStreamShardLog> log = NewLog(options);
  const std::vector<uint64_t> seqs = Append(0, 1, Data("record", 20), log.get());
  ASSERT_EQ(seqs.size(), 20u);
  for (size_t i = 1; i < seqs.size(); ++i) EXPECT_GT(seqs[i], seqs[i - 1]);
  // Several messages: the numbers jump where a part ends.
  EXPECT_GT(seqs.back() - seqs.front(), 19u);
  EXPECT_EQ(DataOf(ReadAll(0)), Data("record", 20));

  const std::string too_big(200, 'x');
  EXPECT_EQ(log->Append(stream_id_, 0, 2, {{"key", too_big}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(JetStreamShardLogTest, ARetriedAppendOfTheSameCallIsStoredOnceWithTheSameNumbers) {
  JetStreamShardLogOptions options = SingleServerOptions();
  options.max_message_bytes = 60;  // several parts, each de-duplicated
  std::unique_ptr<JetStreamShardLog> log = NewLog(options);
  const std::vector<uint64_t> first = Append(0, 7, Data("r", 6), log.get());
  const std::vector<uint64_t> again = Append(0, 7, Data("r", 6), log.get());
  EXPECT_EQ(again, first);
  EXPECT_EQ(DataOf(ReadAll(0)), Data("r", 6));
  // Another call with the same records is new records.
  Append(0, 8, Data("r", 6), log.get());
  EXPECT_EQ(ReadAll(0).size(), 12u);
}

TEST_F(JetStreamShardLogTest, AtTimestampFindsTheFirstBatchStoredAtOrAfterIt) {
  std::vector<uint64_t> firsts;
  for (int call = 0; call < 6; ++call) {
    firsts.push_back(Append(0, call, Data(absl::StrCat("c", call), 3))[0]);
    Append(1, 100 + call, Data("other shard", 2));  // shard 0 is sparse among the stream
  }
  const std::vector<LogRecord> records = ReadAll(0);
  ASSERT_EQ(records.size(), 18u);
  std::vector<absl::Time> times;  // the store time of each call's message
  for (int call = 0; call < 6; ++call) times.push_back(records[call * 3].arrival);
  for (int call = 0; call < 6; ++call) {
    // The earliest call stored at or after this call's time (calls may share a time).
    int expected = 0;
    while (times[expected] < times[call]) ++expected;
    absl::StatusOr<uint64_t> found = log_->FindFirstAtOrAfter(stream_id_, 0, times[call]);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(*found, firsts[expected]) << "call " << call;
  }
  absl::StatusOr<uint64_t> before = log_->FindFirstAtOrAfter(stream_id_, 0, absl::UnixEpoch());
  EXPECT_EQ(*before, firsts[0]);
  // After everything: a position past the last record, where the next one will be.
  absl::StatusOr<uint64_t> after =
      log_->FindFirstAtOrAfter(stream_id_, 0, times.back() + absl::Nanoseconds(1));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GT(*after, records.back().sequence_number);
  const uint64_t next = Append(0, 50, Data("next", 1))[0];
  EXPECT_LE(*after, next);
  EXPECT_THAT(DataOf(ReadAll(0, *after)), ::testing::ElementsAre("next-0"));
}

TEST_F(JetStreamShardLogTest, AnEmptyShardHasLastSequenceZeroAndReadsNothing) {
  EXPECT_EQ(*log_->LastSequence(stream_id_, 1), 0u);
  absl::StatusOr<LogRead> read = log_->Read(stream_id_, 1, 0, 10, 1 << 20);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->records.empty());
}

TEST_F(JetStreamShardLogTest, AClosedShardRefusesAppendsAndEndsAboveEveryRecord) {
  const std::vector<uint64_t> before = Append(0, 1, Data("parent", 3));
  absl::StatusOr<uint64_t> ending = log_->CloseShards(stream_id_, {0}, {2, 3});
  ASSERT_TRUE(ending.ok()) << ending.status();
  EXPECT_GT(*ending, before.back());
  // A retried close (a front end that did not see the answer) finds the same end.
  EXPECT_EQ(*log_->CloseShards(stream_id_, {0}, {2, 3}), *ending);

  EXPECT_EQ(log_->Append(stream_id_, 0, 2, Views(Data("late", 1))).status().code(),
            absl::StatusCode::kFailedPrecondition);
  Append(2, 3, Data("child", 1));
  Append(3, 4, Data("child", 1));
  // The closed shard stays readable (direct gets do not need its subject).
  EXPECT_EQ(DataOf(ReadAll(0)), Data("parent", 3));
  EXPECT_LT(*log_->LastSequence(stream_id_, 0), *ending);
}

TEST_F(JetStreamShardLogTest, ACloseRetriedAfterTheDuplicateWindowFindsItsStoredMarker) {
  // A front-end that finishes a reshard long after the one that began it died (NOTES.md
  // "Interrupted reshards"): JetStream no longer de-duplicates the marker's id, and the close
  // must still return the number the first close stored, whoever asks and in any order.
  JetStreamShardLogOptions options = SingleServerOptions();
  options.duplicate_window = absl::Seconds(1);
  options.append_timeout = absl::Milliseconds(500);
  options.attempt_timeout = absl::Milliseconds(200);
  std::unique_ptr<JetStreamShardLog> log = NewLog(options);
  ASSERT_NE(log, nullptr);
  const uint64_t id = next_stream_id_++;
  ASSERT_TRUE(log->CreateStream(id, {0, 1}, absl::Hours(24)).ok());
  ASSERT_TRUE(log->Append(id, 0, 1, Views(Data("a", 3))).ok());
  ASSERT_TRUE(log->Append(id, 1, 2, Views(Data("b", 3))).ok());
  absl::StatusOr<uint64_t> merged = log->CloseShards(id, {1, 0}, {2});
  ASSERT_TRUE(merged.ok()) << merged.status();
  ASSERT_TRUE(log->Append(id, 2, 3, Views(Data("c", 3))).ok());
  absl::StatusOr<uint64_t> split = log->CloseShards(id, {2}, {3, 4});
  ASSERT_TRUE(split.ok()) << split.status();
  ASSERT_TRUE(log->Append(id, 3, 4, Views(Data("d", 2))).ok());
  // A probe published after both markers: once JetStream stores its id again, the markers'
  // ids (older) are out of the duplicate window too.
  const std::string control = absl::StrCat("trib.", id, ".ctl");
  nats::PublishOptions probe;
  probe.msg_id = absl::StrCat("probe.", id);
  ASSERT_TRUE(client_->Publish(control, "probe", probe).ok());
  std::string seen;
  ASSERT_TRUE(PollFor(
                  absl::Seconds(20), absl::Milliseconds(100), "the duplicate window to pass",
                  [&] {
                    absl::StatusOr<nats::PubAck> ack = client_->Publish(control, "probe", probe);
                    seen = ack.ok() ? absl::StrCat("duplicate ", ack->duplicate)
                                    : ack.status().ToString();
                    return ack.ok() && !ack->duplicate;
                  },
                  [&] { return seen; })
                  .ok());
  // Another front-end's log object, the parents in the other order.
  std::unique_ptr<JetStreamShardLog> other = NewLog(options);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(*other->CloseShards(id, {0, 1}, {2}), *merged);
  EXPECT_EQ(*other->CloseShards(id, {2}, {3, 4}), *split);
  EXPECT_LT(*merged, *split);
}

TEST_F(JetStreamShardLogTest, ConcurrentAppendsToOneShardKeepEachCallTogetherAndNumbersUnique) {
  constexpr int kThreads = 4;
  constexpr int kCalls = 15;
  std::vector<std::thread> threads;
  std::vector<std::vector<uint64_t>> seqs(kThreads * kCalls);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCalls; ++c) {
        const int call = t * kCalls + c;
        absl::StatusOr<std::vector<uint64_t>> s =
            log_->Append(stream_id_, 0, call, Views(Data(absl::StrCat("call", call), 3)));
        if (s.ok()) seqs[call] = *s;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<uint64_t> all;
  for (int call = 0; call < kThreads * kCalls; ++call) {
    ASSERT_EQ(seqs[call].size(), 3u) << "call " << call << " failed";
    for (uint64_t s : seqs[call]) EXPECT_TRUE(all.insert(s).second) << s << " given twice";
  }
  const std::vector<LogRecord> records = ReadAll(0);
  ASSERT_EQ(records.size(), all.size());
  for (size_t i = 0; i < records.size(); i += 3) {
    // A call's three records are adjacent and in call order.
    const std::string call = records[i].data.substr(0, records[i].data.find('-'));
    EXPECT_EQ(records[i].data, call + "-0");
    EXPECT_EQ(records[i + 1].data, call + "-1");
    EXPECT_EQ(records[i + 2].data, call + "-2");
  }
}

// The records of one call for shards 0..n-1: "<prefix><shard>-<i>", `per_shard` each.
struct CallRecords {
  std::vector<std::vector<std::string>> data;
  std::vector<std::vector<LogRecordView>> views;
  std::vector<ShardAppend> appends;

  CallRecords(const std::string& prefix, std::vector<uint32_t> shards, int per_shard) {
    for (uint32_t shard : shards) data.push_back(Data(absl::StrCat(prefix, shard), per_shard));
    for (const auto& d : data) views.push_back(Views(d));
    for (size_t i = 0; i < shards.size(); ++i) appends.push_back({shards[i], views[i]});
  }
};

TEST_F(JetStreamShardLogTest, ACallOverManyShardsIsAcknowledgedPerShardAndReadsBackInOrder) {
  const uint64_t stream = stream_id_ + 500;
  std::vector<uint32_t> shards;
  for (uint32_t s = 0; s < 16; ++s) shards.push_back(s);
  ASSERT_TRUE(log_->CreateStream(stream, shards, absl::Hours(24)).ok());
  CallRecords first("a", shards, 3);
  CallRecords second("b", shards, 2);
  std::vector<absl::StatusOr<std::vector<uint64_t>>> one =
      log_->AppendCall(stream, 1, first.appends);
  std::vector<absl::StatusOr<std::vector<uint64_t>>> two =
      log_->AppendCall(stream, 2, second.appends);
  ASSERT_EQ(one.size(), shards.size());
  ASSERT_EQ(two.size(), shards.size());
  for (uint32_t s : shards) {
    ASSERT_TRUE(one[s].ok()) << s << ": " << one[s].status();
    ASSERT_TRUE(two[s].ok()) << s << ": " << two[s].status();
    ASSERT_EQ(one[s]->size(), 3u);
    ASSERT_EQ(two[s]->size(), 2u);
    EXPECT_GT(two[s]->front(), one[s]->back());
    absl::StatusOr<LogRead> read = log_->Read(stream, s, 0, 100, 1 << 20);
    ASSERT_TRUE(read.ok()) << read.status();
    std::vector<std::string> expected = first.data[s];
    expected.insert(expected.end(), second.data[s].begin(), second.data[s].end());
    EXPECT_EQ(DataOf(read->records), expected) << "shard " << s;
    std::vector<uint64_t> seqs;
    for (const LogRecord& r : read->records) seqs.push_back(r.sequence_number);
    std::vector<uint64_t> acked = *one[s];
    acked.insert(acked.end(), two[s]->begin(), two[s]->end());
    EXPECT_EQ(seqs, acked) << "shard " << s;
  }
  // The same call again (a retry with the same ids): nothing stored twice, the same numbers.
  std::vector<absl::StatusOr<std::vector<uint64_t>>> again =
      log_->AppendCall(stream, 1, first.appends);
  for (uint32_t s : shards) {
    ASSERT_TRUE(again[s].ok()) << again[s].status();
    EXPECT_EQ(*again[s], *one[s]);
  }
  EXPECT_EQ(client_->GetStreamInfo(log_->StreamName(stream))->messages, 2 * shards.size());
}

// A call's announcement of several shards is one message (not one a shard), and watchers get
// each shard's tip from it; the one-shard form of before is still understood, and a malformed
// tip is skipped.
TEST_F(JetStreamShardLogTest, ACallsAnnouncementIsOneMessageThatWatchersReadPerShard) {
  struct Tip {
    uint32_t shard;
    uint64_t last;
    bool operator==(const Tip& o) const { return shard == o.shard && last == o.last; }
  };
  absl::Mutex mu;
  std::vector<Tip> tips;
  int messages = 0;  // announcements of this case's stream on the wire
  bool sentinel = false;  // the last one (one publisher: a subscription gets them in order)
  const std::string mine = absl::StrCat("trib.tips.", stream_id_, ".");
  absl::StatusOr<std::unique_ptr<nats::CoreSubscription>> wire = client_->Subscribe(
      "trib.tips.>", [&](absl::string_view subject, absl::string_view) {
        absl::MutexLock lock(&mu);
        if (!absl::StartsWith(subject, mine)) return;
        ++messages;
        sentinel |= subject == log_->TipSubject(stream_id_, 9);
      });
  ASSERT_TRUE(wire.ok()) << wire.status();
  absl::StatusOr<std::unique_ptr<AppendWatch>> watch =
      log_->WatchAppends([&](uint64_t stream, uint32_t shard, uint64_t last) {
        absl::MutexLock lock(&mu);
        if (stream == stream_id_) tips.push_back({shard, last});
      });
  ASSERT_TRUE(watch.ok()) << watch.status();

  const std::vector<ShardTip> call = {{0, 100}, {1, 2000}, {63, 1ull << 40}};
  log_->AnnounceAppends(stream_id_, call);
  log_->AnnounceAppend(stream_id_, 7, 70);  // the one-shard form
  ASSERT_TRUE(client_->PublishCore(log_->CallTipSubject(stream_id_), "x:1,2:3,4").ok());
  log_->AnnounceAppend(stream_id_, 9, 90);  // the sentinel
  const std::vector<Tip> expected = {{0, 100}, {1, 2000}, {63, 1ull << 40}, {7, 70}, {2, 3},
                                     {9, 90}};
  absl::Status awaited = AwaitFor(
      mu, absl::Seconds(20), "6 tips, and the sentinel on the wire",
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
        return tips.size() >= expected.size() && sentinel;
      },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
        return absl::StrCat(tips.size(), " tips, ", messages, " messages");
      });
  ASSERT_TRUE(awaited.ok()) << awaited;
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(tips == expected);
  EXPECT_EQ(messages, 4);  // the call's, the one-shard one, the malformed one, the sentinel
}

TEST_F(JetStreamShardLogTest, EachShardOfACallSucceedsOrFailsOnItsOwn) {
  ASSERT_TRUE(log_->CloseShards(stream_id_, {0}, {2, 3}).ok());
  CallRecords call("c", {0, 1, 2}, 2);
  std::vector<std::string> too_big_data = {std::string(9 << 20, 'x')};
  std::vector<LogRecordView> too_big = Views(too_big_data);
  call.appends.push_back({3, too_big});
  std::vector<absl::StatusOr<std::vector<uint64_t>>> results =
      log_->AppendCall(stream_id_, 1, call.appends);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].status().code(), absl::StatusCode::kFailedPrecondition)
      << results[0].status();
  ASSERT_TRUE(results[1].ok()) << results[1].status();
  ASSERT_TRUE(results[2].ok()) << results[2].status();
  EXPECT_EQ(results[3].status().code(), absl::StatusCode::kInvalidArgument) << results[3].status();
  EXPECT_EQ(DataOf(ReadAll(1)), call.data[1]);
  EXPECT_EQ(DataOf(ReadAll(2)), call.data[2]);
  EXPECT_TRUE(ReadAll(0).empty());
  EXPECT_TRUE(ReadAll(3).empty());

  // A shard named twice is refused (both entries); the call's other shards are appended.
  CallRecords twice("t", {1, 2, 1}, 1);
  results = log_->AppendCall(stream_id_, 2, twice.appends);
  EXPECT_EQ(results[0].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(results[1].ok()) << results[1].status();
  EXPECT_EQ(results[2].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DataOf(ReadAll(1)), call.data[1]);
}

TEST_F(JetStreamShardLogTest, ConcurrentCallsOverSharedShardsKeepEachShardInCallOrderPerThread) {
  const uint64_t stream = stream_id_ + 600;
  const std::vector<uint32_t> shards = {0, 1, 2, 3};
  ASSERT_TRUE(log_->CreateStream(stream, shards, absl::Hours(24)).ok());
  constexpr int kThreads = 4;
  constexpr int kCalls = 10;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCalls; ++c) {
        // Each thread's calls touch the shards in another order.
        std::vector<uint32_t> order = shards;
        std::rotate(order.begin(), order.begin() + (t + c) % order.size(), order.end());
        CallRecords call(absl::StrCat("t", t, "c", c, "s"), order, 2);
        for (const auto& r : log_->AppendCall(stream, t * kCalls + c, call.appends)) {
          if (!r.ok()) failures[t] = r.status().ToString();
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& f : failures) EXPECT_EQ(f, "");
  for (uint32_t s : shards) {
    absl::StatusOr<LogRead> read = log_->Read(stream, s, 0, 1000, 1 << 20);
    ASSERT_TRUE(read.ok()) << read.status();
    ASSERT_EQ(read->records.size(), static_cast<size_t>(kThreads * kCalls * 2));
    std::vector<int> last_call(kThreads, -1);
    for (size_t i = 0; i < read->records.size(); i += 2) {
      // "t<t>c<c>s<shard>-<i>": a call's two records adjacent, a thread's calls in order.
      const std::string& d = read->records[i].data;
      const int t = std::stoi(d.substr(1));
      const int c = std::stoi(d.substr(d.find('c') + 1));
      EXPECT_EQ(d, absl::StrCat("t", t, "c", c, "s", s, "-0"));
      EXPECT_EQ(read->records[i + 1].data, absl::StrCat("t", t, "c", c, "s", s, "-1"));
      EXPECT_GT(c, last_call[t]);
      last_call[t] = c;
    }
  }
}

TEST_F(JetStreamShardLogTest, BadArgumentsAreRefused) {
  EXPECT_EQ(log_->Append(stream_id_, 0, 1, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<std::string> many(501, "x");
  EXPECT_EQ(log_->Append(stream_id_, 0, 1, Views(many)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log_->Read(stream_id_, 0, 0, 0, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  JetStreamShardLogOptions bad = SingleServerOptions("has.dot");
  EXPECT_EQ(JetStreamShardLog::Create(*client_, RealClock::Get(), bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  JetStreamShardLogOptions short_window = SingleServerOptions();
  short_window.duplicate_window = short_window.append_timeout;
  EXPECT_EQ(JetStreamShardLog::Create(*client_, RealClock::Get(), short_window).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(JetStreamShardLogTest, AppendsToAMissingStreamAreNotFound) {
  EXPECT_EQ(log_->Append(stream_id_ + 1000, 0, 1, Views(Data("x", 1))).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(log_->FindFirstAtOrAfter(stream_id_ + 1000, 0, absl::UnixEpoch()).status().code(),
            absl::StatusCode::kNotFound);
}

// Cases that kill the server run on one of their own.
class JetStreamShardLogRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<NatsCluster>> cluster = NatsCluster::Start(1);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(cluster).value();
    client_ = cluster_->NewClient();
  }

  std::unique_ptr<JetStreamShardLog> NewLog(nats::NatsClient& client,
                                            JetStreamShardLogOptions options) {
    absl::StatusOr<std::unique_ptr<JetStreamShardLog>> log =
        JetStreamShardLog::Create(client, RealClock::Get(), std::move(options));
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  std::unique_ptr<NatsCluster> cluster_;
  std::unique_ptr<nats::NatsClient> client_;
};

TEST_F(JetStreamShardLogRestartTest, SequenceNumbersAreNeverReusedAfterAServerRestart) {
  std::unique_ptr<JetStreamShardLog> log = NewLog(*client_, SingleServerOptions("fe1"));
  ASSERT_TRUE(log->CreateStream(1, {0}, absl::Hours(1)).ok());
  absl::StatusOr<std::vector<uint64_t>> before = log->Append(1, 0, 1, Views(Data("before", 3)));
  ASSERT_TRUE(before.ok()) << before.status();

  cluster_->Kill(0);
  ASSERT_TRUE(cluster_->Restart(0).ok());
  // A new front end (new process: new id, new connection) appends after the restart.
  std::unique_ptr<nats::NatsClient> client = cluster_->NewClient();
  std::unique_ptr<JetStreamShardLog> restarted = NewLog(*client, SingleServerOptions("fe2"));
  absl::StatusOr<uint64_t> last = restarted->LastSequence(1, 0);
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, before->back());
  absl::StatusOr<std::vector<uint64_t>> after =
      restarted->Append(1, 0, 1, Views(Data("after", 2)));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_GT(after->front(), before->back());
  absl::StatusOr<LogRead> read = restarted->Read(1, 0, 0, 100, 1 << 20);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->records.size(), 5u);
  EXPECT_EQ(read->records[0].data, "before-0");
  EXPECT_EQ(read->records[4].data, "after-1");
}

// The per-shard pause: an append whose ack never came fails, and the shard's next append first
// stores it, with its ids, before its own records. The server is stopped (SIGSTOP) while the
// append publishes and then killed: what it had not read from its socket is lost, so the
// append's records reach the stream only if they are published again.
TEST_F(JetStreamShardLogRestartTest, AnUnacknowledgedAppendIsStoredOnceBeforeTheShardsNextOne) {
  JetStreamShardLogOptions options = SingleServerOptions("fe1");
  options.attempt_timeout = absl::Milliseconds(300);
  options.append_timeout = absl::Seconds(1);
  std::unique_ptr<JetStreamShardLog> log = NewLog(*client_, options);
  ASSERT_TRUE(log->CreateStream(1, {0}, absl::Hours(1)).ok());
  ASSERT_TRUE(log->Append(1, 0, 1, Views(Data("first", 1))).ok());

  ASSERT_TRUE(cluster_->Pause(0).ok());
  absl::StatusOr<std::vector<uint64_t>> lost = log->Append(1, 0, 2, Views(Data("unacked", 2)));
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kDeadlineExceeded) << lost.status();
  cluster_->Kill(0);
  ASSERT_TRUE(cluster_->Restart(0).ok());

  // Once the client has reconnected, the shard's next append.
  absl::Status reconnected;
  ASSERT_TRUE(PollFor(
                  absl::Seconds(30), absl::Milliseconds(50), "the client reconnected",
                  [&] { return (reconnected = client_->CheckJetStream()).ok(); },
                  [&] { return reconnected.ToString(); })
                  .ok());
  absl::StatusOr<std::vector<uint64_t>> next = log->Append(1, 0, 3, Views(Data("next", 1)));
  ASSERT_TRUE(next.ok()) << next.status();
  absl::StatusOr<LogRead> read = log->Read(1, 0, 0, 100, 1 << 20);
  ASSERT_TRUE(read.ok()) << read.status();
  std::vector<std::string> data;
  for (const LogRecord& r : read->records) data.push_back(r.data);
  EXPECT_THAT(data, ::testing::ElementsAre("first-0", "unacked-0", "unacked-1", "next-0"));
}

// The per-shard pause across the shards of one call: a call over two shards whose acks never
// came fails on both, and each shard's next append stores the call's part first.
TEST_F(JetStreamShardLogRestartTest, AnUnacknowledgedCallIsStoredOnceBeforeEachShardsNextOne) {
  JetStreamShardLogOptions options = SingleServerOptions("fe1");
  options.attempt_timeout = absl::Milliseconds(300);
  options.append_timeout = absl::Seconds(1);
  std::unique_ptr<JetStreamShardLog> log = NewLog(*client_, options);
  ASSERT_TRUE(log->CreateStream(1, {0, 1}, absl::Hours(1)).ok());
  CallRecords first("first", {0, 1}, 1);
  for (const auto& r : log->AppendCall(1, 1, first.appends)) ASSERT_TRUE(r.ok()) << r.status();

  ASSERT_TRUE(cluster_->Pause(0).ok());
  CallRecords unacked("unacked", {0, 1}, 2);
  for (const auto& r : log->AppendCall(1, 2, unacked.appends)) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  }
  cluster_->Kill(0);
  ASSERT_TRUE(cluster_->Restart(0).ok());
  absl::Status reconnected;
  ASSERT_TRUE(PollFor(
                  absl::Seconds(30), absl::Milliseconds(50), "the client reconnected",
                  [&] { return (reconnected = client_->CheckJetStream()).ok(); },
                  [&] { return reconnected.ToString(); })
                  .ok());
  CallRecords next("next", {1, 0}, 1);
  for (const auto& r : log->AppendCall(1, 3, next.appends)) ASSERT_TRUE(r.ok()) << r.status();
  for (uint32_t s : {0u, 1u}) {
    absl::StatusOr<LogRead> read = log->Read(1, s, 0, 100, 1 << 20);
    ASSERT_TRUE(read.ok()) << read.status();
    std::vector<std::string> data;
    for (const LogRecord& r : read->records) data.push_back(r.data);
    EXPECT_THAT(data, ::testing::ElementsAre(absl::StrCat("first", s, "-0"),
                                             absl::StrCat("unacked", s, "-0"),
                                             absl::StrCat("unacked", s, "-1"),
                                             absl::StrCat("next", s, "-0")))
        << "shard " << s;
  }
}

// Group commit: appends that wait behind a shard's message in flight go out together in the
// next one (each call's records adjacent, in order, numbered from the shared message), and every
// record is stored once. The server is paused while the first append publishes, so the others
// queue behind it.
TEST_F(JetStreamShardLogRestartTest, AppendsWaitingForAShardsTurnShareItsNextMessage) {
  JetStreamShardLogOptions options = SingleServerOptions("fe1");
  options.attempt_timeout = absl::Seconds(5);
  options.append_timeout = absl::Seconds(20);
  std::unique_ptr<JetStreamShardLog> log = NewLog(*client_, options);
  ASSERT_TRUE(log->CreateStream(1, {0}, absl::Hours(1)).ok());
  ASSERT_TRUE(log->Append(1, 0, 1, Views(Data("warm", 1))).ok());

  ASSERT_TRUE(cluster_->Pause(0).ok());
  constexpr int kCalls = 5;
  std::vector<absl::StatusOr<std::vector<uint64_t>>> results(kCalls,
                                                             absl::InternalError("not run"));
  std::vector<std::vector<std::string>> data;
  for (int c = 0; c < kCalls; ++c) data.push_back(Data(absl::StrCat("c", c), 3));
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kCalls; ++c) {
    threads.emplace_back([&, c] {
      started.fetch_add(1);
      results[c] = log->Append(1, 0, 10 + c, Views(data[c]));
    });
  }
  ASSERT_TRUE(PollFor(absl::Seconds(10), absl::Milliseconds(50), "every append started",
                      [&] { return started.load() == kCalls; },
                      [&] { return absl::StrCat(started.load(), " started"); })
                  .ok());
  cluster_->Resume(0);
  for (std::thread& t : threads) t.join();

  std::map<uint64_t, int> calls_per_message;
  std::set<uint64_t> numbers;
  for (int c = 0; c < kCalls; ++c) {
    ASSERT_TRUE(results[c].ok()) << "call " << c << ": " << results[c].status();
    ASSERT_EQ(results[c]->size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_TRUE(numbers.insert((*results[c])[i]).second);
      if (i > 0) {
        EXPECT_EQ((*results[c])[i], (*results[c])[i - 1] + 1) << "call " << c;
      }
    }
    ++calls_per_message[results[c]->front() >> kIndexBits];
  }
  int largest = 0;
  for (const auto& [message, calls] : calls_per_message) largest = std::max(largest, calls);
  EXPECT_GE(largest, 2) << "no two waiting appends shared a message";
  absl::StatusOr<LogRead> read = log->Read(1, 0, 0, 100, 1 << 20);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->records.size(), 1u + 3 * kCalls);
  for (const LogRecord& r : read->records) {
    if (r.data == "warm-0") continue;
    const int c = std::stoi(r.data.substr(1));
    const auto& seqs = *results[c];
    const size_t i = std::stoul(r.data.substr(r.data.find('-') + 1));
    EXPECT_EQ(r.sequence_number, seqs[i]) << r.data;
  }
}

}  // namespace
}  // namespace tributary::shard_store::jetstream

namespace tributary::shard_store::jetstream {
namespace {

// Replicated three ways: records acknowledged before and during a kill -9 of the stream's leader
// are all there, once, in call order, when a new leader has been elected.
TEST(JetStreamShardLogClusterTest, AcknowledgedRecordsSurviveAKillOfTheStreamLeader) {
  NatsCluster& cluster = NatsCluster::Shared(3);
  std::unique_ptr<nats::NatsClient> client = cluster.NewClient();
  JetStreamShardLogOptions options;
  options.front_end_id = "fe1";
  options.replicas = 3;
  options.attempt_timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<JetStreamShardLog>> log =
      JetStreamShardLog::Create(*client, RealClock::Get(), options);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_TRUE((*log)->CreateStream(1, {0, 1, 2}, absl::Hours(1)).ok());
  absl::StatusOr<int> leader = cluster.AwaitStreamLeader("trib_1");
  ASSERT_TRUE(leader.ok()) << leader.status();

  constexpr int kCalls = 60;
  constexpr int kKillAfter = 30;
  for (int call = 0; call < kCalls; ++call) {
    if (call == kKillAfter) cluster.Kill(*leader);
    // Every call spans the three shards (their parts in flight at once); a call that fails
    // (the election outlasted its deadline) is retried as a whole with its ids.
    CallRecords records(absl::StrCat("call", call, "s"), {0, 1, 2}, 5);
    std::string failed;
    for (int attempt = 0; attempt < 3; ++attempt) {
      failed.clear();
      for (const auto& r : (*log)->AppendCall(1, call, records.appends)) {
        if (!r.ok()) failed = r.status().ToString();
      }
      if (failed.empty()) break;
    }
    ASSERT_EQ(failed, "") << "call " << call;
  }
  for (uint32_t shard : {1u, 2u, 0u}) {
  std::vector<std::string> expected;
  for (int call = 0; call < kCalls; ++call) {
    for (const std::string& d : Data(absl::StrCat("call", call, "s", shard), 5)) {
      expected.push_back(d);
    }
  }
  // A direct get may be answered by a replica a moment behind: read until it has everything.
  std::vector<std::string> data;
  std::string last_seen;
  EXPECT_TRUE(PollFor(
                  absl::Seconds(30), absl::Milliseconds(100), "every acknowledged record",
                  [&] {
                    absl::StatusOr<LogRead> read =
                        (*log)->Read(1, shard, 0, 10000, 64 << 20);
                    if (!read.ok()) {
                      last_seen = read.status().ToString();
                      return false;
                    }
                    data.clear();
                    for (const LogRecord& r : read->records) data.push_back(r.data);
                    last_seen = absl::StrCat(data.size(), " records");
                    return data.size() >= expected.size();
                  },
                  [&] { return last_seen; })
                  .ok())
      << last_seen;
  EXPECT_EQ(data, expected) << "shard " << shard;
  }
  ASSERT_TRUE(cluster.Restart(*leader).ok());
}

}  // namespace
}  // namespace tributary::shard_store::jetstream
