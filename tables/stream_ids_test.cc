#include "tables/stream_ids.h"

#include "gtest/gtest.h"

namespace tributary::tables {
namespace {

TEST(StreamIdsTest, TableStreamNamesCarryTheTableIdAndTheLabelDigits) {
  EXPECT_EQ(TableStreamName(7, "2023-11-14T22:13:20.123"), "_tables.7.20231114221320123");
  EXPECT_EQ(TableIdOfStreamName("_tables.7.20231114221320123"), 7u);
  EXPECT_TRUE(IsTableStreamName("_tables.7.1"));
  EXPECT_FALSE(IsTableStreamName("orders"));
  EXPECT_EQ(TableIdOfStreamName("orders"), std::nullopt);
  EXPECT_EQ(TableIdOfStreamName("_tables.x.1"), std::nullopt);
}

TEST(StreamIdsTest, ShardIdsHaveDynamoDbsLengthAndRoundTrip) {
  const std::string id = EdgeShardId(3, 42);
  EXPECT_EQ(id, "shardId-00000000000000000003-0000002a");
  EXPECT_EQ(id.size(), 37u);
  EXPECT_EQ(StoreShardIndex(id), 3u);
  EXPECT_EQ(StoreShardIndex("shardId-000000000003"), std::nullopt);
  EXPECT_EQ(StoreShardIndex("shardId-0000000000000000000x-0000002a"), std::nullopt);
  EXPECT_EQ(IndexOfStoreShardId("shardId-000000000003"), 3u);
  EXPECT_EQ(IndexOfStoreShardId("shard-3"), std::nullopt);
}

TEST(StreamIdsTest, SequenceNumbersHave21DigitsKeepTheirOrderAndRoundTrip) {
  EXPECT_EQ(EdgeSequenceNumber("42"), "100000000000000000042");
  EXPECT_LT(EdgeSequenceNumber("9"), EdgeSequenceNumber("10"));
  EXPECT_EQ(StoreSequenceNumber("100000000000000000042"), "42");
  EXPECT_EQ(StoreSequenceNumber("42"), std::nullopt);
  EXPECT_EQ(StoreSequenceNumber("200000000000000000042"), std::nullopt);
  EXPECT_EQ(StoreSequenceNumber("199999999999999999999"), std::nullopt);  // > 2^64-1
}

TEST(StreamIdsTest, EventIdsAre32HexDigitsUniquePerRecord) {
  EXPECT_EQ(EventId(42, 3, "255"), "0000002a0000000300000000000000ff");
  EXPECT_NE(EventId(42, 3, "255"), EventId(42, 4, "255"));
}

TEST(StreamIdsTest, StreamArnsNameTableAndLabelOfThisRegionAndAccount) {
  const std::string arn = TableStreamArn("eu-west-1", "123456789012", "orders",
                                         "2023-11-14T22:13:20.123");
  EXPECT_EQ(arn,
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2023-11-14T22:13:20.123");
  auto parts = ParseTableStreamArn("eu-west-1", "123456789012", arn);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->first, "orders");
  EXPECT_EQ(parts->second, "2023-11-14T22:13:20.123");
  EXPECT_EQ(ParseTableStreamArn("us-east-1", "123456789012", arn), std::nullopt);
  EXPECT_EQ(ParseTableStreamArn("eu-west-1", "123456789012",
                                TableArn("eu-west-1", "123456789012", "orders")),
            std::nullopt);
  EXPECT_EQ(ParseTableStreamArn("eu-west-1", "123456789012",
                                "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"),
            std::nullopt);
}

}  // namespace
}  // namespace tributary::tables
