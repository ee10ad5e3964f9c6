// The lease table: which poller works on which (event-source mapping, shard), fenced by lease
// counters, renewed by poller heartbeats, parents before children, balanced across pollers.
// No gRPC here: leasing_service.h adapts it to tributary.v1.Leasing (proto/leasing.proto, whose
// comments are the contract this class implements).
//
// Liveness. A lease does not carry its own expiry: it is alive while its owner is. A poller is
// live until `lease_duration` after its last heartbeat (RegisterPoller, Heartbeat and
// AcquireLeases count as heartbeats); a lease whose owner is not live (or not registered) is
// expired and may be acquired by another poller. So a heartbeat is one poller row written, O(1),
// whatever the number of leases held, and a lease row changes only when its owner, checkpoint or
// links change. Liveness and min_hold are measured on the clock's monotonic reading, kept in
// memory: a step of the wall clock (NTP) neither expires nor extends any lease. The wall times
// stored and shown (last heartbeat, moved_at, lease_expiration) are for operators and decide
// nothing.
//
// Fencing. Every change of owner (a grant, a release) increments `lease_counter`. ReleaseLease
// and Checkpoint must name the current owner and counter, else FAILED_PRECONDITION and nothing
// changes. Example: P1 holds lease L at counter 3 and stops heartbeating; after the lease duration
// P2 acquires L (counter 4); P1 wakes and checkpoints L at counter 3: rejected, checkpoint kept.
//
// Parents first. A lease is assignable when its mapping is enabled, it is not at SHARD_END, and
// every parent shard's lease (same mapping) is at SHARD_END or does not exist (trimmed). A split
// child waits for its one parent; a merge child for both.
//
// Balance. Each live poller's target is the fair share of the assignable leases: ceil(assignable
// / live pollers), capped by the poller's capacity; what capped pollers cannot take is spread
// over the others (the smallest level L with sum(min(capacity, L)) >= assignable). Example: 10
// assignable leases, pollers of capacity 2 and 100 → targets 2 and 8. AcquireLeases grants up to
// target − held, unowned leases first, then expired ones. A poller holding more than its target is
// told in its heartbeat reply which leases to give back (it finishes its batch, checkpoints and
// releases: no steal mid-batch), but only leases it has held for at least `min_hold` so that
// leases do not flap as pollers come and go. A live owner never loses a lease except by
// releasing it (or the lease's deletion).
//
// Persistence. Every state change is one atomic LeaseStore write, made before memory changes:
// a failed write changes nothing. The indexes (by owner, assignable-and-unowned, children by
// parent; the lease map itself is ordered by mapping) are rebuilt from the store at Create.
// Heartbeat writes are never synced (a lost heartbeat only shortens a poller's life, and the
// restart grace below covers it); other writes are synced when `sync_writes` is set.
//
// Restart grace. After Create, every registered poller counts as live until one lease duration
// from then (by the monotonic clock; stored heartbeat times are not compared with the clock): a
// restarted leasing server does not expire every lease at once, and live pollers have a full
// duration to heartbeat again. Likewise every held lease counts as moved at Create for min_hold.
// Safe because correctness rests on the counters, not on expiry, which only decides when an
// abandoned lease moves.
//
// Forgetting dead pollers. A poller that has not heartbeated for `forget_poller_after` (counted
// from the table's open time at the earliest, like the restart grace) is removed by the next
// AcquireLeases, exactly as DeregisterPoller would (its leases released, counters incremented):
// pollers are named per process (host-pid), so without this every crashed poller would stay
// registered forever. Should it come back, its heartbeat gets NOT_FOUND, it registers again and
// finds it holds nothing. The sweep runs at most once per lease duration.
//
// Costs (n leases, p pollers, h leases held by the caller, g leases granted):
// Heartbeat O(h), plus O(p log p) only when the poller holds more than min(capacity,
// ceil(assignable / registered pollers)); AcquireLeases O(p log p + h + g log n);
// Checkpoint/Release O(log n + children). Nothing per heartbeat or acquire looks at every lease.
//
// Thread-safe. One mutex, mu_, serializes every call, and a call that changes anything holds it
// across its LeaseStore write: the one deliberate exception to STYLE §6. A call checks the rows
// (owner, counter, checkpoint; for balance, every poller's liveness), writes whole rows computed
// from them, then applies them to memory. Check, write and apply must be one step against every
// other change, or:
// - two AcquireLeases that both see lease L unowned at counter 3 both grant it at counter 4, to
//   P1 and to P2: each is told it owns L at 4, so the fence no longer tells them apart, and the
//   store keeps the row written last while memory keeps the one applied last;
// - a Checkpoint by P1 at counter 4 and an AcquireLeases by P2 of the expired lease both copy the
//   old row: if the grant is written last the acknowledged checkpoint is lost from the store (it
//   moves back); if the checkpoint is, the grant is, and after a restart P1 owns L at counter 4
//   on disk while P2 processed it at counter 5.
// Not holding the lock across the write would take per-lease locks (but AcquireLeases and
// Heartbeat read every poller for the balance targets) or a commit order (each call staged on
// memory plus the writes still in flight, written in that order), where a failed write must fail
// every later call staged on it: "a failed write changes nothing" would no longer hold per call.
// Cost (lease_bench in tools/bench/leasing, -c opt, 10,000 leases, on 2 shared cores): without
// sync_writes the write is ~7 µs of a Checkpoint's ~11 µs (p50), and 8 threads checkpoint
// 31,000-67,000 times/s, as many as RocksDB takes the same writes from 8 threads with no table
// (49,000-67,000/s). With sync_writes every change, and every read waiting behind it, waits for an
// fsync under the lock (Checkpoint p50 0.27-3.9 ms): 8 threads get 450-600 checkpoints/s where
// RocksDB alone commits 7,000-9,000 writes/s in groups. The remedy is a group commit inside the
// table, not releasing the lock: Checkpoint calls (the frequent change; etcd, issue 19, takes
// ~1 ms a Txn) that arrive while a write is in flight queue, and the next one to get the lock
// writes all of them in one store write, each checked on its own.
#ifndef TRIBUTARY_LEASING_LEASE_TABLE_H_
#define TRIBUTARY_LEASING_LEASE_TABLE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "leasing/lease_store.h"

