#include "aws/aws_error.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"

namespace tributary::aws {
namespace {

constexpr char kPayloadKey[] = "type.tributary.dev/aws-error";

}  // namespace

Value AwsError::Body() const {
  Value body = Value::Map();
  body.Add("__type", Value::String(type));
  body.Add("message", Value::String(message));
  if (details.type() == Value::Type::kMap) {
    for (const Value::Member& m : details.members()) body.Add(m.first, m.second);
  }
  return body;
}

absl::Status ToStatus(const AwsError& error) {
  absl::Status status(absl::StatusCode::kInvalidArgument, error.message);
  status.SetPayload(kPayloadKey, absl::Cord(absl::StrCat(error.http_status, " ", error.type)));
  return status;
}

AwsError FromStatus(const absl::Status& status, const StatusMapping& mapping) {
  CHECK(!status.ok());
  if (auto payload = status.GetPayload(kPayloadKey); payload.has_value()) {
    std::pair<std::string, std::string> parts =
        absl::StrSplit(std::string(*payload), absl::MaxSplits(' ', 1));
    int http_status = 400;
    if (absl::SimpleAtoi(parts.first, &http_status) && !parts.second.empty()) {
      return AwsError{parts.second, std::string(status.message()), http_status};
    }
  }
  std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return MakeError(mapping.invalid_argument, std::move(message));
    case absl::StatusCode::kNotFound:
      return MakeError(mapping.not_found, std::move(message));
    case absl::StatusCode::kAlreadyExists:
      return MakeError(mapping.already_exists, std::move(message));
    case absl::StatusCode::kFailedPrecondition:
      return MakeError(mapping.failed_precondition, std::move(message));
    case absl::StatusCode::kAborted:
      return MakeError(mapping.aborted, std::move(message));
    case absl::StatusCode::kResourceExhausted:
      return MakeError(mapping.resource_exhausted, std::move(message));
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return MakeError(kServiceUnavailable, std::move(message), 503);
    default:
      return MakeError(kInternalFailure, std::move(message), 500);
  }
}

}  // namespace tributary::aws
