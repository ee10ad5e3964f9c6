// delivery_bench: records/s that ONE poller delivers into a no-op function. Each cell pre-loads
// a fresh stream, then creates a mapping at TRIM_HORIZON and times the drain: from the first
// invocation to the one that delivers the last record. Cells: batch size × parallelization
// factor (default 100 and 10000 × 1 and 10) × function (--functions: the gRPC no-op function,
// and the same no-op behind HTTP with Lambda's Kinesis event, poller/invoke/). Every service
// runs in this process on one 127.0.0.1 port as `tributary serve` composes them (one poller);
// the functions are a second in-process gRPC server and an in-process HTTP server.
//
//   bazel run -c opt //tools/bench/delivery:delivery_bench
//   bazel run -c opt //tools/bench/delivery:delivery_bench -- --quick     # the smoke test
//   bazel run -c opt //tools/bench/delivery:delivery_bench -- --functions=grpc,http --batch_sizes=100
//
// Bounded: the pre-load has a fixed count and each drain a deadline (--drain_timeout_seconds).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gflags/gflags.h"
#include "tools/bench/common/bench_common.h"
#include "tools/bench/common/bench_main.h"

DEFINE_bool(quick, false, "Smoke mode: few records, two cells.");
DEFINE_int64(records, 200000, "Records pre-loaded per cell.");
DEFINE_int32(record_bytes, 100, "Bytes of data per record.");
DEFINE_int32(shards, 4, "Shards of each stream.");
DEFINE_string(batch_sizes, "100,10000", "The mapping's batch sizes.");
DEFINE_string(parallelization, "1,10", "The mapping's parallelization factors.");
DEFINE_int32(tumbling_window_seconds, 0,
             "The mapping's tumbling window (0: none); the no-op function returns an empty state.");
DEFINE_string(functions, "grpc,http",
              "The no-op functions each cell runs against: grpc (tributary.v1.Function) and "
              "http (Lambda's Kinesis event over HTTP).");
DEFINE_double(drain_timeout_seconds, 20, "Give up on a cell's drain after this.");
DEFINE_string(work_dir, "",
              "Directory for data, kept (default: a fresh one under /tmp, removed at the end).");

namespace tributary::bench {
namespace {

std::vector<int> Ints(const std::string& list) {
  std::vector<int> out;
  for (absl::string_view v : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    out.push_back(std::stoi(std::string(v)));
  }
  return out;
}

int Main() {
  if (FLAGS_quick) {
    FLAGS_records = std::min<int64_t>(FLAGS_records, 5000);
    FLAGS_batch_sizes = "100";
    FLAGS_parallelization = "1,10";
    FLAGS_shards = std::min(FLAGS_shards, 2);
  }
  ScopedWorkDir work_dir(FLAGS_work_dir, "delivery_bench");
  const std::string& dir = work_dir.path();
  ClusterOptions options;
  options.data_dir = dir;
  options.sync_interval_ms = 200;
  auto cluster = InProcessCluster::Create(options);
  auto function = FunctionServer::Start();
  auto http_function = HttpFunctionServer::Start();
  if (!cluster.ok() || !function.ok() || !http_function.ok()) {
    Progress("setup: %s %s %s", cluster.status().ToString().c_str(),
             function.status().ToString().c_str(), http_function.status().ToString().c_str());
    return 1;
  }
  InProcessCluster& c = **cluster;
  std::vector<std::string> kinds;
  for (absl::string_view k : absl::StrSplit(FLAGS_functions, ',', absl::SkipEmpty())) {
    if (k != "grpc" && k != "http") {
      Progress("--functions: \"%s\" is not grpc or http", std::string(k).c_str());
      return 2;
    }
    kinds.emplace_back(k);
  }
  Report report("delivery");
  report.Set("quick", FLAGS_quick ? "true" : "false");
  report.Set("records_per_cell", absl::StrCat(FLAGS_records));
  report.Set("record_bytes", absl::StrCat(FLAGS_record_bytes));
  report.Set("shards", absl::StrCat(FLAGS_shards));
  report.Set("pollers", "1");
  report.Set("tumbling_window_seconds", absl::StrCat(FLAGS_tumbling_window_seconds));
  bool zero = false;
  int cell = 0;
  for (int batch : Ints(FLAGS_batch_sizes)) {
    for (int par : Ints(FLAGS_parallelization)) {
     for (const std::string& kind : kinds) {
      NoopFunction& f = kind == "http" ? (*http_function)->function() : (*function)->function();
      const std::string endpoint =
          kind == "http" ? (*http_function)->endpoint() : (*function)->address();
      ++cell;
      const std::string stream = absl::StrCat("delivery", cell);
      if (absl::Status s = c.CreateStream(stream, FLAGS_shards); !s.ok()) {
        Progress("create stream: %s", s.ToString().c_str());
        return 1;
      }
      const int64_t load_start = NowNanos();
      int64_t failed = 0;
      const int64_t loaded =
          Preload(c.address(), stream, FLAGS_records, FLAGS_record_bytes, 4, 500, 0, &failed);
      const double load_s = (NowNanos() - load_start) / 1e9;
      f.Reset();
      const int64_t created = NowNanos();
      auto uuid = c.CreateMapping(stream, endpoint, batch, par, true,
                                  FLAGS_tumbling_window_seconds);
      if (!uuid.ok()) {
        Progress("mapping: %s", uuid.status().ToString().c_str());
        return 1;
      }
      const int64_t deadline = created + static_cast<int64_t>(FLAGS_drain_timeout_seconds * 1e9);
      while (f.records() < loaded && NowNanos() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      const int64_t delivered = f.records();
      const double drain_s = std::max(1e-9, (f.last_invoke_nanos() - f.first_invoke_nanos()) / 1e9);
      const double from_create_s = (f.last_invoke_nanos() - created) / 1e9;
      const double rate = delivered / drain_s;
      const double mean_batch = f.invocations() > 0 ? 1.0 * delivered / f.invocations() : 0;
      Progress(
          "[%d] %-4s batch %5d par %2d: pre-loaded %lld in %.1f s; delivered %lld/%lld in %.2f s "
          "= %.0f rec/s (%.0f from mapping creation), %lld invocations, mean batch %.0f",
          cell, kind.c_str(), batch, par, static_cast<long long>(loaded), load_s,
          static_cast<long long>(delivered), static_cast<long long>(loaded), drain_s, rate,
          delivered / std::max(1e-9, from_create_s), static_cast<long long>(f.invocations()),
          mean_batch);
      report.AddRow({Report::Str("function", kind), Report::Num("batch_size", batch), Report::Num("parallelization", par),
                     Report::Num("records", loaded), Report::Num("delivered", delivered),
                     Report::Num("drain_s", drain_s, 3), Report::Num("records_per_s", rate),
                     Report::Num("mb_per_s", rate * FLAGS_record_bytes / 1e6, 1),
                     Report::Num("from_create_rps", delivered / std::max(1e-9, from_create_s)),
                     Report::Num("invocations", f.invocations()),
                     Report::Num("mean_batch", mean_batch, 1)});
      if (rate <= 0 || delivered < loaded) zero = true;
      grpc::ClientContext context;
      v1::DeleteEventSourceMappingRequest del;
      del.set_uuid(*uuid);
      v1::EventSourceMappingConfiguration ignored;
      c.mappings().DeleteEventSourceMapping(&context, del, &ignored);
     }
    }
  }
  c.Shutdown();
  return FinishRun(report.Finish(FLAGS_json_out), zero,
                   "a figure is zero or a drain did not finish");
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  return tributary::bench::BenchMain(argc, argv, tributary::bench::Main);
}
