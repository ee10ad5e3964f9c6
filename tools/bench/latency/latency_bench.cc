// latency_bench: time from a PutRecords acknowledgement to (a) a SubscribeToShard reader seeing
// the record and (b) the no-op function being invoked with it (mapping: batch size
// --batch_size, batching window 0), as p50 / p99 / p99.9 at 25%, 50% and 75% of the maximum
// PutRecords rate, which the same run measures first (briefly, with the readers and the poller
// running). Every service runs in this process on one 127.0.0.1 port, composed as
// `tributary serve` composes them; the function is a second in-process gRPC server.
//
//   bazel run -c opt //tools/bench/latency:latency_bench
//   bazel run -c opt //tools/bench/latency:latency_bench -- --quick     # the smoke test
//
// A record's latency is arrival − acknowledgement of the call that carried it (real, steady
// time); a reader can see a record before its producer has read the reply, so negative values
// are counted ("early") and taken as 0. Bounded: each phase has a fixed length and every wait
// has a deadline.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "gflags/gflags.h"
#include "tools/bench/common/bench_common.h"
#include "tools/bench/common/bench_main.h"

DEFINE_bool(quick, false, "Smoke mode: short phases.");
DEFINE_int32(shards, 4, "Shards of the stream.");
DEFINE_int32(record_bytes, 100, "Bytes of data per record.");
DEFINE_int32(records_per_call, 100, "Records per PutRecords call.");
DEFINE_int32(clients, 4, "Concurrent producers (each its own channel).");
DEFINE_int32(batch_size, 100, "The mapping's batch size.");
DEFINE_double(max_rate_seconds, 3, "Length of the maximum-rate phase.");
DEFINE_double(seconds_per_level, 8, "Length of each paced phase.");
DEFINE_string(levels, "0.25,0.5,0.75", "Fractions of the maximum rate.");
DEFINE_int64(max_tracked, 4000000, "Most records timed per run (memory: 24 B each).");
DEFINE_string(work_dir, "",
              "Directory for data, kept (default: a fresh one under /tmp, removed at the end).");

