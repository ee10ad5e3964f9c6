#include "poller/processing/shard_processor.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "common/status_macros.h"
#include "mapping/mapping_config.h"

namespace tributary::poller {
namespace {

// What a batch's records may use of the invoke payload: less with windows (the state goes too).
int64_t MaxPayloadBytes(const v1::EventSourceMappingConfiguration& config) {
  return kMaxInvokePayloadBytes - kInvokeRequestOverheadBytes -
         (mapping::EffectiveTumblingWindowSeconds(config) > 0 ? kWindowStateReserveBytes : 0);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// A record's copy without its data (for the failure record of a window given up).
v1::Record WithoutData(const v1::Record& r) {
  v1::Record out;
  out.set_sequence_number(r.sequence_number());
  out.set_partition_key(r.partition_key());
  *out.mutable_approximate_arrival_timestamp() = r.approximate_arrival_timestamp();
  return out;
}

// The compiled filter_criteria of `config`; null when it has none. Errors: the criteria do not
// compile (RecordFilter::Create's INVALID_ARGUMENT).
absl::StatusOr<std::shared_ptr<const RecordFilter>> CompileFilter(
    const v1::EventSourceMappingConfiguration& config) {
  if (config.filter_criteria().filters_size() == 0) return nullptr;
  absl::StatusOr<std::unique_ptr<RecordFilter>> filter =
      RecordFilter::Create(config.filter_criteria(), config.stream_name());
  if (!filter.ok()) return filter.status();
  return std::shared_ptr<const RecordFilter>(std::move(*filter));
}

}  // namespace

struct ShardProcessor::Lane {
  Lane(const v1::EventSourceMappingConfiguration& config, LaneDeps& deps, uint64_t seed)
      : batcher(mapping::EffectiveBatchSize(config), mapping::EffectiveBatchingWindow(config),
                MaxPayloadBytes(config)),
        processor(deps.clock, deps.waiter, deps.invoker, deps.destination, deps.metrics,
                  deps.backoff, seed, deps.slots) {}

  // A run of consecutive records of the lane in one window (length 0: in no window), numbered
  // in routing order; the Batcher's group.
  struct Group {
    int64_t id = 0;
    int64_t length_s = 0;  // 0: no tumbling window
    int64_t start_s = 0;   // Unix seconds
    absl::Time start() const { return absl::FromUnixSeconds(start_s); }
    absl::Time end() const { return absl::FromUnixSeconds(start_s + length_s); }
  };
  struct OpenWindow {
    Group group;
    v1::TumblingWindowState state;
    // Records of the window processed (done for the WatermarkTracker) but held back from the
    // checkpoint, which may not pass `cap` while any are (see WindowHold).
    WindowHold hold;
    std::optional<uint64_t> last_done;  // the last of them, for an early end's cap
    v1::Record first, last;             // the window's first and last records in the lane, no data
    int64_t records = 0;
  };

  // The group `record` (arrived at `arrival`) joins under window length `length_s`.
  int64_t GroupFor(absl::Time arrival, int64_t length_s) {
    Group g;
    g.length_s = length_s;
    if (length_s > 0) g.start_s = FloorDiv(absl::ToUnixSeconds(arrival), length_s) * length_s;
    if (!groups.empty()) {
      const Group& latest = groups.back();
      // Windows never go back within a lane (arrival times out of order).
      if (latest.length_s == g.length_s && g.start_s < latest.start_s) g.start_s = latest.start_s;
      if (latest.length_s == g.length_s && latest.start_s == g.start_s) return latest.id;
      g.id = latest.id + 1;
    }
    groups.push_back(g);
    return g.id;
  }
  // The group numbered `id`; forgets older ones (groups are taken in order).
  const Group& GroupById(int64_t id) {
    while (groups.size() > 1 && groups.front().id < id) groups.pop_front();
    return groups.front();
  }

