#include "mapping/record_filter.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "tables/attribute_value.h"
#include "tables/change_record.h"
#include "tables/stream_ids.h"

namespace tributary::mapping {

using google::protobuf::Struct;
using google::protobuf::Value;

struct RecordFilter::Condition {
  enum class Kind { kEquals, kPrefix, kAnythingBut, kAnythingButPrefix, kNumeric, kExists };
  enum class Op { kEq, kLt, kLe, kGt, kGe };
  Kind kind = Kind::kEquals;
  std::vector<Value> values;                  // kEquals: one; kAnythingBut: one or more
  std::string prefix;                         // kPrefix, kAnythingButPrefix
  std::vector<std::pair<Op, double>> bounds;  // kNumeric: one or two
  bool exists = true;                         // kExists
};

// A pattern object (fields non-empty, conditions empty) or a field's conditions (a leaf).
struct RecordFilter::Node {
  std::vector<std::string> names;  // an object's field names
  std::vector<Node> children;      // their patterns, in the same order
  std::vector<Condition> conditions;
  bool leaf = false;
};

namespace {

using Condition = RecordFilter::Condition;
using Node = RecordFilter::Node;

const char* KindName(const Value& v) {
  switch (v.kind_case()) {
    case Value::kNullValue:
      return "null";
    case Value::kNumberValue:
      return "a number";
    case Value::kStringValue:
      return "a string";
    case Value::kBoolValue:
      return "a boolean";
    case Value::kStructValue:
      return "an object";
    case Value::kListValue:
      return "an array";
    default:
      return "nothing";
  }
}

bool IsScalar(const Value& v) {
  switch (v.kind_case()) {
    case Value::kNullValue:
    case Value::kNumberValue:
    case Value::kStringValue:
    case Value::kBoolValue:
      return true;
    default:
      return false;
  }
}

absl::Status FieldError(const std::vector<std::string>& path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(message, " (at ", absl::StrJoin(path, "."), ")"));
}

std::optional<Condition::Op> ParseOp(const Value& v) {
  if (v.kind_case() != Value::kStringValue) return std::nullopt;
  const std::string& s = v.string_value();
  if (s == "=") return Condition::Op::kEq;
  if (s == "<") return Condition::Op::kLt;
  if (s == "<=") return Condition::Op::kLe;
  if (s == ">") return Condition::Op::kGt;
  if (s == ">=") return Condition::Op::kGe;
  return std::nullopt;
}

absl::StatusOr<Condition> CompileNumeric(const Value& arg, const std::vector<std::string>& path) {
  if (arg.kind_case() != Value::kListValue ||
      (arg.list_value().values_size() != 2 && arg.list_value().values_size() != 4)) {
    return FieldError(path,
                      "numeric: expected an array of an operator and a number, or of two "
                      "operators each followed by a number");
  }
  Condition c;
  c.kind = Condition::Kind::kNumeric;
  const auto& items = arg.list_value().values();
  for (int i = 0; i < items.size(); i += 2) {
    std::optional<Condition::Op> op = ParseOp(items[i]);
    if (!op.has_value()) {
      return FieldError(path, absl::StrCat("numeric: expected an operator (\"<\", \"<=\", \"=\", "
                                           "\">\", \">=\") at position ",
                                           i));
    }
    if (items[i + 1].kind_case() != Value::kNumberValue) {
      return FieldError(path, absl::StrCat("numeric: expected a number at position ", i + 1));
    }
    c.bounds.emplace_back(*op, items[i + 1].number_value());
  }
  if (c.bounds.size() == 2) {
    const Condition::Op lower = c.bounds[0].first;
    const Condition::Op upper = c.bounds[1].first;
    if ((lower != Condition::Op::kGt && lower != Condition::Op::kGe) ||
        (upper != Condition::Op::kLt && upper != Condition::Op::kLe)) {
      return FieldError(path,
                        "numeric: a range is a lower bound (\">\" or \">=\") followed by an upper "
                        "bound (\"<\" or \"<=\")");
    }
    if (c.bounds[0].second > c.bounds[1].second) {
      return FieldError(path, "numeric: the lower bound is above the upper bound");
    }
  }
  return c;
}

absl::StatusOr<Condition> CompileAnythingBut(const Value& arg,
                                             const std::vector<std::string>& path) {
  Condition c;
  if (arg.kind_case() == Value::kStructValue) {
    const auto& fields = arg.struct_value().fields();
    if (fields.size() != 1 || fields.begin()->first != "prefix" ||
        fields.begin()->second.kind_case() != Value::kStringValue) {
      return FieldError(path, "anything-but: an object argument must be {\"prefix\": <string>}");
    }
    c.kind = Condition::Kind::kAnythingButPrefix;
    c.prefix = fields.begin()->second.string_value();
    return c;
  }
  c.kind = Condition::Kind::kAnythingBut;
  if (IsScalar(arg)) {
    c.values.push_back(arg);
    return c;
  }
  if (arg.kind_case() == Value::kListValue && arg.list_value().values_size() > 0) {
    for (const Value& v : arg.list_value().values()) {
      if (!IsScalar(v)) {
        return FieldError(
            path, absl::StrCat("anything-but: expected values in the array, got ", KindName(v)));
      }
      c.values.push_back(v);
    }
    return c;
  }
  return FieldError(path,
                    "anything-but: expected a value, a non-empty array of values or "
                    "{\"prefix\": <string>}");
}

absl::StatusOr<Condition> CompileRule(const Struct& rule, const std::vector<std::string>& path) {
  if (rule.fields_size() != 1) {
    return FieldError(
        path, absl::StrCat("a rule object must have exactly one key, got ", rule.fields_size()));
  }
  const std::string& name = rule.fields().begin()->first;
  const Value& arg = rule.fields().begin()->second;
  if (name == "prefix") {
    if (arg.kind_case() != Value::kStringValue) {
      return FieldError(path, absl::StrCat("prefix: expected a string, got ", KindName(arg)));
    }
    Condition c;
    c.kind = Condition::Kind::kPrefix;
    c.prefix = arg.string_value();
    return c;
  }
  if (name == "anything-but") return CompileAnythingBut(arg, path);
  if (name == "numeric") return CompileNumeric(arg, path);
  if (name == "exists") {
    if (arg.kind_case() != Value::kBoolValue) {
      return FieldError(path, absl::StrCat("exists: expected true or false, got ", KindName(arg)));
    }
    Condition c;
    c.kind = Condition::Kind::kExists;
    c.exists = arg.bool_value();
    return c;
  }
  return FieldError(path, absl::StrCat("unknown rule \"", name,
                                       "\" (expected prefix, anything-but, numeric or exists)"));
}

absl::StatusOr<Node> CompileObject(const Struct& object, std::vector<std::string>* path) {
  if (object.fields().empty()) {
    if (path->empty()) return absl::InvalidArgumentError("the pattern must name a field");
    return FieldError(*path, "an object in a pattern must name a field");
  }
  // Sorted by name, so that errors are reported in a stable order.
  std::vector<std::string> names;
  for (const auto& [name, value] : object.fields()) names.push_back(name);
  std::sort(names.begin(), names.end());
  Node node;
  for (const std::string& name : names) {
    const Value& value = object.fields().at(name);
    path->push_back(name);
    Node child;
    if (value.kind_case() == Value::kStructValue) {
      absl::StatusOr<Node> nested = CompileObject(value.struct_value(), path);
      if (!nested.ok()) return nested.status();
      child = std::move(*nested);
    } else if (value.kind_case() == Value::kListValue) {
      if (value.list_value().values_size() == 0) {
        return FieldError(*path, "expected a non-empty array of values or rules, got []");
      }
      child.leaf = true;
      for (const Value& item : value.list_value().values()) {
        if (item.kind_case() == Value::kStructValue) {
          absl::StatusOr<Condition> c = CompileRule(item.struct_value(), *path);
          if (!c.ok()) return c.status();
          child.conditions.push_back(std::move(*c));
        } else if (IsScalar(item)) {
          Condition c;
          c.kind = Condition::Kind::kEquals;
          c.values.push_back(item);
          child.conditions.push_back(std::move(c));
        } else {
          return FieldError(*path, "expected values or rule objects in the array, got an array");
        }
      }
    } else {
      return FieldError(*path, absl::StrCat("expected an object or a non-empty array of values or "
                                            "rules, got ",
                                            KindName(value)));
    }
    path->pop_back();
    node.names.push_back(name);
    node.children.push_back(std::move(child));
  }
  return node;
}

absl::StatusOr<Node> CompilePattern(absl::string_view pattern) {
  if (pattern.size() > static_cast<size_t>(kMaxFilterPatternBytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be at most ", kMaxFilterPatternBytes, " bytes, got ", pattern.size()));
  }
  Value parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(pattern.data(), pattern.size()), &parsed);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON: ", std::string(status.message())));
  }
  if (parsed.kind_case() != Value::kStructValue) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be a JSON object, got ", KindName(parsed)));
  }
  std::vector<std::string> path;
  return CompileObject(parsed.struct_value(), &path);
}

