// tributary.v1.Tables end to end in process: the real TableStore in a shard store's database,
// the service on a real gRPC server, called through TablesClient.
#include "tables/tables_service.h"

#include <memory>
#include <string>

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

}  // namespace
}  // namespace tributary::tables