  Batcher batcher;
  BatchProcessor processor;
  bool busy = false;
  std::deque<Group> groups;  // from the oldest group that may be buffered; never empty once used
  std::optional<OpenWindow> window;
};

ShardProcessor::ShardProcessor(ShardContext shard,
                               const v1::EventSourceMappingConfiguration& config, LaneDeps deps)
    : shard_(std::move(shard)), deps_(deps) {
  absl::Status filter_status;
  {
    absl::MutexLock lock(&mu_);
    config_ = std::make_shared<const v1::EventSourceMappingConfiguration>(config);
    SetFilter(CompileFilter(config));
    filter_status = filter_status_;
    for (int i = 0; i < mapping::EffectiveParallelizationFactor(config); ++i) {
      lanes_.push_back(std::make_unique<Lane>(*config_, deps_, deps_.seed * 31 + i));
    }
  }
  ReportFilter(filter_status);
}

void ShardProcessor::SetFilter(absl::StatusOr<std::shared_ptr<const RecordFilter>> filter) {
  ++filter_generation_;
  if (filter.ok()) {
    filter_ = std::move(*filter);
    filter_status_ = absl::OkStatus();
  } else {
    filter_ = nullptr;
    filter_status_ = filter.status();
  }
}

void ShardProcessor::ReportFilter(const absl::Status& status) {
  if (status.ok()) {
    deps_.metrics.FilterCriteriaValid(shard_);
  } else {
    deps_.metrics.FilterCriteriaInvalid(shard_, status);
  }
}

ShardProcessor::Admitted ShardProcessor::Admit(std::vector<Received> records,
                                               const std::vector<bool>& keep) {
  Admitted out;
  std::vector<v1::Record> accepted;
  accepted.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    if (!keep[i]) {
      // Matches no filter: done now, as if delivered; the watermark still waits for every
      // earlier record.
      out.status = watermark_.Done(records[i].sequence_number);
      if (!out.status.ok()) break;
      ++out.filtered;
      continue;
    }
    accepted.push_back(std::move(records[i].record));
  }
  if (reroute_pending_) {
    for (auto& r : accepted) held_.push_back(std::move(r));
  } else {
    Route(std::move(accepted));
  }
  return out;
}

ShardProcessor::~ShardProcessor() = default;

// The KeyParking of one lane's batch.
class ShardProcessor::LaneParking : public KeyParking {
 public:
  LaneParking(ShardProcessor& shard, int lane) : shard_(shard), lane_(lane) {}
  void Divert(std::vector<v1::Record>& records) override {
    absl::MutexLock lock(&shard_.mu_);
    shard_.DivertParked(records);
  }
  bool Park(std::vector<v1::Record>& records, const ParkedAttempts& attempts,
            absl::Duration delay) override {
    return shard_.ParkKey(lane_, records, attempts, delay);
  }

 private:
  ShardProcessor& shard_;
  const int lane_;
};

void ShardProcessor::DivertParked(std::vector<v1::Record>& records) {
  if (parked_.empty()) return;
  size_t kept = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    auto it = parked_.find(records[i].partition_key());
    absl::StatusOr<uint64_t> seq =
        it == parked_.end()
            ? absl::StatusOr<uint64_t>(absl::NotFoundError("not parked"))
            : ParseSequenceNumber(records[i].sequence_number(), "record.sequence_number");
    if (!seq.ok()) {  // not parked (offered records have valid sequence numbers)
      if (kept != i) records[kept] = std::move(records[i]);
      ++kept;
      continue;
    }
    it->second.waiting.emplace(*seq, std::move(records[i]));
  }
  records.resize(kept);
}

bool ShardProcessor::ParkKey(int lane, std::vector<v1::Record>& records,
                             const ParkedAttempts& attempts, absl::Duration delay) {
  bool parked = false;
  {
    absl::MutexLock lock(&mu_);
    if (records.empty()) return false;
    if (static_cast<int64_t>(parked_.size()) >= mapping::EffectiveMaxParkedKeys(*config_)) {
      park_refused_ = true;  // the lane retries in place, blocking as without isolation
    } else {
      const std::string key = records.front().partition_key();
      ParkedKey& entry = parked_[key];
      entry.failing = std::move(records);
      records.clear();
      entry.attempts = attempts;
      entry.due = deps_.clock.MonotonicNow() + delay;
      // The key's records buffered in the lane wait behind the failing ones.
      std::vector<v1::Record> buffered = lanes_[lane]->batcher.Extract(
          [&key](const v1::Record& r) { return r.partition_key() == key; });
      DivertParked(buffered);
      parked = true;
    }
  }
  ReportParked();
  return parked;
}

