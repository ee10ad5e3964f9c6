// The console's JSON document and routes against fake services over in-process channels and a
// FakeClock: the document's shape, rates from the counters' samples, sparkline history, a failed
// service reported under "errors", caching, tables with their streams and the mappings on them,
// and the read-only default of the actions.
#include "tools/console/overview.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/grpc_authz_gate.h"
#include "common/grpc_server.h"
#include "common/testing/test_util.h"
#include "common/version.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "proto/shard_checkpoints.grpc.pb.h"
#include "proto/tables.grpc.pb.h"
#include "rapidjson/document.h"
#include "tools/console/console_handler.h"
#include "tools/tribctl/testing/fake_services.h"

namespace tributary::console {
namespace {

// tributary.v1.Tables answering ListTables and DescribeTable with canned replies (every table
// is described alike).
class FakeTables : public v1::Tables::CallbackService, public tribctl::testing::CannedReplies {
 public:
  grpc::ServerUnaryReactor* ListTables(grpc::CallbackServerContext* context,
                                       const v1::ListTablesRequest* request,
                                       v1::ListTablesResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(Handle("ListTables", *request, response));
    return reactor;
  }
  grpc::ServerUnaryReactor* DescribeTable(grpc::CallbackServerContext* context,
                                          const v1::DescribeTableRequest* request,
                                          v1::TableDescription* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(Handle("DescribeTable", *request, response));
    return reactor;
  }
  grpc::ServerUnaryReactor* ListTableStreams(grpc::CallbackServerContext* context,
                                             const v1::ListTableStreamsRequest* request,
                                             v1::ListTableStreamsResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(Handle("ListTableStreams", *request, response));
    return reactor;
  }
};

// tributary.v1.ShardCheckpoints (the tracker's) with canned replies.
class FakeShardCheckpoints : public v1::ShardCheckpoints::CallbackService,
                             public tribctl::testing::CannedReplies {
 public:
  grpc::ServerUnaryReactor* UpdateShardCheckpoint(
      grpc::CallbackServerContext* context, const v1::UpdateShardCheckpointRequest* request,
      v1::UpdateShardCheckpointResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(Handle("UpdateShardCheckpoint", *request, response));
    return reactor;
  }
};

constexpr char kTableStream[] = "_tables.1.20231114221320000";

template <typename T>
T Proto(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

constexpr char kMetricsText[] =
    "# TYPE tributary_store_records_in_total counter\n"
    "tributary_store_records_in_total{stream=\"orders\"} %IN%\n"
    "tributary_store_records_in_total{stream=\"orders2\"} 999\n"
    "# TYPE tributary_store_records_out_total counter\n"
    "tributary_store_records_out_total{stream=\"orders\"} %OUT%\n"
    "tributary_store_records_in_total{stream=\"_tables.1.20231114221320000\"} %TABLE_IN%\n";

class OverviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = GrpcServer::Start(
        "127.0.0.1:0", {&streams_, &mappings_, &leasing_, &pollers_, &tables_, &checkpoints_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    streams_.SetReply("ListStreams", Proto<v1::ListStreamsResponse>(
                                         "stream_names: 'orders' stream_summaries { stream_name: "
                                         "'orders' stream_status: ACTIVE }"));
    streams_.SetReply("ListShards",
                      Proto<v1::ListShardsResponse>(
                          "shards { shard_id: 'shardId-000000000000' sequence_number_range { "
                          "starting_sequence_number: '1' ending_sequence_number: '9' } } "
                          "shards { shard_id: 'shardId-000000000001' } "
                          "shards { shard_id: 'shardId-000000000002' }"));
    mappings_.SetReply("ListEventSourceMappings",
                       Proto<v1::ListEventSourceMappingsResponse>(
                           "event_source_mappings { uuid: 'm-1' stream_name: 'orders' "
                           "function_endpoint: '127.0.0.1:4570' state: ENABLED enabled: true "
                           "last_processing_result: 'PROBLEM: Function call failed' "
                           "last_error_kind: 'FunctionError' last_error_message: 'boom' "
                           "last_error_time { seconds: 1700000000 } "
                           "last_error_shard_id: 'shardId-000000000001' }"));
    SetLeases(250);
    leasing_.SetReply(
        "ListPollers",
        Proto<v1::ListPollersResponse>("pollers { poller_id: 'host-a' capacity: 10 live: true "
                                       "lease_count: 1 last_heartbeat { seconds: 1700000000 } }"));
    SetPollerCounters(100, 4);
    tables_.SetReply("ListTables", Proto<v1::ListTablesResponse>("table_names: 'Orders'"));
    tables_.SetReply(
        "DescribeTable",
        Proto<v1::TableDescription>(absl::StrCat(
            "table_name: 'Orders' table_status: TABLE_ACTIVE billing_mode: "
            "BILLING_PAY_PER_REQUEST creation_date_time { seconds: 1700000000 } "
            "partition_key { attribute_name: 'id' attribute_type: 'S' } "
            "sort_key { attribute_name: 'at' attribute_type: 'N' } "
            "stream_specification { stream_enabled: true stream_view_type: "
            "VIEW_NEW_AND_OLD_IMAGES } latest_stream_label: '2023-11-14T22:13:20.000' "
            "latest_stream_arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/"
            "2023-11-14T22:13:20.000' latest_stream_name: '",
            kTableStream, "'")));
    in_ = 1000;
    out_ = 500;
    OverviewSources sources;
    sources.streams = server_->InProcessChannel();
    sources.mappings = server_->InProcessChannel();
    sources.leasing = server_->InProcessChannel();
    sources.pollers = {server_->InProcessChannel()};
    sources.tables = server_->InProcessChannel();
    sources.checkpoints = server_->InProcessChannel();
    sources.metrics_text = [this] {
      std::string text = kMetricsText;
      text.replace(text.find("%IN%"), 4, std::to_string(in_));
      text.replace(text.find("%OUT%"), 5, std::to_string(out_));
      text.replace(text.find("%TABLE_IN%"), 10, std::to_string(table_in_));
      return text;
    };
    overview_ = std::make_unique<Overview>(sources, OverviewOptions(), clock_);
  }

  void SetLeases(int64_t age_ms) {
    leasing_.SetReply(
        "ListLeases",
        Proto<v1::ListLeasesResponse>(absl::StrCat(
            "leases { event_source_mapping_uuid: 'm-1' shard_id: 'shardId-000000000001' "
            "lease_owner: 'host-a' lease_counter: 3 checkpoint { type: SEQUENCE_NUMBER "
            "sequence_number: '49' } iterator_age_ms: ",
            age_ms,
            " enabled: true assignable: true } "
            "leases { event_source_mapping_uuid: 'm-1' shard_id: 'shardId-000000000002' "
            "lease_counter: 0 checkpoint { type: TRIM_HORIZON_CHECKPOINT } enabled: true "
            "assignable: true }")));
  }
  void SetPollerCounters(int64_t delivered, int64_t errors) {
    pollers_.SetReply("GetMetrics",
                      Proto<v1::GetMetricsResponse>(absl::StrCat(
                          "poller_id: 'host-a' shards { event_source_mapping_uuid: 'm-1' "
                          "shard_id: 'shardId-000000000001' records_delivered: ",
                          delivered, " function_errors: ", errors, " }")));
  }

  rapidjson::Document Parse(const std::string& json) {
    rapidjson::Document doc;
    doc.Parse(json.c_str());
    EXPECT_FALSE(doc.HasParseError()) << json;
    return doc;
  }

  FakeClock clock_;
  tribctl::testing::FakeStreams streams_;
  tribctl::testing::FakeMappings mappings_;
  tribctl::testing::FakeLeasing leasing_;
  tribctl::testing::FakePollers pollers_;
  FakeTables tables_;
  FakeShardCheckpoints checkpoints_;
  std::unique_ptr<GrpcServer> server_;
  int64_t in_ = 0;
  int64_t out_ = 0;
  int64_t table_in_ = 0;
  std::unique_ptr<Overview> overview_;
};

TEST_F(OverviewTest, FirstDocumentHasEverySectionAndNoRatesYet) {
  const std::string json = overview_->Json();
  rapidjson::Document doc = Parse(json);
  ASSERT_TRUE(doc.IsObject()) << json;
  EXPECT_STREQ(doc["version"].GetString(), kVersion);
  EXPECT_STREQ(doc["generated_at"].GetString(), "2023-11-14T22:13:20Z");
  EXPECT_FALSE(doc["actions_enabled"].GetBool());

  const auto& stream = doc["streams"][0];
  EXPECT_STREQ(stream["name"].GetString(), "orders");
  EXPECT_STREQ(stream["status"].GetString(), "ACTIVE");
  EXPECT_EQ(stream["open_shards"].GetInt(), 2);
  EXPECT_EQ(stream["closed_shards"].GetInt(), 1);
  EXPECT_TRUE(stream["records_in_per_second"].IsNull()) << json;  // one sample
  EXPECT_TRUE(stream["records_out_per_second"].IsNull()) << json;

  const auto& mapping = doc["mappings"][0];
  EXPECT_STREQ(mapping["uuid"].GetString(), "m-1");
  EXPECT_STREQ(mapping["stream"].GetString(), "orders");
  EXPECT_STREQ(mapping["function"].GetString(), "127.0.0.1:4570");
  EXPECT_STREQ(mapping["state"].GetString(), "Enabled");
  EXPECT_TRUE(mapping["enabled"].GetBool());
  EXPECT_STREQ(mapping["last_processing_result"].GetString(), "PROBLEM: Function call failed");
  EXPECT_STREQ(mapping["last_error"]["kind"].GetString(), "FunctionError");
  EXPECT_STREQ(mapping["last_error"]["message"].GetString(), "boom");
  EXPECT_STREQ(mapping["last_error"]["time"].GetString(), "2023-11-14T22:13:20Z");
  EXPECT_STREQ(mapping["last_error"]["shard"].GetString(), "shardId-000000000001");
  EXPECT_TRUE(mapping["records_per_second"].IsNull());
  EXPECT_TRUE(mapping["errors_per_second"].IsNull());
  ASSERT_EQ(mapping["shards"].Size(), 2u);
  const auto& owned = mapping["shards"][0];
  EXPECT_STREQ(owned["shard_id"].GetString(), "shardId-000000000001");
  EXPECT_STREQ(owned["owner"].GetString(), "host-a");
  EXPECT_EQ(owned["lease_counter"].GetInt64(), 3);
  EXPECT_STREQ(owned["checkpoint"].GetString(), "49");
  EXPECT_EQ(owned["iterator_age_ms"].GetInt64(), 250);
  ASSERT_EQ(owned["iterator_age_history"].Size(), 1u);
  EXPECT_EQ(owned["iterator_age_history"][0].GetDouble(), 250);
  const auto& unowned = mapping["shards"][1];
  EXPECT_STREQ(unowned["owner"].GetString(), "");
  EXPECT_STREQ(unowned["checkpoint"].GetString(), "TRIM_HORIZON");
  EXPECT_TRUE(unowned["iterator_age_ms"].IsNull());  // nobody works on it: unknown, not 0
  EXPECT_EQ(unowned["iterator_age_history"].Size(), 0u);

  const auto& poller = doc["pollers"][0];
  EXPECT_STREQ(poller["id"].GetString(), "host-a");
  EXPECT_TRUE(poller["live"].GetBool());
  EXPECT_EQ(poller["capacity"].GetInt(), 10);
  EXPECT_EQ(poller["lease_count"].GetInt(), 1);
  ASSERT_EQ(poller["leases"].Size(), 1u);
  EXPECT_STREQ(poller["leases"][0]["shard"].GetString(), "shardId-000000000001");

  ASSERT_TRUE(doc["tables"].IsArray()) << json;
  EXPECT_EQ(doc["tables"].Size(), 1u);
  EXPECT_FALSE(doc.HasMember("tables_note")) << json;
  EXPECT_FALSE(doc["tables_truncated"].GetBool());
  EXPECT_EQ(doc["errors"].MemberCount(), 0u) << json;
}

TEST_F(OverviewTest, AShardShowsItsParkedKeysAsItsPollerReportsThem) {
  pollers_.SetReply("GetMetrics",
                    Proto<v1::GetMetricsResponse>(
                        "poller_id: 'host-a' shards { event_source_mapping_uuid: 'm-1' "
                        "shard_id: 'shardId-000000000001' parked_keys: 3 parked_records: 7 "
                        "oldest_parked_age_ms: 61000 parked_keys_limit_reached: true }"));
  const std::string json = overview_->Json();
  rapidjson::Document doc = Parse(json);
  const auto& owned = doc["mappings"][0]["shards"][0];
  EXPECT_EQ(owned["parked_keys"].GetInt64(), 3) << json;
  EXPECT_EQ(owned["oldest_parked_age_ms"].GetInt64(), 61000);
  EXPECT_TRUE(owned["parked_keys_limit_reached"].GetBool());
  const auto& unowned = doc["mappings"][0]["shards"][1];
  EXPECT_TRUE(unowned["parked_keys"].IsNull()) << "no poller reported it: unknown, not 0";
  EXPECT_TRUE(unowned["oldest_parked_age_ms"].IsNull());
  EXPECT_FALSE(unowned["parked_keys_limit_reached"].GetBool());
}

TEST_F(OverviewTest, RatesAreCounterDeltasOverTheSampledTime) {
  overview_->Json();
  clock_.Advance(absl::Seconds(5));
  in_ += 50;                  // 10/s
  out_ += 25;                 // 5/s
  SetPollerCounters(120, 5);  // 4/s delivered, 0.2/s errors
  SetLeases(900);
  rapidjson::Document doc = Parse(overview_->Json());
  EXPECT_DOUBLE_EQ(doc["streams"][0]["records_in_per_second"].GetDouble(), 10);
  EXPECT_DOUBLE_EQ(doc["streams"][0]["records_out_per_second"].GetDouble(), 5);
  EXPECT_DOUBLE_EQ(doc["mappings"][0]["records_per_second"].GetDouble(), 4);
  EXPECT_DOUBLE_EQ(doc["mappings"][0]["errors_per_second"].GetDouble(), 0.2);
  const auto& history = doc["mappings"][0]["shards"][0]["iterator_age_history"];
  ASSERT_EQ(history.Size(), 2u);
  EXPECT_EQ(history[0].GetDouble(), 250);
  EXPECT_EQ(history[1].GetDouble(), 900);
}

TEST_F(OverviewTest, RateSpansTheRateWindowNotJustTheLastTwoSamples) {
  for (int i = 0; i < 12; ++i) {  // a sample a second; `in` grows 10/s, then 100/s at the end
    overview_->Json();
    clock_.Advance(absl::Seconds(1));
    in_ += 10;
  }
  in_ += 90;  // the last second: 100 records
  rapidjson::Document doc = Parse(overview_->Json());
  // From the newest sample back 10 s: 9 seconds at 10/s and one at 100/s.
  EXPECT_DOUBLE_EQ(doc["streams"][0]["records_in_per_second"].GetDouble(), 19);
}

TEST_F(OverviewTest, ACounterResetGivesNoRate) {
  overview_->Json();
  clock_.Advance(absl::Seconds(5));
  in_ = 3;  // the server restarted
  rapidjson::Document doc = Parse(overview_->Json());
  EXPECT_TRUE(doc["streams"][0]["records_in_per_second"].IsNull());
}

TEST_F(OverviewTest, DocumentIsCachedWithinMinRefresh) {
  overview_->Json();
  const size_t calls = leasing_.Requests<v1::ListLeasesRequest>("ListLeases").size();
  clock_.Advance(absl::Milliseconds(500));
  overview_->Json();
  EXPECT_EQ(leasing_.Requests<v1::ListLeasesRequest>("ListLeases").size(), calls);
  clock_.Advance(absl::Milliseconds(500));
  overview_->Json();
  EXPECT_EQ(leasing_.Requests<v1::ListLeasesRequest>("ListLeases").size(), calls + 1);
}

TEST_F(OverviewTest, AFailingServiceIsReportedAndTheOtherSectionsStay) {
  leasing_.SetError("ListLeases", absl::UnavailableError("leasing is down"));
  const std::string json = overview_->Json();
  rapidjson::Document doc = Parse(json);
  EXPECT_STREQ(doc["errors"]["leases"].GetString(), "UNAVAILABLE: leasing is down") << json;
  EXPECT_EQ(doc["streams"].Size(), 1u);
  EXPECT_EQ(doc["mappings"].Size(), 1u);
  EXPECT_EQ(doc["mappings"][0]["shards"].Size(), 0u);
  EXPECT_EQ(doc["pollers"].Size(), 1u);
}

TEST_F(OverviewTest, ATableShowsItsKeysItsStreamItsShardsAndTheMappingsOnIt) {
  mappings_.SetReply(
      "ListEventSourceMappings",
      Proto<v1::ListEventSourceMappingsResponse>(absl::StrCat(
          "event_source_mappings { uuid: 'm-1' stream_name: 'orders' state: ENABLED } "
          "event_source_mappings { uuid: 'm-2' stream_name: '",
          kTableStream,
          "' function_name: 'audit' state: DISABLED } "
          "event_source_mappings { uuid: 'm-3' stream_name: '_tables.1.20231114221319000' "
          "function_name: 'old' state: ENABLED }")));
  const std::string json = overview_->Json();
  rapidjson::Document doc = Parse(json);
  ASSERT_TRUE(doc["tables"].IsArray()) << json;
  ASSERT_EQ(doc["tables"].Size(), 1u) << json;
  const auto& table = doc["tables"][0];
  EXPECT_STREQ(table["name"].GetString(), "Orders");
  EXPECT_STREQ(table["status"].GetString(), "ACTIVE");
  EXPECT_STREQ(table["billing_mode"].GetString(), "PAY_PER_REQUEST");
  EXPECT_STREQ(table["created"].GetString(), "2023-11-14T22:13:20Z");
  EXPECT_STREQ(table["partition_key"]["name"].GetString(), "id");
  EXPECT_STREQ(table["partition_key"]["type"].GetString(), "S");
  EXPECT_STREQ(table["sort_key"]["name"].GetString(), "at");
  EXPECT_STREQ(table["sort_key"]["type"].GetString(), "N");
  EXPECT_TRUE(table["stream_enabled"].GetBool());
  EXPECT_STREQ(table["stream_view_type"].GetString(), "NEW_AND_OLD_IMAGES");
  const auto& stream = table["latest_stream"];
  ASSERT_TRUE(stream.IsObject()) << json;
  EXPECT_STREQ(stream["arn"].GetString(),
               "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/"
               "2023-11-14T22:13:20.000");
  EXPECT_STREQ(stream["label"].GetString(), "2023-11-14T22:13:20.000");
  EXPECT_STREQ(stream["store_stream"].GetString(), kTableStream);
  // The streams section did not list the store stream, so it was asked for on its own.
  EXPECT_EQ(stream["open_shards"].GetInt(), 2);
  EXPECT_EQ(stream["closed_shards"].GetInt(), 1);
  EXPECT_TRUE(stream["changes_per_second"].IsNull());  // not in the streams section
  ASSERT_EQ(stream["mappings"].Size(), 1u) << json;    // m-2 only: m-3 is on an older stream
  EXPECT_STREQ(stream["mappings"][0]["uuid"].GetString(), "m-2");
  EXPECT_STREQ(stream["mappings"][0]["function"].GetString(), "audit");
  EXPECT_STREQ(stream["mappings"][0]["state"].GetString(), "Disabled");
  std::vector<std::string> asked;
  for (const auto& r : streams_.Requests<v1::ListShardsRequest>("ListShards")) {
    asked.push_back(r.stream_name());
  }
  EXPECT_EQ(asked, (std::vector<std::string>{"orders", kTableStream}));
  EXPECT_EQ(doc["errors"].MemberCount(), 0u) << json;
}

TEST_F(OverviewTest, ATableStreamListedWithTheStreamsIsNotAskedForTwiceAndHasARate) {
  streams_.SetReply("ListStreams", Proto<v1::ListStreamsResponse>(absl::StrCat(
                                       "stream_summaries { stream_name: 'orders' stream_status: "
                                       "ACTIVE } stream_summaries { stream_name: '",
                                       kTableStream, "' stream_status: ACTIVE }")));
  table_in_ = 40;
  overview_->Json();
  clock_.Advance(absl::Seconds(4));
  table_in_ = 60;  // 5 changes/s
  rapidjson::Document doc = Parse(overview_->Json());
  const auto& stream = doc["tables"][0]["latest_stream"];
  EXPECT_EQ(stream["open_shards"].GetInt(), 2);
  EXPECT_DOUBLE_EQ(stream["changes_per_second"].GetDouble(), 5);
  EXPECT_EQ(streams_.Requests<v1::ListShardsRequest>("ListShards").size(), 4u);  // 2 per build
}

// A table's earlier streams (DISABLED, readable 24 h) come from ListTableStreams, oldest first,
// each with its shards and the mappings still on it; a deleted table's streams are listed under
// deleted_tables with the key schema the streams carry.
TEST_F(OverviewTest, OlderStreamsAndDeletedTablesStreamsAreShown) {
  constexpr char kOld[] = "_tables.1.20231114221310000";
  constexpr char kGoneTable[] = "_tables.2.20231114221300000";
  tables_.SetReply(
      "ListTableStreams",
      Proto<v1::ListTableStreamsResponse>(absl::StrCat(
          "streams { table_name: 'Audit' stream_label: '2023-11-14T22:13:00.000' stream_arn: "
          "'arn:aws:dynamodb:us-east-1:000000000000:table/Audit/stream/2023-11-14T22:13:00.000' "
          "stream_name: '",
          kGoneTable,
          "' enabled: false disabled_date_time { seconds: "
          "1700000100 } partition_key { attribute_name: 'pk' attribute_type: 'S' } } "
          "streams { table_name: 'Orders' stream_label: '2023-11-14T22:13:10.000' stream_arn: "
          "'arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/2023-11-14T22:13:10.000' "
          "stream_name: '",
          kOld,
          "' enabled: false disabled_date_time { seconds: 1700000000 } } "
          "streams { table_name: 'Orders' stream_label: '2023-11-14T22:13:20.000' stream_name: '",
          kTableStream, "' enabled: true }")));
  mappings_.SetReply("ListEventSourceMappings",
                     Proto<v1::ListEventSourceMappingsResponse>(
                         absl::StrCat("event_source_mappings { uuid: 'm-3' stream_name: '", kOld,
                                      "' function_name: 'old' state: ENABLED }")));
  const std::string json = overview_->Json();
  rapidjson::Document doc = Parse(json);
  EXPECT_EQ(doc["errors"].MemberCount(), 0u) << json;
  const auto& older = doc["tables"][0]["older_streams"];
  ASSERT_TRUE(older.IsArray()) << json;
  ASSERT_EQ(older.Size(), 1u) << "the latest stream is not an older one: " << json;
  EXPECT_STREQ(older[0]["label"].GetString(), "2023-11-14T22:13:10.000");
  EXPECT_STREQ(older[0]["store_stream"].GetString(), kOld);
  EXPECT_FALSE(older[0]["enabled"].GetBool());
  EXPECT_STREQ(older[0]["disabled_at"].GetString(), "2023-11-14T22:13:20Z");
  EXPECT_EQ(older[0]["open_shards"].GetInt(), 2);
  ASSERT_EQ(older[0]["mappings"].Size(), 1u) << json;
  EXPECT_STREQ(older[0]["mappings"][0]["uuid"].GetString(), "m-3");
  EXPECT_EQ(doc["tables"][0]["latest_stream"]["mappings"].Size(), 0u) << json;

  ASSERT_EQ(doc["deleted_tables"].Size(), 1u) << json;
  const auto& gone = doc["deleted_tables"][0];
  EXPECT_STREQ(gone["name"].GetString(), "Audit");
  EXPECT_STREQ(gone["partition_key"]["name"].GetString(), "pk");
  EXPECT_TRUE(gone["sort_key"].IsNull());
  ASSERT_EQ(gone["streams"].Size(), 1u) << json;
  EXPECT_STREQ(gone["streams"][0]["store_stream"].GetString(), kGoneTable);
  std::vector<std::string> asked;
  for (const auto& r : streams_.Requests<v1::ListShardsRequest>("ListShards")) {
    asked.push_back(r.stream_name());
  }
  EXPECT_EQ(asked, (std::vector<std::string>{"orders", kTableStream, kGoneTable, kOld}));
}

TEST_F(OverviewTest, ListTableStreamsIsPagedAndAFailureIsReported) {
  v1::ListTableStreamsResponse first = Proto<v1::ListTableStreamsResponse>(
      "streams { table_name: 'Orders' stream_label: 'a' stream_name: '_tables.1.a' } "
      "last_evaluated_stream_arn: 'arn-a'");
  v1::ListTableStreamsResponse second = Proto<v1::ListTableStreamsResponse>(
      "streams { table_name: 'Orders' stream_label: 'b' stream_name: '_tables.1.b' }");
  tables_.SetReplies("ListTableStreams", {&first, &second});
  rapidjson::Document doc = Parse(overview_->Json());
  EXPECT_EQ(doc["tables"][0]["older_streams"].Size(), 2u);
  const auto asked = tables_.Requests<v1::ListTableStreamsRequest>("ListTableStreams");
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[1].exclusive_start_stream_arn(), "arn-a");

  clock_.Advance(absl::Seconds(2));
  tables_.SetError("ListTableStreams", absl::UnavailableError("down"));
  const std::string json = overview_->Json();
  doc = Parse(json);
  EXPECT_STREQ(doc["errors"]["tables"].GetString(), "UNAVAILABLE: down") << json;
  EXPECT_EQ(doc["tables"].Size(), 1u) << "the tables stay: " << json;
}

TEST_F(OverviewTest, ATableWithoutAStreamHasNoLatestStream) {
  tables_.SetReply(
      "DescribeTable",
      Proto<v1::TableDescription>("table_name: 'Orders' table_status: TABLE_ACTIVE "
                                  "partition_key { attribute_name: 'id' attribute_type: 'S' } "
                                  "stream_specification { stream_enabled: false }"));
  rapidjson::Document doc = Parse(overview_->Json());
  const auto& table = doc["tables"][0];
  EXPECT_TRUE(table["sort_key"].IsNull());
  EXPECT_FALSE(table["stream_enabled"].GetBool());
  EXPECT_TRUE(table["stream_view_type"].IsNull());
  EXPECT_TRUE(table["latest_stream"].IsNull());
  EXPECT_TRUE(table["billing_mode"].IsNull());  // unspecified in the description
}

TEST_F(OverviewTest, AnExpiredStoreStreamHasNoShardCounts) {
  streams_.SetError("ListShards", absl::NotFoundError("no stream"));
  const std::string json = overview_->Json();
  rapidjson::Document doc = Parse(json);
  const auto& stream = doc["tables"][0]["latest_stream"];
  EXPECT_STREQ(stream["store_stream"].GetString(), kTableStream);
  EXPECT_TRUE(stream["open_shards"].IsNull()) << json;
  EXPECT_TRUE(stream["closed_shards"].IsNull()) << json;
  EXPECT_EQ(doc["errors"].MemberCount(), 0u) << json;
}

TEST_F(OverviewTest, AFailingTablesServiceIsReportedAndTheOtherSectionsStay) {
  tables_.SetError("DescribeTable", absl::UnavailableError("tables are down"));
  const std::string json = overview_->Json();
  rapidjson::Document doc = Parse(json);
  EXPECT_STREQ(doc["errors"]["tables"].GetString(), "UNAVAILABLE: tables are down") << json;
  ASSERT_TRUE(doc["tables"].IsArray()) << json;
  EXPECT_EQ(doc["tables"].Size(), 0u);
  EXPECT_EQ(doc["streams"].Size(), 1u);
  EXPECT_EQ(doc["mappings"].Size(), 1u);
}

TEST_F(OverviewTest, TablesBeyondMaxTablesAreCutAndSaidSo) {
  tables_.SetReply("ListTables",
                   Proto<v1::ListTablesResponse>("table_names: 'A' table_names: 'B'"));
  OverviewSources sources;
  sources.streams = server_->InProcessChannel();
  sources.mappings = server_->InProcessChannel();
  sources.leasing = server_->InProcessChannel();
  sources.tables = server_->InProcessChannel();
  OverviewOptions options;
  options.max_tables = 1;
  Overview overview(sources, options, clock_);
  rapidjson::Document doc = Parse(overview.Json());
  EXPECT_EQ(doc["tables"].Size(), 1u);
  EXPECT_TRUE(doc["tables_truncated"].GetBool());
  const auto described = tables_.Requests<v1::DescribeTableRequest>("DescribeTable");
  ASSERT_EQ(described.size(), 1u);
  EXPECT_EQ(described[0].table_name(), "A");
}

TEST_F(OverviewTest, WithoutATablesServiceTablesIsNullWithANote) {
  // A server that serves no Tables (UNIMPLEMENTED), and no channel at all.
  tribctl::testing::FakeLeasing other;
  auto no_tables = GrpcServer::Start("127.0.0.1:0", {&other});
  ASSERT_TRUE(no_tables.ok()) << no_tables.status();
  OverviewSources sources;
  sources.streams = server_->InProcessChannel();
  sources.mappings = server_->InProcessChannel();
  sources.leasing = server_->InProcessChannel();
  sources.tables = (*no_tables)->InProcessChannel();
  Overview unserved(sources, OverviewOptions(), clock_);
  std::string json = unserved.Json();
  rapidjson::Document doc = Parse(json);
  EXPECT_TRUE(doc["tables"].IsNull()) << json;
  EXPECT_TRUE(absl::StrContains(doc["tables_note"].GetString(), "does not serve")) << json;
  EXPECT_EQ(doc["errors"].MemberCount(), 0u) << json;

  sources.tables = nullptr;
  Overview without(sources, OverviewOptions(), clock_);
  json = without.Json();
  doc = Parse(json);
  EXPECT_TRUE(doc["tables"].IsNull()) << json;
  EXPECT_TRUE(absl::StrContains(doc["tables_note"].GetString(), "no tributary.v1.Tables")) << json;
  EXPECT_TRUE(doc["streams"][0]["records_in_per_second"].IsNull());  // no metrics text
  EXPECT_TRUE(doc["mappings"][0]["records_per_second"].IsNull());    // no poller
}

TEST(PrometheusSampleTest, FindsTheExactSeriesOnly) {
  const std::string text =
      "x_total{stream=\"a\"} 1\nx_total{stream=\"ab\"} 2\nyx_total{stream=\"a\"} 3\n";
  EXPECT_EQ(PrometheusSample(text, "x_total", "stream", "a"), 1);
  EXPECT_EQ(PrometheusSample(text, "x_total", "stream", "ab"), 2);
  EXPECT_EQ(PrometheusSample(text, "x_total", "stream", "b"), std::nullopt);
  EXPECT_EQ(PrometheusSample("yx_total{stream=\"a\"} 3\n", "x_total", "stream", "a"), std::nullopt);
}

// The routes: the page and the document; actions only with --console_actions and the header.
class ConsoleHandlerTest : public OverviewTest {
 protected:
  aws::HttpResponse Call(ConsoleHandler& handler, const std::string& method,
                         const std::string& target, bool with_header = true) {
    aws::HttpRequest request;
    request.method = method;
    request.target = target;
    if (with_header) request.headers.emplace_back("x-tributary-console", "1");
    return handler.Handle(request);
  }
  // An action POST with the console header, as the client certificate `subject`.
  aws::HttpResponse PostAs(ConsoleHandler& handler, const std::string& subject,
                           const std::string& target, const std::string& body = "") {
    aws::HttpRequest request;
    request.method = "POST";
    request.target = target;
    request.headers.emplace_back("x-tributary-console", "1");
    request.peer_subject = subject;
    request.body = body;
    return handler.Handle(request);
  }
  // A gate whose policy allows CN=operator `action` on `resource` only, auditing to
  // `dir`/audit.log.
  std::shared_ptr<GrpcAuthzGate> OperatorGate(const std::string& dir, const std::string& action,
                                              const std::string& resource) {
    std::ofstream(dir + "/policy.json")
        << R"({"Statement": [{"Effect": "Allow", "Principal": "CN=operator", "Action": ")"
        << action << R"(", "Resource": ")" << resource << R"("}]})";
    GrpcAuthzOptions options;
    options.policy_file = dir + "/policy.json";
    options.audit_log = dir + "/audit.log";
    absl::StatusOr<std::shared_ptr<GrpcAuthzGate>> gate =
        GrpcAuthzGate::Create(options, /*server_authenticates=*/true, clock_);
    EXPECT_TRUE(gate.ok()) << gate.status();
    return gate.ok() ? *gate : nullptr;
  }
  static std::string AuditLog(const std::string& dir) {
    std::stringstream audit;
    audit << std::ifstream(dir + "/audit.log").rdbuf();
    return audit.str();
  }
};

