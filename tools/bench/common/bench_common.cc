#include "tools/bench/common/bench_common.h"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/testing/http_test_server.h"
#include "rapidjson/document.h"
#include "common/clock.h"
#include "etcd/etcd_url.h"
#include "leasing/etcd_lease_store.h"
#include "gflags/gflags.h"
#include "google/protobuf/io/coded_stream.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

DEFINE_bool(mallopt, true,
            "Raise glibc's mmap/trim thresholds as every server's InitServerMain does (false: "
            "glibc's defaults).");
DEFINE_bool(mutex_deadlock_detection, true,
            "Leave absl::Mutex deadlock detection as the servers run it (false: kIgnore, to "
            "measure what it costs).");

namespace tributary::bench {

void InitBench() {
  if (FLAGS_mallopt) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 64 << 20);
  }
  if (!FLAGS_mutex_deadlock_detection) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int64_t ResidentBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return 0;
}

int ThreadCount() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return 0;
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec +
         u.ru_stime.tv_usec / 1e6;
}

ScopedWorkDir::ScopedWorkDir(const std::string& preferred, const std::string& name)
    : path_(preferred) {
  if (path_.empty()) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    path_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name, ".", getpid(), ".", NowNanos());
    remove_ = true;
  }
  std::filesystem::create_directories(path_);
}

