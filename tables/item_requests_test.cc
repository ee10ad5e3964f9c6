// The item API's request rules shared by the DynamoDB API and tributary.v1.Tables.
#include "tables/item_requests.h"

#include <map>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tributary::tables {
namespace {

using ::testing::HasSubstr;

TEST(ItemRequestsTest, ExpressionsAreParsedTogetherWithDynamoDbsMessages) {
  ExpressionTexts texts;
  texts.condition = "attribute_exists(#k)";
  texts.update = "SET #s = :s";
  texts.names = std::map<std::string, std::string>{{"#k", "id"}, {"#s", "state"}};
  texts.values = std::map<std::string, AttributeValue>{{":s", AttributeValue::S("x")}};
  absl::StatusOr<RequestExpressions> e = ParseRequestExpressions(texts, nullptr);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->condition.has_value());
  ASSERT_TRUE(e->update.has_value());
  EXPECT_EQ(e->update->actions.size(), 1u);

  ExpressionTexts unused = texts;
  (*unused.values)[":extra"] = AttributeValue::N("1");
  EXPECT_THAT(ParseRequestExpressions(unused, nullptr).status().message(),
              HasSubstr("Value provided in ExpressionAttributeValues unused in expressions: "
                        "keys: {:extra}"));

  ExpressionTexts no_expression;
  no_expression.names = std::map<std::string, std::string>{{"#k", "id"}};
  EXPECT_EQ(ParseRequestExpressions(no_expression, nullptr).status().message(),
            "ExpressionAttributeNames can only be specified when using expressions");

  ExpressionTexts empty_set = texts;
  (*empty_set.values)[":s"] = AttributeValue::SS({});
  EXPECT_THAT(ParseRequestExpressions(empty_set, nullptr).status().message(),
              HasSubstr("ExpressionAttributeValues contains invalid value: "));
}

TEST(ItemRequestsTest, ReadsPlanIndexAndSelectAsDynamoDb) {
  TableSpec table;
  table.key_schema.partition_key = {"pk", AttributeValue::Type::kS};
  IndexSpec global;
  global.name = "by_kind";
  global.kind = IndexKind::kGlobal;
  global.key_schema.partition_key = {"kind", AttributeValue::Type::kS};
  global.projection = ProjectionType::kKeysOnly;
  table.indexes.push_back(global);

  EXPECT_EQ(*FindReadIndex(table, std::nullopt, false), nullptr);
  EXPECT_EQ(FindReadIndex(table, std::string("nope"), false).status().message(),
            "The table does not have the specified index: nope");
  EXPECT_EQ(FindReadIndex(table, std::string("by_kind"), true).status().message(),
            "Consistent reads are not supported on global secondary indexes");

  ReadRequest request;
  EXPECT_EQ(*PlanRead(table, nullptr, std::nullopt, std::nullopt, true, &request),
            SelectMode::kAllAttributes);
  EXPECT_THAT(PlanRead(table, nullptr, SelectMode::kAllProjectedAttributes, std::nullopt, true,
                       &request)
                  .status()
                  .message(),
              HasSubstr("ALL_PROJECTED_ATTRIBUTES can be used only when Querying"));
  const IndexSpec* index = *FindReadIndex(table, std::string("by_kind"), false);
  EXPECT_EQ(*PlanRead(table, index, std::nullopt, std::nullopt, false, &request),
            SelectMode::kAllProjectedAttributes);
  EXPECT_EQ(request.index, "by_kind");
  EXPECT_THAT(PlanRead(table, index, SelectMode::kAllAttributes, std::nullopt, false, &request)
                  .status()
                  .message(),
              HasSubstr("Select type ALL_ATTRIBUTES is not supported for global secondary "
                        "index by_kind"));
}

TEST(ItemRequestsTest, UpdateReturnValuesProjectTheUpdatedPaths) {
  ExpressionAttributes attributes({}, {{":one", AttributeValue::N("1")}});
  const UpdateExpression update = *ParseUpdateExpression("ADD n :one", attributes);
  WriteOutcome outcome;
  outcome.old_item = AttributeMap{{"id", AttributeValue::S("a")}, {"n", AttributeValue::N("1")}};
  outcome.new_item = AttributeMap{{"id", AttributeValue::S("a")}, {"n", AttributeValue::N("2")}};
  EXPECT_FALSE(UpdateReturnValues(ReturnValues::kNone, outcome, update).has_value());
  EXPECT_EQ(UpdateReturnValues(ReturnValues::kAllNew, outcome, update)->size(), 2u);
  std::optional<AttributeMap> updated =
      UpdateReturnValues(ReturnValues::kUpdatedOld, outcome, update);
  ASSERT_TRUE(updated.has_value());
  ASSERT_EQ(updated->size(), 1u);
  EXPECT_EQ((*updated)[0].second.scalar(), "1");
}

}  // namespace
}  // namespace tributary::tables