namespace tributary::leasing {

struct LeaseTableOptions {
  // A lease whose owner has not heartbeated for this long is expired. > 0.
  absl::Duration lease_duration = absl::Seconds(10);
  // A lease granted to a poller is not asked back for balance before this much time. >= 0.
  absl::Duration min_hold = absl::Seconds(30);
  // fsync every write except heartbeats (power-loss durability). Off: writes survive a process
  // crash (kill -9) through the WAL.
  bool sync_writes = false;
  // A poller silent for this long is forgotten (see the file comment). >= lease_duration.
  absl::Duration forget_poller_after = absl::Hours(1);
};

// The pollers' text for a successful invocation (MappingSummary's tie rule).
inline constexpr char kOkProcessingResult[] = "OK";

// The last error a poller saw on a lease's shard, as its heartbeat reported it. Opaque to
// leasing: the kinds are the poller's (poller/runtime/metrics.h). Empty kind: none reported.
struct LeaseError {
  std::string kind;
  std::string message;
  absl::Time time = absl::InfinitePast();  // when the poller saw it (its clock)
};

// A lease as read: the stored row plus what is computed at read time.
struct Lease {
  LeaseRecord record;
  absl::Time last_renewal_time = absl::InfinitePast();  // the owner's last heartbeat
  // The owner's last report (memory only; 0 from a new owner until it reports). nullopt when
  // nobody works on the shard (no owner, or the owner is not live): unknown, not 0.
  std::optional<int64_t> iterator_age_ms;
  // The last processing result a poller reported ("OK", "PROBLEM: ..."; empty before any) and
  // when that poller observed it; memory only, kept across owner changes until the new owner
  // reports (see LeaseProgress).
  std::string last_processing_result;
  absl::Time last_processing_result_time = absl::InfinitePast();
  // The last error a poller reported (see LeaseProgress); memory only, kept like the result.
  LeaseError last_error;
  bool expired = false;     // owned, and the owner is not live
  bool assignable = false;  // enabled, not at SHARD_END, every parent done or gone
};

// What CreateLeases takes for each lease.
struct NewLease {
  LeaseKey key;
  std::string stream_name;
  std::vector<std::string> parent_shard_ids;
  Checkpoint initial_checkpoint;
  bool enabled = true;
};

struct HeldLease {
  LeaseKey key;
  int64_t lease_counter = 0;
};

// A poller's progress report on one lease, carried by its heartbeat.
struct LeaseProgress {
  LeaseProgress() = default;
  // An iterator age report (no processing result).
  LeaseProgress(LeaseKey key_in, int64_t iterator_age_ms_in)
      : key(std::move(key_in)), iterator_age_ms(iterator_age_ms_in) {}

