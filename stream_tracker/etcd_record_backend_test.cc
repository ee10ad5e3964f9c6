// What only the etcd backend has: lost answers of its writes, its session, the keys it leaves.
// The stores' rules over etcd are the shared suites' (mapping_store_etcd_test,
// function_store_etcd_test).
#include "stream_tracker/etcd_record_backend.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "etcd/etcd_client.h"
#include "etcd/testing/etcd_cluster.h"
#include "etcd/testing/faulty_kv.h"
#include "gtest/gtest.h"
#include "stream_tracker/mapping_store.h"

namespace tributary::stream_tracker {
namespace {

MappingRecord Record(const std::string& uuid) {
  MappingRecord record;
  record.mutable_config()->set_uuid(uuid);
  record.mutable_config()->set_config_version(1);
  return record;
}

absl::Status Bump(MappingRecord* r) {
  r->mutable_config()->set_config_version(r->config().config_version() + 1);
  return absl::OkStatus();
}

class EtcdRecordBackendTest : public ::testing::Test {
 protected:
  EtcdRecordBackendTest()
      : cluster_(etcd::testing::EtcdCluster::Shared(1)),
        prefix_(cluster_.NewPrefix()),
        client_(cluster_.NewClient()) {}

  std::unique_ptr<EtcdRecordBackend> NewBackend(etcd::EtcdClient& client) {
    EtcdRecordBackendOptions options;
    options.prefix = prefix_;
    auto backend = EtcdRecordBackend::Create(client, options);
    EXPECT_TRUE(backend.ok()) << backend.status();
    return backend.ok() ? *std::move(backend) : nullptr;
  }
  // A client whose Txns go through a FaultyKv, giving up after 2 s.
  std::unique_ptr<etcd::EtcdClient> FaultyClient(etcd::testing::FaultyKv** faulty) {
    std::vector<etcd::EtcdMemberStubs> members;
    members.push_back(etcd::ConnectToMember(cluster_.endpoints()[0]));
    auto wrapped = std::make_unique<etcd::testing::FaultyKv>(std::move(members[0].kv));
    *faulty = wrapped.get();
    members[0].kv = std::move(wrapped);
    etcd::EtcdClientOptions options;
    options.attempt_timeout = absl::Milliseconds(500);
    options.operation_timeout = absl::Seconds(2);
    return std::make_unique<etcd::EtcdClient>(RealClock::Get(), options, std::move(members));
  }
  std::vector<std::string> Keys() {
    auto range = client_->GetPrefix(prefix_);
    EXPECT_TRUE(range.ok()) << range.status();
    std::vector<std::string> keys;
    if (range.ok()) {
      for (const etcd::KeyValue& kv : range->kvs) keys.push_back(kv.key.substr(prefix_.size()));
    }
    return keys;
  }