ScopedWorkDir::~ScopedWorkDir() {
  if (!remove_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

double Quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t i = static_cast<size_t>(q * (values.size() - 1) + 0.5);
  return values[std::min(i, values.size() - 1)];
}

std::shared_ptr<grpc::Channel> OwnChannel(const std::string& address, int index,
                                          const GrpcClientSecurity& security) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  args.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("tributary.bench.client", index);
  if (!security.server_name.empty()) args.SetSslTargetNameOverride(security.server_name);
  std::shared_ptr<grpc::ChannelCredentials> credentials = MakeChannelCredentials(security);
  if (security.token.empty()) return grpc::CreateCustomChannel(address, credentials, args);
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(MakeBearerTokenInterceptorFactory(security.token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, credentials, args,
                                                                 std::move(interceptors));
}

absl::StatusOr<std::unique_ptr<InProcessCluster>> InProcessCluster::Create(
    const ClusterOptions& options) {
  std::unique_ptr<InProcessCluster> c(new InProcessCluster());
  Clock& clock = RealClock::Get();
  absl::StatusOr<std::string> address = PickListenAddress("127.0.0.1:0");
  if (!address.ok()) return address.status();
  c->address_ = *address;

  shard_store::ShardStoreNodeOptions store_options;
  store_options.store.data_dir = options.data_dir + "/shard_store";
  store_options.trim_period = absl::ZeroDuration();
  if (options.with_tables) {
    store_options.store.extra_column_families = tables::TableStore::ColumnFamilies();
  }
  auto store = shard_store::ShardStoreNode::Create(store_options, clock);
  if (!store.ok()) return store.status();
  c->store_ = std::move(*store);
  if (options.with_tables) {
    tables::TableStoreOptions table_options;
    table_options.streams = &c->store_->store();
    table_options.table_stream_shards = options.table_stream_shards;
    auto table_store = tables::TableStore::Create(c->store_->store().db(), clock, table_options);
    if (!table_store.ok()) return table_store.status();
    c->table_store_ = std::move(*table_store);
    c->tables_service_ =
        std::make_unique<tables::TablesService>(*c->table_store_, tables::TablesServiceOptions{});
  }

  leasing::LeaseTableOptions lease_options;
  lease_options.lease_duration = absl::Milliseconds(options.lease_duration_ms);
  lease_options.min_hold = absl::Milliseconds(options.min_hold_ms);
  absl::StatusOr<std::unique_ptr<leasing::LeasingStack>> stack;
  std::vector<std::string> etcd_endpoints;
  if (options.coordination.empty()) {
    stack = leasing::LeasingStack::Create(clock, options.data_dir + "/leasing", lease_options);
  } else {
    // As leasing_server --coordination builds it.
    absl::StatusOr<std::vector<std::string>> endpoints = etcd::ParseEtcdUrl(options.coordination);
    if (!endpoints.ok()) return endpoints.status();
    etcd_endpoints = *endpoints;
    etcd::EtcdClientOptions etcd_options;
    etcd_options.endpoints = etcd_endpoints;
    auto client = etcd::EtcdClient::Create(clock, etcd_options);
    if (!client.ok()) return client.status();
    c->etcd_ = std::move(*client);
    leasing::EtcdLeaseStoreOptions store_options;
    store_options.prefix = options.etcd_prefix + "leasing/";
    store_options.shared = true;
    store_options.poller_liveness_ttl =
        std::max(absl::Seconds(1), absl::Milliseconds(options.lease_duration_ms));
    store_options.writer = absl::StrCat("bench-", getpid(), "-", *address);
    auto store = leasing::EtcdLeaseStore::Create(*c->etcd_, store_options);
    if (!store.ok()) return store.status();
    stack = leasing::LeasingStack::Create(
        clock, std::unique_ptr<leasing::LeaseStore>(*std::move(store)), lease_options);
  }
  if (!stack.ok()) return stack.status();
  c->leasing_stack_ = std::move(*stack);

  stream_tracker::StreamTracker::Options tracker_options;
  tracker_options.data_dir = options.data_dir + "/stream_tracker";
  tracker_options.sync_interval = absl::Milliseconds(options.sync_interval_ms);
  if (!etcd_endpoints.empty()) {
    tracker_options.data_dir.clear();
    tracker_options.etcd_endpoints = etcd_endpoints;
    tracker_options.etcd_prefix = options.etcd_prefix + "tracker/";
    tracker_options.replica_name = absl::StrCat("bench pid ", getpid(), " on ", *address);
  }
  auto tracker = stream_tracker::StreamTracker::Create(
      tracker_options, MakeChannel(*address, options.client_security),
      MakeChannel(*address, options.client_security), clock);
  if (!tracker.ok()) return tracker.status();
  c->tracker_ = std::move(*tracker);

  std::vector<grpc::Service*> services = {c->store_->service(), &c->leasing_stack_->service(),
                                          c->tracker_->service()};
  if (c->tables_service_ != nullptr) services.push_back(c->tables_service_.get());
  if (options.with_poller) {
    poller::PollerNodeOptions poller_options;
    poller_options.poller_id = absl::StrCat("bench-poller-", getpid());
    poller_options.capacity = options.poller_capacity;
    poller_options.memory_budget_bytes = options.poller_memory_budget_bytes;
    poller_options.shard_store_address = *address;
    poller_options.leasing_address = *address;
    poller_options.stream_tracker_address = *address;
    poller_options.client_security = options.client_security;
    auto poller = poller::PollerNode::Create(poller_options, clock);
    if (!poller.ok()) return poller.status();
    c->poller_ = std::move(*poller);
    services.push_back(c->poller_->service());
  }
  auto server = GrpcServer::Start(*address, services, options.server_security);
  if (!server.ok()) return server.status();
  c->server_ = std::move(*server);
  stream_tracker::LeaseSync* sync = c->tracker_->lease_sync();
  c->store_->store().SetChangeListener([sync](const std::string&) { sync->RequestSync(); });
  c->tracker_->Start();
  if (c->poller_ != nullptr) c->poller_->Start();
  auto channel = OwnChannel(*address, -1, options.client_security);
  c->streams_ = v1::Streams::NewStub(channel);
  c->mappings_ = v1::EventSourceMappings::NewStub(channel);
  c->leasing_ = v1::Leasing::NewStub(channel);
  return c;
}

InProcessCluster::~InProcessCluster() { Shutdown(); }

void InProcessCluster::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (poller_ != nullptr) poller_->Shutdown();
  server_->Shutdown();
  poller_.reset();
  tables_service_.reset();
  table_store_.reset();  // it writes into the store's database
  store_.reset();  // the trimmer calls the change listener, which points into the tracker
  tracker_.reset();
}

absl::Status InProcessCluster::CreateStream(const std::string& name, int shards) {
  v1::CreateStreamRequest create;
  create.set_stream_name(name);
  create.set_shard_count(shards);
  return store_->store().CreateStream(create);
}

absl::StatusOr<std::vector<std::string>> InProcessCluster::ShardIds(const std::string& name) {
  std::vector<std::string> ids;
  std::string token;
  do {
    grpc::ClientContext context;
    v1::ListShardsRequest request;
    if (token.empty()) {
      request.set_stream_name(name);
    } else {
      request.set_next_token(token);
    }
    request.set_max_results(10000);
    v1::ListShardsResponse response;
    grpc::Status s = streams_->ListShards(&context, request, &response);
    if (!s.ok()) return absl::InternalError(absl::StrCat("ListShards: ", s.error_message()));
    for (const auto& shard : response.shards()) ids.push_back(shard.shard_id());
    token = response.next_token();
  } while (!token.empty());
  return ids;
}

