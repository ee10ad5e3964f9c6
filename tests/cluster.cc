#include "tests/cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/await.h"
#include "common/clock.h"
#include "common/replica_channel.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "google/protobuf/util/time_util.h"

namespace tributary::e2e {
namespace {

using ::google::protobuf::util::TimeUtil;

uint64_t ParseSequence(const std::string& s) {
  uint64_t v = 0;
  if (!absl::SimpleAtoi(s, &v)) return 0;
  return v;
}

// Collects up to 10 violation lines, then a count of the rest.
class Violations {
 public:
  void Add(std::string line) {
    if (lines_.size() < 10) lines_.push_back(std::move(line));
    ++count_;
  }
  absl::Status ToStatus(absl::string_view what) const {
    if (count_ == 0) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": ", count_, " violations; first: ", absl::StrJoin(lines_, "; ")));
  }

 private:
  std::vector<std::string> lines_;
  int64_t count_ = 0;
};

}  // namespace

grpc::Status RecordingFunction::Invoke(grpc::ServerContext*, const v1::InvokeRequest* request,
                                       v1::InvokeResponse* response) {
  // Real time of the invocation: the harness measures failover from it (monotonic: a duration).
  const MonotonicTime now = RealClock::Get().MonotonicNow();
  absl::MutexLock lock(&mu_);
  ++invocations_;
  for (const v1::Record& record : request->records()) {
    deliveries_.push_back(
        Delivery{request->shard_id(), ParseSequence(record.sequence_number()),
                 record.partition_key(), record.data(), now,
                 TimeUtil::TimestampToMilliseconds(record.approximate_arrival_timestamp())});
  }
  if (request->has_window()) {
    const auto& state = request->state().values();
    int64_t count = 0;
    auto it = state.find("count");
    if (it != state.end() && !absl::SimpleAtoi(it->second, &count)) count = 0;
    count += request->records_size();
    auto key = state.find("key");
    std::string first_key = key != state.end() ? key->second : "";
    if (first_key.empty() && request->records_size() > 0) {
      first_key = request->records(0).partition_key();
    }
    if (request->is_final_invoke_for_window()) {
      window_closes_.push_back(WindowClose{
          request->shard_id(), TimeUtil::TimestampToMilliseconds(request->window().start()),
          TimeUtil::TimestampToMilliseconds(request->window().end()), count,
          request->is_window_terminated_early(), first_key});
      response->mutable_state();  // the next window starts empty
    } else {
      auto& out = *response->mutable_state()->mutable_values();
      out["count"] = absl::StrCat(count);
      out["key"] = first_key;
    }
  }
  return grpc::Status::OK;
}

std::vector<Delivery> RecordingFunction::Deliveries() const {
  absl::MutexLock lock(&mu_);
  return deliveries_;
}

std::vector<WindowClose> RecordingFunction::WindowCloses() const {
  absl::MutexLock lock(&mu_);
  return window_closes_;
}

int64_t RecordingFunction::invocations() const {
  absl::MutexLock lock(&mu_);
  return invocations_;
}

Producer::Producer(std::string stream_name, std::string endpoint, int keys, int records_per_call,
                   int records_per_second, GrpcClientSecurity security)
    : stream_name_(std::move(stream_name)),
      endpoint_(std::move(endpoint)),
      keys_(keys),
      records_per_call_(records_per_call),
      records_per_second_(records_per_second),
      security_(std::move(security)) {}

Producer::~Producer() { Stop(); }

void Producer::Start(int64_t total) {
  thread_ = std::thread([this, total] { Run(total); });
}

