// poller_server: a Tributary poller. Holds leases from leasing, reads their shards from the
// shard store, invokes each mapping's function, and serves its metrics over gRPC
// (tributary.v1.Pollers) and Prometheus text (--metrics_listen). Flags and wiring only.
#include <cstdio>
#include <string>

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
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "poller/poller_id.h"
#include "poller/poller_node.h"

DEFINE_string(listen, "127.0.0.1:4564", "gRPC address to serve tributary.v1.Pollers on");
DEFINE_string(poller_id, "",
              "This poller's id in leasing and in its metrics' labels (default: the host's name; "
              "give each poller on one host its own)");
DEFINE_int32(capacity, 10, "The most leases this poller holds");
DEFINE_int64(memory_budget_mb, 0,
             "MiB of records this poller's shards may buffer together (read, not yet done); "
             "past it their readers wait, in order, until records are done (nothing is dropped). "
             "Each shard is also bounded alone (64 MiB). 0: no poller-wide budget; else >= 16.");
DEFINE_int32(invoke_threads, 64,
             "Threads shared by every lease of this poller: the most batches (invocations, "
             "backoff waits) in progress at once");
DEFINE_int32(window_close_grace_ms, 1000,
             "Tumbling windows: how long after a window's end an idle window is closed (the "
             "shard's reader at its tip), in milliseconds.");
DEFINE_string(shard_store, "127.0.0.1:4561",
              "Address of the shard store (tributary.v1.Streams), or a comma-separated list of "
              "its front-ends (cluster mode): calls fail over between them");
DEFINE_string(leasing, "127.0.0.1:4562",
              "Address of leasing (tributary.v1.Leasing); several replicas: a comma-separated "
              "list, failed over in order");
DEFINE_string(stream_tracker, "127.0.0.1:4563",
              "Address of the stream tracker (tributary.v1.EventSourceMappings); several "
              "replicas: a comma-separated list, failed over in order");
DEFINE_string(metrics_listen, "127.0.0.1:9464",
              "host:port for Prometheus GET /metrics; empty disables it");
// The same flags as the AWS front door's (aws/aws_flags.h, which this binary does not link), as
// stream_tracker_server has them: the region and account of Lambda's events.
DEFINE_string(aws_region, "us-east-1",
              "The region in the Lambda events sent to http(s) function endpoints (awsRegion, "
              "ARNs).");
DEFINE_string(aws_account_id, "000000000000",
              "The account id (12 digits) in the ARNs of the Lambda events sent to http(s) "
              "function endpoints.");
DEFINE_string(function_ca_file, "",
              "https:// and grpcs:// function endpoints: a PEM file of the certificate "
              "authorities to trust (default: the system's).");
DEFINE_string(metrics_port_file, "",
              "After binding --metrics_listen, write its port to this file (for host:0)");

int main(int argc, char** argv) {
  tributary::InitServerMain(&argc, &argv, "poller_server: turns leases into function invocations");
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
        {"leasing", FLAGS_leasing},
        {"stream_tracker", FLAGS_stream_tracker}}) {
    if (absl::Status s = tributary::CheckAddressListFlag(name, value); !s.ok()) {
      LOG(ERROR) << s.message();
      return 2;
    }
  }
  if (absl::Status s = tributary::CheckSecurityFlags(
          {{"listen", FLAGS_listen}, {"metrics_listen", FLAGS_metrics_listen}},
          {{"shard_store", FLAGS_shard_store},
           {"leasing", FLAGS_leasing},
           {"stream_tracker", FLAGS_stream_tracker}});
      !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  absl::StatusOr<tributary::GrpcClientSecurity> client = tributary::ClientSecurityFromFlags();
  if (!client.ok()) {
    LOG(ERROR) << client.status().message();
    return 2;
  }
  const std::string poller_id =
      FLAGS_poller_id.empty() ? tributary::poller::DefaultPollerId() : FLAGS_poller_id;
  tributary::poller::PollerNodeOptions options;
  options.poller_id = poller_id;
  options.capacity = FLAGS_capacity;
  options.invoke_threads = FLAGS_invoke_threads;
  options.memory_budget_bytes = FLAGS_memory_budget_mb << 20;
  options.window_close_grace = absl::Milliseconds(FLAGS_window_close_grace_ms);
  options.shard_store_address = FLAGS_shard_store;
  options.leasing_address = FLAGS_leasing;
  options.stream_tracker_address = FLAGS_stream_tracker;
  options.client_security = *client;
  const tributary::GrpcServerSecurity security = tributary::ServerSecurityFromFlags();
  options.metrics_tls = tributary::metrics::MetricsTls(security);
  options.metrics_listen = FLAGS_metrics_listen;
  options.aws_account.region = FLAGS_aws_region;
  options.aws_account.account_id = FLAGS_aws_account_id;
  options.function_ca_file = FLAGS_function_ca_file;
  {
    absl::StatusOr<tributary::GrpcClientSecurity> function_tls =
        tributary::FunctionClientSecurityFromFlags(FLAGS_function_ca_file);
    if (!function_tls.ok()) {
      LOG(ERROR) << function_tls.status().message();
      return 2;
    }
    options.function_client_cert = function_tls->cert_file;
    options.function_client_key = function_tls->key_file;
  }
  if (absl::Status s = tributary::ValidateAwsAccount(options.aws_account); !s.ok()) {
    LOG(ERROR) << "--" << s.message();
    return 2;
  }
  absl::StatusOr<tributary::HostAllowList> allow = tributary::FunctionEndpointAllowFromFlags();
  if (!allow.ok()) {
    LOG(ERROR) << allow.status().message();
    return 2;
  }
  options.function_endpoint_allow = *allow;
  auto node = tributary::poller::PollerNode::Create(options, tributary::RealClock::Get());
  if (!node.ok()) {
    LOG(ERROR) << "starting poller: " << node.status();
    return 1;
  }
  auto server = tributary::GrpcServer::Start(FLAGS_listen, {(*node)->service()}, security);
  if (!server.ok()) {
    LOG(ERROR) << "serving on " << FLAGS_listen << ": " << server.status();
    return 1;
  }
  if (absl::Status s = tributary::WritePortFile((*server)->port()); !s.ok()) {
    LOG(ERROR) << s;
    return 1;
  }
  if (!FLAGS_metrics_port_file.empty()) {
    const std::string tmp = FLAGS_metrics_port_file + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr || std::fprintf(f, "%d\n", (*node)->metrics_port()) < 0 ||
        std::fclose(f) != 0 || std::rename(tmp.c_str(), FLAGS_metrics_port_file.c_str()) != 0) {
      LOG(ERROR) << "writing " << FLAGS_metrics_port_file;
      return 1;
    }
  }
  LOG(INFO) << "poller " << poller_id << " serving on " << (*server)->address() << " ("
            << tributary::DescribeServerSecurity(security) << ")"
            << (options.metrics_listen.empty()
                    ? std::string()
                    : absl::StrCat(", metrics on port ", (*node)->metrics_port()));
  (*node)->Start();
  const int signal = tributary::WaitForTerminationSignal([&server] {
    if (absl::Status s = (*server)->ReloadAuthTokens(); !s.ok()) LOG(ERROR) << s;
  });
  LOG(INFO) << "signal " << signal << ": releasing leases and stopping";
  (*node)->Shutdown();
  (*server)->Shutdown();
  return 0;
}
