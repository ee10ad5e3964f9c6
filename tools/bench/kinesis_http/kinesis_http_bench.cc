// kinesis_http_bench: PutRecords over the AWS front door (Kinesis's JSON wire protocol on HTTP/1.1,
// what boto3, the AWS CLI and the SDKs send), next to PutRecords over our own gRPC API on the same
// store, and — with --kinesalite_endpoint — next to kinesalite, the Kinesis emulator users run
// today, driven by the very same HTTP load generator in the same run.
//
//   tools/bench/kinesis_http/run.sh            (installs and starts kinesalite, then runs this)
//   bazel run -c opt //tools/bench/kinesis_http:kinesis_http_bench -- --quick
//
// Per record size (--sizes, default 100 B and 1 KiB), each target gets a fresh stream of --shards
// shards and --connections concurrent connections, each sending one pre-built PutRecords call of
// --records_per_call records over and over (keep-alive) for --seconds_per_cell:
//   tributary_http: the AWS front door (aws::AwsServer: Beast HTTP, JSON parse, base64, the same
//     ShardStore::PutRecords the gRPC service calls), in this process;
//   tributary_grpc: tributary.v1.Streams/PutRecords on the same store (bench_common's
//     pre-serialized client);
//   kinesalite: the same HTTP requests to --kinesalite_endpoint.
// Counted: records acknowledged (the reply's records minus FailedRecordCount); a call that fails
// (non-200, unreadable reply) counts in failed_calls. The HTTP load generator pre-builds each
// connection's whole request (headers, a well-formed SigV4 Authorization, the JSON body with
// base64 data) once and reads each reply with Beast, so its own cost is small and equal for
// both HTTP targets. Prints a table and JSON (stdout and --json_out).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "aws/aws_server.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/host_port.h"
#include "gflags/gflags.h"
#include "proto/streams.grpc.pb.h"
#include "shard_store/shard_store_node.h"
#include "tools/bench/common/bench_common.h"
#include "tools/bench/common/bench_main.h"

DEFINE_bool(quick, false, "Smoke mode: 100 B only, 0.3 s cells, 2 connections, 100 records.");
DEFINE_double(seconds_per_cell, 3.0, "Measured seconds per target and size.");
DEFINE_int32(connections, 8, "Concurrent connections (each its own thread) per target.");
DEFINE_int32(records_per_call, 500, "Records per PutRecords call.");
DEFINE_int32(shards, 4, "Shards of each stream.");
DEFINE_string(sizes, "100,1024", "Record sizes in bytes, comma-separated.");
DEFINE_string(kinesalite_endpoint, "",
              "host:port of a running kinesalite (run.sh starts one); empty: not measured.");
DEFINE_string(targets, "tributary_http,tributary_grpc,kinesalite",
              "Which targets to measure (kinesalite only with --kinesalite_endpoint).");
DEFINE_string(work_dir, "", "Directory for the store's data (default: a fresh one, removed).");

