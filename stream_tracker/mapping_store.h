// MappingStore: the durable set of event-source mappings, one RocksDB record per mapping, keyed by
// uuid, under "mapping/<uuid>" in the tracker's database (tracker_db.h), which the function store
// shares. Records are kept in uuid order.
//
// A RecordStore (record_store.h): each change is one RocksDB write with the WAL on, acknowledged
// only after RocksDB accepted it, so a mapping survives kill -9 of the process (with
// `sync_writes` it also survives power loss). Thread-safe; Modify is an atomic read-modify-write
// against every other change.
//
// Its operations, as record_store.h states them, with the key record.config().uuid():
//   Insert(record)        INVALID_ARGUMENT for an empty uuid; ALREADY_EXISTS when it is taken
//   Get(uuid)             NOT_FOUND ("event source mapping <uuid> not found"); DATA_LOSS
//   List(after_uuid, limit)   in uuid order, after `after_uuid`
//   Modify(uuid, mutate)  `mutate` must not change the uuid (INTERNAL if it does)
//   Remove(uuid)          idempotent
//   writes()              writes accepted since Open
//   Open(path[, options]), Create(db, options)   options: sync_writes, env (RecordStoreOptions)
#ifndef TRIBUTARY_STREAM_TRACKER_MAPPING_STORE_H_
#define TRIBUTARY_STREAM_TRACKER_MAPPING_STORE_H_

#include <memory>

#include "common/rocksdb_util.h"
#include "stream_tracker/mapping_record.pb.h"
#include "stream_tracker/record_store.h"

namespace tributary::stream_tracker {

class MappingStore final : public RecordStore<MappingRecord, MappingStore> {
 private:
  friend class RecordStore<MappingRecord, MappingStore>;
  MappingStore(std::shared_ptr<RocksDb> db, const Options& options);
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_MAPPING_STORE_H_
