// delivery_overload_bench: delivery into a function slower than the ingest rate (issue 22: "the
// poller must not queue unboundedly").
//
//   bazel run -c opt //tools/bench/overload:delivery_overload_bench
//   bazel run -c opt //tools/bench/overload:delivery_overload_bench -- --seconds=10 --factors=1,2,4
//
// Every service in this process (tools/bench/common's InProcessCluster, as `tributary serve`
// composes them, one poller) and a gRPC function that takes --function_ms per invocation. The
// function's capacity is C = shards × batch_size / function_ms records/s (parallelization 1).
// Per factor k (--factors): a fresh stream and a mapping at TRIM_HORIZON, then producers offer k·C
// records/s for --seconds (open loop, PutRecords of 100 records); every 500 ms a sample of the
// records delivered, what the poller buffers (the records offered and not done, and their bytes,
// summed over its consumers: the bound is ShardConsumerOptions::max_outstanding_bytes per shard),
// the process's RSS (store and poller: one process) and the iterator age (the age of the oldest
// record of the latest invocation). Bounded: --seconds ≤ 30 per factor.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/grpc_server.h"
#include "gflags/gflags.h"
#include "grpcpp/grpcpp.h"
#include "poller/lifecycle/shard_consumer.h"
#include "poller/poller.h"
#include "poller/poller_node.h"
#include "proto/function.grpc.pb.h"
#include "proto/streams.grpc.pb.h"
#include "tools/bench/common/bench_common.h"
#include "tools/bench/common/bench_main.h"

DEFINE_double(seconds, 10, "Seconds of load per factor (at most 30).");
DEFINE_string(factors, "1,2,4", "Offered load as multiples of the function's capacity.");
DEFINE_int32(shards, 2, "Shards of each stream.");
DEFINE_int32(batch_size, 100, "The mapping's batch size.");
DEFINE_int32(function_ms, 100, "How long one invocation takes.");
DEFINE_int32(record_bytes, 8192, "Data bytes per record.");
DEFINE_int64(poller_memory_budget_mb, 0,
             "The poller's --memory_budget_mb: the bytes its shards buffer together (0: none).");
DEFINE_string(work_dir, "", "Directory for data (default: a fresh one under /tmp, removed).");

namespace tributary::bench {
namespace {

int64_t StatusKb(const char* field) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  long long kb = 0;
  const std::string format = absl::StrCat(field, ": %lld kB");
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::sscanf(line, format.c_str(), &kb) == 1) break;
  }
  std::fclose(f);
  return kb;
}

// A function that takes --function_ms per invocation and notes the age of each batch's oldest
// record when it arrives (the iterator age the poller reads at).
class SlowFunction final : public v1::Function::Service {
 public:
  grpc::Status Invoke(grpc::ServerContext*, const v1::InvokeRequest* request,
                      v1::InvokeResponse*) override {
    if (request->records_size() > 0) {
      const auto& ts = request->records(0).approximate_arrival_timestamp();
      const absl::Time arrival = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
      age_ms_.store(absl::ToInt64Milliseconds(absl::Now() - arrival));
    }
    absl::SleepFor(absl::Milliseconds(FLAGS_function_ms));
    records_ += request->records_size();
    ++invocations_;
    return grpc::Status::OK;
  }
  std::atomic<int64_t> records_{0}, invocations_{0}, age_ms_{0};
};

std::vector<int> Ints(const std::string& list) {
  std::vector<int> out;
  for (absl::string_view v : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    out.push_back(std::stoi(std::string(v)));
  }
  return out;
}

// What the poller buffers for `uuid`: records offered and not done, and their bytes.
std::pair<int64_t, int64_t> Buffered(poller::Poller& poller, const std::string& uuid) {
  int64_t records = 0, bytes = 0;
  for (const poller::ShardContext& shard : poller.shards()) {
    if (shard.mapping_uuid != uuid) continue;
    poller::ShardConsumer* consumer = poller.consumer(uuid, shard.shard_id);
    if (consumer == nullptr) continue;
    records += consumer->outstanding_records();
    bytes += consumer->outstanding_bytes();
  }
  return {records, bytes};
}