void Producer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void Producer::Run(int64_t total) {
  // One client per front-end of the list; a failed call moves to the next.
  std::vector<std::unique_ptr<shard_store::ShardStoreClient>> clients;
  for (absl::string_view endpoint : absl::StrSplit(endpoint_, ',')) {
    clients.push_back(std::make_unique<shard_store::ShardStoreClient>(
        MakeChannel(std::string(endpoint), security_), absl::Seconds(5)));
  }
  size_t current = 0;
  std::vector<int64_t> next(keys_, 0);  // per key: the next n to write
  int64_t acked = 0;
  int key_cursor = 0;
  const MonotonicTime start = RealClock::Get().MonotonicNow();
  while (!stop_ && acked < total) {
    // Pacing: the n-th record is not written before start + n / rate.
    RealClock::Get().SleepUntil(start + absl::Seconds(1) * acked / records_per_second_);
    // One call: records_per_call records, round-robin over keys, each key at most once per
    // call so that a key's n values stay ordered even when only part of a call succeeds.
    v1::PutRecordsRequest request;
    request.set_stream_name(stream_name_);
    std::vector<int> keys_in_call;
    const int in_call =
        static_cast<int>(std::min<int64_t>({records_per_call_, keys_, total - acked}));
    for (int i = 0; i < in_call; ++i) {
      const int k = (key_cursor + i) % keys_;
      keys_in_call.push_back(k);
      auto* entry = request.add_records();
      entry->set_partition_key(absl::StrCat("key-", k));
      entry->set_data(absl::StrCat("key-", k, "|", next[k]));
    }
    key_cursor = (key_cursor + in_call) % keys_;
    absl::StatusOr<v1::PutRecordsResponse> response = clients[current]->PutRecords(request);
    if (!response.ok()) {
      ++failed_calls_;
      current = (current + 1) % clients.size();
      // The store may be restarting: back off briefly (real time: another process).
      RealClock::Get().SleepFor(absl::Milliseconds(50));
      continue;  // the same n values are written again: at-least-once allows duplicates
    }
    const MonotonicTime returned = RealClock::Get().MonotonicNow();
    absl::MutexLock lock(&mu_);
    ack_times_.push_back(returned);
    for (int i = 0; i < response->records_size(); ++i) {
      const v1::PutRecordsResultEntry& result = response->records(i);
      if (!result.error_code().empty()) continue;  // written again with the same n next time
      const int k = keys_in_call[i];
      acked_.push_back(Acked{absl::StrCat("key-", k), next[k], result.shard_id(),
                             ParseSequence(result.sequence_number())});
      ++next[k];
      ++acked;
    }
  }
}

::testing::AssertionResult Producer::WaitForAcked(int64_t count, absl::Duration timeout) {
  return tributary::testing::IsOk(AwaitFor(
      mu_, timeout, absl::StrCat(count, " acknowledged records"),
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return static_cast<int64_t>(acked_.size()) >= count;
      },
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return absl::StrCat(acked_.size(), " acknowledged, ", failed_calls_.load(),
                            " failed call(s)");
      }));
}

std::vector<Acked> Producer::AckedRecords() const {
  absl::MutexLock lock(&mu_);
  return acked_;
}

std::vector<MonotonicTime> Producer::AckTimes() const {
  absl::MutexLock lock(&mu_);
  return ack_times_;
}

int64_t Producer::acked_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(acked_.size());
}

const char* ComponentName(Component c) {
  switch (c) {
    case Component::kShardStore:
      return "shard_store";
    case Component::kLeasing:
      return "leasing";
    case Component::kStreamTracker:
      return "stream_tracker";
    case Component::kPoller0:
      return "poller0";
    case Component::kPoller1:
      return "poller1";
    case Component::kLeasing1:
      return "leasing1";
    case Component::kStreamTracker1:
      return "stream_tracker1";
    case Component::kPoller2:
      return "poller2";
    case Component::kShardStore1:
      return "shard_store1";
  }
  return "unknown";
}

Cluster::Cluster(ClusterOptions options) : options_(options) {
  root_ = testing::NewTempDir("cluster");
}

Cluster::~Cluster() {
  // Pollers first, so that they stop invoking the function before it goes away.
  for (Component c : {Component::kPoller0, Component::kPoller1, Component::kPoller2,
                      Component::kStreamTracker, Component::kStreamTracker1, Component::kLeasing,
                      Component::kLeasing1, Component::kShardStore, Component::kShardStore1}) {
    auto it = processes_.find(c);
    if (it != processes_.end()) it->second.child.Kill(SIGKILL);
  }
}

