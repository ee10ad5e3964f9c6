#include "poller/lifecycle/shard_consumer.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "glog/logging.h"

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

// How long the reader waits after a failed read (not a throttle) before reading again.
constexpr absl::Duration kReadErrorPause = absl::Milliseconds(200);

// How many rounds of batches one RunOnce runs at most.
constexpr int kMaxRoundsPerStep = 1000;

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
      processor_(ContextOf(lease, config), config, deps),
      checkpointer_(key_, lease_counter_, options_.poller_id, start_, options_.checkpoint_interval,
                    leases_, deps_.clock),
      read_throttle_backoff_(options_.read_throttle_backoff, deps_.seed * 31 + 7) {
  stream_ = reader_.Open(processor_.shard().stream_name, key_.shard_id(), start_);
}

ShardConsumer::~ShardConsumer() { Stop(); }

// Lock-free: the poller's loop polls every consumer's state each pass.
ShardConsumer::State ShardConsumer::state() { return published_state_.load(); }

bool ShardConsumer::TransitionTo(State to) {
  if (!IsValidTransition(state_, to)) return false;
  state_ = to;
  published_state_.store(to);
  if (options_.finished_counter != nullptr) options_.finished_counter->fetch_add(1);
  return true;
}

std::string ShardConsumer::end_reason() {
  absl::MutexLock lock(&mu_);
  return end_reason_;
}

std::string ShardConsumer::last_checkpoint() { return checkpointer_.last(); }

MonotonicTime ShardConsumer::read_paused_until() {
  absl::MutexLock lock(&mu_);
  return read_paused_until_;
}

void ShardConsumer::AfterRead(const absl::StatusOr<ReadResult>& result, bool pause_on_errors) {
  if (result.ok()) {
    read_throttles_ = 0;
    if (result->millis_behind_latest == std::optional<int64_t>(0)) {
      known_position_ = deps_.clock.Now();  // at the tip: nothing older is unread
    } else if (!result->records.empty()) {
      const v1::Record& last = result->records.back();
      known_position_ =
          std::max(known_position_, FromProtoTimestamp(last.approximate_arrival_timestamp()));
    }
    return;
  }
  // CANCELLED comes only after Cancel (Lose, release, Stop), when no read follows anyway.
  if (absl::IsResourceExhausted(result.status())) {
    // Throttled: back off, and let the iterator age grow meanwhile from the known position.
    const absl::Duration ceiling = read_throttle_backoff_.Ceiling(read_throttles_);
    const absl::Duration pause =
        ceiling / 2 + read_throttle_backoff_.Delay(read_throttles_) / 2;  // in [c/2, c]
    ++read_throttles_;
    read_paused_until_ = deps_.clock.MonotonicNow() + pause;
    deps_.metrics.ReadThrottled(shard(), known_position_);
  } else if (pause_on_errors) {
    read_paused_until_ = deps_.clock.MonotonicNow() + kReadErrorPause;
  }
}

bool ShardConsumer::AwaitFinished(MonotonicTime deadline) {
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

void ShardConsumer::Lose(const std::string& reason) {
  {
    absl::MutexLock lock(&mu_);
    if (!TransitionTo(State::kLost)) return;
    end_reason_ = reason;
    Wake();
  }
  stop_.Stop();
  stream_->Cancel();
}

void ShardConsumer::RequestRelease(bool release_lease, const std::string& reason) {
  {
    absl::MutexLock lock(&mu_);
    if (release_requested_) return;
    release_requested_ = true;
    release_lease_ = release_lease;
    if (state_ == State::kRunning) end_reason_ = reason;
    Wake();
  }
  stop_.Stop();
  stream_->Cancel();
}

absl::Status ShardConsumer::HandOver(ReadResult& result) {
  if (!result.records.empty()) {
    // A record out of order would be a store bug; the records before it are kept, the rest are
    // not, and the reader has moved past them.
    RETURN_IF_ERROR(processor_.Offer(std::move(result.records)));
  }
  if (result.millis_behind_latest.has_value()) {
    processor_.SetReaderBehind(*result.millis_behind_latest);
  }
  if (result.shard_end) processor_.MarkShardEnd();
  return absl::OkStatus();
}

void ShardConsumer::GiveUp(const absl::Status& why) {
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kRunning) return;
  }
  // A consumer's own failure has no caller to return to: this is its boundary. Once per lease.
  LOG(ERROR) << "mapping " << key_.event_source_mapping_uuid() << " shard " << key_.shard_id()
             << ": records read from the store were refused (" << why
             << "); giving the lease up so that the next owner re-reads from the checkpoint";
  Lose(absl::StrCat("records read from the store were refused: ", why.ToString()));
  ReleaseLease();
}