ShardProcessor::ParkedStatus ShardProcessor::ParkedStatusLocked() const {
  ParkedStatus status;
  status.keys = static_cast<int64_t>(parked_.size());
  status.limit_reached = park_refused_;
  for (const auto& [key, entry] : parked_) {
    status.records += static_cast<int64_t>(entry.failing.size() + entry.waiting.size());
    const absl::Time oldest = entry.failing.empty()
                                  ? (entry.waiting.empty() ? absl::InfiniteFuture()
                                                           : ArrivalTime(entry.waiting.begin()->second))
                                  : ArrivalTime(entry.failing.front());
    if (oldest != absl::InfiniteFuture() &&
        (!status.oldest_arrival.has_value() || oldest < *status.oldest_arrival)) {
      status.oldest_arrival = oldest;
    }
  }
  return status;
}

ShardProcessor::ParkedStatus ShardProcessor::ParkedKeys() {
  absl::MutexLock lock(&mu_);
  return ParkedStatusLocked();
}

void ShardProcessor::ReportParked() {
  ParkedStatus status;
  {
    absl::MutexLock lock(&mu_);
    status = ParkedStatusLocked();
  }
  deps_.metrics.ParkedKeys(shard_, status.keys, status.records, status.oldest_arrival,
                           status.limit_reached);
}

int ShardProcessor::LaneCount() const { return static_cast<int>(lanes_.size()); }

absl::Status ShardProcessor::Offer(std::vector<v1::Record> records) {
  // Match outside the lock (a data pattern parses each record's JSON, ~2 us), against the
  // filter current when Offer began (matched again under the lock should it change meanwhile).
  std::shared_ptr<const RecordFilter> filter;
  int64_t generation;
  {
    absl::MutexLock lock(&mu_);
    filter = filter_;
    generation = filter_generation_;
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
    std::vector<Received> received;
    received.reserve(records.size());
    for (v1::Record& r : records) {  // those from a bad one on are not added
      absl::StatusOr<uint64_t> seq =
          ParseSequenceNumber(r.sequence_number(), "record.sequence_number");
      if (!seq.ok()) {
        status = seq.status();
        break;
      }
      status = watermark_.Received(*seq, RecordMemoryBytes(r));
      if (!status.ok()) break;
      received.push_back(Received{*seq, std::move(r)});
    }
    keep.resize(received.size());
    if (!filter_status_.ok()) {
      // The criteria do not compile: deliver nothing unfiltered (nor drop anything). The records
      // wait, not done, until a configuration whose criteria compile (UpdateConfig).
      for (Received& r : received) unfiltered_.push_back(std::move(r));
    } else {
      if (generation != filter_generation_) {
        for (size_t i = 0; i < received.size(); ++i) {
          keep[i] = filter_ == nullptr || filter_->Matches(received[i].record);
        }
      }
      Admitted admitted = Admit(std::move(received), keep);
      filtered = admitted.filtered;
      if (status.ok()) status = admitted.status;
    }
    drained = filtered > 0 && watermark_.outstanding() == 0;
  }
  if (filtered > 0) deps_.metrics.Filtered(shard_, filtered);
  if (drained) deps_.metrics.CaughtUp(shard_);
  return status;
}

void ShardProcessor::Route(std::vector<v1::Record> records) {
  const MonotonicTime now = deps_.clock.MonotonicNow();  // batching windows are durations
  const int64_t length_s = mapping::EffectiveTumblingWindowSeconds(*config_);
  if (!parked_.empty()) DivertParked(records);  // a parked key's records wait behind it
  for (v1::Record& r : records) {
    Lane& lane = *lanes_[LaneForPartitionKey(r.partition_key(), LaneCount())];
    const int64_t group = lane.GroupFor(ArrivalTime(r), length_s);
    lane.batcher.Add(std::move(r), now, group);
  }
}

