// Secondary indexes of TableStore: their validation, and the entries an item has in them
// (table_store_internal.h). The writes (table_store_writes.cc) keep the entries in the same
// RocksDB write as the item; the reads (table_store_reads.cc) range-read them as a table.
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tables/table_store.h"
#include "tables/table_store_internal.h"

namespace tributary::tables::internal {
namespace {

absl::Status Invalid(absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("One or more parameter values were invalid: ", message));
}

bool ValidIndexName(absl::string_view name) {
  bool ok = name.size() >= 3 && name.size() <= 255;
  for (char c : name) ok = ok && (absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-');
  return ok;
}

}  // namespace

absl::Status ValidateIndexes(const TableSpec& spec) {
  int local = 0, global = 0, non_key = 0;
  std::set<std::string> names;
  const KeySchema& table = spec.key_schema;
  for (const IndexSpec& index : spec.indexes) {
    (index.kind == IndexKind::kLocal ? local : global)++;
    if (!ValidIndexName(index.name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "IndexName: '", index.name, "' must be 3-255 characters of [a-zA-Z0-9_.-]"));
    }
    if (!names.insert(index.name).second) {
      return Invalid(absl::StrCat("Duplicate index name: ", index.name));
    }
    if (absl::Status s = ValidateKeySchema(index.key_schema); !s.ok()) return s;
    if (index.kind == IndexKind::kLocal) {
      if (!table.sort_key.has_value()) {
        return Invalid(
            "Table KeySchema does not have a range key, which is required when specifying a "
            "LocalSecondaryIndex");
      }
      if (index.key_schema.partition_key.name != table.partition_key.name) {
        return Invalid(absl::StrCat(
            "Index KeySchema does not have the same leading hash key as table KeySchema for "
            "index: ",
            index.name, ". index hash key: ", index.key_schema.partition_key.name,
            ", table hash key: ", table.partition_key.name));
      }
      if (!index.key_schema.sort_key.has_value()) {
        return Invalid(absl::StrCat("Index KeySchema must have a range key for index: ",
                                    index.name));
      }
    }
    if (index.projection == ProjectionType::kInclude) {
      if (index.non_key_attributes.empty()) {
        return Invalid(absl::StrCat(
            "ProjectionType is INCLUDE, but NonKeyAttributes is not specified for index: ",
            index.name));
      }
      std::set<std::string> seen;
      for (const std::string& a : index.non_key_attributes) {
        if (a.empty() || a.size() > 255) {
          return Invalid("NonKeyAttributes names must be 1-255 bytes");
        }
        if (!seen.insert(a).second) {
          return Invalid(absl::StrCat("Duplicate attribute name in NonKeyAttributes: ", a));
        }
      }
      non_key += static_cast<int>(index.non_key_attributes.size());
    } else if (!index.non_key_attributes.empty()) {
      return Invalid(absl::StrCat(
          "ProjectionType is ", index.projection == ProjectionType::kAll ? "ALL" : "KEYS_ONLY",
          ", but NonKeyAttributes is specified for index: ", index.name));
    }
  }
  if (local > kMaxLocalIndexes) {
    return Invalid(absl::StrCat("Number of LocalSecondaryIndexes exceeds per-table limit of ",
                                kMaxLocalIndexes));
  }
  if (global > kMaxGlobalIndexes) {
    return Invalid(absl::StrCat("Number of GlobalSecondaryIndexes exceeds per-table limit of ",
                                kMaxGlobalIndexes));
  }
  if (non_key > kMaxProjectedNonKeyAttributes) {
    return Invalid(absl::StrCat(
        "Number of projected NonKeyAttributes across all indexes exceeds the limit of ",
        kMaxProjectedNonKeyAttributes));
  }
  return absl::OkStatus();
}

