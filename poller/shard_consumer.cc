#include "poller/shard_consumer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tributary::poller {
namespace {

ShardContext ContextOf(const v1::Lease& lease, const v1::EventSourceMappingConfiguration& config) {
  return ShardContext{lease.event_source_mapping_uuid(),
                      lease.stream_name().empty() ? config.stream_name() : lease.stream_name(),
                      lease.shard_id()};
}

v1::LeaseKey KeyOf(const v1::Lease& lease) {
  v1::LeaseKey key;
  key.set_event_source_mapping_uuid(lease.event_source_mapping_uuid());
  key.set_shard_id(lease.shard_id());
  return key;
}

// How long the reader waits after a failed read before reading again.
constexpr absl::Duration kReadErrorPause = absl::Milliseconds(200);

// How long to wait before writing a checkpoint again after a failed write (not fencing).
constexpr absl::Duration kCheckpointRetryPause = absl::Milliseconds(200);

// How many rounds of batches one RunOnce runs at most.
constexpr int kMaxRoundsPerStep = 1000;

// An absl::Condition: the consumer's event counter moved past `seen`.
struct GenerationChanged {
  const int64_t* generation;
  int64_t seen;
  bool operator()() const { return *generation != seen; }
};

}  // namespace

ShardConsumer::ShardConsumer(const v1::Lease& lease,
                             const v1::EventSourceMappingConfiguration& config,
                             ShardConsumerOptions options, ShardReader& reader,
                             LeaseService& leases, LaneDeps deps)
    : key_(KeyOf(lease)),
      lease_counter_(lease.lease_counter()),
      start_(lease.checkpoint()),
      options_(std::move(options)),
      reader_(reader),
      leases_(leases),
      deps_(deps),
      processor_(ContextOf(lease, config), config, deps) {
  stream_ = reader_.Open(processor_.shard().stream_name, key_.shard_id(), start_);
  if (start_.type() == v1::SEQUENCE_NUMBER) {
    absl::StatusOr<uint64_t> seq =
        ParseSequenceNumber(start_.sequence_number(), "checkpoint.sequence_number");
    absl::MutexLock lock(&mu_);
    if (seq.ok()) checkpointed_ = *seq;
    last_checkpoint_ = start_.sequence_number();
  }
}

ShardConsumer::~ShardConsumer() { Stop(); }

ShardConsumer::State ShardConsumer::state() {
  absl::MutexLock lock(&mu_);
  return state_;
}

std::string ShardConsumer::last_checkpoint() {
  absl::MutexLock lock(&mu_);
  return last_checkpoint_;
}

bool ShardConsumer::AwaitFinished(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  struct NotRunning {
    const State* state;
    bool operator()() const { return *state != State::kRunning; }
  } not_running{&state_};
  return deps_.clock.AwaitWithDeadline(&mu_, absl::Condition(&not_running), deadline);
}

void ShardConsumer::UpdateConfig(const v1::EventSourceMappingConfiguration& config) {
  processor_.UpdateConfig(config);
  absl::MutexLock lock(&mu_);
  Wake();
}

void ShardConsumer::Lose() {
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kRunning) return;
    state_ = State::kLost;
    Wake();
  }
  stop_.Stop();
  stream_->Cancel();
}

void ShardConsumer::RequestRelease() {
  {
    absl::MutexLock lock(&mu_);
    if (release_requested_) return;
    release_requested_ = true;
    Wake();
  }
  stop_.Stop();
  stream_->Cancel();
}

void ShardConsumer::ReadOnce() {
  {
    absl::MutexLock lock(&mu_);
    if (Finished() || release_requested_ || shard_end_read_ || stopping_) return;
  }
  if (processor_.Outstanding() >= options_.max_outstanding_records) return;
  absl::StatusOr<ReadResult> result = stream_->Next();
  if (!result.ok()) return;  // the stream resumes after its last record on the next call
  if (!result->records.empty()) {
    // A record out of order would be a store bug; the records before it are kept.
    processor_.Offer(std::move(result->records)).IgnoreError();
  }
  if (result->shard_end) processor_.MarkShardEnd();
  absl::MutexLock lock(&mu_);
  if (result->shard_end) shard_end_read_ = true;
  Wake();
}

void ShardConsumer::RunOnce() {
  if (state() != State::kRunning) return;
  ReadOnce();
  // Every batch that is due, checkpointing between rounds; bounded so a step always ends.
  for (int round = 0; round < kMaxRoundsPerStep; ++round) {
    absl::StatusOr<int> ran = processor_.RunReadyBatches(stop_);
    Tend(false);
    // CANCELLED (stopped) ends the step; the state change is Tend's business.
    if (!ran.ok() || *ran == 0 || state() != State::kRunning) break;
  }
}

