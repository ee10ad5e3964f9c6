// read_bench: read throughput of GetRecords and SubscribeToShard (records/s and MB/s). Each
// record size pre-loads a fresh stream, then reads every shard from TRIM_HORIZON to its end,
// one reader thread per shard, first with GetRecords (limit --limit), then with
// SubscribeToShard. The shard store runs in this process on a 127.0.0.1 port (no poller).
//
//   bazel run -c opt //tools/bench/read:read_bench
//   bazel run -c opt //tools/bench/read:read_bench -- --quick     # the smoke test
//
// Bounded: fixed pre-load counts; every read loop stops at the shard's end or a deadline.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gflags/gflags.h"
#include "tools/bench/common/bench_common.h"
#include "tools/bench/common/bench_main.h"

DEFINE_bool(quick, false, "Smoke mode: few records.");
DEFINE_int64(records, 400000, "Records pre-loaded per record size.");
DEFINE_string(sizes, "100,1024", "Record sizes in bytes.");
DEFINE_int32(shards, 4, "Shards of each stream (one reader each).");
DEFINE_int32(limit, 10000, "GetRecords limit.");
DEFINE_double(timeout_seconds, 20, "Give up on a read pass after this.");
DEFINE_string(work_dir, "",
              "Directory for data, kept (default: a fresh one under /tmp, removed at the end).");

namespace tributary::bench {
namespace {

struct Pass {
  int64_t records = 0;
  int64_t bytes = 0;
  double seconds = 0;
};

Pass ReadGetRecords(const std::string& address, const std::string& stream,
                    const std::vector<std::string>& shards) {
  std::atomic<int64_t> records{0}, bytes{0};
  const int64_t start = NowNanos();
  const int64_t deadline = start + static_cast<int64_t>(FLAGS_timeout_seconds * 1e9);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < shards.size(); ++i) {
    threads.emplace_back([&, i] {
      auto stub = v1::Streams::NewStub(OwnChannel(address, i));
      grpc::ClientContext context;
      v1::GetShardIteratorRequest it;
      it.set_stream_name(stream);
      it.set_shard_id(shards[i]);
      it.set_shard_iterator_type(v1::TRIM_HORIZON);
      v1::GetShardIteratorResponse itr;
      if (!stub->GetShardIterator(&context, it, &itr).ok()) return;
      std::string iterator = itr.shard_iterator();
      while (!iterator.empty() && NowNanos() < deadline) {
        grpc::ClientContext ctx;
        v1::GetRecordsRequest request;
        request.set_shard_iterator(iterator);
        request.set_limit(FLAGS_limit);
        v1::GetRecordsResponse response;
        if (!stub->GetRecords(&ctx, request, &response).ok()) return;
        int64_t b = 0;
        for (const auto& r : response.records()) b += r.data().size();
        records.fetch_add(response.records_size());
        bytes.fetch_add(b);
        iterator = response.next_shard_iterator();
        if (response.records_size() == 0 && response.millis_behind_latest() == 0) break;
      }
    });
  }
  for (auto& t : threads) t.join();
  return {records.load(), bytes.load(), (NowNanos() - start) / 1e9};
}

Pass ReadSubscribe(const std::string& address, const std::string& stream,
                   const std::vector<std::string>& shards, int64_t total) {
  std::atomic<int64_t> records{0}, bytes{0};
  const int64_t start = NowNanos();
  const auto deadline =
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(FLAGS_timeout_seconds * 1e3));
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  for (size_t i = 0; i < shards.size(); ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->set_deadline(deadline);
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < shards.size(); ++i) {
    threads.emplace_back([&, i] {
      auto stub = v1::Streams::NewStub(OwnChannel(address, 100 + i));
      v1::SubscribeToShardRequest request;
      request.set_stream_name(stream);
      request.set_shard_id(shards[i]);
      request.mutable_starting_position()->set_type(v1::TRIM_HORIZON);
      auto reader = stub->SubscribeToShard(contexts[i].get(), request);
      v1::SubscribeToShardEvent event;
      while (reader->Read(&event)) {
        int64_t b = 0;
        for (const auto& r : event.records()) b += r.data().size();
        bytes.fetch_add(b);
        if (records.fetch_add(event.records_size()) + event.records_size() >= total) {
          for (auto& ctx : contexts) ctx->TryCancel();
        }
        if (event.millis_behind_latest() == 0 && event.records_size() == 0) break;
      }
      contexts[i]->TryCancel();
      reader->Finish();
    });
  }
  for (auto& t : threads) t.join();
  return {records.load(), bytes.load(), (NowNanos() - start) / 1e9};
}

int Main() {
  if (FLAGS_quick) {
    FLAGS_records = std::min<int64_t>(FLAGS_records, 5000);
    FLAGS_sizes = "100";
    FLAGS_shards = std::min(FLAGS_shards, 2);
  }
  ScopedWorkDir work_dir(FLAGS_work_dir, "read_bench");
  const std::string& dir = work_dir.path();
  ClusterOptions options;
  options.data_dir = dir;
  options.with_poller = false;
  auto cluster = InProcessCluster::Create(options);
  if (!cluster.ok()) {
    Progress("cluster: %s", cluster.status().ToString().c_str());
    return 1;
  }
  InProcessCluster& c = **cluster;
  Report report("read");
  report.Set("quick", FLAGS_quick ? "true" : "false");
  report.Set("records", absl::StrCat(FLAGS_records));
  report.Set("shards", absl::StrCat(FLAGS_shards));
  report.Set("get_records_limit", absl::StrCat(FLAGS_limit));
  bool zero = false;
  for (absl::string_view size_text : absl::StrSplit(FLAGS_sizes, ',', absl::SkipEmpty())) {
    const int size = std::stoi(std::string(size_text));
    const std::string stream = absl::StrCat("read", size);
    if (absl::Status s = c.CreateStream(stream, FLAGS_shards); !s.ok()) {
      Progress("create stream: %s", s.ToString().c_str());
      return 1;
    }
    const int64_t loaded = Preload(c.address(), stream, FLAGS_records, size, 4, 500);
    auto shards = c.ShardIds(stream);
    if (!shards.ok()) return 1;
    for (int api = 0; api < 2; ++api) {
      const Pass p = api == 0 ? ReadGetRecords(c.address(), stream, *shards)
                              : ReadSubscribe(c.address(), stream, *shards, loaded);
      const double rps = p.records / std::max(1e-9, p.seconds);
      const double mbps = p.bytes / std::max(1e-9, p.seconds) / 1e6;
      const char* name = api == 0 ? "GetRecords" : "SubscribeToShard";
      Progress("[%d B] %-16s read %lld/%lld records in %.2f s = %.0f rec/s, %.1f MB/s", size, name,
               static_cast<long long>(p.records), static_cast<long long>(loaded), p.seconds, rps,
               mbps);
      report.AddRow({Report::Str("api", name), Report::Num("record_bytes", size),
                     Report::Num("records", p.records), Report::Num("seconds", p.seconds, 3),
                     Report::Num("records_per_s", rps), Report::Num("mb_per_s", mbps, 1)});
      if (p.records < loaded || rps <= 0) zero = true;
    }
  }
  c.Shutdown();
  return FinishRun(report.Finish(FLAGS_json_out), zero,
                   "a figure is zero or a pass did not read everything");
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  return tributary::bench::BenchMain(argc, argv, tributary::bench::Main);
}
