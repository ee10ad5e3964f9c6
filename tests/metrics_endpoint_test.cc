// `tributary serve --metrics_listen`: after a small scripted run (a stream created, records put),
// one port serves every service's families, the real `promtool check metrics` finds nothing to
// flag, the families carry the run's values, and /-/healthy and /-/ready answer 200.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_server.h"
#include "common/metrics/promtool.h"
#include "common/testing/test_util.h"
#include "gtest/gtest.h"
#include "shard_store/shard_store_client.h"

namespace tributary {
namespace {

// The body of GET `path` (HTTP/1.0), or the status line when it is not 200.
std::string HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{30, 0};  // a failure guard only
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "connect failed";
  }
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\n\r\n");
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) response.append(buf, n);
  ::close(fd);
  if (response.rfind("HTTP/1.1 200 OK\r\n", 0) != 0) return response.substr(0, response.find('\r'));
  return response.substr(response.find("\r\n\r\n") + 4);
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

  const std::string text = HttpGet(*metrics_port, "/metrics");
  EXPECT_TRUE(metrics::PromtoolCheckMetrics(text));
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

}  // namespace
}  // namespace tributary