bool ShardConsumer::BufferFull() {
  return processor_.Outstanding() >= options_.max_outstanding_records ||
         processor_.OutstandingBytes() >= options_.max_outstanding_bytes;
}

bool ShardConsumer::HoldReadReserve() {
  ReadBudget* budget = options_.read_budget;
  if (budget == nullptr) return true;
  {
    absl::MutexLock lock(&mu_);
    if (reserve_held_) return true;
  }
  const int64_t reserve = ReadReserve();
  if (!budget->Acquire(this, reserve, [this, reserve] {
        absl::MutexLock lock(&mu_);
        reserve_held_ = true;
        charged_ += reserve;
        Wake();
      })) {
    return false;
  }
  bool twice;
  {
    absl::MutexLock lock(&mu_);
    twice = reserve_held_;  // a grant from an earlier wait arrived meanwhile
    reserve_held_ = true;
    if (!twice) charged_ += reserve;
  }
  if (twice) budget->Release(reserve);
  return true;
}

int64_t ShardConsumer::SettleLocked() {
  if (options_.read_budget == nullptr || closed_) return 0;
  const int64_t target =
      processor_.OutstandingBytes() + (reserve_held_ ? ReadReserve() : 0);
  const int64_t delta = target - charged_;
  charged_ = target;
  return delta;
}

void ShardConsumer::ApplyBudget(int64_t delta) {
  if (delta > 0) options_.read_budget->Charge(delta);
  if (delta < 0) options_.read_budget->Release(-delta);
}

void ShardConsumer::Settle() {
  int64_t delta;
  {
    absl::MutexLock lock(&mu_);
    delta = SettleLocked();
  }
  ApplyBudget(delta);
}

void ShardConsumer::ReadOnce() {
  {
    absl::MutexLock lock(&mu_);
    if (Finished() || release_requested_ || shard_end_read_ || stopping_) return;
    if (deps_.clock.MonotonicNow() < read_paused_until_) return;  // backing off a throttle
  }
  if (BufferFull()) return;
  if (!HoldReadReserve()) return;  // the poller-wide budget is used up: wait in order
  absl::StatusOr<ReadResult> result = stream_->Next();
  {
    absl::MutexLock lock(&mu_);
    AfterRead(result, /*pause_on_errors=*/false);  // RunOnce's callers retry other errors
  }
  // The read's records are the processor's (or were not taken): the reserve becomes what they
  // hold.
  auto settle_after_read = [this] {
    int64_t delta;
    {
      absl::MutexLock lock(&mu_);
      reserve_held_ = false;
      delta = SettleLocked();
    }
    ApplyBudget(delta);
  };
  if (!result.ok()) {
    settle_after_read();
    // The stream resumes after its last record on the next call.
    if (!absl::IsCancelled(result.status())) deps_.metrics.ReadFailed(shard(), result.status());
    return;
  }
  deps_.metrics.ReadSucceeded(shard());
  absl::Status offered = HandOver(*result);
  settle_after_read();
  if (!offered.ok()) {
    GiveUp(offered);
    return;
  }
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
  Settle();  // records done give their bytes back
}