absl::Status ShardConsumer::WriteCheckpoint(const v1::Checkpoint& checkpoint) {
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kRunning) return absl::FailedPreconditionError("lease no longer held");
  }
  v1::CheckpointRequest request;
  *request.mutable_lease_key() = key_;
  request.set_poller_id(options_.poller_id);
  request.set_lease_counter(lease_counter_);
  *request.mutable_checkpoint() = checkpoint;
  absl::StatusOr<v1::CheckpointResponse> response = leases_.Checkpoint(request);
  if (!response.ok()) {
    if (response.status().code() == absl::StatusCode::kFailedPrecondition) {
      Lose();
    } else {
      absl::MutexLock lock(&mu_);
      retry_checkpoint_at_ = deps_.clock.Now() + kCheckpointRetryPause;
      Wake();
    }
    return response.status();
  }
  const std::string text =
      checkpoint.type() == v1::SHARD_END ? "SHARD_END" : checkpoint.sequence_number();
  deps_.metrics.Checkpointed(shard(), text);
  absl::MutexLock lock(&mu_);
  last_checkpoint_ = text;
  last_checkpoint_time_ = deps_.clock.Now();
  retry_checkpoint_at_.reset();
  return absl::OkStatus();
}

void ShardConsumer::ReleaseLease() {
  v1::ReleaseLeaseRequest request;
  *request.mutable_lease_key() = key_;
  request.set_poller_id(options_.poller_id);
  request.set_lease_counter(lease_counter_);
  // A failed release needs no retry: the lease expires without heartbeats and moves on.
  leases_.ReleaseLease(request).IgnoreError();
}

void ShardConsumer::Tend(bool force) {
  bool releasing, shard_end_read, due, paused;
  std::optional<uint64_t> checkpointed;
  {
    absl::MutexLock lock(&mu_);
    if (Finished()) return;
    releasing = release_requested_;
    shard_end_read = shard_end_read_;
    checkpointed = checkpointed_;
    const absl::Time now = deps_.clock.Now();
    due = force || now >= NextCheckpointTime();
    paused = retry_checkpoint_at_.has_value() && now < *retry_checkpoint_at_;
  }
  if (releasing && !processor_.Idle()) return;  // the invocation in flight finishes first

  if (shard_end_read && processor_.Drained()) {
    if (paused) return;  // a failed write is retried after a pause
    v1::Checkpoint end;
    end.set_type(v1::SHARD_END);
    if (!WriteCheckpoint(end).ok()) return;  // retried after a pause, unless lost
    ReleaseLease();
    absl::MutexLock lock(&mu_);
    if (state_ == State::kRunning) state_ = State::kShardEnded;
    Wake();
    return;
  }

  const std::optional<uint64_t> watermark = processor_.Watermark();
  const bool moved =
      watermark.has_value() && (!checkpointed.has_value() || *watermark > *checkpointed);
  if (moved && (due || releasing)) {
    v1::Checkpoint cp;
    cp.set_type(v1::SEQUENCE_NUMBER);
    cp.set_sequence_number(absl::StrCat(*watermark));
    absl::Status status = WriteCheckpoint(cp);
    if (status.ok()) {
      absl::MutexLock lock(&mu_);
      checkpointed_ = watermark;
    } else if (!releasing || status.code() == absl::StatusCode::kFailedPrecondition) {
      return;  // lost, or retried on the next step
    }
  }
  if (releasing) {
    ReleaseLease();
    absl::MutexLock lock(&mu_);
    if (state_ == State::kRunning) state_ = State::kReleased;
    Wake();
  }
}

absl::Time ShardConsumer::NextCheckpointTime() {
  const absl::Time next = last_checkpoint_time_ + options_.checkpoint_interval;
  return retry_checkpoint_at_.has_value() ? std::max(next, *retry_checkpoint_at_) : next;
}

bool ShardConsumer::Quiescent() {
  absl::MutexLock lock(&mu_);
  return !started_ || loops_running_ == 0;
}

void ShardConsumer::Start() {
  {
    absl::MutexLock lock(&mu_);
    started_ = true;
    loops_running_ = 2;
  }
  reader_thread_ = std::thread([this] {
    ReaderLoop();
    absl::MutexLock lock(&mu_);
    --loops_running_;
  });
  dispatcher_thread_ = std::thread([this] {
    DispatcherLoop();
    absl::MutexLock lock(&mu_);
    --loops_running_;
  });
}

