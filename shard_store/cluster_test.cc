// Several store front-ends over one etcd prefix and one JetStream (cluster mode, issues 19/20):
// what a producer or reader may rely on whichever front-end it talks to. Two (or three)
// ShardStores in this process, each with its own etcd client, metadata session and log, like
// separate processes; one real etcd and one real nats-server per binary, each case under its
// own etcd prefix and JetStream name prefix. Waits for another front-end's watch are bounded
// real-time polls (common/await.h); nothing sleeps.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "common/clock.h"
#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "gtest/gtest.h"
#include "nats/nats_client.h"
#include "nats/testing/nats_cluster.h"
#include "shard_store/etcd_store_metadata.h"
#include "shard_store/jetstream/jetstream_shard_log.h"
#include "shard_store/shard_store.h"
#include "shard_store/streams_service.h"

namespace tributary::shard_store {
namespace {

constexpr absl::Duration kPropagation = absl::Seconds(20);  // a failure guard, not a pace
constexpr absl::Duration kPoll = absl::Milliseconds(20);

// One JetStream client for the binary (the server is NatsCluster::Shared's); never freed, so
// that logs of stores a case did not close cannot outlive it.
nats::NatsClient& SharedNats() {
  static nats::NatsClient* client = nats::testing::NatsCluster::Shared(1).NewClient().release();
  return *client;
}

struct Acked {
  std::string shard_id;
  uint64_t sequence_number;
  std::string data;
};

// A log whose CloseShards fails while `fail_close` is set (a front-end that cannot reach the log
// in the middle of a reshard); everything else is the wrapped log's.
class CloseFailingLog : public ShardLog {
 public:
  explicit CloseFailingLog(std::shared_ptr<ShardLog> log) : log_(std::move(log)) {}
  std::atomic<bool> fail_close{false};
  // Last() calls so far (the log's direct get of a shard's last record).
  std::atomic<int> last_calls{0};
  // While positive, a Read finds nothing and stays where it started, as on a replica a moment
  // behind the acknowledgement; each such Read counts one down.
  std::atomic<int> lagging_reads{0};
  // Calls of AnnounceAppend and of AnnounceAppends through this wrapper.
  std::atomic<int> single_announcements{0};
  std::atomic<int> call_announcements{0};

  bool StoreNumbers() const override { return log_->StoreNumbers(); }
  absl::Status CreateStream(uint64_t id, absl::Span<const uint32_t> shards,
                            absl::Duration retention) override {
    return log_->CreateStream(id, shards, retention);
  }
  absl::Status SetRetention(uint64_t id, absl::Duration retention) override {
    return log_->SetRetention(id, retention);
  }
  void StageDeleteStream(StoreBatch* batch, uint64_t id) override {
    log_->StageDeleteStream(batch, id);
  }
  absl::Status DeleteStream(uint64_t id) override { return log_->DeleteStream(id); }
  absl::StatusOr<uint64_t> CloseShards(uint64_t id, absl::Span<const uint32_t> parents,
                                       absl::Span<const uint32_t> children) override {
    if (fail_close.load()) return absl::UnavailableError("injected: the log is unreachable");
    return log_->CloseShards(id, parents, children);
  }
  void StageAppend(StoreBatch* batch, uint64_t id, uint32_t shard, uint64_t first,
                   int64_t arrival_ms, absl::Span<const LogEntry> records) override {
    log_->StageAppend(batch, id, shard, first, arrival_ms, records);
  }
  absl::StatusOr<std::vector<uint64_t>> Append(uint64_t id, uint32_t shard, uint64_t call,
                                               absl::Span<const LogEntry> records) override {
    return log_->Append(id, shard, call, records);
  }
  std::vector<absl::StatusOr<std::vector<uint64_t>>> AppendCall(
      uint64_t id, uint64_t call, absl::Span<const ShardAppend> shards) override {
    return log_->AppendCall(id, call, shards);
  }
  absl::StatusOr<LogReadResult> Read(const LogReadRequest& request,
                                     LogRecordVisitor visit) override {
    if (lagging_reads.fetch_sub(1) > 0) {
      LogReadResult behind;
      behind.next = request.from;
      return behind;
    }
    lagging_reads.store(0);
    return log_->Read(request, visit);
  }
  absl::StatusOr<uint64_t> FindFirstAtOrAfter(uint64_t id, uint32_t shard, uint64_t from,
                                              uint64_t to, int64_t min_arrival_ms) override {
    return log_->FindFirstAtOrAfter(id, shard, from, to, min_arrival_ms);
  }
  absl::StatusOr<LogLast> Last(uint64_t id, uint32_t shard) override {
    last_calls.fetch_add(1);
    return log_->Last(id, shard);
  }
  void StageTrim(StoreBatch* batch, uint64_t id, uint32_t shard, uint64_t through,
                 uint64_t keep_from) override {
    log_->StageTrim(batch, id, shard, through, keep_from);
  }
  void AnnounceAppend(uint64_t id, uint32_t shard, uint64_t last) override {
    single_announcements.fetch_add(1);
    log_->AnnounceAppend(id, shard, last);
  }
  void AnnounceAppends(uint64_t id, absl::Span<const ShardTip> tips) override {
    call_announcements.fetch_add(1);
    log_->AnnounceAppends(id, tips);
  }
  absl::StatusOr<std::unique_ptr<AppendWatch>> WatchAppends(AppendHandler handler) override {
    return log_->WatchAppends(std::move(handler));
  }

 private:
  const std::shared_ptr<ShardLog> log_;
};

class ClusterTest : public ::testing::Test {
 protected:
  ClusterTest()
      : etcd_(etcd::testing::EtcdCluster::Shared(1)), prefix_(etcd_.NewPrefix()) {
    static std::atomic<int> cases{0};
    nats_prefix_ = absl::StrCat("cl", ++cases);
  }

  // A front-end: its own etcd client, metadata session, log and store.
  struct FrontEnd {
    std::unique_ptr<etcd::EtcdClient> client;
    std::unique_ptr<ShardStore> store;
    CloseFailingLog* log = nullptr;
    // The reshard step after which this front-end stops as if it died there (0: none;
    // ShardStoreOptions::reshard_fault).
    std::atomic<int> stop_after_step{0};
    ShardStore* operator->() { return store.get(); }
  };

  std::unique_ptr<FrontEnd> Start() {
    auto f = std::make_unique<FrontEnd>();
    f->client = etcd_.NewClient();
    EtcdStoreMetadataOptions metadata_options;
    metadata_options.prefix = prefix_;
    absl::StatusOr<std::unique_ptr<EtcdStoreMetadata>> metadata =
        EtcdStoreMetadata::Create(*f->client, metadata_options);
    EXPECT_TRUE(metadata.ok()) << metadata.status();
    if (!metadata.ok()) return nullptr;
    jetstream::JetStreamShardLogOptions log_options;
    log_options.front_end_id = absl::StrCat("fe", ++starts_);
    log_options.replicas = 1;
    log_options.name_prefix = nats_prefix_;
    absl::StatusOr<std::unique_ptr<jetstream::JetStreamShardLog>> log =
        jetstream::JetStreamShardLog::Create(SharedNats(), RealClock::Get(), log_options);
    EXPECT_TRUE(log.ok()) << log.status();
    if (!log.ok()) return nullptr;
    ShardStoreOptions options;  // no data_dir: nothing local
    auto wrapped = std::make_shared<CloseFailingLog>(std::shared_ptr<ShardLog>(std::move(*log)));
    f->log = wrapped.get();
    options.log = wrapped;
    options.cluster_metadata = std::shared_ptr<EtcdStoreMetadata>(std::move(*metadata));
    options.reshard_fault = [stop = &f->stop_after_step](int step) {
      if (step != stop->load()) return absl::OkStatus();
      return absl::UnavailableError(absl::StrCat("injected: the front-end stops after step ", step));
    };
    absl::StatusOr<std::unique_ptr<ShardStore>> store = ShardStore::Create(options, clock_);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    f->store = std::move(*store);
    return f;
  }

