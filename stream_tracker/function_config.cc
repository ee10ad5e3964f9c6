#include "stream_tracker/function_config.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "mapping/function_endpoint.h"
#include "common/status_macros.h"

namespace tributary::stream_tracker {
namespace {

constexpr absl::string_view kArnPrefix = "arn:";

absl::Status CheckRange(absl::string_view field, int64_t value, int64_t min, int64_t max) {
  if (value >= min && value <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be between ", min, " and ", max, ", got ", value));
}

bool IsValidName(absl::string_view name) {
  if (name.empty() || name.size() > static_cast<size_t>(kMaxFunctionNameLength)) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

absl::Status CheckName(absl::string_view field, absl::string_view name) {
  if (IsValidName(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, " must be 1 to ", kMaxFunctionNameLength,
      " characters of a-z, A-Z, 0-9, '-' and '_' (or the function's ARN), got \"", name, "\""));
}

absl::Status CheckConcurrency(absl::string_view field, int64_t value) {
  if (value >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, " must be 0 or more, got ", value));
}

}  // namespace

absl::StatusOr<std::string> ParseFunctionName(absl::string_view field,
                                              absl::string_view name_or_arn,
                                              const FunctionAccount& account) {
  if (name_or_arn.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  if (!absl::StartsWith(name_or_arn, kArnPrefix)) {
    RETURN_IF_ERROR(CheckName(field, name_or_arn));
    return std::string(name_or_arn);
  }
  // arn : aws : lambda : REGION : ACCOUNT : function : NAME [: QUALIFIER]
  const std::vector<absl::string_view> parts = absl::StrSplit(name_or_arn, ':');
  if (parts.size() < 7 || parts[1] != "aws" || parts[2] != "lambda" || parts[5] != "function") {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must be a function name or arn:aws:lambda:REGION:ACCOUNT:function:NAME, got \"",
        name_or_arn, "\""));
  }
  if (parts.size() > 7) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " \"", name_or_arn,
                     "\": versions and aliases are not supported; name the function without a "
                     "qualifier"));
  }
  if (parts[3] != account.region) {
    return absl::InvalidArgumentError(absl::StrCat(field, " \"", name_or_arn, "\": region ",
                                                   parts[3], " is not this tracker's region ",
                                                   account.region));
  }
  if (parts[4] != account.account_id) {
    return absl::InvalidArgumentError(absl::StrCat(field, " \"", name_or_arn, "\": account ",
                                                   parts[4], " is not this tracker's account ",
                                                   account.account_id));
  }
  RETURN_IF_ERROR(CheckName(field, parts[6]));
  return std::string(parts[6]);
}

absl::Status ValidateEndpoint(absl::string_view field, absl::string_view endpoint) {
  // The one grammar of function endpoints, shared with mappings' function_endpoint.
  return mapping::ValidateFunctionEndpoint(field, endpoint);
}

absl::Status CheckEndpointAllowed(absl::string_view field, absl::string_view endpoint,
                                  const HostAllowList& allow) {
  absl::StatusOr<mapping::FunctionEndpoint> parsed = mapping::ParseFunctionEndpoint(endpoint);
  if (!parsed.ok() || allow.Allows(parsed->host)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, " \"", endpoint, "\": host ", parsed->host,
      " is not allowed by the tracker's --function_endpoint_allow (function endpoints are "
      "limited to the hosts the operator lists)"));
}

absl::StatusOr<v1::FunctionConfiguration> FunctionFromCreateRequest(
    const v1::CreateFunctionRequest& request, const FunctionAccount& account) {
  ASSIGN_OR_RETURN(std::string name,
                   ParseFunctionName("function_name", request.function_name(), account));
  RETURN_IF_ERROR(ValidateEndpoint("endpoint", request.endpoint()));
  if (request.has_timeout_seconds()) {
    RETURN_IF_ERROR(
        CheckRange("timeout_seconds", request.timeout_seconds(), 1, kMaxFunctionTimeout));
  }
  if (request.has_reserved_concurrent_executions()) {
    RETURN_IF_ERROR(CheckConcurrency("reserved_concurrent_executions",
                                     request.reserved_concurrent_executions()));
  }
  v1::FunctionConfiguration config;
  config.set_function_name(name);
  config.set_endpoint(request.endpoint());
  config.set_timeout_seconds(request.has_timeout_seconds() ? request.timeout_seconds()
                                                           : kDefaultFunctionTimeout);
  if (request.has_reserved_concurrent_executions()) {
    config.set_reserved_concurrent_executions(request.reserved_concurrent_executions());
  }
  return config;
}

absl::Status ApplyFunctionUpdate(const v1::UpdateFunctionRequest& request,
                                 v1::FunctionConfiguration* config) {
  if (request.has_endpoint()) RETURN_IF_ERROR(ValidateEndpoint("endpoint", request.endpoint()));
  if (request.has_timeout_seconds()) {
    RETURN_IF_ERROR(
        CheckRange("timeout_seconds", request.timeout_seconds(), 1, kMaxFunctionTimeout));
  }
  if (request.has_endpoint()) config->set_endpoint(request.endpoint());
  if (request.has_timeout_seconds()) config->set_timeout_seconds(request.timeout_seconds());
  return absl::OkStatus();
}

absl::Status ValidatePutConcurrency(const v1::PutFunctionConcurrencyRequest& request) {
  if (!request.has_reserved_concurrent_executions()) {
    return absl::InvalidArgumentError("reserved_concurrent_executions is required");
  }
  return CheckConcurrency("reserved_concurrent_executions",
                          request.reserved_concurrent_executions());
}

absl::Status ValidateListFunctionsRequest(const v1::ListFunctionsRequest& request) {
  if (request.max_items() != 0) {
    RETURN_IF_ERROR(CheckRange("max_items", request.max_items(), 1, kMaxListFunctionsMaxItems));
  }
  if (!request.marker().empty() && !IsValidName(request.marker())) {
    return absl::InvalidArgumentError(
        absl::StrCat("marker \"", request.marker(), "\" is not a marker ListFunctions returned"));
  }
  return absl::OkStatus();
}

}  // namespace tributary::stream_tracker
