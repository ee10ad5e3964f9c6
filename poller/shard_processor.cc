#include "poller/shard_processor.h"

#include <algorithm>
#include <utility>

#include "common/status_macros.h"

namespace tributary::poller {
namespace {

int ParallelizationFactor(const v1::EventSourceMappingConfiguration& config) {
  return std::clamp(config.parallelization_factor(), 1, 10);
}

absl::Duration Window(const v1::EventSourceMappingConfiguration& config) {
  return absl::Seconds(std::max(0, config.maximum_batching_window_in_seconds()));
}

int BatchSize(const v1::EventSourceMappingConfiguration& config) {
  return config.batch_size() > 0 ? config.batch_size() : 100;
}

// The compiled filter_criteria of `config`; null when it has none or does not compile (deliver
// everything rather than drop records on a configuration the tracker should have rejected).
std::shared_ptr<const RecordFilter> CompileFilter(
    const v1::EventSourceMappingConfiguration& config) {
  if (config.filter_criteria().filters_size() == 0) return nullptr;
  absl::StatusOr<std::unique_ptr<RecordFilter>> filter =
      RecordFilter::Create(config.filter_criteria());
  if (!filter.ok()) return nullptr;
  return std::shared_ptr<const RecordFilter>(std::move(*filter));
}

}  // namespace

struct ShardProcessor::Lane {
  Lane(const v1::EventSourceMappingConfiguration& config, LaneDeps& deps, uint64_t seed)
      : batcher(BatchSize(config), Window(config)),
        processor(deps.clock, deps.waiter, deps.invoker, deps.destination, deps.metrics,
                  deps.backoff, seed) {}
  Batcher batcher;
  BatchProcessor processor;
  bool busy = false;
};

ShardProcessor::ShardProcessor(ShardContext shard,
                               const v1::EventSourceMappingConfiguration& config, LaneDeps deps)
    : shard_(std::move(shard)), deps_(deps) {
  absl::MutexLock lock(&mu_);
  config_ = config;
  filter_ = CompileFilter(config);
  for (int i = 0; i < ParallelizationFactor(config); ++i) {
    lanes_.push_back(std::make_unique<Lane>(config_, deps_, deps_.seed * 31 + i));
  }
}

ShardProcessor::~ShardProcessor() = default;

int ShardProcessor::LaneCount() const { return static_cast<int>(lanes_.size()); }

absl::Status ShardProcessor::Offer(std::vector<v1::Record> records) {
  // Match outside the lock (a data pattern parses each record's JSON, ~2 us), against the
  // filter current when Offer began.
  std::shared_ptr<const RecordFilter> filter;
  {
    absl::MutexLock lock(&mu_);
    filter = filter_;
  }
  std::vector<bool> keep(records.size(), true);
  if (filter != nullptr) {
    for (size_t i = 0; i < records.size(); ++i) keep[i] = filter->Matches(records[i]);
  }

  int64_t filtered = 0;
  bool drained = false;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    std::vector<v1::Record> accepted;
    accepted.reserve(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      v1::Record& r = records[i];
      absl::StatusOr<uint64_t> seq =
          ParseSequenceNumber(r.sequence_number(), "record.sequence_number");
      if (!seq.ok()) {
        status = seq.status();
        break;
      }
      status = watermark_.Received(*seq);
      if (!status.ok()) break;
      if (!keep[i]) {
        // Matches no filter: done now, as if delivered; the watermark still waits for every
        // earlier record.
        status = watermark_.Done(*seq);
        if (!status.ok()) break;
        ++filtered;
        continue;
      }
      accepted.push_back(std::move(r));
    }
    if (reroute_pending_) {
      for (auto& r : accepted) held_.push_back(std::move(r));
    } else {
      Route(std::move(accepted));
    }
    drained = filtered > 0 && watermark_.outstanding() == 0;
  }
  if (filtered > 0) deps_.metrics.Filtered(shard_, filtered);
  if (drained) deps_.metrics.CaughtUp(shard_);
  return status;
}

void ShardProcessor::Route(std::vector<v1::Record> records) {
  const absl::Time now = deps_.clock.Now();
  for (v1::Record& r : records) {
    const int lane = LaneForPartitionKey(r.partition_key(), LaneCount());
    lanes_[lane]->batcher.Add(std::move(r), now);
  }
}

