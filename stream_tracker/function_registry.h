// FunctionRegistry: the Functions API as a library (CreateFunction, UpdateFunction, GetFunction,
// ListFunctions, DeleteFunction and the concurrency calls) over a FunctionStore, with Lambda's
// validation (function_config.h), and the link between a function and the mappings that name it.
//
// A mapping that names a function (its configuration's function_name) carries a copy of the
// function's endpoint, timeout and reserved concurrency in function_endpoint,
// function_timeout_seconds and function_reserved_concurrent_executions: that
// configuration is what pollers read (GetEventSourceMapping), and they apply a configuration
// whose config_version changed from their next batch. So the copy is made at write time:
//   - MappingManager links a mapping to a function through WithFunction, which hands it the
//     function while holding this registry's lock.
//   - UpdateFunction, PutFunctionConcurrency and DeleteFunctionConcurrency write the function,
//     then every mapping that names it and whose copy differs: the function's endpoint, timeout
//     and reserved concurrency, config_version + 1 (its state, state_transition_reason and
//     last_modified stay: the user did not change the mapping). The mapping's pollers apply it
//     at their next configuration refresh (after each heartbeat), from their next batch (a new
//     limit from the next invocation attempt).
//   - The function is written first: a crash between the writes leaves mappings with the old
//     copy, and RepairMappings(), which the tracker runs when it starts (before serving), brings
//     every mapping back in line with its function. A failed mapping write fails the call; each
//     of the three is idempotent and a retry finishes the work.
//   - Every change here and every WithFunction are serialized by one mutex, so that a mapping
//     being linked never misses an UpdateFunction that started after it read the function, and
//     DeleteFunction never removes a function a mapping is being linked to.
//
// Example: mapping M names function f (endpoint a:1, config_version 4). UpdateFunction(f,
// endpoint b:1) writes f, then M with function_endpoint b:1 and config_version 5; a poller
// holding M's leases reads version 5 after its next heartbeat and sends its next batch to b:1.
//
// Names: every call that takes a function name takes the name or its ARN
// (function_config.h), with the registry's region and account; responses carry the ARN.
//
// Thread-safe. `functions`, `mappings` and `clock` must outlive this object. Costs: a change of
// a function and a delete scan every mapping (mappings are few; there is no index by function).
#ifndef TRIBUTARY_STREAM_TRACKER_FUNCTION_REGISTRY_H_
#define TRIBUTARY_STREAM_TRACKER_FUNCTION_REGISTRY_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "proto/event_source_mappings.pb.h"
#include "proto/functions.pb.h"
#include "stream_tracker/function_config.h"
#include "stream_tracker/function_store.h"
#include "stream_tracker/mapping_store.h"

namespace tributary::stream_tracker {

class FunctionRegistry {
 public:
  // Errors: INVALID_ARGUMENT when `account` is malformed (ValidateAwsAccount).
  static absl::StatusOr<std::unique_ptr<FunctionRegistry>> Create(FunctionStore* functions,
                                                                  MappingStore* mappings,
                                                                  Clock& clock,
                                                                  const FunctionAccount& account);

  // Registers a function (function_config.h: name, endpoint, timeout default 3, optional
  // reserved concurrency), last_modified = now. Returns it with its ARN. Errors:
  // INVALID_ARGUMENT naming the field; ALREADY_EXISTS when the name is taken; storage errors.
  // Not idempotent (a second call is ALREADY_EXISTS).
  absl::StatusOr<v1::FunctionConfiguration> CreateFunction(
      const v1::CreateFunctionRequest& request);

  // Applies the set fields (endpoint, timeout_seconds), last_modified = now, then brings every
  // mapping that names the function in line (see above). Returns the function. Errors:
  // INVALID_ARGUMENT naming the field; NOT_FOUND; storage errors (the function may be written
  // and some mappings not: retry). Idempotent.
  absl::StatusOr<v1::FunctionConfiguration> UpdateFunction(
      const v1::UpdateFunctionRequest& request);

  // The function `name_or_arn`, with its reserved concurrency when set. Errors: INVALID_ARGUMENT
  // (a malformed name or ARN); NOT_FOUND; storage errors.
  absl::StatusOr<v1::FunctionConfiguration> GetFunction(absl::string_view name_or_arn);

  // Functions in name order, at most max_items (default 50) per page, starting after `marker`
  // (the next_marker of the previous page); next_marker is empty on the last page. Errors:
  // INVALID_ARGUMENT (max_items out of 1–10000, a malformed marker); storage errors.
  absl::StatusOr<v1::ListFunctionsResponse> ListFunctions(const v1::ListFunctionsRequest& request);