  LeaseKey key;
  int64_t iterator_age_ms = 0;
  // The outcome of the poller's last invocation on the lease and when it observed it. Empty:
  // nothing reported this time (the stored result is kept). Without a time (InfinitePast) the
  // table stamps the heartbeat's time.
  std::string last_processing_result;
  absl::Time last_processing_result_time = absl::InfinitePast();
  // The last error the poller saw on the lease's shard. An empty kind: nothing reported this
  // time (the stored error is kept); otherwise it replaces the stored one like a result does.
  // Without a time (InfinitePast) the table stamps the heartbeat's time.
  LeaseError last_error;
};

// What the pollers last reported on one mapping's leases (SummarizeLeases).
struct MappingSummary {
  std::string mapping_uuid;
  // The newest processing result among the leases, by its time; on a tie of times a result
  // other than "OK" wins (a failure is not hidden by a success seen at the same instant), then
  // the first lease in key order. Empty when no lease carries one.
  std::string last_processing_result;
  absl::Time last_processing_result_time = absl::InfinitePast();
  // The newest error among the leases, by its time (on a tie the first lease in key order), and
  // the shard of its lease. Empty kind when no lease carries one.
  LeaseError last_error;
  std::string last_error_shard_id;
};

struct HeartbeatResult {
  std::vector<HeldLease> owned;      // every lease the poller owns now
  std::vector<LeaseKey> to_release;  // give these back (balance, disabled, finished)
  // When the poller's leases expire without a heartbeat, as a wall timestamp for display (the
  // table decides by its monotonic clock; a wall step since does not move the expiry).
  absl::Time lease_expiration;
};

struct PollerInfo {
  std::string poller_id;
  int capacity = 0;
  absl::Time last_heartbeat;  // wall time, for display
  bool live = false;
  int lease_count = 0;
};

// ListLeases filters; an empty field matches anything.
struct LeaseFilter {
  std::string mapping_uuid;
  std::string owner;
  std::string shard_id;
};

struct LeasePage {
  std::vector<Lease> leases;
  std::string next_token;  // empty when this is the last page
};

class LeaseTable {
 public:
  // Loads every row from `store` and builds the indexes. `clock` and `store` must outlive the
  // table. Errors: INVALID_ARGUMENT for bad options; those of LeaseStore::Load (DATA_LOSS for a
  // row that does not decode).
  static absl::StatusOr<std::unique_ptr<LeaseTable>> Create(Clock& clock, LeaseStore& store,
                                                            LeaseTableOptions options = {});

  LeaseTable(const LeaseTable&) = delete;
  LeaseTable& operator=(const LeaseTable&) = delete;

  const LeaseTableOptions& options() const { return options_; }

