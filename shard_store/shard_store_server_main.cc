// shard_store_server: tributary.v1.Streams and tributary.v1.Tables over one RocksDB data
// directory (the tables live in the store's database, as in `tributary serve`: an item and its
// change record are one write), and with --aws_listen the AWS front door (the Kinesis, DynamoDB
// and DynamoDB Streams APIs; Lambda's API too with --stream_tracker).
#include <cstdlib>
#include <memory>
#include <vector>

#include "aws/aws_flags.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/host_port.h"
#include "common/metrics/metrics_endpoint.h"
#include "common/security_flags.h"
#include "common/server_main.h"
#include "etcd/etcd_url.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "shard_store/shard_store_node.h"
#include "shard_store/store_flags.h"
#include "stream_tracker/stream_tracker_client.h"
#include "tables/table_store.h"
#include "tables/tables_service.h"

DECLARE_string(aws_region);
DECLARE_string(aws_account_id);

DEFINE_string(listen, "127.0.0.1:4561", "gRPC listen address (host:port; port 0 = any).");
DEFINE_string(metrics_listen, "",
              "host:port for Prometheus text at GET /metrics, /-/healthy, /-/ready (empty: off)");
DEFINE_string(metrics_port_file, "",
              "After binding --metrics_listen, write its port to this file (for host:0)");
DEFINE_string(data_dir, "",
              "Directory of the RocksDB database (required, unless --coordination and --log "
              "keep everything elsewhere).");
DEFINE_string(coordination, "",
              "etcd://HOST:PORT[,HOST:PORT...]: keep the stream metadata and lineage in this etcd "
              "cluster under --etcd_prefix, so that several shard_store_servers over one etcd "
              "and one JetStream are interchangeable front-ends (cluster mode; needs "
              "--log=nats://..., excludes --data_dir); empty: in --data_dir");
DEFINE_string(etcd_prefix, "/tributary/store/",
              "With --coordination: the root of the store's etcd keys (ends with '/'); one store "
              "cluster per prefix");
DEFINE_bool(sync_writes, false,
            "fsync the WAL before acknowledging a write (group commit across writers).");
DEFINE_double(shard_write_records_per_second, 0, "Per-shard write limit in records/s (0 = off).");
DEFINE_double(shard_write_bytes_per_second, 0, "Per-shard write limit in bytes/s (0 = off).");
DEFINE_int32(subscription_threads, 2, "Threads that push SubscribeToShard events.");
DEFINE_string(log, "",
              "Where the shard store keeps records: empty for its RocksDB data directory, or "
              "nats://HOST:PORT[,HOST:PORT...] for NATS JetStream (then only stream metadata "
              "stays local; shard_store/NOTES.md).");
DEFINE_int32(log_replicas, 3, "With --log=nats://: copies of every record (1 for one server).");
DEFINE_int32(table_stream_shards, 4,
              "Shards of a DynamoDB table's change stream (by partition-key hash), 1-10000.");
DEFINE_string(stream_tracker, "",
              "host:port of a stream tracker whose mappings and functions the AWS front door "
              "serves as Lambda's API (with --aws_listen). Empty: Lambda's routes answer 501.");

