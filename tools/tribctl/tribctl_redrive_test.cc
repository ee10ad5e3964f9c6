// tribctl redrive against the real all-in-one binary (`tributary serve`) and the C++ example
// function: a mapping with --include-records gives two poison records up to its on-failure
// stream; redrive puts them (keys and data) into another stream — a dry run first, which puts
// nothing; a re-run puts nothing again (the state file); a sequence range picks one.
// The same failures redriven --to-function to a recording gRPC function (from the records the
// failure records carry, and, without include_records, read from the source stream by range).
// A mapping with an on-success destination writes one record per successful batch.
// Waiting is event-driven (`records get --follow`); timeouts are failure guards only.
#include <filesystem>
#include <map>
#include <set>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/await.h"
#include "common/grpc_server.h"
#include "common/process.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "proto/event_source_mappings.pb.h"
#include "proto/function.grpc.pb.h"
#include "proto/poller.pb.h"
#include "proto/streams.pb.h"
#include "tools/tribctl/format.h"
#include "tools/tribctl/tribctl.h"
#include "tools/tribctl/testing/run_result.h"

namespace tributary::tribctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A tributary.v1.Function that records every invocation and succeeds.
class RecordingFunction final : public v1::Function::Service {
 public:
  grpc::Status Invoke(grpc::ServerContext*, const v1::InvokeRequest* request,
                      v1::InvokeResponse*) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(*request);
    return grpc::Status::OK;
  }
  std::vector<v1::InvokeRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::InvokeRequest> requests_ ABSL_GUARDED_BY(mu_);
};