  // Creates the leases that do not exist yet, unowned, at their initial checkpoint. Idempotent:
  // an existing lease keeps its owner, counter, checkpoint and enabled flag; parent ids it lacks
  // are added. Each lease's child_shard_ids is kept in step: a new lease is added to the
  // children of its existing parents, and a new parent learns its existing children. Returns how
  // many leases were created; the whole call is one write. Any checkpoint type is accepted as
  // the initial one. Errors: INVALID_ARGUMENT for an empty mapping uuid, shard id or parent shard
  // id, or a lease that names itself as a parent (nothing is created); the store's.
  absl::StatusOr<int> CreateLeases(const std::vector<NewLease>& leases);

  // Deletes the leases in `keys` and, when `mapping_uuid` is not empty, every lease of that
  // mapping. Missing leases are ignored. Children of a deleted lease may become assignable (a
  // trimmed parent counts as done). Returns how many were deleted. Errors: the store's.
  absl::StatusOr<int> DeleteLeases(const std::vector<LeaseKey>& keys,
                                   const std::string& mapping_uuid);

  // Enables or disables every lease of `mapping_uuid`. A disabled lease is not assignable and its
  // holder is told to release it; checkpoints are kept. Returns the mapping's lease count
  // (0 for an unknown mapping). Idempotent. Errors: the store's.
  absl::StatusOr<int> SetMappingEnabled(const std::string& mapping_uuid, bool enabled);

  // Registers `poller_id` with `capacity` (>= 1), or updates the capacity of a registered one;
  // counts as a heartbeat. Idempotent. Errors: INVALID_ARGUMENT for an empty id or capacity < 1;
  // the store's.
  absl::Status RegisterPoller(const std::string& poller_id, int capacity);

  // Unregisters the poller and releases every lease it holds at once (counter incremented, as
  // for ReleaseLease), in one write. Returns how many leases were released. Errors: NOT_FOUND
  // for a poller not registered; the store's.
  absl::StatusOr<int> DeregisterPoller(const std::string& poller_id);

  // Renews every lease the poller holds (one poller row written). `progress` reports iterator
  // ages and processing results, kept in memory for the leases the poller owns (reports on
  // others, e.g. from a poller fenced out by a new owner, are ignored). An age replaces the
  // stored one; a non-empty result replaces the stored result and its time (whatever that time
  // says: the owner's latest report wins), an empty one keeps it; an error (non-empty kind)
  // likewise. An owner change resets the age to 0 but keeps the result and the error until the
  // new owner reports its own. Returns every
  // lease the poller owns now, with counters, and those it should give back: leases that are no
  // longer assignable (mapping disabled, SHARD_END) and, when it holds more than its target,
  // enough of those held for at least `min_hold`. A lease the poller thought it held and that is
  // not in `owned` was lost. Errors: NOT_FOUND for a poller not registered (register again);
  // the store's.
  absl::StatusOr<HeartbeatResult> Heartbeat(const std::string& poller_id,
                                            const std::vector<LeaseProgress>& progress = {});

  // Counts as a heartbeat, then grants the poller up to (its target − assignable leases it
  // holds), also never past its capacity: unowned assignable leases first (in key order), then
  // assignable leases of pollers that are not live. Each grant sets the owner, increments the
  // counter and owner_switches_since_checkpoint. Returns the newly granted leases (maybe none).
  // All grants are one write. Errors: NOT_FOUND for a poller not registered; the store's.
  absl::StatusOr<std::vector<Lease>> AcquireLeases(const std::string& poller_id);

  // Gives a lease back: unowned, counter incremented, checkpoint kept. Errors: NOT_FOUND for an
  // unknown lease; FAILED_PRECONDITION when `poller_id` is not the owner or `lease_counter` is
  // not the current counter (nothing changes); the store's.
  absl::Status ReleaseLease(const LeaseKey& key, const std::string& poller_id,
                            int64_t lease_counter);