TEST_F(ConsoleHandlerTest, ServesThePageItsScriptAndTheDocument) {
  ConsoleHandler handler(*overview_, /*actions_enabled=*/false);
  aws::HttpResponse page = Call(handler, "GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_TRUE(absl::StrContains(page.body, "<script src=\"/console.js\"")) << page.body;
  EXPECT_EQ(Call(handler, "GET", "/console.js").status, 200);
  EXPECT_EQ(Call(handler, "GET", "/console.css").status, 200);
  aws::HttpResponse doc = Call(handler, "GET", "/api/overview?t=1");
  EXPECT_EQ(doc.status, 200);
  EXPECT_TRUE(absl::StrContains(doc.body, "\"mappings\":[")) << doc.body;
  EXPECT_EQ(Call(handler, "GET", "/nothing").status, 404);
  EXPECT_EQ(Call(handler, "POST", "/api/overview").status, 405);
}

TEST_F(ConsoleHandlerTest, ActionsAreRefusedWhenReadOnly) {
  ConsoleHandler handler(*overview_, /*actions_enabled=*/false);
  aws::HttpResponse r = Call(handler, "POST", "/api/mappings/m-1/disable");
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(absl::StrContains(r.body, "--console_actions")) << r.body;
  EXPECT_TRUE(
      mappings_.Requests<v1::UpdateEventSourceMappingRequest>("UpdateEventSourceMapping").empty());
}

