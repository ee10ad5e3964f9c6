#include "tables/expression.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tables/reserved_words.h"

namespace tributary::tables {
namespace {

using ::testing::HasSubstr;
using V = AttributeValue;

class ExpressionTest : public ::testing::Test {
 protected:
  ExpressionAttributes Attributes() {
    return ExpressionAttributes({{"#s", "status"}, {"#n", "name"}},
                                {{":v", V::N("1")},
                                 {":w", V::N("2")},
                                 {":s", V::S("x")},
                                 {":l", V::L({V::N("1")})},
                                 {":ss", V::SS({"a"})},
                                 {":t", V::S("SS")},
                                 {":bad_type", V::S("STRING")}});
  }
  // The message of parsing `text` as a ConditionExpression ("" when it parses).
  std::string ConditionError(const std::string& text) {
    ExpressionAttributes a = Attributes();
    absl::StatusOr<ConditionNode> c = ParseConditionExpression(text, "ConditionExpression", a);
    return c.ok() ? "" : std::string(c.status().message());
  }
  std::string UpdateError(const std::string& text) {
    ExpressionAttributes a = Attributes();
    absl::StatusOr<UpdateExpression> u = ParseUpdateExpression(text, a);
    return u.ok() ? "" : std::string(u.status().message());
  }
};

TEST_F(ExpressionTest, DocumentPathsResolvePlaceholdersAndIndexes) {
  ExpressionAttributes a = Attributes();
  absl::StatusOr<Projection> p = ParseProjectionExpression(" a.#s[2] . c , #n ", a);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->paths.size(), 2u);
  EXPECT_EQ(p->paths[0].ToString(), "[a, status, [2], c]");
  EXPECT_EQ(p->paths[1].ToString(), "[name]");
  const AttributeMap item = {
      {"a", V::M({{"status", V::L({V::N("0"), V::N("1"), V::M({{"c", V::S("found")}})})}})}};
  ASSERT_NE(FindPath(item, p->paths[0]), nullptr);
  EXPECT_EQ(*FindPath(item, p->paths[0]), V::S("found"));
  EXPECT_EQ(FindPath(item, p->paths[1]), nullptr);
}

TEST_F(ExpressionTest, ConditionsParseIntoTreesByPrecedence) {
  ExpressionAttributes a = Attributes();
  absl::StatusOr<ConditionNode> c =
      ParseConditionExpression("a = :v OR NOT b < :w AND c IN (:v, :w)", "ConditionExpression", a);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->kind, ConditionNode::Kind::kOr);
  EXPECT_EQ(c->children[0].kind, ConditionNode::Kind::kCompare);
  const ConditionNode& both = c->children[1];
  ASSERT_EQ(both.kind, ConditionNode::Kind::kAnd);
  EXPECT_EQ(both.children[0].kind, ConditionNode::Kind::kNot);
  EXPECT_EQ(both.children[1].kind, ConditionNode::Kind::kIn);
  EXPECT_EQ(both.children[1].operands.size(), 3u);
}

TEST_F(ExpressionTest, SyntaxErrorsNameTheTokenAndWhereItIs) {
  EXPECT_EQ(ConditionError("a = "),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"= \"");
  EXPECT_EQ(ConditionError("a & :v"),
            "Invalid ConditionExpression: Syntax error; token: \"&\", near: \"a & :v\"");
  EXPECT_EQ(ConditionError(""), "Invalid ConditionExpression: The expression can not be empty;");
  EXPECT_THAT(ConditionError("a"), HasSubstr("Syntax error; token: \"<EOF>\""));
  EXPECT_THAT(ConditionError("a = :v AND"), HasSubstr("Syntax error"));
  EXPECT_THAT(ConditionError("(a = :v"), HasSubstr("Syntax error"));
  EXPECT_THAT(ConditionError("a[x] = :v"), HasSubstr("Syntax error"));
  EXPECT_THAT(ConditionError(std::string(5000, 'a')),
              HasSubstr("Expression size has exceeded the maximum allowed size"));
}