  etcd::testing::EtcdCluster& cluster_;
  const std::string prefix_;
  std::unique_ptr<etcd::EtcdClient> client_;
};

// The Txn of a Modify is applied but its answer is lost: the retry's compare fails because of that
// very write, and the marker tells it so. Without it, Modify would either fail ("outcome unknown")
// or read the record again and apply its change a second time.
TEST_F(EtcdRecordBackendTest, ModifyWhoseAnswerWasLostIsAppliedExactlyOnce) {
  etcd::testing::FaultyKv* faulty = nullptr;
  std::unique_ptr<etcd::EtcdClient> client = FaultyClient(&faulty);
  std::unique_ptr<MappingStore> store =
      MappingStore::Create(std::shared_ptr<RecordBackend>(NewBackend(*client)));
  ASSERT_TRUE(store->Insert(Record("a")).ok());
  faulty->LoseNthTxnAnswer(1);
  absl::StatusOr<MappingRecord> written = store->Modify("a", &Bump);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->config().config_version(), 2);
  EXPECT_EQ(store->Get("a")->config().config_version(), 2) << "applied once, not twice";
  EXPECT_EQ(store->writes(), 2);
}

// Same for an Insert: the retry finds the record it created itself, not ALREADY_EXISTS.
TEST_F(EtcdRecordBackendTest, InsertWhoseAnswerWasLostSucceeds) {
  etcd::testing::FaultyKv* faulty = nullptr;
  std::unique_ptr<etcd::EtcdClient> client = FaultyClient(&faulty);
  std::unique_ptr<MappingStore> store =
      MappingStore::Create(std::shared_ptr<RecordBackend>(NewBackend(*client)));
  faulty->LoseNthTxnAnswer(1);
  EXPECT_TRUE(store->Insert(Record("a")).ok());
  EXPECT_EQ(store->Insert(Record("a")).code(), absl::StatusCode::kAlreadyExists);
}

// Keys grow with records and live writers, never with writes; a closed backend's marker goes.
TEST_F(EtcdRecordBackendTest, KeysGrowWithRecordsNotWithWrites) {
  {
    std::unique_ptr<MappingStore> store =
        MappingStore::Create(std::shared_ptr<RecordBackend>(NewBackend(*client_)));
    for (const char* uuid : {"a", "b", "c"}) {
      ASSERT_TRUE(store->Insert(Record(uuid)).ok());
      for (int i = 0; i < 20; ++i) ASSERT_TRUE(store->Modify(uuid, &Bump).ok());
    }
    std::vector<std::string> keys = Keys();
    ASSERT_EQ(keys.size(), 4u);
    EXPECT_EQ(keys[0], "mapping/a");
    EXPECT_EQ(keys[2], "mapping/c");
    EXPECT_EQ(keys[3].rfind("writers/", 0), 0u) << keys[3];
  }
  EXPECT_EQ(Keys(), (std::vector<std::string>{"mapping/a", "mapping/b", "mapping/c"}));
}

// The session lease (and with it the marker) expired, e.g. etcd was unreachable for a whole TTL:
// the next write starts a new session and succeeds.
TEST_F(EtcdRecordBackendTest, AWriterWhoseSessionEndedStartsANewOne) {
  std::unique_ptr<EtcdRecordBackend> backend = NewBackend(*client_);
  EtcdRecordBackend* raw = backend.get();
  std::unique_ptr<MappingStore> store =
      MappingStore::Create(std::shared_ptr<RecordBackend>(std::move(backend)));
  ASSERT_TRUE(store->Insert(Record("a")).ok());
  const std::string marker = raw->marker_key();
  uint64_t lease = 0;
  ASSERT_TRUE(absl::SimpleHexAtoi(marker.substr(marker.rfind('/') + 1), &lease)) << marker;
  ASSERT_TRUE(client_->RevokeLease(static_cast<int64_t>(lease)).ok());
  absl::StatusOr<MappingRecord> written = store->Modify("a", &Bump);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(store->Get("a")->config().config_version(), 2);
  EXPECT_NE(raw->marker_key(), marker);
}

TEST_F(EtcdRecordBackendTest, APrefixMustEndWithASlash) {
  EtcdRecordBackendOptions options;
  options.prefix = "/tributary/tracker";
  EXPECT_EQ(EtcdRecordBackend::Create(*client_, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---- One mapping per function and stream, across replicas (issue 19) ----

MappingRecord OfFunction(const std::string& uuid, const std::string& function,
                         const std::string& stream) {
  MappingRecord record = Record(uuid);
  record.mutable_config()->set_function_name(function);
  record.mutable_config()->set_stream_name(stream);
  record.mutable_config()->set_state(v1::CREATING_MAPPING);
  return record;
}

// Regression test: two tracker replicas whose registry checks both passed (each read the
// mappings before either wrote) both stored their mapping; the claim in the mapping's own Txn
// lets exactly one through.
TEST_F(EtcdRecordBackendTest, TwoReplicasCreatingMappingsOfOneFunctionOnOneStreamOneWins) {
  std::unique_ptr<etcd::EtcdClient> other_client = cluster_.NewClient();
  std::unique_ptr<MappingStore> a = MappingStore::Create(NewBackend(*client_));
  std::unique_ptr<MappingStore> b = MappingStore::Create(NewBackend(*other_client));
  ASSERT_TRUE(a->Insert(OfFunction("uuid-a", "resize", "orders")).ok());
  absl::Status second = b->Insert(OfFunction("uuid-b", "resize", "orders"));
  EXPECT_EQ(second.code(), absl::StatusCode::kAlreadyExists) << second;
  EXPECT_EQ(second.message(),
            "function resize already has event source mapping uuid-a on stream orders: update "
            "or delete that mapping");
  EXPECT_EQ(b->Get("uuid-b").status().code(), absl::StatusCode::kNotFound) << "nothing written";
  // Other streams and other functions are free; mappings given an endpoint claim nothing.
  EXPECT_TRUE(b->Insert(OfFunction("uuid-c", "resize", "payments")).ok());
  EXPECT_TRUE(b->Insert(OfFunction("uuid-d", "thumbnail", "orders")).ok());
  EXPECT_TRUE(b->Insert(Record("uuid-e")).ok());
  EXPECT_TRUE(b->Insert(Record("uuid-f")).ok());
}

TEST_F(EtcdRecordBackendTest, ClaimMovesWithTheMappingsFunctionAndGoesWhenItIsBeingDeleted) {
  std::unique_ptr<etcd::EtcdClient> other_client = cluster_.NewClient();
  std::unique_ptr<MappingStore> a = MappingStore::Create(NewBackend(*client_));
  std::unique_ptr<MappingStore> b = MappingStore::Create(NewBackend(*other_client));
  ASSERT_TRUE(a->Insert(OfFunction("uuid-a", "resize", "orders")).ok());
  // Pointed at another function: "resize" on orders is free, "thumbnail" taken.
  ASSERT_TRUE(a->Modify("uuid-a", [](MappingRecord* r) {
                 r->mutable_config()->set_function_name("thumbnail");
                 return absl::OkStatus();
               }).ok());
  EXPECT_EQ(b->Insert(OfFunction("uuid-b", "thumbnail", "orders")).code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(b->Insert(OfFunction("uuid-c", "resize", "orders")).ok());
  // A change that keeps the function keeps the claim (and writes no claim key).
  ASSERT_TRUE(a->Modify("uuid-a", &Bump).ok());
  EXPECT_EQ(b->Insert(OfFunction("uuid-d", "thumbnail", "orders")).code(),
            absl::StatusCode::kAlreadyExists);
  // Pointing uuid-c at "thumbnail" on b's side is refused, and changes nothing.
  absl::StatusOr<MappingRecord> refused = b->Modify("uuid-c", [](MappingRecord* r) {
    r->mutable_config()->set_function_name("thumbnail");
    return absl::OkStatus();
  });
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists) << refused.status();
  EXPECT_EQ(a->Get("uuid-c")->config().function_name(), "resize");
  // Being deleted, uuid-a gives "thumbnail" on orders up.
  ASSERT_TRUE(a->Modify("uuid-a", [](MappingRecord* r) {
                 r->mutable_config()->set_state(v1::DELETING_MAPPING);
                 return absl::OkStatus();
               }).ok());
  EXPECT_TRUE(b->Insert(OfFunction("uuid-b", "thumbnail", "orders")).ok());
  int claims = 0;
  for (const std::string& key : Keys()) claims += absl::StartsWith(key, "mapping-unique/");
  EXPECT_EQ(claims, 2) << "resize and thumbnail on orders, once each";
}

}  // namespace
}  // namespace tributary::stream_tracker
