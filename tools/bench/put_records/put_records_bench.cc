// put_records_bench: PutRecords throughput of an in-process shard_store server
// over gRPC on loopback, next to the raw RocksDB ingest of the same records with
// the same key layout, so the ratio shows what the service costs on top of the
// storage engine.
//
//   bazel run -c opt //tools/bench/put_records:put_records_bench
//   bazel run -c opt //tools/bench/put_records:put_records_bench -- --quick
//
// Matrix: record size {100 B, 1 KiB} × shards {1, 4, 64} × {WAL, WAL+fsync},
// 500 records a call, --clients concurrent clients each with its own channel
// (its own TCP connection). Bounded: each cell runs --seconds_per_cell (the
// default keeps the whole run under 60 s). Prints a progress line per cell, a
// table at the end and JSON (stdout and --json_out).
//
// What the ratio compares (gRPC rec/s ÷ raw rec/s, both measured in this run,
// on the same cores):
//   gRPC: records acknowledged by PutRecords calls to the real service
//     (StreamsService → ShardStore: parse, validate, MD5 routing, sequence
//     numbers, one WriteBatch with the WAL, visible tip, response) from
//     --clients client threads in this process. With --client=preserialized
//     (default) each client serializes its request once and resends the bytes
//     through a generic stub, and counts the response's entries and
//     failed_record_count without building it: the load generator's own
//     protobuf work leaves the shared cores; the server's work is unchanged.
//     --client=stub measures with the generated stub (serialize + full parse
//     every call).
//   raw: the same records written straight into RocksDB by --clients threads,
//     opened with the store's options (StoreRocksDbOptions: same memtable
//     insert hints, same WAL and sync setting), one WriteBatch a call, one
//     chunk per shard with the store's key and value layout, each record in
//     the shard the store routes it to (worked out once: no per-call MD5,
//     validation or protobuf).
#include <malloc.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/rocksdb_util.h"
#include "gflags/gflags.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "proto/streams.grpc.pb.h"
#include "rocksdb/write_batch.h"
#include "shard_store/shard_store.h"
#include "shard_store/shard_store_node.h"
#include "tools/bench/common/bench_common.h"

DEFINE_bool(quick, false, "Smoke mode: one size, one shard count, 0.3 s cells.");
DEFINE_double(seconds_per_cell, 2.0, "Measured seconds per cell (gRPC and raw each).");
DEFINE_int32(clients, 8, "Concurrent clients (each its own channel) / raw writer threads.");
DEFINE_int32(records_per_call, 500, "Records per PutRecords call / WriteBatch.");
DEFINE_string(json_out, "", "Also write the JSON results to this file.");
DEFINE_string(work_dir, "", "Directory for data (default: a fresh one under /tmp).");
DEFINE_string(sizes, "100,1024", "Record sizes in bytes, comma-separated.");
DEFINE_string(shards, "1,4,64", "Shard counts, comma-separated.");
DEFINE_string(durability, "wal,sync", "Any of wal (WAL on) and sync (--sync_writes).");
DEFINE_bool(skip_raw, false, "Only the gRPC figures (for profiling the service).");
DEFINE_string(client, "preserialized",
              "gRPC load generator: preserialized (each client sends its request's bytes, "
              "serialized once, through a generic stub and reads only the response's counts) or "
              "stub (the generated stub: serializes the request and parses the whole response "
              "every call). The server does the same work either way.");
DEFINE_string(log, "",
              "The store's shard log: empty for its RocksDB (embedded), or "
              "nats://HOST:PORT[,...] for NATS JetStream (issue 20; the gRPC column then "
              "measures ingest into JetStream, raw stays RocksDB's).");
DEFINE_int32(log_replicas, 1, "With --log: JetStream replicas (the NATS cluster's size at most).");
DEFINE_bool(require_nonzero, false, "Exit 1 when any figure is zero (for the smoke test).");

