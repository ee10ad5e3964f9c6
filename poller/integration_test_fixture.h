// The poller integration harness: the poller against the real shard store and leasing services,
// each in this process on a loopback gRPC server, all on one FakeClock; the mapping
// configuration comes from a fake (the stream tracker is not needed). One mapping (kMapping) on
// a one-shard stream (kStream), batches of 10, retried forever; NewPoller adds pollers,
// CreateLeases makes the shards' leases, Put writes records. Shared by poller_integration_test
// and key_isolation_integration_test (test-only).
#ifndef TRIBUTARY_POLLER_INTEGRATION_TEST_FIXTURE_H_
#define TRIBUTARY_POLLER_INTEGRATION_TEST_FIXTURE_H_

#include <iostream>
#include <memory>
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
#include "poller/poller.h"
#include "poller/retrieval/shard_store_reader.h"
#include "poller/testing/fake_services.h"
#include "poller/testing/fakes.h"
#include "shard_store/shard_store_client.h"
#include "shard_store/shard_store_node.h"

namespace tributary::poller::testing {

inline constexpr char kMapping[] = "mapping-1";
inline constexpr char kStream[] = "orders";

// One poller with its own function and observed lease service.
struct PollerUnderTest {
  PollerUnderTest(const std::string& id, Clock& clock, LeaseService& leases,
                  MappingSource& mappings, ShardReader& reader, FailureDestination& destination)
      : observed(leases), waiter(clock), metrics(id, clock) {
    PollerOptions options;
    options.poller_id = id;
    options.capacity = 10;
    options.checkpoint_interval = absl::ZeroDuration();
    options.seed = tributary::testing::TestSeed();
    poller = std::make_unique<Poller>(options, clock, waiter, observed, mappings, reader, function,
                                      destination, metrics);
  }
  testing::ScriptedFunction function;
  testing::ObservedLeaseService observed;
  ClockWaiter waiter;
  PollerMetrics metrics;
  std::unique_ptr<Poller> poller;
};

class PollerIntegrationFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::cout << "seed " << tributary::testing::TestSeed() << "\n";
    auto leasing = leasing::testing::InProcessLeasing::Start(clock_);
    ASSERT_TRUE(leasing.ok()) << leasing.status();
    leasing_ = std::move(*leasing);
    shard_store::ShardStoreNodeOptions store_options;
    store_options.store.data_dir = tributary::testing::NewTempDir("poller_store");
    store_options.trim_period = absl::ZeroDuration();
    auto node = shard_store::ShardStoreNode::Create(store_options, clock_);
    ASSERT_TRUE(node.ok()) << node.status();
    store_node_ = std::move(*node);
    auto server = GrpcServer::Start("127.0.0.1:0", {store_node_->service()});
    ASSERT_TRUE(server.ok()) << server.status();
    store_server_ = std::move(*server);
    store_client_ =
        std::make_unique<shard_store::ShardStoreClient>(MakeChannel(store_server_->address()));
    reader_ = std::make_unique<ShardStoreReader>(*store_client_);
    destination_ = std::make_unique<ShardStoreFailureDestination>(*store_client_);
    leases_ = std::make_unique<LeasingClientLeaseService>(leasing_->client());

    v1::CreateStreamRequest create;
    create.set_stream_name(kStream);
    create.set_shard_count(1);
    ASSERT_TRUE(store_client_->CreateStream(create).ok());
    config_.set_uuid(kMapping);
    config_.set_stream_name(kStream);
    config_.set_function_endpoint("f:1");
    config_.set_batch_size(10);
    config_.set_parallelization_factor(1);
    config_.set_maximum_retry_attempts(-1);
    config_.set_maximum_record_age_in_seconds(-1);
    config_.set_enabled(true);
    config_.set_state(v1::ENABLED);
    config_.set_config_version(1);
    mappings_.Set(config_);
  }

  void TearDown() override {
    pollers_.clear();  // consumers stop before the servers do
    if (store_server_ != nullptr) store_server_->Shutdown();
  }

  PollerUnderTest& NewPoller(const std::string& id) {
    pollers_.push_back(std::make_unique<PollerUnderTest>(id, clock_, *leases_, mappings_, *reader_,
                                                         *destination_));
    return *pollers_.back();
  }

  std::vector<v1::Shard> Shards() {
    auto shards = store_client_->ListAllShards(kStream);
    EXPECT_TRUE(shards.ok()) << shards.status();
    return shards.ok() ? *shards : std::vector<v1::Shard>();
  }

  void CreateLeases() {
    v1::CreateLeasesRequest request;
    for (const v1::Shard& shard : Shards()) {
      v1::NewLease* lease = request.add_leases();
      lease->set_event_source_mapping_uuid(kMapping);
      lease->set_shard_id(shard.shard_id());
      lease->set_stream_name(kStream);
      if (!shard.parent_shard_id().empty()) lease->add_parent_shard_ids(shard.parent_shard_id());
      lease->mutable_initial_checkpoint()->set_type(v1::TRIM_HORIZON_CHECKPOINT);
      lease->set_enabled(true);
    }
    auto created = leasing_->client().CreateLeases(request);
    ASSERT_TRUE(created.ok()) << created.status();
  }

  // Puts `n` records; returns the last one's sequence number.
  std::string Put(int n, const std::string& key_prefix) {
    std::string last;
    for (int i = 0; i < n; ++i) {
      v1::PutRecordRequest put;
      put.set_stream_name(kStream);
      put.set_partition_key(absl::StrCat(key_prefix, i));
      put.set_data(absl::StrCat(key_prefix, i));
      auto response = store_client_->PutRecord(put);
      EXPECT_TRUE(response.ok()) << response.status();
      if (response.ok()) last = response->sequence_number();
    }
    return last;
  }

  v1::Lease GetLease(const std::string& shard_id) {
    v1::GetLeaseRequest request;
    request.mutable_lease_key()->set_event_source_mapping_uuid(kMapping);
    request.mutable_lease_key()->set_shard_id(shard_id);
    auto lease = leasing_->client().GetLease(request);
    EXPECT_TRUE(lease.ok()) << lease.status();
    return lease.ok() ? *lease : v1::Lease();
  }

  static int RecordCount(const std::vector<testing::ScriptedFunction::Call>& calls) {
    int n = 0;
    for (const auto& c : calls) n += c.request.records_size();
    return n;
  }

  FakeClock clock_;
  std::unique_ptr<leasing::testing::InProcessLeasing> leasing_;
  std::unique_ptr<shard_store::ShardStoreNode> store_node_;
  std::unique_ptr<GrpcServer> store_server_;
  std::unique_ptr<shard_store::ShardStoreClient> store_client_;
  std::unique_ptr<ShardStoreReader> reader_;
  std::unique_ptr<ShardStoreFailureDestination> destination_;
  std::unique_ptr<LeasingClientLeaseService> leases_;
  testing::FakeMappingSource mappings_;
  v1::EventSourceMappingConfiguration config_;
  std::vector<std::unique_ptr<PollerUnderTest>> pollers_;
};

}  // namespace tributary::poller::testing

#endif  // TRIBUTARY_POLLER_INTEGRATION_TEST_FIXTURE_H_
