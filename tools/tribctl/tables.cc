#include "tools/tribctl/tables.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "common/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/json_util.h"
#include "tools/tribctl/format.h"

namespace tributary::tribctl {
namespace {

using google::protobuf::Value;

absl::Status Bad(absl::string_view flag, absl::string_view what) {
  return UsageError(absl::StrCat("--", flag, ": ", what));
}

absl::Status ToAttribute(absl::string_view flag, const std::string& path, const Value& v,
                         v1::AttributeValue* out);

absl::Status ToMap(absl::string_view flag, const std::string& path,
                   const google::protobuf::Struct& s, AttributeMapProto* out) {
  for (const auto& [name, value] : s.fields()) {
    RETURN_IF_ERROR(ToAttribute(flag, path.empty() ? name : absl::StrCat(path, ".", name), value,
                                &(*out)[name]));
  }
  return absl::OkStatus();
}

absl::Status Strings(absl::string_view flag, const std::string& path, const Value& v,
                     bool base64, google::protobuf::RepeatedPtrField<std::string>* out) {
  if (v.kind_case() != Value::kListValue) return Bad(flag, absl::StrCat(path, ": a set is a list"));
  for (const Value& e : v.list_value().values()) {
    if (e.kind_case() != Value::kStringValue) {
      return Bad(flag, absl::StrCat(path, ": set elements are strings"));
    }
    std::string bytes = e.string_value();
    if (base64 && !absl::Base64Unescape(e.string_value(), &bytes)) {
      return Bad(flag, absl::StrCat(path, ": not base64"));
    }
    *out->Add() = std::move(bytes);
  }
  return absl::OkStatus();
}

absl::Status ToAttribute(absl::string_view flag, const std::string& path, const Value& v,
                         v1::AttributeValue* out) {
  if (v.kind_case() != Value::kStructValue || v.struct_value().fields_size() != 1) {
    return Bad(flag, absl::StrCat(path, ": an attribute value is one of {\"S\": ...}, "
                                        "{\"N\": \"...\"}, {\"B\": ...}, {\"BOOL\": ...}, "
                                        "{\"NULL\": true}, {\"M\": ...}, {\"L\": ...}, "
                                        "{\"SS\"|\"NS\"|\"BS\": [...]}"));
  }
  const auto& [type, value] = *v.struct_value().fields().begin();
  const bool is_string = value.kind_case() == Value::kStringValue;
  if (type == "S" && is_string) {
    out->set_s(value.string_value());
  } else if (type == "N" && is_string) {
    out->set_n(value.string_value());
  } else if (type == "B" && is_string) {
    if (!absl::Base64Unescape(value.string_value(), out->mutable_b())) {
      return Bad(flag, absl::StrCat(path, ": B is not base64"));
    }
  } else if (type == "BOOL" && value.kind_case() == Value::kBoolValue) {
    out->set_bool_(value.bool_value());
  } else if (type == "NULL" && value.kind_case() == Value::kBoolValue) {
    out->set_null(value.bool_value());
  } else if (type == "M" && value.kind_case() == Value::kStructValue) {
    RETURN_IF_ERROR(ToMap(flag, path, value.struct_value(), out->mutable_m()->mutable_attributes()));
  } else if (type == "L" && value.kind_case() == Value::kListValue) {
    int i = 0;
    for (const Value& e : value.list_value().values()) {
      RETURN_IF_ERROR(
          ToAttribute(flag, absl::StrCat(path, "[", i++, "]"), e, out->mutable_l()->add_values()));
    }
  } else if (type == "SS") {
    RETURN_IF_ERROR(Strings(flag, path, value, false, out->mutable_ss()->mutable_values()));
  } else if (type == "NS") {
    RETURN_IF_ERROR(Strings(flag, path, value, false, out->mutable_ns()->mutable_values()));
  } else if (type == "BS") {
    RETURN_IF_ERROR(Strings(flag, path, value, true, out->mutable_bs()->mutable_values()));
  } else {
    return Bad(flag, absl::StrCat(path, ": unknown or malformed type ", type));
  }
  return absl::OkStatus();
}

void AppendJson(const v1::AttributeValue& v, std::string* out);

void AppendQuoted(absl::string_view s, std::string* out) {
  Value text;
  text.set_string_value(std::string(s));
  std::string json;
  // Protobuf refuses a string that is not UTF-8: it prints as one U+FFFD then.
  if (!google::protobuf::util::MessageToJsonString(text, &json).ok()) json = "\"\ufffd\"";
  out->append(json);
}

void AppendMapJson(const AttributeMapProto& map, std::string* out) {
  std::map<std::string, const v1::AttributeValue*> sorted;
  for (const auto& [name, value] : map) sorted[name] = &value;
  out->push_back('{');
  bool first = true;
  for (const auto& [name, value] : sorted) {
    if (!first) out->append(", ");
    first = false;
    AppendQuoted(name, out);
    out->append(": ");
    AppendJson(*value, out);
  }
  out->push_back('}');
}

template <typename Values>
void AppendList(const Values& values, bool base64, std::string* out) {
  out->push_back('[');
  bool first = true;
  for (const std::string& e : values) {
    if (!first) out->append(", ");
    first = false;
    AppendQuoted(base64 ? absl::Base64Escape(e) : e, out);
  }
  out->push_back(']');
}

void AppendJson(const v1::AttributeValue& v, std::string* out) {
  switch (v.value_case()) {
    case v1::AttributeValue::kS:
      out->append("{\"S\": ");
      AppendQuoted(v.s(), out);
      break;
    case v1::AttributeValue::kN:
      out->append("{\"N\": ");
      AppendQuoted(v.n(), out);
      break;
    case v1::AttributeValue::kB:
      out->append("{\"B\": ");
      AppendQuoted(absl::Base64Escape(v.b()), out);
      break;
    case v1::AttributeValue::kBool:
      absl::StrAppend(out, "{\"BOOL\": ", v.bool_() ? "true" : "false");
      break;
    case v1::AttributeValue::kNull:
      out->append("{\"NULL\": true");
      break;
    case v1::AttributeValue::kM:
      out->append("{\"M\": ");
      AppendMapJson(v.m().attributes(), out);
      break;
    case v1::AttributeValue::kL: {
      out->append("{\"L\": [");
      bool first = true;
      for (const v1::AttributeValue& e : v.l().values()) {
        if (!first) out->append(", ");
        first = false;
        AppendJson(e, out);
      }
      out->push_back(']');
      break;
    }
    case v1::AttributeValue::kSs:
      out->append("{\"SS\": ");
      AppendList(v.ss().values(), false, out);
      break;
    case v1::AttributeValue::kNs:
      out->append("{\"NS\": ");
      AppendList(v.ns().values(), false, out);
      break;
    case v1::AttributeValue::kBs:
      out->append("{\"BS\": ");
      AppendList(v.bs().values(), true, out);
      break;
    case v1::AttributeValue::VALUE_NOT_SET:
      out->append("{");
      break;
  }
  out->push_back('}');
}

absl::Status KeyAttribute(const FlagValues& flags, absl::string_view flag, v1::KeyAttribute* out) {
  const std::string value = flags.StringOr(flag, "");
  std::vector<std::string> parts = absl::StrSplit(value, absl::MaxSplits(':', 1));
  if (parts.size() != 2 || parts[0].empty() ||
      (parts[1] != "S" && parts[1] != "N" && parts[1] != "B")) {
    return Bad(flag, absl::StrCat("\"", value, "\" is not NAME:TYPE with TYPE S, N or B"));
  }
  out->set_attribute_name(parts[0]);
  out->set_attribute_type(parts[1]);
  return absl::OkStatus();
}

v1::StreamViewType ViewType(const std::string& name) {
  if (name == "KEYS_ONLY") return v1::VIEW_KEYS_ONLY;
  if (name == "NEW_IMAGE") return v1::VIEW_NEW_IMAGE;
  if (name == "OLD_IMAGE") return v1::VIEW_OLD_IMAGE;
  if (name == "NEW_AND_OLD_IMAGES") return v1::VIEW_NEW_AND_OLD_IMAGES;
  return v1::STREAM_VIEW_TYPE_UNSPECIFIED;
}

std::string ViewName(v1::StreamViewType t) {
  switch (t) {
    case v1::VIEW_KEYS_ONLY:
      return "KEYS_ONLY";
    case v1::VIEW_NEW_IMAGE:
      return "NEW_IMAGE";
    case v1::VIEW_OLD_IMAGE:
      return "OLD_IMAGE";
    case v1::VIEW_NEW_AND_OLD_IMAGES:
      return "NEW_AND_OLD_IMAGES";
    default:
      return "-";
  }
}

v1::TableBillingMode BillingMode(const std::string& name) {
  if (name == "PROVISIONED") return v1::BILLING_PROVISIONED;
  if (name == "PAY_PER_REQUEST") return v1::BILLING_PAY_PER_REQUEST;
  return v1::TABLE_BILLING_MODE_UNSPECIFIED;
}

std::string Or(const std::string& s) { return s.empty() ? "-" : s; }

std::string KeyText(const v1::KeyAttribute& k) {
  return k.attribute_name().empty() ? "-"
                                    : absl::StrCat(k.attribute_name(), ":", k.attribute_type());
}

// --names (a JSON object of strings) and --values (DynamoDB JSON) into a request's
// expression_attribute_names / _values.
absl::Status Names(const FlagValues& flags,
                   google::protobuf::Map<std::string, std::string>* names) {
  if (!flags.Has("names")) return absl::OkStatus();
  google::protobuf::Struct parsed;
  if (!google::protobuf::util::JsonStringToMessage(flags.StringOr("names", ""), &parsed).ok()) {
    return Bad("names", "not a JSON object of names: {\"#s\": \"status\"}");
  }
  for (const auto& [placeholder, name] : parsed.fields()) {
    if (name.kind_case() != Value::kStringValue) {
      return Bad("names", absl::StrCat(placeholder, ": a name is a string"));
    }
    (*names)[placeholder] = name.string_value();
  }
  return absl::OkStatus();
}

template <typename Request>
absl::Status NamesAndValues(const FlagValues& flags, Request* r) {
  RETURN_IF_ERROR(Names(flags, r->mutable_expression_attribute_names()));
  if (!flags.Has("values")) return absl::OkStatus();
  return ParseDynamoDbJson("values", flags.StringOr("values", ""),
                           r->mutable_expression_attribute_values());
}

// The text of a JSON flag: as given, or the file it names as "file://PATH" (as the AWS CLI
// takes --request-items file://items.json).
absl::StatusOr<std::string> JsonFlagText(const FlagValues& flags, absl::string_view flag) {
  std::string text = flags.StringOr(flag, "");
  absl::string_view view = text;
  if (!absl::ConsumePrefix(&view, "file://")) return text;
  std::ifstream in{std::string(view)};
  if (!in) return Bad(flag, absl::StrCat("cannot read ", view));
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

absl::StatusOr<Value> ParseJsonFlag(const FlagValues& flags, absl::string_view flag) {
  ASSIGN_OR_RETURN(std::string text, JsonFlagText(flags, flag));
  Value parsed;
  if (!google::protobuf::util::JsonStringToMessage(text, &parsed).ok()) {
    return Bad(flag, "not JSON");
  }
  return parsed;
}

// The members of one request object of a JSON flag, checked against what may be there (a typo
// is an error, not a member ignored). `path` names it in errors ("orders[0].PutRequest").
class JsonObject {
 public:
  JsonObject(absl::string_view flag, std::string path, const Value* v)
      : flag_(flag), path_(std::move(path)), v_(v) {}

  absl::Status Check(std::set<std::string> allowed) const {
    if (v_ == nullptr || v_->kind_case() != Value::kStructValue) {
      return Bad(flag_, absl::StrCat(path_, ": not a JSON object"));
    }
    for (const auto& [name, value] : v_->struct_value().fields()) {
      if (allowed.count(name) == 0) {
        return Bad(flag_, absl::StrCat(path_, ": unknown member ", name));
      }
    }
    return absl::OkStatus();
  }
  const Value* Find(const std::string& name) const {
    auto it = v_->struct_value().fields().find(name);
    return it == v_->struct_value().fields().end() ? nullptr : &it->second;
  }
  std::string Path(absl::string_view member) const { return absl::StrCat(path_, ".", member); }
  absl::StatusOr<std::string> String(const std::string& name, bool required) const {
    const Value* v = Find(name);
    if (v == nullptr) {
      if (required) return Bad(flag_, absl::StrCat(Path(name), ": required"));
      return std::string();
    }
    if (v->kind_case() != Value::kStringValue) {
      return Bad(flag_, absl::StrCat(Path(name), ": a string"));
    }
    return v->string_value();
  }
  absl::Status Map(const std::string& name, bool required, AttributeMapProto* out) const {
    const Value* v = Find(name);
    if (v == nullptr) {
      return required ? Bad(flag_, absl::StrCat(Path(name), ": required")) : absl::OkStatus();
    }
    if (v->kind_case() != Value::kStructValue) {
      return Bad(flag_, absl::StrCat(Path(name), ": an object of attribute values"));
    }
    return ToMap(flag_, Path(name), v->struct_value(), out);
  }
  absl::Status Names(google::protobuf::Map<std::string, std::string>* out) const {
    const Value* v = Find("ExpressionAttributeNames");
    if (v == nullptr) return absl::OkStatus();
    if (v->kind_case() != Value::kStructValue) {
      return Bad(flag_, absl::StrCat(Path("ExpressionAttributeNames"), ": an object of names"));
    }
    for (const auto& [placeholder, name] : v->struct_value().fields()) {
      if (name.kind_case() != Value::kStringValue) {
        return Bad(flag_,
                   absl::StrCat(Path("ExpressionAttributeNames"), ".", placeholder, ": a string"));
      }
      (*out)[placeholder] = name.string_value();
    }
    return absl::OkStatus();
  }
  absl::StatusOr<bool> Bool(const std::string& name) const {
    const Value* v = Find(name);
    if (v == nullptr) return false;
    if (v->kind_case() != Value::kBoolValue) {
      return Bad(flag_, absl::StrCat(Path(name), ": true or false"));
    }
    return v->bool_value();
  }
  // ReturnValuesOnConditionCheckFailure: ALL_OLD → true, NONE or absent → false.
  absl::StatusOr<bool> ReturnItemOnFailure() const {
    ASSIGN_OR_RETURN(std::string rv, String("ReturnValuesOnConditionCheckFailure", false));
    if (rv.empty() || rv == "NONE") return false;
    if (rv == "ALL_OLD") return true;
    return Bad(flag_,
               absl::StrCat(Path("ReturnValuesOnConditionCheckFailure"), ": ALL_OLD or NONE"));
  }

 private:
  absl::string_view flag_;
  std::string path_;
  const Value* v_;
};

// A transaction's write (Put, Update, Delete, ConditionCheck) from its JSON.
template <typename Request>
absl::Status WriteFields(const JsonObject& o, Request* r) {
  ASSIGN_OR_RETURN(std::string table, o.String("TableName", true));
  r->set_table_name(table);
  ASSIGN_OR_RETURN(std::string condition, o.String("ConditionExpression", false));
  r->set_condition_expression(condition);
  RETURN_IF_ERROR(o.Names(r->mutable_expression_attribute_names()));
  RETURN_IF_ERROR(o.Map("ExpressionAttributeValues", false,
                        r->mutable_expression_attribute_values()));
  ASSIGN_OR_RETURN(bool return_item, o.ReturnItemOnFailure());
  r->set_return_item_on_condition_check_failure(return_item);
  return absl::OkStatus();
}

v1::ReturnConsumedCapacity CapacityMode(const FlagValues& flags) {
  const std::string mode = flags.StringOr("return-consumed-capacity", "NONE");
  return mode == "TOTAL"     ? v1::RETURN_CONSUMED_CAPACITY_TOTAL
         : mode == "INDEXES" ? v1::RETURN_CONSUMED_CAPACITY_INDEXES
                             : v1::RETURN_CONSUMED_CAPACITY_NONE;
}

}  // namespace

absl::Status FinishBatchWriteItem(const FlagValues& flags, v1::BatchWriteItemRequest* r) {
  constexpr absl::string_view kFlag = "request-items";
  ASSIGN_OR_RETURN(Value parsed, ParseJsonFlag(flags, kFlag));
  if (parsed.kind_case() != Value::kStructValue || parsed.struct_value().fields().empty()) {
    return Bad(kFlag, "an object of table names to lists of PutRequest / DeleteRequest");
  }
  for (const auto& [table, list] : parsed.struct_value().fields()) {
    if (list.kind_case() != Value::kListValue) {
      return Bad(kFlag, absl::StrCat(table, ": a list of write requests"));
    }
    v1::WriteRequests& requests = (*r->mutable_request_items())[table];
    int i = 0;
    for (const Value& element : list.list_value().values()) {
      const JsonObject request(kFlag, absl::StrCat(table, "[", i++, "]"), &element);
      RETURN_IF_ERROR(request.Check({"PutRequest", "DeleteRequest"}));
      const Value* put = request.Find("PutRequest");
      const Value* del = request.Find("DeleteRequest");
      if ((put == nullptr) == (del == nullptr)) {
        return Bad(kFlag, absl::StrCat(request.Path("*"),
                                       ": exactly one of PutRequest and DeleteRequest"));
      }
      v1::WriteRequest& w = *requests.add_requests();
      if (put != nullptr) {
        const JsonObject o(kFlag, request.Path("PutRequest"), put);
        RETURN_IF_ERROR(o.Check({"Item"}));
        RETURN_IF_ERROR(o.Map("Item", true, w.mutable_put_request()->mutable_item()));
      } else {
        const JsonObject o(kFlag, request.Path("DeleteRequest"), del);
        RETURN_IF_ERROR(o.Check({"Key"}));
        RETURN_IF_ERROR(o.Map("Key", true, w.mutable_delete_request()->mutable_key()));
      }
    }
  }
  r->set_return_consumed_capacity(CapacityMode(flags));
  return absl::OkStatus();
}

absl::Status FinishBatchGetItem(const FlagValues& flags, v1::BatchGetItemRequest* r) {
  constexpr absl::string_view kFlag = "request-items";
  ASSIGN_OR_RETURN(Value parsed, ParseJsonFlag(flags, kFlag));
  if (parsed.kind_case() != Value::kStructValue || parsed.struct_value().fields().empty()) {
    return Bad(kFlag, "an object of table names to {\"Keys\": [...], ...}");
  }
  for (const auto& [table, spec] : parsed.struct_value().fields()) {
    const JsonObject o(kFlag, table, &spec);
    RETURN_IF_ERROR(o.Check(
        {"Keys", "ProjectionExpression", "ExpressionAttributeNames", "ConsistentRead"}));
    v1::KeysAndAttributes& read = (*r->mutable_request_items())[table];
    const Value* keys = o.Find("Keys");
    if (keys == nullptr || keys->kind_case() != Value::kListValue) {
      return Bad(kFlag, absl::StrCat(o.Path("Keys"), ": a list of keys"));
    }
    int i = 0;
    for (const Value& key : keys->list_value().values()) {
      const std::string path = absl::StrCat(o.Path("Keys"), "[", i++, "]");
      if (key.kind_case() != Value::kStructValue) {
        return Bad(kFlag, absl::StrCat(path, ": an object of attribute values"));
      }
      RETURN_IF_ERROR(ToMap(kFlag, path, key.struct_value(), read.add_keys()->mutable_attributes()));
    }
    ASSIGN_OR_RETURN(std::string projection, o.String("ProjectionExpression", false));
    read.set_projection_expression(projection);
    RETURN_IF_ERROR(o.Names(read.mutable_expression_attribute_names()));
    ASSIGN_OR_RETURN(bool consistent, o.Bool("ConsistentRead"));
    read.set_consistent_read(consistent);
  }
  r->set_return_consumed_capacity(CapacityMode(flags));
  return absl::OkStatus();
}

absl::Status FinishTransactWriteItems(const FlagValues& flags, v1::TransactWriteItemsRequest* r) {
  constexpr absl::string_view kFlag = "transact-items";
  ASSIGN_OR_RETURN(Value parsed, ParseJsonFlag(flags, kFlag));
  if (parsed.kind_case() != Value::kListValue || parsed.list_value().values().empty()) {
    return Bad(kFlag, "a list of {\"Put\" | \"Update\" | \"Delete\" | \"ConditionCheck\": ...}");
  }
  int i = 0;
  for (const Value& element : parsed.list_value().values()) {
    const JsonObject item(kFlag, absl::StrCat("[", i++, "]"), &element);
    RETURN_IF_ERROR(item.Check({"Put", "Update", "Delete", "ConditionCheck"}));
    if (element.struct_value().fields_size() != 1) {
      return Bad(kFlag, absl::StrCat(item.Path("*"),
                                     ": exactly one of Put, Update, Delete, ConditionCheck"));
    }
    const auto& [kind, body] = *element.struct_value().fields().begin();
    const JsonObject o(kFlag, item.Path(kind), &body);
    const std::set<std::string> common = {"TableName", "ConditionExpression",
                                          "ExpressionAttributeNames", "ExpressionAttributeValues",
                                          "ReturnValuesOnConditionCheckFailure"};
    std::set<std::string> allowed = common;
    v1::TransactWriteItem& t = *r->add_transact_items();
    if (kind == "Put") {
      allowed.insert("Item");
      RETURN_IF_ERROR(o.Check(allowed));
      RETURN_IF_ERROR(WriteFields(o, t.mutable_put()));
      RETURN_IF_ERROR(o.Map("Item", true, t.mutable_put()->mutable_item()));
    } else if (kind == "Delete") {
      allowed.insert("Key");
      RETURN_IF_ERROR(o.Check(allowed));
      RETURN_IF_ERROR(WriteFields(o, t.mutable_delete_()));
      RETURN_IF_ERROR(o.Map("Key", true, t.mutable_delete_()->mutable_key()));
    } else if (kind == "Update") {
      allowed.insert({"Key", "UpdateExpression"});
      RETURN_IF_ERROR(o.Check(allowed));
      RETURN_IF_ERROR(WriteFields(o, t.mutable_update()));
      RETURN_IF_ERROR(o.Map("Key", true, t.mutable_update()->mutable_key()));
      ASSIGN_OR_RETURN(std::string update, o.String("UpdateExpression", true));
      t.mutable_update()->set_update_expression(update);
    } else {
      allowed.insert("Key");
      RETURN_IF_ERROR(o.Check(allowed));
      RETURN_IF_ERROR(WriteFields(o, t.mutable_condition_check()));
      RETURN_IF_ERROR(o.Map("Key", true, t.mutable_condition_check()->mutable_key()));
    }
  }
  r->set_return_consumed_capacity(CapacityMode(flags));
  return absl::OkStatus();
}

std::string BatchGetItemTable(const v1::BatchGetItemResponse& response) {
  std::string out;
  const std::map<std::string, const v1::ItemList*> sorted = [&] {
    std::map<std::string, const v1::ItemList*> m;
    for (const auto& [table, items] : response.responses()) m[table] = &items;
    return m;
  }();
  for (const auto& [table, items] : sorted) {
    for (const v1::AttributeMap& item : items->items()) {
      absl::StrAppend(&out, table, " ", DynamoDbJson(item.attributes()), "\n");
    }
  }
  int unprocessed = 0;
  for (const auto& [table, keys] : response.unprocessed_keys()) unprocessed += keys.keys_size();
  if (unprocessed > 0) {
    absl::StrAppend(&out, "UnprocessedKeys ", unprocessed,
                    " (over 16 MB of items: ask again for them)\n");
  }
  absl::StrAppend(&out, ConsumedCapacityLines(response.consumed_capacity()));
  return out;
}

std::string ConsumedCapacityLines(
    const google::protobuf::RepeatedPtrField<v1::ConsumedCapacity>& consumed) {
  std::string out;
  for (const v1::ConsumedCapacity& c : consumed) {
    absl::StrAppend(&out, "ConsumedCapacity ", c.table_name(), " ", c.capacity_units());
    if (c.read_capacity_units() > 0) absl::StrAppend(&out, " read ", c.read_capacity_units());
    if (c.write_capacity_units() > 0) absl::StrAppend(&out, " write ", c.write_capacity_units());
    out += "\n";
  }
  return out;
}

absl::Status ParseDynamoDbJson(absl::string_view flag, absl::string_view json,
                               AttributeMapProto* out) {
  google::protobuf::Struct parsed;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &parsed).ok()) {
    return Bad(flag, "not a JSON object of DynamoDB attribute values");
  }
  return ToMap(flag, "", parsed, out);
}