void ShardConsumer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    Wake();
  }
  stop_.Stop();
  stream_->Cancel();
  if (reader_thread_.joinable()) reader_thread_.join();
  if (dispatcher_thread_.joinable()) dispatcher_thread_.join();
}

void ShardConsumer::ReaderLoop() {
  while (true) {
    int64_t seen;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_ || Finished() || release_requested_ || shard_end_read_) return;
      seen = generation_;
    }
    if (processor_.Outstanding() >= options_.max_outstanding_records) {
      // Wait for a batch to finish (or anything else to happen).
      absl::MutexLock lock(&mu_);
      const GenerationChanged changed{&generation_, seen};
      mu_.Await(absl::Condition(&changed));
      continue;
    }
    absl::StatusOr<ReadResult> result = stream_->Next();
    if (!result.ok()) {
      absl::MutexLock lock(&mu_);
      deps_.clock.AwaitWithDeadline(&mu_, absl::Condition(&stopping_),
                                    deps_.clock.Now() + kReadErrorPause);
      continue;
    }
    if (!result->records.empty()) processor_.Offer(std::move(result->records)).IgnoreError();
    if (result->shard_end) processor_.MarkShardEnd();
    absl::MutexLock lock(&mu_);
    if (result->shard_end) shard_end_read_ = true;
    Wake();
  }
}

void ShardConsumer::LaneWorkerLoop(int lane) {
  struct HasWork {
    const std::deque<ShardProcessor::LaneBatch>* queue;
    const bool* exit;
    bool operator()() const { return !queue->empty() || *exit; }
  };
  while (true) {
    std::optional<ShardProcessor::LaneBatch> batch;
    {
      absl::MutexLock lock(&mu_);
      const HasWork has_work{&lane_queues_[lane], &workers_exit_};
      mu_.Await(absl::Condition(&has_work));
      // The dispatcher exits only when no batch is queued or running, so the queue is empty.
      if (lane_queues_[lane].empty()) return;
      batch.emplace(std::move(lane_queues_[lane].front()));
      lane_queues_[lane].pop_front();
    }
    processor_.RunBatch(std::move(*batch), stop_).IgnoreError();  // Tend handles the outcome
    absl::MutexLock lock(&mu_);
    --running_batches_;
    Wake();
  }
}

void ShardConsumer::DispatcherLoop() {
  while (true) {
    bool stopping;
    int64_t seen;
    std::optional<std::vector<std::thread>> workers;  // set when this loop returns
    {
      absl::MutexLock lock(&mu_);
      stopping = stopping_;
      if ((stopping_ || Finished()) && running_batches_ == 0) {
        workers_exit_ = true;
        workers = std::move(lane_workers_);
        lane_workers_.clear();
      }
      seen = generation_;
    }
    if (workers.has_value()) {
      // Outside mu_: the workers take it to see workers_exit_.
      for (std::thread& t : *workers) {
        if (t.joinable()) t.join();
      }
      return;
    }
    if (!stopping) {
      std::vector<ShardProcessor::LaneBatch> batches = processor_.TakeReadyBatches();
      if (!batches.empty()) {
        absl::MutexLock lock(&mu_);
        for (ShardProcessor::LaneBatch& batch : batches) {
          const int lane = batch.lane;
          if (lane >= static_cast<int>(lane_queues_.size())) {
            lane_queues_.resize(lane + 1);
            lane_workers_.resize(lane + 1);
          }
          ++running_batches_;
          lane_queues_[lane].push_back(std::move(batch));
          if (!lane_workers_[lane].joinable()) {
            lane_workers_[lane] = std::thread([this, lane] { LaneWorkerLoop(lane); });
          }
        }
      }
      Tend(false);
    }
    std::optional<absl::Time> deadline = processor_.NextDeadline();
    absl::MutexLock lock(&mu_);
    if (generation_ != seen) continue;
    const std::optional<uint64_t> watermark = processor_.Watermark();
    if ((watermark.has_value() && (!checkpointed_.has_value() || *watermark > *checkpointed_)) ||
        retry_checkpoint_at_.has_value()) {
      // A checkpoint (or SHARD_END, after a failed write) is waiting to be written.
      const absl::Time due = NextCheckpointTime();
      if (!deadline.has_value() || due < *deadline) deadline = due;
    }
    const GenerationChanged changed{&generation_, seen};
    deps_.clock.AwaitWithDeadline(&mu_, absl::Condition(&changed),
                                  deadline.value_or(absl::InfiniteFuture()));
  }
}

}  // namespace tributary::poller
