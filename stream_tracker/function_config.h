// Validation of tributary.v1.Functions requests, with AWS Lambda's rules and defaults, and the
// function names and ARNs every caller that takes a function name shares.
//
// Pure functions: no I/O, no clock, thread-safe. They check the shape of a request only; that a
// function exists (or does not yet) is FunctionRegistry's business.
//
// Field                            rule                                          default (unset)
// function_name                    a name: 1–64 characters of a-z A-Z 0-9 - _    required
//                                  or its ARN, arn:aws:lambda:REGION:ACCOUNT:function:NAME
//                                  with the tracker's region and account
// endpoint                         "host:port" / "grpc://host:port" (gRPC) or    required
//                                  "http(s)://host[:port]/path" (Lambda's event;
//                                  mapping/function_endpoint.h)
// timeout_seconds                  1–900                                         3
// reserved_concurrent_executions   >= 0                                          none reserved
// max_items (ListFunctions)        1–10000                                       50
//
// Every error is INVALID_ARGUMENT whose message names the field and its rule, e.g.
// "timeout_seconds must be between 1 and 900, got 0".
#ifndef TRIBUTARY_STREAM_TRACKER_FUNCTION_CONFIG_H_
#define TRIBUTARY_STREAM_TRACKER_FUNCTION_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/host_allow_list.h"
#include "common/aws_arn.h"
#include "proto/functions.pb.h"

namespace tributary::stream_tracker {

inline constexpr int kMaxFunctionNameLength = 64;
inline constexpr int kMaxFunctionTimeout = 900;
inline constexpr int kDefaultFunctionTimeout = 3;  // Lambda's default (a mapping's own is 30)
inline constexpr int kDefaultListFunctionsMaxItems = 50;
inline constexpr int kMaxListFunctionsMaxItems = 10000;

// Where the tracker's ARNs live: an AWS region ("us-east-1") and a 12-digit account id, checked
// by ValidateAwsAccount; a function's ARN is common/aws_arn.h's LambdaFunctionArn, a mapping's
// event_source_arn its KinesisStreamArn.
using FunctionAccount = ::tributary::AwsAccount;

// The function name `name_or_arn` designates: itself when it is a valid name, the name inside
// it when it is this account's function ARN. Examples (region us-east-1, account 000000000000):
//   "orders-handler"                                           → "orders-handler"
//   "arn:aws:lambda:us-east-1:000000000000:function:orders"    → "orders"
//   "arn:aws:lambda:eu-west-1:000000000000:function:orders"    → INVALID_ARGUMENT (region)
//   "arn:aws:lambda:us-east-1:000000000000:function:orders:1"  → INVALID_ARGUMENT (versions and
//                                                                 aliases do not exist here)
// Errors: INVALID_ARGUMENT naming `field`: empty, a malformed name or ARN, another region,
// partition or account, a qualifier.
absl::StatusOr<std::string> ParseFunctionName(absl::string_view field,
                                              absl::string_view name_or_arn,
                                              const FunctionAccount& account);

// Checks a function endpoint with mapping/function_endpoint.h's grammar (that of a mapping's
// function_endpoint). Errors: INVALID_ARGUMENT naming `field`.
absl::Status ValidateEndpoint(absl::string_view field, absl::string_view endpoint);

// Checks that the host of `endpoint` is one `allow` allows (--function_endpoint_allow), so that
// whoever may create mappings or functions cannot make the pollers call any host. An endpoint
// that does not parse passes here (ValidateEndpoint refuses it). Errors: INVALID_ARGUMENT
// naming `field`, the endpoint, its host and the flag (never the list's entries).
absl::Status CheckEndpointAllowed(absl::string_view field, absl::string_view endpoint,
                                  const HostAllowList& allow);

// Validates `request` and returns the function it describes: the name (an ARN resolved to the
// name), the endpoint, timeout_seconds at 3 when unset, reserved_concurrent_executions when set.
// Leaves function_arn and last_modified unset. Errors: INVALID_ARGUMENT for the first bad field.
absl::StatusOr<v1::FunctionConfiguration> FunctionFromCreateRequest(
    const v1::CreateFunctionRequest& request, const FunctionAccount& account);

// Validates the optional fields of `request` (endpoint, timeout_seconds) and applies those set
// to `config`; function_name is not looked at (the caller resolved it). On error `config` is
// unchanged. Errors: INVALID_ARGUMENT for the first bad field.
absl::Status ApplyFunctionUpdate(const v1::UpdateFunctionRequest& request,
                                 v1::FunctionConfiguration* config);

// Checks reserved_concurrent_executions of a PutFunctionConcurrency: required, >= 0. Errors:
// INVALID_ARGUMENT.
absl::Status ValidatePutConcurrency(const v1::PutFunctionConcurrencyRequest& request);

// Checks a ListFunctions request: max_items 0 (default 50) or 1–10000; the marker, when set, a
// function name. Errors: INVALID_ARGUMENT.
absl::Status ValidateListFunctionsRequest(const v1::ListFunctionsRequest& request);

}  // namespace tributary::stream_tracker

#endif  // TRIBUTARY_STREAM_TRACKER_FUNCTION_CONFIG_H_