TEST_F(ExpressionTest, NamesAndValuesMustBeDefinedAndNamesNotReserved) {
  EXPECT_EQ(ConditionError("status = :v"),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: status");
  EXPECT_EQ(ConditionError("#x = :v"),
            "Invalid ConditionExpression: An expression attribute name used in the document "
            "path is not defined; attribute name: #x");
  EXPECT_EQ(ConditionError("a = :nope"),
            "Invalid ConditionExpression: An expression attribute value used in expression is "
            "not defined; attribute value: :nope");
  EXPECT_EQ(ConditionError("#s = :v"), "");
  EXPECT_TRUE(IsReservedWord("Data"));
  EXPECT_FALSE(IsReservedWord("id"));
}

TEST_F(ExpressionTest, FunctionsAreCheckedForNameArityAndOperands) {
  EXPECT_EQ(ConditionError("exists(a)"),
            "Invalid ConditionExpression: Invalid function name; function: exists");
  EXPECT_THAT(ConditionError("attribute_exists(a, b)"),
              HasSubstr("Incorrect number of operands for operator or function; operator or "
                        "function: attribute_exists, number of operands: 2"));
  EXPECT_THAT(ConditionError("attribute_exists(:v)"),
              HasSubstr("Operator or function requires a document path; operator or function: "
                        "attribute_exists"));
  EXPECT_THAT(ConditionError("begins_with(a, :v)"),
              HasSubstr("Incorrect operand type for operator or function; operator or function: "
                        "begins_with, operand type: N"));
  EXPECT_THAT(ConditionError("attribute_type(a, :bad_type)"),
              HasSubstr("Invalid attribute type name found; type: STRING"));
  EXPECT_EQ(ConditionError("attribute_type(a, :t)"), "");
  EXPECT_THAT(ConditionError("attribute_exists(a) = :v"),
              HasSubstr("The function is not allowed to be used this way in an expression; "
                        "function: attribute_exists"));
  EXPECT_THAT(ConditionError("size(a)"), HasSubstr("Syntax error"));
  EXPECT_EQ(ConditionError("size(a) > :v"), "");
  EXPECT_THAT(ConditionError("a = a"),
              HasSubstr("The first operand must be distinct from the remaining operands for "
                        "this operator or function; operator: =, first operand: [a]"));
}

TEST_F(ExpressionTest, BetweenBoundsMustBeOrderedAndOfOneType) {
  EXPECT_THAT(ConditionError("a BETWEEN :w AND :v"),
              HasSubstr("The BETWEEN operator requires upper bound to be greater than or equal "
                        "to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound "
                        "operand: AttributeValue: {N:1}"));
  EXPECT_THAT(ConditionError("a BETWEEN :v AND :s"),
              HasSubstr("requires same data type for lower and upper bounds"));
  EXPECT_EQ(ConditionError("a BETWEEN :v AND :w"), "");
}

TEST_F(ExpressionTest, RedundantParenthesesAreRejected) {
  EXPECT_EQ(ConditionError("((a = :v))"),
            "Invalid ConditionExpression: The expression has redundant parentheses;");
  EXPECT_EQ(ConditionError("(a = :v) AND (b = :w)"), "");
  EXPECT_EQ(ConditionError("((a = :v) AND b = :w)"), "");
}

TEST_F(ExpressionTest, UpdateExpressionsParseEverySection) {
  ExpressionAttributes a = Attributes();
  absl::StatusOr<UpdateExpression> u = ParseUpdateExpression(
      "set a = :v, b = b + :w, c = if_not_exists(c, :v), d = list_append(d, :l) "
      "REMOVE e, f[1] ADD g :v DELETE h :ss",
      a);
  ASSERT_TRUE(u.ok()) << u.status();
  ASSERT_EQ(u->actions.size(), 8u);
  using K = UpdateAction::Kind;
  EXPECT_EQ(u->actions[1].value.kind, Operand::Kind::kPlus);
  EXPECT_EQ(u->actions[2].value.kind, Operand::Kind::kIfNotExists);
  EXPECT_EQ(u->actions[2].value.path.ToString(), "[c]");
  EXPECT_EQ(u->actions[3].value.kind, Operand::Kind::kListAppend);
  EXPECT_EQ(u->actions[5].kind, K::kRemove);
  EXPECT_EQ(u->actions[5].path.ToString(), "[f, [1]]");
  EXPECT_EQ(u->actions[6].kind, K::kAdd);
  EXPECT_EQ(u->actions[7].kind, K::kDelete);
}

TEST_F(ExpressionTest, UpdateExpressionsRejectWhatDynamoDbRejects) {
  EXPECT_EQ(UpdateError("SET a = :v SET b = :v"),
            "Invalid UpdateExpression: The \"SET\" section can only be used once in an update "
            "expression;");
  EXPECT_EQ(UpdateError("SET a = :v, a.b = :w"),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove "
            "or rewrite one of these paths; path one: [a], path two: [a, b]");
  EXPECT_THAT(UpdateError("SET a[1] = :v REMOVE a.b"),
              HasSubstr("Two document paths conflict with each other"));
  EXPECT_THAT(UpdateError("ADD a :s"),
              HasSubstr("Incorrect operand type for operator or function; operator: ADD, "
                        "operand type: STRING"));
  EXPECT_THAT(UpdateError("DELETE a :v"), HasSubstr("operator: DELETE, operand type: NUMBER"));
  EXPECT_THAT(UpdateError("SET a = :s + :v"),
              HasSubstr("Incorrect operand type for operator or function; operator or "
                        "function: +, operand type: S"));
  EXPECT_THAT(UpdateError("SET a = list_append(:v, b)"),
              HasSubstr("operator or function: list_append, operand type: N"));
  EXPECT_THAT(UpdateError("SET a = if_not_exists(:v, :w)"),
              HasSubstr("Operator or function requires a document path"));
  EXPECT_THAT(UpdateError("SET a = size(b)"), HasSubstr("Invalid function name; function: size"));
  EXPECT_THAT(UpdateError("SET a"), HasSubstr("Syntax error; token: \"<EOF>\""));
  EXPECT_THAT(UpdateError("PUT a = :v"), HasSubstr("Syntax error; token: \"PUT\""));
  EXPECT_THAT(UpdateError("ADD a b"), HasSubstr("Syntax error"));
}

TEST_F(ExpressionTest, ProjectionPathsMustNotOverlap) {
  ExpressionAttributes a = Attributes();
  EXPECT_THAT(ParseProjectionExpression("a, a.b", a).status().message(),
              HasSubstr("Invalid ProjectionExpression: Two document paths overlap"));
}

TEST_F(ExpressionTest, UnusedNamesAndValuesAreReportedAfterParsing) {
  ExpressionAttributes a = Attributes();
  ASSERT_TRUE(ParseConditionExpression("#s = :v", "ConditionExpression", a).ok());
  EXPECT_EQ(a.CheckAllUsed().message(),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}");
  ExpressionAttributes bad({{"s", "status"}}, {});
  EXPECT_THAT(bad.Validate().message(),
              HasSubstr("ExpressionAttributeNames contains invalid key: Syntax error; key: "
                        "\"s\""));
}

KeySchema Schema(AttributeValue::Type sort_type = AttributeValue::Type::kN) {
  KeySchema schema;
  schema.partition_key = {"pk", AttributeValue::Type::kS};
  schema.sort_key = KeyAttribute{"sk", sort_type};
  return schema;
}

TEST_F(ExpressionTest, KeyConditionsTakeThePartitionKeyAndOneSortKeyCondition) {
  ExpressionAttributes a({}, {{":p", V::S("p")}, {":lo", V::N("1")}, {":hi", V::N("9")}});
  absl::StatusOr<KeyCondition> k =
      ParseKeyConditionExpression("pk = :p AND sk BETWEEN :lo AND :hi", a, Schema());
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->partition_value, V::S("p"));
  EXPECT_EQ(k->sort_op, KeyCondition::SortOp::kBetween);
  EXPECT_EQ(k->sort_value2, V::N("9"));
  ExpressionAttributes b({}, {{":p", V::S("p")}, {":lo", V::N("1")}});
  k = ParseKeyConditionExpression(":lo < sk AND pk = :p", b, Schema());  // turned around
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->sort_op, KeyCondition::SortOp::kGt);
}

