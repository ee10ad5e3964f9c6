// Shard state (the :shard_state library, internal to shard_store/): the
// in-memory state of one shard, ShardState (ShardStore::Shard in the store's
// code) — its sequence numbers and runs in flight, the visible tip (below) with
// its advance rule (Finish) and the close protocol (BeginClose / CommitClose /
// AbortClose), the WaitForRecords wake-up, and the watchers WatchShard
// registers (ShardWatcherRegistration). Nothing here touches RocksDB;
// shard_state_test specifies it on its own.
//
// Concurrency and visibility (the "visible tip"). Two PutRecords calls may write
// the same shard at once. Each call takes its stream's put lock once (for every
// shard it touches) to reserve a contiguous run of sequence numbers per shard
// (call order kept within the shard) and to register the runs as in flight,
// and once more to finish them; the RocksDB write happens with no lock held,
// so the runs of concurrent calls may commit in any order. Each shard keeps a
// visible tip: the largest sequence number S such that every run at or below S
// has finished (committed, or failed), and it rests only on the end of a
// committed run. The tip advances only over a prefix of finished runs, so
// readers, which never read above the tip, never see a gap that later fills
// in: everything at or below the tip is final.
// A failed write (RocksDB rejected the batch) is never acknowledged and none
// of its records is readable. Its numbers are given back when no later run is
// in flight (the next write reuses them: nobody saw them); when a later run
// commits, the tip moves past them and they stay a hole for good, which
// readers skip. Either way readers following the tip are never stuck behind a
// failed run. Because the tip never rests on a failed run, it never exceeds
// the last record in the log, so records visible before a kill -9 are in the
// WAL (the OS page cache at worst), survive it, and the next sequence number
// after restart exceeds every one a reader could have seen.
// Closing a shard (split/merge/update) reserves one more number as its ending
// sequence number as a run in flight; no record carries it. It commits with
// the reshard's metadata write (then SHARD_END is reached once the tip reaches
// it) or is given back if that write fails (the shard stays open; readers
// never saw it closing).
//
// Lock order: ShardStore::mu_ → Stream::mu → Shard::mu → Stream::put_mu →
// Shard::watch_mu. No lock is held across a RocksDB write.
//
// Thread-safety: as annotated. `mu` guards what readers and reshards use; the
// put path's bookkeeping is guarded by the stream's put_mu (see Shard::mu);
// `tip` is read without a lock (acquire) by readers.
#ifndef TRIBUTARY_SHARD_STORE_SHARD_STATE_H_
#define TRIBUTARY_SHARD_STORE_SHARD_STATE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/numeric/int128.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "proto/streams.pb.h"
#include "shard_store/hash_key.h"
#include "shard_store/shard_watch.h"

namespace tributary::shard_store {

// One run of sequence numbers reserved by a put and not yet finished.
struct InFlight {
  uint64_t last;
  bool done = false;
  bool ok = false;  // committed (set with done)
};

class ShardWatcherRegistration;

struct ShardState {
  // `put_mu_in`: the stream's put_mu (the stream outlives its shards' use).
  ShardState(uint32_t index_in, absl::uint128 start, absl::uint128 end, absl::Mutex* put_mu_in)
      : index(index_in),
        id(ShardIdFromIndex(index_in)),
        starting_hash_key(start),
        ending_hash_key(end),
        put_mu(put_mu_in) {}

  const uint32_t index;
  const std::string id;
  const absl::uint128 starting_hash_key;
  const absl::uint128 ending_hash_key;
  int64_t parent_index = -1;
  int64_t adjacent_parent_index = -1;
  uint64_t starting_sequence_number = 1;
  int64_t created_ms = 0;

  // Two locks. `mu` guards what readers and reshards use; the put path's
  // bookkeeping (sequence numbers, runs in flight, arrival time, token buckets)
  // is guarded by the stream's `put_mu` instead, so that a put takes one lock a
  // call for all the shards it touches rather than a lock per shard (at 10,000
  // shards a 500-record call touches ~490 shards; per-shard locking was a top
  // cost, mostly absl's deadlock-detection bookkeeping per lock). The flags a
  // put must see (closed, closing, removed) and ending_seq/closed_ms are
  // written holding both locks, so either one is enough to read them.
  absl::Mutex mu;
  absl::Mutex* const put_mu;
  // For the put path, which holds the stream's put_mu once for every shard of a call: says to
  // the thread-safety analysis that this shard's put_mu is that lock (it cannot see that the
  // pointer was set from the stream), and checks that it is held.
  void AssertPutMuHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK(put_mu) { put_mu->AssertHeld(); }
  uint64_t next_seq ABSL_GUARDED_BY(put_mu) = 1;
  int64_t last_arrival_ms ABSL_GUARDED_BY(put_mu) = 0;
  std::deque<InFlight> in_flight ABSL_GUARDED_BY(put_mu);
  bool closed = false;  // written under mu + put_mu
  // A reshard is writing the metadata that closes this shard: puts wait for
  // the new shard set as for a closed shard, readers still see it open.
  bool closing = false;     // written under mu + put_mu
  uint64_t ending_seq = 0;  // written under mu + put_mu
  int64_t closed_ms = 0;    // written under mu + put_mu
  bool removed = false;     // written under mu + put_mu; stream deleted or shard trimmed away
  uint64_t trimmed_through ABSL_GUARDED_BY(mu) = 0;
  std::vector<uint32_t> children ABSL_GUARDED_BY(mu);
  // Token buckets (only with write limits).
  double record_tokens ABSL_GUARDED_BY(put_mu) = 0;
  double byte_tokens ABSL_GUARDED_BY(put_mu) = 0;
  // When the buckets were last refilled (monotonic: a wall step back must not drain them).
  MonotonicTime bucket_at ABSL_GUARDED_BY(put_mu) = MonotonicTime::InfinitePast();
  // Every sequence number ≤ tip is final (see above). Written under put_mu.
  std::atomic<uint64_t> tip{0};
  // Threads in WaitForRecords on this shard. A put that advances the tip
  // locks and unlocks `mu` only when this is non-zero (absl re-evaluates the
  // waiters' conditions on unlock); see WakeTipWaitersAfterFence.
  std::atomic<int> tip_waiters{0};

