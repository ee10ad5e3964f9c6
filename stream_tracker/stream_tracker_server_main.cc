// stream_tracker_server: the EventSourceMappings and Functions services and the lease sync loop,
// talking to a shard store and a leasing server. Flags and wiring only (see stream_tracker.h).
// --aws_region / --aws_account_id name the same flags as the AWS front door's (aws/aws_flags.h,
// which this binary does not link): the region and account of function ARNs.
//
//   stream_tracker_server --data_dir=/var/lib/tributary/stream_tracker
//   stream_tracker_server --coordination=etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379
//
// With --coordination the mappings and functions live in etcd (cluster mode, issue 19): run
// several replicas over one etcd prefix; the lease sync runs on the one holding the election.
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/aws_arn.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/host_port.h"
#include "common/metrics/metrics_endpoint.h"
#include "common/replica_channel.h"
#include "common/security_flags.h"
#include "common/server_main.h"
#include "etcd/etcd_url.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "stream_tracker/function_config.h"
#include "stream_tracker/stream_tracker.h"

DEFINE_string(listen, "127.0.0.1:4563", "host:port to serve gRPC on (port 0 picks a free one)");
DEFINE_string(metrics_listen, "",
              "host:port for Prometheus text at GET /metrics, /-/healthy, /-/ready (empty: off)");
DEFINE_string(metrics_port_file, "",
              "After binding --metrics_listen, write its port to this file (for host:0)");
DEFINE_string(data_dir, "", "directory of the mapping store (required without --coordination)");
DEFINE_string(coordination, "",
              "etcd://HOST:PORT[,HOST:PORT...]: keep mappings and functions in this etcd cluster "
              "instead of RocksDB (cluster mode: several replicas, any answers any request, the "
              "lease sync runs on the one holding the election); empty: RocksDB in --data_dir");
DEFINE_string(etcd_prefix, "/tributary/tracker/",
              "With --coordination: the etcd key prefix of this tracker cluster (ends with '/')");
DEFINE_int64(election_ttl_ms, 5000,
             "With --coordination: the election lease's TTL (whole seconds, >= 2000): a dead "
             "sync holder is replaced within about 1.25 times this");
DEFINE_string(shard_store, "127.0.0.1:4561",
              "host:port of the Streams service, or a comma-separated list of its front-ends "
              "(cluster mode)");
DEFINE_string(leasing, "127.0.0.1:4562",
              "host:port of the Leasing service; several replicas: a comma-separated list, "
              "failed over in order");
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
            /*empty_means_off=*/true}});
      !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string&>{"shard_store", FLAGS_shard_store},
        {"leasing", FLAGS_leasing}}) {
    if (absl::Status s = tributary::CheckAddressListFlag(name, value); !s.ok()) {
      LOG(ERROR) << s.message();
      return 2;
    }
  }
  if (absl::Status s = tributary::CheckSecurityFlags(
          {{"listen", FLAGS_listen}, {"metrics_listen", FLAGS_metrics_listen}},
          {{"shard_store", FLAGS_shard_store}, {"leasing", FLAGS_leasing}});
      !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  absl::StatusOr<tributary::GrpcClientSecurity> client = tributary::ClientSecurityFromFlags();
  if (!client.ok()) {
    LOG(ERROR) << client.status().message();
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> etcd_endpoints = tributary::etcd::ParseCoordinationFlags(
      FLAGS_coordination, FLAGS_data_dir, "the mappings live",
      tributary::etcd::DataDirWithEtcd::kExcluded);
  if (!etcd_endpoints.ok()) {
    LOG(ERROR) << etcd_endpoints.status().message();
    return 2;
  }
  tributary::stream_tracker::StreamTracker::Options options;
  options.data_dir = FLAGS_data_dir;
  options.sync_interval = absl::Milliseconds(FLAGS_sync_interval_ms);
  options.full_sync_interval = absl::Milliseconds(FLAGS_full_sync_interval_ms);
  options.sync_writes = FLAGS_sync_writes;
  options.function_account.region = FLAGS_aws_region;
  options.function_account.account_id = FLAGS_aws_account_id;
  options.etcd_endpoints = *etcd_endpoints;
  options.etcd_prefix = FLAGS_etcd_prefix;
  options.election_ttl = absl::Milliseconds(FLAGS_election_ttl_ms);
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  options.replica_name = absl::StrCat(host, " pid ", getpid(), " listen ", FLAGS_listen);
  if (absl::Status s = tributary::ValidateAwsAccount(options.function_account); !s.ok()) {
    LOG(ERROR) << "--" << s.message();
    return 2;
  }
  absl::StatusOr<tributary::HostAllowList> allow = tributary::FunctionEndpointAllowFromFlags();
  if (!allow.ok()) {
    LOG(ERROR) << allow.status().message();
    return 2;
  }
  options.function_endpoint_allow = *allow;
  LOG(INFO) << "function endpoints may name: " << allow->ToString();
  auto tracker = tributary::stream_tracker::StreamTracker::Create(
      options, tributary::MakeReplicaChannel(FLAGS_shard_store, *client),
      tributary::MakeReplicaChannel(FLAGS_leasing, *client), tributary::RealClock::Get());
  if (!tracker.ok()) {
    LOG(ERROR) << "starting the stream tracker: " << tracker.status();
    return 1;
  }
  const tributary::GrpcServerSecurity security = tributary::ServerSecurityFromFlags();
  // The metrics endpoint (off unless --metrics_listen): this service's families, process_*
  // and build info; /-/ready once the gRPC server serves.
  auto metrics = tributary::metrics::ServerMetrics::Start(
      FLAGS_metrics_listen, FLAGS_metrics_port_file, security,
      [&](tributary::metrics::Registry& r) { (*tracker)->AddMetricsTo(r); });
  if (!metrics.ok()) {
    LOG(ERROR) << "--metrics_listen: " << metrics.status();
    return 1;
  }
  auto server = tributary::GrpcServer::Start(
      FLAGS_listen,
      {(*tracker)->service(), (*tracker)->functions_service(), (*tracker)->checkpoints_service()},
      security);
  if (!server.ok()) {
    LOG(ERROR) << "serving on " << FLAGS_listen << ": " << server.status();
    return 1;
  }
  if (absl::Status status = tributary::WritePortFile((*server)->port()); !status.ok()) {
    LOG(ERROR) << status;
    return 1;
  }
  (*tracker)->Start();
  (*metrics)->SetServing();
  LOG(INFO) << "stream_tracker_server serving on " << (*server)->address() << " ("
            << tributary::DescribeServerSecurity(security) << ")";
  const int signal = tributary::WaitForTerminationSignal([&server] {
    if (absl::Status s = (*server)->ReloadAuthTokens(); !s.ok()) LOG(ERROR) << s;
  });
  LOG(INFO) << "signal " << signal << ": shutting down";
  (*metrics)->Stop();
  (*server)->Shutdown();
  tracker->reset();
  return 0;
}
