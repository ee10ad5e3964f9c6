#include "stream_tracker/function_store.h"

#include <utility>

namespace tributary::stream_tracker {
namespace {

const std::string& NameOf(const FunctionRecord& record) { return record.config().function_name(); }

}  // namespace

FunctionStore::FunctionStore(std::shared_ptr<RocksDb> db, const Options& options)
    : RecordStore(std::move(db), options, {"function", "name", "function", &NameOf}) {}

}  // namespace tributary::stream_tracker