std::string Cluster::Address(Component c) const {
  auto it = processes_.find(c);
  if (it == processes_.end()) return "";
  return absl::StrCat("127.0.0.1:", it->second.port);
}

std::string Cluster::leasing_addresses() const {
  std::vector<std::string> out = {Address(Component::kLeasing)};
  if (processes_.count(Component::kLeasing1) > 0) out.push_back(Address(Component::kLeasing1));
  return absl::StrJoin(out, ",");
}

std::string Cluster::shard_store_addresses() const {
  std::vector<std::string> out = {Address(Component::kShardStore)};
  if (processes_.count(Component::kShardStore1) > 0) out.push_back(Address(Component::kShardStore1));
  return absl::StrJoin(out, ",");
}

std::string Cluster::stream_tracker_addresses() const {
  std::vector<std::string> out = {Address(Component::kStreamTracker)};
  if (processes_.count(Component::kStreamTracker1) > 0) {
    out.push_back(Address(Component::kStreamTracker1));
  }
  return absl::StrJoin(out, ",");
}

int Cluster::pid(Component c) const {
  auto it = processes_.find(c);
  if (it == processes_.end() || !it->second.child.running()) return -1;
  return it->second.child.pid();
}

absl::StatusOr<int> Cluster::MetricsPort(Component c) const {
  auto it = processes_.find(c);
  if (it == processes_.end()) return absl::NotFoundError(ComponentName(c));
  return WaitForPortFile(absl::StrCat(root_, "/", it->second.name, ".metrics_port"),
                         absl::Seconds(30));
}

std::vector<std::string> Cluster::Args(Component c) const {
  const Process& p = processes_.at(c);
  std::vector<std::string> args = {
      absl::StrCat("--listen=127.0.0.1:", p.port),
      absl::StrCat("--port_file=", root_, "/", p.name, ".port"),
  };
  const bool etcd = !options_.coordination.empty();
  switch (c) {
    case Component::kShardStore:
    case Component::kShardStore1:
      if (!options_.log.empty()) {
        // A stateless front-end: stream metadata in etcd, records in JetStream.
        args.push_back("--coordination=" + options_.coordination);
        args.push_back("--etcd_prefix=" + options_.etcd_prefix + "store/");
        args.push_back("--log=" + options_.log);
        args.push_back(absl::StrCat("--log_replicas=", options_.log_replicas));
      } else {
        args.push_back("--data_dir=" + p.data_dir);
      }
      break;
    case Component::kLeasing:
    case Component::kLeasing1:
      if (etcd) {
        args.push_back("--coordination=" + options_.coordination);
        args.push_back("--etcd_prefix=" + options_.etcd_prefix + "leasing/");
        // Its own marker keys, the same across its restarts.
        args.push_back("--replica_name=" + p.name);
      } else {
        args.push_back("--data_dir=" + p.data_dir);
      }
      args.push_back(absl::StrCat("--lease_duration_ms=", options_.lease_duration_ms));
      break;
    case Component::kStreamTracker:
    case Component::kStreamTracker1:
      if (etcd) {
        args.push_back("--coordination=" + options_.coordination);
        args.push_back("--etcd_prefix=" + options_.etcd_prefix + "tracker/");
        args.push_back(absl::StrCat("--election_ttl_ms=", options_.election_ttl_ms));
      } else {
        args.push_back("--data_dir=" + p.data_dir);
      }
      args.push_back("--shard_store=" + shard_store_addresses());
      args.push_back("--leasing=" + leasing_addresses());
      args.push_back(absl::StrCat("--sync_interval_ms=", options_.sync_interval_ms));
      args.push_back(absl::StrCat("--full_sync_interval_ms=", options_.full_sync_interval_ms));
      break;
    case Component::kPoller0:
    case Component::kPoller1:
    case Component::kPoller2:
      args.push_back("--poller_id=" + p.name);
      args.push_back(absl::StrCat("--capacity=", options_.poller_capacity));
      args.push_back("--shard_store=" + shard_store_addresses());
      args.push_back("--leasing=" + leasing_addresses());
      args.push_back("--stream_tracker=" + stream_tracker_addresses());
      if (!options_.metrics) args.push_back("--metrics_listen=");
      break;
  }
  if (options_.extra_flags) {
    for (std::string& flag : options_.extra_flags(p.name)) args.push_back(std::move(flag));
  }
  if (options_.metrics) {
    args.push_back("--metrics_listen=127.0.0.1:0");
    args.push_back(absl::StrCat("--metrics_port_file=", root_, "/", p.name, ".metrics_port"));
  }
  return args;
}

