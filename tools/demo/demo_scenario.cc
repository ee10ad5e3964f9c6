// The demo behind tools/demo.sh: starts `tributary serve` on a temporary data directory and the
// example C++ function, creates a 4-shard stream and an on-failure stream, maps the stream to the
// function with bisect-on-error, a retry limit and the destination, produces 10,000 records
// (a few of them poison) with a progress line, then prints what happened: records delivered, in
// order per shard, the failure records in the destination, iterator age back to 0. A second
// mapping of the same stream, with 1-second tumbling windows, goes to a second example function
// that counts records per key in each window's state: the demo checks that the closed windows
// counted every record but the poison ones (dropped after their retries). It stops everything it
// started. Real time throughout (tools/ is exempt from the injected clock).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "common/process.h"
#include "gflags/gflags.h"
#include "proto/poller.grpc.pb.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/stream_tracker_client.h"

DEFINE_string(tributary_binary, "bazel-bin/tools/tributary/tributary", "the all-in-one binary");
DEFINE_string(function_binary, "bazel-bin/examples/cpp/example_function", "the example function");
DEFINE_int32(records, 10000, "records to produce");
DEFINE_int32(poison_every, 2000, "every n-th record is poison (0: none)");
DEFINE_int32(keys, 100, "distinct partition keys");
DEFINE_int32(timeout_seconds, 60, "give up waiting for deliveries after this long");
DEFINE_string(work_dir, "", "where data and logs go (default: a new temporary directory)");

namespace tributary::demo {
namespace {

constexpr char kStream[] = "demo-orders";
constexpr char kFailures[] = "demo-orders-failures";

Clock& Real() { return RealClock::Get(); }

bool Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "demo: %s: %s\n", what.c_str(), status.ToString().c_str());
  return false;
}

// Prints a step's error, if any; returns whether the step succeeded.
bool Reported(const absl::Status& status) {
  if (status.ok()) return true;
  std::fprintf(stderr, "demo: %s\n", status.ToString().c_str());
  return false;
}

// One delivery line of the example function's --deliveries_file: "shard seq key".
struct Delivery {
  std::string shard_id;
  uint64_t sequence_number = 0;
};

std::vector<Delivery> ReadDeliveries(const std::string& path) {
  std::vector<Delivery> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    Delivery d;
    if (fields.size() >= 2 && absl::SimpleAtoi(fields[1], &d.sequence_number)) {
      d.shard_id = fields[0];
      out.push_back(d);
    }
  }
  return out;
}

class Demo {
 public:
  bool Run();
  ~Demo() { StopAll(); }

 private:
  bool StartServices();
  // Starts the example function binary as `name` (port file and log in dir_) with `output_flag`.
  bool StartFunction(const std::string& name, const std::string& output_flag, Subprocess* process,
                     std::string* endpoint);
  bool CreateStreamsAndMapping();
  bool Produce();
  // OK once every acknowledged record is in the deliveries file; DEADLINE_EXCEEDED saying how
  // many are not after --timeout_seconds.
  absl::Status WaitForDrain();
  bool Summarize();
  bool SummarizeWindows();
  void StopAll();

  std::string dir_;
  Subprocess tributary_;
  Subprocess function_;
  Subprocess window_function_;
  std::string endpoint_;
  std::string function_endpoint_;
  std::string window_function_endpoint_;
  std::unique_ptr<shard_store::ShardStoreClient> streams_;
  std::string mapping_uuid_;
  std::set<std::pair<std::string, uint64_t>> acked_;     // (shard, sequence) of every record
  std::set<std::pair<std::string, uint64_t>> poisoned_;  // of the poison records
};

