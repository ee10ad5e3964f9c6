// stream_tracker_server: the EventSourceMappings and Functions services and the lease sync loop,
// talking to a shard store and a leasing server. Flags and wiring only (see stream_tracker.h).
// --aws_region / --aws_account_id name the same flags as the AWS front door's (aws/aws_flags.h,
// which this binary does not link): the region and account of function ARNs.
#include <atomic>
#include <memory>

#include "absl/time/time.h"
#include "common/aws_arn.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/host_port.h"
#include "common/metrics/metrics_endpoint.h"
#include "common/metrics/process_metrics.h"
#include "common/metrics/registry.h"
#include "common/server_main.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "stream_tracker/function_config.h"
#include "stream_tracker/stream_tracker.h"

DEFINE_string(listen, "127.0.0.1:4563", "host:port to serve gRPC on (port 0 picks a free one)");
DEFINE_string(metrics_listen, "",
              "host:port for Prometheus text at GET /metrics, /-/healthy, /-/ready (empty: off)");
DEFINE_string(metrics_port_file, "",
              "After binding --metrics_listen, write its port to this file (for host:0)");
DEFINE_string(data_dir, "", "directory of the mapping store (required)");
DEFINE_string(shard_store, "127.0.0.1:4561", "host:port of the Streams service");
DEFINE_string(leasing, "127.0.0.1:4562", "host:port of the Leasing service");
DEFINE_int64(sync_interval_ms, 1000, "time between lease sync passes, in milliseconds");
DEFINE_int64(full_sync_interval_ms, 60000,
             "longest time a mapping goes without a full look at its shards and leases (ms)");
DEFINE_bool(sync_writes, false, "fsync every mapping change (power-loss durability)");
DEFINE_string(aws_region, "us-east-1", "The region in function ARNs.");
DEFINE_string(aws_account_id, "000000000000", "The account id (12 digits) in function ARNs.");

int main(int argc, char** argv) {
  tributary::InitServerMain(&argc, &argv,
                            "stream_tracker_server --data_dir=DIR [--listen=host:port] "
                            "[--shard_store=host:port] [--leasing=host:port]");
  if (absl::Status s = tributary::CheckAddressFlags(
          {{"listen", FLAGS_listen, tributary::AddressUse::kListen},
           {"metrics_listen", FLAGS_metrics_listen, tributary::AddressUse::kListen,
            /*empty_means_off=*/true},
           {"shard_store", FLAGS_shard_store, tributary::AddressUse::kDial},
           {"leasing", FLAGS_leasing, tributary::AddressUse::kDial}});
      !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  if (FLAGS_data_dir.empty()) {
    LOG(ERROR) << "--data_dir is required";
    return 2;
  }
  tributary::stream_tracker::StreamTracker::Options options;
  options.data_dir = FLAGS_data_dir;
  options.sync_interval = absl::Milliseconds(FLAGS_sync_interval_ms);
  options.full_sync_interval = absl::Milliseconds(FLAGS_full_sync_interval_ms);
  options.sync_writes = FLAGS_sync_writes;
  options.function_account.region = FLAGS_aws_region;
  options.function_account.account_id = FLAGS_aws_account_id;
  if (absl::Status s = tributary::ValidateAwsAccount(options.function_account); !s.ok()) {
    LOG(ERROR) << "--" << s.message();
    return 2;
  }
  auto tracker = tributary::stream_tracker::StreamTracker::Create(
      options, tributary::MakeChannel(FLAGS_shard_store), tributary::MakeChannel(FLAGS_leasing),
      tributary::RealClock::Get());
  if (!tracker.ok()) {
    LOG(ERROR) << "starting the stream tracker: " << tracker.status();
    return 1;
  }
  tributary::metrics::Registry registry;
  tributary::metrics::RegisterProcessMetrics(registry);
  (*tracker)->AddMetricsTo(registry);
  std::atomic<bool> serving{false};
  // The metrics endpoint (off unless --metrics_listen): this service's families, process_*
  // and build info; /-/ready once the gRPC server serves.
  auto metrics_http = tributary::metrics::ServeRegistry(
      FLAGS_metrics_listen, FLAGS_metrics_port_file, registry, [&serving] { return serving.load(); });
  if (!metrics_http.ok()) {
    LOG(ERROR) << "--metrics_listen: " << metrics_http.status();
    return 1;
  }
  auto server = tributary::GrpcServer::Start(
      FLAGS_listen,
      {(*tracker)->service(), (*tracker)->functions_service(), (*tracker)->checkpoints_service()});
  if (!server.ok()) {
    LOG(ERROR) << "serving on " << FLAGS_listen << ": " << server.status();
    return 1;
  }
  if (absl::Status status = tributary::WritePortFile((*server)->port()); !status.ok()) {
    LOG(ERROR) << status;
    return 1;
  }
  (*tracker)->Start();
  serving = true;
  LOG(INFO) << "stream_tracker_server serving on " << (*server)->address();
  const int signal = tributary::WaitForTerminationSignal();
  LOG(INFO) << "signal " << signal << ": shutting down";
  metrics_http->reset();
  (*server)->Shutdown();
  tracker->reset();
  return 0;
}
