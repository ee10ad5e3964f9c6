#include "mapping/mapping_config.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mapping/function_endpoint.h"
#include "common/status_macros.h"
#include "common/stream_name.h"
#include "mapping/record_filter.h"

namespace tributary::mapping {
namespace {

constexpr char kTimeoutWithFunctionName[] =
    "function_timeout_seconds cannot be set with function_name: the mapping takes the "
    "function's timeout (change it with UpdateFunction)";

absl::Status CheckRange(absl::string_view field, int64_t value, int64_t min, int64_t max) {
  if (value >= min && value <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be between ", min, " and ", max, ", got ", value));
}

// Lambda's "-1 (no limit) or min–max" fields.
absl::Status CheckRangeOrMinusOne(absl::string_view field, int64_t value, int64_t min,
                                  int64_t max) {
  if (value == -1 || (value >= min && value <= max)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, " must be -1 (no limit) or between ", min,
                                                 " and ", max, ", got ", value));
}

// An on-failure or an on-success destination is named.
bool HasDestination(const v1::DestinationConfig& destination_config) {
  return !destination_config.on_failure().destination().empty() ||
         !destination_config.on_success().destination().empty();
}

absl::Status ValidateDestination(const v1::DestinationConfig& destination_config) {
  const std::string& destination = destination_config.on_failure().destination();
  if (destination.empty()) {
    if (destination_config.on_failure().include_records()) {
      return absl::InvalidArgumentError(
          "destination_config.on_failure.include_records needs "
          "destination_config.on_failure.destination");
    }
  } else {
    RETURN_IF_ERROR(ValidateStreamName("destination_config.on_failure.destination", destination));
  }
  const std::string& on_success = destination_config.on_success().destination();
  if (on_success.empty()) return absl::OkStatus();
  return ValidateStreamName("destination_config.on_success.destination", on_success);
}

// Checks function_response_types and returns them without duplicates, in first-seen order.
absl::StatusOr<std::vector<v1::FunctionResponseType>> ValidateResponseTypes(
    const google::protobuf::RepeatedField<int>& types) {
  std::vector<v1::FunctionResponseType> result;
  for (int type : types) {
    if (type != v1::REPORT_BATCH_ITEM_FAILURES) {
      return absl::InvalidArgumentError(absl::StrCat(
          "function_response_types may only hold REPORT_BATCH_ITEM_FAILURES, got ", type));
    }
    auto t = static_cast<v1::FunctionResponseType>(type);
    if (std::find(result.begin(), result.end(), t) == result.end()) result.push_back(t);
  }
  return result;
}

void SetResponseTypes(const std::vector<v1::FunctionResponseType>& types,
                      v1::EventSourceMappingConfiguration* config) {
  config->clear_function_response_types();
  for (v1::FunctionResponseType t : types) config->add_function_response_types(t);
}

// The optional int32 fields shared by Create and Update, checked when present.
template <typename Request>
absl::Status ValidateOptionalNumbers(const Request& request) {
  if (request.has_batch_size()) {
    RETURN_IF_ERROR(CheckRange("batch_size", request.batch_size(), kMinBatchSize, kMaxBatchSize));
  }
  if (request.has_maximum_batching_window_in_seconds()) {
    RETURN_IF_ERROR(CheckRange("maximum_batching_window_in_seconds",
                               request.maximum_batching_window_in_seconds(), 0,
                               kMaxBatchingWindowSeconds));
  }
  if (request.has_parallelization_factor()) {
    RETURN_IF_ERROR(CheckRange("parallelization_factor", request.parallelization_factor(), 1,
                               kMaxParallelizationFactor));
  }
  if (request.has_maximum_record_age_in_seconds()) {
    RETURN_IF_ERROR(CheckRangeOrMinusOne("maximum_record_age_in_seconds",
                                         request.maximum_record_age_in_seconds(),
                                         kMinRecordAgeSeconds, kMaxRecordAgeSeconds));
  }
  if (request.has_maximum_retry_attempts()) {
    RETURN_IF_ERROR(CheckRangeOrMinusOne("maximum_retry_attempts", request.maximum_retry_attempts(),
                                         0, kMaxRetryAttempts));
  }
  if (request.has_function_timeout_seconds()) {
    RETURN_IF_ERROR(CheckRange("function_timeout_seconds", request.function_timeout_seconds(), 1,
                               kMaxFunctionTimeoutSeconds));
  }
  if (request.has_tumbling_window_in_seconds()) {
    RETURN_IF_ERROR(CheckRange("tumbling_window_in_seconds", request.tumbling_window_in_seconds(),
                               0, kMaxTumblingWindowSeconds));
  }
  if (request.has_max_parked_keys()) {
    RETURN_IF_ERROR(
        CheckRange("max_parked_keys", request.max_parked_keys(), 1, kMaxMaxParkedKeys));
  }
  return absl::OkStatus();
}

// Checks filter_criteria with the poller's own compiler, so that the tracker accepts exactly the
// patterns pollers can run.
absl::Status ValidateFilterCriteria(const v1::FilterCriteria& criteria) {
  return RecordFilter::Create(criteria).status();
}

}  // namespace

int EffectiveBatchSize(const v1::EventSourceMappingConfiguration& config) {
  return config.batch_size() > 0 ? std::min(config.batch_size(), kMaxBatchSize) : kDefaultBatchSize;
}

absl::Duration EffectiveBatchingWindow(const v1::EventSourceMappingConfiguration& config) {
  return absl::Seconds(
      std::clamp(config.maximum_batching_window_in_seconds(), 0, kMaxBatchingWindowSeconds));
}

int EffectiveParallelizationFactor(const v1::EventSourceMappingConfiguration& config) {
  return std::clamp(config.parallelization_factor(), 1, kMaxParallelizationFactor);
}

int EffectiveFunctionTimeoutSeconds(const v1::EventSourceMappingConfiguration& config) {
  return config.function_timeout_seconds() > 0
             ? std::min(config.function_timeout_seconds(), kMaxFunctionTimeoutSeconds)
             : kDefaultFunctionTimeoutSeconds;
}

int EffectiveTumblingWindowSeconds(const v1::EventSourceMappingConfiguration& config) {
  return std::clamp(config.tumbling_window_in_seconds(), 0, kMaxTumblingWindowSeconds);
}

int EffectiveMaxParkedKeys(const v1::EventSourceMappingConfiguration& config) {
  return config.max_parked_keys() > 0 ? std::min(config.max_parked_keys(), kMaxMaxParkedKeys)
                                      : kDefaultMaxParkedKeys;
}

absl::Status ValidateFunctionEndpoint(absl::string_view endpoint) {
  return ValidateFunctionEndpoint("function_endpoint", endpoint);
}

absl::StatusOr<v1::EventSourceMappingConfiguration> ConfigFromCreateRequest(
    const v1::CreateEventSourceMappingRequest& request) {
  RETURN_IF_ERROR(ValidateStreamName("stream_name", request.stream_name()));
  if (request.function_name().empty()) {
    if (request.function_endpoint().empty()) {
      return absl::InvalidArgumentError(
          "function_endpoint is required (or name a registered function with function_name)");
    }
    RETURN_IF_ERROR(ValidateFunctionEndpoint(request.function_endpoint()));
  } else {
    if (!request.function_endpoint().empty()) {
      return absl::InvalidArgumentError(
          "function_endpoint and function_name: give exactly one of them, not both");
    }
    if (request.has_function_timeout_seconds()) {
      return absl::InvalidArgumentError(kTimeoutWithFunctionName);
    }
  }
  switch (request.starting_position()) {
    case v1::TRIM_HORIZON_POSITION:
    case v1::LATEST_POSITION:
      if (request.has_starting_position_timestamp()) {
        return absl::InvalidArgumentError(
            "starting_position_timestamp may only be set with starting_position "
            "AT_TIMESTAMP_POSITION");
      }
      break;
    case v1::AT_TIMESTAMP_POSITION: {
      if (!request.has_starting_position_timestamp()) {
        return absl::InvalidArgumentError(
            "starting_position_timestamp is required with starting_position "
            "AT_TIMESTAMP_POSITION");
      }
      const auto& ts = request.starting_position_timestamp();
      if (ts.seconds() < 0 || ts.nanos() < 0 || ts.nanos() > 999'999'999) {
        return absl::InvalidArgumentError(
            "starting_position_timestamp must be a valid time at or after the Unix epoch");
      }
      break;
    }
    case v1::EVENT_SOURCE_POSITION_UNSPECIFIED:
      return absl::InvalidArgumentError(
          "starting_position is required: TRIM_HORIZON_POSITION, LATEST_POSITION or "
          "AT_TIMESTAMP_POSITION");
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("starting_position must be TRIM_HORIZON_POSITION, LATEST_POSITION or "
                       "AT_TIMESTAMP_POSITION, got ",
                       static_cast<int>(request.starting_position())));
  }
  RETURN_IF_ERROR(ValidateOptionalNumbers(request));
  RETURN_IF_ERROR(ValidateDestination(request.destination_config()));
  ASSIGN_OR_RETURN(std::vector<v1::FunctionResponseType> response_types,
                   ValidateResponseTypes(request.function_response_types()));
  RETURN_IF_ERROR(ValidateFilterCriteria(request.filter_criteria()));