// A function that fails every batch holding a record whose data starts with "poison" and keeps,
// in order, the records of each batch it accepted.
class KeyedFunction final : public v1::Function::Service {
 public:
  grpc::Status Invoke(grpc::ServerContext*, const v1::InvokeRequest* request,
                      v1::InvokeResponse* response) override {
    absl::MutexLock lock(&mu_);
    for (const v1::Record& r : request->records()) {
      if (absl::StartsWith(r.data(), "poison")) {
        ++failed_batches_;
        response->set_function_error("poison record " + r.sequence_number());
        return grpc::Status::OK;
      }
    }
    for (const v1::Record& r : request->records()) accepted_.push_back(r);
    return grpc::Status::OK;
  }
  // Every record of every accepted batch, in the order accepted.
  std::vector<v1::Record> accepted() {
    absl::MutexLock lock(&mu_);
    return accepted_;
  }
  int failed_batches() {
    absl::MutexLock lock(&mu_);
    return failed_batches_;
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::Record> accepted_ ABSL_GUARDED_BY(mu_);
  int failed_batches_ ABSL_GUARDED_BY(mu_) = 0;
};

// "key=data" of each record of `request`, in order.
std::vector<std::string> KeysAndData(const v1::InvokeRequest& request) {
  std::vector<std::string> out;
  for (const v1::Record& r : request.records()) {
    out.push_back(absl::StrCat(r.partition_key(), "=", r.data()));
  }
  return out;
}

class TribctlRedriveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tributary::testing::NewTempDir("tribctl-redrive");
    auto server =
        Subprocess::Start(tributary::testing::RunfilePath("tools/tributary/tributary"),
                          {"serve", "--listen=127.0.0.1:0", "--port_file=" + dir_ + "/port",
                           "--data_dir=" + dir_ + "/data", "--sync_interval_ms=100"},
                          dir_ + "/tributary.log");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto port = WaitForPortFile(dir_ + "/port");
    ASSERT_TRUE(port.ok()) << port.status();
    endpoint_ = absl::StrCat("127.0.0.1:", *port);
    auto function =
        Subprocess::Start(tributary::testing::RunfilePath("examples/cpp/example_function"),
                          {"--listen=127.0.0.1:0", "--port_file=" + dir_ + "/function_port"},
                          dir_ + "/function.log");
    ASSERT_TRUE(function.ok()) << function.status();
    function_ = std::move(*function);
    auto function_port = WaitForPortFile(dir_ + "/function_port");
    ASSERT_TRUE(function_port.ok()) << function_port.status();
    function_endpoint_ = absl::StrCat("127.0.0.1:", *function_port);
    auto recorder = GrpcServer::Start("127.0.0.1:0", {&recording_});
    ASSERT_TRUE(recorder.ok()) << recorder.status();
    recorder_ = std::move(*recorder);
    recording_endpoint_ = absl::StrCat("127.0.0.1:", recorder_->port());
  }

  // Creates orders, failures, replay and a mapping from orders to the example function with
  // bisection, no retries and the on-failure stream (`extra` flags added), then puts key0..key9
  // whose values 3 and 7 are poison. Returns what the put acknowledged.
  v1::PutRecordsResponse PoisonedOrders(std::vector<std::string> extra) {
    for (const char* stream : {"orders", "failures", "replay"}) {
      EXPECT_EQ(Run({"streams", "create", absl::StrCat("--stream=", stream)}).code, kExitOk);
    }
    std::vector<std::string> create = {
        "mappings", "create", "--stream=orders", "--function-endpoint=" + function_endpoint_,
        "--starting-position=TRIM_HORIZON", "--batch-size=10", "--bisect-batch-on-function-error",
        "--maximum-retry-attempts=0", "--destination=failures", "--output=json"};
    create.insert(create.end(), extra.begin(), extra.end());
    Result created = Run(create);
    EXPECT_EQ(created.code, kExitOk) << created.err;
    std::string input;
    for (int i = 0; i < 10; ++i) {
      input += absl::StrCat("key", i, "\t", i == 3 || i == 7 ? absl::StrCat("poison-", i)
                                                             : absl::StrCat("value-", i), "\n");
    }
    Result put = Run({"records", "put", "--stream=orders", "--output=json"}, input);
    EXPECT_EQ(put.code, kExitOk) << put.err;
    return Json<v1::PutRecordsResponse>(put.out);
  }

  Result Run(std::vector<std::string> args, const std::string& stdin_text = "",
             Interrupt* interrupt = nullptr) {
    args.insert(args.begin(), "--endpoint=" + endpoint_);
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    const int code = RunTribctl(args, Io{&in, &out, &err, interrupt});
    return {code, out.str(), err.str()};
  }

  // Follows `stream`'s only shard until `n` records arrived (a 60 s failure guard).
  std::vector<v1::Record> Follow(const std::string& stream, int n) {
    Interrupt interrupt;
    absl::Notification followed;
    Result got;
    std::thread follower([&] {
      got = Run({"records", "get", "--stream=" + stream, "--shard-id=shardId-000000000000",
                 "--follow", absl::StrCat("--max-records=", n), "--output=jsonl"},
                "", &interrupt);
      followed.Notify();
    });
    const bool arrived = followed.WaitForNotificationWithTimeout(absl::Seconds(60));
    if (!arrived) interrupt.Trigger();
    follower.join();
    EXPECT_TRUE(arrived) << "fewer than " << n << " records on " << stream << " within 60 s";
    std::vector<v1::Record> records;
    std::istringstream lines(got.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) records.push_back(Json<v1::Record>(line));
    }
    return records;
  }

  // Every record of `stream`'s only shard now.
  std::vector<v1::Record> All(const std::string& stream) {
    Result got = Run({"records", "get", "--stream=" + stream, "--shard-id=shardId-000000000000",
                      "--output=json"});
    EXPECT_EQ(got.code, kExitOk) << got.err;
    auto page = Json<v1::GetRecordsResponse>(got.out);
    return {page.records().begin(), page.records().end()};
  }

  google::protobuf::Struct Redrive(std::vector<std::string> args) {
    args.insert(args.begin(), {"redrive", "--source-stream=failures", "--output=json"});
    Result got = Run(args);
    EXPECT_EQ(got.code, kExitOk) << got.err;
    EXPECT_THAT(got.err, HasSubstr("redrive: failures/shardId-000000000000"));
    return Json<google::protobuf::Struct>(got.out);
  }

  static double Count(const google::protobuf::Struct& summary, const std::string& name) {
    return summary.fields().at(name).number_value();
  }

  std::string dir_;
  Subprocess server_;
  Subprocess function_;
  std::string endpoint_;
  std::string function_endpoint_;
  RecordingFunction recording_;
  std::unique_ptr<GrpcServer> recorder_;
  std::string recording_endpoint_;
};

