// The store on a 3-server JetStream cluster (R3) under load, and a kill -9 of the stream's
// leader (issue 20): every acknowledged record is readable through the store, at the sequence
// number it was acknowledged with, each shard's numbers strictly increasing (none reused), and
// each key's records in the order they were acknowledged. The writers retry a failed call whole,
// as a producer does (the store refuses the call with UNAVAILABLE / DEADLINE_EXCEEDED while
// JetStream elects a leader: 2.9 takes 4-9 s).
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "nats/nats_client.h"
#include "nats/testing/nats_cluster.h"
#include "shard_store/jetstream/jetstream_shard_log.h"
#include "shard_store/shard_store.h"

namespace tributary::shard_store {
namespace {

using nats::testing::NatsCluster;

struct Acked {
  std::string key;
  std::string data;
  std::string shard_id;
  uint64_t sequence_number;
};

TEST(ShardStoreJetStreamFaultTest, AcknowledgedRecordsSurviveAKillOfTheStreamLeaderUnderLoad) {
  NatsCluster& cluster = NatsCluster::Shared(3);
  std::unique_ptr<nats::NatsClient> client = cluster.NewClient();
  jetstream::JetStreamShardLogOptions log_options;
  log_options.front_end_id = "fault1";
  log_options.replicas = 3;
  log_options.attempt_timeout = absl::Seconds(1);
  log_options.append_timeout = absl::Seconds(5);
  log_options.name_prefix = "fault";
  absl::StatusOr<std::unique_ptr<jetstream::JetStreamShardLog>> log =
      jetstream::JetStreamShardLog::Create(*client, RealClock::Get(), log_options);
  ASSERT_TRUE(log.ok()) << log.status();
  ShardStoreOptions options;
  options.data_dir = testing::NewTempDir("jetstream_fault");
  options.log = std::shared_ptr<ShardLog>(std::move(*log));
  FakeClock clock;  // the store's (iterators); JetStream's appends run on the real clock
  absl::StatusOr<std::unique_ptr<ShardStore>> store = ShardStore::Create(options, clock);
  ASSERT_TRUE(store.ok()) << store.status();
  v1::CreateStreamRequest create;
  create.set_stream_name("s");
  create.set_shard_count(4);
  ASSERT_TRUE((*store)->CreateStream(create).ok());
  absl::StatusOr<int> leader = cluster.AwaitStreamLeader("fault_1");
  ASSERT_TRUE(leader.ok()) << leader.status();

  // Writers: calls of 20 records of one key each (one shard: a call is stored whole or not
  // acknowledged), retried whole until acknowledged.
  constexpr int kWriters = 2, kCalls = 40, kPerCall = 20, kKeys = 8;
  absl::Mutex mu;
  std::vector<Acked> acked;
  std::atomic<int> calls_done{0};
  std::atomic<int> failed_calls{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int call = 0; call < kCalls; ++call) {
        const std::string key = absl::StrCat("w", w, "-k", call % kKeys);
        v1::PutRecordsRequest request;
        request.set_stream_name("s");
        for (int i = 0; i < kPerCall; ++i) {
          v1::PutRecordsRequestEntry* e = request.add_records();
          e->set_partition_key(key);
          e->set_data(absl::StrCat(w, "/", call, "/", i));
        }
        for (int attempt = 0; attempt < 100; ++attempt) {
          v1::PutRecordsResponse response;
          absl::Status s = (*store)->PutRecords(request, &response);
          if (s.ok() && response.failed_record_count() == 0) {
            absl::MutexLock lock(&mu);
            for (int i = 0; i < kPerCall; ++i) {
              acked.push_back({key, request.records(i).data(), response.records(i).shard_id(),
                               std::stoull(response.records(i).sequence_number())});
            }
            break;
          }
          failed_calls.fetch_add(1);
        }
        calls_done.fetch_add(1);
      }
    });
  }
  ASSERT_TRUE(PollFor(absl::Seconds(60), absl::Milliseconds(10), "a third of the calls",
                      [&] { return calls_done.load() >= kWriters * kCalls / 3; },
                      [&] { return absl::StrCat(calls_done.load(), " calls done"); })
                  .ok());
  cluster.Kill(*leader);
  for (std::thread& t : writers) t.join();
  ASSERT_EQ(acked.size(), static_cast<size_t>(kWriters * kCalls * kPerCall))
      << "a call stayed unacknowledged after 100 attempts";
  EXPECT_GT(failed_calls.load(), 0) << "the kill was not seen by the writers";

  // Read every shard through the store until each acknowledged record is there (a replica may
  // answer a moment behind).
  std::map<std::string, std::map<uint64_t, std::string>> stored;  // shard → seq → data
  std::string missing;
  auto read_all = [&] {
    stored.clear();
    for (int s = 0; s < 4; ++s) {
      const std::string shard = absl::StrCat("shardId-00000000000", s);
      v1::GetShardIteratorRequest get;
      get.set_stream_name("s");
      get.set_shard_id(shard);
      get.set_shard_iterator_type(v1::TRIM_HORIZON);
      absl::StatusOr<v1::GetShardIteratorResponse> it = (*store)->GetShardIterator(get);
      if (!it.ok()) return false;
      std::string iterator = it->shard_iterator();
      uint64_t previous = 0;
      while (!iterator.empty()) {
        v1::GetRecordsRequest r;
        r.set_shard_iterator(iterator);
        v1::GetRecordsResponse response;
        if (!(*store)->GetRecords(r, &response).ok()) return false;
        for (const v1::Record& record : response.records()) {
          const uint64_t seq = std::stoull(record.sequence_number());
          EXPECT_GT(seq, previous) << shard;
          previous = seq;
          stored[shard][seq] = record.data();
        }
        if (response.records().empty()) break;
        iterator = response.next_shard_iterator();
      }
    }
    for (const Acked& a : acked) {
      auto it = stored[a.shard_id].find(a.sequence_number);
      if (it == stored[a.shard_id].end()) {
        missing = absl::StrCat(a.data, " at ", a.shard_id, "/", a.sequence_number);
        return false;
      }
      EXPECT_EQ(it->second, a.data) << "acknowledged number " << a.sequence_number
                                    << " holds another record";
    }
    return true;
  };
  EXPECT_TRUE(PollFor(absl::Seconds(30), absl::Milliseconds(200),
                      "every acknowledged record readable", read_all, [&] { return missing; })
                  .ok());
  // Each key's records in acknowledgement order.
  std::map<std::string, uint64_t> last_of_key;
  for (const Acked& a : acked) {
    EXPECT_GT(a.sequence_number, last_of_key[a.key]) << a.data;
    last_of_key[a.key] = a.sequence_number;
  }
  std::cout << "[jetstream fault] acknowledged " << acked.size() << ", failed calls retried "
            << failed_calls.load() << std::endl;
  ASSERT_TRUE(cluster.Restart(*leader).ok());
}

}  // namespace
}  // namespace tributary::shard_store