absl::Status Cluster::StartProcess(Component c) {
  Process& p = processes_.at(c);
  const std::string port_file = absl::StrCat(root_, "/", p.name, ".port");
  std::remove(port_file.c_str());
  std::remove(absl::StrCat(root_, "/", p.name, ".metrics_port").c_str());
  absl::StatusOr<Subprocess> child =
      Subprocess::Start(p.binary, Args(c), absl::StrCat(root_, "/", p.name, ".log"));
  if (!child.ok()) return child.status();
  p.child = std::move(*child);
  absl::StatusOr<int> port = WaitForPortFile(port_file, absl::Seconds(60));
  if (!port.ok()) {
    return absl::UnavailableError(absl::StrCat(p.name, " did not start (see ", root_, "/", p.name,
                                               ".log): ", port.status().message()));
  }
  p.port = *port;
  return WaitForServing(Address(c), absl::Seconds(30), options_.client_security);
}

absl::Status Cluster::Start() {
  auto server = GrpcServer::Start("127.0.0.1:0", {&function_});
  if (!server.ok()) return server.status();
  function_server_ = std::move(*server);

  struct Spec {
    Component c;
    const char* binary;
  };
  if (options_.replicas > 1 && options_.coordination.empty()) {
    return absl::InvalidArgumentError("several replicas need ClusterOptions::coordination");
  }
  if (!options_.log.empty() && options_.coordination.empty()) {
    return absl::InvalidArgumentError("ClusterOptions::log needs ClusterOptions::coordination");
  }
  if (options_.store_front_ends > 1 && options_.log.empty()) {
    return absl::InvalidArgumentError("several store front-ends need ClusterOptions::log");
  }
  // Leasing before the tracker and the pollers, which are given its replicas' addresses.
  std::vector<Spec> specs = {{Component::kShardStore, "shard_store/shard_store_server"},
                             {Component::kLeasing, "leasing/leasing_server"}};
  if (options_.store_front_ends > 1) {
    specs.insert(specs.begin() + 1, Spec{Component::kShardStore1, "shard_store/shard_store_server"});
  }
  if (options_.replicas > 1) specs.push_back({Component::kLeasing1, "leasing/leasing_server"});
  specs.push_back({Component::kStreamTracker, "stream_tracker/stream_tracker_server"});
  if (options_.replicas > 1) {
    specs.push_back({Component::kStreamTracker1, "stream_tracker/stream_tracker_server"});
  }
  specs.push_back({Component::kPoller0, "poller/poller_server"});
  if (options_.pollers > 1) specs.push_back({Component::kPoller1, "poller/poller_server"});
  if (options_.pollers > 2) specs.push_back({Component::kPoller2, "poller/poller_server"});
  for (const Spec& spec : specs) {
    Process p;
    p.name = ComponentName(spec.c);
    p.binary = testing::RunfilePath(spec.binary);
    p.data_dir = absl::StrCat(root_, "/", p.name, "-data");
    processes_.emplace(spec.c, std::move(p));
    if (absl::Status s = StartProcess(spec.c); !s.ok()) return s;
  }
  streams_ = std::make_unique<shard_store::ShardStoreClient>(
      MakeReplicaChannel(shard_store_addresses(), options_.client_security), absl::Seconds(10));
  return absl::OkStatus();
}

absl::StatusOr<MonotonicTime> Cluster::Kill(Component c) {
  auto it = processes_.find(c);
  if (it == processes_.end()) return absl::NotFoundError(ComponentName(c));
  const MonotonicTime at = RealClock::Get().MonotonicNow();
  it->second.child.Kill(SIGKILL);
  return at;
}

