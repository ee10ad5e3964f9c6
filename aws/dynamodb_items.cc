// The DynamoDB item operations: read the input (InputReader for the model's shapes,
// ParseAttributeValue for AttributeValues), parse the expressions against the request's
// ExpressionAttributeNames / ExpressionAttributeValues (tables/expression.h), call TableStore,
// render the output. Per item of a transaction or batch, its own names and values.
//
// Answers as DynamoDB: ConditionalCheckFailedException (with "Item" under
// ReturnValuesOnConditionCheckFailure ALL_OLD), TransactionCanceledException with
// CancellationReasons, ValidationException for bad expressions and for the legacy parameters
// (Expected, AttributeUpdates, KeyConditions, QueryFilter, ScanFilter, ConditionalOperator),
// which Tributary does not implement.
#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "aws/dynamodb_handler.h"
#include "aws/dynamodb_internal.h"
#include "aws/input_reader.h"
#include "aws/json_codec.h"
#include "tables/capacity.h"
#include "tables/condition.h"
#include "tables/expression.h"
#include "tables/item_requests.h"
#include "tables/projection.h"
#include "tables/update_expression.h"

namespace tributary::aws::dynamodb_internal {
namespace {

using tables::AttributeMap;
using tables::AttributeValue;

// The expressions one request (or one item of a transaction or batch) carries.
using Expressions = tables::RequestExpressions;

// Which expression members an operation takes.
struct Allowed {
  bool condition = false;
  bool filter = false;
  bool projection = false;
  bool update = false;
  const tables::KeySchema* key_condition = nullptr;  // Query: the table's schema
};

Value ItemsJson(const std::vector<AttributeMap>& items) {
  Value list = Value::List();
  list.Reserve(items.size());
  for (const AttributeMap& item : items) list.Append(ToDynamoDbJson(item));
  return list;
}

// Reads `container`'s expression members (through `in`, its reader) and parses them.
absl::StatusOr<Expressions> ReadExpressions(InputReader& in, const Value& container,
                                            const Allowed& allowed) {
  static const char* const kLegacy[][2] = {
      {"Expected", "ConditionExpression"},     {"AttributeUpdates", "UpdateExpression"},
      {"KeyConditions", "KeyConditionExpression"}, {"QueryFilter", "FilterExpression"},
      {"ScanFilter", "FilterExpression"},      {"ConditionalOperator", "the expressions"}};
  for (const auto& [legacy, expression] : kLegacy) {
    const Value* v = Member(container, legacy);
    if (v != nullptr && !v->is_null()) {
      return Validation(absl::StrCat("Tributary takes DynamoDB's expression parameters only: use ",
                                     expression, " instead of ", legacy));
    }
  }
  std::optional<std::string> condition, filter, projection, update, key_condition;
  if (allowed.condition) condition = in.String("ConditionExpression");
  if (allowed.filter) filter = in.String("FilterExpression");
  if (allowed.projection) projection = in.String("ProjectionExpression");
  if (allowed.update) update = in.String("UpdateExpression");
  if (allowed.key_condition != nullptr) key_condition = in.String("KeyConditionExpression");
  std::optional<std::vector<std::string>> to_get;
  if (allowed.projection) to_get = in.StringList("AttributesToGet");
  std::optional<InputReader::StringPairs> names = in.StringMap("ExpressionAttributeNames");
  if (in.errors()->Error().has_value()) return Expressions();  // the caller reports it

  tables::ExpressionTexts texts;
  texts.condition = std::move(condition);
  texts.filter = std::move(filter);
  texts.projection = std::move(projection);
  texts.update = std::move(update);
  texts.key_condition = std::move(key_condition);
  texts.attributes_to_get = std::move(to_get);
  if (names.has_value()) texts.names.emplace(names->begin(), names->end());
  const Value* raw_values = Member(container, "ExpressionAttributeValues");
  if (raw_values != nullptr && !raw_values->is_null()) {
    if (raw_values->type() != Value::Type::kMap) {
      return Validation("ExpressionAttributeValues must be a map of AttributeValues");
    }
    texts.values.emplace();
    for (const auto& [key, raw] : raw_values->members()) {
      absl::StatusOr<AttributeValue> v = ParseAttributeValue(raw, 0);
      if (!v.ok()) {
        return Validation(absl::StrCat("ExpressionAttributeValues contains invalid value: ",
                                       v.status().message(), " for key ", key));
      }
      (*texts.values)[key] = *std::move(v);
    }
  }
  return tables::ParseRequestExpressions(std::move(texts), allowed.key_condition);
}

AttributeMap Projected(const AttributeMap& item, const std::optional<tables::Projection>& p) {
  return p.has_value() ? tables::Project(item, *p) : item;
}

const char* ReasonCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return "None";
    case absl::StatusCode::kFailedPrecondition:
      return "ConditionalCheckFailed";
    case absl::StatusCode::kInvalidArgument:
      return "ValidationError";
    default:
      return "InternalError";
  }
}