  static absl::Status Create(FrontEnd& f, const std::string& name, int shards) {
    v1::CreateStreamRequest r;
    r.set_stream_name(name);
    r.set_shard_count(shards);
    return f->CreateStream(r);
  }

  static absl::StatusOr<v1::ListShardsResponse> Shards(FrontEnd& f, const std::string& name) {
    v1::ListShardsRequest r;
    r.set_stream_name(name);
    return f->ListShards(r);
  }

  // Waits until `f`'s ListShards of `name` has `count` shards, `closed` of them closed.
  static absl::Status AwaitShards(FrontEnd& f, const std::string& name, int count, int closed) {
    std::string seen;
    return PollFor(
        kPropagation, kPoll, absl::StrCat(count, " shards, ", closed, " closed"),
        [&] {
          absl::StatusOr<v1::ListShardsResponse> shards = Shards(f, name);
          if (!shards.ok()) {
            seen = shards.status().ToString();
            return false;
          }
          int n_closed = 0;
          for (const v1::Shard& s : shards->shards()) {
            if (!s.sequence_number_range().ending_sequence_number().empty()) ++n_closed;
          }
          seen = absl::StrCat(shards->shards_size(), " shards, ", n_closed, " closed");
          return shards->shards_size() == count && n_closed == closed;
        },
        [&] { return seen; });
  }

  // One PutRecords call of `data` (keys k0, k1, ...: spread over the hash space); the
  // acknowledged records, or the call's error.
  static absl::StatusOr<std::vector<Acked>> Put(FrontEnd& f, const std::string& stream,
                                                const std::vector<std::string>& data) {
    v1::PutRecordsRequest r;
    r.set_stream_name(stream);
    for (size_t i = 0; i < data.size(); ++i) {
      v1::PutRecordsRequestEntry* e = r.add_records();
      e->set_partition_key(absl::StrCat("k", i));
      e->set_data(data[i]);
    }
    v1::PutRecordsResponse response;
    absl::Status s = f->PutRecords(r, &response);
    if (!s.ok()) return s;
    std::vector<Acked> acked;
    for (int i = 0; i < response.records_size(); ++i) {
      const v1::PutRecordsResultEntry& e = response.records(i);
      if (!e.error_code().empty()) continue;
      acked.push_back({e.shard_id(), std::stoull(e.sequence_number()), data[i]});
    }
    return acked;
  }

  static absl::StatusOr<std::string> Iterator(FrontEnd& f, const std::string& stream,
                                              const std::string& shard,
                                              v1::ShardIteratorType type) {
    v1::GetShardIteratorRequest r;
    r.set_stream_name(stream);
    r.set_shard_id(shard);
    r.set_shard_iterator_type(type);
    absl::StatusOr<v1::GetShardIteratorResponse> response = f->GetShardIterator(r);
    if (!response.ok()) return response.status();
    return response->shard_iterator();
  }

  // Every record of `shard` from TRIM_HORIZON, read through `f` (the iterator from `from`):
  // until SHARD_END, or for an open shard until a read returns nothing at the tip.
  struct ShardRead {
    std::vector<v1::Record> records;
    bool shard_end = false;
    std::vector<std::string> children;
  };
  static absl::StatusOr<ShardRead> ReadAll(FrontEnd& from, FrontEnd& f, const std::string& stream,
                                           const std::string& shard) {
    absl::StatusOr<std::string> iterator = Iterator(from, stream, shard, v1::TRIM_HORIZON);
    if (!iterator.ok()) return iterator.status();
    ShardRead read;
    std::string it = *iterator;
    for (int calls = 0; calls < 1000 && !it.empty(); ++calls) {
      v1::GetRecordsRequest r;
      r.set_shard_iterator(it);
      v1::GetRecordsResponse response;
      absl::Status s = f->GetRecords(r, &response);
      if (!s.ok()) return s;
      for (const v1::Record& record : response.records()) read.records.push_back(record);
      if (response.next_shard_iterator().empty()) {
        read.shard_end = true;
        for (const v1::ChildShard& c : response.child_shards()) {
          read.children.push_back(c.shard_id());
        }
        return read;
      }
      if (response.records_size() == 0 && response.millis_behind_latest() == 0) return read;
      it = response.next_shard_iterator();
    }
    return read;
  }

  // The ending sequence number `f` lists for `shard` of `stream` (0: open or unknown).
  static uint64_t EndingOf(FrontEnd& f, const std::string& stream, const std::string& shard) {
    absl::StatusOr<v1::ListShardsResponse> shards = Shards(f, stream);
    EXPECT_TRUE(shards.ok()) << shards.status();
    if (!shards.ok()) return 0;
    for (const v1::Shard& s : shards->shards()) {
      const std::string& ending = s.sequence_number_range().ending_sequence_number();
      if (s.shard_id() == shard && !ending.empty()) return std::stoull(ending);
    }
    return 0;
  }

  static std::set<std::string> ShardIds(FrontEnd& f, const std::string& stream) {
    std::set<std::string> ids;
    absl::StatusOr<v1::ListShardsResponse> shards = Shards(f, stream);
    EXPECT_TRUE(shards.ok()) << shards.status();
    if (!shards.ok()) return ids;
    for (const v1::Shard& s : shards->shards()) ids.insert(s.shard_id());
    return ids;
  }

  // Every record of every shard of `stream` read through `f`: data → (shard, sequence number).
  static std::map<std::string, std::pair<std::string, uint64_t>> ReadStream(
      FrontEnd& f, const std::string& stream) {
    std::map<std::string, std::pair<std::string, uint64_t>> out;
    for (const std::string& shard : ShardIds(f, stream)) {
      absl::StatusOr<ShardRead> read = ReadAll(f, f, stream, shard);
      EXPECT_TRUE(read.ok()) << shard << ": " << read.status();
      if (!read.ok()) continue;
      for (const v1::Record& r : read->records) {
        out[r.data()] = {shard, std::stoull(r.sequence_number())};
      }
    }
    return out;
  }

  static v1::SplitShardRequest SplitOfShard0() {
    v1::SplitShardRequest split;
    split.set_stream_name("s");
    split.set_shard_to_split("shardId-000000000000");
    split.set_new_starting_hash_key("170141183460469231731687303715884105728");
    return split;
  }

  static std::vector<std::string> Data(const std::string& prefix, int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(absl::StrCat(prefix, i));
    return out;
  }

  etcd::testing::EtcdCluster& etcd_;
  const std::string prefix_;
  std::string nats_prefix_;
  FakeClock clock_;  // the stores' (iterators, arrival times); etcd and JetStream run on real time
  int starts_ = 0;
};

TEST_F(ClusterTest, AStreamCreatedOnOneFrontEndIsServedByTheOther) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_TRUE(Create(*a, "s", 4).ok());

  // B knows it at once (a miss asks etcd), whatever its watch has delivered.
  v1::DescribeStreamSummaryRequest describe;
  describe.set_stream_name("s");
  absl::StatusOr<v1::DescribeStreamSummaryResponse> summary = (*b)->DescribeStreamSummary(describe);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->stream_description_summary().open_shard_count(), 4);
  ASSERT_TRUE(AwaitShards(*b, "s", 4, 0).ok());

