// EtcdClient against a real etcd member (started once for this binary, etcd/testing), each case
// under a key prefix of its own.
#include "etcd/etcd_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "etcd/lease_keeper.h"
#include "etcd/testing/etcd_cluster.h"
#include "etcd/testing/faulty_kv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::etcd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// A port on 127.0.0.1 that refuses connections while this object lives (bound, not listening,
// so nothing else can take it): a member that is down.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }
  ~ClosedPort() { close(fd_); }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = &testing::EtcdCluster::Shared(1);
    client_ = cluster_->NewClient();
    prefix_ = cluster_->NewPrefix();
  }

  std::string Key(const std::string& name) { return prefix_ + name; }
  int64_t MustPut(const std::string& key, const std::string& value, int64_t lease = 0) {
    absl::StatusOr<int64_t> revision = client_->Put(key, value, lease);
    EXPECT_TRUE(revision.ok()) << revision.status();
    return revision.value_or(0);
  }
  std::optional<KeyValue> MustGet(const std::string& key) {
    absl::StatusOr<std::optional<KeyValue>> kv = client_->Get(key);
    EXPECT_TRUE(kv.ok()) << kv.status();
    return kv.ok() ? *kv : std::nullopt;
  }
  // A client whose KV stub is wrapped by `faulty` (owned by the client).
  std::unique_ptr<EtcdClient> FaultyClient(testing::FaultyKv** faulty) {
    std::vector<EtcdMemberStubs> members;
    members.push_back(ConnectToMember(cluster_->endpoints()[0]));
    auto wrapped = std::make_unique<testing::FaultyKv>(std::move(members[0].kv));
    *faulty = wrapped.get();
    members[0].kv = std::move(wrapped);
    return std::make_unique<EtcdClient>(RealClock::Get(), EtcdClientOptions{},
                                        std::move(members));
  }
  // A fenced update: put `value` at `key` if it is still at `revision`.
  static Txn FencedPut(const std::string& key, int64_t revision, const std::string& value) {
    Txn txn;
    txn.compares.push_back(Compare::ModRevision(key, Compare::kEqual, revision));
    txn.success.push_back(Op::Put(key, value));
    txn.failure.push_back(Op::Get(key));
    return txn;
  }

  testing::EtcdCluster* cluster_ = nullptr;
  std::unique_ptr<EtcdClient> client_;
  std::string prefix_;
};

// ---- Keys ----

TEST_F(EtcdClientTest, PutThenGetReturnsTheValueAndItsRevisions) {
  const int64_t first = MustPut(Key("a"), "one");
  const int64_t second = MustPut(Key("a"), "two");
  EXPECT_GT(second, first);
  std::optional<KeyValue> kv = MustGet(Key("a"));
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "two");
  EXPECT_EQ(kv->create_revision, first);
  EXPECT_EQ(kv->mod_revision, second);
  EXPECT_EQ(kv->version, 2);
}

TEST_F(EtcdClientTest, MissingKeyReadsAsNothing) { EXPECT_FALSE(MustGet(Key("none")).has_value()); }

TEST_F(EtcdClientTest, GetPrefixReadsEveryKeyOfThePrefixInOrderAcrossPages) {
  for (int i = 24; i >= 0; --i) MustPut(Key(absl::StrFormat("p/%02d", i)), absl::StrCat(i));
  MustPut(Key("p0"), "a neighbour outside the prefix");
  const int64_t last = MustPut(Key("o"), "another");
  absl::StatusOr<RangeResult> range = client_->GetPrefix(Key("p/"), /*page_size=*/7);
  ASSERT_TRUE(range.ok()) << range.status();
  ASSERT_THAT(range->kvs, SizeIs(25));
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(range->kvs[i].key, Key(absl::StrFormat("p/%02d", i)));
    EXPECT_EQ(range->kvs[i].value, absl::StrCat(i));
  }
  EXPECT_GE(range->revision, last);
}

TEST_F(EtcdClientTest, DeleteAndDeletePrefixSayHowManyKeysWent) {
  MustPut(Key("d/1"), "x");
  MustPut(Key("d/2"), "x");
  MustPut(Key("e"), "x");
  EXPECT_EQ(*client_->Delete(Key("e")), 1);
  EXPECT_EQ(*client_->Delete(Key("e")), 0);
  EXPECT_EQ(*client_->DeletePrefix(Key("d/")), 2);
  EXPECT_THAT(client_->GetPrefix(prefix_)->kvs, IsEmpty());
}