TEST_F(ConsoleHandlerTest, DisableAndEnableUpdateTheMappingWithActionsOn) {
  ConsoleHandler handler(*overview_, /*actions_enabled=*/true);
  EXPECT_EQ(Call(handler, "POST", "/api/mappings/m-1/disable").status, 200);
  EXPECT_EQ(Call(handler, "POST", "/api/mappings/m-1/enable").status, 200);
  const auto updates =
      mappings_.Requests<v1::UpdateEventSourceMappingRequest>("UpdateEventSourceMapping");
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0].uuid(), "m-1");
  EXPECT_FALSE(updates[0].enabled());
  EXPECT_TRUE(updates[0].has_enabled());
  EXPECT_TRUE(updates[1].enabled());
}

TEST_F(ConsoleHandlerTest, ActionsNeedTheConsoleHeaderAndPost) {
  ConsoleHandler handler(*overview_, /*actions_enabled=*/true);
  EXPECT_EQ(Call(handler, "POST", "/api/mappings/m-1/disable", /*with_header=*/false).status, 403);
  EXPECT_EQ(Call(handler, "GET", "/api/mappings/m-1/disable").status, 405);
  EXPECT_EQ(Call(handler, "POST", "/api/mappings/m-1/rename").status, 404);
  EXPECT_EQ(Call(handler, "POST", "/api/mappings//disable").status, 400);
  EXPECT_TRUE(
      mappings_.Requests<v1::UpdateEventSourceMappingRequest>("UpdateEventSourceMapping").empty());
}