// ReturnConsumedCapacity.
enum class CapacityMode { kNone, kTotal, kIndexes };

// {CapacityUnits, ReadCapacityUnits, WriteCapacityUnits} (the last two when not 0).
Value UnitsJson(const tables::CapacityUnits& units) {
  Value out = Value::Map();
  out.Add("CapacityUnits", Value::Double(units.Total()));
  if (units.read > 0) out.Add("ReadCapacityUnits", Value::Double(units.read));
  if (units.write > 0) out.Add("WriteCapacityUnits", Value::Double(units.write));
  return out;
}

// One ConsumedCapacity (tables::Consumed): TOTAL gives the table's name and the units of the
// table and its indexes together; INDEXES adds Table and each index (LocalSecondaryIndexes /
// GlobalSecondaryIndexes).
Value CapacityJson(const std::string& table, const tables::TableCapacity& c,
                   const tables::TableSpec& spec, CapacityMode mode) {
  const tables::ConsumedCapacity consumed = tables::Consumed(table, c, spec);
  Value named = Value::Map();
  named.Add("TableName", Value::String(table));
  const Value total = UnitsJson(consumed.total);
  for (const Value::Member& m : total.members()) named.Add(m.first, m.second);
  if (mode != CapacityMode::kIndexes) return named;
  named.Add("Table", UnitsJson(consumed.table));
  Value local = Value::Map(), global = Value::Map();
  for (const auto& [name, units] : consumed.local_indexes) local.Add(name, UnitsJson(units));
  for (const auto& [name, units] : consumed.global_indexes) global.Add(name, UnitsJson(units));
  if (!local.members().empty()) named.Add("LocalSecondaryIndexes", std::move(local));
  if (!global.members().empty()) named.Add("GlobalSecondaryIndexes", std::move(global));
  return named;
}

class ItemHandler {
 public:
  ItemHandler(tables::TableStore& tables, const AwsCall& call)
      : tables_(tables), call_(call), errors_(call.protocol), in_(call.input, &errors_) {}

  std::optional<AwsOutcome> Run() {
    const absl::string_view op = call_.operation;
    absl::StatusOr<Value> out;
    if (op == "PutItem") {
      out = PutItem();
    } else if (op == "GetItem") {
      out = GetItem();
    } else if (op == "DeleteItem") {
      out = DeleteItem();
    } else if (op == "UpdateItem") {
      out = UpdateItem();
    } else if (op == "Query") {
      out = Read(/*query=*/true);
    } else if (op == "Scan") {
      out = Read(/*query=*/false);
    } else if (op == "BatchGetItem") {
      out = BatchGetItem();
    } else if (op == "BatchWriteItem") {
      out = BatchWriteItem();
    } else if (op == "TransactWriteItems") {
      out = TransactWriteItems();
    } else if (op == "TransactGetItems") {
      out = TransactGetItems();
    } else {
      return std::nullopt;
    }
    if (reply_error_.has_value()) return AwsOutcome(*reply_error_);
    if (!out.ok()) return AwsOutcome(FromTablesStatus(out.status()));
    return AwsOutcome(*std::move(out));
  }

 private:
  // Converts the input errors recorded so far into the reply (false when there are any).
  bool InputOk() {
    if (reply_error_.has_value()) return false;
    if (std::optional<AwsError> e = errors_.Error()) {
      reply_error_ = DynamoError(e->type, e->message, e->http_status);
      return false;
    }
    return true;
  }

  // ReturnConsumedCapacity of the request.
  CapacityMode ReadCapacityMode() {
    std::optional<std::string> v = in_.String("ReturnConsumedCapacity");
    in_.Enum("ReturnConsumedCapacity", v, {"INDEXES", "TOTAL", "NONE"});
    return v.value_or("NONE") == "INDEXES" ? CapacityMode::kIndexes
           : v.value_or("NONE") == "TOTAL" ? CapacityMode::kTotal
                                           : CapacityMode::kNone;
  }

  // The spec of `table` (its indexes), or an empty one when it is gone.
  tables::TableSpec SpecOf(const std::string& table) {
    absl::StatusOr<tables::TableDescription> d = tables_.DescribeTable(table);
    return d.ok() ? d->spec : tables::TableSpec();
  }