bool ValuesEqual(const Value& a, const Value& b) {
  if (a.kind_case() != b.kind_case()) return false;
  switch (a.kind_case()) {
    case Value::kNullValue:
      return true;
    case Value::kNumberValue:
      return a.number_value() == b.number_value();
    case Value::kStringValue:
      return a.string_value() == b.string_value();
    case Value::kBoolValue:
      return a.bool_value() == b.bool_value();
    default:
      return false;
  }
}

bool Holds(Condition::Op op, double x, double bound) {
  switch (op) {
    case Condition::Op::kEq:
      return x == bound;
    case Condition::Op::kLt:
      return x < bound;
    case Condition::Op::kLe:
      return x <= bound;
    case Condition::Op::kGt:
      return x > bound;
    case Condition::Op::kGe:
      return x >= bound;
  }
  return false;
}

// A value condition (not kExists) on one non-array value.
bool ScalarMatches(const Condition& c, const Value& v) {
  switch (c.kind) {
    case Condition::Kind::kEquals:
      return ValuesEqual(c.values[0], v);
    case Condition::Kind::kPrefix:
      return v.kind_case() == Value::kStringValue && absl::StartsWith(v.string_value(), c.prefix);
    case Condition::Kind::kAnythingBut:
      if (!IsScalar(v)) return false;
      return std::none_of(c.values.begin(), c.values.end(),
                          [&](const Value& x) { return ValuesEqual(x, v); });
    case Condition::Kind::kAnythingButPrefix:
      return v.kind_case() == Value::kStringValue && !absl::StartsWith(v.string_value(), c.prefix);
    case Condition::Kind::kNumeric:
      if (v.kind_case() != Value::kNumberValue) return false;
      return std::all_of(c.bounds.begin(), c.bounds.end(),
                         [&](const auto& b) { return Holds(b.first, v.number_value(), b.second); });
    case Condition::Kind::kExists:
      return false;
  }
  return false;
}

