// tables_bench: what a table's change stream costs its writes, and how long a change takes to
// reach a function (issue 18).
//
// 1. PutItem and UpdateItem ops/s on a table without a stream and on one with a stream
//    (NEW_AND_OLD_IMAGES), in the same run, in alternating order over --rounds rounds: through
//    tributary.v1.Tables (gRPC, --clients threads each on its own channel) and on the TableStore
//    directly (the same threads, no gRPC), so the stream's share is seen with and without the
//    RPC around it. Every write changes its item (a put carries a new value, an update ADDs 1),
//    so every write on the streamed table appends a change record.
//    Beside ops/s: CPU time per operation (the process, getrusage, and the writer threads'
//    own) and voluntary context switches per operation, far less sensitive to the machine's
//    load than ops/s; cpu_extra_pct is the stream's extra CPU per operation (on / off − 1).
// 2. put → function: items put one at a time (paced at --latency_rate) into a streamed table
//    with a mapping (batch size --batch_size, window 0) to an in-process gRPC function that
//    reads each change (its dynamodb_records) and notes when the item's "seq" arrived; latency = arrival −
//    PutItem's reply, p50 / p99 / max.
//
// Every service runs in this process on one 127.0.0.1 port, composed as `tributary serve`
// composes them (bench_common's InProcessCluster with tables). Bounded: each phase is a fixed
// number of operations and every wait has a deadline.
//
//   bazel run -c opt //tools/bench/tables:tables_bench
//   bazel run -c opt //tools/bench/tables:tables_bench -- --quick     # the smoke test
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gflags/gflags.h"
#include "proto/function.grpc.pb.h"
#include "proto/tables.grpc.pb.h"
#include "tables/attribute_value.h"
#include "tables/expression.h"
#include "tables/table_store.h"
#include "tables/tables_client.h"
#include "tools/bench/common/bench_common.h"
#include "tools/bench/common/bench_main.h"

DEFINE_bool(quick, false, "Smoke mode: few operations.");
DEFINE_int32(clients, 4, "Concurrent writers (gRPC: each on its own channel).");
DEFINE_int64(ops, 20000, "Operations per phase (one op kind, one table, one path).");
DEFINE_int32(rounds, 3, "Rounds of every phase (the table order alternates).");
DEFINE_int32(keys, 5000, "Distinct items written.");
DEFINE_int32(item_bytes, 200, "Bytes of the padding attribute of each item.");
DEFINE_int32(table_stream_shards, 4, "Shards of a table's stream.");
DEFINE_string(paths, "grpc,store", "The write paths measured, comma-separated: grpc, store.");
DEFINE_string(streams, "off,on",
              "The tables measured, comma-separated: off (no stream), on (a stream); one alone "
              "is for profiling either side.");
DEFINE_string(ops_kinds, "put,update", "The operations measured, comma-separated: put, update.");
DEFINE_int64(latency_items, 2000, "Items put for the put → function latency (0: skip it).");
DEFINE_double(latency_rate, 500, "Items per second put for the latency (one writer, paced).");
DEFINE_int32(batch_size, 100, "The mapping's batch size.");
DEFINE_double(wait_seconds, 60, "Most seconds to wait for the function to see every item.");
DEFINE_string(work_dir, "",
              "Directory for data, kept (default: a fresh one under /tmp, removed at the end).");

namespace tributary::bench {
namespace {

using tables::AttributeMap;
using tables::AttributeValue;

// The function: notes the arrival of each change's item "seq" (its NewImage).
class ChangeFunction final : public v1::Function::Service {
 public:
  explicit ChangeFunction(int64_t items) : arrival_(new std::atomic<int64_t>[items]), n_(items) {
    for (int64_t i = 0; i < items; ++i) arrival_[i] = 0;
  }
  grpc::Status Invoke(grpc::ServerContext*, const v1::InvokeRequest* request,
                      v1::InvokeResponse*) override {
    const int64_t now = NowNanos();
    // A table stream's changes arrive as DynamoDB Streams records (dynamodb_records).
    for (const v1::DynamoDbStreamRecord& r : request->dynamodb_records()) {
      auto value = r.dynamodb().new_image().find("seq");
      if (value == r.dynamodb().new_image().end()) continue;
      int64_t seq = -1;
      if (!absl::SimpleAtoi(value->second.n(), &seq) || seq < 0 || seq >= n_) continue;
      int64_t expected = 0;
      if (arrival_[seq].compare_exchange_strong(expected, now)) ++seen_;
    }
    return grpc::Status::OK;
  }
  int64_t seen() const { return seen_.load(); }
  int64_t arrival(int64_t seq) const { return arrival_[seq].load(); }

