// AWS errors as the front door replies them, and the one place where the absl::Status codes of
// our libraries become AWS error codes.
//
// On the wire (AWS JSON and CBOR protocols, as botocore and the Java SDK parse them): an HTTP
// status (400 for the client's errors, 500 InternalFailure, 503 ServiceUnavailable) and a body
// {"__type": "<code>", "message": "<text>"} in the request's encoding, plus the header
// x-amzn-ErrorType: <code>. The code is what clients branch on, so each operation must use the
// code AWS documents for that case; StatusMapping says, per operation, which code each library
// status code stands for (kinesis_handler.cc has the Kinesis table).
#ifndef TRIBUTARY_AWS_AWS_ERROR_H_
#define TRIBUTARY_AWS_AWS_ERROR_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "aws/value.h"

namespace tributary::aws {

// AWS error codes (the "__type" of a reply).
inline constexpr char kAccessDenied[] = "AccessDeniedException";
inline constexpr char kExpiredIterator[] = "ExpiredIteratorException";
inline constexpr char kExpiredNextToken[] = "ExpiredNextTokenException";
inline constexpr char kIncompleteSignature[] = "IncompleteSignatureException";
inline constexpr char kInternalFailure[] = "InternalFailure";
inline constexpr char kInvalidArgument[] = "InvalidArgumentException";
inline constexpr char kInvalidSignature[] = "InvalidSignatureException";
inline constexpr char kLimitExceeded[] = "LimitExceededException";
inline constexpr char kMissingAuthenticationToken[] = "MissingAuthenticationTokenException";
inline constexpr char kProvisionedThroughputExceeded[] = "ProvisionedThroughputExceededException";
inline constexpr char kResourceInUse[] = "ResourceInUseException";
inline constexpr char kResourceNotFound[] = "ResourceNotFoundException";
inline constexpr char kSerialization[] = "SerializationException";
inline constexpr char kServiceUnavailable[] = "ServiceUnavailable";
inline constexpr char kUnrecognizedClient[] = "UnrecognizedClientException";
inline constexpr char kUnknownOperation[] = "UnknownOperationException";
inline constexpr char kValidation[] = "ValidationException";

struct AwsError {
  std::string type;  // one of the codes above
  std::string message;
  int http_status = 400;
  // Further members of the body, after __type and message: a map (DynamoDB's
  // TransactionCanceledException carries CancellationReasons), or null for none.
  Value details = Value();

  // The reply body: {"__type": type, "message": message, ...details}.
  Value Body() const;
};

inline AwsError MakeError(const char* type, std::string message, int http_status = 400) {
  return AwsError{type, std::move(message), http_status};
}

// Which AWS code one operation reports for each status code its library returns. The defaults
// fit most Kinesis control-plane operations; an operation overrides what AWS documents
// differently (GetRecords: FAILED_PRECONDITION is an expired iterator).
struct StatusMapping {
  const char* invalid_argument = kInvalidArgument;  // the request is wrong whatever the state
  const char* not_found = kResourceNotFound;
  const char* already_exists = kResourceInUse;
  const char* failed_precondition = kResourceInUse;  // e.g. the stream is UPDATING
  const char* aborted = kResourceInUse;              // a retryable conflict
  const char* resource_exhausted = kLimitExceeded;   // throttled or over a limit
};

// A status that carries `error` itself (code INVALID_ARGUMENT, the AWS code and HTTP status in a
// payload): how an adapter returns an error it decided on (a ValidationException, a
// LimitExceededException) through code that speaks absl::Status. FromStatus returns `error`.
absl::Status ToStatus(const AwsError& error);

// Maps a non-OK `status` to the error the client gets: a status made by ToStatus gives its
// error back; other statuses map by code — the codes above through `mapping`
// (HTTP 400); UNAVAILABLE and DEADLINE_EXCEEDED to 503 ServiceUnavailable (transient: clients
// retry); anything else (INTERNAL, DATA_LOSS, UNKNOWN, and codes our libraries never return) to
// 500 InternalFailure — our bug or a broken disk, never the client's doing. The message is the
// status message. Precondition: !status.ok().
AwsError FromStatus(const absl::Status& status, const StatusMapping& mapping);

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_AWS_ERROR_H_