std::string DynamoDbJson(const AttributeMapProto& item) {
  std::string out;
  AppendMapJson(item, &out);
  return out;
}

absl::Status FinishCreateTable(const FlagValues& flags, v1::CreateTableRequest* r) {
  RETURN_IF_ERROR(KeyAttribute(flags, "partition-key", r->mutable_partition_key()));
  if (flags.Has("sort-key")) {
    RETURN_IF_ERROR(KeyAttribute(flags, "sort-key", r->mutable_sort_key()));
  }
  r->set_billing_mode(BillingMode(flags.StringOr("billing-mode", "PAY_PER_REQUEST")));
  if (flags.Has("stream-view-type")) {
    r->mutable_stream_specification()->set_stream_enabled(true);
    r->mutable_stream_specification()->set_stream_view_type(
        ViewType(flags.StringOr("stream-view-type", "")));
  }
  return absl::OkStatus();
}

absl::Status FinishUpdateTable(const FlagValues& flags, v1::UpdateTableRequest* r) {
  const bool on = flags.Has("stream-view-type");
  const bool off = !flags.Bool("stream").value_or(true);
  if (on && off) return UsageError("give either --stream-view-type or --no-stream, not both");
  if (on) {
    r->mutable_stream_specification()->set_stream_enabled(true);
    r->mutable_stream_specification()->set_stream_view_type(
        ViewType(flags.StringOr("stream-view-type", "")));
  } else if (off) {
    r->mutable_stream_specification()->set_stream_enabled(false);
  }
  if (flags.Has("billing-mode")) {
    r->set_billing_mode(BillingMode(flags.StringOr("billing-mode", "")));
  }
  return absl::OkStatus();
}