absl::StatusOr<MonotonicTime> Cluster::Pause(Component c) {
  const int target = pid(c);
  if (target < 0) return absl::NotFoundError(ComponentName(c));
  const MonotonicTime at = RealClock::Get().MonotonicNow();
  kill(target, SIGSTOP);
  return at;
}

absl::Status Cluster::Resume(Component c) {
  const int target = pid(c);
  if (target < 0) return absl::NotFoundError(ComponentName(c));
  kill(target, SIGCONT);
  return absl::OkStatus();
}

absl::StatusOr<MonotonicTime> Cluster::KillAndRestart(Component c) {
  absl::StatusOr<MonotonicTime> at = Kill(c);
  if (!at.ok()) return at.status();
  if (absl::Status s = StartProcess(c); !s.ok()) return s;
  return at;
}

absl::Status CheckEveryAckedDelivered(const std::vector<Acked>& acked,
                                      const std::vector<Delivery>& deliveries) {
  std::set<std::pair<std::string, uint64_t>> delivered;
  for (const Delivery& d : deliveries) delivered.emplace(d.shard_id, d.sequence_number);
  Violations v;
  for (const Acked& a : acked) {
    if (delivered.count({a.shard_id, a.sequence_number}) == 0) {
      v.Add(absl::StrCat(a.partition_key, "|", a.n, " at ", a.shard_id, "/", a.sequence_number,
                         " never delivered"));
    }
  }
  return v.ToStatus("acknowledged records lost");
}

absl::Status CheckFirstDeliveriesInKeyOrder(const std::vector<Acked>& acked,
                                            const std::vector<Delivery>& deliveries) {
  std::map<std::pair<std::string, uint64_t>, const Acked*> by_position;
  for (const Acked& a : acked) by_position[{a.shard_id, a.sequence_number}] = &a;
  std::set<std::pair<std::string, uint64_t>> seen;
  std::map<std::string, int64_t> last_n;  // per key: the n of the latest first delivery
  Violations v;
  for (const Delivery& d : deliveries) {
    if (!seen.emplace(d.shard_id, d.sequence_number).second) continue;  // a redelivery
    auto it = by_position.find({d.shard_id, d.sequence_number});
    if (it == by_position.end()) continue;  // written but never acknowledged to the producer
    const Acked& a = *it->second;
    auto last = last_n.find(a.partition_key);
    if (last != last_n.end() && a.n < last->second) {
      v.Add(absl::StrCat(a.partition_key, ": ", a.n, " first delivered after ", last->second));
    }
    if (last == last_n.end() || a.n > last->second) last_n[a.partition_key] = a.n;
  }
  return v.ToStatus("per-key order broken");
}

absl::Status CheckAckedSequenceNumbersIncrease(const std::vector<Acked>& acked) {
  std::map<std::string, const Acked*> last;  // per shard
  Violations v;
  for (const Acked& a : acked) {
    auto [it, first] = last.emplace(a.shard_id, &a);
    if (!first && a.sequence_number <= it->second->sequence_number) {
      v.Add(absl::StrCat(a.shard_id, ": ", a.partition_key, "|", a.n, " acknowledged at ",
                         a.sequence_number, " after ", it->second->partition_key, "|",
                         it->second->n, " at ", it->second->sequence_number));
    }
    if (first || a.sequence_number > it->second->sequence_number) it->second = &a;
  }
  return v.ToStatus("acknowledged sequence numbers reused or going back");
}

absl::Status CheckFirstDeliveriesInShardOrder(const std::vector<Delivery>& deliveries) {
  std::set<std::pair<std::string, uint64_t>> seen;
  std::map<std::string, uint64_t> last;
  Violations v;
  for (const Delivery& d : deliveries) {
    if (!seen.emplace(d.shard_id, d.sequence_number).second) continue;
    auto it = last.find(d.shard_id);
    if (it != last.end() && d.sequence_number < it->second) {
      v.Add(
          absl::StrCat(d.shard_id, ": ", d.sequence_number, " first delivered after ", it->second));
    }
    if (it == last.end() || d.sequence_number > it->second) last[d.shard_id] = d.sequence_number;
  }
  return v.ToStatus("per-shard order broken");
}