absl::StatusOr<std::string> InProcessCluster::CreateMapping(const std::string& stream,
                                                            const std::string& function_endpoint,
                                                            int batch_size, int parallelization,
                                                            bool trim_horizon,
                                                            int tumbling_window_seconds) {
  grpc::ClientContext context;
  v1::CreateEventSourceMappingRequest request;
  request.set_stream_name(stream);
  request.set_function_endpoint(function_endpoint);
  request.set_batch_size(batch_size);
  request.set_maximum_batching_window_in_seconds(0);
  request.set_parallelization_factor(parallelization);
  request.set_starting_position(trim_horizon ? v1::TRIM_HORIZON_POSITION : v1::LATEST_POSITION);
  request.set_tumbling_window_in_seconds(tumbling_window_seconds);
  v1::EventSourceMappingConfiguration response;
  grpc::Status s = mappings_->CreateEventSourceMapping(&context, request, &response);
  if (!s.ok()) {
    return absl::InternalError(absl::StrCat("CreateEventSourceMapping: ", s.error_message()));
  }
  return response.uuid();
}

absl::StatusOr<std::map<std::string, std::string>> InProcessCluster::LeaseOwners(
    const std::string& uuid) {
  std::map<std::string, std::string> owners;
  std::string token;
  do {
    grpc::ClientContext context;
    v1::ListLeasesRequest request;
    request.set_event_source_mapping_uuid(uuid);
    request.set_max_results(10000);
    request.set_next_token(token);
    v1::ListLeasesResponse response;
    grpc::Status s = leasing_->ListLeases(&context, request, &response);
    if (!s.ok()) return absl::InternalError(absl::StrCat("ListLeases: ", s.error_message()));
    for (const auto& lease : response.leases()) owners[lease.shard_id()] = lease.lease_owner();
    token = response.next_token();
  } while (!token.empty());
  return owners;
}