// With --policy_file an action is the operator's, not the process's: it is authorized as the
// client certificate's subject, as the gRPC call would be, and audited in that name.
TEST_F(ConsoleHandlerTest, WithAPolicyActionsAreAuthorizedAsTheCertificatesSubjectAndAudited) {
  const std::string dir = testing::NewTempDir("console_authz");
  std::shared_ptr<GrpcAuthzGate> gate = OperatorGate(
      dir, "lambda:UpdateEventSourceMapping", "arn:aws:lambda:*:*:event-source-mapping:m-1");
  ASSERT_NE(gate, nullptr);
  ConsoleHandler handler(*overview_, /*actions_enabled=*/true, gate.get());
  auto call_as = [&](const std::string& subject, const std::string& target) {
    return PostAs(handler, subject, target);
  };

  aws::HttpResponse denied = call_as("CN=intern", "/api/mappings/m-1/disable");
  EXPECT_EQ(denied.status, 403);
  EXPECT_TRUE(absl::StrContains(denied.body, "PERMISSION_DENIED")) << denied.body;
  EXPECT_TRUE(absl::StrContains(denied.body, "lambda:UpdateEventSourceMapping")) << denied.body;
  EXPECT_EQ(call_as("", "/api/mappings/m-1/disable").status, 403)
      << "no certificate is nobody in particular, not the process";
  EXPECT_EQ(call_as("CN=operator", "/api/mappings/m-2/disable").status, 403)
      << "the policy scopes the operator to m-1";
  EXPECT_TRUE(
      mappings_.Requests<v1::UpdateEventSourceMappingRequest>("UpdateEventSourceMapping").empty())
      << "a denied action reached the tracker";

  EXPECT_EQ(call_as("CN=operator", "/api/mappings/m-1/disable").status, 200);
  EXPECT_EQ(
      mappings_.Requests<v1::UpdateEventSourceMappingRequest>("UpdateEventSourceMapping").size(),
      1u);
  const std::string audit = AuditLog(dir);
  EXPECT_TRUE(absl::StrContains(
      audit, R"("principal":"CN=intern","action":"lambda:UpdateEventSourceMapping",)"
                   R"("resource":"arn:aws:lambda:us-east-1:000000000000:event-source-mapping:m-1",)"
                   R"("outcome":"PERMISSION_DENIED")"))
      << audit;
  EXPECT_TRUE(absl::StrContains(
      audit, R"("principal":"CN=operator","action":"lambda:UpdateEventSourceMapping",)"
                   R"("resource":"arn:aws:lambda:us-east-1:000000000000:event-source-mapping:m-1",)"
                   R"("outcome":"OK")"))
      << audit;
}

