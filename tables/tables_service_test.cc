// tributary.v1.Tables end to end in process: the real TableStore in a shard store's database,
// the service on a real gRPC server, called through TablesClient.
#include "tables/tables_service.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/grpc_server.h"
#include "common/testing/test_util.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "shard_store/shard_store.h"
#include "tables/table_store.h"
#include "tables/tables_client.h"

namespace tributary::tables {
namespace {

using ::testing::HasSubstr;

class TablesServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shard_store::ShardStoreOptions options;
    options.data_dir = tributary::testing::NewTempDir("tables_service");
    options.extra_column_families = TableStore::ColumnFamilies();
    auto streams = shard_store::ShardStore::Create(options, clock_);
    ASSERT_TRUE(streams.ok()) << streams.status();
    streams_ = *std::move(streams);
    TableStoreOptions table_options;
    table_options.streams = streams_.get();
    auto store = TableStore::Create(streams_->db(), clock_, table_options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    service_ = std::make_unique<TablesService>(
        *store_, TablesServiceOptions{"eu-west-1", "123456789012"});
    auto server = GrpcServer::Start("127.0.0.1:0", {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<TablesClient>(server_->InProcessChannel());
  }

  v1::TableDescription CreateOrders(bool stream) {
    v1::CreateTableRequest r;
    r.set_table_name("orders");
    r.mutable_partition_key()->set_attribute_name("id");
    r.mutable_partition_key()->set_attribute_type("S");
    r.set_billing_mode(v1::BILLING_PAY_PER_REQUEST);
    if (stream) {
      r.mutable_stream_specification()->set_stream_enabled(true);
      r.mutable_stream_specification()->set_stream_view_type(v1::VIEW_NEW_AND_OLD_IMAGES);
    }
    auto d = client_->CreateTable(r);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : v1::TableDescription();
  }

  static v1::AttributeValue S(const std::string& s) {
    v1::AttributeValue v;
    v.set_s(s);
    return v;
  }
  static v1::AttributeValue N(const std::string& n) {
    v1::AttributeValue v;
    v.set_n(n);
    return v;
  }

  FakeClock clock_;
  std::unique_ptr<shard_store::ShardStore> streams_;
  std::unique_ptr<TableStore> store_;
  std::unique_ptr<TablesService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<TablesClient> client_;
};

TEST_F(TablesServiceTest, ATableWithAStreamIsDescribedWithItsArnsAndStreamName) {
  clock_.SetTime(absl::FromUnixMillis(1700000000123));
  v1::TableDescription d = CreateOrders(/*stream=*/true);
  EXPECT_EQ(d.table_status(), v1::TABLE_ACTIVE);
  EXPECT_EQ(d.table_arn(), "arn:aws:dynamodb:eu-west-1:123456789012:table/orders");
  EXPECT_EQ(d.latest_stream_label(), "2023-11-14T22:13:20.123");
  EXPECT_EQ(d.latest_stream_arn(),
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2023-11-14T22:13:20.123");
  EXPECT_EQ(d.latest_stream_name(), "_tables.1.20231114221320123");
  EXPECT_EQ(d.stream_specification().stream_view_type(), v1::VIEW_NEW_AND_OLD_IMAGES);
  v1::ListTablesRequest list;
  EXPECT_THAT(client_->ListTables(list)->table_names(), ::testing::ElementsAre("orders"));
}

TEST_F(TablesServiceTest, ItemsOfEveryTypeRoundTripAndNumbersComeBackCanonical) {
  CreateOrders(/*stream=*/false);
  v1::PutItemRequest put;
  put.set_table_name("orders");
  (*put.mutable_item())["id"] = S("a");
  (*put.mutable_item())["n"] = N("1.50");
  (*put.mutable_item())["b"].set_b(std::string("\0\xff", 2));
  (*put.mutable_item())["t"].set_bool_(true);
  (*put.mutable_item())["z"].set_null(true);
  (*(*put.mutable_item())["m"].mutable_m()->mutable_attributes())["x"] = S("y");
  *(*put.mutable_item())["l"].mutable_l()->add_values() = N("2");
  (*put.mutable_item())["ss"].mutable_ss()->add_values("s");
  (*put.mutable_item())["ns"].mutable_ns()->add_values("3.0");
  (*put.mutable_item())["bs"].mutable_bs()->add_values("q");
  ASSERT_TRUE(client_->PutItem(put).ok());
  v1::GetItemRequest get;
  get.set_table_name("orders");
  (*get.mutable_key())["id"] = S("a");
  auto got = client_->GetItem(get);
  ASSERT_TRUE(got.ok()) << got.status();
  v1::PutItemRequest expected = put;
  (*expected.mutable_item())["n"] = N("1.5");
  (*expected.mutable_item())["ns"].mutable_ns()->set_values(0, "3");
  v1::GetItemResponse want;
  *want.mutable_item() = expected.item();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*got, want))
      << got->DebugString();

  v1::DeleteItemRequest del;
  del.set_table_name("orders");
  (*del.mutable_key())["id"] = S("a");
  del.set_return_values(v1::RETURN_ALL_OLD);
  auto deleted = client_->DeleteItem(del);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->attributes().at("n").n(), "1.5");
  EXPECT_TRUE(client_->GetItem(get)->item().empty());
}

TEST_F(TablesServiceTest, BadInputIsInvalidArgumentAndMissingTablesNotFound) {
  CreateOrders(/*stream=*/false);
  v1::PutItemRequest put;
  put.set_table_name("orders");
  (*put.mutable_item())["id"] = S("a");
  (*put.mutable_item())["v"];  // no member set
  EXPECT_EQ(client_->PutItem(put).status().code(), absl::StatusCode::kInvalidArgument);
  (*put.mutable_item())["v"] = N("not a number");
  EXPECT_EQ(client_->PutItem(put).status().code(), absl::StatusCode::kInvalidArgument);
  put.set_table_name("absent");
  (*put.mutable_item())["v"] = N("1");
  EXPECT_EQ(client_->PutItem(put).status().code(), absl::StatusCode::kNotFound);
  v1::CreateTableRequest create;
  create.set_table_name("bad");
  create.mutable_partition_key()->set_attribute_name("id");
  create.mutable_partition_key()->set_attribute_type("X");
  create.set_billing_mode(v1::BILLING_PAY_PER_REQUEST);
  EXPECT_THAT(client_->CreateTable(create).status().message(), HasSubstr("attribute_type"));
  v1::DescribeTableStreamRequest neither;
  EXPECT_EQ(client_->DescribeTableStream(neither).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TablesServiceTest, StreamsAreListedAndDescribedByArnOrNameAcrossARollover) {
  clock_.SetTime(absl::FromUnixMillis(1700000000000));
  v1::TableDescription first = CreateOrders(/*stream=*/true);
  v1::UpdateTableRequest off;
  off.set_table_name("orders");
  off.mutable_stream_specification()->set_stream_enabled(false);
  auto updated = client_->UpdateTable(off);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_FALSE(updated->stream_specification().stream_enabled());
  EXPECT_EQ(updated->latest_stream_arn(), first.latest_stream_arn());
  clock_.Advance(absl::Seconds(1));
  v1::UpdateTableRequest on = off;
  on.mutable_stream_specification()->set_stream_enabled(true);
  on.mutable_stream_specification()->set_stream_view_type(v1::VIEW_KEYS_ONLY);
  auto second = client_->UpdateTable(on);
  ASSERT_TRUE(second.ok()) << second.status();

  v1::ListTableStreamsRequest list;
  list.set_limit(1);
  auto page = client_->ListTableStreams(list);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->streams_size(), 1);
  EXPECT_FALSE(page->streams(0).enabled());
  EXPECT_EQ(page->last_evaluated_stream_arn(), first.latest_stream_arn());
  list.set_exclusive_start_stream_arn(page->last_evaluated_stream_arn());
  page = client_->ListTableStreams(list);
  ASSERT_EQ(page->streams_size(), 1);
  EXPECT_EQ(page->streams(0).stream_arn(), second->latest_stream_arn());
  EXPECT_TRUE(page->streams(0).enabled());
  EXPECT_EQ(page->last_evaluated_stream_arn(), "");

  v1::DescribeTableStreamRequest by_name;
  by_name.set_stream_name(first.latest_stream_name());
  auto described = client_->DescribeTableStream(by_name);
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ(described->table_name(), "orders");
  EXPECT_EQ(described->stream_arn(), first.latest_stream_arn());
  EXPECT_EQ(described->disabled_date_time().seconds(), 1700000000);
  v1::DescribeTableStreamRequest by_arn;
  by_arn.set_stream_arn(second->latest_stream_arn());
  EXPECT_EQ(client_->DescribeTableStream(by_arn)->stream_view_type(), v1::VIEW_KEYS_ONLY);
  by_arn.set_stream_arn("arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/x");
  EXPECT_EQ(client_->DescribeTableStream(by_arn).status().code(),
            absl::StatusCode::kInvalidArgument);
}


// --- The rest of the item API (UpdateItem, conditions, Query, Scan, Batch*, Transact*) -------

class TablesItemApiTest : public TablesServiceTest {
 protected:
  // "events": partition key "pk" (S), sort key "sk" (N), no stream unless asked.
  void CreateEvents(bool stream = false) {
    v1::CreateTableRequest r;
    r.set_table_name("events");
    r.mutable_partition_key()->set_attribute_name("pk");
    r.mutable_partition_key()->set_attribute_type("S");
    r.mutable_sort_key()->set_attribute_name("sk");
    r.mutable_sort_key()->set_attribute_type("N");
    r.set_billing_mode(v1::BILLING_PAY_PER_REQUEST);
    if (stream) {
      r.mutable_stream_specification()->set_stream_enabled(true);
      r.mutable_stream_specification()->set_stream_view_type(v1::VIEW_NEW_AND_OLD_IMAGES);
    }
    ASSERT_TRUE(client_->CreateTable(r).ok());
  }