void ShardProcessor::UpdateConfig(const v1::EventSourceMappingConfiguration& config) {
  absl::Status filter_status;
  int64_t filtered = 0;
  bool drained = false;
  {
    absl::MutexLock lock(&mu_);
    config_ = std::make_shared<const v1::EventSourceMappingConfiguration>(config);
    SetFilter(CompileFilter(config));
    filter_status = filter_status_;
    for (auto& lane : lanes_) {
      lane->batcher.Reconfigure(mapping::EffectiveBatchSize(config),
                                mapping::EffectiveBatchingWindow(config), MaxPayloadBytes(config));
    }
    if (mapping::EffectiveParallelizationFactor(config) != LaneCount()) reroute_pending_ = true;
    if (filter_status_.ok() && !unfiltered_.empty()) {
      // Records held while the criteria did not compile: filtered now, in their order (rare: a
      // bug let bad criteria through, and an update fixed them).
      std::vector<Received> records = std::move(unfiltered_);
      unfiltered_.clear();
      std::vector<bool> keep(records.size(), true);
      if (filter_ != nullptr) {
        for (size_t i = 0; i < records.size(); ++i) keep[i] = filter_->Matches(records[i].record);
      }
      // Done cannot fail here: each record was received and is not done.
      filtered = Admit(std::move(records), keep).filtered;
      drained = filtered > 0 && watermark_.outstanding() == 0;
    }
    RebuildLanesIfDue();
  }
  ReportFilter(filter_status);
  if (filtered > 0) deps_.metrics.Filtered(shard_, filtered);
  if (drained) deps_.metrics.CaughtUp(shard_);
}

std::shared_ptr<const v1::EventSourceMappingConfiguration> ShardProcessor::CurrentConfig() {
  absl::MutexLock lock(&mu_);
  return config_;
}

void ShardProcessor::RebuildLanesIfDue() {
  if (!reroute_pending_) return;
  for (const auto& lane : lanes_) {
    if (lane->busy || !lane->batcher.empty() || lane->window.has_value()) return;
  }
  ++lane_generation_;
  lanes_.clear();
  for (int i = 0; i < mapping::EffectiveParallelizationFactor(*config_); ++i) {
    lanes_.push_back(
        std::make_unique<Lane>(*config_, deps_, deps_.seed * 31 + i + 1000 * lane_generation_));
  }
  reroute_pending_ = false;
  Route(std::move(held_));
  held_.clear();
  ReleaseClosedWindows();  // it waited for the windows of the records routed just now
}

void ShardProcessor::SetReaderBehind(int64_t millis_behind_latest) {
  absl::MutexLock lock(&mu_);
  reader_at_tip_ = millis_behind_latest == 0;
}

void ShardProcessor::MarkShardEnd() {
  absl::MutexLock lock(&mu_);
  shard_end_ = true;
}

