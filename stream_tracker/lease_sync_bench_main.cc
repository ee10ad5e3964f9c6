// lease_sync_bench: how long a lease sync pass takes against the real Streams and Leasing
// services in this process (in-process gRPC channels, RocksDB under --dir), for --mappings
// mappings on one stream of --shards shards: the first pass (every lease created), the next two
// (nothing to do: a probe per stream, no listing), and a pass after one split (a full look).
// Bounded: one run of each, sizes capped.
//
//   bazel run -c opt //stream_tracker:lease_sync_bench -- --mappings=100 --shards=16
//   bazel run -c opt //stream_tracker:lease_sync_bench -- --mappings=1 --shards=9999
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>

#include "absl/numeric/int128.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/server_main.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "leasing/leasing_service.h"
#include "shard_store/shard_store_client.h"
#include "shard_store/shard_store_node.h"
#include "stream_tracker/stream_tracker.h"

DEFINE_int32(mappings, 100, "mappings on the stream (1-1000)");
DEFINE_int32(shards, 16, "shards of the stream (1-10000)");
DEFINE_string(dir, "/tmp/lease_sync_bench", "scratch directory (must not exist or be empty)");

namespace {

double TimePass(tributary::stream_tracker::LeaseSync* sync) {
  const absl::Time start = absl::Now();
  absl::Status status = sync->RunOnce();
  CHECK(status.ok()) << status;
  return absl::ToDoubleMilliseconds(absl::Now() - start);
}

}  // namespace

int main(int argc, char** argv) {
  tributary::InitServerMain(&argc, &argv, "lease_sync_bench [--mappings=N] [--shards=N]");
  CHECK(FLAGS_mappings >= 1 && FLAGS_mappings <= 1000) << "--mappings: 1-1000";
  CHECK(FLAGS_shards >= 1 && FLAGS_shards <= 10000) << "--shards: 1-10000";
  tributary::RealClock& clock = tributary::RealClock::Get();

  tributary::shard_store::ShardStoreNodeOptions store_options;
  store_options.store.data_dir = FLAGS_dir + "/shard_store";
  store_options.trim_period = absl::ZeroDuration();
  auto node = tributary::shard_store::ShardStoreNode::Create(store_options, clock);
  CHECK(node.ok()) << node.status();
  auto leasing = tributary::leasing::LeasingStack::Create(clock, FLAGS_dir + "/leasing",
                                                          tributary::leasing::LeaseTableOptions());
  CHECK(leasing.ok()) << leasing.status();
  auto backends =
      tributary::GrpcServer::Start("127.0.0.1:0", {(*node)->service(), &(*leasing)->service()});
  CHECK(backends.ok()) << backends.status();
  tributary::stream_tracker::StreamTracker::Options options;
  options.data_dir = FLAGS_dir + "/stream_tracker";
  auto tracker = tributary::stream_tracker::StreamTracker::Create(
      options, (*backends)->InProcessChannel(), (*backends)->InProcessChannel(), clock);
  CHECK(tracker.ok()) << tracker.status();

  tributary::shard_store::ShardStoreClient streams((*backends)->InProcessChannel());
  tributary::v1::CreateStreamRequest create_stream;
  create_stream.set_stream_name("bench");
  create_stream.set_shard_count(FLAGS_shards);
  CHECK(streams.CreateStream(create_stream).ok());
  for (int i = 0; i < FLAGS_mappings; ++i) {
    tributary::v1::CreateEventSourceMappingRequest request;
    request.set_stream_name("bench");
    request.set_function_endpoint("127.0.0.1:9");
    request.set_starting_position(tributary::v1::TRIM_HORIZON_POSITION);
    auto created = (*tracker)->manager()->Create(request);
    CHECK(created.ok()) << created.status();
  }
  tributary::stream_tracker::LeaseSync* sync = (*tracker)->lease_sync();
  const double first = TimePass(sync);
  // From the second pass on nothing has changed (the first one also recorded ENABLED).
  const double second = TimePass(sync);
  const double steady = TimePass(sync);
  auto shards = streams.ListAllShards("bench");
  CHECK(shards.ok());
  const auto& range = (*shards)[0].hash_key_range();
  tributary::v1::SplitShardRequest split;
  split.set_stream_name("bench");
  split.set_shard_to_split((*shards)[0].shard_id());
  // Any key strictly inside the first shard's range splits it; its start + 1 always is.
  absl::uint128 start_key;
  CHECK(absl::SimpleAtoi(range.starting_hash_key(), &start_key));
  std::ostringstream key;
  key << start_key + 1;
  split.set_new_starting_hash_key(key.str());
  auto split_status = streams.SplitShard(split);
  CHECK(split_status.ok()) << split_status.status();
  const double after_split = TimePass(sync);
  std::printf(
      "mappings=%d shards=%d leases after the split=%d: first pass %.1f ms, second pass %.1f ms, "
      "steady pass %.2f ms (%.3f ms per mapping), pass after a split %.1f ms\n",
      FLAGS_mappings, FLAGS_shards, FLAGS_mappings * (FLAGS_shards + 2), first, second, steady,
      steady / FLAGS_mappings, after_split);
  (*backends)->Shutdown();
  return 0;
}