absl::Status CheckParentsBeforeChildren(
    const std::map<std::string, std::vector<std::string>>& parents,
    const std::vector<Delivery>& deliveries) {
  // Index of the last first-delivery of each shard, and of the first delivery of each shard.
  std::set<std::pair<std::string, uint64_t>> seen;
  std::map<std::string, size_t> last_first_delivery;
  std::map<std::string, size_t> first_delivery;
  for (size_t i = 0; i < deliveries.size(); ++i) {
    const Delivery& d = deliveries[i];
    if (!seen.emplace(d.shard_id, d.sequence_number).second) continue;
    last_first_delivery[d.shard_id] = i;
    first_delivery.emplace(d.shard_id, i);
  }
  Violations v;
  for (const auto& [child, parent_ids] : parents) {
    auto child_first = first_delivery.find(child);
    if (child_first == first_delivery.end()) continue;
    for (const std::string& parent : parent_ids) {
      auto parent_last = last_first_delivery.find(parent);
      if (parent_last != last_first_delivery.end() && parent_last->second > child_first->second) {
        v.Add(absl::StrCat(child, " started (delivery #", child_first->second, ") before ", parent,
                           " finished (delivery #", parent_last->second, ")"));
      }
    }
  }
  return v.ToStatus("parents before children broken");
}

absl::Status CheckWindowsCountedExactly(int64_t window_ms, const std::vector<Delivery>& deliveries,
                                        const std::vector<WindowClose>& closes,
                                        const std::function<int(const std::string&)>& lane_of) {
  const auto lane = [&lane_of](const std::string& key) { return lane_of ? lane_of(key) : 0; };
  // (shard, lane, window start) -> the distinct sequence numbers delivered in it.
  using Window = std::tuple<std::string, int, int64_t>;
  std::map<Window, std::set<uint64_t>> expected;
  for (const Delivery& d : deliveries) {
    const int64_t start = d.arrival_ms - d.arrival_ms % window_ms;
    expected[{d.shard_id, lane(d.partition_key), start}].insert(d.sequence_number);
  }
  std::map<Window, int> closed;
  Violations violations;
  for (const WindowClose& c : closes) {
    if (c.end_ms - c.start_ms != window_ms || c.start_ms % window_ms != 0) {
      violations.Add(absl::StrCat(c.shard_id, " window [", c.start_ms, ", ", c.end_ms,
                                  ") is not an aligned ", window_ms, " ms window"));
      continue;
    }
    if (c.early) {
      violations.Add(absl::StrCat(c.shard_id, " window ", c.start_ms, " ended early"));
      continue;
    }
    const Window window{c.shard_id, lane(c.key), c.start_ms};
    ++closed[window];
    auto it = expected.find(window);
    const int64_t want = it == expected.end() ? 0 : static_cast<int64_t>(it->second.size());
    if (c.count != want) {
      violations.Add(absl::StrCat(c.shard_id, " lane ", std::get<1>(window), " window ", c.start_ms,
                                  " counted ", c.count, " records, ", want,
                                  " were delivered in it"));
    }
  }
  for (const auto& [window, sequences] : expected) {
    if (closed.count(window) == 0) {
      violations.Add(absl::StrCat(std::get<0>(window), " lane ", std::get<1>(window), " window ",
                                  std::get<2>(window), " with ", sequences.size(),
                                  " records was never closed"));
    }
  }
  return violations.ToStatus("tumbling windows");
}

double MetricSample(const std::string& text, const std::string& series) {
  const std::string prefix = "\n" + series + " ";
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return -1;
  const size_t begin = at + prefix.size();
  double value = -1;
  if (!absl::SimpleAtod(text.substr(begin, text.find('\n', begin) - begin), &value)) return -1;
  return value;
}

}  // namespace tributary::e2e