  // Written on B, read on A (iterator from B); written on A, read on B (iterator from A).
  absl::StatusOr<std::vector<Acked>> on_b = Put(*b, "s", {"b0", "b1", "b2", "b3", "b4", "b5"});
  ASSERT_TRUE(on_b.ok()) << on_b.status();
  ASSERT_EQ(on_b->size(), 6u);
  absl::StatusOr<std::vector<Acked>> on_a = Put(*a, "s", {"a0", "a1", "a2", "a3", "a4", "a5"});
  ASSERT_TRUE(on_a.ok()) << on_a.status();
  ASSERT_EQ(on_a->size(), 6u);
  std::map<std::tuple<std::string, uint64_t>, std::string> acked;
  for (const std::vector<Acked>* v : {&*on_b, &*on_a}) {
    for (const Acked& r : *v) {
      EXPECT_TRUE(acked.emplace(std::make_tuple(r.shard_id, r.sequence_number), r.data).second)
          << "sequence number " << r.sequence_number << " of " << r.shard_id << " reused";
    }
  }
  for (auto [reader, minter] : {std::make_pair(a.get(), b.get()), std::make_pair(b.get(), a.get())}) {
    std::map<std::tuple<std::string, uint64_t>, std::string> found;
    absl::StatusOr<v1::ListShardsResponse> shards = Shards(*reader, "s");
    ASSERT_TRUE(shards.ok()) << shards.status();
    for (const v1::Shard& shard : shards->shards()) {
      absl::StatusOr<ShardRead> read = ReadAll(*minter, *reader, "s", shard.shard_id());
      ASSERT_TRUE(read.ok()) << read.status();
      for (const v1::Record& r : read->records) {
        found[std::make_tuple(shard.shard_id(), std::stoull(r.sequence_number()))] = r.data();
      }
    }
    EXPECT_EQ(found, acked);
  }
}

TEST_F(ClusterTest, ASplitOnOneFrontEndIsAppliedOnTheOtherWhilePutsGoOnThere) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_TRUE(Create(*a, "s", 1).ok());
  ASSERT_TRUE(AwaitShards(*b, "s", 1, 0).ok());

  // B writes calls of 8 records (spread over the hash space) from before the split on A until
  // B has seen the children and written to them.
  absl::Mutex mu;
  std::vector<Acked> acked;
  std::atomic<bool> stop{false};
  std::atomic<int> failed_calls{0};
  std::atomic<int> calls{0};
  std::thread writer([&] {
    for (int call = 0; !stop.load() && call < 5000; ++call) {
      std::vector<std::string> data;
      for (int i = 0; i < 8; ++i) data.push_back(absl::StrCat(call, "/", i));
      absl::StatusOr<std::vector<Acked>> put = Put(*b, "s", data);
      calls.fetch_add(1);
      if (!put.ok()) {
        failed_calls.fetch_add(1);
        continue;
      }
      absl::MutexLock lock(&mu);
      acked.insert(acked.end(), put->begin(), put->end());
    }
  });
  auto acked_count = [&] {
    absl::MutexLock lock(&mu);
    return acked.size();
  };
  ASSERT_TRUE(PollFor(kPropagation, kPoll, "puts on B before the split",
                      [&] { return acked_count() >= 40; },
                      [&] { return absl::StrCat(acked_count()); })
                  .ok());
  v1::SplitShardRequest split;
  split.set_stream_name("s");
  split.set_shard_to_split("shardId-000000000000");
  split.set_new_starting_hash_key("170141183460469231731687303715884105728");  // 2^127
  absl::Status s = (*a)->SplitShard(split);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(AwaitShards(*b, "s", 3, 1).ok());
  const int calls_at_split = calls.load();
  ASSERT_TRUE(PollFor(kPropagation, kPoll, "puts on B after it saw the split",
                      [&] { return calls.load() >= calls_at_split + 20; },
                      [&] { return absl::StrCat(calls.load(), " calls"); })
                  .ok());
  stop = true;
  writer.join();
  EXPECT_EQ(failed_calls.load(), 0);

  // Every acknowledged record is in the shard it was acknowledged to, at its number; none of
  // the parent's is above its ending number; the children have records too.
  absl::StatusOr<v1::ListShardsResponse> shards = Shards(*b, "s");
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->shards_size(), 3);
  const uint64_t ending =
      std::stoull(shards->shards(0).sequence_number_range().ending_sequence_number());
  std::map<std::tuple<std::string, uint64_t>, std::string> found;
  for (const v1::Shard& shard : shards->shards()) {
    absl::StatusOr<ShardRead> read = ReadAll(*a, *b, "s", shard.shard_id());
    ASSERT_TRUE(read.ok()) << read.status();
    uint64_t previous = 0;
    for (const v1::Record& r : read->records) {
      const uint64_t seq = std::stoull(r.sequence_number());
      EXPECT_GT(seq, previous) << shard.shard_id();
      previous = seq;
      found[std::make_tuple(shard.shard_id(), seq)] = r.data();
    }
    if (shard.shard_id() == "shardId-000000000000") {
      EXPECT_TRUE(read->shard_end);
      EXPECT_EQ(read->children,
                (std::vector<std::string>{"shardId-000000000001", "shardId-000000000002"}));
    } else {
      // Parents before children: a child's numbers are above the parent's end.
      if (!read->records.empty()) {
        EXPECT_GT(std::stoull(read->records.front().sequence_number()), ending);
      }
    }
  }
  std::map<std::tuple<std::string, uint64_t>, std::string> expected;
  std::map<std::string, int> per_shard;
  for (const Acked& r : acked) {
    EXPECT_TRUE(expected.emplace(std::make_tuple(r.shard_id, r.sequence_number), r.data).second)
        << "sequence number " << r.sequence_number << " of " << r.shard_id << " reused";
    ++per_shard[r.shard_id];
    if (r.shard_id == "shardId-000000000000") {
      EXPECT_LT(r.sequence_number, ending) << "acknowledged to the closed parent";
    }
  }
  EXPECT_EQ(found, expected);
  EXPECT_GT(per_shard["shardId-000000000000"], 0);
  EXPECT_GT(per_shard["shardId-000000000001"] + per_shard["shardId-000000000002"], 0);
}