TEST_F(ExpressionTest, KeyConditionsRejectWhatQueryCannotDo) {
  auto error = [](const std::string& text, AttributeValue::Type sort_type =
                                               AttributeValue::Type::kN) {
    ExpressionAttributes a({}, {{":p", V::S("p")}, {":n", V::N("1")}, {":s", V::S("s")}});
    absl::StatusOr<KeyCondition> k = ParseKeyConditionExpression(text, a, Schema(sort_type));
    return k.ok() ? std::string() : std::string(k.status().message());
  };
  EXPECT_EQ(error("sk = :n"), "Query condition missed key schema element: pk");
  EXPECT_EQ(error("pk > :p"), "Query key condition not supported");
  EXPECT_EQ(error("pk = :p OR sk = :n"), "Invalid operator used in KeyConditionExpression: OR");
  EXPECT_EQ(error("pk = :p AND sk > :n AND sk < :n"),
            "KeyConditionExpressions must only contain one condition per key");
  EXPECT_EQ(error("pk = :p AND extra = :n"), "Query condition missed key schema element: sk");
  EXPECT_EQ(error("pk = :n"),
            "One or more parameter values were invalid: Condition parameter type does not "
            "match schema type");
  EXPECT_THAT(error("pk = :p AND begins_with(sk, :s)"), HasSubstr("operand type: N"));
  EXPECT_EQ(error("pk = :p AND begins_with(sk, :s)", AttributeValue::Type::kS), "");
}

}  // namespace
}  // namespace tributary::tables