bool ConditionMatches(const Condition& c, const Value* v) {
  if (c.kind == Condition::Kind::kExists) return (v != nullptr) == c.exists;
  if (v == nullptr) return false;
  if (v->kind_case() == Value::kListValue) {
    const auto& items = v->list_value().values();
    return std::any_of(items.begin(), items.end(),
                       [&](const Value& item) { return ScalarMatches(c, item); });
  }
  return ScalarMatches(c, *v);
}

bool NodeMatches(const Node& node, const Value* v);

// An object pattern against an object (nullptr: no object there, so every field is absent).
bool ObjectMatches(const Node& node, const Struct* object) {
  for (size_t i = 0; i < node.names.size(); ++i) {
    const Value* field = nullptr;
    if (object != nullptr) {
      auto it = object->fields().find(node.names[i]);
      if (it != object->fields().end()) field = &it->second;
    }
    if (!NodeMatches(node.children[i], field)) return false;
  }
  return true;
}

bool NodeMatches(const Node& node, const Value* v) {
  if (node.leaf) {
    return std::any_of(node.conditions.begin(), node.conditions.end(),
                       [&](const Condition& c) { return ConditionMatches(c, v); });
  }
  if (v != nullptr && v->kind_case() == Value::kStructValue) {
    return ObjectMatches(node, &v->struct_value());
  }
  if (v != nullptr && v->kind_case() == Value::kListValue) {
    const auto& items = v->list_value().values();
    return std::any_of(items.begin(), items.end(), [&](const Value& item) {
      return item.kind_case() == Value::kStructValue && ObjectMatches(node, &item.struct_value());
    });
  }
  return ObjectMatches(node, nullptr);
}

