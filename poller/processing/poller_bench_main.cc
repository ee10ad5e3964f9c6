// poller_bench: the CPU cost of the poller's core (routing to lanes, batching, building the
// InvokeRequest, the watermark) with a function that answers at once, single-threaded.
//
//   bazel run -c opt //poller:poller_bench -- --records=1000000
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "gflags/gflags.h"
#include "poller/processing/shard_processor.h"

DEFINE_int32(records, 1000000, "records per run");
DEFINE_int32(keys, 1000, "distinct partition keys");
DEFINE_int32(data_bytes, 100, "bytes of data per record");

namespace tributary::poller {
namespace {

class NoOpFunction : public FunctionInvoker {
 public:
  absl::StatusOr<v1::InvokeResponse> Invoke(const std::string&, const v1::InvokeRequest& request,
                                            absl::Duration) override {
    records_ += request.records_size();
    return v1::InvokeResponse();
  }
  int64_t records_ = 0;
};

class NoDestination : public FailureDestination {
 public:
  absl::Status Put(const std::string&, const std::string&, const std::string&) override {
    return absl::OkStatus();
  }
};

void Run(int batch_size, int lanes) {
  Clock& clock = RealClock::Get();
  ClockWaiter waiter(clock);
  NoOpFunction function;
  NoDestination destination;
  PollerMetrics metrics("bench", clock);
  v1::EventSourceMappingConfiguration config;
  config.set_function_endpoint("none");
  config.set_batch_size(batch_size);
  config.set_parallelization_factor(lanes);
  config.set_maximum_retry_attempts(-1);
  config.set_maximum_record_age_in_seconds(-1);
  ShardProcessor processor({"m", "s", "shardId-000000000000"}, config,
                           LaneDeps{clock, waiter, function, destination, metrics, {}, 1});
  StopSignal stop;
  const std::string data(FLAGS_data_bytes, 'x');
  const absl::Time start = absl::Now();
  const int chunk = 10000;
  for (int offered = 0; offered < FLAGS_records; offered += chunk) {
    std::vector<v1::Record> records;
    for (int i = offered; i < offered + chunk && i < FLAGS_records; ++i) {
      v1::Record r;
      r.set_sequence_number(absl::StrCat(i + 1));
      r.set_partition_key(absl::StrCat("key-", i % FLAGS_keys));
      r.set_data(data);
      records.push_back(std::move(r));
    }
    if (!processor.Offer(std::move(records)).ok()) return;
    processor.MarkShardEnd();  // flush without windows
    while (processor.Outstanding() > 0) {
      if (!processor.RunReadyBatches(stop).ok()) return;
    }
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("batch_size=%d lanes=%d records=%lld: %.0f records/s (%.2f s)\n", batch_size, lanes,
              static_cast<long long>(function.records_), function.records_ / seconds, seconds);
}

}  // namespace
}  // namespace tributary::poller

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  for (int batch_size : {100, 1000}) {
    for (int lanes : {1, 10}) tributary::poller::Run(batch_size, lanes);
  }
  return 0;
}