  void PutEvent(const std::string& pk, int sk, const std::string& kind) {
    v1::PutItemRequest put;
    put.set_table_name("events");
    (*put.mutable_item())["pk"] = S(pk);
    (*put.mutable_item())["sk"] = N(std::to_string(sk));
    (*put.mutable_item())["kind"] = S(kind);
    ASSERT_TRUE(client_->PutItem(put).ok());
  }

  std::optional<v1::GetItemResponse> Get(const std::string& table,
                                         std::map<std::string, v1::AttributeValue> key) {
    v1::GetItemRequest get;
    get.set_table_name(table);
    for (auto& [k, v] : key) (*get.mutable_key())[k] = v;
    auto r = client_->GetItem(get);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return std::nullopt;
    return *r;
  }

  static std::vector<std::string> SortKeys(const google::protobuf::RepeatedPtrField<v1::AttributeMap>& items) {
    std::vector<std::string> out;
    for (const v1::AttributeMap& m : items) out.push_back(m.attributes().at("sk").n());
    return out;
  }

  // The change records the stream of `table` holds, as a count over its shards.
  int ChangeRecords(const std::string& table) {
    v1::DescribeTableRequest d;
    d.set_table_name(table);
    auto description = client_->DescribeTable(d);
    EXPECT_TRUE(description.ok());
    int records = 0;
    v1::ListShardsRequest list;
    list.set_stream_name(description->latest_stream_name());
    auto shards = streams_->ListShards(list);
    EXPECT_TRUE(shards.ok()) << shards.status();
    if (!shards.ok()) return -1;
    for (const v1::Shard& shard : shards->shards()) {
      v1::GetShardIteratorRequest it;
      it.set_stream_name(description->latest_stream_name());
      it.set_shard_id(shard.shard_id());
      it.set_shard_iterator_type(v1::TRIM_HORIZON);
      auto iterator = streams_->GetShardIterator(it);
      EXPECT_TRUE(iterator.ok()) << iterator.status();
      v1::GetRecordsRequest get;
      get.set_shard_iterator(iterator->shard_iterator());
      v1::GetRecordsResponse got;
      EXPECT_TRUE(streams_->GetRecords(get, &got).ok());
      records += got.records_size();
    }
    return records;
  }
};

TEST_F(TablesItemApiTest, UpdateItemAppliesSetAndAddWithNamesAndValuesAndReturnsWhatIsAsked) {
  CreateOrders(/*stream=*/false);
  v1::UpdateItemRequest u;
  u.set_table_name("orders");
  (*u.mutable_key())["id"] = S("o1");
  u.set_update_expression("SET #s = :s ADD clicks :one");
  (*u.mutable_expression_attribute_names())["#s"] = "status";
  (*u.mutable_expression_attribute_values())[":s"] = S("placed");
  (*u.mutable_expression_attribute_values())[":one"] = N("1");
  u.set_return_values(v1::RETURN_ALL_NEW);
  auto created = client_->UpdateItem(u);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->attributes().at("id").s(), "o1");  // a missing item is made from its key
  EXPECT_EQ(created->attributes().at("status").s(), "placed");
  EXPECT_EQ(created->attributes().at("clicks").n(), "1");

