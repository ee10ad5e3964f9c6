// The item API's request rules shared by its edges (item_requests.h).
#include "tables/item_requests.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tables/projection.h"
#include "tables/update_expression.h"

namespace tributary::tables {
namespace {

absl::Status Validation(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

// Whether `index` holds top-level attribute `name` of an item.
bool Projects(const TableSpec& table, const IndexSpec& index, absl::string_view name) {
  for (const KeySchema* s : {&table.key_schema, &index.key_schema}) {
    if (s->partition_key.name == name || (s->sort_key.has_value() && s->sort_key->name == name)) {
      return true;
    }
  }
  switch (index.projection) {
    case ProjectionType::kAll:
      return true;
    case ProjectionType::kKeysOnly:
      return false;
    case ProjectionType::kInclude:
      return std::find(index.non_key_attributes.begin(), index.non_key_attributes.end(), name) !=
             index.non_key_attributes.end();
  }
  return false;
}

const char* SelectName(SelectMode s) {
  switch (s) {
    case SelectMode::kAllAttributes:
      return "ALL_ATTRIBUTES";
    case SelectMode::kAllProjectedAttributes:
      return "ALL_PROJECTED_ATTRIBUTES";
    case SelectMode::kSpecificAttributes:
      return "SPECIFIC_ATTRIBUTES";
    case SelectMode::kCount:
      return "COUNT";
  }
  return "";
}

}  // namespace

absl::StatusOr<RequestExpressions> ParseRequestExpressions(ExpressionTexts texts,
                                                           const KeySchema* key_schema) {
  std::map<std::string, AttributeValue> values;
  const bool has_values = texts.values.has_value();
  if (has_values) {
    for (auto& [key, value] : *texts.values) {
      if (absl::Status valid = ValidateAttributeValue(value, key); !valid.ok()) {
        return Validation(absl::StrCat("ExpressionAttributeValues contains invalid value: ",
                                       valid.message(), " for key ", key));
      }
    }
    values = *std::move(texts.values);
    if (values.empty()) return Validation("ExpressionAttributeValues must not be empty");
  }
  if (texts.names.has_value() && texts.names->empty()) {
    return Validation("ExpressionAttributeNames must not be empty");
  }
  const bool any = texts.condition || texts.filter || texts.projection || texts.update ||
                   texts.key_condition;
  if (!any && texts.names.has_value()) {
    return Validation("ExpressionAttributeNames can only be specified when using expressions");
  }
  if (!any && has_values) {
    return Validation("ExpressionAttributeValues can only be specified when using expressions");
  }
  if (texts.projection && texts.attributes_to_get) {
    return Validation(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributesToGet} Expression parameters: "
        "{ProjectionExpression}");
  }
  RequestExpressions out;
  out.attributes = ExpressionAttributes(
      texts.names ? *std::move(texts.names) : std::map<std::string, std::string>(),
      std::move(values));
  if (absl::Status s = out.attributes.Validate(); !s.ok()) return s;
  if (texts.key_condition) {
    if (key_schema == nullptr) return absl::InternalError("a key condition without a schema");
    absl::StatusOr<KeyCondition> k =
        ParseKeyConditionExpression(*texts.key_condition, out.attributes, *key_schema);
    if (!k.ok()) return k.status();
    out.key_condition = *std::move(k);
  }
  if (texts.filter) {
    absl::StatusOr<Condition> c = ParseCondition(*texts.filter, out.attributes, "FilterExpression");
    if (!c.ok()) return c.status();
    out.filter = *std::move(c);
  }
  if (texts.condition) {
    absl::StatusOr<Condition> c = ParseCondition(*texts.condition, out.attributes);
    if (!c.ok()) return c.status();
    out.condition = *std::move(c);
  }
  if (texts.update) {
    absl::StatusOr<UpdateExpression> u = ParseUpdateExpression(*texts.update, out.attributes);
    if (!u.ok()) return u.status();
    out.update = *std::move(u);
  }
  if (texts.projection) {
    absl::StatusOr<Projection> p = ParseProjectionExpression(*texts.projection, out.attributes);
    if (!p.ok()) return p.status();
    out.projection = *std::move(p);
  } else if (texts.attributes_to_get) {
    Projection p;
    for (const std::string& name : *texts.attributes_to_get) {
      DocumentPath path;
      path.elements.push_back(PathElement{name, -1});
      p.paths.push_back(std::move(path));
    }
    out.projection = std::move(p);
  }
  if (absl::Status s = out.attributes.CheckAllUsed(); !s.ok()) return s;
  return out;
}

absl::StatusOr<const IndexSpec*> FindReadIndex(const TableSpec& table,
                                               const std::optional<std::string>& index_name,
                                               bool consistent_read) {
  if (!index_name.has_value()) return nullptr;
  const IndexSpec* found = nullptr;
  for (const IndexSpec& i : table.indexes) {
    if (i.name == *index_name) found = &i;
  }
  if (found == nullptr) {
    return Validation(absl::StrCat("The table does not have the specified index: ", *index_name));
  }
  if (found->kind == IndexKind::kGlobal && consistent_read) {
    return Validation("Consistent reads are not supported on global secondary indexes");
  }
  return found;
}

absl::StatusOr<SelectMode> PlanRead(const TableSpec& table, const IndexSpec* index,
                                    std::optional<SelectMode> select,
                                    const std::optional<Projection>& projection, bool query,
                                    ReadRequest* request) {
  const SelectMode how = select.value_or(projection        ? SelectMode::kSpecificAttributes
                                         : index != nullptr ? SelectMode::kAllProjectedAttributes
                                                            : SelectMode::kAllAttributes);
  if (how == SelectMode::kAllProjectedAttributes && index == nullptr) {
    return Validation(absl::StrCat("ALL_PROJECTED_ATTRIBUTES can be used only when ",
                                   query ? "Querying" : "Scanning", " using an IndexName"));
  }
  if (how == SelectMode::kSpecificAttributes && !projection) {
    return Validation(
        "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
        "SPECIFIC_ATTRIBUTES");
  }
  if (how != SelectMode::kSpecificAttributes && projection) {
    return Validation(absl::StrCat(
        "Cannot specify the AttributesToGet or ProjectionExpression when choosing to get ",
        SelectName(how)));
  }
  if (index != nullptr) {
    request->index = index->name;
    // What the index does not project: a local index fetches it from the table (DynamoDB
    // does, at a cost); a global one cannot (ALL_ATTRIBUTES is refused; a projection gets
    // what the index has).
    bool beyond = index->projection != ProjectionType::kAll && how == SelectMode::kAllAttributes;
    if (index->projection != ProjectionType::kAll && projection.has_value()) {
      for (const DocumentPath& path : projection->paths) {
        beyond = beyond || !Projects(table, *index, path.elements[0].name);
      }
    }
    if (beyond && index->kind == IndexKind::kGlobal && how == SelectMode::kAllAttributes) {
      return Validation(absl::StrCat(
          "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
          "supported for global secondary index ",
          index->name, " because its projection type is not ALL"));
    }
    request->fetch_table_items = beyond && index->kind == IndexKind::kLocal;
  }
  return how;
}

std::optional<AttributeMap> UpdateReturnValues(ReturnValues return_values,
                                               const WriteOutcome& outcome,
                                               const UpdateExpression& update) {
  switch (return_values) {
    case ReturnValues::kNone:
      return std::nullopt;
    case ReturnValues::kAllOld:
      return outcome.old_item;
    case ReturnValues::kAllNew:
      return outcome.new_item;
    case ReturnValues::kUpdatedOld:
      if (!outcome.old_item.has_value()) return std::nullopt;
      return Project(*outcome.old_item, UpdatedPaths(update));
    case ReturnValues::kUpdatedNew:
      if (!outcome.new_item.has_value()) return std::nullopt;
      return Project(*outcome.new_item, UpdatedPaths(update));
  }
  return std::nullopt;
}

}  // namespace tributary::tables
