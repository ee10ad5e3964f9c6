#include "tables/capacity.h"

#include <algorithm>

#include "tables/table_store_internal.h"

namespace tributary::tables {
namespace {

int64_t Units(int64_t bytes, int64_t unit) {
  return std::max<int64_t>(1, (bytes + unit - 1) / unit);
}

}  // namespace

double ReadUnits(int64_t bytes, bool consistent, bool transactional) {
  double units = static_cast<double>(Units(bytes, kReadUnitBytes));
  if (!consistent) units /= 2;
  if (transactional) units *= 2;
  return units;
}

double WriteUnits(int64_t bytes, bool transactional) {
  return static_cast<double>(Units(bytes, kWriteUnitBytes) * (transactional ? 2 : 1));
}

double TableCapacity::Read() const {
  double total = table_read;
  for (const auto& [name, units] : index_read) total += units;
  return total;
}

double TableCapacity::Write() const {
  double total = table_write;
  for (const auto& [name, units] : index_write) total += units;
  return total;
}

void TableCapacity::Add(const TableCapacity& other) {
  table_read += other.table_read;
  table_write += other.table_write;
  for (const auto& [name, units] : other.index_read) index_read[name] += units;
  for (const auto& [name, units] : other.index_write) index_write[name] += units;
}

TableCapacity WriteCapacity(const TableSpec& spec, const std::optional<AttributeMap>& old_item,
                            const std::optional<AttributeMap>& new_item, bool transactional) {
  TableCapacity out;
  const int64_t old_bytes = old_item ? ItemSize(*old_item) : 0;
  const int64_t new_bytes = new_item ? ItemSize(*new_item) : 0;
  out.table_write = WriteUnits(std::max(old_bytes, new_bytes), transactional);
  for (size_t i = 0; i < spec.indexes.size(); ++i) {
    const IndexSpec& index = spec.indexes[i];
    std::optional<AttributeMap> old_entry, new_entry;
    if (old_item && internal::InIndex(index, *old_item)) {
      old_entry = internal::ProjectToIndex(spec, i, *old_item);
    }
    if (new_item && internal::InIndex(index, *new_item)) {
      new_entry = internal::ProjectToIndex(spec, i, *new_item);
    }
    double units = 0;
    if (old_entry && new_entry) {
      const bool same_key = ItemsEqual(internal::IndexKeyOf(spec, i, *old_entry),
                                       internal::IndexKeyOf(spec, i, *new_entry));
      if (!same_key) {
        units = WriteUnits(ItemSize(*old_entry), transactional) +
                WriteUnits(ItemSize(*new_entry), transactional);
      } else if (!ItemsEqual(*old_entry, *new_entry)) {
        units = WriteUnits(ItemSize(*new_entry), transactional);
      }
    } else if (old_entry) {
      units = WriteUnits(ItemSize(*old_entry), transactional);
    } else if (new_entry) {
      units = WriteUnits(ItemSize(*new_entry), transactional);
    }
    if (units > 0) out.index_write[index.name] += units;
  }
  return out;
}

TableCapacity PageCapacity(const IndexSpec* index, int64_t bytes_read,
                           int64_t table_bytes_fetched, bool consistent) {
  TableCapacity c;
  if (index == nullptr) {
    c.table_read = ReadUnits(bytes_read, consistent);
    return c;
  }
  c.index_read[index->name] = ReadUnits(bytes_read, consistent);
  if (table_bytes_fetched > 0) c.table_read = ReadUnits(table_bytes_fetched, consistent);
  return c;
}

std::map<std::string, TableCapacity> WriteCapacities(
    const std::vector<ItemWrite>& writes, const std::vector<WriteOutcome>& outcomes,
    bool transactional, const std::function<TableSpec(const std::string&)>& spec_of) {
  std::map<std::string, TableCapacity> out;
  std::map<std::string, TableSpec> specs;
  for (size_t i = 0; i < writes.size() && i < outcomes.size(); ++i) {
    auto spec = specs.find(writes[i].table);
    if (spec == specs.end()) spec = specs.emplace(writes[i].table, spec_of(writes[i].table)).first;
    out[writes[i].table].Add(
        WriteCapacity(spec->second, outcomes[i].old_item, outcomes[i].new_item, transactional));
  }
  return out;
}

ConsumedCapacity Consumed(const std::string& table_name, const TableCapacity& c,
                          const TableSpec& spec) {
  ConsumedCapacity out;
  out.table_name = table_name;
  out.total = {c.Read(), c.Write()};
  out.table = {c.table_read, c.table_write};
  std::map<std::string, CapacityUnits> indexes;
  for (const auto& [name, units] : c.index_read) indexes[name].read += units;
  for (const auto& [name, units] : c.index_write) indexes[name].write += units;
  for (const auto& [name, units] : indexes) {
    bool is_local = false;
    for (const IndexSpec& i : spec.indexes) {
      if (i.name == name) is_local = i.kind == IndexKind::kLocal;
    }
    (is_local ? out.local_indexes : out.global_indexes)[name] = units;
  }
  return out;
}

}  // namespace tributary::tables
