#include "stream_tracker/mapping_manager.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/aws_arn.h"
#include "common/proto_util.h"
#include "common/status_macros.h"
#include "mapping/mapping_config.h"
#include "stream_tracker/mapping_state.h"

namespace tributary::stream_tracker {

using mapping::ApplyUpdateRequest;
using mapping::ConfigFromCreateRequest;
using mapping::kDefaultListMaxItems;
using mapping::ValidateListRequest;
namespace {

// A random (version 4) UUID in its usual text form.
std::string NewUuid() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen();
  uint64_t hi, lo;
  {
    absl::MutexLock lock(&mu);
    hi = absl::Uniform<uint64_t>(*gen);
    lo = absl::Uniform<uint64_t>(*gen);
  }
  hi = (hi & ~uint64_t{0xF000}) | 0x4000;                      // version 4
  lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);  // variant 10
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF,
                         lo >> 48, lo & 0xFFFFFFFFFFFF);
}

absl::Status RequireUuid(const std::string& uuid) {
  if (uuid.empty()) return absl::InvalidArgumentError("uuid is required");
  return absl::OkStatus();
}

absl::Status CheckStream(StreamCatalog* streams, absl::string_view field, const std::string& name) {
  absl::Status status = streams->CheckStreamExists(name);
  if (absl::IsNotFound(status)) {
    return absl::NotFoundError(absl::StrCat(field, ": stream ", name, " not found"));
  }
  return WithContext(status, "checking ", field, " ", name);
}

// The destinations `config` names exist (each checked like a stream: NOT_FOUND naming its field).
absl::Status CheckDestinations(StreamCatalog* streams, const v1::DestinationConfig& config) {
  if (const std::string& d = config.on_failure().destination(); !d.empty()) {
    RETURN_IF_ERROR(CheckStream(streams, "destination_config.on_failure.destination", d));
  }
  if (const std::string& d = config.on_success().destination(); !d.empty()) {
    RETURN_IF_ERROR(CheckStream(streams, "destination_config.on_success.destination", d));
  }
  return absl::OkStatus();
}

}  // namespace

MappingManager::MappingManager(MappingStore* store, StreamCatalog* streams, Clock& clock,
                               std::function<void()> on_change, FunctionRegistry* functions)
    : store_(store),
      streams_(streams),
      clock_(clock),
      on_change_(std::move(on_change)),
      functions_(functions) {}

v1::EventSourceMappingConfiguration MappingManager::Served(
    v1::EventSourceMappingConfiguration config) const {
  // Made when served, like a function's ARN: stored records may carry an older form
  // ("arn:tributary:stream/...", before issue 17) or none.
  const AwsAccount account = functions_ != nullptr ? functions_->account() : AwsAccount();
  config.set_event_source_arn(KinesisStreamArn(account, config.stream_name()));
  if (config.function_name().empty()) {
    config.clear_function_arn();
  } else {
    config.set_function_arn(LambdaFunctionArn(account, config.function_name()));
  }
  return config;
}

absl::StatusOr<std::string> MappingManager::ParseFunctionName(absl::string_view field,
                                                              absl::string_view name_or_arn) const {
  if (functions_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": this stream tracker has no function registry"));
  }
  return functions_->ParseName(field, name_or_arn);
}

absl::Status MappingManager::CheckOneMappingPerFunctionAndStream(
    const std::string& function_name, const std::string& stream_name,
    const std::string& except_uuid) const {
  constexpr size_t kChunk = 1000;
  std::string after;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<MappingRecord> chunk, store_->List(after, kChunk));
    for (const MappingRecord& record : chunk) {
      const v1::EventSourceMappingConfiguration& config = record.config();
      if (config.function_name() == function_name && config.stream_name() == stream_name &&
          config.uuid() != except_uuid && config.state() != v1::DELETING_MAPPING) {
        return absl::AlreadyExistsError(absl::StrCat(
            "function ", function_name, " already has event source mapping ", config.uuid(),
            " on stream ", stream_name, ": update or delete that mapping"));
      }
    }
    if (chunk.size() < kChunk) return absl::OkStatus();
    after = chunk.back().config().uuid();
  }
}

void MappingManager::Changed() {
  if (on_change_) on_change_();
}

absl::StatusOr<v1::EventSourceMappingConfiguration> MappingManager::Create(
    const v1::CreateEventSourceMappingRequest& request) {
  ASSIGN_OR_RETURN(v1::EventSourceMappingConfiguration config, ConfigFromCreateRequest(request));
  std::string function_name;
  if (!request.function_name().empty()) {
    ASSIGN_OR_RETURN(function_name, ParseFunctionName("function_name", request.function_name()));
  }
  RETURN_IF_ERROR(CheckStream(streams_, "stream_name", config.stream_name()));
  RETURN_IF_ERROR(CheckDestinations(streams_, config.destination_config()));
  const absl::Time now = clock_.Now();
  config.set_uuid(NewUuid());
  config.set_state(v1::CREATING_MAPPING);
  config.set_state_transition_reason(kUserActionReason);
  *config.mutable_last_modified() = ToProtoTimestamp(now);
  config.set_last_processing_result(kNoRecordsProcessed);
  config.set_config_version(1);
  MappingRecord record;
  *record.mutable_config() = config;
  record.set_created_unix_ms(absl::ToUnixMillis(now));
  if (function_name.empty()) {
    RETURN_IF_ERROR(store_->Insert(record));
  } else {
    RETURN_IF_ERROR(
        functions_->WithFunction(function_name, [&](const v1::FunctionConfiguration& function) {
          // Under the registry's lock, which every write linking a mapping to a function takes:
          // two creates of the same pair cannot both pass the check.
          RETURN_IF_ERROR(CheckOneMappingPerFunctionAndStream(function_name, config.stream_name(),
                                                              /*except_uuid=*/""));
          FunctionRegistry::CopyToMapping(function, record.mutable_config());
          return store_->Insert(record);
        }));
  }
  Changed();
  return Served(record.config());
}

