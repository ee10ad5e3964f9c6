// The whole pipeline in this process on one FakeClock: the shard store, leasing and the stream
// tracker on loopback gRPC, a PollerNode wired exactly as poller_server wires it (gRPC clients,
// SubscribeToShard reader, Function stubs, on-failure PutRecord, Prometheus endpoint), and a
// user function served over gRPC. A mapping created through the tracker's API is processed end
// to end; one bad record is isolated by bisection and lands in the on-failure stream.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/testing/assertions.h"
#include "common/testing/http_get.h"
#include "common/testing/test_util.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "leasing/leasing_client.h"
#include "leasing/leasing_service.h"
#include "poller/poller_node.h"
#include "proto/function.grpc.pb.h"
#include "shard_store/shard_store_client.h"
#include "shard_store/shard_store_node.h"
#include "stream_tracker/stream_tracker.h"
#include "stream_tracker/stream_tracker_client.h"

namespace tributary::poller {
namespace {

// Fails (function_error) any batch holding a record whose data is "bad"; remembers the
// sequence numbers of the batches it processed.
class UserFunction final : public v1::Function::Service {
 public:
  grpc::Status Invoke(grpc::ServerContext*, const v1::InvokeRequest* request,
                      v1::InvokeResponse* response) override {
    absl::MutexLock lock(&mu_);
    ++invocations_;
    for (const auto& r : request->records()) {
      if (r.data() == "bad") {
        response->set_function_error("Unhandled");
        return grpc::Status::OK;
      }
    }
    for (const auto& r : request->records()) delivered_.push_back(r.sequence_number());
    return grpc::Status::OK;
  }
  // Waits (real time, a failure guard) until `n` records were processed successfully.
  [[nodiscard]] ::testing::AssertionResult AwaitDelivered(size_t n) {
    return tributary::testing::IsOk(AwaitFor(
        mu_, absl::Seconds(30), absl::StrCat(n, " records delivered"),
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return delivered_.size() >= n; },
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return Seen(); }));
  }
  std::vector<std::string> delivered() {
    absl::MutexLock lock(&mu_);
    return delivered_;
  }
  int invocations() {
    absl::MutexLock lock(&mu_);
    return invocations_;
  }
  // Waits (real time, at most `real_timeout`) until more than `n` invocations arrived.
  [[nodiscard]] ::testing::AssertionResult AwaitInvocationsAbove(int n,
                                                                 absl::Duration real_timeout) {
    return tributary::testing::IsOk(AwaitFor(
        mu_, real_timeout, absl::StrCat("more than ", n, " invocations"),
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return invocations_ > n; },
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return Seen(); }));
  }

 private:
  std::string Seen() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return absl::StrCat(invocations_, " invocations, ", delivered_.size(), " records delivered");
  }

  absl::Mutex mu_;
  std::vector<std::string> delivered_ ABSL_GUARDED_BY(mu_);
  int invocations_ ABSL_GUARDED_BY(mu_) = 0;
};

class FullStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::cout << "seed " << tributary::testing::TestSeed() << "\n";
    const std::string root = tributary::testing::NewTempDir("poller_full_stack");
    shard_store::ShardStoreNodeOptions store_options;
    store_options.store.data_dir = root + "/shard_store";
    store_options.trim_period = absl::ZeroDuration();
    auto node = shard_store::ShardStoreNode::Create(store_options, clock_);
    ASSERT_TRUE(node.ok()) << node.status();
    store_ = std::move(*node);
    auto leasing =
        leasing::LeasingStack::Create(clock_, root + "/leasing", leasing::LeaseTableOptions());
    ASSERT_TRUE(leasing.ok()) << leasing.status();
    leasing_ = std::move(*leasing);
    auto backends = GrpcServer::Start("127.0.0.1:0", {store_->service(), &leasing_->service()});
    ASSERT_TRUE(backends.ok()) << backends.status();
    backends_ = std::move(*backends);
    stream_tracker::StreamTracker::Options tracker_options;
    tracker_options.data_dir = root + "/stream_tracker";
    auto tracker = stream_tracker::StreamTracker::Create(
        tracker_options, backends_->InProcessChannel(), backends_->InProcessChannel(), clock_);
    ASSERT_TRUE(tracker.ok()) << tracker.status();
    tracker_ = std::move(*tracker);
    auto tracker_server = GrpcServer::Start("127.0.0.1:0", {tracker_->service()});
    ASSERT_TRUE(tracker_server.ok());
    tracker_server_ = std::move(*tracker_server);
    auto function_server = GrpcServer::Start("127.0.0.1:0", {&function_});
    ASSERT_TRUE(function_server.ok());
    function_server_ = std::move(*function_server);

    PollerNodeOptions options;
    options.poller_id = "poller-1";
    options.capacity = 4;
    options.shard_store_address = backends_->address();
    options.leasing_address = backends_->address();
    options.stream_tracker_address = tracker_server_->address();
    options.metrics_listen = "127.0.0.1:0";
    options.seed = tributary::testing::TestSeed();
    auto poller = PollerNode::Create(options, clock_);
    ASSERT_TRUE(poller.ok()) << poller.status();
    poller_ = std::move(*poller);

    streams_ = std::make_unique<shard_store::ShardStoreClient>(backends_->InProcessChannel());
    leases_ = std::make_unique<leasing::LeasingClient>(backends_->InProcessChannel());
    mappings_ =
        std::make_unique<stream_tracker::StreamTrackerClient>(tracker_server_->InProcessChannel());
  }

  void TearDown() override {
    poller_.reset();  // consumers stop before the services go
    tracker_server_.reset();
    tracker_.reset();
    function_server_.reset();
    backends_.reset();
  }

  // A mapping of stream "orders" to the test's function from TRIM_HORIZON.
  v1::CreateEventSourceMappingRequest OrdersMapping() const {
    v1::CreateEventSourceMappingRequest create;
    create.set_stream_name("orders");
    create.set_function_endpoint(function_server_->address());
    create.set_starting_position(v1::TRIM_HORIZON_POSITION);
    return create;
  }

  void CreateStream(const std::string& name) {
    v1::CreateStreamRequest request;
    request.set_stream_name(name);
    request.set_shard_count(1);
    ASSERT_TRUE(streams_->CreateStream(request).ok());
  }

  // Puts a record; returns its sequence number.
  std::string Put(const std::string& stream, const std::string& data) {
    v1::PutRecordRequest put;
    put.set_stream_name(stream);
    put.set_partition_key(data);
    put.set_data(data);
    auto response = streams_->PutRecord(put);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->sequence_number() : "";
  }

  // The id of the stream's first shard ("" when it cannot be listed).
  std::string ShardIdOf(const std::string& stream) {
    auto shards = streams_->ListAllShards(stream);
    return shards.ok() && !shards->empty() ? shards->at(0).shard_id() : "";
  }

  std::vector<v1::Record> ReadAll(const std::string& stream) {
    auto shards = streams_->ListAllShards(stream);
    EXPECT_TRUE(shards.ok() && shards->size() == 1u);
    v1::GetShardIteratorRequest it;
    it.set_stream_name(stream);
    it.set_shard_id(shards->at(0).shard_id());
    it.set_shard_iterator_type(v1::TRIM_HORIZON);
    auto iterator = streams_->GetShardIterator(it);
    EXPECT_TRUE(iterator.ok()) << iterator.status();
    v1::GetRecordsRequest get;
    get.set_shard_iterator(iterator->shard_iterator());
    auto records = streams_->GetRecords(get);
    EXPECT_TRUE(records.ok()) << records.status();
    return records.ok()
               ? std::vector<v1::Record>(records->records().begin(), records->records().end())
               : std::vector<v1::Record>();
  }

  FakeClock clock_;
  UserFunction function_;
  std::unique_ptr<shard_store::ShardStoreNode> store_;
  std::unique_ptr<leasing::LeasingStack> leasing_;
  std::unique_ptr<GrpcServer> backends_;
  std::unique_ptr<stream_tracker::StreamTracker> tracker_;
  std::unique_ptr<GrpcServer> tracker_server_;
  std::unique_ptr<GrpcServer> function_server_;
  std::unique_ptr<PollerNode> poller_;
  std::unique_ptr<shard_store::ShardStoreClient> streams_;
  std::unique_ptr<leasing::LeasingClient> leases_;
  std::unique_ptr<stream_tracker::StreamTrackerClient> mappings_;
};

