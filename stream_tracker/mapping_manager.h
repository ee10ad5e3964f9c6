// MappingManager: the event-source mappings API as a library (Create, Update, Delete, Get, List)
// over a MappingStore, with Lambda's validation (mapping_config.h) and state machine
// (mapping_state.h).
//
// A call records the user's change at once: the new configuration, a transitional state
// (CREATING, UPDATING, ENABLING, DISABLING, DELETING), last_modified from the clock and a bumped
// config_version. The LeaseSync does the work against the lease table and moves the mapping to
// its stable state (or removes it, after DELETING). `on_change` is called after every accepted
// change so that the owner can nudge the sync (LeaseSync::RequestSync).
//
// A mapping may name its function by function_name (a name or an ARN) instead of
// function_endpoint: the name is resolved in `functions` (FunctionRegistry), and the mapping is
// stored with the function's name, endpoint and timeout, which the registry keeps up to date
// when the function changes. Without a registry (null), function_name is FAILED_PRECONDITION.
//
// Every mapping returned carries event_source_arn = KinesisStreamArn (common/aws_arn.h) of its
// stream with the registry's region and account (the default account without a registry), as
// Lambda's API and the AWS front door name it, and, when it follows a function, function_arn =
// LambdaFunctionArn of the function: made when served, not stored, so a tracker restarted with
// another --aws_account_id serves its own.
//
// Thread-safe. `store`, `streams`, `clock` and `functions` must outlive this object.
#ifndef TRIBUTARY_STREAM_TRACKER_MAPPING_MANAGER_H_
#define TRIBUTARY_STREAM_TRACKER_MAPPING_MANAGER_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "proto/event_source_mappings.pb.h"
#include "stream_tracker/function_registry.h"
#include "stream_tracker/mapping_store.h"
#include "stream_tracker/stream_catalog.h"

namespace tributary::stream_tracker {

class MappingManager {
 public:
  MappingManager(MappingStore* store, StreamCatalog* streams, Clock& clock,
                 std::function<void()> on_change = nullptr, FunctionRegistry* functions = nullptr);

  // Creates a mapping: validates `request` and applies Lambda's defaults (mapping_config.h),
  // checks that the stream and the on-failure destination stream exist, and stores the mapping
  // with a new uuid in state CREATING, state_transition_reason "User action",
  // last_processing_result "No records processed" and config_version 1. Returns it. With
  // function_name, the mapping takes the function's endpoint and timeout; a function has at
  // most one mapping per stream (Lambda's rule; mappings being deleted do not count, nor do
  // mappings given a function_endpoint). Errors:
  // INVALID_ARGUMENT naming the field and its range (also a malformed function name or ARN,
  // both or neither of function_endpoint and function_name); NOT_FOUND when the stream, the
  // destination stream or the function does not exist (the message starts with the field:
  // "stream_name: ...", "destination_config.on_failure.destination: ...",
  // "destination_config.on_success.destination: ...", "function_name: ...");
  // ALREADY_EXISTS when the function already has a mapping on the stream (the message names
  // its uuid); UNAVAILABLE / DEADLINE_EXCEEDED when
  // the shard store cannot be reached; FAILED_PRECONDITION for function_name without a
  // registry; storage errors. Not idempotent: each call creates a mapping.
  absl::StatusOr<v1::EventSourceMappingConfiguration> Create(
      const v1::CreateEventSourceMappingRequest& request);

  // Applies the set fields of `request` to mapping `request.uuid()` and moves it to the state
  // StateAfterUpdate gives (UPDATING, ENABLING, DISABLING, or CREATING kept); bumps
  // config_version. A new destination stream must exist. function_name points the mapping at
  // that function (its endpoint and timeout); function_endpoint points it at an address (it
  // stops following a function). Returns the updated mapping. Errors: INVALID_ARGUMENT
  // (missing uuid, a value out of range, function_endpoint with function_name,
  // function_timeout_seconds on a mapping that follows a function); NOT_FOUND (no such mapping,
  // or the destination stream or the function does not exist; for these two the message starts
  // with the field, as in Create); ALREADY_EXISTS when function_name names a function that
  // already has another mapping on the mapping's stream; FAILED_PRECONDITION when the
  // mapping is being deleted, or for function_name without a registry; storage errors.
  absl::StatusOr<v1::EventSourceMappingConfiguration> Update(
      const v1::UpdateEventSourceMappingRequest& request);

  // Marks mapping `uuid` DELETING (the sync deletes its leases, then the mapping) and returns
  // it. Idempotent while the mapping still exists: a second call returns it unchanged. Errors:
  // INVALID_ARGUMENT for an empty uuid; NOT_FOUND; storage errors.
  absl::StatusOr<v1::EventSourceMappingConfiguration> Delete(const std::string& uuid);

  // Mapping `uuid`. Errors: INVALID_ARGUMENT for an empty uuid; NOT_FOUND; storage errors.
  absl::StatusOr<v1::EventSourceMappingConfiguration> Get(const std::string& uuid);

  // Mappings in uuid order, filtered by stream_name, function_endpoint and function_name (a
  // name or an ARN) when set, at most max_items (default 100) per page, starting after `marker`
  // (the next_marker of the previous page; empty = from the start). next_marker is empty on the
  // last page. Errors: INVALID_ARGUMENT (max_items out of 1–10000, a malformed filter);
  // FAILED_PRECONDITION for a function_name filter without a registry; storage errors.
  absl::StatusOr<v1::ListEventSourceMappingsResponse> List(
      const v1::ListEventSourceMappingsRequest& request);

 private:
  void Changed();
  // `config` with event_source_arn filled in (see the class comment).
  v1::EventSourceMappingConfiguration Served(v1::EventSourceMappingConfiguration config) const;
  // ALREADY_EXISTS when a mapping other than `except_uuid`, not being deleted, names function
  // `function_name` on stream `stream_name`; storage errors. Reads every mapping. Called under
  // the registry's lock (FunctionRegistry::WithFunction).
  absl::Status CheckOneMappingPerFunctionAndStream(const std::string& function_name,
                                                   const std::string& stream_name,
                                                   const std::string& except_uuid) const;
  // The function name `name_or_arn` designates. Errors: INVALID_ARGUMENT; FAILED_PRECONDITION
  // without a registry.
  absl::StatusOr<std::string> ParseFunctionName(absl::string_view field,
                                                absl::string_view name_or_arn) const;

  MappingStore* store_;
  StreamCatalog* streams_;
  Clock& clock_;
  std::function<void()> on_change_;
  FunctionRegistry* functions_;
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_MAPPING_MANAGER_H_