namespace tributary::bench {
namespace {

constexpr uint64_t kUntracked = uint64_t{1} << 62;  // ids at or above are not timed

struct Timings {
  explicit Timings(int64_t n)
      : ack(new std::atomic<int64_t>[n]), seen(new std::atomic<int64_t>[n]) {
    for (int64_t i = 0; i < n; ++i) ack[i] = 0, seen[i] = 0;
  }
  std::unique_ptr<std::atomic<int64_t>[]> ack;   // when the call carrying id was acknowledged
  std::unique_ptr<std::atomic<int64_t>[]> seen;  // when a subscriber first saw id
};

// Readers: one SubscribeToShard per shard from LATEST, resubscribing after the continuation
// sequence number when a subscription ends.
class Readers {
 public:
  Readers(const std::string& address, const std::vector<std::string>& shards, Timings* t,
          int64_t tracked)
      : timings_(t), tracked_(tracked) {
    for (size_t i = 0; i < shards.size(); ++i) {
      contexts_.push_back(nullptr);
    }
    for (size_t i = 0; i < shards.size(); ++i) {
      threads_.emplace_back([this, address, shard = shards[i], i] { Run(address, shard, i); });
    }
  }
  ~Readers() { Stop(); }
  void Stop() {
    stop_ = true;
    {
      absl::MutexLock lock(&mu_);
      for (auto* c : contexts_) {
        if (c != nullptr) c->TryCancel();
      }
    }
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int64_t records() const { return records_.load(); }
  int subscribed() const { return subscribed_.load(); }

 private:
  void Run(const std::string& address, const std::string& shard, size_t index) {
    auto stub = v1::Streams::NewStub(OwnChannel(address, 1000 + index));
    std::string after;
    bool counted = false;
    while (!stop_) {
      grpc::ClientContext context;
      {
        absl::MutexLock lock(&mu_);
        if (stop_) return;
        contexts_[index] = &context;
      }
      v1::SubscribeToShardRequest request;
      request.set_stream_name("latency");
      request.set_shard_id(shard);
      if (after.empty()) {
        request.mutable_starting_position()->set_type(v1::LATEST);
      } else {
        request.mutable_starting_position()->set_type(v1::AFTER_SEQUENCE_NUMBER);
        request.mutable_starting_position()->set_sequence_number(after);
      }
      auto reader = stub->SubscribeToShard(&context, request);
      v1::SubscribeToShardEvent event;
      while (reader->Read(&event)) {
        if (!counted) {
          counted = true;
          subscribed_.fetch_add(1);
        }
        const int64_t now = NowNanos();
        for (const auto& r : event.records()) {
          const uint64_t id = DecodeId(r.data());
          if (id < static_cast<uint64_t>(tracked_)) {
            int64_t zero = 0;
            timings_->seen[id].compare_exchange_strong(zero, now);
          }
        }
        records_.fetch_add(event.records_size());
        if (!event.continuation_sequence_number().empty()) {
          after = event.continuation_sequence_number();
        }
      }
      reader->Finish();
      {
        absl::MutexLock lock(&mu_);
        contexts_[index] = nullptr;
      }
      if (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  Timings* timings_;
  int64_t tracked_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> records_{0};
  std::atomic<int> subscribed_{0};
  absl::Mutex mu_;
  std::vector<grpc::ClientContext*> contexts_ ABSL_GUARDED_BY(mu_);  // per shard, while reading
  std::vector<std::thread> threads_;
};

// Producers: `clients` threads; with rate > 0 each paces its calls on a fixed schedule (open
// loop: a late call goes at once, never skipped). Ids from *next; acknowledgements timed for
// ids below `tracked`. Returns records acknowledged.
int64_t Produce(const std::string& address, double rate, double seconds,
                std::atomic<uint64_t>* next, uint64_t id_limit, Timings* t, int64_t tracked,
                int64_t* failed) {
  std::atomic<int64_t> acked{0}, failures{0};
  const int64_t start = NowNanos();
  const int64_t end = start + static_cast<int64_t>(seconds * 1e9);
  const double interval_ns =
      rate > 0 ? 1e9 * FLAGS_records_per_call * FLAGS_clients / rate : 0;  // per thread
  std::vector<std::thread> threads;
  for (int c = 0; c < FLAGS_clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = v1::Streams::NewStub(OwnChannel(address, c));
      const int64_t offset = static_cast<int64_t>(interval_ns * c / FLAGS_clients);
      for (int64_t call = 0;; ++call) {
        if (interval_ns > 0) {
          const int64_t due = start + offset + static_cast<int64_t>(call * interval_ns);
          if (due >= end) return;
          const int64_t wait = due - NowNanos();
          if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
        } else if (NowNanos() >= end) {
          return;
        }
        const uint64_t first = next->fetch_add(FLAGS_records_per_call);
        if (first + FLAGS_records_per_call > id_limit) return;
        v1::PutRecordsRequest request;
        request.set_stream_name("latency");
        for (int i = 0; i < FLAGS_records_per_call; ++i) {
          auto* e = request.add_records();
          e->set_partition_key(absl::StrCat("pk-", first + i));
          e->set_data(RecordData(first + i, FLAGS_record_bytes));
        }
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1::PutRecordsResponse response;
        grpc::Status s = stub->PutRecords(&context, request, &response);
        const int64_t now = NowNanos();
        if (!s.ok()) {
          failures.fetch_add(FLAGS_records_per_call);
          continue;
        }
        for (int i = 0; i < response.records_size(); ++i) {
          const uint64_t id = first + i;
          if (!response.records(i).error_code().empty()) continue;
          if (id < static_cast<uint64_t>(tracked)) t->ack[id] = now;
        }
        acked.fetch_add(response.records_size() - response.failed_record_count());
        failures.fetch_add(response.failed_record_count());
      }
    });
  }
  for (auto& th : threads) th.join();
  *failed += failures.load();
  return acked.load();
}

// Waits (at most timeout_s) until check() holds; the run goes on either way (what did not arrive
// is counted as missing), and a timeout is noted with what was seen.
void WaitFor(absl::string_view awaited, const std::function<bool()>& check,
             const std::function<std::string()>& seen, double timeout_s) {
  const absl::Status status =
      PollFor(absl::Seconds(timeout_s), absl::Milliseconds(20), awaited, check, seen);
  if (!status.ok()) Progress("latency_bench: %s; going on", status.ToString().c_str());
}

struct Stats {
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
  int64_t count = 0, missing = 0, early = 0;
};

Stats Summarize(std::vector<double>& ms, int64_t missing, int64_t early) {
  Stats s;
  s.count = ms.size();
  s.missing = missing;
  s.early = early;
  s.p50 = Quantile(ms, 0.5);
  s.p99 = Quantile(ms, 0.99);
  s.p999 = Quantile(ms, 0.999);
  s.max = ms.empty() ? 0 : ms.back();
  return s;
}

int Main() {
  std::vector<double> levels;
  for (absl::string_view v : absl::StrSplit(FLAGS_levels, ',', absl::SkipEmpty())) {
    levels.push_back(std::stod(std::string(v)));
  }
  if (FLAGS_quick) {
    FLAGS_max_rate_seconds = std::min(FLAGS_max_rate_seconds, 0.5);
    FLAGS_seconds_per_level = std::min(FLAGS_seconds_per_level, 0.5);
    FLAGS_clients = std::min(FLAGS_clients, 2);
    FLAGS_shards = std::min(FLAGS_shards, 2);
    FLAGS_max_tracked = std::min<int64_t>(FLAGS_max_tracked, 200000);
  }
  ScopedWorkDir work_dir(FLAGS_work_dir, "latency_bench");
  const std::string& dir = work_dir.path();
  ClusterOptions options;
  options.data_dir = dir;
  options.sync_interval_ms = 200;
  auto cluster = InProcessCluster::Create(options);
  if (!cluster.ok()) {
    Progress("cluster: %s", cluster.status().ToString().c_str());
    return 1;
  }
  auto function = FunctionServer::Start(FLAGS_max_tracked);
  if (!function.ok()) {
    Progress("function: %s", function.status().ToString().c_str());
    return 1;
  }
  InProcessCluster& c = **cluster;
  NoopFunction& f = (*function)->function();
  if (absl::Status s = c.CreateStream("latency", FLAGS_shards); !s.ok()) {
    Progress("create stream: %s", s.ToString().c_str());
    return 1;
  }
  auto shards = c.ShardIds("latency");
  auto uuid = c.CreateMapping("latency", (*function)->address(), FLAGS_batch_size, 1, true);
  if (!shards.ok() || !uuid.ok()) {
    Progress("setup failed");
    return 1;
  }
  Timings timings(FLAGS_max_tracked);
  Readers readers(c.address(), *shards, &timings, FLAGS_max_tracked);
  const int owned = c.WaitForOwnedLeases(*uuid, FLAGS_shards, "", 30);
  Progress("latency_bench: %d shards, %d/%d leases owned, %d clients × %d records/call, %d B",
           FLAGS_shards, owned, FLAGS_shards, FLAGS_clients, FLAGS_records_per_call,
           FLAGS_record_bytes);
  int64_t failed = 0;
  // Warm-up: records reach both the readers and the function.
  std::atomic<uint64_t> untracked{kUntracked};
  const auto seen = [&] {
    return absl::StrCat(readers.subscribed(), " subscribed, ", readers.records(), " records read, ",
                        f.records(), " delivered");
  };
  WaitFor(
      "every shard subscribed", [&] { return readers.subscribed() == FLAGS_shards; }, seen, 10);
  Produce(c.address(), 0, 0.2, &untracked, ~uint64_t{0}, &timings, 0, &failed);
  WaitFor(
      "records read and delivered", [&] { return f.records() > 0 && readers.records() > 0; }, seen,
      20);

  // Maximum rate: unpaced for a short phase.
  const int64_t max_acked = Produce(c.address(), 0, FLAGS_max_rate_seconds, &untracked,
                                    ~uint64_t{0}, &timings, 0, &failed);
  const double max_rate = max_acked / FLAGS_max_rate_seconds;
  Progress("[max] %.0f records/s acknowledged (%.1f MB/s) over %.1f s", max_rate,
           max_rate * FLAGS_record_bytes / 1e6, FLAGS_max_rate_seconds);
  // Let the readers and the function drain the backlog before timing anything.
  const int64_t produced = untracked.load() - kUntracked;
  WaitFor(
      absl::StrCat("the ", produced, " records of the maximum-rate phase read and delivered"),
      [&] { return f.records() >= produced && readers.records() >= produced; }, seen, 60);

  Report report("latency");
  report.Set("quick", FLAGS_quick ? "true" : "false");
  report.Set("shards", absl::StrCat(FLAGS_shards));
  report.Set("record_bytes", absl::StrCat(FLAGS_record_bytes));
  report.Set("records_per_call", absl::StrCat(FLAGS_records_per_call));
  report.Set("clients", absl::StrCat(FLAGS_clients));
  report.Set("batch_size", absl::StrCat(FLAGS_batch_size));
  report.Set("max_rate_records_per_second", absl::StrFormat("%.0f", max_rate));
  bool zero = max_rate <= 0;
  std::atomic<uint64_t> next{0};
  for (double level : levels) {
    const double rate = level * max_rate;
    const uint64_t first = next.load();
    const int64_t acked = Produce(c.address(), rate, FLAGS_seconds_per_level, &next,
                                  FLAGS_max_tracked, &timings, FLAGS_max_tracked, &failed);
    const uint64_t last = std::min<uint64_t>(next.load(), FLAGS_max_tracked);
    next = last;
    WaitFor(
        absl::StrCat("records ", first, "-", last, " read and delivered"),
        [&] {
          for (uint64_t id = first; id < last; id += std::max<uint64_t>(1, (last - first) / 64)) {
            if (timings.ack[id] != 0 && (timings.seen[id] == 0 || f.arrival(id) == 0)) {
              return false;
            }
          }
          return timings.ack[last - 1] == 0 ||
                 (timings.seen[last - 1] != 0 && f.arrival(last - 1) != 0);
        },
        seen, 30);
    std::vector<double> sub_ms, fn_ms;
    int64_t sub_missing = 0, fn_missing = 0, sub_early = 0, fn_early = 0;
    for (uint64_t id = first; id < last; ++id) {
      const int64_t ack = timings.ack[id];
      if (ack == 0) continue;
      const int64_t seen = timings.seen[id];
      const int64_t invoked = f.arrival(id);
      if (seen == 0) {
        ++sub_missing;
      } else {
        if (seen < ack) ++sub_early;
        sub_ms.push_back(std::max<int64_t>(0, seen - ack) / 1e6);
      }
      if (invoked == 0) {
        ++fn_missing;
      } else {
        if (invoked < ack) ++fn_early;
        fn_ms.push_back(std::max<int64_t>(0, invoked - ack) / 1e6);
      }
    }
    Stats sub = Summarize(sub_ms, sub_missing, sub_early);
    Stats fn = Summarize(fn_ms, fn_missing, fn_early);
    const double achieved = acked / FLAGS_seconds_per_level;
    Progress(
        "[%3.0f%%] target %.0f rec/s, achieved %.0f | subscribe p50 %.2f p99 %.2f p99.9 %.2f ms "
        "| invoke p50 %.2f p99 %.2f p99.9 %.2f ms",
        level * 100, rate, achieved, sub.p50, sub.p99, sub.p999, fn.p50, fn.p99, fn.p999);
    for (int which = 0; which < 2; ++which) {
      const Stats& s = which == 0 ? sub : fn;
      report.AddRow({Report::Num("load_pct", level * 100), Report::Num("target_rps", rate),
                     Report::Num("achieved_rps", achieved),
                     Report::Str("path", which == 0 ? "ack->subscriber" : "ack->function"),
                     Report::Num("p50_ms", s.p50, 3), Report::Num("p99_ms", s.p99, 3),
                     Report::Num("p999_ms", s.p999, 3), Report::Num("max_ms", s.max, 3),
                     Report::Num("records", s.count), Report::Num("missing", s.missing),
                     Report::Num("early", s.early)});
      if (s.count == 0) zero = true;
    }
  }
  report.Set("failed_records", absl::StrCat(failed));
  readers.Stop();
  c.Shutdown();
  return FinishRun(report.Finish(FLAGS_json_out), zero, "a figure is zero");
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  return tributary::bench::BenchMain(argc, argv, tributary::bench::Main);
}
