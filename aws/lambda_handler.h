// LambdaApi: AWS Lambda's REST API for event-source mappings, and its function and concurrency
// calls, on the AWS front door — a thin adapter over the stream tracker's gRPC services
// (tributary.v1.EventSourceMappings and tributary.v1.Functions, through StreamTrackerClient).
// Each operation reads its input with the checks of Lambda's model, builds the tributary.v1
// request, calls the tracker, maps a failed status (lambda_handler.cc has the one table) and
// writes Lambda's output shape (lambda_model.h). Validation, defaults, the state machine and
// the one-mapping-per-function-and-stream rule are the tracker's.
//
// Routes (method, path → operation, status on success), as Lambda's model has them:
//   POST   /2015-03-31/event-source-mappings/                  CreateEventSourceMapping   202
//   GET    /2015-03-31/event-source-mappings/                  ListEventSourceMappings    200
//            ?FunctionName=&EventSourceArn=&Marker=&MaxItems=
//   GET    /2015-03-31/event-source-mappings/{UUID}            GetEventSourceMapping      200
//   PUT    /2015-03-31/event-source-mappings/{UUID}            UpdateEventSourceMapping   202
//   DELETE /2015-03-31/event-source-mappings/{UUID}            DeleteEventSourceMapping   202
//   GET    /2015-03-31/functions/?Marker=&MaxItems=            ListFunctions              200
//   GET    /2015-03-31/functions/{FunctionName}?Qualifier=     GetFunction                200
//   PUT    /2017-10-31/functions/{FunctionName}/concurrency    PutFunctionConcurrency     200
//   DELETE /2017-10-31/functions/{FunctionName}/concurrency    DeleteFunctionConcurrency  204
//   GET    /2019-09-30/functions/{FunctionName}/concurrency    GetFunctionConcurrency     200
// Other paths under the three prefixes answer 404 UnknownOperationException (CreateFunction,
// UpdateFunctionConfiguration and DeleteFunction say to use tribctl: a function here is an
// endpoint, not code).
//
// Wire rules:
//   - EventSourceArn, OnFailure.Destination and OnSuccess.Destination are Kinesis stream ARNs
//     of this endpoint (OnSuccess is Tributary's extension: Lambda refuses it for stream
//     sources; shown in the mapping only when set),
//     arn:aws:kinesis:<region>:<account>:stream/<name>; FunctionName is a name or an ARN
//     (arn:aws:lambda:<region>:<account>:function:<name>), as the tracker takes it.
//   - Timestamps (LastModified, StartingPositionTimestamp) are epoch seconds; a function's
//     LastModified is Lambda's "2024-01-02T03:04:05.678+0000" string.
//   - FilterCriteria on update replaces the filters ({} removes them); FunctionResponseTypes on
//     update replaces the list; DestinationConfig on update replaces it (no Destination removes
//     it).
//
// Errors: status, x-amzn-ErrorType and a JSON body {"Type": "User" (4xx) or "Service" (5xx),
// "message" or "Message": text} (the member's case as the model's error shape has it; botocore
// reads either):
//   a body that is not a JSON object, a member of the wrong type
//                                        → 400 InvalidRequestContentException
//   the model's constraints (required, lengths, patterns, enums, ranges: BatchSize 1-10000,
//   MaximumBatchingWindowInSeconds 0-300, ParallelizationFactor 1-10,
//   MaximumRecordAgeInSeconds -1-604800, MaximumRetryAttempts -1-10000,
//   TumblingWindowInSeconds 0-900, MaxItems 1-10000, ReservedConcurrentExecutions >= 0)
//                                        → 400 ValidationException, AWS's wording
//   the tracker's INVALID_ARGUMENT (e.g. MaximumRecordAgeInSeconds 1-59, AT_TIMESTAMP without a
//   timestamp, a bad filter pattern), an ARN that is not a Kinesis stream of this endpoint, an
//   unknown stream or destination stream, a member this API does not support (Queues, Topics,
//   SourceAccessConfigurations, ...)  → 400 InvalidParameterValueException
//   no such mapping or function          → 404 ResourceNotFoundException
//   a second mapping of a function on a stream → 409 ResourceConflictException
//   a mapping being deleted (update)     → 400 ResourceInUseException
//   the tracker unreachable              → 503 ServiceException (clients retry)
//   anything else                        → 500 ServiceException (logged here)
//   without a tracker (a shard_store_server started without --stream_tracker)
//                                        → 501 UnknownOperationException naming the flag
//
// Thread-safe. `tracker`, when given, must outlive the API.
#ifndef TRIBUTARY_AWS_LAMBDA_HANDLER_H_
#define TRIBUTARY_AWS_LAMBDA_HANDLER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "aws/aws_error.h"
#include "aws/http_message.h"
#include "aws/lambda_model.h"
#include "aws/rest_api.h"
#include "stream_tracker/stream_tracker_client.h"

namespace tributary::aws {

// Lambda's error codes (x-amzn-ErrorType).
inline constexpr char kInvalidParameterValue[] = "InvalidParameterValueException";
inline constexpr char kInvalidRequestContent[] = "InvalidRequestContentException";
inline constexpr char kRequestTooLarge[] = "RequestTooLargeException";
inline constexpr char kResourceConflict[] = "ResourceConflictException";
inline constexpr char kServiceException[] = "ServiceException";
inline constexpr char kTooManyRequests[] = "TooManyRequestsException";

// The tracker's status as the Lambda error a client gets (the table is in lambda_handler.cc);
// a status made by ToStatus gives its error back. Precondition: !status.ok().
AwsError LambdaErrorOf(const absl::Status& status);

class LambdaApi : public RestApi {
 public:
  // `tracker`: the stream tracker's services; nullptr when this process has none to reach (then
  // every Lambda route answers 501 saying so).
  LambdaApi(stream_tracker::StreamTrackerClient* tracker, LambdaApiOptions options);

  // "/2015-03-31/", "/2017-10-31/", "/2019-09-30/".
  std::vector<std::string> path_prefixes() const override;
  absl::string_view signing_name() const override { return "lambda"; }
  std::optional<RestOperation> OperationOf(const HttpRequest& request) const override;
  HttpResponse Handle(const HttpRequest& request, absl::string_view principal) override;
  HttpResponse ErrorResponse(const AwsError& error) const override;
  // TooManyRequestsException, 429 (botocore retries it with backoff).
  AwsError Throttled(std::string message) const override;
  // RequestTooLargeException, 413.
  AwsError BodyTooLarge(std::string message) const override;

 private:
  stream_tracker::StreamTrackerClient* const tracker_;
  const LambdaApiOptions options_;
};

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_LAMBDA_HANDLER_H_