  (*u.mutable_expression_attribute_values())[":s"] = S("shipped");
  u.set_return_values(v1::RETURN_UPDATED_OLD);
  auto updated = client_->UpdateItem(u);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->attributes().size(), 2u);  // only the paths the actions name
  EXPECT_EQ(updated->attributes().at("status").s(), "placed");
  EXPECT_EQ(updated->attributes().at("clicks").n(), "1");
  auto item = Get("orders", {{"id", S("o1")}});
  EXPECT_EQ(item->item().at("status").s(), "shipped");
  EXPECT_EQ(item->item().at("clicks").n(), "2");
}

TEST_F(TablesItemApiTest, AFailedConditionWritesNothingAndCarriesDynamoDbsErrorAndTheItem) {
  CreateOrders(/*stream=*/true);
  v1::PutItemRequest put;
  put.set_table_name("orders");
  (*put.mutable_item())["id"] = S("o1");
  (*put.mutable_item())["status"] = S("placed");
  put.set_condition_expression("attribute_not_exists(id)");
  ASSERT_TRUE(client_->PutItem(put).ok());
  EXPECT_EQ(ChangeRecords("orders"), 1);

  (*put.mutable_item())["status"] = S("overwritten");
  put.set_return_item_on_condition_check_failure(true);
  auto again = client_->PutItem(put);
  ASSERT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.status().message(), "The conditional request failed");
  std::optional<v1::TablesError> error = TablesErrorOf(again.status());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), "ConditionalCheckFailedException");
  EXPECT_EQ(error->item().at("status").s(), "placed");

  v1::DeleteItemRequest del;
  del.set_table_name("orders");
  (*del.mutable_key())["id"] = S("o1");
  del.set_condition_expression("#s = :s");
  (*del.mutable_expression_attribute_names())["#s"] = "status";
  (*del.mutable_expression_attribute_values())[":s"] = S("shipped");
  auto deleted = client_->DeleteItem(del);
  ASSERT_EQ(deleted.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(TablesErrorOf(deleted.status())->item().empty());  // not asked for

  v1::UpdateItemRequest u;
  u.set_table_name("orders");
  (*u.mutable_key())["id"] = S("o1");
  u.set_update_expression("SET #s = :s");
  u.set_condition_expression("#s = :old");
  (*u.mutable_expression_attribute_names())["#s"] = "status";
  (*u.mutable_expression_attribute_values())[":s"] = S("shipped");
  (*u.mutable_expression_attribute_values())[":old"] = S("cancelled");
  EXPECT_EQ(client_->UpdateItem(u).status().code(), absl::StatusCode::kFailedPrecondition);

  EXPECT_EQ(Get("orders", {{"id", S("o1")}})->item().at("status").s(), "placed");
  EXPECT_EQ(ChangeRecords("orders"), 1);  // none of the failed writes has a record
}