  // Moves the lease's checkpoint forward and resets owner_switches_since_checkpoint. `checkpoint`
  // is kSequenceNumber or kShardEnd. Never backwards: a sequence number not greater than the
  // current one (compared as unsigned 64-bit integers), or any sequence number once at SHARD_END,
  // is accepted and ignored (the lease is returned unchanged). SHARD_END is final and lets the
  // children be assigned. Returns the lease after the call. Errors: INVALID_ARGUMENT for another
  // checkpoint type; NOT_FOUND for an unknown lease; FAILED_PRECONDITION when `poller_id` is not
  // the owner or `lease_counter` is stale (checkpoint unchanged); the store's. Expiry alone does
  // not fence: an owner whose lease expired but was not yet acquired by anyone still holds the
  // current counter and may checkpoint; once another poller acquires it, it is rejected.
  //
  // Group commit: checkpoints that arrive while another group of checkpoints is being written
  // are written together in the next store write, each checked on its own as above. If that
  // write fails, each of them fails with the store's error and none changed anything.
  absl::StatusOr<Lease> Checkpoint(const LeaseKey& key, const std::string& poller_id,
                                   int64_t lease_counter, const leasing::Checkpoint& checkpoint);

  // An operator's move of the lease's checkpoint (issue 23), forwards or backwards. In one
  // write: the checkpoint becomes `checkpoint` (kSequenceNumber, kTrimHorizon, kLatest or
  // kAtTimestamp: the symbolic ones are starts the next owner resolves when it opens the shard),
  // the owner is cleared and the counter incremented, as ReleaseLease would; the progress
  // reports (age) go with the owner. So the owner's Checkpoint at the old counter is refused
  // (FAILED_PRECONDITION) and can never carry the checkpoint past the new position; its next
  // heartbeat no longer lists the lease, and the next AcquireLeases grants it from `checkpoint`.
  // owner_switches_since_checkpoint is reset. A lease at SHARD_END may be moved back (its
  // children stop being assignable until it reaches SHARD_END again). Returns the lease before
  // and after the move. Errors: INVALID_ARGUMENT for kShardEnd; NOT_FOUND for an unknown lease;
  // the store's (nothing changed). Example: P1 holds L at counter 3 with checkpoint 120; a move
  // to kTrimHorizon leaves L unowned at counter 4; P1's Checkpoint(L, 3, 130) is refused; P2
  // acquires L at counter 5 and reads from the oldest retained record.
  struct MovedCheckpoint {
    Lease before;
    Lease after;
  };
  absl::StatusOr<MovedCheckpoint> MoveCheckpoint(const LeaseKey& key,
                                                 const leasing::Checkpoint& checkpoint);

  // For tests: blocks until at least `n` Checkpoint calls wait for the next group write, or
  // `real_timeout` (a failure guard, real time) passed. Returns OK once they do; else
  // DEADLINE_EXCEEDED "waited <real_timeout> for <n> queued checkpoints; last seen: <k> queued
  // checkpoints" (common/await.h).
  absl::Status WaitForQueuedCheckpoints(int n, absl::Duration real_timeout);

  // Errors: NOT_FOUND for an unknown lease.
  absl::StatusOr<Lease> GetLease(const LeaseKey& key);

  // The leases matching `filter` in key order (mapping uuid, then shard id), at most
  // `max_results` (>= 1), starting after `page_token` (empty: from the start; else a
  // next_token of an earlier page). Errors: INVALID_ARGUMENT for a page token that does not
  // decode or max_results < 1.
  absl::StatusOr<LeasePage> ListLeases(const LeaseFilter& filter, int max_results,
                                       const std::string& page_token);

  // Every registered poller, by id.
  std::vector<PollerInfo> ListPollers();

  // Whether `poller_id` is registered and live now (heard from within the lease duration, or
  // within the restart grace). Reads memory only. The invocation slots (invocation_slots.h)
  // expire with it.
  bool IsPollerLive(const std::string& poller_id);

  // One summary per uuid of `mapping_uuids`, in that order (see MappingSummary; an unknown
  // mapping gets an empty one). Reads memory only: O(leases of those mappings), no write.
  std::vector<MappingSummary> SummarizeLeases(const std::vector<std::string>& mapping_uuids);

  // Leases AcquireLeases granted since Create whose owner was not live (expired leases taken
  // over), for the expirations metric (leasing_metrics.h). Lock-free.
  int64_t expired_leases_acquired() const { return expired_leases_acquired_.load(); }