absl::StatusOr<v1::EventSourceMappingConfiguration> MappingManager::Update(
    const v1::UpdateEventSourceMappingRequest& request) {
  RETURN_IF_ERROR(RequireUuid(request.uuid()));
  // Validate before any lookup, so that a malformed request is INVALID_ARGUMENT whatever the
  // state; ApplyUpdateRequest below checks again on the stored configuration.
  v1::EventSourceMappingConfiguration scratch;
  RETURN_IF_ERROR(ApplyUpdateRequest(request, &scratch));
  std::string function_name;
  if (request.has_function_name()) {
    ASSIGN_OR_RETURN(function_name, ParseFunctionName("function_name", request.function_name()));
  }
  if (request.has_destination_config()) {
    RETURN_IF_ERROR(CheckDestinations(streams_, request.destination_config()));
  }
  const absl::Time now = clock_.Now();
  // `function` is the function the mapping is pointed at, or null.
  auto modify = [&](const v1::FunctionConfiguration* function) {
    return store_->Modify(request.uuid(), [&](MappingRecord* r) -> absl::Status {
      v1::EventSourceMappingConfiguration* config = r->mutable_config();
      if (config->state() == v1::DELETING_MAPPING) {
        return absl::FailedPreconditionError(
            absl::StrCat("event source mapping ", request.uuid(), " is being deleted"));
      }
      RETURN_IF_ERROR(ApplyUpdateRequest(request, config));
      if (function != nullptr) FunctionRegistry::CopyToMapping(*function, config);
      const bool old_enabled = config->enabled();
      const bool new_enabled = request.has_enabled() ? request.enabled() : old_enabled;
      config->set_state(StateAfterUpdate(config->state(), old_enabled, new_enabled));
      config->set_enabled(new_enabled);
      config->set_state_transition_reason(kUserActionReason);
      *config->mutable_last_modified() = ToProtoTimestamp(now);
      config->set_config_version(config->config_version() + 1);
      return absl::OkStatus();
    });
  };
  MappingRecord record;
  if (function_name.empty()) {
    ASSIGN_OR_RETURN(record, modify(nullptr));
  } else {
    RETURN_IF_ERROR(
        functions_->WithFunction(function_name, [&](const v1::FunctionConfiguration& function) {
          // A mapping's stream never changes, so the one read here is the one modified.
          ASSIGN_OR_RETURN(MappingRecord current, store_->Get(request.uuid()));
          RETURN_IF_ERROR(CheckOneMappingPerFunctionAndStream(
              function_name, current.config().stream_name(), request.uuid()));
          ASSIGN_OR_RETURN(record, modify(&function));
          return absl::OkStatus();
        }));
  }
  Changed();
  return Served(record.config());
}

absl::StatusOr<v1::EventSourceMappingConfiguration> MappingManager::Delete(
    const std::string& uuid) {
  RETURN_IF_ERROR(RequireUuid(uuid));
  const absl::Time now = clock_.Now();
  ASSIGN_OR_RETURN(MappingRecord record, store_->Modify(uuid, [&](MappingRecord* r) {
    v1::EventSourceMappingConfiguration* config = r->mutable_config();
    if (config->state() == v1::DELETING_MAPPING) return absl::OkStatus();
    config->set_state(v1::DELETING_MAPPING);
    config->set_state_transition_reason(kUserActionReason);
    *config->mutable_last_modified() = ToProtoTimestamp(now);
    config->set_config_version(config->config_version() + 1);
    return absl::OkStatus();
  }));
  Changed();
  return Served(record.config());
}

absl::StatusOr<v1::EventSourceMappingConfiguration> MappingManager::Get(const std::string& uuid) {
  RETURN_IF_ERROR(RequireUuid(uuid));
  ASSIGN_OR_RETURN(MappingRecord record, store_->Get(uuid));
  return Served(record.config());
}

absl::StatusOr<v1::ListEventSourceMappingsResponse> MappingManager::List(
    const v1::ListEventSourceMappingsRequest& request) {
  RETURN_IF_ERROR(ValidateListRequest(request));
  std::string function_name;
  if (!request.function_name().empty()) {
    ASSIGN_OR_RETURN(function_name, ParseFunctionName("function_name", request.function_name()));
  }
  const size_t max_items =
      request.max_items() == 0 ? kDefaultListMaxItems : static_cast<size_t>(request.max_items());
  constexpr size_t kChunk = 1000;
  v1::ListEventSourceMappingsResponse response;
  std::string after = request.marker();
  while (true) {
    ASSIGN_OR_RETURN(std::vector<MappingRecord> chunk, store_->List(after, kChunk));
    for (const MappingRecord& record : chunk) {
      const v1::EventSourceMappingConfiguration& config = record.config();
      if (!request.stream_name().empty() && config.stream_name() != request.stream_name()) {
        continue;
      }
      if (!request.function_endpoint().empty() &&
          config.function_endpoint() != request.function_endpoint()) {
        continue;
      }
      if (!function_name.empty() && config.function_name() != function_name) continue;
      if (static_cast<size_t>(response.event_source_mappings_size()) == max_items) {
        // One more match exists: the page is full and there is a next one.
        response.set_next_marker(
            response.event_source_mappings(response.event_source_mappings_size() - 1).uuid());
        return response;
      }
      *response.add_event_source_mappings() = Served(config);
    }
    if (chunk.size() < kChunk) return response;
    after = chunk.back().config().uuid();
  }
}

}  // namespace tributary::stream_tracker