// ---- Txn ----

TEST_F(EtcdClientTest, TxnAppliesItsSuccessBranchWhenEveryCompareHolds) {
  const int64_t revision = MustPut(Key("row"), "v1");
  absl::StatusOr<TxnResult> result = client_->Commit(FencedPut(Key("row"), revision, "v2"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->succeeded);
  EXPECT_FALSE(result->recovered);
  EXPECT_EQ(MustGet(Key("row"))->value, "v2");
  EXPECT_EQ(MustGet(Key("row"))->mod_revision, result->revision);
}

TEST_F(EtcdClientTest, TxnWhoseCompareFailsRunsItsFailureBranchAndChangesNothing) {
  const int64_t revision = MustPut(Key("row"), "v1");
  MustPut(Key("row"), "changed by someone else");
  absl::StatusOr<TxnResult> result =
      client_->Commit(FencedPut(Key("row"), revision, "v2"), Key("writer"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->succeeded);
  ASSERT_THAT(result->responses, SizeIs(1));  // the marker's read is not the caller's
  ASSERT_THAT(result->responses[0].kvs, SizeIs(1));
  EXPECT_EQ(result->responses[0].kvs[0].value, "changed by someone else");
  EXPECT_EQ(MustGet(Key("row"))->value, "changed by someone else");
}

TEST_F(EtcdClientTest, MissingKeyComparesAsRevisionZero) {
  // Create-if-absent: the first succeeds, the second finds the key.
  EXPECT_TRUE(client_->Commit(FencedPut(Key("new"), 0, "first"))->succeeded);
  EXPECT_FALSE(client_->Commit(FencedPut(Key("new"), 0, "second"))->succeeded);
  EXPECT_EQ(MustGet(Key("new"))->value, "first");
}

TEST_F(EtcdClientTest, RequestEtcdRefusesIsInvalidArgumentAtOnce) {
  Txn txn;
  txn.success.push_back(Op::Put(Key("twice"), "1"));
  txn.success.push_back(Op::Put(Key("twice"), "2"));
  absl::StatusOr<TxnResult> result = client_->Commit(txn, Key("writer"));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("duplicate key"));
}

// ---- Outcome unknown ----

TEST_F(EtcdClientTest, RetriedTxnWhoseAnswerWasLostRecognisesItsOwnWrite) {
  testing::FaultyKv* faulty = nullptr;
  std::unique_ptr<EtcdClient> client = FaultyClient(&faulty);
  const int64_t revision = MustPut(Key("row"), "v1");
  faulty->LoseNthTxnAnswer(1);
  absl::StatusOr<TxnResult> result =
      client->Commit(FencedPut(Key("row"), revision, "v2"), Key("writer"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(faulty->txns(), 2) << "applied, answer lost, retried";
  EXPECT_TRUE(result->succeeded) << "the retry's compare failed on the first attempt's own write";
  EXPECT_TRUE(result->recovered);
  std::optional<KeyValue> row = MustGet(Key("row"));
  EXPECT_EQ(row->value, "v2");
  EXPECT_EQ(row->version, 2) << "written once by the Txn";
  EXPECT_EQ(result->revision, row->mod_revision);
}

TEST_F(EtcdClientTest, TxnWithoutAMarkerWhoseAnswerWasLostSaysOutcomeUnknown) {
  testing::FaultyKv* faulty = nullptr;
  std::unique_ptr<EtcdClient> client = FaultyClient(&faulty);
  const int64_t revision = MustPut(Key("row"), "v1");
  faulty->LoseNthTxnAnswer(1);
  absl::StatusOr<TxnResult> result = client->Commit(FencedPut(Key("row"), revision, "v2"));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("outcome unknown"));
  EXPECT_EQ(faulty->txns(), 1) << "not retried";
  EXPECT_EQ(MustGet(Key("row"))->value, "v2") << "yet it was applied";
}

TEST_F(EtcdClientTest, RetriedTxnThatNeverReachedEtcdIsAppliedOnce) {
  testing::FaultyKv* faulty = nullptr;
  std::unique_ptr<EtcdClient> client = FaultyClient(&faulty);
  const int64_t revision = MustPut(Key("row"), "v1");
  faulty->DropNthTxn(1);
  absl::StatusOr<TxnResult> result =
      client->Commit(FencedPut(Key("row"), revision, "v2"), Key("writer"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->succeeded);
  EXPECT_FALSE(result->recovered);
  EXPECT_EQ(MustGet(Key("row"))->version, 2);
}

TEST_F(EtcdClientTest, RetryAfterAnotherWriterWonIsNotMistakenForOwnWrite) {
  testing::FaultyKv* faulty = nullptr;
  std::unique_ptr<EtcdClient> client = FaultyClient(&faulty);
  const int64_t revision = MustPut(Key("row"), "v1");
  // The first attempt is lost on the way; before the retry another writer changes the row.
  faulty->DropNthTxn(1, [&] { MustPut(Key("row"), "theirs"); });
  absl::StatusOr<TxnResult> result =
      client->Commit(FencedPut(Key("row"), revision, "mine"), Key("writer"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->succeeded);
  EXPECT_FALSE(result->recovered);
  EXPECT_EQ(MustGet(Key("row"))->value, "theirs");
}

// ---- Members ----

TEST_F(EtcdClientTest, CallsMoveOnToTheNextMemberWhenOneIsDown) {
  ClosedPort down;
  EtcdClientOptions options;
  options.endpoints = {down.address(), cluster_->endpoints()[0]};
  absl::StatusOr<std::unique_ptr<EtcdClient>> client =
      EtcdClient::Create(RealClock::Get(), options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Put(Key("k"), "v").ok());
  EXPECT_EQ((*client)->current_member(), 1);
  EXPECT_EQ(MustGet(Key("k"))->value, "v");
}

TEST_F(EtcdClientTest, CallGivesUpAfterTheOperationTimeoutNamingTheMembers) {
  ClosedPort down;
  EtcdClientOptions options;
  options.endpoints = {down.address()};
  options.attempt_timeout = absl::Milliseconds(100);
  options.operation_timeout = absl::Milliseconds(500);
  absl::StatusOr<std::unique_ptr<EtcdClient>> client =
      EtcdClient::Create(RealClock::Get(), options);
  ASSERT_TRUE(client.ok());
  absl::StatusOr<int64_t> put = (*client)->Put(Key("k"), "v");
  EXPECT_TRUE(put.status().code() == absl::StatusCode::kUnavailable ||
              put.status().code() == absl::StatusCode::kDeadlineExceeded)
      << put.status();
  EXPECT_THAT(std::string(put.status().message()), HasSubstr(down.address()));
}

TEST_F(EtcdClientTest, BadOptionsAreRefused) {
  EXPECT_EQ(EtcdClient::Create(RealClock::Get(), {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EtcdClientOptions bad_address;
  bad_address.endpoints = {"127.0.0.1"};
  EXPECT_EQ(EtcdClient::Create(RealClock::Get(), bad_address).status().code(),
            absl::StatusCode::kInvalidArgument);
  EtcdClientOptions bad_timeouts;
  bad_timeouts.endpoints = {"127.0.0.1:2379"};
  bad_timeouts.operation_timeout = absl::Milliseconds(10);
  EXPECT_EQ(EtcdClient::Create(RealClock::Get(), bad_timeouts).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- Leases ----

TEST_F(EtcdClientTest, RevokingALeaseDeletesItsKeys) {
  absl::StatusOr<int64_t> lease = client_->GrantLease(absl::Seconds(30));
  ASSERT_TRUE(lease.ok()) << lease.status();
  MustPut(Key("live"), "x", *lease);
  EXPECT_EQ(MustGet(Key("live"))->lease, *lease);
  ASSERT_TRUE(client_->RevokeLease(*lease).ok());
  EXPECT_FALSE(MustGet(Key("live")).has_value());
  EXPECT_TRUE(client_->RevokeLease(*lease).ok()) << "idempotent";
  EXPECT_EQ(client_->KeepAliveOnce(*lease).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EtcdClientTest, KeepAliveRenewsALeaseToItsFullTtl) {
  absl::StatusOr<int64_t> lease = client_->GrantLease(absl::Seconds(30));
  ASSERT_TRUE(lease.ok()) << lease.status();
  absl::StatusOr<absl::Duration> ttl = client_->KeepAliveOnce(*lease);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_EQ(*ttl, absl::Seconds(30));
}

TEST_F(EtcdClientTest, RenewedLeaseOutlivesAnUnrenewedOneOfTheSameTtl) {
  // Real time: etcd expires leases on its own clock. The renewed lease is granted first, so it
  // would expire first if the keeper did nothing; the test waits for the other's expiry as an
  // event (a watch), never for a duration.
  absl::StatusOr<std::unique_ptr<LeaseKeeper>> renewed =
      LeaseKeeper::Create(*client_, absl::Seconds(2));
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  (*renewed)->StartRenewing();
  absl::StatusOr<std::unique_ptr<LeaseKeeper>> abandoned =
      LeaseKeeper::Create(*client_, absl::Seconds(2));
  ASSERT_TRUE(abandoned.ok()) << abandoned.status();
  MustPut(Key("renewed"), "x", (*renewed)->id());
  MustPut(Key("abandoned"), "x", (*abandoned)->id());
  absl::StatusOr<std::unique_ptr<EtcdWatch>> watch = client_->Watch(Key("abandoned"), false, 0);
  ASSERT_TRUE(watch.ok()) << watch.status();
  const MonotonicTime guard = RealClock::Get().MonotonicNow() + absl::Seconds(30);
  bool gone = false;
  while (!gone && RealClock::Get().MonotonicNow() < guard) {
    absl::StatusOr<std::vector<WatchEvent>> events = (*watch)->Next(guard);
    ASSERT_TRUE(events.ok()) << events.status();
    for (const WatchEvent& e : *events) gone |= e.type == WatchEvent::Type::kDelete;
  }
  ASSERT_TRUE(gone) << "the unrenewed lease did not expire within 30 s";
  EXPECT_TRUE(MustGet(Key("renewed")).has_value());
  EXPECT_FALSE((*renewed)->lost());
  EXPECT_EQ((*abandoned)->RunOnce().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE((*abandoned)->lost());
  ASSERT_TRUE((*renewed)->Revoke().ok());
  EXPECT_FALSE(MustGet(Key("renewed")).has_value());
}

// ---- Watch ----

TEST_F(EtcdClientTest, WatchFromARevisionSeesEveryChangeSinceInOrder) {
  const int64_t start = MustPut(Key("w/a"), "1");
  MustPut(Key("w/b"), "2");
  MustPut(Key("elsewhere"), "not watched");
  ASSERT_TRUE(client_->Delete(Key("w/a")).ok());
  absl::StatusOr<std::unique_ptr<EtcdWatch>> watch = client_->Watch(Key("w/"), true, start);
  ASSERT_TRUE(watch.ok()) << watch.status();
  std::vector<std::string> seen;
  int64_t last_event = 0;
  const MonotonicTime guard = RealClock::Get().MonotonicNow() + absl::Seconds(10);
  while (seen.size() < 3 && RealClock::Get().MonotonicNow() < guard) {
    absl::StatusOr<std::vector<WatchEvent>> events = (*watch)->Next(guard);
    ASSERT_TRUE(events.ok()) << events.status();
    for (const WatchEvent& e : *events) {
      seen.push_back(absl::StrCat(e.type == WatchEvent::Type::kPut ? "put " : "delete ",
                                  e.kv.key.substr(prefix_.size()), "=", e.kv.value));
      last_event = e.kv.mod_revision;
    }
  }
  EXPECT_THAT(seen, ElementsAre("put w/a=1", "put w/b=2", "delete w/a="));
  EXPECT_EQ((*watch)->last_revision(), last_event);
}

TEST_F(EtcdClientTest, WatchFromACompactedRevisionIsOutOfRange) {
  const int64_t old = MustPut(Key("c"), "1");
  const int64_t now = MustPut(Key("c"), "2");
  ASSERT_TRUE(client_->Compact(now).ok());
  absl::StatusOr<std::unique_ptr<EtcdWatch>> watch = client_->Watch(Key("c"), false, old);
  absl::Status ended = watch.status();
  if (watch.ok()) {
    // etcd confirms the watch, then cancels it for the compaction.
    ended = (*watch)->Next(RealClock::Get().MonotonicNow() + absl::Seconds(10)).status();
  }
  EXPECT_EQ(ended.code(), absl::StatusCode::kOutOfRange) << ended;
  EXPECT_THAT(std::string(ended.message()), HasSubstr("compacted"));
}

}  // namespace
}  // namespace tributary::etcd