std::vector<ShardProcessor::LaneBatch> ShardProcessor::TakeReadyBatches() {
  absl::MutexLock lock(&mu_);
  RebuildLanesIfDue();
  const absl::Time now = deps_.clock.Now();  // tumbling windows are wall intervals of arrival
  const MonotonicTime mono_now = deps_.clock.MonotonicNow();  // batching windows are durations
  std::vector<LaneBatch> out;
  if (cancelled_) return out;
  for (int i = 0; i < LaneCount(); ++i) {
    Lane& lane = *lanes_[i];
    if (lane.busy) continue;
    // A parked key's retry that is due goes first (it is short: its failing records only).
    std::map<std::string, ParkedKey>::iterator due = parked_.end();
    for (auto it = parked_.begin(); it != parked_.end(); ++it) {
      if (it->second.running || it->second.due > mono_now) continue;
      if (LaneForPartitionKey(it->first, LaneCount()) != i) continue;
      if (due == parked_.end() || it->second.due < due->second.due) due = it;
    }
    if (due != parked_.end()) {
      due->second.running = true;
      lane.busy = true;
      LaneBatch retry{i, std::move(due->second.failing), config_, std::nullopt, false, due->first};
      due->second.failing.clear();
      out.push_back(std::move(retry));
      continue;
    }
    const std::optional<int64_t> front = lane.batcher.FrontGroup();
    if (lane.window.has_value() && front != lane.window->group.id) {
      // Nothing of the open window is buffered (nor in flight: the lane is idle).
      const bool close =
          front.has_value() || shard_end_ || reroute_pending_ ||
          mapping::EffectiveTumblingWindowSeconds(*config_) != lane.window->group.length_s ||
          (reader_at_tip_ && now >= lane.window->group.end() + deps_.window_close_grace);
      if (close) {
        lane.busy = true;
        out.push_back(LaneBatch{i, {}, config_, lane.window->group.start(), true, std::nullopt});
      }
      continue;
    }
    // While a re-route is pending, lanes drain without waiting for their batching windows.
    std::optional<std::vector<v1::Record>> records =
        lane.batcher.TakeReady(mono_now, shard_end_ || reroute_pending_);
    if (!records.has_value()) continue;
    const Lane::Group& group = lane.GroupById(*front);
    std::optional<absl::Time> window_start;
    if (group.length_s > 0) {
      if (!lane.window.has_value()) {
        // Not emplace(): clang finds a nested struct with default member initializers not
        // default-constructible inside its enclosing class, where std::optional checks it.
        lane.window = Lane::OpenWindow{};
        lane.window->group = group;
      }
      WindowHold& hold = lane.window->hold;
      if (!hold.cap_set && !records->empty()) {
        // The window's first records: the checkpoint may reach the record just before them in
        // the shard, not further, until the window is released. It is pending (not done).
        absl::StatusOr<uint64_t> first =
            ParseSequenceNumber(records->front().sequence_number(), "record.sequence_number");
        absl::StatusOr<std::optional<uint64_t>> before =
            first.ok() ? watermark_.Predecessor(*first) : first.status();
        // Not pending would be a bug: then hold the checkpoint entirely rather than not at all.
        hold.cap = before.ok() ? *before : std::nullopt;
        hold.cap_set = true;
      }
      window_start = group.start();
    }
    lane.busy = true;
    out.push_back(LaneBatch{i, std::move(*records), config_, window_start, false, std::nullopt});
  }
  return out;
}

void ShardProcessor::ReleaseHeld(Lane& lane) {
  if (!lane.window.has_value()) return;
  Lane::OpenWindow& open = *lane.window;
  window_held_ -= open.hold.count;
  open.hold.count = 0;
  // The window goes on: what its lane processes from now on may not be checkpointed past the
  // last record the early end covered.
  open.hold.cap = open.last_done;
  open.hold.cap_set = open.last_done.has_value();
}

void ShardProcessor::CloseWindow(Lane& lane) {
  if (!lane.window.has_value()) return;
  Lane::OpenWindow& open = *lane.window;
  if (open.hold.count > 0) {
    WindowHold& closed = closed_held_[open.group.start_s + open.group.length_s];
    closed.count += open.hold.count;
    if (!closed.cap_set ||
        (closed.cap.has_value() && (!open.hold.cap.has_value() || *open.hold.cap < *closed.cap))) {
      closed.cap = open.hold.cap;  // the lowest of the lanes' caps (nullopt is lowest)
    }
    closed.cap_set = true;
  }
  lane.window.reset();
  ReleaseClosedWindows();
}

void ShardProcessor::ReleaseClosedWindows() {
  if (closed_held_.empty()) return;
  // Records not routed yet (a pending re-route): their windows are not known; wait for them.
  if (!held_.empty()) return;
  // The earliest window start any lane still has open or buffered: a closed window that ends
  // after it overlaps a window some lane has not finished, so its records stay held.
  std::optional<int64_t> barrier_s;
  const auto lower = [&barrier_s](int64_t start_s) {
    if (!barrier_s.has_value() || start_s < *barrier_s) barrier_s = start_s;
  };
  for (const auto& lane : lanes_) {
    if (lane->window.has_value()) lower(lane->window->group.start_s);
    const std::optional<int64_t> front = lane->batcher.FrontGroup();
    if (!front.has_value()) continue;
    for (const Lane::Group& g : lane->groups) {
      if (g.id >= *front && g.length_s > 0) lower(g.start_s);
    }
  }
  while (!closed_held_.empty()) {
    auto it = closed_held_.begin();  // the earliest end first
    if (barrier_s.has_value() && it->first > *barrier_s) break;
    window_held_ -= it->second.count;
    closed_held_.erase(it);
  }
}