TEST_F(TablesItemApiTest, BadExpressionsAreValidationExceptionsWithDynamoDbsMessages) {
  CreateOrders(/*stream=*/false);
  v1::UpdateItemRequest u;
  u.set_table_name("orders");
  (*u.mutable_key())["id"] = S("o1");
  u.set_update_expression("SET status = :s");
  (*u.mutable_expression_attribute_values())[":s"] = S("x");
  auto reserved = client_->UpdateItem(u);
  ASSERT_EQ(reserved.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reserved.status().message(),
              HasSubstr("Attribute name is a reserved keyword; reserved keyword: status"));
  EXPECT_EQ(TablesErrorOf(reserved.status())->code(), "ValidationException");

  u.set_update_expression("SET done = :s");
  (*u.mutable_expression_attribute_names())["#unused"] = "x";
  EXPECT_THAT(client_->UpdateItem(u).status().message(),
              HasSubstr("Value provided in ExpressionAttributeNames unused in expressions: "
                        "keys: {#unused}"));

  v1::PutItemRequest put;
  put.set_table_name("orders");
  (*put.mutable_item())["id"] = S("o1");
  put.set_return_values(v1::RETURN_ALL_NEW);
  EXPECT_EQ(client_->PutItem(put).status().message(), "Return values set to invalid value");

  v1::GetItemRequest get;
  get.set_table_name("nope");
  (*get.mutable_key())["id"] = S("o1");
  EXPECT_EQ(TablesErrorOf(client_->GetItem(get).status())->code(), "ResourceNotFoundException");
}

