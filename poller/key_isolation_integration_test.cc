// Per-key isolation (issue 23) end to end: the poller against the real shard store and leasing
// services in this process (the poller integration harness: loopback gRPC, one FakeClock). One
// poison key among 1,000 keys: every other key's records are delivered while the poison key is
// retried, per-key order holds, and a failover (the lease moves to another poller) while the key
// is parked loses nothing.
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/proto_util.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "leasing/testing/in_process_leasing.h"
#include "poller/grpc_adapters.h"
#include "poller/integration_test_fixture.h"
#include "poller/poller.h"
#include "poller/retrieval/shard_store_reader.h"
#include "poller/testing/fake_services.h"
#include "poller/testing/fakes.h"
#include "shard_store/shard_store_client.h"
#include "shard_store/shard_store_node.h"

namespace tributary::poller {
namespace {

using testing::kMapping;
using testing::kStream;
using testing::PollerUnderTest;

class KeyIsolationIntegrationTest : public testing::PollerIntegrationFixture {};

// Successful deliveries (calls the script answered without an error), per key, in order.
struct Deliveries {
  absl::Mutex mu;
  std::map<std::string, std::vector<uint64_t>> per_key ABSL_GUARDED_BY(mu);
  int64_t records ABSL_GUARDED_BY(mu) = 0;
  int64_t poison_alone ABSL_GUARDED_BY(mu) = 0;  // failed calls of one poison record