  // Adds ConsumedCapacity (one table) to `out` unless the mode is NONE.
  void AddCapacity(Value* out, const std::string& table, const tables::TableCapacity& c,
                   CapacityMode mode, const tables::TableSpec* spec = nullptr) {
    if (mode == CapacityMode::kNone) return;
    out->Add("ConsumedCapacity",
             CapacityJson(table, c, spec != nullptr ? *spec : SpecOf(table), mode));
  }

  // Adds ConsumedCapacity as a list, one per table (BatchGetItem, BatchWriteItem, the
  // transactions).
  void AddCapacities(Value* out, const std::map<std::string, tables::TableCapacity>& by_table,
                     CapacityMode mode) {
    if (mode == CapacityMode::kNone) return;
    Value list = Value::List();
    for (const auto& [table, c] : by_table) list.Append(CapacityJson(table, c, SpecOf(table), mode));
    out->Add("ConsumedCapacity", std::move(list));
  }

  // The write units of a batch's or transaction's writes, by table.
  std::map<std::string, tables::TableCapacity> WriteCapacities(
      const std::vector<tables::ItemWrite>& writes,
      const std::vector<tables::WriteOutcome>& outcomes, bool transactional) {
    return tables::WriteCapacities(writes, outcomes, transactional,
                                   [this](const std::string& table) { return SpecOf(table); });
  }

  // TableName of `in` (required, 3-255 characters of [a-zA-Z0-9_.-], as the model says).
  std::optional<std::string> TableName(InputReader& in) {
    std::optional<std::string> name = in.String("TableName");
    in.Required("TableName", name.has_value());
    in.Length("TableName", name, 1, 1024);
    return InputOk() ? name : std::nullopt;
  }

  // A required map of AttributeValues (Item, Key).
  absl::StatusOr<AttributeMap> ReadMap(const Value& container, const char* member) {
    const Value* v = Member(container, member);
    if (v == nullptr || v->is_null()) {
      return Validation(absl::StrCat("1 validation error detected: Value null at '", member,
                                     "' failed to satisfy constraint: Member must not be null"));
    }
    return ParseAttributeMap(*v, 0);
  }

