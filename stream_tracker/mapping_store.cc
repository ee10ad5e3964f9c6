#include "stream_tracker/mapping_store.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace tributary::stream_tracker {
namespace {

const std::string& UuidOf(const MappingRecord& record) { return record.config().uuid(); }

// One mapping per function and stream (mapping_manager.h): a mapping that follows a function
// and is not being deleted holds "mapping-unique/<function>/<stream>" (function and stream names
// never hold '/').
std::string FunctionAndStreamOf(const MappingRecord& record) {
  const v1::EventSourceMappingConfiguration& config = record.config();
  if (config.function_name().empty() || config.state() == v1::DELETING_MAPPING) return "";
  return absl::StrCat("mapping-unique/", config.function_name(), "/", config.stream_name());
}

std::string FunctionAndStreamTaken(const MappingRecord& record, absl::string_view holder_key) {
  absl::string_view holder = holder_key;
  absl::ConsumePrefix(&holder, "mapping/");
  return absl::StrCat("function ", record.config().function_name(),
                      " already has event source mapping ", holder, " on stream ",
                      record.config().stream_name(), ": update or delete that mapping");
}

}  // namespace

MappingStore::MappingStore(std::shared_ptr<RecordBackend> backend)
    : RecordStore(std::move(backend), {"mapping", "uuid", "event source mapping", &UuidOf,
                                       &FunctionAndStreamOf, &FunctionAndStreamTaken}) {}

}  // namespace tributary::stream_tracker