TEST_F(FullStackTest, MappingIsProcessedEndToEndAndTheBadRecordGoesToTheDestination) {
  CreateStream("orders");
  CreateStream("dlq");
  v1::CreateEventSourceMappingRequest create = OrdersMapping();
  create.set_batch_size(10);
  create.set_bisect_batch_on_function_error(true);
  create.set_maximum_retry_attempts(0);  // no backoff waits on the fake clock
  create.mutable_destination_config()->mutable_on_failure()->set_destination("dlq");
  auto mapping = mappings_->CreateEventSourceMapping(create);
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  ASSERT_TRUE(tracker_->lease_sync()->RunOnce().ok());  // the tracker creates the lease

  std::vector<std::string> seqs;
  for (int i = 0; i < 20; ++i)
    seqs.push_back(Put("orders", i == 7 ? "bad" : absl::StrCat("ok", i)));
  ASSERT_TRUE(poller_->poller().RunOnce().ok());
  ASSERT_EQ(poller_->poller().shards().size(), 1u);
  const std::string shard_id = poller_->poller().shards()[0].shard_id;
  ASSERT_TRUE(function_.AwaitDelivered(19));

  // The bad record was reported before the records after it were invoked.
  const std::vector<v1::Record> dlq = ReadAll("dlq");
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].partition_key(), shard_id);
  google::protobuf::Struct s;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(dlq[0].data(), &s).ok()) << dlq[0].data();
  const auto& rc = s.fields().at("requestContext").struct_value().fields();
  EXPECT_EQ(rc.at("condition").string_value(), "RetryAttemptsExhausted");
  EXPECT_EQ(rc.at("functionEndpoint").string_value(), function_server_->address());
  EXPECT_EQ(rc.at("approximateInvokeCount").number_value(), 1);
  const auto& resp = s.fields().at("responseContext").struct_value().fields();
  EXPECT_EQ(resp.at("statusCode").number_value(), 200);
  EXPECT_EQ(resp.at("executedVersion").string_value(), "$LATEST");
  EXPECT_EQ(resp.at("functionError").string_value(), "Unhandled");
  const auto& kb = s.fields().at("KinesisBatchInfo").struct_value().fields();
  EXPECT_EQ(kb.at("shardId").string_value(), shard_id);
  EXPECT_EQ(kb.at("streamArn").string_value(),
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders")
      << "the tracker's, as the poller read the configuration";
  EXPECT_EQ(kb.at("streamName").string_value(), "orders");
  EXPECT_EQ(kb.at("startSequenceNumber").string_value(), seqs[7]);
  EXPECT_EQ(kb.at("endSequenceNumber").string_value(), seqs[7]);
  EXPECT_EQ(kb.at("batchSize").number_value(), 1);

  // Shutting down finishes, checkpoints the last record and gives the lease back.
  poller_->Shutdown();
  v1::GetLeaseRequest get;
  get.mutable_lease_key()->set_event_source_mapping_uuid(mapping->uuid());
  get.mutable_lease_key()->set_shard_id(shard_id);
  auto lease = leases_->GetLease(get);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->checkpoint().sequence_number(), seqs.back());
  EXPECT_EQ(lease->lease_owner(), "");

  const std::string text = tributary::testing::HttpGet(poller_->metrics_port(), "/metrics");
  const std::string labels = absl::StrCat("poller=\"poller-1\",mapping=\"", mapping->uuid(),
                                          "\",stream=\"orders\",shard=\"", shard_id, "\"");
  EXPECT_NE(text.find(absl::StrCat("tributary_poller_records_delivered_total{", labels, "} 19")),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(absl::StrCat("tributary_poller_dropped_records_total{", labels,
                                   ",condition=\"RetryAttemptsExhausted\"} 1")),
            std::string::npos);
  EXPECT_NE(text.find(absl::StrCat("tributary_poller_invocations_total{", labels, "} ",
                                   function_.invocations(), "\n")),
            std::string::npos);
}

// Issue 14, item 3, the README's operator path: a mapping with the default retry policy (retry
// until the records expire) is stuck on a poison record; `mappings update
// --maximum-retry-attempts 1 --destination dlq` must reach the stuck batch without a restart:
// it goes to the destination at its next failed attempt and the records after it flow.
TEST_F(FullStackTest, AnUpdateReachesABatchStuckOnAPoisonRecord) {
  CreateStream("orders");
  CreateStream("dlq");
  v1::CreateEventSourceMappingRequest create = OrdersMapping();
  create.set_batch_size(10);
  auto mapping = mappings_->CreateEventSourceMapping(create);
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  ASSERT_TRUE(tracker_->lease_sync()->RunOnce().ok());
  Put("orders", "ok0");
  Put("orders", "bad");
  poller_->poller().Start();
  ASSERT_TRUE(function_.AwaitInvocationsAbove(0, absl::Seconds(30))) << "never invoked";

  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(mapping->uuid());
  update.set_maximum_retry_attempts(1);
  update.mutable_destination_config()->mutable_on_failure()->set_destination("dlq");
  ASSERT_TRUE(mappings_->UpdateEventSourceMapping(update).ok());
  // The fake clock moves in 1 s steps: the next heartbeat brings the new configuration, the
  // batch's backoff (at most 30 s) ends, and its next failure is its last. After each step the
  // poller gets up to 200 ms of real time to make the retry the step allows.
  bool reported = false;
  for (int second = 0; second < 90 && !reported; ++second) {
    const int before = function_.invocations();
    clock_.Advance(absl::Seconds(1));
    // Gives the poller up to 200 ms for the retry this step allows; none is not a failure.
    static_cast<void>(function_.AwaitInvocationsAbove(before, absl::Milliseconds(200)));
    reported = !ReadAll("dlq").empty();
  }
  ASSERT_TRUE(reported) << "the stuck batch kept the old retry policy";
  const std::string after = Put("orders", "ok2");
  ASSERT_TRUE(function_.AwaitDelivered(1)) << "the records after the poison one do not flow";
  EXPECT_EQ(function_.delivered().back(), after);
  poller_->Shutdown();
}

