// The lease table on a 3-member etcd cluster while its leader is killed with SIGKILL in the middle
// of a stream of checkpoints from several threads (issue 19): no acknowledged checkpoint is lost,
// and no lease's checkpoint ever moves back, as seen by a watch on every row change. Prints how
// long checkpoints stalled. Real processes and real time (etcd elects on its own clock); the test
// waits for events, never for durations.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/testing/assertions.h"
#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "gtest/gtest.h"
#include "leasing/etcd_lease_store.h"
#include "leasing/lease_codec.h"
#include "leasing/lease_table.h"

namespace tributary::leasing {
namespace {

constexpr char kMapping[] = "esm-leader-kill";
constexpr int kLeases = 24;
constexpr int kThreads = 6;  // each checkpoints its own 4 leases, round robin
constexpr int kBeforeKill = 300;
constexpr int kAfterKill = 300;

std::string Shard(int i) { return absl::StrFormat("shardId-%06d", i); }

// Every put of a lease row under the prefix, in revision order, across watch restarts (a watch
// on a killed member ends; it is resumed elsewhere from the next revision).
class RowHistory {
 public:
  RowHistory(etcd::EtcdClient& client, std::string prefix)
      : client_(client), prefix_(std::move(prefix)), thread_([this] { Run(); }) {}
  ~RowHistory() {
    stop_.store(true);
    thread_.join();
  }
  // Lease shard id → every checkpoint sequence number written, in order.
  std::map<std::string, std::vector<uint64_t>> history() {
    absl::MutexLock lock(&mu_);
    return history_;
  }
  // Blocks (real time, a failure guard) until the watch saw `revision`; fails at once when the
  // history became incomplete (saying why).
  [[nodiscard]] ::testing::AssertionResult WaitForRevision(int64_t revision,
                                                           absl::Duration timeout) {
    const absl::Status waited = AwaitFor(
        mu_, timeout, absl::StrCat("revision ", revision),
        [this, revision]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return last_revision_ >= revision || !error_.empty();
        },
        [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return absl::StrCat("revision ", last_revision_);
        });
    if (!waited.ok()) return tributary::testing::IsOk(waited);
    if (const std::string e = error(); !e.empty()) {
      return ::testing::AssertionFailure() << "the watch's history is incomplete: " << e;
    }
    return ::testing::AssertionSuccess();
  }
  std::string error() {
    absl::MutexLock lock(&mu_);
    return error_;
  }

 private:
  void Run() {
    Clock& clock = RealClock::Get();
    int64_t next = 1;
    while (!stop_.load()) {
      absl::StatusOr<std::unique_ptr<etcd::EtcdWatch>> watch =
          client_.Watch(prefix_ + "leases/", true, next);
      if (!watch.ok()) continue;  // the client moved on to the next member; try again
      while (!stop_.load()) {
        absl::StatusOr<std::vector<etcd::WatchEvent>> events =
            (*watch)->Next(clock.MonotonicNow() + absl::Milliseconds(200));
        if (!events.ok()) {
          if (events.status().code() == absl::StatusCode::kOutOfRange) {
            absl::MutexLock lock(&mu_);
            error_ = std::string(events.status().message());  // a gap: history incomplete
            return;
          }
          break;
        }
        absl::MutexLock lock(&mu_);
        for (const etcd::WatchEvent& e : *events) {
          if (e.type != etcd::WatchEvent::Type::kPut) continue;
          // The row's key names the lease (the value does not, since the compact encoding);
          // these shard ids need no escaping.
          const std::string shard = e.kv.key.substr(e.kv.key.rfind('/') + 1);
          absl::StatusOr<LeaseRecord> r = DecodeLeaseOf({kMapping, shard}, e.kv.key, e.kv.value);
          if (!r.ok()) {
            error_ = std::string(r.status().message());
            continue;
          }
          history_[shard].push_back(r->checkpoint.sequence_number);
          last_revision_ = e.kv.mod_revision;
        }
      }
      next = (*watch)->last_revision() + 1;
    }
  }

