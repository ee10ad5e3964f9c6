// Validation of event-source mapping requests, with AWS Lambda's defaults and ranges.
//
// Pure functions: no I/O, no clock, thread-safe. They check the shape of a request only; that the
// stream and the on-failure destination exist is checked by MappingManager (NOT_FOUND).
//
// Field                               range                        default (unset)
// batch_size                          1–10000                      100
// maximum_batching_window_in_seconds  0–300                        0
// parallelization_factor              1–10                         1
// starting_position                   TRIM_HORIZON | LATEST | AT_TIMESTAMP   required
// starting_position_timestamp         required with (and only with) AT_TIMESTAMP
// bisect_batch_on_function_error      bool                         false
// maximum_record_age_in_seconds       -1 or 60–604800              -1 (no limit)
// maximum_retry_attempts              -1 or 0–10000                -1 (no limit)
// destination_config.on_failure.destination   a stream name       none
// destination_config.on_success.destination   a stream name       none (not Lambda's for streams)
// function_response_types             REPORT_BATCH_ITEM_FAILURES   none
// enabled                             bool                         true
// function_endpoint                   "host:port", grpc:// or      exactly one of the two
//                                     http(s):// (function_endpoint.h)
// function_name                       a registered function        (see below)
// function_timeout_seconds            1–900                        30; not with function_name
// filter_criteria                     0–5 filters, each a pattern  none (no filtering)
//                                     of at most 4096 bytes in the syntax of
//                                     mapping/record_filter.h
// tumbling_window_in_seconds          0–900                        0 (no windows)
// isolate_failing_keys                bool (not Lambda's)          false
// max_parked_keys                     1–10000 (not Lambda's)       100
//
// function_name is only checked for presence here: resolving it (a name or an ARN, the function
// must exist) and copying the function's endpoint and timeout into the configuration is the
// stream tracker's (stream_tracker/function_registry.h), which needs its registry.
//
// Every error is INVALID_ARGUMENT whose message names the field and its rule, e.g.
// "batch_size must be between 1 and 10000, got 0"; a filter error names the filter, e.g.
// `filter_criteria.filters[1].pattern: numeric: expected a number at position 1 (at data.n)`.
#ifndef TRIBUTARY_MAPPING_MAPPING_CONFIG_H_
#define TRIBUTARY_MAPPING_MAPPING_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/event_source_mappings.pb.h"

namespace tributary::mapping {

inline constexpr int kMinBatchSize = 1;
inline constexpr int kMaxBatchSize = 10000;
inline constexpr int kDefaultBatchSize = 100;
inline constexpr int kMaxBatchingWindowSeconds = 300;
inline constexpr int kMaxParallelizationFactor = 10;
inline constexpr int kMinRecordAgeSeconds = 60;
inline constexpr int kMaxRecordAgeSeconds = 604800;
inline constexpr int kMaxRetryAttempts = 10000;
inline constexpr int kMaxFunctionTimeoutSeconds = 900;
inline constexpr int kDefaultFunctionTimeoutSeconds = 30;
inline constexpr int kMaxTumblingWindowSeconds = 900;  // Lambda's limit; 0 = no windows
inline constexpr int kDefaultMaxParkedKeys = 100;
inline constexpr int kMaxMaxParkedKeys = 10000;
inline constexpr int kDefaultListMaxItems = 100;
inline constexpr int kMaxListMaxItems = 10000;

// What a stored configuration means where a field is unset or out of range: the one place the
// defaults and bounds live for every reader (a poller may read a configuration that an older
// tracker wrote). Pure.
int EffectiveBatchSize(const v1::EventSourceMappingConfiguration& config);  // 100 when unset
absl::Duration EffectiveBatchingWindow(const v1::EventSourceMappingConfiguration& config);
int EffectiveParallelizationFactor(const v1::EventSourceMappingConfiguration& config);   // 1–10
int EffectiveFunctionTimeoutSeconds(const v1::EventSourceMappingConfiguration& config);  // 30
// 0 (no tumbling windows) to kMaxTumblingWindowSeconds.
int EffectiveTumblingWindowSeconds(const v1::EventSourceMappingConfiguration& config);
// 100 when unset (0), else clamped to 1–kMaxMaxParkedKeys.
int EffectiveMaxParkedKeys(const v1::EventSourceMappingConfiguration& config);

// Checks a function endpoint: "host:port" / "grpc://host:port" (gRPC) or
// "http(s)://host[:port][/path]" (Lambda's event over HTTP), as mapping/function_endpoint.h says.
// Errors: INVALID_ARGUMENT naming function_endpoint.
absl::Status ValidateFunctionEndpoint(absl::string_view endpoint);

// Validates `request` and returns the configuration it describes: every field copied, unset
// optional fields at Lambda's defaults, function_response_types deduplicated. Leaves the
// tracker's fields (uuid, state, state_transition_reason, last_modified, last_processing_result,
// config_version, event_source_arn: the tracker's account names the stream) unset. With
// function_name, the configuration holds the name as given and no function_endpoint or
// function_timeout_seconds: the caller resolves the name and fills them in. Errors:
// INVALID_ARGUMENT for the first bad field (see the table above).
absl::StatusOr<v1::EventSourceMappingConfiguration> ConfigFromCreateRequest(
    const v1::CreateEventSourceMappingRequest& request);

// Validates `request` and applies its set fields to `config`: optional fields when present
// (function_endpoint also clears config's function_name: the mapping stops following a
// function; function_name is left to the caller, who resolves it),
// destination_config when present (each of on_failure and on_success present in the request
// replaces that part, an empty destination removing it; the part absent is kept; with neither
// present both are removed), function_response_types
// when update_function_response_types is true, filter_criteria when update_filter_criteria is
// true (no filters removes filtering; filter_criteria set without update_filter_criteria is an
// error). Does not touch uuid, state or the other tracker
// fields, nor `enabled` (the caller drives the state change; see mapping_state.h). On error
// `config` is unchanged. Errors: INVALID_ARGUMENT for the first bad field (uuid is not checked
// here), among them function_endpoint with function_name, and function_timeout_seconds with
// function_name or on a `config` that follows a function (unless function_endpoint is given).
absl::Status ApplyUpdateRequest(const v1::UpdateEventSourceMappingRequest& request,
                                v1::EventSourceMappingConfiguration* config);

// Validates a List request: max_items 0 (default 100) or 1–10000; the filters, when set, are a
// valid stream name and endpoint (the function_name filter is the tracker's to resolve).
// Errors: INVALID_ARGUMENT.
absl::Status ValidateListRequest(const v1::ListEventSourceMappingsRequest& request);

}  // namespace tributary::mapping

#endif  // TRIBUTARY_MAPPING_MAPPING_CONFIG_H_
