// tributary: the all-in-one binary. `tributary serve` runs the shard store, leasing, the stream
// tracker (mappings and functions) and a poller in one process over one data directory
// (DIR/shard_store with the tables, DIR/leasing, DIR/stream_tracker), every service on one gRPC
// port with reflection and health. The tracker and the poller reach the store and leasing through
// that same port, exactly as they would across hosts, and the store nudges the tracker whenever a
// stream's shards change, so leases follow a split at once instead of at the next sync interval.

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "aws/aws_flags.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/host_port.h"
#include "common/metrics/metrics_endpoint.h"
#include "common/metrics/metrics_http_server.h"
#include "common/metrics/process_metrics.h"
#include "common/metrics/registry.h"
#include "common/security_flags.h"
#include "common/server_main.h"
#include "etcd/etcd_url.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "leasing/etcd_leasing.h"
#include "leasing/leasing_service.h"
#include "poller/poller_id.h"
#include "poller/poller_node.h"
#include "shard_store/shard_store_node.h"
#include "shard_store/store_flags.h"
#include "stream_tracker/stream_tracker.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tables/table_store.h"
#include "tables/tables_service.h"
#include "tools/console/console_handler.h"
#include "tools/console/overview.h"
#include "tools/tributary/manual_clock_service.h"

DEFINE_string(listen, "127.0.0.1:4560", "gRPC address for every service (host:port; 0 = any).");
DEFINE_string(data_dir, "", "Data directory (required); each service uses a subdirectory.");
DEFINE_string(metrics_listen, "", "host:port for Prometheus text at GET /metrics (empty: off).");
DEFINE_string(coordination, "",
              "etcd://HOST:PORT[,HOST:PORT...]: keep the stream tracker's mappings and functions "
              "in this etcd cluster, under --etcd_prefix + \"tracker/\" (cluster mode, issue 19), "
              "and with --log=nats://... the shard store's stream metadata and lineage too, under "
              "--etcd_prefix + \"store/\" (then several serve processes are interchangeable store "
              "front-ends), and the lease table under --etcd_prefix + \"leasing/\" (shared "
              "with every serve process and leasing_server replica on it); tables stay in "
              "--data_dir; empty: everything in --data_dir");
DEFINE_string(etcd_prefix, "/tributary/",
              "With --coordination: the root of Tributary's etcd keys (ends with '/')");
DEFINE_string(metrics_port_file, "",
              "After binding --metrics_listen, write its port to this file (for host:0).");
DEFINE_bool(sync_writes, false, "fsync before acknowledging writes (power-loss durability).");
DEFINE_string(log, "",
              "Where the shard store keeps records: empty for its RocksDB data directory, or "
              "nats://HOST:PORT[,HOST:PORT...] for NATS JetStream (then only stream metadata "
              "stays local; shard_store/NOTES.md).");
DEFINE_int32(log_replicas, 3, "With --log=nats://: copies of every record (1 for one server).");
DEFINE_int64(lease_duration_ms, 10000, "A lease whose poller stops heartbeating expires then.");
DEFINE_int64(min_hold_ms, 30000, "A lease moved for balance is not moved again before this.");
DEFINE_int64(forget_poller_after_ms, 3600000,
             "A poller silent this long is forgotten and its leases released.");
DEFINE_int64(sync_interval_ms, 1000, "Time between the tracker's lease sync passes.");
DEFINE_int64(full_sync_interval_ms, 60000,
             "Longest a mapping goes without a full look at its shards and leases (retention "
             "trims are seen within it).");
DEFINE_int32(poller_capacity, 10000, "The most leases the embedded poller holds.");
DEFINE_int64(poller_memory_budget_mb, 0,
             "MiB of records the embedded poller's shards may buffer together (read, not yet "
             "done); past it their readers wait until records are done. Counted apart from "
             "--memory_budget_mb (the store's requests in flight): the process holds up to the "
             "sum. 0: no poller-wide budget; else >= 16.");
DEFINE_int32(invoke_threads, 64,
             "Threads shared by every lease of the embedded poller: the most batches "
             "(invocations, backoff waits) in progress at once.");