TEST_F(TablesItemApiTest, QueryReadsOnePartitionInSortKeyOrderPageByPage) {
  CreateEvents();
  for (int sk = 1; sk <= 5; ++sk) PutEvent("a", sk, sk % 2 == 0 ? "even" : "odd");
  PutEvent("b", 1, "odd");
  v1::QueryRequest q;
  q.set_table_name("events");
  q.set_key_condition_expression("pk = :p AND sk >= :from");
  (*q.mutable_expression_attribute_values())[":p"] = S("a");
  (*q.mutable_expression_attribute_values())[":from"] = N("2");
  q.set_limit(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    auto r = client_->Query(q);
    ASSERT_TRUE(r.ok()) << r.status();
    for (const std::string& sk : SortKeys(r->items())) seen.push_back(sk);
    if (r->last_evaluated_key().empty()) break;
    *q.mutable_exclusive_start_key() = r->last_evaluated_key();
  }
  EXPECT_THAT(seen, ::testing::ElementsAre("2", "3", "4", "5"));

  // Backwards, filtered and projected; the filter counts after the limit's items are read.
  q.clear_exclusive_start_key();
  q.set_limit(0);
  q.set_scan_index_forward(false);
  q.set_filter_expression("kind = :k");
  q.set_projection_expression("sk");
  (*q.mutable_expression_attribute_values())[":k"] = S("even");
  auto filtered = client_->Query(q);
  ASSERT_TRUE(filtered.ok()) << filtered.status();
  EXPECT_THAT(SortKeys(filtered->items()), ::testing::ElementsAre("4", "2"));
  EXPECT_EQ(filtered->items(0).attributes().size(), 1u);
  EXPECT_EQ(filtered->count(), 2);
  EXPECT_EQ(filtered->scanned_count(), 4);

  q.clear_projection_expression();
  q.set_select(v1::SELECT_COUNT);
  auto counted = client_->Query(q);
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_TRUE(counted->items().empty());
  EXPECT_EQ(counted->count(), 2);

  v1::QueryRequest no_key;
  no_key.set_table_name("events");
  EXPECT_THAT(client_->Query(no_key).status().message(),
              HasSubstr("KeyConditionExpression parameter must be specified"));
  v1::QueryRequest on_key = q;
  on_key.set_select(v1::SELECT_UNSPECIFIED);
  on_key.set_filter_expression("sk = :k");
  EXPECT_EQ(client_->Query(on_key).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TablesItemApiTest, ScanPagesFiltersAndSplitsIntoSegments) {
  CreateEvents();
  for (int i = 0; i < 7; ++i) PutEvent(absl::StrCat("p", i), i, i < 3 ? "early" : "late");
  v1::ScanRequest s;
  s.set_table_name("events");
  s.set_limit(3);
  int items = 0, pages = 0;
  for (; pages < 10; ++pages) {
    auto r = client_->Scan(s);
    ASSERT_TRUE(r.ok()) << r.status();
    items += r->count();
    if (r->last_evaluated_key().empty()) break;
    *s.mutable_exclusive_start_key() = r->last_evaluated_key();
  }
  EXPECT_EQ(items, 7);
  EXPECT_EQ(pages, 2);  // 3 + 3 + 1

  v1::ScanRequest filtered;
  filtered.set_table_name("events");
  filtered.set_filter_expression("kind = :k");
  (*filtered.mutable_expression_attribute_values())[":k"] = S("late");
  EXPECT_EQ(client_->Scan(filtered)->count(), 4);

  int in_segments = 0;
  for (int segment = 0; segment < 3; ++segment) {
    v1::ScanRequest part;
    part.set_table_name("events");
    part.set_segment(segment);
    part.set_total_segments(3);
    auto r = client_->Scan(part);
    ASSERT_TRUE(r.ok()) << r.status();
    in_segments += r->count();
  }
  EXPECT_EQ(in_segments, 7);  // each item in exactly one segment

  v1::ScanRequest half;
  half.set_table_name("events");
  half.set_segment(0);
  EXPECT_THAT(client_->Scan(half).status().message(),
              HasSubstr("The TotalSegments parameter is required"));
}

TEST_F(TablesItemApiTest, BatchWriteAndBatchGetSpanTables) {
  CreateOrders(/*stream=*/false);
  CreateEvents();
  v1::BatchWriteItemRequest w;
  for (const char* id : {"o1", "o2"}) {
    auto* put = (*w.mutable_request_items())["orders"].add_requests()->mutable_put_request();
    (*put->mutable_item())["id"] = S(id);
  }
  auto* e = (*w.mutable_request_items())["events"].add_requests()->mutable_put_request();
  (*e->mutable_item())["pk"] = S("a");
  (*e->mutable_item())["sk"] = N("1");
  auto written = client_->BatchWriteItem(w);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_TRUE(written->unprocessed_items().empty());

  v1::BatchWriteItemRequest del;
  auto* d = (*del.mutable_request_items())["orders"].add_requests()->mutable_delete_request();
  (*d->mutable_key())["id"] = S("o2");
  ASSERT_TRUE(client_->BatchWriteItem(del).ok());

  v1::BatchGetItemRequest g;
  for (const char* id : {"o1", "o2"}) {
    (*(*g.mutable_request_items())["orders"].add_keys()->mutable_attributes())["id"] = S(id);
  }
  auto* ek = (*g.mutable_request_items())["events"].add_keys()->mutable_attributes();
  (*ek)["pk"] = S("a");
  (*ek)["sk"] = N("1");
  (*g.mutable_request_items())["events"].set_projection_expression("pk");
  auto got = client_->BatchGetItem(g);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->responses().at("orders").items_size(), 1);  // o2 was deleted
  EXPECT_EQ(got->responses().at("orders").items(0).attributes().at("id").s(), "o1");
  ASSERT_EQ(got->responses().at("events").items_size(), 1);
  EXPECT_EQ(got->responses().at("events").items(0).attributes().size(), 1u);  // projected
  EXPECT_TRUE(got->unprocessed_keys().empty());

  *(*g.mutable_request_items())["orders"].add_keys() = g.request_items().at("orders").keys(0);
  EXPECT_EQ(client_->BatchGetItem(g).status().message(),
            "Provided list of item keys contains duplicates");
  v1::BatchWriteItemRequest too_many;
  for (int i = 0; i < 26; ++i) {
    auto* put = (*too_many.mutable_request_items())["orders"].add_requests()->mutable_put_request();
    (*put->mutable_item())["id"] = S(absl::StrCat("x", i));
  }
  EXPECT_EQ(client_->BatchWriteItem(too_many).status().message(),
            "Too many items requested for the BatchWriteItem call");
}