void ShardProcessor::UpdateConfig(const v1::EventSourceMappingConfiguration& config) {
  absl::MutexLock lock(&mu_);
  config_ = config;
  filter_ = CompileFilter(config);
  for (auto& lane : lanes_) lane->batcher.Reconfigure(BatchSize(config), Window(config));
  if (ParallelizationFactor(config) != LaneCount()) reroute_pending_ = true;
  RebuildLanesIfDue();
}

void ShardProcessor::RebuildLanesIfDue() {
  if (!reroute_pending_) return;
  for (const auto& lane : lanes_) {
    if (lane->busy || !lane->batcher.empty()) return;
  }
  ++lane_generation_;
  lanes_.clear();
  for (int i = 0; i < ParallelizationFactor(config_); ++i) {
    lanes_.push_back(
        std::make_unique<Lane>(config_, deps_, deps_.seed * 31 + i + 1000 * lane_generation_));
  }
  reroute_pending_ = false;
  Route(std::move(held_));
  held_.clear();
}

void ShardProcessor::MarkShardEnd() {
  absl::MutexLock lock(&mu_);
  shard_end_ = true;
}

std::vector<ShardProcessor::LaneBatch> ShardProcessor::TakeReadyBatches() {
  absl::MutexLock lock(&mu_);
  RebuildLanesIfDue();
  const absl::Time now = deps_.clock.Now();
  std::vector<LaneBatch> out;
  for (int i = 0; i < LaneCount(); ++i) {
    Lane& lane = *lanes_[i];
    if (lane.busy) continue;
    // While a re-route is pending, lanes drain without waiting for their windows.
    std::optional<std::vector<v1::Record>> records =
        lane.batcher.TakeReady(now, shard_end_ || reroute_pending_);
    if (!records.has_value()) continue;
    lane.busy = true;
    out.push_back(LaneBatch{i, std::move(*records), config_});
  }
  return out;
}

absl::Status ShardProcessor::RunBatch(LaneBatch batch, StopSignal& stop) {
  BatchProcessor* processor;
  {
    absl::MutexLock lock(&mu_);
    processor = &lanes_[batch.lane]->processor;
  }
  // Lanes are rebuilt only when none is busy, so `processor` stays valid while this lane is.
  absl::Status status =
      processor->Process(shard_, batch.config, std::move(batch.records), stop,
                         [this](const std::vector<v1::Record>& done) {
                           absl::MutexLock lock(&mu_);
                           for (const v1::Record& r : done) {
                             absl::StatusOr<uint64_t> seq =
                                 ParseSequenceNumber(r.sequence_number(), "record.sequence_number");
                             if (seq.ok())
                               watermark_.Done(*seq).IgnoreError();  // offered, so known
                           }
                         });
  bool caught_up;
  {
    absl::MutexLock lock(&mu_);
    lanes_[batch.lane]->busy = false;
    RebuildLanesIfDue();
    caught_up = watermark_.outstanding() == 0;
  }
  if (caught_up) deps_.metrics.CaughtUp(shard_);
  return status;
}

absl::StatusOr<int> ShardProcessor::RunReadyBatches(StopSignal& stop) {
  std::vector<LaneBatch> batches = TakeReadyBatches();
  int ran = 0;
  absl::Status first_error;
  for (LaneBatch& batch : batches) {
    if (!first_error.ok()) {
      // Free the lanes of batches not run; their records stay not done.
      absl::MutexLock lock(&mu_);
      lanes_[batch.lane]->busy = false;
      continue;
    }
    first_error = RunBatch(std::move(batch), stop);
    ++ran;
  }
  if (!first_error.ok()) return first_error;
  return ran;
}

std::optional<uint64_t> ShardProcessor::Watermark() {
  absl::MutexLock lock(&mu_);
  return watermark_.watermark();
}

bool ShardProcessor::Idle() {
  absl::MutexLock lock(&mu_);
  for (const auto& lane : lanes_) {
    if (lane->busy) return false;
  }
  return true;
}

bool ShardProcessor::Drained() {
  absl::MutexLock lock(&mu_);
  return watermark_.outstanding() == 0;
}

int64_t ShardProcessor::Outstanding() {
  absl::MutexLock lock(&mu_);
  return watermark_.outstanding();
}

std::optional<absl::Time> ShardProcessor::NextDeadline() {
  absl::MutexLock lock(&mu_);
  std::optional<absl::Time> earliest;
  for (const auto& lane : lanes_) {
    if (lane->busy) continue;
    std::optional<absl::Time> d = lane->batcher.WindowDeadline();
    if (d.has_value() && (!earliest.has_value() || *d < *earliest)) earliest = d;
  }
  return earliest;
}

}  // namespace tributary::poller