  v1::EventSourceMappingConfiguration config;
  config.set_stream_name(request.stream_name());
  config.set_function_endpoint(request.function_endpoint());
  config.set_function_name(request.function_name());
  config.set_enabled(request.has_enabled() ? request.enabled() : true);
  config.set_batch_size(request.has_batch_size() ? request.batch_size() : kDefaultBatchSize);
  config.set_maximum_batching_window_in_seconds(request.maximum_batching_window_in_seconds());
  config.set_parallelization_factor(
      request.has_parallelization_factor() ? request.parallelization_factor() : 1);
  config.set_starting_position(request.starting_position());
  if (request.has_starting_position_timestamp()) {
    *config.mutable_starting_position_timestamp() = request.starting_position_timestamp();
  }
  if (HasDestination(request.destination_config())) {
    *config.mutable_destination_config() = request.destination_config();
  }
  config.set_maximum_record_age_in_seconds(
      request.has_maximum_record_age_in_seconds() ? request.maximum_record_age_in_seconds() : -1);
  config.set_bisect_batch_on_function_error(request.bisect_batch_on_function_error());
  config.set_maximum_retry_attempts(
      request.has_maximum_retry_attempts() ? request.maximum_retry_attempts() : -1);
  SetResponseTypes(response_types, &config);
  if (request.function_name().empty()) {
    config.set_function_timeout_seconds(request.has_function_timeout_seconds()
                                            ? request.function_timeout_seconds()
                                            : kDefaultFunctionTimeoutSeconds);
  }
  if (request.filter_criteria().filters_size() > 0) {
    *config.mutable_filter_criteria() = request.filter_criteria();
  }
  config.set_tumbling_window_in_seconds(request.tumbling_window_in_seconds());
  config.set_isolate_failing_keys(request.isolate_failing_keys());
  config.set_max_parked_keys(request.max_parked_keys());  // 0: the default (Effective...)
  return config;
}