namespace tributary::bench {
namespace {

struct Cell {
  int record_bytes;
  int shards;
  bool sync;
  double grpc_records_per_second = 0;
  double raw_records_per_second = 0;
  int64_t grpc_failed_records = 0;
};

std::string RandomBytes(std::mt19937_64& rng, int n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

v1::PutRecordsRequest MakeRequest(int client, int record_bytes) {
  std::mt19937_64 rng(client * 7919 + record_bytes);
  v1::PutRecordsRequest r;
  r.set_stream_name("bench");
  for (int i = 0; i < FLAGS_records_per_call; ++i) {
    auto* e = r.add_records();
    e->set_partition_key(absl::StrCat("pk-", client, "-", i));
    e->set_data(RandomBytes(rng, record_bytes));
  }
  return r;
}

// One client: PutRecords calls until `deadline`; a failed call or a malformed
// response counts in `errors`.
void RunClient(const std::string& address, int c, const Cell& cell, const std::atomic<bool>& go,
               const absl::Time& deadline, std::atomic<int64_t>& ok_records,
               std::atomic<int64_t>& failed_records, std::atomic<int64_t>& errors) {
  auto channel = OwnChannel(address, c);
  const v1::PutRecordsRequest request = MakeRequest(c, cell.record_bytes);
  if (FLAGS_client == "stub") {
    auto stub = v1::Streams::NewStub(channel);
    while (!go.load()) std::this_thread::yield();
    while (absl::Now() < deadline) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      v1::PutRecordsResponse response;
      grpc::Status status = stub->PutRecords(&context, request, &response);
      if (!status.ok()) {
        errors.fetch_add(1);
        continue;
      }
      ok_records.fetch_add(response.records_size() - response.failed_record_count());
      failed_records.fetch_add(response.failed_record_count());
    }
    return;
  }
  // Pre-serialized (bench_common): the request's bytes are built once and resent.
  PutCounts counts;
  RunPreserializedPutRecords(channel, request, go, deadline, counts);
  ok_records.fetch_add(counts.ok_records.load());
  failed_records.fetch_add(counts.failed_records.load());
  errors.fetch_add(counts.failed_calls.load());
}

absl::Status RunGrpc(const std::string& dir, Cell* cell) {
  shard_store::ShardStoreNodeOptions options;
  options.store.data_dir = dir;
  options.store.sync_writes = cell->sync;
  options.trim_period = absl::ZeroDuration();
  options.log = FLAGS_log;
  options.log_replicas = FLAGS_log_replicas;
  // Every cell's store starts its stream ids at 1: JetStream names of its own per cell.
  static int cells = 0;
  options.log_name_prefix = absl::StrCat("bench-", getpid(), "-", ++cells);
  auto node = shard_store::ShardStoreNode::Create(options, RealClock::Get());
  if (!node.ok()) return node.status();
  auto server = GrpcServer::Start("127.0.0.1:0", {(*node)->service()});
  if (!server.ok()) return server.status();
  {
    v1::CreateStreamRequest create;
    create.set_stream_name("bench");
    create.set_shard_count(cell->shards);
    absl::Status s = (*node)->store().CreateStream(create);
    if (!s.ok()) return s;
  }
  std::atomic<int64_t> ok_records{0}, failed_records{0}, errors{0};
  std::atomic<bool> go{false};
  absl::Time deadline;
  std::vector<std::thread> clients;
  const std::string address = (*server)->address();
  for (int c = 0; c < FLAGS_clients; ++c) {
    clients.emplace_back(
        [&, c] { RunClient(address, c, *cell, go, deadline, ok_records, failed_records, errors); });
  }
  const absl::Time start = absl::Now();
  deadline = start + absl::Seconds(FLAGS_seconds_per_cell);
  go.store(true);
  for (auto& t : clients) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  (*server)->Shutdown();
  cell->grpc_records_per_second = ok_records.load() / seconds;
  cell->grpc_failed_records = failed_records.load() + errors.load() * FLAGS_records_per_call;
  return absl::OkStatus();
}

// The same records, keys (stream id, shard, sequence) and value layout written
// straight into RocksDB with the same options, one WriteBatch a call.
absl::Status RunRaw(const std::string& dir, Cell* cell) {
  RocksDbOptions options;
  auto db = RocksDb::Open(dir, {"meta", "records"}, shard_store::StoreRocksDbOptions(options));
  if (!db.ok()) return db.status();
  rocksdb::ColumnFamilyHandle* cf = (*db)->Handle("records");
  std::atomic<int64_t> written{0};
  std::atomic<bool> go{false};
  absl::Time deadline;
  std::vector<std::thread> writers;
  for (int c = 0; c < FLAGS_clients; ++c) {
    writers.emplace_back([&, c] {
      const v1::PutRecordsRequest request = MakeRequest(c, cell->record_bytes);
      std::vector<uint64_t> seq(cell->shards, static_cast<uint64_t>(c) << 40);
      rocksdb::WriteOptions wo;
      wo.sync = cell->sync;
      while (!go.load()) std::this_thread::yield();
      std::vector<std::vector<int>> by_shard(cell->shards);
      // Each record in the shard the store routes it to (MD5 of the partition
      // key over evenly divided hash-key ranges), worked out once: the chunks
      // have the store's sizes, and the per-call work stays RocksDB's alone.
      const absl::uint128 width = absl::Uint128Max() / cell->shards;
      for (int i = 0; i < request.records_size(); ++i) {
        const absl::uint128 hash =
            shard_store::PartitionKeyHash(request.records(i).partition_key());
        by_shard[static_cast<int>(std::min<absl::uint128>(hash / width, cell->shards - 1))]
            .push_back(i);
      }
      std::vector<char> entry_headers(request.records_size() * 6);
      std::vector<rocksdb::Slice> parts;
      while (absl::Now() < deadline) {
        rocksdb::WriteBatch batch;
        // One chunk per shard, as the store writes: key (stream id, shard,
        // first sequence), value header + (lengths, key, data) per record.
        for (uint32_t shard = 0; shard < static_cast<uint32_t>(cell->shards); ++shard) {
          const std::vector<int>& members = by_shard[shard];
          if (members.empty()) continue;
          const uint64_t first = seq[shard] + 1;
          seq[shard] += members.size();
          char key[20];
          for (int b = 0; b < 8; ++b) key[b] = static_cast<char>(uint64_t{1} >> (56 - 8 * b));
          for (int b = 0; b < 4; ++b) key[8 + b] = static_cast<char>(shard >> (24 - 8 * b));
          for (int b = 0; b < 8; ++b) key[12 + b] = static_cast<char>(first >> (56 - 8 * b));
          char header[13] = {1};
          const uint32_t count = static_cast<uint32_t>(members.size());
          for (int b = 0; b < 4; ++b) header[9 + b] = static_cast<char>(count >> (24 - 8 * b));
          parts.clear();
          parts.emplace_back(header, 13);
          for (int i : members) {
            const auto& e = request.records(i);
            char* h = &entry_headers[i * 6];
            h[0] = 0;
            h[1] = static_cast<char>(e.partition_key().size());
            for (int b = 0; b < 4; ++b)
              h[2 + b] = static_cast<char>(e.data().size() >> (24 - 8 * b));
            parts.emplace_back(h, 6);
            parts.emplace_back(e.partition_key());
            parts.emplace_back(e.data());
          }
          rocksdb::Slice k(key, 20);
          batch
              .Put(cf, rocksdb::SliceParts(&k, 1),
                   rocksdb::SliceParts(parts.data(), static_cast<int>(parts.size())))
              .ok();
        }
        if ((*db)->db()->Write(wo, &batch).ok()) written.fetch_add(request.records_size());
      }
    });
  }
  const absl::Time start = absl::Now();
  deadline = start + absl::Seconds(FLAGS_seconds_per_cell);
  go.store(true);
  for (auto& t : writers) t.join();
  cell->raw_records_per_second = written.load() / absl::ToDoubleSeconds(absl::Now() - start);
  return absl::OkStatus();
}

std::string Label(const Cell& c) {
  return absl::StrFormat("%s %2d shard%s %s", c.record_bytes >= 1024 ? "1 KiB" : "100 B", c.shards,
                         c.shards == 1 ? " " : "s", c.sync ? "WAL+fsync" : "WAL");
}

int Main() {
  std::vector<int> sizes, shard_counts;
  std::vector<bool> syncs;
  for (absl::string_view v : absl::StrSplit(FLAGS_sizes, ',', absl::SkipEmpty())) {
    sizes.push_back(std::stoi(std::string(v)));
  }
  for (absl::string_view v : absl::StrSplit(FLAGS_shards, ',', absl::SkipEmpty())) {
    shard_counts.push_back(std::stoi(std::string(v)));
  }
  for (absl::string_view v : absl::StrSplit(FLAGS_durability, ',', absl::SkipEmpty())) {
    syncs.push_back(v == "sync");
  }
  if (FLAGS_quick) {
    sizes = {100};
    shard_counts = {4};
    FLAGS_seconds_per_cell = std::min(FLAGS_seconds_per_cell, 0.3);
    FLAGS_clients = std::min(FLAGS_clients, 2);
    FLAGS_records_per_call = std::min(FLAGS_records_per_call, 100);
  }
  std::string root = FLAGS_work_dir;
  if (root.empty()) {
    root = absl::StrCat(std::filesystem::temp_directory_path().string(), "/put_records_bench.",
                        absl::ToUnixNanos(absl::Now()));
  }
  std::vector<Cell> cells;
  for (int size : sizes) {
    for (int shards : shard_counts) {
      for (bool sync : syncs) cells.push_back({size, shards, sync});
    }
  }
  std::fprintf(stderr, "put_records_bench: %zu cells, %d clients, %d records/call, %.1f s each\n",
               cells.size(), FLAGS_clients, FLAGS_records_per_call, FLAGS_seconds_per_cell);
  std::fprintf(stderr, "shard log: %s\n",
               FLAGS_log.empty() ? "embedded RocksDB"
                                 : absl::StrCat("JetStream ", FLAGS_log, " R",
                                                FLAGS_log_replicas).c_str());
  int index = 0;
  for (Cell& cell : cells) {
    ++index;
    const std::string dir = absl::StrCat(root, "/cell", index);
    absl::Status s = RunGrpc(dir + "/grpc", &cell);
    if (s.ok() && !FLAGS_skip_raw) s = RunRaw(dir + "/raw", &cell);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (!s.ok()) {
      std::fprintf(stderr, "cell %s: %s\n", Label(cell).c_str(), s.ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "[%2d/%zu] %-26s gRPC %10.0f rec/s  raw %10.0f rec/s  ratio %.2f\n", index,
                 cells.size(), Label(cell).c_str(), cell.grpc_records_per_second,
                 cell.raw_records_per_second,
                 cell.grpc_records_per_second / std::max(1.0, cell.raw_records_per_second));
  }
  std::filesystem::remove_all(root);

  std::printf("\n%-26s %14s %10s %14s %10s %7s\n", "cell", "gRPC rec/s", "gRPC MB/s", "raw rec/s",
              "raw MB/s", "ratio");
  std::string json = "{\"clients\": " + std::to_string(FLAGS_clients) +
                     ", \"records_per_call\": " + std::to_string(FLAGS_records_per_call) +
                     ", \"seconds_per_cell\": " + absl::StrCat(FLAGS_seconds_per_cell) +
                     ", \"cells\": [";
  bool zero = false;
  for (size_t i = 0; i < cells.size(); ++i) {
    const Cell& c = cells[i];
    const double grpc_mb = c.grpc_records_per_second * c.record_bytes / 1e6;
    const double raw_mb = c.raw_records_per_second * c.record_bytes / 1e6;
    const double ratio = c.grpc_records_per_second / std::max(1.0, c.raw_records_per_second);
    std::printf("%-26s %14.0f %10.1f %14.0f %10.1f %7.2f\n", Label(c).c_str(),
                c.grpc_records_per_second, grpc_mb, c.raw_records_per_second, raw_mb, ratio);
    json += absl::StrFormat(
        "%s{\"record_bytes\": %d, \"shards\": %d, \"sync_writes\": %s, "
        "\"grpc_records_per_second\": %.0f, \"grpc_mb_per_second\": %.2f, "
        "\"raw_records_per_second\": %.0f, \"raw_mb_per_second\": %.2f, \"ratio\": %.3f, "
        "\"grpc_failed_records\": %d}",
        i ? ", " : "", c.record_bytes, c.shards, c.sync ? "true" : "false",
        c.grpc_records_per_second, grpc_mb, c.raw_records_per_second, raw_mb, ratio,
        c.grpc_failed_records);
    if (c.grpc_records_per_second <= 0 || (!FLAGS_skip_raw && c.raw_records_per_second <= 0)) {
      zero = true;
    }
  }
  json += "]}";
  std::printf("\n%s\n", json.c_str());
  if (!FLAGS_json_out.empty()) {
    std::ofstream out(FLAGS_json_out);
    out << json << "\n";
  }
  if (FLAGS_require_nonzero && zero) {
    std::fprintf(stderr, "a figure is zero\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  // PutRecords handles ~50-500 KB messages and batches per call: keep freed
  // memory in the heap instead of returning it to the OS after every call
  // (glibc's defaults made page faults a top cost in the PutRecords profile).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return tributary::bench::Main();
}