absl::Status ShardProcessor::RunBatch(LaneBatch batch, StopSignal& stop) {
  if (batch.parked_key.has_value()) return RunParked(std::move(batch), stop);
  BatchProcessor* processor;
  const bool windowed = batch.window_start.has_value();
  WindowContext window;
  {
    absl::MutexLock lock(&mu_);
    Lane& lane = *lanes_[batch.lane];
    processor = &lane.processor;
    if (windowed) {
      // Only this batch uses the lane's window until it returns (the lane is busy).
      Lane::OpenWindow& open = *lane.window;
      if (!batch.records.empty()) {
        if (open.records == 0) open.first = WithoutData(batch.records.front());
        open.last = WithoutData(batch.records.back());
        open.records += static_cast<int64_t>(batch.records.size());
      }
      window.start = open.group.start();
      window.end = open.group.end();
      window.state.Swap(&open.state);  // and back when the batch returns
      window.first_record = open.first;
      window.last_record = open.last;
      window.record_count = open.records;
      window.on_terminated_early = [this, lane_index = batch.lane] {
        absl::MutexLock lock(&mu_);
        ReleaseHeld(*lanes_[lane_index]);
      };
    }
  }
  // Lanes are rebuilt only when none is busy, so `processor` stays valid while this lane is.
  // Every attempt reads the configuration current then: an update reaches a failing batch.
  const ConfigSource current = [this] { return CurrentConfig(); };
  absl::Status status;
  LaneParking parking(*this, batch.lane);
  if (batch.final_invoke) {
    status = processor->FinishWindow(shard_, current, window, /*terminated_early=*/false, stop);
  } else {
    status = processor->Process(
        shard_, current, std::move(batch.records), stop,
        [this, windowed, lane_index = batch.lane](const std::vector<v1::Record>& done) {
          absl::MutexLock lock(&mu_);
          for (const v1::Record& r : done) {
            absl::StatusOr<uint64_t> seq =
                ParseSequenceNumber(r.sequence_number(), "record.sequence_number");
            if (!seq.ok()) continue;              // offered, so valid
            watermark_.Done(*seq).IgnoreError();  // offered, so known
            if (windowed) {
              // Held back from the checkpoint (the window's cap) until the window is released.
              Lane::OpenWindow& open = *lanes_[lane_index]->window;
              ++open.hold.count;
              open.last_done = *seq;
              ++window_held_;
            }
          }
        },
        windowed ? &window : nullptr, windowed ? nullptr : &parking);
  }
  bool caught_up;
  {
    absl::MutexLock lock(&mu_);
    Lane& lane = *lanes_[batch.lane];
    if (windowed) {
      lane.window->state.Swap(&window.state);
      if (batch.final_invoke && status.ok()) CloseWindow(lane);
    }
    lane.busy = false;
    if (status.code() == absl::StatusCode::kCancelled) cancelled_ = true;
    RebuildLanesIfDue();
    caught_up = watermark_.outstanding() == 0;
  }
  if (caught_up) deps_.metrics.CaughtUp(shard_);
  return status;
}