 private:
  std::unique_ptr<std::atomic<int64_t>[]> arrival_;
  const int64_t n_;
  std::atomic<int64_t> seen_{0};
};

v1::TableDescription CreateTable(tables::TablesClient& client, const std::string& name,
                                 bool stream) {
  v1::CreateTableRequest r;
  r.set_table_name(name);
  r.mutable_partition_key()->set_attribute_name("pk");
  r.mutable_partition_key()->set_attribute_type("S");
  r.set_billing_mode(v1::BILLING_PAY_PER_REQUEST);
  if (stream) {
    r.mutable_stream_specification()->set_stream_enabled(true);
    r.mutable_stream_specification()->set_stream_view_type(v1::VIEW_NEW_AND_OLD_IMAGES);
  }
  absl::StatusOr<v1::TableDescription> d = client.CreateTable(r);
  if (!d.ok()) {
    fprintf(stderr, "CreateTable %s: %s\n", name.c_str(), d.status().ToString().c_str());
    exit(1);
  }
  return *d;
}

enum class Op { kPut, kUpdate };
enum class Path { kGrpc, kStore };

// What one phase measured. CPU time is far less sensitive to other processes' load than ops/s
// (on a shared machine a phase's wall time includes waiting for a core).
struct PhaseResult {
  double ops_per_s = 0;        // 0 when any operation failed
  double cpu_us_per_op = 0;    // the whole process (getrusage): writers, gRPC, RocksDB, ...
  double writer_cpu_us_per_op = 0;  // the writer threads' own CPU (CLOCK_THREAD_CPUTIME_ID)
  double switches_per_op = 0;  // voluntary context switches of the process (blocking waits)
};

struct Usage {
  double cpu_seconds = 0;
  int64_t voluntary_switches = 0;
};
Usage ProcessUsage() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return {u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6,
          u.ru_nvcsw};
}
int64_t ThreadCpuNanos() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * int64_t{1000000000} + t.tv_nsec;
}

// One phase: FLAGS_ops operations of `op` on `table` by FLAGS_clients threads.
PhaseResult RunPhase(InProcessCluster& c, Path path, Op op, const std::string& table,
                     int64_t base) {
  const int clients = FLAGS_clients;
  const int64_t per_client = FLAGS_ops / clients;
  const std::string pad(FLAGS_item_bytes, 'x');
  tables::ExpressionAttributes attributes({}, {{":one", AttributeValue::N("1")}});
  const tables::UpdateExpression add = *tables::ParseUpdateExpression("ADD n :one", attributes);
  std::atomic<int64_t> failures{0};
  std::atomic<int64_t> writer_cpu_nanos{0};
  std::vector<std::thread> threads;
  const Usage usage_before = ProcessUsage();
  const int64_t start = NowNanos();
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      const int64_t cpu_start = ThreadCpuNanos();
      std::unique_ptr<tables::TablesClient> client;
      if (path == Path::kGrpc) {
        client = std::make_unique<tables::TablesClient>(OwnChannel(c.address(), t));
      }
      for (int64_t i = 0; i < per_client; ++i) {
        const int64_t n = base + t * per_client + i;
        const std::string key = absl::StrCat("k", (t * per_client + i) % FLAGS_keys);
        absl::Status s;
        if (path == Path::kGrpc && op == Op::kPut) {
          v1::PutItemRequest r;
          r.set_table_name(table);
          (*r.mutable_item())["pk"].set_s(key);
          (*r.mutable_item())["v"].set_n(absl::StrCat(n));
          (*r.mutable_item())["pad"].set_s(pad);
          s = client->PutItem(r).status();
        } else if (path == Path::kGrpc) {
          v1::UpdateItemRequest r;
          r.set_table_name(table);
          (*r.mutable_key())["pk"].set_s(key);
          r.set_update_expression("ADD n :one");
          (*r.mutable_expression_attribute_values())[":one"].set_n("1");
          s = client->UpdateItem(r).status();
        } else if (op == Op::kPut) {
          AttributeMap item = {{"pad", AttributeValue::S(pad)},
                               {"pk", AttributeValue::S(key)},
                               {"v", AttributeValue::N(absl::StrCat(n))}};
          s = c.tables()->PutItem(table, std::move(item), std::nullopt).status();
        } else {
          s = c.tables()
                  ->UpdateItem(table, {{"pk", AttributeValue::S(key)}}, add, std::nullopt)
                  .status();
        }
        if (!s.ok() && failures.fetch_add(1) == 0) {
          fprintf(stderr, "%s on %s: %s\n", op == Op::kPut ? "PutItem" : "UpdateItem",
                  table.c_str(), s.ToString().c_str());
        }
      }
      writer_cpu_nanos += ThreadCpuNanos() - cpu_start;
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = (NowNanos() - start) / 1e9;
  const Usage usage_after = ProcessUsage();
  const double ops = static_cast<double>(per_client * clients);
  PhaseResult r;
  if (failures.load() > 0) return r;
  r.ops_per_s = ops / seconds;
  r.cpu_us_per_op = (usage_after.cpu_seconds - usage_before.cpu_seconds) * 1e6 / ops;
  r.writer_cpu_us_per_op = writer_cpu_nanos.load() / 1e3 / ops;
  r.switches_per_op =
      static_cast<double>(usage_after.voluntary_switches - usage_before.voluntary_switches) / ops;
  return r;
}