int main(int argc, char** argv) {
  tributary::InitServerMain(
      &argc, &argv,
      "shard_store_server --data_dir=DIR [--listen=HOST:PORT] [--aws_listen=HOST:PORT "
      "[--stream_tracker=HOST:PORT]]");
  if (absl::Status s = tributary::CheckAddressFlags(
          {{"listen", FLAGS_listen, tributary::AddressUse::kListen},
           {"metrics_listen", FLAGS_metrics_listen, tributary::AddressUse::kListen,
            /*empty_means_off=*/true},
           {"stream_tracker", FLAGS_stream_tracker, tributary::AddressUse::kDial,
            /*empty_means_off=*/true}});
      !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  if (absl::Status s = tributary::CheckSecurityFlags(
          {{"listen", FLAGS_listen}, {"metrics_listen", FLAGS_metrics_listen}},
          {{"stream_tracker", FLAGS_stream_tracker}});
      !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  if (absl::Status s = tributary::aws::CheckAwsFlags(); !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  if (absl::Status s = tributary::shard_store::CheckStoreFlags(); !s.ok()) {
    LOG(ERROR) << s.message();
    return 2;
  }
  if (!FLAGS_coordination.empty() && FLAGS_log.empty()) {
    LOG(ERROR) << "--coordination (the stream metadata in etcd) needs --log=nats://...: with the "
                  "records in this process's --data_dir they would be on one front-end's disk";
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> etcd_endpoints = tributary::etcd::ParseCoordinationFlags(
      FLAGS_coordination, FLAGS_data_dir, "the stream metadata lives",
      tributary::etcd::DataDirWithEtcd::kExcluded);
  if (!etcd_endpoints.ok()) {
    LOG(ERROR) << etcd_endpoints.status().message();
    return 2;
  }
  tributary::shard_store::ShardStoreNodeOptions options;
  options.store.data_dir = FLAGS_data_dir;
  options.etcd_endpoints = *etcd_endpoints;
  options.etcd_prefix = FLAGS_etcd_prefix;
  options.store.sync_writes = FLAGS_sync_writes;
  options.store.shard_write_records_per_second = FLAGS_shard_write_records_per_second;
  options.store.shard_write_bytes_per_second = FLAGS_shard_write_bytes_per_second;
  options.dispatch_threads = FLAGS_subscription_threads;
  options.log = FLAGS_log;
  options.log_replicas = FLAGS_log_replicas;
  // Tables live in the store's RocksDB database, which only the embedded store has: a cluster
  // front-end (--coordination, no --data_dir) serves no tables (tables in cluster mode: issue 18,
  // not built yet).
  const bool serves_tables = !FLAGS_data_dir.empty();
  if (serves_tables) {
    options.store.extra_column_families = tributary::tables::TableStore::ColumnFamilies();
  }
  tributary::shard_store::ApplyStoreFlags(options);  // after the explicit write limits above
  auto node = tributary::shard_store::ShardStoreNode::Create(options, tributary::RealClock::Get());
  if (!node.ok()) {
    LOG(ERROR) << "opening "
               << (FLAGS_data_dir.empty() ? "the store (" + FLAGS_coordination + ")"
                                          : FLAGS_data_dir)
               << ": " << node.status();
    return EXIT_FAILURE;
  }
  // DynamoDB tables in the store's database (tables/NOTES.md), as `tributary serve` holds them.
  std::unique_ptr<tributary::tables::TableStore> table_store;
  std::unique_ptr<tributary::tables::TableStreamJanitor> table_janitor;
  std::unique_ptr<tributary::tables::TablesService> tables_service;
  std::vector<grpc::Service*> services = {(*node)->service()};
  if (serves_tables) {
    tributary::tables::TableStoreOptions table_options;
    table_options.sync_writes = FLAGS_sync_writes;
    table_options.streams = &(*node)->store();
    table_options.table_stream_shards = FLAGS_table_stream_shards;
    auto opened = tributary::tables::TableStore::Create(
        (*node)->store().db(), tributary::RealClock::Get(), table_options);
    if (!opened.ok()) {
      LOG(ERROR) << "opening the tables: " << opened.status();
      return EXIT_FAILURE;
    }
    table_store = *std::move(opened);
    // Closes the shards of streams turned off and deletes them 24 h later.
    table_janitor = std::make_unique<tributary::tables::TableStreamJanitor>(
        *table_store, tributary::RealClock::Get());
    table_janitor->Start();
    tables_service = std::make_unique<tributary::tables::TablesService>(
        *table_store,
        tributary::tables::TablesServiceOptions{FLAGS_aws_region, FLAGS_aws_account_id});
    services.push_back(tables_service.get());
  }
  const tributary::GrpcServerSecurity security = tributary::ServerSecurityFromFlags();
  // The metrics endpoint (off unless --metrics_listen): this service's families, process_*
  // and build info; /-/ready once the gRPC server serves.
  auto metrics = tributary::metrics::ServerMetrics::Start(
      FLAGS_metrics_listen, FLAGS_metrics_port_file, security,
      [&](tributary::metrics::Registry& r) { (*node)->store().EnableMetrics(r); });
  if (!metrics.ok()) {
    LOG(ERROR) << "--metrics_listen: " << metrics.status();
    return 1;
  }
  auto server =
      tributary::GrpcServer::Start(FLAGS_listen, services, security,
                                   tributary::shard_store::StoreGrpcLimits());
  if (!server.ok()) {
    LOG(ERROR) << server.status();
    return EXIT_FAILURE;
  }
  // Lambda's API on the front door reaches the tracker as any client does (it is another process).
  std::unique_ptr<tributary::stream_tracker::StreamTrackerClient> tracker;
  if (!FLAGS_stream_tracker.empty()) {
    absl::StatusOr<tributary::GrpcClientSecurity> client = tributary::ClientSecurityFromFlags();
    if (!client.ok()) {
      LOG(ERROR) << client.status().message();
      return 2;
    }
    tracker = std::make_unique<tributary::stream_tracker::StreamTrackerClient>(
        tributary::MakeChannel(FLAGS_stream_tracker, *client));
  }
  auto aws_server = tributary::aws::StartAwsServerFromFlags(
      (*node)->store(), &(*node)->streams_service(), tracker.get(), table_store.get());
  if (!aws_server.ok()) {
    LOG(ERROR) << aws_server.status();
    return EXIT_FAILURE;
  }
  absl::Status port = tributary::WritePortFile((*server)->port());
  if (!port.ok()) {
    LOG(ERROR) << port;
    return EXIT_FAILURE;
  }
  (*metrics)->SetServing();
  LOG(INFO) << "shard_store_server serving on " << (*server)->address() << " from "
            << (FLAGS_data_dir.empty() ? FLAGS_coordination + " and " + FLAGS_log : FLAGS_data_dir)
            << (FLAGS_sync_writes ? " (sync writes)" : "") << " ("
            << tributary::DescribeServerSecurity(security) << ")";
  int signal = tributary::WaitForTerminationSignal([&server] {
    if (absl::Status s = (*server)->ReloadAuthTokens(); !s.ok()) LOG(ERROR) << s;
  });
  LOG(INFO) << "signal " << signal << ": shutting down";
  (*metrics)->Stop();  // no scrape reads the store while it closes
  aws_server->reset();
  (*server)->Shutdown();
  return EXIT_SUCCESS;
}