// Moving a checkpoint: the body's position becomes leasing's checkpoint as tribctl's flags do,
// the move is requested in the console's name and the answer says what moved.
TEST_F(ConsoleHandlerTest, ACheckpointMoveReachesTheTrackerWithThePositionAsked) {
  checkpoints_.SetReply(
      "UpdateShardCheckpoint",
      Proto<v1::UpdateShardCheckpointResponse>(
          "lease { lease_counter: 5 checkpoint { type: SEQUENCE_NUMBER sequence_number: '41' } } "
          "previous_checkpoint { type: SEQUENCE_NUMBER sequence_number: '49' } "
          "previous_lease_owner: 'host-a' previous_lease_counter: 3"));
  ConsoleHandler handler(*overview_, /*actions_enabled=*/true);
  auto move = [&](const std::string& body) {
    return PostAs(handler, "CN=operator",
                  "/api/mappings/m-1/shards/shardId-000000000001/checkpoint", body);
  };
  aws::HttpResponse r = move(R"({"position":"AT_SEQUENCE_NUMBER","sequence_number":"42"})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"ok":true,"previous_checkpoint":"49","checkpoint":"41",)"
                    R"("fenced_owner":"host-a","lease_counter":5})");
  EXPECT_EQ(move(R"({"position":"AFTER_SEQUENCE_NUMBER","sequence_number":"42"})").status, 200);
  EXPECT_EQ(move(R"({"position":"AT_SEQUENCE_NUMBER","sequence_number":"0"})").status, 200);
  EXPECT_EQ(move(R"({"position":"LATEST"})").status, 200);
  EXPECT_EQ(move(R"({"position":"AT_TIMESTAMP","timestamp":"2023-11-14T22:13:20Z"})").status, 200);
  const auto moves =
      checkpoints_.Requests<v1::UpdateShardCheckpointRequest>("UpdateShardCheckpoint");
  ASSERT_EQ(moves.size(), 5u);
  EXPECT_EQ(moves[0].lease_key().event_source_mapping_uuid(), "m-1");
  EXPECT_EQ(moves[0].lease_key().shard_id(), "shardId-000000000001");
  EXPECT_EQ(moves[0].checkpoint().type(), v1::SEQUENCE_NUMBER);
  EXPECT_EQ(moves[0].checkpoint().sequence_number(), "41") << "AT 42 is processed through 41";
  EXPECT_EQ(moves[0].requested_by(), "CN=operator (console)");
  EXPECT_EQ(moves[1].checkpoint().sequence_number(), "42");
  EXPECT_EQ(moves[2].checkpoint().type(), v1::TRIM_HORIZON_CHECKPOINT);
  EXPECT_EQ(moves[3].checkpoint().type(), v1::LATEST_CHECKPOINT);
  EXPECT_EQ(moves[4].checkpoint().type(), v1::AT_TIMESTAMP_CHECKPOINT);
  EXPECT_EQ(moves[4].checkpoint().timestamp().seconds(), 1700000000);
}