namespace tributary::bench {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::string RandomBytes(std::mt19937_64& rng, int n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// The records one connection sends in every call (distinct keys, spread over every shard).
v1::PutRecordsRequest MakeRecords(const std::string& stream, int connection, int record_bytes) {
  std::mt19937_64 rng(connection * 7919 + record_bytes);
  v1::PutRecordsRequest r;
  r.set_stream_name(stream);
  for (int i = 0; i < FLAGS_records_per_call; ++i) {
    auto* e = r.add_records();
    e->set_partition_key(absl::StrCat("pk-", connection, "-", i));
    e->set_data(RandomBytes(rng, record_bytes));
  }
  return r;
}

// A complete HTTP/1.1 request for Kinesis_20131202.<operation> with a JSON body, as botocore
// sends it (the signature is well-formed; neither server verifies it here).
std::string HttpRequestBytes(const std::string& host_port, const std::string& operation,
                             const std::string& body) {
  return absl::StrCat(
      "POST / HTTP/1.1\r\nHost: ", host_port,
      "\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.", operation,
      "\r\nX-Amz-Date: 20240101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 "
      "Credential=AKIDBENCH/20240101/us-east-1/kinesis/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=",
      std::string(64, '0'), "\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
}

std::string PutRecordsJson(const v1::PutRecordsRequest& records) {
  std::string body = absl::StrCat(R"({"StreamName":")", records.stream_name(), R"(","Records":[)");
  for (int i = 0; i < records.records_size(); ++i) {
    absl::StrAppend(&body, i ? "," : "", R"({"Data":")",
                    absl::Base64Escape(records.records(i).data()), R"(","PartitionKey":")",
                    records.records(i).partition_key(), R"("})");
  }
  body += "]}";
  return body;
}

// A keep-alive HTTP connection that sends pre-built requests and reads replies.
class HttpConnection {
 public:
  absl::Status Connect(const std::string& host, int port) {
    boost::system::error_code ec;
    socket_.connect({asio::ip::make_address(host, ec), static_cast<unsigned short>(port)}, ec);
    if (ec) return absl::UnavailableError(absl::StrCat(host, ":", port, ": ", ec.message()));
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    return absl::OkStatus();
  }
  // Sends `request` and reads the reply: its status and body, or an error.
  absl::StatusOr<http::response<http::string_body>> RoundTrip(const std::string& request) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(request), ec);
    if (ec) return absl::UnavailableError(ec.message());
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(socket_, buffer_, parser, ec);
    if (ec) return absl::UnavailableError(ec.message());
    return parser.release();
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_{io_};
  boost::beast::flat_buffer buffer_;
};

// The FailedRecordCount of a PutRecords JSON reply; -1 when there is none.
int64_t FailedRecordCount(const std::string& body) {
  const std::string kField = "\"FailedRecordCount\":";
  const size_t at = body.find(kField);
  if (at == std::string::npos) return -1;
  size_t end = at + kField.size();
  while (end < body.size() && body[end] == ' ') ++end;
  size_t digits = end;
  while (digits < body.size() && absl::ascii_isdigit(body[digits])) ++digits;
  int64_t n;
  return absl::SimpleAtoi(body.substr(end, digits - end), &n) ? n : -1;
}

// Calls `operation` once on a fresh connection; the reply body, or an error for a non-200.
absl::StatusOr<std::string> CallOnce(const HostPort& endpoint, const std::string& operation,
                                     const std::string& body) {
  HttpConnection connection;
  if (absl::Status s = connection.Connect(endpoint.host, endpoint.port); !s.ok()) return s;
  auto reply = connection.RoundTrip(HttpRequestBytes(endpoint.ToString(), operation, body));
  if (!reply.ok()) return reply.status();
  if (reply->result_int() != 200) {
    return absl::InternalError(
        absl::StrCat(operation, ": HTTP ", reply->result_int(), ": ", reply->body()));
  }
  return reply->body();
}

// Creates `stream` over HTTP and waits (bounded) until it is ACTIVE.
absl::Status CreateStreamOverHttp(const HostPort& endpoint, const std::string& stream) {
  const std::string name = absl::StrCat(R"({"StreamName":")", stream, R"("})");
  if (auto s = CallOnce(
          endpoint, "CreateStream",
          absl::StrCat(R"({"StreamName":")", stream, R"(","ShardCount":)", FLAGS_shards, "}"));
      !s.ok()) {
    return s.status();
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    auto summary = CallOnce(endpoint, "DescribeStreamSummary", name);
    if (summary.ok() && summary->find("\"ACTIVE\"") != std::string::npos) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat("stream ", stream, " never became ACTIVE"));
}

struct Result {
  double records_per_second = 0;
  int64_t failed_records = 0;
  int64_t failed_calls = 0;
};