absl::Status ShardConsumer::WriteCheckpoint(std::optional<uint64_t> sequence_number) {
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kRunning) return absl::FailedPreconditionError("lease no longer held");
  }
  const absl::Status status = sequence_number.has_value()
                                  ? checkpointer_.WriteSequenceNumber(*sequence_number)
                                  : checkpointer_.WriteShardEnd();
  if (!status.ok()) {
    if (status.code() == absl::StatusCode::kFailedPrecondition) {
      Lose(absl::StrCat("leasing refused a checkpoint: ", status.ToString()));
    } else {
      deps_.metrics.CheckpointFailed(shard(), status);  // logged once per change
      absl::MutexLock lock(&mu_);
      Wake();  // the checkpointer pauses before the next write
    }
    return status;
  }
  deps_.metrics.Checkpointed(
      shard(), sequence_number.has_value() ? absl::StrCat(*sequence_number) : "SHARD_END");
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
  bool releasing, release_lease, shard_end_read;
  {
    absl::MutexLock lock(&mu_);
    if (Finished()) return;
    releasing = release_requested_;
    release_lease = release_lease_;
    shard_end_read = shard_end_read_;
  }
  const MonotonicTime now = deps_.clock.MonotonicNow();
  const bool due = force || now >= checkpointer_.NextTime();
  const bool paused = checkpointer_.Paused(now);
  if (releasing && !processor_.Idle()) return;  // the invocation in flight finishes first

  if (shard_end_read && processor_.Drained()) {
    if (paused) return;  // a failed write is retried after a pause
    if (!WriteCheckpoint(std::nullopt).ok()) return;  // retried after a pause, unless lost
    ReleaseLease();
    absl::MutexLock lock(&mu_);
    TransitionTo(State::kShardEnded);
    Wake();
    return;
  }

  const std::optional<uint64_t> watermark = processor_.Watermark();
  if (checkpointer_.Moved(watermark) && (due || releasing)) {
    absl::Status status = WriteCheckpoint(*watermark);
    if (!status.ok() && (!releasing || status.code() == absl::StatusCode::kFailedPrecondition)) {
      return;  // lost, or retried on the next step
    }
  }
  if (releasing) {
    if (release_lease) ReleaseLease();
    absl::MutexLock lock(&mu_);
    TransitionTo(State::kReleased);
    Wake();
  }
}

void ShardConsumer::Wake() {
  ++generation_;
  if (scheduler_ == nullptr || step_queued_ || closed_) return;
  step_queued_ = true;
  ++tasks_;
  scheduler_->Submit([this] { Step(); });
}

bool ShardConsumer::Quiescent() {
  absl::MutexLock lock(&mu_);
  return scheduler_ == nullptr || closed_ || (tasks_ == 0 && (stopping_ || Finished()));
}

void ShardConsumer::Start(Scheduler& scheduler) {
  timer_ = std::make_unique<Scheduler::Timer>(scheduler, [this] {
    absl::MutexLock lock(&mu_);
    Wake();
  });
  absl::MutexLock lock(&mu_);
  scheduler_ = &scheduler;
  Wake();
}

void ShardConsumer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return;
    stopping_ = true;
    Wake();
  }
  stop_.Stop();
  stream_->Cancel();
  {
    absl::MutexLock lock(&mu_);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return tasks_ == 0; };
    mu_.Await(absl::Condition(&idle));
    closed_ = true;  // a timer firing from now on finds nothing to do
  }
  // A step may have armed the timer before it saw stopping_; no step runs any more.
  if (timer_ != nullptr) timer_->Disarm();
  if (options_.read_budget != nullptr) {
    // No grant runs after Cancel; what this consumer held goes back to the other shards.
    options_.read_budget->Cancel(this);
    int64_t held;
    {
      absl::MutexLock lock(&mu_);
      held = std::exchange(charged_, 0);
      reserve_held_ = false;
    }
    if (held > 0) options_.read_budget->Release(held);
  }
}

