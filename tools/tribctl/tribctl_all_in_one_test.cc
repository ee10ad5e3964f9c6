// tribctl against the real all-in-one binary (`tributary serve`, a separate
// process on a free loopback port) and the C++ example function: the whole
// operator path of the README — streams, a mapping with every failure-handling
// field, records in, the poison record out on the destination stream, leases,
// metrics, mapping update and delete. Waiting is event-driven: `records get
// --follow` blocks on SubscribeToShard until the failure record arrives; a
// notification timeout is only a failure guard.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/await.h"
#include "common/process.h"
#include "common/testing/assertions.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/event_source_mappings.pb.h"
#include "proto/functions.pb.h"
#include "proto/leasing.pb.h"
#include "proto/poller.pb.h"
#include "proto/streams.pb.h"
#include "proto/tables.pb.h"
#include "tools/tribctl/format.h"
#include "tools/tribctl/tribctl.h"
#include "tools/tribctl/testing/run_result.h"

namespace tributary::tribctl {
namespace {

using ::testing::HasSubstr;

class TribctlAllInOneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tributary::testing::NewTempDir("tribctl-all-in-one");
    StartServer();

    auto function =
        Subprocess::Start(tributary::testing::RunfilePath("examples/cpp/example_function"),
                          {"--listen=127.0.0.1:0", "--port_file=" + dir_ + "/function_port",
                           "--deliveries_file=" + dir_ + "/deliveries.txt"},
                          dir_ + "/function.log");
    ASSERT_TRUE(function.ok()) << function.status();
    function_ = std::move(*function);
    auto function_port = WaitForPortFile(dir_ + "/function_port");
    ASSERT_TRUE(function_port.ok()) << function_port.status();
    function_endpoint_ = absl::StrCat("127.0.0.1:", *function_port);
  }

  // Starts `tributary serve` on dir_/data (again after a kill) and points Run at it.
  void StartServer() {
    std::filesystem::remove(dir_ + "/port");
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
  }

  Result Run(std::vector<std::string> args, const std::string& stdin_text = "",
             Interrupt* interrupt = nullptr) {
    args.insert(args.begin(), "--endpoint=" + endpoint_);
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    const int code = RunTribctl(args, Io{&in, &out, &err, interrupt});
    return {code, out.str(), err.str()};
  }