TEST_F(TablesItemApiTest, ATransactionIsAllOrNothingWithOneReasonPerWrite) {
  CreateOrders(/*stream=*/true);
  v1::PutItemRequest seed;
  seed.set_table_name("orders");
  (*seed.mutable_item())["id"] = S("stock");
  (*seed.mutable_item())["count"] = N("1");
  ASSERT_TRUE(client_->PutItem(seed).ok());

  auto transaction = [&](const std::string& order) {
    v1::TransactWriteItemsRequest t;
    v1::UpdateItemRequest* take = t.add_transact_items()->mutable_update();
    take->set_table_name("orders");
    (*take->mutable_key())["id"] = S("stock");
    take->set_update_expression("SET #c = #c - :one");
    take->set_condition_expression("#c >= :one");
    (*take->mutable_expression_attribute_names())["#c"] = "count";
    (*take->mutable_expression_attribute_values())[":one"] = N("1");
    take->set_return_item_on_condition_check_failure(true);
    v1::PutItemRequest* put = t.add_transact_items()->mutable_put();
    put->set_table_name("orders");
    (*put->mutable_item())["id"] = S(order);
    return t;
  };
  ASSERT_TRUE(client_->TransactWriteItems(transaction("o1")).ok());
  EXPECT_EQ(ChangeRecords("orders"), 3);  // seed, stock and o1

  auto cancelled = client_->TransactWriteItems(transaction("o2"));
  ASSERT_EQ(cancelled.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(cancelled.status().message(),
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            "[ConditionalCheckFailed, None]");
  std::optional<v1::TablesError> error = TablesErrorOf(cancelled.status());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), "TransactionCanceledException");
  ASSERT_EQ(error->cancellation_reasons_size(), 2);
  EXPECT_EQ(error->cancellation_reasons(0).code(), "ConditionalCheckFailed");
  EXPECT_EQ(error->cancellation_reasons(0).item().at("count").n(), "0");
  EXPECT_EQ(error->cancellation_reasons(1).code(), "None");
  EXPECT_TRUE(Get("orders", {{"id", S("o2")}})->item().empty());
  EXPECT_EQ(ChangeRecords("orders"), 3);

  v1::TransactGetItemsRequest g;
  for (const char* id : {"stock", "o1", "o2"}) {
    v1::GetItemRequest* get = g.add_transact_items()->mutable_get();
    get->set_table_name("orders");
    (*get->mutable_key())["id"] = S(id);
  }
  auto got = client_->TransactGetItems(g);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->responses_size(), 3);
  EXPECT_EQ(got->responses(0).item().at("count").n(), "0");
  EXPECT_EQ(got->responses(1).item().at("id").s(), "o1");
  EXPECT_TRUE(got->responses(2).item().empty());
}

TEST_F(TablesItemApiTest, AClientRequestTokenWritesATransactionOnce) {
  CreateOrders(/*stream=*/false);
  v1::TransactWriteItemsRequest t;
  v1::UpdateItemRequest* add = t.add_transact_items()->mutable_update();
  add->set_table_name("orders");
  (*add->mutable_key())["id"] = S("counter");
  add->set_update_expression("ADD n :one");
  (*add->mutable_expression_attribute_values())[":one"] = N("1");
  t.set_client_request_token("token-1");
  ASSERT_TRUE(client_->TransactWriteItems(t).ok());
  ASSERT_TRUE(client_->TransactWriteItems(t).ok());  // replayed: not written again
  EXPECT_EQ(Get("orders", {{"id", S("counter")}})->item().at("n").n(), "1");

  (*add->mutable_expression_attribute_values())[":one"] = N("2");
  auto mismatch = client_->TransactWriteItems(t);
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TablesErrorOf(mismatch.status())->code(), "IdempotentParameterMismatchException");

  v1::TransactWriteItemsRequest with_return;
  v1::PutItemRequest* put = with_return.add_transact_items()->mutable_put();
  put->set_table_name("orders");
  (*put->mutable_item())["id"] = S("x");
  put->set_return_values(v1::RETURN_ALL_OLD);
  EXPECT_EQ(client_->TransactWriteItems(with_return).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TablesServiceTest, UpdateTableCreatesABackfilledGlobalIndexAndDeletesIt) {
  CreateOrders(/*stream=*/false);
  v1::PutItemRequest put;
  put.set_table_name("orders");
  (*put.mutable_item())["id"] = S("o1");
  (*put.mutable_item())["status"] = S("OPEN");
  ASSERT_TRUE(client_->PutItem(put).ok());
  v1::UpdateTableRequest create;
  create.set_table_name("orders");
  v1::GlobalSecondaryIndex* g = create.mutable_create_global_secondary_index();
  g->set_index_name("byStatus");
  g->mutable_partition_key()->set_attribute_name("status");
  g->mutable_partition_key()->set_attribute_type("S");
  g->set_projection_type("KEYS_ONLY");
  auto d = client_->UpdateTable(create);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->global_secondary_indexes_size(), 1);
  EXPECT_EQ(d->global_secondary_indexes(0).index_name(), "byStatus");
  EXPECT_EQ(d->global_secondary_indexes(0).index_status(), "ACTIVE");
  EXPECT_EQ(d->global_secondary_indexes(0).projection_type(), "KEYS_ONLY");
  ReadRequest query;  // the item written before the index is in it
  query.table = "orders";
  query.index = "byStatus";
  query.key_condition = KeyCondition();
  query.key_condition->partition_value = AttributeValue::S("OPEN");
  auto page = store_->Query(query);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->items.size(), 1u);
  g->set_projection_type("SOME");
  EXPECT_EQ(client_->UpdateTable(create).status().code(), absl::StatusCode::kInvalidArgument);
  v1::UpdateTableRequest drop;
  drop.set_table_name("orders");
  drop.set_delete_global_secondary_index("byStatus");
  d = client_->UpdateTable(drop);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->global_secondary_indexes_size(), 0);
  EXPECT_EQ(client_->UpdateTable(drop).status().code(), absl::StatusCode::kNotFound);
}