TEST_F(TribctlRedriveTest, PoisonRecordsAreRedrivenOnceWithTheirKeysAndData) {
  for (const char* stream : {"orders", "failures", "replay"}) {
    ASSERT_EQ(Run({"streams", "create", absl::StrCat("--stream=", stream)}).code, kExitOk);
  }
  Result created =
      Run({"mappings", "create", "--stream=orders", "--function-endpoint=" + function_endpoint_,
           "--starting-position=TRIM_HORIZON", "--batch-size=10",
           "--bisect-batch-on-function-error", "--maximum-retry-attempts=0",
           "--destination=failures", "--include-records", "--output=json"});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  std::string input;
  for (int i = 0; i < 10; ++i) {
    input += absl::StrCat("key", i, "\t", i == 3 || i == 7 ? absl::StrCat("poison-", i)
                                                           : absl::StrCat("value-", i), "\n");
  }
  Result put = Run({"records", "put", "--stream=orders", "--output=json"}, input);
  ASSERT_EQ(put.code, kExitOk) << put.err;
  const auto written = Json<v1::PutRecordsResponse>(put.out);
  ASSERT_EQ(written.records_size(), 10);

  const std::vector<v1::Record> failures = Follow("failures", 2);
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_THAT(failures[0].data(), HasSubstr("\"records\":[{\"partitionKey\":\"key3\""));

  const std::string state = "--state-file=" + dir_ + "/redrive.state";
  auto dry = Redrive({"--to-stream=replay", "--dry-run", state});
  EXPECT_EQ(Count(dry, "redriven"), 2);
  EXPECT_TRUE(dry.fields().at("dryRun").bool_value());
  EXPECT_TRUE(All("replay").empty()) << "a dry run put something";
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/redrive.state"));

  auto first = Redrive({"--to-stream=replay", state});
  EXPECT_EQ(Count(first, "failureRecords"), 2);
  EXPECT_EQ(Count(first, "redriven"), 2);
  std::vector<v1::Record> replayed = All("replay");
  ASSERT_EQ(replayed.size(), 2u);
  EXPECT_EQ(replayed[0].partition_key(), "key3");
  EXPECT_EQ(replayed[0].data(), "poison-3");
  EXPECT_EQ(replayed[1].partition_key(), "key7");
  EXPECT_EQ(replayed[1].data(), "poison-7");

  // A re-run puts nothing again.
  auto again = Redrive({"--to-stream=replay", state});
  EXPECT_EQ(Count(again, "redriven"), 0);
  EXPECT_EQ(Count(again, "alreadyRedriven"), 1);  // the last failure record's, read again
  EXPECT_EQ(All("replay").size(), 2u);

  // A sequence range (with a state of its own) picks the second poison record only.
  auto ranged = Redrive({"--to-stream=replay", "--state-file=" + dir_ + "/ranged.state",
                         "--from-sequence-number=" + written.records(5).sequence_number()});
  EXPECT_EQ(Count(ranged, "redriven"), 1);
  EXPECT_EQ(Count(ranged, "outOfRange"), 1);
  replayed = All("replay");
  ASSERT_EQ(replayed.size(), 3u);
  EXPECT_EQ(replayed[2].data(), "poison-7");

  // The table output is a summary line.
  Result table = Run({"redrive", "--source-stream=failures", "--to-stream=replay", state});
  EXPECT_EQ(table.code, kExitOk) << table.err;
  EXPECT_THAT(table.out, HasSubstr("redrove 0 record(s) from failures to replay"));

  // --to-function: one invocation per failure record, with the records it carries.
  auto invoked = Redrive({"--to-function=" + recording_endpoint_,
                          "--state-file=" + dir_ + "/function.state"});
  EXPECT_EQ(Count(invoked, "invocations"), 2);
  EXPECT_EQ(Count(invoked, "redriven"), 2);
  EXPECT_EQ(Count(invoked, "fetchedFromSource"), 0) << "the failure records carry the data";
  const std::vector<v1::InvokeRequest> requests = recording_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(KeysAndData(requests[0]), std::vector<std::string>{"key3=poison-3"});
  EXPECT_EQ(KeysAndData(requests[1]), std::vector<std::string>{"key7=poison-7"});
  EXPECT_EQ(requests[0].stream_name(), "orders");
  EXPECT_EQ(requests[0].shard_id(), "shardId-000000000000");
  EXPECT_EQ(requests[0].records(0).sequence_number(), written.records(3).sequence_number());
}

