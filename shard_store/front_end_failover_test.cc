// Clients failing over between store front-ends (cluster mode, issue 20): a 3-server JetStream
// cluster (R3 streams), one etcd, two shard_store_server processes over them, a producer and the
// poller's shard readers (poller/retrieval's SubscribeToShard reader with its GetRecords
// fallback) each given both front-ends as one list (common/replica_channel.h). Under load the
// front-end the readers use is killed with -9, then restarted, then the one both use is killed:
// every acknowledged record is delivered, each shard's first deliveries in sequence order (and
// so each key's), and the readers keep going on the front-end that is left.
//
// The readers start on the other front-end than the producer, so the first phase also needs
// the cross-front-end wake-ups: the poller's subscriptions have no keep-alive events, and
// without a wake a subscription on B never reads what was put through A.
//
// Waits are bounded real-time polls (common/await.h); the producer and readers pause briefly
// by the real clock (common/clock.h) after a failed call, as the harness's producer does.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/replica_channel.h"
#include "common/status_macros.h"
#include "common/testing/test_util.h"
#include "etcd/testing/etcd_cluster.h"
#include "gtest/gtest.h"
#include "nats/testing/nats_cluster.h"
#include "poller/retrieval/shard_store_reader.h"
#include "shard_store/shard_store_client.h"

namespace tributary::shard_store {
namespace {

constexpr absl::Duration kGuard = absl::Seconds(60);  // a failure guard, not a pace
constexpr absl::Duration kPoll = absl::Milliseconds(50);
constexpr int kShards = 4;
constexpr int kKeys = 16;
constexpr int kRecordsPerCall = 20;

// One acknowledged record of the producer.
struct Acked {
  int key = 0;
  int64_t n = 0;
  std::string shard_id;
  uint64_t sequence_number = 0;
};

// One record a reader returned, in the order the reader of its shard returned them.
struct Delivered {
  std::string data;  // "key|n"
  uint64_t sequence_number = 0;
};

class FrontEndFailoverTest : public ::testing::Test {
 protected:
  FrontEndFailoverTest()
      : etcd_(etcd::testing::EtcdCluster::Shared(1)),
        nats_(nats::testing::NatsCluster::Shared(3)),
        prefix_(etcd_.NewPrefix()),
        dir_(testing::NewTempDir("front_end_failover")) {}

  // A shard_store_server front-end on `port` (0: a free one); returns its address.
  absl::StatusOr<std::string> StartFrontEnd(testing::Subprocess* process, int port) {
    const int n = ++starts_;
    const std::string port_file = absl::StrCat(dir_, "/port.", n);
    ASSIGN_OR_RETURN(*process,
                     testing::Subprocess::Start(
                         testing::RunfilePath("shard_store/shard_store_server"),
                         {absl::StrCat("--listen=127.0.0.1:", port),
                          absl::StrCat("--coordination=", etcd_.url()),
                          absl::StrCat("--etcd_prefix=", prefix_),
                          absl::StrCat("--log=", nats_.url()), "--log_replicas=3",
                          absl::StrCat("--port_file=", port_file)},
                         absl::StrCat(dir_, "/server.", n, ".log")));
    ASSIGN_OR_RETURN(int bound, testing::WaitForPortFile(port_file));
    const std::string address = absl::StrCat("127.0.0.1:", bound);
    RETURN_IF_ERROR(testing::WaitForServing(address));
    return address;
  }

  // Writes "key|n" records over kKeys keys until stopped (at most 20,000 calls), each call
  // kRecordsPerCall records, retrying every record not acknowledged (a failed call as a whole,
  // or an entry with an error) with the same n before the key's next: each key's records are
  // acknowledged in order, possibly stored twice (at-least-once).
  void Produce(ShardStoreClient& client) {
    std::vector<int64_t> next(kKeys, 0);
    int key_cursor = 0;
    for (int call = 0; call < 20000 && !stop_producer_.load(); ++call) {
      v1::PutRecordsRequest request;
      request.set_stream_name("s");
      std::vector<int> keys;
      for (int i = 0; i < kRecordsPerCall && i < kKeys; ++i) {
        const int k = (key_cursor + i) % kKeys;
        keys.push_back(k);
        v1::PutRecordsRequestEntry* e = request.add_records();
        e->set_partition_key(absl::StrCat("key-", k));
        e->set_data(absl::StrCat(k, "|", next[k]));
      }
      key_cursor = (key_cursor + 5) % kKeys;
      absl::StatusOr<v1::PutRecordsResponse> response = client.PutRecords(request);
      if (!response.ok()) {
        failed_calls_.fetch_add(1);
        RealClock::Get().SleepFor(absl::Milliseconds(20));  // the front-end may be gone
        continue;
      }
      absl::MutexLock lock(&mu_);
      for (int i = 0; i < response->records_size(); ++i) {
        const v1::PutRecordsResultEntry& r = response->records(i);
        if (!r.error_code().empty()) continue;  // sent again next call, same n
        acked_.push_back({keys[i], next[keys[i]], r.shard_id(), std::stoull(r.sequence_number())});
        ++next[keys[i]];
      }
    }
  }