  // Called after the tip may have advanced (no lock held) and after a
  // sequentially consistent fence that follows the tip's store: wakes the
  // threads in WaitForRecords, if any. The waiter registers (tip_waiters),
  // fences, then reads the tip; the writer stores the tip, fences, then reads
  // tip_waiters; so either the waiter sees the new tip or the writer sees the
  // waiter (one fence serves every shard of a call).
  void WakeTipWaitersAfterFence() {
    if (tip_waiters.load(std::memory_order_relaxed) == 0) return;
    absl::MutexLock lock(&mu);
  }

  absl::Mutex watch_mu ABSL_ACQUIRED_AFTER(mu);
  std::list<std::function<void()>*> watchers ABSL_GUARDED_BY(watch_mu);
  std::atomic<int> watcher_count{0};

  void Notify() {
    if (watcher_count.load(std::memory_order_acquire) == 0) return;
    absl::MutexLock lock(&watch_mu);
    for (std::function<void()>* w : watchers) (*w)();
  }

  // Finishes the run ending at `ticket` (committed when `ok`) and advances the
  // tip over the prefix of finished runs, to the end of the last committed one
  // in it: the tip never rests on numbers of a failed write, so it stays ≤ what
  // recovery finds in the log, and after a restart no visible number is reused.
  // Once nothing is in flight, the numbers above the tip can only belong to
  // failed writes; nobody has seen them, so they are given back (the next
  // write continues after the tip, no hole). A failed run followed by a
  // committed one is skipped for good (a hole readers pass over).
  void Finish(InFlight* ticket, bool ok) ABSL_EXCLUSIVE_LOCKS_REQUIRED(put_mu) {
    ticket->done = true;
    ticket->ok = ok;
    uint64_t t = tip.load(std::memory_order_relaxed);
    while (!in_flight.empty() && in_flight.front().done) {
      if (in_flight.front().ok) t = in_flight.front().last;
      in_flight.pop_front();
    }
    if (in_flight.empty()) next_seq = t + 1;
    tip.store(t, std::memory_order_release);
  }

  // Starts closing the shard (puts now wait): reserves the ending sequence
  // number as a run in flight, which CommitClose or AbortClose finishes once
  // the metadata write has succeeded or failed. Readers see the shard open
  // until CommitClose.
  InFlight* BeginClose(int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu, put_mu) {
    closing = true;
    closed_ms = now_ms;
    ending_seq = next_seq++;
    in_flight.push_back({ending_seq});
    return &in_flight.back();
  }
  void CommitClose(InFlight* ticket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu, put_mu) {
    closing = false;
    closed = true;
    Finish(ticket, true);
  }
  void AbortClose(InFlight* ticket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu, put_mu) {
    closing = false;
    closed_ms = 0;
    ending_seq = 0;
    Finish(ticket, false);
  }

  v1::HashKeyRange Range() const {
    v1::HashKeyRange r;
    r.set_starting_hash_key(FormatHashKey(starting_hash_key));
    r.set_ending_hash_key(FormatHashKey(ending_hash_key));
    return r;
  }
};

// A callback in a Shard's watcher list (what WatchShard returns): registered on construction,
// removed on destruction under the shard's watch_mu, so once the destructor returns the callback
// is not running and will not run again (Notify calls watchers under watch_mu).
class ShardWatcherRegistration : public ShardWatch {
 public:
  ShardWatcherRegistration(std::shared_ptr<ShardState> shard, std::function<void()> callback)
      : shard_(std::move(shard)), callback_(std::move(callback)) {
    absl::MutexLock lock(&shard_->watch_mu);
    it_ = shard_->watchers.insert(shard_->watchers.end(), &callback_);
    shard_->watcher_count.fetch_add(1);
  }
  ~ShardWatcherRegistration() override {
    absl::MutexLock lock(&shard_->watch_mu);
    shard_->watchers.erase(it_);
    shard_->watcher_count.fetch_sub(1);
  }

 private:
  std::shared_ptr<ShardState> shard_;
  std::function<void()> callback_;
  std::list<std::function<void()>*>::iterator it_;
};

}  // namespace tributary::shard_store

#endif  // TRIBUTARY_SHARD_STORE_SHARD_STATE_H_
