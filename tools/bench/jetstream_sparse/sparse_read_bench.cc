// Measures what a read of a sparse shard costs when another shard of the same JetStream stream
// holds many messages (issue 20: "a sparse shard among many must not cost a scan of the whole
// stream"). One stream, two subjects: `dense` gets --dense_messages messages of --size bytes,
// `sparse` one message before them and one after. Then, --repeats times each, timed:
//   - next-by-subject of `sparse` from just after its first message (the server must get past
//     every dense message to find the second: the gap a shard log read crosses);
//   - next-by-subject of `dense` from the middle (a dense read, for comparison);
//   - next-by-subject of `sparse` after its last message (NOT_FOUND at the end);
//   - last-by-subject of `sparse`.
// Prints the median and the maximum per probe. Needs a running nats-server with JetStream
// (max_payload ≥ the batch); the stream is created fresh and deleted at the end.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gflags/gflags.h"
#include "nats/nats_client.h"

DEFINE_string(nats, "127.0.0.1:4222", "NATS server(s), comma-separated host:port.");
DEFINE_int32(dense_messages, 1000000, "Messages of the dense subject.");
DEFINE_int32(size, 100, "Bytes per message.");
DEFINE_int32(repeats, 20, "Timed repeats per probe.");
DEFINE_int32(replicas, 1, "Stream replicas.");
DEFINE_string(stream, "sparse_bench", "Stream name (deleted first if it exists).");

namespace tributary::nats {
namespace {

void Check(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

template <typename F>
void Probe(const char* name, F f) {
  std::vector<double> ms;
  for (int i = 0; i < FLAGS_repeats; ++i) {
    const absl::Time start = absl::Now();
    f();
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  std::sort(ms.begin(), ms.end());
  std::printf("| %s | %.3f | %.3f |\n", name, ms[ms.size() / 2], ms.back());
}

int Main() {
  NatsClientOptions options;
  for (size_t start = 0; start <= FLAGS_nats.size();) {
    size_t end = FLAGS_nats.find(',', start);
    if (end == std::string::npos) end = FLAGS_nats.size();
    options.servers.push_back(FLAGS_nats.substr(start, end - start));
    start = end + 1;
  }
  options.request_timeout = absl::Seconds(30);
  absl::StatusOr<std::unique_ptr<NatsClient>> client = NatsClient::Connect(options);
  Check(client.status(), "connect");
  NatsClient& c = **client;
  const std::string stream = FLAGS_stream;
  const std::string dense = stream + ".dense";
  const std::string sparse = stream + ".sparse";
  (void)c.DeleteStream(stream);
  StreamConfig config;
  config.name = stream;
  config.subjects = {dense, sparse};
  config.replicas = FLAGS_replicas;
  Check(c.CreateStream(config).status(), "create stream");

  absl::StatusOr<PubAck> first = c.Publish(sparse, "first");
  Check(first.status(), "publish sparse");
  const std::string data(FLAGS_size, 'd');
  const absl::Time fill_start = absl::Now();
  constexpr int kBatch = 1000;
  std::vector<OutgoingMessage> batch;
  for (int sent = 0; sent < FLAGS_dense_messages; sent += kBatch) {
    batch.assign(std::min(kBatch, FLAGS_dense_messages - sent), OutgoingMessage{dense, data, {}});
    for (const absl::StatusOr<PubAck>& ack : c.PublishBatch(batch)) {
      Check(ack.status(), "publish dense");
    }
  }
  const double fill_s = absl::ToDoubleSeconds(absl::Now() - fill_start);
  absl::StatusOr<PubAck> second = c.Publish(sparse, "second");
  Check(second.status(), "publish sparse");
  absl::StatusOr<StreamInfo> info = c.GetStreamInfo(stream);
  Check(info.status(), "stream info");
  std::printf("stream %s: %llu messages, %llu bytes, R%d; filled in %.1f s (%.0f msg/s)\n",
              stream.c_str(), static_cast<unsigned long long>(info->messages),
              static_cast<unsigned long long>(info->bytes), FLAGS_replicas, fill_s,
              FLAGS_dense_messages / fill_s);
  std::printf("| probe | median ms | max ms |\n|---|---|---|\n");
  Probe("sparse: next from after its first message (crosses every dense one)", [&] {
    absl::StatusOr<StoredMessage> m = c.DirectGetNext(stream, sparse, first->sequence + 1);
    Check(m.status(), "next sparse");
    if (m->sequence != second->sequence) std::exit(2);
  });
  Probe("dense: next from the middle", [&] {
    Check(c.DirectGetNext(stream, dense, second->sequence / 2).status(), "next dense");
  });
  Probe("sparse: next after its last message (not found)", [&] {
    absl::StatusOr<StoredMessage> m = c.DirectGetNext(stream, sparse, second->sequence + 1);
    if (!absl::IsNotFound(m.status())) std::exit(3);
  });
  Probe("sparse: last by subject", [&] {
    Check(c.DirectGetLast(stream, sparse).status(), "last sparse");
  });
  Probe("sparse: next from sequence 1 (its first message)", [&] {
    Check(c.DirectGetNext(stream, sparse, 1).status(), "first sparse");
  });
  Check(c.DeleteStream(stream), "delete stream");
  return 0;
}

}  // namespace
}  // namespace tributary::nats

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return tributary::nats::Main();
}