  // Reads `shard_id` from TRIM_HORIZON with the poller's reader until stopped, as the poller's
  // shard consumer does: after an error it reads again (the reader resumes after the last
  // record it returned, on whichever front-end the channel reaches).
  void Read(poller::ShardStoreReader& reader, const std::string& shard_id) {
    std::unique_ptr<poller::ShardRecordStream> stream = reader.Open("s", shard_id, {});
    {
      absl::MutexLock lock(&mu_);
      if (stop_readers_) return;
      streams_[shard_id] = stream.get();  // stop_all cancels it
    }
    for (int reads = 0; reads < 200000; ++reads) {
      absl::StatusOr<poller::ReadResult> result = stream->Next();
      {
        absl::MutexLock lock(&mu_);
        if (stop_readers_) break;
        if (result.ok()) {
          for (const v1::Record& r : result->records) {
            delivered_[shard_id].push_back({r.data(), std::stoull(r.sequence_number())});
          }
          continue;
        }
        ++read_errors_;
      }
      RealClock::Get().SleepFor(absl::Milliseconds(20));  // the poller pauses reads too
    }
    absl::MutexLock lock(&mu_);
    streams_.erase(shard_id);  // then freed here: no read of it is outstanding
  }

  int64_t AckedCount() {
    absl::MutexLock lock(&mu_);
    return static_cast<int64_t>(acked_.size());
  }

  // Waits until the producer has `more` acknowledged records beyond now.
  absl::Status AwaitMoreAcked(int64_t more, absl::string_view phase) {
    const int64_t target = AckedCount() + more;
    return PollFor(
        kGuard, kPoll, absl::StrCat(target, " acknowledged records (", phase, ")"),
        [&] { return AckedCount() >= target; },
        [&] { return absl::StrCat(AckedCount(), " acknowledged, ", failed_calls_.load(),
                                  " failed calls"); });
  }

  // Acknowledged records not delivered yet, by "key|n".
  std::vector<std::string> Undelivered() {
    absl::MutexLock lock(&mu_);
    std::set<std::string> seen;
    for (const auto& [shard, records] : delivered_) {
      for (const Delivered& d : records) seen.insert(d.data);
    }
    std::vector<std::string> missing;
    for (const Acked& a : acked_) {
      const std::string data = absl::StrCat(a.key, "|", a.n);
      if (seen.count(data) == 0) missing.push_back(data);
    }
    return missing;
  }