// Cross-front-end wake-ups: a reader waiting on A (WaitForRecords, and a WatchShard as
// SubscribeToShard uses) wakes for a record put through B. The stores' FakeClock never moves, so
// no deadline or periodic re-read can be what wakes them: only B's announcement.
TEST_F(ClusterTest, APutThroughOneFrontEndWakesTheReadersOfTheOther) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_TRUE(Create(*a, "s", 2).ok());
  ASSERT_TRUE(AwaitShards(*b, "s", 2, 0).ok());
  v1::StartingPosition latest;
  latest.set_type(v1::LATEST);
  absl::StatusOr<ShardCursor> cursor =
      (*a)->ResolveStartingPosition("s", "shardId-000000000000", latest);
  ASSERT_TRUE(cursor.ok()) << cursor.status();

  absl::Mutex mu;
  int watched = 0;
  bool woke = false;
  absl::StatusOr<std::unique_ptr<ShardWatch>> watch = (*a)->WatchShard(*cursor, [&] {
    absl::MutexLock lock(&mu);
    ++watched;
  });
  ASSERT_TRUE(watch.ok()) << watch.status();
  std::thread waiter([&] {
    absl::StatusOr<bool> r = (*a)->WaitForRecords(*cursor, MonotonicTime::InfiniteFuture());
    absl::MutexLock lock(&mu);
    woke = r.ok() && *r;
  });

  // Keys until one lands in shard 0 (the one waited on), all through B.
  std::vector<std::string> data;
  for (int i = 0; i < 8; ++i) data.push_back(absl::StrCat("b", i));
  absl::StatusOr<std::vector<Acked>> put = Put(*b, "s", data);
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_TRUE(std::any_of(put->begin(), put->end(),
                          [](const Acked& r) { return r.shard_id == "shardId-000000000000"; }));
  absl::Status awaited = AwaitFor(
      mu, kPropagation, "A's waiter and watcher woken by B's put",
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return woke && watched > 0; },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
        return absl::StrCat("woke ", woke, ", watcher called ", watched, " times");
      });
  EXPECT_TRUE(awaited.ok()) << awaited;
  if (!awaited.ok()) {
    // Release the waiter: A's own put wakes it.
    ASSERT_TRUE(Put(*a, "s", data).ok());
  }
  waiter.join();

  // What woke A is readable there at the cursor.
  ShardCursor c = *cursor;
  google::protobuf::RepeatedPtrField<v1::Record> records;
  absl::StatusOr<ReadOutcome> read = (*a)->ReadRecords(&c, 100, 1 << 20, &records);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_GT(records.size(), 0);
}

// A call over several shards is announced once (one message, not one a shard: Run 34), and
// that one announcement wakes A's watchers of every shard the call appended to.
TEST_F(ClusterTest, APutOverSeveralShardsIsOneAnnouncementThatWakesEachOfThemOnTheOther) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_TRUE(Create(*a, "s", 4).ok());
  ASSERT_TRUE(AwaitShards(*b, "s", 4, 0).ok());
  v1::StartingPosition latest;
  latest.set_type(v1::LATEST);
  absl::Mutex mu;
  std::set<int> woken;
  std::vector<std::unique_ptr<ShardWatch>> watches;
  for (int shard = 0; shard < 4; ++shard) {
    absl::StatusOr<ShardCursor> cursor = (*a)->ResolveStartingPosition(
        "s", absl::StrFormat("shardId-%012d", shard), latest);
    ASSERT_TRUE(cursor.ok()) << cursor.status();
    absl::StatusOr<std::unique_ptr<ShardWatch>> watch = (*a)->WatchShard(*cursor, [&, shard] {
      absl::MutexLock lock(&mu);
      woken.insert(shard);
    });
    ASSERT_TRUE(watch.ok()) << watch.status();
    watches.push_back(*std::move(watch));
  }

  std::vector<std::string> data;
  for (int i = 0; i < 64; ++i) data.push_back(absl::StrCat("b", i));
  const int singles = b->log->single_announcements.load();
  const int calls = b->log->call_announcements.load();
  absl::StatusOr<std::vector<Acked>> put = Put(*b, "s", data);
  ASSERT_TRUE(put.ok()) << put.status();
  std::set<std::string> shards;
  for (const Acked& r : *put) shards.insert(r.shard_id);
  ASSERT_EQ(shards.size(), 4u) << "64 keys over 4 shards";
  EXPECT_EQ(b->log->call_announcements.load() - calls, 1);
  EXPECT_EQ(b->log->single_announcements.load() - singles, 0);
  absl::Status awaited = AwaitFor(
      mu, kPropagation, "A's watchers of all 4 shards woken by B's put",
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return woken.size() == 4; },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
        return absl::StrCat("woken: ", absl::StrJoin(woken, ","));
      });
  EXPECT_TRUE(awaited.ok()) << awaited;
}

// A SubscribeToShard on A that caught up waits for its periodic re-read of the tip (cluster
// mode: other front-ends' announcements are at most once); a put through B wakes it at once.
// The stores' FakeClock never moves, so the re-read never comes: only the wake-up can deliver.
// (The wake-up used to be dropped while that re-read waited, busy: put → event took up to the
// re-read's second, Run 28.)
TEST_F(ClusterTest, ASubscriptionWaitingToReReadTheTipIsWokenByAnotherFrontEndsPut) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_TRUE(Create(*a, "s", 1).ok());
  ASSERT_TRUE(AwaitShards(*b, "s", 1, 0).ok());
  const int waiters_before = clock_.NumWaiters();

  // Events into `events`; each is answered (WriteDone) by the test once looked at.
  struct Sink : SubscriptionSink {
    absl::Mutex mu;
    std::vector<v1::SubscribeToShardEvent> events ABSL_GUARDED_BY(mu);
    bool finished ABSL_GUARDED_BY(mu) = false;
    void SendEvent(const v1::SubscribeToShardEvent& event) override {
      absl::MutexLock lock(&mu);
      events.push_back(event);
    }
    void SendFinish(const absl::Status&) override {
      absl::MutexLock lock(&mu);
      finished = true;
    }
  } sink;
  StreamsService service(*a->store, clock_);  // after the sink: no call reaches it once gone
  v1::SubscribeToShardRequest request;
  request.set_stream_name("s");
  request.set_shard_id("shardId-000000000000");
  request.mutable_starting_position()->set_type(v1::LATEST);
  absl::StatusOr<SubscriptionControl*> control =
      service.Subscribe(request, /*keep_alive=*/false, &sink);
  ASSERT_TRUE(control.ok()) << control.status();
  auto events = [&](size_t n) {
    return AwaitFor(
        sink.mu, kPropagation, absl::StrCat(n, " events"),
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink.mu) { return sink.events.size() >= n; },
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink.mu) {
          return absl::StrCat(sink.events.size(), " events");
        });
  };
  // The first event (empty: nothing after LATEST); once it is written the subscription reads
  // the tip again, finds nothing and waits on the clock for its re-read.
  ASSERT_TRUE(events(1).ok());
  const int asked_before = a->log->last_calls.load();
  (*control)->WriteDone(true);
  ASSERT_TRUE(clock_.WaitForWaiters(waiters_before + 1, kPropagation).ok());

  absl::StatusOr<std::vector<Acked>> put = Put(*b, "s", {"through b"});
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_EQ(put->size(), 1u);
  absl::Status delivered = events(2);
  EXPECT_TRUE(delivered.ok()) << delivered;
  if (delivered.ok()) {
    absl::MutexLock lock(&sink.mu);
    ASSERT_EQ(sink.events[1].records_size(), 1);
    EXPECT_EQ(sink.events[1].records(0).data(), "through b");
  }
  // Reads at the tip between polls asked the log nothing: the announcement raised the tip.
  EXPECT_EQ(a->log->last_calls.load(), asked_before);

  // The replica that answers is behind the announcement: the read finds nothing, and the
  // subscription reads again after 5 ms (not a second).
  if (delivered.ok()) {
    (*control)->WriteDone(true);
    ASSERT_TRUE(clock_.WaitForWaiters(waiters_before + 1, kPropagation).ok());
    a->log->lagging_reads.store(1);
    ASSERT_TRUE(Put(*b, "s", {"lagging"}).ok());
    ASSERT_TRUE(PollFor(
                    kPropagation, kPoll, "the lagging read",
                    [&] { return a->log->lagging_reads.load() <= 0; },
                    [] { return std::string("not read"); })
                    .ok());
    // 5 ms steps up to 50 ms: the lag poll (5, 10, 20 ms) comes within them, the second's
    // poll does not. (Steps, because nothing here tells when the poll was set.)
    auto third = [&] {
      absl::MutexLock lock(&sink.mu);
      return sink.events.size() >= 3;
    };
    for (int step = 0; step < 10 && !third(); ++step) {
      clock_.Advance(absl::Milliseconds(5));
      (void)PollFor(absl::Milliseconds(300), kPoll, "the re-read", third,
                    [] { return std::string("no third event"); });
    }
    delivered = third() ? absl::OkStatus() : absl::DeadlineExceededError("no third event");
    EXPECT_TRUE(delivered.ok()) << delivered;
  }
  (*control)->Cancel();
  if (delivered.ok()) (*control)->WriteDone(true);
  // Ends without the clock moving (the cancel moves the waiting read to now too).
  EXPECT_TRUE(AwaitFor(
                  sink.mu, kPropagation, "the call finished",
                  [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink.mu) { return sink.finished; },
                  [] { return std::string("not finished"); })
                  .ok());
  (*control)->Done();
}