  // Removes the function. Errors: INVALID_ARGUMENT; NOT_FOUND; FAILED_PRECONDITION when mappings
  // name it — also one being deleted, whose pollers may still invoke it — the message lists
  // their UUIDs (at most 10, then how many more); storage errors. Not idempotent (NOT_FOUND the
  // second time, as Lambda).
  absl::Status DeleteFunction(absl::string_view name_or_arn);

  // Sets the function's reserved_concurrent_executions; last_modified stays. Brings the mappings
  // that name the function in line, as UpdateFunction does (pollers enforce the limit through
  // leasing's invocation slots). Returns the setting. Errors: INVALID_ARGUMENT (unset or
  // negative); NOT_FOUND; storage errors. Idempotent.
  absl::StatusOr<v1::FunctionConcurrency> PutFunctionConcurrency(
      const v1::PutFunctionConcurrencyRequest& request);

  // Removes the setting (and from the mappings that name the function, as UpdateFunction does);
  // OK when there is none. Errors: INVALID_ARGUMENT; NOT_FOUND; storage errors. Idempotent.
  absl::Status DeleteFunctionConcurrency(absl::string_view name_or_arn);

  // The setting (reserved_concurrent_executions unset when none). Errors: INVALID_ARGUMENT;
  // NOT_FOUND; storage errors.
  absl::StatusOr<v1::FunctionConcurrency> GetFunctionConcurrency(absl::string_view name_or_arn);

  // The function name `name_or_arn` designates (ParseFunctionName with this registry's account).
  // Errors: INVALID_ARGUMENT naming `field`.
  absl::StatusOr<std::string> ParseName(absl::string_view field,
                                        absl::string_view name_or_arn) const;

  // Runs `link` with function `name` (a parsed name) while holding the registry's lock, so that
  // the function neither changes nor goes away until `link` returns; `link` is where a caller
  // writes a mapping that names the function (copying it with CopyToMapping). `link` must not
  // call back into this registry. Returns `link`'s status. Errors: NOT_FOUND
  // ("function_name: function <name> not found"); storage errors.
  absl::Status WithFunction(
      const std::string& name,
      const std::function<absl::Status(const v1::FunctionConfiguration&)>& link);

  // Makes `mapping` follow `function`: function_name, function_endpoint,
  // function_timeout_seconds and function_reserved_concurrent_executions from it. Pure.
  static void CopyToMapping(const v1::FunctionConfiguration& function,
                            v1::EventSourceMappingConfiguration* mapping);

  // Brings every mapping that names a function in line with it: the copy of its endpoint,
  // timeout and reserved concurrency, config_version + 1 where it differed (as UpdateFunction
  // and the concurrency calls do for one function), e.g. after a crash between such a call's
  // function write and its mapping writes. A mapping naming a function that does not exist is
  // left alone (none can be made: DeleteFunction refuses while mappings name the function).
  // Errors: storage errors (the first; the other mappings are still repaired).
  absl::Status RepairMappings();

  const FunctionAccount& account() const { return account_; }

 private:
  FunctionRegistry(FunctionStore* functions, MappingStore* mappings, Clock& clock,
                   const FunctionAccount& account)
      : functions_(functions), mappings_(mappings), clock_(clock), account_(account) {}

  // The stored function with its ARN.
  v1::FunctionConfiguration Served(const FunctionRecord& record) const;
  // The function `name`. Errors: NOT_FOUND; storage errors.
  absl::StatusOr<FunctionRecord> Find(const std::string& name) const;
  // Every mapping that names function `name`.
  absl::StatusOr<std::vector<MappingRecord>> MappingsNaming(const std::string& name) const;
  // Writes `function`'s endpoint and timeout into mapping `uuid` if it still names the function
  // and its copy differs.
  absl::Status SyncMapping(const std::string& uuid, const v1::FunctionConfiguration& function)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // SyncMapping for every mapping naming `name` whose copy differs.
  absl::Status SyncMappingsNaming(const std::string& name,
                                  const v1::FunctionConfiguration& function)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  FunctionStore* const functions_;
  MappingStore* const mappings_;
  Clock& clock_;
  const FunctionAccount account_;
  // Serializes changes of functions with the writes that link mappings to them. Held across
  // RocksDB writes (a function and the mappings that name it), never across an RPC: these are
  // rare operator calls, and the lease sync's own mapping writes do not take it.
  absl::Mutex mu_;
};

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_FUNCTION_REGISTRY_H_