TEST_F(ConsoleHandlerTest, ABadCheckpointMoveIsRefusedBeforeTheTracker) {
  ConsoleHandler read_only(*overview_, /*actions_enabled=*/false);
  ConsoleHandler handler(*overview_, /*actions_enabled=*/true);
  const std::string target = "/api/mappings/m-1/shards/shardId-000000000001/checkpoint";
  auto move = [&](ConsoleHandler& h, const std::string& t, const std::string& body,
                  bool header = true) {
    aws::HttpRequest request;
    request.method = "POST";
    request.target = t;
    if (header) request.headers.emplace_back("x-tributary-console", "1");
    request.body = body;
    return h.Handle(request);
  };
  EXPECT_EQ(move(read_only, target, R"({"position":"LATEST"})").status, 403);
  EXPECT_EQ(move(handler, target, R"({"position":"LATEST"})", /*header=*/false).status, 403);
  for (const char* body :
       {"", "[]", R"({"position":"SHARD_BEGIN"})", R"({"position":"AT_SEQUENCE_NUMBER"})",
        R"({"position":"AFTER_SEQUENCE_NUMBER","sequence_number":"-1"})",
        R"({"position":"AT_TIMESTAMP","timestamp":"yesterday"})"}) {
    aws::HttpResponse r = move(handler, target, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_TRUE(absl::StrContains(r.body, "INVALID_ARGUMENT")) << r.body;
  }
  EXPECT_EQ(
      move(handler, "/api/mappings/m-1/shards//checkpoint", R"({"position":"LATEST"})").status,
      400);
  EXPECT_EQ(move(handler, "/api/mappings/m-1/checkpoint", R"({"position":"LATEST"})").status, 400);
  EXPECT_TRUE(
      checkpoints_.Requests<v1::UpdateShardCheckpointRequest>("UpdateShardCheckpoint").empty());

  checkpoints_.SetError("UpdateShardCheckpoint",
                        absl::InvalidArgumentError("SHARD_END cannot be set by hand"));
  aws::HttpResponse r = move(handler, target, R"({"position":"LATEST"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"INVALID_ARGUMENT: SHARD_END cannot be set by hand"})");
}

// Under a policy a checkpoint move is authorized as tributary:UpdateShardCheckpoint for the
// certificate's subject, like the gRPC call, and audited in that name.
TEST_F(ConsoleHandlerTest, WithAPolicyACheckpointMoveIsTheOperatorsToMake) {
  const std::string dir = testing::NewTempDir("console_move_authz");
  std::shared_ptr<GrpcAuthzGate> gate = OperatorGate(dir, "tributary:UpdateShardCheckpoint", "*");
  ASSERT_NE(gate, nullptr);
  ConsoleHandler handler(*overview_, /*actions_enabled=*/true, gate.get());
  auto move_as = [&](const std::string& subject) {
    return PostAs(handler, subject, "/api/mappings/m-1/shards/shardId-000000000001/checkpoint",
                  R"({"position":"TRIM_HORIZON"})");
  };
  aws::HttpResponse denied = move_as("CN=intern");
  EXPECT_EQ(denied.status, 403);
  EXPECT_TRUE(absl::StrContains(denied.body, "tributary:UpdateShardCheckpoint")) << denied.body;
  EXPECT_TRUE(
      checkpoints_.Requests<v1::UpdateShardCheckpointRequest>("UpdateShardCheckpoint").empty());
  EXPECT_EQ(move_as("CN=operator").status, 200);
  EXPECT_EQ(checkpoints_.Requests<v1::UpdateShardCheckpointRequest>("UpdateShardCheckpoint").size(),
            1u);
  const std::string audit = AuditLog(dir);
  EXPECT_TRUE(absl::StrContains(
      audit, R"("principal":"CN=intern","action":"tributary:UpdateShardCheckpoint",)"))
      << audit;
  EXPECT_TRUE(absl::StrContains(
      audit, R"("principal":"CN=operator","action":"tributary:UpdateShardCheckpoint",)"))
      << audit;
}

TEST_F(ConsoleHandlerTest, ATrackerErrorKeepsItsCode) {
  mappings_.SetError("UpdateEventSourceMapping", absl::NotFoundError("no mapping \"m-9\""));
  ConsoleHandler handler(*overview_, /*actions_enabled=*/true);
  aws::HttpResponse r = Call(handler, "POST", "/api/mappings/m-9/disable");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"NOT_FOUND: no mapping \"m-9\""})");
}

}  // namespace
}  // namespace tributary::console