TEST_F(ClusterTest, AConcurrentSplitOfOneShardOnTwoFrontEndsHasOneWinner) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_TRUE(Create(*a, "s", 1).ok());
  ASSERT_TRUE(AwaitShards(*b, "s", 1, 0).ok());
  v1::SplitShardRequest split;
  split.set_stream_name("s");
  split.set_shard_to_split("shardId-000000000000");
  split.set_new_starting_hash_key("170141183460469231731687303715884105728");
  absl::Status on_a, on_b;
  std::thread ta([&] { on_a = (*a)->SplitShard(split); });
  std::thread tb([&] { on_b = (*b)->SplitShard(split); });
  ta.join();
  tb.join();
  EXPECT_NE(on_a.ok(), on_b.ok()) << on_a << " / " << on_b;
  for (const absl::Status& s : {on_a, on_b}) {
    if (!s.ok()) {
      EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
    }
  }
  ASSERT_TRUE(AwaitShards(*a, "s", 3, 1).ok());
  ASSERT_TRUE(AwaitShards(*b, "s", 3, 1).ok());
}

TEST_F(ClusterTest, ADeleteOnOneFrontEndIsAppliedOnTheOther) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_TRUE(Create(*a, "s", 2).ok());
  ASSERT_TRUE(AwaitShards(*b, "s", 2, 0).ok());
  absl::StatusOr<std::string> iterator = Iterator(*b, "s", "shardId-000000000000", v1::LATEST);
  ASSERT_TRUE(iterator.ok()) << iterator.status();
  v1::DeleteStreamRequest del;
  del.set_stream_name("s");
  ASSERT_TRUE((*a)->DeleteStream(del).ok());
  v1::DescribeStreamSummaryRequest describe;
  describe.set_stream_name("s");
  std::string seen;
  EXPECT_TRUE(PollFor(
                  kPropagation, kPoll, "B to say the stream is gone",
                  [&] {
                    absl::Status s = (*b)->DescribeStreamSummary(describe).status();
                    seen = s.ToString();
                    return absl::IsNotFound(s);
                  },
                  [&] { return seen; })
                  .ok());
  absl::StatusOr<std::vector<Acked>> put = Put(*b, "s", {"x"});
  EXPECT_TRUE(absl::IsNotFound(put.status())) << put.status();
  v1::GetRecordsRequest get;
  get.set_shard_iterator(*iterator);
  v1::GetRecordsResponse response;
  EXPECT_TRUE(absl::IsNotFound((*b)->GetRecords(get, &response))) << "an old iterator";
  // The name is free again, on either front-end.
  EXPECT_TRUE(Create(*b, "s", 1).ok());
  ASSERT_TRUE(AwaitShards(*a, "s", 1, 0).ok());
}

TEST_F(ClusterTest, ConcurrentCreatesOfOneNameHaveExactlyOneWinner) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  for (int round = 0; round < 5; ++round) {
    const std::string name = absl::StrCat("s", round);
    absl::Status on_a, on_b;
    std::thread ta([&] { on_a = Create(*a, name, 2); });
    std::thread tb([&] { on_b = Create(*b, name, 3); });
    ta.join();
    tb.join();
    ASSERT_NE(on_a.ok(), on_b.ok()) << on_a << " / " << on_b;
    const absl::Status& lost = on_a.ok() ? on_b : on_a;
    EXPECT_TRUE(absl::IsAlreadyExists(lost)) << lost;
    const int shards = on_a.ok() ? 2 : 3;
    EXPECT_TRUE(AwaitShards(*a, name, shards, 0).ok());
    EXPECT_TRUE(AwaitShards(*b, name, shards, 0).ok());
  }
}

TEST_F(ClusterTest, ChangesOfOneStreamOnTwoFrontEndsAtOnceAreAllKept) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_TRUE(Create(*a, "s", 2).ok());
  ASSERT_TRUE(AwaitShards(*b, "s", 2, 0).ok());
  // Each front-end adds its own tags one at a time; B also splits meanwhile. Every write
  // compares the stream's revision, so a change decided on an old view is decided again.
  auto tagger = [](FrontEnd* f, const std::string& side, absl::Status* status) {
    for (int i = 0; i < 10 && status->ok(); ++i) {
      v1::AddTagsToStreamRequest r;
      r.set_stream_name("s");
      (*r.mutable_tags())[absl::StrCat(side, i)] = "v";
      *status = (*f)->AddTagsToStream(r);
    }
  };
  absl::Status tags_a, tags_b, split_b;
  std::thread ta(tagger, a.get(), "a", &tags_a);
  std::thread tb(tagger, b.get(), "b", &tags_b);
  std::thread ts([&] {
    v1::UpdateShardCountRequest r;
    r.set_stream_name("s");
    r.set_target_shard_count(4);
    r.set_scaling_type(v1::UNIFORM_SCALING);
    split_b = (*b)->UpdateShardCount(r).status();
  });
  ta.join();
  tb.join();
  ts.join();
  ASSERT_TRUE(tags_a.ok()) << tags_a;
  ASSERT_TRUE(tags_b.ok()) << tags_b;
  ASSERT_TRUE(split_b.ok()) << split_b;
  for (FrontEnd* f : {a.get(), b.get()}) {
    ASSERT_TRUE(AwaitShards(*f, "s", 6, 2).ok());
    v1::ListTagsForStreamRequest r;
    r.set_stream_name("s");
    std::string seen;
    EXPECT_TRUE(PollFor(
                    kPropagation, kPoll, "20 tags",
                    [&] {
                      absl::StatusOr<v1::ListTagsForStreamResponse> tags =
                          (*f)->ListTagsForStream(r);
                      seen = tags.ok() ? absl::StrCat(tags->tags_size(), " tags")
                                       : tags.status().ToString();
                      return tags.ok() && tags->tags_size() == 20;
                    },
                    [&] { return seen; })
                    .ok());
  }
}

