#include "stream_tracker/function_registry.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/proto_util.h"
#include "common/status_macros.h"

namespace tributary::stream_tracker {
namespace {

// How many mappings a FAILED_PRECONDITION of DeleteFunction lists by UUID.
constexpr size_t kListedMappings = 10;
// Mappings read per List call of a scan.
constexpr size_t kScanChunk = 1000;

bool Follows(const v1::EventSourceMappingConfiguration& mapping,
             const v1::FunctionConfiguration& function) {
  return mapping.function_endpoint() == function.endpoint() &&
         mapping.function_timeout_seconds() == function.timeout_seconds() &&
         mapping.has_function_reserved_concurrent_executions() ==
             function.has_reserved_concurrent_executions() &&
         mapping.function_reserved_concurrent_executions() ==
             function.reserved_concurrent_executions();
}

// Calls `visit` with every mapping, in uuid order, a chunk at a time.
absl::Status ForEachMapping(const MappingStore& store,
                            const std::function<absl::Status(const MappingRecord&)>& visit) {
  std::string after;
  while (true) {
    ASSIGN_OR_RETURN(std::vector<MappingRecord> chunk, store.List(after, kScanChunk));
    for (const MappingRecord& record : chunk) RETURN_IF_ERROR(visit(record));
    if (chunk.size() < kScanChunk) return absl::OkStatus();
    after = chunk.back().config().uuid();
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<FunctionRegistry>> FunctionRegistry::Create(
    FunctionStore* functions, MappingStore* mappings, Clock& clock,
    const FunctionAccount& account) {
  RETURN_IF_ERROR(ValidateAwsAccount(account));
  return std::unique_ptr<FunctionRegistry>(
      new FunctionRegistry(functions, mappings, clock, account));
}

void FunctionRegistry::CopyToMapping(const v1::FunctionConfiguration& function,
                                     v1::EventSourceMappingConfiguration* mapping) {
  mapping->set_function_name(function.function_name());
  mapping->set_function_endpoint(function.endpoint());
  mapping->set_function_timeout_seconds(function.timeout_seconds());
  if (function.has_reserved_concurrent_executions()) {
    mapping->set_function_reserved_concurrent_executions(function.reserved_concurrent_executions());
  } else {
    mapping->clear_function_reserved_concurrent_executions();
  }
}

v1::FunctionConfiguration FunctionRegistry::Served(const FunctionRecord& record) const {
  v1::FunctionConfiguration config = record.config();
  config.set_function_arn(LambdaFunctionArn(account_, config.function_name()));
  return config;
}

absl::StatusOr<std::string> FunctionRegistry::ParseName(absl::string_view field,
                                                        absl::string_view name_or_arn) const {
  return ParseFunctionName(field, name_or_arn, account_);
}

absl::StatusOr<FunctionRecord> FunctionRegistry::Find(const std::string& name) const {
  return functions_->Get(name);
}

absl::StatusOr<std::vector<MappingRecord>> FunctionRegistry::MappingsNaming(
    const std::string& name) const {
  std::vector<MappingRecord> naming;
  RETURN_IF_ERROR(ForEachMapping(*mappings_, [&](const MappingRecord& record) {
    if (record.config().function_name() == name) naming.push_back(record);
    return absl::OkStatus();
  }));
  return naming;
}

absl::Status FunctionRegistry::SyncMapping(const std::string& uuid,
                                           const v1::FunctionConfiguration& function) {
  absl::StatusOr<MappingRecord> written =
      mappings_->Modify(uuid, [&](MappingRecord* record) -> absl::Status {
        v1::EventSourceMappingConfiguration* config = record->mutable_config();
        // Re-read under the store's lock: the mapping may have been pointed elsewhere since it
        // was listed (then it no longer follows this function and is written unchanged).
        if (config->function_name() != function.function_name() || Follows(*config, function)) {
          return absl::OkStatus();
        }
        CopyToMapping(function, config);
        config->set_config_version(config->config_version() + 1);
        return absl::OkStatus();
      });
  if (absl::IsNotFound(written.status())) return absl::OkStatus();  // removed meanwhile
  return WithContext(written.status(), "updating mapping ", uuid, " to function ",
                     function.function_name());
}

absl::Status FunctionRegistry::SyncMappingsNaming(const std::string& name,
                                                 const v1::FunctionConfiguration& function) {
  ASSIGN_OR_RETURN(std::vector<MappingRecord> naming, MappingsNaming(name));
  for (const MappingRecord& mapping : naming) {
    if (Follows(mapping.config(), function)) continue;
    RETURN_IF_ERROR(SyncMapping(mapping.config().uuid(), function));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::FunctionConfiguration> FunctionRegistry::CreateFunction(
    const v1::CreateFunctionRequest& request) {
  ASSIGN_OR_RETURN(v1::FunctionConfiguration config, FunctionFromCreateRequest(request, account_));
  const absl::Time now = clock_.Now();
  *config.mutable_last_modified() = ToProtoTimestamp(now);
  FunctionRecord record;
  *record.mutable_config() = config;
  record.set_created_unix_ms(absl::ToUnixMillis(now));
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(functions_->Insert(record));
  return Served(record);
}

absl::StatusOr<v1::FunctionConfiguration> FunctionRegistry::UpdateFunction(
    const v1::UpdateFunctionRequest& request) {
  ASSIGN_OR_RETURN(std::string name, ParseName("function_name", request.function_name()));
  // Validate before any lookup: a malformed request is INVALID_ARGUMENT whatever the state.
  v1::FunctionConfiguration scratch;
  RETURN_IF_ERROR(ApplyFunctionUpdate(request, &scratch));
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(FunctionRecord record, functions_->Modify(name, [&](FunctionRecord* r) {
    RETURN_IF_ERROR(ApplyFunctionUpdate(request, r->mutable_config()));
    *r->mutable_config()->mutable_last_modified() = ToProtoTimestamp(now);
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(SyncMappingsNaming(name, record.config()));
  return Served(record);
}

absl::StatusOr<v1::FunctionConfiguration> FunctionRegistry::GetFunction(
    absl::string_view name_or_arn) {
  ASSIGN_OR_RETURN(std::string name, ParseName("function_name", name_or_arn));
  ASSIGN_OR_RETURN(FunctionRecord record, Find(name));
  return Served(record);
}

absl::StatusOr<v1::ListFunctionsResponse> FunctionRegistry::ListFunctions(
    const v1::ListFunctionsRequest& request) {
  RETURN_IF_ERROR(ValidateListFunctionsRequest(request));
  const size_t max_items = request.max_items() == 0 ? kDefaultListFunctionsMaxItems
                                                    : static_cast<size_t>(request.max_items());
  // One more than a page tells whether a next page exists.
  ASSIGN_OR_RETURN(std::vector<FunctionRecord> records,
                   functions_->List(request.marker(), max_items + 1));
  v1::ListFunctionsResponse response;
  for (size_t i = 0; i < records.size() && i < max_items; ++i) {
    *response.add_functions() = Served(records[i]);
  }
  if (records.size() > max_items) {
    response.set_next_marker(records[max_items - 1].config().function_name());
  }
  return response;
}

absl::Status FunctionRegistry::DeleteFunction(absl::string_view name_or_arn) {
  ASSIGN_OR_RETURN(std::string name, ParseName("function_name", name_or_arn));
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Find(name).status());
  ASSIGN_OR_RETURN(std::vector<MappingRecord> naming, MappingsNaming(name));
  if (!naming.empty()) {
    std::vector<std::string> uuids;
    for (size_t i = 0; i < naming.size() && i < kListedMappings; ++i) {
      uuids.push_back(naming[i].config().uuid());
    }
    std::string more;
    if (naming.size() > kListedMappings) {
      more = absl::StrCat(" and ", naming.size() - kListedMappings, " more");
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "function ", name, " is used by event source mappings ", absl::StrJoin(uuids, ", "), more,
        ": delete them or point them at another function first"));
  }
  return functions_->Remove(name);
}

absl::StatusOr<v1::FunctionConcurrency> FunctionRegistry::PutFunctionConcurrency(
    const v1::PutFunctionConcurrencyRequest& request) {
  ASSIGN_OR_RETURN(std::string name, ParseName("function_name", request.function_name()));
  RETURN_IF_ERROR(ValidatePutConcurrency(request));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(FunctionRecord record, functions_->Modify(name, [&](FunctionRecord* r) {
    r->mutable_config()->set_reserved_concurrent_executions(
        request.reserved_concurrent_executions());
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(SyncMappingsNaming(name, record.config()));
  v1::FunctionConcurrency concurrency;
  concurrency.set_reserved_concurrent_executions(record.config().reserved_concurrent_executions());
  return concurrency;
}

absl::Status FunctionRegistry::DeleteFunctionConcurrency(absl::string_view name_or_arn) {
  ASSIGN_OR_RETURN(std::string name, ParseName("function_name", name_or_arn));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(FunctionRecord record, Find(name));
  if (record.config().has_reserved_concurrent_executions()) {
    ASSIGN_OR_RETURN(record, functions_->Modify(name, [](FunctionRecord* r) {
      r->mutable_config()->clear_reserved_concurrent_executions();
      return absl::OkStatus();
    }));
  }
  // Also when there was none: a retry after a failed mapping write finishes the work.
  return SyncMappingsNaming(name, record.config());
}

absl::StatusOr<v1::FunctionConcurrency> FunctionRegistry::GetFunctionConcurrency(
    absl::string_view name_or_arn) {
  ASSIGN_OR_RETURN(std::string name, ParseName("function_name", name_or_arn));
  ASSIGN_OR_RETURN(FunctionRecord record, Find(name));
  v1::FunctionConcurrency concurrency;
  if (record.config().has_reserved_concurrent_executions()) {
    concurrency.set_reserved_concurrent_executions(
        record.config().reserved_concurrent_executions());
  }
  return concurrency;
}

absl::Status FunctionRegistry::WithFunction(
    const std::string& name,
    const std::function<absl::Status(const v1::FunctionConfiguration&)>& link) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<FunctionRecord> record = Find(name);
  if (absl::IsNotFound(record.status())) {
    return absl::NotFoundError(absl::StrCat("function_name: function ", name, " not found"));
  }
  RETURN_IF_ERROR(record.status());
  return link(record->config());
}

absl::Status FunctionRegistry::RepairMappings() {
  absl::MutexLock lock(&mu_);
  std::map<std::string, absl::StatusOr<FunctionRecord>> functions;           // read once each
  std::vector<std::pair<std::string, v1::FunctionConfiguration>> to_repair;  // uuid, function
  absl::Status first_error;
  absl::Status scanned = ForEachMapping(*mappings_, [&](const MappingRecord& mapping) {
    const std::string& name = mapping.config().function_name();
    if (name.empty()) return absl::OkStatus();
    auto it = functions.find(name);
    if (it == functions.end()) it = functions.emplace(name, Find(name)).first;
    const absl::StatusOr<FunctionRecord>& function = it->second;
    if (function.ok()) {
      if (!Follows(mapping.config(), function->config())) {
        to_repair.emplace_back(mapping.config().uuid(), function->config());
      }
    } else if (!absl::IsNotFound(function.status()) && first_error.ok()) {
      first_error = function.status();
    }
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(scanned);
  // Written after the scan, not from its callback: SyncMapping needs mu_, which a lambda does
  // not visibly hold (clang thread-safety analysis).
  for (const auto& [uuid, function] : to_repair) {
    absl::Status status = SyncMapping(uuid, function);
    if (!status.ok() && first_error.ok()) first_error = status;
  }
  return first_error;
}

}  // namespace tributary::stream_tracker