  // ReturnValues, one of `allowed` (all valid names are accepted by the model first).
  std::optional<std::string> ReturnValues(std::initializer_list<absl::string_view> allowed) {
    std::optional<std::string> rv = in_.String("ReturnValues");
    in_.Enum("ReturnValues", rv, {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"});
    if (!InputOk()) return std::nullopt;
    const std::string value = rv.value_or("NONE");
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      reply_error_ = DynamoError(kValidation, "Return values set to invalid value");
      return std::nullopt;
    }
    return value;
  }

  // ReturnValuesOnConditionCheckFailure of `in`: whether ALL_OLD.
  bool ReturnItemOnFailure(InputReader& in) {
    std::optional<std::string> v = in.String("ReturnValuesOnConditionCheckFailure");
    in.Enum("ReturnValuesOnConditionCheckFailure", v, {"ALL_OLD", "NONE"});
    return v.value_or("NONE") == "ALL_OLD";
  }

  // A failed write's error; a failed condition carries the item when asked.
  AwsError WriteError(const absl::Status& status, bool return_item) {
    AwsError error = FromTablesStatus(status);
    if (return_item) {
      if (std::optional<AttributeMap> item = tables::ItemOfFailedCondition(status)) {
        error.details = Value::Map();
        error.details.Add("Item", ToDynamoDbJson(*item));
      }
    }
    return error;
  }

  static Value Attributes(const std::optional<AttributeMap>& item) {
    Value out = Value::Map();
    if (item.has_value() && !item->empty()) out.Add("Attributes", ToDynamoDbJson(*item));
    return out;
  }

  absl::StatusOr<Value> PutItem() { return PutOrDelete(/*put=*/true); }
  absl::StatusOr<Value> DeleteItem() { return PutOrDelete(/*put=*/false); }

  absl::StatusOr<Value> PutOrDelete(bool put) {
    std::optional<std::string> name = TableName(in_);
    if (!name) return Value();
    absl::StatusOr<AttributeMap> item = ReadMap(call_.input, put ? "Item" : "Key");
    if (!item.ok()) return item.status();
    std::optional<std::string> rv = ReturnValues({"NONE", "ALL_OLD"});
    const bool return_item = ReturnItemOnFailure(in_);
    const CapacityMode capacity = ReadCapacityMode();
    if (!rv || !InputOk()) return Value();
    Allowed allowed;
    allowed.condition = true;
    absl::StatusOr<Expressions> e = ReadExpressions(in_, call_.input, allowed);
    if (!InputOk()) return Value();
    if (!e.ok()) return e.status();
    std::optional<AttributeMap> written;
    if (put && capacity != CapacityMode::kNone) written = *item;
    absl::StatusOr<std::optional<AttributeMap>> old =
        put ? tables_.PutItem(*name, *std::move(item), e->condition)
            : tables_.DeleteItem(*name, *item, e->condition);
    if (!old.ok()) {
      reply_error_ = WriteError(old.status(), return_item);
      return Value();
    }
    Value out = Attributes(*rv == "ALL_OLD" ? *old : std::nullopt);
    if (capacity != CapacityMode::kNone) {
      const tables::TableSpec spec = SpecOf(*name);
      AddCapacity(&out, *name, tables::WriteCapacity(spec, *old, written, false), capacity,
                  &spec);
    }
    return out;
  }

  absl::StatusOr<Value> UpdateItem() {
    std::optional<std::string> name = TableName(in_);
    if (!name) return Value();
    absl::StatusOr<AttributeMap> key = ReadMap(call_.input, "Key");
    if (!key.ok()) return key.status();
    std::optional<std::string> rv =
        ReturnValues({"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"});
    const bool return_item = ReturnItemOnFailure(in_);
    const CapacityMode capacity = ReadCapacityMode();
    if (!rv || !InputOk()) return Value();
    Allowed allowed;
    allowed.condition = true;
    allowed.update = true;
    absl::StatusOr<Expressions> e = ReadExpressions(in_, call_.input, allowed);
    if (!InputOk()) return Value();
    if (!e.ok()) return e.status();
    const tables::UpdateExpression update = e->update.value_or(tables::UpdateExpression());
    absl::StatusOr<tables::WriteOutcome> outcome =
        tables_.UpdateItem(*name, *key, update, e->condition);
    if (!outcome.ok()) {
      reply_error_ = WriteError(outcome.status(), return_item);
      return Value();
    }
    static const std::pair<const char*, tables::ReturnValues> kReturnValues[] = {
        {"NONE", tables::ReturnValues::kNone},
        {"ALL_OLD", tables::ReturnValues::kAllOld},
        {"UPDATED_OLD", tables::ReturnValues::kUpdatedOld},
        {"ALL_NEW", tables::ReturnValues::kAllNew},
        {"UPDATED_NEW", tables::ReturnValues::kUpdatedNew}};
    tables::ReturnValues returns = tables::ReturnValues::kNone;
    for (const auto& [name, value] : kReturnValues) {
      if (*rv == name) returns = value;
    }
    const std::optional<AttributeMap> attributes =
        tables::UpdateReturnValues(returns, *outcome, update);
    Value out = Attributes(attributes);
    if (capacity != CapacityMode::kNone) {
      const tables::TableSpec spec = SpecOf(*name);
      AddCapacity(&out, *name,
                  tables::WriteCapacity(spec, outcome->old_item, outcome->new_item, false),
                  capacity, &spec);
    }
    return out;
  }

  absl::StatusOr<Value> GetItem() {
    std::optional<std::string> name = TableName(in_);
    if (!name) return Value();
    absl::StatusOr<AttributeMap> key = ReadMap(call_.input, "Key");
    if (!key.ok()) return key.status();
    // Every read is consistent; an eventually consistent one is charged as one.
    const bool consistent = in_.Boolean("ConsistentRead").value_or(false);
    const CapacityMode capacity = ReadCapacityMode();
    Allowed allowed;
    allowed.projection = true;
    absl::StatusOr<Expressions> e = ReadExpressions(in_, call_.input, allowed);
    if (!InputOk()) return Value();
    if (!e.ok()) return e.status();
    absl::StatusOr<std::optional<AttributeMap>> item = tables_.GetItem(*name, *key);
    if (!item.ok()) return item.status();
    Value out = Value::Map();
    if (item->has_value()) out.Add("Item", ToDynamoDbJson(Projected(**item, e->projection)));
    tables::TableCapacity c;
    c.table_read =
        tables::ReadUnits(item->has_value() ? tables::ItemSize(**item) : 0, consistent);
    AddCapacity(&out, *name, c, capacity);
    return out;
  }

  absl::StatusOr<Value> Read(bool query) {
    std::optional<std::string> name = TableName(in_);
    if (!name) return Value();
    std::optional<std::string> index = in_.String("IndexName");
    std::optional<std::string> select = in_.String("Select");
    in_.Enum("Select", select,
             {"ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"});
    std::optional<int64_t> limit = in_.Integer("Limit");
    in_.Range("Limit", limit, 1, std::numeric_limits<int32_t>::max());
    std::optional<bool> forward = in_.Boolean("ScanIndexForward");
    std::optional<int64_t> segment = in_.Integer("Segment");
    std::optional<int64_t> total_segments = in_.Integer("TotalSegments");
    in_.Range("Segment", segment, 0, tables::kMaxTotalSegments - 1);
    in_.Range("TotalSegments", total_segments, 1, tables::kMaxTotalSegments);
    std::optional<bool> consistent = in_.Boolean("ConsistentRead");
    in_.Length("IndexName", index, 3, 255);
    const CapacityMode capacity = ReadCapacityMode();
    if (!InputOk()) return Value();
    absl::StatusOr<tables::TableDescription> table = tables_.DescribeTable(*name);
    if (!table.ok()) return table.status();
    absl::StatusOr<const tables::IndexSpec*> found =
        tables::FindReadIndex(table->spec, index, consistent.value_or(false));
    if (!found.ok()) return found.status();
    const tables::IndexSpec* const index_spec = *found;
    Allowed allowed;
    allowed.filter = true;
    allowed.projection = true;
    if (query) {
      allowed.key_condition =
          index_spec != nullptr ? &index_spec->key_schema : &table->spec.key_schema;
    }
    absl::StatusOr<Expressions> e = ReadExpressions(in_, call_.input, allowed);
    if (!InputOk()) return Value();
    if (!e.ok()) return e.status();
    if (query && !e->key_condition.has_value()) {
      return Validation(
          "Either the KeyConditions or KeyConditionExpression parameter must be specified in "
          "the request.");
    }
    if (segment.has_value() != total_segments.has_value()) {
      return Validation(segment.has_value()
                            ? "The TotalSegments parameter is required but was not present in "
                              "the request when Segment parameter is present"
                            : "The Segment parameter is required but was not present in the "
                              "request when parameter TotalSegments is present");
    }
    std::optional<tables::SelectMode> select_mode;
    if (select.has_value()) {
      static const std::pair<const char*, tables::SelectMode> kSelects[] = {
          {"ALL_ATTRIBUTES", tables::SelectMode::kAllAttributes},
          {"ALL_PROJECTED_ATTRIBUTES", tables::SelectMode::kAllProjectedAttributes},
          {"SPECIFIC_ATTRIBUTES", tables::SelectMode::kSpecificAttributes},
          {"COUNT", tables::SelectMode::kCount}};
      for (const auto& [text, mode] : kSelects) {
        if (*select == text) select_mode = mode;
      }
    }
    tables::ReadRequest request;
    request.table = *name;
    absl::StatusOr<tables::SelectMode> how =
        tables::PlanRead(table->spec, index_spec, select_mode, e->projection, query, &request);
    if (!how.ok()) return how.status();
    request.key_condition = e->key_condition;
    request.forward = forward.value_or(true);
    request.limit = limit.value_or(0);
    request.filter = e->filter;
    request.projection = e->projection;
    request.segment = static_cast<int>(segment.value_or(0));
    request.total_segments = static_cast<int>(total_segments.value_or(1));
    if (const Value* start = Member(call_.input, "ExclusiveStartKey");
        start != nullptr && !start->is_null()) {
      absl::StatusOr<AttributeMap> key = ParseAttributeMap(*start, 0);
      if (!key.ok()) {
        return Validation(
            absl::StrCat("The provided starting key is invalid: ", key.status().message()));
      }
      request.exclusive_start_key = *std::move(key);
    }
    absl::StatusOr<tables::ItemPage> page =
        query ? tables_.Query(request) : tables_.Scan(request);
    if (!page.ok()) return page.status();
    Value out = Value::Map();
    if (*how != tables::SelectMode::kCount) out.Add("Items", ItemsJson(page->items));
    out.Add("Count", Value::Integer(static_cast<int64_t>(page->items.size())));
    out.Add("ScannedCount", Value::Integer(page->scanned_count));
    if (page->last_evaluated_key.has_value()) {
      out.Add("LastEvaluatedKey", ToDynamoDbJson(*page->last_evaluated_key));
    }
    if (capacity != CapacityMode::kNone) {
      AddCapacity(&out, *name,
                  tables::PageCapacity(index_spec, page->bytes_read, page->table_bytes_fetched,
                                       consistent.value_or(false)),
                  capacity, &table->spec);
    }
    return out;
  }

  absl::StatusOr<Value> BatchGetItem() {
    const Value* request_items = Member(call_.input, "RequestItems");
    if (request_items == nullptr || request_items->type() != Value::Type::kMap ||
        request_items->members().empty()) {
      return Validation(
          "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
          "Member must have length greater than or equal to 1");
    }
    struct TableRead {
      std::string table;
      const Value* spec;
      std::optional<tables::Projection> projection;
      size_t first = 0;  // its keys' index in `keys`
      size_t count = 0;
      bool consistent = false;
    };
    const CapacityMode capacity = ReadCapacityMode();
    if (!InputOk()) return Value();
    std::vector<TableRead> reads;
    std::vector<tables::ItemKey> keys;
    for (const auto& [table, spec] : request_items->members()) {
      InputErrors errors(call_.protocol);
      InputReader in(spec, &errors, absl::StrCat("requestItems.", table, ".member"));
      const std::vector<Value>* list = in.List("Keys");
      in.Required("Keys", list != nullptr);
      in.ListLength("Keys", list, 1, std::numeric_limits<size_t>::max());  // 100 in all: below
      const bool consistent = in.Boolean("ConsistentRead").value_or(false);
      Allowed allowed;
      allowed.projection = true;
      absl::StatusOr<Expressions> e = ReadExpressions(in, spec, allowed);
      if (std::optional<AwsError> error = errors.Error()) {
        reply_error_ = DynamoError(error->type, error->message, error->http_status);
        return Value();
      }
      if (!e.ok()) return e.status();
      TableRead read{table, &spec, e->projection, keys.size(), list->size(), consistent};
      for (const Value& raw : *list) {
        absl::StatusOr<AttributeMap> key = ParseAttributeMap(raw, 0);
        if (!key.ok()) return key.status();
        for (size_t k = read.first; k < keys.size(); ++k) {
          if (tables::ItemsEqual(keys[k].key, *key)) {
            return Validation("Provided list of item keys contains duplicates");
          }
        }
        keys.push_back(tables::ItemKey{table, *std::move(key)});
      }
      reads.push_back(std::move(read));
    }
    if (keys.size() > static_cast<size_t>(tables::kMaxBatchGetItems)) {
      return Validation("Too many items requested for the BatchGetItem call");
    }
    absl::StatusOr<std::vector<std::optional<AttributeMap>>> items = tables_.GetItems(keys);
    if (!items.ok()) return items.status();
    Value responses = Value::Map();
    Value unprocessed = Value::Map();
    int64_t bytes = 0;
    std::map<std::string, tables::TableCapacity> consumed;
    for (const TableRead& read : reads) {
      std::vector<AttributeMap> found;
      Value left = Value::List();
      for (size_t k = read.first; k < read.first + read.count; ++k) {
        const std::optional<AttributeMap>& item = (*items)[k];
        if (bytes >= tables::kMaxBatchGetBytes) {
          left.Append(ToDynamoDbJson(keys[k].key));
          continue;
        }
        // Each item's read is rounded on its own (a missing one costs the minimum).
        consumed[read.table].table_read +=
            tables::ReadUnits(item ? tables::ItemSize(*item) : 0, read.consistent);
        if (!item.has_value()) continue;
        bytes += tables::ItemSize(*item);
        found.push_back(Projected(*item, read.projection));
      }
      responses.Add(read.table, ItemsJson(found));
      if (!left.list().empty()) {
        // The request's own settings for this table, with the keys not read.
        Value again = Value::Map();
        again.Add("Keys", std::move(left));
        for (const Value::Member& m : read.spec->members()) {
          if (m.first != "Keys") again.Add(m.first, m.second);
        }
        unprocessed.Add(read.table, std::move(again));
      }
    }
    Value out = Value::Map();
    out.Add("Responses", std::move(responses));
    out.Add("UnprocessedKeys", std::move(unprocessed));
    AddCapacities(&out, consumed, capacity);
    return out;
  }

  absl::StatusOr<Value> BatchWriteItem() {
    const Value* request_items = Member(call_.input, "RequestItems");
    if (request_items == nullptr || request_items->type() != Value::Type::kMap ||
        request_items->members().empty()) {
      return Validation(
          "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
          "Member must have length greater than or equal to 1");
    }
    std::vector<tables::ItemWrite> writes;
    for (const auto& [table, list] : request_items->members()) {
      if (list.type() != Value::Type::kList || list.list().empty()) {
        return Validation(absl::StrCat("The list of write requests of table ", table,
                                       " must hold 1-25 requests"));
      }
      for (const Value& request : list.list()) {
        const Value* put = Member(request, "PutRequest");
        const Value* del = Member(request, "DeleteRequest");
        if ((put == nullptr) == (del == nullptr)) {
          return Validation(
              "A WriteRequest must hold exactly one of PutRequest and DeleteRequest");
        }
        tables::ItemWrite w;
        w.table = table;
        w.kind = put != nullptr ? tables::ItemWrite::Kind::kPut : tables::ItemWrite::Kind::kDelete;
        absl::StatusOr<AttributeMap> item =
            ReadMap(put != nullptr ? *put : *del, put != nullptr ? "Item" : "Key");
        if (!item.ok()) return item.status();
        w.item = *std::move(item);
        writes.push_back(std::move(w));
      }
    }
    if (writes.size() > static_cast<size_t>(tables::kMaxBatchWriteItems)) {
      return Validation("Too many items requested for the BatchWriteItem call");
    }
    const CapacityMode capacity = ReadCapacityMode();
    if (!InputOk()) return Value();
    std::vector<tables::WriteOutcome> outcomes;
    if (absl::Status s = tables_.BatchWriteItem(writes, &outcomes); !s.ok()) return s;
    Value out = Value::Map();
    out.Add("UnprocessedItems", Value::Map());
    AddCapacities(&out, WriteCapacities(writes, outcomes, /*transactional=*/false), capacity);
    return out;
  }

  absl::StatusOr<Value> TransactWriteItems() {
    const std::vector<Value>* list = in_.List("TransactItems");
    in_.Required("TransactItems", list != nullptr);
    in_.ListLength("TransactItems", list, 1, tables::kMaxTransactionItems);
    std::optional<std::string> token = in_.String("ClientRequestToken");
    in_.Length("ClientRequestToken", token, 1, 36);
    const CapacityMode capacity = ReadCapacityMode();
    if (!InputOk()) return Value();
    std::vector<tables::ItemWrite> writes;
    std::vector<bool> return_items;
    for (size_t i = 0; i < list->size(); ++i) {
      const Value& element = (*list)[i];
      static const std::pair<const char*, tables::ItemWrite::Kind> kKinds[] = {
          {"ConditionCheck", tables::ItemWrite::Kind::kConditionCheck},
          {"Put", tables::ItemWrite::Kind::kPut},
          {"Delete", tables::ItemWrite::Kind::kDelete},
          {"Update", tables::ItemWrite::Kind::kUpdate}};
      const Value* body = nullptr;
      tables::ItemWrite w;
      int found = 0;
      for (const auto& [member, kind] : kKinds) {
        const Value* v = Member(element, member);
        if (v == nullptr || v->is_null()) continue;
        body = v;
        w.kind = kind;
        ++found;
      }
      if (found != 1) {
        return Validation(
            "TransactItems can only contain one of Check, Put, Update or Delete");
      }
      InputReader item_in = in_.Element("TransactItems", i, element);
      std::optional<InputReader> in = item_in.Structure(
          w.kind == tables::ItemWrite::Kind::kConditionCheck ? "ConditionCheck"
          : w.kind == tables::ItemWrite::Kind::kPut          ? "Put"
          : w.kind == tables::ItemWrite::Kind::kDelete       ? "Delete"
                                                             : "Update");
      if (!in.has_value() || !InputOk()) return Value();
      std::optional<std::string> table = TableName(*in);
      if (!table) return Value();
      w.table = *table;
      return_items.push_back(ReturnItemOnFailure(*in));
      absl::StatusOr<AttributeMap> item =
          ReadMap(*body, w.kind == tables::ItemWrite::Kind::kPut ? "Item" : "Key");
      if (!item.ok()) return item.status();
      w.item = *std::move(item);
      Allowed allowed;
      allowed.condition = true;
      allowed.update = w.kind == tables::ItemWrite::Kind::kUpdate;
      absl::StatusOr<Expressions> e = ReadExpressions(*in, *body, allowed);
      if (!InputOk()) return Value();
      if (!e.ok()) return e.status();
      if (w.kind == tables::ItemWrite::Kind::kUpdate && !e->update.has_value()) {
        return Validation("1 validation error detected: Value null at "
                          "'transactItems.member.updateExpression' failed to satisfy "
                          "constraint: Member must not be null");
      }
      if (w.kind == tables::ItemWrite::Kind::kConditionCheck && !e->condition.has_value()) {
        return Validation("1 validation error detected: Value null at "
                          "'transactItems.member.conditionExpression' failed to satisfy "
                          "constraint: Member must not be null");
      }
      w.condition = std::move(e->condition);
      if (e->update.has_value()) w.update = *std::move(e->update);
      writes.push_back(std::move(w));
    }
    std::optional<tables::TransactionToken> idempotency;
    if (token.has_value()) {
      // The same request is the same TransactItems (as the client sends them again).
      idempotency = tables::TransactionToken{*token, WriteJson(*call_.input.Find("TransactItems"))};
    }
    absl::StatusOr<tables::TransactionOutcome> outcome =
        tables_.TransactWriteItems(writes, idempotency);
    if (!outcome.ok()) {
      const std::string code = tables::TransactionTokenError(outcome.status());
      if (code.empty()) return outcome.status();
      reply_error_ = DynamoError(code, std::string(outcome.status().message()));
      return Value();
    }
    if (outcome->committed()) {
      Value out = Value::Map();
      AddCapacities(&out, WriteCapacities(writes, outcome->outcomes, /*transactional=*/true),
                    capacity);
      return out;
    }
    std::vector<std::string> codes;
    Value reasons = Value::List();
    for (size_t i = 0; i < outcome->cancellation_reasons.size(); ++i) {
      const tables::CancellationReason& r = outcome->cancellation_reasons[i];
      codes.push_back(ReasonCode(r.status));
      Value& reason = reasons.Append(Value::Map());
      reason.Add("Code", Value::String(codes.back()));
      if (!r.status.ok()) reason.Add("Message", Value::String(std::string(r.status.message())));
      if (return_items[i] && r.item.has_value()) reason.Add("Item", ToDynamoDbJson(*r.item));
    }
    AwsError error = DynamoError(
        "TransactionCanceledException",
        absl::StrCat("Transaction cancelled, please refer cancellation reasons for specific "
                     "reasons [",
                     absl::StrJoin(codes, ", "), "]"));
    error.details = Value::Map();
    error.details.Add("CancellationReasons", std::move(reasons));
    reply_error_ = std::move(error);
    return Value();
  }

  absl::StatusOr<Value> TransactGetItems() {
    const std::vector<Value>* list = in_.List("TransactItems");
    in_.Required("TransactItems", list != nullptr);
    in_.ListLength("TransactItems", list, 1, tables::kMaxTransactionItems);
    const CapacityMode capacity = ReadCapacityMode();
    if (!InputOk()) return Value();
    std::vector<tables::ItemKey> keys;
    std::vector<std::optional<tables::Projection>> projections;
    for (size_t i = 0; i < list->size(); ++i) {
      const Value* get = Member((*list)[i], "Get");
      if (get == nullptr || get->is_null()) {
        return Validation("1 validation error detected: Value null at "
                          "'transactItems.member.get' failed to satisfy constraint: Member must "
                          "not be null");
      }
      InputReader element = in_.Element("TransactItems", i, (*list)[i]);
      std::optional<InputReader> in = element.Structure("Get");
      if (!in.has_value() || !InputOk()) return Value();
      std::optional<std::string> table = TableName(*in);
      if (!table) return Value();
      absl::StatusOr<AttributeMap> key = ReadMap(*get, "Key");
      if (!key.ok()) return key.status();
      Allowed allowed;
      allowed.projection = true;
      absl::StatusOr<Expressions> e = ReadExpressions(*in, *get, allowed);
      if (!InputOk()) return Value();
      if (!e.ok()) return e.status();
      keys.push_back(tables::ItemKey{*table, *std::move(key)});
      projections.push_back(std::move(e->projection));
    }
    absl::StatusOr<std::vector<std::optional<AttributeMap>>> items = tables_.GetItems(keys);
    if (!items.ok()) return items.status();
    Value responses = Value::List();
    for (size_t i = 0; i < items->size(); ++i) {
      Value& response = responses.Append(Value::Map());
      const std::optional<AttributeMap>& item = (*items)[i];
      if (item.has_value()) response.Add("Item", ToDynamoDbJson(Projected(*item, projections[i])));
    }
    std::map<std::string, tables::TableCapacity> consumed;
    for (size_t i = 0; i < items->size(); ++i) {
      const std::optional<AttributeMap>& item = (*items)[i];
      consumed[keys[i].table].table_read += tables::ReadUnits(
          item ? tables::ItemSize(*item) : 0, /*consistent=*/true, /*transactional=*/true);
    }
    Value out = Value::Map();
    out.Add("Responses", std::move(responses));
    AddCapacities(&out, consumed, capacity);
    return out;
  }

  tables::TableStore& tables_;
  const AwsCall& call_;
  InputErrors errors_;
  InputReader in_;
  std::optional<AwsError> reply_error_;  // an error already in DynamoDB's form
};

}  // namespace

std::optional<AwsOutcome> CallItemOperation(tables::TableStore& tables, const AwsCall& call) {
  return ItemHandler(tables, call).Run();
}

}  // namespace tributary::aws::dynamodb_internal