absl::Status FinishPutItem(const FlagValues& flags, v1::PutItemRequest* r) {
  RETURN_IF_ERROR(ParseDynamoDbJson("item", flags.StringOr("item", ""), r->mutable_item()));
  if (flags.Bool("return-old").value_or(false)) r->set_return_values(v1::RETURN_ALL_OLD);
  return NamesAndValues(flags, r);
}

absl::Status FinishGetItem(const FlagValues& flags, v1::GetItemRequest* r) {
  return ParseDynamoDbJson("key", flags.StringOr("key", ""), r->mutable_key());
}

absl::Status FinishDeleteItem(const FlagValues& flags, v1::DeleteItemRequest* r) {
  RETURN_IF_ERROR(ParseDynamoDbJson("key", flags.StringOr("key", ""), r->mutable_key()));
  if (flags.Bool("return-old").value_or(false)) r->set_return_values(v1::RETURN_ALL_OLD);
  return NamesAndValues(flags, r);
}

absl::Status FinishUpdateItem(const FlagValues& flags, v1::UpdateItemRequest* r) {
  RETURN_IF_ERROR(ParseDynamoDbJson("key", flags.StringOr("key", ""), r->mutable_key()));
  const std::string rv = flags.StringOr("return-values", "NONE");
  r->set_return_values(rv == "ALL_OLD"       ? v1::RETURN_ALL_OLD
                       : rv == "UPDATED_OLD" ? v1::RETURN_UPDATED_OLD
                       : rv == "ALL_NEW"     ? v1::RETURN_ALL_NEW
                       : rv == "UPDATED_NEW" ? v1::RETURN_UPDATED_NEW
                                             : v1::RETURN_VALUE_UNSPECIFIED);
  return NamesAndValues(flags, r);
}