  etcd::EtcdClient& client_;
  const std::string prefix_;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  std::map<std::string, std::vector<uint64_t>> history_ ABSL_GUARDED_BY(mu_);
  int64_t last_revision_ ABSL_GUARDED_BY(mu_) = 0;
  std::string error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

TEST(EtcdLeaderKillTest, NoAcknowledgedCheckpointIsLostOrMovesBackWhenTheLeaderDies) {
  absl::StatusOr<std::unique_ptr<etcd::testing::EtcdCluster>> cluster =
      etcd::testing::EtcdCluster::Start(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  etcd::EtcdClientOptions client_options;
  // A follower that has not noticed the leader's death hangs until the deadline (SCALEOUT.md).
  client_options.attempt_timeout = absl::Milliseconds(500);
  client_options.operation_timeout = absl::Seconds(20);
  std::unique_ptr<etcd::EtcdClient> client = (*cluster)->NewClient(client_options);
  const std::string prefix = "/leader-kill/";
  auto store = EtcdLeaseStore::Create(*client, {prefix, "leasing", nullptr});
  ASSERT_TRUE(store.ok()) << store.status();
  FakeClock lease_clock;  // lease time stands still: nobody expires
  auto table_or = LeaseTable::Create(lease_clock, **store);
  ASSERT_TRUE(table_or.ok()) << table_or.status();
  LeaseTable& table = **table_or;

  std::vector<NewLease> leases;
  for (int i = 0; i < kLeases; ++i) leases.push_back({{kMapping, Shard(i)}, "s", {}, {}, true});
  ASSERT_TRUE(table.CreateLeases(leases).ok());
  ASSERT_TRUE(table.RegisterPoller("p1", kLeases).ok());
  ASSERT_EQ(table.AcquireLeases("p1")->size(), static_cast<size_t>(kLeases));

  std::unique_ptr<etcd::EtcdClient> watch_client = (*cluster)->NewClient(client_options);
  RowHistory rows(*watch_client, prefix);

  // Writers: each checkpoints its leases with rising sequence numbers; an error (the election)
  // is retried with the same number, as a poller does.
  absl::Mutex ack_mu;
  int acknowledged = 0;  // guarded by ack_mu
  std::atomic<bool> stop{false};
  std::vector<std::map<std::string, uint64_t>> acked(kThreads);  // per thread: lease → highest
  std::vector<int> errors(kThreads, 0);
  std::atomic<int64_t> longest_stall_us{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      Clock& clock = RealClock::Get();
      uint64_t seq = 0;
      MonotonicTime last_ack = clock.MonotonicNow();
      for (int i = 0; !stop.load(); ++i) {
        const std::string shard = Shard(t + kThreads * (i % (kLeases / kThreads)));
        ++seq;
        while (!stop.load()) {
          absl::StatusOr<Lease> done = table.Checkpoint(
              {kMapping, shard}, "p1", 1,
              Checkpoint{CheckpointType::kSequenceNumber, seq, absl::UnixEpoch()});
          if (done.ok()) break;
          ++errors[t];
          ASSERT_NE(done.status().code(), absl::StatusCode::kFailedPrecondition) << done.status();
          ASSERT_NE(done.status().code(), absl::StatusCode::kAborted)
              << "the store turned stale: " << done.status();
        }
        if (stop.load()) break;
        const MonotonicTime now = clock.MonotonicNow();
        const int64_t stall = absl::ToInt64Microseconds(now - last_ack);
        int64_t seen = longest_stall_us.load();
        while (stall > seen && !longest_stall_us.compare_exchange_weak(seen, stall)) {
        }
        last_ack = now;
        acked[t][shard] = seq;
        absl::MutexLock lock(&ack_mu);
        ++acknowledged;
      }
    });
  }

  // Blocks until `n` checkpoints were acknowledged; the timeout is a failure guard.
  auto wait_for_acks = [&](int n) {
    absl::MutexLock lock(&ack_mu);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ack_mu) { return acknowledged >= n; };
    return ack_mu.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(120));
  };
  auto acknowledged_now = [&] {
    absl::MutexLock lock(&ack_mu);
    return acknowledged;
  };
  ASSERT_TRUE(wait_for_acks(kBeforeKill)) << "no steady stream of checkpoints";
  absl::StatusOr<int> leader = (*cluster)->Leader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  const int at_kill = acknowledged_now();
  (*cluster)->Kill(*leader);
  const bool went_on = wait_for_acks(at_kill + kAfterKill);
  stop.store(true);
  for (std::thread& w : writers) w.join();
  ASSERT_TRUE(went_on) << "checkpoints did not resume after the leader's death";
  std::printf("etcd leader (member %d) killed after %d checkpoints; %d acknowledged in all; "
              "longest stall between two acknowledgements of one writer: %.3f s\n",
              *leader, at_kill, acknowledged_now(), longest_stall_us.load() / 1e6);

  // Nothing acknowledged is lost: a fresh reader of etcd finds every lease at or past its
  // highest acknowledged checkpoint.
  std::unique_ptr<etcd::EtcdClient> reader = (*cluster)->NewClient(client_options);
  auto check = EtcdLeaseStore::Create(*reader, {prefix, "reader", nullptr});
  ASSERT_TRUE(check.ok());
  absl::StatusOr<LeaseStoreContents> contents = (*check)->Load();
  ASSERT_TRUE(contents.ok()) << contents.status();
  std::map<std::string, uint64_t> stored;
  for (const LeaseRecord& r : contents->leases) stored[r.key.shard_id] = r.checkpoint.sequence_number;
  int checked = 0;
  for (const std::map<std::string, uint64_t>& mine : acked) {
    for (const auto& [shard, seq] : mine) {
      EXPECT_GE(stored[shard], seq) << shard << ": an acknowledged checkpoint was lost";
      ++checked;
    }
  }
  EXPECT_EQ(checked, kLeases);

  // None moved back: every put of every lease row, in revision order, never lowers it.
  int64_t newest = 0;
  for (const LeaseRecord& r : contents->leases) {
    absl::StatusOr<std::optional<etcd::KeyValue>> kv = reader->Get(check.value()->LeaseKeyOf(r.key));
    ASSERT_TRUE(kv.ok() && kv->has_value());
    newest = std::max(newest, (*kv)->mod_revision);
  }
  ASSERT_TRUE(rows.WaitForRevision(newest, absl::Seconds(30)))
      << "the watch did not see every change: " << rows.error();
  int puts = 0;
  for (const auto& [shard, seqs] : rows.history()) {
    for (size_t i = 1; i < seqs.size(); ++i) {
      EXPECT_LE(seqs[i - 1], seqs[i]) << shard << " moved back at its change " << i;
    }
    puts += static_cast<int>(seqs.size());
    EXPECT_EQ(seqs.back(), stored[shard]) << shard;
  }
  EXPECT_GE(puts, acknowledged_now()) << "every acknowledged checkpoint is a put the watch saw";
}

}  // namespace
}  // namespace tributary::leasing