DEFINE_string(poller_id, "",
              "The embedded poller's id in leasing and in metrics' labels (default: the host's "
              "name).");
DEFINE_int32(window_close_grace_ms, 1000,
             "Tumbling windows: how long after a window's end an idle window is closed (the "
             "shard's reader at its tip), in milliseconds.");
DEFINE_int64(retention_trim_period_ms, 60000, "How often expired records are trimmed.");
DEFINE_int32(table_stream_shards, 4,
             "Shards of a DynamoDB table's change stream (by partition-key hash), 1-10000.");
DEFINE_string(stream_shard_rollover, "4h",
              "How long a shard of a table's change stream takes writes before a child with "
              "the same hash-key range takes over, as DynamoDB Streams' shards roll over (a "
              "duration: 4h, 90m; 0 = never). The first shards of a stream are staggered; "
              "checked every --retention_trim_period_ms.");
DEFINE_bool(console_actions, false,
            "Let the web console on --metrics_listen disable and enable mappings (anyone who "
            "reaches the port may: with --tls_client_ca only clients with a trusted certificate "
            "reach it; refused with --auth_tokens_file alone); read-only without it.");
DEFINE_string(function_ca_file, "",
              "https:// and grpcs:// function endpoints: a PEM file of the certificate "
              "authorities to trust (default: the system's).");
DEFINE_string(clock, "real",
              "real: the machine's clock. manual: every service runs on one clock that moves "
              "only when told (tribctl clock advance|set; tributary.v1.Clock), for tests; "
              "every listener must be on loopback.");
// Defined by aws/aws_flags.cc: the region and account of the AWS front door's ARNs, which are also
// those of the stream tracker's function ARNs and of the Lambda events the poller sends to
// http(s) function endpoints.
DECLARE_string(aws_region);
DECLARE_string(aws_account_id);
DECLARE_string(aws_listen);