int InProcessCluster::WaitForOwnedLeases(const std::string& uuid, int count,
                                         const std::string& owner, double timeout_s) {
  const int64_t deadline = NowNanos() + static_cast<int64_t>(timeout_s * 1e9);
  int owned = 0;
  while (true) {
    auto owners = LeaseOwners(uuid);
    owned = 0;
    if (owners.ok()) {
      for (const auto& [shard, o] : *owners) {
        if (!o.empty() && (owner.empty() || o == owner)) ++owned;
      }
    }
    if (owned >= count || NowNanos() > deadline) return owned;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string RecordData(uint64_t id, int bytes) {
  std::string data(std::max(bytes, 8), 'x');
  for (int b = 0; b < 8; ++b) data[b] = static_cast<char>(id >> (8 * b));
  return data;
}

uint64_t DecodeId(const std::string& data) {
  if (data.size() < 8) return ~uint64_t{0};
  uint64_t id = 0;
  for (int b = 0; b < 8; ++b) id |= static_cast<uint64_t>(static_cast<uint8_t>(data[b])) << (8 * b);
  return id;
}

NoopFunction::NoopFunction(int64_t track_ids)
    : arrivals_(new std::atomic<int64_t>[std::max<int64_t>(track_ids, 1)]), track_ids_(track_ids) {
  for (int64_t i = 0; i < std::max<int64_t>(track_ids, 1); ++i) arrivals_[i].store(0);
}

grpc::Status NoopFunction::Invoke(grpc::ServerContext*, const v1::InvokeRequest* request,
                                  v1::InvokeResponse* response) {
  const int64_t now = NowNanos();
  if (request->has_window()) response->mutable_state();  // windows need a state, even empty
  if (track_ids_ > 0) {
    for (const auto& r : request->records()) {
      const uint64_t id = DecodeId(r.data());
      if (id < static_cast<uint64_t>(track_ids_)) {
        int64_t expected = 0;
        arrivals_[id].compare_exchange_strong(expected, now);
      }
    }
  }
  int64_t bytes = 0;
  for (const auto& r : request->records()) bytes += r.data().size();
  Count(request->shard_id(), request->records_size(), bytes);
  return grpc::Status::OK;
}

void NoopFunction::Count(const std::string& shard_id, int64_t records, int64_t bytes) {
  const int64_t now = NowNanos();
  int64_t zero = 0;
  first_.compare_exchange_strong(zero, now);
  last_.store(now);
  invocations_.fetch_add(1);
  bytes_.fetch_add(bytes);
  records_.fetch_add(records);
  absl::MutexLock lock(&mu_);
  last_by_shard_[shard_id] = {now, WallSeconds()};
}

class HttpFunctionServer::Impl {
 public:
  std::unique_ptr<HttpTestServer> server;
};

absl::StatusOr<std::unique_ptr<HttpFunctionServer>> HttpFunctionServer::Start() {
  std::unique_ptr<HttpFunctionServer> f(new HttpFunctionServer());
  f->function_ = std::make_unique<NoopFunction>();
  f->impl_ = std::make_unique<Impl>();
  NoopFunction* function = f->function_.get();
  auto server = HttpTestServer::Start([function](const TestHttpRequest& request) {
    rapidjson::Document event;
    event.Parse(request.body.data(), request.body.size());
    if (event.HasParseError() || !event.IsObject() || !event.HasMember("Records") ||
        !event["Records"].IsArray()) {
      return TestHttpReply{400, {}, "not a Lambda event"};
    }
    const rapidjson::Value& records = event["Records"];
    std::string shard_id;
    int64_t bytes = 0;
    for (const rapidjson::Value& r : records.GetArray()) {
      if (shard_id.empty()) {
        const std::string event_id = r["eventID"].GetString();
        shard_id = event_id.substr(0, event_id.find(':'));
      }
      bytes += r["kinesis"]["data"].GetStringLength() * 3 / 4;
    }
    if (shard_id.empty() && event.HasMember("shardId")) shard_id = event["shardId"].GetString();
    function->Count(shard_id, records.Size(), bytes);
    return TestHttpReply{200,
                         {{"Content-Type", "application/json"}},
                         "{\"state\":{},\"batchItemFailures\":[]}"};
  });
  if (!server.ok()) return server.status();
  f->impl_->server = *std::move(server);
  return f;
}

HttpFunctionServer::~HttpFunctionServer() = default;

std::string HttpFunctionServer::endpoint() const {
  return absl::StrCat("http://", impl_->server->address(),
                      "/2015-03-31/functions/function/invocations");
}

int64_t NoopFunction::arrival(uint64_t id) const {
  return id < static_cast<uint64_t>(track_ids_) ? arrivals_[id].load() : 0;
}

std::map<std::string, std::pair<int64_t, double>> NoopFunction::LastInvocationByShard() const {
  absl::MutexLock lock(&mu_);
  return last_by_shard_;
}

void NoopFunction::Reset() {
  records_ = 0;
  invocations_ = 0;
  bytes_ = 0;
  first_ = 0;
  last_ = 0;
  absl::MutexLock lock(&mu_);
  last_by_shard_.clear();
}

absl::StatusOr<std::unique_ptr<FunctionServer>> FunctionServer::Start(int64_t track_ids) {
  std::unique_ptr<FunctionServer> f(new FunctionServer());
  f->function_ = std::make_unique<NoopFunction>(track_ids);
  auto server = GrpcServer::Start("127.0.0.1:0", {f->function_.get()});
  if (!server.ok()) return server.status();
  f->server_ = std::move(*server);
  return f;
}

namespace {

// Counts a serialized PutRecordsResponse without building it: the number of result entries
// (field 2) and failed_record_count (field 1). False when the bytes are not such a response.
bool CountPutRecordsResponse(const grpc::ByteBuffer& buffer, int64_t* entries, int64_t* failed) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return false;
  std::string bytes;
  for (const grpc::Slice& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  *entries = 0;
  *failed = 0;
  while (uint32_t tag = in.ReadTag()) {
    if (tag == (1 << 3 | 0)) {  // failed_record_count, varint
      uint32_t v;
      if (!in.ReadVarint32(&v)) return false;
      *failed = v;
    } else if (tag == (2 << 3 | 2)) {  // records, length-delimited
      uint32_t length;
      if (!in.ReadVarint32(&length) || !in.Skip(static_cast<int>(length))) return false;
      ++*entries;
    } else {
      return false;
    }
  }
  return in.ConsumedEntireMessage();
}

}  // namespace

void RunPreserializedPutRecords(const std::shared_ptr<grpc::Channel>& channel,
                                const v1::PutRecordsRequest& request, const std::atomic<bool>& go,
                                const absl::Time& deadline, PutCounts& counts) {
  const std::string serialized = request.SerializeAsString();
  grpc::Slice slice(serialized);
  const grpc::ByteBuffer request_bytes(&slice, 1);
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  while (!go.load()) std::this_thread::yield();
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::ByteBuffer response;
    grpc::Status status;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
        stub.PrepareUnaryCall(&context, "/tributary.v1.Streams/PutRecords", request_bytes, &cq);
    call->StartCall();
    call->Finish(&response, &status, reinterpret_cast<void*>(1));
    void* tag;
    bool ok;
    int64_t entries, failed;
    if (!cq.Next(&tag, &ok) || !ok || !status.ok() ||
        !CountPutRecordsResponse(response, &entries, &failed) ||
        entries != request.records_size()) {
      counts.failed_calls.fetch_add(1);
      continue;
    }
    counts.ok_records.fetch_add(entries - failed);
    counts.failed_records.fetch_add(failed);
  }
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
}

int64_t Preload(const std::string& address, const std::string& stream, int64_t count, int bytes,
                int clients, int per_call, uint64_t first_id, int64_t* failed,
                const GrpcClientSecurity& security) {
  std::atomic<int64_t> next{0}, acked{0}, failures{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = v1::Streams::NewStub(OwnChannel(address, c, security));
      while (true) {
        const int64_t start = next.fetch_add(per_call);
        if (start >= count) return;
        const int64_t n = std::min<int64_t>(per_call, count - start);
        v1::PutRecordsRequest request;
        request.set_stream_name(stream);
        for (int64_t i = 0; i < n; ++i) {
          auto* e = request.add_records();
          const uint64_t id = first_id + start + i;
          e->set_partition_key(absl::StrCat("pk-", id));
          e->set_data(RecordData(id, bytes));
        }
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1::PutRecordsResponse response;
        grpc::Status s = stub->PutRecords(&context, request, &response);
        if (!s.ok()) {
          failures.fetch_add(n);
          continue;
        }
        acked.fetch_add(n - response.failed_record_count());
        failures.fetch_add(response.failed_record_count());
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed != nullptr) *failed = failures.load();
  return acked.load();
}

void Progress(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  std::vfprintf(stderr, fmt, args);
  va_end(args);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

void Report::Set(const std::string& key, const std::string& json_value) {
  facts_.emplace_back(key, json_value);
}

Report::Cell Report::Num(const std::string& key, double v, int precision) {
  return {key, absl::StrFormat("%.*f", precision, v), absl::StrFormat("%.*f", precision, v)};
}

Report::Cell Report::Str(const std::string& key, const std::string& v) {
  return {key, v, absl::StrCat("\"", v, "\"")};
}

void Report::AddRow(std::vector<Cell> row) { rows_.push_back(std::move(row)); }

bool Report::Finish(const std::string& json_out) {
  if (!rows_.empty()) {
    std::vector<size_t> widths;
    for (const Cell& c : rows_[0]) widths.push_back(c.key.size());
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
        widths[i] = std::max(widths[i], row[i].text.size());
      }
    }
    std::printf("\n");
    for (size_t i = 0; i < widths.size(); ++i) {
      std::printf("%*s  ", static_cast<int>(widths[i]), rows_[0][i].key.c_str());
    }
    std::printf("\n");
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
        std::printf("%*s  ", static_cast<int>(widths[i]), row[i].text.c_str());
      }
      std::printf("\n");
    }
  }
  std::string json = absl::StrCat("{\"bench\": \"", bench_, "\"");
  for (const auto& [k, v] : facts_) absl::StrAppend(&json, ", \"", k, "\": ", v);
  absl::StrAppend(&json, ", \"rows\": [");
  for (size_t r = 0; r < rows_.size(); ++r) {
    absl::StrAppend(&json, r ? ", " : "", "{");
    for (size_t i = 0; i < rows_[r].size(); ++i) {
      absl::StrAppend(&json, i ? ", " : "", "\"", rows_[r][i].key, "\": ", rows_[r][i].json);
    }
    absl::StrAppend(&json, "}");
  }
  absl::StrAppend(&json, "]}");
  std::printf("\n%s\n", json.c_str());
  std::fflush(stdout);
  if (!json_out.empty()) {
    std::ofstream out(json_out);
    out << json << "\n";
    if (!out) return false;
  }
  return true;
}

}  // namespace tributary::bench
