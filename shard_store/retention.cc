// Retention: the trimmer's pass (ShardStore::TrimExpiredRecords, one write per
// stream: range deletes of expired records with their trimmed-through marks, and
// the removal of closed shards whose retention has passed) and the thread that
// runs it (RetentionTrimmer). See shard_store.h for the contract.
//
// Thread-safety: TrimExpiredRecords is thread-safe like every ShardStore method;
// removing shards holds the stream's UPDATING state (UpdatingGuard).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/key_coding.h"
#include "common/rocksdb_util.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "shard_store/rocksdb_store_metadata.h"
#include "shard_store/shard_state.h"
#include "shard_store/shard_store.h"
#include "shard_store/storage_format.h"
#include "shard_store/store_internal.h"
#include "shard_store/store_metadata.h"

namespace tributary::shard_store {

absl::StatusOr<int64_t> ShardStore::TrimExpiredRecords() {
  std::vector<std::shared_ptr<Stream>> streams;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (auto& [id, s] : streams_by_id_) streams.push_back(s);
  }
  const int64_t now = ToMs(clock_.Now());
  int64_t trimmed_total = 0;
  // A stream whose trim fails does not stop the pass: the others are still trimmed, and the
  // failures are reported together at the end (the failed stream is retried next pass).
  std::vector<absl::Status> failures;
  for (const auto& stream : streams) {
    absl::StatusOr<int64_t> trimmed = TrimStream(stream, now);
    if (trimmed.ok()) {
      trimmed_total += *trimmed;
    } else {
      failures.push_back(trimmed.status());
    }
  }
  if (failures.empty()) return trimmed_total;
  std::string message = absl::StrCat("retention pass: ", failures.size(), " of ", streams.size(),
                                     " streams failed to trim (the others were trimmed)");
  for (const absl::Status& f : failures) absl::StrAppend(&message, "; ", f.message());
  return absl::Status(failures.front().code(), message);
}

absl::StatusOr<int64_t> ShardStore::TrimStream(const std::shared_ptr<Stream>& stream,
                                               int64_t now_ms) {
  std::vector<std::shared_ptr<Shard>> shards;
  int64_t cutoff;
  {
    absl::ReaderMutexLock lock(&stream->mu);
    if (stream->deleted) return 0;
    for (auto& [i, s] : stream->shards) shards.push_back(s);
    cutoff = now_ms - int64_t{stream->retention_hours} * 3600 * 1000;
  }
  // One write for the whole stream (so one fsync under sync_writes, not one per shard): the
  // range deletes of expired records with their trimmed-through marks, and the removal of the
  // closed shards that are gone.
  struct Trim {
    std::shared_ptr<Shard> shard;
    uint64_t through;  // trimmed through this once the write is applied
  };
  std::vector<Trim> trims;
  std::vector<std::shared_ptr<Shard>> gone;
  Batch batch = NewBatch();
  StreamChange change;  // the marks and removed shards, staged with the trims
  change.name = stream->name;
  change.stream_id = stream->id;
  int64_t trimmed = 0;
  for (const auto& shard : shards) {
    const uint64_t tip = shard->tip.load(std::memory_order_acquire);
    uint64_t through;
    bool closed;
    uint64_t ending;
    int64_t closed_ms;
    {
      absl::MutexLock lock(&shard->mu);
      through = shard->trimmed_through;
      closed = shard->closed;
      ending = shard->ending_seq;
      closed_ms = shard->closed_ms;
    }
    if (!log_->StoreNumbers()) {
      // A log that numbers records expires them itself (JetStream's MaxAge = retention): no
      // trim; a closed shard goes once the retention after its close has passed (every record
      // of it arrived before the close, so the log has dropped them all).
      if (closed && closed_ms < cutoff) gone.push_back(shard);
      continue;
    }
    if (tip > through) {
      ASSIGN_OR_RETURN(uint64_t keep_from,
                       log_->FindFirstAtOrAfter(stream->id, shard->index, through + 1, tip,
                                                cutoff));
      // A closed shard whose last record expired is trimmed through its end.
      if (closed && tip >= ending && keep_from >= ending) keep_from = ending + 1;
      if (keep_from > through + 1) {
        log_->StageTrim(&batch, stream->id, shard->index, through, keep_from);
        change.trimmed_through.emplace_back(shard->index, keep_from - 1);
        trimmed += static_cast<int64_t>(keep_from - 1 - through);
        through = keep_from - 1;
        trims.push_back({shard, through});
      }
    }
    // As in Kinesis, a closed shard stays (listed, readable: empty once its records expired,
    // with its child shards at SHARD_END) until the retention period after it closed has passed.
    if (closed && tip >= ending && through >= ending && closed_ms < cutoff) gone.push_back(shard);
  }
  if (trims.empty() && gone.empty()) return 0;
  // Removing shards changes the shard set: only while no reshard or delete runs (else the
  // records are still trimmed and the shards go next pass).
  std::optional<UpdatingGuard> update;
  if (!gone.empty()) {
    absl::StatusOr<UpdatingGuard> began = BeginUpdate(*stream);
    if (began.ok()) {
      update.emplace(*std::move(began));
    } else {
      gone.clear();
    }
  }
  for (const auto& shard : gone) change.removed_shards.push_back(shard->index);
  if (trims.empty() && gone.empty()) return 0;
  const absl::Status status =
      CommitMetadata(WriteKind::kTrim, *stream, change, &batch,
                     absl::StrCat("trimming stream ", stream->name, " (nothing of it was trimmed)"));
  if (status.ok()) {
    for (const Trim& t : trims) {
      absl::MutexLock lock(&t.shard->mu);
      t.shard->trimmed_through = t.through;
    }
  }
  if (!gone.empty()) {
    absl::MutexLock lock(&stream->mu);
    if (status.ok()) {
      for (const auto& shard : gone) stream->shards.erase(shard->index);
    }
    update->EndLocked(*stream);
  }
  RETURN_IF_ERROR(status);
  if (gone.empty()) return trimmed;
  for (const auto& shard : gone) {
    {
      absl::MutexLock lock(&shard->mu);
      absl::MutexLock plock(shard->put_mu);
      shard->removed = true;
    }
    shard->Notify();
  }
  NotifyChange(stream->name);
  return trimmed;
}

RetentionTrimmer::RetentionTrimmer(ShardStore& store, Clock& clock, absl::Duration period)
    : store_(store), clock_(clock), period_(period) {}

RetentionTrimmer::~RetentionTrimmer() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void RetentionTrimmer::Start() {
  thread_ = std::thread([this] {
    absl::MutexLock lock(&mu_);
    while (!stop_) {
      mu_.Unlock();
      absl::StatusOr<int64_t> result = RunOnce();
      if (!result.ok()) LOG(WARNING) << "retention trimmer: " << result.status();
      mu_.Lock();
      clock_.AwaitWithDeadline(&mu_, absl::Condition(&stop_), clock_.MonotonicNow() + period_);
    }
  });
}

}  // namespace tributary::shard_store