absl::Status ShardProcessor::RunParked(LaneBatch batch, StopSignal& stop) {
  const std::string& key = *batch.parked_key;
  BatchProcessor* processor;
  ParkedAttempts attempts;
  {
    absl::MutexLock lock(&mu_);
    processor = &lanes_[batch.lane]->processor;
    attempts = parked_[key].attempts;
  }
  const ConfigSource current = [this] { return CurrentConfig(); };
  std::vector<v1::Record> records = std::move(batch.records);
  absl::StatusOr<std::optional<absl::Duration>> next = processor->RetryParked(
      shard_, current, records, attempts, stop, [this](const std::vector<v1::Record>& done) {
        absl::MutexLock lock(&mu_);
        for (const v1::Record& r : done) {
          absl::StatusOr<uint64_t> seq =
              ParseSequenceNumber(r.sequence_number(), "record.sequence_number");
          if (seq.ok()) watermark_.Done(*seq).IgnoreError();  // offered, so valid and known
        }
      });
  bool caught_up;
  {
    absl::MutexLock lock(&mu_);
    auto it = parked_.find(key);
    ParkedKey& entry = it->second;
    entry.running = false;
    entry.attempts = attempts;
    if (!next.ok() || next->has_value()) {
      entry.failing = std::move(records);  // not done: retried later (or by the next owner)
      if (next.ok()) entry.due = deps_.clock.MonotonicNow() + **next;
    } else {
      // Every failing record is done: the key flows again, its waiting records first.
      std::vector<v1::Record> waiting;
      waiting.reserve(entry.waiting.size());
      for (auto& [seq, r] : entry.waiting) waiting.push_back(std::move(r));
      parked_.erase(it);
      if (static_cast<int64_t>(parked_.size()) < mapping::EffectiveMaxParkedKeys(*config_)) {
        park_refused_ = false;
      }
      Route(std::move(waiting));
    }
    lanes_[batch.lane]->busy = false;
    if (!next.ok() && next.status().code() == absl::StatusCode::kCancelled) cancelled_ = true;
    RebuildLanesIfDue();
    caught_up = watermark_.outstanding() == 0;
  }
  ReportParked();
  if (caught_up) deps_.metrics.CaughtUp(shard_);
  return next.ok() ? absl::OkStatus() : next.status();
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
  std::optional<uint64_t> watermark = watermark_.watermark();
  // The checkpoint stays at or below every held window's cap (nullopt: below everything).
  const auto cap = [&watermark](const WindowHold& hold) {
    if (hold.count == 0 || !hold.cap_set || !watermark.has_value()) return;
    if (!hold.cap.has_value() || *hold.cap < *watermark) watermark = hold.cap;
  };
  for (const auto& lane : lanes_) {
    if (lane->window.has_value()) cap(lane->window->hold);
  }
  for (const auto& [end_s, hold] : closed_held_) cap(hold);
  return watermark;
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
  if (watermark_.outstanding() != 0 || window_held_ != 0) return false;
  for (const auto& lane : lanes_) {
    if (lane->window.has_value()) return false;  // its final invocation is still to come
  }
  return true;
}

int64_t ShardProcessor::Outstanding() {
  absl::MutexLock lock(&mu_);
  return watermark_.outstanding();
}

int64_t ShardProcessor::OutstandingBytes() {
  absl::MutexLock lock(&mu_);
  return watermark_.outstanding_bytes();
}

int64_t ShardProcessor::RecordMemoryBytes(const v1::Record& record) {
  return static_cast<int64_t>(sizeof(v1::Record) + record.data().size() +
                              record.partition_key().size() + record.sequence_number().size());
}

int64_t ShardProcessor::Held() {
  absl::MutexLock lock(&mu_);
  return window_held_;
}

std::optional<MonotonicTime> ShardProcessor::NextDeadline() {
  const absl::Time now = deps_.clock.Now();
  const MonotonicTime mono_now = deps_.clock.MonotonicNow();
  absl::MutexLock lock(&mu_);
  std::optional<MonotonicTime> earliest;
  if (cancelled_) return earliest;  // nothing is handed out any more
  for (const auto& lane : lanes_) {
    if (lane->busy) continue;
    std::optional<MonotonicTime> d = lane->batcher.WindowDeadline();
    if (lane->window.has_value() && lane->batcher.empty() && reader_at_tip_) {
      // Closed by the clock at a wall time: wait on the monotonic clock for what remains of it.
      d = mono_now + (lane->window->group.end() + deps_.window_close_grace - now);
    }
    if (d.has_value() && (!earliest.has_value() || *d < *earliest)) earliest = d;
  }
  for (const auto& [key, entry] : parked_) {
    if (entry.running || lanes_[LaneForPartitionKey(key, LaneCount())]->busy) continue;
    if (!earliest.has_value() || entry.due < *earliest) earliest = entry.due;
  }
  return earliest;
}

}  // namespace tributary::poller
