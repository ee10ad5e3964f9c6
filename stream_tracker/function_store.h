// FunctionStore: the durable registry of functions, one RocksDB record per function, keyed by
// name, in the tracker's database beside the mappings (tracker_db.h: "function/<name>"). Records
// are kept in name order (bytewise; names are ASCII).
//
// A RecordStore (record_store.h): each change is one RocksDB write with the WAL on, acknowledged
// only after RocksDB accepted it, so a function survives kill -9 of the process (with
// `sync_writes` it also survives power loss). Thread-safe; Modify is an atomic read-modify-write
// against every other change.
//
// Its operations, as record_store.h states them, with the key record.config().function_name():
//   Insert(record)        INVALID_ARGUMENT for an empty name; ALREADY_EXISTS when it is taken
//   Get(name)             NOT_FOUND ("function <name> not found"); DATA_LOSS
//   List(after_name, limit)   in name order, after `after_name`
//   Modify(name, mutate)  `mutate` must not change the name (INTERNAL if it does)
//   Remove(name)          idempotent
//   writes()              writes accepted since Open
//   Open(path[, options]), Create(db, options)   options: sync_writes, env (RecordStoreOptions)
#ifndef TRIBUTARY_STREAM_TRACKER_FUNCTION_STORE_H_
#define TRIBUTARY_STREAM_TRACKER_FUNCTION_STORE_H_

#include <memory>

#include "common/rocksdb_util.h"
#include "stream_tracker/function_record.pb.h"
#include "stream_tracker/record_store.h"

namespace tributary::stream_tracker {

class FunctionStore final : public RecordStore<FunctionRecord, FunctionStore> {
 private:
  friend class RecordStore<FunctionRecord, FunctionStore>;
  FunctionStore(std::shared_ptr<RocksDb> db, const Options& options);
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_FUNCTION_STORE_H_
