#include "shard_store/subscription.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "common/grpc_status.h"

namespace tributary::shard_store {
namespace {

// Cluster mode: how often a subscription at the tip reads again for other front-ends' records
// (one direct get of the shard's last message each time). Other front-ends' appends are
// announced (core NATS, at most once) and wake the subscription at once; this read is the
// fallback for an announcement lost (a front-end killed right after its acknowledgement, a
// NATS reconnect), so it adds at most this much latency then.
// A wake-up (an announcement, a local put, a keep-alive) during this wait reads at once
// (Expedite): the wait bounds how late a lost announcement's records come, nothing else.
constexpr absl::Duration kOtherFrontEndsPoll = absl::Seconds(1);
// Cluster mode: records announced (or acknowledged here) that the log's replica that answered
// did not have yet are read again after this, not after kOtherFrontEndsPoll.
constexpr absl::Duration kReplicaLagPoll = absl::Milliseconds(5);

}  // namespace

Subscription::Subscription(StreamsService* service, ShardCursor cursor, std::string stream_name,
                           std::string shard_id, bool keep_alive)
    : service_(service), store_(service->store_), wants_keep_alive_(keep_alive), cursor_(cursor) {
  last_event_time_ = service->clock_.MonotonicNow();
  stats_.stream_name = std::move(stream_name);
  stats_.shard_id = std::move(shard_id);
  stats_.next_sequence_number = cursor.next_sequence_number;
}

MonotonicTime Subscription::KeepAlive(MonotonicTime now, MonotonicTime horizon,
                                      absl::Duration interval) {
  absl::MutexLock lock(&mu_);
  if (finish_called_) return MonotonicTime::InfiniteFuture();  // ending: OnDone unregisters it
  const MonotonicTime due = last_event_time_ + interval;
  if (due > horizon) return due;
  keep_alive_ = true;
  if (!busy_) {
    busy_ = true;
    service_->Dispatch(this);
  } else {
    Expedite();
  }
  return now + interval;
}

SubscriptionStats Subscription::Stats() {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void Subscription::Start() {
  service_->Register(this);
  absl::StatusOr<std::unique_ptr<ShardWatch>> watch =
      store_.WatchShard(cursor_, [this] { Wake(); });
  if (!watch.ok()) {
    {
      absl::MutexLock lock(&mu_);
      finish_called_ = true;
    }
    SendFinish(watch.status());
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    watch_ = std::move(*watch);
  }
  Wake();
}

void Subscription::Wake() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
  if (finish_called_) return;
  if (busy_) {
    Expedite();
    return;
  }
  busy_ = true;
  service_->Dispatch(this);
}

void Subscription::Expedite() {
  if (poll_at_ == MonotonicTime::InfiniteFuture()) return;  // reading, writing or paced
  // Not found: its time came meanwhile and a dispatch is queued or running; it reads after
  // this wake-up's change (the tip is raised before watchers are called).
  service_->Expedite(this, poll_at_);
  poll_at_ = MonotonicTime::InfiniteFuture();
}

void Subscription::Run() {
  bool del = false, cancel = false, stop = false, keep_alive = false, polled = false;
  {
    absl::MutexLock lock(&mu_);
    if (done_) {
      del = true;
    } else if (cancelled_ || finish_called_) {
      busy_ = false;
      cancel = !finish_called_;
      finish_called_ = true;
      stop = true;
    } else {
      wake_ = false;
      keep_alive = keep_alive_;
    }
    // Still set: the poll's time came (no wake-up moved it), so this read asks the log.
    polled = poll_at_ != MonotonicTime::InfiniteFuture();
    poll_at_ = MonotonicTime::InfiniteFuture();
  }
  if (del) {
    delete this;
    return;
  }
  if (cancel) SendFinish(absl::CancelledError("subscription cancelled"));
  if (stop) return;
  int64_t max_bytes = service_->options_.max_event_bytes;
  const double rate = store_.SubscriptionBytesPerSecond(cursor_);
  if (rate > 0) {
    const MonotonicTime now = service_->clock_.MonotonicNow();
    const double elapsed =
        pace_at_ == MonotonicTime::InfinitePast() ? 1e9 : absl::ToDoubleSeconds(now - pace_at_);
    if (elapsed > 0) {
      pace_at_ = now;
      pace_bytes_ = std::min(rate, pace_bytes_ + elapsed * rate);
    }
    if (pace_bytes_ <= 0) {
      // Read again once the bucket holds a byte; busy_ stays set meanwhile.
      service_->DispatchAt(
          this, now + absl::Milliseconds(std::ceil((1 - pace_bytes_) / rate * 1000)));
      return;
    }
    max_bytes = std::min<int64_t>(max_bytes, static_cast<int64_t>(pace_bytes_));
  }
  event_.Clear();
  // Cluster mode: between polls the tip this front-end knows (its own appends, the others'
  // announcements, both of which wake us) is read up to without asking the log for the shard's
  // last record each time (a direct get per event).
  const bool ask_log = !sent_first_ || polled || keep_alive;
  absl::StatusOr<ReadOutcome> outcome =
      store_.ReadRecords(&cursor_, kMaxGetRecordsLimit, std::max<int64_t>(1, max_bytes),
                         event_.mutable_records(), ask_log);
  if (!outcome.ok()) {
    FinishWith(outcome.status());
    return;
  }
  if (event_.records().empty() && !outcome->shard_end && sent_first_ && !keep_alive) {
    {
      absl::MutexLock lock(&mu_);
      if ((wake_ || keep_alive_) && !cancelled_) {
        service_->Dispatch(this);  // a put or keep-alive came during the read
        return;
      }
      if (store_.others_append() && !cancelled_) {
        // Another front-end's append is announced, but at most once: read again in a while
        // in case an announcement was lost; busy_ stays set meanwhile.
        // Doubling from kReplicaLagPoll while the replica stays behind (bounded work if it
        // never catches up).
        lag_polls_ = outcome->short_of_tip ? std::min(lag_polls_ + 1, 8) : 0;
        poll_at_ = service_->clock_.MonotonicNow() +
                   (lag_polls_ > 0 ? std::min(kReplicaLagPoll * (1 << (lag_polls_ - 1)),
                                              kOtherFrontEndsPoll)
                                   : kOtherFrontEndsPoll);
        service_->DispatchAt(this, poll_at_);
        return;
      }
      busy_ = false;
      if (cancelled_ && !finish_called_) {
        finish_called_ = true;
        cancel = true;
      }
    }
    if (cancel) SendFinish(absl::CancelledError("subscription cancelled"));
    return;
  }
  sent_first_ = true;
  lag_polls_ = 0;
  event_.set_millis_behind_latest(outcome->millis_behind_latest);
  if (outcome->shard_end) {
    shard_end_ = true;
    for (v1::ChildShard& c : outcome->child_shards) *event_.add_child_shards() = std::move(c);
  } else if (!event_.records().empty()) {
    event_.set_continuation_sequence_number(event_.records().rbegin()->sequence_number());
  } else if (cursor_.next_sequence_number > 0) {
    event_.set_continuation_sequence_number(std::to_string(cursor_.next_sequence_number - 1));
  }
  int64_t bytes = 0;
  for (const v1::Record& r : event_.records()) bytes += r.partition_key().size() + r.data().size();
  if (rate > 0) pace_bytes_ -= static_cast<double>(bytes);
  {
    absl::MutexLock lock(&mu_);
    stats_.events_in_flight = 1;
    stats_.records_in_flight = event_.records_size();
    stats_.bytes_in_flight = bytes;
    stats_.max_events_in_flight = std::max(stats_.max_events_in_flight, 1);
    stats_.max_bytes_in_flight = std::max(stats_.max_bytes_in_flight, bytes);
    stats_.next_sequence_number = cursor_.next_sequence_number;
    keep_alive_ = false;  // any event keeps the subscription alive
    last_event_time_ = service_->clock_.MonotonicNow();
  }
  SendEvent(event_);
}

void Subscription::WriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    if (ok) {
      ++stats_.events_sent;
      stats_.records_sent += stats_.records_in_flight;
    }
    stats_.events_in_flight = 0;
    stats_.records_in_flight = 0;
    stats_.bytes_in_flight = 0;
  }
  if (!ok) {
    FinishWith(absl::CancelledError("the subscriber went away"));
    return;
  }
  if (shard_end_) {
    FinishWith(absl::OkStatus());
    return;
  }
  bool cancel = false;
  {
    absl::MutexLock lock(&mu_);
    if (!cancelled_ && !finish_called_) {
      service_->Dispatch(this);  // more may wait beyond the last event; stays busy
      return;
    }
    busy_ = false;
    cancel = !finish_called_;
    finish_called_ = true;
  }
  if (cancel) SendFinish(absl::CancelledError("subscription cancelled"));
}

void Subscription::Cancel() {
  bool finish = false;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    if (!busy_ && !finish_called_) {
      finish_called_ = true;
      finish = true;
    } else if (busy_) {
      Expedite();  // a waiting poll's dispatch ends the call now
    }
  }
  if (finish) SendFinish(absl::CancelledError("subscription cancelled"));
}

void Subscription::Done() {
  service_->Unregister(this);
  std::unique_ptr<ShardWatch> watch;
  {
    absl::MutexLock lock(&mu_);
    watch = std::move(watch_);
  }
  watch.reset();  // no callback runs after this
  bool del;
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
    del = !busy_;
  }
  if (del) delete this;
}

void Subscription::FinishWith(const absl::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    busy_ = false;
    if (finish_called_) return;
    finish_called_ = true;
  }
  SendFinish(status);
}

}  // namespace tributary::shard_store
