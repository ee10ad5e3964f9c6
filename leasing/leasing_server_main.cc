// leasing_server: the tributary.v1.Leasing service on its own (flags and wiring only).
//
//   leasing_server --data_dir=/var/lib/tributary/leasing [--listen=127.0.0.1:4562]
//   leasing_server --coordination=etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379
//
// With --coordination the lease table lives in etcd (cluster mode, issue 19) instead of RocksDB.
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/host_port.h"
#include "common/metrics/metrics_endpoint.h"
#include "common/security_flags.h"
#include "common/server_main.h"
#include "etcd/etcd_client.h"
#include "etcd/etcd_url.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "leasing/etcd_leasing.h"
#include "leasing/lease_table.h"
#include "leasing/leasing_service.h"

DEFINE_string(listen, "127.0.0.1:4562", "host:port to serve tributary.v1.Leasing on (port 0: any)");
DEFINE_string(metrics_listen, "",
              "host:port for Prometheus text at GET /metrics, /-/healthy, /-/ready (empty: off)");
DEFINE_string(metrics_port_file, "",
              "After binding --metrics_listen, write its port to this file (for host:0)");
DEFINE_string(data_dir, "",
              "Directory of the lease table's RocksDB database (required without --coordination)");
DEFINE_string(coordination, "",
              "etcd://HOST:PORT[,HOST:PORT...]: keep the lease table in this etcd cluster "
              "instead of RocksDB (cluster mode); empty: RocksDB in --data_dir");
DEFINE_string(etcd_prefix, "/tributary/leasing/",
              "With --coordination: the etcd key prefix of the lease table (ends with '/')");
DEFINE_string(replica_name, "",
              "With --coordination: this leasing replica's name, unique among the replicas on "
              "--etcd_prefix and the same across its restarts (its etcd marker keys are named "
              "after it); empty: <hostname>-<--listen>");
DEFINE_int64(lease_duration_ms, 10000,
             "A lease whose owner has not heartbeated for this long is expired");
DEFINE_int64(forget_poller_after_ms, 3600000,
             "A poller silent this long is forgotten and its leases released (>= lease duration)");
DEFINE_int64(min_hold_ms, 30000,
             "A lease granted to a poller is not asked back for balance "
             "before this long");
DEFINE_bool(sync_writes, false,
            "fsync every write except heartbeats (power-loss durability); without it writes "
            "survive a process crash through the WAL");

int main(int argc, char** argv) {
  tributary::InitServerMain(&argc, &argv,
                            "Serves the Tributary lease table (tributary.v1.Leasing)");
  if (absl::Status s = tributary::CheckAddressFlags(
          {{"listen", FLAGS_listen, tributary::AddressUse::kListen},
           {"metrics_listen", FLAGS_metrics_listen, tributary::AddressUse::kListen,
            /*empty_means_off=*/true}});
      !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  if (absl::Status s = tributary::CheckSecurityFlags(
          {{"listen", FLAGS_listen}, {"metrics_listen", FLAGS_metrics_listen}});
      !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> etcd_endpoints = tributary::etcd::ParseCoordinationFlags(
      FLAGS_coordination, FLAGS_data_dir, "the lease table lives",
      tributary::etcd::DataDirWithEtcd::kExcluded);
  if (!etcd_endpoints.ok()) {
    LOG(ERROR) << etcd_endpoints.status().message();
    return 2;
  }
  tributary::leasing::LeaseTableOptions options;
  options.lease_duration = absl::Milliseconds(FLAGS_lease_duration_ms);
  options.min_hold = absl::Milliseconds(FLAGS_min_hold_ms);
  options.forget_poller_after = absl::Milliseconds(FLAGS_forget_poller_after_ms);
  options.sync_writes = FLAGS_sync_writes;
  // Cluster mode: the etcd client and the stack over it (the client outlives the stack).
  tributary::leasing::EtcdLeasing on_etcd;
  absl::StatusOr<std::unique_ptr<tributary::leasing::LeasingStack>> stack;
  if (etcd_endpoints->empty()) {
    stack = tributary::leasing::LeasingStack::Create(tributary::RealClock::Get(), FLAGS_data_dir,
                                                     options);
  } else {
    tributary::leasing::EtcdLeasingOptions etcd_options;
    etcd_options.endpoints = *etcd_endpoints;
    etcd_options.prefix = FLAGS_etcd_prefix;
    etcd_options.replica_name = FLAGS_replica_name;
    if (etcd_options.replica_name.empty()) {
      char host[256] = {};
      gethostname(host, sizeof(host) - 1);
      etcd_options.replica_name = absl::StrCat(host, "-", FLAGS_listen);
    }
    // A stale store (a write that timed out turned out applied) refuses every write until the
    // table reloads: exit, and let the supervisor's restart reload it (everything acknowledged
    // is in etcd).
    etcd_options.on_stale = [](const absl::Status& why) {
      LOG(ERROR) << "exiting to reload the lease table: " << why;
      google::FlushLogFiles(google::GLOG_INFO);
      _exit(1);
    };
    absl::StatusOr<tributary::leasing::EtcdLeasing> opened =
        tributary::leasing::OpenEtcdLeasing(tributary::RealClock::Get(), etcd_options, options);
    if (!opened.ok()) {
      LOG(ERROR) << "--coordination / --etcd_prefix: " << opened.status();
      return 2;
    }
    on_etcd = *std::move(opened);
    stack = std::move(on_etcd.stack);
  }
  if (!stack.ok()) {
    LOG(ERROR) << "opening the lease table: " << stack.status();
    return 1;
  }
  const tributary::GrpcServerSecurity security = tributary::ServerSecurityFromFlags();
  // The metrics endpoint (off unless --metrics_listen): this service's families, process_*
  // and build info; /-/ready once the gRPC server serves.
  auto metrics = tributary::metrics::ServerMetrics::Start(
      FLAGS_metrics_listen, FLAGS_metrics_port_file, security,
      [&](tributary::metrics::Registry& r) { (*stack)->EnableMetrics(r); });
  if (!metrics.ok()) {
    LOG(ERROR) << "--metrics_listen: " << metrics.status();
    return 1;
  }
  auto server = tributary::GrpcServer::Start(FLAGS_listen, {&(*stack)->service()}, security);
  if (!server.ok()) {
    LOG(ERROR) << "starting the server: " << server.status();
    return 1;
  }
  absl::Status written = tributary::WritePortFile((*server)->port());
  if (!written.ok()) {
    LOG(ERROR) << written;
    return 1;
  }
  (*metrics)->SetServing();
  LOG(INFO) << "leasing_server serving on " << (*server)->address() << ", data in "
            << (etcd_endpoints->empty() ? FLAGS_data_dir
                                       : FLAGS_coordination + " under " + FLAGS_etcd_prefix)
            << " (" << tributary::DescribeServerSecurity(security) << ")";
  const int signal = tributary::WaitForTerminationSignal([&server] {
    if (absl::Status s = (*server)->ReloadAuthTokens(); !s.ok()) LOG(ERROR) << s;
  });
  LOG(INFO) << "signal " << signal << ": shutting down";
  (*metrics)->Stop();
  (*server)->Shutdown();
  return 0;
}