  std::string Deliveries() {
    std::ifstream in(dir_ + "/deliveries.txt");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Polls `done` every `poll_interval` until it holds or `timeout` (real time) passed. A failure
  // names `awaited` and what `last_seen` says at the end.
  [[nodiscard]] static ::testing::AssertionResult WaitUntil(
      absl::string_view awaited, const std::function<bool()>& done,
      const std::function<std::string()>& last_seen, absl::Duration timeout,
      absl::Duration poll_interval = absl::Milliseconds(50)) {
    return tributary::testing::IsOk(PollFor(timeout, poll_interval, awaited, done, last_seen));
  }

  v1::EventSourceMappingState StateOf(const std::string& uuid) {
    Result got = Run({"mappings", "get", "--uuid=" + uuid, "--output=json"});
    return got.code == kExitOk ? Json<v1::EventSourceMappingConfiguration>(got.out).state()
                               : v1::EventSourceMappingState();
  }

  std::string dir_;
  Subprocess server_;
  Subprocess function_;
  std::string endpoint_;
  std::string function_endpoint_;
};

// The tracker's data directory is lost: its mappings are gone, their leases stay in leasing with
// nobody to remove them. `leases delete-orphaned` refuses while the mapping exists and removes
// the leases once it does not.
TEST_F(TribctlAllInOneTest, LeasesOfAMappingTheTrackerLostAreDeletedAsOrphans) {
  ASSERT_EQ(Run({"streams", "create", "--stream=lost", "--shard-count=2"}).code, kExitOk);
  Result created =
      Run({"mappings", "create", "--stream=lost", "--function-endpoint=" + function_endpoint_,
           "--starting-position=LATEST", "--output=json"});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  const std::string uuid = Json<v1::EventSourceMappingConfiguration>(created.out).uuid();
  const auto leases = [&]() {
    return Json<v1::ListLeasesResponse>(
               Run({"leases", "list", "--mapping=" + uuid, "--output=json"}).out)
        .leases_size();
  };
  // The tracker, another process, creates a lease per shard on its next pass (every 100 ms): a
  // real-time wait, bounded; the deadline is only a failure guard.
  ASSERT_TRUE(WaitUntil(
      "a lease per shard", [&] { return leases() >= 2; },
      [&] { return absl::StrCat(leases(), " lease(s)"); }, absl::Seconds(30),
      absl::Milliseconds(100)));
  ASSERT_EQ(leases(), 2);
  Result refused = Run({"leases", "delete-orphaned", "--mapping=" + uuid});
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(refused.err, HasSubstr("exists"));
  EXPECT_EQ(leases(), 2);

  server_.Kill(SIGKILL);
  std::filesystem::remove_all(dir_ + "/data/stream_tracker");
  StartServer();
  Result deleted = Run({"leases", "delete-orphaned", "--mapping=" + uuid});
  EXPECT_EQ(deleted.code, kExitOk) << deleted.err;
  EXPECT_THAT(deleted.out, HasSubstr("deleted 2 lease(s) of mapping " + uuid));
  EXPECT_EQ(leases(), 0);
}

TEST_F(TribctlAllInOneTest, ATumblingWindowIsSetShownAndTurnedOff) {
  ASSERT_EQ(Run({"streams", "create", "--stream=clicks"}).code, kExitOk);
  Result created =
      Run({"mappings", "create", "--stream=clicks", "--function-endpoint=" + function_endpoint_,
           "--starting-position=LATEST", "--tumbling-window-in-seconds=60", "--output=json"});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  const auto mapping = Json<v1::EventSourceMappingConfiguration>(created.out);
  EXPECT_EQ(mapping.tumbling_window_in_seconds(), 60);
  Result got = Run({"mappings", "get", "--uuid=" + mapping.uuid()});
  EXPECT_THAT(got.out, HasSubstr("TumblingWindowInSeconds         60\n"));

  Result too_long =
      Run({"mappings", "update", "--uuid=" + mapping.uuid(), "--tumbling-window-in-seconds=901"});
  EXPECT_NE(too_long.code, kExitOk);
  EXPECT_THAT(too_long.err, HasSubstr("tumbling_window_in_seconds must be between 0 and 900"));
  ASSERT_EQ(
      Run({"mappings", "update", "--uuid=" + mapping.uuid(), "--tumbling-window-in-seconds=0"})
          .code,
      kExitOk);
  got = Run({"mappings", "get", "--uuid=" + mapping.uuid()});
  EXPECT_THAT(got.out, HasSubstr("TumblingWindowInSeconds         0\n"));
}

TEST_F(TribctlAllInOneTest, APoisonRecordGoesToTheDestinationAndTheRestIsDelivered) {
  ASSERT_EQ(Run({"streams", "create", "--stream=orders"}).code, kExitOk);
  ASSERT_EQ(Run({"streams", "create", "--stream=orders-failures"}).code, kExitOk);

  Result created =
      Run({"mappings", "create", "--stream=orders", "--function-endpoint=" + function_endpoint_,
           "--starting-position=TRIM_HORIZON", "--batch-size=10",
           "--bisect-batch-on-function-error", "--maximum-retry-attempts=0",
           "--destination=orders-failures", "--function-timeout-seconds=10", "--output=json"});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  auto mapping = Json<v1::EventSourceMappingConfiguration>(created.out);
  const std::string uuid = mapping.uuid();
  ASSERT_FALSE(uuid.empty());
  EXPECT_EQ(mapping.batch_size(), 10);
  EXPECT_TRUE(mapping.bisect_batch_on_function_error());
  EXPECT_EQ(mapping.maximum_retry_attempts(), 0);
  EXPECT_EQ(mapping.destination_config().on_failure().destination(), "orders-failures");
  EXPECT_EQ(mapping.function_timeout_seconds(), 10);

  Result got = Run({"mappings", "get", "--uuid=" + uuid});
  EXPECT_EQ(got.code, kExitOk) << got.err;
  EXPECT_THAT(got.out, HasSubstr("DestinationOnFailure            orders-failures\n"));
  // The stream's ARN as Lambda's API and the AWS front door name it (`tributary serve`'s default
  // --aws_region and --aws_account_id).
  EXPECT_THAT(got.out, HasSubstr("EventSourceArn                  "
                                 "arn:aws:kinesis:us-east-1:000000000000:stream/orders\n"));
  auto listed = Json<v1::ListEventSourceMappingsResponse>(
      Run({"mappings", "list", "--stream=orders", "--output=json"}).out);
  ASSERT_EQ(listed.event_source_mappings_size(), 1);
  EXPECT_EQ(listed.event_source_mappings(0).uuid(), uuid);

  // 20 records on one shard; the 16th is poison.
  std::string input;
  for (int i = 0; i < 20; ++i) {
    input +=
        absl::StrCat("key", i % 3, "\t", i == 15 ? "poison-15" : absl::StrCat("value-", i), "\n");
  }
  Result put = Run({"records", "put", "--stream=orders", "--output=json"}, input);
  ASSERT_EQ(put.code, kExitOk) << put.err;
  auto written = Json<v1::PutRecordsResponse>(put.out);
  ASSERT_EQ(written.records_size(), 20);

  // Wait for the failure record on the destination stream.
  Interrupt interrupt;
  absl::Notification followed;
  Result failure;
  std::thread follower([&] {
    failure = Run({"records", "get", "--stream=orders-failures", "--shard-id=shardId-000000000000",
                   "--follow", "--max-records=1", "--output=json"},
                  "", &interrupt);
    followed.Notify();
  });
  const bool arrived = followed.WaitForNotificationWithTimeout(absl::Seconds(60));
  if (!arrived) interrupt.Trigger();
  follower.join();
  ASSERT_TRUE(arrived) << "no failure record within 60 s; deliveries:\n" << Deliveries();
  ASSERT_EQ(failure.code, kExitOk) << failure.err;
  auto record = Json<v1::Record>(failure.out);
  EXPECT_THAT(record.data(), HasSubstr("\"condition\":\"RetryAttemptsExhausted\""));
  // Lambda's responseContext for a function error (the example function's own text is not in it)
  // and the stream's ARN.
  EXPECT_THAT(record.data(), HasSubstr("\"responseContext\":{\"statusCode\":200,"
                                       "\"executedVersion\":\"$LATEST\",\"functionError\":"
                                       "\"Unhandled\"}"));
  EXPECT_THAT(record.data(),
              HasSubstr("\"streamArn\":\"arn:aws:kinesis:us-east-1:000000000000:stream/orders\""));
  EXPECT_THAT(record.data(), HasSubstr(absl::StrCat("\"startSequenceNumber\":\"",
                                                    written.records(15).sequence_number(), "\"")));
  EXPECT_THAT(record.data(), HasSubstr(absl::StrCat("\"endSequenceNumber\":\"",
                                                    written.records(15).sequence_number(), "\"")));

  // Everything before the poison record was delivered before it was given up on.
  const std::string deliveries = Deliveries();
  for (int i = 0; i < 15; ++i) {
    EXPECT_THAT(deliveries,
                HasSubstr(absl::StrCat("shardId-000000000000 ",
                                       written.records(i).sequence_number(), " key", i % 3, "\n")))
        << "record " << i;
  }

  auto leases = Json<v1::ListLeasesResponse>(
      Run({"leases", "list", "--mapping=" + uuid, "--output=json"}).out);
  ASSERT_EQ(leases.leases_size(), 1);
  EXPECT_EQ(leases.leases(0).shard_id(), "shardId-000000000000");
  EXPECT_FALSE(leases.leases(0).lease_owner().empty());

  auto pollers = Json<v1::ListPollersResponse>(Run({"pollers", "list", "--output=json"}).out);
  ASSERT_EQ(pollers.pollers_size(), 1);
  EXPECT_EQ(pollers.pollers(0).poller_id(), leases.leases(0).lease_owner());

  Result metrics = Run({"metrics", "--mapping=" + uuid, "--output=json"});
  ASSERT_EQ(metrics.code, kExitOk) << metrics.err;
  auto shards = Json<v1::GetMetricsResponse>(metrics.out);
  ASSERT_EQ(shards.shards_size(), 1) << metrics.out;
  EXPECT_GT(shards.shards(0).invocations(), 0);
  EXPECT_GT(shards.shards(0).function_errors(), 0);
  // The poison record's error, as the poller saw it.
  const std::string poison_error =
      absl::StrCat("poison record at sequence number ", written.records(15).sequence_number());
  EXPECT_EQ(shards.shards(0).last_error_kind(), "FunctionError");
  EXPECT_EQ(shards.shards(0).last_error_message(), poison_error);
  Result prometheus = Run({"metrics", "--mapping=" + uuid, "--prometheus"});
  EXPECT_THAT(prometheus.out, HasSubstr(absl::StrCat("tributary_poller_invocations_total{poller=\"",
                                                     shards.poller_id(), "\",mapping=\"", uuid)));

  // The mapping shows what the poller saw once its heartbeat reported it (every ~3.3 s) and
  // the tracker's next pass (every 100 ms) read it: a real-time wait, bounded; the deadline is
  // only a failure guard.
  const auto mapping_now = [&]() {
    return Json<v1::EventSourceMappingConfiguration>(
        Run({"mappings", "get", "--uuid=" + uuid, "--output=json"}).out);
  };
  EXPECT_TRUE(WaitUntil(
      "the mapping's last error", [&] { return !mapping_now().last_error_kind().empty(); },
      [&] { return mapping_now().ShortDebugString(); }, absl::Seconds(30),
      absl::Milliseconds(100)));
  mapping = mapping_now();
  EXPECT_NE(mapping.last_processing_result(), "No records processed");
  EXPECT_EQ(mapping.last_error_kind(), "FunctionError");
  EXPECT_EQ(mapping.last_error_message(), poison_error);
  EXPECT_EQ(mapping.last_error_shard_id(), "shardId-000000000000");
  EXPECT_THAT(Run({"mappings", "get", "--uuid=" + uuid}).out,
              HasSubstr("LastError                       FunctionError: " + poison_error + "\n"));
  EXPECT_THAT(Run({"leases", "list", "--mapping=" + uuid}).out,
              HasSubstr("FunctionError: " + poison_error + "\n"));

  Result updated = Run({"mappings", "update", "--uuid=" + uuid, "--batch-size=20"});
  EXPECT_EQ(updated.code, kExitOk) << updated.err;
  EXPECT_THAT(updated.out, HasSubstr("BatchSize                       20\n"));
  EXPECT_EQ(Run({"mappings", "delete", "--uuid=" + uuid}).code, kExitOk);
}

// Issue 14, items 1 and 2, as an operator does it: `mappings update --no-enabled`, wait for
// DISABLED, put a record, `mappings update --enabled`. DISABLED used to be shown while the poller
// still held the lease, which then delivered the record put "after" it; and a re-enabled mapping
// never resumed until a restart (the poller kept its disabled configuration).
TEST_F(TribctlAllInOneTest, DisabledMeansNothingIsDeliveredAndReEnablingResumes) {
  ASSERT_EQ(Run({"streams", "create", "--stream=orders"}).code, kExitOk);
  Result created =
      Run({"mappings", "create", "--stream=orders", "--function-endpoint=" + function_endpoint_,
           "--starting-position=TRIM_HORIZON", "--output=json"});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  const std::string uuid = Json<v1::EventSourceMappingConfiguration>(created.out).uuid();
  const auto delivered = [&](const std::string& key) {
    return absl::StrContains(Deliveries(), absl::StrCat(" ", key, "\n"));
  };
  ASSERT_EQ(Run({"records", "put", "--stream=orders"}, "before\tb\n").code, kExitOk);
  const auto deliveries = [&] { return absl::StrCat("deliveries:\n", Deliveries()); };
  ASSERT_TRUE(WaitUntil(
      "the record delivered", [&] { return delivered("before"); }, deliveries, absl::Seconds(30)));

  ASSERT_EQ(Run({"mappings", "update", "--uuid=" + uuid, "--no-enabled"}).code, kExitOk);
  ASSERT_TRUE(WaitUntil(
      "the mapping DISABLED", [&] { return StateOf(uuid) == v1::DISABLED; },
      [&] { return v1::EventSourceMappingState_Name(StateOf(uuid)); }, absl::Seconds(30)));
  auto leases = Json<v1::ListLeasesResponse>(
      Run({"leases", "list", "--mapping=" + uuid, "--output=json"}).out);
  ASSERT_EQ(leases.leases_size(), 1);
  EXPECT_EQ(leases.leases(0).lease_owner(), "") << "DISABLED while a poller holds the lease";
  ASSERT_EQ(Run({"records", "put", "--stream=orders"}, "disabled\td\n").code, kExitOk);
  // Longer than a heartbeat interval (a third of the 10 s lease duration): time for a poller
  // that still held the lease to deliver the record.
  EXPECT_FALSE(WaitUntil(
      "no delivery while DISABLED", [&] { return delivered("disabled"); }, deliveries,
      absl::Seconds(4)))
      << "delivered while the mapping read DISABLED";

  ASSERT_EQ(Run({"mappings", "update", "--uuid=" + uuid, "--enabled"}).code, kExitOk);
  ASSERT_TRUE(WaitUntil(
      "the re-enabled mapping to deliver", [&] { return delivered("disabled"); },
      [&] {
        return absl::StrCat("state ", v1::EventSourceMappingState_Name(StateOf(uuid)), "; ",
                            deliveries());
      },
      absl::Seconds(30)));
  EXPECT_EQ(StateOf(uuid), v1::ENABLED);
}

// Issue 17: a function registered by name, a mapping that names it (by its ARN), records
// delivered to it; its update reaching the mapping, its delete refused while the mapping uses
// it, and the registry surviving kill -9 of the binary.
TEST_F(TribctlAllInOneTest, AFunctionRegisteredByNameReceivesTheMappingsRecords) {
  ASSERT_EQ(Run({"streams", "create", "--stream=clicks"}).code, kExitOk);
  Result registered = Run({"functions", "create", "--function-name=clicks-fn",
                           "--function-endpoint=" + function_endpoint_,
                           "--function-timeout-seconds=10", "--output=json"});
  ASSERT_EQ(registered.code, kExitOk) << registered.err;
  const auto function = Json<v1::FunctionConfiguration>(registered.out);
  EXPECT_EQ(function.function_arn(), "arn:aws:lambda:us-east-1:000000000000:function:clicks-fn");
  Result again = Run({"functions", "create", "--function-name=clicks-fn",
                      "--function-endpoint=" + function_endpoint_});
  EXPECT_EQ(again.code, kExitError);
  EXPECT_THAT(again.err, ::testing::StartsWith("error: ALREADY_EXISTS: "));

  Result created =
      Run({"mappings", "create", "--stream=clicks", "--function-name=" + function.function_arn(),
           "--starting-position=TRIM_HORIZON", "--output=json"});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  const auto mapping = Json<v1::EventSourceMappingConfiguration>(created.out);
  EXPECT_EQ(mapping.function_name(), "clicks-fn");
  EXPECT_EQ(mapping.function_endpoint(), function_endpoint_);
  EXPECT_EQ(mapping.function_timeout_seconds(), 10);
  ASSERT_EQ(Run({"records", "put", "--stream=clicks"}, "by-name\tb\n").code, kExitOk);
  ASSERT_TRUE(WaitUntil(
      "the record delivered", [&] { return absl::StrContains(Deliveries(), " by-name\n"); },
      [&] { return absl::StrCat("deliveries:\n", Deliveries()); }, absl::Seconds(30)));
  auto following = Json<v1::ListEventSourceMappingsResponse>(
      Run({"mappings", "list", "--function-name=clicks-fn", "--output=json"}).out);
  ASSERT_EQ(following.event_source_mappings_size(), 1);
  EXPECT_EQ(following.event_source_mappings(0).uuid(), mapping.uuid());

  Result concurrency = Run({"functions", "put-function-concurrency", "--function-name=clicks-fn",
                            "--reserved-concurrent-executions=5"});
  EXPECT_EQ(concurrency.code, kExitOk) << concurrency.err;
  EXPECT_THAT(concurrency.out, HasSubstr("ReservedConcurrentExecutions  5\n"));
  EXPECT_THAT(Run({"functions", "list"}).out,
              HasSubstr("clicks-fn      " + function_endpoint_ + "  10               5"));

  Result refused = Run({"functions", "delete", "--function-name=clicks-fn"});
  EXPECT_EQ(refused.code, kExitError);
  EXPECT_THAT(refused.err, ::testing::StartsWith("error: FAILED_PRECONDITION: "));
  EXPECT_THAT(refused.err, HasSubstr(mapping.uuid()));
  Result timeout =
      Run({"mappings", "update", "--uuid=" + mapping.uuid(), "--function-timeout-seconds=5"});
  EXPECT_EQ(timeout.code, kExitError);
  EXPECT_THAT(timeout.err, HasSubstr("follows function clicks-fn"));
  ASSERT_EQ(
      Run({"functions", "update", "--function-name=clicks-fn", "--function-timeout-seconds=20"})
          .code,
      kExitOk);
  EXPECT_THAT(Run({"mappings", "get", "--uuid=" + mapping.uuid()}).out,
              HasSubstr("FunctionTimeoutSeconds          20\n"));

  server_.Kill(SIGKILL);
  StartServer();
  Result got = Run({"functions", "get", "--function-name=clicks-fn", "--output=json"});
  ASSERT_EQ(got.code, kExitOk) << got.err;
  EXPECT_EQ(Json<v1::FunctionConfiguration>(got.out).timeout_seconds(), 20);
  EXPECT_EQ(Json<v1::FunctionConfiguration>(got.out).reserved_concurrent_executions(), 5);

  // Once the mapping is gone (the tracker removes it after its leases), the function can go.
  ASSERT_EQ(Run({"mappings", "delete", "--uuid=" + mapping.uuid()}).code, kExitOk);
  ASSERT_TRUE(WaitUntil(
      "the mapping gone",
      [&] {
        return Run({"mappings", "get", "--uuid=" + mapping.uuid()}).code == kExitError;
      },
      [&] {
        return Run({"mappings", "get", "--uuid=" + mapping.uuid()}).out;
      },
      absl::Seconds(30)));
  Result deleted = Run({"functions", "delete", "--function-name=clicks-fn"});
  EXPECT_EQ(deleted.code, kExitOk) << deleted.err;
  EXPECT_EQ(Run({"functions", "get", "--function-name=clicks-fn"}).code, kExitError);
}

TEST_F(TribctlAllInOneTest, MappingErrorsFromTheTrackerReachTheOperator) {
  Result missing = Run({"mappings", "get", "--uuid=00000000-0000-0000-0000-000000000000"});
  EXPECT_EQ(missing.code, kExitError);
  EXPECT_THAT(missing.err, ::testing::StartsWith("error: NOT_FOUND: "));
  ASSERT_EQ(Run({"streams", "create", "--stream=s"}).code, kExitOk);
  Result bad = Run({"mappings", "create", "--stream=s", "--function-endpoint=127.0.0.1:1",
                    "--starting-position=LATEST", "--batch-size=0"});
  EXPECT_EQ(bad.code, kExitError);
  EXPECT_THAT(bad.err, ::testing::StartsWith("error: INVALID_ARGUMENT: "));
  EXPECT_THAT(bad.err, HasSubstr("batch_size"));
}

// Tables and items over tributary.v1.Tables (issue 18): a table with a change stream, items in
// DynamoDB JSON, the stream turned off and on (two streams listed), and a mapping made on the
// table's stream by its DynamoDB ARN.
TEST_F(TribctlAllInOneTest, TablesItemsAndAMappingOnATablesStream) {
  Result created = Run({"tables", "create", "--table-name=orders", "--partition-key=id:S",
                        "--stream-view-type=NEW_AND_OLD_IMAGES", "--output=json"});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  const auto table = Json<v1::TableDescription>(created.out);
  EXPECT_TRUE(table.stream_specification().stream_enabled());
  EXPECT_THAT(table.latest_stream_arn(),
              ::testing::StartsWith("arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/"));
  EXPECT_THAT(table.latest_stream_name(), ::testing::StartsWith("_tables."));
  Result described = Run({"tables", "describe", "--table-name=orders"});
  EXPECT_THAT(described.out, HasSubstr("LatestStreamArn     " + table.latest_stream_arn()));
  EXPECT_THAT(Run({"tables", "list"}).out, HasSubstr("orders\n"));

  Result put = Run({"items", "put", "--table-name=orders",
                    R"(--item={"id": {"S": "a"}, "n": {"N": "1.50"}, "tags": {"SS": ["x"]}})"});
  ASSERT_EQ(put.code, kExitOk) << put.err;
  Result got = Run({"items", "get", "--table-name=orders", R"(--key={"id": {"S": "a"}})"});
  ASSERT_EQ(got.code, kExitOk) << got.err;
  EXPECT_EQ(got.out, R"({"id": {"S": "a"}, "n": {"N": "1.5"}, "tags": {"SS": ["x"]}})" "\n");
  Result old = Run({"items", "delete", "--table-name=orders", R"(--key={"id": {"S": "a"}})",
                    "--return-old"});
  EXPECT_THAT(old.out, HasSubstr(R"("n": {"N": "1.5"})"));
  EXPECT_EQ(Run({"items", "get", "--table-name=orders", R"(--key={"id": {"S": "a"}})"}).out,
            "no such item\n");
  Result bad = Run({"items", "put", "--table-name=orders", R"(--item={"id": "a"})"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("--item"));

  ASSERT_EQ(Run({"tables", "update", "--table-name=orders", "--no-stream"}).code, kExitOk);
  Result on = Run({"tables", "update", "--table-name=orders", "--stream-view-type=KEYS_ONLY",
                   "--output=json"});
  ASSERT_EQ(on.code, kExitOk) << on.err;
  const auto updated = Json<v1::TableDescription>(on.out);
  EXPECT_NE(updated.latest_stream_arn(), table.latest_stream_arn());
  Result streams = Run({"tables", "streams", "--table-name=orders", "--limit=1"});
  ASSERT_EQ(streams.code, kExitOk) << streams.err;
  EXPECT_THAT(streams.out, HasSubstr("DISABLED"));
  EXPECT_THAT(streams.out, HasSubstr("ENABLED"));

  Result mapping = Run({"mappings", "create", "--stream=" + updated.latest_stream_arn(),
                        "--function-endpoint=" + function_endpoint_,
                        "--starting-position=TRIM_HORIZON", "--output=json"});
  ASSERT_EQ(mapping.code, kExitOk) << mapping.err;
  EXPECT_EQ(Json<v1::EventSourceMappingConfiguration>(mapping.out).stream_name(),
            updated.latest_stream_name());
  Result unknown = Run({"mappings", "create",
                        "--stream=arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/x",
                        "--function-endpoint=" + function_endpoint_,
                        "--starting-position=TRIM_HORIZON"});
  EXPECT_EQ(unknown.code, kExitError);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));