// --- ReturnConsumedCapacity (the AWS port's units, tables/capacity.h) ------------------------

class TablesCapacityTest : public TablesItemApiTest {
 protected:
  // "events" with a global index "byKind" (kind → pk, sk; ALL).
  void CreateEventsWithIndex() {
    CreateEvents();
    v1::UpdateTableRequest update;
    update.set_table_name("events");
    v1::GlobalSecondaryIndex& index = *update.mutable_create_global_secondary_index();
    index.set_index_name("byKind");
    index.mutable_partition_key()->set_attribute_name("kind");
    index.mutable_partition_key()->set_attribute_type("S");
    auto updated = client_->UpdateTable(update);
    ASSERT_TRUE(updated.ok()) << updated.status();
  }

  // An "events" item of about `bytes` bytes (a "filler" attribute).
  static v1::PutItemRequest PutOf(const std::string& pk, int sk, size_t bytes) {
    v1::PutItemRequest put;
    put.set_table_name("events");
    (*put.mutable_item())["pk"] = S(pk);
    (*put.mutable_item())["sk"] = N(std::to_string(sk));
    (*put.mutable_item())["kind"] = S("click");
    (*put.mutable_item())["filler"] = S(std::string(bytes, 'x'));
    return put;
  }
};

TEST_F(TablesCapacityTest, ItemWritesReportWriteUnitsPerKilobyteOfTheLargerItem) {
  CreateEvents();
  v1::PutItemRequest put = PutOf("a", 1, 1500);  // 2 KB
  auto none = client_->PutItem(put);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_consumed_capacity()) << "NONE (unset) reports nothing";

  put.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_TOTAL);
  (*put.mutable_item())["filler"] = S(std::string(100, 'y'));  // smaller than the item replaced
  auto replaced = client_->PutItem(put);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(replaced->consumed_capacity().table_name(), "events");
  EXPECT_EQ(replaced->consumed_capacity().capacity_units(), 2);
  EXPECT_EQ(replaced->consumed_capacity().write_capacity_units(), 2);
  EXPECT_EQ(replaced->consumed_capacity().read_capacity_units(), 0);
  EXPECT_FALSE(replaced->consumed_capacity().has_table()) << "TOTAL has no breakdown";

  v1::UpdateItemRequest update;
  update.set_table_name("events");
  (*update.mutable_key())["pk"] = S("a");
  (*update.mutable_key())["sk"] = N("1");
  update.set_update_expression("SET filler = :p");
  (*update.mutable_expression_attribute_values())[":p"] = S(std::string(3000, 'z'));
  update.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_TOTAL);
  auto updated = client_->UpdateItem(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->consumed_capacity().write_capacity_units(), 3);

  v1::DeleteItemRequest del;
  del.set_table_name("events");
  *del.mutable_key() = update.key();
  del.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_TOTAL);
  auto deleted = client_->DeleteItem(del);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->consumed_capacity().write_capacity_units(), 3);
  auto missing = client_->DeleteItem(del);
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->consumed_capacity().write_capacity_units(), 1) << "a missing item: 1";
}

TEST_F(TablesCapacityTest, ReadsReportHalfAUnitPer4KbEventuallyConsistentAndOneConsistent) {
  CreateEvents();
  ASSERT_TRUE(client_->PutItem(PutOf("a", 1, 5000)).ok());  // 2 read units' worth
  v1::GetItemRequest get;
  get.set_table_name("events");
  (*get.mutable_key())["pk"] = S("a");
  (*get.mutable_key())["sk"] = N("1");
  get.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_TOTAL);
  EXPECT_EQ(client_->GetItem(get)->consumed_capacity().read_capacity_units(), 1);
  get.set_consistent_read(true);
  EXPECT_EQ(client_->GetItem(get)->consumed_capacity().read_capacity_units(), 2);

  ASSERT_TRUE(client_->PutItem(PutOf("a", 2, 5000)).ok());
  v1::QueryRequest query;
  query.set_table_name("events");
  query.set_key_condition_expression("pk = :p");
  (*query.mutable_expression_attribute_values())[":p"] = S("a");
  query.set_consistent_read(true);
  query.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_TOTAL);
  auto page = client_->Query(query);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->consumed_capacity().read_capacity_units(), 3) << "~10 KB rounded once";

  v1::TransactGetItemsRequest tget;
  *tget.add_transact_items()->mutable_get() = get;
  tget.mutable_transact_items(0)->mutable_get()->clear_return_consumed_capacity();
  tget.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_TOTAL);
  auto transactional = client_->TransactGetItems(tget);
  ASSERT_TRUE(transactional.ok()) << transactional.status();
  ASSERT_EQ(transactional->consumed_capacity_size(), 1);
  EXPECT_EQ(transactional->consumed_capacity(0).read_capacity_units(), 4) << "2 per 4 KB";

  v1::BatchGetItemRequest batch;
  v1::KeysAndAttributes& keys = (*batch.mutable_request_items())["events"];
  *keys.add_keys()->mutable_attributes() = get.key();
  (*keys.add_keys()->mutable_attributes())["pk"] = S("missing");
  (*keys.mutable_keys(1)->mutable_attributes())["sk"] = N("1");
  batch.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_TOTAL);
  auto batched = client_->BatchGetItem(batch);
  ASSERT_TRUE(batched.ok()) << batched.status();
  ASSERT_EQ(batched->consumed_capacity_size(), 1);
  EXPECT_EQ(batched->consumed_capacity(0).read_capacity_units(), 1.5) << "1 + the minimum 0.5";
}

