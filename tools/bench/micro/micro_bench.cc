// Micro-benchmarks of the parts every record passes through (Google Benchmark):
//   - MD5 routing: PartitionKeyHash (OpenSSL MD5 of the partition key as a 128-bit integer);
//   - the poller's Batcher: Add + TakeReady per record at several batch sizes;
//   - LaneForPartitionKey (parallelization factor routing) and the WatermarkTracker;
//   - the shard iterator codec, through the store's public calls: GetShardIterator
//     (AT_SEQUENCE_NUMBER: encode + HMAC-SHA256) and GetRecords at the tip of an empty shard
//     (decode + HMAC check + one RocksDB seek);
//   - ShardStore::PutRecords without gRPC, 500 records of 100 B a call, at 1 and 10,000 shards.
//
//   bazel run -c opt //tools/bench/micro:micro_bench
//   bazel run -c opt //tools/bench/micro:micro_bench -- --benchmark_filter=Batcher
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "mapping/lanes.h"
#include "poller/checkpoint/watermark.h"
#include "poller/processing/batcher.h"
#include "proto/streams.pb.h"
#include "shard_store/shard_store.h"

namespace tributary {
namespace {

std::vector<std::string> PartitionKeys(int count, int length) {
  std::vector<std::string> keys;
  for (int i = 0; i < count; ++i) {
    std::string key = absl::StrCat("key-", i, "-");
    key.resize(length, 'k');
    keys.push_back(std::move(key));
  }
  return keys;
}

void BM_PartitionKeyHash(benchmark::State& state) {
  const std::vector<std::string> keys = PartitionKeys(1024, static_cast<int>(state.range(0)));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(shard_store::PartitionKeyHash(keys[i++ & 1023]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PartitionKeyHash)->Arg(8)->Arg(36)->Arg(256);

v1::Record MakeRecord(uint64_t sequence, int data_bytes) {
  v1::Record record;
  record.set_sequence_number(absl::StrCat(sequence));
  record.set_partition_key(absl::StrCat("key-", sequence % 64));
  record.set_data(std::string(data_bytes, 'x'));
  record.mutable_approximate_arrival_timestamp()->set_seconds(1'700'000'000);
  return record;
}

// Per record: copy a 100 B record in, and take the batches as they become due (window 0, so a
// batch goes as soon as it is full or the caller flushes at the end of a round of 10,000).
void BM_BatcherAddTake(benchmark::State& state) {
  const int batch_size = static_cast<int>(state.range(0));
  poller::Batcher batcher(batch_size, absl::Seconds(1));
  const v1::Record prototype = MakeRecord(1, 100);
  const MonotonicTime now = MonotonicTime::FromOrigin(absl::Hours(1));
  int64_t batches = 0;
  int in_round = 0;
  for (auto _ : state) {
    batcher.Add(prototype, now);
    if (++in_round == 10000) {
      while (auto batch = batcher.TakeReady(now, /*flush=*/true)) ++batches;
      in_round = 0;
    } else if (static_cast<int>(batcher.size()) >= batch_size) {
      if (auto batch = batcher.TakeReady(now)) ++batches;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["batches"] = static_cast<double>(batches);
}
BENCHMARK(BM_BatcherAddTake)->Arg(10)->Arg(100)->Arg(10000);

void BM_InvokePayloadBytes(benchmark::State& state) {
  const v1::Record record = MakeRecord(123456789, static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(poller::InvokePayloadBytes(record));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InvokePayloadBytes)->Arg(100)->Arg(1024);

void BM_LaneForPartitionKey(benchmark::State& state) {
  const std::vector<std::string> keys = PartitionKeys(1024, 36);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(mapping::LaneForPartitionKey(keys[i++ & 1023], 10));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LaneForPartitionKey);

// Received then Done for every record, done in order of lanes (every 10th record is done one
// round late), as ten lanes finishing out of order do.
void BM_WatermarkTracker(benchmark::State& state) {
  poller::WatermarkTracker tracker;
  uint64_t next = 1;
  for (auto _ : state) {
    for (int i = 0; i < 10; ++i) benchmark::DoNotOptimize(tracker.Received(next + i));
    for (int i = 1; i < 10; ++i) benchmark::DoNotOptimize(tracker.Done(next + i));
    benchmark::DoNotOptimize(tracker.Done(next));
    next += 10;
  }
  state.SetItemsProcessed(state.iterations() * 10);
}
BENCHMARK(BM_WatermarkTracker);

// A store in a fresh directory with one stream ("micro") of `shards` shards, removed at the end.
class StoreFixture {
 public:
  explicit StoreFixture(int shards = 1) {
    dir_ =
        std::filesystem::temp_directory_path() / absl::StrCat("tributary_micro_bench_", ::getpid());
    std::filesystem::remove_all(dir_);
    shard_store::ShardStoreOptions options;
    options.data_dir = dir_.string();
    auto store = shard_store::ShardStore::Create(options, RealClock::Get());
    if (!store.ok()) {
      error_ = std::string(store.status().message());
      return;
    }
    store_ = *std::move(store);
    v1::CreateStreamRequest create;
    create.set_stream_name("micro");
    create.set_shard_count(shards);
    absl::Status status = store_->CreateStream(create);
    if (!status.ok()) error_ = std::string(status.message());
  }
  ~StoreFixture() {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  shard_store::ShardStore* store() { return store_.get(); }
  const std::string& error() const { return error_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<shard_store::ShardStore> store_;
  std::string error_;
};

void BM_GetShardIterator(benchmark::State& state) {
  StoreFixture fixture;
  if (!fixture.error().empty()) return state.SkipWithError(fixture.error().c_str());
  v1::GetShardIteratorRequest request;
  request.set_stream_name("micro");
  request.set_shard_id(shard_store::ShardIdFromIndex(0));
  request.set_shard_iterator_type(v1::AT_SEQUENCE_NUMBER);
  request.set_starting_sequence_number("12345678901234");
  for (auto _ : state) {
    auto response = fixture.store()->GetShardIterator(request);
    if (!response.ok())
      return state.SkipWithError(std::string(response.status().message()).c_str());
    benchmark::DoNotOptimize(response->shard_iterator());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetShardIterator);

void BM_GetRecordsAtTip(benchmark::State& state) {
  StoreFixture fixture;
  if (!fixture.error().empty()) return state.SkipWithError(fixture.error().c_str());
  v1::GetShardIteratorRequest iterator_request;
  iterator_request.set_stream_name("micro");
  iterator_request.set_shard_id(shard_store::ShardIdFromIndex(0));
  iterator_request.set_shard_iterator_type(v1::LATEST);
  auto iterator = fixture.store()->GetShardIterator(iterator_request);
  if (!iterator.ok()) return state.SkipWithError(std::string(iterator.status().message()).c_str());
  v1::GetRecordsRequest request;
  request.set_shard_iterator(iterator->shard_iterator());
  v1::GetRecordsResponse response;
  for (auto _ : state) {
    absl::Status status = fixture.store()->GetRecords(request, &response);
    if (!status.ok()) return state.SkipWithError(std::string(status.message()).c_str());
    benchmark::DoNotOptimize(response.next_shard_iterator());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetRecordsAtTip);

// ShardStore::PutRecords alone (no gRPC): 500 records of 100 B with random partition keys a
// call, WAL on, one writer. With 10,000 shards a call touches ~490 shards, i.e. writes ~490
// RocksDB entries where 1 shard writes one: the difference is the per-entry cost of the
// memtable (BENCHMARKS.md, "Run 6 and what was tried next"). Real time per call.
void BM_StorePutRecords(benchmark::State& state) {
  StoreFixture fixture(static_cast<int>(state.range(0)));
  if (!fixture.error().empty()) return state.SkipWithError(fixture.error().c_str());
  constexpr int kRecords = 500;
  std::vector<v1::PutRecordsRequest> requests(16);
  uint64_t key = 0x9e3779b97f4a7c15ull;
  for (v1::PutRecordsRequest& request : requests) {
    request.set_stream_name("micro");
    for (int i = 0; i < kRecords; ++i) {
      key ^= key << 13;  // xorshift: spread the keys over every shard
      key ^= key >> 7;
      key ^= key << 17;
      v1::PutRecordsRequestEntry* entry = request.add_records();
      entry->set_partition_key(absl::StrCat(key));
      entry->set_data(std::string(100, 'x'));
    }
  }
  v1::PutRecordsResponse response;
  size_t i = 0;
  for (auto _ : state) {
    absl::Status status = fixture.store()->PutRecords(requests[i++ % requests.size()], &response);
    if (!status.ok()) return state.SkipWithError(std::string(status.message()).c_str());
    benchmark::DoNotOptimize(response.failed_record_count());
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_StorePutRecords)->Arg(1)->Arg(10000)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tributary

BENCHMARK_MAIN();