  ASSERT_EQ(Run({"tables", "delete", "--table-name=orders"}).code, kExitOk);
  EXPECT_EQ(Run({"tables", "describe", "--table-name=orders"}).code, kExitError);
}

// The rest of the item API from tribctl (issue 18): items update with expressions, a failed
// condition, and query / scan printed as DynamoDB JSON lines, paged by --max-items and the
// NextToken they print, in table and JSON output.
TEST_F(TribctlAllInOneTest, ItemsUpdateQueryAndScanWithExpressionsAndPaging) {
  ASSERT_EQ(Run({"tables", "create", "--table-name=events", "--partition-key=pk:S",
                 "--sort-key=sk:N"})
                .code,
            kExitOk);
  for (int sk = 1; sk <= 5; ++sk) {
    Result put = Run({"items", "put", "--table-name=events",
                      absl::StrCat(R"(--item={"pk": {"S": "a"}, "sk": {"N": ")", sk,
                                   R"("}, "kind": {"S": ")", sk % 2 == 0 ? "even" : "odd",
                                   R"("}})")});
    ASSERT_EQ(put.code, kExitOk) << put.err;
  }
  ASSERT_EQ(Run({"items", "put", "--table-name=events",
                 R"(--item={"pk": {"S": "b"}, "sk": {"N": "1"}})"})
                .code,
            kExitOk);

  Result updated = Run({"items", "update", "--table-name=events",
                        R"(--key={"pk": {"S": "a"}, "sk": {"N": "1"}})",
                        "--update-expression=SET #k = :k ADD clicks :one",
                        R"(--names={"#k": "kind"})",
                        R"(--values={":k": {"S": "first"}, ":one": {"N": "1"}})",
                        "--condition-expression=attribute_exists(pk)",
                        "--return-values=ALL_NEW"});
  ASSERT_EQ(updated.code, kExitOk) << updated.err;
  EXPECT_EQ(updated.out,
            R"({"clicks": {"N": "1"}, "kind": {"S": "first"}, "pk": {"S": "a"}, "sk": {"N": "1"}})"
            "\n");
  Result refused = Run({"items", "put", "--table-name=events",
                        R"(--item={"pk": {"S": "a"}, "sk": {"N": "1"}})",
                        "--condition-expression=attribute_not_exists(pk)"});
  EXPECT_EQ(refused.code, kExitError);
  EXPECT_THAT(refused.err, HasSubstr("FAILED_PRECONDITION: The conditional request failed"));

  // Two items, then a token that the next command starts after.
  const std::vector<std::string> query = {"items", "query", "--table-name=events",
                                          "--key-condition=pk = :p",
                                          R"(--values={":p": {"S": "a"}})"};
  std::vector<std::string> first = query;
  first.push_back("--max-items=2");
  Result page1 = Run(first);
  ASSERT_EQ(page1.code, kExitOk) << page1.err;
  EXPECT_THAT(page1.out, ::testing::StartsWith(
                             R"({"clicks": {"N": "1"}, "kind": {"S": "first"}, "pk": {"S": "a"}, "sk": {"N": "1"}})"
                             "\n"
                             R"({"kind": {"S": "even"}, "pk": {"S": "a"}, "sk": {"N": "2"}})"
                             "\nCount 2  ScannedCount 2\nNextToken "));
  const size_t at = page1.out.find("NextToken ");
  const std::string token = page1.out.substr(at + 10, page1.out.find('\n', at) - at - 10);
  ASSERT_FALSE(token.empty());
  std::vector<std::string> rest = query;
  rest.push_back("--starting-token=" + token);
  Result page2 = Run(rest);
  ASSERT_EQ(page2.code, kExitOk) << page2.err;
  EXPECT_THAT(page2.out, HasSubstr(R"("sk": {"N": "3"})"));
  EXPECT_THAT(page2.out, HasSubstr(R"("sk": {"N": "5"})"));
  EXPECT_THAT(page2.out, HasSubstr("Count 3  ScannedCount 3\n"));
  EXPECT_THAT(page2.out, ::testing::Not(HasSubstr("NextToken")));

  Result even = Run({"items", "query", "--table-name=events", "--key-condition=pk = :p",
                     "--filter=kind = :k", "--projection=sk", "--descending",
                     R"(--values={":p": {"S": "a"}, ":k": {"S": "even"}})"});
  ASSERT_EQ(even.code, kExitOk) << even.err;
  EXPECT_EQ(even.out, "{\"sk\": {\"N\": \"4\"}}\n{\"sk\": {\"N\": \"2\"}}\n"
                      "Count 2  ScannedCount 5\n");

  std::vector<std::string> as_json = first;
  as_json.push_back("--output=json");
  Result json = Run(as_json);
  ASSERT_EQ(json.code, kExitOk) << json.err;
  const auto response = Json<v1::QueryResponse>(json.out);
  EXPECT_EQ(response.items_size(), 2);
  EXPECT_EQ(response.last_evaluated_key().at("sk").n(), "2");
  EXPECT_EQ(json.err, "NextToken " + token + "\n");

  // Scan: every page (two items a call), and two segments that together hold every item.
  Result scan = Run({"items", "scan", "--table-name=events", "--limit=2"});
  ASSERT_EQ(scan.code, kExitOk) << scan.err;
  EXPECT_THAT(scan.out, HasSubstr("Count 6  ScannedCount 6\n"));
  int in_segments = 0;
  for (const char* segment : {"--segment=0", "--segment=1"}) {
    Result part = Run({"items", "scan", "--table-name=events", segment, "--total-segments=2",
                       "--count", "--output=json"});
    ASSERT_EQ(part.code, kExitOk) << part.err;
    in_segments += Json<v1::ScanResponse>(part.out).count();
  }
  EXPECT_EQ(in_segments, 6);
  Result bad = Run({"items", "scan", "--table-name=events", "--starting-token=???"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("--starting-token"));
}