absl::Status FinishQuery(const FlagValues& flags, v1::QueryRequest* r) {
  if (flags.Bool("descending").value_or(false)) r->set_scan_index_forward(false);
  if (flags.Bool("count").value_or(false)) r->set_select(v1::SELECT_COUNT);
  if (flags.Has("starting-token")) {
    RETURN_IF_ERROR(
        ParseItemsToken(flags.StringOr("starting-token", ""), r->mutable_exclusive_start_key()));
  }
  return NamesAndValues(flags, r);
}

absl::Status FinishScan(const FlagValues& flags, v1::ScanRequest* r) {
  if (flags.Bool("count").value_or(false)) r->set_select(v1::SELECT_COUNT);
  if (flags.Has("starting-token")) {
    RETURN_IF_ERROR(
        ParseItemsToken(flags.StringOr("starting-token", ""), r->mutable_exclusive_start_key()));
  }
  return NamesAndValues(flags, r);
}

std::string ItemsToken(const AttributeMapProto& last_evaluated_key) {
  v1::AttributeMap key;
  *key.mutable_attributes() = last_evaluated_key;
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    key.SerializeToCodedStream(&coded);
  }
  return absl::WebSafeBase64Escape(bytes);
}

absl::Status ParseItemsToken(absl::string_view token, AttributeMapProto* key) {
  std::string bytes;
  v1::AttributeMap parsed;
  if (token.empty() || !absl::WebSafeBase64Unescape(token, &bytes) ||
      !parsed.ParseFromString(bytes) || parsed.attributes().empty()) {
    return Bad("starting-token", "not a token printed by items query or items scan");
  }
  *key = parsed.attributes();
  return absl::OkStatus();
}

