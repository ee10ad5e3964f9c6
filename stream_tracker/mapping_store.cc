#include "stream_tracker/mapping_store.h"

#include <utility>

namespace tributary::stream_tracker {
namespace {

const std::string& UuidOf(const MappingRecord& record) { return record.config().uuid(); }

}  // namespace

MappingStore::MappingStore(std::shared_ptr<RocksDb> db, const Options& options)
    : RecordStore(std::move(db), options, {"mapping", "uuid", "event source mapping", &UuidOf}) {}

}  // namespace tributary::stream_tracker
