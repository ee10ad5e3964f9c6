// The item reads of TableStore: GetItem, GetItems (one snapshot), Query and Scan.
//
// Query and Scan are range reads of the items family: a table's items are the keys starting with
// ItemPrefix(table id), a partition's those starting with ItemPrefix + EncodePartitionKey, and a
// sort key condition narrows that to [lower, upper) — EncodeSortKey keeps DynamoDB's order, so
// "<= v" is every key below EncodeSortKey(v) + "\0" (nothing sorts between a key and itself
// followed by a zero byte). A page then reads items in order (backwards for a descending Query)
// until the limit or kMaxPageBytes.
#include <algorithm>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rocksdb/iterator.h"
#include "tables/projection.h"
#include "tables/table_store.h"
#include "tables/table_store_internal.h"

namespace tributary::tables {
namespace {

// The smallest string above every string starting with `prefix` ("" when there is none).
std::string Successor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

// FNV-1a: a stable hash of the partition key bytes (segments must not move between calls or
// restarts).
uint64_t Fnv1a(absl::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// The first key attribute a filter names, or nullptr: a Query's filter may not name them
// (DynamoDB: the key condition is where they belong).
const std::string* KeyAttributeIn(const ConditionNode& node, const KeySchema& schema) {
  for (const Operand& o : node.operands) {
    if ((o.kind != Operand::Kind::kPath && o.kind != Operand::Kind::kSize) ||
        o.path.elements.empty()) {
      continue;
    }
    const std::string& name = o.path.elements[0].name;
    if (name == schema.partition_key.name ||
        (schema.sort_key.has_value() && name == schema.sort_key->name)) {
      return &name;
    }
  }
  for (const ConditionNode& child : node.children) {
    if (const std::string* name = KeyAttributeIn(child, schema)) return name;
  }
  return nullptr;
}

absl::Status StartingKeyInvalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("The provided starting key is invalid: ", why));
}

}  // namespace

absl::StatusOr<std::optional<AttributeMap>> TableStore::GetItem(absl::string_view table,
                                                                const AttributeMap& key) {
  ASSIGN_OR_RETURN(std::vector<std::optional<AttributeMap>> items,
                   GetItems({ItemKey{std::string(table), key}}));
  return std::move(items[0]);
}

absl::StatusOr<std::vector<std::optional<AttributeMap>>> TableStore::GetItems(
    const std::vector<ItemKey>& keys) {
  std::vector<std::string> item_keys;
  for (const ItemKey& k : keys) {
    ASSIGN_OR_RETURN(std::shared_ptr<Table> table, FindTable(k.table));
    const KeySchema& schema = table->description.spec.key_schema;
    AttributeMap sorted = k.key;
    RETURN_IF_ERROR(SortAttributeMap(&sorted));
    RETURN_IF_ERROR(CheckKey(schema, sorted));
    item_keys.push_back(ItemPrefix(table->description.table_id) + EncodeItemKey(schema, sorted));
  }
  rocksdb::ReadOptions read;
  const rocksdb::Snapshot* snapshot = db_.db()->GetSnapshot();
  read.snapshot = snapshot;
  std::vector<std::optional<AttributeMap>> items;
  absl::Status status;
  for (const std::string& key : item_keys) {
    std::string bytes;
    rocksdb::Status s = db_.db()->Get(read, items_, key, &bytes);
    if (s.IsNotFound()) {
      items.emplace_back();
      continue;
    }
    status = FromRocksDbStatus(s, "reading the item");
    if (!status.ok()) break;
    absl::StatusOr<AttributeMap> item = DecodeItem(bytes);
    status = item.status();
    if (!status.ok()) break;
    items.emplace_back(*std::move(item));
  }
  db_.db()->ReleaseSnapshot(snapshot);
  RETURN_IF_ERROR(status);
  return items;
}

absl::StatusOr<ItemPage> TableStore::Query(const ReadRequest& request) {
  if (!request.key_condition.has_value()) {
    return absl::InvalidArgumentError("Either the KeyConditions or KeyConditionExpression "
                                      "parameter must be specified in the request.");
  }
  return Read(request, /*query=*/true);
}

absl::StatusOr<ItemPage> TableStore::Scan(const ReadRequest& request) {
  if (request.total_segments < 1 || request.total_segments > kMaxTotalSegments) {
    return absl::InvalidArgumentError(
        absl::StrCat("TotalSegments: must be 1-", kMaxTotalSegments));
  }
  if (request.segment < 0 || request.segment >= request.total_segments) {
    return absl::InvalidArgumentError(absl::StrCat(
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: ",
        request.segment, " is not less than TotalSegments: ", request.total_segments));
  }
  return Read(request, /*query=*/false);
}