void ShardConsumer::OnRead(absl::StatusOr<ReadResult> result) {
  {
    // Before HandOver takes the records (the known position is the last one's arrival). The
    // stream resumes after its last record on the next read.
    absl::MutexLock lock(&mu_);
    AfterRead(result, /*pause_on_errors=*/true);
  }
  absl::Status offered;
  if (result.ok()) {
    deps_.metrics.ReadSucceeded(shard());
    offered = HandOver(*result);
  } else if (!absl::IsCancelled(result.status())) {
    deps_.metrics.ReadFailed(shard(), result.status());  // logged once per change
  }
  if (!offered.ok()) GiveUp(offered);  // before --tasks_: Stop waits for this task
  int64_t delta;
  {
    absl::MutexLock lock(&mu_);
    reserve_held_ = false;  // the reserve becomes what the records read hold
    delta = SettleLocked();
  }
  ApplyBudget(delta);  // not under mu_: a release may grant another consumer's reserve
  // The read's end, seen at once with the wake-up (as before the budget): a step that found
  // the read over but not yet woken could arm nothing and leave the shard unread.
  absl::MutexLock lock(&mu_);
  read_outstanding_ = false;
  if (result.ok() && result->shard_end) shard_end_read_ = true;
  Wake();
  --tasks_;
}

void ShardConsumer::RunBatchTask(ShardProcessor::LaneBatch batch) {
  processor_.RunBatch(std::move(batch), stop_).IgnoreError();  // Tend handles the outcome
  Settle();  // the batch's records are done: their bytes go back to the read budget
  absl::MutexLock lock(&mu_);
  --running_batches_;
  Wake();
  --tasks_;
}

void ShardConsumer::Step() {
  while (true) {
    int64_t seen;
    bool stopping, finished, read, need_reserve;
    Scheduler* scheduler;
    {
      absl::MutexLock lock(&mu_);
      scheduler = scheduler_;
      seen = generation_;
      stopping = stopping_;
      finished = Finished();
      read = !stopping && !finished && !release_requested_ && !shard_end_read_ &&
             !read_outstanding_ && deps_.clock.MonotonicNow() >= read_paused_until_ &&
             !BufferFull();
      // With a read budget a read waits for its reserve (reserved below, or granted later).
      need_reserve = read && options_.read_budget != nullptr && !reserve_held_;
      if (need_reserve) read = false;
      if (read) {
        read_outstanding_ = true;
        ++tasks_;
      }
    }
    if (read) {
      stream_->NextAsync([this](absl::StatusOr<ReadResult> result) { OnRead(std::move(result)); });
    }
    if (need_reserve && HoldReadReserve()) {
      absl::MutexLock lock(&mu_);
      ++generation_;  // reserved: step again to read
    }
    if (!stopping && !finished) {
      for (ShardProcessor::LaneBatch& batch : processor_.TakeReadyBatches()) {
        {
          absl::MutexLock lock(&mu_);
          ++running_batches_;
          ++tasks_;
        }
        scheduler->Submit([this, b = std::move(batch)]() mutable { RunBatchTask(std::move(b)); });
      }
      Tend(false);
      Settle();  // records done (a batch, a tumbling window) give their bytes back
    }
    if (finished) stream_->Cancel();  // ends a read still outstanding (idempotent)

    // When the clock must wake this consumer next.
    MonotonicTime wake = MonotonicTime::InfiniteFuture();
    {
      const std::optional<MonotonicTime> window = processor_.NextDeadline();
      absl::MutexLock lock(&mu_);
      if (!stopping_ && !Finished()) {
        if (window.has_value()) wake = *window;
        if (checkpointer_.Moved(processor_.Watermark()) || checkpointer_.RetryPending()) {
          // A checkpoint (or SHARD_END, after a failed write) is waiting to be written.
          wake = std::min(wake, checkpointer_.NextTime());
        }
        if (!read_outstanding_ && !release_requested_ && !shard_end_read_ &&
            read_paused_until_ > deps_.clock.MonotonicNow()) {
          wake = std::min(wake, read_paused_until_);
        }
      }
    }
    // Only steps arm the timer, one at a time; the timer's callback only wakes (never blocks).
    if (wake != timer_->armed()) timer_->ArmAt(wake);
    absl::MutexLock lock(&mu_);
    if (generation_ != seen) continue;  // something happened meanwhile: step again
    step_queued_ = false;
    --tasks_;
    return;
  }
}

}  // namespace tributary::poller