int Main() {
  if (FLAGS_quick) {
    FLAGS_ops = 1000;
    FLAGS_rounds = 1;
    FLAGS_keys = 500;
    FLAGS_latency_items = 200;
    FLAGS_latency_rate = 200;
  }
  ScopedWorkDir dir(FLAGS_work_dir, "tables_bench");
  ClusterOptions options;
  options.data_dir = dir.path();
  options.with_tables = true;
  options.table_stream_shards = FLAGS_table_stream_shards;
  options.sync_interval_ms = 200;
  auto cluster = InProcessCluster::Create(options);
  if (!cluster.ok()) {
    fprintf(stderr, "cluster: %s\n", cluster.status().ToString().c_str());
    return 1;
  }
  InProcessCluster& c = **cluster;
  tables::TablesClient admin(OwnChannel(c.address(), -1));
  CreateTable(admin, "plain", /*stream=*/false);
  CreateTable(admin, "streamed", /*stream=*/true);

  Report report("tables");
  report.Set("quick", FLAGS_quick ? "true" : "false");
  report.Set("clients", absl::StrCat(FLAGS_clients));
  report.Set("ops_per_phase", absl::StrCat(FLAGS_ops));
  report.Set("item_bytes", absl::StrCat(FLAGS_item_bytes));
  report.Set("cores", absl::StrCat(std::thread::hardware_concurrency()));
  bool zero = false;
  int64_t base = 0;
  const std::vector<std::string> paths = absl::StrSplit(FLAGS_paths, ',');
  const std::vector<std::string> kinds = absl::StrSplit(FLAGS_ops_kinds, ',');
  const std::vector<std::string> streams = absl::StrSplit(FLAGS_streams, ',');
  auto wanted = [](const std::vector<std::string>& list, const char* name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  for (Path path : {Path::kGrpc, Path::kStore}) {
    if (!wanted(paths, path == Path::kGrpc ? "grpc" : "store")) continue;
    for (Op op : {Op::kPut, Op::kUpdate}) {
      if (!wanted(kinds, op == Op::kPut ? "put" : "update")) continue;
      PhaseResult sum[2];  // off, on
      for (int round = 0; round < FLAGS_rounds; ++round) {
        for (int k = 0; k < 2; ++k) {
          const bool on = (k + round) % 2 == 1;  // off first, then on first, ...
          if (!wanted(streams, on ? "on" : "off")) continue;
          const PhaseResult r = RunPhase(c, path, op, on ? "streamed" : "plain", base);
          base += FLAGS_ops;
          sum[on].ops_per_s += r.ops_per_s / FLAGS_rounds;
          sum[on].cpu_us_per_op += r.cpu_us_per_op / FLAGS_rounds;
          sum[on].writer_cpu_us_per_op += r.writer_cpu_us_per_op / FLAGS_rounds;
          sum[on].switches_per_op += r.switches_per_op / FLAGS_rounds;
          fprintf(stderr,
                  "%s %s stream %s round %d: %.0f ops/s, %.1f CPU us/op (writers %.1f), %.2f "
                  "switches/op\n",
                  path == Path::kGrpc ? "grpc" : "store", op == Op::kPut ? "PutItem" : "UpdateItem",
                  on ? "on" : "off", round + 1, r.ops_per_s, r.cpu_us_per_op,
                  r.writer_cpu_us_per_op, r.switches_per_op);
          zero = zero || r.ops_per_s == 0;
        }
      }
      const PhaseResult& off = sum[0];
      const PhaseResult& on = sum[1];
      auto cost = [](double off, double on) { return off > 0 ? (on / off - 1) * 100 : 0; };
      report.AddRow(
          {Report::Str("path", path == Path::kGrpc ? "grpc" : "store"),
           Report::Str("op", op == Op::kPut ? "PutItem" : "UpdateItem"),
           Report::Num("stream_off_ops_per_s", off.ops_per_s),
           Report::Num("stream_on_ops_per_s", on.ops_per_s),
           Report::Num("stream_cost_pct",
                       off.ops_per_s > 0 ? (1 - on.ops_per_s / off.ops_per_s) * 100 : 0, 1),
           Report::Num("off_cpu_us_per_op", off.cpu_us_per_op, 1),
           Report::Num("on_cpu_us_per_op", on.cpu_us_per_op, 1),
           Report::Num("cpu_extra_pct", cost(off.cpu_us_per_op, on.cpu_us_per_op), 1),
           Report::Num("off_writer_cpu_us", off.writer_cpu_us_per_op, 1),
           Report::Num("on_writer_cpu_us", on.writer_cpu_us_per_op, 1),
           Report::Num("off_switches_per_op", off.switches_per_op, 2),
           Report::Num("on_switches_per_op", on.switches_per_op, 2)});
    }
  }

  if (FLAGS_latency_items <= 0) {
    c.Shutdown();
    return FinishRun(report.Finish(FLAGS_json_out), zero, "a rate is zero");
  }
  // put → function through a mapping on a fresh streamed table (TRIM_HORIZON, leases owned
  // before the first put, so lease assignment is not counted).
  const v1::TableDescription latency = CreateTable(admin, "latency", /*stream=*/true);
  ChangeFunction function(FLAGS_latency_items);
  auto function_server = GrpcServer::Start("127.0.0.1:0", {&function});
  if (!function_server.ok()) {
    fprintf(stderr, "function: %s\n", function_server.status().ToString().c_str());
    return 1;
  }
  auto uuid = c.CreateMapping(latency.latest_stream_name(), (*function_server)->address(),
                              FLAGS_batch_size, 1, /*trim_horizon=*/true);
  if (!uuid.ok()) {
    fprintf(stderr, "mapping: %s\n", uuid.status().ToString().c_str());
    return 1;
  }
  const int owned = c.WaitForOwnedLeases(*uuid, FLAGS_table_stream_shards, "", 60);
  if (owned < FLAGS_table_stream_shards) {
    fprintf(stderr, "only %d of %d leases owned\n", owned, FLAGS_table_stream_shards);
    return 1;
  }
  std::vector<int64_t> acked(FLAGS_latency_items, 0);
  const int64_t interval = static_cast<int64_t>(1e9 / FLAGS_latency_rate);
  const int64_t start = NowNanos();
  for (int64_t i = 0; i < FLAGS_latency_items; ++i) {
    const int64_t due = start + i * interval;
    const int64_t now = NowNanos();
    if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
    v1::PutItemRequest r;
    r.set_table_name("latency");
    (*r.mutable_item())["pk"].set_s(absl::StrCat("item", i));
    (*r.mutable_item())["seq"].set_n(absl::StrCat(i));
    absl::Status s = admin.PutItem(r).status();
    if (!s.ok()) {
      fprintf(stderr, "PutItem: %s\n", s.ToString().c_str());
      return 1;
    }
    acked[i] = NowNanos();
  }
  const int64_t deadline = NowNanos() + static_cast<int64_t>(FLAGS_wait_seconds * 1e9);
  while (function.seen() < FLAGS_latency_items && NowNanos() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::vector<double> ms;
  int64_t early = 0;
  for (int64_t i = 0; i < FLAGS_latency_items; ++i) {
    const int64_t arrival = function.arrival(i);
    if (arrival == 0) continue;
    if (arrival < acked[i]) ++early;
    ms.push_back(std::max<int64_t>(0, arrival - acked[i]) / 1e6);
  }
  const int64_t seen = static_cast<int64_t>(ms.size());
  report.AddRow({Report::Str("path", "put_to_function"), Report::Num("items", FLAGS_latency_items),
                 Report::Num("seen", seen), Report::Num("early", early),
                 Report::Num("p50_ms", Quantile(ms, 0.5), 1),
                 Report::Num("p99_ms", Quantile(ms, 0.99), 1),
                 Report::Num("max_ms", Quantile(ms, 1.0), 1)});
  zero = zero || seen < FLAGS_latency_items;
  (*function_server)->Shutdown();
  c.Shutdown();
  return FinishRun(report.Finish(FLAGS_json_out), zero,
                   "a rate is zero or the function did not see every item");
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  return tributary::bench::BenchMain(argc, argv, tributary::bench::Main);
}
