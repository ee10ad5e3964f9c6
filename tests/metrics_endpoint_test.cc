// Every service's /metrics after a small scripted run (a stream, records, a mapping):
// - `tributary serve --metrics_listen`: one port serves every service's families;
// - the separate servers (tests/cluster.h, each with --metrics_listen): each serves its own;
// the real `promtool check metrics` finds nothing to flag on any of them, the families carry the
// run's values, and /-/healthy and /-/ready answer 200.
#include <signal.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/metrics/promtool.h"
#include "common/testing/http_get.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "shard_store/shard_store_client.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tests/cluster.h"

namespace tributary {
namespace {

using testing::HttpGet;
using e2e::MetricSample;

// The sum of a family's series over the label `label`'s `values`.
double SumOver(const std::string& text, const std::string& name, const std::string& label,
               const std::vector<std::string>& values) {
  double sum = 0;
  for (const std::string& v : values) {
    const double x = MetricSample(text, absl::StrCat(name, "{", label, "=\"", v, "\"}"));
    if (x < 0) return -1;
    sum += x;
  }
  return sum;
}

const std::vector<std::string> kLeaseStates = {"finished", "disabled", "expired",
                                               "owned",    "unowned",  "waiting"};
const std::vector<std::string> kMappingStates = {"creating",  "enabled",  "updating", "disabling",
                                                 "disabled",  "deleting", "enabling"};

// GET /metrics on `port` until `done` holds for it (real time, bounded: the servers' loops run
// on their own); returns the last text.
std::string ScrapeUntil(int port, const std::function<bool(const std::string&)>& done) {
  std::string text;
  const MonotonicTime deadline = RealClock::Get().MonotonicNow() + absl::Seconds(60);
  while (RealClock::Get().MonotonicNow() < deadline) {
    text = HttpGet(port, "/metrics");
    if (done(text)) break;
    RealClock::Get().SleepFor(absl::Milliseconds(100));
  }
  return text;
}

void ExpectProcessFamilies(const std::string& text) {
  for (const std::string expected : {"\nprocess_resident_memory_bytes ", "\nprocess_open_fds ",
                                     "\ntributary_build_info{version=\""}) {
    EXPECT_TRUE(absl::StrContains(text, expected)) << expected << "\n" << text;
  }
}

TEST(MetricsEndpointTest, TributaryServeExportsEveryServiceCleanOnOnePort) {
  const std::string dir = testing::NewTempDir("metrics_endpoint");
  auto server = testing::Subprocess::Start(
      testing::RunfilePath("tools/tributary/tributary"),
      {"serve", "--data_dir=" + dir + "/data", "--listen=127.0.0.1:0",
       "--port_file=" + dir + "/port", "--metrics_listen=127.0.0.1:0",
       "--metrics_port_file=" + dir + "/metrics_port", "--poller_id=metrics-test"},
      dir + "/log");
  ASSERT_TRUE(server.ok()) << server.status();
  auto port = testing::WaitForPortFile(dir + "/port");
  ASSERT_TRUE(port.ok()) << port.status();
  auto metrics_port = testing::WaitForPortFile(dir + "/metrics_port");
  ASSERT_TRUE(metrics_port.ok()) << metrics_port.status();

  shard_store::ShardStoreClient store(MakeChannel(absl::StrCat("127.0.0.1:", *port)));
  v1::CreateStreamRequest create;
  create.set_stream_name("orders");
  create.set_shard_count(2);
  ASSERT_TRUE(store.CreateStream(create).ok());
  v1::PutRecordsRequest put;
  put.set_stream_name("orders");
  for (int i = 0; i < 3; ++i) {
    auto* r = put.add_records();
    r->set_partition_key(absl::StrCat("k", i));  // 2 bytes
    r->set_data("abcd");                         // 4 bytes
  }
  auto put_response = store.PutRecords(put);
  ASSERT_TRUE(put_response.ok()) << put_response.status();
  ASSERT_EQ(put_response->failed_record_count(), 0);

  // A mapping on the stream (its function is nowhere: only the tracker's and leasing's state
  // matter here). The sync creates a lease per shard.
  stream_tracker::StreamTrackerClient tracker(MakeChannel(absl::StrCat("127.0.0.1:", *port)));
  v1::CreateEventSourceMappingRequest mapping;
  mapping.set_stream_name("orders");
  mapping.set_function_endpoint("127.0.0.1:1");
  mapping.set_starting_position(v1::TRIM_HORIZON_POSITION);
  ASSERT_TRUE(tracker.CreateEventSourceMapping(mapping).ok());

  const std::string text = ScrapeUntil(*metrics_port, [](const std::string& t) {
    return SumOver(t, "tributary_leasing_leases", "state", kLeaseStates) == 2 &&
           MetricSample(t, "tributary_tracker_mappings{state=\"enabled\"}") == 1;
  });
  EXPECT_TRUE(metrics::PromtoolCheckMetrics(text));
  EXPECT_EQ(SumOver(text, "tributary_leasing_leases", "state", kLeaseStates), 2) << text;
  EXPECT_EQ(SumOver(text, "tributary_tracker_mappings", "state", kMappingStates), 1) << text;
  EXPECT_EQ(MetricSample(text, "tributary_tracker_mappings{state=\"enabled\"}"), 1) << text;
  EXPECT_GE(MetricSample(text, "tributary_tracker_sync_passes_total{result=\"ok\"}"), 1) << text;
  EXPECT_GE(MetricSample(text, "tributary_tracker_sync_pass_duration_seconds_count"), 1) << text;
  EXPECT_EQ(MetricSample(text, "tributary_leasing_pollers{state=\"live\"}"), 1) << text;
  EXPECT_GE(MetricSample(text, "tributary_leasing_heartbeats_total"), 0) << text;
  EXPECT_EQ(MetricSample(text, "tributary_leasing_fenced_checkpoints_total"), 0) << text;
  EXPECT_EQ(MetricSample(text, "tributary_leasing_lease_expirations_total"), 0) << text;
  for (const std::string expected : {
           "tributary_store_records_in_total{stream=\"orders\"} 3\n",
           "tributary_store_bytes_in_total{stream=\"orders\"} 18\n",
           "tributary_store_put_latency_seconds_count 1\n",
           "# TYPE tributary_store_put_throttled_records_total counter\n",
           "# TYPE tributary_store_rocksdb_pending_compaction_bytes gauge\n",
           "# TYPE tributary_store_rocksdb_write_stopped gauge\n",
           "# TYPE tributary_poller_iterator_age_seconds gauge\n",
           "\nprocess_resident_memory_bytes ",
           "\nprocess_open_fds ",
           "\ntributary_build_info{version=\"",
       }) {
    EXPECT_TRUE(absl::StrContains(text, expected)) << expected << "\n" << text;
  }
  EXPECT_EQ(HttpGet(*metrics_port, "/-/healthy"), "OK\n");
  EXPECT_EQ(HttpGet(*metrics_port, "/-/ready"), "OK\n");

  ASSERT_EQ(::kill(server->pid(), SIGTERM), 0);
  auto status = server->Wait(absl::Seconds(60));
  ASSERT_TRUE(status.ok()) << status.status();
}

TEST(MetricsEndpointTest, EachSeparateServerExportsItsOwnFamiliesClean) {
  e2e::ClusterOptions options;
  options.pollers = 1;
  options.metrics = true;
  e2e::Cluster cluster(options);
  ASSERT_TRUE(cluster.Start().ok());

  v1::CreateStreamRequest create;
  create.set_stream_name("orders");
  create.set_shard_count(2);
  ASSERT_TRUE(cluster.streams().CreateStream(create).ok());
  stream_tracker::StreamTrackerClient tracker(MakeChannel(cluster.stream_tracker_address()));
  v1::CreateEventSourceMappingRequest mapping;
  mapping.set_stream_name("orders");
  mapping.set_function_endpoint(cluster.function_address());
  mapping.set_starting_position(v1::TRIM_HORIZON_POSITION);
  ASSERT_TRUE(tracker.CreateEventSourceMapping(mapping).ok());
  v1::PutRecordsRequest put;
  put.set_stream_name("orders");
  for (int i = 0; i < 3; ++i) {
    auto* r = put.add_records();
    r->set_partition_key(absl::StrCat("k", i));
    r->set_data("abcd");
  }
  auto put_response = cluster.streams().PutRecords(put);
  ASSERT_TRUE(put_response.ok()) << put_response.status();
  ASSERT_EQ(put_response->failed_record_count(), 0);

  auto store_port = cluster.MetricsPort(e2e::Component::kShardStore);
  auto leasing_port = cluster.MetricsPort(e2e::Component::kLeasing);
  auto tracker_port = cluster.MetricsPort(e2e::Component::kStreamTracker);
  auto poller_port = cluster.MetricsPort(e2e::Component::kPoller0);
  ASSERT_TRUE(store_port.ok()) << store_port.status();
  ASSERT_TRUE(leasing_port.ok()) << leasing_port.status();
  ASSERT_TRUE(tracker_port.ok()) << tracker_port.status();
  ASSERT_TRUE(poller_port.ok()) << poller_port.status();

  // Leasing: both leases owned by the one poller, heartbeats and the delivered records'
  // checkpoints counted.
  const std::string leasing = ScrapeUntil(*leasing_port, [](const std::string& t) {
    return MetricSample(t, "tributary_leasing_leases{state=\"owned\"}") == 2 &&
           MetricSample(t, "tributary_leasing_checkpoints_total") >= 1;
  });
  EXPECT_TRUE(metrics::PromtoolCheckMetrics(leasing));
  EXPECT_EQ(MetricSample(leasing, "tributary_leasing_leases{state=\"owned\"}"), 2) << leasing;
  EXPECT_EQ(SumOver(leasing, "tributary_leasing_leases", "state", kLeaseStates), 2) << leasing;
  EXPECT_GE(MetricSample(leasing, "tributary_leasing_checkpoints_total"), 1) << leasing;
  EXPECT_GE(MetricSample(leasing, "tributary_leasing_heartbeats_total"), 1) << leasing;
  EXPECT_EQ(MetricSample(leasing, "tributary_leasing_fenced_checkpoints_total"), 0) << leasing;
  EXPECT_EQ(MetricSample(leasing, "tributary_leasing_pollers{state=\"live\"}"), 1) << leasing;
  EXPECT_FALSE(absl::StrContains(leasing, "tributary_store_")) << leasing;
  ExpectProcessFamilies(leasing);

  // The store: the records in, and out (the poller read them).
  const std::string store = ScrapeUntil(*store_port, [](const std::string& t) {
    return MetricSample(t, "tributary_store_records_out_total{stream=\"orders\"}") >= 3;
  });
  EXPECT_TRUE(metrics::PromtoolCheckMetrics(store));
  EXPECT_EQ(MetricSample(store, "tributary_store_records_in_total{stream=\"orders\"}"), 3) << store;
  // The poller reads with SubscribeToShard: those records count as out.
  EXPECT_GE(MetricSample(store, "tributary_store_records_out_total{stream=\"orders\"}"), 3)
      << store;
  EXPECT_GE(MetricSample(store, "tributary_store_bytes_out_total{stream=\"orders\"}"), 18) << store;
  EXPECT_FALSE(absl::StrContains(store, "tributary_leasing_")) << store;
  ExpectProcessFamilies(store);

  // The tracker: the mapping enabled, passes counted and timed.
  const std::string tracker_text = ScrapeUntil(*tracker_port, [](const std::string& t) {
    return MetricSample(t, "tributary_tracker_mappings{state=\"enabled\"}") == 1;
  });
  EXPECT_TRUE(metrics::PromtoolCheckMetrics(tracker_text));
  EXPECT_EQ(MetricSample(tracker_text, "tributary_tracker_mappings{state=\"enabled\"}"), 1)
      << tracker_text;
  EXPECT_EQ(SumOver(tracker_text, "tributary_tracker_mappings", "state", kMappingStates), 1)
      << tracker_text;
  EXPECT_GE(MetricSample(tracker_text, "tributary_tracker_sync_passes_total{result=\"ok\"}"), 1)
      << tracker_text;
  EXPECT_GE(MetricSample(tracker_text, "tributary_tracker_sync_pass_duration_seconds_count"), 1)
      << tracker_text;
  ExpectProcessFamilies(tracker_text);

  const std::string poller = HttpGet(*poller_port, "/metrics");
  EXPECT_TRUE(metrics::PromtoolCheckMetrics(poller));
  EXPECT_TRUE(absl::StrContains(poller, "# TYPE tributary_poller_iterator_age_seconds gauge\n"))
      << poller;

  for (int port : {*store_port, *leasing_port, *tracker_port}) {
    EXPECT_EQ(HttpGet(port, "/-/healthy"), "OK\n");
    EXPECT_EQ(HttpGet(port, "/-/ready"), "OK\n");
  }
}

}  // namespace
}  // namespace tributary