// How deep record data may nest (protobuf's JSON parser stopped at the same depth); deeper data
// is treated as not JSON.
constexpr int kMaxDataDepth = 100;

// `in` as a google.protobuf.Value (the matcher's form); false when it nests too deep.
bool ToProtoValue(const rapidjson::Value& in, Value* out, int depth) {
  if (depth > kMaxDataDepth) return false;
  switch (in.GetType()) {
    case rapidjson::kNullType:
      out->set_null_value(google::protobuf::NULL_VALUE);
      return true;
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      out->set_bool_value(in.GetBool());
      return true;
    case rapidjson::kNumberType:
      out->set_number_value(in.GetDouble());
      return true;
    case rapidjson::kStringType:
      out->set_string_value(in.GetString(), in.GetStringLength());
      return true;
    case rapidjson::kArrayType: {
      google::protobuf::ListValue* list = out->mutable_list_value();
      for (const rapidjson::Value& item : in.GetArray()) {
        if (!ToProtoValue(item, list->add_values(), depth + 1)) return false;
      }
      return true;
    }
    case rapidjson::kObjectType: {
      auto& fields = *out->mutable_struct_value()->mutable_fields();
      for (const auto& member : in.GetObject()) {
        Value& field = fields[std::string(member.name.GetString(), member.name.GetStringLength())];
        field.Clear();  // a repeated key: the last one wins
        if (!ToProtoValue(member.value, &field, depth + 1)) return false;
      }
      return true;
    }
  }
  return false;
}

// Record data as a JSON object in `out`; false when it is not one (not JSON, not UTF-8, not an
// object, or nested too deep). RapidJSON, iterative (no recursion on hostile input): protobuf's
// JsonStringToMessage took ~15 us for a 100-byte object.
bool ParseDataObject(absl::string_view data, Value* out) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
      data.data(), data.size());
  if (document.HasParseError() || !document.IsObject()) return false;
  return ToProtoValue(document, out, 0);
}

bool NamesData(const Node& filter) {
  return std::find(filter.names.begin(), filter.names.end(), "data") != filter.names.end();
}

}  // namespace

namespace {

// DynamoDB's JSON of `a` (poller/invoke/dynamodb_event.cc writes the same as text).
void AttributeToValue(const tables::AttributeValue& a, Value* out);

void AttributeMapToStruct(const tables::AttributeMap& map, Struct* out) {
  auto& fields = *out->mutable_fields();
  for (const auto& [name, value] : map) AttributeToValue(value, &fields[name]);
}

void AttributeToValue(const tables::AttributeValue& a, Value* out) {
  using Type = tables::AttributeValue::Type;
  Value& v = (*out->mutable_struct_value()->mutable_fields())[tables::TypeName(a.type())];
  switch (a.type()) {
    case Type::kS:
    case Type::kN:
      v.set_string_value(a.scalar());
      break;
    case Type::kB:
      v.set_string_value(absl::Base64Escape(a.scalar()));
      break;
    case Type::kBool:
      v.set_bool_value(a.bool_value());
      break;
    case Type::kNull:
      v.set_bool_value(true);
      break;
    case Type::kM:
      AttributeMapToStruct(a.map(), v.mutable_struct_value());
      break;
    case Type::kL:
      for (const tables::AttributeValue& e : a.list()) {
        AttributeToValue(e, v.mutable_list_value()->add_values());
      }
      break;
    case Type::kSS:
    case Type::kNS:
    case Type::kBS:
      for (const std::string& e : a.set()) {
        v.mutable_list_value()->add_values()->set_string_value(
            a.type() == Type::kBS ? absl::Base64Escape(e) : e);
      }
      break;
  }
}

}  // namespace