absl::Status ApplyUpdateRequest(const v1::UpdateEventSourceMappingRequest& request,
                                v1::EventSourceMappingConfiguration* config) {
  if (request.has_function_endpoint()) {
    RETURN_IF_ERROR(ValidateFunctionEndpoint(request.function_endpoint()));
    if (request.has_function_name()) {
      return absl::InvalidArgumentError(
          "function_endpoint and function_name: give at most one of them");
    }
  }
  if (request.has_function_name() && request.function_name().empty()) {
    return absl::InvalidArgumentError("function_name, when given, must name a function");
  }
  if (request.has_function_timeout_seconds()) {
    if (request.has_function_name()) return absl::InvalidArgumentError(kTimeoutWithFunctionName);
    if (!config->function_name().empty() && !request.has_function_endpoint()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "function_timeout_seconds cannot be set on a mapping that follows function ",
          config->function_name(),
          ": it takes the function's timeout (change it with UpdateFunction, or give a "
          "function_endpoint instead)"));
    }
  }
  RETURN_IF_ERROR(ValidateOptionalNumbers(request));
  if (request.has_destination_config()) {
    RETURN_IF_ERROR(ValidateDestination(request.destination_config()));
  }
  std::vector<v1::FunctionResponseType> response_types;
  if (request.update_function_response_types()) {
    ASSIGN_OR_RETURN(response_types, ValidateResponseTypes(request.function_response_types()));
  } else if (request.function_response_types_size() > 0) {
    return absl::InvalidArgumentError(
        "function_response_types is only applied with update_function_response_types = true");
  }
  if (request.update_filter_criteria()) {
    RETURN_IF_ERROR(ValidateFilterCriteria(request.filter_criteria()));
  } else if (request.has_filter_criteria()) {
    return absl::InvalidArgumentError(
        "filter_criteria is only applied with update_filter_criteria = true");
  }

  // Everything is valid: apply.
  if (request.has_function_endpoint()) {
    config->set_function_endpoint(request.function_endpoint());
    config->clear_function_name();  // an address given: the mapping stops following a function
    config->clear_function_reserved_concurrent_executions();
  }
  if (request.has_batch_size()) config->set_batch_size(request.batch_size());
  if (request.has_maximum_batching_window_in_seconds()) {
    config->set_maximum_batching_window_in_seconds(request.maximum_batching_window_in_seconds());
  }
  if (request.has_parallelization_factor()) {
    config->set_parallelization_factor(request.parallelization_factor());
  }
  if (request.has_destination_config()) {
    // Each part present replaces that part; with neither present, both are removed.
    const v1::DestinationConfig& update = request.destination_config();
    v1::DestinationConfig merged = config->destination_config();
    const bool whole = !update.has_on_failure() && !update.has_on_success();
    if (whole || update.has_on_failure()) *merged.mutable_on_failure() = update.on_failure();
    if (whole || update.has_on_success()) *merged.mutable_on_success() = update.on_success();
    if (merged.on_failure().destination().empty()) merged.clear_on_failure();
    if (merged.on_success().destination().empty()) merged.clear_on_success();
    if (HasDestination(merged)) {
      *config->mutable_destination_config() = std::move(merged);
    } else {
      config->clear_destination_config();
    }
  }
  if (request.has_maximum_record_age_in_seconds()) {
    config->set_maximum_record_age_in_seconds(request.maximum_record_age_in_seconds());
  }
  if (request.has_bisect_batch_on_function_error()) {
    config->set_bisect_batch_on_function_error(request.bisect_batch_on_function_error());
  }
  if (request.has_maximum_retry_attempts()) {
    config->set_maximum_retry_attempts(request.maximum_retry_attempts());
  }
  if (request.update_function_response_types()) SetResponseTypes(response_types, config);
  if (request.has_function_timeout_seconds()) {
    config->set_function_timeout_seconds(request.function_timeout_seconds());
  }
  if (request.update_filter_criteria()) {
    if (request.filter_criteria().filters_size() == 0) {
      config->clear_filter_criteria();
    } else {
      *config->mutable_filter_criteria() = request.filter_criteria();
    }
  }
  if (request.has_tumbling_window_in_seconds()) {
    config->set_tumbling_window_in_seconds(request.tumbling_window_in_seconds());
  }
  if (request.has_isolate_failing_keys()) {
    config->set_isolate_failing_keys(request.isolate_failing_keys());
  }
  if (request.has_max_parked_keys()) config->set_max_parked_keys(request.max_parked_keys());
  return absl::OkStatus();
}

absl::Status ValidateListRequest(const v1::ListEventSourceMappingsRequest& request) {
  if (request.max_items() != 0) {
    RETURN_IF_ERROR(CheckRange("max_items", request.max_items(), 1, kMaxListMaxItems));
  }
  if (!request.stream_name().empty()) {
    RETURN_IF_ERROR(ValidateStreamName("stream_name", request.stream_name()));
  }
  if (!request.function_endpoint().empty()) {
    RETURN_IF_ERROR(ValidateFunctionEndpoint(request.function_endpoint()));
  }
  return absl::OkStatus();
}

}  // namespace tributary::mapping