int Main() {
  const double seconds = std::min(30.0, FLAGS_seconds);
  ScopedWorkDir work_dir(FLAGS_work_dir, "delivery_overload_bench");
  ClusterOptions options;
  options.data_dir = work_dir.path();
  options.sync_interval_ms = 200;
  options.poller_memory_budget_bytes = FLAGS_poller_memory_budget_mb << 20;
  auto cluster = InProcessCluster::Create(options);
  if (!cluster.ok()) {
    Progress("setup: %s", cluster.status().ToString().c_str());
    return 1;
  }
  InProcessCluster& c = **cluster;
  const double capacity = 1000.0 * FLAGS_shards * FLAGS_batch_size / FLAGS_function_ms;
  std::printf("delivery_overload_bench: %d shards, batch %d, function %d ms an invocation "
              "(capacity %.0f records/s), %d B records, %.1f s a factor; buffer bound %lld MiB "
              "per shard, poller-wide budget %lld MiB (0: none)\n",
              FLAGS_shards, FLAGS_batch_size, FLAGS_function_ms, capacity, FLAGS_record_bytes,
              seconds,
              static_cast<long long>(poller::ShardConsumerOptions().max_outstanding_bytes >> 20),
              static_cast<long long>(FLAGS_poller_memory_budget_mb));
  bool failed = false;
  std::vector<std::string> summary;
  for (int factor : Ints(FLAGS_factors)) {
    // A function (and its counters) of this factor's own: a mapping of an earlier factor that is
    // still being released cannot add its deliveries to this one's.
    SlowFunction function;
    auto function_server = GrpcServer::Start("127.0.0.1:0", {&function});
    if (!function_server.ok()) {
      Progress("function: %s", function_server.status().ToString().c_str());
      return 1;
    }
    const int64_t rss0_kb = StatusKb("VmRSS");
    const std::string stream = absl::StrCat("slow", factor);
    if (absl::Status s = c.CreateStream(stream, FLAGS_shards); !s.ok()) {
      Progress("create stream: %s", s.ToString().c_str());
      return 1;
    }
    auto uuid = c.CreateMapping(stream, (*function_server)->address(), FLAGS_batch_size, 1, true);
    if (!uuid.ok()) {
      Progress("mapping: %s", uuid.status().ToString().c_str());
      return 1;
    }
    c.WaitForOwnedLeases(*uuid, FLAGS_shards, "", 20);
    const int64_t delivered0 = function.records_.load();
    // Producers: 4 threads, 100-record calls at fixed times.
    const double records_per_s = capacity * factor;
    constexpr int kProducers = 4, kPerCall = 100;
    std::atomic<int64_t> produced{0}, refused{0};
    const absl::Time start = absl::Now(), end = start + absl::Seconds(seconds);
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        auto stub = v1::Streams::NewStub(OwnChannel(c.address(), p));
        v1::PutRecordsRequest request;
        request.set_stream_name(stream);
        for (int i = 0; i < kPerCall; ++i) {
          auto* e = request.add_records();
          e->set_partition_key(absl::StrCat(p, "-", i));
          e->set_data(std::string(FLAGS_record_bytes, 'x'));
        }
        const absl::Duration interval = absl::Seconds(kProducers * kPerCall / records_per_s);
        absl::Time next = start + interval * (static_cast<double>(p) / kProducers);
        while (next < end) {
          absl::SleepFor(next - absl::Now());
          next += interval;
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
          v1::PutRecordsResponse response;
          grpc::Status status = stub->PutRecords(&context, request, &response);
          if (status.ok()) {
            produced += kPerCall - response.failed_record_count();
          } else {
            ++refused;
          }
        }
      });
    }
    int64_t max_records = 0, max_bytes = 0, max_rss_kb = 0, last_delivered = delivered0;
    absl::Time last = start;
    std::printf("factor %dx: offered %.0f records/s\n", factor, records_per_s);
    while (absl::Now() < end + absl::Seconds(1)) {
      absl::SleepFor(absl::Milliseconds(500));
      const auto [records, bytes] = Buffered(c.poller()->poller(), *uuid);
      const int64_t rss_kb = StatusKb("VmRSS");
      const int64_t delivered = function.records_.load();
      const absl::Time now = absl::Now();
      max_records = std::max(max_records, records);
      max_bytes = std::max(max_bytes, bytes);
      max_rss_kb = std::max(max_rss_kb, rss_kb);
      std::printf("  t=%4.1f s  produced %8lld  delivered/s %7.0f  buffered %6lld records "
                  "%7.1f MiB  RSS %6lld MiB  iterator age %6lld ms\n",
                  absl::ToDoubleSeconds(now - start), static_cast<long long>(produced.load()),
                  (delivered - last_delivered) / std::max(1e-9, absl::ToDoubleSeconds(now - last)),
                  static_cast<long long>(records), bytes / 1048576.0,
                  static_cast<long long>(rss_kb >> 10),
                  static_cast<long long>(function.age_ms_.load()));
      std::fflush(stdout);
      last_delivered = delivered;
      last = now;
    }
    for (std::thread& t : producers) t.join();
    const int64_t delivered = function.records_.load() - delivered0;
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
    std::printf("factor %dx: produced %lld (%lld calls failed), delivered %lld = %.0f records/s "
                "(capacity %.0f); poller buffer peak %lld records %.1f MiB (bound %lld MiB x %d "
                "shards + one read each); process RSS peak %lld MiB; iterator age at the end "
                "%lld ms\n",
                factor, static_cast<long long>(produced.load()),
                static_cast<long long>(refused.load()), static_cast<long long>(delivered),
                delivered / elapsed, capacity, static_cast<long long>(max_records),
                max_bytes / 1048576.0,
                static_cast<long long>(poller::ShardConsumerOptions().max_outstanding_bytes >> 20),
                FLAGS_shards, static_cast<long long>(max_rss_kb >> 10),
                static_cast<long long>(function.age_ms_.load()));
    // The budget's peak counts the bytes held at once with the read reserves (every factor so
    // far: the first factor's peak is its own).
    std::printf("poller budget: peak %.1f MiB held (records and read reserves), limit %lld MiB\n",
                c.poller()->read_budget().peak() / 1048576.0,
                static_cast<long long>(FLAGS_poller_memory_budget_mb));
    std::fflush(stdout);
    summary.push_back(absl::StrFormat(
        "| %dx | %.0f | %.0f | %.0f | %lld | %.1f | %lld → %lld | %lld |", factor, records_per_s,
        produced.load() / seconds, delivered / elapsed, static_cast<long long>(max_records),
        max_bytes / 1048576.0, static_cast<long long>(rss0_kb >> 10),
        static_cast<long long>(max_rss_kb >> 10),
        static_cast<long long>(function.age_ms_.load())));
    if (delivered <= 0) failed = true;
    grpc::ClientContext context;
    v1::DeleteEventSourceMappingRequest del;
    del.set_uuid(*uuid);
    v1::EventSourceMappingConfiguration ignored;
    c.mappings().DeleteEventSourceMapping(&context, del, &ignored);
    // Wait (bounded) until the poller let go of the deleted mapping's shards, so the next factor
    // does not share the machine with this one's backlog.
    const absl::Time release_deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < release_deadline) {
      bool held = false;
      for (const poller::ShardContext& shard : c.poller()->poller().shards()) {
        held = held || shard.mapping_uuid == *uuid;
      }
      if (!held) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    (*function_server)->Shutdown();
  }
  std::printf("\n| factor | offered rec/s | produced rec/s | delivered rec/s | poller buffer peak "
              "records | MiB | process RSS MiB (start → peak) | iterator age at end ms |\n"
              "|---|---|---|---|---|---|---|---|\n");
  for (const std::string& line : summary) std::printf("%s\n", line.c_str());
  c.Shutdown();
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  return tributary::bench::BenchMain(argc, argv, tributary::bench::Main);
}
