// security_bench: what TLS and authentication cost (issue 21). The same in-process Tributary
// (every service on one 127.0.0.1 port, as `tributary serve` composes them) is run twice in
// one process, one mode after the other:
//   off       plaintext, no authentication, no policy (the embedded default)
//   tls       TLS on the port and on every client, nobody authenticated (what encryption costs)
//   tls_auth  TLS on the port; the services call each other with client certificates (mutual
//             TLS); producers authenticate with a bearer token; a policy authorizes every call
//             (--policy_file) and control-plane calls are audited (--audit_log)
// and in each mode measures PutRecords goodput (--clients closed-loop producers, --per_call
// records of --record_bytes a call, for --seconds), CPU per acknowledged record, and the drain
// rate of one poller delivering a pre-loaded stream to a no-op gRPC function (the function
// itself stays plaintext: its TLS is the function owner's). The report gives each mode's
// figures and the tls_auth cost relative to off. With --mirror (the default) the modes run
// again in reverse order and each mode's figures are the mean of its two runs, since a mode
// run later in the process costs ~0.1-0.2 us a record more (BENCHMARKS.md Run 30).
//
//   bazel run -c opt //tools/bench/security:security_bench
//   bazel run -c opt //tools/bench/security:security_bench -- --quick   # the smoke test
//
// Bounded: each put phase runs --seconds, each drain has a deadline. Certificates come from
// tools/dev_certs.sh into the work directory.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth_tokens.h"
#include "common/testing/dev_certs.h"
#include "gflags/gflags.h"
#include "tools/bench/common/bench_common.h"
#include "tools/bench/common/bench_main.h"

DEFINE_bool(quick, false, "Smoke mode: short phases, few records.");
DEFINE_double(seconds, 10, "Length of each put phase.");
DEFINE_int32(clients, 4, "Concurrent PutRecords clients (closed loop, one connection each).");
DEFINE_int32(per_call, 500, "Records per PutRecords call.");
DEFINE_int32(record_bytes, 100, "Bytes of data per record.");
DEFINE_int32(shards, 4, "Shards of each stream.");
DEFINE_int64(drain_records, 2000000,
             "Records pre-loaded for the delivery phase (2 M: ~2 s of draining here; 200 k "
             "drained in ~0.2 s, too short to read delivery's cost from, BENCHMARKS.md Run 32).");
DEFINE_double(drain_timeout_seconds, 30, "Give up on a drain after this.");
DEFINE_string(modes, "off,tls,tls_auth", "The modes to run, in this order.");
DEFINE_bool(mirror, true,
            "Run the modes again in reverse order and report each mode's mean: a mode run later "
            "in the process costs more than run first (BENCHMARKS.md Run 30).");
DEFINE_string(work_dir, "",
              "Directory for data and certificates, kept (default: a fresh one, removed).");

namespace tributary::bench {
namespace {

constexpr char kToken[] = "bench-producer-token";

struct Figures {
  double put_rps = 0;
  double cpu_us_per_record = 0;
  double drain_rps = 0;
  int64_t delivered = 0;
  int64_t loaded = 0;
};

// The security of a mode: the server's, the services' own clients', and a producer's.
struct ModeSecurity {
  GrpcServerSecurity server;
  GrpcClientSecurity services;
  GrpcClientSecurity producer;
};

absl::StatusOr<ModeSecurity> SecurityOf(const std::string& mode, const std::string& dir) {
  ModeSecurity s;
  if (mode == "off") return s;
  if (mode != "tls_auth" && mode != "tls") {
    return absl::InvalidArgumentError("--modes: off, tls or tls_auth");
  }
  absl::StatusOr<testing::DevCerts> certs = testing::MakeDevCerts(dir + "/certs", {"services"});
  if (!certs.ok()) return certs.status();
  std::ofstream(dir + "/tokens") << Sha256Hex(kToken) << " producer\n";
  std::ofstream(dir + "/policy.json") << R"({"Statement": [
    {"Effect": "Allow", "Principal": ["producer", "CN=services"],
     "Action": ["kinesis:*", "lambda:*", "tributary:*"], "Resource": "*"}]})";
  s.server.cert_file = certs->server_cert;
  s.server.key_file = certs->server_key;
  s.server.client_ca_file = certs->ca;
  s.server.auth_tokens_file = dir + "/tokens";
  s.server.policy_file = dir + "/policy.json";
  s.server.audit_log = dir + "/audit.log";
  s.services.ca_file = certs->ca;
  s.services.cert_file = certs->ClientCert("services");
  s.services.key_file = certs->ClientKey("services");
  s.producer.ca_file = certs->ca;
  s.producer.token = kToken;
  if (mode == "tls") {  // encryption only: nobody is authenticated or authorized
    s.server.client_ca_file.clear();
    s.server.auth_tokens_file.clear();
    s.server.policy_file.clear();
    s.server.audit_log.clear();
    s.services.cert_file.clear();
    s.services.key_file.clear();
    s.producer.token.clear();
  }
  return s;
}