RecordFilter::RecordFilter(std::vector<Node> filters, bool dynamodb)
    : filters_(std::move(filters)), dynamodb_(dynamodb) {
  needs_data_ = std::any_of(filters_.begin(), filters_.end(), NamesData);
}

RecordFilter::~RecordFilter() = default;

absl::Status RecordFilter::ValidatePattern(absl::string_view pattern) {
  return CompilePattern(pattern).status();
}

absl::StatusOr<std::unique_ptr<RecordFilter>> RecordFilter::Create(
    const v1::FilterCriteria& criteria) {
  if (criteria.filters_size() > kMaxFilters) {
    return absl::InvalidArgumentError(absl::StrCat("filter_criteria.filters may hold at most ",
                                                   kMaxFilters, " filters, got ",
                                                   criteria.filters_size()));
  }
  std::vector<Node> filters;
  for (int i = 0; i < criteria.filters_size(); ++i) {
    absl::StatusOr<Node> node = CompilePattern(criteria.filters(i).pattern());
    if (!node.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("filter_criteria.filters[", i, "].pattern: ", node.status().message()));
    }
    filters.push_back(std::move(*node));
  }
  return std::unique_ptr<RecordFilter>(new RecordFilter(std::move(filters), false));
}

absl::StatusOr<std::unique_ptr<RecordFilter>> RecordFilter::Create(
    const v1::FilterCriteria& criteria, absl::string_view stream_name) {
  ASSIGN_OR_RETURN(std::unique_ptr<RecordFilter> filter, Create(criteria));
  filter->dynamodb_ = tables::IsTableStreamName(stream_name);
  return filter;
}

bool RecordFilter::MatchesDynamoDb(const v1::Record& record) const {
  absl::StatusOr<tables::ChangeRecord> change = tables::DecodeChangeRecord(record.data());
  if (!change.ok()) return false;
  Struct view;
  auto& fields = *view.mutable_fields();
  fields["eventName"].set_string_value(tables::ChangeEventName(change->event));
  fields["eventVersion"].set_string_value("1.1");
  fields["eventSource"].set_string_value("aws:dynamodb");
  auto& ddb = *fields["dynamodb"].mutable_struct_value()->mutable_fields();
  ddb["ApproximateCreationDateTime"].set_number_value(
      static_cast<double>(absl::ToUnixSeconds(change->approximate_creation_time)));
  AttributeMapToStruct(change->keys, ddb["Keys"].mutable_struct_value());
  if (change->new_image) AttributeMapToStruct(*change->new_image, ddb["NewImage"].mutable_struct_value());
  if (change->old_image) AttributeMapToStruct(*change->old_image, ddb["OldImage"].mutable_struct_value());
  ddb["SequenceNumber"].set_string_value(tables::EdgeSequenceNumber(record.sequence_number()));
  ddb["SizeBytes"].set_number_value(static_cast<double>(change->size_bytes));
  ddb["StreamViewType"].set_string_value(tables::StreamViewTypeName(change->view_type));
  return std::any_of(filters_.begin(), filters_.end(),
                     [&](const Node& filter) { return ObjectMatches(filter, &view); });
}

bool RecordFilter::Matches(const v1::Record& record) const {
  if (filters_.empty()) return true;
  if (dynamodb_) return MatchesDynamoDb(record);
  Struct view;
  auto& fields = *view.mutable_fields();
  fields["kinesisSchemaVersion"].set_string_value("1.0");
  fields["partitionKey"].set_string_value(record.partition_key());
  fields["sequenceNumber"].set_string_value(record.sequence_number());
  fields["approximateArrivalTimestamp"].set_number_value(absl::ToDoubleSeconds(
      FromProtoTimestamp(record.approximate_arrival_timestamp()) - absl::UnixEpoch()));
  bool data_is_object = false;
  if (needs_data_) {
    Value data;
    if (ParseDataObject(record.data(), &data)) {
      fields["data"] = std::move(data);
      data_is_object = true;
    }
  }
  for (const Node& filter : filters_) {
    if (!data_is_object && NamesData(filter)) continue;  // filtered on metadata only
    if (ObjectMatches(filter, &view)) return true;
  }
  return false;
}

}  // namespace tributary::mapping