TEST_F(ClusterTest, AFrontEndStartsFromEtcdAlone) {
  std::vector<Acked> acked;
  {
    std::unique_ptr<FrontEnd> a = Start();
    ASSERT_TRUE(a != nullptr);
    ASSERT_TRUE(Create(*a, "s", 1).ok());
    absl::StatusOr<std::vector<Acked>> before = Put(*a, "s", {"p0", "p1", "p2"});
    ASSERT_TRUE(before.ok()) << before.status();
    acked = *before;
    v1::SplitShardRequest split;
    split.set_stream_name("s");
    split.set_shard_to_split("shardId-000000000000");
    split.set_new_starting_hash_key("170141183460469231731687303715884105728");
    ASSERT_TRUE((*a)->SplitShard(split).ok());
    absl::StatusOr<std::vector<Acked>> after = Put(*a, "s", {"c0", "c1", "c2", "c3"});
    ASSERT_TRUE(after.ok()) << after.status();
    acked.insert(acked.end(), after->begin(), after->end());
    v1::AddTagsToStreamRequest tags;
    tags.set_stream_name("s");
    (*tags.mutable_tags())["team"] = "x";
    ASSERT_TRUE((*a)->AddTagsToStream(tags).ok());
  }
  // A new front-end (no data directory at all) serves the stream as it was.
  std::unique_ptr<FrontEnd> c = Start();
  ASSERT_TRUE(c != nullptr);
  absl::StatusOr<v1::ListShardsResponse> shards = Shards(*c, "s");
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->shards_size(), 3);
  EXPECT_FALSE(shards->shards(0).sequence_number_range().ending_sequence_number().empty());
  v1::ListTagsForStreamRequest list_tags;
  list_tags.set_stream_name("s");
  absl::StatusOr<v1::ListTagsForStreamResponse> tags = (*c)->ListTagsForStream(list_tags);
  ASSERT_TRUE(tags.ok()) << tags.status();
  ASSERT_EQ(tags->tags_size(), 1);
  std::map<std::tuple<std::string, uint64_t>, std::string> expected, found;
  for (const Acked& r : acked) expected[std::make_tuple(r.shard_id, r.sequence_number)] = r.data;
  for (const v1::Shard& shard : shards->shards()) {
    absl::StatusOr<ShardRead> read = ReadAll(*c, *c, "s", shard.shard_id());
    ASSERT_TRUE(read.ok()) << read.status();
    for (const v1::Record& r : read->records) {
      found[std::make_tuple(shard.shard_id(), std::stoull(r.sequence_number()))] = r.data();
    }
  }
  EXPECT_EQ(found, expected);
  // New numbers are above every earlier one of their shard.
  absl::StatusOr<std::vector<Acked>> more = Put(*c, "s", {"m0", "m1", "m2", "m3"});
  ASSERT_TRUE(more.ok()) << more.status();
  for (const Acked& r : *more) {
    for (const Acked& old : acked) {
      if (old.shard_id == r.shard_id) {
        EXPECT_GT(r.sequence_number, old.sequence_number);
      }
    }
  }
}

TEST_F(ClusterTest, AReshardWhoseLogFailedIsFinishedByItsFrontEndOnceTheLogIsBack) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_TRUE(Create(*a, "s", 1).ok());
  absl::StatusOr<std::vector<Acked>> before = Put(*b, "s", {"p0", "p1", "p2", "p3"});
  ASSERT_TRUE(before.ok()) << before.status();
  // A writes the lineage and then cannot close the parent in the log.
  a->log->fail_close = true;
  absl::Status s = (*a)->SplitShard(SplitOfShard0());
  ASSERT_TRUE(absl::IsUnavailable(s)) << s;
  // B learns the parent is closing: it lists no child yet, and a second split is refused while
  // A (alive: its reshard is its own to finish) keeps trying.
  ASSERT_TRUE(AwaitShards(*b, "s", 1, 0).ok());
  absl::Status again = (*b)->SplitShard(SplitOfShard0());
  EXPECT_TRUE(absl::IsFailedPrecondition(again)) << again;
  // A front-end that starts now leaves A's reshard alone too.
  std::unique_ptr<FrontEnd> c = Start();
  ASSERT_TRUE(c != nullptr);
  EXPECT_TRUE(AwaitShards(*c, "s", 1, 0).ok());
  // The log is back: A's retries finish it; B applies it and puts go to the children.
  a->log->fail_close = false;
  ASSERT_TRUE(AwaitShards(*b, "s", 3, 1).ok());
  ASSERT_TRUE(AwaitShards(*c, "s", 3, 1).ok());
  absl::StatusOr<std::vector<Acked>> after = Put(*b, "s", {"c0", "c1", "c2", "c3"});
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->size(), 4u);
  const uint64_t ending = EndingOf(*c, "s", "shardId-000000000000");
  for (const Acked& r : *after) {
    EXPECT_NE(r.shard_id, "shardId-000000000000");
    EXPECT_GT(r.sequence_number, ending);
  }
  absl::StatusOr<ShardRead> parent = ReadAll(*c, *c, "s", "shardId-000000000000");
  ASSERT_TRUE(parent.ok()) << parent.status();
  EXPECT_TRUE(parent->shard_end);
  EXPECT_EQ(parent->records.size(), before->size());
}

TEST_F(ClusterTest, AReshardWhoseFrontEndDiedIsFinishedByAnotherAndItsPutsResume) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_TRUE(Create(*a, "s", 1).ok());
  absl::StatusOr<std::vector<Acked>> before = Put(*b, "s", Data("before", 8));
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->size(), 8u);
  // A writes the lineage (parent closing, children listed) and stops there.
  a->stop_after_step = 1;
  absl::Status split = (*a)->SplitShard(SplitOfShard0());
  ASSERT_TRUE(absl::IsUnavailable(split)) << split;
  // While A lives its reshard is its own: B refuses a second one (and has read the lineage).
  absl::Status refused = (*b)->SplitShard(SplitOfShard0());
  ASSERT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  // A put through B to the parent's key range waits for the parent's children.
  absl::StatusOr<std::vector<Acked>> waited = absl::UnknownError("not run");
  std::atomic<bool> put_done{false};
  std::thread putter([&] {
    waited = Put(*b, "s", Data("waited", 8));
    put_done = true;
  });
  EXPECT_FALSE(put_done.load()) << "a put to a closing shard returned";
  // A dies (its session ends: here at once, after kill -9 when its lease expires): B finishes
  // the reshard, and the put goes on to the children.
  a.reset();
  absl::Status finished = AwaitShards(*b, "s", 3, 1);
  if (!finished.ok()) {
    // Release the put (a deleted stream's waiting puts return NOT_FOUND) to fail cleanly.
    v1::DeleteStreamRequest del;
    del.set_stream_name("s");
    EXPECT_TRUE((*b)->DeleteStream(del).ok());
  }
  putter.join();
  ASSERT_TRUE(finished.ok()) << finished;
  ASSERT_TRUE(waited.ok()) << waited.status();
  ASSERT_EQ(waited->size(), 8u);
  const uint64_t ending = EndingOf(*b, "s", "shardId-000000000000");
  ASSERT_GT(ending, 0u);
  for (const Acked& r : *before) EXPECT_LT(r.sequence_number, ending) << r.data;
  for (const Acked& r : *waited) {
    EXPECT_NE(r.shard_id, "shardId-000000000000") << r.data;
    EXPECT_GT(r.sequence_number, ending) << r.data;
  }
  // Nothing acknowledged is lost: every record is where its put said, read through a front-end
  // started after it all (A restarted).
  std::unique_ptr<FrontEnd> restarted = Start();
  ASSERT_TRUE(restarted != nullptr);
  ASSERT_TRUE(AwaitShards(*restarted, "s", 3, 1).ok());
  EXPECT_EQ(EndingOf(*restarted, "s", "shardId-000000000000"), ending);
  std::map<std::string, std::pair<std::string, uint64_t>> stored = ReadStream(*restarted, "s");
  for (const std::vector<Acked>* acked : {&*before, &*waited}) {
    for (const Acked& r : *acked) {
      auto it = stored.find(r.data);
      ASSERT_NE(it, stored.end()) << r.data << " was acknowledged and is not readable";
      EXPECT_EQ(it->second, std::make_pair(r.shard_id, r.sequence_number)) << r.data;
    }
  }
  // The split retried (the caller never learned it worked): the parent is already split.
  absl::Status retried = (*restarted)->SplitShard(SplitOfShard0());
  EXPECT_TRUE(absl::IsFailedPrecondition(retried)) << retried;
  EXPECT_NE(retried.message().find("already split"), absl::string_view::npos) << retried;
}