// items batch-write / batch-get / transact-write (issue 18) with the AWS CLI's JSON: written
// all or none, read back by key, a cancelled transaction's reasons in the error, the units.
TEST_F(TribctlAllInOneTest, ItemsBatchWriteBatchGetAndTransactWrite) {
  ASSERT_EQ(Run({"tables", "create", "--table-name=orders", "--partition-key=id:S"}).code,
            kExitOk);
  Result written = Run({"items", "batch-write", "--return-consumed-capacity=TOTAL",
                        R"(--request-items={"orders": [
                            {"PutRequest": {"Item": {"id": {"S": "a"}, "n": {"N": "1"}}}},
                            {"PutRequest": {"Item": {"id": {"S": "b"}, "n": {"N": "2"}}}}]})"});
  ASSERT_EQ(written.code, kExitOk) << written.err;
  EXPECT_EQ(written.out, "ok\nConsumedCapacity orders 2 write 2\n");

  Result got = Run({"items", "batch-get",
                    R"(--request-items={"orders": {"Keys": [{"id": {"S": "a"}},
                                                             {"id": {"S": "b"}},
                                                             {"id": {"S": "missing"}}],
                                                    "ProjectionExpression": "id, n"}})"});
  ASSERT_EQ(got.code, kExitOk) << got.err;
  EXPECT_THAT(got.out, HasSubstr(R"(orders {"id": {"S": "a"}, "n": {"N": "1"}})" "\n"));
  EXPECT_THAT(got.out, HasSubstr(R"(orders {"id": {"S": "b"}, "n": {"N": "2"}})" "\n"));
  EXPECT_THAT(got.out, ::testing::Not(HasSubstr("missing")));

  Result moved = Run({"items", "transact-write", "--client-request-token=move-1",
                      R"(--transact-items=[
                          {"Update": {"TableName": "orders", "Key": {"id": {"S": "a"}},
                                      "UpdateExpression": "SET n = n - :one",
                                      "ConditionExpression": "n >= :one",
                                      "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                          {"Delete": {"TableName": "orders", "Key": {"id": {"S": "b"}}}}])"});
  ASSERT_EQ(moved.code, kExitOk) << moved.err;
  EXPECT_EQ(moved.out, "ok\n");
  EXPECT_EQ(Run({"items", "get", "--table-name=orders", R"(--key={"id": {"S": "a"}})"}).out,
            R"({"id": {"S": "a"}, "n": {"N": "0"}})" "\n");
  EXPECT_EQ(Run({"items", "get", "--table-name=orders", R"(--key={"id": {"S": "b"}})"}).out,
            "no such item\n");

  // The same condition again fails: nothing is written and the reasons are in the error.
  Result cancelled = Run({"items", "transact-write",
                          R"(--transact-items=[
                              {"Put": {"TableName": "orders", "Item": {"id": {"S": "c"}}}},
                              {"ConditionCheck": {"TableName": "orders", "Key": {"id": {"S": "a"}},
                                                  "ConditionExpression": "n >= :one",
                                                  "ExpressionAttributeValues": {":one": {"N": "1"}}}}])"});
  EXPECT_EQ(cancelled.code, kExitError);
  EXPECT_THAT(cancelled.err, HasSubstr("[None, ConditionalCheckFailed]"));
  EXPECT_EQ(Run({"items", "get", "--table-name=orders", R"(--key={"id": {"S": "c"}})"}).out,
            "no such item\n");

  Result bad = Run({"items", "batch-write", R"(--request-items={"orders": [{"Put": {}}]})"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("--request-items: orders[0]: unknown member Put"));
}

}  // namespace
}  // namespace tributary::tribctl
