#include "mapping/record_filter.h"

#include <initializer_list>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tables/attribute_value.h"
#include "tables/change_record.h"

namespace tributary::mapping {
namespace {

using ::testing::HasSubstr;

v1::Record MakeRecord(const std::string& data, const std::string& key = "k",
                      const std::string& seq = "7", int64_t arrival_seconds = 1700000000) {
  v1::Record r;
  r.set_data(data);
  r.set_partition_key(key);
  r.set_sequence_number(seq);
  r.mutable_approximate_arrival_timestamp()->set_seconds(arrival_seconds);
  return r;
}

std::unique_ptr<RecordFilter> Compile(std::initializer_list<std::string> patterns) {
  v1::FilterCriteria criteria;
  for (const std::string& p : patterns) criteria.add_filters()->set_pattern(p);
  absl::StatusOr<std::unique_ptr<RecordFilter>> filter = RecordFilter::Create(criteria);
  EXPECT_TRUE(filter.ok()) << filter.status();
  return filter.ok() ? std::move(*filter) : nullptr;
}

bool Matches(const std::string& pattern, const std::string& data) {
  return Compile({pattern})->Matches(MakeRecord(data));
}

std::string ErrorOf(const std::string& pattern) {
  return std::string(RecordFilter::ValidatePattern(pattern).message());
}

TEST(RecordFilterTest, NoFiltersMatchesEveryRecord) {
  auto filter = Compile({});
  EXPECT_TRUE(filter->empty());
  EXPECT_TRUE(filter->Matches(MakeRecord("not json")));
}

TEST(RecordFilterTest, ExactStringValues) {
  EXPECT_TRUE(Matches(R"({"data":{"type":["order"]}})", R"({"type":"order"})"));
  EXPECT_FALSE(Matches(R"({"data":{"type":["order"]}})", R"({"type":"refund"})"));
  EXPECT_FALSE(Matches(R"({"data":{"type":["order"]}})", R"({"kind":"order"})"));
  // Values are typed: the string "5" is not the number 5.
  EXPECT_FALSE(Matches(R"({"data":{"n":["5"]}})", R"({"n":5})"));
}

TEST(RecordFilterTest, ExactNumbersBooleansAndNull) {
  EXPECT_TRUE(Matches(R"({"data":{"n":[5]}})", R"({"n":5.0})"));
  EXPECT_FALSE(Matches(R"({"data":{"n":[5]}})", R"({"n":6})"));
  EXPECT_TRUE(Matches(R"({"data":{"ok":[true]}})", R"({"ok":true})"));
  EXPECT_FALSE(Matches(R"({"data":{"ok":[true]}})", R"({"ok":false})"));
  EXPECT_TRUE(Matches(R"({"data":{"ok":[false]}})", R"({"ok":false})"));
  EXPECT_TRUE(Matches(R"({"data":{"v":[null]}})", R"({"v":null})"));
  EXPECT_FALSE(Matches(R"({"data":{"v":[null]}})", R"({"v":"null"})"));
  EXPECT_FALSE(Matches(R"({"data":{"v":[null]}})", R"({})"));
}

TEST(RecordFilterTest, EmptyStringMatchesOnlyTheEmptyString) {
  EXPECT_TRUE(Matches(R"({"data":{"s":[""]}})", R"({"s":""})"));
  EXPECT_FALSE(Matches(R"({"data":{"s":[""]}})", R"({"s":"x"})"));
  EXPECT_FALSE(Matches(R"({"data":{"s":[""]}})", R"({})"));
}

TEST(RecordFilterTest, ValuesInOneFieldAreOr) {
  const std::string p = R"({"data":{"type":["order", "refund", 3]}})";
  EXPECT_TRUE(Matches(p, R"({"type":"order"})"));
  EXPECT_TRUE(Matches(p, R"({"type":"refund"})"));
  EXPECT_TRUE(Matches(p, R"({"type":3})"));
  EXPECT_FALSE(Matches(p, R"({"type":"other"})"));
}

TEST(RecordFilterTest, FieldsOfOnePatternAreAnd) {
  const std::string p = R"({"partitionKey":["k"],"data":{"type":["order"],"region":["eu"]}})";
  EXPECT_TRUE(Matches(p, R"({"type":"order","region":"eu"})"));
  EXPECT_FALSE(Matches(p, R"({"type":"order","region":"us"})"));
  EXPECT_FALSE(Matches(p, R"({"type":"refund","region":"eu"})"));
  EXPECT_FALSE(Compile({p})->Matches(MakeRecord(R"({"type":"order","region":"eu"})", "other")));
}

TEST(RecordFilterTest, FiltersAreOr) {
  auto filter = Compile({R"({"data":{"type":["order"]}})", R"({"partitionKey":["vip"]})"});
  EXPECT_TRUE(filter->Matches(MakeRecord(R"({"type":"order"})", "k")));
  EXPECT_TRUE(filter->Matches(MakeRecord(R"({"type":"refund"})", "vip")));
  EXPECT_FALSE(filter->Matches(MakeRecord(R"({"type":"refund"})", "k")));
}

TEST(RecordFilterTest, NestedDataFields) {
  const std::string p = R"({"data":{"order":{"customer":{"tier":["gold"]}}}})";
  EXPECT_TRUE(Matches(p, R"({"order":{"customer":{"tier":"gold","id":1}}})"));
  EXPECT_FALSE(Matches(p, R"({"order":{"customer":{"tier":"silver"}}})"));
  EXPECT_FALSE(Matches(p, R"({"order":{"customer":"gold"}})"));
  EXPECT_FALSE(Matches(p, R"({"order":{}})"));
}

TEST(RecordFilterTest, ArraysInTheRecordMatchWhenAnyElementMatches) {
  EXPECT_TRUE(Matches(R"({"data":{"tags":["b"]}})", R"({"tags":["a","b"]})"));
  EXPECT_FALSE(Matches(R"({"data":{"tags":["c"]}})", R"({"tags":["a","b"]})"));
  EXPECT_TRUE(Matches(R"({"data":{"n":[{"numeric":[">",10]}]}})", R"({"n":[1,20]})"));
  // A nested pattern matches an array of objects when one element matches.
  const std::string p = R"({"data":{"items":{"sku":["x"]}}})";
  EXPECT_TRUE(Matches(p, R"({"items":[{"sku":"y"},{"sku":"x"}]})"));
  EXPECT_FALSE(Matches(p, R"({"items":[{"sku":"y"}]})"));
}

TEST(RecordFilterTest, NonJsonDataFailsDataPatternsButMatchesOnMetadata) {
  EXPECT_FALSE(Matches(R"({"data":{"type":["order"]}})", "plain text"));
  EXPECT_FALSE(Matches(R"({"data":{"type":[{"exists":false}]}})", "plain text"));
  // JSON that is not an object counts as not JSON.
  EXPECT_FALSE(Matches(R"({"data":{"type":[{"exists":false}]}})", "[1,2]"));
  EXPECT_TRUE(Matches(R"({"partitionKey":["k"]})", "plain text"));
  EXPECT_TRUE(Matches(R"({"partitionKey":[{"prefix":"k"}]})", "\xff\xfe binary"));
  // One filter naming data fails, the metadata one still matches.
  auto filter = Compile({R"({"data":{"t":["x"]}})", R"({"partitionKey":["k"]})"});
  EXPECT_TRUE(filter->Matches(MakeRecord("plain text")));
}

// Data that nests deeper than 100 levels, is not UTF-8, or has text after the object is not
// JSON for the filters (and parsing it neither recurses without bound nor crashes).
TEST(RecordFilterTest, HostileDataIsNotJson) {
  const std::string exists = R"({"data":{"a":[{"exists":true}]}})";
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += R"({"a":)";
  deep += "1";
  deep.append(100000, '}');
  EXPECT_FALSE(Matches(exists, deep));
  std::string shallow = R"({"a":1})";
  EXPECT_TRUE(Matches(exists, shallow));
  EXPECT_FALSE(Matches(exists, "{\"a\":\"\xff\"}"));  // invalid UTF-8 in a string
  EXPECT_FALSE(Matches(exists, R"({"a":1} trailing)"));
  EXPECT_FALSE(Matches(exists, R"({"a":1)"));  // truncated
  // Escapes decode: "\u00e9" is é.
  EXPECT_TRUE(Matches(R"({"data":{"a":["é"]}})", R"({"a":"\u00e9"})"));
  // A repeated key: the last one counts.
  EXPECT_TRUE(Matches(R"({"data":{"a":[2]}})", R"({"a":1,"a":2})"));
  EXPECT_FALSE(Matches(R"({"data":{"a":[1]}})", R"({"a":1,"a":2})"));
}

TEST(RecordFilterTest, MetadataFields) {
  v1::Record r = MakeRecord("{}", "user-1",
                            "49590338271490256608559692538361571095921575989136588898", 1700000000);
  EXPECT_TRUE(Compile({R"({"kinesisSchemaVersion":["1.0"]})"})->Matches(r));
  EXPECT_TRUE(Compile({R"({"partitionKey":[{"prefix":"user-"}]})"})->Matches(r));
  EXPECT_TRUE(Compile({R"({"sequenceNumber":[{"prefix":"4959"}]})"})->Matches(r));
  EXPECT_TRUE(
      Compile({R"({"approximateArrivalTimestamp":[{"numeric":[">=",1700000000]}]})"})->Matches(r));
  EXPECT_FALSE(
      Compile({R"({"approximateArrivalTimestamp":[{"numeric":[">",1700000000]}]})"})->Matches(r));
}

TEST(RecordFilterTest, Prefix) {
  const std::string p = R"({"data":{"id":[{"prefix":"ord-"}]}})";
  EXPECT_TRUE(Matches(p, R"({"id":"ord-1"})"));
  EXPECT_TRUE(Matches(p, R"({"id":"ord-"})"));
  EXPECT_FALSE(Matches(p, R"({"id":"ref-1"})"));
  EXPECT_FALSE(Matches(p, R"({"id":5})"));
  EXPECT_FALSE(Matches(p, R"({})"));
}

TEST(RecordFilterTest, AnythingButList) {
  const std::string p = R"({"data":{"state":[{"anything-but":["done","failed"]}]}})";
  EXPECT_TRUE(Matches(p, R"({"state":"running"})"));
  EXPECT_FALSE(Matches(p, R"({"state":"done"})"));
  EXPECT_FALSE(Matches(p, R"({"state":"failed"})"));
  EXPECT_TRUE(Matches(p, R"({"state":3})"));
  EXPECT_FALSE(Matches(p, R"({})"));  // a missing field never matches anything-but
}

TEST(RecordFilterTest, AnythingButSingleValue) {
  EXPECT_TRUE(Matches(R"({"data":{"s":[{"anything-but":"done"}]}})", R"({"s":"new"})"));
  EXPECT_FALSE(Matches(R"({"data":{"s":[{"anything-but":"done"}]}})", R"({"s":"done"})"));
  EXPECT_FALSE(Matches(R"({"data":{"n":[{"anything-but":5}]}})", R"({"n":5})"));
  EXPECT_TRUE(Matches(R"({"data":{"n":[{"anything-but":5}]}})", R"({"n":6})"));
}

TEST(RecordFilterTest, AnythingButPrefix) {
  const std::string p = R"({"data":{"id":[{"anything-but":{"prefix":"test-"}}]}})";
  EXPECT_TRUE(Matches(p, R"({"id":"prod-1"})"));
  EXPECT_FALSE(Matches(p, R"({"id":"test-1"})"));
  EXPECT_FALSE(Matches(p, R"({"id":7})"));
}

TEST(RecordFilterTest, NumericRangeBoundaries) {
  const std::string open_closed = R"({"data":{"n":[{"numeric":[">",0,"<=",5]}]}})";
  EXPECT_FALSE(Matches(open_closed, R"({"n":0})"));
  EXPECT_TRUE(Matches(open_closed, R"({"n":0.5})"));
  EXPECT_TRUE(Matches(open_closed, R"({"n":5})"));
  EXPECT_FALSE(Matches(open_closed, R"({"n":5.01})"));
  EXPECT_FALSE(Matches(open_closed, R"({"n":"3"})"));  // a string is not a number

  const std::string closed_open = R"({"data":{"n":[{"numeric":[">=",0,"<",5]}]}})";
  EXPECT_TRUE(Matches(closed_open, R"({"n":0})"));
  EXPECT_FALSE(Matches(closed_open, R"({"n":5})"));
  EXPECT_FALSE(Matches(closed_open, R"({"n":-1})"));
}

TEST(RecordFilterTest, NumericSingleOperators) {
  EXPECT_TRUE(Matches(R"({"data":{"n":[{"numeric":["=",100]}]}})", R"({"n":100})"));
  EXPECT_FALSE(Matches(R"({"data":{"n":[{"numeric":["=",100]}]}})", R"({"n":101})"));
  EXPECT_TRUE(Matches(R"({"data":{"n":[{"numeric":["<",0]}]}})", R"({"n":-0.5})"));
  EXPECT_FALSE(Matches(R"({"data":{"n":[{"numeric":["<",0]}]}})", R"({"n":0})"));
  EXPECT_TRUE(Matches(R"({"data":{"n":[{"numeric":["<=",0]}]}})", R"({"n":0})"));
  EXPECT_TRUE(Matches(R"({"data":{"n":[{"numeric":[">=",2.5]}]}})", R"({"n":2.5})"));
  EXPECT_FALSE(Matches(R"({"data":{"n":[{"numeric":[">",2.5]}]}})", R"({"n":2.5})"));
}

TEST(RecordFilterTest, Exists) {
  EXPECT_TRUE(Matches(R"({"data":{"a":[{"exists":true}]}})", R"({"a":0})"));
  EXPECT_TRUE(Matches(R"({"data":{"a":[{"exists":true}]}})", R"({"a":null})"));
  EXPECT_FALSE(Matches(R"({"data":{"a":[{"exists":true}]}})", R"({"b":1})"));
  EXPECT_TRUE(Matches(R"({"data":{"a":[{"exists":false}]}})", R"({"b":1})"));
  EXPECT_FALSE(Matches(R"({"data":{"a":[{"exists":false}]}})", R"({"a":1})"));
  // Below a missing object, every field is missing.
  EXPECT_TRUE(Matches(R"({"data":{"a":{"b":[{"exists":false}]}}})", R"({})"));
}

TEST(RecordFilterTest, ValuesAndRulesMixInOneField) {
  const std::string p = R"({"data":{"n":[0, {"numeric":[">",100]}]}})";
  EXPECT_TRUE(Matches(p, R"({"n":0})"));
  EXPECT_TRUE(Matches(p, R"({"n":101})"));
  EXPECT_FALSE(Matches(p, R"({"n":50})"));
}

TEST(RecordFilterTest, RejectsTooManyFilters) {
  v1::FilterCriteria criteria;
  for (int i = 0; i < 6; ++i) criteria.add_filters()->set_pattern(R"({"partitionKey":["k"]})");
  absl::StatusOr<std::unique_ptr<RecordFilter>> filter = RecordFilter::Create(criteria);
  EXPECT_EQ(filter.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(filter.status().message(), "filter_criteria.filters may hold at most 5 filters, got 6");
  criteria.mutable_filters()->RemoveLast();
  EXPECT_TRUE(RecordFilter::Create(criteria).ok());
}

TEST(RecordFilterTest, CreateNamesTheBadFilter) {
  v1::FilterCriteria criteria;
  criteria.add_filters()->set_pattern(R"({"partitionKey":["k"]})");
  criteria.add_filters()->set_pattern(R"({"data":{"amount":[{"numeric":[">",0,"x",5]}]}})");
  absl::StatusOr<std::unique_ptr<RecordFilter>> filter = RecordFilter::Create(criteria);
  EXPECT_EQ(filter.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(filter.status().message(),
            "filter_criteria.filters[1].pattern: numeric: expected an operator (\"<\", \"<=\", "
            "\"=\", \">\", \">=\") at position 2 (at data.amount)");
}

TEST(RecordFilterTest, PatternErrors) {
  EXPECT_EQ(ErrorOf(std::string(4097, ' ')), "must be at most 4096 bytes, got 4097");
  EXPECT_THAT(ErrorOf(R"({"data":)"), HasSubstr("not valid JSON: "));
  EXPECT_EQ(ErrorOf(R"(["k"])"), "must be a JSON object, got an array");
  EXPECT_EQ(ErrorOf("{}"), "the pattern must name a field");
  EXPECT_EQ(ErrorOf(R"({"data":{}})"), "an object in a pattern must name a field (at data)");
  EXPECT_EQ(ErrorOf(R"({"partitionKey":"k"})"),
            "expected an object or a non-empty array of values or rules, got a string (at "
            "partitionKey)");
  EXPECT_EQ(ErrorOf(R"({"partitionKey":[]})"),
            "expected a non-empty array of values or rules, got [] (at partitionKey)");
  EXPECT_EQ(ErrorOf(R"({"partitionKey":[["k"]]})"),
            "expected values or rule objects in the array, got an array (at partitionKey)");
  EXPECT_EQ(ErrorOf(R"({"a":[{"prefix":"x","exists":true}]})"),
            "a rule object must have exactly one key, got 2 (at a)");
  EXPECT_EQ(ErrorOf(R"({"a":[{"suffix":"x"}]})"),
            "unknown rule \"suffix\" (expected prefix, anything-but, numeric or exists) (at a)");
  EXPECT_EQ(ErrorOf(R"({"a":[{"prefix":5}]})"), "prefix: expected a string, got a number (at a)");
  EXPECT_EQ(ErrorOf(R"({"a":[{"exists":"yes"}]})"),
            "exists: expected true or false, got a string (at a)");
}

TEST(RecordFilterTest, AnythingButErrors) {
  const std::string usage =
      "anything-but: expected a value, a non-empty array of values or {\"prefix\": <string>} (at "
      "a)";
  EXPECT_EQ(ErrorOf(R"({"a":[{"anything-but":[]}]})"), usage);
  EXPECT_EQ(ErrorOf(R"({"a":[{"anything-but":[["x"]]}]})"),
            "anything-but: expected values in the array, got an array (at a)");
  EXPECT_EQ(ErrorOf(R"({"a":[{"anything-but":{"suffix":"x"}}]})"),
            "anything-but: an object argument must be {\"prefix\": <string>} (at a)");
  EXPECT_EQ(ErrorOf(R"({"a":[{"anything-but":{"prefix":1}}]})"),
            "anything-but: an object argument must be {\"prefix\": <string>} (at a)");
}

TEST(RecordFilterTest, NumericErrors) {
  const std::string shape =
      "numeric: expected an array of an operator and a number, or of two operators each followed "
      "by a number (at a)";
  EXPECT_EQ(ErrorOf(R"({"a":[{"numeric":5}]})"), shape);
  EXPECT_EQ(ErrorOf(R"({"a":[{"numeric":[">",1,"<"]}]})"), shape);
  EXPECT_EQ(ErrorOf(R"({"a":[{"numeric":["~",1]}]})"),
            "numeric: expected an operator (\"<\", \"<=\", \"=\", \">\", \">=\") at position 0 "
            "(at a)");
  EXPECT_EQ(ErrorOf(R"({"a":[{"numeric":[">","1"]}]})"),
            "numeric: expected a number at position 1 (at a)");
  EXPECT_EQ(ErrorOf(R"({"a":[{"numeric":["<",1,">",0]}]})"),
            "numeric: a range is a lower bound (\">\" or \">=\") followed by an upper bound "
            "(\"<\" or \"<=\") (at a)");
  EXPECT_EQ(ErrorOf(R"({"a":[{"numeric":["=",1,"<",2]}]})"),
            "numeric: a range is a lower bound (\">\" or \">=\") followed by an upper bound "
            "(\"<\" or \"<=\") (at a)");
  EXPECT_EQ(ErrorOf(R"({"a":[{"numeric":[">",5,"<",1]}]})"),
            "numeric: the lower bound is above the upper bound (at a)");
}

TEST(RecordFilterTest, ErrorsNameNestedFields) {
  EXPECT_EQ(ErrorOf(R"({"data":{"order":{"total":[{"numeric":[">","x"]}]}}})"),
            "numeric: expected a number at position 1 (at data.order.total)");
}

// Table streams (issue 18): Lambda's DynamoDB filtering, on the change record as the DynamoDB
// event shows it.
constexpr char kTableStream[] = "_tables.42.20231114221320123";

v1::Record ChangeRecordOf(tables::ChangeEvent event, const std::string& id,
                          const std::string& status, const std::string& qty) {
  using tables::AttributeValue;
  tables::ChangeRecord c;
  c.event = event;
  c.view_type = tables::StreamViewType::kNewAndOldImages;
  c.approximate_creation_time = absl::FromUnixSeconds(1700000000);
  c.keys = {{"id", AttributeValue::S(id)}};
  tables::AttributeMap image = {{"id", AttributeValue::S(id)},
                                {"qty", AttributeValue::N(qty)},
                                {"status", AttributeValue::S(status)},
                                {"tags", AttributeValue::SS({"a", "b"})}};
  if (event != tables::ChangeEvent::kRemove) c.new_image = image;
  if (event != tables::ChangeEvent::kInsert) c.old_image = image;
  c.size_bytes = 30;
  return MakeRecord(tables::EncodeChangeRecord(c), id, "42");
}

std::unique_ptr<RecordFilter> CompileForTable(std::initializer_list<std::string> patterns) {
  v1::FilterCriteria criteria;
  for (const std::string& p : patterns) criteria.add_filters()->set_pattern(p);
  absl::StatusOr<std::unique_ptr<RecordFilter>> filter = RecordFilter::Create(criteria, kTableStream);
  EXPECT_TRUE(filter.ok()) << filter.status();
  return filter.ok() ? std::move(*filter) : nullptr;
}

TEST(RecordFilterDynamoDbTest, EventNameKeysAndImagesAreMatchedAsLambdaShowsThem) {
  using tables::ChangeEvent;
  const v1::Record insert_paid = ChangeRecordOf(ChangeEvent::kInsert, "a", "paid", "5");
  const v1::Record modify_open = ChangeRecordOf(ChangeEvent::kModify, "b", "open", "7");
  const v1::Record remove_paid = ChangeRecordOf(ChangeEvent::kRemove, "c", "paid", "9");
  auto inserts = CompileForTable({R"({"eventName":["INSERT"]})"});
  EXPECT_TRUE(inserts->Matches(insert_paid));
  EXPECT_FALSE(inserts->Matches(modify_open));
  EXPECT_FALSE(inserts->Matches(remove_paid));

  auto paid = CompileForTable({R"({"dynamodb":{"NewImage":{"status":{"S":["paid"]}}}})"});
  EXPECT_TRUE(paid->Matches(insert_paid));
  EXPECT_FALSE(paid->Matches(modify_open));
  EXPECT_FALSE(paid->Matches(remove_paid)) << "a REMOVE has no NewImage";

  auto key_b = CompileForTable({R"({"dynamodb":{"Keys":{"id":{"S":["b"]}}}})"});
  EXPECT_FALSE(key_b->Matches(insert_paid));
  EXPECT_TRUE(key_b->Matches(modify_open));

  // Numbers are strings in DynamoDB's JSON; sets are arrays (any element matches); prefix and
  // anything-but work as for Kinesis; OR across filters.
  EXPECT_TRUE(CompileForTable({R"({"dynamodb":{"OldImage":{"qty":{"N":["9"]}}}})"})
                  ->Matches(remove_paid));
  EXPECT_TRUE(CompileForTable({R"({"dynamodb":{"NewImage":{"tags":{"SS":["b"]}}}})"})
                  ->Matches(insert_paid));
  EXPECT_TRUE(CompileForTable({R"({"eventName":[{"anything-but":["REMOVE"]}],)"
                               R"("dynamodb":{"StreamViewType":[{"prefix":"NEW_AND"}]}})"})
                  ->Matches(modify_open));
  auto either = CompileForTable({R"({"eventName":["REMOVE"]})", R"({"eventName":["INSERT"]})"});
  EXPECT_TRUE(either->Matches(insert_paid));
  EXPECT_FALSE(either->Matches(modify_open));
  EXPECT_TRUE(either->Matches(remove_paid));
  EXPECT_TRUE(CompileForTable({R"({"dynamodb":{"SequenceNumber":["100000000000000000042"]}})"})
                  ->Matches(insert_paid));
}

TEST(RecordFilterDynamoDbTest, KinesisShapedPatternsMatchNothingOnATableStream) {
  const v1::Record r = ChangeRecordOf(tables::ChangeEvent::kInsert, "a", "paid", "5");
  EXPECT_FALSE(CompileForTable({R"({"partitionKey":["a"]})"})->Matches(r));
  EXPECT_FALSE(CompileForTable({R"({"data":{"status":["paid"]}})"})->Matches(r));
  // The same pattern on a Kinesis stream still sees Kinesis's shape.
  v1::FilterCriteria criteria;
  criteria.add_filters()->set_pattern(R"({"partitionKey":["a"]})");
  EXPECT_TRUE((*RecordFilter::Create(criteria, "orders"))->Matches(r));
}

TEST(RecordFilterDynamoDbTest, ARecordThatIsNotAChangeRecordMatchesNoFilter) {
  EXPECT_FALSE(CompileForTable({R"({"eventName":[{"exists":false}]})"})->Matches(MakeRecord("{}")));
}

}  // namespace
}  // namespace tributary::mapping