TEST_F(FullStackTest, StartedNodeWorksWithoutManualSteps) {
  CreateStream("orders");
  v1::CreateEventSourceMappingRequest create = OrdersMapping();
  auto mapping = mappings_->CreateEventSourceMapping(create);
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  ASSERT_TRUE(tracker_->lease_sync()->RunOnce().ok());
  std::string last;
  for (int i = 0; i < 5; ++i) last = Put("orders", absl::StrCat("ok", i));
  poller_->Start();  // its loop's first pass registers and acquires at once
  ASSERT_TRUE(function_.AwaitDelivered(5));
  poller_->Shutdown();
  v1::ListLeasesRequest list;
  list.set_event_source_mapping_uuid(mapping->uuid());
  auto leases = leases_->ListLeases(list);
  ASSERT_TRUE(leases.ok()) << leases.status();
  ASSERT_EQ(leases->leases_size(), 1);
  EXPECT_EQ(leases->leases(0).lease_owner(), "");
  EXPECT_EQ(leases->leases(0).checkpoint().sequence_number(), last);
}

// Filters set through the tracker's API reach the poller with the configuration, and an update
// of the filters reaches it through the configuration refresh on a heartbeat.
TEST_F(FullStackTest, FiltersFromTheTrackerApplyAndAnUpdateReachesThePoller) {
  CreateStream("orders");
  v1::CreateEventSourceMappingRequest create = OrdersMapping();
  create.mutable_filter_criteria()->add_filters()->set_pattern(
      R"({"partitionKey":[{"prefix":"keep"}]})");
  auto mapping = mappings_->CreateEventSourceMapping(create);
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  ASSERT_EQ(mapping->filter_criteria().filters_size(), 1);
  ASSERT_TRUE(tracker_->lease_sync()->RunOnce().ok());

  std::set<std::string> kept;
  for (int i = 0; i < 6; ++i) {
    const std::string seq = Put("orders", absl::StrCat(i % 2 == 0 ? "keep" : "skip", i));
    if (i % 2 == 0) kept.insert(seq);
  }
  ASSERT_TRUE(poller_->poller().RunOnce().ok());
  ASSERT_TRUE(function_.AwaitDelivered(3));

  v1::UpdateEventSourceMappingRequest update;
  update.set_uuid(mapping->uuid());
  update.set_update_filter_criteria(true);
  update.mutable_filter_criteria()->add_filters()->set_pattern(
      R"({"partitionKey":[{"prefix":"skip"}]})");
  ASSERT_TRUE(mappings_->UpdateEventSourceMapping(update).ok());
  clock_.Advance(absl::Seconds(4));  // past the heartbeat interval (lease duration / 3)
  ASSERT_TRUE(poller_->poller().RunOnce().ok());  // heartbeat: the new version is fetched
  std::string last;
  for (int i = 6; i < 12; ++i) {
    last = Put("orders", absl::StrCat(i % 2 == 0 ? "keep" : "skip", i));
    if (i % 2 == 1) kept.insert(last);
  }
  ASSERT_TRUE(function_.AwaitDelivered(6));

  poller_->Shutdown();
  const std::vector<std::string> delivered = function_.delivered();
  EXPECT_EQ(std::set<std::string>(delivered.begin(), delivered.end()), kept);
  EXPECT_EQ(delivered.size(), 6u);
  v1::GetLeaseRequest get;
  get.mutable_lease_key()->set_event_source_mapping_uuid(mapping->uuid());
  get.mutable_lease_key()->set_shard_id(ShardIdOf("orders"));
  auto lease = leases_->GetLease(get);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->checkpoint().sequence_number(), last) << "the filtered last record included";
}

TEST(PollerNodeTest, ANegativeWindowCloseGraceIsInvalidArgument) {
  FakeClock clock;
  PollerNodeOptions options;
  options.poller_id = "p1";
  options.window_close_grace = absl::Seconds(-1);
  EXPECT_EQ(PollerNode::Create(options, clock).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tributary::poller