namespace tributary {
namespace {

constexpr char kUsage[] =
    "tributary serve --data_dir=DIR [flags]: the shard store, leasing, the stream tracker and a "
    "poller in one process.";

int Serve() {
  if (absl::Status s =
          CheckAddressFlags({{"listen", FLAGS_listen, AddressUse::kListen},
                             {"metrics_listen", FLAGS_metrics_listen, AddressUse::kListen,
                              /*empty_means_off=*/true}});
      !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  if (absl::Status s = aws::CheckAwsFlags(); !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  // --clock=manual (issue 23): one FakeClock, starting at the real time, for every service
  // built below; the AWS front door keeps the real clock (SigV4 dates are the caller's).
  // Checked before the security flags: off loopback its own message is the one that helps.
  std::unique_ptr<FakeClock> manual_clock;
  std::unique_ptr<ManualClockService> clock_service;
  if (FLAGS_clock == "manual") {
    if (absl::Status s = CheckLoopbackListeners({{"listen", FLAGS_listen},
                                                 {"metrics_listen", FLAGS_metrics_listen},
                                                 {"aws_listen", FLAGS_aws_listen}});
        !s.ok()) {
      LOG(ERROR) << s.message();
      return 2;
    }
    manual_clock = std::make_unique<FakeClock>(RealClock::Get().Now());
    clock_service = std::make_unique<ManualClockService>(*manual_clock);
  } else if (FLAGS_clock != "real") {
    LOG(ERROR) << "--clock=" << FLAGS_clock << ": must be real or manual";
    return 2;
  }
  if (absl::Status s =
          CheckSecurityFlags({{"listen", FLAGS_listen}, {"metrics_listen", FLAGS_metrics_listen}});
      !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  if (FLAGS_table_stream_shards < 1 || FLAGS_table_stream_shards > 10000) {
    LOG(ERROR) << "--table_stream_shards must be 1-10000";
    return 2;
  }
  absl::Duration stream_shard_rollover;
  if (!absl::ParseDuration(FLAGS_stream_shard_rollover, &stream_shard_rollover) ||
      stream_shard_rollover < absl::ZeroDuration()) {
    LOG(ERROR) << "--stream_shard_rollover must be a duration such as 4h or 90m (0: never)";
    return 2;
  }
  if (absl::Status s = shard_store::CheckStoreFlags(); !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> etcd_endpoints = etcd::ParseCoordinationFlags(
      FLAGS_coordination, FLAGS_data_dir, "the lease table lives",
      etcd::DataDirWithEtcd::kRequired);
  if (!etcd_endpoints.ok()) {
    LOG(ERROR) << etcd_endpoints.status().message();
    return 2;
  }
  Clock& clock = manual_clock != nullptr ? static_cast<Clock&>(*manual_clock) : RealClock::Get();
  absl::StatusOr<std::string> address = PickListenAddress(FLAGS_listen);
  if (!address.ok()) {
    LOG(ERROR) << "--listen: " << address.status();
    return 2;
  }
  // The embedded tracker and poller call this process's own port as remote ones would: with the
  // outbound security flags, at a loopback address (a wildcard host is not a name a certificate
  // carries).
  const GrpcServerSecurity security = ServerSecurityFromFlags();
  absl::StatusOr<GrpcClientSecurity> self_security = ClientSecurityFromFlags();
  if (!self_security.ok()) {
    LOG(ERROR) << self_security.status().message();
    return 2;
  }
  if (absl::Status s = CheckCanCallItself(security, *self_security); !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  const std::string self_address = LoopbackAddressOf(*address);
  // The web console reads every service through in-process channels, past the gRPC port's
  // authentication, so it is served only where the metrics port checks callers as the gRPC port
  // does: nobody is checked, or a client certificate is (--tls_client_ca: MetricsTls requires
  // one). Bearer tokens are the gRPC port's alone (a browser has none to send): with
  // --auth_tokens_file and no --tls_client_ca its paths answer 403 and actions are refused.
  const bool console_allowed = !security.authenticates() || !security.client_ca_file.empty();
  if (!console_allowed && FLAGS_console_actions) {
    LOG(ERROR) << "--console_actions: the gRPC port accepts bearer tokens (--auth_tokens_file) "
                  "but the console on --metrics_listen cannot check them; set --tls_client_ca "
                  "(the metrics port then requires a trusted client certificate) or drop "
                  "--console_actions";
    return 2;
  }
  if (!console_allowed && !FLAGS_metrics_listen.empty()) {
    LOG(WARNING) << "the web console on --metrics_listen is off (403): the gRPC port accepts "
                    "bearer tokens, which the console cannot check; set --tls_client_ca to "
                    "serve it to clients with a trusted certificate";
  }

  shard_store::ShardStoreNodeOptions store_options;
  store_options.store.data_dir = FLAGS_data_dir + "/shard_store";
  store_options.store.sync_writes = FLAGS_sync_writes;
  store_options.store.extra_column_families = tables::TableStore::ColumnFamilies();
  store_options.trim_period = absl::Milliseconds(FLAGS_retention_trim_period_ms);
  store_options.log = FLAGS_log;
  store_options.log_replicas = FLAGS_log_replicas;
  if (!etcd_endpoints->empty() && !FLAGS_log.empty()) {
    // The records in JetStream and the metadata in etcd: nothing of the store stays local
    // (its RocksDB in --data_dir holds only the tables).
    store_options.etcd_endpoints = *etcd_endpoints;
    store_options.etcd_prefix = FLAGS_etcd_prefix + "store/";
  }
  shard_store::ApplyStoreFlags(store_options);  // admission, memory budget, Kinesis limits
  auto store = shard_store::ShardStoreNode::Create(store_options, clock);
  if (!store.ok()) {
    LOG(ERROR) << "opening the shard store: " << store.status();
    return 1;
  }

  // DynamoDB tables (the AWS front door's DynamoDB API) live in the shard store's database, so
  // that an item and its change record are one write (tables/NOTES.md).
  tables::TableStoreOptions table_options;
  table_options.sync_writes = FLAGS_sync_writes;
  table_options.streams = &(*store)->store();
  table_options.table_stream_shards = FLAGS_table_stream_shards;
  table_options.stream_shard_rollover = stream_shard_rollover;
  auto table_store = tables::TableStore::Create((*store)->store().db(), clock, table_options);
  if (!table_store.ok()) {
    LOG(ERROR) << "opening the tables: " << table_store.status();
    return 1;
  }
  // Rolls the streams' shards over; closes the shards of streams turned off and deletes them
  // 24 h later (tables/NOTES.md).
  auto table_janitor = std::make_unique<tables::TableStreamJanitor>(
      **table_store, clock, absl::Milliseconds(FLAGS_retention_trim_period_ms));
  // tributary.v1.Tables next to Streams; its ARNs are the AWS front door's.
  tables::TablesService tables_service(
      **table_store, tables::TablesServiceOptions{FLAGS_aws_region, FLAGS_aws_account_id});

  leasing::LeaseTableOptions lease_options;
  lease_options.lease_duration = absl::Milliseconds(FLAGS_lease_duration_ms);
  lease_options.min_hold = absl::Milliseconds(FLAGS_min_hold_ms);
  lease_options.forget_poller_after = absl::Milliseconds(FLAGS_forget_poller_after_ms);
  lease_options.sync_writes = FLAGS_sync_writes;
  // Cluster mode: the lease table in etcd under --etcd_prefix + "leasing/", shared with every
  // other serve process and leasing_server replica on it (the client outlives the stack).
  leasing::EtcdLeasing leasing_on_etcd;
  absl::StatusOr<std::unique_ptr<leasing::LeasingStack>> leasing;
  if (etcd_endpoints->empty()) {
    leasing = leasing::LeasingStack::Create(clock, FLAGS_data_dir + "/leasing", lease_options);
  } else {
    leasing::EtcdLeasingOptions etcd_leasing;
    etcd_leasing.endpoints = *etcd_endpoints;
    etcd_leasing.prefix = FLAGS_etcd_prefix + "leasing/";
    // Named as its poller (unique per node, the same across restarts: the host name unless
    // --poller_id says otherwise); a replica's marker key is named after it.
    etcd_leasing.replica_name =
        FLAGS_poller_id.empty() ? poller::DefaultPollerId() : FLAGS_poller_id;
    // A write that timed out turned out applied: exit and let the supervisor restart (reload).
    etcd_leasing.on_stale = [](const absl::Status& why) {
      LOG(ERROR) << "exiting to reload the lease table: " << why;
      google::FlushLogFiles(google::GLOG_INFO);
      _exit(1);
    };
    absl::StatusOr<leasing::EtcdLeasing> opened =
        leasing::OpenEtcdLeasing(clock, etcd_leasing, lease_options);
    if (opened.ok()) {
      leasing_on_etcd = *std::move(opened);
      leasing = std::move(leasing_on_etcd.stack);
    } else {
      leasing = opened.status();
    }
  }
  if (!leasing.ok()) {
    LOG(ERROR) << "opening the lease table: " << leasing.status();
    return 1;
  }

  stream_tracker::StreamTracker::Options tracker_options;
  tracker_options.data_dir = FLAGS_data_dir + "/stream_tracker";
  tracker_options.sync_interval = absl::Milliseconds(FLAGS_sync_interval_ms);
  tracker_options.full_sync_interval = absl::Milliseconds(FLAGS_full_sync_interval_ms);
  tracker_options.sync_writes = FLAGS_sync_writes;
  tracker_options.function_account.region = FLAGS_aws_region;
  tracker_options.function_account.account_id = FLAGS_aws_account_id;
  absl::StatusOr<HostAllowList> endpoint_allow = FunctionEndpointAllowFromFlags();
  if (!endpoint_allow.ok()) {
    LOG(ERROR) << endpoint_allow.status().message();
    return 2;
  }
  // The tracker refuses endpoints on other hosts; the poller never calls them.
  tracker_options.function_endpoint_allow = *endpoint_allow;
  if (!etcd_endpoints->empty()) {
    tracker_options.data_dir.clear();
    tracker_options.etcd_endpoints = *etcd_endpoints;
    tracker_options.etcd_prefix = FLAGS_etcd_prefix + "tracker/";
    tracker_options.replica_name = absl::StrCat("tributary serve pid ", getpid(), " on ", *address);
  }
  auto tracker = stream_tracker::StreamTracker::Create(
      tracker_options, MakeChannel(self_address, *self_security),
      MakeChannel(self_address, *self_security), clock);
  if (!tracker.ok()) {
    LOG(ERROR) << "opening the stream tracker: " << tracker.status();
    return 1;
  }

  poller::PollerNodeOptions poller_options;
  poller_options.poller_id = FLAGS_poller_id.empty() ? poller::DefaultPollerId() : FLAGS_poller_id;
  poller_options.capacity = FLAGS_poller_capacity;
  poller_options.invoke_threads = FLAGS_invoke_threads;
  poller_options.memory_budget_bytes = FLAGS_poller_memory_budget_mb << 20;
  poller_options.window_close_grace = absl::Milliseconds(FLAGS_window_close_grace_ms);
  poller_options.shard_store_address = self_address;
  poller_options.leasing_address = self_address;
  poller_options.stream_tracker_address = self_address;
  poller_options.client_security = *self_security;
  // One metrics endpoint for every service (served below), not the poller's own.
  poller_options.aws_account.region = FLAGS_aws_region;
  poller_options.aws_account.account_id = FLAGS_aws_account_id;
  poller_options.function_ca_file = FLAGS_function_ca_file;
  {
    absl::StatusOr<tributary::GrpcClientSecurity> function_tls =
        tributary::FunctionClientSecurityFromFlags(FLAGS_function_ca_file);
    if (!function_tls.ok()) {
      LOG(ERROR) << function_tls.status().message();
      return 2;
    }
    poller_options.function_client_cert = function_tls->cert_file;
    poller_options.function_client_key = function_tls->key_file;
  }
  poller_options.function_endpoint_allow = *endpoint_allow;
  auto poller = poller::PollerNode::Create(poller_options, clock);
  if (!poller.ok()) {
    LOG(ERROR) << "starting the poller: " << poller.status();
    return 1;
  }

  // Every service's families (store, leasing, tracker, poller) on one registry and one port:
  // /metrics, /-/healthy, /-/ready (ready once the gRPC server serves).
  metrics::Registry registry;
  metrics::RegisterProcessMetrics(registry);
  (*store)->store().EnableMetrics(registry);
  (*leasing)->EnableMetrics(registry);
  (*tracker)->AddMetricsTo(registry);  // before (*tracker)->Start()
  (*poller)->AddMetricsTo(registry);
  std::atomic<bool> serving{false};
  // The web console (tools/console/) on the same port, from the services' gRPC APIs over
  // in-process channels once the gRPC server runs; until then its paths answer 503.
  std::unique_ptr<console::Overview> console_overview;
  std::unique_ptr<console::ConsoleHandler> console_handler;
  std::atomic<console::ConsoleHandler*> console{nullptr};
  std::unique_ptr<metrics::MetricsHttpServer> metrics_http;
  if (!FLAGS_metrics_listen.empty()) {
    auto http = metrics::MetricsHttpServer::Start(
        FLAGS_metrics_listen, [&registry] { return registry.Render(); },
        [&serving] { return serving.load(); }, absl::Seconds(5), metrics::MetricsTls(security),
        [&console, console_allowed](const aws::HttpRequest& request) {
          aws::HttpResponse refused;
          refused.headers.emplace_back("Content-Type", "text/plain");
          if (!console_allowed) {
            refused.status = 403;
            refused.body =
                "the console is off: this server's gRPC port takes bearer tokens, which the "
                "console cannot check (serve it with --tls_client_ca)\n";
            return refused;
          }
          if (console::ConsoleHandler* handler = console.load()) return handler->Handle(request);
          refused.status = 503;
          refused.body = "starting\n";
          return refused;
        });
    if (!http.ok()) {
      LOG(ERROR) << "--metrics_listen: " << http.status();
      return 1;
    }
    metrics_http = *std::move(http);
    if (!FLAGS_metrics_port_file.empty()) {
      if (absl::Status s = WritePortFile(FLAGS_metrics_port_file, metrics_http->port()); !s.ok()) {
        LOG(ERROR) << s;
        return 1;
      }
    }
  }

  std::vector<grpc::Service*> services = {(*store)->service(),
                                          &tables_service,
                                          &(*leasing)->service(),
                                          (*tracker)->service(),
                                          (*tracker)->functions_service(),
                                          (*tracker)->checkpoints_service(),
                                          (*poller)->service()};
  if (clock_service != nullptr) services.push_back(clock_service.get());
  auto server = GrpcServer::Start(*address, services, security, shard_store::StoreGrpcLimits());
  if (!server.ok()) {
    LOG(ERROR) << "serving on " << *address << ": " << server.status();
    return 1;
  }
  // Lambda's API on the front door calls the tracker's own gRPC services in process (their
  // validation and status codes; no network hop).
  stream_tracker::StreamTrackerClient tracker_client((*server)->InProcessChannel());
  auto aws_server = aws::StartAwsServerFromFlags((*store)->store(), &(*store)->streams_service(),
                                                 &tracker_client, table_store->get());
  if (!aws_server.ok()) {
    LOG(ERROR) << aws_server.status();
    return 1;
  }
  if (metrics_http != nullptr && console_allowed) {
    console::OverviewSources sources;
    sources.streams = (*server)->InProcessChannel();
    sources.mappings = (*server)->InProcessChannel();
    sources.leasing = (*server)->InProcessChannel();
    sources.pollers = {(*server)->InProcessChannel()};
    sources.tables = (*server)->InProcessChannel();
    sources.checkpoints = (*server)->InProcessChannel();
    sources.metrics_text = [&registry] { return registry.Render(); };
    console::OverviewOptions overview_options;
    overview_options.actions_enabled = FLAGS_console_actions;
    console_overview = std::make_unique<console::Overview>(sources, overview_options, clock);
    console_handler =
        std::make_unique<console::ConsoleHandler>(*console_overview, FLAGS_console_actions,
                                                  (*server)->authz_gate());
    console = console_handler.get();
  }
  stream_tracker::LeaseSync* sync = (*tracker)->lease_sync();
  (*store)->store().SetChangeListener([sync](const std::string&) { sync->RequestSync(); });
  (*tracker)->Start();
  (*poller)->Start();
  table_janitor->Start();
  serving = true;
  if (absl::Status s = WritePortFile((*server)->port()); !s.ok()) {
    LOG(ERROR) << s;
    return 1;
  }
  LOG(INFO) << "tributary serving on " << (*server)->address() << " ("
            << DescribeServerSecurity(security) << ") from " << FLAGS_data_dir << " (poller "
            << poller_options.poller_id << ")"
            << (manual_clock != nullptr ? ", on a manual clock (tribctl clock advance)" : "")
            << (metrics_http == nullptr ? std::string()
                                        : absl::StrCat(", metrics on port ", metrics_http->port()));

  const int signal = WaitForTerminationSignal([&server] {
    if (absl::Status s = (*server)->ReloadAuthTokens(); !s.ok()) LOG(ERROR) << s;
  });
  LOG(INFO) << "signal " << signal << ": releasing leases and stopping";
  (*poller)->Shutdown();
  metrics_http.reset();  // no scrape after this reads a service being torn down
  aws_server->reset();   // the AWS front door calls into the store and the tracker
  (*server)->Shutdown();
  table_janitor.reset();  // it calls into the tables and the store
  // The store goes first: its trimmer thread is the last caller of the change listener, which
  // points into the tracker.
  store->reset();
  return 0;
}

}  // namespace
}  // namespace tributary

int main(int argc, char** argv) {
  tributary::InitServerMain(&argc, &argv, tributary::kUsage);
  if (argc < 2 || std::strcmp(argv[1], "serve") != 0) {
    std::fprintf(stderr, "usage: %s\n", tributary::kUsage);
    return 2;
  }
  return tributary::Serve();
}