TEST_F(TablesCapacityTest, IndexesReportTheTableAndEachIndexApart) {
  CreateEventsWithIndex();
  v1::PutItemRequest put = PutOf("a", 1, 100);
  put.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_INDEXES);
  auto written = client_->PutItem(put);
  ASSERT_TRUE(written.ok()) << written.status();
  const v1::ConsumedCapacity& c = written->consumed_capacity();
  EXPECT_EQ(c.capacity_units(), 2);
  EXPECT_EQ(c.table().write_capacity_units(), 1);
  ASSERT_EQ(c.global_secondary_indexes().count("byKind"), 1u);
  EXPECT_EQ(c.global_secondary_indexes().at("byKind").write_capacity_units(), 1);
  EXPECT_TRUE(c.local_secondary_indexes().empty());

  v1::QueryRequest query;
  query.set_table_name("events");
  query.set_index_name("byKind");
  query.set_key_condition_expression("kind = :k");
  (*query.mutable_expression_attribute_values())[":k"] = S("click");
  query.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_INDEXES);
  auto page = client_->Query(query);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->consumed_capacity().global_secondary_indexes().at("byKind").read_capacity_units(),
            0.5);
  EXPECT_EQ(page->consumed_capacity().table().read_capacity_units(), 0);
}

TEST_F(TablesCapacityTest, BatchesAndTransactionsReportOnePerTableAndTransactionsTwice) {
  CreateEvents();
  v1::BatchWriteItemRequest batch;
  for (int sk : {1, 2}) {
    *(*batch.mutable_request_items())["events"].add_requests()->mutable_put_request()->mutable_item() =
        PutOf("a", sk, 100).item();
  }
  batch.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_TOTAL);
  auto batched = client_->BatchWriteItem(batch);
  ASSERT_TRUE(batched.ok()) << batched.status();
  ASSERT_EQ(batched->consumed_capacity_size(), 1);
  EXPECT_EQ(batched->consumed_capacity(0).table_name(), "events");
  EXPECT_EQ(batched->consumed_capacity(0).write_capacity_units(), 2);

  v1::TransactWriteItemsRequest transaction;
  *transaction.add_transact_items()->mutable_put() = PutOf("b", 1, 1500);
  transaction.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_TOTAL);
  transaction.set_client_request_token("t-1");
  auto committed = client_->TransactWriteItems(transaction);
  ASSERT_TRUE(committed.ok()) << committed.status();
  ASSERT_EQ(committed->consumed_capacity_size(), 1);
  EXPECT_EQ(committed->consumed_capacity(0).write_capacity_units(), 4) << "2 per KB";
  // The same request again (also without asking for the units) is a replay: nothing written.
  auto replayed = client_->TransactWriteItems(transaction);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(replayed->consumed_capacity_size(), 0);
  transaction.clear_return_consumed_capacity();
  EXPECT_TRUE(client_->TransactWriteItems(transaction).ok()) << "the same request";
}

TEST_F(TablesCapacityTest, AnUnknownModeOrOneOnATransactionsWriteIsInvalid) {
  CreateEvents();
  v1::PutItemRequest put = PutOf("a", 1, 10);
  put.set_return_consumed_capacity(static_cast<v1::ReturnConsumedCapacity>(7));
  EXPECT_EQ(client_->PutItem(put).status().code(), absl::StatusCode::kInvalidArgument);
  put.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_TOTAL);
  v1::TransactWriteItemsRequest transaction;
  *transaction.add_transact_items()->mutable_put() = put;
  auto refused = client_->TransactWriteItems(transaction);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("return_consumed_capacity"));
  EXPECT_FALSE(Get("events", {{"pk", S("a")}, {"sk", N("1")}})->item().size() > 0);
}

}  // namespace
}  // namespace tributary::tables