  // A function that fails every call holding a "poison" record while `fail` is set.
  testing::ScriptedFunction::Script Function(bool fail) {
    return [this, fail](const v1::InvokeRequest& request,
                        int) -> absl::StatusOr<v1::InvokeResponse> {
      v1::InvokeResponse r;
      absl::MutexLock lock(&mu);
      for (const v1::Record& rec : request.records()) {
        if (fail && rec.partition_key() == "poison") r.set_function_error("Unhandled");
      }
      if (!r.function_error().empty()) {
        if (request.records_size() == 1) ++poison_alone;
        return r;
      }
      for (const v1::Record& rec : request.records()) {
        per_key[rec.partition_key()].push_back(std::stoull(rec.sequence_number()));
        ++records;
      }
      return r;
    };
  }
  int64_t Records() {
    absl::MutexLock lock(&mu);
    return records;
  }
  int64_t PoisonAlone() {
    absl::MutexLock lock(&mu);
    return poison_alone;
  }
  std::map<std::string, std::vector<uint64_t>> PerKey() {
    absl::MutexLock lock(&mu);
    return per_key;
  }
};

void ExpectPerKeyOrder(const std::map<std::string, std::vector<uint64_t>>& delivered,
                       const std::string& who) {
  for (const auto& [key, seqs] : delivered) {
    for (size_t i = 1; i < seqs.size(); ++i) {
      ASSERT_LT(seqs[i - 1], seqs[i]) << who << ": key " << key << " out of order";
    }
  }
}

// Waits in real time (at most 60 s) until `done` holds for `d` (checked under its lock), running
// `step` every 10 ms meanwhile (a real-time wait on the mutex, not a sleep).
::testing::AssertionResult AwaitWhile(const std::string& what, Deliveries& d,
                                      const std::function<bool(const Deliveries&)>& done,
                                      const std::function<void()>& step) {
  struct Pending {
    const Deliveries* d;
    const std::function<bool(const Deliveries&)>* done;
    bool Eval() const { return (*done)(*d); }
  } pending{&d, &done};
  for (int i = 0; i < 6000; ++i) {
    {
      absl::MutexLock lock(&d.mu);
      if (d.mu.AwaitWithTimeout(absl::Condition(&pending, &Pending::Eval),
                                absl::Milliseconds(10))) {
        return ::testing::AssertionSuccess();
      }
    }
    step();
  }
  return ::testing::AssertionFailure() << "timed out waiting for " << what;
}

TEST_F(KeyIsolationIntegrationTest, OnePoisonKeyAmongAThousandKeysAndAFailoverLoseNothing) {
  config_.set_batch_size(100);
  config_.set_bisect_batch_on_function_error(true);
  config_.set_isolate_failing_keys(true);
  config_.set_config_version(2);
  mappings_.Set(config_);
  CreateLeases();
  const std::string shard = Shards().at(0).shard_id();

  // 2,000 records of keys k0..k999 (twice), and 8 of "poison" among them.
  std::vector<std::pair<std::string, uint64_t>> written;  // key, sequence number
  for (int i = 0; i < 2008; ++i) {
    v1::PutRecordRequest put;
    put.set_stream_name(kStream);
    put.set_partition_key(i % 251 == 100 ? "poison" : absl::StrCat("k", i % 1000));
    put.set_data(absl::StrCat("d", i));
    auto response = store_client_->PutRecord(put);
    ASSERT_TRUE(response.ok()) << response.status();
    written.emplace_back(put.partition_key(), std::stoull(response->sequence_number()));
  }
  int64_t poison = 0;
  uint64_t before_first_poison = 0;
  for (const auto& [key, seq] : written) {
    if (key != "poison") continue;
    if (poison++ == 0) before_first_poison = seq - 1;
  }
  ASSERT_EQ(poison, 8);

  Deliveries first, second;
  PollerUnderTest& p1 = NewPoller("p1");
  p1.function.SetScript(first.Function(/*fail=*/true));
  ASSERT_TRUE(p1.poller->RunOnce().ok());
  // Every other key's records are delivered while the poison key is parked.
  ASSERT_TRUE(AwaitWhile(
      "every other key's records", first,
      [](const Deliveries& d) ABSL_NO_THREAD_SAFETY_ANALYSIS { return d.records == 2000; },
      [] {}));
  // The poison key is retried (parked retries are due on the clock): move it, heartbeating.
  const int64_t alone = first.PoisonAlone();
  ASSERT_TRUE(AwaitWhile(
      "two more retries of the poison record", first,
      [alone](const Deliveries& d)
          ABSL_NO_THREAD_SAFETY_ANALYSIS { return d.poison_alone >= alone + 2; },
      [&] {
        clock_.Advance(absl::Seconds(1));
        EXPECT_TRUE(p1.poller->RunOnce().ok());
      }));
  EXPECT_EQ(first.Records(), 2000) << "nothing of the poison key delivered";
  ExpectPerKeyOrder(first.PerKey(), "p1");
  // The checkpoint stays before the oldest parked record.
  ASSERT_TRUE(p1.observed.AwaitCheckpoints("p1's checkpoint before the poison", [&](const auto&
                                                                                   calls) {
    return !calls.empty() &&
           calls.back().checkpoint.sequence_number() == std::to_string(before_first_poison);
  }));
  EXPECT_EQ(GetLease(shard).checkpoint().sequence_number(), std::to_string(before_first_poison));

  // Failover: p1 falls silent past the lease duration; p2 takes the lease and resumes from the
  // checkpoint with a function that no longer fails.
  clock_.Advance(absl::Seconds(11));
  PollerUnderTest& p2 = NewPoller("p2");
  p2.function.SetScript(second.Function(/*fail=*/false));
  ASSERT_TRUE(p2.poller->RunOnce().ok());
  EXPECT_EQ(GetLease(shard).lease_owner(), "p2");
  int64_t after_checkpoint = 0;
  for (const auto& [key, seq] : written) after_checkpoint += seq > before_first_poison ? 1 : 0;
  ASSERT_TRUE(AwaitWhile(
      "p2 re-delivering from the checkpoint", second,
      [after_checkpoint](const Deliveries& d)
          ABSL_NO_THREAD_SAFETY_ANALYSIS { return d.records >= after_checkpoint; },
      [] {}));
  ExpectPerKeyOrder(second.PerKey(), "p2");
  std::set<uint64_t> all;
  for (auto* d : {&first, &second}) {
    for (const auto& [key, seqs] : d->PerKey()) all.insert(seqs.begin(), seqs.end());
  }
  for (const auto& [key, seq] : written) {
    ASSERT_EQ(all.count(seq), 1u) << "record " << seq << " of " << key << " never delivered";
  }
  EXPECT_EQ(second.PerKey()["poison"].size(), 8u);
}

}  // namespace
}  // namespace tributary::poller