 private:
  struct LeaseEntry {
    LeaseRecord record;
    bool assignable = false;  // derived; kept in step by Index/Unindex
    int64_t iterator_age_ms = 0;
    std::string last_processing_result;  // memory only, like iterator_age_ms
    absl::Time last_processing_result_time = absl::InfinitePast();
    LeaseError last_error;  // memory only, like the result
    // When the current owner was granted the lease (the table's open time for a lease owned
    // then); min_hold counts from here. Memory only; record.moved_at is its wall twin.
    MonotonicTime moved_at;
  };
  struct PollerEntry {
    PollerRecord record;
    // The last heartbeat (or the table's open time, for a poller loaded then) + lease duration.
    // When the store keeps liveness: InfiniteFuture while its liveness key exists, else when
    // this table learnt it was gone (so the forget sweep counts silence from about then).
    MonotonicTime live_until;
  };
  // A Checkpoint call waiting for its group's write (see Checkpoint). Lives on the caller's
  // stack; the group's writer fills `result` (holding mu_), then sets `done` under queue_mu_,
  // after which only the caller touches it.
  struct PendingCheckpoint {
    const LeaseKey* key;
    const std::string* poller_id;
    int64_t lease_counter;
    const leasing::Checkpoint* checkpoint;
    absl::StatusOr<Lease> result = absl::UnknownError("not written yet");
    bool done = false;
    absl::CondVar wake{};  // signalled (under queue_mu_) when done or when it may write a group
  };
  // Staged changes: a value of nullopt deletes.
  struct Mutation {
    std::map<LeaseKey, std::optional<LeaseRecord>> leases;
    std::map<std::string, std::optional<PollerRecord>> pollers;
    // Heartbeats (LeaseStoreWrite::renew_pollers); never a poller also in `pollers`.
    std::map<std::string, PollerRecord> renew_pollers;
    std::set<std::string> check_pollers;  // LeaseStoreWrite::check_pollers
    bool sync = false;
  };
  // How often a call computed from rows another replica had changed is computed again (shared
  // stores, lease_store.h); after that it fails with the conflict (ABORTED: retry).
  static constexpr int kConflictAttempts = 8;

  LeaseTable(Clock& clock, LeaseStore& store, LeaseTableOptions options);