std::string ItemsTable(const google::protobuf::RepeatedPtrField<v1::AttributeMap>& items,
                       int64_t count, int64_t scanned_count, const std::string& next_token) {
  std::string out;
  for (const v1::AttributeMap& item : items) {
    absl::StrAppend(&out, DynamoDbJson(item.attributes()), "\n");
  }
  absl::StrAppend(&out, "Count ", count, "  ScannedCount ", scanned_count, "\n");
  if (!next_token.empty()) absl::StrAppend(&out, "NextToken ", next_token, "\n");
  return out;
}

std::string TableDescriptionTable(const v1::TableDescription& t) {
  const bool streaming = t.stream_specification().stream_enabled();
  return KeyValueTable({
      {"TableName", t.table_name()},
      {"TableStatus", t.table_status() == v1::TABLE_DELETING ? "DELETING" : "ACTIVE"},
      {"PartitionKey", KeyText(t.partition_key())},
      {"SortKey", KeyText(t.sort_key())},
      {"BillingMode",
       t.billing_mode() == v1::BILLING_PAY_PER_REQUEST ? "PAY_PER_REQUEST" : "PROVISIONED"},
      {"ReadCapacityUnits", absl::StrCat(t.read_capacity_units())},
      {"WriteCapacityUnits", absl::StrCat(t.write_capacity_units())},
      {"Stream", streaming ? ViewName(t.stream_specification().stream_view_type()) : "off"},
      {"LatestStreamArn", Or(t.latest_stream_arn())},
      {"LatestStreamName", Or(t.latest_stream_name())},
      {"TableArn", t.table_arn()},
      {"CreationDateTime", Or(FormatTimestamp(t.creation_date_time()))},
  });
}

std::string TableNamesTable(const v1::ListTablesResponse& tables) {
  Table table({"TABLE_NAME"});
  for (const std::string& name : tables.table_names()) table.AddRow({name});
  return table.Render();
}

std::string TableStreamsTable(const v1::ListTableStreamsResponse& streams) {
  Table table({"TABLE_NAME", "STREAM_LABEL", "STATUS", "VIEW_TYPE", "STREAM_NAME", "STREAM_ARN"});
  for (const v1::TableStream& s : streams.streams()) {
    table.AddRow({s.table_name(), s.stream_label(), s.enabled() ? "ENABLED" : "DISABLED",
                  ViewName(s.stream_view_type()), s.stream_name(), s.stream_arn()});
  }
  return table.Render();
}

}  // namespace tributary::tribctl
