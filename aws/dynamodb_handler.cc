// The DynamoDB adapter: input → tables library → output, nothing more. The status table (the one
// place where TableStore codes become DynamoDB codes) is kMapping below. Tables here; the item
// operations in dynamodb_items.cc.
#include "aws/dynamodb_handler.h"

#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "aws/dynamodb_internal.h"
#include "aws/input_reader.h"

namespace tributary::aws {

using tables::AttributeMap;
using tables::AttributeValue;
using Type = tables::AttributeValue::Type;

namespace dynamodb_internal {

constexpr char kConditionalCheckFailed[] = "ConditionalCheckFailedException";

AwsError DynamoError(absl::string_view code, std::string message, int http_status) {
  return AwsError{absl::StrCat(kErrorPrefix, code), std::move(message), http_status};
}

AwsError FromTablesStatus(const absl::Status& status) {
  static const StatusMapping kMapping = [] {
    StatusMapping m;
    m.invalid_argument = kValidation;
    m.not_found = kResourceNotFound;
    m.already_exists = kResourceInUse;
    m.failed_precondition = kConditionalCheckFailed;
    m.aborted = kResourceInUse;
    m.resource_exhausted = kLimitExceeded;
    return m;
  }();
  AwsError error = FromStatus(status, kMapping);
  error.type = absl::StrCat(kErrorPrefix, error.type);
  return error;
}

absl::Status Validation(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

const Value* Member(const Value& map, absl::string_view name) {
  return map.type() == Value::Type::kMap ? map.Find(name) : nullptr;
}

absl::StatusOr<AttributeMap> ParseAttributeMap(const Value& v, int depth) {
  if (v.type() != Value::Type::kMap) return Validation("an attribute map must be a structure");
  AttributeMap map;
  map.reserve(v.members().size());
  for (const auto& [name, value] : v.members()) {
    absl::StatusOr<AttributeValue> parsed = ParseAttributeValue(value, depth + 1);
    if (!parsed.ok()) return parsed.status();
    map.emplace_back(name, *std::move(parsed));
  }
  absl::Status sorted = tables::SortAttributeMap(&map);
  if (!sorted.ok()) return sorted;
  return map;
}

absl::StatusOr<std::vector<std::string>> StringList(const Value& v, bool numbers, bool blobs) {
  if (v.type() != Value::Type::kList) return Validation("a set must be a list");
  std::vector<std::string> out;
  for (const Value& e : v.list()) {
    if (e.type() != Value::Type::kString) return Validation("set elements must be strings");
    if (numbers) {
      absl::StatusOr<std::string> n = tables::ParseNumber(e.string_value());
      if (!n.ok()) return n.status();
      out.push_back(*std::move(n));
    } else if (blobs) {
      std::string bytes;
      if (!absl::Base64Unescape(e.string_value(), &bytes)) {
        return Validation("a binary set element is not valid base64");
      }
      out.push_back(std::move(bytes));
    } else {
      out.push_back(e.string_value());
    }
  }
  return out;
}

absl::StatusOr<AttributeValue> ParseAttributeValue(const Value& v, int depth) {
  if (depth > tables::kMaxAttributeDepth + 1) {
    return Validation("Nesting Levels have exceeded supported limits");
  }
  if (v.type() != Value::Type::kMap || v.members().empty()) {
    return Validation(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
  }
  if (v.members().size() > 1) {
    return Validation(
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
        "the supported datatypes");
  }
  const auto& [type, value] = v.members()[0];
  const bool is_string = value.type() == Value::Type::kString;
  if (type == "S" && is_string) return AttributeValue::S(value.string_value());
  if (type == "N" && is_string) {
    absl::StatusOr<std::string> n = tables::ParseNumber(value.string_value());
    if (!n.ok()) return n.status();
    return AttributeValue::N(*std::move(n));
  }
  if (type == "B" && is_string) {
    std::string bytes;
    if (!absl::Base64Unescape(value.string_value(), &bytes)) {
      return Validation("a binary value is not valid base64");
    }
    return AttributeValue::B(std::move(bytes));
  }
  if (type == "BOOL" && value.type() == Value::Type::kBool) {
    return AttributeValue::Bool(value.bool_value());
  }
  if (type == "NULL" && value.type() == Value::Type::kBool) {
    if (!value.bool_value()) {
      return Validation(
          "One or more parameter values were invalid: Null attribute value types must have the "
          "value of true");
    }
    return AttributeValue::Null();
  }
  if (type == "M") {
    absl::StatusOr<AttributeMap> m = ParseAttributeMap(value, depth);
    if (!m.ok()) return m.status();
    return AttributeValue::M(*std::move(m));
  }
  if (type == "L" && value.type() == Value::Type::kList) {
    std::vector<AttributeValue> list;
    for (const Value& e : value.list()) {
      absl::StatusOr<AttributeValue> parsed = ParseAttributeValue(e, depth + 1);
      if (!parsed.ok()) return parsed.status();
      list.push_back(*std::move(parsed));
    }
    return AttributeValue::L(std::move(list));
  }
  if (type == "SS" || type == "NS" || type == "BS") {
    absl::StatusOr<std::vector<std::string>> set = StringList(value, type == "NS", type == "BS");
    if (!set.ok()) return set.status();
    return type == "SS"   ? AttributeValue::SS(*std::move(set))
           : type == "NS" ? AttributeValue::NS(*std::move(set))
                          : AttributeValue::BS(*std::move(set));
  }
  return Validation(
      absl::StrCat("Supplied AttributeValue has an unsupported or malformed type ", type));
}

}  // namespace dynamodb_internal

using dynamodb_internal::DynamoError;
using dynamodb_internal::FromTablesStatus;
using dynamodb_internal::kErrorPrefix;
using dynamodb_internal::Member;
using dynamodb_internal::Validation;

Value ToDynamoDbJson(const tables::AttributeMap& map) {
  Value out = Value::Map();
  out.Reserve(map.size());
  for (const auto& [name, value] : map) out.Add(name, ToDynamoDbJson(value));
  return out;
}

Value ToDynamoDbJson(const tables::AttributeValue& a) {
  Value out = Value::Map();
  switch (a.type()) {
    case Type::kS:
      out.Add("S", Value::String(a.scalar()));
      break;
    case Type::kN:
      out.Add("N", Value::String(a.scalar()));
      break;
    case Type::kB:
      out.Add("B", Value::Bytes(a.scalar()));
      break;
    case Type::kBool:
      out.Add("BOOL", Value::Bool(a.bool_value()));
      break;
    case Type::kNull:
      out.Add("NULL", Value::Bool(true));
      break;
    case Type::kM:
      out.Add("M", ToDynamoDbJson(a.map()));
      break;
    case Type::kL: {
      Value& list = out.Add("L", Value::List());
      for (const AttributeValue& e : a.list()) list.Append(ToDynamoDbJson(e));
      break;
    }
    case Type::kSS:
    case Type::kNS:
    case Type::kBS: {
      Value& set = out.Add(tables::TypeName(a.type()), Value::List());
      for (const std::string& e : a.set()) {
        set.Append(a.type() == Type::kBS ? Value::Bytes(e) : Value::String(e));
      }
      break;
    }
  }
  return out;
}

namespace {

std::optional<Type> KeyType(absl::string_view s) {
  if (s == "S") return Type::kS;
  if (s == "N") return Type::kN;
  if (s == "B") return Type::kB;
  return std::nullopt;
}

// AttributeDefinitions (CreateTable, UpdateTable) into `types`: attribute name -> S, N or B.
absl::Status ReadAttributeDefinitions(const std::vector<Value>& definitions,
                                      std::map<std::string, std::string>* types) {
  for (const Value& d : definitions) {
    const Value* n = Member(d, "AttributeName");
    const Value* t = Member(d, "AttributeType");
    if (n == nullptr || t == nullptr || n->type() != Value::Type::kString ||
        t->type() != Value::Type::kString || !KeyType(t->string_value())) {
      return Validation(
          "One or more parameter values were invalid: an AttributeDefinition needs an "
          "AttributeName and an AttributeType of S, N or B");
    }
    (*types)[n->string_value()] = t->string_value();
  }
  return absl::OkStatus();
}

class Handler {
 public:
  Handler(tables::TableStore& tables, const DynamoDbApi& api, const AwsCall& call)
      : tables_(tables),
        api_(api),
        call_(call),
        errors_(call.protocol),
        in_(call.input, &errors_) {}

  AwsOutcome Run() {
    const absl::string_view op = call_.operation;
    absl::StatusOr<Value> out = op == "CreateTable"     ? CreateTable()
                                : op == "DescribeTable" ? DescribeTable()
                                : op == "ListTables"    ? ListTables()
                                : op == "DeleteTable"   ? DeleteTable()
                                : op == "UpdateTable"   ? UpdateTable()
                                                        : Unknown();
    if (reply_error_.has_value()) return *reply_error_;
    if (!out.ok()) return FromTablesStatus(out.status());
    return *std::move(out);
  }

 private:
  absl::StatusOr<Value> Unknown() {
    reply_error_ =
        MakeError(kUnknownOperation, absl::StrCat("DynamoDB operation '", call_.operation,
                                                  "' is not supported by Tributary yet"));
    return Value();
  }

  // Reads TableName; false (with the error set) when the input is wrong.
  std::optional<std::string> TableName() {
    std::optional<std::string> name = in_.String("TableName");
    in_.Required("TableName", name.has_value());
    in_.Length("TableName", name, 1, 1024);
    return InputOk() ? name : std::nullopt;
  }

  bool InputOk() {
    if (std::optional<AwsError> e = errors_.Error()) {
      reply_error_ = DynamoError(absl::string_view(e->type), e->message, e->http_status);
      return false;
    }
    return true;
  }

  Value Description(const tables::TableDescription& d) {
    Value out = Value::Map();
    const tables::TableSpec& spec = d.spec;
    // Built apart and added after: a reference from Add is valid only until the next Add.
    Value definitions = Value::List();
    Value schema = Value::List();
    auto add_key = [&](const tables::KeyAttribute& k, const char* key_type) {
      Value& def = definitions.Append(Value::Map());
      def.Add("AttributeName", Value::String(k.name));
      def.Add("AttributeType", Value::String(tables::TypeName(k.type)));
      Value& element = schema.Append(Value::Map());
      element.Add("AttributeName", Value::String(k.name));
      element.Add("KeyType", Value::String(key_type));
    };
    add_key(spec.key_schema.partition_key, "HASH");
    if (spec.key_schema.sort_key.has_value()) add_key(*spec.key_schema.sort_key, "RANGE");
    // The indexes' key attributes are defined too (once each), as DynamoDB lists them.
    std::set<std::string> defined = {spec.key_schema.partition_key.name};
    if (spec.key_schema.sort_key.has_value()) defined.insert(spec.key_schema.sort_key->name);
    for (const tables::IndexSpec& index : spec.indexes) {
      for (const tables::KeyAttribute* k :
           {&index.key_schema.partition_key,
            index.key_schema.sort_key ? &*index.key_schema.sort_key : nullptr}) {
        if (k == nullptr || !defined.insert(k->name).second) continue;
        Value& def = definitions.Append(Value::Map());
        def.Add("AttributeName", Value::String(k->name));
        def.Add("AttributeType", Value::String(tables::TypeName(k->type)));
      }
    }
    out.Add("AttributeDefinitions", std::move(definitions));
    out.Add("KeySchema", std::move(schema));
    out.Add("TableName", Value::String(spec.name));
    out.Add("TableStatus",
            Value::String(d.status == tables::TableStatus::kActive ? "ACTIVE" : "DELETING"));
    out.Add("CreationDateTime", Value::Timestamp(d.creation_time));
    Value& throughput = out.Add("ProvisionedThroughput", Value::Map());
    throughput.Add("NumberOfDecreasesToday", Value::Integer(0));
    throughput.Add("ReadCapacityUnits", Value::Integer(spec.read_capacity_units));
    throughput.Add("WriteCapacityUnits", Value::Integer(spec.write_capacity_units));
    out.Add("TableSizeBytes", Value::Integer(0));
    out.Add("ItemCount", Value::Integer(0));
    out.Add("TableArn", Value::String(api_.TableArn(spec.name)));
    out.Add("TableId", Value::String(absl::StrCat(d.table_id)));
    Value& billing = out.Add("BillingModeSummary", Value::Map());
    billing.Add(
        "BillingMode",
        Value::String(spec.billing_mode == tables::BillingMode::kPayPerRequest ? "PAY_PER_REQUEST"
                                                                               : "PROVISIONED"));
    if (spec.stream.enabled) {
      Value& stream = out.Add("StreamSpecification", Value::Map());
      stream.Add("StreamEnabled", Value::Bool(true));
      stream.Add("StreamViewType",
                 Value::String(tables::StreamViewTypeName(spec.stream.view_type)));
    }
    if (!spec.indexes.empty()) AddIndexes(d, &out);
    // A stream turned off stays the latest one (DISABLED, readable for 24 h) until another is
    // turned on.
    if (!d.stream_label.empty()) {
      out.Add("LatestStreamLabel", Value::String(d.stream_label));
      out.Add("LatestStreamArn", Value::String(api_.StreamArn(spec.name, d.stream_label)));
    }
    return out;
  }

  // A KeySchema (table or index): HASH, then an optional RANGE, each defined in `types`
  // (AttributeDefinitions); adds its names to `used`.
  static absl::StatusOr<tables::KeySchema> ReadKeySchema(
      const std::vector<Value>& key_schema, const std::map<std::string, std::string>& types,
      std::set<std::string>* used) {
    if (key_schema.empty() || key_schema.size() > 2) {
      return Validation("1 validation error detected: Value at 'keySchema' failed to satisfy "
                        "constraint: Member must have length less than or equal to 2");
    }
    tables::KeySchema out;
    for (size_t i = 0; i < key_schema.size(); ++i) {
      const Value* n = Member(key_schema[i], "AttributeName");
      const Value* k = Member(key_schema[i], "KeyType");
      if (n == nullptr || k == nullptr || n->type() != Value::Type::kString ||
          k->type() != Value::Type::kString) {
        return Validation("A KeySchemaElement needs an AttributeName and a KeyType");
      }
      const std::string& key_type = k->string_value();
      if ((i == 0 && key_type != "HASH") || (i == 1 && key_type != "RANGE")) {
        return Validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type, or the second "
            "is not a RANGE key type");
      }
      auto type = types.find(n->string_value());
      if (type == types.end()) {
        return Validation(absl::StrCat(
            "One or more parameter values were invalid: Some index key attributes are not "
            "defined in AttributeDefinitions. Keys: [",
            n->string_value(), "]"));
      }
      tables::KeyAttribute attribute{n->string_value(), *KeyType(type->second)};
      used->insert(attribute.name);
      if (i == 0) {
        out.partition_key = attribute;
      } else {
        out.sort_key = attribute;
      }
    }
    return out;
  }

  // One of LocalSecondaryIndexes / GlobalSecondaryIndexes: IndexName, KeySchema, Projection
  // {ProjectionType, NonKeyAttributes}, and a global index's ProvisionedThroughput (echoed).
  absl::StatusOr<tables::IndexSpec> ReadIndex(InputReader& in, bool local,
                                              const std::map<std::string, std::string>& types,
                                              std::set<std::string>* used) {
    tables::IndexSpec index;
    index.kind = local ? tables::IndexKind::kLocal : tables::IndexKind::kGlobal;
    std::optional<std::string> name = in.String("IndexName");
    in.Required("IndexName", name.has_value());
    in.Length("IndexName", name, 3, 255);
    const std::vector<Value>* key_schema = in.List("KeySchema");
    in.Required("KeySchema", key_schema != nullptr);
    std::optional<InputReader> projection = in.Structure("Projection");
    in.Required("Projection", projection.has_value());
    if (!InputOk()) return index;
    index.name = *name;
    absl::StatusOr<tables::KeySchema> schema = ReadKeySchema(*key_schema, types, used);
    if (!schema.ok()) return schema.status();
    index.key_schema = *std::move(schema);
    std::optional<std::string> type = projection->String("ProjectionType");
    projection->Enum("ProjectionType", type, {"ALL", "KEYS_ONLY", "INCLUDE"});
    std::optional<std::vector<std::string>> non_key = projection->StringList("NonKeyAttributes");
    if (!InputOk()) return index;
    index.projection = type.value_or("") == "ALL"         ? tables::ProjectionType::kAll
                       : type.value_or("") == "INCLUDE"   ? tables::ProjectionType::kInclude
                       : type.value_or("") == "KEYS_ONLY" ? tables::ProjectionType::kKeysOnly
                                                          : tables::ProjectionType::kAll;
    if (!type.has_value()) {
      return Validation(absl::StrCat(
          "One or more parameter values were invalid: Unknown ProjectionType: null for index: ",
          index.name));
    }
    if (non_key.has_value()) index.non_key_attributes = *std::move(non_key);
    if (std::optional<InputReader> throughput = in.Structure("ProvisionedThroughput")) {
      if (local) {
        return Validation(absl::StrCat(
            "One or more parameter values were invalid: ProvisionedThroughput should not be "
            "specified for index: ",
            index.name));
      }
      index.read_capacity_units = throughput->Integer("ReadCapacityUnits").value_or(0);
      index.write_capacity_units = throughput->Integer("WriteCapacityUnits").value_or(0);
    }
    return index;
  }

  // LocalSecondaryIndexes / GlobalSecondaryIndexes of a table description. ItemCount and
  // IndexSizeBytes are 0 as the table's (not tracked); every index is ACTIVE from the start.
  void AddIndexes(const tables::TableDescription& d, Value* out) {
    Value local = Value::List(), global = Value::List();
    for (const tables::IndexSpec& index : d.spec.indexes) {
      const bool is_local = index.kind == tables::IndexKind::kLocal;
      Value& v = (is_local ? local : global).Append(Value::Map());
      v.Add("IndexName", Value::String(index.name));
      Value schema = Value::List();
      auto add_key = [&](const tables::KeyAttribute& k, const char* key_type) {
        Value& element = schema.Append(Value::Map());
        element.Add("AttributeName", Value::String(k.name));
        element.Add("KeyType", Value::String(key_type));
      };
      add_key(index.key_schema.partition_key, "HASH");
      if (index.key_schema.sort_key.has_value()) add_key(*index.key_schema.sort_key, "RANGE");
      v.Add("KeySchema", std::move(schema));
      Value projection = Value::Map();
      projection.Add("ProjectionType",
                     Value::String(index.projection == tables::ProjectionType::kAll ? "ALL"
                                   : index.projection == tables::ProjectionType::kKeysOnly
                                       ? "KEYS_ONLY"
                                       : "INCLUDE"));
      if (!index.non_key_attributes.empty()) {
        Value names = Value::List();
        for (const std::string& n : index.non_key_attributes) names.Append(Value::String(n));
        projection.Add("NonKeyAttributes", std::move(names));
      }
      v.Add("Projection", std::move(projection));
      if (!is_local) {
        v.Add("IndexStatus", Value::String("ACTIVE"));
        Value throughput = Value::Map();
        throughput.Add("NumberOfDecreasesToday", Value::Integer(0));
        throughput.Add("ReadCapacityUnits", Value::Integer(index.read_capacity_units));
        throughput.Add("WriteCapacityUnits", Value::Integer(index.write_capacity_units));
        v.Add("ProvisionedThroughput", std::move(throughput));
      }
      v.Add("IndexSizeBytes", Value::Integer(0));
      v.Add("ItemCount", Value::Integer(0));
      v.Add("IndexArn",
            Value::String(absl::StrCat(api_.TableArn(d.spec.name), "/index/", index.name)));
    }
    if (!local.list().empty()) out->Add("LocalSecondaryIndexes", std::move(local));
    if (!global.list().empty()) out->Add("GlobalSecondaryIndexes", std::move(global));
  }

  absl::StatusOr<Value> CreateTable() {
    std::optional<std::string> name = TableName();
    if (!name) return Value();
    const std::vector<Value>* key_schema = in_.List("KeySchema");
    const std::vector<Value>* definitions = in_.List("AttributeDefinitions");
    in_.Required("KeySchema", key_schema != nullptr);
    in_.Required("AttributeDefinitions", definitions != nullptr);
    in_.ListLength("KeySchema", key_schema, 1, 2);
    std::optional<std::string> billing = in_.String("BillingMode");
    in_.Enum("BillingMode", billing, {"PROVISIONED", "PAY_PER_REQUEST"});
    if (!InputOk()) return Value();
    tables::TableSpec spec;
    spec.name = *name;
    std::map<std::string, std::string> types;  // AttributeDefinitions
    if (absl::Status read = ReadAttributeDefinitions(*definitions, &types); !read.ok()) {
      return read;
    }
    std::set<std::string> used;  // every key attribute of the table and its indexes
    absl::StatusOr<tables::KeySchema> schema = ReadKeySchema(*key_schema, types, &used);
    if (!schema.ok()) return schema.status();
    spec.key_schema = *std::move(schema);
    for (const bool local : {true, false}) {
      const char* member = local ? "LocalSecondaryIndexes" : "GlobalSecondaryIndexes";
      const std::vector<Value>* indexes = in_.List(member);
      if (indexes == nullptr) continue;
      in_.ListLength(member, indexes, 1, std::numeric_limits<size_t>::max());  // the store: 5/20
      if (!InputOk()) return Value();
      for (size_t i = 0; i < indexes->size(); ++i) {
        InputReader index_in = in_.Element(member, i, (*indexes)[i]);
        absl::StatusOr<tables::IndexSpec> index =
            ReadIndex(index_in, local, types, &used);
        if (!InputOk()) return Value();
        if (!index.ok()) return index.status();
        spec.indexes.push_back(*std::move(index));
      }
    }
    if (types.size() != used.size()) {
      return Validation(
          "One or more parameter values were invalid: Number of attributes in KeySchema does not "
          "exactly match number of attributes defined in AttributeDefinitions");
    }
    spec.billing_mode = billing.value_or("PROVISIONED") == "PAY_PER_REQUEST"
                            ? tables::BillingMode::kPayPerRequest
                            : tables::BillingMode::kProvisioned;
    if (std::optional<InputReader> throughput = in_.Structure("ProvisionedThroughput")) {
      spec.read_capacity_units = throughput->Integer("ReadCapacityUnits").value_or(0);
      spec.write_capacity_units = throughput->Integer("WriteCapacityUnits").value_or(0);
    }
    std::optional<tables::StreamSpecification> stream;
    if (!ReadStreamSpecification(&stream)) return Value();
    if (stream) spec.stream = *stream;
    if (!InputOk()) return Value();
    absl::StatusOr<tables::TableDescription> d = tables_.CreateTable(spec);
    if (!d.ok()) return d.status();
    Value out = Value::Map();
    out.Add("TableDescription", Description(*d));
    return out;
  }

  absl::StatusOr<Value> DescribeTable() {
    std::optional<std::string> name = TableName();
    if (!name) return Value();
    absl::StatusOr<tables::TableDescription> d = tables_.DescribeTable(*name);
    if (!d.ok()) return d.status();
    Value out = Value::Map();
    out.Add("Table", Description(*d));
    return out;
  }

  absl::StatusOr<Value> DeleteTable() {
    std::optional<std::string> name = TableName();
    if (!name) return Value();
    absl::StatusOr<tables::TableDescription> d = tables_.DeleteTable(*name);
    if (!d.ok()) return d.status();
    Value out = Value::Map();
    out.Add("TableDescription", Description(*d));
    return out;
  }

  // StreamSpecification {StreamEnabled, StreamViewType} (CreateTable, UpdateTable) into `out`
  // (left empty when the call has none): the view type with StreamEnabled true only. Sets the
  // error and returns false when it is wrong. (Not an optional of an optional: GCC 12 at -O2
  // warns that one may be used uninitialized.)
  bool ReadStreamSpecification(std::optional<tables::StreamSpecification>* out) {
    out->reset();
    std::optional<InputReader> stream = in_.Structure("StreamSpecification");
    if (!stream) return true;
    std::optional<bool> enabled = stream->Boolean("StreamEnabled");
    std::optional<std::string> view = stream->String("StreamViewType");
    stream->Required("StreamEnabled", enabled.has_value());
    stream->Enum("StreamViewType", view,
                 {"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"});
    if (!InputOk()) return false;
    if (*enabled && !view) {
      reply_error_ = FromTablesStatus(Validation(
          "One or more parameter values were invalid: StreamViewType is required when "
          "StreamEnabled is true"));
      return false;
    }
    if (!*enabled && view) {
      reply_error_ = FromTablesStatus(Validation(
          "One or more parameter values were invalid: StreamViewType may only be given when "
          "StreamEnabled is true"));
      return false;
    }
    tables::StreamSpecification& spec = out->emplace();
    spec.enabled = *enabled;
    if (view) spec.view_type = *tables::ParseStreamViewType(*view);
    return true;
  }

  // UpdateTable's GlobalSecondaryIndexUpdates: one Create (IndexName, KeySchema, Projection,
  // ProvisionedThroughput; its key attributes in the call's AttributeDefinitions) or one Delete
  // (IndexName). More than one is DynamoDB's LimitExceededException; Update (an index's
  // throughput) is refused (not supported yet).
  absl::Status ReadIndexUpdates(tables::TableUpdate* update) {
    const std::vector<Value>* updates = in_.List("GlobalSecondaryIndexUpdates");
    if (updates == nullptr) return absl::OkStatus();
    if (updates->size() > 1) return absl::ResourceExhaustedError(tables::kOneIndexChange);
    if (updates->empty()) return absl::OkStatus();
    InputReader entry = in_.Element("GlobalSecondaryIndexUpdates", 0, (*updates)[0]);
    std::optional<InputReader> create = entry.Structure("Create");
    std::optional<InputReader> drop = entry.Structure("Delete");
    if (entry.Structure("Update").has_value()) {
      return Validation("GlobalSecondaryIndexUpdates: Update is not supported by Tributary yet");
    }
    if (create.has_value() == drop.has_value()) {
      return Validation(
          "One or more parameter values were invalid: a GlobalSecondaryIndexUpdate needs "
          "exactly one of Create, Update or Delete");
    }
    if (drop.has_value()) {
      std::optional<std::string> index = drop->String("IndexName");
      drop->Required("IndexName", index.has_value());
      if (index.has_value()) update->delete_index = *index;
      return absl::OkStatus();
    }
    std::map<std::string, std::string> types;  // the call's AttributeDefinitions
    if (const std::vector<Value>* definitions = in_.List("AttributeDefinitions")) {
      if (absl::Status read = ReadAttributeDefinitions(*definitions, &types); !read.ok()) {
        return read;
      }
    }
    std::set<std::string> used;
    absl::StatusOr<tables::IndexSpec> index = ReadIndex(*create, /*local=*/false, types, &used);
    if (!InputOk() || !index.ok()) return index.status();
    update->create_index = *std::move(index);
    return absl::OkStatus();
  }

  // UpdateTable: StreamSpecification (a new stream each time one is turned on), BillingMode,
  // ProvisionedThroughput, GlobalSecondaryIndexUpdates. Replica, encryption and class changes
  // are refused.
  absl::StatusOr<Value> UpdateTable() {
    std::optional<std::string> name = TableName();
    if (!name) return Value();
    std::optional<std::string> billing = in_.String("BillingMode");
    in_.Enum("BillingMode", billing, {"PROVISIONED", "PAY_PER_REQUEST"});
    if (!InputOk()) return Value();
    for (const char* member : {"ReplicaUpdates", "SSESpecification", "TableClass", "DeletionProtectionEnabled",
                               "OnDemandThroughput", "WarmThroughput", "MultiRegionConsistency",
                               "GlobalTableWitnessUpdates"}) {
      if (const Value* v = call_.input.Find(member); v != nullptr && !v->is_null()) {
        return Validation(absl::StrCat(member, " is not supported by Tributary yet"));
      }
    }
    tables::TableUpdate update;
    if (billing) {
      update.billing_mode = *billing == "PAY_PER_REQUEST" ? tables::BillingMode::kPayPerRequest
                                                          : tables::BillingMode::kProvisioned;
    }
    if (std::optional<InputReader> throughput = in_.Structure("ProvisionedThroughput")) {
      std::optional<int64_t> read = throughput->Integer("ReadCapacityUnits");
      std::optional<int64_t> write = throughput->Integer("WriteCapacityUnits");
      throughput->Required("ReadCapacityUnits", read.has_value());
      throughput->Required("WriteCapacityUnits", write.has_value());
      if (!InputOk()) return Value();
      update.read_capacity_units = *read;
      update.write_capacity_units = *write;
    }
    if (!ReadStreamSpecification(&update.stream)) return Value();
    absl::Status indexes = ReadIndexUpdates(&update);
    if (!InputOk()) return Value();
    if (!indexes.ok()) return indexes;
    absl::StatusOr<tables::TableDescription> d = tables_.UpdateTable(*name, update);
    if (!d.ok()) return d.status();
    Value out = Value::Map();
    out.Add("TableDescription", Description(*d));
    return out;
  }

  absl::StatusOr<Value> ListTables() {
    std::optional<std::string> start = in_.String("ExclusiveStartTableName");
    std::optional<int64_t> limit = in_.Integer("Limit");
    in_.Range("Limit", limit, 1, tables::kMaxListTablesLimit);
    if (!InputOk()) return Value();
    absl::StatusOr<tables::TableList> list =
        tables_.ListTables(start.value_or(""), static_cast<int>(limit.value_or(100)));
    if (!list.ok()) return list.status();
    Value out = Value::Map();
    Value& names = out.Add("TableNames", Value::List());
    for (const std::string& n : list->names) names.Append(Value::String(n));
    if (!list->last_evaluated_name.empty()) {
      out.Add("LastEvaluatedTableName", Value::String(list->last_evaluated_name));
    }
    return out;
  }

  tables::TableStore& tables_;
  const DynamoDbApi& api_;
  const AwsCall& call_;
  InputErrors errors_;
  InputReader in_;
  std::optional<AwsError> reply_error_;  // an input error, already in DynamoDB's form
};

}  // namespace

DynamoDbApi::DynamoDbApi(tables::TableStore& tables, DynamoDbApiOptions options)
    : tables_(tables), options_(std::move(options)) {}

const char* DynamoDbApi::ThrottlingError(absl::string_view) const {
  return "com.amazonaws.dynamodb.v20120810#ThrottlingException";
}

std::string DynamoDbApi::TableArn(absl::string_view name) const {
  return absl::StrCat("arn:aws:dynamodb:", options_.region, ":", options_.account_id, ":table/",
                      name);
}

std::string DynamoDbApi::StreamArn(absl::string_view table, absl::string_view label) const {
  return absl::StrCat(TableArn(table), "/stream/", label);
}

AwsOutcome DynamoDbApi::Call(const AwsCall& call) {
  if (std::optional<AwsOutcome> items = dynamodb_internal::CallItemOperation(tables_, call)) {
    return *std::move(items);
  }
  return Handler(tables_, *this, call).Run();
}

}  // namespace tributary::aws