// A put to the closing parent of a dead front-end's reshard waits at most
// ShardStoreOptions::reshard_put_wait on the store's clock (a waiting call holds one of the
// front-end's put threads until the dead front-end's session expires otherwise), then fails
// retryably with nothing stored: per record InternalFailure in PutRecords, UNAVAILABLE for
// PutRecord. Another stream's puts on that front-end go on meanwhile; once the reshard is
// finished the retry lands in the children. The stores' FakeClock moves only here, so the bound
// is the only thing that can end the wait before A is gone.
TEST_F(ClusterTest, APutToADeadFrontEndsClosingShardFailsRetryablyOnceTheWaitBoundPasses) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_TRUE(Create(*a, "s", 1).ok());
  ASSERT_TRUE(Create(*a, "other", 1).ok());
  ASSERT_TRUE(AwaitShards(*b, "other", 1, 0).ok());
  absl::StatusOr<std::vector<Acked>> before = Put(*b, "s", Data("before", 4));
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->size(), 4u);
  a->stop_after_step = 1;
  absl::Status split = (*a)->SplitShard(SplitOfShard0());
  ASSERT_TRUE(absl::IsUnavailable(split)) << split;
  absl::Status refused = (*b)->SplitShard(SplitOfShard0());
  ASSERT_TRUE(absl::IsFailedPrecondition(refused)) << refused;  // B has read the lineage
  const absl::Duration bound = ShardStoreOptions().reshard_put_wait;
  const int waiters_before = clock_.NumWaiters();

  // Two calls to the parent's key range through B: PutRecords of 8 records, PutRecord of one.
  v1::PutRecordsRequest many_request;
  many_request.set_stream_name("s");
  const std::vector<std::string> waited = Data("waited", 8);
  for (size_t i = 0; i < waited.size(); ++i) {
    v1::PutRecordsRequestEntry* e = many_request.add_records();
    e->set_partition_key(absl::StrCat("k", i));
    e->set_data(waited[i]);
  }
  v1::PutRecordRequest one_request;
  one_request.set_stream_name("s");
  one_request.set_partition_key("single");
  one_request.set_data("single");
  v1::PutRecordsResponse many;
  absl::Status many_status = absl::UnknownError("not run");
  absl::StatusOr<v1::PutRecordResponse> one = absl::UnknownError("not run");
  std::atomic<int> done{0};
  std::thread many_putter([&] {
    many_status = (*b)->PutRecords(many_request, &many);
    done.fetch_add(1);
  });
  std::thread one_putter([&] {
    one = (*b)->PutRecord(one_request);
    done.fetch_add(1);
  });
  // Both park on the store's clock (without a bound they wait on the stream's mutex alone).
  const absl::Status parked = clock_.WaitForWaiters(waiters_before + 2, kPropagation);
  EXPECT_TRUE(parked.ok()) << parked;
  // Meanwhile another stream's puts through B go on.
  absl::StatusOr<std::vector<Acked>> other = Put(*b, "other", Data("other", 4));
  EXPECT_TRUE(other.ok()) << other.status();
  if (other.ok()) {
    EXPECT_EQ(other->size(), 4u);
  }
  // Not before the bound...
  clock_.Advance(bound - absl::Milliseconds(1));
  EXPECT_EQ(done.load(), 0) << "a put to a closing shard returned before the bound";
  // ...and once it passes, both return.
  clock_.Advance(absl::Milliseconds(1));
  const absl::Status returned =
      PollFor(kPropagation, kPoll, "both puts returned", [&] { return done.load() == 2; },
              [&] { return absl::StrCat(done.load(), " returned"); });
  if (!returned.ok()) {
    // Release the puts (a deleted stream's waiting puts return) to fail cleanly.
    v1::DeleteStreamRequest del;
    del.set_stream_name("s");
    EXPECT_TRUE((*b)->DeleteStream(del).ok());
  }
  many_putter.join();
  one_putter.join();
  ASSERT_TRUE(parked.ok());
  ASSERT_TRUE(returned.ok()) << returned;
  ASSERT_TRUE(many_status.ok()) << many_status;
  ASSERT_EQ(many.records_size(), 8);
  EXPECT_EQ(many.failed_record_count(), 8);
  for (const v1::PutRecordsResultEntry& e : many.records()) {
    EXPECT_EQ(e.error_code(), "InternalFailure");
    EXPECT_NE(e.error_message().find("being resharded"), std::string::npos) << e.error_message();
    EXPECT_NE(e.error_message().find("retry"), std::string::npos) << e.error_message();
    EXPECT_TRUE(e.sequence_number().empty());
  }
  EXPECT_TRUE(absl::IsUnavailable(one.status())) << one.status();
  EXPECT_NE(one.status().message().find("being resharded"), absl::string_view::npos)
      << one.status();

  // A dies; B finishes the reshard; the producer's retry lands in the children.
  a.reset();
  ASSERT_TRUE(AwaitShards(*b, "s", 3, 1).ok());
  const uint64_t ending = EndingOf(*b, "s", "shardId-000000000000");
  ASSERT_GT(ending, 0u);
  absl::StatusOr<std::vector<Acked>> retried = Put(*b, "s", waited);
  ASSERT_TRUE(retried.ok()) << retried.status();
  ASSERT_EQ(retried->size(), 8u);
  for (const Acked& r : *retried) {
    EXPECT_NE(r.shard_id, "shardId-000000000000") << r.data;
    EXPECT_GT(r.sequence_number, ending) << r.data;
  }
  absl::StatusOr<v1::PutRecordResponse> one_retried = (*b)->PutRecord(one_request);
  ASSERT_TRUE(one_retried.ok()) << one_retried.status();
  EXPECT_NE(one_retried->shard_id(), "shardId-000000000000");
  // The failed attempts stored nothing: the parent holds only what came before, below its end,
  // and each retried record is stored once, where its retry said.
  absl::StatusOr<ShardRead> parent = ReadAll(*b, *b, "s", "shardId-000000000000");
  ASSERT_TRUE(parent.ok()) << parent.status();
  EXPECT_TRUE(parent->shard_end);
  ASSERT_EQ(parent->records.size(), before->size());
  for (const v1::Record& r : parent->records) {
    EXPECT_LT(std::stoull(r.sequence_number()), ending) << r.data();
  }
  int stored_waited = 0, stored_single = 0;
  for (const std::string& shard : ShardIds(*b, "s")) {
    absl::StatusOr<ShardRead> read = ReadAll(*b, *b, "s", shard);
    ASSERT_TRUE(read.ok()) << shard << ": " << read.status();
    for (const v1::Record& r : read->records) {
      stored_waited += absl::StartsWith(r.data(), "waited");
      stored_single += r.data() == "single";
    }
  }
  EXPECT_EQ(stored_waited, 8);
  EXPECT_EQ(stored_single, 1);
  std::map<std::string, std::pair<std::string, uint64_t>> stored = ReadStream(*b, "s");
  for (const Acked& r : *retried) {
    auto it = stored.find(r.data);
    ASSERT_NE(it, stored.end()) << r.data << " was acknowledged and is not readable";
    EXPECT_EQ(it->second, std::make_pair(r.shard_id, r.sequence_number)) << r.data;
  }
}

