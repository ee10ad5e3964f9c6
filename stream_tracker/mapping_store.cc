#include "stream_tracker/mapping_store.h"

#include <utility>

namespace tributary::stream_tracker {
namespace {

const std::string& UuidOf(const MappingRecord& record) { return record.config().uuid(); }

}  // namespace

MappingStore::MappingStore(std::shared_ptr<RecordBackend> backend)
    : RecordStore(std::move(backend), {"mapping", "uuid", "event source mapping", &UuidOf}) {}

}  // namespace tributary::stream_tracker
