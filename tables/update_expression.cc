// ApplyUpdate works on a copy of the item: values first (from the unchanged item), then SET /
// ADD / DELETE in order, then REMOVE with list elements from the highest index down.
#include "tables/update_expression.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "tables/decimal.h"

namespace tributary::tables {
namespace {

using T = AttributeValue::Type;

absl::Status Invalid(absl::string_view why) { return absl::InvalidArgumentError(why); }
absl::Status WrongType() {
  return Invalid("An operand in the update expression has an incorrect data type");
}
absl::Status BadPath() {
  return Invalid("The document path provided in the update expression is invalid for update");
}

bool IsSet(T t) { return t == T::kSS || t == T::kNS || t == T::kBS; }

absl::StatusOr<AttributeValue> Evaluate(const Operand& o, const AttributeMap& item) {
  switch (o.kind) {
    case Operand::Kind::kValue:
      return o.value;
    case Operand::Kind::kPath: {
      const AttributeValue* v = FindPath(item, o.path);
      if (v == nullptr) {
        return Invalid(
            "The provided expression refers to an attribute that does not exist in the item");
      }
      return *v;
    }
    case Operand::Kind::kIfNotExists: {
      if (const AttributeValue* v = FindPath(item, o.path)) return *v;
      return Evaluate(o.args[0], item);
    }
    case Operand::Kind::kListAppend: {
      ASSIGN_OR_RETURN(AttributeValue a, Evaluate(o.args[0], item));
      ASSIGN_OR_RETURN(AttributeValue b, Evaluate(o.args[1], item));
      if (a.type() != T::kL || b.type() != T::kL) return WrongType();
      std::vector<AttributeValue> list = a.list();
      list.insert(list.end(), b.list().begin(), b.list().end());
      return AttributeValue::L(std::move(list));
    }
    case Operand::Kind::kPlus:
    case Operand::Kind::kMinus: {
      ASSIGN_OR_RETURN(AttributeValue a, Evaluate(o.args[0], item));
      ASSIGN_OR_RETURN(AttributeValue b, Evaluate(o.args[1], item));
      if (a.type() != T::kN || b.type() != T::kN) return WrongType();
      ASSIGN_OR_RETURN(std::string sum, o.kind == Operand::Kind::kPlus
                                            ? AddNumbers(a.scalar(), b.scalar())
                                            : SubtractNumbers(a.scalar(), b.scalar()));
      return AttributeValue::N(std::move(sum));
    }
    case Operand::Kind::kSize:
      break;
  }
  return Invalid("size() is not allowed in an update expression");
}

// The value at `path` for editing, or nullptr.
AttributeValue* Find(AttributeMap* item, const std::vector<PathElement>& path, size_t length) {
  AttributeValue* v = FindAttribute(item, path[0].name);
  for (size_t i = 1; v != nullptr && i < length; ++i) {
    const PathElement& e = path[i];
    if (e.is_index()) {
      if (v->type() != T::kL || e.index >= static_cast<int64_t>(v->list().size())) return nullptr;
      v = &(*v->mutable_list())[static_cast<size_t>(e.index)];
    } else {
      v = v->type() == T::kM ? FindAttribute(v->mutable_map(), e.name) : nullptr;
    }
  }
  return v;
}

// Writes `value` at `path`; the parent must exist and have the right type.
absl::Status Assign(AttributeMap* item, const DocumentPath& path, AttributeValue value) {
  const std::vector<PathElement>& e = path.elements;
  if (e.size() == 1) {
    SetAttribute(item, e[0].name, std::move(value));
    return absl::OkStatus();
  }
  AttributeValue* parent = Find(item, e, e.size() - 1);
  const PathElement& last = e.back();
  if (parent == nullptr) return BadPath();
  if (last.is_index()) {
    if (parent->type() != T::kL) return BadPath();
    std::vector<AttributeValue>& list = *parent->mutable_list();
    if (last.index < static_cast<int64_t>(list.size())) {
      list[static_cast<size_t>(last.index)] = std::move(value);
    } else {
      list.push_back(std::move(value));
    }
    return absl::OkStatus();
  }
  if (parent->type() != T::kM) return BadPath();
  SetAttribute(parent->mutable_map(), last.name, std::move(value));
  return absl::OkStatus();
}

absl::Status Remove(AttributeMap* item, const DocumentPath& path) {
  const std::vector<PathElement>& e = path.elements;
  if (e.size() == 1) {
    EraseAttribute(item, e[0].name);
    return absl::OkStatus();
  }
  AttributeValue* parent = Find(item, e, e.size() - 1);
  const PathElement& last = e.back();
  if (parent == nullptr || (last.is_index() ? parent->type() != T::kL
                                            : parent->type() != T::kM)) {
    return BadPath();
  }
  if (!last.is_index()) {
    EraseAttribute(parent->mutable_map(), last.name);
  } else if (last.index < static_cast<int64_t>(parent->list().size())) {
    parent->mutable_list()->erase(parent->mutable_list()->begin() + last.index);
  }
  return absl::OkStatus();
}

absl::Status Add(AttributeMap* item, const DocumentPath& path, const AttributeValue& value) {
  AttributeValue* existing = Find(item, path.elements, path.elements.size());
  if (existing == nullptr) return Assign(item, path, value);
  if (existing->type() != value.type()) return WrongType();
  if (value.type() == T::kN) {
    ASSIGN_OR_RETURN(std::string sum, AddNumbers(existing->scalar(), value.scalar()));
    *existing = AttributeValue::N(std::move(sum));
    return absl::OkStatus();
  }
  std::vector<std::string>& set = *existing->mutable_set();
  for (const std::string& e : value.set()) {
    if (std::find(set.begin(), set.end(), e) == set.end()) set.push_back(e);
  }
  return absl::OkStatus();
}

absl::Status Delete(AttributeMap* item, const DocumentPath& path, const AttributeValue& value) {
  AttributeValue* existing = Find(item, path.elements, path.elements.size());
  if (existing == nullptr) return absl::OkStatus();
  if (existing->type() != value.type()) return WrongType();
  std::vector<std::string>& set = *existing->mutable_set();
  set.erase(std::remove_if(set.begin(), set.end(),
                           [&](const std::string& e) {
                             return std::find(value.set().begin(), value.set().end(), e) !=
                                    value.set().end();
                           }),
            set.end());
  if (set.empty()) return Remove(item, path);
  return absl::OkStatus();
}

// Orders REMOVEs so that of two elements of one list the higher index goes first.
bool RemoveFirst(const DocumentPath& a, const DocumentPath& b) {
  const size_t n = std::min(a.elements.size(), b.elements.size());
  for (size_t i = 0; i < n; ++i) {
    const PathElement& x = a.elements[i];
    const PathElement& y = b.elements[i];
    if (x == y) continue;
    if (x.is_index() && y.is_index()) return x.index > y.index;
    return x.name < y.name;
  }
  return a.elements.size() < b.elements.size();
}

}  // namespace

absl::Status CheckUpdateOfKey(const UpdateExpression& update, const KeySchema& schema) {
  for (const UpdateAction& action : update.actions) {
    const std::string& name = action.path.elements[0].name;
    if (name == schema.partition_key.name ||
        (schema.sort_key.has_value() && name == schema.sort_key->name)) {
      return Invalid(absl::StrCat("Cannot update attribute ", name,
                                  ". This attribute is part of the key"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<AttributeMap> ApplyUpdate(const UpdateExpression& update, const KeySchema& schema,
                                         const AttributeMap& key,
                                         const std::optional<AttributeMap>& old_item) {
  RETURN_IF_ERROR(CheckUpdateOfKey(update, schema));
  const AttributeMap& before = old_item.has_value() ? *old_item : key;
  std::vector<std::optional<AttributeValue>> values(update.actions.size());
  for (size_t i = 0; i < update.actions.size(); ++i) {
    if (update.actions[i].kind == UpdateAction::Kind::kSet) {
      ASSIGN_OR_RETURN(values[i], Evaluate(update.actions[i].value, before));
    }
  }
  AttributeMap item = before;
  std::vector<const DocumentPath*> removes;
  for (size_t i = 0; i < update.actions.size(); ++i) {
    const UpdateAction& action = update.actions[i];
    switch (action.kind) {
      case UpdateAction::Kind::kSet:
        RETURN_IF_ERROR(Assign(&item, action.path, *std::move(values[i])));
        break;
      case UpdateAction::Kind::kAdd:
        RETURN_IF_ERROR(Add(&item, action.path, action.value.value));
        break;
      case UpdateAction::Kind::kDelete:
        if (!IsSet(action.value.value.type())) return WrongType();
        RETURN_IF_ERROR(Delete(&item, action.path, action.value.value));
        break;
      case UpdateAction::Kind::kRemove:
        removes.push_back(&action.path);
        break;
    }
  }
  std::sort(removes.begin(), removes.end(),
            [](const DocumentPath* a, const DocumentPath* b) { return RemoveFirst(*a, *b); });
  for (const DocumentPath* path : removes) RETURN_IF_ERROR(Remove(&item, *path));
  for (const auto& [name, value] : item) RETURN_IF_ERROR(ValidateAttributeValue(value, name));
  if (ItemSize(item) > kMaxItemBytes) {
    return Invalid("Item size to update has exceeded the maximum allowed size");
  }
  return item;
}

Projection UpdatedPaths(const UpdateExpression& update) {
  Projection projection;
  for (const UpdateAction& action : update.actions) projection.paths.push_back(action.path);
  return projection;
}

}  // namespace tributary::tables