TEST_F(ClusterTest, ARetriedUpdateShardCountFinishesTheInterruptedOneAndReportsItDone) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  ASSERT_TRUE(Create(*a, "s", 2).ok());
  absl::StatusOr<std::vector<Acked>> before = Put(*a, "s", Data("before", 16));
  ASSERT_TRUE(before.ok()) << before.status();
  // A closes the parents in the log (the close marker is stored) and stops before the ending
  // numbers reach etcd.
  a->stop_after_step = 2;
  v1::UpdateShardCountRequest scale;
  scale.set_stream_name("s");
  scale.set_target_shard_count(4);
  scale.set_scaling_type(v1::UNIFORM_SCALING);
  absl::Status first = (*a)->UpdateShardCount(scale).status();
  ASSERT_TRUE(absl::IsUnavailable(first)) << first;
  // Retried on the same front-end (its own failed attempt): finished, and reported done.
  a->stop_after_step = 0;
  absl::StatusOr<v1::UpdateShardCountResponse> retried = (*a)->UpdateShardCount(scale);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->current_shard_count(), 4);
  EXPECT_EQ(retried->target_shard_count(), 4);
  ASSERT_TRUE(AwaitShards(*b, "s", 6, 2).ok());
  // Retried on the other front-end too: the same answer, nothing more split.
  absl::StatusOr<v1::UpdateShardCountResponse> on_b = (*b)->UpdateShardCount(scale);
  ASSERT_TRUE(on_b.ok()) << on_b.status();
  EXPECT_EQ(on_b->current_shard_count(), 4);
  ASSERT_TRUE(AwaitShards(*b, "s", 6, 2).ok());
  const uint64_t end0 = EndingOf(*b, "s", "shardId-000000000000");
  const uint64_t end1 = EndingOf(*b, "s", "shardId-000000000001");
  ASSERT_GT(end0, 0u);
  EXPECT_EQ(end0, end1);  // one reshard, one close marker
  for (const Acked& r : *before) EXPECT_LT(r.sequence_number, end0) << r.data;
  absl::StatusOr<std::vector<Acked>> after = Put(*b, "s", Data("after", 16));
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->size(), 16u);
  for (const Acked& r : *after) {
    EXPECT_NE(r.shard_id, "shardId-000000000000");
    EXPECT_NE(r.shard_id, "shardId-000000000001");
    EXPECT_GT(r.sequence_number, end0) << r.data;
  }
  // Shard numbers are never reused: the next split's children come after the four.
  v1::SplitShardRequest split;
  split.set_stream_name("s");
  split.set_shard_to_split("shardId-000000000002");
  split.set_new_starting_hash_key("42535295865117307932921825928971026432");
  ASSERT_TRUE((*b)->SplitShard(split).ok());
  ASSERT_TRUE(AwaitShards(*a, "s", 8, 3).ok());
  const std::set<std::string> ids = ShardIds(*a, "s");
  EXPECT_EQ(ids.count("shardId-000000000006"), 1u);
  EXPECT_EQ(ids.count("shardId-000000000007"), 1u);
}

TEST_F(ClusterTest, TwoFrontEndsFinishingADeadOnesReshardAtOnceAgreeOnOneOutcome) {
  std::unique_ptr<FrontEnd> a = Start();
  std::unique_ptr<FrontEnd> b = Start();
  std::unique_ptr<FrontEnd> c = Start();
  ASSERT_TRUE(a != nullptr && b != nullptr && c != nullptr);
  ASSERT_TRUE(Create(*a, "s", 1).ok());
  absl::StatusOr<std::vector<Acked>> before = Put(*b, "s", Data("before", 8));
  ASSERT_TRUE(before.ok()) << before.status();
  a->stop_after_step = 1;
  absl::Status split = (*a)->SplitShard(SplitOfShard0());
  ASSERT_TRUE(absl::IsUnavailable(split)) << split;
  for (FrontEnd* f : {b.get(), c.get()}) {
    absl::Status refused = (*f)->SplitShard(SplitOfShard0());
    ASSERT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  }
  // A dies. B and C each learn it from the watch and finish the reshard, and each retries the
  // split at the same time (which finishes it as well): four finishers, one result.
  a.reset();
  absl::Status on_b, on_c;
  std::thread tb([&] { on_b = (*b)->SplitShard(SplitOfShard0()); });
  std::thread tc([&] { on_c = (*c)->SplitShard(SplitOfShard0()); });
  tb.join();
  tc.join();
  EXPECT_TRUE(absl::IsFailedPrecondition(on_b)) << on_b;
  EXPECT_TRUE(absl::IsFailedPrecondition(on_c)) << on_c;
  ASSERT_TRUE(AwaitShards(*b, "s", 3, 1).ok());
  ASSERT_TRUE(AwaitShards(*c, "s", 3, 1).ok());
  const uint64_t ending = EndingOf(*b, "s", "shardId-000000000000");
  ASSERT_GT(ending, 0u);
  EXPECT_EQ(EndingOf(*c, "s", "shardId-000000000000"), ending);
  EXPECT_EQ(ShardIds(*b, "s"), ShardIds(*c, "s"));
  for (const Acked& r : *before) EXPECT_LT(r.sequence_number, ending) << r.data;
  absl::StatusOr<std::vector<Acked>> via_b = Put(*b, "s", Data("b", 8));
  absl::StatusOr<std::vector<Acked>> via_c = Put(*c, "s", Data("c", 8));
  ASSERT_TRUE(via_b.ok()) << via_b.status();
  ASSERT_TRUE(via_c.ok()) << via_c.status();
  std::set<std::pair<std::string, uint64_t>> numbers;
  for (const std::vector<Acked>* acked : {&*via_b, &*via_c}) {
    for (const Acked& r : *acked) {
      EXPECT_NE(r.shard_id, "shardId-000000000000") << r.data;
      EXPECT_GT(r.sequence_number, ending) << r.data;
      EXPECT_TRUE(numbers.insert({r.shard_id, r.sequence_number}).second) << "reused";
    }
  }
  // Each front-end reads all of it.
  for (FrontEnd* f : {b.get(), c.get()}) {
    std::map<std::string, std::pair<std::string, uint64_t>> stored = ReadStream(*f, "s");
    for (const std::vector<Acked>* acked : {&*before, &*via_b, &*via_c}) {
      for (const Acked& r : *acked) {
        auto it = stored.find(r.data);
        ASSERT_NE(it, stored.end()) << r.data;
        EXPECT_EQ(it->second, std::make_pair(r.shard_id, r.sequence_number)) << r.data;
      }
    }
  }
}

TEST_F(ClusterTest, MetadataInEtcdWithTheRecordsInALocalRocksDbIsRefused) {
  std::unique_ptr<etcd::EtcdClient> client = etcd_.NewClient();
  EtcdStoreMetadataOptions metadata_options;
  metadata_options.prefix = prefix_;
  absl::StatusOr<std::unique_ptr<EtcdStoreMetadata>> metadata =
      EtcdStoreMetadata::Create(*client, metadata_options);
  ASSERT_TRUE(metadata.ok()) << metadata.status();
  ShardStoreOptions options;
  options.data_dir = "/nonexistent/never/created";
  options.cluster_metadata = std::shared_ptr<EtcdStoreMetadata>(std::move(*metadata));
  absl::StatusOr<std::unique_ptr<ShardStore>> store = ShardStore::Create(options, clock_);
  ASSERT_TRUE(absl::IsInvalidArgument(store.status())) << store.status();
  EXPECT_NE(store.status().message().find("--log=nats://"), absl::string_view::npos)
      << store.status();
}

}  // namespace
}  // namespace tributary::shard_store
