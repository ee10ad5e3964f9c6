// ConsumedCapacity as DynamoDB computes it (tables/NOTES.md, "ConsumedCapacity"): read units per
// 4 KB (eventually consistent: half; transactional: double), write units per 1 KB
// (transactional: double), a table's and each of its indexes' apart. Nothing is throttled: the
// units are reported, for the callers' ReturnConsumedCapacity.
//
// Pure functions and plain data; thread-safe.
#ifndef TRIBUTARY_TABLES_CAPACITY_H_
#define TRIBUTARY_TABLES_CAPACITY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tables/attribute_value.h"
#include "tables/table_store.h"

namespace tributary::tables {

inline constexpr int64_t kReadUnitBytes = 4096;
inline constexpr int64_t kWriteUnitBytes = 1024;

// The read units of reading `bytes` at once: ceil(bytes / 4 KB), at least 1; half of it when
// not `consistent`; twice when `transactional`. Example: 5000 bytes, eventually consistent: 1.
double ReadUnits(int64_t bytes, bool consistent, bool transactional = false);
// The write units of writing an item of `bytes`: ceil(bytes / 1 KB), at least 1; twice when
// `transactional`. Example: 1025 bytes: 2.
double WriteUnits(int64_t bytes, bool transactional = false);

// The units one call consumed on one table: the table's and each index's (by name), read and
// write apart.
struct TableCapacity {
  double table_read = 0;
  double table_write = 0;
  std::map<std::string, double> index_read;
  std::map<std::string, double> index_write;

  double Read() const;   // table_read and every index_read
  double Write() const;  // table_write and every index_write
  void Add(const TableCapacity& other);
};

// The units of one item write on a table of `spec` (old_item / new_item: the item before and
// after; nullopt: none; equal ones: a write that changed nothing):
//  - the table: WriteUnits of the larger of the two items (a missing item counts 0, so at
//    least 1 unit, as DynamoDB charges a delete of a missing item);
//  - each index whose entry changes: an entry put or deleted costs WriteUnits of its projected
//    size; an index key change costs both (the old entry deleted, the new put); an entry whose
//    projected attributes did not change costs nothing.
TableCapacity WriteCapacity(const TableSpec& spec, const std::optional<AttributeMap>& old_item,
                            const std::optional<AttributeMap>& new_item, bool transactional);

// The units of one page of a Query or Scan (ItemPage's bytes_read and table_bytes_fetched) read
// through `index` (null: the table): the items evaluated are summed and rounded once, as
// DynamoDB; `consistent` as the request asked (a global index's read is never consistent: the
// request was refused otherwise); a local index's items fetched from the table (ALL_ATTRIBUTES)
// are charged to the table.
TableCapacity PageCapacity(const IndexSpec* index, int64_t bytes_read,
                           int64_t table_bytes_fetched, bool consistent);

// The units of a batch's or transaction's writes, by table: WriteCapacity of each write's
// outcome (writes[i] → outcomes[i]), with the spec `spec_of` gives for its table (a table gone
// meanwhile: an empty spec, no indexes).
std::map<std::string, TableCapacity> WriteCapacities(
    const std::vector<ItemWrite>& writes, const std::vector<WriteOutcome>& outcomes,
    bool transactional, const std::function<TableSpec(const std::string&)>& spec_of);

// What a reply's ConsumedCapacity shows for one table, whatever the edge renders it as (the
// DynamoDB API's JSON, the Tables service's proto): the table and its indexes together (TOTAL),
// and the table's own and each index's units by the index's kind in `spec` (INDEXES).
struct CapacityUnits {
  double read = 0;
  double write = 0;
  double Total() const { return read + write; }
};
struct ConsumedCapacity {
  std::string table_name;
  CapacityUnits total;
  CapacityUnits table;
  std::map<std::string, CapacityUnits> local_indexes;
  std::map<std::string, CapacityUnits> global_indexes;
};
ConsumedCapacity Consumed(const std::string& table_name, const TableCapacity& c,
                          const TableSpec& spec);

}  // namespace tributary::tables

#endif  // TRIBUTARY_TABLES_CAPACITY_H_