// Without include_records the failure records carry only the range: --to-function reads the
// records from the source stream. A dry run invokes nothing; a re-run nothing again; a range
// picks one; a failing function stops the run without moving the state.
TEST_F(TribctlRedriveTest, ToFunctionReadsTheRecordsFromTheSourceStreamAndIsIdempotent) {
  const v1::PutRecordsResponse written = PoisonedOrders({});
  ASSERT_EQ(written.records_size(), 10);
  const std::vector<v1::Record> failures = Follow("failures", 2);
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_THAT(failures[0].data(), Not(HasSubstr("\"records\"")));

  const std::string state = "--state-file=" + dir_ + "/function.state";
  auto dry = Redrive({"--to-function=" + recording_endpoint_, "--dry-run", state});
  EXPECT_EQ(Count(dry, "invocations"), 2);
  EXPECT_TRUE(recording_.requests().empty()) << "a dry run invoked the function";
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/function.state"));

  auto first = Redrive({"--to-function=" + recording_endpoint_, state});
  EXPECT_EQ(Count(first, "invocations"), 2);
  EXPECT_EQ(Count(first, "fetchedFromSource"), 2);
  EXPECT_EQ(Count(first, "notFoundInSource"), 0);
  std::vector<v1::InvokeRequest> requests = recording_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(KeysAndData(requests[0]), std::vector<std::string>{"key3=poison-3"});
  EXPECT_EQ(KeysAndData(requests[1]), std::vector<std::string>{"key7=poison-7"});
  EXPECT_EQ(requests[1].records(0).sequence_number(), written.records(7).sequence_number());
  EXPECT_EQ(requests[1].shard_id(), "shardId-000000000000");

  auto again = Redrive({"--to-function=" + recording_endpoint_, state});
  EXPECT_EQ(Count(again, "invocations"), 0);
  EXPECT_EQ(Count(again, "alreadyRedriven"), 1);
  EXPECT_EQ(recording_.requests().size(), 2u);

  auto ranged = Redrive({"--to-function=" + recording_endpoint_,
                         "--state-file=" + dir_ + "/ranged.state",
                         "--to-sequence-number=" + written.records(5).sequence_number()});
  EXPECT_EQ(Count(ranged, "invocations"), 1);
  requests = recording_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(KeysAndData(requests[2]), std::vector<std::string>{"key3=poison-3"});

  // The example function fails poison again: the run stops, the state stays, a re-run retries.
  const std::string failing_state = "--state-file=" + dir_ + "/failing.state";
  for (int run = 0; run < 2; ++run) {
    Result failed = Run({"redrive", "--source-stream=failures",
                         "--to-function=" + function_endpoint_, failing_state});
    EXPECT_NE(failed.code, kExitOk);
    EXPECT_THAT(failed.err, HasSubstr("a re-run starts again from this failure record"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/failing.state"));
}

TEST_F(TribctlRedriveTest, ToFunctionTakesARegisteredFunctionByName) {
  PoisonedOrders({"--include-records"});
  ASSERT_EQ(Follow("failures", 2).size(), 2u);
  Result registered = Run({"functions", "create", "--function-name=recorder",
                           "--function-endpoint=" + recording_endpoint_});
  ASSERT_EQ(registered.code, kExitOk) << registered.err;
  auto invoked = Redrive({"--to-function=recorder", "--state-file=" + dir_ + "/named.state"});
  EXPECT_EQ(Count(invoked, "invocations"), 2);
  EXPECT_EQ(invoked.fields().at("function").string_value(), recording_endpoint_);
  EXPECT_EQ(recording_.requests().size(), 2u);
  Result unknown = Run({"redrive", "--source-stream=failures", "--to-function=nobody"});
  EXPECT_NE(unknown.code, kExitOk);
  EXPECT_THAT(unknown.err, HasSubstr("nobody"));
}

// On-success destination (issue 23): every successful batch gives one record with its range;
// the poison records' batches give none (they went to the on-failure stream).
TEST_F(TribctlRedriveTest, EverySuccessfulBatchGivesOneOnSuccessRecordWithItsRange) {
  ASSERT_EQ(Run({"streams", "create", "--stream=delivered"}).code, kExitOk);
  const v1::PutRecordsResponse written = PoisonedOrders({"--on-success-destination=delivered"});
  ASSERT_EQ(written.records_size(), 10);
  Result missing = Run({"mappings", "create", "--stream=orders",
                        "--function-endpoint=" + recording_endpoint_,
                        "--starting-position=LATEST", "--on-success-destination=nowhere"});
  EXPECT_NE(missing.code, kExitOk);
  EXPECT_THAT(missing.err, HasSubstr("destination_config.on_success.destination: stream nowhere "
                                     "not found"));

  // Follow the success records until they cover the eight good records (no count is known in
  // advance: how the reads cut batches is the poller's business).
  std::map<std::string, int> covered;  // sequence number → success records covering it
  std::vector<google::protobuf::Struct> records;
  for (int n = 1; n <= 8 && static_cast<int>(covered.size()) < 8; ++n) {
    const std::vector<v1::Record> got = Follow("delivered", n);
    if (static_cast<int>(got.size()) < n) break;
    covered.clear();
    records.clear();
    for (const v1::Record& r : got) {
      EXPECT_EQ(r.partition_key(), "shardId-000000000000");
      records.push_back(Json<google::protobuf::Struct>(r.data()));
      const auto& info = records.back().fields().at("KinesisBatchInfo").struct_value().fields();
      const std::string first = info.at("startSequenceNumber").string_value();
      const std::string last = info.at("endSequenceNumber").string_value();
      int in_range = 0;
      for (const auto& w : written.records()) {
        const std::string& seq = w.sequence_number();
        const bool after_first = seq.size() != first.size() ? seq.size() > first.size() : seq >= first;
        const bool before_last = seq.size() != last.size() ? seq.size() < last.size() : seq <= last;
        if (after_first && before_last) {
          ++covered[seq];
          ++in_range;
        }
      }
      EXPECT_EQ(info.at("batchSize").number_value(), in_range) << r.data();
    }
  }
  ASSERT_EQ(covered.size(), 8u) << "the success records do not cover the eight good records";
  for (int i = 0; i < 10; ++i) {
    const std::string& seq = written.records(i).sequence_number();
    EXPECT_EQ(covered.count(seq) ? covered[seq] : 0, i == 3 || i == 7 ? 0 : 1) << "record " << i;
  }
  const auto& context = records[0].fields().at("requestContext").struct_value().fields();
  EXPECT_EQ(context.at("condition").string_value(), "Success");
  Result listed = Run({"mappings", "list", "--output=json"});
  EXPECT_THAT(listed.out, HasSubstr(context.at("eventSourceMappingUuid").string_value()));
  EXPECT_THAT(listed.out, HasSubstr("\"onSuccess\""));
}

// Per-key isolation against the real binary (issue 23): one poison record among 20 keys, retried
// without end (Lambda's default). With isolate_failing_keys its key is parked and the shard's
// other keys flow on: every record of every other key is delivered, in order, while nothing of
// the poison key after the poison is; tribctl metrics shows the parked key and the dwell
// histogram the deliveries. Then the retry policy is lowered to none: the poison record goes to
// the on-failure stream and its key flows again, in order. (Without --isolate-failing-keys the
// first wait times out: the shard stays blocked at the poison.)
TEST_F(TribctlRedriveTest, APoisonKeyIsParkedWhileTheOtherKeysFlowAndThenFlowsAgain) {
  KeyedFunction keyed;
  auto keyed_server = GrpcServer::Start("127.0.0.1:0", {&keyed});
  ASSERT_TRUE(keyed_server.ok()) << keyed_server.status();
  for (const char* stream : {"orders", "failures"}) {
    ASSERT_EQ(Run({"streams", "create", absl::StrCat("--stream=", stream)}).code, kExitOk);
  }
  Result created = Run({"mappings", "create", "--stream=orders",
                        absl::StrCat("--function-endpoint=127.0.0.1:", (*keyed_server)->port()),
                        "--starting-position=TRIM_HORIZON", "--batch-size=10",
                        "--bisect-batch-on-function-error", "--destination=failures",
                        "--isolate-failing-keys", "--output=json"});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  const std::string uuid = Json<v1::EventSourceMappingConfiguration>(created.out).uuid();
  ASSERT_FALSE(uuid.empty()) << created.out;
  // Five rounds over keys k0..k19; k7's record of round 1 is the poison.
  std::string input;
  for (int round = 0; round < 5; ++round) {
    for (int key = 0; key < 20; ++key) {
      input += absl::StrCat("k", key, "\t",
                            key == 7 && round == 1 ? "poison" : absl::StrCat("r", round), "\n");
    }
  }
  Result put = Run({"records", "put", "--stream=orders", "--output=json"}, input);
  ASSERT_EQ(put.code, kExitOk) << put.err;
  const auto written = Json<v1::PutRecordsResponse>(put.out);
  ASSERT_EQ(written.records_size(), 100);
  const std::string poison_seq = written.records(27).sequence_number();

  // The first deliveries of each key, in the order accepted.
  auto by_key = [&] {
    std::map<std::string, std::vector<std::string>> out;
    std::set<std::string> seen;
    for (const v1::Record& r : keyed.accepted()) {
      if (seen.insert(r.sequence_number()).second) out[r.partition_key()].push_back(r.data());
    }
    return out;
  };
  auto delivered = [&] {
    size_t n = 0;
    for (const auto& [key, data] : by_key()) n += data.size();
    return n;
  };
  // Every other key's five records and k7's first: 96, while the poison is retried.
  ASSERT_TRUE(PollFor(absl::Seconds(90), absl::Milliseconds(50),
                      "every record of the other keys delivered past the parked poison",
                      [&] { return delivered() >= 96; },
                      [&] { return absl::StrCat(delivered(), " delivered"); })
                  .ok());
  std::map<std::string, std::vector<std::string>> keys = by_key();
  for (int key = 0; key < 20; ++key) {
    if (key == 7) continue;
    EXPECT_EQ(keys[absl::StrCat("k", key)],
              (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4"}))
        << "k" << key;
  }
  EXPECT_EQ(keys["k7"], std::vector<std::string>{"r0"})
      << "nothing of the parked key may pass its poison record";
  EXPECT_GE(keyed.failed_batches(), 2) << "the poison is retried";
  Result metrics = Run({"metrics", "--output=json"});
  ASSERT_EQ(metrics.code, kExitOk) << metrics.err;
  auto reply = Json<v1::GetMetricsResponse>(metrics.out);
  int64_t parked = 0, dwell = 0;
  for (const v1::ShardMetrics& m : reply.shards()) {
    parked += m.parked_keys();
    dwell += m.dwell_ms().count();
  }
  EXPECT_EQ(parked, 1) << metrics.out;
  EXPECT_GE(dwell, 96) << "the dwell histogram counts every delivered record: " << metrics.out;

  // No more retries: the poison goes to the on-failure stream and k7 flows again, in order.
  Result updated = Run({"mappings", "update", "--uuid=" + uuid, "--maximum-retry-attempts=0"});
  ASSERT_EQ(updated.code, kExitOk) << updated.err;
  const std::vector<v1::Record> failures = Follow("failures", 1);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_THAT(failures[0].data(), HasSubstr(poison_seq));
  ASSERT_TRUE(PollFor(absl::Seconds(90), absl::Milliseconds(50), "k7 flowing again",
                      [&] { return delivered() >= 99; },
                      [&] { return absl::StrCat(delivered(), " delivered"); })
                  .ok());
  EXPECT_EQ(by_key()["k7"], (std::vector<std::string>{"r0", "r2", "r3", "r4"}));
}

TEST_F(TribctlRedriveTest, AMissingTargetIsAUsageError) {
  Result got = Run({"redrive", "--source-stream=failures"});
  EXPECT_EQ(got.code, kExitUsage);
  EXPECT_THAT(got.err, HasSubstr("to-stream"));
  got = Run({"redrive", "--source-stream=failures", "--to-stream=a", "--to-function=b:1"});
  EXPECT_EQ(got.code, kExitUsage);
  EXPECT_THAT(got.err, HasSubstr("--to-function"));
}

}  // namespace
}  // namespace tributary::tribctl