absl::Status CheckIndexKeys(const TableSpec& spec, const AttributeMap& item) {
  for (const IndexSpec& index : spec.indexes) {
    for (const KeyAttribute* key : {&index.key_schema.partition_key,
                                    index.key_schema.sort_key ? &*index.key_schema.sort_key
                                                              : nullptr}) {
      if (key == nullptr) continue;
      const AttributeValue* v = FindAttribute(item, key->name);
      if (v == nullptr) continue;  // not in this (sparse) index
      if (v->type() != key->type) {
        return Invalid(absl::StrCat("Type mismatch for Index Key ", key->name,
                                    " Expected: ", TypeName(key->type),
                                    " Actual: ", TypeName(v->type()), " IndexName: ", index.name));
      }
      if (v->type() != AttributeValue::Type::kN && v->scalar().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "One or more parameter values are not valid. A value specified for a secondary "
            "index key is not supported. The AttributeValue for a key attribute cannot contain "
            "an empty ",
            v->type() == AttributeValue::Type::kS ? "string" : "binary",
            " value. IndexName: ", index.name, ", IndexKey: ", key->name));
      }
      const size_t max = key == &index.key_schema.partition_key ? kMaxPartitionKeyBytes
                                                                : kMaxSortKeyBytes;
      if (v->scalar().size() > max) {
        return Invalid(absl::StrCat("Size of key ", key->name, " exceeds the ", max,
                                    "-byte limit of a key of index ", index.name));
      }
    }
  }
  return absl::OkStatus();
}

std::string EscapedSortKey(const AttributeValue& value, bool terminated) {
  const std::string bytes = EncodeSortKey(value);
  std::string out;
  out.reserve(bytes.size() + 2);
  for (char c : bytes) {
    out.push_back(c);
    if (c == '\0') out.push_back('\xff');
  }
  if (terminated) out.append("\0\x01", 2);
  return out;
}

bool InIndex(const IndexSpec& index, const AttributeMap& item) {
  return FindAttribute(item, index.key_schema.partition_key.name) != nullptr &&
         (!index.key_schema.sort_key.has_value() ||
          FindAttribute(item, index.key_schema.sort_key->name) != nullptr);
}

std::string IndexEntryKey(const TableDescription& d, size_t i, const AttributeMap& item) {
  const KeySchema& schema = d.spec.indexes[i].key_schema;
  std::string out = ItemPrefix(d.index_ids[i]);
  out += EncodePartitionKey(*FindAttribute(item, schema.partition_key.name));
  if (schema.sort_key.has_value()) {
    out += EscapedSortKey(*FindAttribute(item, schema.sort_key->name), /*terminated=*/true);
  }
  out += EncodeItemKey(d.spec.key_schema, item);
  return out;
}

AttributeMap IndexKeyOf(const TableSpec& spec, size_t i, const AttributeMap& item) {
  std::set<std::string> names;
  for (const KeySchema* s : {&spec.key_schema, &spec.indexes[i].key_schema}) {
    names.insert(s->partition_key.name);
    if (s->sort_key.has_value()) names.insert(s->sort_key->name);
  }
  AttributeMap out;
  for (const auto& attribute : item) {  // sorted by name, so out is too
    if (names.count(attribute.first) > 0) out.push_back(attribute);
  }
  return out;
}

AttributeMap ProjectToIndex(const TableSpec& spec, size_t i, const AttributeMap& item) {
  const IndexSpec& index = spec.indexes[i];
  if (index.projection == ProjectionType::kAll) return item;
  if (index.projection == ProjectionType::kKeysOnly) return IndexKeyOf(spec, i, item);
  const AttributeMap keys = IndexKeyOf(spec, i, item);
  std::set<std::string> names(index.non_key_attributes.begin(), index.non_key_attributes.end());
  for (const auto& attribute : keys) names.insert(attribute.first);
  AttributeMap out;
  for (const auto& attribute : item) {
    if (names.count(attribute.first) > 0) out.push_back(attribute);
  }
  return out;
}

std::optional<size_t> FindIndex(const TableSpec& spec, absl::string_view name) {
  for (size_t i = 0; i < spec.indexes.size(); ++i) {
    if (spec.indexes[i].name == name) return i;
  }
  return std::nullopt;
}

}  // namespace tributary::tables::internal