// --connections threads, each with its own connection and its own pre-built request.
absl::StatusOr<Result> RunHttp(const HostPort& endpoint, const std::string& stream,
                               int record_bytes) {
  if (absl::Status s = CreateStreamOverHttp(endpoint, stream); !s.ok()) return s;
  PutCounts counts;
  std::atomic<bool> go{false};
  absl::Time deadline;
  std::vector<std::thread> threads;
  for (int c = 0; c < FLAGS_connections; ++c) {
    threads.emplace_back([&, c] {
      const std::string request = HttpRequestBytes(
          endpoint.ToString(), "PutRecords", PutRecordsJson(MakeRecords(stream, c, record_bytes)));
      HttpConnection connection;
      const bool connected = connection.Connect(endpoint.host, endpoint.port).ok();
      while (!go.load()) std::this_thread::yield();
      if (!connected) {
        counts.failed_calls.fetch_add(1);
        return;
      }
      while (absl::Now() < deadline) {
        auto reply = connection.RoundTrip(request);
        const int64_t failed =
            reply.ok() && reply->result_int() == 200 ? FailedRecordCount(reply->body()) : -1;
        if (failed < 0) {
          counts.failed_calls.fetch_add(1);
          if (!reply.ok()) return;  // the connection is gone
          continue;
        }
        counts.ok_records.fetch_add(FLAGS_records_per_call - failed);
        counts.failed_records.fetch_add(failed);
      }
    });
  }
  const absl::Time start = absl::Now();
  deadline = start + absl::Seconds(FLAGS_seconds_per_cell);
  go.store(true);
  for (auto& t : threads) t.join();
  return Result{counts.ok_records.load() / absl::ToDoubleSeconds(absl::Now() - start),
                counts.failed_records.load(), counts.failed_calls.load()};
}

absl::StatusOr<Result> RunGrpc(shard_store::ShardStore& store, const std::string& address,
                               const std::string& stream, int record_bytes) {
  v1::CreateStreamRequest create;
  create.set_stream_name(stream);
  create.set_shard_count(FLAGS_shards);
  if (absl::Status s = store.CreateStream(create); !s.ok()) return s;
  PutCounts counts;
  std::atomic<bool> go{false};
  absl::Time deadline;
  std::vector<std::thread> threads;
  for (int c = 0; c < FLAGS_connections; ++c) {
    threads.emplace_back([&, c] {
      RunPreserializedPutRecords(OwnChannel(address, c), MakeRecords(stream, c, record_bytes), go,
                                 deadline, counts);
    });
  }
  const absl::Time start = absl::Now();
  deadline = start + absl::Seconds(FLAGS_seconds_per_cell);
  go.store(true);
  for (auto& t : threads) t.join();
  return Result{counts.ok_records.load() / absl::ToDoubleSeconds(absl::Now() - start),
                counts.failed_records.load(), counts.failed_calls.load()};
}