  // Writes `m` to the store, then applies it to memory. On a store error memory is unchanged.
  // Every poller row `m` puts is a heartbeat heard now; every owner it sets was granted now.
  absl::Status Commit(Mutation m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies `m` to memory (not to the store): every lease whose owner it changes was granted at
  // `now`. Every poller row it puts or renews is a heartbeat heard at `now`, except when the
  // store keeps liveness (LeaseStore::KeepsLiveness): then a poller this table wrote
  // (`external` false) is live, and one another replica wrote keeps its liveness (a new one is
  // dead until the store says it is live).
  void Apply(Mutation m, MonotonicTime now, bool external) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies the rows other replicas changed (LeaseStore::TakeExternalChanges). Every call that
  // reads or writes the table does this first.
  void CatchUp() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `attempt` (which takes mu_ itself) again while it fails with a store conflict, at most
  // kConflictAttempts times in all: each attempt starts from the rows the conflict brought in.
  // Over a shared store, a refusal from memory (NOT_FOUND, FAILED_PRECONDITION) is checked once
  // against every change made before it (LeaseStore::Barrier) and the call computed again.
  template <typename Attempt>
  std::invoke_result_t<const Attempt&> RetryConflicts(const Attempt& attempt)
      ABSL_LOCKS_EXCLUDED(mu_) {
    auto result = attempt();
    bool barrier_passed = false;
    for (int i = 1; i < kConflictAttempts; ++i) {
      const absl::Status status = StatusOf(result);
      if (!IsLeaseStoreConflict(status)) {
        const bool refused = status.code() == absl::StatusCode::kNotFound ||
                             status.code() == absl::StatusCode::kFailedPrecondition;
        if (!refused || barrier_passed) break;
        absl::StatusOr<bool> shared = store_.Barrier();
        if (!shared.ok() || !*shared) break;
        barrier_passed = true;
      }
      result = attempt();
    }
    return result;
  }
  static const absl::Status& StatusOf(const absl::Status& s) { return s; }
  template <typename T>
  static absl::Status StatusOf(const absl::StatusOr<T>& s) {
    return s.status();
  }
  // Checks, writes (one store write) and fills the result of every checkpoint of `group`.
  void CommitCheckpoints(const std::vector<PendingCheckpoint*>& group)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyLease(const LeaseKey& key, std::optional<LeaseRecord> record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Puts (or, with nullopt, removes) the poller, live until `live_until`.
  void ApplyPoller(const std::string& id, std::optional<PollerRecord> record,
                   MonotonicTime live_until) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Index(const LeaseEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unindex(const LeaseEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ComputeAssignable(const LeaseRecord& record) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The lease as `m` would leave it (nullptr when missing or deleted).
  const LeaseRecord* Staged(const Mutation& m, const LeaseKey& key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A copy of the lease staged in `m` for the caller to change (nullptr when missing or
  // deleted).
  LeaseRecord* MutableStaged(Mutation* m, const LeaseKey& key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IsLive(const std::string& poller_id, MonotonicTime now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stages in `m` the removal of `poller_id` and the release of every lease it owns; returns how
  // many leases.
  int StageDeregister(const std::string& poller_id, Mutation* m) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets the pollers other than `spare` silent for forget_poller_after (one write), at most
  // once per lease duration.
  absl::Status ForgetSilentPollers(MonotonicTime now, const std::string& spare)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The balance target of every live poller (see the file comment).
  absl::flat_hash_map<std::string, int> Targets(MonotonicTime now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A heartbeat row for `poller_id` at wall time `wall_now`. Precondition: registered.
  PollerRecord Renewed(const std::string& poller_id, absl::Time wall_now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Lease ToLease(const LeaseEntry& entry, MonotonicTime now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<const LeaseEntry*> FindFenced(const LeaseKey& key, const std::string& poller_id,
                                               int64_t lease_counter) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock& clock_;
  LeaseStore& store_;
  const LeaseTableOptions options_;
  const bool store_keeps_liveness_;  // store_.KeepsLiveness()
  const MonotonicTime opened_at_;
  MonotonicTime next_forget_sweep_ ABSL_GUARDED_BY(mu_) = MonotonicTime::InfinitePast();

  absl::Mutex mu_;
  // Checkpoint calls waiting for the next group write (group commit), and whether a group is
  // being written. Never held together with mu_.
  absl::Mutex queue_mu_;
  std::vector<PendingCheckpoint*> queued_checkpoints_ ABSL_GUARDED_BY(queue_mu_);
  bool committing_checkpoints_ ABSL_GUARDED_BY(queue_mu_) = false;
  // Every lease, ordered by (mapping, shard): also the by-mapping index.
  std::map<LeaseKey, LeaseEntry> leases_ ABSL_GUARDED_BY(mu_);
  // Owner → the leases it owns, pointing into leases_ (an owner that is not registered is not
  // live: its leases are expired).
  absl::flat_hash_map<std::string, std::map<LeaseKey, const LeaseEntry*>> by_owner_
      ABSL_GUARDED_BY(mu_);
  // (mapping, parent shard id) → shard ids of the leases that name it as a parent.
  absl::flat_hash_map<LeaseKey, std::set<std::string>> children_by_parent_ ABSL_GUARDED_BY(mu_);
  // Assignable leases with no owner, in key order; and how many leases are assignable at all.
  std::set<LeaseKey> unowned_assignable_ ABSL_GUARDED_BY(mu_);
  int64_t assignable_count_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, PollerEntry> pollers_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> expired_leases_acquired_{0};
};

}  // namespace tributary::leasing

#endif  // TRIBUTARY_LEASING_LEASE_TABLE_H_
