// Cluster mode, part 2 (issue 20), end to end: `tributary serve --log=nats://...` keeps its
// records in JetStream (a real nats-server), a producer puts, a mapping delivers to a function
// in this process, and tributary is killed with SIGKILL mid-load and restarted on the same port
// and data directory. Every acknowledged record is delivered at least once, in order per key
// and per shard; and the records are in JetStream (its stream holds their messages).
#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "nats/nats_client.h"
#include "nats/testing/nats_cluster.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tests/cluster.h"

namespace tributary::e2e {
namespace {

constexpr char kStream[] = "orders";
constexpr int kShards = 4;
constexpr int kKeys = 16;
constexpr int kRecordsPerCall = 20;
constexpr int kRecordsPerSecond = 2000;
constexpr int64_t kRecords = 6000;

class ServeOnJetStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::NewTempDir("serve_on_jetstream");
    nats_ = &nats::testing::NatsCluster::Shared(1);
    auto function_server = GrpcServer::Start("127.0.0.1:0", {&function_});
    ASSERT_TRUE(function_server.ok()) << function_server.status();
    function_server_ = std::move(*function_server);
    ASSERT_NO_FATAL_FAILURE(StartServe("127.0.0.1:0"));
  }

  // Starts tributary serve on `listen` (port 0 the first time, then the same port).
  void StartServe(const std::string& listen) {
    std::filesystem::remove(dir_ + "/port");
    auto server = testing::Subprocess::Start(
        testing::RunfilePath("tools/tributary/tributary"),
        {"serve", "--data_dir=" + dir_ + "/data", "--listen=" + listen,
         "--port_file=" + dir_ + "/port", "--log=nats://" + nats_->addresses()[0],
         "--log_replicas=1", "--poller_id=serve-1", "--lease_duration_ms=2000",
         "--sync_interval_ms=200", "--full_sync_interval_ms=1000"},
        absl::StrCat(dir_, "/log", ++starts_));
    ASSERT_TRUE(server.ok()) << server.status();
    serve_ = std::move(*server);
    auto port = testing::WaitForPortFile(dir_ + "/port");
    ASSERT_TRUE(port.ok()) << port.status();
    address_ = absl::StrCat("127.0.0.1:", *port);
  }

  std::string dir_;
  nats::testing::NatsCluster* nats_ = nullptr;
  RecordingFunction function_;
  std::unique_ptr<GrpcServer> function_server_;
  testing::Subprocess serve_;
  std::string address_;
  int starts_ = 0;
};

TEST_F(ServeOnJetStreamTest, EveryAcknowledgedRecordIsDeliveredInOrderAcrossAKill) {
  shard_store::ShardStoreClient store(MakeChannel(address_));
  v1::CreateStreamRequest create;
  create.set_stream_name(kStream);
  create.set_shard_count(kShards);
  auto created = store.CreateStream(create);
  ASSERT_TRUE(created.ok()) << created.status();
  stream_tracker::StreamTrackerClient tracker(MakeChannel(address_));
  v1::CreateEventSourceMappingRequest mapping;
  mapping.set_stream_name(kStream);
  mapping.set_function_endpoint(function_server_->address());
  mapping.set_starting_position(v1::TRIM_HORIZON_POSITION);
  mapping.set_batch_size(100);
  auto mapped = tracker.CreateEventSourceMapping(mapping);
  ASSERT_TRUE(mapped.ok()) << mapped.status();

  Producer producer(kStream, address_, kKeys, kRecordsPerCall, kRecordsPerSecond);
  producer.Start(kRecords);
  ASSERT_TRUE(producer.WaitForAcked(kRecords / 3, absl::Seconds(60)))
      << "the producer stalled before the kill";
  ASSERT_LT(producer.acked_count(), kRecords) << "the load ended before the kill";

  serve_.Kill(SIGKILL);
  const int64_t acked_at_kill = producer.acked_count();
  ASSERT_NO_FATAL_FAILURE(StartServe(address_));

  ASSERT_TRUE(producer.WaitForAcked(kRecords, absl::Seconds(90)))
      << "the producer did not finish after the restart; acknowledged " << producer.acked_count();
  producer.Stop();
  const std::vector<Acked> acked = producer.AckedRecords();
  absl::Status last;
  const absl::Status delivered = PollFor(
      absl::Seconds(90), absl::Milliseconds(100),
      absl::StrCat("all ", acked.size(), " acknowledged records delivered"), [&] {
        last = CheckEveryAckedDelivered(acked, function_.Deliveries());
        return last.ok();
      },
      [&] { return last.ToString(); });
  EXPECT_TRUE(delivered.ok()) << delivered;
  const std::vector<Delivery> deliveries = function_.Deliveries();
  EXPECT_TRUE(CheckFirstDeliveriesInKeyOrder(acked, deliveries).ok())
      << CheckFirstDeliveriesInKeyOrder(acked, deliveries);
  EXPECT_TRUE(CheckFirstDeliveriesInShardOrder(deliveries).ok())
      << CheckFirstDeliveriesInShardOrder(deliveries);
  EXPECT_GT(producer.failed_calls(), 0) << "the kill was not seen by the producer";
  std::cout << "[serve on jetstream] acknowledged " << acked.size() << " (" << acked_at_kill
            << " before the kill), deliveries " << deliveries.size() << ", producer retries "
            << producer.failed_calls() << std::endl;

  // The records are in JetStream: its stream (the store's first stream id) holds at least a
  // message per call (a message carries a call's records of one shard).
  auto client = nats_->NewClient();
  auto info = client->GetStreamInfo("trib_1");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_GE(info->messages, acked.size() / kRecordsPerCall);
}

}  // namespace
}  // namespace tributary::e2e