int Main() {
  std::vector<int> sizes;
  for (absl::string_view v : absl::StrSplit(FLAGS_sizes, ',', absl::SkipEmpty())) {
    int size;
    if (!absl::SimpleAtoi(v, &size) || size < 1) {
      std::fprintf(stderr, "--sizes: '%s' is not a positive size\n", std::string(v).c_str());
      return 2;
    }
    sizes.push_back(size);
  }
  if (FLAGS_quick) {
    sizes = {100};
    FLAGS_seconds_per_cell = std::min(FLAGS_seconds_per_cell, 0.3);
    FLAGS_connections = std::min(FLAGS_connections, 2);
    FLAGS_records_per_call = std::min(FLAGS_records_per_call, 100);
  }
  std::optional<HostPort> kinesalite;
  if (!FLAGS_kinesalite_endpoint.empty()) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(FLAGS_kinesalite_endpoint, AddressUse::kDial);
    if (!parsed.ok()) {
      std::fprintf(stderr, "--kinesalite_endpoint: %s\n", parsed.status().ToString().c_str());
      return 2;
    }
    kinesalite = *parsed;
  }

  ScopedWorkDir work(FLAGS_work_dir, "kinesis_http_bench");
  shard_store::ShardStoreNodeOptions node_options;
  node_options.store.data_dir = work.path() + "/store";
  node_options.trim_period = absl::ZeroDuration();
  auto node = shard_store::ShardStoreNode::Create(node_options, RealClock::Get());
  if (!node.ok()) {
    std::fprintf(stderr, "store: %s\n", node.status().ToString().c_str());
    return 1;
  }
  auto grpc_server = GrpcServer::Start("127.0.0.1:0", {(*node)->service()});
  if (!grpc_server.ok()) {
    std::fprintf(stderr, "gRPC: %s\n", grpc_server.status().ToString().c_str());
    return 1;
  }
  aws::AwsServerOptions aws_options;
  aws_options.listen_address = "127.0.0.1:0";
  auto aws_server = aws::AwsServer::Start(aws_options, (*node)->store());
  if (!aws_server.ok()) {
    std::fprintf(stderr, "AWS front door: %s\n", aws_server.status().ToString().c_str());
    return 1;
  }
  const HostPort front_door{"127.0.0.1", (*aws_server)->port()};

  Progress("kinesis_http_bench: %d connections, %d records/call, %d shards, %.1f s a cell%s",
           FLAGS_connections, FLAGS_records_per_call, FLAGS_shards, FLAGS_seconds_per_cell,
           kinesalite ? "" : " (no --kinesalite_endpoint: kinesalite not measured)");
  Report report("kinesis_http_bench");
  report.Set("connections", absl::StrCat(FLAGS_connections));
  report.Set("records_per_call", absl::StrCat(FLAGS_records_per_call));
  report.Set("shards", absl::StrCat(FLAGS_shards));
  report.Set("seconds_per_cell", absl::StrCat(FLAGS_seconds_per_cell));
  report.Set("quick", FLAGS_quick ? "true" : "false");
  bool zero = false;
  int cell = 0;
  // Stream names unique to this run, so that a kinesalite left running by an earlier run (which
  // still has that run's streams) is no obstacle.
  const std::string run = absl::StrCat(absl::ToUnixMillis(absl::Now()) % 100000000);
  for (int size : sizes) {
    ++cell;
    struct Target {
      std::string name;
      absl::StatusOr<Result> result;
    };
    std::vector<Target> targets;
    const std::vector<std::string> wanted = absl::StrSplit(FLAGS_targets, ',');
    auto want = [&](const char* name) {
      return std::find(wanted.begin(), wanted.end(), name) != wanted.end();
    };
    if (want("tributary_http")) {
      targets.push_back(
          {"tributary_http", RunHttp(front_door, absl::StrCat("http-", run, "-", cell), size)});
    }
    if (want("tributary_grpc")) {
      targets.push_back({"tributary_grpc", RunGrpc((*node)->store(), (*grpc_server)->address(),
                                                   absl::StrCat("grpc-", run, "-", cell), size)});
    }
    if (kinesalite && want("kinesalite")) {
      targets.push_back(
          {"kinesalite", RunHttp(*kinesalite, absl::StrCat("kl-", run, "-", cell), size)});
    }
    double http_rps = 0, grpc_rps = 0, kinesalite_rps = 0;
    for (const Target& t : targets) {
      if (!t.result.ok()) {
        std::fprintf(stderr, "%s, %d B: %s\n", t.name.c_str(), size,
                     t.result.status().ToString().c_str());
        return 1;
      }
      Progress("%5d B  %-15s %10.0f records/s  %7.1f MB/s  failed records %lld, calls %lld", size,
               t.name.c_str(), t.result->records_per_second,
               t.result->records_per_second * size / 1e6,
               static_cast<long long>(t.result->failed_records),
               static_cast<long long>(t.result->failed_calls));
      if (t.name == "tributary_http") http_rps = t.result->records_per_second;
      if (t.name == "tributary_grpc") grpc_rps = t.result->records_per_second;
      if (t.name == "kinesalite") kinesalite_rps = t.result->records_per_second;
      zero |= t.result->records_per_second <= 0;
      report.AddRow({Report::Num("record_bytes", size), Report::Str("target", t.name),
                     Report::Num("records_per_second", t.result->records_per_second),
                     Report::Num("mb_per_second", t.result->records_per_second * size / 1e6, 1),
                     Report::Num("failed_records", t.result->failed_records),
                     Report::Num("failed_calls", t.result->failed_calls)});
    }
    std::vector<Report::Cell> ratios = {
        Report::Num("record_bytes", size), Report::Str("target", "ratios"),
        Report::Num("http_over_grpc", http_rps / std::max(1.0, grpc_rps), 2)};
    if (kinesalite) {
      ratios.push_back(
          Report::Num("http_over_kinesalite", http_rps / std::max(1.0, kinesalite_rps), 1));
    }
    report.AddRow(std::move(ratios));
  }
  (*aws_server)->Shutdown();
  (*grpc_server)->Shutdown();
  return FinishRun(report.Finish(FLAGS_json_out), zero, "a figure is zero");
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  return tributary::bench::BenchMain(argc, argv, tributary::bench::Main);
}