  etcd::testing::EtcdCluster& etcd_;
  nats::testing::NatsCluster& nats_;
  const std::string prefix_;
  const std::string dir_;
  int starts_ = 0;
  std::atomic<bool> stop_producer_{false};
  std::atomic<int64_t> failed_calls_{0};
  absl::Mutex mu_;
  bool stop_readers_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Acked> acked_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<Delivered>> delivered_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, poller::ShardRecordStream*> streams_ ABSL_GUARDED_BY(mu_);
  int64_t read_errors_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_F(FrontEndFailoverTest, ProducerAndReadersFailOverBetweenFrontEnds) {
  testing::Subprocess a_process, b_process;
  absl::StatusOr<std::string> a = StartFrontEnd(&a_process, 0);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::string> b = StartFrontEnd(&b_process, 0);
  ASSERT_TRUE(b.ok()) << b.status();

  ShardStoreClient on_a(MakeChannel(*a), absl::Seconds(30));
  ShardStoreClient on_b(MakeChannel(*b), absl::Seconds(30));
  v1::CreateStreamRequest create;
  create.set_stream_name("s");
  create.set_shard_count(kShards);
  ASSERT_TRUE(on_a.CreateStream(create).ok());
  absl::StatusOr<std::vector<v1::Shard>> shards;
  ASSERT_TRUE(PollFor(
                  kGuard, kPoll, "the stream on B",
                  [&] {
                    shards = on_b.ListAllShards("s");
                    return shards.ok() && static_cast<int>(shards->size()) == kShards;
                  },
                  [&] { return shards.ok() ? "wrong count" : shards.status().ToString(); })
                  .ok());

  // An iterator from A is taken by B (tokens are MAC'd with the secret every front-end reads
  // from etcd).
  {
    v1::GetShardIteratorRequest it;
    it.set_stream_name("s");
    it.set_shard_id((*shards)[0].shard_id());
    it.set_shard_iterator_type(v1::TRIM_HORIZON);
    absl::StatusOr<v1::GetShardIteratorResponse> iterator = on_a.GetShardIterator(it);
    ASSERT_TRUE(iterator.ok()) << iterator.status();
    v1::GetRecordsRequest get;
    get.set_shard_iterator(iterator->shard_iterator());
    absl::StatusOr<v1::GetRecordsResponse> records = on_b.GetRecords(get);
    EXPECT_TRUE(records.ok()) << records.status();
  }

  // The producer lists A first, the readers B first (pick_first: the first that answers).
  ShardStoreClient producer_client(MakeReplicaChannel(absl::StrCat(*a, ",", *b)),
                                   absl::Seconds(10));
  ShardStoreClient reader_client(MakeReplicaChannel(absl::StrCat(*b, ",", *a)),
                                 absl::Seconds(10));
  poller::ShardStoreReader reader(reader_client);
  std::vector<std::thread> readers;
  for (const v1::Shard& shard : *shards) {
    readers.emplace_back([&, id = shard.shard_id()] { Read(reader, id); });
  }
  std::thread producer([&] { Produce(producer_client); });
  auto stop_all = [&] {
    stop_producer_ = true;
    if (producer.joinable()) producer.join();
    {
      absl::MutexLock lock(&mu_);
      stop_readers_ = true;
      for (auto& [id, stream] : streams_) stream->Cancel();
    }
    for (std::thread& t : readers) {
      if (t.joinable()) t.join();
    }
  };

  absl::Cleanup stop_on_exit = [&] { stop_all(); };  // also when an ASSERT returns early

  // Phase 1: put through A, read on B (woken by A's announcements).
  absl::Status phase = AwaitMoreAcked(400, "through A");
  EXPECT_TRUE(phase.ok()) << phase;
  absl::Status caught_up = PollFor(
      kGuard, kPoll, "B's readers to deliver what was put through A",
      [&] { return Undelivered().size() < 100; },
      [&] { return absl::StrCat(Undelivered().size(), " undelivered"); });
  EXPECT_TRUE(caught_up.ok()) << caught_up;

  // Phase 2: kill -9 of B (the readers'), under load: the readers resubscribe on A.
  const int b_port = std::stoi(b->substr(b->rfind(':') + 1));
  b_process.Kill(SIGKILL);
  phase = AwaitMoreAcked(400, "after B was killed");
  EXPECT_TRUE(phase.ok()) << phase;

  // B again on its port; then kill -9 of A (the producer's and now the readers'): both go on
  // on B.
  absl::StatusOr<std::string> b_again = StartFrontEnd(&b_process, b_port);
  ASSERT_TRUE(b_again.ok()) << b_again.status();
  phase = AwaitMoreAcked(200, "before A is killed");
  EXPECT_TRUE(phase.ok()) << phase;
  a_process.Kill(SIGKILL);
  phase = AwaitMoreAcked(400, "after A was killed");
  EXPECT_TRUE(phase.ok()) << phase;

  stop_producer_ = true;
  producer.join();
  absl::Status delivered = PollFor(
      kGuard, kPoll, "every acknowledged record delivered", [&] { return Undelivered().empty(); },
      [&] {
        std::vector<std::string> missing = Undelivered();
        missing.resize(std::min<size_t>(missing.size(), 10));
        return absl::StrCat(Undelivered().size(), " undelivered, e.g. ",
                            absl::StrJoin(missing, " "));
      });
  EXPECT_TRUE(delivered.ok()) << delivered;
  stop_all();
  if (!delivered.ok()) {
    // Where the missing records were acknowledged, and what their shard's reader returned
    // around them.
    absl::MutexLock lock(&mu_);
    std::set<std::string> missing;
    for (const auto& [shard, records] : delivered_) {
      for (const Delivered& d : records) missing.insert(d.data);
    }
    for (size_t i = 0; i < acked_.size(); ++i) {
      const Acked& a = acked_[i];
      const std::string data = absl::StrCat(a.key, "|", a.n);
      if (missing.count(data) > 0) continue;
      std::string around;
      for (const Delivered& d : delivered_[a.shard_id]) {
        if (d.sequence_number + 8 * 1024 > a.sequence_number &&
            d.sequence_number < a.sequence_number + 8 * 1024) {
          absl::StrAppend(&around, " ", d.data, "@", d.sequence_number);
        }
      }
      ADD_FAILURE() << data << " (acknowledged #" << i << ") at " << a.shard_id << " "
                    << a.sequence_number << " not delivered; delivered near it:" << around;
    }
  }

  absl::MutexLock lock(&mu_);
  std::cerr << acked_.size() << " records acknowledged, " << failed_calls_.load()
            << " failed put calls, " << read_errors_ << " failed reads\n";
  // The readers saw front-ends go: some reads failed and were resumed.
  EXPECT_GT(read_errors_, 0);
  // Each shard's first deliveries in sequence order (a reader resumes after its last record:
  // no going back); each key's records in the producer's order.
  std::set<std::string> seen;
  std::map<std::string, int64_t> key_last;
  for (const auto& [shard, records] : delivered_) {
    uint64_t previous = 0;
    for (const Delivered& d : records) {
      if (!seen.insert(d.data).second) continue;  // a duplicate (at-least-once)
      EXPECT_GT(d.sequence_number, previous) << shard << " " << d.data;
      previous = d.sequence_number;
      std::vector<std::string> parts = absl::StrSplit(d.data, '|');
      ASSERT_EQ(parts.size(), 2u) << d.data;
      const int64_t n = std::stoll(parts[1]);
      auto [it, first] = key_last.emplace(parts[0], n);
      if (!first) {
        EXPECT_GT(n, it->second) << "key " << parts[0] << " out of order";
        it->second = n;
      }
    }
  }
}

}  // namespace
}  // namespace tributary::shard_store