absl::StatusOr<Figures> RunMode(const std::string& mode, const std::string& dir) {
  absl::StatusOr<ModeSecurity> security = SecurityOf(mode, dir);
  if (!security.ok()) return security.status();
  ClusterOptions options;
  options.data_dir = dir + "/data";
  options.sync_interval_ms = 200;
  options.server_security = security->server;
  options.client_security = security->services;
  absl::StatusOr<std::unique_ptr<InProcessCluster>> cluster = InProcessCluster::Create(options);
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<std::unique_ptr<FunctionServer>> function = FunctionServer::Start();
  if (!function.ok()) return function.status();
  InProcessCluster& c = **cluster;
  Figures f;

  // Put phase: closed-loop producers for --seconds.
  if (absl::Status s = c.CreateStream("put", FLAGS_shards); !s.ok()) return s;
  v1::PutRecordsRequest request;
  request.set_stream_name("put");
  for (int i = 0; i < FLAGS_per_call; ++i) {
    auto* e = request.add_records();
    e->set_partition_key(absl::StrCat("pk-", i));
    e->set_data(RecordData(i, FLAGS_record_bytes));
  }
  PutCounts counts;
  std::atomic<bool> go{false};
  absl::Time deadline = absl::InfiniteFuture();
  std::vector<std::thread> producers;
  for (int i = 0; i < FLAGS_clients; ++i) {
    producers.emplace_back([&, i] {
      RunPreserializedPutRecords(OwnChannel(c.address(), i, security->producer), request, go,
                                 deadline, counts);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // channels connect
  const double cpu_start = CpuSeconds();
  const int64_t start = NowNanos();
  deadline = absl::Now() + absl::Seconds(FLAGS_seconds);
  go = true;
  for (auto& t : producers) t.join();
  const double put_s = (NowNanos() - start) / 1e9;
  const int64_t ok = counts.ok_records.load();
  f.put_rps = ok / put_s;
  f.cpu_us_per_record = ok > 0 ? (CpuSeconds() - cpu_start) * 1e6 / ok : 0;
  if (counts.failed_calls.load() > 0 || counts.failed_records.load() > 0) {
    Progress("[%s] %lld failed calls, %lld failed records", mode.c_str(),
             static_cast<long long>(counts.failed_calls.load()),
             static_cast<long long>(counts.failed_records.load()));
  }

  // Delivery phase: pre-load, then one mapping at TRIM_HORIZON drains into the no-op function.
  if (absl::Status s = c.CreateStream("drain", FLAGS_shards); !s.ok()) return s;
  int64_t failed = 0;
  f.loaded = Preload(c.address(), "drain", FLAGS_drain_records, FLAGS_record_bytes, 4, 500, 0,
                     &failed, security->producer);
  NoopFunction& noop = (*function)->function();
  noop.Reset();
  absl::StatusOr<std::string> uuid = c.CreateMapping("drain", (*function)->address(), 10000, 1,
                                                     /*trim_horizon=*/true);
  if (!uuid.ok()) return uuid.status();
  const int64_t created = NowNanos();
  const int64_t drain_deadline = created + static_cast<int64_t>(FLAGS_drain_timeout_seconds * 1e9);
  while (noop.records() < f.loaded && NowNanos() < drain_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  f.delivered = noop.records();
  const double drain_s =
      std::max(1e-9, (noop.last_invoke_nanos() - noop.first_invoke_nanos()) / 1e9);
  f.drain_rps = f.delivered / drain_s;
  Progress(
      "[%s] put %.0f rec/s (%.1f us CPU/record, %lld acked in %.1f s); delivered %lld/%lld "
      "at %.0f rec/s",
      mode.c_str(), f.put_rps, f.cpu_us_per_record, static_cast<long long>(ok), put_s,
      static_cast<long long>(f.delivered), static_cast<long long>(f.loaded), f.drain_rps);
  c.Shutdown();
  return f;
}

int Main() {
  if (FLAGS_quick) {
    FLAGS_seconds = std::min(FLAGS_seconds, 2.0);
    FLAGS_drain_records = std::min<int64_t>(FLAGS_drain_records, 5000);
    FLAGS_shards = std::min(FLAGS_shards, 2);
  }
  ScopedWorkDir work_dir(FLAGS_work_dir, "security_bench");
  Report report("security");
  report.Set("quick", FLAGS_quick ? "true" : "false");
  report.Set("record_bytes", absl::StrCat(FLAGS_record_bytes));
  report.Set("per_call", absl::StrCat(FLAGS_per_call));
  report.Set("clients", absl::StrCat(FLAGS_clients));
  report.Set("shards", absl::StrCat(FLAGS_shards));
  report.Set("cores", absl::StrCat(std::thread::hardware_concurrency()));
  report.Set("mirror", FLAGS_mirror ? "true" : "false");
  std::vector<std::string> modes = absl::StrSplit(FLAGS_modes, ',', absl::SkipEmpty());
  const size_t distinct = modes.size();
  if (FLAGS_mirror) {
    const std::vector<std::string> reversed(modes.rbegin(), modes.rend());
    modes.insert(modes.end(), reversed.begin(), reversed.end());
  }
  // Each mode's figures: the mean of its runs (one, or two with --mirror); "delivered" counts both.
  std::vector<std::pair<std::string, Figures>> results;
  bool zero = false;
  for (size_t i = 0; i < modes.size(); ++i) {
    const std::string& mode = modes[i];
    absl::StatusOr<Figures> f = RunMode(mode, absl::StrCat(work_dir.path(), "/", mode, "-", i));
    if (!f.ok()) {
      Progress("[%s] %s", mode.c_str(), f.status().ToString().c_str());
      return 1;
    }
    if (f->put_rps <= 0 || f->drain_rps <= 0 || f->delivered < f->loaded) zero = true;
    if (i < distinct) {
      results.emplace_back(mode, *f);
      continue;
    }
    Figures& mean = results[modes.size() - 1 - i].second;  // the same mode's first run
    mean.put_rps = (mean.put_rps + f->put_rps) / 2;
    mean.cpu_us_per_record = (mean.cpu_us_per_record + f->cpu_us_per_record) / 2;
    mean.drain_rps = (mean.drain_rps + f->drain_rps) / 2;
    mean.delivered += f->delivered;
    mean.loaded += f->loaded;
  }
  const Figures* off = nullptr;
  for (const auto& [mode, f] : results) {
    if (mode == "off") off = &f;
  }
  for (const auto& result : results) {
    const std::string& mode = result.first;
    const Figures& f = result.second;
    // How much worse than off, in percent (0 for off itself or without an off run).
    auto cost = [&](double value, double base) {
      return off == nullptr || off == &f || base <= 0 ? 0.0 : 100.0 * (base - value) / base;
    };
    report.AddRow(
        {Report::Str("mode", mode), Report::Num("put_records_per_s", f.put_rps),
         Report::Num("cpu_us_per_record", f.cpu_us_per_record, 2),
         Report::Num("put_cost_pct", off ? cost(f.put_rps, off->put_rps) : 0, 1),
         Report::Num("cpu_cost_pct",
                     off ? 0.0 - cost(f.cpu_us_per_record, off->cpu_us_per_record) : 0, 1),
         Report::Num("delivery_records_per_s", f.drain_rps),
         Report::Num("delivery_cost_pct", off ? cost(f.drain_rps, off->drain_rps) : 0, 1),
         Report::Num("delivered", f.delivered)});
  }
  return FinishRun(report.Finish(FLAGS_json_out), zero,
                   "a figure is zero or a drain did not finish");
}

}  // namespace
}  // namespace tributary::bench

int main(int argc, char** argv) {
  return tributary::bench::BenchMain(argc, argv, tributary::bench::Main);
}