bool Demo::StartServices() {
  dir_ = FLAGS_work_dir;
  if (dir_.empty()) {
    char tmpl[] = "/tmp/tributary-demo-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Fail("creating " + dir_, absl::InternalError(ec.message()));
  std::printf("demo: data and logs in %s\n", dir_.c_str());
  auto tributary =
      Subprocess::Start(FLAGS_tributary_binary,
                        {"serve", "--data_dir=" + dir_ + "/data", "--listen=127.0.0.1:0",
                         "--port_file=" + dir_ + "/tributary.port", "--lease_duration_ms=3000"},
                        dir_ + "/tributary.log");
  if (!tributary.ok()) return Fail("starting tributary", tributary.status());
  tributary_ = std::move(*tributary);
  auto port = WaitForPortFile(dir_ + "/tributary.port", absl::Seconds(30));
  if (!port.ok()) return Fail("tributary did not start (see tributary.log)", port.status());
  endpoint_ = absl::StrCat("127.0.0.1:", *port);

  if (!StartFunction("function", "--deliveries_file=" + dir_ + "/deliveries.txt", &function_,
                     &function_endpoint_) ||
      !StartFunction("window_function", "--windows_file=" + dir_ + "/windows.txt",
                     &window_function_, &window_function_endpoint_)) {
    return false;
  }
  if (absl::Status s = WaitForServing(endpoint_); !s.ok()) return Fail("tributary", s);
  streams_ = std::make_unique<shard_store::ShardStoreClient>(MakeChannel(endpoint_));
  std::printf("demo: tributary serving on %s, example function on %s\n", endpoint_.c_str(),
              function_endpoint_.c_str());
  return true;
}

bool Demo::StartFunction(const std::string& name, const std::string& output_flag,
                         Subprocess* process, std::string* endpoint) {
  auto started = Subprocess::Start(
      FLAGS_function_binary,
      {"--listen=127.0.0.1:0", "--port_file=" + dir_ + "/" + name + ".port", output_flag},
      dir_ + "/" + name + ".log");
  if (!started.ok()) return Fail("starting the example " + name, started.status());
  *process = std::move(*started);
  auto port = WaitForPortFile(dir_ + "/" + name + ".port", absl::Seconds(30));
  if (!port.ok()) return Fail("the example " + name + " did not start", port.status());
  *endpoint = absl::StrCat("127.0.0.1:", *port);
  return true;
}

bool Demo::CreateStreamsAndMapping() {
  for (auto [name, shards] : {std::pair<const char*, int>{kStream, 4}, {kFailures, 1}}) {
    v1::CreateStreamRequest create;
    create.set_stream_name(name);
    create.set_shard_count(shards);
    if (auto r = streams_->CreateStream(create); !r.ok()) return Fail("CreateStream", r.status());
    std::printf("demo: created stream %s with %d shard(s)\n", name, shards);
  }
  stream_tracker::StreamTrackerClient tracker(MakeChannel(endpoint_));
  v1::CreateEventSourceMappingRequest mapping;
  mapping.set_stream_name(kStream);
  mapping.set_function_endpoint(function_endpoint_);
  mapping.set_starting_position(v1::TRIM_HORIZON_POSITION);
  mapping.set_batch_size(100);
  mapping.set_bisect_batch_on_function_error(true);
  mapping.set_maximum_retry_attempts(2);
  mapping.mutable_destination_config()->mutable_on_failure()->set_destination(kFailures);
  auto created = tracker.CreateEventSourceMapping(mapping);
  if (!created.ok()) return Fail("CreateEventSourceMapping", created.status());
  mapping_uuid_ = created->uuid();
  std::printf(
      "demo: mapping %s: %s -> %s, batch size 100, bisect on error, 2 retries, failures -> %s\n",
      mapping_uuid_.c_str(), kStream, function_endpoint_.c_str(), kFailures);

  v1::CreateEventSourceMappingRequest windowed;
  windowed.set_stream_name(kStream);
  windowed.set_function_endpoint(window_function_endpoint_);
  windowed.set_starting_position(v1::TRIM_HORIZON_POSITION);
  windowed.set_batch_size(100);
  windowed.set_bisect_batch_on_function_error(true);
  windowed.set_maximum_retry_attempts(2);
  windowed.set_tumbling_window_in_seconds(1);
  auto created_windowed = tracker.CreateEventSourceMapping(windowed);
  if (!created_windowed.ok()) return Fail("CreateEventSourceMapping", created_windowed.status());
  std::printf(
      "demo: mapping %s: %s -> %s, 1 s tumbling windows counting records per key, bisect on "
      "error, 2 retries\n",
      created_windowed->uuid().c_str(), kStream, window_function_endpoint_.c_str());
  return true;
}

bool Demo::Produce() {
  const MonotonicTime start = Real().MonotonicNow();
  int written = 0;
  while (written < FLAGS_records) {
    v1::PutRecordsRequest request;
    request.set_stream_name(kStream);
    const int n = std::min(500, FLAGS_records - written);
    std::vector<bool> poison;
    for (int i = 0; i < n; ++i) {
      const int index = written + i;
      const bool is_poison = FLAGS_poison_every > 0 && index % FLAGS_poison_every == 1;
      auto* entry = request.add_records();
      entry->set_partition_key(absl::StrCat("customer-", index % FLAGS_keys));
      entry->set_data(is_poison ? absl::StrCat("poison order ", index)
                                : absl::StrCat("order ", index));
      poison.push_back(is_poison);
    }
    auto response = streams_->PutRecords(request);
    if (!response.ok()) return Fail("PutRecords", response.status());
    for (int i = 0; i < response->records_size(); ++i) {
      const auto& r = response->records(i);
      if (!r.error_code().empty()) continue;  // retried below with the rest of the call
      uint64_t seq = 0;
      if (!absl::SimpleAtoi(r.sequence_number(), &seq)) continue;
      acked_.emplace(r.shard_id(), seq);
      if (poison[i]) poisoned_.emplace(r.shard_id(), seq);
    }
    written += response->records_size() - response->failed_record_count();
    std::printf("\rdemo: produced %d/%d records", written, FLAGS_records);
    std::fflush(stdout);
  }
  std::printf(" in %.2f s (%zu poison)\n", absl::ToDoubleSeconds(Real().MonotonicNow() - start),
              poisoned_.size());
  return true;
}

absl::Status Demo::WaitForDrain() {
  size_t done = 0;
  const absl::Status drained = PollFor(
      absl::Seconds(FLAGS_timeout_seconds), absl::Milliseconds(200),
      absl::StrCat("all ", acked_.size(), " acknowledged records delivered"),
      [&] {
        std::set<std::pair<std::string, uint64_t>> seen;
        for (const Delivery& d : ReadDeliveries(dir_ + "/deliveries.txt")) {
          seen.emplace(d.shard_id, d.sequence_number);
        }
        done = 0;
        for (const auto& r : acked_) done += seen.count(r) > 0;
        std::printf("\rdemo: delivered %zu/%zu records", done, acked_.size());
        std::fflush(stdout);
        return done == acked_.size();
      },
      [&] { return absl::StrCat(acked_.size() - done, " records not delivered"); });
  std::printf("\n");
  return drained;
}

bool Demo::Summarize() {
  bool ok = true;
  // Order per shard: first deliveries of each shard in increasing sequence numbers.
  std::set<std::pair<std::string, uint64_t>> first;
  std::map<std::string, uint64_t> last;
  int64_t out_of_order = 0, deliveries = 0;
  for (const Delivery& d : ReadDeliveries(dir_ + "/deliveries.txt")) {
    ++deliveries;
    if (!first.emplace(d.shard_id, d.sequence_number).second) continue;
    auto it = last.find(d.shard_id);
    if (it != last.end() && d.sequence_number < it->second) ++out_of_order;
    last[d.shard_id] = std::max(last[d.shard_id], d.sequence_number);
  }
  std::printf(
      "demo: %zu of %zu records delivered (%lld invocations' records, %lld redelivered "
      "while bisecting and retrying), %s\n",
      first.size(), acked_.size(), static_cast<long long>(deliveries),
      static_cast<long long>(deliveries - static_cast<int64_t>(first.size())),
      out_of_order == 0 ? "in order per shard" : "OUT OF ORDER");
  ok = ok && out_of_order == 0;

  // The on-failure destination: one record per dropped batch (single poison records here).
  int failure_records = 0;
  const MonotonicTime deadline = Real().MonotonicNow() + absl::Seconds(FLAGS_timeout_seconds);
  while (Real().MonotonicNow() < deadline) {
    failure_records = 0;
    v1::GetShardIteratorRequest it;
    it.set_stream_name(kFailures);
    it.set_shard_id("shardId-000000000000");
    it.set_shard_iterator_type(v1::TRIM_HORIZON);
    auto iterator = streams_->GetShardIterator(it);
    if (!iterator.ok()) return Fail("GetShardIterator", iterator.status());
    v1::GetRecordsRequest get;
    get.set_shard_iterator(iterator->shard_iterator());
    auto records = streams_->GetRecords(get);
    if (!records.ok()) return Fail("GetRecords", records.status());
    failure_records = records->records_size();
    if (failure_records >= static_cast<int>(poisoned_.size())) {
      for (const v1::Record& r : records->records()) {
        std::printf("demo: failure record: %.220s...\n", r.data().c_str());
        break;
      }
      break;
    }
    Real().SleepFor(absl::Milliseconds(200));
  }
  std::printf("demo: %d failure record(s) in %s for %zu poison record(s)\n", failure_records,
              kFailures, poisoned_.size());
  ok = ok && failure_records == static_cast<int>(poisoned_.size());

  // Iterator age: back to 0 once every shard is caught up.
  auto stub = v1::Pollers::NewStub(MakeChannel(endpoint_));
  int64_t worst_age = -1;
  const MonotonicTime age_deadline = Real().MonotonicNow() + absl::Seconds(15);
  while (Real().MonotonicNow() < age_deadline) {
    v1::GetMetricsRequest request;
    request.set_event_source_mapping_uuid(mapping_uuid_);
    auto metrics = CallUnary(stub.get(), &v1::Pollers::Stub::GetMetrics, request, absl::Seconds(5));
    if (!metrics.ok()) return Fail("GetMetrics", metrics.status());
    worst_age = 0;
    int64_t delivered = 0, dropped = 0, invocations = 0, bisections = 0;
    for (const v1::ShardMetrics& m : metrics->shards()) {
      worst_age = std::max(worst_age, m.iterator_age_ms());
      delivered += m.records_delivered();
      invocations += m.invocations();
      bisections += m.bisections();
      for (const auto& [condition, n] : m.dropped_records()) dropped += n;
    }
    if (worst_age == 0) {
      std::printf(
          "demo: poller metrics: %lld invocations, %lld records delivered, %lld "
          "bisections, %lld dropped; iterator age 0 ms on every shard\n",
          static_cast<long long>(invocations), static_cast<long long>(delivered),
          static_cast<long long>(bisections), static_cast<long long>(dropped));
      break;
    }
    Real().SleepFor(absl::Milliseconds(250));
  }
  if (worst_age != 0) {
    std::printf("demo: iterator age still %lld ms\n", static_cast<long long>(worst_age));
    ok = false;
  }
  return ok;
}

// The window function's --windows_file: "shard start_ms end_ms key=count,..." per closed window.
bool Demo::SummarizeWindows() {
  const int64_t expected = static_cast<int64_t>(acked_.size() - poisoned_.size());
  int64_t counted = 0, windows = 0;
  std::string sample;
  const MonotonicTime deadline = Real().MonotonicNow() + absl::Seconds(FLAGS_timeout_seconds);
  while (Real().MonotonicNow() < deadline) {
    counted = windows = 0;
    std::ifstream in(dir_ + "/windows.txt");
    std::string line;
    while (std::getline(in, line)) {
      const std::vector<std::string> fields = absl::StrSplit(line, ' ');
      if (fields.size() < 4) continue;
      ++windows;
      if (sample.empty()) sample = line;
      if (fields[3] == "-") continue;
      for (absl::string_view pair : absl::StrSplit(fields[3], ',')) {
        int64_t n = 0;
        const size_t eq = pair.rfind('=');
        if (eq != absl::string_view::npos && absl::SimpleAtoi(pair.substr(eq + 1), &n))
          counted += n;
      }
    }
    if (counted >= expected) break;
    Real().SleepFor(absl::Milliseconds(200));
  }
  std::printf(
      "demo: tumbling windows: %lld windows closed, counting %lld records (all %lld but "
      "the %zu poison ones); first: %.120s\n",
      static_cast<long long>(windows), static_cast<long long>(counted),
      static_cast<long long>(acked_.size()), poisoned_.size(), sample.c_str());
  return counted == expected;
}

void Demo::StopAll() {
  if (tributary_.running()) {
    kill(tributary_.pid(), SIGTERM);
    if (!tributary_.Wait(absl::Seconds(10)).ok()) tributary_.Kill(SIGKILL);
  }
  if (function_.running()) function_.Kill(SIGTERM);
  if (window_function_.running()) window_function_.Kill(SIGTERM);
}

bool Demo::Run() {
  const bool ok = StartServices() && CreateStreamsAndMapping() && Produce() &&
                  Reported(WaitForDrain()) && Summarize() && SummarizeWindows();
  StopAll();
  std::printf("demo: %s; stopped everything it started\n", ok ? "OK" : "FAILED");
  return ok;
}

}  // namespace
}  // namespace tributary::demo

int main(int argc, char** argv) {
  gflags::SetUsageMessage("tools/demo.sh runs this after building");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  tributary::demo::Demo demo;
  return demo.Run() ? 0 : 1;
}
