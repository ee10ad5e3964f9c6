// Pieces of AWS Lambda's API model (botocore's lambda/2015-03-31) that the Lambda adapter
// (lambda_handler.h) reads and writes: the model's patterns as predicates, the ARNs of streams
// and functions, and the output shapes built from the stream tracker's messages.
//
// Pure functions; thread-safe.
#ifndef TRIBUTARY_AWS_LAMBDA_MODEL_H_
#define TRIBUTARY_AWS_LAMBDA_MODEL_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aws/value.h"
#include "mapping/starting_position.h"
#include "proto/event_source_mappings.pb.h"
#include "proto/functions.pb.h"

namespace tributary::aws {

// DynamoDB table streams as event sources (issue 18): the store stream that holds a table
// stream, by its DynamoDB stream ARN, and back. Implemented by the DynamoDB Streams API
// (dynamodb_streams_handler.h). Thread-safe.
class TableStreamArns {
 public:
  virtual ~TableStreamArns() = default;
  // nullopt when `arn` is not a DynamoDB stream ARN of this endpoint's region and account (the
  // Kinesis rules then apply); else the store stream, or NOT_FOUND ("... not found") when there
  // is no such stream (never made, or expired).
  virtual std::optional<absl::StatusOr<std::string>> StreamOfArn(absl::string_view arn) = 0;
  // The DynamoDB stream ARN of a store stream holding a table stream; nullopt for any other.
  virtual std::optional<std::string> ArnOfStream(absl::string_view stream_name) = 0;
};

struct LambdaApiOptions {
  // The region and account of the ARNs this API writes and accepts (--aws_region,
  // --aws_account_id). The stream tracker must be configured with the same ones (`tributary
  // serve` passes it these).
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // When set (a process with tables), EventSourceArn may be a DynamoDB stream ARN; must outlive
  // the API.
  TableStreamArns* table_streams = nullptr;
};

// The model's Arn pattern (EventSourceArn; OnFailure.Destination allows "" too):
//   arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)
inline constexpr absl::string_view kArnPattern =
    "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)";
bool MatchesArn(absl::string_view s);

// The model's FunctionName pattern (1-140 characters), and NamespacedFunctionName's (GetFunction;
// 1-170, '.' allowed in the name):
//   (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?
//   ([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?
// So "f", "123456789012:function:f", "arn:aws:lambda:us-east-1:123456789012:function:f:1" match;
// which of them name a function here is the stream tracker's to say.
inline constexpr absl::string_view kFunctionNamePattern =
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?"
    "([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";
inline constexpr absl::string_view kNamespacedFunctionNamePattern =
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?"
    "([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";
bool MatchesFunctionName(absl::string_view s, bool namespaced = false);

// "arn:aws:kinesis:<region>:<account>:stream/<name>" (common/aws_arn.h's, as the tracker and the
// pollers make it).
std::string KinesisStreamArn(const LambdaApiOptions& options, absl::string_view stream_name);
// "arn:aws:lambda:<region>:<account>:function:<name>" (common/aws_arn.h's).
std::string LambdaFunctionArn(const LambdaApiOptions& options, absl::string_view function_name);

// The stream `arn` names: "arn:aws:kinesis:<region>:<account>:stream/<name>" with this API's
// region and account. Errors: INVALID_ARGUMENT when it is not a Kinesis stream's ARN (another
// service, a consumer's ARN, no name); NOT_FOUND when it is one of another partition, region or
// account (no stream of this endpoint). Both messages name `field`.
absl::StatusOr<std::string> StreamOfArn(const LambdaApiOptions& options, absl::string_view field,
                                        absl::string_view arn);

// StartingPosition's value of `position` ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"), or "" for
// UNSPECIFIED; and back (UNSPECIFIED for anything else). Defined in mapping/starting_position.h
// (tribctl spells them the same); named here for the Lambda API's handler.
using mapping::StartingPositionName;
using mapping::StartingPositionOf;
// State's value ("Creating", "Enabling", "Enabled", "Disabling", "Disabled", "Updating",
// "Deleting").
absl::string_view StateName(v1::EventSourceMappingState state);

// EventSourceMappingConfiguration as Lambda writes it (UUID, EventSourceArn, FunctionArn, State,
// LastModified as epoch seconds, ...). FunctionArn is omitted for a mapping created over gRPC
// with a function_endpoint (it names no function).
Value EventSourceMappingShape(const v1::EventSourceMappingConfiguration& mapping,
                              const LambdaApiOptions& options);
// FunctionConfiguration as Lambda writes it: FunctionName, FunctionArn, Timeout, LastModified
// ("2024-01-02T03:04:05.678+0000"), Version "$LATEST", State "Active", LastUpdateStatus
// "Successful", CodeSize 0. The endpoint is not a member of Lambda's shape.
Value FunctionConfigurationShape(const v1::FunctionConfiguration& function);
// {"ReservedConcurrentExecutions": N}, or {} when none is reserved.
Value ConcurrencyShape(const v1::FunctionConcurrency& concurrency);

}  // namespace tributary::aws

#endif  // TRIBUTARY_AWS_LAMBDA_MODEL_H_