absl::StatusOr<ItemPage> TableStore::Read(const ReadRequest& request, bool query) {
  ASSIGN_OR_RETURN(std::shared_ptr<Table> table, FindTable(request.table));
  TableDescription d;  // a copy: UpdateTable may add or delete an index meanwhile
  {
    absl::MutexLock lock(&mu_);
    d = table->description;
  }
  // What is read: the table's items, or one index's entries (prefix of the index id; keys of
  // the index; sort key bytes escaped: table_store_internal.h).
  std::optional<size_t> index;
  if (!request.index.empty()) {
    index = internal::FindIndex(d.spec, request.index);
    if (!index.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("The table does not have the specified index: ", request.index));
    }
  }
  if (request.fetch_table_items &&
      (!index.has_value() || d.spec.indexes[*index].kind != IndexKind::kLocal)) {
    return absl::InvalidArgumentError("only a local secondary index fetches the table's items");
  }
  const KeySchema& schema = index ? d.spec.indexes[*index].key_schema : d.spec.key_schema;
  const uint64_t space = index ? d.index_ids[*index] : d.table_id;
  const std::string prefix = ItemPrefix(space);
  std::string lower = prefix;
  std::string upper = ItemPrefix(space + 1);
  // A sort key value's bytes, and the first key above every key of that value.
  const auto sort_at = [&](const AttributeValue& v) {
    return index ? internal::EscapedSortKey(v, /*terminated=*/true) : EncodeSortKey(v);
  };
  const auto past = [&](const std::string& at) {
    return index ? Successor(at) : at + std::string(1, '\0');
  };
  if (query) {
    const KeyCondition& k = *request.key_condition;
    const auto mismatch = [] {
      return absl::InvalidArgumentError(
          "One or more parameter values were invalid: Condition parameter type does not match "
          "schema type");
    };
    if (k.partition_value.type() != schema.partition_key.type) return mismatch();
    if (k.partition_value.type() != AttributeValue::Type::kN && k.partition_value.scalar().empty()) {
      return absl::InvalidArgumentError(
          "One or more parameter values are not valid. The AttributeValue for a key attribute "
          "cannot contain an empty string value.");
    }
    using Op = KeyCondition::SortOp;
    if (k.sort_op != Op::kNone) {
      if (!schema.sort_key.has_value()) {
        return absl::InvalidArgumentError("Query key condition not supported");
      }
      if (k.sort_value.type() != schema.sort_key->type ||
          (k.sort_op == Op::kBetween && k.sort_value2.type() != schema.sort_key->type)) {
        return mismatch();
      }
      if (k.sort_op == Op::kBeginsWith && schema.sort_key->type == AttributeValue::Type::kN) {
        return absl::InvalidArgumentError("begins_with cannot apply to a number sort key");
      }
    }
    if (request.filter.has_value()) {
      if (const std::string* key = KeyAttributeIn(request.filter->root, schema)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Filter Expression can only contain non-primary key attributes: Primary key "
            "attribute: ",
            *key));
      }
    }
    const std::string partition = prefix + EncodePartitionKey(k.partition_value);
    const std::string at = partition + sort_at(k.sort_value);
    lower = partition;
    upper = Successor(partition);
    switch (k.sort_op) {
      case Op::kNone:
        break;
      case Op::kEq:
        lower = at;
        upper = past(at);
        break;
      case Op::kLt:
        upper = at;
        break;
      case Op::kLe:
        upper = past(at);
        break;
      case Op::kGt:
        lower = past(at);
        break;
      case Op::kGe:
        lower = at;
        break;
      case Op::kBetween:
        lower = at;
        upper = past(partition + sort_at(k.sort_value2));
        break;
      case Op::kBeginsWith: {
        // Every value beginning with v: its bytes start with v's (unterminated) bytes.
        const std::string begins =
            index ? partition + internal::EscapedSortKey(k.sort_value, /*terminated=*/false)
                  : at;
        lower = begins;
        upper = Successor(begins);
        break;
      }
    }
  }
  if (request.exclusive_start_key.has_value()) {
    AttributeMap start = *request.exclusive_start_key;
    if (absl::Status s = SortAttributeMap(&start); !s.ok()) return StartingKeyInvalid(s.message());
    std::string key;
    if (index) {
      // The table's key and the index's key (what an index read's LastEvaluatedKey holds).
      AttributeMap table_key, index_key;
      for (const auto& attribute : start) {
        const bool of_table = attribute.first == d.spec.key_schema.partition_key.name ||
                              (d.spec.key_schema.sort_key.has_value() &&
                               attribute.first == d.spec.key_schema.sort_key->name);
        const bool of_index = attribute.first == schema.partition_key.name ||
                              (schema.sort_key.has_value() &&
                               attribute.first == schema.sort_key->name);
        if (!of_table && !of_index) return StartingKeyInvalid("not a key attribute of the index");
        if (of_table) table_key.push_back(attribute);
        if (of_index) index_key.push_back(attribute);
      }
      if (absl::Status s = CheckKey(d.spec.key_schema, table_key); !s.ok()) {
        return StartingKeyInvalid(s.message());
      }
      if (absl::Status s = CheckKey(schema, index_key); !s.ok()) {
        return StartingKeyInvalid(s.message());
      }
      key = internal::IndexEntryKey(d, *index, start);
    } else {
      if (absl::Status s = CheckKey(schema, start); !s.ok()) return StartingKeyInvalid(s.message());
      key = prefix + EncodeItemKey(schema, start);
    }
    if (query && !(*FindAttribute(start, schema.partition_key.name) ==
                   request.key_condition->partition_value)) {
      return absl::InvalidArgumentError(
          "The provided starting key is outside query boundaries based on provided conditions");
    }
    if (request.forward) {
      lower = std::max(lower, key + std::string(1, '\0'));
    } else {
      upper = std::min(upper, key);
    }
  }

  ItemPage page;
  if (!upper.empty() && lower >= upper) return page;
  const rocksdb::Slice lower_bound(lower), upper_bound(upper);
  rocksdb::ReadOptions read;
  read.iterate_lower_bound = &lower_bound;
  if (!upper.empty()) read.iterate_upper_bound = &upper_bound;
  // A local index's entries and the table's items they fetch are read from one snapshot.
  const rocksdb::Snapshot* snapshot =
      request.fetch_table_items ? db_.db()->GetSnapshot() : nullptr;
  absl::Cleanup release = [&] {
    if (snapshot != nullptr) db_.db()->ReleaseSnapshot(snapshot);
  };
  read.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(read, items_));
  const auto in_range = [&] {
    if (!it->Valid()) return false;
    const rocksdb::Slice key = it->key();
    return key.compare(lower_bound) >= 0 && (upper.empty() || key.compare(upper_bound) < 0);
  };
  const auto step = [&] { request.forward ? it->Next() : it->Prev(); };
  if (request.forward) {
    it->Seek(lower_bound);
  } else {
    it->SeekToLast();
  }
  AttributeMap last_key;
  bool stopped = false;
  for (; in_range(); step()) {
    const absl::string_view key(it->key().data(), it->key().size());
    if (request.total_segments > 1) {
      // The partition key's bytes follow the prefix: be16(length) + bytes.
      const absl::string_view rest = key.substr(prefix.size());
      const size_t length = rest.size() >= 2 ? (static_cast<unsigned char>(rest[0]) << 8 |
                                                 static_cast<unsigned char>(rest[1]))
                                              : 0;
      if (Fnv1a(rest.substr(0, 2 + length)) % static_cast<uint64_t>(request.total_segments) !=
          static_cast<uint64_t>(request.segment)) {
        continue;
      }
    }
    ASSIGN_OR_RETURN(AttributeMap item,
                     DecodeItem(absl::string_view(it->value().data(), it->value().size())));
    ++page.scanned_count;
    page.bytes_read += ItemSize(item);
    last_key = index ? internal::IndexKeyOf(d.spec, *index, item) : KeyOf(schema, item);
    if (request.fetch_table_items) {
      std::string bytes;
      const std::string item_key = ItemPrefix(d.table_id) + EncodeItemKey(d.spec.key_schema, item);
      rocksdb::Status got = db_.db()->Get(read, items_, item_key, &bytes);
      RETURN_IF_ERROR(FromRocksDbStatus(got, "reading the item of an index entry"));
      ASSIGN_OR_RETURN(item, DecodeItem(bytes));
      page.table_bytes_fetched += ItemSize(item);
    }
    if (!request.filter.has_value() || ConditionHolds(*request.filter, &item)) {
      page.items.push_back(request.projection.has_value() ? Project(item, *request.projection)
                                                          : std::move(item));
    }
    if ((request.limit > 0 && page.scanned_count >= request.limit) ||
        page.bytes_read >= kMaxPageBytes) {
      stopped = true;
      step();
      break;
    }
  }
  RETURN_IF_ERROR(FromRocksDbStatus(it->status(), "reading the items"));
  // DynamoDB returns a LastEvaluatedKey whenever a page stops early; we leave it out when
  // nothing follows, which saves the client an empty last page.
  if (stopped && in_range()) page.last_evaluated_key = std::move(last_key);
  return page;
}

}  // namespace tributary::tables
